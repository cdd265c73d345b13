//! The native side of layerbox: the Linux engine and the on-disk store.
//!
//! `main.rs` stays thin; everything that touches the host lives here so that integration tests
//! (and later the core's `Backend` for Linux) drive it directly.

pub mod archive;
#[cfg(unix)]
pub mod cp;
#[cfg(target_os = "linux")]
pub mod docker;
#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub mod proxy;
#[cfg(target_os = "linux")]
pub mod registry;
#[cfg(target_os = "linux")]
pub mod shim;
pub mod sim;
#[cfg(target_os = "linux")]
pub mod store;
