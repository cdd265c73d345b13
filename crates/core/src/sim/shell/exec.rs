//! The interpreter: runs a parsed [`Program`] on the union filesystem.
//!
//! Pipelines run one command after the other through in-memory buffers; every command of a
//! multi-command pipeline runs in a subshell, as dash runs them. File descriptors 0 to 9 are
//! modelled; output goes to the run's streams, to a buffer (pipe, `$(…)`), to a file or nowhere.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::ast::{
    AndOr, Command, CompoundCommand, CondToken, Connector, Pipeline, Program, Redirect, RedirectOp,
    SimpleCommand, WordPart,
};
use super::pattern::Pattern;
use super::utility::{Ctx, Registry, UtilityKind};
use super::{Chunk, Env, LimitExceeded, Limits, Lookup, Stream};
use crate::fs::{FileType, UnionFs};

/// dash's `PATH` when none is set.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why the normal flow of commands stopped.
#[derive(Debug)]
pub(crate) enum Flow {
    /// `exit n`, or an error that ends a non-interactive shell.
    Exit(i32),
    /// `break n`.
    Break(usize),
    /// `continue n`.
    Continue(usize),
    /// `return n`.
    Return(i32),
    /// A limit was hit: the whole run ends (recorded in `Shell::limit`).
    Abort,
}

pub(crate) type R<T> = Result<T, Flow>;

/// Where an output file descriptor leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Stream(Stream),
    Buffer(usize),
    File(String),
    Null,
}

/// An open input with its read position, shared by the descriptors that dup it (so that
/// `while read line` moves through its input).
#[derive(Debug)]
pub(crate) struct Input {
    data: Vec<u8>,
    pos: Cell<usize>,
}

impl Input {
    fn open(data: Vec<u8>) -> Fd {
        Fd::In(Rc::new(Self {
            data,
            pos: Cell::new(0),
        }))
    }

    /// Everything not read yet; it counts as read.
    pub(crate) fn take(&self) -> Arc<Vec<u8>> {
        let at = self.pos.replace(self.data.len()).min(self.data.len());
        Arc::new(self.data[at..].to_vec())
    }

    /// The next line without its newline, and whether one was there at all.
    fn read_line(&self) -> Option<(String, bool)> {
        let at = self.pos.get().min(self.data.len());
        let rest = &self.data[at..];
        if rest.is_empty() {
            return None;
        }
        let (line, used, newline) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], i + 1, true),
            None => (rest, rest.len(), false),
        };
        self.pos.set(at + used);
        Some((String::from_utf8_lossy(line).into_owned(), newline))
    }
}

/// One file descriptor.
#[derive(Debug, Clone)]
pub(crate) enum Fd {
    Closed,
    In(Rc<Input>),
    Out(Target),
}

/// The file descriptors of a command.
#[derive(Debug, Clone)]
pub(crate) struct Io {
    pub(crate) fds: [Fd; 10],
}

impl Io {
    fn top(stdin: &[u8]) -> Self {
        let mut fds: [Fd; 10] = std::array::from_fn(|_| Fd::Closed);
        fds[0] = Input::open(stdin.to_vec());
        fds[1] = Fd::Out(Target::Stream(Stream::Stdout));
        fds[2] = Fd::Out(Target::Stream(Stream::Stderr));
        Self { fds }
    }

    fn with(&self, fd: usize, to: Fd) -> Self {
        let mut io = self.clone();
        io.fds[fd] = to;
        io
    }

    /// Standard input not read yet, taken whole (a program reads all it is given).
    pub(crate) fn stdin(&self) -> Arc<Vec<u8>> {
        match &self.fds[0] {
            Fd::In(input) => input.take(),
            _ => Arc::new(Vec::new()),
        }
    }
}

/// A shell variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    pub(crate) value: Option<String>,
    pub(crate) exported: bool,
    pub(crate) readonly: bool,
}

/// `set` options.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Opts {
    pub(crate) errexit: bool,
    pub(crate) xtrace: bool,
    pub(crate) nounset: bool,
    pub(crate) noglob: bool,
    /// bash's and busybox's `pipefail` (dash has none).
    pub(crate) pipefail: bool,
}

/// What a subshell copies.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) vars: BTreeMap<String, Var>,
    pub(crate) functions: BTreeMap<String, Arc<CompoundCommand>>,
    pub(crate) positional: Vec<String>,
    pub(crate) cwd: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) umask: u32,
    pub(crate) opts: Opts,
    pub(crate) last_status: i32,
    pub(crate) arg0: String,
}

/// The interpreter.
pub(crate) struct Shell<'a> {
    pub(crate) fs: &'a mut UnionFs,
    pub(crate) registry: &'a Registry,
    pub(crate) limits: Limits,
    pub(crate) lookup: Lookup,
    pub(crate) st: State,
    pub(crate) hostname: String,
    pub(crate) busybox: bool,
    /// Invoked as bash (`SHELL ["/bin/bash", "-c"]`): `set -o pipefail` is allowed.
    bash: bool,
    pub(crate) now: i64,
    pub(crate) output: Vec<Chunk>,
    output_len: usize,
    buffers: Vec<Vec<u8>>,
    steps: u64,
    depth: usize,
    loop_depth: usize,
    /// Function calls and sourced files being run (where `return` is allowed).
    func_depth: usize,
    /// Per function call, the variables `local` shadowed and their values before.
    locals: Vec<Vec<(String, Option<Var>)>>,
    errexit_off: usize,
    pub(crate) line: usize,
    pub(crate) subst_status: Option<i32>,
    pub(crate) limit: Option<LimitExceeded>,
    /// The `exit` builtin ran (an interactive shell ends only then).
    exit_called: bool,
}

/// Special builtins: handled by the shell itself, and their assignments persist.
const SPECIAL: [&str; 16] = [
    ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "times", "trap", "unset", "source",
];

/// Regular builtins that need the shell's own state.
const SHELL_BUILTINS: [&str; 13] = [
    "cd", "read", "umask", "command", "type", "local", "wait", "alias", "unalias", "hash",
    "ulimit", "getopts", "jobs",
];

impl<'a> Shell<'a> {
    pub(crate) fn new(
        fs: &'a mut UnionFs,
        registry: &'a Registry,
        env: &Env,
        limits: Limits,
    ) -> Self {
        let vars = env
            .vars
            .iter()
            .map(|(k, v)| {
                let var = Var {
                    value: Some(v.clone()),
                    exported: true,
                    readonly: false,
                };
                (k.clone(), var)
            })
            .collect();
        fs.set_now(env.now);
        fs.set_owner(env.uid, env.gid);
        let busybox = fs
            .canonicalize("/bin/sh")
            .is_ok_and(|p| file_name(&p) == "busybox");
        Self {
            fs,
            registry,
            limits,
            lookup: env.lookup,
            st: State {
                vars,
                functions: BTreeMap::new(),
                positional: Vec::new(),
                cwd: absolute("/", &env.cwd),
                uid: env.uid,
                gid: env.gid,
                umask: env.umask,
                opts: Opts::default(),
                last_status: 0,
                arg0: "/bin/sh".to_owned(),
            },
            hostname: env.hostname.clone(),
            busybox,
            bash: false,
            now: env.now,
            output: Vec::new(),
            output_len: 0,
            buffers: Vec::new(),
            steps: 0,
            depth: 0,
            loop_depth: 0,
            func_depth: 0,
            locals: Vec::new(),
            errexit_off: 0,
            line: 1,
            subst_status: None,
            limit: None,
            exit_called: false,
        }
    }

