//! `apt-get`: update, install, remove, purge, clean, over Debian bookworm packages from the
//! catalog, with dpkg's database in `/var/lib/dpkg` and its `path-exclude` rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use super::{Manager, PkgCtx, SIMULATED_NOTE, apt_size, fs_failure, mkdir_parent, wrapped_list};
use crate::fs::{FsError, UnionFs};
use crate::sim::catalog::{Catalog, Package};

const STATUS: &str = "/var/lib/dpkg/status";
const LISTS: &str = "/var/lib/apt/lists";
const MIRROR: &str = "http://deb.debian.org/debian bookworm/main amd64";

/// The simulated `apt-get`.
#[derive(Debug, Clone)]
pub struct AptGet {
    catalog: Arc<Catalog>,
}

impl AptGet {
    /// `apt-get` over the catalog's Debian section.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

#[derive(Default)]
struct Opts {
    yes: bool,
    recommends: bool,
    purge: bool,
    command: Option<String>,
    names: Vec<String>,
}

impl Manager for AptGet {
    fn run(&self, cx: &mut PkgCtx<'_>, args: &[String]) -> i32 {
        let mut o = Opts {
            recommends: true,
            ..Opts::default()
        };
        for a in args.iter().skip(1) {
            match a.as_str() {
                "-y" | "--yes" | "--assume-yes" => o.yes = true,
                "--no-install-recommends" => o.recommends = false,
                "--install-recommends" => o.recommends = true,
                "--purge" => o.purge = true,
                s if s.starts_with("--") => {}
                s if s.starts_with('-') && s.len() > 1 => {
                    if s.contains('y') {
                        o.yes = true;
                    }
                }
                s if o.command.is_none() => o.command = Some(s.to_owned()),
                s => o.names.push(s.to_owned()),
            }
        }
        let Some(command) = o.command.clone() else {
            cx.out(format!(
                "{SIMULATED_NOTE}\napt 2.6.1 (amd64)\nUsage: apt-get [options] command\n"
            ));
            return 0;
        };
        cx.out(format!(
            "{SIMULATED_NOTE} (Debian bookworm packages from the catalog)\n"
        ));
        let result = match command.as_str() {
            "update" => self.update(cx),
            "install" => self.install(cx, &o),
            "remove" | "purge" | "autoremove" => {
                o.purge |= command == "purge";
                self.remove(cx, &o)
            }
            "clean" | "autoclean" => clean(cx.fs).map(|()| 0),
            other => {
                cx.err(format!("E: Invalid operation {other}\n"));
                Ok(100)
            }
        };
        result.unwrap_or_else(|e| fs_failure(cx, "E: apt-get", &e, 100))
    }
}

impl AptGet {
    fn update(&self, cx: &mut PkgCtx<'_>) -> Result<i32, FsError> {
        let mut n = 0;
        let mut fetched = 0;
        for (path, size) in self.catalog.apt_lists() {
            n += 1;
            fetched += size;
            let name = path.rsplit('/').next().unwrap_or(path);
            let what = name
                .strip_prefix("deb.debian.org_")
                .unwrap_or(name)
                .replace("_dists_", " ")
                .replace("_binary-amd64_", "/")
                .replace("_main/", "/main amd64 ")
                .replace('_', " ");
            cx.out(format!(
                "Get:{n} http://deb.debian.org/{what} [{}]\n",
                apt_size(*size)
            ));
            let abs = format!("/{path}");
            mkdir_parent(cx.fs, &abs)?;
            let data = crate::sim::catalog::simulated("apt-lists", "bookworm", path, *size);
            cx.fs.write_data(&abs, data, 0o644)?;
        }
        cx.fs.mkdir_all(&format!("{LISTS}/partial"), 0o700)?;
        if !cx.fs.exists(&format!("{LISTS}/lock")) {
            cx.fs.write(&format!("{LISTS}/lock"), b"", 0o640)?;
        }
        cx.out(format!(
            "Fetched {} in 0s (simulated)\nReading package lists...\n",
            apt_size(fetched)
        ));
        Ok(0)
    }

