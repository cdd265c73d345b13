//! The builder (spec §13 and §15): runs a Dockerfile's stages on the union filesystem, keeps the
//! image config and history as BuildKit writes them, and reuses cached steps, saying why each
//! step was or was not cached.
//!
//! `RUN` goes to a [`RunBackend`]; base images come from an [`ImageSource`]; progress goes to a
//! sink as [`BuildEvent`]s.
//!
//! ```
//! use std::collections::BTreeMap;
//! use layerbox_core::build::{build, BuildCache, BuildContext, BuildOptions, NoRun};
//! use layerbox_core::image::Reference;
//!
//! let context = BuildContext::from_files(&[("app.py", "print('hi')\n")]).unwrap();
//! let images: BTreeMap<Reference, layerbox_core::build::BaseImage> = BTreeMap::new();
//! let mut cache = BuildCache::new();
//! let dockerfile = "FROM scratch\nCOPY app.py /app/\nCMD [\"python\", \"/app/app.py\"]\n";
//! let built = build(dockerfile, &context, &BuildOptions::default(), &images, &mut NoRun, &mut cache, &mut |_| {}).unwrap();
//! assert_eq!(built.config.rootfs.diff_ids.len(), 1);
//! assert_eq!(built.config.history[1].created_by.as_deref(), Some("CMD [\"python\" \"/app/app.py\"]"));
//! ```

mod cache;
mod copy;
mod dispatch;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dockerfile::SourceLines;
use crate::dockerfile::expand::{ExpandError, Lexer};
use crate::dockerfile::ignore::DockerIgnore;
use crate::dockerfile::instructions::{Instruction, Stage};
use crate::fs::{Entry, FsError, FsEvent, Layer, LayerStack, Meta, PathChange, UnionFs};
use crate::image::{Digest, ImageConfig, Reference};

pub use cache::{BuildCache, CacheOutcome, CacheRecord};

