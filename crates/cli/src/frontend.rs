//! `layerbox parse` and `layerbox lint`: the Dockerfile front end of the core, on files.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use layerbox_core::dockerfile::diagnostic::{self, Diagnostic, RenderOptions, Severity};
use layerbox_core::dockerfile::ignore::DockerIgnore;
use layerbox_core::dockerfile::{self, lint, parser};

/// What `layerbox parse` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ParseOutput {
    /// BuildKit's AST dump (spec §8), the bytes of BuildKit's `result` files.
    Dump,
    /// Stages and typed instructions as JSON.
    Json,
}

/// What `layerbox lint` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// Compiler-style diagnostics with the source line and a caret.
    Text,
    /// The diagnostics as a JSON array (line, columns, severity, code, message, help, why).
    Json,
}

/// The Dockerfile named by `-f` (`-` is stdin), or `./Dockerfile`.
fn read_dockerfile(file: Option<&Path>) -> io::Result<(String, String)> {
    let path = file.map_or_else(|| PathBuf::from("Dockerfile"), Path::to_path_buf);
    let name = path.display().to_string();
    let bytes = if name == "-" {
        let mut buf = Vec::new();
        io::stdin().read_to_end(&mut buf)?;
        buf
    } else {
        std::fs::read(&path).map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{name}: not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok((name, text))
}

fn render_options() -> RenderOptions {
    RenderOptions {
        color: std::env::var_os("NO_COLOR").is_none() && stderr_is_tty(),
        ..RenderOptions::default()
    }
}

fn stderr_is_tty() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal()
}

/// `layerbox parse [-f FILE] [--dump | --json]`: exit 1 with the diagnostic on a parse error.
pub fn parse(
    file: Option<&Path>,
    output: ParseOutput,
    out: &mut impl Write,
) -> io::Result<ExitCode> {
    let (name, text) = read_dockerfile(file)?;
    let result = match output {
        ParseOutput::Dump => parser::parse(&text)
            .map(|ast| ast.dump())
            .map_err(dockerfile::Error::from),
        ParseOutput::Json => dockerfile::parse(&text).map(|parsed| {
            let value = serde_json::json!({
                "stages": parsed.stages,
                "meta_args": parsed.meta_args,
                "warnings": parsed.warnings,
                "directives": parsed.directives,
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }),
    };
    match result {
        Ok(text) => {
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            let d = Diagnostic::from(&err);
            eprintln!("{}", d.render(&name, &text, &render_options()));
            Ok(ExitCode::from(1))
        }
    }
}

/// `layerbox lint [-f FILE] [--format json]`: exit 1 when there is an error, else 0.
pub fn lint(file: Option<&Path>, format: LintFormat, out: &mut impl Write) -> io::Result<ExitCode> {
    let (name, text) = read_dockerfile(file)?;
    let dir = file.and_then(Path::parent).unwrap_or(Path::new("."));
    let dockerignore = match std::fs::read_to_string(dir.join(".dockerignore")) {
        Ok(s) => Some(DockerIgnore::parse(&s).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!(".dockerignore: {e}"))
        })?),
        Err(_) => None,
    };
    let options = lint::LintOptions {
        dockerignore,
        ..lint::LintOptions::default()
    };
    let found = lint::lint_source(&text, &options);
    match format {
        LintFormat::Json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&found).unwrap_or_default()
            )?;
        }
        LintFormat::Text => {
            if !found.is_empty() {
                writeln!(
                    out,
                    "{}",
                    diagnostic::render_all(&found, &name, &text, &render_options())
                )?;
            }
        }
    }
    let failed = found.iter().any(|d| d.severity == Severity::Error);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
