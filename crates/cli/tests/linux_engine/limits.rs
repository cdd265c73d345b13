//! Resource limits and isolation through the binary: `--pids-limit` stops a fork bomb,
//! exceeding `--memory` is an OOM kill with 137, inspect shows the limits, and the container
//! sees only its own processes, hostname, mounts and network.

use super::Lab;
use crate::linux_root::root_only;

/// A fork bomb with a bound, so that it is harmless should the limit fail: every call writes a
/// line, then forks a copy of itself and recurses, 8 levels deep (511 calls unlimited).
const BOMB: &str = "b() { echo x >> /tmp/calls; if [ $1 -gt 0 ]; then b $(($1 - 1)) & b $(($1 - 1)); wait; fi; }; (b 8); echo survived";

/// Runs [`BOMB`] in container `name` with `flags`; returns its stderr and how many calls it made
/// (counted in the container's writable layer).
fn bomb(lab: &Lab, name: &str, flags: &[&str]) -> (String, usize) {
    let mut args = vec!["run", "--name", name];
    args.extend(flags);
    args.extend(["busybox", "sh", "-c", BOMB]);
    let (out, err, code) = lab.all(&args);
    // forks failed inside the bomb's subshell; the container's own shell carried on
    assert_eq!((out.as_str(), code), ("survived\n", 0), "{err}");
    let id = lab.ok(&["inspect", "-f", "{{.Id}}", name]);
    let calls = lab
        .root()
        .join("containers")
        .join(id.trim())
        .join("upper/tmp/calls");
    (err, std::fs::read_to_string(calls).unwrap().lines().count())
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit_and_the_container_survives_it() {
    let _g = root_only!();
    let lab = Lab::new();
    let (err, calls) = bomb(&lab, "bomb", &["--pids-limit", "32"]);
    assert!(err.contains("can't fork"), "{err}");
    assert!((2..511).contains(&calls), "{calls} calls");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.HostConfig.PidsLimit}}", "bomb"]),
        "32\n"
    );
    // the same bomb unlimited makes all 511 calls: the limit was what stopped it
    let (err, calls) = bomb(&lab, "free", &[]);
    assert_eq!((err.as_str(), calls), ("", 511));
    lab.ok(&["rm", "bomb", "free"]);
    lab.assert_clean();
}

#[test]
fn exceeding_the_memory_limit_is_an_oom_kill_with_137() {
    let _g = root_only!();
    let lab = Lab::new();
    // tail keeps the current line in memory, and /dev/zero has no newline
    let (_, err, code) = lab.all(&[
        "run",
        "--name",
        "hog",
        "-m",
        "32m",
        "busybox",
        "tail",
        "/dev/zero",
    ]);
    assert_eq!(code, 137, "{err}");
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{.State.ExitCode}} {{.State.OOMKilled}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}",
            "hog"
        ]),
        format!("137 true {} {}\n", 32 << 20, 64 << 20)
    );
    // detached, under the shim: the same end, seen by `wait` and `inspect`
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "bg",
        "-m",
        "32m",
        "busybox",
        "tail",
        "/dev/zero",
    ]);
    assert_eq!(lab.ok(&["wait", "bg"]), "137\n");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.State.OOMKilled}}", "bg"]),
        "true\n"
    );
    // a container within its limit is not OOM-killed; one killed by SIGKILL is not either
    let (_, _, code) = lab.all(&["run", "--name", "fine", "-m", "32m", "busybox", "true"]);
    assert_eq!(code, 0);
    let (_, _, code) = lab.all(&[
        "run",
        "--name",
        "shot",
        "-m",
        "32m",
        "busybox",
        "sh",
        "-c",
        "sleep 60 & kill -9 $!; wait $!",
    ]);
    assert_eq!(code, 137);
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.State.OOMKilled}}", "fine", "shot"]),
        "false\nfalse\n"
    );
    lab.ok(&["rm", "hog", "bg", "fine", "shot"]);
    lab.assert_clean();
}

