//! The messages between the page and the engine's web worker, as JSON.
//!
//! The page holds only these data types: every piece of core logic (parser, linter, builder,
//! engine, completion, share-link coding) runs in the worker, so the first page stays small and
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
}

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
