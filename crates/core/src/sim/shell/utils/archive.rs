//! `tar` (create, extract, list; gzip; `-C`; `--strip-components`) with core's layer tar code,
//! and `gzip`/`gunzip`/`zcat` with flate2.

use std::io::Read;

use super::{Ctx, util_name};
use crate::fs::{Change, Entry, FileData, FileType, Layer, Meta, tar};
use crate::image::Digest;

/// What `curl`/`wget` write to stdout instead of bytes they never fetched: a shell comment, so
/// `curl … | sh` runs nothing and `curl … | tar -x` can say what happened.
pub(crate) const DOWNLOAD_MARKER: &str = "# layerbox: simulated download";

struct TarOpts {
    mode: Option<char>,
    file: Option<String>,
    dir: Option<String>,
    gzip: bool,
    verbose: bool,
    strip: usize,
    operands: Vec<String>,
    excludes: Vec<String>,
}

#[allow(clippy::many_single_char_names)]
fn parse_tar(args: &[String]) -> Result<TarOpts, String> {
    let mut o = TarOpts {
        mode: None,
        file: None,
        dir: None,
        gzip: false,
        verbose: false,
        strip: 0,
        operands: Vec::new(),
        excludes: Vec::new(),
    };
    let mut rest: Vec<String> = args[1..].to_vec();
    // Old style: the first word is a bundle of letters without a dash (`tar xzf file`).
    if let Some(first) = rest.first()
        && !first.starts_with('-')
        && first.chars().all(|c| "cxtzjJvfpoC".contains(c))
    {
        rest[0] = format!("-{first}");
    }
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].clone();
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            let (k, v) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v.to_owned())),
                None => (long, None),
            };
            let mut value = || -> Option<String> {
                v.clone().or_else(|| {
                    i += 1;
                    rest.get(i - 1).cloned()
                })
            };
            match k {
                "create" => o.mode = Some('c'),
                "extract" | "get" => o.mode = Some('x'),
                "list" => o.mode = Some('t'),
                "gzip" | "gunzip" => o.gzip = true,
                "file" => o.file = value(),
                "directory" => o.dir = value(),
                "strip-components" => o.strip = value().and_then(|v| v.parse().ok()).unwrap_or(0),
                "exclude" => o.excludes.extend(value()),
                "verbose" => o.verbose = true,
                "no-same-owner"
                | "same-owner"
                | "no-same-permissions"
                | "preserve-permissions"
                | "overwrite"
                | "numeric-owner"
                | "owner"
                | "group"
                | "mtime"
                | "sort"
                | "no-overwrite-dir"
                | "warning"
                | "wildcards" => {
                    if v.is_none() && matches!(k, "owner" | "group" | "mtime" | "sort" | "warning")
                    {
                        i += 1;
                    }
                }
                other => return Err(format!("unrecognized option '--{other}'")),
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let letters: Vec<char> = a[1..].chars().collect();
            for (j, c) in letters.iter().enumerate() {
                match c {
                    'c' | 'x' | 't' => o.mode = Some(*c),
                    'z' => o.gzip = true,
                    'j' | 'J' => {
                        return Err("bzip2 and xz are not simulated".to_owned());
                    }
                    'v' => o.verbose = true,
                    'p' | 'o' | 'h' | 'k' | 'm' | 'P' => {}
                    'f' | 'C' => {
                        let tail: String = letters[j + 1..].iter().collect();
                        let v = if tail.is_empty() {
                            i += 1;
                            rest.get(i - 1).cloned()
                        } else {
                            Some(tail)
                        };
                        let Some(v) = v else {
                            return Err(format!("option requires an argument -- '{c}'"));
                        };
                        if *c == 'f' {
                            o.file = Some(v);
                        } else {
                            o.dir = Some(v);
                        }
                        break;
                    }
                    other => return Err(format!("invalid option -- '{other}'")),
                }
            }
            continue;
        }
        o.operands.push(a);
    }
    Ok(o)
}

