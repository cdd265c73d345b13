//! `awk`: the subset RUN lines use, with busybox awk's error texts.
//!
//! Patterns (`BEGIN`, `END`, `/re/`, expressions, ranges), actions with `print`/`printf`
//! (also `> file` and `>> file` on the union filesystem), `if`/`else`, `while`, `do`, `for`,
//! `for (k in a)`, `next`, `exit`, `delete`, associative arrays, fields and `NF`/`NR`/`FNR`/
//! `FS`/`OFS`/`ORS`/`RS`/`FILENAME`/`SUBSEP`/`ENVIRON`, string concatenation, assignment
//! operators, `getline [var]` from the input, and the builtins `length`, `substr`, `index`,
//! `split`, `sub`, `gsub`, `match`, `sprintf`, `tolower`, `toupper`, `int`. User-defined
//! functions, pipes and math functions are not modelled (busybox-static has no math either).

// awk's numbers are C doubles: the casts between them and integers, and their exact
// comparisons, are the language's own semantics; short names follow the awk grammar.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::float_cmp,
    clippy::many_single_char_names
)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use regex_lite::Regex;

use super::regex::compile;
use crate::fs::FileData;
use crate::sim::shell::utility::Ctx;

/// `awk [-F fs] [-v var=value]... [-f progfile | 'program'] [file | var=value]...`
pub(crate) fn awk(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut fs_arg = None;
    let mut assigns = Vec::new();
    let mut program = None;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if a.len() < 2 || !a.starts_with('-') {
            break;
        }
        let (flag, rest) = a[1..].split_at(1);
        let value = if rest.is_empty() {
            i += 1;
            args.get(i).cloned()
        } else {
            Some(rest.to_owned())
        };
        let Some(value) = value else {
            ctx.err(format!(
                "awk: option requires an argument -- '{flag}'\n{USAGE}"
            ));
            return 1;
        };
        match flag {
            "F" => fs_arg = Some(value),
            "v" => assigns.push(value),
            "f" => match ctx.read_file(&value) {
                Ok(b) => program = Some(String::from_utf8_lossy(&b).into_owned()),
                Err(e) => {
                    ctx.err(format!("awk: {value}: {}\n", e.strerror()));
                    return 1;
                }
            },
            "e" => program = Some(value),
            _ => {
                ctx.err(format!("awk: invalid option -- '{flag}'\n{USAGE}"));
                return 1;
            }
        }
        i += 1;
    }
    let program = if let Some(p) = program {
        p
    } else {
        let Some(p) = args.get(i) else {
            ctx.err(USAGE);
            return 1;
        };
        i += 1;
        p.clone()
    };
    let prog = match Parser::new(&program).and_then(|mut p| p.program()) {
        Ok(p) => p,
        Err(e) => {
            ctx.err(format!("awk: cmd. line:{}: {e}\n", e.line));
            return 1;
        }
    };
    let mut it = Interp::new(&prog);
    let environ: BTreeMap<String, Value> = ctx
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::StrNum(v.clone())))
        .collect();
    it.arrays.insert("ENVIRON".to_owned(), environ);
    if let Some(f) = fs_arg {
        let f = if f == "t" {
            "\t".to_owned()
        } else {
            unescape(&f)
        };
        it.set_var("FS", Value::Str(f));
    }
    for a in &assigns {
        let Some((name, value)) = a.split_once('=') else {
            ctx.err(USAGE);
            return 1;
        };
        it.set_var(name, Value::StrNum(unescape(value)));
    }
    it.operands = args[i..].to_vec();
    let status = match it.run(ctx) {
        Err(Stop::Error(msg)) => {
            it.flush(ctx);
            ctx.err(format!("awk: cmd. line:{}: {msg}\n", it.line));
            return 1;
        }
        Err(Stop::Io(msg)) => {
            it.flush(ctx);
            ctx.err(format!("awk: {msg}\n"));
            return 1;
        }
        Ok(()) | Err(_) => it.exit_code,
    };
    it.flush(ctx);
    status
}

const USAGE: &str = "Usage: awk [OPTIONS] [AWK_PROGRAM] [FILE]...\n";

/// The backslash escapes of awk strings and `-v` values.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('\\' | '"' | '/')) => out.push(c),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some(d @ '0'..='7') => {
                let mut n = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(v) => {
                            n = n * 8 + v;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(n).unwrap_or('?'));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ----- values -----

/// An awk value: number, string, or a string from input that compares as a number when it
/// looks like one.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Uninit,
    Num(f64),
    Str(String),
    StrNum(String),
}

impl Value {
    fn num(&self) -> f64 {
        match self {
            Value::Uninit => 0.0,
            Value::Num(n) => *n,
            Value::Str(s) | Value::StrNum(s) => str_to_num(s),
        }
    }

    fn string(&self, convfmt: &str) -> String {
        match self {
            Value::Uninit => String::new(),
            Value::Num(n) => num_to_string(*n, convfmt),
            Value::Str(s) | Value::StrNum(s) => s.clone(),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Value::Uninit => false,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::StrNum(s) => {
                if looks_numeric(s) {
                    str_to_num(s) != 0.0
                } else {
                    !s.is_empty()
                }
            }
        }
    }

    /// Compares as numbers when both are numeric (numbers, or input that looks numeric).
    fn numeric(&self) -> bool {
        match self {
            Value::Uninit | Value::Num(_) => true,
            Value::StrNum(s) => looks_numeric(s),
            Value::Str(_) => false,
        }
    }
}

/// The leading number of `s`, as `strtod` reads it (0 if none).
fn str_to_num(s: &str) -> f64 {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut end = 0;
    if end < b.len() && (b[end] == b'+' || b[end] == b'-') {
        end += 1;
    }
    let digits_start = end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end == digits_start || (end == digits_start + 1 && b[digits_start] == b'.') {
        return 0.0;
    }
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut e = end + 1;
        if e < b.len() && (b[e] == b'+' || b[e] == b'-') {
            e += 1;
        }
        if e < b.len() && b[e].is_ascii_digit() {
            while e < b.len() && b[e].is_ascii_digit() {
                e += 1;
            }
            end = e;
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

fn looks_numeric(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty()
        && t.parse::<f64>().is_ok()
        && !t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
}

fn num_to_string(n: f64, convfmt: &str) -> String {
    if n == n.trunc() && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        sprintf(convfmt, &[Value::Num(n)], convfmt)
    }
}

// ----- lexer -----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Re(String),
    Name(String),
    Builtin(&'static str),
    Kw(&'static str),
    P(&'static str),
    Newline,
    Eof,
}

const KEYWORDS: &[&str] = &[
    "BEGIN", "END", "if", "else", "while", "for", "do", "break", "continue", "next", "exit",
    "delete", "in", "getline", "print", "printf", "function", "return",
];
const BUILTINS: &[&str] = &[
    "length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "tolower", "toupper",
    "int", "system", "close", "srand", "rand",
];
const PUNCT: &[&str] = &[
    "+=", "-=", "*=", "/=", "%=", "^=", "==", "<=", ">=", "!=", "++", "--", "&&", "||", ">>", "!~",
    "{", "}", "(", ")", "[", "]", ";", ",", "+", "-", "*", "/", "%", "^", "!", ">", "<", "|", "?",
    ":", "~", "$", "=",
];

/// A syntax error and the line it is on.
#[derive(Debug)]
struct SyntaxError {
    line: usize,
    message: &'static str,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<(Tok, usize)> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let err = |line, message| SyntaxError { line, message };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => i += 1,
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                i += 2;
                line += 1;
            }
            '\n' => {
                out.push((Tok::Newline, line));
                line += 1;
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None | Some('\n') => return Err(err(line, "Unexpected end of string")),
                        Some('"') => break,
                        Some('\\') => {
                            s.push('\\');
                            if let Some(&n) = chars.get(i + 1) {
                                s.push(n);
                            }
                            i += 2;
                            continue;
                        }
                        Some(&ch) => s.push(ch),
                    }
                    i += 1;
                }
                i += 1;
                out.push((Tok::Str(unescape(&s)), line));
            }
            '/' if regex_allowed(out.last().map(|t| &t.0)) => {
                let mut s = String::new();
                i += 1;
                let mut in_class = false;
                loop {
                    match chars.get(i) {
                        None | Some('\n') => return Err(err(line, "Unexpected end of string")),
                        Some('/') if !in_class => break,
                        Some('\\') => {
                            if chars.get(i + 1) == Some(&'/') {
                                s.push('/');
                            } else {
                                s.push('\\');
                                if let Some(&n) = chars.get(i + 1) {
                                    s.push(n);
                                }
                            }
                            i += 2;
                            continue;
                        }
                        Some(&ch) => {
                            if ch == '[' {
                                in_class = true;
                            } else if ch == ']' {
                                in_class = false;
                            }
                            s.push(ch);
                        }
                    }
                    i += 1;
                }
                i += 1;
                out.push((Tok::Re(s), line));
            }
            '0'..='9' | '.' if c != '.' || chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    if (chars[i] == 'e' || chars[i] == 'E')
                        && matches!(chars.get(i + 1), Some('+' | '-'))
                    {
                        i += 1;
                    }
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = if let Some(hex) = text.strip_prefix("0x") {
                    i64::from_str_radix(hex, 16).map_or(0.0, |v| v as f64)
                } else {
                    text.parse().unwrap_or_else(|_| str_to_num(&text))
                };
                out.push((Tok::Num(n), line));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let tok = if let Some(k) = KEYWORDS.iter().find(|k| **k == word) {
                    Tok::Kw(k)
                } else if let Some(b) = BUILTINS.iter().find(|b| **b == word) {
                    Tok::Builtin(b)
                } else {
                    Tok::Name(word)
                };
                out.push((tok, line));
            }
            _ => {
                let rest: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) else {
                    return Err(err(line, "Unexpected token"));
                };
                i += p.chars().count();
                out.push((Tok::P(p), line));
            }
        }
    }
    out.push((Tok::Eof, line));
    Ok(out)
}

