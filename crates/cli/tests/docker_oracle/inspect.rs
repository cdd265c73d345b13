//! `inspect` against docker's (issue 6): the same image (imported, and built with every config
//! field a Dockerfile sets) and the same containers (created, running, exited) inspected on
//! both; the JSON must have the same keys in the same order, and the same values except where
//! they differ by nature (IDs, times, daemon paths, PIDs), which are listed in [`MASKED`].
//!
//! Two things come from this daemon's setup and not from docker itself, and are masked too:
//! with `--bridge=none` a started container gets `Config.NetworkDisabled: true` and no
//! `NetworkSettings.Ports`; layerbox answers as docker with its default bridge does.

use layerbox_core::cli::inspect::Doc;

use super::{BASE, Docker, Sim, docker, docker_base, sim_base, write_context};

/// Paths whose values differ by nature (their keys are still compared).
const MASKED: &[&str] = &[
    "Id",
    "Created",
    "Image",
    "Parent",
    "DockerVersion",
    "Metadata.LastTagTime",
    "GraphDriver.Data.LowerDir",
    "GraphDriver.Data.MergedDir",
    "GraphDriver.Data.UpperDir",
    "GraphDriver.Data.WorkDir",
    "ResolvConfPath",
    "HostnamePath",
    "HostsPath",
    "LogPath",
    "State.Pid",
    "State.StartedAt",
    "State.FinishedAt",
    "Config.Hostname",
    "NetworkSettings.SandboxID",
    "NetworkSettings.SandboxKey",
];

/// Paths that exist or hold values only because of `--bridge=none` (keys and values skipped).
const BRIDGE_NONE: &[&str] = &["Config.NetworkDisabled", "NetworkSettings.Ports"];

/// The `[{...}]` of `inspect` as `path = value` lines in order; objects are walked, anything
/// else is a value (arrays as JSON).
fn lines(json: &str, extra_masked: &[&str]) -> Vec<String> {
    let doc = Doc::parse(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let Doc::Array(objects) = doc else {
        panic!("not an array: {json}")
    };
    let mut out = Vec::new();
    for object in &objects {
        walk(object, "", extra_masked, &mut out);
    }
    out
}

fn walk(doc: &Doc, path: &str, extra_masked: &[&str], out: &mut Vec<String>) {
    if BRIDGE_NONE
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}.")))
    {
        return;
    }
    match doc {
        Doc::Object(fields) => {
            if !path.is_empty() {
                out.push(format!("{path} {{"));
            }
            for (k, v) in fields {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &p, extra_masked, out);
            }
        }
        _ if MASKED.contains(&path) || extra_masked.contains(&path) => {
            out.push(format!("{path} = (masked)"));
        }
        other => out.push(format!(
            "{path} = {}",
            serde_json::to_string(&other.to_value()).unwrap_or_default()
        )),
    }
}

fn compare(what: &str, d: &str, s: &str, extra_masked: &[&str]) -> Vec<String> {
    let (d, s) = (lines(d, extra_masked), lines(s, extra_masked));
    if d == s {
        return Vec::new();
    }
    let mut out = vec![format!("{what}: inspect differs (docker | layerbox):")];
    for i in 0..d.len().max(s.len()) {
        let (a, b) = (d.get(i), s.get(i));
        if a != b {
            out.push(format!(
                "  {} | {}",
                a.map_or("(end)", String::as_str),
                b.map_or("(end)", String::as_str)
            ));
        }
    }
    out
}

/// Runs the same command on both, returning the stdouts (each must succeed).
fn both(docker: &Docker, sim: &Sim, args: &[&str]) -> (String, String) {
    (docker.ok(args), sim.ok(args))
}

#[test]
fn inspect_prints_dockers_keys_in_dockers_order() {
    let Some(docker) = docker() else { return };
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let mut diffs = Vec::new();

    let (d, s) = both(docker, &sim, &["inspect", BASE]);
    diffs.extend(compare("imported image", &d, &s, &[]));

    let dir = docker.scratch("inspect-build");
    write_context(
        &dir,
        &[
            ("a.txt", b"a\n"),
            (
                "Dockerfile",
                b"FROM oracle/busybox:1\nCOPY a.txt /\nENV A=1\nEXPOSE 80\nVOLUME /data\nLABEL k=v\nHEALTHCHECK --interval=5s CMD true\nSTOPSIGNAL SIGINT\nSHELL [\"/bin/sh\", \"-ec\"]\nUSER app\nWORKDIR /tmp\nONBUILD ENV X=1\nENTRYPOINT [\"/bin/sh\"]\nCMD [\"-c\", \"true\"]\n",
            ),
        ],
    );
    let context = dir.to_str().expect("utf-8");
    both(
        docker,
        &sim,
        &["build", "-q", "-t", "oracle/inspected", context],
    );
    let (d, s) = both(docker, &sim, &["image", "inspect", "oracle/inspected"]);
    // Built layers carry their build's mtimes, hence other digests and a size a few bytes off.
    let built = ["RootFS.Layers", "Size", "VirtualSize"];
    diffs.extend(compare("built image", &d, &s, &built));

    let run = |name: &str, args: &[&str]| {
        for engine in [0, 1] {
            let mut all = args.to_vec();
            all.insert(1, name);
            all.insert(1, "--name");
            // `run` attached exits with the container's code (3 below): not checked here, the
            // containers' inspect output is.
            if engine == 0 {
                docker.cli(&all);
            } else {
                sim.cli(&all);
            }
        }
    };
    run(
        "oracle-created",
        &[
            "create", "-e", "A=1", "-w", "/tmp", "-l", "k=v", BASE, "sleep", "100",
        ],
    );
    run("oracle-running", &["run", "-d", BASE, "sleep", "100"]);
    run(
        "oracle-exited",
        &[
            "run",
            "-p",
            "8080:80",
            "--restart=no",
            BASE,
            "sh",
            "-c",
            "exit 3",
        ],
    );
    for name in ["oracle-created", "oracle-running", "oracle-exited"] {
        let d = docker.cli(&["inspect", name]);
        let s = sim.cli(&["inspect", name]);
        diffs.extend(compare(
            name,
            &String::from_utf8_lossy(&d.stdout),
            &String::from_utf8_lossy(&s.stdout),
            &[],
        ));
    }
    docker.cli(&[
        "rm",
        "-f",
        "oracle-created",
        "oracle-running",
        "oracle-exited",
    ]);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `history` of the imported image and of a small build, in the columns that do not hold
/// times (docker's `CREATED` is relative to when each engine made the image).
#[test]
fn history_lists_what_docker_lists() {
    let Some(docker) = docker() else { return };
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let dir = docker.scratch("history-build");
    write_context(
        &dir,
        &[
            ("a.txt", b"a\n"),
            (
                "Dockerfile",
                b"FROM oracle/busybox:1\nCOPY a.txt /x/\nENV A=1\nWORKDIR /w\nCMD [\"sh\"]\n",
            ),
        ],
    );
    let context = dir.to_str().expect("utf-8");
    both(
        docker,
        &sim,
        &["build", "-q", "-t", "oracle/history", context],
    );
    let format = "{{.CreatedBy}}|{{.Size}}|{{.Comment}}";
    for image in [BASE, "oracle/history"] {
        for extra in [&[][..], &["--no-trunc"][..]] {
            let mut args = vec!["history", "--format", format];
            args.extend_from_slice(extra);
            args.push(image);
            let (d, s) = both(docker, &sim, &args);
            assert_eq!(s, d, "history {extra:?} {image}");
        }
    }
}
