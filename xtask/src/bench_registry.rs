//! `cargo xtask bench registry`: pulling a ~200 MB image from a registry on loopback, layerbox
//! against `skopeo copy docker://… oci:DIR` in the same run (figures in BENCHMARKS.md, never
//! asserted).
//!
//! The image: four layers of 50 MiB of pseudo-random bytes each (they do not compress), built
//! by layerbox `FROM scratch` and pushed by it to Debian's docker-registry, serving
//! `127.0.0.1:<free port>` from a temporary directory. Each round pulls it into an empty store
//! (layerbox: download, verify, decompress, check the diff_ids and unpack, in one pass per layer)
//! and copies it into an
//! empty OCI layout (skopeo: download, verify, write the blobs), alternating which goes first;
//! the registry's files stay in the page cache for both.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::setup::{self, cmd};

/// Rounds of the comparison.
const ROUNDS: usize = 5;
/// Layers, and bytes in each.
const LAYERS: usize = 4;
const LAYER_BYTES: usize = 50 << 20;

/// The registry, stopped (and its directory removed) when dropped.
struct Registry {
    child: Child,
    host: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(dir: &Path) -> Result<Registry, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let host = format!("127.0.0.1:{port}");
    let config = dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            dir.join("registry").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("docker-registry: {e} (apt-get install docker-registry)"))?;
    let registry = Registry { child, host };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&registry.host).is_err() {
        if Instant::now() > deadline {
            return Err("docker-registry did not come up".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(registry)
}

/// Bytes that do not compress: xorshift64*.
pub(crate) fn random_file(path: &Path, len: usize, seed: u64) -> Result<(), String> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        bytes.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    bytes.truncate(len);
    std::fs::write(path, bytes).map_err(|e| e.to_string())
}

pub(crate) fn timed(c: &mut Command) -> Result<f64, String> {
    let start = Instant::now();
    let out = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{c:?}: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{c:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(secs)
}

/// A pull, timed: the whole of it, and until its last `Download complete` line (the layers
/// downloaded and verified, and, as they stream, decompressed and unpacked; the rest is the
/// store's commit: renames and the image's record).
fn timed_pull(c: &mut Command) -> Result<(f64, f64), String> {
    use std::io::BufRead as _;
    let start = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{c:?}: {e}"))?;
    let mut downloaded = 0.0;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        if line
            .map_err(|e| e.to_string())?
            .ends_with(": Download complete")
        {
            downloaded = start.elapsed().as_secs_f64();
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{c:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((secs, downloaded))
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        f64::midpoint(s[n / 2 - 1], s[n / 2])
    }
}

pub(crate) fn remove(path: &Path) {
    if path.exists() {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Runs the comparison and prints the table for BENCHMARKS.md.
pub fn bench_registry() -> Result<(), String> {
    for tool in ["/usr/bin/docker-registry", "/usr/bin/skopeo"] {
        if !Path::new(tool).exists() {
            return Err(format!(
                "{tool} is missing: `cargo xtask setup` installs docker-registry and skopeo"
            ));
        }
    }
    in_work_dir("registry", run_rounds)
}

/// The benches' 200 MB image: a build context under `work` of [`LAYERS`] files of
/// [`LAYER_BYTES`] random bytes (from `seed`), each copied by its own `COPY` from scratch.
pub(crate) fn random_image_context(work: &Path, seed: u64) -> Result<PathBuf, String> {
    println!(
        "== making the image: {LAYERS} layers of {} MiB of random bytes",
        LAYER_BYTES >> 20
    );
    let ctx = work.join("context");
    std::fs::create_dir_all(&ctx).map_err(|e| e.to_string())?;
    let mut dockerfile = String::from("FROM scratch\n");
    for i in 0..LAYERS {
        random_file(&ctx.join(format!("blob{i}")), LAYER_BYTES, seed + i as u64)?;
        let _ = writeln!(dockerfile, "COPY blob{i} /blob{i}");
    }
    std::fs::write(ctx.join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
    Ok(ctx)
}

/// Builds the `layerbox` binary at opt-level 3 (the release profile is tuned for the wasm
/// bundle's size, opt-level z: the native CLI is measured as a native build would be made) and
/// runs `rounds` with it in a fresh temporary directory named after `bench`, removed after.
pub(crate) fn in_work_dir(
    bench: &str,
    rounds: impl FnOnce(&Path, &Path) -> Result<(), String>,
) -> Result<(), String> {
    println!("== building layerbox (bench profile, opt-level 3)");
    setup::run(
        cmd("cargo")
            .args([
                "build",
                "--locked",
                "--profile",
                "bench",
                "-p",
                "layerbox",
                "--bin",
                "layerbox",
            ])
            .env("CARGO_PROFILE_BENCH_OPT_LEVEL", "3"),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| setup::root().join("target"), PathBuf::from);
    let layerbox = target.join("release/layerbox");
    let work = std::env::temp_dir().join(format!("layerbox-bench-{bench}-{}", std::process::id()));
    remove(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let result = rounds(&layerbox, &work);
    remove(&work);
    result
}

fn run_rounds(layerbox: &Path, work: &Path) -> Result<(), String> {
    let registry = start_registry(work)?;
    let lb = |root: &Path| {
        let mut c = Command::new(layerbox);
        c.args(["--engine", "linux", "--root"])
            .arg(root)
            .env("LAYERBOX_CONFIG", work.join("config"))
            .env("DOCKER_CONFIG", work.join("docker"));
        c
    };
    let ctx = random_image_context(work, 0x9E37_79B9)?;
    let name = format!("{}/bench/big:1", registry.host);
    let source = work.join("source-store");
    setup::run(lb(&source).args(["build", "-q", "-t", &name]).arg(&ctx))?;
    let push = timed(lb(&source).args(["push", &name]))?;
    println!("pushed in {push:.2} s (gzip of 200 MiB, once)");
    remove(&source);
    remove(&ctx);
    let (store, oci) = (work.join("store"), work.join("oci"));
    let mut ours = Vec::new();
    let mut downloads = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..ROUNDS {
        remove(&store);
        remove(&oci);
        let mut pull = lb(&store);
        pull.args(["pull", &name]);
        let mut copy = Command::new("skopeo");
        copy.args(["copy", "--src-tls-verify=false"])
            .arg(format!("docker://{name}"))
            .arg(format!("oci:{}:big", oci.display()));
        let ((a, d), b) = if round % 2 == 0 {
            let a = timed_pull(&mut pull)?;
            (a, timed(&mut copy)?)
        } else {
            let b = timed(&mut copy)?;
            (timed_pull(&mut pull)?, b)
        };
        println!(
            "round {}: layerbox pull {a:.2} s (downloaded and verified at {d:.2} s), skopeo copy {b:.2} s",
            round + 1
        );
        ours.push(a);
        downloads.push(d);
        theirs.push(b);
    }
    remove(&store);
    remove(&oci);
    let ratios: Vec<f64> = ours.iter().zip(&theirs).map(|(a, b)| a / b).collect();
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
        ("`layerbox pull` into an empty store", &ours),
        (
            "… until its last layer downloaded (unpacked as it came)",
            &downloads,
        ),
        ("`skopeo copy docker://… oci:DIR`", &theirs),
    ] {
        let (min, max) = v
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
        let _ = writeln!(out, "| {what} | {:.2} | {min:.2}–{max:.2} |", median(v));
    }
    let _ = writeln!(
        out,
        "\nlayerbox / skopeo: {:.2} (median of the paired ratios {:.2})",
        median(&ours) / median(&theirs),
        median(&ratios)
    );
    drop(registry);
    Ok(())
}