    /// Prints apt's reading lines, then finds the named packages or reports the unknown ones.
    fn locate<'c>(
        &'c self,
        cx: &mut PkgCtx<'_>,
        names: &[String],
    ) -> Result<Vec<&'c Package>, i32> {
        cx.out(
            "Reading package lists...\nBuilding dependency tree...\nReading state information...\n",
        );
        let lists = lists_present(cx.fs);
        let mut found = Vec::new();
        let mut status = 0;
        for spec in names {
            let (name, version) = spec
                .split_once('=')
                .map_or((spec.as_str(), None), |(n, v)| (n, Some(v)));
            match self.catalog.debian().get(name).filter(|_| lists) {
                None => {
                    cx.err(format!("E: Unable to locate package {name}\n"));
                    status = 100;
                }
                Some(p) if version.is_some_and(|v| v != p.version()) => {
                    cx.err(format!(
                        "E: Version '{}' for '{name}' was not found\n",
                        version.unwrap_or_default()
                    ));
                    status = 100;
                }
                Some(p) => found.push(p),
            }
        }
        if status == 0 { Ok(found) } else { Err(status) }
    }

    fn install(&self, cx: &mut PkgCtx<'_>, o: &Opts) -> Result<i32, FsError> {
        let requested = match self.locate(cx, &o.names) {
            Ok(p) => p,
            Err(status) => return Ok(status),
        };
        let installed = installed(cx);
        // Depth-first, dependencies before dependants, as dpkg configures them.
        let mut order: Vec<&Package> = Vec::new();
        let mut seen = BTreeSet::new();
        for p in &requested {
            self.visit(p, o.recommends, &installed, &mut seen, &mut order);
        }
        let wanted: BTreeSet<&str> = requested.iter().map(|p| p.name()).collect();
        for p in &requested {
            if installed.contains_key(p.name()) {
                cx.out(format!(
                    "{} is already the newest version ({}).\n",
                    p.name(),
                    p.version()
                ));
            }
        }
        let mut extra: Vec<&str> = order
            .iter()
            .map(|p| p.name())
            .filter(|n| !wanted.contains(n))
            .collect();
        extra.sort_unstable();
        if !extra.is_empty() {
            cx.out("The following additional packages will be installed:\n");
            cx.out(wrapped_list(&extra));
        }
        let mut new: Vec<&str> = order.iter().map(|p| p.name()).collect();
        new.sort_unstable();
        if !new.is_empty() {
            cx.out("The following NEW packages will be installed:\n");
            cx.out(wrapped_list(&new));
        }
        let download: u64 = order.iter().map(|p| p.download_size()).sum();
        let disk: u64 = order.iter().map(|p| installed_kib(p) * 1024).sum();
        cx.out(format!(
            "0 upgraded, {} newly installed, 0 to remove and 0 not upgraded.\n",
            order.len()
        ));
        if order.is_empty() {
            return Ok(0);
        }
        cx.out(format!(
            "Need to get {} of archives.\nAfter this operation, {} of additional disk space will be used.\n",
            apt_size(download),
            apt_size(disk)
        ));
        if !o.yes && !extra.is_empty() {
            cx.out("Do you want to continue? [Y/n] Abort.\n");
            return Ok(1);
        }
        for (i, p) in order.iter().enumerate() {
            cx.out(format!(
                "Get:{} {MIRROR} {} {} [{}]\n",
                i + 1,
                p.name(),
                p.version(),
                apt_size(p.download_size())
            ));
        }
        cx.out(format!(
            "debconf: delaying package configuration, since apt-utils is not installed\nFetched {} in 0s (simulated)\n",
            apt_size(download)
        ));
        let excludes = DpkgExcludes::read(cx);
        let mut count = database_size(cx);
        for (i, p) in order.iter().enumerate() {
            cx.out(format!(
                "Selecting previously unselected package {}.\n",
                p.name()
            ));
            if i == 0 {
                cx.out(format!(
                    "(Reading database ... {count} files and directories currently installed.)\n"
                ));
            }
            cx.out(format!(
                "Preparing to unpack .../{i:02}-{}_{}_amd64.deb ...\nUnpacking {} ({}) ...\n",
                p.name(),
                p.version().replace(':', "%3a"),
                p.name(),
                p.version()
            ));
            count += install_deb(cx.fs, p, &|path| excludes.excluded(path))?;
        }
        let mut log = String::new();
        for p in &order {
            cx.out(format!("Setting up {} ({}) ...\n", p.name(), p.version()));
            let _ = writeln!(log, "status installed {} {}", p.name(), p.version());
        }
        let libs = installed.contains_key("libc-bin")
            && order
                .iter()
                .any(|p| p.files().iter().any(|f| f.path.contains(".so")));
        if let Some(libc) = self.catalog.debian().get("libc-bin").filter(|_| libs) {
            cx.out(format!(
                "Processing triggers for libc-bin ({}) ...\n",
                libc.version()
            ));
        }
        cx.append_text("/var/log/dpkg.log", &log)?;
        cx.append_text(
            "/var/log/apt/history.log",
            &format!("\nStart-Date: simulated\nCommandline: apt-get install {}\nInstall: {}\nEnd-Date: simulated\n", o.names.join(" "), new.join(", ")),
        )?;
        Ok(0)
    }

    fn visit<'c>(
        &'c self,
        p: &'c Package,
        recommends: bool,
        installed: &BTreeMap<String, String>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<&'c Package>,
    ) {
        if installed.contains_key(p.name()) || !seen.insert(p.name().to_owned()) {
            return;
        }
        let groups = p
            .deps()
            .iter()
            .chain(if recommends { p.recommends() } else { &[] });
        for group in groups {
            if group
                .iter()
                .any(|alt| installed.contains_key(alt) || seen.contains(alt))
            {
                continue;
            }
            if let Some(dep) = group.iter().find_map(|alt| self.catalog.debian().get(alt)) {
                self.visit(dep, recommends, installed, seen, order);
            }
        }
        order.push(p);
    }

    fn remove(&self, cx: &mut PkgCtx<'_>, o: &Opts) -> Result<i32, FsError> {
        let requested = match self.locate(cx, &o.names) {
            Ok(p) => p,
            Err(status) => return Ok(status),
        };
        let installed = installed(cx);
        let mut gone = Vec::new();
        for p in requested {
            if installed.contains_key(p.name()) {
                gone.push(p);
            } else {
                cx.out(format!(
                    "Package '{}' is not installed, so not removed\n",
                    p.name()
                ));
            }
        }
        if !gone.is_empty() {
            cx.out("The following packages will be REMOVED:\n");
            let names: Vec<String> = gone
                .iter()
                .map(|p| format!("{}{}", p.name(), if o.purge { "*" } else { "" }))
                .collect();
            cx.out(wrapped_list(
                &names.iter().map(String::as_str).collect::<Vec<_>>(),
            ));
        }
        cx.out(format!(
            "0 upgraded, 0 newly installed, {} to remove and 0 not upgraded.\n",
            gone.len()
        ));
        if gone.is_empty() {
            return Ok(0);
        }
        let freed: u64 = gone.iter().map(|p| installed_kib(p) * 1024).sum();
        cx.out(format!(
            "After this operation, {} disk space will be freed.\n",
            apt_size(freed)
        ));
        let count = database_size(cx);
        cx.out(format!(
            "(Reading database ... {count} files and directories currently installed.)\n"
        ));
        for p in gone {
            cx.out(format!("Removing {} ({}) ...\n", p.name(), p.version()));
            remove_deb(cx, p.name())?;
        }
        Ok(0)
    }
}

