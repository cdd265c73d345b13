//! `docker cp`: files between a container and the local filesystem, with docker 20.10's path
//! rules and words. As in docker, the work is split between the client, which knows the local
//! side ([`HostFiles`]: the real filesystem natively, the project files in the browser), and the
//! daemon, which knows the container ([`ContainerFiles`]: stat a path, give a tree as an
//! archive, extract one into a directory). [`copy`] is the client's logic (`cli/command/
//! container/cp.go` and moby's `pkg/archive/copy.go`): which side is the container, trailing
//! `/.` (the contents) and `/`, what must exist, and how the archive's top name is rebased so
//! that the copy lands under the name asked for. [`extract`] is the one unpacking rule both
//! sides follow (moby's `Unpack` with `NoOverwriteDirNonDir`), and [`ContainerFiles`] is
//! implemented on a container's [`UnionFs`] by [`stat_in`], [`archive_in`] and [`extract_in`]:
//! what is written goes into the container's writable layer (copy-up of the parent
//! directories, whiteouts replaced), so `diff` and `commit` see it.
//!
//! ```
//! use layerbox_core::engine::cp::split_cp_arg;
//! assert_eq!(split_cp_arg("web:/etc/passwd"), (Some("web"), "/etc/passwd"));
//! assert_eq!(split_cp_arg("./file:name.txt"), (None, "./file:name.txt"));
//! assert_eq!(split_cp_arg("/abs:path"), (None, "/abs:path"));
//! ```

use std::io::Read as _;

use crate::cli::command::CpOptions;
use crate::fs::path::{clean_abs, clean_below_root};
use crate::fs::{Entry, EntryKind, FileData, FileType, FsError, Meta, UnionFs};

/// How many symlinks a path may pass through when resolved in a container's scope (moby's
/// `symlink.FollowSymlinkInScope` allows 255).
const MAX_SCOPED_LINKS: usize = 255;

/// Why a copy failed, in docker 20.10's words; every one exits 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpError {
    /// An empty source argument.
    #[error("source can not be empty")]
    SourceEmpty,
    /// An empty destination argument.
    #[error("destination can not be empty")]
    DestinationEmpty,
    /// Neither argument names a container.
    #[error("must specify at least one container source")]
    NoContainer,
    /// Both arguments name a container.
    #[error("copying between containers is not supported")]
    AcrossContainers,
    /// The daemon answered 404: no such container, or nothing at the path in it.
    #[error("Error: No such container:path: {container}:{path}")]
    NotFound {
        /// The container as named.
        container: String,
        /// The path as sent.
        path: String,
    },
    /// Any other refusal of the daemon.
    #[error("Error response from daemon: {0}")]
    Daemon(String),
    /// The client's own error about the local side (`no such directory`, `cannot copy
    /// directory`, `lstat /x: no such file or directory`, ...).
    #[error("{0}")]
    Local(String),
}

/// moby's `ErrCannotCopyDir`.
const CANNOT_COPY_DIR: &str = "cannot copy directory";
/// moby's `ErrDirNotExists`.
const NO_SUCH_DIRECTORY: &str = "no such directory";
/// moby's `ErrNotDirectory`.
const NOT_A_DIRECTORY: &str = "not a directory";
/// moby's `ErrExtractPointNotDirectory`.
const EXTRACTION_POINT: &str = "extraction point is not a directory";

/// What the daemon says about a path in a container (moby's `ContainerPathStat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    /// The last component of the path asked for.
    pub name: String,
    /// What it is (a symlink is not followed).
    pub file_type: FileType,
    /// Its length (a symlink's: its target's length).
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Modification time, Unix seconds.
    pub mtime: i64,
    /// For a symlink, where it leads once resolved in the container's scope (absolute).
    pub link_target: Option<String>,
}

/// One member of a copy's archive: its name (`dir`, `dir/sub/f`; `.` and `./f` for a
/// directory's contents) and what it is, with its data and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The name, without a trailing slash.
    pub name: String,
    /// The entry.
    pub entry: Entry,
}

/// The client's local filesystem: the host natively, the project files in the browser. Paths
/// are absolute; errors are Go's texts (`lstat /x/y: not a directory`), which docker prints.
pub trait HostFiles {
    /// The directory relative paths start from (absolute).
    fn cwd(&self) -> String;
    /// `os.Lstat`: what is at `path`, a final symlink not followed; `Ok(None)` if nothing.
    fn lstat(&self, path: &str) -> Result<Option<FileType>, String>;
    /// `os.Stat`: what `path` leads to; `Ok(None)` if nothing.
    fn stat(&self, path: &str) -> Result<Option<FileType>, String>;
    /// `os.Readlink`.
    fn read_link(&self, path: &str) -> Result<String, String>;
    /// `filepath.EvalSymlinks`: `path` with every symlink resolved (it must exist).
    fn eval_symlinks(&self, path: &str) -> Result<String, String>;
    /// The tree at `path` (a final symlink not followed), its members named `name` and
    /// `name/…`, parents before children.
    fn archive(&self, path: &str, name: &str) -> Result<Vec<Member>, String>;
    /// Where [`extract`] writes on this side.
    fn target(&mut self) -> &mut dyn ExtractTarget;
    /// The files, when they are held in memory (the browser's project files, to show what a
    /// copy out wrote); `None` for a real filesystem.
    fn files(&self) -> Option<&crate::fs::Layer> {
        None
    }
}

/// The daemon's side of a copy, for one engine.
pub trait ContainerFiles {
    /// `HEAD /containers/{name}/archive`: what is at `path` in the container.
    fn stat_path(&mut self, container: &str, path: &str) -> Result<PathStat, CpError>;
    /// `GET /containers/{name}/archive`: the tree at `path`, and its stat.
    fn archive_path(
        &mut self,
        container: &str,
        path: &str,
    ) -> Result<(PathStat, Vec<Member>), CpError>;
    /// `PUT /containers/{name}/archive`: `members` extracted into the directory `path`;
    /// `copy_uid_gid` is `-a`.
    fn extract_to_dir(
        &mut self,
        container: &str,
        path: &str,
        members: &[Member],
        copy_uid_gid: bool,
    ) -> Result<(), CpError>;
}

/// Where [`extract`] writes: the calls moby's `Unpack` makes, on absolute paths whose parent
/// directories exist.
pub trait ExtractTarget {
    /// What is at `path`, a final symlink not followed; `Ok(None)` if nothing.
    fn kind(&self, path: &str) -> Result<Option<FileType>, String>;
    /// Makes `path` and its missing parents, mode 0755.
    fn mkdir_all(&mut self, path: &str) -> Result<(), String>;
    /// Removes what is at `path`, a directory with everything in it.
    fn remove_all(&mut self, path: &str) -> Result<(), String>;
    /// Puts `entry` at `path`, where nothing is or a directory is (then only its metadata is
    /// taken); the client's side keeps no owners (`NoLchown`: the files are the user's).
    fn put(&mut self, path: &str, entry: &Entry) -> Result<(), String>;
    /// Sets a directory's modification time (after its children changed it).
    fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<(), String>;
}

/// docker's `splitCpArg`: `CONTAINER:PATH` or a local path. A local path with a `:` is made
/// explicit with a leading `/` or `.` (`./file:name.txt`), as with `scp`.
pub fn split_cp_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((container, path)) if !container.starts_with('.') => (Some(container), path),
        _ => (None, arg),
    }
}

// ---- Go's path functions, on `/` paths ---------------------------------------------------------

