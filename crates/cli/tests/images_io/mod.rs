//! Images in and out: `save`, `load` and `export` through the binary, round trips into empty
//! stores, real docker and skopeo as the other side, and bad archives refused with nothing left
//! in the store.
//!
//! The Linux engine needs root and the docker side needs docker.io (see
//! [`super::docker_oracle::harness`]); without them the tests print why and pass, except under
//! CI (`CI` set), where that is a failure.

mod bad;
mod interop;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::docker_oracle::{BASE, busybox_rootfs};

/// The Dockerfile of the image every test moves around: a RUN layer and a COPY layer over the
/// busybox base.
pub const DOCKERFILE: &str = "FROM oracle/busybox:1\nRUN echo built by a RUN > /built.txt\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/built.txt\", \"/hello.txt\"]\n";
/// What a container of that image prints.
pub const PRINTS: &str = "built by a RUN\nhello from the context\n";

/// Whether the Linux engine can run here (root); outside CI a skip is printed, under CI it is
/// a failure.
pub fn linux_engine() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        "images_io: the Linux engine's tests must run in CI, which runs as root"
    );
    let _ = writeln!(
        std::io::stderr(),
        "images_io: SKIPPING, the Linux engine's tests need root"
    );
    false
}

/// A Linux engine store in a temporary directory.
pub struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    /// An empty store.
    pub fn empty() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("layerbox-images-io-")
                .tempdir()
                .unwrap(),
        }
    }

    /// A store with the busybox base imported and the test image built as `app:1`.
    pub fn with_app() -> Self {
        let s = Self::empty();
        let rootfs = s.file("rootfs.tar");
        std::fs::write(&rootfs, busybox_rootfs()).unwrap();
        s.ok(&["import", rootfs.to_str().unwrap(), BASE]);
        let ctx = s.file("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(ctx.join("Dockerfile"), DOCKERFILE).unwrap();
        std::fs::write(ctx.join("hello.txt"), "hello from the context\n").unwrap();
        s.ok(&["build", "-q", "-t", "app:1", ctx.to_str().unwrap()]);
        s
    }

    /// A path in the test's directory (beside the store).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// `layerbox --engine linux --root … ARGS`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_layerbox"));
        c.args(["--engine", "linux", "--root"])
            .arg(self.root())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs a command to completion.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "layerbox {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A command that must fail: its stderr and exit code.
    pub fn fails(&self, args: &[&str]) -> (String, i32) {
        let out = self.cli(args);
        assert!(!out.status.success(), "layerbox {args:?} succeeded");
        (
            String::from_utf8(out.stderr).unwrap(),
            out.status.code().unwrap_or(-1),
        )
    }

    /// The image's ID as `images` shows it in full.
    pub fn image_id(&self, name: &str) -> String {
        self.ok(&["inspect", "-f", "{{.Id}}", name])
            .trim()
            .to_owned()
    }

    /// `system check` finds nothing and no temp entry is left.
    pub fn assert_clean(&self) {
        assert_eq!(
            self.ok(&["system", "check"]),
            format!("store {}: clean\n", self.root().display())
        );
        let tmp = self.root().join("tmp");
        let left: Vec<_> = std::fs::read_dir(&tmp)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left in tmp/: {left:?}");
    }

    /// Nothing of an image is in the store: no record, no layer, no blob.
    pub fn assert_empty(&self) {
        for dir in ["images", "layers", "blobs/sha256"] {
            let path = self.root().join(dir);
            let n = std::fs::read_dir(&path).map_or(0, Iterator::count);
            assert_eq!(n, 0, "{dir} is not empty");
        }
        self.assert_clean();
    }
}

