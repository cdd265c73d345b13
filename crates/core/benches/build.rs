//! Builder benchmark: COPY-only Dockerfiles over a base image of 50,000 files, to show the cost
//! of one build step (the target is under 5 ms per step natively).
//!
//! `cargo bench -p layerbox-core --bench build` (figures in BENCHMARKS.md). The per-step cost is
//! (time of 6 COPY steps − time of 1) / 5; both builds also pay once for the stage's own copy
//! of the base image's index when their first layer is committed.

/// The `layerbox` binary's allocator, so the figures are the binary's.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use layerbox_core::build::{BaseImage, BuildCache, BuildContext, BuildOptions, NoRun, build};
use layerbox_core::fs::{Entry, Layer, Meta};
use layerbox_core::image::{ImageConfig, Reference};

const BASE_FILES: usize = 50_000;

fn base_image() -> BTreeMap<Reference, BaseImage> {
    let meta = Meta::new(0o644, 1_700_000_000);
    let mut layer = Layer::new();
    layer.insert("usr", Entry::dir(Meta::new(0o755, 0)));
    for d in 0..500 {
        layer.insert(format!("usr/d{d:03}"), Entry::dir(Meta::new(0o755, 0)));
    }
    for i in 0..BASE_FILES {
        layer.insert(
            format!("usr/d{:03}/f{i:05}", i % 500),
            Entry::file(meta, format!("file {i}\n")),
        );
    }
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        ..ImageConfig::default()
    };
    let image = BaseImage::new(config, [Arc::new(layer)]).expect("a consistent layer");
    [("big:1".parse().expect("a reference"), image)].into()
}

fn steps(c: &mut Criterion) {
    let images = base_image();
    let files: Vec<(String, String)> = (0..6)
        .map(|i| (format!("f{i}.txt"), format!("content {i}\n")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let context = BuildContext::from_files(&refs).expect("a context");
    let one = "FROM big:1\nCOPY f0.txt /app/\n";
    let six: String = std::iter::once("FROM big:1\n".to_owned())
        .chain((0..6).map(|i| format!("COPY f{i}.txt /app/\n")))
        .collect();
    let mut group = c.benchmark_group("build_copy_over_50k_files");
    group.sample_size(20);
    for (name, dockerfile) in [("1_step", one.to_owned()), ("6_steps", six)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut cache = BuildCache::new();
                black_box(
                    build(
                        &dockerfile,
                        &context,
                        &BuildOptions::default(),
                        &images,
                        &mut NoRun,
                        &mut cache,
                        &mut |_| {},
                    )
                    .expect("the build succeeds"),
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
