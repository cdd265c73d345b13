//! Real docker as the oracle of the simulated engine: the same busybox rootfs imported into
//! both, the same Dockerfiles built by both, the same mistakes made on both, and what each
//! reports compared (`build`: config, history, every layer's changes; `inspect`: the JSON's
//! keys and their order; `errors`: error texts and exit codes).
//!
//! docker here is Debian bookworm's docker.io 20.10 with its built-in BuildKit (v0.8), run by
//! [`harness`]. layerbox follows current BuildKit (shared/spec/dockerfile.md); the few places
//! where BuildKit 0.8 writes history differently are normalised, each one named and explained
//! in [`build`]. Nothing else is masked.

mod build;
mod cp;
mod errors;
mod harness;
mod inspect;
mod sim_volumes;
mod volumes;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::OnceLock;

use layerbox_core::fs::tar::read_layer;
use layerbox_core::fs::{Change, EntryKind, Layer};
use layerbox_core::image::Digest;
use serde_json::Value;

pub use harness::{Docker, InProcess, Sim, docker};

/// The name both engines know the busybox rootfs by.
pub const BASE: &str = "oracle/busybox:1";

/// Records `step` in `diffs` when docker's answer and layerbox's differ.
pub fn note_difference(diffs: &mut Vec<String>, step: &[&str], docker: &str, layerbox: &str) {
    if docker != layerbox {
        diffs.push(format!(
            "$ docker {}\n--- docker\n{docker}\n--- layerbox\n{layerbox}",
            step.join(" ")
        ));
    }
}

/// Fails with every difference a session of `steps` commands found.
pub fn assert_no_differences(diffs: &[String], steps: usize) {
    assert!(
        diffs.is_empty(),
        "{} of {steps} answers differ:\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}

/// Held by the tests that list or prune docker's volumes: they share one daemon, and one
/// test's volumes would show in (or be pruned by) another's session.
pub static VOLUMES: std::sync::Mutex<()> = std::sync::Mutex::new(());

const BUSYBOX: &str = "/bin/busybox";
const MTIME: u64 = 1_700_000_000;

/// A minimal busybox rootfs as a tar: /bin/busybox, its applets as symlinks, /etc/passwd and
/// /etc/group (with an unprivileged `app` user), and the usual empty directories.
pub fn busybox_rootfs() -> &'static [u8] {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let busybox = std::fs::read(BUSYBOX).unwrap_or_else(|e| {
            panic!("{BUSYBOX}: {e}\nhint: apt-get install busybox-static (cargo xtask setup does)")
        });
        let list = std::process::Command::new(BUSYBOX)
            .arg("--list")
            .output()
            .expect("busybox --list");
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |path: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: &str| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(MTIME);
            h.set_size(data.len() as u64);
            if kind == tar::EntryType::Symlink {
                h.set_link_name(link).expect("link name");
            }
            b.append_data(&mut h, path, data).expect("tar member");
        };
        for (dir, mode) in [
            ("bin", 0o755),
            ("etc", 0o755),
            ("home", 0o755),
            ("home/app", 0o755),
            ("root", 0o700),
            ("tmp", 0o1777),
            ("var", 0o755),
        ] {
            add(dir, tar::EntryType::Directory, mode, b"", "");
        }
        add(
            "etc/passwd",
            tar::EntryType::Regular,
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            "",
        );
        add(
            "etc/group",
            tar::EntryType::Regular,
            0o644,
            b"root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n",
            "",
        );
        add("bin/busybox", tar::EntryType::Regular, 0o755, &busybox, "");
        for applet in String::from_utf8_lossy(&list.stdout).split_whitespace() {
            if applet != "busybox" {
                add(
                    &format!("bin/{applet}"),
                    tar::EntryType::Symlink,
                    0o777,
                    b"",
                    "busybox",
                );
            }
        }
        b.into_inner().expect("tar")
    })
}

/// Imports the busybox rootfs into the shared daemon once, as [`BASE`].
pub fn docker_base(docker: &Docker) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let file = docker.scratch("rootfs").join("rootfs.tar");
        std::fs::write(&file, busybox_rootfs()).expect("write rootfs");
        docker.ok(&["import", file.to_str().expect("utf-8 path"), BASE]);
    });
}

