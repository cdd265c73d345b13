//! Text utilities: grep, sed, head, tail, wc, sort, uniq, tr, cut, tee, seq, xargs.

use std::fmt::Write as _;

use regex_lite::Regex;

use super::regex::{compile, fixed};
use super::{Args, Ctx, inputs, report, util_name};
use crate::fs::{FileData, FileType};

/// Splits bytes into lines without their newlines; the flag says whether the last had one.
fn lines(bytes: &[u8]) -> (Vec<String>, bool) {
    let text = String::from_utf8_lossy(bytes);
    let ends = text.ends_with('\n');
    let mut v: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if ends || v.last().is_some_and(String::is_empty) {
        v.pop();
    }
    (v, ends)
}

/// `grep [-qvicnlLhHrRFEwxso] [-e pattern] pattern [file…]`.
pub(crate) fn grep(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let name = util_name(args);
    let Ok(mut a) = Args::parse(
        ctx,
        args,
        "qvicnlLhHrRFEGwxsoe",
        "e",
        &[
            ("quiet", 'q'),
            ("silent", 'q'),
            ("invert-match", 'v'),
            ("ignore-case", 'i'),
            ("count", 'c'),
            ("line-number", 'n'),
            ("files-with-matches", 'l'),
            ("recursive", 'r'),
            ("fixed-strings", 'F'),
            ("extended-regexp", 'E'),
            ("word-regexp", 'w'),
            ("line-regexp", 'x'),
            ("no-messages", 's'),
            ("only-matching", 'o'),
            ("regexp", 'e'),
        ],
    ) else {
        return 2;
    };
    let extended = a.has('E') || name == "egrep";
    let fixed_str = a.has('F') || name == "fgrep";
    let mut patterns: Vec<String> = a
        .flags_values('e')
        .into_iter()
        .flat_map(|p| p.split('\n').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    if patterns.is_empty() {
        if a.operands.is_empty() {
            ctx.err(format!("Usage: {name} [OPTION]... PATTERNS [FILE]...\nTry '{name} --help' for more information.\n"));
            return 2;
        }
        let p = a.operands.remove(0);
        patterns.extend(p.split('\n').map(str::to_owned));
    }
    let icase = a.has('i');
    let mut res: Vec<Regex> = Vec::new();
    for p in &patterns {
        let mut src = p.clone();
        let r = if fixed_str {
            fixed(p, icase)
        } else {
            if a.has('w') {
                src = if extended {
                    format!("\\b({src})\\b")
                } else {
                    format!("\\<\\({src}\\)\\>")
                };
            }
            if a.has('x') {
                src = if extended {
                    format!("^({src})$")
                } else {
                    format!("^\\({src}\\)$")
                };
            }
            compile(&src, extended, icase)
        };
        match r {
            Ok(r) => res.push(r),
            Err(e) => {
                ctx.err(format!("{name}: {e}\n"));
                return 2;
            }
        }
    }
    let recursive = a.has('r') || a.has('R');
    let mut files: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    let mut errors = false;
    if a.operands.is_empty() {
        if recursive {
            a.operands.push(".".to_owned());
        } else {
            files.push(("(standard input)".to_owned(), Some(ctx.stdin().to_vec())));
        }
    }
    for f in &a.operands {
        let p = ctx.abs(f);
        match ctx.fs_ref().stat(&p) {
            Ok(s) if s.file_type == FileType::Dir => {
                if recursive {
                    let walk = ctx.fs_ref().walk(&p).unwrap_or_default();
                    for (path, st) in walk {
                        if st.file_type == FileType::File {
                            let shown = format!(
                                "{}{}",
                                f.trim_end_matches('/'),
                                &path[p.trim_end_matches('/').len()..]
                            );
                            let shown = shown
                                .strip_prefix("./")
                                .map_or(shown.clone(), str::to_owned);
                            files.push((shown, ctx.read_file(&path).ok()));
                        }
                    }
                } else {
                    if !a.has('s') {
                        ctx.err(format!("{name}: {f}: Is a directory\n"));
                    }
                    errors = true;
                }
            }
            Ok(_) => files.push((f.clone(), ctx.read_file(&p).ok())),
            Err(e) => {
                if !a.has('s') {
                    ctx.err(format!("{name}: {f}: {}\n", e.strerror()));
                }
                errors = true;
            }
        }
    }
    let show_names = (files.len() > 1 || recursive) && !a.has('h') || a.has('H');
    let mut any = false;
    let mut out = String::new();
    for (shown, data) in files {
        let Some(data) = data else { continue };
        let (ls, _) = lines(&data);
        let mut count = 0;
        for (i, line) in ls.iter().enumerate() {
            let hit = res.iter().any(|r| r.is_match(line)) != a.has('v');
            if !hit {
                continue;
            }
            count += 1;
            any = true;
            if a.has('q') {
                return 0;
            }
            if a.has('l') || a.has('L') || a.has('c') {
                continue;
            }
            let prefix = match (show_names, a.has('n')) {
                (true, true) => format!("{shown}:{}:", i + 1),
                (true, false) => format!("{shown}:"),
                (false, true) => format!("{}:", i + 1),
                (false, false) => String::new(),
            };
            if a.has('o') && !a.has('v') {
                for r in &res {
                    for m in r.find_iter(line) {
                        if !m.as_str().is_empty() {
                            let _ = writeln!(out, "{prefix}{}", m.as_str());
                        }
                    }
                }
            } else {
                let _ = writeln!(out, "{prefix}{line}");
            }
            if out.len() > ctx.limits().max_output {
                break;
            }
        }
        if a.has('c') {
            if show_names {
                let _ = writeln!(out, "{shown}:{count}");
            } else {
                let _ = writeln!(out, "{count}");
            }
        } else if (a.has('l') && count > 0) || (a.has('L') && count == 0) {
            let _ = writeln!(out, "{shown}");
        }
    }
    ctx.out(out);
    if errors && !(a.has('q') && any) {
        2
    } else {
        i32::from(!any)
    }
}

impl Args {
    /// Every value given to flag `c`, in order.
    pub(crate) fn flags_values(&self, c: char) -> Vec<String> {
        self.flags
            .iter()
            .filter(|(f, _)| *f == c)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }
}

/// Parses `-n N`, `-N`, `-n +N`, `-c N` for head and tail.
/// `-n`, `-c`, the files and `-q` of head and tail.
type Counts = (Option<String>, Option<String>, Vec<String>, bool);

fn count_arg(ctx: &mut Ctx<'_, '_>, name: &str, args: &[String]) -> Result<Counts, ()> {
    let mut lines = None;
    let mut bytes = None;
    let mut files = Vec::new();
    let mut quiet = false;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(v) = a.strip_prefix("-n").or_else(|| a.strip_prefix("--lines=")) {
            lines = Some(if v.is_empty() {
                i += 1;
                args.get(i - 1).cloned().unwrap_or_default()
            } else {
                v.to_owned()
            });
        } else if let Some(v) = a.strip_prefix("-c").or_else(|| a.strip_prefix("--bytes=")) {
            bytes = Some(if v.is_empty() {
                i += 1;
                args.get(i - 1).cloned().unwrap_or_default()
            } else {
                v.to_owned()
            });
        } else if a == "-q" || a == "-s" || a == "--quiet" {
            quiet = true;
        } else if a == "-f" || a == "-F" || a == "--follow" || a == "-v" {
        } else if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| c.is_ascii_digit()) {
            lines = Some(a[1..].to_owned());
        } else if a.len() > 1 && a.starts_with('-') {
            ctx.err(format!(
                "{name}: invalid option -- '{}'\nTry '{name} --help' for more information.\n",
                &a[1..2]
            ));
            return Err(());
        } else {
            files.push(a.clone());
        }
    }
    Ok((lines, bytes, files, quiet))
}

