//! The on-disk store of the Linux engine.
//!
//! ```text
//! <root>/lock                       flock: exclusive for writers, shared for readers
//! <root>/blobs/sha256/<hex>         content-addressed blobs (layer tars, configs)
//! <root>/layers/<id>/               unpacked layers, the overlay's lower directories
//! <root>/tarsplit/<diff_id>         a pulled layer's tar without its files' contents
//! <root>/images/<id>.json           image records
//! <root>/containers/<id>.json       container records
//! <root>/containers/<id>/           a container's upper, work, merged and etc dirs
//! <root>/init/<key>/                the init layer (mount points) the containers of one image share
//! <root>/volumes/<name>.json        volume records (created time, labels)
//! <root>/volumes/<name>/_data/      a volume's content, bound into the containers that mount it
//! <root>/tmp/                       layers being unpacked (renamed into layers/ when complete),
//!                                   a pull's or load's staging directories (locked while in use)
//! ```
//!
//! Every file is written atomically (temp file, fsync, rename, fsync of the directory) and every
//! layer is unpacked beside its final place and renamed in, so a crash leaves either the old
//! state or the new one plus temp entries that [`Store::check`] removes.

mod check;
mod container;
mod image;
mod ingest;
mod unpack;
mod volume;

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use layerbox_core::image::{Digest, DigestWriter};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use check::{CheckReport, Problem, ProblemKind};
pub use container::{ContainerRecord, ProcessRef};
pub use image::ImageRecord;
pub use ingest::{IngestError, LayerInput};
pub(crate) use unpack::TarKept;
pub use unpack::{StagedLayer, Staging};

use crate::linux::Layers;

/// The store's directories, created when it is opened (and looked through by `system check`).
pub const DIRS: [&str; 6] = [
    "blobs/sha256",
    "layers",
    "images",
    "containers",
    "volumes",
    "tmp",
];

/// Prefix of every temporary entry; nothing else in the store starts with it.
pub const TMP_PREFIX: &str = ".tmp-";

/// An error of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{path:?}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A record or ID with characters that cannot name a file.
    #[error("invalid id {0:?}")]
    InvalidId(String),
    /// A record that does not parse.
    #[error("record {path:?}: {source}")]
    Json {
        /// The record file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// No default root: not root and neither `XDG_DATA_HOME` nor `HOME` is set.
    #[error("cannot find a store root: set --root or LAYERBOX_ROOT")]
    NoRoot,
}

pub(crate) fn at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A blob whose content does not have the digest it was announced with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {actual}")]
pub struct BlobMismatch {
    /// The digest announced.
    pub expected: Digest,
    /// The digest of the bytes received.
    pub actual: Digest,
}

/// The kinds of JSON records the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `images/<id>.json`.
    Image,
    /// `containers/<id>.json`.
    Container,
    /// `volumes/<name>.json`.
    Volume,
}

impl RecordKind {
    fn dir(self) -> &'static str {
        match self {
            Self::Image => "images",
            Self::Container => "containers",
            Self::Volume => "volumes",
        }
    }
}

/// Picks the store root: `--root`, then `LAYERBOX_ROOT`, then `/var/lib/layerbox` for root and
/// `$XDG_DATA_HOME/layerbox` (default `~/.local/share/layerbox`) for everyone else.
pub fn resolve_root(
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
    is_root: bool,
) -> Result<PathBuf, StoreError> {
    let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(p) = flag {
        return Ok(p.to_owned());
    }
    if let Some(p) = non_empty("LAYERBOX_ROOT") {
        return Ok(p.into());
    }
    if is_root {
        return Ok("/var/lib/layerbox".into());
    }
    if let Some(p) = non_empty("XDG_DATA_HOME") {
        return Ok(PathBuf::from(p).join("layerbox"));
    }
    non_empty("HOME")
        .map(|h| PathBuf::from(h).join(".local/share/layerbox"))
        .ok_or(StoreError::NoRoot)
}

/// [`resolve_root`] with this process's environment and user.
pub fn default_root(flag: Option<&Path>) -> Result<PathBuf, StoreError> {
    resolve_root(
        flag,
        |k| std::env::var_os(k),
        rustix::process::geteuid().is_root(),
    )
}

