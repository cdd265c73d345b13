//! `cp` against docker's: the same copies on both, out of and into a created and an exited
//! container, with the same local files, and the same mistakes; each answer (exit code,
//! stdout, stderr), what landed on the local side, and `diff` after a copy in are compared.
//! Each engine has its own local directory, shown as `<H>` in the answers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use super::{BASE, Sim, docker, docker_base, sim_base};

/// The session, `{H}` standing for the engine's local directory. Files written by docker's
/// `--bridge=none` daemon into /etc (hosts, resolv.conf) differ in content, so only the
/// copies' names are compared there.
const STEPS: &[&[&str]] = &[
    &["create", "--name", "cp-made", BASE, "true"],
    &["run", "--name", "cp-done", BASE, "true"],
    &["cp", "cp-made:/etc/passwd", "{H}/passwd"],
    &["cp", "cp-made:/etc/passwd", "{H}/out"],
    &["cp", "cp-made:/etc/group", "-"],
    &["cp", "cp-made:/home/.", "{H}/home-contents"],
    &["cp", "cp-made:/home", "{H}/out"],
    &["cp", "cp-made:/bin/sh", "{H}/sh-link"],
    &["cp", "{H}/note", "cp-made:/tmp"],
    &["cp", "{H}/tree", "cp-made:/home/app/tree"],
    &["cp", "{H}/tree/.", "cp-done:/root"],
    &["cp", "{H}/note", "cp-done:/etc/passwd"],
    &["diff", "cp-made"],
    &["diff", "cp-done"],
    &["cp", "cp-made:/nope", "{H}/x"],
    &["cp", "{H}/note", "nosuch:/tmp/x"],
    &["cp", "nosuch:/etc", "{H}/x"],
    &["cp", "cp-made:/etc", "{H}/note"],
    &["cp", "cp-made:/etc/passwd", "{H}/nodir/"],
    &["cp", "cp-made:/etc/passwd", "{H}/missing/x"],
    &["cp", "{H}/note", "cp-made:/nope/"],
    &["cp", "{H}/tree", "cp-made:/etc/passwd"],
    &["cp", "{H}/missing", "cp-made:/tmp"],
    &["cp", "{H}/note", "cp-made:/etc/passwd/x"],
    &["cp", "cp-made:/etc/passwd", "cp-done:/tmp"],
    &["cp", "a", "b"],
    &["cp", "cp-made:/etc/passwd"],
    &["rm", "-f", "cp-made", "cp-done"],
];

/// The local files both start with: a note and a small tree.
fn local_files(dir: &Path) {
    std::fs::create_dir_all(dir.join("tree/sub")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::fs::write(dir.join("note"), "a note\n").unwrap();
    std::fs::write(dir.join("tree/sub/deep"), "deep\n").unwrap();
    std::fs::set_permissions(
        dir.join("tree/sub/deep"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
}

/// What is below `dir`: each path with its kind, mode and content (links: their target).
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(p) = todo.pop() {
        for entry in std::fs::read_dir(&p).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let what = if meta.is_dir() {
                todo.push(path);
                format!("dir {mode:o}")
            } else if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if rel.ends_with("hosts")
                || rel.ends_with("resolv.conf")
                || rel.ends_with("hostname")
            {
                format!("file {mode:o}")
            } else {
                format!(
                    "file {mode:o} {:?}",
                    std::fs::read_to_string(&path).unwrap_or_default()
                )
            };
            out.insert(rel, what);
        }
    }
    out
}

/// `diff`'s answer as a set: docker lists paths in the upper directory's on-disk order. And a
/// directory whose only change is that a directory in it was copied up (`C /home` above
/// `C /home/app` when `/home/app/tree` is added) is left out: docker on this kernel lists it,
/// the simulated filesystem does not list directories copied up unchanged (for files written
/// by a process too, not only by `cp`).
fn changed_paths(answer: &str) -> String {
    let lines: Vec<&str> = answer.lines().collect();
    let changed: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix("C ")).collect();
    let mut kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            l.strip_prefix("C ").is_none_or(|dir| {
                !changed.iter().any(|c| {
                    c.strip_prefix(dir)
                        .and_then(|rest| rest.strip_prefix('/'))
                        .is_some_and(|name| !name.contains('/'))
                })
            })
        })
        .collect();
    kept.sort_unstable();
    kept.join("\n")
}

/// A tar's members: name, and size for files.
fn members(bytes: &[u8]) -> String {
    let mut archive = tar::Archive::new(bytes);
    let mut out = String::new();
    for m in archive.entries().unwrap() {
        let m = m.unwrap();
        let name = String::from_utf8_lossy(&m.path_bytes()).into_owned();
        let _ = writeln!(out, "{name} {} {:o}", m.size(), m.header().mode().unwrap());
    }
    out
}

fn answer(out: &Output, dir: &Path, tar_out: bool) -> String {
    let stdout = if tar_out {
        members(&out.stdout)
    } else {
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = format!(
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    text.replace(&dir.to_string_lossy().into_owned(), "<H>")
        .replace("layerbox", "docker")
}

#[test]
fn copies_and_mistakes_match_docker() {
    let Some(docker) = docker() else { return };
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let (d_dir, s_dir) = (docker.scratch("cp-docker"), sim.root().join("cp-local"));
    local_files(&d_dir);
    local_files(&s_dir);
    let mut diffs = Vec::new();
    for step in STEPS {
        let args = |dir: &Path| -> Vec<String> {
            step.iter()
                .map(|a| a.replace("{H}", &dir.to_string_lossy()))
                .collect()
        };
        let (d_args, s_args) = (args(&d_dir), args(&s_dir));
        let d_args: Vec<&str> = d_args.iter().map(String::as_str).collect();
        let s_args: Vec<&str> = s_args.iter().map(String::as_str).collect();
        let tar_out = step.last() == Some(&"-");
        let (d_out, s_out) = (docker.cli(&d_args), sim.cli(&s_args));
        // created containers' IDs differ by nature; `diff` is compared as a set
        let (d, s) = match step[0] {
            "create" => (
                d_out.stdout.len().to_string(),
                s_out.stdout.len().to_string(),
            ),
            "diff" => (
                changed_paths(&String::from_utf8_lossy(&d_out.stdout)),
                changed_paths(&String::from_utf8_lossy(&s_out.stdout)),
            ),
            _ => (
                answer(&d_out, &d_dir, tar_out),
                answer(&s_out, &s_dir, tar_out),
            ),
        };
        if d != s {
            diffs.push(format!(
                "$ docker {}\n--- docker\n{d}\n--- layerbox\n{s}",
                step.join(" ")
            ));
        }
    }
    docker.cli(&["rm", "-f", "cp-made", "cp-done"]);
    let (d_tree, s_tree) = (tree(&d_dir), tree(&s_dir));
    if d_tree != s_tree {
        diffs.push(format!(
            "local files\n--- docker\n{d_tree:#?}\n--- layerbox\n{s_tree:#?}"
        ));
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n\n")
    );
}
