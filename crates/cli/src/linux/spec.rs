//! What to run: the container's layers, process and limits, as docker's `run` flags give them.

use std::path::{Path, PathBuf};

use super::syscall::Resource;

/// The overlay of a container: image layers below, the container's own layer on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layers {
    /// The image's unpacked layers, **bottom first** (the base image's first).
    pub lowers: Vec<PathBuf>,
    /// The container's writable layer: after the run it holds its changes.
    pub upper: PathBuf,
    /// overlayfs' scratch directory, on the same filesystem as `upper`.
    pub work: PathBuf,
    /// Where the merged view is mounted (only inside the container's mount namespace).
    pub merged: PathBuf,
    /// Docker's "init layer": mount points for /dev, /proc, /sys and /etc/{hosts,hostname,
    /// resolv.conf}, stacked above the image so that they never show up in the container's diff.
    /// Its directories copy the image's metadata, so containers of one image can share it.
    pub init: PathBuf,
    /// The container's own /etc/hosts, /etc/hostname and /etc/resolv.conf, bind-mounted in.
    pub etc_files: PathBuf,
    /// Mount the overlay `volatile`: no syncfs of the upper directory's filesystem, above all at
    /// unmount, where it costs tens of milliseconds on a busy disk. Only for layers that are
    /// thrown away (`run --rm`): after a crash the upper dir is unusable.
    pub volatile: bool,
    /// Mounted inside a user namespace (rootless): overlayfs with `userxattr`, the host's
    /// device nodes bound in instead of made, no cgroup.
    pub userns: bool,
}

impl Layers {
    /// The usual layout: `upper`, `work`, `merged`, `init` and `etc` inside one container
    /// directory, over image layers `lowers` (bottom first); not volatile.
    pub fn in_dir(dir: &Path, lowers: Vec<PathBuf>) -> Self {
        Self {
            lowers,
            upper: dir.join("upper"),
            work: dir.join("work"),
            merged: dir.join("merged"),
            init: dir.join("init"),
            etc_files: dir.join("etc"),
            volatile: false,
            userns: super::layerdir::rootless(),
        }
    }
}

/// A resource limit (`--ulimit name=soft:hard`). Clamped to the caller's hard limit when applied,
/// because this machine (like many CI runners) lacks `CAP_SYS_RESOURCE` to raise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimit {
    /// Which limit.
    pub resource: Resource,
    /// The soft limit (`None`: unlimited).
    pub soft: Option<u64>,
    /// The hard limit (`None`: unlimited).
    pub hard: Option<u64>,
}

/// docker's `--ulimit` names (go-units `ulimitNameMapping`).
const ULIMIT_NAMES: &[(&str, Resource)] = &[
    ("core", Resource::Core),
    ("cpu", Resource::Cpu),
    ("data", Resource::Data),
    ("fsize", Resource::Fsize),
    ("locks", Resource::Locks),
    ("memlock", Resource::Memlock),
    ("msgqueue", Resource::Msgqueue),
    ("nice", Resource::Nice),
    ("nofile", Resource::Nofile),
    ("nproc", Resource::Nproc),
    ("rss", Resource::Rss),
    ("rtprio", Resource::Rtprio),
    ("rttime", Resource::Rttime),
    ("sigpending", Resource::Sigpending),
    ("stack", Resource::Stack),
];

impl std::str::FromStr for Ulimit {
    type Err = String;

    /// Parses `--ulimit name=soft[:hard]` with docker's (go-units') messages; `-1` is unlimited.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, values) = s
            .split_once('=')
            .ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
        let resource = ULIMIT_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .ok_or_else(|| format!("invalid ulimit type: {name}"))?;
        let (soft, hard) = values.split_once(':').unwrap_or((values, values));
        let parse = |v: &str| -> Result<Option<u64>, String> {
            match v.parse::<i64>() {
                Ok(-1) => Ok(None),
                Ok(n) => u64::try_from(n)
                    .map(Some)
                    .map_err(|_| format!("invalid ulimit argument: {s}")),
                Err(_) => Err(format!("invalid ulimit argument: {s}")),
            }
        };
        let (soft, hard) = (parse(soft)?, parse(hard)?);
        if let (Some(s), Some(h)) = (soft, hard)
            && s > h
        {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: {s} > {h}"
            ));
        }
        Ok(Self {
            resource,
            soft,
            hard,
        })
    }
}

