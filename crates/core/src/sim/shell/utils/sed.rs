//! `sed`: the commands Dockerfiles use (`s`, `d`, `p`, `a`, `i`, `c`, `q`, `y`, `=`), with
//! line, `$` and `/regex/` addresses, ranges and `!`, `-n`, `-i[SUFFIX]`, `-E`/`-r`, `-e`.

use std::fmt::Write as _;

use regex_lite::Regex;

use super::regex::compile;
use super::{Ctx, util_name};

#[derive(Debug)]
enum Addr {
    Line(usize),
    Last,
    Re(Regex),
}

#[derive(Debug)]
enum Cmd {
    Subst {
        re: Regex,
        replacement: String,
        global: bool,
        nth: usize,
        print: bool,
    },
    Delete,
    Print,
    Append(String),
    Insert(String),
    Change(String),
    Quit,
    Translate(Vec<char>, Vec<char>),
    LineNumber,
    Block(Vec<Command>),
}

#[derive(Debug)]
struct Command {
    a1: Option<Addr>,
    a2: Option<Addr>,
    negate: bool,
    cmd: Cmd,
}

struct P<'s> {
    s: Vec<char>,
    i: usize,
    extended: bool,
    src: &'s str,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
        }
    }

    fn err(&self, msg: &str) -> String {
        format!("-e expression #1, char {}: {msg}", self.i.min(self.s.len()))
    }

    /// Text up to an unescaped `delim`; `\delim` becomes `delim`, `\n` a newline when `nl`.
    fn delimited(&mut self, delim: char, regex: bool) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == delim {
                return Ok(out);
            }
            if c == '\\' {
                match self.peek() {
                    Some(n) if n == delim => {
                        self.i += 1;
                        if regex && "$*.[]^|+?(){}/".contains(n) && n != '/' {
                            out.push('\\');
                        }
                        out.push(n);
                    }
                    Some('n') if !regex => {
                        self.i += 1;
                        out.push('\n');
                    }
                    Some(n) => {
                        self.i += 1;
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
                continue;
            }
            out.push(c);
        }
        Err(self.err("unterminated `s' command"))
    }

    fn addr(&mut self) -> Result<Option<Addr>, String> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let n: String = self.s[start..self.i].iter().collect();
                Ok(Some(Addr::Line(n.parse().unwrap_or(0))))
            }
            Some('$') => {
                self.i += 1;
                Ok(Some(Addr::Last))
            }
            Some(c @ ('/' | '\\')) => {
                self.i += 1;
                let delim = if c == '\\' {
                    let d = self.peek().ok_or_else(|| self.err("unexpected `,'"))?;
                    self.i += 1;
                    d
                } else {
                    '/'
                };
                let re = self.delimited(delim, true)?;
                let mut icase = false;
                if self.peek() == Some('I') {
                    self.i += 1;
                    icase = true;
                }
                let re = compile(&re, self.extended, icase)
                    .map_err(|_| self.err("Invalid regular expression"))?;
                Ok(Some(Addr::Re(re)))
            }
            _ => Ok(None),
        }
    }

    /// The text argument of `a`, `i`, `c`: `a\` newline text, or `a text`.
    fn text_arg(&mut self) -> String {
        self.skip_ws();
        if self.peek() == Some('\\') {
            self.i += 1;
            if self.peek() == Some('\n') {
                self.i += 1;
            }
        }
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == '\\' {
                match self.peek() {
                    Some('\n') => {
                        self.i += 1;
                        out.push('\n');
                    }
                    Some('t') => {
                        self.i += 1;
                        out.push('\t');
                    }
                    Some(n) => {
                        self.i += 1;
                        out.push(n);
                    }
                    None => {}
                }
                continue;
            }
            if c == '\n' {
                break;
            }
            out.push(c);
        }
        out
    }

    fn commands(&mut self, in_block: bool) -> Result<Vec<Command>, String> {
        let mut cmds = Vec::new();
        loop {
            while self.peek().is_some_and(|c| c.is_whitespace() || c == ';') {
                self.i += 1;
            }
            let Some(c) = self.peek() else {
                if in_block {
                    return Err(self.err("unmatched `{'"));
                }
                return Ok(cmds);
            };
            if c == '}' && in_block {
                self.i += 1;
                return Ok(cmds);
            }
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                continue;
            }
            let a1 = self.addr()?;
            let mut a2 = None;
            if a1.is_some() && self.peek() == Some(',') {
                self.i += 1;
                a2 = self.addr()?;
                if a2.is_none() {
                    return Err(self.err("unexpected `,'"));
                }
            }
            self.skip_ws();
            let mut negate = false;
            while self.peek() == Some('!') {
                negate = true;
                self.i += 1;
                self.skip_ws();
            }
            let Some(letter) = self.peek() else {
                return Err(self.err("missing command"));
            };
            self.i += 1;
            let cmd = match letter {
                's' => self.subst()?,
                'd' => Cmd::Delete,
                'p' => Cmd::Print,
                'q' => Cmd::Quit,
                '=' => Cmd::LineNumber,
                'a' => Cmd::Append(self.text_arg()),
                'i' => Cmd::Insert(self.text_arg()),
                'c' => Cmd::Change(self.text_arg()),
                '{' => Cmd::Block(self.commands(true)?),
                'y' => {
                    let d = self
                        .peek()
                        .ok_or_else(|| self.err("unterminated `y' command"))?;
                    self.i += 1;
                    let from: Vec<char> = self.delimited(d, false)?.chars().collect();
                    let to: Vec<char> = self.delimited(d, false)?.chars().collect();
                    if from.len() != to.len() {
                        return Err(self.err("strings for `y' command are different lengths"));
                    }
                    Cmd::Translate(from, to)
                }
                other => return Err(self.err(&format!("unknown command: `{other}'"))),
            };
            cmds.push(Command {
                a1,
                a2,
                negate,
                cmd,
            });
            self.skip_ws();
            match self.peek() {
                None | Some(';' | '\n' | '}') => {}
                Some(_) => return Err(self.err("extra characters after command")),
            }
        }
    }

    fn subst(&mut self) -> Result<Cmd, String> {
        let delim = self
            .peek()
            .ok_or_else(|| self.err("unterminated `s' command"))?;
        self.i += 1;
        let re = self
            .delimited(delim, true)
            .map_err(|_| self.err("unterminated `s' command"))?;
        let replacement = self
            .delimited(delim, false)
            .map_err(|_| self.err("unterminated `s' command"))?;
        let (mut global, mut nth, mut print, mut icase) = (false, 1, false, false);
        while let Some(c) = self.peek() {
            match c {
                'g' => global = true,
                'p' => print = true,
                'i' | 'I' => icase = true,
                'm' | 'M' | 'e' => {}
                d if d.is_ascii_digit() => nth = d.to_digit(10).unwrap_or(1) as usize,
                _ => break,
            }
            self.i += 1;
        }
        let _ = self.src;
        let re = compile(&re, self.extended, icase)
            .map_err(|_| self.err("Invalid regular expression"))?;
        Ok(Cmd::Subst {
            re,
            replacement,
            global,
            nth,
            print,
        })
    }
}

