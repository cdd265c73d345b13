//! Browser tests of the playground, in headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use layerbox_web::{App, AppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlElement, HtmlTextAreaElement, InputEvent, InputEventInit};

wasm_bindgen_test_configure!(run_in_browser);

async fn tick() {
    yew::platform::time::sleep(Duration::from_millis(20)).await;
}

fn mount() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps {}).render();
    root
}

fn text_of(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn typing_in_the_editor_updates_the_status_line() {
    let root = mount();
    tick().await;
    assert!(text_of(&root, "#status").contains("Dockerfile: 7 lines"));
    let editor: HtmlTextAreaElement = root
        .query_selector("#editor")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    editor.set_value("FROM alpine:3.20\nRUN echo hi\n");
    let init = InputEventInit::new();
    init.set_bubbles(true);
    editor
        .dispatch_event(&InputEvent::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
    tick().await;
    assert!(text_of(&root, "#status").contains("Dockerfile: 2 lines"));
    // The core re-lints as you type: `alpine:3.20` is pinned, so no missing-tag warning.
    editor.set_value("FROM alpine\nCOPY onlyone\n");
    editor
        .dispatch_event(&InputEvent::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
    tick().await;
    assert!(text_of(&root, "#status").contains("problems: 1 error"));
    assert!(text_of(&root, ".diagnostics").contains("COPY requires at least two arguments"));
    root.remove();
}

#[wasm_bindgen_test]
async fn clicking_a_tab_opens_that_file() {
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
    assert!(text_of(&root, "#status").contains("app.py:"));
    root.remove();
}

#[wasm_bindgen_test]
fn the_core_parses_and_lints_in_the_browser() {
    use layerbox_core::dockerfile::{self, lint, parser};
    let src = "FROM python:3.9-slim\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\nCMD python app.py\n";
    let ast = parser::parse(src).unwrap();
    assert_eq!(ast.children.len(), 3);
    assert_eq!(
        ast.children[1].heredocs[0].content,
        "apt-get update\napt-get install -y curl\n"
    );
    let parsed = dockerfile::parse(src).unwrap();
    assert_eq!(parsed.stages.len(), 1);
    let found = lint::lint(&parsed, src, &lint::LintOptions::default());
    // Package lists left in the layer, seen inside the heredoc; shell-form CMD.
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("apt package lists")),
        "{found:?}"
    );
    assert!(found.iter().any(|d| d.line == 6), "{found:?}");
    let err = dockerfile::parse("FROM alpine\nCOPY x\n").unwrap_err();
    assert_eq!(err.line(), 2);
}
