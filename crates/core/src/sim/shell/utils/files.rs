//! File utilities: cat, ls, mkdir, rmdir, touch, rm, cp, mv, ln, chmod, chown, chgrp — GNU
//! coreutils' behaviour and messages (C locale) on the union filesystem.

use std::fmt::Write as _;

use super::{Args, Ctx, db, group_name, inputs, missing_operand, report, user_name, util_name};
use crate::fs::{FileType, FsError, Stat};

/// `cat [-n] [file…]`.
pub(crate) fn cat(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "nAbesuvET", "", &[("number", 'n')]) else {
        return 1;
    };
    let (ins, ok) = inputs(ctx, "cat", &a.operands);
    let mut line_no = 0;
    for (_, bytes) in ins {
        if a.has('n') {
            let mut out = Vec::new();
            for line in bytes.split_inclusive(|b| *b == b'\n') {
                line_no += 1;
                out.extend(format!("{line_no:>6}\t").as_bytes());
                out.extend(line);
            }
            ctx.out(out);
        } else {
            ctx.out(bytes);
        }
    }
    i32::from(!ok)
}

/// `mkdir [-p] [-m mode] dir…`.
pub(crate) fn mkdir(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "pmv",
        "m",
        &[("parents", 'p'), ("mode", 'm'), ("verbose", 'v')],
    ) else {
        return 1;
    };
    if a.operands.is_empty() {
        return missing_operand(ctx, "mkdir");
    }
    let mode = match a.value('m') {
        Some(m) => {
            if let Some(v) = parse_mode(m, 0o777, true, 0) {
                Some(v)
            } else {
                ctx.err(format!("mkdir: invalid mode '{m}'\n"));
                return 1;
            }
        }
        None => None,
    };
    let base = 0o777 & !ctx.umask();
    let mut status = 0;
    for d in &a.operands {
        let p = ctx.abs(d);
        let r = if a.has('p') {
            match ctx.fs_ref().stat(&p) {
                Ok(s) if s.file_type == FileType::Dir => Ok(()),
                _ => ctx.fs().mkdir_all(&p, base),
            }
        } else {
            ctx.fs().mkdir(&p, base)
        };
        match r {
            Ok(()) => {
                if let Some(m) = mode {
                    let _ = ctx.fs().chmod(&p, m);
                }
                if a.has('v') {
                    ctx.out(format!("mkdir: created directory '{d}'\n"));
                }
            }
            Err(e) => {
                report(ctx, "mkdir", "cannot create directory", d, &e);
                status = 1;
            }
        }
    }
    status
}

/// `rmdir [-p] dir…`.
pub(crate) fn rmdir(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(ctx, args, "pv", "", &[("parents", 'p')]) else {
        return 1;
    };
    if a.operands.is_empty() {
        return missing_operand(ctx, "rmdir");
    }
    let mut status = 0;
    for d in &a.operands {
        let mut cur = d.trim_end_matches('/').to_owned();
        loop {
            let p = ctx.abs(&cur);
            let r = match ctx.fs_ref().lstat(&p) {
                Ok(s) if s.file_type != FileType::Dir => Err(FsError::NotADirectory(p.clone())),
                Ok(_) => ctx.fs().remove(&p),
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                report(ctx, "rmdir", "failed to remove", &cur, &e);
                status = 1;
                break;
            }
            if !a.has('p') {
                break;
            }
            match cur.rfind('/') {
                Some(i) if i > 0 => cur.truncate(i),
                _ => break,
            }
        }
    }
    status
}

/// `touch [-c] file…` (the time is the simulated clock's).
pub(crate) fn touch(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "acmhd",
        "drt",
        &[("no-create", 'c'), ("date", 'd'), ("reference", 'r')],
    ) else {
        return 1;
    };
    if a.operands.is_empty() {
        ctx.err("touch: missing file operand\nTry 'touch --help' for more information.\n");
        return 1;
    }
    let now = ctx.now();
    let mut status = 0;
    for f in &a.operands {
        let p = ctx.abs(f);
        let r = if ctx.fs_ref().stat(&p).is_ok() {
            ctx.fs().set_mtime(&p, now)
        } else if a.has('c') {
            Ok(())
        } else {
            let mode = 0o666 & !ctx.umask();
            ctx.fs().write(&p, b"", mode)
        };
        if let Err(e) = r {
            report(ctx, "touch", "cannot touch", f, &e);
            status = 1;
        }
    }
    status
}

/// `rm [-rfd] path…`.
pub(crate) fn rm(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "rRfdiIv",
        "",
        &[
            ("recursive", 'r'),
            ("force", 'f'),
            ("dir", 'd'),
            ("verbose", 'v'),
            ("no-preserve-root", 'N'),
            ("preserve-root", 'P'),
        ],
    ) else {
        return 1;
    };
    let recursive = a.has('r') || a.has('R');
    let force = a.has('f');
    if a.operands.is_empty() {
        if force {
            return 0;
        }
        return missing_operand(ctx, "rm");
    }
    let mut status = 0;
    for f in &a.operands {
        let base = f
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if recursive && (base == "." || base == "..") {
            ctx.err(format!(
                "rm: refusing to remove '.' or '..' directory: skipping '{f}'\n"
            ));
            status = 1;
            continue;
        }
        let p = ctx.abs(f);
        if recursive && p == "/" && !a.has('N') {
            ctx.err(format!(
                "rm: it is dangerous to operate recursively on '{f}'\nrm: use --no-preserve-root to override this failsafe\n"
            ));
            status = 1;
            continue;
        }
        let st = match ctx.fs_ref().lstat(&p) {
            Ok(s) => s,
            Err(e) => {
                if !force {
                    report(ctx, "rm", "cannot remove", f, &e);
                    status = 1;
                }
                continue;
            }
        };
        let r = if st.file_type == FileType::Dir {
            if recursive {
                ctx.fs().remove_all(&p)
            } else if a.has('d') {
                ctx.fs().remove(&p)
            } else {
                Err(FsError::IsADirectory(p.clone()))
            }
        } else {
            ctx.fs().remove(&p)
        };
        match r {
            Ok(()) if a.has('v') => ctx.out(format!("removed '{f}'\n")),
            Ok(()) => {}
            Err(e) => {
                report(ctx, "rm", "cannot remove", f, &e);
                status = 1;
            }
        }
    }
    status
}

