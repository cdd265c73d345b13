//! The merged file tree of an image, or of a container (its image's layers with its writable
//! layer on top): each entry with its type, mode, size, link target and the layer it comes
//! from, its change (`A`/`C`/`D`) in each layer, and the paths deleted by a whiteout or hidden
//! by an opaque directory shown as entries of the layer that deleted them. One file's contents
//! on request, bounded.
//!
//! Paths come from the merged view's index ([`LayerStack`]), so a listing costs the number of
//! paths it returns times the number of layers, whatever the image's size; only the search
//! reads every path's name once.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ViewError, image_stack, instruction};
use crate::dockerfile::SourceLines;
use crate::engine::{Engine, MountKind};
use crate::fs::path as fspath;
use crate::fs::{Change, ChangeKind, Entry, EntryKind, FileData, FileType, Layer, LayerStack};

/// The most entries a listing returns (the rest are counted; a search narrows them).
pub const MAX_ENTRIES: usize = 2000;

/// The most bytes of a file's text a [`FileContent`] carries.
pub const MAX_TEXT: usize = 64 * 1024;

/// Whether a target is an image or a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    /// An image: read-only layers.
    Image,
    /// A container: its image's layers and its writable layer on top.
    Container,
}

/// One layer of a target, for badges and legends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerLabel {
    /// 0 = bottom.
    pub index: usize,
    /// The instruction that made it (`container layer` for the writable one).
    pub instruction: String,
    /// Whether this is the container's writable layer.
    pub writable: bool,
    /// Its size.
    pub size: u64,
    /// The Dockerfile lines of the instruction that made it in the last build of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLines>,
    /// A volume mounted in the container, shown as a layer over its writable one (its files
    /// live outside the container's layers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub volume: bool,
}

/// The merged file tree of an image or a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesView {
    /// The target as named.
    pub target: String,
    /// Image or container.
    pub kind: TargetKind,
    /// The image or container ID.
    pub id: String,
    /// The layers, bottom first (a container's writable layer last).
    pub layers: Vec<LayerLabel>,
    /// The entries in path order (deleted ones among them), at most [`MAX_ENTRIES`].
    pub entries: Vec<FileEntry>,
    /// How many entries matched the filter in all.
    pub matched: usize,
    /// Whether `entries` stops short of `matched`.
    pub truncated: bool,
}

/// One path of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Absolute path.
    pub path: String,
    /// Directory, file or symlink (for a deleted entry: what it was).
    pub file_type: FileType,
    /// Permission bits.
    pub mode: u32,
    /// Type and permissions as `ls -l` prints them (`drwxr-xr-x`).
    pub ls_mode: String,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size as `stat` reports it.
    pub size: u64,
    /// A symlink's target.
    pub link_target: Option<String>,
    /// The layer it comes from; for a deleted entry, the layer that deleted it.
    pub layer: usize,
    /// Whether the path is deleted (a whiteout, or hidden by an opaque directory).
    pub deleted: bool,
    /// Whether the directory is opaque in its layer (it replaced a lower one).
    pub opaque: bool,
    /// Simulated content (a size and a digest, no bytes).
    pub simulated: bool,
    /// Its change in each layer that touches it, bottom first.
    pub marks: Vec<LayerMark>,
}

/// A path's change in one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerMark {
    /// The layer.
    pub layer: usize,
    /// `A`, `C` or `D`.
    pub kind: ChangeKind,
}

/// A file's contents, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContent {
    /// The target as named.
    pub target: String,
    /// Absolute path.
    pub path: String,
    /// The layer it comes from.
    pub layer: usize,
    /// Its type.
    pub file_type: FileType,
    /// Its size.
    pub size: u64,
    /// What can be shown.
    pub body: FileBody,
}

/// What the viewer shows of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileBody {
    /// UTF-8 text, cut at [`MAX_TEXT`] bytes.
    Text {
        /// The text.
        text: String,
        /// Whether it was cut.
        truncated: bool,
    },
    /// Real bytes that are not text.
    Binary,
    /// A simulated file: only its size and digest exist.
    SizeOnly {
        /// The content digest.
        digest: String,
    },
    /// A directory.
    Directory {
        /// How many entries it has in the merged view.
        children: usize,
    },
    /// A symlink.
    Symlink {
        /// Where it points.
        target: String,
    },
}

/// An image's or container's layers, labelled.
struct Target {
    kind: TargetKind,
    id: String,
    layers: Vec<Arc<Layer>>,
    labels: Vec<LayerLabel>,
    stack: Arc<LayerStack>,
}

