//! Registries: `pull`, `push`, `login` and `logout` over the OCI distribution API.
//!
//! | module | does |
//! | --- | --- |
//! | [`client`] | one registry: the `/v2/` ping, Bearer and Basic auth, manifests, blobs, uploads |
//! | [`auth`] | `WWW-Authenticate` challenges; credentials from `login` and docker's config |
//! | [`manifest`] | Docker schema 2 and OCI manifests, lists and indexes, platforms, compression |
//! | [`pull`] | a pull: parallel, resumable, verified blob downloads streamed into the store as they arrive |
//! | [`push`] | a push: layers compressed once and kept, HEAD to skip, cross-repository mounts, monolithic or chunked uploads |
//! | [`progress`] | docker's progress lines |
//!
//! Plain HTTP is used only for loopback registries and those named with `--insecure-registry`;
//! everything else is HTTPS through rustls with the webpki roots.

pub mod auth;
pub mod client;
pub mod command;
pub mod manifest;
pub mod progress;
pub mod pull;
pub mod push;

use layerbox_core::image::Digest;

use crate::store::StoreError;

/// Where a registry command may go, from the global flags (`--registry-mirror`,
/// `--insecure-registry`) and layerbox's config file (`registry-mirrors`,
/// `insecure-registries`, as in dockerd's `daemon.json`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Mirrors of Docker Hub, tried in order before it (`https://mirror.example`).
    pub mirrors: Vec<String>,
    /// Registries (`host:port`) that may be reached over plain HTTP.
    pub insecure: Vec<String>,
    /// Directories of per-registry certificate authorities (`<dir>/<host:port>/*.crt`).
    pub certs_d: Vec<std::path::PathBuf>,
}

impl Settings {
    /// The settings of the flags, with those of this user's layerbox config file after them.
    pub fn from_flags_and_config(mirrors: &[String], insecure: &[String]) -> Self {
        Self::with_config(
            mirrors,
            insecure,
            &auth::CredentialStore::for_user().layerbox,
        )
    }

    /// The settings of the flags, with those of the config file `path` after them.
    pub fn with_config(mirrors: &[String], insecure: &[String], path: &std::path::Path) -> Self {
        let config: serde_json::Value = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let list = |key: &str| -> Vec<String> {
            config
                .get(key)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let config_dir = path.parent().map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        );
        Self {
            certs_d: vec![config_dir.join("certs.d"), "/etc/docker/certs.d".into()],
            mirrors: mirrors
                .iter()
                .cloned()
                .chain(list("registry-mirrors"))
                .collect(),
            insecure: insecure
                .iter()
                .cloned()
                .chain(list("insecure-registries"))
                .collect(),
        }
    }
}

/// What can go wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The connection or the HTTP exchange failed.
    #[error("{0}")]
    Transport(String),
    /// The registry answered with an error.
    #[error("{message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The registry's message, in docker's words.
        message: String,
    },
    /// Authentication failed.
    #[error("{0}")]
    Auth(String),
    /// A blob or manifest whose content is not what its digest says.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// Which blob or manifest.
        what: String,
        /// The digest it was asked for.
        expected: Digest,
        /// The digest of what came.
        actual: Digest,
    },
    /// A manifest that cannot be used.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    /// A bad image (config, layers).
    #[error("{0}")]
    Image(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A local file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_come_first_then_the_config_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{},"registry-mirrors":["https://mirror.example"],"insecure-registries":["r.lan:5000"]}"#,
        )
        .unwrap();
        let s = Settings::with_config(&["http://127.0.0.1:5001".into()], &[], &path);
        assert_eq!(
            s.mirrors,
            ["http://127.0.0.1:5001", "https://mirror.example"]
        );
        assert_eq!(s.insecure, ["r.lan:5000"]);
        assert_eq!(s.certs_d[0], tmp.path().join("certs.d"));
        // no file, or not JSON: the flags alone
        std::fs::write(&path, "{").unwrap();
        let s = Settings::with_config(&[], &["x:1".into()], &path);
        assert!(s.mirrors.is_empty());
        assert_eq!(s.insecure, ["x:1"]);
    }
}
