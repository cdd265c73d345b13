//! What the web worker does with each [`Request`]: the core engine with the simulated backend,
//! the editor's analysis, completion, share links. Plain Rust with no browser API, so that it is
//! tested natively; `worker.rs` only carries messages to and from it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use layerbox_core::build::{BaseImage, ImageSource};
use layerbox_core::cli::command::Command;
use layerbox_core::cli::complete::{Names, complete};
use layerbox_core::cli::split::split_line;
use layerbox_core::cli::units::Timestamp;
use layerbox_core::dockerfile::editor;
use layerbox_core::engine::cp::MemoryHost;
use layerbox_core::engine::{
    BuildInput, Clock, ContainerState, Engine, EngineState, Output, SeededIds, ShellRunner, Stream,
};
use layerbox_core::fs::{Entry, Layer, Meta};
use layerbox_core::image::Reference;
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::Catalog;
use layerbox_core::view;

use crate::protocol::{ContainerSummary, Journal, ProjectFile, Request, Response, Summary};
use crate::{project_file, share};

/// Modification time of the editor's files in a build context (fixed, so that an unchanged
/// file keeps the build cache).
const CONTEXT_MTIME: i64 = 1_700_000_000;

/// The time, from whatever the host has (the browser's `Date.now()`, a fixed instant in tests).
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

struct HostClock(Now);

impl Clock for HostClock {
    fn now(&self) -> Timestamp {
        (self.0)()
    }
}

/// Base images modelled from the catalog, each built once and then shared.
struct CachedImages {
    inner: ModelledImages,
    cache: RefCell<BTreeMap<String, Option<BaseImage>>>,
}

impl ImageSource for CachedImages {
    fn image(&self, reference: &Reference) -> Option<BaseImage> {
        let key = reference.to_string();
        if let Some(hit) = self.cache.borrow().get(&key) {
            return hit.clone();
        }
        let image = self.inner.image(reference);
        self.cache.borrow_mut().insert(key, image.clone());
        image
    }
}

/// The interactive shell the terminal is in (`exec -it web sh`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shell {
    container: String,
    workdir: Option<String>,
}

/// The worker's state: the engine and what it was made from.
pub struct Host {
    engine: Engine,
    catalog: Option<Arc<Catalog>>,
    images: Option<Rc<CachedImages>>,
    now: Now,
    seed: u64,
    shell: Option<Shell>,
    /// A file `save -o` or `export -o` wrote, for the page to download.
    download: Option<Response>,
    /// Whether the engine changed since its state was last given out ([`Host::take_saved`]).
    unsaved: bool,
    /// The commands run on this engine since it was empty, with their files: what a share
    /// link carries (kept with the engine's state).
    journal: Journal,
    /// The commands of the share link opened last, for [`Request::Replay`].
    opened: Journal,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("engine", &self.engine)
            .field("catalog", &self.catalog.is_some())
            .finish_non_exhaustive()
    }
}

/// Shares one [`CachedImages`] between engines (the engine takes its source by value).
struct SharedImages(Rc<CachedImages>);

impl ImageSource for SharedImages {
    fn image(&self, reference: &Reference) -> Option<BaseImage> {
        self.0.image(reference)
    }
}

impl Host {
    /// A host with an empty engine, its clock `now` and its IDs seeded by `seed`.
    pub fn new(now: Now, seed: u64) -> Self {
        let mut host = Self {
            engine: Engine::new(EngineState::default()),
            catalog: None,
            images: None,
            now,
            seed,
            shell: None,
            download: None,
            unsaved: false,
            journal: Journal::default(),
            opened: Journal::default(),
        };
        host.rebuild(EngineState::default());
        host
    }

