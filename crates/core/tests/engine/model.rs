//! Random command sequences against a small reference model of the container state machine:
//! no panic, the states agree, and every refusal has docker's message and exit code.

use std::collections::BTreeMap;

use layerbox_core::engine::{IdSource, SeededIds};

use super::{engine, run};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    Created,
    Running,
    Paused,
    Exited,
}

impl S {
    fn name(self) -> &'static str {
        match self {
            S::Created => "created",
            S::Running => "running",
            S::Paused => "paused",
            S::Exited => "exited",
        }
    }
}

/// What the model expects a command to print on stderr (empty when it succeeds) and its new
/// state (`None` when removed).
fn expect(op: &str, name: &str, state: Option<S>) -> (String, Option<S>, u8) {
    let Some(s) = state else {
        return match op {
            "create" => (String::new(), Some(S::Created), 0),
            "run" => (String::new(), Some(S::Running), 0),
            "rm" | "rm -f" => (format!("Error: No such container: {name}"), None, 1),
            _ => (
                format!("Error response from daemon: No such container: {name}"),
                None,
                1,
            ),
        };
    };
    let up = matches!(s, S::Running | S::Paused);
    let refuse = |msg: String| (format!("Error response from daemon: {msg}"), Some(s), 1);
    match op {
        // docker 20.10's `create` exits 1 on the daemon's refusal, `run` 125 (checked against
        // real docker by crates/cli/tests/docker_oracle).
        "create" | "run" => (
            format!("Conflict. The container name \"/{name}\" is already in use"),
            Some(s),
            if op == "create" { 1 } else { 125 },
        ),
        "start" if s == S::Paused => refuse("cannot start a paused container, try unpause instead".into()),
        "stop" => (String::new(), Some(if up { S::Exited } else { s }), 0),
        "kill" if up => (String::new(), Some(S::Exited), 0),
        "kill" => refuse(format!("Cannot kill container: {name}: Container <id> is not running")),
        "pause" if s == S::Paused => refuse("Container <id> is already paused".into()),
        "pause" if s != S::Running => refuse("Container <id> is not running".into()),
        "pause" => (String::new(), Some(S::Paused), 0),
        "unpause" if s != S::Paused => refuse("Container <id> is not paused".into()),
        "start" | "unpause" => (String::new(), Some(S::Running), 0),
        "rm" if s == S::Running => refuse("You cannot remove a running container <id>. Stop the container before attempting removal or force remove".into()),
        "rm" if s == S::Paused => refuse("You cannot remove a paused container <id>. Unpause and then stop the container before attempting removal or force remove".into()),
        "rm" | "rm -f" => (String::new(), None, 0),
        _ => unreachable!("{op}"),
    }
}

#[test]
fn random_sequences_agree_with_the_model() {
    const OPS: [&str; 9] = [
        "create", "run", "start", "stop", "kill", "pause", "unpause", "rm", "rm -f",
    ];
    const NAMES: [&str; 3] = ["a1", "b2", "c3"];
    let mut rng = SeededIds::new(2026);
    for _ in 0..1000 {
        let mut e = engine();
        let mut model: BTreeMap<&str, S> = BTreeMap::new();
        for _ in 0..12 {
            let op = OPS[rng.below(OPS.len())];
            let name = NAMES[rng.below(NAMES.len())];
            let line = match op {
                "create" => format!("docker create --name {name} anchors/busybox sleep 600"),
                "run" => format!("docker run -d --name {name} anchors/busybox sleep 600"),
                _ => format!("docker {op} {name}"),
            };
            let (want_err, want_state, want_code) = expect(op, name, model.get(name).copied());
            let before = e
                .find_container(name)
                .map(|i| e.state().containers[i].id.clone());
            let (out, code) = run(&mut e, &line);
            let err = match before {
                Ok(id) => out.stderr().replace(&id, "<id>"),
                Err(_) => out.stderr(),
            };
            assert_eq!(code, want_code, "{line}: {}", out.text());
            if want_err.is_empty() {
                assert!(
                    err.is_empty() || op == "run" || op == "create",
                    "{line}: {err}"
                );
            } else {
                assert!(err.contains(&want_err), "{line}: {err} / {want_err}");
            }
            match want_state {
                Some(s) => {
                    model.insert(name, s);
                }
                None => {
                    model.remove(name);
                }
            }
            let (ps, _) = run(&mut e, "docker ps -a --format '{{.Names}} {{.State}}'");
            let mut got: Vec<String> = ps.stdout().lines().map(str::to_owned).collect();
            got.sort();
            let want: Vec<String> = model
                .iter()
                .map(|(n, s)| format!("{n} {}", s.name()))
                .collect();
            assert_eq!(got, want, "after {line}");
        }
    }
}
