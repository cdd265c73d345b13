//! The tasks themselves: serve, test, bench size.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::setup::{self, Need, cmd, root};

/// `cargo xtask serve`: build the playground and serve it on loopback.
pub fn serve(port: u16) -> Result<(), String> {
    setup::all(Need::Build)?;
    println!("layerbox playground: http://127.0.0.1:{port}/");
    setup::run(cmd("trunk").args([
        "serve",
        "--address",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]))
}

/// `cargo xtask dist [DIR]`: the playground as a static site, with relative URLs (Trunk.toml's
/// `public_url`) and a service worker, so any static host, any folder of it, or a local server
/// on a USB stick serves it.
pub fn dist(dir: Option<&str>) -> Result<(), String> {
    setup::all(Need::Build)?;
    let dir = match dir {
        Some(d) => std::path::absolute(d).map_err(|e| format!("bad folder {d}: {e}"))?,
        None => root().join("dist"),
    };
    setup::run(
        cmd("trunk")
            .args(["build", "--release", "--dist"])
            .arg(&dir),
    )?;
    println!(
        "static site in {}: serve that folder with any static web server (it must be served \
         over http(s), not opened as a file), e.g. `python3 -m http.server -d {0}`",
        dir.display()
    );
    Ok(())
}

/// Counts of one step's tests.
#[derive(Default, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
}

