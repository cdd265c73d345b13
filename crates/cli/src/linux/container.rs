//! Starting a container and waiting for it.
//!
//! The processes, as in runc: the caller forks a *monitor*, which unshares the UTS, IPC,
//! network and PID namespaces and forks the container's first process (PID 1 inside). The
//! monitor puts it into the cgroup while PID 1 unshares its own mount namespace, mounts the
//! overlay there (so no mount can outlive it), pivots, drops privileges and execs. A
//! close-on-exec pipe carries the report of the PID and of any start error back to the caller;
//! EOF on it means the exec happened. The monitor waits for PID 1 and exits with docker's code
//! for it (`128 + signal` when killed).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use rustix::process::{Pid, Signal, WaitOptions};
use rustix::thread::UnshareFlags;

use super::LinuxError;
use super::cgroup::Cgroup;
use super::ffi::{self, Forked};
use super::idmap::IdMaps;
use super::process::{StartError, exec_prepared, finalize};
use super::real::RealSyscall;
use super::rootfs::{prepare_rootfs, write_etc_files, write_init_layer};
use super::spec::{ContainerSpec, Input, Output};
use super::syscall::Syscall;

/// The namespaces the monitor unshares for the container (docker's default with
/// `--network none`; no user namespace, which rootless mode will add). The mount namespace is
/// PID 1's own (see [`prepare_rootfs`]): the monitor stays in the host's to reach the cgroups.
pub const NAMESPACES: UnshareFlags = UnshareFlags::NEWUTS
    .union(UnshareFlags::NEWIPC)
    .union(UnshareFlags::NEWNET)
    .union(UnshareFlags::NEWPID);

/// How a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// docker's exit code: the process's own, or `128 + signal` (137 for SIGKILL and OOM).
    pub code: i32,
    /// Whether the kernel's OOM killer struck in the container's cgroup (`State.OOMKilled`).
    pub oom_killed: bool,
}

/// A started container: its PID 1 runs the user's program. Dropped without [`Running::wait`]
/// (say, by a panic), it kills the container and cleans up, so nothing outlives its owner.
#[derive(Debug)]
pub struct Running {
    pid: Pid,
    monitor: Pid,
    cgroup: Cgroup,
    reaped: bool,
}

/// Starts a container and waits until its program is exec'd; start errors (command not found,
/// permission denied, a failed mount) come back here with docker's exit code.
pub fn spawn(spec: &ContainerSpec) -> Result<Running, LinuxError> {
    let l = &spec.layers;
    for dir in [&l.upper, &l.work, &l.merged] {
        std::fs::create_dir_all(dir)
            .map_err(LinuxError::io(&format!("create {}", dir.display())))?;
    }
    write_init_layer(&l.init, &l.lowers).map_err(LinuxError::io("write the init layer"))?;
    write_etc_files(&l.etc_files, &spec.hostname).map_err(LinuxError::io("write /etc files"))?;
    let cgroup = if l.userns {
        for warning in discarded_limits(&spec.resources) {
            eprintln!("WARNING: {warning}");
        }
        Cgroup {
            dirs: Vec::new(),
            writes: Vec::new(),
        }
    } else {
        Cgroup::for_host(&spec.id, &spec.resources)?
    };
    cgroup.create()?;
    let started = start(spec, &cgroup);
    if started.is_err() {
        let _ = cgroup.remove();
    }
    let (pid, monitor) = started?;
    Ok(Running {
        pid,
        monitor,
        cgroup,
        reaped: false,
    })
}

