//! The analysis module: the editor's highlighting and diagnostics (the core's parser and
//! linter), loaded by the page after its first paint and called in the page's own thread on
//! every keystroke, with no hop to a worker (see `src/analysis.rs`). trunk builds it with
//! `data-type="worker"` (a no-modules build the page starts itself) in the `release-analyzer`
//! profile: opt-level 3, which this small program can afford.

/// The analysis of a Dockerfile (`layerbox_core::dockerfile::editor::Analysis`) as JSON.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn analyze(text: &str) -> String {
    serde_json::to_string(&layerbox_core::dockerfile::editor::analyze(text)).unwrap_or_default()
}

fn main() {}
