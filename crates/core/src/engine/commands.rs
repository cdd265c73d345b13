//! docker's commands carried out on the engine, with docker's output, errors and exit codes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::process::{ProcessRequest, recognise};
use super::prune::PruneFilter;
use super::{
    Action, Container, ContainerSpec, ContainerState, Engine, EngineError, Event, Follow,
    FollowKind, Image, LogEntry, Output, Process, Refusal, SessionRequest, Stream, is_valid_name,
    random_name,
};
use crate::build::{self, BaseImage, BuildContext, BuildEvent, RunBackend, RunRequest};
use crate::cli::command::{
    BuildOptions, Command, CommitOptions, CreateOptions, ExecOptions, Filter, HistoryOptions,
    ImageLayersOptions, ImagesOptions, LogsOptions, PruneOptions, PsOptions, Resources, RmOptions,
    RmiOptions, RunOptions,
};
use crate::cli::grammar::{self, Invocation};
use crate::cli::report::{RunStage, daemon_error, not_found, run_failure};
use crate::cli::rows::{
    DiskUsageRow, HistoryRow, ImageSummary, ListRow, PortBinding, PsRow, RowOptions, image_rows,
    port_lines, ps_command, render_list, render_top, rfc3339,
};
use crate::cli::text::truncate_id;
use crate::cli::units::{StatusSummary, Timestamp, human_size};
use crate::fs::{Layer, UnionFs};
use crate::image::{Digest, History, ImageConfig, Reference};

/// The build context `build` reads: the files of the context directory (paths relative to it),
/// the Dockerfile among them.
#[derive(Debug, Clone, Default)]
pub struct BuildInput {
    /// The files.
    pub files: Layer,
}

/// How `version` and `info` name the server: docker 20.10.24's numbers are kept so that the
/// output has the samples' layout, and this says that no Docker daemon answered.
const SIMULATED_ENGINE: &str = "layerbox simulated engine (not a Docker daemon)";

/// A failed command: what to print on stderr and the exit code.
pub(super) struct Failure(pub(super) String, pub(super) u8);

pub(super) type Result<T> = std::result::Result<T, Failure>;

/// Success, or the errors one per line with exit code 1 (docker's batch commands).
pub(super) fn joined(errors: &[String]) -> Result<u8> {
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure(errors.join("\n"), 1))
    }
}

/// Prints a list command's rows with `--format` or the default table.
pub(super) fn print_list<R: ListRow>(
    rows: &[R],
    format: Option<&str>,
    opts: &RowOptions,
    out: &mut Output,
) -> Result<u8> {
    let text =
        render_list(rows, format.unwrap_or(""), opts).map_err(|e| Failure(e.to_string(), 1))?;
    out.out(text);
    Ok(0)
}

