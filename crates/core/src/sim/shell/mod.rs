//! A POSIX shell subset: the language of `RUN` lines, parsed as dash parses it and run on the
//! union filesystem by simulated utilities.
//!
//! The builder runs `RUN` steps through [`SimRun`], the simulated `build::RunBackend`.
//! Underneath, give [`run`] the step's filesystem, its environment and its argv
//! (`["/bin/sh", "-c", "…"]` for the shell form, the program's argv for the exec form); it
//! returns the exit status, the output and the copy-on-write events. Nothing real runs: every
//! program is a [`Utility`] from a [`Registry`] that acts on the [`UnionFs`], and hitting one of
//! the [`Limits`] ends the run with an error instead of a hang.
//!
//! ```
//! use layerbox_core::fs::{LayerStack, UnionFs};
//! use layerbox_core::sim::shell::{self, Env, Limits, Lookup, Registry};
//! let mut fs = UnionFs::new(LayerStack::new());
//! let env = Env { lookup: Lookup::Registry, ..Env::default() };
//! let argv = ["/bin/sh", "-c", "mkdir -p /app && echo hi > /app/x && cat /app/x; nope"];
//! let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
//! let out = shell::run(&mut fs, &env, &argv, &Registry::with_builtins(), &Limits::default());
//! assert_eq!(out.status, 127);
//! assert_eq!(out.stdout(), b"hi\n");
//! assert_eq!(out.stderr(), b"/bin/sh: 1: nope: not found\n");
//! ```
//!
//! # Plugging in programs
//!
//! Package managers and other programs implement [`Utility`] and are added with
//! [`Registry::register`] as [`UtilityKind::External`]: they run when the command name is
//! found as an executable file in `PATH` (so `apt-get` runs where the image has
//! `/usr/bin/apt-get`), or always when the run's [`Env::lookup`] is [`Lookup::Registry`]. A
//! utility gets a [`Ctx`]: the filesystem ([`Ctx::fs`]), its environment ([`Ctx::env`]), the
//! working directory, uid/gid/umask, stdin, the simulated clock, and [`Ctx::out`]/[`Ctx::err`]
//! for output. It can run other programs with [`Ctx::run`] and scripts with
//! [`Ctx::run_script`]. Error texts should be the real program's.

mod arith;
pub mod ast;
mod backend;
mod exec;
mod expand;
mod parse;
mod pattern;
mod utility;
mod utils;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use backend::{SimRun, resolve_user};
pub use parse::{SyntaxError, is_name, parse, parse_as, parse_heredoc_body};
pub use utility::{Ctx, Registry, Utility, UtilityFn, UtilityKind};
pub(crate) use utils::mode_string;

use crate::fs::{FsEvent, UnionFs};

/// How commands that are not shell builtins are found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// As a real shell: an executable file must exist in `PATH`; its name picks the model.
    #[default]
    Files,
    /// A program found in `PATH` runs as with `Files`; any other registered program runs as
    /// if installed (for images modelled without complete file trees, and for tests).
    Registry,
}

/// The process environment a run starts with (what `ENV`, `WORKDIR` and `USER` give a step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Env {
    /// Environment variables, all exported.
    pub vars: BTreeMap<String, String>,
    /// Working directory (absolute).
    pub cwd: String,
    /// User ID.
    pub uid: u32,
    /// Group ID.
    pub gid: u32,
    /// File mode creation mask.
    pub umask: u32,
    /// The container's host name.
    pub hostname: String,
    /// The simulated clock at the start, seconds since the epoch (stamped on changed files).
    pub now: i64,
    /// How programs are found.
    pub lookup: Lookup,
}

impl Default for Env {
    fn default() -> Self {
        Self {
            vars: BTreeMap::from([
                ("PATH".to_owned(), exec::DEFAULT_PATH.to_owned()),
                ("HOME".to_owned(), "/root".to_owned()),
            ]),
            cwd: "/".to_owned(),
            uid: 0,
            gid: 0,
            umask: 0o022,
            hostname: "buildkitsandbox".to_owned(),
            now: 0,
            lookup: Lookup::Files,
        }
    }
}

/// Bounds on a run, so that no script can hang the simulator or exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Commands run plus loop iterations.
    pub max_steps: u64,
    /// Bytes of output (and of any one pipe or `$(…)` buffer).
    pub max_output: usize,
    /// Bytes of any one file written.
    pub max_file_size: u64,
    /// Nesting of function calls, subshells, `eval` and sourced files.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_steps: 200_000,
            max_output: 4 << 20,
            max_file_size: 256 << 20,
            max_depth: 200,
        }
    }
}

/// The bound a run hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum LimitExceeded {
    /// Too many commands or loop iterations.
    #[error(
        "the simulated shell stopped after {0} commands and loop iterations (a loop that never ends?)"
    )]
    Steps(u64),
    /// Too much output.
    #[error("the simulated shell stopped: output went over {0} bytes")]
    Output(usize),
    /// A file grew too large.
    #[error("the simulated shell stopped: `{path}` went over {limit} bytes")]
    FileSize {
        /// The file.
        path: String,
        /// The bound.
        limit: u64,
    },
    /// Nesting too deep (runaway recursion).
    #[error("the simulated shell stopped: calls nested deeper than {0} (runaway recursion?)")]
    Depth(usize),
}

