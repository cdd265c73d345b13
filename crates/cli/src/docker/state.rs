//! The engine's state read from the store and written back: the core engine works on an
//! [`EngineState`] (images with their tags, containers with their place in the state machine,
//! the build cache); the store keeps one record per image and per container. After a command,
//! only what changed is written, each record atomically.

use std::collections::{BTreeMap, HashSet};

use layerbox_core::engine::{ContainerState, EngineState};
use layerbox_core::image::Digest;

use crate::store::{ContainerRecord, ImageRecord, RecordKind, Store, StoreError, atomic_write};

/// The name of the build cache's file under the store root.
const CACHE: &str = "cache.json";

/// What was loaded: the state to work on, a copy to compare with, the container records.
#[derive(Debug)]
pub struct Loaded {
    /// What the engine works on.
    pub state: EngineState,
    /// Containers' records by ID, as loaded.
    pub records: BTreeMap<String, ContainerRecord>,
    before: EngineState,
    with_cache: bool,
}

/// Reads images and containers (and the build cache `with_cache`). A container whose shim
/// died is shown as exited with 137 (its PID 1 died with the shim); `system check` records it.
pub fn load(store: &Store, with_cache: bool) -> Result<Loaded, StoreError> {
    let mut state = EngineState {
        images: store.engine_images()?,
        volumes: store.volumes()?,
        ..EngineState::default()
    };
    let mut records = BTreeMap::new();
    for record in store.containers()? {
        let mut c = record.container.clone();
        if record.shim_died() {
            c.state = ContainerState::Exited;
            c.exit_code = 137;
        }
        state.containers.push(c);
        records.insert(record.container.id.clone(), record);
    }
    if with_cache {
        let path = store.root().join(CACHE);
        if let Ok(bytes) = std::fs::read(&path) {
            state.cache = serde_json::from_slice(&bytes)
                .map_err(|source| StoreError::Json { path, source })?;
        }
    }
    let before = EngineState {
        images: state.images.clone(),
        containers: state.containers.clone(),
        volumes: state.volumes.clone(),
        cache: if with_cache {
            state.cache.clone()
        } else {
            layerbox_core::build::BuildCache::default()
        },
        ..EngineState::default()
    };
    Ok(Loaded {
        state,
        records,
        before,
        with_cache,
    })
}

impl Loaded {
    /// Writes what the command changed in `after`: new and changed images (their layers from
    /// `after.layers`), new and changed containers, removals (and the layers nothing uses any
    /// more), and the build cache.
    pub fn save(&self, store: &Store, after: &EngineState) -> Result<(), StoreError> {
        for image in &after.images {
            if !self.before.images.contains(image) {
                store.put_engine_image(image, &after.layers)?;
            }
        }
        let mut removed_image = false;
        for image in &self.before.images {
            if !after.images.iter().any(|i| i.id == image.id) {
                store.remove_record(RecordKind::Image, &image.id.hex())?;
                removed_image = true;
            }
        }
        for c in &after.containers {
            let mut plain = c.clone();
            plain.upper = layerbox_core::fs::Layer::new();
            plain.logs.clear();
            if self.before.containers.contains(&plain) {
                continue;
            }
            let record = if let Some(r) = self.records.get(&c.id) {
                ContainerRecord {
                    container: plain,
                    ..r.clone()
                }
            } else {
                ContainerRecord::new(plain, image_layers(after, &c.image))
            };
            store.put_container(&record)?;
        }
        for c in &self.before.containers {
            if !after.containers.iter().any(|a| a.id == c.id) {
                store.remove_record(RecordKind::Container, &c.id)?;
            }
        }
        self.save_volumes(store, after)?;
        if removed_image {
            // what the remaining images and containers stand on; everything else goes, so the
            // store's disk usage comes back down
            let mut layers = HashSet::new();
            let mut blobs = HashSet::new();
            for id in store.list_records(RecordKind::Image)? {
                if let Some(r) = store.get_record::<ImageRecord>(RecordKind::Image, &id)? {
                    blobs.insert(r.id);
                    layers.extend(r.layers);
                }
            }
            let mut containers = Vec::new();
            for r in store.containers()? {
                layers.extend(r.layers.iter().copied());
                containers.push((r.container.id, r.layers));
            }
            for d in &layers {
                blobs.insert(*d);
                if let Some(gzip) = crate::registry::push::distribution(store, d).gzip {
                    blobs.insert(gzip.digest);
                }
            }
            store.remove_unused(&blobs, &layers, &containers)?;
        }
        if self.with_cache && after.cache != self.before.cache {
            let json = serde_json::to_vec(&after.cache).map_err(|source| StoreError::Json {
                path: store.root().join(CACHE),
                source,
            })?;
            atomic_write(store.root(), CACHE, &json)?;
        }
        Ok(())
    }
}

impl Loaded {
    /// Writes the volumes the command made or changed and removes those it removed (with
    /// their directories); `run` calls it alone, as it writes its container's record itself.
    pub fn save_volumes(&self, store: &Store, after: &EngineState) -> Result<(), StoreError> {
        for v in &after.volumes {
            if !self.before.volumes.contains(v) {
                store.put_volume(v)?;
            }
        }
        for v in &self.before.volumes {
            if !after.volumes.iter().any(|a| a.name == v.name) {
                store.remove_record(RecordKind::Volume, &v.name)?;
            }
        }
        Ok(())
    }
}

/// The layers (diff_ids, bottom first) of image `id`.
pub fn image_layers(state: &EngineState, id: &Digest) -> Vec<Digest> {
    state
        .images
        .iter()
        .find(|i| i.id == *id)
        .map(|i| i.config.rootfs.diff_ids.clone())
        .unwrap_or_default()
}

/// The unpacked directories of layers `diff_ids` (bottom first).
pub fn layer_dirs(
    store: &Store,
    diff_ids: &[Digest],
) -> Result<Vec<std::path::PathBuf>, StoreError> {
    diff_ids.iter().map(|d| store.layer_dir(&d.hex())).collect()
}
