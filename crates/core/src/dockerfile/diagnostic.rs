//! Diagnostics: an error, warning or hint tied to a span of a Dockerfile.
//!
//! A [`Diagnostic`] carries everything a front end needs: the severity, a stable code (`LB012`,
//! or BuildKit's check name such as `JSONArgsRecommended`), the message, the byte span, the
//! 1-based line and column range, an optional help line and an optional explanation of *why*.
//! It renders like a compiler's message for the terminal ([`Diagnostic::render`]) and serialises
//! with serde for the browser editor.
//!
//! ```
//! use layerbox_core::dockerfile::diagnostic::{Diagnostic, RenderOptions, Severity};
//!
//! let src = "FROM alpine\nRUN cd /app && make\n";
//! let diag = Diagnostic::new(Severity::Warning, "LB009", "use WORKDIR to switch to a directory", src, 16..22)
//!     .with_help("replace `cd /app && …` with `WORKDIR /app`");
//! assert_eq!(diag.line, 2);
//! assert_eq!(diag.column, 5);
//! assert_eq!(
//!     diag.render("Dockerfile", src, &RenderOptions::default()),
//!     "Dockerfile:2:5: warning[LB009]: use WORKDIR to switch to a directory\n  |\n2 | RUN cd /app && make\n  |     ^^^^^^\n  = help: replace `cd /app && …` with `WORKDIR /app`\n",
//! );
//! ```

use std::fmt;
use std::fmt::Write as _;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::Error;
use super::instructions::InstructionError;
use super::parser::{Location, ParseError};

/// How serious a diagnostic is. Ordered from most to least serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The Dockerfile cannot be built as written.
    Error,
    /// It builds, but probably not the way the author wants (cache, size, security).
    Warning,
    /// A suggestion or a note for learners; nothing is wrong.
    Info,
}