    /// Runs one line typed into an interactive shell whose state is `session`, and keeps the
    /// state it leaves; returns the status and whether `exit` ended the shell. Unlike a script,
    /// a syntax error or a failed command does not end an interactive shell.
    pub(crate) fn run_session_line(
        &mut self,
        session: &mut super::Session,
        src: &str,
    ) -> (i32, bool) {
        std::mem::swap(&mut self.st, &mut session.st);
        self.bash = session.bash;
        self.line = session.line;
        let io = Io::top(&[]);
        let r = match super::parse(src) {
            Ok(program) => self.run_program(&program, &io),
            Err(e) => {
                self.line = session.line + e.line.saturating_sub(1);
                let _ = self.diag(&io, &e.to_string());
                Ok(2)
            }
        };
        let (status, exit) = match r {
            Ok(s) | Err(Flow::Return(s)) => (s & 0xff, false),
            Err(Flow::Exit(s)) => (s & 0xff, self.exit_called),
            Err(Flow::Break(_) | Flow::Continue(_)) => (0, false),
            Err(Flow::Abort) => (2, false),
        };
        self.st.last_status = status;
        std::mem::swap(&mut self.st, &mut session.st);
        session.line += src.lines().count().max(1);
        (status, exit)
    }

    // ----- entry points -----

    /// Runs `argv` as a container process: `sh -c script` runs the script, anything else the
    /// program directly (exec form).
    pub(crate) fn run_main(&mut self, argv: &[String]) -> i32 {
        let io = Io::top(&[]);
        let r = match argv {
            [] => Ok(0),
            [sh, rest @ ..] if is_shell(sh) && rest.iter().any(|a| a == "-c") => {
                self.bash = file_name(sh) == "bash";
                // Options before `-c` (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`).
                let at = rest.iter().position(|a| a == "-c").unwrap_or(0);
                let mut opts: Vec<String> = rest[..at].to_vec();
                if !opts.is_empty() {
                    opts.retain(|o| o != "-l" && o != "--login");
                    if let Err(e) = self.builtin_set(&opts, &io) {
                        return match e {
                            Flow::Exit(s) => s,
                            _ => 2,
                        };
                    }
                }
                let Some(script) = rest.get(at + 1) else {
                    let msg = format!("{sh}: -c: option requires an argument\n");
                    let _ = self.emit(&Target::Stream(Stream::Stderr), msg.as_bytes());
                    return 2;
                };
                let (arg0, args) = match &rest[at + 2..] {
                    [] => (sh.clone(), Vec::new()),
                    [a0, args @ ..] => (a0.clone(), args.to_vec()),
                };
                self.st.arg0 = arg0;
                self.st.positional = args;
                self.run_source(script, &io)
            }
            _ => {
                let env = self.exported_env();
                match self.find_program(&argv[0], &env) {
                    Found::Nothing => {
                        let msg = format!(
                            "exec: \"{}\": executable file not found in $PATH\n",
                            argv[0]
                        );
                        self.emit(&Target::Stream(Stream::Stderr), msg.as_bytes())
                            .map(|()| 127)
                    }
                    _ => self.exec_program(argv, env, &io),
                }
            }
        };
        match r {
            Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => s & 0xff,
            Err(Flow::Break(_) | Flow::Continue(_)) => 0,
            Err(Flow::Abort) => 2,
        }
    }

    /// Parses and runs a script; a syntax error is reported as dash reports it (status 2).
    fn run_source(&mut self, src: &str, io: &Io) -> R<i32> {
        match super::parse_as(src, self.bash) {
            Ok(program) => self.run_program(&program, io),
            Err(e) => {
                self.line = e.line;
                self.diag(io, &e.to_string())?;
                Err(Flow::Exit(2))
            }
        }
    }

    // ----- output -----

