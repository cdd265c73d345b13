//! Differential test against the kernel's overlayfs (needs root; skips with a note otherwise).
//!
//! Random sequences of file operations go to the simulated `UnionFs` and to a real overlay
//! mount whose lower layers are the upper directories of the previous rounds. After each
//! layer, the merged trees must match (names, types, modes, owners, sizes, contents, link
//! targets), every operation must have failed or succeeded alike (with the same errno), and
//! the kernel's upper directory, converted to OCI form (0/0 character devices are whiteouts,
//! `trusted.overlay.opaque=y` marks opaque directories), must equal the simulated layer.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use layerbox_core::fs::{FileData, FsError, Layer, LayerStack, UnionFs};

use super::tree::{DiskView, Node, describe_diff, disk_tree, layer_tree};

/// Seeds that once found a difference (errno order of `link` and `rename`, chown clearing
/// setuid, rename of two names of one file, the opaque mark a failed rename leaves, how `mv`
/// moves a directory across `EXDEV`); they always run.
const REGRESSION_SEEDS: &[u64] = &[1, 6, 7, 9, 10, 11, 13, 15, 38, 115, 130];
/// Fresh seeds per run, on top of the regression seeds (`LAYERBOX_OVERLAY_SEEDS` to change;
/// `LAYERBOX_OVERLAY_SEED` picks the first).
const RANDOM_SEEDS: u64 = 40;
const LAYERS: usize = 3;
const OPS_PER_LAYER: usize = 30;
const NAMES: &[&str] = &["a", "b", "c", "d"];

pub(crate) fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// SplitMix64: a tiny deterministic generator, so a seed names a whole case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug, Clone)]
enum Op {
    Write(String, Vec<u8>),
    Append(String, Vec<u8>),
    Truncate(String, u64),
    Mkdir(String),
    MkdirAll(String),
    Remove(String),
    RemoveAll(String),
    Rename(String, String),
    Symlink(String, String),
    Hardlink(String, String),
    Chmod(String, u32),
    Chown(String, u32, u32),
    Lchown(String, u32, u32),
}

