//! Word expansion: BuildKit's variable lexer (spec §10–§11).
//!
//! One lexer serves every builder-side expansion: `$VAR` and every `${…}` form, single and double
//! quotes, the escape token, and word splitting. [`Lexer::process_word`] gives one string
//! (ProcessWord), [`Lexer::process_words`] a list of words (ProcessWords, used by EXPOSE and heredoc
//! discovery).
//!
//! ```
//! use std::collections::BTreeMap;
//! use layerbox_core::dockerfile::expand::Lexer;
//!
//! let env = BTreeMap::from([("NAME".to_string(), "world".to_string())]);
//! let lex = Lexer::new('\\');
//! assert_eq!(lex.process_word("hello ${NAME:-x} '$NAME'", &env).unwrap(), "hello world $NAME");
//! assert_eq!(lex.process_words("a \"b c\" $NAME", &env).unwrap(), ["a", "b c", "world"]);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::quote::go_quote;

/// A source of variable values for expansion (the build-time environment).
///
/// Keys are case-sensitive, as on Linux (layerbox does not model Windows containers).
pub trait Env {
    /// The value of `name`, or `None` when it is not set (an empty value is set).
    fn get_var(&self, name: &str) -> Option<&str>;
}

impl<S: BuildHasher> Env for HashMap<String, String, S> {
    fn get_var(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl Env for BTreeMap<String, String> {
    fn get_var(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// An ordered list of `(key, value)` pairs; the last entry for a key wins, as in BuildKit.
impl Env for [(String, String)] {
    fn get_var(&self, name: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Env for Vec<(String, String)> {
    fn get_var(&self, name: &str) -> Option<&str> {
        self.as_slice().get_var(name)
    }
}

/// The empty environment: every variable is unset.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn get_var(&self, _name: &str) -> Option<&str> {
        None
    }
}

/// Builds an environment from `KEY=VALUE` strings like BuildKit's `BuildEnvs`: an entry without
/// `=` defines the key with an empty value, and the last duplicate wins.
pub fn env_from_list<S: AsRef<str>>(list: &[S]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for entry in list {
        let entry = entry.as_ref();
        match entry.split_once('=') {
            Some((k, v)) => env.insert(k.to_string(), v.to_string()),
            None => env.insert(entry.to_string(), String::new()),
        };
    }
    env
}

/// Why an expansion failed (the inner message of [`ExpandError`]).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExpandErrorKind {
    /// `${` at the end of input, or a `${name<op>word` without its closing brace.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${}`, `${:x}`, `${{x}`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// `${name/pattern` without the second `/`.
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    /// An operator BuildKit does not implement (`:=`, `=`, `:#` …); U+FFFD stands for end of input.
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${name?message}` / `${name:?message}` with the variable unset (or empty).
    #[error("{name}: {message}")]
    Required {
        /// The variable name.
        name: String,
        /// The message written in the word, or BuildKit's default text.
        message: String,
    },
    /// A backslash escape other than `\*`, `\?`, `\\` in a `#`, `%` or `/` pattern.
    #[error("invalid pattern ({pattern}) in substitution: invalid escape '\\{escaped}'")]
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// The escaped character (U+FFFD for end of input).
        escaped: char,
    },
    /// A `'` without its closing quote.
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingleQuote,
    /// A `"` without its closing quote.
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDoubleQuote,
    /// A nested word without its terminator.
    #[error("unexpected end of statement while looking for matching {0}")]
    Unterminated(char),
    /// `${a:-${b:-…}}` nested deeper than [`MAX_NESTING`] (a layerbox limit: BuildKit has none,
    /// but the browser's stack is small).
    #[error("substitutions nested too deeply (more than {MAX_NESTING})")]
    TooDeep,
}

/// The deepest `${…}` nesting the lexer accepts.
pub const MAX_NESTING: usize = 256;

/// An expansion error: `failed to process "<input>": <kind>`, with the byte offset in the input
/// where it was detected so a caller can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("failed to process {}: {kind}", go_quote(.input))]
pub struct ExpandError {
    /// The whole word that was being expanded.
    pub input: String,
    /// Byte offset in `input` where the lexer stopped.
    pub offset: usize,
    /// The inner error.
    pub kind: ExpandErrorKind,
}

impl ExpandError {
    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ExpandErrorKind::MissingBrace
            | ExpandErrorKind::BadSubstitution
            | ExpandErrorKind::MissingSlash
            | ExpandErrorKind::UnsupportedModifier(_) => "expand-bad-substitution",
            ExpandErrorKind::Required { .. } => "expand-required-variable",
            ExpandErrorKind::InvalidPattern { .. } => "expand-invalid-pattern",
            ExpandErrorKind::UnterminatedSingleQuote
            | ExpandErrorKind::UnterminatedDoubleQuote
            | ExpandErrorKind::Unterminated(_) => "expand-unterminated-quote",
            ExpandErrorKind::TooDeep => "expand-too-deep",
        }
    }
}

