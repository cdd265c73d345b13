//! Simulated-engine benchmark: the article's two examples built in the simulator.
//!
//! `cargo bench -p layerbox-core --bench sim [-- --cold | --images]`. `--cold` measures only the
//! first build of each example with a catalog parsed from text and no base image modelled yet
//! (run once per fresh process); the default also measures rebuilds in the same process, with
//! the base images modelled and an empty or a full build cache; `--images` times modelling
//! each base image. Figures are printed, never asserted (BENCHMARKS.md records them).

#[path = "sim_examples/mod.rs"]
mod sim_examples;

use std::sync::Arc;
use std::time::Instant;

use layerbox_core::build::BuildCache;
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::{BUILTIN, Catalog};
use sim_examples::{build_example as run, examples};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    if std::env::args().any(|a| a == "--images") {
        images();
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let cold = args.iter().any(|a| a == "--cold");
    let only = args.iter().find_map(|a| a.strip_prefix("--example="));
    let examples = examples();
    for example in examples.iter().filter(|e| only.is_none_or(|o| o == e.name)) {
        let t = Instant::now();
        let catalog = Arc::new(Catalog::parse(BUILTIN).expect("the builtin catalog"));
        let parse = ms(t);
        let images = ModelledImages::with_catalog(Arc::clone(&catalog));
        let t = Instant::now();
        let built = run(example, &images, &catalog, &mut BuildCache::new());
        let first = ms(t);
        let sizes: Vec<u64> = built.layers.iter().map(|l| l.size()).collect();
        println!(
            "{} first build: {first:.2} ms (+ catalog parse {parse:.2} ms), layer sizes {sizes:?}",
            example.name,
        );
        if cold {
            continue;
        }
        let mut empty = || run(example, &images, &catalog, &mut BuildCache::new());
        report(example.name, "rebuild, empty build cache", &mut empty);
        let mut cache = BuildCache::new();
        run(example, &images, &catalog, &mut cache);
        let mut cached = || run(example, &images, &catalog, &mut cache);
        report(example.name, "rebuild, every step cached", &mut cached);
    }
}

/// Times 20 rounds of `f` and prints the median, min and max.
fn report<T>(name: &str, what: &str, f: &mut dyn FnMut() -> T) {
    let rounds = 20;
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            ms(t)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{name} {what}: median {:.2} ms (min {:.2}, max {:.2}, {rounds} rounds)",
        times[rounds / 2],
        times[0],
        times[rounds - 1]
    );
}

/// `--images`: how long modelling each base image takes, afresh, and its layers' entries.
fn images() {
    let catalog = Catalog::parse(BUILTIN).unwrap();
    for key in layerbox_core::sim::base::KNOWN {
        let t = Instant::now();
        let img =
            layerbox_core::sim::base::base_image_from(&key.parse().unwrap(), &catalog).unwrap();
        let e = ms(t);
        let n: Vec<usize> = img.layers.iter().map(|l| l.len()).collect();
        println!("{key}: {e:.2} ms, entries {n:?}");
    }
}
