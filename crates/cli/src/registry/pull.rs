//! `pull`: the manifest (through a list or index to one platform's), the config, then the
//! layers: a few downloads at once, each hashed while it streams to `<root>/downloads/`,
//! resumed with a `Range` request after a broken connection (or by a later pull, after an
//! interrupted one), then, once every digest is right, decompressed into the store
//! ([`Store::ingest_image`]: each tar checked against its diff_id and unpacked, the image's
//! record written last, so a failed pull leaves no image). The compressed downloads are removed
//! then: the store keeps the tars, whose digests the config names.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use layerbox_core::image::{Digest, DigestWriter, ImageConfig, Reference};

use super::auth::{CredentialStore, server_key};
use super::client::Registry;
use super::manifest::{Compression, Descriptor, ImageManifest, Manifest, Platform};
use super::progress::Progress;
use super::{RegistryError, Settings};
use crate::sim::SystemClock;
use crate::store::{ImageRecord, RecordKind, Store};
use layerbox_core::engine::{Engine, Output};

/// How many blobs download at once (dockerd's `max-concurrent-downloads` default).
pub const CONCURRENT_DOWNLOADS: usize = 3;

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The image ID (the config's digest).
    pub id: Digest,
    /// The reference pulled, normalised (with `latest` when it named no tag or digest).
    pub reference: Reference,
    /// The digest of the manifest (or of the list) the reference named.
    pub digest: Digest,
    /// Whether the store had the image already.
    pub up_to_date: bool,
}

