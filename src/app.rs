//! The root component: header (examples, share, reset), editor, terminal, problems, apps, status.
//!
//! It owns the connection to the engine's worker: requests go out from the callbacks and
//! effects here, answers come back as [`Action::Response`].

use std::cell::RefCell;
use std::rc::Rc;

use layerbox_core::examples;
use yew::prelude::*;

use crate::bridge::{Bridge, Connect};
use crate::components::app_panel::AppPanel;
use crate::components::diagnostics::Diagnostics;
use crate::components::display::DisplayToggles;
use crate::components::editor::Editor;
use crate::components::speed::{SPEED_KEY, Speed, SpeedProps, prefers_reduced_motion};
use crate::components::status::StatusLine;
use crate::components::terminal::Terminal;
use crate::protocol::{
    FEED_EVENT, PICK_EVENT, PULL_DELAY_MS, ProjectFile, REVEAL_EVENT, Request, Response, Reveal,
    ViewsFeed,
};
use crate::share::check_files;
use crate::state::{Action, DOCKERFILE, Pick, State, files_of};
use crate::storage::{self, ENGINE_KEY, PROJECT_KEY};

/// Where trunk puts the worker's loader script, relative to the page.
pub const WORKER_URL: &str = "./layerbox-worker_loader.js";
/// The views module's script and wasm, relative to the page.
pub const VIEWS_MODULE: [&str; 2] = ["./layerbox-views.js", "./layerbox-views_bg.wasm"];
/// The analysis module's script and wasm, relative to the page (see [`crate::analysis`]).
pub const ANALYSIS_MODULE: [&str; 2] = ["./layerbox-analyzer.js", "./layerbox-analyzer_bg.wasm"];
/// The views' stylesheet (trunk copies it as it is), linked when the views module loads.
pub const VIEWS_CSS: &str = "./views.css";

/// Properties of [`App`].
#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    /// How to reach the engine. `None`: the page's web worker (in a browser; nothing natively).
    #[prop_or_default]
    pub connect: Option<Connect>,
}

/// The state the page starts from: the saved project, or the Python example; the kept speed.
fn initial_state() -> State {
    State {
        speed: storage::load(SPEED_KEY)
            .and_then(|k| Speed::from_key(&k))
            .unwrap_or_default(),
        reduced_motion: prefers_reduced_motion(),
        ..saved_project()
    }
}

/// The saved project, or the Python example.
fn saved_project() -> State {
    let Some(json) = storage::load(PROJECT_KEY) else {
        return State::default();
    };
    match serde_json::from_str::<Vec<ProjectFile>>(&json)
        .map_err(|e| e.to_string())
        .and_then(|files| check_files(&files).map(|()| files))
    {
        Ok(files) => State::from_files(files),
        Err(e) => State {
            message: Some(format!(
                "the saved project could not be read ({e}); starting from the Python example"
            )),
            ..State::default()
        },
    }
}

#[cfg_attr(target_arch = "wasm32", allow(clippy::unnecessary_wraps))] // None natively
fn default_connect() -> Option<Connect> {
    #[cfg(target_arch = "wasm32")]
    {
        Some(crate::bridge::worker(WORKER_URL))
    }
    #[cfg(not(target_arch = "wasm32"))]
    None
}

/// Sends requests through the bridge once it is connected, numbering them.
#[derive(Clone)]
struct Sender {
    bridge: Rc<RefCell<Option<Bridge>>>,
    next: Rc<RefCell<u64>>,
}

impl Sender {
    fn id(&self) -> u64 {
        let mut n = self.next.borrow_mut();
        *n += 1;
        *n
    }

    fn send(&self, request: Request) {
        if let Some(b) = self.bridge.borrow().as_ref() {
            b.send(request);
        }
    }
}

