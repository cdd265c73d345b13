//! The playground's views, computed once here from the engine's state: the layer stack of an
//! image with its wasted bytes and efficiency score ([`layers`]), the merged file tree of an
//! image or a container with each entry's origin layer and per-layer changes ([`files`]), and
//! the image → container → image lifecycle as a graph ([`lifecycle`]).
//!
//! Everything here is plain serde data: the browser computes it in a web worker and sends it to
//! the components, the CLI prints it (`image layers`). [`answer`] is the one entry point.
//!
//! ```
//! use layerbox_core::engine::{Engine, EngineState};
//! use layerbox_core::view::{answer, Request, Response};
//! let engine = Engine::new(EngineState::default());
//! let Ok(Response::Lifecycle(graph)) = answer(&engine, &Request::Lifecycle) else { panic!() };
//! assert!(graph.nodes.is_empty());
//! let err = answer(&engine, &Request::Layers { image: "nosuch".into() }).unwrap_err();
//! assert_eq!(err.to_string(), "No such image: nosuch");
//! ```

pub mod files;
pub mod layers;
pub mod lifecycle;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Image};
use crate::fs::{Layer, LayerStack};

pub use files::{FileBody, FileContent, FileEntry, FilesView, LayerMark, TargetKind};
pub use layers::{LayerStep, LayersView, Removal, WastedFile, WastedGroup};
pub use lifecycle::{Edge, EdgeKind, LifecycleView, Node, NodeKind};

/// What a front end asks of the views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// The layer stack of an image (name, reference or ID).
    Layers {
        /// The image as the user names it.
        image: String,
    },
    /// The merged file tree of an image or a container.
    Files {
        /// An image or a container, as the user names it (containers are tried first).
        target: String,
        /// Only paths containing this text (case-insensitive).
        path_filter: Option<String>,
    },
    /// One file's contents (bounded).
    File {
        /// An image or a container.
        target: String,
        /// The absolute path.
        path: String,
    },
    /// The graph of images and containers.
    Lifecycle,
}

/// A view, answering a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// For [`Request::Layers`].
    Layers(LayersView),
    /// For [`Request::Files`].
    Files(FilesView),
    /// For [`Request::File`].
    File(FileContent),
    /// For [`Request::Lifecycle`].
    Lifecycle(LifecycleView),
}

/// Why a view could not be computed, in docker's words where it has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ViewError {
    /// No image by that name.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// No image or container by that name.
    #[error("No such object: {0}")]
    NoSuchObject(String),
    /// No file at that path in the merged view.
    #[error("`{0}`: no such file or directory")]
    NoSuchFile(String),
    /// The layers do not stack (a corrupt saved state).
    #[error("layers of {0} do not stack: {1}")]
    Layers(String, String),
}

/// Answers a request from the engine's current state.
pub fn answer(engine: &Engine, req: &Request) -> Result<Response, ViewError> {
    match req {
        Request::Layers { image } => layers::view(engine, image, false).map(Response::Layers),
        Request::Files {
            target,
            path_filter,
        } => files::view(engine, target, path_filter.as_deref()).map(Response::Files),
        Request::File { target, path } => files::content(engine, target, path).map(Response::File),
        Request::Lifecycle => Ok(Response::Lifecycle(lifecycle::view(engine))),
    }
}

/// The image a user's word names.
fn find_image<'a>(engine: &'a Engine, name: &str) -> Result<&'a Image, ViewError> {
    engine
        .find_image(name)
        .ok_or_else(|| ViewError::NoSuchImage(name.to_owned()))
}

/// Stacks `layers`, saying whose they are if they do not stack.
fn stack(whose: &str, layers: &[Arc<Layer>]) -> Result<LayerStack, ViewError> {
    LayerStack::from_layers(layers.iter().cloned())
        .map_err(|e| ViewError::Layers(whose.to_owned(), e.to_string()))
}

/// How many images' merged indexes [`image_stack`] keeps.
const CACHED_STACKS: usize = 4;

