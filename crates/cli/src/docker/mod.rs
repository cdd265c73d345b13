//! `layerbox --engine linux`: docker's commands on the Linux engine, through the same grammar,
//! tables and error texts as the simulated engine.
//!
//! The core engine does everything that is bookkeeping — `create` (image defaults merged with
//! the flags, names, IDs, ports), `images`, `ps`, `inspect`, `history`, `tag`, `rmi`, `commit`,
//! `rename`, the prunes, and `build` (with [`runner::BuildRunner`] running each `RUN` in a real
//! container) — on an [`EngineState`](layerbox_core::engine::EngineState) read from the store
//! ([`state`]); what changed is written back. What involves a real process is done here
//! ([`containers`]): `run`, `start`, `stop`, `kill`, `restart`, `rm`, `exec`, `logs`, `wait`,
//! `diff`, with the shim ([`crate::shim`]) supervising detached containers. `import` is the
//! core's (the tarball is read here); `system check` is layerbox's own ([`system`]).
//!
//! Locks: commands that change the store hold its exclusive lock from reading to writing;
//! listings take the shared one; nothing holds a lock while waiting for a container.

mod containers;
mod cp;
mod pause;
pub mod runner;
pub mod state;
mod system;
mod volumes;

use std::io::{self, Write};
use std::path::Path;

use layerbox_core::cli::command::Command;
use layerbox_core::cli::grammar::{self, Invocation};
use layerbox_core::engine::{BuildInput, Engine, EngineState, Output, SeededIds, Stream};

use crate::linux::LinuxRun;
use crate::sim::SystemClock;
use crate::store::{Store, StoreError};

use runner::BuildRunner;
use state::Loaded;

fn store_error(e: StoreError) -> io::Error {
    io::Error::other(e)
}

/// Prints what the core engine wrote (its notices, which are about the simulation, are not
/// printed: nothing here is simulated).
pub fn print(out: &Output) -> io::Result<()> {
    let (mut stdout, mut stderr) = (io::stdout().lock(), io::stderr().lock());
    if let Some(progress) = &out.progress {
        // `build --progress tty`: BuildKit's display, its frames at once (the build is over)
        let mut display = layerbox_core::engine::TtyDisplay::new(80, 10);
        stderr.write_all(display.render_all(progress).as_bytes())?;
    }
    for (stream, text) in &out.chunks {
        let to: &mut dyn Write = if *stream == Stream::Stdout {
            &mut stdout
        } else {
            &mut stderr
        };
        to.write_all(text.as_bytes())?;
        to.flush()?;
    }
    if let Some(archive) = &out.archive {
        crate::archive::write_archive_output(archive)?;
    }
    Ok(())
}

/// A random seed for container IDs and names (std's hasher keys come from the OS).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// The Linux engine over a store.
pub struct Linux {
    store: Store,
    program: String,
    registry: crate::registry::Settings,
}

impl Linux {
    /// The engine over the store at `root` (created when missing).
    pub fn open(root: &Path, program: &str) -> io::Result<Self> {
        Ok(Self {
            store: Store::open(root).map_err(store_error)?,
            program: program.to_owned(),
            registry: crate::registry::Settings::default(),
        })
    }

    /// The same engine with registry settings (mirrors, insecure registries) for the pulls a
    /// build's `FROM` needs.
    #[must_use]
    pub fn with_registry(mut self, settings: crate::registry::Settings) -> Self {
        self.registry = settings;
        self
    }