/// The registry that serves `reference`, trying the mirrors first for Docker Hub's images, and
/// the manifest it has for the reference.
fn open_source(
    reference: &Reference,
    settings: &Settings,
    creds: &CredentialStore,
    scopes: &[String],
    tag_or_digest: &str,
) -> Result<(Registry, Vec<u8>, String), RegistryError> {
    let mut sources: Vec<String> = Vec::new();
    if reference.domain() == layerbox_core::image::DEFAULT_DOMAIN {
        sources.extend(settings.mirrors.iter().cloned());
    }
    sources.push(reference.domain().to_owned());
    let mut last = None;
    for source in &sources {
        let attempt = Registry::connect(source, settings, creds.lookup(&server_key(source)))
            .and_then(|r| {
                let (bytes, media_type) = r.manifest(reference.path(), tag_or_digest, scopes)?;
                Ok((r, bytes, media_type))
            });
        match attempt {
            Ok(found) => return Ok(found),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one source"))
}

fn verify(what: &str, expected: &Digest, bytes: &[u8]) -> Result<(), RegistryError> {
    let actual = Digest::sha256_of(bytes);
    if actual == *expected {
        Ok(())
    } else {
        Err(RegistryError::DigestMismatch {
            what: what.to_owned(),
            expected: *expected,
            actual,
        })
    }
}

/// Pulls `name` (`busybox`, `localhost:5000/app:1`, `x@sha256:…`) into the store.
pub fn pull(
    store: &Store,
    name: &str,
    platform: Option<&Platform>,
    settings: &Settings,
    progress: &Mutex<Progress>,
) -> Result<Pulled, RegistryError> {
    let given =
        Reference::parse_normalized(name).map_err(|e| RegistryError::Image(e.to_string()))?;
    if given.tag().is_none() && given.digest().is_none() {
        lock(progress).line("Using default tag: latest");
    }
    let reference = given.with_default_tag();
    let tag_or_digest = reference
        .digest()
        .map(ToString::to_string)
        .or_else(|| reference.tag().map(str::to_owned))
        .unwrap_or_default();
    let scopes = vec![format!("repository:{}:pull", reference.path())];
    let creds = CredentialStore::for_user();
    let (registry, bytes, media_type) =
        open_source(&reference, settings, &creds, &scopes, &tag_or_digest)?;
    let digest = Digest::sha256_of(&bytes);
    if let Some(expected) = reference.digest() {
        verify(&format!("manifest {expected}"), expected, &bytes)?;
    }
    lock(progress).line(&format!(
        "{tag_or_digest}: Pulling from {}",
        reference.path()
    ));
    let wanted = platform.cloned().unwrap_or_else(Platform::host);
    let manifest = match Manifest::parse(&media_type, &bytes)? {
        Manifest::Image(m) => m,
        Manifest::Index(index) => {
            let chosen = index.select(&wanted)?;
            let (bytes, media_type) =
                registry.manifest(reference.path(), &chosen.digest.to_string(), &scopes)?;
            verify(
                &format!("manifest {}", chosen.digest),
                &chosen.digest,
                &bytes,
            )?;
            match Manifest::parse(&media_type, &bytes)? {
                Manifest::Image(m) => m,
                Manifest::Index(_) => {
                    return Err(RegistryError::Image(format!(
                        "manifest {} is a list inside a list",
                        chosen.digest
                    )));
                }
            }
        }
    };
    let (config_bytes, config) = fetch_config(&registry, &reference, &manifest, &scopes)?;
    if platform.is_some() && (config.os != wanted.os || config.architecture != wanted.architecture)
    {
        return Err(RegistryError::Image(format!(
            "image with reference {} was found but does not match the specified platform: wanted {wanted}, actual: {}/{}",
            reference.familiar(),
            config.os,
            config.architecture
        )));
    }
    let id = manifest.config.digest;
    let tags: Vec<Reference> = reference
        .tag()
        .map(|_| reference.clone())
        .into_iter()
        .collect();
    let up_to_date = has_image(store, &id)?;
    if up_to_date {
        tag_image(store, &id, tags)?;
    } else {
        let (index, downloads) = fetch_layers(
            store, &registry, &reference, &manifest, &config, &scopes, progress,
        )?;
        let ingested = ingest(
            store,
            &config_bytes,
            &manifest,
            (&index, &downloads),
            &tags,
            progress,
        );
        // the compressed blobs were needed only until their layers were unpacked
        for d in &downloads {
            d.remove();
        }
        ingested?;
    }
    let mut p = lock(progress);
    p.line(&format!("Digest: {digest}"));
    let name = reference.familiar();
    p.line(&if up_to_date {
        format!("Status: Image is up to date for {name}")
    } else {
        format!("Status: Downloaded newer image for {name}")
    });
    p.result(&reference.to_string());
    Ok(Pulled {
        id,
        reference,
        digest,
        up_to_date,
    })
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The config blob, verified, and parsed; its layers must match the manifest's.
fn fetch_config(
    registry: &Registry,
    reference: &Reference,
    manifest: &ImageManifest,
    scopes: &[String],
) -> Result<(Vec<u8>, ImageConfig), RegistryError> {
    let d = &manifest.config.digest;
    let (mut resp, _) = registry.blob(reference.path(), d, 0, scopes)?;
    let mut bytes = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(16 << 20)
        .read_to_end(&mut bytes)?;
    verify(&format!("config {d}"), d, &bytes)?;
    let config = ImageConfig::from_json(&bytes)
        .map_err(|e| RegistryError::Image(format!("config {d}: {e}")))?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(RegistryError::Image(format!(
            "the manifest has {} layers but its config {} names {}",
            manifest.layers.len(),
            d,
            config.rootfs.diff_ids.len()
        )));
    }
    Ok((bytes, config))
}

/// The short ID docker shows for a layer: 12 hex digits of its blob digest.
fn layer_id(d: &Descriptor) -> String {
    d.digest.short()
}

/// Whether the store has the complete image `id`.
fn has_image(store: &Store, id: &Digest) -> Result<bool, RegistryError> {
    Ok(store
        .get_record::<ImageRecord>(RecordKind::Image, &id.hex())?
        .is_some_and(|r| store.image_complete(&r)))
}

/// Gives the image `id`, which the store has, the tags of the pull (taken from other images).
fn tag_image(store: &Store, id: &Digest, tags: Vec<Reference>) -> Result<(), RegistryError> {
    let _lock = store.lock()?;
    let mut loaded = crate::docker::state::load(store, false)?;
    let Some(image) = loaded.state.images.iter().find(|i| i.id == *id).cloned() else {
        return Ok(());
    };
    let mut engine = Engine::new(std::mem::take(&mut loaded.state)).with_clock(SystemClock);
    engine.add_image(
        *id,
        image.config,
        &[],
        image.size,
        tags,
        &mut Output::default(),
    );
    loaded.save(store, engine.state())?;
    Ok(())
}

/// Whether the store holds layer `diff_id` in full: its tar and its unpacked directory.
fn has_layer(store: &Store, diff_id: &Digest) -> Result<bool, RegistryError> {
    Ok(store.blob_path(diff_id).is_file() && store.layer_dir(&diff_id.hex())?.is_dir())
}

/// Downloads every layer blob the store lacks, [`CONCURRENT_DOWNLOADS`] at once, in memory
/// when they add up to at most [`memory_limit`]. Returns, per layer, the index of its download
/// (`None` for a layer the store has) and the downloads.
fn fetch_layers(
    store: &Store,
    registry: &Registry,
    reference: &Reference,
    manifest: &ImageManifest,
    config: &ImageConfig,
    scopes: &[String],
    progress: &Mutex<Progress>,
) -> Result<(Vec<Option<usize>>, Vec<Downloaded>), RegistryError> {
    let mut todo: Vec<&Descriptor> = Vec::new();
    let mut wanted = Vec::new();
    for (desc, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        Compression::of(&desc.media_type)?;
        let have = has_layer(store, diff_id)?;
        wanted.push(!have);
        if have {
            lock(progress).status(&layer_id(desc), "Already exists");
        } else if !todo.iter().any(|d| d.digest == desc.digest) {
            lock(progress).status(&layer_id(desc), "Pulling fs layer");
            todo.push(desc);
        }
    }
    let in_memory = todo.iter().map(|d| d.size).sum::<u64>() <= memory_limit();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<(Digest, Result<Downloaded, RegistryError>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..CONCURRENT_DOWNLOADS.min(todo.len()) {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(desc) = todo.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        return;
                    };
                    let got = download(
                        store,
                        registry,
                        reference.path(),
                        desc,
                        scopes,
                        in_memory,
                        progress,
                    );
                    match &got {
                        Ok(_) => lock(progress).status(&layer_id(desc), "Download complete"),
                        Err(_) => failed.store(true, Ordering::Relaxed),
                    }
                    results.lock().expect("results").push((desc.digest, got));
                }
            });
        }
    });
    let mut digests = Vec::new();
    let mut downloads = Vec::new();
    let mut first_error = None;
    for (d, got) in results.into_inner().expect("results") {
        match got {
            Ok(blob) => {
                digests.push(d);
                downloads.push(blob);
            }
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    if let Some(e) = first_error {
        // downloaded files are kept for the next pull to resume; nothing is unpacked
        return Err(e);
    }
    let index = manifest
        .layers
        .iter()
        .zip(wanted)
        .map(|(desc, want)| {
            want.then(|| digests.iter().position(|d| *d == desc.digest))
                .flatten()
        })
        .collect();
    Ok((index, downloads))
}

/// A reader of a layer blob that shows how far it got as `Extracting`.
struct Extracting<'a, R> {
    inner: R,
    id: String,
    read: u64,
    total: u64,
    progress: &'a Mutex<Progress>,
}

