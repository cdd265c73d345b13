//! `-t` through the binary, driven through a pseudo-terminal of the test's own as a user's
//! terminal would: the container's own terminal (`tty` says `/dev/pts/0`), raw mode while
//! attached and restored after, the window size followed, exit codes, and docker's error when
//! stdin is no terminal.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;

use super::Lab;
use crate::linux_root::root_only;

/// A user's terminal: layerbox on its slave side, the test typing and reading on the master.
struct Terminal {
    master: File,
    output: Receiver<Vec<u8>>,
    seen: String,
    /// Where the output since the last typing starts.
    mark: usize,
    child: Child,
}

impl Terminal {
    fn run(lab: &Lab, args: &[&str], rows: u16, cols: u16) -> Self {
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = rustix::pty::openpt(flags).unwrap();
        rustix::pty::grantpt(&master).unwrap();
        rustix::pty::unlockpt(&master).unwrap();
        let slave: OwnedFd = rustix::pty::ioctl_tiocgptpeer(&master, flags).unwrap();
        resize(&master, rows, cols);
        let mut cmd = lab.command(args);
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().unwrap();
        // the slave's last ends are now layerbox's: the master reads EIO once it has exited
        drop(cmd);
        let mut reader = File::from(master.try_clone().unwrap());
        let (send, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || send.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            master: File::from(master),
            output,
            seen: String::new(),
            mark: 0,
            child,
        }
    }

    fn termios(&self) -> rustix::termios::Termios {
        rustix::termios::tcgetattr(&self.master).unwrap()
    }

    fn resize(&self, rows: u16, cols: u16) {
        resize(&self.master, rows, cols);
    }

    fn type_in(&mut self, text: &str) {
        self.mark = self.seen.len();
        self.master.write_all(text.as_bytes()).unwrap();
    }

    /// What was shown since the last typing.
    fn since_typing(&self) -> &str {
        &self.seen[self.mark..]
    }

    /// Reads until `text` has been shown since the last typing (the 20 s are a safety net
    /// against a hang, no threshold: it shows at once); `false` if the terminal closed first.
    fn wait_for(&mut self, text: &str) -> bool {
        while !self.since_typing().contains(text) {
            match self.output.recv_timeout(Duration::from_secs(20)) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Disconnected) => return false,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("hung waiting for {text:?}: {}", self.seen)
                }
            }
        }
        true
    }

    /// Everything shown until the terminal closed, and layerbox's exit code.
    fn finish(mut self) -> (String, i32) {
        while let Ok(chunk) = self.output.recv_timeout(Duration::from_secs(20)) {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        (self.seen, code)
    }
}

fn resize(master: &impl std::os::fd::AsFd, rows: u16, cols: u16) {
    let size = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(master, size).unwrap();
}

#[test]
fn run_it_gives_the_container_its_own_terminal_raw_and_sized_as_the_users() {
    let _g = root_only!();
    let lab = Lab::new();
    let mut term = Terminal::run(&lab, &["run", "-it", "--rm", "busybox", "sh"], 30, 90);
    let cooked = term.termios();
    term.type_in("tty; stty size\n");
    assert!(term.wait_for("/dev/pts/0\r\n"), "{}", term.seen);
    assert!(term.wait_for("30 90\r\n"), "{}", term.seen);
    // while attached, the user's terminal is raw: no echo, no line editing of its own
    let raw = term.termios();
    assert!(!raw.local_modes.contains(rustix::termios::LocalModes::ECHO));
    assert!(
        !raw.local_modes
            .contains(rustix::termios::LocalModes::ICANON)
    );
    // the user's window grows: layerbox hears SIGWINCH and passes the size on
    term.resize(50, 120);
    let pid = rustix::process::Pid::from_raw(i32::try_from(term.child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::WINCH).unwrap();
    let mut resized = false;
    for _ in 0..100 {
        term.type_in("stty size\n");
        assert!(term.wait_for("\r\n/ # "), "{}", term.seen);
        if term.since_typing().contains("50 120\r\n") {
            resized = true;
            break;
        }
    }
    assert!(resized, "{}", term.seen);
    term.type_in("echo h''i; exit 3\n");
    let master = term.master.try_clone().unwrap();
    let (shown, code) = term.finish();
    assert!(shown.contains("\r\nhi\r\n"), "{shown}");
    assert_eq!(code, 3, "{shown}");
    // and the terminal is as the user had it
    let after = rustix::termios::tcgetattr(&master).unwrap();
    assert_eq!(after.local_modes, cooked.local_modes);
    assert_eq!(after.input_modes, cooked.input_modes);
    assert_eq!(after.output_modes, cooked.output_modes);
    assert_eq!(lab.ok(&["ps", "-aq"]), "");
    lab.assert_clean();
}

#[test]
fn exec_it_opens_a_terminal_in_the_running_container() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
    let mut term = Terminal::run(&lab, &["exec", "-it", "box", "sh"], 24, 80);
    term.type_in("tty; echo $$; exit 4\n");
    assert!(term.wait_for("/dev/pts/0\r\n"), "{}", term.seen);
    let (shown, code) = term.finish();
    assert_eq!(code, 4, "{shown}");
    lab.ok(&["rm", "-f", "box"]);
    lab.assert_clean();
}

#[test]
fn t_without_i_shows_the_terminal_and_it_without_a_terminal_is_dockers_error() {
    let _g = root_only!();
    let lab = Lab::new();
    // -t alone: the output comes through the container's terminal (\r\n), nothing is read
    let (out, err, code) = lab.all(&[
        "run",
        "-t",
        "--name",
        "tt",
        "busybox",
        "sh",
        "-c",
        "tty; echo hi; exit 2",
    ]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("/dev/pts/0\r\nhi\r\n", "", 2)
    );
    // the log has it as stdout, as docker's json-file of a tty container
    assert_eq!(lab.ok(&["logs", "tt"]), "/dev/pts/0\r\nhi\r\n");
    // -it with stdin not a terminal: docker's CLI refuses before creating anything
    let (out, err, code) = lab.all(&["run", "-it", "busybox", "true"]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "the input device is not a TTY\n", 1)
    );
    assert_eq!(lab.ok(&["ps", "-aq", "--no-trunc"]).lines().count(), 1);
    lab.ok(&["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
    let (out, err, code) = lab.all(&["exec", "-it", "box", "true"]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "the input device is not a TTY\n", 1)
    );
    // detached with -t: the shim keeps the terminal and logs what it shows
    lab.ok(&["run", "-dt", "--name", "dt", "busybox", "sh", "-c", "tty"]);
    assert_eq!(lab.ok(&["wait", "dt"]), "0\n");
    assert_eq!(lab.ok(&["logs", "dt"]), "/dev/pts/0\r\n");
    lab.ok(&["rm", "-f", "box", "tt", "dt"]);
    lab.assert_clean();
}
