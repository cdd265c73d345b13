//! `cargo xtask bench io`: `save` and `load` of the same image, layerbox against docker in the
//! same run (figures in BENCHMARKS.md, never asserted).
//!
//! The image: four layers of 50 MiB of pseudo-random bytes, built by layerbox `FROM scratch`
//! and given to a private dockerd (Debian's docker.io, its data under a temporary directory,
//! no network) with `docker load`. Each round, alternating which goes first: `layerbox save -o`
//! against `docker save -o` of that image, then the same archive (layerbox's) loaded by
//! `layerbox load -i` into an empty store and by `docker load -i` after `docker rmi`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench_registry::{median, random_image_context, remove, timed};
use crate::setup;

const ROUNDS: usize = 5;
const NAME: &str = "bench/io:1";

/// A private dockerd, stopped when dropped.
struct Dockerd {
    child: Child,
    host: String,
    dir: PathBuf,
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = Command::new("umount")
            .arg("-R")
            .arg(self.dir.join("root"))
            .stderr(Stdio::null())
            .status();
    }
}

fn start_dockerd(dir: &Path) -> Result<Dockerd, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let host = format!("unix://{}/docker.sock", dir.display());
    let log = std::fs::File::create(dir.join("dockerd.log")).map_err(|e| e.to_string())?;
    let child = Command::new(setup::DOCKERD)
        .arg("--host")
        .arg(&host)
        .arg("--data-root")
        .arg(dir.join("root"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("dockerd.pid"))
        .args([
            "--storage-driver",
            "overlay2",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--log-level=warn",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("dockerd: {e} (apt-get install docker.io)"))?;
    let d = Dockerd {
        child,
        host,
        dir: dir.to_owned(),
    };
    let deadline = Instant::now() + Duration::from_mins(1);
    while !docker(&d)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        if Instant::now() > deadline {
            return Err("dockerd did not come up".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(d)
}

fn docker(d: &Dockerd) -> Command {
    let mut c = Command::new(setup::DOCKER_CLI);
    c.env("DOCKER_HOST", &d.host)
        .env("DOCKER_CONFIG", d.dir.join("config"));
    c
}

/// Runs the comparison and prints the table for BENCHMARKS.md.
pub fn bench_io() -> Result<(), String> {
    if !Path::new(setup::DOCKERD).exists() {
        return Err("dockerd is missing: `cargo xtask setup` installs docker.io".into());
    }
    crate::bench_registry::in_work_dir("io", run_rounds)
}

fn run_rounds(layerbox: &Path, work: &Path) -> Result<(), String> {
    let lb = |root: &Path| {
        let mut c = Command::new(layerbox);
        c.args(["--engine", "linux", "--root"]).arg(root);
        c
    };
    let ctx = random_image_context(work, 0x51ED)?;
    let source = work.join("source-store");
    setup::run(lb(&source).args(["build", "-q", "-t", NAME]).arg(&ctx))?;
    remove(&ctx);
    println!("== starting a private dockerd");
    let dockerd = start_dockerd(&work.join("docker"))?;
    let first = work.join("first.tar");
    setup::run(lb(&source).args(["save", "-o"]).arg(&first).arg(NAME))?;
    setup::run(docker(&dockerd).args(["load", "-q", "-i"]).arg(&first))?;
    let (ours_tar, theirs_tar, store) = (
        work.join("layerbox.tar"),
        work.join("docker.tar"),
        work.join("store"),
    );
    let mut saves = (Vec::new(), Vec::new());
    let mut loads = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(&ours_tar);
        let _ = std::fs::remove_file(&theirs_tar);
        let mut ours = lb(&source);
        ours.args(["save", "-o"]).arg(&ours_tar).arg(NAME);
        let mut theirs = docker(&dockerd);
        theirs.args(["save", "-o"]).arg(&theirs_tar).arg(NAME);
        let (a, b) = if round % 2 == 0 {
            let a = timed(&mut ours)?;
            (a, timed(&mut theirs)?)
        } else {
            let b = timed(&mut theirs)?;
            (timed(&mut ours)?, b)
        };
        // both load layerbox's archive: the same bytes in
        remove(&store);
        setup::run(
            docker(&dockerd)
                .args(["rmi", "-f", NAME])
                .stdout(Stdio::null()),
        )?;
        let mut ours = lb(&store);
        ours.args(["load", "-i"]).arg(&ours_tar);
        let mut theirs = docker(&dockerd);
        theirs.args(["load", "-i"]).arg(&ours_tar);
        let (c, d) = if round % 2 == 0 {
            let c = timed(&mut ours)?;
            (c, timed(&mut theirs)?)
        } else {
            let d = timed(&mut theirs)?;
            (timed(&mut ours)?, d)
        };
        println!(
            "round {}: save layerbox {a:.2} s docker {b:.2} s; load layerbox {c:.2} s docker {d:.2} s",
            round + 1
        );
        saves.0.push(a);
        saves.1.push(b);
        loads.0.push(c);
        loads.1.push(d);
    }
    remove(&store);
    drop(dockerd);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nload average {}",
        load.split(' ').next().unwrap_or("?")
    );
    let _ = writeln!(
        out,
        "| command | median s | min–max s |\n| --- | ---: | ---: |"
    );
    for (what, v) in [
        ("`layerbox save -o`", &saves.0),
        ("`docker save -o`", &saves.1),
        ("`layerbox load -i` into an empty store", &loads.0),
        ("`docker load -i` after `docker rmi`", &loads.1),
    ] {
        let (min, max) = v
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
        let _ = writeln!(out, "| {what} | {:.2} | {min:.2}–{max:.2} |", median(v));
    }
    let ratio = |a: &[f64], b: &[f64]| {
        let paired: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
        (median(a) / median(b), median(&paired))
    };
    for (what, (r, p)) in [
        ("save", ratio(&saves.0, &saves.1)),
        ("load", ratio(&loads.0, &loads.1)),
    ] {
        let _ = writeln!(
            out,
            "{what}: layerbox / docker {r:.2} (median of the paired ratios {p:.2})"
        );
    }
    Ok(())
}