/// The default `PATH` of a stage whose config has none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The platform images are built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, ...
    pub architecture: String,
    /// `v8`, ... if any.
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Self {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl Platform {
    /// `os/arch[/variant]`.
    pub fn name(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// What `docker build` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildOptions {
    /// `--build-arg K=V`.
    pub build_args: BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--platform` (build and target alike here).
    pub platform: Platform,
    /// `--label K=V`, merged into the result's labels.
    pub labels: BTreeMap<String, String>,
    /// RFC 3339 time stamped on the config and new history entries (core has no clock).
    pub created: Option<String>,
    /// Modification time for files the build creates, seconds since the epoch.
    pub mtime: i64,
}

/// The build context: the files `COPY` and `ADD` read, with `.dockerignore` applied.
#[derive(Debug, Clone)]
pub struct BuildContext {
    view: UnionFs,
}

impl BuildContext {
    /// A context from a layer of files (paths relative to the context root), leaving out what
    /// `dockerignore` (the text of a `.dockerignore`) excludes. Files arrive owned by 0:0, as the
    /// docker client sends them.
    pub fn new(mut files: Layer, dockerignore: Option<&str>) -> Result<Self, BuildError> {
        if let Some(text) = dockerignore {
            let ignore = DockerIgnore::parse(text).map_err(|e| BuildError::Step(e.to_string()))?;
            let mut excluded: std::collections::BTreeSet<String> = files
                .iter()
                .filter(|(p, _)| !p.is_empty() && ignore.is_excluded(p))
                .map(|(p, _)| p.to_owned())
                .collect();
            // A re-included file (`!dir/keep`) keeps its parent directories.
            let kept: Vec<String> = files
                .iter()
                .filter(|(p, _)| !excluded.contains(*p))
                .map(|(p, _)| p.to_owned())
                .collect();
            for k in &kept {
                for (i, _) in k.match_indices('/') {
                    excluded.remove(&k[..i]);
                }
            }
            for p in excluded.iter().rev() {
                files.take(p);
            }
        }
        let stack = LayerStack::from_layers([Arc::new(files)])?;
        Ok(Self {
            view: UnionFs::read_only(stack),
        })
    }

    /// A context of regular files (mode 0644; parent directories 0755 are added).
    pub fn from_files(files: &[(&str, &str)]) -> Result<Self, BuildError> {
        let mut view = UnionFs::new(LayerStack::new());
        for (path, content) in files {
            let path = format!("/{}", path.trim_start_matches('/'));
            if let Some(i) = path.rfind('/').filter(|&i| i > 0) {
                view.mkdir_all(&path[..i], 0o755)?;
            }
            view.write(&path, content.as_bytes(), 0o644)?;
        }
        Self::new(view.into_upper(), None)
    }

    /// The context as a read-only filesystem.
    pub fn view(&self) -> &UnionFs {
        &self.view
    }
}

/// A base image: its config and its layers, stacked once so that every build over it shares
/// the merged index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseImage {
    /// The image config (Env, Cmd, history, ...).
    pub config: ImageConfig,
    /// The layers, bottom first, with their merged index.
    pub stack: Arc<LayerStack>,
}

impl BaseImage {
    /// Stacks `layers` (bottom first) under `config`.
    pub fn new(
        config: ImageConfig,
        layers: impl IntoIterator<Item = Arc<Layer>>,
    ) -> Result<Self, FsError> {
        Ok(Self {
            config,
            stack: Arc::new(LayerStack::from_layers(layers)?),
        })
    }
}

/// Where `FROM` and `COPY --from` find images (the engine's image store; the simulation has no
/// registry to pull from).
pub trait ImageSource {
    /// The image a normalised reference names, if known.
    fn image(&self, reference: &Reference) -> Option<BaseImage>;
}

impl ImageSource for BTreeMap<Reference, BaseImage> {
    fn image(&self, reference: &Reference) -> Option<BaseImage> {
        self.get(reference).cloned()
    }
}

/// What a `RUN` step asks the backend to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// The argv (shell + command for the shell form).
    pub argv: Vec<String>,
    /// `KEY=value` for ENV and valued ARGs.
    pub env: Vec<String>,
    /// The working directory.
    pub workdir: String,
    /// USER as written (empty = root).
    pub user: String,
}

/// Runs `RUN` commands on a build step's filesystem (the engine's backend).
pub trait RunBackend {
    /// Runs the command; `Ok(exit code)`, or `Err` when it could not run at all.
    fn run(&mut self, fs: &mut UnionFs, request: &RunRequest) -> Result<i32, String>;
}

/// A backend without a shell: every `RUN` fails with a clear message.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRun;

impl RunBackend for NoRun {
    fn run(&mut self, _: &mut UnionFs, request: &RunRequest) -> Result<i32, String> {
        Err(format!(
            "cannot run `{}`: the simulated engine has no shell yet (RUN is not supported)",
            request.argv.join(" ")
        ))
    }
}

/// Progress of a build, for the CLI's output and the browser's animation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuildEvent {
    /// A step began (`[build 2/4] COPY . /app`).
    StepStarted {
        /// Counts from 1 over the whole build.
        step: usize,
        /// The step's name as BuildKit's progress shows it.
        name: String,
    },
    /// Whether a filesystem step was cached, and why.
    Cache {
        /// The step.
        step: usize,
        /// Hit or miss with the reason.
        outcome: CacheOutcome,
    },
    /// A step's copy-on-write activity.
    Fs {
        /// The step.
        step: usize,
        /// Copy-up, whiteout or opaque directory.
        event: FsEvent,
    },
    /// A step made a layer.
    LayerCommitted {
        /// The step.
        step: usize,
        /// sha256 of the layer tar.
        diff_id: Digest,
        /// Size as docker reports it.
        size: u64,
        /// The layer's changes in `docker diff` terms.
        changes: Vec<PathChange>,
    },
}

/// The result of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Built {
    /// The image config, history included.
    pub config: ImageConfig,
    /// The image's layers, bottom first (matching `config.rootfs.diff_ids`).
    pub layers: Vec<Arc<Layer>>,
    /// The image ID.
    pub id: Digest,
    /// For each history entry, the lines of the instruction that made it (a base image's entries
    /// get the stage's FROM; `None` for ONBUILD triggers and `scratch`).
    #[serde(default)]
    pub sources: Vec<Option<SourceLines>>,
}

/// Why a build failed, in BuildKit's words where it has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile does not parse.
    #[error("failed to parse Dockerfile: {0}")]
    Dockerfile(String),
    /// A variable expansion failed.
    #[error(transparent)]
    Expand(#[from] ExpandError),
    /// A filesystem operation failed.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// A step failed.
    #[error("{0}")]
    Step(String),
}

/// A stage's state while it is built: BuildKit's dispatch state.
#[derive(Debug, Clone)]
struct StageState {
    config: ImageConfig,
    /// The build-time environment: ENV and valued ARGs, in order.
    env: Vec<(String, String)>,
    /// ARGs declared in this stage or the stages it is based on, first declaration order,
    /// with their last value.
    args: Vec<(String, Option<String>)>,
    cmd_set: bool,
    fs: UnionFs,
    layers: Vec<Arc<Layer>>,
    /// The cache key of the filesystem state.
    key: Digest,
    /// Whether a step of this lineage ran instead of coming from the cache.
    rebuilt: bool,
    /// The instruction lines of each history entry so far (see [`Built::sources`]).
    sources: Vec<Option<SourceLines>>,
}

impl StageState {
    fn env_list(&self) -> Vec<String> {
        self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    fn set_env(&mut self, key: &str, value: &str) {
        set_pair(&mut self.env, key, value);
    }

    fn workdir(&self) -> String {
        match self.config.config.working_dir.as_deref() {
            None | Some("") => "/".to_owned(),
            Some(w) => w.to_owned(),
        }
    }

    /// Gives the history entries made since the last call the lines `source`.
    fn mark_sources(&mut self, source: Option<SourceLines>) {
        let made = self.config.history.len();
        self.sources.truncate(made);
        self.sources.resize(made, source);
    }

    fn shell(&self) -> Vec<String> {
        self.config
            .config
            .shell
            .clone()
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }
}

/// Replaces the value of `key` in place, or appends it.
fn set_pair(list: &mut Vec<(String, String)>, key: &str, value: &str) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some(pair) => value.clone_into(&mut pair.1),
        None => list.push((key.to_owned(), value.to_owned())),
    }
}

/// Builds `dockerfile` with `context`: the target stage (the last one unless
/// `options.target`), and the stages it needs.
pub fn build(
    dockerfile: &str,
    context: &BuildContext,
    options: &BuildOptions,
    images: &dyn ImageSource,
    backend: &mut dyn RunBackend,
    cache: &mut BuildCache,
    sink: &mut dyn FnMut(BuildEvent),
) -> Result<Built, BuildError> {
    let parsed =
        crate::dockerfile::parse(dockerfile).map_err(|e| BuildError::Dockerfile(e.to_string()))?;
    let mut builder = dispatch::Builder {
        lexer: Lexer::new(parsed.escape_token),
        options,
        context,
        images,
        backend,
        cache,
        sink,
        global_args: Vec::new(),
        stages: &parsed.stages,
        results: Vec::new(),
        step: 0,
    };
    let target = target_index(&parsed.stages, options.target.as_deref())?;
    builder.global_args = global_args(&parsed, options, target, builder.lexer)?;
    let needed = needed_stages(&parsed.stages, target, &builder)?;
    for (i, stage) in parsed.stages.iter().enumerate().take(target + 1) {
        let result = if needed[i] {
            Some(builder.build_stage(i, stage)?)
        } else {
            None
        };
        builder.results.push(result);
    }
    let state = builder
        .results
        .pop()
        .flatten()
        .ok_or_else(|| BuildError::Step("no stage to build".into()))?;
    Ok(finish(state, options))
}

/// Stamps the result: creation times, `--label`s, the image ID.
fn finish(state: StageState, options: &BuildOptions) -> Built {
    let mut config = state.config;
    config.created.clone_from(&options.created);
    for h in &mut config.history {
        if h.created.is_none() {
            h.created.clone_from(&options.created);
        }
    }
    if !options.labels.is_empty() {
        let labels = config.config.labels.get_or_insert_with(BTreeMap::new);
        labels.extend(options.labels.clone());
    }
    let id = config.id();
    Built {
        config,
        layers: state.layers,
        id,
        sources: state.sources,
    }
}

fn target_index(stages: &[Stage], target: Option<&str>) -> Result<usize, BuildError> {
    if stages.is_empty() {
        return Err(BuildError::Step(
            "the Dockerfile has no FROM instruction".into(),
        ));
    }
    let Some(target) = target else {
        return Ok(stages.len() - 1);
    };
    let lower = target.to_lowercase();
    stages
        .iter()
        .rposition(|s| s.name.as_deref() == Some(lower.as_str()))
        .ok_or_else(|| {
            let names: Vec<&str> = stages.iter().filter_map(|s| s.name.as_deref()).collect();
            let hint = names
                .iter()
                .min_by_key(|n| edit_distance(n, &lower))
                .filter(|n| edit_distance(n, &lower) <= 2)
                .map(|n| format!(" (did you mean {n}?)"))
                .unwrap_or_default();
            BuildError::Step(format!(
                "target stage \"{target}\" could not be found{hint}"
            ))
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Built-in platform args, then the meta ARGs before the first FROM (spec §13.2).
fn global_args(
    parsed: &crate::dockerfile::Dockerfile,
    options: &BuildOptions,
    target: usize,
    lexer: Lexer,
) -> Result<Vec<(String, String)>, BuildError> {
    let p = &options.platform;
    let variant = p.variant.clone().unwrap_or_default();
    let target_stage = options
        .target
        .clone()
        .or_else(|| parsed.stages[target].name.clone())
        .unwrap_or_else(|| "default".to_owned());
    let mut args: Vec<(String, String)> = Vec::new();
    for prefix in ["BUILD", "TARGET"] {
        args.push((format!("{prefix}PLATFORM"), p.name()));
        args.push((format!("{prefix}OS"), p.os.clone()));
        args.push((format!("{prefix}OSVERSION"), String::new()));
        args.push((format!("{prefix}ARCH"), p.architecture.clone()));
        args.push((format!("{prefix}VARIANT"), variant.clone()));
    }
    args.push(("TARGETSTAGE".into(), target_stage));
    for (k, v) in &options.build_args {
        if args.iter().any(|(name, _)| name == k) {
            set_pair(&mut args, k, v);
        }
    }
    for arg in &parsed.meta_args {
        for kv in &arg.args {
            if let Some(v) = options.build_args.get(&kv.key) {
                set_pair(&mut args, &kv.key, v);
            } else if let Some(default) = &kv.value {
                let v = lexer.process_word(default, &args)?;
                set_pair(&mut args, &kv.key, &v);
            }
        }
    }
    Ok(args)
}

/// Which stages the target needs, through `FROM <stage>` and `COPY --from`.
fn needed_stages(
    stages: &[Stage],
    target: usize,
    builder: &dispatch::Builder<'_>,
) -> Result<Vec<bool>, BuildError> {
    let mut needed = vec![false; stages.len()];
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if needed[i] {
            continue;
        }
        needed[i] = true;
        let base = builder
            .lexer
            .process_word(&stages[i].base_name, &builder.global_args)?;
        // ONBUILD triggers of the base run in this stage and may name stages too.
        let mut triggers: Vec<Instruction> = Vec::new();
        if let Some(j) = stages[..i]
            .iter()
            .rposition(|s| s.name.as_deref() == Some(base.as_str()))
        {
            todo.push(j);
            for ins in &stages[j].instructions {
                if let Instruction::Onbuild(o) = ins {
                    triggers.extend(parse_trigger(&o.expression));
                }
            }
        } else if let Some(image) = base
            .parse::<Reference>()
            .ok()
            .and_then(|r| builder.images.image(&r.with_default_tag()))
        {
            for t in image.config.config.on_build.iter().flatten() {
                triggers.extend(parse_trigger(t));
            }
        }
        for ins in triggers.iter().chain(&stages[i].instructions) {
            if let Instruction::Copy(c) = ins
                && let Some(j) = dispatch::stage_ref(stages, i, &c.from)?
            {
                todo.push(j);
            }
        }
    }
    Ok(needed)
}

/// An ONBUILD trigger as an instruction (`None` if it does not parse; the stage reports that
/// when it runs the trigger).
pub(crate) fn parse_trigger(trigger: &str) -> Option<Instruction> {
    let parsed = crate::dockerfile::parse(&format!("FROM scratch\n{trigger}\n")).ok()?;
    match parsed.stages.first()?.instructions.as_slice() {
        [ins] => Some(ins.clone()),
        _ => None,
    }
}

/// The file entry a build creates for a path, owned by `uid:gid`.
fn dir_entry(mode: u32, uid: u32, gid: u32, mtime: i64) -> Entry {
    Entry::dir(Meta {
        mode,
        uid,
        gid,
        mtime,
    })
}
