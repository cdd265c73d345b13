//! The engine: images and containers, the container state machine, names and IDs, and the
//! event stream, with docker's commands carried out on it ([`Engine::execute`]).
//!
//! The state ([`EngineState`]) is plain serde data: the browser keeps it in localStorage, the
//! native `--engine sim` in a state file. What the engine takes from its host — time, random
//! numbers, how programs run, where base images come from — comes in through small traits
//! ([`Clock`], [`IdSource`], [`ProcessRunner`], the builder's `ImageSource`).
//!
//! ```
//! use layerbox_core::engine::{Engine, EngineState, Output};
//! let mut engine = Engine::new(EngineState::default());
//! let mut out = Output::default();
//! let code = engine.execute(&["docker", "ps"], &mut out);
//! assert_eq!(code, 0);
//! assert!(out.stdout().starts_with("CONTAINER ID   IMAGE"));
//! ```

mod archive;
mod commands;
pub mod cp;
mod follow;
mod host;
mod import;
mod inspect;
mod names;
mod process;
mod progress;
mod provenance;
mod prune;
mod session;
mod state;
mod volumes;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::build::{BaseImage, BuildCache, BuildEvent, ImageSource};
use crate::cli::command::{Resources, RestartPolicy};
use crate::cli::rows::PortBinding;
use crate::cli::units::Timestamp;
use crate::fs::{Entry, FsError, FsEvent, Layer, LayerStack, Meta, UnionFs};
use crate::image::{Digest, ImageConfig, Reference};

pub use archive::{ArchiveOutput, save_format};
pub use commands::BuildInput;
pub use follow::{Follow, FollowKind};
pub use host::{Clock, FixedClock, IdSource, MASKED_PATHS, READONLY_PATHS, SeededIds};
pub use names::{is_valid_name, random_name};
pub use process::{
    Process, ProcessRequest, ProcessResult, ProcessRunner, Response, ShellRunner, StartError,
    Stream, recognise,
};
pub use progress::{BuildProgress, Moment, TtyDisplay, Vertex, VertexState, VertexStatus};
pub use provenance::{CommitSource, Provenance, cache_by_layer};
pub use session::{Session, SessionRequest};
pub use state::{Action, ContainerState, Refusal};
pub use volumes::{
    Mount, MountKind, Volume, VolumeSpec, check_volume_name, parse_volume_spec, volumes_going_with,
};

/// An image in the engine's store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// The image ID: sha256 of the config.
    pub id: Digest,
    /// The OCI config, history included.
    pub config: ImageConfig,
    /// Normalised `repository:tag` references naming it, in the order they were given.
    pub repo_tags: Vec<Reference>,
    /// When it was created.
    pub created: Timestamp,
    /// The image it was committed or built from, if made here.
    pub parent: Option<Digest>,
    /// Bytes of all its layers, kept so that listings need not load the layers.
    #[serde(default)]
    pub size: u64,
}

/// A line a container's processes wrote, for `docker logs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// stdout or stderr.
    pub stream: Stream,
    /// When it was written.
    pub time: Timestamp,
    /// The text, with its newline.
    pub text: String,
}

