//! `docker build`'s progress as BuildKit shows it, drawn from the builder's events after the
//! build. The events become one list of [`Vertex`]es ([`BuildProgress`]): `[internal] load
//! build definition`, the `FROM`, each step with its statuses (`transferring context: 30B`),
//! its output and whether it was `CACHED`, then `exporting to image`. Two printers read that
//! list: the plain format (`--progress=plain`: `#N [1/3] FROM …`, `#N DONE 0.0s`) and the tty
//! display ([`TtyDisplay`]: `[+] Building 0.1s (8/8) FINISHED`, one ` => ` line per vertex,
//! redrawn in place with ANSI cursor movements).
//!
//! Times are the simulation's: no step takes real time, so a `RUN` that ran is shown taking a
//! tenth of a second and everything else none. The `sha256:` vertex digests of the plain format
//! are digests of the vertex names, not BuildKit's LLB digests.
//!
//! The tty display is a pure function of the progress and a moment in it, so a front end draws
//! it however it writes to its terminal (the native binary to its stderr, with the frames
//! spaced in real time; the browser into its terminal panel):
//!
//! ```
//! use layerbox_core::engine::{BuildProgress, TtyDisplay, Vertex, VertexState};
//! let progress = BuildProgress {
//!     vertices: vec![Vertex::new(1, "[1/1] FROM docker.io/library/busybox:latest", VertexState::Done)],
//!     error: None,
//! };
//! let mut display = TtyDisplay::new(80, 24);
//! let frames: String = progress.frames().map(|at| display.frame(&progress, at)).collect();
//! assert!(frames.contains("[+] Building 0.0s (1/1) FINISHED"));
//! assert!(frames.contains(" => [1/1] FROM docker.io/library/busybox:latest"));
//! ```

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::build::{BuildEvent, CacheOutcome};
use crate::image::{Digest, Reference};

/// How a vertex ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VertexState {
    /// It ran (or was resolved) and finished.
    Done,
    /// Its result came from the cache.
    Cached,
    /// It failed with this message.
    Error(String),
    /// It started and never finished (the build stopped elsewhere).
    Running,
}

/// A status line under a vertex (`transferring context: 30B`, `naming to docker.io/…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VertexStatus {
    /// The text.
    pub text: String,
    /// Whether the plain format prints its duration before `done` (`exporting layers 0.0s
    /// done`).
    pub timed: bool,
}

/// One vertex of the build graph, as BuildKit's displays list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vertex {
    /// Its number in the plain format (`#5`), in the order BuildKit numbered it.
    pub number: usize,
    /// Its name (`[2/3] RUN echo hi > /a`).
    pub name: String,
    /// Its status lines.
    pub statuses: Vec<VertexStatus>,
    /// The lines its process wrote.
    pub logs: Vec<String>,
    /// How it ended.
    pub state: VertexState,
    /// How long it took in the simulation, in milliseconds.
    pub millis: u32,
}

impl Vertex {
    /// A vertex without statuses or logs that took no time.
    pub fn new(number: usize, name: impl Into<String>, state: VertexState) -> Self {
        Self {
            number,
            name: name.into(),
            statuses: Vec::new(),
            logs: Vec::new(),
            state,
            millis: 0,
        }
    }

    fn status(mut self, text: impl Into<String>, timed: bool) -> Self {
        self.statuses.push(VertexStatus {
            text: text.into(),
            timed,
        });
        self
    }
}

/// A build's progress: its vertices in the order BuildKit shows them, and the build's error if
/// it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildProgress {
    /// The vertices, in display order.
    pub vertices: Vec<Vertex>,
    /// The error the build ended with.
    pub error: Option<String>,
}

/// What the progress is drawn from.
pub(super) struct Plan<'a> {
    /// Bytes of the Dockerfile.
    pub dockerfile_len: usize,
    /// Bytes of the build context.
    pub context_size: u64,
    /// The stages' base images, and whether each was already local.
    pub bases: &'a [(Reference, bool)],
    /// The builder's events.
    pub events: &'a [BuildEvent],
    /// The output of each `RUN` that ran, in order.
    pub run_lines: Vec<Vec<String>>,
}