/// `tar -c|-x|-t [-z] [-v] [-f file] [-C dir] [--strip-components N] [paths…]`.
pub(crate) fn tar_cmd(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let o = match parse_tar(args) {
        Ok(o) => o,
        Err(msg) => {
            ctx.err(format!(
                "tar: {msg}\nTry 'tar --help' or 'tar --usage' for more information.\n"
            ));
            return 2;
        }
    };
    let base = match &o.dir {
        Some(d) => {
            let p = ctx.abs(d);
            if !ctx
                .fs_ref()
                .stat(&p)
                .is_ok_and(|s| s.file_type == FileType::Dir)
            {
                ctx.err(format!("tar: {d}: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n"));
                return 2;
            }
            p
        }
        None => ctx.cwd().to_owned(),
    };
    match o.mode {
        Some('c') => create(ctx, &o, &base),
        Some('x' | 't') => extract(ctx, &o, &base),
        _ => {
            ctx.err("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n");
            2
        }
    }
}

fn create(ctx: &mut Ctx<'_, '_>, o: &TarOpts, base: &str) -> i32 {
    if o.operands.is_empty() {
        ctx.err("tar: Cowardly refusing to create an empty archive\nTry 'tar --help' or 'tar --usage' for more information.\n");
        return 2;
    }
    let mut layer = Layer::new();
    let mut failed = false;
    let mut listing = String::new();
    let excluded = |name: &str| {
        o.excludes.iter().any(|e| {
            let pat = crate::sim::shell::pattern::Pattern::parse(e);
            name.split('/').any(|c| pat.matches(c)) || pat.matches(name)
        })
    };
    if o.operands.iter().any(|op| op.starts_with('/')) {
        ctx.err("tar: Removing leading `/' from member names\n");
    }
    for op in &o.operands {
        let abs = crate::sim::shell::exec::absolute(base, op);
        let walk = match ctx.fs_ref().walk(&abs) {
            Ok(w) => w,
            Err(e) => {
                ctx.err(format!("tar: {op}: Cannot stat: {}\n", e.strerror()));
                failed = true;
                continue;
            }
        };
        let prefix = op.trim_end_matches('/').trim_start_matches("./");
        let prefix = if prefix == "." { "" } else { prefix };
        for (path, _) in walk {
            let rel = path[abs.trim_end_matches('/').len()..].trim_start_matches('/');
            let name = match (prefix.trim_start_matches('/'), rel) {
                ("", r) => r.to_owned(),
                (p, "") => p.to_owned(),
                (p, r) => format!("{p}/{r}"),
            };
            if name.is_empty() || excluded(&name) {
                continue;
            }
            let Ok(st) = ctx.fs_ref().lstat(&path) else {
                continue;
            };
            let meta = Meta {
                mode: st.mode,
                uid: st.uid,
                gid: st.gid,
                mtime: st.mtime,
            };
            let entry = match st.file_type {
                FileType::Dir => Entry::dir(meta),
                FileType::Symlink => {
                    Entry::symlink(meta, ctx.fs_ref().read_link(&path).unwrap_or_default())
                }
                FileType::File => Entry {
                    meta,
                    kind: crate::fs::EntryKind::File(
                        ctx.fs_ref()
                            .read(&path)
                            .cloned()
                            .unwrap_or(FileData::Bytes(Vec::new())),
                    ),
                },
            };
            if o.verbose {
                listing.push_str(&name);
                if st.file_type == FileType::Dir {
                    listing.push('/');
                }
                listing.push('\n');
            }
            layer.insert(name, entry);
        }
    }
    let total: u64 = layer.size();
    if total > ctx.limits().max_file_size {
        ctx.err("tar: archive too large for the simulation\n");
        return 2;
    }
    let mut bytes = tar::write_layer(&layer, &tar::TarOptions::default());
    if o.gzip {
        bytes = tar::gzip(&bytes);
    }
    match o.file.as_deref() {
        None | Some("-") => {
            ctx.out(bytes);
            ctx.err(listing);
        }
        Some(f) => {
            ctx.out(listing);
            if let Err(e) = ctx.write_file(f, FileData::Bytes(bytes), 0o666) {
                ctx.err(format!(
                    "tar: {f}: Cannot open: {}\ntar: Error is not recoverable: exiting now\n",
                    e.strerror()
                ));
                return 2;
            }
        }
    }
    if failed {
        ctx.err("tar: Exiting with failure status due to previous errors\n");
        return 2;
    }
    0
}