/// `head [-n N] [-c N] [file…]`.
pub(crate) fn head(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    head_tail(ctx, args, true)
}

/// `tail [-n N|+N] [-c N] [file…]` (`-f` returns at once: nothing more is written).
pub(crate) fn tail(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    head_tail(ctx, args, false)
}

fn head_tail(ctx: &mut Ctx<'_, '_>, args: &[String], head: bool) -> i32 {
    let name = if head { "head" } else { "tail" };
    let Ok((lines_arg, bytes_arg, files, quiet)) = count_arg(ctx, name, args) else {
        return 1;
    };
    let spec = bytes_arg
        .clone()
        .or(lines_arg)
        .unwrap_or_else(|| "10".to_owned());
    let from_start = spec.starts_with('+');
    let negative = spec.starts_with('-');
    let n: usize = if let Ok(n) = spec.trim_start_matches(['+', '-']).parse() {
        n
    } else {
        let what = if bytes_arg.is_some() {
            "bytes"
        } else {
            "lines"
        };
        ctx.err(format!("{name}: invalid number of {what}: '{spec}'\n"));
        return 1;
    };
    let (ins, ok) = inputs(ctx, name, &files);
    let many = ins.len() > 1 && !quiet;
    let mut out = Vec::new();
    for (i, (fname, data)) in ins.iter().enumerate() {
        if many {
            if i > 0 {
                out.push(b'\n');
            }
            let shown = if fname == "-" {
                "standard input"
            } else {
                fname
            };
            out.extend(format!("==> {shown} <==\n").as_bytes());
        }
        let pieces: Vec<&[u8]> = if bytes_arg.is_some() {
            data.chunks(1).collect()
        } else {
            data.split_inclusive(|b| *b == b'\n').collect()
        };
        let len = pieces.len();
        let range = match (head, from_start, negative) {
            (true, _, true) => 0..len.saturating_sub(n),
            (true, _, false) => 0..n.min(len),
            (false, true, _) => n.saturating_sub(1).min(len)..len,
            (false, false, _) => len.saturating_sub(n)..len,
        };
        for p in &pieces[range] {
            out.extend(*p);
        }
    }
    ctx.out(out);
    i32::from(!ok)
}

