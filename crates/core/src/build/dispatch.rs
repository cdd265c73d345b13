//! One stage at a time: the initial state (spec §13.3) and the effect of each instruction on the
//! config, the history and the filesystem (§13.4–13.11).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::cache::{self, BuildCache, CacheOutcome, CacheRecord};
use super::copy::{self, CopySpec};
use super::{
    BuildContext, BuildError, BuildEvent, BuildOptions, DEFAULT_PATH, ImageSource, RunBackend,
    RunRequest, StageState, dir_entry,
};
use crate::dockerfile::SourceLines;
use crate::dockerfile::expand::{Lexer, NoEnv};
use crate::dockerfile::instructions::duration::format_go_duration;
use crate::dockerfile::instructions::expose::parse_port_spec;
use crate::dockerfile::instructions::{Instruction, ShellDependantCmdLine, Stage, parse_signal};
use crate::dockerfile::quote::go_quote_list;
use crate::fs::tar::{TarOptions, diff_id};
use crate::fs::{LayerStack, UnionFs, changes};
use crate::image::{Digest, Empty, Healthcheck, History, ImageConfig, Reference, RootFs};

pub(crate) struct Builder<'a> {
    pub(crate) lexer: Lexer,
    pub(crate) options: &'a BuildOptions,
    pub(crate) context: &'a BuildContext,
    pub(crate) images: &'a dyn ImageSource,
    pub(crate) backend: &'a mut dyn RunBackend,
    pub(crate) cache: &'a mut BuildCache,
    pub(crate) sink: &'a mut dyn FnMut(BuildEvent),
    pub(crate) global_args: Vec<(String, String)>,
    pub(crate) stages: &'a [Stage],
    pub(crate) results: Vec<Option<StageState>>,
    pub(crate) step: usize,
}

/// The stage a `--from` value names (by name, last definition wins, or by index), checking it
/// comes before stage `current`; `None` when it names an image.
pub(crate) fn stage_ref(
    stages: &[Stage],
    current: usize,
    from: &str,
) -> Result<Option<usize>, BuildError> {
    if from.is_empty() {
        return Ok(None);
    }
    if Lexer::new('\\').process_word(from, &NoEnv).ok().as_deref() != Some(from) {
        return Err(BuildError::Step(
            "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround".into(),
        ));
    }
    let lower = from.to_lowercase();
    let found = if let Ok(n) = from.parse::<usize>() {
        if n >= stages.len() {
            return Err(BuildError::Step(format!("invalid stage index {from}")));
        }
        Some(n)
    } else {
        stages
            .iter()
            .rposition(|s| s.name.as_deref() == Some(lower.as_str()))
    };
    match found {
        Some(j) if j >= current => {
            let name = stages[current]
                .name
                .clone()
                .unwrap_or_else(|| format!("stage-{current}"));
            Err(BuildError::Step(format!(
                "cannot copy from stage \"{from}\", it needs to be defined before current stage \"{name}\""
            )))
        }
        other => Ok(other),
    }
}

/// Build args given to every RUN without an ARG (spec §13.2), in either case.
const PROXY_ARGS: [&str; 5] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
];

fn scratch_config(options: &BuildOptions) -> ImageConfig {
    let mut config = ImageConfig {
        architecture: options.platform.architecture.clone(),
        os: options.platform.os.clone(),
        variant: options.platform.variant.clone(),
        rootfs: RootFs::default(),
        ..ImageConfig::default()
    };
    config.config.working_dir = Some("/".into());
    config.config.env = Some(vec![DEFAULT_PATH.into()]);
    config
}

fn history(created_by: String, empty_layer: bool) -> History {
    History {
        created_by: Some(created_by),
        comment: Some("buildkit.dockerfile.v0".into()),
        empty_layer,
        ..History::default()
    }
}

/// A step that changes the filesystem, run or taken from the cache.
struct FsStep {
    op: String,
    sources: BTreeMap<String, Digest>,
    created_by: String,
    /// `--link`: made on an empty filesystem and stacked on top, so its cache entry does not
    /// depend on the steps before it.
    link: bool,
}

