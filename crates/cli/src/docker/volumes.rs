//! The volumes of a container for `cp`: the core copies on the container's filesystem with its
//! volumes mounted (the sim's way), so their files are read from their directories into the
//! state first, and what a copy in changed under a mount point is written back to the volume's
//! directory, as docker's copy into a mounted volume lands in the volume, running or not.

use std::io;

use layerbox_core::engine::{EngineState, MountKind};
use layerbox_core::fs::Layer;

use super::cp::{Root, delta, open_dir, write_changes};
use super::state::Loaded;
use super::{Linux, store_error};

/// The volumes loaded for a copy: each one's name and its files as they were read.
pub(super) type LoadedVolumes = Vec<(String, Layer)>;

impl Linux {
    /// Reads the files of the volumes container `name` mounts into the state (their top
    /// directory's owner, mode and time too); returns them as read.
    pub(super) fn load_volume_files(
        &self,
        loaded: &mut Loaded,
        name: &str,
    ) -> io::Result<LoadedVolumes> {
        let engine = self.engine(std::mem::take(&mut loaded.state));
        let mounted: Vec<String> = engine
            .find_container(name)
            .map(|i| {
                engine.state().containers[i]
                    .mounts
                    .iter()
                    .filter(|m| m.kind == MountKind::Volume)
                    .map(|m| m.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        loaded.state = engine.into_state();
        let mut read = Vec::new();
        for v in &mut loaded.state.volumes {
            if !mounted.contains(&v.name) {
                continue;
            }
            let dir = self.store.create_volume_dir(&v.name).map_err(store_error)?;
            let files = crate::linux::read_layer_dir(&dir).map_err(io::Error::other)?;
            v.root = crate::linux::layerdir::meta_of(&std::fs::metadata(&dir)?);
            v.content = files.clone();
            read.push((v.name.clone(), files));
        }
        Ok(read)
    }

    /// Writes what the copy changed in each loaded volume (`after`: the state after it) into
    /// the volume's directory, each path resolved below it.
    pub(super) fn write_volume_files(
        &self,
        volumes: &LoadedVolumes,
        after: &EngineState,
    ) -> io::Result<()> {
        for (name, before) in volumes {
            let Some(v) = after.volumes.iter().find(|v| v.name == *name) else {
                continue;
            };
            let changed = delta(before, &v.content);
            if changed.is_empty() {
                continue;
            }
            let dir = self.store.volume_data(name).map_err(store_error)?;
            write_changes(&Root::Mounted(open_dir(&dir.to_string_lossy())?), &changed)?;
        }
        Ok(())
    }
}
