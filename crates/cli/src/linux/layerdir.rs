//! Directories in overlayfs' form and the core's [`Layer`], both ways: a container's upper
//! directory read after a run (its changes), and an image layer written out (unpacked) to be an
//! overlay lower directory.
//!
//! overlayfs records a deletion as a character device 0/0 and a directory that replaced a lower
//! one as a directory with the `trusted.overlay.opaque=y` xattr; they become
//! [`Change::Whiteout`] and an opaque
//! [`EntryKind::Dir`], which the core's [`tar`](layerbox_core::fs::tar) writer turns into OCI's
//! `.wh.<name>` and `.wh..wh..opq`. So a layer built on Linux and one built by the simulator are
//! the same kind of value and compare path by path. (With `redirect_dir` and `metacopy` off, as
//! on this machine, overlayfs writes nothing else.)

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use layerbox_core::fs::{
    Change, Entry, EntryKind, FileData, Layer, LayerStack, Meta, PathChange, changes,
};

/// Why a directory could not be read as a layer.
#[derive(Debug, thiserror::Error)]
pub enum LayerDirError {
    /// Reading the directory failed.
    #[error("{path:?}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A device node, FIFO or socket, which a core layer cannot hold (same words as the core's
    /// tar reader).
    #[error("`{0}` is a device node or fifo, which the simulated filesystem does not support")]
    Unsupported(String),
    /// A name that is not UTF-8.
    #[error("{0:?}: the name is not valid UTF-8")]
    NotUtf8(PathBuf),
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> LayerDirError + '_ {
    move |source| LayerDirError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Whether layers are written and read for a user namespace (rootless): the caller is not root
/// on the host. Then the caller's own uid and gid stand for root (the namespace maps them to 0)
/// and overlayfs keeps its marks in `user.overlay.*` xattrs (mounted with `userxattr`), since
/// only root may write `trusted.*`.
pub fn rootless() -> bool {
    !rustix::process::geteuid().is_root()
}

/// The xattr that marks an opaque directory: `trusted.overlay.opaque`, or `user.overlay.opaque`
/// rootless.
pub(crate) fn opaque_xattr() -> &'static str {
    if rootless() {
        "user.overlay.opaque"
    } else {
        "trusted.overlay.opaque"
    }
}

/// Marks the directory at `path` opaque (it hides the lower layers' directory there).
pub(crate) fn mark_opaque(path: &Path) -> io::Result<()> {
    rustix::fs::lsetxattr(path, opaque_xattr(), b"y", rustix::fs::XattrFlags::empty())
        .map_err(Into::into)
}

fn is_opaque(path: &Path) -> bool {
    let mut buf = [0u8; 8];
    rustix::fs::lgetxattr(path, opaque_xattr(), &mut buf[..]).is_ok_and(|n| buf[..n] == *b"y")
}

/// Reads `dir` (overlayfs form) as a layer: paths relative to it, owners, modes and mtimes as on
/// disk, file contents in memory, hard links within the directory kept as links.
pub fn read_layer_dir(dir: &Path) -> Result<Layer, LayerDirError> {
    let mut layer = Layer::new();
    let mut inodes: HashMap<(u64, u64), Vec<String>> = HashMap::new();
    walk(dir, "", &mut layer, &mut inodes)?;
    // The first name in path order holds the data, as in a tar the core writes or reads.
    for mut names in inodes.into_values() {
        names.sort();
        let mut names = names.into_iter();
        let Some(primary) = names.next() else {
            continue;
        };
        let path = dir.join(&primary);
        let m = std::fs::symlink_metadata(&path).map_err(at(&path))?;
        let bytes = std::fs::read(&path).map_err(at(&path))?;
        layer.insert(primary.clone(), Entry::file(meta_of(&m), bytes));
        for name in names {
            layer.insert_hardlink(name, &primary);
        }
    }
    Ok(layer)
}

/// A file's owner, mode and time as a layer records them (rootless: the caller's IDs are root's).
pub(crate) fn meta_of(m: &std::fs::Metadata) -> Meta {
    // rootless, what the caller owns is root's in the container (see [`rootless`])
    let own = |id: u32, mine: u32| if rootless() && id == mine { 0 } else { id };
    Meta {
        mode: m.mode() & 0o7777,
        uid: own(m.uid(), rustix::process::geteuid().as_raw()),
        gid: own(m.gid(), rustix::process::getegid().as_raw()),
        mtime: m.mtime(),
    }
}

