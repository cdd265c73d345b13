use super::*;

fn findings(src: &str) -> Vec<Diagnostic> {
    lint_source(src, &LintOptions::default())
}

fn codes(src: &str) -> Vec<String> {
    findings(src).into_iter().map(|d| d.code).collect()
}

/// `(code, fires on this, silent on this)`: one positive and one negative case per rule, linted
/// with a `.dockerignore` holding `*.log`.
const CASES: &[(&str, &str, &str)] = &[
    (
        "StageNameCasing",
        "FROM alpine:3 AS Build\n",
        "FROM alpine:3 AS build\n",
    ),
    (
        "FromAsCasing",
        "FROM alpine:3 as build\n",
        "from alpine:3 as build\n",
    ),
    (
        "NoEmptyContinuation",
        "FROM alpine:3\nRUN echo a \\\n\n  b\n",
        "FROM alpine:3\nRUN echo a \\\n# note\n  b\n",
    ),
    (
        "ConsistentInstructionCasing",
        "FROM alpine:3\nrun echo\nUSER app\n",
        "from alpine:3\nrun echo\nuser app\n",
    ),
    (
        "DuplicateStageName",
        "FROM alpine:3 AS a\nFROM alpine:3 AS a\n",
        "FROM alpine:3 AS a\nFROM alpine:3 AS b\n",
    ),
    (
        "ReservedStageName",
        "FROM alpine:3 AS scratch\n",
        "FROM alpine:3 AS base\n",
    ),
    (
        "JSONArgsRecommended",
        "FROM alpine:3\nCMD node server.js\n",
        "FROM alpine:3\nCMD [\"node\", \"server.js\"]\n",
    ),
    (
        "MaintainerDeprecated",
        "FROM alpine:3\nMAINTAINER me\n",
        "FROM alpine:3\nLABEL org.opencontainers.image.authors=me\n",
    ),
    (
        "UndefinedArgInFrom",
        "FROM alpine:$VERSON\n",
        "ARG VERSION=3\nFROM alpine:$VERSION\n",
    ),
    (
        "WorkdirRelativePath",
        "FROM alpine:3\nWORKDIR app\n",
        "FROM alpine:3\nWORKDIR /srv\nWORKDIR app\n",
    ),
    (
        "UndefinedVar",
        "FROM alpine:3\nCOPY $SRC /app/\n",
        "FROM alpine:3\nARG SRC=.\nCOPY $SRC /app/\n",
    ),
    (
        "MultipleInstructionsDisallowed",
        "FROM alpine:3\nCMD [\"a\"]\nCMD [\"b\"]\n",
        "FROM alpine:3\nCMD [\"a\"]\nFROM alpine:3\nCMD [\"b\"]\n",
    ),
    (
        "LegacyKeyValueFormat",
        "FROM alpine:3\nENV MODE production\n",
        "FROM alpine:3\nENV MODE=production\n",
    ),
    (
        "RedundantTargetPlatform",
        "FROM --platform=$TARGETPLATFORM alpine:3\n",
        "FROM --platform=$BUILDPLATFORM alpine:3\n",
    ),
    (
        "SecretsUsedInArgOrEnv",
        "FROM alpine:3\nENV API_KEY=abc\n",
        "FROM alpine:3\nENV PUBLIC_KEY=abc KEYBOARD=us\n",
    ),
    (
        "InvalidDefaultArgInFrom",
        "ARG TAG\nFROM alpine:$TAG\n",
        "ARG TAG=3.20\nFROM alpine:$TAG\n",
    ),
    (
        "FromPlatformFlagConstDisallowed",
        "FROM --platform=linux/amd64 alpine:3\n",
        "FROM --platform=linux/amd64 alpine:3 AS build-amd64\n",
    ),
    (
        "InvalidDefinitionDescription",
        "# the version to use\nARG VERSION=1\nFROM alpine:3\n",
        "# VERSION the version to use\nARG VERSION=1\nFROM alpine:3\n",
    ),
    (
        "ExposeProtoCasing",
        "FROM alpine:3\nEXPOSE 53/UDP\n",
        "FROM alpine:3\nEXPOSE 53/udp\n",
    ),
    (
        "ExposeInvalidFormat",
        "FROM alpine:3\nEXPOSE 8080:80\n",
        "FROM alpine:3\nEXPOSE 80\n",
    ),
    (
        "CopyIgnoredFile",
        "FROM alpine:3\nCOPY debug.log /app/\n",
        "FROM alpine:3\nCOPY app.py /app/\n",
    ),
    (
        "LB001",
        "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
    ),
    (
        "LB002",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "LB003",
        "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        "FROM node:22\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
    ),
    ("LB004", "FROM ubuntu\n", "FROM ubuntu:24.04\n"),
    (
        "LB005",
        "FROM ubuntu:latest\n",
        "FROM ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    ),
    (
        "LB006",
        "FROM alpine:3\nADD app.py /app/\n",
        "FROM alpine:3\nADD rootfs.tar.gz /\n",
    ),
    (
        "LB007",
        "FROM alpine:3\nRUN cd /src && make\n",
        "FROM alpine:3\nWORKDIR /src\nRUN make\n",
    ),
    (
        "LB008",
        "FROM python:3.12\nRUN pip install flask\n",
        "FROM python:3.12\nRUN pip install --no-cache-dir flask\n",
    ),
    (
        "LB009",
        "FROM alpine:3\nCMD [\"sh\"]\n",
        "FROM alpine:3\nUSER 1000\nCMD [\"sh\"]\n",
    ),
    (
        "LB010",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "LB011",
        "FROM debian:12\nRUN apt-get update && apt-get install curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get -y install curl\n",
    ),
    (
        "LB012",
        "FROM alpine:3\nRUN apk add curl\n",
        "FROM alpine:3\nRUN apk add --no-cache curl\n",
    ),
    (
        "LB013",
        "FROM alpine:3\nRUN sudo make install\n",
        "FROM alpine:3\nRUN make install\n",
    ),
    (
        "LB014",
        "FROM alpine:3\nCOPY big.bin /tmp/\nRUN rm /tmp/big.bin\n",
        "FROM alpine:3\nRUN wget -O /tmp/x https://e.x/x && tar xf /tmp/x && rm /tmp/x\n",
    ),
    (
        "LB015",
        "FROM alpine:3\nCOPY app /app\nRUN chown -R 1000:1000 /app\n",
        "FROM alpine:3\nCOPY --chown=1000:1000 app /app\n",
    ),
    (
        "LB016",
        "FROM alpine:3\nADD https://example.com/tool.tar.gz /opt/\n",
        "FROM alpine:3\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /opt/\n",
    ),
    (
        "LB017",
        "FROM alpine:3\nRUN curl -fsSL https://get.example.com | sh\n",
        "FROM alpine:3\nRUN curl -fsSLo install.sh https://get.example.com && sh install.sh\n",
    ),
    (
        "LB018",
        "FROM alpine:3\nCOPY id_rsa /root/.ssh/\n",
        "FROM alpine:3\nCOPY id_rsa.pub /root/.ssh/\n",
    ),
    (
        "LB019",
        "FROM debian:12\nRUN apt-get update && apt-get upgrade -y\n",
        "FROM debian:12.7\n",
    ),
    (
        "LB020",
        "FROM alpine:3\nCOPY . .\n",
        "FROM alpine:3\nWORKDIR /app\nCOPY . .\n",
    ),
];

#[test]
fn every_rule_has_a_positive_and_a_negative_case() {
    for rule in RULES {
        assert!(
            CASES.iter().any(|(code, _, _)| *code == rule.code),
            "no case for {}",
            rule.code
        );
    }
    let options = LintOptions {
        dockerignore: Some(DockerIgnore::parse("*.log\n").unwrap()),
        ..LintOptions::default()
    };
    let codes = |src: &str| -> Vec<String> {
        lint_source(src, &options)
            .into_iter()
            .map(|d| d.code)
            .collect()
    };
    for (code, positive, negative) in CASES {
        assert!(rule(code).is_some(), "unknown rule {code}");
        let found = codes(positive);
        assert!(
            found.iter().any(|c| c == code),
            "{code} should fire on {positive:?}, got {found:?}"
        );
        let found = codes(negative);
        assert!(
            !found.iter().any(|c| c == code),
            "{code} should not fire on {negative:?}, got {found:?}"
        );
    }
}

#[test]
fn rule_table_is_well_formed() {
    let mut seen = BTreeSet::new();
    for rule in RULES {
        assert!(seen.insert(rule.code), "duplicate code {}", rule.code);
        assert!(
            seen.insert(rule.name) || rule.code == rule.name,
            "duplicate name {}",
            rule.name
        );
        assert!(
            rule.explanation.len() > 80,
            "{} needs a real explanation",
            rule.code
        );
        assert!(!rule.fix.is_empty() && !rule.summary.is_empty());
        assert_eq!(rule.buildkit, !rule.code.starts_with("LB"));
    }
    assert!(RULES.len() >= 20);
    assert_eq!(rule("lb003").map(|r| r.name), Some("CopyAllBeforeInstall"));
    assert_eq!(rule("copyallbeforeinstall").map(|r| r.code), Some("LB003"));
}

#[test]
fn buildkit_messages_are_exact() {
    let cases: &[(&str, &str)] = &[
        (
            "FROM alpine:3 AS Build\n",
            "Stage name 'Build' should be lowercase",
        ),
        (
            "FROM alpine:3 as build\n",
            "'as' and 'FROM' keywords' casing do not match",
        ),
        (
            "FROM alpine:3\nrun echo\n",
            "Command 'run' should match the case of the command majority (uppercase)",
        ),
        (
            "FROM alpine:3 AS a\nFROM alpine:3 AS a\n",
            "Duplicate stage name \"a\", stage names should be unique",
        ),
        (
            "FROM alpine:3 AS context\n",
            "Stage name should not use the same name as reserved stage \"context\"",
        ),
        (
            "FROM alpine:3\nENTRYPOINT exec app\n",
            "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals",
        ),
        (
            "FROM alpine:3\nMAINTAINER me\n",
            "Maintainer instruction is deprecated in favor of using label",
        ),
        (
            "ARG VERSION=1\nFROM alpine:$VERSON\n",
            "FROM argument 'VERSON' is not declared (did you mean VERSION?)",
        ),
        (
            "FROM alpine:3\nWORKDIR app\n",
            "Relative workdir \"app\" can have unexpected results if the base image changes",
        ),
        (
            "FROM alpine:3\nARG NAME=x\nENV GREETING=$NAMES\n",
            "Usage of undefined variable '$NAMES' (did you mean $NAME?)",
        ),
        (
            "FROM alpine:3\nHEALTHCHECK NONE\nHEALTHCHECK CMD true\n",
            "Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used",
        ),
        (
            "FROM alpine:3\nLABEL version 1\n",
            "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format",
        ),
        (
            "FROM --platform=${TARGETPLATFORM} alpine:3\n",
            "Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior",
        ),
        (
            "FROM alpine:3\nARG GITHUB_TOKEN\n",
            "Do not use ARG or ENV instructions for sensitive data (ARG \"GITHUB_TOKEN\")",
        ),
        (
            "ARG IMAGE\nFROM $IMAGE\n",
            "Default value for ARG $IMAGE results in empty or invalid base image name",
        ),
        (
            "FROM --platform=linux/arm64 alpine:3\n",
            "FROM --platform flag should not use constant value \"linux/arm64\"",
        ),
        (
            "FROM alpine:3\nEXPOSE 80/TCP\n",
            "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
        ),
        (
            "FROM alpine:3\nEXPOSE 127.0.0.1:80:80\n",
            "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
        ),
        (
            "# the base image\nFROM alpine:3 AS base\n",
            "Comment for FROM should follow the format: `# base <description>`",
        ),
    ];
    for (src, message) in cases {
        let all = findings(src);
        assert!(
            all.iter().any(|d| d.message == *message),
            "{src:?}: expected {message:?}, got {all:#?}"
        );
    }
}

#[test]
fn run_heredocs_are_linted_as_shell() {
    let src = "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n";
    let all = findings(src);
    let lb002 = all
        .iter()
        .find(|d| d.code == "LB002")
        .expect("lists not removed inside the heredoc");
    assert_eq!((lb002.line, lb002.column), (5, 1));
    assert!(
        !all.iter().any(|d| d.code == "LB001"),
        "update and install share the heredoc RUN"
    );

    // `bash <<EOF` runs the body too; `cat <<EOF` only writes data.
    assert!(codes("FROM debian:12\nRUN bash <<EOF\ncd /tmp\nEOF\n").contains(&"LB007".to_owned()));
    assert!(
        !codes("FROM debian:12\nRUN cat <<EOF > /etc/motd\ncd /tmp\nEOF\n")
            .contains(&"LB007".to_owned())
    );
    // A shebang naming another interpreter is not shell.
    assert!(!codes("FROM python:3.12\nRUN <<EOF\n#!/usr/bin/env python3\nimport os; os.system('cd /')\nEOF\n").contains(&"LB007".to_owned()));
    assert!(
        codes("FROM debian:12\nRUN <<EOF\n#!/bin/bash\ncd /tmp\nEOF\n")
            .contains(&"LB007".to_owned())
    );
}

#[test]
fn cache_mounts_make_cache_advice_moot() {
    let apt = "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update && apt-get install -y --no-install-recommends curl\n";
    assert!(!codes(apt).contains(&"LB002".to_owned()));
    let pip = "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n";
    assert!(!codes(pip).contains(&"LB008".to_owned()));
    let apk = "FROM alpine:3\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n";
    assert!(!codes(apk).contains(&"LB012".to_owned()));
    // A bind mount is not a cache.
    let bind =
        "FROM python:3.12\nRUN --mount=type=bind,target=/root/.cache/pip pip install flask\n";
    assert!(codes(bind).contains(&"LB008".to_owned()));
}

#[test]
fn exec_form_sh_c_is_linted() {
    assert!(
        codes("FROM alpine:3\nRUN [\"sh\", \"-c\", \"cd /x && make\"]\n")
            .contains(&"LB007".to_owned())
    );
    assert!(!codes("FROM alpine:3\nRUN [\"cd\", \"/x\"]\n").contains(&"LB013".to_owned()));
}

#[test]
fn size_rules_only_apply_to_shipped_stages() {
    let src =
        "FROM python:3.12 AS build\nRUN pip install build\nFROM python:3.12-slim\nUSER 1000\n";
    assert!(!codes(src).contains(&"LB008".to_owned()));
    let src = "FROM python:3.12 AS base\nRUN pip install flask\nFROM base\nUSER 1000\n";
    assert!(codes(src).contains(&"LB008".to_owned()));
}

#[test]
fn stages_are_not_images() {
    let all = codes("FROM golang:1.23 AS build\nFROM build\nUSER 1000\n");
    assert!(!all.contains(&"LB004".to_owned()));
    assert!(!codes("FROM scratch\nUSER 1000\n").contains(&"LB004".to_owned()));
}

#[test]
fn root_user_is_reported_on_the_user_line() {
    let all = findings("FROM alpine:3\nUSER app\nRUN id\nUSER root\n");
    let d = all.iter().find(|d| d.code == "LB009").unwrap();
    assert_eq!(d.line, 4);
    assert_eq!(
        d.message,
        "the last USER is `root`: the container runs as root"
    );
    assert!(!codes("FROM gcr.io/distroless/static:nonroot\n").contains(&"LB009".to_owned()));
}

#[test]
fn check_directive_skips_and_escalates() {
    let src = "# check=skip=JSONArgsRecommended,LB009\nFROM alpine:3\nCMD echo hi\n";
    let found = codes(src);
    assert!(!found.contains(&"JSONArgsRecommended".to_owned()));
    assert!(!found.contains(&"LB009".to_owned()));
    assert!(codes("# check=skip=all\nFROM ubuntu\nCMD x\n").is_empty());
    let all = findings("# check=error=true\nFROM alpine:3\nMAINTAINER me\n");
    assert!(all.iter().all(|d| d.severity == Severity::Error) && !all.is_empty());
    let options = LintOptions {
        skip: vec!["RunAsRoot".into()],
        ..LintOptions::default()
    };
    assert!(
        !lint_source("FROM alpine:3\n", &options)
            .iter()
            .any(|d| d.code == "LB009")
    );
}

#[test]
fn copy_ignored_file_uses_the_dockerignore() {
    let options = LintOptions {
        dockerignore: Some(DockerIgnore::parse("secrets\n*.log\n!keep.log\n").unwrap()),
        ..LintOptions::default()
    };
    let src = "FROM alpine:3\nWORKDIR /app\nCOPY secrets/db.txt keep.log debug.log ./\nCOPY --from=build secrets ./\nUSER 1\n";
    let all = lint_source(src, &options);
    let messages: Vec<&str> = all
        .iter()
        .filter(|d| d.code == "CopyIgnoredFile")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "Attempting to Copy file \"secrets/db.txt\" that is excluded by .dockerignore",
            "Attempting to Copy file \"debug.log\" that is excluded by .dockerignore",
        ]
    );
}

