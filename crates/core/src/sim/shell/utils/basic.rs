//! Shell builtins (`echo`, `printf`, `test`, `true`, `false`, `pwd`) and small programs about
//! the process (`env`, `id`, `whoami`, `hostname`, `which`, `sleep`, `uname`, `sh`).

use std::fmt::Write as _;

use super::{Args, Ctx, group_name, missing_operand, user_name, util_name};
use crate::fs::FileType;

/// `echo`: dash's builtin (escapes always interpreted, only `-n`), or busybox's (`-n`, `-e`,
/// `-E`, no escapes by default) when `/bin/sh` is busybox.
pub(crate) fn echo(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut args = &args[1..];
    let mut newline = true;
    let mut escapes = !ctx.busybox();
    if ctx.busybox() {
        while let Some(a) = args.first() {
            if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
                for c in a[1..].chars() {
                    match c {
                        'n' => newline = false,
                        'e' => escapes = true,
                        _ => escapes = false,
                    }
                }
                args = &args[1..];
            } else {
                break;
            }
        }
    } else if args.first().is_some_and(|a| a == "-n") {
        newline = false;
        args = &args[1..];
    }
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if escapes {
            let (bytes, stop) = unescape(a, true);
            out.extend(bytes);
            if stop {
                ctx.out(out);
                return 0;
            }
        } else {
            out.extend(a.as_bytes());
        }
    }
    if newline {
        out.push(b'\n');
    }
    ctx.out(out);
    0
}

/// Interprets printf-style backslash escapes (for `tr` sets).
pub(crate) fn unescape_pub(s: &str) -> (Vec<u8>, bool) {
    unescape(s, false)
}

/// `nproc`: the simulated machine's CPUs.
pub(crate) fn nproc(ctx: &mut Ctx<'_, '_>, _: &[String]) -> i32 {
    ctx.out("2\n");
    0
}

/// `yes [word]`: stops when the output bound is reached (the reader never closes the pipe).
pub(crate) fn yes(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let line = if args.len() > 1 {
        args[1..].join(" ")
    } else {
        "y".to_owned()
    };
    let line = format!("{line}\n");
    while !ctx.overflowed() {
        ctx.out(&line);
    }
    0
}

/// Interprets backslash escapes; `echo_style` takes `\0NNN` for octal and `\c` to stop.
/// Returns the bytes and whether `\c` was seen.
#[allow(clippy::many_single_char_names)]
fn unescape(s: &str, echo_style: bool) -> (Vec<u8>, bool) {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = b[i];
        i += 1;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'e' => out.push(27),
            b'\\' => out.push(b'\\'),
            b'c' if echo_style => return (out, true),
            b'0'..=b'7' => {
                let mut v: u32 = 0;
                let mut n = 0;
                let mut j = i - 1;
                let max = if echo_style && c == b'0' {
                    j += 1;
                    3
                } else if echo_style {
                    out.push(b'\\');
                    out.push(c);
                    continue;
                } else {
                    3
                };
                while n < max && j < b.len() && (b'0'..=b'7').contains(&b[j]) {
                    v = v * 8 + u32::from(b[j] - b'0');
                    j += 1;
                    n += 1;
                }
                out.push(u8::try_from(v & 0xff).unwrap_or(0));
                i = j;
            }
            b'x' if !echo_style => {
                let mut v: u32 = 0;
                let mut j = i;
                while j < b.len() && j < i + 2 && b[j].is_ascii_hexdigit() {
                    v = v * 16 + char::from(b[j]).to_digit(16).unwrap_or(0);
                    j += 1;
                }
                if j == i {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(u8::try_from(v).unwrap_or(0));
                }
                i = j;
            }
            b'"' | b'\'' if !echo_style => out.push(c),
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    (out, false)
}

/// `printf format args…`, reusing the format until the arguments are used up.
pub(crate) fn printf(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Some(format) = args.get(1) else {
        ctx.diag("printf: usage: printf format [arg ...]");
        return 2;
    };
    let mut rest: &[String] = &args[2..];
    let mut out = Vec::new();
    let mut status = 0;
    loop {
        let before = rest.len();
        match format_once(format, &mut rest, &mut out, &mut status) {
            Flow::Stop => break,
            Flow::Go => {}
        }
        if rest.is_empty() || rest.len() == before || ctx.overflowed() {
            break;
        }
        if out.len() > ctx.limits().max_output {
            break;
        }
    }
    ctx.out(out);
    status
}

