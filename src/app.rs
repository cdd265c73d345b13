//! The root component: header, panels, status line.

use yew::prelude::*;

use crate::components::diagnostics::Diagnostics;
use crate::components::editor::Editor;
use crate::components::status::StatusLine;
use crate::state::{Action, State};

/// Properties of [`App`].
#[derive(Properties, PartialEq, Default)]
pub struct AppProps {}

/// The whole playground.
#[function_component(App)]
pub fn app(_props: &AppProps) -> Html {
    let state = use_reducer(State::default);
    let textarea = use_node_ref();
    let onedit = {
        let state = state.dispatcher();
        Callback::from(move |text| state.dispatch(Action::Edit(text)))
    };
    let onopen = {
        let state = state.dispatcher();
        Callback::from(move |i| state.dispatch(Action::Open(i)))
    };
    let onselect = {
        let state = state.clone();
        let textarea = textarea.clone();
        Callback::from(move |span: std::ops::Range<usize>| {
            if !state.dockerfile_open() {
                state.dispatch(Action::Open(0));
            }
            select(&textarea, &state.files[0].contents, span);
        })
    };
    let open = state.open_file();
    let analysis = state.dockerfile_open().then(|| state.analysis.clone());
    html! {
        <div class="app">
            <header class="masthead">
                <h1>{ "layerbox" }</h1>
                <p class="tagline">{ "See what Docker images and containers really are." }</p>
            </header>
            <main class="panels">
                <Editor files={state.files.clone()} open={state.open} {analysis}
                    textarea={textarea.clone()} {onedit} {onopen} />
                <Diagnostics analysis={state.analysis.clone()} {onselect} />
            </main>
            <StatusLine file={open.path.clone()} lines={open.contents.lines().count()}
                analysis={state.analysis.clone()} />
        </div>
    }
}

/// Selects the bytes `span` of `text` in the editor (the DOM counts UTF-16 units).
fn select(textarea: &NodeRef, text: &str, span: std::ops::Range<usize>) {
    let Some(area) = textarea.cast::<web_sys::HtmlTextAreaElement>() else {
        return;
    };
    let utf16 = |i: usize| {
        let i = (0..=i.min(text.len()))
            .rev()
            .find(|&j| text.is_char_boundary(j))
            .unwrap_or(0);
        u32::try_from(text[..i].encode_utf16().count()).unwrap_or(u32::MAX)
    };
    let _ = area.focus();
    let _ = area.set_selection_range(utf16(span.start), utf16(span.end));
}