impl Builder<'_> {
    fn emit(&mut self, event: BuildEvent) {
        (self.sink)(event);
    }

    fn expand(&self, state: &StageState, word: &str) -> Result<String, BuildError> {
        Ok(self.lexer.process_word(word, &state.env)?)
    }

    /// The initial state of stage `i`: from an earlier stage, `scratch` or an image.
    fn initial_state(&mut self, i: usize, stage: &Stage) -> Result<StageState, BuildError> {
        let base = self
            .lexer
            .process_word(&stage.base_name, &self.global_args)?;
        if base.is_empty() {
            return Err(BuildError::Step(format!(
                "base name ({}) should not be blank",
                stage.base_name
            )));
        }
        if let Some(j) = self.stages[..i]
            .iter()
            .rposition(|s| s.name.as_deref() == Some(base.as_str()))
        {
            let parent = self.results[j]
                .clone()
                .ok_or_else(|| BuildError::Step(format!("stage {base} was not built")))?;
            let mut state = parent;
            state.fs = UnionFs::new(state.fs.lower_shared());
            state.fs.set_now(self.options.mtime);
            state.cmd_set = false;
            return Ok(state);
        }
        let (config, stack, key) = if base == "scratch" {
            (
                scratch_config(self.options),
                Arc::new(LayerStack::new()),
                Digest::sha256_of(b"scratch"),
            )
        } else {
            let reference: Reference = base.parse().map_err(|e| {
                BuildError::Step(format!("failed to parse stage name \"{base}\": {e}"))
            })?;
            let reference = reference.with_default_tag();
            let image = self.images.image(&reference).ok_or_else(|| {
                BuildError::Step(format!(
                    "failed to resolve source metadata for {reference}: not found in the simulated engine's images (it has no registry to pull from)"
                ))
            })?;
            let key = image.config.id();
            let mut config = image.config;
            config.created = None;
            // BuildKit reads the base config into a struct whose empty strings are omitted: an
            // imported image's `"User": ""` and `"WorkingDir": ""` are as good as absent.
            let c = &mut config.config;
            for field in [&mut c.user, &mut c.working_dir, &mut c.stop_signal] {
                if field.as_deref() == Some("") {
                    *field = None;
                }
            }
            (config, image.stack, key)
        };
        let mut config = config;
        let env = config.config.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push(DEFAULT_PATH.into());
        }
        let env_pairs = crate::dockerfile::expand::env_from_list(env)
            .into_iter()
            .collect::<Vec<_>>();
        let ordered: Vec<(String, String)> = env
            .iter()
            .filter_map(|e| e.split_once('=').map(|(k, _)| k.to_owned()))
            .filter_map(|k| env_pairs.iter().find(|(n, _)| *n == k).cloned())
            .collect();
        let layers = stack.layers().to_vec();
        let mut fs = UnionFs::new(stack);
        fs.set_now(self.options.mtime);
        Ok(StageState {
            config,
            env: ordered,
            args: Vec::new(),
            cmd_set: false,
            fs,
            layers,
            key,
            rebuilt: false,
            sources: Vec::new(),
        })
    }

    pub(crate) fn build_stage(
        &mut self,
        i: usize,
        stage: &Stage,
    ) -> Result<StageState, BuildError> {
        let mut state = self.initial_state(i, stage)?;
        // A base image's history entries come with the FROM that names it.
        let from = (stage.base_name != "scratch").then(|| SourceLines::of(&stage.meta.location));
        state.mark_sources(from);
        // The base's ONBUILD triggers run first, then are cleared (not inherited further).
        for trigger in state.config.config.on_build.take().unwrap_or_default() {
            let parsed =
                crate::dockerfile::parse(&format!("FROM scratch\n{trigger}\n")).map_err(|e| {
                    BuildError::Step(format!("failed to parse onbuild trigger `{trigger}`: {e}"))
                })?;
            let [ins] = parsed.stages[0].instructions.as_slice() else {
                return Err(BuildError::Step(
                    "onbuild trigger should be a single expression".into(),
                ));
            };
            self.dispatch(i, &mut state, ins)?;
            state.mark_sources(None);
        }
        for ins in &stage.instructions {
            self.dispatch(i, &mut state, ins)?;
            state.mark_sources(Some(SourceLines::of(&ins.meta().location)));
        }
        Ok(state)
    }

    #[allow(clippy::zero_sized_map_values)] // `{"80/tcp": {}}` is docker's JSON shape for sets
    fn dispatch(
        &mut self,
        stage_index: usize,
        state: &mut StageState,
        ins: &Instruction,
    ) -> Result<(), BuildError> {
        let config_only = |state: &mut StageState, created_by: String| {
            state.config.history.push(history(created_by, true));
        };
        match ins {
            Instruction::Env(env) => {
                let mut shown = Vec::new();
                let mut pairs = Vec::new();
                for kv in &env.env {
                    let (k, v) = (self.expand(state, &kv.key)?, self.expand(state, &kv.value)?);
                    shown.push(format!("{k}={v}"));
                    pairs.push((k, v));
                }
                for (k, v) in pairs {
                    state.set_env(&k, &v);
                    let list = state.config.config.env.get_or_insert_with(Vec::new);
                    match list
                        .iter_mut()
                        .find(|e| e.split_once('=').is_some_and(|(n, _)| n == k))
                    {
                        Some(e) => *e = format!("{k}={v}"),
                        None => list.push(format!("{k}={v}")),
                    }
                }
                config_only(state, format!("ENV {}", shown.join(" ")));
            }
            Instruction::Label(label) => {
                let mut shown = Vec::new();
                let mut pairs = Vec::new();
                for kv in &label.labels {
                    let (k, v) = (self.expand(state, &kv.key)?, self.expand(state, &kv.value)?);
                    shown.push(format!("{k}={v}"));
                    pairs.push((k, v));
                }
                state
                    .config
                    .config
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .extend(pairs);
                config_only(state, format!("LABEL {}", shown.join(" ")));
            }
            Instruction::Arg(arg) => {
                let mut shown = Vec::new();
                for kv in &arg.args {
                    let value = if let Some(v) = self.options.build_args.get(&kv.key) {
                        Some(v.clone())
                    } else if let Some(default) = &kv.value {
                        Some(self.expand(state, default)?)
                    } else {
                        self.global_args
                            .iter()
                            .find(|(k, _)| *k == kv.key)
                            .map(|(_, v)| v.clone())
                    };
                    match &value {
                        Some(v) => {
                            state.set_env(&kv.key, v);
                            shown.push(format!("{}={v}", kv.key));
                        }
                        None => shown.push(kv.key.clone()),
                    }
                    match state.args.iter_mut().find(|(k, _)| *k == kv.key) {
                        Some(a) => a.1 = value,
                        None => state.args.push((kv.key.clone(), value)),
                    }
                }
                config_only(state, format!("ARG {}", shown.join(" ")));
            }
            Instruction::Maintainer(m) => {
                state.config.author = Some(m.maintainer.clone());
                config_only(state, format!("MAINTAINER {}", m.maintainer));
            }
            Instruction::User(u) => {
                let user = self.expand(state, &u.user)?;
                state.config.config.user = Some(user.clone());
                config_only(state, format!("USER {user}"));
            }
            Instruction::Expose(e) => {
                let mut keys = Vec::new();
                for port in &e.ports {
                    for word in self.lexer.process_words(port, &state.env)? {
                        keys.extend(
                            parse_port_spec(&word)
                                .map_err(|err| BuildError::Step(err.to_string()))?,
                        );
                    }
                }
                let map = state
                    .config
                    .config
                    .exposed_ports
                    .get_or_insert_with(BTreeMap::new);
                for k in &keys {
                    map.insert(k.clone(), Empty {});
                }
                config_only(state, format!("EXPOSE [{}]", keys.join(" ")));
            }
            Instruction::Volume(v) => {
                let mut paths = Vec::new();
                for p in &v.volumes {
                    paths.push(self.expand(state, p)?);
                }
                let map = state
                    .config
                    .config
                    .volumes
                    .get_or_insert_with(BTreeMap::new);
                for p in &paths {
                    map.insert(p.clone(), Empty {});
                }
                config_only(state, format!("VOLUME [{}]", paths.join(" ")));
            }
            Instruction::Stopsignal(s) => {
                let signal = self.expand(state, &s.signal)?;
                parse_signal(&signal).map_err(BuildError::Step)?;
                state.config.config.stop_signal = Some(signal.clone());
                config_only(state, format!("STOPSIGNAL {signal}"));
            }
            Instruction::Shell(s) => {
                state.config.config.shell = Some(s.shell.clone());
                config_only(state, format!("SHELL [{}]", s.shell.join(" ")));
            }
            Instruction::Cmd(c) => {
                let argv = command(state, &c.cmd);
                // `CMD []` leaves an empty list, which the config JSON omits (Go's omitempty).
                state.config.config.cmd =
                    (!argv.is_empty() || c.cmd.prepend_shell).then(|| argv.clone());
                state.config.config.args_escaped = Some(true);
                state.cmd_set = true;
                config_only(state, format!("CMD {}", go_quote_list(&argv)));
            }
            Instruction::Entrypoint(e) => {
                let argv = command(state, &e.cmd);
                state.config.config.entrypoint = if argv.is_empty() && !e.cmd.prepend_shell {
                    None
                } else {
                    Some(argv.clone())
                };
                if !state.cmd_set {
                    state.config.config.cmd = None;
                }
                // Unlike CMD, ENTRYPOINT leaves ArgsEscaped alone (BuildKit's dispatchEntrypoint).
                config_only(state, format!("ENTRYPOINT {}", go_quote_list(&argv)));
            }
            Instruction::Healthcheck(h) => {
                let hc = &h.health;
                let d = |n: i64| (n != 0).then_some(n);
                state.config.config.healthcheck = Some(Healthcheck {
                    test: hc.test.clone(),
                    interval: d(hc.interval),
                    timeout: d(hc.timeout),
                    start_period: d(hc.start_period),
                    start_interval: d(hc.start_interval),
                    retries: u32::try_from(hc.retries).ok().filter(|&r| r != 0),
                });
                let text = format!(
                    "HEALTHCHECK {{Test:[{}] Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
                    hc.test.join(" "),
                    format_go_duration(hc.interval),
                    format_go_duration(hc.timeout),
                    format_go_duration(hc.start_period),
                    format_go_duration(hc.start_interval),
                    hc.retries
                );
                config_only(state, text);
            }
            Instruction::Onbuild(o) => {
                state
                    .config
                    .config
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(o.expression.clone());
            }
            Instruction::Workdir(w) => {
                let raw = self.expand(state, &w.path)?;
                let joined = if raw.starts_with('/') {
                    raw
                } else {
                    format!("{}/{raw}", state.workdir())
                };
                let dir = clean_abs(&joined);
                state.config.config.working_dir = Some(dir.clone());
                if dir == "/" {
                    config_only(state, format!("WORKDIR {dir}"));
                } else {
                    let user = state.config.config.user.clone().unwrap_or_default();
                    let step = FsStep {
                        op: format!("WORKDIR {dir}\0{user}"),
                        sources: BTreeMap::new(),
                        created_by: format!("WORKDIR {dir}"),
                        link: false,
                    };
                    let name = format!("WORKDIR {dir}");
                    let mtime = self.options.mtime;
                    self.fs_step(state, &name, step, |_, state| {
                        let (uid, gid) = copy::lookup_owner(&state.fs, &user);
                        mkdir_owned(&mut state.fs, &dir, uid, gid, mtime)
                    })?;
                }
            }
            Instruction::Run(r) => {
                let argv = run_argv(state, &r.cmd);
                let mut shown = String::from("RUN ");
                if !state.args.is_empty() {
                    let _ = write!(shown, "|{} ", state.args.len());
                    for (k, last) in &state.args {
                        let v = state
                            .env
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.clone())
                            .or_else(|| last.clone())
                            .unwrap_or_default();
                        let _ = write!(shown, "{k}={v} ");
                    }
                }
                shown.push_str(&argv.join(" "));
                let mut request = RunRequest {
                    argv: argv.clone(),
                    env: state.env_list(),
                    workdir: state.workdir(),
                    user: state.config.config.user.clone().unwrap_or_default(),
                };
                let op = format!(
                    "RUN\0{}\0{}\0{}\0{}",
                    argv.join("\0"),
                    request.env.join("\0"),
                    request.workdir,
                    request.user
                );
                // Proxy build args reach every RUN undeclared, but not its cache key or history.
                for (k, v) in &self.options.build_args {
                    if PROXY_ARGS.contains(&k.to_uppercase().as_str())
                        && !state.env.iter().any(|(n, _)| n == k)
                    {
                        request.env.push(format!("{k}={v}"));
                    }
                }
                let step = FsStep {
                    op,
                    sources: BTreeMap::new(),
                    created_by: format!("{shown} # buildkit"),
                    link: false,
                };
                let name = format!("RUN {}", r.cmd.cmd_line.join(" "));
                self.fs_step(state, &name, step, |builder, state| {
                    match builder.backend.run(&mut state.fs, &request) {
                        Ok(0) => Ok(()),
                        Ok(code) => Err(BuildError::Step(format!(
                            "process \"{}\" did not complete successfully: exit code: {code}",
                            argv.join(" ")
                        ))),
                        Err(message) => Err(BuildError::Step(message)),
                    }
                })?;
            }
            Instruction::Copy(c) => {
                let from = stage_ref(self.stages, stage_index, &c.from)?;
                let spec = CopySpec::new(self, state, &c.sources, &c.chown, &c.chmod, false, None)?
                    .with_exclude(&c.exclude_patterns)?
                    .with_flags(c.parents, c.link);
                self.copy_step(state, &c.meta.keyword, &spec, from, &c.from)?;
            }
            Instruction::Add(a) => {
                let spec =
                    CopySpec::new(self, state, &a.sources, &a.chown, &a.chmod, true, a.unpack)?
                        .with_exclude(&a.exclude_patterns)?
                        .with_flags(false, a.link);
                self.copy_step(state, &a.meta.keyword, &spec, None, "")?;
            }
        }
        Ok(())
    }

    fn copy_step(
        &mut self,
        state: &mut StageState,
        keyword: &str,
        spec: &CopySpec,
        from: Option<usize>,
        from_raw: &str,
    ) -> Result<(), BuildError> {
        let source: UnionFs = match from {
            Some(j) => {
                let s = self.results[j]
                    .as_ref()
                    .ok_or_else(|| BuildError::Step(format!("stage {from_raw} was not built")))?;
                UnionFs::read_only(s.fs.lower_shared())
            }
            None if !from_raw.is_empty() => {
                let reference: Reference = from_raw.parse().map_err(|e| {
                    BuildError::Step(format!("invalid from flag value {from_raw}: {e}"))
                })?;
                let reference = reference.with_default_tag();
                let image = self.images.image(&reference).ok_or_else(|| {
                    BuildError::Step(format!("failed to resolve source metadata for {reference}: not found in the simulated engine's images"))
                })?;
                UnionFs::read_only(image.stack)
            }
            None => self.context.view().clone(),
        };
        let selection = spec.select(&source)?;
        let sources = selection.checksums();
        let keyword = if keyword.eq_ignore_ascii_case("add") {
            "ADD"
        } else {
            "COPY"
        };
        let created_by = format!("{keyword} {} # buildkit", spec.history_args());
        let from_key = from
            .and_then(|j| self.results[j].as_ref().map(|s| s.key.to_string()))
            .unwrap_or_default();
        let op = format!(
            "{created_by}\0{}\0{from_key}\0{}",
            state.workdir(),
            spec.op_extra()
        );
        let name = format!("{keyword} {}", spec.history_args());
        let step = FsStep {
            op,
            sources,
            created_by,
            link: spec.is_link(),
        };
        let owner = spec.owner(&state.fs);
        self.fs_step(state, &name, step, |_, state| {
            let workdir = state.workdir();
            spec.apply(&mut state.fs, &selection, &workdir, owner)
        })
    }

    /// Runs or reuses a filesystem step and records its layer and history.
    fn fs_step(
        &mut self,
        state: &mut StageState,
        name: &str,
        step: FsStep,
        run: impl FnOnce(&mut Self, &mut StageState) -> Result<(), BuildError>,
    ) -> Result<(), BuildError> {
        self.step += 1;
        let n = self.step;
        self.emit(BuildEvent::StepStarted {
            step: n,
            name: name.to_owned(),
        });
        let key = cache::key(&state.key, &step.op, &step.sources);
        // A `--link` step is cached on its own: the same copy is the same layer whatever lies
        // below it (spec §15.1).
        let link_parent = Digest::sha256_of(b"COPY --link: no parent");
        let (lookup_key, parent, rebuilt) = if step.link {
            (
                cache::key(&link_parent, &step.op, &step.sources),
                link_parent,
                false,
            )
        } else {
            (key, state.key, state.rebuilt)
        };
        let (hit, outcome) = if self.options.no_cache {
            (
                None,
                CacheOutcome::Miss {
                    reason: "--no-cache".into(),
                },
            )
        } else {
            self.cache
                .lookup(&lookup_key, &parent, &step.op, &step.sources, rebuilt)
        };
        self.emit(BuildEvent::Cache { step: n, outcome });
        let (layer, digest, layer_changes) = if let Some((layer, digest)) = hit {
            let listed = changes(&layer, state.fs.lower());
            state.fs.push_layer(Arc::clone(&layer))?;
            (layer, digest, listed)
        } else if step.link {
            // The copy runs on an empty filesystem; its layer is then stacked on the stage.
            let mut scratch = UnionFs::new(LayerStack::new());
            scratch.set_now(self.options.mtime);
            let stage_fs = std::mem::replace(&mut state.fs, scratch);
            let ran = run(self, state);
            let mut scratch = std::mem::replace(&mut state.fs, stage_fs);
            ran?;
            for event in scratch.take_events() {
                self.emit(BuildEvent::Fs { step: n, event });
            }
            let layer = scratch.commit()?;
            let listed = changes(&layer, state.fs.lower());
            state.fs.push_layer(Arc::clone(&layer))?;
            let (digest, _) = diff_id(&layer, &TarOptions::default());
            state.rebuilt = true;
            self.cache.insert(
                lookup_key,
                CacheRecord {
                    parent,
                    op: step.op.clone(),
                    sources: step.sources.clone(),
                    layer: Arc::clone(&layer),
                    diff_id: digest,
                },
            );
            (layer, digest, listed)
        } else {
            run(self, state)?;
            for event in state.fs.take_events() {
                self.emit(BuildEvent::Fs { step: n, event });
            }
            let listed = state.fs.changes();
            let layer = state.fs.commit()?;
            let (digest, _) = diff_id(&layer, &TarOptions::default());
            state.rebuilt = true;
            self.cache.insert(
                key,
                CacheRecord {
                    parent: state.key,
                    op: step.op.clone(),
                    sources: step.sources.clone(),
                    layer: Arc::clone(&layer),
                    diff_id: digest,
                },
            );
            (layer, digest, listed)
        };
        self.emit(BuildEvent::LayerCommitted {
            step: n,
            diff_id: digest,
            size: layer.size(),
            changes: layer_changes,
        });
        state.layers.push(layer);
        state.config.rootfs.diff_ids.push(digest);
        state.config.history.push(history(step.created_by, false));
        state.key = key;
        Ok(())
    }
}