enum Flow {
    Go,
    Stop,
}

#[allow(clippy::many_single_char_names)]
fn format_once(format: &str, args: &mut &[String], out: &mut Vec<u8>, status: &mut i32) -> Flow {
    let f: Vec<char> = format.chars().collect();
    let mut i = 0;
    let next_arg = |args: &mut &[String]| -> Option<String> {
        let (first, rest) = args.split_first()?;
        *args = rest;
        Some(first.clone())
    };
    while i < f.len() {
        let c = f[i];
        if c == '\\' {
            let end = (i + 4).min(f.len());
            let chunk: String = f[i..end].iter().collect();
            // Find how much of the escape to take: one char after the backslash, or up to 3
            // octal digits, or x plus 2 hex digits.
            let take = escape_len(&f[i..]);
            let s: String = chunk.chars().take(take).collect();
            out.extend(unescape(&s, false).0);
            i += take;
            continue;
        }
        if c != '%' {
            let mut buf = [0; 4];
            out.extend(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        i += 1;
        if f.get(i) == Some(&'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut spec = String::from("%");
        while let Some(&c) = f.get(i) {
            if "-+ #0".contains(c) {
                spec.push(c);
                i += 1;
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&c) = f.get(i) {
            if c.is_ascii_digit() {
                width.push(c);
                i += 1;
            } else if c == '*' {
                width = next_arg(args).unwrap_or_default();
                i += 1;
            } else {
                break;
            }
        }
        let mut precision: Option<String> = None;
        if f.get(i) == Some(&'.') {
            i += 1;
            let mut p = String::new();
            while let Some(&c) = f.get(i) {
                if c.is_ascii_digit() {
                    p.push(c);
                    i += 1;
                } else if c == '*' {
                    p = next_arg(args).unwrap_or_default();
                    i += 1;
                } else {
                    break;
                }
            }
            precision = Some(p);
        }
        while matches!(f.get(i), Some('l' | 'h' | 'j' | 'z' | 't' | 'L')) {
            i += 1;
        }
        let Some(&conv) = f.get(i) else {
            out.extend(spec.as_bytes());
            break;
        };
        i += 1;
        let width: usize = width
            .trim_start_matches('-')
            .parse::<usize>()
            .unwrap_or(0)
            .min(4096);
        let left = spec.contains('-');
        let zero = spec.contains('0') && !left;
        let precision: Option<usize> = precision.map(|p| p.parse::<usize>().unwrap_or(0).min(4096));
        let arg = next_arg(args);
        let body: Vec<u8> = match conv {
            's' => {
                let mut s = arg.unwrap_or_default();
                if let Some(p) = precision {
                    s = s.chars().take(p).collect();
                }
                s.into_bytes()
            }
            'b' => {
                let (b, stop) = unescape(&arg.unwrap_or_default(), true);
                if stop {
                    out.extend(b);
                    return Flow::Stop;
                }
                b
            }
            'c' => arg
                .and_then(|a| a.chars().next())
                .map(String::from)
                .unwrap_or_default()
                .into_bytes(),
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                let a = arg.unwrap_or_default();
                let n = parse_int(&a).unwrap_or_else(|| {
                    *status = 1;
                    0
                });
                let digits = match conv {
                    'x' => format!("{n:x}"),
                    'X' => format!("{n:X}"),
                    'o' => format!("{n:o}"),
                    'u' => format!("{}", n.cast_unsigned()),
                    _ => n.unsigned_abs().to_string(),
                };
                let digits = match precision {
                    Some(p) if digits.len() < p => {
                        format!("{}{digits}", "0".repeat(p - digits.len()))
                    }
                    _ => digits,
                };
                let sign = if matches!(conv, 'd' | 'i') && n < 0 {
                    "-"
                } else if matches!(conv, 'd' | 'i') && spec.contains('+') {
                    "+"
                } else {
                    ""
                };
                if zero && precision.is_none() && sign.len() + digits.len() < width {
                    format!(
                        "{sign}{}{digits}",
                        "0".repeat(width - sign.len() - digits.len())
                    )
                    .into_bytes()
                } else {
                    format!("{sign}{digits}").into_bytes()
                }
            }
            'f' | 'e' | 'g' | 'E' | 'G' => {
                let v: f64 = arg.as_deref().unwrap_or("0").trim().parse().unwrap_or(0.0);
                let p = precision.unwrap_or(6);
                match conv {
                    'f' => format!("{v:.p$}").into_bytes(),
                    'e' | 'E' => {
                        let s = format!("{v:.p$e}");
                        let s = fix_exp(&s);
                        if conv == 'E' {
                            s.to_uppercase().into_bytes()
                        } else {
                            s.into_bytes()
                        }
                    }
                    _ => {
                        let s = format!("{v}");
                        s.into_bytes()
                    }
                }
            }
            other => {
                let mut v = spec.into_bytes();
                let mut buf = [0; 4];
                v.extend(other.encode_utf8(&mut buf).as_bytes());
                v
            }
        };
        let len = String::from_utf8_lossy(&body).chars().count();
        if len < width && !(zero && matches!(conv, 'd' | 'i' | 'u' | 'x' | 'X' | 'o')) {
            let pad = vec![b' '; width - len];
            if left {
                out.extend(body);
                out.extend(pad);
            } else {
                out.extend(pad);
                out.extend(body);
            }
        } else {
            out.extend(body);
        }
    }
    Flow::Go
}

/// `1.5e+00` as C prints it from Rust's `1.5e0`.
fn fix_exp(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s.to_owned(),
    }
}

fn escape_len(f: &[char]) -> usize {
    match f.get(1) {
        None => 1,
        Some('0'..='7') => {
            1 + f[1..]
                .iter()
                .take(3)
                .take_while(|c| ('0'..='7').contains(c))
                .count()
        }
        Some('x') => {
            2 + f[2..]
                .iter()
                .take(2)
                .take_while(|c| c.is_ascii_hexdigit())
                .count()
        }
        Some(_) => 2,
    }
}

fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(c) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return Some(c.chars().next().map_or(0, |c| i64::from(u32::from(c))));
    }
    if t.is_empty() {
        return Some(0);
    }
    crate::sim::shell::arith::number(t)
}