struct Step<'a> {
    name: &'a str,
    cached: bool,
    done: bool,
}

/// Simulated duration of a `RUN` that ran: a tenth of a second.
const RUN_MILLIS: u32 = 100;

impl Plan<'_> {
    fn steps(&self) -> Vec<Step<'_>> {
        let mut steps: Vec<Step<'_>> = Vec::new();
        for e in self.events {
            match e {
                BuildEvent::StepStarted { name, .. } => steps.push(Step {
                    name,
                    cached: false,
                    done: false,
                }),
                BuildEvent::Cache {
                    outcome: CacheOutcome::Hit { .. },
                    ..
                } => {
                    if let Some(s) = steps.last_mut() {
                        s.cached = true;
                    }
                }
                BuildEvent::LayerCommitted { .. } => {
                    if let Some(s) = steps.last_mut() {
                        s.done = true;
                    }
                }
                _ => {}
            }
        }
        steps
    }

    /// The progress of a build that made `id` with `tags`.
    pub fn success(&self, id: &Digest, tags: &[Reference]) -> BuildProgress {
        let (mut vertices, n, all_cached) = self.vertices(None);
        let mut export = Vertex::new(n, "exporting to image", VertexState::Done)
            .status("exporting layers", !all_cached)
            .status(format!("writing image {id}"), false);
        for tag in tags {
            export = export.status(format!("naming to {tag}"), false);
        }
        vertices.push(export);
        BuildProgress {
            vertices,
            error: None,
        }
    }

    /// The progress of a build whose last started step failed with `message`.
    pub fn failure(&self, message: &str) -> BuildProgress {
        let (vertices, _, _) = self.vertices(Some(message));
        BuildProgress {
            vertices,
            error: Some(message.to_owned()),
        }
    }

    /// The vertices up to the exporter; returns them, the next vertex number, and whether every
    /// step was cached.
    fn vertices(&self, failure: Option<&str>) -> (Vec<Vertex>, usize, bool) {
        let steps = self.steps();
        let total = steps.len() + 1;
        let mut out = Vec::new();
        let mut n = 1;
        out.push(
            Vertex::new(
                n,
                "[internal] load build definition from Dockerfile",
                VertexState::Done,
            )
            .status(
                format!("transferring dockerfile: {}B", self.dockerfile_len),
                false,
            ),
        );
        n += 1;
        out.push(
            Vertex::new(n, "[internal] load .dockerignore", VertexState::Done)
                .status("transferring context: 2B", false),
        );
        for (base, _) in self.bases {
            n += 1;
            out.push(Vertex::new(
                n,
                format!("[internal] load metadata for {base}"),
                VertexState::Done,
            ));
        }
        n += 1;
        if let Some((base, local)) = self.bases.last() {
            let name = format!("[1/{total}] FROM {base}");
            // BuildKit 20.10 shows a local base image CACHED when a step runs, and as a
            // finished vertex when every step came from the cache (both samples agree).
            out.push(if *local && steps.iter().any(|s| !s.cached) {
                Vertex::new(n, name, VertexState::Cached)
            } else if *local {
                Vertex::new(n, name, VertexState::Done)
            } else {
                Vertex::new(n, name, VertexState::Done).status(format!("resolve {base}"), false)
            });
        } else {
            out.push(Vertex::new(
                n,
                format!("[1/{total}] FROM scratch"),
                VertexState::Done,
            ));
        }
        // BuildKit numbers the context's vertex just before the first step that reads it, and
        // shows it first, as it completes before the steps that wait for it.
        let reads_context = |s: &Step<'_>| {
            (s.name.starts_with("COPY") || s.name.starts_with("ADD")) && !s.name.contains("--from")
        };
        let context_at = steps.iter().position(reads_context);
        let mut numbers = Vec::new();
        let mut next = n + 1;
        for (k, _) in steps.iter().enumerate() {
            if Some(k) == context_at {
                out.push(
                    Vertex::new(next, "[internal] load build context", VertexState::Done).status(
                        format!("transferring context: {}B", self.context_size),
                        false,
                    ),
                );
                next += 1;
            }
            numbers.push(next);
            next += 1;
        }
        let mut runs = self.run_lines.iter();
        let mut all_cached = true;
        for (k, step) in steps.iter().enumerate() {
            let mut v = Vertex::new(
                numbers[k],
                format!("[{}/{total}] {}", k + 2, step.name),
                VertexState::Running,
            );
            if step.cached {
                v.state = VertexState::Cached;
                out.push(v);
                continue;
            }
            all_cached = false;
            if step.name.starts_with("RUN") {
                v.logs = runs.next().cloned().unwrap_or_default();
                v.millis = RUN_MILLIS;
            }
            if step.done {
                v.state = VertexState::Done;
            } else if let Some(message) = failure {
                v.state = VertexState::Error(message.to_owned());
                out.push(v);
                return (out, next, false);
            }
            out.push(v);
        }
        (out, next, all_cached)
    }
}

