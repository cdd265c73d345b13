//! The shim: the small supervisor of a container, so that `ps`, `logs`, `wait` and `stop` work
//! from later invocations and the container survives the CLI that started it.
//!
//! `run -d` forks twice (the middle process calls `setsid` and exits, so the shim is nobody's
//! child and has no terminal); the shim starts the container with its stdout and stderr on
//! pipes, reports the container's PID 1 (or docker's start error) back to the CLI over a pipe,
//! then copies each output line into `containers/<id>/json.log` as docker's json-file driver
//! does (`{"log":"hi\n","stream":"stdout","time":"…"}`), waits for the container and records
//! its exit code in the container's record under the store lock. An attached `run` does the
//! same in the CLI itself ([`Attached`]), also copying the output to the terminal.
//!
//! Every state change is one atomic record write: the CLI records `running` (with the shim's
//! and PID 1's identities) before it releases the lock, and the shim blocks on the lock before
//! it records `exited`, so the order holds even for a container that ends at once. A shim that
//! dies (kill -9) takes the container with it (PID 1 and its monitor die with their parent);
//! `system check` finds the record still `running` with no shim and repairs it.
//!
//! The shim also serves the container's published ports ([`crate::proxy`]) and carries out its
//! restart policy: when the process ends by itself and the policy says so, the record says
//! `restarting` for docker's backoff, then the shim starts it again (same writable layer, a new
//! PID 1 and network namespace, the proxy following). A user's `stop`, `kill` or `rm -f` leaves
//! a marker in the container's directory under the store lock; the shim checks it under the lock
//! before each restart, so no new process starts after the user stopped the container.

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use layerbox_core::cli::rows::rfc3339_nano_fixed;
use layerbox_core::cli::units::Timestamp;
use layerbox_core::engine::{Clock, LogEntry, Stream};

use crate::linux::{ContainerSpec, Exit, LinuxError, Output, Running, SharedFd, StartError};
use crate::proxy::{Published, Target};
use crate::sim::SystemClock;
use crate::store::{ContainerRecord, ProcessRef, Store};

/// The name of a container's log in its directory.
pub const LOG_NAME: &str = "json.log";

/// One json-file record.
pub fn log_record(stream: Stream, time: Timestamp, text: &str) -> String {
    let stream = match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    };
    let mut line =
        serde_json::json!({"log": text, "stream": stream, "time": rfc3339_nano_fixed(time)})
            .to_string();
    line.push('\n');
    line
}

/// Parses the time of a json-file record (`2026-11-26T20:09:39.557494047Z`).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let nanos = s
        .get(20..)
        .and_then(|f| f.strip_suffix('Z'))
        .map_or(Some(0), |f| {
            format!("{f:0<9}").get(..9)?.parse::<i64>().ok()
        })?;
    // days from civil (Howard Hinnant)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(Timestamp(
        (days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000 + nanos,
    ))
}

/// Reads a container's log back, from byte `from` on; returns the entries and where it ended
/// (the start of an unfinished last line, for `logs -f`).
pub fn read_log(path: &Path, from: u64) -> io::Result<(Vec<LogEntry>, u64)> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), from)),
        Err(e) => return Err(e),
    };
    io::Seek::seek(&mut file, io::SeekFrom::Start(from))?;
    let mut entries = Vec::new();
    let mut offset = from;
    for line in io::BufReader::new(file).split(b'\n') {
        let line = line?;
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
            break; // a record being written
        };
        offset += line.len() as u64 + 1;
        let stream = if v["stream"] == "stderr" {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        entries.push(LogEntry {
            stream,
            time: v["time"].as_str().and_then(parse_time).unwrap_or_default(),
            text: v["log"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok((entries, offset))
}

/// Copies one of the container's streams, line by line, into the log (and the terminal).
fn pump(mut from: File, stream: Stream, log: Option<&Mutex<File>>, tee: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let flush_lines = |pending: &mut Vec<u8>, all: bool| {
        let Some(log) = &log else {
            pending.clear();
            return;
        };
        let now = SystemClock.now();
        let mut text = String::new();
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            text.push_str(&log_record(stream, now, &String::from_utf8_lossy(&line)));
        }
        if all && !pending.is_empty() {
            text.push_str(&log_record(stream, now, &String::from_utf8_lossy(pending)));
            pending.clear();
        }
        if let Ok(mut f) = log.lock() {
            let _ = f.write_all(text.as_bytes());
        }
    };
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if tee {
            // flushed at once: a prompt has no newline
            let _ = match stream {
                Stream::Stdout => {
                    let mut out = io::stdout().lock();
                    out.write_all(&buf[..n]).and_then(|()| out.flush())
                }
                Stream::Stderr => io::stderr().write_all(&buf[..n]),
            };
        }
        pending.extend_from_slice(&buf[..n]);
        flush_lines(&mut pending, false);
    }
    flush_lines(&mut pending, true);
}

/// Opens a container's log for appending.
fn open_log(path: &Path) -> Result<File, LinuxError> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(LinuxError::io(format!("open {}", path.display())))
}

