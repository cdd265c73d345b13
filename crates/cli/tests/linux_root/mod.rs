//! Real containers on this kernel. They need root: run as anyone else, each test prints a note
//! and passes without checking anything. They run one at a time (cgroups, hostnames and the
//! mount table are shared), on a busybox rootfs made from Debian's busybox-static.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use layerbox::linux::layerdir::{container_changes, read_layer_dir};
use layerbox::linux::syscall::Resource;
use layerbox::linux::{ContainerSpec, Exit, LinuxError, Output, Resources, Ulimit, run, spawn};
use layerbox_core::fs::tar::TarOptions;
use layerbox_core::fs::{EntryKind, FileData};

mod volumes;

const BUSYBOX: &str = "/bin/busybox";

/// One test at a time.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Writes the busybox image layer into `r`: /bin/busybox, its applet links, /etc/passwd and
/// /etc/group, plus a few files for the diff tests.
pub(crate) fn make_busybox_layer(r: &Path) {
    assert!(
        Path::new(BUSYBOX).exists(),
        "{BUSYBOX} is missing\nhint: apt-get install busybox-static (cargo xtask test does)"
    );
    for d in [
        "bin",
        "etc",
        "tmp",
        "root",
        "opt/cache",
        "usr/bin",
        "usr/sbin",
        "sbin",
    ] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::copy(BUSYBOX, r.join("bin/busybox")).unwrap();
    let list = std::process::Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .unwrap();
    for applet in String::from_utf8(list.stdout).unwrap().lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", r.join("bin").join(applet)).unwrap();
        }
    }
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    std::fs::write(r.join("etc/motd"), "welcome\n").unwrap();
    std::fs::write(r.join("opt/cache/a"), "a\n").unwrap();
    // an image's directories are old: any change a container makes gives a newer mtime
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    for d in [
        "",
        "bin",
        "etc",
        "tmp",
        "root",
        "opt",
        "opt/cache",
        "usr",
        "usr/bin",
        "usr/sbin",
        "sbin",
    ] {
        std::fs::File::open(r.join(d))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
}

/// A container over the busybox layer, writing stdout and stderr to `log`.
struct Fixture {
    dir: tempfile::TempDir,
    spec: ContainerSpec,
}

impl Fixture {
    fn new(args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("layerbox-ctr-")
            .tempdir()
            .unwrap();
        let c = dir.path();
        make_busybox_layer(&c.join("lower"));
        let layers = layerbox::linux::Layers::in_dir(c, vec![c.join("lower")]);
        // the temp dir's random suffix makes the cgroup name unique
        let suffix = c
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("layerbox-ctr-", "");
        let id = format!("lbtest-{suffix}");
        let mut spec =
            ContainerSpec::new(&id, layers, args.iter().map(|s| (*s).to_owned()).collect());
        "box1".clone_into(&mut spec.hostname);
        spec.stdout = Output::File(c.join("log"));
        spec.stderr = Output::File(c.join("log"));
        Self { dir, spec }
    }

    fn lower(&self) -> PathBuf {
        self.dir.path().join("lower")
    }

