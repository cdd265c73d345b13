//! The subset of Go's `text/template` that `docker … --format` users write, evaluated over a
//! [`serde_json::Value`] so that any record (a `ps` row, an image's inspect document) can be
//! formatted.
//!
//! Supported: literal text; actions `{{.ID}}`, `{{.Config.Cmd}}`, `{{.}}`, `{{$}}`, variables
//! (`{{$n := .Name}}`, `{{range $k, $v := .Labels}}`); pipelines with `|`; parentheses;
//! string, number, `true`/`false`/`nil` literals; `if`/`else if`/`else`, `range`/`else`,
//! `with`/`else`, `end`; trim markers `{{-`/`-}}`; comments `{{/* … */}}`; docker's functions
//! `json`, `split`, `join`, `title`, `lower`, `upper`, `pad`, `truncate`, and Go's `len`, `index`,
//! `print`, `printf`, `println`, `not`, `and`, `or`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`.
//!
//! Values print as Go's `%v` prints decoded JSON: arrays as `[a b]`, objects as `map[k:v]` with
//! sorted keys, `null` as `<nil>`; a key missing from an object prints `<no value>`.
//!
//! ```
//! use layerbox_core::cli::template::Template;
//! let t = Template::parse("{{.Id}} {{.Config.Cmd}} {{len .RootFS.Layers}}").unwrap();
//! let v = serde_json::json!({"Id": "sha256:46", "Config": {"Cmd": ["cat", "/a"]},
//!                            "RootFS": {"Layers": ["a", "b", "c"]}});
//! assert_eq!(t.execute(&v).unwrap(), "sha256:46 [cat /a] 3");
//! ```

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// A parse or execution error, worded like Go's `template: …` errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template text is malformed.
    #[error("template: :{line}: {message}")]
    Parse {
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The template failed while formatting a value.
    #[error("template: :{line}:{col}: executing \"\" at <{at}>: {message}")]
    Exec {
        /// 1-based line of the action.
        line: usize,
        /// 0-based byte of the action in its line.
        col: usize,
        /// The action's source text.
        at: String,
        /// What went wrong.
        message: String,
    },
}

/// A parsed template, ready to run over many values.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Pipeline),
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Range {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    With {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Pipeline {
    at: Pos,
    source: String,
    decl: Vec<String>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// `.A.B` (an empty chain is `.`).
    Field(Vec<String>),
    /// `$x.A.B` (`$` alone is the root).
    Var(String, Vec<String>),
    /// `(pipeline).A.B`
    Sub(Box<Pipeline>, Vec<String>),
    Ident(String),
    Lit(Value),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Ident(String),
    Lit(Value),
    Open,
    Close(Vec<String>),
    Pipe,
    Declare,
    Comma,
}

impl Template {
    /// Parses template text.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let items = split_actions(text)?;
        let mut pos = 0;
        let (nodes, end) = parse_list(&items, &mut pos)?;
        if let Some((word, Pos { line, .. })) = end {
            return Err(TemplateError::Parse {
                line,
                message: format!("unexpected {{{{{word}}}}}"),
            });
        }
        Ok(Self { nodes })
    }

    /// Runs the template with `dot` as `.` and `$`.
    pub fn execute(&self, dot: &Value) -> Result<String, TemplateError> {
        self.run(dot, Mode::Plain)
    }

    /// Runs the template over a list record (a `ps`, `images` or `history` row): as docker's
    /// row contexts marshal themselves with Go's `json.Marshal`, `{{json .}}` escapes `<`, `>`
    /// and `&` as `\u003c`, `\u003e`, `\u0026` (`"Digest":"\u003cnone\u003e"`).
    /// Like docker's typed row contexts, a field the record lacks is an error naming the Go
    /// type (`can't evaluate field Name in type *formatter.ContainerContext`), not `<no value>`.
    pub fn execute_record(&self, record: &Value, go_type: &str) -> Result<String, TemplateError> {
        self.run(record, Mode::Record(go_type))
    }

    /// Runs the template for a table header: docker's header functions return their first
    /// argument unchanged, so `{{upper .Name}}` over the header record prints `NAMES`.
    pub fn execute_header(&self, header: &Value) -> Result<String, TemplateError> {
        self.run(header, Mode::Header)
    }

    fn run(&self, dot: &Value, mode: Mode<'_>) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut exec = Exec {
            root: dot,
            vars: Vec::new(),
            mode,
        };
        exec.nodes(&self.nodes, dot, &mut out)?;
        Ok(out)
    }
}

