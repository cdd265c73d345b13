//! Image archives, both ways: `docker save`'s docker-archive (`manifest.json`, `repositories`,
//! a config blob and one legacy directory per layer, as docker 20.10 writes it) and OCI image
//! layouts (`oci-layout`, `index.json`, `blobs/sha256/…`), and reading either back for `load`
//! with every digest verified.
//!
//! Pure: the writers emit into a [`Sink`] (a tar stream with [`TarSink`], or a directory the
//! host writes), the reader reads through an [`ArchiveView`] (an archive held in memory with
//! [`MemoryArchive`], or one the host unpacked), and layer bytes come from a [`LayerSource`].
//! So the native engine streams from its store and the browser works on bytes in memory.
//!
//! ```
//! use layerbox_core::image::archive::{self, ArchiveImage, Format, MemoryArchive, TarSink};
//! use layerbox_core::image::{Digest, ImageConfig, RootFs};
//! let layer = layerbox_core::fs::tar::write_layer(&Default::default(), &Default::default());
//! let config = ImageConfig {
//!     architecture: "amd64".into(),
//!     os: "linux".into(),
//!     rootfs: RootFs { kind: "layers".into(), diff_ids: vec![Digest::sha256_of(&layer)] },
//!     ..ImageConfig::default()
//! }
//! .to_json();
//! let image = ArchiveImage::new(config, vec!["app:1".parse().unwrap()]).unwrap();
//! let mut sink = TarSink::new(Vec::new());
//! let mut layers = |_: &Digest| Ok(layer.clone());
//! archive::write(Format::DockerArchive, &[image], &mut layers, &mut sink).unwrap();
//! let tar = sink.finish().unwrap();
//! let loaded = archive::plan_load(&mut MemoryArchive::from_tar(&tar).unwrap()).unwrap();
//! assert_eq!(loaded[0].tags[0].familiar(), "app:1");
//! ```

mod read;
mod v1;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use super::{ConfigError, Digest, ImageConfig, Reference};

pub use read::{
    ArchiveView, LoadImage, LoadLayer, MemoryArchive, VerifyingReader, clean_member, plan_load,
    resolve_link,
};

/// Media type of an OCI image index (`index.json`).
pub const MEDIA_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of an OCI image manifest.
pub const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of an uncompressed OCI layer.
pub const MEDIA_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// The annotation naming a manifest in an index with its tag (`1.0`) or full reference.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's (and docker 25's) annotation with the image's full name.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// An image config that does not parse.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// docker refuses to save an image without layers.
    #[error("empty export - not implemented")]
    EmptyImage,
    /// Neither a docker-archive nor an OCI layout.
    #[error(
        "invalid archive: found neither manifest.json (docker-archive) nor index.json (OCI image layout)"
    )]
    UnknownFormat,
    /// A member climbing out of the archive (`../x`, or a link pointing outside).
    #[error("invalid archive: `{0}` is outside of the archive")]
    Breakout(String),
    /// A file the manifest or the index names that the archive does not hold.
    #[error("invalid archive: {0} names `{1}`, which is not in the archive")]
    Missing(&'static str, String),
    /// Content whose digest is not the one it is named by.
    #[error("invalid archive: `{path}` has digest {actual}, not {expected}")]
    DigestMismatch {
        /// The member.
        path: String,
        /// Its name's digest.
        expected: Digest,
        /// The digest of its bytes.
        actual: Digest,
    },
    /// A manifest, index or config that is not what its format says.
    #[error("invalid archive: {0}")]
    Invalid(String),
    /// An image layer that cannot be written as real bytes.
    #[error("{0}")]
    Unexportable(String),
}

/// Which archive to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Format {
    /// docker 20.10's `docker save` layout (`--format docker-archive`, the default).
    #[default]
    DockerArchive,
    /// An OCI image layout (`--format oci-archive` as a tar, `oci-dir` as a directory), with
    /// docker 25's `manifest.json` beside it so that older docker loads it too.
    OciLayout,
}

