//! Heredoc discovery (spec §7): which words of an instruction open a heredoc.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char, digit0};
use nom::combinator::opt;
use serde::{Deserialize, Serialize};

use super::Span;
use crate::dockerfile::expand::{ExpandError, Lexer, NoEnv};

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heredoc {
    /// The delimiter with quotes removed (`EOF` for `<<'EOF'`); COPY uses it as the file name.
    pub name: String,
    /// The body: the raw lines up to the terminator, newlines included, tabs not stripped.
    pub content: String,
    /// `false` when any part of the delimiter was quoted: the body is then used verbatim.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from body lines when the body is used.
    pub chomp: bool,
    /// The file descriptor before `<<` (`3<<EOF`), 0 when absent.
    pub file_descriptor: u64,
    /// Byte span of the body in the source.
    pub content_span: Span,
}

impl Heredoc {
    /// The body as the instruction uses it: leading tabs removed from every line for `<<-`.
    pub fn chomped_content(&self) -> String {
        if self.chomp {
            chomp(&self.content)
        } else {
            self.content.clone()
        }
    }
}

/// Removes all leading tabs of every line.
pub fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

/// Go's regexp `\s`.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

/// Tests one word against `^(\d*)<<(-?)\s*([^<]*)$`: `Ok(None)` when it is not a heredoc word, an
/// error when its delimiter does not lex (unbalanced quote).
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, ExpandError> {
    let head: IResult<&str, (&str, &str, Option<char>, &str)> =
        (digit0, tag("<<"), opt(char('-')), take_while(is_go_space)).parse(word);
    let Ok((rest, (fd, _, dash, _))) = head else {
        return Ok(None);
    };
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let lex = Lexer {
        skip_unset_env: true,
        ..Lexer::new('\\')
    };
    let words = lex.process_words(rest, &NoEnv)?;
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    let raw = Lexer {
        raw_quotes: true,
        ..lex
    }
    .process_words(rest, &NoEnv)?;
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    let expand = raw.first().is_some_and(|r| quotes(r) == quotes(name));
    Ok(Some(Heredoc {
        name: name.clone(),
        content: String::new(),
        expand,
        chomp: dash.is_some(),
        file_descriptor: if fd.is_empty() {
            0
        } else {
            fd.parse().unwrap_or(u64::MAX)
        },
        content_span: Span::default(),
    }))
}

/// The heredocs opened by a whole instruction line, in order (bodies still empty).
pub fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, ExpandError> {
    let lex = Lexer {
        raw_quotes: true,
        raw_escapes: true,
        skip_unset_env: true,
        ..Lexer::new('\\')
    };
    let Ok(words) = lex.process_words(line, &NoEnv) else {
        return Ok(Vec::new());
    };
    let mut docs = Vec::new();
    for word in words {
        if let Some(doc) = parse_heredoc(&word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}