/// `filepath.Clean` of an absolute path.
fn clean(path: &str) -> String {
    clean_abs(path)
}

/// `filepath.Base`.
fn base(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// `filepath.Dir` of an absolute path.
fn dir(path: &str) -> String {
    clean(path.rfind('/').map_or("/", |i| &path[..=i]))
}

/// `filepath.Split`: the directory with its trailing slash, and the last component.
fn split(path: &str) -> (&str, &str) {
    path.rfind('/')
        .map_or(("", path), |i| (&path[..=i], &path[i + 1..]))
}

fn specifies_current_dir(path: &str) -> bool {
    base(path) == "."
}

fn has_trailing_separator(path: &str) -> bool {
    path.ends_with('/')
}

/// moby's `PreserveTrailingDotOrSeparator`: a cleaned path keeps the `/.` or `/` its original
/// ended with, which says "the contents" or "a directory".
fn preserve_trailing(cleaned: &str, original: &str) -> String {
    let mut out = cleaned.to_owned();
    if !specifies_current_dir(cleaned) && specifies_current_dir(original) {
        if !has_trailing_separator(&out) {
            out.push('/');
        }
        out.push('.');
    }
    if !has_trailing_separator(&out) && has_trailing_separator(original) {
        out.push('/');
    }
    out
}

/// moby's `SplitPathDirEntry`: the directory and the entry in it (`.` for `/a/.`).
fn split_path_dir_entry(path: &str) -> (String, String) {
    let mut cleaned = clean(path);
    if specifies_current_dir(path) {
        cleaned.push_str("/.");
    }
    (dir(&cleaned), base(&cleaned).to_owned())
}

/// A local path made absolute against `cwd`, its trailing `/.` or `/` kept.
fn local_abs(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{cwd}/{path}")
    };
    preserve_trailing(&clean(&joined), path)
}

/// A container path as the daemon takes it: absolute from the container's root.
fn container_abs(path: &str) -> String {
    preserve_trailing(&clean(&format!("/{path}")), path)
}

/// moby's `GetRebaseName`: the resolved path with the original's trailing `/.` or `/`, and
/// the name to rebase the archive to when resolving changed the last component.
fn rebase_name(path: &str, resolved: &str) -> (String, Option<String>) {
    let mut resolved = resolved.to_owned();
    if specifies_current_dir(path) && !specifies_current_dir(&resolved) {
        resolved.push_str("/.");
    }
    if has_trailing_separator(path) && !has_trailing_separator(&resolved) {
        resolved.push('/');
    }
    let name = (base(path) != base(&resolved)).then(|| base(path).to_owned());
    (resolved, name)
}

/// moby's `RebaseArchiveEntries`: members named `old` or `old/…` renamed to `new` and `new/…`.
pub fn rebase(members: &mut [Member], old: &str, new: &str) {
    let prefix = if old == "/" {
        "/".to_owned()
    } else {
        format!("{old}/")
    };
    for m in members {
        if m.name == old {
            new.clone_into(&mut m.name);
        } else if let Some(rest) = m.name.strip_prefix(&prefix) {
            m.name = format!("{}/{rest}", new.trim_end_matches('/'));
        }
    }
}

/// What the client knows about a copy's source or destination (moby's `CopyInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CopyInfo {
    path: String,
    exists: bool,
    is_dir: bool,
    rebase_name: Option<String>,
}

/// moby's `PrepareArchiveCopy`: the directory to extract into, and how to rename the
/// archive's top name (`from`, `to`) so that the copy lands where the destination says.
fn prepare_archive_copy(
    src: &CopyInfo,
    dst: &CopyInfo,
) -> Result<(String, Option<(String, String)>), CpError> {
    let (dst_dir, dst_base) = split_path_dir_entry(&dst.path);
    let (_, src_base) = split_path_dir_entry(&src.path);
    let src_base = src.rebase_name.clone().unwrap_or(src_base);
    match () {
        () if dst.exists && dst.is_dir => Ok((dst.path.clone(), None)),
        () if dst.exists && src.is_dir => Err(CpError::Local(CANNOT_COPY_DIR.into())),
        () if dst.exists || src.is_dir => Ok((dst_dir, Some((src_base, dst_base)))),
        () if has_trailing_separator(&dst.path) => Err(CpError::Local(NO_SUCH_DIRECTORY.into())),
        () => Ok((dst_dir, Some((src_base, dst_base)))),
    }
}

// ---- the client ------------------------------------------------------------------------------

/// Which way a copy goes, from its two arguments (docker's `runCopy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// `CONTAINER:SRC_PATH DEST_PATH|-`.
    FromContainer {
        /// The container.
        container: String,
        /// The path in it.
        src: String,
        /// The local path, or `-`.
        dst: String,
    },
    /// `SRC_PATH|- CONTAINER:DEST_PATH`.
    ToContainer {
        /// The local path, or `-`.
        src: String,
        /// The container.
        container: String,
        /// The path in it.
        dst: String,
    },
}

/// The copy's direction, or docker's refusal of the arguments.
pub fn direction(o: &CpOptions) -> Result<Direction, CpError> {
    if o.source.is_empty() {
        return Err(CpError::SourceEmpty);
    }
    if o.destination.is_empty() {
        return Err(CpError::DestinationEmpty);
    }
    match (split_cp_arg(&o.source), split_cp_arg(&o.destination)) {
        ((Some(_), _), (Some(_), _)) => Err(CpError::AcrossContainers),
        ((Some(c), src), (None, dst)) => Ok(Direction::FromContainer {
            container: c.to_owned(),
            src: src.to_owned(),
            dst: dst.to_owned(),
        }),
        ((None, src), (Some(c), dst)) => Ok(Direction::ToContainer {
            src: src.to_owned(),
            container: c.to_owned(),
            dst: dst.to_owned(),
        }),
        ((None, _), (None, _)) => Err(CpError::NoContainer),
    }
}

/// Carries out `docker cp`: `stdin` is the tar `-` reads; returns the tar `-` writes to
/// stdout, if the destination is `-`.
pub fn copy(
    o: &CpOptions,
    stdin: &[u8],
    host: &mut dyn HostFiles,
    daemon: &mut dyn ContainerFiles,
) -> Result<Option<Vec<u8>>, CpError> {
    match direction(o)? {
        Direction::FromContainer {
            container,
            src,
            dst,
        } => copy_from_container(o, &container, &src, &dst, host, daemon),
        Direction::ToContainer {
            src,
            container,
            dst,
        } => copy_to_container(o, stdin, &container, &src, &dst, host, daemon).map(|()| None),
    }
}

fn local(e: String) -> CpError {
    CpError::Local(e)
}

/// docker's `ValidateOutputPath`: the destination's directory must exist, and the destination
/// be a directory or a regular file if it exists.
fn validate_output_path(host: &dyn HostFiles, path: &str) -> Result<(), CpError> {
    let parent = dir(&clean(path));
    if parent != "." && host.stat(&parent).map_err(local)?.is_none() {
        return Err(CpError::Local(format!(
            "invalid output path: directory {parent:?} does not exist"
        )));
    }
    host.stat(path).map_err(local)?;
    Ok(())
}