/// `apt-get clean`: the downloaded archives and apt's binary caches (not the lists).
fn clean(fs: &mut UnionFs) -> Result<(), FsError> {
    for dir in [
        "/var/cache/apt/archives",
        "/var/cache/apt/archives/partial",
        "/var/cache/apt",
    ] {
        let Ok(entries) = fs.read_dir(dir) else {
            continue;
        };
        for e in entries {
            if [".deb", ".bin"].iter().any(|x| e.name.ends_with(x)) {
                fs.remove(&format!("{dir}/{}", e.name))?;
            }
        }
    }
    Ok(())
}

/// Whether `apt-get update` has run: without index files, apt knows no package.
fn lists_present(fs: &UnionFs) -> bool {
    fs.read_dir(LISTS)
        .is_ok_and(|entries| entries.iter().any(|e| e.name.contains("_Packages")))
}

/// Installed packages (name to version) from dpkg's status file.
fn installed(cx: &PkgCtx<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(text) = cx.read_text(STATUS) else {
        return out;
    };
    for stanza in text.split("\n\n") {
        let field = |f: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(f).and_then(|v| v.strip_prefix(": ")))
        };
        let live = field("Status").is_some_and(|s| s.ends_with(" installed"));
        if let (Some(name), Some(version), true) = (field("Package"), field("Version"), live) {
            out.insert(name.to_owned(), version.to_owned());
        }
    }
    out
}

