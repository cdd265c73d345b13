//! The layer stack of an image, bottom to top: each history entry with its instruction, its
//! layer's size, digest and changes, the build cache outcome, and the **wasted bytes**.
//!
//! A file version is *wasted* when a later layer overwrites it (puts another entry at its path,
//! or replaces a directory above it) or deletes it (a whiteout at its path or above it, or an
//! opaque directory above it): its bytes stay in the image's layers, pulled and stored, but no
//! container can see them. The **efficiency score** is `1 − wasted / total`, where `total` is
//! the sum of the layers' sizes (the image size docker reports) and `wasted` the sum of the
//! sizes of wasted file versions; an image with no bytes scores 1. (dive's score differs
//! slightly: it divides the smallest size of each path by all its sizes.)
//!
//! The merged view's index ([`LayerStack`]) says which layer each visible path comes from, so
//! finding the wasted entries costs one lookup per entry; only wasted entries look at the
//! layers above them to find the one that removed them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ViewError, find_image, instruction};
use crate::build::CacheOutcome;
use crate::dockerfile::SourceLines;
use crate::engine::Engine;
use crate::fs::{Change, ChangeKind, Layer, LayerStack, PathChange, changes};
use crate::image::Digest;

/// The most wasted files a view lists one by one (largest first); all are counted.
pub const MAX_WASTED_FILES: usize = 500;

/// The layer stack of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayersView {
    /// The image ID.
    pub image: Digest,
    /// The references naming it, as docker shows them (`my-app:latest`).
    pub tags: Vec<String>,
    /// Every history entry, bottom to top; those with a layer carry its figures.
    pub steps: Vec<LayerStep>,
    /// How many layers the image has.
    pub layer_count: usize,
    /// Bytes of all layers (the image size).
    pub total_bytes: u64,
    /// Bytes of file versions a later layer overwrote or deleted.
    pub wasted_bytes: u64,
    /// `1 − wasted / total` (1 for an empty image).
    pub efficiency: f64,
    /// Wasted bytes by the layer that made them and the layer that removed them, largest first.
    pub wasted: Vec<WastedGroup>,
    /// The wasted files, largest first, at most [`MAX_WASTED_FILES`].
    pub wasted_files: Vec<WastedFile>,
    /// How many wasted files there are in all.
    pub wasted_file_count: usize,
}

/// One history entry of an image and, unless it is an `empty_layer` entry, its layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerStep {
    /// Index in the image's history.
    pub history: usize,
    /// Index of its layer among the image's layers (0 = bottom); `None` for config-only steps.
    pub layer: Option<usize>,
    /// The history's `created_by`, in full.
    pub created_by: String,
    /// The instruction shortened for display ([`super::instruction`]).
    pub instruction: String,
    /// Whether the step only changed the config.
    pub empty_layer: bool,
    /// The layer's size as docker reports it.
    pub size: u64,
    /// The layer's diff_id.
    pub diff_id: Option<Digest>,
    /// Paths the layer adds.
    pub added: usize,
    /// Paths the layer changes.
    pub changed: usize,
    /// Paths the layer deletes.
    pub deleted: usize,
    /// The layer's changes, when asked for (`image layers -v`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PathChange>,
    /// Whether the last build took this layer from its cache, and why (`None` when the engine
    /// did not build it: a base image's layer, an import, a commit).
    pub cache: Option<CacheOutcome>,
    /// Bytes of this layer that later layers overwrite or delete.
    pub wasted_bytes: u64,
    /// The Dockerfile lines of the instruction that made this step in the last build (`None`
    /// when the engine did not build the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLines>,
}

/// How a later layer made a file version invisible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Removal {
    /// A whiteout (or an opaque directory) deleted it.
    Deleted,
    /// Another entry took its path (or a directory above it was replaced).
    Overwritten,
}

/// A file version that is in a layer but hidden by a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedFile {
    /// Absolute path.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// The layer holding it.
    pub layer: usize,
    /// The instruction that created it.
    pub created_by: String,
    /// The layer that removed it.
    pub removed_in: usize,
    /// The instruction that removed it.
    pub removed_by: String,
    /// Deleted or overwritten.
    pub removal: Removal,
}

/// Wasted bytes made by one layer and removed by another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WastedGroup {
    /// The layer holding the bytes.
    pub layer: usize,
    /// Its instruction.
    pub created_by: String,
    /// The layer that removed them.
    pub removed_in: usize,
    /// Its instruction.
    pub removed_by: String,
    /// How many files.
    pub files: usize,
    /// How many bytes.
    pub bytes: u64,
}

