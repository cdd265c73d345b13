//! `find`: `-name`, `-iname`, `-path`, `-type`, `-maxdepth`, `-mindepth`, `-empty`, `-newer`,
//! `-user`, `-perm`, `-size`, `!`/`-not`, `-a`, `-o`, parentheses, `-print`, `-print0`,
//! `-delete`, `-exec … {} ;` and `-exec … {} +`, as GNU findutils does them.

use super::Ctx;
use crate::fs::{FileType, Stat};
use crate::sim::shell::pattern::Pattern;

#[derive(Debug)]
enum Expr {
    True,
    Name(Pattern, bool),
    Path(Pattern),
    Type(Vec<FileType>),
    Empty,
    User(String),
    Perm(u32, char),
    Size(i64, char, u64),
    Newer(String),
    Print(bool),
    Delete,
    Exec(Vec<String>, bool),
    Prune,
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    toks: &'a [String],
    pos: usize,
    maxdepth: Option<usize>,
    mindepth: usize,
    has_action: bool,
    depth_first: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while matches!(self.peek(), Some("-o" | "-or")) {
            self.pos += 1;
            let r = self.and()?;
            e = Expr::Or(Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        loop {
            match self.peek() {
                Some("-a" | "-and") => self.pos += 1,
                None | Some("-o" | "-or" | ")") => return Ok(e),
                _ => {}
            }
            let r = self.not()?;
            e = Expr::And(Box::new(e), Box::new(r));
        }
    }

    fn not(&mut self) -> Result<Expr, String> {
        if matches!(self.peek(), Some("!" | "-not")) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn arg(&mut self, pred: &str) -> Result<String, String> {
        let v = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| format!("missing argument to `{pred}'"))?;
        self.pos += 1;
        Ok(v)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(tok) = self.peek().map(str::to_owned) else {
            return Err("expected an expression".to_owned());
        };
        self.pos += 1;
        Ok(match tok.as_str() {
            "(" => {
                let e = self.or()?;
                if self.peek() != Some(")") {
                    return Err("invalid expression; I was expecting to find a ')' somewhere but did not see one.".to_owned());
                }
                self.pos += 1;
                e
            }
            "-name" | "-iname" => {
                let p = self.arg(&tok)?;
                let icase = tok == "-iname";
                let p = if icase { p.to_lowercase() } else { p };
                Expr::Name(Pattern::parse(&p), icase)
            }
            "-path" | "-wholename" => Expr::Path(Pattern::parse(&self.arg(&tok)?)),
            "-type" | "-xtype" => {
                let t = self.arg(&tok)?;
                let mut types = Vec::new();
                for c in t.split(',') {
                    types.push(match c {
                        "f" => FileType::File,
                        "d" => FileType::Dir,
                        "l" => FileType::Symlink,
                        "b" | "c" | "p" | "s" => continue,
                        _ => return Err(format!("Unknown argument to -type: {c}")),
                    });
                }
                Expr::Type(types)
            }
            "-maxdepth" | "-mindepth" => {
                let v = self.arg(&tok)?;
                let n: usize = v.parse().map_err(|_| {
                    format!("Expected a positive decimal integer argument to {tok}, but got `{v}'")
                })?;
                if tok == "-maxdepth" {
                    self.maxdepth = Some(n);
                } else {
                    self.mindepth = n;
                }
                Expr::True
            }
            "-empty" => Expr::Empty,
            "-user" | "-group" | "-uid" | "-gid" => {
                Expr::User(format!("{tok}={}", self.arg(&tok)?))
            }
            "-perm" => {
                let v = self.arg(&tok)?;
                let (kind, digits) = match v.chars().next() {
                    Some(c @ ('-' | '/')) => (c, &v[1..]),
                    _ => ('=', v.as_str()),
                };
                let m =
                    u32::from_str_radix(digits, 8).map_err(|_| format!("invalid mode `{v}'"))?;
                Expr::Perm(m, kind)
            }
            "-size" => {
                let v = self.arg(&tok)?;
                let (cmp, rest) = match v.chars().next() {
                    Some('+') => (1, &v[1..]),
                    Some('-') => (-1, &v[1..]),
                    _ => (0, v.as_str()),
                };
                let unit = rest
                    .chars()
                    .last()
                    .filter(char::is_ascii_alphabetic)
                    .unwrap_or('b');
                let num = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let n: u64 = num
                    .parse()
                    .map_err(|_| format!("invalid -size type `{v}'"))?;
                Expr::Size(cmp, unit, n)
            }
            "-newer" => Expr::Newer(self.arg(&tok)?),
            "-print" | "-print0" => {
                self.has_action = true;
                Expr::Print(tok == "-print0")
            }
            "-delete" => {
                self.has_action = true;
                self.depth_first = true;
                Expr::Delete
            }
            "-prune" => Expr::Prune,
            "-depth" => {
                self.depth_first = true;
                Expr::True
            }
            "-xdev" | "-mount" | "-noleaf" | "-follow" | "-ignore_readdir_race" | "-true" => {
                Expr::True
            }
            "-exec" | "-execdir" | "-ok" => {
                self.has_action = true;
                let mut cmd = Vec::new();
                loop {
                    let Some(t) = self.peek().map(str::to_owned) else {
                        return Err(format!("missing argument to `{tok}'"));
                    };
                    self.pos += 1;
                    if t == ";" {
                        break Expr::Exec(cmd, false);
                    }
                    if t == "+" && cmd.last().is_some_and(|l: &String| l == "{}") {
                        break Expr::Exec(cmd, true);
                    }
                    cmd.push(t);
                }
            }
            "-false" => Expr::Not(Box::new(Expr::True)),
            other if other.starts_with('-') => return Err(format!("unknown predicate `{other}'")),
            other => return Err(format!("paths must precede expression: `{other}'")),
        })
    }
}

struct Walk<'e> {
    expr: &'e Expr,
    out: Vec<u8>,
    batch: Vec<(Vec<String>, Vec<String>)>,
    status: i32,
    pruned: bool,
}