/// dpkg's `Installed-Size` in KiB.
fn installed_kib(p: &Package) -> u64 {
    p.total_bytes().div_ceil(1024)
}

/// What `(Reading database ... N files and directories currently installed.)` counts.
fn database_size(cx: &PkgCtx<'_>) -> usize {
    let Ok(entries) = cx.fs.read_dir("/var/lib/dpkg/info") else {
        return 0;
    };
    let mut paths = BTreeSet::new();
    for e in entries
        .iter()
        .filter(|e| e.name.rsplit('.').next() == Some("list"))
    {
        if let Some(text) = cx.read_text(&format!("/var/lib/dpkg/info/{}", e.name)) {
            paths.extend(text.lines().map(str::to_owned));
        }
    }
    paths.len()
}

/// The status-file stanza dpkg writes for an installed package.
pub(crate) fn status_stanza(p: &Package) -> String {
    let mut s = format!(
        "Package: {}\nStatus: install ok installed\nPriority: {}\n",
        p.name(),
        if p.has_flag("required") {
            "required"
        } else {
            "optional"
        }
    );
    if p.has_flag("essential") {
        s.push_str("Essential: yes\n");
    }
    let _ = write!(
        s,
        "Installed-Size: {}\nArchitecture: amd64\nVersion: {}\n",
        installed_kib(p),
        p.version()
    );
    if !p.deps().is_empty() {
        let deps: Vec<String> = p.deps().iter().map(|g| g.join(" | ")).collect();
        let _ = writeln!(s, "Depends: {}", deps.join(", "));
    }
    let _ = write!(s, "Description: {} (simulated by layerbox)\n\n", p.name());
    s
}

/// Unpacks a Debian package: its files (less the excluded ones), its `info/<name>.list` and its
/// status stanza. Returns how many paths the `.list` names.
pub(crate) fn install_deb(
    fs: &mut UnionFs,
    p: &Package,
    exclude: &dyn Fn(&str) -> bool,
) -> Result<usize, FsError> {
    let written = p.install(fs, "/", exclude)?;
    // Every path written and its directories, sorted, once each. A directory is added with
    // its ancestors until one that the previous path's directory already brought in.
    let mut list: Vec<&str> = Vec::with_capacity(written.len() * 2 + 1);
    list.push("/.");
    let mut prev_dir = "";
    for path in &written {
        let mut dir = path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            let known = prev_dir.starts_with(parent)
                && prev_dir
                    .as_bytes()
                    .get(parent.len())
                    .is_none_or(|&b| b == b'/');
            if parent.is_empty() || known {
                break;
            }
            list.push(parent);
            dir = parent;
        }
        prev_dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        list.push(path);
    }
    list.sort_unstable();
    list.dedup();
    let mut text = String::with_capacity(list.iter().map(|p| p.len() + 1).sum());
    for path in &list {
        text.push_str(path);
        text.push('\n');
    }
    let info = format!("/var/lib/dpkg/info/{}.list", p.name());
    mkdir_parent(fs, &info)?;
    fs.write(&info, text.as_bytes(), 0o644)?;
    let stanza = status_stanza(p);
    if fs.exists(STATUS) {
        fs.append(STATUS, stanza.as_bytes())?;
    } else {
        mkdir_parent(fs, STATUS)?;
        fs.write(STATUS, stanza.as_bytes(), 0o644)?;
    }
    Ok(list.len())
}

