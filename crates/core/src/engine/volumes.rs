//! Volumes, and the mounts that put a volume (or a host directory) into a container.
//!
//! A volume keeps files outside every container's writable layer: what a container writes
//! under a mount point goes to the volume, so `diff`, `commit` and `export` leave it out, and
//! the next container that mounts the volume finds it. `-v NAME:/path` names a volume (made
//! when first asked for), `-v /path` and the image's `VOLUME` make anonymous ones (64-hex
//! names, removed by `rm -v` and `run --rm`), `-v /host:/path` bind-mounts a host directory
//! (the Linux engine only: the simulated one has no host directories).
//!
//! The simulated engine mounts by moving files: before a process runs, each mount point of
//! the container's writable layer is set aside and replaced by an opaque directory holding the
//! volume's files; afterwards what is under the mount point goes back to the volume and the
//! layer gets its own entries back. The process sees exactly what a real mount shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::commands::{
    Failure, Result as CmdResult, confirm, joined, key_values, print_list, reclaimed,
};
use super::prune::PruneFilter;
use super::{Container, Engine, EngineError, Event, Output};
use crate::cli::command::{
    PruneOptions, VolumeCreateOptions, VolumeInspectOptions, VolumeLsOptions, VolumeRmOptions,
};
use crate::cli::inspect::{Doc, inspect_format, inspect_json};
use crate::cli::mount::MountFlag;
use crate::cli::report::daemon_error;
use crate::cli::rows::{ListRow, RowOptions, rfc3339};
use crate::cli::template::record;
use crate::cli::units::Timestamp;
use crate::fs::{Change, Entry, EntryKind, FileType, FsEvent, Layer, Meta, UnionFs};

/// A volume: its files live outside the containers' layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Its name: the one given, or 64 hex digits for an anonymous volume.
    pub name: String,
    /// When it was made.
    pub created: Timestamp,
    /// `--label key=value`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Made by `-v /path` or `VOLUME` rather than by name (`rm -v` removes these).
    #[serde(default)]
    pub anonymous: bool,
    /// Made by `volume create` (its `inspect` shows empty `Labels` and `Options` rather than
    /// null).
    #[serde(default)]
    pub by_command: bool,
    /// Owner, mode and time of its top directory.
    pub root: Meta,
    /// Its files, by path relative to its top directory (kept by the simulated engine only;
    /// the Linux engine keeps them in a directory).
    #[serde(default)]
    pub content: Layer,
}

impl Volume {
    /// The volume as a layer mounted at `point` (relative): see [`mounted_layer`].
    pub fn as_mounted_layer(&self, point: &str) -> Layer {
        mounted_layer(self.root, &self.content, point)
    }
}

/// Files kept outside the layers (a volume's, a tmpfs's) as a layer mounted at `point`
/// (relative): an opaque directory there with `root`'s metadata, which hides what the layers
/// below hold, and `content` under it.
fn mounted_layer(root: Meta, content: &Layer, point: &str) -> Layer {
    let mut layer = Layer::new();
    let mut entries = vec![(
        point.to_owned(),
        Change::Entry(Entry {
            meta: root,
            kind: EntryKind::Dir { opaque: true },
        }),
    )];
    entries.extend(content.iter().map(|(p, c)| {
        let c = match c {
            Change::HardLink(t) => Change::HardLink(format!("{point}/{t}")),
            other => other.clone(),
        };
        (format!("{point}/{p}"), c)
    }));
    put_back(&mut layer, entries);
    layer
}

/// What is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountKind {
    /// A volume.
    Volume,
    /// A host directory.
    Bind,
    /// A `tmpfs`: in memory, empty again each time the container starts.
    Tmpfs,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Volume or bind mount.
    pub kind: MountKind,
    /// The volume's name (empty for a bind mount).
    pub name: String,
    /// The host path of a bind mount (empty for a volume).
    pub source: String,
    /// Where it appears in the container, as given.
    pub destination: String,
    /// The mode as given (`ro`, `nocopy`, `z`…; empty if none).
    pub mode: String,
    /// Writable (not `ro`).
    pub rw: bool,
    /// The `-v` value as given (`HostConfig.Binds` lists those with a source); empty for an
    /// image's `VOLUME`.
    #[serde(default)]
    pub spec: String,
    /// Given with `--mount` (`inspect` lists those in `HostConfig.Mounts`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_flag: bool,
    /// A tmpfs mount's files while the container runs.
    #[serde(default, skip_serializing_if = "Layer::is_empty")]
    pub tmpfs: Layer,
    /// Whether the image's files at the mount point are still to be copied into a new volume
    /// (docker copies them at the first mount unless `nocopy`).
    #[serde(default)]
    pub copy: bool,
}

impl Mount {
    /// The mount point as a path relative to the root (`data/x`), `-v data` being `/data`.
    pub fn point(&self) -> String {
        crate::fs::path::clean_abs(&self.destination)
            .trim_start_matches('/')
            .to_owned()
    }
}

