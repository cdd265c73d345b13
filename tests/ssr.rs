//! Native render tests of the playground (Yew SSR, no browser).
#![cfg(not(target_arch = "wasm32"))]

use layerbox_web::{App, AppProps};

async fn render() -> String {
    yew::LocalServerRenderer::<App>::with_props(AppProps {})
        .hydratable(false)
        .render()
        .await
}

#[tokio::test]
async fn first_page_has_name_editor_and_status() {
    let html = render().await;
    assert!(html.contains("<h1>layerbox</h1>"), "{html}");
    assert!(html.contains(r#"id="editor""#), "{html}");
    assert!(
        html.contains("FROM python:3.9-slim\nWORKDIR /app\nCOPY . /app\n"),
        "{html}"
    );
    assert!(html.contains("Simulated engine"), "{html}");
    assert!(html.contains("Dockerfile: 7 lines"), "{html}");
}

#[tokio::test]
async fn dockerfile_is_highlighted_and_linted_by_the_core() {
    let html = render().await;
    assert!(
        html.contains(r#"<span class="tok-keyword">RUN</span>"#),
        "{html}"
    );
    // No USER in the final stage: the warning squiggles the FROM line.
    assert!(
        html.contains(r#"<span class="tok-keyword squiggle sev-warning">FROM</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="tok-flag">--no-cache-dir</span>"#),
        "{html}"
    );
    assert!(html.contains("Problems"), "{html}");
    // The article's Dockerfile runs as root and uses the legacy `ENV NAME World` form.
    assert!(html.contains("LegacyKeyValueFormat"), "{html}");
    assert!(html.contains("why it matters"), "{html}");
    assert!(html.contains("problems: 0 errors,"), "{html}");
}

#[tokio::test]
async fn every_context_file_has_a_tab() {
    let html = render().await;
    for name in ["Dockerfile", "app.py", "requirements.txt"] {
        assert!(
            html.contains(&format!(">{name}</button>")),
            "missing tab {name}: {html}"
        );
    }
}
