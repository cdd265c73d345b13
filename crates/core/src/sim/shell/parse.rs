//! A recursive-descent parser for the shell subset, with dash's syntax error texts.
//!
//! ```
//! use layerbox_core::sim::shell::parse;
//! let program = parse("apt-get update && apt-get install -y curl").unwrap();
//! assert_eq!(program.items.len(), 1);
//! let err = parse("if true; then echo").unwrap_err();
//! assert_eq!(err.to_string(), "Syntax error: end of file unexpected (expecting \"fi\")");
//! ```

use super::ast::{
    AndOr, Command, CompoundCommand, CondToken, Connector, Param, ParamOp, Pipeline, Program,
    Redirect, RedirectOp, SimpleCommand, Word, WordPart,
};

/// A syntax error, worded as dash words it; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Syntax error: {message}")]
pub struct SyntaxError {
    /// The line the error was found on.
    pub line: usize,
    /// The text after `Syntax error: `.
    pub message: String,
}

/// Most nesting the parser accepts (command substitutions, groups, loops), so that hostile
/// input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses a whole script, as dash does.
pub fn parse(src: &str) -> Result<Program, SyntaxError> {
    parse_as(src, false)
}

/// Parses a whole script, as bash does (`bash`) or dash.
pub fn parse_as(src: &str, bash: bool) -> Result<Program, SyntaxError> {
    let mut p = Parser::new(src);
    p.bash = bash;
    let program = p.program(&[])?;
    p.skip_blank_and_newlines();
    match p.peek_token() {
        None => Ok(program),
        Some(tok) => Err(p.unexpected(&tok)),
    }
}

/// Parses the body of an unquoted here-document: `$`, `` ` `` and `\` are special, quotes are not.
pub fn parse_heredoc_body(body: &str) -> Result<Word, SyntaxError> {
    let mut p = Parser::new(body);
    let mut parts = Vec::new();
    let mut lit = String::new();
    while let Some(c) = p.peek() {
        match c {
            '\\' if matches!(p.peek_at(1), Some('$' | '`' | '\\')) => {
                p.bump();
                lit.push(p.bump().unwrap_or('\\'));
            }
            '\\' if p.peek_at(1) == Some('\n') => {
                p.bump();
                p.bump();
            }
            '$' | '`' => {
                flush(&mut lit, &mut parts, true);
                let part = p.dollar_or_backtick(true)?;
                parts.push(part);
            }
            _ => {
                lit.push(c);
                p.bump();
            }
        }
    }
    flush(&mut lit, &mut parts, true);
    Ok(Word(parts))
}

fn flush(lit: &mut String, parts: &mut Vec<WordPart>, quoted: bool) {
    if !lit.is_empty() {
        let text = std::mem::take(lit);
        parts.push(if quoted {
            WordPart::Quoted(text)
        } else {
            WordPart::Literal(text)
        });
    }
}

/// A lexical token as the grammar sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Op(&'static str),
    Newline,
    Word(Word),
    /// A token that failed to lex; peeking keeps the error for whoever consumes it.
    Error(SyntaxError),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Op(op) => format!("\"{op}\""),
            Token::Newline => "newline".to_owned(),
            Token::Word(w) => format!("\"{}\"", w.as_plain().unwrap_or_else(|| "word".into())),
            Token::Error(e) => e.message.clone(),
        }
    }
}

const OPERATORS: [&str; 17] = [
    "&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", ";", "&", "|", "(", ")", "<", ">",
];

const RESERVED: [&str; 15] = [
    "if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "case",
    "esac", "{", "}",
];

struct Parser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    depth: usize,
    /// A newline position and where to resume after it (past here-document bodies).
    skips: Vec<(usize, usize)>,
    /// bash's grammar: `[[ … ]]`, `function f`, `${x/a/b}`, `${x:1:2}`.
    bash: bool,
}

impl Parser {
    fn new(src: &str) -> Self {
        Parser {
            chars: src.chars().collect(),
            pos: 0,
            line: 1,
            depth: 0,
            skips: Vec::new(),
            bash: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        if c == '\n' {
            self.line += 1;
            if let Some(i) = self.skips.iter().position(|(at, _)| *at == self.pos) {
                let (_, resume) = self.skips.remove(i);
                self.line += self.chars[self.pos + 1..resume]
                    .iter()
                    .filter(|c| **c == '\n')
                    .count();
                self.pos = resume;
                return Some(c);
            }
        }
        self.pos += 1;
        Some(c)
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.into(),
        }
    }

    fn unexpected(&self, tok: &Token) -> SyntaxError {
        if let Token::Error(e) = tok {
            return e.clone();
        }
        self.error(format!("{} unexpected", tok.describe()))
    }

    fn eof_expecting(&self, what: &str) -> SyntaxError {
        self.error(format!("end of file unexpected (expecting \"{what}\")"))
    }

