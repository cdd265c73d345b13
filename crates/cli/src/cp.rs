//! `cp`'s local side on the real filesystem, for both engines: the core's
//! [`HostFiles`](layerbox_core::engine::cp::HostFiles) with `std::fs`, errors worded as Go's
//! `os` package words them (docker prints them). Files copied out are the user's: no chown, as
//! docker's client (`NoLchown`); modes and times are kept.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use layerbox_core::engine::cp::{ExtractTarget, HostFiles, Member};
use layerbox_core::fs::{Entry, EntryKind, FileType, Meta};

/// The host's files, relative paths from the working directory.
#[derive(Debug, Clone)]
pub struct FsHost {
    cwd: String,
}

impl FsHost {
    /// The host as the current process sees it.
    pub fn current() -> io::Result<Self> {
        Ok(Self {
            cwd: std::env::current_dir()?.to_string_lossy().into_owned(),
        })
    }
}

/// An OS error as Go's `*PathError` prints it: `lstat /x: no such file or directory`.
pub fn go_error(op: &str, path: &str, e: &io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(libc::ENOENT) => "no such file or directory".to_owned(),
        Some(libc::EACCES) => "permission denied".to_owned(),
        Some(libc::ENOTDIR) => "not a directory".to_owned(),
        Some(libc::EEXIST) => "file exists".to_owned(),
        Some(libc::ELOOP) => "too many levels of symbolic links".to_owned(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_owned();
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
    };
    format!("{op} {path}: {text}")
}

fn missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT))
}

fn kind_of(meta: &std::fs::Metadata) -> FileType {
    let t = meta.file_type();
    if t.is_dir() {
        FileType::Dir
    } else if t.is_symlink() {
        FileType::Symlink
    } else {
        FileType::File
    }
}

/// A file's owner, permissions and time.
pub fn meta_of(meta: &std::fs::Metadata) -> Meta {
    Meta {
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: meta.mtime(),
    }
}

/// The tree at `path` (a final symlink not followed) as members named `name` and `name/…`,
/// each directory's entries in name order (Go's `filepath.Walk`); devices, FIFOs and sockets
/// are left out, as the simulated filesystem cannot hold them.
pub fn archive_dir(path: &Path, name: &str) -> Result<Vec<Member>, String> {
    let shown = path.to_string_lossy();
    let mut out = Vec::new();
    let mut todo = vec![(path.to_owned(), name.to_owned())];
    while let Some((p, name)) = todo.pop() {
        let shown_p = p.to_string_lossy().into_owned();
        let meta = std::fs::symlink_metadata(&p).map_err(|e| go_error("lstat", &shown_p, &e))?;
        let t = meta.file_type();
        let entry = if t.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(&p)
                .map_err(|e| go_error("open", &shown_p, &e))?
                .map(|d| d.map(|d| d.file_name()))
                .collect::<Result<_, _>>()
                .map_err(|e| go_error("readdirent", &shown_p, &e))?;
            names.sort();
            let prefix = if name == "/" {
                String::new()
            } else {
                name.trim_end_matches('/').to_owned()
            };
            for child in names.into_iter().rev() {
                let child_name = format!("{prefix}/{}", child.to_string_lossy());
                todo.push((p.join(&child), child_name));
            }
            Entry::dir(meta_of(&meta))
        } else if t.is_symlink() {
            let target = std::fs::read_link(&p).map_err(|e| go_error("readlink", &shown_p, &e))?;
            Entry::symlink(meta_of(&meta), target.to_string_lossy())
        } else if t.is_file() {
            let bytes = std::fs::read(&p).map_err(|e| go_error("open", &shown_p, &e))?;
            Entry::file(meta_of(&meta), bytes)
        } else {
            continue;
        };
        out.push(Member { name, entry });
    }
    if out.is_empty() {
        return Err(format!("lstat {shown}: no such file or directory"));
    }
    Ok(out)
}

impl HostFiles for FsHost {
    fn cwd(&self) -> String {
        self.cwd.clone()
    }

    fn lstat(&self, path: &str) -> Result<Option<FileType>, String> {
        match std::fs::symlink_metadata(path) {
            Ok(m) => Ok(Some(kind_of(&m))),
            Err(e) if missing(&e) => Ok(None),
            Err(e) => Err(go_error("lstat", path, &e)),
        }
    }

    fn stat(&self, path: &str) -> Result<Option<FileType>, String> {
        match std::fs::metadata(path) {
            Ok(m) => Ok(Some(kind_of(&m))),
            Err(e) if missing(&e) => Ok(None),
            Err(e) => Err(go_error("stat", path, &e)),
        }
    }

    fn read_link(&self, path: &str) -> Result<String, String> {
        std::fs::read_link(path)
            .map(|t| t.to_string_lossy().into_owned())
            .map_err(|e| go_error("readlink", path, &e))
    }

