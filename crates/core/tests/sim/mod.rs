//! The simulated backend: package managers and base images.

mod base;
mod pkg;