/// Passes the signals a user sends an attached `run` (Ctrl-C, `kill`) on to the container's PID 1,
/// as docker's `--sig-proxy` does: they are blocked in this thread and the threads started
/// after it (the container was forked before), and one thread waits for them.
fn forward_signals(pid: i32) {
    use crate::linux::ffi;
    if ffi::block_forwarded().is_err() {
        return;
    }
    std::thread::spawn(move || {
        while let Ok(sig) = ffi::wait_forwarded() {
            if let (Some(pid), Some(sig)) = (
                rustix::process::Pid::from_raw(pid),
                rustix::process::Signal::from_named_raw(sig),
            ) {
                let _ = rustix::process::kill_process(pid, sig);
            }
        }
    });
}

/// A container started with its output going through this process.
#[derive(Debug)]
pub struct Attached {
    running: Running,
    pumps: Vec<JoinHandle<()>>,
    /// `-it`: the caller's terminal, raw until the container has ended.
    raw: Option<crate::linux::tty::RawMode>,
}

impl Attached {
    /// Starts the container. With a `log`, its stdout and stderr go through pipes into the log,
    /// and also to this process's own streams with `tee`; without, the container writes to this
    /// process's streams directly (`run --rm`, which keeps no logs).
    pub fn spawn(
        mut spec: ContainerSpec,
        log: Option<&Path>,
        tee: bool,
    ) -> Result<Self, LinuxError> {
        if spec.terminal {
            return Self::spawn_terminal(spec, log, tee);
        }
        let Some(log) = log else {
            let running = crate::linux::spawn(&spec)?;
            if tee {
                forward_signals(running.pid());
            }
            return Ok(Self {
                running,
                pumps: Vec::new(),
                raw: None,
            });
        };
        let log = Arc::new(Mutex::new(open_log(log)?));
        let pipe = || {
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                .map_err(|e| LinuxError::io("pipe")(e.into()))
        };
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        spec.stdout = Output::Fd(SharedFd(Arc::new(out_w)));
        spec.stderr = Output::Fd(SharedFd(Arc::new(err_w)));
        let running = crate::linux::spawn(&spec)?;
        // our write ends go, so the pipes end when the container's processes have all ended
        drop(spec);
        if tee {
            forward_signals(running.pid());
        }
        let pumps = [(out_r, Stream::Stdout), (err_r, Stream::Stderr)]
            .into_iter()
            .map(|(r, stream)| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || pump(File::from(r), stream, Some(&log), tee))
            })
            .collect();
        Ok(Self {
            running,
            pumps,
            raw: None,
        })
    }

    /// [`Attached::spawn`] with `-t`: the container's terminal comes back over a socket; what it
    /// shows goes to the log (as stdout) and, with `tee`, to this process's stdout; with `-i`,
    /// this process's stdin goes to it, the caller's terminal raw meanwhile.
    fn spawn_terminal(
        mut spec: ContainerSpec,
        log: Option<&Path>,
        tee: bool,
    ) -> Result<Self, LinuxError> {
        use crate::linux::tty;
        use rustix::net::{AddressFamily, SocketFlags, SocketType};
        let log = log.map(open_log).transpose()?.map(Mutex::new);
        let (ours, theirs) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .map_err(|e| LinuxError::io("socketpair")(e.into()))?;
        spec.console = Some(SharedFd(Arc::new(theirs)));
        let input = tee && spec.stdin == crate::linux::Input::Inherit;
        let running = crate::linux::spawn(&spec)?;
        drop(spec);
        let master = tty::recv_fd(std::os::fd::AsFd::as_fd(&ours))
            .map_err(LinuxError::io("receive the container's terminal"))?;
        let mut raw = None;
        if tee {
            // SIGWINCH is blocked before any thread starts, so that only its own takes it
            tty::follow_size(&master).map_err(LinuxError::io("follow the window size"))?;
            forward_signals(running.pid());
        }
        if input {
            raw = Some(
                tty::RawMode::enter(std::os::fd::AsFd::as_fd(&io::stdin()))
                    .map_err(LinuxError::io("make the terminal raw"))?,
            );
            tty::feed_stdin(&master).map_err(LinuxError::io("copy stdin"))?;
        }
        let from = File::from(master);
        let pumps = vec![std::thread::spawn(move || {
            pump(from, Stream::Stdout, log.as_ref(), tee);
        })];
        Ok(Self {
            running,
            pumps,
            raw,
        })
    }

    /// The container's PID 1 on the host.
    pub fn pid(&self) -> i32 {
        self.running.pid()
    }

    /// Serves the container's published ports from this process (see [`crate::proxy`]) for as
    /// long as it lives.
    pub fn publish(&self, published: Published) {
        if published.is_empty() {
            return;
        }
        let target = Target::default();
        if target.set_pid(self.pid()).is_ok() {
            published.serve(&target);
        }
    }

    /// Waits until the output has all been copied and the container has ended (and gives the
    /// caller's terminal its mode back).
    pub fn wait(self) -> Result<Exit, LinuxError> {
        for p in self.pumps {
            let _ = p.join();
        }
        let exit = self.running.wait();
        drop(self.raw);
        exit
    }
}

