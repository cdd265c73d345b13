//! Bringing an image from outside into the store (`load`, `pull`): the config bytes as received
//! and one tar per layer, each verified against the config's `rootfs.diff_ids`.
//!
//! Order, so that a failure leaves nothing half-written: each layer tar is hashed while it is
//! written to a temp blob and only named (`blobs/sha256/<diff_id>`) when its digest is the one
//! the config announces; it is then unpacked beside `layers/` and renamed in; the config blob
//! follows; the image record, with its tags, comes last. The uncompressed layer tar is kept as a
//! blob so that `save` gives back the very bytes whose digest the config names.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use layerbox_core::engine::{Engine, Output};
use layerbox_core::fs::tar::{TarError, TarOptions, read_layer};
use layerbox_core::image::{ConfigError, Digest, ImageConfig, Reference};

use super::{BlobMismatch, Store, StoreError};
use crate::linux::write_layer_dir;

/// Why an image could not be brought into the store.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The config does not parse.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Fewer or more layer tars than the config names.
    #[error("invalid image: the config names {expected} layers but {given} were given")]
    LayerCount {
        /// Entries in `rootfs.diff_ids`.
        expected: usize,
        /// Layer tars given.
        given: usize,
    },
    /// A layer tar whose digest is not the config's diff_id (docker's words).
    #[error("invalid diffID for layer {index}: expected \"{expected}\", got \"{actual}\"")]
    DiffId {
        /// The layer's position, bottom first.
        index: usize,
        /// The config's diff_id.
        expected: Digest,
        /// The digest of the tar received.
        actual: Digest,
    },
    /// A layer tar that cannot be read or unpacked.
    #[error("layer {index}: {source}")]
    Layer {
        /// The layer's position, bottom first.
        index: usize,
        /// What is wrong with it.
        source: TarError,
    },
}

/// A reader of a layer blob, gunzipped when it starts with gzip's magic bytes.
fn uncompressed<'a>(reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    if buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}

