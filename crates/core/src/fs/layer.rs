//! A layer: the set of changes one build step or one container made, keyed by path.

use std::collections::{BTreeMap, BTreeSet, btree_map};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::path::{self, PathKey, PathStr};
use crate::image::{Digest, DigestWriter};

/// Owner, permissions and modification time of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Meta {
    /// Permission bits including setuid, setgid and sticky (`0o7777` mask).
    pub mode: u32,
    /// Owner user ID.
    pub uid: u32,
    /// Owner group ID.
    pub gid: u32,
    /// Modification time, seconds since the Unix epoch (given by the caller: core has no clock).
    pub mtime: i64,
}

impl Meta {
    /// Root-owned with `mode`, modified at `mtime`.
    pub fn new(mode: u32, mtime: i64) -> Self {
        Self {
            mode: mode & 0o7777,
            uid: 0,
            gid: 0,
            mtime,
        }
    }
}

/// The content of a regular file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileData {
    /// Real bytes.
    Bytes(Vec<u8>),
    /// A large file the simulation does not keep: its size and a digest naming its content.
    /// Written to a tar as the digest's 32 bytes repeated up to `size` (simulated content);
    /// its layer's diff_id hashes the digest and size instead (see [`super::tar::diff_id`]).
    Simulated {
        /// Length in bytes.
        size: u64,
        /// Names the content: equal digests mean equal files.
        digest: Digest,
    },
}

impl FileData {
    /// The largest size a file with real bytes is zero-extended to (`truncate -s`); beyond it
    /// the file becomes simulated, so a browser tab never allocates gigabytes.
    pub const MAX_REAL_EXTEND: u64 = 16 << 20;

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Self::Bytes(b) => b.len() as u64,
            Self::Simulated { size, .. } => *size,
        }
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, if they are real.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bytes(b) => Some(b),
            Self::Simulated { .. } => None,
        }
    }

    /// A digest of the content (sha256 of real bytes; the given digest of simulated ones), for
    /// build-cache checksums.
    pub fn digest(&self) -> Digest {
        match self {
            Self::Bytes(b) => Digest::sha256_of(b),
            Self::Simulated { digest, .. } => *digest,
        }
    }

    /// Appends bytes; a simulated file grows and gets a new digest derived from the old one.
    pub(crate) fn append(&mut self, more: &[u8]) {
        match self {
            Self::Bytes(b) => b.extend_from_slice(more),
            Self::Simulated { size, digest } => {
                *size += more.len() as u64;
                *digest = chain_digest(digest, more);
            }
        }
    }

    /// Cuts or zero-extends to `len` bytes. Extending real bytes past
    /// [`FileData::MAX_REAL_EXTEND`] makes the file simulated instead of allocating it.
    pub(crate) fn truncate(&mut self, len: u64) {
        match self {
            Self::Bytes(b) if len > Self::MAX_REAL_EXTEND && len > b.len() as u64 => {
                let digest = chain_digest(&Digest::sha256_of(b), &len.to_be_bytes());
                *self = Self::Simulated { size: len, digest };
            }
            Self::Bytes(b) => b.resize(usize::try_from(len).unwrap_or(0), 0),
            Self::Simulated { size, digest } => {
                if *size != len {
                    *digest = chain_digest(digest, &len.to_be_bytes());
                    *size = len;
                }
            }
        }
    }
}

fn chain_digest(digest: &Digest, more: &[u8]) -> Digest {
    let mut w = DigestWriter::new();
    w.update(digest.as_bytes());
    w.update(more);
    w.finish()
}

impl fmt::Debug for FileData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(b) if b.len() <= 64 => write!(f, "Bytes({:?})", String::from_utf8_lossy(b)),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Self::Simulated { size, digest } => write!(f, "Simulated({size} bytes, {digest})"),
        }
    }
}

/// What kind of object an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// A directory; `opaque` hides everything below it in lower layers (`.wh..wh..opq`).
    Dir {
        /// Set when this directory replaced a lower one instead of merging with it.
        opaque: bool,
    },
    /// A regular file.
    File(FileData),
    /// A symbolic link and its target, kept as written.
    Symlink(String),
}

/// The file type, as `ls -l` and `stat` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FileType {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Symlink,
}

