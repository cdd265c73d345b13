//! Interactive shells through the native binary: `exec -it` and `run -it` with the lines piped
//! in and `LAYERBOX_SIM_INTERACTIVE=1` (what a terminal on stdin turns on), showing the image
//! shell's prompt before each line; without it, piped input is one script, as before.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn layerbox(root: &Path, args: &[&str], input: &str, interactive: bool) -> (String, i32) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_layerbox"));
    command
        .args(["--engine", "sim", "--root"])
        .arg(root)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if interactive {
        command.env("LAYERBOX_SIM_INTERACTIVE", "1");
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code().unwrap_or(-1))
}

#[test]
fn exec_it_bash_reads_lines_with_the_prompt_and_keeps_state() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let (out, code) = layerbox(
        root,
        &[
            "run",
            "-d",
            "--name",
            "web",
            "debian:bookworm-slim",
            "sleep",
            "600",
        ],
        "",
        false,
    );
    assert_eq!(code, 0, "{out}");
    let (id, _) = layerbox(root, &["ps", "--format", "{{.ID}}"], "", false);
    let id = id.trim();
    let (out, code) = layerbox(
        root,
        &["exec", "-it", "web", "/bin/bash"],
        "cd /etc\nX=hello\necho $X > greeting; cat greeting\nexit 5\n",
        true,
    );
    let p = |cwd: &str| format!("root@{id}:{cwd}# ");
    assert_eq!(
        out,
        format!("{}{}{}hello\n{}", p("/"), p("/etc"), p("/etc"), p("/etc"))
    );
    assert_eq!(code, 5);
    // The write landed in the container's layer; the container still runs.
    let (out, _) = layerbox(root, &["diff", "web"], "", false);
    assert_eq!(out, "C /etc\nA /etc/greeting\n");
    let (out, _) = layerbox(root, &["ps", "--format", "{{.Names}}"], "", false);
    assert_eq!(out, "web\n");
    // End of input ends bash with the last status, saying `exit`.
    let (out, code) = layerbox(root, &["exec", "-it", "web", "bash"], "false\n", true);
    assert_eq!(out, format!("{}{}exit\n", p("/"), p("/")));
    assert_eq!(code, 1);
    // Without a terminal the piped input is one script, as before.
    let (out, code) = layerbox(
        root,
        &["exec", "-i", "web", "sh"],
        "cd /etc; cat greeting\n",
        false,
    );
    assert_eq!((out.as_str(), code), ("hello\n", 0));
}

#[test]
fn run_it_sh_ends_its_container_with_the_shell() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let (out, code) = layerbox(
        root,
        &["run", "-it", "--name", "box", "busybox", "sh"],
        "mkdir /work && cd /work\ntouch made\nexit 7\n",
        true,
    );
    assert!(
        out.contains("Status: Downloaded newer image for busybox:latest\n/ # /work # /work # "),
        "{out}"
    );
    assert_eq!(code, 7);
    let (out, _) = layerbox(root, &["ps", "-a", "--format", "{{.Status}}"], "", false);
    assert!(out.starts_with("Exited (7)"), "{out}");
    let (out, _) = layerbox(root, &["diff", "box"], "", false);
    assert_eq!(out, "A /work\nA /work/made\n");
}

#[test]
fn run_i_sh_without_a_terminal_runs_the_piped_script() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let (out, code) = layerbox(
        root,
        &["run", "-i", "--rm", "busybox", "sh"],
        "echo from stdin\nexit 2\n",
        false,
    );
    assert!(
        out.contains("Status: Downloaded newer image for busybox:latest\nfrom stdin\n"),
        "{out}"
    );
    assert_eq!(code, 2);
    // At the end of its input the shell ends, as docker's `run -i … < /dev/null` does.
    let (_, code) = layerbox(
        root,
        &["run", "-i", "--name", "empty", "busybox", "sh"],
        "",
        false,
    );
    assert_eq!(code, 0);
    let (out, _) = layerbox(
        root,
        &["ps", "-a", "--format", "{{.Names}} {{.Status}}"],
        "",
        false,
    );
    assert!(out.starts_with("empty Exited (0)"), "{out}");
}
