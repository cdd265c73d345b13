//! The analysis worker's glue (wasm32 only): the Dockerfile in the editor, parsed and linted
//! by the core on every keystroke and answered with its tokens and diagnostics.
//!
//! It is a worker of its own, apart from the engine's, so that a keystroke's diagnostics never
//! wait behind a build, a save of the engine's state or a base image being modelled; it holds
//! only the parser and the linter, small enough to be built for speed (opt-level 3, see
//! `Cargo.toml`) where the engine's worker is built for size. The engine's worker is sent the
//! same text, for the base images it models ahead of a build.

use layerbox_core::dockerfile::editor;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

use crate::protocol::{Request, Response};
use crate::worker::post;

/// Starts the worker: installs the message handler and says it is ready.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        post(&Response::Error {
            message: format!(
                "the Dockerfile checker stopped on an internal error ({info}); reload the page to start again"
            ),
        });
    }));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        let Some(text) = e.data().as_string() else {
            return;
        };
        match serde_json::from_str::<Request>(&text) {
            Ok(Request::Analyze { seq, text }) => post(&Response::Analysis {
                seq,
                analysis: editor::analyze(&text),
            }),
            Ok(_) => {}
            Err(e) => post(&Response::Error {
                message: format!("the Dockerfile checker could not read a request: {e}"),
            }),
        }
    });
    crate::worker::scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&Response::Ready);
}