/// `K=V` options as a map (`K` alone means an empty value).
pub(super) fn key_values(list: &[String]) -> BTreeMap<String, String> {
    list.iter()
        .map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn daemon(e: &EngineError) -> Failure {
    Failure(daemon_error(&e.to_string()), 1)
}

impl Engine {
    /// Parses and runs a docker command line (`["docker", "ps", "-a"]`), writing what docker
    /// prints to `out`; returns docker's exit code.
    pub fn execute<S: AsRef<str>>(&mut self, argv: &[S], out: &mut Output) -> u8 {
        if let Some(program) = argv.first() {
            let program = program.as_ref();
            self.set_program(program.rsplit('/').next().unwrap_or(program));
        }
        match grammar::parse(argv) {
            Ok(Invocation::Command { command, .. }) => self.run_command(&command, out),
            Ok(Invocation::Help { text, stderr }) => {
                if stderr {
                    out.err(text);
                } else {
                    out.out(text);
                }
                0
            }
            Ok(Invocation::Version) if self.program == "layerbox" => {
                out.out(format!("layerbox {}\n", crate::VERSION));
                0
            }
            Ok(Invocation::Version) => {
                out.out(format!(
                    "Docker version 20.10.24, build layerbox-{} (simulated engine)\n",
                    crate::VERSION
                ));
                0
            }
            Err(e) => {
                out.err(format!("{e}\n"));
                e.exit_code()
            }
        }
    }

    /// Runs a parsed command; returns docker's exit code.
    pub fn run_command(&mut self, command: &Command, out: &mut Output) -> u8 {
        self.tick(out);
        let result = match command {
            Command::Build(o) => self.build(o, out),
            Command::Images(o) => self.images(o, out),
            Command::Run(o) => self.run(o, out),
            Command::Create(o) => self.create_cmd(o, out),
            Command::Start(o) => self.start_cmd(&o.containers, o.attach, out),
            Command::Stop(o) => self.each(&o.containers, out, |e, i, out| {
                e.stop(i, out);
                Ok(())
            }),
            Command::Kill(o) => {
                let mut errors = Vec::new();
                for name in &o.containers {
                    match self.find_container(name).and_then(|i| self.kill(i, out)) {
                        Ok(()) => out.out(format!("{name}\n")),
                        Err(EngineError::Refused(Refusal::KillNotRunning(_, id))) => errors.push(
                            daemon_error(&Refusal::KillNotRunning(name.clone(), id).to_string()),
                        ),
                        Err(e) => errors.push(daemon_error(&e.to_string())),
                    }
                }
                joined(&errors)
            }
            Command::Restart(o) => self.each(&o.containers, out, |e, i, out| {
                e.stop(i, out);
                e.start(i, out).map(|_| ())
            }),
            Command::Pause(o) => self.each(&o.containers, out, |e, i, out| {
                e.transition(i, Action::Pause, out)
            }),
            Command::Unpause(o) => self.each(&o.containers, out, |e, i, out| {
                e.transition(i, Action::Unpause, out)
            }),
            Command::Ps(o) => self.ps(o, out),
            Command::Exec(o) => self.exec(o, out),
            Command::Logs(o) => self.logs(o, out),
            Command::Commit(o) => self.commit(o, out),
            Command::Diff(o) => self.diff(&o.container, out),
            Command::Inspect(o) => self
                .inspect(o, out)
                .map_err(|(text, code)| Failure(text, code)),
            Command::History(o) => self.history(o, out),
            Command::Import(o) => self
                .import(o, out)
                .map_err(|(text, code)| Failure(text, code)),
            Command::Save(o) => self
                .save(o, out)
                .map_err(|(text, code)| Failure(text, code)),
            Command::Load(o) => self
                .load(o, out)
                .map_err(|(text, code)| Failure(text, code)),
            Command::Export(o) => self
                .export(o, out)
                .map_err(|(text, code)| Failure(text, code)),
            Command::Cp(o) => self.cp(o, out).map_err(|e| Failure(e.to_string(), 1)),
            Command::ImageLayers(o) => self.image_layers_cmd(o, out),
            Command::Tag(o) => self.tag(&o.source, &o.target, out),
            Command::Rmi(o) => self.rmi(o, out),
            Command::Rm(o) => self.rm(o, out),
            Command::ContainerPrune(o) => self.container_prune(o, out),
            Command::ImagePrune(o) => self.image_prune(o, out),
            Command::SystemPrune(o) => self.system_prune(o, out),
            Command::BuilderPrune(o) => self.builder_prune(o, out),
            Command::SystemDf(_) => self.system_df(out),
            Command::VolumeCreate(o) => self.volume_create(o, out),
            Command::VolumeLs(o) => self.volume_ls(o, out),
            Command::VolumeInspect(o) => self.volume_inspect(o, out),
            Command::VolumeRm(o) => self.volume_rm(o, out),
            Command::VolumePrune(o) => self.volume_prune(o, out),
            Command::Port(o) => self.port(&o.container, o.private_port.as_deref(), out),
            Command::Rename(o) => self.rename(&o.container, &o.new_name, out),
            Command::Top(o) => self.top(&o.container, out),
            Command::Wait(o) => self.wait(&o.containers, out),
            Command::Version(o) => Self::version(o.format.as_deref(), out),
            Command::Info(o) => self.info(o.format.as_deref(), out),
        };
        match result {
            Ok(code) => code,
            Err(Failure(text, code)) => {
                if !text.is_empty() {
                    out.err(format!("{text}\n"));
                }
                code
            }
        }
    }

    /// Runs `f` on each named container, printing the name on success and docker's joined
    /// errors (exit 1) otherwise.
    fn each(
        &mut self,
        names: &[String],
        out: &mut Output,
        mut f: impl FnMut(&mut Self, usize, &mut Output) -> std::result::Result<(), EngineError>,
    ) -> Result<u8> {
        let mut errors = Vec::new();
        for name in names {
            match self.find_container(name).and_then(|i| f(self, i, out)) {
                Ok(()) => out.out(format!("{name}\n")),
                Err(e) => errors.push(daemon_error(&e.to_string())),
            }
        }
        joined(&errors)
    }

    /// Checks `action` with the state machine and applies it.
    fn transition(
        &mut self,
        i: usize,
        action: Action,
        out: &mut Output,
    ) -> std::result::Result<(), EngineError> {
        let c = &self.state.containers[i];
        c.state.check(action, &c.id)?;
        let to = c.state.after(action);
        self.set_state(i, to, out);
        Ok(())
    }

    fn stop(&mut self, i: usize, out: &mut Output) {
        let c = &self.state.containers[i];
        if !c.state.can_stop() {
            return;
        }
        // As PID 1, a process that installs no SIGTERM handler ignores it and is killed after
        // the timeout (137); of the modelled ones only the file servers (nginx) handle it.
        let code = if matches!(
            c.process,
            Process::Server {
                response: super::Response::Files(_),
                ..
            }
        ) {
            0
        } else {
            137
        };
        self.end_process(i, code, Action::Stop, out);
    }

    fn kill(&mut self, i: usize, out: &mut Output) -> std::result::Result<(), EngineError> {
        let name = self.state.containers[i].id.clone();
        self.state.containers[i].state.check(Action::Kill, &name)?;
        self.end_process(i, 137, Action::Kill, out);
        Ok(())
    }

    fn end_process(&mut self, i: usize, code: i32, action: Action, out: &mut Output) {
        let c = &mut self.state.containers[i];
        c.exit_code = code;
        c.process = Process::Finished;
        let to = c.state.after(action);
        self.set_state(i, to, out);
        if self.state.containers[i].spec.auto_remove {
            self.remove_container(i, out);
        }
    }

    pub(super) fn remove_container(&mut self, i: usize, out: &mut Output) {
        let c = self.state.containers.remove(i);
        if c.spec.auto_remove {
            // `--rm` takes the container's anonymous volumes with it
            self.remove_anonymous_volumes(&c);
        }
        out.events.push(Event::ContainerState {
            id: c.id,
            name: c.name,
            from: Some(c.state),
            to: ContainerState::Removed,
        });
    }

    fn program(&self) -> &str {
        &self.program
    }

    // ---- images -------------------------------------------------------------------------

    /// The image `name` names, pulling it from the base images when it is not local (as
    /// `docker run` does), with docker's pull messages.
    fn image_or_pull(
        &mut self,
        name: &str,
        out: &mut Output,
    ) -> std::result::Result<usize, String> {
        if let Some(image) = self.find_image(name) {
            let id = image.id;
            return Ok(self
                .state
                .images
                .iter()
                .position(|i| i.id == id)
                .unwrap_or(0));
        }
        let reference = Reference::parse_normalized(name)
            .map_err(|e| e.to_string())?
            .with_default_tag();
        out.err(format!(
            "Unable to find image '{}' locally\n",
            reference.familiar()
        ));
        let Some(base) = self.base_images.image(&reference) else {
            return Err(format!(
                "pull access denied for {}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
                reference.familiar_name()
            ));
        };
        let tag = reference.tag().unwrap_or("latest").to_owned();
        out.out(format!("{tag}: Pulling from {}\n", reference.path()));
        for id in &base.config.rootfs.diff_ids {
            out.out(format!("{}: Pull complete\n", truncate_id(&id.to_string())));
        }
        let id = base.config.id();
        out.out(format!(
            "Digest: {id}\nStatus: Downloaded newer image for {}\n",
            reference.familiar()
        ));
        Ok(self.store_image(base.config, base.stack.layers(), vec![reference], None, out))
    }

    /// Stores an image (or finds the same one), giving it `tags` (moved from other images).
    pub(super) fn store_image(
        &mut self,
        config: ImageConfig,
        layers: &[Arc<Layer>],
        tags: Vec<Reference>,
        parent: Option<Digest>,
        out: &mut Output,
    ) -> usize {
        // Layers are keyed by the config's diff_ids (computed when the layer was made).
        let keyed: Vec<_> = config
            .rootfs
            .diff_ids
            .iter()
            .copied()
            .zip(layers.iter().cloned())
            .collect();
        let size = layers.iter().map(|l| l.size()).sum();
        let id = config.id();
        let existed = self.state.images.iter().any(|i| i.id == id);
        let index = self.add_image(id, config, &keyed, size, tags, out);
        if !existed {
            self.state.images[index].parent = parent;
        }
        index
    }

    pub(super) fn add_tag(&mut self, index: usize, tag: Reference, out: &mut Output) {
        let id = self.state.images[index].id;
        for image in &mut self.state.images {
            if image.id != id
                && let Some(p) = image.repo_tags.iter().position(|t| *t == tag)
            {
                image.repo_tags.remove(p);
                out.events.push(Event::ImageUntagged {
                    id: image.id,
                    reference: tag.familiar(),
                });
            }
        }
        let image = &mut self.state.images[index];
        if !image.repo_tags.contains(&tag) {
            out.events.push(Event::ImageTagged {
                id,
                reference: tag.familiar(),
            });
            image.repo_tags.push(tag);
        }
    }

    fn images(&mut self, o: &ImagesOptions, out: &mut Output) -> Result<u8> {
        let reference = o
            .reference
            .as_deref()
            .map(|r| Reference::parse_normalized(r).map_err(|e| Failure(format!("Error: {e}"), 1)))
            .transpose()?;
        let dangling = filter_value(&o.filters, "dangling").map(|v| v == "true");
        let mut summaries = Vec::new();
        for image in self.state.images.iter().rev() {
            if let Some(r) = &reference {
                let wanted = r.clone().with_default_tag();
                let by_name =
                    r.tag().is_none() && image.repo_tags.iter().any(|t| t.name() == r.name());
                if !by_name && !image.repo_tags.contains(&wanted) {
                    continue;
                }
            }
            if let Some(d) = dangling
                && d != image.repo_tags.is_empty()
            {
                continue;
            }
            summaries.push(self.summary(image));
        }
        let rows = image_rows(&summaries, o.digests);
        let opts = RowOptions {
            trunc: !o.no_trunc,
            quiet: o.quiet,
            digests: o.digests,
            ..RowOptions::new(self.now())
        };
        let mut text = render_list(&rows, o.format.as_deref().unwrap_or(""), &opts)
            .map_err(|e| Failure(e.to_string(), 1))?;
        if o.quiet && o.format.is_none() {
            // docker prints each ID once.
            let mut seen = Vec::new();
            let mut unique = String::new();
            for line in text.lines() {
                if !seen.contains(&line) {
                    seen.push(line);
                    unique.push_str(line);
                    unique.push('\n');
                }
            }
            text = unique;
        }
        out.out(text);
        Ok(0)
    }

    fn summary(&self, image: &Image) -> ImageSummary {
        ImageSummary {
            id: image.id.to_string(),
            repo_tags: image.repo_tags.iter().map(ToString::to_string).collect(),
            repo_digests: Vec::new(),
            created: image.created,
            size: self.image_size(image),
            containers: None,
        }
    }

    fn tag(&mut self, source: &str, target: &str, out: &mut Output) -> Result<u8> {
        let Some(id) = self.find_image(source).map(|i| i.id) else {
            return Err(Failure(
                daemon_error(&format!("No such image: {}", image_shown(source))),
                1,
            ));
        };
        let reference = Reference::parse_normalized(target)
            .map_err(|e| {
                Failure(
                    format!(
                        "Error parsing reference: \"{target}\" is not a valid repository/tag: {e}"
                    ),
                    1,
                )
            })?
            .with_default_tag();
        let index = self
            .state
            .images
            .iter()
            .position(|i| i.id == id)
            .unwrap_or(0);
        self.add_tag(index, reference, out);
        Ok(0)
    }

    fn rmi(&mut self, o: &RmiOptions, out: &mut Output) -> Result<u8> {
        let mut errors = Vec::new();
        for name in &o.images {
            if let Err(text) = self.remove_image(name, o.force, out) {
                errors.push(text);
            }
        }
        joined(&errors)
    }

    fn remove_image(
        &mut self,
        name: &str,
        force: bool,
        out: &mut Output,
    ) -> std::result::Result<(), String> {
        let Some(id) = self.find_image(name).map(|i| i.id) else {
            return Err(not_found("image", name));
        };
        let index = self
            .state
            .images
            .iter()
            .position(|i| i.id == id)
            .unwrap_or(0);
        let short = truncate_id(&id.to_string()).to_owned();
        let by_id = {
            let hex = name.strip_prefix("sha256:").unwrap_or(name);
            id.hex().starts_with(hex)
                && Reference::parse_normalized(name).map_or(true, |r| {
                    !self.state.images[index]
                        .repo_tags
                        .contains(&r.with_default_tag())
                })
        };
        let users: Vec<&Container> = self
            .state
            .containers
            .iter()
            .filter(|c| c.image == id)
            .collect();
        let running = users
            .iter()
            .find(|c| c.state.is_up())
            .map(|c| c.short_id().to_owned());
        let stopped = users.first().map(|c| c.short_id().to_owned());
        let tags = self.state.images[index].repo_tags.clone();
        if by_id {
            if let Some(c) = running {
                return Err(daemon_error(&format!(
                    "conflict: unable to delete {short} (cannot be forced) - image is being used by running container {c}"
                )));
            }
            if !force && tags.len() > 1 {
                return Err(daemon_error(&format!(
                    "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
                )));
            }
            if let Some(c) = stopped.filter(|_| !force) {
                return Err(daemon_error(&format!(
                    "conflict: unable to delete {short} (must be forced) - image is being used by stopped container {c}"
                )));
            }
        } else {
            let reference = Reference::parse_normalized(name)
                .map_err(|e| e.to_string())?
                .with_default_tag();
            if tags.len() > 1 {
                self.untag(index, &reference, out);
                return Ok(());
            }
            if let Some(c) = stopped.filter(|_| !force) {
                return Err(daemon_error(&format!(
                    "conflict: unable to remove repository reference \"{name}\" (must force) - container {c} is using its referenced image {short}"
                )));
            }
            if running.is_some() {
                self.untag(index, &reference, out);
                return Ok(());
            }
        }
        for tag in &tags {
            self.untag(index, tag, out);
        }
        self.delete_image(index, out);
        Ok(())
    }

    fn untag(&mut self, index: usize, reference: &Reference, out: &mut Output) {
        let image = &mut self.state.images[index];
        image.repo_tags.retain(|t| t != reference);
        out.out(format!("Untagged: {}\n", reference.familiar()));
        out.events.push(Event::ImageUntagged {
            id: image.id,
            reference: reference.familiar(),
        });
    }

    /// Deletes image `index` and the layers no other image uses, printing docker's lines;
    /// returns the bytes freed.
    fn delete_image(&mut self, index: usize, out: &mut Output) -> u64 {
        let image = self.state.images.remove(index);
        out.out(format!("Deleted: {}\n", image.id));
        out.events.push(Event::ImageDeleted { id: image.id });
        let mut freed = 0;
        let diff_ids = &image.config.rootfs.diff_ids;
        let chains = chain_ids(diff_ids);
        for (k, d) in diff_ids.iter().enumerate().rev() {
            let shared = self.state.images.iter().any(|i| {
                i.config.rootfs.diff_ids.len() > k
                    && chain_ids(&i.config.rootfs.diff_ids[..=k]).last() == chains.get(k)
            });
            if shared {
                break;
            }
            if !self
                .state
                .images
                .iter()
                .any(|i| i.config.rootfs.diff_ids.contains(d))
            {
                let size = self.state.layer_sizes.remove(d);
                if let Some(layer) = self.state.layers.remove(d) {
                    freed += layer.size();
                } else if let Some(size) = size {
                    freed += size;
                }
            }
            out.out(format!("Deleted: {}\n", chains[k]));
        }
        freed
    }

    fn image_prune(&mut self, o: &PruneOptions, out: &mut Output) -> Result<u8> {
        let filter = self.prune_filter(o, IMAGE_PRUNE_FILTERS)?;
        let all = o.all || filter.all_images;
        let what = if all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        confirm(o, &format!("WARNING! This will remove {what}.\n"), out);
        let freed = self.prune_images(all, &filter, out);
        Ok(reclaimed(freed, out))
    }

    /// The prune's `--filter`s, or dockerd's error for them.
    pub(super) fn prune_filter(&self, o: &PruneOptions, accepted: &[&str]) -> Result<PruneFilter> {
        PruneFilter::parse(&o.filters, accepted, self.now())
            .map_err(|e| Failure(daemon_error(&e), 1))
    }

    /// `image prune`'s work and its `Deleted Images:` section; returns the bytes freed.
    fn prune_images(&mut self, all: bool, filter: &PruneFilter, out: &mut Output) -> u64 {
        let mut deleted = Output::default();
        let mut freed = 0;
        loop {
            let victim = self.state.images.iter().position(|i| {
                (all || i.repo_tags.is_empty())
                    && !self.state.containers.iter().any(|c| c.image == i.id)
                    && filter.admits(i.created, i.config.config.labels.as_ref())
            });
            let Some(index) = victim else { break };
            let tags = self.state.images[index].repo_tags.clone();
            for tag in &tags {
                self.untag(index, tag, &mut deleted);
            }
            freed += self.delete_image(index, &mut deleted);
        }
        if !deleted.chunks.is_empty() {
            out.out("Deleted Images:\n");
            for line in deleted.stdout().lines() {
                let (kind, rest) = line.split_once(": ").unwrap_or((line, ""));
                out.out(format!("{}: {rest}\n", kind.to_lowercase()));
            }
            out.out("\n");
        }
        out.events.extend(deleted.events);
        freed
    }

    /// `builder prune`: the build cache no image uses (`-a`: all of it).
    fn builder_prune(&mut self, o: &PruneOptions, out: &mut Output) -> Result<u8> {
        if !o.filters.is_empty() {
            return Err(Failure(
                "the simulated build cache keeps no creation times or labels to filter by: `builder prune --filter` is not supported".to_owned(),
                1,
            ));
        }
        let what = if o.all {
            "all build cache"
        } else {
            "all dangling build cache"
        };
        confirm(o, &format!("WARNING! This will remove {what}. "), out);
        let freed = self.prune_build_cache(o.all, out);
        Ok(reclaimed(freed, out))
    }

    /// `builder prune`'s work and its `Deleted build cache objects:` section. It frees no bytes
    /// of its own: the simulated cache keeps the layers the image store has (or had) counted,
    /// as `system df` shows it (0 B); its records only make later builds hit.
    fn prune_build_cache(&mut self, all: bool, out: &mut Output) -> u64 {
        let images = &self.state.images;
        let used = |d: &Digest| images.iter().any(|i| i.config.rootfs.diff_ids.contains(d));
        let gone = self.state.cache.prune(all, used);
        if !gone.is_empty() {
            out.out("Deleted build cache objects:\n");
            for id in gone {
                out.out(format!("{id}\n"));
            }
            out.out("\n");
        }
        0
    }

    /// `system prune`: stopped containers, then unused images, then build cache, with docker's
    /// warning and one total. The simulated engine has no networks or volumes to remove.
    fn system_prune(&mut self, o: &PruneOptions, out: &mut Output) -> Result<u8> {
        // dockerd checks each prune's filters; the containers' accept the fewest names
        let containers = self.prune_filter(o, CONTAINER_PRUNE_FILTERS)?;
        let images = self.prune_filter(o, IMAGE_PRUNE_FILTERS)?;
        let volumes = if o.volumes {
            Some(self.prune_filter(o, &["label", "label!"])?)
        } else {
            None
        };
        if !o.force {
            let mut warnings = vec![
                "all stopped containers",
                "all networks not used by at least one container",
            ];
            if o.volumes {
                warnings.push("all volumes not used by at least one container");
            }
            warnings.push(if o.all {
                "all images without at least one container associated to them"
            } else {
                "all dangling images"
            });
            warnings.push(if o.all {
                "all build cache"
            } else {
                "all dangling build cache"
            });
            let mut text = "WARNING! This will remove:\n".to_owned();
            for w in warnings {
                text.push_str("  - ");
                text.push_str(w);
                text.push('\n');
            }
            if !o.filters.is_empty() {
                text.push_str("\n  Items to be pruned will be filtered with:\n");
                for f in &o.filters {
                    text.push_str("  - ");
                    text.push_str(&f.name);
                    text.push('=');
                    text.push_str(&f.value);
                    text.push('\n');
                }
            }
            text.push('\n');
            confirm(o, &text, out);
        }
        let mut freed = self.prune_containers(&containers, out);
        if let Some(volumes) = &volumes {
            freed += self.prune_volumes(volumes, out);
        }
        freed += self.prune_images(o.all || images.all_images, &images, out);
        if o.filters.is_empty() {
            freed += self.prune_build_cache(o.all, out);
        } else {
            out.notices.push(
                "simulated: the build cache keeps no creation times or labels, so with --filter it was left as it is".into(),
            );
        }
        Ok(reclaimed(freed, out))
    }

    fn image_layers_cmd(&mut self, o: &ImageLayersOptions, out: &mut Output) -> Result<u8> {
        let view = crate::view::layers::view(self, &o.image, o.changes)
            .map_err(|e| Failure(daemon_error(&e.to_string()), 1))?;
        let text = match o.format.as_deref() {
            None | Some("" | "table") => crate::cli::layers::render(&view, o.changes),
            Some("json") => crate::cli::layers::render_json(&view),
            Some(other) => {
                return Err(Failure(
                    format!("unsupported format \"{other}\": use \"json\" or \"table\""),
                    1,
                ));
            }
        };
        out.out(text);
        Ok(0)
    }

    fn history(&mut self, o: &HistoryOptions, out: &mut Output) -> Result<u8> {
        let Some(image) = self.find_image(&o.image) else {
            return Err(Failure(
                daemon_error(&format!("No such image: {}", image_shown(&o.image))),
                1,
            ));
        };
        let mut rows = Vec::new();
        let mut current = Some(image);
        let mut shown_id: Option<Digest> = Some(image.id);
        let mut remaining: Vec<(History, u64)> = history_with_sizes(self, image);
        while let Some(img) = current {
            let parent = img
                .parent
                .and_then(|p| self.state.images.iter().find(|i| i.id == p));
            let parent_len = parent.map_or(0, |p| p.config.history.len());
            while remaining.len() > parent_len {
                let (h, size) = remaining.pop().unwrap_or_default();
                rows.push(HistoryRow {
                    id: shown_id
                        .take()
                        .map_or_else(|| "<missing>".to_owned(), |d| d.to_string()),
                    created: h
                        .created
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .unwrap_or(img.created),
                    created_by: h.created_by.clone().unwrap_or_default(),
                    size,
                    comment: h.comment.clone().unwrap_or_default(),
                });
            }
            shown_id = parent.map(|p| p.id);
            current = parent;
        }
        let opts = RowOptions {
            trunc: !o.no_trunc,
            quiet: o.quiet,
            human: o.human,
            ..RowOptions::new(self.now())
        };
        print_list(&rows, o.format.as_deref(), &opts, out)
    }

    // ---- build --------------------------------------------------------------------------

    fn build(&mut self, o: &BuildOptions, out: &mut Output) -> Result<u8> {
        let Some(input) = self.build_input.take() else {
            return Err(Failure(
                format!(
                    "unable to prepare context: path \"{}\" not found",
                    o.context
                ),
                1,
            ));
        };
        let dockerfile_name = o.file.clone().unwrap_or_else(|| "Dockerfile".to_owned());
        let dockerfile = input
            .files
            .entry(dockerfile_name.trim_start_matches("./"))
            .and_then(|(_, e)| match &e.kind {
                crate::fs::EntryKind::File(data) => data.bytes().map(|b| String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
            .ok_or_else(|| {
                Failure(
                    format!("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}/{dockerfile_name}: no such file or directory", o.context),
                    1,
                )
            })?;
        let dockerignore = input
            .files
            .entry(".dockerignore")
            .and_then(|(_, e)| match &e.kind {
                crate::fs::EntryKind::File(data) => data
                    .bytes()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
                _ => None,
            });
        // What BuildKit sends as the context: the files, without the Dockerfile and
        // .dockerignore (which it transfers on their own).
        let context_size: u64 = input
            .files
            .iter()
            .filter(|(p, _)| {
                *p != dockerfile_name.trim_start_matches("./") && *p != ".dockerignore"
            })
            .filter_map(|(p, _)| input.files.entry(p))
            .map(|(_, e)| e.size())
            .sum();
        let context = BuildContext::new(input.files, dockerignore.as_deref())
            .map_err(|e| Failure(format!("ERROR: {e}"), 1))?;
        let tags = o
            .tags
            .iter()
            .map(|t| Reference::parse_normalized(t).map(Reference::with_default_tag))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| {
                Failure(
                    format!(
                        "invalid argument \"{}\" for \"-t, --tag\" flag: {e}",
                        o.tags.join(",")
                    ),
                    125,
                )
            })?;
        let now = self.now();
        let options = build::BuildOptions {
            build_args: key_values(&o.build_args),
            labels: key_values(&o.labels),
            target: o.target.clone(),
            no_cache: o.no_cache,
            created: Some(rfc3339(now)),
            mtime: now.unix_secs(),
            ..build::BuildOptions::default()
        };
        // FROM images: local ones first, then the base images ("pulled").
        let parsed = crate::dockerfile::parse(&dockerfile).ok();
        let mut sources: BTreeMap<Reference, BaseImage> = BTreeMap::new();
        let mut external = Vec::new();
        if let Some(parsed) = &parsed {
            for stage in &parsed.stages {
                if parsed
                    .stages
                    .iter()
                    .any(|s| s.name.as_deref() == Some(stage.base_name.as_str()))
                    || stage.base_name == "scratch"
                {
                    continue;
                }
                let Ok(r) =
                    Reference::parse_normalized(&stage.base_name).map(Reference::with_default_tag)
                else {
                    continue;
                };
                let local = self
                    .find_image(&stage.base_name)
                    .and_then(|i| BaseImage::new(i.config.clone(), self.image_layers(i)).ok());
                let found = local.clone().or_else(|| self.base_images.image(&r));
                external.push((r.clone(), local.is_some()));
                if let Some(b) = found {
                    sources.insert(r, b);
                }
            }
        }
        let mut events = Vec::new();
        let run_lines;
        let result = {
            let mut backend = RunVia {
                runner: self.runner.as_mut(),
                hostname: String::new(),
                now: now.unix_secs(),
                lines: Vec::new(),
            };
            let mut sink = |e: BuildEvent| events.push(e);
            let r = build::build(
                &dockerfile,
                &context,
                &options,
                &sources,
                &mut backend,
                &mut self.state.cache,
                &mut sink,
            );
            run_lines = std::mem::take(&mut backend.lines);
            r
        };
        let plan = super::progress::Plan {
            dockerfile_len: dockerfile.len(),
            context_size,
            bases: &external,
            events: &events,
            run_lines,
        };
        out.events.extend(events.iter().cloned().map(Event::Build));
        let tty = match o.progress.as_str() {
            "tty" => true,
            "plain" => false,
            _ => self.terminal,
        };
        let (progress, code) = match result {
            Ok(built) => {
                let id = built.id;
                let diff_ids = built.config.rootfs.diff_ids.clone();
                self.store_image(built.config, &built.layers, tags.clone(), None, out);
                self.record_build(id, &diff_ids, &events, built.sources);
                if o.quiet {
                    out.out(format!("{id}\n"));
                    return Ok(0);
                }
                (plan.success(&id, &tags), 0)
            }
            Err(e) => (plan.failure(&e.to_string()), 1),
        };
        if tty {
            out.progress = Some(progress);
        } else {
            out.err(progress.plain());
        }
        Ok(code)
    }

    // ---- containers ---------------------------------------------------------------------

    /// Creates a container (docker's `create`), returning its index.
    fn create(
        &mut self,
        o: &CreateOptions,
        out: &mut Output,
    ) -> std::result::Result<usize, String> {
        let resources = checked_resources(&o.resources, self.cpus)?;
        if o.pull == "never" && self.find_image(&o.image).is_none() {
            return Err(format!("No such image: {}", image_shown(&o.image)));
        }
        let image_index = self.image_or_pull(&o.image, out)?;
        let image = &self.state.images[image_index];
        if let Some(name) = &o.name {
            if !is_valid_name(name) {
                return Err(EngineError::InvalidName(name.clone()).to_string());
            }
            if let Some(c) = self.state.containers.iter().find(|c| c.name == *name) {
                return Err(EngineError::NameConflict {
                    name: name.clone(),
                    id: c.id.clone(),
                }
                .to_string());
            }
        }
        let cfg = &image.config.config;
        let entrypoint = match &o.entrypoint {
            Some(e) if e.is_empty() => Vec::new(),
            Some(e) => vec![e.clone()],
            None => cfg.entrypoint.clone().unwrap_or_default(),
        };
        let cmd = if o.command.is_empty() {
            if o.entrypoint.is_some() {
                Vec::new()
            } else {
                cfg.cmd.clone().unwrap_or_default()
            }
        } else {
            o.command.clone()
        };
        let mut env = cfg.env.clone().unwrap_or_default();
        for e in &o.env {
            let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
            env.retain(|x| x.split_once('=').map_or(x.as_str(), |(k, _)| k) != key);
            env.push(e.clone());
        }
        let mut labels = cfg.labels.clone().unwrap_or_default();
        for l in &o.labels {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            labels.insert(k.to_owned(), v.to_owned());
        }
        let mut exposed: Vec<String> = cfg
            .exposed_ports
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for e in &o.expose {
            if !exposed.contains(e) {
                exposed.push(e.clone());
            }
        }
        let network = o.network.clone().unwrap_or_else(|| "default".to_owned());
        if !["default", "bridge", "host", "none"].contains(&network.as_str()) {
            return Err(format!("network {network} not found"));
        }
        let mut publish = o.publish.clone();
        if o.publish_all {
            // `-P`: every exposed port on a host port the engine picks
            for e in &exposed {
                if let Ok(spec) = crate::cli::command::PublishSpec::parse(e)
                    && !publish
                        .iter()
                        .any(|p| p.container_ports == spec.container_ports && p.proto == spec.proto)
                {
                    publish.push(spec);
                }
            }
        }
        let mut ports = Vec::new();
        for p in &publish {
            for k in 0..=(p.container_ports.last - p.container_ports.first) {
                let private = p.container_ports.first + k;
                let public = p.host_ports.map_or(32768 + private % 1000, |h| h.first + k);
                let key = format!("{private}/{}", p.proto);
                if !exposed.contains(&key) {
                    exposed.push(key);
                }
                let ips: Vec<&str> = if p.host_ip.is_empty() {
                    vec!["0.0.0.0", "::"]
                } else {
                    vec![p.host_ip.as_str()]
                };
                for ip in ips {
                    ports.push(PortBinding {
                        ip: ip.to_owned(),
                        private_port: private,
                        public_port: public,
                        proto: p.proto.clone(),
                    });
                }
            }
        }
        for e in &exposed {
            let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
            if let Ok(port) = port.parse::<u16>()
                && !ports.iter().any(|b| b.private_port == port)
            {
                ports.push(PortBinding {
                    ip: String::new(),
                    private_port: port,
                    public_port: 0,
                    proto: proto.to_owned(),
                });
            }
        }
        let image_id = image.id;
        let image_volumes: Vec<String> = cfg
            .volumes
            .as_ref()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        let spec = ContainerSpec {
            env,
            entrypoint,
            cmd,
            workdir: o
                .workdir
                .clone()
                .or_else(|| cfg.working_dir.clone())
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "/".to_owned()),
            user: o
                .user
                .clone()
                .or_else(|| cfg.user.clone())
                .unwrap_or_default(),
            tty: o.tty,
            interactive: o.interactive,
            auto_remove: o.rm,
            restart: o.restart,
            labels,
            exposed,
            detached: false,
            network,
            resources,
            hostname: o.hostname.clone().filter(|h| !h.is_empty()),
        };
        let mounts = self.mounts_for(&o.volumes, &o.mounts, &image_volumes)?;
        let id = self.ids.hex_id();
        let name = match &o.name {
            Some(n) => n.clone(),
            None => loop {
                let n = random_name(self.ids.as_mut());
                if !self.state.containers.iter().any(|c| c.name == n) {
                    break n;
                }
            },
        };
        let now = self.now();
        self.state.containers.push(Container {
            id: id.clone(),
            name: name.clone(),
            image: image_id,
            image_name: o.image.clone(),
            spec,
            ports,
            created: now,
            state: ContainerState::Created,
            started_at: None,
            finished_at: None,
            exit_code: 0,
            restart_count: 0,
            oom_killed: false,
            mounts,
            etc_files: BTreeMap::new(),
            upper: Layer::new(),
            logs: Vec::new(),
            process: Process::Finished,
            pid: 0,
        });
        out.events.push(Event::ContainerState {
            id,
            name,
            from: None,
            to: ContainerState::Created,
        });
        Ok(self.state.containers.len() - 1)
    }

    /// The first half of `run`: creates the container from `o` (pulling a missing image as
    /// `run` does), reporting a refusal as `run` does (`docker: Error response from daemon: …`,
    /// its help hint, exit 125); 0 once created. For front ends that start the container
    /// themselves (the Linux engine).
    pub fn create_for_run(&mut self, o: &CreateOptions, out: &mut Output) -> u8 {
        self.tick(out);
        match self.create(o, out) {
            Ok(_) => 0,
            Err(message) => {
                let (text, code) = run_failure(self.program(), &message, RunStage::Create);
                out.err(format!("{text}\n"));
                code
            }
        }
    }

    fn create_cmd(&mut self, o: &CreateOptions, out: &mut Output) -> Result<u8> {
        // docker's `create` prints the daemon's error as it is, with exit code 1.
        match self.create(o, out) {
            Ok(i) => {
                out.out(format!("{}\n", self.state.containers[i].id));
                Ok(0)
            }
            Err(message) => Err(Failure(daemon_error(&message), 1)),
        }
    }

    /// Starts container `i`'s main process. Short commands run to completion here; their
    /// output goes to the logs. Returns the new output.
    pub(super) fn start(
        &mut self,
        i: usize,
        out: &mut Output,
    ) -> std::result::Result<Vec<(Stream, String)>, EngineError> {
        let c = &self.state.containers[i];
        c.state.check(Action::Start, &c.id)?;
        if !c.state.can_start() {
            return Ok(Vec::new());
        }
        let argv = c.argv();
        let Some(program) = argv.first().cloned() else {
            return Err(super::StartError::NoCommand.into());
        };
        let (mut fs, mounted) = self.mount(i)?;
        let c = &self.state.containers[i];
        let now = self.now();
        let shell = matches!(
            program.rsplit('/').next(),
            Some("sh" | "bash" | "ash" | "dash")
        ) && argv.len() == 1;
        // `-i` with a shell: a person types into it (a session, or waiting for input where the
        // front end cannot block), or, for a front end that blocks with no one typing, it
        // reads the input given (`echo ls | docker run -i img sh`) and ends at its end.
        let reads_stdin = shell && c.spec.interactive && self.follows && !self.interactive;
        let request = ProcessRequest {
            argv: argv.clone(),
            env: c.spec.env.clone(),
            workdir: c.spec.workdir.clone(),
            user: c.spec.user.clone(),
            hostname: c.hostname().to_owned(),
            stdin: if reads_stdin {
                std::mem::take(&mut self.stdin)
            } else {
                Vec::new()
            },
            now: now.unix_secs(),
        };
        self.check_executable(&fs, &program, &c.spec.env)?;
        let (process, output, status) = if shell && c.spec.interactive && !reads_stdin {
            (Process::Shell, Vec::new(), 0)
        } else if reads_stdin && request.stdin.is_empty() {
            (Process::Finished, Vec::new(), 0)
        } else if let Some((process, logs)) = recognise(&fs, &request, now) {
            if process == Process::Idle {
                out.notices.push(format!(
                    "simulated: `{}` is not modelled; the container runs without output",
                    argv.join(" ")
                ));
            }
            (process, logs, 0)
        } else {
            let result = self.runner.run(&mut fs, &request);
            let process = if result.seconds > 0 {
                Process::Exits {
                    at: Timestamp(
                        now.0
                            .saturating_add(result.seconds.saturating_mul(1_000_000_000)),
                    ),
                    status: result.status,
                }
            } else {
                Process::Finished
            };
            (process, result.output, result.status)
        };
        self.unmount(i, fs, mounted, out);
        self.state.next_pid += 1;
        let pid = 1000 + self.state.next_pid;
        let c = &mut self.state.containers[i];
        c.pid = pid;
        c.logs.extend(output.iter().map(|(s, t)| LogEntry {
            stream: *s,
            time: now,
            text: t.clone(),
        }));
        let finished = process == Process::Finished;
        c.process = process;
        self.set_state(i, ContainerState::Running, out);
        if finished {
            self.exited(i, status, out);
        }
        Ok(output)
    }

    /// docker's check that the main program exists and may run.
    fn check_executable(
        &self,
        fs: &UnionFs,
        program: &str,
        env: &[String],
    ) -> std::result::Result<(), EngineError> {
        if program.contains('/') {
            return match fs.stat(program) {
                Ok(st) if st.mode & 0o111 == 0 || st.file_type == crate::fs::FileType::Dir => {
                    Err(super::StartError::PermissionDenied(program.to_owned()).into())
                }
                Ok(_) => Ok(()),
                Err(_) if self.runner.provides(program) => Ok(()),
                Err(_) => Err(super::StartError::NoSuchFile(program.to_owned()).into()),
            };
        }
        let path = env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        let found = path.split(':').any(|dir| {
            fs.stat(&format!("{dir}/{program}"))
                .is_ok_and(|s| s.file_type != crate::fs::FileType::Dir && s.mode & 0o111 != 0)
        });
        if found || self.runner.provides(program) {
            Ok(())
        } else {
            Err(super::StartError::NotFound(program.to_owned()).into())
        }
    }

    fn start_cmd(&mut self, names: &[String], attach: bool, out: &mut Output) -> Result<u8> {
        let mut failed = Vec::new();
        let mut errors = Vec::new();
        let mut code = 0;
        for name in names {
            match self.find_container(name) {
                Ok(i) => {
                    let id = self.state.containers[i].id.clone();
                    match self.start(i, out) {
                        Ok(output) if attach => {
                            for (s, t) in output {
                                out.write(s, t);
                            }
                            if let Ok(i) = self.find_container(&id) {
                                let c = &self.state.containers[i];
                                code = u8::try_from(c.exit_code & 0xff).unwrap_or(1);
                                if c.state.is_up() && self.follows {
                                    out.follow = Some(Follow::new(
                                        FollowKind::Attach {
                                            sig_proxy: true,
                                            tty: c.spec.tty,
                                        },
                                        vec![id],
                                        c.logs.len(),
                                    ));
                                }
                            }
                        }
                        Ok(_) => out.out(format!("{name}\n")),
                        Err(e) => {
                            errors.push(daemon_error(&e.to_string()));
                            failed.push(name.clone());
                        }
                    }
                }
                Err(e) => {
                    errors.push(daemon_error(&e.to_string()));
                    failed.push(name.clone());
                }
            }
        }
        if failed.is_empty() {
            return Ok(code);
        }
        errors.push(crate::cli::report::failed_to_start(&failed));
        Err(Failure(errors.join("\n"), 1))
    }

    fn run(&mut self, o: &RunOptions, out: &mut Output) -> Result<u8> {
        let i = self.create(&o.create, out).map_err(|m| {
            let (text, code) = run_failure(self.program(), &m, RunStage::Create);
            Failure(text, code)
        })?;
        self.state.containers[i].spec.detached = o.detach;
        let id = self.state.containers[i].id.clone();
        match self.start(i, out) {
            Ok(output) => {
                let Ok(i) = self.find_container(&id) else {
                    return Ok(0);
                };
                let c = &self.state.containers[i];
                if o.detach {
                    out.out(format!("{id}\n"));
                    return Ok(0);
                }
                for (s, t) in output {
                    out.write(s, t);
                }
                if c.process == Process::Shell && self.interactive {
                    out.session = Some(SessionRequest {
                        container: id,
                        argv: c.argv(),
                        env: c.spec.env.clone(),
                        workdir: c.spec.workdir.clone(),
                        user: c.spec.user.clone(),
                        main: true,
                    });
                    return Ok(0);
                }
                if c.state.is_up() && self.follows {
                    out.follow = Some(Follow::new(
                        FollowKind::Attach {
                            sig_proxy: o.sig_proxy,
                            tty: c.spec.tty,
                        },
                        vec![id],
                        c.logs.len(),
                    ));
                    return Ok(0);
                }
                if c.state.is_up() {
                    out.notices.push(format!(
                        "simulated: container {} keeps running; layerbox returns at once (use `docker logs`, `docker stop {}`)",
                        c.short_id(),
                        c.name
                    ));
                    return Ok(0);
                }
                let code = c.exit_code;
                if c.spec.auto_remove {
                    self.remove_container(i, out);
                }
                Ok(u8::try_from(code & 0xff).unwrap_or(1))
            }
            Err(e) => {
                let program = self.program().to_owned();
                let (text, code) = run_failure(&program, &e.to_string(), RunStage::Start);
                if let Ok(i) = self.find_container(&id) {
                    self.state.containers[i].exit_code = i32::from(code);
                    if self.state.containers[i].spec.auto_remove {
                        self.remove_container(i, out);
                    }
                }
                Err(Failure(text, code))
            }
        }
    }

    fn rm(&mut self, o: &RmOptions, out: &mut Output) -> Result<u8> {
        let mut errors = Vec::new();
        for name in &o.containers {
            let i = match self.find_container(name) {
                Ok(i) => i,
                Err(EngineError::NoSuchContainer(_)) => {
                    errors.push(not_found("container", name));
                    continue;
                }
                Err(e) => {
                    errors.push(daemon_error(&e.to_string()));
                    continue;
                }
            };
            let c = &self.state.containers[i];
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
                self.state.containers[i].exit_code = 137;
                self.set_state(i, ContainerState::Exited, out);
            }
            let removed = self.state.containers[i].clone();
            self.remove_container(i, out);
            if o.volumes {
                self.remove_anonymous_volumes(&removed);
            }
            out.out(format!("{name}\n"));
        }
        joined(&errors)
    }

    fn container_prune(&mut self, o: &PruneOptions, out: &mut Output) -> Result<u8> {
        let filter = self.prune_filter(o, CONTAINER_PRUNE_FILTERS)?;
        confirm(
            o,
            "WARNING! This will remove all stopped containers.\n",
            out,
        );
        let freed = self.prune_containers(&filter, out);
        Ok(reclaimed(freed, out))
    }

    /// `container prune`'s work and its `Deleted Containers:` section; returns the bytes freed.
    fn prune_containers(&mut self, filter: &PruneFilter, out: &mut Output) -> u64 {
        let mut removed = Vec::new();
        let mut freed = 0;
        while let Some(i) =
            self.state.containers.iter().position(|c| {
                c.state.is_prunable() && filter.admits(c.created, Some(&c.spec.labels))
            })
        {
            removed.push(self.state.containers[i].id.clone());
            freed += self.state.containers[i].upper.size();
            self.remove_container(i, out);
        }
        if !removed.is_empty() {
            out.out("Deleted Containers:\n");
            for id in removed {
                out.out(format!("{id}\n"));
            }
            out.out("\n");
        }
        freed
    }

    fn ps(&mut self, o: &PsOptions, out: &mut Output) -> Result<u8> {
        let status = filter_values(&o.filters, "status");
        let names = filter_values(&o.filters, "name");
        let ids = filter_values(&o.filters, "id");
        let all = o.all || !status.is_empty() || o.last > 0 || o.latest;
        let mut rows = Vec::new();
        for c in self.state.containers.iter().rev() {
            if !all && !c.state.is_up() {
                continue;
            }
            if !status.is_empty() && !status.iter().any(|s| *s == c.state.name()) {
                continue;
            }
            if !names.is_empty() && !names.iter().any(|n| c.name.contains(*n)) {
                continue;
            }
            if !ids.is_empty() && !ids.iter().any(|n| c.id.starts_with(*n)) {
                continue;
            }
            rows.push(self.ps_row(c, o.size));
        }
        let limit = if o.latest {
            1
        } else {
            usize::try_from(o.last).unwrap_or(0)
        };
        if limit > 0 {
            rows.truncate(limit);
        }
        let opts = RowOptions {
            trunc: !o.no_trunc,
            quiet: o.quiet,
            size: o.size,
            ..RowOptions::new(self.now())
        };
        print_list(&rows, o.format.as_deref(), &opts, out)
    }

    fn ps_row(&self, c: &Container, size: bool) -> PsRow {
        let argv = c.argv();
        let (path, args) = argv
            .split_first()
            .map_or((String::new(), Vec::new()), |(p, a)| {
                (p.clone(), a.to_vec())
            });
        let image = self.state.images.iter().find(|i| i.id == c.image);
        let image_name = match image {
            Some(i) if self.find_image(&c.image_name).is_some_and(|f| f.id == i.id) => {
                c.image_name.clone()
            }
            _ => c.image.to_string(),
        };
        PsRow {
            id: c.id.clone(),
            image: image_name,
            image_id: c.image.to_string(),
            command: ps_command(&path, &args),
            created: c.created,
            status: Self::status(c),
            ports: if c.state == ContainerState::Running || c.state == ContainerState::Paused {
                c.ports.clone()
            } else {
                c.ports
                    .iter()
                    .filter(|p| p.public_port == 0)
                    .cloned()
                    .collect()
            },
            names: vec![format!("/{}", c.name)],
            size_rw: size.then(|| c.upper.size()),
            size_root_fs: size.then(|| c.upper.size() + image.map_or(0, |i| self.image_size(i))),
            labels: c
                .spec
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            mounts: c
                .mounts
                .iter()
                .map(|m| match m.kind {
                    super::MountKind::Volume => m.name.clone(),
                    super::MountKind::Bind => m.source.clone(),
                    super::MountKind::Tmpfs => String::new(),
                })
                .collect(),
            local_volumes: c
                .mounts
                .iter()
                .filter(|m| m.kind == super::MountKind::Volume)
                .count(),
            networks: vec!["bridge".into()],
        }
    }

    fn status(c: &Container) -> StatusSummary {
        let started_at = c.started_at.unwrap_or(c.created);
        let finished_at = c.finished_at.unwrap_or(c.created);
        match c.state {
            ContainerState::Created => StatusSummary::Created,
            ContainerState::Running => StatusSummary::Running { started_at },
            ContainerState::Paused => StatusSummary::Paused { started_at },
            ContainerState::Restarting => StatusSummary::Restarting {
                exit_code: c.exit_code,
                finished_at,
            },
            ContainerState::Exited => StatusSummary::Exited {
                exit_code: c.exit_code,
                finished_at,
            },
            ContainerState::Removed => StatusSummary::RemovalInProgress,
        }
    }

    fn exec(&mut self, o: &ExecOptions, out: &mut Output) -> Result<u8> {
        let i = self.find_container(&o.container).map_err(|e| daemon(&e))?;
        let c = &self.state.containers[i];
        c.state
            .check(Action::Exec, &c.id)
            .map_err(|e| daemon(&e.into()))?;
        let mut env = c.spec.env.clone();
        env.extend(o.env.iter().cloned());
        let program = o.command.first().cloned().unwrap_or_default();
        let fs = self.container_fs(c).map_err(|e| daemon(&e))?;
        if let Err(e) = self.check_executable(&fs, &program, &env) {
            let text = e.to_string().replace("failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ", "OCI runtime exec failed: ");
            let code = if matches!(
                e,
                EngineError::Start(super::StartError::PermissionDenied(_))
            ) {
                126
            } else {
                127
            };
            out.out(format!("{text}\n"));
            return Ok(code);
        }
        let now = self.now();
        let interactive_shell = o.command.len() == 1
            && matches!(
                program.rsplit('/').next(),
                Some("sh" | "bash" | "ash" | "dash")
            )
            && o.interactive;
        if interactive_shell && self.interactive {
            out.session = Some(SessionRequest {
                container: c.id.clone(),
                argv: o.command.clone(),
                env,
                workdir: o.workdir.clone().unwrap_or_else(|| c.spec.workdir.clone()),
                user: o.user.clone().unwrap_or_else(|| c.spec.user.clone()),
                main: false,
            });
            return Ok(0);
        }
        let stdin = std::mem::take(&mut self.stdin);
        if interactive_shell && stdin.is_empty() {
            out.notices.push(format!(
                "simulated: an interactive shell in {} opened and closed (no input given)",
                c.name
            ));
            return Ok(0);
        }
        let request = ProcessRequest {
            argv: o.command.clone(),
            env,
            workdir: o.workdir.clone().unwrap_or_else(|| c.spec.workdir.clone()),
            user: o.user.clone().unwrap_or_else(|| c.spec.user.clone()),
            hostname: c.hostname().to_owned(),
            stdin,
            now: now.unix_secs(),
        };
        let (mut fs, mounted) = self.mount(i).map_err(|e| daemon(&e))?;
        let result = self.runner.run(&mut fs, &request);
        self.unmount(i, fs, mounted, out);
        for (s, t) in result.output {
            out.write(s, t);
        }
        Ok(u8::try_from(result.status & 0xff).unwrap_or(1))
    }

    fn logs(&mut self, o: &LogsOptions, out: &mut Output) -> Result<u8> {
        // docker's CLI inspects the container first and reports a missing one itself.
        let i = self.find_container(&o.container).map_err(|e| match e {
            EngineError::NoSuchContainer(_) => Failure(format!("Error: {e}"), 1),
            other => daemon(&other),
        })?;
        let c = &self.state.containers[i];
        let mut lines: Vec<(Stream, Timestamp, String)> = Vec::new();
        for entry in &c.logs {
            for line in entry.text.split_inclusive('\n') {
                lines.push((entry.stream, entry.time, line.to_owned()));
            }
        }
        if let Ok(n) = o.tail.parse::<usize>() {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        for (stream, time, line) in lines {
            let text = if o.timestamps {
                format!("{} {line}", rfc3339_nano(time))
            } else {
                line
            };
            out.write(stream, text);
        }
        if o.follow && c.state.is_up() && self.follows {
            out.follow = Some(Follow::new(
                FollowKind::Logs {
                    timestamps: o.timestamps,
                },
                vec![c.id.clone()],
                c.logs.len(),
            ));
        } else if o.follow && c.state.is_up() {
            out.notices
                .push("simulated: --follow shows the logs so far and returns".into());
        }
        Ok(0)
    }

    fn diff(&mut self, name: &str, out: &mut Output) -> Result<u8> {
        let i = self.find_container(name).map_err(|e| daemon(&e))?;
        let fs = self
            .container_fs(&self.state.containers[i])
            .map_err(|e| daemon(&e))?;
        for change in fs.changes() {
            out.out(format!("{change}\n"));
        }
        Ok(0)
    }

    fn commit(&mut self, o: &CommitOptions, out: &mut Output) -> Result<u8> {
        let i = self.find_container(&o.container).map_err(|e| daemon(&e))?;
        let c = self.state.containers[i].clone();
        let Some(image) = self
            .state
            .images
            .iter()
            .find(|img| img.id == c.image)
            .cloned()
        else {
            return Err(Failure(
                daemon_error(&format!("No such image: {}", c.image)),
                1,
            ));
        };
        let reference = o
            .reference
            .as_deref()
            .map(|r| Reference::parse_normalized(r).map(Reference::with_default_tag))
            .transpose()
            .map_err(|e| Failure(format!("Error: {e}"), 1))?;
        let now = self.now();
        let mut config: ImageConfig = image.config.clone();
        config.created = Some(rfc3339(now));
        config.author.clone_from(&o.author);
        config.config.env = Some(c.spec.env.clone());
        config.config.cmd = (!c.spec.cmd.is_empty()).then(|| c.spec.cmd.clone());
        config.config.entrypoint =
            (!c.spec.entrypoint.is_empty()).then(|| c.spec.entrypoint.clone());
        config.config.working_dir = (c.spec.workdir != "/").then(|| c.spec.workdir.clone());
        for change in &o.changes {
            apply_change(&mut config, change).map_err(|e| Failure(daemon_error(&e), 1))?;
        }
        let layer = Arc::new(c.upper.clone());
        let (diff_id, _) = crate::fs::tar::diff_id(&layer, &crate::fs::tar::TarOptions::default());
        let argv = c.argv();
        let (path, args) = argv
            .split_first()
            .map_or((String::new(), Vec::new()), |(p, a)| {
                (p.clone(), a.to_vec())
            });
        config.rootfs.diff_ids.push(diff_id);
        config.history.push(History {
            created: Some(rfc3339(now)),
            created_by: Some(ps_command(&path, &args)),
            author: o.author.clone(),
            comment: o.message.clone(),
            empty_layer: false,
        });
        let mut layers = self.image_layers(&image);
        layers.push(layer);
        let index = self.store_image(
            config,
            &layers,
            reference.into_iter().collect(),
            Some(image.id),
            out,
        );
        self.state.images[index].created = now;
        self.record_commit(index, &c);
        out.out(format!("{}\n", self.state.images[index].id));
        Ok(0)
    }

    fn system_df(&mut self, out: &mut Output) -> Result<u8> {
        let used: Vec<Digest> = self.state.containers.iter().map(|c| c.image).collect();
        let mut layer_total = 0;
        let mut layer_free = 0;
        for (d, layer) in &self.state.layers {
            layer_total += layer.size();
            let in_use = self
                .state
                .images
                .iter()
                .any(|i| used.contains(&i.id) && i.config.rootfs.diff_ids.contains(d));
            if !in_use {
                layer_free += layer.size();
            }
        }
        let active_images = self
            .state
            .images
            .iter()
            .filter(|i| used.contains(&i.id))
            .count();
        let containers = &self.state.containers;
        let (volumes, active_volumes, volume_size, volume_free) = self.volume_usage();
        let rows = vec![
            DiskUsageRow {
                kind: "Images".into(),
                total: self.state.images.len(),
                active: active_images,
                size: layer_total,
                reclaimable: layer_free,
                percent: true,
            },
            DiskUsageRow {
                kind: "Containers".into(),
                total: containers.len(),
                active: containers.iter().filter(|c| c.state.is_up()).count(),
                size: containers.iter().map(|c| c.upper.size()).sum(),
                reclaimable: containers
                    .iter()
                    .filter(|c| !c.state.is_up())
                    .map(|c| c.upper.size())
                    .sum(),
                percent: true,
            },
            DiskUsageRow {
                kind: "Local Volumes".into(),
                total: volumes,
                active: active_volumes,
                size: volume_size,
                reclaimable: volume_free,
                percent: true,
            },
            DiskUsageRow {
                kind: "Build Cache".into(),
                total: self.state.cache.len(),
                active: 0,
                size: 0,
                reclaimable: 0,
                percent: false,
            },
        ];
        let text = render_list(&rows, "", &RowOptions::new(self.now()))
            .map_err(|e| Failure(e.to_string(), 1))?;
        out.out(text);
        Ok(0)
    }

    fn port(&mut self, name: &str, private: Option<&str>, out: &mut Output) -> Result<u8> {
        let i = self.find_container(name).map_err(|e| daemon(&e))?;
        let c = &self.state.containers[i];
        let ports: Vec<PortBinding> = if c.state.is_up() {
            c.ports
                .iter()
                .filter(|p| p.public_port != 0)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let lines = port_lines(&ports, private);
        if lines.is_empty()
            && let Some(p) = private
        {
            return Err(Failure(
                format!(
                    "Error: No public port '{}' published for {name}",
                    if p.contains('/') {
                        p.to_owned()
                    } else {
                        format!("{p}/tcp")
                    }
                ),
                1,
            ));
        }
        for line in lines {
            out.out(format!("{line}\n"));
        }
        Ok(0)
    }

    fn rename(&mut self, name: &str, new_name: &str, out: &mut Output) -> Result<u8> {
        // docker's CLI adds a line of its own under the daemon's error.
        self.rename_container(name, new_name, out)
            .map_err(|Failure(text, code)| {
                Failure(
                    format!("{text}\nError: failed to rename container named {name}"),
                    code,
                )
            })
    }

    fn rename_container(&mut self, name: &str, new_name: &str, out: &mut Output) -> Result<u8> {
        let i = self.find_container(name).map_err(|e| daemon(&e))?;
        if !is_valid_name(new_name) {
            return Err(daemon(&EngineError::InvalidName(new_name.to_owned())));
        }
        if let Some(c) = self.state.containers.iter().find(|c| c.name == new_name) {
            return Err(daemon(&EngineError::Other(format!(
                "Error when allocating new name: Conflict. The container name \"/{new_name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                c.id
            ))));
        }
        new_name.clone_into(&mut self.state.containers[i].name);
        out.events.push(Event::ContainerRenamed {
            id: self.state.containers[i].id.clone(),
            name: new_name.to_owned(),
        });
        Ok(0)
    }

    fn top(&mut self, name: &str, out: &mut Output) -> Result<u8> {
        let i = self.find_container(name).map_err(|e| daemon(&e))?;
        let c = &self.state.containers[i];
        c.state
            .check(Action::Top, &c.id)
            .map_err(|e| daemon(&e.into()))?;
        let started = c
            .started_at
            .map_or_else(String::new, |t| rfc3339(t)[11..16].to_owned());
        let titles: Vec<String> = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let user = if c.spec.user.is_empty() {
            "root".to_owned()
        } else {
            c.spec.user.clone()
        };
        let tty = if c.spec.tty { "pts/0" } else { "?" };
        let row = vec![
            user,
            c.pid.to_string(),
            "1".into(),
            "0".into(),
            started,
            tty.into(),
            "00:00:00".into(),
            c.argv().join(" "),
        ];
        out.out(render_top(&titles, &[row]));
        Ok(0)
    }

    fn wait(&mut self, names: &[String], out: &mut Output) -> Result<u8> {
        if self.follows {
            let mut ids = Vec::new();
            let mut errors = Vec::new();
            for name in names {
                match self.find_container(name) {
                    Ok(i) => ids.push(self.state.containers[i].id.clone()),
                    Err(e) => errors.push(daemon_error(&e.to_string())),
                }
            }
            if !errors.is_empty() {
                return joined(&errors);
            }
            let mut follow = Follow::new(FollowKind::Wait, ids, 0);
            if self.poll(&mut follow, out).is_none() {
                out.follow = Some(follow);
            }
            return Ok(0);
        }
        let mut errors = Vec::new();
        for name in names {
            match self.find_container(name) {
                Ok(i) => {
                    let c = &self.state.containers[i];
                    if c.state.is_up() {
                        out.notices.push(format!("simulated: {name} is still running; docker wait would block until it stops"));
                    } else {
                        out.out(format!("{}\n", c.exit_code));
                    }
                }
                Err(e) => errors.push(daemon_error(&e.to_string())),
            }
        }
        joined(&errors)
    }

    fn version(format: Option<&str>, out: &mut Output) -> Result<u8> {
        // Where Docker CE says "Docker Engine - Community": what answers here.
        let info = crate::cli::version::version_record(
            SIMULATED_ENGINE,
            &[
                json!({"Name": "Engine", "Version": "20.10.24+dfsg1", "Details": {
                    "ApiVersion": "1.41", "MinAPIVersion": "1.12", "GoVersion": "go1.19.8",
                    "GitCommit": "5d6db84", "BuildTime": "Tue Jul  4 12:00:00 2023",
                    "Os": "linux", "Arch": "amd64", "Experimental": "false"}}),
                json!({"Name": "layerbox", "Version": crate::VERSION, "Details": {"Engine": "simulated"}}),
            ],
        );
        let text = crate::cli::version::render_version(&info, format)
            .map_err(|e| Failure(e.to_string(), 1))?;
        out.out(text);
        Ok(0)
    }

    fn info(&mut self, format: Option<&str>, out: &mut Output) -> Result<u8> {
        let cs = &self.state.containers;
        let server = crate::cli::info::ServerInfo {
            platform_name: SIMULATED_ENGINE.into(),
            containers: cs.len() as u64,
            containers_running: cs
                .iter()
                .filter(|c| c.state == ContainerState::Running)
                .count() as u64,
            containers_paused: cs
                .iter()
                .filter(|c| c.state == ContainerState::Paused)
                .count() as u64,
            containers_stopped: cs.iter().filter(|c| !c.state.is_up()).count() as u64,
            images: self.state.images.len() as u64,
            server_version: "20.10.24+dfsg1".into(),
            driver: "overlay2 (simulated)".into(),
            logging_driver: "json-file".into(),
            cgroup_driver: "none".into(),
            cgroup_version: "2".into(),
            default_runtime: "layerbox-sim".into(),
            runtimes: vec!["layerbox-sim".into()],
            os_type: "linux".into(),
            kernel_version: "simulated".into(),
            operating_system: "layerbox simulated engine".into(),
            architecture: "x86_64".into(),
            ncpu: self.cpus.unsigned_abs(),
            name: "layerbox".into(),
            docker_root_dir: "/var/lib/docker".into(),
            index_server_address: "https://index.docker.io/v1/".into(),
            swarm: "inactive".into(),
            labels: vec!["com.layerbox.engine=simulated".into()],
            ..Default::default()
        };
        let client = crate::cli::info::ClientInfo {
            context: "default".into(),
            debug: false,
        };
        let text = crate::cli::info::render_info(&client, Some(&server), format)
            .map_err(|e| Failure(e.to_string(), 1))?;
        out.out(text);
        Ok(0)
    }
}

/// docker's commit `-c` changes the simulation supports.
#[allow(clippy::zero_sized_map_values)] // `{"80/tcp": {}}` is docker's JSON shape for sets
pub(super) fn apply_change(
    config: &mut ImageConfig,
    change: &str,
) -> std::result::Result<(), String> {
    let (keyword, rest) = change
        .trim()
        .split_once(char::is_whitespace)
        .unwrap_or((change, ""));
    let rest = rest.trim();
    let list = || -> Vec<String> {
        serde_json::from_str::<Vec<String>>(rest)
            .unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), rest.to_owned()])
    };
    let c = &mut config.config;
    match keyword.to_uppercase().as_str() {
        "CMD" => c.cmd = Some(list()),
        "ENTRYPOINT" => c.entrypoint = Some(list()),
        "WORKDIR" => c.working_dir = Some(rest.to_owned()),
        "USER" => c.user = Some(rest.to_owned()),
        "ENV" => {
            let (k, v) = rest.split_once(['=', ' ']).unwrap_or((rest, ""));
            let env = c.env.get_or_insert_with(Vec::new);
            env.retain(|e| e.split_once('=').map_or(e.as_str(), |(n, _)| n) != k);
            env.push(format!("{k}={}", v.trim()));
        }
        "EXPOSE" => {
            let port = if rest.contains('/') {
                rest.to_owned()
            } else {
                format!("{rest}/tcp")
            };
            c.exposed_ports
                .get_or_insert_with(BTreeMap::new)
                .insert(port, crate::image::Empty {}); // docker's JSON shape for sets
        }
        "LABEL" => {
            let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
            c.labels
                .get_or_insert_with(BTreeMap::new)
                .insert(k.to_owned(), v.trim_matches('"').to_owned());
        }
        other => return Err(format!("{other} is not a valid change command")),
    }
    Ok(())
}

