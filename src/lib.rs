//! The layerbox playground: a Yew app over layerbox-core's simulated engine.
//!
//! Everything the learner sees is derived from [`state::State`], which owns the core's data;
//! components only present it and send [`state::Action`]s back.

pub mod app;
pub mod components;
pub mod state;

pub use app::{App, AppProps};