fn copy_from_container(
    o: &CpOptions,
    container: &str,
    src: &str,
    dst: &str,
    host: &mut dyn HostFiles,
    daemon: &mut dyn ContainerFiles,
) -> Result<Option<Vec<u8>>, CpError> {
    let dst = if dst == "-" {
        dst.to_owned()
    } else {
        local_abs(&host.cwd(), dst)
    };
    if dst != "-" {
        validate_output_path(host, &dst)?;
    }
    let mut src = src.to_owned();
    let mut rebase_to = None;
    if o.follow_link
        && let Ok(PathStat {
            file_type: FileType::Symlink,
            link_target: Some(target),
            ..
        }) = daemon.stat_path(container, &src)
    {
        let (resolved, name) = rebase_name(&src, &target);
        src = resolved;
        rebase_to = name;
    }
    let (stat, mut members) = daemon.archive_path(container, &src)?;
    if dst == "-" {
        if let Some((name, size)) = members.iter().find_map(|m| match &m.entry.kind {
            EntryKind::File(FileData::Simulated { size, .. }) => Some((&m.name, *size)),
            _ => None,
        }) {
            let full = clean(&format!("{}/{name}", dir(&container_abs(&src))));
            return Err(CpError::Daemon(super::archive::modelled_error(
                &format!("{container}:{src}"),
                full.trim_start_matches('/'),
                size,
            )));
        }
        return Ok(Some(write_tar(&members)));
    }
    let src_info = CopyInfo {
        path: src.clone(),
        exists: true,
        is_dir: stat.file_type == FileType::Dir,
        rebase_name: rebase_to.clone(),
    };
    if let Some(name) = &rebase_to {
        let (_, src_base) = split_path_dir_entry(&src);
        rebase(&mut members, &src_base, name);
    }
    let dst_info = destination_info(host, &dst)?;
    let (dir, renamed) = prepare_archive_copy(&src_info, &dst_info)?;
    if let Some((from, to)) = renamed {
        rebase(&mut members, &from, &to);
    }
    extract(host.target(), &dir, &members, None).map_err(CpError::Local)?;
    Ok(None)
}

/// moby's `CopyInfoDestinationPath`: the local destination with its symlinks followed; if it
/// does not exist, its parent must be a directory.
fn destination_info(host: &dyn HostFiles, path: &str) -> Result<CopyInfo, CpError> {
    let mut path = path.to_owned();
    for _ in 0..=10 {
        match host.lstat(&path).map_err(local)? {
            Some(FileType::Symlink) => {
                let target = host.read_link(&path).map_err(local)?;
                path = if target.starts_with('/') {
                    target
                } else {
                    let (parent, _) = split_path_dir_entry(&path);
                    clean(&format!("{parent}/{target}"))
                };
            }
            Some(t) => {
                return Ok(CopyInfo {
                    path,
                    exists: true,
                    is_dir: t == FileType::Dir,
                    rebase_name: None,
                });
            }
            None => {
                let (parent, _) = split_path_dir_entry(&path);
                return match host.stat(&parent).map_err(local)? {
                    None => Err(CpError::Local(format!(
                        "stat {parent}: no such file or directory"
                    ))),
                    Some(FileType::Dir) => Ok(CopyInfo {
                        path,
                        ..CopyInfo::default()
                    }),
                    Some(_) => Err(CpError::Local(NOT_A_DIRECTORY.into())),
                };
            }
        }
    }
    Err(CpError::Local(format!("too many symlinks in {path}")))
}

#[allow(clippy::too_many_arguments)] // the copy's parts, each used once
fn copy_to_container(
    o: &CpOptions,
    stdin: &[u8],
    container: &str,
    src: &str,
    dst: &str,
    host: &mut dyn HostFiles,
    daemon: &mut dyn ContainerFiles,
) -> Result<(), CpError> {
    let mut dst_info = CopyInfo {
        path: dst.to_owned(),
        ..CopyInfo::default()
    };
    let mut stat = daemon.stat_path(container, dst);
    if let Ok(PathStat {
        file_type: FileType::Symlink,
        link_target: Some(target),
        ..
    }) = &stat
    {
        let target = if target.starts_with('/') {
            target.clone()
        } else {
            let (parent, _) = split_path_dir_entry(dst);
            clean(&format!("{parent}/{target}"))
        };
        dst_info.path.clone_from(&target);
        stat = daemon.stat_path(container, &target);
    }
    if let Ok(s) = &stat {
        dst_info.exists = true;
        dst_info.is_dir = s.file_type == FileType::Dir;
    }
    let (dir, members) = if src == "-" {
        if !dst_info.is_dir {
            return Err(CpError::Local(format!(
                "destination \"{container}:{dst}\" must be a directory"
            )));
        }
        let members = read_tar(stdin).map_err(|e| {
            CpError::Daemon(format!("Error processing tar file(exit status 1): {e}"))
        })?;
        (dst_info.path.clone(), members)
    } else {
        let src = local_abs(&host.cwd(), src);
        let src_info = source_info(host, &src, o.follow_link)?;
        let (_, src_base) = split_path_dir_entry(&src_info.path);
        let name = src_info.rebase_name.clone().unwrap_or(src_base.clone());
        let mut members = host.archive(&src_info.path, &src_base).map_err(local)?;
        rebase(&mut members, &src_base, &name);
        let (dir, renamed) = prepare_archive_copy(&src_info, &dst_info)?;
        if let Some((from, to)) = renamed {
            rebase(&mut members, &from, &to);
        }
        (dir, members)
    };
    daemon.extract_to_dir(container, &dir, &members, o.archive)
}

/// moby's `CopyInfoSourcePath`: the local source, its parent's symlinks resolved (and its own
/// with `-L`).
fn source_info(host: &dyn HostFiles, path: &str, follow: bool) -> Result<CopyInfo, CpError> {
    let (resolved, rebase_name) = if follow {
        let resolved = host.eval_symlinks(path).map_err(local)?;
        rebase_name(path, &resolved)
    } else {
        let (parent, name) = split(path);
        let parent = host.eval_symlinks(parent).map_err(local)?;
        let resolved = format!("{}/{name}", parent.trim_end_matches('/'));
        let renamed = (has_trailing_separator(path) && base(path) != base(&resolved))
            .then(|| base(path).to_owned());
        (resolved, renamed)
    };
    match host.lstat(&resolved).map_err(local)? {
        Some(t) => Ok(CopyInfo {
            path: resolved,
            exists: true,
            is_dir: t == FileType::Dir,
            rebase_name,
        }),
        None => Err(CpError::Local(format!(
            "lstat {resolved}: no such file or directory"
        ))),
    }
}

// ---- unpacking -----------------------------------------------------------------------------

/// moby's `Unpack` with `NoOverwriteDirNonDir`, the rule both sides follow: each member goes
/// to `dir`/its name; a directory is never replaced by a non-directory nor the reverse; an
/// existing directory takes a directory member's metadata; missing parents are made;
/// directories get their times last. `owner`: give everything this uid and gid (`-a` into a
/// container with a user); `None` keeps the members' owners where the target keeps owners.
pub fn extract(
    target: &mut dyn ExtractTarget,
    dir: &str,
    members: &[Member],
    owner: Option<(u32, u32)>,
) -> Result<(), String> {
    let dir = clean(dir);
    let mut times = Vec::new();
    for m in members {
        let rel = clean_below_root(&m.name)
            .ok_or_else(|| format!("{:?} is outside of {dir:?}", m.name))?;
        let path = if rel.is_empty() {
            dir.clone()
        } else {
            clean(&format!("{dir}/{rel}"))
        };
        let is_dir = m.entry.is_dir();
        match target.kind(&path)? {
            Some(FileType::Dir) if !is_dir => {
                return Err(format!(
                    "cannot overwrite directory {path:?} with non-directory {dir:?}"
                ));
            }
            Some(t) if t != FileType::Dir && is_dir => {
                return Err(format!(
                    "cannot overwrite non-directory {path:?} with directory {dir:?}"
                ));
            }
            Some(FileType::Dir) if rel.is_empty() => continue,
            Some(FileType::Dir) => {}
            Some(_) => target.remove_all(&path)?,
            None => {
                let parent = self::dir(&path);
                if target.kind(&parent)?.is_none() {
                    target.mkdir_all(&parent)?;
                }
            }
        }
        let mut entry = m.entry.clone();
        if let Some((uid, gid)) = owner {
            entry.meta.uid = uid;
            entry.meta.gid = gid;
        }
        target.put(&path, &entry)?;
        if is_dir {
            times.push((path, entry.meta.mtime));
        }
    }
    for (path, mtime) in times.iter().rev() {
        target.set_mtime(path, *mtime)?;
    }
    Ok(())
}