/// The history entries of an image with each entry's layer size.
/// How the daemon names an image it did not find: a reference with its default tag
/// (`nosuch:latest`), anything else as given (`sha256:1234`).
fn image_shown(name: &str) -> String {
    Reference::parse_normalized(name)
        .map_or_else(|_| name.to_owned(), |r| r.with_default_tag().familiar())
}

fn history_with_sizes(engine: &Engine, image: &Image) -> Vec<(History, u64)> {
    let layers = engine.image_layers(image);
    let mut k = 0;
    image
        .config
        .history
        .iter()
        .map(|h| {
            let size = if h.empty_layer {
                0
            } else {
                k += 1;
                layers.get(k - 1).map_or(0, |l| l.size())
            };
            (h.clone(), size)
        })
        .collect()
}

/// OCI chain IDs of a layer list.
/// The filters `container prune` accepts (dockerd's `containersAcceptedFilters`).
const CONTAINER_PRUNE_FILTERS: &[&str] = &["until", "label", "label!"];
/// The filters `image prune` accepts.
const IMAGE_PRUNE_FILTERS: &[&str] = &["dangling", "until", "label", "label!"];

/// A prune's question (`warning` then `Are you sure…`) unless `-f`; the simulation answers y
/// and says so.
pub(super) fn confirm(o: &PruneOptions, warning: &str, out: &mut Output) {
    if !o.force {
        out.out(format!(
            "{warning}Are you sure you want to continue? [y/N] "
        ));
        out.notices
            .push("simulated: the prompt was answered y".into());
    }
}

