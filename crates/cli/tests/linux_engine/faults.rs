//! Faults: `kill -9` of the CLI or of a shim at random points of build, run, commit and rm, a
//! hundred times; then `system check --repair` leaves a clean store, no mount is left below it
//! and no process of it runs. And invocations at once never corrupt the store.
//!
//! The random points come from a seeded generator; the seed is printed, and
//! `LAYERBOX_FAULT_SEED=N` replays a run.

use std::process::{Child, Stdio};
use std::time::Duration;

use super::super::linux_root::{assert_no_mounts_below, root_only};
use super::Lab;

/// splitmix64: small, seedable, good enough to pick operations and moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A lab on tmpfs where there is one (hundreds of fsyncs on a busy disk take long), and a build
/// context whose `RUN` runs `run` in a container that carries the lab's token; returns the
/// lab, its token and the context's path.
fn lab(run: &str) -> (Lab, String, String) {
    let lab = Lab::with_dir(super::tmpfs_dir("layerbox-faults-"));
    let token = token(&lab);
    let ctx = lab.context(&[
        (
            "Dockerfile",
            &format!("FROM busybox\nENV {token}\nRUN {run}\nCOPY f /f\n"),
        ),
        ("f", "f\n"),
    ]);
    let ctx = ctx.to_str().unwrap().to_owned();
    (lab, token, ctx)
}

/// The environment entry every container process of the lab carries (`-e`, or `ENV` in builds).
fn token(lab: &Lab) -> String {
    format!(
        "LBFAULT={}",
        lab.path().file_name().unwrap().to_string_lossy()
    )
}

/// Processes of the lab's store: the CLIs and shims (whose command line names the store root)
/// and the containers' (whose environment carries the token).
fn store_processes(lab: &Lab) -> Vec<(i32, String)> {
    let root = lab.root().display().to_string();
    let token = token(lab);
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let read = |name: &str| {
            std::fs::read(entry.path().join(name))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default()
        };
        let cmdline = read("cmdline");
        if cmdline.contains(&root) || read("environ").contains(&token) {
            found.push((pid, cmdline));
        }
    }
    found
}