/// `true`.
pub(crate) fn true_(_: &mut Ctx<'_, '_>, _: &[String]) -> i32 {
    0
}

/// `false`.
pub(crate) fn false_(_: &mut Ctx<'_, '_>, _: &[String]) -> i32 {
    1
}

/// `pwd`.
pub(crate) fn pwd(ctx: &mut Ctx<'_, '_>, _: &[String]) -> i32 {
    let cwd = format!("{}\n", ctx.cwd());
    ctx.out(cwd);
    0
}

/// `test` and `[`: dash's builtin, with its error texts (status 2).
pub(crate) fn test(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let name = args[0].clone();
    let mut words: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    if name == "[" {
        if words.last() != Some(&"]") {
            ctx.diag("[: missing ]");
            return 2;
        }
        words.pop();
    }
    let mut t = TestEval {
        ctx,
        words: &words,
        pos: 0,
        name: &name,
    };
    if words.is_empty() {
        return 1;
    }
    match t.or() {
        Ok(v) if t.pos == words.len() => i32::from(!v),
        Ok(_) => {
            let w = words[t.pos].to_owned();
            t.ctx.diag(&format!("{name}: {w}: unexpected operator"));
            2
        }
        Err(msg) => {
            t.ctx.diag(&format!("{name}: {msg}"));
            2
        }
    }
}

struct TestEval<'t, 'c, 'a, 'b> {
    ctx: &'t mut Ctx<'c, 'a>,
    words: &'t [&'b str],
    pos: usize,
    name: &'t str,
}