/// A `-v` value as the daemon reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// Volume or bind.
    pub kind: MountKind,
    /// The volume's name (`None`: anonymous) or the host path.
    pub source: Option<String>,
    /// The path in the container.
    pub destination: String,
    /// The mode, as given.
    pub mode: String,
}

const PROPAGATION: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

/// Whether `mode` is a valid `-v` mode list: at most one of `ro`/`rw`, of the SELinux labels,
/// of the propagations, and `nocopy`/consistency words (moby `ValidMountMode`).
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let (mut rw, mut label, mut propagation, mut copy, mut consistency) = (0, 0, 0, 0, 0);
    for word in mode.split(',') {
        match word {
            "ro" | "rw" => rw += 1,
            "z" | "Z" => label += 1,
            "nocopy" => copy += 1,
            "consistent" | "cached" | "delegated" => consistency += 1,
            w if PROPAGATION.contains(&w) => propagation += 1,
            _ => return false,
        }
    }
    rw <= 1 && label <= 1 && propagation <= 1 && copy <= 1 && consistency <= 1
}

/// Parses one `-v` value: `[SOURCE:]DESTINATION[:MODE]`, with dockerd's errors. An empty value
/// is ignored (`None`), as docker does.
pub fn parse_volume_spec(spec: &str) -> Result<Option<VolumeSpec>, String> {
    if spec.is_empty() {
        return Ok(None);
    }
    let invalid = || format!("invalid volume specification: '{spec}'");
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) || parts.len() > 3 {
        return Err(invalid());
    }
    let (source, destination, mode) = match parts.as_slice() {
        [d] => (None, *d, ""),
        // docker's CLI reads a letter and a colon as a Windows drive: `-v n:/x` is one path,
        // an anonymous volume there
        [drive, _] if drive.len() == 1 && drive.bytes().all(|b| b.is_ascii_alphabetic()) => {
            (None, spec, "")
        }
        [d, m] if valid_mode(m) && !m.is_empty() && d.starts_with('/') => (None, *d, *m),
        [s, d] => (Some(*s), *d, ""),
        [s, d, m] => (Some(*s), *d, *m),
        _ => return Err(invalid()),
    };
    let kind = if source.is_some_and(|s| s.starts_with('/')) {
        MountKind::Bind
    } else {
        MountKind::Volume
    };
    let kind_word = match kind {
        MountKind::Bind => "bind",
        MountKind::Volume | MountKind::Tmpfs => "volume",
    };
    if source.is_some() && !destination.starts_with('/') {
        return Err(format!(
            "{}: invalid mount config for type \"{kind_word}\": invalid mount path: '{destination}' mount path must be absolute",
            invalid()
        ));
    }
    if crate::fs::path::clean_abs(destination) == "/" {
        return Err(format!(
            "{}: invalid mount config for type \"{kind_word}\": invalid specification: destination can't be '/'",
            invalid()
        ));
    }
    if !valid_mode(mode) {
        return Err(format!("invalid mode: {mode}"));
    }
    if let (MountKind::Volume, Some(name)) = (kind, source) {
        check_volume_name(name)?;
    }
    Ok(Some(VolumeSpec {
        kind,
        source: source.map(str::to_owned),
        destination: destination.to_owned(),
        mode: mode.to_owned(),
    }))
}