#[test]
fn diagnostics_point_at_the_command() {
    let src = "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends curl\n";
    let d = findings(src)
        .into_iter()
        .find(|d| d.code == "LB002")
        .unwrap();
    assert_eq!((d.line, d.column, d.end_column), (3, 5, 20));
    assert_eq!(&src[d.span.clone()], "apt-get install");
    assert!(
        d.explanation
            .as_deref()
            .is_some_and(|e| e.contains("whiteout"))
    );
}

#[test]
fn parse_errors_become_diagnostics() {
    let all = findings("FROM alpine\nRUN <<EOF\necho\n");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].severity, Severity::Error);
    assert_eq!(all[0].message, "unterminated heredoc");
    let all = findings("FROM alpine\nRUN --mont=type=cache,target=/x true\n");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].message, "unknown flag: --mont (did you mean mount?)");
    assert_eq!(all[0].line, 2);
    // The AST can still be linted while one instruction is wrong.
    let src = "FROM alpine\nRUN --mont=x true\nRUN sudo true\n";
    let ast = crate::dockerfile::parser::parse(src).unwrap();
    assert!(
        lint_ast(&ast, src, &LintOptions::default())
            .iter()
            .any(|d| d.code == "LB013")
    );
}

#[test]
fn helpers() {
    assert!(
        is_secret_key("AWS_SECRET_ACCESS_KEY")
            && is_secret_key("apikey")
            && is_secret_key("db_password")
    );
    assert!(!is_secret_key("PUBLIC_TOKEN") && !is_secret_key("MONKEY") && !is_secret_key("PATH"));
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(
        suggest("VERSON", ["VERSION", "OTHER"].into_iter()),
        Some("VERSION")
    );
    assert!(
        valid_reference("alpine:3.20")
            && valid_reference(
                "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            )
    );
    assert!(
        !valid_reference("alpine:")
            && !valid_reference("")
            && !valid_reference(":3")
            && !valid_reference("a:-x86")
    );
    assert_eq!(referenced_vars("${A}/$B_c:${D:-x}"), ["A", "B_c", "D"]);
    assert!(
        is_git("https://github.com/moby/buildkit.git#v0.12") && !is_git("https://example.com/x")
    );
    assert_eq!(find_word("RUN xapt apt", "apt"), Some(9));
}

#[test]
fn never_panics_and_spans_stay_in_the_source() {
    let mut inputs: Vec<String> = CASES
        .iter()
        .flat_map(|(_, p, n)| [(*p).to_owned(), (*n).to_owned()])
        .collect();
    inputs.push("FROM é:ü AS ß\nRUN <<ÉOF\nçd /x && sudo apt-get install ü\nÉOF\nCOPY \"\" \"\"\nRUN \"\" && cd \"\"\n".to_owned());
    inputs.push("FROM a\nONBUILD RUN cd /x\nRUN [\"sh\", \"-c\"]\nRUN [\"\"]\nCOPY\nADD x\nEXPOSE\nENV\nUSER\n".to_owned());
    let options = LintOptions {
        dockerignore: Some(DockerIgnore::parse("*\n").unwrap()),
        ..LintOptions::default()
    };
    for input in &inputs {
        for (cut, _) in input.char_indices().chain([(input.len(), ' ')]) {
            let src = &input[..cut];
            for d in lint_source(src, &options) {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= src.len(),
                    "{src:?}: {d:?}"
                );
                assert!(src.is_char_boundary(d.span.start) && src.is_char_boundary(d.span.end));
                let _ = d.render(
                    "Dockerfile",
                    src,
                    &crate::dockerfile::diagnostic::RenderOptions::default(),
                );
            }
        }
    }
}

