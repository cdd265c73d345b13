//! What to run: the container's layers, process and limits, as docker's `run` flags give them.

use std::path::PathBuf;

use super::syscall::Resource;

/// The overlay of a container: image layers below, the container's own layer on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layers {
    /// The image's unpacked layers, **bottom first** (the base image's first).
    pub lowers: Vec<PathBuf>,
    /// The container's writable layer: after the run it holds its changes.
    pub upper: PathBuf,
    /// overlayfs' scratch directory, on the same filesystem as `upper`.
    pub work: PathBuf,
    /// Where the merged view is mounted (only inside the container's mount namespace).
    pub merged: PathBuf,
    /// Docker's "init layer": mount points for /dev, /proc, /sys and /etc/{hosts,hostname,
    /// resolv.conf}, stacked above the image so that they never show up in the container's diff.
    pub init: PathBuf,
    /// The container's own /etc/hosts, /etc/hostname and /etc/resolv.conf, bind-mounted in.
    pub etc_files: PathBuf,
    /// Mount the overlay `volatile`: no syncfs of the upper directory's filesystem, above all at
    /// unmount, where it costs tens of milliseconds on a busy disk. Only for layers that are
    /// thrown away (`run --rm`): after a crash the upper dir is unusable.
    pub volatile: bool,
}

/// The user a container's process runs as (`--user uid[:gid]`, numeric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct User {
    /// The user ID.
    pub uid: u32,
    /// The primary group ID.
    pub gid: u32,
}

/// A resource limit (`--ulimit name=soft:hard`). Clamped to the caller's hard limit when applied,
/// because this machine (like many CI runners) lacks `CAP_SYS_RESOURCE` to raise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimit {
    /// Which limit.
    pub resource: Resource,
    /// The soft limit (`None`: unlimited).
    pub soft: Option<u64>,
    /// The hard limit (`None`: unlimited).
    pub hard: Option<u64>,
}

/// Cgroup limits: `--memory`, `--pids-limit`, `--cpus`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Maximum number of processes.
    pub pids: Option<u64>,
    /// CPU quota in CPUs, e.g. `0.5`.
    pub cpus: Option<f64>,
}

/// Where a container's stdout or stderr goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    /// The caller's own stream (an attached `docker run`).
    #[default]
    Inherit,
    /// Appended to this file (a log).
    File(PathBuf),
    /// Thrown away.
    Null,
}

/// Everything needed to start one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// The container's ID, used to name its cgroup.
    pub id: String,
    /// The overlay.
    pub layers: Layers,
    /// `argv`: the entrypoint and command already joined; `argv[0]` is looked up in `PATH`.
    pub args: Vec<String>,
    /// The environment, `KEY=value`.
    pub env: Vec<String>,
    /// The working directory (created when missing, as docker does).
    pub cwd: String,
    /// The user and group.
    pub user: User,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// The hostname (docker: the first 12 hex digits of the ID).
    pub hostname: String,
    /// Cgroup limits.
    pub resources: Resources,
    /// Resource limits.
    pub ulimits: Vec<Ulimit>,
    /// `--security-opt no-new-privileges`.
    pub no_new_privileges: bool,
    /// The container's stdout.
    pub stdout: Output,
    /// The container's stderr.
    pub stderr: Output,
}

/// docker's default `PATH` when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl ContainerSpec {
    /// A spec with docker's defaults: root, `/`, the default `PATH`, hostname from the ID.
    pub fn new(id: &str, layers: Layers, args: Vec<String>) -> Self {
        Self {
            id: id.to_owned(),
            layers,
            args,
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: "/".to_owned(),
            user: User::default(),
            groups: Vec::new(),
            hostname: id.chars().take(12).collect(),
            resources: Resources::default(),
            ulimits: Vec::new(),
            no_new_privileges: false,
            stdout: Output::Inherit,
            stderr: Output::Inherit,
        }
    }

    /// The `PATH` the process will see (docker looks `argv[0]` up in the container's own).
    pub fn path_var(&self) -> &str {
        self.env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
    }
}
