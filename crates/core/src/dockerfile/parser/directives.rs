//! Parser directives (spec §2): `# syntax=…`, `# escape=…`, `# check=…` at the top of the file.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::recognize;

use super::{ParseErrorKind, Span};
use serde::{Deserialize, Serialize};

/// A recognised parser directive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directive {
    /// `syntax`, `escape` or `check` (lower-cased).
    pub name: String,
    /// The value as written, trailing whitespace trimmed.
    pub value: String,
    /// 1-based line.
    pub line: usize,
    /// Byte span of the line.
    pub span: Span,
}

/// Go's regexp `\s`: `[\t\n\f\r ]`.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

/// Matches `^<prefix>\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` and returns (name, value).
fn directive_line<'a>(prefix: &str, line: &'a str) -> Option<(&'a str, &'a str)> {
    let head: IResult<&'a str, &'a str> = (tag(prefix), take_while(is_go_space))
        .map(|(_, _)| "")
        .parse(line);
    let (rest, _) = head.ok()?;
    let name: IResult<&'a str, (&'a str, &'a str, char, &'a str)> = (
        recognize((
            satisfy(|c| c.is_ascii_alphabetic()),
            take_while(|c: char| c.is_ascii_alphanumeric()),
        )),
        take_while(is_go_space),
        char('='),
        take_while(|_| true),
    )
        .parse(rest);
    let (_, (name, _, _, after)) = name.ok()?;
    if after.contains('\n') {
        return None;
    }
    let lead: IResult<&'a str, &'a str> = take_while1(is_go_space).parse(after);
    let value = after
        .trim_start_matches(is_go_space)
        .trim_end_matches(is_go_space);
    if !value.is_empty() {
        return Some((name, value));
    }
    // All blanks: the lazy `.+?` takes the last blank character.
    match lead {
        Ok((_, blanks)) => {
            let last = blanks.chars().next_back()?;
            Some((name, &blanks[blanks.len() - last.len_utf8()..]))
        }
        Err(_) => None,
    }
}

/// The line-by-line directive scanner (BuildKit's `DirectiveParser`).
#[derive(Debug)]
pub(crate) struct DirectiveParser {
    prefix: &'static str,
    done: bool,
    parsed: Vec<Directive>,
}

impl DirectiveParser {
    pub(crate) fn new(prefix: &'static str) -> Self {
        DirectiveParser {
            prefix,
            done: false,
            parsed: Vec::new(),
        }
    }

    /// Looks at one line; scanning stops for good at the first non-directive.
    pub(crate) fn parse_line(
        &mut self,
        line: &str,
        number: usize,
        span: Span,
    ) -> Result<Option<Directive>, ParseErrorKind> {
        if self.done {
            return Ok(None);
        }
        let Some((name, value)) = directive_line(self.prefix, line) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(None);
        }
        if self.parsed.iter().any(|d| d.name == name) {
            return Err(ParseErrorKind::DuplicateDirective(name));
        }
        let d = Directive {
            name,
            value: value.to_string(),
            line: number,
            span,
        };
        self.parsed.push(d.clone());
        Ok(Some(d))
    }

    pub(crate) fn into_parsed(self) -> Vec<Directive> {
        self.parsed
    }
}

/// Every directive at the top of `src` (BuildKit's `ParseAll` with `#` comments).
pub fn parse_directives(src: &str) -> Result<Vec<Directive>, ParseErrorKind> {
    let mut p = DirectiveParser::new("#");
    let mut offset = 0;
    for (i, raw) in src.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        p.parse_line(line, i + 1, Span::new(offset, offset + line.len()))?;
        offset += raw.len();
        if p.done {
            break;
        }
    }
    Ok(p.into_parsed())
}

/// The `syntax` (or `check`) directive as the build front end detects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntaxDirective {
    /// The value up to the first space (the front-end image reference).
    pub reference: String,
    /// The whole value.
    pub cmdline: String,
    /// 1-based line of the directive (0 for a JSON document).
    pub line: usize,
}

/// Detects the `syntax` directive like BuildKit's front end: skips a `#!` first line, accepts
/// a whole-file JSON object `{"syntax": "…"}`, `//syntax=` and `#syntax=` comments.
pub fn detect_syntax(src: &str) -> Option<SyntaxDirective> {
    detect(src, "syntax", true)
}

/// Detects the `check` directive (only `#` comments count).
pub fn detect_check(src: &str) -> Option<SyntaxDirective> {
    detect(src, "check", false)
}

fn detect(src: &str, key: &str, slashes: bool) -> Option<SyntaxDirective> {
    let mut src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut line_base = 0;
    if src.starts_with("#!") {
        src = src.find('\n').map_or("", |i| &src[i + 1..]);
        line_base = 1;
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(src)
        && let Some(serde_json::Value::String(v)) = map.get(key)
    {
        return Some(found(v, line_base));
    }
    let prefixes: &[&'static str] = if slashes { &["//", "#"] } else { &["#"] };
    for prefix in prefixes {
        let mut p = DirectiveParser::new(prefix);
        for (i, line) in src.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if let Ok(Some(d)) = p.parse_line(line, line_base + i + 1, Span::default())
                && d.name == key
            {
                return Some(found(&d.value, d.line));
            }
            if p.done {
                break;
            }
        }
    }
    None
}

fn found(value: &str, line: usize) -> SyntaxDirective {
    SyntaxDirective {
        reference: value.split(' ').next().unwrap_or_default().to_string(),
        cmdline: value.to_string(),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_regex() {
        assert_eq!(directive_line("#", "# escape = ` "), Some(("escape", "`")));
        assert_eq!(directive_line("#", "#escape=\\"), Some(("escape", "\\")));
        assert_eq!(directive_line("#", "# escape="), None);
        assert_eq!(directive_line("#", "# escape=  "), Some(("escape", " ")));
        assert_eq!(directive_line("#", "# 1x=y"), None);
        assert_eq!(
            directive_line("//", "//syntax=foo"),
            Some(("syntax", "foo"))
        );
    }
}
