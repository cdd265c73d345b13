//! `UnionFs`: read-only layers plus a writable layer, with overlayfs's copy-on-write rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::layer::{Change, Entry, EntryKind, FileData, FileType, Layer, Meta};
use super::stack::{LayerStack, PathChange, changes};
use super::{FsError, FsEvent, MAX_SYMLINKS, path};

/// What `stat`/`lstat` report about a path of the merged view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    /// Directory, file or symlink.
    pub file_type: FileType,
    /// Permission bits (`0o7777` mask).
    pub mode: u32,
    /// Owner user ID.
    pub uid: u32,
    /// Owner group ID.
    pub gid: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// File length, symlink target length, 0 for directories.
    pub size: u64,
    /// Number of hard links (1 for directories and unlinked files).
    pub nlink: usize,
    /// The read-only layer (0 = bottom) the entry comes from; `None` for the writable layer.
    pub layer: Option<usize>,
}

impl Stat {
    /// Owner, permissions and time, as a layer entry keeps them.
    pub fn meta(&self) -> Meta {
        Meta {
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            mtime: self.mtime,
        }
    }
}

/// One name in a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The name inside the directory.
    pub name: String,
    /// What it is (not following symlinks).
    pub file_type: FileType,
}

static ROOT: Entry = Entry {
    meta: Meta {
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
    },
    kind: EntryKind::Dir { opaque: false },
};

/// A merged view of read-only layers with an optional writable layer on top, behaving like an
/// overlayfs mount (`index=off`, `redirect_dir=off`, `metacopy=off`, docker's settings).
///
/// Paths are absolute or relative to the root alike; symlinks resolve inside the root and can
/// never leave it (`..` at the root stays at the root, absolute targets start from the root).
/// Every change to a lower entry copies it up first; deleting a lower entry writes a whiteout;
/// a directory made where a lower one was deleted is opaque. Those steps are recorded as
/// [`FsEvent`]s, taken with [`UnionFs::take_events`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnionFs {
    lower: Arc<LayerStack>,
    upper: Option<Layer>,
    now: i64,
    uid: u32,
    gid: u32,
    #[serde(skip)]
    events: Vec<FsEvent>,
}

/// A resolved path and what the merged view has there.
type Resolved<'a> = (String, Option<(Loc, &'a Entry)>);

/// Where an entry of the merged view lives.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Loc {
    Upper,
    Lower(usize),
}

impl UnionFs {
    /// A writable view over `lower` (a container's filesystem, a build step's).
    pub fn new(lower: impl Into<Arc<LayerStack>>) -> Self {
        Self {
            lower: lower.into(),
            upper: Some(Layer::new()),
            now: 0,
            uid: 0,
            gid: 0,
            events: Vec::new(),
        }
    }

    /// A writable view over `lower` whose writable layer already holds `upper` (a container's
    /// layer kept between commands).
    pub fn with_upper(lower: impl Into<Arc<LayerStack>>, upper: Layer) -> Self {
        Self {
            upper: Some(upper),
            ..Self::new(lower)
        }
    }

    /// A read-only view over `lower` (an image): every change fails with `EROFS`.
    pub fn read_only(lower: impl Into<Arc<LayerStack>>) -> Self {
        Self {
            upper: None,
            ..Self::new(lower)
        }
    }

    /// Sets the time stamped on new and modified entries (core has no clock of its own).
    pub fn set_now(&mut self, mtime: i64) {
        self.now = mtime;
    }

    /// Sets the owner of new entries (the process's uid and gid).
    pub fn set_owner(&mut self, uid: u32, gid: u32) {
        self.uid = uid;
        self.gid = gid;
    }

    /// The read-only layers.
    pub fn lower(&self) -> &LayerStack {
        &self.lower
    }

    /// The read-only layers, shared (for another view over the same image without copying
    /// its index).
    pub fn lower_shared(&self) -> Arc<LayerStack> {
        Arc::clone(&self.lower)
    }

    /// The writable layer, if any.
    pub fn upper(&self) -> Option<&Layer> {
        self.upper.as_ref()
    }

    /// Gives up the view and returns the writable layer (empty for a read-only view).
    pub fn into_upper(self) -> Layer {
        self.upper.unwrap_or_default()
    }

    /// The copy-ups, whiteouts and opaque directories since the last call, in order.
    pub fn take_events(&mut self) -> Vec<FsEvent> {
        std::mem::take(&mut self.events)
    }

    /// The writable layer's changes in `docker diff` terms.
    pub fn changes(&self) -> Vec<PathChange> {
        self.upper
            .as_ref()
            .map(|u| changes(u, &self.lower))
            .unwrap_or_default()
    }

