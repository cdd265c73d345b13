//! `push`: an image of the store to a registry as a Docker v2 schema 2 manifest.
//!
//! Each layer is sent gzipped. The gzip is made once from the layer's tar (checked against its
//! diff_id) and kept as a blob, with a record of where it was sent
//! (`<root>/distribution/<diff_id>.json`), so that a later push sends the same bytes: a blob
//! the repository has is skipped (HEAD), one another repository of the same registry has is
//! mounted from there, anything else is uploaded, in one PUT up to [`chunk_size`] bytes or in
//! PATCHed chunks.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::Mutex;

use layerbox_core::image::{Digest, DigestWriter, Reference};
use serde::{Deserialize, Serialize};

use super::auth::{CredentialStore, server_key};
use super::client::Registry;
use super::manifest::{
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, Descriptor, ImageManifest,
};
use super::progress::Progress;
use super::{RegistryError, Settings};
use crate::store::Store;

/// How many layers are compressed and sent at once.
pub const CONCURRENT_UPLOADS: usize = 3;

/// Blobs up to this size go in one PUT, bigger ones in PATCHed chunks of this size
/// (`LAYERBOX_UPLOAD_CHUNK_SIZE` sets it, in bytes).
pub fn chunk_size() -> u64 {
    std::env::var("LAYERBOX_UPLOAD_CHUNK_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(64 << 20)
}

/// What layerbox knows of a layer's compressed form: its blob, and the repositories that have
/// it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// The gzipped tar kept in the blob store.
    pub gzip: Option<Blob>,
    /// `registry/repository` names known to hold it.
    #[serde(default)]
    pub seen: Vec<String>,
}

/// A blob's digest and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

fn distribution_dir(store: &Store) -> std::path::PathBuf {
    store.root().join("distribution")
}

/// The record of layer `diff_id`.
pub fn distribution(store: &Store, diff_id: &Digest) -> Distribution {
    std::fs::read(distribution_dir(store).join(format!("{}.json", diff_id.hex())))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_distribution(
    store: &Store,
    diff_id: &Digest,
    d: &Distribution,
) -> Result<(), RegistryError> {
    let dir = distribution_dir(store);
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_vec_pretty(d).map_err(std::io::Error::other)?;
    crate::store::write_replacing(&dir, &format!("{}.json", diff_id.hex()), &json, false)?;
    Ok(())
}

/// The layer's tar: its blob when the store has one, else written from its skeleton or its
/// directory ([`Store::layer_tar`]); either way checked against `diff_id`.
fn layer_tar(store: &Store, diff_id: &Digest) -> Result<Vec<u8>, RegistryError> {
    let (path, _) = store
        .layer_tar(diff_id)
        .map_err(|e| RegistryError::Image(format!("layer {diff_id}: {e}")))?;
    Ok(std::fs::read(path)?)
}

/// The gzipped blob of layer `diff_id`, made (and recorded) on first use.
fn gzip_blob(store: &Store, diff_id: &Digest) -> Result<(Blob, Distribution), RegistryError> {
    let mut d = distribution(store, diff_id);
    if let Some(b) = d.gzip
        && store.blob_path(&b.digest).is_file()
    {
        return Ok((b, d));
    }
    let tar = layer_tar(store, diff_id)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar)?;
    let bytes = gz.finish()?;
    let digest = store.put_blob(&bytes)?;
    let blob = Blob {
        digest,
        size: bytes.len() as u64,
    };
    d.gzip = Some(blob);
    save_distribution(store, diff_id, &d)?;
    Ok((blob, d))
}

