//! The simulated engine through the native binary: the article's Python example built, run,
//! changed, committed and removed, each command a fresh `layerbox --engine sim` process sharing
//! the state file; the whole transcript is compared with `tests/sim/python.txt`. The clock is
//! pinned (`LAYERBOX_SIM_NOW`, ten seconds later for every command) and the IDs seeded, so the
//! transcript is exact. `LAYERBOX_BLESS=1` rewrites the expected file.

mod session;
mod time;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const T0: i64 = 1_764_151_200;

const SCRIPT: &[&str] = &[
    "build -t my-python-app .",
    "images",
    "run -d --name web -p 4000:80 my-python-app",
    "ps",
    "request http://localhost:4000/",
    "exec web sh -c 'echo x > /tmp/f'",
    "diff web",
    "run --name web my-python-app",
    "rm web",
    "commit -m 'add /tmp/f' web my-python-app:v2",
    "history my-python-app:v2",
    "logs web",
    "stop web",
    "ps -a",
    "rm web",
    "rmi my-python-app:v2",
    "run --rm my-python-app nosuchcmd",
    "images",
    "rmi nosuch",
    "run -d --name my_container my-python-app:latest",
    "exec -it my_container /bin/bash",
    "exec -i my_container sh",
    "diff my_container",
    "stop my_container",
    "start my_container",
    "ps",
    "stop my_container",
    "container prune",
    "tag my-python-app my-python-app:v1",
    "rmi -f my-python-app:v1",
    "ps -a",
    "system df",
];

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/examples/python")
}

#[test]
fn the_python_example_end_to_end() {
    // A copy with fixed modification times: a checkout's times would change the image IDs.
    let dir = tempfile::tempdir().unwrap();
    for name in ["Dockerfile", "app.py", "requirements.txt"] {
        std::fs::copy(example_dir().join(name), dir.path().join(name)).unwrap();
    }
    fix_mtimes(dir.path());
    // What `exec -i my_container sh` reads (written after the build: not in the context).
    let stdin = "cd /app && ls && echo changed > app.py && rm requirements.txt\n";
    check_transcript_with(dir.path(), SCRIPT, "python.txt", Some(stdin));
}

/// Sets every file's modification time in `dir` to a fixed instant.
fn fix_mtimes(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
            .unwrap();
    }
}

/// The article's Node app (`http.createServer` … `res.end('Hello World\n')` …
/// `listen(3000)`), run attached with `-p 3000:3000` and then requested.
#[test]
fn the_articles_node_app_answers_hello_world() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        "const http = require('http');\n\nconst hostname = '0.0.0.0';\nconst port = 3000;\n\nconst server = http.createServer((req, res) => {\n  res.statusCode = 200;\n  res.setHeader('Content-Type', 'text/plain');\n  res.end('Hello World\\n');\n});\n\nserver.listen(port, hostname, () => {\n  console.log(`Server running at http://${hostname}:${port}/`);\n});\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM node:14\nWORKDIR /usr/src/app\nCOPY . .\nEXPOSE 3000\nCMD [\"node\", \"app.js\"]\n",
    )
    .unwrap();
    fix_mtimes(dir.path());
    check_transcript(
        dir.path(),
        &[
            "build -q -t my-node-app .",
            // Attached, as docker: it returns when `stop` (below, from another process) ends it.
            "& run -p 3000:3000 my-node-app",
            "request http://localhost:3000",
            "ps",
            "stop humble_perlman",
            "wait humble_perlman",
        ],
        "node.txt",
    );
}

/// `layerbox --engine sim --root ROOT LINE` in `dir` at `now` with seeded IDs.
fn layerbox(root: &Path, dir: &Path, line: &str, now: i64) -> Command {
    let args = layerbox_core::cli::split::split_line(line).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_layerbox"));
    command
        .args(["--engine", "sim", "--root"])
        .arg(root)
        .args(&args)
        .current_dir(dir)
        .env("LAYERBOX_SIM_NOW", now.to_string())
        .env("LAYERBOX_SIM_SEED", "7");
    command
}

/// Whether a container runs under `root`.
fn running(root: &Path, dir: &Path) -> bool {
    let out = layerbox(root, dir, "ps -q", T0).output().unwrap();
    !out.stdout.is_empty()
}