/// CMD/ENTRYPOINT argv: the JSON list, or the current shell + the command text.
fn command(state: &StageState, cmd: &ShellDependantCmdLine) -> Vec<String> {
    if cmd.prepend_shell {
        let mut argv = state.shell();
        argv.push(cmd.cmd_line.join(" "));
        argv
    } else {
        cmd.cmd_line.clone()
    }
}

/// RUN argv, with heredocs rewritten as BuildKit does (spec §13.9).
fn run_argv(state: &StageState, cmd: &ShellDependantCmdLine) -> Vec<String> {
    if !cmd.prepend_shell {
        return cmd.cmd_line.clone();
    }
    let text = cmd.cmd_line.join(" ");
    let mut argv = state.shell();
    if let [file] = cmd.files.as_slice() {
        let whole = text.trim();
        let word = whole
            .trim_start_matches("<<")
            .trim_start_matches('-')
            .trim_matches(['"', '\'']);
        if whole.starts_with("<<") && word == file.name {
            let body = if file.chomp {
                strip_tabs(&file.data)
            } else {
                file.data.clone()
            };
            argv.push(body);
            return argv;
        }
    }
    let mut script = text;
    for file in &cmd.files {
        script.push('\n');
        script.push_str(&file.data);
        script.push_str(&file.name);
    }
    argv.push(script);
    argv
}

fn strip_tabs(body: &str) -> String {
    body.split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

pub(crate) use crate::fs::path::clean_abs;

/// `mkdir -p` with owner and mode 0755 for the directories it creates.
pub(crate) fn mkdir_owned(
    fs: &mut UnionFs,
    dir: &str,
    uid: u32,
    gid: u32,
    mtime: i64,
) -> Result<(), BuildError> {
    let mut prefix = String::new();
    for c in dir.split('/').filter(|c| !c.is_empty()) {
        prefix.push('/');
        prefix.push_str(c);
        match fs.stat(&prefix) {
            Ok(s) if s.file_type == crate::fs::FileType::Dir => {}
            Ok(_) => return Err(BuildError::Step(format!("mkdir {prefix}: not a directory"))),
            Err(_) => fs.put(&prefix, dir_entry(0o755, uid, gid, mtime))?,
        }
    }
    Ok(())
}
