//! bash's grammar against dash's: every line of `bash_lines.txt` runs as `/bin/bash -c` and as
//! `/bin/sh -c` (dash) in the simulator, and must give what `bash_lines.golden` records. A
//! second test runs the real shells when this machine has them and checks that the golden
//! file is what they print, so the expectations come from bash and dash themselves.

use std::fmt::Write as _;
use std::path::Path;

use layerbox_core::fs::{LayerStack, UnionFs};
use layerbox_core::sim::shell::{Env, Limits, Registry, run};

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SHELLS: [&str; 2] = ["/bin/bash", "/bin/sh"];

fn lines() -> Vec<String> {
    let text = std::fs::read_to_string(super::corpus::data_dir().join("bash_lines.txt")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn golden() -> String {
    std::fs::read_to_string(super::corpus::data_dir().join("bash_lines.golden")).unwrap_or_default()
}

fn record(report: &mut String, shell: &str, line: &str, status: i32, out: &str, err: &str) {
    let _ = write!(
        report,
        "== {shell} -c {line}\nstatus: {status}\nstdout:\n{out}stderr:\n{err}"
    );
}

/// A tree with the files the lines read, and the shells where `PATH` finds them.
fn sim_fs() -> UnionFs {
    let mut fs = UnionFs::new(LayerStack::new());
    fs.mkdir_all("/etc", 0o755).unwrap();
    fs.mkdir_all("/usr/bin", 0o755).unwrap();
    fs.symlink("usr/bin", "/bin").unwrap();
    for sh in ["bash", "sh", "dash"] {
        fs.write(&format!("/usr/bin/{sh}"), b"\x7fELF", 0o755)
            .unwrap();
    }
    fs.write("/etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", 0o644)
        .unwrap();
    fs.write("/etc/os-release", b"ID=debian\n", 0o644).unwrap();
    fs
}

#[test]
fn bash_and_dash_lines_match_the_golden_file() {
    let registry = Registry::with_builtins();
    let mut env = Env {
        now: 1_700_000_000,
        ..Env::default()
    };
    env.vars.insert("PATH".into(), PATH.into());
    let mut report = String::new();
    for line in lines() {
        for shell in SHELLS {
            let mut fs = sim_fs();
            let argv = [shell.to_owned(), "-c".to_owned(), line.clone()];
            let out = run(&mut fs, &env, &argv, &registry, &Limits::default());
            let (o, e) = (out.stdout(), out.stderr());
            record(
                &mut report,
                shell,
                &line,
                out.status,
                &String::from_utf8_lossy(&o),
                &String::from_utf8_lossy(&e),
            );
        }
    }
    let expected = golden();
    assert!(!expected.is_empty(), "bash_lines.golden is missing");
    let first = expected
        .split("\n== ")
        .zip(report.split("\n== "))
        .find(|(a, b)| a != b);
    assert!(
        first.is_none() && expected == report,
        "the simulator differs from bash_lines.golden:\n{first:#?}"
    );
}

#[test]
fn the_golden_file_is_what_real_bash_and_dash_print() {
    if !Path::new("/bin/bash").exists() || !Path::new("/bin/dash").exists() {
        eprintln!("note: bash or dash is missing here; the golden file is not re-checked");
        return;
    }
    if std::fs::read_link("/bin/sh").is_ok_and(|t| !t.to_string_lossy().ends_with("dash")) {
        eprintln!("note: /bin/sh is not dash here; the golden file is not re-checked");
        return;
    }
    let mut report = String::new();
    for line in lines() {
        for shell in SHELLS {
            let out = std::process::Command::new(shell)
                .args(["-c", &line])
                .current_dir("/")
                .env_clear()
                .env("PATH", PATH)
                .output()
                .unwrap();
            record(
                &mut report,
                shell,
                &line,
                out.status.code().unwrap_or(-1),
                &String::from_utf8_lossy(&out.stdout),
                &String::from_utf8_lossy(&out.stderr),
            );
        }
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(super::corpus::data_dir().join("bash_lines.golden"), &report).unwrap();
    }
    assert_eq!(
        golden(),
        report,
        "hint: rerun with UPDATE_GOLDEN=1 to record them"
    );
}
