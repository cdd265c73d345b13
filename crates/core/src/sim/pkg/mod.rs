//! Simulated package managers: `apt-get`, `apk`, `pip`/`pip3` and `npm`, acting on the union
//! filesystem with packages from the [`catalog`](super::catalog).
//!
//! Nothing is downloaded: every run says so on its first line, then prints what the real tool
//! prints. Installed files have the real paths and sizes of the packages (their content is
//! simulated), package databases (`/var/lib/dpkg/status`, `/lib/apk/db/installed`,
//! `*.dist-info`, `package-lock.json`) are written as the tools write them, and caches land where
//! the tools keep them, so that a layer's size and its wasted space come out as for real.
//!
//! ```
//! # #[cfg(not(target_arch = "wasm32"))] {
//! use layerbox_core::fs::{LayerStack, UnionFs};
//! use layerbox_core::sim::{catalog::Catalog, pkg::{Manager, PkgCtx, Pip}};
//! let mut fs = UnionFs::new(LayerStack::new());
//! let env = Default::default();
//! let mut cx = PkgCtx::new(&mut fs, &env, "/");
//! let pip = Pip::new(Catalog::builtin().unwrap());
//! let args: Vec<String> = ["pip", "install", "--no-cache-dir", "six"].map(String::from).into();
//! assert_eq!(pip.run(&mut cx, &args), 0);
//! assert!(fs.exists("/usr/local/lib/python3.9/site-packages/six.py"));
//! # }
//! ```

mod apk;
pub(crate) mod apt;
mod npm;
mod pip;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use apk::Apk;
pub use apt::AptGet;
pub use npm::Npm;
pub use pip::Pip;

use super::catalog::Catalog;
use super::shell::{Ctx, Registry, Utility, UtilityKind};
use crate::fs::{FsError, UnionFs};

/// The first line every manager prints: the run is a model.
pub const SIMULATED_NOTE: &str = "layerbox: simulated, no network was used";

/// What a package manager runs with: the filesystem, the environment, the working directory,
/// and the output it produced. Mirrors the shell's utility context so the managers plug into
/// its registry.
pub struct PkgCtx<'a> {
    /// The container's filesystem.
    pub fs: &'a mut UnionFs,
    /// The process environment.
    pub env: &'a BTreeMap<String, String>,
    /// The working directory (absolute).
    pub cwd: String,
    /// What the run wrote on stdout.
    pub stdout: Vec<u8>,
    /// What the run wrote on stderr.
    pub stderr: Vec<u8>,
}