/// Where an action starts: 1-based line, 0-based byte in that line (Go's `:1:2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    col: usize,
}

/// A piece of template source: literal text, or an action's inside with its position.
enum Item {
    Text(String),
    Action(String, Pos),
}

fn split_actions(text: &str) -> Result<Vec<Item>, TemplateError> {
    let mut items = Vec::new();
    let mut rest = text;
    let mut line = 1;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut lit = &rest[..start];
        if trim_next {
            lit = lit.trim_start();
        }
        let after = &rest[start + 2..];
        let trim_before =
            after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_before {
            lit = lit.trim_end();
        }
        if !lit.is_empty() {
            items.push(Item::Text(lit.to_owned()));
        }
        line += rest[..start].matches('\n').count();
        let inner_start = usize::from(trim_before);
        let close = find_close(after).ok_or(TemplateError::Parse {
            line,
            message: "unclosed action".to_owned(),
        })?;
        let mut inner = &after[inner_start..close];
        trim_next = inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-");
        if trim_next {
            inner = &inner[..inner.len() - 1];
        }
        let trimmed = inner.trim();
        if !(trimmed.starts_with("/*") && trimmed.ends_with("*/")) {
            // The byte offset of the action's first word, within its line.
            let leading = inner.len() - inner.trim_start().len();
            let at = text.len() - after.len() + inner_start + leading;
            let col = text[..at].rfind('\n').map_or(at, |nl| at - nl - 1);
            let pos = Pos {
                line: line + inner[..leading].matches('\n').count(),
                col,
            };
            items.push(Item::Action(trimmed.to_owned(), pos));
        }
        line += after[..close].matches('\n').count();
        rest = &after[close + 2..];
    }
    let lit = if trim_next { rest.trim_start() } else { rest };
    if !lit.is_empty() {
        items.push(Item::Text(lit.to_owned()));
    }
    Ok(items)
}

/// Finds the `}}` closing an action, skipping over quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q == b'"' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None if b == b'"' || b == b'`' => quote = Some(b),
            None if b == b'}' && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

type ListEnd = Option<(String, Pos)>;

/// Parses nodes until `end` or `else` (returned with its line) or the end of input.
fn parse_list(items: &[Item], pos: &mut usize) -> Result<(Vec<Node>, ListEnd), TemplateError> {
    let mut nodes = Vec::new();
    while *pos < items.len() {
        let item = &items[*pos];
        *pos += 1;
        match item {
            Item::Text(t) => nodes.push(Node::Text(t.clone())),
            Item::Action(src, at) => {
                let at = *at;
                let (word, rest) = src.split_once(char::is_whitespace).unwrap_or((src, ""));
                match word {
                    "end" | "else" => return Ok((nodes, Some((src.clone(), at)))),
                    "if" => nodes.push(parse_if(rest, at, items, pos)?),
                    "range" | "with" => {
                        let pipe = parse_pipeline(rest, at)?;
                        let (body, end) = parse_list(items, pos)?;
                        let otherwise = match end {
                            Some((e, _)) if e == "else" => {
                                let (other, end) = parse_list(items, pos)?;
                                expect_end(end, at)?;
                                other
                            }
                            end => {
                                expect_end(end, at)?;
                                Vec::new()
                            }
                        };
                        nodes.push(if word == "range" {
                            Node::Range {
                                pipe,
                                body,
                                otherwise,
                            }
                        } else {
                            Node::With {
                                pipe,
                                body,
                                otherwise,
                            }
                        });
                    }
                    _ => nodes.push(Node::Action(parse_pipeline(src, at)?)),
                }
            }
        }
    }
    Ok((nodes, None))
}

