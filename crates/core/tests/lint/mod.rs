//! Golden tests of lint: every folder under `tests/data/lint` holds a `Dockerfile` (and
//! optionally a `.dockerignore`); its findings, rendered as in the terminal, must equal
//! `expected.txt`, and as JSON for the editor, `expected.json`. A folder without both expected
//! files fails. Run with `UPDATE_GOLDEN=1` to rewrite them after an intended change.

use std::path::{Path, PathBuf};

use layerbox_core::dockerfile::diagnostic::{Diagnostic, RenderOptions, render_all};
use layerbox_core::dockerfile::ignore::DockerIgnore;
use layerbox_core::dockerfile::lint::{LintOptions, lint_source};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn lint_case(dir: &Path) -> (String, Vec<Diagnostic>) {
    let source = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let dockerignore = std::fs::read_to_string(dir.join(".dockerignore"))
        .ok()
        .map(|text| DockerIgnore::parse(&text).unwrap());
    let options = LintOptions {
        dockerignore,
        ..LintOptions::default()
    };
    let findings = lint_source(&source, &options);
    (source, findings)
}

fn check(dir: &Path, file: &str, actual: &str) {
    let path = dir.join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{} differs", path.display());
}

#[test]
fn lint_golden_files() {
    let cases = cases();
    assert!(cases.len() >= 5, "golden cases are missing");
    for dir in cases {
        let (source, findings) = lint_case(&dir);
        let text = render_all(&findings, "Dockerfile", &source, &RenderOptions::default());
        check(&dir, "expected.txt", &text);
        let json = serde_json::to_string_pretty(&findings).unwrap() + "\n";
        check(&dir, "expected.json", &json);
        let back: Vec<Diagnostic> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, findings);
    }
}

#[test]
fn the_python_example_golden() {
    // The playground's example Dockerfile is linted where it lives, not copied here.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint-examples/python");
    let source = layerbox_core::examples::python().dockerfile();
    let findings = lint_source(source, &LintOptions::default());
    let text = render_all(&findings, "Dockerfile", source, &RenderOptions::default());
    check(&dir, "expected.txt", &text);
    let codes: Vec<&str> = findings.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["LB009", "LB003", "LegacyKeyValueFormat"]);
}

#[test]
fn a_clean_dockerfile_has_no_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint/multistage-clean");
    let (_, findings) = lint_case(&dir);
    assert_eq!(findings, []);
}