fn walk(
    dir: &Path,
    rel: &str,
    layer: &mut Layer,
    inodes: &mut HashMap<(u64, u64), Vec<String>>,
) -> Result<(), LayerDirError> {
    let mut items: Vec<_> = std::fs::read_dir(dir)
        .map_err(at(dir))?
        .collect::<Result<_, _>>()
        .map_err(at(dir))?;
    items.sort_by_key(std::fs::DirEntry::file_name);
    for item in items {
        let path = item.path();
        let name = item
            .file_name()
            .into_string()
            .map_err(|_| LayerDirError::NotUtf8(path.clone()))?;
        let key = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let m = std::fs::symlink_metadata(&path).map_err(at(&path))?;
        let ft = m.file_type();
        let meta = meta_of(&m);
        if ft.is_char_device() && m.rdev() == 0 {
            layer.insert_whiteout(key);
        } else if ft.is_dir() {
            let opaque = is_opaque(&path);
            layer.insert(
                key.clone(),
                Entry {
                    meta,
                    kind: EntryKind::Dir { opaque },
                },
            );
            walk(&path, &key, layer, inodes)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&path).map_err(at(&path))?;
            let target = target
                .into_os_string()
                .into_string()
                .map_err(|_| LayerDirError::NotUtf8(path.clone()))?;
            layer.insert(key, Entry::symlink(meta, target));
        } else if ft.is_file() {
            if m.nlink() > 1 {
                // linked within this directory or not: decided once the walk is done
                inodes.entry((m.dev(), m.ino())).or_default().push(key);
                continue;
            }
            let bytes = std::fs::read(&path).map_err(at(&path))?;
            layer.insert(key, Entry::file(meta, bytes));
        } else {
            return Err(LayerDirError::Unsupported(format!("/{key}")));
        }
    }
    Ok(())
}

/// Writes `layer` into the empty directory `dir` in overlayfs' form, so it can be a lower
/// directory: whiteouts as character devices 0/0, opaque directories with
/// `trusted.overlay.opaque=y`, owners, modes and mtimes as recorded. Needs root (`mknod`,
/// `trusted.*` xattrs, `chown`) for layers that have those.
pub fn write_layer_dir(layer: &Layer, dir: &Path) -> Result<(), LayerDirError> {
    let mut dirs = Vec::new();
    let mut links = Vec::new();
    for (key, change) in layer.iter() {
        let path = dir.join(key);
        match change {
            Change::Whiteout => {
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    &path,
                    rustix::fs::FileType::CharacterDevice,
                    rustix::fs::Mode::empty(),
                    0,
                )
                .map_err(|e| at(&path)(e.into()))?;
            }
            // a link may sort before the file it links to
            Change::HardLink(target) => links.push((path, dir.join(target))),
            Change::Entry(e) => {
                match &e.kind {
                    EntryKind::Dir { opaque } => {
                        // "" is the root itself: a layer may record its metadata
                        if !key.is_empty() {
                            std::fs::create_dir(&path).map_err(at(&path))?;
                        }
                        if *opaque {
                            mark_opaque(&path).map_err(at(&path))?;
                        }
                        // mode and mtime once its children are in (they change the mtime)
                        dirs.push((path, e.meta));
                        continue;
                    }
                    EntryKind::Symlink(target) => {
                        std::os::unix::fs::symlink(target, &path).map_err(at(&path))?;
                    }
                    EntryKind::File(data) => {
                        std::fs::write(&path, file_bytes(data)).map_err(at(&path))?;
                    }
                }
                set_meta(&path, &e.meta, !matches!(e.kind, EntryKind::Symlink(_)))?;
            }
        }
    }
    for (path, target) in links {
        std::fs::hard_link(target, &path).map_err(at(&path))?;
    }
    for (path, meta) in dirs.iter().rev() {
        set_meta(path, meta, true)?;
    }
    Ok(())
}

/// A file's bytes; a simulated file gets the bytes the core's tar writer gives it (its digest
/// repeated), so both engines unpack the same content.
fn file_bytes(data: &FileData) -> std::borrow::Cow<'_, [u8]> {
    layerbox_core::engine::cp::file_bytes(data)
}

pub(crate) fn set_meta(path: &Path, meta: &Meta, chmod: bool) -> Result<(), LayerDirError> {
    // rootless, files stay the caller's: its uid is root's in the container; other owners
    // would need subordinate ids mapped, which this engine does not set up
    if !rootless() {
        std::os::unix::fs::lchown(path, Some(meta.uid), Some(meta.gid)).map_err(at(path))?;
    }
    if chmod {
        // after chown, which clears setuid and setgid bits
        rustix::fs::chmod(path, rustix::fs::Mode::from_raw_mode(meta.mode))
            .map_err(|e| at(path)(e.into()))?;
    }
    crate::cp::set_time(path, meta.mtime).map_err(at(path))
}