/// `wc [-lwcm] [file…]`.
#[allow(clippy::many_single_char_names)]
pub(crate) fn wc(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "lwcmL",
        "",
        &[
            ("lines", 'l'),
            ("words", 'w'),
            ("bytes", 'c'),
            ("chars", 'm'),
        ],
    ) else {
        return 1;
    };
    let (mut l, mut w, mut c) = (a.has('l'), a.has('w'), a.has('c') || a.has('m'));
    if !(l || w || c) {
        (l, w, c) = (true, true, true);
    }
    let from_stdin = a.operands.is_empty();
    let mut rows = Vec::new();
    let mut ok = true;
    for f in if from_stdin {
        vec!["-".to_owned()]
    } else {
        a.operands.clone()
    } {
        let size_only = f != "-" && {
            let p = ctx.abs(&f);
            matches!(ctx.fs_ref().read(&p), Ok(FileData::Simulated { .. }))
        };
        let data = if f == "-" {
            ctx.stdin().to_vec()
        } else {
            match ctx.read_file(&f) {
                Ok(d) => d,
                Err(e) => {
                    ctx.err(format!("wc: {f}: {}\n", e.strerror()));
                    ok = false;
                    continue;
                }
            }
        };
        let bytes = if size_only {
            ctx.fs_ref().stat(&ctx.abs(&f)).map_or(0, |s| s.size)
        } else {
            data.len() as u64
        };
        let nl = data.split(|b| *b == b'\n').count() as u64 - 1;
        let words = String::from_utf8_lossy(&data).split_whitespace().count() as u64;
        rows.push((nl, words, bytes, if from_stdin { String::new() } else { f }));
    }
    if rows.len() > 1 {
        let t = rows
            .iter()
            .fold((0, 0, 0), |acc, r| (acc.0 + r.0, acc.1 + r.1, acc.2 + r.2));
        rows.push((t.0, t.1, t.2, "total".to_owned()));
    }
    let fields = usize::from(l) + usize::from(w) + usize::from(c);
    let width = if fields == 1 && rows.len() == 1 {
        0
    } else if from_stdin {
        7
    } else {
        // GNU wc sizes its columns for the total of the files' sizes.
        rows.iter().map(|r| r.2).sum::<u64>().to_string().len()
    };
    let mut out = String::new();
    for (nl, words, bytes, name) in rows {
        let mut cols = Vec::new();
        if l {
            cols.push(format!("{nl:>width$}"));
        }
        if w {
            cols.push(format!("{words:>width$}"));
        }
        if c {
            cols.push(format!("{bytes:>width$}"));
        }
        if !name.is_empty() {
            cols.push(name);
        }
        out.push_str(&cols.join(" "));
        out.push('\n');
    }
    ctx.out(out);
    i32::from(!ok)
}