/// Expands `&`, `\1`…`\9`, `\n` in a replacement.
fn expand_replacement(rep: &str, caps: &regex_lite::Captures<'_>) -> String {
    let mut out = String::new();
    let mut chars = rep.chars();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str(caps.get(0).map_or("", |m| m.as_str())),
            '\\' => match chars.next() {
                Some(d @ '0'..='9') => {
                    let i = d.to_digit(10).unwrap_or(0) as usize;
                    out.push_str(caps.get(i).map_or("", |m| m.as_str()));
                }
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            o => out.push(o),
        }
    }
    out
}

struct Run<'c> {
    cmds: &'c [Command],
    quiet: bool,
    /// Per command (flattened by pointer order), whether a range is active.
    ranges: Vec<bool>,
}

impl Run<'_> {
    fn matches_addr(a: &Addr, n: usize, last: bool, line: &str) -> bool {
        match a {
            Addr::Line(k) => *k == n,
            Addr::Last => last,
            Addr::Re(r) => r.is_match(line),
        }
    }

    /// Runs the commands on one line; returns the output and whether to quit.
    fn line(&mut self, n: usize, last: bool, line: String, out: &mut String) -> bool {
        let mut ps = Some(line);
        let mut after = String::new();
        let mut quit = false;
        let mut idx = 0;
        run_cmds(
            self.cmds,
            &mut self.ranges,
            &mut idx,
            n,
            last,
            &mut ps,
            out,
            &mut after,
            &mut quit,
        );
        if let Some(p) = ps
            && !self.quiet
        {
            out.push_str(&p);
            out.push('\n');
        }
        out.push_str(&after);
        quit
    }
}