/// How `cp` copies.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy)]
struct CpOpts {
    recursive: bool,
    preserve: bool,
    no_clobber: bool,
    follow_top: bool,
    follow_all: bool,
}

/// `cp [-r|-R|-a] [-p] [-f] [-n] [-L|-P] [-T] src… dst`.
pub(crate) fn cp(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "rRapfnLPdvTuHx",
        "",
        &[
            ("recursive", 'r'),
            ("archive", 'a'),
            ("force", 'f'),
            ("no-clobber", 'n'),
            ("dereference", 'L'),
            ("no-dereference", 'P'),
            ("verbose", 'v'),
            ("preserve", 'p'),
            ("no-target-directory", 'T'),
        ],
    ) else {
        return 1;
    };
    let recursive = a.has('r') || a.has('R') || a.has('a');
    let opts = CpOpts {
        recursive,
        preserve: a.has('a') || a.has('p'),
        no_clobber: a.has('n'),
        follow_top: a.has('L') || a.has('H') || !(recursive || a.has('P') || a.has('d')),
        follow_all: a.has('L'),
    };
    transfer(ctx, &a, "cp", |ctx, src, dst, shown_src, shown_dst| {
        copy_top(ctx, src, dst, shown_src, shown_dst, opts)
    })
}

/// The shared shape of `cp` and `mv`: sources and a destination (a directory when several).
fn transfer(
    ctx: &mut Ctx<'_, '_>,
    a: &Args,
    name: &str,
    mut each: impl FnMut(&mut Ctx<'_, '_>, &str, &str, &str, &str) -> bool,
) -> i32 {
    match a.operands.len() {
        0 => {
            ctx.err(format!(
                "{name}: missing file operand\nTry '{name} --help' for more information.\n"
            ));
            return 1;
        }
        1 => {
            ctx.err(format!(
                "{name}: missing destination file operand after '{}'\nTry '{name} --help' for more information.\n",
                a.operands[0]
            ));
            return 1;
        }
        _ => {}
    }
    let (srcs, dst) = a.operands.split_at(a.operands.len() - 1);
    let dst = &dst[0];
    let dst_abs = ctx.abs(dst);
    let dst_is_dir = !a.has('T')
        && ctx
            .fs_ref()
            .stat(&dst_abs)
            .is_ok_and(|s| s.file_type == FileType::Dir);
    if srcs.len() > 1 && !dst_is_dir {
        ctx.err(format!("{name}: target '{dst}' is not a directory\n"));
        return 1;
    }
    let mut status = 0;
    for s in srcs {
        let src_abs = ctx.abs(s);
        let (target, shown) = if dst_is_dir {
            let base = s
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            (
                format!("{}/{base}", dst_abs.trim_end_matches('/')),
                format!("{}/{base}", dst.trim_end_matches('/')),
            )
        } else {
            (dst_abs.clone(), dst.clone())
        };
        if !each(ctx, &src_abs, &target, s, &shown) {
            status = 1;
        }
    }
    status
}

fn copy_top(
    ctx: &mut Ctx<'_, '_>,
    src: &str,
    dst: &str,
    shown_src: &str,
    shown_dst: &str,
    o: CpOpts,
) -> bool {
    let st = if o.follow_top {
        ctx.fs_ref().stat(src)
    } else {
        ctx.fs_ref().lstat(src)
    };
    let st = match st {
        Ok(s) => s,
        Err(e) => {
            report(ctx, "cp", "cannot stat", shown_src, &e);
            return false;
        }
    };
    if st.file_type == FileType::Dir {
        if !o.recursive {
            ctx.err(format!(
                "cp: -r not specified; omitting directory '{shown_src}'\n"
            ));
            return false;
        }
        let dst_real = ctx
            .fs_ref()
            .canonicalize(dst)
            .unwrap_or_else(|_| dst.to_owned());
        let src_real = ctx
            .fs_ref()
            .canonicalize(src)
            .unwrap_or_else(|_| src.to_owned());
        if dst_real == src_real
            || dst_real.starts_with(&format!("{}/", src_real.trim_end_matches('/')))
        {
            ctx.err(format!(
                "cp: cannot copy a directory, '{shown_src}', into itself, '{shown_dst}'\n"
            ));
            return false;
        }
    } else if ctx.fs_ref().canonicalize(src).ok() == ctx.fs_ref().canonicalize(dst).ok() {
        ctx.err(format!(
            "cp: '{shown_src}' and '{shown_dst}' are the same file\n"
        ));
        return false;
    }
    match copy_entry(ctx, src, dst, &st, o, 0) {
        Ok(()) => true,
        Err((path, what, e)) => {
            ctx.err(format!("cp: {what} '{path}': {}\n", e.strerror()));
            false
        }
    }
}

