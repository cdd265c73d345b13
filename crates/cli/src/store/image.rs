//! Images in the store: the config blob, one unpacked directory per layer, and a record that is
//! written last, so an image is either complete or not there at all.

use std::path::PathBuf;
use std::sync::Arc;

use layerbox_core::fs::Layer;
use layerbox_core::fs::tar::{TarOptions, diff_id};
use layerbox_core::image::{Digest, ImageConfig};
use serde::{Deserialize, Serialize};

use super::{RecordKind, Store, StoreError};
use crate::linux::write_layer_dir;

/// What `images/<id>.json` holds: the image ID (the config blob's digest) and its layers'
/// diff_ids, bottom first; each layer is unpacked at `layers/<diff_id hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image ID: the digest of the config blob.
    pub id: Digest,
    /// The layers' diff_ids, bottom first.
    pub layers: Vec<Digest>,
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
            },
        )?;
        Ok(id)
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
