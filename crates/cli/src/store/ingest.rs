//! Bringing an image from outside into the store (`load`, `pull`): the config bytes as received
//! and one tar per layer, each verified against the config's `rootfs.diff_ids`.
//!
//! Order, so that a failure leaves nothing half-written: each layer is streamed once into a
//! [`Staging`] directory below `tmp/` (its tar hashed, kept and unpacked in one pass, see
//! [`unpack`](super::unpack)); only when every digest is right are the tars renamed to
//! `blobs/sha256/<diff_id>` and the directories to `layers/<diff_id>`, under the store's lock;
//! the config blob follows; the image record, with its tags, comes last. The uncompressed layer
//! tar is kept (as a blob, or for a pull as a skeleton beside the unpacked files) so that `save`
//! and `push` give back the very bytes whose digest the config names.

use std::fs::File;
use std::io::{self, Read};

use layerbox_core::engine::{Engine, Output};
use layerbox_core::fs::tar::{TarError, TarOptions};
use layerbox_core::image::{ConfigError, Digest, ImageConfig, Reference};

use super::unpack::{StagedLayer, Staging, Tee};
use super::{BlobMismatch, Store, StoreError, TarKept};

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
    /// A layer blob that is not what its archive says.
    #[error("{0}")]
    Archive(String),
    /// A layer tar that cannot be read or unpacked.
    #[error("layer {index}: {source}")]
    Layer {
        /// The layer's position, bottom first.
        index: usize,
        /// What is wrong with it.
        source: TarError,
    },
}

/// [`LayerInput::File`]'s fields, for a worker thread.
struct FileLayer {
    path: std::path::PathBuf,
    name: String,
    blob: Option<(Digest, u64)>,
    movable: bool,
}

fn panicked() -> IngestError {
    IngestError::Store(StoreError::Io {
        path: std::path::PathBuf::new(),
        source: io::Error::other("a layer's worker failed"),
    })
}

/// A layer to bring in: a stream (a download), or a file of an archive unpacked below the
/// store's `tmp/` (`load`), which is moved into place rather than copied when it is the plain
/// tar, and may carry the digest and size its archive names it by.
pub enum LayerInput<'a> {
    /// A plain or gzipped tar, read once.
    Reader(Box<dyn Read + 'a>),
    /// A file holding the layer's blob.
    File {
        /// Where it is.
        path: std::path::PathBuf,
        /// Its name in the archive, for messages.
        name: String,
        /// The blob's digest and size, when the archive names them (OCI).
        blob: Option<(Digest, u64)>,
        /// Whether it may be moved into the store (a file of the store's own `tmp/`), rather
        /// than copied (a directory the user gave).
        movable: bool,
    },
}

