//! Variable lexer vectors: `shell/envVarTest`, `shell/wordsTest`, `derived/shell-*.json`.

use std::collections::BTreeMap;

use layerbox_core::dockerfile::expand::{
    Lexer, Pattern, env_from_list, reverse_pattern, reverse_string,
};
use serde_json::Value;

use super::{json, read, strings};

fn env_of(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect(),
        Value::Array(_) => env_from_list(&strings(v)),
        _ => panic!("bad env {v}"),
    }
}

#[test]
fn env_var_test() {
    let env = env_from_list(&["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]);
    let lex = Lexer::new('\\');
    let mut checked = 0;
    for line in read("shell/envVarTest").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [platform, input, expected] = fields[..] else {
            panic!("bad line {line:?}")
        };
        if platform == "W" {
            continue; // Windows only: case-insensitive variable names
        }
        let got = lex.process_word(input, &env);
        if expected == "error" {
            assert!(got.is_err(), "{input:?} should fail, got {got:?}");
        } else {
            assert_eq!(got.as_deref(), Ok(expected), "{input:?}");
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} vectors");
}

#[test]
fn words_test() {
    let mut env: Vec<(String, String)> = Vec::new();
    let lex = Lexer::new('\\');
    let mut checked = 0;
    for line in read("shell/wordsTest").lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(entry) = line.strip_prefix("ENV ") {
            let (k, v) = entry.trim_start().split_once('=').unwrap();
            env.push((k.to_string(), v.to_string()));
            continue;
        }
        let (input, expected) = line.split_once('|').unwrap();
        let (input, expected) = (input.trim(), expected.trim_start());
        let got = lex.process_words(input, &env);
        if expected == "error" {
            assert!(got.is_err(), "{input:?} should fail, got {got:?}");
        } else {
            let want: Vec<String> = expected.split(',').map(str::to_string).collect();
            assert_eq!(got, Ok(want), "{input:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 24);
}

#[test]
fn process_word_with_matches() {
    let v = json("shell-process-word.json");
    let lex = Lexer::new('\\');
    for case in v["process_word"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        let got = lex.process(input, &env_of(&case["env"]));
        if case.get("error").is_some() {
            // The upstream test stops at the error; matched/unmatched are not checked there.
            assert!(got.is_err(), "{case}");
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(got.result, case["expected"].as_str().unwrap(), "{case}");
        let set = |k: &str| {
            strings(&case[k])
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(got.matched, set("matched"), "{case}");
        assert_eq!(got.unmatched, set("unmatched"), "{case}");
    }
    for case in v["mandatory_vars"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["platform_filename"].as_array().unwrap())
    {
        let got = lex.process_word(case["input"].as_str().unwrap(), &env_of(&case["env"]));
        match (case.get("expected"), case.get("error_contains")) {
            (Some(want), _) => assert_eq!(got.as_deref(), Ok(want.as_str().unwrap()), "{case}"),
            (None, Some(msg)) => {
                let err = got.unwrap_err().to_string();
                assert!(err.contains(msg.as_str().unwrap()), "{case}: {err}");
            }
            (None, None) => panic!("case without expectation: {case}"),
        }
    }
    for case in v["env_list_lookup"]["cases"].as_array().unwrap() {
        let env = env_from_list(&strings(&case["env"]));
        let key = case["key"].as_str().unwrap();
        assert_eq!(
            env.get(key).map_or("", String::as_str),
            case["expected"].as_str().unwrap(),
            "{case}"
        );
    }
}

#[test]
fn error_messages() {
    let lex = Lexer::new('\\');
    let env = env_from_list(&["FOO=xx"]);
    for (input, message) in [
        ("${BAR:?msg}x", "BAR: msg"),
        ("${BAR?}", "BAR: is not allowed to be unset"),
        ("${}", "syntax error: bad substitution"),
        ("${", "syntax error: missing '}'"),
        ("${FOO:-x", "syntax error: missing '}'"),
        ("${FOO//x", "syntax error: missing '/' in ${}"),
        ("${FOO:=x}", "unsupported modifier (:=) in substitution"),
        ("${FOO:#x}", "unsupported modifier (:#) in substitution"),
        ("${.}", "unsupported modifier (.) in substitution"),
        (
            "${FOO#\\x}",
            "invalid pattern (\\x) in substitution: invalid escape '\\x'",
        ),
        (
            "'a",
            "unexpected end of statement while looking for matching single-quote",
        ),
        (
            "\"a\\",
            "unexpected end of statement while looking for matching double-quote",
        ),
    ] {
        let err = lex.process_word(input, &env).expect_err(input);
        assert_eq!(err.kind.to_string(), message, "{input}");
        assert_eq!(
            err.to_string(),
            format!(
                "failed to process \"{}\": {message}",
                input.replace('\\', "\\\\").replace('"', "\\\"")
            )
        );
    }
}

#[test]
fn patterns() {
    let v = json("shell-patterns.json");
    for case in v["to_regex_anchored_greedy"].as_array().unwrap() {
        let p = Pattern::parse(case["pattern"].as_str().unwrap(), true).unwrap();
        assert_eq!(p.to_regex(true), case["regex"].as_str().unwrap(), "{case}");
    }
    for p in v["invalid"].as_array().unwrap() {
        assert!(Pattern::parse(p.as_str().unwrap(), true).is_err(), "{p}");
    }
    for case in v["reverse_pattern"].as_array().unwrap() {
        assert_eq!(
            reverse_pattern(case["pattern"].as_str().unwrap()),
            case["expected"].as_str().unwrap(),
            "{case}"
        );
    }
    for case in v["reverse_string"].as_array().unwrap() {
        assert_eq!(
            reverse_string(case["input"].as_str().unwrap()),
            case["expected"].as_str().unwrap(),
            "{case}"
        );
    }
}