type CopyErr = (String, &'static str, FsError);

fn copy_entry(
    ctx: &mut Ctx<'_, '_>,
    src: &str,
    dst: &str,
    st: &Stat,
    o: CpOpts,
    depth: usize,
) -> Result<(), CopyErr> {
    if depth > 256 {
        return Err((src.to_owned(), "cannot copy", FsError::Loop(src.to_owned())));
    }
    let existing = ctx.fs_ref().lstat(dst).ok();
    if o.no_clobber && existing.is_some() && st.file_type != FileType::Dir {
        return Ok(());
    }
    let umask = ctx.umask();
    match st.file_type {
        FileType::Symlink => {
            let target = ctx
                .fs_ref()
                .read_link(src)
                .map_err(|e| (src.to_owned(), "cannot read", e))?
                .to_owned();
            if existing.is_some() {
                ctx.fs()
                    .remove(dst)
                    .map_err(|e| (dst.to_owned(), "cannot remove", e))?;
            }
            ctx.fs()
                .symlink(&target, dst)
                .map_err(|e| (dst.to_owned(), "cannot create symbolic link", e))?;
            if o.preserve {
                let _ = ctx.fs().lchown(dst, st.uid, st.gid);
            }
        }
        FileType::File => {
            let data = ctx
                .fs_ref()
                .read(src)
                .map_err(|e| (src.to_owned(), "cannot open", e))?
                .clone();
            if existing
                .as_ref()
                .is_some_and(|e| e.file_type == FileType::Dir)
            {
                return Err((
                    dst.to_owned(),
                    "cannot overwrite directory",
                    FsError::IsADirectory(dst.to_owned()),
                ));
            }
            if data.len() > ctx.limits().max_file_size {
                return Err((
                    dst.to_owned(),
                    "cannot create regular file",
                    FsError::InvalidArgument(dst.to_owned()),
                ));
            }
            let mode = if o.preserve {
                st.mode
            } else {
                st.mode & !umask & 0o777
            };
            ctx.fs()
                .write_data(dst, data, mode)
                .map_err(|e| (dst.to_owned(), "cannot create regular file", e))?;
            if o.preserve {
                let _ = ctx.fs().chown(dst, st.uid, st.gid);
                let _ = ctx.fs().chmod(dst, st.mode);
                let _ = ctx.fs().set_mtime(dst, st.mtime);
            }
        }
        FileType::Dir => {
            match existing {
                Some(e) if e.file_type == FileType::Dir => {}
                Some(_) => {
                    return Err((
                        dst.to_owned(),
                        "cannot overwrite non-directory",
                        FsError::NotADirectory(dst.to_owned()),
                    ));
                }
                None => {
                    ctx.fs()
                        .mkdir(dst, st.mode & !umask & 0o777)
                        .map_err(|e| (dst.to_owned(), "cannot create directory", e))?;
                }
            }
            let children = ctx
                .fs_ref()
                .read_dir(src)
                .map_err(|e| (src.to_owned(), "cannot access", e))?;
            for c in children {
                let s = format!("{}/{}", src.trim_end_matches('/'), c.name);
                let d = format!("{}/{}", dst.trim_end_matches('/'), c.name);
                let cst = if o.follow_all {
                    ctx.fs_ref().stat(&s)
                } else {
                    ctx.fs_ref().lstat(&s)
                };
                let cst = cst.map_err(|e| (s.clone(), "cannot stat", e))?;
                copy_entry(ctx, &s, &d, &cst, o, depth + 1)?;
            }
            if o.preserve {
                let _ = ctx.fs().chown(dst, st.uid, st.gid);
                let _ = ctx.fs().chmod(dst, st.mode);
                let _ = ctx.fs().set_mtime(dst, st.mtime);
            }
        }
    }
    Ok(())
}

/// `install [-d] [-D] [-m mode] [-o owner] [-g group] src… dst`.
pub(crate) fn install(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "dDmogcsvpCt",
        "mogt",
        &[
            ("directory", 'd'),
            ("mode", 'm'),
            ("owner", 'o'),
            ("group", 'g'),
        ],
    ) else {
        return 1;
    };
    let mode = match a.value('m') {
        Some(m) => {
            if let Some(v) = parse_mode(m, 0o755, a.has('d'), 0) {
                v
            } else {
                ctx.err(format!("install: invalid mode '{m}'\n"));
                return 1;
            }
        }
        None => 0o755,
    };
    let spec = match (a.value('o'), a.value('g')) {
        (None, None) => None,
        (o, g) => Some(format!(
            "{}:{}",
            o.unwrap_or_default(),
            g.unwrap_or_default()
        )),
    };
    let owner = match spec
        .as_deref()
        .map(|s| owner_spec(ctx, s.trim_end_matches(':')))
    {
        None => None,
        Some(Ok(ids)) => Some(ids),
        Some(Err(msg)) => {
            ctx.err(format!("install: {msg}\n"));
            return 1;
        }
    };
    let set_meta = |ctx: &mut Ctx<'_, '_>, p: &str| {
        let _ = ctx.fs().chmod(p, mode);
        if let Some((u, g)) = owner
            && let Ok(st) = ctx.fs_ref().stat(p)
        {
            let _ = ctx.fs().chown(p, u.unwrap_or(st.uid), g.unwrap_or(st.gid));
        }
    };
    if a.has('d') {
        if a.operands.is_empty() {
            return missing_operand(ctx, "install");
        }
        for d in &a.operands {
            let p = ctx.abs(d);
            if let Err(e) = ctx.fs().mkdir_all(&p, 0o755) {
                report(ctx, "install", "cannot create directory", d, &e);
                return 1;
            }
            set_meta(ctx, &p);
        }
        return 0;
    }
    let mut ops = a.operands.clone();
    if let Some(t) = a.value('t') {
        ops.push(t.to_owned());
    }
    if ops.len() < 2 {
        return missing_operand(ctx, "install");
    }
    let dst = ops.pop().unwrap_or_default();
    let dst_abs = ctx.abs(&dst);
    if a.has('D')
        && let Some((parent, _)) = dst_abs.rsplit_once('/')
    {
        let _ = ctx
            .fs()
            .mkdir_all(if parent.is_empty() { "/" } else { parent }, 0o755);
    }
    let into_dir = ctx
        .fs_ref()
        .stat(&dst_abs)
        .is_ok_and(|s| s.file_type == FileType::Dir);
    for src in &ops {
        let sp = ctx.abs(src);
        let data = match ctx.fs_ref().read(&sp) {
            Ok(d) => d.clone(),
            Err(e) => {
                report(ctx, "install", "cannot stat", src, &e);
                return 1;
            }
        };
        let target = if into_dir {
            format!(
                "{}/{}",
                dst_abs.trim_end_matches('/'),
                src.rsplit('/').next().unwrap_or(src)
            )
        } else {
            dst_abs.clone()
        };
        let _ = ctx.fs().remove(&target);
        if let Err(e) = ctx.fs().write_data(&target, data, mode) {
            report(ctx, "install", "cannot create regular file", &dst, &e);
            return 1;
        }
        set_meta(ctx, &target);
    }
    0
}

