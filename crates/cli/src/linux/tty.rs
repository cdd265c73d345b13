//! `-t`: a pseudo-terminal for the container, as runc's console. The terminal is made inside
//! the container (from its own devpts, so `tty` there says `/dev/pts/0`); it becomes the
//! controlling terminal and stdin, stdout and stderr of the container's process, and the master
//! side goes back to the caller (over a socket for `run`, directly for `exec`), which copies it
//! to and from its own terminal, in raw mode while attached, with the window size kept in step.

use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use rustix::pty::OpenptFlags;
use rustix::termios::{OptionalActions, Termios};

use super::ffi;

/// docker's error when `-it` is asked for and stdin is not a terminal (exit code 1).
pub const NOT_A_TTY: &str = "the input device is not a TTY";

/// A new terminal from the devpts of the current mount namespace (the container's):
/// `(master, slave)`.
pub fn open() -> io::Result<(OwnedFd, OwnedFd)> {
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    Ok((master, slave))
}

/// Makes `slave` the calling process's controlling terminal (in a new session) and its stdin,
/// stdout and stderr.
pub fn make_controlling(slave: &OwnedFd) -> io::Result<()> {
    rustix::process::setsid()?;
    rustix::process::ioctl_tiocsctty(slave)?;
    rustix::stdio::dup2_stdin(slave)?;
    rustix::stdio::dup2_stdout(slave)?;
    rustix::stdio::dup2_stderr(slave)?;
    Ok(())
}

/// In the container's first process: makes its terminal, sends the master side over
/// `console`, and takes the slave side as controlling terminal and stdio.
pub fn hand_over(console: BorrowedFd<'_>) -> io::Result<()> {
    let (master, slave) = open()?;
    send_fd(console, master.as_fd())?;
    drop(master);
    make_controlling(&slave)
}

/// Sends a descriptor over a Unix socket (`SCM_RIGHTS`).
pub fn send_fd(socket: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(
        socket,
        &[IoSlice::new(b"t")],
        &mut control,
        SendFlags::empty(),
    )?;
    Ok(())
}

/// Receives a descriptor [`send_fd`] sent.
pub fn recv_fd(socket: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut byte)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = message
            && let Some(fd) = fds.next()
        {
            return Ok(fd);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the container sent no terminal",
    ))
}

/// The caller's terminal in raw mode for as long as this lives (restored when dropped).
#[derive(Debug)]
pub struct RawMode {
    fd: OwnedFd,
    saved: Termios,
}

impl RawMode {
    /// Puts the terminal `fd` in raw mode, as docker's CLI does while attached with `-it`.
    pub fn enter(fd: BorrowedFd<'_>) -> io::Result<Self> {
        let saved = rustix::termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(fd, OptionalActions::Now, &raw)?;
        Ok(Self {
            fd: fd.try_clone_to_owned()?,
            saved,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(&self.fd, OptionalActions::Now, &self.saved);
    }
}

/// Gives the container's terminal the size of the caller's (`from`).
pub fn copy_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    if let Ok(size) = rustix::termios::tcgetwinsize(from) {
        let _ = rustix::termios::tcsetwinsize(to, size);
    }
}

/// The caller's terminal, if it has one: stdin, else stdout.
pub fn caller_terminal() -> Option<BorrowedFd<'static>> {
    let stdin = rustix::stdio::stdin();
    let stdout = rustix::stdio::stdout();
    [stdin, stdout]
        .into_iter()
        .find(|fd| rustix::termios::isatty(fd))
}

/// Keeps the container's terminal as large as the caller's: now, and at every `SIGWINCH`
/// (blocked in the calling thread and the threads it starts later; one thread takes it).
pub fn follow_size(master: &OwnedFd) -> io::Result<()> {
    let Some(terminal) = caller_terminal() else {
        return Ok(());
    };
    copy_size(terminal, master.as_fd());
    ffi::block_in_thread(&[libc::SIGWINCH])?;
    let master = master.try_clone()?;
    std::thread::spawn(move || {
        while ffi::wait_for(&[libc::SIGWINCH]).is_ok() {
            if let Some(terminal) = caller_terminal() {
                copy_size(terminal, master.as_fd());
            }
        }
    });
    Ok(())
}

/// Copies the caller's stdin into the container's terminal until stdin ends, in a thread of
/// its own (it may block reading for as long as the process lives).
pub fn feed_stdin(master: &OwnedFd) -> io::Result<()> {
    let mut to = File::from(master.try_clone()?);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(())
}

/// Relays between the caller and the container's terminal in this one thread (`exec`: a
/// process that has joined a PID namespace can start no thread): what the terminal shows to
/// stdout, with `input` stdin to the terminal, the caller's terminal raw meanwhile and its
/// window size followed (`SIGWINCH`, taken between polls). Returns when the terminal closes.
pub fn relay(master: &OwnedFd, input: bool) -> io::Result<()> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let terminal = caller_terminal();
    if let Some(terminal) = terminal {
        copy_size(terminal, master.as_fd());
    }
    ffi::block_in_thread(&[libc::SIGWINCH])?;
    let stdin = io::stdin();
    let _raw = if input {
        Some(RawMode::enter(stdin.as_fd())?)
    } else {
        None
    };
    let mut out = io::stdout().lock();
    let mut reading = input;
    let mut buf = [0u8; 4096];
    let ready = PollFlags::IN | PollFlags::HUP | PollFlags::ERR;
    // a tenth of a second between looks at SIGWINCH when nothing else happens
    let tick = Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    loop {
        let mut fds = vec![PollFd::new(master, PollFlags::IN)];
        if reading {
            fds.push(PollFd::new(&stdin, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, Some(&tick)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        let (shown, typed) = (
            fds[0].revents().intersects(ready),
            fds.get(1).is_some_and(|f| f.revents().intersects(ready)),
        );
        if ffi::take_pending(&[libc::SIGWINCH])
            && let Some(terminal) = terminal
        {
            copy_size(terminal, master.as_fd());
        }
        if shown {
            // the end of a terminal whose last process has gone reads as EIO
            match rustix::io::read(master, &mut buf) {
                Ok(0) | Err(_) => return Ok(()),
                Ok(n) => {
                    out.write_all(&buf[..n])?;
                    out.flush()?;
                }
            }
        }
        if typed {
            match rustix::io::read(&stdin, &mut buf) {
                Ok(0) | Err(_) => reading = false,
                Ok(n) => {
                    let mut rest = &buf[..n];
                    while !rest.is_empty() {
                        let written = rustix::io::write(master, rest)?;
                        rest = &rest[written..];
                    }
                }
            }
        }
    }
}