/// The values `save --format` takes (podman's names): the format and whether it is a
/// directory rather than a tar.
pub fn parse_format(name: &str) -> Option<(Format, bool)> {
    match name {
        "docker-archive" => Some((Format::DockerArchive, false)),
        "oci-archive" => Some((Format::OciLayout, false)),
        "oci-dir" => Some((Format::OciLayout, true)),
        _ => None,
    }
}

/// One image to write: its config blob as stored (its sha256 is the image ID), its layers'
/// diff_ids, and the references to record (none: the image is saved by ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveImage {
    /// The image ID.
    pub id: Digest,
    /// The config bytes.
    pub config: Vec<u8>,
    /// The layers, bottom first.
    pub diff_ids: Vec<Digest>,
    /// The names to give it.
    pub tags: Vec<Reference>,
    /// `created` in Unix seconds (the legacy directories' mtime), 0 when absent.
    created: i64,
    json: serde_json::Value,
}

impl ArchiveImage {
    /// Reads what is needed from the config bytes.
    pub fn new(config: Vec<u8>, tags: Vec<Reference>) -> Result<Self, ArchiveError> {
        let parsed = ImageConfig::from_json(&config)?;
        let json: serde_json::Value = serde_json::from_slice(&config)
            .map_err(|e| ArchiveError::Config(ConfigError::Json(e)))?;
        let created = parsed
            .created
            .as_deref()
            .and_then(unix_seconds)
            .unwrap_or(0);
        Ok(Self {
            id: Digest::sha256_of(&config),
            config,
            diff_ids: parsed.rootfs.diff_ids,
            tags,
            created,
            json,
        })
    }
}

/// Whole seconds since the epoch of an RFC 3339 time (`2026-11-26T20:09:37.64Z`, `…+02:00`).
fn unix_seconds(t: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let zone = t[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone.as_bytes().first() {
        Some(sign @ (b'+' | b'-')) => {
            let h: i64 = zone.get(1..3)?.parse().ok()?;
            let m: i64 = zone.get(4..6)?.parse().ok()?;
            (h * 3600 + m * 60) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => 0,
    };
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// Where the bytes of a layer come from: its uncompressed tar, by diff_id.
pub trait LayerSource {
    /// The layer's size and a reader of its tar.
    fn open(&mut self, diff_id: &Digest) -> io::Result<(u64, Box<dyn Read + '_>)>;
}

impl<F: FnMut(&Digest) -> io::Result<Vec<u8>>> LayerSource for F {
    fn open(&mut self, diff_id: &Digest) -> io::Result<(u64, Box<dyn Read + '_>)> {
        let bytes = self(diff_id)?;
        Ok((bytes.len() as u64, Box::new(io::Cursor::new(bytes))))
    }
}

/// Where an archive's members go, in order: a tar stream ([`TarSink`]) or a directory.
pub trait Sink {
    /// A directory (`path` without a trailing slash).
    fn dir(&mut self, path: &str, mtime: i64) -> io::Result<()>;
    /// A regular file of `size` bytes read from `data`.
    fn file(&mut self, path: &str, mtime: i64, size: u64, data: &mut dyn Read) -> io::Result<()>;
}

/// A [`Sink`] writing a tar stream as docker's archiver does: owner root (0/0), directories
/// 0755, files 0644, ustar headers.
pub struct TarSink<W: Write> {
    builder: tar::Builder<W>,
}

impl<W: Write> TarSink<W> {
    /// A tar stream into `out`.
    pub fn new(out: W) -> Self {
        Self {
            builder: tar::Builder::new(out),
        }
    }

    /// Ends the archive and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }

    fn header(kind: tar::EntryType, mode: u32, mtime: i64, size: u64) -> io::Result<tar::Header> {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_username("root")?;
        h.set_groupname("root")?;
        h.set_mtime(u64::try_from(mtime).unwrap_or(0));
        h.set_size(size);
        Ok(h)
    }
}

impl<W: Write> Sink for TarSink<W> {
    fn dir(&mut self, path: &str, mtime: i64) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Directory, 0o755, mtime, 0)?;
        self.builder
            .append_data(&mut h, format!("{path}/"), io::empty())
    }

    fn file(&mut self, path: &str, mtime: i64, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Regular, 0o644, mtime, size)?;
        // a source shorter than it said would shift every later member: refuse it
        let mut exact = data.take(size);
        self.builder.append_data(&mut h, path, &mut exact)?;
        if exact.limit() != 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{path}: the layer ended {} bytes early", exact.limit()),
            ));
        }
        Ok(())
    }
}