/// `mv [-f] [-n] [-T] src… dst`.
pub(crate) fn mv(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "fnivTu",
        "",
        &[
            ("force", 'f'),
            ("no-clobber", 'n'),
            ("verbose", 'v'),
            ("no-target-directory", 'T'),
        ],
    ) else {
        return 1;
    };
    let no_clobber = a.has('n');
    transfer(ctx, &a, "mv", |ctx, src, dst, shown_src, shown_dst| {
        if let Err(e) = ctx.fs_ref().lstat(src) {
            report(ctx, "mv", "cannot stat", shown_src, &e);
            return false;
        }
        if no_clobber && ctx.fs_ref().lstat(dst).is_ok() {
            return true;
        }
        if src == dst {
            ctx.err(format!(
                "mv: '{shown_src}' and '{shown_dst}' are the same file\n"
            ));
            return false;
        }
        if dst.starts_with(&format!("{src}/")) {
            ctx.err(format!(
                "mv: cannot move '{shown_src}' to a subdirectory of itself, '{shown_dst}'\n"
            ));
            return false;
        }
        match ctx.fs().rename(src, dst) {
            Ok(()) => true,
            Err(e) => {
                ctx.err(format!(
                    "mv: cannot move '{shown_src}' to '{shown_dst}': {}\n",
                    e.strerror()
                ));
                false
            }
        }
    })
}

/// `ln [-s] [-f] [-n] target… link`.
pub(crate) fn ln(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "sfnvTrL",
        "",
        &[
            ("symbolic", 's'),
            ("force", 'f'),
            ("no-dereference", 'n'),
            ("verbose", 'v'),
            ("relative", 'r'),
        ],
    ) else {
        return 1;
    };
    let ops = &a.operands;
    if ops.is_empty() {
        ctx.err("ln: missing file operand\nTry 'ln --help' for more information.\n");
        return 1;
    }
    let (targets, link): (Vec<&String>, Option<&String>) = if ops.len() == 1 {
        (vec![&ops[0]], None)
    } else {
        (ops[..ops.len() - 1].iter().collect(), ops.last())
    };
    let link_dir = link.map(|l| ctx.abs(l)).filter(|l| {
        let st = if a.has('n') {
            ctx.fs_ref().lstat(l)
        } else {
            ctx.fs_ref().stat(l)
        };
        st.is_ok_and(|s| s.file_type == FileType::Dir)
    });
    if targets.len() > 1 && link_dir.is_none() {
        ctx.err(format!(
            "ln: target '{}' is not a directory\n",
            link.map_or("", |l| l.as_str())
        ));
        return 1;
    }
    let mut status = 0;
    for t in targets {
        let base = t
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let (path, shown) = match (&link_dir, link) {
            (Some(d), Some(l)) => (
                format!("{}/{base}", d.trim_end_matches('/')),
                format!("{}/{base}", l.trim_end_matches('/')),
            ),
            (None, Some(l)) => (ctx.abs(l), l.clone()),
            _ => (ctx.abs(&base), base.clone()),
        };
        if a.has('f')
            && ctx
                .fs_ref()
                .lstat(&path)
                .is_ok_and(|s| s.file_type != FileType::Dir)
        {
            let _ = ctx.fs().remove(&path);
        }
        let r = if a.has('s') {
            ctx.fs().symlink(t, &path)
        } else {
            let src = ctx.abs(t);
            ctx.fs().hardlink(&src, &path)
        };
        if let Err(e) = r {
            if a.has('s') {
                report(ctx, "ln", "failed to create symbolic link", &shown, &e);
            } else if matches!(e, FsError::NotFound(_)) && ctx.fs_ref().lstat(&ctx.abs(t)).is_err()
            {
                report(ctx, "ln", "failed to access", t, &e);
            } else {
                ctx.err(format!(
                    "ln: failed to create hard link '{shown}' => '{t}': {}\n",
                    e.strerror()
                ));
            }
            status = 1;
        }
    }
    status
}