/// What the CLI learns from a shim it started.
#[derive(Debug)]
pub struct Started {
    /// The shim.
    pub shim: ProcessRef,
    /// The container's PID 1.
    pub init: ProcessRef,
    /// The hand-off: the shim keeps the container only once the CLI has recorded it running
    /// and [`Started::confirm`]s. Should the CLI die (or fail) before, this end closes unwritten
    /// and the shim ends the container and itself, so no process runs that the store does not
    /// know about.
    ack: File,
}

impl Started {
    /// Tells the shim that the record says `running`: from now on the container is the shim's.
    pub fn confirm(mut self) {
        let _ = self.ack.write_all(b"1");
    }
}

/// Starts a detached container under a new shim (see the module docs); returns once the
/// container's program has been exec'd, or with docker's start error.
pub fn start_detached(
    store: &Store,
    record: &ContainerRecord,
    spec: &ContainerSpec,
    published: Published,
) -> Result<Started, LinuxError> {
    use crate::linux::ffi::{self, Forked};
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| LinuxError::io("pipe")(e.into()))?;
    let (mut read, write) = (File::from(read), File::from(write));
    let (ack_read, ack) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| LinuxError::io("pipe")(e.into()))?;
    let (ack_read, ack) = (File::from(ack_read), File::from(ack));
    let log = store
        .container_dir(&record.container.id)
        .map_err(|e| LinuxError::io("container dir")(io::Error::other(e)))?
        .join(LOG_NAME);
    match ffi::fork().map_err(LinuxError::io("fork the shim"))? {
        Forked::Child => {
            drop(read);
            let _ = rustix::process::setsid();
            match ffi::fork() {
                Ok(Forked::Child) => {
                    shim_main(store, record, spec, &log, (write, ack_read), published)
                }
                _ => ffi::exit_now(0),
            }
        }
        Forked::Parent(middle) => {
            drop(write);
            drop(ack_read);
            if let Some(pid) = rustix::process::Pid::from_raw(middle) {
                let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
            }
        }
    }
    let mut report = String::new();
    read.read_to_string(&mut report)
        .map_err(LinuxError::io("read the shim's report"))?;
    for line in report.lines() {
        if let Some(rest) = line.strip_prefix('E') {
            let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
            return Err(StartError {
                code: code.parse().unwrap_or(125),
                message: message.to_owned(),
            }
            .into());
        }
        if let Some(rest) = line.strip_prefix('S') {
            let mut pids = rest.split(' ').filter_map(|p| p.parse::<i32>().ok());
            if let (Some(init), Some(shim)) = (pids.next(), pids.next()) {
                let refs = (ProcessRef::of(init), ProcessRef::of(shim));
                return Ok(Started {
                    init: refs.0.unwrap_or(ProcessRef {
                        pid: init,
                        start: 0,
                    }),
                    shim: refs.1.unwrap_or(ProcessRef {
                        pid: shim,
                        start: 0,
                    }),
                    ack,
                });
            }
        }
    }
    Err(StartError::from_message("the shim ended before the container started".into()).into())
}

