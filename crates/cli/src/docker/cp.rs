//! `cp` on the Linux engine. The core carries out docker's rules (`engine::cp`) on the
//! container's filesystem loaded from its directories (its upper directory over its image's
//! layers, as `export` and `commit` load it), with the host's real files on the local side.
//! A copy out is then done. A copy in changed the loaded writable layer: what changed is
//! written to the container, each path opened below its root with `RESOLVE_IN_ROOT`, so no
//! symlink or `..` leads out of it:
//!
//! * into a container that is not running, in its upper directory with overlayfs' rules, as
//!   the core applied them: parent directories copied up, a whiteout at a copied path replaced,
//!   a directory made over one marked opaque;
//! * into a running one, through its root (`/proc/<pid>/root`, the mounted overlay), so the
//!   kernel does the copy-up itself.

use std::io;
use std::os::fd::OwnedFd;

use layerbox_core::cli::command::{Command, CpOptions};
use layerbox_core::engine::Output;
use layerbox_core::engine::cp::{Direction, direction};
use layerbox_core::fs::{Change, Entry, EntryKind, Layer};
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};

use super::{Linux, print, state, store_error};

/// Where a copy's changes are written: a container's upper directory, or its mounted root.
pub(super) enum Root {
    Upper(OwnedFd),
    Mounted(OwnedFd),
}

impl Root {
    fn fd(&self) -> &OwnedFd {
        match self {
            Self::Upper(fd) | Self::Mounted(fd) => fd,
        }
    }
}

impl Linux {
    /// `cp`, either way.
    pub(super) fn cp(&self, o: &CpOptions) -> io::Result<u8> {
        let (name, into, stdin) = match direction(o) {
            Ok(Direction::FromContainer { container, .. }) => (container, false, Vec::new()),
            Ok(Direction::ToContainer { src, container, .. }) => {
                let mut input = Vec::new();
                if src == "-" {
                    io::Read::read_to_end(&mut io::stdin(), &mut input)?;
                }
                (container, true, input)
            }
            Err(e) => {
                eprintln!("{e}");
                return Ok(1);
            }
        };
        let _lock = if into {
            self.store.lock()
        } else {
            self.store.lock_shared()
        }
        .map_err(store_error)?;
        let mut loaded = state::load(&self.store, false).map_err(store_error)?;
        self.load_container_upper(&mut loaded, &name)?;
        // what is under a volume's mount point is the volume's, in its directory
        let volumes = self.load_volume_files(&mut loaded, &name)?;
        let mut engine = self.engine(std::mem::take(&mut loaded.state));
        let found = engine.find_container(&name).ok();
        let before = found.map(|i| engine.state().containers[i].upper.clone());
        engine.set_host_files(crate::cp::FsHost::current()?);
        engine.set_stdin(stdin);
        let mut out = Output::default();
        let code = engine.run_command(&Command::Cp(o.clone()), &mut out);
        if into && let Err(e) = self.write_volume_files(&volumes, engine.state()) {
            print(&out)?;
            eprintln!("Error response from daemon: {e}");
            return Ok(1);
        }
        if into && let (Some(i), Some(before)) = (found, before) {
            let c = &engine.state().containers[i];
            let changed = delta(&before, &c.upper);
            if !changed.is_empty() {
                let record = loaded.records.get(&c.id);
                let running = record
                    .and_then(|r| r.init)
                    .filter(|p| c.state.is_up() && p.alive());
                let root = if let Some(p) = running {
                    Root::Mounted(open_dir(&format!("/proc/{}/root", p.pid))?)
                } else {
                    let dir = self
                        .store
                        .container_dir(&c.id)
                        .map_err(store_error)?
                        .join("upper");
                    std::fs::create_dir_all(&dir)?;
                    Root::Upper(open_dir(&dir.to_string_lossy())?)
                };
                if let Err(e) = write_changes(&root, &changed) {
                    print(&out)?;
                    eprintln!("Error response from daemon: {e}");
                    return Ok(1);
                }
            }
        }
        print(&out)?;
        Ok(code)
    }
}

pub(super) fn open_dir(path: &str) -> io::Result<OwnedFd> {
    rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io::Error::other(format!("open {path}: {e}")))
}

/// What a copy changed in a writable layer: paths whose change is new or different (parents
/// first), and paths it no longer has (`None`).
pub fn delta<'a>(before: &Layer, after: &'a Layer) -> Vec<(String, Option<&'a Change>)> {
    let mut out: Vec<(String, Option<&Change>)> = after
        .iter()
        .filter(|(p, c)| !p.is_empty() && before.get(p) != Some(*c))
        .map(|(p, c)| (p.to_owned(), Some(c)))
        .collect();
    out.extend(
        before
            .iter()
            .filter(|(p, _)| !p.is_empty() && after.get(p).is_none())
            .map(|(p, _)| (p.to_owned(), None)),
    );
    out
}

