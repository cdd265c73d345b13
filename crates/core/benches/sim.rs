//! Simulated-engine benchmark: the article's two examples built in the simulator.
//!
//! `cargo bench -p layerbox-core --bench sim [-- --cold | --images]`. `--cold` measures only the
//! first build of each example with a catalog parsed from text and no base image modelled yet
//! (run once per fresh process); the default also measures rebuilds in the same process, with
//! the base images modelled and an empty or a full build cache; `--images` times modelling
//! each base image. Figures are printed, never asserted (BENCHMARKS.md records them).

/// The `layerbox` binary's allocator, so the figures are the binary's.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "sim_examples/mod.rs"]
mod sim_examples;

use std::sync::Arc;
use std::time::Instant;

use layerbox_core::build::BuildCache;
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::Catalog;
use sim_examples::{build_example as run, examples};

/// The catalog's text, read here rather than through `catalog::BUILTIN`, which the wasm32 build
/// leaves out (the browser fetches it).
const BUILTIN: &str = include_str!("../data/catalog.txt");

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
        let (t, c) = (Instant::now(), cpu_ms());
        let catalog = Arc::new(Catalog::parse(BUILTIN).expect("the builtin catalog"));
        let (parse, parse_cpu) = (ms(t), cpu_ms() - c);
        let images = ModelledImages::with_catalog(Arc::clone(&catalog));
        let (t, c) = (Instant::now(), cpu_ms());
        let built = run(example, &images, &catalog, &mut BuildCache::new());
        let (first, first_cpu) = (ms(t), cpu_ms() - c);
        let sizes: Vec<u64> = built.layers.iter().map(|l| l.size()).collect();
        println!(
            "{} first build: {first:.2} ms, CPU {first_cpu:.2} ms (+ catalog parse {parse:.2} ms, CPU {parse_cpu:.2} ms), layer sizes {sizes:?}",
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

/// Times 20 rounds of `f` and prints the median, min and max of the wall time and the median
/// CPU time (the machine is shared: CPU time is the steadier figure).
fn report<T>(name: &str, what: &str, f: &mut dyn FnMut() -> T) {
    let rounds = 20;
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..rounds {
        let (t, c) = (Instant::now(), cpu_ms());
        std::hint::black_box(f());
        wall.push(ms(t));
        cpu.push(cpu_ms() - c);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "{name} {what}: median {:.2} ms (min {:.2}, max {:.2}, {rounds} rounds), CPU median {:.2} ms",
        wall[rounds / 2],
        wall[0],
        wall[rounds - 1],
        cpu[rounds / 2]
    );
}

/// CPU time this process has used, in milliseconds (NaN where it cannot be read).
fn cpu_ms() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
        #[allow(clippy::cast_precision_loss)]
        let ms = t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6;
        ms
    }
    #[cfg(not(target_os = "linux"))]
    f64::NAN
}

/// `--images`: how long modelling each base image takes, afresh (wall and CPU), its layers'
/// entries, its size and how much of it is declared remainder (`/usr/share/layerbox/modelled`).
fn images() {
    let catalog = Catalog::parse(BUILTIN).expect("the builtin catalog");
    for key in layerbox_core::sim::base::KNOWN {
        let (t, c) = (Instant::now(), cpu_ms());
        let img =
            layerbox_core::sim::base::base_image_from(&key.parse().expect("a reference"), &catalog)
                .expect("a known image");
        let (wall, cpu) = (ms(t), cpu_ms() - c);
        let entries: Vec<usize> = img.layers.iter().map(|l| l.len()).collect();
        let declared: u64 = img
            .layers
            .iter()
            .flat_map(|l| l.iter())
            .filter(|(p, _)| p.starts_with("usr/share/layerbox/modelled/"))
            .map(|(_, c)| match c {
                layerbox_core::fs::Change::Entry(e) => e.size(),
                _ => 0,
            })
            .sum();
        println!(
            "{key}: {wall:.2} ms, CPU {cpu:.2} ms, entries {entries:?}, size {} (published {}), declared remainder {declared}",
            img.size(),
            img.published_size
        );
    }
}
