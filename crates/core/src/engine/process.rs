//! What a container's main process does in the simulation. Nothing real runs: short commands
//! run to completion on a [`ProcessRunner`] over the container's union filesystem; `sleep`
//! keeps the container up for its duration; an interactive shell (`-it sh`) waits for input;
//! servers are modelled (a Flask or Node app with a fixed response is recognised from its
//! source, nginx / `python -m http.server` / busybox httpd serve files); anything else is a
//! process that stays up without output, and a notice says that this is a simulation.
//! Short commands run on the simulated shell ([`ShellRunner`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cli::units::Timestamp;
use crate::fs::UnionFs;
use crate::sim::catalog::Catalog;
use crate::sim::shell::{self, Env, Limits, Lookup, Registry, UtilityKind};

/// Which stream a piece of output went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What a process was asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRequest {
    /// The argv (entrypoint and command joined).
    pub argv: Vec<String>,
    /// `KEY=value` environment.
    pub env: Vec<String>,
    /// Working directory.
    pub workdir: String,
    /// User as given (empty = root).
    pub user: String,
    /// The container's hostname (its short ID).
    pub hostname: String,
    /// Input, for a process that reads stdin.
    pub stdin: Vec<u8>,
    /// Unix seconds, stamped on files the process writes.
    pub now: i64,
}

/// What a process that ran to completion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessResult {
    /// Its exit status.
    pub status: i32,
    /// Its output in order.
    pub output: Vec<(Stream, String)>,
    /// How many simulated seconds it took (the `sleep`s it ran); 0 from a runner whose
    /// processes take real time.
    pub seconds: i64,
}

/// Why a process could not start: docker's runtime error texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The program is not in `PATH` (exit 127).
    #[error(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"{0}\": executable file not found in $PATH: unknown"
    )]
    NotFound(String),
    /// The program named by a path does not exist (exit 127).
    #[error(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"{0}\": stat {0}: no such file or directory: unknown"
    )]
    NoSuchFile(String),
    /// The program is not executable (exit 126).
    #[error(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"{0}\": permission denied: unknown"
    )]
    PermissionDenied(String),
    /// Neither an entrypoint nor a command.
    #[error("No command specified")]
    NoCommand,
}

