//! Instruction vectors: `derived/instructions-*.json` and `derived/expose-ports.json`.

use layerbox_core::dockerfile::instructions::bflag::{BFlags, FlagValue};
use layerbox_core::dockerfile::instructions::expose::parse_port_spec;
use layerbox_core::dockerfile::instructions::{Instruction, Parsed, Stage, parse_instruction};
use layerbox_core::dockerfile::{self, parser};
use serde_json::Value;

use super::{json, strings};

fn first(src: &str) -> Result<Parsed, String> {
    let ast = parser::parse(src).map_err(|e| e.to_string())?;
    parse_instruction(&ast.children[0], src).map_err(|e| e.to_string())
}

#[test]
fn instruction_errors() {
    let v = json("instructions-errors.json");
    let cases = v["cases"].as_array().unwrap();
    for case in cases {
        let src = case["dockerfile"].as_str().unwrap();
        let err = first(src).expect_err(src);
        if let Some(exact) = case.get("error") {
            assert_eq!(err, exact.as_str().unwrap(), "{src:?}");
        } else {
            let part = case["error_contains"].as_str().unwrap();
            assert!(err.contains(part), "{src:?}: {err}");
        }
    }

    let Ok(Parsed::Instruction(Instruction::Healthcheck(h))) = first("HEALTHCHECK CMD hello world")
    else {
        panic!()
    };
    let hc = &v["healthcheck_cmd"];
    assert_eq!(h.health.test, strings(&hc["test"]));

    for case in v["opt_interval"].as_array().unwrap() {
        let src = format!(
            "HEALTHCHECK --interval={} CMD x",
            case["value"].as_str().unwrap()
        );
        match (first(&src), case.get("error_contains")) {
            (Err(e), Some(part)) => assert!(e.contains(part.as_str().unwrap()), "{src}: {e}"),
            (Ok(_), None) => assert!(case["ok"].as_bool().unwrap()),
            (got, _) => panic!("{src}: {got:?}"),
        }
    }

    let run = &v["run_flags_used"];
    let Ok(Parsed::Instruction(Instruction::Run(r))) = first(run["dockerfile"].as_str().unwrap())
    else {
        panic!()
    };
    assert_eq!(r.flags_used, strings(&run["flags_used"]));
}

#[test]
fn heredoc_sources_and_commands() {
    let v = json("instructions-heredocs.json");
    for case in v["copy"].as_array().unwrap() {
        let src = case["dockerfile"].as_str().unwrap();
        let Ok(Parsed::Instruction(Instruction::Copy(c))) = first(src) else {
            panic!("{src}")
        };
        assert_eq!(c.sources.dest_path, case["dest"].as_str().unwrap(), "{src}");
        assert_eq!(
            c.sources.source_paths,
            strings(&case["source_paths"]),
            "{src}"
        );
        let got: Vec<Value> = c
            .sources
            .source_contents
            .iter()
            .map(|s| serde_json::json!({"path": s.path, "data": s.data, "expand": s.expand}))
            .collect();
        assert_eq!(Value::Array(got), case["source_contents"], "{src}");
    }
    for case in v["run"].as_array().unwrap() {
        let src = case["dockerfile"].as_str().unwrap();
        let Ok(Parsed::Instruction(Instruction::Run(r))) = first(src) else {
            panic!("{src}")
        };
        assert_eq!(
            r.cmd.prepend_shell,
            case["prepend_shell"].as_bool().unwrap(),
            "{src}"
        );
        assert_eq!(r.cmd.cmd_line, strings(&case["cmdline"]), "{src}");
        let got: Vec<Value> = r
            .cmd
            .files
            .iter()
            .map(|f| serde_json::json!({"name": f.name, "data": f.data, "chomp": f.chomp}))
            .collect();
        assert_eq!(Value::Array(got), case["files"], "{src}");
    }
}