fn kill9(pid: i32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// The IDs of the containers the store holds now.
fn container_ids(lab: &Lab) -> Vec<String> {
    std::fs::read_dir(lab.root().join("containers"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .strip_suffix(".json")
                        .filter(|n| !n.starts_with('.'))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Starts one operation at random; returns the CLI, its command line and its kind.
fn start_operation(lab: &Lab, rng: &mut Rng, i: u64, ctx: &str) -> (Child, String, usize) {
    let token = token(lab);
    let ids = container_ids(lab);
    let some_id = (!ids.is_empty())
        .then(|| ids[usize::try_from(rng.below(ids.len() as u64)).unwrap()].clone());
    let name = format!("c{i}");
    let tag = format!("snap{}", i % 3);
    let build_tag = format!("b{}", i % 3);
    let (args, kind): (Vec<&str>, usize) = match (rng.below(6), some_id.as_deref()) {
        (0, _) => (vec!["build", "--no-cache", "-t", &build_tag, ctx], 0),
        (1, _) => (
            vec![
                "run", "-d", "--name", &name, "-e", &token, "busybox", "sleep", "30",
            ],
            1,
        ),
        (2, _) => (
            vec![
                "run",
                "-d",
                "--restart",
                "always",
                "--name",
                &name,
                "-e",
                &token,
                "busybox",
                "sh",
                "-c",
                "sleep 0.05; exit 1",
            ],
            2,
        ),
        (3, _) => (
            vec![
                "run",
                "--name",
                &name,
                "-e",
                &token,
                "busybox",
                "sh",
                "-c",
                "echo x > /x; sleep 0.05",
            ],
            3,
        ),
        (4, Some(id)) => (vec!["commit", id, &tag], 4),
        (_, Some(id)) => (vec!["rm", "-f", id], 5),
        (_, None) => (vec!["run", "--rm", "-e", &token, "busybox", "true"], 6),
    };
    let shown = args.join(" ");
    let child = lab
        .command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, shown, kind)
}

/// Every process of the store ends (1000 polls, 10 s: a safety net, not a measurement).
fn assert_no_store_processes(lab: &Lab) {
    for _ in 0..1000 {
        if store_processes(lab).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("processes of the store left: {:#?}", store_processes(lab));
}

/// `system check --repair` succeeds and a second check finds the store clean.
fn assert_repairs_to_clean(lab: &Lab) {
    let (out, err, code) = lab.all(&["system", "check", "--repair"]);
    assert_eq!(code, 0, "{out}{err}");
    lab.assert_clean();
}

#[test]
fn kill_9_at_random_points_leaves_a_store_that_repairs_to_clean() {
    let _g = root_only!();
    let seed = std::env::var("LAYERBOX_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            now.as_secs().wrapping_mul(1_000_000_007) ^ u64::from(now.subsec_nanos())
        });
    eprintln!("fault seed: {seed} (LAYERBOX_FAULT_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let (lab, token, ctx) = lab("echo $$ > /r && sleep 0.05");
    let mut seen_ids = std::collections::BTreeSet::new();
    let mut log = Vec::new();
    // how long each kind of operation has taken when not killed (ms), so that the kills land
    // while it runs: build, run -d, run -d --restart, run, commit, rm -f, run --rm
    let mut takes: [u64; 7] = [300, 40, 40, 100, 40, 30, 40];
    for i in 0..100 {
        let (mut child, shown, kind) = start_operation(&lab, &mut rng, i, &ctx);
        let begun = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(rng.below(takes[kind] + 1)));
        // the CLI, or another process of the store (a shim, or the CLI's own container)
        let cli = i32::try_from(child.id()).unwrap();
        let others: Vec<i32> = store_processes(&lab)
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| *p != cli)
            .collect();
        let victim = if others.is_empty() || rng.below(2) == 0 {
            cli
        } else {
            others[usize::try_from(rng.below(others.len() as u64)).unwrap()]
        };
        kill9(victim);
        let status = child.wait().unwrap();
        if status.success() {
            let ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX);
            takes[kind] = u64::midpoint(takes[kind], ms);
        }
        log.push(format!(
            "{i}: {shown} kill {} -> {status}",
            if victim == cli { "cli" } else { "other" }
        ));
        seen_ids.extend(container_ids(&lab));
    }
    let landed = log.iter().filter(|l| l.contains("signal: 9")).count();
    eprintln!(
        "{landed} of 100 kills of the CLI landed while it ran; the others hit a shim or a container, or came late"
    );
    // the store works as it is (before any repair): listings and a new container
    for args in [&["ps", "-a"][..], &["images"][..]] {
        let (out, err, code) = lab.all(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}\n{log:#?}");
    }
    assert_eq!(
        lab.ok(&["run", "--rm", "-e", &token, "busybox", "echo", "ok"]),
        "ok\n"
    );
    assert_repairs_to_clean(&lab);
    // every container goes, then nothing of the store runs or stays mounted
    let ids = container_ids(&lab);
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        let (out, err, code) = lab.all(&args);
        assert_eq!(code, 0, "{out}{err}");
    }
    assert_no_store_processes(&lab);
    assert_no_mounts_below(lab.path());
    for id in &seen_ids {
        if let Ok(cg) =
            layerbox::linux::Cgroup::for_host(id, &layerbox::linux::Resources::default())
        {
            for (_, dir) in &cg.dirs {
                assert!(!dir.exists(), "cgroup {dir:?} left behind\n{log:#?}");
            }
        }
    }
    lab.assert_clean();
    // the images that are left are whole: each runs
    for image in lab.ok(&["images", "-q"]).lines() {
        lab.ok(&["run", "--rm", "-e", &token, image, "true"]);
    }
    assert_no_store_processes(&lab);
    lab.assert_clean();
}

#[test]
fn eight_mixed_invocations_at_once_never_corrupt_the_store() {
    let _g = root_only!();
    let (lab, token, ctx) = lab("echo built > /b");
    for round in 0..3 {
        lab.ok(&["tag", "busybox", "old"]);
        lab.ok(&[
            "run",
            "--name",
            "src",
            "-e",
            &token,
            "busybox",
            "sh",
            "-c",
            "echo s > /s",
        ]);
        let name = format!("d{round}");
        let jobs: Vec<Vec<&str>> = vec![
            vec!["build", "-t", "x1", &ctx],
            vec!["build", "--no-cache", "-t", "x2", &ctx],
            vec![
                "run", "-d", "--name", &name, "-e", &token, "busybox", "sleep", "30",
            ],
            vec!["run", "--rm", "-e", &token, "busybox", "echo", "hi"],
            vec!["rmi", "old"],
            vec!["tag", "busybox", "t1"],
            vec!["commit", "src", "snap"],
            vec![
                "run",
                "--rm",
                "-e",
                &token,
                "busybox",
                "sh",
                "-c",
                "echo y > /y",
            ],
        ];
        let children: Vec<_> = jobs
            .iter()
            .map(|args| {
                lab.command(args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (args, child) in jobs.iter().zip(children) {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}, {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        lab.assert_clean();
        assert_eq!(
            lab.ok(&["run", "--rm", "x2", "cat", "/b", "/f"]),
            "built\nf\n"
        );
        assert_eq!(lab.ok(&["run", "--rm", "snap", "cat", "/s"]), "s\n");
        lab.ok(&["rm", "-f", "src", &name]);
    }
    for image in lab.ok(&["images", "-q"]).lines() {
        lab.ok(&["run", "--rm", image, "true"]);
    }
    assert_no_store_processes(&lab);
    lab.assert_clean();
}
