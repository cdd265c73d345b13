//! Reading an archive back for `load`: which format it is, which images it holds with their
//! names, and where each layer's bytes are, with every digest that names something checked.

use std::collections::BTreeMap;
use std::io::{self, Read};

use super::{
    ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, ArchiveError, MEDIA_INDEX, ManifestItem,
    OciDocument,
};
use crate::image::{Digest, DigestWriter, ImageConfig, Reference};

/// An archive's members, read by path (small files: manifests, indexes, configs).
pub trait ArchiveView {
    /// The member's bytes, `None` when there is no such member.
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, ArchiveError>;

    /// Whether the member exists (a layer: without reading it).
    fn contains(&mut self, path: &str) -> Result<bool, ArchiveError> {
        self.read(path).map(|b| b.is_some())
    }
}

/// A member name made relative and clean (`./a//b` is `a/b`); `..` that would climb out of
/// the archive is refused.
pub fn clean_member(name: &str) -> Result<String, ArchiveError> {
    crate::fs::path::clean_below_root(name).ok_or_else(|| ArchiveError::Breakout(name.to_owned()))
}

/// Where a link member points, relative to the archive's root: a hard link's target is a
/// member name, a symlink's is relative to the link's directory; either must stay inside.
pub fn resolve_link(member: &str, target: &str, hard: bool) -> Result<String, ArchiveError> {
    if hard {
        return clean_member(target).map_err(|_| ArchiveError::Breakout(member.to_owned()));
    }
    link_target(member, target)
}

fn link_target(member: &str, target: &str) -> Result<String, ArchiveError> {
    if target.starts_with('/') {
        return Err(ArchiveError::Breakout(member.to_owned()));
    }
    let dir = member.rsplit_once('/').map_or("", |(d, _)| d);
    clean_member(&format!("{dir}/{target}")).map_err(|_| ArchiveError::Breakout(member.to_owned()))
}

/// An archive held in memory: its regular files by path (links resolved to what they name
/// within the archive). For the simulated engine and the browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryArchive {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryArchive {
    /// Reads a tar (gzipped or not). Members climbing out of the archive are refused; links
    /// must point at a file of the archive; other kinds of members are skipped.
    pub fn from_tar(bytes: &[u8]) -> Result<Self, ArchiveError> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Self::read_tar(flate2::read::MultiGzDecoder::new(bytes))
        } else {
            Self::read_tar(bytes)
        }
    }

    fn read_tar(reader: impl Read) -> Result<Self, ArchiveError> {
        let mut files = BTreeMap::new();
        let mut links = Vec::new();
        let mut archive = tar::Archive::new(reader);
        let mut any = false;
        for member in archive.entries()? {
            any = true;
            let mut member = member?;
            let raw = String::from_utf8_lossy(&member.path_bytes()).into_owned();
            let path = clean_member(&raw)?;
            match member.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let mut data = Vec::with_capacity(
                        usize::try_from(member.size().min(1 << 20)).unwrap_or(0),
                    );
                    member.read_to_end(&mut data)?;
                    files.insert(path, data);
                }
                kind @ (tar::EntryType::Symlink | tar::EntryType::Link) => {
                    let target = member
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let target = resolve_link(&path, &target, kind == tar::EntryType::Link)?;
                    links.push((path, target));
                }
                _ => {}
            }
        }
        if !any {
            return Err(ArchiveError::Invalid("the archive is empty".into()));
        }
        for (path, target) in links {
            if let Some(data) = files.get(&target).cloned() {
                files.insert(path, data);
            }
        }
        Ok(Self { files })
    }

    /// Adds or replaces a member.
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), bytes);
    }

    /// The members with their bytes, by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// Takes a member's bytes out (a layer, read once).
    pub fn take(&mut self, path: &str) -> Option<Vec<u8>> {
        self.files.remove(path)
    }
}

impl ArchiveView for MemoryArchive {
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        Ok(self.files.get(path).cloned())
    }

    fn contains(&mut self, path: &str) -> Result<bool, ArchiveError> {
        Ok(self.files.contains_key(path))
    }
}

/// One layer of an image to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadLayer {
    /// The member holding the layer's blob.
    pub path: String,
    /// The blob's digest and size, when the archive names them (OCI descriptors); the reader
    /// of the blob must check them ([`VerifyingReader`]).
    pub blob: Option<(Digest, u64)>,
    /// The diff_id the config gives it (the digest of the uncompressed tar).
    pub diff_id: Digest,
}