    /// Skips blanks, line continuations and comments (not newlines).
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => {
                    self.bump();
                }
                Some('\\') if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                Some('#') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }

    fn skip_blank_and_newlines(&mut self) {
        loop {
            self.skip_blank();
            if self.peek() == Some('\n') {
                self.newline();
            } else {
                return;
            }
        }
    }

    /// Consumes a newline; here-document bodies queued on this line are read first.
    fn newline(&mut self) {
        self.bump();
    }

    fn operator_here(&self) -> Option<&'static str> {
        OPERATORS.iter().copied().find(|op| {
            op.chars()
                .enumerate()
                .all(|(i, c)| self.peek_at(i) == Some(c))
        })
    }

    /// The next token without consuming it (words are lexed twice; they are short).
    fn peek_token(&mut self) -> Option<Token> {
        self.skip_blank();
        let (pos, line, skips) = (self.pos, self.line, self.skips.clone());
        let tok = self.next_token().unwrap_or_else(|e| Some(Token::Error(e)));
        self.pos = pos;
        self.line = line;
        self.skips = skips;
        tok
    }

    fn next_token(&mut self) -> Result<Option<Token>, SyntaxError> {
        self.skip_blank();
        match self.peek() {
            None => Ok(None),
            Some('\n') => {
                self.newline();
                Ok(Some(Token::Newline))
            }
            Some(_) => {
                if let Some(op) = self.operator_here() {
                    for _ in 0..op.len() {
                        self.bump();
                    }
                    return Ok(Some(Token::Op(op)));
                }
                let start = self.pos;
                let word = self.word()?;
                if self.pos == start {
                    // Unreachable with the operator table above; never loop on it.
                    return Err(
                        self.error(format!("\"{}\" unexpected", self.peek().unwrap_or(' ')))
                    );
                }
                Ok(Some(Token::Word(word)))
            }
        }
    }

    fn peek_reserved(&mut self) -> Option<String> {
        match self.peek_token() {
            Some(Token::Word(w)) => w.as_plain().filter(|s| RESERVED.contains(&s.as_str())),
            _ => None,
        }
    }

    fn expect_reserved(&mut self, word: &str) -> Result<(), SyntaxError> {
        self.skip_blank_and_newlines();
        match self.peek_token() {
            Some(Token::Word(w)) if w.as_plain().as_deref() == Some(word) => {
                self.next_token()?;
                Ok(())
            }
            None => Err(self.eof_expecting(word)),
            Some(tok) => Err(self.unexpected(&tok)),
        }
    }

    /// A list of and-or lists, up to one of the reserved words in `until` (not consumed).
    fn program(&mut self, until: &[&str]) -> Result<Program, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let mut items = Vec::new();
        loop {
            self.skip_blank_and_newlines();
            if let Some(r) = self.peek_reserved()
                && (until.contains(&r.as_str())
                    || matches!(
                        r.as_str(),
                        "then" | "do" | "done" | "fi" | "esac" | "elif" | "else" | "}"
                    ))
            {
                break;
            }
            match self.peek_token() {
                None | Some(Token::Op(")" | ";;")) => break,
                Some(tok @ Token::Op(";" | "&" | "&&" | "||" | "|")) => {
                    return Err(self.unexpected(&tok));
                }
                _ => {}
            }
            let mut and_or = self.and_or()?;
            self.skip_blank();
            match self.peek_token() {
                Some(Token::Op(";")) => {
                    self.next_token()?;
                }
                Some(Token::Op("&")) => {
                    self.next_token()?;
                    and_or.background = true;
                }
                None | Some(Token::Newline | Token::Op(")" | ";;")) => {}
                Some(Token::Word(_)) if self.peek_reserved().is_some() => {}
                Some(tok) => return Err(self.unexpected(&tok)),
            }
            items.push(and_or);
        }
        self.depth -= 1;
        Ok(Program { items })
    }

    fn and_or(&mut self) -> Result<AndOr, SyntaxError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let connector = match self.peek_token() {
                Some(Token::Op("&&")) => Connector::And,
                Some(Token::Op("||")) => Connector::Or,
                _ => break,
            };
            self.next_token()?;
            self.skip_blank_and_newlines();
            rest.push((connector, self.pipeline()?));
        }
        Ok(AndOr {
            first,
            rest,
            background: false,
        })
    }

    fn pipeline(&mut self) -> Result<Pipeline, SyntaxError> {
        let mut negated = false;
        if let Some(Token::Word(w)) = self.peek_token()
            && w.as_plain().as_deref() == Some("!")
        {
            self.next_token()?;
            negated = true;
        }
        let mut commands = vec![self.command()?];
        while let Some(Token::Op("|")) = self.peek_token() {
            self.next_token()?;
            self.skip_blank_and_newlines();
            commands.push(self.command()?);
        }
        Ok(Pipeline { negated, commands })
    }

    fn command(&mut self) -> Result<Command, SyntaxError> {
        let compound = match self.peek_token() {
            None => return Err(self.error("end of file unexpected")),
            Some(Token::Error(e)) => return Err(e),
            Some(Token::Op("(")) => {
                self.next_token()?;
                let body = self.program(&[])?;
                self.skip_blank_and_newlines();
                match self.next_token()? {
                    Some(Token::Op(")")) => {}
                    None => return Err(self.eof_expecting(")")),
                    Some(tok) => return Err(self.unexpected(&tok)),
                }
                Some(CompoundCommand::Subshell(body))
            }
            Some(Token::Word(w)) => match w.as_plain().as_deref() {
                Some("{") => {
                    self.next_token()?;
                    let body = self.program(&["}"])?;
                    self.expect_reserved("}")?;
                    Some(CompoundCommand::Group(body))
                }
                Some("if") => Some(self.if_clause()?),
                Some(kw @ ("while" | "until")) => {
                    let until = kw == "until";
                    self.next_token()?;
                    let condition = self.program(&["do"])?;
                    self.expect_reserved("do")?;
                    let body = self.program(&["done"])?;
                    self.expect_reserved("done")?;
                    Some(CompoundCommand::While {
                        until,
                        condition,
                        body,
                    })
                }
                Some("for") => Some(self.for_clause()?),
                Some("case") => Some(self.case_clause()?),
                Some("[[") if self.bash => Some(self.cond_clause()?),
                Some("function") if self.bash => return self.function_keyword(),
                Some(
                    r @ ("then" | "do" | "done" | "fi" | "esac" | "elif" | "else" | "}" | "in"),
                ) => {
                    return Err(self.error(format!("\"{r}\" unexpected")));
                }
                _ => None,
            },
            Some(tok @ Token::Op(op)) if !op.starts_with(['<', '>']) => {
                return Err(self.unexpected(&tok));
            }
            Some(Token::Newline) => return Err(self.error("newline unexpected")),
            Some(Token::Op(_)) => None,
        };
        if let Some(c) = compound {
            let mut redirects = Vec::new();
            while let Some(r) = self.try_redirect()? {
                redirects.push(r);
            }
            return Ok(Command::Compound(Box::new(c), redirects));
        }
        self.simple_command()
    }

    /// bash's `[[ … ]]`: words and operators up to `]]`.
    fn cond_clause(&mut self) -> Result<CompoundCommand, SyntaxError> {
        self.next_token()?;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek_token() {
                None | Some(Token::Newline) => {
                    return Err(self.error("unexpected end of file"));
                }
                Some(Token::Error(e)) => return Err(e),
                Some(Token::Op(op @ ("&&" | "||" | "(" | ")" | "<" | ">"))) => {
                    self.next_token()?;
                    items.push(CondToken::Op(op.to_owned()));
                }
                Some(Token::Op(op)) => {
                    return Err(self.error(format!(
                        "syntax error in conditional expression: unexpected token `{op}'"
                    )));
                }
                Some(Token::Word(w)) => {
                    self.next_token()?;
                    if w.as_plain().as_deref() == Some("]]") {
                        return Ok(CompoundCommand::Cond(items));
                    }
                    items.push(CondToken::Word(w));
                }
            }
        }
    }

    /// bash's `function name { … }` and `function name() { … }`.
    fn function_keyword(&mut self) -> Result<Command, SyntaxError> {
        self.next_token()?;
        let Some(Token::Word(w)) = self.next_token()? else {
            return Err(self.error("syntax error near unexpected token"));
        };
        let Some(name) = w.as_plain() else {
            return Err(self.error("syntax error near unexpected token"));
        };
        self.skip_blank();
        if self.peek() == Some('(') && self.peek_at(1) == Some(')') {
            self.bump();
            self.bump();
        }
        self.skip_blank_and_newlines();
        let Command::Compound(body, _) = self.command()? else {
            return Err(self.error("syntax error near unexpected token"));
        };
        Ok(Command::FunctionDef(name, body))
    }

    fn if_clause(&mut self) -> Result<CompoundCommand, SyntaxError> {
        self.next_token()?; // if
        let mut arms = Vec::new();
        loop {
            let cond = self.program(&["then"])?;
            self.expect_reserved("then")?;
            let body = self.program(&["elif", "else", "fi"])?;
            arms.push((cond, body));
            self.skip_blank_and_newlines();
            match self.peek_reserved().as_deref() {
                Some("elif") => {
                    self.next_token()?;
                }
                Some("else") => {
                    self.next_token()?;
                    let other = self.program(&["fi"])?;
                    self.expect_reserved("fi")?;
                    return Ok(CompoundCommand::If(arms, Some(other)));
                }
                _ => {
                    self.expect_reserved("fi")?;
                    return Ok(CompoundCommand::If(arms, None));
                }
            }
        }
    }

    fn for_clause(&mut self) -> Result<CompoundCommand, SyntaxError> {
        self.next_token()?; // for
        let name = match self.next_token()? {
            Some(Token::Word(w)) => match w.as_plain() {
                Some(n) if is_name(&n) => n,
                Some(n) => return Err(self.error(format!("Bad for loop variable {n}"))),
                None => return Err(self.error("Bad for loop variable")),
            },
            None => return Err(self.error("end of file unexpected")),
            Some(tok) => return Err(self.unexpected(&tok)),
        };
        self.skip_blank_and_newlines();
        let mut words = None;
        if self.peek_reserved().as_deref() == Some("in") {
            self.next_token()?;
            let mut list = Vec::new();
            loop {
                match self.peek_token() {
                    Some(Token::Word(w)) => {
                        self.next_token()?;
                        list.push(w);
                    }
                    Some(Token::Op(";") | Token::Newline) => {
                        self.next_token()?;
                        break;
                    }
                    None => return Err(self.eof_expecting("do")),
                    Some(tok) => return Err(self.unexpected(&tok)),
                }
            }
            words = Some(list);
        } else if let Some(Token::Op(";")) = self.peek_token() {
            self.next_token()?;
        }
        self.expect_reserved("do")?;
        let body = self.program(&["done"])?;
        self.expect_reserved("done")?;
        Ok(CompoundCommand::For { name, words, body })
    }

    fn case_clause(&mut self) -> Result<CompoundCommand, SyntaxError> {
        self.next_token()?; // case
        let subject = match self.next_token()? {
            Some(Token::Word(w)) => w,
            None => return Err(self.error("end of file unexpected")),
            Some(tok) => return Err(self.unexpected(&tok)),
        };
        self.expect_reserved("in")?;
        let mut arms = Vec::new();
        loop {
            self.skip_blank_and_newlines();
            if self.peek_reserved().as_deref() == Some("esac") {
                self.next_token()?;
                return Ok(CompoundCommand::Case(subject, arms));
            }
            if let Some(Token::Op("(")) = self.peek_token() {
                self.next_token()?;
            }
            let mut patterns = Vec::new();
            loop {
                match self.next_token()? {
                    Some(Token::Word(w)) => patterns.push(w),
                    None => return Err(self.eof_expecting(")")),
                    Some(tok) => return Err(self.unexpected(&tok)),
                }
                match self.next_token()? {
                    Some(Token::Op("|")) => {}
                    Some(Token::Op(")")) => break,
                    None => return Err(self.eof_expecting(")")),
                    Some(tok) => return Err(self.unexpected(&tok)),
                }
            }
            let body = self.program(&["esac"])?;
            self.skip_blank_and_newlines();
            match self.peek_token() {
                Some(Token::Op(";;")) => {
                    self.next_token()?;
                }
                Some(Token::Word(w)) if w.as_plain().as_deref() == Some("esac") => {}
                None => return Err(self.eof_expecting("esac")),
                Some(tok) => return Err(self.unexpected(&tok)),
            }
            arms.push((patterns, body));
        }
    }

    fn simple_command(&mut self) -> Result<Command, SyntaxError> {
        self.skip_blank();
        let mut cmd = SimpleCommand {
            line: self.line,
            ..SimpleCommand::default()
        };
        loop {
            if let Some(r) = self.try_redirect()? {
                cmd.redirects.push(r);
                continue;
            }
            match self.peek_token() {
                Some(Token::Word(w)) => {
                    if cmd.words.is_empty() && cmd.assignments.is_empty() {
                        // `name() { … }`: after a lone first word, `(` must be followed by `)`.
                        let save = (self.pos, self.line);
                        self.next_token()?;
                        self.skip_blank();
                        if self.peek() == Some('(') {
                            self.bump();
                            self.skip_blank();
                            if self.peek() != Some(')') {
                                return Err(match self.next_token()? {
                                    None => self.eof_expecting(")"),
                                    Some(Token::Word(_)) => {
                                        self.error("word unexpected (expecting \")\")")
                                    }
                                    Some(tok) => self.unexpected(&tok),
                                });
                            }
                            self.bump();
                            let Some(name) = w.as_plain().filter(|n| is_name(n)) else {
                                return Err(self.error("Bad function name"));
                            };
                            self.skip_blank_and_newlines();
                            let Command::Compound(body, _) = self.command()? else {
                                return Err(self.error("Missing '}'"));
                            };
                            return Ok(Command::FunctionDef(name, body));
                        }
                        (self.pos, self.line) = save;
                    }
                    self.next_token()?;
                    if cmd.words.is_empty()
                        && let Some((name, value)) = split_assignment(&w)
                    {
                        cmd.assignments.push((name, value));
                    } else {
                        cmd.words.push(w);
                    }
                }
                _ => break,
            }
        }
        if cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
            return match self.peek_token() {
                None => Err(self.error("end of file unexpected")),
                Some(tok) => Err(self.unexpected(&tok)),
            };
        }
        Ok(Command::Simple(cmd))
    }

    /// A redirection at the current position, with its optional fd number.
    fn try_redirect(&mut self) -> Result<Option<Redirect>, SyntaxError> {
        self.skip_blank();
        let start = (self.pos, self.line);
        let mut digits = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            digits.push(c);
            self.bump();
        }
        let Some(op) = self.operator_here().filter(|op| op.starts_with(['<', '>'])) else {
            (self.pos, self.line) = start;
            return Ok(None);
        };
        for _ in 0..op.len() {
            self.bump();
        }
        let fd = digits.parse().ok();
        let op = match op {
            "<" => RedirectOp::Read,
            ">" | ">|" => RedirectOp::Write,
            ">>" => RedirectOp::Append,
            "<>" => RedirectOp::ReadWrite,
            "<&" => RedirectOp::DupIn,
            ">&" => RedirectOp::DupOut,
            _ => return self.heredoc(fd, op == "<<-").map(Some),
        };
        match self.next_token()? {
            Some(Token::Word(target)) => Ok(Some(Redirect { fd, op, target })),
            None => Err(self.error("end of file unexpected")),
            Some(tok) => Err(self.unexpected(&tok)),
        }
    }

    /// `<<DELIM`: reads the body from the lines after the current one right away.
    fn heredoc(&mut self, fd: Option<u32>, strip_tabs: bool) -> Result<Redirect, SyntaxError> {
        let delim_word = match self.next_token()? {
            Some(Token::Word(w)) => w,
            None => return Err(self.error("end of file unexpected")),
            Some(tok) => return Err(self.unexpected(&tok)),
        };
        let quoted = delim_word
            .0
            .iter()
            .any(|p| !matches!(p, WordPart::Literal(_)));
        let delimiter = plain_text(&delim_word);
        // The body starts after the end of this line, or after an earlier body on it.
        let line_end = match self.skips.iter().find(|(at, _)| *at >= self.pos) {
            Some(&(at, _)) => at,
            None => match self.chars[self.pos..].iter().position(|c| *c == '\n') {
                Some(i) => self.pos + i,
                None => self.chars.len(),
            },
        };
        let mut cursor = match self.skips.iter().position(|(at, _)| *at == line_end) {
            Some(i) => self.skips.remove(i).1,
            None => (line_end + 1).min(self.chars.len()),
        };
        let mut body = String::new();
        while cursor < self.chars.len() {
            let end = self.chars[cursor..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(self.chars.len(), |i| cursor + i);
            let mut line: String = self.chars[cursor..end].iter().collect();
            cursor = (end + 1).min(self.chars.len());
            if strip_tabs {
                line = line.trim_start_matches('\t').to_owned();
            }
            if line == delimiter {
                break;
            }
            body.push_str(&line);
            body.push('\n');
        }
        self.skips.push((line_end, cursor));
        let target = if quoted {
            Word(vec![WordPart::Quoted(body)])
        } else {
            parse_heredoc_body(&body)?
        };
        Ok(Redirect {
            fd,
            op: RedirectOp::HereDoc(!quoted),
            target,
        })
    }

    /// One word: up to an unquoted blank, newline or operator character.
    fn word(&mut self) -> Result<Word, SyntaxError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        if self.peek() == Some('~') {
            self.bump();
            let mut user = String::new();
            while let Some(c) = self
                .peek()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                user.push(c);
                self.bump();
            }
            if matches!(
                self.peek(),
                None | Some('/' | ' ' | '\t' | '\n' | ';' | '&' | '|' | ')' | ':')
            ) {
                parts.push(WordPart::Tilde(user));
            } else {
                lit.push('~');
                lit.push_str(&user);
            }
        }
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                '\\' => {
                    self.bump();
                    match self.bump() {
                        Some('\n') => {}
                        Some(e) => {
                            flush(&mut lit, &mut parts, false);
                            parts.push(WordPart::Quoted(e.to_string()));
                        }
                        None => lit.push('\\'),
                    }
                }
                '\'' => {
                    flush(&mut lit, &mut parts, false);
                    parts.push(WordPart::Quoted(self.single_quoted()?));
                }
                '"' => {
                    flush(&mut lit, &mut parts, false);
                    self.bump();
                    parts.push(WordPart::DoubleQuoted(self.double_quoted()?));
                }
                '$' | '`' => {
                    flush(&mut lit, &mut parts, false);
                    parts.push(self.dollar_or_backtick(false)?);
                }
                _ => {
                    lit.push(c);
                    self.bump();
                }
            }
        }
        flush(&mut lit, &mut parts, false);
        Ok(Word(parts))
    }

    /// `'…'` from the opening quote: the text up to the closing one, taken as is.
    fn single_quoted(&mut self) -> Result<String, SyntaxError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                Some('\'') => return Ok(s),
                Some(c) => s.push(c),
                None => return Err(self.error("Unterminated quoted string")),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<Vec<WordPart>, SyntaxError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("Unterminated quoted string")),
                Some('"') => {
                    self.bump();
                    break;
                }
                Some('\\') => {
                    self.bump();
                    match self.bump() {
                        Some(c @ ('$' | '`' | '"' | '\\')) => lit.push(c),
                        Some('\n') => {}
                        Some(c) => {
                            lit.push('\\');
                            lit.push(c);
                        }
                        None => return Err(self.error("Unterminated quoted string")),
                    }
                }
                Some('$' | '`') => {
                    flush(&mut lit, &mut parts, true);
                    parts.push(self.dollar_or_backtick(true)?);
                }
                Some(c) => {
                    lit.push(c);
                    self.bump();
                }
            }
        }
        flush(&mut lit, &mut parts, true);
        Ok(parts)
    }

    /// `$name`, `${…}`, `$(…)`, `$((…))`, `` `…` ``, or a lone `$`.
    fn dollar_or_backtick(&mut self, in_quotes: bool) -> Result<WordPart, SyntaxError> {
        let lone = |q: bool| {
            if q {
                WordPart::Quoted("$".into())
            } else {
                WordPart::Literal("$".into())
            }
        };
        if self.bump() == Some('`') {
            let mut inner = String::new();
            loop {
                match self.bump() {
                    None => return Err(self.error("EOF in backquote substitution")),
                    Some('`') => break,
                    Some('\\') if matches!(self.peek(), Some('$' | '`' | '\\')) => {
                        inner.push(self.bump().unwrap_or('\\'));
                    }
                    Some(c) => inner.push(c),
                }
            }
            return Ok(WordPart::CommandSubst(self.nested(&inner)?));
        }
        match self.peek() {
            Some('(') if self.peek_at(1) == Some('(') => {
                self.bump();
                self.bump();
                let mut depth = 0usize;
                let mut text = String::new();
                loop {
                    match self.bump() {
                        None => return Err(self.error("Missing '))'")),
                        Some(')') if depth == 0 && self.peek() == Some(')') => {
                            self.bump();
                            break;
                        }
                        Some(c) => {
                            if c == '(' {
                                depth += 1;
                            } else if c == ')' {
                                depth = depth.saturating_sub(1);
                            }
                            text.push(c);
                        }
                    }
                }
                Ok(WordPart::Arith(parse_heredoc_body(&text)?))
            }
            Some('(') => {
                self.bump();
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error("nesting too deep"));
                }
                let program = self.program(&[])?;
                self.depth -= 1;
                self.skip_blank_and_newlines();
                match self.next_token()? {
                    Some(Token::Op(")")) => Ok(WordPart::CommandSubst(program)),
                    None => Err(self.eof_expecting(")")),
                    Some(tok) => Err(self.unexpected(&tok)),
                }
            }
            Some('{') => {
                self.bump();
                match self.braced_param() {
                    // dash reports a bad substitution when it expands it, not when it parses.
                    Err(e) if e.message == "Bad substitution" => {
                        if self.chars.get(self.pos.wrapping_sub(1)) != Some(&'}') {
                            self.param_word()?;
                        }
                        Ok(WordPart::Param(Param {
                            name: String::new(),
                            op: ParamOp::Bad,
                        }))
                    }
                    r => r,
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(c);
                    self.bump();
                }
                Ok(WordPart::Param(Param {
                    name,
                    op: ParamOp::Get,
                }))
            }
            Some(c) if c.is_ascii_digit() || "@*#?-$!".contains(c) => {
                self.bump();
                Ok(WordPart::Param(Param {
                    name: c.to_string(),
                    op: ParamOp::Get,
                }))
            }
            _ => Ok(lone(in_quotes)),
        }
    }

    fn nested(&mut self, src: &str) -> Result<Program, SyntaxError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let mut inner = Parser::new(src);
        inner.depth = self.depth + 1;
        inner.line = self.line;
        inner.bash = self.bash;
        let program = inner.program(&[])?;
        inner.skip_blank_and_newlines();
        match inner.peek_token() {
            None => Ok(program),
            Some(tok) => Err(inner.unexpected(&tok)),
        }
    }

    /// After `${`: the name, then an optional operator and word, up to the matching `}`.
    fn braced_param(&mut self) -> Result<WordPart, SyntaxError> {
        let bad = |p: &Parser| p.error("Bad substitution");
        let length = self.peek() == Some('#') && self.peek_at(1).is_some_and(|c| c != '}');
        if length {
            self.bump();
        }
        let mut name = String::new();
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(c);
                    self.bump();
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                    name.push(c);
                    self.bump();
                }
            }
            Some(c) if "@*#?-$!".contains(c) => {
                name.push(c);
                self.bump();
            }
            _ => return Err(bad(self)),
        }
        if length {
            return if self.bump() == Some('}') {
                Ok(WordPart::Param(Param {
                    name,
                    op: ParamOp::Length,
                }))
            } else {
                Err(bad(self))
            };
        }
        let colon = self.peek() == Some(':');
        if colon {
            self.bump();
        }
        if self.bash {
            if colon && !matches!(self.peek(), Some('-' | '=' | '?' | '+')) {
                let (offset, end) = self.param_word_until(&[':'])?;
                let length = if end == ':' {
                    Some(self.param_word_until(&[])?.0)
                } else {
                    None
                };
                return Ok(WordPart::Param(Param {
                    name,
                    op: ParamOp::Substring(offset, length),
                }));
            }
            if !colon && self.peek() == Some('/') {
                self.bump();
                let kind = match self.peek() {
                    Some(c @ ('/' | '#' | '%')) => {
                        self.bump();
                        if c == '/' { '*' } else { c }
                    }
                    _ => '/',
                };
                let (pattern, end) = self.param_word_until(&['/'])?;
                let replacement = if end == '/' {
                    self.param_word_until(&[])?.0
                } else {
                    Word(Vec::new())
                };
                return Ok(WordPart::Param(Param {
                    name,
                    op: ParamOp::Replace(kind, pattern, replacement),
                }));
            }
        }
        let op_char = self.bump().ok_or_else(|| self.error("Missing '}'"))?;
        if op_char == '}' && !colon {
            return Ok(WordPart::Param(Param {
                name,
                op: ParamOp::Get,
            }));
        }
        let doubled = matches!(op_char, '%' | '#') && !colon && self.peek() == Some(op_char) && {
            self.bump();
            true
        };
        let word = self.param_word()?;
        let op = match (op_char, colon) {
            ('-', _) => ParamOp::Default(colon, word),
            ('=', _) => ParamOp::Assign(colon, word),
            ('?', _) => ParamOp::Error(colon, word),
            ('+', _) => ParamOp::Alternative(colon, word),
            ('%', false) => ParamOp::RemoveSuffix(doubled, word),
            ('#', false) => ParamOp::RemovePrefix(doubled, word),
            _ => return Err(bad(self)),
        };
        Ok(WordPart::Param(Param { name, op }))
    }

    /// The word inside `${x-word}`, up to the closing brace.
    fn param_word(&mut self) -> Result<Word, SyntaxError> {
        Ok(self.param_word_until(&[])?.0)
    }

    /// A word inside `${…}` up to the closing brace or one of `stops`; returns the word and
    /// the character that ended it (consumed).
    fn param_word_until(&mut self, stops: &[char]) -> Result<(Word, char), SyntaxError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let end;
        loop {
            match self.peek() {
                None => return Err(self.error("Missing '}'")),
                Some(c) if c == '}' || stops.contains(&c) => {
                    self.bump();
                    end = c;
                    break;
                }
                Some('\\') => {
                    self.bump();
                    if let Some(c) = self.bump() {
                        flush(&mut lit, &mut parts, false);
                        parts.push(WordPart::Quoted(c.to_string()));
                    }
                }
                Some('\'') => {
                    flush(&mut lit, &mut parts, false);
                    parts.push(WordPart::Quoted(self.single_quoted()?));
                }
                Some('"') => {
                    flush(&mut lit, &mut parts, false);
                    self.bump();
                    parts.push(WordPart::DoubleQuoted(self.double_quoted()?));
                }
                Some('$' | '`') => {
                    flush(&mut lit, &mut parts, false);
                    parts.push(self.dollar_or_backtick(false)?);
                }
                Some(c) => {
                    lit.push(c);
                    self.bump();
                }
            }
        }
        flush(&mut lit, &mut parts, false);
        Ok((Word(parts), end))
    }
}

