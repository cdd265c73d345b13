//! `curl` and `wget` without a network: a download becomes a file of simulated content whose
//! size is plausible for the URL and the same on every run, and a note says so.

use super::archive::DOWNLOAD_MARKER;
use super::{Ctx, util_name};
use crate::fs::FileData;
use crate::image::Digest;

/// The simulated body of `url`: a size picked from the URL's kind and its hash.
#[allow(clippy::case_sensitive_file_extension_comparisons)] // the path is lowercased first
pub(crate) fn simulated_download(url: &str) -> FileData {
    let digest = Digest::sha256_of(url.as_bytes());
    let b = digest.as_bytes();
    let spread = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let (lo, hi): (u64, u64) = if [".tar.gz", ".tgz", ".tar.xz", ".zip", ".tar.bz2", ".jar"]
        .iter()
        .any(|e| path.ends_with(e))
    {
        (4 << 20, 60 << 20)
    } else if path.ends_with(".deb")
        || path.ends_with(".rpm")
        || path.ends_with(".whl")
        || path.ends_with(".apk")
    {
        (200 << 10, 12 << 20)
    } else if [
        ".sh", ".py", ".txt", ".json", ".asc", ".gpg", ".key", ".pem", ".sha256", ".yaml", ".yml",
        ".conf",
    ]
    .iter()
    .any(|e| path.ends_with(e))
    {
        (1 << 10, 40 << 10)
    } else if path.ends_with(".gz") || path.ends_with(".xz") {
        (1 << 20, 30 << 20)
    } else {
        (20 << 10, 8 << 20)
    };
    FileData::Simulated {
        size: lo + spread % (hi - lo),
        digest,
    }
}

fn remote_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = path.split_once("://").map_or(path, |(_, rest)| rest);
    match after_host.split_once('/') {
        Some((_, p)) if !p.is_empty() && !p.ends_with('/') => {
            p.rsplit('/').next().unwrap_or("index.html").to_owned()
        }
        _ => "index.html".to_owned(),
    }
}

fn note(ctx: &mut Ctx<'_, '_>, tool: &str, url: &str, data: &FileData) {
    ctx.err(format!(
        "{tool}: layerbox: simulated download of {url} ({} bytes); no network was used\n",
        data.len()
    ));
}

fn is_url(s: &str) -> bool {
    s.contains("://") || s.contains('.') && !s.starts_with('-')
}

/// `curl [-fsSLkO] [-o file] [--create-dirs] [-H h] [-X m] [-d data] url…`.
pub(crate) fn curl(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let tool = util_name(args);
    let mut outputs: Vec<Option<String>> = Vec::new();
    let mut remote_all = false;
    let mut urls = Vec::new();
    let mut create_dirs = false;
    let mut i = 1;
    let valued = [
        "-H",
        "-X",
        "-d",
        "-u",
        "-A",
        "-e",
        "-w",
        "-m",
        "-T",
        "-F",
        "--header",
        "--request",
        "--data",
        "--data-raw",
        "--data-binary",
        "--user",
        "--user-agent",
        "--retry",
        "--retry-delay",
        "--max-time",
        "--connect-timeout",
        "--proto",
        "--cacert",
        "--write-out",
        "--url",
        "--tlsv1.2",
    ];
    while i < args.len() {
        let a = args[i].clone();
        i += 1;
        match a.as_str() {
            "-o" | "--output" => {
                outputs.push(args.get(i).cloned());
                i += 1;
            }
            "-O" | "--remote-name" => outputs.push(None),
            "--remote-name-all" => remote_all = true,
            "--create-dirs" => create_dirs = true,
            "--url" => {
                urls.extend(args.get(i).cloned());
                i += 1;
            }
            v if valued.contains(&v) => i += 1,
            s if s.starts_with("--") => {}
            s if s.starts_with('-') && s.len() > 1 => {
                let letters: Vec<char> = s[1..].chars().collect();
                for (j, c) in letters.iter().enumerate() {
                    match c {
                        'O' => outputs.push(None),
                        'o' => {
                            let tail: String = letters[j + 1..].iter().collect();
                            if tail.is_empty() {
                                outputs.push(args.get(i).cloned());
                                i += 1;
                            } else {
                                outputs.push(Some(tail));
                            }
                            break;
                        }
                        'H' | 'X' | 'd' | 'u' | 'A' | 'e' | 'w' | 'm' | 'T' | 'F' => {
                            i += 1;
                            break;
                        }
                        _ => {}
                    }
                }
            }
            _ => urls.push(a),
        }
    }
    if urls.is_empty() {
        ctx.err(format!(
            "{tool}: try '{tool} --help' or '{tool} --manual' for more information\n"
        ));
        return 2;
    }
    for (k, url) in urls.iter().enumerate() {
        if !is_url(url) {
            ctx.err(format!("{tool}: (6) Could not resolve host: {url}\n"));
            return 6;
        }
        let data = simulated_download(url);
        let target = match outputs.get(k) {
            Some(Some(f)) => Some(f.clone()),
            Some(None) => Some(remote_name(url)),
            None if remote_all => Some(remote_name(url)),
            None => None,
        };
        note(ctx, &tool, url, &data);
        match target.as_deref() {
            None | Some("-") => ctx.out(format!(
                "{DOWNLOAD_MARKER} of {url} (no network was used)\n"
            )),
            Some(f) => {
                if create_dirs && let Some((dir, _)) = ctx.abs(f).rsplit_once('/') {
                    let dir = if dir.is_empty() {
                        "/".to_owned()
                    } else {
                        dir.to_owned()
                    };
                    let _ = ctx.fs().mkdir_all(&dir, 0o755);
                }
                if let Err(e) = ctx.write_file(f, data, 0o666) {
                    ctx.err(format!("{tool}: (23) Failure writing output to destination\nWarning: Failed to open the file {f}: {}\n", e.strerror()));
                    return 23;
                }
            }
        }
    }
    0
}

