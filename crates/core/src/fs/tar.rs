//! OCI layer tars: writing a [`Layer`] as deterministic tar bytes with its diff_id, and reading
//! a layer tar (or a `docker save` `layer.tar`, or a rootfs tarball for `import`) back.
//!
//! Deletions are `.wh.<name>` entries and opaque directories get a `.wh..wh..opq` entry, as the
//! OCI image spec says. Entries are sorted by name, so the same layer always gives the same
//! bytes; [`TarOptions::mtime`] also pins every timestamp.
//!
//! ```
//! use layerbox_core::fs::{tar, Entry, Layer, Meta};
//! let mut layer = Layer::new();
//! layer.insert("app", Entry::dir(Meta::new(0o755, 0)));
//! layer.insert("app/main.py", Entry::file(Meta::new(0o644, 0), "print('hi')\n"));
//! layer.insert_whiteout("tmp");
//! let bytes = tar::write_layer(&layer, &tar::TarOptions::default());
//! assert_eq!(tar::read_layer(&bytes).unwrap(), layer);
//! assert_eq!(tar::diff_id(&layer, &tar::TarOptions::default()).0, layerbox_core::image::Digest::sha256_of(&bytes));
//! ```

use std::borrow::Cow;
use std::io::{self, Read, Write};

use ::tar::{Archive, Builder, EntryType, Header};

use super::layer::{Change, Entry, EntryKind, FileData, Layer, Meta};
use super::path;
use crate::image::{Digest, DigestWriter};

/// The name prefix of a whiteout entry.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The name of the entry marking its directory opaque.
pub const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";

/// How to write a layer tar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TarOptions {
    /// Stamp every entry with this time instead of its own (reproducible layers).
    pub mtime: Option<i64>,
}

/// Why a tar could not be read as a layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarError {
    /// The bytes are not a readable tar (or gzip of one).
    #[error("invalid layer tar: {0}")]
    Malformed(String),
    /// A member name climbs out of the root with `..` (docker's breakout check).
    #[error("invalid layer tar: `{0}` is outside of the root")]
    Breakout(String),
    /// A device node or FIFO: the simulated filesystem holds none.
    #[error(
        "invalid layer tar: `{0}` is a device node or fifo, which the simulated filesystem does not support"
    )]
    Unsupported(String),
    /// A hard link whose target is not a file earlier in the archive.
    #[error(
        "invalid layer tar: hard link `{0}` points to `{1}`, which is not a file earlier in the archive"
    )]
    BadHardLink(String, String),
    /// A member below something that is not a directory.
    #[error("invalid layer tar: `{0}` is below `{1}`, which is not a directory")]
    ParentNotDirectory(String, String),
    /// A member name or link target that is not UTF-8.
    #[error("invalid layer tar: a member name is not valid UTF-8")]
    NotUtf8,
}

impl From<io::Error> for TarError {
    fn from(e: io::Error) -> Self {
        Self::Malformed(e.to_string())
    }
}