    fn upper(&self) -> PathBuf {
        self.spec.layers.upper.clone()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    fn run(&self) -> Result<Exit, LinuxError> {
        let result = run(&self.spec);
        assert_no_mounts_below(self.dir.path());
        result
    }
}

/// The container's changes as `docker diff` prints them.
fn diff(f: &Fixture) -> Vec<String> {
    container_changes(&f.upper(), &[f.lower()])
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

pub(crate) fn assert_no_mounts_below(dir: &Path) {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.display().to_string();
    let leaked: Vec<&str> = info.lines().filter(|l| l.contains(&dir)).collect();
    assert!(leaked.is_empty(), "leaked mounts: {leaked:#?}");
}

/// Skips (with a note) unless root; otherwise returns the serial guard.
macro_rules! root_only {
    () => {{
        if !$crate::linux_root::is_root() {
            eprintln!("note: skipped, the Linux engine's tests need root");
            return;
        }
        $crate::linux_root::serial()
    }};
}
pub(crate) use root_only;

#[test]
fn echo_hi_prints_hi_and_exits_0() {
    let _g = root_only!();
    let f = Fixture::new(&["/bin/busybox", "echo", "hi"]);
    let exit = f.run().unwrap();
    assert_eq!(
        exit,
        Exit {
            code: 0,
            oom_killed: false
        }
    );
    assert_eq!(f.log(), "hi\n");
}

#[test]
fn stdin_comes_from_a_file_or_is_empty() {
    let _g = root_only!();
    let mut f = Fixture::new(&["sh", "-c", "tr a-z A-Z"]);
    let input = f.dir.path().join("input");
    std::fs::write(&input, "shout\n").unwrap();
    f.spec.stdin = layerbox::linux::Input::File(input);
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(f.log(), "SHOUT\n");
    // without -i, stdin is /dev/null: cat ends at once
    let f = Fixture::new(&["sh", "-c", "cat; echo done"]);
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(f.log(), "done\n");
}

#[test]
fn the_containers_own_exit_code_comes_back() {
    let _g = root_only!();
    let f = Fixture::new(&["sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(f.run().unwrap().code, 3);
    assert_eq!(f.log(), "out\nerr\n");
}

#[test]
fn a_missing_command_is_127_with_runcs_message() {
    let _g = root_only!();
    let f = Fixture::new(&["nosuchcmd"]);
    let err = f.run().unwrap_err();
    assert_eq!(err.exit_code(), 127);
    assert_eq!(
        err.to_string(),
        "exec: \"nosuchcmd\": executable file not found in $PATH"
    );
}

#[test]
fn a_file_that_is_not_executable_is_126() {
    let _g = root_only!();
    let f = Fixture::new(&["/etc/passwd"]);
    let err = f.run().unwrap_err();
    assert_eq!(err.exit_code(), 126);
    assert_eq!(err.to_string(), "exec: \"/etc/passwd\": permission denied");
}

#[test]
fn a_script_whose_interpreter_is_missing_is_127_from_exec_itself() {
    use std::os::unix::fs::PermissionsExt;
    let _g = root_only!();
    let f = Fixture::new(&["/run.sh"]);
    // found and executable, so only execve(2) can tell: ENOENT for the missing #! interpreter
    let script = f.lower().join("run.sh");
    std::fs::write(&script, "#!/bin/bash\necho never\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = f.run().unwrap_err();
    assert_eq!(err.exit_code(), 127);
    assert_eq!(
        err.to_string(),
        "exec: \"/run.sh\": no such file or directory"
    );
}

#[test]
fn a_missing_layer_is_an_engine_error_125() {
    let _g = root_only!();
    let mut f = Fixture::new(&["true"]);
    f.spec.layers.lowers = vec![f.dir.path().join("no-such-layer")];
    let err = f.run().unwrap_err();
    assert_eq!(err.exit_code(), 125);
    assert!(
        err.to_string()
            .starts_with("error preparing rootfs: mount \""),
        "{err}"
    );
}

#[test]
fn sigkill_from_outside_is_137() {
    let _g = root_only!();
    let f = Fixture::new(&["sleep", "60"]);
    let running = spawn(&f.spec).unwrap();
    running.kill(rustix::process::Signal::KILL).unwrap();
    assert_eq!(
        running.wait().unwrap(),
        Exit {
            code: 137,
            oom_killed: false
        }
    );
    assert_no_mounts_below(f.dir.path());
}

#[test]
fn kill_9_of_pid_1_from_inside_is_ignored_as_in_docker() {
    // The kernel protects a PID namespace's init from signals sent from inside it that it has
    // no handler for, so `docker run busybox sh -c 'kill -9 $$'` goes on and exits 0 too.
    let _g = root_only!();
    let f = Fixture::new(&["sh", "-c", "kill -9 $$; echo survived"]);
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(f.log(), "survived\n");
}

#[test]
fn kill_9_of_a_shell_that_is_not_pid_1_ends_it_with_137() {
    let _g = root_only!();
    let f = Fixture::new(&["sh", "-c", "sh -c 'kill -9 $$'; echo $?"]);
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(f.log(), "Killed\n137\n");
}

#[test]
fn hostname_pid_1_a_private_process_table_and_only_loopback() {
    let _g = root_only!();
    let f = Fixture::new(&[
        "sh",
        "-c",
        "hostname; cat /etc/hostname; echo $$; echo /proc/[0-9]*; \
         ls /sys/class/net; cat /sys/class/net/lo/flags",
    ]);
    assert_eq!(f.run().unwrap().code, 0);
    // the glob is the shell's own (no fork): PID 1 is the only process, nothing of the host's;
    // only `lo`, up (IFF_UP | IFF_LOOPBACK)
    assert_eq!(f.log(), "box1\nbox1\n1\n/proc/1\nlo\n0x9\n");
}

#[test]
fn env_working_dir_and_user() {
    let _g = root_only!();
    let mut f = Fixture::new(&["sh", "-c", "echo $GREETING; pwd; id -u; id -g"]);
    f.spec.env.push("GREETING=hello".to_owned());
    f.spec.cwd = "/srv/app".to_owned();
    f.spec.user = "65534:65534".to_owned();
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(f.log(), "hello\n/srv/app\n65534\n65534\n");
}

#[test]
fn a_user_name_is_looked_up_in_the_containers_passwd() {
    let _g = root_only!();
    let mut f = Fixture::new(&["sh", "-c", "id -u; id -g; echo $HOME"]);
    f.spec.user = "nobody".to_owned();
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(f.log(), "65534\n65534\n/nonexistent\n");
    let mut f = Fixture::new(&["true"]);
    f.spec.user = "ghost".to_owned();
    let err = f.run().unwrap_err();
    assert_eq!(
        (err.exit_code(), err.to_string()),
        (
            125,
            "unable to find user ghost: no matching entries in passwd file".to_owned()
        )
    );
}

#[test]
fn dockers_default_capabilities_and_no_new_privs() {
    let _g = root_only!();
    let mut f = Fixture::new(&[
        "sh",
        "-c",
        "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status",
    ]);
    f.spec.no_new_privileges = true;
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(
        f.log(),
        "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\n"
    );
    let f = Fixture::new(&[
        "sh",
        "-c",
        "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status",
    ]);
    let mut f2 = f;
    f2.spec.user = "1000:1000".to_owned();
    assert_eq!(f2.run().unwrap().code, 0);
    assert_eq!(f2.log(), "CapEff:\t0000000000000000\nNoNewPrivs:\t0\n");
}

#[test]
fn dev_proc_and_the_masked_and_read_only_paths() {
    let _g = root_only!();
    let f = Fixture::new(&[
        "sh",
        "-c",
        "ls /dev; wc -c < /proc/timer_list; echo 1 > /proc/sys/vm/drop_caches || echo ro; \
         echo x > /dev/null && head -c 4 /dev/zero | wc -c; \
         grep -c localhost /etc/hosts; mount | grep -c ' /dev/shm '",
    ]);
    assert_eq!(f.run().unwrap().code, 0);
    let log = f.log();
    let mut lines = log.lines();
    let dev: Vec<&str> = lines.by_ref().take_while(|l| *l != "0").collect();
    assert_eq!(
        dev,
        [
            "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr",
            "stdin", "stdout", "tty", "urandom", "zero"
        ]
    );
    let rest: Vec<&str> = lines.collect();
    assert!(rest[0].contains("Read-only file system"), "{log}");
    assert_eq!(&rest[1..], ["ro", "4", "2", "1"], "{log}");
}

#[test]
fn a_write_lands_in_the_upper_dir() {
    let _g = root_only!();
    let f = Fixture::new(&["sh", "-c", "echo data > /hello"]);
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(diff(&f), ["A /hello"]);
    let layer = read_layer_dir(&f.upper()).unwrap();
    let (_, hello) = layer.entry("hello").unwrap();
    assert_eq!(
        hello.kind,
        EntryKind::File(FileData::Bytes(b"data\n".to_vec()))
    );
    // root-owned, and 0644 from docker's umask 022
    assert_eq!(
        (hello.meta.mode, hello.meta.uid, hello.meta.gid),
        (0o644, 0, 0)
    );
}

#[test]
fn a_delete_becomes_a_whiteout_and_a_replaced_dir_is_opaque() {
    let _g = root_only!();
    let f = Fixture::new(&[
        "sh",
        "-c",
        "rm /etc/motd && rm -r /opt/cache && mkdir /opt/cache",
    ]);
    assert_eq!(f.run().unwrap().code, 0);
    assert_eq!(
        diff(&f),
        ["C /etc", "D /etc/motd", "C /opt", "C /opt/cache"]
    );
    // the core's layer tar writer gives the OCI names
    let layer = read_layer_dir(&f.upper()).unwrap();
    let bytes = layerbox_core::fs::tar::write_layer(&layer, &TarOptions::default());
    let names: Vec<String> = tar::Archive::new(&bytes[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "etc/",
            "etc/.wh.motd",
            "opt/",
            "opt/cache/",
            "opt/cache/.wh..wh..opq"
        ]
    );
}

#[test]
fn memory_cpu_and_pids_limits_are_in_the_cgroup() {
    let _g = root_only!();
    let mut f = Fixture::new(&["sleep", "60"]);
    f.spec.resources = Resources {
        memory: Some(64 << 20),
        pids: Some(10),
        cpus: Some(0.5),
        ..Resources::default()
    };
    let running = spawn(&f.spec).unwrap();
    let cg = running.cgroup().clone();
    let read = |name: &str| {
        let path = cg
            .file(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", cg.dirs));
        std::fs::read_to_string(path).unwrap().trim().to_owned()
    };
    let v2 = cg
        .dirs
        .iter()
        .any(|(v, _)| *v == layerbox::linux::cgroup::Version::V2);
    if v2 {
        assert_eq!(read("memory.max"), "67108864");
        assert_eq!(read("cpu.max"), "50000 100000");
    } else {
        assert_eq!(read("memory.limit_in_bytes"), "67108864");
        assert_eq!(read("cpu.cfs_quota_us"), "50000");
    }
    assert_eq!(read("pids.max"), "10");
    let pid = running.pid().to_string();
    for procs in cg.procs_files() {
        let members = std::fs::read_to_string(&procs).unwrap();
        assert_eq!(members.trim(), pid, "{procs:?}");
    }
    running.kill(rustix::process::Signal::KILL).unwrap();
    assert_eq!(running.wait().unwrap().code, 137);
    for (_, dir) in &cg.dirs {
        assert!(!dir.exists(), "cgroup {dir:?} left behind");
        // the shared parent goes once empty; other containers on the host may still use it
        let parent = dir.parent().unwrap();
        let others = std::fs::read_dir(parent).map_or(0, |d| {
            d.filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
                .count()
        });
        assert!(
            !parent.exists() || others > 0,
            "{dir:?}'s parent left behind"
        );
    }
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    let _g = root_only!();
    let mut f = Fixture::new(&[
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6; do sleep 30 & echo $i; done",
    ]);
    f.spec.resources.pids = Some(4);
    // sh and three sleeps fill the cgroup; busybox sh gives up on the fourth fork with 2
    assert_eq!(f.run().unwrap().code, 2);
    assert_eq!(
        f.log(),
        "1\n2\n3\nsh: can't fork: Resource temporarily unavailable\n"
    );
}

#[test]
fn exceeding_memory_is_an_oom_kill_with_137() {
    let _g = root_only!();
    // tail keeps the current line in memory; /dev/zero has no newline
    let mut f = Fixture::new(&["tail", "/dev/zero"]);
    f.spec.resources.memory = Some(16 << 20);
    assert_eq!(
        f.run().unwrap(),
        Exit {
            code: 137,
            oom_killed: true
        }
    );
}

#[test]
fn rlimits_are_clamped_to_the_current_hard_limit() {
    let _g = root_only!();
    let hard = rustix::process::getrlimit(Resource::Nofile).maximum;
    let mut f = Fixture::new(&["sh", "-c", "ulimit -n; ulimit -Hn"]);
    f.spec.ulimits.push(Ulimit {
        resource: Resource::Nofile,
        soft: Some(1 << 40),
        hard: Some(1 << 40),
    });
    assert_eq!(f.run().unwrap().code, 0);
    let want = hard.map_or("unlimited".to_owned(), |h| h.min(1 << 40).to_string());
    assert_eq!(f.log(), format!("{want}\n{want}\n"));
}

/// Whether the process of `pidfd` exits: its pidfd turns readable when it has (the 10 s are a
/// safety net against a hang, not a measurement).
pub(crate) fn exits(pidfd: &std::os::fd::OwnedFd) -> bool {
    let mut fds = [rustix::event::PollFd::new(
        pidfd,
        rustix::event::PollFlags::IN,
    )];
    let timeout = rustix::event::Timespec {
        tv_sec: 10,
        tv_nsec: 0,
    };
    rustix::event::poll(&mut fds, Some(&timeout)).unwrap() == 1
}

#[test]
fn killing_the_monitor_takes_the_container_down_with_it() {
    let _g = root_only!();
    let f = Fixture::new(&["sleep", "60"]);
    let running = spawn(&f.spec).unwrap();
    let pid = rustix::process::Pid::from_raw(running.pid()).unwrap();
    let monitor = std::fs::read_to_string(format!("/proc/{}/stat", running.pid()))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<i32>()
        .unwrap();
    let monitor = rustix::process::Pid::from_raw(monitor).unwrap();
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap();
    rustix::process::kill_process(monitor, rustix::process::Signal::KILL).unwrap();
    assert_eq!(running.wait().unwrap().code, 137);
    // PID 1 gets SIGKILL as its parent dies
    assert!(exits(&pidfd), "PID 1 outlived its monitor");
    assert_no_mounts_below(f.dir.path());
}

#[test]
fn a_container_in_the_store_leaves_it_clean() {
    use layerbox::store::{ProblemKind, RecordKind, Store};
    let _g = root_only!();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let lower = store
        .create_layer("busybox", |dir| {
            make_busybox_layer(dir);
            Ok(())
        })
        .unwrap();
    let id = "c0ffee0123456789";
    store
        .put_record(RecordKind::Container, id, &serde_json::json!({"id": id}))
        .unwrap();
    let layers = store.container_layers(id, vec![lower.clone()]).unwrap();
    let mut spec = ContainerSpec::new(
        id,
        layers,
        vec!["sh".into(), "-c".into(), "echo x > /x".into()],
    );
    spec.stdout = Output::Null;
    assert_eq!(run(&spec).unwrap().code, 0);
    let diff = container_changes(&spec.layers.upper, &[lower]).unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(store.check(false).unwrap().is_clean());

    // a mount left under the store (as a crashed engine holding mounts in the host's namespace
    // would leave) is found and unmounted
    let leak = store.root().join("containers").join(id).join("merged");
    let m = layerbox::linux::syscall::Mount {
        source: "tmpfs".into(),
        target: leak.clone(),
        fstype: "tmpfs".into(),
        flags: layerbox::linux::syscall::MountFlags::empty(),
        data: String::new(),
    };
    layerbox::linux::Syscall::mount(&layerbox::linux::RealSyscall, &m).unwrap();
    let report = store.check(true).unwrap();
    let root = std::fs::canonicalize(store.root()).unwrap();
    assert_eq!(
        report
            .problems
            .iter()
            .map(|p| (p.kind, p.path.clone(), p.repaired))
            .collect::<Vec<_>>(),
        [(
            ProblemKind::LeakedMount,
            root.join("containers").join(id).join("merged"),
            true
        )]
    );
    assert_no_mounts_below(tmp.path());
    store.remove_record(RecordKind::Container, id).unwrap();
    assert!(!store.container_dir(id).unwrap().exists());
    assert!(store.check(false).unwrap().is_clean());
}

#[test]
fn a_running_container_does_not_hold_the_store_lock() {
    use layerbox::store::Store;
    let _g = root_only!();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let f = Fixture::new(&["sleep", "60"]);
    let lock = store.lock().unwrap();
    let running = spawn(&f.spec).unwrap();
    drop(lock);
    // the monitor forked while the lock was held; it must not keep the lock file open
    let other = Store::open(tmp.path().join("store")).unwrap();
    assert!(other.try_lock().unwrap().is_some());
    running.kill(rustix::process::Signal::KILL).unwrap();
    assert_eq!(running.wait().unwrap().code, 137);
}

#[test]
fn dropping_a_running_container_kills_it_and_removes_its_cgroup() {
    let _g = root_only!();
    let f = Fixture::new(&["sleep", "60"]);
    let running = spawn(&f.spec).unwrap();
    let pid = rustix::process::Pid::from_raw(running.pid()).unwrap();
    let dirs = running.cgroup().dirs.clone();
    drop(running);
    // reaped by its monitor, which was reaped by the drop: the PID is free
    assert_eq!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    );
    for (_, dir) in dirs {
        assert!(!dir.exists(), "cgroup {dir:?} left behind");
    }
}

#[test]
fn whiteouts_opaque_dirs_and_owners_round_trip_through_a_layer_dir() {
    use layerbox_core::fs::{Entry, Layer, Meta};
    let _g = root_only!();
    let meta = |mode, uid| Meta {
        mode,
        uid,
        gid: uid,
        mtime: 1_600_000_000,
    };
    let mut layer = Layer::new();
    layer.insert("etc", Entry::dir(meta(0o755, 0)));
    layer.insert_whiteout("etc/motd");
    layer.insert(
        "opt",
        Entry {
            meta: meta(0o755, 0),
            kind: EntryKind::Dir { opaque: true },
        },
    );
    layer.insert("home", Entry::dir(meta(0o700, 1000)));
    layer.insert("home/su", Entry::file(meta(0o4755, 1000), "x"));
    let tmp = tempfile::tempdir().unwrap();
    layerbox::linux::write_layer_dir(&layer, tmp.path()).unwrap();
    assert_eq!(read_layer_dir(tmp.path()).unwrap(), layer);
}

#[test]
fn an_imported_rootfs_tarball_runs_and_an_upper_layer_hides_a_file() {
    use layerbox::linux::write_layer_dir;
    use layerbox::store::Store;
    use layerbox_core::fs::{Entry, Layer, Meta, tar};
    let _g = root_only!();
    let tmp = tempfile::tempdir().unwrap();
    // `import`: a rootfs tarball becomes a layer (through the core's tar reader) and is unpacked
    let rootfs = tmp.path().join("rootfs");
    make_busybox_layer(&rootfs);
    let tarball = tar::write_layer(&read_layer_dir(&rootfs).unwrap(), &TarOptions::default());
    let base = tar::read_layer(&tarball).unwrap();
    // a second layer deletes /etc/motd and adds /etc/greeting
    let mut top = Layer::new();
    top.insert("etc", Entry::dir(Meta::new(0o755, 1_600_000_000)));
    top.insert_whiteout("etc/motd");
    top.insert(
        "etc/greeting",
        Entry::file(Meta::new(0o644, 1_600_000_000), "hello\n"),
    );
    let store = Store::open(tmp.path().join("store")).unwrap();
    let lowers: Vec<PathBuf> = [("base", &base), ("top", &top)]
        .into_iter()
        .map(|(id, layer)| {
            store
                .create_layer(id, |dir| {
                    write_layer_dir(layer, dir).map_err(std::io::Error::other)
                })
                .unwrap()
        })
        .collect();
    let c = tmp.path().join("c");
    let mut spec = ContainerSpec::new(
        "imported01",
        layerbox::linux::Layers::in_dir(&c, lowers),
        vec![
            "sh".into(),
            "-c".into(),
            "cat /etc/greeting; test -e /etc/motd || echo motd gone; /bin/busybox echo hi".into(),
        ],
    );
    spec.stdout = Output::File(tmp.path().join("log"));
    assert_eq!(run(&spec).unwrap().code, 0);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("log")).unwrap(),
        "hello\nmotd gone\nhi\n"
    );
    assert_no_mounts_below(tmp.path());
}

#[test]
fn the_core_builder_runs_run_steps_in_real_containers() {
    use layerbox::linux::LinuxRun;
    use layerbox::store::Store;
    use layerbox_core::build::{BaseImage, BuildCache, BuildContext, BuildOptions, build};
    use layerbox_core::fs::Change;
    use layerbox_core::image::{ImageConfig, Reference};
    use std::collections::BTreeMap;
    use std::sync::Arc;
    let _g = root_only!();
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    make_busybox_layer(&rootfs);
    let base = Arc::new(read_layer_dir(&rootfs).unwrap());
    let (diff_id, _) = layerbox_core::fs::tar::diff_id(&base, &TarOptions::default());
    let mut config = ImageConfig::default();
    config.rootfs.diff_ids = vec![diff_id];
    config.history = vec![layerbox_core::image::History::default()];
    config.config.env = Some(vec!["PATH=/bin".into()]);
    let reference: Reference = "busybox:latest".parse().unwrap();
    let images: BTreeMap<Reference, BaseImage> =
        [(reference, BaseImage::new(config, [base]).unwrap())].into();
    let dockerfile = "FROM busybox:latest\n\
                      RUN echo hi > /a && rm /etc/motd && hostname > /h\n\
                      WORKDIR /w\n\
                      RUN pwd > /w/here\n\
                      COPY hello.txt /hello.txt\n";
    let context = BuildContext::from_files(&[("hello.txt", "hello\n")]).unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let mut backend = LinuxRun::new(store.clone());
    backend.output = Output::File(tmp.path().join("build.log"));
    let built = build(
        dockerfile,
        &context,
        &BuildOptions::default(),
        &images,
        &mut backend,
        &mut BuildCache::default(),
        &mut |_| {},
    )
    .unwrap();
    // base, RUN, WORKDIR, RUN, COPY
    assert_eq!(built.layers.len(), 5, "{:?}", built.config.history);
    let file = |layer: usize, path: &str| match built.layers[layer].entry(path) {
        Some((_, e)) => match &e.kind {
            EntryKind::File(FileData::Bytes(b)) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{path}: {other:?}"),
        },
        None => panic!("{path} not in layer {layer}"),
    };
    assert_eq!(file(1, "a"), "hi\n");
    assert_eq!(file(1, "h"), "buildkitsandbox\n");
    assert_eq!(built.layers[1].get("etc/motd"), Some(&Change::Whiteout));
    assert_eq!(file(3, "w/here"), "/w\n");
    assert_eq!(file(4, "hello.txt"), "hello\n");

    // the built image goes into the store and runs: its ID is the builder's
    let id = store.put_image(&built.config, &built.layers).unwrap();
    assert_eq!(id, built.id);
    let (config, lowers) = store.image(&id).unwrap().unwrap();
    assert_eq!(config.config.working_dir.as_deref(), Some("/w"));
    store
        .put_record(
            layerbox::store::RecordKind::Container,
            "c0built",
            &serde_json::json!({"image": id}),
        )
        .unwrap();
    let layers = store.container_layers("c0built", lowers).unwrap();
    let mut spec = ContainerSpec::new(
        "c0built",
        layers,
        vec![
            "sh".into(),
            "-c".into(),
            "cat /a /hello.txt /w/here; test -e /etc/motd || echo no motd".into(),
        ],
    );
    spec.stdout = Output::File(tmp.path().join("run.log"));
    assert_eq!(run(&spec).unwrap().code, 0);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("run.log")).unwrap(),
        "hi\nhello\n/w\nno motd\n"
    );
    let report = store.check(false).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_no_mounts_below(tmp.path());
}

#[test]
fn with_init_kill_9_of_the_shell_is_137_and_the_program_is_pid_2() {
    let _g = root_only!();
    let mut f = Fixture::new(&["sh", "-c", "echo $$; kill -9 $$; echo survived"]);
    f.spec.init = true;
    // as `docker run --init`: the shell is not the namespace's init, so SIGKILL takes it
    assert_eq!(
        f.run().unwrap(),
        Exit {
            code: 137,
            oom_killed: false
        }
    );
    assert_eq!(f.log(), "2\n");
}

#[test]
fn with_init_a_signal_reaches_the_program_and_its_code_comes_back() {
    let _g = root_only!();
    let mut f = Fixture::new(&[
        "sh",
        "-c",
        "trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 1; done",
    ]);
    f.spec.init = true;
    let running = spawn(&f.spec).unwrap();
    // wait until the trap is set (the program printed), then signal the init; the 2000 polls
    // (10 s) are a safety net against a hang, not a measurement
    for _ in 0..2000 {
        if f.log().contains("ready") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(f.log(), "ready\n");
    running.kill(rustix::process::Signal::TERM).unwrap();
    assert_eq!(running.wait().unwrap().code, 7);
    assert_eq!(f.log(), "ready\nterm\n");
    assert_no_mounts_below(f.dir.path());
}

/// A layer without times: what the differential tests compare.
pub(crate) fn timeless(layer: &layerbox_core::fs::Layer) -> Vec<String> {
    use layerbox_core::fs::Change;
    layer
        .iter()
        // the simulator records the root directory's copy-up; in overlayfs the upper dir is the
        // root itself, never an entry: a difference of representation, not of content
        .filter(|(path, _)| !path.is_empty())
        .map(|(path, change)| match change {
            Change::Whiteout => format!("{path} whiteout"),
            Change::HardLink(target) => format!("{path} link to {target}"),
            Change::Entry(e) => {
                let what = match &e.kind {
                    EntryKind::Dir { opaque } => format!("dir opaque={opaque}"),
                    EntryKind::File(data) => format!("file {} {}", data.len(), data.digest()),
                    EntryKind::Symlink(target) => format!("symlink {target}"),
                };
                format!(
                    "{path} {what} {:o} {}:{}",
                    e.meta.mode, e.meta.uid, e.meta.gid
                )
            }
        })
        .collect()
}

#[test]
fn differential_the_simulated_shell_and_busybox_make_the_same_layers() {
    use layerbox_core::fs::{LayerStack, UnionFs, changes};
    use layerbox_core::sim::shell::{self, Env, Limits, Registry};
    use std::sync::Arc;
    let _g = root_only!();
    let corpus = [
        "echo hi > /new.txt",
        "mkdir -p /app/src && echo 'fn main() {}' > /app/src/main.rs && chmod 600 /app/src/main.rs",
        "rm /etc/motd",
        "rm -r /opt/cache && mkdir /opt/cache && echo b > /opt/cache/b",
        "ln -s /etc/passwd /pw",
        "mv /etc/motd /motd",
        "chown 65534:65534 /etc/motd",
        "cd /tmp && echo x > a && cp a b && rm a",
        "printf 'b\\na\\n' > /f && sort /f > /g",
        "mkdir /d && rmdir /d",
        "echo more >> /etc/motd",
        "ln /etc/motd /etc/motd2",
        "touch /etc/motd && chmod 4755 /etc/motd",
        "mkdir -p /a/b/c && cp -r /a /z && rm -rf /a/b",
        "mkdir /m && echo y > /m/f && mv /m /m2",
        "umask 077 && echo s > /secret && mkdir /private",
        "cd /opt && rm -rf cache && ln -s /tmp cache",
        "echo a > /x; exit 3",
    ];
    // Differences known and explained; each must still differ, so a fix shows up here.
    let known = [(
        "sed -i s/welcome/hello/ /etc/motd",
        "busybox sed -i writes a temp file beside the file and renames it over, which changes \
         /etc's mtime (docker diff: C /etc); the simulated sed edits in place",
    )];
    let mut differences = Vec::new();
    for script in corpus.iter().chain(known.iter().map(|(s, _)| s)) {
        let f = Fixture::new(&["sh", "-c", script]);
        let real = f.run().unwrap();
        let real_layer = read_layer_dir(&f.upper()).unwrap();
        let base = Arc::new(read_layer_dir(&f.lower()).unwrap());
        let stack = LayerStack::from_layers([Arc::clone(&base)]).unwrap();
        let mut fs = UnionFs::new(stack.clone());
        let env = Env {
            now: 1_700_000_000,
            ..Env::default()
        };
        let sim = shell::run_script(
            &mut fs,
            &env,
            script,
            &Registry::with_builtins(),
            &Limits::default(),
        );
        let sim_layer = fs.upper().cloned().unwrap_or_default();
        let (real_changes, sim_changes) =
            (changes(&real_layer, &stack), changes(&sim_layer, &stack));
        // the log holds stdout and stderr as written, like the simulator's output
        let differ = (real.code, f.log()) != (sim.status, sim.to_string())
            || timeless(&real_layer) != timeless(&sim_layer)
            || real_changes != sim_changes;
        if let Some((_, why)) = known.iter().find(|(s, _)| s == script) {
            assert!(
                differ,
                "`{script}` now agrees ({why}): drop it from the known differences"
            );
        } else if differ {
            differences.push(format!(
                "{script}\n  real: {} {:?} {:?}\n        {:?}\n  sim:  {} {:?} {:?}\n        {:?}",
                real.code,
                f.log(),
                timeless(&real_layer),
                real_changes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                sim.status,
                sim.to_string(),
                timeless(&sim_layer),
                sim_changes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