    /// Pulls the images a build's stages start from that the store lacks (`FROM` of a name
    /// that is neither `scratch`, an earlier stage, nor built from `ARG`s), as docker's builder
    /// does, before the build takes the store's lock. Pull errors are left for the build to
    /// report in its own words.
    fn pull_missing_bases(&self, o: &layerbox_core::cli::command::BuildOptions) -> io::Result<()> {
        let dir = Path::new(&o.context);
        let name = o.file.as_deref().unwrap_or("Dockerfile");
        let Ok(text) = std::fs::read_to_string(dir.join(name.trim_start_matches("./"))) else {
            return Ok(());
        };
        let Ok(parsed) = layerbox_core::dockerfile::parse(&text) else {
            return Ok(());
        };
        let engine = {
            let _lock = self.store.lock_shared().map_err(store_error)?;
            self.engine(state::load(&self.store, false).map_err(store_error)?.state)
        };
        let mut earlier: Vec<String> = Vec::new();
        for stage in &parsed.stages {
            let base = &stage.base_name;
            let local = base.eq_ignore_ascii_case("scratch")
                || base.contains('$')
                || earlier.iter().any(|s| s.eq_ignore_ascii_case(base))
                || engine.find_image(base).is_some();
            if !local {
                let progress = std::sync::Mutex::new(crate::registry::progress::Progress::new(
                    Box::new(io::stderr()),
                    false,
                    false,
                ));
                if let Err(e) =
                    crate::registry::pull::pull(&self.store, base, None, &self.registry, &progress)
                {
                    eprintln!("pulling {base}: {e}");
                }
            }
            if let Some(n) = &stage.name {
                earlier.push(n.clone());
            }
        }
        Ok(())
    }

    /// `run` and `create` pull their image first as docker's client does: by `--pull`
    /// (`missing`, the default: when the store lacks it, after `Unable to find image … locally`;
    /// `always`; `never`: the core reports the missing image), the pull's progress on stderr.
    /// Returns the exit code when the command ends here (a bad `--pull`, a failed pull).
    fn pull_for_create(
        &self,
        o: &layerbox_core::cli::command::CreateOptions,
        command: &str,
    ) -> io::Result<Option<u8>> {
        use layerbox_core::cli::report::{RunStage, daemon_error, report_error, run_failure};
        let fail = |message: &str| {
            if command == "run" {
                let (text, code) = run_failure(&self.program, message, RunStage::Create);
                eprintln!("{text}");
                code
            } else {
                eprintln!("{}", daemon_error(message));
                1
            }
        };
        let always = match o.pull.as_str() {
            "always" => true,
            "missing" | "" => false,
            "never" => return Ok(None),
            other => {
                let message = format!(
                    "invalid pull option: '{other}': must be one of \"always\", \"missing\" or \"never\""
                );
                eprintln!("{}", report_error(&self.program, command, &message, true));
                return Ok(Some(125));
            }
        };
        let Ok(reference) = layerbox_core::image::Reference::parse_normalized(&o.image)
            .map(layerbox_core::image::Reference::with_default_tag)
        else {
            // the core's words for a name that is not a reference
            return Ok(None);
        };
        if !always {
            let engine = {
                let _lock = self.store.lock_shared().map_err(store_error)?;
                self.engine(state::load(&self.store, false).map_err(store_error)?.state)
            };
            if engine.find_image(&o.image).is_some() {
                return Ok(None);
            }
            eprintln!("Unable to find image '{}' locally", reference.familiar());
        }
        let progress = std::sync::Mutex::new(
            crate::registry::progress::Progress::new(
                Box::new(io::stderr()),
                io::IsTerminal::is_terminal(&io::stderr()),
                false,
            )
            .without_result(),
        );
        // the client names the tag itself: no `Using default tag` line
        let name = reference.to_string();
        match crate::registry::pull::pull(&self.store, &name, None, &self.registry, &progress) {
            Ok(_) => Ok(None),
            Err(e) => Ok(Some(fail(&e.to_string()))),
        }
    }

    /// The core engine over `state`, with the host's clock and random IDs.
    fn engine(&self, state: EngineState) -> Engine {
        let mut engine = Engine::new(state)
            .with_ids(SeededIds::new(seed()))
            .with_clock(SystemClock);
        engine.set_program(&self.program);
        // real directories: binds of host paths, volumes under the store
        engine.set_host_binds(true);
        let volumes = self.store.root().join("volumes");
        let volumes = std::path::absolute(&volumes).unwrap_or(volumes);
        engine.set_volume_root(&volumes.to_string_lossy());
        engine.set_cpus(
            std::thread::available_parallelism()
                .ok()
                .and_then(|n| u32::try_from(n.get()).ok())
                .unwrap_or(1),
        );
        engine
    }

