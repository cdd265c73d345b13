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
            let _ = match stream {
                Stream::Stdout => io::stdout().write_all(&buf[..n]),
                Stream::Stderr => io::stderr().write_all(&buf[..n]),
            };
        }
        pending.extend_from_slice(&buf[..n]);
        flush_lines(&mut pending, false);
    }
    flush_lines(&mut pending, true);
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
        let Some(log) = log else {
            let running = crate::linux::spawn(&spec)?;
            if tee {
                forward_signals(running.pid());
            }
            return Ok(Self {
                running,
                pumps: Vec::new(),
            });
        };
        let log = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(LinuxError::io(format!("open {}", log.display())))?;
        let log = Arc::new(Mutex::new(log));
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
        Ok(Self { running, pumps })
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

    /// Waits until the output has all been copied and the container has ended.
    pub fn wait(self) -> Result<Exit, LinuxError> {
        for p in self.pumps {
            let _ = p.join();
        }
        self.running.wait()
    }
}

/// What the CLI learns from a shim it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The shim.
    pub shim: ProcessRef,
    /// The container's PID 1.
    pub init: ProcessRef,
}

/// Starts a detached container under a new shim (see the module docs); returns once the
/// container's program has been exec'd, or with docker's start error.
pub fn start_detached(
    store: &Store,
    record: &ContainerRecord,
    spec: ContainerSpec,
    published: Published,
) -> Result<Started, LinuxError> {
    use crate::linux::ffi::{self, Forked};
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| LinuxError::io("pipe")(e.into()))?;
    let (mut read, write) = (File::from(read), File::from(write));
    let log = store
        .container_dir(&record.container.id)
        .map_err(|e| LinuxError::io("container dir")(io::Error::other(e)))?
        .join(LOG_NAME);
    match ffi::fork().map_err(LinuxError::io("fork the shim"))? {
        Forked::Child => {
            drop(read);
            let _ = rustix::process::setsid();
            match ffi::fork() {
                Ok(Forked::Child) => shim_main(store, record, spec, &log, write, published),
                _ => ffi::exit_now(0),
            }
        }
        Forked::Parent(middle) => {
            drop(write);
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
                });
            }
        }
    }
    Err(StartError::from_message("the shim ended before the container started".into()).into())
}

/// The shim process: never returns.
fn shim_main(
    store: &Store,
    record: &ContainerRecord,
    spec: ContainerSpec,
    log: &Path,
    mut report: File,
    published: Published,
) -> ! {
    use crate::linux::ffi;
    use std::os::fd::AsRawFd;
    // no terminal, no inherited descriptors (the CLI's pipes and the store's lock above all)
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdin(&null);
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stderr(&null);
    }
    let mut keep = published.fds();
    keep.push(report.as_raw_fd());
    let _ = ffi::close_fds_except(&keep);
    let attached = match Attached::spawn(spec, Some(log), false) {
        Ok(a) => a,
        Err(e) => {
            let _ = writeln!(
                report,
                "E{} {}",
                e.exit_code(),
                e.to_string().replace('\n', " ")
            );
            ffi::exit_now(1)
        }
    };
    let _ = writeln!(report, "S{} {}", attached.pid(), std::process::id());
    drop(report);
    attached.publish(published);
    let exit = attached.wait();
    let (code, oom) = exit.map_or((255, false), |e| (e.code, e.oom_killed));
    if let Ok(_lock) = store.lock() {
        let _ = store.record_exit(record, code, oom);
    }
    ffi::exit_now(0)
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
