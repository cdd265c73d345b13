//! The union filesystem and layer tars.

#[cfg(target_os = "linux")]
mod overlay;
mod union;
