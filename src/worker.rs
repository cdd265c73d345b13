//! The web worker's glue (wasm32 only): JSON messages from the page go to the [`Host`], its
//! answers go back. The package catalog is fetched the first time a command needs it, as the
//! static asset `catalog.txt.gz` next to the worker, and inflated here.

use std::cell::{Cell, RefCell};
use std::io::Read as _;
use std::sync::Arc;

use layerbox_core::cli::units::Timestamp;
use layerbox_core::sim::catalog::Catalog;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::host::Host;
use crate::protocol::{Request, Response};

/// Where the catalog is served, relative to the worker's script.
pub const CATALOG_URL: &str = "catalog.txt.gz";

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
    static WAITING: RefCell<Vec<Request>> = const { RefCell::new(Vec::new()) };
    static CATALOG_TRIED: Cell<bool> = const { Cell::new(false) };
    static CATALOG_LOADING: Cell<bool> = const { Cell::new(false) };
    /// How many [`Request::Pull`]s came: only the latest one's images are modelled.
    static PULLS: Cell<u64> = const { Cell::new(0) };
    /// The pending timer that posts the engine's state to keep (0: none).
    static SAVE_TIMER: Cell<i32> = const { Cell::new(0) };
}

/// At most how long after a request on the engine its state is posted to be kept. The save
/// (the whole state serialised and compressed, tens of milliseconds) is held back so that the
/// views' request that follows a command, sent as soon as the page shows its output, is
/// answered first: the save then runs right after that answer (see [`save_after_view`]). A
/// pending save is never put off by later requests (requests arriving every 250 ms, such as
/// the app panel's, once put a debounced save off indefinitely), and with no view request it
/// runs this long after the command, so a reload soon after a command keeps it.
const SAVE_DELAY_MS: i32 = 100;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(response: &Response) {
    if let Ok(json) = serde_json::to_string(response) {
        let _ = scope().post_message(&JsValue::from_str(&json));
    }
}

/// Starts the worker: installs the message handler and says it is ready.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        post(&Response::Error {
            message: format!(
                "the simulated engine stopped on an internal error ({info}); reload the page to start again"
            ),
        });
    }));
    // Random only in the names and IDs it seeds; the engine itself stays deterministic.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let seed = (js_sys::Math::random() * 9.007_199_254_740_991e15) as u64;
    #[allow(clippy::cast_possible_truncation)]
    let now = Arc::new(|| Timestamp((js_sys::Date::now() * 1e6) as i64));
    HOST.with(|h| *h.borrow_mut() = Some(Host::new(now, seed)));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        let Some(text) = e.data().as_string() else {
            return;
        };
        match serde_json::from_str::<Request>(&text) {
            Ok(request) => dispatch(request),
            Err(e) => post(&Response::Error {
                message: format!("the worker could not read a request: {e}"),
            }),
        }
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&Response::Ready);
}

fn dispatch(request: Request) {
    if Host::needs_catalog(&request) && !CATALOG_TRIED.get() {
        WAITING.with(|w| w.borrow_mut().push(request));
        CATALOG_TRIED.set(true);
        wasm_bindgen_futures::spawn_local(load_catalog());
        return;
    }
    // Requests on the engine keep their order behind the commands waiting for the catalog;
    // the editor's analysis, completion and share links do not wait.
    let on_engine = matches!(
        request,
        Request::Run { .. }
            | Request::Replay { .. }
            | Request::ImportImage { .. }
            | Request::Fetch { .. }
            | Request::Restore { .. }
            | Request::Reset
    );
    if on_engine && (CATALOG_LOADING.get() || !WAITING.with(|w| w.borrow().is_empty())) {
        WAITING.with(|w| w.borrow_mut().push(request));
        return;
    }
    // The editor's Dockerfile (the analysis worker, `analyzer.rs`, highlights and checks it),
    // sent once the editor has been left alone: its base images are modelled between requests.
    if let Request::Pull { dockerfile } = request {
        let seq = PULLS.get() + 1;
        PULLS.set(seq);
        wasm_bindgen_futures::spawn_local(pull_bases(seq, dockerfile));
        return;
    }
    let is_view = matches!(request, Request::View(_));
    let responses = HOST.with(|h| h.borrow_mut().as_mut().map(|h| h.handle(request)));
    for r in responses.unwrap_or_default() {
        post(&r);
    }
    if on_engine {
        schedule_save();
    } else if is_view {
        save_after_view();
    }
}

