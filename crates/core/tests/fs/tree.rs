//! Trees as the differential tests compare them: from a simulated layer or read from disk.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use layerbox_core::fs::{Change, EntryKind, Layer};

/// What the comparison looks at for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
        opaque: bool,
    },
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        content: Vec<u8>,
        link_group: Option<String>,
    },
    Symlink {
        uid: u32,
        gid: u32,
        target: String,
    },
    Whiteout,
}

/// A layer's changes, hard links grouped under their first name.
pub(crate) fn layer_tree(layer: &Layer) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    for (p, change) in layer.iter() {
        if p.is_empty() {
            continue;
        }
        let node = match change {
            Change::Whiteout => Node::Whiteout,
            Change::Entry(_) | Change::HardLink(_) => {
                let (primary, e) = layer.entry(p).unwrap();
                let m = e.meta;
                match &e.kind {
                    EntryKind::Dir { opaque } => Node::Dir {
                        mode: m.mode,
                        uid: m.uid,
                        gid: m.gid,
                        opaque: *opaque,
                    },
                    EntryKind::Symlink(t) => Node::Symlink {
                        uid: m.uid,
                        gid: m.gid,
                        target: t.clone(),
                    },
                    EntryKind::File(d) => {
                        let names: Vec<&str> = std::iter::once(primary)
                            .chain(layer.links_to(primary))
                            .collect();
                        let link_group =
                            (names.len() > 1).then(|| (*names.iter().min().unwrap()).to_owned());
                        Node::File {
                            mode: m.mode,
                            uid: m.uid,
                            gid: m.gid,
                            content: d.bytes().unwrap().to_vec(),
                            link_group,
                        }
                    }
                }
            }
        };
        out.insert(p.to_owned(), node);
    }
    out
}

/// How to read a tree from disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiskView {
    /// A merged overlay mount: hard links are not grouped (copy-up splits them).
    Merged,
    /// An overlay upper directory: 0/0 character devices are whiteouts, the opaque xattr
    /// marks opaque directories, hard links are grouped.
    OverlayUpper,
    /// A plain directory: hard links are grouped.
    Plain,
}

/// Reads a directory tree from disk.
pub(crate) fn disk_tree(root: &Path, view: DiskView) -> BTreeMap<String, Node> {
    let overlay_upper = view == DiskView::OverlayUpper;
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(root.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let rel_child = rel.join(entry.file_name());
            let key = rel_child.to_str().unwrap().to_owned();
            let full = root.join(&rel_child);
            let m = fs::symlink_metadata(&full).unwrap();
            let ft = m.file_type();
            let node = if ft.is_dir() {
                stack.push(rel_child);
                let opaque = overlay_upper
                    && xattr::get(&full, "trusted.overlay.opaque")
                        .ok()
                        .flatten()
                        .as_deref()
                        == Some(b"y".as_slice());
                Node::Dir {
                    mode: m.mode() & 0o7777,
                    uid: m.uid(),
                    gid: m.gid(),
                    opaque,
                }
            } else if ft.is_symlink() {
                Node::Symlink {
                    uid: m.uid(),
                    gid: m.gid(),
                    target: fs::read_link(&full).unwrap().to_str().unwrap().to_owned(),
                }
            } else if ft.is_char_device() && m.rdev() == 0 && overlay_upper {
                Node::Whiteout
            } else {
                if view != DiskView::Merged && m.nlink() > 1 {
                    inodes.entry(m.ino()).or_default().push(key.clone());
                }
                Node::File {
                    mode: m.mode() & 0o7777,
                    uid: m.uid(),
                    gid: m.gid(),
                    content: fs::read(&full).unwrap(),
                    link_group: None,
                }
            };
            out.insert(key, node);
        }
    }
    for names in inodes.values().filter(|n| n.len() > 1) {
        let first = names.iter().min().unwrap().clone();
        for n in names {
            if let Some(Node::File { link_group, .. }) = out.get_mut(n) {
                *link_group = Some(first.clone());
            }
        }
    }
    out
}

/// The paths where two trees differ, one block per path.
pub(crate) fn describe_diff(a: &BTreeMap<String, Node>, b: &BTreeMap<String, Node>) -> String {
    let mut lines = Vec::new();
    for k in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        if a.get(k) != b.get(k) {
            lines.push(format!(
                "  {k}:\n    sim:    {:?}\n    kernel: {:?}",
                a.get(k),
                b.get(k)
            ));
        }
    }
    lines.join("\n")
}
