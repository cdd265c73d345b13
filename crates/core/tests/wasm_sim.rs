//! The simulator in the browser: the article's two examples built in headless Chromium, with
//! the time each took printed (`performance.now()`), never asserted. BENCHMARKS.md records the
//! figures; run with
//! `cargo test -p layerbox-core --release --target wasm32-unknown-unknown --test wasm_sim`.
#![cfg(target_arch = "wasm32")]

#[path = "../benches/sim_examples/mod.rs"]
mod sim_examples;

use std::sync::Arc;

use layerbox_core::build::BuildCache;
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::Catalog;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The catalog as the browser fetches it.
const CATALOG: &str = include_str!("../data/catalog.txt");

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[wasm_bindgen_test]
fn the_article_examples_build_in_the_browser() {
    for example in sim_examples::examples() {
        let t = now();
        let catalog = Arc::new(Catalog::parse(CATALOG).expect("the catalog parses"));
        let parse = now() - t;
        let images = ModelledImages::with_catalog(Arc::clone(&catalog));
        let t = now();
        let first =
            sim_examples::build_example(&example, &images, &catalog, &mut BuildCache::new());
        let cold = now() - t;
        assert!(first.layers.len() > 3, "{}", example.name);
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = now();
            let again =
                sim_examples::build_example(&example, &images, &catalog, &mut BuildCache::new());
            times.push(now() - t);
            assert_eq!(again.config.rootfs.diff_ids, first.config.rootfs.diff_ids);
        }
        times.sort_by(f64::total_cmp);
        console_log!(
            "{}: catalog parse {parse:.1} ms, first build {cold:.1} ms, rebuild (base images modelled, empty build cache) median {:.1} ms (min {:.1}, max {:.1})",
            example.name,
            times[2],
            times[0],
            times[4]
        );
    }
}