/// A unique temporary name beside `name` (pid plus a per-process counter).
pub(crate) fn tmp_name(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{TMP_PREFIX}{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Removes a directory tree. Rootless, overlayfs leaves its `work/work` directory with mode 000
/// (the caller owns it, but may not list it), so when removal is refused the directories are
/// made the caller's to list and write first.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    fn open_up(dir: &Path) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for item in std::fs::read_dir(dir)? {
            let item = item?;
            if item.file_type()?.is_dir() {
                open_up(&item.path())?;
            }
        }
        Ok(())
    }
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            open_up(path)?;
            std::fs::remove_dir_all(path)
        }
        other => other,
    }
}

/// The size docker gives a tree (a layer's, a volume's), from its metadata without reading a
/// file: regular files' bytes (each inode once: hard links count once), symlinks' targets;
/// directories and whiteouts nothing. Symlinks are never followed.
pub fn tree_size(dir: &Path) -> io::Result<u64> {
    fn walk(dir: &Path, seen: &mut std::collections::BTreeSet<(u64, u64)>) -> io::Result<u64> {
        use std::os::unix::fs::MetadataExt as _;
        let mut total = 0;
        for item in std::fs::read_dir(dir)? {
            let item = item?;
            let meta = item.path().symlink_metadata()?;
            let kind = meta.file_type();
            if kind.is_dir() {
                total += walk(&item.path(), seen)?;
            } else if kind.is_symlink() || (kind.is_file() && seen.insert((meta.dev(), meta.ino())))
            {
                // a symlink's length is its target's
                total += meta.len();
            }
        }
        Ok(total)
    }
    walk(dir, &mut std::collections::BTreeSet::new())
}

/// fsyncs a directory, so a rename or a new entry in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}

/// Writes `dir/name` so that it is either absent or complete: temp file, fsync, rename, fsync
/// of the directory.
pub fn atomic_write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    write_replacing(dir, name, bytes, true)
}

/// [`atomic_write`], with the fsyncs only when `durable`: without them a reader still sees the
/// old or the new file, never half of one, but a power cut may lose the write. For records of
/// throw-away containers (`run --rm`), whose fsyncs cost tens of milliseconds on a busy disk.
pub fn write_replacing(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    durable: bool,
) -> Result<PathBuf, StoreError> {
    let tmp = dir.join(tmp_name(name));
    let dest = dir.join(name);
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &dest)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(at(&dest)(e));
    }
    if durable {
        sync_dir(dir)?;
    }
    Ok(dest)
}

fn valid_id(id: &str) -> Result<&str, StoreError> {
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(id)
    } else {
        Err(StoreError::InvalidId(id.to_owned()))
    }
}

