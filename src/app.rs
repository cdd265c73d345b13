//! The root component: header, panels, status line.

use yew::prelude::*;

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
    let onedit = {
        let state = state.dispatcher();
        Callback::from(move |text| state.dispatch(Action::Edit(text)))
    };
    let onopen = {
        let state = state.dispatcher();
        Callback::from(move |i| state.dispatch(Action::Open(i)))
    };
    let open = state.open_file();
    html! {
        <div class="app">
            <header class="masthead">
                <h1>{ "layerbox" }</h1>
                <p class="tagline">{ "See what Docker images and containers really are." }</p>
            </header>
            <main class="panels">
                <Editor files={state.files.clone()} open={state.open} {onedit} {onopen} />
            </main>
            <StatusLine file={open.path.clone()} lines={open.contents.lines().count()} />
        </div>
    }
}
