//! What an editor shows for a Dockerfile: highlighted tokens and every diagnostic.
//!
//! Both come from the real parser, so the playground's colours and squiggles agree with what a
//! build would do.
//!
//! ```
//! use layerbox_core::dockerfile::editor::{TokenKind, analyze};
//! let a = analyze("# app\nFROM python:3.9-slim\nRUN pip install flask\n");
//! assert_eq!(a.tokens[0].kind, TokenKind::Comment);
//! assert_eq!(a.tokens[1].kind, TokenKind::Keyword);
//! assert!(a.diagnostics.iter().any(|d| d.code == "LB018" || d.message.contains("cache")));
//! ```

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::SourceLines;
use super::diagnostic::Diagnostic;
use super::lint::{self, LintOptions};
use super::parser::{self, Node};

/// What a highlighted piece of the source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    /// A comment line (`# …`), parser directives included.
    Comment,
    /// An instruction keyword (`FROM`, `RUN` …).
    Keyword,
    /// A builder flag (`--from=build`, `--mount=…`).
    Flag,
    /// A variable reference (`$NAME`, `${NAME:-x}`).
    Variable,
    /// A quoted string.
    String,
    /// The body of a heredoc.
    Heredoc,
}

/// One highlighted byte range of the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Bytes of the source.
    pub span: Range<usize>,
    /// What it is.
    pub kind: TokenKind,
}

/// Tokens and diagnostics of a Dockerfile, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Analysis {
    /// Non-overlapping highlighted ranges, in order.
    pub tokens: Vec<Token>,
    /// Errors first found by the parser and the instruction layer, then lint findings.
    pub diagnostics: Vec<Diagnostic>,
    /// The lines of each instruction, in order (what a click in the editor selects).
    #[serde(default)]
    pub instructions: Vec<SourceLines>,
}

/// Analyses `source` for an editor. Unlike [`lint::lint_source`], an error in one instruction
/// does not hide the lint findings of the others.
pub fn analyze(source: &str) -> Analysis {
    let options = LintOptions::default();
    // The parse keeps its AST: parsed once when the Dockerfile is valid.
    let (ast, mut diagnostics) = match super::parse(source) {
        Ok(parsed) => {
            let found = lint::lint(&parsed, source, &options);
            (Some(parsed.ast), found)
        }
        Err(err) => {
            let mut all = vec![Diagnostic::from(&err)];
            let ast = parser::parse(source).ok();
            if let Some(ast) = &ast {
                all.extend(lint::lint_ast(ast, source, &options));
            }
            (ast, all)
        }
    };
    diagnostics.sort_by_key(|d| (d.span.start, d.severity));
    diagnostics.dedup();
    let (tokens, instructions) = match &ast {
        Some(ast) => (
            highlight(source, &ast.children),
            ast.children
                .iter()
                .map(|n| SourceLines {
                    first: n.start_line,
                    last: n.end_line.max(n.start_line),
                })
                .collect(),
        ),
        None => (comments_only(source), Vec::new()),
    };
    Analysis {
        tokens,
        diagnostics,
        instructions,
    }
}

/// Highlights with the instructions' spans: keywords, flags, variables, strings, heredocs and
/// the comment lines between instructions.
fn highlight(source: &str, nodes: &[Node]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut covered = 0;
    for node in nodes {
        let span = node.span.start.min(source.len())..node.span.end.min(source.len());
        tokens.extend(comments_in(source, covered..span.start));
        covered = span.end;
        let keyword_end = (span.start + node.value.len()).min(span.end);
        tokens.push(Token {
            span: span.start..keyword_end,
            kind: TokenKind::Keyword,
        });
        let heredocs: Vec<Range<usize>> = node
            .heredocs
            .iter()
            .map(|h| h.content_span.start.min(span.end)..h.content_span.end.min(span.end))
            .filter(|r| !r.is_empty())
            .collect();
        let args_end = heredocs.first().map_or(span.end, |h| h.start);
        tokens.extend(words_in(source, keyword_end..args_end));
        tokens.extend(heredocs.into_iter().map(|span| Token {
            span,
            kind: TokenKind::Heredoc,
        }));
    }
    tokens.extend(comments_in(source, covered..source.len()));
    tokens
}

fn comments_only(source: &str) -> Vec<Token> {
    comments_in(source, 0..source.len())
}