    /// Runs a bookkeeping command on the core engine; `write`: under the exclusive lock, with
    /// what changed written back. `prepare` loads what the command needs besides the records.
    fn via_core(
        &self,
        command: &Command,
        write: bool,
        prepare: impl FnOnce(&Self, &mut Loaded) -> io::Result<Option<Engine>>,
    ) -> io::Result<u8> {
        let _lock = if write {
            self.store.lock()
        } else {
            self.store.lock_shared()
        }
        .map_err(store_error)?;
        let with_cache = matches!(
            command,
            Command::Build(_) | Command::SystemPrune(_) | Command::BuilderPrune(_)
        );
        let mut loaded = state::load(&self.store, with_cache).map_err(store_error)?;
        let prepared = prepare(self, &mut loaded)?;
        let mut engine = match prepared {
            Some(e) => e,
            None => self.engine(std::mem::take(&mut loaded.state)),
        };
        let mut out = Output::default();
        let code = engine.run_command(command, &mut out);
        if write {
            loaded
                .save(&self.store, engine.state())
                .map_err(store_error)?;
        }
        print(&out)?;
        Ok(code)
    }

    /// Reads each volume's size from its directory into the state (`system df`, the prunes).
    fn load_volume_sizes(&self, loaded: &mut Loaded) -> io::Result<()> {
        for v in &loaded.state.volumes {
            let size = self.store.volume_size(&v.name).map_err(store_error)?;
            loaded.state.volume_sizes.insert(v.name.clone(), size);
        }
        Ok(())
    }

    /// Loads the layers of the image `name` names into the state (history sizes, commit).
    fn load_image_layers(&self, loaded: &mut Loaded, name: &str) -> io::Result<()> {
        let engine = self.engine(std::mem::take(&mut loaded.state));
        let diff_ids = engine
            .find_image(name)
            .map(|i| i.config.rootfs.diff_ids.clone())
            .unwrap_or_default();
        loaded.state = engine.into_state();
        self.store
            .load_layers(&diff_ids, &mut loaded.state.layers)
            .map_err(store_error)
    }

