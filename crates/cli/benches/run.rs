//! `layerbox run --rm busybox true` as a whole process, against `runc run` of the same rootfs
//! and (when the anchors' private dockerd is up) `docker run --rm` of the same rootfs imported
//! into docker: alternated in one run, as the reference anchors do
//! (`shared/anchors/bench-runtimes.sh`, `docker-bench.sh`). Needs root, `/bin/busybox`
//! (busybox-static) and runc; docker's side needs `shared/anchors/dockerd-start.sh` first.
//!
//! `cargo bench -p layerbox --bench run -- [RUNS]` prints a markdown table for BENCHMARKS.md.
//! Wall time from spawn to reaped; CPU is user + system of the process and everything it waited
//! for (`wait4`; for docker that is the CLI only, the daemon's work is not counted).
#![allow(unsafe_code)] // wait4 for the children's CPU time; see SAFETY below

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use common::{loadavg, make_rootfs, median, tar_rootfs};

mod common;

const LAYERBOX: &str = env!("CARGO_BIN_EXE_layerbox");
/// The private dockerd of `shared/anchors/dockerd-start.sh`.
const DOCKER_HOST: &str = "unix:///tmp/anchors/docker/docker.sock";
/// The Debian docker.io CLI, the daemon's own version (as `anchors/docker-bench.sh`).
const DOCKER: &str = "/usr/bin/docker";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Whether the anchors' dockerd answers, with the rootfs imported as `anchors/busybox`.
fn docker_ready(rootfs: &Path) -> bool {
    let docker = |args: &[&str]| {
        Command::new(DOCKER)
            .args(args)
            .env("DOCKER_HOST", DOCKER_HOST)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !docker(&["version"]) {
        return false;
    }
    if docker(&["image", "inspect", "anchors/busybox:latest"]) {
        return true;
    }
    let tar = rootfs.with_file_name("rootfs.tar");
    Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .is_ok_and(|s| s.success())
        && docker(&[
            "import",
            tar.to_str().unwrap_or_default(),
            "anchors/busybox:latest",
        ])
}

/// One side of the comparison: its name, the command, and what was measured.
struct Side {
    name: String,
    make: Box<dyn Fn(usize) -> Command>,
    wall: Vec<f64>,
    cpu: Vec<f64>,
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
    // the same rootfs imported into a fresh layerbox store
    let root = tmp.path().join("store");
    let tar = tmp.path().join("rootfs.tar");
    tar_rootfs(&rootfs, &tar)?;
    let layerbox = {
        let root = root.clone();
        move |args: &[&str]| {
            let mut c = Command::new(LAYERBOX);
            c.args(["--engine", "linux", "--root"])
                .arg(&root)
                .args(args);
            c
        }
    };
    measure(
        layerbox(&["import", tar.to_str().unwrap_or_default(), "busybox"]).stdout(Stdio::null()),
    )?;
    let mut sides = vec![
        Side {
            name: "`layerbox run --rm busybox true`".into(),
            make: Box::new(move |_| layerbox(&["run", "--rm", "busybox", "true"])),
            wall: vec![],
            cpu: vec![],
        },
        Side {
            name: "`runc run --bundle B id`".into(),
            make: Box::new({
                let bundle = bundle.clone();
                move |i| {
                    let mut c = Command::new("runc");
                    c.args(["run", "--bundle"])
                        .arg(&bundle)
                        .arg(format!("rbench-{}-{i}", std::process::id()));
                    c
                }
            }),
            wall: vec![],
            cpu: vec![],
        },
    ];
    if docker_ready(&rootfs) {
        sides.push(Side {
            name: "`docker run --rm IMG true` (dockerd 20.10; CPU: the CLI only)".into(),
            make: Box::new(|_| {
                let mut c = Command::new(DOCKER);
                c.args(["run", "--pull=never", "--rm", "anchors/busybox", "true"])
                    .env("DOCKER_HOST", DOCKER_HOST);
                c
            }),
            wall: vec![],
            cpu: vec![],
        });
    } else {
        eprintln!(
            "note: no dockerd at {DOCKER_HOST} (shared/anchors/dockerd-start.sh): docker is left out"
        );
    }
    compare("`true` in a busybox rootfs", &mut sides, runs)?;
    let docker = sides.len() > 2;
    listings_and_builds(&root, &tmp.path().join("ctx"), docker, runs)
}

/// A command whose output is not wanted.
fn quiet(mut c: Command) -> Command {
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

/// `images`, `ps -a` (three containers made) and the tiny Dockerfile of
/// `shared/reference/runtimes.md` §2b, cached and not, against docker's CLI and legacy builder.
fn listings_and_builds(root: &Path, ctx: &Path, docker: bool, runs: usize) -> Result<(), String> {
    let layerbox = {
        let root = root.to_owned();
        move |args: &[&str]| {
            let mut c = Command::new(LAYERBOX);
            c.args(["--engine", "linux", "--root"])
                .arg(&root)
                .args(args);
            quiet(c)
        }
    };
    let docker_cmd = |args: &[&str]| {
        let mut c = Command::new(DOCKER);
        c.args(args)
            .env("DOCKER_HOST", DOCKER_HOST)
            .env("DOCKER_BUILDKIT", "0");
        quiet(c)
    };
    for _ in 0..3 {
        measure(&mut layerbox(&["create", "busybox", "true"]))?;
        if docker {
            measure(&mut docker_cmd(&[
                "create",
                "--pull=never",
                "anchors/busybox",
                "true",
            ]))?;
        }
    }
    let io = |e: std::io::Error| e.to_string();
    for (dir, base) in [
        ("layerbox", "busybox"),
        ("docker", "anchors/busybox:latest"),
    ] {
        let d = ctx.join(dir);
        std::fs::create_dir_all(&d).map_err(io)?;
        std::fs::write(d.join("hello.txt"), "hello from the build context\n").map_err(io)?;
        std::fs::write(
            d.join("Dockerfile"),
            format!("FROM {base}\nRUN echo hi > /a\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/a\", \"/hello.txt\"]\n"),
        )
        .map_err(io)?;
    }
    let ours = ctx.join("layerbox").to_string_lossy().into_owned();
    let theirs = ctx.join("docker").to_string_lossy().into_owned();
    let side = |name: String, make: Box<dyn Fn(usize) -> Command>| Side {
        name,
        make,
        wall: vec![],
        cpu: vec![],
    };
    let groups: [(&str, &str, &[&str]); 4] = [
        ("`images`", "images", &["images"]),
        ("`ps -a` (3 containers each)", "ps -a", &["ps", "-a"]),
        (
            "the tiny Dockerfile, cached",
            "build",
            &["build", "-t", "tiny"],
        ),
        (
            "the tiny Dockerfile, --no-cache",
            "build --no-cache",
            &["build", "--no-cache", "-t", "tiny"],
        ),
    ];
    for (title, what, args) in groups {
        let is_build = args[0] == "build";
        let with = |ctx: &str| -> Vec<String> {
            let mut a: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
            if is_build {
                a.push(ctx.to_owned());
            }
            a
        };
        let (ours_args, theirs_args) = (with(&ours), with(&theirs));
        let l = layerbox.clone();
        let mut sides = vec![side(
            format!("`layerbox {what}`"),
            Box::new(move |_| {
                let a: Vec<&str> = ours_args.iter().map(String::as_str).collect();
                l(&a)
            }),
        )];
        if docker {
            let builder = if is_build {
                " (legacy builder)"
            } else {
                " (20.10 CLI)"
            };
            sides.push(side(
                format!("`docker {what}`{builder}"),
                Box::new(move |_| {
                    let a: Vec<&str> = theirs_args.iter().map(String::as_str).collect();
                    docker_cmd(&a)
                }),
            ));
        }
        let runs = if is_build { runs.div_ceil(2) } else { runs };
        compare(title, &mut sides, runs)?;
    }
    Ok(())
}

/// Runs the sides round-robin (`runs` rounds after three warm-up ones), then prints their
/// table and each one's ratio to the first.
fn compare(title: &str, sides: &mut [Side], runs: usize) -> Result<(), String> {
    let load_before = loadavg();
    // warm-up: page cache, cgroup parents, the dynamic loader
    for i in 0..3 {
        for side in sides.iter() {
            measure(&mut (side.make)(1000 + i))?;
        }
    }
    let n = sides.len();
    for i in 0..runs {
        // rotate which goes first, so drifting load hits all alike
        for k in 0..n {
            let side = &mut sides[(i + k) % n];
            let (wall, cpu) = measure(&mut (side.make)(i))?;
            side.wall.push(ms(wall));
            side.cpu.push(ms(cpu));
        }
    }
    let range = |v: &[f64], digits: usize| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        format!("{min:.digits$}–{max:.digits$}")
    };
    let load_after = loadavg();
    println!(
        "\n{title}: {runs} rounds, sides rotated; load average {load_before} before, \
         {load_after} after"
    );
    println!();
    println!("| command | median wall ms | min–max ms | median CPU ms |");
    println!("| --- | ---: | ---: | ---: |");
    for side in sides.iter() {
        println!(
            "| {} | {:.1} | {} | {:.1} |",
            side.name,
            median(side.wall.clone()),
            range(&side.wall, 1),
            median(side.cpu.clone())
        );
    }
    let ours = &sides[0];
    for other in &sides[1..] {
        let paired: Vec<f64> = ours
            .wall
            .iter()
            .zip(&other.wall)
            .map(|(a, b)| a / b)
            .collect();
        println!();
        println!(
            "layerbox / {}: wall {:.2} (median of the paired ratios {:.2}, range {}), CPU {:.2}",
            other.name,
            median(ours.wall.clone()) / median(other.wall.clone()),
            median(paired.clone()),
            range(&paired, 2),
            median(ours.cpu.clone()) / median(other.cpu.clone()),
        );
    }
    Ok(())
}
