//! The `layerbox` binary: parse, dispatch, map errors to exit codes.

mod frontend;

use std::io::Write;
use std::path::PathBuf;
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
    /// Parse a Dockerfile: BuildKit's AST dump, or stages and instructions as JSON
    Parse {
        /// Name of the Dockerfile (`-` for stdin)
        #[arg(
            short = 'f',
            long = "file",
            value_name = "FILE",
            default_value = "Dockerfile"
        )]
        file: PathBuf,
        /// Print BuildKit's AST dump (the default)
        #[arg(long, conflicts_with = "json")]
        dump: bool,
        /// Print the stages and typed instructions as JSON
        #[arg(long)]
        json: bool,
    },
    /// Check a Dockerfile: errors and lint findings, each with why it matters and a fix
    Lint {
        /// Name of the Dockerfile (`-` for stdin)
        #[arg(
            short = 'f',
            long = "file",
            value_name = "FILE",
            default_value = "Dockerfile"
        )]
        file: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: frontend::LintFormat,
    },
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
    match &cli.command {
        Command::Parse { file, json, .. } => {
            let output = if *json {
                frontend::ParseOutput::Json
            } else {
                frontend::ParseOutput::Dump
            };
            frontend::parse(Some(file), output, &mut out)
        }
        Command::Lint { file, format } => frontend::lint(Some(file), *format, &mut out),
        Command::Version => {
            writeln!(out, "layerbox version {}", layerbox_core::VERSION)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