/// The daemon's warnings for limits it cannot apply (moby `verifyPlatformContainerResources`
/// when the cgroup is not there): a rootless container gets no cgroup of its own, so its limits
/// are dropped with these words.
pub fn discarded_limits(r: &super::Resources) -> Vec<&'static str> {
    [
        (
            r.memory.is_some(),
            "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.",
        ),
        (
            r.cpu_shares.is_some(),
            "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.",
        ),
        (
            r.cpus.is_some(),
            "Your kernel does not support CPU cfs period/quota or the cgroup is not mounted. NanoCPUs discarded.",
        ),
        (
            r.pids.is_some(),
            "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
        ),
    ]
    .into_iter()
    .filter_map(|(asked, warning)| asked.then_some(warning))
    .collect()
}

/// Runs a container to its end (`docker run` attached, without a TTY).
pub fn run(spec: &ContainerSpec) -> Result<Exit, LinuxError> {
    spawn(spec)?.wait()
}

/// The container's stdio as opened by the caller (`None`: the caller's own stream).
struct Stdio {
    stdin: Option<File>,
    stdout: Option<File>,
    stderr: Option<File>,
}

impl Stdio {
    fn open(spec: &ContainerSpec) -> Result<Self, LinuxError> {
        let stdin = match &spec.stdin {
            Input::Inherit => None,
            Input::Null => Some(File::open("/dev/null")),
            Input::File(path) => Some(File::open(path)),
        };
        Ok(Self {
            stdin: stdin
                .transpose()
                .map_err(LinuxError::io("open the stdin file"))?,
            stdout: open_output(&spec.stdout).map_err(LinuxError::io("open the stdout log"))?,
            stderr: open_output(&spec.stderr).map_err(LinuxError::io("open the stderr log"))?,
        })
    }

    fn fds(&self) -> impl Iterator<Item = i32> + '_ {
        [&self.stdin, &self.stdout, &self.stderr]
            .into_iter()
            .flatten()
            .map(std::os::fd::AsRawFd::as_raw_fd)
    }

    /// Puts the files on 0, 1 and 2 (in the container's PID 1, right before exec).
    fn install(&self) -> io::Result<()> {
        if let Some(f) = &self.stdin {
            rustix::stdio::dup2_stdin(f)?;
        }
        if let Some(f) = &self.stdout {
            rustix::stdio::dup2_stdout(f)?;
        }
        if let Some(f) = &self.stderr {
            rustix::stdio::dup2_stderr(f)?;
        }
        Ok(())
    }
}

fn open_output(out: &Output) -> io::Result<Option<File>> {
    match out {
        Output::Inherit => Ok(None),
        Output::Null => File::options().write(true).open("/dev/null").map(Some),
        Output::File(path) => File::options()
            .create(true)
            .append(true)
            .open(path)
            .map(Some),
        Output::Fd(fd) => fd.0.try_clone().map(|fd| Some(File::from(fd))),
    }
}