fn parse_if(cond: &str, at: Pos, items: &[Item], pos: &mut usize) -> Result<Node, TemplateError> {
    let mut branches = vec![(parse_pipeline(cond, at)?, Vec::new())];
    loop {
        let (body, end) = parse_list(items, pos)?;
        if let Some(last) = branches.last_mut() {
            last.1 = body;
        }
        match end {
            Some((e, l)) if e == "else" => {
                let (other, end) = parse_list(items, pos)?;
                expect_end(end, l)?;
                return Ok(Node::If {
                    branches,
                    otherwise: other,
                });
            }
            Some((e, l)) if e.starts_with("else if ") => {
                branches.push((parse_pipeline(&e["else if ".len()..], l)?, Vec::new()));
            }
            end => {
                expect_end(end, at)?;
                return Ok(Node::If {
                    branches,
                    otherwise: Vec::new(),
                });
            }
        }
    }
}

fn expect_end(end: ListEnd, at: Pos) -> Result<(), TemplateError> {
    match end {
        Some((e, _)) if e == "end" => Ok(()),
        Some((e, l)) => Err(TemplateError::Parse {
            line: l.line,
            message: format!("unexpected {{{{{e}}}}}"),
        }),
        None => Err(TemplateError::Parse {
            line: at.line,
            message: "unexpected EOF".to_owned(),
        }),
    }
}

fn parse_pipeline(src: &str, at: Pos) -> Result<Pipeline, TemplateError> {
    let line = at.line;
    let toks = lex(src, line)?;
    let mut pos = 0;
    let pipe = pipeline_from(&toks, &mut pos, src, at)?;
    if pos < toks.len() {
        return Err(TemplateError::Parse {
            line,
            message: format!("unexpected {:?} in command", toks[pos]),
        });
    }
    Ok(pipe)
}

fn pipeline_from(
    toks: &[Tok],
    pos: &mut usize,
    src: &str,
    at: Pos,
) -> Result<Pipeline, TemplateError> {
    let line = at.line;
    let mut decl = Vec::new();
    // `$a :=` or `$a, $b :=`
    let mut look = *pos;
    let mut names = Vec::new();
    while let Some(Tok::Var(name, fields)) = toks.get(look) {
        if !fields.is_empty() {
            break;
        }
        names.push(name.clone());
        look += 1;
        match toks.get(look) {
            Some(Tok::Comma) => look += 1,
            Some(Tok::Declare) => {
                decl = std::mem::take(&mut names);
                *pos = look + 1;
                break;
            }
            _ => break,
        }
    }
    let mut cmds = Vec::new();
    let mut cmd = Vec::new();
    while let Some(tok) = toks.get(*pos) {
        *pos += 1;
        match tok {
            Tok::Pipe => {
                if cmd.is_empty() {
                    return Err(TemplateError::Parse {
                        line,
                        message: "missing command".to_owned(),
                    });
                }
                cmds.push(std::mem::take(&mut cmd));
            }
            Tok::Close(_) => {
                *pos -= 1;
                break;
            }
            Tok::Open => {
                let inner = pipeline_from(toks, pos, src, at)?;
                let Some(Tok::Close(fields)) = toks.get(*pos) else {
                    return Err(TemplateError::Parse {
                        line,
                        message: "unclosed left paren".to_owned(),
                    });
                };
                *pos += 1;
                cmd.push(Arg::Sub(Box::new(inner), fields.clone()));
            }
            Tok::Field(f) => cmd.push(Arg::Field(f.clone())),
            Tok::Var(n, f) => cmd.push(Arg::Var(n.clone(), f.clone())),
            Tok::Ident(i) => cmd.push(Arg::Ident(i.clone())),
            Tok::Lit(v) => cmd.push(Arg::Lit(v.clone())),
            Tok::Declare | Tok::Comma => {
                return Err(TemplateError::Parse {
                    line,
                    message: "unexpected declaration".to_owned(),
                });
            }
        }
    }
    if cmd.is_empty() {
        return Err(TemplateError::Parse {
            line,
            message: if cmds.is_empty() {
                "missing value for command".to_owned()
            } else {
                "missing command".to_owned()
            },
        });
    }
    cmds.push(cmd);
    for c in &cmds {
        if let Some(Arg::Ident(name)) = c.first()
            && !is_function(name)
        {
            return Err(TemplateError::Parse {
                line,
                message: format!("function {name:?} not defined"),
            });
        }
    }
    Ok(Pipeline {
        at,
        source: src.to_owned(),
        decl,
        cmds,
    })
}