/// Lines of `source[range]` whose first non-blank character is `#`.
fn comments_in(source: &str, range: Range<usize>) -> Vec<Token> {
    let mut tokens = Vec::new();
    let Some(text) = source.get(range.clone()) else {
        return tokens;
    };
    let mut offset = range.start;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        if body.trim_start().starts_with('#') {
            tokens.push(Token {
                span: offset + indent..offset + body.len(),
                kind: TokenKind::Comment,
            });
        }
        offset += line.len();
    }
    tokens
}

/// Flags, variables and quoted strings inside an instruction's arguments.
fn words_in(source: &str, range: Range<usize>) -> Vec<Token> {
    let mut tokens = Vec::new();
    let Some(text) = source.get(range.clone()) else {
        return tokens;
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut word_start = true;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'-' if word_start && bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                tokens.push(tok(range.start, start..i, TokenKind::Flag));
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    i += usize::from(bytes[i] == b'\\' && quote == b'"') + 1;
                }
                i = (i + 1).min(bytes.len());
                tokens.push(tok(range.start, start..i, TokenKind::String));
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                while i < bytes.len() && bytes[i] != b'}' && bytes[i] != b'\n' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                tokens.push(tok(range.start, start..i, TokenKind::Variable));
            }
            b'$' if bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') =>
            {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                tokens.push(tok(range.start, start..i, TokenKind::Variable));
            }
            b => {
                word_start = b.is_ascii_whitespace();
                i += 1;
                continue;
            }
        }
        word_start = false;
    }
    tokens
}

fn tok(base: usize, r: Range<usize>, kind: TokenKind) -> Token {
    Token {
        span: base + r.start..base + r.end,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::super::diagnostic::Severity;
    use super::*;

    fn kinds(src: &str) -> Vec<(String, TokenKind)> {
        analyze(src)
            .tokens
            .into_iter()
            .map(|t| (src[t.span].to_owned(), t.kind))
            .collect()
    }

    #[test]
    fn highlights_keywords_flags_variables_strings_and_comments() {
        use TokenKind::{Comment, Flag, Keyword, String as Str, Variable};
        let src = "# syntax=docker/dockerfile:1\nFROM alpine:3.20 AS base\n  # note\n\
                   COPY --from=base /a \"/b c\"\nRUN echo ${HOME:-/} $USER\n";
        assert_eq!(
            kinds(src),
            [
                ("# syntax=docker/dockerfile:1".into(), Comment),
                ("FROM".into(), Keyword),
                ("# note".into(), Comment),
                ("COPY".into(), Keyword),
                ("--from=base".into(), Flag),
                ("\"/b c\"".into(), Str),
                ("RUN".into(), Keyword),
                ("${HOME:-/}".into(), Variable),
                ("$USER".into(), Variable),
            ]
        );
    }

    #[test]
    fn heredoc_bodies_are_marked() {
        let src = "FROM alpine\nRUN <<EOF\necho hi\nEOF\n";
        let toks = kinds(src);
        assert!(
            toks.contains(&("echo hi\n".into(), TokenKind::Heredoc)),
            "{toks:?}"
        );
    }

    #[test]
    fn an_instruction_error_keeps_the_other_findings() {
        let src = "FROM python\nCOPY onlyone\nRUN apt-get install -y curl\n";
        let a = analyze(src);
        let errors = a
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        assert_eq!(errors, 1, "{:?}", a.diagnostics);
        assert!(a.diagnostics.len() > 1, "{:?}", a.diagnostics);
        assert!(
            a.diagnostics
                .windows(2)
                .all(|w| w[0].span.start <= w[1].span.start)
        );
    }

    #[test]
    fn instructions_give_their_lines_even_with_an_error() {
        let lines = |first, last| SourceLines { first, last };
        let src = "# c\nFROM alpine\n\nRUN echo a \\\n  b\nRUN <<EOF\nx\nEOF\n";
        let want = [lines(2, 2), lines(4, 5), lines(6, 8)];
        assert_eq!(analyze(src).instructions, want);
        // An unknown instruction is still an instruction of the text.
        let bad = src.replace("RUN echo", "XRUN echo");
        let a = analyze(&bad);
        assert!(a.diagnostics.iter().any(|d| d.severity == Severity::Error));
        assert_eq!(a.instructions, want);
    }

    #[test]
    fn unparsable_text_still_gets_comments_and_an_error() {
        let a = analyze("# only a comment\n");
        assert_eq!(a.tokens.len(), 1);
        assert_eq!(a.diagnostics.len(), 1);
        assert!(
            a.diagnostics[0]
                .message
                .contains("file with no instructions")
        );
    }
}