fn remove_deb(cx: &mut PkgCtx<'_>, name: &str) -> Result<(), FsError> {
    let info = format!("/var/lib/dpkg/info/{name}.list");
    if let Some(list) = cx.read_text(&info) {
        for path in list.lines().rev() {
            match cx.fs.lstat(path) {
                Ok(st) if st.file_type.ls_char() == 'd' => {
                    if cx.fs.read_dir(path).is_ok_and(|e| e.is_empty()) {
                        cx.fs.remove(path)?;
                    }
                }
                Ok(_) => cx.fs.remove(path)?,
                Err(_) => {}
            }
        }
        cx.fs.remove(&info)?;
    }
    if let Some(text) = cx.read_text(STATUS) {
        let kept: Vec<&str> = text
            .split_inclusive("\n\n")
            .filter(|s| !s.starts_with(&format!("Package: {name}\n")))
            .collect();
        cx.fs.write(STATUS, kept.concat().as_bytes(), 0o644)?;
    }
    Ok(())
}

/// dpkg's `path-exclude`/`path-include` rules from `/etc/dpkg/dpkg.cfg.d` (the slim images
/// drop docs, man pages and locales this way). The last matching rule wins.
pub(crate) struct DpkgExcludes {
    rules: Vec<(bool, String)>,
}

impl DpkgExcludes {
    fn read(cx: &PkgCtx<'_>) -> Self {
        let mut text = String::new();
        if let Ok(entries) = cx.fs.read_dir("/etc/dpkg/dpkg.cfg.d") {
            for e in entries {
                text.push_str(
                    &cx.read_text(&format!("/etc/dpkg/dpkg.cfg.d/{}", e.name))
                        .unwrap_or_default(),
                );
                text.push('\n');
            }
        }
        Self::parse(&text)
    }

    /// The rules in a dpkg configuration text.
    pub(crate) fn parse(text: &str) -> Self {
        let rules = text
            .lines()
            .filter_map(|l| {
                let (k, v) = l.trim().split_once(' ')?;
                match k {
                    "path-exclude" => Some((true, v.trim().to_owned())),
                    "path-include" => Some((false, v.trim().to_owned())),
                    _ => None,
                }
            })
            .collect();
        Self { rules }
    }

    /// Whether dpkg would leave the absolute `path` out.
    pub(crate) fn excluded(&self, path: &str) -> bool {
        let mut out = false;
        for (exclude, pattern) in &self.rules {
            if glob(pattern.as_bytes(), path.as_bytes()) {
                out = *exclude;
            }
        }
        out
    }
}

/// `fnmatch` without `FNM_PATHNAME`: `*` also matches `/`; `?` one byte.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slim_rules_keep_copyright_files() {
        let r = DpkgExcludes::parse(
            "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n",
        );
        assert!(r.excluded("/usr/share/doc/curl/changelog.gz"));
        assert!(!r.excluded("/usr/share/doc/curl/copyright"));
        assert!(r.excluded("/usr/share/man/man1/curl.1.gz"));
        assert!(!r.excluded("/usr/bin/curl"));
    }

    #[test]
    fn the_dpkg_list_names_each_file_and_directory_once_in_order() {
        let catalog = Catalog::parse(
            "S deb bookworm amd64\nP hello 1.0\nF 0\tusr/bin/hello\t100 755\n\
F 7\t-x/a\t1\nF 4\tlib/x/y/z\t2\nF 12\tq\t3\nF 4\tshare/doc/hello/copyright\t4\n\
L 0\tusr/lib/hello.so\tx\n",
        )
        .unwrap();
        let mut fs = UnionFs::new(crate::fs::LayerStack::new());
        let p = catalog.debian().get("hello").unwrap();
        assert_eq!(install_deb(&mut fs, p, &|_| false).unwrap(), 16);
        let list = fs.read("/var/lib/dpkg/info/hello.list").unwrap();
        assert_eq!(
            String::from_utf8_lossy(list.bytes().unwrap()),
            "/.\n/usr\n/usr/bin\n/usr/bin-x\n/usr/bin-x/a\n/usr/bin/hello\n/usr/lib\n\
/usr/lib/hello.so\n/usr/lib/x\n/usr/lib/x/y\n/usr/lib/x/y/q\n/usr/lib/x/y/z\n/usr/share\n\
/usr/share/doc\n/usr/share/doc/hello\n/usr/share/doc/hello/copyright\n"
        );
    }
}