/// A lock on the store, released when dropped.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// The store at a root directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        for dir in DIRS {
            let d = root.join(dir);
            std::fs::create_dir_all(&d).map_err(at(&d))?;
        }
        Ok(Self { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn flock(&self, op: rustix::fs::FlockOperation) -> Result<StoreLock, StoreError> {
        let path = self.root.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(at(&path))?;
        rustix::fs::flock(&file, op).map_err(|e| at(&path)(e.into()))?;
        Ok(StoreLock { _file: file })
    }

    /// Waits for and takes the exclusive lock (for any change to the store).
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        self.flock(rustix::fs::FlockOperation::LockExclusive)
    }

    /// Waits for and takes a shared lock (for reading a consistent store).
    pub fn lock_shared(&self) -> Result<StoreLock, StoreError> {
        self.flock(rustix::fs::FlockOperation::LockShared)
    }

    /// The exclusive lock if nobody holds any lock now.
    pub fn try_lock(&self) -> Result<Option<StoreLock>, StoreError> {
        match self.flock(rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(l) => Ok(Some(l)),
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::WouldBlock => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn blobs(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    /// Stores a blob under its sha256 and returns its digest.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::sha256_of(bytes);
        if self.blob_path(&digest).exists() {
            return Ok(digest);
        }
        self.put_blob_from(bytes)
    }

    /// Stores a blob read from `reader` (a layer tar can be hundreds of MB): hashed while it is
    /// written to a temp file, which is renamed to its digest once complete.
    pub fn put_blob_from(&self, reader: impl io::Read) -> Result<Digest, StoreError> {
        self.write_blob(reader, None)
    }

    /// Writes a blob from `reader`; with `expect`, a blob whose digest differs is removed and
    /// the mismatch returned as an error whose source is [`BlobMismatch`], so that nothing
    /// unwanted keeps a name in the store.
    pub(crate) fn write_blob(
        &self,
        mut reader: impl io::Read,
        expect: Option<&Digest>,
    ) -> Result<Digest, StoreError> {
        let dir = self.blobs();
        let tmp = dir.join(tmp_name("blob"));
        let mut hasher = DigestWriter::new();
        let written = (|| {
            let mut f = File::create(&tmp)?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                f.write_all(&buf[..n])?;
            }
            f.sync_all()
        })();
        let digest = hasher.finish();
        let dest = self.blob_path(&digest);
        let renamed = written.and_then(|()| match expect {
            Some(want) if *want != digest => Err(io::Error::other(BlobMismatch {
                expected: *want,
                actual: digest,
            })),
            _ if dest.exists() => std::fs::remove_file(&tmp),
            _ => std::fs::rename(&tmp, &dest),
        });
        if let Err(e) = renamed {
            let _ = std::fs::remove_file(&tmp);
            return Err(at(&dest)(e));
        }
        sync_dir(&dir)?;
        Ok(digest)
    }

    /// Where the skeleton of layer `diff_id`'s tar lives, for a layer kept without its tar
    /// (see [`Staging::layer_split`]).
    pub fn tarsplit_path(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("tarsplit").join(diff_id.hex())
    }

    /// Where the blob with `digest` lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs().join(digest.hex())
    }

    /// The blob's bytes, `None` when the store does not have it.
    pub fn read_blob(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.blob_path(digest);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(at(&path)(e)),
        }
    }

    /// The directory of an unpacked layer (it exists only once complete).
    pub fn layer_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.root.join("layers").join(valid_id(id)?))
    }

    /// The size docker gives a layer ([`tree_size`]); 0 for a layer with no directory.
    pub fn layer_size(&self, diff_id: &Digest) -> Result<u64, StoreError> {
        let dir = self.layer_dir(&diff_id.hex())?;
        if !dir.is_dir() {
            return Ok(0);
        }
        tree_size(&dir).map_err(at(&dir))
    }

    /// Unpacks a layer: `fill` writes it into a temporary directory, which is renamed into
    /// `layers/<id>` only when `fill` succeeded. An existing layer is kept as it is.
    pub fn create_layer(
        &self,
        id: &str,
        fill: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Result<PathBuf, StoreError> {
        let dest = self.layer_dir(id)?;
        if dest.exists() {
            return Ok(dest);
        }
        let tmp = self.root.join("tmp").join(tmp_name(id));
        std::fs::create_dir(&tmp).map_err(at(&tmp))?;
        let filled = fill(&tmp).and_then(|()| std::fs::rename(&tmp, &dest));
        if let Err(e) = filled {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(at(&dest)(e));
        }
        sync_dir(&self.root.join("layers"))?;
        Ok(dest)
    }

    fn record_path(&self, kind: RecordKind, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self
            .root
            .join(kind.dir())
            .join(format!("{}.json", valid_id(id)?)))
    }

    /// Writes a record atomically.
    pub fn put_record<T: Serialize>(
        &self,
        kind: RecordKind,
        id: &str,
        record: &T,
    ) -> Result<(), StoreError> {
        self.put_record_with(kind, id, record, true)
    }

    /// Writes a record atomically, durably or not (see [`write_replacing`]).
    pub fn put_record_with<T: Serialize>(
        &self,
        kind: RecordKind,
        id: &str,
        record: &T,
        durable: bool,
    ) -> Result<(), StoreError> {
        let path = self.record_path(kind, id)?;
        let json = serde_json::to_vec_pretty(record).map_err(|source| StoreError::Json {
            path: path.clone(),
            source,
        })?;
        write_replacing(
            &self.root.join(kind.dir()),
            &format!("{id}.json"),
            &json,
            durable,
        )?;
        Ok(())
    }

    /// Reads a record, `None` when there is none.
    pub fn get_record<T: DeserializeOwned>(
        &self,
        kind: RecordKind,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let path = self.record_path(kind, id)?;
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|source| StoreError::Json { path, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(at(&path)(e)),
        }
    }

    /// The IDs of all records of a kind, sorted.
    pub fn list_records(&self, kind: RecordKind) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(kind.dir());
        let mut ids = Vec::new();
        for item in std::fs::read_dir(&dir).map_err(at(&dir))? {
            let name = item.map_err(at(&dir))?.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name.strip_suffix(".json")
                && !name.starts_with(TMP_PREFIX)
            {
                ids.push(id.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Removes a record and, for a container or a volume, its directory. The record goes first,
    /// so a crash midway leaves at worst a directory nobody refers to, which [`Store::check`]
    /// removes; the directory is renamed into `tmp/` (one atomic step) before it is deleted.
    pub fn remove_record(&self, kind: RecordKind, id: &str) -> Result<(), StoreError> {
        self.remove_record_with(kind, id, true)
    }

    /// [`Store::remove_record`], with the directory's fsync only when `durable`.
    pub fn remove_record_with(
        &self,
        kind: RecordKind,
        id: &str,
        durable: bool,
    ) -> Result<(), StoreError> {
        let path = self.record_path(kind, id)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(at(&path)(e)),
            _ if durable => sync_dir(&self.root.join(kind.dir()))?,
            _ => {}
        }
        if kind != RecordKind::Image {
            let dir = self.root.join(kind.dir()).join(valid_id(id)?);
            let trash = self.root.join("tmp").join(tmp_name(id));
            match std::fs::rename(&dir, &trash) {
                Ok(()) => remove_tree(&trash).map_err(at(&trash))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(at(&dir)(e)),
            }
        }
        Ok(())
    }

    /// A container's directory.
    pub fn container_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.root.join("containers").join(valid_id(id)?))
    }

    /// The overlay directories of container `id` over image layers `lowers` (bottom first).
    pub fn container_layers(&self, id: &str, lowers: Vec<PathBuf>) -> Result<Layers, StoreError> {
        let dir = self.container_dir(id)?;
        // one init layer per stack of image layers (it copies their directories' metadata)
        let key = Digest::sha256_of(
            lowers
                .iter()
                .map(|l| l.to_string_lossy())
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        );
        Ok(Layers {
            init: self.root.join("init").join(key.short()),
            ..Layers::in_dir(&dir, lowers)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_comes_from_the_flag_then_the_env_then_the_user() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let all = env(&[
            ("LAYERBOX_ROOT", "/env"),
            ("XDG_DATA_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ]);
        assert_eq!(
            resolve_root(Some(Path::new("/flag")), all, true).unwrap(),
            Path::new("/flag")
        );
        assert_eq!(resolve_root(None, all, true).unwrap(), Path::new("/env"));
        let no_override = env(&[("XDG_DATA_HOME", "/xdg"), ("HOME", "/home/u")]);
        assert_eq!(
            resolve_root(None, no_override, true).unwrap(),
            Path::new("/var/lib/layerbox")
        );
        assert_eq!(
            resolve_root(None, no_override, false).unwrap(),
            Path::new("/xdg/layerbox")
        );
        assert_eq!(
            resolve_root(
                None,
                env(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "")]),
                false
            )
            .unwrap(),
            Path::new("/home/u/.local/share/layerbox")
        );
        assert!(matches!(
            resolve_root(None, env(&[]), false),
            Err(StoreError::NoRoot)
        ));
    }

    #[test]
    fn blobs_are_content_addressed() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let d = store.put_blob(b"hi\n").unwrap();
        assert_eq!(
            d.to_string(),
            "sha256:98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"
        );
        assert_eq!(store.put_blob(b"hi\n").unwrap(), d);
        assert_eq!(store.put_blob_from(&b"hi\n"[..]).unwrap(), d);
        let big = vec![7u8; 600 * 1024];
        let big_digest = store.put_blob_from(&big[..]).unwrap();
        assert_eq!(big_digest, store.put_blob(&big).unwrap());
        assert_eq!(store.read_blob(&big_digest).unwrap().unwrap(), big);
        assert_eq!(store.read_blob(&d).unwrap().unwrap(), b"hi\n");
        let missing = Digest::from_bytes([0; 32]);
        assert_eq!(store.read_blob(&missing).unwrap(), None);
        // no temp file is left beside the blob
        let names: Vec<_> = std::fs::read_dir(tmp.path().join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn records_round_trip_and_list_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        store
            .put_record(RecordKind::Image, "b2", &serde_json::json!({"tag": "b"}))
            .unwrap();
        store
            .put_record(RecordKind::Image, "a1", &serde_json::json!({"tag": "a"}))
            .unwrap();
        assert_eq!(store.list_records(RecordKind::Image).unwrap(), ["a1", "b2"]);
        let rec: serde_json::Value = store.get_record(RecordKind::Image, "a1").unwrap().unwrap();
        assert_eq!(rec["tag"], "a");
        assert_eq!(
            store
                .get_record::<serde_json::Value>(RecordKind::Container, "a1")
                .unwrap(),
            None
        );
        assert!(matches!(
            store.put_record(RecordKind::Image, "../x", &1),
            Err(StoreError::InvalidId(_))
        ));
        store.remove_record(RecordKind::Image, "a1").unwrap();
        assert_eq!(store.list_records(RecordKind::Image).unwrap(), ["b2"]);
    }

    #[test]
    fn removing_a_container_takes_its_record_and_its_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        store
            .put_record(RecordKind::Container, "c1", &serde_json::json!({}))
            .unwrap();
        let upper = store.container_layers("c1", vec![]).unwrap().upper;
        std::fs::create_dir_all(upper.join("etc")).unwrap();
        std::fs::write(upper.join("etc/x"), "x").unwrap();
        store.remove_record(RecordKind::Container, "c1").unwrap();
        assert!(
            store
                .list_records(RecordKind::Container)
                .unwrap()
                .is_empty()
        );
        assert!(!store.container_dir("c1").unwrap().exists());
        assert_eq!(
            std::fs::read_dir(tmp.path().join("tmp")).unwrap().count(),
            0
        );
        // removing what is gone already is not an error
        store.remove_record(RecordKind::Container, "c1").unwrap();
    }

    #[test]
    fn a_layer_appears_only_when_complete() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let err = store
            .create_layer("l1", |dir| {
                std::fs::write(dir.join("half"), "x")?;
                Err(io::Error::other("unpack failed"))
            })
            .unwrap_err();
        assert!(err.to_string().contains("unpack failed"), "{err}");
        assert!(!store.layer_dir("l1").unwrap().exists());
        assert_eq!(
            std::fs::read_dir(tmp.path().join("tmp")).unwrap().count(),
            0
        );
        let dir = store
            .create_layer("l1", |dir| std::fs::write(dir.join("f"), "x"))
            .unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "x");
    }

    #[test]
    fn eight_concurrent_writers_leave_a_clean_store() {
        // tmpfs where there is one: 400 fsyncs on a busy disk take seconds
        let shm = Path::new("/dev/shm");
        let tmp = if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        let root = tmp.path().to_owned();
        Store::open(&root).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let root = root.clone();
                std::thread::spawn(move || {
                    // each "invocation" opens the store and takes the lock on its own
                    let store = Store::open(&root).unwrap();
                    for i in 0..25 {
                        let _lock = store.lock().unwrap();
                        // read-modify-write of a shared record: lost updates show up as a
                        // wrong count at the end
                        let mut count: u64 = store
                            .get_record(RecordKind::Image, "counter")
                            .unwrap()
                            .unwrap_or(0);
                        count += 1;
                        store
                            .put_record(RecordKind::Image, "counter", &count)
                            .unwrap();
                        let d = store.put_blob(format!("{t}-{i}").as_bytes()).unwrap();
                        assert_eq!(
                            store.read_blob(&d).unwrap().unwrap(),
                            format!("{t}-{i}").as_bytes()
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = Store::open(&root).unwrap();
        let count: u64 = store
            .get_record(RecordKind::Image, "counter")
            .unwrap()
            .unwrap();
        assert_eq!(count, 200);
        assert_eq!(
            std::fs::read_dir(root.join("blobs/sha256"))
                .unwrap()
                .count(),
            200
        );
        assert!(store.check(false).unwrap().is_clean());
    }

    #[test]
    fn the_exclusive_lock_excludes_others_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let other = Store::open(tmp.path()).unwrap();
        let held = store.lock().unwrap();
        assert!(other.try_lock().unwrap().is_none());
        drop(held);
        assert!(other.try_lock().unwrap().is_some());
        let shared = store.lock_shared().unwrap();
        assert!(other.try_lock().unwrap().is_none());
        drop(shared);
    }
}