impl BuildProgress {
    /// BuildKit's plain format (`--progress=plain`), the whole of it.
    pub fn plain(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.vertices.iter().enumerate() {
            let n = v.number;
            let _ = writeln!(
                out,
                "#{n} {}\n#{n} {}",
                v.name,
                Digest::sha256_of(v.name.as_bytes())
            );
            for s in &v.statuses {
                let took = if s.timed { "0.0s " } else { "" };
                let _ = writeln!(out, "#{n} {} {took}done", s.text);
            }
            if v.state != VertexState::Cached {
                for (i, line) in (50..).zip(&v.logs) {
                    let _ = writeln!(out, "#{n} 0.{i:03} {line}");
                }
            }
            match &v.state {
                VertexState::Cached => {
                    let _ = writeln!(out, "#{n} CACHED");
                }
                VertexState::Done => {
                    let _ = writeln!(out, "#{n} DONE {}s", seconds(v.millis));
                }
                VertexState::Error(message) => {
                    let _ = writeln!(out, "#{n} ERROR: {message}");
                    out.push_str(&Self::error_box(v, message));
                    return out;
                }
                VertexState::Running => {}
            }
            if k + 1 < self.vertices.len() || self.error.is_some() {
                out.push('\n');
            }
        }
        if let Some(message) = &self.error {
            let _ = writeln!(out, "ERROR: {message}");
        }
        out
    }

    /// What BuildKit prints after the display when a vertex failed: its name in a box, then
    /// the error. The box is empty of output, as docker 20.10's is.
    fn error_box(v: &Vertex, message: &str) -> String {
        format!("------\n > {}:\n------\n{message}\n", v.name)
    }

    /// What follows the tty display's last frame: the failed vertex's box and the error.
    pub fn tty_epilogue(&self) -> String {
        match self.vertices.iter().find_map(|v| match &v.state {
            VertexState::Error(m) => Some((v, m)),
            _ => None,
        }) {
            Some((v, message)) => Self::error_box(v, message),
            None => self
                .error
                .as_ref()
                .map(|m| format!("ERROR: {m}\n"))
                .unwrap_or_default(),
        }
    }

    /// The vertices in the tty display's order, which is the order BuildKit first heard of
    /// them: a base image found `CACHED` is reported after the build context is loaded (the
    /// sample shows it there), while the plain format prints it where it is numbered.
    fn tty_order(&self) -> Vec<&Vertex> {
        let mut order: Vec<&Vertex> = self.vertices.iter().collect();
        let from = order
            .iter()
            .position(|v| v.state == VertexState::Cached && v.name.contains("] FROM "));
        let context = order
            .iter()
            .position(|v| v.name == "[internal] load build context");
        if let (Some(f), Some(c)) = (from, context)
            && f < c
        {
            let v = order.remove(f);
            order.insert(c, v);
        }
        order
    }