/// Picks an existing path (70%) or a new name under an existing directory.
fn pick_path(rng: &mut Rng, sim: &UnionFs) -> String {
    let all = sim.walk("/").unwrap();
    if rng.below(10) < 7 && all.len() > 1 {
        let (p, _) = &all[1 + rng.below(all.len() - 1)];
        return p.trim_start_matches('/').to_owned();
    }
    let dirs: Vec<&str> = all
        .iter()
        .filter(|(_, s)| s.file_type == layerbox_core::fs::FileType::Dir)
        .map(|(p, _)| p.trim_start_matches('/'))
        .collect();
    let dir = rng.pick(&dirs);
    let name = rng.pick(NAMES);
    if dir.is_empty() {
        (*name).to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// A relative symlink target without `..`: on the host, a link that climbs could leave the
/// mount once a rename moves it higher, where the simulation (rightly) stays at the root.
/// Climbing and absolute links are covered by the unit tests.
fn pick_target(rng: &mut Rng) -> String {
    let mut t = (*rng.pick(NAMES)).to_owned();
    if rng.below(3) == 0 {
        t.push('/');
        t.push_str(rng.pick::<&str>(NAMES));
    }
    t
}

fn gen_op(rng: &mut Rng, sim: &UnionFs, n: usize) -> Vec<Op> {
    let p = pick_path(rng, sim);
    let data = format!("{n}:{}\n", rng.next() % 1000).into_bytes();
    match rng.below(16) {
        0 | 1 => vec![Op::Write(p, data)],
        2 => vec![Op::Append(p, data)],
        3 => vec![Op::Truncate(p, rng.next() % 6)],
        4 => vec![Op::Mkdir(p)],
        5 => vec![Op::MkdirAll(format!("{p}/{}", rng.pick(NAMES)))],
        6 => vec![Op::Remove(p)],
        7 => vec![Op::RemoveAll(p)],
        8 | 9 => vec![Op::Rename(p, pick_path(rng, sim))],
        10 => {
            vec![Op::Symlink(pick_target(rng), p)]
        }
        11 => vec![Op::Hardlink(p, pick_path(rng, sim))],
        12 => vec![Op::Chmod(
            p,
            *rng.pick(&[0o644, 0o600, 0o755, 0o4755, 0o1777, 0o000]),
        )],
        13 => vec![Op::Chown(
            p,
            *rng.pick(&[0, 1000, 1001]),
            *rng.pick(&[0, 100]),
        )],
        14 => vec![Op::Lchown(p, *rng.pick(&[0, 1000]), *rng.pick(&[0, 100]))],
        // Replace whatever is there by a file, then by a directory again.
        _ => vec![
            Op::RemoveAll(p.clone()),
            Op::Write(p.clone(), data),
            Op::RemoveAll(p.clone()),
            Op::Mkdir(p),
        ],
    }
}

fn errno_of(e: &FsError) -> i32 {
    match e {
        FsError::NotFound(_) => 2,
        FsError::NotADirectory(_) => 20,
        FsError::IsADirectory(_) => 21,
        FsError::AlreadyExists(_) => 17,
        FsError::DirectoryNotEmpty(_) => 39,
        FsError::Loop(_) => 40,
        FsError::ReadOnly(_) => 30,
        FsError::InvalidArgument(_) => 22,
        FsError::NotPermitted(_) => 1,
    }
}

fn apply_sim(sim: &mut UnionFs, op: &Op) -> Result<(), i32> {
    let a = |p: &str| format!("/{p}");
    let r = match op {
        Op::Write(p, d) => sim.write(&a(p), d, 0o644),
        Op::Append(p, d) => sim.append(&a(p), d),
        Op::Truncate(p, n) => sim.truncate(&a(p), *n),
        Op::Mkdir(p) => sim.mkdir(&a(p), 0o755),
        Op::MkdirAll(p) => sim.mkdir_all(&a(p), 0o755),
        Op::Remove(p) => sim.remove(&a(p)),
        Op::RemoveAll(p) => sim.remove_all(&a(p)),
        Op::Rename(f, t) => sim.rename(&a(f), &a(t)),
        Op::Symlink(t, p) => sim.symlink(t, &a(p)),
        Op::Hardlink(f, t) => sim.hardlink(&a(f), &a(t)),
        Op::Chmod(p, m) => sim.chmod(&a(p), *m),
        Op::Chown(p, u, g) => sim.chown(&a(p), *u, *g),
        Op::Lchown(p, u, g) => sim.lchown(&a(p), *u, *g),
    };
    r.map_err(|e| errno_of(&e))
}

fn is_nonempty_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
        && fs::read_dir(p).is_ok_and(|mut d| d.next().is_some())
}

fn apply_kernel(root: &Path, op: &Op) -> io::Result<()> {
    let j = |p: &str| root.join(p);
    match op {
        Op::Write(p, d) => fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(j(p))?
            .write_all(d),
        Op::Append(p, d) => fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .open(j(p))?
            .write_all(d),
        Op::Truncate(p, n) => fs::OpenOptions::new().write(true).open(j(p))?.set_len(*n),
        Op::Mkdir(p) => fs::DirBuilder::new().mode(0o755).create(j(p)),
        Op::MkdirAll(p) => fs::DirBuilder::new()
            .mode(0o755)
            .recursive(true)
            .create(j(p)),
        Op::Remove(p) => {
            if fs::symlink_metadata(j(p))?.is_dir() {
                fs::remove_dir(j(p))
            } else {
                fs::remove_file(j(p))
            }
        }
        Op::RemoveAll(p) => {
            if fs::symlink_metadata(j(p))?.is_dir() {
                fs::remove_dir_all(j(p))
            } else {
                fs::remove_file(j(p))
            }
        }
        Op::Rename(f, t) => match fs::rename(j(f), j(t)) {
            // overlayfs without redirect_dir cannot rename a directory with lower content;
            // `mv` then copies and deletes, which is what the simulation does.
            Err(e) if e.raw_os_error() == Some(18) => {
                if is_nonempty_dir(&j(t)) {
                    return Err(io::Error::from_raw_os_error(39));
                }
                let out = Command::new("mv")
                    .arg("-T")
                    .arg("--")
                    .arg(j(f))
                    .arg(j(t))
                    .output()?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(io::Error::other(
                        String::from_utf8_lossy(&out.stderr).into_owned(),
                    ))
                }
            }
            r => r,
        },
        Op::Symlink(t, p) => std::os::unix::fs::symlink(t, j(p)),
        Op::Hardlink(f, t) => fs::hard_link(j(f), j(t)),
        Op::Chmod(p, m) => fs::set_permissions(j(p), fs::Permissions::from_mode(*m)),
        Op::Chown(p, u, g) => std::os::unix::fs::chown(j(p), Some(*u), Some(*g)),
        Op::Lchown(p, u, g) => std::os::unix::fs::lchown(j(p), Some(*u), Some(*g)),
    }
}