    /// Writes to a target, enforcing the bounds.
    pub(crate) fn emit(&mut self, target: &Target, bytes: &[u8]) -> R<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        match target {
            Target::Null => Ok(()),
            Target::Stream(stream) => {
                self.output_len += bytes.len();
                if self.output_len > self.limits.max_output {
                    return self.abort(LimitExceeded::Output(self.limits.max_output));
                }
                match self.output.last_mut() {
                    Some(last) if last.stream == *stream => last.bytes.extend_from_slice(bytes),
                    _ => self.output.push(Chunk {
                        stream: *stream,
                        bytes: bytes.to_vec(),
                    }),
                }
                Ok(())
            }
            Target::Buffer(i) => {
                let len = self.buffers.get(*i).map_or(0, Vec::len);
                if len + bytes.len() > self.limits.max_output {
                    return self.abort(LimitExceeded::Output(self.limits.max_output));
                }
                if let Some(b) = self.buffers.get_mut(*i) {
                    b.extend_from_slice(bytes);
                }
                Ok(())
            }
            Target::File(path) => {
                let size = self.fs.stat(path).map_or(0, |s| s.size);
                if size + bytes.len() as u64 > self.limits.max_file_size {
                    self.file_too_big(path);
                    return Err(Flow::Abort);
                }
                // A file removed or replaced since the redirection was opened: the write
                // goes nowhere, as to an unlinked inode.
                let _ = self.fs.append(path, bytes);
                Ok(())
            }
        }
    }

    fn write_fd(&mut self, io: &Io, fd: usize, bytes: &[u8]) -> R<()> {
        match &io.fds[fd] {
            Fd::Out(t) => {
                let t = t.clone();
                self.emit(&t, bytes)
            }
            _ => Ok(()),
        }
    }

    /// Prints `$0: line: message` to the command's stderr, as dash reports errors.
    pub(crate) fn diag(&mut self, io: &Io, message: &str) -> R<()> {
        let text = if self.bash {
            format!("{}: line {}: {message}\n", self.st.arg0, self.line)
        } else {
            format!("{}: {}: {message}\n", self.st.arg0, self.line)
        };
        self.write_fd(io, 2, text.as_bytes())
    }

    fn abort(&mut self, why: LimitExceeded) -> R<()> {
        if self.limit.is_none() {
            self.limit = Some(why);
        }
        Err(Flow::Abort)
    }

    pub(crate) fn file_too_big(&mut self, path: &str) {
        if self.limit.is_none() {
            self.limit = Some(LimitExceeded::FileSize {
                path: path.to_owned(),
                limit: self.limits.max_file_size,
            });
        }
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return self.abort(LimitExceeded::Steps(self.limits.max_steps));
        }
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            self.depth -= 1;
            return self.abort(LimitExceeded::Depth(self.limits.max_depth));
        }
        Ok(())
    }

    pub(crate) fn alloc_buffer(&mut self) -> usize {
        self.buffers.push(Vec::new());
        self.buffers.len() - 1
    }

    pub(crate) fn take_buffer(&mut self, i: usize) -> Vec<u8> {
        let b = std::mem::take(&mut self.buffers[i]);
        if i + 1 == self.buffers.len() {
            self.buffers.pop();
        }
        b
    }

    // ----- variables -----

    pub(crate) fn get_var(&self, name: &str) -> Option<String> {
        self.st.vars.get(name).and_then(|v| v.value.clone())
    }

    /// Assigns a variable; a readonly one is an error that ends the shell.
    pub(crate) fn set_var(&mut self, name: &str, value: String, io: &Io) -> R<()> {
        if self.st.vars.get(name).is_some_and(|v| v.readonly) {
            self.diag(io, &format!("{name}: is read only"))?;
            return Err(Flow::Exit(2));
        }
        let v = self.st.vars.entry(name.to_owned()).or_insert(Var {
            value: None,
            exported: false,
            readonly: false,
        });
        v.value = Some(value);
        Ok(())
    }

    /// The environment a new process gets: the exported variables.
    pub(crate) fn exported_env(&self) -> BTreeMap<String, String> {
        self.st
            .vars
            .iter()
            .filter(|(_, v)| v.exported)
            .filter_map(|(k, v)| v.value.clone().map(|val| (k.clone(), val)))
            .collect()
    }

    // ----- lists -----

    pub(crate) fn run_program(&mut self, program: &Program, io: &Io) -> R<i32> {
        let mut status = 0;
        for item in &program.items {
            status = self.run_and_or(item, io)?;
        }
        Ok(status)
    }

    fn run_and_or(&mut self, ao: &AndOr, io: &Io) -> R<i32> {
        let n = ao.rest.len();
        let mut status = self.run_pipeline(&ao.first, io, n > 0)?;
        let mut last_ran = 0;
        for (i, (conn, pl)) in ao.rest.iter().enumerate() {
            let go = match conn {
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if go {
                status = self.run_pipeline(pl, io, i + 1 < n)?;
                last_ran = i + 1;
            }
        }
        self.st.last_status = status;
        let last_negated = if last_ran == 0 {
            ao.first.negated
        } else {
            ao.rest[last_ran - 1].1.negated
        };
        if status != 0
            && self.st.opts.errexit
            && self.errexit_off == 0
            && last_ran == n
            && !last_negated
        {
            return Err(Flow::Exit(status));
        }
        Ok(status)
    }

    fn run_pipeline(&mut self, pl: &Pipeline, io: &Io, suppressed: bool) -> R<i32> {
        let off = suppressed || pl.negated;
        if off {
            self.errexit_off += 1;
        }
        let r = self.run_pipeline_inner(pl, io);
        if off {
            self.errexit_off -= 1;
        }
        let status = r?;
        let status = if pl.negated {
            i32::from(status == 0)
        } else {
            status
        };
        self.st.last_status = status;
        Ok(status)
    }

    fn run_pipeline_inner(&mut self, pl: &Pipeline, io: &Io) -> R<i32> {
        if let [only] = pl.commands.as_slice() {
            return self.run_command(only, io);
        }
        let mut input = io.fds[0].clone();
        let mut status = 0;
        let mut failed = 0;
        let last = pl.commands.len() - 1;
        for (i, cmd) in pl.commands.iter().enumerate() {
            if i == last {
                let cio = io.with(0, input.clone());
                status = self.subshell(|sh| sh.run_command(cmd, &cio))?;
            } else {
                let buf = self.alloc_buffer();
                let cio = io
                    .with(0, input.clone())
                    .with(1, Fd::Out(Target::Buffer(buf)));
                let s = self.subshell(|sh| sh.run_command(cmd, &cio))?;
                if s != 0 {
                    failed = s;
                }
                input = Input::open(self.take_buffer(buf));
            }
        }
        if self.st.opts.pipefail && status == 0 {
            status = failed;
        }
        Ok(status)
    }

    /// Runs `f` in a copy of the shell's state: variables, functions, directory and options
    /// changed inside do not leak out; `exit` ends only the subshell.
    pub(crate) fn subshell(&mut self, f: impl FnOnce(&mut Self) -> R<i32>) -> R<i32> {
        self.enter()?;
        let saved = self.st.clone();
        let saved_loops = self.loop_depth;
        let saved_off = self.errexit_off;
        self.loop_depth = 0;
        self.errexit_off = 0;
        let r = f(self);
        self.st = saved;
        self.loop_depth = saved_loops;
        self.errexit_off = saved_off;
        self.depth -= 1;
        match r {
            Ok(s) | Err(Flow::Exit(s) | Flow::Return(s)) => Ok(s & 0xff),
            Err(Flow::Break(_) | Flow::Continue(_)) => Ok(0),
            Err(Flow::Abort) => Err(Flow::Abort),
        }
    }

    fn run_command(&mut self, cmd: &Command, io: &Io) -> R<i32> {
        match cmd {
            Command::Simple(s) => self.run_simple(s, io),
            Command::Compound(c, redirects) => {
                let Some(cio) = self.redirect(redirects, io)? else {
                    return Ok(2);
                };
                self.run_compound(c, &cio)
            }
            Command::FunctionDef(name, body) => {
                self.st
                    .functions
                    .insert(name.clone(), Arc::new((**body).clone()));
                Ok(0)
            }
        }
    }

    fn cond(&mut self, program: &Program, io: &Io) -> R<i32> {
        self.errexit_off += 1;
        let r = self.run_program(program, io);
        self.errexit_off -= 1;
        r
    }

    fn run_compound(&mut self, c: &CompoundCommand, io: &Io) -> R<i32> {
        match c {
            CompoundCommand::Group(p) => self.run_program(p, io),
            CompoundCommand::Subshell(p) => self.subshell(|sh| sh.run_program(p, io)),
            CompoundCommand::If(branches, otherwise) => {
                for (cond, body) in branches {
                    if self.cond(cond, io)? == 0 {
                        return self.run_program(body, io);
                    }
                }
                match otherwise {
                    Some(p) => self.run_program(p, io),
                    None => Ok(0),
                }
            }
            CompoundCommand::While {
                until,
                condition,
                body,
            } => {
                let mut status = 0;
                self.loop_depth += 1;
                let r = loop {
                    if let Err(e) = self.step() {
                        break Err(e);
                    }
                    match self.cond(condition, io) {
                        Ok(s) if (s == 0) == *until => break Ok(status),
                        Ok(_) => {}
                        Err(e) => break Err(e),
                    }
                    match self.loop_body(body, io) {
                        Ok(Some(s)) => status = s,
                        Ok(None) => break Ok(status),
                        Err(e) => break Err(e),
                    }
                };
                self.loop_depth -= 1;
                r
            }
            CompoundCommand::For { name, words, body } => {
                let items = match words {
                    Some(words) => self.expand_words(words, io)?,
                    None => self.st.positional.clone(),
                };
                let mut status = 0;
                self.loop_depth += 1;
                let mut r = Ok(0);
                for item in items {
                    if let Err(e) = self.step().and_then(|()| self.set_var(name, item, io)) {
                        r = Err(e);
                        break;
                    }
                    match self.loop_body(body, io) {
                        Ok(Some(s)) => status = s,
                        Ok(None) => break,
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                self.loop_depth -= 1;
                r.map(|_| status)
            }
            CompoundCommand::Cond(items) => self.run_cond(items, io),
            CompoundCommand::Case(word, arms) => {
                let subject = self.expand_string(word, io)?;
                for (patterns, body) in arms {
                    for pat in patterns {
                        let chars = self.expand_pattern(pat, io)?;
                        if Pattern::new(&chars).matches(&subject) {
                            return self.run_program(body, io);
                        }
                    }
                }
                Ok(0)
            }
        }
    }

    /// bash's `[[ … ]]`: 0 if the expression holds, 1 if not, 2 on a syntax error.
    fn run_cond(&mut self, items: &[CondToken], io: &Io) -> R<i32> {
        let mut tokens = Vec::with_capacity(items.len());
        for item in items {
            tokens.push(match item {
                CondToken::Op(op) => CondArg::Op(op.clone()),
                CondToken::Word(w) => {
                    let quoted = !w.0.iter().all(|p| matches!(p, WordPart::Literal(_)));
                    CondArg::Word(self.expand_string(w, io)?, quoted)
                }
            });
        }
        let mut cond = Cond {
            sh: self,
            tokens: &tokens,
            at: 0,
        };
        let r = cond.or();
        match r {
            Ok(v) if cond.at == tokens.len() => Ok(i32::from(!v)),
            Ok(_) | Err(()) => {
                let near = match tokens.get(cond.at) {
                    Some(CondArg::Op(o) | CondArg::Word(o, _)) => o.clone(),
                    None => "]]".to_owned(),
                };
                self.diag(
                    io,
                    &format!("syntax error in conditional expression: unexpected token `{near}'"),
                )?;
                Ok(2)
            }
        }
    }

    /// Runs a loop body: `Some(status)` to go on, `None` on `break`.
    fn loop_body(&mut self, body: &Program, io: &Io) -> R<Option<i32>> {
        match self.run_program(body, io) {
            Ok(s) => Ok(Some(s)),
            Err(Flow::Break(n)) if n > 1 => Err(Flow::Break(n - 1)),
            Err(Flow::Break(_)) => Ok(None),
            Err(Flow::Continue(n)) if n > 1 => Err(Flow::Continue(n - 1)),
            Err(Flow::Continue(_)) => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }

    // ----- simple commands -----

    fn run_simple(&mut self, cmd: &SimpleCommand, io: &Io) -> R<i32> {
        if cmd.line > 0 {
            self.line = cmd.line;
        }
        self.step()?;
        self.subst_status = None;
        let argv = self.expand_words(&cmd.words, io)?;
        let mut assigns = Vec::with_capacity(cmd.assignments.len());
        if argv.is_empty() {
            for (name, word) in &cmd.assignments {
                let value = self.expand_string(word, io)?;
                self.set_var(name, value.clone(), io)?;
                assigns.push((name.clone(), value));
            }
            self.xtrace(io, &assigns, &[])?;
            if self.redirect(&cmd.redirects, io)?.is_none() {
                return Ok(2);
            }
            return Ok(self.subst_status.unwrap_or(0));
        }
        for (name, word) in &cmd.assignments {
            assigns.push((name.clone(), self.expand_string(word, io)?));
        }
        let Some(cio) = self.redirect(&cmd.redirects, io)? else {
            return Ok(2);
        };
        self.xtrace(io, &assigns, &argv)?;
        self.dispatch(&argv, assigns, &cio)
    }

    fn xtrace(&mut self, io: &Io, assigns: &[(String, String)], argv: &[String]) -> R<()> {
        if !self.st.opts.xtrace {
            return Ok(());
        }
        let ps4 = self.get_var("PS4").unwrap_or_else(|| "+ ".to_owned());
        let mut line = ps4;
        let words: Vec<String> = assigns
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .chain(argv.iter().cloned())
            .collect();
        line.push_str(&words.join(" "));
        line.push('\n');
        self.write_fd(io, 2, line.as_bytes())
    }

    fn dispatch(&mut self, argv: &[String], assigns: Vec<(String, String)>, io: &Io) -> R<i32> {
        let name = argv[0].as_str();
        // `source` is bash's and busybox's; dash has only `.`.
        if SPECIAL.contains(&name) && (name != "source" || self.bash || self.busybox) {
            for (k, v) in assigns {
                self.set_var(&k, v, io)?;
            }
            return self.special_builtin(argv, io);
        }
        if let Some(body) = self.st.functions.get(name).cloned() {
            return self.call_function(&body, argv, assigns, io);
        }
        if SHELL_BUILTINS.contains(&name) {
            return self.shell_builtin(argv, io);
        }
        let mut env = self.exported_env();
        env.extend(assigns);
        self.exec_program(argv, env, io)
    }

    fn call_function(
        &mut self,
        body: &CompoundCommand,
        argv: &[String],
        assigns: Vec<(String, String)>,
        io: &Io,
    ) -> R<i32> {
        self.enter()?;
        let saved_vars: Vec<(String, Option<Var>)> = assigns
            .iter()
            .map(|(k, _)| (k.clone(), self.st.vars.get(k).cloned()))
            .collect();
        for (k, v) in assigns {
            let r = self.set_var(&k, v, io);
            if let Some(var) = self.st.vars.get_mut(&k) {
                var.exported = true;
            }
            if let Err(e) = r {
                self.depth -= 1;
                return Err(e);
            }
        }
        let saved_pos = std::mem::replace(&mut self.st.positional, argv[1..].to_vec());
        let saved_loops = std::mem::replace(&mut self.loop_depth, 0);
        self.func_depth += 1;
        self.locals.push(Vec::new());
        let r = self.run_compound(body, io);
        for (k, old) in self.locals.pop().unwrap_or_default().into_iter().rev() {
            match old {
                Some(v) => self.st.vars.insert(k, v),
                None => self.st.vars.remove(&k),
            };
        }
        self.func_depth -= 1;
        self.loop_depth = saved_loops;
        self.st.positional = saved_pos;
        for (k, old) in saved_vars {
            match old {
                Some(v) => self.st.vars.insert(k, v),
                None => self.st.vars.remove(&k),
            };
        }
        self.depth -= 1;
        match r {
            Err(Flow::Return(s)) => Ok(s),
            other => other,
        }
    }

    /// Runs a program (not a function or special builtin) with `env` as its environment.
    pub(crate) fn exec_program(
        &mut self,
        argv: &[String],
        env: BTreeMap<String, String>,
        io: &Io,
    ) -> R<i32> {
        let name = argv[0].as_str();
        if !name.contains('/')
            && let Some((UtilityKind::Builtin, util)) = self.registry.get(name)
        {
            return self.run_utility(&*util, argv, env, io);
        }
        match self.find_program(name, &env) {
            Found::Program(path) => self.run_file(&path, argv, env, io),
            Found::Denied => {
                self.diag(io, &format!("{name}: Permission denied"))?;
                Ok(126)
            }
            Found::Nothing => {
                if self.lookup == Lookup::Registry
                    && !name.contains('/')
                    && let Some((_, util)) = self.registry.get(name)
                {
                    return self.run_utility(&*util, argv, env, io);
                }
                let what = if self.bash {
                    "command not found"
                } else {
                    "not found"
                };
                self.diag(io, &format!("{name}: {what}"))?;
                Ok(127)
            }
        }
    }

    /// Runs the executable file at `path`: its model from the registry (by the name it was
    /// called by, or the name its symlinks lead to), or a shell script.
    fn run_file(
        &mut self,
        path: &str,
        argv: &[String],
        env: BTreeMap<String, String>,
        io: &Io,
    ) -> R<i32> {
        let called = file_name(&argv[0]);
        let target = self
            .fs
            .canonicalize(path)
            .unwrap_or_else(|_| path.to_owned());
        let util = self
            .registry
            .get(called)
            .or_else(|| self.registry.get(file_name(&target)));
        if let Some((_, util)) = util {
            return self.run_utility(&*util, argv, env, io);
        }
        let bytes = self
            .fs
            .read(&target)
            .ok()
            .and_then(|d| d.bytes().map(<[u8]>::to_vec))
            .unwrap_or_default();
        if let Some(interp) = script_interpreter(&bytes) {
            let sh = self.registry.get(file_name(&interp));
            if let (Some((_, _)), true) = (sh, is_shell(&interp)) {
                let src = String::from_utf8_lossy(&bytes).into_owned();
                let bash = file_name(&interp) == "bash";
                let (status, out, err) =
                    self.run_script_process(&src, (&argv[0], &argv[1..]), env, &io.stdin(), bash);
                self.write_fd(io, 1, &out)?;
                self.write_fd(io, 2, &err)?;
                return self.after_process(status);
            }
        }
        self.diag(
            io,
            &format!(
                "{}: not simulated (layerbox has no model of this program)",
                argv[0]
            ),
        )?;
        Ok(127)
    }

    fn after_process(&mut self, status: i32) -> R<i32> {
        if self.limit.is_some() {
            return Err(Flow::Abort);
        }
        Ok(status)
    }

    fn run_utility(
        &mut self,
        util: &dyn super::Utility,
        argv: &[String],
        env: BTreeMap<String, String>,
        io: &Io,
    ) -> R<i32> {
        self.enter()?;
        let input = match &io.fds[0] {
            Fd::In(i) => Some(Rc::clone(i)),
            _ => None,
        };
        let mut ctx = Ctx::new(self, env, input);
        let status = util.run(&mut ctx, argv);
        let (out, err, overflow) = ctx.finish();
        self.depth -= 1;
        if overflow {
            self.abort(LimitExceeded::Output(self.limits.max_output))?;
        }
        self.write_fd(io, 1, &out)?;
        self.write_fd(io, 2, &err)?;
        self.after_process(status & 0xff)
    }

    /// Runs a program as a new process would, capturing its output (for [`Ctx::run`]).
    pub(crate) fn run_process(
        &mut self,
        argv: &[String],
        env: BTreeMap<String, String>,
        stdin: &[u8],
    ) -> (i32, Vec<u8>, Vec<u8>) {
        if argv.is_empty() {
            return (0, Vec::new(), Vec::new());
        }
        let out = self.alloc_buffer();
        let err = self.alloc_buffer();
        let mut io = Io::top(stdin);
        io.fds[1] = Fd::Out(Target::Buffer(out));
        io.fds[2] = Fd::Out(Target::Buffer(err));
        let r = self.subshell(|sh| sh.exec_program(argv, env, &io));
        let e = self.take_buffer(err);
        let o = self.take_buffer(out);
        (r.unwrap_or(2), o, e)
    }

    /// Runs a script as a new `sh` process, capturing its output.
    pub(crate) fn run_script_process(
        &mut self,
        script: &str,
        (arg0, args): (&str, &[String]),
        env: BTreeMap<String, String>,
        stdin: &[u8],
        bash: bool,
    ) -> (i32, Vec<u8>, Vec<u8>) {
        let saved_bash = std::mem::replace(&mut self.bash, bash);
        let out = self.alloc_buffer();
        let err = self.alloc_buffer();
        let mut io = Io::top(stdin);
        io.fds[1] = Fd::Out(Target::Buffer(out));
        io.fds[2] = Fd::Out(Target::Buffer(err));
        let saved_line = self.line;
        let saved_funcs = std::mem::replace(&mut self.func_depth, 0);
        let saved_locals = std::mem::take(&mut self.locals);
        let r = self.subshell(|sh| {
            sh.st.vars = env
                .into_iter()
                .map(|(k, v)| {
                    let var = Var {
                        value: Some(v),
                        exported: true,
                        readonly: false,
                    };
                    (k, var)
                })
                .collect();
            sh.st.functions.clear();
            sh.st.opts = Opts::default();
            arg0.clone_into(&mut sh.st.arg0);
            sh.st.positional = args.to_vec();
            sh.st.last_status = 0;
            sh.run_source(script, &io)
        });
        self.line = saved_line;
        self.func_depth = saved_funcs;
        self.locals = saved_locals;
        self.bash = saved_bash;
        let e = self.take_buffer(err);
        let o = self.take_buffer(out);
        (r.unwrap_or(2), o, e)
    }

    /// `which`: the path `PATH` lookup finds for `name`.
    pub(crate) fn which(&self, name: &str, path: Option<String>) -> Option<String> {
        let mut env = BTreeMap::new();
        if let Some(p) = path {
            env.insert("PATH".to_owned(), p);
        }
        match self.find_program(name, &env) {
            Found::Program(p) => Some(p),
            _ if self.lookup == Lookup::Registry
                && !name.contains('/')
                && self.registry.get(name).is_some() =>
            {
                Some(format!("/usr/bin/{name}"))
            }
            _ => None,
        }
    }

    /// Looks a command name up in `PATH` (or as a path when it has a slash).
    fn find_program(&self, name: &str, env: &BTreeMap<String, String>) -> Found {
        if name.is_empty() {
            return Found::Nothing;
        }
        if name.contains('/') {
            let p = absolute(&self.st.cwd, name);
            return match self.fs.stat(&p) {
                Ok(s) if s.file_type == FileType::File && s.mode & 0o111 != 0 => Found::Program(p),
                Ok(_) => Found::Denied,
                Err(_) => Found::Nothing,
            };
        }
        let path = env
            .get("PATH")
            .cloned()
            .or_else(|| self.get_var("PATH"))
            .unwrap_or_else(|| DEFAULT_PATH.to_owned());
        let mut denied = false;
        for dir in path.split(':') {
            let dir = if dir.is_empty() { "." } else { dir };
            let p = absolute(&self.st.cwd, &format!("{dir}/{name}"));
            match self.fs.stat(&p) {
                Ok(s) if s.file_type == FileType::File && s.mode & 0o111 != 0 => {
                    return Found::Program(p);
                }
                Ok(s) if s.file_type == FileType::File => denied = true,
                _ => {}
            }
        }
        if denied {
            Found::Denied
        } else {
            Found::Nothing
        }
    }

    // ----- redirections -----

    /// Applies redirections to `io`; `None` after reporting a failure (the command does not
    /// run and its status is 2, as in dash).
    fn redirect(&mut self, redirects: &[Redirect], io: &Io) -> R<Option<Io>> {
        let mut io = io.clone();
        for r in redirects {
            let default_fd = match r.op {
                RedirectOp::Read
                | RedirectOp::DupIn
                | RedirectOp::ReadWrite
                | RedirectOp::HereDoc(_) => 0,
                _ => 1,
            };
            let fd = r.fd.map_or(default_fd, |f| f as usize);
            if fd > 9 {
                self.diag(&io, &format!("{fd}: Bad file descriptor"))?;
                return Ok(None);
            }
            match r.op {
                RedirectOp::HereDoc(expand) => {
                    let body = if expand {
                        self.expand_string(&r.target, &io)?
                    } else {
                        r.target
                            .as_plain()
                            .unwrap_or_else(|| quoted_text(&r.target))
                    };
                    io.fds[fd] = Input::open(body.into_bytes());
                }
                RedirectOp::DupIn | RedirectOp::DupOut => {
                    let target = self.expand_string(&r.target, &io)?;
                    if target == "-" {
                        io.fds[fd] = Fd::Closed;
                    } else if let Ok(src) = target.parse::<usize>()
                        && src <= 9
                    {
                        if matches!(io.fds[src], Fd::Closed) {
                            self.diag(&io, &format!("{src}: Bad file descriptor"))?;
                            return Ok(None);
                        }
                        io.fds[fd] = io.fds[src].clone();
                    } else {
                        self.diag(&io, "Syntax error: Bad fd number")?;
                        return Err(Flow::Exit(2));
                    }
                }
                RedirectOp::Read | RedirectOp::ReadWrite => {
                    let name = self.expand_string(&r.target, &io)?;
                    match self.open_read(&name) {
                        Ok(fdv) => io.fds[fd] = fdv,
                        Err(msg) => {
                            self.diag(&io, &format!("cannot open {name}: {msg}"))?;
                            return Ok(None);
                        }
                    }
                }
                RedirectOp::Write | RedirectOp::Append => {
                    let name = self.expand_string(&r.target, &io)?;
                    match self.open_write(&name, r.op == RedirectOp::Append, &io) {
                        Ok(fdv) => io.fds[fd] = fdv,
                        Err(msg) => {
                            self.diag(&io, &format!("cannot create {name}: {msg}"))?;
                            return Ok(None);
                        }
                    }
                }
            }
        }
        Ok(Some(io))
    }

    fn open_read(&self, name: &str) -> Result<Fd, &'static str> {
        let p = absolute(&self.st.cwd, name);
        if p == "/dev/null" || p == "/dev/zero" {
            return Ok(Input::open(Vec::new()));
        }
        match self.fs.read(&p) {
            Ok(data) => Ok(Input::open(
                data.bytes().map(<[u8]>::to_vec).unwrap_or_default(),
            )),
            Err(crate::fs::FsError::IsADirectory(_)) => Ok(Input::open(Vec::new())),
            Err(_) => Err("No such file"),
        }
    }

    fn open_write(&mut self, name: &str, append: bool, io: &Io) -> Result<Fd, &'static str> {
        let p = absolute(&self.st.cwd, name);
        match p.as_str() {
            "/dev/null" => return Ok(Fd::Out(Target::Null)),
            "/dev/stdout" | "/proc/self/fd/1" => return Ok(io.fds[1].clone()),
            "/dev/stderr" | "/proc/self/fd/2" => return Ok(io.fds[2].clone()),
            _ => {}
        }
        match self.fs.stat(&p) {
            Ok(s) if s.file_type == FileType::Dir => return Err("Is a directory"),
            Ok(_) if append => {}
            Ok(_) => {
                self.fs.truncate(&p, 0).map_err(|e| e.strerror())?;
            }
            Err(_) => {
                let mode = 0o666 & !self.st.umask;
                self.fs.write(&p, b"", mode).map_err(|e| match e {
                    crate::fs::FsError::NotFound(_) | crate::fs::FsError::NotADirectory(_) => {
                        "Directory nonexistent"
                    }
                    other => other.strerror(),
                })?;
            }
        }
        let real = self.fs.canonicalize(&p).unwrap_or(p);
        Ok(Fd::Out(Target::File(real)))
    }

    // ----- builtins the shell itself carries out -----

    fn special_builtin(&mut self, argv: &[String], io: &Io) -> R<i32> {
        let args = &argv[1..];
        match argv[0].as_str() {
            ":" | "times" | "trap" => Ok(0),
            "break" | "continue" => {
                let n = match args.first().map(|a| a.parse::<usize>()) {
                    None => 1,
                    Some(Ok(n)) if n > 0 => n,
                    Some(_) => {
                        self.diag(io, &format!("{}: Illegal number: {}", argv[0], args[0]))?;
                        return Err(Flow::Exit(2));
                    }
                };
                if self.loop_depth == 0 {
                    return Ok(0);
                }
                let n = n.min(self.loop_depth);
                Err(if argv[0] == "break" {
                    Flow::Break(n)
                } else {
                    Flow::Continue(n)
                })
            }
            "exit" | "return" => {
                let status = match args.first() {
                    None => self.st.last_status,
                    Some(a) => match a.parse::<i64>() {
                        Ok(n) if n >= 0 => i32::try_from(n & 0xff).unwrap_or(0),
                        _ => {
                            self.diag(io, &format!("{}: Illegal number: {a}", argv[0]))?;
                            return Err(Flow::Exit(2));
                        }
                    },
                };
                if argv[0] == "exit" || self.func_depth == 0 {
                    self.exit_called = argv[0] == "exit";
                    Err(Flow::Exit(status))
                } else {
                    Err(Flow::Return(status))
                }
            }
            "export" | "readonly" => {
                let ro = argv[0] == "readonly";
                let names: Vec<&String> = args.iter().filter(|a| *a != "-p").collect();
                if names.is_empty() {
                    let listing: String = self
                        .st
                        .vars
                        .iter()
                        .filter(|(_, v)| if ro { v.readonly } else { v.exported })
                        .map(|(k, v)| match &v.value {
                            Some(val) => {
                                format!("{} {k}='{}'\n", argv[0], val.replace('\'', "'\\''"))
                            }
                            None => format!("{} {k}\n", argv[0]),
                        })
                        .collect();
                    self.write_fd(io, 1, listing.as_bytes())?;
                    return Ok(0);
                }
                for a in names {
                    let (name, value) = match a.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_owned())),
                        None => (a.as_str(), None),
                    };
                    if !super::is_name(name) {
                        self.diag(io, &format!("{}: {name}: bad variable name", argv[0]))?;
                        return Err(Flow::Exit(2));
                    }
                    if let Some(v) = value {
                        self.set_var(name, v, io)?;
                    }
                    let var = self.st.vars.entry(name.to_owned()).or_insert(Var {
                        value: None,
                        exported: false,
                        readonly: false,
                    });
                    if ro {
                        var.readonly = true;
                    } else {
                        var.exported = true;
                    }
                }
                Ok(0)
            }
            "unset" => {
                let mut functions = false;
                for a in args {
                    match a.as_str() {
                        "-f" => functions = true,
                        "-v" => functions = false,
                        name if functions => {
                            self.st.functions.remove(name);
                        }
                        name => {
                            if self.st.vars.get(name).is_some_and(|v| v.readonly) {
                                self.diag(io, &format!("unset: {name}: is read only"))?;
                                return Err(Flow::Exit(2));
                            }
                            self.st.vars.remove(name);
                        }
                    }
                }
                Ok(0)
            }
            "set" => self.builtin_set(args, io),
            "shift" => {
                let n = match args.first().map(|a| a.parse::<usize>()) {
                    None => 1,
                    Some(Ok(n)) => n,
                    Some(Err(_)) => {
                        self.diag(io, &format!("shift: Illegal number: {}", args[0]))?;
                        return Err(Flow::Exit(2));
                    }
                };
                if n > self.st.positional.len() {
                    self.diag(io, "shift: can't shift that many")?;
                    return Err(Flow::Exit(2));
                }
                self.st.positional.drain(..n);
                Ok(0)
            }
            "eval" => {
                let src = args.join(" ");
                self.enter()?;
                let r = match super::parse_as(&src, self.bash) {
                    Ok(p) => self.run_program(&p, io),
                    Err(e) => {
                        self.diag(io, &e.to_string())?;
                        Err(Flow::Exit(2))
                    }
                };
                self.depth -= 1;
                r
            }
            "exec" => {
                if args.is_empty() {
                    return Ok(0);
                }
                let env = self.exported_env();
                let status = self.exec_program(args, env, io)?;
                Err(Flow::Exit(status))
            }
            _ => self.source(args, io),
        }
    }

    /// `. file`: runs a script in the current shell.
    fn source(&mut self, args: &[String], io: &Io) -> R<i32> {
        let Some(file) = args.first() else {
            return Ok(0);
        };
        let path = if file.contains('/') {
            Some(absolute(&self.st.cwd, file))
        } else {
            let path = self
                .get_var("PATH")
                .unwrap_or_else(|| DEFAULT_PATH.to_owned());
            path.split(':')
                .map(|d| absolute(&self.st.cwd, &format!("{d}/{file}")))
                .find(|p| self.fs.stat(p).is_ok_and(|s| s.file_type == FileType::File))
        };
        let bytes = path.and_then(|p| {
            self.fs
                .read(&p)
                .ok()
                .map(|d| d.bytes().map(<[u8]>::to_vec).unwrap_or_default())
        });
        let Some(bytes) = bytes else {
            self.diag(io, &format!(".: cannot open {file}: No such file"))?;
            return Err(Flow::Exit(2));
        };
        self.enter()?;
        let src = String::from_utf8_lossy(&bytes).into_owned();
        self.func_depth += 1;
        let r = self.run_source(&src, io);
        self.func_depth -= 1;
        self.depth -= 1;
        match r {
            Err(Flow::Return(s)) => Ok(s),
            other => other,
        }
    }

    fn builtin_set(&mut self, args: &[String], io: &Io) -> R<i32> {
        if args.is_empty() {
            let listing: String = self
                .st
                .vars
                .iter()
                .filter_map(|(k, v)| {
                    v.value
                        .as_ref()
                        .map(|val| format!("{k}='{}'\n", val.replace('\'', "'\\''")))
                })
                .collect();
            self.write_fd(io, 1, listing.as_bytes())?;
            return Ok(0);
        }
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                self.st.positional = args[i + 1..].to_vec();
                return Ok(0);
            }
            let Some(on) = (match a.chars().next() {
                Some('-') => Some(true),
                Some('+') => Some(false),
                _ => None,
            }) else {
                self.st.positional = args[i..].to_vec();
                return Ok(0);
            };
            if a.len() == 1 {
                i += 1;
                continue;
            }
            if &a[1..] == "o" {
                i += 1;
                let Some(name) = args.get(i) else {
                    return Ok(0);
                };
                let flag = match name.as_str() {
                    "errexit" => 'e',
                    "xtrace" => 'x',
                    "nounset" => 'u',
                    "noglob" => 'f',
                    "pipefail" if self.bash || self.busybox => {
                        self.st.opts.pipefail = on;
                        ' '
                    }
                    "pipefail" => {
                        self.diag(io, "set: Illegal option -o pipefail")?;
                        return Err(Flow::Exit(2));
                    }
                    _ => ' ',
                };
                self.set_flag(flag, on);
                i += 1;
                continue;
            }
            for c in a[1..].chars() {
                if !"exufvCabhmn".contains(c) {
                    self.diag(io, &format!("set: Illegal option {}{c}", &a[..1]))?;
                    return Err(Flow::Exit(2));
                }
                self.set_flag(c, on);
            }
            i += 1;
        }
        Ok(0)
    }

    fn set_flag(&mut self, c: char, on: bool) {
        match c {
            'e' => self.st.opts.errexit = on,
            'x' => self.st.opts.xtrace = on,
            'u' => self.st.opts.nounset = on,
            'f' => self.st.opts.noglob = on,
            _ => {}
        }
    }

    pub(crate) fn flags(&self) -> String {
        let o = self.st.opts;
        let mut s = String::new();
        for (on, c) in [
            (o.errexit, 'e'),
            (o.noglob, 'f'),
            (o.nounset, 'u'),
            (o.xtrace, 'x'),
        ] {
            if on {
                s.push(c);
            }
        }
        s
    }

    fn shell_builtin(&mut self, argv: &[String], io: &Io) -> R<i32> {
        let args = &argv[1..];
        match argv[0].as_str() {
            "cd" => self.builtin_cd(args, io),
            "umask" => {
                match args.first() {
                    None => {
                        let text = format!("{:04o}\n", self.st.umask);
                        self.write_fd(io, 1, text.as_bytes())?;
                    }
                    Some(m) => match u32::from_str_radix(m, 8) {
                        Ok(v) if v <= 0o777 => self.st.umask = v,
                        _ => {
                            self.diag(io, &format!("umask: Illegal number: {m}"))?;
                            return Ok(2);
                        }
                    },
                }
                Ok(0)
            }
            "read" => self.builtin_read(args, io),
            "command" | "type" => self.builtin_command(argv, io),
            "local" => {
                if self.locals.is_empty() {
                    self.diag(io, "local: not in a function")?;
                    return Ok(2);
                }
                for a in args {
                    let (n, v) = match a.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_owned())),
                        None => (a.as_str(), None),
                    };
                    let old = self.st.vars.get(n).cloned();
                    if let Some(frame) = self.locals.last_mut() {
                        frame.push((n.to_owned(), old));
                    }
                    if let Some(v) = v {
                        self.set_var(n, v, io)?;
                    }
                }
                Ok(0)
            }
            "ulimit" => {
                self.write_fd(io, 1, b"unlimited\n")?;
                Ok(0)
            }
            _ => Ok(0),
        }
    }

    fn builtin_cd(&mut self, args: &[String], io: &Io) -> R<i32> {
        let args: Vec<&String> = args
            .iter()
            .filter(|a| !matches!(a.as_str(), "-P" | "-L"))
            .collect();
        let (dir, print) = match args.first().map(|s| s.as_str()) {
            None => match self.get_var("HOME") {
                Some(h) => (h, false),
                None => return Ok(0),
            },
            Some("-") => (
                self.get_var("OLDPWD")
                    .unwrap_or_else(|| self.st.cwd.clone()),
                true,
            ),
            Some(d) => (d.to_owned(), false),
        };
        let target = absolute(&self.st.cwd, &dir);
        match self.fs.stat(&target) {
            Ok(s) if s.file_type == FileType::Dir => {
                let old = std::mem::replace(&mut self.st.cwd, target.clone());
                self.set_var("OLDPWD", old, io)?;
                self.set_var("PWD", target.clone(), io)?;
                if print {
                    self.write_fd(io, 1, format!("{target}\n").as_bytes())?;
                }
                Ok(0)
            }
            _ => {
                self.diag(io, &format!("cd: can't cd to {dir}"))?;
                Ok(2)
            }
        }
    }

    fn builtin_read(&mut self, args: &[String], io: &Io) -> R<i32> {
        let raw = args.iter().any(|a| a == "-r");
        let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let got = match &io.fds[0] {
            Fd::In(input) => input.read_line(),
            _ => None,
        };
        let (line, found) = match got {
            Some((line, newline)) => (line, newline),
            None => (String::new(), false),
        };
        let line = if raw { line } else { line.replace('\\', "") };
        let ifs = self.get_var("IFS").unwrap_or_else(|| " \t\n".to_owned());
        let mut fields: Vec<String> = line
            .split(|c| ifs.contains(c))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let names: Vec<String> = if names.is_empty() {
            vec!["REPLY".to_owned()]
        } else {
            names.into_iter().cloned().collect()
        };
        for (i, n) in names.iter().enumerate() {
            let v = if i + 1 == names.len() {
                let rest = fields.clone();
                fields.clear();
                rest.join(" ")
            } else if fields.is_empty() {
                String::new()
            } else {
                fields.remove(0)
            };
            self.set_var(n, v, io)?;
        }
        Ok(i32::from(!found))
    }

    fn builtin_command(&mut self, argv: &[String], io: &Io) -> R<i32> {
        let is_type = argv[0] == "type";
        let mut args = &argv[1..];
        let mut verbose = is_type;
        let mut short = false;
        while let Some(a) = args.first() {
            match a.as_str() {
                "-v" => short = true,
                "-V" => verbose = true,
                "-p" => {}
                _ => break,
            }
            args = &args[1..];
        }
        if !(short || verbose) {
            if args.is_empty() {
                return Ok(0);
            }
            let env = self.exported_env();
            return self.exec_program(args, env, io);
        }
        let mut status = 0;
        for name in args {
            let env = self.exported_env();
            let kind = if SPECIAL.contains(&name.as_str()) {
                Some((name.clone(), "a special shell builtin"))
            } else if self.st.functions.contains_key(name) {
                Some((name.clone(), "a shell function"))
            } else if SHELL_BUILTINS.contains(&name.as_str())
                || matches!(self.registry.get(name), Some((UtilityKind::Builtin, _)))
            {
                Some((name.clone(), "a shell builtin"))
            } else if matches!(
                ["if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac"],
                ref kw if kw.contains(&name.as_str())
            ) {
                Some((name.clone(), "a shell keyword"))
            } else {
                match self.find_program(name, &env) {
                    Found::Program(p) => Some((p, "")),
                    _ if self.lookup == Lookup::Registry && self.registry.get(name).is_some() => {
                        Some((format!("/usr/bin/{name}"), ""))
                    }
                    _ => None,
                }
            };
            if let Some((text, what)) = kind {
                let line = if short {
                    format!("{text}\n")
                } else if what.is_empty() {
                    format!("{name} is {text}\n")
                } else {
                    format!("{name} is {what}\n")
                };
                self.write_fd(io, 1, line.as_bytes())?;
            } else {
                status = 127;
                if verbose {
                    let line = format!("{name}: not found\n");
                    self.write_fd(io, if is_type { 1 } else { 2 }, line.as_bytes())?;
                }
            }
        }
        Ok(status)
    }
}

