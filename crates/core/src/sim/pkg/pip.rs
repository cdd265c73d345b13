//! `pip`/`pip3 install`: wheels from the catalog into the interpreter's `site-packages`, with
//! pip's HTTP cache under `~/.cache/pip` unless `--no-cache-dir`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Manager, PkgCtx, SIMULATED_NOTE, fs_failure};
use crate::fs::FsError;
use crate::image::Digest;
use crate::sim::catalog::{Catalog, Package, simulated};

/// The simulated `pip`.
#[derive(Debug, Clone)]
pub struct Pip {
    catalog: Arc<Catalog>,
}

impl Pip {
    /// `pip` over the catalog's PyPI section.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

/// PEP 503 normalisation: lowercase, runs of `-_.` as one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// One requirement: the text as written, the normalised name, and an `==` version if pinned.
struct Requirement {
    text: String,
    name: String,
    pinned: Option<String>,
}

fn parse_requirement(text: &str) -> Option<Requirement> {
    let text = text.split(';').next().unwrap_or("").trim();
    if text.is_empty() {
        return None;
    }
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    let spec = text[end..].trim();
    let spec = spec.find(']').map_or(spec, |i| spec[i + 1..].trim());
    let pinned = spec
        .strip_prefix("==")
        .map(|v| v.split(',').next().unwrap_or("").trim().to_owned());
    Some(Requirement {
        text: text.to_owned(),
        name: normalize(&text[..end]),
        pinned,
    })
}

/// pip's `format_size`.
fn pip_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // printed with one decimal
    let b = bytes as f64;
    if bytes > 1_000_000 {
        format!("{:.1} MB", b / 1e6)
    } else if bytes > 10_000 {
        format!("{} kB", bytes / 1000)
    } else if bytes > 1000 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

impl Manager for Pip {
    fn run(&self, cx: &mut PkgCtx<'_>, args: &[String]) -> i32 {
        let mut iter = args.iter().skip(1);
        let mut command = None;
        let mut no_cache = cx
            .env
            .get("PIP_NO_CACHE_DIR")
            .is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
        let mut reqs: Vec<String> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        while let Some(a) = iter.next() {
            match a.as_str() {
                "--no-cache-dir" => no_cache = true,
                "-r" | "--requirement" => files.extend(iter.next().cloned()),
                s if s.starts_with("-r") && s.len() > 2 => files.push(s[2..].to_owned()),
                s if s.starts_with("--requirement=") => {
                    files.push(s["--requirement=".len()..].to_owned());
                }
                s if s.starts_with('-') => {}
                s if command.is_none() => command = Some(s.to_owned()),
                s => reqs.push(s.to_owned()),
            }
        }
        match command.as_deref() {
            Some("install") => {}
            Some("--version" | "-V") | None => {
                cx.out(format!(
                    "pip {} from {} (python {})\n",
                    self.pip_version(cx),
                    site_packages(cx),
                    python_version(cx)
                ));
                return 0;
            }
            Some(other) => {
                cx.err(format!("ERROR: unknown command \"{other}\"\n"));
                return 1;
            }
        }
        for file in files {
            let path = cx.abs(&file);
            let Some(text) = cx.read_text(&path) else {
                cx.err(format!(
                    "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{file}'\n"
                ));
                return 1;
            };
            reqs.extend(
                text.lines()
                    .map(|l| l.split(" #").next().unwrap_or("").trim())
                    .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('-'))
                    .map(str::to_owned),
            );
        }
        if reqs.is_empty() {
            cx.err("ERROR: You must give at least one requirement to install (see \"pip help install\")\n");
            return 1;
        }
        cx.out(format!("{SIMULATED_NOTE} (PyPI wheels from the catalog)\n"));
        match self.install(cx, &reqs, no_cache) {
            Ok(status) => status,
            Err(e) => fs_failure(cx, "ERROR", &e, 1),
        }
    }
}

impl Pip {
    fn pip_version(&self, cx: &PkgCtx<'_>) -> String {
        let sp = site_packages(cx);
        cx.fs
            .read_dir(&sp)
            .ok()
            .and_then(|e| {
                e.iter().find_map(|e| {
                    e.name
                        .strip_prefix("pip-")
                        .and_then(|v| v.strip_suffix(".dist-info"))
                        .map(str::to_owned)
                })
            })
            .or_else(|| {
                self.catalog
                    .pypi()
                    .get("pip")
                    .map(|p| p.version().to_owned())
            })
            .unwrap_or_default()
    }