    fn eval_symlinks(&self, path: &str) -> Result<String, String> {
        std::fs::canonicalize(path)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| go_error("lstat", path.trim_end_matches('/'), &e))
    }

    fn archive(&self, path: &str, name: &str) -> Result<Vec<Member>, String> {
        archive_dir(Path::new(path), name)
    }

    fn target(&mut self) -> &mut dyn ExtractTarget {
        self
    }
}

/// Sets the modification (and access) time of `name` in `dir` (or of a path, with
/// `rustix::fs::CWD`), not following a symlink.
pub fn set_time_at(dir: impl std::os::fd::AsFd, name: &Path, mtime: i64) -> io::Result<()> {
    let time = rustix::fs::Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    rustix::fs::utimensat(
        dir,
        name,
        &rustix::fs::Timestamps {
            last_access: time,
            last_modification: time,
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io::Error::from)
}

/// Sets a path's modification (and access) time, not following a symlink.
pub fn set_time(path: &Path, mtime: i64) -> io::Result<()> {
    set_time_at(rustix::fs::CWD, path, mtime)
}

/// Writes `entry` at `path` (nothing there, or a directory for a directory): its content,
/// mode and time; `owner`: chown it too.
pub fn put_entry(path: &Path, entry: &Entry, owner: bool) -> io::Result<()> {
    match &entry.kind {
        EntryKind::Dir { .. } => {
            if !path.is_dir() {
                std::fs::DirBuilder::new().mode(0o700).create(path)?;
            }
        }
        EntryKind::Symlink(target) => std::os::unix::fs::symlink(target, path)?,
        EntryKind::File(layerbox_core::fs::FileData::Simulated { .. }) => {
            return Err(io::Error::other(
                "the file is modelled by the simulation, a size and a digest without bytes",
            ));
        }
        EntryKind::File(data) => {
            std::fs::write(path, layerbox_core::engine::cp::file_bytes(data))?;
        }
    }
    if owner {
        std::os::unix::fs::lchown(path, Some(entry.meta.uid), Some(entry.meta.gid))?;
    }
    if !matches!(entry.kind, EntryKind::Symlink(_)) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(entry.meta.mode))?;
    }
    set_time(path, entry.meta.mtime)
}

impl ExtractTarget for FsHost {
    fn kind(&self, path: &str) -> Result<Option<FileType>, String> {
        match std::fs::symlink_metadata(path) {
            Ok(m) => Ok(Some(kind_of(&m))),
            Err(e) if missing(&e) || e.raw_os_error() == Some(libc::ENOTDIR) => Ok(None),
            Err(e) => Err(go_error("lstat", path, &e)),
        }
    }

    fn mkdir_all(&mut self, path: &str) -> Result<(), String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
            .map_err(|e| go_error("mkdir", path, &e))
    }

    fn remove_all(&mut self, path: &str) -> Result<(), String> {
        let r = match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(e) if missing(&e) => Ok(()),
            Err(e) => Err(e),
        };
        r.map_err(|e| go_error("unlinkat", path, &e))
    }

    fn put(&mut self, path: &str, entry: &Entry) -> Result<(), String> {
        put_entry(Path::new(path), entry, false).map_err(|e| go_error("open", path, &e))
    }

    fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<(), String> {
        set_time(Path::new(path), mtime).map_err(|e| go_error("chtimes", path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerbox_core::engine::cp::extract;

    #[test]
    fn a_tree_goes_out_and_back_with_modes_and_times() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("sub/a"), "a\n").unwrap();
        std::fs::set_permissions(src.join("sub/a"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::os::unix::fs::symlink("sub/a", src.join("link")).unwrap();
        set_time(&src.join("sub/a"), 1_000_000).unwrap();
        let members = archive_dir(&src, "src").unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["src", "src/link", "src/sub", "src/sub/a"]);
        let mut host = FsHost {
            cwd: tmp.path().to_string_lossy().into_owned(),
        };
        let dest = tmp.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        extract(host.target(), &dest.to_string_lossy(), &members, None).unwrap();
        let a = std::fs::metadata(dest.join("src/sub/a")).unwrap();
        assert_eq!((a.mode() & 0o7777, a.mtime()), (0o640, 1_000_000));
        assert_eq!(
            std::fs::read_link(dest.join("src/link")).unwrap(),
            Path::new("sub/a")
        );
        // a second copy over it is refused where a file would replace a directory
        let err = extract(
            host.target(),
            &dest.join("src").to_string_lossy(),
            &[Member {
                name: "sub".into(),
                entry: Entry::file(Meta::new(0o644, 0), "x"),
            }],
            None,
        )
        .unwrap_err();
        assert!(err.starts_with("cannot overwrite directory"), "{err}");
        assert_eq!(host.lstat(&format!("{}/nope", host.cwd())), Ok(None));
    }
}