/// `tee [-a] file…`.
pub(crate) fn tee(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "ai", "", &[("append", 'a')]) else {
        return 1;
    };
    let data = ctx.stdin().to_vec();
    let mut status = 0;
    for f in &a.operands {
        let p = ctx.abs(f);
        let r = if a.has('a') && ctx.fs_ref().stat(&p).is_ok() {
            let mut old = ctx.read_file(&p).unwrap_or_default();
            old.extend_from_slice(&data);
            ctx.write_file(&p, FileData::Bytes(old), 0o666)
        } else {
            ctx.write_file(&p, FileData::Bytes(data.clone()), 0o666)
        };
        if let Err(e) = r {
            ctx.err(format!("tee: {f}: {}\n", e.strerror()));
            status = 1;
        }
    }
    ctx.out(data);
    status
}

/// `sort [-r] [-n] [-u] [file…]`.
pub(crate) fn sort(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "rnufVbk",
        "kto",
        &[
            ("reverse", 'r'),
            ("numeric-sort", 'n'),
            ("unique", 'u'),
            ("version-sort", 'V'),
        ],
    ) else {
        return 2;
    };
    let (ins, ok) = inputs(ctx, "sort", &a.operands);
    let mut all: Vec<String> = ins.iter().flat_map(|(_, d)| lines(d).0).collect();
    if a.has('n') {
        let key = |s: &str| -> f64 {
            let t: String = s
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                .collect();
            t.parse().unwrap_or(0.0)
        };
        all.sort_by(|x, y| {
            key(x)
                .partial_cmp(&key(y))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(x.cmp(y))
        });
    } else if a.has('f') {
        all.sort_by(|x, y| x.to_lowercase().cmp(&y.to_lowercase()).then(x.cmp(y)));
    } else {
        all.sort();
    }
    if a.has('r') {
        all.reverse();
    }
    if a.has('u') {
        all.dedup();
    }
    let text: String = all.iter().fold(String::new(), |mut s, l| {
        let _ = writeln!(s, "{l}");
        s
    });
    if let Some(o) = a.value('o') {
        let _ = ctx.write_file(o, FileData::Bytes(text.into_bytes()), 0o666);
    } else {
        ctx.out(text);
    }
    if ok { 0 } else { 2 }
}

/// `uniq [-c] [-d] [-u]`.
pub(crate) fn uniq(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "cdu", "", &[("count", 'c')]) else {
        return 1;
    };
    let (ins, ok) = inputs(ctx, "uniq", &a.operands[..a.operands.len().min(1)]);
    let all: Vec<String> = ins.iter().flat_map(|(_, d)| lines(d).0).collect();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for l in all {
        match groups.last_mut() {
            Some((g, n)) if *g == l => *n += 1,
            _ => groups.push((l, 1)),
        }
    }
    let mut out = String::new();
    for (l, n) in groups {
        if (a.has('d') && n < 2) || (a.has('u') && n > 1) {
            continue;
        }
        if a.has('c') {
            let _ = writeln!(out, "{n:>7} {l}");
        } else {
            let _ = writeln!(out, "{l}");
        }
    }
    ctx.out(out);
    i32::from(!ok)
}