#[test]
fn cleanup_in_its_own_run_is_flagged_even_without_copy() {
    let src = "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\nRUN apt-get purge -y gcc && apt-get autoremove -y\n";
    let d = findings(src)
        .into_iter()
        .find(|d| d.code == "LB014")
        .unwrap();
    assert_eq!(d.line, 3);
    // chown of base-image files alone is not the copy-up lesson.
    assert!(!codes("FROM alpine:3\nRUN chown -R 1000 /var/log\n").contains(&"LB015".to_owned()));
}

#[test]
fn buildkit_dispatch_details() {
    // Messages name the instruction as written.
    let all = findings("from alpine:3\ncmd echo a\ncmd echo b\nuser 1\n");
    let messages: Vec<&str> = all.iter().map(|d| d.message.as_str()).collect();
    assert!(messages.contains(
        &"JSON arguments recommended for cmd to prevent unintended behavior related to OS signals"
    ));
    assert!(messages.contains(&"Multiple cmd instructions should not be used in the same stage because only the last one will be used"));
    // A SHELL in the parent stage counts.
    assert!(
        !codes("FROM alpine:3 AS base\nSHELL [\"/bin/ash\", \"-c\"]\nFROM base\nCMD echo\n")
            .contains(&"JSONArgsRecommended".to_owned())
    );
    // Only the first WORKDIR is checked.
    let all = findings("FROM alpine:3\nWORKDIR a\nWORKDIR b\n");
    assert_eq!(
        all.iter()
            .filter(|d| d.code == "WorkdirRelativePath")
            .count(),
        1
    );
    // Predefined platform and proxy args are not undefined variables.
    assert!(
        !codes("FROM alpine:3\nENV P=$TARGETPLATFORM Q=$HTTP_PROXY\n")
            .contains(&"UndefinedVar".to_owned())
    );
    // Meta ARGs are not counted for casing.
    assert!(
        !codes("ARG V=1\narg W=2\nfrom alpine:3\nrun true\n")
            .contains(&"ConsistentInstructionCasing".to_owned())
    );
    // Invalid defaults are judged by docker's reference grammar.
    assert!(codes("ARG V\nFROM alpine:$V-x86\n").contains(&"InvalidDefaultArgInFrom".to_owned()));
}

