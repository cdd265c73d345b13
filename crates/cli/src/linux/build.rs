//! `RUN` for the core's builder, for real: [`LinuxRun`] is a
//! [`RunBackend`] that runs each command in a container over
//! the step's layers and hands the container's changes back to the step's filesystem.
//!
//! The layers below the step are unpacked once into the store (`layers/<diff_id hex>`), the
//! command runs with `/bin/sh -c` (or the `SHELL`) as the builder asks, in fresh namespaces with
//! the hostname BuildKit uses, and the upper directory, read as a core
//! [`Layer`], is applied to the step's [`UnionFs`]: the builder then
//! commits it like any other step, with the same change representation as the simulator.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use layerbox_core::build::{RunBackend, RunRequest};
use layerbox_core::fs::tar::{TarOptions, diff_id};
use layerbox_core::fs::{Change, FsError, Layer, UnionFs};

use super::layerdir::{read_layer_dir, write_layer_dir};
use super::spec::{ContainerSpec, Output};
use crate::store::Store;

/// The hostname of a build container, as BuildKit's.
pub const BUILD_HOSTNAME: &str = "buildkitsandbox";

/// Runs `RUN` steps in real containers, keeping unpacked layers in `store`.
#[derive(Debug)]
pub struct LinuxRun {
    store: Store,
    /// Layers already unpacked by this backend: the same `Arc` need not be hashed again.
    unpacked: Vec<(Arc<Layer>, PathBuf)>,
    /// Where the command's stdout and stderr go.
    pub output: Output,
}

impl LinuxRun {
    /// A backend over `store`; output goes to the caller's stdout and stderr.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            unpacked: Vec::new(),
            output: Output::Inherit,
        }
    }

    /// Tells the backend that `layer` is unpacked at `dir` already (an image layer read back
    /// from the store), so it need not be hashed to find its directory.
    pub fn know(&mut self, layer: Arc<Layer>, dir: PathBuf) {
        self.unpacked.push((layer, dir));
    }

    /// The layer's directory in the store, unpacked on first use (named by its diff_id).
    fn unpacked(&mut self, layer: &Arc<Layer>) -> Result<PathBuf, String> {
        if let Some((_, dir)) = self.unpacked.iter().find(|(l, _)| Arc::ptr_eq(l, layer)) {
            return Ok(dir.clone());
        }
        let (id, _) = diff_id(layer, &TarOptions::default());
        let dir = self
            .store
            .create_layer(&id.hex(), |dir| {
                write_layer_dir(layer, dir).map_err(std::io::Error::other)
            })
            .map_err(|e| format!("unpack layer {id}: {e}"))?;
        self.unpacked.push((Arc::clone(layer), dir.clone()));
        Ok(dir)
    }
}

/// Applies `layer` (a container's changes) on top of `fs`, as the step's own writes would:
/// whiteouts remove, opaque directories replace, entries keep their metadata. Directories get
/// their metadata once more at the end, since writing into them moved their mtimes.
pub fn apply_layer(fs: &mut UnionFs, layer: &Layer) -> Result<(), FsError> {
    let mut dirs = Vec::new();
    for (path, change) in layer.iter() {
        let abs = format!("/{path}");
        match change {
            Change::Whiteout => {
                if fs.lstat(&abs).is_ok() {
                    fs.remove_all(&abs)?;
                }
            }
            Change::HardLink(target) => fs.hardlink(&format!("/{target}"), &abs)?,
            Change::Entry(entry) => {
                if entry.is_opaque() && fs.lstat(&abs).is_ok() {
                    fs.remove_all(&abs)?;
                }
                fs.put(&abs, entry.clone())?;
                if entry.is_dir() {
                    dirs.push((abs, entry.clone()));
                }
            }
        }
    }
    for (abs, entry) in dirs.into_iter().rev() {
        fs.put(&abs, entry)?;
    }
    Ok(())
}

impl RunBackend for LinuxRun {
    fn run(&mut self, fs: &mut UnionFs, request: &RunRequest) -> Result<i32, String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut lowers = fs
            .lower()
            .layers()
            .iter()
            .map(|l| self.unpacked(l))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(upper) = fs.upper().filter(|u| !u.is_empty()) {
            // what the step wrote before (none today: a RUN step starts empty)
            lowers.push(self.unpacked(&Arc::new(upper.clone()))?);
        }
        let id = format!(
            "build-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let layers = self
            .store
            .container_layers(&id, lowers)
            .map_err(|e| e.to_string())?;
        let mut spec = ContainerSpec::new(&id, layers, request.argv.clone());
        spec.layers.volatile = true; // read back at once, then thrown away
        spec.env.clone_from(&request.env);
        spec.cwd = if request.workdir.is_empty() {
            "/".to_owned()
        } else {
            request.workdir.clone()
        };
        spec.user.clone_from(&request.user);
        BUILD_HOSTNAME.clone_into(&mut spec.hostname);
        spec.stdout = self.output.clone();
        spec.stderr = self.output.clone();
        let result = super::run(&spec)
            .map_err(|e| e.to_string())
            .and_then(|exit| {
                let changes = read_layer_dir(&spec.layers.upper).map_err(|e| e.to_string())?;
                apply_layer(fs, &changes).map_err(|e| e.to_string())?;
                Ok(exit.code)
            });
        let dir = self.store.container_dir(&id).map_err(|e| e.to_string())?;
        let _ = crate::store::remove_tree(&dir);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerbox_core::fs::{Entry, EntryKind, LayerStack, Meta};

    fn base() -> LayerStack {
        let mut fs = UnionFs::new(LayerStack::new());
        fs.set_now(1_000);
        fs.mkdir_all("/etc", 0o755).unwrap();
        fs.write("/etc/motd", b"hi\n", 0o644).unwrap();
        fs.mkdir_all("/var/cache/x", 0o755).unwrap();
        fs.write("/var/cache/x/old", b"old\n", 0o644).unwrap();
        LayerStack::from_layers([Arc::new(fs.into_upper())]).unwrap()
    }

    #[test]
    fn a_containers_layer_applied_gives_the_same_changes() {
        // what a container did: wrote /etc/new, deleted /etc/motd, replaced /var/cache
        let mut changes = Layer::new();
        changes.insert("etc", Entry::dir(Meta::new(0o755, 2_000)));
        changes.insert("etc/new", Entry::file(Meta::new(0o600, 2_000), "n\n"));
        changes.insert_whiteout("etc/motd");
        changes.insert("var", Entry::dir(Meta::new(0o755, 1_000)));
        changes.insert(
            "var/cache",
            Entry {
                meta: Meta::new(0o700, 2_000),
                kind: EntryKind::Dir { opaque: true },
            },
        );
        let mut fs = UnionFs::new(base());
        fs.set_now(3_000);
        apply_layer(&mut fs, &changes).unwrap();
        let shown: Vec<String> = fs.changes().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["C /etc", "D /etc/motd", "A /etc/new", "C /var/cache"]
        );
        assert!(!fs.exists("/var/cache/x/old"));
        assert!(!fs.exists("/etc/motd"));
        let stat = fs.lstat("/etc").unwrap();
        assert_eq!(
            stat.mtime, 2_000,
            "the directory keeps the container's mtime"
        );
        assert_eq!(fs.lstat("/etc/new").unwrap().mode & 0o7777, 0o600);
    }
}
