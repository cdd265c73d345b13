//! The Dockerfile parser: lines, directives, continuations, heredocs and the AST (spec §1–§9).
//!
//! It follows BuildKit's `frontend/dockerfile/parser` rule for rule, so that [`Ast::dump`] prints
//! exactly what BuildKit prints for its `testfiles`. Every node keeps its original text, its
//! 1-based line range and its byte span in the source.
//!
//! ```
//! use layerbox_core::dockerfile::parser::parse;
//!
//! let ast = parse("FROM alpine AS build\nRUN <<EOF\necho hi\nEOF\n").unwrap();
//! assert_eq!(ast.dump(), "(from \"alpine\" \"AS\" \"build\")\n(run \"<<EOF\")\n");
//! let run = &ast.children[1];
//! assert_eq!((run.start_line, run.end_line), (2, 4));
//! assert_eq!(run.heredocs[0].content, "echo hi\n");
//! ```

mod directives;
mod heredoc;
mod line_parsers;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use directives::{Directive, SyntaxDirective, detect_check, detect_syntax, parse_directives};
pub use heredoc::{Heredoc, chomp, heredocs_from_line, parse_heredoc};
pub use line_parsers::{extract_builder_flags, parse_json_array, parse_name_val, parse_words};

use super::quote::{go_quote, go_quote_list};
use directives::DirectiveParser;

/// How deeply `ONBUILD ONBUILD …` may nest before the parser gives up (a layerbox limit that
/// keeps recursion bounded; BuildKit rejects any chaining one step later anyway).
pub const MAX_ONBUILD_NESTING: usize = 16;

/// Longest physical line BuildKit accepts (`bufio.MaxScanTokenSize - 1`).
pub const MAX_LINE_LEN: usize = 65535;

/// A byte range `start..end` in the Dockerfile source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A span with its human coordinates (1-based lines, 1-based columns counted in characters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Byte range in the source.
    pub span: Span,
    /// Line of `span.start`.
    pub line: usize,
    /// Column of `span.start`.
    pub column: usize,
    /// Line of `span.end`.
    pub end_line: usize,
    /// Column of `span.end` (exclusive).
    pub end_column: usize,
}

impl Location {
    /// Computes lines and columns of `span` in `src` (use a [`LineIndex`] for many spans).
    pub fn from_span(src: &str, span: Span) -> Self {
        LineIndex::new(src).location(span)
    }
}

/// Line starts of a source, for turning many spans into lines and columns cheaply.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the lines of `src`.
    pub fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { src, starts }
    }

    /// The 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, self.src[start..offset].chars().count() + 1)
    }

    /// The location of `span`.
    pub fn location(&self, span: Span) -> Location {
        let (line, column) = self.line_col(span.start);
        let (end_line, end_column) = self.line_col(span.end);
        Location {
            span,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(src).line_col(offset)
}

/// Why parsing failed (spec §1–§7); messages are BuildKit's.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ParseErrorKind {
    /// A physical line of 65 536 bytes or more.
    #[error("dockerfile line greater than max allowed size of 65535")]
    LineTooLong,
    /// An empty file given to the build front end ([`crate::dockerfile::parse`]).
    #[error("the Dockerfile cannot be empty")]
    EmptyDockerfile,
    /// Only blank lines and comments.
    #[error("file with no instructions")]
    NoInstructions,
    /// A directive given twice (name lower-cased).
    #[error("only one {0} parser directive can be used")]
    DuplicateDirective(String),
    /// `# escape=` with something other than `\` or `` ` ``.
    #[error("invalid escape token '{0}' does not match ` or \\")]
    InvalidEscapeToken(String),
    /// Legacy `ENV KEY` / `LABEL KEY` without a value.
    #[error("{0} must have two arguments")]
    MissingValue(String),
    /// A `name=value` list with a word lacking `=` (the word already Go-quoted).
    #[error("Syntax error - can't find = in {0}. Must be of the form: name=value")]
    MissingEquals(String),
    /// A JSON array with non-string elements.
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    JsonNotStringArray,
    /// End of file before a heredoc's terminator.
    #[error("unterminated heredoc")]
    UnterminatedHeredoc,
    /// `ONBUILD` nested more than [`MAX_ONBUILD_NESTING`] times.
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildTooDeep,
    /// A heredoc delimiter that does not lex (normally unreachable, see spec §7).
    #[error("{0}")]
    HeredocDelimiter(String),
}

