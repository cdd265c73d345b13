//! Presentational pieces of the playground.

pub mod app_panel;
pub mod diagnostics;
pub mod display;
pub mod editor;
pub mod files;
pub mod layers;
pub mod lifecycle;
pub mod speed;
pub mod status;
pub mod terminal;
pub mod views;
