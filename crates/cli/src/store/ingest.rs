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

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn panicked() -> IngestError {
    IngestError::Store(StoreError::Io {
        path: std::path::PathBuf::new(),
        source: io::Error::other("a layer's worker failed"),
    })
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
    /// Takes the store's exclusive lock for the whole call: the caller must not hold it.
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
        let _lock = self.lock()?;
        let added = std::sync::Mutex::new(Vec::new());
        // files side by side, unless a layer repeats (two workers would unpack it at once)
        let distinct = diff_ids
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == diff_ids.len();
        let all_files = distinct && layers.iter().all(|l| matches!(l, LayerInput::File { .. }));
        let result = (|| {
            let mut size = 0;
            if all_files {
                // files: two layers at a time (reading, hashing and unpacking each is work of
                // its own; the lock is held)
                let files: Vec<_> = layers
                    .into_iter()
                    .zip(diff_ids)
                    .enumerate()
                    .filter_map(|(index, (input, want))| match input {
                        LayerInput::File {
                            path,
                            name,
                            blob,
                            movable,
                        } => Some((
                            index,
                            FileLayer {
                                path,
                                name,
                                blob,
                                movable,
                            },
                            want,
                        )),
                        LayerInput::Reader(_) => None,
                    })
                    .collect();
                for pair in files.chunks(2) {
                    let sizes: Vec<Result<u64, IngestError>> = std::thread::scope(|scope| {
                        let running: Vec<_> = pair
                            .iter()
                            .map(|(index, file, want)| {
                                let added = &added;
                                scope.spawn(move || self.ingest_file(*index, file, want, added))
                            })
                            .collect();
                        running
                            .into_iter()
                            .map(|t| t.join().unwrap_or_else(|_| Err(panicked())))
                            .collect()
                    });
                    for s in sizes {
                        size += s?;
                    }
                }
            } else {
                for (index, (input, want)) in layers.into_iter().zip(diff_ids).enumerate() {
                    let bytes = match input {
                        LayerInput::Reader(reader) => {
                            self.layer_bytes(index, reader, want, &added)?
                        }
                        LayerInput::File {
                            path,
                            name,
                            blob,
                            movable,
                        } => {
                            let file = FileLayer {
                                path,
                                name,
                                blob,
                                movable,
                            };
                            size += self.ingest_file(index, &file, want, &added)?;
                            continue;
                        }
                    };
                    size += self.unpack_layer(index, &bytes, want, &added)?;
                }
            }
            let id = self.put_blob(config)?;
            self.record_image(id, parsed.clone(), size, tags, report)?;
            Ok(id)
        })();
        if result.is_err() {
            // what this call added and no image names: the layers before the one that failed
            let added = added.into_inner().unwrap_or_default();
            for path in added.iter().rev() {
                let _ = super::remove_tree(path).or_else(|_| std::fs::remove_file(path));
            }
        }
        result
    }

    /// A layer given as a file: read once, checked against the digest its archive names it by
    /// and against its diff_id; the plain tar is renamed into `blobs/` (the file is below the
    /// store's `tmp/`, on the same filesystem), a gzipped one is written there uncompressed.
    fn ingest_file(
        &self,
        index: usize,
        file: &FileLayer,
        diff_id: &Digest,
        added: &std::sync::Mutex<Vec<std::path::PathBuf>>,
    ) -> Result<u64, IngestError> {
        let FileLayer {
            path,
            name,
            blob,
            movable,
        } = file;
        let broken = |e: io::Error| IngestError::Layer {
            index,
            source: e.into(),
        };
        let dest = self.blob_path(diff_id);
        // an earlier image of the same archive may have moved this file into the store already
        let raw = match std::fs::read(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && dest.is_file() => {
                std::fs::read(&dest).map_err(broken)?
            }
            read => read.map_err(broken)?,
        };
        let raw_digest = Digest::sha256_of(&raw);
        if let Some((expected, size)) = *blob {
            if raw_digest != expected {
                return Err(IngestError::Archive(format!(
                    "invalid archive: `{name}` has digest {raw_digest}, not {expected}"
                )));
            }
            if raw.len() as u64 != size {
                return Err(IngestError::Archive(format!(
                    "invalid archive: `{name}` is {} bytes, not the {size} its descriptor gives",
                    raw.len()
                )));
            }
        }
        if raw.starts_with(&[0x1f, 0x8b]) {
            let bytes = self.layer_bytes(index, Box::new(raw.as_slice()), diff_id, added)?;
            return self.unpack_layer(index, &bytes, diff_id, added);
        }
        if raw_digest != *diff_id {
            return Err(IngestError::DiffId {
                index,
                expected: *diff_id,
                actual: raw_digest,
            });
        }
        if !dest.is_file() {
            if !*movable || std::fs::rename(path, &dest).is_err() {
                super::write_replacing(&self.blobs(), &diff_id.hex(), &raw, false)?;
            }
            lock(added).push(dest);
        }
        self.unpack_layer(index, &raw, diff_id, added)
    }
    /// A streamed layer's uncompressed tar: read and hashed into memory in one pass (the
    /// unpacking needs the bytes there), checked against its diff_id, then kept as the blob
    /// `diff_id` without a read back. A blob already there is read instead.
    fn layer_bytes(
        &self,
        index: usize,
        reader: Box<dyn Read + '_>,
        diff_id: &Digest,
        added: &std::sync::Mutex<Vec<std::path::PathBuf>>,
    ) -> Result<Vec<u8>, IngestError> {
        let blob = self.blob_path(diff_id);
        if blob.is_file() {
            return std::fs::read(&blob).map_err(|e| super::at(&blob)(e).into());
        }
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
        // like the unpacked layers, the layer blobs are not fsynced: a blob a crash cuts short
        // no longer matches its name, and `system check` removes it
        super::write_replacing(&self.blobs(), &diff_id.hex(), &bytes, false)?;
        lock(added).push(blob);
        Ok(bytes)
    }

    /// Unpacks a layer's tar into `layers/<diff_id>` unless it is there. Returns its size in
    /// docker's sense.
    fn unpack_layer(
        &self,
        index: usize,
        bytes: &[u8],
        diff_id: &Digest,
        added: &std::sync::Mutex<Vec<std::path::PathBuf>>,
    ) -> Result<u64, IngestError> {
        let layer = read_layer(bytes).map_err(|source| IngestError::Layer { index, source })?;
        let dir = self.layer_dir(&diff_id.hex())?;
        if !dir.exists() {
            self.create_layer(&diff_id.hex(), |dir: &Path| {
                write_layer_dir(&layer, dir).map_err(io::Error::other)
            })?;
            lock(added).push(dir);
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
