//! `docker inspect`: images and containers as docker 20.10 prints them, every field in docker's
//! order. The JSON starts from docker's own output ([`IMAGE_SKELETON`], [`CONTAINER_SKELETON`])
//! and the engine fills what it knows; daemon paths are where docker would keep them
//! (`/var/lib/docker/...`), named after the simulated IDs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Container, ContainerState, Engine, Image, MountKind, Output};
use crate::cli::command::{InspectOptions, InspectType, RestartPolicy};
use crate::cli::inspect::{
    CONTAINER_SKELETON, ContainerConfigJson, Doc, IMAGE_SKELETON, inspect_format, inspect_json,
};
use crate::cli::rows::rfc3339;
use crate::cli::units::Timestamp;
use crate::image::{Digest, Empty, Reference};

/// docker's data root, where the simulated paths point.
const DATA_ROOT: &str = "/var/lib/docker";

/// Go's `time.RFC3339Nano`: the fraction without trailing zeros (none when whole).
pub(super) fn rfc3339_nano_go(t: Timestamp) -> String {
    let s = rfc3339(t);
    let frac = format!("{:09}", t.0.rem_euclid(1_000_000_000));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        s
    } else {
        format!("{}.{frac}Z", &s[..19])
    }
}

/// A simulated overlay2 directory name for `seed` (docker's are random 64-hex names).
fn overlay_dir(seed: &str) -> String {
    let hex = Digest::sha256_of(seed.as_bytes()).to_string();
    format!("{DATA_ROOT}/overlay2/{}", hex.trim_start_matches("sha256:"))
}

/// `GraphDriver.Data`'s merged, upper and work directories of the overlay directory `top`.
fn set_overlay_dirs(doc: &mut Doc, top: &str) {
    for (key, dir) in [
        ("MergedDir", "merged"),
        ("UpperDir", "diff"),
        ("WorkDir", "work"),
    ] {
        doc.set(&["GraphDriver", "Data", key], json!(format!("{top}/{dir}")));
    }
}

fn skeleton(text: &str) -> Doc {
    // The skeletons are constants checked by the inspect module's tests.
    Doc::parse(text).unwrap_or(Doc::Object(Vec::new()))
}

impl Engine {
    /// `inspect`, `image inspect`, `container inspect`: the JSON (or `-f` template) of each
    /// named object; the error text and exit code for the names that name nothing.
    pub(super) fn inspect(
        &mut self,
        o: &InspectOptions,
        out: &mut Output,
    ) -> Result<u8, (String, u8)> {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        for name in &o.names {
            let container = (o.kind != Some(InspectType::Image))
                .then(|| self.find_container(name).ok())
                .flatten();
            let image = (o.kind != Some(InspectType::Container) && container.is_none())
                .then(|| self.find_image(name))
                .flatten();
            match (container, image) {
                (Some(i), _) => objects.push(self.inspect_container(&self.state.containers[i])),
                (None, Some(img)) => objects.push(self.inspect_image(img)),
                (None, None) => errors.push(match o.kind {
                    Some(InspectType::Image) => format!("Error: No such image: {name}"),
                    Some(InspectType::Container) => format!("Error: No such container: {name}"),
                    None => format!("Error: No such object: {name}"),
                }),
            }
        }
        let text = match &o.format {
            Some(f) => {
                let values: Vec<Value> = objects.iter().map(Doc::to_value).collect();
                inspect_format(f, &values).map_err(|e| (e.to_string(), 1))?
            }
            None => inspect_json(&objects).map_err(|e| (e.to_string(), 1))?,
        };
        out.out(text);
        if errors.is_empty() {
            Ok(0)
        } else {
            Err((errors.join("\n"), 1))
        }
    }

