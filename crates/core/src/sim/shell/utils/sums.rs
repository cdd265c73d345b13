//! `sha256sum` and `sha512sum`, with `-c` to check a list. A file of simulated content (a
//! download that never happened) has no real bytes: checking it passes with a note, since the
//! simulator cannot know the published checksum's content.

use std::fmt::Write as _;

use sha2::{Digest as _, Sha256, Sha512};

use super::{Ctx, util_name};
use crate::fs::FileData;

fn hash(algo: &str, bytes: &[u8]) -> String {
    if algo == "sha512sum" {
        hex::encode(Sha512::digest(bytes))
    } else {
        hex::encode(Sha256::digest(bytes))
    }
}

/// What a file holds for hashing: bytes, or `None` for simulated content.
fn content(ctx: &Ctx<'_, '_>, name: &str) -> Result<Option<Vec<u8>>, String> {
    if name == "-" {
        return Ok(Some(ctx.stdin().to_vec()));
    }
    let p = ctx.abs(name);
    match ctx.fs_ref().read(&p) {
        Ok(FileData::Bytes(b)) => Ok(Some(b.clone())),
        Ok(FileData::Simulated { .. }) => Ok(None),
        Err(e) => Err(e.strerror().to_owned()),
    }
}

/// `sha256sum [-c] [file…]`, `sha512sum`.
pub(crate) fn shasum(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let algo = util_name(args);
    let check = args[1..].iter().any(|a| a == "-c" || a == "--check");
    let quiet = args[1..].iter().any(|a| a == "--quiet" || a == "--status");
    let mut files: Vec<String> = args[1..]
        .iter()
        .filter(|a| !a.starts_with('-') || *a == "-")
        .cloned()
        .collect();
    if files.is_empty() {
        files.push("-".to_owned());
    }
    let mut out = String::new();
    let mut status = 0;
    if !check {
        for f in &files {
            match content(ctx, f) {
                Ok(Some(b)) => {
                    let _ = writeln!(out, "{}  {f}", hash(&algo, &b));
                }
                Ok(None) => {
                    let p = ctx.abs(f);
                    let digest = ctx.fs_ref().read(&p).map(FileData::digest).ok();
                    let d = digest.map(|d| d.hex()).unwrap_or_default();
                    let _ = writeln!(out, "{d}  {f}");
                    ctx.err(format!("{algo}: layerbox: {f} is simulated content; this is not its real checksum\n"));
                }
                Err(e) => {
                    ctx.err(format!("{algo}: {f}: {e}\n"));
                    status = 1;
                }
            }
        }
        ctx.out(out);
        return status;
    }
    let mut failed = 0;
    for list in &files {
        let text = match content(ctx, list) {
            Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(None) => String::new(),
            Err(e) => {
                ctx.err(format!("{algo}: {list}: {e}\n"));
                status = 1;
                continue;
            }
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Some((sum, name)) = line.split_once(char::is_whitespace) else {
                continue;
            };
            let name = name.trim_start().trim_start_matches('*');
            match content(ctx, name) {
                Ok(Some(b)) if hash(&algo, &b).eq_ignore_ascii_case(sum) => {
                    if !quiet {
                        let _ = writeln!(out, "{name}: OK");
                    }
                }
                Ok(Some(_)) => {
                    failed += 1;
                    let _ = writeln!(out, "{name}: FAILED");
                }
                Ok(None) => {
                    if !quiet {
                        let _ = writeln!(out, "{name}: OK");
                    }
                    ctx.err(format!(
                        "{algo}: layerbox: {name} is a simulated download; its checksum cannot be verified and is accepted\n"
                    ));
                }
                Err(e) => {
                    failed += 1;
                    ctx.err(format!("{algo}: {name}: {e}\n"));
                    let _ = writeln!(out, "{name}: FAILED open or read");
                }
            }
        }
    }
    ctx.out(out);
    if failed > 0 {
        let s = if failed == 1 { "" } else { "s" };
        ctx.err(format!(
            "{algo}: WARNING: {failed} computed checksum{s} did NOT match\n"
        ));
        status = 1;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::super::testing::{out, sh};

    #[test]
    fn sums_and_checks() {
        assert_eq!(
            out("printf abc > /tmp/f && sha256sum /tmp/f"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /tmp/f\n"
        );
        assert_eq!(
            out("printf abc > /tmp/f && sha256sum /tmp/f > /tmp/s && sha256sum -c /tmp/s"),
            "/tmp/f: OK\n"
        );
        let (s, o, e) = sh("echo x > /tmp/f && echo '00  /tmp/f' | sha256sum -c -");
        assert_eq!((s, o.as_str()), (1, "/tmp/f: FAILED\n"));
        assert_eq!(e, "sha256sum: WARNING: 1 computed checksum did NOT match\n");
        let (s, o, e) = sh(
            "curl -so /tmp/n.tgz https://nodejs.org/n.tgz && echo \"abc123  /tmp/n.tgz\" | sha256sum -c -",
        );
        assert_eq!((s, o.as_str()), (0, "/tmp/n.tgz: OK\n"));
        assert!(e.contains("cannot be verified"), "{e}");
    }
}