fn lex(src: &str, line: usize) -> Result<Vec<Tok>, TemplateError> {
    let err = |message: String| TemplateError::Parse { line, message };
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let fields_at = |i: &mut usize| -> Vec<String> {
        let mut fields = Vec::new();
        while *i < chars.len()
            && chars[*i] == '.'
            && chars.get(*i + 1).is_some_and(|c| is_ident_char(*c))
        {
            *i += 1;
            let start = *i;
            while *i < chars.len() && is_ident_char(chars[*i]) {
                *i += 1;
            }
            fields.push(chars[start..*i].iter().collect());
        }
        fields
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            ',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            '(' => {
                toks.push(Tok::Open);
                i += 1;
            }
            ')' => {
                i += 1;
                toks.push(Tok::Close(fields_at(&mut i)));
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                toks.push(Tok::Declare);
                i += 2;
            }
            '.' => {
                let fields = fields_at(&mut i);
                if fields.is_empty() {
                    i += 1;
                }
                toks.push(Tok::Field(fields));
            }
            '$' => {
                i += 1;
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let name = format!("${}", chars[start..i].iter().collect::<String>());
                toks.push(Tok::Var(name, fields_at(&mut i)));
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(err("unterminated quoted string".to_owned()));
                    };
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let Some(&e) = chars.get(i) else {
                                return Err(err("unterminated quoted string".to_owned()));
                            };
                            i += 1;
                            s.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '0' => '\0',
                                other => other,
                            });
                        }
                        c => s.push(c),
                    }
                }
                toks.push(Tok::Lit(Value::String(s)));
            }
            '`' => {
                let start = i + 1;
                let Some(len) = chars[start..].iter().position(|c| *c == '`') else {
                    return Err(err("unterminated raw quoted string".to_owned()));
                };
                toks.push(Tok::Lit(Value::String(
                    chars[start..start + len].iter().collect(),
                )));
                i = start + len + 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let value = if let Ok(n) = text.parse::<i64>() {
                    Value::from(n)
                } else if let Ok(f) = text.parse::<f64>() {
                    Value::from(f)
                } else {
                    return Err(err(format!("bad number syntax: {text:?}")));
                };
                toks.push(Tok::Lit(value));
            }
            c if is_ident_char(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                toks.push(match word.as_str() {
                    "true" => Tok::Lit(Value::Bool(true)),
                    "false" => Tok::Lit(Value::Bool(false)),
                    "nil" => Tok::Lit(Value::Null),
                    _ => Tok::Ident(word),
                });
            }
            other => return Err(err(format!("unexpected {other:?} in command"))),
        }
    }
    Ok(toks)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

const FUNCTIONS: &[&str] = &[
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate", "len", "index", "print",
    "printf", "println", "not", "and", "or", "eq", "ne", "lt", "le", "gt", "ge",
];

fn is_function(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

/// How functions behave: normally, for a table header, or for a list record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode<'a> {
    Plain,
    Header,
    /// A list record of the named Go type.
    Record(&'a str),
}

struct Exec<'a> {
    /// `$`: the value the template started with.
    root: &'a Value,
    vars: Vec<(String, Value)>,
    mode: Mode<'a>,
}