impl<'b> TestEval<'_, '_, '_, 'b> {
    fn peek(&self) -> Option<&'b str> {
        self.words.get(self.pos).copied()
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.peek() == Some("-o") {
            self.pos += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.not()?;
        while self.peek() == Some("-a") {
            self.pos += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }

    fn not(&mut self) -> Result<bool, String> {
        let remaining = self.words.len() - self.pos;
        if self.peek() == Some("!") && remaining > 1 {
            self.pos += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<bool, String> {
        let Some(w) = self.peek() else {
            return Err("argument expected".to_owned());
        };
        let remaining = self.words.len() - self.pos;
        if w == "(" && remaining > 1 {
            self.pos += 1;
            let v = self.or()?;
            if self.peek() != Some(")") {
                return Err("closing paren expected".to_owned());
            }
            self.pos += 1;
            return Ok(v);
        }
        // A binary operator after this word?
        if remaining >= 3
            && let Some(op) = self.words.get(self.pos + 1).copied()
            && is_binary(op)
        {
            let a = w;
            let b = self.words[self.pos + 2];
            self.pos += 3;
            return self.binary(a, op, b);
        }
        if w.len() == 2 && w.starts_with('-') && remaining >= 2 && is_unary(w) {
            let operand = self.words[self.pos + 1];
            self.pos += 2;
            return Ok(self.unary(w, operand));
        }
        self.pos += 1;
        Ok(!w.is_empty())
    }

    fn binary(&mut self, a: &str, op: &str, b: &str) -> Result<bool, String> {
        let num = |s: &str| -> Result<i64, String> {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("Illegal number: {s}"))
        };
        if let Some(cmp) = int_op(op) {
            return Ok(cmp(num(a)?, num(b)?));
        }
        Ok(match op {
            "=" | "==" => a == b,
            "!=" => a != b,
            "<" => a < b,
            ">" => a > b,
            "-nt" | "-ot" => {
                let ta = self
                    .ctx
                    .fs_ref()
                    .stat(&self.ctx.abs(a))
                    .map(|s| s.mtime)
                    .ok();
                let tb = self
                    .ctx
                    .fs_ref()
                    .stat(&self.ctx.abs(b))
                    .map(|s| s.mtime)
                    .ok();
                match (ta, tb) {
                    (Some(x), Some(y)) if op == "-nt" => x > y,
                    (Some(x), Some(y)) => x < y,
                    (Some(_), None) => op == "-nt",
                    (None, Some(_)) => op == "-ot",
                    _ => false,
                }
            }
            "-ef" => {
                let ca = self.ctx.fs_ref().canonicalize(&self.ctx.abs(a)).ok();
                ca.is_some() && ca == self.ctx.fs_ref().canonicalize(&self.ctx.abs(b)).ok()
            }
            _ => return Err(format!("{op}: unexpected operator")),
        })
    }

    fn unary(&mut self, op: &str, operand: &str) -> bool {
        let _ = self.name;
        let path = self.ctx.abs(operand);
        let fs = self.ctx.fs_ref();
        let stat = fs.stat(&path);
        let uid = self.ctx.uid();
        match op {
            "-z" => operand.is_empty(),
            "-n" => !operand.is_empty(),
            "-e" | "-a" => stat.is_ok(),
            "-f" => stat.is_ok_and(|s| s.file_type == FileType::File),
            "-d" => stat.is_ok_and(|s| s.file_type == FileType::Dir),
            "-L" | "-h" => fs
                .lstat(&path)
                .is_ok_and(|s| s.file_type == FileType::Symlink),
            "-s" => stat.is_ok_and(|s| s.size > 0),
            "-r" | "-w" => stat.is_ok_and(|s| {
                let bit = if op == "-r" { 4 } else { 2 };
                uid == 0 || (s.uid == uid && s.mode & (bit << 6) != 0) || s.mode & bit != 0
            }),
            "-x" => stat
                .is_ok_and(|s| s.mode & 0o111 != 0 || (uid == 0 && s.file_type == FileType::Dir)),
            "-u" => stat.is_ok_and(|s| s.mode & 0o4000 != 0),
            "-g" => stat.is_ok_and(|s| s.mode & 0o2000 != 0),
            "-k" => stat.is_ok_and(|s| s.mode & 0o1000 != 0),
            // No devices, pipes or sockets in the simulated filesystem; no terminal.
            _ => false,
        }
    }
}

/// The integer comparison `-eq`, `-ne`, `-lt`, `-le`, `-gt` or `-ge` names (`test`, `[[`).
pub(crate) fn int_op(op: &str) -> Option<fn(i64, i64) -> bool> {
    Some(match op {
        "-eq" => |a, b| a == b,
        "-ne" => |a, b| a != b,
        "-lt" => |a, b| a < b,
        "-le" => |a, b| a <= b,
        "-gt" => |a, b| a > b,
        "-ge" => |a, b| a >= b,
        _ => return None,
    })
}

fn is_binary(op: &str) -> bool {
    matches!(
        op,
        "=" | "=="
            | "!="
            | "<"
            | ">"
            | "-eq"
            | "-ne"
            | "-lt"
            | "-le"
            | "-gt"
            | "-ge"
            | "-nt"
            | "-ot"
            | "-ef"
    )
}

fn is_unary(op: &str) -> bool {
    "zneafdLhsrwxugkbcpSGOt".contains(&op[1..]) && op.len() == 2
}

/// `sleep`: no real waiting; the simulated clock moves on.
pub(crate) fn sleep(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    if args.len() < 2 {
        return missing_operand(ctx, "sleep");
    }
    let mut total = 0.0_f64;
    for a in &args[1..] {
        let (num, mult) = match a.chars().last() {
            Some('s') => (&a[..a.len() - 1], 1.0),
            Some('m') => (&a[..a.len() - 1], 60.0),
            Some('h') => (&a[..a.len() - 1], 3600.0),
            Some('d') => (&a[..a.len() - 1], 86400.0),
            _ => (a.as_str(), 1.0),
        };
        match num.parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => total += v * mult,
            _ => {
                ctx.err(format!(
                    "sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information.\n"
                ));
                return 1;
            }
        }
    }
    #[allow(clippy::cast_possible_truncation)]
    let secs = total.ceil().min(1e12) as i64;
    ctx.advance_clock(secs);
    0
}