/// `find [path…] [expression]`.
pub(crate) fn find(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut i = 1;
    while args
        .get(i)
        .is_some_and(|a| matches!(a.as_str(), "-H" | "-L" | "-P"))
    {
        i += 1;
    }
    let mut paths = Vec::new();
    while let Some(a) = args.get(i) {
        if (a.starts_with('-') && a.len() > 1) || a == "(" || a == "!" {
            break;
        }
        paths.push(a.clone());
        i += 1;
    }
    if paths.is_empty() {
        paths.push(".".to_owned());
    }
    let toks = &args[i..];
    let mut p = Parser {
        toks,
        pos: 0,
        maxdepth: None,
        mindepth: 0,
        has_action: false,
        depth_first: false,
    };
    let expr = if toks.is_empty() {
        Ok(Expr::True)
    } else {
        p.or().and_then(|e| match p.peek() {
            None => Ok(e),
            Some(t) => Err(format!("unexpected extra predicate '{t}'")),
        })
    };
    let expr = match expr {
        Ok(e) if p.has_action => e,
        Ok(e) => Expr::And(Box::new(e), Box::new(Expr::Print(false))),
        Err(msg) => {
            ctx.err(format!("find: {msg}\n"));
            return 1;
        }
    };
    let mut w = Walk {
        expr: &expr,
        out: Vec::new(),
        batch: Vec::new(),
        status: 0,
        pruned: false,
    };
    for start in &paths {
        let abs = ctx.abs(start);
        match ctx.fs_ref().lstat(&abs) {
            Ok(st) => visit(ctx, &mut w, start, &abs, &st, 0, &p),
            Err(e) => {
                ctx.err(format!("find: '{start}': {}\n", e.strerror()));
                w.status = 1;
            }
        }
        if ctx.overflowed() {
            break;
        }
    }
    let out = std::mem::take(&mut w.out);
    ctx.out(out);
    for (cmd, files) in std::mem::take(&mut w.batch) {
        let mut argv: Vec<String> = cmd[..cmd.len() - 1].to_vec();
        argv.extend(files);
        let env = ctx.env.clone();
        if ctx.run(&argv, env, b"") != 0 {
            w.status = 1;
        }
    }
    w.status
}

fn visit(
    ctx: &mut Ctx<'_, '_>,
    w: &mut Walk<'_>,
    shown: &str,
    abs: &str,
    st: &Stat,
    depth: usize,
    p: &Parser<'_>,
) {
    if ctx.overflowed() || w.out.len() > ctx.limits().max_output {
        return;
    }
    let in_range = depth >= p.mindepth;
    if !p.depth_first && in_range {
        w.pruned = false;
        let e = w.expr;
        eval(ctx, w, e, shown, abs, st);
        if w.pruned {
            return;
        }
    }
    if st.file_type == FileType::Dir && p.maxdepth.is_none_or(|m| depth < m) {
        let children = ctx.fs_ref().read_dir(abs).unwrap_or_default();
        for c in children {
            let child_shown = if shown.ends_with('/') {
                format!("{shown}{}", c.name)
            } else {
                format!("{shown}/{}", c.name)
            };
            let child_abs = format!("{}/{}", abs.trim_end_matches('/'), c.name);
            if let Ok(cst) = ctx.fs_ref().lstat(&child_abs) {
                visit(ctx, w, &child_shown, &child_abs, &cst, depth + 1, p);
            }
        }
    }
    if p.depth_first && in_range {
        let st = ctx.fs_ref().lstat(abs).unwrap_or_else(|_| st.clone());
        let e = w.expr;
        eval(ctx, w, e, shown, abs, &st);
    }
}

