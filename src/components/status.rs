//! The status line at the foot of the page.

use yew::prelude::*;

/// Properties of [`StatusLine`].
#[derive(Properties, PartialEq)]
pub struct StatusProps {
    /// Path of the open file.
    pub file: String,
    /// Number of lines in the open file.
    pub lines: usize,
}

/// Says plainly that everything is simulated, and what is open.
#[function_component(StatusLine)]
pub fn status_line(props: &StatusProps) -> Html {
    html! {
        <footer id="status" class="status" role="status">
            <span class="engine">{ "Simulated engine: runs in this page, offline" }</span>
            <span class="sep">{ "·" }</span>
            <span class="file">{ format!("{}: {} lines", props.file, props.lines) }</span>
            <span class="sep">{ "·" }</span>
            <span class="version">{ format!("layerbox {}", layerbox_core::VERSION) }</span>
        </footer>
    }
}