impl Exec<'_> {
    fn nodes(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        for node in nodes {
            self.node(node, dot, out)?;
        }
        Ok(())
    }

    fn node(&mut self, node: &Node, dot: &Value, out: &mut String) -> Result<(), TemplateError> {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Action(pipe) => {
                let v = self.pipeline(pipe, dot)?;
                if pipe.decl.is_empty() {
                    print_value(&v, out);
                }
            }
            Node::If {
                branches,
                otherwise,
            } => {
                let mark = self.vars.len();
                let mut chosen = None;
                for (cond, body) in branches {
                    if truthy(&self.pipeline(cond, dot)?) {
                        chosen = Some(body);
                        break;
                    }
                }
                self.nodes(chosen.unwrap_or(otherwise), dot, out)?;
                self.vars.truncate(mark);
            }
            Node::With {
                pipe,
                body,
                otherwise,
            } => {
                let mark = self.vars.len();
                let v = self.pipeline(pipe, dot)?;
                if truthy(&v) {
                    self.nodes(body, &v, out)?;
                } else {
                    self.nodes(otherwise, dot, out)?;
                }
                self.vars.truncate(mark);
            }
            Node::Range {
                pipe,
                body,
                otherwise,
            } => {
                let mark = self.vars.len();
                let mut decl_pipe = pipe.clone();
                decl_pipe.decl.clear();
                let v = self.pipeline(&decl_pipe, dot)?;
                let items: Vec<(Value, Value)> = match &v {
                    Value::Array(a) => a
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (Value::from(i), e.clone()))
                        .collect(),
                    Value::Object(m) => {
                        // Go ranges over a map in key order, whatever order it was built in.
                        let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
                        pairs.sort_by(|a, b| a.0.cmp(b.0));
                        pairs
                            .into_iter()
                            .map(|(k, e)| (Value::String(k.clone()), e.clone()))
                            .collect()
                    }
                    Value::Null => Vec::new(),
                    other => {
                        return Err(exec_err(
                            pipe,
                            format!("range can't iterate over {}", go_string(other)),
                        ));
                    }
                };
                if items.is_empty() {
                    self.nodes(otherwise, dot, out)?;
                }
                for (key, elem) in items {
                    match pipe.decl.as_slice() {
                        [v] => self.vars.push((v.clone(), elem.clone())),
                        [k, v] => {
                            self.vars.push((k.clone(), key));
                            self.vars.push((v.clone(), elem.clone()));
                        }
                        _ => {}
                    }
                    self.nodes(body, &elem, out)?;
                    self.vars.truncate(mark);
                }
            }
        }
        Ok(())
    }

    fn pipeline(&mut self, pipe: &Pipeline, dot: &Value) -> Result<Value, TemplateError> {
        let mut piped: Option<Value> = None;
        for cmd in &pipe.cmds {
            piped = Some(self.command(pipe, cmd, dot, piped)?);
        }
        let v = piped.unwrap_or(Value::Null);
        if let Some(name) = pipe.decl.first() {
            self.vars.push((name.clone(), v.clone()));
        }
        Ok(v)
    }

    fn command(
        &mut self,
        pipe: &Pipeline,
        cmd: &[Arg],
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value, TemplateError> {
        if let Some(Arg::Ident(name)) = cmd.first() {
            let mut args = Vec::with_capacity(cmd.len());
            for a in &cmd[1..] {
                args.push(self.arg(pipe, a, dot)?);
            }
            args.extend(piped);
            return call(name, &args, self.mode).map_err(|m| exec_err(pipe, m));
        }
        if cmd.len() > 1 || piped.is_some() {
            return Err(exec_err(
                pipe,
                "can't give argument to non-function".to_owned(),
            ));
        }
        self.arg(pipe, &cmd[0], dot)
    }

    /// `.A.B` from `base`; in record mode a key the record lacks is docker's typed error.
    fn field(
        &self,
        pipe: &Pipeline,
        base: &Value,
        fields: &[String],
    ) -> Result<Value, TemplateError> {
        if let (Mode::Record(go_type), Some(first), Value::Object(map)) =
            (self.mode, fields.first(), base)
            && !map.contains_key(first)
        {
            return Err(exec_err(
                pipe,
                format!("can't evaluate field {first} in type {go_type}"),
            ));
        }
        Ok(walk(base, fields))
    }

    fn arg(&mut self, pipe: &Pipeline, arg: &Arg, dot: &Value) -> Result<Value, TemplateError> {
        match arg {
            Arg::Field(fields) => self.field(pipe, dot, fields),
            Arg::Var(name, fields) => {
                if name == "$" {
                    return self.field(pipe, self.root, fields);
                }
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(exec_err(pipe, format!("undefined variable: {name}")));
                };
                let v = v.clone();
                self.field(pipe, &v, fields)
            }
            Arg::Sub(inner, fields) => Ok(walk(&self.pipeline(inner, dot)?, fields)),
            Arg::Ident(name) => call(name, &[], self.mode).map_err(|m| exec_err(pipe, m)),
            Arg::Lit(v) => Ok(v.clone()),
        }
    }
}

/// A marker for a key absent from an object, printed as Go prints a missing map key.
const NO_VALUE: &str = "\u{0}<no value>";

