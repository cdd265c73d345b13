//! `layerbox --engine sim`: the core's simulated engine run natively. Its state lives in a JSON
//! file under the store root (`sim.json`), read before and written after every command; the
//! build context is read from the directory given to `build`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use layerbox_core::cli::units::Timestamp;
use layerbox_core::engine::{
    BuildInput, BuildProgress, Clock, Engine, EngineState, FixedClock, Follow, Output,
    ProcessRequest, ProcessResult, ProcessRunner, SeededIds, SessionRequest, ShellRunner, Stream,
    TtyDisplay,
};
use layerbox_core::fs::{Entry, Layer, Meta, UnionFs};
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::Catalog;
use layerbox_core::sim::shell;

/// The host's clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Timestamp(nanos)
    }
}

/// The host's clock running `scale` times faster from the moment it was made: with
/// `LAYERBOX_SIM_CLOCK_SCALE=50`, a `sleep 5` container that this process waits for ends after
/// a tenth of a second (for tests; times it stamps run ahead of the wall clock).
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    origin: Timestamp,
    scale: f64,
}

impl ScaledClock {
    /// The host's clock, `scale` times faster from now on.
    pub fn new(scale: f64) -> Self {
        Self {
            origin: SystemClock.now(),
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// Real time for `simulated` nanoseconds to pass.
    fn real(&self, simulated: i64) -> Duration {
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        #[allow(clippy::cast_sign_loss)] // clamped to zero first
        let nanos = (simulated.max(0) as f64 / self.scale) as u64;
        Duration::from_nanos(nanos)
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let real = SystemClock.now().0 - self.origin.0;
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let scaled = (real as f64 * self.scale) as i64;
        Timestamp(self.origin.0.saturating_add(scaled))
    }
}

/// The clock the native simulated engine runs on: pinned by `LAYERBOX_SIM_NOW` (Unix
/// seconds), else the host's, sped up by `LAYERBOX_SIM_CLOCK_SCALE` if set.
#[derive(Debug, Clone, Copy)]
enum HostClock {
    Pinned(FixedClock),
    Running(ScaledClock),
}

impl HostClock {
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        if let Some(now) = var("LAYERBOX_SIM_NOW").and_then(|v| v.parse::<i64>().ok()) {
            return Self::Pinned(FixedClock(Timestamp::from_unix_secs(now)));
        }
        let scale = var("LAYERBOX_SIM_CLOCK_SCALE")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(1.0);
        Self::Running(ScaledClock::new(scale))
    }

    /// Real time until the simulated clock reaches `t` (none when pinned: it never will).
    fn until(&self, t: Timestamp) -> Option<Duration> {
        match self {
            Self::Pinned(_) => None,
            Self::Running(c) => Some(c.real(t.0.saturating_sub(c.now().0))),
        }
    }
}

impl Clock for HostClock {
    fn now(&self) -> Timestamp {
        match self {
            Self::Pinned(c) => c.now(),
            Self::Running(c) => c.now(),
        }
    }
}

/// The store root: `--root`, else `$LAYERBOX_ROOT`, else `$XDG_STATE_HOME/layerbox`, else
/// `~/.local/state/layerbox`.
pub fn default_root() -> PathBuf {
    if let Some(root) = std::env::var_os("LAYERBOX_ROOT") {
        return root.into();
    }
    if let Some(state) = std::env::var_os("XDG_STATE_HOME") {
        return Path::new(&state).join("layerbox");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    Path::new(&home).join(".local/state/layerbox")
}

/// The simulated engine's state file under `root`.
pub fn state_path(root: &Path) -> PathBuf {
    root.join("sim.json")
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{}: {e}", path.display()))
}

/// Loads the state kept under `root` (empty when there is none yet). The layers are in a file
/// of their own (`sim-layers.json`), read only `with_layers`: listings do without them.
pub fn load(root: &Path, with_layers: bool) -> io::Result<EngineState> {
    let mut state: EngineState = read_json(&state_path(root))?.unwrap_or_default();
    if with_layers {
        state.layers = read_json(&root.join("sim-layers.json"))?.unwrap_or_default();
    }
    Ok(state)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io_error(path, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Writes `value` as JSON atomically (a temporary file renamed over the old one).
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(value).map_err(|e| io_error(path, e))?;
    std::fs::write(&tmp, bytes).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

/// Writes the state (loaded with its layers): the layers first, then the rest, each atomically.
pub fn save(root: &Path, state: &mut EngineState) -> io::Result<()> {
    std::fs::create_dir_all(root).map_err(|e| io_error(root, e))?;
    let layers = std::mem::take(&mut state.layers);
    let written = write_json(&root.join("sim-layers.json"), &layers)
        .and_then(|()| write_json(&state_path(root), state));
    state.layers = layers;
    written
}

/// Reads a build context directory into a layer (regular files and directories; symlinks as
/// links), paths relative to the directory.
pub fn read_context(dir: &Path) -> io::Result<Layer> {
    let mut layer = Layer::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let full = dir.join(&rel);
        let mut entries: Vec<_> = std::fs::read_dir(&full)
            .map_err(|e| io_error(&full, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| io_error(&full, e))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let rel = rel.join(entry.file_name());
            let key = rel.to_string_lossy().replace('\\', "/");
            let meta = entry.metadata().map_err(|e| io_error(&entry.path(), e))?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            let mode = mode_of(&meta);
            let ft = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
            if ft.is_dir() {
                layer.insert(key, Entry::dir(Meta::new(mode, mtime)));
                todo.push(rel);
            } else if ft.is_symlink() {
                let target =
                    std::fs::read_link(entry.path()).map_err(|e| io_error(&entry.path(), e))?;
                layer.insert(
                    key,
                    Entry::symlink(Meta::new(0o777, mtime), target.to_string_lossy()),
                );
            } else {
                let bytes = std::fs::read(entry.path()).map_err(|e| io_error(&entry.path(), e))?;
                layer.insert(key, Entry::file(Meta::new(mode, mtime), bytes));
            }
        }
    }
    Ok(layer)
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() { 0o755 } else { 0o644 }
}

/// An engine over `state` with the host's clock, random IDs, the simulated shell with the
/// package catalog, and the modelled base images. For reproducible runs (tests, docs),
/// `LAYERBOX_SIM_NOW` pins the clock (Unix seconds) and `LAYERBOX_SIM_SEED` the IDs; the seed
/// is mixed with the number of containers so that successive invocations differ.
/// `LAYERBOX_SIM_CLOCK_SCALE=N` makes simulated time pass N times faster (tests of `wait`).
pub fn engine(state: EngineState) -> Engine {
    let env_number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<i64>().ok());
    let made = u64::try_from(state.containers.len()).unwrap_or(0) + u64::from(state.next_pid);
    let seed = env_number("LAYERBOX_SIM_SEED").map_or_else(
        || SystemClock.now().0.unsigned_abs() ^ u64::from(std::process::id()).rotate_left(32),
        |s| {
            s.unsigned_abs()
                .wrapping_add(made.wrapping_mul(0x9e37_79b9))
        },
    );
    Engine::new(state)
        .with_ids(SeededIds::new(seed))
        .with_runner(LazyShell(None))
        .with_base_images(ModelledImages::builtin())
        .with_clock(HostClock::from_env())
}

/// The simulated shell with the package catalog, loaded on the first process: listing
/// commands never pay for parsing the catalog.
struct LazyShell(Option<ShellRunner>);

impl LazyShell {
    fn get(&mut self) -> &mut ShellRunner {
        self.0.get_or_insert_with(|| {
            Catalog::builtin().map_or_else(
                |_| ShellRunner::default(),
                |catalog| ShellRunner::with_catalog(&catalog),
            )
        })
    }
}

impl ProcessRunner for LazyShell {
    fn run(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> ProcessResult {
        self.get().run(fs, request)
    }

    fn open_shell(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> Option<shell::Session> {
        self.get().open_shell(fs, request)
    }

    fn shell_line(
        &mut self,
        fs: &mut UnionFs,
        session: &mut shell::Session,
        line: &str,
        now: i64,
    ) -> (ProcessResult, Option<i32>) {
        self.get().shell_line(fs, session, line, now)
    }

    fn provides(&self, program: &str) -> bool {
        match &self.0 {
            Some(shell) => shell.provides(program),
            None => ShellRunner::default().provides(program),
        }
    }
}

/// Whether a command only reads the state and needs no layer (then the layers are not loaded
/// and nothing is written back).
fn read_only(argv: &[String]) -> bool {
    use layerbox_core::cli::command::Command as C;
    match layerbox_core::cli::grammar::parse(argv) {
        Ok(layerbox_core::cli::grammar::Invocation::Command { command, .. }) => matches!(
            command,
            C::Images(_)
                | C::Ps(_)
                | C::Inspect(_)
                | C::Logs(_)
                | C::Port(_)
                | C::Top(_)
                | C::Wait(_)
                | C::Version(_)
                | C::Info(_)
        ),
        _ => true,
    }
}

/// Runs one docker command line (`argv[0]` is the program) on the simulated engine kept under
/// `root`, printing what docker prints; returns the exit code.
pub fn run(argv: &[String], root: &Path) -> io::Result<u8> {
    let read_only = read_only(argv);
    let mut engine = engine(load(root, !read_only)?);
    // A person at a terminal types into `run -it … sh` / `exec -it … bash` line by line;
    // `LAYERBOX_SIM_INTERACTIVE=1` does the same with piped input (tests).
    let interactive = io::stdin().is_terminal()
        || std::env::var_os("LAYERBOX_SIM_INTERACTIVE").is_some_and(|v| v == "1");
    engine.set_interactive(interactive);
    if let Some(dir) = build_context_dir(argv) {
        let dir = Path::new(&dir);
        let files = read_context(dir)?;
        engine.set_build_input(BuildInput { files });
    }
    if let Some(message) = refused(argv) {
        eprintln!("{message}");
        return Ok(1);
    }
    if let Some(path) = import_source(argv) {
        // docker's client streams the tarball (a file or stdin) to the daemon as its input.
        let read = if path == "-" {
            let mut input = Vec::new();
            io::Read::read_to_end(&mut io::stdin(), &mut input).map(|_| input)
        } else {
            std::fs::read(&path)
        };
        match read {
            Ok(bytes) => engine.set_stdin(bytes),
            Err(e) => {
                let reason = match e.kind() {
                    io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                    io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                    _ => e.to_string(),
                };
                eprintln!("open {path}: {reason}");
                return Ok(1);
            }
        }
    } else if wants_stdin(argv) && !interactive {
        let mut input = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut input)?;
        engine.set_stdin(input);
    }
    #[cfg(unix)]
    if is_cp(argv) {
        engine.set_host_files(crate::cp::FsHost::current()?);
    }
    engine.set_terminal(io::stderr().is_terminal());
    engine.set_follows(true);
    let mut out = Output::default();
    let code = engine.execute(argv, &mut out);
    if !read_only {
        save(root, engine.state_mut())?;
    }
    if let Some(progress) = &out.progress {
        draw_progress(progress)?;
    }
    // Ctrl-C is taken from here on, before the first output, so that a reader who saw it can
    // interrupt the follow.
    let interrupts = out.follow.is_some().then(ctrl_c);
    print(&out)?;
    if let Some(request) = out.session.take() {
        return interact(&mut engine, &request, root);
    }
    match (out.follow.take(), interrupts) {
        (Some(follow), Some(interrupts)) => {
            follow_on(&mut engine, follow, root, !read_only, &interrupts)
        }
        _ => Ok(code),
    }
}

/// An interactive shell in a container: shows the image shell's prompt, runs each line read
/// from stdin, saves the state after each (its writes are in the container's layer), and ends
/// with the shell's status on `exit` or end of input. Ctrl-C at the prompt gives a fresh
/// prompt, as bash's does.
fn interact(engine: &mut Engine, request: &SessionRequest, root: &Path) -> io::Result<u8> {
    let mut session = match engine.open_session(request) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(126);
        }
    };
    let prompt = Arc::new(Mutex::new(session.prompt()));
    let interrupts = ctrl_c();
    let shown = Arc::clone(&prompt);
    std::thread::spawn(move || {
        for () in interrupts {
            let prompt = shown.lock().map(|p| p.clone()).unwrap_or_default();
            let mut stdout = io::stdout().lock();
            let _ = write!(stdout, "\n{prompt}");
            let _ = stdout.flush();
        }
    });
    let mut input = io::stdin().lock();
    loop {
        let now = session.prompt();
        {
            let mut stdout = io::stdout().lock();
            stdout.write_all(now.as_bytes())?;
            stdout.flush()?;
        }
        if let Ok(mut p) = prompt.lock() {
            *p = now;
        }
        let mut line = String::new();
        let mut out = Output::default();
        if io::BufRead::read_line(&mut input, &mut line)? == 0 {
            engine.end_session(&mut session, &mut out);
        } else {
            engine.session_line(&mut session, line.trim_end_matches(['\n', '\r']), &mut out);
        }
        save(root, engine.state_mut())?;
        print(&out)?;
        if let Some(code) = session.finished() {
            return Ok(u8::try_from(code & 0xff).unwrap_or(1));
        }
    }
}

/// Takes Ctrl-C (SIGINT) from now on: each one arrives on the channel.
fn ctrl_c() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    // A handler is installed once per process; this is the only place that installs one.
    let _ = ctrlc::set_handler(move || {
        let _ = tx.send(());
    });
    rx
}