/// Whether a `/` here starts a regular expression (not a division).
fn regex_allowed(prev: Option<&Tok>) -> bool {
    !matches!(
        prev,
        Some(
            Tok::Num(_)
                | Tok::Str(_)
                | Tok::Name(_)
                | Tok::Builtin(_)
                | Tok::P(")" | "]" | "$" | "++" | "--")
        )
    )
}

// ----- syntax tree -----

#[derive(Debug, Clone)]
enum Expr {
    Num(f64),
    Str(String),
    Re(usize),
    Var(String),
    Field(Box<Expr>),
    Index(String, Vec<Expr>),
    Assign(Option<&'static str>, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Pos(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    Match(bool, Box<Expr>, Box<Expr>),
    In(Vec<Expr>, String),
    Incr(bool, f64, Box<Expr>),
    Call(&'static str, Vec<Expr>),
    Getline(Option<Box<Expr>>),
    Group(Box<Expr>),
}

#[derive(Debug, Clone)]
enum Stmt {
    Block(Vec<Stmt>),
    Print(Vec<Expr>, Option<(bool, Expr)>),
    Printf(Vec<Expr>, Option<(bool, Expr)>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    Do(Box<Stmt>, Expr),
    For(Option<Expr>, Option<Expr>, Option<Expr>, Box<Stmt>),
    ForIn(String, String, Box<Stmt>),
    Break,
    Continue,
    Next,
    Exit(Option<Expr>),
    Delete(String, Option<Vec<Expr>>),
    Expr(Expr),
}

#[derive(Debug, Clone)]
enum Pattern {
    Begin,
    End,
    All,
    Expr(Expr),
    Range(Expr, Expr),
}

#[derive(Debug, Default)]
struct Program {
    items: Vec<(Pattern, Option<Stmt>)>,
    regexes: Vec<Regex>,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    regexes: Vec<Regex>,
    /// Inside `print`'s arguments, where `>` redirects instead of comparing.
    no_gt: bool,
    /// Inside `for (… in …)` detection, where `in` is not an operator.
    no_in: bool,
}

type PResult<T> = Result<T, SyntaxError>;

impl Parser {
    fn new(src: &str) -> PResult<Self> {
        Ok(Self {
            toks: lex(src)?,
            pos: 0,
            regexes: Vec::new(),
            no_gt: false,
            no_in: false,
        })
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].0
    }

    fn line(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn error<T>(&self) -> PResult<T> {
        Err(SyntaxError {
            line: self.line(),
            message: "Unexpected token",
        })
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::P(q) if *q == p)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> PResult<()> {
        if self.eat(p) { Ok(()) } else { self.error() }
    }

    fn newlines(&mut self) {
        while *self.peek() == Tok::Newline {
            self.pos += 1;
        }
    }

    fn terminators(&mut self) {
        while *self.peek() == Tok::Newline || self.is(";") {
            self.pos += 1;
        }
    }

    fn program(&mut self) -> PResult<Program> {
        let mut items = Vec::new();
        self.terminators();
        while *self.peek() != Tok::Eof {
            let pattern = match self.peek() {
                Tok::Kw("BEGIN") => {
                    self.pos += 1;
                    Pattern::Begin
                }
                Tok::Kw("END") => {
                    self.pos += 1;
                    Pattern::End
                }
                Tok::Kw("function") => return self.error(),
                _ if self.is("{") => Pattern::All,
                _ => {
                    let a = self.expr()?;
                    if self.eat(",") {
                        self.newlines();
                        Pattern::Range(a, self.expr()?)
                    } else {
                        Pattern::Expr(a)
                    }
                }
            };
            let action = if self.is("{") {
                Some(self.block()?)
            } else if matches!(pattern, Pattern::Begin | Pattern::End) {
                return self.error();
            } else {
                None
            };
            items.push((pattern, action));
            self.terminators();
        }
        Ok(Program {
            items,
            regexes: std::mem::take(&mut self.regexes),
        })
    }

    fn block(&mut self) -> PResult<Stmt> {
        self.expect("{")?;
        let mut body = Vec::new();
        self.terminators();
        while !self.is("}") {
            if *self.peek() == Tok::Eof {
                return self.error();
            }
            body.push(self.stmt()?);
            self.terminators();
        }
        self.pos += 1;
        Ok(Stmt::Block(body))
    }

    /// A statement and its terminator (`;`, newline, or before `}`).
    fn stmt(&mut self) -> PResult<Stmt> {
        let s = self.simple_or_compound()?;
        Ok(s)
    }

    fn end_simple(&mut self) -> PResult<()> {
        if self.eat(";") || *self.peek() == Tok::Newline {
            self.newlines();
            return Ok(());
        }
        if self.is("}") || *self.peek() == Tok::Eof {
            return Ok(());
        }
        self.error()
    }

    fn body(&mut self) -> PResult<Stmt> {
        self.newlines();
        if self.eat(";") {
            return Ok(Stmt::Block(Vec::new()));
        }
        self.stmt()
    }

    fn simple_or_compound(&mut self) -> PResult<Stmt> {
        if self.is("{") {
            return self.block();
        }
        let s = match self.peek().clone() {
            Tok::Kw("if") => {
                self.pos += 1;
                self.expect("(")?;
                let cond = self.expr()?;
                self.expect(")")?;
                let then = self.body()?;
                // `else` may follow after terminators.
                let save = self.pos;
                self.terminators();
                let otherwise = if *self.peek() == Tok::Kw("else") {
                    self.pos += 1;
                    Some(Box::new(self.body()?))
                } else {
                    self.pos = save;
                    None
                };
                return Ok(Stmt::If(cond, Box::new(then), otherwise));
            }
            Tok::Kw("while") => {
                self.pos += 1;
                self.expect("(")?;
                let cond = self.expr()?;
                self.expect(")")?;
                if self.eat(";") {
                    return Ok(Stmt::While(cond, Box::new(Stmt::Block(Vec::new()))));
                }
                return Ok(Stmt::While(cond, Box::new(self.body()?)));
            }
            Tok::Kw("do") => {
                self.pos += 1;
                let body = self.body()?;
                self.terminators();
                if self.next() != Tok::Kw("while") {
                    self.pos -= 1;
                    return self.error();
                }
                self.expect("(")?;
                let cond = self.expr()?;
                self.expect(")")?;
                Stmt::Do(Box::new(body), cond)
            }
            Tok::Kw("for") => {
                self.pos += 1;
                self.expect("(")?;
                if let (Tok::Name(var), Tok::Kw("in"), Tok::Name(arr)) = (
                    self.peek().clone(),
                    self.peek_at(1).clone(),
                    self.peek_at(2).clone(),
                ) && matches!(self.peek_at(3), Tok::P(")"))
                {
                    self.pos += 4;
                    return Ok(Stmt::ForIn(var, arr, Box::new(self.body()?)));
                }
                let init = if self.is(";") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(";")?;
                self.newlines();
                let cond = if self.is(";") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(";")?;
                self.newlines();
                let step = if self.is(")") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(")")?;
                if self.eat(";") {
                    return Ok(Stmt::For(
                        init,
                        cond,
                        step,
                        Box::new(Stmt::Block(Vec::new())),
                    ));
                }
                return Ok(Stmt::For(init, cond, step, Box::new(self.body()?)));
            }
            Tok::Kw("break") => {
                self.pos += 1;
                Stmt::Break
            }
            Tok::Kw("continue") => {
                self.pos += 1;
                Stmt::Continue
            }
            Tok::Kw("next") => {
                self.pos += 1;
                Stmt::Next
            }
            Tok::Kw("exit") => {
                self.pos += 1;
                let code = if self.at_end() {
                    None
                } else {
                    Some(self.expr()?)
                };
                Stmt::Exit(code)
            }
            Tok::Kw("delete") => {
                self.pos += 1;
                let Tok::Name(arr) = self.next() else {
                    self.pos -= 1;
                    return self.error();
                };
                let index = if self.eat("[") {
                    let list = self.expr_list()?;
                    self.expect("]")?;
                    Some(list)
                } else {
                    None
                };
                Stmt::Delete(arr, index)
            }
            Tok::Kw(k @ ("print" | "printf")) => {
                self.pos += 1;
                self.no_gt = true;
                let args = if self.at_end() || self.is(">") || self.is(">>") {
                    Vec::new()
                } else if self.is("(") && self.paren_list_ends_print() {
                    self.pos += 1;
                    self.no_gt = false;
                    let list = self.expr_list()?;
                    self.expect(")")?;
                    self.no_gt = true;
                    list
                } else {
                    self.expr_list()?
                };
                self.no_gt = false;
                let dest = if self.eat(">") {
                    Some((false, self.concat()?))
                } else if self.eat(">>") {
                    Some((true, self.concat()?))
                } else {
                    None
                };
                if k == "print" {
                    Stmt::Print(args, dest)
                } else {
                    if args.is_empty() {
                        return self.error();
                    }
                    Stmt::Printf(args, dest)
                }
            }
            _ => Stmt::Expr(self.expr()?),
        };
        self.end_simple()?;
        Ok(s)
    }

    /// Whether `print (a, b)` has the parenthesised list as all of its arguments.
    fn paren_list_ends_print(&self) -> bool {
        let mut depth = 0;
        let mut i = self.pos;
        while i < self.toks.len() {
            match &self.toks[i].0 {
                Tok::P("(") => depth += 1,
                Tok::P(")") => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(
                            self.toks.get(i + 1).map(|t| &t.0),
                            Some(Tok::P(";" | "}" | ">" | ">>") | Tok::Newline | Tok::Eof)
                        );
                    }
                }
                Tok::Eof => return false,
                _ => {}
            }
            i += 1;
        }
        false
    }

    fn at_end(&self) -> bool {
        matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::P(";" | "}"))
    }

