//! `cargo xtask bench sim`: the article's two examples built in the simulator, natively and in
//! headless Chromium (figures in BENCHMARKS.md, never asserted).

use crate::setup::{self, Need, cmd};

/// Fresh processes for the cold figure: the first build pays for parsing the catalog and
/// modelling the base image.
const COLD_RUNS: usize = 5;

/// Runs the native benchmark (cold in fresh processes, then rebuilds, then each base image)
/// and the browser one.
pub fn bench_sim() -> Result<(), String> {
    let bench = [
        "bench",
        "--locked",
        "-p",
        "layerbox-core",
        "--bench",
        "sim",
        "--",
    ];
    println!("== native, first build in a fresh process ({COLD_RUNS} processes)");
    for _ in 0..COLD_RUNS {
        setup::run(cmd("cargo").args(bench).arg("--cold"))?;
    }
    println!("== native, rebuilds in one process");
    setup::run(cmd("cargo").args(bench))?;
    println!("== native, modelling each base image");
    setup::run(cmd("cargo").args(bench).arg("--images"))?;
    setup::all(Need::Everything)?;
    println!("== wasm in headless Chromium (release profile, as the playground ships)");
    setup::run(cmd("cargo").args([
        "test",
        "--locked",
        "-p",
        "layerbox-core",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        "wasm_sim",
        "--",
        "--nocapture",
    ]))
}
