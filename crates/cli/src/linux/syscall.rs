//! Kernel calls behind a trait, after youki's `Syscall`: [`RealSyscall`](super::RealSyscall)
//! makes them, [`RecordingSyscall`] writes them down so the mount and process sequence is
//! unit-tested without root.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

pub use rustix::mount::MountFlags;
pub use rustix::process::Resource;
pub use rustix::thread::{CapabilitySet, UnshareFlags};

/// One `mount(2)` of a filesystem (not a bind): what `mount -t FSTYPE -o DATA SOURCE TARGET` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The device or label, e.g. `overlay`, `proc`, `tmpfs`.
    pub source: String,
    /// Where it is mounted.
    pub target: PathBuf,
    /// The filesystem type.
    pub fstype: String,
    /// `MS_*` flags.
    pub flags: MountFlags,
    /// Filesystem options, e.g. `lowerdir=…,upperdir=…,workdir=…`.
    pub data: String,
}

/// What a path is, as far as the container setup cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// Anything else (device, socket, fifo); symlinks are followed.
    Other,
}

/// The kernel calls that set up a container, each one a method so it can be recorded.
pub trait Syscall {
    /// `unshare(2)`: new namespaces for this process (PID: for its children).
    fn unshare(&self, flags: UnshareFlags) -> io::Result<()>;
    /// `setns(2)` through a pidfd: joins the namespaces `flags` of process `pid` at once
    /// (`docker exec`; PID: for this process's children).
    fn setns(&self, pid: i32, flags: UnshareFlags) -> io::Result<()>;
    /// A new user namespace in which this process's `uid` and `gid` are root (rootless): the
    /// only mapping an unprivileged process may write for itself, with `setgroups` denied.
    fn enter_user_namespace(&self, uid: u32, gid: u32) -> io::Result<()>;
    /// `mount(2)` of a filesystem.
    fn mount(&self, m: &Mount) -> io::Result<()>;
    /// Makes every mount under `target` private, so nothing propagates back to the host.
    fn make_rprivate(&self, target: &Path) -> io::Result<()>;
    /// A bind mount of `source` on `target` (recursive: `MS_REC`).
    fn bind(&self, source: &Path, target: &Path, recursive: bool) -> io::Result<()>;
    /// Remounts a bind mount read-only (`MS_REMOUNT|MS_BIND|MS_RDONLY`, keeping nosuid etc.).
    fn remount_bind_readonly(&self, target: &Path, flags: MountFlags) -> io::Result<()>;
    /// `umount2(target, MNT_DETACH)`.
    fn umount_detach(&self, target: &Path) -> io::Result<()>;
    /// `chdir(new_root); pivot_root(".", ".")`: the old root ends up stacked on `/`.
    fn pivot_root(&self, new_root: &Path) -> io::Result<()>;
    /// `chdir(2)`.
    fn chdir(&self, path: &Path) -> io::Result<()>;
    /// `mkdir -p` with mode 0755.
    fn mkdir_all(&self, path: &Path) -> io::Result<()>;
    /// `mknod(path, S_IFCHR | mode, makedev(major, minor))`.
    fn mknod_char(&self, path: &Path, mode: u32, major: u32, minor: u32) -> io::Result<()>;
    /// `symlink(target, link)`.
    fn symlink(&self, target: &str, link: &Path) -> io::Result<()>;
    /// Writes (truncating) a small file, e.g. a cgroup's `cgroup.procs`.
    fn write_file(&self, path: &Path, contents: &str) -> io::Result<()>;
    /// Reads a small text file (the container's /etc/passwd).
    fn read_file(&self, path: &Path) -> io::Result<String>;
    /// What `path` is, or `None` when it does not exist.
    fn file_kind(&self, path: &Path) -> io::Result<Option<FileKind>>;
    /// The target of the symlink `path` (`readlink(2)`), `None` when `path` is not a symlink
    /// or does not exist.
    fn read_link(&self, path: &Path) -> io::Result<Option<PathBuf>>;
    /// docker's copy of an image's content into a new volume: when the directory `to` is
    /// empty, the tree under `from` is copied into it (symlinks as symlinks, never followed;
    /// owners, modes, times, hard links), then `from`'s owner and mode are given to `to`.
    fn populate(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// `sethostname(2)`.
    fn sethostname(&self, name: &str) -> io::Result<()>;
    /// `umask(2)`.
    fn umask(&self, mask: u32);
    /// Brings `lo` of the current network namespace up.
    fn loopback_up(&self) -> io::Result<()>;
    /// The current hard limit of a resource (`None`: unlimited).
    fn hard_rlimit(&self, resource: Resource) -> Option<u64>;
    /// `setrlimit(2)`; `None` is unlimited.
    fn setrlimit(&self, resource: Resource, soft: Option<u64>, hard: Option<u64>)
    -> io::Result<()>;
    /// Drops every capability but `keep` from the bounding set (needs `CAP_SETPCAP`).
    fn drop_bounding_except(&self, keep: CapabilitySet) -> io::Result<()>;
    /// `setgroups`, `setresgid`, `setresuid`, in that order.
    fn set_user(&self, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()>;
    /// Sets the effective and permitted sets to `caps` and clears the inheritable and ambient ones.
    fn set_capabilities(&self, caps: CapabilitySet) -> io::Result<()>;
    /// `prctl(PR_SET_NO_NEW_PRIVS, 1)`.
    fn set_no_new_privs(&self) -> io::Result<()>;
    /// `access(path, X_OK)`: whether the current user may execute `path`.
    fn access_exec(&self, path: &Path) -> io::Result<()>;
}

/// One recorded call of [`RecordingSyscall`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Call {
    Unshare(UnshareFlags),
    Setns(i32, UnshareFlags),
    EnterUserNamespace(u32, u32),
    Mount(Mount),
    MakeRprivate(PathBuf),
    Bind {
        source: PathBuf,
        target: PathBuf,
        recursive: bool,
    },
    RemountBindReadonly(PathBuf, MountFlags),
    UmountDetach(PathBuf),
    PivotRoot(PathBuf),
    Chdir(PathBuf),
    MkdirAll(PathBuf),
    MknodChar {
        path: PathBuf,
        mode: u32,
        major: u32,
        minor: u32,
    },
    Symlink {
        target: String,
        link: PathBuf,
    },
    WriteFile(PathBuf, String),
    Populate {
        from: PathBuf,
        to: PathBuf,
    },
    Sethostname(String),
    Umask(u32),
    LoopbackUp,
    Setrlimit(Resource, Option<u64>, Option<u64>),
    DropBoundingExcept(CapabilitySet),
    SetUser {
        uid: u32,
        gid: u32,
        groups: Vec<u32>,
    },
    SetCapabilities(CapabilitySet),
    SetNoNewPrivs,
}

/// A test double: records every call, answers queries from a small fake filesystem, and can be
/// told to fail a call on a path.
#[derive(Debug, Default)]
pub struct RecordingSyscall {
    calls: RefCell<Vec<Call>>,
    /// Paths that exist, with their kind (for [`Syscall::file_kind`] and [`Syscall::access_exec`]).
    pub files: BTreeMap<PathBuf, FileKind>,
    /// Paths that [`Syscall::access_exec`] accepts.
    pub executables: BTreeSet<PathBuf>,
    /// File contents for [`Syscall::read_file`] (missing: `ENOENT`).
    pub contents: BTreeMap<PathBuf, String>,
    /// Hard rlimits reported by [`Syscall::hard_rlimit`] (missing: unlimited).
    pub hard_limits: Vec<(Resource, u64)>,
    /// Mount targets whose mount fails with `EPERM`.
    pub fail_mounts: BTreeSet<PathBuf>,
    /// Symlinks and their targets (for [`Syscall::read_link`]).
    pub links: BTreeMap<PathBuf, PathBuf>,
}

impl RecordingSyscall {
    /// The calls made so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    fn record(&self, call: Call) {
        self.calls.borrow_mut().push(call);
    }
}