    /// Each vertex in the tty display's order with when it starts and ends, in simulated
    /// milliseconds from the build's start: the vertices run one after another.
    fn spans(&self) -> Vec<(&Vertex, u64, Option<u64>)> {
        let mut at = 0;
        self.tty_order()
            .into_iter()
            .map(|v| {
                let start = at;
                at += u64::from(v.millis);
                let end = (v.state != VertexState::Running).then_some(at);
                (v, start, end)
            })
            .collect()
    }

    /// How long the build took in the simulation, in milliseconds.
    pub fn millis(&self) -> u64 {
        self.vertices.iter().map(|v| u64::from(v.millis)).sum()
    }

    /// The moments a display draws a frame at: the start (nothing loaded yet), the end of each
    /// vertex, every tenth of a second of a long one, and the end ([`Moment::Final`]).
    pub fn frames(&self) -> impl Iterator<Item = Moment> + '_ {
        let mut moments = vec![Moment::Start];
        for (_, start, end) in self.spans() {
            let end = end.unwrap_or(start);
            let mut t = start + 100;
            while t < end {
                moments.push(Moment::At(t));
                t += 100;
            }
            moments.push(Moment::At(end));
        }
        moments.dedup();
        moments.push(Moment::Final);
        moments.into_iter()
    }
}

/// A moment of the build to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Moment {
    /// Before the first vertex: BuildKit's first frame, `(0/1)`.
    Start,
    /// Milliseconds into the build.
    At(u64),
    /// The last frame, every vertex shown and `FINISHED` when all completed.
    Final,
}

impl Moment {
    /// Milliseconds into a build of `total` milliseconds.
    pub fn millis(self, total: u64) -> u64 {
        match self {
            Self::Start => 0,
            Self::At(t) => t,
            Self::Final => total,
        }
    }
}

/// `0.1` for 100 ms: BuildKit's `%.1f` seconds.
fn seconds(millis: impl Into<u64>) -> String {
    let tenths = (millis.into() + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// BuildKit's tty display (its `progressui` "Buck-like" printer): each frame moves the cursor
/// back over the previous one, hides the cursor, prints the `[+] Building` header padded to
/// the terminal's width and one line per job (vertices and their statuses) with the time
/// right-aligned, completed ones blue and failed ones red, blanks what is left of a longer
/// previous frame, and shows the cursor again. Frames other than the last show only as many
/// jobs as fit the terminal's height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtyDisplay {
    width: usize,
    height: usize,
    line_count: usize,
    repeated: bool,
}

struct Job {
    name: String,
    start: u64,
    end: Option<u64>,
    error: bool,
}

const BLUE: &str = "\x1b[34m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";
const UP: &str = "\x1b[1A";
const DOWN: &str = "\x1b[1B";
const COLUMN0: &str = "\x1b[0G";
const HIDE: &str = "\x1b[?25l";
const SHOW: &str = "\x1b[?25h";

impl TtyDisplay {
    /// A display for a terminal of `width` columns and `height` rows (BuildKit uses 80 × 10
    /// when it cannot ask the terminal).
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width: width.max(20),
            height,
            line_count: 0,
            repeated: false,
        }
    }

    /// The bytes of the frame showing `progress` at `moment`.
    pub fn frame(&mut self, progress: &BuildProgress, moment: Moment) -> String {
        let total_millis = progress.millis();
        let now = moment.millis(total_millis);
        let all = moment == Moment::Final;
        let spans = progress.spans();
        let mut jobs = Vec::new();
        let (mut completed, mut total) = (0, 1);
        if moment != Moment::Start {
            total = progress.vertices.len();
            for (v, start, end) in &spans {
                if *start > now {
                    continue;
                }
                let end = end.filter(|e| *e <= now || all);
                if end.is_some() {
                    completed += 1;
                }
                let prefix = match v.state {
                    VertexState::Cached => "CACHED ",
                    VertexState::Error(_) if end.is_some() => "ERROR ",
                    _ => "",
                };
                jobs.push(Job {
                    name: format!("{prefix}{}", v.name.replace('\t', " ")),
                    start: *start,
                    end,
                    error: matches!(v.state, VertexState::Error(_)) && end.is_some(),
                });
                for s in &v.statuses {
                    jobs.push(Job {
                        name: format!("=> {}", s.text),
                        start: *start,
                        end,
                        error: false,
                    });
                }
            }
        }
        if !all {
            let limit = self.height.saturating_sub(2);
            jobs = wrap_height(jobs, limit);
        }
        let mut out = String::new();
        out.push_str(&UP.repeat(self.line_count + 1));
        if !self.repeated {
            out.push_str(DOWN);
        }
        self.repeated = true;
        out.push_str(COLUMN0);
        out.push_str(HIDE);
        let finished = if completed > 0 && completed == total && all {
            "FINISHED"
        } else {
            ""
        };
        let header = format!(
            "[+] Building {}s ({completed}/{total}) {finished}",
            seconds(now)
        );
        out.push_str(&align(&header, "", self.width));
        out.push('\n');
        let mut lines = 0;
        for job in &jobs {
            let took = job.end.unwrap_or(now).saturating_sub(job.start);
            let took = if took < 50 { 0 } else { took };
            let timer = format!(" {:>3}s\n", seconds(took));
            let left = self.width.saturating_sub(4 + timer.len() + 1);
            if left < 12 {
                continue;
            }
            let name: String = job.name.chars().take(left).collect();
            let line = align(&format!(" => {name}"), &timer, self.width);
            if job.end.is_some() {
                out.push_str(if job.error { RED } else { BLUE });
                out.push_str(&line);
                out.push_str(RESET);
            } else {
                out.push_str(&line);
            }
            lines += 1;
        }
        if let Some(diff) = self.line_count.checked_sub(lines).filter(|d| *d > 0) {
            for _ in 0..diff {
                out.push_str(&" ".repeat(self.width));
                out.push('\n');
            }
            out.push_str(&UP.repeat(diff));
            out.push_str(COLUMN0);
        }
        self.line_count = lines;
        out.push_str(SHOW);
        out
    }

    /// Every frame of `progress` and what follows the last, as one string: what BuildKit
    /// writes over the build, for a front end that does not space the frames in time.
    pub fn render_all(&mut self, progress: &BuildProgress) -> String {
        let mut out: String = progress
            .frames()
            .map(|moment| self.frame(progress, moment))
            .collect();
        out.push_str(&progress.tty_epilogue());
        out
    }
}