impl<R: Read> Read for Extracting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        lock(self.progress).progress(&self.id, "Extracting", self.read, self.total);
        Ok(n)
    }
}

/// Brings the image into the store: each downloaded layer blob decompressed and verified against
/// its diff_id, then the config and the record with the tags.
fn ingest(
    store: &Store,
    config_bytes: &[u8],
    manifest: &ImageManifest,
    (index, downloads): (&[Option<usize>], &[Downloaded]),
    tags: &[Reference],
    progress: &Mutex<Progress>,
) -> Result<Digest, RegistryError> {
    let mut readers: Vec<Box<dyn Read>> = Vec::new();
    for (desc, blob) in manifest.layers.iter().zip(index) {
        let Some(i) = blob else {
            readers.push(Box::new(std::io::empty()));
            continue;
        };
        let counted = Extracting {
            inner: downloads[*i].reader()?,
            id: layer_id(desc),
            read: 0,
            total: desc.size,
            progress,
        };
        readers.push(Compression::of(&desc.media_type)?.reader(counted)?);
    }
    let id = store
        .ingest_image(config_bytes, readers, tags)
        .map_err(|e| RegistryError::Image(e.to_string()))?;
    let mut p = lock(progress);
    for (desc, blob) in manifest.layers.iter().zip(index) {
        if blob.is_some() {
            p.status(&layer_id(desc), "Pull complete");
        }
    }
    Ok(id)
}

/// How often a broken download is resumed within one pull.
const RESUMES: u32 = 3;

/// A downloaded, verified blob: in memory (a pull small enough) or in `<root>/downloads/`.
#[derive(Debug)]
pub enum Downloaded {
    /// The bytes.
    Memory(Vec<u8>),
    /// The file (removed once its layer is in the store).
    File(PathBuf),
}