impl<'a> PkgCtx<'a> {
    /// A context with empty output.
    pub fn new(fs: &'a mut UnionFs, env: &'a BTreeMap<String, String>, cwd: &str) -> Self {
        Self {
            fs,
            env,
            cwd: cwd.to_owned(),
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// Appends to stdout.
    pub fn out(&mut self, text: impl AsRef<str>) {
        self.stdout.extend_from_slice(text.as_ref().as_bytes());
    }

    /// Appends to stderr.
    pub fn err(&mut self, text: impl AsRef<str>) {
        self.stderr.extend_from_slice(text.as_ref().as_bytes());
    }

    /// `path` made absolute against the working directory.
    pub fn abs(&self, path: &str) -> String {
        if path.starts_with('/') {
            path.to_owned()
        } else if self.cwd == "/" {
            format!("/{path}")
        } else {
            format!("{}/{path}", self.cwd.trim_end_matches('/'))
        }
    }

    /// The text of a file, if it exists and holds real bytes.
    pub fn read_text(&self, path: &str) -> Option<String> {
        let data = self.fs.read(path).ok()?;
        data.bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Writes a text file, creating its directory.
    pub fn write_text(&mut self, path: &str, text: &str, mode: u32) -> Result<(), FsError> {
        mkdir_parent(self.fs, path)?;
        self.fs.write(path, text.as_bytes(), mode)
    }

    /// Appends to a text file, creating it (and its directory) if needed.
    pub fn append_text(&mut self, path: &str, text: &str) -> Result<(), FsError> {
        if self.fs.exists(path) {
            self.fs.append(path, text.as_bytes())
        } else {
            self.write_text(path, text, 0o644)
        }
    }
}

/// A simulated package manager. `args[0]` is the name as invoked; returns the exit status.
pub trait Manager: Send + Sync {
    /// Runs the command line.
    fn run(&self, cx: &mut PkgCtx<'_>, args: &[String]) -> i32;
}

/// Every manager by the names the shell registers it under.
pub fn managers(catalog: &Arc<Catalog>) -> Vec<(&'static str, Arc<dyn Manager>)> {
    let pip: Arc<dyn Manager> = Arc::new(Pip::new(Arc::clone(catalog)));
    vec![
        ("apt-get", Arc::new(AptGet::new(Arc::clone(catalog)))),
        ("apk", Arc::new(Apk::new(Arc::clone(catalog)))),
        ("pip", Arc::clone(&pip)),
        ("pip3", pip),
        ("npm", Arc::new(Npm::new(Arc::clone(catalog)))),
    ]
}

/// Registers every manager as an external program of the shell: it runs where the image has the
/// program's file in `PATH` (`/usr/bin/apt-get`, `/usr/local/bin/pip` ...).
pub fn register(registry: &mut Registry, catalog: &Arc<Catalog>) {
    for (name, manager) in managers(catalog) {
        registry.register(name, UtilityKind::External, AsUtility(manager));
    }
}

/// A manager seen through the shell's utility interface.
struct AsUtility(Arc<dyn Manager>);

impl Utility for AsUtility {
    fn run(&self, ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
        let env = ctx.env.clone();
        let cwd = ctx.cwd().to_owned();
        let mut cx = PkgCtx::new(ctx.fs(), &env, &cwd);
        let status = self.0.run(&mut cx, args);
        let (stdout, stderr) = (cx.stdout, cx.stderr);
        ctx.out(stdout);
        ctx.err(stderr);
        status
    }
}

pub(crate) fn mkdir_parent(fs: &mut UnionFs, path: &str) -> Result<(), FsError> {
    match path.rsplit_once('/') {
        Some((dir, _)) if !dir.is_empty() && !fs.exists(dir) => fs.mkdir_all(dir, 0o755),
        _ => Ok(()),
    }
}

/// Reports a filesystem error the way the tools do and gives their failure status.
pub(crate) fn fs_failure(cx: &mut PkgCtx<'_>, tool: &str, e: &FsError, status: i32) -> i32 {
    cx.err(format!("{tool}: {}: {}\n", e.path(), e.strerror()));
    status
}

/// Formats like apt's `SizeToStr`: `5000 B`, `316 kB`, `12.3 MB`.
pub(crate) fn apt_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["", "k", "M", "G", "T"];
    #[allow(clippy::cast_precision_loss)] // printed with at most 4 digits
    let mut size = bytes as f64;
    for (i, unit) in UNITS.iter().enumerate() {
        if size < 100.0 && i != 0 {
            return format!("{size:.1} {unit}B");
        }
        if size < 10000.0 {
            return format!("{size:.0} {unit}B");
        }
        size /= 1000.0;
    }
    format!("{size:.0} PB")
}

/// A list of names the way apt prints one: two-space indent, wrapped before 80 columns.
pub(crate) fn wrapped_list(names: &[&str]) -> String {
    let mut out = String::new();
    let mut line = String::from(" ");
    for name in names {
        if line.len() + 1 + name.len() > 79 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from(" ");
        }
        line.push(' ');
        line.push_str(name);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_apt() {
        assert_eq!(apt_size(5000), "5000 B");
        assert_eq!(apt_size(315_764), "316 kB");
        assert_eq!(apt_size(12_345_678), "12.3 MB");
        assert_eq!(apt_size(0), "0 B");
    }

    #[test]
    fn lists_wrap_before_80_columns() {
        let names = ["libcurl4"; 12];
        let text = wrapped_list(&names);
        assert!(text.lines().all(|l| l.len() < 80 && l.starts_with("  ")));
        assert_eq!(text.split_whitespace().count(), 12);
    }
}
