//! Streaming a layer tar into the store: one pass over the bytes as they arrive (a download, a
//! file of an archive) that hashes the uncompressed tar for its diff_id, keeps a copy of it for
//! `save` and `push`, and unpacks it into a directory in overlayfs' form, with no in-memory
//! [`Layer`](layerbox_core::fs::Layer) of the files' contents.
//!
//! The rules are those of the core's [`read_layer`](layerbox_core::fs::tar::read_layer) followed
//! by [`write_layer_dir`](crate::linux::write_layer_dir), applied member by member: names cleaned
//! below the root and `..` above it refused, OCI whiteouts (and 0/0 character devices) written as
//! overlayfs whiteouts, `.wh..wh..opq` as the opaque xattr, a later member replacing an earlier
//! one at the same path, hard links only to files earlier in the archive, nothing written
//! through a symlink (a member below a non-directory is refused, and every file is created anew),
//! directories' metadata set last, children first.
//!
//! Layers are unpacked into a [`Staging`] directory below the store's `tmp/`, which its owner
//! keeps locked: `system check` leaves a locked one alone and removes one a crash left. Only
//! once every digest is right are the tars and directories renamed into the store
//! ([`Store::commit_image`](super::Store::commit_image)).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use layerbox_core::fs::Meta;
use layerbox_core::fs::tar::{OPAQUE_WHITEOUT, TarError, WHITEOUT_PREFIX};
use layerbox_core::image::{Digest, DigestWriter};

use super::{IngestError, Store, StoreError, at};
use crate::linux::layerdir::{mark_opaque, rootless, set_meta};

/// A directory below the store's `tmp/` where layers are unpacked before they are renamed into
/// the store, locked (`flock`) while this value lives and removed when it is dropped.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    _lock: File,
}

/// A layer unpacked into a [`Staging`] directory, its diff_id verified.
#[derive(Debug)]
pub struct StagedLayer {
    /// The sha256 of its uncompressed tar.
    pub diff_id: Digest,
    /// Its size in docker's sense (file bytes and symlink targets, hard links once).
    pub size: u64,
    /// The uncompressed tar or its skeleton.
    pub(crate) tar: TarKept,
    /// The unpacked directory, to be renamed to `layers/<diff_id>`.
    pub(crate) dir: PathBuf,
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = super::remove_tree(&self.dir);
    }
}

/// Whether a temporary directory of the store is a live [`Staging`] (its owner holds its lock).
pub(crate) fn in_use(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| {
        rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockShared).is_err()
    })
}

impl Store {
    /// A new staging directory for the layers of one image (no store lock needed: nothing
    /// else uses its name, and `system check` leaves it alone while it is locked).
    pub fn staging(&self) -> Result<Staging, StoreError> {
        let dir = self.root.join("tmp").join(super::tmp_name("stage"));
        std::fs::create_dir(&dir).map_err(at(&dir))?;
        let lock = File::open(&dir).and_then(|f| {
            rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
            Ok(f)
        });
        match lock {
            Ok(f) => Ok(Staging { dir, _lock: f }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(at(&dir)(e))
            }
        }
    }
}

/// A reader that hashes what is read through it (and copies it to a file).
pub(crate) struct Tee<R> {
    inner: R,
    /// The digest and length of what was read.
    pub(crate) hasher: DigestWriter,
    copy: Option<io::BufWriter<File>>,
    /// A failed write of the copy: a disk error, not a bad tar.
    copy_error: Option<io::Error>,
    /// Where the bytes that are not file contents go, when the tar is kept as a skeleton.
    split: Option<Rc<RefCell<Skeleton>>>,
}

impl<R> Tee<R> {
    /// Hashes what `inner` gives.
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: DigestWriter::new(),
            copy: None,
            copy_error: None,
            split: None,
        }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if let Some(split) = &self.split {
            split.borrow_mut().raw(&buf[..n]);
        }
        if let Some(f) = &mut self.copy
            && let Err(e) = f.write_all(&buf[..n])
        {
            self.copy = None;
            self.copy_error = Some(e);
            return Err(io::Error::other("the layer's copy could not be written"));
        }
        Ok(n)
    }
}

/// A layer's tar kept without the file contents its unpacked directory holds (docker keeps
/// the same, as `tar-split`): the headers, padding and end blocks as they came, and for each
/// regular file the path whose bytes go there. [`split_reader`] gives the tar back, byte for
/// byte; its digest is checked again whenever it is.
#[derive(Debug, Default)]
struct Skeleton {
    segments: Vec<Segment>,
    /// The tar reader is in a file's contents: they are on disk, not kept here.
    content: bool,
    /// The paths the segments refer to.
    referenced: std::collections::BTreeSet<String>,
}