enum Item<'a> {
    Entry(&'a Entry),
    Link(&'a str),
    Marker,
}

/// The tar members of `layer` in name order.
fn items<'a>(layer: &'a Layer) -> Vec<(Cow<'a, str>, Item<'a>)> {
    let mut out: Vec<(Cow<'a, str>, Item<'a>)> = Vec::with_capacity(layer.len());
    for (p, change) in layer.iter() {
        if p.is_empty() {
            continue;
        }
        match change {
            Change::Whiteout => {
                let name = path::join(
                    path::parent(p),
                    &format!("{WHITEOUT_PREFIX}{}", path::file_name(p)),
                );
                out.push((Cow::Owned(name), Item::Marker));
            }
            Change::Entry(e) if e.is_dir() => {
                out.push((Cow::Borrowed(p), Item::Entry(e)));
                if e.is_opaque() {
                    out.push((Cow::Owned(path::join(p, OPAQUE_WHITEOUT)), Item::Marker));
                }
            }
            Change::Entry(_) | Change::HardLink(_) => {
                // In a tar a link must follow its target: the first name of each inode in
                // name order carries the data, the others link to it.
                let Some((primary, e)) = layer.entry(p) else {
                    continue;
                };
                let first = layer
                    .links_to(primary)
                    .next()
                    .map_or(primary, |l| l.min(primary));
                if first == p {
                    out.push((Cow::Borrowed(p), Item::Entry(e)));
                } else {
                    out.push((Cow::Borrowed(p), Item::Link(first)));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Repeats a digest's bytes: the stand-in content of a simulated file.
struct Repeat<'a> {
    pattern: &'a [u8; 32],
    offset: usize,
    remaining: u64,
}

impl Read for Repeat<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        // The pattern from where the last read stopped, then whole copies of it: a few
        // slice copies per buffer instead of a modulo per byte.
        let mut filled = 0;
        while filled < n {
            let from = self.offset % 32;
            let take = (32 - from).min(n - filled);
            buf[filled..filled + take].copy_from_slice(&self.pattern[from..from + take]);
            filled += take;
            self.offset += take;
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn header(kind: EntryType, meta: Meta, opts: &TarOptions) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(meta.mode & 0o7777);
    h.set_uid(u64::from(meta.uid));
    h.set_gid(u64::from(meta.gid));
    h.set_mtime(u64::try_from(opts.mtime.unwrap_or(meta.mtime)).unwrap_or(0));
    h.set_size(0);
    h
}

/// Writes `layer` as an OCI layer tar to `out`, returning `out`.
pub fn write_layer_to<W: Write>(layer: &Layer, opts: &TarOptions, out: W) -> io::Result<W> {
    let mut b = Builder::new(out);
    for (name, item) in items(layer) {
        let name: &str = &name;
        match item {
            Item::Marker => {
                let mut h = header(EntryType::Regular, Meta::new(0, 0), opts);
                b.append_data(&mut h, name, io::empty())?;
            }
            Item::Link(target) => {
                let mut h = header(
                    EntryType::Link,
                    layer.entry(name).map_or(Meta::new(0, 0), |(_, e)| e.meta),
                    opts,
                );
                b.append_link(&mut h, name, target)?;
            }
            Item::Entry(e) => match &e.kind {
                EntryKind::Dir { .. } => {
                    let mut h = header(EntryType::Directory, e.meta, opts);
                    b.append_data(&mut h, format!("{name}/"), io::empty())?;
                }
                EntryKind::Symlink(target) => {
                    let mut h = header(EntryType::Symlink, e.meta, opts);
                    b.append_link(&mut h, name, target)?;
                }
                EntryKind::File(data) => {
                    let mut h = header(EntryType::Regular, e.meta, opts);
                    h.set_size(data.len());
                    match data {
                        FileData::Bytes(bytes) => b.append_data(&mut h, name, bytes.as_slice())?,
                        FileData::Simulated { size, digest } => {
                            let reader = Repeat {
                                pattern: digest.as_bytes(),
                                offset: 0,
                                remaining: *size,
                            };
                            b.append_data(&mut h, name, reader)?;
                        }
                    }
                }
            },
        }
    }
    b.into_inner()
}

/// The layer as OCI layer tar bytes.
pub fn write_layer(layer: &Layer, opts: &TarOptions) -> Vec<u8> {
    // Writing to a Vec cannot fail, and every name comes from a well-formed layer.
    write_layer_to(layer, opts, Vec::new()).unwrap_or_default()
}

/// The layer's diff_id (sha256 of its uncompressed tar) and the number of bytes hashed (the
/// tar's length), computed without holding the tar in memory.
///
/// A layer with modelled files (a size and a digest, no bytes) has a modelled diff_id instead,
/// not the sha256 of megabytes of stand-in bytes behind 512-byte headers: a compact record of
/// each entry (path, kind, metadata, and a file's size and content digest or bytes, a link's
/// target) is hashed with 128-bit XXH3, and the diff_id is the sha256 of that hash (software
/// sha256 over the records was a tenth of a first build in the browser). Such a layer's tar
/// never leaves the engine (`save`, `export` and `cp` refuse modelled files), and the digest
/// still changes with every file's name, metadata, size and content.
pub fn diff_id(layer: &Layer, opts: &TarOptions) -> (Digest, u64) {
    let modelled = layer.iter().any(|(_, c)| {
        matches!(
            c,
            Change::Entry(Entry {
                kind: EntryKind::File(FileData::Simulated { .. }),
                ..
            })
        )
    });
    if modelled {
        return modelled_digest(layer, opts);
    }
    match write_layer_to(layer, opts, DigestWriter::new()) {
        Ok(w) => {
            let len = w.len();
            (w.finish(), len)
        }
        Err(_) => (Digest::sha256_of(&[]), 0),
    }
}

/// The modelled diff_id of [`diff_id`]: one record per entry, in path order, gathered into a
/// buffer and hashed in large pieces (the hasher's per-call cost is larger than a record).
fn modelled_digest(layer: &Layer, opts: &TarOptions) -> (Digest, u64) {
    const FLUSH: usize = 16 << 10;
    let mut w = xxhash_rust::xxh3::Xxh3::new();
    let mut len = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH + 512);
    // Every variable-length field is preceded by its length, so no two layers share a stream.
    let field = |buf: &mut Vec<u8>, bytes: &[u8]| {
        buf.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        buf.extend_from_slice(bytes);
    };
    for (path, change) in layer.iter() {
        field(&mut buf, path.as_bytes());
        match change {
            Change::Entry(e) => {
                let m = &e.meta;
                buf.push(match &e.kind {
                    EntryKind::Dir { opaque: true } => b'O',
                    EntryKind::Dir { opaque: false } => b'D',
                    EntryKind::File(_) => b'F',
                    EntryKind::Symlink(_) => b'L',
                });
                buf.extend_from_slice(&m.mode.to_le_bytes());
                buf.extend_from_slice(&m.uid.to_le_bytes());
                buf.extend_from_slice(&m.gid.to_le_bytes());
                buf.extend_from_slice(&opts.mtime.unwrap_or(m.mtime).to_le_bytes());
                match &e.kind {
                    EntryKind::File(FileData::Simulated { size, digest }) => {
                        buf.extend_from_slice(&size.to_le_bytes());
                        buf.extend_from_slice(digest.as_bytes());
                    }
                    EntryKind::File(FileData::Bytes(b)) => field(&mut buf, b),
                    EntryKind::Symlink(target) => field(&mut buf, target.as_bytes()),
                    EntryKind::Dir { .. } => {}
                }
            }
            Change::HardLink(target) => {
                buf.push(b'H');
                field(&mut buf, target.as_bytes());
            }
            Change::Whiteout => buf.push(b'W'),
        }
        if buf.len() >= FLUSH {
            w.update(&buf);
            len += buf.len() as u64;
            buf.clear();
        }
    }
    w.update(&buf);
    len += buf.len() as u64;
    // Marks the record format, so that no layer of real bytes can share this digest.
    let mut named = DigestWriter::new();
    named.update(b"layerbox modelled layer 3\n");
    named.update(&w.digest128().to_le_bytes());
    named.update(&len.to_le_bytes());
    (named.finish(), len)
}

/// Gzips a layer tar deterministically (no name, no timestamp), for a compressed blob.
pub fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(tar);
    enc.finish().unwrap_or_default()
}

/// Reads a layer tar, gzipped or not: an image layer, a `docker save` `layer.tar` or a rootfs
/// tarball. `./` prefixes and leading slashes are dropped, `..` that would climb out of the
/// root is refused, OCI whiteouts (and overlayfs's 0/0 character devices) become whiteouts,
/// and directories a member needs but the tar omits are added (mode 0755, owned by root).
pub fn read_layer(bytes: &[u8]) -> Result<Layer, TarError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        read_from(flate2::read::GzDecoder::new(bytes))
    } else {
        read_from(bytes)
    }
}

