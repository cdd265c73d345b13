//! The union filesystem and layer tars.

#[cfg(target_os = "linux")]
mod gnu_tar;
#[cfg(target_os = "linux")]
mod overlay;
#[cfg(target_os = "linux")]
mod tree;
mod union;
