//! The playground's views on a 100,000-file image: `image layers` (the layers view with its
//! wasted bytes, rendered as the CLI prints it), a search of the file tree, one file's
//! contents, and the lifecycle graph.
//!
//! `CARGO_PROFILE_BENCH_OPT_LEVEL=3 cargo bench -p layerbox-core --bench view` (figures in
//! BENCHMARKS.md).

/// The `layerbox` binary's allocator, so the figures are the binary's.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use layerbox_core::cli::units::Timestamp;
use layerbox_core::engine::{Engine, EngineState, Image, Output};
use layerbox_core::fs::tar::{TarOptions, diff_id};
use layerbox_core::fs::{Entry, Layer, Meta};
use layerbox_core::image::{History, ImageConfig, Reference};
use layerbox_core::view::{Request, answer};

/// Files of the image, in 1000 directories over three layers.
const FILES: usize = 100_000;

fn meta(mode: u32) -> Meta {
    Meta::new(mode, 1_700_000_000)
}

/// An engine holding `big:latest`: 100,000 files in a base layer, a layer that rewrites 1,000
/// of them and a layer that deletes another 1,000 (so there are wasted bytes to find).
fn engine() -> Engine {
    let mut base = Layer::new();
    base.insert("usr", Entry::dir(meta(0o755)));
    base.insert("usr/lib", Entry::dir(meta(0o755)));
    let path = |i: usize| format!("usr/lib/d{:03}/file{i:06}.so", i % 1000);
    for d in 0..1000 {
        base.insert(format!("usr/lib/d{d:03}"), Entry::dir(meta(0o755)));
    }
    for i in 0..FILES {
        base.insert(
            path(i),
            Entry::file(meta(0o644), format!("contents of {i}\n")),
        );
    }
    let mut rewrite = Layer::new();
    let mut delete = Layer::new();
    for layer in [&mut rewrite, &mut delete] {
        layer.insert("usr", Entry::dir(meta(0o755)));
        layer.insert("usr/lib", Entry::dir(meta(0o755)));
    }
    for i in (0..FILES).step_by(100) {
        let dir = format!("usr/lib/d{:03}", i % 1000);
        rewrite.insert(dir.clone(), Entry::dir(meta(0o755)));
        rewrite.insert(path(i), Entry::file(meta(0o644), "rewritten\n"));
        delete.insert(dir, Entry::dir(meta(0o755)));
        delete.insert_whiteout(path(i + 1));
    }
    let mut state = EngineState::default();
    let mut config = ImageConfig::default();
    for (layer, created_by) in [
        (base, "ADD rootfs.tar /"),
        (rewrite, "RUN /bin/sh -c rewrite # buildkit"),
        (delete, "RUN /bin/sh -c delete # buildkit"),
    ] {
        let (d, _) = diff_id(&layer, &TarOptions::default());
        config.rootfs.diff_ids.push(d);
        config.history.push(History {
            created_by: Some(created_by.into()),
            ..History::default()
        });
        state.layers.insert(d, Arc::new(layer));
    }
    state.images.push(Image {
        id: config.id(),
        config,
        repo_tags: vec![
            Reference::parse_normalized("big")
                .unwrap()
                .with_default_tag(),
        ],
        created: Timestamp::from_unix_secs(1_700_000_000),
        parent: None,
        size: 0,
    });
    Engine::new(state)
}

fn views(c: &mut Criterion) {
    let mut engine = engine();
    let mut group = c.benchmark_group("views_100k_files");
    group.sample_size(10);
    group.bench_function("image layers (CLI)", |b| {
        b.iter(|| {
            let mut out = Output::default();
            let code = engine.execute(&["layerbox", "image", "layers", "big"], &mut out);
            assert_eq!(code, 0, "{}", out.stderr());
            black_box(out);
        });
    });
    let requests = [
        (
            "layers view",
            Request::Layers {
                image: "big".into(),
            },
        ),
        (
            "files search",
            Request::Files {
                target: "big".into(),
                path_filter: Some("file0421".into()),
            },
        ),
        (
            "files first page",
            Request::Files {
                target: "big".into(),
                path_filter: None,
            },
        ),
        (
            "file contents",
            Request::File {
                target: "big".into(),
                path: "/usr/lib/d500/file050500.so".into(),
            },
        ),
        ("lifecycle", Request::Lifecycle),
    ];
    for (name, req) in &requests {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(answer(&engine, req).unwrap()));
        });
    }
    group.finish();
}

criterion_group!(benches, views);
criterion_main!(benches);