fn tr_set(spec: &str) -> Vec<char> {
    let classes = [
        ("[:lower:]", ('a'..='z').collect::<Vec<_>>()),
        ("[:upper:]", ('A'..='Z').collect()),
        ("[:digit:]", ('0'..='9').collect()),
        ("[:space:]", vec![' ', '\t', '\n', '\r', '\x0b', '\x0c']),
        ("[:blank:]", vec![' ', '\t']),
        ("[:alpha:]", ('a'..='z').chain('A'..='Z').collect()),
        (
            "[:alnum:]",
            ('0'..='9').chain('A'..='Z').chain('a'..='z').collect(),
        ),
        (
            "[:punct:]",
            (0u8..128)
                .map(char::from)
                .filter(char::is_ascii_punctuation)
                .collect(),
        ),
    ];
    let (bytes, _) = super::basic::unescape_pub(spec);
    let s = String::from_utf8_lossy(&bytes).into_owned();
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        if let Some((name, set)) = classes.iter().find(|(n, _)| rest.starts_with(n)) {
            out.extend(set);
            i += name.len();
            continue;
        }
        if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i] <= chars[i + 2] {
            out.extend(chars[i]..=chars[i + 2]);
            i += 3;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `tr [-d] [-s] [-c] set1 [set2]`.
pub(crate) fn tr(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "dscC",
        "",
        &[("delete", 'd'), ("squeeze-repeats", 's')],
    ) else {
        return 1;
    };
    let Some(s1) = a.operands.first() else {
        ctx.err("tr: missing operand\nTry 'tr --help' for more information.\n");
        return 1;
    };
    let set1 = tr_set(s1);
    let set2 = a.operands.get(1).map(|s| tr_set(s)).unwrap_or_default();
    let complement = a.has('c') || a.has('C');
    let in1 = |c: char| set1.contains(&c) != complement;
    let input = String::from_utf8_lossy(ctx.stdin()).into_owned();
    let mut out = String::with_capacity(input.len());
    let mut last: Option<char> = None;
    for c in input.chars() {
        let mapped = if a.has('d') {
            if in1(c) {
                continue;
            }
            c
        } else if !set2.is_empty() && in1(c) {
            if complement {
                *set2.last().unwrap_or(&c)
            } else {
                let i = set1.iter().position(|x| *x == c).unwrap_or(0);
                *set2.get(i).or(set2.last()).unwrap_or(&c)
            }
        } else {
            c
        };
        let squeeze_set = if set2.is_empty() || a.has('d') {
            &set1
        } else {
            &set2
        };
        if a.has('s') && last == Some(mapped) && squeeze_set.contains(&mapped) {
            continue;
        }
        last = Some(mapped);
        out.push(mapped);
    }
    ctx.out(out);
    0
}

/// `cut -d delim -f list` or `cut -c list`.
pub(crate) fn cut(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "dfcbs",
        "dfcb",
        &[("delimiter", 'd'), ("fields", 'f'), ("characters", 'c')],
    ) else {
        return 1;
    };
    let list = a.value('f').or(a.value('c')).or(a.value('b'));
    let Some(list) = list else {
        ctx.err("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
        return 1;
    };
    let mut ranges = Vec::new();
    for part in list.split(',') {
        let (lo, hi) = if let Some((l, h)) = part.split_once('-') {
            (l.parse().unwrap_or(1), h.parse().unwrap_or(usize::MAX))
        } else {
            let n = part.parse().unwrap_or(0);
            (n, n)
        };
        if lo == 0 {
            ctx.err("cut: fields and positions are numbered from 1\nTry 'cut --help' for more information.\n");
            return 1;
        }
        ranges.push((lo, hi));
    }
    let pick = |i: usize| ranges.iter().any(|(l, h)| (*l..=*h).contains(&i));
    let delim = a.value('d').and_then(|d| d.chars().next()).unwrap_or('\t');
    let (ins, ok) = inputs(ctx, "cut", &a.operands);
    let mut out = String::new();
    for (_, data) in ins {
        for line in lines(&data).0 {
            if a.has('f') {
                if !line.contains(delim) {
                    if !a.has('s') {
                        out.push_str(&line);
                        out.push('\n');
                    }
                    continue;
                }
                let fields: Vec<&str> = line
                    .split(delim)
                    .enumerate()
                    .filter(|(i, _)| pick(i + 1))
                    .map(|(_, f)| f)
                    .collect();
                out.push_str(&fields.join(&delim.to_string()));
            } else {
                out.extend(
                    line.chars()
                        .enumerate()
                        .filter(|(i, _)| pick(i + 1))
                        .map(|(_, c)| c),
                );
            }
            out.push('\n');
        }
    }
    ctx.out(out);
    i32::from(!ok)
}