fn start(spec: &ContainerSpec, cgroup: &Cgroup) -> Result<(Pid, Pid), LinuxError> {
    let stdio = Stdio::open(spec)?;
    let pipe = || {
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map(|(r, w)| (File::from(r), File::from(w)))
            .map_err(|e| LinuxError::io("pipe")(e.into()))
    };
    let (read, write) = pipe()?;
    // rootless with subordinate IDs: the maps are written from out here, by shadow's helpers
    let maps = (spec.layers.userns)
        .then(IdMaps::current)
        .filter(|m| m.subordinate.is_some());
    let (maps_go, mut maps_done) = match maps {
        Some(_) => {
            let (r, w) = pipe()?;
            (Some(r), Some(w))
        }
        None => (None, None),
    };
    let monitor = match ffi::fork().map_err(LinuxError::io("fork"))? {
        Forked::Child => {
            drop(read);
            drop(maps_done);
            monitor_main(spec, cgroup, write, &stdio, maps_go)
        }
        Forked::Parent(pid) => Pid::from_raw(pid).expect("fork returns a positive pid"),
    };
    drop(write);
    drop(maps_go);
    let mut report = String::new();
    let mut map_error = None;
    let mut reader = io::BufReader::new(read);
    let mut line = String::new();
    while io::BufRead::read_line(&mut reader, &mut line)
        .map_err(LinuxError::io("read the start report"))?
        > 0
    {
        if line == "U\n"
            && let (Some(maps), Some(done)) = (&maps, maps_done.take())
        {
            match maps.write_with_helpers(monitor.as_raw_nonzero().get()) {
                Ok(()) => {
                    let mut done = done;
                    let _ = done.write_all(b"1");
                }
                Err(e) => map_error = Some(e),
            }
        } else {
            report.push_str(&line);
        }
        line.clear();
    }
    if let Some(message) = map_error {
        let _ = wait_exit(monitor);
        return Err(StartError::from_message(format!("user namespace: {message}")).into());
    }
    let mut pid = None;
    let mut error = None;
    for line in report.lines() {
        if let Some(p) = line.strip_prefix('P') {
            pid = p.parse().ok().and_then(Pid::from_raw);
        } else if let Some(rest) = line.strip_prefix('E') {
            let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
            error = Some(StartError {
                code: code.parse().unwrap_or(125),
                message: message.to_owned(),
            });
        }
    }
    if let Some(error) = error {
        let _ = wait_exit(monitor);
        return Err(error.into());
    }
    if let Some(pid) = pid {
        return Ok((pid, monitor));
    }
    let code = wait_exit(monitor).map_err(LinuxError::io("wait for the monitor"))?;
    Err(StartError {
        code: 125,
        message: format!("container init exited before exec (status {code})"),
    }
    .into())
}

/// Enters the container's namespaces but the mount one (PID applies to children); with
/// `--network host`, not the network one either.
pub fn enter_namespaces(sys: &dyn Syscall, host_network: bool) -> io::Result<()> {
    if host_network {
        sys.unshare(NAMESPACES.difference(UnshareFlags::NEWNET))
    } else {
        sys.unshare(NAMESPACES)
    }
}

/// The monitor process: never returns.
fn monitor_main(
    spec: &ContainerSpec,
    cgroup: &Cgroup,
    mut report: File,
    stdio: &Stdio,
    maps_go: Option<File>,
) -> ! {
    let sys = RealSyscall;
    let fail = |report: &mut File, e: &StartError| -> ! {
        let _ = writeln!(report, "E{} {}", e.code, e.message.replace('\n', " "));
        ffi::exit_now(i32::from(e.code))
    };
    // The monitor dies with its caller, and PID 1 with the monitor: nothing is left running.
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    let keep: Vec<i32> = std::iter::once(std::os::fd::AsRawFd::as_raw_fd(&report))
        .chain(stdio.fds())
        .chain(
            spec.console
                .iter()
                .map(|c| std::os::fd::AsRawFd::as_raw_fd(&*c.0)),
        )
        .chain(maps_go.iter().map(std::os::fd::AsRawFd::as_raw_fd))
        .collect();
    if let Err(e) = ffi::close_fds_except(&keep) {
        fail(
            &mut report,
            &StartError::from_message(format!("close inherited descriptors: {e}")),
        );
    }
    if spec.layers.userns {
        let (uid, gid) = (
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        );
        let entered = match maps_go {
            // the caller runs newuidmap and newgidmap on us, then says go
            Some(mut go) => sys.unshare(UnshareFlags::NEWUSER).and_then(|()| {
                writeln!(report, "U")?;
                let mut byte = [0u8; 1];
                match go.read(&mut byte)? {
                    1 => Ok(()),
                    _ => Err(io::Error::other("the ID maps were not written")),
                }
            }),
            None => sys.enter_user_namespace(uid, gid),
        };
        if let Err(e) = entered {
            fail(
                &mut report,
                &StartError::from_message(format!("user namespace: {e}")),
            );
        }
    }
    if let Err(e) = enter_namespaces(&sys, spec.host_network) {
        fail(
            &mut report,
            &StartError::from_message(format!("unshare: {e}")),
        );
    }
    let (go_read, go_write) = match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
        Ok((r, w)) => (File::from(r), File::from(w)),
        Err(e) => fail(&mut report, &StartError::from_message(format!("pipe: {e}"))),
    };
    match ffi::fork() {
        Err(e) => fail(&mut report, &StartError::from_message(format!("fork: {e}"))),
        Ok(Forked::Child) => {
            drop(go_write);
            let mut report = Some(report);
            let e = init_main(&sys, spec, go_read, &mut report, stdio);
            match report {
                Some(mut report) => fail(&mut report, &e),
                None => ffi::exit_now(i32::from(e.code)),
            }
        }
        Ok(Forked::Parent(child)) => {
            drop(go_read);
            let _ = writeln!(report, "P{child}");
            let pid = Pid::from_raw(child).expect("fork returns a positive pid");
            // Moving a task into a v1 cgroup waits for an RCU grace period (milliseconds under
            // load), so the monitor does it while PID 1 builds its filesystem; PID 1 waits for
            // the go-ahead only right before exec.
            if let Err(e) = join_cgroup(&sys, cgroup, child) {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
                let _ = wait_exit(pid);
                fail(&mut report, &e);
            }
            let mut go_write = go_write;
            let _ = go_write.write_all(b"1");
            drop(go_write);
            // Close our end: the caller sees EOF once PID 1 has exec'd (or failed).
            drop(report);
            ffi::exit_now(wait_exit(pid).unwrap_or(125))
        }
    }
}