fn resolve(engine: &Engine, name: &str) -> Result<Target, ViewError> {
    let (kind, id, image, upper, mounts) = if let Ok(i) = engine.find_container(name) {
        let c = &engine.state().containers[i];
        let image = engine.state().images.iter().find(|img| img.id == c.image);
        (
            TargetKind::Container,
            c.id.clone(),
            image,
            Some(c.upper.clone()),
            c.mounts.as_slice(),
        )
    } else if let Some(image) = engine.find_image(name) {
        (
            TargetKind::Image,
            image.id.to_string(),
            Some(image),
            None,
            &[][..],
        )
    } else {
        return Err(ViewError::NoSuchObject(name.to_owned()));
    };
    let (mut layers, mut stack) = match image {
        Some(i) => image_stack(engine, i, name)?,
        None => (Vec::new(), Arc::new(LayerStack::new())),
    };
    let mut labels: Vec<LayerLabel> = layers
        .iter()
        .enumerate()
        .map(|(index, l)| LayerLabel {
            index,
            instruction: String::new(),
            writable: false,
            size: l.size(),
            source: None,
            volume: false,
        })
        .collect();
    if let Some(image) = image {
        let sources = engine.state().provenance.sources.get(&image.id);
        let made_layers = image
            .config
            .history
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.empty_layer);
        for (label, (i, h)) in labels.iter_mut().zip(made_layers) {
            label.instruction = match h.created_by.as_deref() {
                Some(c) if !c.is_empty() => instruction(c),
                _ => h.comment.clone().unwrap_or_default(),
            };
            label.source = sources.and_then(|lines| lines.get(i).copied().flatten());
        }
    }
    if let Some(upper) = upper {
        labels.push(LayerLabel {
            index: layers.len(),
            instruction: "container layer".into(),
            writable: true,
            size: upper.size(),
            source: None,
            volume: false,
        });
        let upper = Arc::new(upper);
        Arc::make_mut(&mut stack)
            .push(Arc::clone(&upper))
            .map_err(|e| ViewError::Layers(name.to_owned(), e.to_string()))?;
        layers.push(upper);
    }
    let mut mounts: Vec<_> = mounts
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
        .collect();
    mounts.sort_by_key(|m| m.point());
    for m in mounts {
        let Some(volume) = engine.state().volumes.iter().find(|v| v.name == m.name) else {
            continue;
        };
        let layer = Arc::new(volume.as_mounted_layer(&m.point()));
        labels.push(LayerLabel {
            index: layers.len(),
            instruction: if volume.anonymous {
                format!("anonymous volume at {}", m.destination)
            } else {
                format!("volume {} at {}", volume.name, m.destination)
            },
            writable: false,
            size: layer.size(),
            source: None,
            volume: true,
        });
        Arc::make_mut(&mut stack)
            .push(Arc::clone(&layer))
            .map_err(|e| ViewError::Layers(name.to_owned(), e.to_string()))?;
        layers.push(layer);
    }
    Ok(Target {
        kind,
        id,
        layers,
        labels,
        stack,
    })
}

