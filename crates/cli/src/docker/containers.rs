//! The commands that involve a container's real process: `run`, `start`, `stop`, `restart`,
//! `kill`, `rm`, `exec`, `logs`, `wait` and `diff`.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use layerbox_core::cli::command::{
    CreateOptions, ExecOptions, KillOptions, LogsOptions, RestartPolicy, RmOptions, RunOptions,
    StartOptions,
};
use layerbox_core::cli::report::{RunStage, daemon_error, failed_to_start, not_found, run_failure};
use layerbox_core::cli::rows::rfc3339_nano_fixed;
use layerbox_core::engine::{Action, Clock, ContainerState, EngineError, Output, Refusal};
use rustix::process::Signal;

use super::{Linux, print, state, store_error};
use crate::linux::{ContainerSpec, Input, LinuxError, RealSyscall, StartError};
use crate::proxy::Published;
use crate::shim::{self, Attached};
use crate::sim::SystemClock;
use crate::store::{ContainerRecord, RecordKind, StoreLock};

/// How long `stop` waits before SIGKILL when `-t` is not given (docker's default).
const STOP_TIMEOUT: i64 = 10;

/// docker's text for a runtime's start error (`failed to create shim task: …: unknown`).
fn start_message(e: &LinuxError) -> String {
    match e {
        LinuxError::Start(s) if s.code != 125 => format!(
            "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: {}: unknown",
            s.message
        ),
        other => other.to_string(),
    }
}

/// A signal by docker's names: `KILL`, `SIGKILL` or `9`.
fn parse_signal(s: &str) -> Option<Signal> {
    const NAMES: &[(&str, i32)] = &[
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("KILL", 9),
        ("USR1", 10),
        ("USR2", 12),
        ("TERM", 15),
        ("CONT", 18),
        ("STOP", 19),
    ];
    let name = s.to_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let raw = name
        .parse::<i32>()
        .ok()
        .or_else(|| NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))?;
    Signal::from_named_raw(raw)
}

/// Writes log entries to stdout and stderr as their streams say, with their times for `-t`.
fn show_entries(entries: &[layerbox_core::engine::LogEntry], timestamps: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    for e in entries {
        let text = if timestamps {
            format!("{} {}", rfc3339_nano_fixed(e.time), e.text)
        } else {
            e.text.clone()
        };
        match e.stream {
            layerbox_core::engine::Stream::Stdout => out.write_all(text.as_bytes())?,
            layerbox_core::engine::Stream::Stderr => err.write_all(text.as_bytes())?,
        }
    }
    out.flush()?;
    err.flush()
}

/// docker's CLI check before attaching with `-it`: stdin must be a terminal, else its error
/// is printed (exit code 1).
fn not_a_tty(interactive: bool, tty: bool) -> bool {
    let refused = interactive && tty && !rustix::termios::isatty(io::stdin());
    if refused {
        eprintln!("{}", crate::linux::tty::NOT_A_TTY);
    }
    refused
}

/// docker's batch commands: the errors one per line on stderr, and exit code 1 if any.
fn report(errors: &[String]) -> u8 {
    if errors.is_empty() {
        0
    } else {
        eprintln!("{}", errors.join("\n"));
        1
    }
}

/// `-p 80` and `-P` leave the host port to the engine: the core's simulated choice
/// (`32768 + port % 1000`) becomes 0, so that the proxy binds any free port, as docker does.
fn any_free_port(c: &mut layerbox_core::engine::Container, o: &CreateOptions) {
    let given = |private: u16, proto: &str| {
        o.publish.iter().find(|p| {
            p.proto == proto
                && (p.container_ports.first..=p.container_ports.last).contains(&private)
        })
    };
    let engine_picks = |private: u16, proto: &str| match given(private, proto) {
        Some(p) => p.host_ports.is_none(),
        None => o.publish_all,
    };
    for b in &mut c.ports {
        if !b.ip.is_empty() && engine_picks(b.private_port, &b.proto) {
            b.public_port = 0;
        }
    }
}