/// Applies an octal or symbolic mode (`755`, `u+x,go-w`, `a=rX`) to `current`; `None` when
/// the mode does not parse.
pub(crate) fn parse_mode(spec: &str, current: u32, is_dir: bool, umask: u32) -> Option<u32> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) {
        let v = u32::from_str_radix(spec, 8).ok()?;
        if v > 0o7777 {
            return None;
        }
        // GNU keeps a directory's setuid/setgid bits unless the octal mode names them.
        let keep = if is_dir && spec.len() <= 3 {
            current & 0o6000
        } else {
            0
        };
        return Some(v | keep);
    }
    let mut mode = current & 0o7777;
    for clause in spec.split(',') {
        let chars: Vec<char> = clause.chars().collect();
        let mut i = 0;
        let mut who = 0u32;
        while let Some(&c) = chars.get(i) {
            match c {
                'u' => who |= 0o4700,
                'g' => who |= 0o2070,
                'o' => who |= 0o1007,
                'a' => who |= 0o7777,
                _ => break,
            }
            i += 1;
        }
        let explicit = who != 0;
        if !explicit {
            who = 0o7777;
        }
        if i >= chars.len() {
            return None;
        }
        while i < chars.len() {
            let op = chars[i];
            if !matches!(op, '+' | '-' | '=') {
                return None;
            }
            i += 1;
            let mut bits = 0u32;
            while let Some(&c) = chars.get(i) {
                bits |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' if is_dir || mode & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    't' => 0o1000,
                    'u' => copy_class(mode, 6),
                    'g' => copy_class(mode, 3),
                    'o' => copy_class(mode, 0),
                    '+' | '-' | '=' => break,
                    _ => return None,
                };
                i += 1;
            }
            let mut mask = who & bits;
            if !explicit {
                mask &= !umask | 0o7000;
            }
            match op {
                '+' => mode |= mask,
                '-' => mode &= !mask,
                _ => {
                    let clear = if explicit {
                        who & 0o777 | (who & 0o7000 & !0o1000 & if is_dir { 0 } else { 0o7777 })
                    } else {
                        0o777
                    };
                    mode = (mode & !clear) | mask;
                }
            }
        }
    }
    Some(mode)
}

fn copy_class(mode: u32, shift: u32) -> u32 {
    let bits = (mode >> shift) & 7;
    bits << 6 | bits << 3 | bits
}

/// `chmod [-R] mode file…`.
pub(crate) fn chmod(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    // Modes like `-w` look like options: take them as the mode when nothing else matches.
    let mut recursive = false;
    let mut verbose = false;
    let mut rest = Vec::new();
    let mut mode: Option<String> = None;
    for a in &args[1..] {
        match a.as_str() {
            "-R" | "--recursive" => recursive = true,
            "-v" | "-c" | "-f" | "--verbose" | "--changes" | "--silent" | "--quiet" => {
                verbose |= a == "-v";
            }
            _ if mode.is_none() => mode = Some(a.clone()),
            _ => rest.push(a.clone()),
        }
    }
    let Some(mode) = mode else {
        return missing_operand(ctx, "chmod");
    };
    if rest.is_empty() {
        ctx.err(format!(
            "chmod: missing operand after '{mode}'\nTry 'chmod --help' for more information.\n"
        ));
        return 1;
    }
    if parse_mode(&mode, 0, false, 0).is_none() {
        ctx.err(format!(
            "chmod: invalid mode: '{mode}'\nTry 'chmod --help' for more information.\n"
        ));
        return 1;
    }
    let umask = ctx.umask();
    let mut status = 0;
    for f in &rest {
        let p = ctx.abs(f);
        let targets: Vec<(String, Stat)> = if recursive {
            match ctx.fs_ref().walk(&p) {
                Ok(w) => w,
                Err(e) => {
                    report(ctx, "chmod", "cannot access", f, &e);
                    status = 1;
                    continue;
                }
            }
        } else {
            match ctx.fs_ref().stat(&p) {
                Ok(s) => vec![(p.clone(), s)],
                Err(e) => {
                    report(ctx, "chmod", "cannot access", f, &e);
                    status = 1;
                    continue;
                }
            }
        };
        for (i, (path, st)) in targets.into_iter().enumerate() {
            if i > 0 && st.file_type == FileType::Symlink {
                continue;
            }
            let st = if st.file_type == FileType::Symlink {
                ctx.fs_ref().stat(&path).unwrap_or(st)
            } else {
                st
            };
            let new =
                parse_mode(&mode, st.mode, st.file_type == FileType::Dir, umask).unwrap_or(st.mode);
            if let Err(e) = ctx.fs().chmod(&path, new) {
                report(ctx, "chmod", "changing permissions of", f, &e);
                status = 1;
            } else if verbose {
                ctx.out(format!("mode of '{f}' retained as {new:04o}\n"));
            }
        }
    }
    status
}

/// Resolves `user[:group]` to IDs from `/etc/passwd` and `/etc/group`; the error names the
/// part that failed as chown does.
fn owner_spec(ctx: &Ctx<'_, '_>, spec: &str) -> Result<(Option<u32>, Option<u32>), String> {
    let (user, group) = match spec.split_once([':', '.']) {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = db(ctx, "/etc/passwd");
    let groups = db(ctx, "/etc/group");
    let mut uid = None;
    let mut login_gid = None;
    if !user.is_empty() {
        match passwd.iter().find(|f| f.len() > 3 && f[0] == user) {
            Some(f) => {
                uid = f[2].parse().ok();
                login_gid = f[3].parse().ok();
            }
            None => match user.parse::<u32>() {
                Ok(n) => uid = Some(n),
                Err(_) => return Err(format!("invalid user: '{spec}'")),
            },
        }
    }
    let gid = match group {
        None => None,
        Some("") => login_gid,
        Some(g) => match groups.iter().find(|f| f.len() > 2 && f[0] == g) {
            Some(f) => f[2].parse().ok(),
            None => match g.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => return Err(format!("invalid group: '{spec}'")),
            },
        },
    };
    Ok((uid, gid))
}

/// `chown [-R] [-h] user[:group] file…`.
pub(crate) fn chown(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    change_owner(ctx, args, false)
}

/// `chgrp [-R] group file…`.
pub(crate) fn chgrp(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    change_owner(ctx, args, true)
}