    fn expr_list(&mut self) -> PResult<Vec<Expr>> {
        let mut list = vec![self.expr()?];
        while self.eat(",") {
            self.newlines();
            list.push(self.expr()?);
        }
        Ok(list)
    }

    fn expr(&mut self) -> PResult<Expr> {
        let lhs = self.ternary()?;
        if let Tok::P(p @ ("=" | "+=" | "-=" | "*=" | "/=" | "%=" | "^=")) = self.peek().clone()
            && is_lvalue(&lhs)
        {
            self.pos += 1;
            self.newlines();
            let rhs = self.expr()?;
            let op = if p == "=" { None } else { Some(&p[..1]) };
            let op = op.map(|o| match o {
                "+" => "+",
                "-" => "-",
                "*" => "*",
                "/" => "/",
                "%" => "%",
                _ => "^",
            });
            return Ok(Expr::Assign(op, Box::new(lhs), Box::new(rhs)));
        }
        Ok(lhs)
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let cond = self.or()?;
        if self.eat("?") {
            self.newlines();
            let a = self.ternary()?;
            self.newlines();
            self.expect(":")?;
            self.newlines();
            let b = self.ternary()?;
            return Ok(Expr::Cond(Box::new(cond), Box::new(a), Box::new(b)));
        }
        Ok(cond)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut a = self.and()?;
        while self.eat("||") {
            self.newlines();
            a = Expr::Or(Box::new(a), Box::new(self.and()?));
        }
        Ok(a)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut a = self.in_expr()?;
        while self.eat("&&") {
            self.newlines();
            a = Expr::And(Box::new(a), Box::new(self.in_expr()?));
        }
        Ok(a)
    }

    fn in_expr(&mut self) -> PResult<Expr> {
        let mut a = self.matching()?;
        while !self.no_in && *self.peek() == Tok::Kw("in") {
            self.pos += 1;
            let Tok::Name(arr) = self.next() else {
                self.pos -= 1;
                return self.error();
            };
            let keys = match a {
                Expr::Group(inner) => vec![*inner],
                other => vec![other],
            };
            a = Expr::In(keys, arr);
        }
        Ok(a)
    }

    fn matching(&mut self) -> PResult<Expr> {
        let mut a = self.comparison()?;
        loop {
            let neg = if self.eat("~") {
                false
            } else if self.eat("!~") {
                true
            } else {
                return Ok(a);
            };
            a = Expr::Match(neg, Box::new(a), Box::new(self.comparison()?));
        }
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let a = self.concat()?;
        let op = match self.peek() {
            Tok::P(p @ ("<" | "<=" | "==" | "!=" | ">=")) => *p,
            Tok::P(">") if !self.no_gt => ">",
            _ => return Ok(a),
        };
        self.pos += 1;
        Ok(Expr::Cmp(op, Box::new(a), Box::new(self.concat()?)))
    }

    fn concat(&mut self) -> PResult<Expr> {
        let mut a = self.additive()?;
        while self.starts_operand() {
            a = Expr::Concat(Box::new(a), Box::new(self.additive()?));
        }
        Ok(a)
    }