/// Imports the busybox rootfs into a simulated engine as [`BASE`], from a file.
pub fn sim_base(sim: &Sim) {
    let file = sim.root().join("rootfs.tar");
    std::fs::write(&file, busybox_rootfs()).expect("write rootfs");
    sim.ok(&["import", file.to_str().expect("utf-8 path"), BASE]);
}

/// An image as both engines can show it: its config JSON and its layers, bottom first.
pub struct ImageDump {
    pub config: Value,
    pub layers: Vec<Layer>,
}

/// `docker save IMAGE`, read: manifest.json, the config, each layer.tar with core's reader.
pub fn docker_image(docker: &Docker, image: &str) -> ImageDump {
    let out = docker
        .command(&["save", image])
        .output()
        .expect("docker save");
    assert!(
        out.status.success(),
        "docker save {image}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    for entry in archive.entries().expect("save tar") {
        let mut entry = entry.expect("save tar member");
        let name = entry.path().expect("name").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read member");
        files.insert(name, data);
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("manifest");
    let config_name = manifest[0]["Config"].as_str().expect("Config");
    let config: Value = serde_json::from_slice(&files[config_name]).expect("config");
    let layers = manifest[0]["Layers"]
        .as_array()
        .expect("Layers")
        .iter()
        .map(|l| {
            let name = l.as_str().expect("layer name");
            read_layer(&files[name]).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
        .collect();
    ImageDump { config, layers }
}

/// The simulated engine's image `image` (a `name:tag`), read from its state files.
pub fn sim_image(sim: &Sim, image: &str) -> ImageDump {
    let state = layerbox::sim::load(sim.root(), true).expect("sim state");
    image_in(&state, image)
}

/// The image `image` (a `name:tag`) of an engine state.
pub fn image_in(state: &layerbox_core::engine::EngineState, image: &str) -> ImageDump {
    let reference = image
        .parse::<layerbox_core::image::Reference>()
        .expect("ref")
        .with_default_tag();
    let found = state
        .images
        .iter()
        .find(|i| i.repo_tags.contains(&reference))
        .unwrap_or_else(|| panic!("no image {image} in the simulated engine"));
    let layers = found
        .config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| {
            state
                .layers
                .get(d)
                .map(|l| (**l).clone())
                .unwrap_or_default()
        })
        .collect();
    ImageDump {
        config: serde_json::to_value(&found.config).expect("config json"),
        layers,
    }
}

/// A layer's changes, one line per path: type, mode, owner, size and content digest (or link
/// target); modification times are left out (they differ by nature).
pub fn layer_lines(layer: &Layer) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (path, change) in layer.iter() {
        if path.is_empty() {
            continue;
        }
        let line = match change {
            Change::Whiteout => "whiteout".to_owned(),
            Change::HardLink(target) => format!("hardlink to {target}"),
            Change::Entry(e) => {
                let m = &e.meta;
                let what = match &e.kind {
                    EntryKind::Dir { opaque: true } => "dir (opaque)".to_owned(),
                    EntryKind::Dir { opaque: false } => "dir".to_owned(),
                    EntryKind::Symlink(t) => format!("symlink -> {t}"),
                    EntryKind::File(data) => {
                        format!("file {} {}", data.len(), short(&data.digest()))
                    }
                };
                format!("{what} {:04o} {}:{}", m.mode, m.uid, m.gid)
            }
        };
        out.insert(path.to_owned(), line);
    }
    out
}

fn short(d: &Digest) -> String {
    d.to_string().chars().skip(7).take(12).collect()
}

/// The lines of `a` and `b` that differ, as `path: a | b`.
pub fn diff_lines(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |v: Option<&String>| v.map_or("(absent)", String::as_str).to_owned();
            format!(
                "{k}: docker {} | layerbox {}",
                show(a.get(k)),
                show(b.get(k))
            )
        })
        .collect()
}

/// Writes the files of a build context below `dir` (`name` → content; a name ending in `/` is
/// a directory; `@755 ` before the content sets the mode), with a fixed modification time.
pub fn write_context(dir: &Path, files: &[(&str, &[u8])]) {
    use std::os::unix::fs::PermissionsExt as _;
    for (name, content) in files {
        let path = dir.join(name.trim_end_matches('/'));
        if name.ends_with('/') {
            std::fs::create_dir_all(&path).expect("mkdir");
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        let (mode, content) = match content.strip_prefix(b"@755 ") {
            Some(rest) => (0o755, rest),
            None => (0o644, *content),
        };
        std::fs::write(&path, content).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}
