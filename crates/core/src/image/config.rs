//! The OCI image configuration (`application/vnd.oci.image.config.v1+json`) with docker's
//! extensions (`Healthcheck`, `OnBuild`, `Shell`), and the image ID computed from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Digest;

/// Why bytes are not an image config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The JSON does not parse as an image config.
    #[error("invalid image config: {0}")]
    Json(#[from] serde_json::Error),
    /// The history does not account for every layer in `rootfs.diff_ids`.
    #[error(
        "invalid image config: {layers} layers in rootfs but {history} non-empty history entries"
    )]
    HistoryMismatch {
        /// Entries in `rootfs.diff_ids`.
        layers: usize,
        /// History entries without `empty_layer`.
        history: usize,
    },
}

/// An empty JSON object, the value type of docker's set-like maps (`ExposedPorts`, `Volumes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// The image configuration: what the image is, how to run it and how it was made.
///
/// Field names and order follow the OCI image spec; the image ID is the sha256 of
/// [`ImageConfig::to_json`], so serialising it is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// When the image was created, RFC 3339 (passed in: core has no clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made it (`MAINTAINER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// CPU architecture, Go's names (`amd64`, `arm64`).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
    /// CPU variant (`v8`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The defaults for a container run from this image.
    #[serde(default)]
    pub config: ContainerConfig,
    /// The layers, bottom first, by diff_id.
    pub rootfs: RootFs,
    /// One entry per build step, including steps that made no layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// The execution defaults of an image (OCI `config`, docker's `Config` in `docker inspect`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(clippy::zero_sized_map_values)] // `{"80/tcp": {}}` is docker's JSON shape for sets
pub struct ContainerConfig {
    /// `USER`: user or `uid[:gid]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `EXPOSE`: keys like `80/tcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    /// `ENV`: `KEY=value` in order of definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// `ENTRYPOINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// `VOLUME`: keys are container paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    /// `WORKDIR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// `LABEL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `STOPSIGNAL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Set by docker when `CMD`/`ENTRYPOINT` came in shell form on Windows-style escaping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// `HEALTHCHECK` (docker extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// `ONBUILD` triggers (docker extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// `SHELL` (docker extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `HEALTHCHECK` as docker stores it: durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", "..."]`.
    pub test: Vec<String>,
    /// `--interval`, nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    /// `--timeout`, nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// `--start-period`, nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    /// `--start-interval`, nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    /// `--retries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

/// The layers of an image by diff_id (sha256 of each uncompressed layer tar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Bottom layer first.
    pub diff_ids: Vec<Digest>,
}

impl Default for RootFs {
    fn default() -> Self {
        Self {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        }
    }
}

/// One build step in `docker history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// When the step ran, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The instruction, as BuildKit or the legacy builder words it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `MAINTAINER`, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `buildkit.dockerfile.v0`, an import message, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step changed only the config and made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// The canonical JSON bytes whose sha256 is the image ID.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs, string-keyed maps and strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a config blob (from `docker save`, an OCI layout or our own store) and checks that
    /// history and layers agree.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_slice(bytes)?;
        config.check_history()?;
        Ok(config)
    }

    /// The image ID: sha256 of [`ImageConfig::to_json`].
    pub fn id(&self) -> Digest {
        Digest::sha256_of(&self.to_json())
    }

    /// Checks that the non-empty history entries match the layers one for one (an image with
    /// no history at all is accepted, as docker does).
    pub fn check_history(&self) -> Result<(), ConfigError> {
        let history = self.history.iter().filter(|h| !h.empty_layer).count();
        let layers = self.rootfs.diff_ids.len();
        if self.history.is_empty() || history == layers {
            Ok(())
        } else {
            Err(ConfigError::HistoryMismatch { layers, history })
        }
    }

    /// Pairs each history entry with the index of the layer it made (`None` for empty layers).
    pub fn history_layers(&self) -> Vec<(&History, Option<usize>)> {
        let mut next = 0;
        self.history
            .iter()
            .map(|h| {
                if h.empty_layer {
                    (h, None)
                } else {
                    next += 1;
                    (h, Some(next - 1))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_oci_field_names_and_skips_empties() {
        let mut c = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..ImageConfig::default()
        };
        c.config.env = Some(vec!["PATH=/bin".into()]);
        c.config.exposed_ports = Some([("80/tcp".to_owned(), Empty {})].into());
        c.rootfs.diff_ids.push(Digest::sha256_of(b"layer"));
        c.history.push(History {
            created_by: Some("COPY x /x # buildkit".into()),
            ..History::default()
        });
        c.history.push(History {
            created_by: Some("CMD [\"sh\"]".into()),
            empty_layer: true,
            ..History::default()
        });
        let json = String::from_utf8(c.to_json()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"architecture":"amd64","os":"linux","config":{{"ExposedPorts":{{"80/tcp":{{}}}},"Env":["PATH=/bin"]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}},"history":[{{"created_by":"COPY x /x # buildkit"}},{{"created_by":"CMD [\"sh\"]","empty_layer":true}}]}}"#,
                Digest::sha256_of(b"layer")
            )
        );
        assert_eq!(c.id(), Digest::sha256_of(json.as_bytes()));
        assert_eq!(ImageConfig::from_json(json.as_bytes()).unwrap(), c);
        let pairs: Vec<_> = c.history_layers().into_iter().map(|(_, i)| i).collect();
        assert_eq!(pairs, [Some(0), None]);
    }

    #[test]
    fn rejects_history_that_disagrees_with_layers() {
        let json = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"history":[{"created_by":"x"}]}"#;
        let err = ImageConfig::from_json(json).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid image config: 0 layers in rootfs but 1 non-empty history entries"
        );
    }
}