/// `seq [first [step]] last`.
pub(crate) fn seq(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let nums: Vec<i64> = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
    let (first, step, last) = match nums.as_slice() {
        [l] => (1, 1, *l),
        [f, l] => (*f, 1, *l),
        [f, s, l] => (*f, *s, *l),
        _ => {
            ctx.err("seq: missing operand\nTry 'seq --help' for more information.\n");
            return 1;
        }
    };
    if step == 0 {
        ctx.err("seq: invalid Zero increment value: '0'\nTry 'seq --help' for more information.\n");
        return 1;
    }
    let mut out = String::new();
    let mut v = first;
    while (step > 0 && v <= last) || (step < 0 && v >= last) {
        out.push_str(&v.to_string());
        out.push('\n');
        if out.len() > ctx.limits().max_output {
            ctx.out(out);
            ctx.out(vec![0; ctx.limits().max_output + 1]);
            return 1;
        }
        v += step;
    }
    ctx.out(out);
    0
}

/// `xargs [-n N] [-I R] [-0] [-r] command…`: runs the command with the words of stdin.
pub(crate) fn xargs(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut i = 1;
    let mut per: Option<usize> = None;
    let mut replace: Option<String> = None;
    let mut nul = false;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-n" | "-L" => {
                per = args.get(i + 1).and_then(|v| v.parse().ok());
                i += 2;
            }
            "-I" => {
                replace = args.get(i + 1).cloned();
                i += 2;
            }
            "-0" | "--null" => {
                nul = true;
                i += 1;
            }
            "-r" | "--no-run-if-empty" | "-t" | "-x" => i += 1,
            s if s.starts_with("-n") && s.len() > 2 => {
                per = s[2..].parse().ok();
                i += 1;
            }
            s if s.starts_with("-P") => i += if s.len() > 2 { 1 } else { 2 },
            _ => break,
        }
    }
    let mut cmd: Vec<String> = args[i..].to_vec();
    if cmd.is_empty() {
        cmd.push("echo".to_owned());
    }
    let input = String::from_utf8_lossy(ctx.stdin()).into_owned();
    let words: Vec<String> = if nul {
        input
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    } else if replace.is_some() {
        input
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .collect()
    } else {
        input
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']).to_owned())
            .collect()
    };
    if words.is_empty() {
        return 0;
    }
    let env = ctx.env.clone();
    let mut status = 0;
    let batches: Vec<Vec<String>> = match (&replace, per) {
        (Some(_), _) => words.into_iter().map(|w| vec![w]).collect(),
        (None, Some(n)) if n > 0 => words.chunks(n).map(<[String]>::to_vec).collect(),
        _ => vec![words],
    };
    for batch in batches {
        let argv: Vec<String> = match &replace {
            Some(r) => cmd
                .iter()
                .map(|c| c.replace(r.as_str(), &batch[0]))
                .collect(),
            None => cmd.iter().cloned().chain(batch).collect(),
        };
        let s = ctx.run(&argv, env.clone(), b"");
        if s == 127 || s == 126 {
            return s;
        }
        if s != 0 {
            status = 123;
        }
        if ctx.overflowed() {
            break;
        }
    }
    status
}

/// `readlink [-f] path`.
pub(crate) fn readlink(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "femnqsvz", "", &[("canonicalize", 'f')]) else {
        return 1;
    };
    let mut status = 0;
    for f in &a.operands {
        let p = ctx.abs(f);
        let r = if a.has('f') || a.has('e') || a.has('m') {
            ctx.fs_ref()
                .canonicalize(&p)
                .ok()
                .or_else(|| (a.has('f') || a.has('m')).then(|| p.clone()))
        } else {
            ctx.fs_ref().read_link(&p).ok().map(str::to_owned)
        };
        match r {
            Some(t) => ctx.out(format!("{t}\n")),
            None => status = 1,
        }
    }
    status
}

