//! The web worker: runs the core for the page (trunk builds it with `data-type="worker"`).

fn main() {
    #[cfg(target_arch = "wasm32")]
    layerbox_web::worker::start();
}