/// A member to write once every member is known (they go out sorted by path).
enum Planned {
    Dir,
    Bytes(Vec<u8>),
    Layer(Digest),
}

/// Writes `images` in `format` into `sink`, the layers read from `layers`.
pub fn write(
    format: Format,
    images: &[ArchiveImage],
    layers: &mut dyn LayerSource,
    sink: &mut dyn Sink,
) -> Result<(), ArchiveError> {
    if images.iter().any(|i| i.diff_ids.is_empty()) {
        return Err(ArchiveError::EmptyImage);
    }
    let members = match format {
        Format::DockerArchive => docker_members(images),
        Format::OciLayout => oci_members(images, layers)?,
    };
    for (path, (mtime, what)) in members {
        match what {
            Planned::Dir => sink.dir(&path, mtime)?,
            Planned::Bytes(b) => sink.file(&path, mtime, b.len() as u64, &mut b.as_slice())?,
            Planned::Layer(d) => {
                let (size, mut reader) = layers.open(&d)?;
                sink.file(&path, mtime, size, &mut reader)?;
            }
        }
    }
    Ok(())
}

/// JSON as Go's encoder writes it with `Encode` (a newline at the end).
fn encoded<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain structs and string maps cannot fail.
    let mut v = serde_json::to_vec(value).unwrap_or_default();
    v.push(b'\n');
    v
}

/// One entry of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestItem {
    /// The config's path in the archive.
    #[serde(rename = "Config")]
    pub config: String,
    /// The names, `null` when saved by ID.
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// The layer tars' paths, bottom first.
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

type Members = BTreeMap<String, (i64, Planned)>;

/// docker 20.10's layout: `<v1 id>/{VERSION,json,layer.tar}`, `<image id>.json`,
/// `manifest.json`, `repositories`.
fn docker_members(images: &[ArchiveImage]) -> Members {
    let mut members = Members::new();
    let mut manifest = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for image in images {
        let legacy = v1::v1_layers(&image.json, &image.diff_ids);
        for (l, d) in legacy.iter().zip(&image.diff_ids) {
            if members.contains_key(&l.id) {
                continue;
            }
            let t = image.created;
            members.insert(l.id.clone(), (t, Planned::Dir));
            members.insert(
                format!("{}/VERSION", l.id),
                (t, Planned::Bytes(b"1.0".to_vec())),
            );
            members.insert(
                format!("{}/json", l.id),
                (t, Planned::Bytes(l.json.clone())),
            );
            members.insert(format!("{}/layer.tar", l.id), (t, Planned::Layer(*d)));
        }
        let top = legacy.last().map(|l| l.id.clone()).unwrap_or_default();
        for tag in &image.tags {
            repositories
                .entry(tag.familiar_name())
                .or_default()
                .insert(tag.tag().unwrap_or("latest").to_owned(), top.clone());
        }
        members.insert(
            format!("{}.json", image.id.hex()),
            (image.created, Planned::Bytes(image.config.clone())),
        );
        manifest.push(ManifestItem {
            config: format!("{}.json", image.id.hex()),
            repo_tags: (!image.tags.is_empty())
                .then(|| image.tags.iter().map(Reference::familiar).collect()),
            layers: legacy
                .iter()
                .map(|l| format!("{}/layer.tar", l.id))
                .collect(),
        });
    }
    members.insert(
        "manifest.json".into(),
        (0, Planned::Bytes(go_json(&encoded(&manifest)))),
    );
    if !repositories.is_empty() {
        members.insert(
            "repositories".into(),
            (0, Planned::Bytes(go_json(&encoded(&repositories)))),
        );
    }
    members
}

