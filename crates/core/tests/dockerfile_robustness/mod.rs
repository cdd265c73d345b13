//! Bad and generated input for the Dockerfile front end: never a panic, errors with positions,
//! and a round-trip property (instructions rebuilt from the AST parse to the same dump).
//!
//! The generators are seeded, so every run checks the same inputs.

use layerbox_core::dockerfile::expand::{Lexer, NoEnv};
use layerbox_core::dockerfile::parser::{self, Ast, ParseErrorKind};
use layerbox_core::dockerfile::{self, Error};

use crate::support::Rng;

const PIECES: &[&str] = &[
    "\\",
    "`",
    "\n",
    "\r\n",
    "<<",
    "<<-",
    "EOF",
    "'",
    "\"",
    "$",
    "${",
    "}",
    "{",
    ":-",
    "#",
    "%",
    "/",
    "[",
    "]",
    ",",
    " ",
    "\t",
    "--",
    "=",
    "RUN ",
    "FROM ",
    "COPY ",
    "ONBUILD ",
    "ENV ",
    "ARG ",
    "HEALTHCHECK ",
    "a",
    "é",
    "\u{a0}",
    "\u{0}",
    "# escape=`\n",
    "[\"x\"]",
    "--mount=type=cache,target=/x ",
];

#[test]
fn arbitrary_text_never_panics() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let lex = Lexer::new('\\');
    let raw = Lexer {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset_env: true,
        ..Lexer::new('`')
    };
    for _ in 0..3000 {
        let n = rng.below(40);
        let text: String = (0..n).map(|_| rng.pick(PIECES)).collect();
        if let Err(e) = dockerfile::parse(&text) {
            let span = e.span();
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{text:?}: {e:?}"
            );
            assert!(e.line() >= 1 && !e.code().is_empty());
        }
        let _ = lex.process_words(&text, &NoEnv);
        let _ = raw.process_word(&text, &NoEnv);
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0xdead_beef_0000_0042);
    for _ in 0..2000 {
        let n = rng.below(200);
        let bytes: Vec<u8> = (0..n).map(|_| rng.next().to_le_bytes()[0]).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = dockerfile::parse(&text);
    }
}

const LINES: &[&str] = &[
    "FROM alpine:3.19 AS build",
    "from --platform=$BUILDPLATFORM golang",
    "RUN apt-get update && \\\n    apt-get install -y curl",
    "RUN <<EOF\necho hi\nEOF",
    "RUN <<-EOT bash\n\techo $HOME\n\tEOT",
    "COPY <<A <<B /dest/\na\nA\nb\nB",
    "COPY --from=build --chown=1:2 /out /usr/bin/",
    "RUN --mount=type=cache,target=/root/.cache pip install -r req.txt",
    "CMD [\"nginx\", \"-g\", \"daemon off;\"]",
    "ENTRYPOINT exec app",
    "ENV A=1 B=\"two words\" C=3\\ 4",
    "ENV LEGACY value with spaces",
    "LABEL maintainer=\"me@example.com\"",
    "ARG VERSION=1.0 OTHER",
    "EXPOSE 80/tcp 443",
    "HEALTHCHECK --interval=30s CMD curl -f http://localhost/",
    "ONBUILD RUN echo onbuild",
    "WORKDIR /app",
    "USER nobody:nogroup",
    "VOLUME [\"/data\"]",
    "SHELL [\"/bin/bash\", \"-c\"]",
    "STOPSIGNAL SIGTERM",
    "# a comment\n",
    "\n",
    "RUN echo a \\\n\n  b",
    "RUN echo a \\\n# inside\n  b",
    "   RUN   indented",
    "FOO unknown",
];

/// Rebuilds instruction text from the AST: each node's original line and heredoc bodies.
fn rebuild(ast: &Ast) -> String {
    let mut out = String::new();
    if ast.escape_token == '`' {
        out.push_str("# escape=`\n");
    }
    for node in &ast.children {
        out.push_str(&node.original);
        out.push('\n');
        for h in &node.heredocs {
            out.push_str(&h.content);
            out.push_str(&h.name);
            out.push('\n');
        }
    }
    out
}

#[test]
fn generated_dockerfiles_round_trip() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut parsed = 0;
    for _ in 0..1500 {
        let n = 1 + rng.below(12);
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(rng.pick(LINES));
            text.push('\n');
        }
        if rng.below(4) == 0 {
            text = text.replace('\n', "\r\n");
        }
        let Ok(ast) = parser::parse(&text) else {
            continue;
        };
        parsed += 1;
        let again = parser::parse(&rebuild(&ast)).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(again.dump(), ast.dump(), "{text:?}");
        for node in &ast.children {
            assert!(node.start_line <= node.end_line);
            let span = &text[node.span.start..node.span.end];
            assert!(
                span.to_lowercase().starts_with(&node.value.to_lowercase()),
                "{span:?}"
            );
            assert_eq!(node.arg_spans.len(), node.args.len());
            for (arg, s) in node.args.iter().zip(&node.arg_spans) {
                assert!(
                    node.span.start <= s.start && s.end <= node.span.end,
                    "{arg:?} in {span:?}"
                );
                // An argument within one physical line maps to exactly its text.
                if s.end - s.start == arg.len() && s.start != node.span.start {
                    assert_eq!(&text[s.start..s.end], arg.as_str(), "{span:?}");
                }
            }
        }
        // The typed layer accepts or rejects, never panics.
        let _ = dockerfile::parse(&text);
    }
    assert!(parsed > 1000, "only {parsed} generated files parsed");
}

#[test]
fn bad_input_gives_positioned_errors() {
    let long = format!("FROM a\nRUN echo {}\n", "x".repeat(70_000));
    let err = parser::parse(&long).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LineTooLong);
    assert_eq!(err.line(), 2);

    let err = parser::parse("FROM a\nCOPY <<EOF /x\nno end\n").unwrap_err();
    assert_eq!(
        (err.kind.clone(), err.line()),
        (ParseErrorKind::UnterminatedHeredoc, 2)
    );

    // Unterminated JSON is shell form, as in BuildKit.
    let ast = parser::parse("FROM a\nCMD [\"a\", \"b\"\n").unwrap();
    assert!(!ast.children[1].json);

    let err = dockerfile::parse("FROM a\nRUN --mount=type=bind,mode=1 true\n").unwrap_err();
    assert!(matches!(err, Error::Instruction(_)));
    assert_eq!((err.line(), err.location().column), (2, 5));

    let onbuild = format!("FROM a\n{}RUN x\n", "ONBUILD ".repeat(1_000));
    let err = parser::parse(&onbuild).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::OnbuildTooDeep);
}

#[test]
fn a_large_file_parses() {
    // 20 000 instructions (about 1.3 MB) with continuations and heredocs.
    let block =
        "RUN apt-get update && \\\n    apt-get install -y curl\nCOPY <<EOF /x\nhello\nEOF\n";
    let text = format!("FROM debian\n{}", block.repeat(10_000));
    let df = dockerfile::parse(&text).unwrap();
    assert_eq!(df.stages[0].instructions.len(), 20_000);
    assert_eq!(df.ast.end_line, 1 + 50_000);
}