impl Severity {
    /// The lower-case word printed in rendered diagnostics (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// The ANSI SGR sequence used for this severity when colour is on.
    fn ansi(self) -> &'static str {
        match self {
            Severity::Error => "\x1b[1;31m",
            Severity::Warning => "\x1b[1;33m",
            Severity::Info => "\x1b[1;36m",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about a Dockerfile, located by byte span and by line and column.
///
/// Lines and columns are 1-based; columns count Unicode scalar values (characters), and
/// `end_column` is exclusive. For a span that stops at a line end, `end_line`/`end_column` point
/// just past the last character covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// How serious the finding is.
    pub severity: Severity,
    /// A stable identifier: our own `LBnnn` codes, BuildKit's check names for its checks, or
    /// `parse` for parse errors.
    pub code: String,
    /// What is wrong, in one lower-case line (BuildKit's exact words where it has them).
    pub message: String,
    /// The byte range of the source the finding is about.
    pub span: Range<usize>,
    /// The 1-based line where the span starts.
    pub line: usize,
    /// The 1-based column (in characters) where the span starts.
    pub column: usize,
    /// The 1-based line where the span ends.
    pub end_line: usize,
    /// The 1-based column just past the span's end, on `end_line`.
    pub end_column: usize,
    /// How to fix it, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Why it matters (what it does to layers, cache or security), in a paragraph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl Diagnostic {
    /// Creates a diagnostic for the bytes `span` of `source`, computing its lines and columns.
    ///
    /// A span past the end of `source`, or not on character boundaries, is clamped to the nearest
    /// valid position rather than panicking.
    pub fn new(
        severity: Severity,
        code: impl Into<String>,
        message: impl Into<String>,
        source: &str,
        span: Range<usize>,
    ) -> Self {
        Self::new_in(severity, code, message, &LineIndex::new(source), span)
    }

    /// Like [`Diagnostic::new`], with the lines of the source already indexed: use it when
    /// creating many diagnostics for one file.
    pub fn new_in(
        severity: Severity,
        code: impl Into<String>,
        message: impl Into<String>,
        index: &LineIndex<'_>,
        span: Range<usize>,
    ) -> Self {
        let start = floor_char_boundary(index.source, span.start);
        let end = floor_char_boundary(index.source, span.end.max(span.start));
        let (line, column) = index.position(start);
        let (end_line, end_column) = index.position(end);
        Diagnostic {
            severity,
            code: code.into(),
            message: message.into(),
            span: start..end,
            line,
            column,
            end_line,
            end_column,
            help: None,
            explanation: None,
        }
    }

    /// Adds a help line saying how to fix the problem.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a paragraph explaining why the problem matters.
    #[must_use]
    pub fn with_explanation(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = Some(explanation.into());
        self
    }

    /// Renders the diagnostic like a compiler does: a `file:line:col: severity[code]: message`
    /// header, the source lines with a caret line under the span, then `= help:` (and, if asked
    /// for, `= why:`) lines. The result ends with a newline.
    pub fn render(&self, file: &str, source: &str, options: &RenderOptions) -> String {
        let style = Style::new(options.color, self.severity);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{bold}{file}:{line}:{col}:{reset} {sev}{name}[{code}]{reset}{bold}: {msg}{reset}",
            bold = style.bold,
            reset = style.reset,
            line = self.line,
            col = self.column,
            sev = style.severity,
            name = self.severity,
            code = self.code,
            msg = self.message,
        );

        let shown = self.shown_lines(source);
        let width = shown
            .iter()
            .filter_map(|l| l.as_ref().map(|l| l.number))
            .max()
            .unwrap_or(self.line)
            .to_string()
            .len();
        let pad = " ".repeat(width);
        let gutter = |out: &mut String, label: &str| {
            let _ = write!(out, "{}{label:>width$} |{}", style.gutter, style.reset);
        };
        gutter(&mut out, "");
        out.push('\n');
        for entry in &shown {
            let Some(entry) = entry else {
                let _ = writeln!(out, "{}{pad} ...{}", style.gutter, style.reset);
                continue;
            };
            gutter(&mut out, &entry.number.to_string());
            let text = expand_tabs(entry.text);
            if !text.is_empty() {
                out.push(' ');
                out.push_str(&text);
            }
            out.push('\n');
            gutter(&mut out, "");
            let before = display_width(&entry.text[..entry.from]);
            let under = display_width(&entry.text[entry.from..entry.to]).max(1);
            let _ = writeln!(
                out,
                " {}{}{}{}",
                " ".repeat(before),
                style.severity,
                "^".repeat(under),
                style.reset
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(
                out,
                "{pad} {}={} {}help{}: {help}",
                style.gutter, style.reset, style.bold, style.reset
            );
        }
        if options.explain
            && let Some(why) = &self.explanation
        {
            let prefix = format!("{pad} = why: ");
            let indent = " ".repeat(prefix.len());
            for (i, line) in wrap(why, options.wrap_width.saturating_sub(prefix.len()).max(20))
                .iter()
                .enumerate()
            {
                if i == 0 {
                    let _ = writeln!(
                        out,
                        "{pad} {}={} {}why{}: {line}",
                        style.gutter, style.reset, style.bold, style.reset
                    );
                } else {
                    let _ = writeln!(out, "{indent}{line}");
                }
            }
        }
        out
    }

    /// The source lines to print under the header: every line of the span when it covers at most
    /// three, otherwise the first and the last with a `...` marker (`None`) between them.
    fn shown_lines<'s>(&self, source: &'s str) -> Vec<Option<ShownLine<'s>>> {
        let mut lines = Vec::new();
        // Start at the line holding the span, so that rendering does not rescan the file.
        let first = floor_char_boundary(source, self.span.start);
        let mut offset = source[..first].rfind('\n').map_or(0, |i| i + 1);
        for (index, raw) in source[offset..].split_inclusive('\n').enumerate() {
            let number = self.line + index;
            let line_end = offset + raw.len();
            if number >= self.line && number <= self.end_line.max(self.line) {
                let text = raw.trim_end_matches(['\n', '\r']);
                let from = self.span.start.saturating_sub(offset).min(text.len());
                let from = if number == self.line { from } else { 0 };
                let to = if number == self.end_line {
                    self.span.end.saturating_sub(offset).min(text.len())
                } else {
                    text.len()
                };
                let from = floor_char_boundary(text, from);
                let to = floor_char_boundary(text, to.max(from));
                // A span ending at the very start of a later line adds nothing on that line.
                if !(number > self.line && number == self.end_line && to == 0) {
                    lines.push(ShownLine {
                        number,
                        text,
                        from,
                        to,
                    });
                }
            }
            if number > self.end_line {
                break;
            }
            offset = line_end;
        }
        if lines.is_empty() {
            // The span is at the very end of the source (after a final newline, or empty source).
            lines.push(ShownLine {
                number: self.line,
                text: "",
                from: 0,
                to: 0,
            });
        }
        if lines.len() > 3 {
            let last = lines.pop();
            lines.truncate(1);
            let mut shown: Vec<Option<ShownLine<'s>>> = lines.into_iter().map(Some).collect();
            shown.push(None);
            shown.push(last);
            return shown;
        }
        lines.into_iter().map(Some).collect()
    }
}

