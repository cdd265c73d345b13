//! The builtin utilities, with GNU coreutils' behaviour and error texts (C locale: plain
//! quotes) for the options Dockerfiles use.

mod archive;
mod awk;
mod basic;
mod files;
mod find;
mod net;
mod regex;
mod sed;
mod sums;
mod text;
mod users;

use super::utility::{Ctx, Registry, UtilityFn, UtilityKind};
use crate::fs::FsError;
pub(crate) use files::mode_string;

/// Registers every builtin utility.
pub(crate) fn register_all(r: &mut Registry) {
    let builtin: [(&str, UtilityFn); 7] = [
        ("echo", basic::echo),
        ("printf", basic::printf),
        ("true", basic::true_),
        ("false", basic::false_),
        ("test", basic::test),
        ("[", basic::test),
        ("pwd", basic::pwd),
    ];
    for (name, f) in builtin {
        r.register_fn(name, UtilityKind::Builtin, f);
    }
    let external: [(&str, UtilityFn); 63] = [
        ("awk", awk::awk),
        ("sha256sum", sums::shasum),
        ("sha512sum", sums::shasum),
        ("find", find::find),
        ("tar", archive::tar_cmd),
        ("gzip", archive::gzip),
        ("gunzip", archive::gzip),
        ("zcat", archive::gzip),
        ("useradd", users::useradd),
        ("groupadd", users::groupadd),
        ("usermod", users::usermod),
        ("adduser", users::adduser),
        ("addgroup", users::addgroup),
        ("curl", net::curl),
        ("wget", net::wget),
        ("install", files::install),
        ("grep", text::grep),
        ("egrep", text::grep),
        ("fgrep", text::grep),
        ("sed", sed::sed),
        ("head", text::head),
        ("tail", text::tail),
        ("wc", text::wc),
        ("tee", text::tee),
        ("sort", text::sort),
        ("uniq", text::uniq),
        ("tr", text::tr),
        ("cut", text::cut),
        ("seq", text::seq),
        ("xargs", text::xargs),
        ("readlink", text::readlink),
        ("realpath", text::readlink),
        ("stat", text::stat),
        ("date", text::date),
        ("mktemp", text::mktemp),
        ("nproc", basic::nproc),
        ("yes", basic::yes),
        ("sleep", basic::sleep),
        ("env", basic::env),
        ("printenv", basic::printenv),
        ("id", basic::id),
        ("whoami", basic::whoami),
        ("hostname", basic::hostname),
        ("which", basic::which),
        ("sh", basic::sh),
        ("bash", basic::sh),
        ("dash", basic::sh),
        ("ash", basic::sh),
        ("uname", basic::uname),
        ("cat", files::cat),
        ("ls", files::ls),
        ("mkdir", files::mkdir),
        ("rmdir", files::rmdir),
        ("touch", files::touch),
        ("rm", files::rm),
        ("cp", files::cp),
        ("mv", files::mv),
        ("ln", files::ln),
        ("chmod", files::chmod),
        ("chown", files::chown),
        ("chgrp", files::chgrp),
        ("basename", basic::basename),
        ("dirname", basic::dirname),
    ];
    for (name, f) in external {
        r.register_fn(name, UtilityKind::External, f);
    }
}

pub(crate) use basic::int_op;

/// Whether the extended regular expression `re` matches somewhere in `text` (bash's `=~`);
/// `None` if `re` is not a valid expression.
pub(crate) fn regex_matches(re: &str, text: &str) -> Option<bool> {
    regex::compile(re, true, false)
        .ok()
        .map(|r| r.is_match(text))
}

/// Parsed command-line options: single-letter flags (long ones mapped to letters) and operands.
pub(crate) struct Args {
    flags: Vec<(char, Option<String>)>,
    pub(crate) operands: Vec<String>,
}

impl Args {
    /// Parses `args[1..]`: `known` are the flag letters, `valued` those taking a value, `long`
    /// maps long options to letters. An unknown option is reported as GNU tools do and gives
    /// `Err(())` (the caller exits with its usage status).
    pub(crate) fn parse(
        ctx: &mut Ctx<'_, '_>,
        args: &[String],
        known: &str,
        valued: &str,
        long: &[(&str, char)],
    ) -> Result<Self, ()> {
        let name = util_name(args);
        let mut flags = Vec::new();
        let mut operands = Vec::new();
        let mut i = 1;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if a == "--" {
                operands.extend(args[i..].iter().cloned());
                break;
            }
            if let Some(l) = a.strip_prefix("--") {
                let (key, value) = match l.split_once('=') {
                    Some((k, v)) => (k, Some(v.to_owned())),
                    None => (l, None),
                };
                if let Some(&(_, c)) = long.iter().find(|(n, _)| *n == key) {
                    let value = if valued.contains(c) && value.is_none() {
                        let v = args.get(i).cloned();
                        i += 1;
                        v
                    } else {
                        value
                    };
                    flags.push((c, value));
                } else {
                    ctx.err(format!(
                        "{name}: unrecognized option '{a}'\nTry '{name} --help' for more information.\n"
                    ));
                    return Err(());
                }
                continue;
            }
            if a.len() < 2 || !a.starts_with('-') {
                operands.push(a.clone());
                continue;
            }
            let chars = a[1..].char_indices();
            for (at, c) in chars {
                if !known.contains(c) {
                    ctx.err(format!(
                        "{name}: invalid option -- '{c}'\nTry '{name} --help' for more information.\n"
                    ));
                    return Err(());
                }
                if valued.contains(c) {
                    let rest = &a[1 + at + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        let v = args.get(i).cloned();
                        i += 1;
                        if v.is_none() {
                            ctx.err(format!(
                                "{name}: option requires an argument -- '{c}'\nTry '{name} --help' for more information.\n"
                            ));
                            return Err(());
                        }
                        v
                    } else {
                        Some(rest.to_owned())
                    };
                    flags.push((c, value));
                    break;
                }
                flags.push((c, None));
            }
        }
        Ok(Self { flags, operands })
    }

    /// Whether flag `c` was given.
    pub(crate) fn has(&self, c: char) -> bool {
        self.flags.iter().any(|(f, _)| *f == c)
    }

    /// The last value given to flag `c`.
    pub(crate) fn value(&self, c: char) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(f, _)| *f == c)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// The utility's name for messages (`/bin/ls` → `ls`).
