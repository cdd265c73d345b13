//! docker's copy of an image's content into a new volume (moby's `copyExistingContents`): the
//! first time a volume is mounted empty, what the image has at its mount point is copied in,
//! so `-v data:/var/lib/app` starts with the image's files, and the directory takes the
//! image's owner and mode. Symlinks are copied as symlinks and never followed, so nothing the
//! image links to outside its own tree is read.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps};

/// Copies the tree under the directory `from` into the directory `to` when `to` is empty,
/// then gives `to` the owner and mode of `from`; a `to` with anything in it is left alone, and
/// a `from` that is missing or not a directory copies nothing.
pub fn populate(from: &Path, to: &Path) -> io::Result<()> {
    if std::fs::read_dir(to)?.next().is_some() {
        return Ok(());
    }
    let meta = match std::fs::symlink_metadata(from) {
        Ok(m) if m.is_dir() => m,
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => return Ok(()),
    };
    let mut linked = HashMap::new();
    copy_contents(from, to, &mut linked)?;
    set_metadata(to, &meta)
}

/// Every entry of the directory `from` into the directory `to`. Hard links within the tree
/// stay hard links: `linked` remembers where each multiply-linked inode was copied to.
fn copy_contents(
    from: &Path,
    to: &Path,
    linked: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    for item in std::fs::read_dir(from)? {
        let item = item?;
        copy_entry(&item.path(), &to.join(item.file_name()), linked)?;
    }
    Ok(())
}

fn copy_entry(src: &Path, dst: &Path, linked: &mut HashMap<(u64, u64), PathBuf>) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(src)?;
    let kind = meta.file_type();
    if !kind.is_dir() && meta.nlink() > 1 {
        let inode = (meta.dev(), meta.ino());
        if let Some(first) = linked.get(&inode) {
            return std::fs::hard_link(first, dst);
        }
        linked.insert(inode, dst.to_owned());
    }
    if kind.is_dir() {
        std::fs::create_dir(dst)?;
        copy_contents(src, dst, linked)?;
    } else if kind.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)?;
    } else if kind.is_file() {
        let mut input = std::fs::File::open(src)?;
        let mut output = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(dst)?;
        io::copy(&mut input, &mut output)?;
    } else if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
        let file_type = if kind.is_char_device() {
            FileType::CharacterDevice
        } else if kind.is_block_device() {
            FileType::BlockDevice
        } else {
            FileType::Fifo
        };
        rustix::fs::mknodat(
            CWD,
            dst,
            file_type,
            Mode::from_raw_mode(meta.mode() & 0o7777),
            meta.rdev(),
        )?;
    } else {
        // a socket: nothing a copy can carry (docker's tar copy skips them too)
        return Ok(());
    }
    set_metadata(dst, &meta)
}

/// Owner, then mode (a chown clears set-id bits), then times, none of them through a symlink.
/// An owner the current user namespace does not map (rootless) is left as it comes out.
fn set_metadata(path: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    let owner = rustix::fs::chownat(
        CWD,
        path,
        Some(rustix::fs::Uid::from_raw(meta.uid())),
        Some(rustix::fs::Gid::from_raw(meta.gid())),
        AtFlags::SYMLINK_NOFOLLOW,
    );
    match owner {
        Ok(()) | Err(rustix::io::Errno::INVAL) => {}
        Err(e) => return Err(e.into()),
    }
    if !meta.file_type().is_symlink() {
        rustix::fs::chmod(path, Mode::from_raw_mode(meta.mode() & 0o7777))?;
    }
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        last_modification: Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn image(dir: &Path) {
        std::fs::create_dir_all(dir.join("sub/deep")).unwrap();
        std::fs::write(dir.join("sub/deep/file"), "content").unwrap();
        std::fs::set_permissions(dir.join("sub"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::hard_link(dir.join("sub/deep/file"), dir.join("linked")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../outside", dir.join("rel")).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    }

    #[test]
    fn an_empty_volume_gets_the_images_tree_links_and_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("image"), tmp.path().join("volume"));
        image(&from);
        std::fs::create_dir(&to).unwrap();
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::open(from.join("sub/deep/file"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        populate(&from, &to).unwrap();
        assert_eq!(
            std::fs::read_to_string(to.join("sub/deep/file")).unwrap(),
            "content"
        );
        let (a, b) = (
            std::fs::metadata(to.join("sub/deep/file")).unwrap(),
            std::fs::metadata(to.join("linked")).unwrap(),
        );
        assert_eq!(a.ino(), b.ino(), "a hard link stays one");
        assert_eq!(a.modified().unwrap(), old);
        // symlinks are copied, not followed: their targets are never read
        assert_eq!(
            std::fs::read_link(to.join("abs")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert!(to.join("abs").symlink_metadata().unwrap().is_symlink());
        assert_eq!(
            std::fs::read_link(to.join("rel")).unwrap(),
            Path::new("../../outside")
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&to.join("sub")), 0o700);
        assert_eq!(
            mode(&to),
            0o750,
            "the volume takes the image directory's mode"
        );
    }

    #[test]
    fn a_volume_with_content_or_a_missing_source_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("image"), tmp.path().join("volume"));
        image(&from);
        std::fs::create_dir(&to).unwrap();
        std::fs::write(to.join("mine"), "kept").unwrap();
        populate(&from, &to).unwrap();
        let names: Vec<_> = std::fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["mine"]);
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        // nothing in the image there, or a file: nothing to copy
        populate(&tmp.path().join("missing"), &empty).unwrap();
        std::fs::write(tmp.path().join("file"), "x").unwrap();
        populate(&tmp.path().join("file"), &empty).unwrap();
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    }
}
