//! The engine's state as a graph for the lifecycle diagram: the Dockerfile builds images, an
//! image is the base (`FROM`) of another, an image runs as containers, a container is committed
//! to an image. Node and edge IDs are stable across calls (made from image and container IDs),
//! so the diagram can animate what changed between two answers.

use serde::{Deserialize, Serialize};

use crate::engine::{ContainerState, Engine, Image};
use crate::image::Digest;

/// Nodes and edges, in a stable order (images and containers oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleView {
    /// The Dockerfile, images and containers.
    pub nodes: Vec<Node>,
    /// Build, from, run and commit arrows.
    pub edges: Vec<Edge>,
}

/// One box of the diagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Stable ID: `dockerfile`, `image:<hex>`, `container:<hex>`.
    pub id: String,
    /// What to print in the box (a tag, a name).
    pub label: String,
    /// What it is.
    pub kind: NodeKind,
}

/// What a node stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    /// The project's Dockerfile (present once something was built).
    Dockerfile,
    /// An image.
    Image {
        /// Its ID.
        id: Digest,
        /// The references naming it (`<none>` images have none).
        tags: Vec<String>,
        /// Bytes of its layers.
        size: u64,
        /// How many layers.
        layers: usize,
    },
    /// A container.
    Container {
        /// Its ID.
        id: String,
        /// Its name.
        name: String,
        /// created, running, paused, restarting or exited.
        state: ContainerState,
        /// The image as the user named it.
        image: String,
    },
}

/// One arrow of the diagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Stable ID: `<kind>:<from>-><to>`.
    pub id: String,
    /// Source node ID.
    pub from: String,
    /// Target node ID.
    pub to: String,
    /// What the arrow means.
    pub kind: EdgeKind,
}

/// What an arrow means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EdgeKind {
    /// `docker build`: Dockerfile → image.
    Build,
    /// `FROM`: base image → built image.
    From,
    /// `docker run`/`create`: image → container.
    Run,
    /// `docker commit`: container → image (from the parent image when the container is gone).
    Commit,
}

impl EdgeKind {
    /// The word shown on the arrow.
    pub fn label(self) -> &'static str {
        match self {
            Self::Build => "build",
            Self::From => "FROM",
            Self::Run => "run",
            Self::Commit => "commit",
        }
    }
}

/// The node ID of an image.
pub fn image_node(id: &Digest) -> String {
    format!("image:{}", id.hex())
}

/// The node ID of a container.
pub fn container_node(id: &str) -> String {
    format!("container:{id}")
}

/// The lifecycle graph of the engine's state.
pub fn view(engine: &Engine) -> LifecycleView {
    let state = engine.state();
    let provenance = &state.provenance;
    let mut v = LifecycleView::default();
    let edge = |v: &mut LifecycleView, from: String, to: String, kind: EdgeKind| {
        v.edges.push(Edge {
            id: format!("{}:{from}->{to}", kind.label().to_lowercase()),
            from,
            to,
            kind,
        });
    };
    if state
        .images
        .iter()
        .any(|i| provenance.builds.contains_key(&i.id))
    {
        v.nodes.push(Node {
            id: "dockerfile".into(),
            label: "Dockerfile".into(),
            kind: NodeKind::Dockerfile,
        });
    }
    for image in &state.images {
        let tags: Vec<String> = image
            .repo_tags
            .iter()
            .map(crate::image::Reference::familiar)
            .collect();
        v.nodes.push(Node {
            id: image_node(&image.id),
            label: tags
                .first()
                .cloned()
                .unwrap_or_else(|| format!("<none> {}", image.id.short())),
            kind: NodeKind::Image {
                id: image.id,
                tags,
                size: engine.image_size(image),
                layers: image.config.rootfs.diff_ids.len(),
            },
        });
    }
    for image in &state.images {
        let node = image_node(&image.id);
        if provenance.builds.contains_key(&image.id) {
            edge(&mut v, "dockerfile".into(), node.clone(), EdgeKind::Build);
            if let Some(base) = base_of(&state.images, image) {
                edge(&mut v, image_node(&base.id), node.clone(), EdgeKind::From);
            }
        }
        if let Some(source) = provenance.commits.get(&image.id) {
            if state.containers.iter().any(|c| c.id == source.container) {
                edge(
                    &mut v,
                    container_node(&source.container),
                    node,
                    EdgeKind::Commit,
                );
            } else if let Some(parent) = image.parent {
                edge(&mut v, image_node(&parent), node, EdgeKind::Commit);
            }
        } else if let Some(parent) = image.parent {
            edge(&mut v, image_node(&parent), node, EdgeKind::Commit);
        }
    }
    for c in &state.containers {
        let node = container_node(&c.id);
        v.nodes.push(Node {
            id: node.clone(),
            label: c.name.clone(),
            kind: NodeKind::Container {
                id: c.id.clone(),
                name: c.name.clone(),
                state: c.state,
                image: c.image_name.clone(),
            },
        });
        if state.images.iter().any(|i| i.id == c.image) {
            edge(&mut v, image_node(&c.image), node, EdgeKind::Run);
        }
    }
    v
}

/// The image a built image was built `FROM`: the one, not built itself from the same
/// Dockerfile run, whose layers are the longest proper prefix of its layers.
fn base_of<'a>(images: &'a [Image], image: &Image) -> Option<&'a Image> {
    let own = &image.config.rootfs.diff_ids;
    images
        .iter()
        .filter(|i| i.id != image.id)
        .filter(|i| {
            let theirs = &i.config.rootfs.diff_ids;
            !theirs.is_empty() && theirs.len() < own.len() && own.starts_with(theirs)
        })
        .max_by_key(|i| i.config.rootfs.diff_ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CommitSource, EngineState};

    #[test]
    fn images_containers_and_commits_become_nodes_and_edges() {
        let engine =
            crate::view::layers::tests::engine_with(vec![crate::fs::Layer::new()], &[("A", false)]);
        let mut state = engine.into_state();
        let base = state.images[0].clone();
        let mut built = base.clone();
        built.config.rootfs.diff_ids.push(Digest::sha256_of(b"x"));
        built.config.config.cmd = Some(vec!["x".into()]);
        built.id = built.config.id();
        built.repo_tags.clear();
        state.provenance.builds.insert(built.id, vec![None, None]);
        let mut committed = built.clone();
        committed.config.config.cmd = Some(vec!["y".into()]);
        committed.id = committed.config.id();
        committed.parent = Some(built.id);
        state.provenance.commits.insert(
            committed.id,
            CommitSource {
                container: "c0ffee".into(),
                name: "gone".into(),
            },
        );
        state.images.push(built.clone());
        state.images.push(committed.clone());
        let engine = Engine::new(state);
        let v = view(&engine);
        let ids: Vec<&str> = v.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids[0], "dockerfile");
        assert_eq!(ids.len(), 4);
        assert_eq!(v.nodes[2].label, format!("<none> {}", built.id.short()));
        let edges: Vec<(EdgeKind, &str, &str)> = v
            .edges
            .iter()
            .map(|e| (e.kind, e.from.as_str(), e.to.as_str()))
            .collect();
        let (b, c) = (image_node(&built.id), image_node(&committed.id));
        assert_eq!(
            edges,
            [
                (EdgeKind::Build, "dockerfile", b.as_str()),
                (EdgeKind::From, ids[1], b.as_str()),
                (EdgeKind::Commit, b.as_str(), c.as_str()),
            ]
        );
        assert_eq!(v.edges[0].id, format!("build:dockerfile->{b}"));
        assert_eq!(
            view(&Engine::new(EngineState::default())),
            LifecycleView::default()
        );
    }
}