/// A prune's last line; its exit code.
pub(super) fn reclaimed(freed: u64, out: &mut Output) -> u8 {
    out.out(format!("Total reclaimed space: {}\n", human_size(freed)));
    0
}

fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::new();
    for d in diff_ids {
        let next = match out.last() {
            None => *d,
            Some(prev) => Digest::sha256_of(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

fn filter_value<'a>(filters: &'a [Filter], name: &str) -> Option<&'a str> {
    filters
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_str())
}

fn filter_values<'a>(filters: &'a [Filter], name: &str) -> Vec<&'a str> {
    filters
        .iter()
        .filter(|f| f.name == name)
        .map(|f| f.value.as_str())
        .collect()
}

/// `2026-11-26T10:00:00.000000000Z`.
pub(super) fn rfc3339_nano(t: Timestamp) -> String {
    let s = rfc3339(t);
    format!("{}.{:09}Z", &s[..19], t.0.rem_euclid(1_000_000_000))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac]Z` (what the engine writes) back into a timestamp.
pub(super) fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let bytes = s.as_bytes();
    if bytes.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days = crate::cli::units::days_from_civil(year, month, day);
    let mut nanos = 0;
    if let Some(frac) = s
        .get(20..)
        .and_then(|f| f.strip_suffix('Z'))
        .filter(|_| bytes[19] == b'.')
    {
        let digits: String = frac.chars().take(9).collect();
        nanos = format!("{digits:0<9}").parse().ok()?;
    }
    Some(Timestamp(
        (days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000 + nanos,
    ))
}

/// The builder's `RUN` steps on the engine's process runner, keeping their output for the
/// progress display.
struct RunVia<'a> {
    runner: &'a mut dyn super::ProcessRunner,
    hostname: String,
    now: i64,
    lines: Vec<Vec<String>>,
}

impl RunBackend for RunVia<'_> {
    fn run(&mut self, fs: &mut UnionFs, request: &RunRequest) -> std::result::Result<i32, String> {
        let result = self.runner.run(
            fs,
            &ProcessRequest {
                argv: request.argv.clone(),
                env: request.env.clone(),
                workdir: request.workdir.clone(),
                user: request.user.clone(),
                hostname: self.hostname.clone(),
                stdin: Vec::new(),
                now: self.now,
            },
        );
        self.lines.push(
            result
                .output
                .iter()
                .flat_map(|(_, text)| text.lines().map(str::to_owned))
                .collect(),
        );
        Ok(result.status)
    }
}

/// The smallest `--memory` the daemon accepts (moby `linuxMinMemory`).
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// The daemon's checks of `create`'s limits (moby `verifyPlatformContainerResources`) and its
/// defaults (`adaptContainerSettings`: swap twice the memory; a pids limit of 0 or less is none).
pub fn checked_resources(r: &Resources, cpus: i64) -> std::result::Result<Resources, String> {
    if r.memory != 0 && r.memory < MIN_MEMORY {
        return Err("Minimum memory limit allowed is 6MB".to_owned());
    }
    if r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory {
        return Err(
            "Minimum memoryswap limit should be larger than memory limit, see usage".to_owned(),
        );
    }
    if r.memory == 0 && r.memory_swap > 0 {
        return Err(
            "You should always set the Memory limit when using Memoryswap limit, see usage"
                .to_owned(),
        );
    }
    if r.nano_cpus < 0 || r.nano_cpus > cpus.saturating_mul(1_000_000_000) {
        return Err(format!(
            "Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available"
        ));
    }
    let mut r = *r;
    if r.memory > 0 && r.memory_swap == 0 {
        r.memory_swap = r.memory * 2;
    }
    r.pids_limit = r.pids_limit.filter(|p| *p > 0);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp(1_764_151_200_123_000_000);
        assert_eq!(parse_rfc3339(&rfc3339_nano(t)), Some(t));
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t.whole_seconds()));
        assert_eq!(parse_rfc3339("nope"), None);
    }

    #[test]
    fn chain_ids_follow_oci() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let chain = chain_ids(&[a, b]);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
    }
}
