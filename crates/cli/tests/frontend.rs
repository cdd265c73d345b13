//! `layerbox parse` and `layerbox lint` on files, against BuildKit's vectors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn layerbox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layerbox"))
        .args(args)
        .output()
        .unwrap()
}

fn buildkit_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/buildkit/parser/testfiles")
}

fn temp_dockerfile(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("layerbox-frontend-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("Dockerfile");
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn parse_dump_prints_buildkits_result_files_byte_for_byte() {
    let mut checked = 0;
    for case in std::fs::read_dir(buildkit_cases()).unwrap() {
        let dir = case.unwrap().path();
        let out = layerbox(&[
            "parse",
            "-f",
            dir.join("Dockerfile").to_str().unwrap(),
            "--dump",
        ]);
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = std::fs::read(dir.join("result")).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&expected),
            "{}",
            dir.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 33);
}

#[test]
fn parse_json_lists_stages_and_typed_instructions() {
    let file = temp_dockerfile(
        "json",
        "FROM alpine:3.20 AS base\nRUN echo hi\nFROM base\nCOPY --from=base /a /b\n",
    );
    let out = layerbox(&["parse", "-f", file.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stages = value["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    let text = value.to_string();
    assert!(text.contains("\"base\""), "{text}");
}

#[test]
fn a_parse_error_prints_the_diagnostic_and_exits_1() {
    let file = temp_dockerfile("err", "FROM alpine\nCOPY onlyone\n");
    let out = layerbox(&["parse", "-f", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("Dockerfile:2:1: error"), "{err}");
    assert!(
        err.contains("COPY requires at least two arguments"),
        "{err}"
    );
    assert!(err.contains("COPY onlyone"), "{err}");
    assert!(err.contains('^'), "{err}");
}

#[test]
fn lint_prints_findings_with_fixes_and_json() {
    let file = temp_dockerfile(
        "lint",
        "FROM python\nRUN apt-get update\nRUN apt-get install -y curl\n",
    );
    let out = layerbox(&["lint", "-f", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "warnings only exit 0");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("warning["), "{text}");
    assert!(text.contains("help:"), "{text}");
    let out = layerbox(&["lint", "-f", file.to_str().unwrap(), "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert!(findings.iter().any(|f| f["line"] == 1), "{findings:?}");
    assert!(
        findings
            .iter()
            .all(|f| f["message"].is_string() && f["code"].is_string())
    );
}

#[test]
fn missing_and_binary_files_are_clear_errors() {
    let out = layerbox(&["lint", "-f", "/nonexistent/Dockerfile"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/Dockerfile"));
    let file = temp_dockerfile("bin", "");
    std::fs::write(&file, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = layerbox(&["parse", "-f", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not UTF-8"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