#[derive(Debug)]
enum Segment {
    Raw(Vec<u8>),
    File { path: String, len: u64 },
}

impl Skeleton {
    fn raw(&mut self, bytes: &[u8]) {
        if self.content || bytes.is_empty() {
            return;
        }
        if let Some(Segment::Raw(last)) = self.segments.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.segments.push(Segment::Raw(bytes.to_vec()));
        }
    }

    /// Before the file at `p` (or anything below it) goes: its contents become raw bytes.
    fn keep_contents(&mut self, root: &Path, p: &str) -> io::Result<()> {
        let prefix = format!("{p}/");
        let hit = self.referenced.contains(p)
            || self
                .referenced
                .range(prefix.clone()..)
                .next()
                .is_some_and(|r| r.starts_with(&prefix));
        if !hit {
            return Ok(());
        }
        for segment in &mut self.segments {
            if let Segment::File { path, .. } = segment
                && (path == p || path.starts_with(&prefix))
            {
                self.referenced.remove(path.as_str());
                *segment = Segment::Raw(std::fs::read(root.join(&*path))?);
            }
        }
        Ok(())
    }

    /// `[0][len u64][bytes]` for raw bytes, `[1][len u64][path len u32][path]` for a file.
    fn write(&self, to: &Path) -> io::Result<()> {
        let mut w = io::BufWriter::new(File::create(to)?);
        for segment in &self.segments {
            match segment {
                Segment::Raw(bytes) => {
                    w.write_all(&[0])?;
                    w.write_all(&(bytes.len() as u64).to_le_bytes())?;
                    w.write_all(bytes)?;
                }
                Segment::File { path, len } => {
                    w.write_all(&[1])?;
                    w.write_all(&len.to_le_bytes())?;
                    let name = u32::try_from(path.len()).map_err(io::Error::other)?;
                    w.write_all(&name.to_le_bytes())?;
                    w.write_all(path.as_bytes())?;
                }
            }
        }
        w.flush()
    }
}

/// The tar of a layer kept as a skeleton (`split`), its file contents read from `dir`.
pub(crate) fn split_reader(split: &Path, dir: &Path) -> io::Result<SplitReader> {
    Ok(SplitReader {
        skeleton: std::fs::read(split)?,
        pos: 0,
        dir: dir.to_owned(),
        raw_left: 0,
        file: None,
    })
}

/// See [`split_reader`].
pub(crate) struct SplitReader {
    skeleton: Vec<u8>,
    pos: usize,
    dir: PathBuf,
    raw_left: usize,
    file: Option<(io::Take<File>, u64)>,
}

impl SplitReader {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let bytes = self
            .skeleton
            .get(self.pos..self.pos + n)
            .ok_or_else(|| io::Error::other("a layer's tar skeleton is cut short"))?;
        self.pos += n;
        Ok(bytes)
    }

    fn number(&mut self, n: usize) -> io::Result<u64> {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(self.take(n)?);
        Ok(u64::from_le_bytes(b))
    }
}

impl Read for SplitReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some((file, left)) = &mut self.file {
                if *left > 0 {
                    let n = file.read(buf)?;
                    if n == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    *left -= n as u64;
                    return Ok(n);
                }
                self.file = None;
            }
            if self.raw_left > 0 {
                let n = self.raw_left.min(buf.len());
                buf[..n].copy_from_slice(&self.skeleton[self.pos..self.pos + n]);
                self.pos += n;
                self.raw_left -= n;
                return Ok(n);
            }
            if self.pos == self.skeleton.len() {
                return Ok(0);
            }
            let tag = self.take(1)?[0];
            let len = self.number(8)?;
            if tag == 0 {
                self.raw_left = usize::try_from(len).map_err(io::Error::other)?;
                if self.pos + self.raw_left > self.skeleton.len() {
                    return Err(io::Error::other("a layer's tar skeleton is cut short"));
                }
            } else {
                let name = usize::try_from(self.number(4)?).map_err(io::Error::other)?;
                let path = String::from_utf8_lossy(self.take(name)?).into_owned();
                let file = File::open(self.dir.join(path))?;
                self.file = Some((file.take(len), len));
            }
        }
    }
}