/// Where a command name led.
enum Found {
    Program(String),
    Denied,
    Nothing,
}

/// Whether `path` names a POSIX shell the simulator stands in for.
pub(crate) fn is_shell(path: &str) -> bool {
    matches!(file_name(path), "sh" | "bash" | "dash" | "ash")
}

/// The interpreter a script's `#!` line names, or `/bin/sh` for a text file without one.
fn script_interpreter(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"#!") {
        let line = rest.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let mut words = line.split_whitespace();
        let first = words.next()?;
        if file_name(first) == "env" {
            return words.next().map(str::to_owned);
        }
        return Some(first.to_owned());
    }
    if bytes.iter().take(512).any(|b| *b == 0) || bytes.starts_with(b"\x7fELF") {
        return None;
    }
    Some("/bin/sh".to_owned())
}

pub(crate) fn file_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved lexically.
pub(crate) fn absolute(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{cwd}/{path}")
    };
    crate::fs::path::clean_abs(&joined)
}

fn quoted_text(word: &super::ast::Word) -> String {
    word.0
        .iter()
        .map(|p| match p {
            WordPart::Literal(s) | WordPart::Quoted(s) => s.as_str(),
            _ => "",
        })
        .collect()
}

/// An expanded item of `[[ … ]]`: an operator, or a word and whether any of it was quoted or
/// expanded (then `==` compares it literally... as far as the model goes: only an all-literal
/// right-hand side is a pattern).
enum CondArg {
    Op(String),
    Word(String, bool),
}

