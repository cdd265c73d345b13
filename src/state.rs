//! The playground's one state, changed only through [`Action`]s.
//!
//! The engine itself lives in the web worker: this state keeps what the page shows of it (the
//! terminal's transcript, the engine's names and ports, the last command's events) as the
//! worker's [`Response`]s report it.

use std::collections::BTreeMap;
use std::rc::Rc;

use layerbox_core::dockerfile::SourceLines;
use layerbox_core::dockerfile::editor::Analysis;
use layerbox_core::engine::Stream;
use layerbox_core::examples::{self, Example};
use layerbox_core::view;
use yew::Reducible;

use crate::components::speed::Speed;
pub use crate::protocol::ProjectFile;
use crate::protocol::{BeatKind, Playback, Response, Reveal, Summary};
use crate::share::check_path;

/// The file the build reads its instructions from.
pub const DOCKERFILE: &str = "Dockerfile";

/// What a line of the terminal's transcript is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A command line as typed, with its prompt.
    Input,
    /// What a command wrote to stdout.
    Stdout,
    /// What a command wrote to stderr.
    Stderr,
    /// A note about the simulation (not docker's output).
    Notice,
    /// The page's own messages (completions, `^C`).
    Info,
}

/// A piece of the transcript: the command it belongs to, its kind and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The command's number (output goes after its command line).
    pub id: u64,
    /// What it is.
    pub kind: LineKind,
    /// The text; output keeps its newlines.
    pub text: String,
}

/// The terminal: transcript, the line being typed, history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terminal {
    /// The transcript.
    pub lines: Vec<Line>,
    /// The line being typed.
    pub input: String,
    /// Lines run, oldest first.
    pub history: Vec<String>,
    /// Which history entry the input shows while browsing with the arrow keys.
    pub recall: Option<usize>,
    /// The typed line kept while browsing history.
    pub draft: String,
    /// Commands sent and not yet answered.
    pub pending: usize,
    /// The container whose shell the terminal is in (`exec -it web sh`).
    pub shell: Option<String>,
    /// The completion asked for: its number, the line and the cursor then.
    pub completing: Option<(u64, String, usize)>,
}

impl Terminal {
    /// The prompt: `$ ` for docker commands, `# ` in a container's shell.
    pub fn prompt(&self) -> &'static str {
        if self.shell.is_some() { "# " } else { "$ " }
    }

    fn push(&mut self, id: u64, kind: LineKind, text: impl Into<String>) {
        self.lines.push(Line {
            id,
            kind,
            text: text.into(),
        });
    }
}

/// Which view the views panel shows: only its answers are asked of the worker (a file tree
/// answer is half a megabyte for the Python image).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// The image's layers.
    #[default]
    Layers,
    /// The merged file tree.
    Files,
    /// Images and containers.
    Lifecycle,
}

/// What the views show: the tab, the selected lifecycle node, whose layers, whose files, which
/// file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// The view shown.
    #[serde(default)]
    pub tab: Tab,
    /// The lifecycle node picked (`image:<hex>`, `container:<hex>`, `dockerfile`).
    pub node: Option<String>,
    /// The image whose layers are shown (the newest image when `None`).
    pub image: Option<String>,
    /// The image or container whose files are shown (the newest container, else the image).
    pub target: Option<String>,
    /// The file whose contents are shown.
    pub path: Option<String>,
    /// Only paths containing this text.
    pub filter: String,
    /// The layer picked in the layer stack.
    pub layer: Option<usize>,
    /// The Dockerfile lines of the instruction picked in the editor or in a view (the core's
    /// build records which instruction made each step): the views mark its steps, layers and
    /// files, the editor marks its lines.
    #[serde(default)]
    pub lines: Option<SourceLines>,
}

/// A pick in one of the views.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pick {
    /// A lifecycle node, by its ID.
    Node(String),
    /// A layer of the shown image, by index.
    Layer(usize),
    /// A file of the shown tree, by path.
    Path(String),
    /// The file tree's search text.
    Filter(String),
    /// A tab of the views panel.
    Tab(Tab),
    /// An instruction, by its lines (`None`: none; a view sends it after the [`Pick::Layer`]
    /// of a step).
    Lines(Option<SourceLines>),
}

/// A build being played back: which command, its beats, and the beat shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playing {
    /// The command's number.
    pub id: u64,
    /// Its beats (from the worker).
    pub playback: Rc<Playback>,
    /// The beat shown (never the last: reaching it ends the playback).
    pub beat: usize,
}

impl Playing {
    /// The beat shown.
    pub fn current(&self) -> crate::protocol::Beat {
        self.playback.beats[self.beat]
    }

    /// What the terminal shows of the command's output: its number and how many bytes.
    pub fn text(&self) -> (u64, usize) {
        (self.id, self.current().text)
    }

    /// What the layer stack shows of the image being built.
    pub fn reveal(&self) -> Option<Reveal> {
        let beat = self.current();
        Some(Reveal {
            image: self.playback.image.clone()?,
            shown: beat.layers,
            running: beat.kind == BeatKind::Started,
        })
    }
}