// ---- archives as tar streams ---------------------------------------------------------------

/// The members as the tar stream docker's `-` writes (directories named with a trailing `/`,
/// a directory's contents as `./` and `./name`).
pub fn write_tar(members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        // with the file type's bits, as Go's `FileInfoHeader` writes the mode
        let kind_bits = match &m.entry.kind {
            EntryKind::Dir { .. } => 0o040_000,
            EntryKind::Symlink(_) => 0o120_000,
            EntryKind::File(_) => 0o100_000,
        };
        h.set_mode(kind_bits | (m.entry.meta.mode & 0o7777));
        h.set_uid(u64::from(m.entry.meta.uid));
        h.set_gid(u64::from(m.entry.meta.gid));
        h.set_mtime(u64::try_from(m.entry.meta.mtime).unwrap_or(0));
        h.set_size(0);
        let mut name = m.name.clone();
        let data: std::borrow::Cow<'_, [u8]> = match &m.entry.kind {
            EntryKind::Dir { .. } => {
                h.set_entry_type(tar::EntryType::Directory);
                if !name.ends_with('/') {
                    name.push('/');
                }
                (&[][..]).into()
            }
            EntryKind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                if h.set_link_name(target).is_err() {
                    // A target too long for the header: GNU's long-link member.
                    let _ = b.append_link(&mut h, &name, target);
                    continue;
                }
                (&[][..]).into()
            }
            EntryKind::File(data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len());
                file_bytes(data)
            }
        };
        // The builder's own path setter drops `./`; a short name is written as it is, as
        // docker's stream has it. Writing to a Vec cannot fail.
        let _ = if name.len() < 100 {
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, data.as_ref())
        } else {
            b.append_data(&mut h, &name, data.as_ref())
        };
    }
    b.into_inner().unwrap_or_default()
}

/// A file's bytes; a modelled file (a size and a digest) gets its digest repeated, as the
/// layer tar writer gives it.
pub fn file_bytes(data: &FileData) -> std::borrow::Cow<'_, [u8]> {
    match data {
        FileData::Bytes(b) => b.as_slice().into(),
        FileData::Simulated { size, digest } => digest
            .as_bytes()
            .iter()
            .copied()
            .cycle()
            .take(usize::try_from(*size).unwrap_or(usize::MAX))
            .collect::<Vec<u8>>()
            .into(),
    }
}

/// The members of a tar stream (what `cp -` reads), in order; devices and FIFOs are refused.
pub fn read_tar(bytes: &[u8]) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(bytes);
    for member in archive.entries().map_err(|e| e.to_string())? {
        let mut member = member.map_err(|e| e.to_string())?;
        let name = String::from_utf8_lossy(&member.path_bytes())
            .trim_end_matches('/')
            .to_owned();
        let h = member.header();
        // An empty numeric field is 0, as Go's reader takes it.
        let meta = Meta {
            mode: h.mode().unwrap_or(0o644) & 0o7777,
            uid: u32::try_from(h.uid().unwrap_or(0)).unwrap_or(u32::MAX),
            gid: u32::try_from(h.gid().unwrap_or(0)).unwrap_or(u32::MAX),
            mtime: i64::try_from(h.mtime().unwrap_or(0)).unwrap_or(0),
        };
        let entry = match h.entry_type() {
            tar::EntryType::Directory => Entry::dir(meta),
            tar::EntryType::Symlink => {
                let target = member
                    .link_name()
                    .map_err(|e| e.to_string())?
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Entry::symlink(meta, target)
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut data = Vec::new();
                member.read_to_end(&mut data).map_err(|e| e.to_string())?;
                Entry::file(meta, data)
            }
            _ => {
                return Err(format!(
                    "{name}: only files, directories and symlinks can be copied into a simulated container"
                ));
            }
        };
        out.push(Member {
            name: if name.is_empty() { ".".into() } else { name },
            entry,
        });
    }
    Ok(out)
}

// ---- the daemon's side on a union filesystem ------------------------------------------------

/// moby's `FollowSymlinkInScope`: `path` (absolute) with every symlink resolved as if the
/// container's root were `/`: `..` stops at the root and absolute targets start from it, so
/// nothing leads out. `read_link` says whether a path is a symlink and where it points;
/// components that do not exist are kept as they are.
pub fn follow_symlink_in_scope(
    path: &str,
    read_link: &mut dyn FnMut(&str) -> Result<Option<String>, String>,
) -> Result<String, String> {
    let mut done: Vec<String> = Vec::new();
    let mut todo: Vec<String> = path
        .split('/')
        .rev()
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let candidate = if done.is_empty() {
            format!("/{c}")
        } else {
            format!("/{}/{c}", done.join("/"))
        };
        match read_link(&candidate)? {
            Some(target) => {
                links += 1;
                if links > MAX_SCOPED_LINKS {
                    return Err(format!("too many links in {path}"));
                }
                if target.starts_with('/') {
                    done.clear();
                }
                todo.extend(
                    target
                        .split('/')
                        .rev()
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            }
            None => done.push(c),
        }
    }
    Ok(format!("/{}", done.join("/")))
}

fn union_read_link(fs: &UnionFs) -> impl FnMut(&str) -> Result<Option<String>, String> + '_ {
    |p| match fs.lstat(p) {
        Ok(s) if s.file_type == FileType::Symlink => Ok(fs.read_link(p).ok().map(str::to_owned)),
        _ => Ok(None),
    }
}

/// What went wrong in a container's filesystem, as the daemon reports it: a 404 when nothing
/// is there, else the error's text.
fn daemon_fs_error(container: &str, path: &str, e: &FsError) -> CpError {
    match e {
        FsError::NotFound(_) => CpError::NotFound {
            container: container.to_owned(),
            path: path.to_owned(),
        },
        e => CpError::Daemon(format!(
            "lstat {}: {}",
            e.path(),
            e.strerror().to_lowercase()
        )),
    }
}

/// moby's `ResolvePath`: the path asked for (absolute, its trailing `/.` or `/` kept) and the
/// path it leads to with its directory's symlinks resolved in the container's scope.
fn resolve_path(fs: &UnionFs, path: &str) -> Result<(String, String), String> {
    let abs = container_abs(path);
    let (dir, name) = split(&abs);
    let dir = follow_symlink_in_scope(dir, &mut union_read_link(fs))?;
    Ok((abs.clone(), format!("{}/{name}", dir.trim_end_matches('/'))))
}

/// `lstat` as moby's daemon does it on a resolved path: a trailing `/` or `/.` follows the
/// directory, which must be one.
fn lstat_resolved(fs: &UnionFs, resolved: &str) -> Result<crate::fs::Stat, FsError> {
    if resolved.ends_with('/') || resolved.ends_with("/.") {
        let s = fs.stat(resolved)?;
        if s.file_type == FileType::Dir {
            Ok(s)
        } else {
            Err(FsError::NotADirectory(resolved.to_owned()))
        }
    } else {
        fs.lstat(resolved)
    }
}