fn eval(
    ctx: &mut Ctx<'_, '_>,
    w: &mut Walk<'_>,
    e: &Expr,
    shown: &str,
    abs: &str,
    st: &Stat,
) -> bool {
    match e {
        Expr::True => true,
        Expr::Name(pat, icase) => {
            let base = shown
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(shown);
            let base = if base.is_empty() { "/" } else { base };
            if *icase {
                pat.matches(&base.to_lowercase())
            } else {
                pat.matches(base)
            }
        }
        Expr::Path(pat) => pat.matches(shown),
        Expr::Type(types) => types.contains(&st.file_type),
        Expr::Empty => match st.file_type {
            FileType::Dir => ctx.fs_ref().read_dir(abs).is_ok_and(|d| d.is_empty()),
            FileType::File => st.size == 0,
            FileType::Symlink => false,
        },
        Expr::User(spec) => {
            let (kind, v) = spec.split_once('=').unwrap_or_default();
            let want = match kind {
                "-user" | "-uid" => st.uid,
                _ => st.gid,
            };
            let db = if matches!(kind, "-user" | "-uid") {
                "/etc/passwd"
            } else {
                "/etc/group"
            };
            let id = v.parse::<u32>().ok().or_else(|| {
                super::db(ctx, db)
                    .into_iter()
                    .find(|f| f.len() > 2 && f[0] == v)
                    .and_then(|f| f[2].parse().ok())
            });
            id == Some(want)
        }
        Expr::Perm(m, kind) => match kind {
            '-' => st.mode & m == *m,
            '/' => *m == 0 || st.mode & m != 0,
            _ => st.mode & 0o7777 == *m,
        },
        Expr::Size(cmp, unit, n) => {
            let unit_size: u64 = match unit {
                'c' => 1,
                'w' => 2,
                'k' => 1024,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => 512,
            };
            let size = st.size.div_ceil(unit_size);
            match cmp {
                1 => size > *n,
                -1 => size < *n,
                _ => size == *n,
            }
        }
        Expr::Newer(reference) => {
            let r = ctx.abs(reference);
            ctx.fs_ref().stat(&r).is_ok_and(|rs| st.mtime > rs.mtime)
        }
        Expr::Print(nul) => {
            w.out.extend(shown.as_bytes());
            w.out.push(if *nul { 0 } else { b'\n' });
            true
        }
        Expr::Delete => {
            if let Err(e) = ctx.fs().remove(abs) {
                let text = format!("find: cannot delete '{shown}': {}\n", e.strerror());
                ctx.err(text);
                w.status = 1;
                return false;
            }
            true
        }
        Expr::Exec(cmd, batch) => {
            if *batch {
                match w.batch.iter_mut().find(|(c, _)| c == cmd) {
                    Some((_, files)) => files.push(shown.to_owned()),
                    None => w.batch.push((cmd.clone(), vec![shown.to_owned()])),
                }
                return true;
            }
            let argv: Vec<String> = cmd.iter().map(|a| a.replace("{}", shown)).collect();
            // Output before this command's must come first.
            let pending = std::mem::take(&mut w.out);
            ctx.out(pending);
            let env = ctx.env.clone();
            ctx.run(&argv, env, b"") == 0
        }
        Expr::Prune => {
            w.pruned = true;
            true
        }
        Expr::Not(inner) => !eval(ctx, w, inner, shown, abs, st),
        Expr::And(a, b) => eval(ctx, w, a, shown, abs, st) && eval(ctx, w, b, shown, abs, st),
        Expr::Or(a, b) => eval(ctx, w, a, shown, abs, st) || eval(ctx, w, b, shown, abs, st),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{out, sh};

    const TREE: &str =
        "mkdir -p /t/a/b /t/c && touch /t/a/x.py /t/a/b/y.py /t/c/z.txt /t/a/b/.hidden && ";

    #[test]
    fn names_types_depths() {
        assert_eq!(
            out(&format!("{TREE} find /t -name '*.py'")),
            "/t/a/b/y.py\n/t/a/x.py\n"
        );
        assert_eq!(
            out(&format!("{TREE} find /t -maxdepth 1 -type d")),
            "/t\n/t/a\n/t/c\n"
        );
        assert_eq!(
            out(&format!("{TREE} cd /t && find . -type f -not -name '*.py'")),
            "./a/b/.hidden\n./c/z.txt\n"
        );
        assert_eq!(
            out(&format!(
                "{TREE} find /t -mindepth 2 -type f -name '*.txt' -o -name x.py"
            )),
            "/t/a/x.py\n/t/c/z.txt\n"
        );
        assert_eq!(out(&format!("{TREE} find /t/c -empty")), "/t/c/z.txt\n");
        assert_eq!(
            sh("find /nope").2,
            "find: '/nope': No such file or directory\n"
        );
        assert_eq!(sh("find / -bogus").2, "find: unknown predicate `-bogus'\n");
    }

    #[test]
    fn delete_and_exec() {
        assert_eq!(
            out(&format!(
                "{TREE} find /t -name '*.py' -delete && find /t -type f"
            )),
            "/t/a/b/.hidden\n/t/c/z.txt\n"
        );
        assert_eq!(
            out(&format!(
                "{TREE} find /t -depth -name b -exec rm -r {{}} \\; && find /t/a"
            )),
            "/t/a\n/t/a/x.py\n"
        );
        assert_eq!(
            out(&format!(
                "{TREE} find /t -name '*.txt' -exec echo found {{}} +"
            )),
            "found /t/c/z.txt\n"
        );
        assert_eq!(
            out(&format!(
                "{TREE} find /t -type d -name a -prune -o -type f -print"
            )),
            "/t/c/z.txt\n"
        );
    }
}