/// serde_json's output with `<`, `>` and `&` escaped as Go's encoder does.
fn go_json(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            b => out.push(b),
        }
    }
    out
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is.
    pub media_type: String,
    /// Its sha256.
    pub digest: Digest,
    /// Its length.
    pub size: u64,
    /// Names and other notes (`org.opencontainers.image.ref.name`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform of a manifest in a multi-platform index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// The platform of a manifest in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// `v8`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An OCI image manifest or index (the fields layerbox reads and writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciDocument {
    /// Always 2.
    pub schema_version: u32,
    /// The document's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// A manifest's config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Descriptor>,
    /// A manifest's layers, bottom first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Descriptor>,
    /// An index's manifests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<Descriptor>,
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}

/// An OCI image layout with uncompressed layers, plus docker 25's `manifest.json`.
fn oci_members(
    images: &[ArchiveImage],
    layers: &mut dyn LayerSource,
) -> Result<Members, ArchiveError> {
    let mut members = Members::new();
    members.insert("blobs".into(), (0, Planned::Dir));
    members.insert("blobs/sha256".into(), (0, Planned::Dir));
    let mut sizes: BTreeMap<Digest, u64> = BTreeMap::new();
    let mut index = Vec::new();
    let mut manifest_json = Vec::new();
    for image in images {
        let mut layer_descriptors = Vec::new();
        for d in &image.diff_ids {
            let size = match sizes.get(d) {
                Some(s) => *s,
                None => layers.open(d)?.0,
            };
            sizes.insert(*d, size);
            members.insert(blob_path(d), (0, Planned::Layer(*d)));
            layer_descriptors.push(Descriptor {
                media_type: MEDIA_LAYER.into(),
                digest: *d,
                size,
                annotations: BTreeMap::new(),
                platform: None,
            });
        }
        members.insert(
            blob_path(&image.id),
            (0, Planned::Bytes(image.config.clone())),
        );
        let manifest = serde_json::to_vec(&OciDocument {
            schema_version: 2,
            media_type: Some(MEDIA_MANIFEST.into()),
            config: Some(Descriptor {
                media_type: MEDIA_CONFIG.into(),
                digest: image.id,
                size: image.config.len() as u64,
                annotations: BTreeMap::new(),
                platform: None,
            }),
            layers: layer_descriptors,
            manifests: Vec::new(),
        })
        .unwrap_or_default();
        let manifest_digest = Digest::sha256_of(&manifest);
        let descriptor = |annotations| Descriptor {
            media_type: MEDIA_MANIFEST.into(),
            digest: manifest_digest,
            size: manifest.len() as u64,
            annotations,
            platform: None,
        };
        if image.tags.is_empty() {
            index.push(descriptor(BTreeMap::new()));
        }
        for tag in &image.tags {
            index.push(descriptor(BTreeMap::from([
                (ANNOTATION_IMAGE_NAME.to_owned(), tag.to_string()),
                (
                    ANNOTATION_REF_NAME.to_owned(),
                    tag.tag().unwrap_or("latest").to_owned(),
                ),
            ])));
        }
        members.insert(blob_path(&manifest_digest), (0, Planned::Bytes(manifest)));
        manifest_json.push(ManifestItem {
            config: blob_path(&image.id),
            repo_tags: (!image.tags.is_empty())
                .then(|| image.tags.iter().map(Reference::familiar).collect()),
            layers: image.diff_ids.iter().map(blob_path).collect(),
        });
    }
    let index = OciDocument {
        schema_version: 2,
        media_type: Some(MEDIA_INDEX.into()),
        config: None,
        layers: Vec::new(),
        manifests: index,
    };
    members.insert(
        "index.json".into(),
        (
            0,
            Planned::Bytes(serde_json::to_vec(&index).unwrap_or_default()),
        ),
    );
    members.insert(
        "manifest.json".into(),
        (0, Planned::Bytes(go_json(&encoded(&manifest_json)))),
    );
    members.insert(
        "oci-layout".into(),
        (
            0,
            Planned::Bytes(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ),
    );
    Ok(members)
}

/// The diff_ids an archive of `images` needs, each once, for a front end that must gather the
/// layers first.
pub fn needed_layers(images: &[ArchiveImage]) -> BTreeSet<Digest> {
    images.iter().flat_map(|i| i.diff_ids.clone()).collect()
}

#[cfg(test)]
mod tests;