std::thread_local! {
    /// The layers views computed last, by image ID (an image's layers never change; its tags
    /// and cache outcomes are filled in again on every answer).
    static VIEWS: std::cell::RefCell<Vec<LayersView>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How many layers views are kept.
const CACHED_VIEWS: usize = 4;

/// The layers view of the image `name`; `with_changes` lists each layer's changes.
pub fn view(engine: &Engine, name: &str, with_changes: bool) -> Result<LayersView, ViewError> {
    let image = find_image(engine, name)?;
    let complete = engine.image_layers(image).len() == image.config.rootfs.diff_ids.len();
    let cached = VIEWS.with(|c| c.borrow().iter().find(|v| v.image == image.id).cloned());
    let mut v = match cached {
        Some(v) if !with_changes && complete => v,
        _ => {
            let v = compute(engine, image, name, with_changes)?;
            if !with_changes && complete {
                VIEWS.with(|c| {
                    let mut c = c.borrow_mut();
                    c.retain(|old| old.image != v.image);
                    c.insert(0, v.clone());
                    c.truncate(CACHED_VIEWS);
                });
            }
            v
        }
    };
    v.tags = image
        .repo_tags
        .iter()
        .map(crate::image::Reference::familiar)
        .collect();
    let cache = engine.state().provenance.builds.get(&image.id);
    let sources = engine.state().provenance.sources.get(&image.id);
    for s in &mut v.steps {
        s.cache = s
            .layer
            .and_then(|l| cache.and_then(|c| c.get(l).cloned().flatten()));
        s.source = sources.and_then(|lines| lines.get(s.history).copied().flatten());
    }
    Ok(v)
}

fn compute(
    engine: &Engine,
    image: &crate::engine::Image,
    name: &str,
    with_changes: bool,
) -> Result<LayersView, ViewError> {
    let layers = engine.image_layers(image);
    let diff_ids = &image.config.rootfs.diff_ids;

    // Each layer's changes against the ones below, building the merged index as we go.
    let mut merged = LayerStack::new();
    let mut per_layer = Vec::with_capacity(layers.len());
    for layer in &layers {
        per_layer.push(changes(layer, &merged));
        merged
            .push(Arc::clone(layer))
            .map_err(|e| ViewError::Layers(name.to_owned(), e.to_string()))?;
    }

    // The history entries, each non-empty one taking the next layer.
    let mut steps = Vec::new();
    let mut next_layer = 0;
    for (h, entry) in image.config.history.iter().enumerate() {
        let layer = (!entry.empty_layer && next_layer < layers.len()).then(|| {
            next_layer += 1;
            next_layer - 1
        });
        let created_by = entry.created_by.clone().unwrap_or_default();
        let shown = if created_by.is_empty() {
            entry.comment.clone().unwrap_or_default()
        } else {
            instruction(&created_by)
        };
        steps.push(step(h, layer, created_by, shown, entry.empty_layer));
    }
    // Layers without a history entry (an image imported without one).
    while next_layer < layers.len() {
        steps.push(step(
            steps.len(),
            Some(next_layer),
            String::new(),
            String::new(),
            false,
        ));
        next_layer += 1;
    }
    let label: Vec<String> = {
        let mut label = vec![String::new(); layers.len()];
        for s in &steps {
            if let Some(l) = s.layer {
                label[l].clone_from(&s.instruction);
            }
        }
        label
    };
    for s in &mut steps {
        let Some(l) = s.layer else { continue };
        s.size = layers[l].size();
        s.diff_id = diff_ids.get(l).copied();
        for c in &per_layer[l] {
            match c.kind {
                ChangeKind::Added => s.added += 1,
                ChangeKind::Changed => s.changed += 1,
                ChangeKind::Deleted => s.deleted += 1,
            }
        }
        if with_changes {
            s.changes = std::mem::take(&mut per_layer[l]);
        }
    }

    let mut files = wasted_files(&layers, &merged, &label);
    let mut groups: BTreeMap<(usize, usize), WastedGroup> = BTreeMap::new();
    let mut per_layer_wasted = vec![0u64; layers.len()];
    for f in &files {
        per_layer_wasted[f.layer] += f.bytes;
        let g = groups
            .entry((f.layer, f.removed_in))
            .or_insert_with(|| WastedGroup {
                layer: f.layer,
                created_by: f.created_by.clone(),
                removed_in: f.removed_in,
                removed_by: f.removed_by.clone(),
                files: 0,
                bytes: 0,
            });
        g.files += 1;
        g.bytes += f.bytes;
    }
    for s in &mut steps {
        if let Some(l) = s.layer {
            s.wasted_bytes = per_layer_wasted[l];
        }
    }
    let mut wasted: Vec<WastedGroup> = groups.into_values().collect();
    wasted.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.layer.cmp(&b.layer)));
    let wasted_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let total_bytes: u64 = layers.iter().map(|l| l.size()).sum();
    let wasted_file_count = files.len();
    files.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    files.truncate(MAX_WASTED_FILES);
    Ok(LayersView {
        image: image.id,
        tags: Vec::new(),
        steps,
        layer_count: layers.len(),
        total_bytes,
        wasted_bytes,
        efficiency: efficiency(wasted_bytes, total_bytes),
        wasted,
        wasted_files: files,
        wasted_file_count,
    })
}

