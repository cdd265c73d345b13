//! The messages between the page and the engine's web worker, as JSON.
//!
//! The page holds only these data types: every piece of core logic (builder, engine,
//! completion, share-link coding; the parser and linter in the analysis module, or in the
//! worker until that module has loaded) runs outside it, so the first page stays small and
//! is painted before the core is even loaded.

use layerbox_core::dockerfile::editor::Analysis;
use layerbox_core::engine::{Event, Stream};
use layerbox_core::view;
use serde::{Deserialize, Serialize};

/// A file of the learner's build context, as edited in the playground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectFile {
    /// Path relative to the build context, `/`-separated.
    pub path: String,
    /// Current contents.
    pub contents: String,
}

/// What the page asks of the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Highlight and lint this Dockerfile; answered by [`Response::Analysis`] with the same `seq`.
    Analyze {
        /// Numbers the request, so that a late answer to older text is dropped.
        seq: u64,
        /// The Dockerfile.
        text: String,
    },
    /// Run a line typed in the terminal (`docker …`, `layerbox …`, or a line for the open
    /// container shell); `files` is the build context a `build` reads.
    Run {
        /// Numbers the command for its [`Response::Output`].
        id: u64,
        /// The line as typed.
        line: String,
        /// The editor's files.
        files: Vec<ProjectFile>,
    },
    /// Complete the word before byte `cursor` of `line`.
    Complete {
        /// Numbers the request for its [`Response::Completion`].
        id: u64,
        /// The line.
        line: String,
        /// Byte offset of the cursor.
        cursor: usize,
    },
    /// An HTTP GET of `path` on a published host port, answered by [`Response::Page`].
    Fetch {
        /// Host port.
        port: u16,
        /// Path, `/` for the root.
        path: String,
    },
    /// Start from this saved engine state (from [`Response::Saved`]).
    Restore {
        /// The saved text.
        state: String,
    },
    /// Forget every image and container.
    Reset,
    /// Make a share link's fragment for these files and the commands run so far (the
    /// worker's [`Journal`]); answered by [`Response::Shared`].
    Share {
        /// The project.
        files: Vec<ProjectFile>,
    },
    /// Run command number `index` of the share link opened last ([`Response::Project`]) with
    /// the files it ran with; answered as [`Request::Run`] is.
    Replay {
        /// Numbers the command for its [`Response::Output`].
        id: u64,
        /// Which command.
        index: usize,
    },
    /// Read a share link's fragment; answered by [`Response::Project`] or [`Response::Error`].
    Open {
        /// The fragment, without `#`.
        fragment: String,
    },
    /// A view of the engine's state (layers, files, lifecycle); answered by [`Response::View`].
    View(view::Request),
    /// `docker import - NAME` with a picked rootfs tarball as its stdin (how the playground
    /// imports a base image); answered as [`Request::Run`] is.
    ImportImage {
        /// Numbers the command for its [`Response::Output`].
        id: u64,
        /// The image name (from [`imported_image_name`]).
        name: String,
        /// The tarball as a `data:` URL (base64), as the browser's FileReader gives it.
        data_url: String,
    },
    /// Save the project as a JSON file's text; answered by [`Response::Exported`].
    Export {
        /// The project.
        files: Vec<ProjectFile>,
        /// The commands typed, oldest first.
        history: Vec<String>,
    },
    /// Read a project file picked for import; answered by [`Response::Imported`] or
    /// [`Response::Error`].
    Import {
        /// The file's text.
        text: String,
    },
    /// Model the base images this Dockerfile starts from, ahead of a build (a simulated
    /// `docker pull`); no answer. The page sends it once the editor has been left alone for
    /// [`PULL_DELAY_MS`]: modelling an image holds the engine for hundreds of milliseconds.
    Pull {
        /// The Dockerfile in the editor.
        dockerfile: String,
    },
}

/// How long the editor's Dockerfile must stay unchanged before its base images are modelled
/// ([`Request::Pull`]).
pub const PULL_DELAY_MS: u32 = 1000;