#[test]
fn builder_flags() {
    let v = json("instructions-flags.json");
    for case in v["cases"].as_array().unwrap() {
        let mut flags = BFlags::new(&strings(&case["args"]));
        for def in case["defined"].as_array().unwrap() {
            let name = def[0].as_str().unwrap();
            match def[1].as_str().unwrap() {
                "bool" => flags.add_bool(name, def[2].as_bool().unwrap()),
                "string" => flags.add_string(name, def[2].as_str().unwrap()),
                other => panic!("unknown flag type {other}"),
            }
        }
        let result = flags.parse();
        if !case["ok"].as_bool().unwrap() {
            let err = result.expect_err(&case.to_string());
            assert_eq!(err.to_string(), case["error"].as_str().unwrap());
            continue;
        }
        result.unwrap_or_else(|e| panic!("{case}: {e}"));
        if let Some(values) = case.get("values").and_then(Value::as_object) {
            for (name, want) in values {
                let got = match flags.value(name) {
                    Some(FlagValue::Bool(b)) => Value::Bool(*b),
                    Some(FlagValue::String(s)) => Value::String(s.clone()),
                    other => panic!("{name}: {other:?}"),
                };
                assert_eq!(&got, want, "{case}");
            }
        }
        if let Some(used) = case.get("used") {
            let mut got = flags.used().to_vec();
            got.sort();
            let mut want = strings(used);
            want.sort();
            assert_eq!(got, want, "{case}");
        }
    }
}

#[test]
fn expose_ports() {
    let v = json("expose-ports.json");
    for case in v["errors"].as_array().unwrap() {
        let spec = case["spec"].as_str().unwrap();
        let err = parse_port_spec(spec).expect_err(spec);
        if let Some(msg) = case.get("error") {
            assert_eq!(err.to_string(), msg.as_str().unwrap());
        }
    }
    for case in v["ok"].as_array().unwrap() {
        let specs = match case.get("spec") {
            Some(s) => vec![s.as_str().unwrap().to_string()],
            None => strings(&case["specs"]),
        };
        let mut got = Vec::new();
        for spec in &specs {
            got.extend(parse_port_spec(spec).unwrap_or_else(|e| panic!("{spec}: {e}")));
        }
        assert_eq!(got, strings(&case["expected"]), "{case}");
    }
}

#[test]
fn whole_files_become_stages() {
    let src = "ARG BASE=alpine\n# build the thing\nFROM $BASE AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n";
    let df = dockerfile::parse(src).unwrap();
    assert_eq!(df.meta_args.len(), 1);
    assert_eq!(df.stages.len(), 2);
    assert_eq!(df.stages[0].comment, "the thing");
    let Instruction::Copy(c) = &df.stages[1].instructions[0] else {
        panic!()
    };
    assert_eq!(c.from, "build");
    assert_eq!(c.meta.location.line, 6);

    // The typed form serialises for `layerbox parse --json` and the browser.
    let json = serde_json::to_value(&df).unwrap();
    assert_eq!(json["stages"][0]["instructions"][0]["instruction"], "RUN");
    assert_eq!(json["stages"][1]["instructions"][0]["from"], "build");
    assert_eq!(json["stages"][0]["meta"]["location"]["line"], 3);
    let back: Vec<Stage> = serde_json::from_value(json["stages"].clone()).unwrap();
    assert_eq!(back, df.stages);

    let err = dockerfile::parse("ARG A=1\n").unwrap_err();
    assert_eq!(err.to_string(), "dockerfile contains no stages to build");
    let err = dockerfile::parse("RUN x\nFROM a\n").unwrap_err();
    assert_eq!(err.to_string(), "no build stage in current context");
    let err = dockerfile::parse("FROM a\n\nBADCMD x\n").unwrap_err();
    let dockerfile::Error::Instruction(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        e.reported(),
        "dockerfile parse error on line 3: unknown instruction: BADCMD"
    );
}

#[test]
fn every_positive_testfile_converts_or_fails_like_buildkit() {
    // The testfiles are parser vectors; at the instruction level some are invalid on purpose
    // (unknown instructions, flags the instruction does not accept). Every file must either
    // convert or fail with an instruction error (never a panic, never a parse error).
    let dir = super::data("parser/testfiles");
    let mut converted = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path().join("Dockerfile")).unwrap();
        match dockerfile::parse(&src) {
            Ok(_) => converted += 1,
            Err(dockerfile::Error::Instruction(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(converted >= 20, "only {converted} testfiles convert");
}