#[test]
fn onbuild_triggers_are_linted() {
    let src = "FROM alpine:3\nONBUILD RUN cd /src && sudo make\nONBUILD ADD app.py /app/\nUSER 1\n";
    let all = findings(src);
    for code in ["LB007", "LB013", "LB006"] {
        let d = all
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} in {all:#?}"));
        assert!(d.line == 2 || d.line == 3);
    }
    let d = all.iter().find(|d| d.code == "LB007").unwrap();
    assert_eq!(&src[d.span.clone()], "cd /src");
    assert!(codes("FROM alpine:3\nONBUILD RUN make\nONBUILD COPY . /app/\nUSER 1\n").is_empty());
    // Heredoc triggers too.
    assert!(
        codes("FROM alpine:3\nONBUILD RUN <<EOF\ncd /x\nEOF\nUSER 1\n")
            .contains(&"LB007".to_owned())
    );
}

#[test]
fn check_comments_silence_the_next_instruction() {
    let src =
        "FROM alpine:3\n# check=skip=JSONArgsRecommended\nCMD echo a\nENTRYPOINT echo b\nUSER 1\n";
    let all = findings(src);
    let json: Vec<usize> = all
        .iter()
        .filter(|d| d.code == "JSONArgsRecommended")
        .map(|d| d.line)
        .collect();
    assert_eq!(json, [4]);
    assert!(codes("FROM alpine:3\n# check=skip=all\nRUN sudo true\nUSER 1\n").is_empty());
    // A rule skipped elsewhere is still reported.
    assert!(
        codes("FROM alpine:3\n# check=skip=LB007\nRUN sudo true\nUSER 1\n")
            .contains(&"LB013".to_owned())
    );
}

#[test]
fn rules_serialise_for_the_playground() {
    let json = serde_json::to_value(rule("LB002").unwrap()).unwrap();
    assert_eq!(json["code"], "LB002");
    assert_eq!(json["severity"], "warning");
    assert!(json["explanation"].as_str().unwrap().contains("whiteout"));
}

#[test]
fn undefined_vars_in_run_mounts_only() {
    let all = findings(
        "FROM alpine:3\nRUN --mount=type=cache,target=$CACHE_DIR echo $NOT_CHECKED\nUSER 1\n",
    );
    let vars: Vec<&str> = all
        .iter()
        .filter(|d| d.code == "UndefinedVar")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(vars, ["Usage of undefined variable '$CACHE_DIR'"]);
}