/// Which output stream a chunk went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of output, in the order it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Where it went.
    pub stream: Stream,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Exit status (0-255).
    pub status: i32,
    /// Output, interleaved in the order it was written.
    pub output: Vec<Chunk>,
    /// Copy-ups, whiteouts and opaque directories, in order.
    pub events: Vec<FsEvent>,
    /// The bound hit, if the run was stopped.
    pub limit: Option<LimitExceeded>,
    /// The simulated clock at the end (`sleep` moves it on).
    pub now: i64,
}

impl Outcome {
    /// Everything written to standard output.
    pub fn stdout(&self) -> Vec<u8> {
        self.stream(Stream::Stdout)
    }

    /// Everything written to standard error.
    pub fn stderr(&self) -> Vec<u8> {
        self.stream(Stream::Stderr)
    }

    fn stream(&self, s: Stream) -> Vec<u8> {
        self.output
            .iter()
            .filter(|c| c.stream == s)
            .flat_map(|c| c.bytes.iter().copied())
            .collect()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.output {
            f.write_str(&String::from_utf8_lossy(&c.bytes))?;
        }
        Ok(())
    }
}

/// Runs a container process's `argv` on `fs`: `["/bin/sh", "-c", script, …]` (any of `sh`,
/// `bash`, `dash`, `ash`) interprets the script; any other argv runs that program directly.
pub fn run(
    fs: &mut UnionFs,
    env: &Env,
    argv: &[String],
    registry: &Registry,
    limits: &Limits,
) -> Outcome {
    let mut outcome = run_leaving_events(fs, env, argv, registry, limits);
    outcome.events = fs.take_events();
    outcome
}

/// [`run`], leaving the copy-on-write events on `fs` for the caller to take
/// ([`UnionFs::take_events`]) with the rest of its container's.
pub fn run_leaving_events(
    fs: &mut UnionFs,
    env: &Env,
    argv: &[String],
    registry: &Registry,
    limits: &Limits,
) -> Outcome {
    let mut sh = exec::Shell::new(fs, registry, env, *limits);
    let status = sh.run_main(argv);
    finish(sh, status)
}

/// The outcome of a run that ended with `status`, the bound it hit reported on stderr.
fn finish(mut sh: exec::Shell<'_>, mut status: i32) -> Outcome {
    let limit = sh.limit.take();
    let mut output = std::mem::take(&mut sh.output);
    if let Some(l) = &limit {
        status = 2;
        output.push(Chunk {
            stream: Stream::Stderr,
            bytes: format!("layerbox: {l}\n").into_bytes(),
        });
    }
    Outcome {
        status,
        output,
        events: Vec::new(),
        limit,
        now: sh.now,
    }
}

/// An interactive shell (`docker run -it img sh`, `docker exec -it c bash`): its variables,
/// functions, options, working directory and last status carry from one typed line to the next.
#[derive(Debug, Clone)]
pub struct Session {
    pub(crate) st: exec::State,
    pub(crate) bash: bool,
    /// The line number the next line starts at (dash counts lines in its messages).
    pub(crate) line: usize,
    hostname: String,
    lookup: Lookup,
}

impl Session {
    /// A shell started as `arg0` (`sh`, `bash`) in `env`, on `fs` (the shell starts on it).
    pub fn new(fs: &mut UnionFs, env: &Env, arg0: &str, registry: &Registry) -> Self {
        let mut sh = exec::Shell::new(fs, registry, env, Limits::default());
        arg0.clone_into(&mut sh.st.arg0);
        Self {
            st: sh.st.clone(),
            bash: arg0.rsplit('/').next() == Some("bash"),
            line: 1,
            hostname: env.hostname.clone(),
            lookup: env.lookup,
        }
    }

    /// Runs one typed line on `fs` at `now` (Unix seconds); returns what it did, and the exit
    /// status when `exit` ended the shell. The copy-on-write events stay on `fs` for the
    /// caller to take ([`UnionFs::take_events`]) with the rest of its container's.
    pub fn run_line(
        &mut self,
        fs: &mut UnionFs,
        line: &str,
        registry: &Registry,
        limits: &Limits,
        now: i64,
    ) -> (Outcome, Option<i32>) {
        let env = Env {
            vars: BTreeMap::new(),
            cwd: self.st.cwd.clone(),
            uid: self.st.uid,
            gid: self.st.gid,
            umask: self.st.umask,
            hostname: self.hostname.clone(),
            now,
            lookup: self.lookup,
        };
        let mut sh = exec::Shell::new(fs, registry, &env, *limits);
        let (status, exit) = sh.run_session_line(self, line);
        let outcome = finish(sh, status);
        let status = outcome.status;
        (outcome, exit.then_some(status))
    }

    /// The working directory.
    pub fn cwd(&self) -> &str {
        &self.st.cwd
    }

    /// A variable's value, if set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.st.vars.get(name).and_then(|v| v.value.as_deref())
    }

    /// The user ID the shell runs as.
    pub fn uid(&self) -> u32 {
        self.st.uid
    }

    /// The last command's status (`$?`).
    pub fn last_status(&self) -> i32 {
        self.st.last_status
    }
}

/// [`run`] for a script: `/bin/sh -c script`.
pub fn run_script(
    fs: &mut UnionFs,
    env: &Env,
    script: &str,
    registry: &Registry,
    limits: &Limits,
) -> Outcome {
    let argv = ["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()];
    run(fs, env, &argv, registry, limits)
}