impl ParseErrorKind {
    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        match self {
            ParseErrorKind::LineTooLong => "line-too-long",
            ParseErrorKind::NoInstructions | ParseErrorKind::EmptyDockerfile => "no-instructions",
            ParseErrorKind::DuplicateDirective(_) => "duplicate-directive",
            ParseErrorKind::InvalidEscapeToken(_) => "invalid-escape-token",
            ParseErrorKind::MissingValue(_) => "missing-value",
            ParseErrorKind::MissingEquals(_) => "missing-equals",
            ParseErrorKind::JsonNotStringArray => "json-not-string-array",
            ParseErrorKind::UnterminatedHeredoc => "unterminated-heredoc",
            ParseErrorKind::HeredocDelimiter(_) => "heredoc-delimiter",
            ParseErrorKind::OnbuildTooDeep => "invalid-onbuild",
        }
    }
}

/// A parse error with its location (the instruction's lines, or the offending line).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{kind}")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Where.
    pub location: Location,
}

impl ParseError {
    /// Byte span of the error in the source.
    pub fn span(&self) -> Span {
        self.location.span
    }

    /// 1-based line where the error starts.
    pub fn line(&self) -> usize {
        self.location.line
    }

    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// A parser warning (BuildKit reports these next to the AST; lint rule NoEmptyContinuation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The lint rule name.
    pub code: &'static str,
    /// BuildKit's short text, e.g. `Empty continuation line found in: RUN a b`.
    pub message: String,
    /// BuildKit's detail line.
    pub detail: String,
    /// Documentation link.
    pub url: &'static str,
    /// The first offending line.
    pub location: Location,
}

/// One instruction of the AST (BuildKit's `Node`).
///
/// BuildKit chains arguments through `Next`; here they are the flat list [`Node::args`]. A nested
/// instruction (ONBUILD's trigger) is the single entry of [`Node::children`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The keyword as written (`RUN`, `run`, `Run` …); compare case-insensitively.
    pub value: String,
    /// Builder flags as peeled off (`--mount=type=cache,target=/x`), quotes and escapes removed.
    pub flags: Vec<String>,
    /// The argument values as the keyword's parser produced them (spec §6).
    pub args: Vec<String>,
    /// ONBUILD: the nested instruction.
    pub children: Vec<Node>,
    /// Heredocs attached to this instruction (RUN, COPY, ADD, ONBUILD of those), in order.
    pub heredocs: Vec<Heredoc>,
    /// Whether the arguments were given in JSON (exec) form.
    pub json: bool,
    /// The joined instruction text (continuations removed, heredoc bodies excluded).
    pub original: String,
    /// Comment lines collected just before the instruction (text after `#`, trimmed).
    pub prev_comment: Vec<String>,
    /// 1-based first line.
    pub start_line: usize,
    /// 1-based last line (continuations and heredoc bodies included).
    pub end_line: usize,
    /// Byte span from the keyword to the end of the last line consumed (newline excluded).
    pub span: Span,
    /// The source span of each entry of [`Node::args`], where the argument appears verbatim in
    /// the text (decoded JSON escapes do not: those get the instruction's span).
    #[serde(default)]
    pub arg_spans: Vec<Span>,
    /// Maps offsets in the joined instruction text back to the source (one entry per physical
    /// line).
    #[serde(skip)]
    segments: Vec<Segment>,
    /// Where `original` starts in the joined instruction text (non-zero for ONBUILD triggers).
    #[serde(skip)]
    base: usize,
    /// Argument ranges in the joined instruction text, before segments are known.
    #[serde(skip)]
    arg_ranges: Vec<Option<(usize, usize)>>,
}

