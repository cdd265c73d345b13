//! The kernel calls rustix has no safe wrapper for. The only `unsafe` of the crate.
#![allow(unsafe_code)]

use std::io;

/// Whether the caller is the parent or the new child of a [`fork`].
pub enum Forked {
    /// In the parent: the child's pid.
    Parent(i32),
    /// In the child.
    Child,
}

/// `fork(2)` through glibc, so its atfork handlers leave malloc usable in the child.
///
/// The child must only do the container setup and then exec or [`exit_now`]: it never returns
/// into the caller's other threads' state (locks held by them at the fork stay held).
pub fn fork() -> io::Result<Forked> {
    // SAFETY: fork has no memory-safety preconditions; the caller's contract above keeps the
    // child away from state owned by threads that do not exist in it.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// `_exit(2)`: ends a forked child at once, without running the parent's atexit handlers or
/// flushing buffers that belong to the parent.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and takes no pointers.
    unsafe { libc::_exit(code) }
}

/// Brings the loopback interface of the current network namespace up, as docker does for every
/// container (`ip link set lo up`: `SIOCGIFFLAGS`, then `SIOCSIFFLAGS` with `IFF_UP`).
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: socket takes no pointers; the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);
    // SAFETY: ifreq is a plain C struct (a name and a union of plain fields); zero is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = libc::c_char::try_from(*src).unwrap_or(0);
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes `ifru_flags` of the ifreq we own.
    if unsafe { libc::ioctl(raw, libc::SIOCGIFFLAGS, &raw mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel filled `ifru_flags`, the union member SIOCGIFFLAGS writes.
    unsafe {
        req.ifr_ifru.ifru_flags |= libc::c_short::try_from(libc::IFF_UP).unwrap_or(1);
    }
    // SAFETY: SIOCSIFFLAGS reads the name and `ifru_flags` of the ifreq we own.
    if unsafe { libc::ioctl(raw, libc::SIOCSIFFLAGS, &raw const req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Closes every file descriptor from 3 up except `keep`, with `close_range(2)`.
///
/// A forked monitor never execs, so close-on-exec does not shed what it inherited: another
/// thread's pipe ends, or the store's lock file, whose `flock` would stay held for as long as the
/// container runs.
pub fn close_fds_except(keep: &[i32]) -> io::Result<()> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|fd| u32::try_from(*fd).ok())
        .filter(|fd| *fd > 2)
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first = 3u32;
    for fd in keep.into_iter().chain(std::iter::once(u32::MAX)) {
        if fd > first {
            // SAFETY: close_range takes two integers and flags; it only closes descriptors,
            // and no Rust object of this process owns the ones in the range (we never return
            // into code that would use them: the caller is a forked child about to fork or exit).
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    libc::c_uint::from(first),
                    libc::c_uint::from(fd - 1),
                    0 as libc::c_uint,
                )
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        first = fd.saturating_add(1);
    }
    Ok(())
}

fn full_set() -> libc::sigset_t {
    // SAFETY: sigset_t is a plain bit array; sigfillset initialises all of it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&raw mut set);
        set
    }
}

/// Blocks every signal (a container's init takes them with [`wait_signal`] instead).
pub fn block_signals() -> io::Result<()> {
    let set = full_set();
    // SAFETY: `set` is initialised; the old mask is not asked for.
    if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unblocks every signal (before exec, so the program starts with an empty mask).
pub fn unblock_signals() -> io::Result<()> {
    // SAFETY: an all-zero sigset_t is the empty set.
    let set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is initialised; the old mask is not asked for.
    if unsafe { libc::sigprocmask(libc::SIG_SETMASK, &raw const set, std::ptr::null_mut()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits for any (blocked) signal and returns its number: `sigwaitinfo(2)`.
pub fn wait_signal() -> io::Result<i32> {
    wait_in(&full_set())
}

/// `sigwaitinfo(2)` on `set`.
fn wait_in(set: &libc::sigset_t) -> io::Result<i32> {
    // SAFETY: `set` is initialised and the info pointer may be null.
    let sig = unsafe { libc::sigwaitinfo(set, std::ptr::null_mut()) };
    if sig < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sig)
}

/// The signals an attached `run` passes on to the container (docker's `--sig-proxy`).
pub const FORWARDED: &[i32] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

fn set_of(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the plain bit array; sigaddset sets bits of valid signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        for sig in signals {
            libc::sigaddset(&raw mut set, *sig);
        }
        set
    }
}

/// Blocks `signals` in the calling thread (and the threads it starts later), so that only
/// [`wait_for`] takes them.
pub fn block_in_thread(signals: &[i32]) -> io::Result<()> {
    let set = set_of(signals);
    // SAFETY: `set` is initialised; the old mask is not asked for.
    let rc =
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits for one of `signals` (blocked) and returns its number.
pub fn wait_for(signals: &[i32]) -> io::Result<i32> {
    wait_in(&set_of(signals))
}

/// Takes one of `signals` if it is pending (blocked), without waiting.
pub fn take_pending(signals: &[i32]) -> bool {
    let set = set_of(signals);
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `set` and `zero` are initialised; the info pointer may be null.
    unsafe { libc::sigtimedwait(&raw const set, std::ptr::null_mut(), &raw const zero) > 0 }
}

/// Blocks the [`FORWARDED`] signals in the calling thread (and the threads it starts later), so
/// that only [`wait_forwarded`] takes them.
pub fn block_forwarded() -> io::Result<()> {
    block_in_thread(FORWARDED)
}

/// Waits for one of the [`FORWARDED`] signals (blocked) and returns its number.
pub fn wait_forwarded() -> io::Result<i32> {
    wait_for(FORWARDED)
}

/// `unshare(2)` of namespaces only.
pub fn unshare(flags: rustix::thread::UnshareFlags) -> io::Result<()> {
    use rustix::thread::UnshareFlags;
    if flags.intersects(UnshareFlags::FILES | UnshareFlags::FS | UnshareFlags::SYSVSEM) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: rustix marks unshare unsafe for CLONE_FILES (threads could see each other's file
    // descriptors vanish); the check above admits only namespace flags.
    Ok(unsafe { rustix::thread::unshare_unsafe(flags) }?)
}