impl Staging {
    /// Unpacks layer `index` (a plain or gzipped tar read once from `reader`) and keeps its
    /// tar, checking it against `diff_id`. With `source`, the file `reader` reads: when it
    /// holds the plain tar it becomes the blob itself (moved, not copied).
    pub fn layer(
        &self,
        index: usize,
        reader: impl Read,
        diff_id: &Digest,
        source: Option<&Path>,
    ) -> Result<StagedLayer, IngestError> {
        let keep = source.map_or(Keep::Copy, Keep::Move);
        self.staged(index, Box::new(reader), diff_id, keep)
    }

    /// [`Staging::layer`] keeping the tar as a skeleton beside the unpacked files (a pull: the
    /// file contents are written once), given back in full by [`Store::layer_tar`] when `save`
    /// or `push` needs it.
    pub fn layer_split(
        &self,
        index: usize,
        reader: impl Read,
        diff_id: &Digest,
    ) -> Result<StagedLayer, IngestError> {
        // rootless, a file of mode 000 could not be read back: the tar is copied
        let keep = if rootless() { Keep::Copy } else { Keep::Split };
        self.staged(index, Box::new(reader), diff_id, keep)
    }

    fn staged(
        &self,
        index: usize,
        reader: Box<dyn Read + '_>,
        diff_id: &Digest,
        keep: Keep<'_>,
    ) -> Result<StagedLayer, IngestError> {
        let staged = self.unpack_layer((index, diff_id), reader, keep);
        if staged.is_err() {
            // another try of the same layer starts afresh
            let _ = super::remove_tree(&self.dir.join(diff_id.hex()));
            for end in ["tar", "split"] {
                let _ = std::fs::remove_file(self.dir.join(format!("{}.{end}", diff_id.hex())));
            }
        }
        staged
    }

