//! The registry of simulated programs and the context a program runs in.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use super::Limits;
use super::exec::{Input, Shell};
use crate::fs::{FileData, FsError, UnionFs};

/// A simulated program: what runs when a command names it.
///
/// `args[0]` is the name as invoked (`ls`, `/bin/ls`, `apt-get`). The return value is the exit
/// status (only its low 8 bits count, as for a real process). Output goes through
/// [`Ctx::out`] and [`Ctx::err`]; files through [`Ctx::fs`].
///
/// ```
/// use layerbox_core::sim::shell::{Ctx, Registry, Utility, UtilityKind};
/// struct Hello;
/// impl Utility for Hello {
///     fn run(&self, ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
///         ctx.out(format!("hello from {}\n", args[0]));
///         0
///     }
/// }
/// let mut registry = Registry::with_builtins();
/// registry.register("hello", UtilityKind::External, Hello);
/// ```
pub trait Utility: Send + Sync {
    /// Runs the program with its arguments; returns the exit status.
    fn run(&self, ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32;
}

/// A utility written as a plain function.
pub type UtilityFn = fn(&mut Ctx<'_, '_>, &[String]) -> i32;

struct FnUtility(UtilityFn);

impl Utility for FnUtility {
    fn run(&self, ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
        (self.0)(ctx, args)
    }
}

/// How the shell finds a utility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtilityKind {
    /// Built into the shell (dash's `echo`, `printf`, `test`, `pwd` …): found without a file.
    Builtin,
    /// A program: found only as an executable file in `PATH` (unless the run's
    /// [`super::Lookup`] says every registered program counts as installed).
    External,
}

/// The simulated programs, by name. Package managers plug in with [`Registry::register`].
#[derive(Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, (UtilityKind, Arc<dyn Utility>)>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.entries.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shell builtins and the basic utilities (coreutils, tar, sed, grep, curl …).
    pub fn with_builtins() -> Self {
        let mut r = Self::new();
        super::utils::register_all(&mut r);
        r
    }

    /// Adds or replaces the program `name`.
    pub fn register(&mut self, name: &str, kind: UtilityKind, utility: impl Utility + 'static) {
        self.entries
            .insert(name.to_owned(), (kind, Arc::new(utility)));
    }

    /// Adds or replaces the program `name`, written as a function.
    pub fn register_fn(&mut self, name: &str, kind: UtilityKind, f: UtilityFn) {
        self.register(name, kind, FnUtility(f));
    }

    /// The program registered as `name`.
    pub fn get(&self, name: &str) -> Option<(UtilityKind, Arc<dyn Utility>)> {
        self.entries.get(name).map(|(k, u)| (*k, Arc::clone(u)))
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// What a running utility sees: the filesystem, its environment, stdin, and where its output
/// goes. Output is bounded by the run's [`Limits`]; past the bound it is dropped and the run
/// stops with a limit error once the utility returns.
pub struct Ctx<'c, 'a> {
    pub(crate) sh: &'c mut Shell<'a>,
    /// The environment the program got (exported variables plus `NAME=value` prefixes).
    pub env: BTreeMap<String, String>,
    /// Standard input, read from its source the first time it is asked for (a program that
    /// does not read leaves it for the next reader).
    stdin_src: Option<Rc<Input>>,
    stdin: OnceCell<Arc<Vec<u8>>>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) overflow: bool,
}

impl<'c, 'a> Ctx<'c, 'a> {
    pub(crate) fn new(
        sh: &'c mut Shell<'a>,
        env: BTreeMap<String, String>,
        stdin: Option<Rc<Input>>,
    ) -> Self {
        Self {
            sh,
            env,
            stdin_src: stdin,
            stdin: OnceCell::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            overflow: false,
        }
    }

    /// The filesystem, for changes.
    pub fn fs(&mut self) -> &mut UnionFs {
        self.sh.fs
    }

    /// The filesystem, for reading.
    pub fn fs_ref(&self) -> &UnionFs {
        self.sh.fs
    }

    /// Standard input.
    pub fn stdin(&self) -> &[u8] {
        self.stdin_arc()
    }

    fn stdin_arc(&self) -> &Arc<Vec<u8>> {
        self.stdin.get_or_init(|| {
            self.stdin_src
                .as_ref()
                .map_or_else(|| Arc::new(Vec::new()), |i| i.take())
        })
    }

    /// The working directory (absolute).
    pub fn cwd(&self) -> &str {
        &self.sh.st.cwd
    }

    /// `path` made absolute against the working directory and normalised lexically.
    pub fn abs(&self, path: &str) -> String {
        super::exec::absolute(&self.sh.st.cwd, path)
    }

    /// The process's user ID.
    pub fn uid(&self) -> u32 {
        self.sh.st.uid
    }