#[allow(clippy::many_single_char_names)]
fn change_owner(ctx: &mut Ctx<'_, '_>, args: &[String], group_only: bool) -> i32 {
    let name = util_name(args);
    let Ok(a) = Args::parse(
        ctx,
        args,
        "RhvcfHLP",
        "",
        &[
            ("recursive", 'R'),
            ("no-dereference", 'h'),
            ("verbose", 'v'),
        ],
    ) else {
        return 1;
    };
    let Some((spec, files)) = a.operands.split_first() else {
        return missing_operand(ctx, &name);
    };
    if files.is_empty() {
        ctx.err(format!(
            "{name}: missing operand after '{spec}'\nTry '{name} --help' for more information.\n"
        ));
        return 1;
    }
    let spec = if group_only {
        format!(":{spec}")
    } else {
        spec.clone()
    };
    let (uid, gid) = match owner_spec(ctx, &spec) {
        Ok(ids) => ids,
        Err(msg) => {
            let msg = if group_only {
                msg.replace("':", "'").replace("group: ':", "group: '")
            } else {
                msg
            };
            ctx.err(format!("{name}: {msg}\n"));
            return 1;
        }
    };
    let mut status = 0;
    for f in files {
        let p = ctx.abs(f);
        let targets = if a.has('R') {
            ctx.fs_ref().walk(&p)
        } else if a.has('h') {
            ctx.fs_ref().lstat(&p).map(|s| vec![(p.clone(), s)])
        } else {
            ctx.fs_ref().stat(&p).map(|s| vec![(p.clone(), s)])
        };
        let targets = match targets {
            Ok(t) => t,
            Err(e) => {
                report(ctx, &name, "cannot access", f, &e);
                status = 1;
                continue;
            }
        };
        for (i, (path, st)) in targets.into_iter().enumerate() {
            let u = uid.unwrap_or(st.uid);
            let g = gid.unwrap_or(st.gid);
            let r = if st.file_type == FileType::Symlink && (i > 0 || a.has('h')) {
                ctx.fs().lchown(&path, u, g)
            } else {
                let cur = ctx.fs_ref().stat(&path);
                let (u, g) = match cur {
                    Ok(c) => (uid.unwrap_or(c.uid), gid.unwrap_or(c.gid)),
                    Err(_) => (u, g),
                };
                ctx.fs().chown(&path, u, g)
            };
            if let Err(e) = r {
                report(ctx, &name, "changing ownership of", f, &e);
                status = 1;
            }
        }
    }
    status
}

/// `ls [-laA1Rdh]`.
pub(crate) fn ls(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Ok(a) = Args::parse(
        ctx,
        args,
        "laA1RdhFtSrnCgo",
        "",
        &[
            ("all", 'a'),
            ("almost-all", 'A'),
            ("recursive", 'R'),
            ("directory", 'd'),
            ("human-readable", 'h'),
            ("color", 'Z'),
        ],
    ) else {
        return 2;
    };
    let mut operands = a.operands.clone();
    if operands.is_empty() {
        operands.push(".".to_owned());
    }
    let long = a.has('l') || a.has('n') || a.has('g') || a.has('o');
    let mut status = 0;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for o in &operands {
        let p = ctx.abs(o);
        let st = if long || a.has('d') {
            ctx.fs_ref().lstat(&p)
        } else {
            ctx.fs_ref().stat(&p)
        };
        let st = match st {
            // `ls -l link-to-dir` shows the link; `ls -l link-to-dir/` lists the directory.
            Ok(s) if s.file_type == FileType::Symlink && (o.ends_with('/') || !long) => {
                ctx.fs_ref().stat(&p).unwrap_or(s)
            }
            Ok(s) => s,
            Err(e) => {
                report(ctx, "ls", "cannot access", o, &e);
                status = 2;
                continue;
            }
        };
        if st.file_type == FileType::Dir && !a.has('d') {
            dirs.push((o.clone(), p));
        } else {
            files.push((o.clone(), p, st));
        }
    }
    files.sort_by(|x, y| x.0.cmp(&y.0));
    dirs.sort_by(|x, y| x.0.cmp(&y.0));
    let mut out = String::new();
    if !files.is_empty() {
        let rows: Vec<(String, String, Stat)> = files.into_iter().collect();
        out.push_str(&format_entries(ctx, &rows, &a, false));
    }
    let headers = dirs.len() + usize::from(!out.is_empty()) > 1 || a.has('R');
    let mut first = out.is_empty();
    let mut queue: Vec<(String, String)> = dirs.into_iter().rev().collect();
    let mut listed = 0;
    while let Some((shown, p)) = queue.pop() {
        listed += 1;
        if listed > 100_000 || out.len() > ctx.limits().max_output {
            break;
        }
        if !first {
            out.push('\n');
        }
        first = false;
        if headers {
            let _ = writeln!(out, "{shown}:");
        }
        let entries = match ctx.fs_ref().read_dir(&p) {
            Ok(e) => e,
            Err(e) => {
                report(ctx, "ls", "cannot open directory", &shown, &e);
                status = 2;
                continue;
            }
        };
        let mut rows = Vec::new();
        if a.has('a') {
            for dot in [".", ".."] {
                let dp = crate::sim::shell::exec::absolute(&p, dot);
                if let Ok(s) = ctx.fs_ref().stat(&dp) {
                    rows.push((dot.to_owned(), dp, s));
                }
            }
        }
        let mut subdirs = Vec::new();
        for e in entries {
            if e.name.starts_with('.') && !(a.has('a') || a.has('A')) {
                continue;
            }
            let ep = format!("{}/{}", p.trim_end_matches('/'), e.name);
            if let Ok(s) = ctx.fs_ref().lstat(&ep) {
                if a.has('R') && s.file_type == FileType::Dir {
                    let sub = if shown.ends_with('/') {
                        format!("{shown}{}", e.name)
                    } else {
                        format!("{shown}/{}", e.name)
                    };
                    subdirs.push((sub, ep.clone()));
                }
                rows.push((e.name.clone(), ep, s));
            }
        }
        out.push_str(&format_entries(ctx, &rows, &a, true));
        queue.extend(subdirs.into_iter().rev());
    }
    ctx.out(out);
    status
}