#[allow(clippy::too_many_arguments)]
fn run_cmds(
    cmds: &[Command],
    ranges: &mut Vec<bool>,
    idx: &mut usize,
    n: usize,
    last: bool,
    ps: &mut Option<String>,
    out: &mut String,
    after: &mut String,
    quit: &mut bool,
) {
    for c in cmds {
        let my = *idx;
        *idx += 1;
        if ranges.len() <= my {
            ranges.resize(my + 1, false);
        }
        let Some(cur) = ps.clone() else {
            if let Cmd::Block(inner) = &c.cmd {
                *idx += count(inner);
            }
            continue;
        };
        let selected = match (&c.a1, &c.a2) {
            (None, _) => true,
            (Some(a), None) => Run::matches_addr(a, n, last, &cur),
            (Some(a), Some(b)) => {
                if ranges[my] {
                    let end = match b {
                        Addr::Line(k) => n >= *k,
                        other => Run::matches_addr(other, n, last, &cur),
                    };
                    if end {
                        ranges[my] = false;
                    }
                    true
                } else if Run::matches_addr(a, n, last, &cur) {
                    let end_now = matches!(b, Addr::Line(k) if *k <= n);
                    ranges[my] = !end_now;
                    true
                } else {
                    false
                }
            }
        };
        if selected == c.negate {
            if let Cmd::Block(inner) = &c.cmd {
                *idx += count(inner);
            }
            continue;
        }
        match &c.cmd {
            Cmd::Subst {
                re,
                replacement,
                global,
                nth,
                print,
            } => {
                let mut k = 0;
                let mut changed = false;
                let mut result = String::new();
                let mut last_end = 0;
                for caps in re.captures_iter(&cur) {
                    let Some(m) = caps.get(0) else { continue };
                    k += 1;
                    if k < *nth {
                        continue;
                    }
                    result.push_str(&cur[last_end..m.start()]);
                    result.push_str(&expand_replacement(replacement, &caps));
                    last_end = m.end();
                    changed = true;
                    if !*global {
                        break;
                    }
                }
                if changed {
                    result.push_str(&cur[last_end..]);
                    if *print {
                        out.push_str(&result);
                        out.push('\n');
                    }
                    *ps = Some(result);
                }
            }
            Cmd::Delete => *ps = None,
            Cmd::Print => {
                out.push_str(&cur);
                out.push('\n');
            }
            Cmd::Append(t) => {
                after.push_str(t);
                after.push('\n');
            }
            Cmd::Insert(t) => {
                out.push_str(t);
                out.push('\n');
            }
            Cmd::Change(t) => {
                if c.a2.is_none() || !ranges[my] {
                    out.push_str(t);
                    out.push('\n');
                }
                *ps = None;
            }
            Cmd::Quit => {
                *quit = true;
                return;
            }
            Cmd::LineNumber => {
                let _ = writeln!(out, "{n}");
            }
            Cmd::Translate(from, to) => {
                let mapped: String = cur
                    .chars()
                    .map(|ch| from.iter().position(|f| *f == ch).map_or(ch, |i| to[i]))
                    .collect();
                *ps = Some(mapped);
            }
            Cmd::Block(inner) => run_cmds(inner, ranges, idx, n, last, ps, out, after, quit),
        }
        if *quit {
            return;
        }
    }
}

fn count(cmds: &[Command]) -> usize {
    cmds.iter()
        .map(|c| {
            1 + if let Cmd::Block(inner) = &c.cmd {
                count(inner)
            } else {
                0
            }
        })
        .sum()
}