    /// The process's group ID.
    pub fn gid(&self) -> u32 {
        self.sh.st.gid
    }

    /// The file mode creation mask.
    pub fn umask(&self) -> u32 {
        self.sh.st.umask
    }

    /// The host name (`hostname`, `uname -n`).
    pub fn hostname(&self) -> &str {
        &self.sh.hostname
    }

    /// The simulated clock, seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.sh.now
    }

    /// Moves the simulated clock on (what `sleep` does instead of waiting).
    pub fn advance_clock(&mut self, seconds: i64) {
        self.sh.now = self.sh.now.saturating_add(seconds.max(0));
        self.sh.fs.set_now(self.sh.now);
    }

    /// The run's bounds.
    pub fn limits(&self) -> &Limits {
        &self.sh.limits
    }

    /// Whether `/bin/sh` is busybox (its `echo` and some texts differ from dash's).
    pub fn busybox(&self) -> bool {
        self.sh.busybox
    }

    /// Prints `$0: line: message` on stderr, as the shell reports a builtin's error.
    pub fn diag(&mut self, message: &str) {
        let text = format!("{}: {}: {message}\n", self.sh.st.arg0, self.sh.line);
        self.err(text);
    }

    /// Where `PATH` lookup finds the program `name` (what `which` prints).
    pub fn which(&self, name: &str) -> Option<String> {
        let path = self.env.get("PATH").cloned();
        self.sh.which(name, path)
    }

    /// An environment variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// Writes to standard output.
    pub fn out(&mut self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        if self.stdout.len() + bytes.len() > self.sh.limits.max_output {
            self.overflow = true;
            return;
        }
        self.stdout.extend_from_slice(bytes);
    }

    /// Writes to standard error.
    pub fn err(&mut self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        if self.stderr.len() + bytes.len() > self.sh.limits.max_output {
            self.overflow = true;
            return;
        }
        self.stderr.extend_from_slice(bytes);
    }

    /// Writes `name: message` and a newline to standard error, the usual shape of an error.
    pub fn error(&mut self, name: &str, message: impl fmt::Display) {
        self.err(format!("{name}: {message}\n"));
    }

    /// Whether the output overflowed the run's bound (a utility producing output in a loop
    /// should stop when this turns true).
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// The bytes of the file `path` (relative to the working directory) leads to. A file with
    /// simulated content reads as empty.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let p = self.abs(path);
        if p == "/dev/null" {
            return Ok(Vec::new());
        }
        Ok(self
            .sh
            .fs
            .read(&p)?
            .bytes()
            .map(<[u8]>::to_vec)
            .unwrap_or_default())
    }

    /// Writes a file (relative to the working directory), creating it with `mode` minus the
    /// umask. Fails with `EFBIG`-like [`FsError::InvalidArgument`] past the file size bound.
    pub fn write_file(&mut self, path: &str, data: FileData, mode: u32) -> Result<(), FsError> {
        let p = self.abs(path);
        if p == "/dev/null" {
            return Ok(());
        }
        if data.len() > self.sh.limits.max_file_size {
            self.sh.file_too_big(&p);
            return Err(FsError::InvalidArgument(p));
        }
        let mode = mode & !self.sh.st.umask;
        self.sh.fs.write_data(&p, data, mode)
    }

    /// Runs another program (`env cmd`, `xargs`, `find -exec`, `sh -c`): the command is looked up
    /// as the shell would (no functions or special builtins, as for a new process), with `env`
    /// as its environment; its output is appended to this utility's output.
    pub fn run(&mut self, argv: &[String], env: BTreeMap<String, String>, stdin: &[u8]) -> i32 {
        let (status, out, err) = self.sh.run_process(argv, env, stdin);
        self.out(out);
        self.err(err);
        status
    }

    /// Runs a shell script as a new `sh` process would: `$0` is `arg0`, the positional
    /// parameters `args`, the variables this utility's environment.
    pub fn run_script(&mut self, script: &str, arg0: &str, args: &[String]) -> i32 {
        self.run_shell_script(script, arg0, args, false)
    }

    /// [`Ctx::run_script`] by `bash` (its grammar) or `sh`.
    pub(crate) fn run_shell_script(
        &mut self,
        script: &str,
        arg0: &str,
        args: &[String],
        bash: bool,
    ) -> i32 {
        let stdin = Arc::clone(self.stdin_arc());
        let env = self.env.clone();
        let (status, out, err) =
            self.sh
                .run_script_process(script, (arg0, args), env, &stdin, bash);
        self.out(out);
        self.err(err);
        status
    }

    pub(crate) fn finish(self) -> (Vec<u8>, Vec<u8>, bool) {
        (self.stdout, self.stderr, self.overflow)
    }
}
