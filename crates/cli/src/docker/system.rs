//! layerbox's own command on the Linux engine: `system check [--repair]`.

use std::io;

use super::{Linux, store_error};
use crate::store::ProblemKind;

/// `system check [--repair]`: what a crash left in the store; exit 1 when something is wrong
/// and was not repaired.
pub(super) fn check(linux: &Linux, args: &[&str]) -> io::Result<u8> {
    let repair = args.contains(&"--repair");
    let report = linux.store.check(repair).map_err(store_error)?;
    if report.is_clean() {
        println!("store {}: clean", linux.store.root().display());
        return Ok(0);
    }
    for p in &report.problems {
        let what = match p.kind {
            ProblemKind::TempEntry => "temporary entry",
            ProblemKind::CorruptBlob => "corrupt blob",
            ProblemKind::BadRecord => "unreadable record",
            ProblemKind::HalfImage => "incomplete image",
            ProblemKind::OrphanContainerDir => "container directory without a record",
            ProblemKind::LeakedMount => "leaked mount",
            ProblemKind::ShimDied => "running container whose shim died",
            ProblemKind::LeakedCgroup => "cgroup of a container that does not run",
        };
        let done = if p.repaired { " (repaired)" } else { "" };
        println!("{what}: {}{done}", p.path.display());
    }
    Ok(u8::from(report.problems.iter().any(|p| !p.repaired)))
}

/// What answers on this engine, where docker says "Docker Engine - Community".
const LINUX_ENGINE: &str = "layerbox Linux engine";

impl Linux {
    /// `version`: docker's layout, the server being this engine.
    pub(super) fn version(format: Option<&str>) -> u8 {
        let info = layerbox_core::cli::version::version_record(
            LINUX_ENGINE,
            &[
                serde_json::json!({"Name": "layerbox", "Version": layerbox_core::VERSION,
                "Details": {"Engine": "linux", "Os": "linux", "Arch": std::env::consts::ARCH}}),
            ],
        );
        report_text(layerbox_core::cli::version::render_version(&info, format))
    }

    /// `info`: docker's layout, with this host's kernel, cgroups and the store's counts.
    pub(super) fn info(&self, format: Option<&str>) -> io::Result<u8> {
        use layerbox_core::engine::ContainerState;
        let loaded = {
            let _lock = self.store.lock_shared().map_err(store_error)?;
            super::state::load(&self.store, false).map_err(store_error)?
        };
        let cs = &loaded.state.containers;
        let count =
            |f: &dyn Fn(ContainerState) -> bool| cs.iter().filter(|c| f(c.state)).count() as u64;
        let uname = rustix::system::uname();
        let text = |s: &std::ffi::CStr| s.to_string_lossy().into_owned();
        let os = std::fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map_or_else(|| "Linux".to_owned(), |v| v.trim_matches('"').to_owned());
        let rootless = crate::linux::layerdir::rootless();
        let v1 = std::path::Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists();
        let server = layerbox_core::cli::info::ServerInfo {
            platform_name: LINUX_ENGINE.into(),
            containers: cs.len() as u64,
            containers_running: count(&|s| s == ContainerState::Running),
            containers_paused: count(&|s| s == ContainerState::Paused),
            containers_stopped: count(&|s| !s.is_up()),
            images: loaded.state.images.len() as u64,
            server_version: layerbox_core::VERSION.into(),
            driver: "overlay".into(),
            logging_driver: "json-file".into(),
            cgroup_driver: if rootless { "none" } else { "cgroupfs" }.into(),
            cgroup_version: if v1 { "1" } else { "2" }.into(),
            default_runtime: "layerbox".into(),
            runtimes: vec!["layerbox".into()],
            os_type: "linux".into(),
            kernel_version: text(uname.release()),
            operating_system: os,
            architecture: text(uname.machine()),
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            mem_total: std::fs::read_to_string("/proc/meminfo")
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            name: text(uname.nodename()),
            docker_root_dir: self.store.root().display().to_string(),
            index_server_address: "https://index.docker.io/v1/".into(),
            swarm: "inactive".into(),
            labels: vec![format!(
                "com.layerbox.engine=linux{}",
                if rootless { ",rootless" } else { "" }
            )],
            ..Default::default()
        };
        let client = layerbox_core::cli::info::ClientInfo {
            context: "default".into(),
            debug: false,
        };
        Ok(report_text(layerbox_core::cli::info::render_info(
            &client,
            Some(&server),
            format,
        )))
    }
}

/// Prints a rendered text, or its error with exit code 1.
fn report_text<E: std::fmt::Display>(rendered: Result<String, E>) -> u8 {
    match rendered {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