impl Linux {
    /// [`Linux::find`], printing the daemon's error when there is no such container.
    fn find_or_report(&self, name: &str) -> io::Result<Option<ContainerRecord>> {
        Ok(match self.find(name)? {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("{}", daemon_error(&e.to_string()));
                None
            }
        })
    }

    /// The record of the container `name` names (docker's look-up: ID, name, unique prefix).
    fn find(&self, name: &str) -> io::Result<Result<ContainerRecord, EngineError>> {
        let loaded = {
            let _lock = self.store.lock_shared().map_err(store_error)?;
            state::load(&self.store, false).map_err(store_error)?
        };
        let engine = self.engine(loaded.state);
        Ok(engine.find_container(name).map(|i| {
            let c = &engine.state().containers[i];
            let mut record = loaded.records[&c.id].clone();
            record.container = c.clone();
            record
        }))
    }

    /// The container's process spec: its image's layers under its own, its argv, env, user.
    fn spec_for(&self, record: &ContainerRecord) -> io::Result<ContainerSpec> {
        let c = &record.container;
        let lowers = state::layer_dirs(&self.store, &record.layers).map_err(store_error)?;
        let mut layers = self
            .store
            .container_layers(&c.id, lowers)
            .map_err(store_error)?;
        layers.volatile = c.spec.auto_remove;
        let mut spec = ContainerSpec::new(&c.id, layers, c.argv());
        spec.env.clone_from(&c.spec.env);
        if !spec.env.iter().any(|e| e.starts_with("PATH=")) {
            spec.env
                .insert(0, format!("PATH={}", crate::linux::spec::DEFAULT_PATH));
        }
        spec.cwd.clone_from(&c.spec.workdir);
        spec.user.clone_from(&c.spec.user);
        c.hostname().clone_into(&mut spec.hostname);
        if c.spec.network == "host" {
            // as docker: the host's network and its name
            spec.host_network = true;
            if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
                name.trim().clone_into(&mut spec.hostname);
            }
        }
        spec.resources = crate::linux::Resources::from_config(&c.spec.resources);
        if c.spec.interactive {
            spec.stdin = Input::Inherit;
        }
        spec.terminal = c.spec.tty;
        spec.mounts = self.volume_mounts(c)?;
        Ok(spec)
    }

    /// The container's volumes and binds as its mount namespace gets them: a volume's `_data`
    /// (made if its directory went missing), a bind's host path (made if missing, as dockerd
    /// does); the image's content is copied into a volume until the container has started once.
    fn volume_mounts(
        &self,
        c: &layerbox_core::engine::Container,
    ) -> io::Result<Vec<crate::linux::VolumeMount>> {
        use layerbox_core::engine::MountKind;
        c.mounts
            .iter()
            .map(|m| {
                let source = match m.kind {
                    MountKind::Volume => {
                        self.store.create_volume_dir(&m.name).map_err(store_error)?
                    }
                    MountKind::Bind => {
                        super::create_bind_sources(std::slice::from_ref(&m.spec))?;
                        std::path::PathBuf::from(&m.source)
                    }
                    MountKind::Tmpfs => std::path::PathBuf::new(),
                };
                Ok(crate::linux::VolumeMount {
                    source,
                    target: m.destination.clone(),
                    read_only: !m.rw,
                    copy_image_content: m.kind == MountKind::Volume && m.copy,
                    tmpfs: m.kind == MountKind::Tmpfs,
                })
            })
            .collect()
    }

    /// Binds the host side of the container's published ports (see [`crate::proxy`]); none
    /// with `--network host` or `none`. On a port that is taken, docker's error text.
    fn publish(&self, record: &ContainerRecord) -> io::Result<Result<Published, String>> {
        let c = &record.container;
        let exposed_only = || {
            let exposed: Vec<_> = c
                .ports
                .iter()
                .filter(|p| p.ip.is_empty())
                .cloned()
                .collect();
            Ok(crate::proxy::bind(&exposed, &[]).map_err(|e| e.to_string()))
        };
        if matches!(c.spec.network.as_str(), "host" | "none")
            || c.ports.iter().all(|p| p.ip.is_empty())
        {
            return exposed_only();
        }
        let not_tcp: std::collections::BTreeSet<_> = c
            .ports
            .iter()
            .filter(|p| !p.ip.is_empty() && p.proto != "tcp")
            .map(|p| (p.private_port, &p.proto))
            .collect();
        for (port, proto) in not_tcp {
            eprintln!(
                "WARNING: the layerbox Linux engine's proxy carries tcp only: {port}/{proto} is not published"
            );
        }
        if crate::linux::layerdir::rootless() && c.ports.iter().any(|p| !p.ip.is_empty()) {
            // entering a user namespace's network namespace needs CAP_SYS_ADMIN in our own
            eprintln!(
                "WARNING: rootless: published ports are not supported by the layerbox Linux engine yet; they are discarded"
            );
            return exposed_only();
        }
        let taken: Vec<_> = self
            .store
            .containers()
            .map_err(store_error)?
            .into_iter()
            .filter(|r| r.container.id != c.id && r.container.state.is_up() && !r.shim_died())
            .flat_map(|r| r.container.ports)
            .collect();
        Ok(crate::proxy::bind(&c.ports, &taken).map_err(|e| {
            format!(
                "driver failed programming external connectivity on endpoint {} ({}): {e}",
                c.name, c.id
            )
        }))
    }

    /// Starts a created or exited container: attached (the CLI supervises it and returns its
    /// exit code) or detached (under a shim). `lock` is the exclusive lock the caller holds; it
    /// is released once the record says `running`. On a start error, docker's text and code.
    fn start_record(
        &self,
        mut record: ContainerRecord,
        attach: bool,
        lock: StoreLock,
    ) -> io::Result<Result<u8, (String, u8)>> {
        let spec = self.spec_for(&record)?;
        if spec.args.is_empty() {
            return Ok(Err((daemon_error("No command specified"), 125)));
        }
        let dir = self
            .store
            .container_dir(&record.container.id)
            .map_err(store_error)?;
        std::fs::create_dir_all(&dir)?;
        shim::clear_stopped(&self.store, &record.container.id);
        let log = shim::log_path(&self.store, &record.container.id);
        let published = self.publish(&record)?;
        if let Ok(p) = &published {
            record.container.ports = p.bindings().to_vec();
        }
        let now = SystemClock.now();
        let mut attached = None;
        let mut handoff = None;
        let started = match published {
            Err(message) => Err(StartError { code: 125, message }.into()),
            Ok(published) if attach => {
                let log = (!record.container.spec.auto_remove).then_some(log.as_path());
                Attached::spawn(spec, log, true).map(|a| {
                    let init = crate::store::ProcessRef::of(a.pid());
                    a.publish(published);
                    attached = Some(a);
                    (crate::store::ProcessRef::current(), init)
                })
            }
            Ok(published) => {
                shim::start_detached(&self.store, &record, &spec, published).map(|s| {
                    let refs = (Some(s.shim), Some(s.init));
                    handoff = Some(s);
                    refs
                })
            }
        };
        let c = &mut record.container;
        match started {
            Err(e) => {
                let code = e.exit_code();
                c.exit_code = i32::from(code);
                if c.spec.auto_remove {
                    self.store
                        .remove_record(RecordKind::Container, &c.id)
                        .map_err(store_error)?;
                    self.store.remove_volumes_of(c).map_err(store_error)?;
                } else {
                    self.store.put_container(&record).map_err(store_error)?;
                }
                drop(lock);
                Ok(Err((start_message(&e), code)))
            }
            Ok((shim, init)) => {
                // docker copies the image's content into a volume once, when it is new
                for m in &mut c.mounts {
                    m.copy = false;
                }
                c.state = ContainerState::Running;
                c.started_at = Some(now);
                c.finished_at = None;
                c.pid = init.map_or(0, |i| u32::try_from(i.pid).unwrap_or(0));
                record.shim = shim;
                record.init = init;
                c.oom_killed = false;
                self.store.put_container(&record).map_err(store_error)?;
                if let Some(h) = handoff {
                    h.confirm();
                }
                drop(lock);
                let Some(a) = attached else { return Ok(Ok(0)) };
                let exit = a.wait();
                let (code, oom) = exit.map_or((255, false), |e| (e.code, e.oom_killed));
                let _lock = self.store.lock().map_err(store_error)?;
                self.store
                    .record_exit(&record, code, oom)
                    .map_err(store_error)?;
                Ok(Ok(u8::try_from(code & 0xff).unwrap_or(255)))
            }
        }
    }

    /// `run`: the core creates the container, then it starts for real.
    pub(super) fn run(&self, o: &RunOptions) -> io::Result<u8> {
        if !o.detach && not_a_tty(o.create.interactive, o.create.tty) {
            return Ok(1);
        }
        let lock = self.store.lock().map_err(store_error)?;
        let mut loaded = state::load(&self.store, false).map_err(store_error)?;
        let mut engine = self.engine(std::mem::take(&mut loaded.state));
        let mut out = Output::default();
        let code = engine.create_for_run(&o.create, &mut out);
        // the ID the core printed is `create`'s, not `run`'s
        out.chunks
            .retain(|(s, _)| *s == layerbox_core::engine::Stream::Stderr);
        print(&out)?;
        if code != 0 {
            return Ok(code);
        }
        let state = engine.into_state();
        let Some(c) = state.containers.last().cloned() else {
            return Ok(125);
        };
        super::create_bind_sources(&o.create.volumes)?;
        loaded
            .save_volumes(&self.store, &state)
            .map_err(store_error)?;
        let layers = state::image_layers(&state, &c.image);
        let id = c.id.clone();
        let mut record = ContainerRecord::new(c, layers);
        any_free_port(&mut record.container, &o.create);
        if record.container.spec.network == "host" && !o.create.publish.is_empty() {
            eprintln!("WARNING: Published ports are discarded when using host network mode");
        }
        // with a restart policy the shim supervises even an attached run (the policy outlives
        // the CLI, as docker's daemon does); the CLI shows the first run's output and code
        let follow = !o.detach && o.create.restart != RestartPolicy::No;
        match self.start_record(record, !o.detach && !follow, lock)? {
            Ok(code) => {
                if o.detach {
                    println!("{id}");
                } else if follow {
                    return self.follow_first_run(&id);
                }
                Ok(code)
            }
            Err((message, code)) => {
                let (text, _) = run_failure(&self.program, &message, RunStage::Start);
                eprintln!("{text}");
                Ok(code)
            }
        }
    }

    /// Copies a shim-supervised container's log to the terminal until its first process
    /// ends (or is restarted); returns that process's exit code.
    fn follow_first_run(&self, id: &str) -> io::Result<u8> {
        let path = shim::log_path(&self.store, id);
        let current = || self.store.container(id).map_err(store_error);
        let first = current()?.and_then(|r| r.init);
        let mut offset = 0;
        loop {
            let now = current()?;
            let ended = now.as_ref().is_none_or(|r| {
                r.container.state != ContainerState::Running || r.init != first || r.shim_died()
            });
            let (entries, end) = shim::read_log(&path, offset)?;
            offset = end;
            show_entries(&entries, false)?;
            if ended {
                let code = now.map_or(0, |r| r.container.exit_code);
                return Ok(u8::try_from(code & 0xff).unwrap_or(255));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `start [-a]`.
    pub(super) fn start(&self, o: &StartOptions) -> io::Result<u8> {
        let mut errors = Vec::new();
        let mut failed = Vec::new();
        let mut code = 0;
        for name in &o.containers {
            let record = match self.find(name)? {
                Ok(r) => r,
                Err(e) => {
                    errors.push(daemon_error(&e.to_string()));
                    failed.push(name.clone());
                    continue;
                }
            };
            if record.container.state.is_up() {
                if !o.attach {
                    println!("{name}");
                }
                continue;
            }
            let lock = self.store.lock().map_err(store_error)?;
            match self.start_record(record, o.attach, lock)? {
                Ok(c) => {
                    if o.attach {
                        code = c;
                    } else {
                        println!("{name}");
                    }
                }
                Err((message, _)) => {
                    errors.push(daemon_error(&message));
                    failed.push(name.clone());
                }
            }
        }
        if failed.is_empty() {
            return Ok(code);
        }
        errors.push(failed_to_start(&failed));
        eprintln!("{}", errors.join("\n"));
        Ok(1)
    }

    /// Waits until the store says the container ended (or is gone); `false` on timeout.
    fn wait_exit(&self, id: &str, timeout: Option<Duration>) -> io::Result<bool> {
        let begun = Instant::now();
        loop {
            match self.store.container(id).map_err(store_error)? {
                Some(r) if r.container.state.is_up() && !r.shim_died() => {}
                _ => return Ok(true),
            }
            if timeout.is_some_and(|t| begun.elapsed() >= t) {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `signal` to the container's PID 1, if it still runs.
    fn signal(record: &ContainerRecord, signal: Signal) {
        if let Some(init) = record.init.filter(crate::store::ProcessRef::alive)
            && let Some(pid) = rustix::process::Pid::from_raw(init.pid)
        {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }

    /// Sends `signal` to the container's PID 1 as its user does (`stop`, `kill`, `rm -f`): the
    /// restart policy will not bring it back. Under the lock, so that a shim restarting the
    /// container meanwhile is seen with its new PID 1.
    fn signal_by_user(&self, id: &str, signal: Signal) -> io::Result<()> {
        let _lock = self.store.lock().map_err(store_error)?;
        shim::mark_stopped(&self.store, id);
        if let Some(record) = self.store.container(id).map_err(store_error)? {
            Self::signal(&record, signal);
            // as docker: a paused container is thawed to take the signal
            self.thaw_locked(record)?;
        }
        Ok(())
    }

    /// Stops a running container: SIGTERM, then SIGKILL after `timeout` seconds.
    fn stop_one(&self, record: &ContainerRecord, timeout: i64) -> io::Result<()> {
        if !record.container.state.is_up() {
            return Ok(());
        }
        self.signal_by_user(&record.container.id, Signal::TERM)?;
        let wait = Duration::from_secs(u64::try_from(timeout).unwrap_or(0));
        if timeout < 0 {
            self.wait_exit(&record.container.id, None)?;
        } else if !self.wait_exit(&record.container.id, Some(wait))? {
            self.signal_by_user(&record.container.id, Signal::KILL)?;
            self.wait_exit(&record.container.id, None)?;
        }
        Ok(())
    }

    /// Runs `f` on each named container, printing the name or docker's joined errors.
    pub(super) fn each(
        &self,
        names: &[String],
        mut f: impl FnMut(&Self, &ContainerRecord) -> io::Result<Result<(), String>>,
    ) -> io::Result<u8> {
        let mut errors = Vec::new();
        for name in names {
            match self.find(name)? {
                Ok(record) => match f(self, &record)? {
                    Ok(()) => println!("{name}"),
                    Err(e) => errors.push(e),
                },
                Err(e) => errors.push(daemon_error(&e.to_string())),
            }
        }
        Ok(report(&errors))
    }

    /// `stop [-t N]`.
    pub(super) fn stop(&self, names: &[String], time: Option<i64>) -> io::Result<u8> {
        self.each(names, |me, r| {
            me.stop_one(r, time.unwrap_or(STOP_TIMEOUT)).map(Ok)
        })
    }

    /// `restart [-t N]`.
    pub(super) fn restart(&self, names: &[String], time: Option<i64>) -> io::Result<u8> {
        self.each(names, |me, r| {
            me.stop_one(r, time.unwrap_or(STOP_TIMEOUT))?;
            let Some(record) = me.store.container(&r.container.id).map_err(store_error)? else {
                return Ok(Err(daemon_error(&format!(
                    "No such container: {}",
                    r.container.id
                ))));
            };
            let lock = me.store.lock().map_err(store_error)?;
            Ok(me
                .start_record(record, false, lock)?
                .map(|_| ())
                .map_err(|(m, _)| daemon_error(&m)))
        })
    }

    /// `kill [-s SIGNAL]`.
    pub(super) fn kill(&self, o: &KillOptions) -> io::Result<u8> {
        let Some(signal) = parse_signal(&o.signal) else {
            eprintln!("{}", daemon_error(&format!("Invalid signal: {}", o.signal)));
            return Ok(1);
        };
        self.each(&o.containers, |me, r| {
            let c = &r.container;
            if !c.state.is_up() {
                return Ok(Err(daemon_error(
                    &Refusal::KillNotRunning(c.name.clone(), c.id.clone()).to_string(),
                )));
            }
            me.signal_by_user(&c.id, signal)?;
            Ok(Ok(()))
        })
    }

    /// `rm [-f]`.
    pub(super) fn rm(&self, o: &RmOptions) -> io::Result<u8> {
        let mut errors = Vec::new();
        for name in &o.containers {
            let record = match self.find(name)? {
                Ok(r) => r,
                Err(EngineError::NoSuchContainer(_)) => {
                    errors.push(not_found("container", name));
                    continue;
                }
                Err(e) => {
                    errors.push(daemon_error(&e.to_string()));
                    continue;
                }
            };
            let c = &record.container;
            let action = if o.force {
                Action::ForceRemove
            } else {
                Action::Remove
            };
            if let Err(e) = c.state.check(action, &c.id) {
                errors.push(daemon_error(&e.to_string()));
                continue;
            }
            if c.state.is_up() {
                self.signal_by_user(&c.id, Signal::KILL)?;
                self.wait_exit(&c.id, None)?;
            }
            // what a killed supervisor could not clean up (and any process still in it)
            if !crate::linux::layerdir::rootless()
                && let Ok(cgroup) =
                    crate::linux::Cgroup::for_host(&c.id, &crate::linux::Resources::default())
            {
                let _ = cgroup.kill_and_remove(Duration::from_secs(5));
            }
            let _lock = self.store.lock().map_err(store_error)?;
            self.store
                .remove_record(RecordKind::Container, &c.id)
                .map_err(store_error)?;
            if o.volumes {
                self.store.remove_volumes_of(c).map_err(store_error)?;
            }
            println!("{name}");
        }
        Ok(report(&errors))
    }

    /// `wait`: blocks until each container ends, printing its exit code.
    pub(super) fn wait(&self, names: &[String]) -> io::Result<u8> {
        let mut errors = Vec::new();
        for name in names {
            match self.find(name)? {
                Ok(r) => {
                    self.wait_exit(&r.container.id, None)?;
                    let code = match self.store.container(&r.container.id).map_err(store_error)? {
                        Some(now) if now.shim_died() => 137,
                        Some(now) => now.container.exit_code,
                        None => r.container.exit_code,
                    };
                    println!("{code}");
                }
                Err(e) => errors.push(daemon_error(&e.to_string())),
            }
        }
        Ok(report(&errors))
    }

    /// `logs [-f] [-t] [--tail N]`: the container's json-file log.
    pub(super) fn logs(&self, o: &LogsOptions) -> io::Result<u8> {
        let Some(record) = self.find_or_report(&o.container)? else {
            return Ok(1);
        };
        let path = shim::log_path(&self.store, &record.container.id);
        let (entries, mut offset) = shim::read_log(&path, 0)?;
        let show = |entries: &[layerbox_core::engine::LogEntry], skip: usize| {
            show_entries(&entries[skip.min(entries.len())..], o.timestamps)
        };
        let skip = o
            .tail
            .parse::<usize>()
            .map_or(0, |n| entries.len().saturating_sub(n));
        show(&entries, skip)?;
        if o.follow {
            loop {
                let running = self
                    .store
                    .container(&record.container.id)
                    .map_err(store_error)?
                    .is_some_and(|r| r.container.state.is_up() && !r.shim_died());
                let (more, end) = shim::read_log(&path, offset)?;
                offset = end;
                show(&more, 0)?;
                if !running {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(0)
    }

    /// `exec`: a process in the running container, through its namespaces.
    pub(super) fn exec(&self, o: &ExecOptions) -> io::Result<u8> {
        let Some(record) = self.find_or_report(&o.container)? else {
            return Ok(1);
        };
        if !o.detach && not_a_tty(o.interactive, o.tty) {
            return Ok(1);
        }
        let c = &record.container;
        if let Err(e) = c.state.check(Action::Exec, &c.id) {
            eprintln!("{}", daemon_error(&e.to_string()));
            return Ok(1);
        }
        let Some(init) = record.init.filter(crate::store::ProcessRef::alive) else {
            eprintln!(
                "{}",
                daemon_error(&Refusal::NotRunning(c.id.clone()).to_string())
            );
            return Ok(1);
        };
        let layers = crate::linux::Layers::in_dir(std::path::Path::new("/"), Vec::new());
        let mut spec = ContainerSpec::new(&c.id, layers, o.command.clone());
        spec.env.clone_from(&c.spec.env);
        spec.env.extend(o.env.iter().cloned());
        spec.cwd = o.workdir.clone().unwrap_or_else(|| c.spec.workdir.clone());
        spec.user = o.user.clone().unwrap_or_else(|| c.spec.user.clone());
        spec.stdin = if o.interactive {
            Input::Inherit
        } else {
            Input::Null
        };
        spec.terminal = o.tty;
        // as docker exec: the process counts against the container's limits (and is frozen
        // with it): the cgroups of its PID 1
        if let Ok(cgroup) = crate::linux::Cgroup::of_process(init.pid, &c.id) {
            let me = std::process::id().to_string();
            for procs in cgroup.procs_files() {
                let _ = std::fs::write(procs, &me);
            }
        }
        match crate::linux::exec::exec(&RealSyscall, init.pid, &spec) {
            Ok(exit) => Ok(u8::try_from(exit.code & 0xff).unwrap_or(255)),
            Err(LinuxError::Start(e)) => {
                println!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {}: unknown",
                    e.message
                );
                Ok(e.code)
            }
            Err(e) => {
                eprintln!("{}", daemon_error(&e.to_string()));
                Ok(126)
            }
        }
    }

    /// `diff`: the container's upper directory against its image's layers.
    pub(super) fn diff(&self, name: &str) -> io::Result<u8> {
        let Some(record) = self.find_or_report(name)? else {
            return Ok(1);
        };
        let upper = self
            .store
            .container_dir(&record.container.id)
            .map_err(store_error)?
            .join("upper");
        if !upper.is_dir() {
            return Ok(0);
        }
        let lowers = state::layer_dirs(&self.store, &record.layers).map_err(store_error)?;
        let changes = crate::linux::container_changes(&upper, &lowers).map_err(io::Error::other)?;
        let mut out = io::stdout().lock();
        for change in changes {
            writeln!(out, "{change}")?;
        }
        Ok(0)
    }
}