impl Store {
    /// Brings an image into the store: `config` is its config blob as received (the image ID is
    /// its sha256), `layers` one reader per entry of its `rootfs.diff_ids`, bottom first (plain
    /// or gzipped tars; each is verified against its diff_id), `tags` the names it gets (taken
    /// from any image that had them). Returns the image ID.
    ///
    /// Takes the store's exclusive lock for the whole call: the caller must not hold it.
    pub fn ingest_image<'a>(
        &self,
        config: &[u8],
        layers: impl IntoIterator<Item = Box<dyn Read + 'a>>,
        tags: &[Reference],
    ) -> Result<Digest, IngestError> {
        self.ingest(config, layers, tags, None)
    }

    /// [`Store::ingest_image`] for `load`: docker's `Loaded image: …` lines go to `report`.
    pub fn load_image<'a>(
        &self,
        config: &[u8],
        layers: impl IntoIterator<Item = Box<dyn Read + 'a>>,
        tags: &[Reference],
        report: &mut Output,
    ) -> Result<Digest, IngestError> {
        self.ingest(config, layers, tags, Some(report))
    }

    fn ingest<'a>(
        &self,
        config: &[u8],
        layers: impl IntoIterator<Item = Box<dyn Read + 'a>>,
        tags: &[Reference],
        report: Option<&mut Output>,
    ) -> Result<Digest, IngestError> {
        let parsed = ImageConfig::from_json(config)?;
        let layers: Vec<_> = layers.into_iter().collect();
        let diff_ids = &parsed.rootfs.diff_ids;
        if layers.len() != diff_ids.len() {
            return Err(IngestError::LayerCount {
                expected: diff_ids.len(),
                given: layers.len(),
            });
        }
        let _lock = self.lock()?;
        let mut size = 0;
        let mut added = Vec::new();
        let result = (|| {
            for (index, (reader, want)) in layers.into_iter().zip(diff_ids).enumerate() {
                size += self.ingest_layer(index, reader, want, &mut added)?;
            }
            let id = self.put_blob(config)?;
            self.record_image(id, parsed.clone(), size, tags, report)?;
            Ok(id)
        })();
        if result.is_err() {
            // what this call added and no image names: the layers before the one that failed
            for path in added.iter().rev() {
                let _ = super::remove_tree(path).or_else(|_| std::fs::remove_file(path));
            }
        }
        result
    }

    /// Stores one layer tar as the blob `diff_id` (refused unless its digest is that) and
    /// unpacks it, unless both are there already. Returns its size in docker's sense.
    fn ingest_layer(
        &self,
        index: usize,
        reader: Box<dyn Read + '_>,
        diff_id: &Digest,
        added: &mut Vec<std::path::PathBuf>,
    ) -> Result<u64, IngestError> {
        let blob = self.blob_path(diff_id);
        let bytes = if blob.is_file() {
            std::fs::read(&blob).map_err(super::at(&blob))?
        } else {
            // one pass: read and hashed into memory (the unpacking needs the bytes there), the
            // digest checked, then the blob written from them, without a read back
            let broken = |e: io::Error| IngestError::Layer {
                index,
                source: e.into(),
            };
            let mut reader = uncompressed(reader).map_err(broken)?;
            let mut bytes = Vec::new();
            let mut hasher = layerbox_core::image::DigestWriter::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(broken(e)),
                };
                hasher.update(&buf[..n]);
                bytes.extend_from_slice(&buf[..n]);
            }
            let actual = hasher.finish();
            if actual != *diff_id {
                return Err(IngestError::DiffId {
                    index,
                    expected: *diff_id,
                    actual,
                });
            }
            // like the unpacked layers, the layer blobs are not fsynced: a blob a crash cuts
            // short no longer matches its name, and `system check` removes it
            super::write_replacing(&self.blobs(), &diff_id.hex(), &bytes, false)?;
            added.push(blob.clone());
            bytes
        };
        let layer = read_layer(&bytes).map_err(|source| IngestError::Layer { index, source })?;
        drop(bytes);
        let dir = self.layer_dir(&diff_id.hex())?;
        if !dir.exists() {
            self.create_layer(&diff_id.hex(), |dir: &Path| {
                write_layer_dir(&layer, dir).map_err(io::Error::other)
            })?;
            added.push(dir);
        }
        Ok(layer.size())
    }

    /// The uncompressed tar of layer `diff_id` as a blob (for `save`): the one kept when the
    /// layer came in, or else written now from its unpacked directory, which must give back
    /// the same digest. Returns its path and size.
    pub fn layer_tar(&self, diff_id: &Digest) -> Result<(std::path::PathBuf, u64), StoreError> {
        let blob = self.blob_path(diff_id);
        if let Ok(m) = std::fs::metadata(&blob) {
            return Ok((blob, m.len()));
        }
        let dir = self.layer_dir(&diff_id.hex())?;
        let layer = crate::linux::read_layer_dir(&dir).map_err(|e| StoreError::Io {
            path: dir.clone(),
            source: io::Error::other(e),
        })?;
        let tar = layerbox_core::fs::tar::write_layer(&layer, &TarOptions::default());
        drop(layer);
        self.write_blob(tar.as_slice(), Some(diff_id))
            .map_err(|e| match e {
                StoreError::Io { source, .. } if source.get_ref().is_some_and(<dyn std::error::Error + Send + Sync>::is::<BlobMismatch>) => {
                    StoreError::Io {
                        path: dir,
                        source: io::Error::other(format!(
                            "layer {diff_id}: its unpacked files do not give back the tar it was made from"
                        )),
                    }
                }
                e => e,
            })?;
        Ok((blob, tar.len() as u64))
    }

    /// Writes the image record of `id` with its tags through the core engine (which moves a
    /// tag from the image that had it), under the lock the caller holds.
    fn record_image(
        &self,
        id: Digest,
        config: ImageConfig,
        size: u64,
        tags: &[Reference],
        report: Option<&mut Output>,
    ) -> Result<(), StoreError> {
        let mut loaded = crate::docker::state::load(self, false)?;
        let mut engine =
            Engine::new(std::mem::take(&mut loaded.state)).with_clock(crate::sim::SystemClock);
        match report {
            Some(out) => engine.load_image(id, config, &[], size, tags.to_vec(), out),
            None => engine.add_image(id, config, &[], size, tags.to_vec(), &mut Output::default()),
        };
        loaded.save(self, engine.state())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerbox_core::fs::tar::{TarOptions, gzip, write_layer};
    use layerbox_core::fs::{Entry, Layer, Meta};
    use layerbox_core::image::RootFs;

    fn layer_tar(name: &str) -> Vec<u8> {
        let mut l = Layer::new();
        l.insert(name, Entry::file(Meta::new(0o644, 0), name));
        write_layer(&l, &TarOptions::default())
    }

    fn config(tars: &[&[u8]]) -> Vec<u8> {
        // docker's configs carry fields the model drops: the ID must come from these bytes
        let c = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: tars.iter().map(|t| Digest::sha256_of(t)).collect(),
            },
            ..ImageConfig::default()
        };
        let mut v: serde_json::Value = serde_json::from_slice(&c.to_json()).unwrap();
        v["docker_version"] = "20.10.24".into();
        serde_json::to_vec(&v).unwrap()
    }

    /// A tar whose member climbs out of the root (the `tar` crate refuses to write one).
    fn evil_tar() -> Vec<u8> {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..11].copy_from_slice(b"../../etc/x");
        h.set_mode(0o644);
        h.set_size(1);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let mut out = h.as_bytes().to_vec();
        out.push(b'x');
        out.resize(512 * 4, 0);
        out
    }

    fn readers<'a>(tars: &[&'a [u8]]) -> Vec<Box<dyn Read + 'a>> {
        tars.iter()
            .map(|t| Box::new(*t) as Box<dyn Read + 'a>)
            .collect()
    }

    #[test]
    fn an_image_comes_in_with_its_bytes_its_layers_and_its_tags() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let (a, b) = (layer_tar("a"), layer_tar("b"));
        let cfg = config(&[&a, &b]);
        let tag: Reference = "app:1".parse().unwrap();
        let gz = gzip(&b);
        let id = store
            .ingest_image(&cfg, readers(&[&a, &gz]), std::slice::from_ref(&tag))
            .unwrap();
        assert_eq!(id, Digest::sha256_of(&cfg));
        assert_eq!(store.read_blob(&id).unwrap().unwrap(), cfg);
        // the uncompressed tars are kept by diff_id, and unpacked
        assert_eq!(store.read_blob(&Digest::sha256_of(&b)).unwrap().unwrap(), b);
        let (_, dirs) = store.image(&id).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(dirs[1].join("b")).unwrap(), "b");
        let images = store.engine_images().unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].id, id);
        assert_eq!(images[0].repo_tags, std::slice::from_ref(&tag));
        assert_eq!(images[0].size, 2);
        // a second image with the same tag takes it; the first stays, untagged
        let cfg2 = config(&[&a]);
        let id2 = store
            .ingest_image(&cfg2, readers(&[&a]), std::slice::from_ref(&tag))
            .unwrap();
        let images = store.engine_images().unwrap();
        assert_eq!(images.len(), 2);
        let first = images.iter().find(|i| i.id == id).unwrap();
        assert!(first.repo_tags.is_empty());
        let second = images.iter().find(|i| i.id == id2).unwrap();
        assert_eq!(second.repo_tags, [tag]);
        assert!(store.check(false).unwrap().is_clean());
    }

    #[test]
    fn a_wrong_or_broken_layer_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let (a, b) = (layer_tar("a"), layer_tar("b"));
        let cfg = config(&[&a]);
        let err = store.ingest_image(&cfg, readers(&[&b]), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid diffID for layer 0: expected \"{}\", got \"{}\"",
                Digest::sha256_of(&a),
                Digest::sha256_of(&b)
            )
        );
        let err = store.ingest_image(&cfg, readers(&[]), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid image: the config names 1 layers but 0 were given"
        );
        // a gzip stream cut short
        let gz = gzip(&a);
        let err = store
            .ingest_image(&cfg, readers(&[&gz[..gz.len() / 2]]), &[])
            .unwrap_err();
        assert!(matches!(err, IngestError::Layer { index: 0, .. }), "{err}");
        // the second layer climbs out of the root: the first one, already in, goes again
        let evil = evil_tar();
        let cfg2 = config(&[&a, &evil]);
        let err = store
            .ingest_image(&cfg2, readers(&[&a, &evil]), &[])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 1: invalid layer tar: `../../etc/x` is outside of the root"
        );
        assert!(store.engine_images().unwrap().is_empty());
        for dir in ["blobs/sha256", "layers", "images", "tmp"] {
            assert_eq!(
                std::fs::read_dir(tmp.path().join(dir)).unwrap().count(),
                0,
                "{dir}"
            );
        }
        assert!(store.check(false).unwrap().is_clean());
    }
}