/// Cgroup limits: `--memory`, `--memory-swap`, `--pids-limit`, `--cpus`, `--cpu-shares`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap in bytes, `-1` unlimited (`None`: unlimited too); only with `memory`.
    pub memory_swap: Option<i64>,
    /// Maximum number of processes.
    pub pids: Option<u64>,
    /// CPU quota in CPUs, e.g. `0.5`.
    pub cpus: Option<f64>,
    /// The relative CPU weight (v1 `cpu.shares`).
    pub cpu_shares: Option<u64>,
}

impl Resources {
    /// The limits a container's configuration asks for (its `HostConfig` resources, already
    /// checked by the core: zero or negative is "not set").
    pub fn from_config(r: &layerbox_core::cli::command::Resources) -> Self {
        let positive = |v: i64| u64::try_from(v).ok().filter(|v| *v > 0);
        #[allow(clippy::cast_precision_loss)]
        let cpus = positive(r.nano_cpus).map(|n| n as f64 / 1e9);
        Self {
            memory: positive(r.memory),
            memory_swap: positive(r.memory).and((r.memory_swap != 0).then_some(r.memory_swap)),
            pids: r.pids_limit.and_then(positive),
            cpus,
            cpu_shares: positive(r.cpu_shares),
        }
    }

    /// The CFS quota for `cpus` over [`CPU_PERIOD_US`](super::cgroup::CPU_PERIOD_US), in µs.
    pub fn cpu_quota(&self) -> Option<u64> {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        self.cpus
            .map(|c| (c * super::cgroup::CPU_PERIOD_US as f64).round() as u64)
    }
}

/// Where a container's stdout or stderr goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    /// The caller's own stream (an attached `docker run`).
    #[default]
    Inherit,
    /// Appended to this file (a log).
    File(PathBuf),
    /// Thrown away.
    Null,
    /// Written to this descriptor (a pipe the shim reads its logs from).
    Fd(SharedFd),
}

/// A descriptor shared by the specs that name it; equal when it is the same descriptor.
#[derive(Debug, Clone)]
pub struct SharedFd(pub std::sync::Arc<std::os::fd::OwnedFd>);

impl PartialEq for SharedFd {
    fn eq(&self, other: &Self) -> bool {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd() == other.0.as_raw_fd()
    }
}

impl Eq for SharedFd {}

/// Where a container's stdin comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input {
    /// Nothing: `/dev/null` (a `docker run` without `-i`).
    #[default]
    Null,
    /// The caller's own stdin (`-i`).
    Inherit,
    /// This file.
    File(PathBuf),
}

/// A volume, a bind mount (`-v`) or a tmpfs (`--mount type=tmpfs`) as the container's mount
/// namespace gets it: mounted on its target after the container's own mounts, before
/// `pivot_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    /// On the host: a volume's `_data` directory, or a bind's file or directory (unused for a
    /// tmpfs).
    pub source: PathBuf,
    /// Where in the container (absolute); symlinks on the way are resolved inside the rootfs.
    pub target: String,
    /// `:ro`: remounted read-only (`MS_RDONLY`).
    pub read_only: bool,
    /// A volume docker fills from the image: when its directory is empty at start, the
    /// image's content at `target` is copied in first (docker's copy; never for a bind, nor
    /// with `:nocopy`).
    pub copy_image_content: bool,
    /// A new tmpfs rather than a bind of `source`: in memory, gone when the container stops.
    pub tmpfs: bool,
}