/// How a container was configured at `create` (docker's container `Config` and the parts of
/// its `HostConfig` the simulation uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's own independent switches
pub struct ContainerSpec {
    /// `KEY=value`, the image's then `-e`.
    pub env: Vec<String>,
    /// The entrypoint in effect.
    pub entrypoint: Vec<String>,
    /// The command in effect.
    pub cmd: Vec<String>,
    /// The working directory.
    pub workdir: String,
    /// The user.
    pub user: String,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--restart`.
    pub restart: RestartPolicy,
    /// Labels, the image's then `--label`.
    pub labels: BTreeMap<String, String>,
    /// Exposed ports (`80/tcp`).
    pub exposed: Vec<String>,
    /// `run -d`: nothing attached (inspect's `AttachStdout` and `AttachStderr` are false).
    #[serde(default)]
    pub detached: bool,
    /// `--network`: `default` (docker's name for `bridge`), `bridge`, `host` or `none`.
    #[serde(default = "default_network")]
    pub network: String,
    /// Cgroup limits, after the daemon's checks and defaults.
    #[serde(default)]
    pub resources: Resources,
    /// `-h`/`--hostname`; `None`: the short ID, as docker.
    #[serde(default)]
    pub hostname: Option<String>,
}

fn default_network() -> String {
    "default".to_owned()
}

/// A container: a thin writable layer over its image's layers, a config and a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// 64-hex ID.
    pub id: String,
    /// Its name, without docker's leading `/`.
    pub name: String,
    /// The image's ID.
    pub image: Digest,
    /// The image as the user named it (`my-python-app`, or an ID).
    pub image_name: String,
    /// Its configuration.
    pub spec: ContainerSpec,
    /// Published ports.
    pub ports: Vec<PortBinding>,
    /// When it was created.
    pub created: Timestamp,
    /// Where it is in its life.
    pub state: ContainerState,
    /// When the main process last started.
    pub started_at: Option<Timestamp>,
    /// When it last ended.
    pub finished_at: Option<Timestamp>,
    /// The main process's last exit code.
    pub exit_code: i32,
    /// How often the restart policy restarted it.
    pub restart_count: u32,
    /// The writable layer.
    pub upper: Layer,
    /// Output of its processes.
    pub logs: Vec<LogEntry>,
    /// What its main process does (simulated).
    pub process: Process,
    /// The simulated PID of its main process.
    pub pid: u32,
    /// Whether the kernel's OOM killer ended its last run (inspect's `State.OOMKilled`).
    #[serde(default)]
    pub oom_killed: bool,
    /// Its volumes and bind mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// `/etc/hostname`, `/etc/hosts` or `/etc/resolv.conf` as its processes rewrote them
    /// (docker keeps these files in the container's directory, outside its layers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub etc_files: BTreeMap<String, Entry>,
}

impl Container {
    /// The ID as docker shows it, 12 hex digits.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }

    /// The container's hostname: `-h`'s, or the short ID as docker gives it.
    pub fn hostname(&self) -> &str {
        self.spec
            .hostname
            .as_deref()
            .unwrap_or_else(|| self.short_id())
    }

    /// The main process's argv: entrypoint then command.
    pub fn argv(&self) -> Vec<String> {
        self.spec
            .entrypoint
            .iter()
            .chain(&self.spec.cmd)
            .cloned()
            .collect()
    }
}

/// The whole simulated state: images, their layers, containers and the build cache.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineState {
    /// Images, oldest first.
    pub images: Vec<Image>,
    /// Layers by diff_id, shared by the images and containers over them.
    pub layers: BTreeMap<Digest, Arc<Layer>>,
    /// Containers, oldest first.
    pub containers: Vec<Container>,
    /// The build cache.
    pub cache: BuildCache,
    /// The next simulated PID.
    pub next_pid: u32,
    /// How the images were made (build cache outcomes, commit sources), for the views.
    #[serde(default, skip_serializing_if = "Provenance::is_empty")]
    pub provenance: Provenance,
    /// The config bytes of loaded images whose ID (their digest) is not the digest of
    /// [`ImageConfig::to_json`] (docker's configs carry fields the model drops), so that
    /// `save` gives them back unchanged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<Digest, String>,
    /// Sizes of layers not in [`EngineState::layers`] (a front end with an on-disk store
    /// reads them from its layer directories instead of loading the files), so that the
    /// prunes count the space an image's removal frees.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layer_sizes: BTreeMap<Digest, u64>,
    /// Volumes, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Sizes of volumes whose files are not in [`Volume::content`] (a front end that keeps
    /// them in directories reads their sizes from there), for `system df` and the prunes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volume_sizes: BTreeMap<String, u64>,
}

/// Something that happened in the engine, for the browser's animation and the CLI's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A container moved in the state machine (`from` is `None` when it was created).
    ContainerState {
        /// Its ID.
        id: String,
        /// Its name.
        name: String,
        /// The state before.
        from: Option<ContainerState>,
        /// The state now.
        to: ContainerState,
    },
    /// Copy-on-write in a container's writable layer.
    ContainerFs {
        /// The container's ID.
        id: String,
        /// Copy-up, whiteout or opaque directory.
        event: FsEvent,
    },
    /// A container was renamed.
    ContainerRenamed {
        /// Its ID.
        id: String,
        /// The new name.
        name: String,
    },
    /// A build's progress.
    Build(BuildEvent),
    /// An image was stored.
    ImageCreated {
        /// Its ID.
        id: Digest,
    },
    /// A reference now names an image.
    ImageTagged {
        /// The image.
        id: Digest,
        /// The reference, as docker shows it.
        reference: String,
    },
    /// A reference no longer names an image.
    ImageUntagged {
        /// The image.
        id: Digest,
        /// The reference, as docker shows it.
        reference: String,
    },
    /// An image was deleted.
    ImageDeleted {
        /// Its ID.
        id: Digest,
    },
}

/// What a command printed, interleaved as it was written, and the events it caused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// stdout and stderr pieces in order.
    pub chunks: Vec<(Stream, String)>,
    /// Events in order.
    pub events: Vec<Event>,
    /// Notes about the simulation (what was modelled instead of run); not docker's output.
    pub notices: Vec<String>,
    /// A build's progress for the tty display (`build --progress tty`, or `auto` on a
    /// terminal, see [`Engine::set_terminal`]): it is not in `chunks`; a front end draws it
    /// with [`TtyDisplay`], frame by frame in time or all at once
    /// ([`TtyDisplay::render_all`]), on stderr before the chunks.
    #[serde(default)]
    pub progress: Option<BuildProgress>,
    /// A command that blocks until containers change (`wait`, `logs -f`, an attached
    /// `run`), for a front end that follows ([`Engine::set_follows`]): carry it on with
    /// [`Engine::poll`]; the exit code returned so far is not the command's.
    #[serde(default)]
    pub follow: Option<Follow>,
    /// An interactive shell to open (`run -it … sh`, `exec -it … bash`) for a front end that
    /// is interactive ([`Engine::set_interactive`]): see [`Engine::open_session`].
    #[serde(default)]
    pub session: Option<SessionRequest>,
    /// The archive `save` or `export` made, for the front end to write to `-o`'s file or to
    /// stdout (or to offer as a download).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveOutput>,
}

impl Output {
    /// Appends to stdout.
    pub fn out(&mut self, text: impl Into<String>) {
        self.push(Stream::Stdout, text.into());
    }

    /// Appends to stderr.
    pub fn err(&mut self, text: impl Into<String>) {
        self.push(Stream::Stderr, text.into());
    }

    /// Appends to `stream`.
    pub fn write(&mut self, stream: Stream, text: impl Into<String>) {
        self.push(stream, text.into());
    }

    fn push(&mut self, stream: Stream, text: String) {
        if text.is_empty() {
            return;
        }
        match self.chunks.last_mut() {
            Some((s, t)) if *s == stream => t.push_str(&text),
            _ => self.chunks.push((stream, text)),
        }
    }

    /// Everything written to stdout.
    pub fn stdout(&self) -> String {
        self.stream(Stream::Stdout)
    }

    /// Everything written to stderr.
    pub fn stderr(&self) -> String {
        self.stream(Stream::Stderr)
    }

    /// Both streams interleaved, as a terminal shows them.
    pub fn text(&self) -> String {
        self.chunks.iter().map(|(_, t)| t.as_str()).collect()
    }

    fn stream(&self, stream: Stream) -> String {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, t)| t.as_str())
            .collect()
    }
}

/// Why the engine refused or failed, as docker's daemon words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No container by that name or ID.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// No image by that reference or ID.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// The state machine refused.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A name is taken.
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameConflict {
        /// The name.
        name: String,
        /// The container holding it.
        id: String,
    },
    /// An invalid container name.
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidName(String),
    /// The main process could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A filesystem error in a container's layers.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// Anything else, in the daemon's words.
    #[error("{0}")]
    Other(String),
}

/// docker's init layer (moby `setupInitLayer`), which it puts between a container's image and
/// its writable layer: `/.dockerenv`, the mount points of `/dev`, `/proc` and `/sys`, and
/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`, which docker bind-mounts from the
/// container's own directory; with `contents`, those three hold what the mounts show. The
/// simulation has no network: `/etc/hosts` lists no container address and `/etc/resolv.conf`
/// has docker's fallback name servers.
pub fn init_layer(container: &Container, contents: bool) -> Layer {
    // A second before the container's creation: the simulation keeps whole seconds, and a
    // directory written in the second the container was made must still differ from it
    // (`diff` shows `C /etc`), as it does at docker's nanoseconds.
    let mtime = container.created.unix_secs() - 1;
    let dir = |mode| Entry::dir(Meta::new(mode, mtime));
    let file = |mode, text: &str| {
        Entry::file(
            Meta::new(mode, mtime),
            if contents {
                text.as_bytes().to_vec()
            } else {
                Vec::new()
            },
        )
    };
    let hostname = container.hostname();
    let mut layer = Layer::new();
    layer.insert(".dockerenv", file(0o755, ""));
    for d in ["dev", "dev/pts", "dev/shm", "etc", "proc", "sys"] {
        layer.insert(d, dir(0o755));
    }
    layer.insert("etc/hostname", file(0o644, &format!("{hostname}\n")));
    layer.insert(
        "etc/hosts",
        file(
            0o644,
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
        ),
    );
    layer.insert(
        "etc/resolv.conf",
        file(
            0o644,
            "# simulated: docker's fallback name servers (no network in the simulation)\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n",
        ),
    );
    if contents {
        for (path, entry) in &container.etc_files {
            layer.insert(path.clone(), entry.clone());
        }
    }
    layer
}

/// The files docker bind-mounts into every container, relative to the root.
pub const CONTAINER_ETC_FILES: [&str; 3] = ["etc/hostname", "etc/hosts", "etc/resolv.conf"];

/// The engine: the state plus what it takes from its host.
#[allow(clippy::struct_excessive_bools)] // independent settings of the front end
pub struct Engine {
    state: EngineState,
    clock: Box<dyn Clock>,
    ids: Box<dyn IdSource>,
    runner: Box<dyn ProcessRunner>,
    base_images: Box<dyn ImageSource>,
    build_input: Option<BuildInput>,
    host: Box<dyn cp::HostFiles>,
    stdin: Vec<u8>,
    program: String,
    terminal: bool,
    follows: bool,
    interactive: bool,
    cpus: i64,
    host_binds: bool,
    volume_root: String,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("images", &self.state.images.len())
            .field("containers", &self.state.containers.len())
            .finish_non_exhaustive()
    }
}

