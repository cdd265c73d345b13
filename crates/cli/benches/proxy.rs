//! What `-p` costs: HTTP requests per second to busybox's httpd in a container, through the
//! userspace proxy (host port → shim → the container's loopback) against straight to the
//! container's loopback (a client thread that entered the container's network namespace), in
//! rounds that alternate the two. Needs root and `/bin/busybox` (busybox-static).
//!
//! `cargo bench -p layerbox --bench proxy -- [ROUNDS]` prints a markdown table for BENCHMARKS.md.
//! Each request is a new connection (`HTTP/1.0`, as `ab` without `-k`): connect, GET, read to
//! the end.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::fd::AsFd;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use common::{loadavg, make_rootfs, median, tar_rootfs};

mod common;

const LAYERBOX: &str = env!("CARGO_BIN_EXE_layerbox");
/// Requests per side and round.
const REQUESTS: u32 = 200;

fn main() -> ExitCode {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    match bench(rounds) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One request on a new connection; the response's length.
fn get(port: u16) -> Result<usize, String> {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    s.read_to_end(&mut response).map_err(|e| e.to_string())?;
    if response.starts_with(b"HTTP/1.") {
        Ok(response.len())
    } else {
        Err(format!(
            "not HTTP: {:?}",
            String::from_utf8_lossy(&response)
        ))
    }
}

/// `REQUESTS` requests one after the other: requests per second.
fn burst(port: u16) -> Result<f64, String> {
    let begun = Instant::now();
    for _ in 0..REQUESTS {
        get(port)?;
    }
    Ok(f64::from(REQUESTS) / begun.elapsed().as_secs_f64())
}

/// [`burst`] from a thread inside the network namespace of process `pid`.
fn burst_inside(pid: &str, port: u16) -> Result<f64, String> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        rustix::thread::move_into_link_name_space(
            ns.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .map_err(|e| format!("setns: {e}"))?;
        burst(port)
    })
    .join()
    .map_err(|_| "the client thread panicked".to_owned())?
}

fn bench(rounds: usize) -> Result<(), String> {
    if !rustix::process::geteuid().is_root() {
        return Err("needs root (namespaces, mounts, cgroups)".to_owned());
    }
    let shm = std::path::Path::new("/dev/shm");
    let tmp = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("layerbox-bench-proxy-")
            .tempdir_in(shm)
    } else {
        tempfile::Builder::new()
            .prefix("layerbox-bench-proxy-")
            .tempdir()
    }
    .map_err(|e| e.to_string())?;
    let rootfs = tmp.path().join("rootfs");
    make_rootfs(&rootfs)?;
    std::fs::create_dir_all(rootfs.join("www")).map_err(|e| e.to_string())?;
    std::fs::write(rootfs.join("www/index.html"), "Hello World").map_err(|e| e.to_string())?;
    let tar = tmp.path().join("rootfs.tar");
    tar_rootfs(&rootfs, &tar)?;
    let root = tmp.path().join("store");
    let layerbox = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(LAYERBOX)
            .args(["--engine", "linux", "--root"])
            .arg(&root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    layerbox(&["import", tar.to_str().unwrap_or_default(), "site"])?;
    layerbox(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        "127.0.0.1::80",
        "site",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/www",
    ])?;
    let result = (|| {
        let published = layerbox(&["port", "web", "80"])?;
        let port: u16 = published
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("no port in {published:?}"))?;
        let pid = layerbox(&["inspect", "-f", "{{.State.Pid}}", "web"])?;
        let pid = pid.trim().to_owned();
        // warm up both ways (and wait for httpd to listen)
        let mut ready = false;
        for _ in 0..200 {
            if get(port).is_ok() {
                ready = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if !ready {
            return Err("httpd never answered through the proxy".to_owned());
        }
        burst_inside(&pid, 80)?;
        burst(port)?;
        let (mut proxied, mut direct, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (p, d) = if round % 2 == 0 {
                let p = burst(port)?;
                (p, burst_inside(&pid, 80)?)
            } else {
                let d = burst_inside(&pid, 80)?;
                (burst(port)?, d)
            };
            proxied.push(p);
            direct.push(d);
            ratios.push(p / d);
        }
        let load = loadavg();
        println!("\n{rounds} rounds of {REQUESTS} requests per side, load average {load}:\n");
        println!("| client | median requests/s | min–max |");
        println!("| --- | ---: | ---: |");
        let row = |name: &str, v: &[f64]| {
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(0.0, f64::max);
            println!("| {name} | {:.0} | {min:.0}–{max:.0} |", median(v.to_vec()));
        };
        row("through `-p` (the shim's proxy)", &proxied);
        row("straight to the container's loopback (setns)", &direct);
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "\n**proxied / direct: {:.2}** (median of the paired rounds; range {min:.2}–{max:.2})",
            median(ratios.clone())
        );
        Ok(())
    })();
    layerbox(&["rm", "-f", "web"])?;
    result
}
