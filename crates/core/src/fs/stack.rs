//! A stack of read-only layers and the index of its merged view.

use std::cmp::Ordering;
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
/// topmost layer holding it. Looking a path up costs a binary search and a map lookup however
/// many layers there are; pushing a layer merges it into the index in one pass.
#[derive(Clone, Default)]
pub struct LayerStack {
    layers: Vec<Arc<Layer>>,
    /// Every path of the merged view, sorted, with the layer it comes from (and [`DIR`] set
    /// when the entry there is a directory). The paths are the layers' own keys (`Arc<str>`):
    /// no path is allocated twice, a copy of the index copies none.
    index: Vec<(Arc<str>, u32)>,
    /// The previous index's emptied buffer, which the next push merges into: pushing a layer
    /// allocates nothing once the buffers are large enough.
    spare: Vec<(Arc<str>, u32)>,
}

/// The bit of an index value marking a directory; the other bits number the layer.
const DIR: u32 = 1 << 31;

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
            .ok()
            .filter(|&n| n < DIR)
            .ok_or_else(|| FsError::InvalidArgument("layer count".into()))?;
        let layers = &self.layers;
        let entry_at = |p: &str, i: u32| -> Option<&Entry> {
            let l: &Layer = layers.get(i as usize).map_or(&layer, |l| l);
            l.entry(p).map(|(_, e)| e)
        };
        let mut out = std::mem::take(&mut self.spare);
        match merge(&mut self.index, &mut out, &layer, n, entry_at) {
            Ok(()) => {
                self.spare = std::mem::replace(&mut self.index, out);
                self.layers.push(layer);
                Ok(())
            }
            Err(e) => {
                // The merge took the old index apart: rebuild it.
                self.index = Self::from_layers(self.layers.clone())
                    .map(|s| s.index)
                    .unwrap_or_default();
                Err(e)
            }
        }
    }

    /// The layer the index gives for `path`.
    fn layer_of(&self, path: &str) -> Option<u32> {
        search(&self.index, path)
            .ok()
            .map(|i| self.index[i].1 & !DIR)
    }

    /// Whether the merged view has `path` and it is a directory (`None`: nothing there),
    /// searching on from `cursor`, where the previous call left it: the sorted names of an
    /// unpack cost a few comparisons each this way, not a binary search of the whole index.
    pub(crate) fn dir_at(&self, path: &str, cursor: &mut usize) -> Option<bool> {
        let start = (*cursor).min(self.index.len());
        // Not after the previous path: search from the start.
        let from = match start.checked_sub(1).map(|i| &*self.index[i].0) {
            Some(before) if path::compare(before, path) != Ordering::Less => 0,
            _ => start,
        };
        let at = from + run_below(&self.index[from..], path);
        *cursor = at;
        let (key, value) = self.index.get(at)?;
        (**key == *path).then_some(value & DIR != 0)
    }

    /// The entry of the merged view at `path` (hard links followed) and the layer it comes from.
    pub fn entry(&self, path: &str) -> Option<(usize, &Entry)> {
        let i = self.layer_of(path)? as usize;
        self.layers[i].entry(path).map(|(_, e)| (i, e))
    }

    /// The names directly inside `dir` in the merged view, in order.
    pub fn children(&self, dir: &str) -> Vec<&str> {
        path::sorted_children(&self.index, dir)
    }

    /// Every path of the merged view, in order, with the layer it comes from.
    pub fn paths(&self) -> impl Iterator<Item = (&str, usize)> {
        self.index.iter().map(|(k, v)| (&**k, (v & !DIR) as usize))
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

/// Binary search of a sorted index for `path`.
fn search(index: &[(Arc<str>, u32)], path: &str) -> Result<usize, usize> {
    index.binary_search_by(|(k, _)| path::compare(k, path))
}

/// The index with `layer` (numbered `n`) applied to `old`: both are sorted, so they are merged
/// in one pass, moving the old entries over (the paths are shared, not copied). `entry_at` reads
/// an entry from a layer by number (the new one included).
///
/// Each of the layer's paths replaces the same path below; a whiteout removes it. A directory
/// below that is deleted, or replaced by a non-directory or an opaque directory, takes its
/// subtree with it (the layer's own paths under it stay): its descendants come after it in
/// path order, so they are left out as the merge reaches them. Every entry's parent must be a
/// directory: in the layer, or in the merged index so far (which holds what is left below it).
/// The layer's paths come sorted, so siblings follow each other and a parent found to be a
/// directory is not looked up again for the next sibling.
fn merge<'a>(
    old: &mut Vec<(Arc<str>, u32)>,
    out: &mut Vec<(Arc<str>, u32)>,
    layer: &'a Layer,
    n: u32,
    entry_at: impl Fn(&str, u32) -> Option<&'a Entry>,
) -> Result<(), FsError> {
    // Paths whose lower subtree the layer takes away, in order.
    let mut dropped: Vec<&str> = Vec::new();
    let under_dropped = |dropped: &[&str], p: &str| {
        !dropped.is_empty() && path::ancestors(p).any(|a| dropped.binary_search(&a).is_ok())
    };
    let mut known_dir: Option<&str> = None;
    out.clear();
    out.reserve(old.len() + layer.len());
    let mut old = old.drain(..);
    for (key, change) in layer.iter_shared() {
        let p: &str = key;
        if p.is_empty() {
            continue;
        }
        // The old entries before `p` move over as a run, found by galloping: a small layer
        // pushed on a large index costs a few comparisons per entry, not one per old path.
        let run = run_below(old.as_slice(), p);
        let moved = old.by_ref().take(run);
        if dropped.is_empty() {
            out.extend(moved);
        } else {
            out.extend(moved.filter(|(k, _)| !under_dropped(&dropped, k)));
        }
        let parent = path::parent(p);
        if !parent.is_empty() && known_dir != Some(parent) {
            let parent_is_dir = match layer.get(parent) {
                Some(Change::Entry(e)) => e.is_dir(),
                Some(_) => false,
                // Not in the layer: the merged index so far has it as it was below, unless
                // the layer took it away.
                None => search(out, parent)
                    .ok()
                    .and_then(|i| entry_at(parent, out[i].1 & !DIR))
                    .is_some_and(Entry::is_dir),
            };
            if parent_is_dir {
                known_dir = Some(parent);
            } else if !matches!(change, Change::Whiteout) {
                return Err(FsError::NotADirectory(path::display(parent)));
            }
        }
        let below = if old.as_slice().first().is_some_and(|(k, _)| **k == *p) {
            old.next()
                .map(|(_, i)| i & !DIR)
                .filter(|_| !under_dropped(&dropped, p))
        } else {
            None
        };
        let replaces = match change {
            Change::Whiteout | Change::HardLink(_) => true,
            Change::Entry(e) => e.is_opaque() || !e.is_dir(),
        };
        if replaces
            && below
                .and_then(|i| entry_at(p, i))
                .is_some_and(Entry::is_dir)
        {
            dropped.push(p);
        }
        match change {
            Change::Whiteout => {}
            Change::Entry(e) if e.is_dir() => out.push((Arc::clone(key), n | DIR)),
            _ => out.push((Arc::clone(key), n)),
        }
    }
    if dropped.is_empty() {
        out.extend(old);
    } else {
        out.extend(old.filter(|(k, _)| !under_dropped(&dropped, k)));
    }
    Ok(())
}