fn extract(ctx: &mut Ctx<'_, '_>, o: &TarOpts, base: &str) -> i32 {
    let (shown, data) = match o.file.as_deref() {
        None | Some("-") => ("stdin".to_owned(), FileData::Bytes(ctx.stdin().to_vec())),
        Some(f) => match ctx.fs_ref().read(&ctx.abs(f)) {
            Ok(d) => (f.to_owned(), d.clone()),
            Err(e) => {
                ctx.err(format!(
                    "tar: {f}: Cannot open: {}\ntar: Error is not recoverable: exiting now\n",
                    e.strerror()
                ));
                return 2;
            }
        },
    };
    let bytes = match &data {
        FileData::Simulated { size, .. } => {
            ctx.err(format!(
                "tar: layerbox: '{shown}' is simulated content ({size} bytes, never downloaded); nothing was extracted\n"
            ));
            return 0;
        }
        FileData::Bytes(b) => b.clone(),
    };
    if bytes.starts_with(DOWNLOAD_MARKER.as_bytes()) {
        ctx.err("tar: layerbox: the input is a simulated download (no network was used); nothing was extracted\n");
        return 0;
    }
    if bytes.is_empty() {
        ctx.err("tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n");
        return 2;
    }
    let Ok(layer) = tar::read_layer(&bytes) else {
        if o.gzip && !bytes.starts_with(&[0x1f, 0x8b]) {
            ctx.err("\ngzip: stdin: not in gzip format\ntar: Child returned status 1\ntar: Error is not recoverable: exiting now\n");
        } else {
            ctx.err("tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n");
        }
        return 2;
    };
    let mut listing = String::new();
    let strip = |p: &str| -> Option<String> {
        let parts: Vec<&str> = p.split('/').collect();
        (parts.len() > o.strip).then(|| parts[o.strip..].join("/"))
    };
    let wanted = |p: &str| {
        o.operands.is_empty()
            || o.operands.iter().any(|op| {
                let op = op.trim_end_matches('/').trim_start_matches("./");
                p == op || p.starts_with(&format!("{op}/"))
            })
    };
    let mut status = 0;
    for (path, change) in layer.iter() {
        if path.is_empty() || !wanted(path) {
            continue;
        }
        let Some(rel) = strip(path) else { continue };
        if rel.is_empty() {
            continue;
        }
        if o.mode == Some('t') || o.verbose {
            listing.push_str(path);
            if matches!(change, Change::Entry(e) if e.is_dir()) {
                listing.push('/');
            }
            listing.push('\n');
        }
        if o.mode == Some('t') {
            continue;
        }
        let dest = format!("{}/{rel}", base.trim_end_matches('/'));
        let parent = dest
            .rsplit_once('/')
            .map_or("/", |(p, _)| if p.is_empty() { "/" } else { p })
            .to_owned();
        if ctx.fs_ref().stat(&parent).is_err() {
            let _ = ctx.fs().mkdir_all(&parent, 0o755);
        }
        let r = match change {
            Change::Entry(e) => {
                let mut e = e.clone();
                if ctx.uid() != 0 {
                    e.meta.uid = ctx.uid();
                    e.meta.gid = ctx.gid();
                }
                ctx.fs().put(&dest, e)
            }
            Change::HardLink(target) => {
                let Some(t) = strip(target) else { continue };
                let t = format!("{}/{t}", base.trim_end_matches('/'));
                let _ = ctx.fs().remove(&dest);
                ctx.fs().hardlink(&t, &dest)
            }
            Change::Whiteout => continue,
        };
        if let Err(e) = r {
            ctx.err(format!("tar: {rel}: Cannot open: {}\n", e.strerror()));
            status = 2;
        }
    }
    ctx.out(listing);
    if status != 0 {
        ctx.err("tar: Exiting with failure status due to previous errors\n");
    }
    status
}

