//! Differential test of core's simulated shell against real `busybox sh`: every corpus line not
//! tagged `[sim]` runs in the simulator on the corpus's starting tree and in a chroot of the
//! same tree materialised on disk with busybox's applets; the exit code, stdout, whether stderr
//! is empty, and the resulting tree (types, modes, owners, contents; not times) must agree.
//! Needs root for chroot and chown: run as anyone else, it prints a note and checks nothing.

#[path = "../../../core/tests/shell/corpus.rs"]
mod corpus;

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use layerbox_core::fs::{Change, EntryKind, FileType, LayerStack, UnionFs};
use layerbox_core::image::Digest;
use layerbox_core::sim::shell::{Env, Limits, Registry, run_script};

const BUSYBOX: &str = "/bin/busybox";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn applets() -> Vec<String> {
    let out = Command::new(BUSYBOX).arg("--list").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|a| *a != "busybox")
        .map(str::to_owned)
        .collect()
}

/// Writes the corpus tree, busybox and its applet links under `root`.
fn materialise(root: &Path, applets: &[String]) {
    let layer = corpus::base_tree();
    for (path, change) in layer.iter() {
        let Change::Entry(e) = change else { continue };
        let p = root.join(path);
        match &e.kind {
            EntryKind::Dir { .. } => std::fs::create_dir_all(&p).unwrap(),
            EntryKind::File(data) => std::fs::write(&p, data.bytes().unwrap()).unwrap(),
            EntryKind::Symlink(target) => std::os::unix::fs::symlink(target, &p).unwrap(),
        }
        if !matches!(e.kind, EntryKind::Symlink(_)) {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(e.meta.mode)).unwrap();
        }
    }
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("dev")).unwrap();
    // No device nodes without mknod: a plain file stands in; /dev is not compared.
    std::fs::write(root.join("dev/null"), b"").unwrap();
    if std::fs::hard_link(BUSYBOX, root.join("bin/busybox")).is_err() {
        std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
    }
    for a in applets {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
    }
}

/// The simulator's view of the same starting tree.
fn sim_fs(applets: &[String]) -> UnionFs {
    let mut layer = corpus::base_tree();
    let meta = layerbox_core::fs::Meta::new(0o755, 0);
    layer.insert("bin", layerbox_core::fs::Entry::dir(meta));
    layer.insert(
        "bin/busybox",
        layerbox_core::fs::Entry::file(meta, b"\x7fELF".to_vec()),
    );
    for a in applets {
        layer.insert(
            format!("bin/{a}"),
            layerbox_core::fs::Entry::symlink(meta, "busybox"),
        );
    }
    UnionFs::new(LayerStack::from_layers([Arc::new(layer)]).unwrap())
}

/// A file's content as compared: archives differ byte for byte between compressors, so only
/// their kind counts.
fn content(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        "gzip data".to_owned()
    } else if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        "tar data".to_owned()
    } else {
        format!("{} {}", bytes.len(), Digest::sha256_of(bytes))
    }
}

fn skipped(rel: &str) -> bool {
    rel == "/bin" || rel.starts_with("/bin/") || rel == "/dev" || rel.starts_with("/dev/")
}

fn snapshot_dir(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = format!("/{}", p.strip_prefix(root).unwrap().display());
            if skipped(&rel) {
                continue;
            }
            let md = std::fs::symlink_metadata(&p).unwrap();
            let ids = format!("{}:{}", md.uid(), md.gid());
            let mode = md.mode() & 0o7777;
            if md.file_type().is_symlink() {
                out.insert(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&p).unwrap().display()
                ));
            } else if md.is_dir() {
                out.insert(format!("{rel}/ {mode:o} {ids}"));
                stack.push(p);
            } else {
                out.insert(format!(
                    "{rel} {mode:o} {ids} {}",
                    content(&std::fs::read(&p).unwrap())
                ));
            }
        }
    }
    out
}

fn snapshot_sim(fs: &UnionFs) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, st) in fs.walk("/").unwrap().into_iter().skip(1) {
        if skipped(&path) {
            continue;
        }
        let ids = format!("{}:{}", st.uid, st.gid);
        let mode = st.mode & 0o7777;
        match st.file_type {
            FileType::Symlink => {
                out.insert(format!("{path} -> {}", fs.read_link(&path).unwrap()));
            }
            FileType::Dir => {
                out.insert(format!("{path}/ {mode:o} {ids}"));
            }
            FileType::File => {
                let bytes = fs.read(&path).unwrap().bytes().unwrap_or_default().to_vec();
                out.insert(format!("{path} {mode:o} {ids} {}", content(&bytes)));
            }
        }
    }
    out
}

#[test]
fn the_corpus_runs_the_same_in_the_simulator_and_in_busybox() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("note: not root, the differential test against busybox is skipped");
        return;
    }
    assert!(
        Path::new(BUSYBOX).exists(),
        "{BUSYBOX} is missing\nhint: apt-get install busybox-static (cargo xtask test does)"
    );
    let applets = applets();
    let registry = Registry::with_builtins();
    let mut env = Env {
        now: 1_700_000_000,
        ..Env::default()
    };
    env.vars.insert("PATH".into(), PATH.into());
    let mut differences = Vec::new();
    let mut compared = 0;
    for (sim_only, script) in corpus::run_lines() {
        if sim_only {
            continue;
        }
        compared += 1;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        materialise(&root, &applets);
        let real = Command::new("chroot")
            .arg(&root)
            .args(["/bin/sh", "-c", &script])
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", "/root")
            .output()
            .unwrap();
        let mut fs = sim_fs(&applets);
        let sim = run_script(&mut fs, &env, &script, &registry, &Limits::default());
        let real_out = String::from_utf8_lossy(&real.stdout).into_owned();
        let sim_out = String::from_utf8_lossy(&sim.stdout()).into_owned();
        let real_err = String::from_utf8_lossy(&real.stderr).into_owned();
        let sim_err = String::from_utf8_lossy(&sim.stderr()).into_owned();
        let (real_tree, sim_tree) = (snapshot_dir(&root), snapshot_sim(&fs));
        let real_code = real.status.code().unwrap_or(-1);
        if real_code != sim.status
            || real_out != sim_out
            || real_err.is_empty() != sim_err.is_empty()
            || real_tree != sim_tree
        {
            let only_real: Vec<&String> = real_tree.difference(&sim_tree).collect();
            let only_sim: Vec<&String> = sim_tree.difference(&real_tree).collect();
            differences.push(format!(
                "{script}\n  busybox: {real_code} {real_out:?} {real_err:?}\n  sim:     {} {sim_out:?} {sim_err:?}\n  only in busybox's tree: {only_real:?}\n  only in the simulator's: {only_sim:?}",
                sim.status
            ));
        }
    }
    assert!(compared >= 120, "only {compared} lines compared");
    assert!(
        differences.is_empty(),
        "{} of {compared} lines differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
