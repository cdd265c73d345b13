//! `apk add`/`apk del`/`apk update` for the alpine image.
//!
//! No Alpine registry is reachable from where the catalog is generated, so Alpine packages are
//! modelled on the Debian package of the same name (files and sizes of bookworm's build), less
//! the Debian base system, which Alpine's musl and busybox replace. apk's index files are
//! modelled at the size of Alpine 3.20's `APKINDEX.tar.gz` for main and community.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use super::{Manager, PkgCtx, SIMULATED_NOTE, fs_failure};
use crate::fs::FsError;
use crate::sim::catalog::{Catalog, Package, simulated};

const INSTALLED: &str = "/lib/apk/db/installed";
const MIRROR: &str = "https://dl-cdn.alpinelinux.org/alpine/v3.20";
/// Modelled sizes of v3.20's `main` and `community` `APKINDEX.tar.gz`.
const INDEXES: [(&str, &str, u64); 2] = [
    ("main", "APKINDEX.5dcd8d15.tar.gz", 413_000),
    ("community", "APKINDEX.d6a5cb8d.tar.gz", 1_472_000),
];

/// The simulated `apk`.
#[derive(Debug, Clone)]
pub struct Apk {
    catalog: Arc<Catalog>,
}

impl Apk {
    /// `apk` modelled over the catalog's Debian section.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

impl Manager for Apk {
    fn run(&self, cx: &mut PkgCtx<'_>, args: &[String]) -> i32 {
        let mut command = None;
        let mut no_cache = false;
        let mut names = Vec::new();
        for a in args.iter().skip(1) {
            match a.as_str() {
                "--no-cache" => no_cache = true,
                s if s.starts_with('-') => {}
                s if command.is_none() => command = Some(s.to_owned()),
                s => names.push(s.to_owned()),
            }
        }
        cx.out(format!(
            "{SIMULATED_NOTE} (Alpine packages modelled on the catalog)\n"
        ));
        let result = match command.as_deref() {
            Some("add") => self.add(cx, &names, no_cache),
            Some("del") => self.del(cx, &names),
            Some("update") => fetch_indexes(cx, false).map(|()| {
                cx.out("v3.20.3 [https://dl-cdn.alpinelinux.org/alpine/v3.20/main]\nv3.20.3 [https://dl-cdn.alpinelinux.org/alpine/v3.20/community]\nOK: 24170 distinct packages available\n");
                0
            }),
            _ => {
                cx.err("apk-tools 2.14.4, compiled for x86_64.\n\nusage: apk [<OPTIONS>...] COMMAND [<ARGUMENTS>...]\n");
                Ok(1)
            }
        };
        result.unwrap_or_else(|e| fs_failure(cx, "ERROR", &e, 1))
    }
}

fn fetch_indexes(cx: &mut PkgCtx<'_>, no_cache: bool) -> Result<(), FsError> {
    for (repo, file, size) in INDEXES {
        cx.out(format!("fetch {MIRROR}/{repo}/x86_64/APKINDEX.tar.gz\n"));
        if !no_cache {
            let path = format!("/var/cache/apk/{file}");
            super::mkdir_parent(cx.fs, &path)?;
            cx.fs
                .write_data(&path, simulated("apkindex", "3.20", repo, size), 0o644)?;
        }
    }
    Ok(())
}

fn installed(cx: &PkgCtx<'_>) -> BTreeSet<String> {
    cx.read_text(INSTALLED)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("P:").map(str::to_owned))
        .collect()
}