/// The name of the marker a user's `stop`, `kill` or `rm -f` leaves in the container's
/// directory: the restart policy does not bring the process back (docker's
/// `HasBeenManuallyStopped`). A manual `start` removes it.
const STOP_MARKER: &str = "stopped-by-user";

/// Marks the container as stopped by its user (the caller holds the store lock).
pub fn mark_stopped(store: &Store, id: &str) {
    if let Ok(dir) = store.container_dir(id) {
        let _ = File::create(dir.join(STOP_MARKER));
    }
}

/// Clears the mark of [`mark_stopped`] (a manual start).
pub fn clear_stopped(store: &Store, id: &str) {
    if let Ok(dir) = store.container_dir(id) {
        let _ = std::fs::remove_file(dir.join(STOP_MARKER));
    }
}

/// Whether the container's process may be brought back: its record is there and its user has
/// not stopped it.
fn may_restart(store: &Store, id: &str) -> bool {
    let marked = store
        .container_dir(id)
        .is_ok_and(|d| d.join(STOP_MARKER).exists());
    !marked && matches!(store.container(id), Ok(Some(_)))
}

/// Rewrites the container's record as it is on disk now (other invocations may have changed
/// it meanwhile) with `change` applied; the caller holds the store lock.
fn update(store: &Store, id: &str, change: impl FnOnce(&mut ContainerRecord)) {
    if let Ok(Some(mut now)) = store.container(id) {
        change(&mut now);
        let _ = store.put_container(&now);
    }
}