fn utf8(p: &std::path::Path) -> Result<&str, TarError> {
    p.to_str().ok_or(TarError::NotUtf8)
}

/// Cleans a member name like Go's `filepath.Clean` below the root; `..` above it is refused.
fn clean(name: &str) -> Result<String, TarError> {
    path::clean_below_root(name).ok_or_else(|| TarError::Breakout(name.to_owned()))
}

fn read_from(reader: impl Read) -> Result<Layer, TarError> {
    let mut layer = Layer::new();
    let mut archive = Archive::new(reader);
    for member in archive.entries()? {
        let mut member = member?;
        let raw_name = utf8(&member.path()?)?.to_owned();
        let p = clean(&raw_name)?;
        let h = member.header();
        let kind = h.entry_type();
        let meta = Meta {
            mode: h.mode()? & 0o7777,
            uid: u32::try_from(h.uid()?).unwrap_or(u32::MAX),
            gid: u32::try_from(h.gid()?).unwrap_or(u32::MAX),
            mtime: i64::try_from(h.mtime()?).unwrap_or(i64::MAX),
        };
        if p.is_empty() {
            continue;
        }
        let base = path::file_name(&p);
        if let Some(hidden) = base.strip_prefix(WHITEOUT_PREFIX) {
            let parent = path::parent(&p).to_owned();
            ensure_parents(&mut layer, &p)?;
            if base == OPAQUE_WHITEOUT {
                if let Some(e) = layer.entry_mut(&parent) {
                    e.kind = EntryKind::Dir { opaque: true };
                }
            } else if !hidden.starts_with(WHITEOUT_PREFIX) {
                layer.insert_whiteout(path::join(&parent, hidden));
            }
            continue;
        }
        let entry = match kind {
            EntryType::Directory => Entry::dir(meta),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                // A damaged header may claim gigabytes: reserve at most 1 MiB up front and let the
                // actual bytes decide.
                let mut data =
                    Vec::with_capacity(usize::try_from(member.size().min(1 << 20)).unwrap_or(0));
                member.read_to_end(&mut data)?;
                Entry::file(meta, data)
            }
            EntryType::Symlink => {
                let target = member.link_name()?.ok_or_else(|| {
                    TarError::Malformed(format!("symlink `{raw_name}` has no target"))
                })?;
                Entry::symlink(meta, utf8(&target)?)
            }
            EntryType::Link => {
                let target = member.link_name()?.ok_or_else(|| {
                    TarError::Malformed(format!("hard link `{raw_name}` has no target"))
                })?;
                let target = utf8(&target)?.to_owned();
                let cleaned = clean(&target)?;
                ensure_parents(&mut layer, &p)?;
                if !layer.insert_hardlink(p.clone(), &cleaned) {
                    return Err(TarError::BadHardLink(raw_name, target));
                }
                continue;
            }
            EntryType::Char if h.device_major()? == Some(0) && h.device_minor()? == Some(0) => {
                ensure_parents(&mut layer, &p)?;
                layer.insert_whiteout(p);
                continue;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(TarError::Unsupported(raw_name));
            }
            _ => continue,
        };
        ensure_parents(&mut layer, &p)?;
        let replaces_dir = layer.entry(&p).is_some_and(|(_, e)| e.is_dir()) && !entry.is_dir();
        if replaces_dir {
            for k in layer.descendants(&p).into_iter().rev() {
                layer.take(&k);
            }
        }
        match (layer.entry_mut(&p), &entry.kind) {
            // A directory listed twice keeps its opaque mark and takes the later metadata.
            (Some(old), EntryKind::Dir { .. }) if old.is_dir() => old.meta = entry.meta,
            _ => layer.insert(p, entry),
        }
    }
    Ok(layer)
}

