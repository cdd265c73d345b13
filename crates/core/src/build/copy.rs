//! COPY and ADD (spec §13.8): selecting sources from the build context, another stage or an
//! image, their checksums for the cache, and copying them onto the step's filesystem.

use std::collections::BTreeMap;

use super::dispatch::{Builder, clean_abs, mkdir_owned};
use super::{BuildError, StageState};
use crate::dockerfile::expand::Lexer;
use crate::dockerfile::ignore::DockerIgnore;
use crate::dockerfile::instructions::SourcesAndDest;
use crate::fs::{Entry, EntryKind, FileData, FileType, Meta, UnionFs};
use crate::image::{Digest, DigestWriter};

/// A COPY/ADD with its words expanded.
pub(crate) struct CopySpec {
    sources: Vec<String>,
    heredocs: Vec<(String, String)>,
    dest: String,
    chown: Option<String>,
    owner: Option<String>,
    chmod: Option<(String, Chmod)>,
    is_add: bool,
    unpack: Option<bool>,
    exclude: Option<(Vec<String>, DockerIgnore)>,
    /// `COPY --parents`: each source keeps its path (from its `/./` pivot on) under the
    /// destination.
    parents: bool,
    /// `--link`: the copy lands in a layer of its own, made on an empty filesystem.
    link: bool,
}

/// What one source selected.
pub(crate) enum Selected {
    /// A file or symlink, copied under its base name or as the destination itself; `kept` is
    /// the path `--parents` recreates under the destination (from the pivot on).
    File {
        path: String,
        kept: String,
        entry: Entry,
    },
    /// A directory: its contents are copied into the destination (below `kept` with
    /// `--parents`).
    Dir {
        path: String,
        kept: String,
        meta: Meta,
        entries: Vec<(String, Entry)>,
    },
    /// A heredoc source: an inline file.
    Heredoc { name: String, data: String },
}

pub(crate) struct Selection(Vec<Selected>);

impl Selection {
    /// A checksum per copied file (content, type, mode, owner, link target; never mtime), by
    /// path in the source, for the cache key and its reasons.
    pub(crate) fn checksums(&self) -> BTreeMap<String, Digest> {
        let mut out = BTreeMap::new();
        for s in &self.0 {
            match s {
                Selected::File { path, entry, .. } => {
                    out.insert(path.clone(), entry_digest(entry));
                }
                Selected::Dir { path, entries, .. } => {
                    for (rel, entry) in entries {
                        let key = if path.is_empty() {
                            rel.clone()
                        } else {
                            format!("{path}/{rel}")
                        };
                        out.insert(key, entry_digest(entry));
                    }
                }
                Selected::Heredoc { name, data } => {
                    out.insert(format!("<<{name}"), Digest::sha256_of(data.as_bytes()));
                }
            }
        }
        out
    }
}

