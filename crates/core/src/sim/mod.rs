//! The simulated backend: what `RUN` does when no real container runs.
//!
//! Everything here is a model, and says so: the shell interpreter runs a POSIX subset with
//! builtin utilities acting on the union filesystem, without real binaries or network.

pub mod base;
pub mod catalog;
pub mod pkg;
pub mod shell;