    fn starts_operand(&self) -> bool {
        match self.peek() {
            Tok::Num(_) | Tok::Str(_) | Tok::Re(_) | Tok::Name(_) | Tok::Builtin(_) => true,
            Tok::P(p) => {
                matches!(*p, "$" | "(" | "!" | "-" | "+" | "++" | "--") && {
                    // `a -1` is a subtraction and `a !b` is not awk: only the operand starters.
                    matches!(*p, "$" | "(" | "++" | "--")
                }
            }
            _ => false,
        }
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut a = self.multiplicative()?;
        loop {
            let op = if self.is("+") {
                "+"
            } else if self.is("-") {
                "-"
            } else {
                return Ok(a);
            };
            self.pos += 1;
            a = Expr::Bin(op, Box::new(a), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut a = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::P(p @ ("*" | "/" | "%")) => *p,
                _ => return Ok(a),
            };
            self.pos += 1;
            a = Expr::Bin(op, Box::new(a), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat("+") {
            return Ok(Expr::Pos(Box::new(self.unary()?)));
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if self.eat("^") {
            // Right associative, and binds tighter than unary minus on its left only.
            let exp = if self.is("-") {
                self.pos += 1;
                Expr::Neg(Box::new(self.power()?))
            } else {
                self.power()?
            };
            return Ok(Expr::Bin("^", Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> PResult<Expr> {
        if self.is("++") || self.is("--") {
            let delta = if self.next() == Tok::P("++") {
                1.0
            } else {
                -1.0
            };
            let target = self.postfix()?;
            if !is_lvalue(&target) {
                return self.error();
            }
            return Ok(Expr::Incr(true, delta, Box::new(target)));
        }
        let e = self.primary()?;
        if is_lvalue(&e) && (self.is("++") || self.is("--")) {
            let delta = if self.next() == Tok::P("++") {
                1.0
            } else {
                -1.0
            };
            return Ok(Expr::Incr(false, delta, Box::new(e)));
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        match self.next() {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Re(r) => {
                let Ok(re) = compile(&r, true, false) else {
                    self.pos -= 1;
                    return self.error();
                };
                self.regexes.push(re);
                Ok(Expr::Re(self.regexes.len() - 1))
            }
            Tok::P("$") => {
                let e = if self.is("++") || self.is("--") || self.is("-") {
                    self.unary()?
                } else {
                    self.primary()?
                };
                Ok(Expr::Field(Box::new(e)))
            }
            Tok::P("(") => {
                let (gt, inn) = (self.no_gt, self.no_in);
                self.no_gt = false;
                self.no_in = false;
                let first = self.expr()?;
                let e = if self.eat(",") {
                    // `(a, b) in arr`
                    let mut list = vec![first];
                    list.extend(self.expr_list()?);
                    self.expect(")")?;
                    self.no_gt = gt;
                    self.no_in = inn;
                    if *self.peek() != Tok::Kw("in") {
                        return self.error();
                    }
                    self.pos += 1;
                    let Tok::Name(arr) = self.next() else {
                        self.pos -= 1;
                        return self.error();
                    };
                    return Ok(Expr::In(list, arr));
                } else {
                    first
                };
                self.expect(")")?;
                self.no_gt = gt;
                self.no_in = inn;
                Ok(Expr::Group(Box::new(e)))
            }
            Tok::Name(name) => {
                if self.eat("[") {
                    let list = self.expr_list()?;
                    self.expect("]")?;
                    return Ok(Expr::Index(name, list));
                }
                if self.is("(") {
                    // A call of a user-defined function: not modelled.
                    return self.error();
                }
                Ok(Expr::Var(name))
            }
            Tok::Builtin(b) => {
                let args = if self.eat("(") {
                    let (gt, inn) = (self.no_gt, self.no_in);
                    self.no_gt = false;
                    self.no_in = false;
                    let list = if self.is(")") {
                        Vec::new()
                    } else {
                        self.expr_list()?
                    };
                    self.expect(")")?;
                    self.no_gt = gt;
                    self.no_in = inn;
                    list
                } else if b == "length" {
                    Vec::new()
                } else {
                    self.pos -= 1;
                    return self.error();
                };
                Ok(Expr::Call(b, args))
            }
            Tok::Kw("getline") => {
                let target = if matches!(self.peek(), Tok::Name(_) | Tok::P("$")) {
                    Some(Box::new(self.primary()?))
                } else {
                    None
                };
                Ok(Expr::Getline(target))
            }
            _ => {
                self.pos -= 1;
                self.error()
            }
        }
    }
}

fn is_lvalue(e: &Expr) -> bool {
    matches!(e, Expr::Var(_) | Expr::Field(_) | Expr::Index(..))
}

// ----- interpreter -----

/// Why evaluation stopped early.
enum Stop {
    Next,
    Exit,
    Break,
    Continue,
    Error(String),
    Io(String),
}

type Eval<T> = Result<T, Stop>;

const MAX_STEPS: u64 = 50_000_000;

struct Interp<'p> {
    prog: &'p Program,
    vars: HashMap<String, Value>,
    arrays: HashMap<String, BTreeMap<String, Value>>,
    record: String,
    fields: Vec<String>,
    fields_valid: bool,
    operands: Vec<String>,
    /// The input not yet read: the current operand's text and where it is.
    input: Vec<u8>,
    at: usize,
    next_operand: usize,
    input_open: bool,
    range_active: Vec<bool>,
    exit_code: i32,
    out: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
    steps: u64,
    line: usize,
}

impl<'p> Interp<'p> {
    fn new(prog: &'p Program) -> Self {
        let mut vars = HashMap::new();
        for (k, v) in [
            ("FS", " "),
            ("OFS", " "),
            ("ORS", "\n"),
            ("RS", "\n"),
            ("SUBSEP", "\x1c"),
            ("CONVFMT", "%.6g"),
            ("OFMT", "%.6g"),
            ("FILENAME", ""),
        ] {
            vars.insert(k.to_owned(), Value::Str(v.to_owned()));
        }
        for k in ["NR", "FNR", "NF", "RSTART", "RLENGTH"] {
            vars.insert(k.to_owned(), Value::Num(0.0));
        }
        Self {
            prog,
            vars,
            arrays: HashMap::new(),
            record: String::new(),
            fields: Vec::new(),
            fields_valid: true,
            operands: Vec::new(),
            input: Vec::new(),
            at: 0,
            next_operand: 0,
            input_open: false,
            range_active: vec![false; prog.items.len()],
            exit_code: 0,
            out: Vec::new(),
            files: BTreeMap::new(),
            steps: 0,
            line: 1,
        }
    }

    fn var_str(&self, name: &str) -> String {
        self.vars
            .get(name)
            .map(|v| v.string("%.6g"))
            .unwrap_or_default()
    }

    fn convfmt(&self) -> String {
        self.var_str("CONVFMT")
    }

    fn set_var(&mut self, name: &str, v: Value) {
        if name == "NF" {
            self.split_fields();
            let n = v.num().max(0.0) as usize;
            self.fields.resize(n, String::new());
            self.rebuild_record();
        }
        self.vars.insert(name.to_owned(), v);
    }

    fn flush(&mut self, ctx: &mut Ctx<'_, '_>) {
        ctx.out(std::mem::take(&mut self.out));
        for (path, data) in std::mem::take(&mut self.files) {
            let mut bytes = match ctx.read_file(&path) {
                Ok(old) if data.first() == Some(&1) => old,
                _ => Vec::new(),
            };
            bytes.extend_from_slice(&data[1..]);
            if let Err(e) = ctx.write_file(&path, FileData::Bytes(bytes), 0o644) {
                ctx.err(format!("awk: {path}: {}\n", e.strerror()));
            }
        }
    }

    fn run(&mut self, ctx: &mut Ctx<'_, '_>) -> Eval<()> {
        let prog = self.prog;
        let mut result = Ok(());
        for (pattern, action) in &prog.items {
            if matches!(pattern, Pattern::Begin)
                && let Some(a) = action
            {
                result = self.exec(ctx, a);
                if result.is_err() {
                    break;
                }
            }
        }
        let has_main = prog.items.iter().any(|(p, _)| !matches!(p, Pattern::Begin));
        if result.is_ok() && has_main {
            result = self.main_loop(ctx);
        }
        if matches!(result, Ok(()) | Err(Stop::Exit)) {
            let ended = result.is_err();
            for (pattern, action) in &prog.items {
                if matches!(pattern, Pattern::End)
                    && let Some(a) = action
                    && let Err(e @ (Stop::Exit | Stop::Error(_) | Stop::Io(_))) = self.exec(ctx, a)
                {
                    return Err(e);
                }
            }
            if ended {
                return Err(Stop::Exit);
            }
            return Ok(());
        }
        result
    }

    fn main_loop(&mut self, ctx: &mut Ctx<'_, '_>) -> Eval<()> {
        let prog = self.prog;
        while self.read_record(ctx)? {
            for (index, (pattern, action)) in prog.items.iter().enumerate() {
                let selected = match pattern {
                    Pattern::Begin | Pattern::End => continue,
                    Pattern::All => true,
                    Pattern::Expr(e) => self.eval(ctx, e)?.truthy(),
                    Pattern::Range(a, b) => {
                        if self.range_active[index] {
                            if self.eval(ctx, b)?.truthy() {
                                self.range_active[index] = false;
                            }
                            true
                        } else if self.eval(ctx, a)?.truthy() {
                            self.range_active[index] = !self.eval(ctx, b)?.truthy();
                            true
                        } else {
                            false
                        }
                    }
                };
                if !selected {
                    continue;
                }
                let r = if let Some(a) = action {
                    self.exec(ctx, a)
                } else {
                    let line = format!("{}{}", self.record, self.var_str("ORS"));
                    self.emit(ctx, None, line.as_bytes())
                };
                match r {
                    Ok(()) => {}
                    Err(Stop::Next) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Reads the next record into `$0`; false at the end of the input.
    fn read_record(&mut self, ctx: &mut Ctx<'_, '_>) -> Eval<bool> {
        loop {
            if !self.input_open {
                if !self.open_next(ctx)? {
                    return Ok(false);
                }
                continue;
            }
            if self.at >= self.input.len() {
                self.input_open = false;
                continue;
            }
            let rs = self.var_str("RS");
            let rest = &self.input[self.at..];
            let (record, used) = if rs.is_empty() {
                // Paragraph mode: records separated by blank lines.
                let start = rest.iter().position(|b| *b != b'\n').unwrap_or(rest.len());
                let body = &rest[start..];
                if let Some(e) = body.windows(2).position(|w| w == b"\n\n") {
                    let mut used = start + e;
                    while rest.get(used) == Some(&b'\n') {
                        used += 1;
                    }
                    (&body[..e], used)
                } else {
                    let body = body.strip_suffix(b"\n").unwrap_or(body);
                    (body, rest.len())
                }
            } else {
                let sep = rs.as_bytes()[0];
                match rest.iter().position(|b| *b == sep) {
                    Some(e) => (&rest[..e], e + 1),
                    None => (rest, rest.len()),
                }
            };
            if rs.is_empty() && record.is_empty() && used >= rest.len() {
                self.at = self.input.len();
                continue;
            }
            let record = String::from_utf8_lossy(record).into_owned();
            self.at += used;
            self.set_record(record);
            for k in ["NR", "FNR"] {
                let n = self.vars.get(k).map_or(0.0, Value::num) + 1.0;
                self.vars.insert(k.to_owned(), Value::Num(n));
            }
            return Ok(true);
        }
    }

    /// Opens the next file operand (after applying `var=value` operands); stdin when there
    /// are no file operands.
    fn open_next(&mut self, ctx: &mut Ctx<'_, '_>) -> Eval<bool> {
        let any_file = self.operands.iter().any(|o| !is_assignment(o));
        if !any_file {
            if self.next_operand > self.operands.len() {
                return Ok(false);
            }
            for o in self.operands.clone() {
                if let Some((k, v)) = o.split_once('=') {
                    self.set_var(k, Value::StrNum(unescape(v)));
                }
            }
            self.next_operand = self.operands.len() + 1;
            self.input = ctx.stdin().to_vec();
            self.at = 0;
            self.input_open = true;
            return Ok(true);
        }
        while let Some(o) = self.operands.get(self.next_operand).cloned() {
            self.next_operand += 1;
            if is_assignment(&o) {
                if let Some((k, v)) = o.split_once('=') {
                    self.set_var(k, Value::StrNum(unescape(v)));
                }
                continue;
            }
            self.input = if o == "-" {
                ctx.stdin().to_vec()
            } else {
                match ctx.read_file(&o) {
                    Ok(b) => b,
                    Err(e) => return Err(Stop::Io(format!("{o}: {}", e.strerror()))),
                }
            };
            self.vars.insert("FILENAME".to_owned(), Value::Str(o));
            self.vars.insert("FNR".to_owned(), Value::Num(0.0));
            self.at = 0;
            self.input_open = true;
            return Ok(true);
        }
        Ok(false)
    }

    fn set_record(&mut self, record: String) {
        self.record = record;
        self.fields_valid = false;
        self.split_fields();
    }

    fn split_fields(&mut self) {
        if self.fields_valid {
            return;
        }
        let fs = self.var_str("FS");
        self.fields = split_with(&self.record, &fs);
        self.fields_valid = true;
        let nf = self.fields.len() as f64;
        self.vars.insert("NF".to_owned(), Value::Num(nf));
    }

    fn rebuild_record(&mut self) {
        let ofs = self.var_str("OFS");
        self.record = self.fields.join(&ofs);
        let nf = self.fields.len() as f64;
        self.vars.insert("NF".to_owned(), Value::Num(nf));
    }

    fn field(&mut self, n: f64) -> Eval<Value> {
        if n < 0.0 {
            return Err(Stop::Error("Access to negative field".to_owned()));
        }
        let n = n as usize;
        if n == 0 {
            return Ok(Value::StrNum(self.record.clone()));
        }
        self.split_fields();
        Ok(self
            .fields
            .get(n - 1)
            .map_or(Value::Uninit, |f| Value::StrNum(f.clone())))
    }

    fn set_field(&mut self, n: f64, v: String) -> Eval<()> {
        if n < 0.0 {
            return Err(Stop::Error("Access to negative field".to_owned()));
        }
        let n = n as usize;
        if n == 0 {
            self.set_record(v);
            return Ok(());
        }
        if n > 100_000 {
            return Err(Stop::Error("Field number too large".to_owned()));
        }
        self.split_fields();
        if self.fields.len() < n {
            self.fields.resize(n, String::new());
        }
        self.fields[n - 1] = v;
        self.rebuild_record();
        Ok(())
    }

    fn tick(&mut self) -> Eval<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Stop::Error(
                "layerbox: simulated awk stopped: too many steps".to_owned(),
            ));
        }
        Ok(())
    }

    fn exec(&mut self, ctx: &mut Ctx<'_, '_>, s: &Stmt) -> Eval<()> {
        self.tick()?;
        match s {
            Stmt::Block(body) => {
                for s in body {
                    self.exec(ctx, s)?;
                }
            }
            Stmt::Expr(e) => {
                self.eval(ctx, e)?;
            }
            Stmt::Print(args, dest) => {
                let mut line = String::new();
                if args.is_empty() {
                    line.push_str(&self.record);
                } else {
                    let ofs = self.var_str("OFS");
                    let ofmt = self.var_str("OFMT");
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            line.push_str(&ofs);
                        }
                        let v = self.eval(ctx, a)?;
                        line.push_str(&v.string(&ofmt));
                    }
                }
                line.push_str(&self.var_str("ORS"));
                let dest = self.dest(ctx, dest.as_ref())?;
                self.emit(ctx, dest, line.as_bytes())?;
            }
            Stmt::Printf(args, dest) => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(ctx, a)?);
                }
                let format = values.remove(0).string(&self.convfmt());
                let text = sprintf(&format, &values, &self.convfmt());
                let dest = self.dest(ctx, dest.as_ref())?;
                self.emit(ctx, dest, text.as_bytes())?;
            }
            Stmt::If(cond, then, otherwise) => {
                if self.eval(ctx, cond)?.truthy() {
                    self.exec(ctx, then)?;
                } else if let Some(o) = otherwise {
                    self.exec(ctx, o)?;
                }
            }
            Stmt::While(cond, body) => {
                while self.eval(ctx, cond)?.truthy() {
                    match self.exec(ctx, body) {
                        Err(Stop::Break) => break,
                        Ok(()) | Err(Stop::Continue) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Stmt::Do(body, cond) => loop {
                match self.exec(ctx, body) {
                    Err(Stop::Break) => break,
                    Ok(()) | Err(Stop::Continue) => {}
                    Err(e) => return Err(e),
                }
                if !self.eval(ctx, cond)?.truthy() {
                    break;
                }
            },
            Stmt::For(init, cond, step, body) => {
                if let Some(i) = init {
                    self.eval(ctx, i)?;
                }
                loop {
                    if let Some(c) = cond
                        && !self.eval(ctx, c)?.truthy()
                    {
                        break;
                    }
                    match self.exec(ctx, body) {
                        Err(Stop::Break) => break,
                        Ok(()) | Err(Stop::Continue) => {}
                        Err(e) => return Err(e),
                    }
                    if let Some(s) = step {
                        self.eval(ctx, s)?;
                    }
                }
            }
            Stmt::ForIn(var, arr, body) => {
                let keys: Vec<String> = self
                    .arrays
                    .get(arr)
                    .map(|a| a.keys().cloned().collect())
                    .unwrap_or_default();
                for k in keys {
                    self.vars.insert(var.clone(), Value::StrNum(k));
                    match self.exec(ctx, body) {
                        Err(Stop::Break) => break,
                        Ok(()) | Err(Stop::Continue) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Stmt::Break => return Err(Stop::Break),
            Stmt::Continue => return Err(Stop::Continue),
            Stmt::Next => return Err(Stop::Next),
            Stmt::Exit(code) => {
                if let Some(c) = code {
                    let c = self.eval(ctx, c)?.num() as i32;
                    self.exit_code = c & 0xff;
                }
                return Err(Stop::Exit);
            }
            Stmt::Delete(arr, index) => match index {
                None => {
                    self.arrays.remove(arr);
                }
                Some(list) => {
                    let key = self.key(ctx, list)?;
                    if let Some(a) = self.arrays.get_mut(arr) {
                        a.remove(&key);
                    }
                }
            },
        }
        Ok(())
    }

    fn dest(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        dest: Option<&(bool, Expr)>,
    ) -> Eval<Option<(bool, String)>> {
        match dest {
            None => Ok(None),
            Some((append, e)) => {
                let path = self.eval(ctx, e)?.string(&self.convfmt());
                Ok(Some((*append, ctx.abs(&path))))
            }
        }
    }

    fn emit(
        &mut self,
        ctx: &mut Ctx<'_, '_>,
        dest: Option<(bool, String)>,
        bytes: &[u8],
    ) -> Eval<()> {
        match dest {
            None => {
                if self.out.len() + bytes.len() > ctx.limits().max_output {
                    return Err(Stop::Error(
                        "layerbox: simulated awk stopped: output too large".to_owned(),
                    ));
                }
                self.out.extend_from_slice(bytes);
            }
            Some((append, path)) => {
                // The first byte records whether the file is appended to (`>>`).
                let buf = self
                    .files
                    .entry(path)
                    .or_insert_with(|| vec![u8::from(append)]);
                buf.extend_from_slice(bytes);
            }
        }
        Ok(())
    }

    fn key(&mut self, ctx: &mut Ctx<'_, '_>, list: &[Expr]) -> Eval<String> {
        let convfmt = self.convfmt();
        let mut parts = Vec::with_capacity(list.len());
        for e in list {
            parts.push(self.eval(ctx, e)?.string(&convfmt));
        }
        Ok(parts.join(&self.var_str("SUBSEP")))
    }

    fn assign(&mut self, ctx: &mut Ctx<'_, '_>, target: &Expr, v: Value) -> Eval<Value> {
        match target {
            Expr::Var(name) => {
                if self.arrays.contains_key(name) {
                    return Err(Stop::Error("Can't assign to an array".to_owned()));
                }
                if name == "FS" || name == "RS" {
                    // A new separator applies from the next record.
                    self.split_fields();
                }
                self.set_var(name, v.clone());
            }
            Expr::Field(n) => {
                let n = self.eval(ctx, n)?.num();
                let s = v.string(&self.convfmt());
                self.set_field(n, s)?;
            }
            Expr::Index(arr, list) => {
                let key = self.key(ctx, list)?;
                self.arrays
                    .entry(arr.clone())
                    .or_default()
                    .insert(key, v.clone());
            }
            _ => return Err(Stop::Error("Unexpected token".to_owned())),
        }
        Ok(v)
    }

    fn lookup(&mut self, ctx: &mut Ctx<'_, '_>, target: &Expr) -> Eval<Value> {
        match target {
            Expr::Var(name) => Ok(self.vars.get(name).cloned().unwrap_or(Value::Uninit)),
            Expr::Field(n) => {
                let n = self.eval(ctx, n)?.num();
                self.field(n)
            }
            Expr::Index(arr, list) => {
                let key = self.key(ctx, list)?;
                Ok(self
                    .arrays
                    .entry(arr.clone())
                    .or_default()
                    .entry(key)
                    .or_insert(Value::Uninit)
                    .clone())
            }
            _ => Err(Stop::Error("Unexpected token".to_owned())),
        }
    }

    fn regex(&mut self, ctx: &mut Ctx<'_, '_>, e: &Expr) -> Eval<Regex> {
        if let Expr::Re(i) = e {
            return Ok(self.prog.regexes[*i].clone());
        }
        let text = self.eval(ctx, e)?.string(&self.convfmt());
        compile(&text, true, false).map_err(|_| Stop::Error(format!("bad regex '{text}'")))
    }

    #[allow(clippy::too_many_lines)]
    fn eval(&mut self, ctx: &mut Ctx<'_, '_>, e: &Expr) -> Eval<Value> {
        self.tick()?;
        Ok(match e {
            Expr::Num(n) => Value::Num(*n),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Re(i) => {
                let re = &self.prog.regexes[*i];
                Value::Num(f64::from(u8::from(re.is_match(&self.record))))
            }
            Expr::Group(inner) => self.eval(ctx, inner)?,
            Expr::Var(_) | Expr::Field(_) | Expr::Index(..) => self.lookup(ctx, e)?,
            Expr::Assign(op, target, rhs) => {
                let r = self.eval(ctx, rhs)?;
                let v = match op {
                    None => r,
                    Some(op) => {
                        let l = self.lookup(ctx, target)?;
                        Value::Num(arith(op, l.num(), r.num())?)
                    }
                };
                self.assign(ctx, target, v)?
            }
            Expr::Cond(c, a, b) => {
                if self.eval(ctx, c)?.truthy() {
                    self.eval(ctx, a)?
                } else {
                    self.eval(ctx, b)?
                }
            }
            Expr::And(a, b) => Value::Num(f64::from(u8::from(
                self.eval(ctx, a)?.truthy() && self.eval(ctx, b)?.truthy(),
            ))),
            Expr::Or(a, b) => Value::Num(f64::from(u8::from(
                self.eval(ctx, a)?.truthy() || self.eval(ctx, b)?.truthy(),
            ))),
            Expr::Not(a) => Value::Num(f64::from(u8::from(!self.eval(ctx, a)?.truthy()))),
            Expr::Neg(a) => Value::Num(-self.eval(ctx, a)?.num()),
            Expr::Pos(a) => Value::Num(self.eval(ctx, a)?.num()),
            Expr::Bin(op, a, b) => {
                let x = self.eval(ctx, a)?.num();
                let y = self.eval(ctx, b)?.num();
                Value::Num(arith(op, x, y)?)
            }
            Expr::Cmp(op, a, b) => {
                let x = self.eval(ctx, a)?;
                let y = self.eval(ctx, b)?;
                let ord = if x.numeric() && y.numeric() {
                    x.num()
                        .partial_cmp(&y.num())
                        .unwrap_or(std::cmp::Ordering::Equal)
                } else {
                    let c = self.convfmt();
                    x.string(&c).cmp(&y.string(&c))
                };
                let r = match *op {
                    "<" => ord.is_lt(),
                    "<=" => ord.is_le(),
                    ">" => ord.is_gt(),
                    ">=" => ord.is_ge(),
                    "==" => ord.is_eq(),
                    _ => ord.is_ne(),
                };
                Value::Num(f64::from(u8::from(r)))
            }
            Expr::Concat(a, b) => {
                let c = self.convfmt();
                let mut s = self.eval(ctx, a)?.string(&c);
                s.push_str(&self.eval(ctx, b)?.string(&c));
                if s.len() > ctx.limits().max_output {
                    return Err(Stop::Error(
                        "layerbox: simulated awk stopped: string too long".to_owned(),
                    ));
                }
                Value::Str(s)
            }
            Expr::Match(neg, a, b) => {
                let s = self.eval(ctx, a)?.string(&self.convfmt());
                let re = self.regex(ctx, b)?;
                Value::Num(f64::from(u8::from(re.is_match(&s) != *neg)))
            }
            Expr::In(list, arr) => {
                let key = self.key(ctx, list)?;
                let found = self.arrays.get(arr).is_some_and(|a| a.contains_key(&key));
                Value::Num(f64::from(u8::from(found)))
            }
            Expr::Incr(pre, delta, target) => {
                let old = self.lookup(ctx, target)?.num();
                self.assign(ctx, target, Value::Num(old + delta))?;
                Value::Num(if *pre { old + delta } else { old })
            }
            Expr::Getline(target) => {
                let before = (self.record.clone(), self.fields.clone(), self.fields_valid);
                if !self.read_record(ctx)? {
                    return Ok(Value::Num(0.0));
                }
                if let Some(t) = target {
                    let line = std::mem::replace(&mut self.record, before.0);
                    self.fields = before.1;
                    self.fields_valid = before.2;
                    self.assign(ctx, t, Value::StrNum(line))?;
                }
                Value::Num(1.0)
            }
            Expr::Call(name, args) => self.call(ctx, name, args)?,
        })
    }

    #[allow(clippy::too_many_lines)]
    fn call(&mut self, ctx: &mut Ctx<'_, '_>, name: &str, args: &[Expr]) -> Eval<Value> {
        let c = self.convfmt();
        let arg_str = |it: &mut Self, ctx: &mut Ctx<'_, '_>, i: usize| -> Eval<String> {
            match args.get(i) {
                Some(e) => Ok(it.eval(ctx, e)?.string(&c)),
                None => Ok(String::new()),
            }
        };
        Ok(match name {
            "length" => match args.first() {
                None => Value::Num(self.record.chars().count() as f64),
                Some(Expr::Var(arr)) if self.arrays.contains_key(arr) => {
                    Value::Num(self.arrays[arr].len() as f64)
                }
                Some(_) => Value::Num(arg_str(self, ctx, 0)?.chars().count() as f64),
            },
            "substr" => {
                let s: Vec<char> = arg_str(self, ctx, 0)?.chars().collect();
                let start = match args.get(1) {
                    Some(e) => self.eval(ctx, e)?.num(),
                    None => 1.0,
                };
                let len = match args.get(2) {
                    Some(e) => self.eval(ctx, e)?.num(),
                    None => f64::INFINITY,
                };
                // POSIX: characters from round(start) to round(start + len), exclusive.
                let from = start.round();
                let to = if len.is_infinite() {
                    f64::INFINITY
                } else {
                    (start + len).round()
                };
                let from = from.max(1.0);
                let to = to.min(s.len() as f64 + 1.0);
                if to <= from {
                    Value::Str(String::new())
                } else {
                    Value::Str(s[(from as usize - 1)..(to as usize - 1)].iter().collect())
                }
            }
            "index" => {
                let s = arg_str(self, ctx, 0)?;
                let t = arg_str(self, ctx, 1)?;
                Value::Num(
                    s.find(&t)
                        .map_or(0.0, |i| (s[..i].chars().count() + 1) as f64),
                )
            }
            "split" => {
                let s = arg_str(self, ctx, 0)?;
                let Some(Expr::Var(arr)) = args.get(1) else {
                    return Err(Stop::Error("Unexpected token".to_owned()));
                };
                let parts = match args.get(2) {
                    None => split_with(&s, &self.var_str("FS")),
                    Some(Expr::Re(i)) => split_re(&s, &self.prog.regexes[*i]),
                    Some(e) => {
                        let sep = self.eval(ctx, e)?.string(&c);
                        split_with(&s, &sep)
                    }
                };
                let n = parts.len();
                let map = parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| ((i + 1).to_string(), Value::StrNum(p)))
                    .collect();
                self.arrays.insert(arr.clone(), map);
                Value::Num(n as f64)
            }
            "sub" | "gsub" => {
                let Some(re_e) = args.first() else {
                    return Err(Stop::Error("Unexpected token".to_owned()));
                };
                let re = self.regex(ctx, re_e)?;
                let repl = arg_str(self, ctx, 1)?;
                let default_target = Expr::Field(Box::new(Expr::Num(0.0)));
                let target = args.get(2).unwrap_or(&default_target);
                let s = self.lookup(ctx, target)?.string(&c);
                let (out, n) = substitute(&re, &s, &repl, name == "gsub");
                if n > 0 {
                    self.assign(ctx, target, Value::Str(out))?;
                }
                Value::Num(n as f64)
            }
            "match" => {
                let s = arg_str(self, ctx, 0)?;
                let Some(re_e) = args.get(1) else {
                    return Err(Stop::Error("Unexpected token".to_owned()));
                };
                let re = self.regex(ctx, re_e)?;
                let (start, len) = match re.find(&s) {
                    Some(m) => (
                        (s[..m.start()].chars().count() + 1) as f64,
                        m.as_str().chars().count() as f64,
                    ),
                    None => (0.0, -1.0),
                };
                self.vars.insert("RSTART".to_owned(), Value::Num(start));
                self.vars.insert("RLENGTH".to_owned(), Value::Num(len));
                Value::Num(start)
            }
            "sprintf" => {
                let mut values = Vec::new();
                for a in args {
                    values.push(self.eval(ctx, a)?);
                }
                if values.is_empty() {
                    return Err(Stop::Error("Unexpected token".to_owned()));
                }
                let format = values.remove(0).string(&c);
                Value::Str(sprintf(&format, &values, &c))
            }
            "tolower" => Value::Str(arg_str(self, ctx, 0)?.to_lowercase()),
            "toupper" => Value::Str(arg_str(self, ctx, 0)?.to_uppercase()),
            "int" => {
                let v = match args.first() {
                    Some(e) => self.eval(ctx, e)?.num(),
                    None => 0.0,
                };
                Value::Num(v.trunc())
            }
            "close" => Value::Num(0.0),
            "system" => {
                let cmd = arg_str(self, ctx, 0)?;
                ctx.out(std::mem::take(&mut self.out));
                let env = ctx.env.clone();
                let argv = vec!["sh".to_owned(), "-c".to_owned(), cmd];
                Value::Num(f64::from(ctx.run(&argv, env, b"")))
            }
            _ => return Err(Stop::Error("Math support is not compiled in".to_owned())),
        })
    }
}

fn is_assignment(o: &str) -> bool {
    o.split_once('=')
        .is_some_and(|(k, _)| crate::sim::shell::is_name(k))
}

fn arith(op: &str, x: f64, y: f64) -> Eval<f64> {
    Ok(match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => {
            if y == 0.0 {
                return Err(Stop::Error("Division by zero".to_owned()));
            }
            x / y
        }
        "%" => {
            if y == 0.0 {
                return Err(Stop::Error("Division by zero".to_owned()));
            }
            x % y
        }
        _ => {
            // `^` without libm: integer powers only, as a loop.
            if y.fract() != 0.0 || y.abs() > 1024.0 {
                return Err(Stop::Error("Math support is not compiled in".to_owned()));
            }
            x.powi(y as i32)
        }
    })
}

/// Splits by `fs` as awk does: `" "` splits on runs of blanks and newlines, trimming them;
/// one other character splits on itself; anything longer is a regular expression.
fn split_with(s: &str, fs: &str) -> Vec<String> {
    if fs == " " {
        return s.split_whitespace().map(str::to_owned).collect();
    }
    if s.is_empty() {
        return Vec::new();
    }
    if fs.chars().count() == 1 && fs != "\\" {
        return s.split(fs).map(str::to_owned).collect();
    }
    match compile(fs, true, false) {
        Ok(re) => split_re(s, &re),
        Err(_) => vec![s.to_owned()],
    }
}

fn split_re(s: &str, re: &Regex) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    re.split(s).map(str::to_owned).collect()
}

/// `sub`/`gsub`: `&` in the replacement is the matched text, `\&` a literal `&`.
fn substitute(re: &Regex, s: &str, repl: &str, global: bool) -> (String, usize) {
    let mut out = String::new();
    let mut last = 0;
    let mut n = 0;
    for m in re.find_iter(s) {
        out.push_str(&s[last..m.start()]);
        let mut chars = repl.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'&') => {
                    chars.next();
                    out.push('&');
                }
                '\\' if chars.peek() == Some(&'\\') => {
                    chars.next();
                    out.push('\\');
                }
                '&' => out.push_str(m.as_str()),
                c => out.push(c),
            }
        }
        last = m.end();
        n += 1;
        if !global {
            break;
        }
    }
    out.push_str(&s[last..]);
    (out, n)
}

/// C's `printf` over awk values.
#[allow(clippy::too_many_lines)]
fn sprintf(format: &str, values: &[Value], convfmt: &str) -> String {
    let f: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut next = 0;
    let mut take = || {
        let v = values.get(next).cloned().unwrap_or(Value::Uninit);
        next += 1;
        v
    };
    let mut i = 0;
    while i < f.len() {
        if f[i] != '%' {
            out.push(f[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if f.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut flags = String::new();
        while let Some(&c) = f.get(i) {
            if "-+ #0".contains(c) {
                flags.push(c);
                i += 1;
            } else {
                break;
            }
        }
        let mut width = 0usize;
        if f.get(i) == Some(&'*') {
            let w = take().num();
            if w < 0.0 {
                flags.push('-');
            }
            width = w.abs() as usize;
            i += 1;
        }
        while let Some(d) = f.get(i).and_then(|c| c.to_digit(10)) {
            width = (width * 10 + d as usize).min(4096);
            i += 1;
        }
        let mut precision = None;
        if f.get(i) == Some(&'.') {
            i += 1;
            let mut p = 0usize;
            if f.get(i) == Some(&'*') {
                p = take().num().max(0.0) as usize;
                i += 1;
            }
            while let Some(d) = f.get(i).and_then(|c| c.to_digit(10)) {
                p = (p * 10 + d as usize).min(4096);
                i += 1;
            }
            precision = Some(p);
        }
        while matches!(f.get(i), Some('l' | 'h')) {
            i += 1;
        }
        let Some(&conv) = f.get(i) else {
            out.extend(&f[start..]);
            break;
        };
        i += 1;
        let left = flags.contains('-');
        let zero = flags.contains('0') && !left;
        let sign = |neg: bool| {
            if neg {
                "-"
            } else if flags.contains('+') {
                "+"
            } else if flags.contains(' ') {
                " "
            } else {
                ""
            }
        };
        let (body, numeric) = match conv {
            'd' | 'i' => {
                let n = take().num().trunc();
                let mut digits = format!("{}", n.abs() as u64);
                if let Some(p) = precision
                    && digits.len() < p
                {
                    digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                }
                (format!("{}{digits}", sign(n < 0.0)), true)
            }
            'o' | 'x' | 'X' | 'u' => {
                let n = take().num().trunc();
                let u = if n < 0.0 {
                    (n as i64).cast_unsigned()
                } else {
                    n as u64
                };
                let digits = match conv {
                    'o' => format!("{u:o}"),
                    'x' => format!("{u:x}"),
                    'X' => format!("{u:X}"),
                    _ => u.to_string(),
                };
                (digits, true)
            }
            'c' => {
                let v = take();
                let s = match v {
                    Value::Num(n) => char::from_u32(n as u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    other => other
                        .string(convfmt)
                        .chars()
                        .next()
                        .map(String::from)
                        .unwrap_or_default(),
                };
                (s, false)
            }
            's' => {
                let mut s = take().string(convfmt);
                if let Some(p) = precision {
                    s = s.chars().take(p).collect();
                }
                (s, false)
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let x = take().num();
                let p = precision.unwrap_or(6);
                let body = match conv {
                    'f' | 'F' => format!("{:.p$}", x.abs()),
                    'e' | 'E' => exp_form(x.abs(), p, conv == 'E'),
                    _ => g_form(x.abs(), p, conv == 'G', flags.contains('#')),
                };
                (
                    format!(
                        "{}{body}",
                        sign(x < 0.0 || (x == 0.0 && x.is_sign_negative() && conv != 'g'))
                    ),
                    true,
                )
            }
            _ => {
                out.extend(&f[start..i]);
                continue;
            }
        };
        let len = body.chars().count();
        if len >= width {
            out.push_str(&body);
        } else if left {
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if zero && numeric {
            let (s, digits) = match body.chars().next() {
                Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_owned()),
                _ => (String::new(), body.clone()),
            };
            let _ = write!(out, "{s}{}{digits}", "0".repeat(width - len));
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&body);
        }
    }
    out
}

/// `%e`: `1.500000e+00`.
fn exp_form(x: f64, p: usize, upper: bool) -> String {
    let s = format!("{x:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match e.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', e),
    };
    let s = format!("{m}e{sign}{digits:0>2}");
    if upper { s.to_uppercase() } else { s }
}

/// `%g`: the shorter of `%e` and `%f` with `p` significant digits, trailing zeros dropped.
fn g_form(x: f64, p: usize, upper: bool, keep_zeros: bool) -> String {
    let p = p.max(1);
    if x == 0.0 {
        return "0".to_owned();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".to_owned()
        } else {
            "inf".to_owned()
        };
    }
    let e = exp_form(x, p - 1, false);
    let exp: i32 = e
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let trim = |s: String| {
        if keep_zeros || !s.contains('.') {
            s
        } else {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
    };
    let s = if exp < -4 || exp >= p as i32 {
        let (m, rest) = e.split_once('e').unwrap_or((&e, "+00"));
        format!("{}e{rest}", trim(m.to_owned()))
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim(format!("{x:.decimals$}"))
    };
    if upper { s.to_uppercase() } else { s }
}

#[cfg(test)]
mod tests {
    use crate::sim::shell::utils::testing::{base_fs, sh_on};

    fn awk(script: &str) -> (i32, String, String) {
        let mut fs = base_fs();
        fs.write(
            "/tmp/data",
            b"root 0 /root\nalice 1000 /home/alice\nbob 1001 /home/bob\n",
            0o644,
        )
        .unwrap();
        let out = sh_on(&mut fs, script);
        (
            out.status,
            String::from_utf8_lossy(&out.stdout()).into_owned(),
            String::from_utf8_lossy(&out.stderr()).into_owned(),
        )
    }

    #[test]
    fn fields_patterns_and_variables() {
        assert_eq!(awk("awk '{print $1}' /tmp/data").1, "root\nalice\nbob\n");
        assert_eq!(awk("awk '$2 > 100 {print $1}' /tmp/data").1, "alice\nbob\n");
        assert_eq!(awk("awk '/^b/' /tmp/data").1, "bob 1001 /home/bob\n");
        assert_eq!(awk("awk 'END{print NR}' /tmp/data").1, "3\n");
        assert_eq!(
            awk("awk '{print NF, $NF}' /tmp/data").1,
            "3 /root\n3 /home/alice\n3 /home/bob\n"
        );
        assert_eq!(
            awk("awk -F: '{print $1}' /etc/passwd").1,
            "root\ndaemon\nnobody\n"
        );
        assert_eq!(
            awk("awk -v n=2 'NR==n' /tmp/data").1,
            "alice 1000 /home/alice\n"
        );
        assert_eq!(
            awk("echo 'a b c' | awk '{$2=\"X\"; print; print NF}'").1,
            "a X c\n3\n"
        );
        assert_eq!(
            awk("echo 'a:b' | awk 'BEGIN{FS=\":\"; OFS=\"-\"} {$1=$1; print}'").1,
            "a-b\n"
        );
    }

    #[test]
    fn control_flow_arrays_and_builtins() {
        let (status, out, err) = awk(
            "awk '{ s += $2; n[$1]++ } END { for (k in n) c++; printf \"%d users, %.1f avg\\n\", c, s/NR }' /tmp/data",
        );
        assert_eq!(
            (status, out.as_str(), err.as_str()),
            (0, "3 users, 667.0 avg\n", "")
        );
        assert_eq!(
            awk("awk 'BEGIN { x = \"Hello World\"; gsub(/o/, \"0\", x); print toupper(substr(x, 1, 5)), length(x), index(x, \"W\") }'").1,
            "HELL0 11 7\n"
        );
        assert_eq!(
            awk("awk 'BEGIN { n = split(\"a,b,c\", p, \",\"); for (i = n; i > 0; i--) printf \"%s%s\", p[i], (i > 1 ? \" \" : \"\\n\") }'").1,
            "c b a\n"
        );
        assert_eq!(
            awk("awk 'BEGIN { if (1 > 2) print \"no\"; else if (\"10\" < \"9\") print \"strings\"; else print \"numbers\" }'").1,
            "strings\n"
        );
        assert_eq!(
            awk("awk 'BEGIN { while (i < 3) { i++; if (i == 2) continue; print i } }'").1,
            "1\n3\n"
        );
        assert_eq!(
            awk("awk 'BEGIN { print 1e6, 0.1 + 0.2, 3/2, 1e20, -7 % 3 }'").1,
            "1000000 0.3 1.5 1e+20 -1\n"
        );
        assert_eq!(
            awk("printf 'x\\ny\\n' | awk 'NR == 1 { next } { print \"got\", $0 }'").1,
            "got y\n"
        );
        assert_eq!(awk("awk 'BEGIN { exit 3 } END { print \"end\" }'").0, 3);
    }

    #[test]
    fn errors_are_busyboxs() {
        assert_eq!(
            awk("awk '{print $1'").2,
            "awk: cmd. line:1: Unexpected token\n"
        );
        assert_eq!(
            awk("awk '{print \"a}'").2,
            "awk: cmd. line:1: Unexpected end of string\n"
        );
        assert_eq!(
            awk("awk '{print $1}}'").2,
            "awk: cmd. line:1: Unexpected token\n"
        );
        let (status, _, err) = awk("awk 'BEGIN{x=1/0}'");
        assert_eq!(
            (status, err.as_str()),
            (1, "awk: cmd. line:1: Division by zero\n")
        );
        let (status, _, err) = awk("awk '{print}' /nonexistent");
        assert_eq!(
            (status, err.as_str()),
            (1, "awk: /nonexistent: No such file or directory\n")
        );
    }

    #[test]
    fn print_redirects_to_files() {
        let mut fs = base_fs();
        let out = sh_on(
            &mut fs,
            "awk 'BEGIN { print \"a\" > \"/tmp/o\"; print \"b\" > \"/tmp/o\" }'; cat /tmp/o",
        );
        assert_eq!(out.stdout(), b"a\nb\n");
    }
}