fn walk(v: &Value, fields: &[String]) -> Value {
    let mut cur = v;
    for f in fields {
        match cur.get(f) {
            Some(next) => cur = next,
            None => return Value::String(NO_VALUE.to_owned()),
        }
    }
    cur.clone()
}

fn exec_err(pipe: &Pipeline, message: String) -> TemplateError {
    TemplateError::Exec {
        line: pipe.at.line,
        col: pipe.at.col,
        at: pipe.source.clone(),
        message,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != NO_VALUE,
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Prints a value as Go's `%v` prints it.
fn print_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                out.push_str(&crate::cli::units::go_format_float(
                    n.as_f64().unwrap_or(0.0),
                ));
            }
        }
        Value::String(s) if s == NO_VALUE => out.push_str("<no value>"),
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_value(e, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                print_value(&m[k], out);
            }
            out.push(']');
        }
    }
}

fn go_string(v: &Value) -> String {
    let mut s = String::new();
    print_value(v, &mut s);
    s
}

fn arg_str(args: &[Value], i: usize) -> String {
    args.get(i).map(go_string).unwrap_or_default()
}

fn arg_int(args: &[Value], i: usize) -> Result<i64, String> {
    match args.get(i) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("expected integer; found {n}")),
        Some(other) => Err(format!("expected integer; found {}", go_string(other))),
        None => Err("wrong number of args".to_owned()),
    }
}

fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "error calling {name}: wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