fn entry_digest(e: &Entry) -> Digest {
    let mut w = DigestWriter::new();
    w.update(
        format!(
            "{:?}:{:o}:{}:{}:",
            e.file_type(),
            e.meta.mode,
            e.meta.uid,
            e.meta.gid
        )
        .as_bytes(),
    );
    match &e.kind {
        EntryKind::File(data) => w.update(data.digest().as_bytes()),
        EntryKind::Symlink(target) => w.update(target.as_bytes()),
        EntryKind::Dir { .. } => {}
    }
    w.finish()
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// A source path below the source root: leading `/` and `..` cannot escape it.
fn clean_source(src: &str) -> String {
    clean_abs(src).trim_start_matches('/').to_owned()
}

impl CopySpec {
    pub(crate) fn new(
        builder: &Builder<'_>,
        state: &StageState,
        sd: &SourcesAndDest,
        chown: &str,
        chmod: &str,
        is_add: bool,
        unpack: Option<bool>,
    ) -> Result<Self, BuildError> {
        let lexer = builder.lexer;
        let expand = |w: &str| lexer.process_word(w, &state.env);
        let mut sources = Vec::new();
        for s in &sd.source_paths {
            let s = expand(s)?;
            let remote =
                s.starts_with("http://") || s.starts_with("https://") || s.starts_with("git@");
            if remote && !is_add {
                return Err(BuildError::Step("source can't be a URL for COPY".into()));
            }
            if remote {
                return Err(BuildError::Step(format!(
                    "ADD {s}: the simulated engine has no network to download from"
                )));
            }
            sources.push(s);
        }
        let mut heredocs = Vec::new();
        for h in &sd.source_contents {
            let data = if h.expand {
                Lexer::heredoc_body().process_word(&h.data, &state.env)?
            } else {
                h.data.clone()
            };
            heredocs.push((h.path.clone(), data));
        }
        let chown = if chown.is_empty() {
            None
        } else {
            Some(expand(chown)?)
        };
        let chmod = if chmod.is_empty() {
            None
        } else {
            let v = expand(chmod)?;
            let mode = Chmod::parse(&v).ok_or_else(|| {
                BuildError::Step(format!(
                    "invalid chmod parameter: '{v}'. it should be octal string and between 0 and 07777"
                ))
            })?;
            Some((v, mode))
        };
        Ok(Self {
            sources,
            heredocs,
            dest: expand(&sd.dest_path)?,
            owner: chown.clone(),
            chown,
            chmod,
            is_add,
            unpack,
            exclude: None,
            parents: false,
            link: false,
        })
    }

    /// Sets `--parents` (COPY) and `--link`; `--link` is ignored with `--chmod`, as BuildKit
    /// does.
    pub(crate) fn with_flags(mut self, parents: bool, link: bool) -> Self {
        self.parents = parents;
        self.link = link && self.chmod.is_none();
        self
    }

    /// Whether the copy goes into a layer of its own (`--link`).
    pub(crate) fn is_link(&self) -> bool {
        self.link
    }

    /// Adds `--exclude` patterns (not expanded, `.dockerignore` syntax), matched against paths
    /// relative to each copied source.
    pub(crate) fn with_exclude(mut self, patterns: &[String]) -> Result<Self, BuildError> {
        if !patterns.is_empty() {
            let matcher = DockerIgnore::from_patterns(patterns)
                .map_err(|e| BuildError::Step(e.to_string()))?;
            self.exclude = Some((patterns.to_vec(), matcher));
        }
        Ok(self)
    }

    /// What changes the result besides the history text (for the cache key).
    pub(crate) fn op_extra(&self) -> String {
        self.exclude
            .as_ref()
            .map(|(p, _)| format!("exclude={}", p.join(",")))
            .unwrap_or_default()
    }

    fn excluded(&self, rel: &str) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|(_, m)| m.is_excluded(rel))
    }

    /// The instruction's arguments as history shows them (`--chown=1:2 a b /dest/`).
    pub(crate) fn history_args(&self) -> String {
        let mut parts = Vec::new();
        if self.parents {
            parts.push("--parents".to_owned());
        }
        if let Some(c) = &self.chown {
            parts.push(format!("--chown={c}"));
        }
        if let Some((c, _)) = &self.chmod {
            parts.push(format!("--chmod={c}"));
        }
        parts.extend(self.sources.iter().cloned());
        parts.extend(self.heredocs.iter().map(|(n, _)| format!("<<{n}")));
        parts.push(self.dest.clone());
        parts.join(" ")
    }

    /// What the sources select in `source` (the context, a stage or an image).
    pub(crate) fn select(&self, source: &UnionFs) -> Result<Selection, BuildError> {
        let mut out = Vec::new();
        for src in &self.sources {
            let cleaned = clean_source(src);
            // `--parents`: what comes before a `/./` is left out of the recreated path.
            let pivot = if self.parents {
                src.trim_start_matches("./")
                    .split_once("/./")
                    .map(|(before, _)| clean_source(before))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            if has_wildcard(&cleaned) {
                let depth = cleaned.split('/').count();
                let any_depth = cleaned.contains("**");
                let matcher = DockerIgnore::from_patterns([cleaned.as_str()])
                    .map_err(|e| BuildError::Step(e.to_string()))?;
                for (p, _) in source.walk("/")?.into_iter().skip(1) {
                    let rel = &p[1..];
                    if (any_depth || rel.split('/').count() == depth)
                        && matcher.is_excluded(rel)
                        && !self.excluded(rel)
                    {
                        out.push(self.select_path(source, rel, &pivot)?);
                    }
                }
            } else {
                if source.lstat(&format!("/{cleaned}")).is_err() {
                    return Err(BuildError::Step(format!(
                        "failed to compute cache key: failed to calculate checksum of ref: \"/{cleaned}\": not found"
                    )));
                }
                out.push(self.select_path(source, &cleaned, &pivot)?);
            }
        }
        for (name, data) in &self.heredocs {
            out.push(Selected::Heredoc {
                name: name.clone(),
                data: data.clone(),
            });
        }
        Ok(Selection(out))
    }

    /// The entry at `rel` in `source` (a file, symlink, or directory with its contents, less
    /// what `--exclude` leaves out).
    fn select_path(
        &self,
        source: &UnionFs,
        rel: &str,
        pivot: &str,
    ) -> Result<Selected, BuildError> {
        let abs = format!("/{rel}");
        let st = source.lstat(&abs)?;
        let kept = if self.parents {
            rel.strip_prefix(pivot)
                .unwrap_or(rel)
                .trim_start_matches('/')
                .to_owned()
        } else {
            String::new()
        };
        if st.file_type != FileType::Dir {
            return Ok(Selected::File {
                path: rel.to_owned(),
                kept,
                entry: entry_at(source, &abs)?,
            });
        }
        let meta = Meta {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
            mtime: st.mtime,
        };
        let mut entries = Vec::new();
        let base = if rel.is_empty() { 1 } else { abs.len() + 1 };
        for (p, _) in source.walk(&abs)?.into_iter().skip(1) {
            let inner = &p[base..];
            if !self.excluded(inner) {
                entries.push((inner.to_owned(), entry_at(source, &p)?));
            }
        }
        Ok(Selected::Dir {
            path: rel.to_owned(),
            kept,
            meta,
            entries,
        })
    }

    /// The `--chown` owner, its names looked up in the stage's `fs` (also for `--link`, whose
    /// copy runs on an empty filesystem).
    pub(crate) fn owner(&self, fs: &UnionFs) -> Option<(u32, u32)> {
        self.owner.as_deref().map(|o| lookup_owner(fs, o))
    }

    /// Copies the selection onto `fs` below `workdir`, owned by `owner` (from [`Self::owner`]).
    pub(crate) fn apply(
        &self,
        fs: &mut UnionFs,
        selection: &Selection,
        workdir: &str,
        owner: Option<(u32, u32)>,
    ) -> Result<(), BuildError> {
        let (uid_gid, mode) = (owner, self.chmod.as_ref().map(|(_, m)| m));
        let dest = if self.dest.starts_with('/') {
            self.dest.clone()
        } else {
            format!("{workdir}/{}", self.dest)
        };
        let dest_is_dir = self.parents
            || self.dest.ends_with('/')
            || self.dest.is_empty()
            || self.dest == "."
            || self.dest.ends_with("/.");
        let dest = clean_abs(&dest);
        let adjust = |mut e: Entry| {
            if let Some((uid, gid)) = uid_gid {
                e.meta.uid = uid;
                e.meta.gid = gid;
            }
            if let (Some(m), false) = (mode, e.file_type() == FileType::Symlink) {
                e.meta.mode = m.apply(e.meta.mode, e.is_dir());
            }
            e
        };
        let (puid, pgid) = uid_gid.unwrap_or((0, 0));
        let mtime = 0;
        for s in &selection.0 {
            match s {
                Selected::File { path, kept, entry } => {
                    let name = if self.parents {
                        kept.as_str()
                    } else {
                        path.rsplit('/').next().unwrap_or(path)
                    };
                    if self.is_add
                        && self.unpack != Some(false)
                        && let Some(layer) = tar_of(entry)
                    {
                        mkdir_owned(fs, &dest, puid, pgid, mtime)?;
                        for (p, _) in layer.iter() {
                            if let Some((_, e)) = layer.entry(p) {
                                fs.put(&format!("{dest}/{p}"), adjust(e.clone()))?;
                            }
                        }
                        continue;
                    }
                    let into_dir =
                        dest_is_dir || fs.stat(&dest).is_ok_and(|s| s.file_type == FileType::Dir);
                    let target = follow_dest(
                        fs,
                        if into_dir {
                            format!("{}/{name}", dest.trim_end_matches('/'))
                        } else {
                            dest.clone()
                        },
                    );
                    mkdir_owned(fs, parent(&target), puid, pgid, mtime)?;
                    fs.put(&target, adjust(entry.clone()))?;
                }
                Selected::Dir {
                    kept,
                    meta,
                    entries,
                    ..
                } => {
                    let dest = if kept.is_empty() {
                        dest.clone()
                    } else {
                        format!("{}/{kept}", dest.trim_end_matches('/'))
                    };
                    if fs.stat(&dest).is_err() {
                        mkdir_owned(fs, parent(&dest), puid, pgid, mtime)?;
                        fs.put(&dest, adjust(Entry::dir(*meta)))?;
                    }
                    for (rel, entry) in entries {
                        let target = format!("{}/{rel}", dest.trim_end_matches('/'));
                        if entry.is_dir()
                            && fs.stat(&target).is_ok_and(|s| s.file_type == FileType::Dir)
                        {
                            continue;
                        }
                        fs.put(&target, adjust(entry.clone()))?;
                    }
                }
                Selected::Heredoc { name, data } => {
                    let target = follow_dest(
                        fs,
                        if dest_is_dir || fs.stat(&dest).is_ok_and(|s| s.file_type == FileType::Dir)
                        {
                            format!("{}/{name}", dest.trim_end_matches('/'))
                        } else {
                            dest.clone()
                        },
                    );
                    mkdir_owned(fs, parent(&target), puid, pgid, mtime)?;
                    fs.put(
                        &target,
                        adjust(Entry::file(Meta::new(0o644, 0), data.as_bytes())),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// `--chmod`: octal (`0644`) or symbolic (`u=rwX,go=rX`, `+x`) as chmod(1) writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chmod {
    /// The mode itself.
    Octal(u32),
    /// Clauses of (who mask, operator, permission bits, `X`).
    Symbolic(Vec<(u32, char, u32, bool)>),
}

impl Chmod {
    pub(crate) fn parse(v: &str) -> Option<Self> {
        if v.bytes().all(|b| b.is_ascii_digit()) {
            return u32::from_str_radix(v, 8)
                .ok()
                .filter(|&m| m <= 0o7777)
                .map(Self::Octal);
        }
        let mut clauses = Vec::new();
        for clause in v.split(',') {
            let ops_at = clause.find(['+', '-', '='])?;
            let mut who = 0;
            for c in clause[..ops_at].chars() {
                who |= match c {
                    'u' => 0o4700,
                    'g' => 0o2070,
                    'o' => 0o1007,
                    'a' => 0o7777,
                    _ => return None,
                };
            }
            if who == 0 {
                who = 0o7777;
            }
            let rest = &clause[ops_at..];
            let mut chars = rest.chars().peekable();
            while let Some(op) = chars.next() {
                if !matches!(op, '+' | '-' | '=') {
                    return None;
                }
                let (mut bits, mut big_x) = (0, false);
                while let Some(&c) = chars.peek().filter(|c| !matches!(c, '+' | '-' | '=')) {
                    chars.next();
                    match c {
                        'r' => bits |= 0o444,
                        'w' => bits |= 0o222,
                        'x' => bits |= 0o111,
                        'X' => big_x = true,
                        's' => bits |= 0o6000,
                        't' => bits |= 0o1000,
                        _ => return None,
                    }
                }
                clauses.push((who, op, bits, big_x));
            }
        }
        Some(Self::Symbolic(clauses))
    }

    /// The new mode of an entry whose mode is `mode`.
    pub(crate) fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        match self {
            Self::Octal(m) => *m,
            Self::Symbolic(clauses) => {
                clauses.iter().fold(mode, |mode, &(who, op, bits, big_x)| {
                    let x = if big_x && (is_dir || mode & 0o111 != 0) {
                        0o111
                    } else {
                        0
                    };
                    let bits = (bits | x) & who;
                    match op {
                        '+' => mode | bits,
                        '-' => mode & !bits,
                        _ => (mode & !who) | bits,
                    }
                })
            }
        }
    }
}

/// Where a file copied to `target` lands: BuildKit resolves the destination inside the root
/// following symlinks, the last component too, so `COPY x /bin/cat` over `cat -> busybox`
/// rewrites `/bin/busybox` (a dangling link is replaced instead).
fn follow_dest(fs: &UnionFs, target: String) -> String {
    let is_link = fs
        .lstat(&target)
        .is_ok_and(|s| s.file_type == FileType::Symlink);
    if is_link {
        fs.canonicalize(&target).unwrap_or(target)
    } else {
        target
    }
}

fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

fn entry_at(source: &UnionFs, abs: &str) -> Result<Entry, BuildError> {
    let st = source.lstat(abs)?;
    let meta = Meta {
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        mtime: st.mtime,
    };
    let kind = match st.file_type {
        FileType::Dir => EntryKind::Dir { opaque: false },
        FileType::Symlink => EntryKind::Symlink(source.read_link(abs)?.to_owned()),
        FileType::File => EntryKind::File(source.read(abs)?.clone()),
    };
    Ok(Entry { meta, kind })
}

/// The layer inside a local tar archive (plain or gzip), if the file is one.
fn tar_of(entry: &Entry) -> Option<crate::fs::Layer> {
    let EntryKind::File(FileData::Bytes(bytes)) = &entry.kind else {
        return None;
    };
    let is_tar =
        bytes.get(257..262) == Some(b"ustar".as_slice()) || bytes.starts_with(&[0x1f, 0x8b]);
    if is_tar {
        crate::fs::tar::read_layer(bytes).ok()
    } else {
        None
    }
}

/// `--chown` / USER: `uid[:gid]` numbers, or names looked up in `/etc/passwd` and `/etc/group`
/// of `fs` (`root` is 0; unknown names fall back to 0 as BuildKit's code does).
pub(crate) fn lookup_owner(fs: &UnionFs, spec: &str) -> (u32, u32) {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let table = |path: &str| -> Vec<Vec<String>> {
        fs.read(path)
            .ok()
            .and_then(FileData::bytes)
            .map(|b| {
                String::from_utf8_lossy(b)
                    .lines()
                    .map(|l| l.split(':').map(str::to_owned).collect())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (uid, primary) = if let Ok(n) = user.parse::<u32>() {
        (n, n)
    } else {
        table("/etc/passwd")
            .iter()
            .find(|f| f.first().map(String::as_str) == Some(user))
            .map_or((0, 0), |f| {
                (
                    f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0),
                    f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0),
                )
            })
    };
    let gid = match group {
        None => primary,
        Some(g) => g.parse::<u32>().unwrap_or_else(|_| {
            table("/etc/group")
                .iter()
                .find(|f| f.first().map(String::as_str) == Some(g))
                .and_then(|f| f.get(2).and_then(|v| v.parse().ok()))
                .unwrap_or(0)
        }),
    };
    (uid, gid)
}

#[cfg(test)]
mod tests {
    use super::Chmod;

    #[test]
    fn chmod_octal_and_symbolic() {
        let m = |v: &str, mode: u32, dir: bool| Chmod::parse(v).map(|c| c.apply(mode, dir));
        assert_eq!(m("0644", 0o755, false), Some(0o644));
        assert_eq!(m("755", 0o600, false), Some(0o755));
        assert_eq!(m("u=rwX,go=rX", 0o600, false), Some(0o644));
        assert_eq!(m("u=rwX,go=rX", 0o600, true), Some(0o755));
        assert_eq!(m("u=rwX,go=rX", 0o700, false), Some(0o755));
        assert_eq!(m("+x", 0o644, false), Some(0o755));
        assert_eq!(m("go-w", 0o666, false), Some(0o644));
        assert_eq!(m("u+s,o=", 0o755, false), Some(0o4750));
        assert_eq!(m("a+r-w", 0o200, false), Some(0o444));
        for bad in ["99", "10000", "z+r", "u*r", "u+q", ""] {
            assert_eq!(Chmod::parse(bad), None, "{bad}");
        }
    }
}