impl Downloaded {
    /// A reader of the blob.
    fn reader(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Self::Memory(bytes) => Box::new(&bytes[..]),
            Self::File(path) => Box::new(std::io::BufReader::with_capacity(
                1 << 20,
                File::open(path)?,
            )),
        })
    }

    /// Removes a downloaded file.
    fn remove(&self) {
        if let Self::File(path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// How many bytes of compressed layers a pull keeps in memory rather than in files
/// (`LAYERBOX_PULL_MEMORY` sets it): writing them to disk first doubles what a pull writes.
pub fn memory_limit() -> u64 {
    if let Some(n) = std::env::var("LAYERBOX_PULL_MEMORY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024);
    (available / 4).min(512 << 20)
}

/// Where a download goes.
enum Sink {
    Memory(Vec<u8>),
    File(File),
}

impl Sink {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Memory(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Self::File(f) => f.write_all(bytes),
        }
    }

    fn clear(&mut self) -> std::io::Result<()> {
        match self {
            Self::Memory(v) => {
                v.clear();
                Ok(())
            }
            Self::File(f) => f.set_len(0),
        }
    }
}

/// Downloads a blob, hashed as it streams, into memory (`in_memory`, unless an interrupted
/// earlier pull left part of it) or into `<root>/downloads/<hex>.partial`; resumed with a
/// `Range` request where it stopped (in this pull, or for a file in an earlier one). A blob
/// whose digest or size is wrong is dropped and is an error.
pub fn download(
    store: &Store,
    registry: &Registry,
    repo: &str,
    desc: &Descriptor,
    scopes: &[String],
    in_memory: bool,
    progress: &Mutex<Progress>,
) -> Result<Downloaded, RegistryError> {
    let dir = store.root().join("downloads");
    let partial = dir.join(format!("{}.partial", desc.digest.hex()));
    let id = layer_id(desc);
    let mut hasher = DigestWriter::new();
    let mut have = 0u64;
    let mut sink = if in_memory && !partial.exists() {
        Sink::Memory(Vec::with_capacity(usize::try_from(desc.size).unwrap_or(0)))
    } else {
        std::fs::create_dir_all(&dir)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&partial)?;
        // another pull may be fetching the same blob: wait for it
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(std::io::Error::from)?;
        // what an interrupted download left: hashed again, then continued
        let mut buf = vec![0u8; 1 << 20];
        let mut f = File::open(&partial)?;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            have += n as u64;
        }
        Sink::File(file)
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut attempts = 0;
    while have < desc.size {
        attempts += 1;
        let (mut resp, start) = registry.blob(repo, &desc.digest, have, scopes)?;
        if start == 0 && have > 0 {
            // the registry sent it all again
            sink.clear()?;
            hasher = DigestWriter::new();
            have = 0;
        }
        let mut body = resp.body_mut().as_reader();
        let streamed = loop {
            match body.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    sink.append(&buf[..n])?;
                    have += n as u64;
                    if have > desc.size {
                        break Ok(());
                    }
                    lock(progress).progress(&id, "Downloading", have, desc.size);
                }
                Err(e) => break Err(e),
            }
        };
        // a connection that broke (or ended early) is resumed where it stopped
        match streamed {
            Err(e) if attempts > RESUMES => {
                return Err(RegistryError::Transport(format!(
                    "downloading {}: {e}",
                    desc.digest
                )));
            }
            Ok(()) if have < desc.size && attempts > RESUMES => break,
            _ => {}
        }
    }
    lock(progress).status(&id, "Verifying Checksum");
    let actual = hasher.finish();
    if actual != desc.digest || have != desc.size {
        if let Sink::File(file) = sink {
            drop(file);
            let _ = std::fs::remove_file(&partial);
        }
        if actual != desc.digest {
            return Err(RegistryError::DigestMismatch {
                what: format!("blob {}", desc.digest),
                expected: desc.digest,
                actual,
            });
        }
        return Err(RegistryError::Image(format!(
            "blob {}: size mismatch: the manifest says {} bytes, the registry sent {have}",
            desc.digest, desc.size
        )));
    }
    // a file is not fsynced: it is read back at once and removed, and a resume after a crash
    // checks the digest of all of it again
    Ok(match sink {
        Sink::Memory(bytes) => Downloaded::Memory(bytes),
        Sink::File(_) => Downloaded::File(partial),
    })
}
