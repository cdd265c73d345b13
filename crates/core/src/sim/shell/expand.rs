//! Word expansion: tilde, parameters, command substitution, arithmetic, field splitting with
//! `IFS`, and pathname expansion against the union filesystem (XCU §2.6).

use super::arith;
use super::ast::{Param, ParamOp, Word, WordPart};
use super::exec::{Fd, Flow, Io, R, Shell, Target, absolute};
use super::pattern::Pattern;
use crate::fs::FileType;

/// A field being built: its text and, per char, whether it was quoted (glob-inert).
#[derive(Debug, Clone, Default)]
struct Field {
    chars: Vec<(char, bool)>,
    /// Had quotes, or came from `"$@"`: kept even when empty.
    keep: bool,
}

impl Field {
    fn text(&self) -> String {
        self.chars.iter().map(|(c, _)| *c).collect()
    }
}

/// Collects fields during expansion.
struct Builder {
    fields: Vec<Field>,
    cur: Field,
    split: bool,
    ifs: String,
}

impl Builder {
    fn new(split: bool, ifs: String) -> Self {
        Self {
            fields: Vec::new(),
            cur: Field::default(),
            split,
            ifs,
        }
    }

    fn push(&mut self, s: &str, quoted: bool) {
        self.cur.chars.extend(s.chars().map(|c| (c, quoted)));
    }

    fn end_field(&mut self) {
        let f = std::mem::take(&mut self.cur);
        self.fields.push(f);
    }

    /// Appends the result of an unquoted expansion: split on `IFS` when splitting.
    fn push_expansion(&mut self, value: &str) {
        if !self.split {
            self.push(value, false);
            return;
        }
        let mut pending_ws = false;
        for c in value.chars() {
            if self.ifs.contains(c) {
                if c.is_whitespace() {
                    pending_ws = true;
                } else {
                    self.end_field();
                    pending_ws = false;
                }
                continue;
            }
            if pending_ws {
                if !self.cur.chars.is_empty() || self.cur.keep {
                    self.end_field();
                }
                pending_ws = false;
            }
            self.cur.chars.push((c, false));
        }
        if pending_ws && (!self.cur.chars.is_empty() || self.cur.keep) {
            self.end_field();
        }
    }

    fn finish(mut self) -> Vec<Field> {
        if !self.cur.chars.is_empty() || self.cur.keep {
            self.fields.push(self.cur);
        }
        self.fields
    }
}

