//! The Linux engine: real containers with overlayfs, namespaces, cgroups and pivot_root.
//!
//! ```no_run
//! use std::path::Path;
//! use layerbox::linux::{ContainerSpec, Layers, run};
//! let lowers = vec!["/var/lib/layerbox/layers/busybox".into()];
//! let layers = Layers::in_dir(Path::new("/var/lib/layerbox/containers/0123456789ab"), lowers);
//! let spec = ContainerSpec::new("0123456789ab", layers, vec!["echo".into(), "hi".into()]);
//! let exit = run(&spec)?; // needs root
//! assert_eq!(exit.code, 0);
//! # Ok::<(), layerbox::linux::LinuxError>(())
//! ```
//!
//! Kernel calls go through [`Syscall`]; the sequence of mounts and process changes is
//! unit-tested with [`RecordingSyscall`], the real thing by the root-only integration tests.
//!
//! | module | does |
//! | --- | --- |
//! | [`container`] | the monitor and PID 1: fork, namespaces, cgroup join, exec, wait, `--init` |
//! | [`rootfs`] | overlay, /proc, /dev, /sys, /etc files, masked paths, `pivot_root` |
//! | [`process`] | hostname, rlimits, user, capabilities, no_new_privs, `PATH` look-up (126/127) |
//! | [`exec`] | `docker exec`: joining a running container's namespaces through a pidfd |
//! | [`cgroup`] | memory, pids and cpu limits and the freezer, v1 or v2 per controller |
//! | [`tty`] | `-t`: a pseudo-terminal made inside the container, raw mode and window size outside |
//! | [`user`] | `--user` against the container's /etc/passwd and /etc/group |
//! | [`idmap`] | rootless ID maps: the user's own uid, plus `/etc/subuid` ranges through `newuidmap` |
//! | [`populate`] | docker's copy of the image's content into a volume mounted empty for the first time |
//! | [`layerdir`] | overlayfs directories to and from the core's `fs::Layer`, `docker diff` |
//! | [`build`] | [`LinuxRun`], the core builder's `RUN` on real containers |

pub mod build;
pub mod cgroup;
pub mod container;
pub mod exec;
pub(crate) mod ffi;
pub mod idmap;
pub mod layerdir;
pub mod populate;
pub mod process;
pub mod real;
pub mod rootfs;
pub mod spec;
pub mod syscall;
pub mod tty;
pub mod user;

pub use build::LinuxRun;
pub use cgroup::{Cgroup, CgroupError};
pub use container::{Exit, Running, run, spawn};
pub use layerdir::{LayerDirError, container_changes, read_layer_dir, write_layer_dir};
pub use process::StartError;
pub use real::RealSyscall;
pub use rootfs::RootfsError;
pub use spec::{ContainerSpec, Input, Layers, Output, Resources, SharedFd, Ulimit, VolumeMount};
pub use syscall::{Call, RecordingSyscall, Syscall};
pub use user::ExecUser;

/// Whether an ordinary user can run containers here (rootless): user namespaces are allowed to
/// unprivileged users (`user.max_user_namespaces` above 0, no AppArmor restriction) and the
/// kernel mounts overlayfs inside one (5.11 or later).
pub fn rootless_available() -> bool {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let userns = read("/proc/sys/user/max_user_namespaces")
        .trim()
        .parse::<u64>()
        .is_ok_and(|n| n > 0)
        && read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").trim() != "1";
    let release = rustix::system::uname();
    let release = release.release().to_string_lossy();
    let mut version = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let kernel = (version.next().unwrap_or(0), version.next().unwrap_or(0));
    userns && kernel >= (5, 11)
}

/// An error of the Linux engine.
#[derive(Debug, thiserror::Error)]
pub enum LinuxError {
    /// The container's process could not be started (docker's 125, 126 or 127).
    #[error(transparent)]
    Start(#[from] StartError),
    /// Its cgroup could not be set up.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// A host operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl LinuxError {
    /// Wraps an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }

    /// docker's exit code for this error: the start error's own, else 125 (the engine's).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Start(e) => e.code,
            _ => 125,
        }
    }
}