/// The full result of one expansion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expansion {
    /// The single-word result (ProcessWord).
    pub result: String,
    /// The words after splitting (ProcessWords).
    pub words: Vec<String>,
    /// Variables that were looked up and found.
    pub matched: BTreeSet<String>,
    /// Variables that were looked up and not found (lint UndefinedVar uses these).
    pub unmatched: BTreeSet<String>,
}

/// BuildKit's shell-word lexer with its options (spec §10.1).
#[allow(clippy::struct_excessive_bools)] // four independent switches, as in BuildKit's `Lex`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lexer {
    /// The escape token: `\` or `` ` `` (from the `escape` directive).
    pub escape: char,
    /// Keep quote characters in the output.
    pub raw_quotes: bool,
    /// Keep escape tokens in the output.
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters (heredoc body expansion).
    pub skip_process_quotes: bool,
    /// Leave unset variables as their `$NAME` / `${…}` text instead of expanding them to empty.
    pub skip_unset_env: bool,
}

impl Lexer {
    /// The lexer used for instruction arguments: quotes and escapes removed, unset variables empty.
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset_env: false,
        }
    }

    /// The lexer for heredoc bodies of COPY/ADD: escape `\`, quotes are ordinary characters.
    pub fn heredoc_body() -> Self {
        Lexer {
            skip_process_quotes: true,
            ..Lexer::new('\\')
        }
    }

    /// Expands `word` to one string (ProcessWord).
    pub fn process_word(
        &self,
        word: &str,
        env: &(impl Env + ?Sized),
    ) -> Result<String, ExpandError> {
        self.process(word, env).map(|e| e.result)
    }

    /// Expands `word` and splits the result into words (ProcessWords).
    pub fn process_words(
        &self,
        word: &str,
        env: &(impl Env + ?Sized),
    ) -> Result<Vec<String>, ExpandError> {
        self.process(word, env).map(|e| e.words)
    }

    /// Expands `word`, returning the string, the words and the matched/unmatched variables.
    pub fn process(&self, word: &str, env: &(impl Env + ?Sized)) -> Result<Expansion, ExpandError> {
        let mut sw = ShellWord {
            lex: *self,
            env: &EnvRef(env),
            scanner: Scanner { src: word, pos: 0 },
            raw_escapes: self.raw_escapes,
            depth: 0,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        };
        match sw.process_stop_on(None, self.raw_escapes) {
            Ok((result, words)) => Ok(Expansion {
                result,
                words,
                matched: sw.matched,
                unmatched: sw.unmatched,
            }),
            Err(kind) => Err(ExpandError {
                input: word.to_string(),
                offset: sw.scanner.pos,
                kind,
            }),
        }
    }
}

/// Type-erases the environment so the lexer's recursion is not generic.
struct EnvRef<'e, E: ?Sized>(&'e E);

trait DynEnv {
    fn var(&self, name: &str) -> Option<&str>;
}

impl<E: Env + ?Sized> DynEnv for EnvRef<'_, E> {
    fn var(&self, name: &str) -> Option<&str> {
        self.0.get_var(name)
    }
}

struct Scanner<'a> {
    src: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
}

/// Word splitting state: text from `$` expansion splits on spaces, everything else is raw.
#[allow(clippy::struct_field_names)]
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        for c in s.chars() {
            self.add_char(c);
        }
    }

    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

struct ShellWord<'a, 'e> {
    lex: Lexer,
    env: &'e dyn DynEnv,
    scanner: Scanner<'a>,
    raw_escapes: bool,
    depth: usize,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

type Inner<T> = Result<T, ExpandErrorKind>;

impl ShellWord<'_, '_> {
    fn get_env(&mut self, name: &str) -> Option<String> {
        if let Some(v) = self.env.var(name) {
            self.matched.insert(name.to_string());
            Some(v.to_string())
        } else {
            self.unmatched.insert(name.to_string());
            None
        }
    }