/// The directory `rel` (`a/b`, or `""` for the root itself) below `root`, resolved in its
/// scope.
fn parent_fd(root: &OwnedFd, rel: &str) -> io::Result<OwnedFd> {
    let path = if rel.is_empty() { "." } else { rel };
    rustix::fs::openat2(
        root,
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(|e| io::Error::other(format!("open /{rel}: {e}")))
}

/// What is at `name` in `dir`, not following a symlink.
fn kind_at(dir: &OwnedFd, name: &str) -> Option<rustix::fs::FileType> {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .ok()
        .map(|s| rustix::fs::FileType::from_raw_mode(s.st_mode))
}

/// Removes `name` in `dir`, a directory with everything in it.
fn remove_at(dir: &OwnedFd, name: &str) -> io::Result<()> {
    match kind_at(dir, name) {
        None => Ok(()),
        Some(rustix::fs::FileType::Directory) => {
            let sub = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let names: Vec<String> = rustix::fs::Dir::read_from(&sub)?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "." && n != "..")
                .collect();
            for n in names {
                remove_at(&sub, &n)?;
            }
            rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR).map_err(Into::into)
        }
        Some(_) => rustix::fs::unlinkat(dir, name, AtFlags::empty()).map_err(Into::into),
    }
}

/// Writes each change below `root` (see the module's description).
pub(super) fn write_changes(root: &Root, changes: &[(String, Option<&Change>)]) -> io::Result<()> {
    let mut dirs = Vec::new();
    for (rel, change) in changes {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let dir = parent_fd(root.fd(), parent)?;
        let at = |e: io::Error| io::Error::other(format!("/{rel}: {e}"));
        match (change, root) {
            (None, _) => remove_at(&dir, name).map_err(at)?,
            (Some(Change::Whiteout), Root::Upper(_)) => {
                remove_at(&dir, name).map_err(at)?;
                rustix::fs::mknodat(
                    &dir,
                    name,
                    rustix::fs::FileType::CharacterDevice,
                    Mode::empty(),
                    0,
                )
                .map_err(|e| at(e.into()))?;
            }
            // through the mounted overlay, the kernel writes whiteouts itself
            (Some(Change::Whiteout | Change::HardLink(_)), _) => {}
            (Some(Change::Entry(e)), _) => {
                put_at(&dir, name, e).map_err(at)?;
                if let (EntryKind::Dir { opaque: true }, Root::Upper(_)) = (&e.kind, root) {
                    let fd = rustix::fs::openat(
                        &dir,
                        name,
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .map_err(|e| at(e.into()))?;
                    rustix::fs::fsetxattr(
                        &fd,
                        crate::linux::layerdir::opaque_xattr(),
                        b"y",
                        rustix::fs::XattrFlags::empty(),
                    )
                    .map_err(|e| at(e.into()))?;
                }
                if e.is_dir() {
                    dirs.push((rel.clone(), e.meta));
                }
            }
        }
    }
    // directories' times once what is in them is written
    for (rel, meta) in dirs.iter().rev() {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let dir = parent_fd(root.fd(), parent)?;
        crate::cp::set_time_at(&dir, std::path::Path::new(name), meta.mtime)?;
    }
    Ok(())
}

/// Puts `entry` at `name` in `dir`: a directory over a directory takes its metadata, anything
/// else replaces what is there; owner, mode and time as the entry says.
fn put_at(dir: &OwnedFd, name: &str, entry: &Entry) -> io::Result<()> {
    let existing = kind_at(dir, name);
    match &entry.kind {
        EntryKind::Dir { .. } => {
            if existing != Some(rustix::fs::FileType::Directory) {
                remove_at(dir, name)?;
                rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700))?;
            }
        }
        EntryKind::Symlink(target) => {
            remove_at(dir, name)?;
            rustix::fs::symlinkat(target.as_str(), dir, name)?;
        }
        EntryKind::File(data) => {
            remove_at(dir, name)?;
            let fd = rustix::fs::openat(
                dir,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            let mut file = std::fs::File::from(fd);
            io::Write::write_all(&mut file, &layerbox_core::engine::cp::file_bytes(data))?;
        }
    }
    if !crate::linux::layerdir::rootless() {
        rustix::fs::chownat(
            dir,
            name,
            Some(rustix::fs::Uid::from_raw(entry.meta.uid)),
            Some(rustix::fs::Gid::from_raw(entry.meta.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
    }
    if !matches!(entry.kind, EntryKind::Symlink(_)) {
        // after chown, which clears setuid and setgid bits
        rustix::fs::chmodat(
            dir,
            name,
            Mode::from_raw_mode(entry.meta.mode & 0o7777),
            AtFlags::empty(),
        )?;
    }
    crate::cp::set_time_at(dir, std::path::Path::new(name), entry.meta.mtime)
}