/// No base images (until a catalog of modelled images is given).
struct NoImages;

impl ImageSource for NoImages {
    fn image(&self, _: &Reference) -> Option<BaseImage> {
        None
    }
}

impl Engine {
    /// An engine over `state`, with a clock at the epoch, seed-0 IDs, the simulated shell
    /// without package managers, and no base images; replace them with the `with_*` methods.
    pub fn new(state: EngineState) -> Self {
        Self {
            state,
            clock: Box::new(FixedClock::default()),
            ids: Box::new(SeededIds::new(0)),
            runner: Box::new(ShellRunner::default()),
            base_images: Box::new(NoImages),
            build_input: None,
            host: Box::new(cp::MemoryHost::default()),
            stdin: Vec::new(),
            program: "docker".into(),
            terminal: false,
            follows: false,
            interactive: false,
            cpus: 1,
            host_binds: false,
            volume_root: "/var/lib/docker/volumes".into(),
        }
    }

    /// Uses `clock` for the time.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Uses `ids` for IDs and names.
    #[must_use]
    pub fn with_ids(mut self, ids: impl IdSource + 'static) -> Self {
        self.ids = Box::new(ids);
        self
    }

    /// Runs container processes, `exec` and the builder's `RUN` steps on `runner`.
    #[must_use]
    pub fn with_runner(mut self, runner: impl ProcessRunner + 'static) -> Self {
        self.runner = Box::new(runner);
        self
    }