/// What the worker tells the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The worker has started and takes requests.
    Ready,
    /// A Dockerfile's highlighting and diagnostics.
    Analysis {
        /// The request's number.
        seq: u64,
        /// What the core found.
        analysis: Analysis,
    },
    /// Something the worker is doing that takes a moment (loading the image catalog).
    Busy {
        /// What, in a few words; empty when done.
        what: String,
    },
    /// What a command printed, as the core printed it, and what it did.
    Output {
        /// The request's number.
        id: u64,
        /// stdout and stderr in the order written.
        chunks: Vec<(Stream, String)>,
        /// Notes about the simulation (not docker's output).
        notices: Vec<String>,
        /// The engine's events (`Vec<Event>`) as JSON, for the views to animate: the page
        /// decodes them only where a view uses them (see [`decode_events`]), which keeps their
        /// decoders (digests, build and filesystem events) off the first page.
        events: String,
        /// The exit code.
        code: i32,
        /// The container whose shell the terminal now talks to (`exec -it web sh`), if any.
        shell: Option<String>,
        /// How to show a build as it runs ([`Playback::encode`]; empty for other commands).
        #[serde(default)]
        playback: String,
    },
    /// The engine's names and the ports its running containers publish, after each change.
    Summary(Summary),
    /// Completions for a [`Request::Complete`].
    Completion {
        /// The request's number.
        id: u64,
        /// Byte offset where the completed word starts.
        start: usize,
        /// What fits, sorted.
        candidates: Vec<String>,
        /// The text to put in place of the word, if any.
        replacement: Option<String>,
    },
    /// The answer to a [`Request::Fetch`]: the body, or what curl would say.
    Page {
        /// Host port.
        port: u16,
        /// Body or error.
        body: Result<String, String>,
    },
    /// The engine state to keep (for [`Request::Restore`]).
    Saved {
        /// Opaque text (compressed JSON).
        state: String,
    },
    /// A file a command wrote (`docker save -o my-app.tar my-app`), for the page to download.
    Download {
        /// The file's name.
        name: String,
        /// Its bytes as a base64 `data:` URL.
        data_url: String,
    },
    /// The text of an exported project, for the page to offer as a download.
    Exported {
        /// The JSON text.
        text: String,
    },
    /// An imported project: its files and its command history.
    Imported {
        /// The files.
        files: Vec<ProjectFile>,
        /// The commands, oldest first.
        history: Vec<String>,
    },
    /// A share link's fragment, without `#`.
    Shared {
        /// The fragment.
        fragment: String,
    },
    /// A project read from a share link.
    Project {
        /// Its files.
        files: Vec<ProjectFile>,
        /// Its commands, to replay in order with [`Request::Replay`] (the worker keeps the
        /// files each ran with).
        #[serde(default)]
        commands: Vec<String>,
    },
    /// A view, computed by the core's `view::answer`, or why it could not be.
    View {
        /// What was asked.
        request: view::Request,
        /// The view (`view::Response`) as JSON, or the error's message. Like the events, the
        /// view is decoded only by the panel that shows it ([`decode_view`]): its decoders cost
        /// 27 KB gzip, which the first page does without until a view panel is in it.
        result: Result<String, String>,
    },
    /// Something failed; the message says what, for the learner.
    Error {
        /// The message.
        message: String,
    },
}

/// The image name a picked tarball is imported as: its file name without `.tar`, `.tar.gz` or
/// `.tgz`, lower-cased, with what a repository name cannot hold dropped (`imported` if nothing
/// is left): `Busybox Root.tar.gz` → `busyboxroot`.
pub fn imported_image_name(file_name: &str) -> String {
    let lower = file_name.to_ascii_lowercase();
    let stem = [".tar.gz", ".tgz", ".tar"]
        .iter()
        .find_map(|ext| lower.strip_suffix(ext))
        .unwrap_or(&lower);
    let name: String = stem
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        .collect();
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if name.is_empty() {
        "imported".into()
    } else {
        name.chars().take(64).collect()
    }
}

/// The commands run so far and the files each ran with: what a share link carries and replays,
/// so that it opens on the same images and containers (IDs and times are new ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The sets of files the commands ran with; a set is kept again only when it changed.
    pub contexts: Vec<Vec<ProjectFile>>,
    /// Each command line, with the index in `contexts` of the files it ran with.
    pub entries: Vec<(String, usize)>,
}

impl Journal {
    /// Records that `line` ran with `files`.
    pub fn record(&mut self, line: &str, files: &[ProjectFile]) {
        if self
            .contexts
            .last()
            .is_none_or(|last| last.as_slice() != files)
        {
            self.contexts.push(files.to_vec());
        }
        self.entries
            .push((line.to_owned(), self.contexts.len() - 1));
    }

    /// The commands in order, each with its files.
    pub fn commands(&self) -> impl Iterator<Item = (&str, &[ProjectFile])> {
        self.entries
            .iter()
            .filter_map(|(line, i)| Some((line.as_str(), self.contexts.get(*i)?.as_slice())))
    }

    /// Whether no command was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How the page shows a build as it runs: the worker runs it in one go, and the page plays its
/// output and its layers back in beats (one per step started, layer made, step cached), paced
/// by the speed control. Worked out in the worker from the build's events, so that the page
/// reads only numbers (see [`decode_events`]); it travels as a short text
/// ([`Playback::encode`]), which the page reads with a few lines rather than a decoder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Playback {
    /// The image the build made (`sha256:…`), whose layer stack the beats reveal.
    pub image: Option<String>,
    /// The beats, in order; the last one shows everything.
    pub beats: Vec<Beat>,
}

impl Playback {
    /// Whether there is anything to play (a single beat is the final state).
    pub fn plays(&self) -> bool {
        self.beats.len() > 1
    }

    /// Whether it only holds the views before a change (played step by step only).
    pub fn only_holds(&self) -> bool {
        self.beats
            .first()
            .is_some_and(|b| b.kind == BeatKind::Change)
    }

