//! Parser vectors: `parser/testfiles*`, `parser/testfile-line` and `derived/parser-*.json`.

use layerbox_core::dockerfile::parser::{
    self, Heredoc, detect_check, detect_syntax, heredocs_from_line, parse, parse_directives,
    parse_heredoc, parse_json_array, parse_name_val, parse_words,
};
use serde_json::Value;

use super::{data, json, read, strings};

#[test]
fn every_positive_case_dumps_byte_for_byte() {
    let mut dirs: Vec<_> = std::fs::read_dir(data("parser/testfiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 33, "the README promises 33 positive cases");
    let mut failures = Vec::new();
    for dir in &dirs {
        let src = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
        let expected = std::fs::read_to_string(dir.join("result")).unwrap();
        match parse(&src) {
            Ok(ast) if ast.dump() == expected => {}
            Ok(ast) => failures.push(format!(
                "{}:\n--- got\n{}--- want\n{expected}",
                dir.display(),
                ast.dump()
            )),
            Err(e) => failures.push(format!("{}: {e}", dir.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn every_negative_case_fails_with_its_message() {
    let cases = [
        ("empty_dockerfile", "file with no instructions"),
        ("only_comments", "file with no instructions"),
        ("env_no_value", "ENV must have two arguments"),
        (
            "shykes-nested-json",
            "when using JSON array syntax, arrays must be comprised of strings only",
        ),
    ];
    let count = std::fs::read_dir(data("parser/testfiles-negative"))
        .unwrap()
        .count();
    assert_eq!(count, cases.len());
    for (case, message) in cases {
        let src = read(&format!("parser/testfiles-negative/{case}/Dockerfile"));
        let err = parse(&src).expect_err(case);
        assert_eq!(err.to_string(), message, "{case}");
    }
}

#[test]
fn line_ranges_of_testfile_line() {
    let v = json("parser-misc.json");
    let v = &v["line_numbers"];
    let ast = parse(&read("parser/testfile-line/Dockerfile")).unwrap();
    let pair = |p: &Value| {
        (
            usize::try_from(p[0].as_u64().unwrap()).unwrap(),
            usize::try_from(p[1].as_u64().unwrap()).unwrap(),
        )
    };
    assert_eq!((ast.start_line, ast.end_line), pair(&v["root"]));
    let got: Vec<_> = ast
        .children
        .iter()
        .map(|c| (c.start_line, c.end_line))
        .collect();
    let want: Vec<_> = v["children"].as_array().unwrap().iter().map(pair).collect();
    assert_eq!(got, want);
}

#[test]
fn empty_continuation_warnings() {
    let v = json("parser-misc.json");
    let v = &v["empty_continuation_warnings"];
    let ast = parse(v["dockerfile"].as_str().unwrap()).unwrap();
    let got: Vec<_> = ast.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(got, strings(&v["expected_short"]));
    for w in &ast.warnings {
        assert_eq!(w.detail, v["detail"].as_str().unwrap());
        assert_eq!(w.code, "NoEmptyContinuation");
    }
}

#[test]
fn over_long_line_is_an_error() {
    let v = json("parser-misc.json");
    let ok = format!("FROM a\nRUN {}\n", "x".repeat(parser::MAX_LINE_LEN - 4));
    assert!(parse(&ok).is_ok());
    let bad = format!("FROM a\nRUN {}\n", "x".repeat(parser::MAX_LINE_LEN - 3));
    let err = parse(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        v["line_too_long"]["error"].as_str().unwrap()
    );
    assert_eq!(err.line(), 2);
}

#[test]
fn directives() {
    let v = json("parser-directives.json");
    for case in v["parse_all"].as_array().unwrap() {
        let got = parse_directives(case["input"].as_str().unwrap()).unwrap();
        let got: Vec<_> = got
            .iter()
            .map(|d| (d.name.clone(), d.value.clone()))
            .collect();
        let want: Vec<_> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_string(),
                    d["value"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "{case}");
    }
    for (key, detect) in [
        ("detect_syntax", detect_syntax as fn(&str) -> _),
        ("parse_directive_check", detect_check),
    ] {
        for case in v[key].as_array().unwrap() {
            let got = detect(case["input"].as_str().unwrap());
            assert_eq!(got.is_some(), case["found"].as_bool().unwrap(), "{case}");
            let Some(got) = got else { continue };
            assert_eq!(got.reference, case["ref"].as_str().unwrap(), "{case}");
            if let Some(cmdline) = case.get("cmdline") {
                assert_eq!(got.cmdline, cmdline.as_str().unwrap(), "{case}");
            }
            if let Some(line) = case.get("line") {
                assert_eq!(got.line as u64, line.as_u64().unwrap(), "{case}");
            }
        }
    }
}

#[test]
fn helpers() {
    let v = json("parser-helpers.json");
    for case in v["parse_words"]["cases"].as_array().unwrap() {
        assert_eq!(
            parse_words(case["input"].as_str().unwrap(), '\\'),
            strings(&case["expected"]),
            "{case}"
        );
    }
    for case in v["json_arrays"]["valid"].as_array().unwrap() {
        let got = parse_json_array(case["input"].as_str().unwrap()).unwrap();
        assert_eq!(got, Some(strings(&case["expected"])), "{case}");
    }
    for input in v["json_arrays"]["invalid_not_string_array"]
        .as_array()
        .unwrap()
    {
        let err = parse_json_array(input.as_str().unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "when using JSON array syntax, arrays must be comprised of strings only"
        );
    }
    for case in v["name_val"]["cases"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        let keyword = case
            .get("instruction")
            .and_then(Value::as_str)
            .unwrap_or("ENV");
        match parse_name_val(input, keyword, '\\') {
            Ok(got) => assert_eq!(got, strings(&case["expected"]), "{case}"),
            Err(e) => assert_eq!(e.to_string(), case["error"].as_str().unwrap(), "{case}"),
        }
    }
}

fn heredoc_json(h: &Heredoc) -> Value {
    serde_json::json!({
        "name": h.name, "content": h.content, "expand": h.expand, "chomp": h.chomp, "fd": h.file_descriptor,
    })
}

#[test]
fn heredocs() {
    let v = json("parser-heredocs.json");
    let extract = &v["extract"];
    let ast = parse(extract["dockerfile"].as_str().unwrap()).unwrap();
    let expected = extract["expected"].as_array().unwrap();
    assert_eq!(ast.children.len(), expected.len() + 1);
    for (node, want) in ast.children[1..].iter().zip(expected) {
        let got: Vec<_> = node.heredocs.iter().map(heredoc_json).collect();
        assert_eq!(&Value::Array(got), want, "{}", node.original);
    }

    let ast = parse(v["json_form_never_heredoc"]["dockerfile"].as_str().unwrap()).unwrap();
    assert_eq!(ast.children.len(), 4);
    assert!(
        ast.children[1..]
            .iter()
            .all(|c| c.heredocs.is_empty() && c.json)
    );

    let words = &v["parse_heredoc_word"];
    for w in words["valid_name_EOF"].as_array().unwrap() {
        let doc = parse_heredoc(w.as_str().unwrap())
            .unwrap()
            .expect("a heredoc");
        assert_eq!(doc.name, "EOF", "{w}");
    }
    for w in words["invalid"].as_array().unwrap() {
        assert!(parse_heredoc(w.as_str().unwrap()).is_err(), "{w}");
    }
    for w in words["not_heredoc"].as_array().unwrap() {
        assert_eq!(parse_heredoc(w.as_str().unwrap()).unwrap(), None, "{w}");
    }
    for case in v["heredocs_from_line"]["cases"].as_array().unwrap() {
        let got: Vec<_> = heredocs_from_line(case["line"].as_str().unwrap())
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect();
        assert_eq!(got, strings(&case["names"]), "{case}");
    }
    let chomp = &v["chomp"];
    assert_eq!(
        parser::chomp(chomp["input"].as_str().unwrap()),
        chomp["expected"].as_str().unwrap()
    );
}
