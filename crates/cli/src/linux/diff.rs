//! A container's changes, read from its overlay upper directory.
//!
//! overlayfs records a deletion as a character device 0/0 and a directory that replaced a lower
//! one as a directory with the `trusted.overlay.opaque=y` xattr. OCI layers (and the core's `fs`
//! layers) say the same with `.wh.<name>` and `.wh..wh..opq` entries; [`Change::oci_path`] gives
//! that name. (With `redirect_dir` and `metacopy` off, as on this machine, nothing else appears.)

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use layerbox_core::image::{Digest, DigestWriter};

/// What happened at a path, as `docker diff` shows it (plus opaque directories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// `A`: new in this layer.
    Added,
    /// `C`: present below and replaced or changed (directories: something inside changed).
    Modified,
    /// `D`: deleted; an OCI whiteout `.wh.<name>`.
    Deleted,
    /// The directory hides everything below it; an OCI `.wh..wh..opq` inside it.
    Opaque,
}

/// What an added or modified entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryType {
    /// A regular file with the digest of its content.
    File {
        /// sha256 of the content.
        digest: Digest,
    },
    /// A directory.
    Dir,
    /// A symlink and its target.
    Symlink(PathBuf),
    /// A device, fifo or socket.
    Other,
}

/// The metadata of an added or modified entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its type (and content digest).
    pub kind: EntryType,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (files).
    pub size: u64,
}

/// One change of a container's layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The absolute path inside the container, e.g. `/etc/motd`.
    pub path: String,
    /// What happened.
    pub kind: ChangeKind,
    /// For added and modified entries, what is there now.
    pub entry: Option<Entry>,
}

impl Change {
    /// The path of this change in an OCI layer tar (no leading `/`): whiteouts become
    /// `dir/.wh.name`, opaque directories `dir/.wh..wh..opq`.
    pub fn oci_path(&self) -> String {
        let rel = self.path.trim_start_matches('/');
        match self.kind {
            ChangeKind::Deleted => match rel.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/.wh.{name}"),
                None => format!(".wh.{rel}"),
            },
            ChangeKind::Opaque => format!("{rel}/.wh..wh..opq"),
            _ => rel.to_owned(),
        }
    }

    /// `docker diff`'s letter (`A`, `C`, `D`); opaque directories have none of their own.
    pub fn letter(&self) -> Option<char> {
        match self.kind {
            ChangeKind::Added => Some('A'),
            ChangeKind::Modified => Some('C'),
            ChangeKind::Deleted => Some('D'),
            ChangeKind::Opaque => None,
        }
    }
}

fn is_opaque(path: &Path) -> bool {
    let mut buf = [0u8; 8];
    rustix::fs::lgetxattr(path, "trusted.overlay.opaque", &mut buf[..])
        .is_ok_and(|n| buf[..n] == *b"y")
}

fn sha256_file(path: &Path) -> io::Result<Digest> {
    let mut h = DigestWriter::new();
    io::copy(&mut std::fs::File::open(path)?, &mut h)?;
    Ok(h.finish())
}

fn entry(path: &Path, meta: &std::fs::Metadata) -> io::Result<Entry> {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        EntryType::Dir
    } else if ft.is_symlink() {
        EntryType::Symlink(std::fs::read_link(path)?)
    } else if ft.is_file() {
        EntryType::File {
            digest: sha256_file(path)?,
        }
    } else {
        EntryType::Other
    };
    Ok(Entry {
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        size: if ft.is_file() { meta.len() } else { 0 },
    })
}

/// The changes in `upper` against the image layers `lowers` (any order), sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<Change>> {
    let mut out = Vec::new();
    walk(upper, Path::new(""), lowers, &mut out)?;
    out.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(opaque_last(a).cmp(&opaque_last(b)))
    });
    Ok(out)
}

fn opaque_last(c: &Change) -> bool {
    c.kind == ChangeKind::Opaque
}

fn walk(dir: &Path, rel: &Path, lowers: &[PathBuf], out: &mut Vec<Change>) -> io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let path = item.path();
        let rel = rel.join(item.file_name());
        let meta = std::fs::symlink_metadata(&path)?;
        let name = format!("/{}", rel.display());
        let ft = meta.file_type();
        if ft.is_char_device() && meta.rdev() == 0 {
            out.push(Change {
                path: name,
                kind: ChangeKind::Deleted,
                entry: None,
            });
            continue;
        }
        let below = lowers
            .iter()
            .any(|l| std::fs::symlink_metadata(l.join(&rel)).is_ok());
        out.push(Change {
            path: name.clone(),
            kind: if below {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
            entry: Some(entry(&path, &meta)?),
        });
        if ft.is_dir() {
            if below && is_opaque(&path) {
                out.push(Change {
                    path: name,
                    kind: ChangeKind::Opaque,
                    entry: None,
                });
            }
            walk(&path, &rel, lowers, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_names_for_whiteouts_and_opaque_dirs() {
        let c = |path: &str, kind| Change {
            path: path.to_owned(),
            kind,
            entry: None,
        };
        assert_eq!(
            c("/etc/motd", ChangeKind::Deleted).oci_path(),
            "etc/.wh.motd"
        );
        assert_eq!(c("/top", ChangeKind::Deleted).oci_path(), ".wh.top");
        assert_eq!(
            c("/var/cache", ChangeKind::Opaque).oci_path(),
            "var/cache/.wh..wh..opq"
        );
        assert_eq!(c("/a/b", ChangeKind::Added).oci_path(), "a/b");
        assert_eq!(c("/a/b", ChangeKind::Modified).letter(), Some('C'));
    }

    #[test]
    fn added_and_modified_are_told_apart_by_the_lower_layers() {
        let tmp = tempfile::tempdir().unwrap();
        let (lower, upper) = (tmp.path().join("lower"), tmp.path().join("upper"));
        std::fs::create_dir_all(lower.join("etc")).unwrap();
        std::fs::write(lower.join("etc/motd"), "old").unwrap();
        std::fs::create_dir_all(upper.join("etc")).unwrap();
        std::fs::write(upper.join("etc/motd"), "new").unwrap();
        std::fs::write(upper.join("hello"), "hi\n").unwrap();
        std::os::unix::fs::symlink("hello", upper.join("link")).unwrap();
        let got = changes(&upper, &[lower]).unwrap();
        let summary: Vec<(Option<char>, &str)> =
            got.iter().map(|c| (c.letter(), c.path.as_str())).collect();
        assert_eq!(
            summary,
            [
                (Some('C'), "/etc"),
                (Some('C'), "/etc/motd"),
                (Some('A'), "/hello"),
                (Some('A'), "/link"),
            ]
        );
        let hello = got[2].entry.as_ref().unwrap();
        assert_eq!(
            hello.kind,
            EntryType::File {
                digest: Digest::sha256_of(b"hi\n")
            }
        );
        assert_eq!(hello.size, 3);
        assert_eq!(
            got[3].entry.as_ref().unwrap().kind,
            EntryType::Symlink("hello".into())
        );
    }
}
