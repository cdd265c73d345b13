//! `pull`: the manifest (through a list or index to one platform's), the config, then the
//! layers: a few downloads at once, each streamed as it arrives into a staging directory of
//! the store (hashed for its blob digest, decompressed, hashed for its diff_id, unpacked and
//! its tar kept as a skeleton beside the files, all in one pass: [`Staging::layer_split`]),
//! resumed with a `Range` request after a
//! broken connection. Once every digest is right the layers are renamed into the store and the
//! image's record is written last ([`Store::commit_image`]), so a failed pull leaves no image
//! and no layer. The compressed blobs are not kept: the store keeps the tars, whose digests the
//! config names.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use layerbox_core::image::{Digest, DigestWriter, ImageConfig, Reference};

use super::auth::{CredentialStore, server_key};
use super::client::Registry;
use super::manifest::{Compression, Descriptor, ImageManifest, Manifest, Platform};
use super::progress::Progress;
use super::{RegistryError, Settings};
use crate::sim::SystemClock;
use crate::store::{ImageRecord, RecordKind, StagedLayer, Staging, Store};
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

/// dockerd's words for a manifest a registry would not give (its `translatePullError`).
fn not_found(e: RegistryError, reference: &Reference) -> RegistryError {
    let RegistryError::Status { status, message } = e else {
        return e;
    };
    let message = if status == 403 || message.starts_with("denied") {
        format!(
            "pull access denied for {}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            reference.familiar_name()
        )
    } else if message.starts_with("manifest unknown") {
        format!("manifest for {} not found: {message}", reference.familiar())
    } else if message.starts_with("name unknown") {
        format!(
            "repository {} not found: {message}",
            reference.familiar_name()
        )
    } else {
        message
    };
    RegistryError::Status { status, message }
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
        open_source(&reference, settings, &creds, &scopes, &tag_or_digest)
            .map_err(|e| not_found(e, &reference))?;
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
        let staging = store.staging()?;
        let staged = fetch_layers(
            store,
            &staging,
            (&registry, reference.path(), &scopes),
            &manifest,
            &config,
            progress,
        )?;
        let pulled: Vec<String> = staged
            .iter()
            .filter_map(|s| {
                let at = config
                    .rootfs
                    .diff_ids
                    .iter()
                    .position(|d| *d == s.diff_id)?;
                manifest.layers.get(at).map(layer_id)
            })
            .collect();
        store
            .commit_image(&config_bytes, staged, &tags, None)
            .map_err(|e| RegistryError::Image(e.to_string()))?;
        let mut p = lock(progress);
        for id in pulled {
            p.status(&id, "Pull complete");
        }
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

/// Streams every layer the store lacks into `staging`, [`CONCURRENT_DOWNLOADS`] at once: each
/// download hashed for its blob digest, decompressed, hashed for its diff_id, unpacked and its
/// tar kept as a skeleton in one pass as its bytes arrive ([`Staging::layer_split`]). Nothing is in the store until
/// the caller commits what this returns.
fn fetch_layers(
    store: &Store,
    staging: &Staging,
    (registry, repo, scopes): (&Registry, &str, &[String]),
    manifest: &ImageManifest,
    config: &ImageConfig,
    progress: &Mutex<Progress>,
) -> Result<Vec<StagedLayer>, RegistryError> {
    let mut todo: Vec<(usize, &Descriptor, &Digest)> = Vec::new();
    for (index, (desc, diff_id)) in manifest
        .layers
        .iter()
        .zip(&config.rootfs.diff_ids)
        .enumerate()
    {
        Compression::of(&desc.media_type)?;
        if store.has_layer(diff_id)? {
            lock(progress).status(&layer_id(desc), "Already exists");
        } else if !todo
            .iter()
            .any(|(_, d, id)| d.digest == desc.digest || *id == diff_id)
        {
            lock(progress).status(&layer_id(desc), "Pulling fs layer");
            todo.push((index, desc, diff_id));
        }
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Result<StagedLayer, RegistryError>>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..CONCURRENT_DOWNLOADS.min(todo.len()) {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&(index, desc, diff_id)) =
                        todo.get(next.fetch_add(1, Ordering::Relaxed))
                    else {
                        return;
                    };
                    let mut blob = BlobStream::new(registry, repo, desc, scopes, progress);
                    let staged = Compression::of(&desc.media_type)
                        .map_err(RegistryError::from)
                        .and_then(|c| {
                            let layer = c.reader(&mut blob)?;
                            staging
                                .layer_split(index, layer, diff_id)
                                .map_err(|e| RegistryError::Image(e.to_string()))
                        });
                    // a blob that is not what its digest says is the first thing to report,
                    // whatever its bytes did to the unpacking
                    let got = blob.finish().and(staged);
                    if got.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(got);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .collect()
}

/// How often a broken download is resumed within one pull.
const RESUMES: u32 = 3;

/// A layer blob as a reader: fetched from the registry as it is read, hashed, resumed with a
/// `Range` request where a broken connection stopped it, its digest and size checked when its
/// last byte is read. A failure is kept ([`BlobStream::finish`] returns it) and the reader
/// gives only an error from then on.
struct BlobStream<'a> {
    registry: &'a Registry,
    repo: &'a str,
    desc: &'a Descriptor,
    scopes: &'a [String],
    progress: &'a Mutex<Progress>,
    id: String,
    body: Option<ureq::BodyReader<'static>>,
    hasher: DigestWriter,
    have: u64,
    /// Bytes to drop: a registry that ignored the range sends the blob from its start.
    skip: u64,
    attempts: u32,
    verified: bool,
    failure: Option<RegistryError>,
}

impl<'a> BlobStream<'a> {
    fn new(
        registry: &'a Registry,
        repo: &'a str,
        desc: &'a Descriptor,
        scopes: &'a [String],
        progress: &'a Mutex<Progress>,
    ) -> Self {
        Self {
            registry,
            repo,
            desc,
            scopes,
            progress,
            id: layer_id(desc),
            body: None,
            hasher: DigestWriter::new(),
            have: 0,
            skip: 0,
            attempts: 0,
            verified: false,
            failure: None,
        }
    }

    fn fail(&mut self, e: RegistryError) -> std::io::Error {
        self.body = None;
        let io = std::io::Error::other(e.to_string());
        self.failure.get_or_insert(e);
        io
    }

    /// Reads whatever the consumer left, and returns the download's failure if there was one.
    fn finish(mut self) -> Result<(), RegistryError> {
        if self.failure.is_none() && !self.verified {
            let _ = std::io::copy(&mut self, &mut std::io::sink());
        }
        self.failure.map_or(Ok(()), Err)
    }

    /// The blob is all there: its digest decides.
    fn verify(&mut self) -> std::io::Result<usize> {
        if !self.verified {
            lock(self.progress).status(&self.id, "Verifying Checksum");
            let actual = std::mem::take(&mut self.hasher).finish();
            if actual != self.desc.digest {
                return Err(self.fail(RegistryError::DigestMismatch {
                    what: format!("blob {}", self.desc.digest),
                    expected: self.desc.digest,
                    actual,
                }));
            }
            self.verified = true;
            self.body = None;
            lock(self.progress).status(&self.id, "Download complete");
        }
        Ok(0)
    }
}

impl Read for BlobStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(e) = &self.failure {
            return Err(std::io::Error::other(e.to_string()));
        }
        let size = self.desc.size;
        loop {
            if self.have >= size {
                return self.verify();
            }
            if self.body.is_none() {
                self.attempts += 1;
                match self
                    .registry
                    .blob(self.repo, &self.desc.digest, self.have, self.scopes)
                {
                    Ok((resp, start)) => {
                        // a registry that sends it all again: what came already is dropped
                        self.skip = self.have - start.min(self.have);
                        self.body = Some(resp.into_body().into_reader());
                    }
                    Err(e) => return Err(self.fail(e)),
                }
            }
            let left = usize::try_from(size - self.have + self.skip).unwrap_or(usize::MAX);
            let want = buf.len().min(left);
            let body = self.body.as_mut().expect("opened above");
            match body.read(&mut buf[..want]) {
                Ok(0) => {
                    // the connection ended early: resumed where it stopped
                    self.body = None;
                    if self.attempts > RESUMES {
                        let have = self.have;
                        return Err(self.fail(RegistryError::Image(format!(
                            "blob {}: size mismatch: the manifest says {size} bytes, the registry sent {have}",
                            self.desc.digest
                        ))));
                    }
                }
                Ok(mut n) => {
                    if self.skip > 0 {
                        let dropped = usize::try_from(self.skip).unwrap_or(usize::MAX).min(n);
                        buf.copy_within(dropped..n, 0);
                        n -= dropped;
                        self.skip -= dropped as u64;
                        if n == 0 {
                            continue;
                        }
                    }
                    self.hasher.update(&buf[..n]);
                    self.have += n as u64;
                    lock(self.progress).progress(&self.id, "Downloading", self.have, size);
                    return Ok(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.body = None;
                    if self.attempts > RESUMES {
                        let digest = self.desc.digest;
                        return Err(self.fail(RegistryError::Transport(format!(
                            "downloading {digest}: {e}"
                        ))));
                    }
                }
            }
        }
    }
}
