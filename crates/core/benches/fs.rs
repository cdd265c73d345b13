//! Union filesystem benchmarks: merged-view lookup as layers are added, and writing a layer tar
//! with its diff_id against GNU tar piped into `sha256sum` and `openssl dgst -sha256` on the
//! same tree, measured in the same run.
//!
//! `cargo bench -p layerbox-core --bench fs` (figures in BENCHMARKS.md).

/// The `layerbox` binary's allocator, so the figures are the binary's.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use layerbox_core::fs::tar::{TarOptions, diff_id, write_layer, write_layer_to};
use layerbox_core::fs::{Entry, Layer, LayerStack, Meta, UnionFs};
use layerbox_core::image::Digest;

/// Files in the image for the lookup bench, whatever the number of layers.
const IMAGE_FILES: usize = 20_000;
/// Files and bytes per file of the layer for the tar bench.
const TAR_FILES: usize = 2_000;
const TAR_FILE_BYTES: usize = 32 * 1024;

fn meta(mode: u32) -> Meta {
    Meta::new(mode, 1_700_000_000)
}

/// The same 20,000 files (in 200 directories) spread over `layers` layers; every layer also
/// rewrites `/etc/shared`, so the top wins.
fn image(layers: usize) -> LayerStack {
    let mut stack = LayerStack::new();
    let per_layer = IMAGE_FILES / layers;
    for l in 0..layers {
        let mut layer = Layer::new();
        layer.insert("etc", Entry::dir(meta(0o755)));
        layer.insert("etc/shared", Entry::file(meta(0o644), l.to_string()));
        for i in l * per_layer..(l + 1) * per_layer {
            let dir = format!("usr/lib/d{:03}", i % 200);
            layer.insert("usr", Entry::dir(meta(0o755)));
            layer.insert("usr/lib", Entry::dir(meta(0o755)));
            layer.insert(dir.clone(), Entry::dir(meta(0o755)));
            layer.insert(
                format!("{dir}/file{i:05}.so"),
                Entry::file(meta(0o644), "x"),
            );
        }
        stack.push(layer).expect("a consistent layer");
    }
    stack
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("merged_lookup");
    for layers in [1usize, 10, 100, 128] {
        let fs = UnionFs::new(Arc::new(image(layers)));
        let files = IMAGE_FILES / layers * layers;
        let paths: Vec<String> = (0..1000)
            .map(|k| {
                let i = (k * 7919) % files;
                format!("/usr/lib/d{:03}/file{i:05}.so", i % 200)
            })
            .collect();
        group.bench_with_input(BenchmarkId::new("stat", layers), &fs, |b, fs| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) % paths.len();
                black_box(fs.stat(&paths[k]).expect("present"))
            });
        });
        group.bench_with_input(BenchmarkId::new("index_entry", layers), &fs, |b, fs| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) % paths.len();
                black_box(fs.lower().entry(&paths[k][1..]).expect("present"))
            });
        });
    }
    group.finish();
}

/// Deterministic, poorly compressible bytes.
fn noise(seed: usize, len: usize) -> Vec<u8> {
    let mut x = seed as u64 | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

fn tar_layer() -> Layer {
    let mut layer = Layer::new();
    layer.insert("data", Entry::dir(meta(0o755)));
    for d in 0..20 {
        layer.insert(format!("data/d{d:02}"), Entry::dir(meta(0o755)));
    }
    for i in 0..TAR_FILES {
        layer.insert(
            format!("data/d{:02}/f{i:05}.bin", i % 20),
            Entry::file(meta(0o644), noise(i, TAR_FILE_BYTES)),
        );
    }
    layer
}

/// Writes the layer's files to `dir` for the GNU tools (they read it from the page cache).
fn materialise(layer: &Layer, dir: &Path) {
    for (p, _) in layer.iter() {
        let (_, e) = layer.entry(p).expect("entry");
        let target = dir.join(p);
        if e.is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else if let layerbox_core::fs::EntryKind::File(data) = &e.kind {
            std::fs::write(&target, data.bytes().expect("real bytes")).expect("write");
        }
    }
}

fn shell(cmd: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    black_box(out.stdout);
}

fn tar_digest(c: &mut Criterion) {
    let layer = tar_layer();
    let (_, tar_len) = diff_id(&layer, &TarOptions { mtime: Some(0) });
    let dir = std::env::temp_dir().join(format!("layerbox-bench-tar-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    materialise(&layer, &dir);
    let mut group = c.benchmark_group("layer_tar_digest");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(tar_len));
    group.bench_function("layerbox_write_layer_diff_id", |b| {
        b.iter(|| black_box(diff_id(&layer, &TarOptions { mtime: Some(0) })));
    });
    let d = dir.display();
    group.bench_function("gnu_tar_sha256sum", |b| {
        b.iter(|| shell(&format!("tar -C {d} -cf - . | sha256sum")));
    });
    group.bench_function("gnu_tar_openssl_sha256", |b| {
        b.iter(|| shell(&format!("tar -C {d} -cf - . | openssl dgst -sha256")));
    });
    // Where layerbox's time goes: the tar writer alone, and sha256 alone over the same bytes.
    group.bench_function("layerbox_write_layer_to_sink", |b| {
        b.iter(|| {
            black_box(write_layer_to(
                &layer,
                &TarOptions { mtime: Some(0) },
                std::io::sink(),
            ))
        });
    });
    let bytes = write_layer(&layer, &TarOptions { mtime: Some(0) });
    group.bench_function("sha2_sha256_of_the_tar", |b| {
        b.iter(|| black_box(Digest::sha256_of(&bytes)));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

/// Not a timing: the resident memory of a 100,000-file image (simulated contents of 4 KiB
/// each, 1,000 directories, in 5 layers) with its merged index, printed once.
fn store_memory(_: &mut Criterion) {
    let before = resident_bytes();
    let mut stack = LayerStack::new();
    for l in 0..5u32 {
        let mut layer = Layer::new();
        for i in l * 20_000..(l + 1) * 20_000 {
            let dir = format!("usr/share/d{:04}", i % 1000);
            layer.insert("usr", Entry::dir(meta(0o755)));
            layer.insert("usr/share", Entry::dir(meta(0o755)));
            layer.insert(dir.clone(), Entry::dir(meta(0o755)));
            let data = layerbox_core::fs::FileData::Simulated {
                size: 4096,
                digest: Digest::sha256_of(&i.to_le_bytes()),
            };
            layer.insert(
                format!("{dir}/file-{i:06}.txt"),
                Entry {
                    meta: meta(0o644),
                    kind: layerbox_core::fs::EntryKind::File(data),
                },
            );
        }
        stack.push(layer).expect("a consistent layer");
    }
    let after = resident_bytes();
    #[allow(clippy::cast_precision_loss)] // a printed figure
    let mib = after.saturating_sub(before) as f64 / (1024.0 * 1024.0);
    println!(
        "store_memory: {} paths in {} layers: {mib:.1} MiB resident",
        stack.path_count(),
        stack.len()
    );
    black_box(stack);
}

criterion_group!(benches, store_memory, lookup, tar_digest);
criterion_main!(benches);
