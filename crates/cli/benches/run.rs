//! One container run to exit (`/bin/true` in a busybox rootfs): layerbox's Linux engine against
//! `runc run` of the same rootfs, alternated in one run, as the reference anchors do
//! (`shared/anchors/bench-runtimes.sh`). Needs root, `/bin/busybox` (busybox-static) and runc.
//!
//! `cargo bench -p layerbox --bench run -- [RUNS]` prints a markdown table for BENCHMARKS.md.
//! Both sides are measured as whole processes: layerbox's side re-executes this binary with
//! `--child`, which runs one container through the library and exits with its code (the engine
//! is not wired into the CLI yet). Wall time from spawn to reaped; CPU is user + system of the
//! process and everything it waited for (`wait4`).
#![allow(unsafe_code)] // wait4 for the children's CPU time; see SAFETY below

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use layerbox::linux::{ContainerSpec, Layers, Output, run};

const BUSYBOX: &str = "/bin/busybox";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2..]);
    }
    let runs: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    match bench(runs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench run: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--child LOWER DIR ID`: one container run to exit in fresh container dirs (the image's init
/// layer shared beside them, as in the store), as `runc run` of a bundle. Removing the dirs afterwards
/// is the caller's job, timed apart.
fn child(args: &[String]) -> ExitCode {
    let [lower, dir, id] = args else {
        eprintln!("usage: run --child LOWER DIR ID");
        return ExitCode::from(125);
    };
    let dir = Path::new(dir);
    let layers = Layers {
        // `run --rm`: the layer is thrown away, so unmounting need not sync the upper fs
        volatile: true,
        init: dir.with_file_name("init"),
        ..Layers::in_dir(dir, vec![PathBuf::from(lower)])
    };
    let mut spec = ContainerSpec::new(id, layers, vec!["/bin/true".to_owned()]);
    spec.stdout = Output::Inherit;
    let code = match run(&spec) {
        Ok(exit) => u8::try_from(exit.code).unwrap_or(255),
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    };
    ExitCode::from(code)
}

/// The rootfs of `anchors/make-bundle.sh`: busybox, its applet links, the usual empty dirs.
fn make_rootfs(r: &Path) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "var",
        "run",
    ] {
        std::fs::create_dir_all(r.join(d)).map_err(io)?;
    }
    std::fs::copy(BUSYBOX, r.join("bin/busybox")).map_err(io)?;
    let list = Command::new(BUSYBOX).arg("--list").output().map_err(io)?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", r.join("bin").join(applet)).map_err(io)?;
        }
    }
    std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").map_err(io)?;
    std::fs::write(r.join("etc/group"), "root:x:0:\n").map_err(io)?;
    std::fs::write(r.join("etc/hosts"), "").map_err(io)?;
    std::fs::write(r.join("etc/resolv.conf"), "").map_err(io)
}

/// `runc spec`, then terminal off, `/bin/true`, read-only root (as `make-bundle.sh`).
fn make_bundle(bundle: &Path) -> Result<(), String> {
    let status = Command::new("runc")
        .arg("spec")
        .current_dir(bundle)
        .status()
        .map_err(|e| format!("runc: {e}\nhint: apt-get install runc"))?;
    if !status.success() {
        return Err(format!("runc spec failed ({status})"));
    }
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let mut config: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["/bin/true"]);
    config["root"]["readonly"] = true.into();
    std::fs::write(&path, config.to_string()).map_err(|e| e.to_string())
}

/// Runs a command to its end: wall time and the CPU time of it and its reaped descendants.
fn measure(cmd: &mut Command) -> Result<(Duration, Duration), String> {
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let pid = i32::try_from(child.id()).map_err(|e| e.to_string())?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid for writes; `pid` is our own unreaped child.
    let rc = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = start.elapsed();
    if rc != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{cmd:?} failed (wait status {status})"));
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Ok((wall, tv(usage.ru_utime) + tv(usage.ru_stime)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// The 1-minute load average.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .next()
        .unwrap_or("?")
        .to_owned()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bench(runs: usize) -> Result<(), String> {
    if !rustix::process::geteuid().is_root() {
        return Err("needs root (namespaces, mounts, cgroups)".to_owned());
    }
    let tmp = tempfile::Builder::new()
        .prefix("layerbox-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let bundle = tmp.path().join("bundle");
    let rootfs = bundle.join("rootfs");
    make_rootfs(&rootfs)?;
    make_bundle(&bundle)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let ours = |i: usize| {
        let mut c = Command::new(&exe);
        c.arg("--child")
            .arg(&rootfs)
            .arg(tmp.path().join(format!("c{i}")))
            .arg(format!("lbbench-{}-{i}", std::process::id()));
        c
    };
    // the run, then (timed apart) removing the container's dirs as `run --rm` will
    let ours_timed = |i: usize| -> Result<(Duration, Duration, Duration), String> {
        let (wall, cpu) = measure(&mut ours(i))?;
        let start = Instant::now();
        std::fs::remove_dir_all(tmp.path().join(format!("c{i}"))).map_err(|e| e.to_string())?;
        Ok((wall, cpu, start.elapsed()))
    };
    let runc = |i: usize| {
        let mut c = Command::new("runc");
        c.args(["run", "--bundle"])
            .arg(&bundle)
            .arg(format!("rbench-{}-{i}", std::process::id()));
        c
    };
    let load_before = loadavg();
    // warm-up: page cache, cgroup parents, the dynamic loader
    for i in 0..3 {
        ours_timed(1000 + i)?;
        measure(&mut runc(1000 + i))?;
    }
    let (mut a_wall, mut b_wall, mut a_cpu, mut b_cpu, mut ratios) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut rm_wall, mut rm_ratios) = (vec![], vec![]);
    for i in 0..runs {
        // alternate which goes first, so drifting load hits both alike
        let (a, b) = if i % 2 == 0 {
            let a = ours_timed(i)?;
            (a, measure(&mut runc(i))?)
        } else {
            let b = measure(&mut runc(i))?;
            (ours_timed(i)?, b)
        };
        a_wall.push(ms(a.0));
        b_wall.push(ms(b.0));
        a_cpu.push(ms(a.1));
        b_cpu.push(ms(b.1));
        ratios.push(ms(a.0) / ms(b.0));
        rm_wall.push(ms(a.0 + a.2));
        rm_ratios.push(ms(a.0 + a.2) / ms(b.0));
    }
    let range = |v: &[f64], digits: usize| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        format!("{min:.digits$}–{max:.digits$}")
    };
    let load_after = loadavg();
    println!(
        "{runs} alternated pairs, `/bin/true` in a busybox rootfs; load average {load_before} \
         before, {load_after} after"
    );
    println!();
    println!("| command | median wall ms | min–max ms | median CPU ms |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| layerbox (library `run`, whole process) | {:.1} | {} | {:.1} |",
        median(a_wall.clone()),
        range(&a_wall, 1),
        median(a_cpu.clone())
    );
    println!(
        "| layerbox, plus removing the container's dirs | {:.1} | {} | |",
        median(rm_wall.clone()),
        range(&rm_wall, 1),
    );
    println!(
        "| `runc run --bundle B id` | {:.1} | {} | {:.1} |",
        median(b_wall.clone()),
        range(&b_wall, 1),
        median(b_cpu.clone())
    );
    println!();
    println!(
        "layerbox / runc: wall {:.2} (median of the paired ratios {:.2}, range {}), CPU {:.2}; \
         with the removal: wall {:.2} (paired {:.2})",
        median(a_wall) / median(b_wall.clone()),
        median(ratios.clone()),
        range(&ratios, 2),
        median(a_cpu) / median(b_cpu),
        median(rm_wall) / median(b_wall),
        median(rm_ratios),
    );
    Ok(())
}