/// Appends a command's output and exit code to the transcript.
fn record(transcript: &mut String, out: &std::process::Output) {
    transcript.push_str(&String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.is_empty() {
        transcript.push_str("[stderr]\n");
        transcript.push_str(&stderr);
    }
    let _ = writeln!(
        transcript,
        "[exit code {}]",
        out.status.code().unwrap_or(-1)
    );
}

/// Runs `script` in `dir`, one fresh process per line (a line `& …` in the background until the
/// end), and compares the transcript with
/// `tests/sim/<expected>`.
fn check_transcript(dir: &Path, script: &[&str], expected: &str) {
    check_transcript_with(dir, script, expected, None);
}

/// [`check_transcript`], with `stdin` written to `dir/stdin.sh` after the first command (the
/// build) for `exec -i` lines to read.
fn check_transcript_with(dir: &Path, script: &[&str], expected: &str, stdin: Option<&str>) {
    let root = tempfile::tempdir().unwrap();
    let mut transcript = String::new();
    let mut background = None;
    for (i, line) in script.iter().enumerate() {
        let now = T0 + 10 * i64::try_from(i).unwrap();
        if let Some(line) = line.strip_prefix("& ") {
            // Started, then given time to start its container (the next line needs it).
            let child = layerbox(root.path(), dir, line, now)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .stdin(Stdio::null())
                .spawn()
                .unwrap();
            while !running(root.path(), dir) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = writeln!(transcript, "$ layerbox {line} &");
            background = Some((line, child));
            continue;
        }
        let out = layerbox(root.path(), dir, line, now)
            .stdin(if line.starts_with("exec -i ") {
                std::fs::File::open(dir.join("stdin.sh"))
                    .map_or_else(|_| Stdio::null(), Stdio::from)
            } else {
                Stdio::null()
            })
            .output()
            .unwrap();
        let _ = writeln!(transcript, "$ layerbox {line}");
        record(&mut transcript, &out);
        if let (0, Some(text)) = (i, stdin) {
            std::fs::write(dir.join("stdin.sh"), text).unwrap();
        }
    }
    if let Some((line, child)) = background {
        let out = child.wait_with_output().unwrap();
        let _ = writeln!(transcript, "[ended] $ layerbox {line} &");
        record(&mut transcript, &out);
    }
    let expected = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sim")
        .join(expected);
    if std::env::var_os("LAYERBOX_BLESS").is_some() {
        std::fs::write(&expected, &transcript).unwrap();
    }
    let want = std::fs::read_to_string(&expected)
        .expect("the expected transcript (LAYERBOX_BLESS=1 writes it)");
    assert_eq!(transcript, want);
}

/// `image layers` on the Python example (built, rebuilt after an edit) and on the apt lesson:
/// layers with their cache outcome, wasted bytes with creator and remover, the score.
#[test]
fn image_layers_of_the_python_example_and_the_apt_lesson() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["Dockerfile", "app.py", "requirements.txt"] {
        std::fs::copy(example_dir().join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(
        dir.path().join("apt.Dockerfile"),
        "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\nRUN rm -rf /var/lib/apt/lists/*\n",
    )
    .unwrap();
    fix_mtimes(dir.path());
    check_transcript(
        dir.path(),
        &[
            "build -q -t my-python-app .",
            "image layers my-python-app",
            "build -q -t my-python-app .",
            "image layers my-python-app",
            "build -q -f apt.Dockerfile -t apt-lesson .",
            "image layers apt-lesson",
            "image layers nosuch",
            "image layers --format yaml apt-lesson",
            "image layers --help",
        ],
        "layers.txt",
    );
}

#[test]
fn hostname_flag_names_the_container_in_both_its_process_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let run = |line: &str| {
        let out = layerbox(&root, dir.path(), line, T0).output().unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // (The first run pulls busybox first, with docker's lines.)
    let out = run("run --name named -h web-1 busybox hostname");
    assert!(
        out.ends_with("Downloaded newer image for busybox:latest\nweb-1\n"),
        "{out}"
    );
    assert_eq!(run("inspect -f {{.Config.Hostname}} named"), "web-1\n");
    // Without -h, the short ID, as docker.
    let id = run("create busybox hostname");
    assert_eq!(
        run(&format!(
            "inspect -f {{{{.Config.Hostname}}}} {}",
            id.trim()
        )),
        format!("{}\n", &id[..12])
    );
}
