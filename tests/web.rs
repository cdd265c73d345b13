//! Browser tests of the playground, in headless Chromium (wasm-bindgen-test). The engine runs
//! in-process here (the page's worker is a separate program that trunk builds).
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;
use std::time::Duration;

use layerbox_core::cli::units::Timestamp;
use layerbox_web::bridge::local;
use layerbox_web::host::Host;
use layerbox_web::{App, AppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    HtmlElement, HtmlInputElement, HtmlTextAreaElement, InputEvent, InputEventInit, KeyboardEvent,
    KeyboardEventInit,
};

wasm_bindgen_test_configure!(run_in_browser);

async fn tick() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

/// Waits until `cond` holds (at most 5 s), so that slow debug builds of the engine pass too.
async fn until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tick().await;
    }
    panic!("timed out waiting for {what}");
}

fn mount() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let _ = web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .clear();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let connect = local(|| Host::new(Arc::new(|| Timestamp::from_unix_secs(1_764_000_000)), 1));
    yew::Renderer::<App>::with_root_and_props(
        root.clone(),
        AppProps {
            connect: Some(connect),
        },
    )
    .render();
    root
}

fn text_of(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

fn input_event(target: &web_sys::EventTarget) {
    let init = InputEventInit::new();
    init.set_bubbles(true);
    target
        .dispatch_event(&InputEvent::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
}

fn key(target: &web_sys::EventTarget, key: &str, ctrl: bool) {
    let init = KeyboardEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_key(key);
    init.set_ctrl_key(ctrl);
    target
        .dispatch_event(
            &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
        )
        .unwrap();
}

/// The page's element matching `selector`, as a `T`.
fn element<T: JsCast>(root: &web_sys::Element, selector: &str) -> T {
    root.query_selector(selector)
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap()
}

/// A mounted playground whose engine is ready.
async fn ready() -> web_sys::Element {
    let root = mount();
    until("the engine", || {
        text_of(&root, "#status").contains("engine: ready")
    })
    .await;
    root
}

/// Replaces the open file's text, as typing would.
fn set_editor(root: &web_sys::Element, text: &str) {
    let editor: HtmlTextAreaElement = element(root, "#editor");
    editor.set_value(text);
    input_event(&editor);
}

fn terminal_input(root: &web_sys::Element) -> HtmlInputElement {
    root.query_selector("#terminal-input")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap()
}

/// Types `line` at the prompt and presses Enter; waits for its output.
async fn run(root: &web_sys::Element, line: &str) {
    let input = terminal_input(root);
    input.set_value(line);
    input_event(&input);
    tick().await;
    let before = root
        .query_selector_all("#transcript .t-input")
        .unwrap()
        .length();
    key(&input, "Enter", false);
    until("the command to finish", || {
        root.query_selector_all("#transcript .t-input")
            .unwrap()
            .length()
            > before
            && root.query_selector(".terminal .running").unwrap().is_none()
    })
    .await;
}

#[wasm_bindgen_test]
async fn typing_in_the_editor_is_linted_by_the_core() {
    let root = mount();
    until("the first analysis", || {
        text_of(&root, "#status").contains("problems: 0 errors")
    })
    .await;
    assert!(text_of(&root, "#status").contains("Dockerfile: 7 lines"));
    let editor: HtmlTextAreaElement = root
        .query_selector("#editor")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    editor.set_value("FROM alpine\nCOPY onlyone\n");
    input_event(&editor);
    until("the COPY error", || {
        text_of(&root, "#status").contains("problems: 1 error")
    })
    .await;
    assert!(text_of(&root, ".diagnostics").contains("COPY requires at least two arguments"));
    assert!(text_of(&root, "#status").contains("Dockerfile: 2 lines"));
    root.remove();
}

#[wasm_bindgen_test]
async fn files_are_added_and_renamed_in_tabs() {
    let root = mount();
    tick().await;
    let tabs = root.query_selector_all(".tab").unwrap();
    let app_py: HtmlElement = tabs.item(1).unwrap().dyn_into().unwrap();
    app_py.click();
    tick().await;
    let editor: HtmlTextAreaElement = root
        .query_selector("#editor")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert!(editor.value().contains("from flask import Flask"));
    let add: HtmlElement = root
        .query_selector(".tab.add")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    add.click();
    tick().await;
    let name: HtmlInputElement = root
        .query_selector("#filename")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(name.value(), "new-file.txt");
    name.set_value("src/util.py");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    name.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
    tick().await;
    assert!(text_of(&root, ".tabs").contains("src/util.py"));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_terminal_runs_commands_completes_and_recalls() {
    let root = ready().await;
    run(&root, "docker ps").await;
    let transcript = text_of(&root, "#transcript");
    assert!(
        transcript.contains("$ docker ps\nCONTAINER ID   IMAGE"),
        "{transcript}"
    );
    run(&root, "docker rm nope").await;
    assert_eq!(
        text_of(&root, "#transcript .t-err"),
        "Error: No such container: nope\n"
    );
    // A build of the editor's files (FROM scratch needs no base image).
    set_editor(&root, "FROM scratch\nCOPY app.py /\n");
    tick().await;
    run(&root, "docker build -t tiny .").await;
    assert!(
        text_of(&root, "#transcript").contains("naming to docker.io/library/tiny"),
        "{}",
        text_of(&root, "#transcript")
    );
    let input = terminal_input(&root);
    input.set_value("docker rmi ti");
    input_event(&input);
    tick().await;
    key(&input, "Tab", false);
    until("the completion", || {
        terminal_input(&root).value() == "docker rmi tiny:latest "
    })
    .await;
    key(&input, "c", true);
    tick().await;
    assert_eq!(terminal_input(&root).value(), "");
    key(&input, "ArrowUp", false);
    tick().await;
    assert_eq!(terminal_input(&root).value(), "docker build -t tiny .");
    key(&input, "l", true);
    tick().await;
    assert_eq!(text_of(&root, "#transcript"), "");
    root.remove();
}

fn click(root: &web_sys::Element, selector: &str) {
    element::<HtmlElement>(root, selector).click();
}

#[wasm_bindgen_test]
async fn step_by_step_a_build_waits_for_next_or_enter_and_skip_shows_the_end() {
    let root = ready().await;
    set_editor(
        &root,
        "FROM scratch\nCOPY app.py /\nCOPY requirements.txt /\n",
    );
    // The speed picked is kept and written to <html data-speed> for the stylesheets.
    let speed: web_sys::HtmlSelectElement = element(&root, "#speed");
    speed.set_value("step");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    speed
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
    let html = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .document_element()
        .unwrap();
    until("data-speed", || {
        html.get_attribute("data-speed").as_deref() == Some("step")
    })
    .await;
    let kept = web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .get_item("layerbox.speed")
        .unwrap();
    assert_eq!(kept.as_deref(), Some("step"));
    let input = terminal_input(&root);
    input.set_value("docker build -t stepped .");
    input_event(&input);
    tick().await;
    key(&input, "Enter", false);
    // FROM, then each COPY starts and makes its layer, then the image: 6 beats.
    until("the first step", || {
        text_of(&root, ".speed .beat") == "step 1 of 6"
    })
    .await;
    for _ in 0..10 {
        tick().await;
    }
    assert_eq!(
        text_of(&root, ".speed .beat"),
        "step 1 of 6",
        "it moved alone"
    );
    let transcript = text_of(&root, "#transcript");
    assert!(transcript.contains("FROM scratch"), "{transcript}");
    assert!(!transcript.contains("COPY app.py"), "{transcript}");
    assert_eq!(
        terminal_input(&root).placeholder(),
        "Enter: next step of the build"
    );
    // Enter on the empty line is Next; so is the button.
    key(&input, "Enter", false);
    until("the second step", || {
        text_of(&root, ".speed .beat") == "step 2 of 6"
    })
    .await;
    assert!(text_of(&root, "#transcript").contains("COPY app.py"));
    click(&root, "#next");
    until("the third step", || {
        text_of(&root, ".speed .beat") == "step 3 of 6"
    })
    .await;
    assert!(!text_of(&root, "#transcript").contains("naming to"));
    click(&root, "#skip");
    until("the end", || {
        root.query_selector(".speed .beat").unwrap().is_none()
            && root.query_selector(".terminal .running").unwrap().is_none()
    })
    .await;
    assert!(text_of(&root, "#transcript").contains("naming to docker.io/library/stepped"));
    root.remove();
}