/// The file tree of `target` (an image or a container), only paths containing `filter`
/// (ASCII case-insensitive) if given.
pub fn view(engine: &Engine, target: &str, filter: Option<&str>) -> Result<FilesView, ViewError> {
    let t = resolve(engine, target)?;
    let needle = filter
        .map(str::to_ascii_lowercase)
        .filter(|f| !f.is_empty());
    let matches = |p: &str| {
        needle
            .as_deref()
            .is_none_or(|n| contains_ignore_case(&format!("/{p}"), n))
    };
    // Visible paths, and deleted ones (by path: the layer that deleted them).
    let visible: Vec<&str> = t
        .stack
        .paths()
        .map(|(p, _)| p)
        .filter(|p| matches(p))
        .collect();
    let deleted = deleted_paths(&t, &matches);
    let matched = visible.len() + deleted.len();
    let mut entries = Vec::new();
    let (mut vi, mut di) = (visible.iter().peekable(), deleted.iter().peekable());
    while entries.len() < MAX_ENTRIES {
        let take_visible = match (vi.peek(), di.peek()) {
            (Some(v), Some((d, _))) => **v <= d.as_str(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let entry = if take_visible {
            vi.next().and_then(|p| visible_entry(&t, p))
        } else {
            di.next()
                .map(|(p, (layer, e))| deleted_entry(&t, p, *layer, e))
        };
        entries.extend(entry);
    }
    Ok(FilesView {
        target: target.to_owned(),
        kind: t.kind,
        id: t.id,
        layers: t.labels,
        truncated: entries.len() < matched,
        entries,
        matched,
    })
}

fn contains_ignore_case(hay: &str, lower_needle: &str) -> bool {
    hay.to_ascii_lowercase().contains(lower_needle)
}

fn visible_entry(t: &Target, p: &str) -> Option<FileEntry> {
    let (layer, e) = t.stack.entry(p)?;
    Some(FileEntry {
        deleted: false,
        opaque: e.is_opaque(),
        ..describe(t, p, layer, e)
    })
}

fn deleted_entry(t: &Target, p: &str, layer: usize, was: &Entry) -> FileEntry {
    FileEntry {
        deleted: true,
        opaque: false,
        ..describe(t, p, layer, was)
    }
}

fn describe(t: &Target, p: &str, layer: usize, e: &Entry) -> FileEntry {
    FileEntry {
        path: fspath::display(p),
        file_type: e.file_type(),
        mode: e.meta.mode,
        ls_mode: format!(
            "{}{}",
            e.file_type().ls_char(),
            crate::sim::shell::mode_string(e.meta.mode)
        ),
        uid: e.meta.uid,
        gid: e.meta.gid,
        size: e.size(),
        link_target: match &e.kind {
            EntryKind::Symlink(target) => Some(target.clone()),
            _ => None,
        },
        layer,
        deleted: false,
        opaque: false,
        simulated: matches!(&e.kind, EntryKind::File(FileData::Simulated { .. })),
        marks: marks(&t.layers, p),
    }
}

/// Paths not in the merged view that a layer deleted — by a whiteout, or by an opaque
/// directory hiding what was below it — with the deleting layer and what was deleted (the
/// topmost lower entry). One pass over the layers' changes, not one per path.
fn deleted_paths(t: &Target, matches: &dyn Fn(&str) -> bool) -> BTreeMap<String, (usize, Entry)> {
    let mut out: BTreeMap<String, (usize, Entry)> = BTreeMap::new();
    for (j, layer) in t.layers.iter().enumerate() {
        for (p, change) in layer.iter() {
            let hidden: Vec<String> = match change {
                Change::Whiteout => vec![p.to_owned()],
                Change::Entry(e) if e.is_opaque() => t.layers[..j]
                    .iter()
                    .flat_map(|l| l.descendants(p))
                    .filter(|d| layer.get(d).is_none())
                    .collect(),
                _ => continue,
            };
            for h in hidden {
                if t.stack.entry(&h).is_some() || !matches(&h) {
                    continue;
                }
                // What it was: the topmost lower layer's entry.
                if let Some(was) = t.layers[..j].iter().rev().find_map(|l| l.entry(&h)) {
                    out.insert(h, (j, was.1.clone()));
                }
            }
        }
    }
    out
}

/// The change each layer makes at `p`, bottom first, as `docker diff` would list it for that
/// layer over the ones below.
fn marks(layers: &[Arc<Layer>], p: &str) -> Vec<LayerMark> {
    let mut out = Vec::new();
    let mut lower: Option<&Entry> = None;
    for (k, layer) in layers.iter().enumerate() {
        if layer.hides_below(p) {
            lower = None;
        }
        let kind = match layer.get(p) {
            None => continue,
            Some(Change::Whiteout) => {
                lower = None;
                ChangeKind::Deleted
            }
            Some(_) => {
                let Some((_, e)) = layer.entry(p) else {
                    continue;
                };
                let kind = match lower {
                    None => Some(ChangeKind::Added),
                    Some(l) if e.is_dir() && l.is_dir() && !e.is_opaque() => {
                        (e.meta.mode != l.meta.mode || e.meta.mtime != l.meta.mtime)
                            .then_some(ChangeKind::Changed)
                    }
                    Some(_) => Some(ChangeKind::Changed),
                };
                lower = Some(e);
                let Some(kind) = kind else { continue };
                kind
            }
        };
        out.push(LayerMark { layer: k, kind });
    }
    out
}

/// The contents of `path` in `target`, bounded to [`MAX_TEXT`] bytes of text.
pub fn content(engine: &Engine, target: &str, path: &str) -> Result<FileContent, ViewError> {
    let t = resolve(engine, target)?;
    let clean = fspath::clean_abs(path);
    let key = clean.trim_start_matches('/');
    let (layer, e) = if key.is_empty() {
        (0, None)
    } else {
        let (layer, e) = t
            .stack
            .entry(key)
            .ok_or_else(|| ViewError::NoSuchFile(clean.clone()))?;
        (layer, Some(e))
    };
    let body = match e.map(|e| &e.kind) {
        None | Some(EntryKind::Dir { .. }) => FileBody::Directory {
            children: t.stack.children(key).len(),
        },
        Some(EntryKind::Symlink(target)) => FileBody::Symlink {
            target: target.clone(),
        },
        Some(EntryKind::File(FileData::Simulated { digest, .. })) => FileBody::SizeOnly {
            digest: digest.to_string(),
        },
        Some(EntryKind::File(FileData::Bytes(bytes))) => text_body(bytes),
    };
    Ok(FileContent {
        target: target.to_owned(),
        path: clean,
        layer,
        file_type: e.map_or(FileType::Dir, Entry::file_type),
        size: e.map_or(0, Entry::size),
        body,
    })
}

/// Text if the first [`MAX_TEXT`] bytes are UTF-8 without NUL (a character cut at the bound
/// is dropped), else binary.
fn text_body(bytes: &[u8]) -> FileBody {
    let head = &bytes[..bytes.len().min(MAX_TEXT)];
    if head.contains(&0) {
        return FileBody::Binary;
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Only a character cut by the bound may be incomplete.
        Err(e) if e.error_len().is_none() && head.len() < bytes.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return FileBody::Binary,
    };
    FileBody::Text {
        text: text.to_owned(),
        truncated: text.len() < bytes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Meta;
    use crate::view::layers::tests::engine_with;

    fn file(s: &str) -> Entry {
        Entry::file(Meta::new(0o644, 0), s)
    }

    fn dir() -> Entry {
        Entry::dir(Meta::new(0o755, 0))
    }

    fn layers() -> Vec<Layer> {
        let mut l0 = Layer::new();
        l0.insert("etc", dir());
        l0.insert("etc/motd", file("hello\n"));
        l0.insert("etc/gone", file("x"));
        l0.insert("opt", dir());
        l0.insert("opt/old", file("o"));
        l0.insert("bin", dir());
        l0.insert("bin/sh", Entry::symlink(Meta::new(0, 0), "busybox"));
        let mut l1 = Layer::new();
        l1.insert("etc", dir());
        l1.insert("etc/motd", file("changed\n"));
        l1.insert_whiteout("etc/gone");
        let mut opaque = dir();
        opaque.kind = EntryKind::Dir { opaque: true };
        l1.insert("opt", opaque);
        l1.insert("opt/new", file("n"));
        vec![l0, l1]
    }

    #[test]
    fn the_tree_shows_origins_marks_and_deletions() {
        let engine = engine_with(layers(), &[("ADD rootfs /", false), ("RUN x", false)]);
        let v = view(&engine, "app", None).unwrap();
        assert_eq!(v.kind, TargetKind::Image);
        assert_eq!(v.layers[1].instruction, "RUN x");
        let shown: Vec<String> = v
            .entries
            .iter()
            .map(|e| {
                let marks: String = e.marks.iter().map(|m| m.kind.letter()).collect();
                format!(
                    "{}{} L{} {marks}",
                    if e.deleted { "-" } else { "" },
                    e.path,
                    e.layer
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "/bin L0 A",
                "/bin/sh L0 A",
                "/etc L1 A",
                "-/etc/gone L1 AD",
                "/etc/motd L1 AC",
                "/opt L1 AC",
                "/opt/new L1 A",
                "-/opt/old L1 A",
            ]
        );
        assert!(v.entries[5].opaque);
        assert_eq!(v.entries[0].ls_mode, "drwxr-xr-x");
        assert_eq!(v.entries[1].ls_mode, "lrwxrwxrwx");
        assert_eq!(v.entries[1].link_target.as_deref(), Some("busybox"));
        assert_eq!((v.matched, v.truncated), (8, false));

        let found = view(&engine, "app", Some("MOTD")).unwrap();
        assert_eq!(found.entries.len(), 1);
        assert_eq!(found.entries[0].path, "/etc/motd");
        assert!(matches!(
            view(&engine, "nothing", None),
            Err(ViewError::NoSuchObject(_))
        ));
    }

    #[test]
    fn contents_are_bounded_text_or_say_what_they_are() {
        let engine = engine_with(layers(), &[("A", false), ("B", false)]);
        let c = content(&engine, "app", "/etc/./motd").unwrap();
        assert_eq!((c.path.as_str(), c.layer, c.size), ("/etc/motd", 1, 8));
        assert_eq!(
            c.body,
            FileBody::Text {
                text: "changed\n".into(),
                truncated: false
            }
        );
        assert_eq!(
            content(&engine, "app", "/bin/sh").unwrap().body,
            FileBody::Symlink {
                target: "busybox".into()
            }
        );
        assert_eq!(
            content(&engine, "app", "/").unwrap().body,
            FileBody::Directory { children: 3 }
        );
        assert_eq!(
            content(&engine, "app", "/etc/gone")
                .unwrap_err()
                .to_string(),
            "`/etc/gone`: no such file or directory"
        );
        assert_eq!(text_body(b"a\0b"), FileBody::Binary);
        assert_eq!(text_body(&[0xff, 0xfe]), FileBody::Binary);
        let mut long = "é".repeat(MAX_TEXT / 2);
        long.insert(0, 'x');
        let FileBody::Text { text, truncated } = text_body(long.as_bytes()) else {
            panic!()
        };
        assert!(truncated);
        assert_eq!(text.len(), MAX_TEXT - 1, "the cut character is dropped");
    }
}