    /// Makes the writable layer read-only (a build step's commit) and starts a new empty one.
    /// Returns the committed layer.
    pub fn commit(&mut self) -> Result<Arc<Layer>, FsError> {
        let upper = self
            .upper
            .replace(Layer::new())
            .ok_or_else(|| FsError::ReadOnly("/".into()))?;
        let layer = Arc::new(upper);
        if let Err(e) = Arc::make_mut(&mut self.lower).push(Arc::clone(&layer)) {
            self.upper = Some((*layer).clone());
            return Err(e);
        }
        Ok(layer)
    }

    /// Puts an already built layer (a build-cache hit) on top of the read-only layers. The
    /// writable layer must be empty.
    pub fn push_layer(&mut self, layer: Arc<Layer>) -> Result<(), FsError> {
        if self.upper.as_ref().is_some_and(|u| !u.is_empty()) {
            return Err(FsError::InvalidArgument("/".into()));
        }
        Arc::make_mut(&mut self.lower).push(layer)
    }

    // ----- lookup -----

    fn find(&self, p: &str) -> Option<(Loc, &Entry)> {
        if let Some(up) = &self.upper {
            match up.get(p) {
                Some(Change::Whiteout) => return None,
                Some(Change::Entry(e)) => return Some((Loc::Upper, e)),
                Some(Change::HardLink(_)) => return up.entry(p).map(|(_, e)| (Loc::Upper, e)),
                None if p.is_empty() => return Some((Loc::Upper, &ROOT)),
                None => {}
            }
        }
        if p.is_empty() {
            return Some((Loc::Upper, &ROOT));
        }
        self.lower_entry(p).map(|(i, e)| (Loc::Lower(i), e))
    }

    /// The entry the lower layers show at `p` through the writable layer's opaque dirs and
    /// whiteouts above it (overlayfs's "lower positive").
    fn lower_entry(&self, p: &str) -> Option<(usize, &Entry)> {
        // The index first: most paths looked up and not in the writable layer are not in the
        // lower layers either, and then the ancestors need no checking.
        let found = self.lower.entry(p)?;
        if self.upper.as_ref().is_some_and(|u| u.hides_below(p)) {
            return None;
        }
        Some(found)
    }

    /// Whether `dir` merges an upper and a lower directory (overlayfs's `OVL_TYPE_MERGE`).
    fn is_merge_dir(&self, dir: &str) -> bool {
        if dir.is_empty() {
            return !self.lower.is_empty();
        }
        let upper_plain_dir = self
            .upper
            .as_ref()
            .and_then(|u| u.entry(dir))
            .is_some_and(|(_, e)| matches!(e.kind, EntryKind::Dir { opaque: false }));
        upper_plain_dir && self.lower_entry(dir).is_some_and(|(_, e)| e.is_dir())
    }

    /// Resolves `user` to a root-relative path, following symlinks in every component but the
    /// last (and the last too when `follow_last`). The result may not exist; its parent does.
    fn resolve(&self, user: &str, follow_last: bool) -> Result<String, FsError> {
        match self.resolve_fast(user, follow_last) {
            Some((p, _)) => Ok(p),
            None => self.resolve_walk(user, follow_last),
        }
    }