/// Go's `fmt.Sprintf("%-[2]*[1]s %[3]s", l, w-len(r)-1, r)`: `l` padded, a space, then `r`.
fn align(left: &str, right: &str, width: usize) -> String {
    let pad = width.saturating_sub(right.chars().count() + 1);
    format!("{left:<pad$} {right}")
}

/// BuildKit's `wrapHeight`: the last `limit` jobs, moving unfinished jobs that would be cut
/// off into view in place of finished ones.
fn wrap_height(jobs: Vec<Job>, limit: usize) -> Vec<Job> {
    if jobs.len() <= limit {
        return jobs;
    }
    let cut = jobs.len() - limit;
    let mut jobs = jobs;
    let wrapped = jobs.split_off(cut);
    let mut invisible: Vec<Job> = jobs.into_iter().filter(|j| j.end.is_none()).collect();
    if invisible.is_empty() {
        return wrapped;
    }
    let mut l = invisible.len();
    let mut rewrapped = Vec::new();
    for j in wrapped {
        if j.end.is_none() || l == 0 {
            rewrapped.push(j);
        } else {
            l -= 1;
        }
    }
    invisible.extend(rewrapped);
    let skip = invisible.len().saturating_sub(limit);
    invisible.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_printed_like_go() {
        assert_eq!(seconds(0u64), "0.0");
        assert_eq!(seconds(100u64), "0.1");
        assert_eq!(seconds(1250u64), "1.3");
        assert_eq!(seconds(12_340u64), "12.3");
        assert_eq!(seconds(960u64), "1.0");
    }

    #[test]
    fn align_pads_to_the_width() {
        let line = align(" => x", " 0.0s\n", 80);
        assert_eq!(line.len(), 80);
        assert!(line.ends_with("  0.0s\n"));
        assert_eq!(align("[+] Building", "", 80).len(), 80);
    }
}
