//! Integration tests of layerbox-core, one module per area.

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