    /// [`UnionFs::resolve`] and what is at the result (one lookup fewer than both apart).
    fn resolve_find(&self, user: &str, follow_last: bool) -> Result<Resolved<'_>, FsError> {
        if let Some(found) = self.resolve_fast(user, follow_last) {
            return Ok(found);
        }
        let p = self.resolve_walk(user, follow_last)?;
        let found = self.find(&p);
        Ok((p, found))
    }

    /// A clean path whose parent is a directory of the merged view has no symlink along the
    /// way there: every entry's parents are directories, in the writable layer and in the lower
    /// index. One or two lookups instead of one per component; `None` when the walk is needed.
    fn resolve_fast(&self, user: &str, follow_last: bool) -> Option<Resolved<'_>> {
        let follow_last = follow_last || user.ends_with('/');
        let clean = user.trim_start_matches('/');
        if !clean.is_empty()
            && clean
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
        {
            let parent = path::parent(clean);
            if parent.is_empty() || self.find(parent).is_some_and(|(_, e)| e.is_dir()) {
                match self.find(clean) {
                    Some((_, e)) if follow_last && matches!(e.kind, EntryKind::Symlink(_)) => {}
                    found => return Some((clean.to_owned(), found)),
                }
            }
        }
        None
    }

    /// [`UnionFs::resolve`] component by component, following symlinks.
    fn resolve_walk(&self, user: &str, follow_last: bool) -> Result<String, FsError> {
        let follow_last = follow_last || user.ends_with('/');
        let mut pending: Vec<String> = components(user).rev().map(str::to_owned).collect();
        // The resolved path so far, and where each of its components starts (for `..`).
        let mut resolved = String::new();
        let mut starts: Vec<usize> = Vec::new();
        let mut links = 0;
        while let Some(c) = pending.pop() {
            if c == ".." {
                if let Some(start) = starts.pop() {
                    resolved.truncate(start.saturating_sub(1));
                }
                continue;
            }
            let before = resolved.len();
            if !resolved.is_empty() {
                resolved.push('/');
            }
            starts.push(resolved.len());
            resolved.push_str(&c);
            let last = pending.is_empty();
            match self.find(&resolved).map(|(_, e)| &e.kind) {
                Some(EntryKind::Symlink(target)) if !last || follow_last => {
                    resolved.truncate(before);
                    starts.pop();
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(FsError::Loop(user.to_owned()));
                    }
                    if target.is_empty() {
                        return Err(FsError::NotFound(user.to_owned()));
                    }
                    if target.starts_with('/') {
                        resolved.clear();
                        starts.clear();
                    }
                    pending.extend(components(target).rev().map(str::to_owned));
                }
                Some(EntryKind::Dir { .. }) => {}
                Some(_) if !last => return Err(FsError::NotADirectory(user.to_owned())),
                None if !last => return Err(FsError::NotFound(user.to_owned())),
                _ => {}
            }
        }
        Ok(resolved)
    }

    /// Resolves `user` to an existing entry (borrowed: a large file is not copied to look at it).
    fn existing(&self, user: &str, follow: bool) -> Result<(String, Loc, &Entry), FsError> {
        let (p, found) = self.resolve_find(user, follow)?;
        let (loc, e) = found.ok_or_else(|| FsError::NotFound(user.to_owned()))?;
        Ok((p, loc, e))
    }

    fn stat_of(&self, p: &str, loc: Loc, e: &Entry) -> Stat {
        let nlink = match loc {
            _ if e.is_dir() => 1,
            Loc::Upper => self
                .upper
                .as_ref()
                .and_then(|u| u.entry(p).map(|(primary, _)| u.nlink(primary)))
                .unwrap_or(1),
            Loc::Lower(i) => {
                let l = &self.lower.layers()[i];
                l.entry(p).map_or(1, |(primary, _)| l.nlink(primary))
            }
        };
        Stat {
            file_type: e.file_type(),
            mode: e.meta.mode,
            uid: e.meta.uid,
            gid: e.meta.gid,
            mtime: e.meta.mtime,
            size: e.size(),
            nlink,
            layer: match loc {
                Loc::Upper => None,
                Loc::Lower(i) => Some(i),
            },
        }
    }

    /// `lstat`: what is at `path`, not following a final symlink.
    pub fn lstat(&self, path: &str) -> Result<Stat, FsError> {
        let (p, loc, e) = self.existing(path, false)?;
        Ok(self.stat_of(&p, loc, e))
    }

    /// `stat`: what `path` leads to, following symlinks.
    pub fn stat(&self, path: &str) -> Result<Stat, FsError> {
        let (p, loc, e) = self.existing(path, true)?;
        Ok(self.stat_of(&p, loc, e))
    }

    /// Whether `path` exists (a dangling symlink exists).
    pub fn exists(&self, path: &str) -> bool {
        self.lstat(path).is_ok()
    }

    /// The absolute path `path` leads to once every symlink is resolved (`realpath`).
    pub fn canonicalize(&self, path: &str) -> Result<String, FsError> {
        let (p, _, _) = self.existing(path, true)?;
        Ok(path::display(&p))
    }

    /// The content of the file `path` leads to.
    pub fn read(&self, path: &str) -> Result<&FileData, FsError> {
        let p = self.resolve(path, true)?;
        match self.find(&p).map(|(_, e)| &e.kind) {
            Some(EntryKind::File(data)) => Ok(data),
            Some(_) => Err(FsError::IsADirectory(path.to_owned())),
            None => Err(FsError::NotFound(path.to_owned())),
        }
    }

    /// The target of the symlink at `path`.
    pub fn read_link(&self, path: &str) -> Result<&str, FsError> {
        let p = self.resolve(path, false)?;
        match self.find(&p).map(|(_, e)| &e.kind) {
            Some(EntryKind::Symlink(target)) => Ok(target),
            Some(_) => Err(FsError::InvalidArgument(path.to_owned())),
            None => Err(FsError::NotFound(path.to_owned())),
        }
    }

    /// The merged listing of the directory `path` leads to, sorted by name.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let (p, _, e) = self.existing(path, true)?;
        if !e.is_dir() {
            return Err(FsError::NotADirectory(path.to_owned()));
        }
        Ok(self
            .children(&p)
            .into_iter()
            .map(|(name, file_type)| DirEntry { name, file_type })
            .collect())
    }

    fn children(&self, dir: &str) -> Vec<(String, FileType)> {
        let mut out: BTreeMap<String, Option<FileType>> = BTreeMap::new();
        let mut lower_visible = true;
        if let Some(up) = &self.upper {
            for (name, change) in up.children(dir) {
                let t = match change {
                    Change::Whiteout => None,
                    _ => up.entry(&path::join(dir, name)).map(|(_, e)| e.file_type()),
                };
                out.insert(name.to_owned(), t);
            }
            lower_visible = !up.entry(dir).is_some_and(|(_, e)| e.is_opaque());
        }
        if lower_visible
            && (dir.is_empty() || self.lower_entry(dir).is_some_and(|(_, e)| e.is_dir()))
        {
            for name in self.lower.children(dir) {
                if !out.contains_key(name) {
                    let t = self
                        .lower
                        .entry(&path::join(dir, name))
                        .map(|(_, e)| e.file_type());
                    out.insert(name.to_owned(), t);
                }
            }
        }
        out.into_iter()
            .filter_map(|(n, t)| t.map(|t| (n, t)))
            .collect()
    }

    /// Every entry at and below `path`, depth first in name order, with absolute paths; does
    /// not follow symlinks below `path`.
    pub fn walk(&self, path: &str) -> Result<Vec<(String, Stat)>, FsError> {
        let (p, loc, e) = self.existing(path, true)?;
        let mut out = vec![(path::display(&p), self.stat_of(&p, loc, e))];
        if e.is_dir() {
            self.walk_into(&p, &mut out);
        }
        Ok(out)
    }

    fn walk_into(&self, dir: &str, out: &mut Vec<(String, Stat)>) {
        for (name, t) in self.children(dir) {
            let p = path::join(dir, &name);
            if let Some((loc, e)) = self.find(&p) {
                out.push((path::display(&p), self.stat_of(&p, loc, e)));
            }
            if t == FileType::Dir {
                self.walk_into(&p, out);
            }
        }
    }

    // ----- changes -----

    fn upper_mut(&mut self, user: &str) -> Result<&mut Layer, FsError> {
        self.upper
            .as_mut()
            .ok_or_else(|| FsError::ReadOnly(user.to_owned()))
    }

    /// Makes sure the existing entry at `p` is in the writable layer, copying it (and its
    /// parent directories) up from the read-only layers if needed.
    fn copy_up(&mut self, p: &str) -> Result<(), FsError> {
        let upper = self.upper_mut(&path::display(p))?;
        if upper.get(p).is_some_and(|c| !matches!(c, Change::Whiteout)) {
            return Ok(());
        }
        if p.is_empty() {
            upper.insert("", ROOT.clone());
            return Ok(());
        }
        self.copy_up(path::parent(p))?;
        let Some((Loc::Lower(layer), e)) = self.find(p) else {
            return Err(FsError::NotFound(path::display(p)));
        };
        let mut e = e.clone();
        if let EntryKind::Dir { opaque } = &mut e.kind {
            *opaque = false;
        }
        let file_type = e.file_type();
        self.upper_mut(p)?.insert(p, e);
        self.events.push(FsEvent::CopyUp {
            path: path::display(p),
            from_layer: layer,
            file_type,
        });
        Ok(())
    }

    fn touch_dir(&mut self, dir: &str) {
        let now = self.now;
        if dir.is_empty() {
            return;
        }
        if let Some(e) = self.upper.as_mut().and_then(|u| u.entry_mut(dir)) {
            e.meta.mtime = now;
        }
    }

    fn new_meta(&self, mode: u32) -> Meta {
        Meta {
            mode: mode & 0o7777,
            uid: self.uid,
            gid: self.gid,
            mtime: self.now,
        }
    }

    /// Adds `entry` at `p`, where the merged view has nothing. A directory made over a whiteout
    /// in the writable layer is opaque, as overlayfs makes it.
    fn create(&mut self, p: &str, entry: Entry) -> Result<(), FsError> {
        let parent = path::parent(p);
        self.copy_up(parent)?;
        let is_dir = entry.is_dir();
        let old = self.upper_mut(p)?.replace(p.into(), entry);
        if is_dir && matches!(old, Some(Change::Whiteout)) {
            self.make_opaque(p);
        }
        self.touch_dir(parent);
        Ok(())
    }

    /// Marks the writable layer's directory `p` opaque, reporting it if it was not.
    fn make_opaque(&mut self, p: &str) {
        if let Some(EntryKind::Dir { opaque }) = self
            .upper
            .as_mut()
            .and_then(|u| u.entry_mut(p))
            .map(|e| &mut e.kind)
            && !*opaque
        {
            *opaque = true;
            self.events.push(FsEvent::OpaqueDir {
                path: path::display(p),
            });
        }
    }

    /// Removes `p` and everything below it from the writable layer, then whiteouts `p` if a
    /// lower layer still shows it.
    fn remove_resolved(&mut self, p: &str) -> Result<(), FsError> {
        let parent = path::parent(p);
        self.copy_up(parent)?;
        let upper = self.upper_mut(p)?;
        for k in upper.descendants(p).into_iter().rev() {
            upper.take(&k);
        }
        upper.take(p);
        if self.lower_entry(p).is_some() {
            self.upper_mut(p)?.insert_whiteout(p);
            self.events.push(FsEvent::Whiteout {
                path: path::display(p),
            });
        }
        self.touch_dir(parent);
        Ok(())
    }

    fn modify(
        &mut self,
        user: &str,
        follow: bool,
        f: impl FnOnce(&mut Entry),
    ) -> Result<(), FsError> {
        self.upper_mut(user)?;
        let (p, _, _) = self.existing(user, follow)?;
        self.copy_up(&p)?;
        let e = self
            .upper_mut(user)?
            .entry_mut(&p)
            .ok_or_else(|| FsError::NotFound(user.to_owned()))?;
        f(e);
        Ok(())
    }

    /// Writes `data` to the file `path` leads to, creating it with `mode` (and the current
    /// owner) if missing, replacing its content otherwise (`open(O_CREAT|O_TRUNC)` + `write`).
    pub fn write(&mut self, path: &str, data: &[u8], mode: u32) -> Result<(), FsError> {
        self.write_data(path, FileData::Bytes(data.to_vec()), mode)
    }

    /// [`UnionFs::write`] with real or simulated content.
    pub fn write_data(&mut self, path: &str, data: FileData, mode: u32) -> Result<(), FsError> {
        self.upper_mut(path)?;
        let p = self.resolve(path, true)?;
        match self.find(&p) {
            Some((_, e)) if e.is_dir() => Err(FsError::IsADirectory(path.to_owned())),
            Some(_) => {
                let now = self.now;
                self.modify(path, true, |e| {
                    e.kind = EntryKind::File(data);
                    e.meta.mtime = now;
                })
            }
            None => {
                let meta = self.new_meta(mode);
                self.create(
                    &p,
                    Entry {
                        meta,
                        kind: EntryKind::File(data),
                    },
                )
            }
        }
    }

    /// Appends to the file `path` leads to, creating it with mode 0644 if missing (`>>`).
    pub fn append(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        match self.stat(path) {
            Err(FsError::NotFound(_)) => return self.write(path, data, 0o644),
            Ok(s) if s.file_type == FileType::Dir => {
                return Err(FsError::IsADirectory(path.to_owned()));
            }
            _ => {}
        }
        let now = self.now;
        self.modify(path, true, |e| {
            if let EntryKind::File(d) = &mut e.kind {
                d.append(data);
                e.meta.mtime = now;
            }
        })
    }

    /// Cuts or zero-extends the file `path` leads to.
    pub fn truncate(&mut self, path: &str, len: u64) -> Result<(), FsError> {
        if self.stat(path)?.file_type == FileType::Dir {
            return Err(FsError::IsADirectory(path.to_owned()));
        }
        let now = self.now;
        self.modify(path, true, |e| {
            if let EntryKind::File(d) = &mut e.kind {
                d.truncate(len);
                e.meta.mtime = now;
            }
        })
    }

    /// Puts `entry` at `path` with its own metadata (what `COPY` and `ADD` do): a directory
    /// over a directory only takes the new metadata; anything else replaces what was there.
    pub fn put(&mut self, path: &str, entry: Entry) -> Result<(), FsError> {
        self.upper_mut(path)?;
        let p = self.resolve(path, false)?;
        if p.is_empty() {
            return Err(FsError::InvalidArgument(path.to_owned()));
        }
        match self.find(&p) {
            Some((_, old)) if old.is_dir() && entry.is_dir() => {
                self.modify(path, false, |e| e.meta = entry.meta)
            }
            Some(_) => {
                self.remove_resolved(&p)?;
                self.create(&p, entry)
            }
            None => self.create(&p, entry),
        }
    }

    /// Unpacks entries into the directory `dir` leads to (made with its parents, mode 0755, if
    /// missing), as a package manager unpacks an archive: each `(name, mode, kind)` replaces
    /// what is at the name, with the
    /// current owner and time, except that an existing directory stays (a new directory over
    /// it only takes the mode). `dir` is resolved once, so an entry costs a map insert, not a
    /// path walk: how a simulated `apt-get install` writes thousands of files. Returns, for
    /// each entry, whether it was written.
    pub fn unpack<'n>(
        &mut self,
        dir: &str,
        entries: impl IntoIterator<Item = (&'n str, u32, EntryKind)>,
    ) -> Result<Vec<bool>, FsError> {
        self.upper_mut(dir)?;
        let mut made = false;
        // The directory, where it was found and what it is; `None` for one made here.
        let (d, found) = match self.resolve_find(dir, true) {
            Ok((d, Some((loc, e)))) => (d, Some((loc, e.is_dir(), e.is_opaque()))),
            Ok((d, None)) => {
                // Missing, its parent a directory: what `mkdir_all` would make, made here.
                let meta = self.new_meta(0o755);
                self.create(&d, Entry::dir(meta))?;
                made = true;
                (d, None)
            }
            Err(_) => {
                self.mkdir_all(dir, 0o755)?;
                let (d, found) = self.resolve_find(dir, true)?;
                let (loc, e) = found.ok_or_else(|| FsError::NotADirectory(dir.to_owned()))?;
                (d, Some((loc, e.is_dir(), e.is_opaque())))
            }
        };
        // Only a directory the lower layers show can have entries there.
        let lower_visible = match found {
            // Made where the merged view had nothing: the lower layers have nothing below it,
            // or it is hidden.
            None => false,
            Some((_, false, _)) => return Err(FsError::NotADirectory(dir.to_owned())),
            // Found in a lower layer, it was visible through the writable layer (and its copy
            // is a plain directory).
            Some((Loc::Lower(_), true, _)) => {
                self.copy_up(&d)?;
                true
            }
            Some((Loc::Upper, true, opaque)) => {
                if d.is_empty() {
                    self.copy_up(&d)?;
                }
                !opaque
                    && (d.is_empty() || self.lower.dir_at(&d, &mut 0) == Some(true))
                    && !self.upper.as_ref().is_some_and(|u| u.hides_below(&d))
            }
        };
        let mut written = Vec::new();
        // Each entry's path is put together here and allocated once, as the layer's key.
        let mut joined = String::new();
        // Where the last entry was looked up in the lower index (the names come sorted).
        let mut cursor = 0;
        for (name, mode, kind) in entries {
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(FsError::InvalidArgument(name.to_owned()));
            }
            joined.clear();
            if !d.is_empty() {
                joined.push_str(&d);
                joined.push('/');
            }
            joined.push_str(name);
            let meta = self.new_meta(mode);
            let lower_dir = lower_visible
                .then(|| self.lower.dir_at(&joined, &mut cursor))
                .flatten();
            let mut p: Arc<str> = Arc::from(joined.as_str());
            let mut kind = kind;
            if lower_dir.is_none() {
                // Nothing below: if the writable layer has nothing there either, the entry
                // just goes in (one map search).
                match self
                    .upper_mut(dir)?
                    .insert_if_vacant(p, Entry { meta, kind })
                {
                    None => {
                        written.push(true);
                        continue;
                    }
                    Some((back, entry)) => (p, kind) = (back, entry.kind),
                }
            }
            let upper = self.upper_mut(dir)?;
            let existing_dir = match upper.get(&p) {
                Some(Change::Whiteout) => Some(false),
                Some(_) => upper.entry(&p).map(|(_, e)| e.is_dir()),
                None => lower_dir,
            };
            let is_dir = matches!(kind, EntryKind::Dir { .. });
            match existing_dir {
                Some(true) if is_dir => {
                    self.modify(&path::display(&p), false, |e| e.meta.mode = meta.mode)?;
                }
                Some(true) => {
                    written.push(false);
                    continue;
                }
                _ => {
                    let over_whiteout = matches!(upper.get(&p), Some(Change::Whiteout));
                    if is_dir && over_whiteout {
                        upper.insert(p.clone(), Entry { meta, kind });
                        self.make_opaque(&p);
                    } else {
                        upper.insert(p, Entry { meta, kind });
                    }
                }
            }
            written.push(true);
        }
        if !made {
            // (A directory made above already has the time.)
            self.touch_dir(&d);
        }
        Ok(written)
    }

    /// `mkdir`: fails if anything (even a dangling symlink) is at `path`.
    pub fn mkdir(&mut self, path: &str, mode: u32) -> Result<(), FsError> {
        self.upper_mut(path)?;
        let (p, found) = self.resolve_find(path, false)?;
        if found.is_some() {
            return Err(FsError::AlreadyExists(path.to_owned()));
        }
        let meta = self.new_meta(mode);
        self.create(&p, Entry::dir(meta))
    }

    /// `mkdir -p`: makes every missing directory along `path`. Tries the whole path first and
    /// climbs only on `ENOENT`, as coreutils and Rust's `create_dir_all` do, so the errors match.
    pub fn mkdir_all(&mut self, path: &str, mode: u32) -> Result<(), FsError> {
        let path = path.trim_end_matches('/');
        if components(path).next().is_none() || self.mkdir_all_fast(path, mode)? {
            return Ok(());
        }
        match self.mkdir(path, mode) {
            Ok(()) => return Ok(()),
            Err(FsError::NotFound(_)) => {}
            Err(e) => return if self.is_dir(path) { Ok(()) } else { Err(e) },
        }
        self.mkdir_all(path.rfind('/').map_or("", |i| &path[..i]), mode)?;
        match self.mkdir(path, mode) {
            Err(_) if self.is_dir(path) => Ok(()),
            r => r,
        }
    }

    /// [`UnionFs::mkdir_all`] for a clean path (no `.`, `..` or empty component) whose deepest
    /// existing ancestor is a directory: the missing levels are made downward from it, one
    /// lookup each, instead of a walk from the root for every level. `false` when the path
    /// needs the general way (a symlink or a file on it, not clean, read-only).
    fn mkdir_all_fast(&mut self, path: &str, mode: u32) -> Result<bool, FsError> {
        let clean = path.trim_start_matches('/');
        if self.upper.is_none()
            || clean
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Ok(false);
        }
        // Every entry's parents are directories: the first ancestor found is reached without
        // a symlink, and if it is a directory, nothing is below it on the way down.
        let mut existing = clean;
        loop {
            match self.find(existing) {
                Some((_, e)) if e.is_dir() => break,
                Some(_) => return Ok(false),
                None => existing = path::parent(existing),
            }
        }
        let mut end = existing.len();
        while end < clean.len() {
            let start = if end == 0 { 0 } else { end + 1 };
            end = clean[start..].find('/').map_or(clean.len(), |i| start + i);
            let meta = self.new_meta(mode);
            self.create(&clean[..end], Entry::dir(meta))?;
        }
        Ok(true)
    }

    fn is_dir(&self, path: &str) -> bool {
        self.stat(path).is_ok_and(|s| s.file_type == FileType::Dir)
    }

    /// `symlink(target, path)`.
    pub fn symlink(&mut self, target: &str, path: &str) -> Result<(), FsError> {
        self.upper_mut(path)?;
        let p = self.resolve(path, false)?;
        if self.find(&p).is_some() {
            return Err(FsError::AlreadyExists(path.to_owned()));
        }
        let meta = self.new_meta(0o777);
        self.create(&p, Entry::symlink(meta, target))
    }

    /// `link(existing, new)`: a second name for a non-directory (not following a final
    /// symlink, as Linux `link`). Copies `existing` up first, as overlayfs does.
    pub fn hardlink(&mut self, existing: &str, new: &str) -> Result<(), FsError> {
        self.upper_mut(new)?;
        let (src, _, e) = self.existing(existing, false)?;
        let dst = self.resolve(new, false)?;
        if self.find(&dst).is_some() {
            return Err(FsError::AlreadyExists(new.to_owned()));
        }
        if e.is_dir() {
            return Err(FsError::NotPermitted(existing.to_owned()));
        }
        self.copy_up(&src)?;
        let parent = path::parent(&dst);
        self.copy_up(parent)?;
        let upper = self.upper_mut(new)?;
        upper.take(&dst);
        upper.insert_hardlink(dst.clone(), &src);
        self.touch_dir(parent);
        Ok(())
    }

    /// `unlink` or `rmdir`: removes a file, symlink or empty directory.
    pub fn remove(&mut self, path: &str) -> Result<(), FsError> {
        self.upper_mut(path)?;
        let (p, _, e) = self.existing(path, false)?;
        if p.is_empty() {
            return Err(FsError::NotPermitted(path.to_owned()));
        }
        if e.is_dir() && !self.children(&p).is_empty() {
            return Err(FsError::DirectoryNotEmpty(path.to_owned()));
        }
        self.remove_resolved(&p)
    }

    /// `rm -r`: removes `path` and everything below it.
    pub fn remove_all(&mut self, path: &str) -> Result<(), FsError> {
        self.upper_mut(path)?;
        let (p, _, _) = self.existing(path, false)?;
        if p.is_empty() {
            return Err(FsError::NotPermitted(path.to_owned()));
        }
        self.remove_resolved(&p)
    }

    /// `mv from to` (`rename`, not following symlinks). A directory that has content in the
    /// read-only layers cannot be renamed by overlayfs without `redirect_dir` (`EXDEV`); like
    /// `mv`, it is then copied with its metadata and the original removed.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        self.upper_mut(from)?;
        let (src, _, e) = self.existing(from, false)?;
        let dst = self.resolve(to, false)?;
        if src.is_empty() || dst.is_empty() {
            return Err(FsError::NotPermitted(from.to_owned()));
        }
        if src == dst {
            return Ok(());
        }
        if path::is_under(&dst, &src) {
            return Err(FsError::InvalidArgument(to.to_owned()));
        }
        if path::is_under(&src, &dst) {
            return Err(FsError::DirectoryNotEmpty(to.to_owned()));
        }
        if let Some((dst_loc, d)) = self.find(&dst) {
            let (src_loc, _) = self
                .find(&src)
                .ok_or_else(|| FsError::NotFound(from.to_owned()))?;
            if !e.is_dir()
                && src_loc == Loc::Upper
                && dst_loc == Loc::Upper
                && self.inode_key(&src, src_loc) == self.inode_key(&dst, dst_loc)
            {
                // Two names of one file: rename does nothing, as POSIX says. (Hard links in a
                // read-only layer are distinct inodes to overlayfs with `index=off`.)
                return Ok(());
            }
            match (e.is_dir(), d.is_dir()) {
                (true, false) => return Err(FsError::NotADirectory(to.to_owned())),
                (false, true) => return Err(FsError::IsADirectory(to.to_owned())),
                (true, true) if !self.children(&dst).is_empty() => {
                    self.opaque_before_failed_rename(&src, &dst);
                    return Err(FsError::DirectoryNotEmpty(to.to_owned()));
                }
                _ => {}
            }
        }
        if !e.is_dir() || self.can_move_dir(&src) {
            self.rename_in_upper(&src, &dst, e.is_dir())
        } else {
            // `mv` removes an (empty) target directory before moving into its place.
            if self.find(&dst).is_some() {
                self.remove_resolved(&dst)?;
            }
            self.move_tree(&src, &dst)
        }
    }

    /// Whether overlayfs can rename the directory `p` itself: only if it lives in the writable
    /// layer alone (`redirect_dir=off`).
    fn can_move_dir(&self, p: &str) -> bool {
        match self.upper.as_ref().and_then(|u| u.entry(p)) {
            Some((_, e)) if e.is_opaque() => true,
            Some(_) => self.lower_entry(p).is_none(),
            None => false,
        }
    }

    /// What `mv` does when `rename` fails with `EXDEV`: make the target directory, move each
    /// child (renaming what can be renamed, recursing into the rest), give the target the
    /// source's metadata, then remove the source.
    fn move_tree(&mut self, src: &str, dst: &str) -> Result<(), FsError> {
        let meta = self
            .find(src)
            .ok_or_else(|| FsError::NotFound(path::display(src)))?
            .1
            .meta;
        self.create(dst, Entry::dir(meta))?;
        for (name, file_type) in self.children(src) {
            let (from, to) = (path::join(src, &name), path::join(dst, &name));
            if file_type == FileType::Dir && !self.can_move_dir(&from) {
                self.move_tree(&from, &to)?;
            } else {
                self.rename_in_upper(&from, &to, file_type == FileType::Dir)?;
            }
        }
        if let Some(d) = self.upper_mut(dst)?.entry_mut(dst) {
            d.meta = meta;
        }
        self.remove_resolved(src)
    }

    /// overlayfs marks a writable-layer directory opaque on its way into a merged parent
    /// before the upper filesystem finds that the target (also only in the writable layer) is
    /// not empty, and leaves the mark when the rename fails. Reproduced so layers match.
    fn opaque_before_failed_rename(&mut self, src: &str, dst: &str) {
        if !self.can_move_dir(src)
            || !self.can_move_dir(dst)
            || !self.is_merge_dir(path::parent(dst))
        {
            return;
        }
        self.make_opaque(src);
    }

    fn rename_in_upper(&mut self, src: &str, dst: &str, is_dir: bool) -> Result<(), FsError> {
        self.copy_up(src)?;
        let dst_parent = path::parent(dst);
        self.copy_up(dst_parent)?;
        let upper = self.upper_mut(dst)?;
        for k in upper.descendants(dst).into_iter().rev() {
            upper.take(&k);
        }
        upper.take(dst);
        for k in upper.descendants(src) {
            upper.move_path(&k, &format!("{dst}{}", &k[src.len()..]));
        }
        upper.move_path(src, dst);
        if is_dir && self.is_merge_dir(dst_parent) {
            self.make_opaque(dst);
        }
        if self.lower_entry(src).is_some() {
            self.upper_mut(src)?.insert_whiteout(src);
            self.events.push(FsEvent::Whiteout {
                path: path::display(src),
            });
        }
        self.touch_dir(path::parent(src));
        self.touch_dir(dst_parent);
        Ok(())
    }

    /// The path holding the inode behind `p` in its layer (hard links share it).
    fn inode_key(&self, p: &str, loc: Loc) -> String {
        let layer = match loc {
            Loc::Upper => self.upper.as_ref(),
            Loc::Lower(i) => self.lower.layers().get(i).map(AsRef::as_ref),
        };
        layer
            .and_then(|l| l.entry(p))
            .map_or_else(|| p.to_owned(), |(primary, _)| primary.to_owned())
    }

    /// `chmod` (follows symlinks): copies the entry up and sets its permission bits.
    pub fn chmod(&mut self, path: &str, mode: u32) -> Result<(), FsError> {
        self.modify(path, true, |e| e.meta.mode = mode & 0o7777)
    }

    /// `chown` (follows symlinks): copies the entry up and sets its owner.
    /// Like Linux, changing the owner of a non-directory clears its setuid bit, and its setgid
    /// bit when group execution is allowed.
    pub fn chown(&mut self, path: &str, uid: u32, gid: u32) -> Result<(), FsError> {
        self.modify(path, true, |e| set_owner(e, uid, gid))
    }

    /// `lchown`: like [`UnionFs::chown`] on the symlink itself.
    pub fn lchown(&mut self, path: &str, uid: u32, gid: u32) -> Result<(), FsError> {
        self.modify(path, false, |e| set_owner(e, uid, gid))
    }

    /// `touch -d` (follows symlinks): copies the entry up and sets its modification time.
    pub fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<(), FsError> {
        self.modify(path, true, |e| e.meta.mtime = mtime)
    }
}

fn set_owner(e: &mut Entry, uid: u32, gid: u32) {
    e.meta.uid = uid;
    e.meta.gid = gid;
    if !e.is_dir() {
        e.meta.mode &= !0o4000;
        if e.meta.mode & 0o010 != 0 {
            e.meta.mode &= !0o2000;
        }
    }
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}