fn format_entries(
    ctx: &Ctx<'_, '_>,
    rows: &[(String, String, Stat)],
    a: &Args,
    total: bool,
) -> String {
    let mut rows: Vec<&(String, String, Stat)> = rows.iter().collect();
    if a.has('t') {
        rows.sort_by(|x, y| y.2.mtime.cmp(&x.2.mtime).then(x.0.cmp(&y.0)));
    } else if a.has('S') {
        rows.sort_by(|x, y| y.2.size.cmp(&x.2.size).then(x.0.cmp(&y.0)));
    }
    if a.has('r') {
        rows.reverse();
    }
    let long = a.has('l') || a.has('n') || a.has('g') || a.has('o');
    let classify = |name: &str, s: &Stat| -> String {
        if !a.has('F') {
            return name.to_owned();
        }
        let suffix = match s.file_type {
            FileType::Dir => "/",
            FileType::Symlink => "@",
            FileType::File if s.mode & 0o111 != 0 => "*",
            FileType::File => "",
        };
        format!("{name}{suffix}")
    };
    if !long {
        return rows.iter().fold(String::new(), |mut out, (n, _, s)| {
            let _ = writeln!(out, "{}", classify(n, s));
            out
        });
    }
    let mut cols: Vec<[String; 6]> = Vec::new();
    let mut blocks = 0;
    for (name, path, s) in &rows {
        let size = display_size(s);
        blocks += size.div_ceil(4096) * 4;
        let nlink = if s.file_type == FileType::Dir {
            2 + ctx.fs_ref().read_dir(path).map_or(0, |e| {
                e.iter().filter(|d| d.file_type == FileType::Dir).count()
            })
        } else {
            s.nlink
        };
        let numeric = a.has('n');
        let user = if numeric {
            s.uid.to_string()
        } else {
            user_name(ctx, s.uid).unwrap_or_else(|| s.uid.to_string())
        };
        let group = if numeric {
            s.gid.to_string()
        } else {
            group_name(ctx, s.gid).unwrap_or_else(|| s.gid.to_string())
        };
        let size_text = if a.has('h') {
            human(size)
        } else {
            size.to_string()
        };
        let mut shown = classify(name, s);
        if s.file_type == FileType::Symlink
            && let Ok(t) = ctx.fs_ref().read_link(path)
        {
            shown = format!("{name} -> {t}");
        }
        cols.push([
            format!("{}{}", s.file_type.ls_char(), mode_string(s.mode)),
            nlink.to_string(),
            user,
            group,
            size_text,
            format!("{} {shown}", ls_time(s.mtime, ctx.now())),
        ]);
    }
    let w = |i: usize| cols.iter().map(|c| c[i].len()).max().unwrap_or(0);
    let (wl, wu, wg, ws) = (w(1), w(2), w(3), w(4));
    let mut out = String::new();
    if total {
        let t = if a.has('h') {
            human(blocks * 1024)
        } else {
            blocks.to_string()
        };
        let _ = writeln!(out, "total {t}");
    }
    for c in cols {
        let owner = if a.has('g') {
            format!("{:<wg$}", c[3])
        } else if a.has('o') {
            format!("{:<wu$}", c[2])
        } else {
            format!("{:<wu$} {:<wg$}", c[2], c[3])
        };
        let _ = writeln!(out, "{} {:>wl$} {owner} {:>ws$} {}", c[0], c[1], c[4], c[5]);
    }
    out
}

/// The size `ls -l` shows: 4096 for a directory, as on ext4 and overlayfs.
fn display_size(s: &Stat) -> u64 {
    if s.file_type == FileType::Dir {
        4096
    } else {
        s.size
    }
}

fn human(n: u64) -> String {
    if n < 1024 {
        return n.to_string();
    }
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64;
    for unit in ["K", "M", "G", "T"] {
        v /= 1024.0;
        if v < 1024.0 {
            return if v < 10.0 {
                format!("{:.1}{unit}", (v * 10.0).ceil() / 10.0)
            } else {
                format!("{}{unit}", v.ceil())
            };
        }
    }
    format!("{}P", (v / 1024.0).ceil())
}

/// `rwxr-xr-x` with setuid, setgid and sticky letters.
pub(crate) fn mode_string(mode: u32) -> String {
    let mut s = String::with_capacity(9);
    for (i, special, letter) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (mode >> i) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let x = bits & 1 != 0;
        s.push(match (mode & special != 0, x) {
            (true, true) => letter,
            (true, false) => letter.to_ascii_uppercase(),
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// `Nov 26 21:11`, or `Nov 26  2025` for times more than six months away from `now`.
pub(crate) fn ls_time(t: i64, now: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, hh, mm, _) = civil(t);
    let recent = t <= now + 3600 && now - t < 15_778_476;
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0)];
    if recent {
        format!("{month} {d:>2} {hh:02}:{mm:02}")
    } else {
        format!("{month} {d:>2}  {y}")
    }
}

