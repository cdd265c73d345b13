//! layerbox-core: the rules of Docker's behaviour, with no host I/O.
//!
//! Everything here builds for `wasm32-unknown-unknown` and for the host alike. Time, IDs and
//! randomness come in through small traits, and every side effect goes through a backend, so that
//! the browser playground and the native binary share one implementation.
//!
//! ```
//! let example = layerbox_core::examples::python();
//! assert!(example.dockerfile().starts_with("FROM python:3.9-slim"));
//! ```
#![deny(missing_docs)]

pub mod build;
pub mod cli;
pub mod dockerfile;
pub mod engine;
pub mod examples;
pub mod fs;
pub mod image;
pub mod sim;
pub mod view;

/// The version of layerbox, shared by the binary and the playground.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