/// Everything the playground shows.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The build context.
    pub files: Vec<ProjectFile>,
    /// Index into `files` of the file open in the editor.
    pub open: usize,
    /// Highlighting and diagnostics of the Dockerfile, from the core in the worker; `None`
    /// until its first answer.
    pub analysis: Option<Rc<Analysis>>,
    /// The number of the analysis shown (older answers are dropped).
    pub analysis_seq: u64,
    /// The terminal.
    pub term: Terminal,
    /// The engine's images, containers and published ports.
    pub summary: Summary,
    /// The modelled answers of published ports (`GET /`).
    pub pages: BTreeMap<u16, Result<String, String>>,
    /// Whether the worker has started.
    pub ready: bool,
    /// What the worker is busy with (empty when idle).
    pub busy: String,
    /// A message for the learner (an error, a link copied).
    pub message: Option<String>,
    /// The last share link made.
    pub share_link: Option<String>,
    /// The events of the last command that had any, as JSON (decode with
    /// [`crate::protocol::decode_events`]), for the views to animate.
    pub events: Rc<str>,
    /// How many commands have reported events (changes when `events` does).
    pub event_count: u64,
    /// How many times the engine reported its summary (once after every command): the views
    /// are asked again whenever it changes, even if no name did (a file written by `exec`).
    pub summaries: u64,
    /// What the views show.
    pub selection: Selection,
    /// A share link's commands, waiting to be replayed on a fresh engine.
    pub replay: Option<Rc<Vec<String>>>,
    /// The latest answer to each view request (layers, files, lifecycle), from the core: the
    /// view as JSON (decode with [`crate::protocol::decode_view`]) or the error's message.
    pub views: Rc<Vec<(view::Request, Result<String, String>)>>,
    /// How fast animations and build playback go (the learner's pick).
    pub speed: Speed,
    /// Whether the browser asks for reduced motion (then instant unless step by step).
    pub reduced_motion: bool,
    /// The build being played back, if any.
    pub playing: Option<Playing>,
}

/// What the learner, or the worker, can do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Replace the contents of the open file.
    Edit(String),
    /// Open the file at this index of `files`.
    Open(usize),
    /// Add a new empty file and open it.
    AddFile,
    /// Open `.dockerignore`, adding it if missing.
    AddDockerignore,
    /// Rename the file at this index.
    Rename(usize, String),
    /// Delete the file at this index (never the Dockerfile).
    Delete(usize),
    /// Replace the project (an example, a share link, saved work).
    LoadFiles(Vec<ProjectFile>),
    /// The terminal's line changed.
    Input(String),
    /// A line was run, with its request number.
    Submit(u64, String),
    /// The share link's commands are being replayed (they are no longer waiting).
    Replaying,
    /// Pick the animations' speed.
    Speed(Speed),
    /// The browser's reduced-motion setting changed (`prefers-reduced-motion`).
    ReducedMotion(bool),
    /// Go on from beat `.1` of command `.0`'s playback (a timer, or Next).
    Advance(u64, usize),
    /// Show the playback's end at once.
    Finish,
    /// Browse history: `true` for older (arrow up), `false` for newer.
    Recall(bool),
    /// Ctrl-C: drop the line being typed.
    Cancel,
    /// Ctrl-L: clear the transcript.
    Clear,
    /// Completion was asked for the current line at this byte offset, with this number.
    Completing(u64, usize),
    /// Pick something in a view.
    Pick(Pick),
    /// Show a message.
    Say(String),
    /// Hide the message.
    Dismiss,
    /// Start again: the default example, an empty terminal.
    Reset,
    /// An answer from the worker.
    Response(Response),
}

impl State {
    /// A state holding an example project, with its Dockerfile open.
    pub fn from_example(example: &Example) -> Self {
        Self::from_files(files_of(example))
    }

    /// A state holding these files, the Dockerfile open.
    pub fn from_files(files: Vec<ProjectFile>) -> Self {
        let open = files.iter().position(|f| f.path == DOCKERFILE).unwrap_or(0);
        State {
            files,
            open,
            analysis: None,
            analysis_seq: 0,
            term: Terminal::default(),
            summary: Summary::default(),
            pages: BTreeMap::new(),
            ready: false,
            busy: String::new(),
            message: None,
            share_link: None,
            events: Rc::from("[]"),
            event_count: 0,
            summaries: 0,
            views: Rc::default(),
            selection: Selection::default(),
            replay: None,
            speed: Speed::default(),
            reduced_motion: false,
            playing: None,
        }
    }

    /// The speed in effect (reduced motion makes it instant unless step by step).
    pub fn speed_in_effect(&self) -> Speed {
        self.speed.effective(self.reduced_motion)
    }

    /// The file open in the editor.
    pub fn open_file(&self) -> &ProjectFile {
        &self.files[self.open]
    }

    /// Whether the open file is the Dockerfile (the one that is analysed).
    pub fn dockerfile_open(&self) -> bool {
        self.open_file().path == DOCKERFILE
    }

    /// The Dockerfile's text (empty if the project has none).
    pub fn dockerfile(&self) -> &str {
        self.files
            .iter()
            .find(|f| f.path == DOCKERFILE)
            .map_or("", |f| f.contents.as_str())
    }

