//! Integration tests of layerbox-core, one module per area.
//!
//! They read vectors and samples from disk and some drive host tools, so they run natively; the
//! browser runs its own tests of the core (`tests/web.rs` of the playground).
#![cfg(not(target_arch = "wasm32"))]

mod support;

mod build;
mod buildkit;
mod cli;
mod dockerfile_robustness;
mod engine;
mod fs;
mod image;
mod lint;
mod shell;
mod sim;
mod view;