fn sim_merged(sim: &UnionFs) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    for (p, s) in sim.walk("/").unwrap().into_iter().skip(1) {
        let node = match s.file_type {
            layerbox_core::fs::FileType::Dir => Node::Dir {
                mode: s.mode,
                uid: s.uid,
                gid: s.gid,
                opaque: false,
            },
            layerbox_core::fs::FileType::Symlink => Node::Symlink {
                uid: s.uid,
                gid: s.gid,
                target: sim.read_link(&p).unwrap().to_owned(),
            },
            layerbox_core::fs::FileType::File => {
                let content = match sim.read(&p).unwrap() {
                    FileData::Bytes(b) => b.clone(),
                    FileData::Simulated { .. } => unreachable!("the test writes real bytes"),
                };
                Node::File {
                    mode: s.mode,
                    uid: s.uid,
                    gid: s.gid,
                    content,
                    link_group: None,
                }
            }
        };
        out.insert(p.trim_start_matches('/').to_owned(), node);
    }
    out
}

/// The last operations, which is where a difference shows.
fn tail(log: &[String]) -> String {
    let keep = if std::env::var_os("LAYERBOX_OVERLAY_FULL_LOG").is_some() {
        log.len()
    } else {
        12
    };
    log[log.len().saturating_sub(keep)..].join("\n")
}

struct Mounts(Vec<PathBuf>);

impl Drop for Mounts {
    fn drop(&mut self) {
        for m in self.0.iter().rev() {
            let _ = Command::new("umount").arg(m).status();
        }
    }
}

fn mount(args: &[&str]) -> Result<(), String> {
    let out = Command::new("mount")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Mounts a tmpfs and an overlay on it once, to tell "cannot mount here" from a failure.
fn probe_mounts(base: &Path) -> Result<(), String> {
    let dir = base.join("probe");
    let mut mounts = mount_tmpfs(&dir)?;
    for d in ["l", "u", "w", "m"] {
        fs::create_dir(dir.join(d)).map_err(|e| e.to_string())?;
    }
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    mount_overlay(
        &mut mounts,
        &d("l"),
        &dir.join("u"),
        &dir.join("w"),
        &dir.join("m"),
    )
}

/// Mounts a fresh tmpfs at `dir` (overlayfs needs an upper filesystem with xattrs and
/// whiteout devices, which the temp dir may not have).
fn mount_tmpfs(dir: &Path) -> Result<Mounts, String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    mount(&["-t", "tmpfs", "tmpfs", dir.to_str().unwrap()])?;
    Ok(Mounts(vec![dir.to_owned()]))
}

/// Mounts an overlay with docker's feature set at `merged`.
fn mount_overlay(
    mounts: &mut Mounts,
    lowerdir: &str,
    upper: &Path,
    work: &Path,
    merged: &Path,
) -> Result<(), String> {
    let opts = format!(
        "lowerdir={lowerdir},upperdir={},workdir={},index=off,redirect_dir=off,metacopy=off",
        upper.display(),
        work.display()
    );
    mount(&[
        "-t",
        "overlay",
        "overlay",
        "-o",
        &opts,
        merged.to_str().unwrap(),
    ])?;
    mounts.0.push(merged.to_owned());
    Ok(())
}