/// Evaluates `[[ … ]]` by recursive descent: `||`, `&&`, `!`, `( )`, unary and binary tests.
struct Cond<'s, 'a, 'b> {
    sh: &'s Shell<'a>,
    tokens: &'b [CondArg],
    at: usize,
}

impl Cond<'_, '_, '_> {
    fn op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(CondArg::Op(o)) if o == op)
    }

    fn word(&self, n: usize) -> Option<&str> {
        match self.tokens.get(self.at + n) {
            Some(CondArg::Word(w, _)) => Some(w),
            _ => None,
        }
    }

    fn or(&mut self) -> Result<bool, ()> {
        let mut v = self.and()?;
        while self.op("||") {
            self.at += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, ()> {
        let mut v = self.not()?;
        while self.op("&&") {
            self.at += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }

    fn not(&mut self) -> Result<bool, ()> {
        if self.word(0) == Some("!") && self.tokens.len() > self.at + 1 {
            self.at += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<bool, ()> {
        if self.op("(") {
            self.at += 1;
            let v = self.or()?;
            if !self.op(")") {
                return Err(());
            }
            self.at += 1;
            return Ok(v);
        }
        let Some(a) = self.word(0).map(str::to_owned) else {
            return Err(());
        };
        // Binary: `a OP b`.
        let op = match self.tokens.get(self.at + 1) {
            Some(CondArg::Op(o)) if o == "<" || o == ">" => Some(o.clone()),
            Some(CondArg::Word(o, false)) if is_cond_binary(o) => Some(o.clone()),
            _ => None,
        };
        if let Some(op) = op
            && let Some(CondArg::Word(b, quoted)) = self.tokens.get(self.at + 2)
        {
            let (b, quoted) = (b.clone(), *quoted);
            self.at += 3;
            return Self::binary(&a, &op, &b, quoted);
        }
        // Unary: `-f file`.
        if a.len() == 2
            && a.starts_with('-')
            && let Some(operand) = self.word(1).map(str::to_owned)
        {
            self.at += 2;
            return Ok(self.unary(&a, &operand));
        }
        self.at += 1;
        Ok(!a.is_empty())
    }

    fn binary(a: &str, op: &str, b: &str, quoted: bool) -> Result<bool, ()> {
        let num = |s: &str| s.trim().parse::<i64>().map_err(|_| ());
        if let Some(cmp) = super::utils::int_op(op) {
            return Ok(cmp(num(a)?, num(b)?));
        }
        Ok(match op {
            "==" | "=" | "!=" => {
                let m = if quoted {
                    a == b
                } else {
                    Pattern::parse(b).matches(a)
                };
                m == (op != "!=")
            }
            "=~" => super::utils::regex_matches(b, a).ok_or(())?,
            "<" => a < b,
            _ => a > b,
        })
    }

    fn unary(&self, op: &str, operand: &str) -> bool {
        let path = absolute(&self.sh.st.cwd, operand);
        let stat = self.sh.fs.stat(&path);
        match op {
            "-z" => operand.is_empty(),
            "-n" => !operand.is_empty(),
            // Readable and writable for root, as a build step runs.
            "-e" | "-a" | "-r" | "-w" => stat.is_ok(),
            "-f" => stat.is_ok_and(|s| s.file_type == FileType::File),
            "-d" => stat.is_ok_and(|s| s.file_type == FileType::Dir),
            "-L" | "-h" => self
                .sh
                .fs
                .lstat(&path)
                .is_ok_and(|s| s.file_type == FileType::Symlink),
            "-s" => stat.is_ok_and(|s| s.size > 0),
            "-x" => stat.is_ok_and(|s| s.mode & 0o111 != 0),
            "-v" => self.sh.st.vars.contains_key(operand),
            _ => false,
        }
    }
}

fn is_cond_binary(op: &str) -> bool {
    matches!(
        op,
        "==" | "=" | "!=" | "=~" | "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"
    )
}