/// Everything needed to start one container.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // docker's own independent switches
pub struct ContainerSpec {
    /// The container's ID, used to name its cgroup.
    pub id: String,
    /// The overlay.
    pub layers: Layers,
    /// `argv`: the entrypoint and command already joined; `argv[0]` is looked up in `PATH`.
    pub args: Vec<String>,
    /// The environment, `KEY=value`.
    pub env: Vec<String>,
    /// The working directory (created when missing, as docker does).
    pub cwd: String,
    /// `--user` or `USER` as written: a name or ID with an optional `:group`, resolved in the
    /// container's /etc/passwd and /etc/group (empty: root).
    pub user: String,
    /// `--group-add`: supplementary groups besides those /etc/group gives the user.
    pub groups: Vec<u32>,
    /// The hostname (docker: the first 12 hex digits of the ID).
    pub hostname: String,
    /// Cgroup limits.
    pub resources: Resources,
    /// Resource limits.
    pub ulimits: Vec<Ulimit>,
    /// `--security-opt no-new-privileges`.
    pub no_new_privileges: bool,
    /// `--network host`: the container shares the host's network namespace (no `lo` of its
    /// own, no port publishing); otherwise it gets a namespace of its own with only `lo`.
    pub host_network: bool,
    /// `--init`: a tiny init is PID 1 (as docker's tini): it forwards signals to the program,
    /// which runs as PID 2, reaps orphans, and exits with the program's code.
    pub init: bool,
    /// The container's stdin.
    pub stdin: Input,
    /// The container's stdout.
    pub stdout: Output,
    /// The container's stderr.
    pub stderr: Output,
    /// `-t`: a terminal (made inside the container) is its stdin, stdout and stderr and its
    /// controlling terminal; `stdin`, `stdout` and `stderr` are not used then.
    pub terminal: bool,
    /// With `terminal`: the socket the terminal's master side is sent back over.
    pub console: Option<SharedFd>,
    /// Volumes and bind mounts (`-v`).
    pub mounts: Vec<VolumeMount>,
}

/// docker's default `PATH` when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl ContainerSpec {
    /// A spec with docker's defaults: root, `/`, the default `PATH`, hostname from the ID.
    pub fn new(id: &str, layers: Layers, args: Vec<String>) -> Self {
        Self {
            id: id.to_owned(),
            layers,
            args,
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: "/".to_owned(),
            user: String::new(),
            groups: Vec::new(),
            hostname: id.chars().take(12).collect(),
            resources: Resources::default(),
            ulimits: Vec::new(),
            no_new_privileges: false,
            host_network: false,
            init: false,
            stdin: Input::Null,
            stdout: Output::Inherit,
            stderr: Output::Inherit,
            terminal: false,
            console: None,
            mounts: Vec::new(),
        }
    }

    /// The `PATH` the process will see (docker looks `argv[0]` up in the container's own).
    pub fn path_var(&self) -> &str {
        self.env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_parse_as_docker_writes_them() {
        assert_eq!(
            "nofile=1024:2048".parse::<Ulimit>().unwrap(),
            Ulimit {
                resource: Resource::Nofile,
                soft: Some(1024),
                hard: Some(2048)
            }
        );
        assert_eq!(
            "nproc=64".parse::<Ulimit>().unwrap(),
            Ulimit {
                resource: Resource::Nproc,
                soft: Some(64),
                hard: Some(64)
            }
        );
        assert_eq!(
            "core=-1".parse::<Ulimit>().unwrap(),
            Ulimit {
                resource: Resource::Core,
                soft: None,
                hard: None
            }
        );
        assert_eq!(
            "bogus=1".parse::<Ulimit>().unwrap_err(),
            "invalid ulimit type: bogus"
        );
        assert_eq!(
            "nofile".parse::<Ulimit>().unwrap_err(),
            "invalid ulimit argument: nofile"
        );
        assert_eq!(
            "nofile=x".parse::<Ulimit>().unwrap_err(),
            "invalid ulimit argument: nofile=x"
        );
        assert_eq!(
            "nofile=20:10".parse::<Ulimit>().unwrap_err(),
            "ulimit soft limit must be less than or equal to hard limit: 20 > 10"
        );
    }

    #[test]
    fn path_comes_from_the_environment_or_docker_default() {
        let layers = Layers::in_dir(Path::new("/c"), vec![]);
        assert_eq!(layers.work, Path::new("/c/work"));
        assert_eq!(layers.etc_files, Path::new("/c/etc"));
        let mut spec = ContainerSpec::new("abcdef0123456789", layers, vec!["sh".into()]);
        assert_eq!(spec.path_var(), DEFAULT_PATH);
        assert_eq!(spec.hostname, "abcdef012345");
        spec.env = vec!["PATH=/a".into(), "X=1".into(), "PATH=/b".into()];
        assert_eq!(spec.path_var(), "/b");
        spec.env.clear();
        assert_eq!(spec.path_var(), DEFAULT_PATH);
    }
}