/// Simulated content after (de)compression: a plausible size and a digest derived from the
/// input's, so that the same input always gives the same output.
fn simulated_transform(size: u64, digest: &Digest, compress: bool) -> FileData {
    let mut seed = digest.as_bytes().to_vec();
    seed.extend_from_slice(if compress { b"gzip" } else { b"gunzip" });
    FileData::Simulated {
        size: if compress {
            size / 3 + 20
        } else {
            size.saturating_mul(3)
        },
        digest: Digest::sha256_of(&seed),
    }
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    tar::gzip(data)
}

fn gunzip_bytes(data: &[u8], max: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut d = flate2::read::MultiGzDecoder::new(data).take(max + 1);
    d.read_to_end(&mut out).ok()?;
    Some(out)
}

/// `gzip [-d] [-c] [-k] [-f] [-1…-9] [file…]`, `gunzip`, `zcat`.
#[allow(clippy::case_sensitive_file_extension_comparisons)] // gzip's suffixes are case-sensitive too
pub(crate) fn gzip(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let name = util_name(args);
    let mut decompress = name == "gunzip" || name == "zcat";
    let mut to_stdout = name == "zcat";
    let mut keep = false;
    let mut files = Vec::new();
    for a in &args[1..] {
        if a.len() > 1 && a.starts_with('-') && !a.starts_with("--") {
            for c in a[1..].chars() {
                match c {
                    'd' => decompress = true,
                    'c' => to_stdout = true,
                    'k' => keep = true,
                    'f' | 'n' | 'N' | 'q' | 'v' | 'r' | '1'..='9' => {}
                    other => {
                        ctx.err(format!("{name}: invalid option -- '{other}'\nTry `{name} --help' for more information.\n"));
                        return 1;
                    }
                }
            }
        } else if let Some(long) = a.strip_prefix("--") {
            match long {
                "decompress" | "uncompress" => decompress = true,
                "stdout" | "to-stdout" => to_stdout = true,
                "keep" => keep = true,
                _ => {}
            }
        } else {
            files.push(a.clone());
        }
    }
    if files.is_empty() {
        let input = ctx.stdin().to_vec();
        if decompress {
            if let Some(b) = gunzip_bytes(&input, ctx.limits().max_file_size) {
                ctx.out(b);
            } else {
                ctx.err(format!("{name}: stdin: not in gzip format\n"));
                return 1;
            }
        } else {
            ctx.out(gzip_bytes(&input));
        }
        return 0;
    }
    let mut status = 0;
    for f in files {
        let p = ctx.abs(&f);
        let st = match ctx.fs_ref().stat(&p) {
            Ok(s) => s,
            Err(e) => {
                ctx.err(format!("{name}: {f}: {}\n", e.strerror()));
                status = 1;
                continue;
            }
        };
        if st.file_type == FileType::Dir {
            ctx.err(format!("{name}: {f} is a directory -- ignored\n"));
            status = 2;
            continue;
        }
        let target = if decompress {
            let stem = match (f.strip_suffix(".gz"), f.strip_suffix(".tgz")) {
                (Some(s), _) if !s.is_empty() => Some(s.to_owned()),
                (_, Some(s)) if !s.is_empty() => Some(format!("{s}.tar")),
                _ => None,
            };
            let Some(stem) = stem else {
                ctx.err(format!("{name}: {f}: unknown suffix -- ignored\n"));
                status = 2;
                continue;
            };
            stem
        } else {
            if f.ends_with(".gz") {
                ctx.err(format!("{name}: {f} already has .gz suffix -- unchanged\n"));
                status = 2;
                continue;
            }
            format!("{f}.gz")
        };
        let s = finish(
            ctx, &name, &f, &p, &target, decompress, to_stdout, keep, st.mode,
        );
        status = status.max(s);
    }
    status
}

