//! `docker exec`: a new process in a running container. The caller joins the namespaces of the
//! container's PID 1 (mount, UTS, IPC, network and PID, at once through a pidfd), then forks:
//! the child is a member of the container's PID namespace, becomes the container's user with
//! docker's capabilities as a container's first process does, and execs. Start errors come
//! back over a close-on-exec pipe with docker's exit codes, as for `run`.

use std::fs::File;
use std::io::{Read, Write};

use rustix::thread::UnshareFlags;

use super::LinuxError;
use super::container::{Exit, NAMESPACES};
use super::ffi::{self, Forked};
use super::process::{StartError, exec_prepared, finalize};
use super::spec::{ContainerSpec, Input};
use super::syscall::Syscall;
use super::tty;

/// The namespaces `exec` joins: the container's own, the mount namespace of its PID 1 included.
pub const EXEC_NAMESPACES: UnshareFlags = NAMESPACES.union(UnshareFlags::NEWNS);

/// Runs `spec.args` in the container whose PID 1 is `init_pid` on the host, with the caller's
/// stdout and stderr; stdin is the caller's for [`Input::Inherit`], else `/dev/null`. Returns
/// how it ended. The calling process stays in the container's namespaces afterwards, so this is
/// the last thing an `exec` invocation does.
pub fn exec(sys: &dyn Syscall, init_pid: i32, spec: &ContainerSpec) -> Result<Exit, LinuxError> {
    let stdin = match spec.stdin {
        Input::Inherit => None,
        Input::Null => Some(File::open("/dev/null").map_err(LinuxError::io("open /dev/null"))?),
        Input::File(ref p) => Some(File::open(p).map_err(LinuxError::io("open the stdin file"))?),
    };
    let namespaces = if spec.layers.userns {
        EXEC_NAMESPACES | UnshareFlags::NEWUSER
    } else {
        EXEC_NAMESPACES
    };
    sys.setns(init_pid, namespaces).map_err(|e| {
        StartError::from_message(format!("setns into container process {init_pid}: {e}"))
    })?;
    // `-t`: a terminal of the container's devpts (this process is in its mount namespace now)
    let terminal = if spec.terminal {
        Some(tty::open().map_err(LinuxError::io("open a terminal"))?)
    } else {
        None
    };
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| LinuxError::io("pipe")(e.into()))?;
    let (mut read, mut write) = (File::from(read), File::from(write));
    let child = match ffi::fork().map_err(LinuxError::io("fork"))? {
        Forked::Child => {
            drop(read);
            let e = match &terminal {
                Some((_, slave)) => match tty::make_controlling(slave) {
                    Ok(()) => exec_child(sys, spec, None),
                    Err(e) => StartError::from_message(format!("set up the terminal: {e}")),
                },
                None => exec_child(sys, spec, stdin.as_ref()),
            };
            let _ = writeln!(write, "E{} {}", e.code, e.message.replace('\n', " "));
            ffi::exit_now(i32::from(e.code))
        }
        Forked::Parent(pid) => pid,
    };
    drop(write);
    let mut report = String::new();
    read.read_to_string(&mut report)
        .map_err(LinuxError::io("read the exec report"))?;
    let started = !report.lines().any(|l| l.starts_with('E'));
    if let Some((master, slave)) = terminal.filter(|_| started) {
        drop(slave);
        tty::relay(&master, spec.stdin == Input::Inherit)
            .map_err(LinuxError::io("attach to the terminal"))?;
    }
    let pid = rustix::process::Pid::from_raw(child).expect("fork returns a positive pid");
    let code = super::container::wait_exit(pid).map_err(LinuxError::io("wait for exec"))?;
    if let Some(rest) = report.lines().find_map(|l| l.strip_prefix('E')) {
        let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
        return Err(StartError {
            code: code.parse().unwrap_or(125),
            message: message.to_owned(),
        }
        .into());
    }
    Ok(Exit {
        code,
        oom_killed: false,
    })
}

/// The exec'd process before exec: returns only on failure.
fn exec_child(sys: &dyn Syscall, spec: &ContainerSpec, stdin: Option<&File>) -> StartError {
    let prepared = match finalize(sys, spec) {
        Ok(p) => p,
        Err(e) => return e,
    };
    if let Some(f) = stdin
        && let Err(e) = rustix::stdio::dup2_stdin(f)
    {
        return StartError::from_message(format!("set up stdin: {e}"));
    }
    exec_prepared(&prepared, &spec.args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::syscall::{Call, RecordingSyscall};

    #[test]
    fn exec_joins_all_five_namespaces_of_pid_1_at_once() {
        let sys = RecordingSyscall::default();
        let layers = crate::linux::Layers::in_dir(std::path::Path::new("/c"), vec![]);
        let mut spec = ContainerSpec::new("0123456789ab", layers, vec!["nosuchcmd".into()]);
        spec.stdin = Input::Null;
        // the recording double execs nothing: the child reports that the program is missing
        let err = exec(&sys, 4242, &spec).unwrap_err();
        assert_eq!(err.exit_code(), 127, "{err}");
        assert_eq!(sys.calls()[0], Call::Setns(4242, EXEC_NAMESPACES));
        for ns in [
            UnshareFlags::NEWNS,
            UnshareFlags::NEWUTS,
            UnshareFlags::NEWIPC,
            UnshareFlags::NEWNET,
            UnshareFlags::NEWPID,
        ] {
            assert!(EXEC_NAMESPACES.contains(ns));
        }
    }
}