/// Runs one seed; returns a description of the first difference.
fn run_seed(seed: u64, base: &Path) -> Result<(), String> {
    let dir = base.join(format!("seed-{seed}"));
    let mut mounts = mount_tmpfs(&dir)?;
    let empty = dir.join("empty");
    fs::create_dir(&empty).unwrap();
    // The kernel needs a lower directory even for the first layer: an empty one, mirrored
    // by an empty bottom layer in the simulation.
    let mut sim_layers = vec![Arc::new(Layer::new())];
    let mut lowers: Vec<PathBuf> = vec![empty];
    let mut rng = Rng(seed);
    let mut log = Vec::new();
    for layer_no in 0..LAYERS {
        let (upper, work, merged) = (
            dir.join(format!("u{layer_no}")),
            dir.join(format!("w{layer_no}")),
            dir.join(format!("m{layer_no}")),
        );
        for d in [&upper, &work, &merged] {
            fs::create_dir(d).unwrap();
        }
        let lowerdir = lowers
            .iter()
            .rev()
            .map(|p| p.to_str().unwrap())
            .collect::<Vec<_>>()
            .join(":");
        mount_overlay(&mut mounts, &lowerdir, &upper, &work, &merged)?;
        let mut sim = UnionFs::new(LayerStack::from_layers(sim_layers.clone()).unwrap());
        for n in 0..OPS_PER_LAYER {
            for op in gen_op(&mut rng, &sim, n) {
                let s = apply_sim(&mut sim, &op);
                let k = apply_kernel(&merged, &op).map_err(|e| e.raw_os_error().unwrap_or(-1));
                log.push(format!(
                    "layer {layer_no}: {op:?} -> sim {s:?}, kernel {k:?} {:?}",
                    sim.take_events()
                ));
                if s != k {
                    return Err(format!("seed {seed}: results differ\n{}", tail(&log)));
                }
                if std::env::var_os("LAYERBOX_OVERLAY_EVERY_OP").is_some() {
                    let (sim_up, kernel_up) = (
                        layer_tree(sim.upper().unwrap()),
                        disk_tree(&upper, DiskView::OverlayUpper),
                    );
                    if sim_up != kernel_up {
                        return Err(format!(
                            "seed {seed}: upper layers differ\n{}\n{}",
                            describe_diff(&sim_up, &kernel_up),
                            tail(&log)
                        ));
                    }
                }
            }
        }
        let (sim_tree, kernel_tree) = (sim_merged(&sim), disk_tree(&merged, DiskView::Merged));
        if sim_tree != kernel_tree {
            return Err(format!(
                "seed {seed}: merged trees differ after layer {layer_no}\n{}\n{}",
                describe_diff(&sim_tree, &kernel_tree),
                tail(&log)
            ));
        }
        let _ = Command::new("umount").arg(&merged).status();
        mounts.0.pop();
        let layer = sim.into_upper();
        let (sim_up, kernel_up) = (
            layer_tree(&layer),
            disk_tree(&upper, DiskView::OverlayUpper),
        );
        if sim_up != kernel_up {
            return Err(format!(
                "seed {seed}: upper layers differ after layer {layer_no}\n{}\n{}",
                describe_diff(&sim_up, &kernel_up),
                tail(&log)
            ));
        }
        sim_layers.push(Arc::new(layer));
        lowers.push(upper);
    }
    Ok(())
}

#[test]
fn union_fs_matches_kernel_overlayfs() {
    if !running_as_root() {
        println!("note: skipping the overlayfs differential test: it needs root to mount");
        return;
    }
    let base = std::env::temp_dir().join(format!("layerbox-overlay-diff-{}", std::process::id()));
    fs::create_dir_all(&base).unwrap();
    if let Err(e) = probe_mounts(&base) {
        println!("note: skipping the overlayfs differential test: cannot mount here ({e})");
        return;
    }
    let env = |k: &str| std::env::var(k).ok().and_then(|s| s.parse::<u64>().ok());
    let start = env("LAYERBOX_OVERLAY_SEED").unwrap_or(1000);
    let count = env("LAYERBOX_OVERLAY_SEEDS").unwrap_or(RANDOM_SEEDS);
    let seeds = REGRESSION_SEEDS.iter().copied().chain(start..start + count);
    let failures: Vec<String> = seeds
        .filter_map(|seed| run_seed(seed, &base).err())
        .collect();
    let _ = fs::remove_dir_all(&base);
    let summary: Vec<String> = failures
        .iter()
        .skip(1)
        .take(8)
        .map(|f| {
            let lines: Vec<&str> = f.lines().collect();
            format!(
                "{}\n{}",
                lines[..lines.len().min(7)].join("\n"),
                lines[lines.len().saturating_sub(2)..].join("\n")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} seeds differ; first:\n{}\nothers:\n{}",
        failures.len(),
        failures[0],
        summary.join("\n")
    );
}