    fn install(
        &self,
        cx: &mut PkgCtx<'_>,
        reqs: &[String],
        no_cache: bool,
    ) -> Result<i32, FsError> {
        let sp = site_packages(cx);
        let mut queue: Vec<(Requirement, Option<String>)> = reqs
            .iter()
            .filter_map(|r| parse_requirement(r))
            .map(|r| (r, None))
            .collect();
        queue.reverse();
        let mut chosen: Vec<&Package> = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some((req, parent)) = queue.pop() {
            if !seen.insert(req.name.clone()) {
                continue;
            }
            let found = self.catalog.pypi().get(&req.name);
            let Some(p) = found.filter(|p| req.pinned.as_deref().is_none_or(|v| v == p.version()))
            else {
                let versions = found.map_or_else(|| "none".to_owned(), |p| p.version().to_owned());
                cx.err(format!(
                    "ERROR: Could not find a version that satisfies the requirement {} (from versions: {versions})\nERROR: No matching distribution found for {}\n",
                    req.text, req.text
                ));
                return Ok(1);
            };
            if let Some(v) = installed_version(cx, &sp, p.name()) {
                cx.out(
                    format!(
                        "Requirement already satisfied: {} in {sp} (from {}) ({v})\n",
                        req.text,
                        parent.as_deref().unwrap_or("-r requirements")
                    )
                    .replace(" (from -r requirements)", ""),
                );
                continue;
            }
            match &parent {
                Some(parent) => cx.out(format!("Collecting {} (from {parent})\n", req.text)),
                None => cx.out(format!("Collecting {}\n", req.text)),
            }
            let wheel = wheel_name(p);
            cx.out(format!(
                "  Downloading {wheel} ({})\n",
                pip_size(p.download_size())
            ));
            if !no_cache {
                let url = format!("https://files.pythonhosted.org/packages/{wheel}");
                let hex = Digest::sha256_of(url.as_bytes()).hex();
                let home = cx
                    .env
                    .get("HOME")
                    .cloned()
                    .unwrap_or_else(|| "/root".to_owned());
                let path = format!(
                    "{home}/.cache/pip/http-v2/{}/{}/{}/{}/{}/{}.body",
                    &hex[0..1],
                    &hex[1..2],
                    &hex[2..3],
                    &hex[3..4],
                    &hex[4..5],
                    &hex[5..]
                );
                super::mkdir_parent(cx.fs, &path)?;
                cx.fs.write_data(
                    &path,
                    simulated("pip-cache", p.version(), &wheel, p.download_size()),
                    0o600,
                )?;
            }
            chosen.push(p);
            for dep in p.deps() {
                if let Some(name) = dep.first() {
                    queue.push((
                        Requirement {
                            text: name.clone(),
                            name: name.clone(),
                            pinned: None,
                        },
                        Some(p.name().to_owned()),
                    ));
                }
            }
        }
        if chosen.is_empty() {
            return Ok(0);
        }
        // pip installs dependencies first.
        chosen.reverse();
        let names: Vec<&str> = chosen.iter().map(|p| p.name()).collect();
        cx.out(format!(
            "Installing collected packages: {}\n",
            names.join(", ")
        ));
        let bin = "/usr/local/bin";
        for p in &chosen {
            p.install(cx.fs, &sp, &|_| false)?;
            let dist_info = format!(
                "{sp}/{}-{}.dist-info",
                p.name().replace('-', "_"),
                p.version()
            );
            if cx.fs.exists(&dist_info) {
                cx.fs
                    .write(&format!("{dist_info}/INSTALLER"), b"pip\n", 0o644)?;
            }
            for (script, _) in p.entry_points() {
                let text = format!(
                    "#!/usr/local/bin/python\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import main\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n",
                    module = p.name().replace('-', "_")
                );
                cx.write_text(&format!("{bin}/{script}"), &text, 0o755)?;
            }
        }
        let done: Vec<String> = chosen
            .iter()
            .map(|p| format!("{}-{}", p.name(), p.version()))
            .collect();
        cx.out(format!("Successfully installed {}\n", done.join(" ")));
        cx.err("WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager. It is recommended to use a virtual environment instead: https://pip.pypa.io/warnings/venv\n");
        Ok(0)
    }
}

/// The wheel's file name: `flask-3.0.3-py3-none-any.whl`.
fn wheel_name(p: &Package) -> String {
    let tag = p
        .flags()
        .iter()
        .find(|f| !f.contains('='))
        .map_or("py3-none-any", String::as_str);
    format!("{}-{}-{tag}.whl", p.name().replace('-', "_"), p.version())
}

fn installed_version(cx: &PkgCtx<'_>, sp: &str, name: &str) -> Option<String> {
    let prefix = format!("{}-", name.replace('-', "_"));
    cx.fs.read_dir(sp).ok()?.iter().find_map(|e| {
        let lower = e.name.to_lowercase();
        lower
            .strip_prefix(&prefix)
            .and_then(|v| v.strip_suffix(".dist-info"))
            .map(str::to_owned)
    })
}

/// The interpreter's `site-packages`: the first `/usr/local/lib/python3.*` there is, else 3.9's.
pub(crate) fn site_packages(cx: &PkgCtx<'_>) -> String {
    format!("/usr/local/lib/python{}/site-packages", python_version(cx))
}

fn python_version(cx: &PkgCtx<'_>) -> String {
    cx.fs
        .read_dir("/usr/local/lib")
        .ok()
        .and_then(|e| {
            e.iter()
                .find_map(|e| e.name.strip_prefix("python3.").map(|v| format!("3.{v}")))
        })
        .unwrap_or_else(|| "3.9".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_normalise() {
        let r = parse_requirement("Flask_Login[extra]==0.6.3 ; python_version > '3'").unwrap();
        assert_eq!(
            (r.name.as_str(), r.pinned.as_deref()),
            ("flask-login", Some("0.6.3"))
        );
        assert_eq!(parse_requirement("redis>=4").unwrap().pinned, None);
        assert_eq!(pip_size(101_735), "101 kB");
        assert_eq!(pip_size(2_500_000), "2.5 MB");
    }
}
