//! The simulated engine through the native binary: the article's Python example built, run,
//! changed, committed and removed, each command a fresh `layerbox --engine sim` process sharing
//! the state file; the whole transcript is compared with `tests/sim/python.txt`. The clock is
//! pinned (`LAYERBOX_SIM_NOW`, ten seconds later for every command) and the IDs seeded, so the
//! transcript is exact. `LAYERBOX_BLESS=1` rewrites the expected file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

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
];

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/examples/python")
}

#[test]
fn the_python_example_end_to_end() {
    let root = tempfile::tempdir().unwrap();
    let mut transcript = String::new();
    for (i, line) in SCRIPT.iter().enumerate() {
        let args = layerbox_core::cli::split::split_line(line).unwrap();
        let now = T0 + 10 * i64::try_from(i).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_layerbox"))
            .args(["--engine", "sim", "--root"])
            .arg(root.path())
            .args(&args)
            .current_dir(example_dir())
            .env("LAYERBOX_SIM_NOW", now.to_string())
            .env("LAYERBOX_SIM_SEED", "7")
            .output()
            .unwrap();
        let _ = writeln!(transcript, "$ layerbox {line}");
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
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sim/python.txt");
    if std::env::var_os("LAYERBOX_BLESS").is_some() {
        std::fs::write(&expected, &transcript).unwrap();
    }
    let want = std::fs::read_to_string(&expected)
        .expect("tests/sim/python.txt (LAYERBOX_BLESS=1 writes it)");
    assert_eq!(transcript, want);
}
