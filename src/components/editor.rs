//! The build-context editor: file tabs, line numbers and a text area.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::state::ProjectFile;

/// Properties of [`Editor`].
#[derive(Properties, PartialEq)]
pub struct EditorProps {
    /// The build context.
    pub files: Vec<ProjectFile>,
    /// Index of the open file.
    pub open: usize,
    /// Called with the new text of the open file on every keystroke.
    pub onedit: Callback<String>,
    /// Called with the index of a tab the learner clicked.
    pub onopen: Callback<usize>,
}

/// The editor panel.
#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let file = &props.files[props.open];
    let oninput = {
        let onedit = props.onedit.clone();
        Callback::from(move |e: InputEvent| {
            onedit.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value());
        })
    };
    let line_count = file.contents.split('\n').count().max(1);
    let gutter = (1..=line_count).fold(String::new(), |mut s, n| {
        use std::fmt::Write as _;
        let _ = writeln!(s, "{n}");
        s
    });
    html! {
        <section class="panel editor" aria-label="Build context editor">
            <nav class="tabs" role="tablist">
                { for props.files.iter().enumerate().map(|(i, f)| {
                    let onopen = props.onopen.clone();
                    html! {
                        <button role="tab" class={classes!("tab", (i == props.open).then_some("active"))}
                            aria-selected={(i == props.open).to_string()}
                            onclick={Callback::from(move |_| onopen.emit(i))}>
                            { &f.path }
                        </button>
                    }
                }) }
            </nav>
            <div class="code">
                <pre class="gutter" aria-hidden="true">{ gutter }</pre>
                <textarea id="editor" spellcheck="false" autocomplete="off"
                    aria-label={format!("Contents of {}", file.path)}
                    value={file.contents.clone()} {oninput} />
            </div>
        </section>
    }
}
