//! The views module: layers, files and lifecycle, loaded by the page after its first paint
//! (trunk builds it with `data-type="worker"`: a no-modules build the page starts itself).

fn main() {
    #[cfg(target_arch = "wasm32")]
    layerbox_web::views_app::start();
}