/// A piece of a joined instruction: `original[joined..]` starts at `source` in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    joined: usize,
    source: usize,
}

impl Node {
    /// The keyword lower-cased, for matching.
    pub fn keyword(&self) -> String {
        self.value.to_lowercase()
    }

    /// BuildKit's dump of this node (spec §8), without the surrounding parentheses.
    pub fn dump(&self) -> String {
        let mut s = self.value.to_lowercase();
        if !self.flags.is_empty() {
            s.push(' ');
            s.push_str(&go_quote_list(&self.flags));
        }
        for arg in &self.args {
            s.push(' ');
            s.push_str(&go_quote(arg));
        }
        for child in &self.children {
            s.push_str(" (");
            s.push_str(&child.dump());
            s.push(')');
        }
        s.trim().to_string()
    }

    /// The source byte offset of byte `offset` of [`Node::original`].
    pub fn source_offset(&self, offset: usize) -> usize {
        let offset = self.base + offset;
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.joined <= offset)
            .copied()
            .unwrap_or(Segment {
                joined: 0,
                source: self.span.start,
            });
        seg.source + (offset - seg.joined)
    }

    /// The source span of the first occurrence of `needle` in the original text, or the whole
    /// instruction when it does not occur (flags and arguments lose quotes, so this is a best
    /// effort for pointing diagnostics at a word).
    pub fn span_of(&self, needle: &str) -> Span {
        match self.original.find(needle) {
            Some(i) if !needle.is_empty() => Span::new(
                self.source_offset(i),
                self.source_offset(i + needle.len() - 1) + 1,
            ),
            _ => self.span,
        }
    }
}

/// The parsed file (BuildKit's `parser.Result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ast {
    /// The instructions in file order.
    pub children: Vec<Node>,
    /// Parser directives found at the top (`syntax`, `escape`, `check`).
    pub directives: Vec<Directive>,
    /// The escape token in effect.
    pub escape_token: char,
    /// Parser warnings.
    pub warnings: Vec<Warning>,
    /// First line of the first instruction.
    pub start_line: usize,
    /// Last line of the last instruction.
    pub end_line: usize,
}

impl Ast {
    /// BuildKit's AST dump (spec §8): one `(…)` line per instruction, each ending in `\n`.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            out.push('(');
            out.push_str(&child.dump());
            out.push_str(")\n");
        }
        out
    }

    /// The value of a directive (`syntax`, `escape`, `check`), if given.
    pub fn directive(&self, name: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }
}

/// Parses a Dockerfile (spec §1–§9).
pub fn parse(src: &str) -> Result<Ast, ParseError> {
    Parser {
        src,
        index: LineIndex::new(src),
        lines: Lines {
            src,
            pos: 0,
            number: 0,
        },
        escape: '\\',
        directives: DirectiveParser::new("#"),
    }
    .run()
}

/// A physical line: its text with the newline, its start offset and 1-based number.
#[derive(Debug, Clone, Copy)]
struct RawLine<'a> {
    text: &'a str,
    start: usize,
    number: usize,
}

impl<'a> RawLine<'a> {
    fn trimmed(&self) -> &'a str {
        trim_newline(self.text)
    }

    fn content_span(&self) -> Span {
        Span::new(self.start, self.start + self.trimmed().len())
    }
}

struct Lines<'a> {
    src: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<Result<RawLine<'a>, ParseError>> {
        if self.pos >= self.src.len() {
            return None;
        }
        let rest = &self.src[self.pos..];
        let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let mut line = RawLine {
            text: &rest[..len],
            start: self.pos,
            number: self.number + 1,
        };
        self.pos += len;
        self.number += 1;
        if line.number == 1 && line.text.starts_with('\u{feff}') {
            line.text = &line.text[3..];
            line.start += 3;
        }
        let content = line.text.strip_suffix('\n').unwrap_or(line.text);
        if content.len() > MAX_LINE_LEN {
            return Some(Err(ParseError {
                kind: ParseErrorKind::LineTooLong,
                location: Location::from_span(
                    self.src,
                    Span::new(line.start, line.start + content.len()),
                ),
            }));
        }
        Some(Ok(line))
    }
}

