//! `cargo xtask serve | dist | test | bench`: the project's own tasks.
//!
//! Every task first installs what it needs and is missing (idempotent: version guards skip what
//! is already there). Tools come only from crates.io, npm and Debian.

mod bench_io;
mod bench_registry;
mod bench_sim;
mod bench_web;
mod catalog;
mod setup;
mod steps;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  serve [--port N]   build the playground and serve it on http://127.0.0.1:8080 (or port N)
  dist [DIR]         build the static site (default dist/): relative URLs, works offline after
                     the first visit; copy DIR to any static host or serve it from a USB stick
  test               install what tests need, then run every check; ends with `N passed, N failed`
  bench size         release sizes, raw and gzip -9: first page, worker, views module, data
  bench parse        Dockerfile parser MB/s beside dockerfile-ast (npm) under node, same run
  bench sim          the article's examples built in the simulator, native and in Chromium
  bench registry     pull of a 200 MB image from a loopback registry beside skopeo copy
  bench io           save and load of a 200 MB image beside docker save and docker load
  bench web [--runs N]  the playground's speed in headless Chromium: ready to type, the
                     article's build shown, diagnostics after a keystroke (medians of N runs)
  catalog            regenerate crates/core/data/catalog.txt from Debian, PyPI and npm
  setup              only install the tools (wasm32 target, trunk, wasm-bindgen, chromium, npm, docker.io)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["serve", rest @ ..] => parse_port(rest).and_then(steps::serve),
        ["test"] => steps::test(),
        ["dist"] => steps::dist(None),
        ["dist", dir] => steps::dist(Some(dir)),
        ["bench", "size"] => steps::bench_size(),
        ["bench", "parse"] => steps::bench_parse(),
        ["bench", "sim"] => bench_sim::bench_sim(),
        ["bench", "registry"] => bench_registry::bench_registry(),
        ["bench", "io"] => bench_io::bench_io(),
        ["bench", "web"] => bench_web::bench_web(None),
        ["bench", "web", "--runs", n] => n
            .parse()
            .map_err(|_| format!("invalid number of runs `{n}`"))
            .and_then(|n| bench_web::bench_web(Some(n))),
        ["catalog"] => catalog::generate(),
        ["setup"] => setup::all(setup::Need::Everything),
        [] | ["help" | "--help" | "-h"] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(format!("unknown task `{}`\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn parse_port(args: &[&str]) -> Result<u16, String> {
    match args {
        [] => Ok(8080),
        ["--port", port] => port.parse().map_err(|_| format!("invalid port `{port}`")),
        [flag, ..] => Err(format!("unknown flag `{flag}` for serve (only --port N)")),
    }
}