/// Whether `s` is a valid shell variable name.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NAME=value` as an assignment, if the word starts with an unquoted valid name and `=`.
fn split_assignment(word: &Word) -> Option<(String, Word)> {
    let WordPart::Literal(first) = word.0.first()? else {
        return None;
    };
    let eq = first.find('=')?;
    let name = &first[..eq];
    if !is_name(name) {
        return None;
    }
    let mut value = Vec::new();
    if eq + 1 < first.len() {
        value.push(WordPart::Literal(first[eq + 1..].to_owned()));
    }
    value.extend(word.0[1..].iter().cloned());
    Some((name.to_owned(), Word(value)))
}

/// The text of a word with quotes removed and no expansion (for here-document delimiters).
fn plain_text(word: &Word) -> String {
    let mut out = String::new();
    for part in &word.0 {
        match part {
            WordPart::Literal(s) | WordPart::Quoted(s) => out.push_str(s),
            WordPart::DoubleQuoted(inner) => out.push_str(&plain_text(&Word(inner.clone()))),
            WordPart::Tilde(u) => {
                out.push('~');
                out.push_str(u);
            }
            WordPart::Param(p) => {
                out.push('$');
                out.push_str(&p.name);
            }
            WordPart::CommandSubst(_) | WordPart::Arith(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(p: &Program, i: usize) -> &SimpleCommand {
        match &p.items[i].first.commands[0] {
            Command::Simple(s) => s,
            other => panic!("not simple: {other:?}"),
        }
    }

    fn err(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    #[test]
    fn and_or_lists_and_pipelines() {
        let p = parse("apt-get update && apt-get install -y curl || echo failed | tee log; ls")
            .unwrap();
        assert_eq!(p.items.len(), 2);
        let first = &p.items[0];
        assert_eq!(first.rest.len(), 2);
        assert_eq!(first.rest[0].0, Connector::And);
        assert_eq!(first.rest[1].0, Connector::Or);
        assert_eq!(first.rest[1].1.commands.len(), 2);
        assert_eq!(simple(&p, 1).words, vec![Word::literal("ls")]);
    }

    #[test]
    fn quotes_escapes_and_expansions() {
        let p = parse(r#"echo 'a b' "x $HOME ${V:-d}" \$ $(pwd) `id -u` $((1+2))"#).unwrap();
        let words = &simple(&p, 0).words;
        assert_eq!(words.len(), 7);
        assert_eq!(words[1], Word(vec![WordPart::Quoted("a b".into())]));
        let WordPart::DoubleQuoted(dq) = &words[2].0[0] else {
            panic!()
        };
        assert_eq!(dq[0], WordPart::Quoted("x ".into()));
        assert!(
            matches!(&dq[1], WordPart::Param(Param { name, op: ParamOp::Get }) if name == "HOME")
        );
        assert!(matches!(
            &dq[3],
            WordPart::Param(Param {
                op: ParamOp::Default(true, _),
                ..
            })
        ));
        assert_eq!(words[3], Word(vec![WordPart::Quoted("$".into())]));
        assert!(matches!(&words[4].0[0], WordPart::CommandSubst(_)));
        assert!(matches!(&words[5].0[0], WordPart::CommandSubst(_)));
        assert!(matches!(&words[6].0[0], WordPart::Arith(_)));
    }

    #[test]
    fn assignments_only_before_the_command_name() {
        let p = parse("A=1 B='two words' env C=3").unwrap();
        let s = simple(&p, 0);
        assert_eq!(s.assignments.len(), 2);
        assert_eq!(s.assignments[0].0, "A");
        assert_eq!(s.words.len(), 2);
        assert_eq!(s.words[1], Word::literal("C=3"));
    }

    #[test]
    fn redirections() {
        let p = parse("make >build.log 2>&1 </dev/null; echo hi >>out").unwrap();
        let r = &simple(&p, 0).redirects;
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].fd, r[0].op), (None, RedirectOp::Write));
        assert_eq!((r[1].fd, r[1].op), (Some(2), RedirectOp::DupOut));
        assert_eq!(r[1].target, Word::literal("1"));
        assert_eq!(r[2].op, RedirectOp::Read);
        assert_eq!(simple(&p, 1).redirects[0].op, RedirectOp::Append);
    }

    #[test]
    fn here_documents_are_read_after_their_line() {
        let src =
            "cat <<EOF >/etc/motd; echo done\nhello $USER\nEOF\ncat <<-'X'\n\tliteral $x\n\tX\n";
        let p = parse(src).unwrap();
        assert_eq!(p.items.len(), 3);
        let r = &simple(&p, 0).redirects[0];
        assert_eq!(r.op, RedirectOp::HereDoc(true));
        assert_eq!(r.target.0[0], WordPart::Quoted("hello ".into()));
        assert_eq!(simple(&p, 1).words[1], Word::literal("done"));
        let r = &simple(&p, 2).redirects[0];
        assert_eq!(r.op, RedirectOp::HereDoc(false));
        assert_eq!(
            r.target,
            Word(vec![WordPart::Quoted("literal $x\n".into())])
        );
    }

    #[test]
    fn compound_commands() {
        let src = "if [ -f x ]; then echo a; elif true; then :; else echo b; fi\n\
                   for f in a b c; do echo $f; done\n\
                   while false; do :; done\n\
                   case $x in a|b) echo ab;; *) echo other;; esac\n\
                   { echo g; } >out; (cd /tmp && ls)\n\
                   f() { echo in f; }";
        let p = parse(src).unwrap();
        assert_eq!(p.items.len(), 7);
        let kinds: Vec<&str> = p
            .items
            .iter()
            .map(|i| match &i.first.commands[0] {
                Command::Compound(c, _) => match **c {
                    CompoundCommand::If(..) => "if",
                    CompoundCommand::For { .. } => "for",
                    CompoundCommand::While { .. } => "while",
                    CompoundCommand::Case(..) => "case",
                    CompoundCommand::Group(_) => "group",
                    CompoundCommand::Subshell(_) => "subshell",
                    CompoundCommand::Cond(_) => "cond",
                },
                Command::FunctionDef(..) => "function",
                Command::Simple(_) => "simple",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "if", "for", "while", "case", "group", "subshell", "function"
            ]
        );
        let Command::Compound(c, _) = &p.items[0].first.commands[0] else {
            panic!()
        };
        let CompoundCommand::If(arms, other) = &**c else {
            panic!()
        };
        assert_eq!(arms.len(), 2);
        assert!(other.is_some());
    }

    #[test]
    fn continuation_lines_and_comments() {
        let p =
            parse("apt-get install -y \\\n    curl \\\n    git # tools\n# comment\nls").unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(simple(&p, 0).words.len(), 5);
    }

    #[test]
    fn syntax_errors_in_dashs_words() {
        assert_eq!(
            err("if true; then echo"),
            r#"Syntax error: end of file unexpected (expecting "fi")"#
        );
        assert_eq!(
            err("for x in a b; do echo"),
            r#"Syntax error: end of file unexpected (expecting "done")"#
        );
        assert_eq!(err("echo 'abc"), "Syntax error: Unterminated quoted string");
        assert_eq!(err("&& ls"), r#"Syntax error: "&&" unexpected"#);
        assert_eq!(err("ls; fi"), r#"Syntax error: "fi" unexpected"#);
        assert_eq!(err("echo )"), r#"Syntax error: ")" unexpected"#);
        assert_eq!(err("ls |"), "Syntax error: end of file unexpected");
        // dash reports a bad `${…}` when it expands it; an unclosed one when it parses.
        assert_eq!(err("echo ${"), "Syntax error: Missing '}'");
        assert_eq!(parse("echo ok\nif\n").unwrap_err().line, 3);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("{}echo{}", "$(".repeat(500), ")".repeat(500));
        assert!(parse(&src).is_err());
    }
}