/// The local driver's name rule (`[a-zA-Z0-9][a-zA-Z0-9_.-]`, two characters at least), in
/// dockerd's words.
pub fn check_volume_name(name: &str) -> Result<(), String> {
    if name.len() == 1 {
        return Err(format!(
            "create {name}: volume name is too short, names should be at least two alphanumeric characters"
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        return Err(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        ));
    }
    Ok(())
}

/// Whether `path` (relative) is `point` or below it.
fn under(path: &str, point: &str) -> bool {
    path.strip_prefix(point)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Takes everything at and below `point` out of `layer`, in path order.
fn take_subtree(layer: &mut Layer, point: &str) -> Vec<(String, Change)> {
    // the changes as recorded (a hard link stays a link), then removed
    let taken: Vec<(String, Change)> = layer
        .iter()
        .filter(|(p, _)| under(p, point))
        .map(|(p, c)| (p.to_owned(), c.clone()))
        .collect();
    for (path, _) in &taken {
        layer.take(path);
    }
    taken
}

/// Puts changes taken by [`take_subtree`] (or made for a volume) into `layer`, entries and
/// whiteouts before hard links.
fn put_back(layer: &mut Layer, changes: Vec<(String, Change)>) {
    let mut links = Vec::new();
    for (path, change) in changes {
        match change {
            Change::Entry(e) => layer.insert(path, e),
            Change::Whiteout => layer.insert_whiteout(path),
            Change::HardLink(target) => links.push((path, target)),
        }
    }
    for (path, target) in links {
        layer.insert_hardlink(path, &target);
    }
}

/// Changes by path, as a layer holds them.
type Changes = Vec<(String, Change)>;

/// A container's filesystem with its volumes mounted, and what to put back afterwards.
pub(crate) struct Mounted {
    /// The mounts, shallowest first, each with its mount point (relative, symlinks resolved)
    /// and the writable layer's own entries it hid.
    hidden: Vec<(Mount, String, Changes)>,
    /// What the writable layer held at `etc` and at docker's bind-mounted `/etc` files.
    etc: Vec<(&'static str, Option<Change>)>,
}

impl Mounted {
    /// Whether `path` (absolute) is on a mounted volume or one of docker's `/etc` files.
    fn on_volume(&self, path: &str) -> bool {
        let rel = path.trim_start_matches('/');
        self.hidden.iter().any(|(_, point, _)| under(rel, point))
            || self.etc.iter().any(|(p, _)| *p == rel && *p != "etc")
    }
}

impl Engine {
    /// Container `i`'s filesystem as its processes see it: its volumes mounted over its
    /// layers, mount points made in its writable layer as docker makes them. A volume still
    /// to be filled gets the image's files at its mount point first.
    pub(crate) fn mount(&mut self, i: usize) -> Result<(UnionFs, Mounted), EngineError> {
        let container = &self.state.containers[i];
        let mut fs = self.container_fs(container)?;
        let mut mounts = container.mounts.clone();
        mounts.sort_by_key(Mount::point);
        let mut copies = Vec::new();
        let mut points = Vec::new();
        for m in &mut mounts {
            let point = format!("/{}", m.point());
            match fs.stat(&point) {
                Ok(st) if st.file_type != FileType::Dir => {
                    return Err(EngineError::Other(format!(
                        "cannot mount volume over existing file, file exists {point}"
                    )));
                }
                Ok(_) => {}
                Err(_) => fs.mkdir_all(&point, 0o755)?,
            }
            let point = fs.canonicalize(&point)?;
            if m.kind == MountKind::Volume && m.copy {
                m.copy = false;
                copies.push((m.name.clone(), volume_copy(&fs, &point)?));
            }
            points.push(point.trim_start_matches('/').to_owned());
        }
        fs.take_events();
        let lower = fs.lower_shared();
        let now = self.now().unix_secs();
        let mut upper = fs.into_upper();
        let mut hidden = Vec::new();
        let etc = std::iter::once("etc")
            .chain(super::CONTAINER_ETC_FILES)
            .map(|p| (p, upper.get(p).cloned()))
            .collect();
        for (name, (root, content)) in copies {
            if let Some(v) = self.state.volumes.iter_mut().find(|v| v.name == name)
                && v.content.is_empty()
            {
                v.root = root;
                v.content = content;
            }
        }
        for (m, point) in mounts.iter().zip(points) {
            let own = take_subtree(&mut upper, &point);
            let mounted = match (m.kind, self.state.volumes.iter().find(|v| v.name == m.name)) {
                (MountKind::Tmpfs, _) => mounted_layer(Meta::new(0o1777, now), &m.tmpfs, &point),
                (MountKind::Volume, Some(v)) => v.as_mounted_layer(&point),
                _ => mounted_layer(Meta::new(0o755, now), &Layer::new(), &point),
            };
            put_back(
                &mut upper,
                mounted
                    .iter()
                    .map(|(p, c)| (p.to_owned(), c.clone()))
                    .collect(),
            );
            hidden.push((m.clone(), point, own));
        }
        self.state.containers[i].mounts = mounts;
        let mut fs = UnionFs::with_upper(lower, upper);
        fs.set_now(now);
        Ok((fs, Mounted { hidden, etc }))
    }

    /// Ends what [`Engine::mount`] began: the files under each mount point go back to their
    /// volume (a read-only mount's changes are dropped, with a notice), the writable layer gets
    /// its own entries back and becomes container `i`'s, and the filesystem's copy-ups and
    /// whiteouts outside the volumes are reported.
    pub(crate) fn unmount(
        &mut self,
        i: usize,
        mut fs: UnionFs,
        mounted: Mounted,
        out: &mut Output,
    ) {
        let id = self.state.containers[i].id.clone();
        let events = fs.take_events();
        let mut upper = fs.into_upper();
        let etc_dropped = self.keep_etc_files(i, &mut upper, &mounted.etc);
        for event in events {
            let path = match &event {
                FsEvent::CopyUp { path, .. }
                | FsEvent::Whiteout { path }
                | FsEvent::OpaqueDir { path } => path,
            };
            let hidden = mounted.on_volume(path) || (etc_dropped && path == "/etc");
            if !hidden {
                out.events.push(Event::ContainerFs {
                    id: id.clone(),
                    event,
                });
            }
        }
        for (m, point, own) in mounted.hidden.into_iter().rev() {
            let taken = take_subtree(&mut upper, &point);
            put_back(&mut upper, own);
            if m.kind == MountKind::Tmpfs {
                let (_, content) = volume_from(&taken, &point, Meta::new(0o1777, 0));
                if let Some(t) = self.state.containers[i]
                    .mounts
                    .iter_mut()
                    .find(|t| t.destination == m.destination)
                {
                    t.tmpfs = if m.rw { content } else { t.tmpfs.clone() };
                }
                continue;
            }
            if m.kind != MountKind::Volume {
                continue;
            }
            let Some(v) = self.state.volumes.iter_mut().find(|v| v.name == m.name) else {
                continue;
            };
            let (root, content) = volume_from(&taken, &point, v.root);
            if v.root == root && v.content == content {
                continue;
            }
            if m.rw {
                v.root = root;
                v.content = content;
            } else {
                out.notices.push(format!(
                    "simulated: {} is mounted read-only; the changes under it were dropped (a real container gets `Read-only file system`)",
                    m.destination
                ));
            }
        }
        self.state.containers[i].upper = upper;
    }

    /// Moves what a process wrote to `/etc/hostname`, `/etc/hosts` or `/etc/resolv.conf` out
    /// of the writable layer into the container's own copies, as docker's bind mounts keep
    /// them out of its layer; `/etc`, copied up only for them, goes too. Deleting one is
    /// undone (a real container gets `Device or resource busy`). Says whether `/etc` went.
    fn keep_etc_files(
        &mut self,
        i: usize,
        upper: &mut Layer,
        before: &[(&str, Option<Change>)],
    ) -> bool {
        let mut etc_before = None;
        for (path, had) in before {
            if *path == "etc" {
                etc_before = Some(had.clone());
                continue;
            }
            let now = upper.get(path).cloned();
            if now == *had {
                continue;
            }
            if let Some(Change::Entry(e)) = &now {
                self.state.containers[i]
                    .etc_files
                    .insert((*path).to_owned(), e.clone());
            }
            upper.take(path);
            if let Some(had) = had {
                put_back(upper, vec![((*path).to_owned(), had.clone())]);
            }
        }
        let only_etc =
            upper.get("etc").is_some() && !upper.iter().any(|(p, _)| p.starts_with("etc/"));
        if let Some(None) = etc_before
            && only_etc
        {
            upper.take("etc");
            return true;
        }
        false
    }

    /// Makes the volume `name` if there is none by that name; returns its index.
    pub(crate) fn volume_or_create(
        &mut self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
    ) -> usize {
        if let Some(name) = name
            && let Some(i) = self.state.volumes.iter().position(|v| v.name == name)
        {
            return i;
        }
        let anonymous = name.is_none();
        let name = name.map_or_else(|| self.ids.hex_id(), str::to_owned);
        let now = self.now();
        self.state.volumes.push(Volume {
            name,
            created: now,
            labels,
            anonymous,
            by_command: false,
            root: Meta::new(0o755, now.unix_secs()),
            content: Layer::new(),
        });
        self.state.volumes.len() - 1
    }

    /// The mounts `-v` values and the image's `VOLUME`s ask for, making the volumes they name.
    pub(crate) fn mounts_for(
        &mut self,
        specs: &[String],
        flags: &[MountFlag],
        image_volumes: &[String],
    ) -> Result<Vec<Mount>, String> {
        let mut parsed = Vec::new();
        let mut points: Vec<String> = Vec::new();
        for s in specs {
            if let Some(spec) = parse_volume_spec(s)? {
                // docker's CLI keeps the first of two values for one mount point
                let point = crate::fs::path::clean_abs(&spec.destination);
                if !points.contains(&point) {
                    points.push(point);
                    parsed.push((s.clone(), spec));
                }
            }
        }
        let mut flagged = Vec::new();
        for f in flags {
            let (kind, point) = check_mount_flag(f)?;
            if points.contains(&point) {
                return Err(format!("Duplicate mount point: {point}"));
            }
            points.push(point);
            flagged.push((kind, f));
        }
        let binds = parsed.iter().any(|(_, s)| s.kind == MountKind::Bind)
            || flagged.iter().any(|(k, _)| *k == MountKind::Bind);
        if binds && !self.host_binds {
            return Err("bind mounts are not simulated: the simulated engine has no host directories (use a volume: -v NAME:/path)".into());
        }
        for v in image_volumes {
            let point = crate::fs::path::clean_abs(v);
            if !points.contains(&point) {
                points.push(point);
                parsed.push((
                    String::new(),
                    VolumeSpec {
                        kind: MountKind::Volume,
                        source: None,
                        destination: v.clone(),
                        mode: String::new(),
                    },
                ));
            }
        }
        let mut mounts = Vec::new();
        for (given, spec) in parsed {
            let rw = !spec.mode.split(',').any(|w| w == "ro");
            let copy = !spec.mode.split(',').any(|w| w == "nocopy");
            let given = if spec.source.is_some() {
                given
            } else {
                String::new()
            };
            let mount = match spec.kind {
                MountKind::Bind => Mount {
                    kind: MountKind::Bind,
                    name: String::new(),
                    source: spec.source.unwrap_or_default(),
                    destination: spec.destination,
                    rw,
                    mode: spec.mode,
                    spec: given,
                    from_flag: false,
                    tmpfs: Layer::new(),
                    copy: false,
                },
                MountKind::Volume | MountKind::Tmpfs => {
                    let v = self.volume_or_create(spec.source.as_deref(), BTreeMap::new());
                    // dockerd gives a named volume SELinux's shared label by default
                    let mode = if spec.mode.is_empty() && spec.source.is_some() {
                        "z".to_owned()
                    } else {
                        spec.mode
                    };
                    Mount {
                        kind: MountKind::Volume,
                        name: self.state.volumes[v].name.clone(),
                        source: String::new(),
                        destination: spec.destination,
                        rw,
                        copy,
                        mode,
                        spec: given,
                        from_flag: false,
                        tmpfs: Layer::new(),
                    }
                }
            };
            mounts.push(mount);
        }
        for (kind, f) in flagged {
            let name = match kind {
                MountKind::Volume => {
                    let source = (!f.source.is_empty()).then_some(f.source.as_str());
                    let v = self.volume_or_create(source, BTreeMap::new());
                    self.state.volumes[v].name.clone()
                }
                MountKind::Bind | MountKind::Tmpfs => String::new(),
            };
            mounts.push(Mount {
                kind,
                name,
                source: if kind == MountKind::Bind {
                    f.source.clone()
                } else {
                    String::new()
                },
                destination: f.target.clone(),
                // dockerd labels every `--mount` volume `z`
                mode: if kind == MountKind::Volume { "z" } else { "" }.to_owned(),
                rw: !f.readonly,
                spec: String::new(),
                from_flag: true,
                tmpfs: Layer::new(),
                copy: kind == MountKind::Volume && !f.nocopy,
            });
        }
        Ok(mounts)
    }

    /// Where volume `name`'s files are on the host, as `inspect` shows it.
    pub fn volume_mountpoint(&self, name: &str) -> String {
        format!("{}/{name}/_data", self.volume_root)
    }

    /// Removes the anonymous volumes of a removed container that no other container uses
    /// (`rm -v`, `run --rm`).
    pub(crate) fn remove_anonymous_volumes(&mut self, removed: &Container) {
        let gone = volumes_going_with(removed, &self.state.containers, &self.state.volumes);
        self.state.volumes.retain(|v| !gone.contains(&v.name));
    }

    /// The containers using volume `name`.
    pub(crate) fn volume_users(&self, name: &str) -> Vec<String> {
        self.state
            .containers
            .iter()
            .filter(|c| {
                c.mounts
                    .iter()
                    .any(|m| m.kind == MountKind::Volume && m.name == name)
            })
            .map(|c| c.id.clone())
            .collect()
    }
}

/// The volumes that go with a removed container (`rm -v`, `run --rm`): the anonymous ones it
/// mounted that none of `containers` (those that remain) mounts. One rule for every front end.
pub fn volumes_going_with(
    removed: &Container,
    containers: &[Container],
    volumes: &[Volume],
) -> Vec<String> {
    removed
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
        .filter(|m| {
            !containers
                .iter()
                .any(|c| c.id != removed.id && c.mounts.iter().any(|n| n.name == m.name))
        })
        .filter(|m| volumes.iter().any(|v| v.anonymous && v.name == m.name))
        .map(|m| m.name.clone())
        .collect()
}

/// dockerd's checks of a `--mount`: its type and target, a tmpfs without a source, a volume's
/// name; the kind and the mount point.
fn check_mount_flag(f: &MountFlag) -> Result<(MountKind, String), String> {
    let config = |why: String| format!("invalid mount config for type \"{}\": {why}", f.kind);
    let kind = match f.kind.as_str() {
        "volume" => MountKind::Volume,
        "bind" => MountKind::Bind,
        "tmpfs" => MountKind::Tmpfs,
        _ => return Err(config("mount type unknown".into())),
    };
    if !f.target.starts_with('/') {
        return Err(config(format!(
            "invalid mount path: '{}' mount path must be absolute",
            f.target
        )));
    }
    match kind {
        MountKind::Tmpfs if !f.source.is_empty() => {
            return Err(config("field Source must not be specified".into()));
        }
        MountKind::Bind if f.source.is_empty() => {
            return Err(config("field Source must not be empty".into()));
        }
        MountKind::Volume if !f.source.is_empty() => check_volume_name(&f.source)?,
        _ => {}
    }
    Ok((kind, crate::fs::path::clean_abs(&f.target)))
}

/// The image's files at `point` for a new volume: its top directory's metadata and its files.
fn volume_copy(fs: &UnionFs, point: &str) -> Result<(Meta, Layer), EngineError> {
    let root = fs.stat(point)?.meta();
    let mut content = Layer::new();
    for (path, _) in fs.walk(point)? {
        let Some(rel) = path.strip_prefix(point).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        let st = fs.lstat(&path)?;
        let meta = st.meta();
        let entry = if st.file_type == FileType::Dir {
            Entry::dir(meta)
        } else if let Ok(target) = fs.read_link(&path) {
            Entry::symlink(meta, target)
        } else {
            Entry {
                meta,
                kind: EntryKind::File(fs.read(&path)?.clone()),
            }
        };
        content.insert(rel.to_owned(), entry);
    }
    Ok((root, content))
}

/// A volume's top directory and files from the changes found under its mount point.
fn volume_from(taken: &[(String, Change)], point: &str, root: Meta) -> (Meta, Layer) {
    let mut meta = root;
    let mut files = Vec::new();
    let prefix = format!("{point}/");
    for (path, change) in taken {
        if path == point {
            if let Change::Entry(e) = change {
                meta = e.meta;
            }
            continue;
        }
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let change = match change {
            // an opaque mount point hides the lower layers: nothing below needs hiding
            Change::Whiteout => continue,
            Change::HardLink(t) => match t.strip_prefix(&prefix) {
                Some(t) => Change::HardLink(t.to_owned()),
                None => continue,
            },
            Change::Entry(e) => Change::Entry(Entry {
                meta: e.meta,
                kind: match &e.kind {
                    EntryKind::Dir { .. } => EntryKind::Dir { opaque: false },
                    k => k.clone(),
                },
            }),
        };
        files.push((rel.to_owned(), change));
    }
    let mut content = Layer::new();
    put_back(&mut content, files);
    (meta, content)
}

/// The order of docker's CLI listings (fvbommel/sortorder `NaturalLess`): runs of digits
/// compare as numbers (leading zeros ignored, then fewer zeros first) and before any other
/// character; other bytes compare as bytes; a prefix comes first.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !da {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        let digits = |s: &[u8], mut k: usize| {
            while k < s.len() && s[k] == b'0' {
                k += 1;
            }
            let start = k;
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            (start, k)
        };
        let ((sa, ea), (sb, eb)) = (digits(a, i), digits(b, j));
        let order = (ea - sa)
            .cmp(&(eb - sb))
            .then_with(|| a[sa..ea].cmp(&b[sb..eb]))
            .then_with(|| sa.cmp(&sb));
        if order != Ordering::Equal {
            return order;
        }
        (i, j) = (ea, eb);
    }
    a.len().cmp(&b.len())
}