impl Syscall for RecordingSyscall {
    fn unshare(&self, flags: UnshareFlags) -> io::Result<()> {
        self.record(Call::Unshare(flags));
        Ok(())
    }
    fn setns(&self, pid: i32, flags: UnshareFlags) -> io::Result<()> {
        self.record(Call::Setns(pid, flags));
        Ok(())
    }
    fn enter_user_namespace(&self, uid: u32, gid: u32) -> io::Result<()> {
        self.record(Call::EnterUserNamespace(uid, gid));
        Ok(())
    }
    fn mount(&self, m: &Mount) -> io::Result<()> {
        self.record(Call::Mount(m.clone()));
        if self.fail_mounts.contains(&m.target) {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        Ok(())
    }
    fn make_rprivate(&self, target: &Path) -> io::Result<()> {
        self.record(Call::MakeRprivate(target.into()));
        Ok(())
    }
    fn bind(&self, source: &Path, target: &Path, recursive: bool) -> io::Result<()> {
        self.record(Call::Bind {
            source: source.into(),
            target: target.into(),
            recursive,
        });
        Ok(())
    }
    fn remount_bind_readonly(&self, target: &Path, flags: MountFlags) -> io::Result<()> {
        self.record(Call::RemountBindReadonly(target.into(), flags));
        Ok(())
    }
    fn umount_detach(&self, target: &Path) -> io::Result<()> {
        self.record(Call::UmountDetach(target.into()));
        Ok(())
    }
    fn pivot_root(&self, new_root: &Path) -> io::Result<()> {
        self.record(Call::PivotRoot(new_root.into()));
        Ok(())
    }
    fn chdir(&self, path: &Path) -> io::Result<()> {
        self.record(Call::Chdir(path.into()));
        Ok(())
    }
    fn mkdir_all(&self, path: &Path) -> io::Result<()> {
        self.record(Call::MkdirAll(path.into()));
        Ok(())
    }
    fn mknod_char(&self, path: &Path, mode: u32, major: u32, minor: u32) -> io::Result<()> {
        self.record(Call::MknodChar {
            path: path.into(),
            mode,
            major,
            minor,
        });
        Ok(())
    }
    fn symlink(&self, target: &str, link: &Path) -> io::Result<()> {
        self.record(Call::Symlink {
            target: target.into(),
            link: link.into(),
        });
        Ok(())
    }
    fn write_file(&self, path: &Path, contents: &str) -> io::Result<()> {
        self.record(Call::WriteFile(path.into(), contents.into()));
        Ok(())
    }
    fn read_file(&self, path: &Path) -> io::Result<String> {
        self.contents
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }
    fn file_kind(&self, path: &Path) -> io::Result<Option<FileKind>> {
        Ok(self.files.get(path).copied())
    }
    fn read_link(&self, path: &Path) -> io::Result<Option<PathBuf>> {
        Ok(self.links.get(path).cloned())
    }
    fn populate(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.record(Call::Populate {
            from: from.into(),
            to: to.into(),
        });
        Ok(())
    }
    fn sethostname(&self, name: &str) -> io::Result<()> {
        self.record(Call::Sethostname(name.into()));
        Ok(())
    }
    fn umask(&self, mask: u32) {
        self.record(Call::Umask(mask));
    }
    fn loopback_up(&self) -> io::Result<()> {
        self.record(Call::LoopbackUp);
        Ok(())
    }
    fn hard_rlimit(&self, resource: Resource) -> Option<u64> {
        self.hard_limits
            .iter()
            .find(|(r, _)| *r == resource)
            .map(|(_, v)| *v)
    }
    fn setrlimit(
        &self,
        resource: Resource,
        soft: Option<u64>,
        hard: Option<u64>,
    ) -> io::Result<()> {
        self.record(Call::Setrlimit(resource, soft, hard));
        Ok(())
    }
    fn drop_bounding_except(&self, keep: CapabilitySet) -> io::Result<()> {
        self.record(Call::DropBoundingExcept(keep));
        Ok(())
    }
    fn set_user(&self, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
        self.record(Call::SetUser {
            uid,
            gid,
            groups: groups.to_vec(),
        });
        Ok(())
    }
    fn set_capabilities(&self, caps: CapabilitySet) -> io::Result<()> {
        self.record(Call::SetCapabilities(caps));
        Ok(())
    }
    fn set_no_new_privs(&self) -> io::Result<()> {
        self.record(Call::SetNoNewPrivs);
        Ok(())
    }
    fn access_exec(&self, path: &Path) -> io::Result<()> {
        if self.executables.contains(path) {
            Ok(())
        } else if self.files.contains_key(path) {
            Err(io::Error::from_raw_os_error(libc::EACCES))
        } else {
            Err(io::Error::from_raw_os_error(libc::ENOENT))
        }
    }
}
