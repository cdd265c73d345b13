//! `--restart` on the Linux engine: the shim brings the process back per policy, with docker's
//! backoff, `ps` shows `Restarting (N) …`, inspect counts the restarts, `stop` ends them.

use std::time::Duration;

use super::super::linux_root::root_only;
use super::Lab;

/// Polls `f` until it returns something (1000 polls, 10 s: a safety net against a hang).
fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never: {what}");
}

#[test]
fn on_failure_restarts_up_to_its_count_and_wait_sees_the_end() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 3",
    ]);
    // wait blocks through the restarts, until the policy gives up
    assert_eq!(lab.ok(&["wait", "flaky"]), "3\n");
    assert_eq!(
        lab.ok(&[
            "inspect",
            "-f",
            "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
            "flaky"
        ]),
        "2 exited 3 on-failure:2\n"
    );
    assert_eq!(lab.ok(&["logs", "flaky"]), "run\nrun\nrun\n");
    // a success is not restarted by on-failure
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "fine",
        "--restart",
        "on-failure",
        "busybox",
        "true",
    ]);
    assert_eq!(lab.ok(&["wait", "fine"]), "0\n");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.RestartCount}}", "fine"]),
        "0\n"
    );
    // attached: the first run's output and code; the shim goes on restarting it
    let (out, err, code) = lab.all(&[
        "run",
        "--name",
        "fg",
        "--restart",
        "on-failure:1",
        "busybox",
        "sh",
        "-c",
        "echo once; exit 4",
    ]);
    assert_eq!((out.as_str(), code), ("once\n", 4), "{err}");
    assert_eq!(lab.ok(&["wait", "fg"]), "4\n");
    assert_eq!(lab.ok(&["logs", "fg"]), "once\nonce\n");
    assert_eq!(lab.ok(&["inspect", "-f", "{{.RestartCount}}", "fg"]), "1\n");
    lab.ok(&["rm", "flaky", "fine", "fg"]);
    lab.assert_clean();
}

/// The times (nanoseconds) of the log lines `logs -t` shows.
fn log_times(lab: &Lab, name: &str) -> Vec<i64> {
    lab.ok(&["logs", "-t", name])
        .lines()
        .map(|l| {
            let time = l.split(' ').next().unwrap();
            layerbox::shim::parse_time(time).unwrap().0
        })
        .collect()
}

#[test]
fn always_restarts_with_a_doubling_backoff_until_stopped() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "loop",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "echo up; exit 1",
    ]);
    // between its runs ps shows it restarting, with the last code
    let status = until("ps shows Restarting", || {
        let s = lab.ok(&["ps", "--format", "{{.Status}}"]);
        s.starts_with("Restarting (1) ").then_some(s)
    });
    assert!(status.ends_with(" ago\n"), "{status}");
    // four runs: docker's waits of 100, 200 and 400 ms lie between them at least
    until("four runs", || {
        (log_times(&lab, "loop").len() >= 4).then_some(())
    });
    let times = log_times(&lab, "loop");
    for (k, wait_ms) in [100, 200, 400].into_iter().enumerate() {
        let gap = times[k + 1] - times[k];
        assert!(
            gap >= wait_ms * 1_000_000,
            "gap {k}: {gap} ns, under {wait_ms} ms: {times:?}"
        );
    }
    let count: u32 = lab
        .ok(&["inspect", "-f", "{{.RestartCount}}", "loop"])
        .trim()
        .parse()
        .unwrap();
    assert!(count >= 3, "{count}");
    // stop ends the restarts: the shim itself is gone afterwards
    let record = |lab: &Lab| -> serde_json::Value {
        let id = lab.ok(&["inspect", "-f", "{{.Id}}", "loop"]);
        let path = lab
            .root()
            .join("containers")
            .join(format!("{}.json", id.trim()));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let shim = i32::try_from(record(&lab)["shim"]["pid"].as_i64().unwrap()).unwrap();
    assert_eq!(lab.ok(&["stop", "-t", "1", "loop"]), "loop\n");
    until("the shim ends", || {
        (!std::path::Path::new(&format!("/proc/{shim}")).exists()
            || std::fs::read_to_string(format!("/proc/{shim}/stat"))
                .is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))))
        .then_some(())
    });
    let after = lab.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.RestartCount}}",
        "loop",
    ]);
    assert!(after.starts_with("exited "), "{after}");
    assert!(record(&lab)["shim"].is_null());
    // a manual start clears the stop: the policy applies again
    lab.ok(&["start", "loop"]);
    let before: u32 = after.trim().rsplit(' ').next().unwrap().parse().unwrap();
    until("a restart after start", || {
        let n: u32 = lab
            .ok(&["inspect", "-f", "{{.RestartCount}}", "loop"])
            .trim()
            .parse()
            .unwrap();
        (n > before).then_some(())
    });
    assert_eq!(lab.ok(&["rm", "-f", "loop"]), "loop\n");
    assert_eq!(lab.ok(&["ps", "-aq"]), "");
    lab.assert_clean();
}