/// Runs `program args` that must succeed; its stdout.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn members(tar: &Path) -> Vec<String> {
    run_ok("tar", &["-tf", tar.to_str().unwrap()])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn save_then_load_into_an_empty_store_runs_the_same_in_both_formats() {
    if !linux_engine() {
        return;
    }
    let from = Store::with_app();
    assert_eq!(from.ok(&["run", "--rm", "app:1"]), PRINTS);
    let id = from.image_id("app:1");
    for (format, members_expected) in [
        (
            "docker-archive",
            ["manifest.json", "repositories"].as_slice(),
        ),
        (
            "oci-archive",
            ["oci-layout", "index.json", "manifest.json"].as_slice(),
        ),
    ] {
        let tar = from.file(&format!("{format}.tar"));
        assert_eq!(
            from.ok(&[
                "save",
                "--format",
                format,
                "-o",
                tar.to_str().unwrap(),
                "app:1"
            ]),
            ""
        );
        let names = members(&tar);
        for m in members_expected {
            assert!(
                names.iter().any(|n| n == m),
                "{format}: no {m} in {names:?}"
            );
        }
        let to = Store::empty();
        assert_eq!(
            to.ok(&["load", "-i", tar.to_str().unwrap()]),
            "Loaded image: app:1\n"
        );
        assert_eq!(to.image_id("app:1"), id, "{format}");
        assert_eq!(to.ok(&["run", "--rm", "app:1"]), PRINTS, "{format}");
        to.assert_clean();
        // loading again is harmless: the same image, the same tag
        assert_eq!(
            to.ok(&["load", "-q", "-i", tar.to_str().unwrap()]),
            "Loaded image: app:1\n"
        );
        to.assert_clean();
    }
    // stdout to stdin, by ID: an image without names
    let saved = from
        .command(&["save", &id])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(saved.status.success());
    let to = Store::empty();
    let mut load = to
        .command(&["load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    load.stdin.take().unwrap().write_all(&saved.stdout).unwrap();
    let out = load.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("Loaded image ID: {id}\n")
    );
    assert_eq!(to.ok(&["run", "--rm", &id]), PRINTS);
    // a tag moving to the loaded image: docker's notice
    let taken = Store::empty();
    let rootfs = taken.file("rootfs.tar");
    std::fs::write(&rootfs, busybox_rootfs()).unwrap();
    let old = taken.ok(&["import", rootfs.to_str().unwrap(), "app:1"]);
    let tar = from.file("docker-archive.tar");
    assert_eq!(
        taken.ok(&["load", "-i", tar.to_str().unwrap()]),
        format!(
            "The image app:1 already exists, renaming the old one with ID {} to empty string\nLoaded image: app:1\n",
            old.trim()
        )
    );
    assert_eq!(taken.image_id("app:1"), id);
}

#[test]
fn export_writes_the_containers_merged_filesystem() {
    if !linux_engine() {
        return;
    }
    let s = Store::with_app();
    s.ok(&[
        "run",
        "--name",
        "c1",
        "app:1",
        "sh",
        "-c",
        "echo written > /new.txt; rm /built.txt",
    ]);
    let tar = s.file("c1.tar");
    assert_eq!(s.ok(&["export", "-o", tar.to_str().unwrap(), "c1"]), "");
    let names = members(&tar);
    for want in ["bin/busybox", "hello.txt", "new.txt", "etc/passwd"] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("built.txt")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains(".wh.")), "{names:?}");
    let hello = run_ok("tar", &["-xOf", tar.to_str().unwrap(), "hello.txt"]);
    assert_eq!(hello, "hello from the context\n");
    let (err, code) = s.fails(&["export", "nosuch"]);
    assert_eq!(
        (err.as_str(), code),
        ("Error response from daemon: No such container: nosuch\n", 1)
    );
    let (err, code) = s.fails(&["export", "-o", "/nonexistent-dir/x.tar", "c1"]);
    assert_eq!(
        (err.as_str(), code),
        (
            "failed to export container: invalid output path: directory \"/nonexistent-dir\" does not exist\n",
            1
        )
    );
}

#[test]
fn save_names_images_as_docker_does() {
    if !linux_engine() {
        return;
    }
    let s = Store::with_app();
    s.ok(&["tag", "app:1", "app:2"]);
    s.ok(&["tag", "app:1", "other:1"]);
    let tar = s.file("all.tar");
    // a bare name saves every tag of that repository
    s.ok(&["save", "-o", tar.to_str().unwrap(), "app"]);
    let manifest = run_ok("tar", &["-xOf", tar.to_str().unwrap(), "manifest.json"]);
    assert!(
        manifest.contains(r#""RepoTags":["app:1","app:2"]"#),
        "{manifest}"
    );
    let (err, code) = s.fails(&["save", "-o", tar.to_str().unwrap(), "app:3"]);
    assert_eq!(
        (err.as_str(), code),
        ("Error response from daemon: reference does not exist\n", 1)
    );
    let (err, code) = s.fails(&["save", "--format", "zip", "app:1"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("docker-archive, oci-archive or oci-dir"),
        "{err}"
    );
}
