//! A directory in overlayfs' form, read as the core's [`Layer`]: a container's upper directory
//! after a run (its changes), or an unpacked image layer.
//!
//! overlayfs records a deletion as a character device 0/0 and a directory that replaced a lower
//! one as a directory with the `trusted.overlay.opaque=y` xattr; they become
//! [`Change::Whiteout`](layerbox_core::fs::Change::Whiteout) and an opaque
//! [`EntryKind::Dir`], which the core's [`tar`](layerbox_core::fs::tar) writer turns into OCI's
//! `.wh.<name>` and `.wh..wh..opq`. So a layer built on Linux and one built by the simulator are
//! the same kind of value and compare path by path. (With `redirect_dir` and `metacopy` off, as
//! on this machine, overlayfs writes nothing else.)

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use layerbox_core::fs::{Entry, EntryKind, Layer, LayerStack, Meta, PathChange, changes};

/// Why a directory could not be read as a layer.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
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

fn at(path: &Path) -> impl FnOnce(io::Error) -> DiffError + '_ {
    move |source| DiffError::Io {
        path: path.to_owned(),
        source,
    }
}

fn is_opaque(path: &Path) -> bool {
    let mut buf = [0u8; 8];
    rustix::fs::lgetxattr(path, "trusted.overlay.opaque", &mut buf[..])
        .is_ok_and(|n| buf[..n] == *b"y")
}

/// Reads `dir` (overlayfs form) as a layer: paths relative to it, owners, modes and mtimes as on
/// disk, file contents in memory, hard links within the directory kept as links.
pub fn read_layer_dir(dir: &Path) -> Result<Layer, DiffError> {
    let mut layer = Layer::new();
    let mut inodes = HashMap::new();
    walk(dir, "", &mut layer, &mut inodes)?;
    Ok(layer)
}

fn walk(
    dir: &Path,
    rel: &str,
    layer: &mut Layer,
    inodes: &mut HashMap<(u64, u64), String>,
) -> Result<(), DiffError> {
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
            .map_err(|_| DiffError::NotUtf8(path.clone()))?;
        let key = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let m = std::fs::symlink_metadata(&path).map_err(at(&path))?;
        let ft = m.file_type();
        let meta = Meta {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            mtime: m.mtime(),
        };
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
                .map_err(|_| DiffError::NotUtf8(path.clone()))?;
            layer.insert(key, Entry::symlink(meta, target));
        } else if ft.is_file() {
            if m.nlink() > 1
                && let Some(first) = inodes.get(&(m.dev(), m.ino()))
            {
                layer.insert_hardlink(key, first);
                continue;
            }
            if m.nlink() > 1 {
                inodes.insert((m.dev(), m.ino()), key.clone());
            }
            let bytes = std::fs::read(&path).map_err(at(&path))?;
            layer.insert(key, Entry::file(meta, bytes));
        } else {
            return Err(DiffError::Unsupported(format!("/{key}")));
        }
    }
    Ok(())
}

/// A container's changes in `docker diff` terms: its upper directory against its image layers
/// (`lowers`, bottom first), with the core's rules.
pub fn container_changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<PathChange>, DiffError> {
    let below = lowers
        .iter()
        .map(|l| read_layer_dir(l).map(std::sync::Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    // Layers read from overlayfs directories are well formed; a failure here means a lower
    // directory that is not a layer (say, a whiteout of a directory that a lower layer has as
    // a file), which the kernel would refuse too.
    let below = LayerStack::from_layers(below)
        .map_err(|e| DiffError::Unsupported(format!("lower layers: {e}")))?;
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
        // "etc/motd" sorts after "etc" but "hard" comes later: the first one seen holds the data
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
