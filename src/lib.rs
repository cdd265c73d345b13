//! The layerbox playground: a Yew app over layerbox-core's simulated engine.
//!
//! Four programs share this crate. The page (`layerbox-web`) is the Yew app: it holds only data
//! types from the core ([`protocol`]), so that the first page stays small. The web worker
//! (`layerbox-worker`) runs the core: the engine, completion, share links ([`host`]). The
//! analysis module (`layerbox-analyzer`: the parser and linter, built for speed) highlights and
//! checks the Dockerfile in the page's thread on every keystroke ([`analysis`]), and the views
//! module (`layerbox-views`) draws layers, files and lifecycle; all three are loaded after the
//! first paint. Everything the learner sees is derived from [`state::State`]; components only
//! present it and send [`state::Action`]s back.

pub mod analysis;
pub mod app;
pub mod bridge;
pub mod components;
pub mod host;
pub mod playback;
pub mod project_file;
pub mod protocol;
pub mod share;
pub mod state;
pub mod storage;
#[cfg(target_arch = "wasm32")]
pub mod views_app;
#[cfg(target_arch = "wasm32")]
pub mod worker;

pub use app::{App, AppProps};