/// A container's changes in `docker diff` terms: its upper directory against its image layers
/// (`lowers`, bottom first), with the core's rules.
pub fn container_changes(
    upper: &Path,
    lowers: &[PathBuf],
) -> Result<Vec<PathChange>, LayerDirError> {
    let below = lowers
        .iter()
        .map(|l| read_layer_dir(l).map(std::sync::Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    // Layers read from overlayfs directories are well formed; a failure here means a lower
    // directory that is not a layer (say, a whiteout of a directory that a lower layer has as
    // a file), which the kernel would refuse too.
    let below = LayerStack::from_layers(below)
        .map_err(|e| LayerDirError::Unsupported(format!("lower layers: {e}")))?;
    Ok(changes(&read_layer_dir(upper)?, &below))
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerbox_core::fs::{Change, FileData};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_dirs_symlinks_and_hard_links_with_their_metadata() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir_all(d.join("etc")).unwrap();
        std::fs::write(d.join("etc/motd"), "hi\n").unwrap();
        std::fs::set_permissions(d.join("etc/motd"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::os::unix::fs::symlink("etc/motd", d.join("link")).unwrap();
        std::fs::hard_link(d.join("etc/motd"), d.join("hard")).unwrap();
        let layer = read_layer_dir(d).unwrap();
        let paths: Vec<&str> = layer.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["etc", "etc/motd", "hard", "link"]);
        let (_, motd) = layer.entry("etc/motd").unwrap();
        assert_eq!(
            motd.kind,
            EntryKind::File(FileData::Bytes(b"hi\n".to_vec()))
        );
        assert_eq!(motd.meta.mode, 0o640);
        let uid = rustix::process::geteuid().as_raw();
        assert_eq!(motd.meta.uid, uid);
        // "etc/motd" sorts before "hard": it holds the data
        assert_eq!(
            layer.get("hard"),
            Some(&Change::HardLink("etc/motd".into()))
        );
        assert_eq!(
            layer.entry("link").unwrap().1.kind,
            EntryKind::Symlink("etc/motd".into())
        );
        assert!(matches!(
            layer.get("etc"),
            Some(Change::Entry(Entry {
                kind: EntryKind::Dir { opaque: false },
                ..
            }))
        ));
    }

    #[test]
    fn changes_against_lower_layers_follow_docker_diff() {
        let tmp = tempfile::tempdir().unwrap();
        let (lower, upper) = (tmp.path().join("lower"), tmp.path().join("upper"));
        std::fs::create_dir_all(lower.join("etc")).unwrap();
        std::fs::write(lower.join("etc/motd"), "old").unwrap();
        std::fs::create_dir_all(upper.join("etc")).unwrap();
        std::fs::write(upper.join("etc/motd"), "new").unwrap();
        std::fs::write(upper.join("hello"), "hi\n").unwrap();
        let set_mtime = |dir: &Path, secs: u64| {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            std::fs::File::open(dir).unwrap().set_modified(t).unwrap();
        };
        let diff = |lowers: &[PathBuf]| -> Vec<String> {
            container_changes(&upper, lowers)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        set_mtime(&lower.join("etc"), 1_000);
        set_mtime(&upper.join("etc"), 2_000);
        assert_eq!(
            diff(std::slice::from_ref(&lower)),
            ["C /etc", "C /etc/motd", "A /hello"]
        );
        // a directory only copied up as a parent (same mode and mtime) is not listed
        set_mtime(&upper.join("etc"), 1_000);
        assert_eq!(diff(&[lower]), ["C /etc/motd", "A /hello"]);
    }

    #[test]
    fn a_written_layer_reads_back_the_same() {
        let (uid, gid) = (
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        );
        let meta = |mode, mtime| Meta {
            mode,
            uid,
            gid,
            mtime,
        };
        let mut layer = Layer::new();
        layer.insert("app", Entry::dir(meta(0o750, 1_600_000_000)));
        layer.insert("app/bin", Entry::dir(meta(0o755, 1_600_000_100)));
        layer.insert(
            "app/bin/run",
            Entry::file(meta(0o755, 1_600_000_200), "#!/bin/sh\n"),
        );
        layer.insert(
            "app/link",
            Entry::symlink(meta(0o777, 1_600_000_300), "bin/run"),
        );
        assert!(layer.insert_hardlink("app/zz", "app/bin/run"));
        let tmp = tempfile::tempdir().unwrap();
        write_layer_dir(&layer, tmp.path()).unwrap();
        assert_eq!(read_layer_dir(tmp.path()).unwrap(), layer);
    }

    #[test]
    fn a_simulated_file_unpacks_as_its_digest_repeated() {
        let digest = layerbox_core::image::Digest::sha256_of(b"big");
        let data = FileData::Simulated { size: 70, digest };
        let bytes = file_bytes(&data);
        assert_eq!(bytes.len(), 70);
        assert_eq!(&bytes[..32], digest.as_bytes());
        assert_eq!(&bytes[64..], &digest.as_bytes()[..6]);
    }

    #[test]
    fn a_fifo_cannot_be_a_layer_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(tmp.path().join("pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            read_layer_dir(tmp.path()).unwrap_err().to_string(),
            "`/pipe` is a device node or fifo, which the simulated filesystem does not support"
        );
    }
}
