//! Presentational pieces of the playground.

pub mod diagnostics;
pub mod editor;
pub mod status;
