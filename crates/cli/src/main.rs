//! The `layerbox` binary: parse the global flags, dispatch, map errors to exit codes.
//!
//! docker's commands go to the engine (the core's grammar, help and errors); layerbox's own
//! Dockerfile tools (`parse`, `lint`) are clap subcommands.

mod frontend;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: the simulated engine allocates a path or two for every
/// file a package unpacks, and with glibc a sixth of a first build went to allocation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// layerbox's own commands, next to docker's.
#[derive(Debug, Parser)]
#[command(name = "layerbox", version = layerbox_core::VERSION, about, long_about = None)]
struct Tools {
    #[command(subcommand)]
    command: Tool,
}

#[derive(Debug, Subcommand)]
enum Tool {
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
}

/// What `--help` adds to docker's listing: layerbox's own commands and options.
const LAYERBOX_HELP: &str = "\
layerbox commands:
  parse       Parse a Dockerfile: BuildKit's AST dump, or stages and instructions as JSON
  lint        Check a Dockerfile: errors and lint findings, each with why it matters and a fix
  request     Send an HTTP GET to a port a simulated container publishes (request URL)
  system check [--repair]
              Find (and repair) what a crash left in the Linux engine's store
  pull, push, login, logout
              Registries (the Linux engine): docker's commands, as docker runs them

layerbox options:
      --engine string   \"linux\" (real containers: the default on Linux as root, or as a user
                        where user namespaces allow rootless containers) or \"sim\" (the
                        simulated engine; the default otherwise); $LAYERBOX_ENGINE
      --root string     Where the engine keeps its state (default $LAYERBOX_ROOT, else
                        /var/lib/layerbox for the Linux engine as root,
                        $XDG_DATA_HOME/layerbox as a user, $XDG_STATE_HOME/layerbox for
                        the simulated engine)
      --registry-mirror string    A mirror of Docker Hub to pull from first (repeatable;
                        also \"registry-mirrors\" in layerbox's config.json)
      --insecure-registry string  A registry (host:port) that may be reached over plain
                        HTTP (loopback registries always may; also \"insecure-registries\")
";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    match run(args) {
        Ok(code) => code,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("layerbox: {err}");
            ExitCode::from(125)
        }
    }
}

fn run(args: Vec<OsString>) -> std::io::Result<ExitCode> {
    let mut argv: Vec<String> = vec!["layerbox".to_owned()];
    let mut root: Option<PathBuf> = None;
    let mut engine = default_engine().to_owned();
    let mut rest = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let mut command_seen = false;
    let (mut mirrors, mut insecure) = (Vec::new(), Vec::new());
    while let Some(arg) = rest.next() {
        if !command_seen {
            // dockerd's registry options, given to the client here (there is no daemon)
            let registry_flag = match arg.split_once('=') {
                Some(("--registry-mirror", v)) => Some((&mut mirrors, Some(v.to_owned()))),
                Some(("--insecure-registry", v)) => Some((&mut insecure, Some(v.to_owned()))),
                _ if arg == "--registry-mirror" => Some((&mut mirrors, rest.next())),
                _ if arg == "--insecure-registry" => Some((&mut insecure, rest.next())),
                _ => None,
            };
            if let Some((list, value)) = registry_flag {
                list.extend(value);
                continue;
            }
            if arg == "--root" {
                root = rest.next().map(PathBuf::from);
                continue;
            }
            if let Some(r) = arg.strip_prefix("--root=") {
                root = Some(PathBuf::from(r));
                continue;
            }
            if arg == "--engine" {
                engine = rest.next().unwrap_or_default();
                continue;
            }
            if let Some(e) = arg.strip_prefix("--engine=") {
                e.clone_into(&mut engine);
                continue;
            }
            command_seen = !arg.starts_with('-');
        }
        argv.push(arg);
    }
    match argv.get(1).map(String::as_str) {
        Some("parse" | "lint") => return tool(&argv),
        Some("request") => {
            let Some(url) = argv.get(2) else {
                eprintln!("layerbox: request needs a URL (http://localhost:PORT/PATH)");
                return Ok(ExitCode::from(1));
            };
            let root = root.unwrap_or_else(layerbox::sim::default_root);
            return layerbox::sim::request(url, &root).map(ExitCode::from);
        }
        _ => {}
    }
    let code = match engine.as_str() {
        "sim" => {
            let root = root.unwrap_or_else(layerbox::sim::default_root);
            layerbox::sim::run(&argv, &root)?
        }
        #[cfg(target_os = "linux")]
        "linux" => {
            let root =
                layerbox::store::default_root(root.as_deref()).map_err(std::io::Error::other)?;
            let registry = layerbox::registry::Settings::from_flags_and_config(&mirrors, &insecure);
            layerbox::docker::run_with(&argv, &root, &registry)?
        }
        other => {
            eprintln!("layerbox: unknown engine {other:?}: use \"linux\" or \"sim\"");
            return Ok(ExitCode::from(125));
        }
    };
    if argv.len() == 1 {
        eprint!("\n{LAYERBOX_HELP}");
    } else if argv[1..] == ["--help"] || argv[1..] == ["-h"] {
        print!("\n{LAYERBOX_HELP}");
    }
    Ok(ExitCode::from(code))
}

/// The Linux engine on Linux as root or where rootless containers work, else the simulated one
/// (`LAYERBOX_ENGINE` overrides).
fn default_engine() -> &'static str {
    match std::env::var("LAYERBOX_ENGINE").as_deref() {
        Ok("sim") => return "sim",
        Ok("linux") => return "linux",
        _ => {}
    }
    #[cfg(target_os = "linux")]
    if rustix::process::geteuid().is_root() || layerbox::linux::rootless_available() {
        return "linux";
    }
    "sim"
}

/// `layerbox parse` and `layerbox lint`.
fn tool(argv: &[String]) -> std::io::Result<ExitCode> {
    let tools = Tools::parse_from(argv);
    let mut out = std::io::stdout().lock();
    let code = match &tools.command {
        Tool::Parse { file, json, .. } => {
            let output = if *json {
                frontend::ParseOutput::Json
            } else {
                frontend::ParseOutput::Dump
            };
            frontend::parse(Some(file), output, &mut out)?
        }
        Tool::Lint { file, format } => frontend::lint(Some(file), *format, &mut out)?,
    };
    out.flush()?;
    Ok(code)
}
