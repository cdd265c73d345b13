//! The views module: a second Yew program (`layerbox-views`) that draws the layer stack, the
//! file tree and the lifecycle graph. The page loads it after its first paint, so that the view
//! components and their decoders are not part of the first page.
//!
//! The two programs talk through one element, `#views-root`, which the page renders: its
//! `data-feed` attribute holds the [`ViewsFeed`] as JSON, and a `layerbox-feed` event says it
//! changed; a pick in a view is written to `data-pick` and announced by a `layerbox-pick` event.

use std::rc::Rc;

use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

use crate::components::views::Views;
use crate::protocol::{FEED_EVENT, PICK_EVENT, REVEAL_EVENT, Reveal, ViewsFeed};
use crate::state::Pick;

/// The element the page renders for the views.
pub const ROOT_ID: &str = "views-root";

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(ROOT_ID)
}

fn read_feed() -> ViewsFeed {
    root()
        .and_then(|r| r.get_attribute("data-feed"))
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// What the page says of the build it plays back (`data-reveal`).
fn read_reveal() -> Option<Reveal> {
    Reveal::decode(&root()?.get_attribute("data-reveal")?)
}

/// Calls `f` on each `event` at the root.
fn listen(event: &str, f: impl FnMut() + 'static) {
    let mut f = f;
    let listener = Closure::<dyn FnMut(Event)>::new(move |_| f());
    if let Some(root) = root() {
        let _ = root.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
    }
    listener.forget();
}

#[function_component(ViewsHost)]
fn views_host() -> Html {
    let feed = use_state(read_feed);
    let reveal = use_state(read_reveal);
    {
        let (feed, reveal) = (feed.setter(), reveal.setter());
        use_effect_with((), move |()| {
            listen(FEED_EVENT, move || feed.set(read_feed()));
            listen(REVEAL_EVENT, move || reveal.set(read_reveal()));
        });
    }
    let onpick = Callback::from(|pick: Pick| {
        if let (Some(root), Ok(json)) = (root(), serde_json::to_string(&pick)) {
            let _ = root.set_attribute("data-pick", &json);
            if let Ok(event) = Event::new(PICK_EVENT) {
                let _ = root.dispatch_event(&event);
            }
        }
    });
    html! {
        <Views requests={feed.requests.clone()} views={Rc::new(feed.answers.clone())}
            selection={feed.selection.clone()} {onpick} reveal={(*reveal).clone()} />
    }
}

#[function_component(Nothing)]
fn nothing() -> Html {
    Html::default()
}

/// Mounts the views into `#views-root` (the views module's entry point).
///
/// Both programs are Yew apps, each numbering its roots from 1 and marking a root's element
/// with its number, and the page's root (the body) holds this one. Yew routes an event to the
/// app whose number is on the closest marked element: if both roots were number 1, a click in
/// the views would also run the page's listener that has the same number as the views' one
/// (clicking the Lifecycle tab pressed Reset). An empty first root, on an element outside the
/// page, makes the views' root number 2.
pub fn start() {
    if let Some(root) = root() {
        if let Some(spare) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("div").ok())
        {
            yew::Renderer::<Nothing>::with_root(spare).render();
        }
        yew::Renderer::<ViewsHost>::with_root(root).render();
    }
}

/// Loads the views module (trunk's no-modules build of `layerbox-views`) and its stylesheet
/// `css` into the page.
pub fn load(js: &str, wasm: &str, css: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let (Ok(link), Some(head)) = (document.create_element("link"), document.head()) {
        let _ = link.set_attribute("rel", "stylesheet");
        let _ = link.set_attribute("href", css);
        let _ = head.append_child(&link);
    }
    let Ok(script) = document.create_element("script") else {
        return;
    };
    let _ = script.set_attribute("src", js);
    // The no-modules loader declares a global `wasm_bindgen` (a `let`, not a window property),
    // which code made with `Function` can call.
    let start = js_sys::Function::new_no_args(&format!("wasm_bindgen({wasm:?})"));
    let onload = Closure::<dyn FnMut()>::new(move || {
        let _ = start.call0(&JsValue::NULL);
    });
    if let Some(s) = script.dyn_ref::<web_sys::HtmlElement>() {
        s.set_onload(Some(onload.as_ref().unchecked_ref()));
    }
    onload.forget();
    if let Some(head) = document.head() {
        let _ = head.append_child(&script);
    }
}

/// The pick a views module announced on `root`.
pub fn read_pick(root: &web_sys::Element) -> Option<Pick> {
    serde_json::from_str(&root.get_attribute("data-pick")?).ok()
}