/// One image an archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadImage {
    /// The config bytes (their sha256, checked when the archive names it, is the image ID).
    pub config: Vec<u8>,
    /// The parsed config.
    pub parsed: ImageConfig,
    /// The layers, bottom first.
    pub layers: Vec<LoadLayer>,
    /// The names the archive gives it.
    pub tags: Vec<Reference>,
}

impl LoadImage {
    /// The image ID: the digest of the config bytes.
    pub fn id(&self) -> Digest {
        Digest::sha256_of(&self.config)
    }
}

fn json<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, ArchiveError> {
    serde_json::from_slice(bytes).map_err(|e| ArchiveError::Invalid(format!("{what}: {e}")))
}

/// The 64 hex digits a member name ends with, as a digest (`<hex>.json`, `blobs/sha256/<hex>`).
fn named_digest(path: &str) -> Option<Digest> {
    let base = path.rsplit('/').next()?;
    let hex = base.strip_suffix(".json").unwrap_or(base);
    format!("sha256:{hex}").parse().ok()
}

fn read_named(
    view: &mut dyn ArchiveView,
    named_by: &'static str,
    path: &str,
    expected: Option<Digest>,
) -> Result<Vec<u8>, ArchiveError> {
    let path = clean_member(path)?;
    let bytes = view
        .read(&path)?
        .ok_or_else(|| ArchiveError::Missing(named_by, path.clone()))?;
    if let Some(expected) = expected {
        let actual = Digest::sha256_of(&bytes);
        if actual != expected {
            return Err(ArchiveError::DigestMismatch {
                path,
                expected,
                actual,
            });
        }
    }
    Ok(bytes)
}

/// The images in an archive: a docker-archive (`manifest.json`, either docker's legacy layout
/// or docker 25's) or an OCI image layout (`index.json`). Configs, manifests and indexes are
/// checked against the digests naming them; layers are only located (their readers check them).
pub fn plan_load(view: &mut dyn ArchiveView) -> Result<Vec<LoadImage>, ArchiveError> {
    if let Some(manifest) = view.read("manifest.json")? {
        return docker_plan(view, &manifest);
    }
    if let Some(index) = view.read("index.json")? {
        return oci_plan(view, &index);
    }
    Err(ArchiveError::UnknownFormat)
}

fn config_of(bytes: &[u8]) -> Result<ImageConfig, ArchiveError> {
    Ok(ImageConfig::from_json(bytes)?)
}