/// How many of the sorted `entries` come before `p`: an exponential search from the start,
/// then a binary search in the last step, so a short run costs few comparisons.
fn run_below(entries: &[(Arc<str>, u32)], p: &str) -> usize {
    let mut hi = 1;
    let below = |k: &str| path::compare(k, p) == Ordering::Less;
    while hi <= entries.len() && below(&entries[hi - 1].0) {
        hi *= 2;
    }
    let lo = hi / 2;
    let hi = hi.min(entries.len());
    lo + entries[lo..hi].partition_point(|(k, _)| below(k))
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
            .finish_non_exhaustive()
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

    /// The index as the stack kept it before the merge: a map changed entry by entry.
    fn reference_index(
        layers: &[Layer],
    ) -> Result<std::collections::BTreeMap<String, usize>, FsError> {
        let mut index = std::collections::BTreeMap::<String, usize>::new();
        for (n, layer) in layers.iter().enumerate() {
            let entry_at = |p: &str, i: usize| layers[..=n][i].entry(p).map(|(_, e)| e.clone());
            for (p, change) in layer.iter() {
                if p.is_empty() {
                    continue;
                }
                let parent = path::parent(p);
                if !parent.is_empty() {
                    let parent_is_dir = match layer.get(parent) {
                        Some(Change::Entry(e)) => e.is_dir(),
                        Some(_) => false,
                        None => index
                            .get(parent)
                            .and_then(|&i| entry_at(parent, i))
                            .is_some_and(|e| e.is_dir()),
                    };
                    if !parent_is_dir && !matches!(change, Change::Whiteout) {
                        return Err(FsError::NotADirectory(path::display(parent)));
                    }
                }
                let old = match change {
                    Change::Whiteout => index.remove(p),
                    _ => index.insert(p.to_owned(), n),
                };
                let was_dir = old.and_then(|i| entry_at(p, i)).is_some_and(|e| e.is_dir());
                let replaces = match change {
                    Change::Entry(e) => e.is_opaque() || !e.is_dir(),
                    _ => true,
                };
                if replaces && was_dir {
                    let prefix = format!("{p}/");
                    index.retain(|k, &mut i| !k.starts_with(&prefix) || i == n);
                }
            }
        }
        Ok(index)
    }

    #[test]
    fn the_merged_index_equals_one_changed_entry_by_entry() {
        // Generated layers over names that sort around `/` (`a-b`, `a.c`, `a/b`), with
        // whiteouts, opaque directories and directories replaced by files or links.
        let names = ["a", "a-b", "a.c", "b", "a0"];
        let mut seed: u64 = 0x5eed;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap_or(0) % m
        };
        let mut checked = 0;
        for _ in 0..1000 {
            let mut layers = Vec::new();
            for _ in 0..=next(4) {
                let mut l = Layer::new();
                for _ in 0..=next(12) {
                    let depth = 1 + next(3);
                    let parts: Vec<&str> = (0..depth).map(|_| names[next(5)]).collect();
                    let p = parts.join("/");
                    for a in path::ancestors(&p) {
                        if next(8) > 0 {
                            l.insert(a, dir());
                        }
                    }
                    match next(6) {
                        0 => l.insert_whiteout(p),
                        1 => {
                            let mut opaque = dir();
                            opaque.kind = crate::fs::EntryKind::Dir { opaque: true };
                            l.insert(p, opaque);
                        }
                        2 | 3 => l.insert(p, dir()),
                        4 => l.insert(p.clone(), file(&p)),
                        _ => l.insert(p, Entry::symlink(Meta::new(0, 0), "x")),
                    }
                }
                layers.push(l);
            }
            let expected = reference_index(&layers);
            let got = LayerStack::from_layers(layers.iter().cloned().map(Arc::new));
            match (expected, got) {
                (Ok(expected), Ok(got)) => {
                    let got: Vec<(String, usize)> =
                        got.paths().map(|(p, i)| (p.to_owned(), i)).collect();
                    let expected: Vec<(String, usize)> = expected.into_iter().collect();
                    assert_eq!(got, expected, "{layers:?}");
                    checked += 1;
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} vs {b:?} for {layers:?}"),
            }
        }
        assert!(checked > 200, "{checked}");
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
