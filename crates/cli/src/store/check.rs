//! `system check`: finds what a crash can leave behind and repairs it.

use std::path::{Path, PathBuf};

use layerbox_core::image::Digest;

use super::{RecordKind, Store, StoreError, TMP_PREFIX, at};
use crate::linux::cgroup::unescape;

/// What kind of damage a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A temporary file or a half-unpacked layer.
    TempEntry,
    /// A blob whose content does not match its digest (cut short by a crash).
    CorruptBlob,
    /// A record that is not valid JSON.
    BadRecord,
    /// An image record whose config blob or a layer directory is missing.
    HalfImage,
    /// A container directory with no record.
    OrphanContainerDir,
    /// A mount below the store root that no running container holds.
    LeakedMount,
    /// A container recorded as running whose shim is gone: nobody will record its end.
    /// Repaired by recording it as exited with 137 (its PID 1 dies with the shim).
    ShimDied,
    /// The cgroup of a container that does not run (its supervisor was killed before it could
    /// remove it). Repaired by killing what is left in it and removing it.
    LeakedCgroup,
}

/// One finding of [`Store::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Where.
    pub path: PathBuf,
    /// Whether it was repaired (removed or unmounted).
    pub repaired: bool,
}

/// Everything [`Store::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The findings, in the order they were found.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// Whether the store needed nothing.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Mount points below `root` in a mountinfo text, deepest first (the order to unmount them).
pub fn mounts_below(mountinfo: &str, root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape(m)))
        .filter(|m| m.starts_with(root) && m != root)
        .collect();
    found.sort();
    found.dedup();
    found.reverse();
    found
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        super::remove_tree(path)
    } else {
        std::fs::remove_file(path)
    }
}