impl FileType {
    /// The letter `ls -l` prints first (`d`, `-`, `l`).
    pub fn ls_char(self) -> char {
        match self {
            Self::Dir => 'd',
            Self::File => '-',
            Self::Symlink => 'l',
        }
    }
}

/// A file, directory or symlink with its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Owner, permissions, time.
    pub meta: Meta,
    /// The object itself.
    pub kind: EntryKind,
}

impl Entry {
    /// A directory.
    pub fn dir(meta: Meta) -> Self {
        Self {
            meta,
            kind: EntryKind::Dir { opaque: false },
        }
    }

    /// A regular file with real bytes.
    pub fn file(meta: Meta, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            meta,
            kind: EntryKind::File(FileData::Bytes(bytes.into())),
        }
    }

    /// A symbolic link (mode is always 0777 for links).
    pub fn symlink(meta: Meta, target: impl Into<String>) -> Self {
        Self {
            meta: Meta {
                mode: 0o777,
                ..meta
            },
            kind: EntryKind::Symlink(target.into()),
        }
    }

    /// The file type.
    pub fn file_type(&self) -> FileType {
        match self.kind {
            EntryKind::Dir { .. } => FileType::Dir,
            EntryKind::File(_) => FileType::File,
            EntryKind::Symlink(_) => FileType::Symlink,
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, EntryKind::Dir { .. })
    }

    /// Whether this is an opaque directory.
    pub fn is_opaque(&self) -> bool {
        matches!(self.kind, EntryKind::Dir { opaque: true })
    }

    /// The size `stat` reports and docker counts: file length, symlink target length, 0 for dirs.
    pub fn size(&self) -> u64 {
        match &self.kind {
            EntryKind::Dir { .. } => 0,
            EntryKind::File(data) => data.len(),
            EntryKind::Symlink(target) => target.len() as u64,
        }
    }
}

/// What a layer records at one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// The path is added or replaced by this entry.
    Entry(Entry),
    /// A hard link to the entry at the given path of the same layer (as in a tar).
    HardLink(String),
    /// The path is deleted (`.wh.<name>` in a layer tar).
    Whiteout,
}

/// A set of changes to a filesystem, keyed by path: one image layer or a container's writable
/// layer. Paths are relative to the root (`etc/passwd`) and kept sorted. Each path is allocated
/// once and shared (`Arc<str>`) with the index of every stack the layer is pushed on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    changes: BTreeMap<PathKey, Change>,
    /// For each path holding a hard-linked entry, the other paths linking to it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    links: BTreeMap<String, BTreeSet<String>>,
}

impl Layer {
    /// An empty layer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The change at `path` (relative, no leading slash).
    pub fn get(&self, path: &str) -> Option<&Change> {
        self.changes.get(PathStr::new(path))
    }

    /// The entry at `path`, following a hard link to the entry that holds the data; also
    /// returns that entry's path.
    pub fn entry(&self, path: &str) -> Option<(&str, &Entry)> {
        let (key, change) = self.changes.get_key_value(PathStr::new(path))?;
        match change {
            Change::Entry(e) => Some((&*key.0, e)),
            Change::HardLink(target) => match self.changes.get(PathStr::new(target))? {
                Change::Entry(e) => Some((target.as_str(), e)),
                _ => None,
            },
            Change::Whiteout => None,
        }
    }