impl Shell<'_> {
    /// Expands words into fields: splitting and globbing, as for a command's arguments.
    pub(crate) fn expand_words(&mut self, words: &[Word], io: &Io) -> R<Vec<String>> {
        let mut out = Vec::new();
        for w in words {
            let ifs = self.get_var("IFS").unwrap_or_else(|| " \t\n".to_owned());
            let mut b = Builder::new(true, ifs);
            for part in &w.0 {
                self.expand_part(part, false, &mut b, io)?;
            }
            for field in b.finish() {
                let magic = !self.st.opts.noglob
                    && field
                        .chars
                        .iter()
                        .any(|(c, q)| !q && matches!(c, '*' | '?' | '['));
                if magic {
                    let matches = self.glob(&field.chars);
                    if !matches.is_empty() {
                        out.extend(matches);
                        continue;
                    }
                }
                out.push(field.text());
            }
        }
        Ok(out)
    }

    /// Expands a word to one string, without splitting or globbing (assignments, here-docs,
    /// redirection targets, `case` subjects).
    pub(crate) fn expand_string(&mut self, word: &Word, io: &Io) -> R<String> {
        let chars = self.expand_pattern(word, io)?;
        Ok(chars.into_iter().map(|(c, _)| c).collect())
    }

    /// Expands a word to chars marked quoted or not, for pattern matching.
    pub(crate) fn expand_pattern(&mut self, word: &Word, io: &Io) -> R<Vec<(char, bool)>> {
        let mut b = Builder::new(false, String::new());
        for part in &word.0 {
            self.expand_part(part, false, &mut b, io)?;
        }
        let fields = b.finish();
        let mut out = Vec::new();
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push((' ', true));
            }
            out.extend(f.chars);
        }
        Ok(out)
    }

    fn expand_part(&mut self, part: &WordPart, dq: bool, b: &mut Builder, io: &Io) -> R<()> {
        match part {
            WordPart::Literal(s) => b.push(s, dq),
            WordPart::Quoted(s) => {
                b.cur.keep = true;
                b.push(s, true);
            }
            WordPart::DoubleQuoted(parts) => {
                b.cur.keep = true;
                for p in parts {
                    self.expand_part(p, true, b, io)?;
                }
            }
            WordPart::Tilde(user) => {
                let home = self.home_of(user);
                match home {
                    Some(h) => b.push(&h, true),
                    None => b.push(&format!("~{user}"), dq),
                }
            }
            WordPart::Param(p) => self.expand_param(p, dq, b, io)?,
            WordPart::CommandSubst(program) => {
                let out = self.command_subst(program, io)?;
                let text = String::from_utf8_lossy(&out);
                let text = text.trim_end_matches('\n');
                if dq {
                    b.push(text, true);
                } else {
                    b.push_expansion(text);
                }
            }
            WordPart::Arith(word) => {
                let expr = self.expand_string(word, io)?;
                let mut vars = ArithVars { sh: self };
                match arith::eval(&expr, &mut vars) {
                    Ok(v) => {
                        let s = v.to_string();
                        if dq {
                            b.push(&s, true);
                        } else {
                            b.push_expansion(&s);
                        }
                    }
                    Err(msg) => {
                        self.diag(io, &msg)?;
                        return Err(Flow::Exit(2));
                    }
                }
            }
        }
        Ok(())
    }

    /// `$(…)`: runs the program in a subshell and returns its output.
    fn command_subst(&mut self, program: &super::ast::Program, io: &Io) -> R<Vec<u8>> {
        let buf = self.alloc_buffer();
        let mut sio = io.clone();
        sio.fds[1] = Fd::Out(Target::Buffer(buf));
        let line = self.line;
        let status = self.subshell(|sh| sh.run_program(program, &sio));
        self.line = line;
        let out = self.take_buffer(buf);
        let status = status?;
        self.st.last_status = status;
        self.subst_status = Some(status);
        Ok(out)
    }

    fn home_of(&self, user: &str) -> Option<String> {
        if user.is_empty() {
            return self.get_var("HOME");
        }
        let passwd = self.fs.read("/etc/passwd").ok()?.bytes()?.to_vec();
        String::from_utf8_lossy(&passwd).lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 6 && f[0] == user).then(|| f[5].to_owned())
        })
    }

    /// A parameter's value: `None` when unset.
    fn param_value(&self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.st.last_status.to_string()),
            "#" => Some(self.st.positional.len().to_string()),
            "$" => Some("1".to_owned()),
            "!" => None,
            "-" => Some(self.flags()),
            "0" => Some(self.st.arg0.clone()),
            "@" | "*" => {
                let ifs = self.get_var("IFS");
                let sep = match &ifs {
                    Some(s) => s.chars().next().map(String::from).unwrap_or_default(),
                    None => " ".to_owned(),
                };
                Some(self.st.positional.join(&sep))
            }
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                let i: usize = n.parse().ok()?;
                self.st.positional.get(i - 1).cloned()
            }
            n => self.get_var(n),
        }
    }

    #[allow(clippy::many_single_char_names)]
    fn expand_param(&mut self, p: &Param, dq: bool, b: &mut Builder, io: &Io) -> R<()> {
        let name = p.name.as_str();
        if matches!(p.op, ParamOp::Get) && name == "@" {
            self.expand_at(dq, b);
            return Ok(());
        }
        let value = self.param_value(name);
        let set_nonnull = |colon: bool| match &value {
            None => false,
            Some(v) => !(colon && v.is_empty()),
        };
        match &p.op {
            ParamOp::Get => {
                let Some(v) = value else {
                    if self.st.opts.nounset && name != "*" {
                        self.diag(io, &format!("{name}: parameter not set"))?;
                        return Err(Flow::Exit(2));
                    }
                    return Ok(());
                };
                Self::push_value(&v, dq, b);
            }
            ParamOp::Length => {
                let v = match value {
                    Some(v) => v,
                    None if self.st.opts.nounset => {
                        self.diag(io, &format!("{name}: parameter not set"))?;
                        return Err(Flow::Exit(2));
                    }
                    None => String::new(),
                };
                Self::push_value(&v.chars().count().to_string(), dq, b);
            }
            ParamOp::Default(colon, w) => {
                if set_nonnull(*colon) {
                    Self::push_value(value.as_deref().unwrap_or_default(), dq, b);
                } else {
                    for part in &w.0 {
                        self.expand_part(part, dq, b, io)?;
                    }
                }
            }
            ParamOp::Assign(colon, w) => {
                if set_nonnull(*colon) {
                    Self::push_value(value.as_deref().unwrap_or_default(), dq, b);
                } else {
                    let v = self.expand_string(w, io)?;
                    self.set_var(name, v.clone(), io)?;
                    Self::push_value(&v, dq, b);
                }
            }
            ParamOp::Error(colon, w) => {
                if set_nonnull(*colon) {
                    Self::push_value(value.as_deref().unwrap_or_default(), dq, b);
                } else {
                    let mut msg = self.expand_string(w, io)?;
                    if msg.is_empty() {
                        msg = if *colon && value.is_some() {
                            "parameter null or not set".to_owned()
                        } else {
                            "parameter not set".to_owned()
                        };
                    }
                    self.diag(io, &format!("{name}: {msg}"))?;
                    return Err(Flow::Exit(2));
                }
            }
            ParamOp::Alternative(colon, w) => {
                if set_nonnull(*colon) {
                    for part in &w.0 {
                        self.expand_part(part, dq, b, io)?;
                    }
                }
            }
            ParamOp::RemoveSuffix(longest, w) | ParamOp::RemovePrefix(longest, w) => {
                let v = value.unwrap_or_default();
                let chars = self.expand_pattern(w, io)?;
                let pat = Pattern::new(&chars);
                let result = if matches!(p.op, ParamOp::RemoveSuffix(..)) {
                    match pat.suffix_len(&v, *longest) {
                        Some(n) => {
                            let keep = v.chars().count() - n;
                            v.chars().take(keep).collect()
                        }
                        None => v,
                    }
                } else {
                    match pat.prefix_len(&v, *longest) {
                        Some(n) => v.chars().skip(n).collect(),
                        None => v,
                    }
                };
                Self::push_value(&result, dq, b);
            }
            ParamOp::Bad => {
                self.diag(io, "Bad substitution")?;
                return Err(Flow::Exit(2));
            }
            ParamOp::Replace(kind, pattern, replacement) => {
                let v = value.unwrap_or_default();
                let chars = self.expand_pattern(pattern, io)?;
                let pat = Pattern::new(&chars);
                let with = self.expand_string(replacement, io)?;
                let result = match kind {
                    '#' => match pat.prefix_len(&v, true) {
                        Some(n) => format!("{with}{}", v.chars().skip(n).collect::<String>()),
                        None => v,
                    },
                    '%' => match pat.suffix_len(&v, true) {
                        Some(n) => {
                            let keep = v.chars().count() - n;
                            format!("{}{with}", v.chars().take(keep).collect::<String>())
                        }
                        None => v,
                    },
                    _ => replace(&v, &pat, &with, *kind == '*'),
                };
                Self::push_value(&result, dq, b);
            }
            ParamOp::Substring(offset, length) => {
                let v: Vec<char> = value.unwrap_or_default().chars().collect();
                let number = |sh: &mut Self, w: &Word| -> R<i64> {
                    let expr = sh.expand_string(w, io)?;
                    let mut vars = ArithVars { sh };
                    match arith::eval(&expr, &mut vars) {
                        Ok(n) => Ok(n),
                        Err(msg) => {
                            sh.diag(io, &msg)?;
                            Err(Flow::Exit(1))
                        }
                    }
                };
                let len = i64::try_from(v.len()).unwrap_or(i64::MAX);
                let mut start = number(self, offset)?;
                if start < 0 {
                    start = (len + start).max(0);
                }
                let start = start.min(len);
                let end = match length {
                    None => len,
                    Some(w) => {
                        let n = number(self, w)?;
                        if n < 0 { len + n } else { start + n }.min(len)
                    }
                };
                if end < start {
                    self.diag(io, &format!("{}: substring expression < 0", p.name))?;
                    return Err(Flow::Exit(1));
                }
                let (start, end) = (
                    usize::try_from(start).unwrap_or(0),
                    usize::try_from(end).unwrap_or(0),
                );
                let s: String = v[start..end].iter().collect();
                Self::push_value(&s, dq, b);
            }
        }
        Ok(())
    }

    fn push_value(v: &str, dq: bool, b: &mut Builder) {
        if dq {
            b.push(v, true);
        } else {
            b.push_expansion(v);
        }
    }

    /// `$@`: in double quotes one field per positional parameter.
    fn expand_at(&self, dq: bool, b: &mut Builder) {
        let params = self.st.positional.clone();
        if dq {
            if params.is_empty() {
                // `"$@"` with no parameters makes no field even though it is quoted.
                if b.cur.chars.is_empty() {
                    b.cur.keep = false;
                }
                return;
            }
            for (i, p) in params.iter().enumerate() {
                if i > 0 {
                    b.end_field();
                    b.cur.keep = true;
                }
                b.push(p, true);
            }
        } else {
            for (i, p) in params.iter().enumerate() {
                if i > 0 && b.split {
                    if !b.cur.chars.is_empty() {
                        b.end_field();
                    }
                } else if i > 0 {
                    b.push(" ", false);
                }
                b.push_expansion(p);
            }
        }
    }

    /// Pathname expansion: the sorted paths matching the pattern, or none.
    fn glob(&self, pattern: &[(char, bool)]) -> Vec<String> {
        let absolute_pat = pattern.first().is_some_and(|(c, _)| *c == '/');
        let comps: Vec<&[(char, bool)]> = pattern
            .split(|(c, _)| *c == '/')
            .filter(|c| !c.is_empty())
            .collect();
        let trailing_slash = pattern.last().is_some_and(|(c, _)| *c == '/');
        let mut paths: Vec<String> = vec![if absolute_pat {
            "/".to_owned()
        } else {
            String::new()
        }];
        for (i, comp) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let pat = Pattern::new(comp);
            let mut next = Vec::new();
            for base in &paths {
                let join = |name: &str| {
                    if base.is_empty() || base.ends_with('/') {
                        format!("{base}{name}")
                    } else {
                        format!("{base}/{name}")
                    }
                };
                if pat.is_literal() {
                    let candidate = join(&pat.literal_text());
                    let abs = absolute(&self.st.cwd, &candidate);
                    let ok = if last {
                        self.fs.exists(&abs)
                    } else {
                        self.fs
                            .stat(&abs)
                            .is_ok_and(|s| s.file_type == FileType::Dir)
                    };
                    if ok {
                        next.push(candidate);
                    }
                    continue;
                }
                let dir = absolute(&self.st.cwd, if base.is_empty() { "." } else { base });
                let Ok(entries) = self.fs.read_dir(&dir) else {
                    continue;
                };
                for e in entries {
                    if e.name.starts_with('.') && !pat.starts_with_dot() {
                        continue;
                    }
                    if !pat.matches(&e.name) {
                        continue;
                    }
                    let candidate = join(&e.name);
                    if !last || trailing_slash {
                        let abs = absolute(&self.st.cwd, &candidate);
                        if !self
                            .fs
                            .stat(&abs)
                            .is_ok_and(|s| s.file_type == FileType::Dir)
                        {
                            continue;
                        }
                    }
                    next.push(candidate);
                }
            }
            paths = next;
            if paths.is_empty() {
                return paths;
            }
        }
        if trailing_slash {
            for p in &mut paths {
                p.push('/');
            }
        }
        paths.sort();
        paths
    }
}

struct ArithVars<'s, 'a> {
    sh: &'s mut Shell<'a>,
}

impl arith::Vars for ArithVars<'_, '_> {
    fn get(&self, name: &str) -> Option<String> {
        self.sh.get_var(name)
    }

    fn set(&mut self, name: &str, value: String) {
        let v = self
            .sh
            .st
            .vars
            .entry(name.to_owned())
            .or_insert(super::exec::Var {
                value: None,
                exported: false,
                readonly: false,
            });
        if !v.readonly {
            v.value = Some(value);
        }
    }
}

/// bash's `${v/pattern/with}` (`all`: every match): leftmost longest matches of a glob pattern.
fn replace(v: &str, pat: &Pattern, with: &str, all: bool) -> String {
    let chars: Vec<char> = v.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    while i < chars.len() {
        if !replaced || all {
            let rest: String = chars[i..].iter().collect();
            if let Some(n) = pat.prefix_len(&rest, true).filter(|n| *n > 0) {
                out.push_str(with);
                i += n;
                replaced = true;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}