    /// An image as `docker image inspect` prints it.
    pub(super) fn inspect_image(&self, image: &Image) -> Doc {
        let mut doc = skeleton(IMAGE_SKELETON);
        let config = &image.config;
        let tags: Vec<String> = image.repo_tags.iter().map(Reference::familiar).collect();
        let size = self.image_size(image);
        let layers: Vec<String> = config
            .rootfs
            .diff_ids
            .iter()
            .map(ToString::to_string)
            .collect();
        let comment = config
            .history
            .last()
            .and_then(|h| h.comment.clone())
            .unwrap_or_default();
        let id = image.id.to_string();
        let top = overlay_dir(&id);
        let lower: Vec<String> = config
            .rootfs
            .diff_ids
            .iter()
            .rev()
            .skip(1)
            .map(|d| format!("{}/diff", overlay_dir(&d.to_string())))
            .collect();
        let docker_config = Doc::of(&ContainerConfigJson::of_image(&config.config))
            .unwrap_or(Doc::Object(Vec::new()));
        for (path, value) in [
            (&["Id"][..], json!(id)),
            (&["RepoTags"], json!(tags)),
            (
                &["Parent"],
                json!(image.parent.map(|p| p.to_string()).unwrap_or_default()),
            ),
            (&["Comment"], json!(comment)),
            (
                &["Created"],
                json!(config.created.clone().unwrap_or_default()),
            ),
            (
                &["Author"],
                json!(config.author.clone().unwrap_or_default()),
            ),
            (&["Architecture"], json!(config.architecture)),
            (&["Os"], json!(config.os)),
            (&["Size"], json!(size)),
            (&["VirtualSize"], json!(size)),
            (&["GraphDriver", "Data", "LowerDir"], json!(lower.join(":"))),
            (&["RootFS", "Layers"], json!(layers)),
            (
                &["Metadata", "LastTagTime"],
                json!(rfc3339_nano_go(image.created)),
            ),
        ] {
            doc.set(path, value);
        }
        set_overlay_dirs(&mut doc, &top);
        doc.set(&["Config"], docker_config);
        if lower.is_empty()
            && let Doc::Object(fields) = &mut doc
            && let Some((_, Doc::Object(graph))) =
                fields.iter_mut().find(|(k, _)| k == "GraphDriver")
            && let Some((_, Doc::Object(data))) = graph.iter_mut().find(|(k, _)| k == "Data")
        {
            // docker lists LowerDir only for images of more than one layer.
            data.retain(|(k, _)| k != "LowerDir");
        }
        doc
    }

