//! [`RealSyscall`]: the [`Syscall`] trait on the running kernel, through rustix.

use std::io;
use std::path::Path;

use rustix::fs::{Access, FileType, Mode};
use rustix::mount::{MountPropagationFlags, UnmountFlags};
use rustix::process::Rlimit;
use rustix::thread::CapabilitySets;

use super::ffi;
use super::syscall::{CapabilitySet, FileKind, Mount, MountFlags, Resource, Syscall, UnshareFlags};

/// The kernel itself. Most calls need root (or the matching capability).
#[derive(Debug, Default, Clone, Copy)]
pub struct RealSyscall;

impl Syscall for RealSyscall {
    fn unshare(&self, flags: UnshareFlags) -> io::Result<()> {
        ffi::unshare(flags)
    }

    fn enter_user_namespace(&self, uid: u32, gid: u32) -> io::Result<()> {
        ffi::unshare(UnshareFlags::NEWUSER)?;
        std::fs::write("/proc/self/setgroups", "deny")?;
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"))?;
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
    }

    fn setns(&self, pid: i32, flags: UnshareFlags) -> io::Result<()> {
        let pid = rustix::process::Pid::from_raw(pid)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?;
        rustix::thread::move_into_thread_name_spaces(
            std::os::fd::AsFd::as_fd(&fd),
            rustix::thread::ThreadNameSpaceType::from_bits_retain(flags.bits()),
        )?;
        Ok(())
    }

    fn mount(&self, m: &Mount) -> io::Result<()> {
        let data = std::ffi::CString::new(m.data.as_str())?;
        let data = (!m.data.is_empty()).then_some(data.as_c_str());
        Ok(rustix::mount::mount(
            m.source.as_str(),
            &m.target,
            m.fstype.as_str(),
            m.flags,
            data,
        )?)
    }

    fn make_rprivate(&self, target: &Path) -> io::Result<()> {
        Ok(rustix::mount::mount_change(
            target,
            MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
        )?)
    }

    fn bind(&self, source: &Path, target: &Path, recursive: bool) -> io::Result<()> {
        if recursive {
            Ok(rustix::mount::mount_bind_recursive(source, target)?)
        } else {
            Ok(rustix::mount::mount_bind(source, target)?)
        }
    }

    fn remount_bind_readonly(&self, target: &Path, flags: MountFlags) -> io::Result<()> {
        // A bind keeps the flags of the mount it came from, and in a user namespace the kernel
        // locks them (a rootless bind of a nosuid host path): the remount repeats them, as runc.
        use rustix::fs::StatVfsMountFlags as St;
        let now = rustix::fs::statvfs(target)?.f_flag;
        let kept = [
            (St::NOSUID, MountFlags::NOSUID),
            (St::NODEV, MountFlags::NODEV),
            (St::NOEXEC, MountFlags::NOEXEC),
            (St::NOATIME, MountFlags::NOATIME),
            (St::NODIRATIME, MountFlags::NODIRATIME),
            (St::RELATIME, MountFlags::RELATIME),
        ]
        .into_iter()
        .filter(|(st, _)| now.contains(*st))
        .fold(MountFlags::empty(), |all, (_, ms)| all | ms);
        Ok(rustix::mount::mount_remount(
            target,
            flags | kept | MountFlags::BIND | MountFlags::RDONLY,
            "",
        )?)
    }

    fn umount_detach(&self, target: &Path) -> io::Result<()> {
        Ok(rustix::mount::unmount(target, UnmountFlags::DETACH)?)
    }

    fn pivot_root(&self, new_root: &Path) -> io::Result<()> {
        rustix::process::chdir(new_root)?;
        Ok(rustix::process::pivot_root(".", ".")?)
    }

    fn chdir(&self, path: &Path) -> io::Result<()> {
        Ok(rustix::process::chdir(path)?)
    }

    fn mkdir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn mknod_char(&self, path: &Path, mode: u32, major: u32, minor: u32) -> io::Result<()> {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            FileType::CharacterDevice,
            Mode::from_raw_mode(mode),
            rustix::fs::makedev(major, minor),
        )?;
        // mknod honours the umask; the device modes are fixed.
        Ok(rustix::fs::chmod(path, Mode::from_raw_mode(mode))?)
    }

    fn symlink(&self, target: &str, link: &Path) -> io::Result<()> {
        std::os::unix::fs::symlink(target, link)
    }

    fn write_file(&self, path: &Path, contents: &str) -> io::Result<()> {
        std::fs::write(path, contents)
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn file_kind(&self, path: &Path) -> io::Result<Option<FileKind>> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Ok(Some(FileKind::Dir)),
            Ok(m) if m.is_file() => Ok(Some(FileKind::File)),
            Ok(_) => Ok(Some(FileKind::Other)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read_link(&self, path: &Path) -> io::Result<Option<std::path::PathBuf>> {
        match std::fs::read_link(path) {
            Ok(target) => Ok(Some(target)),
            // EINVAL: not a symlink; ENOTDIR: below a file
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOTDIR)) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn populate(&self, from: &Path, to: &Path) -> io::Result<()> {
        super::populate::populate(from, to)
    }

    fn sethostname(&self, name: &str) -> io::Result<()> {
        Ok(rustix::system::sethostname(name.as_bytes())?)
    }

    fn umask(&self, mask: u32) {
        rustix::process::umask(Mode::from_raw_mode(mask));
    }

    fn loopback_up(&self) -> io::Result<()> {
        ffi::loopback_up()
    }

    fn hard_rlimit(&self, resource: Resource) -> Option<u64> {
        rustix::process::getrlimit(resource).maximum
    }

    fn setrlimit(
        &self,
        resource: Resource,
        soft: Option<u64>,
        hard: Option<u64>,
    ) -> io::Result<()> {
        Ok(rustix::process::setrlimit(
            resource,
            Rlimit {
                current: soft,
                maximum: hard,
            },
        )?)
    }

    fn drop_bounding_except(&self, keep: CapabilitySet) -> io::Result<()> {
        let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")?
            .trim()
            .parse()
            .map_err(|_| io::Error::other("cannot parse /proc/sys/kernel/cap_last_cap"))?;
        for cap in (0..=last).map(|n| CapabilitySet::from_bits_retain(1u64 << n)) {
            if !keep.contains(cap) {
                rustix::thread::remove_capability_from_bounding_set(cap)?;
            }
        }
        Ok(())
    }

    fn set_user(&self, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
        use rustix::process::{Gid, Uid};
        let groups: Vec<Gid> = groups.iter().map(|g| Gid::from_raw(*g)).collect();
        rustix::thread::set_thread_groups(&groups)?;
        let gid = Gid::from_raw(gid);
        rustix::thread::set_thread_res_gid(gid, gid, gid)?;
        let uid = Uid::from_raw(uid);
        Ok(rustix::thread::set_thread_res_uid(uid, uid, uid)?)
    }

    fn set_capabilities(&self, caps: CapabilitySet) -> io::Result<()> {
        rustix::thread::set_capabilities(
            None,
            CapabilitySets {
                effective: caps,
                permitted: caps,
                inheritable: CapabilitySet::empty(),
            },
        )?;
        Ok(rustix::thread::clear_ambient_capability_set()?)
    }

    fn set_no_new_privs(&self) -> io::Result<()> {
        Ok(rustix::thread::set_no_new_privs(true)?)
    }

    fn access_exec(&self, path: &Path) -> io::Result<()> {
        Ok(rustix::fs::access(path, Access::EXEC_OK)?)
    }
}
