//! A stack of read-only layers and the index of its merged view.

use std::collections::{BTreeMap, btree_map};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::layer::{Change, Entry, Layer};
use super::{FsError, path};

/// How a path differs from the layers below, in `docker diff` terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChangeKind {
    /// `A`: the path is new.
    Added,
    /// `C`: the path existed and was modified or replaced.
    Changed,
    /// `D`: the path was deleted.
    Deleted,
}

impl ChangeKind {
    /// The letter `docker diff` prints.
    pub fn letter(self) -> char {
        match self {
            Self::Added => 'A',
            Self::Changed => 'C',
            Self::Deleted => 'D',
        }
    }
}

/// One line of `docker diff`: a change kind and an absolute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PathChange {
    /// Added, changed or deleted.
    pub kind: ChangeKind,
    /// Absolute path (`/etc/passwd`).
    pub path: String,
}

impl fmt::Display for PathChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.letter(), self.path)
    }
}

/// Read-only layers, bottom first, with an index from each path of the merged view to the
/// topmost layer holding it. Looking a path up costs two map lookups however many layers
/// there are; pushing a layer costs the size of that layer.
#[derive(Clone, Default)]
pub struct LayerStack {
    layers: Vec<Arc<Layer>>,
    index: BTreeMap<String, u32>,
}

impl LayerStack {
    /// An empty stack (an empty root directory).
    pub fn new() -> Self {
        Self::default()
    }

    /// Stacks `layers`, bottom first.
    pub fn from_layers(layers: impl IntoIterator<Item = Arc<Layer>>) -> Result<Self, FsError> {
        let mut stack = Self::new();
        for layer in layers {
            stack.push(layer)?;
        }
        Ok(stack)
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Arc<Layer>] {
        &self.layers
    }

    /// How many layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// How many paths the merged view has (root excluded).
    pub fn path_count(&self) -> usize {
        self.index.len()
    }

    /// Puts `layer` on top, applying its whiteouts and opaque directories to the index.
    /// Fails if an entry's parent is not a directory in the merged view.
    pub fn push(&mut self, layer: impl Into<Arc<Layer>>) -> Result<(), FsError> {
        let layer = layer.into();
        let n = u32::try_from(self.layers.len())
            .map_err(|_| FsError::InvalidArgument("layer count".into()))?;
        let mut index = std::mem::take(&mut self.index);
        let result = apply(&mut index, &layer, n, |p, i| self.entry_in(&layer, p, i));
        match result {
            Ok(()) => {
                self.index = index;
                self.layers.push(layer);
                Ok(())
            }
            Err(e) => {
                // Rebuild what `apply` half-changed.
                self.index = Self::from_layers(self.layers.clone())
                    .map(|s| s.index)
                    .unwrap_or_default();
                Err(e)
            }
        }
    }

    fn entry_in<'a>(&'a self, top: &'a Layer, path: &'a str, layer: u32) -> Option<&'a Entry> {
        let l: &Layer = self.layers.get(layer as usize).map_or(top, |l| l);
        l.entry(path).map(|(_, e)| e)
    }

    /// The entry of the merged view at `path` (hard links followed) and the layer it comes from.
    pub fn entry(&self, path: &str) -> Option<(usize, &Entry)> {
        let &i = self.index.get(path)?;
        let i = i as usize;
        self.layers[i].entry(path).map(|(_, e)| (i, e))
    }

    /// The names directly inside `dir` in the merged view, in order.
    pub fn children(&self, dir: &str) -> Vec<&str> {
        path::children(&self.index, dir)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    /// Every path of the merged view, in order, with the layer it comes from.
    pub fn paths(&self) -> impl Iterator<Item = (&str, usize)> {
        self.index.iter().map(|(k, &v)| (k.as_str(), v as usize))
    }

    /// The changes of each layer against the layers below it, in `docker diff` terms.
    pub fn layer_changes(&self) -> Vec<Vec<PathChange>> {
        let mut below = Self::new();
        let mut out = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            out.push(changes(layer, &below));
            // The layer was already accepted once; pushing it again cannot fail.
            let _ = below.push(Arc::clone(layer));
        }
        out
    }
}