#[test]
fn cpu_limits_reach_the_cgroup_and_inspect() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&[
        "run", "-d", "--name", "cpu", "--cpus", "0.5", "-c", "512", "busybox", "sleep", "600",
    ]);
    let id = lab.ok(&["inspect", "-f", "{{.Id}}", "cpu"]);
    let cgroups = lab.ok(&["exec", "cpu", "cat", "/proc/self/cgroup"]);
    // v1: the `cpu` hierarchy's line; v2: the unified one
    let v1 = cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':').skip(1);
        let (controllers, path) = (parts.next()?, parts.next()?);
        controllers.split(',').any(|c| c == "cpu").then_some(path)
    });
    let (dir, files): (_, &[(&str, &str)]) = if let Some(path) = v1 {
        (
            std::path::Path::new("/sys/fs/cgroup/cpu").join(path.trim_start_matches('/')),
            &[
                ("cpu.cfs_quota_us", "50000"),
                ("cpu.cfs_period_us", "100000"),
                ("cpu.shares", "512"),
            ],
        )
    } else {
        let path = cgroups.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
        (
            std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/')),
            &[("cpu.max", "50000 100000"), ("cpu.weight", "20")],
        )
    };
    assert!(
        dir.ends_with(format!("layerbox/{}", id.trim())),
        "{cgroups}"
    );
    for (file, want) in files {
        let got = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(got.trim(), *want, "{file}");
    }
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}",
            "cpu"
        ]),
        "500000000 512\n"
    );
    lab.ok(&["rm", "-f", "cpu"]);
    lab.assert_clean();
}

#[test]
fn the_container_sees_only_its_own_processes_hostname_mounts_and_network() {
    let _g = root_only!();
    let lab = Lab::new();
    let id = lab.ok(&["run", "-d", "--name", "iso", "busybox", "sleep", "600"]);
    let hostname = format!("{}\n", &id[..12]);
    // processes: its PID 1 and the exec'd ps, none of the host's
    let ps = lab.ok(&["exec", "iso", "ps", "-o", "pid,comm"]);
    let rows: Vec<Vec<&str>> = ps.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "{ps}");
    assert_eq!(rows[1], ["1", "sleep"], "{ps}");
    assert_eq!(rows[2][1], "ps", "{ps}");
    assert_eq!(lab.ok(&["exec", "iso", "hostname"]), hostname);
    // mounts: the overlay as /, the kernel filesystems docker gives, nothing of the host's
    let mounts = lab.ok(&["exec", "iso", "cat", "/proc/mounts"]);
    let first = mounts.lines().next().unwrap();
    assert!(first.starts_with("overlay / overlay "), "{mounts}");
    let host_only = std::fs::read_to_string("/proc/self/mounts").unwrap();
    for line in mounts.lines() {
        let target = line.split(' ').nth(1).unwrap();
        assert!(
            target == "/"
                || ["/proc", "/dev", "/sys", "/etc/"]
                    .iter()
                    .any(|p| target.starts_with(p)),
            "{target} in\n{mounts}"
        );
    }
    assert!(host_only.lines().count() > 1);
    // network: only the loopback interface
    assert_eq!(lab.ok(&["exec", "iso", "ls", "/sys/class/net"]), "lo\n");
    // masked and read-only kernel paths
    let (out, err, code) = lab.all(&[
        "exec",
        "iso",
        "sh",
        "-c",
        "wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; \
         echo 1 > /proc/sys/kernel/hostname || echo ro; touch /proc/sys/x || echo ro",
    ]);
    assert_eq!((out.as_str(), code), ("0\n0\n0\nro\nro\n", 0), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(lab.ok(&["exec", "iso", "hostname"]), hostname);
    lab.ok(&["rm", "-f", "iso"]);
    lab.assert_clean();
}

#[test]
fn hostname_flag_names_the_container() {
    let _g = root_only!();
    let lab = Lab::new();
    let out = lab.ok(&[
        "run",
        "--name",
        "named",
        "-h",
        "web-1",
        "busybox",
        "sh",
        "-c",
        "hostname; cat /etc/hostname",
    ]);
    assert_eq!(out, "web-1\nweb-1\n");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.Config.Hostname}}", "named"]),
        "web-1\n"
    );
    lab.ok(&["rm", "named"]);
    lab.assert_clean();
}