/// The whole playground.
#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let state = use_reducer(initial_state);
    let sender = Sender {
        bridge: use_mut_ref(|| None),
        next: use_mut_ref(|| 0),
    };
    let textarea = use_node_ref();

    // Connect once; ask for the saved engine state and a shared project.
    {
        let sender = sender.clone();
        let dispatcher = state.dispatcher();
        let connect = props.connect.clone();
        use_effect_with((), move |()| {
            if let Some(connect) = connect.or_else(default_connect) {
                let answer = Callback::from(move |r: Response| {
                    if let Response::Saved { state } = &r
                        && let Err(e) = storage::save(ENGINE_KEY, state)
                    {
                        dispatcher.dispatch(Action::Say(format!(
                            "the engine's state could not be kept in this browser ({e}); it lasts until the page is closed"
                        )));
                    }
                    match &r {
                        Response::Exported { text } => storage::download(EXPORT_FILE_NAME, text),
                        Response::Download { name, data_url } => {
                            storage::download_url(name, data_url);
                        }
                        _ => {}
                    }
                    dispatcher.dispatch(Action::Response(r));
                });
                let bridge = (connect.0)(answer);
                if let Some(saved) = storage::load(ENGINE_KEY) {
                    bridge.send(Request::Restore { state: saved });
                }
                let fragment = storage::fragment();
                if fragment.starts_with("p=") {
                    bridge.send(Request::Open { fragment });
                    storage::clear_fragment();
                }
                *sender.bridge.borrow_mut() = Some(bridge);
            }
        });
    }
    // The Dockerfile is analysed whenever it changes: in the page by the analysis module once
    // it has loaded (no round trip), by the engine's worker until then. The texts asked about
    // are kept until their answer is shown, so that the editor knows which lines an answer
    // covers. A keystroke asks before the page draws it (see `onedit`), so that its analysis
    // is drawn with it; other changes (an example, a share link) ask from the effect below.
    let analysed: Rc<RefCell<Vec<Asked>>> = use_mut_ref(Vec::new);
    let asked = Rc::clone(&analysed);
    let analyze = {
        let (sender, analysed, d) = (sender.clone(), Rc::clone(&analysed), state.dispatcher());
        move |text: &str, again: bool| {
            if !again
                && analysed
                    .borrow()
                    .last()
                    .is_some_and(|(_, asked)| **asked == *text)
            {
                return;
            }
            let seq = sender.id();
            analysed.borrow_mut().push((seq, Rc::from(text)));
            if let Some(analysis) = crate::analysis::analyze(text) {
                d.dispatch(Action::Response(Response::Analysis { seq, analysis }));
            } else {
                sender.send(Request::Analyze {
                    seq,
                    text: text.to_owned(),
                });
            }
        }
    };
    {
        let (analyze, sender) = (analyze.clone(), sender.clone());
        use_effect_with(state.dockerfile().to_owned(), move |text| {
            analyze(text, false);
            // Its base images are modelled ahead of a build once the editor is left alone.
            let dockerfile = text.clone();
            let timer = after(PULL_DELAY_MS, move || {
                sender.send(Request::Pull { dockerfile });
            });
            move || drop(timer)
        });
    }
    let analysed = {
        let mut sent = analysed.borrow_mut();
        sent.retain(|(seq, _)| *seq >= state.analysis_seq);
        sent.first()
            .filter(|(seq, _)| *seq == state.analysis_seq)
            .map(|(_, text)| Rc::clone(text))
    };
    // Autosave the project (the worker keeps the engine's state and the commands run).
    use_effect_with(state.files.clone(), |files| {
        if let Ok(json) = serde_json::to_string(files) {
            let _ = storage::save(PROJECT_KEY, &json);
        }
    });
    // A share link's commands are replayed on a fresh engine, as if typed again.
    {
        let sender = sender.clone();
        let dispatcher = state.dispatcher();
        use_effect_with(state.replay.clone().map(SameRc), move |replay| {
            if let Some(commands) = replay {
                dispatcher.dispatch(Action::Replaying);
                sender.send(Request::Reset);
                for (index, line) in commands.0.iter().enumerate() {
                    let id = sender.id();
                    dispatcher.dispatch(Action::Submit(id, line.clone()));
                    sender.send(Request::Replay { id, index });
                }
            }
        });
    }
    // Each published port's page, asked again whenever the ports change.
    {
        let sender = sender.clone();
        use_effect_with(state.published_ports(), move |ports| {
            for &port in ports {
                sender.send(Request::Fetch {
                    port,
                    path: "/".into(),
                });
            }
        });
    }
    // The views (layers, files, lifecycle) are asked again after every change to the engine
    // (a summary follows every command) and whenever the selection changes.
    {
        let sender = sender.clone();
        use_effect_with(
            (state.summaries, state.view_requests()),
            move |(_, requests)| {
                for r in requests {
                    sender.send(Request::View(r.clone()));
                }
            },
        );
    }
    // The views module draws into `#views-root` from its `data-feed`; loaded after the first
    // paint (only in the page: tests give their own engine and no module).
    let views_root = use_node_ref();
    // Made again only when what it carries changed: the answers hold whole file trees (half a
    // megabyte for the Python image), too much to serialise on every keystroke.
    let feed = use_memo(
        (
            state.view_requests(),
            state.selection.clone(),
            SameRc(Rc::clone(&state.views)),
        ),
        |(requests, selection, views)| {
            let json = serde_json::to_string(&ViewsFeed {
                requests: requests.clone(),
                answers: (*views.0).clone(),
                selection: selection.clone(),
            })
            .unwrap_or_default();
            AttrValue::from(Rc::<str>::from(json))
        },
    );
    // Step by step, a command's change waits for Next: until then the views are fed what they
    // showed before it.
    let shown_feed = use_mut_ref(|| feed.clone());
    let holding = state
        .playing
        .as_ref()
        .is_some_and(|p| p.current().kind == crate::protocol::BeatKind::Change);
    if !holding {
        (*shown_feed.borrow_mut()).clone_from(&feed);
    }
    let feed: AttrValue = (**shown_feed.borrow()).clone();
    {
        let root = views_root.clone();
        use_effect_with(feed.clone(), move |_| {
            if let (Some(root), Ok(event)) =
                (root.cast::<web_sys::Element>(), Event::new(FEED_EVENT))
            {
                let _ = root.dispatch_event(&event);
            }
        });
    }
    {
        let root = views_root.clone();
        let dispatcher = state.dispatcher();
        let page = props.connect.is_none();
        let analyze = analyze.clone();
        use_effect_with((), move |()| {
            #[cfg(target_arch = "wasm32")]
            if let Some(el) = root.cast::<web_sys::Element>() {
                use wasm_bindgen::JsCast as _;
                let target = el.clone();
                let motion = dispatcher.clone();
                let listener = wasm_bindgen::closure::Closure::<dyn FnMut(Event)>::new(move |_| {
                    if let Some(pick) = crate::views_app::read_pick(&target) {
                        dispatcher.dispatch(Action::Pick(pick));
                    }
                });
                let _ = el.add_event_listener_with_callback(
                    PICK_EVENT,
                    listener.as_ref().unchecked_ref(),
                );
                listener.forget();
                // The reduced-motion setting can change while the page is open.
                if let Some(query) = web_sys::window().and_then(|w| {
                    w.match_media("(prefers-reduced-motion: reduce)")
                        .ok()
                        .flatten()
                }) {
                    let list = query.clone();
                    let changed =
                        wasm_bindgen::closure::Closure::<dyn FnMut(Event)>::new(move |_| {
                            motion.dispatch(Action::ReducedMotion(list.matches()));
                        });
                    let _ = query.add_event_listener_with_callback(
                        "change",
                        changed.as_ref().unchecked_ref(),
                    );
                    changed.forget();
                }
                if page {
                    // Once loaded, the analysis module answers the text asked last at once.
                    let [js, wasm] = ANALYSIS_MODULE;
                    crate::analysis::load(js, wasm, move || {
                        let last = asked.borrow().last().map(|(_, t)| Rc::clone(t));
                        if let Some(text) = last {
                            analyze(&text, true);
                        }
                    });
                    let [js, wasm] = VIEWS_MODULE;
                    crate::views_app::load(js, wasm, VIEWS_CSS);
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = (root, dispatcher, page, PICK_EVENT, asked, analyze);
        });
    }
    // A build plays back beat by beat: each beat stays for its time at the speed in effect (step
    // by step: until Next); the views module shows as much of the image being built as the
    // playback has reached, and the stylesheets scale or stop the animations by
    // `<html data-speed>`.
    {
        let dispatcher = state.dispatcher();
        let root = views_root.clone();
        let beat = state
            .playing
            .as_ref()
            .map(|p| (p.id, p.beat, p.current().kind));
        let reveal = state
            .playing
            .as_ref()
            .and_then(crate::state::Playing::reveal);
        use_effect_with(
            (beat, state.speed_in_effect(), reveal),
            move |(beat, speed, reveal)| {
                crate::components::display::set_root_attribute("data-speed", Some(speed.key()));
                if let Some(root) = root.cast::<web_sys::Element>() {
                    let text = reveal.as_ref().map(Reveal::encode).unwrap_or_default();
                    if root.get_attribute("data-reveal").unwrap_or_default() != text {
                        let _ = root.set_attribute("data-reveal", &text);
                        if let Ok(event) = Event::new(REVEAL_EVENT) {
                            let _ = root.dispatch_event(&event);
                        }
                    }
                }
                let timer = beat.and_then(|(id, beat, kind)| {
                    let ms = speed.beat_millis(kind)?;
                    Some(after(ms, move || {
                        dispatcher.dispatch(Action::Advance(id, beat));
                    }))
                });
                move || drop(timer)
            },
        );
    }
    // A new share link goes to the clipboard.
    use_effect_with(state.share_link.clone(), |link| {
        if let Some(fragment) = link {
            storage::copy(&format!("{}#{fragment}", storage::base_url()));
        }
    });

    let d = || state.dispatcher();
    let onedit = {
        let (d, dockerfile) = (state.dispatcher(), state.dockerfile_open());
        Callback::from(move |text: String| {
            if dockerfile {
                analyze(&text, false);
            }
            d.dispatch(Action::Edit(text));
        })
    };
    let onopen = on(d(), Action::Open);
    let onrename = on(d(), |(i, name)| Action::Rename(i, name));
    let ondelete = on(d(), Action::Delete);
    let onadd = on(d(), |()| Action::AddFile);
    let ondockerignore = on(d(), |()| Action::AddDockerignore);
    let oninput = on(d(), Action::Input);
    let onrecall = on(d(), Action::Recall);
    let oncancel = on(d(), |()| Action::Cancel);
    let onclear = on(d(), |()| Action::Clear);
    let onspeed = on(d(), |speed: Speed| {
        let _ = storage::save(SPEED_KEY, speed.key());
        Action::Speed(speed)
    });
    let onnext = {
        let d = state.dispatcher();
        let at = state.playing.as_ref().map(|p| (p.id, p.beat));
        Callback::from(move |()| {
            if let Some((id, beat)) = at {
                d.dispatch(Action::Advance(id, beat));
            }
        })
    };
    let onskip = on(d(), |()| Action::Finish);
    let stepping = state.playing.is_some() && state.speed_in_effect() == Speed::Step;
    let speed = SpeedProps {
        speed: state.speed,
        reduced_motion: state.reduced_motion,
        playing: state
            .playing
            .as_ref()
            .map(|p| (p.beat, p.playback.beats.len())),
        onspeed,
        onnext,
        onskip,
    };
    let onsubmit = {
        let (d, sender, files) = (state.dispatcher(), sender.clone(), state.files.clone());
        Callback::from(move |line: String| {
            if line.trim() == "clear" {
                d.dispatch(Action::Input(String::new()));
                d.dispatch(Action::Clear);
                return;
            }
            let id = sender.id();
            d.dispatch(Action::Submit(id, line.clone()));
            sender.send(Request::Run {
                id,
                line,
                files: files.clone(),
            });
        })
    };
    let oncomplete = {
        let (d, sender, line) = (state.dispatcher(), sender.clone(), state.term.input.clone());
        Callback::from(move |cursor| {
            let id = sender.id();
            d.dispatch(Action::Completing(id, cursor));
            sender.send(Request::Complete {
                id,
                line: line.clone(),
                cursor,
            });
        })
    };
    let onreload = {
        let sender = sender.clone();
        Callback::from(move |port| {
            sender.send(Request::Fetch {
                port,
                path: "/".into(),
            });
        })
    };
    let onexample = {
        let d = state.dispatcher();
        Callback::from(move |e: Event| {
            let name = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            if let Some(example) = examples::by_name(&name) {
                d.dispatch(Action::LoadFiles(files_of(&example)));
            }
        })
    };
    let onshare = {
        let (sender, files) = (sender.clone(), state.files.clone());
        Callback::from(move |_| {
            sender.send(Request::Share {
                files: files.clone(),
            });
        })
    };
    let onexport = {
        let (state, sender) = (state.clone(), sender.clone());
        Callback::from(move |_: MouseEvent| {
            sender.send(Request::Export {
                files: state.files.clone(),
                history: state.term.history.clone(),
            });
        })
    };
    let onimport = {
        let (d, sender) = (state.dispatcher(), sender.clone());
        Callback::from(move |e: Event| {
            #[cfg(target_arch = "wasm32")]
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let (d, sender) = (d.clone(), sender.clone());
                yew::platform::spawn_local(async move {
                    match storage::picked_text(&input).await {
                        Some(text) => sender.send(Request::Import { text }),
                        None => d.dispatch(Action::Say("the file could not be read".into())),
                    }
                    input.set_value("");
                });
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = (e, &d, &sender);
        })
    };
    let onimportimage = {
        let (d, sender) = (state.dispatcher(), sender.clone());
        Callback::from(move |e: Event| {
            #[cfg(target_arch = "wasm32")]
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let (d, sender) = (d.clone(), sender.clone());
                yew::platform::spawn_local(async move {
                    match storage::picked_data_url(&input).await {
                        Some((file, data_url)) => {
                            let name = crate::protocol::imported_image_name(&file);
                            let id = sender.id();
                            d.dispatch(Action::Submit(id, format!("docker import - {name}")));
                            sender.send(Request::ImportImage { id, name, data_url });
                        }
                        None => d.dispatch(Action::Say("the file could not be read".into())),
                    }
                    input.set_value("");
                });
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = (e, &d, &sender);
        })
    };
    let onreset = {
        let (d, sender) = (state.dispatcher(), sender.clone());
        Callback::from(move |_| {
            storage::remove(ENGINE_KEY);
            storage::remove(PROJECT_KEY);
            sender.send(Request::Reset);
            d.dispatch(Action::Reset);
        })
    };
    let ondismiss = on(d(), |_: MouseEvent| Action::Dismiss);
    let onselect = {
        let state = state.clone();
        let textarea = textarea.clone();
        Callback::from(move |span: std::ops::Range<usize>| {
            let Some(index) = state.files.iter().position(|f| f.path == DOCKERFILE) else {
                return;
            };
            if state.open != index {
                state.dispatch(Action::Open(index));
            }
            select(&textarea, state.dockerfile(), span);
        })
    };

    // A click or a caret move in the Dockerfile picks the instruction on that line.
    let onpoint = {
        let (d, analysis, lines) = (
            state.dispatcher(),
            state.analysis.clone(),
            state.selection.lines,
        );
        Callback::from(move |line: usize| {
            let picked = analysis
                .as_ref()
                .and_then(|a| a.instructions.iter().find(|l| l.contains(line)).copied());
            if picked != lines {
                d.dispatch(Action::Pick(Pick::Lines(picked)));
            }
        })
    };
    let open = state.open_file();
    let analysis = state
        .dockerfile_open()
        .then(|| state.analysis.clone())
        .flatten();
    let selected = state
        .dockerfile_open()
        .then_some(state.selection.lines)
        .flatten();
    html! {
        <div class="app">
            <header class="masthead">
                <h1>{ "layerbox" }</h1>
                <p class="tagline">{ "See what Docker images and containers really are." }</p>
                <span class="simulated" title="No container runs and nothing leaves this page">
                    { "Everything here is simulated in your browser" }</span>
                <nav class="actions" aria-label="Project">
                    <label>{ "Example " }
                        <select id="examples" onchange={onexample} aria-label="Load an example">
                            <option value="" selected=true disabled=true>{ "load…" }</option>
                            { for examples::all().iter().map(|e| html! {
                                <option value={e.name}>{ e.name }</option>
                            }) }
                        </select>
                    </label>
                    <button id="share" onclick={onshare} title="Copy a link that carries the project's files">
                        { "Share link" }</button>
                    <button id="export" onclick={onexport}
                        title="Save the project's files and commands as a JSON file">
                        { "Export" }</button>
                    <label class="button" title="Open a project saved with Export">{ "Import" }
                        <input id="import" type="file" accept=".json,application/json"
                            onchange={onimport} aria-label="Import a project file" />
                    </label>
                    <DisplayToggles />
                    <button id="reset" onclick={onreset} title="Forget the images, containers and edits">
                        { "Reset" }</button>
                </nav>
            </header>
            if let Some(message) = &state.message {
                <div class="message" role="alert">
                    <span>{ message }</span>
                    <button onclick={ondismiss} aria-label="Dismiss">{ "×" }</button>
                </div>
            }
            if let Some(fragment) = &state.share_link {
                <div class="share-link">
                    <label>{ "Share link (copied): " }
                        <input id="share-link" readonly=true
                            value={format!("{}#{fragment}", storage::base_url())} />
                    </label>
                </div>
            }
            <main class="panels">
                <div class="column">
                    <Editor files={state.files.clone()} open={state.open} {analysis} {analysed}
                        {selected} {onpoint} textarea={textarea.clone()} {onedit} {onopen} {onadd}
                        {ondockerignore} {onrename} {ondelete} />
                    <Terminal term={state.term.clone()} {oninput} {onsubmit} {onrecall} {oncancel}
                        {onclear} {oncomplete} {onimportimage}
                        reveal={state.playing.as_ref().map(crate::state::Playing::text)}
                        {stepping} {speed} />
                </div>
                <div class="column">
                    <Diagnostics analysis={state.analysis.clone()} {onselect} />
                    <div id="views-root" class="views-root" ref={views_root} data-feed={feed}>
                    </div>
                    <AppPanel pages={state.pages.clone()}
                        containers={state.summary.containers.clone()} {onreload} />
                </div>
            </main>
            <StatusLine file={open.path.clone()} lines={open.contents.lines().count()}
                analysis={state.analysis.clone()} busy={state.busy.clone()} ready={state.ready} />
        </div>
    }
}

/// Runs `f` once after `ms` milliseconds, unless what is returned is dropped first.
fn after(ms: u32, f: impl FnOnce() + 'static) -> impl Drop {
    struct Timer {
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        handle: Option<i32>,
        _callback: Option<Box<dyn std::any::Any>>,
    }
    impl Drop for Timer {
        fn drop(&mut self) {
            #[cfg(target_arch = "wasm32")]
            if let (Some(handle), Some(w)) = (self.handle, web_sys::window()) {
                w.clear_timeout_with_handle(handle);
            }
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast as _;
        let callback = wasm_bindgen::closure::Closure::once(f);
        let handle = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                i32::try_from(ms).unwrap_or(i32::MAX),
            )
            .ok()
        });
        Timer {
            handle,
            _callback: Some(Box::new(callback)),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (ms, f);
        Timer {
            handle: None,
            _callback: None,
        }
    }
}

/// A Dockerfile text sent to be analysed, with its request's number.
type Asked = (u64, Rc<str>);

/// The name an exported project's download gets.
const EXPORT_FILE_NAME: &str = "layerbox-project.json";
/// An `Rc` compared by identity: the state replaces it whenever its contents change.
struct SameRc<T>(Rc<T>);

impl<T> PartialEq for SameRc<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A callback that dispatches the action `f` makes of its argument.
fn on<T: 'static>(
    d: UseReducerDispatcher<State>,
    f: impl Fn(T) -> Action + 'static,
) -> Callback<T> {
    Callback::from(move |x| d.dispatch(f(x)))
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