/// The daemon's `stat` of `path` in a container's filesystem (`HEAD …/archive`).
pub fn stat_in(fs: &UnionFs, container: &str, path: &str) -> Result<PathStat, CpError> {
    let (abs, resolved) = resolve_path(fs, path).map_err(CpError::Daemon)?;
    let s = lstat_resolved(fs, &resolved).map_err(|e| daemon_fs_error(container, path, &e))?;
    let link_target = if s.file_type == FileType::Symlink {
        Some(follow_symlink_in_scope(&abs, &mut union_read_link(fs)).map_err(CpError::Daemon)?)
    } else {
        None
    };
    Ok(PathStat {
        name: base(&abs).to_owned(),
        file_type: s.file_type,
        size: s.size,
        mode: s.mode,
        mtime: s.mtime,
        link_target,
    })
}

/// The daemon's archive of `path` in a container's filesystem (`GET …/archive`): the tree, its
/// members named after the last component asked for (`.` for `dir/.`).
pub fn archive_in(
    fs: &UnionFs,
    container: &str,
    path: &str,
) -> Result<(PathStat, Vec<Member>), CpError> {
    let stat = stat_in(fs, container, path)?;
    let (abs, resolved) = resolve_path(fs, path).map_err(CpError::Daemon)?;
    let name = base(&abs).to_owned();
    let err = |e: FsError| daemon_fs_error(container, path, &e);
    let item = clean(&resolved);
    let mut members = Vec::new();
    if stat.file_type == FileType::Symlink {
        let target = fs.read_link(&item).map_err(err)?.to_owned();
        let s = fs.lstat(&item).map_err(err)?;
        members.push(Member {
            name,
            entry: Entry::symlink(s.meta(), target),
        });
        return Ok((stat, members));
    }
    for (p, s) in fs.walk(&item).map_err(err)? {
        let rel = p.strip_prefix(&item).unwrap_or("").trim_start_matches('/');
        let member_name = match (rel.is_empty(), name.as_str()) {
            (true, _) => name.clone(),
            (false, "/") => format!("/{rel}"),
            (false, n) => format!("{n}/{rel}"),
        };
        let entry = match s.file_type {
            FileType::Dir => Entry::dir(s.meta()),
            FileType::Symlink => Entry::symlink(s.meta(), fs.read_link(&p).map_err(err)?),
            FileType::File => Entry {
                meta: s.meta(),
                kind: EntryKind::File(fs.read(&p).map_err(err)?.clone()),
            },
        };
        members.push(Member {
            name: member_name,
            entry,
        });
    }
    Ok((stat, members))
}

/// A container's filesystem as [`extract`]'s target: writes go to its writable layer.
struct UnionTarget<'a>(&'a mut UnionFs);

fn fs_text(e: &FsError) -> String {
    format!("{}: {}", e.path(), e.strerror().to_lowercase())
}

impl ExtractTarget for UnionTarget<'_> {
    fn kind(&self, path: &str) -> Result<Option<FileType>, String> {
        match self.0.lstat(path) {
            Ok(s) => Ok(Some(s.file_type)),
            Err(FsError::NotFound(_)) => Ok(None),
            Err(e) => Err(fs_text(&e)),
        }
    }

    fn mkdir_all(&mut self, path: &str) -> Result<(), String> {
        self.0.mkdir_all(path, 0o755).map_err(|e| fs_text(&e))
    }

    fn remove_all(&mut self, path: &str) -> Result<(), String> {
        self.0.remove_all(path).map_err(|e| fs_text(&e))
    }

    fn put(&mut self, path: &str, entry: &Entry) -> Result<(), String> {
        self.0.put(path, entry.clone()).map_err(|e| fs_text(&e))
    }

    fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<(), String> {
        self.0.set_mtime(path, mtime).map_err(|e| fs_text(&e))
    }
}

/// The daemon's extraction of `members` into the directory `path` of a container's filesystem
/// (`PUT …/archive`): `path` (its last symlink followed too, in the container's scope) must
/// be a directory; `owner` gives every file that uid and gid (`-a` with a container user).
pub fn extract_in(
    fs: &mut UnionFs,
    container: &str,
    path: &str,
    members: &[Member],
    owner: Option<(u32, u32)>,
) -> Result<(), CpError> {
    let abs = container_abs(path);
    let resolved =
        follow_symlink_in_scope(&abs, &mut union_read_link(fs)).map_err(CpError::Daemon)?;
    match fs.lstat(&resolved) {
        Ok(s) if s.file_type == FileType::Dir => {}
        Ok(_) => return Err(CpError::Daemon(EXTRACTION_POINT.into())),
        Err(e) => return Err(daemon_fs_error(container, path, &e)),
    }
    extract(&mut UnionTarget(fs), &resolved, members, owner)
        .map_err(|e| CpError::Daemon(format!("Error processing tar file(exit status 1): {e}")))
}

// ---- a host in memory ----------------------------------------------------------------------

/// A local filesystem held in memory (a [`UnionFs`] with no image below): the browser's
/// project files, and tests. Files copied out of a container are owned by `owner`, the user
/// the client runs as, as docker's client does not chown.
#[derive(Debug)]
pub struct MemoryHost {
    /// The files.
    pub fs: UnionFs,
    /// The working directory.
    pub cwd: String,
    /// The client's uid and gid.
    pub owner: (u32, u32),
}

impl Default for MemoryHost {
    fn default() -> Self {
        Self {
            fs: UnionFs::new(crate::fs::LayerStack::new()),
            cwd: "/".into(),
            owner: (0, 0),
        }
    }
}

impl MemoryHost {
    /// A host whose files are `files` (paths relative to `/`, as a build context's), working
    /// in `/`: the browser's project files.
    pub fn from_files(files: crate::fs::Layer) -> Self {
        Self {
            fs: UnionFs::with_upper(crate::fs::LayerStack::new(), files),
            ..Self::default()
        }
    }
}

fn go_error(op: &str, path: &str, e: &FsError) -> String {
    format!("{op} {path}: {}", e.strerror().to_lowercase())
}

impl HostFiles for MemoryHost {
    fn cwd(&self) -> String {
        self.cwd.clone()
    }

    fn lstat(&self, path: &str) -> Result<Option<FileType>, String> {
        match self.fs.lstat(path) {
            Ok(s) if path.ends_with('/') && s.file_type != FileType::Dir => Err(go_error(
                "lstat",
                path,
                &FsError::NotADirectory(path.into()),
            )),
            Ok(s) => Ok(Some(s.file_type)),
            Err(FsError::NotFound(_)) => Ok(None),
            Err(e) => Err(go_error("lstat", path, &e)),
        }
    }

    fn stat(&self, path: &str) -> Result<Option<FileType>, String> {
        match self.fs.stat(path) {
            Ok(s) if path.ends_with('/') && s.file_type != FileType::Dir => {
                Err(go_error("stat", path, &FsError::NotADirectory(path.into())))
            }
            Ok(s) => Ok(Some(s.file_type)),
            Err(FsError::NotFound(_)) => Ok(None),
            Err(e) => Err(go_error("stat", path, &e)),
        }
    }

    fn read_link(&self, path: &str) -> Result<String, String> {
        self.fs
            .read_link(path)
            .map(str::to_owned)
            .map_err(|e| go_error("readlink", path, &e))
    }

