//! The container's process, after its filesystem is ready: hostname, loopback, rlimits, user,
//! capabilities, working directory, and finding `argv[0]` before exec as runc does.

use std::path::{Path, PathBuf};

use super::spec::{ContainerSpec, Ulimit};
use super::syscall::{CapabilitySet, FileKind, Syscall};
use super::user::resolve;

/// docker's default capabilities (moby `oci/caps/defaults.go`); every other one is dropped
/// from the bounding set.
pub const DEFAULT_CAPABILITIES: CapabilitySet = CapabilitySet::CHOWN
    .union(CapabilitySet::DAC_OVERRIDE)
    .union(CapabilitySet::FSETID)
    .union(CapabilitySet::FOWNER)
    .union(CapabilitySet::MKNOD)
    .union(CapabilitySet::NET_RAW)
    .union(CapabilitySet::SETGID)
    .union(CapabilitySet::SETUID)
    .union(CapabilitySet::SETFCAP)
    .union(CapabilitySet::SETPCAP)
    .union(CapabilitySet::NET_BIND_SERVICE)
    .union(CapabilitySet::SYS_CHROOT)
    .union(CapabilitySet::KILL)
    .union(CapabilitySet::AUDIT_WRITE);

/// Why a container's process could not be started, with docker's exit code for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    /// 127 (command not found), 126 (cannot be invoked) or 125 (anything else).
    pub code: u8,
    /// runc's words, e.g. `exec: "nosuchcmd": executable file not found in $PATH`.
    pub message: String,
}

impl StartError {
    /// Classifies a runtime's error text the way dockerd does (`translateContainerdStartErr`).
    pub fn from_message(message: String) -> Self {
        let code = if message.contains("executable file not found")
            || message.contains("no such file or directory")
        {
            127
        } else if message.contains("permission denied") {
            126
        } else {
            125
        };
        Self { code, message }
    }
}

/// An rlimit lowered to what the caller can grant: never above its current hard limit
/// (no `CAP_SYS_RESOURCE` here), and the soft limit never above the hard one.
pub fn clamp_ulimit(u: &Ulimit, current_hard: Option<u64>) -> (Option<u64>, Option<u64>) {
    let min = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    };
    let hard = min(u.hard, current_hard);
    (min(u.soft, hard), hard)
}

/// The text of an errno, lowercased as Go prints it (runc's messages come from Go).
pub(crate) fn go_errno(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) => "no such file or directory".to_owned(),
        Some(libc::EACCES) => "permission denied".to_owned(),
        Some(libc::ENOTDIR) => "not a directory".to_owned(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s);
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

/// Finds the program like Go's `exec.LookPath` in runc: a name with a `/` is taken as is,
/// otherwise the first executable regular file in `PATH` wins.
pub fn look_path(sys: &dyn Syscall, spec: &ContainerSpec) -> Result<PathBuf, StartError> {
    let name = spec.args.first().map(String::as_str).unwrap_or_default();
    let fail = |what: String| StartError::from_message(format!("exec: \"{name}\": {what}"));
    let check = |path: &Path| -> Result<(), String> {
        match sys.file_kind(path) {
            Ok(Some(FileKind::Dir)) => Err("is a directory".to_owned()),
            Ok(Some(_)) => sys.access_exec(path).map_err(|e| go_errno(&e)),
            Ok(None) => Err("no such file or directory".to_owned()),
            Err(e) => Err(go_errno(&e)),
        }
    };
    if name.is_empty() {
        return Err(StartError {
            code: 125,
            message: "no command specified".to_owned(),
        });
    }
    if name.contains('/') {
        let path = PathBuf::from(name);
        return match check(&path) {
            Ok(()) => Ok(path),
            Err(e) if e == "no such file or directory" => Err(fail(format!("stat {name}: {e}"))),
            Err(e) => Err(fail(e)),
        };
    }
    spec.path_var()
        .split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
        .find(|p| check(p).is_ok())
        .ok_or_else(|| fail("executable file not found in $PATH".to_owned()))
}

/// What to exec once the process is the container's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The program, found in `PATH`.
    pub program: PathBuf,
    /// The environment: the spec's, plus `HOME` from /etc/passwd when it sets none (as docker).
    pub env: Vec<String>,
}

/// Execs the prepared program with `args` (`args[0]` as given, the program found in `PATH`)
/// and the prepared environment; returns only on failure, with docker's classification.
pub fn exec_prepared(prepared: &Prepared, args: &[String]) -> StartError {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(&prepared.program);
    cmd.arg0(&args[0]).args(&args[1..]).env_clear();
    for kv in &prepared.env {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        cmd.env(k, v);
    }
    let e = cmd.exec();
    StartError::from_message(format!("exec: \"{}\": {}", args[0], go_errno(&e)))
}