/// `stat -c FORMAT file…` for `%a %A %U %G %u %g %s %n %F`, or a short summary.
pub(crate) fn stat(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "cLf",
        "c",
        &[("format", 'c'), ("dereference", 'L')],
    ) else {
        return 1;
    };
    let mut status = 0;
    for f in &a.operands {
        let p = ctx.abs(f);
        let st = if a.has('L') {
            ctx.fs_ref().stat(&p)
        } else {
            ctx.fs_ref().lstat(&p)
        };
        let st = match st {
            Ok(s) => s,
            Err(e) => {
                report(ctx, "stat", "cannot statx", f, &e);
                status = 1;
                continue;
            }
        };
        let fmt = a
            .value('c')
            .unwrap_or("  File: %n\n  Size: %s\nAccess: (%04a/%A)  Uid: (%u/%U)   Gid: (%g/%G)")
            .to_owned();
        let mut out = String::new();
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let mut width = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                width.push(*d);
                chars.next();
            }
            let v = match chars.next() {
                Some('a') => format!("{:o}", st.mode),
                Some('A') => format!(
                    "{}{}",
                    st.file_type.ls_char(),
                    super::files::mode_string(st.mode)
                ),
                Some('u') => st.uid.to_string(),
                Some('g') => st.gid.to_string(),
                Some('U') => super::user_name(ctx, st.uid).unwrap_or_else(|| "UNKNOWN".to_owned()),
                Some('G') => super::group_name(ctx, st.gid).unwrap_or_else(|| "UNKNOWN".to_owned()),
                Some('s') => st.size.to_string(),
                Some('n') => f.clone(),
                Some('Y') => st.mtime.to_string(),
                Some('F') => match st.file_type {
                    FileType::Dir => "directory".to_owned(),
                    FileType::Symlink => "symbolic link".to_owned(),
                    FileType::File if st.size == 0 => "regular empty file".to_owned(),
                    FileType::File => "regular file".to_owned(),
                },
                Some('%') => "%".to_owned(),
                Some(o) => format!("?{o}"),
                None => String::new(),
            };
            if width.starts_with('0') {
                let w: usize = width.parse().unwrap_or(0);
                let _ = write!(out, "{v:0>w$}");
            } else {
                out.push_str(&v);
            }
        }
        out.push('\n');
        ctx.out(out);
    }
    status
}

/// `date [+FORMAT]` from the simulated clock (UTC).
#[allow(clippy::many_single_char_names)]
pub(crate) fn date(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = ctx.now();
    let (y, mo, d, h, mi, s) = super::files::civil(t);
    let fmt = args
        .iter()
        .skip(1)
        .find_map(|a| a.strip_prefix('+'))
        .unwrap_or("%a %b %e %H:%M:%S UTC %Y");
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('m') => {
                let _ = write!(out, "{mo:02}");
            }
            Some('d') => {
                let _ = write!(out, "{d:02}");
            }
            Some('e') => {
                let _ = write!(out, "{d:>2}");
            }
            Some('H') => {
                let _ = write!(out, "{h:02}");
            }
            Some('M') => {
                let _ = write!(out, "{mi:02}");
            }
            Some('S') => {
                let _ = write!(out, "{s:02}");
            }
            Some('s') => out.push_str(&t.to_string()),
            Some('F') => {
                let _ = write!(out, "{y}-{mo:02}-{d:02}");
            }
            Some('T') => {
                let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
            }
            Some('a') => {
                out.push_str(
                    DAYS[usize::try_from(t.div_euclid(86_400).rem_euclid(7)).unwrap_or(0)],
                );
            }
            Some('b') => out.push_str(MONTHS[usize::try_from(mo - 1).unwrap_or(0)]),
            Some('Z') => out.push_str("UTC"),
            Some(o) if o != '%' => {
                out.push('%');
                out.push(o);
            }
            _ => out.push('%'),
        }
    }
    out.push('\n');
    ctx.out(out);
    0
}

/// `mktemp [-d] [template]`: deterministic names (the simulator has no randomness).
pub(crate) fn mktemp(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "dqutp", "p", &[("directory", 'd')]) else {
        return 1;
    };
    let template = a
        .operands
        .first()
        .cloned()
        .unwrap_or_else(|| "/tmp/tmp.XXXXXXXXXX".to_owned());
    let xs = template.chars().rev().take_while(|c| *c == 'X').count();
    let stem = &template[..template.len() - xs];
    for n in 0..10_000u32 {
        let suffix = format!("{n:0>width$}", width = xs.max(1));
        let candidate = format!("{stem}{}", &suffix[suffix.len() - xs.max(1)..]);
        let p = ctx.abs(&candidate);
        if ctx.fs_ref().lstat(&p).is_ok() {
            continue;
        }
        let r = if a.has('d') {
            ctx.fs().mkdir(&p, 0o700)
        } else {
            ctx.fs().write(&p, b"", 0o600)
        };
        return match r {
            Ok(()) => {
                ctx.out(format!("{candidate}\n"));
                0
            }
            Err(e) => {
                ctx.err(format!(
                    "mktemp: failed to create file via template '{template}': {}\n",
                    e.strerror()
                ));
                1
            }
        };
    }
    1
}