/// Pushes `name` (`localhost:5000/app:1`); returns the manifest's digest.
pub fn push(
    store: &Store,
    name: &str,
    settings: &Settings,
    progress: &Mutex<Progress>,
) -> Result<Digest, RegistryError> {
    let given =
        Reference::parse_normalized(name).map_err(|e| RegistryError::Image(e.to_string()))?;
    if given.digest().is_some() {
        return Err(RegistryError::Image(
            "cannot push a digest reference".into(),
        ));
    }
    let show = |f: &dyn Fn(&mut Progress)| {
        f(&mut progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    };
    if given.tag().is_none() {
        show(&|p| p.line("Using default tag: latest"));
    }
    let reference = given.with_default_tag();
    let image = {
        let _lock = store.lock_shared()?;
        store
            .engine_images()?
            .into_iter()
            .find(|i| i.repo_tags.contains(&reference))
            .ok_or_else(|| {
                RegistryError::Image(format!(
                    "An image does not exist locally with the tag: {}",
                    reference.familiar_name()
                ))
            })?
    };
    show(&|p| {
        p.line(&format!(
            "The push refers to repository [{}]",
            reference.familiar_name()
        ));
    });
    let repo = reference.path();
    let scopes = vec![format!("repository:{repo}:pull,push")];
    let creds = CredentialStore::for_user().lookup(&server_key(reference.domain()));
    let registry = Registry::connect(reference.domain(), settings, creds)?;
    let config_bytes = store.read_blob(&image.id)?.ok_or_else(|| {
        RegistryError::Image(format!("the config of image {} is missing", image.id))
    })?;
    let diff_ids = &image.config.rootfs.diff_ids;
    // docker lists the layers top first
    for d in diff_ids.iter().rev() {
        show(&|p| p.status(&d.short(), "Preparing"));
    }
    // a few layers at once (each compressed, then sent), as dockerd's concurrent uploads
    let push_layer = |d: &Digest| -> Result<Descriptor, RegistryError> {
        let id = d.short();
        let (blob, mut dist) = gzip_blob(store, d)?;
        let outcome = send_blob(&registry, store, repo, &blob, &dist, &scopes, &|n| {
            show(&|p| p.progress(&id, "Pushing", n, blob.size));
        })?;
        show(&|p| p.status(&id, &outcome));
        let here = format!("{}/{repo}", registry.base());
        if !dist.seen.contains(&here) {
            dist.seen.push(here);
            save_distribution(store, d, &dist)?;
        }
        Ok(Descriptor {
            media_type: DOCKER_LAYER_GZIP.into(),
            digest: blob.digest,
            size: blob.size,
            urls: Vec::new(),
            platform: None,
        })
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Descriptor, RegistryError>>>> =
        diff_ids.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..CONCURRENT_UPLOADS.min(diff_ids.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(d) = diff_ids.get(i) else { return };
                    let pushed = push_layer(d);
                    let failed = pushed.is_err();
                    *results[i].lock().expect("results") = Some(pushed);
                    if failed {
                        return;
                    }
                }
            });
        }
    });
    let mut layers = Vec::with_capacity(diff_ids.len());
    for r in results {
        // `None`: a layer no thread reached, because another one failed first
        if let Some(pushed) = r.into_inner().expect("results") {
            layers.push(pushed?);
        }
    }
    if layers.len() != diff_ids.len() {
        return Err(RegistryError::Image("a layer could not be pushed".into()));
    }
    let config_blob = Blob {
        digest: image.id,
        size: config_bytes.len() as u64,
    };
    send_blob(
        &registry,
        store,
        repo,
        &config_blob,
        &Distribution::default(),
        &scopes,
        &|_| {},
    )?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(DOCKER_MANIFEST.into()),
        config: Descriptor {
            media_type: DOCKER_CONFIG.into(),
            digest: image.id,
            size: config_blob.size,
            urls: Vec::new(),
            platform: None,
        },
        layers,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    let tag = reference.tag().unwrap_or(layerbox_core::image::DEFAULT_TAG);
    registry.put_manifest(repo, tag, DOCKER_MANIFEST, &bytes, &scopes)?;
    let digest = Digest::sha256_of(&bytes);
    show(&|p| p.result(&format!("{tag}: digest: {digest} size: {}", bytes.len())));
    Ok(digest)
}

/// Sends one blob unless the repository has it; returns docker's word for what happened.
fn send_blob(
    registry: &Registry,
    store: &Store,
    repo: &str,
    blob: &Blob,
    dist: &Distribution,
    scopes: &[String],
    progress: &dyn Fn(u64),
) -> Result<String, RegistryError> {
    if registry.has_blob(repo, &blob.digest, scopes)? {
        return Ok("Layer already exists".into());
    }
    // a repository of the same registry that has it: mount it from there
    let prefix = format!("{}/", registry.base());
    let mut location = None;
    for other in &dist.seen {
        let Some(from) = other.strip_prefix(&prefix) else {
            continue;
        };
        if from == repo {
            continue;
        }
        let mut mount_scopes = scopes.to_vec();
        mount_scopes.push(format!("repository:{from}:pull"));
        let query = format!(
            "?mount={}&from={}",
            blob.digest,
            super::client::query_escape(from)
        );
        match registry.start_upload(repo, &query, &mount_scopes)? {
            None => return Ok(format!("Mounted from {from}")),
            // the registry could not mount it and started an upload instead
            Some(l) => {
                location = Some(l);
                break;
            }
        }
    }
    let location = match location {
        Some(l) => l,
        None => registry.start_upload(repo, "", scopes)?.ok_or_else(|| {
            RegistryError::Transport("the registry mounted a blob it was not asked to".into())
        })?,
    };
    let path = store.blob_path(&blob.digest);
    let with_digest = |location: &str| {
        let sep = if location.contains('?') { '&' } else { '?' };
        format!(
            "{location}{sep}digest={}",
            super::client::query_escape(&blob.digest.to_string())
        )
    };
    let octets = ("Content-Type", "application/octet-stream".to_owned());
    if blob.size <= chunk_size() {
        // monolithic: the whole blob in the PUT that ends the upload
        let file = File::open(&path)?;
        registry.upload_request(
            scopes,
            "PUT",
            &with_digest(&location),
            &[octets],
            &mut |r| r.send(&file),
            &[201],
        )?;
        progress(blob.size);
        return Ok("Pushed".into());
    }
    // chunked: PATCH each chunk with its range, then an empty PUT
    let mut file = File::open(&path)?;
    let mut location = location;
    let mut sent = 0u64;
    let mut hasher = DigestWriter::new();
    let chunk = usize::try_from(chunk_size()).unwrap_or(usize::MAX);
    let mut buf = Vec::with_capacity(chunk);
    loop {
        buf.clear();
        (&mut file).take(chunk as u64).read_to_end(&mut buf)?;
        if buf.is_empty() {
            break;
        }
        hasher.update(&buf);
        let end = sent + buf.len() as u64 - 1;
        let next = registry.upload_request(
            scopes,
            "PATCH",
            &location,
            &[octets.clone(), ("Content-Range", format!("{sent}-{end}"))],
            &mut |r| r.send(&buf[..]),
            &[202],
        )?;
        sent = end + 1;
        progress(sent);
        if let Some(next) = next {
            location = next;
        }
    }
    if hasher.finish() != blob.digest {
        return Err(RegistryError::Image(format!(
            "blob {} changed in the store while it was pushed",
            blob.digest
        )));
    }
    registry.upload_request(
        scopes,
        "PUT",
        &with_digest(&location),
        &[("Content-Length", "0".to_owned())],
        &mut |r| r.send_empty(),
        &[201],
    )?;
    Ok("Pushed".into())
}