    /// The ports running containers publish, in order.
    pub fn published_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .summary
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().copied())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// The view requests that answer what the views panel shows now: on the layers tab the
    /// layers of the selected (else newest) image; on the files tab the files of the selected
    /// (else newest) container or image, and the selected file; on the lifecycle tab the graph.
    pub fn view_requests(&self) -> Vec<view::Request> {
        let sel = &self.selection;
        let image = sel
            .image
            .clone()
            .or_else(|| self.summary.images.last().cloned());
        let target = sel.target.clone().or_else(|| {
            self.summary
                .containers
                .last()
                .map(|c| c.name.clone())
                .or_else(|| image.clone())
        });
        let mut requests = Vec::new();
        match sel.tab {
            Tab::Lifecycle => requests.push(view::Request::Lifecycle),
            Tab::Layers => requests.extend(image.map(|image| view::Request::Layers { image })),
            Tab::Files => {}
        }
        if let (Tab::Files, Some(target)) = (sel.tab, target) {
            requests.push(view::Request::Files {
                target: target.clone(),
                path_filter: (!sel.filter.is_empty()).then(|| sel.filter.clone()),
            });
            if let Some(path) = &sel.path {
                requests.push(view::Request::File {
                    target,
                    path: path.clone(),
                });
            }
        }
        requests
    }

    /// The latest answer to `request`, if any.
    pub fn view(&self, request: &view::Request) -> Option<&Result<String, String>> {
        self.views
            .iter()
            .find(|(r, _)| r == request)
            .map(|(_, result)| result)
    }

    fn pick(&mut self, pick: Pick) {
        let sel = &mut self.selection;
        match pick {
            Pick::Node(id) => {
                if let Some(hex) = id.strip_prefix("image:") {
                    sel.image = Some(hex.to_owned());
                    sel.target = Some(hex.to_owned());
                    sel.layer = None;
                    sel.path = None;
                } else if let Some(hex) = id.strip_prefix("container:") {
                    sel.target = Some(hex.to_owned());
                    sel.path = None;
                }
                sel.node = Some(id);
            }
            Pick::Layer(i) => sel.layer = Some(i),
            Pick::Path(path) => sel.path = Some(path),
            Pick::Filter(text) => sel.filter = text,
            Pick::Tab(tab) => sel.tab = tab,
            Pick::Lines(lines) => sel.lines = lines,
        }
    }

    fn say(&mut self, message: impl Into<String>) {
        self.message = Some(message.into());
    }

    fn rename(&mut self, index: usize, name: &str) {
        let name = name.trim();
        let Some(file) = self.files.get(index) else {
            return;
        };
        if file.path == name {
            return;
        }
        if file.path == DOCKERFILE {
            self.say(
                "the Dockerfile keeps its name: `docker build` reads the file named Dockerfile",
            );
        } else if let Err(e) = check_path(name) {
            self.say(e);
        } else if name == DOCKERFILE || self.files.iter().any(|f| f.path == name) {
            self.say(format!("there is already a file named {name}"));
        } else {
            name.clone_into(&mut self.files[index].path);
        }
    }

    fn respond(&mut self, response: Response) {
        match response {
            Response::Ready => self.ready = true,
            Response::Analysis { seq, analysis } => {
                if seq >= self.analysis_seq {
                    self.analysis_seq = seq;
                    self.analysis = Some(Rc::new(analysis));
                }
            }
            Response::Busy { what } => self.busy = what,
            Response::Output {
                id,
                chunks,
                notices,
                events,
                code: _,
                shell,
                playback,
            } => {
                let at = self
                    .term
                    .lines
                    .iter()
                    .position(|l| l.id > id)
                    .unwrap_or(self.term.lines.len());
                let lines = chunks
                    .into_iter()
                    .map(|(stream, text)| Line {
                        id,
                        kind: match stream {
                            Stream::Stdout => LineKind::Stdout,
                            Stream::Stderr => LineKind::Stderr,
                        },
                        text,
                    })
                    .chain(notices.into_iter().map(|n| Line {
                        id,
                        kind: LineKind::Notice,
                        text: format!("{n}\n"),
                    }));
                // Played back only if no later command was typed since (it shows at once).
                let latest = at == self.term.lines.len();
                self.term.lines.splice(at..at, lines);
                let playback = Playback::decode(&playback);
                let speed = self.speed_in_effect();
                if latest
                    && playback.plays()
                    && speed != Speed::Instant
                    && (speed == Speed::Step || !playback.only_holds())
                {
                    self.playing = Some(Playing {
                        id,
                        playback: Rc::new(playback),
                        beat: 0,
                    });
                }
                self.term.pending = self.term.pending.saturating_sub(1);
                self.term.shell = shell;
                if events != "[]" {
                    self.events = Rc::from(events);
                    self.event_count += 1;
                }
            }
            Response::Summary(summary) => {
                self.summary = summary;
                self.summaries += 1;
                let ports = self.published_ports();
                self.pages.retain(|p, _| ports.contains(p));
            }
            Response::Completion {
                id,
                start,
                candidates,
                replacement,
            } => {
                let Some((asked, line, cursor)) = self.term.completing.take() else {
                    return;
                };
                if asked != id || line != self.term.input || start > cursor {
                    return;
                }
                if let Some(text) = replacement {
                    self.term.input = format!("{}{text}{}", &line[..start], &line[cursor..]);
                }
                if candidates.len() > 1 {
                    let id = self.term.lines.last().map_or(0, |l| l.id);
                    self.term
                        .push(id, LineKind::Info, format!("{}\n", candidates.join("  ")));
                }
            }
            Response::Page { port, body } => {
                self.pages.insert(port, body);
            }
            // The app keeps the engine's state and downloads an export as they arrive.
            Response::Saved { .. } | Response::Exported { .. } | Response::Download { .. } => {}
            Response::Shared { fragment } => self.share_link = Some(fragment),
            Response::Imported { files, history } => {
                let n = history.len();
                *self = State {
                    term: std::mem::take(&mut self.term),
                    summary: std::mem::take(&mut self.summary),
                    pages: std::mem::take(&mut self.pages),
                    ready: self.ready,
                    events: Rc::clone(&self.events),
                    event_count: self.event_count,
                    views: Rc::clone(&self.views),
                    selection: std::mem::take(&mut self.selection),
                    speed: self.speed,
                    reduced_motion: self.reduced_motion,
                    ..State::from_files(files)
                };
                self.term.history = history;
                self.term.recall = None;
                self.say(format!(
                    "project imported: {} files; its {n} commands are in the terminal's history (arrow up)",
                    self.files.len()
                ));
            }
            Response::Project { files, commands } => {
                let count = commands.len();
                *self = State {
                    term: std::mem::take(&mut self.term),
                    summary: std::mem::take(&mut self.summary),
                    pages: std::mem::take(&mut self.pages),
                    ready: self.ready,
                    events: Rc::clone(&self.events),
                    event_count: self.event_count,
                    summaries: self.summaries,
                    views: Rc::clone(&self.views),
                    selection: std::mem::take(&mut self.selection),
                    speed: self.speed,
                    reduced_motion: self.reduced_motion,
                    message: Some(if count == 0 {
                        "opened the project from the share link".into()
                    } else {
                        format!(
                            "opened the project from the share link and replayed its {count} command{}",
                            if count == 1 { "" } else { "s" }
                        )
                    }),
                    replay: (count > 0).then(|| Rc::new(commands)),
                    ..State::from_files(files)
                };
            }
            Response::View { request, result } => {
                // Only the answers to what is shown now are kept (a file tree is large).
                let current = self.view_requests();
                if !current.contains(&request) {
                    return;
                }
                let mut views = (*self.views).clone();
                views.retain(|(r, _)| current.contains(r));
                match views.iter_mut().find(|(r, _)| *r == request) {
                    Some(entry) => entry.1 = result,
                    None => views.push((request, result)),
                }
                self.views = Rc::new(views);
            }
            Response::Error { message } => {
                // A failed command still ends.
                self.say(message);
            }
        }
    }
}

