//! Images in the store: the config blob, one unpacked directory per layer, and a record that is
//! written last, so an image is either complete or not there at all.

use std::path::PathBuf;
use std::sync::Arc;

use std::collections::BTreeMap;

use layerbox_core::engine::Image;
use layerbox_core::fs::Layer;
use layerbox_core::fs::tar::{TarOptions, diff_id};
use layerbox_core::image::{Digest, ImageConfig};
use serde::{Deserialize, Serialize};

use super::{RecordKind, Store, StoreError};
use crate::linux::write_layer_dir;

/// What `images/<id>.json` holds: the image ID (the config blob's digest) and its layers'
/// diff_ids, bottom first; each layer is unpacked at `layers/<diff_id hex>`. Images the engine
/// made also carry the engine's view of them (tags, creation time, parent, size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image ID: the digest of the config blob.
    pub id: Digest,
    /// The layers' diff_ids, bottom first.
    pub layers: Vec<Digest>,
    /// The engine's image: config, tags, creation time, parent and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

impl Store {
    /// Stores an image: its layers unpacked (each once, by diff_id), its config as a blob, then
    /// its record. Returns the image ID.
    pub fn put_image(
        &self,
        config: &ImageConfig,
        layers: &[Arc<Layer>],
    ) -> Result<Digest, StoreError> {
        let mut diff_ids = Vec::with_capacity(layers.len());
        for layer in layers {
            let (id, _) = diff_id(layer, &TarOptions::default());
            self.create_layer(&id.hex(), |dir| {
                write_layer_dir(layer, dir).map_err(std::io::Error::other)
            })?;
            diff_ids.push(id);
        }
        let id = self.put_blob(&config.to_json())?;
        self.put_record(
            RecordKind::Image,
            &id.hex(),
            &ImageRecord {
                id,
                layers: diff_ids,
                image: None,
            },
        )?;
        Ok(id)
    }

    /// Stores an engine image: each of its layers not unpacked yet (taken from `layers` by
    /// diff_id), its config as a blob, then its record, so the image is complete or absent.
    pub fn put_engine_image(
        &self,
        image: &Image,
        layers: &BTreeMap<Digest, Arc<Layer>>,
    ) -> Result<(), StoreError> {
        let diff_ids = &image.config.rootfs.diff_ids;
        for d in diff_ids {
            if self.layer_dir(&d.hex())?.is_dir() {
                continue;
            }
            let Some(layer) = layers.get(d) else {
                return Err(StoreError::Io {
                    path: self.layer_dir(&d.hex())?,
                    source: std::io::Error::other(format!("layer {d} is not in the store")),
                });
            };
            self.create_layer(&d.hex(), |dir| {
                write_layer_dir(layer, dir).map_err(std::io::Error::other)
            })?;
        }
        // An image that came from outside keeps its config bytes as received (its ID is their
        // digest); only an image made here has its config written from the model.
        if !self.blob_path(&image.id).is_file() {
            self.put_blob(&image.config.to_json())?;
        }
        self.put_record(
            RecordKind::Image,
            &image.id.hex(),
            &ImageRecord {
                id: image.id,
                layers: diff_ids.clone(),
                image: Some(image.clone()),
            },
        )
    }

    /// Every image the engine made, oldest first.
    pub fn engine_images(&self) -> Result<Vec<Image>, StoreError> {
        let mut images = Vec::new();
        for id in self.list_records(RecordKind::Image)? {
            if let Some(ImageRecord {
                image: Some(image), ..
            }) = self.get_record(RecordKind::Image, &id)?
            {
                images.push(image);
            }
        }
        images.sort_by_key(|i| i.created);
        Ok(images)
    }

    /// Reads the layers of an image back from their directories, keyed by diff_id.
    pub fn load_layers(
        &self,
        diff_ids: &[Digest],
        into: &mut BTreeMap<Digest, Arc<Layer>>,
    ) -> Result<(), StoreError> {
        for d in diff_ids {
            if into.contains_key(d) {
                continue;
            }
            let dir = self.layer_dir(&d.hex())?;
            let layer = crate::linux::read_layer_dir(&dir).map_err(|e| StoreError::Io {
                path: dir.clone(),
                source: std::io::Error::other(e),
            })?;
            into.insert(*d, Arc::new(layer));
        }
        Ok(())
    }