pub(crate) fn util_name(args: &[String]) -> String {
    args.first()
        .map(|a| super::exec::file_name(a).to_owned())
        .unwrap_or_default()
}

/// `name: missing operand` with GNU's hint; status 1.
pub(crate) fn missing_operand(ctx: &mut Ctx<'_, '_>, name: &str) -> i32 {
    ctx.err(format!(
        "{name}: missing operand\nTry '{name} --help' for more information.\n"
    ));
    1
}

/// `name: <what> 'path': <strerror>`.
pub(crate) fn report(ctx: &mut Ctx<'_, '_>, name: &str, what: &str, path: &str, e: &FsError) {
    let what = if what.is_empty() {
        String::new()
    } else {
        format!("{what} ")
    };
    ctx.err(format!("{name}: {what}'{path}': {}\n", e.strerror()));
}

/// Reads the lines of `/etc/passwd` or `/etc/group` as fields.
pub(crate) fn db(ctx: &Ctx<'_, '_>, path: &str) -> Vec<Vec<String>> {
    let bytes = ctx.read_file(path).unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_owned).collect())
        .collect()
}

/// The user name of `uid`, from `/etc/passwd`.
pub(crate) fn user_name(ctx: &Ctx<'_, '_>, uid: u32) -> Option<String> {
    db(ctx, "/etc/passwd")
        .into_iter()
        .find(|f| f.len() > 2 && f[2] == uid.to_string())
        .map(|f| f[0].clone())
}

/// The group name of `gid`, from `/etc/group`.
pub(crate) fn group_name(ctx: &Ctx<'_, '_>, gid: u32) -> Option<String> {
    db(ctx, "/etc/group")
        .into_iter()
        .find(|f| f.len() > 2 && f[2] == gid.to_string())
        .map(|f| f[0].clone())
}

/// Reads the operands (or stdin when none, or for `-`) as byte strings, reporting failures
/// as `name: path: strerror`; returns the inputs and whether all could be read.
pub(crate) fn inputs(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    operands: &[String],
) -> (Vec<(String, Vec<u8>)>, bool) {
    if operands.is_empty() {
        return (vec![("-".to_owned(), ctx.stdin().to_vec())], true);
    }
    let mut out = Vec::new();
    let mut ok = true;
    for p in operands {
        if p == "-" {
            out.push((p.clone(), ctx.stdin().to_vec()));
            continue;
        }
        match ctx.read_file(p) {
            Ok(b) => out.push((p.clone(), b)),
            Err(e) => {
                ctx.err(format!("{name}: {p}: {}\n", e.strerror()));
                ok = false;
            }
        }
    }
    (out, ok)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs scripts on an in-memory filesystem for the utilities' unit tests.
    use crate::fs::{LayerStack, UnionFs};
    use crate::sim::shell::{Env, Limits, Lookup, Outcome, Registry, run_script};

    /// A filesystem with `/etc/passwd`, `/etc/group`, `/tmp`, `/root`.
    pub(crate) fn base_fs() -> UnionFs {
        let mut fs = UnionFs::new(LayerStack::new());
        for d in ["/etc", "/tmp", "/root", "/bin", "/usr/bin", "/home"] {
            fs.mkdir_all(d, 0o755).unwrap();
        }
        fs.chmod("/tmp", 0o1777).unwrap();
        fs.write(
            "/etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            0o644,
        )
        .unwrap();
        fs.write(
            "/etc/group",
            b"root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n",
            0o644,
        )
        .unwrap();
        fs
    }

    /// Runs `script` on `fs` with every utility available.
    pub(crate) fn sh_on(fs: &mut UnionFs, script: &str) -> Outcome {
        let env = Env {
            lookup: Lookup::Registry,
            now: 1_700_000_000,
            ..Env::default()
        };
        run_script(
            fs,
            &env,
            script,
            &Registry::with_builtins(),
            &Limits::default(),
        )
    }

    /// The stdout of `script` on a fresh [`base_fs`], checking that nothing went to stderr.
    pub(crate) fn out(script: &str) -> String {
        let (status, out, err) = sh(script);
        assert_eq!(err, "", "stderr of {script:?} (status {status})");
        out
    }

    /// Runs `script` on a fresh [`base_fs`]; returns status, stdout, stderr.
    pub(crate) fn sh(script: &str) -> (i32, String, String) {
        let mut fs = base_fs();
        let out = sh_on(&mut fs, script);
        (
            out.status,
            String::from_utf8_lossy(&out.stdout()).into_owned(),
            String::from_utf8_lossy(&out.stderr()).into_owned(),
        )
    }
}
