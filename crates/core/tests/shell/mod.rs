//! The simulated shell on a corpus of real RUN lines: each runs on a fresh view of a Debian-like
//! tree; the status, output and changes must match the reviewed golden file, and no line may
//! hit a limit, miss a utility or fail to parse.

mod bash;
pub mod corpus;

use std::fmt::Write as _;
use std::sync::Arc;

use layerbox_core::fs::{LayerStack, UnionFs};
use layerbox_core::sim::shell::{Env, Limits, Lookup, Registry, run_script};

#[test]
fn run_lines_match_the_golden_file() {
    let lines = corpus::run_lines();
    assert!(lines.len() >= 150, "the corpus has {} lines", lines.len());
    let stack = LayerStack::from_layers([Arc::new(corpus::base_tree())]).unwrap();
    let registry = Registry::with_builtins();
    let mut env = Env {
        lookup: Lookup::Registry,
        now: 1_700_000_000,
        ..Env::default()
    };
    env.vars.insert("HOSTNAME".into(), "buildkitsandbox".into());
    let mut report = String::new();
    let mut problems = Vec::new();
    for (_, script) in &lines {
        let mut fs = UnionFs::new(stack.clone());
        let out = run_script(&mut fs, &env, script, &registry, &Limits::default());
        let stderr = String::from_utf8_lossy(&out.stderr()).into_owned();
        if out.limit.is_some()
            || stderr.contains("not simulated")
            || stderr.contains("Syntax error")
        {
            problems.push(format!("{script}: {stderr}"));
        }
        let changes: Vec<String> = fs.changes().iter().map(ToString::to_string).collect();
        let _ = writeln!(report, "== {}", script.replace('\n', "<NL>"));
        let _ = writeln!(report, "status: {}", out.status);
        for (label, text) in [
            (
                "stdout",
                String::from_utf8_lossy(&out.stdout()).into_owned(),
            ),
            ("stderr", stderr),
            ("changes", changes.join("\n")),
        ] {
            if !text.is_empty() {
                let _ = writeln!(report, "{label}:\n{}", text.trim_end_matches('\n'));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let golden = corpus::data_dir().join("run_lines.golden");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &report).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if expected != report {
        let first = expected
            .lines()
            .zip(report.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let context: Vec<&str> = report
            .lines()
            .skip(first.saturating_sub(3))
            .take(8)
            .collect();
        panic!(
            "the corpus output differs from run_lines.golden at line {}:\n{}\nhint: review and rerun with UPDATE_GOLDEN=1",
            first + 1,
            context.join("\n")
        );
    }
}
