//! Common mistakes made on docker and on the simulated engine (issue 6): the same command lines
//! in the same order, each answered with the same exit code, stdout and stderr. Container and
//! image IDs are replaced by `<id>` (they differ by nature), and the program's own name by
//! `docker` (layerbox's usage lines say `layerbox`). Every `run`/`create` on docker carries
//! `--pull=never`: docker's answer for a missing image is then what the simulated engine,
//! which has no registry, must say.

use super::{BASE, Sim, assert_no_differences, docker, docker_base, note_difference, sim_base};

/// The session: setup commands and mistakes alike, all compared.
const STEPS: &[&[&str]] = &[
    &["inspect", "nosuch"],
    &["image", "inspect", "nosuch"],
    &["container", "inspect", "nosuch"],
    &["rmi", "nosuch"],
    &["rm", "nosuch"],
    &["stop", "nosuch"],
    &["start", "nosuch"],
    &["logs", "nosuch"],
    &["history", "nosuch"],
    &["tag", "nosuch", "other"],
    &["create", "--pull=never", "nosuch-image"],
    &["run", "--pull=never", "nosuch-image"],
    &["history", "abcdef"],
    &["tag", "sha256:1234", "x"],
    &["run", "-d", "--name", "oracle-up", BASE, "sleep", "100"],
    &["run", "-d", "--name", "oracle-up", BASE, "sleep", "100"],
    &["create", "--name", "oracle-down", BASE, "true"],
    &["rm", "oracle-up"],
    &["rmi", BASE],
    &["rename", "oracle-down", "oracle-up"],
    &["rename", "nosuch", "other"],
    &["create", "--name", "oracle-down", BASE, "true"],
    &["create", "--name", "bad name", BASE, "true"],
    &["exec", "oracle-down", "true"],
    &["kill", "oracle-down"],
    &["unpause", "oracle-up"],
    &["start", "oracle-down"],
    &["run", "--name", "oracle-three", BASE, "sh", "-c", "exit 3"],
    &["run", "--rm", BASE, "nosuchcmd"],
    &["run", "--rm", BASE, "/etc/passwd"],
    &["rm", "-f", "oracle-up", "oracle-down", "oracle-three"],
    &["rm", "oracle-up"],
    &["run"],
    &["rmi"],
    &["import", "/nonexistent.tar"],
];

/// The log line docker's CLI sometimes adds when a `run --rm` container fails to start (a race
/// between its wait and the removal), which is noise, not part of the answer.
const RACE: &str = "level=error msg=\"error waiting for container: context canceled\"";

/// `text` with 64- and 12-hex IDs as `<id>`, `layerbox` as `docker`, and without the racy
/// [`RACE`] line.
pub(super) fn normalise(text: &str) -> String {
    let text: String = text
        .split_inclusive('\n')
        .filter(|l| !(l.starts_with("time=\"") && l.contains(RACE)))
        .collect();
    let text = text.replace("layerbox", "docker");
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 64 || run.len() == 12 {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

pub(super) fn answer(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        normalise(&String::from_utf8_lossy(&out.stdout)),
        normalise(&String::from_utf8_lossy(&out.stderr))
    )
}

#[test]
fn mistakes_get_dockers_words_and_exit_codes() {
    let Some(docker) = docker() else { return };
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let mut diffs = Vec::new();
    for step in STEPS {
        let (d, s) = (answer(&docker.cli(step)), answer(&sim.cli(step)));
        note_difference(&mut diffs, step, &d, &s);
    }
    docker.cli(&["rm", "-f", "oracle-up", "oracle-down", "oracle-three"]);
    assert_no_differences(&diffs, STEPS.len());
}

#[test]
fn ids_are_masked_and_names_kept() {
    assert_eq!(
        normalise(
            "container 0123456789ab is using sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ),
        "container <id> is using sha256:<id>"
    );
    assert_eq!(
        normalise("See 'layerbox run --help'."),
        "See 'docker run --help'."
    );
    assert_eq!(normalise("oracle-up"), "oracle-up");
    assert_eq!(
        normalise(&format!(
            "docker: x.\ntime=\"2026-11-27T00:05:08Z\" {RACE}\n"
        )),
        "docker: x.\n"
    );
}