impl Store {
    /// Brings an image into the store: `config` is its config blob as received (the image ID is
    /// its sha256), `layers` one reader per entry of its `rootfs.diff_ids`, bottom first (plain
    /// or gzipped tars; each is verified against its diff_id), `tags` the names it gets (taken
    /// from any image that had them). Returns the image ID.
    ///
    /// Takes the store's exclusive lock to commit the image: the caller must not hold it.
    pub fn ingest_image<'a>(
        &self,
        config: &[u8],
        layers: impl IntoIterator<Item = Box<dyn Read + 'a>>,
        tags: &[Reference],
    ) -> Result<Digest, IngestError> {
        let layers = layers.into_iter().map(LayerInput::Reader).collect();
        self.ingest(config, layers, tags, None)
    }

    /// [`Store::ingest_image`] for `load`: the layers may be files (unpacked from the archive,
    /// brought in side by side), and docker's `Loaded image: …` lines go to `report`.
    pub fn load_image(
        &self,
        config: &[u8],
        layers: Vec<LayerInput<'_>>,
        tags: &[Reference],
        report: &mut Output,
    ) -> Result<Digest, IngestError> {
        self.ingest(config, layers, tags, Some(report))
    }

    /// Whether the store holds layer `diff_id` in full: its tar (or the tar's skeleton) and its
    /// unpacked directory.
    pub fn has_layer(&self, diff_id: &Digest) -> Result<bool, StoreError> {
        Ok(self.has_tar(diff_id) && self.layer_dir(&diff_id.hex())?.is_dir())
    }

    fn has_tar(&self, diff_id: &Digest) -> bool {
        self.blob_path(diff_id).is_file() || self.tarsplit_path(diff_id).is_file()
    }

    fn ingest(
        &self,
        config: &[u8],
        layers: Vec<LayerInput<'_>>,
        tags: &[Reference],
        report: Option<&mut Output>,
    ) -> Result<Digest, IngestError> {
        let parsed = ImageConfig::from_json(config)?;
        let diff_ids = &parsed.rootfs.diff_ids;
        if layers.len() != diff_ids.len() {
            return Err(IngestError::LayerCount {
                expected: diff_ids.len(),
                given: layers.len(),
            });
        }
        let staging = self.staging()?;
        let mut staged = Vec::new();
        let mut files = Vec::new();
        // the first input of each layer the store lacks; files are staged two at a time
        // (reading, hashing and unpacking each is work of its own)
        let mut wanted = std::collections::HashSet::new();
        for (index, (input, want)) in layers.into_iter().zip(diff_ids).enumerate() {
            if self.has_layer(want)? || !wanted.insert(*want) {
                continue;
            }
            match input {
                LayerInput::Reader(reader) => {
                    staged.push(staging.layer(index, reader, want, None)?);
                }
                LayerInput::File {
                    path,
                    name,
                    blob,
                    movable,
                } => files.push((
                    index,
                    FileLayer {
                        path,
                        name,
                        blob,
                        movable,
                    },
                    want,
                )),
            }
        }
        for pair in files.chunks(2) {
            let done: Vec<Result<StagedLayer, IngestError>> = std::thread::scope(|scope| {
                let running: Vec<_> = pair
                    .iter()
                    .map(|(index, file, want)| {
                        let staging = &staging;
                        scope.spawn(move || stage_file(staging, *index, file, want))
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|_| Err(panicked())))
                    .collect()
            });
            for s in done {
                staged.push(s?);
            }
        }
        self.commit_image(config, staged, tags, report)
    }

    /// Brings staged layers and the image `config` into the store under its exclusive lock
    /// (the caller must not hold it): each layer's tar renamed to `blobs/sha256/<diff_id>` and
    /// its directory to `layers/<diff_id>` unless the store has them, then the config blob,
    /// then the image record with `tags`. Every other layer of the config must be in the store
    /// already. On failure what this call moved in is removed again. Returns the image ID.
    pub fn commit_image(
        &self,
        config: &[u8],
        staged: Vec<StagedLayer>,
        tags: &[Reference],
        report: Option<&mut Output>,
    ) -> Result<Digest, IngestError> {
        let parsed = ImageConfig::from_json(config)?;
        let _lock = self.lock()?;
        let mut added = Vec::new();
        let result = (|| {
            let mut sizes = std::collections::HashMap::new();
            for layer in staged {
                if !self.has_tar(&layer.diff_id) {
                    let (from, to) = match &layer.tar {
                        TarKept::Tar(path) => (path, self.blob_path(&layer.diff_id)),
                        TarKept::Split(path) => (path, self.tarsplit_path(&layer.diff_id)),
                    };
                    if let Some(dir) = to.parent() {
                        std::fs::create_dir_all(dir).map_err(super::at(dir))?;
                    }
                    std::fs::rename(from, &to).map_err(super::at(&to))?;
                    added.push(to);
                }
                let dir = self.layer_dir(&layer.diff_id.hex())?;
                if !dir.exists() {
                    std::fs::rename(&layer.dir, &dir).map_err(super::at(&dir))?;
                    added.push(dir);
                }
                sizes.insert(layer.diff_id, layer.size);
            }
            if !added.is_empty() {
                super::sync_dir(&self.root.join("layers"))?;
            }
            let mut size = 0;
            for diff_id in &parsed.rootfs.diff_ids {
                size += match sizes.get(diff_id) {
                    Some(s) => *s,
                    None if self.has_layer(diff_id)? => {
                        let dir = self.layer_dir(&diff_id.hex())?;
                        let s = super::unpack::layer_dir_size(&dir)?;
                        sizes.insert(*diff_id, s);
                        s
                    }
                    None => {
                        let dir = self.layer_dir(&diff_id.hex())?;
                        return Err(super::at(&dir)(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("layer {diff_id} is not in the store"),
                        ))
                        .into());
                    }
                };
            }
            let id = self.put_blob(config)?;
            self.record_image(id, parsed.clone(), size, tags, report)?;
            Ok(id)
        })();
        if result.is_err() {
            // what this call added and no image names
            for path in added.iter().rev() {
                let _ = super::remove_tree(path).or_else(|_| std::fs::remove_file(path));
            }
        }
        result
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
        let split = self.tarsplit_path(diff_id);
        if split.is_file() {
            // the tar again from its skeleton and the files, its digest checked
            let tar = super::unpack::split_reader(&split, &dir).map_err(super::at(&split))?;
            self.write_blob(tar, Some(diff_id))?;
            let len = std::fs::metadata(&blob).map_err(super::at(&blob))?.len();
            return Ok((blob, len));
        }
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

/// A layer given as a file: read once, checked against the digest and size its archive names
/// it by (first: a file that is not what the archive says is the archive's fault) and against
/// its diff_id. A plain tar the store may move becomes the layer's blob itself.
fn stage_file(
    staging: &Staging,
    index: usize,
    file: &FileLayer,
    diff_id: &Digest,
) -> Result<StagedLayer, IngestError> {
    let FileLayer {
        path,
        name,
        blob,
        movable,
    } = file;
    let opened = File::open(path).map_err(|e| IngestError::Layer {
        index,
        source: e.into(),
    })?;
    let mut raw = Tee::new(opened);
    let staged = staging.layer(index, &mut raw, diff_id, movable.then_some(path.as_path()));
    if let Some((expected, size)) = *blob {
        // what the layer's reader left (a gzip stream's end)
        let _ = io::copy(&mut raw, &mut io::sink());
        let len = raw.hasher.len();
        let actual = raw.hasher.finish();
        if actual != expected {
            return Err(IngestError::Archive(format!(
                "invalid archive: `{name}` has digest {actual}, not {expected}"
            )));
        }
        if len != size {
            return Err(IngestError::Archive(format!(
                "invalid archive: `{name}` is {len} bytes, not the {size} its descriptor gives"
            )));
        }
    }
    staged
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
