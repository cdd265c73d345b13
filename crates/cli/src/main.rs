//! The `layerbox` binary: parse, dispatch, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Learn what Docker images and containers really are, by running them.
#[derive(Debug, Parser)]
#[command(name = "layerbox", version = layerbox_core::VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the layerbox version information
    Version,
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(code) => code,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("layerbox: {err}");
            ExitCode::from(125)
        }
    }
}

fn run(cli: &Cli) -> std::io::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Version => {
            writeln!(out, "layerbox version {}", layerbox_core::VERSION)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