    /// Processes up to `stop` (consumed) or the end of input when `stop` is `None`.
    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Inner<(String, Vec<String>)> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let out = self.process_stop_on_inner(stop);
        self.raw_escapes = saved;
        out
    }

    fn process_stop_on_inner(&mut self, stop: Option<char>) -> Inner<(String, Vec<String>)> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.scanner.peek() {
            if stop == Some(c) {
                self.scanner.next();
                return Ok((result, words.finish()));
            }
            let quotes = !self.lex.skip_process_quotes;
            if c == '$' {
                let tmp = self.process_dollar()?;
                result.push_str(&tmp);
                words.add_string(&tmp);
            } else if quotes && c == '\'' {
                let tmp = self.process_single_quote()?;
                result.push_str(&tmp);
                words.add_raw_string(&tmp);
            } else if quotes && c == '"' {
                let tmp = self.process_double_quote()?;
                result.push_str(&tmp);
                words.add_raw_string(&tmp);
            } else {
                let c = self.scanner.next().unwrap_or_default();
                if c == self.lex.escape {
                    if self.raw_escapes {
                        words.add_raw_char(c);
                        result.push(c);
                    }
                    let Some(c) = self.scanner.next() else { break };
                    words.add_raw_char(c);
                    result.push(c);
                } else if c == '<' && self.scanner.peek() == Some('<') {
                    // A heredoc marker stays glued to the blanks that follow it.
                    self.scanner.next();
                    words.add_raw_string("<<");
                    result.push_str("<<");
                    while let Some(b @ (' ' | '\t' | '\r')) = self.scanner.peek() {
                        self.scanner.next();
                        words.add_raw_char(b);
                        result.push(b);
                    }
                } else {
                    words.add_char(c);
                    result.push(c);
                }
            }
        }
        if let Some(stop) = stop {
            return Err(ExpandErrorKind::Unterminated(stop));
        }
        Ok((result, words.finish()))
    }

    fn process_single_quote(&mut self) -> Inner<String> {
        let mut result = String::new();
        let open = self.scanner.next().unwrap_or('\'');
        if self.lex.raw_quotes {
            result.push(open);
        }
        loop {
            match self.scanner.next() {
                None => return Err(ExpandErrorKind::UnterminatedSingleQuote),
                Some('\'') => {
                    if self.lex.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Inner<String> {
        let mut result = String::new();
        let open = self.scanner.next().unwrap_or('"');
        if self.lex.raw_quotes {
            result.push(open);
        }
        loop {
            match self.scanner.peek() {
                None => return Err(ExpandErrorKind::UnterminatedDoubleQuote),
                Some('"') => {
                    self.scanner.next();
                    if self.lex.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                }
                Some(_) => {
                    let mut c = self.scanner.next().unwrap_or_default();
                    if c == self.lex.escape {
                        if self.raw_escapes {
                            result.push(c);
                        }
                        match self.scanner.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lex.escape => {
                                self.scanner.next();
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(c);
                }
            }
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.scanner.peek() {
            if name.is_empty() && c.is_numeric() {
                while let Some(d) = self.scanner.peek().filter(|d| d.is_numeric()) {
                    self.scanner.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.scanner.next();
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            self.scanner.next();
            name.push(c);
        }
        name
    }

    /// A nested word up to `stop`; running out of input becomes `missing`.
    fn nested(&mut self, stop: char, raw_escapes: bool, missing: ExpandErrorKind) -> Inner<String> {
        if self.depth >= MAX_NESTING {
            return Err(ExpandErrorKind::TooDeep);
        }
        self.depth += 1;
        let out = self.process_stop_on(Some(stop), raw_escapes);
        self.depth -= 1;
        match out {
            Ok((word, _)) => Ok(word),
            Err(_) if self.scanner.peek().is_none() => Err(missing),
            Err(e) => Err(e),
        }
    }

    fn process_dollar(&mut self) -> Inner<String> {
        self.scanner.next();
        if self.scanner.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.scanner.next();
        match self.scanner.peek() {
            None => return Err(ExpandErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandErrorKind::BadSubstitution),
            Some(_) => {}
        }
        let name = self.process_name();
        let op = self.scanner.next();
        let mut ops = op.unwrap_or('\u{FFFD}').to_string();
        match op {
            Some('}') => Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(c @ (':' | '+' | '-' | '?' | '#' | '%')) => {
                let null_is_unset = c == ':';
                let op = if null_is_unset {
                    let next = self.scanner.next();
                    ops.push(next.unwrap_or('\u{FFFD}'));
                    next
                } else {
                    Some(c)
                };
                let raw = matches!(op, Some('#' | '%'));
                if null_is_unset && raw {
                    return Err(ExpandErrorKind::UnsupportedModifier(ops));
                }
                let word = self.nested('}', raw, ExpandErrorKind::MissingBrace)?;
                let value = self.get_env(&name);
                if self.lex.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}{ops}{word}}}"));
                }
                let empty = value
                    .as_deref()
                    .is_none_or(|v| null_is_unset && v.is_empty());
                match op {
                    Some('-') => Ok(if empty {
                        word
                    } else {
                        value.unwrap_or_default()
                    }),
                    Some('+') => Ok(if empty { String::new() } else { word }),
                    Some('?') => match value {
                        None => Err(required(name, word, "is not allowed to be unset")),
                        Some(v) if null_is_unset && v.is_empty() => {
                            Err(required(name, word, "is not allowed to be empty"))
                        }
                        Some(v) => Ok(v),
                    },
                    Some(c @ ('#' | '%')) => {
                        let (pattern, greedy) = match word.strip_prefix(c) {
                            Some(rest) => (rest, true),
                            None => (word.as_str(), false),
                        };
                        let value = value.unwrap_or_default();
                        if c == '%' {
                            trim_suffix(pattern, &value, greedy)
                        } else {
                            trim_prefix(pattern, &value, greedy)
                        }
                    }
                    _ => Err(ExpandErrorKind::UnsupportedModifier(ops)),
                }
            }
            Some('/') => {
                let replace_all = self.scanner.peek() == Some('/');
                if replace_all {
                    self.scanner.next();
                }
                let pattern = self.nested('/', true, ExpandErrorKind::MissingSlash)?;
                let replacement = self.nested('}', true, ExpandErrorKind::MissingBrace)?;
                let value = self.get_env(&name);
                if self.lex.skip_unset_env && value.is_none() {
                    return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
                }
                let value = value.unwrap_or_default();
                let pat = Pattern::parse(&pattern, true).map_err(|escaped| {
                    ExpandErrorKind::InvalidPattern {
                        pattern: pattern.clone(),
                        escaped,
                    }
                })?;
                Ok(if replace_all {
                    pat.replace_all(&value, &replacement)
                } else {
                    pat.replace_first(&value, &replacement)
                })
            }
            _ => Err(ExpandErrorKind::UnsupportedModifier(ops)),
        }
    }
}

fn required(name: String, word: String, default: &str) -> ExpandErrorKind {
    let message = if word.is_empty() {
        default.to_string()
    } else {
        word
    };
    ExpandErrorKind::Required { name, message }
}

fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Inner<String> {
    let pat =
        Pattern::parse(pattern, greedy).map_err(|escaped| ExpandErrorKind::InvalidPattern {
            pattern: pattern.to_string(),
            escaped,
        })?;
    Ok(match pat.match_prefix(value) {
        Some(end) => value[end..].to_string(),
        None => value.to_string(),
    })
}

fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Inner<String> {
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reverse_string(value), greedy)?;
    Ok(reverse_string(&trimmed))
}

/// Reverses a pattern keeping escape pairs in order (`a\*c` → `c\*a`), so that suffix trimming can
/// be done as prefix trimming on reversed text.
pub fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = vec!['\0'; chars.len()];
    let last = chars.len().saturating_sub(1);
    let mut i = 0;
    while i < chars.len() {
        let out_idx = last - i;
        if chars[i] == '\\' && i != last {
            out[out_idx - 1] = '\\';
            out[out_idx] = chars[i + 1];
            i += 2;
        } else {
            out[out_idx] = chars[i];
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Reverses a string by characters.
pub fn reverse_string(s: &str) -> String {
    s.chars().rev().collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Any,
    Star,
}

/// A shell pattern of `${VAR#…}`, `${VAR%…}`, `${VAR/…/…}`: `*`, `?` and `\` escapes, no brackets.
///
/// BuildKit converts these to Go regular expressions; this matcher gives the same matches
/// (leftmost-first, greedy or lazy stars, `.` not matching a newline) without a regex engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    toks: Vec<Tok>,
    greedy: bool,
}

impl Pattern {
    /// Parses `pattern`; `Err(c)` is the character after an invalid `\` (U+FFFD at end of input).
    pub fn parse(pattern: &str, greedy: bool) -> Result<Self, char> {
        let mut toks = Vec::new();
        let mut it = pattern.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '*' => toks.push(Tok::Star),
                '?' => toks.push(Tok::Any),
                '\\' => {
                    if matches!(it.peek(), Some('}' | '/')) {
                        continue;
                    }
                    match it.next() {
                        Some(e @ ('*' | '?' | '\\')) => toks.push(Tok::Lit(e)),
                        other => return Err(other.unwrap_or('\u{FFFD}')),
                    }
                }
                c => toks.push(Tok::Lit(c)),
            }
        }
        Ok(Pattern { toks, greedy })
    }

    /// The Go regular expression BuildKit would compile for this pattern.
    pub fn to_regex(&self, anchored: bool) -> String {
        let mut out = String::new();
        if anchored {
            out.push('^');
        }
        for t in &self.toks {
            match *t {
                Tok::Star => out.push_str(if self.greedy { ".*" } else { ".*?" }),
                Tok::Any => out.push('.'),
                Tok::Lit(c) => {
                    if "[]{}.+()|^$*?\\".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
        out
    }

    /// The end (byte offset) of the match anchored at the start of `value`, if any.
    pub fn match_prefix(&self, value: &str) -> Option<usize> {
        let text: Vec<(usize, char)> = value.char_indices().collect();
        Matcher::new(self, &text)
            .at(0)
            .map(|end| byte_at(&text, value, end))
    }

    /// Replaces the leftmost match with `replacement`, verbatim.
    pub fn replace_first(&self, value: &str, replacement: &str) -> String {
        let text: Vec<(usize, char)> = value.char_indices().collect();
        let mut m = Matcher::new(self, &text);
        for start in 0..=text.len() {
            if let Some(end) = m.at(start) {
                let (a, b) = (byte_at(&text, value, start), byte_at(&text, value, end));
                return format!("{}{}{}", &value[..a], replacement, &value[b..]);
            }
        }
        value.to_string()
    }

    /// Replaces every match like Go's `Regexp.ReplaceAllString`, including its template expansion
    /// of `$0`, `$name`, `${name}` and `$$` in the replacement.
    pub fn replace_all(&self, value: &str, replacement: &str) -> String {
        let text: Vec<(usize, char)> = value.char_indices().collect();
        let mut m = Matcher::new(self, &text);
        let mut out = String::new();
        let mut last_end = 0; // char index
        let mut search = 0;
        while search <= text.len() {
            let Some((a, b)) = (search..=text.len()).find_map(|s| m.at(s).map(|e| (s, e))) else {
                break;
            };
            out.push_str(&value[byte_at(&text, value, last_end)..byte_at(&text, value, a)]);
            if b > last_end || a == 0 {
                let matched = &value[byte_at(&text, value, a)..byte_at(&text, value, b)];
                expand_template(&mut out, replacement, matched);
            }
            last_end = b;
            search = if search + 1 > b { search + 1 } else { b };
        }
        out.push_str(&value[byte_at(&text, value, last_end)..]);
        out
    }
}

fn byte_at(text: &[(usize, char)], value: &str, idx: usize) -> usize {
    text.get(idx).map_or(value.len(), |&(b, _)| b)
}

/// Go's `Regexp.Expand` for a regex without capture groups: `$0` is the match, other names empty.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let is_name = |c: char| c == '_' || c.is_alphanumeric();
        let (name, after) = if let Some(r) = rest.strip_prefix('{') {
            match r.find('}') {
                Some(end) if end > 0 && r[..end].chars().all(is_name) => (&r[..end], &r[end + 1..]),
                _ => ("", rest),
            }
        } else {
            let end = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        if name.parse::<u64>() == Ok(0) {
            out.push_str(matched);
        }
        rest = after;
    }
    out.push_str(rest);
}

/// Backtracking matcher: explores alternatives in regex priority order, so the first match found
/// is the one Go's leftmost-first engine reports. It uses an explicit stack (patterns can be long
/// and the browser's stack is small) and remembers failed states, so no state is explored twice.
struct Matcher<'p> {
    toks: &'p [Tok],
    greedy: bool,
    text: Vec<char>,
    /// `run[i]`: how many characters from `i` on are not a newline (what `.*` can take).
    run: Vec<usize>,
    failed: HashSet<(usize, usize)>,
}

impl<'p> Matcher<'p> {
    fn new(p: &'p Pattern, text: &[(usize, char)]) -> Self {
        let text: Vec<char> = text.iter().map(|&(_, c)| c).collect();
        let mut run = vec![0; text.len() + 1];
        for i in (0..text.len()).rev() {
            run[i] = if text[i] == '\n' { 0 } else { run[i + 1] + 1 };
        }
        Matcher {
            toks: &p.toks,
            greedy: p.greedy,
            text,
            run,
            failed: HashSet::new(),
        }
    }

    /// The end (char index) of the preferred match starting at `start`.
    fn at(&mut self, start: usize) -> Option<usize> {
        // (pattern index, text index, next alternative to try)
        let mut stack = vec![(0usize, start, 0usize)];
        while let Some(frame) = stack.last_mut() {
            let (pi, ti, alt) = *frame;
            let Some(tok) = self.toks.get(pi) else {
                return Some(ti);
            };
            frame.2 += 1;
            let next = if self.failed.contains(&(pi, ti)) {
                None
            } else {
                match *tok {
                    Tok::Lit(c) => (alt == 0 && self.text.get(ti) == Some(&c)).then_some(ti + 1),
                    Tok::Any => (alt == 0 && self.text.get(ti).is_some_and(|&c| c != '\n'))
                        .then_some(ti + 1),
                    Tok::Star => {
                        let max = self.run[ti];
                        (alt <= max).then(|| {
                            if self.greedy {
                                ti + max - alt
                            } else {
                                ti + alt
                            }
                        })
                    }
                }
            };
            if let Some(nti) = next {
                stack.push((pi + 1, nti, 0));
            } else {
                self.failed.insert((pi, ti));
                stack.pop();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        env_from_list(&["PWD=/home", "EMPTY="])
    }

    #[test]
    fn expands_and_splits() {
        let lex = Lexer::new('\\');
        assert_eq!(
            lex.process_word("he${PWD:+${PWD}:}xx", &env()).unwrap(),
            "he/home:xx"
        );
        assert_eq!(
            lex.process_words("<<  EOF a", &NoEnv).unwrap(),
            ["<<  EOF", "a"]
        );
        let err = lex.process_word("${FOO:?msg}", &NoEnv).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to process \"${FOO:?msg}\": FOO: msg"
        );
        let deep = format!(
            "{}x{}",
            "${a:-".repeat(MAX_NESTING + 1),
            "}".repeat(MAX_NESTING + 1)
        );
        assert_eq!(
            lex.process_word(&deep, &NoEnv).unwrap_err().kind,
            ExpandErrorKind::TooDeep
        );
        let ok = format!(
            "{}x{}",
            "${a:-".repeat(MAX_NESTING),
            "}".repeat(MAX_NESTING)
        );
        assert_eq!(lex.process_word(&ok, &NoEnv).unwrap(), "x");
        let err = lex.process_word("${FOO", &NoEnv).unwrap_err();
        assert_eq!(
            err.kind.to_string(),
            "unsupported modifier (\u{FFFD}) in substitution"
        );
    }

    #[test]
    fn keeps_unset_when_asked() {
        let lex = Lexer {
            skip_unset_env: true,
            raw_quotes: true,
            raw_escapes: true,
            ..Lexer::new('\\')
        };
        assert_eq!(
            lex.process_word("$A ${B} ${C:-x} 'q' \\n", &NoEnv).unwrap(),
            "$A ${B} ${C:-x} 'q' \\n"
        );
    }

    #[test]
    fn patterns_match_like_go() {
        let p = Pattern::parse("", true).unwrap();
        assert_eq!(p.replace_all("ab", "-"), "-a-b-");
        let p = Pattern::parse("x*", true).unwrap();
        assert_eq!(p.replace_all("axxb", "[$0]"), "a[xxb]");
        let p = Pattern::parse("*", true).unwrap();
        assert_eq!(p.replace_all("ab", "[$0]$$${x}"), "[ab]$");
        assert_eq!(Pattern::parse("\\x", true), Err('x'));
        // Long patterns and values: no deep recursion, no blow-up.
        let p = Pattern::parse(&"a?".repeat(20_000), false).unwrap();
        assert_eq!(p.match_prefix(&"ab".repeat(20_000)), Some(40_000));
        assert_eq!(p.match_prefix(&"ab".repeat(19_999)), None);
        let p = Pattern::parse(&"*a".repeat(100), false).unwrap();
        assert_eq!(p.match_prefix(&"a".repeat(99)), None);
    }
}