/// `cargo xtask test`: every check, in order, with one summary line at the end.
pub fn test() -> Result<(), String> {
    setup::all(Need::Everything)?;
    let wasm = ["--target", "wasm32-unknown-unknown"];
    let mut total = Tally::default();
    let mut report = Vec::new();
    let mut step = |name: &str, tally: Tally| {
        total.passed += tally.passed;
        total.failed += tally.failed;
        report.push(format!(
            "{name}: {} passed, {} failed",
            tally.passed, tally.failed
        ));
    };

    step(
        "cargo fmt --check",
        check(cmd("cargo").args(["fmt", "--all", "--", "--check"])),
    );
    step(
        "clippy (native)",
        check(cmd("cargo").args([
            "clippy",
            "--locked",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    step(
        "clippy (wasm32)",
        check(
            cmd("cargo")
                .args([
                    "clippy",
                    "--locked",
                    "-p",
                    "layerbox-web",
                    "-p",
                    "layerbox-core",
                    "--all-targets",
                ])
                .args(wasm)
                .args(["--", "-D", "warnings"]),
        ),
    );
    step(
        "native tests",
        cargo_tests(cmd("cargo").args(["test", "--locked", "--workspace"])),
    );
    step(
        "browser tests (headless Chromium)",
        cargo_tests(
            cmd("cargo")
                .args(["test", "--locked", "-p", "layerbox-web", "--tests"])
                .args(wasm),
        ),
    );
    let built = check(cmd("trunk").args(["build", "--release"]));
    step("trunk build --release", built);
    if built.failed == 0 {
        step("end-to-end (playwright)", e2e());
    } else {
        step(
            "end-to-end (playwright): not run, no build",
            Tally {
                passed: 0,
                failed: 1,
            },
        );
    }

    println!();
    for line in &report {
        println!("  {line}");
    }
    println!("{} passed, {} failed", total.passed, total.failed);
    if total.failed == 0 {
        Ok(())
    } else {
        Err(format!("{} failed", total.failed))
    }
}

/// A step that is one check: it passes when the command succeeds.
fn check(c: &mut Command) -> Tally {
    eprintln!("\n==> {}", describe(c));
    match c.status() {
        Ok(s) if s.success() => Tally {
            passed: 1,
            failed: 0,
        },
        _ => Tally {
            passed: 0,
            failed: 1,
        },
    }
}

/// Runs `c`, echoing its stdout, and hands every line to `scan`; the result is `scan`'s tally,
/// with one failure added if the command failed but no failing test was counted.
fn counted(c: &mut Command, scan: impl Fn(&str, &mut Tally)) -> Tally {
    eprintln!("\n==> {}", describe(c));
    let mut tally = Tally::default();
    let Ok(mut child) = c.stdout(Stdio::piped()).spawn() else {
        return Tally {
            passed: 0,
            failed: 1,
        };
    };
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            scan(&line, &mut tally);
        }
    }
    let ok = child.wait().is_ok_and(|s| s.success());
    if !ok && tally.failed == 0 {
        tally.failed = 1;
    }
    tally
}

/// Sums libtest's `test result: ok. N passed; M failed; …` lines.
fn cargo_tests(c: &mut Command) -> Tally {
    counted(c, |line, t| {
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            t.passed += number_before(rest, " passed");
            t.failed += number_before(rest, " failed");
        }
    })
}

/// The end-to-end script prints `N passed, N failed` last.
fn e2e() -> Tally {
    let dist = root().join("dist");
    let shots = root().join("target/e2e");
    counted(
        cmd("node").arg("e2e/e2e.mjs").arg(dist).arg(shots),
        |line, t| {
            if line.ends_with(" failed") && line.contains(" passed, ") {
                t.passed = number_before(line, " passed");
                t.failed = number_before(line, " failed");
            }
        },
    )
}

/// The number that ends just before `word` in `text` (0 if none).
fn number_before(text: &str, word: &str) -> u64 {
    let Some(end) = text.find(word) else { return 0 };
    let digits: String = text[..end]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().unwrap_or(0)
}

fn describe(c: &Command) -> String {
    let args: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("{} {}", c.get_program().to_string_lossy(), args.join(" "))
}

/// `cargo xtask bench parse`: the parser benchmark with dockerfile-ast as the reference.
pub fn bench_parse() -> Result<(), String> {
    let node_dir = root().join("target/bench-node");
    if !node_dir.join("node_modules/dockerfile-ast").exists() {
        std::fs::create_dir_all(&node_dir).map_err(|e| format!("{}: {e}", node_dir.display()))?;
        setup::run(
            cmd("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&node_dir)
                .arg("dockerfile-ast@0.7.1"),
        )?;
    }
    setup::run(
        cmd("cargo")
            .args([
                "bench",
                "--locked",
                "-p",
                "layerbox-core",
                "--bench",
                "parse",
            ])
            .env("DOCKERFILE_AST_DIR", &node_dir)
            // The release profile is sized for the wasm bundle; native code is built for speed.
            .env("CARGO_PROFILE_BENCH_OPT_LEVEL", "3"),
    )
}

/// `cargo xtask bench size`: release sizes of the playground, raw and gzip -9, in four groups:
/// the first page (the page's .wasm, .js, .css and index.html), the engine's worker and the
/// views module (both loaded after the first paint), and the data the worker fetches on the
/// first command.
pub fn bench_size() -> Result<(), String> {
    setup::all(Need::Build)?;
    setup::run(cmd("trunk").args(["build", "--release"]))?;
    let mut files: Vec<_> = std::fs::read_dir(root().join("dist"))
        .map_err(|e| format!("cannot read dist/: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    println!("{:<44} {:>12} {:>14}", "file", "raw bytes", "gzip -9 bytes");
    let mut totals = [(0u64, 0u64); 5];
    for path in &files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let raw = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        // Already compressed data is sent as it is.
        let gz = if path.extension().is_some_and(|x| x == "gz") {
            raw
        } else {
            let out = Command::new("gzip")
                .args(["-9", "-c"])
                .arg(path)
                .output()
                .map_err(|e| format!("cannot run gzip: {e}"))?;
            out.stdout.len() as u64
        };
        let group = size_group(&name);
        totals[group].0 += raw;
        totals[group].1 += gz;
        println!("{name:<44} {raw:>12} {gz:>14}");
    }
    println!();
    for (label, (raw, gz)) in [
        "first page (page wasm + js + css + html)",
        "engine worker (wasm + js + loader)",
        "views module (wasm + js + css)",
        "data fetched on the first command",
        "analysis module (wasm + js)",
    ]
    .iter()
    .zip(totals)
    {
        println!("{label:<44} {raw:>12} {gz:>14}");
    }
    Ok(())
}

/// Which group a file of `dist/` belongs to: 0 first page, 1 worker, 2 views module, 3 data,
/// 4 the analysis module.
fn size_group(name: &str) -> usize {
    if name.starts_with("layerbox-worker") {
        1
    } else if name.starts_with("layerbox-analyzer") {
        4
    } else if name.starts_with("layerbox-views") || name == "views.css" {
        2
    } else if name.starts_with("catalog") {
        3
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::{number_before, size_group};

    #[test]
    fn dist_files_fall_in_their_groups() {
        assert_eq!(size_group("layerbox-web-1ba3b5_bg.wasm"), 0);
        assert_eq!(size_group("style-4bf7e49.css"), 0);
        assert_eq!(size_group("index.html"), 0);
        assert_eq!(size_group("layerbox-worker_bg.wasm"), 1);
        assert_eq!(size_group("layerbox-worker_loader.js"), 1);
        assert_eq!(size_group("layerbox-views_bg.wasm"), 2);
        assert_eq!(size_group("views.css"), 2);
        assert_eq!(size_group("catalog.txt.gz"), 3);
        assert_eq!(size_group("layerbox-analyzer_bg.wasm"), 4);
        assert_eq!(size_group("layerbox-analyzer_loader.js"), 4);
    }

    #[test]
    fn reads_libtest_and_e2e_summaries() {
        let line =
            "ok. 12 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(number_before(line, " passed"), 12);
        assert_eq!(number_before(line, " failed"), 3);
        assert_eq!(number_before("6 passed, 0 failed", " passed"), 6);
        assert_eq!(number_before("nothing here", " passed"), 0);
    }
}