#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn finish(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    f: &str,
    p: &str,
    target: &str,
    decompress: bool,
    to_stdout: bool,
    keep: bool,
    mode: u32,
) -> i32 {
    let Ok(data) = ctx.fs_ref().read(p).cloned() else {
        return 1;
    };
    let out = match &data {
        FileData::Simulated { size, digest } => simulated_transform(*size, digest, !decompress),
        FileData::Bytes(b) if decompress => {
            if let Some(o) = gunzip_bytes(b, ctx.limits().max_file_size) {
                FileData::Bytes(o)
            } else {
                ctx.err(format!("{name}: {f}: not in gzip format\n"));
                return 1;
            }
        }
        FileData::Bytes(b) => FileData::Bytes(gzip_bytes(b)),
    };
    if to_stdout {
        if let FileData::Bytes(b) = out {
            ctx.out(b);
        }
        return 0;
    }
    if let Err(e) = ctx.write_file(target, out, mode) {
        ctx.err(format!("{name}: {target}: {}\n", e.strerror()));
        return 1;
    }
    let tp = ctx.abs(target);
    let _ = ctx.fs().chmod(&tp, mode);
    if !keep {
        let _ = ctx.fs().remove(p);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_fs, out, sh, sh_on};

    #[test]
    fn tar_round_trip_with_gzip_and_strip() {
        let mut fs = base_fs();
        let o = sh_on(
            &mut fs,
            "mkdir -p /src/app/lib && echo hi > /src/app/lib/a.txt && ln -s lib/a.txt /src/app/link && chmod 600 /src/app/lib/a.txt && tar -czf /tmp/app.tgz -C /src app && mkdir /dst && tar xzf /tmp/app.tgz -C /dst --strip-components=1 && cat /dst/lib/a.txt && tar -tzf /tmp/app.tgz",
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout()),
            "hi\napp/\napp/lib/\napp/lib/a.txt\napp/link\n"
        );
        assert_eq!(o.status, 0, "{o}");
        assert_eq!(fs.stat("/dst/lib/a.txt").unwrap().mode, 0o600);
        assert_eq!(fs.read_link("/dst/link").unwrap(), "lib/a.txt");
    }

    #[test]
    fn tar_errors() {
        let (s, _, e) = sh("tar -xf /nope.tar");
        assert_eq!(
            (s, e.as_str()),
            (
                2,
                "tar: /nope.tar: Cannot open: No such file or directory\ntar: Error is not recoverable: exiting now\n"
            )
        );
        let (s, _, e) = sh("tar -cf /tmp/x.tar /nope");
        assert_eq!(
            (s, e.as_str()),
            (
                2,
                "tar: Removing leading `/' from member names\ntar: /nope: Cannot stat: No such file or directory\ntar: Exiting with failure status due to previous errors\n"
            )
        );
        let (s, _, e) = sh("echo junk > /tmp/j; tar -xzf /tmp/j");
        assert_eq!(s, 2);
        assert!(e.contains("not in gzip format"), "{e}");
    }

    #[test]
    fn gzip_and_gunzip() {
        assert_eq!(
            out(
                "echo data > /tmp/f && gzip /tmp/f && ls /tmp && gunzip /tmp/f.gz && cat /tmp/f && ls /tmp"
            ),
            "f.gz\ndata\nf\n"
        );
        assert_eq!(out("echo x | gzip | gunzip"), "x\n");
        assert_eq!(
            out("echo y > /tmp/f && gzip -k /tmp/f && zcat /tmp/f.gz && ls /tmp"),
            "y\nf\nf.gz\n"
        );
        assert_eq!(
            sh("gzip /nope").2,
            "gzip: /nope: No such file or directory\n"
        );
    }
}