/// The filters `volume prune` accepts (dockerd 20.10).
const VOLUME_PRUNE_FILTERS: &[&str] = &["label", "label!"];

/// `volume inspect`'s JSON, in docker's field order.
#[derive(Serialize)]
struct VolumeJson {
    #[serde(rename = "CreatedAt")]
    created_at: String,
    #[serde(rename = "Driver")]
    driver: &'static str,
    #[serde(rename = "Labels")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Mountpoint")]
    mountpoint: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Options")]
    options: Option<BTreeMap<String, String>>,
    #[serde(rename = "Scope")]
    scope: &'static str,
}

/// One line of `volume ls`.
struct VolumeRow {
    name: String,
    labels: String,
    mountpoint: String,
}

impl ListRow for VolumeRow {
    const GO_TYPE: &'static str = "*formatter.volumeContext";

    fn default_format(_: &RowOptions) -> String {
        "table {{.Driver}}\t{{.Name}}".to_owned()
    }

    fn header() -> Value {
        record([
            ("Driver", "DRIVER".into()),
            ("Labels", "LABELS".into()),
            ("Links", "LINKS".into()),
            ("Mountpoint", "MOUNTPOINT".into()),
            ("Name", "VOLUME NAME".into()),
            ("Scope", "SCOPE".into()),
            ("Size", "SIZE".into()),
        ])
    }