impl Store {
    /// Checks the store under its exclusive lock; with `repair`, removes temp entries, corrupt
    /// blobs, unreadable records and orphan container dirs, and unmounts leaked mounts.
    pub fn check(&self, repair: bool) -> Result<CheckReport, StoreError> {
        let _lock = self.lock()?;
        let mut report = CheckReport::default();
        let mut found = |kind, path: PathBuf, fix: &dyn Fn(&Path) -> std::io::Result<()>| {
            let repaired = repair && fix(&path).is_ok();
            report.problems.push(Problem {
                kind,
                path,
                repaired,
            });
        };
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let root = std::fs::canonicalize(&self.root).map_err(at(&self.root))?;
        for m in mounts_below(&mountinfo, &root) {
            found(ProblemKind::LeakedMount, m, &|p: &Path| {
                rustix::mount::unmount(p, rustix::mount::UnmountFlags::DETACH).map_err(Into::into)
            });
        }
        for dir in super::DIRS {
            let dir = self.root.join(dir);
            for item in std::fs::read_dir(&dir).map_err(at(&dir))? {
                let item = item.map_err(at(&dir))?;
                let name = item.file_name().to_string_lossy().into_owned();
                // a pull or load running now stages its layers in a directory it keeps locked
                let live = dir.ends_with("tmp") && super::unpack::in_use(&item.path());
                if (name.starts_with(TMP_PREFIX) || dir.ends_with("tmp")) && !live {
                    found(ProblemKind::TempEntry, item.path(), &remove_any);
                }
            }
        }
        let blobs = self.root.join("blobs/sha256");
        for item in std::fs::read_dir(&blobs).map_err(at(&blobs))? {
            let path = item.map_err(at(&blobs))?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with(TMP_PREFIX) {
                continue;
            }
            let named = format!("sha256:{name}").parse::<Digest>().ok();
            let ok = std::fs::read(&path)
                .is_ok_and(|b| named.is_some_and(|d| d == Digest::sha256_of(&b)));
            if !ok {
                found(ProblemKind::CorruptBlob, path, &remove_any);
            }
        }
        for kind in [RecordKind::Image, RecordKind::Container, RecordKind::Volume] {
            for id in self.list_records(kind)? {
                let path = self.record_path(kind, &id)?;
                let parses = std::fs::read(&path)
                    .is_ok_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_ok());
                if !parses {
                    found(ProblemKind::BadRecord, path, &remove_any);
                }
            }
        }
        for id in self.list_records(RecordKind::Image)? {
            if let Ok(Some(record)) = self.get_record::<super::ImageRecord>(RecordKind::Image, &id)
                && !self.image_complete(&record)
            {
                found(
                    ProblemKind::HalfImage,
                    self.record_path(RecordKind::Image, &id)?,
                    &remove_any,
                );
            }
        }
        let containers = self.list_records(RecordKind::Container)?;
        let dir = self.root.join("containers");
        for item in std::fs::read_dir(&dir).map_err(at(&dir))? {
            let item = item.map_err(at(&dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let is_dir = item.file_type().is_ok_and(|t| t.is_dir());
            let has_record = containers.contains(&name)
                && self
                    .record_path(RecordKind::Container, &name)
                    .is_ok_and(|p| p.exists());
            if is_dir && !name.starts_with(TMP_PREFIX) && !has_record {
                found(ProblemKind::OrphanContainerDir, item.path(), &remove_any);
            }
        }
        for id in self.list_records(RecordKind::Container)? {
            let Ok(Some(record)) = self.container(&id) else {
                continue;
            };
            if !record.container.state.is_up()
                && let Ok(cgroup) = crate::linux::Cgroup::for_host(
                    &record.container.id,
                    &crate::linux::Resources::default(),
                )
                && let Some((_, dir)) = cgroup.dirs.iter().find(|(_, d)| d.exists())
            {
                found(ProblemKind::LeakedCgroup, dir.clone(), &|_: &Path| {
                    cgroup
                        .kill_and_remove(std::time::Duration::from_secs(5))
                        .map_err(std::io::Error::other)
                });
            }
            if record.shim_died() {
                let path = self.record_path(RecordKind::Container, &record.container.id)?;
                found(ProblemKind::ShimDied, path, &|_: &Path| {
                    // nobody removed its cgroup: its PID 1 died with the shim
                    crate::linux::Cgroup::for_host(
                        &record.container.id,
                        &crate::linux::Resources::default(),
                    )
                    .and_then(|c| c.kill_and_remove(std::time::Duration::from_secs(5)))
                    .map_err(std::io::Error::other)?;
                    self.record_exit(&record, 137, false)
                        .map_err(std::io::Error::other)
                });
            }
        }
        if repair {
            for dir in ["blobs/sha256", "layers", "images", "containers", "tmp"] {
                super::sync_dir(&self.root.join(dir))?;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_missing_a_layer_is_half_and_its_record_goes() {
        use layerbox_core::fs::{Entry, Layer, Meta};
        use layerbox_core::image::ImageConfig;
        use std::sync::Arc;
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let mut layer = Layer::new();
        let meta = Meta {
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
            ..Meta::new(0o644, 0)
        };
        layer.insert("f", Entry::file(meta, "x"));
        let id = store
            .put_image(&ImageConfig::default(), &[Arc::new(layer)])
            .unwrap();
        assert!(store.check(false).unwrap().is_clean());
        let dirs = store.image(&id).unwrap().unwrap().1;
        std::fs::remove_dir_all(&dirs[0]).unwrap();
        let report = store.check(true).unwrap();
        assert_eq!(
            report
                .problems
                .iter()
                .map(|p| (p.kind, p.repaired))
                .collect::<Vec<_>>(),
            [(ProblemKind::HalfImage, true)]
        );
        assert!(store.image(&id).unwrap().is_none());
        assert!(store.check(false).unwrap().is_clean());
    }

    #[test]
    fn finds_mounts_below_the_root_deepest_first() {
        let info = "\
22 1 0:21 / / rw - ext4 /dev/vda rw
40 22 0:50 / /var/lib/layerbox/containers/c1/merged rw - overlay overlay rw
41 40 0:51 / /var/lib/layerbox/containers/c1/merged/proc rw - proc proc rw
42 22 0:52 / /var/lib/layerbox2/x rw - tmpfs tmpfs rw
43 22 0:53 / /var/lib/layerbox/with\\040space rw - tmpfs tmpfs rw
";
        assert_eq!(
            mounts_below(info, Path::new("/var/lib/layerbox")),
            [
                PathBuf::from("/var/lib/layerbox/with space"),
                PathBuf::from("/var/lib/layerbox/containers/c1/merged/proc"),
                PathBuf::from("/var/lib/layerbox/containers/c1/merged"),
            ]
        );
    }

    #[test]
    fn a_crashed_store_is_reported_then_repaired_then_clean() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let good = store.put_blob(b"good").unwrap();
        store
            .put_record(RecordKind::Image, "img", &serde_json::json!({}))
            .unwrap();
        store
            .put_record(RecordKind::Container, "c1", &serde_json::json!({}))
            .unwrap();
        std::fs::create_dir_all(store.container_dir("c1").unwrap().join("upper")).unwrap();
        // what a crash leaves: a temp blob, a short blob, a torn record, a half layer, an orphan
        let blobs = tmp.path().join("blobs/sha256");
        std::fs::write(blobs.join(".tmp-abc-1-0"), "par").unwrap();
        std::fs::write(blobs.join("a".repeat(64)), "short").unwrap();
        std::fs::write(tmp.path().join("images/torn.json"), "{\"id\": ").unwrap();
        std::fs::create_dir_all(tmp.path().join("tmp/.tmp-l1-1-0/etc")).unwrap();
        std::fs::create_dir_all(tmp.path().join("containers/c9/upper")).unwrap();

        let report = store.check(false).unwrap();
        let mut kinds: Vec<(ProblemKind, String)> = report
            .problems
            .iter()
            .map(|p| {
                let rel = p.path.strip_prefix(tmp.path()).unwrap();
                (p.kind, rel.display().to_string())
            })
            .collect();
        kinds.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            kinds,
            [
                (
                    ProblemKind::TempEntry,
                    "blobs/sha256/.tmp-abc-1-0".to_owned()
                ),
                (
                    ProblemKind::CorruptBlob,
                    format!("blobs/sha256/{}", "a".repeat(64))
                ),
                (ProblemKind::OrphanContainerDir, "containers/c9".to_owned()),
                (ProblemKind::BadRecord, "images/torn.json".to_owned()),
                (ProblemKind::TempEntry, "tmp/.tmp-l1-1-0".to_owned()),
            ]
        );
        assert!(report.problems.iter().all(|p| !p.repaired));

        let repaired = store.check(true).unwrap();
        assert_eq!(repaired.problems.len(), 5);
        assert!(repaired.problems.iter().all(|p| p.repaired));
        assert!(store.check(false).unwrap().is_clean());
        assert_eq!(store.read_blob(&good).unwrap().unwrap(), b"good");
        assert!(store.container_dir("c1").unwrap().join("upper").exists());
        assert_eq!(store.list_records(RecordKind::Image).unwrap(), ["img"]);
    }
}