std::thread_local! {
    /// The merged indexes of the images viewed last, by their diff_ids (which name the layers'
    /// contents, so an index never goes stale). Views of a 100,000-file image then cost what
    /// they read, not the index's construction.
    static STACKS: std::cell::RefCell<Vec<(Vec<crate::image::Digest>, Arc<LayerStack>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The image's layers and their merged index, built once for the last few images viewed.
fn image_stack(
    engine: &Engine,
    image: &Image,
    whose: &str,
) -> Result<(Vec<Arc<Layer>>, Arc<LayerStack>), ViewError> {
    let layers = engine.image_layers(image);
    let key = &image.config.rootfs.diff_ids;
    let complete = layers.len() == key.len();
    let cached = STACKS.with(|c| {
        c.borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| Arc::clone(s))
    });
    if let Some(s) = cached.filter(|_| complete) {
        return Ok((layers, s));
    }
    let built = Arc::new(stack(whose, &layers)?);
    if complete {
        STACKS.with(|c| {
            let mut c = c.borrow_mut();
            c.retain(|(k, _)| k != key);
            c.insert(0, (key.clone(), Arc::clone(&built)));
            c.truncate(CACHED_STACKS);
        });
    }
    Ok((layers, built))
}

/// The longest an instruction is shown.
pub const INSTRUCTION_WIDTH: usize = 100;

/// A history entry's `created_by` as a learner reads it: `RUN apt-get update` for BuildKit's
/// `RUN /bin/sh -c apt-get update # buildkit` and the legacy builder's `/bin/sh -c …` forms,
/// `ADD file:… in /` for `/bin/sh -c #(nop) ADD …`, whitespace runs collapsed, at most
/// [`INSTRUCTION_WIDTH`] characters (cut with `…`).
pub fn instruction(created_by: &str) -> String {
    let mut text = created_by.trim();
    text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    let shell = "/bin/sh -c ";
    let body: String = if let Some(rest) = text.strip_prefix("/bin/sh -c #(nop) ") {
        rest.trim().to_owned()
    } else if let Some(rest) = text.strip_prefix(shell) {
        format!("RUN {}", rest.trim())
    } else if let Some(rest) = text.strip_prefix("RUN ") {
        // `RUN |2 A=1 B=2 /bin/sh -c cmd`: the build args BuildKit records, then the shell.
        let rest = rest.trim_start();
        let rest = if rest.starts_with('|') {
            rest.find(shell).map_or(rest, |i| &rest[i..])
        } else {
            rest
        };
        format!("RUN {}", rest.strip_prefix(shell).unwrap_or(rest).trim())
    } else {
        text.to_owned()
    };
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > INSTRUCTION_WIDTH {
        let mut cut: String = collapsed.chars().take(INSTRUCTION_WIDTH - 1).collect();
        cut.push('…');
        cut
    } else {
        collapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_read_like_the_dockerfile() {
        assert_eq!(
            instruction("RUN /bin/sh -c apt-get update # buildkit"),
            "RUN apt-get update"
        );
        assert_eq!(
            instruction("RUN |1 NAME=x /bin/sh -c echo $NAME # buildkit"),
            "RUN echo $NAME"
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop) ADD file:abc in / "),
            "ADD file:abc in /"
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop)  CMD [\"bash\"]"),
            "CMD [\"bash\"]"
        );
        assert_eq!(
            instruction("/bin/sh -c set -eux;   apt-get update"),
            "RUN set -eux; apt-get update"
        );
        assert_eq!(instruction("COPY . /app # buildkit"), "COPY . /app");
        assert_eq!(instruction("WORKDIR /app"), "WORKDIR /app");
        let long = instruction(&format!("RUN /bin/sh -c {}", "x".repeat(300)));
        assert_eq!(long.chars().count(), INSTRUCTION_WIDTH);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn requests_and_responses_cross_a_json_boundary() {
        let req = Request::Files {
            target: "web".into(),
            path_filter: Some("etc".into()),
        };
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), req);
        let err = ViewError::NoSuchObject("x".into());
        let json = serde_json::to_string(&err).unwrap();
        assert_eq!(serde_json::from_str::<ViewError>(&json).unwrap(), err);
    }
}