    fn unpack_layer(
        &self,
        (index, diff_id): (usize, &Digest),
        reader: Box<dyn Read + '_>,
        keep: Keep<'_>,
    ) -> Result<StagedLayer, IngestError> {
        let broken = |source: TarError| IngestError::Layer { index, source };
        let mut buffered = BufReader::with_capacity(256 * 1024, reader);
        let gzipped = buffered
            .fill_buf()
            .map_err(|e| broken(e.into()))?
            .starts_with(&[0x1f, 0x8b]);
        let tar_copy = self.dir.join(format!("{}.tar", diff_id.hex()));
        let copy = match keep {
            Keep::Split => None,
            Keep::Move(_) if !gzipped => None,
            _ => Some(io::BufWriter::with_capacity(
                1 << 20,
                File::create(&tar_copy).map_err(at(&tar_copy))?,
            )),
        };
        let split = matches!(keep, Keep::Split).then(|| Rc::new(RefCell::new(Skeleton::default())));
        let input: Box<dyn Read> = if gzipped {
            Box::new(flate2::read::MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut tee = Tee {
            copy,
            split: split.clone(),
            ..Tee::new(input)
        };
        let dir = self.dir.join(diff_id.hex());
        std::fs::create_dir(&dir).map_err(at(&dir))?;
        let mut unpacker = Unpacker::new(&dir);
        unpacker.split.clone_from(&split);
        // no buffer between: a skeleton needs to know which bytes the tar reader takes as
        // file contents
        let unpacked = unpacker.unpack(&mut tee);
        // what follows the tar's end (its zero blocks, padding) is part of the diff_id
        let drained = unpacked.and_then(|()| {
            io::copy(&mut tee, &mut io::sink())
                .map(drop)
                .map_err(|e| UnpackError::Tar(e.into()))
        });
        let flushed = tee.copy.as_mut().map_or(Ok(()), Write::flush);
        if let Some(e) = tee.copy_error.take().or(flushed.err()) {
            return Err(at(&tar_copy)(e).into());
        }
        match drained {
            Err(UnpackError::Tar(e)) => return Err(broken(e)),
            Err(UnpackError::Io { path, source }) => {
                return Err(StoreError::Io { path, source }.into());
            }
            Ok(()) => {}
        }
        let actual = tee.hasher.finish();
        if actual != *diff_id {
            return Err(IngestError::DiffId {
                index,
                expected: *diff_id,
                actual,
            });
        }
        let size = unpacker.finish().map_err(|e| match e {
            UnpackError::Tar(e) => broken(e),
            UnpackError::Io { path, source } => StoreError::Io { path, source }.into(),
        })?;
        let tar = match (keep, tee.copy, split) {
            (_, _, Some(skeleton)) => {
                let path = self.dir.join(format!("{}.split", diff_id.hex()));
                skeleton.borrow().write(&path).map_err(at(&path))?;
                TarKept::Split(path)
            }
            (Keep::Move(path), None, None) => TarKept::Tar(path.to_owned()),
            _ => TarKept::Tar(tar_copy),
        };
        Ok(StagedLayer {
            diff_id: *diff_id,
            size,
            tar,
            dir,
        })
    }
}

/// How [`Staging`] keeps a layer's tar.
enum Keep<'a> {
    /// A copy of the uncompressed tar.
    Copy,
    /// The input file itself when it is the plain tar (else a copy).
    Move(&'a Path),
    /// A skeleton without the file contents.
    Split,
}

/// The tar of a [`StagedLayer`]: a file holding it, or a skeleton.
#[derive(Debug)]
pub(crate) enum TarKept {
    /// To be renamed to `blobs/sha256/<diff_id>`.
    Tar(PathBuf),
    /// To be renamed to `tarsplit/<diff_id>`.
    Split(PathBuf),
}

/// A failure while unpacking: the tar (what came in) or the disk (where it goes).
#[derive(Debug)]
enum UnpackError {
    Tar(TarError),
    Io { path: PathBuf, source: io::Error },
}

impl From<TarError> for UnpackError {
    fn from(e: TarError) -> Self {
        Self::Tar(e)
    }
}

fn tar_err(e: io::Error) -> UnpackError {
    UnpackError::Tar(e.into())
}

/// What the unpacker has written at a path.
#[derive(Debug, Clone, Copy)]
enum Node {
    /// A directory, its metadata set at the end.
    Dir { meta: Meta, opaque: bool },
    /// A file or symlink: `ino` tells hard links apart (counted once in the size).
    Data { ino: u64, size: u64 },
    /// A whiteout.
    Whiteout,
}

/// Unpacks one tar into an empty directory, member by member.
struct Unpacker<'a> {
    root: &'a Path,
    nodes: BTreeMap<String, Node>,
    next_ino: u64,
    buf: Vec<u8>,
    split: Option<Rc<RefCell<Skeleton>>>,
}

fn parent(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// A member name made relative and clean (`./a//b` is `a/b`), as the core's tar reader does;
/// `..` that climbs out of the root is refused.
fn clean(name: &str) -> Result<String, TarError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(TarError::Breakout(name.to_owned()));
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

fn utf8(p: &Path) -> Result<&str, TarError> {
    p.to_str().ok_or(TarError::NotUtf8)
}

impl<'a> Unpacker<'a> {
    fn new(root: &'a Path) -> Self {
        Self {
            root,
            nodes: BTreeMap::new(),
            next_ino: 0,
            buf: vec![0; 1 << 20],
            split: None,
        }
    }

    fn io(&self, p: &str) -> impl FnOnce(io::Error) -> UnpackError {
        let path = self.root.join(p);
        move |source| UnpackError::Io { path, source }
    }

    fn unpack(&mut self, reader: impl Read) -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(reader);
        for member in archive.entries().map_err(tar_err)? {
            self.member(&mut member.map_err(tar_err)?)?;
        }
        Ok(())
    }

    /// Sets the directories' opaque marks and metadata (children first: adding a child
    /// changes a directory's mtime) and returns the layer's size.
    fn finish(self) -> Result<u64, UnpackError> {
        for (p, node) in self.nodes.iter().rev() {
            if let Node::Dir { meta, opaque } = node {
                let path = self.root.join(p);
                if *opaque {
                    mark_opaque(&path).map_err(self.io(p))?;
                }
                set_meta(&path, meta, true).map_err(|e| self.io(p)(io::Error::other(e)))?;
            }
        }
        let mut seen = HashSet::new();
        Ok(self
            .nodes
            .values()
            .map(|n| match n {
                Node::Data { ino, size } if seen.insert(*ino) => *size,
                _ => 0,
            })
            .sum())
    }

    fn new_ino(&mut self) -> u64 {
        self.next_ino += 1;
        self.next_ino
    }

    fn member<R: Read>(&mut self, member: &mut tar::Entry<'_, R>) -> Result<(), UnpackError> {
        let raw_name = utf8(&member.path().map_err(tar_err)?)?.to_owned();
        let p = clean(&raw_name)?;
        let h = member.header();
        let kind = h.entry_type();
        let meta = Meta {
            mode: h.mode().map_err(tar_err)? & 0o7777,
            uid: u32::try_from(h.uid().map_err(tar_err)?).unwrap_or(u32::MAX),
            gid: u32::try_from(h.gid().map_err(tar_err)?).unwrap_or(u32::MAX),
            mtime: i64::try_from(h.mtime().map_err(tar_err)?).unwrap_or(i64::MAX),
        };
        if p.is_empty() {
            return Ok(());
        }
        let base = p.rsplit('/').next().unwrap_or_default();
        if let Some(hidden) = base.strip_prefix(WHITEOUT_PREFIX) {
            self.ensure_parents(&p)?;
            let dir = parent(&p);
            if base == OPAQUE_WHITEOUT {
                if let Some(Node::Dir { opaque, .. }) = self.nodes.get_mut(dir) {
                    *opaque = true;
                }
            } else if !hidden.starts_with(WHITEOUT_PREFIX) {
                self.whiteout(&join(dir, hidden))?;
            }
            return Ok(());
        }
        let link_name = |member: &tar::Entry<'_, R>, what: &str| {
            let target = member
                .link_name()
                .map_err(tar_err)?
                .ok_or_else(|| TarError::Malformed(format!("{what} `{raw_name}` has no target")))?;
            Ok::<_, UnpackError>(utf8(&target)?.to_owned())
        };
        match kind {
            tar::EntryType::Directory => {
                self.ensure_parents(&p)?;
                if let Some(Node::Dir { meta: old, .. }) = self.nodes.get_mut(&p) {
                    // listed twice: keeps its opaque mark, takes the later metadata
                    *old = meta;
                } else {
                    self.remove(&p)?;
                    std::fs::create_dir(self.root.join(&p)).map_err(self.io(&p))?;
                    self.nodes.insert(
                        p,
                        Node::Dir {
                            meta,
                            opaque: false,
                        },
                    );
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                self.ensure_parents(&p)?;
                self.remove(&p)?;
                // a sparse file's bytes on disk are not those of the tar: they stay in it
                let split = self
                    .split
                    .clone()
                    .filter(|_| kind != tar::EntryType::GNUSparse);
                if let Some(s) = &split {
                    s.borrow_mut().content = true;
                }
                let written = self.write_file(&p, member, &meta);
                if let Some(s) = &split {
                    let mut s = s.borrow_mut();
                    s.content = false;
                    if let Ok(len) = written {
                        s.segments.push(Segment::File {
                            path: p.clone(),
                            len,
                        });
                        s.referenced.insert(p.clone());
                    }
                }
                let size = written?;
                let ino = self.new_ino();
                self.nodes.insert(p, Node::Data { ino, size });
            }
            tar::EntryType::Symlink => {
                let target = link_name(member, "symlink")?;
                self.ensure_parents(&p)?;
                self.remove(&p)?;
                let path = self.root.join(&p);
                std::os::unix::fs::symlink(&target, &path).map_err(self.io(&p))?;
                set_meta(&path, &meta, false).map_err(|e| self.io(&p)(io::Error::other(e)))?;
                let ino = self.new_ino();
                let size = target.len() as u64;
                self.nodes.insert(p, Node::Data { ino, size });
            }
            tar::EntryType::Link => {
                let target = link_name(member, "hard link")?;
                let cleaned = clean(&target)?;
                self.ensure_parents(&p)?;
                let Some(Node::Data { ino, size }) = self.nodes.get(&cleaned).copied() else {
                    return Err(TarError::BadHardLink(raw_name, target).into());
                };
                if cleaned == p {
                    return Err(TarError::BadHardLink(raw_name, target).into());
                }
                if matches!(self.nodes.get(&p), Some(Node::Data { ino: i, .. }) if *i == ino) {
                    // a second link between the same two names
                    return Ok(());
                }
                self.remove(&p)?;
                std::fs::hard_link(self.root.join(&cleaned), self.root.join(&p))
                    .map_err(self.io(&p))?;
                self.nodes.insert(p, Node::Data { ino, size });
            }
            tar::EntryType::Char
                if h.device_major().map_err(tar_err)? == Some(0)
                    && h.device_minor().map_err(tar_err)? == Some(0) =>
            {
                self.ensure_parents(&p)?;
                self.whiteout(&p)?;
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                return Err(TarError::Unsupported(raw_name).into());
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks that the ancestors of `p` are directories of this layer, making the missing
    /// ones (mode 0755, root's, as the core's reader adds them).
    fn ensure_parents(&mut self, p: &str) -> Result<(), UnpackError> {
        for (i, _) in p.match_indices('/') {
            let a = &p[..i];
            match self.nodes.get(a) {
                Some(Node::Dir { .. }) => {}
                None => {
                    std::fs::create_dir(self.root.join(a)).map_err(self.io(a))?;
                    let meta = Meta::new(0o755, 0);
                    self.nodes.insert(
                        a.to_owned(),
                        Node::Dir {
                            meta,
                            opaque: false,
                        },
                    );
                }
                Some(_) => {
                    return Err(TarError::ParentNotDirectory(p.to_owned(), a.to_owned()).into());
                }
            }
        }
        Ok(())
    }

    /// Removes what an earlier member put at `p` (a directory with everything below it).
    fn remove(&mut self, p: &str) -> Result<(), UnpackError> {
        let path = self.root.join(p);
        if let Some(s) = &self.split {
            s.borrow_mut()
                .keep_contents(self.root, p)
                .map_err(self.io(p))?;
        }
        match self.nodes.remove(p) {
            None => Ok(()),
            Some(Node::Dir { .. }) => {
                let prefix = format!("{p}/");
                let below: Vec<String> = self
                    .nodes
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in below {
                    self.nodes.remove(&k);
                }
                std::fs::remove_dir_all(&path).map_err(self.io(p))
            }
            Some(_) => std::fs::remove_file(&path).map_err(self.io(p)),
        }
    }

    /// An overlayfs whiteout at `p`: a character device 0/0.
    fn whiteout(&mut self, p: &str) -> Result<(), UnpackError> {
        self.remove(p)?;
        rustix::fs::mknodat(
            rustix::fs::CWD,
            self.root.join(p),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::empty(),
            0,
        )
        .map_err(|e| self.io(p)(e.into()))?;
        self.nodes.insert(p.to_owned(), Node::Whiteout);
        Ok(())
    }

    /// Writes a regular file from the member's data (created anew: never through a symlink)
    /// and sets its owner, mode and mtime. Returns its length.
    fn write_file<R: Read>(
        &mut self,
        p: &str,
        member: &mut tar::Entry<'_, R>,
        meta: &Meta,
    ) -> Result<u64, UnpackError> {
        let mut f = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits().cast_signed())
            .open(self.root.join(p))
            .map_err(self.io(p))?;
        let mut len = 0u64;
        // whole buffers: a decompressor gives a few KiB a read, a write each costs
        let mut end = false;
        while !end {
            let mut filled = 0;
            while filled < self.buf.len() {
                match member.read(&mut self.buf[filled..]) {
                    Ok(0) => {
                        end = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(tar_err(e)),
                }
            }
            f.write_all(&self.buf[..filled]).map_err(self.io(p))?;
            len += filled as u64;
        }
        let meta_set = (|| {
            // rootless, files stay the caller's (see `layerdir::rootless`)
            if !rootless() {
                std::os::unix::fs::fchown(&f, Some(meta.uid), Some(meta.gid))?;
            }
            // after chown, which clears setuid and setgid bits
            rustix::fs::fchmod(&f, rustix::fs::Mode::from_raw_mode(meta.mode))?;
            let time = rustix::fs::Timespec {
                tv_sec: meta.mtime,
                tv_nsec: 0,
            };
            rustix::fs::futimens(
                &f,
                &rustix::fs::Timestamps {
                    last_access: time,
                    last_modification: time,
                },
            )?;
            Ok::<_, io::Error>(())
        })();
        meta_set.map_err(self.io(p))?;
        Ok(len)
    }
}

/// The size in docker's sense of an unpacked layer directory (file bytes and symlink targets,
/// each hard-linked file once), from its metadata alone.
pub(crate) fn layer_dir_size(dir: &Path) -> Result<u64, StoreError> {
    fn walk(dir: &Path, seen: &mut HashSet<(u64, u64)>) -> Result<u64, StoreError> {
        let mut size = 0;
        for item in std::fs::read_dir(dir).map_err(at(dir))? {
            let path = item.map_err(at(dir))?.path();
            let m = std::fs::symlink_metadata(&path).map_err(at(&path))?;
            let ft = m.file_type();
            if ft.is_dir() {
                size += walk(&path, seen)?;
            } else if ft.is_symlink() || (ft.is_file() && seen.insert((m.dev(), m.ino()))) {
                size += m.len();
            }
        }
        Ok(size)
    }
    walk(dir, &mut HashSet::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::{read_layer_dir, write_layer_dir};
    use layerbox_core::fs::tar::{TarOptions, read_layer, write_layer};
    use layerbox_core::fs::{Entry, EntryKind, Layer};

    /// A tar of raw members (name, type, link target, data), as a hostile archive may hold.
    /// A member of [`raw_tar`]: name, type, link target, data.
    type Member<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

    fn raw_tar(members: &[Member<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, link, data) in members {
            let mut h = tar::Header::new_gnu();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_entry_type(*kind);
            h.set_device_major(0).unwrap();
            h.set_device_minor(0).unwrap();
            h.set_mode(0o640);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_600_000_000);
            h.set_size(data.len() as u64);
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(data);
            out.resize(out.len().next_multiple_of(512), 0);
        }
        out.extend_from_slice(&[0; 1024]);
        out
    }

    fn staged(tar: &[u8]) -> (tempfile::TempDir, Result<StagedLayer, IngestError>) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let staging = store.staging().unwrap();
        let got = staging.layer(0, tar, &Digest::sha256_of(tar), None);
        if let Ok(s) = &got {
            // kept beyond the staging's life for the test to read
            std::fs::rename(&s.dir, tmp.path().join("out")).unwrap();
        }
        (tmp, got)
    }

    /// The streaming unpacker gives what the core's reader and `write_layer_dir` give.
    fn same_as_the_core(tar: &[u8]) {
        let (tmp, got) = staged(tar);
        let got = got.unwrap();
        let layer = read_layer(tar).unwrap();
        assert_eq!(got.size, layer.size());
        let want = tempfile::tempdir().unwrap();
        write_layer_dir(&layer, want.path()).unwrap();
        assert_eq!(
            read_layer_dir(&tmp.path().join("out")).unwrap(),
            read_layer_dir(want.path()).unwrap()
        );
        assert_eq!(
            layer_dir_size(&tmp.path().join("out")).unwrap(),
            layer.size()
        );
    }

    #[test]
    fn unpacks_like_the_core_reader_and_write_layer_dir() {
        let own = |mode, mtime| Meta {
            mode,
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
            mtime,
        };
        let mut l = Layer::new();
        for (path, entry) in [
            ("app", Entry::dir(own(0o750, 1_600_000_000))),
            ("app/bin/run", Entry::file(own(0o755, 9), "#!/bin/sh\n")),
            ("app/link", Entry::symlink(own(0o777, 5), "bin/run")),
            ("big", Entry::file(own(0o600, 7), vec![9u8; 700_000])),
        ] {
            l.insert(path, entry);
        }
        assert!(l.insert_hardlink("app/zz", "app/bin/run"));
        same_as_the_core(&write_layer(&l, &TarOptions::default()));
        // later members replace earlier ones; a hard link keeps the old inode; missing parents
        same_as_the_core(&raw_tar(&[
            ("a/f", tar::EntryType::Regular, "", b"one"),
            ("a/g", tar::EntryType::Link, "a/f", b""),
            ("a/f", tar::EntryType::Regular, "", b"two!"),
            ("d/", tar::EntryType::Directory, "", b""),
            ("d/x", tar::EntryType::Regular, "", b"x"),
            ("d", tar::EntryType::Symlink, "a", b""),
            ("./e/", tar::EntryType::Directory, "", b""),
            ("e/", tar::EntryType::Directory, "", b""),
        ]));
    }

    #[test]
    fn a_skeleton_and_the_files_give_the_tar_back_byte_for_byte() {
        if rootless() {
            eprintln!("note: skipped, rootless layers keep a copy of the tar");
            return;
        }
        let big = vec![3u8; 300_000];
        let tar = raw_tar(&[
            ("a/f", tar::EntryType::Regular, "", b"one"),
            ("a/g", tar::EntryType::Link, "a/f", b""),
            ("a/f", tar::EntryType::Regular, "", b"two!"),
            ("d/", tar::EntryType::Directory, "", b""),
            ("d/x", tar::EntryType::Regular, "", &[7; 1500]),
            ("d", tar::EntryType::Symlink, "a", b""),
            ("gone", tar::EntryType::Regular, "", b"soon"),
            (".wh.gone", tar::EntryType::Regular, "", b""),
            ("big", tar::EntryType::Regular, "", &big),
        ]);
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let staging = store.staging().unwrap();
        let gz = layerbox_core::fs::tar::gzip(&tar);
        let got = staging
            .layer_split(0, &gz[..], &Digest::sha256_of(&tar))
            .unwrap();
        let TarKept::Split(skeleton) = &got.tar else {
            panic!("a skeleton")
        };
        // the contents replaced or removed later in the tar were kept in the skeleton
        assert!(std::fs::metadata(skeleton).unwrap().len() < 20_000);
        let mut back = Vec::new();
        split_reader(skeleton, &got.dir)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == tar, "{} bytes, not {}", back.len(), tar.len());
        // a file changed since: the tar no longer comes back
        std::fs::write(got.dir.join("big"), "short").unwrap();
        let mut reader = split_reader(skeleton, &got.dir).unwrap();
        assert!(reader.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn whiteouts_and_opaque_directories_in_overlayfs_form() {
        let (tmp, got) = staged(&raw_tar(&[
            ("etc/", tar::EntryType::Directory, "", b""),
            ("etc/.wh..wh..opq", tar::EntryType::Regular, "", b""),
            ("etc/.wh.motd", tar::EntryType::Regular, "", b""),
            ("gone", tar::EntryType::Char, "", b""),
        ]));
        got.unwrap();
        let back = read_layer_dir(&tmp.path().join("out")).unwrap();
        assert!(matches!(
            back.get("etc"),
            Some(layerbox_core::fs::Change::Entry(Entry {
                kind: EntryKind::Dir { opaque: true },
                ..
            }))
        ));
        assert_eq!(
            back.get("etc/motd"),
            Some(&layerbox_core::fs::Change::Whiteout)
        );
        assert_eq!(back.get("gone"), Some(&layerbox_core::fs::Change::Whiteout));
    }

    #[test]
    fn refuses_breakouts_writes_through_symlinks_and_bad_links() {
        let cases: [(&[Member<'_>], &str); 5] = [
            (
                &[("../x", tar::EntryType::Regular, "", b"x")],
                "layer 0: invalid layer tar: `../x` is outside of the root",
            ),
            (
                &[
                    ("evil", tar::EntryType::Symlink, "/", b""),
                    ("evil/etc/x", tar::EntryType::Regular, "", b"x"),
                ],
                "layer 0: invalid layer tar: `evil/etc/x` is below `evil`, which is not a directory",
            ),
            (
                &[("l", tar::EntryType::Link, "../../etc/shadow", b"")],
                "layer 0: invalid layer tar: `../../etc/shadow` is outside of the root",
            ),
            (
                &[("l", tar::EntryType::Link, "missing", b"")],
                "layer 0: invalid layer tar: hard link `l` points to `missing`, which is not a file earlier in the archive",
            ),
            (
                &[("dev/sda", tar::EntryType::Block, "", b"")],
                "layer 0: invalid layer tar: `dev/sda` is a device node or fifo, which the simulated filesystem does not support",
            ),
        ];
        for (members, want) in cases {
            let (tmp, got) = staged(&raw_tar(members));
            assert_eq!(got.unwrap_err().to_string(), want);
            // the staging directory went with its value
            assert_eq!(
                std::fs::read_dir(tmp.path().join("tmp")).unwrap().count(),
                0
            );
        }
    }

    #[test]
    fn the_diff_id_covers_every_byte_and_a_gzip_is_unpacked() {
        let tar = raw_tar(&[("f", tar::EntryType::Regular, "", b"data")]);
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let staging = store.staging().unwrap();
        // trailing bytes after the end blocks change the digest
        let mut longer = tar.clone();
        longer.extend_from_slice(&[0; 512]);
        let err = staging
            .layer(3, &longer[..], &Digest::sha256_of(&tar), None)
            .unwrap_err();
        assert!(matches!(err, IngestError::DiffId { index: 3, .. }), "{err}");
        let gz = layerbox_core::fs::tar::gzip(&tar);
        let got = staging
            .layer(0, &gz[..], &Digest::sha256_of(&tar), None)
            .unwrap();
        let TarKept::Tar(kept) = &got.tar else {
            panic!("a copy")
        };
        assert_eq!(std::fs::read(kept).unwrap(), tar);
        assert_eq!(std::fs::read(got.dir.join("f")).unwrap(), b"data");
        // a live staging directory is locked; once dropped it is gone
        let dir = got.dir.parent().unwrap().to_owned();
        assert!(in_use(&dir));
        drop(staging);
        assert!(!dir.exists());
    }
}