    fn record(&self, _: &RowOptions) -> Value {
        record([
            ("Driver", "local".into()),
            ("Labels", self.labels.clone().into()),
            ("Links", "N/A".into()),
            ("Mountpoint", self.mountpoint.clone().into()),
            ("Name", self.name.clone().into()),
            ("Scope", "local".into()),
            ("Size", "N/A".into()),
        ])
    }
}

impl Engine {
    /// `volume create`: makes the volume (or finds the one by that name) and prints its name.
    pub(super) fn volume_create(
        &mut self,
        o: &VolumeCreateOptions,
        out: &mut Output,
    ) -> CmdResult<u8> {
        let shown = o.name.clone().unwrap_or_default();
        let refuse = |why: String| Failure(daemon_error(&format!("create {shown}: {why}")), 1);
        if o.driver != "local" {
            return Err(refuse(format!(
                "error looking up volume plugin {0}: plugin \"{0}\" not found",
                o.driver
            )));
        }
        if let Some(name) = &o.name {
            check_volume_name(name).map_err(|e| Failure(daemon_error(&e), 1))?;
        }
        if let Some(opt) = o.options.first() {
            let key = opt.split_once('=').map_or(opt.as_str(), |(k, _)| k);
            return Err(refuse(if ["type", "device", "o", "size"].contains(&key) {
                "driver options (type, device, o) are not simulated".to_owned()
            } else {
                format!("invalid option: \"{key}\"")
            }));
        }
        let i = self.volume_or_create(o.name.as_deref(), key_values(&o.labels));
        self.state.volumes[i].by_command = true;
        out.out(format!("{}\n", self.state.volumes[i].name));
        Ok(0)
    }