impl fmt::Display for Diagnostic {
    /// The one-line form: `line:col: severity[code]: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}[{}]: {}",
            self.line, self.column, self.severity, self.code, self.message
        )
    }
}

/// Options for [`Diagnostic::render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Emit ANSI colour escapes (off by default: output is plain text).
    pub color: bool,
    /// Also print the explanation paragraph as `= why:` lines.
    pub explain: bool,
    /// The column at which the explanation is wrapped.
    pub wrap_width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            explain: false,
            wrap_width: 100,
        }
    }
}

/// Renders several diagnostics one after the other, separated by blank lines.
pub fn render_all(
    diagnostics: &[Diagnostic],
    file: &str,
    source: &str,
    options: &RenderOptions,
) -> String {
    diagnostics
        .iter()
        .map(|d| d.render(file, source, options))
        .collect::<Vec<_>>()
        .join("\n")
}

/// See the `From<&ParseError>` implementation.
impl From<ParseError> for Diagnostic {
    fn from(err: ParseError) -> Self {
        Diagnostic::from(&err)
    }
}

/// A parse error is an error diagnostic at the parser's location, coded like the error kind.
impl From<&ParseError> for Diagnostic {
    fn from(err: &ParseError) -> Self {
        Diagnostic::at(err.location, err.code(), err.kind.to_string())
    }
}

/// An instruction error (unknown instruction, bad flag …) is an error diagnostic on the
/// instruction; the message is BuildKit's without its `dockerfile parse error on line N:` prefix,
/// since the diagnostic carries the line.
impl From<&InstructionError> for Diagnostic {
    fn from(err: &InstructionError) -> Self {
        Diagnostic::at(err.location, err.code(), err.kind.to_string())
    }
}

/// Either kind of error from [`crate::dockerfile::parse`].
impl From<&Error> for Diagnostic {
    fn from(err: &Error) -> Self {
        match err {
            Error::Parse(e) => e.into(),
            Error::Instruction(e) => e.into(),
        }
    }
}

impl Diagnostic {
    /// An error diagnostic at a location the parser already computed.
    fn at(loc: Location, code: &str, message: String) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.to_owned(),
            message,
            span: loc.span.start..loc.span.end,
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
            help: None,
            explanation: None,
        }
    }
}

/// The start of every line of a source, to turn many byte offsets into lines and columns
/// without rescanning the text each time.
#[derive(Debug, Clone)]
pub struct LineIndex<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    /// Indexes the lines of `source`.
    pub fn new(source: &'s str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { source, starts }
    }

    /// The 1-based line and character column of byte `offset` (clamped into the source).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.source, offset);
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, self.source[start..offset].chars().count() + 1)
    }
}

/// Returns the 1-based line and character column of byte `offset` in `source`.
///
/// `offset` must be on a character boundary and at most `source.len()`.
pub fn position(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// A source line printed under a diagnostic header, with the byte range to underline.
struct ShownLine<'s> {
    number: usize,
    text: &'s str,
    from: usize,
    to: usize,
}

/// The escape sequences used while rendering (all empty without colour).
struct Style {
    bold: &'static str,
    severity: &'static str,
    gutter: &'static str,
    reset: &'static str,
}

impl Style {
    fn new(color: bool, severity: Severity) -> Self {
        if color {
            Style {
                bold: "\x1b[1m",
                severity: severity.ansi(),
                gutter: "\x1b[1;34m",
                reset: "\x1b[0m",
            }
        } else {
            Style {
                bold: "",
                severity: "",
                gutter: "",
                reset: "",
            }
        }
    }
}

/// The largest character boundary of `s` not after `index` (clamped to `s.len()`).
fn floor_char_boundary(s: &str, index: usize) -> usize {
    let mut i = index.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Tabs are shown as four spaces so that the caret line stays aligned.
const TAB: &str = "    ";

fn expand_tabs(s: &str) -> String {
    s.replace('\t', TAB)
}

/// The number of terminal cells `s` takes once tabs are expanded (one per other character).
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if c == '\t' { TAB.len() } else { 1 })
        .sum()
}