#[cfg(test)]
mod tests {
    use super::super::testing::{out, sh};

    #[test]
    fn grep_options() {
        assert_eq!(
            out("grep root /etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\n"
        );
        assert_eq!(out("grep -c x /etc/passwd"), "3\n");
        assert_eq!(
            out("grep -v -e root -e daemon /etc/passwd | cut -d: -f1"),
            "nobody\n"
        );
        assert_eq!(out("grep -iq ROOT /etc/passwd && echo yes"), "yes\n");
        assert_eq!(out("grep -E '^(root|nobody):' /etc/passwd | wc -l"), "2\n");
        assert_eq!(
            out("grep -n daemon /etc/passwd /etc/group"),
            "/etc/passwd:2:daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n/etc/group:2:daemon:x:1:\n"
        );
        assert_eq!(sh("grep nothing /etc/passwd").0, 1);
        assert_eq!(
            sh("grep x /nope").2,
            "grep: /nope: No such file or directory\n"
        );
        assert_eq!(sh("grep x /nope").0, 2);
        assert_eq!(
            out("mkdir -p /s/d && echo needle > /s/d/f && grep -r needle /s"),
            "/s/d/f:needle\n"
        );
        assert_eq!(out("echo a.b | grep -o '[.]b'"), ".b\n");
    }

    #[test]
    fn head_tail_wc() {
        assert_eq!(out("seq 1 20 | head -n 3"), "1\n2\n3\n");
        assert_eq!(out("seq 1 20 | head -3 | tail -1"), "3\n");
        assert_eq!(out("seq 5 | tail -n +4"), "4\n5\n");
        assert_eq!(out("seq 5 | head -n -3"), "1\n2\n");
        assert_eq!(out("printf abcdef | head -c 2"), "ab");
        assert_eq!(out("echo hello world | wc"), "      1       2      12\n");
        assert_eq!(out("wc -l < /etc/passwd"), "3\n");
        assert_eq!(
            out("wc -l /etc/passwd /etc/group"),
            "  3 /etc/passwd\n  3 /etc/group\n  6 total\n"
        );
        assert_eq!(out("wc -c /etc/group"), "39 /etc/group\n");
    }

    #[test]
    fn sort_uniq_tr_cut_tee_xargs() {
        assert_eq!(
            out("printf 'b\\na\\nb\\n' | sort | uniq -c"),
            "      1 a\n      2 b\n"
        );
        assert_eq!(out("printf '10\\n9\\n' | sort -n"), "9\n10\n");
        assert_eq!(
            out("echo Hello | tr a-z A-Z; echo a-b | tr -d -"),
            "HELLO\nab\n"
        );
        assert_eq!(out("echo 'a  b' | tr -s ' '"), "a b\n");
        assert_eq!(out("echo a:b:c | cut -d: -f2-"), "b:c\n");
        assert_eq!(out("echo hi | tee /tmp/t > /dev/null; cat /tmp/t"), "hi\n");
        assert_eq!(
            out("printf '/tmp/a\\n/tmp/b\\n' | xargs touch && ls /tmp"),
            "a\nb\n"
        );
        assert_eq!(out("echo 1 2 3 | xargs -n 1 echo n"), "n 1\nn 2\nn 3\n");
        assert_eq!(
            out("ln -s /etc/passwd /tmp/l; readlink /tmp/l; readlink -f /tmp/l"),
            "/etc/passwd\n/etc/passwd\n"
        );
        assert_eq!(
            out("stat -c '%a %U %F' /etc/passwd"),
            "644 root regular file\n"
        );
        assert_eq!(out("date +%F"), "2023-11-14\n");
        assert_eq!(
            out("d=$(mktemp -d) && test -d $d && echo $d"),
            "/tmp/tmp.0000000000\n"
        );
    }
}