fn trim_newline(s: &str) -> &str {
    s.trim_end_matches(['\r', '\n'])
}

fn is_comment(line: &str) -> bool {
    trim_newline(line).trim_start().starts_with('#')
}

struct Parser<'a> {
    src: &'a str,
    index: LineIndex<'a>,
    lines: Lines<'a>,
    escape: char,
    directives: DirectiveParser,
}

impl Parser<'_> {
    fn error(&self, kind: ParseErrorKind, span: Span) -> ParseError {
        ParseError {
            kind,
            location: self.index.location(span),
        }
    }

    /// Feeds a line to the directive scanner; returns whether it was a directive.
    fn directive(&mut self, token: &str, line: &RawLine<'_>) -> Result<bool, ParseError> {
        match self
            .directives
            .parse_line(token, line.number, line.content_span())
        {
            Ok(Some(d)) => {
                if d.name == "escape" {
                    match d.value.as_str() {
                        "\\" => self.escape = '\\',
                        "`" => self.escape = '`',
                        other => {
                            return Err(self.error(
                                ParseErrorKind::InvalidEscapeToken(other.to_string()),
                                line.content_span(),
                            ));
                        }
                    }
                }
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(kind) => Err(self.error(kind, line.content_span())),
        }
    }

    /// Removes a trailing continuation escape (spec §4); `true` when the line ends the instruction.
    fn trim_continuation<'s>(&self, line: &'s str) -> (&'s str, bool) {
        let body = line.trim_end_matches([' ', '\t']);
        let Some(before) = body.strip_suffix(self.escape) else {
            return (line, true);
        };
        match before.chars().next_back() {
            None => ("", false),
            Some(c) if c != self.escape => (before, false),
            Some(_) => (line, true),
        }
    }

    fn run(mut self) -> Result<Ast, ParseError> {
        let mut children: Vec<Node> = Vec::new();
        let mut warnings = Vec::new();
        let mut comments: Vec<String> = Vec::new();
        while let Some(line) = self.lines.next_line() {
            let line = line?;
            let raw = line.trimmed();
            let token = raw.trim_start();
            let token_start = line.start + (raw.len() - token.len());
            let comment = token.starts_with('#');
            if comment {
                let text = token[1..].trim();
                if text.is_empty() {
                    comments.clear();
                } else {
                    comments.push(text.to_string());
                }
            }
            if self.directive(token, &line)? && comment {
                comments.pop();
            }
            let first = if comment { "" } else { token };
            let (first, mut end_of_line) = self.trim_continuation(first);
            if end_of_line && first.is_empty() {
                continue;
            }
            let start_line = line.number;
            let mut end_line = line.number;
            let mut end_offset = line.start + raw.len();
            let mut joined = first.to_string();
            let mut segments = vec![Segment {
                joined: 0,
                source: token_start,
            }];
            let mut empty_line: Option<Span> = None;
            while !end_of_line {
                let Some(next) = self.lines.next_line() else {
                    break;
                };
                let next = next?;
                let text = next.trimmed();
                self.directive(text, &next)?;
                end_line = next.number;
                end_offset = next.start + text.len();
                if is_comment(text) {
                    continue;
                }
                if text.trim_start().is_empty() {
                    empty_line.get_or_insert(next.content_span());
                    continue;
                }
                let (piece, eol) = self.trim_continuation(text);
                end_of_line = eol;
                segments.push(Segment {
                    joined: joined.len(),
                    source: next.start,
                });
                joined.push_str(piece);
            }
            if let Some(span) = empty_line {
                warnings.push(Warning {
                    code: "NoEmptyContinuation",
                    message: format!("Empty continuation line found in: {joined}"),
                    detail: "Empty continuation lines will become errors in a future release"
                        .to_string(),
                    url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
                    location: self.index.location(span),
                });
            }
            let instruction_span = Span::new(token_start, end_offset);
            let mut node =
                new_node_from_line(&joined, 0, self.escape, std::mem::take(&mut comments), 0)
                    .map_err(|kind| self.error(kind, instruction_span))?;
            if node.can_contain_heredoc() && joined.contains("<<") {
                let heredocs = heredocs_from_line(&joined).map_err(|e| {
                    self.error(
                        ParseErrorKind::HeredocDelimiter(e.to_string()),
                        instruction_span,
                    )
                })?;
                for mut heredoc in heredocs {
                    let mut terminated = false;
                    let mut body_start = None;
                    while let Some(body) = self.lines.next_line() {
                        let body = body?;
                        end_line = body.number;
                        end_offset = body.start + body.trimmed().len();
                        let mut candidate = body.trimmed();
                        if heredoc.chomp {
                            candidate = candidate.trim_start_matches('\t');
                        }
                        if candidate == heredoc.name {
                            terminated = true;
                            break;
                        }
                        body_start.get_or_insert(body.start);
                        heredoc.content.push_str(body.text);
                    }
                    if !terminated {
                        return Err(self.error(
                            ParseErrorKind::UnterminatedHeredoc,
                            Span::new(token_start, end_offset),
                        ));
                    }
                    let start = body_start.unwrap_or(end_offset);
                    heredoc.content_span = Span::new(start, start + heredoc.content.len());
                    node.heredocs.push(heredoc);
                }
            }
            node.locate(
                start_line,
                end_line,
                Span::new(token_start, end_offset),
                &segments,
            );
            children.push(node);
        }
        let (Some(first), Some(last)) = (children.first(), children.last()) else {
            let end = self.src.len();
            return Err(self.error(ParseErrorKind::NoInstructions, Span::new(end, end)));
        };
        Ok(Ast {
            start_line: first.start_line,
            end_line: last.end_line,
            children,
            directives: self.directives.into_parsed(),
            escape_token: self.escape,
            warnings,
        })
    }
}