    /// `volume ls`.
    pub(super) fn volume_ls(&mut self, o: &VolumeLsOptions, out: &mut Output) -> CmdResult<u8> {
        let mut wanted: Vec<&Volume> = Vec::new();
        for f in &o.filters {
            if !["dangling", "name", "label", "driver"].contains(&f.name.as_str()) {
                return Err(Failure(
                    daemon_error(&format!("Invalid filter '{}'", f.name)),
                    1,
                ));
            }
        }
        for v in &self.state.volumes {
            let used = !self.volume_users(&v.name).is_empty();
            let ok = o.filters.iter().all(|f| match f.name.as_str() {
                "dangling" => matches!(f.value.as_str(), "true" | "1") != used,
                "name" => v.name.contains(&f.value),
                "driver" => f.value == "local",
                _ => match f.value.split_once('=') {
                    Some((k, val)) => v.labels.get(k).is_some_and(|got| got == val),
                    None => v.labels.contains_key(&f.value),
                },
            });
            if ok {
                wanted.push(v);
            }
        }
        // docker's CLI lists them in natural order (`9z` before `10a`)
        wanted.sort_by(|a, b| natural_cmp(&a.name, &b.name));
        let rows: Vec<VolumeRow> = wanted
            .into_iter()
            .map(|v| VolumeRow {
                name: v.name.clone(),
                labels: v
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                mountpoint: self.volume_mountpoint(&v.name),
            })
            .collect();
        let format = match o.format.as_deref() {
            None | Some("") if o.quiet => Some("{{.Name}}"),
            f => f,
        };
        print_list(&rows, format, &RowOptions::new(self.now()), out)
    }