    /// The text the worker sends: the image ID, then `;text,layers,kind` for each beat.
    pub fn encode(&self) -> String {
        use std::fmt::Write as _;
        let mut out = self.image.clone().unwrap_or_default();
        for b in &self.beats {
            let _ = write!(out, ";{},{},{}", b.text, b.layers, b.kind.letter());
        }
        out
    }

    /// Reads [`Playback::encode`]'s text (no beats if it is not that).
    pub fn decode(text: &str) -> Self {
        let mut parts = text.split(';');
        let image = parts.next().filter(|i| !i.is_empty()).map(str::to_owned);
        let beats: Option<Vec<Beat>> = parts
            .map(|p| {
                let mut f = p.split(',');
                Some(Beat {
                    text: f.next()?.parse().ok()?,
                    layers: f.next()?.parse().ok()?,
                    kind: BeatKind::from_letter(f.next()?)?,
                })
            })
            .collect();
        Self {
            image,
            beats: beats.unwrap_or_default(),
        }
    }
}

/// One moment of a [`Playback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    /// Bytes of the command's output (its chunks in order) the terminal shows.
    pub text: usize,
    /// Entries of the image's layer stack (history entries, bottom first) shown.
    pub layers: usize,
    /// What happened.
    pub kind: BeatKind,
}

/// What a [`Beat`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeatKind {
    /// The base image's layers (`FROM`).
    Base,
    /// A step started: its layer is being made.
    Started,
    /// A step ran and made its layer.
    Built,
    /// A step's layer came from the build cache: the step was skipped.
    Cached,
    /// The image was written and named.
    Done,
    /// A command changed what the views show (a container started, a file copied up or
    /// deleted, a commit): step by step, the views keep showing the state before it until Next.
    Change,
}

impl BeatKind {
    const LETTERS: [(Self, &'static str); 6] = [
        (Self::Base, "f"),
        (Self::Started, "s"),
        (Self::Built, "b"),
        (Self::Cached, "c"),
        (Self::Done, "d"),
        (Self::Change, "x"),
    ];

    fn letter(self) -> &'static str {
        Self::LETTERS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("d", |(_, l)| l)
    }

    fn from_letter(letter: &str) -> Option<Self> {
        Self::LETTERS
            .iter()
            .find(|(_, l)| *l == letter)
            .map(|(k, _)| *k)
    }

    /// How long the beat stays at 1x speed, in milliseconds (a cached step flashes past).
    pub fn millis(self) -> u32 {
        match self {
            Self::Base => 700,
            Self::Started => 450,
            Self::Built => 650,
            Self::Cached => 300,
            Self::Done => 500,
            // Played only step by step.
            Self::Change => 0,
        }
    }
}

/// What the layer stack shows of a build being played back (handed to the views module as
/// the text [`Reveal::encode`] makes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    /// The image being built (`sha256:…`): other images' stacks are shown whole.
    pub image: String,
    /// How many entries of its stack are shown, bottom first.
    pub shown: usize,
    /// Whether the next entry's step is running (shown as a placeholder).
    pub running: bool,
}

impl Reveal {
    /// `image,shown,running` (`running` is `1` or `0`).
    pub fn encode(&self) -> String {
        let running = if self.running { "1" } else { "0" };
        format!("{},{},{running}", self.image, self.shown)
    }

    /// Reads [`Reveal::encode`]'s text.
    pub fn decode(text: &str) -> Option<Self> {
        let mut f = text.split(',');
        Some(Self {
            image: f.next()?.to_owned(),
            shown: f.next()?.parse().ok()?,
            running: f.next()? == "1",
        })
    }
}

/// The events of a [`Response::Output`] (an empty list if the text is not theirs).
pub fn decode_events(json: &str) -> Vec<Event> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The view a [`Response::View`] carries.
pub fn decode_view(json: &str) -> Result<view::Response, String> {
    serde_json::from_str(json).map_err(|e| format!("the view could not be read: {e}"))
}

/// What the page shows about the engine outside the terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Image references (`my-app:latest`).
    pub images: Vec<String>,
    /// Containers: name, image, state word.
    pub containers: Vec<ContainerSummary>,
}

/// One container in the [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSummary {
    /// Its name.
    pub name: String,
    /// The image as named at `run`.
    pub image: String,
    /// `running`, `exited` …
    pub state: String,
    /// Host ports it publishes (while running).
    pub ports: Vec<u16>,
}

/// Announces a new `data-feed` on `#views-root` to the views module.
pub const FEED_EVENT: &str = "layerbox-feed";
/// Announces a new `data-reveal` on `#views-root` (a build played back) to the views module.
pub const REVEAL_EVENT: &str = "layerbox-reveal";
/// Announces a new `data-pick` on `#views-root` to the page.
pub const PICK_EVENT: &str = "layerbox-pick";

/// What the page hands the views module (loaded after the first paint, see `views_app`): the
/// requests the views show, the worker's answers to them, and the selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewsFeed {
    /// What the views show now.
    pub requests: Vec<view::Request>,
    /// The worker's answers to those requests (view JSON, or the error's message).
    pub answers: Vec<(view::Request, Result<String, String>)>,
    /// What is selected.
    pub selection: crate::state::Selection,
}