impl Apk {
    fn add(&self, cx: &mut PkgCtx<'_>, names: &[String], no_cache: bool) -> Result<i32, FsError> {
        fetch_indexes(cx, no_cache)?;
        let unknown: Vec<&String> = names
            .iter()
            .filter(|n| self.catalog.debian().get(n).is_none())
            .collect();
        if !unknown.is_empty() {
            cx.err("ERROR: unable to select packages:\n");
            for n in &unknown {
                cx.err(format!(
                    "  {n} (no such package):\n    required by: world[{n}]\n"
                ));
            }
            return Ok(i32::try_from(unknown.len()).unwrap_or(1));
        }
        let have = installed(cx);
        let mut order: Vec<&Package> = Vec::new();
        // Debian's base system (the required packages and what they pull in) stands for what
        // musl and busybox already provide on Alpine.
        let mut seen = self.debian_base();
        for n in names {
            if let Some(p) = self.catalog.debian().get(n) {
                // Asked for by name (`apk add bash`): installed even if Debian counts it as base.
                seen.remove(n);
                self.visit(p, &have, &mut seen, &mut order);
            }
        }
        let total = order.len();
        let mut db = String::new();
        for (i, p) in order.iter().enumerate() {
            let version = alpine_version(p);
            cx.out(format!(
                "({}/{total}) Installing {} ({version})\n",
                i + 1,
                p.name()
            ));
            p.install(cx.fs, "/", &|path| {
                path.starts_with("/usr/share/doc/") || path.starts_with("/usr/share/man/")
            })?;
            let _ = write!(
                db,
                "C:Q1simulated=\nP:{}\nV:{version}\nA:x86_64\nS:{}\nI:{}\nT:{} (modelled by layerbox)\n\n",
                p.name(),
                p.download_size(),
                p.total_bytes(),
                p.name()
            );
        }
        if !db.is_empty() {
            cx.append_text(INSTALLED, &db)?;
            let world = "/etc/apk/world";
            let mut entries: BTreeSet<String> = cx
                .read_text(world)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            entries.extend(names.iter().cloned());
            let text: String = entries.into_iter().map(|e| e + "\n").collect();
            cx.write_text(world, &text, 0o644)?;
        }
        let count = installed(cx).len();
        let mib = Self::installed_bytes(cx) / (1024 * 1024);
        cx.out(format!("OK: {mib} MiB in {count} packages\n"));
        Ok(0)
    }

    fn visit<'c>(
        &'c self,
        p: &'c Package,
        have: &BTreeSet<String>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<&'c Package>,
    ) {
        if have.contains(p.name()) || !seen.insert(p.name().to_owned()) {
            return;
        }
        for group in p.deps() {
            if let Some(dep) = group.iter().find_map(|d| self.catalog.debian().get(d)) {
                self.visit(dep, have, seen, order);
            }
        }
        order.push(p);
    }

    /// The names of Debian's required packages and their dependency closure.
    fn debian_base(&self) -> BTreeSet<String> {
        let debian = self.catalog.debian();
        let mut queue: Vec<&Package> = debian.iter().filter(|p| p.has_flag("required")).collect();
        let mut seen = BTreeSet::new();
        while let Some(p) = queue.pop() {
            if seen.insert(p.name().to_owned()) {
                queue.extend(
                    p.deps()
                        .iter()
                        .filter_map(|g| g.iter().find_map(|d| debian.get(d))),
                );
            }
        }
        seen
    }

    fn installed_bytes(cx: &PkgCtx<'_>) -> u64 {
        cx.read_text(INSTALLED)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("I:").and_then(|n| n.parse::<u64>().ok()))
            .sum()
    }

    fn del(&self, cx: &mut PkgCtx<'_>, names: &[String]) -> Result<i32, FsError> {
        let have = installed(cx);
        let total = names.iter().filter(|n| have.contains(*n)).count();
        let mut i = 0;
        for n in names {
            if !have.contains(n) {
                cx.err(format!("WARNING: No such package: {n}\n"));
                continue;
            }
            i += 1;
            let Some(p) = self.catalog.debian().get(n) else {
                continue;
            };
            cx.out(format!(
                "({i}/{total}) Purging {} ({})\n",
                p.name(),
                alpine_version(p)
            ));
            for item in p.files() {
                let path = format!("/{}", item.path);
                if cx
                    .fs
                    .lstat(&path)
                    .is_ok_and(|s| s.file_type.ls_char() != 'd')
                {
                    cx.fs.remove(&path)?;
                }
            }
            if let Some(text) = cx.read_text(INSTALLED) {
                let kept: String = text
                    .split_inclusive("\n\n")
                    .filter(|s| !s.contains(&format!("\nP:{n}\n")))
                    .collect();
                cx.fs.write(INSTALLED, kept.as_bytes(), 0o644)?;
            }
        }
        let count = installed(cx).len();
        let mib = Self::installed_bytes(cx) / (1024 * 1024);
        cx.out(format!("OK: {mib} MiB in {count} packages\n"));
        Ok(0)
    }
}

/// An Alpine-looking version from the Debian one: upstream version and `-r0`.
fn alpine_version(p: &Package) -> String {
    let upstream = p.version().split(':').next_back().unwrap_or("");
    let upstream = upstream.split(['-', '+', '~']).next().unwrap_or(upstream);
    format!("{upstream}-r0")
}