fn step(
    history: usize,
    layer: Option<usize>,
    created_by: String,
    instruction: String,
    empty_layer: bool,
) -> LayerStep {
    LayerStep {
        history,
        layer,
        created_by,
        instruction,
        empty_layer,
        size: 0,
        diff_id: None,
        added: 0,
        changed: 0,
        deleted: 0,
        changes: Vec::new(),
        cache: None,
        wasted_bytes: 0,
        source: None,
    }
}

/// `1 − wasted / total`, 1 when there are no bytes.
pub fn efficiency(wasted: u64, total: u64) -> f64 {
    if total == 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)] // a ratio; 2^53 bytes is far beyond any image
    let ratio = wasted as f64 / total as f64;
    1.0 - ratio
}

/// Every file version (regular file or symlink with bytes) of `layers` that the merged view
/// does not show from its own layer, with the layer that removed it.
fn wasted_files(layers: &[Arc<Layer>], merged: &LayerStack, label: &[String]) -> Vec<WastedFile> {
    let mut out = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        for (p, change) in layer.iter() {
            let Change::Entry(e) = change else { continue };
            let bytes = e.size();
            if bytes == 0 || e.is_dir() {
                continue;
            }
            if merged.entry(p).is_some_and(|(from, _)| from == i) {
                continue;
            }
            let Some((removed_in, removal)) = remover(layers, i, p) else {
                continue;
            };
            out.push(WastedFile {
                path: format!("/{p}"),
                bytes,
                layer: i,
                created_by: label[i].clone(),
                removed_in,
                removed_by: label[removed_in].clone(),
                removal,
            });
        }
    }
    out
}