/// Builds the node for one joined instruction line (BuildKit's `newNodeFromLine`).
fn new_node_from_line(
    line: &str,
    base: usize,
    escape: char,
    comments: Vec<String>,
    depth: usize,
) -> Result<Node, ParseErrorKind> {
    let split = line_parsers::split_command(line, escape);
    let keyword = split.keyword.to_lowercase();
    let mut node = Node {
        value: split.keyword.to_string(),
        flags: split.flags,
        args: Vec::new(),
        children: Vec::new(),
        heredocs: Vec::new(),
        json: false,
        original: line.to_string(),
        prev_comment: comments,
        start_line: 0,
        end_line: 0,
        span: Span::default(),
        arg_spans: Vec::new(),
        segments: Vec::new(),
        base,
        arg_ranges: Vec::new(),
    };
    if keyword == "onbuild" {
        if depth >= MAX_ONBUILD_NESTING {
            return Err(ParseErrorKind::OnbuildTooDeep);
        }
        if !split.args.is_empty() {
            node.children.push(new_node_from_line(
                split.args,
                base + split.args_offset,
                escape,
                Vec::new(),
                depth + 1,
            )?);
        }
        return Ok(node);
    }
    let parsed = line_parsers::parse_args(&keyword, split.args, escape)?;
    // Find each argument verbatim, left to right, after the keyword and flags. ENV/LABEL give
    // (key, value, separator) triples but the text reads key, separator, value.
    let mut cursor = split.args_offset;
    let mut find = |arg: &str| -> Option<(usize, usize)> {
        let start = cursor + line.get(cursor..)?.find(arg)?;
        cursor = start + arg.len();
        Some((base + start, base + cursor))
    };
    node.arg_ranges = if matches!(keyword.as_str(), "env" | "label") {
        let mut ranges = Vec::with_capacity(parsed.args.len());
        for triple in parsed.args.chunks(3) {
            if let [key, value, sep] = triple {
                let k = find(key);
                let sp = find(sep);
                ranges.extend([k, find(value), sp]);
            }
        }
        ranges
    } else {
        parsed.args.iter().map(|arg| find(arg)).collect()
    };
    node.args = parsed.args;
    node.json = parsed.json;
    Ok(node)
}