    fn eval_symlinks(&self, path: &str) -> Result<String, String> {
        self.fs
            .canonicalize(path)
            .map_err(|e| go_error("lstat", path, &e))
    }

    fn archive(&self, path: &str, name: &str) -> Result<Vec<Member>, String> {
        let mut out = Vec::new();
        let item = clean(path);
        let s = self
            .fs
            .lstat(&item)
            .map_err(|e| go_error("lstat", path, &e))?;
        if s.file_type == FileType::Symlink {
            let target = self.read_link(&item)?;
            return Ok(vec![Member {
                name: name.to_owned(),
                entry: Entry::symlink(s.meta(), target),
            }]);
        }
        for (p, s) in self
            .fs
            .walk(&item)
            .map_err(|e| go_error("lstat", path, &e))?
        {
            let rel = p.strip_prefix(&item).unwrap_or("").trim_start_matches('/');
            let entry = match s.file_type {
                FileType::Dir => Entry::dir(s.meta()),
                FileType::Symlink => Entry::symlink(s.meta(), self.read_link(&p)?),
                FileType::File => Entry {
                    meta: s.meta(),
                    kind: EntryKind::File(
                        self.fs
                            .read(&p)
                            .map_err(|e| go_error("open", &p, &e))?
                            .clone(),
                    ),
                },
            };
            out.push(Member {
                name: if rel.is_empty() {
                    name.to_owned()
                } else {
                    format!("{}/{rel}", name.trim_end_matches('/'))
                },
                entry,
            });
        }
        Ok(out)
    }

    fn target(&mut self) -> &mut dyn ExtractTarget {
        self
    }

    fn files(&self) -> Option<&crate::fs::Layer> {
        self.fs.upper()
    }
}

impl ExtractTarget for MemoryHost {
    fn kind(&self, path: &str) -> Result<Option<FileType>, String> {
        self.lstat(path)
    }

    fn mkdir_all(&mut self, path: &str) -> Result<(), String> {
        self.fs
            .mkdir_all(path, 0o755)
            .map_err(|e| go_error("mkdir", path, &e))
    }

    fn remove_all(&mut self, path: &str) -> Result<(), String> {
        self.fs
            .remove_all(path)
            .map_err(|e| go_error("unlinkat", path, &e))
    }

    fn put(&mut self, path: &str, entry: &Entry) -> Result<(), String> {
        let mut entry = entry.clone();
        (entry.meta.uid, entry.meta.gid) = self.owner;
        self.fs
            .put(path, entry)
            .map_err(|e| go_error("open", path, &e))
    }

    fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<(), String> {
        self.fs
            .set_mtime(path, mtime)
            .map_err(|e| go_error("chtimes", path, &e))
    }
}

// ---- the simulated engine ------------------------------------------------------------------

/// The simulated engine as the daemon of a copy: each call works on the container's union
/// filesystem with its volumes mounted, as docker's daemon mounts them for a copy; an
/// extraction writes the writable layer (and the volumes) back and reports the copy-ups.
struct SimDaemon<'a> {
    engine: &'a mut super::Engine,
    out: &'a mut super::Output,
}

impl SimDaemon<'_> {
    /// Runs `f` on the filesystem of the container `container` names; `write`: keep what it
    /// changed and report it.
    fn with_fs<T>(
        &mut self,
        container: &str,
        path: &str,
        write: bool,
        f: impl FnOnce(&mut UnionFs, &str) -> Result<T, CpError>,
    ) -> Result<T, CpError> {
        let i = self
            .engine
            .find_container(container)
            .map_err(|_| CpError::NotFound {
                container: container.to_owned(),
                path: path.to_owned(),
            })?;
        let before = self.engine.state.clone();
        let (mut fs, mounted) = self
            .engine
            .mount(i)
            .map_err(|e| CpError::Daemon(e.to_string()))?;
        let user = self.engine.state.containers[i].spec.user.clone();
        let result = f(&mut fs, &user);
        if write {
            // What was written before a failure stays written, as with docker.
            self.engine.unmount(i, fs, mounted, self.out);
        } else {
            self.engine.state = before;
        }
        result
    }
}

impl ContainerFiles for SimDaemon<'_> {
    fn stat_path(&mut self, container: &str, path: &str) -> Result<PathStat, CpError> {
        self.with_fs(container, path, false, |fs, _| stat_in(fs, container, path))
    }

    fn archive_path(
        &mut self,
        container: &str,
        path: &str,
    ) -> Result<(PathStat, Vec<Member>), CpError> {
        self.with_fs(container, path, false, |fs, _| {
            archive_in(fs, container, path)
        })
    }

    fn extract_to_dir(
        &mut self,
        container: &str,
        path: &str,
        members: &[Member],
        copy_uid_gid: bool,
    ) -> Result<(), CpError> {
        self.with_fs(container, path, true, |fs, user| {
            let owner = if copy_uid_gid && !user.is_empty() {
                let (uid, gid, _) =
                    crate::sim::shell::resolve_user(fs, user).map_err(CpError::Daemon)?;
                Some((uid, gid))
            } else {
                None
            };
            extract_in(fs, container, path, members, owner)
        })
    }
}