/// `env [-i] [-u NAME] [NAME=value…] [command args…]`.
pub(crate) fn env(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut env = ctx.env.clone();
    let mut i = 1;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-i" | "-" | "--ignore-environment" => env.clear(),
            "-u" => {
                i += 1;
                if let Some(n) = args.get(i) {
                    env.remove(n);
                }
            }
            "--" => {
                i += 1;
                break;
            }
            _ => break,
        }
        i += 1;
    }
    while let Some((k, v)) = args.get(i).and_then(|a| a.split_once('=')) {
        env.insert(k.to_owned(), v.to_owned());
        i += 1;
    }
    if i >= args.len() {
        let text: String = env.iter().fold(String::new(), |mut s, (k, v)| {
            let _ = writeln!(s, "{k}={v}");
            s
        });
        ctx.out(text);
        return 0;
    }
    let stdin = ctx.stdin().to_vec();
    let status = ctx.run(&args[i..], env, &stdin);
    if status == 127 && ctx.which(&args[i]).is_none() {
        // The shell's message is already out; env's own words are different, but the status
        // is the same.
        return 127;
    }
    status
}

/// `printenv [NAME…]`.
pub(crate) fn printenv(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    if args.len() < 2 {
        let text: String = ctx.env.iter().fold(String::new(), |mut s, (k, v)| {
            let _ = writeln!(s, "{k}={v}");
            s
        });
        ctx.out(text);
        return 0;
    }
    let mut status = 0;
    for n in &args[1..] {
        match ctx.env.get(n).cloned() {
            Some(v) => ctx.out(format!("{v}\n")),
            None => status = 1,
        }
    }
    status
}

/// `id [-u|-g|-G] [-n] [user]`.
pub(crate) fn id(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "ugGnr",
        "",
        &[
            ("user", 'u'),
            ("group", 'g'),
            ("groups", 'G'),
            ("name", 'n'),
        ],
    ) else {
        return 1;
    };
    let (uid, gid) = match a.operands.first() {
        Some(user) => {
            let rec = super::db(ctx, "/etc/passwd")
                .into_iter()
                .find(|f| f.len() > 3 && (f[0] == *user || f[2] == *user));
            if let Some(f) = rec {
                (f[2].parse().unwrap_or(0), f[3].parse().unwrap_or(0))
            } else {
                ctx.err(format!("id: '{user}': no such user\n"));
                return 1;
            }
        }
        None => (ctx.uid(), ctx.gid()),
    };
    let uname = user_name(ctx, uid);
    let gname = group_name(ctx, gid);
    let show = |id: u32, name: &Option<String>| match name {
        Some(n) => format!("{id}({n})"),
        None => id.to_string(),
    };
    let line = if a.has('u') {
        if a.has('n') {
            uname.clone().unwrap_or_else(|| uid.to_string())
        } else {
            uid.to_string()
        }
    } else if a.has('g') || a.has('G') {
        if a.has('n') {
            gname.clone().unwrap_or_else(|| gid.to_string())
        } else {
            gid.to_string()
        }
    } else {
        format!(
            "uid={} gid={} groups={}",
            show(uid, &uname),
            show(gid, &gname),
            show(gid, &gname)
        )
    };
    ctx.out(format!("{line}\n"));
    0
}