/// Models the base images the Dockerfile in the editor starts from (a simulated `docker pull`
/// ahead of the build, [`Request::Pull`]): the catalog is fetched first if a base needs it.
/// Each image gets its own turn, so that requests that came meanwhile go first, and a later
/// Dockerfile replaces this one.
async fn pull_bases(seq: u64, dockerfile: String) {
    if !CATALOG_TRIED.get() {
        let has_base = layerbox_core::dockerfile::parse(&dockerfile)
            .is_ok_and(|d| d.stages.iter().any(|s| s.base_name != "scratch"));
        if has_base {
            CATALOG_TRIED.set(true);
            load_catalog().await;
        }
    }
    let wanted = HOST.with(|h| {
        h.borrow()
            .as_ref()
            .map(|h| h.bases_to_pull(&dockerfile))
            .unwrap_or_default()
    });
    for reference in wanted {
        idle().await;
        if PULLS.get() != seq {
            return;
        }
        post(&Response::Busy {
            what: format!("modelling base image {reference}"),
        });
        HOST.with(|h| {
            if let Some(h) = h.borrow().as_ref() {
                h.pull_base(&reference);
            }
        });
        post(&Response::Busy {
            what: String::new(),
        });
    }
}

/// Resolves after the messages already queued for the worker have been handled.
async fn idle() {
    wait(50).await;
}

/// Resolves after `ms` milliseconds (and the messages queued meanwhile).
async fn wait(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Posts the engine's state [`SAVE_DELAY_MS`] after a request on the engine, unless a save
/// is already pending (it then keeps its time).
fn schedule_save() {
    if SAVE_TIMER.get() == 0 {
        start_save_timer(SAVE_DELAY_MS);
    }
}

/// A pending save runs as soon as this view's answer is out, ahead of its time.
fn save_after_view() {
    let pending = SAVE_TIMER.replace(0);
    if pending != 0 {
        scope().clear_timeout_with_handle(pending);
        start_save_timer(0);
    }
}

fn start_save_timer(ms: i32) {
    let save = Closure::once_into_js(|| {
        SAVE_TIMER.set(0);
        let saved = HOST.with(|h| h.borrow_mut().as_mut().and_then(Host::take_saved));
        if let Some(saved) = saved {
            post(&saved);
        }
    });
    if let Ok(handle) =
        scope().set_timeout_with_callback_and_timeout_and_arguments_0(save.unchecked_ref(), ms)
    {
        SAVE_TIMER.set(handle);
    }
}

async fn load_catalog() {
    CATALOG_LOADING.set(true);
    post(&Response::Busy {
        what: "loading the image catalog".into(),
    });
    match fetch_catalog().await.and_then(|text| {
        Catalog::parse(&text).map_err(|e| format!("the image catalog is damaged: {e}"))
    }) {
        Ok(catalog) => HOST.with(|h| {
            if let Some(h) = h.borrow_mut().as_mut() {
                h.set_catalog(Arc::new(catalog));
            }
        }),
        Err(message) => post(&Response::Error {
            message: format!("{message}; base images and packages are unavailable"),
        }),
    }
    post(&Response::Busy {
        what: String::new(),
    });
    CATALOG_LOADING.set(false);
    let waiting = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
    for request in waiting {
        dispatch(request);
    }
}

async fn fetch_catalog() -> Result<String, String> {
    let failed = |e: JsValue| {
        format!(
            "the image catalog could not be loaded ({})",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        )
    };
    let response: web_sys::Response = JsFuture::from(scope().fetch_with_str(CATALOG_URL))
        .await
        .map_err(failed)?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "the image catalog could not be loaded (HTTP {} for {CATALOG_URL})",
            response.status()
        ));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(failed)?)
        .await
        .map_err(failed)?;
    let gz = js_sys::Uint8Array::new(&buffer).to_vec();
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .map_err(|e| format!("the image catalog could not be inflated ({e})"))?;
    Ok(text)
}
