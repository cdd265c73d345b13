//! The analysis worker: the editor's highlighting and diagnostics, apart from the engine (trunk
//! builds it with `data-type="worker"`, in the `release-analyzer` profile: opt-level 3).

fn main() {
    #[cfg(target_arch = "wasm32")]
    layerbox_web::analyzer::start();
}