/// The files of an example, as the editor holds them.
pub fn files_of(example: &Example) -> Vec<ProjectFile> {
    example
        .files
        .iter()
        .map(|f| ProjectFile {
            path: f.path.to_owned(),
            contents: f.contents.to_owned(),
        })
        .collect()
}

impl Default for State {
    fn default() -> Self {
        State::from_example(&examples::python())
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Edit(text) => {
                if self.open_file().contents == text {
                    return self;
                }
                next.files[next.open].contents = text;
            }
            Action::Open(index) if index < self.files.len() && index != self.open => {
                next.open = index;
            }
            Action::Open(_) => return self,
            Action::AddFile => {
                let name = (1..=self.files.len() + 1)
                    .map(|n| {
                        if n == 1 {
                            "new-file.txt".to_owned()
                        } else {
                            format!("new-file-{n}.txt")
                        }
                    })
                    .find(|n| !self.files.iter().any(|f| &f.path == n))
                    .unwrap_or_default();
                next.files.push(ProjectFile {
                    path: name,
                    contents: String::new(),
                });
                next.open = next.files.len() - 1;
            }
            Action::AddDockerignore => {
                if let Some(i) = self.files.iter().position(|f| f.path == ".dockerignore") {
                    next.open = i;
                } else {
                    next.files.push(ProjectFile {
                        path: ".dockerignore".into(),
                        contents: "# Paths the build context leaves out, one pattern a line.\n.git\n*.log\n".into(),
                    });
                    next.open = next.files.len() - 1;
                }
            }
            Action::Rename(index, name) => next.rename(index, &name),
            Action::Delete(index) => match self.files.get(index) {
                Some(f) if f.path == DOCKERFILE => {
                    next.say("the Dockerfile cannot be deleted: a build needs it");
                }
                Some(_) => {
                    next.files.remove(index);
                    if next.open >= index && next.open > 0 {
                        next.open -= 1;
                    }
                }
                None => return self,
            },
            Action::LoadFiles(files) => {
                let keep = next;
                next = State {
                    term: keep.term,
                    summary: keep.summary,
                    pages: keep.pages,
                    ready: keep.ready,
                    busy: keep.busy,
                    events: keep.events,
                    event_count: keep.event_count,
                    summaries: keep.summaries,
                    views: keep.views,
                    selection: keep.selection,
                    speed: keep.speed,
                    reduced_motion: keep.reduced_motion,
                    playing: keep.playing,
                    ..State::from_files(files)
                };
            }
            Action::Input(text) => {
                if text == self.term.input {
                    return self;
                }
                next.term.input = text;
                next.term.recall = None;
            }
            Action::Submit(id, line) => {
                let prompt = next.term.prompt();
                next.term
                    .push(id, LineKind::Input, format!("{prompt}{line}\n"));
                if !line.trim().is_empty() && next.term.history.last() != Some(&line) {
                    next.term.history.push(line);
                }
                next.term.input.clear();
                next.term.recall = None;
                next.term.draft.clear();
                next.term.pending += 1;
                // The next command shows the build played so far at once.
                next.playing = None;
            }
            Action::Recall(older) => {
                let t = &mut next.term;
                let len = t.history.len();
                let to = match (t.recall, older) {
                    (None, true) if len > 0 => Some(len - 1),
                    (Some(i), true) => Some(i.saturating_sub(1)),
                    (Some(i), false) if i + 1 < len => Some(i + 1),
                    (Some(_), false) => None,
                    (None, _) => return self,
                };
                if t.recall.is_none() {
                    t.draft = t.input.clone();
                }
                t.input = match to {
                    Some(i) => t.history[i].clone(),
                    None => t.draft.clone(),
                };
                t.recall = to;
            }
            Action::Cancel => {
                let id = next.term.lines.last().map_or(0, |l| l.id);
                let text = format!("{}{}^C\n", next.term.prompt(), next.term.input);
                next.term.push(id, LineKind::Info, text);
                next.term.input.clear();
                next.term.recall = None;
            }
            Action::Clear => next.term.lines.clear(),
            Action::Completing(id, cursor) => {
                next.term.completing = Some((id, next.term.input.clone(), cursor));
            }
            Action::Replaying => next.replay = None,
            Action::Speed(speed) => {
                next.speed = speed;
                if next.speed_in_effect() == Speed::Instant {
                    next.playing = None;
                }
            }
            Action::ReducedMotion(reduce) => {
                next.reduced_motion = reduce;
                if next.speed_in_effect() == Speed::Instant {
                    next.playing = None;
                }
            }
            Action::Advance(id, beat) => match &mut next.playing {
                Some(p) if p.id == id && p.beat == beat => {
                    p.beat += 1;
                    if p.beat + 1 >= p.playback.beats.len() {
                        next.playing = None;
                    }
                }
                _ => return self,
            },
            Action::Finish => next.playing = None,
            Action::Pick(pick) => {
                // A pick in the views shows them as they are now.
                if next
                    .playing
                    .as_ref()
                    .is_some_and(|p| p.current().kind == BeatKind::Change)
                {
                    next.playing = None;
                }
                next.pick(pick);
            }
            Action::Say(message) => next.say(message),
            Action::Dismiss => next.message = None,
            Action::Reset => {
                next = State {
                    ready: self.ready,
                    speed: self.speed,
                    reduced_motion: self.reduced_motion,
                    message: Some(
                        "started again: the Python example, no images, no containers".into(),
                    ),
                    ..State::default()
                };
            }
            Action::Response(response) => next.respond(response),
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(s: Rc<State>, actions: Vec<Action>) -> Rc<State> {
        actions.into_iter().fold(s, Reducible::reduce)
    }

    fn output(id: u64, chunks: &[(Stream, &str)], shell: Option<&str>) -> Action {
        Action::Response(Response::Output {
            id,
            chunks: chunks.iter().map(|(s, t)| (*s, (*t).to_owned())).collect(),
            notices: vec![],
            events: "[]".into(),
            code: 0,
            shell: shell.map(str::to_owned),
            playback: String::new(),
        })
    }

    #[test]
    fn starts_with_the_python_example_open_and_no_analysis_yet() {
        let s = State::default();
        assert_eq!(s.open_file().path, "Dockerfile");
        assert!(s.dockerfile().starts_with("FROM python:3.9-slim\n"));
        assert!(s.files.iter().any(|f| f.path == "requirements.txt"));
        assert!(s.analysis.is_none());
    }

    #[test]
    fn edit_changes_only_the_open_file() {
        let s = reduce(
            Rc::new(State::default()),
            vec![Action::Open(1), Action::Edit("print('hi')\n".into())],
        );
        assert_eq!(s.files[1].contents, "print('hi')\n");
        assert!(s.dockerfile().starts_with("FROM python"));
    }

    #[test]
    fn late_analyses_are_dropped() {
        let a = |seq, code: &str| {
            Action::Response(Response::Analysis {
                seq,
                analysis: Analysis {
                    tokens: vec![],
                    diagnostics: vec![layerbox_core::dockerfile::diagnostic::Diagnostic::new(
                        layerbox_core::dockerfile::diagnostic::Severity::Error,
                        code,
                        "m",
                        "FROM x\n",
                        0..4,
                    )],
                    instructions: vec![],
                },
            })
        };
        let s = reduce(Rc::new(State::default()), vec![a(2, "new"), a(1, "old")]);
        assert_eq!(s.analysis.as_ref().unwrap().diagnostics[0].code, "new");
    }

    #[test]
    fn files_are_added_renamed_and_deleted_but_the_dockerfile_stays() {
        let s = reduce(
            Rc::new(State::default()),
            vec![Action::AddFile, Action::AddFile],
        );
        assert_eq!(s.files[3].path, "new-file.txt");
        assert_eq!(s.files[4].path, "new-file-2.txt");
        assert_eq!(s.open, 4);
        let s = reduce(s, vec![Action::Rename(4, "src/main.py".into())]);
        assert_eq!(s.files[4].path, "src/main.py");
        let s = reduce(s, vec![Action::Rename(4, "app.py".into())]);
        assert_eq!(s.files[4].path, "src/main.py");
        assert!(
            s.message
                .as_deref()
                .unwrap()
                .contains("already a file named app.py")
        );
        let s = reduce(s, vec![Action::Rename(4, "../x".into())]);
        assert!(s.message.as_deref().unwrap().contains("invalid file name"));
        let s = reduce(
            s,
            vec![Action::Rename(0, "Containerfile".into()), Action::Delete(0)],
        );
        assert_eq!(s.files[0].path, "Dockerfile");
        assert!(s.message.as_deref().unwrap().contains("cannot be deleted"));
        let s = reduce(s, vec![Action::Delete(4)]);
        assert_eq!(s.files.len(), 4);
        assert_eq!(s.open, 3);
        let s = reduce(
            s,
            vec![
                Action::AddDockerignore,
                Action::Open(0),
                Action::AddDockerignore,
            ],
        );
        assert_eq!(s.open_file().path, ".dockerignore");
        assert_eq!(
            s.files.iter().filter(|f| f.path == ".dockerignore").count(),
            1
        );
    }

    #[test]
    fn output_goes_after_its_command_and_history_recalls() {
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Input("docker ps".into()),
                Action::Submit(1, "docker ps".into()),
                Action::Submit(2, "docker images".into()),
                output(1, &[(Stream::Stdout, "CONTAINER ID\n")], None),
                output(2, &[(Stream::Stderr, "oops\n")], None),
            ],
        );
        let texts: Vec<&str> = s.term.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "$ docker ps\n",
                "CONTAINER ID\n",
                "$ docker images\n",
                "oops\n"
            ]
        );
        assert_eq!(s.term.lines[3].kind, LineKind::Stderr);
        assert_eq!(s.term.pending, 0);
        let s = reduce(s, vec![Action::Input("dock".into()), Action::Recall(true)]);
        assert_eq!(s.term.input, "docker images");
        let s = reduce(s, vec![Action::Recall(true), Action::Recall(true)]);
        assert_eq!(s.term.input, "docker ps");
        let s = reduce(s, vec![Action::Recall(false)]);
        assert_eq!(s.term.input, "docker images");
        let s = reduce(s, vec![Action::Recall(false)]);
        assert_eq!(s.term.input, "dock");
        let s = reduce(s, vec![Action::Cancel]);
        assert_eq!(s.term.input, "");
        assert_eq!(s.term.lines.last().unwrap().text, "$ dock^C\n");
        let s = reduce(s, vec![Action::Clear]);
        assert!(s.term.lines.is_empty());
    }

    #[test]
    fn a_build_plays_back_beat_by_beat_until_the_next_command() {
        use crate::protocol::{Beat, BeatKind};
        let beat = |text, layers, kind| Beat { text, layers, kind };
        let playback = Playback {
            image: Some("sha256:ab".into()),
            beats: vec![
                beat(5, 2, BeatKind::Base),
                beat(9, 2, BeatKind::Started),
                beat(12, 3, BeatKind::Built),
                beat(20, 4, BeatKind::Done),
            ],
        };
        let built = |id| {
            Action::Response(Response::Output {
                id,
                chunks: vec![(Stream::Stderr, "#1 [1/2] FROM x\n#2 …\n".into())],
                notices: vec![],
                events: "[]".into(),
                code: 0,
                shell: None,
                playback: playback.encode(),
            })
        };
        let s = reduce(
            Rc::new(State::default()),
            vec![Action::Submit(1, "docker build .".into()), built(1)],
        );
        let p = s.playing.as_ref().unwrap();
        assert_eq!((p.id, p.beat, p.text()), (1, 0, (1, 5)));
        assert_eq!(
            p.reveal(),
            Some(Reveal {
                image: "sha256:ab".into(),
                shown: 2,
                running: false
            })
        );
        // A late timer of another beat changes nothing; the beat's own moves on.
        let s = reduce(s, vec![Action::Advance(1, 1), Action::Advance(1, 0)]);
        let p = s.playing.as_ref().unwrap();
        assert_eq!(p.beat, 1);
        assert!(p.reveal().unwrap().running);
        // Reaching the last beat is the end: everything shows.
        let s = reduce(s, vec![Action::Advance(1, 1), Action::Advance(1, 2)]);
        assert!(s.playing.is_none());
        // The next command typed shows the build at once; so does Skip.
        let s = reduce(
            s,
            vec![Action::Submit(2, "docker build .".into()), built(2)],
        );
        assert!(s.playing.is_some());
        let s = reduce(s, vec![Action::Submit(3, "docker ps".into())]);
        assert!(s.playing.is_none());
        let s = reduce(
            s,
            vec![Action::Submit(4, "docker build .".into()), built(4)],
        );
        assert!(reduce(s, vec![Action::Finish]).playing.is_none());
        // An answer that comes after a later command was typed is not played.
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Submit(1, "docker build .".into()),
                Action::Submit(2, "docker ps".into()),
                built(1),
            ],
        );
        assert!(s.playing.is_none());
        // Instant plays nothing, and picking it ends a playback; reduced motion is instant
        // unless step by step is picked.
        let instant = |speed, reduced_motion| {
            let s = State {
                speed,
                reduced_motion,
                ..State::default()
            };
            reduce(Rc::new(s), vec![Action::Submit(1, "b".into()), built(1)])
                .playing
                .is_none()
        };
        assert!(instant(Speed::Instant, false));
        assert!(instant(Speed::Double, true));
        assert!(!instant(Speed::Step, true));
        assert!(!instant(Speed::Half, false));
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Submit(1, "b".into()),
                built(1),
                Action::Speed(Speed::Step),
            ],
        );
        assert!(s.playing.is_some());
        assert!(
            reduce(Rc::clone(&s), vec![Action::Speed(Speed::Instant)])
                .playing
                .is_none()
        );
        // Turning reduced motion on while a build plays at normal speed shows its end at once;
        // step by step keeps waiting for Next.
        let playing = reduce(
            Rc::new(State::default()),
            vec![Action::Submit(1, "b".into()), built(1)],
        );
        assert!(playing.playing.is_some());
        let calm = reduce(playing, vec![Action::ReducedMotion(true)]);
        assert!(calm.playing.is_none() && calm.reduced_motion);
        assert!(
            reduce(s, vec![Action::ReducedMotion(true)])
                .playing
                .is_some()
        );
    }

    #[test]
    fn step_by_step_a_change_waits_for_next_and_a_pick_shows_it() {
        let change = Playback {
            image: None,
            beats: [BeatKind::Change, BeatKind::Done]
                .map(|kind| crate::protocol::Beat {
                    text: 3,
                    layers: 0,
                    kind,
                })
                .to_vec(),
        };
        let ran = |speed| {
            let s = State {
                speed,
                ..State::default()
            };
            let out = Action::Response(Response::Output {
                id: 1,
                chunks: vec![(Stream::Stdout, "ab\n".into())],
                notices: vec![],
                events: "[]".into(),
                code: 0,
                shell: None,
                playback: change.encode(),
            });
            reduce(
                Rc::new(s),
                vec![Action::Submit(1, "docker stop web".into()), out],
            )
        };
        // At 1x the change shows at once (its animations run at 1x).
        assert!(ran(Speed::Normal).playing.is_none());
        let s = ran(Speed::Step);
        let p = s.playing.as_ref().unwrap();
        assert_eq!((p.text(), p.reveal()), ((1, 3), None));
        assert!(
            reduce(Rc::clone(&s), vec![Action::Advance(1, 0)])
                .playing
                .is_none()
        );
        assert!(
            reduce(s, vec![Action::Pick(Pick::Tab(Tab::Files))])
                .playing
                .is_none()
        );
    }

    #[test]
    fn the_shell_prompt_follows_the_worker() {
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Submit(1, "docker exec -it web sh".into()),
                output(1, &[], Some("web")),
                Action::Submit(2, "ls".into()),
            ],
        );
        assert_eq!(s.term.prompt(), "# ");
        assert_eq!(s.term.lines[1].text, "# ls\n");
    }

    #[test]
    fn completion_replaces_the_word_or_lists_the_choices() {
        let complete = |id, start, candidates: &[&str], replacement: Option<&str>| {
            Action::Response(Response::Completion {
                id,
                start,
                candidates: candidates.iter().map(|c| (*c).to_owned()).collect(),
                replacement: replacement.map(str::to_owned),
            })
        };
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Input("docker bu -q".into()),
                Action::Completing(5, 9),
                complete(5, 7, &["build"], Some("build ")),
            ],
        );
        assert_eq!(s.term.input, "docker build  -q");
        let s = reduce(
            s,
            vec![
                Action::Input("docker st".into()),
                Action::Completing(6, 9),
                complete(6, 7, &["start", "stop"], Some("st")),
            ],
        );
        assert_eq!(s.term.input, "docker st");
        assert_eq!(s.term.lines.last().unwrap().text, "start  stop\n");
        // An answer to a line since changed is dropped.
        let s = reduce(
            s,
            vec![
                Action::Completing(7, 9),
                Action::Input("docker s".into()),
                complete(7, 7, &["stop"], Some("stop ")),
            ],
        );
        assert_eq!(s.term.input, "docker s");
    }

    #[test]
    fn pages_follow_the_published_ports() {
        use crate::protocol::ContainerSummary;
        let summary = |ports: Vec<u16>| {
            Action::Response(Response::Summary(Summary {
                images: vec![],
                containers: vec![ContainerSummary {
                    name: "web".into(),
                    image: "my-app".into(),
                    state: "running".into(),
                    ports,
                }],
            }))
        };
        let s = reduce(
            Rc::new(State::default()),
            vec![
                summary(vec![3000]),
                Action::Response(Response::Page {
                    port: 3000,
                    body: Ok("Hello World\n".into()),
                }),
            ],
        );
        assert_eq!(s.published_ports(), [3000]);
        assert_eq!(s.pages[&3000], Ok("Hello World\n".into()));
        let s = reduce(s, vec![summary(vec![])]);
        assert!(s.pages.is_empty());
    }

    #[test]
    fn the_latest_answer_to_each_view_is_kept() {
        let lifecycle = |n: usize| {
            Action::Response(Response::View {
                request: view::Request::Lifecycle,
                result: Err(format!("answer {n}")),
            })
        };
        let layers = Action::Response(Response::View {
            request: view::Request::Layers {
                image: "my-app".into(),
            },
            result: Err("No such image: my-app".into()),
        });
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Pick(Pick::Tab(Tab::Lifecycle)),
                lifecycle(1),
                layers.clone(),
                lifecycle(2),
            ],
        );
        // The layers were not asked for on the lifecycle tab: their answer is dropped.
        assert_eq!(s.views.len(), 1);
        assert_eq!(s.views[0].1, Err("answer 2".into()));
        // On the layers tab the lifecycle's answer goes once another comes.
        let summary = Action::Response(Response::Summary(Summary {
            images: vec!["my-app".into()],
            containers: vec![],
        }));
        let s = reduce(
            s,
            vec![summary, Action::Pick(Pick::Tab(Tab::Layers)), layers],
        );
        assert_eq!(s.views.len(), 1);
        assert_eq!(s.views[0].1, Err("No such image: my-app".into()));
    }

    #[test]
    fn views_follow_the_newest_things_until_something_is_picked() {
        use crate::protocol::ContainerSummary;
        let s = State::default();
        // The layers tab first, and nothing built yet.
        assert_eq!(s.view_requests(), []);
        let summary = Action::Response(Response::Summary(Summary {
            images: vec!["python:3.9-slim".into(), "my-app:latest".into()],
            containers: vec![ContainerSummary {
                name: "web".into(),
                image: "my-app".into(),
                state: "running".into(),
                ports: vec![],
            }],
        }));
        let s = reduce(Rc::new(s), vec![summary]);
        let files = |target: &str, filter: Option<&str>| view::Request::Files {
            target: target.into(),
            path_filter: filter.map(str::to_owned),
        };
        let layers = |image: &str| view::Request::Layers {
            image: image.into(),
        };
        assert_eq!(s.view_requests(), [layers("my-app:latest")]);
        let s = reduce(s, vec![Action::Pick(Pick::Tab(Tab::Files))]);
        assert_eq!(s.view_requests(), [files("web", None)]);
        let s = reduce(s, vec![Action::Pick(Pick::Tab(Tab::Lifecycle))]);
        assert_eq!(s.view_requests(), [view::Request::Lifecycle]);
        let s = reduce(
            s,
            vec![
                Action::Pick(Pick::Node("image:abc123".into())),
                Action::Pick(Pick::Filter("app".into())),
                Action::Pick(Pick::Path("/app/app.py".into())),
                Action::Pick(Pick::Tab(Tab::Files)),
            ],
        );
        assert_eq!(
            s.view_requests(),
            [
                files("abc123", Some("app")),
                view::Request::File {
                    target: "abc123".into(),
                    path: "/app/app.py".into()
                },
            ]
        );
        // A container keeps the image's layers and shows its own files.
        let s = reduce(s, vec![Action::Pick(Pick::Node("container:def".into()))]);
        assert_eq!(s.view_requests()[0], files("def", Some("app")));
        assert_eq!(s.selection.node.as_deref(), Some("container:def"));
        assert!(s.selection.path.is_none());
        let s = reduce(s, vec![Action::Pick(Pick::Tab(Tab::Layers))]);
        assert_eq!(s.view_requests(), [layers("abc123")]);
        assert!(s.view(&view::Request::Lifecycle).is_none());
    }

    #[test]
    fn a_shared_project_replaces_the_files_and_keeps_the_terminal() {
        let s = reduce(
            Rc::new(State::default()),
            vec![
                Action::Submit(1, "docker ps".into()),
                Action::Response(Response::Project {
                    files: files_of(&examples::node()),
                    commands: vec![],
                }),
            ],
        );
        assert!(s.dockerfile().starts_with("FROM node:14"));
        assert_eq!(s.term.lines.len(), 1);
        let s = reduce(s, vec![Action::Reset]);
        assert!(s.dockerfile().starts_with("FROM python"));
        assert!(s.term.lines.is_empty());
    }
}