/// Puts process `pid` into every directory of the container's cgroup.
pub fn join_cgroup(sys: &dyn Syscall, cgroup: &Cgroup, pid: i32) -> Result<(), StartError> {
    for procs in cgroup.procs_files() {
        sys.write_file(&procs, &pid.to_string()).map_err(|e| {
            StartError::from_message(format!("join cgroup {}: {e}", procs.display()))
        })?;
    }
    Ok(())
}

/// The container's PID 1 before exec: returns only on failure.
fn init_main(
    sys: &dyn Syscall,
    spec: &ContainerSpec,
    mut go: File,
    report: &mut Option<File>,
    stdio: &Stdio,
) -> StartError {
    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
    if let Err(e) = prepare_rootfs(sys, &spec.layers, &spec.mounts) {
        return StartError::from_message(format!("error preparing rootfs: {e}"));
    }
    let prepared = match finalize(sys, spec) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let installed = match &spec.console {
        Some(console) if spec.terminal => super::tty::hand_over(console.0.as_fd()),
        _ => stdio.install(),
    };
    if let Err(e) = installed {
        return StartError::from_message(format!("set up stdio: {e}"));
    }
    // Wait until the monitor has put us into the cgroup (EOF: it failed and reported why).
    let mut byte = [0u8; 1];
    if !matches!(go.read(&mut byte), Ok(1)) {
        ffi::exit_now(125);
    }
    drop(go);
    if spec.init {
        if let Err(e) = ffi::block_signals() {
            return StartError::from_message(format!("block signals: {e}"));
        }
        match ffi::fork() {
            Err(e) => return StartError::from_message(format!("fork: {e}")),
            Ok(Forked::Parent(child)) => {
                // the program (PID 2) reports its own exec; the init must not hold the pipe
                report.take();
                init_loop(Pid::from_raw(child).expect("fork returns a positive pid"))
            }
            Ok(Forked::Child) => {
                if let Err(e) = ffi::unblock_signals() {
                    return StartError::from_message(format!("unblock signals: {e}"));
                }
            }
        }
    }
    exec_prepared(&prepared, &spec.args)
}

