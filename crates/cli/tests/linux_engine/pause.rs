//! `pause` and `unpause` with the cgroup freezer, through the binary: the state in `ps` and
//! `inspect`, docker's refusals, and `stop`, `kill` and `rm -f` of a paused container.

use super::Lab;
use crate::linux_root::root_only;

/// The freezer's state of the container's PID 1 (v1 `freezer.state`, v2 `cgroup.events`).
fn frozen(pid: &str) -> bool {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    if let Some(path) = cgroups
        .lines()
        .find_map(|l| l.split_once(":freezer:").map(|(_, p)| p))
    {
        let state = format!("/sys/fs/cgroup/freezer{path}/freezer.state");
        return std::fs::read_to_string(state).unwrap().trim() == "FROZEN";
    }
    let path = cgroups.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    let events = std::fs::read_to_string(format!("/sys/fs/cgroup{path}/cgroup.events")).unwrap();
    events.lines().any(|l| l == "frozen 1")
}

#[test]
fn pause_freezes_the_container_and_unpause_thaws_it() {
    let _g = root_only!();
    let lab = Lab::new();
    // a file that grows without a fork, held to a fifth of a CPU
    let id = lab.ok(&[
        "run",
        "-d",
        "--name",
        "count",
        "--cpus",
        "0.2",
        "busybox",
        "sh",
        "-c",
        "while :; do echo x >> /tmp/n; done",
    ]);
    let id = id.trim();
    let counter = lab.root().join("containers").join(id).join("upper/tmp/n");
    let read = || std::fs::metadata(&counter).map_or(0, |m| m.len());
    for _ in 0..1000 {
        if read() > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(read() > 0);
    let pid = lab.ok(&["inspect", "-f", "{{.State.Pid}}", "count"]);
    let pid = pid.trim();
    assert_eq!(lab.ok(&["pause", "count"]), "count\n");
    assert!(frozen(pid));
    let ps = lab.ok(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(
        ps.starts_with("count Up ") && ps.ends_with(" (Paused)\n"),
        "{ps}"
    );
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Running}} {{.State.Paused}}",
            "count"
        ]),
        "paused true true\n"
    );
    // frozen: the file stands still
    let before = read();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(read(), before);

    // docker's refusals
    let refused = |args: &[&str], message: String| {
        let (out, err, code) = lab.all(args);
        assert_eq!(
            (out.as_str(), err, code),
            ("", format!("Error response from daemon: {message}\n"), 1),
            "{args:?}"
        );
    };
    refused(
        &["pause", "count"],
        format!("Container {id} is already paused"),
    );
    refused(
        &["exec", "count", "true"],
        format!("Container {id} is paused, unpause the container before exec"),
    );
    refused(
        &["rm", "count"],
        format!(
            "You cannot remove a paused container {id}. Unpause and then stop the container before attempting removal or force remove"
        ),
    );

    assert_eq!(lab.ok(&["unpause", "count"]), "count\n");
    assert!(!frozen(pid));
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Paused}}",
            "count"
        ]),
        "running false\n"
    );
    refused(
        &["unpause", "count"],
        format!("Container {id} is not paused"),
    );
    // thawed, it grows again (the safety net of 10 s is no threshold: it moves at once)
    for _ in 0..1000 {
        if read() != before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_ne!(read(), before);

    // stop of a paused container: SIGTERM, thawed to take it; PID 1's shell ignores it, so
    // SIGKILL follows after the timeout
    lab.ok(&["pause", "count"]);
    assert_eq!(lab.ok(&["stop", "-t", "1", "count"]), "count\n");
    assert_eq!(lab.ok(&["wait", "count"]), "137\n");
    refused(
        &["pause", "count"],
        format!("Container {id} is not running"),
    );
    lab.ok(&["rm", "count"]);

    // kill and rm -f of a paused container
    lab.ok(&["run", "-d", "--name", "kk", "busybox", "sleep", "600"]);
    lab.ok(&["pause", "kk"]);
    assert_eq!(lab.ok(&["kill", "kk"]), "kk\n");
    assert_eq!(lab.ok(&["wait", "kk"]), "137\n");
    lab.ok(&["run", "-d", "--name", "ff", "busybox", "sleep", "600"]);
    lab.ok(&["pause", "ff"]);
    assert_eq!(lab.ok(&["rm", "-f", "ff"]), "ff\n");
    lab.ok(&["rm", "kk"]);
    assert_eq!(lab.ok(&["ps", "-aq"]), "");
    lab.assert_clean();
}