/// Checks that the ancestors of `p` in `layer` are directories and adds missing ones.
fn ensure_parents(layer: &mut Layer, p: &str) -> Result<(), TarError> {
    for a in path::ancestors(p) {
        match layer.get(a) {
            Some(Change::Entry(e)) if e.is_dir() => {}
            None => layer.insert(a, Entry::dir(Meta::new(0o755, 0))),
            Some(_) => return Err(TarError::ParentNotDirectory(p.to_owned(), a.to_owned())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_content_repeats_the_digest_across_uneven_reads() {
        let digest = Digest::sha256_of(b"content");
        let pattern = digest.as_bytes();
        let mut reader = Repeat {
            pattern,
            offset: 0,
            remaining: 100,
        };
        let mut out = Vec::new();
        for size in [5, 40, 1, 64, 64] {
            let mut buf = vec![0; size];
            let n = reader.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
        }
        let expected: Vec<u8> = (0..100).map(|i| pattern[i % 32]).collect();
        assert_eq!(out, expected);
        assert_eq!(reader.read(&mut [0; 8]).unwrap(), 0);
    }

    fn meta(mode: u32) -> Meta {
        Meta {
            mode,
            uid: 1000,
            gid: 100,
            mtime: 1_700_000_000,
        }
    }

    fn sample() -> Layer {
        let mut l = Layer::new();
        l.insert(
            "app",
            Entry {
                meta: meta(0o755),
                kind: EntryKind::Dir { opaque: true },
            },
        );
        l.insert("app/z-first", Entry::file(meta(0o640), "shared"));
        assert!(l.insert_hardlink("app/a-link", "app/z-first"));
        l.insert("app/run", Entry::symlink(meta(0o777), "/usr/bin/python3"));
        l.insert("app/up", Entry::symlink(meta(0o777), "../etc"));
        l.insert_whiteout("app/gone");
        l.insert(
            "big",
            Entry {
                meta: meta(0o600),
                kind: EntryKind::File(FileData::Bytes(vec![7; 3000])),
            },
        );
        let long = format!("deep/{}", "d".repeat(120));
        l.insert("deep", Entry::dir(meta(0o700)));
        l.insert(long.clone(), Entry::dir(meta(0o700)));
        l.insert(
            format!("{long}/{}", "f".repeat(120)),
            Entry::file(meta(0o644), "x"),
        );
        l
    }

    #[test]
    fn round_trips_whiteouts_opaque_dirs_links_and_long_names() {
        let l = sample();
        let bytes = write_layer(&l, &TarOptions::default());
        let back = read_layer(&bytes).unwrap();
        // The first name in order carries the data after a round trip.
        assert_eq!(
            back.get("app/z-first"),
            Some(&Change::HardLink("app/a-link".into()))
        );
        assert_eq!(back.entry("app/z-first").map(|(_, e)| e.size()), Some(6));
        assert_eq!(back.size(), l.size());
        assert_eq!(
            write_layer(&back, &TarOptions::default()),
            bytes,
            "rewriting gives the same bytes"
        );
        assert_eq!(read_layer(&gzip(&bytes)).unwrap(), back);
    }

    #[test]
    fn writes_oci_whiteout_names_in_sorted_order() {
        let bytes = write_layer(&sample(), &TarOptions { mtime: Some(0) });
        let mut archive = Archive::new(bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_str().unwrap().to_owned())
            .filter(|n| !n.starts_with("deep"))
            .collect();
        assert_eq!(
            names,
            [
                "app/",
                "app/.wh..wh..opq",
                "app/.wh.gone",
                "app/a-link",
                "app/run",
                "app/up",
                "app/z-first",
                "big"
            ]
        );
    }

    #[test]
    fn fixed_mtime_makes_bytes_independent_of_times() {
        let opts = TarOptions { mtime: Some(0) };
        let mut other = sample();
        if let Some(e) = other.entry_mut("big") {
            e.meta.mtime = 5;
        }
        assert_eq!(diff_id(&sample(), &opts), diff_id(&other, &opts));
        assert_ne!(
            diff_id(&sample(), &TarOptions::default()),
            diff_id(&other, &TarOptions::default())
        );
    }

    #[test]
    fn a_modelled_files_diff_id_hashes_its_digest_and_size_not_stand_in_bytes() {
        let file = |size, seed: &[u8]| {
            let mut l = Layer::new();
            l.insert(
                "w.bin",
                Entry {
                    meta: meta(0o644),
                    kind: EntryKind::File(FileData::Simulated {
                        size,
                        digest: Digest::sha256_of(seed),
                    }),
                },
            );
            l
        };
        let opts = TarOptions::default();
        let (id, len) = diff_id(&file(50 << 20, b"a"), &opts);
        assert!(len < 4096, "the 50 MB file was hashed as 40 bytes: {len}");
        assert_ne!(
            id,
            diff_id(&file(50 << 20, b"b"), &opts).0,
            "content digest"
        );
        assert_ne!(id, diff_id(&file(51 << 20, b"a"), &opts).0, "size");
        assert_eq!(id, diff_id(&file(50 << 20, b"a"), &opts).0, "deterministic");
        // a layer of real bytes still has the sha256 of its tar
        let mut real = Layer::new();
        real.insert("f", Entry::file(meta(0o644), b"bytes".to_vec()));
        assert_eq!(
            diff_id(&real, &opts).0,
            Digest::sha256_of(&write_layer(&real, &opts))
        );
        // fields are delimited by their lengths: a link's target cannot pass for the next
        // entry's record (the two layers gave the same stream when records ended at newlines)
        let mut split = file(1, b"a");
        split.insert("a", Entry::symlink(meta(0o777), "x"));
        split.insert_whiteout("b");
        let mut joined = file(1, b"a");
        joined.insert("a", Entry::symlink(meta(0o777), "x\nb\0W"));
        assert_ne!(diff_id(&split, &opts).0, diff_id(&joined, &opts).0);
    }

    #[test]
    fn simulated_files_stream_their_stand_in_content() {
        let digest = Digest::sha256_of(b"model weights");
        let mut l = Layer::new();
        l.insert(
            "w.bin",
            Entry {
                meta: meta(0o644),
                kind: EntryKind::File(FileData::Simulated { size: 100, digest }),
            },
        );
        let back = read_layer(&write_layer(&l, &TarOptions::default())).unwrap();
        let data = back.entry("w.bin").unwrap().1;
        let EntryKind::File(FileData::Bytes(bytes)) = &data.kind else {
            panic!("not bytes")
        };
        assert_eq!(bytes.len(), 100);
        assert_eq!(&bytes[32..64], digest.as_bytes());
    }

    fn raw_tar(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, link) in entries {
            let mut h = Header::new_old();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_size(0);
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
        }
        out.extend_from_slice(&[0; 1024]);
        out
    }

    #[test]
    fn refuses_breakouts_devices_and_dangling_links() {
        let cases = [
            (
                raw_tar(&[("../etc/passwd", EntryType::Regular, "")]),
                "invalid layer tar: `../etc/passwd` is outside of the root",
            ),
            (
                raw_tar(&[("a/../../x", EntryType::Regular, "")]),
                "invalid layer tar: `a/../../x` is outside of the root",
            ),
            (
                raw_tar(&[("dev/sda", EntryType::Block, "")]),
                "invalid layer tar: `dev/sda` is a device node or fifo, which the simulated filesystem does not support",
            ),
            (
                raw_tar(&[("l", EntryType::Link, "../../etc/shadow")]),
                "invalid layer tar: `../../etc/shadow` is outside of the root",
            ),
            (
                raw_tar(&[("l", EntryType::Link, "missing")]),
                "invalid layer tar: hard link `l` points to `missing`, which is not a file earlier in the archive",
            ),
            (
                raw_tar(&[
                    ("evil", EntryType::Symlink, "/"),
                    ("evil/etc/x", EntryType::Regular, ""),
                ]),
                "invalid layer tar: `evil/etc/x` is below `evil`, which is not a directory",
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(read_layer(&bytes).unwrap_err().to_string(), want);
        }
        assert!(matches!(
            read_layer(b"not a tar at all, just some bytes"),
            Err(TarError::Malformed(_))
        ));
    }

    #[test]
    fn damaged_archives_fail_cleanly() {
        let good = write_layer(&sample(), &TarOptions::default());
        // Truncations and single-byte corruptions anywhere must give an error or a layer, never
        // a panic (the browser cannot survive one).
        for cut in (0..good.len()).step_by(97) {
            let _ = read_layer(&good[..cut]);
        }
        let mut x: u32 = 12345;
        for _ in 0..400 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let mut bad = good.clone();
            let at = (x as usize >> 3) % bad.len();
            bad[at] ^= (x >> 24) as u8 | 1;
            let _ = read_layer(&bad);
        }
        let gz = gzip(&good);
        for cut in (0..gz.len()).step_by(31) {
            let _ = read_layer(&gz[..cut]);
        }
    }

    #[test]
    fn neutralises_harmless_prefixes_and_adds_missing_parents() {
        let bytes = raw_tar(&[
            ("./", EntryType::Directory, ""),
            ("/abs/file", EntryType::Regular, ""),
            ("a/./b/../c", EntryType::Regular, ""),
            ("x/.wh.y", EntryType::Regular, ""),
        ]);
        let l = read_layer(&bytes).unwrap();
        let paths: Vec<&str> = l.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["a", "a/c", "abs", "abs/file", "x", "x/y"]);
        assert_eq!(l.get("x/y"), Some(&Change::Whiteout));
    }
}