/// `--init`'s PID 1: forwards every signal to the program, reaps whatever exits, and ends with
/// the program's code once the program has ended (the kernel then kills what is left).
fn init_loop(program: Pid) -> ! {
    loop {
        while let Ok(Some((pid, status))) = rustix::process::waitpid(None, WaitOptions::NOHANG) {
            if let Some(code) = docker_code(status).filter(|_| pid == program) {
                ffi::exit_now(code);
            }
        }
        match ffi::wait_signal() {
            Ok(libc::SIGCHLD) | Err(_) => {}
            Ok(sig) => {
                if let Some(sig) = Signal::from_named_raw(sig) {
                    let _ = rustix::process::kill_process(program, sig);
                }
            }
        }
    }
}

/// docker's code for how a process ended: its own, or `128 + signal`.
fn docker_code(status: rustix::process::WaitStatus) -> Option<i32> {
    status
        .exit_status()
        .or_else(|| status.terminating_signal().map(|s| 128 + s))
}

/// Waits for a child and returns docker's code for how it ended.
pub(crate) fn wait_exit(pid: Pid) -> io::Result<i32> {
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => {
                if let Some(code) = docker_code(status) {
                    return Ok(code);
                }
            }
            Ok(None) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

impl Running {
    /// PID 1 of the container, as the host sees it.
    pub fn pid(&self) -> i32 {
        self.pid.as_raw_nonzero().get()
    }

    /// Sends a signal to the container's PID 1 (`docker kill -s`).
    pub fn kill(&self, signal: Signal) -> Result<(), LinuxError> {
        rustix::process::kill_process(self.pid, signal)
            .map_err(|e| LinuxError::io(format!("kill {}", self.pid()))(e.into()))
    }

    /// Waits for the container to end, then removes its cgroup.
    pub fn wait(mut self) -> Result<Exit, LinuxError> {
        let code = wait_exit(self.monitor).map_err(LinuxError::io("wait for the container"))?;
        self.reaped = true;
        let oom_killed = self.cgroup.oom_killed();
        self.cgroup.remove()?;
        Ok(Exit { code, oom_killed })
    }

    /// The container's cgroup (to read its limits and counters back).
    pub fn cgroup(&self) -> &Cgroup {
        &self.cgroup
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            // PID 1 takes every process of its namespace with it; the monitor follows.
            let _ = rustix::process::kill_process(self.pid, Signal::KILL);
            let _ = wait_exit(self.monitor);
            let _ = self.cgroup.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::cgroup::Version;
    use crate::linux::syscall::{Call, RecordingSyscall};

    #[test]
    fn joining_writes_the_pid_to_every_hierarchy() {
        let sys = RecordingSyscall::default();
        let cgroup = Cgroup {
            dirs: vec![
                (Version::V1, "/cg/memory/layerbox/c".into()),
                (Version::V1, "/cg/pids/layerbox/c".into()),
            ],
            writes: vec![],
        };
        join_cgroup(&sys, &cgroup, 4242).unwrap();
        assert_eq!(
            sys.calls(),
            [
                Call::WriteFile("/cg/memory/layerbox/c/cgroup.procs".into(), "4242".into()),
                Call::WriteFile("/cg/pids/layerbox/c/cgroup.procs".into(), "4242".into()),
            ]
        );
    }

    #[test]
    fn the_monitor_unshares_uts_ipc_net_and_pid() {
        let sys = RecordingSyscall::default();
        enter_namespaces(&sys, false).unwrap();
        assert_eq!(sys.calls(), [Call::Unshare(NAMESPACES)]);
        let host = RecordingSyscall::default();
        enter_namespaces(&host, true).unwrap();
        assert_eq!(
            host.calls(),
            [Call::Unshare(NAMESPACES.difference(UnshareFlags::NEWNET))]
        );
        for ns in [
            UnshareFlags::NEWUTS,
            UnshareFlags::NEWIPC,
            UnshareFlags::NEWNET,
            UnshareFlags::NEWPID,
        ] {
            assert!(NAMESPACES.contains(ns));
        }
        assert!(!NAMESPACES.intersects(UnshareFlags::NEWUSER | UnshareFlags::NEWNS));
    }
}
