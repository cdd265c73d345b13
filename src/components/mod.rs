//! Presentational pieces of the playground.

pub mod app_panel;
pub mod diagnostics;
pub mod editor;
pub mod status;
pub mod terminal;