/// Calendar date and time (UTC) of a Unix time.
#[allow(clippy::many_single_char_names)]
pub(crate) fn civil(t: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 { y + 1 } else { y },
        m,
        d,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_fs, sh, sh_on};
    use super::parse_mode;

    #[test]
    fn mkdir_touch_rm() {
        let (s, out, err) =
            sh("mkdir -p /app/a/b && touch /app/a/b/f && ls /app/a/b && rm -r /app/a && ls /app");
        assert_eq!((s, out.as_str(), err.as_str()), (0, "f\n", ""));
        let (s, _, err) = sh("mkdir /x/y");
        assert_eq!(
            (s, err.as_str()),
            (
                1,
                "mkdir: cannot create directory '/x/y': No such file or directory\n"
            )
        );
        assert_eq!(
            sh("mkdir /etc").2,
            "mkdir: cannot create directory '/etc': File exists\n"
        );
        assert_eq!(
            sh("rm /nope").2,
            "rm: cannot remove '/nope': No such file or directory\n"
        );
        assert_eq!(sh("rm -f /nope; echo $?").1, "0\n");
        assert_eq!(
            sh("rm /etc").2,
            "rm: cannot remove '/etc': Is a directory\n"
        );
        assert_eq!(
            sh("rmdir /etc").2,
            "rmdir: failed to remove '/etc': Directory not empty\n"
        );
        assert_eq!(
            sh("rm -rf /").2,
            "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n"
        );
        assert_eq!(
            sh("mkdir").2,
            "mkdir: missing operand\nTry 'mkdir --help' for more information.\n"
        );
        assert_eq!(
            sh("rm -z x").2,
            "rm: invalid option -- 'z'\nTry 'rm --help' for more information.\n"
        );
    }

    #[test]
    fn cp_mv_ln() {
        let script = "mkdir -p /src/d && echo hi > /src/d/f && ln -s f /src/d/l && cp -a /src /dst && cat /dst/d/f && ls /dst/d && readlink_ok=1";
        let (s, out, err) = sh(script);
        assert_eq!((s, out.as_str(), err.as_str()), (0, "hi\nf\nl\n", ""));
        assert_eq!(
            sh("mkdir /d; cp /d /e").2,
            "cp: -r not specified; omitting directory '/d'\n"
        );
        assert_eq!(
            sh("cp /nope /tmp").2,
            "cp: cannot stat '/nope': No such file or directory\n"
        );
        assert_eq!(
            sh("echo x > /tmp/a; cp /tmp/a /tmp/b /etc/passwd").2,
            "cp: target '/etc/passwd' is not a directory\n"
        );
        assert_eq!(
            sh("echo x > /tmp/a; mv /tmp/a /tmp/b; cat /tmp/b; ls /tmp").1,
            "x\nb\n"
        );
        assert_eq!(
            sh("cd /tmp && echo x > a && cp a /root && ls /root").1,
            "a\n"
        );
        assert_eq!(
            sh("ln -s /etc/passwd /tmp/p && cat /tmp/p | head -n 1").1,
            "root:x:0:0:root:/root:/bin/sh\n"
        );
        assert_eq!(
            sh("ln -s a /tmp/p; ln -s b /tmp/p").2,
            "ln: failed to create symbolic link '/tmp/p': File exists\n"
        );
        assert!(
            sh("ln -s a /tmp/p; ln -sf b /tmp/p; ls -l /tmp/p")
                .1
                .ends_with("/tmp/p -> b\n")
        );
    }

    #[test]
    fn modes_octal_and_symbolic() {
        assert_eq!(parse_mode("755", 0o644, false, 0o022), Some(0o755));
        assert_eq!(parse_mode("+x", 0o644, false, 0o022), Some(0o755));
        assert_eq!(parse_mode("u+x,go-r", 0o644, false, 0o022), Some(0o700));
        assert_eq!(parse_mode("a=rX", 0o750, true, 0o022), Some(0o555));
        assert_eq!(parse_mode("g+s", 0o755, true, 0o022), Some(0o2755));
        assert_eq!(parse_mode("o=", 0o777, false, 0o022), Some(0o770));
        assert_eq!(parse_mode("u=rwx,g=rx,o=", 0o777, false, 0), Some(0o750));
        assert_eq!(parse_mode("bogus", 0, false, 0), None);
        let (s, out, _) = sh("touch /tmp/f && chmod 4755 /tmp/f && ls -l /tmp/f");
        assert_eq!(s, 0);
        assert!(out.starts_with("-rwsr-xr-x 1 root root 0 "), "{out}");
        assert_eq!(
            sh("chmod 999 /tmp").2,
            "chmod: invalid mode: '999'\nTry 'chmod --help' for more information.\n"
        );
    }

    #[test]
    fn chown_resolves_names() {
        let mut fs = base_fs();
        let out = sh_on(
            &mut fs,
            "mkdir -p /srv/a && touch /srv/a/f && chown -R daemon:nogroup /srv",
        );
        assert_eq!(out.status, 0, "{out}");
        let st = fs.stat("/srv/a/f").unwrap();
        assert_eq!((st.uid, st.gid), (1, 65534));
        let out = sh_on(
            &mut fs,
            "chown nobody: /srv && chown :root /srv/a && chown 5:6 /srv/a/f",
        );
        assert_eq!(out.status, 0);
        assert_eq!(
            (fs.stat("/srv").unwrap().uid, fs.stat("/srv").unwrap().gid),
            (65534, 65534)
        );
        assert_eq!(fs.stat("/srv/a").unwrap().gid, 0);
        assert_eq!(fs.stat("/srv/a/f").unwrap().uid, 5);
        let out = sh_on(&mut fs, "chown app /srv");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr()),
            "chown: invalid user: 'app'\n"
        );
    }

    #[test]
    fn ls_long_format() {
        let (_, out, _) = sh("mkdir -p /w/sub && printf 12345 > /w/f && ls -la /w");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "total 16");
        assert!(
            lines[1].starts_with("drwxr-xr-x 3 root root 4096 Nov 14 22:13 ."),
            "{out}"
        );
        assert!(
            lines[3].starts_with("-rw-r--r-- 1 root root    5 Nov 14 22:13 f"),
            "{out}"
        );
        assert!(lines[4].ends_with(" sub"));
        assert_eq!(
            sh("ls /nope").2,
            "ls: cannot access '/nope': No such file or directory\n"
        );
        assert_eq!(sh("ls /nope").0, 2);
        assert_eq!(
            sh("mkdir -p /r/a/b && ls -R /r").1,
            "/r:\na\n\n/r/a:\nb\n\n/r/a/b:\n"
        );
    }
}
