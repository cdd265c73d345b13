//! Presentational pieces of the playground.

pub mod editor;
pub mod status;