    /// `volume inspect`.
    pub(super) fn volume_inspect(
        &mut self,
        o: &VolumeInspectOptions,
        out: &mut Output,
    ) -> CmdResult<u8> {
        let mut found = Vec::new();
        let mut errors = Vec::new();
        for name in &o.volumes {
            match self.state.volumes.iter().find(|v| v.name == *name) {
                Some(v) => found.push(VolumeJson {
                    created_at: rfc3339(v.created),
                    driver: "local",
                    labels: (v.by_command || !v.labels.is_empty()).then(|| v.labels.clone()),
                    mountpoint: self.volume_mountpoint(&v.name),
                    name: v.name.clone(),
                    options: v.by_command.then(BTreeMap::new),
                    scope: "local",
                }),
                None => errors.push(format!("Error: No such volume: {name}")),
            }
        }
        let text = match &o.format {
            Some(f) => {
                let values: Vec<Value> = found
                    .iter()
                    .filter_map(|v| Doc::of(v).ok().map(|d| d.to_value()))
                    .collect();
                inspect_format(f, &values).map_err(|e| Failure(e.to_string(), 1))?
            }
            None => inspect_json(&found).map_err(|e| Failure(e.to_string(), 1))?,
        };
        out.out(text);
        joined(&errors)
    }

    /// `volume rm`: each named volume no container uses.
    pub(super) fn volume_rm(&mut self, o: &VolumeRmOptions, out: &mut Output) -> CmdResult<u8> {
        let mut errors = Vec::new();
        for name in &o.volumes {
            let Some(i) = self.state.volumes.iter().position(|v| v.name == *name) else {
                if o.force {
                    // dockerd answers a forced removal of nothing as done
                    out.out(format!("{name}\n"));
                } else {
                    errors.push(format!("Error: No such volume: {name}"));
                }
                continue;
            };
            let users = self.volume_users(name);
            if !users.is_empty() {
                errors.push(daemon_error(&format!(
                    "remove {name}: volume is in use - [{}]",
                    users.join(", ")
                )));
                continue;
            }
            self.state.volumes.remove(i);
            out.out(format!("{name}\n"));
        }
        joined(&errors)
    }