/// Makes the current (already pivoted) process into the container's: hostname, `lo` up, rlimits,
/// working directory, bounding set, user, capabilities, no_new_privs. Returns what to exec.
pub fn finalize(sys: &dyn Syscall, spec: &ContainerSpec) -> Result<Prepared, StartError> {
    let other = |what: &str, e: &std::io::Error| StartError {
        code: 125,
        message: format!("{what}: {}", go_errno(e)),
    };
    sys.sethostname(&spec.hostname)
        .map_err(|e| other("sethostname", &e))?;
    if !spec.host_network {
        sys.loopback_up()
            .map_err(|e| other("bring up the loopback interface", &e))?;
    }
    // docker's containers start with umask 022 whatever the caller's
    sys.umask(0o022);
    for u in &spec.ulimits {
        let (soft, hard) = clamp_ulimit(u, sys.hard_rlimit(u.resource));
        sys.setrlimit(u.resource, soft, hard)
            .map_err(|e| other(&format!("error setting rlimit type {:?}", u.resource), &e))?;
    }
    let cwd = Path::new(&spec.cwd);
    if sys.file_kind(cwd).ok().flatten().is_none() {
        sys.mkdir_all(cwd).map_err(|e| other("mkdir cwd", &e))?;
    }
    let etc = |name: &str| sys.read_file(Path::new(name)).unwrap_or_default();
    let user = resolve(&spec.user, &etc("/etc/passwd"), &etc("/etc/group"))
        .map_err(StartError::from_message)?;
    let mut groups = user.groups.clone();
    groups.extend(spec.groups.iter().filter(|g| !user.groups.contains(g)));
    sys.drop_bounding_except(DEFAULT_CAPABILITIES)
        .map_err(|e| other("drop capabilities", &e))?;
    // in a rootless user namespace the process is root already, and setgroups is denied
    if !(spec.layers.userns && user.uid == 0 && user.gid == 0) {
        sys.set_user(user.uid, user.gid, &groups)
            .map_err(|e| other("set user", &e))?;
    }
    // Like moby since 23.0: a non-root user starts with no effective capabilities.
    let caps = if user.uid == 0 {
        DEFAULT_CAPABILITIES
    } else {
        CapabilitySet::empty()
    };
    sys.set_capabilities(caps)
        .map_err(|e| other("set capabilities", &e))?;
    if spec.no_new_privileges {
        sys.set_no_new_privs()
            .map_err(|e| other("set no_new_privs", &e))?;
    }
    sys.chdir(cwd).map_err(|e| {
        StartError::from_message(format!(
            "chdir to cwd (\"{}\") set in config.json failed: {}",
            spec.cwd,
            go_errno(&e)
        ))
    })?;
    let mut env = spec.env.clone();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    Ok(Prepared {
        program: look_path(sys, spec)?,
        env,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::spec::Layers;
    use crate::linux::syscall::{Call, RecordingSyscall, Resource};

    fn spec(args: &[&str]) -> ContainerSpec {
        let layers = Layers::in_dir(Path::new("/c"), vec![]);
        ContainerSpec::new(
            "0123456789abcdef",
            layers,
            args.iter().map(|s| (*s).to_owned()).collect(),
        )
    }

    fn busybox() -> RecordingSyscall {
        let mut sys = RecordingSyscall::default();
        for (p, k) in [
            ("/", FileKind::Dir),
            ("/bin", FileKind::Dir),
            ("/bin/busybox", FileKind::File),
            ("/bin/sh", FileKind::File),
            ("/etc/passwd", FileKind::File),
        ] {
            sys.files.insert(p.into(), k);
        }
        sys.executables.insert("/bin/busybox".into());
        sys.executables.insert("/bin/sh".into());
        sys
    }

    #[test]
    fn clamps_rlimits_to_the_current_hard_limit() {
        let u = Ulimit {
            resource: Resource::Nofile,
            soft: Some(1_048_576),
            hard: Some(1_048_576),
        };
        assert_eq!(clamp_ulimit(&u, Some(20_000)), (Some(20_000), Some(20_000)));
        assert_eq!(clamp_ulimit(&u, None), (Some(1_048_576), Some(1_048_576)));
        let unlimited = Ulimit {
            resource: Resource::Nproc,
            soft: None,
            hard: None,
        };
        assert_eq!(
            clamp_ulimit(&unlimited, Some(96_365)),
            (Some(96_365), Some(96_365))
        );
        let low = Ulimit {
            resource: Resource::Nofile,
            soft: Some(100),
            hard: Some(200),
        };
        assert_eq!(clamp_ulimit(&low, Some(20_000)), (Some(100), Some(200)));
    }

    #[test]
    fn finds_programs_in_path_and_reports_runc_errors_with_docker_codes() {
        let sys = busybox();
        assert_eq!(
            look_path(&sys, &spec(&["sh"])).unwrap(),
            Path::new("/bin/sh")
        );
        assert_eq!(
            look_path(&sys, &spec(&["/bin/busybox", "echo"])).unwrap(),
            Path::new("/bin/busybox")
        );
        assert_eq!(
            look_path(&sys, &spec(&["nosuchcmd"])).unwrap_err(),
            StartError {
                code: 127,
                message: "exec: \"nosuchcmd\": executable file not found in $PATH".into()
            }
        );
        assert_eq!(
            look_path(&sys, &spec(&["/etc/passwd"])).unwrap_err(),
            StartError {
                code: 126,
                message: "exec: \"/etc/passwd\": permission denied".into()
            }
        );
        assert_eq!(
            look_path(&sys, &spec(&["/nope"])).unwrap_err(),
            StartError {
                code: 127,
                message: "exec: \"/nope\": stat /nope: no such file or directory".into()
            }
        );
        assert_eq!(look_path(&sys, &spec(&["/bin"])).unwrap_err().code, 125);
    }

    #[test]
    fn root_keeps_docker_default_capabilities_and_the_sequence_ends_in_cwd() {
        let mut sys = busybox();
        sys.hard_limits.push((Resource::Nofile, 20_000));
        let mut s = spec(&["sh"]);
        s.ulimits.push(Ulimit {
            resource: Resource::Nofile,
            soft: Some(1_048_576),
            hard: Some(1_048_576),
        });
        s.cwd = "/work".into();
        s.no_new_privileges = true;
        let prepared = finalize(&sys, &s).unwrap();
        assert_eq!(prepared.program, Path::new("/bin/sh"));
        // no /etc/passwd in this fake: root's HOME is /
        assert_eq!(
            prepared.env,
            [
                format!("PATH={}", crate::linux::spec::DEFAULT_PATH),
                "HOME=/".to_owned()
            ]
        );
        assert_eq!(
            sys.calls(),
            [
                Call::Sethostname("0123456789ab".into()),
                Call::LoopbackUp,
                Call::Umask(0o022),
                Call::Setrlimit(Resource::Nofile, Some(20_000), Some(20_000)),
                Call::MkdirAll("/work".into()),
                Call::DropBoundingExcept(DEFAULT_CAPABILITIES),
                Call::SetUser {
                    uid: 0,
                    gid: 0,
                    groups: vec![]
                },
                Call::SetCapabilities(DEFAULT_CAPABILITIES),
                Call::SetNoNewPrivs,
                Call::Chdir("/work".into()),
            ]
        );
    }

    #[test]
    fn another_user_gets_no_effective_capabilities() {
        let mut sys = busybox();
        let mut s = spec(&["sh"]);
        sys.contents.insert(
            "/etc/passwd".into(),
            "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".into(),
        );
        sys.contents
            .insert("/etc/group".into(), "users:x:100:nobody\n".into());
        s.user = "nobody".into();
        s.groups = vec![100, 7];
        s.env.push("HOME=/srv".into());
        let prepared = finalize(&sys, &s).unwrap();
        // a HOME of the spec's own wins over the passwd entry's
        assert!(!prepared.env.contains(&"HOME=/nonexistent".to_owned()));
        let calls = sys.calls();
        assert!(calls.contains(&Call::SetUser {
            uid: 65534,
            gid: 65534,
            groups: vec![100, 7]
        }));
        assert!(calls.contains(&Call::SetCapabilities(CapabilitySet::empty())));
        assert!(!calls.contains(&Call::SetNoNewPrivs));
        assert!(!calls.iter().any(|c| matches!(c, Call::MkdirAll(_))));
    }

    #[test]
    fn docker_codes_for_runtime_messages() {
        assert_eq!(
            StartError::from_message("x: no such file or directory".into()).code,
            127
        );
        assert_eq!(
            StartError::from_message("x: permission denied".into()).code,
            126
        );
        assert_eq!(
            StartError::from_message("x: invalid argument".into()).code,
            125
        );
    }
}
