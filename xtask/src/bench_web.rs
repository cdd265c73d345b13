//! `cargo xtask bench web`: the playground's speed in headless Chromium on localhost (ready to
//! type, the article's build shown, diagnostics after a keystroke), measured by
//! `e2e/bench.mjs` on the release build; figures go to BENCHMARKS.md, never asserted.

use crate::setup::{self, Need, cmd, root};

/// Fresh browser contexts measured; each figure is the median over them.
const RUNS: usize = 7;

/// Builds the release playground and runs the browser benchmark on it.
pub fn bench_web(runs: Option<usize>) -> Result<(), String> {
    setup::all(Need::Everything)?;
    setup::run(cmd("trunk").args(["build", "--release"]))?;
    setup::run(
        cmd("node")
            .arg("e2e/bench.mjs")
            .arg(root().join("dist"))
            .arg(runs.unwrap_or(RUNS).to_string()),
    )
}
