//! Manifests as registries serve them: Docker's image manifest v2 schema 2 and manifest list,
//! and OCI's image manifest and index; picking the manifest of one platform from a list. The OCI
//! media types are core's (`image::archive`, which writes OCI layouts), named here beside Docker's.

use layerbox_core::image::{Digest, archive};
use serde::{Deserialize, Serialize};

/// Docker's image manifest, v2 schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list (one manifest per platform).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI's image manifest.
pub const OCI_MANIFEST: &str = archive::MEDIA_MANIFEST;
/// OCI's image index.
pub const OCI_INDEX: &str = archive::MEDIA_INDEX;
/// Docker's image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI's image config.
pub const OCI_CONFIG: &str = archive::MEDIA_CONFIG;
/// Docker's gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker's foreign (non-distributable) layer.
pub const DOCKER_LAYER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// OCI's uncompressed layer.
pub const OCI_LAYER: &str = archive::MEDIA_LAYER;
/// OCI's gzip layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI's zstd layer.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// The `Accept` header of a manifest request: every kind layerbox reads.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("invalid manifest: {0}")]
    Json(#[from] serde_json::Error),
    /// A media type layerbox does not read (schema 1, artifacts, ...).
    #[error("unsupported manifest media type {0:?}")]
    MediaType(String),
    /// No manifest of the list is for the wanted platform (docker's words).
    #[error("no matching manifest for {0} in the manifest list entries")]
    NoPlatform(String),
    /// A layer compressed in a way layerbox does not read.
    #[error("unsupported layer media type {0:?}")]
    LayerType(String),
}

/// A content descriptor: what a manifest says about a blob or another manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Where else it can be fetched from (foreign layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// In an index: the platform of the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// An image manifest (Docker schema 2 or OCI): the config and the layers, bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layer blobs, bottom first.
    pub layers: Vec<Descriptor>,
}

/// A manifest list or index: one manifest per platform.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// The manifests.
    pub manifests: Vec<Descriptor>,
}

/// A platform: `linux/amd64`, `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// Go's OS name.
    pub os: String,
    /// Go's architecture name.
    pub architecture: String,
    /// The CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// This machine's platform, in Go's names (`linux/amd64` on x86-64).
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Self {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: (architecture == "arm64").then(|| "v8".into()),
        }
    }

    /// Parses `os[/arch[/variant]]` (`--platform`); the architecture defaults to this host's.
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "invalid platform {s:?}: expected os[/arch[/variant]]"
            ));
        }
        let host = Self::host();
        let architecture = parts.get(1).map_or(host.architecture, |a| match *a {
            "x86_64" | "x86-64" => "amd64".into(),
            "aarch64" => "arm64".into(),
            a => a.to_owned(),
        });
        let variant = parts.get(2).map(|v| (*v).to_owned()).or_else(|| {
            // arm64 images are published as arm64/v8
            (architecture == "arm64").then(|| "v8".to_owned())
        });
        Ok(Self {
            os: parts[0].to_lowercase(),
            architecture,
            variant,
        })
    }

    /// Whether a list entry for `other` runs here: same OS and architecture, and the variant
    /// when both name one (arm64 entries often name none).
    fn matches(&self, other: &Self) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// What a manifest request returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// An image manifest.
    Image(ImageManifest),
    /// A list of manifests, one per platform.
    Index(Index),
}

impl Manifest {
    /// Parses a manifest by its media type (the `Content-Type` header, or the JSON's own
    /// `mediaType` when the header is generic).
    pub fn parse(content_type: &str, bytes: &[u8]) -> Result<Self, ManifestError> {
        let mut media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !matches!(
            media_type.as_str(),
            DOCKER_MANIFEST | OCI_MANIFEST | DOCKER_LIST | OCI_INDEX
        ) {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Probe {
                media_type: Option<String>,
                manifests: Option<serde_json::Value>,
            }
            let probe: Probe = serde_json::from_slice(bytes)?;
            media_type = match (probe.media_type, probe.manifests) {
                (Some(m), _) => m,
                (None, Some(_)) => OCI_INDEX.into(),
                (None, None) => OCI_MANIFEST.into(),
            };
        }
        match media_type.as_str() {
            DOCKER_MANIFEST | OCI_MANIFEST => Ok(Self::Image(serde_json::from_slice(bytes)?)),
            DOCKER_LIST | OCI_INDEX => Ok(Self::Index(serde_json::from_slice(bytes)?)),
            other => Err(ManifestError::MediaType(other.to_owned())),
        }
    }
}

