//! The list of the Dockerfile's diagnostics: errors, lint findings, why they matter, the fix.

use std::rc::Rc;

use layerbox_core::dockerfile::editor::Analysis;
use yew::prelude::*;

use super::editor::severity_class;

/// Properties of [`Diagnostics`].
#[derive(Properties, PartialEq)]
pub struct DiagnosticsProps {
    /// The Dockerfile's analysis; `None` while the core is still loading.
    pub analysis: Option<Rc<Analysis>>,
    /// Called with the byte span of a finding the learner clicked.
    pub onselect: Callback<std::ops::Range<usize>>,
}

/// The diagnostics panel.
#[function_component(Diagnostics)]
pub fn diagnostics(props: &DiagnosticsProps) -> Html {
    let Some(analysis) = &props.analysis else {
        return html! {
            <section class="panel diagnostics" aria-label="Problems">
                <h2>{ "Problems" }</h2>
                <p class="empty">{ "Loading the parser and linter…" }</p>
            </section>
        };
    };
    let items = &analysis.diagnostics;
    html! {
        <section class="panel diagnostics" aria-label="Problems">
            <h2>{ "Problems" }<span class="count">{ items.len() }</span></h2>
            if items.is_empty() {
                <p class="empty">{ "No problems found: the Dockerfile parses and passes every lint rule." }</p>
            }
            <ul>
                { for items.iter().map(|d| {
                    let span = d.span.clone();
                    let onselect = props.onselect.clone();
                    html! {
                        <li class={classes!("diag", severity_class(d.severity))}>
                            <button class="where" onclick={Callback::from(move |_| onselect.emit(span.clone()))}
                                title="Show in the editor">
                                { format!("{}:{}", d.line, d.column) }
                            </button>
                            <span class="sev">{ d.severity.as_str() }</span>
                            <code class="code">{ &d.code }</code>
                            <span class="msg">{ &d.message }</span>
                            if let Some(help) = &d.help {
                                <div class="help">{ "fix: " }{ help }</div>
                            }
                            if let Some(why) = &d.explanation {
                                <details><summary>{ "why it matters" }</summary><p>{ why }</p></details>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
