//! Time in the native simulated engine: `wait`, `logs -f` and an attached `run` block until the
//! container's modelled process ends, on the host's clock sped up by
//! `LAYERBOX_SIM_CLOCK_SCALE` (a 30 s script ends after a tenth of a second at 300×); Ctrl-C
//! ends a follow with 130.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn layerbox(root: &Path, args: &[&str], scale: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_layerbox"));
    command
        .args(["--engine", "sim", "--root"])
        .arg(root)
        .args(args)
        .stdin(Stdio::null());
    if let Some(scale) = scale {
        command.env("LAYERBOX_SIM_CLOCK_SCALE", scale);
    }
    command
}

fn text(out: &Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn wait_and_logs_follow_block_until_the_process_ends() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let script = "echo hi; sleep 30; echo bye; exit 4";
    let out = layerbox(
        root,
        &["run", "-d", "--name", "nap", "busybox", "sh", "-c", script],
        None,
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    // At the host's pace it is still up: 30 s have not passed.
    let out = layerbox(root, &["ps", "--format", "{{.Names}} {{.State}}"], None)
        .output()
        .unwrap();
    assert_eq!(text(&out).0, "nap running\n");
    // `logs -f` prints what there is and returns when the process has ended.
    let out = layerbox(root, &["logs", "-f", "nap"], Some("300"))
        .output()
        .unwrap();
    assert_eq!(text(&out), ("hi\nbye\n".into(), String::new(), Some(0)));
    // `wait` prints the exit code once it has ended.
    let out = layerbox(root, &["wait", "nap"], Some("300"))
        .output()
        .unwrap();
    assert_eq!(text(&out), ("4\n".into(), String::new(), Some(0)));
}

#[test]
fn an_attached_run_stays_until_its_process_exits() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let out = layerbox(
        root,
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo start; sleep 20; exit 3",
        ],
        Some("200"),
    )
    .output()
    .unwrap();
    let (stdout, _, code) = text(&out);
    assert!(stdout.ends_with("start\n"), "{stdout}");
    assert_eq!(code, Some(3));
    let out = layerbox(root, &["ps", "-a", "-q"], None).output().unwrap();
    assert_eq!(text(&out).0, "", "--rm removed it after it exited");
}

#[test]
fn ctrl_c_ends_logs_follow_with_130() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let out = layerbox(
        root,
        &[
            "run",
            "-d",
            "--name",
            "web",
            "python:3.9-slim",
            "python",
            "-m",
            "http.server",
        ],
        None,
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let mut child = layerbox(root, &["logs", "-f", "web"], None)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Its first line is printed once Ctrl-C is taken.
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("Serving HTTP on 0.0.0.0 port 8000"),
        "{first}"
    );
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    // The server was not touched.
    let out = layerbox(root, &["ps", "--format", "{{.Names}} {{.State}}"], None)
        .output()
        .unwrap();
    assert_eq!(text(&out).0, "web running\n");
}