impl Node {
    /// Maps a range of the joined instruction text to the source.
    fn joined_span(&self, range: Option<(usize, usize)>) -> Span {
        let Some((start, end)) = range else {
            return self.span;
        };
        let map = |o: usize| self.source_offset(o - self.base);
        if end == start {
            let s = map(start);
            Span::new(s, s)
        } else {
            Span::new(map(start), map(end - 1) + 1)
        }
    }

    /// Fills in spans once the instruction's lines are known.
    fn locate(&mut self, start_line: usize, end_line: usize, span: Span, segments: &[Segment]) {
        self.start_line = start_line;
        self.end_line = end_line;
        self.span = span;
        self.segments = segments.to_vec();
        self.arg_spans = self
            .arg_ranges
            .iter()
            .map(|&r| self.joined_span(r))
            .collect();
        self.arg_ranges = Vec::new();
        for child in &mut self.children {
            child.locate(start_line, end_line, span, segments);
        }
    }
}

impl Node {
    /// RUN, COPY, ADD (or ONBUILD of one) in shell form may carry heredocs.
    fn can_contain_heredoc(&self) -> bool {
        let node = match self.children.first() {
            Some(child) if self.value.eq_ignore_ascii_case("onbuild") => child,
            _ => self,
        };
        ["run", "copy", "add"]
            .iter()
            .any(|k| node.value.eq_ignore_ascii_case(k))
            && !node.json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_spans() {
        let src = "FROM a\nRUN echo \\\n  # c\n\n  hi\n";
        let ast = parse(src).unwrap();
        let run = &ast.children[1];
        assert_eq!(run.original, "RUN echo   hi");
        assert_eq!((run.start_line, run.end_line), (2, 5));
        assert_eq!(
            &src[run.span.start..run.span.end],
            "RUN echo \\\n  # c\n\n  hi"
        );
        assert_eq!(&src[run.span_of("hi").start..run.span_of("hi").end], "hi");
        assert_eq!(ast.warnings.len(), 1);
        assert_eq!(ast.warnings[0].location.line, 4);
    }

    #[test]
    fn argument_spans() {
        let src = "FROM a\nONBUILD COPY --chown=1 x \\\n  y /d/\nENV A=1 B=\"2 3\"\nCMD [\"sh\", \"-c\"]\n";
        let ast = parse(src).unwrap();
        let text =
            |n: &Node| -> Vec<&str> { n.arg_spans.iter().map(|s| &src[s.start..s.end]).collect() };
        assert_eq!(text(&ast.children[0]), ["a"]);
        assert_eq!(text(&ast.children[1].children[0]), ["x", "y", "/d/"]);
        assert_eq!(text(&ast.children[2]), ["A", "1", "=", "B", "\"2 3\"", "="]);
        assert_eq!(text(&ast.children[3]), ["sh", "-c"]);
        let child = &ast.children[1].children[0];
        assert_eq!(
            &src[child.span_of("--chown").start..child.span_of("--chown").end],
            "--chown"
        );
    }

    #[test]
    fn errors_carry_locations() {
        let err = parse("FROM a\nRUN <<EOF\nx\n").unwrap_err();
        assert_eq!(err.code(), "unterminated-heredoc");
        assert_eq!(err.line(), 2);
        let err = parse("# escape=x\nFROM a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid escape token 'x' does not match ` or \\"
        );
        let err = parse("\u{feff}# escape=`\n# ESCAPE=\\\nFROM a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "only one escape parser directive can be used"
        );
        assert_eq!(err.line(), 2);
    }
}
