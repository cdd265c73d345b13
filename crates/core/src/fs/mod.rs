//! The union filesystem, with the semantics of overlayfs and of OCI image layers.
//!
//! A [`Layer`] is a set of changes keyed by path: entries added or replaced, whiteouts for
//! deletions, opaque directories for directories that replaced a lower one. A [`LayerStack`]
//! of read-only layers keeps an index of its merged view, so looking a path up does not get
//! slower as layers are added. A [`UnionFs`] puts a writable layer on top: every write or
//! metadata change copies the entry up first, removing a lower entry leaves a whiteout, and
//! each copy-up, whiteout and opaque directory is reported as an [`FsEvent`] for the UI.
//! [`tar`] writes a layer as an OCI layer tar (with its diff_id) and reads one back.
//!
//! ```
//! use layerbox_core::fs::{FsEvent, Layer, LayerStack, UnionFs};
//! let mut base = UnionFs::new(LayerStack::new());
//! base.mkdir_all("/etc", 0o755).unwrap();
//! base.write("/etc/motd", b"hello\n", 0o644).unwrap();
//! let image = LayerStack::from_layers([base.into_upper().into()]).unwrap();
//!
//! let mut container = UnionFs::new(image);
//! container.set_now(1_700_000_000);
//! container.append("/etc/motd", b"more\n").unwrap();
//! container.remove("/etc/motd").unwrap();
//! let events = container.take_events();
//! assert!(matches!(&events[0], FsEvent::CopyUp { path, .. } if path == "/etc"));
//! assert!(events.contains(&FsEvent::Whiteout { path: "/etc/motd".into() }));
//! let diff: Vec<String> = container.changes().iter().map(ToString::to_string).collect();
//! assert_eq!(diff, ["C /etc", "D /etc/motd"]);
//! ```

mod layer;
pub(crate) mod path;
mod stack;
pub mod tar;
mod union;

use serde::{Deserialize, Serialize};

pub use layer::{Change, Entry, EntryKind, FileData, FileType, Layer, Meta};
pub use stack::{ChangeKind, LayerStack, PathChange, changes};
pub use union::{DirEntry, Stat, UnionFs};

/// The longest chain of symlinks a lookup follows, as Linux (`MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// Why a filesystem operation failed: the errno a real kernel would give, with the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// `ENOENT`.
    #[error("`{0}`: no such file or directory")]
    NotFound(String),
    /// `ENOTDIR`.
    #[error("`{0}`: not a directory")]
    NotADirectory(String),
    /// `EISDIR`.
    #[error("`{0}`: is a directory")]
    IsADirectory(String),
    /// `EEXIST`.
    #[error("`{0}`: file exists")]
    AlreadyExists(String),
    /// `ENOTEMPTY`.
    #[error("`{0}`: directory not empty")]
    DirectoryNotEmpty(String),
    /// `ELOOP`: more than [`MAX_SYMLINKS`] symlinks, or a cycle.
    #[error("`{0}`: too many levels of symbolic links")]
    Loop(String),
    /// `EROFS`: the view has no writable layer.
    #[error("`{0}`: read-only file system")]
    ReadOnly(String),
    /// `EINVAL` (moving a directory into itself, `readlink` of a non-link, ...).
    #[error("`{0}`: invalid argument")]
    InvalidArgument(String),
    /// `EPERM` (hard link to a directory, ...).
    #[error("`{0}`: operation not permitted")]
    NotPermitted(String),
}

impl FsError {
    /// The path the error is about, as given.
    pub fn path(&self) -> &str {
        match self {
            Self::NotFound(p)
            | Self::NotADirectory(p)
            | Self::IsADirectory(p)
            | Self::AlreadyExists(p)
            | Self::DirectoryNotEmpty(p)
            | Self::Loop(p)
            | Self::ReadOnly(p)
            | Self::InvalidArgument(p)
            | Self::NotPermitted(p) => p,
        }
    }

    /// The C library's `strerror` text, for shell utilities that print `cmd: path: text`.
    pub fn strerror(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "No such file or directory",
            Self::NotADirectory(_) => "Not a directory",
            Self::IsADirectory(_) => "Is a directory",
            Self::AlreadyExists(_) => "File exists",
            Self::DirectoryNotEmpty(_) => "Directory not empty",
            Self::Loop(_) => "Too many levels of symbolic links",
            Self::ReadOnly(_) => "Read-only file system",
            Self::InvalidArgument(_) => "Invalid argument",
            Self::NotPermitted(_) => "Operation not permitted",
        }
    }
}

/// Something copy-on-write did, for the engine's event stream and the browser's animation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FsEvent {
    /// An entry was copied from a read-only layer into the writable layer before a change.
    CopyUp {
        /// Absolute path.
        path: String,
        /// The layer (0 = bottom) it was copied from.
        from_layer: usize,
        /// What was copied.
        file_type: FileType,
    },
    /// A whiteout was written to hide a lower entry that was deleted.
    Whiteout {
        /// Absolute path.
        path: String,
    },
    /// A directory was made opaque: it replaces a lower directory instead of merging with it.
    OpaqueDir {
        /// Absolute path.
        path: String,
    },
}