/// `whoami`.
pub(crate) fn whoami(ctx: &mut Ctx<'_, '_>, _: &[String]) -> i32 {
    let uid = ctx.uid();
    if let Some(n) = user_name(ctx, uid) {
        ctx.out(format!("{n}\n"));
        0
    } else {
        ctx.err(format!("whoami: cannot find name for user ID {uid}\n"));
        1
    }
}

/// `hostname`.
pub(crate) fn hostname(ctx: &mut Ctx<'_, '_>, _: &[String]) -> i32 {
    let h = format!("{}\n", ctx.hostname());
    ctx.out(h);
    0
}

/// `uname [-asnrmvo]`.
pub(crate) fn uname(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "asnrvmpio", "", &[("all", 'a')]) else {
        return 1;
    };
    let host = ctx.hostname().to_owned();
    let fields = [
        ('s', "Linux".to_owned()),
        ('n', host),
        ('r', "6.1.0-layerbox".to_owned()),
        ('v', "#1 SMP PREEMPT_DYNAMIC (simulated)".to_owned()),
        ('m', "x86_64".to_owned()),
        ('o', "GNU/Linux".to_owned()),
    ];
    let all = a.has('a');
    let mut shown: Vec<String> = fields
        .iter()
        .filter(|(c, _)| all || a.has(*c))
        .map(|(_, v)| v.clone())
        .collect();
    if shown.is_empty() {
        shown.push("Linux".to_owned());
    }
    ctx.out(format!("{}\n", shown.join(" ")));
    0
}

/// `which name…`: the paths found in `PATH`; status 1 if any is missing.
pub(crate) fn which(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut status = 0;
    for name in args[1..].iter().filter(|a| !a.starts_with('-')) {
        match ctx.which(name) {
            Some(p) => ctx.out(format!("{p}\n")),
            None => status = 1,
        }
    }
    status
}

/// `sh [-ex] -c script [arg0 args…]`, `sh file args…`, or a script on stdin.
pub(crate) fn sh(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let name = util_name(args);
    let bash = name == "bash";
    let mut i = 1;
    let mut flags = String::new();
    let mut command = false;
    while let Some(a) = args.get(i) {
        if a == "-c" {
            command = true;
        } else if a.len() > 1 && (a.starts_with('-') || a.starts_with('+')) && a != "--" {
            for c in a[1..].chars() {
                if c == 'c' {
                    command = true;
                } else if a.starts_with('-') && c != 'l' && c != 'i' {
                    flags.push(c);
                }
            }
        } else {
            if a == "--" {
                i += 1;
            }
            break;
        }
        i += 1;
    }
    let prefix = if flags.is_empty() {
        String::new()
    } else {
        format!("set -{flags}; ")
    };
    if command {
        let Some(script) = args.get(i) else {
            ctx.err(format!("{name}: 0: -c requires an argument\n"));
            return 2;
        };
        let arg0 = args.get(i + 1).cloned().unwrap_or_else(|| args[0].clone());
        let rest: Vec<String> = args.iter().skip(i + 2).cloned().collect();
        return ctx.run_shell_script(&format!("{prefix}{script}"), &arg0, &rest, bash);
    }
    if let Some(file) = args.get(i) {
        if let Ok(bytes) = ctx.read_file(file) {
            let src = String::from_utf8_lossy(&bytes).into_owned();
            let rest: Vec<String> = args[i + 1..].to_vec();
            ctx.run_shell_script(&format!("{prefix}{src}"), file, &rest, bash)
        } else {
            ctx.err(format!("{name}: 0: cannot open {file}: No such file\n"));
            2
        }
    } else {
        let src = String::from_utf8_lossy(ctx.stdin()).into_owned();
        ctx.run_shell_script(&format!("{prefix}{src}"), &args[0], &[], bash)
    }
}