    /// Gives the engine the package catalog: base images and package managers come from it.
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.images = Some(Rc::new(CachedImages {
            inner: ModelledImages::with_catalog(Arc::clone(&catalog)),
            cache: RefCell::default(),
        }));
        self.catalog = Some(catalog);
        let state =
            std::mem::replace(&mut self.engine, Engine::new(EngineState::default())).into_state();
        self.rebuild(state);
    }

    /// The base images `dockerfile` starts from that are not modelled yet: what a learner
    /// would `docker pull` before building. The worker models them while the page is idle, so
    /// that pressing Enter on `docker build` does not wait for a base image (a stage named
    /// earlier, `scratch` and names with variables are left out).
    pub fn bases_to_pull(&self, dockerfile: &str) -> Vec<String> {
        let Some(images) = &self.images else {
            return Vec::new();
        };
        let Ok(parsed) = layerbox_core::dockerfile::parse(dockerfile) else {
            return Vec::new();
        };
        let mut stages: Vec<&str> = Vec::new();
        let mut wanted = Vec::new();
        for stage in &parsed.stages {
            let base = stage.base_name.as_str();
            let known = stages.iter().any(|s| s.eq_ignore_ascii_case(base));
            if let Some(name) = &stage.name {
                stages.push(name);
            }
            if known || base.contains('$') || base == "scratch" {
                continue;
            }
            let Ok(reference) = Reference::parse_normalized(base) else {
                continue;
            };
            let key = reference.to_string();
            if !images.cache.borrow().contains_key(&key) && !wanted.contains(&key) {
                wanted.push(key);
            }
        }
        wanted
    }

    /// Models the base image `reference` (from [`Host::bases_to_pull`]) ahead of the build that
    /// will use it.
    pub fn pull_base(&self, reference: &str) {
        if let (Some(images), Ok(reference)) =
            (&self.images, Reference::parse_normalized(reference))
        {
            images.image(&reference);
        }
    }

    /// Whether the catalog has been given.
    pub fn has_catalog(&self) -> bool {
        self.catalog.is_some()
    }

    /// Whether answering `request` needs the catalog (running anything may build or run).
    pub fn needs_catalog(request: &Request) -> bool {
        matches!(request, Request::Run { .. } | Request::Replay { .. })
    }

    /// The engine, for the views.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn rebuild(&mut self, state: EngineState) {
        // A fresh ID stream for every engine: mix in what the state has already made.
        let made = u64::try_from(state.containers.len()).unwrap_or(0) + u64::from(state.next_pid);
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(made | 1);
        let runner = self
            .catalog
            .as_ref()
            .map_or_else(ShellRunner::default, ShellRunner::with_catalog);
        let mut engine = Engine::new(state)
            .with_clock(HostClock(Arc::clone(&self.now)))
            .with_ids(SeededIds::new(self.seed))
            .with_runner(runner);
        if let Some(images) = &self.images {
            engine = engine.with_base_images(SharedImages(Rc::clone(images)));
        }
        self.engine = engine;
    }

    /// Answers one request; a command also reports the new summary and state to keep.
    pub fn handle(&mut self, request: Request) -> Vec<Response> {
        match request {
            Request::Analyze { seq, text } => vec![Response::Analysis {
                seq,
                analysis: editor::analyze(&text),
            }],
            Request::Run { id, line, files } => self.command_line(id, &line, &files),
            Request::Replay { id, index } => {
                let Some((line, files)) = self
                    .opened
                    .commands()
                    .nth(index)
                    .map(|(l, f)| (l.to_owned(), f.to_vec()))
                else {
                    return vec![Response::Error {
                        message: format!("the share link has no command {index}"),
                    }];
                };
                self.command_line(id, &line, &files)
            }
            Request::ImportImage { id, name, data_url } => {
                let output = match data_url_bytes(&data_url) {
                    Ok(bytes) => {
                        self.engine.set_stdin(bytes);
                        self.run(id, &format!("docker import - {name}"), &[])
                    }
                    Err(message) => Response::Output {
                        id,
                        chunks: vec![(Stream::Stderr, format!("{message}\n"))],
                        notices: Vec::new(),
                        events: "[]".into(),
                        code: 1,
                        shell: None,
                        playback: String::new(),
                    },
                };
                self.unsaved = true;
                vec![output, self.summary()]
            }
            Request::Complete { id, line, cursor } => {
                let c = complete(&self.names(), &line, cursor);
                let replacement = c.replacement();
                vec![Response::Completion {
                    id,
                    start: c.start,
                    candidates: c.candidates,
                    replacement,
                }]
            }
            Request::Fetch { port, path } => {
                let body = self.engine.request(port, &path);
                self.unsaved = true;
                vec![Response::Page { port, body }]
            }
            Request::Restore { state } => match restore(&state) {
                Ok((state, journal)) => {
                    self.shell = None;
                    self.journal = journal;
                    self.rebuild(state);
                    vec![self.summary()]
                }
                Err(message) => vec![
                    Response::Error {
                        message: format!(
                            "the saved engine state could not be read ({message}); starting with no images or containers"
                        ),
                    },
                    self.summary(),
                ],
            },
            Request::Reset => {
                self.shell = None;
                self.journal = Journal::default();
                self.rebuild(EngineState::default());
                self.unsaved = true;
                vec![self.summary()]
            }
            Request::Share { files } => vec![Response::Shared {
                fragment: share::encode(&files, &self.journal),
            }],
            Request::Open { fragment } => match share::decode(&fragment) {
                Ok((files, journal)) => {
                    let commands = journal.entries.iter().map(|(l, _)| l.clone()).collect();
                    self.opened = journal;
                    vec![Response::Project { files, commands }]
                }
                Err(message) => vec![Response::Error { message }],
            },
            Request::Export { files, history } => vec![Response::Exported {
                text: project_file::export(&files, &history),
            }],
            Request::Import { text } => match project_file::import(&text) {
                Ok((files, history)) => vec![Response::Imported { files, history }],
                Err(message) => vec![Response::Error { message }],
            },
            Request::Pull { dockerfile } => {
                for reference in self.bases_to_pull(&dockerfile) {
                    self.pull_base(&reference);
                }
                Vec::new()
            }
            Request::View(request) => {
                let result = view::answer(&self.engine, &request)
                    .map_err(|e| e.to_string())
                    .and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string()));
                vec![Response::View { request, result }]
            }
        }
    }

    /// Runs a line typed at the terminal (or replayed), keeping it in the journal.
    fn command_line(&mut self, id: u64, line: &str, files: &[ProjectFile]) -> Vec<Response> {
        if !line.trim().is_empty() {
            self.journal.record(line, files);
        }
        let output = self.run(id, line, files);
        self.unsaved = true;
        let mut responses = vec![output, self.summary()];
        responses.extend(self.download.take());
        responses
    }

    fn run(&mut self, id: u64, line: &str, files: &[ProjectFile]) -> Response {
        let mut out = Output::default();
        let code = match &self.shell {
            Some(shell) => {
                let shell = shell.clone();
                self.shell_line(&shell, line, &mut out)
            }
            None => self.command(line, files, &mut out),
        };
        let playback = crate::playback::plan(&out.chunks, &out.events, |image| {
            view::layers::view(&self.engine, image, false).ok()
        });
        Response::Output {
            id,
            chunks: out.chunks,
            notices: out.notices,
            events: serde_json::to_string(&out.events).unwrap_or_else(|_| "[]".into()),
            code,
            shell: self.shell.as_ref().map(|s| s.container.clone()),
            playback: playback.encode(),
        }
    }

    /// A line at the terminal's `$` prompt.
    fn command(&mut self, line: &str, files: &[ProjectFile], out: &mut Output) -> i32 {
        let argv = match split_line(line) {
            Ok(argv) => argv,
            Err(e) => {
                out.err(format!("sh: 1: Syntax error: {e}\n"));
                return 2;
            }
        };
        if argv.is_empty() {
            return 0;
        }
        if let Some(shell) = self.opens_shell(&argv) {
            out.notices.push(format!(
                "simulated: a shell in container {}; each line runs there, `exit` leaves",
                shell.container
            ));
            self.shell = Some(shell);
            return 0;
        }
        if let Some(refusal) = refused_in_the_page(&argv) {
            out.err(format!("{refusal}\n"));
            return 1;
        }
        if is_build(&argv) {
            self.engine.set_build_input(BuildInput {
                files: context_layer(files),
            });
        }
        if is_command(&argv, |c| matches!(c, Command::Cp(_))) {
            // the project's files are the host `docker cp` copies from
            self.engine
                .set_host_files(MemoryHost::from_files(context_layer(files)));
        }
        let code = i32::from(self.engine.execute(&argv, out));
        if let Some(archive) = out.archive.take() {
            let name = archive
                .path
                .as_deref()
                .and_then(|p| p.rsplit('/').next())
                .filter(|n| !n.is_empty())
                .unwrap_or("image.tar")
                .to_owned();
            out.notices.push(format!(
                "the playground has no files: {name} ({}) goes to your browser's downloads",
                layerbox_core::image::human_size(archive.bytes.len() as u64)
            ));
            self.download = Some(Response::Download {
                name,
                data_url: format!(
                    "data:application/x-tar;base64,{}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        &archive.bytes
                    )
                ),
            });
        }
        code
    }

    /// `docker exec -it NAME sh` (or `bash`, `-i` alone) on a running container opens the
    /// terminal's shell mode; anything else is left to the engine.
    fn opens_shell(&self, argv: &[String]) -> Option<Shell> {
        use layerbox_core::cli::grammar::{Invocation, parse};
        let Ok(Invocation::Command {
            command: Command::Exec(o),
            ..
        }) = parse(argv)
        else {
            return None;
        };
        let shell = matches!(
            o.command.first().map(|p| p.rsplit('/').next().unwrap_or(p)),
            Some("sh" | "bash" | "ash" | "dash")
        );
        if !(o.interactive && shell && o.command.len() == 1) {
            return None;
        }
        let i = self.engine.find_container(&o.container).ok()?;
        let c = &self.engine.state().containers[i];
        if c.state != ContainerState::Running {
            // The engine gives docker's refusal.
            return None;
        }
        Some(Shell {
            container: c.name.clone(),
            workdir: o.workdir.clone(),
        })
    }

    /// A line typed at the container shell's `#` prompt: run by the container's shell, with
    /// `cd` remembered between lines.
    fn shell_line(&mut self, shell: &Shell, line: &str, out: &mut Output) -> i32 {
        let trimmed = line.trim();
        if trimmed == "exit" || trimmed.starts_with("exit ") {
            self.shell = None;
            return trimmed
                .strip_prefix("exit ")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
        }
        if trimmed.is_empty() {
            return 0;
        }
        let mut argv: Vec<String> = vec!["docker".into(), "exec".into(), "-i".into()];
        if let Some(dir) = &shell.workdir {
            argv.extend(["-w".into(), dir.clone()]);
        }
        argv.extend([shell.container.clone(), "sh".into()]);
        let cd = trimmed == "cd" || trimmed.starts_with("cd ");
        if cd {
            // On success the new directory is the last line the shell prints.
            self.engine.set_stdin(format!("{line} && pwd\n"));
            let mut inner = Output::default();
            let code = self.engine.execute(&argv, &mut inner);
            let mut stdout = inner.stdout();
            if code == 0
                && let Some(end) = stdout
                    .trim_end_matches('\n')
                    .rfind('\n')
                    .map_or(Some(0), |i| Some(i + 1))
            {
                let dir = stdout[end..].trim_end().to_owned();
                if dir.starts_with('/')
                    && let Some(s) = &mut self.shell
                {
                    s.workdir = Some(dir);
                    stdout.truncate(end);
                }
            }
            out.out(stdout);
            out.err(inner.stderr());
            out.events.extend(inner.events);
            out.notices.extend(inner.notices);
            return i32::from(code);
        }
        self.engine.set_stdin(format!("{line}\n"));
        let code = i32::from(self.engine.execute(&argv, out));
        // The container may have stopped under the shell.
        let running = self
            .engine
            .find_container(&shell.container)
            .is_ok_and(|i| self.engine.state().containers[i].state == ContainerState::Running);
        if !running {
            self.shell = None;
        }
        code
    }

    fn names(&self) -> Names {
        let state = self.engine.state();
        Names {
            images: state
                .images
                .iter()
                .flat_map(|i| i.repo_tags.iter().map(Reference::familiar))
                .collect(),
            containers: state.containers.iter().map(|c| c.name.clone()).collect(),
            volumes: state.volumes.iter().map(|v| v.name.clone()).collect(),
        }
    }

    /// Images, containers and published ports, for the page.
    pub fn summary(&self) -> Response {
        let state = self.engine.state();
        Response::Summary(Summary {
            images: self.names().images,
            containers: state
                .containers
                .iter()
                .map(|c| ContainerSummary {
                    name: c.name.clone(),
                    image: c.image_name.clone(),
                    state: c.state.to_string(),
                    ports: if c.state == ContainerState::Running {
                        let mut ports: Vec<u16> = c
                            .ports
                            .iter()
                            .map(|p| p.public_port)
                            .filter(|&p| p != 0)
                            .collect();
                        ports.dedup();
                        ports
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        })
    }

    /// The engine's state to keep, if it changed since the last call. Commands answer without
    /// it: serialising and compressing the whole state costs far more than a command (a third
    /// of a second for the Python example's image in the browser), so the worker asks for it
    /// once the commands have settled.
    pub fn take_saved(&mut self) -> Option<Response> {
        std::mem::take(&mut self.unsaved).then(|| self.saved())
    }

    /// The engine's state and the journal as text to keep.
    pub fn saved(&self) -> Response {
        let json = serde_json::to_vec(&SavedRef {
            engine: self.engine.state(),
            journal: &self.journal,
        })
        .unwrap_or_default();
        Response::Saved {
            state: share::pack(&json),
        }
    }
}

/// What docker's client says when `save` or `export` would write to a terminal: in the page,
/// stdout is always the terminal.
const TERMINAL_REFUSAL: &str =
    "cowardly refusing to save to a terminal. Use the -o flag or redirect";

/// What the page refuses before the engine runs `argv`, as docker's client would: `save` and
/// `export` without `-o` (stdout is the terminal), `save --format oci-dir` (a download is one
/// file), `load` (the page has no files to read; a tarball is imported with the terminal's
/// picker).
fn refused_in_the_page(argv: &[String]) -> Option<String> {
    use layerbox_core::cli::grammar::{Invocation, parse};
    let Ok(Invocation::Command { command, .. }) = parse(argv) else {
        return None;
    };
    match command {
        Command::Save(o) if o.format.as_deref() == Some("oci-dir") => {
            Some("the playground downloads one file, not a folder: use --format oci-archive".into())
        }
        Command::Save(o) if o.output.is_none() => Some(TERMINAL_REFUSAL.into()),
        Command::Export(o) if o.output.is_none() => Some(TERMINAL_REFUSAL.into()),
        Command::Cp(o)
            if o.destination != "-"
                && layerbox_core::engine::cp::split_cp_arg(&o.destination)
                    .0
                    .is_none() =>
        {
            Some(
                "the playground does not write into the project's files: `docker cp CONTAINER:PATH -` downloads the copy as a tar"
                    .into(),
            )
        }
        Command::Load(o) => Some(match o.input {
            None => "requested load from stdin, but stdin is empty".into(),
            Some(file) => format!(
                "open {file}: no such file or directory (the playground has no files; import a rootfs tarball with the terminal's picker)"
            ),
        }),
        _ => None,
    }
}

/// The largest tarball the playground imports.
pub const MAX_IMPORT: usize = 32 << 20;

/// The bytes of a base64 `data:` URL (what FileReader's `readAsDataURL` gives).
fn data_url_bytes(url: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let Some((_, b64)) = url.split_once(";base64,") else {
        return Err("the picked file could not be read".into());
    };
    if b64.len() / 4 * 3 > MAX_IMPORT {
        return Err(format!(
            "the tarball is too big for the playground (at most {} MB)",
            MAX_IMPORT >> 20
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("the picked file could not be read ({e})"))
}

/// What [`Host::saved`] keeps.
#[derive(serde::Serialize)]
struct SavedRef<'a> {
    engine: &'a EngineState,
    journal: &'a Journal,
}

/// What [`restore`] reads back.
#[derive(serde::Deserialize)]
struct Saved {
    engine: EngineState,
    journal: Journal,
}

/// Reads a state saved by [`Host::saved`], or by earlier versions (the engine's state alone,
/// no journal).
fn restore(saved: &str) -> Result<(EngineState, Journal), String> {
    let json = share::unpack(saved)?;
    match serde_json::from_slice::<Saved>(&json) {
        Ok(saved) => Ok((saved.engine, saved.journal)),
        Err(e) => serde_json::from_slice(&json)
            .map(|engine| (engine, Journal::default()))
            .map_err(|_| e.to_string()),
    }
}

/// Whether the command line is a `build` (the editor's files are its context).
fn is_build(argv: &[String]) -> bool {
    is_command(argv, |c| matches!(c, Command::Build(_)))
}

/// Whether `argv` parses as a command `which` accepts.
fn is_command(argv: &[String], which: impl Fn(&Command) -> bool) -> bool {
    use layerbox_core::cli::grammar::{Invocation, parse};
    matches!(parse(argv), Ok(Invocation::Command { command, .. }) if which(&command))
}

/// The editor's files as a build context: regular files, with their parent directories.
pub fn context_layer(files: &[ProjectFile]) -> Layer {
    let mut layer = Layer::new();
    for f in files {
        let mut dir = String::new();
        let parts: Vec<&str> = f.path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(part);
            layer.insert(dir.clone(), Entry::dir(Meta::new(0o755, CONTEXT_MTIME)));
        }
        layer.insert(
            f.path.clone(),
            Entry::file(
                Meta::new(0o644, CONTEXT_MTIME),
                f.contents.as_bytes().to_vec(),
            ),
        );
    }
    layer
}

// Native only: the tests take the catalog the native build embeds.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use layerbox_core::examples;

    use super::*;

    /// A host with the builtin catalog and a fixed clock (the playback's tests use it too).
    pub(crate) fn host() -> Host {
        let mut host = Host::new(Arc::new(|| Timestamp::from_unix_secs(1_764_000_000)), 7);
        host.set_catalog(Catalog::builtin().unwrap());
        host
    }

    fn files(example: &examples::Example) -> Vec<ProjectFile> {
        example
            .files
            .iter()
            .map(|f| ProjectFile {
                path: f.path.into(),
                contents: f.contents.into(),
            })
            .collect()
    }

    /// Runs `line`; returns (stdout, stderr, code, shell).
    fn run(
        host: &mut Host,
        line: &str,
        ctx: &[ProjectFile],
    ) -> (String, String, i32, Option<String>) {
        let responses = host.handle(Request::Run {
            id: 1,
            line: line.into(),
            files: ctx.to_vec(),
        });
        assert!(matches!(responses[1], Response::Summary(_)));
        assert_eq!(responses.len(), 2);
        assert!(matches!(host.take_saved(), Some(Response::Saved { .. })));
        assert!(host.take_saved().is_none());
        let Response::Output {
            chunks,
            code,
            shell,
            ..
        } = &responses[0]
        else {
            panic!("{responses:?}")
        };
        let text = |s: Stream| {
            chunks
                .iter()
                .filter(|(k, _)| *k == s)
                .map(|(_, t)| t.as_str())
                .collect::<String>()
        };
        (
            text(Stream::Stdout),
            text(Stream::Stderr),
            *code,
            shell.clone(),
        )
    }

    #[test]
    fn the_worker_exports_and_imports_projects() {
        let mut host = host();
        let ctx = files(&examples::python());
        let history = vec!["docker build -t my-app .".to_owned()];
        let [Response::Exported { text }] = &host.handle(Request::Export {
            files: ctx.clone(),
            history: history.clone(),
        })[..] else {
            panic!("no export")
        };
        let back = host.handle(Request::Import { text: text.clone() });
        assert_eq!(
            back,
            [Response::Imported {
                files: ctx,
                history
            }]
        );
        let refused = host.handle(Request::Import { text: "{}".into() });
        assert!(
            matches!(&refused[..], [Response::Error { message }] if message.contains("not a layerbox project")),
            "{refused:?}"
        );
    }

    #[test]
    fn base_images_are_modelled_ahead_of_the_build_once() {
        let mut host = host();
        let dockerfile = "ARG V=3.9\nFROM python:3.9-slim AS deps\nFROM deps\nFROM python:$V\n\
                          FROM scratch\nFROM node:14\nFROM node:14 AS again\n";
        assert_eq!(
            host.bases_to_pull(dockerfile),
            [
                "docker.io/library/python:3.9-slim",
                "docker.io/library/node:14"
            ]
        );
        assert!(
            host.bases_to_pull("FROM a\nFORM b\n").is_empty(),
            "a broken Dockerfile pulls nothing"
        );
        host.pull_base("docker.io/library/python:3.9-slim");
        assert_eq!(
            host.bases_to_pull(dockerfile),
            ["docker.io/library/node:14"]
        );
        // The build then finds python:3.9-slim modelled and uses it.
        let ctx = files(&examples::python());
        let (_, err, code, _) = run(&mut host, "docker build -t my-app .", &ctx);
        assert_eq!(code, 0, "{err}");
        // The page's request models what is left, and answers nothing.
        let pull = Request::Pull {
            dockerfile: dockerfile.into(),
        };
        assert_eq!(host.handle(pull), []);
        assert!(host.bases_to_pull(dockerfile).is_empty());
        let mut fresh = Host::new(Arc::new(|| Timestamp::from_unix_secs(1)), 7);
        assert!(
            fresh.bases_to_pull(dockerfile).is_empty(),
            "no catalog, nothing to model"
        );
        fresh.set_catalog(Catalog::builtin().unwrap());
        assert_eq!(fresh.bases_to_pull(dockerfile).len(), 2);
    }

    #[test]
    fn the_articles_node_app_builds_runs_and_answers() {
        let mut host = host();
        let ctx = files(&examples::node());
        let (_, err, code, _) = run(&mut host, "docker build -t my-app .", &ctx);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("COPY package*.json ./"), "{err}");
        assert!(err.contains("naming to docker.io/library/my-app"), "{err}");
        let (out, _, _, _) = run(&mut host, "docker images", &ctx);
        assert!(out.starts_with("REPOSITORY"), "{out}");
        assert!(out.contains("my-app"), "{out}");
        let (_, err, code, _) = run(
            &mut host,
            "docker run -d -p 3000:3000 --name web my-app",
            &ctx,
        );
        assert_eq!(code, 0, "{err}");
        let (out, _, _, _) = run(&mut host, "docker ps", &ctx);
        assert!(out.contains("0.0.0.0:3000->3000/tcp"), "{out}");
        assert!(out.contains(" web\n"), "{out}");
        let Response::Summary(summary) = host.summary() else {
            panic!()
        };
        assert_eq!(summary.containers[0].ports, [3000]);
        let page = host.handle(Request::Fetch {
            port: 3000,
            path: "/".into(),
        });
        assert_eq!(
            page[0],
            Response::Page {
                port: 3000,
                body: Ok("Hello World\n".into())
            }
        );
        let refused = host.handle(Request::Fetch {
            port: 4000,
            path: "/".into(),
        });
        assert!(
            matches!(&refused[0], Response::Page { body: Err(e), .. } if e.contains("Connection refused"))
        );
    }

    #[test]
    fn exec_it_opens_a_shell_that_remembers_cd_until_exit() {
        let mut host = host();
        let ctx = files(&examples::python());
        assert_eq!(run(&mut host, "docker build -t my-app .", &ctx).2, 0);
        assert_eq!(run(&mut host, "docker run -d --name web my-app", &ctx).2, 0);
        let (_, _, code, shell) = run(&mut host, "docker exec -it web sh", &ctx);
        assert_eq!((code, shell.as_deref()), (0, Some("web")));
        let (out, _, _, shell) = run(&mut host, "pwd", &ctx);
        assert_eq!((out.as_str(), shell.as_deref()), ("/app\n", Some("web")));
        run(&mut host, "cd /tmp", &ctx);
        assert_eq!(run(&mut host, "pwd", &ctx).0, "/tmp\n");
        let (_, err, code, _) = run(&mut host, "cd /nope", &ctx);
        assert_ne!(code, 0);
        assert!(err.contains("/nope"), "{err}");
        run(&mut host, "echo hi > note.txt", &ctx);
        let (_, _, code, shell) = run(&mut host, "exit 3", &ctx);
        assert_eq!((code, shell), (3, None));
        let (out, _, _, _) = run(&mut host, "docker diff web", &ctx);
        assert!(out.contains("A /tmp/note.txt"), "{out}");
        // A stopped container opens no shell: the engine refuses as docker does.
        run(&mut host, "docker stop web", &ctx);
        let (_, err, code, shell) = run(&mut host, "docker exec -it web sh", &ctx);
        assert_eq!((code, shell), (1, None), "{err}");
        assert!(err.contains("is not running"), "{err}");
    }

    #[test]
    fn errors_are_docker_s_words_never_a_panic() {
        let mut host = host();
        let (_, err, code, _) = run(&mut host, "docker run nope:1", &[]);
        assert_eq!(code, 125, "{err}");
        let (_, err, code, _) = run(&mut host, "echo 'unclosed", &[]);
        assert_eq!(code, 2);
        assert!(err.contains("unexpected EOF"), "{err}");
        let (_, err, code, _) = run(&mut host, "kubectl get pods", &[]);
        assert_eq!(code, 127);
        assert_eq!(err, "kubectl: command not found\n");
        assert_eq!(run(&mut host, "   ", &[]).2, 0);
    }

    #[test]
    fn the_state_survives_a_save_and_a_restore() {
        let mut host = host();
        let ctx = files(&examples::python());
        run(&mut host, "docker build -t my-app .", &ctx);
        run(&mut host, "docker create --name keep my-app", &ctx);
        let Response::Saved { state } = host.saved() else {
            panic!()
        };
        let mut other = self::host();
        assert!(matches!(
            other.handle(Request::Restore { state })[0],
            Response::Summary(_)
        ));
        let (out, _, _, _) = run(&mut other, "docker ps -a", &ctx);
        assert!(out.contains("keep"), "{out}");
        // A second container gets another ID than the first.
        run(&mut other, "docker create --name second my-app", &ctx);
        let ids: Vec<&str> = other
            .engine()
            .state()
            .containers
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_ne!(ids[0], ids[1]);
        let bad = other.handle(Request::Restore {
            state: "garbage".into(),
        });
        assert!(
            matches!(&bad[0], Response::Error { message } if message.contains("could not be read"))
        );
        assert_eq!(
            run(&mut other, "docker ps -a -q", &ctx).0.lines().count(),
            2
        );
        other.handle(Request::Reset);
        assert_eq!(run(&mut other, "docker ps -a -q", &ctx).0, "");
    }

    #[test]
    fn completion_analysis_and_share_links() {
        let mut host = host();
        let ctx = files(&examples::python());
        run(&mut host, "docker build -t my-app .", &ctx);
        run(&mut host, "docker run -d --name web my-app", &ctx);
        let r = host.handle(Request::Complete {
            id: 4,
            line: "docker stop w".into(),
            cursor: 13,
        });
        assert_eq!(
            r[0],
            Response::Completion {
                id: 4,
                start: 12,
                candidates: vec!["web".into()],
                replacement: Some("web ".into())
            }
        );
        let r = host.handle(Request::Complete {
            id: 5,
            line: "docker rmi my".into(),
            cursor: 13,
        });
        assert!(
            matches!(&r[0], Response::Completion { candidates, .. } if candidates == &["my-app:latest"])
        );
        let r = host.handle(Request::Analyze {
            seq: 3,
            text: "FROM alpine\nCOPY x\n".into(),
        });
        assert!(
            matches!(&r[0], Response::Analysis { seq: 3, analysis } if !analysis.diagnostics.is_empty())
        );
        let r = host.handle(Request::Share { files: ctx.clone() });
        let Response::Shared { fragment } = &r[0] else {
            panic!()
        };
        let r = host.handle(Request::Open {
            fragment: fragment.clone(),
        });
        assert_eq!(
            r[0],
            Response::Project {
                files: ctx.clone(),
                commands: vec![
                    "docker build -t my-app .".into(),
                    "docker run -d --name web my-app".into()
                ]
            }
        );
        // Replayed on a fresh engine, the commands make the same images and containers.
        let mut other = self::host();
        other.handle(Request::Open {
            fragment: fragment.clone(),
        });
        for index in 0..2 {
            let r = other.handle(Request::Replay { id: 9, index });
            assert!(matches!(r[0], Response::Output { code: 0, .. }), "{r:?}");
        }
        assert!(matches!(
            &other.handle(Request::Replay { id: 9, index: 2 })[0],
            Response::Error { message } if message.contains("no command 2")
        ));
        let ps = "docker ps -a --format {{.Names}}:{{.Image}}:{{.State}}";
        assert_eq!(run(&mut other, ps, &ctx).0, run(&mut host, ps, &ctx).0);
        assert_eq!(run(&mut other, ps, &ctx).0, "web:my-app:running\n");
        let r = host.handle(Request::Open {
            fragment: "p=AAAA".into(),
        });
        assert!(matches!(&r[0], Response::Error { message } if message.contains("damaged")));
    }

    #[test]
    fn views_are_answered_by_the_core() {
        let mut host = host();
        let ctx = files(&examples::python());
        run(&mut host, "docker build -t my-app .", &ctx);
        let r = host.handle(Request::View(view::Request::Layers {
            image: "my-app".into(),
        }));
        let Response::View {
            result: Ok(json), ..
        } = &r[0]
        else {
            panic!("{r:?}")
        };
        let Ok(view::Response::Layers(layers)) = crate::protocol::decode_view(json) else {
            panic!("{json}")
        };
        assert!(
            layers
                .steps
                .iter()
                .any(|l| l.created_by.contains("pip install") && l.layer.is_some()),
            "{layers:?}"
        );
        let r = host.handle(Request::View(view::Request::Layers {
            image: "nosuch".into(),
        }));
        assert!(
            matches!(&r[0], Response::View { result: Err(e), .. } if e == "No such image: nosuch")
        );
    }

    #[test]
    fn a_picked_rootfs_tarball_is_imported_as_a_base_image() {
        use base64::Engine as _;
        use layerbox_core::fs::tar::{TarOptions, write_layer};
        let mut host = host();
        let rootfs = context_layer(&[ProjectFile {
            path: "bin/hello".into(),
            contents: "#!/bin/sh\necho hello\n".into(),
        }]);
        let tar = write_layer(&rootfs, &TarOptions::default());
        let data_url = format!(
            "data:application/x-tar;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&tar)
        );
        let name = crate::protocol::imported_image_name("Hello Root.tar");
        assert_eq!(name, "helloroot");
        let responses = host.handle(Request::ImportImage {
            id: 3,
            name: name.clone(),
            data_url,
        });
        let Response::Output { chunks, code, .. } = &responses[0] else {
            panic!("{responses:?}")
        };
        assert_eq!(*code, 0, "{chunks:?}");
        assert!(chunks[0].1.starts_with("sha256:"), "{chunks:?}");
        let (out, _, _, _) = run(&mut host, "docker images --format {{.Repository}}", &[]);
        assert_eq!(out, "helloroot\n");
        let bad = host.handle(Request::ImportImage {
            id: 4,
            name,
            data_url: "data:application/x-tar;base64,!!!".into(),
        });
        let Response::Output { chunks, code, .. } = &bad[0] else {
            panic!("{bad:?}")
        };
        assert_eq!(*code, 1);
        assert!(chunks[0].1.contains("could not be read"), "{chunks:?}");
        for (file, name) in [
            ("x.tgz", "x"),
            ("../..tar.gz", "imported"),
            ("A_b-1.TAR", "a_b-1"),
        ] {
            assert_eq!(crate::protocol::imported_image_name(file), name);
        }
    }

    #[test]
    fn save_and_export_download_what_has_real_bytes() {
        use base64::Engine as _;
        let mut host = host();
        let ctx = vec![
            ProjectFile {
                path: "Dockerfile".into(),
                contents: "FROM scratch\nCOPY hello.txt /\nCMD [\"/hello\"]\n".into(),
            },
            ProjectFile {
                path: "hello.txt".into(),
                contents: "hello\n".into(),
            },
        ];
        let (_, err, code, _) = run(&mut host, "docker build -t tiny .", &ctx);
        assert_eq!(code, 0, "{err}");
        let responses = host.handle(Request::Run {
            id: 9,
            line: "docker save -o out/tiny.tar tiny".into(),
            files: ctx.clone(),
        });
        let Some(Response::Download { name, data_url }) = responses.get(2) else {
            panic!("{responses:?}")
        };
        assert_eq!(name, "tiny.tar");
        let b64 = data_url
            .strip_prefix("data:application/x-tar;base64,")
            .unwrap();
        let tar = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let members: Vec<String> = tar::Archive::new(tar.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(members.contains(&"manifest.json".to_owned()), "{members:?}");
        let (_, err, code, _) = run(&mut host, "docker save tiny", &ctx);
        assert_eq!(
            (err.as_str(), code),
            (format!("{TERMINAL_REFUSAL}\n").as_str(), 1)
        );
        let (_, err, code, _) = run(&mut host, "docker load -i tiny.tar", &ctx);
        assert_eq!(code, 1);
        assert!(
            err.starts_with("open tiny.tar: no such file or directory"),
            "{err}"
        );
        // A modelled base image has files without bytes: save says which.
        let (_, err, code, _) = run(&mut host, "docker create --name ctr alpine:3.20", &ctx);
        assert_eq!(code, 0, "{err}");
        for line in [
            "docker save -o a.tar alpine:3.20",
            "docker export -o c.tar ctr",
        ] {
            let (_, err, code, _) = run(&mut host, line, &ctx);
            assert_eq!(code, 1, "{line}");
            assert!(
                err.contains("is modelled by the simulation"),
                "{line}: {err}"
            );
        }
    }

    #[test]
    fn docker_cp_copies_the_projects_files_in_and_downloads_copies_out() {
        let mut host = host();
        let ctx = vec![ProjectFile {
            path: "app/hello.txt".into(),
            contents: "hello\n".into(),
        }];
        let (_, err, code, _) = run(&mut host, "docker create --name box alpine:3.20", &ctx);
        assert_eq!(code, 0, "{err}");
        let (_, err, code, _) = run(&mut host, "docker cp app/hello.txt box:/tmp/", &ctx);
        assert_eq!(code, 0, "{err}");
        let (out, _, _, _) = run(&mut host, "docker diff box", &ctx);
        assert!(out.contains("A /tmp/hello.txt"), "{out}");
        let (_, err, code, _) = run(&mut host, "docker cp box:/tmp/hello.txt .", &ctx);
        assert_eq!(code, 1);
        assert!(err.contains("downloads the copy as a tar"), "{err}");
        let responses = host.handle(Request::Run {
            id: 3,
            line: "docker cp box:/tmp/hello.txt -".into(),
            files: ctx.clone(),
        });
        assert!(
            responses
                .iter()
                .any(|r| matches!(r, Response::Download { .. })),
            "{responses:?}"
        );
    }

    #[test]
    fn context_files_bring_their_directories() {
        let layer = context_layer(&[ProjectFile {
            path: "src/lib/a.js".into(),
            contents: "x".into(),
        }]);
        let paths: Vec<&str> = layer.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["src", "src/lib", "src/lib/a.js"]);
    }
}