/// Applies `layer` (numbered `n`) to a merged-view `index`. `entry_at` reads an entry from a
/// layer by number (the new one included).
///
/// The layer's paths come sorted, so siblings follow each other: a parent found to be a
/// directory is not looked up again for the next sibling. Only a path that was a directory can
/// have descendants in the index (every entry's parent is a directory), so only replacing one
/// scans for a subtree to drop.
fn apply<'a>(
    index: &mut BTreeMap<String, u32>,
    layer: &'a Layer,
    n: u32,
    entry_at: impl Fn(&'a str, u32) -> Option<&'a Entry>,
) -> Result<(), FsError> {
    let mut known_dir: Option<&str> = None;
    let fresh = index.is_empty();
    let mut added: Vec<(String, u32)> = Vec::new();
    for (p, change) in layer.iter() {
        if p.is_empty() {
            continue;
        }
        let parent = path::parent(p);
        if !parent.is_empty() && known_dir != Some(parent) {
            let parent_is_dir = match layer.get(parent) {
                Some(Change::Entry(e)) => e.is_dir(),
                Some(_) => false,
                None => index
                    .get(parent)
                    .and_then(|&i| entry_at(parent, i))
                    .is_some_and(Entry::is_dir),
            };
            if parent_is_dir {
                known_dir = Some(parent);
            } else if !matches!(change, Change::Whiteout) {
                return Err(FsError::NotADirectory(path::display(parent)));
            }
        }
        if fresh {
            // Nothing below: the index is the layer's entries, in order (built in one go).
            if !matches!(change, Change::Whiteout) {
                added.push((p.to_owned(), n));
            }
            continue;
        }
        let (was_dir, replaces_subtree) = match change {
            Change::Whiteout => {
                let old = index.remove(p);
                (
                    old.and_then(|i| entry_at(p, i)).is_some_and(Entry::is_dir),
                    true,
                )
            }
            Change::Entry(_) | Change::HardLink(_) => {
                let was_dir = match index.entry(p.to_owned()) {
                    btree_map::Entry::Vacant(slot) => {
                        slot.insert(n);
                        false
                    }
                    btree_map::Entry::Occupied(mut slot) => {
                        let old = std::mem::replace(slot.get_mut(), n);
                        entry_at(p, old).is_some_and(Entry::is_dir)
                    }
                };
                let replaces = match change {
                    Change::Entry(e) => e.is_opaque() || !e.is_dir() || !was_dir,
                    _ => true,
                };
                (was_dir, replaces)
            }
        };
        if replaces_subtree && was_dir {
            let doomed: Vec<String> = path::descendants(index, p)
                .filter(|&(_, &i)| i != n)
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                index.remove(&k);
            }
        }
    }
    if fresh {
        *index = added.into_iter().collect();
    }
    Ok(())
}

/// The changes `layer` makes over `below`, in `docker diff` terms and path order.
///
/// A directory that is in both with the same mode and mtime is not listed (docker skips
/// directories that were only copied up as parents). Paths below an opaque directory or a
/// whiteout count as new.
pub fn changes(layer: &Layer, below: &LayerStack) -> Vec<PathChange> {
    let mut out = Vec::new();
    for (p, change) in layer.iter() {
        if p.is_empty() {
            continue;
        }
        let lower = if layer.hides_below(p) {
            None
        } else {
            below.entry(p).map(|(_, e)| e)
        };
        let kind = match (change, lower) {
            (Change::Whiteout, _) => ChangeKind::Deleted,
            (_, None) => ChangeKind::Added,
            (Change::Entry(e), Some(l)) if e.is_dir() && l.is_dir() && !e.is_opaque() => {
                if e.meta.mode == l.meta.mode && e.meta.mtime == l.meta.mtime {
                    continue;
                }
                ChangeKind::Changed
            }
            (_, Some(_)) => ChangeKind::Changed,
        };
        out.push(PathChange {
            kind,
            path: path::display(p),
        });
    }
    out
}

impl fmt::Debug for LayerStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerStack")
            .field("layers", &self.layers.len())
            .field("paths", &self.index.len())
            .finish()
    }
}

impl PartialEq for LayerStack {
    fn eq(&self, other: &Self) -> bool {
        self.layers == other.layers
    }
}

impl Serialize for LayerStack {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.layers.serialize(s)
    }
}

impl<'de> Deserialize<'de> for LayerStack {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let layers = Vec::<Arc<Layer>>::deserialize(d)?;
        Self::from_layers(layers).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Meta;

    fn dir() -> Entry {
        Entry::dir(Meta::new(0o755, 0))
    }

