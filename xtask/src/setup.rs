//! Installing the toolchain, exactly as `shared/recipes/web-toolchain.md` proves it offline.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The pinned versions. `WASM_BINDGEN` must equal the `=` pin in the root Cargo.toml.
pub const TRUNK: &str = "0.21.14";
pub const WASM_BINDGEN: &str = "0.2.129";

/// Where Debian's busybox-static puts its binary.
pub const BUSYBOX: &str = "/bin/busybox";
/// Where Debian's docker.io puts the daemon and its 20.10 CLI (the CLI that can still use the
/// daemon's built-in BuildKit without the buildx plugin).
pub const DOCKERD: &str = "/usr/sbin/dockerd";
/// The docker.io CLI.
pub const DOCKER_CLI: &str = "/usr/bin/docker";

/// How much of the toolchain a task needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// wasm32 target, trunk, wasm-bindgen: enough to build and serve the playground.
    Build,
    /// Also chromium, chromedriver and the npm packages of the end-to-end tests.
    Everything,
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent")
        .to_path_buf()
}

/// PATH for every child, with cargo's bin directory first so freshly installed tools are found.
fn child_path() -> std::ffi::OsString {
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    let bin = cargo_home.join("bin");
    let old = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&old).collect();
    if !dirs.contains(&bin) {
        dirs.insert(0, bin);
    }
    std::env::join_paths(dirs).unwrap_or(old)
}

/// A command with the tasks' environment: PATH with cargo's bin, quiet trunk, chromedriver.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", child_path())
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "30")
        .current_dir(root());
    c
}

/// Runs a command to completion, inheriting stdio; an error if it fails.
pub fn run(c: &mut Command) -> Result<(), String> {
    let status = c.status().map_err(|e| format!("cannot run {c:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{c:?} failed ({status})"))
    }
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &str) -> Option<String> {
    let out = cmd(program)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status
        .success()
        .then(|| text.lines().next().unwrap_or_default().trim().to_owned())
}

fn have(program: &str) -> bool {
    cmd("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs whatever `need` asks for that is missing.
pub fn all(need: Need) -> Result<(), String> {
    let targets = cmd("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let has_wasm = targets
        .as_ref()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    if !has_wasm {
        run(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if version_of("trunk").as_deref() != Some(&format!("trunk {TRUNK}")) {
        eprintln!("xtask: installing trunk {TRUNK} from crates.io (about 8 minutes, once)");
        run(cmd("cargo").args(["install", "trunk", "--version", TRUNK, "--locked"]))?;
    }
    if version_of("wasm-bindgen").as_deref() != Some(&format!("wasm-bindgen {WASM_BINDGEN}")) {
        eprintln!(
            "xtask: installing wasm-bindgen-cli {WASM_BINDGEN} from crates.io (about 3 minutes, once)"
        );
        run(cmd("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN,
            "--locked",
        ]))?;
    }
    if need == Need::Everything {
        // chromium + chromedriver: browser tests; busybox-static: the rootfs of the Linux
        // engine's tests (a static busybox needs no libraries inside the container); docker.io:
        // Debian's dockerd and its 20.10 CLI, the oracle of the differential tests
        // (crates/cli/tests/docker_oracle), started privately by the tests themselves.
        let mut packages = Vec::new();
        if !(have("chromium") && have("chromedriver")) {
            packages.extend(["chromium", "chromium-driver"]);
        }
        if !Path::new(BUSYBOX).exists() {
            packages.push("busybox-static");
        }
        if !(Path::new(DOCKERD).exists() && Path::new(DOCKER_CLI).exists()) {
            packages.push("docker.io");
        }
        // docker-registry: the CNCF distribution registry the registry tests start on loopback
        // (crates/cli/tests/registry); skopeo: the second registry client of those tests and of
        // `cargo xtask bench registry`, and the other side of the OCI layout tests
        // (crates/cli/tests/images_io).
        if !Path::new("/usr/bin/docker-registry").exists() {
            packages.push("docker-registry");
        }
        if !Path::new("/usr/bin/skopeo").exists() {
            packages.push("skopeo");
        }
        // uidmap: newuidmap/newgidmap, for the rootless test of subordinate ID ranges
        // (crates/cli/tests/linux_engine/subuid.rs).
        if !Path::new("/usr/bin/newuidmap").exists() {
            packages.push("uidmap");
        }
        if !packages.is_empty() {
            eprintln!("xtask: installing {} from Debian", packages.join(", "));
            let sudo = if is_root() { vec![] } else { vec!["sudo"] };
            let apt = |args: &[&str]| {
                let all: Vec<&str> = sudo
                    .iter()
                    .copied()
                    .chain(["apt-get"])
                    .chain(args.iter().copied())
                    .collect();
                run(cmd(all[0])
                    .args(&all[1..])
                    .env("DEBIAN_FRONTEND", "noninteractive"))
            };
            apt(&["update", "-q"])?;
            // docker.io's postinst cannot start the service without systemd; that is expected.
            apt(&[&["install", "-y", "-q"][..], &packages].concat())?;
        }
        if !root().join("e2e/node_modules/playwright-core").exists() {
            run(cmd("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(root().join("e2e")))?;
        }
    }
    Ok(())
}

fn is_root() -> bool {
    cmd("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