    /// Finds images not in the store (what `pull` would fetch) in `source`.
    #[must_use]
    pub fn with_base_images(mut self, source: impl ImageSource + 'static) -> Self {
        self.base_images = Box::new(source);
        self
    }

    /// Sets the program name errors mention (`docker` or `layerbox`).
    pub fn set_program(&mut self, program: &str) {
        program.clone_into(&mut self.program);
    }

    /// Says how many CPUs the host has (the simulated one has 1): `--cpus` may not ask for
    /// more, and `info` reports it.
    pub fn set_cpus(&mut self, cpus: u32) {
        self.cpus = i64::from(cpus.max(1));
    }

    /// Lets `-v /host/path:/path` bind-mount host directories (a front end that can: the Linux
    /// engine); the simulated engine has no host directories and refuses them.
    pub fn set_host_binds(&mut self, allowed: bool) {
        self.host_binds = allowed;
    }

    /// Says where volumes keep their files on the host (`inspect`'s `Mountpoint`:
    /// `ROOT/NAME/_data`; docker's `/var/lib/docker/volumes` by default).
    pub fn set_volume_root(&mut self, root: &str) {
        root.clone_into(&mut self.volume_root);
    }

    /// Says whether the output goes to a terminal that understands ANSI escapes: then
    /// `build --progress auto` (the default) draws BuildKit's tty display, as docker does when
    /// its stderr is a terminal; otherwise the plain format.
    pub fn set_terminal(&mut self, terminal: bool) {
        self.terminal = terminal;
    }