    fn file(s: &str) -> Entry {
        Entry::file(Meta::new(0o644, 0), s)
    }

    #[test]
    fn index_applies_whiteouts_opaque_dirs_and_replacements() {
        let mut l0 = Layer::new();
        l0.insert("a", dir());
        l0.insert("a/x", file("x"));
        l0.insert("a/y", file("y"));
        l0.insert("b", dir());
        l0.insert("b/z", file("z"));
        l0.insert("c", dir());
        l0.insert("c/w", file("w"));
        let mut l1 = Layer::new();
        l1.insert("a", dir());
        l1.insert_whiteout("a/x");
        let mut opaque = dir();
        opaque.kind = crate::fs::EntryKind::Dir { opaque: true };
        l1.insert("b", opaque);
        l1.insert("b/new", file("n"));
        l1.insert("c", file("now a file"));
        let stack = LayerStack::from_layers([Arc::new(l0), Arc::new(l1)]).unwrap();
        let paths: Vec<_> = stack.paths().collect();
        assert_eq!(
            paths,
            [("a", 1), ("a/y", 0), ("b", 1), ("b/new", 1), ("c", 1)]
        );
        assert_eq!(stack.children("a"), ["y"]);
        assert_eq!(stack.entry("a/y").map(|(i, e)| (i, e.size())), Some((0, 1)));
        let listed: Vec<Vec<String>> = stack
            .layer_changes()
            .iter()
            .map(|cs| cs.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(listed[1], ["D /a/x", "C /b", "A /b/new", "C /c"]);
        assert_eq!(listed[0].len(), 7);
    }

    #[test]
    fn an_index_built_in_one_go_equals_one_built_entry_by_entry() {
        // The first layer onto an empty stack is indexed in one go; the same layer over an
        // empty one goes entry by entry. Then a layer replacing a directory with a file and
        // deleting another directory drops their subtrees either way.
        let mut l0 = Layer::new();
        for p in ["a", "a/b", "a/b/c", "a-x", "a.y", "d", "d/e", "d/e/f"] {
            l0.insert(p, dir());
        }
        for p in ["a/b/c/f1", "a/b-z", "a/b0", "a-x/g", "d/e/f/h", "top"] {
            l0.insert(p, file(p));
        }
        l0.insert_whiteout("gone");
        let mut l1 = Layer::new();
        l1.insert("a", dir());
        l1.insert("a/b", file("now a file"));
        l1.insert_whiteout("d/e");
        l1.insert("d/new", file("n"));
        let fresh = LayerStack::from_layers([Arc::new(l0.clone()), Arc::new(l1.clone())]);
        let stepwise =
            LayerStack::from_layers([Arc::new(Layer::new()), Arc::new(l0), Arc::new(l1)]);
        let paths = |s: &LayerStack, shift: usize| -> Vec<(String, usize)> {
            s.paths().map(|(p, i)| (p.to_owned(), i - shift)).collect()
        };
        let (fresh, stepwise) = (fresh.unwrap(), stepwise.unwrap());
        assert_eq!(paths(&fresh, 0), paths(&stepwise, 1));
        let names: Vec<String> = paths(&fresh, 0).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            names,
            [
                "a", "a-x", "a-x/g", "a.y", "a/b", "a/b-z", "a/b0", "d", "d/new", "top"
            ]
        );
    }

    #[test]
    fn push_rejects_entries_under_non_directories() {
        let mut l0 = Layer::new();
        l0.insert("f", file("x"));
        let mut l1 = Layer::new();
        l1.insert("f/inner", file("y"));
        let mut stack = LayerStack::from_layers([Arc::new(l0)]).unwrap();
        assert_eq!(
            stack.push(l1).unwrap_err().to_string(),
            "`/f`: not a directory"
        );
        assert_eq!(stack.len(), 1);
        assert_eq!(stack.path_count(), 1);
    }

    #[test]
    fn serialises_as_its_layers_and_rebuilds_the_index() {
        let mut l0 = Layer::new();
        l0.insert("a", file("x"));
        let stack = LayerStack::from_layers([Arc::new(l0)]).unwrap();
        let json = serde_json::to_string(&stack).unwrap();
        let back: LayerStack = serde_json::from_str(&json).unwrap();
        assert_eq!(back, stack);
        assert!(back.entry("a").is_some());
    }
}