/// Calls a template function; in header mode docker's own functions return their argument.
fn call(name: &str, args: &[Value], mode: Mode<'_>) -> Result<Value, String> {
    if mode == Mode::Header
        && matches!(
            name,
            "json" | "split" | "join" | "title" | "lower" | "upper" | "pad" | "truncate"
        )
    {
        return Ok(Value::String(arg_str(args, 0)));
    }
    let text_arg = |i| arg_str(args, i);
    Ok(match name {
        "json" => {
            want_args(name, args, 1)?;
            let v = &args[0];
            if matches!(v, Value::String(s) if s == NO_VALUE) {
                Value::String("null".to_owned())
            } else {
                let text = serde_json::to_string(v).map_err(|e| e.to_string())?;
                if matches!(mode, Mode::Record(_)) && v.is_object() {
                    Value::String(
                        text.replace('<', "\\u003c")
                            .replace('>', "\\u003e")
                            .replace('&', "\\u0026"),
                    )
                } else {
                    Value::String(text)
                }
            }
        }
        "split" => {
            want_args(name, args, 2)?;
            let (text, sep) = (text_arg(0), text_arg(1));
            let parts: Vec<Value> = if sep.is_empty() {
                text.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                text.split(sep.as_str())
                    .map(|p| Value::String(p.to_owned()))
                    .collect()
            };
            Value::Array(parts)
        }
        "join" => {
            want_args(name, args, 2)?;
            let items: Vec<String> = match &args[0] {
                Value::Array(a) => a.iter().map(go_string).collect(),
                other => {
                    return Err(format!(
                        "wrong type for value; expected []string; got {}",
                        go_string(other)
                    ));
                }
            };
            Value::String(items.join(&text_arg(1)))
        }
        "title" => {
            want_args(name, args, 1)?;
            Value::String(go_title(&text_arg(0)))
        }
        "lower" => {
            want_args(name, args, 1)?;
            Value::String(text_arg(0).to_lowercase())
        }
        "upper" => {
            want_args(name, args, 1)?;
            Value::String(text_arg(0).to_uppercase())
        }
        "pad" => {
            want_args(name, args, 3)?;
            let text = text_arg(0);
            if text.is_empty() {
                Value::String(text)
            } else {
                let pre = usize::try_from(arg_int(args, 1)?).unwrap_or(0);
                let post = usize::try_from(arg_int(args, 2)?).unwrap_or(0);
                Value::String(format!("{}{text}{}", " ".repeat(pre), " ".repeat(post)))
            }
        }
        "truncate" => {
            want_args(name, args, 2)?;
            let text = text_arg(0);
            let n = usize::try_from(arg_int(args, 1)?).unwrap_or(0);
            Value::String(text.chars().take(n).collect())
        }
        "len" => {
            want_args(name, args, 1)?;
            let n = match &args[0] {
                Value::String(t) => t.len(),
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                Value::Null => 0,
                other => return Err(format!("error calling len: len of type {}", go_type(other))),
            };
            Value::from(n)
        }
        "index" => {
            let Some(mut cur) = args.first().cloned() else {
                return Err("wrong number of args for index: want at least 1 got 0".to_owned());
            };
            for key in &args[1..] {
                cur = match (&cur, key) {
                    (Value::Array(a), Value::Number(n)) => {
                        let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
                        match i.and_then(|i| a.get(i)) {
                            Some(v) => v.clone(),
                            None => {
                                return Err(format!(
                                    "error calling index: index out of range: {n}"
                                ));
                            }
                        }
                    }
                    (Value::Object(m), Value::String(k)) => m
                        .get(k)
                        .cloned()
                        .unwrap_or(Value::String(NO_VALUE.to_owned())),
                    (c, _) => {
                        return Err(format!(
                            "error calling index: can't index item of type {}",
                            go_type(c)
                        ));
                    }
                };
            }
            cur
        }
        "print" => Value::String(go_sprint(args)),
        "println" => {
            let parts: Vec<String> = args.iter().map(go_string).collect();
            Value::String(format!("{}\n", parts.join(" ")))
        }
        "printf" => Value::String(go_sprintf(&text_arg(0), args.get(1..).unwrap_or_default())),
        "not" => {
            want_args(name, args, 1)?;
            Value::Bool(!truthy(&args[0]))
        }
        "and" => args
            .iter()
            .find(|a| !truthy(a))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "or" => args
            .iter()
            .find(|a| truthy(a))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "eq" => {
            let Some(first) = args.first() else {
                return Err("missing argument for comparison".to_owned());
            };
            Value::Bool(args[1..].iter().any(|b| values_equal(first, b)))
        }
        "ne" => {
            want_args(name, args, 2)?;
            Value::Bool(!values_equal(&args[0], &args[1]))
        }
        "lt" | "le" | "gt" | "ge" => {
            want_args(name, args, 2)?;
            let ord = compare(&args[0], &args[1])
                .ok_or_else(|| "incompatible types for comparison".to_owned())?;
            Value::Bool(match name {
                "lt" => ord.is_lt(),
                "le" => ord.is_le(),
                "gt" => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        other => return Err(format!("function {other:?} not defined")),
    })
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Go's `fmt.Sprint`: operands joined, with a space between two operands when neither is a
/// string.
fn go_sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !a.is_string() && !args[i - 1].is_string() {
            out.push(' ');
        }
        print_value(a, &mut out);
    }
    out
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s`, `%v`, `%d`, `%q`, `%%`.
fn go_sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb @ ('s' | 'v' | 'd' | 'q')) => match args.next() {
                Some(a) if verb == 'q' => out.push_str(&crate::cli::text::go_quote(&go_string(a))),
                Some(a) => print_value(a, &mut out),
                None => {
                    let _ = write!(out, "%!{verb}(MISSING)");
                }
            },
            Some(other) => {
                let _ = write!(out, "%!{other}(");
                if let Some(a) = args.next() {
                    print_value(a, &mut out);
                }
                out.push(')');
            }
            None => out.push_str("%!(NOVERB)"),
        }
    }
    out
}

/// Go's deprecated `strings.Title`: upper-case the first letter of every word.
fn go_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// Builds a JSON object from `(key, value)` pairs, for records handed to templates.
pub fn record<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().execute(v).unwrap()
    }

    #[test]
    fn fields_and_literals() {
        let v = json!({"ID": "abc", "Names": "web", "Config": {"Cmd": ["cat", "/a"], "Env": null}});
        assert_eq!(run("{{.ID}}\t{{.Names}}", &v), "abc\tweb");
        assert_eq!(
            run("id={{ .ID }} cmd={{.Config.Cmd}}", &v),
            "id=abc cmd=[cat /a]"
        );
        assert_eq!(
            run("{{.Config.Env}} {{.Nope}} {{.Config.Nope}}", &v),
            "<nil> <no value> <no value>"
        );
        assert_eq!(run("{{.Config}}", &v), "map[Cmd:[cat /a] Env:<nil>]");
        assert_eq!(
            run("{{\"lit\"}} {{`raw`}} {{42}} {{true}}", &v),
            "lit raw 42 true"
        );
    }

    #[test]
    fn json_and_functions() {
        let v = json!({"Names": "web", "Labels": {"b": "2", "a": "1"}, "Cmd": ["sh", "-c"]});
        assert_eq!(
            run("{{json .}}", &v),
            r#"{"Cmd":["sh","-c"],"Labels":{"a":"1","b":"2"},"Names":"web"}"#
        );
        assert_eq!(run("{{json .Cmd}}", &v), r#"["sh","-c"]"#);
        assert_eq!(
            run(
                "{{upper .Names}} {{.Names | upper}} {{title \"hello world\"}}",
                &v
            ),
            "WEB WEB Hello World"
        );
        assert_eq!(
            run(
                "{{join .Cmd \" \"}} {{len .Cmd}} {{index .Cmd 1}} {{index .Labels \"a\"}}",
                &v
            ),
            "sh -c 2 -c 1"
        );
        assert_eq!(
            run(
                "[{{pad .Names 1 2}}] {{truncate .Names 2}} {{split \"a,b\" \",\"}}",
                &v
            ),
            "[ web  ] we [a b]"
        );
        assert_eq!(
            run("{{printf \"%s=%d\" .Names 3}}{{println}}", &v),
            "web=3\n"
        );
        assert_eq!(run("{{len (index .Cmd 0)}}", &v), "2");
    }

    #[test]
    fn control_structures() {
        let v = json!({"State": "running", "Ports": [80, 443], "Labels": {"a": "1", "b": "2"}, "Empty": []});
        assert_eq!(
            run("{{if eq .State \"running\"}}up{{else}}down{{end}}", &v),
            "up"
        );
        assert_eq!(
            run("{{if .Empty}}x{{else if .Ports}}p{{else}}n{{end}}", &v),
            "p"
        );
        assert_eq!(run("{{range .Ports}}{{.}},{{end}}", &v), "80,443,");
        assert_eq!(
            run("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", &v),
            "a=1;b=2;"
        );
        assert_eq!(run("{{range .Empty}}x{{else}}none{{end}}", &v), "none");
        assert_eq!(
            run(
                "{{with .Labels}}{{.a}}{{end}}{{with .Empty}}x{{else}}-{{end}}",
                &v
            ),
            "1-"
        );
        assert_eq!(
            run(
                "{{$s := .State}}{{range .Ports}}{{$s}}{{end}}{{$.State}}",
                &v
            ),
            "runningrunningrunning"
        );
        assert_eq!(run("a {{- /* note */ -}} b\n {{- \"c\" }}", &v), "abc");
    }

    #[test]
    fn errors_have_go_words() {
        assert_eq!(
            Template::parse("{{.ID").unwrap_err().to_string(),
            "template: :1: unclosed action"
        );
        assert_eq!(
            Template::parse("{{foo .ID}}").unwrap_err().to_string(),
            "template: :1: function \"foo\" not defined"
        );
        assert_eq!(
            Template::parse("{{if .A}}x").unwrap_err().to_string(),
            "template: :1: unexpected EOF"
        );
        let err = Template::parse("{{len .A}}")
            .unwrap()
            .execute(&json!({"A": 3}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: :1:2: executing \"\" at <len .A>: error calling len: len of type int"
        );
    }

    #[test]
    fn record_json_escapes_html_like_go_marshal() {
        let t = Template::parse("{{json .}} {{json .Digest}}").unwrap();
        let v = json!({"Digest": "<none>"});
        assert_eq!(
            t.execute_record(&v, "T").unwrap(),
            r#"{"Digest":"\u003cnone\u003e"} "<none>""#
        );
        assert_eq!(t.execute(&v).unwrap(), r#"{"Digest":"<none>"} "<none>""#);
    }

    #[test]
    fn header_mode_keeps_names() {
        let t = Template::parse("{{upper .Names}}\t{{json .ID}}").unwrap();
        assert_eq!(
            t.execute_header(&json!({"Names": "NAMES", "ID": "CONTAINER ID"}))
                .unwrap(),
            "NAMES\tCONTAINER ID"
        );
    }
}