/// The first layer above `below` that removes `path`, and how.
fn remover(layers: &[Arc<Layer>], below: usize, path: &str) -> Option<(usize, Removal)> {
    for (j, layer) in layers.iter().enumerate().skip(below + 1) {
        // An ancestor first: a whiteout or an opaque directory above deletes, a file replacing
        // a directory overwrites.
        for a in crate::fs::path::ancestors(path) {
            match layer.get(a) {
                Some(Change::Whiteout) => return Some((j, Removal::Deleted)),
                Some(Change::Entry(e)) if e.is_opaque() => return Some((j, Removal::Deleted)),
                Some(Change::Entry(e)) if !e.is_dir() => return Some((j, Removal::Overwritten)),
                Some(Change::HardLink(_)) => return Some((j, Removal::Overwritten)),
                _ => {}
            }
        }
        match layer.get(path) {
            Some(Change::Whiteout) => return Some((j, Removal::Deleted)),
            Some(_) => return Some((j, Removal::Overwritten)),
            None => {}
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::{EngineState, Image};
    use crate::fs::{Entry, Meta};
    use crate::image::{History, ImageConfig, Reference};

    fn file(s: &str) -> Entry {
        Entry::file(Meta::new(0o644, 0), s)
    }

    fn dir() -> Entry {
        Entry::dir(Meta::new(0o755, 0))
    }

    /// An engine holding one image `app` made of `layers` with these history lines (`None`
    /// for an empty_layer entry).
    pub(crate) fn engine_with(layers: Vec<Layer>, history: &[(&str, bool)]) -> Engine {
        let mut state = EngineState::default();
        let mut config = ImageConfig::default();
        for layer in layers {
            let (d, _) = crate::fs::tar::diff_id(&layer, &crate::fs::tar::TarOptions::default());
            config.rootfs.diff_ids.push(d);
            state.layers.insert(d, Arc::new(layer));
        }
        for (created_by, empty) in history {
            config.history.push(History {
                created_by: Some((*created_by).to_owned()),
                empty_layer: *empty,
                ..History::default()
            });
        }
        state.images.push(Image {
            id: config.id(),
            config,
            repo_tags: vec![
                Reference::parse_normalized("app")
                    .unwrap()
                    .with_default_tag(),
            ],
            created: crate::cli::units::Timestamp::from_unix_secs(0),
            parent: None,
            size: 0,
        });
        Engine::new(state)
    }

    #[test]
    fn wasted_bytes_name_the_creator_and_the_remover() {
        let mut l0 = Layer::new();
        l0.insert("var", dir());
        l0.insert("var/lists", dir());
        l0.insert("var/lists/a", file("aaaaaaaaaa"));
        l0.insert("var/lists/b", file("bbbbb"));
        l0.insert("keep", file("kk"));
        l0.insert("conf", file("old"));
        let mut l1 = Layer::new();
        l1.insert("var", dir());
        l1.insert("var/lists", dir());
        l1.insert_whiteout("var/lists/a");
        l1.insert_whiteout("var/lists/b");
        let mut l2 = Layer::new();
        l2.insert("conf", file("newer"));
        let engine = engine_with(
            vec![l0, l1, l2],
            &[
                ("RUN /bin/sh -c apt-get update # buildkit", false),
                ("ENV A=1", true),
                ("RUN /bin/sh -c rm -rf /var/lists/* # buildkit", false),
                ("COPY conf / # buildkit", false),
            ],
        );
        let v = view(&engine, "app", true).unwrap();
        assert_eq!(v.tags, ["app:latest"]);
        assert_eq!(v.layer_count, 3);
        assert_eq!(v.steps.len(), 4);
        assert_eq!(v.steps[1].layer, None);
        assert!(v.steps[1].empty_layer);
        assert_eq!(v.steps[0].instruction, "RUN apt-get update");
        assert_eq!((v.steps[2].added, v.steps[2].deleted), (0, 2));
        assert_eq!(
            v.steps[2]
                .changes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["D /var/lists/a", "D /var/lists/b"]
        );
        assert_eq!(v.steps[3].changed, 1);
        assert_eq!(v.total_bytes, 10 + 5 + 2 + 3 + 5);
        assert_eq!(v.wasted_bytes, 10 + 5 + 3);
        assert_eq!(v.steps[0].wasted_bytes, 18);
        assert_eq!(v.wasted_file_count, 3);
        assert_eq!(v.wasted_files[0].path, "/var/lists/a");
        assert_eq!(v.wasted_files[0].removed_by, "RUN rm -rf /var/lists/*");
        assert_eq!(v.wasted_files[0].removal, Removal::Deleted);
        let conf = v.wasted_files.iter().find(|f| f.path == "/conf").unwrap();
        assert_eq!(
            (conf.removed_in, conf.removal, conf.removed_by.as_str()),
            (2, Removal::Overwritten, "COPY conf /")
        );
        assert_eq!(v.wasted.len(), 2);
        assert_eq!(
            (
                v.wasted[0].layer,
                v.wasted[0].removed_in,
                v.wasted[0].files,
                v.wasted[0].bytes
            ),
            (0, 1, 2, 15)
        );
        let want = 1.0 - 18.0 / 25.0;
        assert!((v.efficiency - want).abs() < 1e-12, "{}", v.efficiency);
        assert!(v.steps.iter().all(|s| s.cache.is_none()));
    }

    #[test]
    fn a_replaced_or_opaque_directory_removes_what_was_below_it() {
        let mut l0 = Layer::new();
        l0.insert("d", dir());
        l0.insert("d/x", file("xxxx"));
        l0.insert("e", dir());
        l0.insert("e/y", file("yy"));
        let mut l1 = Layer::new();
        l1.insert("d", file("now a file"));
        let mut opaque = dir();
        opaque.kind = crate::fs::EntryKind::Dir { opaque: true };
        l1.insert("e", opaque);
        let engine = engine_with(vec![l0, l1], &[("A", false), ("B", false)]);
        let v = view(&engine, "app", false).unwrap();
        let how: Vec<(&str, Removal)> = v
            .wasted_files
            .iter()
            .map(|f| (f.path.as_str(), f.removal))
            .collect();
        assert_eq!(
            how,
            [("/d/x", Removal::Overwritten), ("/e/y", Removal::Deleted)]
        );
        assert!(v.steps[0].changes.is_empty(), "changes only when asked");
    }

    #[test]
    fn an_empty_image_is_fully_efficient() {
        let engine = engine_with(vec![], &[("CMD [\"sh\"]", true)]);
        let v = view(&engine, "app", false).unwrap();
        assert_eq!((v.total_bytes, v.wasted_bytes), (0, 0));
        assert!((v.efficiency - 1.0).abs() < f64::EPSILON);
        assert_eq!(
            view(&engine, "nope", false).unwrap_err(),
            ViewError::NoSuchImage("nope".into())
        );
    }
}