/// How often a blocked command looks at the state file for other commands' changes (a
/// `docker stop` in another terminal): the native simulated engine has no daemon to tell it.
const STATE_POLL: Duration = Duration::from_millis(250);

/// Blocks as docker does for `wait`, `logs -f` and an attached `run`: polls the engine when
/// the next modelled process is due to end or the state file changed, and sleeps in between;
/// Ctrl-C goes to [`Engine::interrupt`]. Saves the state after changes when `owned` (the
/// command loaded it whole).
fn follow_on(
    engine: &mut Engine,
    mut follow: Follow,
    root: &Path,
    owned: bool,
    rx: &mpsc::Receiver<()>,
) -> io::Result<u8> {
    let clock = HostClock::from_env();
    let mut stamp = modified(root);
    loop {
        let mut out = Output::default();
        let done = engine.poll(&mut follow, &mut out);
        if owned && !out.events.is_empty() {
            save(root, engine.state_mut())?;
            stamp = modified(root);
        }
        print(&out)?;
        if let Some(code) = done {
            return Ok(code);
        }
        let wait = engine
            .next_event_time()
            .and_then(|t| clock.until(t))
            .map_or(STATE_POLL, |d| d.min(STATE_POLL));
        match rx.recv_timeout(wait) {
            Ok(()) => {
                let mut out = Output::default();
                let ended = engine.interrupt(&mut follow, &mut out);
                if owned && !out.events.is_empty() {
                    save(root, engine.state_mut())?;
                    stamp = modified(root);
                }
                print(&out)?;
                if let Some(code) = ended {
                    return Ok(code);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
        }
        let now = modified(root);
        if now != stamp {
            stamp = now;
            *engine.state_mut() = load(root, owned)?;
        }
    }
}

/// When the state file was last written.
fn modified(root: &Path) -> Option<SystemTime> {
    std::fs::metadata(state_path(root))
        .and_then(|m| m.modified())
        .ok()
}

/// Draws a build's tty progress on stderr: on a terminal frame by frame, each after the
/// simulated time since the previous one (a `RUN` takes a tenth of a second), sized to the
/// terminal; elsewhere (`--progress tty` into a file) all frames at once, 80 × 10 as BuildKit.
fn draw_progress(progress: &BuildProgress) -> io::Result<()> {
    let mut stderr = io::stderr().lock();
    let live = stderr.is_terminal();
    let (width, height) = terminal_size().unwrap_or((80, 10));
    let mut display = TtyDisplay::new(width, height);
    let total = progress.millis();
    let mut last = 0;
    for moment in progress.frames() {
        let at = moment.millis(total);
        if live && at > last {
            std::thread::sleep(Duration::from_millis(at - last));
        }
        last = at;
        stderr.write_all(display.frame(progress, moment).as_bytes())?;
        stderr.flush()?;
    }
    stderr.write_all(progress.tty_epilogue().as_bytes())?;
    stderr.flush()
}

/// The terminal's columns and rows, if stderr is one.
#[cfg(target_os = "linux")]
fn terminal_size() -> Option<(usize, usize)> {
    let size = rustix::termios::tcgetwinsize(io::stderr()).ok()?;
    (size.ws_col > 0 && size.ws_row > 0)
        .then(|| (usize::from(size.ws_col), usize::from(size.ws_row)))
}

#[cfg(not(target_os = "linux"))]
fn terminal_size() -> Option<(usize, usize)> {
    None
}

/// `layerbox --engine sim request URL`: an HTTP GET answered by the container publishing the
/// port (simulated servers only).
pub fn request(url: &str, root: &Path) -> io::Result<u8> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let port: u16 = host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(80);
    let mut engine = engine(load(root, true)?);
    let answer = engine.request(port, &path);
    save(root, &mut engine.into_state())?;
    match answer {
        Ok(body) => {
            io::stdout().write_all(body.as_bytes())?;
            Ok(0)
        }
        Err(message) => {
            eprintln!("curl: (7) {message}");
            Ok(7)
        }
    }
}

/// Whether the command line is `exec -i` or `run -i` (a piped script goes to its shell).
fn wants_stdin(argv: &[String]) -> bool {
    use layerbox_core::cli::command::Command;
    match layerbox_core::cli::grammar::parse(argv) {
        Ok(layerbox_core::cli::grammar::Invocation::Command { command, .. }) => match command {
            Command::Exec(o) => o.interactive,
            Command::Run(o) => o.create.interactive,
            Command::Cp(o) => o.source == "-",
            _ => false,
        },
        _ => false,
    }
}

/// Whether the command line is `cp` (which reads and writes the host's files).
fn is_cp(argv: &[String]) -> bool {
    matches!(
        layerbox_core::cli::grammar::parse(argv),
        Ok(layerbox_core::cli::grammar::Invocation::Command {
            command: layerbox_core::cli::command::Command::Cp(_),
            ..
        })
    )
}

/// The tarball `import` or `load` reads (`-` for stdin), if the command line is one.
fn import_source(argv: &[String]) -> Option<String> {
    use layerbox_core::cli::command::Command;
    match layerbox_core::cli::grammar::parse(argv).ok()? {
        layerbox_core::cli::grammar::Invocation::Command { command, .. } => match command {
            Command::Import(o) => Some(o.source),
            Command::Load(o) => Some(o.input.unwrap_or_else(|| "-".to_owned())),
            _ => None,
        },
        _ => None,
    }
}

/// What docker's client refuses before asking the daemon: `save` or `export` to a terminal
/// or to a bad `-o`, `load` from a terminal.
fn refused(argv: &[String]) -> Option<String> {
    use layerbox_core::cli::command::Command;
    match layerbox_core::cli::grammar::parse(argv).ok()? {
        layerbox_core::cli::grammar::Invocation::Command { command, .. } => match command {
            Command::Save(o) if o.format.as_deref() != Some("oci-dir") => {
                crate::archive::refuse_output(o.output.as_deref(), "save image")
            }
            Command::Export(o) => {
                crate::archive::refuse_output(o.output.as_deref(), "export container")
            }
            Command::Load(o) if o.input.is_none() && io::stdin().is_terminal() => {
                Some(crate::archive::LOAD_FROM_TERMINAL.to_owned())
            }
            _ => None,
        },
        _ => None,
    }
}

/// The directory `build` reads its context from, if the command line is a build.
fn build_context_dir(argv: &[String]) -> Option<String> {
    match layerbox_core::cli::grammar::parse(argv).ok()? {
        layerbox_core::cli::grammar::Invocation::Command {
            command: layerbox_core::cli::command::Command::Build(o),
            ..
        } => Some(o.context),
        _ => None,
    }
}

fn print(out: &Output) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    for (stream, text) in &out.chunks {
        match stream {
            Stream::Stdout => {
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
            }
            Stream::Stderr => {
                stderr.write_all(text.as_bytes())?;
                stderr.flush()?;
            }
        }
    }
    for notice in &out.notices {
        writeln!(stderr, "layerbox: {notice}")?;
    }
    if let Some(archive) = &out.archive {
        crate::archive::write_archive_output(archive)?;
    }
    Ok(())
}
