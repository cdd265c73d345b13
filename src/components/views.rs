//! The views panel: tabs for the image's layer stack, the merged file tree and the lifecycle
//! graph. Each tab decodes the core's view (computed in the worker, carried as JSON) and hands it
//! to its component; picks in a view come back as [`Pick`]s.

use std::rc::Rc;

use layerbox_core::view::{self, Request};
use yew::prelude::*;

use super::files::FileTree;
use super::layers::LayerStack;
use super::lifecycle::Lifecycle;
use crate::protocol::{Reveal, decode_view};
use crate::state::{Pick, Selection};

pub use crate::state::Tab;

/// Properties of [`Views`].
#[derive(Properties, PartialEq)]
pub struct ViewsProps {
    /// What the views show now (from `State::view_requests`).
    pub requests: Vec<Request>,
    /// The worker's latest answers.
    pub views: Rc<Vec<(Request, Result<String, String>)>>,
    /// What is selected.
    pub selection: Selection,
    /// Called with the learner's picks (a tab too: the page asks only for what it shows).
    pub onpick: Callback<Pick>,
    /// How much of the image being built to show, while its build plays back.
    #[prop_or_default]
    pub reveal: Option<Reveal>,
}

/// The answer to the request of this kind, decoded: `None` while there is none yet.
fn answer(
    props: &ViewsProps,
    kind: impl Fn(&Request) -> bool,
) -> Option<Result<view::Response, String>> {
    let request = props.requests.iter().find(|r| kind(r))?;
    let (_, result) = props.views.iter().find(|(r, _)| r == request)?;
    Some(
        result
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|json| decode_view(json)),
    )
}

fn note(text: &str) -> Html {
    html! { <p class="empty">{ text }</p> }
}

/// The views panel.
#[function_component(Views)]
pub fn views(props: &ViewsProps) -> Html {
    let tab = props.selection.tab;
    let pick = |f: fn(String) -> Pick| props.onpick.reform(f);
    let body = match tab {
        Tab::Layers => match answer(props, |r| matches!(r, Request::Layers { .. })) {
            None => note("Build an image to see its layers: docker build -t my-app ."),
            Some(Ok(view::Response::Layers(v))) => {
                let reveal = props
                    .reveal
                    .as_ref()
                    .filter(|r| r.image == v.image.to_string())
                    .map(|r| (r.shown, r.running));
                html! {
                    <LayerStack view={Rc::new(v)} selected={props.selection.layer} {reveal}
                        onselect={props.onpick.reform(Pick::Layer)} lines={props.selection.lines}
                        onlines={props.onpick.reform(Pick::Lines)} />
                }
            }
            Some(Ok(_)) => Html::default(),
            Some(Err(e)) => note(&e),
        },
        Tab::Files => match answer(props, |r| matches!(r, Request::Files { .. })) {
            None => note("Build an image or run a container to see its files."),
            Some(Ok(view::Response::Files(v))) => {
                let content = match answer(props, |r| matches!(r, Request::File { .. })) {
                    Some(Ok(view::Response::File(c))) => Some(Rc::new(c)),
                    _ => None,
                };
                let onpick = props.onpick.clone();
                let onlayer = Callback::from(move |(layer, lines)| {
                    onpick.emit(Pick::Layer(layer));
                    onpick.emit(Pick::Lines(lines));
                });
                html! {
                    <FileTree view={Rc::new(v)} {content} selected={props.selection.path.clone()}
                        filter={props.selection.filter.clone()} onselect={pick(Pick::Path)}
                        onsearch={pick(Pick::Filter)} lines={props.selection.lines}
                        layer={props.selection.layer} {onlayer} />
                }
            }
            Some(Ok(_)) => Html::default(),
            Some(Err(e)) => note(&e),
        },
        Tab::Lifecycle => match answer(props, |r| matches!(r, Request::Lifecycle)) {
            Some(Ok(view::Response::Lifecycle(v))) => html! {
                <Lifecycle view={Rc::new(v)} selected={props.selection.node.clone()}
                    onselect={pick(Pick::Node)} />
            },
            Some(Err(e)) => note(&e),
            _ => note("Images and containers appear here as you build and run them."),
        },
    };
    let tab_button = |t: Tab, label: &str| {
        let onpick = props.onpick.clone();
        html! {
            <button role="tab" class={classes!("tab", (tab == t).then_some("active"))}
                aria-selected={(tab == t).to_string()}
                onclick={Callback::from(move |_| onpick.emit(Pick::Tab(t)))}>
                { label }
            </button>
        }
    };
    html! {
        <section class="panel views" aria-label="Views of the engine">
            <nav class="tabs" role="tablist">
                { tab_button(Tab::Layers, "Layers") }
                { tab_button(Tab::Files, "Files") }
                { tab_button(Tab::Lifecycle, "Lifecycle") }
            </nav>
            <div class="view-body">{ body }</div>
        </section>
    }
}