    /// A container as `docker container inspect` prints it.
    #[allow(clippy::zero_sized_map_values)] // `{"80/tcp": {}}` is docker's JSON for sets
    pub(super) fn inspect_container(&self, c: &Container) -> Doc {
        let mut doc = skeleton(CONTAINER_SKELETON);
        let argv = c.argv();
        let never = "0001-01-01T00:00:00Z".to_owned();
        let dir = format!("{DATA_ROOT}/containers/{}", c.id);
        let top = overlay_dir(&c.id);
        let image_dirs: Vec<String> = self
            .state
            .images
            .iter()
            .find(|i| i.id == c.image)
            .map(|i| {
                i.config
                    .rootfs
                    .diff_ids
                    .iter()
                    .rev()
                    .map(|d| format!("{}/diff", overlay_dir(&d.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let lower = std::iter::once(format!("{top}-init/diff"))
            .chain(image_dirs)
            .collect::<Vec<_>>()
            .join(":");
        let (policy, retries) = match c.spec.restart {
            RestartPolicy::No => ("no", 0),
            RestartPolicy::Always => ("always", 0),
            RestartPolicy::UnlessStopped => ("unless-stopped", 0),
            RestartPolicy::OnFailure { max_retries } => ("on-failure", max_retries),
        };
        let mut bindings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut published: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for p in c.ports.iter().filter(|p| p.public_port != 0) {
            let key = format!("{}/{}", p.private_port, p.proto);
            let binding = json!({"HostIp": "", "HostPort": p.public_port.to_string()});
            let list = bindings.entry(key.clone()).or_default();
            if !list.contains(&binding) {
                list.push(binding);
            }
            published
                .entry(key)
                .or_default()
                .push(json!({"HostIp": p.ip, "HostPort": p.public_port.to_string()}));
        }
        let mut exposed: BTreeMap<String, Empty> = c
            .spec
            .exposed
            .iter()
            .map(|p| (p.clone(), Empty {}))
            .collect();
        for key in bindings.keys() {
            exposed.insert(key.clone(), Empty {});
        }
        let network_ports: Value = if c.state.is_up() {
            let mut ports: serde_json::Map<String, Value> =
                exposed.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, v) in published {
                ports.insert(k, Value::Array(v));
            }
            Value::Object(ports)
        } else {
            json!({})
        };
        let config = ContainerConfigJson {
            hostname: c.hostname().to_owned(),
            user: c.spec.user.clone(),
            attach_stdin: c.spec.interactive && !c.spec.detached,
            attach_stdout: !c.spec.detached,
            attach_stderr: !c.spec.detached,
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            tty: c.spec.tty,
            open_stdin: c.spec.interactive,
            stdin_once: c.spec.interactive,
            env: (!c.spec.env.is_empty()).then(|| c.spec.env.clone()),
            cmd: (!c.spec.cmd.is_empty()).then(|| c.spec.cmd.clone()),
            image: c.image_name.clone(),
            working_dir: if c.spec.workdir == "/" {
                String::new()
            } else {
                c.spec.workdir.clone()
            },
            entrypoint: (!c.spec.entrypoint.is_empty()).then(|| c.spec.entrypoint.clone()),
            labels: Some(c.spec.labels.clone()),
            volumes: self.anonymous_points(c),
            ..ContainerConfigJson::default()
        };
        let sandbox = Digest::sha256_of(format!("sandbox {}", c.id).as_bytes()).to_string();
        let sandbox = sandbox.trim_start_matches("sha256:");
        let up = c.state.is_up();
        for (path, value) in [
            (&["Id"][..], json!(c.id)),
            (&["Created"], json!(rfc3339_nano_go(c.created))),
            (&["Path"], json!(argv.first().cloned().unwrap_or_default())),
            (&["Args"], json!(argv.get(1..).unwrap_or_default())),
            (&["State", "Status"], json!(c.state.name())),
            (&["State", "Running"], json!(up)),
            (
                &["State", "Paused"],
                json!(c.state == ContainerState::Paused),
            ),
            (
                &["State", "Restarting"],
                json!(c.state == ContainerState::Restarting),
            ),
            (&["State", "Pid"], json!(if up { c.pid } else { 0 })),
            (&["State", "ExitCode"], json!(c.exit_code)),
            (
                &["State", "StartedAt"],
                json!(c.started_at.map_or_else(|| never.clone(), rfc3339_nano_go)),
            ),
            (
                &["State", "FinishedAt"],
                json!(c.finished_at.map_or_else(|| never.clone(), rfc3339_nano_go)),
            ),
            (&["Image"], json!(c.image.to_string())),
            (&["ResolvConfPath"], json!(format!("{dir}/resolv.conf"))),
            (&["HostnamePath"], json!(format!("{dir}/hostname"))),
            (&["HostsPath"], json!(format!("{dir}/hosts"))),
            (&["LogPath"], json!(format!("{dir}/{}-json.log", c.id))),
            (&["Name"], json!(format!("/{}", c.name))),
            (&["RestartCount"], json!(c.restart_count)),
            (&["HostConfig", "PortBindings"], json!(bindings)),
            (&["HostConfig", "RestartPolicy", "Name"], json!(policy)),
            (
                &["HostConfig", "RestartPolicy", "MaximumRetryCount"],
                json!(retries),
            ),
            (&["State", "OOMKilled"], json!(c.oom_killed)),
            (&["HostConfig", "AutoRemove"], json!(c.spec.auto_remove)),
            (&["HostConfig", "Binds"], Self::binds(c)),
            (&["HostConfig", "NetworkMode"], json!(c.spec.network)),
            (
                &["HostConfig", "CpuShares"],
                json!(c.spec.resources.cpu_shares),
            ),
            (&["HostConfig", "Memory"], json!(c.spec.resources.memory)),
            (
                &["HostConfig", "NanoCpus"],
                json!(c.spec.resources.nano_cpus),
            ),
            (
                &["HostConfig", "MemorySwap"],
                json!(c.spec.resources.memory_swap),
            ),
            (
                &["HostConfig", "PidsLimit"],
                json!(c.spec.resources.pids_limit),
            ),
            (&["GraphDriver", "Data", "LowerDir"], json!(lower)),
            (&["NetworkSettings", "SandboxID"], json!(sandbox)),
            (
                &["NetworkSettings", "SandboxKey"],
                json!(format!("/var/run/docker/netns/{}", &sandbox[..12])),
            ),
            (&["NetworkSettings", "Ports"], network_ports),
        ] {
            doc.set(path, value);
        }
        set_overlay_dirs(&mut doc, &top);
        doc.set(&["Mounts"], self.mounts_doc(c));
        if let Some(mounts) = self.flag_mounts(c) {
            // dockerd leaves the key out when there are none; else it comes before MaskedPaths
            if let Doc::Object(top) = &mut doc
                && let Some((_, Doc::Object(host))) =
                    top.iter_mut().find(|(k, _)| k == "HostConfig")
            {
                let at = host
                    .iter()
                    .position(|(k, _)| k == "MaskedPaths")
                    .unwrap_or(host.len());
                host.insert(at, ("Mounts".to_owned(), mounts));
            }
        }
        doc.set(
            &["Config"],
            Doc::of(&config).unwrap_or(Doc::Object(Vec::new())),
        );
        doc
    }
}

impl Engine {
    /// `Config.Volumes`: the mount points of the container's anonymous volumes.
    #[allow(clippy::zero_sized_map_values)] // `{"/data": {}}` is docker's JSON for sets
    fn anonymous_points(&self, c: &Container) -> Option<BTreeMap<String, Empty>> {
        let points: BTreeMap<String, Empty> = c
            .mounts
            .iter()
            .filter(|m| {
                m.kind == MountKind::Volume
                    && self
                        .state
                        .volumes
                        .iter()
                        .any(|v| v.name == m.name && v.anonymous)
            })
            .map(|m| (m.destination.clone(), Empty {}))
            .collect();
        (!points.is_empty()).then_some(points)
    }

    /// `HostConfig.Binds`: the `-v` values that named a volume or a host path.
    fn binds(c: &Container) -> Value {
        let binds: Vec<&str> = c
            .mounts
            .iter()
            .filter(|m| !m.spec.is_empty())
            .map(|m| m.spec.as_str())
            .collect();
        if binds.is_empty() {
            Value::Null
        } else {
            json!(binds)
        }
    }

    /// `HostConfig.Mounts`: the `--mount`s as given (`Type`, `Source`, `Target`, `ReadOnly`).
    fn flag_mounts(&self, c: &Container) -> Option<Doc> {
        let given: Vec<FlagMountJson> = c
            .mounts
            .iter()
            .filter(|m| m.from_flag)
            .map(|m| {
                let source = match m.kind {
                    MountKind::Bind => m.source.clone(),
                    MountKind::Volume
                        if !self
                            .state
                            .volumes
                            .iter()
                            .any(|v| v.name == m.name && v.anonymous) =>
                    {
                        m.name.clone()
                    }
                    _ => String::new(),
                };
                FlagMountJson {
                    kind: match m.kind {
                        MountKind::Volume => "volume",
                        MountKind::Bind => "bind",
                        MountKind::Tmpfs => "tmpfs",
                    },
                    source: (!source.is_empty()).then_some(source),
                    target: m.destination.clone(),
                    read_only: (!m.rw).then_some(true),
                }
            })
            .collect();
        if given.is_empty() {
            None
        } else {
            Doc::of(&given).ok()
        }
    }

    /// `Mounts`, as docker lists them (in its field order).
    fn mounts_doc(&self, c: &Container) -> Doc {
        let mut mounts: Vec<&super::Mount> = c.mounts.iter().collect();
        mounts.sort_by(|a, b| a.destination.cmp(&b.destination));
        let list: Vec<MountJson> = mounts
            .into_iter()
            .map(|m| {
                let volume = m.kind == MountKind::Volume;
                MountJson {
                    kind: match m.kind {
                        MountKind::Volume => "volume",
                        MountKind::Bind => "bind",
                        MountKind::Tmpfs => "tmpfs",
                    },
                    name: volume.then(|| m.name.clone()),
                    source: if volume {
                        self.volume_mountpoint(&m.name)
                    } else {
                        m.source.clone()
                    },
                    destination: m.destination.clone(),
                    driver: volume.then_some("local"),
                    mode: m.mode.clone(),
                    rw: m.rw,
                    propagation: if m.kind == MountKind::Bind {
                        "rprivate"
                    } else {
                        ""
                    },
                }
            })
            .collect();
        Doc::of(&list).unwrap_or(Doc::Array(Vec::new()))
    }
}

/// One of `inspect`'s `HostConfig.Mounts`.
#[derive(serde::Serialize)]
struct FlagMountJson {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "Source", skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(rename = "Target")]
    target: String,
    #[serde(rename = "ReadOnly", skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
}

/// One of `inspect`'s `Mounts`.
#[derive(serde::Serialize)]
struct MountJson {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "Name", skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "Source")]
    source: String,
    #[serde(rename = "Destination")]
    destination: String,
    #[serde(rename = "Driver", skip_serializing_if = "Option::is_none")]
    driver: Option<&'static str>,
    #[serde(rename = "Mode")]
    mode: String,
    #[serde(rename = "RW")]
    rw: bool,
    #[serde(rename = "Propagation")]
    propagation: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_rfc3339_nano_trims_trailing_zeros() {
        let t = Timestamp::from_unix_secs(1_764_151_200);
        assert_eq!(rfc3339_nano_go(t), "2025-11-26T10:00:00Z");
        assert_eq!(
            rfc3339_nano_go(Timestamp(t.0 + 468_326_470)),
            "2025-11-26T10:00:00.46832647Z"
        );
    }
}