    /// `volume prune` (docker 20.10: every local volume no container uses).
    pub(super) fn volume_prune(&mut self, o: &PruneOptions, out: &mut Output) -> CmdResult<u8> {
        let filter = self.prune_filter(o, VOLUME_PRUNE_FILTERS)?;
        confirm(
            o,
            "WARNING! This will remove all local volumes not used by at least one container.\n",
            out,
        );
        let freed = self.prune_volumes(&filter, out);
        Ok(reclaimed(freed, out))
    }

    /// `volume prune`'s work and its `Deleted Volumes:` section; returns the bytes freed.
    pub(super) fn prune_volumes(&mut self, filter: &PruneFilter, out: &mut Output) -> u64 {
        let (gone, kept): (Vec<Volume>, Vec<Volume>) = std::mem::take(&mut self.state.volumes)
            .into_iter()
            .partition(|v| {
                self.volume_users(&v.name).is_empty() && filter.admits(v.created, Some(&v.labels))
            });
        self.state.volumes = kept;
        if gone.is_empty() {
            return 0;
        }
        let mut text = "Deleted Volumes:\n".to_owned();
        for v in &gone {
            text.push_str(&v.name);
            text.push('\n');
        }
        text.push('\n');
        out.out(text);
        gone.iter().map(|v| self.volume_bytes(v)).sum()
    }

    /// The bytes volume `v` holds: its files', or the size its front end gave for it.
    fn volume_bytes(&self, v: &Volume) -> u64 {
        self.state
            .volume_sizes
            .get(&v.name)
            .copied()
            .unwrap_or_else(|| v.content.size())
    }

    /// `system df`'s `Local Volumes` line: how many, how many in use, their bytes and the
    /// bytes of those unused.
    pub(super) fn volume_usage(&self) -> (usize, usize, u64, u64) {
        let mut active = 0;
        let (mut size, mut free) = (0, 0);
        for v in &self.state.volumes {
            let bytes = self.volume_bytes(v);
            size += bytes;
            if self.volume_users(&v.name).is_empty() {
                free += bytes;
            } else {
                active += 1;
            }
        }
        (self.state.volumes.len(), active, size, free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_read_as_dockerd_reads_them() {
        let spec = parse_volume_spec("data:/var/data:ro").unwrap().unwrap();
        assert_eq!(spec.kind, MountKind::Volume);
        assert_eq!(spec.source.as_deref(), Some("data"));
        assert_eq!(spec.mode, "ro");
        let spec = parse_volume_spec("/data:ro").unwrap().unwrap();
        assert_eq!((spec.source, spec.mode.as_str()), (None, "ro"));
        let spec = parse_volume_spec("n:/x").unwrap().unwrap();
        assert_eq!((spec.source, spec.destination.as_str()), (None, "n:/x"));
        let spec = parse_volume_spec("/srv:/data").unwrap().unwrap();
        assert_eq!(spec.kind, MountKind::Bind);
        assert_eq!(parse_volume_spec("").unwrap(), None);
        for (spec, err) in [
            ("a:b:c:d", "invalid volume specification: 'a:b:c:d'"),
            ("/x:", "invalid volume specification: '/x:'"),
            (
                "/x:rel",
                "invalid volume specification: '/x:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute",
            ),
            (
                "vv:/",
                "invalid volume specification: 'vv:/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'",
            ),
            ("vv:/x:bogus", "invalid mode: bogus"),
            ("/tmp:/x:rw,ro", "invalid mode: rw,ro"),
            (
                "n:/x:ro",
                "create n: volume name is too short, names should be at least two alphanumeric characters",
            ),
        ] {
            assert_eq!(parse_volume_spec(spec).unwrap_err(), err, "{spec}");
        }
        assert!(
            parse_volume_spec("bad name:/x")
                .unwrap_err()
                .starts_with("create bad name: \"bad name\" includes invalid characters")
        );
    }

    #[test]
    fn volumes_list_in_dockers_natural_order() {
        // as docker 20.10's `volume ls` lists them
        let mut names = vec!["zz", "a10", "10a", "B1", "a9", "9z", "a09"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["9z", "10a", "B1", "a9", "a09", "a10", "zz"]);
        assert_eq!(natural_cmp("ab", "abc"), std::cmp::Ordering::Less);
        assert_eq!(natural_cmp("a1", "a1"), std::cmp::Ordering::Equal);
    }

    #[test]
    fn a_subtree_taken_and_put_back_is_the_same_layer() {
        let mut layer = Layer::new();
        let meta = Meta::new(0o644, 0);
        layer.insert("data", Entry::dir(meta));
        layer.insert("data/a", Entry::file(meta, "a"));
        layer.insert_hardlink("data/b", "data/a");
        layer.insert("data-x", Entry::file(meta, "x"));
        layer.insert_whiteout("data/gone");
        let before = layer.clone();
        let taken = take_subtree(&mut layer, "data");
        assert_eq!(taken.len(), 4);
        assert_eq!(layer.len(), 1, "data-x is not under data");
        put_back(&mut layer, taken);
        assert_eq!(layer, before);
    }
}