fn docker_plan(
    view: &mut dyn ArchiveView,
    manifest: &[u8],
) -> Result<Vec<LoadImage>, ArchiveError> {
    let items: Vec<ManifestItem> = json("manifest.json", manifest)?;
    let mut images = Vec::with_capacity(items.len());
    for item in items {
        let config = read_named(
            view,
            "manifest.json",
            &item.config,
            named_digest(&item.config),
        )?;
        let parsed = config_of(&config)?;
        if item.layers.len() != parsed.rootfs.diff_ids.len() {
            return Err(ArchiveError::Invalid(format!(
                "manifest.json names {} layers for {} but its config has {}",
                item.layers.len(),
                item.config,
                parsed.rootfs.diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (path, diff_id) in item.layers.iter().zip(&parsed.rootfs.diff_ids) {
            let path = clean_member(path)?;
            if !view.contains(&path)? {
                return Err(ArchiveError::Missing("manifest.json", path));
            }
            layers.push(LoadLayer {
                path,
                blob: None,
                diff_id: *diff_id,
            });
        }
        let tags = item
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| {
                Reference::parse_normalized(t)
                    .map(Reference::with_default_tag)
                    .map_err(|e| ArchiveError::Invalid(format!("manifest.json: {t}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        images.push(LoadImage {
            config,
            parsed,
            layers,
            tags,
        });
    }
    Ok(images)
}

fn blob_path(d: &Digest) -> String {
    super::blob_path(d)
}

/// The name an index entry gives its manifest: containerd's full name, else a ref.name that
/// is a whole reference (`app:1`, not a bare tag `1`, which names no repository).
fn oci_name(annotations: &BTreeMap<String, String>) -> Option<Reference> {
    if let Some(name) = annotations.get(ANNOTATION_IMAGE_NAME) {
        return Reference::parse_normalized(name)
            .ok()
            .map(Reference::with_default_tag);
    }
    let name = annotations.get(ANNOTATION_REF_NAME)?;
    if !name.contains(':') && !name.contains('/') {
        return None;
    }
    Reference::parse_normalized(name)
        .ok()
        .map(Reference::with_default_tag)
}

fn oci_plan(view: &mut dyn ArchiveView, index: &[u8]) -> Result<Vec<LoadImage>, ArchiveError> {
    let index: OciDocument = json("index.json", index)?;
    let mut images: Vec<LoadImage> = Vec::new();
    let mut pending: Vec<(super::Descriptor, Option<Reference>)> = index
        .manifests
        .into_iter()
        .map(|d| {
            let name = oci_name(&d.annotations);
            (d, name)
        })
        .collect();
    pending.reverse();
    let mut depth = 0;
    while let Some((descriptor, name)) = pending.pop() {
        let bytes = read_named(
            view,
            "index.json",
            &blob_path(&descriptor.digest),
            Some(descriptor.digest),
        )?;
        let document: OciDocument = json(&blob_path(&descriptor.digest), &bytes)?;
        let is_index = descriptor.media_type == MEDIA_INDEX
            || document.media_type.as_deref() == Some(MEDIA_INDEX)
            || !document.manifests.is_empty();
        if is_index {
            // a multi-platform index: linux/amd64, the platform layerbox runs
            depth += 1;
            if depth > 8 {
                return Err(ArchiveError::Invalid("indexes nested too deeply".into()));
            }
            let chosen = document
                .manifests
                .iter()
                .find(|m| {
                    m.platform
                        .as_ref()
                        .is_none_or(|p| p.os == "linux" && p.architecture == "amd64")
                })
                .cloned()
                .ok_or_else(|| {
                    ArchiveError::Invalid(format!(
                        "{}: no manifest for linux/amd64",
                        blob_path(&descriptor.digest)
                    ))
                })?;
            pending.push((chosen, name));
            continue;
        }
        let config_descriptor = document.config.ok_or_else(|| {
            ArchiveError::Invalid(format!(
                "{}: a manifest without a config",
                blob_path(&descriptor.digest)
            ))
        })?;
        let config = read_named(
            view,
            "the manifest",
            &blob_path(&config_descriptor.digest),
            Some(config_descriptor.digest),
        )?;
        let id = Digest::sha256_of(&config);
        if let Some(known) = images.iter_mut().find(|i| i.id() == id) {
            known.tags.extend(name);
            continue;
        }
        let parsed = config_of(&config)?;
        if document.layers.len() != parsed.rootfs.diff_ids.len() {
            return Err(ArchiveError::Invalid(format!(
                "the manifest {} names {} layers but its config has {}",
                descriptor.digest,
                document.layers.len(),
                parsed.rootfs.diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (l, diff_id) in document.layers.iter().zip(&parsed.rootfs.diff_ids) {
            if l.media_type.contains("zstd") {
                return Err(ArchiveError::Invalid(format!(
                    "layer {}: zstd-compressed layers are not supported",
                    l.digest
                )));
            }
            let path = blob_path(&l.digest);
            if view.contains(&path)? {
                layers.push(LoadLayer {
                    path,
                    blob: Some((l.digest, l.size)),
                    diff_id: *diff_id,
                });
            } else {
                return Err(ArchiveError::Missing("the manifest", path));
            }
        }
        images.push(LoadImage {
            config,
            parsed,
            layers,
            tags: name.into_iter().collect(),
        });
    }
    Ok(images)
}

/// A reader that checks, at the end, that what it read has `digest` and `size`: a mismatch is
/// an `InvalidData` error instead of the end of the stream.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Option<DigestWriter>,
    expected: Digest,
    size: u64,
    path: String,
}

impl<R: Read> VerifyingReader<R> {
    /// Checks `inner` (the member `path`) against `digest` and `size`.
    pub fn new(inner: R, path: &str, digest: Digest, size: u64) -> Self {
        Self {
            inner,
            hasher: Some(DigestWriter::new()),
            expected: digest,
            size,
            path: path.to_owned(),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            if n > 0 {
                hasher.update(&buf[..n]);
            } else if !buf.is_empty() {
                // the end: checked once
                let len = hasher.len();
                let actual = self.hasher.take().map(DigestWriter::finish);
                let error = if actual != Some(self.expected) {
                    ArchiveError::DigestMismatch {
                        path: self.path.clone(),
                        expected: self.expected,
                        actual: actual.unwrap_or(self.expected),
                    }
                } else if len != self.size {
                    ArchiveError::Invalid(format!(
                        "`{}` is {len} bytes, not the {} its descriptor gives",
                        self.path, self.size
                    ))
                } else {
                    return Ok(0);
                };
                return Err(io::Error::new(io::ErrorKind::InvalidData, error));
            }
        }
        Ok(n)
    }
}
