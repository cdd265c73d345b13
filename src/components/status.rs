//! The status line at the foot of the page.

use std::rc::Rc;

use layerbox_core::dockerfile::diagnostic::Severity;
use layerbox_core::dockerfile::editor::Analysis;
use yew::prelude::*;

/// Properties of [`StatusLine`].
#[derive(Properties, PartialEq)]
pub struct StatusProps {
    /// Path of the open file.
    pub file: String,
    /// Number of lines in the open file.
    pub lines: usize,
    /// The Dockerfile's analysis, for the problem counts (`None` while loading).
    pub analysis: Option<Rc<Analysis>>,
    /// What the engine's worker is doing: empty when idle.
    #[prop_or_default]
    pub busy: String,
    /// Whether the engine's worker has started.
    #[prop_or_default]
    pub ready: bool,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Says plainly that everything is simulated, what is open, and how many problems there are.
#[function_component(StatusLine)]
pub fn status_line(props: &StatusProps) -> Html {
    let problems = match &props.analysis {
        None => "problems: checking…".to_owned(),
        Some(analysis) => {
            let count = |s: Severity| {
                analysis
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == s)
                    .count()
            };
            let mut problems = format!(
                "problems: {}, {}",
                plural(count(Severity::Error), "error"),
                plural(count(Severity::Warning), "warning")
            );
            if count(Severity::Info) > 0 {
                problems = format!("{problems}, {}", plural(count(Severity::Info), "note"));
            }
            problems
        }
    };
    let engine = if !props.busy.is_empty() {
        format!("engine: {}…", props.busy)
    } else if props.ready {
        "engine: ready".to_owned()
    } else {
        "engine: loading…".to_owned()
    };
    html! {
        <footer id="status" class="status" role="status">
            <span class="engine">{ "Simulated engine: runs in this page, offline" }</span>
            <span class="sep">{ "·" }</span>
            <span class="worker">{ engine }</span>
            <span class="sep">{ "·" }</span>
            <span class="file">{ format!("{}: {} lines", props.file, props.lines) }</span>
            <span class="sep">{ "·" }</span>
            <span class="problems">{ problems }</span>
            <span class="sep">{ "·" }</span>
            <span class="version">{ format!("layerbox {}", layerbox_core::VERSION) }</span>
        </footer>
    }
}
