//! Dockerfile parsing throughput (no criterion: a plain timed loop, figures go to BENCHMARKS.md).
//!
//! `cargo bench -p layerbox-core --bench parse [-- ROUNDS]`
//!
//! The corpus is every BuildKit parser testfile plus a generated 10 000-line Dockerfile. With
//! `DOCKERFILE_AST_DIR` pointing at a directory whose `node_modules` holds the npm package
//! `dockerfile-ast`, the same corpus is also parsed by it under node in the same run, and the
//! ratio is printed.

/// The `layerbox` binary's allocator, so the figures are the binary's.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use layerbox_core::dockerfile::{self, parser};

/// One block of a realistic multi-stage Dockerfile using every construct (22 lines).
const BLOCK: &str = r#"# build stage
FROM golang:1.22 AS build
ARG VERSION=1.0
ENV CGO_ENABLED=0 GOOS=linux
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download && \
    go mod verify
COPY <<CONF /etc/app.conf
listen = ":8080"
version = "${VERSION}"
CONF
RUN <<-SCRIPT bash
	set -eu
	go build -o /out/app ./cmd/app
	SCRIPT
LABEL org.opencontainers.image.title="app" version=$VERSION
EXPOSE 8080/tcp 9090
HEALTHCHECK --interval=30s --timeout=3s CMD ["/app", "health"]
CMD ["/app", "serve"]
"#;

/// A deterministic Dockerfile of at least `lines` physical lines.
fn generated(lines: usize) -> String {
    let per = BLOCK.lines().count();
    BLOCK.repeat(lines.div_ceil(per))
}

fn corpus() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/buildkit/parser");
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("testfiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let mut docs: Vec<String> = dirs
        .iter()
        .map(|dir| std::fs::read_to_string(dir.join("Dockerfile")).unwrap())
        .collect();
    docs.push(std::fs::read_to_string(root.join("testfile-line/Dockerfile")).unwrap());
    docs.push(generated(10_000));
    docs
}

/// Best of `rounds` timings of running `f` (the whole corpus) `reps` times, as MB/s.
fn measure(rounds: usize, reps: usize, bytes: usize, mut f: impl FnMut()) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(start.elapsed());
    }
    #[allow(clippy::cast_precision_loss)] // a few MB
    let mb = (bytes * reps) as f64 / 1e6;
    mb / best.as_secs_f64()
}

const NODE_SCRIPT: &str = r"
const { DockerfileParser } = require('dockerfile-ast');
const docs = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const rounds = +process.argv[3], reps = +process.argv[4];
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
let best = Infinity;
for (let r = 0; r < rounds; r++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) for (const d of docs) {
    const df = DockerfileParser.parse(d);
    if (df.getInstructions().length < 0) throw new Error('unreachable');
  }
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
}
console.log((bytes * reps / 1e6 / best).toFixed(2));
";

/// dockerfile-ast's MB/s on the same corpus, when `DOCKERFILE_AST_DIR` is set and node works.
fn dockerfile_ast(docs: &[String], rounds: usize, reps: usize) -> Option<f64> {
    let dir = std::env::var("DOCKERFILE_AST_DIR").ok()?;
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let corpus = tmp.join("parse-corpus.json");
    let script = tmp.join("parse-dockerfile-ast.js");
    std::fs::write(&corpus, serde_json::to_string(docs).unwrap()).unwrap();
    std::fs::write(&script, NODE_SCRIPT).unwrap();
    let out = Command::new("node")
        .arg(&script)
        .arg(&corpus)
        .arg(rounds.to_string())
        .arg(reps.to_string())
        .env("NODE_PATH", PathBuf::from(dir).join("node_modules"))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "dockerfile-ast failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let reps = 10;
    let docs = corpus();
    let bytes: usize = docs.iter().map(String::len).sum();
    println!(
        "corpus: {} documents, {bytes} bytes; best of {rounds} rounds of {reps} passes",
        docs.len()
    );

    let ast = measure(rounds, reps, bytes, || {
        for d in &docs {
            black_box(parser::parse(black_box(d)).ok());
        }
    });
    println!("layerbox parser::parse (AST)            {ast:9.2} MB/s");
    let typed = measure(rounds, reps, bytes, || {
        for d in &docs {
            black_box(dockerfile::parse(black_box(d)).ok());
        }
    });
    println!("layerbox dockerfile::parse (+ typed)    {typed:9.2} MB/s");
    match dockerfile_ast(&docs, rounds, reps) {
        Some(node) => {
            println!("dockerfile-ast 0.7.1 under node         {node:9.2} MB/s");
            println!(
                "ratio parser::parse / dockerfile-ast    {:9.2}x",
                ast / node
            );
        }
        None => println!("dockerfile-ast: not run (set DOCKERFILE_AST_DIR, see the file header)"),
    }
}