/// Runs programs to completion on a filesystem: the simulated shell and its utilities.
pub trait ProcessRunner {
    /// Runs `request.argv` in `fs`.
    fn run(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> ProcessResult;

    /// Whether the runner provides `program` (a utility it models) even if no file for it is
    /// in the image.
    fn provides(&self, program: &str) -> bool;

    /// Starts an interactive shell for `request` (`argv` is the shell alone) on `fs`, for
    /// [`Engine::open_session`](super::Engine::open_session); `None` when the runner has no
    /// simulated shell (a real runtime's processes read a real terminal).
    fn open_shell(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> Option<shell::Session> {
        let _ = (fs, request);
        None
    }

    /// Runs one typed line in `session` on `fs` at `now` (Unix seconds); the status given when
    /// `exit` ended the shell.
    fn shell_line(
        &mut self,
        fs: &mut UnionFs,
        session: &mut shell::Session,
        line: &str,
        now: i64,
    ) -> (ProcessResult, Option<i32>) {
        let _ = (fs, session, line, now);
        (ProcessResult::default(), Some(0))
    }
}

/// The simulated shell as a [`ProcessRunner`]: programs run as the shell's utilities over the
/// container's union filesystem, found as files in the image's `PATH` like a real shell would.
#[derive(Debug, Clone)]
pub struct ShellRunner {
    /// The programs available (builtins and utilities; package managers when registered).
    pub registry: Registry,
    /// Bounds on each run.
    pub limits: Limits,
}

impl Default for ShellRunner {
    fn default() -> Self {
        Self {
            registry: Registry::with_builtins(),
            limits: Limits::default(),
        }
    }
}

impl ShellRunner {
    /// The builtins, utilities and the package managers of `catalog` (apt-get, apk, pip, npm).
    pub fn with_catalog(catalog: &Arc<Catalog>) -> Self {
        let mut runner = Self::default();
        crate::sim::pkg::register(&mut runner.registry, catalog);
        runner
    }
}

impl ShellRunner {
    /// The shell's environment for `request`: its variables, `HOME` and `HOSTNAME`, the user's
    /// IDs and the working directory.
    fn env(fs: &UnionFs, request: &ProcessRequest) -> Env {
        let (uid, gid, home) = shell::resolve_user(fs, &request.user).unwrap_or((0, 0, None));
        let mut vars: BTreeMap<String, String> = request
            .env
            .iter()
            .map(|e| {
                let (k, v) = e.split_once('=').unwrap_or((e, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        vars.entry("HOME".into())
            .or_insert_with(|| home.unwrap_or_else(|| "/root".into()));
        vars.entry("HOSTNAME".into())
            .or_insert_with(|| request.hostname.clone());
        Env {
            vars,
            cwd: request.workdir.clone(),
            uid,
            gid,
            hostname: request.hostname.clone(),
            now: request.now,
            lookup: Lookup::Files,
            ..Env::default()
        }
    }
}

/// The simulated shell's outcome as a process result.
fn result_of(outcome: shell::Outcome, started: i64) -> ProcessResult {
    ProcessResult {
        seconds: outcome.now.saturating_sub(started).max(0),
        status: outcome.status,
        output: outcome
            .output
            .into_iter()
            .map(|c| {
                let stream = match c.stream {
                    shell::Stream::Stdout => Stream::Stdout,
                    shell::Stream::Stderr => Stream::Stderr,
                };
                (stream, String::from_utf8_lossy(&c.bytes).into_owned())
            })
            .collect(),
    }
}

impl ProcessRunner for ShellRunner {
    fn run(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> ProcessResult {
        let env = Self::env(fs, request);
        let shell_only = request.argv.len() == 1
            && matches!(base(&request.argv[0]), "sh" | "bash" | "ash" | "dash");
        // The copy-on-write events stay on `fs`: the engine reports them as its container's.
        let script;
        let argv = if shell_only && !request.stdin.is_empty() {
            script = [
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                String::from_utf8_lossy(&request.stdin).into_owned(),
            ];
            &script[..]
        } else {
            &request.argv[..]
        };
        let outcome = shell::run_leaving_events(fs, &env, argv, &self.registry, &self.limits);
        result_of(outcome, request.now)
    }

    fn open_shell(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> Option<shell::Session> {
        let env = Self::env(fs, request);
        let arg0 = base(request.argv.first()?);
        Some(shell::Session::new(fs, &env, arg0, &self.registry))
    }

    fn shell_line(
        &mut self,
        fs: &mut UnionFs,
        session: &mut shell::Session,
        line: &str,
        now: i64,
    ) -> (ProcessResult, Option<i32>) {
        let (outcome, exit) = session.run_line(fs, line, &self.registry, &self.limits, now);
        (result_of(outcome, now), exit)
    }

    fn provides(&self, program: &str) -> bool {
        matches!(
            self.registry.get(base(program)),
            Some((UtilityKind::Builtin, _))
        )
    }
}

fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// `path` made absolute against `cwd`.
pub fn absolute(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{}/{path}", cwd.trim_end_matches('/'))
    }
}

/// What a container's main process is doing, kept in the engine state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Process {
    /// It ran to completion (the container exited with its status).
    Finished,
    /// `sleep`: up until `until` (forever when `None`).
    Sleep {
        /// When it ends.
        until: Option<Timestamp>,
    },
    /// An interactive shell waiting for input.
    Shell,
    /// A command that ran in the simulated shell and took simulated time (its `sleep`s): the
    /// container runs until `at`, then exits with `status`. Its output is in the logs from
    /// the start (the simulation does not know when within the run each line was written).
    Exits {
        /// When it ends.
        at: Timestamp,
        /// Its exit status.
        status: i32,
    },
    /// A server answering HTTP requests on `port` inside the container.
    Server {
        /// The port it listens on inside the container.
        port: u16,
        /// How it answers.
        response: Response,
    },
    /// A program the simulation does not model: it stays up without output.
    Idle,
}

/// How a modelled server answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The same body for every path.
    Fixed(String),
    /// Files from this directory of the container's filesystem.
    Files(String),
}

/// The model for a long-running main process, recognised from `argv` and the container's
/// files; `None` when it is a short command for the runner.
pub fn recognise(
    fs: &UnionFs,
    request: &ProcessRequest,
    now: Timestamp,
) -> Option<(Process, Vec<(Stream, String)>)> {
    let argv = &request.argv;
    let mut program = base(argv.first()?);
    let mut args = &argv[1..];
    // The official images' entrypoint scripts end with `exec "$@"`: model what they exec.
    if program.ends_with("entrypoint.sh") && !args.is_empty() {
        program = base(&args[0]);
        args = &args[1..];
    }
    let interpreter = |names: &[&str]| {
        names
            .iter()
            .any(|n| program == *n || program.starts_with(&format!("{n}3")))
    };
    match program {
        "sleep" => {
            let secs = args.first().map_or("", String::as_str);
            let until = if secs == "infinity" {
                None
            } else {
                let n: f64 = secs.trim_end_matches('s').parse().ok()?;
                #[allow(clippy::cast_possible_truncation)] // sleep durations are small
                let nanos = (n * 1e9) as i64;
                Some(Timestamp(now.0.saturating_add(nanos)))
            };
            Some((Process::Sleep { until }, Vec::new()))
        }
        "nginx" => Some((
            Process::Server {
                port: 80,
                response: Response::Files("/usr/share/nginx/html".into()),
            },
            Vec::new(),
        )),
        "httpd" => Some((
            Process::Server {
                port: 80,
                response: Response::Files(request.workdir.clone()),
            },
            Vec::new(),
        )),
        _ if interpreter(&["python"])
            && args.first().is_some_and(|a| a == "-m")
            && args.get(1).is_some_and(|m| m == "http.server") =>
        {
            let port = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(8000);
            Some((
                Process::Server {
                    port,
                    response: Response::Files(request.workdir.clone()),
                },
                vec![(
                    Stream::Stdout,
                    format!("Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n"),
                )],
            ))
        }
        _ if interpreter(&["python"]) || program == "node" => {
            let script = args.iter().find(|a| !a.starts_with('-'))?;
            let source = fs
                .read(&absolute(&request.workdir, script))
                .ok()?
                .bytes()?
                .to_vec();
            let source = String::from_utf8_lossy(&source);
            let model = if program == "node" {
                node_server(&source)
            } else {
                flask_server(&source, request)
            };
            Some(model.unwrap_or((Process::Idle, Vec::new())))
        }
        _ => None,
    }
}

/// The first string literal in `s` (single, double or back quotes), unescaping `\n`.
fn string_literal(s: &str) -> Option<String> {
    let start = s.find(['"', '\'', '`'])?;
    let quote = s[start..].chars().next()?;
    let rest = &s[start + 1..];
    let end = rest.find(quote)?;
    Some(rest[..end].replace("\\n", "\n"))
}

fn number_after(source: &str, marker: &str) -> Option<u16> {
    let at = source.find(marker)? + marker.len();
    let digits: String = source[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A Node `http.createServer(… res.end('…') …).listen(N)` app.
fn node_server(source: &str) -> Option<(Process, Vec<(Stream, String)>)> {
    if !source.contains("createServer") {
        return None;
    }
    let body = string_literal(&source[source.find("res.end(")? + 8..])?;
    let port = number_after(source, ".listen(").unwrap_or(3000);
    let mut logs = Vec::new();
    if let Some(at) = source.find("console.log(")
        && let Some(mut line) = string_literal(&source[at + 12..])
    {
        // Fill `${name}` from `const name = 'x'` / `const port = 3000` in the source.
        while let Some(start) = line.find("${") {
            let Some(end) = line[start..].find('}') else {
                break;
            };
            let name = line[start + 2..start + end].to_owned();
            let value = ["const", "let", "var"]
                .iter()
                .find_map(|kw| {
                    let decl = format!("{kw} {name} = ");
                    let rest = &source[source.find(&decl)? + decl.len()..];
                    string_literal(rest.lines().next()?).or_else(|| {
                        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        (!n.is_empty()).then_some(n)
                    })
                })
                .unwrap_or_default();
            line.replace_range(start..=start + end, &value);
        }
        logs.push((Stream::Stdout, format!("{line}\n")));
    }
    Some((
        Process::Server {
            port,
            response: Response::Fixed(body),
        },
        logs,
    ))
}

/// A Flask app: the `/` route's returned string (a literal, or a variable holding one, with
/// `.format(k=os.getenv("VAR", "default"), h=socket.gethostname())` filled in) on the port of
/// `app.run(port=N)` (5000 by default).
fn flask_server(
    source: &str,
    request: &ProcessRequest,
) -> Option<(Process, Vec<(Stream, String)>)> {
    if !source.contains("Flask(") {
        return None;
    }
    let port = number_after(source, "port=").unwrap_or(5000);
    let route = source.find("@app.route(")?;
    let body_src = &source[route..];
    let ret = body_src.find("return ")? + 7;
    let returned = body_src[ret..].lines().next()?.trim();
    let mut body = if returned.starts_with(['"', '\'']) {
        string_literal(returned)?
    } else {
        let var = returned.split(['.', ' ', '(']).next()?;
        let assign = body_src.find(&format!("{var} = "))?;
        string_literal(&body_src[assign..])?
    };
    if let Some(args) = returned.find(".format(").map(|i| &returned[i + 8..]) {
        for pair in args.split("),").map(str::trim) {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim();
            let filled = if value.starts_with("socket.gethostname") {
                request.hostname.clone()
            } else if let Some(rest) = value.strip_prefix("os.getenv(") {
                let mut parts = rest.split(',');
                let var = string_literal(parts.next()?)?;
                let default = parts.next().and_then(string_literal).unwrap_or_default();
                request
                    .env
                    .iter()
                    .find_map(|e| e.strip_prefix(&format!("{var}=")))
                    .map_or(default, str::to_owned)
            } else {
                continue;
            };
            body = body.replace(&format!("{{{}}}", key.trim()), &filled);
        }
    }
    let logs = format!(
        " * Serving Flask app 'app'\n * Debug mode: off\nWARNING: This is a development server. Do not use it in a production deployment. Use a production WSGI server instead.\n * Running on all addresses (0.0.0.0)\n * Running on http://127.0.0.1:{port}\n * Running on http://172.17.0.2:{port}\nPress CTRL+C to quit\n"
    );
    Some((
        Process::Server {
            port,
            response: Response::Fixed(body),
        },
        vec![(Stream::Stderr, logs)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::LayerStack;

    fn request(argv: &[&str]) -> ProcessRequest {
        ProcessRequest {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            env: vec!["NAME=World".into()],
            workdir: "/app".into(),
            user: String::new(),
            hostname: "0123456789ab".into(),
            stdin: Vec::new(),
            now: 0,
        }
    }

    #[test]
    fn the_articles_flask_app_serves_hello_world() {
        let mut fs = UnionFs::new(LayerStack::new());
        fs.mkdir_all("/app", 0o755).unwrap();
        let app = crate::examples::python().file("app.py").unwrap();
        fs.write("/app/app.py", app.as_bytes(), 0o644).unwrap();
        let (process, logs) =
            recognise(&fs, &request(&["python", "app.py"]), Timestamp(0)).unwrap();
        assert_eq!(
            process,
            Process::Server {
                port: 80,
                response: Response::Fixed(
                    "<h3>Hello World!</h3><b>Hostname:</b> 0123456789ab<br/>".into()
                )
            }
        );
        assert!(logs[0].1.contains("Running on http://127.0.0.1:80"));
    }

    #[test]
    fn a_node_server_and_sleep_and_short_commands() {
        let mut fs = UnionFs::new(LayerStack::new());
        fs.mkdir_all("/app", 0o755).unwrap();
        let src = "const http = require('http');\nhttp.createServer((req, res) => {\n  res.end('Hello World\\n');\n}).listen(3000);\nconsole.log('Server running');\n";
        fs.write("/app/app.js", src.as_bytes(), 0o644).unwrap();
        let argv = ["docker-entrypoint.sh", "node", "app.js"];
        let (process, logs) = recognise(&fs, &request(&argv), Timestamp(0)).unwrap();
        assert_eq!(
            process,
            Process::Server {
                port: 3000,
                response: Response::Fixed("Hello World\n".into())
            }
        );
        assert_eq!(logs, vec![(Stream::Stdout, "Server running\n".to_owned())]);
        assert_eq!(
            recognise(&fs, &request(&["sleep", "2"]), Timestamp(0))
                .unwrap()
                .0,
            Process::Sleep {
                until: Some(Timestamp(2_000_000_000))
            }
        );
        assert!(recognise(&fs, &request(&["echo", "hi"]), Timestamp(0)).is_none());
        let mut runner = ShellRunner::default();
        assert!(runner.provides("echo"));
        assert!(!runner.provides("cat"));
        let r = runner.run(
            &mut fs,
            &request(&["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]),
        );
        assert_eq!(r.status, 3);
        assert_eq!(
            r.output,
            vec![
                (Stream::Stdout, "out\n".to_owned()),
                (Stream::Stderr, "err\n".to_owned())
            ]
        );
    }
}