/// The shim process: never returns. Starts the container, serves its published ports, and
/// records its end; with a restart policy, brings it back after docker's backoff (100 ms,
/// doubling, reset after 10 s of running) until the policy or the user says no.
fn shim_main(
    store: &Store,
    record: &ContainerRecord,
    spec: &ContainerSpec,
    log: &Path,
    (report, mut ack): (File, File),
    published: Published,
) -> ! {
    use crate::linux::ffi;
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};
    // no terminal, no inherited descriptors (the CLI's pipes and the store's lock above all)
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdin(&null);
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stderr(&null);
    }
    let mut keep = published.fds();
    keep.extend([report.as_raw_fd(), ack.as_raw_fd()]);
    let _ = ffi::close_fds_except(&keep);
    let id = record.container.id.clone();
    let policy = record.container.spec.restart;
    let target = Target::default();
    if !published.is_empty() {
        published.serve(&target);
    }
    let mut report = Some(report);
    let mut restarts = record.container.restart_count;
    let mut spec = spec.clone();
    let mut backoff = 0;
    loop {
        // The first start is the CLI's, which holds the lock and records it; a restart is ours,
        // under the lock, so that a `stop` sees either no new process or the new one's PID.
        let lock = if report.is_none() {
            let lock = store.lock().ok();
            if !may_restart(store, &id) {
                let code = record_code(store, &id);
                let _ = store.record_exit(record, code, false);
                ffi::exit_now(0)
            }
            lock
        } else {
            None
        };
        let attached = match Attached::spawn(spec.clone(), Some(log), false) {
            Ok(a) => a,
            Err(e) => {
                if let Some(mut report) = report {
                    let _ = writeln!(
                        report,
                        "E{} {}",
                        e.exit_code(),
                        e.to_string().replace('\n', " ")
                    );
                    ffi::exit_now(1)
                }
                let _ = store.record_exit(record, i32::from(e.exit_code()), false);
                ffi::exit_now(0)
            }
        };
        let _ = target.set_pid(attached.pid());
        // a volume gets the image's content at its first mount only, not at each restart
        for m in &mut spec.mounts {
            m.copy_image_content = false;
        }
        let started = Instant::now();
        if let Some(mut report) = report.take() {
            let _ = writeln!(report, "S{} {}", attached.pid(), std::process::id());
            drop(report);
            let mut byte = [0u8; 1];
            if !matches!(ack.read(&mut byte), Ok(1)) {
                // the CLI never recorded the container running: it is nobody's
                drop(attached);
                ffi::exit_now(0)
            }
        } else {
            update(store, &id, |r| {
                let c = &mut r.container;
                c.state = layerbox_core::engine::ContainerState::Running;
                c.started_at = Some(SystemClock.now());
                c.pid = u32::try_from(attached.pid()).unwrap_or(0);
                c.restart_count = restarts;
                r.init = ProcessRef::of(attached.pid());
            });
        }
        drop(lock);
        let exit = attached.wait();
        target.clear();
        let (code, oom) = exit.map_or((255, false), |e| (e.code, e.oom_killed));
        let Ok(lock) = store.lock() else {
            ffi::exit_now(1)
        };
        if !(may_restart(store, &id) && policy.restarts(code, restarts)) {
            let _ = store.record_exit(record, code, oom);
            ffi::exit_now(0)
        }
        backoff = if started.elapsed() >= Duration::from_secs(10) {
            0
        } else if restarts == record.container.restart_count {
            backoff
        } else {
            backoff + 1
        };
        restarts += 1;
        update(store, &id, |r| {
            let c = &mut r.container;
            c.state = layerbox_core::engine::ContainerState::Restarting;
            c.exit_code = code;
            c.finished_at = Some(SystemClock.now());
            c.pid = 0;
            c.oom_killed = oom;
            r.init = None;
        });
        drop(lock);
        // the wait, cut short when the user stops the container meanwhile
        let wait = Duration::from_millis(layerbox_core::cli::command::RestartPolicy::backoff_ms(
            backoff,
        ));
        let until = Instant::now() + wait;
        while Instant::now() < until && may_restart(store, &id) {
            std::thread::sleep(Duration::from_millis(10).min(until - Instant::now()));
        }
    }
}

/// The exit code the container's record holds now.
fn record_code(store: &Store, id: &str) -> i32 {
    store
        .container(id)
        .ok()
        .flatten()
        .map_or(0, |r| r.container.exit_code)
}

/// A container's log file.
pub fn log_path(store: &Store, id: &str) -> PathBuf {
    store
        .container_dir(id)
        .map(|d| d.join(LOG_NAME))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_docker_json_file_lines_and_read_back() {
        let t = Timestamp(1_764_187_779_557_494_047);
        let line = log_record(Stream::Stdout, t, "hi\n");
        assert_eq!(
            line,
            "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-26T20:09:39.557494047Z\"}\n"
        );
        assert_eq!(parse_time("2025-11-26T20:09:39.557494047Z"), Some(t));
        assert_eq!(
            parse_time("1970-01-01T00:00:01Z"),
            Some(Timestamp(1_000_000_000))
        );
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(LOG_NAME);
        let mut text = line.clone();
        text.push_str(&log_record(Stream::Stderr, t, "oops\n"));
        text.push_str("{\"log\":\"half");
        std::fs::write(&path, &text).unwrap();
        let (entries, end) = read_log(&path, 0).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].stream, Stream::Stderr);
        assert_eq!(entries[1].text, "oops\n");
        assert_eq!(entries[0].time, t);
        assert_eq!(
            usize::try_from(end).unwrap(),
            text.len() - "{\"log\":\"half".len()
        );
        let (none, _) = read_log(&tmp.path().join("missing"), 0).unwrap();
        assert!(none.is_empty());
    }
}