    /// Sets the clock (the browser moves it between commands).
    pub fn set_clock(&mut self, clock: impl Clock + 'static) {
        self.clock = Box::new(clock);
    }

    /// Gives the next `build` its context.
    pub fn set_build_input(&mut self, input: BuildInput) {
        self.build_input = Some(input);
    }

    /// Gives `cp` the client's local filesystem (the host's natively, the project files in the
    /// browser); an empty one in memory until then.
    pub fn set_host_files(&mut self, host: impl cp::HostFiles + 'static) {
        self.host = Box::new(host);
    }

    /// The client's local filesystem `cp` uses (to show what a copy out wrote).
    pub fn host_files(&self) -> &dyn cp::HostFiles {
        self.host.as_ref()
    }

    /// Gives the next `exec` or `run` this input (what a learner types into `-i`).
    pub fn set_stdin(&mut self, input: impl Into<Vec<u8>>) {
        self.stdin = input.into();
    }

    /// The state, for saving and for the UI.
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// The state, to save it or to replace it with a newer copy (another process of the
    /// native front end changed the state file).
    pub fn state_mut(&mut self) -> &mut EngineState {
        &mut self.state
    }

    /// Gives up the engine, keeping its state.
    pub fn into_state(self) -> EngineState {
        self.state
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The layers of an image, bottom first.
    pub fn image_layers(&self, image: &Image) -> Vec<Arc<Layer>> {
        image
            .config
            .rootfs
            .diff_ids
            .iter()
            .filter_map(|d| self.state.layers.get(d).cloned())
            .collect()
    }

    /// Bytes of all an image's layers.
    pub fn image_size(&self, image: &Image) -> u64 {
        if image.size > 0 {
            return image.size;
        }
        self.image_layers(image).iter().map(|l| l.size()).sum()
    }

    /// The image a user's word names: a full or short ID, or a reference (`latest` implied).
    pub fn find_image(&self, name: &str) -> Option<&Image> {
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut matches = self
                .state
                .images
                .iter()
                .filter(|i| i.id.hex().starts_with(hex));
            if let (Some(i), None) = (matches.next(), matches.next()) {
                return Some(i);
            }
        }
        let reference = Reference::parse_normalized(name).ok()?.with_default_tag();
        self.state
            .images
            .iter()
            .find(|i| i.repo_tags.contains(&reference))
    }

    /// The index of the container a user's word names: exact ID, exact name, or unique ID
    /// prefix (docker's order).
    pub fn find_container(&self, name: &str) -> Result<usize, EngineError> {
        let cs = &self.state.containers;
        let name = name.strip_prefix('/').unwrap_or(name);
        if let Some(i) = cs.iter().position(|c| c.id == name) {
            return Ok(i);
        }
        if let Some(i) = cs.iter().position(|c| c.name == name) {
            return Ok(i);
        }
        let mut prefixed = cs
            .iter()
            .enumerate()
            .filter(|(_, c)| !name.is_empty() && c.id.starts_with(name));
        match (prefixed.next(), prefixed.next()) {
            (Some((i, _)), None) => Ok(i),
            (Some(_), Some(_)) => Err(EngineError::Other(format!(
                "multiple IDs found with provided prefix: {name}"
            ))),
            _ => Err(EngineError::NoSuchContainer(name.to_owned())),
        }
    }

    /// A container's filesystem: its writable layer over docker's init layer (see
    /// [`init_layer`]) over its image's layers.
    pub fn container_fs(&self, container: &Container) -> Result<UnionFs, EngineError> {
        self.container_fs_with(container, true)
    }