    /// Runs one parsed command.
    pub fn command(&self, command: &Command) -> io::Result<u8> {
        match command {
            Command::Images(_)
            | Command::Ps(_)
            | Command::Inspect(_)
            | Command::Port(_)
            | Command::Top(_) => self.via_core(command, false, |_, _| Ok(None)),
            Command::SystemDf(_) => self.via_core(command, false, |me, loaded| {
                me.load_volume_sizes(loaded)?;
                Ok(None)
            }),
            Command::Version(o) => Ok(Self::version(o.format.as_deref())),
            Command::Info(o) => self.info(o.format.as_deref()),
            Command::History(layerbox_core::cli::command::HistoryOptions { image, .. })
            | Command::ImageLayers(layerbox_core::cli::command::ImageLayersOptions {
                image, ..
            }) => self.via_core(command, false, |me, loaded| {
                me.load_image_layers(loaded, image)?;
                Ok(None)
            }),
            Command::VolumeCreate(_) | Command::VolumeRm(_) => {
                self.via_core(command, true, |_, _| Ok(None))
            }
            Command::VolumePrune(_) => self.via_core(command, true, |me, loaded| {
                me.load_volume_sizes(loaded)?;
                Ok(None)
            }),
            Command::VolumeLs(_) | Command::VolumeInspect(_) => {
                self.via_core(command, false, |_, _| Ok(None))
            }
            Command::Create(o)
            | Command::Run(layerbox_core::cli::command::RunOptions { create: o, .. })
                if let Some(message) = refused_mount(o) =>
            {
                use layerbox_core::cli::report::{RunStage, daemon_error, run_failure};
                if matches!(command, Command::Run(_)) {
                    let (text, code) = run_failure(&self.program, &message, RunStage::Create);
                    eprintln!("{text}");
                    Ok(code)
                } else {
                    eprintln!("{}", daemon_error(&message));
                    Ok(1)
                }
            }
            Command::Create(o) => {
                if let Some(code) = self.pull_for_create(o, "create")? {
                    return Ok(code);
                }
                let code = self.via_core(command, true, |_, _| Ok(None))?;
                if code == 0 {
                    create_bind_sources(&o.volumes)?;
                }
                Ok(code)
            }
            Command::Tag(_)
            | Command::Rmi(_)
            | Command::Rename(_)
            | Command::ContainerPrune(_)
            | Command::BuilderPrune(_) => self.via_core(command, true, |_, _| Ok(None)),
            Command::ImagePrune(_) | Command::SystemPrune(_) => {
                self.via_core(command, true, |me, loaded| {
                    me.load_volume_sizes(loaded)?;
                    // what removing an image frees, from its layers' directories
                    for image in &loaded.state.images {
                        for d in &image.config.rootfs.diff_ids {
                            if !loaded.state.layer_sizes.contains_key(d) {
                                let size = me.store.layer_size(d).map_err(store_error)?;
                                loaded.state.layer_sizes.insert(*d, size);
                            }
                        }
                    }
                    Ok(None)
                })
            }
            Command::Commit(o) => self.via_core(command, true, |me, loaded| {
                me.load_container_upper(loaded, &o.container)?;
                Ok(None)
            }),
            Command::Build(o) => {
                self.pull_missing_bases(o)?;
                self.via_core(command, true, |me, loaded| {
                    me.prepare_build(loaded, o).map(Some)
                })
            }
            Command::Run(o) => match self.pull_for_create(&o.create, "run")? {
                Some(code) => Ok(code),
                None => self.run(o),
            },
            Command::Start(o) => self.start(o),
            Command::Stop(o) => self.stop(&o.containers, o.time),
            Command::Restart(o) => self.restart(&o.containers, o.time),
            Command::Kill(o) => self.kill(o),
            Command::Rm(o) => self.rm(o),
            Command::Exec(o) => self.exec(o),
            Command::Logs(o) => self.logs(o),
            Command::Wait(o) => self.wait(&o.containers),
            Command::Diff(o) => self.diff(&o.container),
            Command::Import(o) => {
                // docker's client streams the tarball, a file or stdin, to the daemon
                let bytes = if o.source == "-" {
                    let mut input = Vec::new();
                    io::Read::read_to_end(&mut io::stdin(), &mut input)?;
                    input
                } else {
                    match std::fs::read(&o.source) {
                        Ok(b) => b,
                        Err(e) => {
                            eprintln!("open {}: {}", o.source, crate::linux::process::go_errno(&e));
                            return Ok(1);
                        }
                    }
                };
                // the layer's tar is the tarball as sent, which its unpacked files cannot give
                // back byte for byte: kept as a blob (named by its digest, the diff_id) for `save`
                let mut tar = Vec::new();
                let kept = if bytes.starts_with(&[0x1f, 0x8b]) {
                    io::Read::read_to_end(
                        &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                        &mut tar,
                    )
                    .is_ok()
                } else {
                    tar.clone_from(&bytes);
                    true
                };
                let code = self.via_core(command, true, |me, loaded| {
                    let mut engine = me.engine(std::mem::take(&mut loaded.state));
                    engine.set_stdin(bytes);
                    Ok(Some(engine))
                })?;
                if code == 0 && kept {
                    self.store.put_blob(&tar).map_err(store_error)?;
                }
                Ok(code)
            }
            Command::Save(o) => crate::archive::save(&self.store, o),
            Command::Load(o) => crate::archive::load(&self.store, o),
            Command::Export(o) => {
                if let Some(message) =
                    crate::archive::refuse_output(o.output.as_deref(), "export container")
                {
                    eprintln!("{message}");
                    return Ok(1);
                }
                self.via_core(command, false, |me, loaded| {
                    me.load_container_upper(loaded, &o.container)?;
                    Ok(None)
                })
            }
            Command::Cp(o) => self.cp(o),
            Command::Pause(o) => self.pause(&o.containers, true),
            Command::Unpause(o) => self.pause(&o.containers, false),
        }
    }

    /// For `commit`: the container's writable layer and its image's layers, in memory.
    fn load_container_upper(&self, loaded: &mut Loaded, name: &str) -> io::Result<()> {
        let engine = self.engine(std::mem::take(&mut loaded.state));
        let found = engine.find_container(name).ok();
        loaded.state = engine.into_state();
        let Some(i) = found else { return Ok(()) };
        let (id, image) = {
            let c = &loaded.state.containers[i];
            (c.id.clone(), c.image)
        };
        self.load_image_layers(loaded, &image.to_string())?;
        let upper = self
            .store
            .container_dir(&id)
            .map_err(store_error)?
            .join("upper");
        if upper.is_dir() {
            loaded.state.containers[i].upper =
                crate::linux::read_layer_dir(&upper).map_err(io::Error::other)?;
        }
        Ok(())
    }