/// `wget [-q] [-O file] [-P dir] url…`.
pub(crate) fn wget(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let tool = util_name(args);
    let mut output: Option<String> = None;
    let mut prefix: Option<String> = None;
    let mut urls = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].clone();
        i += 1;
        if let Some(v) = a.strip_prefix("--output-document=") {
            output = Some(v.to_owned());
        } else if let Some(v) = a.strip_prefix("--directory-prefix=") {
            prefix = Some(v.to_owned());
        } else if a == "-O" || a == "--output-document" {
            output = args.get(i).cloned();
            i += 1;
        } else if a == "-P" || a == "--directory-prefix" {
            prefix = args.get(i).cloned();
            i += 1;
        } else if matches!(
            a.as_str(),
            "-T" | "-t" | "--tries" | "--timeout" | "-U" | "--header" | "--user-agent"
        ) {
            i += 1;
        } else if let Some(rest) = a
            .strip_prefix("-O")
            .filter(|r| !r.is_empty() && !a.starts_with("--"))
        {
            output = Some(rest.to_owned());
        } else if a.starts_with('-') {
            // -q, -nv, --no-check-certificate, -c …: no effect without a network.
            if a.ends_with('O') && !a.starts_with("--") && a.len() > 2 {
                output = args.get(i).cloned();
                i += 1;
            }
        } else {
            urls.push(a);
        }
    }
    if urls.is_empty() {
        ctx.err(format!("{tool}: missing URL\nUsage: {tool} [OPTION]... [URL]...\n\nTry `{tool} --help' for more options.\n"));
        return 1;
    }
    for url in &urls {
        let data = simulated_download(url);
        note(ctx, &tool, url, &data);
        let file = match (&output, &prefix) {
            (Some(o), _) => o.clone(),
            (None, Some(p)) => format!("{}/{}", p.trim_end_matches('/'), remote_name(url)),
            (None, None) => remote_name(url),
        };
        if file == "-" {
            ctx.out(format!(
                "{DOWNLOAD_MARKER} of {url} (no network was used)\n"
            ));
            continue;
        }
        if let Some(p) = &prefix {
            let d = ctx.abs(p);
            let _ = ctx.fs().mkdir_all(&d, 0o755);
        }
        if let Err(e) = ctx.write_file(&file, data, 0o666) {
            ctx.err(format!("{file}: {}\n", e.strerror()));
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_fs, sh, sh_on};
    use super::simulated_download;

    #[test]
    fn downloads_are_deterministic_and_plausible() {
        let a =
            simulated_download("https://nodejs.org/dist/v20.11.0/node-v20.11.0-linux-x64.tar.gz");
        assert_eq!(
            a,
            simulated_download("https://nodejs.org/dist/v20.11.0/node-v20.11.0-linux-x64.tar.gz")
        );
        assert!((4 << 20..60 << 20).contains(&a.len()));
        let s = simulated_download("https://get.docker.com/install.sh");
        assert!(s.len() < 40 << 10);
    }

    #[test]
    fn curl_and_wget_write_files_and_say_so() {
        let mut fs = base_fs();
        let o = sh_on(
            &mut fs,
            "curl -fsSL -o /tmp/a.tgz https://example.com/a.tgz && cd /tmp && curl -sLO https://example.com/dl/b.zip && wget -q https://example.com/c.deb && wget -O /tmp/d https://example.com/d && ls /tmp && tar -xzf /tmp/a.tgz -C /tmp",
        );
        assert_eq!(o.status, 0, "{o}");
        assert_eq!(o.stdout(), b"a.tgz\nb.zip\nc.deb\nd\n");
        let err = String::from_utf8_lossy(&o.stderr()).into_owned();
        assert!(
            err.starts_with("curl: layerbox: simulated download of https://example.com/a.tgz ("),
            "{err}"
        );
        assert!(err.contains("no network was used"));
        assert!(err.contains("nothing was extracted"));
        assert!(fs.stat("/tmp/a.tgz").unwrap().size > 1 << 20);
        let (s, out, _) = sh("curl -fsSL https://get.example.com/install.sh | sh && echo ran");
        assert_eq!((s, out.as_str()), (0, "ran\n"));
    }
}