impl Index {
    /// The manifest for `platform` (the first match, as docker picks it).
    pub fn select(&self, platform: &Platform) -> Result<&Descriptor, ManifestError> {
        self.manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
            .ok_or_else(|| ManifestError::NoPlatform(platform.to_string()))
    }
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

impl Compression {
    /// The compression of a layer media type.
    pub fn of(media_type: &str) -> Result<Self, ManifestError> {
        match media_type {
            DOCKER_LAYER_GZIP | OCI_LAYER_GZIP | DOCKER_LAYER_FOREIGN => Ok(Self::Gzip),
            OCI_LAYER_ZSTD => Ok(Self::Zstd),
            OCI_LAYER | "application/vnd.docker.image.rootfs.diff.tar" => Ok(Self::None),
            other => Err(ManifestError::LayerType(other.to_owned())),
        }
    }

    /// A reader of the uncompressed tar.
    pub fn reader<'a>(
        self,
        input: impl std::io::Read + 'a,
    ) -> std::io::Result<Box<dyn std::io::Read + 'a>> {
        Ok(match self {
            Self::None => Box::new(input),
            Self::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Self::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    fn index() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[
            {{"mediaType":"{DOCKER_MANIFEST}","digest":"{D1}","size":1,"platform":{{"architecture":"arm","os":"linux","variant":"v7"}}}},
            {{"mediaType":"{DOCKER_MANIFEST}","digest":"{D2}","size":2,"platform":{{"architecture":"amd64","os":"linux"}}}},
            {{"mediaType":"{DOCKER_MANIFEST}","digest":"{D3}","size":3,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}]}}"#
        )
    }

    #[test]
    fn a_list_picks_the_platform() {
        let Manifest::Index(list) = Manifest::parse(DOCKER_LIST, index().as_bytes()).unwrap()
        else {
            panic!("not a list")
        };
        let pick = |p: &str| {
            list.select(&Platform::parse(p).unwrap())
                .map(|d| d.digest.to_string())
        };
        assert_eq!(pick("linux/amd64").unwrap(), D2);
        assert_eq!(pick("linux/arm64").unwrap(), D3);
        assert_eq!(pick("linux/arm/v7").unwrap(), D1);
        assert_eq!(
            pick("linux/s390x").unwrap_err().to_string(),
            "no matching manifest for linux/s390x in the manifest list entries"
        );
        assert!(Platform::parse("linux//x").is_err());
        assert_eq!(
            Platform::parse("linux/arm64").unwrap().to_string(),
            "linux/arm64/v8"
        );
    }

    #[test]
    fn the_media_type_comes_from_the_header_or_the_body() {
        let image = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{OCI_CONFIG}","digest":"{D1}","size":7}},"layers":[{{"mediaType":"{OCI_LAYER_ZSTD}","digest":"{D2}","size":9}}]}}"#
        );
        let Manifest::Image(m) = Manifest::parse("application/json", image.as_bytes()).unwrap()
        else {
            panic!("not an image manifest")
        };
        assert_eq!(m.config.size, 7);
        assert_eq!(
            Compression::of(&m.layers[0].media_type).unwrap(),
            Compression::Zstd
        );
        // a list without mediaType in the body is an OCI index
        let bare = index().replace(&format!(r#""mediaType":"{DOCKER_LIST}","#), "");
        assert!(matches!(
            Manifest::parse("", bare.as_bytes()).unwrap(),
            Manifest::Index(_)
        ));
        let schema1 = r#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}"#;
        assert_eq!(
            Manifest::parse("", schema1.as_bytes())
                .unwrap_err()
                .to_string(),
            "unsupported manifest media type \"application/vnd.docker.distribution.manifest.v1+prettyjws\""
        );
        assert!(Compression::of("application/vnd.oci.image.layer.v1.tar+bzip2").is_err());
    }

    #[test]
    fn layers_decompress() {
        use std::io::{Read, Write};
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"tar bytes").unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&b"tar bytes"[..], 3).unwrap();
        for (c, bytes) in [
            (Compression::Gzip, gz),
            (Compression::Zstd, zst),
            (Compression::None, b"tar bytes".to_vec()),
        ] {
            let mut out = String::new();
            c.reader(&bytes[..])
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, "tar bytes");
        }
    }
}