    /// For `build`: the context, the layers of the images the stages start from, and the
    /// runner for `RUN` that knows where those layers are unpacked.
    fn prepare_build(
        &self,
        loaded: &mut Loaded,
        o: &layerbox_core::cli::command::BuildOptions,
    ) -> io::Result<Engine> {
        let dir = Path::new(&o.context);
        let files = if dir.is_dir() {
            Some(crate::sim::read_context(dir)?)
        } else {
            None
        };
        let dockerfile = files.as_ref().and_then(|f| {
            let name = o.file.as_deref().unwrap_or("Dockerfile");
            match &f.entry(name.trim_start_matches("./"))?.1.kind {
                layerbox_core::fs::EntryKind::File(data) => data
                    .bytes()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
                _ => None,
            }
        });
        let bases: Vec<String> = dockerfile
            .as_deref()
            .and_then(|d| layerbox_core::dockerfile::parse(d).ok())
            .map(|p| p.stages.iter().map(|s| s.base_name.clone()).collect())
            .unwrap_or_default();
        for base in &bases {
            self.load_image_layers(loaded, base)?;
        }
        let scratch = self.store.root().join("tmp").join(format!(
            "{}build-{}.log",
            crate::store::TMP_PREFIX,
            std::process::id()
        ));
        let mut runner = BuildRunner::new(LinuxRun::new(self.store.clone()), scratch);
        for (d, layer) in &loaded.state.layers {
            if let Ok(dir) = self.store.layer_dir(&d.hex()) {
                runner.know(std::sync::Arc::clone(layer), dir);
            }
        }
        let mut engine = self
            .engine(std::mem::take(&mut loaded.state))
            .with_runner(runner);
        if let Some(files) = files {
            engine.set_build_input(BuildInput { files });
        }
        Ok(engine)
    }
}

/// What dockerd refuses of the `--mount`s here before it creates anything: a bind of a host
/// path that does not exist (unlike `-v`, `--mount` does not make it).
fn refused_mount(o: &layerbox_core::cli::command::CreateOptions) -> Option<String> {
    o.mounts.iter().find_map(|m| match m.kind.as_str() {
        "bind" if !m.source.is_empty() && std::fs::symlink_metadata(&m.source).is_err() => {
            Some(format!(
                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                m.source
            ))
        }
        _ => None,
    })
}

/// Makes the host directories that `-v` binds name and that do not exist yet, as dockerd does
/// when it creates the container; the specs were checked by the core.
fn create_bind_sources(specs: &[String]) -> io::Result<()> {
    use layerbox_core::engine::{MountKind, parse_volume_spec};
    for spec in specs {
        if let Ok(Some(s)) = parse_volume_spec(spec)
            && s.kind == MountKind::Bind
            && let Some(source) = s.source
            && std::fs::symlink_metadata(&source).is_err()
        {
            std::fs::create_dir_all(&source).map_err(|e| {
                io::Error::other(format!(
                    "error while creating mount source path '{source}': {e}"
                ))
            })?;
        }
    }
    Ok(())
}

/// Runs one docker command line (`argv[0]` is the program) on the Linux engine whose store is
/// at `root`, printing what docker prints; returns the exit code.
pub fn run(argv: &[String], root: &Path) -> io::Result<u8> {
    run_with(
        argv,
        root,
        &crate::registry::Settings::from_flags_and_config(&[], &[]),
    )
}

/// [`run`] with the registry settings of the global flags (`--registry-mirror`,
/// `--insecure-registry`).
pub fn run_with(
    argv: &[String],
    root: &Path,
    registry: &crate::registry::Settings,
) -> io::Result<u8> {
    let program = argv
        .first()
        .map_or("layerbox", |p| p.rsplit('/').next().unwrap_or(p));
    let words: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    if let ["system", "check", rest @ ..] = words.as_slice() {
        return system::check(&Linux::open(root, program)?, rest);
    }
    if let Some(code) = crate::registry::command::run(program, &words, root, registry) {
        return code;
    }
    if let Ok(Invocation::Command { command, .. }) = grammar::parse(argv) {
        return Linux::open(root, program)?
            .with_registry(registry.clone())
            .command(&command);
    }
    // help, version and usage errors: the core's words
    let mut out = Output::default();
    let code = Engine::new(EngineState::default()).execute(argv, &mut out);
    print(&out)?;
    Ok(code)
}
