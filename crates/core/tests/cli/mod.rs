//! The `cli` module: output against real docker samples, and the command grammar.

mod grammar;
mod output;
mod robust;

use std::path::PathBuf;

/// A captured docker sample: the command line, the output (stdout and stderr as they
/// interleaved) and the exit code.
pub struct Sample {
    /// The command as typed, after the `$ `.
    pub command: String,
    /// Everything between the command line and the `[exit code N]` line.
    pub output: String,
    /// The exit code the capture script recorded.
    pub exit_code: i32,
}

/// Reads `tests/data/docker-cli/<name>`, splitting off the first (`$ …`) and last
/// (`[exit code N]`) lines the capture added.
pub fn sample(name: &str) -> Sample {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "data",
        "docker-cli",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (first, rest) = text.split_once('\n').expect("a command line");
    let command = first
        .strip_prefix("$ ")
        .expect("`$ ` before the command")
        .to_owned();
    let body = rest.strip_suffix('\n').unwrap_or(rest);
    let (output, last) = body.rsplit_once('\n').map_or(("", body), |(o, l)| (o, l));
    let exit_code = last
        .strip_prefix("[exit code ")
        .and_then(|l| l.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
        .expect("an `[exit code N]` line");
    let output = if output.is_empty() {
        String::new()
    } else {
        format!("{output}\n")
    };
    Sample {
        command,
        output,
        exit_code,
    }
}