    /// Removes what nothing uses any more (after `rmi`, `image prune`): unpacked layers not in
    /// `layers`, blobs not in `blobs` (layer tars, configs, compressed layers), the
    /// `distribution/` records of removed layers, and init layers no container in
    /// `containers` (ID and layers) stands on. Each directory is renamed into `tmp/` first
    /// (one atomic step), so a crash midway leaves only what `system check` removes.
    pub fn remove_unused(
        &self,
        blobs: &std::collections::HashSet<Digest>,
        layers: &std::collections::HashSet<Digest>,
        containers: &[(String, Vec<Digest>)],
    ) -> Result<(), StoreError> {
        let named = |name: &str| format!("sha256:{name}").parse::<Digest>().ok();
        let trash = |path: &std::path::Path, name: &str| -> Result<(), StoreError> {
            let to = self.root().join("tmp").join(super::tmp_name(name));
            std::fs::rename(path, &to).map_err(super::at(&to))?;
            super::remove_tree(&to).map_err(super::at(&to))
        };
        let dir = self.root().join("layers");
        for item in std::fs::read_dir(&dir).map_err(super::at(&dir))? {
            let item = item.map_err(super::at(&dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if !named(&name).is_some_and(|d| layers.contains(&d)) {
                trash(&item.path(), &name)?;
            }
        }
        let dir = self.blobs();
        for item in std::fs::read_dir(&dir).map_err(super::at(&dir))? {
            let item = item.map_err(super::at(&dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if !name.starts_with(super::TMP_PREFIX)
                && !named(&name).is_some_and(|d| blobs.contains(&d))
            {
                std::fs::remove_file(item.path()).map_err(super::at(&item.path()))?;
            }
        }
        for dir in ["tarsplit", "distribution"] {
            let dir = self.root().join(dir);
            let Ok(items) = std::fs::read_dir(&dir) else {
                continue;
            };
            for item in items {
                let path = item.map_err(super::at(&dir))?.path();
                let name = path.file_stem().unwrap_or_default().to_string_lossy();
                if !named(&name).is_some_and(|d| layers.contains(&d)) {
                    std::fs::remove_file(&path).map_err(super::at(&path))?;
                }
            }
        }
        let mut inits = std::collections::HashSet::new();
        for (id, diff_ids) in containers {
            let lowers = diff_ids
                .iter()
                .map(|d| self.layer_dir(&d.hex()))
                .collect::<Result<_, _>>()?;
            inits.insert(self.container_layers(id, lowers)?.init);
        }
        let dir = self.root().join("init");
        if let Ok(items) = std::fs::read_dir(&dir) {
            for item in items {
                let item = item.map_err(super::at(&dir))?;
                if !inits.contains(&item.path()) {
                    let name = item.file_name().to_string_lossy().into_owned();
                    trash(&item.path(), &name)?;
                }
            }
        }
        Ok(())
    }

    /// An image's config and its layer directories (bottom first: the overlay's lowers).
    pub fn image(&self, id: &Digest) -> Result<Option<(ImageConfig, Vec<PathBuf>)>, StoreError> {
        let Some(record) = self.get_record::<ImageRecord>(RecordKind::Image, &id.hex())? else {
            return Ok(None);
        };
        let path = self.blob_path(&record.id);
        let Some(bytes) = self.read_blob(&record.id)? else {
            return Ok(None);
        };
        let config = ImageConfig::from_json(&bytes).map_err(|e| StoreError::Io {
            path,
            source: std::io::Error::other(e),
        })?;
        let dirs = record
            .layers
            .iter()
            .map(|d| self.layer_dir(&d.hex()))
            .collect::<Result<_, _>>()?;
        Ok(Some((config, dirs)))
    }

    /// Whether everything an image record names is in the store.
    pub(crate) fn image_complete(&self, record: &ImageRecord) -> bool {
        self.blob_path(&record.id).is_file()
            && record
                .layers
                .iter()
                .all(|d| self.layer_dir(&d.hex()).is_ok_and(|p| p.is_dir()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerbox_core::fs::{Entry, Meta};

    fn layer(name: &str) -> Arc<Layer> {
        let meta = Meta {
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
            ..Meta::new(0o644, 1_600_000_000)
        };
        let mut l = Layer::new();
        l.insert(name, Entry::file(meta, name));
        Arc::new(l)
    }

    #[test]
    fn an_image_round_trips_and_shares_its_layers() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let config = ImageConfig::default();
        let (a, b) = (layer("a"), layer("b"));
        let id = store.put_image(&config, &[a.clone(), b]).unwrap();
        assert_eq!(id, config.id());
        let (got, dirs) = store.image(&id).unwrap().unwrap();
        assert_eq!(got, config);
        assert_eq!(dirs.len(), 2);
        assert_eq!(std::fs::read_to_string(dirs[0].join("a")).unwrap(), "a");
        // a second image on the same base layer reuses its directory
        let other = ImageConfig {
            os: "linux".into(),
            ..ImageConfig::default()
        };
        let id2 = store.put_image(&other, &[a]).unwrap();
        assert_eq!(store.image(&id2).unwrap().unwrap().1[0], dirs[0]);
        assert_eq!(
            std::fs::read_dir(tmp.path().join("layers"))
                .unwrap()
                .count(),
            2
        );
        assert!(store.image(&Digest::sha256_of(b"none")).unwrap().is_none());
    }
}