/// Runs a sed program on text.
fn apply(cmds: &[Command], quiet: bool, text: &str) -> String {
    let ends_nl = text.ends_with('\n');
    let mut ls: Vec<&str> = text.split('\n').collect();
    if ends_nl || ls.last() == Some(&"") {
        ls.pop();
    }
    let mut run = Run {
        cmds,
        quiet,
        ranges: Vec::new(),
    };
    let mut out = String::new();
    let total = ls.len();
    for (i, l) in ls.into_iter().enumerate() {
        if run.line(i + 1, i + 1 == total, l.to_owned(), &mut out) {
            break;
        }
    }
    if !ends_nl && out.ends_with('\n') && !text.is_empty() {
        out.pop();
    }
    out
}

/// `sed [-n] [-i[SUFFIX]] [-E|-r] [-e script]… [script] [file…]`.
pub(crate) fn sed(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let name = util_name(args);
    let mut scripts = Vec::new();
    let mut files = Vec::new();
    let mut quiet = false;
    let mut in_place: Option<String> = None;
    let mut extended = false;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        match a.as_str() {
            "-n" | "--quiet" | "--silent" => quiet = true,
            "-E" | "-r" | "--regexp-extended" => extended = true,
            "-e" | "--expression" => {
                if let Some(s) = args.get(i) {
                    scripts.push(s.clone());
                }
                i += 1;
            }
            "-f" => {
                let f = args.get(i).cloned().unwrap_or_default();
                i += 1;
                match ctx.read_file(&f) {
                    Ok(b) => scripts.push(String::from_utf8_lossy(&b).into_owned()),
                    Err(e) => {
                        ctx.err(format!(
                            "{name}: couldn't open file {f}: {}\n",
                            e.strerror()
                        ));
                        return 1;
                    }
                }
            }
            "--" => {
                files.extend(args[i..].iter().cloned());
                break;
            }
            s if s.starts_with("--in-place") => {
                in_place = Some(s.strip_prefix("--in-place=").unwrap_or("").to_owned());
            }
            s if s.starts_with('-') && s.len() > 1 => {
                let mut rest = &s[1..];
                while let Some(c) = rest.chars().next() {
                    rest = &rest[1..];
                    match c {
                        'n' => quiet = true,
                        'E' | 'r' => extended = true,
                        's' | 'u' | 'z' => {}
                        'i' => {
                            in_place = Some(rest.to_owned());
                            rest = "";
                        }
                        'e' => {
                            if rest.is_empty() {
                                scripts.push(args.get(i).cloned().unwrap_or_default());
                                i += 1;
                            } else {
                                scripts.push(rest.to_owned());
                                rest = "";
                            }
                        }
                        other => {
                            ctx.err(format!("{name}: invalid option -- '{other}'\nUsage: {name} [OPTION]... {{script-only-if-no-other-script}} [input-file]...\n"));
                            return 1;
                        }
                    }
                }
            }
            _ => files.push(a.clone()),
        }
    }
    if scripts.is_empty() {
        if files.is_empty() {
            ctx.err(format!(
                "Usage: {name} [OPTION]... {{script-only-if-no-other-script}} [input-file]...\n"
            ));
            return 1;
        }
        scripts.push(files.remove(0));
    }
    let src = scripts.join("\n");
    let mut p = P {
        s: src.chars().collect(),
        i: 0,
        extended,
        src: &src,
    };
    let cmds = match p.commands(false) {
        Ok(c) => c,
        Err(e) => {
            ctx.err(format!("{name}: {e}\n"));
            return 1;
        }
    };
    if let Some(suffix) = in_place {
        if files.is_empty() {
            ctx.err(format!("{name}: no input files\n"));
            return 1;
        }
        let mut status = 0;
        for f in files {
            let path = ctx.abs(&f);
            let data = match ctx.fs_ref().read(&path) {
                Ok(d) => d.clone(),
                Err(e) => {
                    ctx.err(format!("{name}: can't read {f}: {}\n", e.strerror()));
                    status = 2;
                    continue;
                }
            };
            let text = String::from_utf8_lossy(data.bytes().unwrap_or_default()).into_owned();
            let out = apply(&cmds, quiet, &text);
            if !suffix.is_empty() {
                let backup = if suffix.contains('*') {
                    suffix.replace('*', &f)
                } else {
                    format!("{f}{suffix}")
                };
                let mode = ctx.fs_ref().stat(&path).map_or(0o644, |s| s.mode);
                let _ = ctx.write_file(&backup, data, mode);
            }
            // sed -i writes a new file and renames it over the old one: the content changes,
            // the mode and owner are kept.
            if let Err(e) = ctx.fs().write(&path, out.as_bytes(), 0o644) {
                ctx.err(format!("{name}: couldn't edit {f}: {}\n", e.strerror()));
                status = 4;
            }
        }
        return status;
    }
    let (ins, ok) = super::inputs(ctx, &name, &files);
    let mut text = String::new();
    for (_, d) in ins {
        text.push_str(&String::from_utf8_lossy(&d));
    }
    let out = apply(&cmds, quiet, &text);
    ctx.out(out);
    if ok { 0 } else { 2 }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_fs, out, sh_on};

    #[test]
    fn substitutions() {
        assert_eq!(out("echo hello world | sed 's/o/0/'"), "hell0 world\n");
        assert_eq!(out("echo hello world | sed 's/o/0/g'"), "hell0 w0rld\n");
        assert_eq!(
            out("echo hello world | sed -e 's/\\(hello\\) \\(world\\)/\\2 \\1/'"),
            "world hello\n"
        );
        assert_eq!(
            out("echo hello world | sed -E 's/(l+)/[\\1]/g'"),
            "he[ll]o wor[l]d\n"
        );
        assert_eq!(out("echo a/b/c | sed 's|/|_|g'"), "a_b_c\n");
        assert_eq!(out("echo abc | sed 's/b/&&/'"), "abbc\n");
        assert_eq!(out("echo aaa | sed 's/a/b/2'"), "aba\n");
        assert_eq!(out("echo ABC | sed 's/b/x/I'"), "AxC\n");
    }

    #[test]
    fn addresses_and_commands() {
        assert_eq!(out("seq 5 | sed -n '2,3p'"), "2\n3\n");
        assert_eq!(out("seq 5 | sed '1d;$d'"), "2\n3\n4\n");
        assert_eq!(out("seq 5 | sed '/3/,$d'"), "1\n2\n");
        assert_eq!(out("seq 3 | sed '2!d'"), "2\n");
        assert_eq!(
            out("seq 3 | sed '2a after' | sed '1i before'"),
            "before\n1\n2\nafter\n3\n"
        );
        assert_eq!(out("seq 3 | sed '2c two'"), "1\ntwo\n3\n");
        assert_eq!(out("seq 5 | sed 2q"), "1\n2\n");
        assert_eq!(out("echo abc | sed 'y/abc/xyz/'"), "xyz\n");
        assert_eq!(out("printf 'a\\n#c\\n' | sed '/^#/d'"), "a\n");
        assert_eq!(out("printf 'x' | sed 's/x/y/'"), "y");
    }

    #[test]
    fn in_place_keeps_mode_and_owner() {
        let mut fs = base_fs();
        fs.write("/etc/app.conf", b"listen 80\n# debug on\n", 0o640)
            .unwrap();
        fs.chown("/etc/app.conf", 1, 1).unwrap();
        let o = sh_on(
            &mut fs,
            "sed -i 's/80/8080/; s/^# debug/debug/' /etc/app.conf && sed -i.bak '/debug/d' /etc/app.conf",
        );
        assert_eq!(o.status, 0, "{o}");
        assert_eq!(
            fs.read("/etc/app.conf").unwrap().bytes().unwrap(),
            b"listen 8080\n"
        );
        assert_eq!(
            fs.read("/etc/app.conf.bak").unwrap().bytes().unwrap(),
            b"listen 8080\ndebug on\n"
        );
        let st = fs.stat("/etc/app.conf").unwrap();
        assert_eq!((st.mode, st.uid), (0o640, 1));
        let o = sh_on(&mut fs, "sed -i 's/x/y/' /nope");
        assert_eq!(
            o.stderr(),
            b"sed: can't read /nope: No such file or directory\n"
        );
        assert_eq!(o.status, 2);
        let o = sh_on(&mut fs, "sed 'k' /etc/app.conf");
        assert_eq!(
            o.stderr(),
            b"sed: -e expression #1, char 1: unknown command: `k'\n"
        );
    }
}