/// `basename path [suffix]`.
pub(crate) fn basename(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Some(p) = args.get(1) else {
        return missing_operand(ctx, "basename");
    };
    let trimmed = p.trim_end_matches('/');
    let mut base = if trimmed.is_empty() && p.starts_with('/') {
        "/".to_owned()
    } else {
        trimmed.rsplit('/').next().unwrap_or_default().to_owned()
    };
    if let Some(suffix) = args.get(2)
        && base != *suffix
        && let Some(b) = base.strip_suffix(suffix.as_str())
    {
        base = b.to_owned();
    }
    ctx.out(format!("{base}\n"));
    0
}

/// `dirname path`.
pub(crate) fn dirname(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Some(p) = args.get(1) else {
        return missing_operand(ctx, "dirname");
    };
    let t = p.trim_end_matches('/');
    let d = match t.rfind('/') {
        None if p.starts_with('/') => "/".to_owned(),
        None => ".".to_owned(),
        Some(0) => "/".to_owned(),
        Some(i) => t[..i].trim_end_matches('/').to_owned(),
    };
    let d = if d.is_empty() { "/".to_owned() } else { d };
    ctx.out(format!("{d}\n"));
    0
}

#[cfg(test)]
mod tests {
    use super::super::testing::sh;

    #[test]
    fn echo_and_printf() {
        assert_eq!(sh("echo a  b; echo -n x; echo 'y\\tz'").1, "a b\nxy\tz\n");
        assert_eq!(sh("printf '%s-%d\\n' a 1 b 2").1, "a-1\nb-2\n");
        assert_eq!(
            sh("printf '%5s|%-3s|%03d|%x\\n' ab c 7 255").1,
            "   ab|c  |007|ff\n"
        );
        assert_eq!(sh("printf '%.2f %s\\n' 3.14159").1, "3.14 \n");
        assert_eq!(sh("printf 'a\\nb'").1, "a\nb");
    }

    #[test]
    fn test_builtin() {
        assert_eq!(sh("[ -d /etc ] && echo dir").1, "dir\n");
        assert_eq!(sh("test -f /etc/passwd -a ! -e /nope && echo ok").1, "ok\n");
        assert_eq!(
            sh("[ 3 -gt 2 ] && [ abc = abc ] && [ -n x ] && [ -z '' ] && echo y").1,
            "y\n"
        );
        let (status, _, err) = sh("[ 1 -eq 1");
        assert_eq!((status, err.as_str()), (2, "/bin/sh: 1: [: missing ]\n"));
        let (status, _, err) = sh("[ a -eq 1 ]");
        assert_eq!(
            (status, err.as_str()),
            (2, "/bin/sh: 1: [: Illegal number: a\n")
        );
        assert_eq!(sh("[ ]").0, 1);
    }

    #[test]
    fn process_information() {
        assert_eq!(sh("id").1, "uid=0(root) gid=0(root) groups=0(root)\n");
        assert_eq!(sh("id -u; id -un; whoami").1, "0\nroot\nroot\n");
        assert_eq!(sh("hostname").1, "buildkitsandbox\n");
        assert_eq!(sh("FOO=1 env | grep FOO").1, "FOO=1\n");
        assert_eq!(sh("env -i A=b env").1, "A=b\n");
        assert_eq!(
            sh("basename /a/b.txt .txt; dirname /a/b/c; dirname x").1,
            "b\n/a/b\n.\n"
        );
    }

    #[test]
    fn sleep_moves_the_clock() {
        let (status, out, _) = sh("date_before=1; sleep 2; sleep 1.5; echo done");
        assert_eq!((status, out.as_str()), (0, "done\n"));
        assert_eq!(
            sh("sleep x").2,
            "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n"
        );
    }

    #[test]
    fn nested_shells() {
        assert_eq!(sh("sh -c 'echo $0 $1' zero one").1, "zero one\n");
        assert_eq!(sh("bash -c 'exit 3'; echo $?").1, "3\n");
        assert_eq!(sh("echo 'echo from stdin' | sh").1, "from stdin\n");
    }
}