    /// All changes in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.changes.iter().map(|(k, v)| (&*k.0, v))
    }

    /// All changes in path order, with the shared paths (for an index that keeps them).
    pub(crate) fn iter_shared(&self) -> impl Iterator<Item = (&Arc<str>, &Change)> {
        self.changes.iter().map(|(k, v)| (&k.0, v))
    }

    /// How many paths the layer changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether the layer changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The number of names of the entry held at `path` (1 plus its hard links).
    pub fn nlink(&self, path: &str) -> usize {
        1 + self.links.get(path).map_or(0, BTreeSet::len)
    }

    /// The paths that hard-link to the entry held at `path`.
    pub fn links_to(&self, path: &str) -> impl Iterator<Item = &str> {
        self.links
            .get(path)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The layer's size as docker reports it: regular file bytes plus symlink target lengths,
    /// each hard-linked file counted once; directories and whiteouts count 0.
    pub fn size(&self) -> u64 {
        self.changes
            .values()
            .map(|c| match c {
                Change::Entry(e) => e.size(),
                Change::HardLink(_) | Change::Whiteout => 0,
            })
            .sum()
    }

    /// Adds or replaces an entry. Replacing a hard-linked entry gives the old inode to one of
    /// its links.
    pub fn insert(&mut self, path: impl Into<Arc<str>>, entry: Entry) {
        self.put(path.into(), Change::Entry(entry));
    }

    /// Records a deletion of `path`.
    pub fn insert_whiteout(&mut self, path: impl Into<Arc<str>>) {
        self.put(path.into(), Change::Whiteout);
    }

    /// Adds `entry` at `path` if the layer records nothing there (one map search); otherwise
    /// changes nothing and gives both back.
    pub(crate) fn insert_if_vacant(
        &mut self,
        path: Arc<str>,
        entry: Entry,
    ) -> Option<(Arc<str>, Entry)> {
        match self.changes.entry(PathKey(path)) {
            btree_map::Entry::Vacant(slot) => {
                slot.insert(Change::Entry(entry));
                None
            }
            btree_map::Entry::Occupied(slot) => Some((slot.key().0.clone(), entry)),
        }
    }

    /// [`Layer::insert`], returning the change that was at `path` (one map search).
    pub(crate) fn replace(&mut self, path: Arc<str>, entry: Entry) -> Option<Change> {
        self.put(path, Change::Entry(entry))
    }

    /// Puts `change` at `path`, replacing what was there. Without hard links in the layer
    /// nothing else refers to the old change: one map insert instead of a removal and an insert.
    fn put(&mut self, path: Arc<str>, change: Change) -> Option<Change> {
        if self.links.is_empty() {
            self.changes.insert(PathKey(path), change)
        } else {
            let old = self.take(&path);
            self.changes.insert(PathKey(path), change);
            old
        }
    }

    /// Adds a hard link at `path` to the non-directory entry at `target` in this layer.
    /// Returns false (and changes nothing) if there is no such entry.
    pub fn insert_hardlink(&mut self, path: impl Into<Arc<str>>, target: &str) -> bool {
        let path: Arc<str> = path.into();
        let Some((primary, entry)) = self.entry(target) else {
            return false;
        };
        if entry.is_dir() || primary == &*path {
            return false;
        }
        let primary = primary.to_owned();
        self.take(&path);
        self.links
            .entry(primary.clone())
            .or_default()
            .insert(path.to_string());
        self.changes
            .insert(PathKey(path), Change::HardLink(primary));
        true
    }

    /// The entry at `path` for modification, following a hard link.
    pub(crate) fn entry_mut(&mut self, path: &str) -> Option<&mut Entry> {
        let link = match self.changes.get(PathStr::new(path))? {
            Change::HardLink(t) => Some(t.clone()),
            _ => None,
        };
        match self
            .changes
            .get_mut(PathStr::new(link.as_deref().unwrap_or(path)))?
        {
            Change::Entry(e) => Some(e),
            _ => None,
        }
    }

    /// Removes what is at `path`. If it held an entry that other paths hard-link to, one of
    /// them takes the entry over, so the remaining names keep the data.
    pub(crate) fn take(&mut self, path: &str) -> Option<Change> {
        let change = self.changes.remove(PathStr::new(path))?;
        match &change {
            Change::HardLink(target) => {
                if let Some(set) = self.links.get_mut(target) {
                    set.remove(path);
                    if set.is_empty() {
                        self.links.remove(target);
                    }
                }
            }
            Change::Entry(entry) => {
                if let Some(mut set) = self.links.remove(path)
                    && let Some(heir) = set.pop_first()
                {
                    for other in &set {
                        self.changes
                            .insert(PathKey::from(other), Change::HardLink(heir.clone()));
                    }
                    self.changes
                        .insert(PathKey::from(&heir), Change::Entry(entry.clone()));
                    if !set.is_empty() {
                        self.links.insert(heir, set);
                    }
                }
            }
            Change::Whiteout => {}
        }
        Some(change)
    }

    /// Moves what is at `from` to `to` (which must be free), keeping hard links pointing at it.
    pub(crate) fn move_path(&mut self, from: &str, to: &str) {
        let Some(change) = self.changes.remove(PathStr::new(from)) else {
            return;
        };
        match &change {
            Change::HardLink(target) => {
                if let Some(set) = self.links.get_mut(target) {
                    set.remove(from);
                    set.insert(to.to_owned());
                }
            }
            Change::Entry(_) => {
                if let Some(set) = self.links.remove(from) {
                    for other in &set {
                        self.changes
                            .insert(PathKey::from(other), Change::HardLink(to.to_owned()));
                    }
                    self.links.insert(to.to_owned(), set);
                }
            }
            Change::Whiteout => {}
        }
        self.changes.insert(PathKey::from(to), change);
    }

    /// The paths strictly below `dir`, in order.
    pub(crate) fn descendants(&self, dir: &str) -> Vec<String> {
        path::descendants(&self.changes, dir)
            .map(|(k, _)| k.0.to_string())
            .collect()
    }

    /// The direct children of `dir` recorded in this layer, with their changes.
    pub(crate) fn children(&self, dir: &str) -> Vec<(&str, &Change)> {
        path::children(&self.changes, dir)
    }

    /// Whether something in this layer above `path` (a whiteout, an opaque directory or a
    /// non-directory) hides the layers below at `path`.
    pub(crate) fn hides_below(&self, path: &str) -> bool {
        path::ancestors(path).any(|a| match self.changes.get(PathStr::new(a)) {
            Some(Change::Entry(e)) => !matches!(e.kind, EntryKind::Dir { opaque: false }),
            Some(Change::HardLink(_) | Change::Whiteout) => true,
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &str) -> Entry {
        Entry::file(Meta::new(0o644, 0), s)
    }

    #[test]
    fn hard_links_survive_removal_and_moves_of_the_primary() {
        let mut l = Layer::new();
        l.insert("a", file("data"));
        assert!(l.insert_hardlink("b", "a"));
        assert!(
            l.insert_hardlink("c", "b"),
            "a link to a link links to the primary"
        );
        assert_eq!(l.get("c"), Some(&Change::HardLink("a".into())));
        assert_eq!(l.nlink("a"), 3);
        assert_eq!(l.size(), 4, "hard links count once");
        l.move_path("a", "z");
        assert_eq!(l.get("b"), Some(&Change::HardLink("z".into())));
        l.take("z");
        assert_eq!(l.entry("b").map(|(p, e)| (p, e.size())), Some(("b", 4)));
        assert_eq!(l.get("c"), Some(&Change::HardLink("b".into())));
        assert_eq!(l.nlink("b"), 2);
        l.take("c");
        assert_eq!(l.nlink("b"), 1);
        assert!(!l.insert_hardlink("d", "nope"));
    }

    #[test]
    fn size_counts_files_and_symlinks_only() {
        let mut l = Layer::new();
        l.insert("d", Entry::dir(Meta::new(0o755, 0)));
        l.insert("d/f", file("abc"));
        l.insert("d/l", Entry::symlink(Meta::new(0, 0), "f"));
        l.insert_whiteout("gone");
        assert_eq!(l.size(), 4);
        assert_eq!(
            l.get("d/l")
                .map(|c| matches!(c, Change::Entry(e) if e.meta.mode == 0o777)),
            Some(true)
        );
    }

    #[test]
    fn simulated_files_grow_with_new_digests() {
        let d = Digest::sha256_of(b"big");
        let mut data = FileData::Simulated {
            size: 10,
            digest: d,
        };
        data.append(b"xy");
        assert_eq!(data.len(), 12);
        assert_ne!(data.digest(), d);
        let before = data.digest();
        data.truncate(12);
        assert_eq!(data.digest(), before);
        data.truncate(3);
        assert_eq!(data.len(), 3);
        let mut real = FileData::Bytes(b"abc".to_vec());
        real.truncate(5);
        assert_eq!(real.bytes(), Some(&b"abc\0\0"[..]));
        real.truncate(10 << 30);
        assert_eq!(real.len(), 10 << 30);
        assert!(
            real.bytes().is_none(),
            "10 GiB of zeros become a simulated file"
        );
    }
}