impl super::Engine {
    /// `cp`: the client's rules on the host's files ([`super::Engine::set_host_files`]) and
    /// the container's union filesystem; a tar for `-` goes to [`super::Output::archive`].
    pub(super) fn cp(&mut self, o: &CpOptions, out: &mut super::Output) -> Result<u8, CpError> {
        let stdin = std::mem::take(&mut self.stdin);
        let mut host = std::mem::replace(&mut self.host, Box::new(MemoryHost::default()));
        let mut daemon = SimDaemon {
            engine: self,
            out: &mut *out,
        };
        let result = copy(o, &stdin, host.as_mut(), &mut daemon);
        self.host = host;
        if let Some(bytes) = result? {
            out.archive = Some(super::ArchiveOutput {
                path: None,
                directory: false,
                bytes,
            });
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineState, Event, Output};
    use crate::fs::tar::{TarOptions, write_layer};
    use crate::fs::{FsEvent, Layer};

    /// An engine with an image `img` (/bin, /etc/passwd, /etc/group, /tmp, /home/app, a
    /// symlink /etc/link -> passwd, /up -> ../../..) and a created container `web`.
    fn engine(user: Option<&str>) -> Engine {
        let mut layer = Layer::new();
        for d in ["bin", "etc", "tmp", "home", "home/app"] {
            layer.insert(d, Entry::dir(Meta::new(0o755, 5)));
        }
        layer.insert(
            "etc/passwd",
            Entry::file(
                Meta::new(0o644, 5),
                "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
            ),
        );
        layer.insert("etc/group", Entry::file(Meta::new(0o644, 5), "root:x:0:\n"));
        layer.insert("etc/link", Entry::symlink(Meta::new(0o777, 5), "passwd"));
        layer.insert("up", Entry::symlink(Meta::new(0o777, 5), "../../.."));
        let mut e = Engine::new(EngineState::default());
        e.set_stdin(write_layer(&layer, &TarOptions::default()));
        assert_eq!(run(&mut e, "docker import - img").0, 0);
        let create = match user {
            Some(u) => format!("docker create --name web -u {u} img true"),
            None => "docker create --name web img true".to_owned(),
        };
        assert_eq!(run(&mut e, &create).0, 0);
        e
    }

    fn run(e: &mut Engine, line: &str) -> (u8, Output) {
        let argv: Vec<&str> = line.split_whitespace().collect();
        let mut out = Output::default();
        let code = e.execute(&argv, &mut out);
        (code, out)
    }

    fn host() -> MemoryHost {
        let mut h = MemoryHost {
            cwd: "/work".into(),
            owner: (501, 20),
            ..MemoryHost::default()
        };
        h.fs.mkdir_all("/work/out", 0o755).unwrap();
        h.fs.mkdir_all("/work/src/sub", 0o750).unwrap();
        h.fs.write("/work/src/sub/a.txt", b"hello\n", 0o640)
            .unwrap();
        h.fs.write("/work/file", b"plain\n", 0o600).unwrap();
        h.fs.lchown("/work/file", 1234, 5678).unwrap();
        h
    }

    fn cp(e: &mut Engine, h: &mut MemoryHost, args: &str) -> Result<Option<Vec<u8>>, CpError> {
        cp_with(e, h, args, b"")
    }

    fn cp_with(
        e: &mut Engine,
        h: &mut MemoryHost,
        args: &str,
        stdin: &[u8],
    ) -> Result<Option<Vec<u8>>, CpError> {
        let mut words: Vec<&str> = args.split_whitespace().collect();
        let destination = words.pop().unwrap().to_owned();
        let source = words.pop().unwrap().to_owned();
        let o = CpOptions {
            source,
            destination,
            archive: words.contains(&"-a"),
            follow_link: words.contains(&"-L"),
            quiet: false,
        };
        let mut out = Output::default();
        copy(
            &o,
            stdin,
            h,
            &mut SimDaemon {
                engine: e,
                out: &mut out,
            },
        )
    }

    fn host_file(h: &MemoryHost, path: &str) -> String {
        String::from_utf8(h.fs.read(path).unwrap().bytes().unwrap().to_vec()).unwrap()
    }

    fn diff(e: &mut Engine) -> String {
        run(e, "docker diff web").1.stdout()
    }

    #[test]
    fn arguments_say_the_direction_or_why_not() {
        assert_eq!(split_cp_arg("web:"), (Some("web"), ""));
        assert_eq!(split_cp_arg("a"), (None, "a"));
        let o = |s: &str, d: &str| CpOptions {
            source: s.into(),
            destination: d.into(),
            archive: false,
            follow_link: false,
            quiet: false,
        };
        assert_eq!(direction(&o("a", "b")), Err(CpError::NoContainer));
        assert_eq!(
            direction(&o("a:/x", "b:/y")),
            Err(CpError::AcrossContainers)
        );
        assert_eq!(direction(&o("", "b:/y")), Err(CpError::SourceEmpty));
        assert_eq!(direction(&o("a:/x", "")), Err(CpError::DestinationEmpty));
        assert_eq!(
            CpError::NoContainer.to_string(),
            "must specify at least one container source"
        );
    }

    #[test]
    fn go_path_rules() {
        assert_eq!(preserve_trailing("/a/b", "a/b/."), "/a/b/.");
        assert_eq!(preserve_trailing("/a/b", "a/b/"), "/a/b/");
        assert_eq!(preserve_trailing("/", "/"), "/");
        assert_eq!(split_path_dir_entry("/a/b/."), ("/a/b".into(), ".".into()));
        assert_eq!(split_path_dir_entry("/a/b/"), ("/a".into(), "b".into()));
        assert_eq!(split_path_dir_entry("/a"), ("/".into(), "a".into()));
        assert_eq!(local_abs("/w", "x/../y/."), "/w/y/.");
        assert_eq!(container_abs("../../etc/passwd"), "/etc/passwd");
        assert_eq!(
            rebase_name("/etc/link", "/etc/passwd"),
            ("/etc/passwd".into(), Some("link".into()))
        );
        assert_eq!(rebase_name("/d/.", "/e"), ("/e/.".into(), None));
    }

    #[test]
    fn a_file_comes_out_with_its_mode_and_the_users_owner() {
        let mut e = engine(None);
        let mut h = host();
        assert_eq!(cp(&mut e, &mut h, "web:/etc/passwd out/pw"), Ok(None));
        assert!(host_file(&h, "/work/out/pw").starts_with("root:x:0:0"));
        let s = h.fs.lstat("/work/out/pw").unwrap();
        assert_eq!((s.mode, s.uid, s.gid, s.mtime), (0o644, 501, 20, 5));
        // into an existing directory: under its own name
        cp(&mut e, &mut h, "web:/etc/passwd out").unwrap();
        assert!(h.fs.exists("/work/out/passwd"));
    }

    #[test]
    fn a_directory_comes_out_whole_or_its_contents_with_a_trailing_dot() {
        let mut e = engine(None);
        let mut h = host();
        for (args, made) in [
            ("web:/etc out", "/work/out/etc/passwd"),
            ("web:/etc/. out", "/work/out/group"),
            ("web:/etc fresh", "/work/fresh/passwd"),
            ("web:/etc/. fresh2", "/work/fresh2/group"),
        ] {
            cp(&mut e, &mut h, args).unwrap();
            assert!(h.fs.exists(made), "{args}: {made}");
        }
        assert!(!h.fs.exists("/work/out/etc/etc"));
    }

    #[test]
    fn symlinks_are_copied_as_links_unless_followed() {
        let mut e = engine(None);
        let mut h = host();
        cp(&mut e, &mut h, "web:/etc/link out/l").unwrap();
        assert_eq!(h.fs.read_link("/work/out/l").unwrap(), "passwd");
        cp(&mut e, &mut h, "-L web:/etc/link out").unwrap();
        assert!(host_file(&h, "/work/out/link").starts_with("root:"));
        // `..` and a link climbing out both stay in the container's root
        cp(&mut e, &mut h, "web:/../../etc/passwd out/dots").unwrap();
        cp(&mut e, &mut h, "web:/up/etc/group out/viaup").unwrap();
        assert_eq!(host_file(&h, "/work/out/viaup"), "root:x:0:\n");
    }

    #[test]
    fn a_tar_streams_out_and_in() {
        let mut e = engine(None);
        let mut h = host();
        let tar = cp(&mut e, &mut h, "web:/etc -").unwrap().unwrap();
        let members = read_tar(&tar).unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        // docker's init layer shows too (/etc/hostname, hosts, resolv.conf), as with docker
        assert_eq!(
            names,
            [
                "etc",
                "etc/group",
                "etc/hostname",
                "etc/hosts",
                "etc/link",
                "etc/passwd",
                "etc/resolv.conf"
            ]
        );
        let dot = read_tar(&cp(&mut e, &mut h, "web:/etc/. -").unwrap().unwrap()).unwrap();
        assert_eq!(dot[0].name, ".");
        assert_eq!(dot[1].name, "./group");
        cp_with(&mut e, &mut h, "- web:/home/app", &tar).unwrap();
        assert!(diff(&mut e).contains("A /home/app/etc/passwd"));
        assert_eq!(
            cp_with(&mut e, &mut h, "- web:/etc/passwd", &tar),
            Err(CpError::Local(
                "destination \"web:/etc/passwd\" must be a directory".into()
            ))
        );
    }

    #[test]
    fn a_file_goes_into_the_writable_layer_with_copy_up() {
        let mut e = engine(None);
        let mut h = host();
        let mut out = Output::default();
        let o = CpOptions {
            source: "file".into(),
            destination: "web:/tmp".into(),
            archive: false,
            follow_link: false,
            quiet: false,
        };
        e.set_host_files(h);
        assert_eq!(e.cp(&o, &mut out), Ok(0));
        assert!(out.events.iter().any(|ev| matches!(
            ev,
            Event::ContainerFs { event: FsEvent::CopyUp { path, .. }, .. } if path == "/tmp"
        )));
        assert_eq!(diff(&mut e), "C /tmp\nA /tmp/file\n");
        let fs = e.container_fs(&e.state().containers[0]).unwrap();
        let s = fs.lstat("/tmp/file").unwrap();
        // docker 20.10 keeps the owner the tar carries, with or without -a
        assert_eq!((s.mode, s.uid, s.gid), (0o600, 1234, 5678));
        h = host();
        cp(&mut e, &mut h, "src web:/home/app/renamed").unwrap();
        cp(&mut e, &mut h, "src/. web:/home").unwrap();
        let fs = e.container_fs(&e.state().containers[0]).unwrap();
        assert!(fs.exists("/home/app/renamed/sub/a.txt"));
        assert!(fs.exists("/home/sub/a.txt"));
        assert_eq!(fs.lstat("/home/sub").unwrap().mode, 0o750);
    }

    #[test]
    fn a_copy_replaces_a_whiteout() {
        let mut e = engine(None);
        e.state_mut().containers[0]
            .upper
            .insert_whiteout("etc/group");
        assert_eq!(diff(&mut e), "D /etc/group\n");
        let mut h = host();
        h.fs.write("/work/group", b"new:x:9:\n", 0o644).unwrap();
        cp(&mut e, &mut h, "group web:/etc/").unwrap();
        let after = diff(&mut e);
        assert!(after.contains("C /etc/group\n"), "{after}");
        assert!(!after.contains("D /etc/group"), "{after}");
    }

    #[test]
    fn archive_mode_gives_the_files_to_the_containers_user() {
        let mut e = engine(Some("app"));
        let mut h = host();
        cp(&mut e, &mut h, "-a file web:/tmp/a").unwrap();
        cp(&mut e, &mut h, "file web:/tmp/plain").unwrap();
        let fs = e.container_fs(&e.state().containers[0]).unwrap();
        let a = fs.lstat("/tmp/a").unwrap();
        let plain = fs.lstat("/tmp/plain").unwrap();
        assert_eq!((a.uid, a.gid), (1000, 1000));
        assert_eq!((plain.uid, plain.gid), (1234, 5678));
    }

    #[test]
    fn a_copy_into_a_volume_goes_to_the_volume() {
        let mut e = engine(None);
        assert_eq!(
            run(&mut e, "docker create --name v1 -v data:/data img true").0,
            0
        );
        assert_eq!(
            run(&mut e, "docker create --name v2 -v data:/data img true").0,
            0
        );
        let mut h = host();
        cp(&mut e, &mut h, "file v1:/data/").unwrap();
        let diff = run(&mut e, "docker diff v1").1.stdout();
        assert!(!diff.contains("/data/file"), "{diff}");
        cp(&mut e, &mut h, "v2:/data/file out/from-volume").unwrap();
        assert_eq!(host_file(&h, "/work/out/from-volume"), "plain\n");
        // a copy out leaves the container as it was
        let before = e.state().clone();
        cp(&mut e, &mut h, "v2:/data out/again").unwrap();
        assert_eq!(e.state(), &before);
    }

    #[test]
    fn the_browsers_project_files_are_the_host() {
        let mut e = engine(None);
        let mut files = Layer::new();
        files.insert("app.py", Entry::file(Meta::new(0o644, 7), "print('hi')\n"));
        e.set_host_files(MemoryHost::from_files(files));
        assert_eq!(run(&mut e, "docker cp app.py web:/tmp/").0, 0);
        assert_eq!(run(&mut e, "docker cp web:/etc/group group.txt").0, 0);
        let files = e.host_files().files().unwrap();
        assert!(files.entry("group.txt").is_some());
        assert!(diff(&mut e).contains("A /tmp/app.py"));
    }

    #[test]
    fn a_modelled_file_goes_to_memory_but_not_into_a_tar() {
        let mut e = Engine::new(EngineState::default())
            .with_base_images(crate::sim::base::ModelledImages::builtin());
        assert_eq!(
            run(&mut e, "docker create --name py python:3.9-slim true").0,
            0
        );
        let mut h = host();
        let fs = e.container_fs(&e.state().containers[0]).unwrap();
        let modelled = fs
            .walk("/usr/local/bin")
            .unwrap()
            .into_iter()
            .find(|(p, s)| s.file_type == FileType::File && fs.read(p).unwrap().bytes().is_none())
            .map(|(p, _)| p)
            .unwrap();
        cp(&mut e, &mut h, &format!("py:{modelled} out/m")).unwrap();
        assert!(h.fs.read("/work/out/m").unwrap().bytes().is_none());
        let err = cp(&mut e, &mut h, &format!("py:{modelled} -")).unwrap_err();
        assert!(
            err.to_string().contains(&format!("its file {modelled} (")),
            "{err}"
        );
    }

    #[test]
    fn dockers_errors() {
        let mut e = engine(None);
        let mut h = host();
        for (args, error) in [
            ("web:/nope out", "Error: No such container:path: web:/nope"),
            ("nosuch:/x out", "Error: No such container:path: nosuch:/x"),
            ("web:/etc file", "cannot copy directory"),
            ("web:/etc/passwd nodir/", "no such directory"),
            (
                "web:/etc/passwd /nodir/x",
                "invalid output path: directory \"/nodir\" does not exist",
            ),
            ("web:/etc/passwd file/", "stat /work/file/: not a directory"),
            (
                "nofile web:/tmp",
                "lstat /work/nofile: no such file or directory",
            ),
            (
                "file web:/nope/x",
                "Error: No such container:path: web:/nope",
            ),
            ("file web:/nope/", "no such directory"),
            ("src web:/etc/passwd", "cannot copy directory"),
            (
                "file web:/etc/passwd/x",
                "Error response from daemon: extraction point is not a directory",
            ),
        ] {
            assert_eq!(
                cp(&mut e, &mut h, args).map_err(|e| e.to_string()),
                Err(error.to_owned()),
                "{args}"
            );
        }
        let local = |s: &str| Err(CpError::Local(s.into()));
        cp(&mut e, &mut h, "web:/etc/passwd out/etc").unwrap();
        assert_eq!(
            cp(&mut e, &mut h, "web:/etc out"),
            local("cannot overwrite non-directory \"/work/out/etc\" with directory \"/work/out\"")
        );
        h.fs.mkdir_all("/work/x/passwd", 0o755).unwrap();
        assert_eq!(
            cp(&mut e, &mut h, "x/passwd web:/etc")
                .unwrap_err()
                .to_string(),
            "Error response from daemon: Error processing tar file(exit status 1): cannot overwrite non-directory \"/etc/passwd\" with directory \"/etc\""
        );
    }

    #[test]
    fn the_command_line_prints_dockers_words() {
        let mut e = engine(None);
        let (code, out) = run(&mut e, "docker cp web:/nope /x");
        assert_eq!(code, 1);
        assert_eq!(out.stderr(), "Error: No such container:path: web:/nope\n");
        let (code, out) = run(&mut e, "docker container cp a b");
        assert_eq!(
            (code, out.stderr().as_str()),
            (1, "must specify at least one container source\n")
        );
        let (code, out) = run(&mut e, "docker cp web:/etc/passwd -");
        assert_eq!((code, out.stdout().as_str()), (0, ""));
        let tar = out.archive.unwrap();
        assert_eq!(tar.path, None);
        assert_eq!(read_tar(&tar.bytes).unwrap()[0].name, "passwd");
    }
}
