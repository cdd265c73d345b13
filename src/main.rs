//! Entry point of the playground (trunk builds this for wasm32).

fn main() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<layerbox_web::App>::new().render();
}