    /// [`Engine::container_fs`]; `contents`: whether the init layer's files hold what docker
    /// bind-mounts over them (what processes read) or are empty (what `export` writes).
    pub(crate) fn container_fs_with(
        &self,
        container: &Container,
        contents: bool,
    ) -> Result<UnionFs, EngineError> {
        let mut layers = self
            .state
            .images
            .iter()
            .find(|i| i.id == container.image)
            .map(|i| self.image_layers(i))
            .unwrap_or_default();
        layers.push(Arc::new(init_layer(container, contents)));
        let stack = LayerStack::from_layers(layers)?;
        let mut fs = UnionFs::with_upper(stack, container.upper.clone());
        fs.set_now(self.now().unix_secs());
        Ok(fs)
    }

    /// Moves container `i` to `to`, stamping times and emitting the event.
    fn set_state(&mut self, i: usize, to: ContainerState, out: &mut Output) {
        let now = self.now();
        let c = &mut self.state.containers[i];
        let from = c.state;
        if from == to {
            return;
        }
        if to == ContainerState::Exited {
            // a tmpfs goes with the process that had it mounted
            for m in &mut c.mounts {
                m.tmpfs = Layer::new();
            }
        }
        match to {
            ContainerState::Running if !from.is_up() => c.started_at = Some(now),
            ContainerState::Exited | ContainerState::Restarting => c.finished_at = Some(now),
            _ => {}
        }
        c.state = to;
        out.events.push(Event::ContainerState {
            id: c.id.clone(),
            name: c.name.clone(),
            from: Some(from),
            to,
        });
    }

    /// Answers an HTTP GET of `path` on host port `port`, from the running container that
    /// publishes it (simulated: modelled servers only).
    pub fn request(&mut self, port: u16, path: &str) -> Result<String, String> {
        let now = self.now();
        let Some(i) = self.state.containers.iter().position(|c| {
            c.state == ContainerState::Running && c.ports.iter().any(|p| p.public_port == port)
        }) else {
            return Err(format!(
                "Failed to connect to localhost port {port}: Connection refused"
            ));
        };
        let c = &self.state.containers[i];
        let private = c
            .ports
            .iter()
            .find(|p| p.public_port == port)
            .map_or(0, |p| p.private_port);
        let body = match &c.process {
            Process::Server {
                port: listening,
                response,
            } if *listening == private => match response {
                Response::Fixed(body) => body.clone(),
                Response::Files(root) => {
                    let fs = self.container_fs(c).map_err(|e| e.to_string())?;
                    let mut file = process::absolute(root, path.trim_start_matches('/'));
                    if file.ends_with('/')
                        || fs
                            .stat(&file)
                            .is_ok_and(|s| s.file_type == crate::fs::FileType::Dir)
                    {
                        file = format!("{}/index.html", file.trim_end_matches('/'));
                    }
                    match fs.read(&file) {
                        Ok(data) => {
                            String::from_utf8_lossy(data.bytes().unwrap_or_default()).into_owned()
                        }
                        Err(_) => "404 Not Found\n".to_owned(),
                    }
                }
            },
            _ => return Err("Recv failure: Connection reset by peer".to_owned()),
        };
        let c = &mut self.state.containers[i];
        if matches!(
            &c.process,
            Process::Server {
                response: Response::Fixed(_),
                ..
            }
        ) && c.logs.iter().any(|l| l.text.contains("Running on http://"))
        {
            c.logs.push(LogEntry {
                stream: Stream::Stderr,
                time: now,
                text: format!(
                    "172.17.0.1 - - [{}] \"GET {path} HTTP/1.1\" 200 -\n",
                    flask_time(now)
                ),
            });
        }
        Ok(body)
    }
}

/// Whether a restart policy restarts a process that exited with `code` by itself.
fn restarts(policy: RestartPolicy, code: i32) -> bool {
    match policy {
        RestartPolicy::No => false,
        RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        RestartPolicy::OnFailure { .. } => code != 0,
    }
}

/// Werkzeug's log time: `26/Nov/2026 10:00:00`.
fn flask_time(t: Timestamp) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let s = crate::cli::rows::rfc3339(t);
    let month: usize = s[5..7].parse().unwrap_or(1);
    format!(
        "{}/{}/{} {}",
        &s[8..10],
        MONTHS[month.clamp(1, 12) - 1],
        &s[..4],
        &s[11..19]
    )
}