/// Splits `text` into lines of at most `width` characters at spaces (a longer word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "FROM alpine:latest\nRUN apt-get update\n\tRUN x\nLAST";

    fn diag(span: Range<usize>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, "LB001", "something", SRC, span)
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        assert_eq!(position(SRC, 0), (1, 1));
        assert_eq!(position(SRC, 5), (1, 6));
        assert_eq!(position(SRC, 19), (2, 1));
        assert_eq!(position("é\nxé y", 8), (2, 5));
        assert_eq!(position("", 0), (1, 1));
    }

    #[test]
    fn line_index_agrees_with_position() {
        for src in [SRC, "", "\n", "é\nxé y\n\n", "no newline"] {
            let index = LineIndex::new(src);
            for offset in (0..=src.len()).filter(|&o| src.is_char_boundary(o)) {
                assert_eq!(
                    index.position(offset),
                    position(src, offset),
                    "{src:?} @ {offset}"
                );
            }
        }
    }

    #[test]
    fn new_computes_the_range_and_clamps_bad_spans() {
        let d = diag(23..37);
        assert_eq!((d.line, d.column, d.end_line, d.end_column), (2, 5, 2, 19));
        let d = Diagnostic::new(Severity::Info, "x", "m", "aé", 2..99);
        assert_eq!(d.span, 1..3);
        #[allow(clippy::reversed_empty_ranges)] // a reversed span must not panic
        let d = Diagnostic::new(Severity::Info, "x", "m", "abc", 2..1);
        assert_eq!(d.span, 2..2);
    }

    #[test]
    fn renders_a_single_line_span() {
        assert_eq!(
            diag(23..37)
                .with_help("do it")
                .render("Dockerfile", SRC, &RenderOptions::default()),
            "Dockerfile:2:5: warning[LB001]: something\n  |\n2 | RUN apt-get update\n  |     ^^^^^^^^^^^^^^\n  = help: do it\n"
        );
    }

    #[test]
    fn renders_an_empty_span_as_one_caret() {
        assert_eq!(
            diag(5..5).render("f", SRC, &RenderOptions::default()),
            "f:1:6: warning[LB001]: something\n  |\n1 | FROM alpine:latest\n  |      ^\n"
        );
    }

    #[test]
    fn tabs_are_expanded_in_the_line_and_the_carets() {
        assert_eq!(
            diag(39..42).render("f", SRC, &RenderOptions::default()),
            "f:3:2: warning[LB001]: something\n  |\n3 |     RUN x\n  |     ^^^\n"
        );
    }

    #[test]
    fn a_multi_line_span_underlines_each_line() {
        assert_eq!(
            diag(14..26).render("f", SRC, &RenderOptions::default()),
            "f:1:15: warning[LB001]: something\n  |\n1 | FROM alpine:latest\n  |               ^^^^\n2 | RUN apt-get update\n  | ^^^^^^^\n"
        );
    }

    #[test]
    fn a_span_ending_at_a_line_start_does_not_show_that_line() {
        assert_eq!(
            diag(0..19).render("f", SRC, &RenderOptions::default()),
            "f:1:1: warning[LB001]: something\n  |\n1 | FROM alpine:latest\n  | ^^^^^^^^^^^^^^^^^^\n"
        );
    }

    #[test]
    fn long_spans_are_elided_between_first_and_last_line() {
        let src = "a\nb\nc\nd\ne\n";
        let d = Diagnostic::new(Severity::Error, "parse", "m", src, 0..9);
        assert_eq!(
            d.render("f", src, &RenderOptions::default()),
            "f:1:1: error[parse]: m\n  |\n1 | a\n  | ^\n  ...\n5 | e\n  | ^\n"
        );
    }

    #[test]
    fn the_gutter_widens_for_big_line_numbers() {
        let src = format!("{}RUN x\n", "\n".repeat(99));
        let d = Diagnostic::new(Severity::Info, "LB1", "m", &src, 99..102).with_help("h");
        assert_eq!(
            d.render("f", &src, &RenderOptions::default()),
            "f:100:1: info[LB1]: m\n    |\n100 | RUN x\n    | ^^^\n    = help: h\n"
        );
    }

    #[test]
    fn a_span_at_the_end_of_the_source_renders() {
        let d = Diagnostic::new(
            Severity::Error,
            "parse",
            "unterminated heredoc",
            "RUN <<EOF\n",
            10..10,
        );
        assert_eq!(
            d.render("f", "RUN <<EOF\n", &RenderOptions::default()),
            "f:2:1: error[parse]: unterminated heredoc\n  |\n2 |\n  | ^\n"
        );
        let d = Diagnostic::new(
            Severity::Error,
            "parse",
            "the Dockerfile cannot be empty",
            "",
            0..0,
        );
        assert_eq!(
            d.render("f", "", &RenderOptions::default()),
            "f:1:1: error[parse]: the Dockerfile cannot be empty\n  |\n1 |\n  | ^\n"
        );
    }

    #[test]
    fn explanation_is_wrapped_when_asked_for() {
        let d = diag(0..4).with_explanation("one two three four five six seven eight nine ten");
        let opts = RenderOptions {
            explain: true,
            wrap_width: 33,
            ..RenderOptions::default()
        };
        assert_eq!(
            d.render("f", SRC, &opts),
            "f:1:1: warning[LB001]: something\n  |\n1 | FROM alpine:latest\n  | ^^^^\n  = why: one two three four five\n         six seven eight nine ten\n"
        );
        assert!(
            !d.render("f", SRC, &RenderOptions::default())
                .contains("why")
        );
    }

    #[test]
    fn color_wraps_parts_in_ansi_escapes() {
        let opts = RenderOptions {
            color: true,
            ..RenderOptions::default()
        };
        assert_eq!(
            diag(0..4).with_help("h").render("f", SRC, &opts),
            "\x1b[1mf:1:1:\x1b[0m \x1b[1;33mwarning[LB001]\x1b[0m\x1b[1m: something\x1b[0m\n\
             \x1b[1;34m  |\x1b[0m\n\
             \x1b[1;34m1 |\x1b[0m FROM alpine:latest\n\
             \x1b[1;34m  |\x1b[0m \x1b[1;33m^^^^\x1b[0m\n  \x1b[1;34m=\x1b[0m \x1b[1mhelp\x1b[0m: h\n"
        );
    }

    #[test]
    fn display_is_the_one_line_form() {
        assert_eq!(diag(23..37).to_string(), "2:5: warning[LB001]: something");
    }

    #[test]
    fn render_all_separates_with_blank_lines() {
        let all = render_all(
            &[diag(0..4), diag(19..22)],
            "f",
            SRC,
            &RenderOptions::default(),
        );
        assert_eq!(all.matches("\n\nf:").count(), 1);
    }

    #[test]
    fn parse_errors_convert_with_their_location() {
        let src = "FROM alpine\nENV PATH\n";
        let err = crate::dockerfile::parser::parse(src).unwrap_err();
        let d = Diagnostic::from(&err);
        assert_eq!((d.severity, d.line, d.column), (Severity::Error, 2, 1));
        assert_eq!(d.message, "ENV must have two arguments");
        assert_eq!(d.code, err.code());
        assert_eq!(
            d.render("Dockerfile", src, &RenderOptions::default()),
            format!(
                "Dockerfile:2:1: error[{}]: ENV must have two arguments\n  |\n2 | ENV PATH\n  | ^^^^^^^^\n",
                err.code()
            )
        );
    }

    #[test]
    fn instruction_errors_convert_without_the_line_prefix() {
        let src = "FROM alpine\nFORM x\n";
        let err = crate::dockerfile::parse(src).unwrap_err();
        let d = Diagnostic::from(&err);
        assert_eq!((d.severity, d.line, d.column), (Severity::Error, 2, 1));
        assert_eq!(d.message, "unknown instruction: FORM (did you mean FROM?)");
        assert_eq!(d.code, "unknown-instruction");
    }

    #[test]
    fn serialises_for_the_editor_and_back() {
        let d = diag(23..37).with_help("h");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"severity":"warning","code":"LB001","message":"something","span":{"start":23,"end":37},"line":2,"column":5,"end_line":2,"end_column":19,"help":"h"}"#
        );
        assert_eq!(serde_json::from_str::<Diagnostic>(&json).unwrap(), d);
    }
}
