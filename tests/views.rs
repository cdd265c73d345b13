//! Native render tests of the views (Yew SSR, no browser): the layer stack, the file tree and
//! the lifecycle diagram, each fed by the core's view of a real engine state.
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use layerbox_core::dockerfile::SourceLines;
use layerbox_core::engine::{BuildInput, Engine, EngineState, Output};
use layerbox_core::fs::{Entry, Layer, Meta};
use layerbox_core::view::{self, Request, Response};
use layerbox_web::components::files::{FileTree, FilesProps};
use layerbox_web::components::layers::{LayerStack, LayersProps};
use layerbox_web::components::lifecycle::{Lifecycle, LifecycleProps};
use yew::{BaseComponent, Callback};

const DOCKERFILE: &str =
    "FROM scratch\nCOPY . /app\nCOPY app.py /app/app.py\nCMD [\"/app/app.py\"]\n";

fn context(app: &str) -> Layer {
    let mut files = Layer::new();
    let meta = Meta::new(0o644, 1_700_000_000);
    files.insert("Dockerfile", Entry::file(meta, DOCKERFILE));
    files.insert("app.py", Entry::file(meta, app));
    files.insert("requirements.txt", Entry::file(meta, "flask\n"));
    files
}

fn run(engine: &mut Engine, line: &str) {
    let argv = layerbox_core::cli::split::split_line(line).unwrap();
    let mut out = Output::default();
    assert_eq!(engine.execute(&argv, &mut out), 0, "{line}: {}", out.text());
}

/// Built twice (the second time from the cache), a container created, and its writable layer
/// as a learner's edits leave it: `app.py` copied up and changed, `requirements.txt` deleted.
fn engine() -> Engine {
    let mut engine = Engine::new(EngineState::default());
    for _ in 0..2 {
        engine.set_build_input(BuildInput {
            files: context("print('hello')\n"),
        });
        run(&mut engine, "docker build -t app .");
    }
    run(&mut engine, "docker create --name web app");
    let mut state = engine.into_state();
    let upper = &mut state.containers[0].upper;
    upper.insert("app", Entry::dir(Meta::new(0o755, 1_700_000_000)));
    upper.insert(
        "app/app.py",
        Entry::file(Meta::new(0o644, 1_700_000_100), "print('changed')\n"),
    );
    upper.insert_whiteout("app/requirements.txt");
    Engine::new(state)
}

fn answer(engine: &Engine, req: &Request) -> Response {
    view::answer(engine, req).unwrap()
}

async fn render<C: BaseComponent>(props: C::Properties) -> String {
    yew::LocalServerRenderer::<C>::with_props(props)
        .hydratable(false)
        .render()
        .await
}

/// The layer stack of `app` in [`engine`]'s state.
fn layers_of_app() -> view::LayersView {
    let Response::Layers(v) = answer(
        &engine(),
        &Request::Layers {
            image: "app".into(),
        },
    ) else {
        panic!()
    };
    v
}

#[tokio::test]
async fn the_layer_stack_shows_cache_badges_waste_and_the_score() {
    let v = layers_of_app();
    let html = render::<LayerStack>(LayersProps {
        view: Rc::new(v),
        selected: Some(1),
        onselect: Callback::noop(),
        reveal: None,
        lines: None,
        onlines: Callback::noop(),
    })
    .await;
    assert!(html.contains("Layers of <code>app:latest</code>"), "{html}");
    // Bottom first in the document; the CSS turns the list so the bottom is at the bottom.
    let copy_all = html.find("COPY . /app").unwrap();
    let copy_one = html.find("COPY app.py /app/app.py").unwrap();
    assert!(copy_all < copy_one, "{html}");
    // The second build took both steps from the cache: visibly marked, with the reason.
    assert_eq!(html.matches(r#"class="layer cached"#).count(), 2, "{html}");
    assert!(
        html.contains(r#"title="Taken from the build cache: same instruction on the same parent step, same files" class="badge cache-hit">CACHED</span>"#),
        "{html}"
    );
    assert!(html.contains("layer cached selected"), "{html}");
    assert!(html.contains("config only, no layer"), "{html}");
    // app.py of the first COPY is overwritten by the second: wasted, with both instructions.
    assert!(html.contains("15B wasted"), "{html}");
    assert!(
        html.contains("created by <code>COPY . /app</code> (layer 0), removed by <code>COPY app.py /app/app.py</code> (layer 1)"),
        "{html}"
    );
    assert!(
        html.contains("Efficiency") && html.contains("15B wasted in 1 file<"),
        "{html}"
    );
    assert!(html.contains("<meter"), "{html}");
}

/// An instruction picked in the editor (by its lines, which the core's build recorded) marks
/// its step in the layer stack, and its layer and the files that layer touched in the file
/// tree; a config-only step is a button too.
#[tokio::test]
async fn a_picked_instruction_marks_its_layer_and_its_files() {
    let engine = engine();
    let v = layers_of_app();
    // Line 3: `COPY app.py /app/app.py`, the image's layer 1.
    let line3 = Some(SourceLines { first: 3, last: 3 });
    assert_eq!(v.steps[1].source, line3);
    let html = render::<LayerStack>(LayersProps {
        view: Rc::new(v.clone()),
        selected: Some(0),
        onselect: Callback::noop(),
        lines: line3,
        onlines: Callback::noop(),
        reveal: None,
    })
    .await;
    assert_eq!(html.matches("selected").count(), 1, "{html}");
    assert!(html.contains(r#"class="layer cached selected""#), "{html}");
    assert!(
        html.contains(r#"aria-live="polite" class="step-note">Dockerfile line 3: layer 1.</p>"#),
        "{html}"
    );
    assert_eq!(html.matches(r#"aria-pressed="true""#).count(), 1, "{html}");
    // The CMD step changed only the config: picked by its line, said so.
    let html = render::<LayerStack>(LayersProps {
        view: Rc::new(v),
        selected: None,
        onselect: Callback::noop(),
        lines: Some(SourceLines { first: 4, last: 4 }),
        onlines: Callback::noop(),
        reveal: None,
    })
    .await;
    assert!(
        html.contains(r#"class="layer config-only selected""#),
        "{html}"
    );
    assert!(
        html.contains("Dockerfile line 4: the image's config only, no layer."),
        "{html}"
    );

    let Response::Files(tree) = answer(
        &engine,
        &Request::Files {
            target: "web".into(),
            path_filter: None,
        },
    ) else {
        panic!()
    };
    let html = render::<FileTree>(FilesProps {
        view: Rc::new(tree),
        content: None,
        selected: None,
        filter: String::new(),
        onselect: Callback::noop(),
        onsearch: Callback::noop(),
        lines: line3,
        layer: None,
        onlayer: Callback::noop(),
    })
    .await;
    // Layer 1 wrote /app/app.py only; the writable layer changed it again.
    assert_eq!(html.matches("touched").count(), 1, "{html}");
    assert!(
        html.contains(r#"class="entry file in-upper copied-up touched""#),
        "{html}"
    );
    assert!(
        html.contains(r#"class="mark mark-c picked">C1</span>"#)
            || html.contains(r#"class="mark mark-a picked">A1</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"class="layer-label selected""#), "{html}");
    assert!(
        html.contains("1 path added, changed or deleted by layer 1 is marked."),
        "{html}"
    );
}

#[tokio::test]
async fn a_build_played_back_shows_the_layers_its_steps_made_so_far() {
    let v = layers_of_app();
    let v = Rc::new(v);
    let stack = |reveal| {
        render::<LayerStack>(LayersProps {
            view: Rc::clone(&v),
            selected: None,
            onselect: Callback::noop(),
            reveal,
            lines: None,
            onlines: Callback::noop(),
        })
    };
    // The first COPY made its layer, the second is running: a placeholder says so.
    let html = stack(Some((1, true))).await;
    assert!(html.contains("COPY . /app"), "{html}");
    assert_eq!(html.matches(r#"class="layer-button""#).count(), 1, "{html}");
    assert!(
        html.contains(r#"aria-label="running: COPY app.py /app/app.py" class="layer running""#),
        "{html}"
    );
    assert!(html.contains("running…"), "{html}");
    assert!(!html.contains("config only"), "{html}");
    // Each layer revealed during the playback slides in at once, not after the ones below.
    assert!(!html.contains("--order: 1"), "{html}");
    // Between steps no placeholder; at the end every entry, staggered as on a first showing.
    let html = stack(Some((2, false))).await;
    assert_eq!(html.matches(r#"class="layer-button""#).count(), 2, "{html}");
    assert!(!html.contains("running"), "{html}");
    let html = stack(None).await;
    assert!(html.contains("config only, no layer"), "{html}");
    assert!(html.contains("--order: 2"), "{html}");
}

#[tokio::test]
async fn the_file_tree_shows_origins_copy_up_and_whiteouts() {
    let engine = engine();
    let Response::Files(v) = answer(
        &engine,
        &Request::Files {
            target: "web".into(),
            path_filter: Some("/app".into()),
        },
    ) else {
        panic!()
    };
    let Response::File(content) = answer(
        &engine,
        &Request::File {
            target: "web".into(),
            path: "/app/app.py".into(),
        },
    ) else {
        panic!()
    };
    let html = render::<FileTree>(FilesProps {
        view: Rc::new(v),
        content: Some(Rc::new(content)),
        selected: Some("/app/app.py".into()),
        filter: "/app".into(),
        onselect: Callback::noop(),
        onsearch: Callback::noop(),
        lines: None,
        layer: None,
        onlayer: Callback::noop(),
    })
    .await;
    assert!(
        html.contains("Files of container <code>web</code>"),
        "{html}"
    );
    assert!(
        html.contains(r#"type="search""#) && html.contains(r#"value="/app""#),
        "{html}"
    );
    // app.py: copied up into the writable layer (RW) over layer 1's copy.
    assert!(
        html.contains(r#"class="entry file in-upper copied-up selected""#),
        "{html}"
    );
    assert!(
        html.contains(r#"title="changed in layer 2" class="mark mark-c">C2</span>"#),
        "{html}"
    );
    // requirements.txt: deleted by a whiteout, struck through.
    assert!(
        html.contains(r#"<s class="name">requirements.txt</s>"#),
        "{html}"
    );
    assert!(html.contains("deleted by a whiteout in layer 2"), "{html}");
    assert!(
        html.contains(r#"title="deleted in layer 2" class="mark mark-d">D2</span>"#),
        "{html}"
    );
    // The origin of an untouched file, and the writable layer in the legend.
    assert!(
        html.contains(r#"title="from layer 0" class="badge origin">L0</span>"#),
        "{html}"
    );
    assert!(html.contains("container layer"), "{html}");
    assert!(
        html.contains("<pre class=\"text\">print('changed')\n</pre>"),
        "{html}"
    );
}

#[tokio::test]
async fn the_lifecycle_diagram_colours_containers_by_state() {
    let engine = engine();
    let Response::Lifecycle(v) = answer(&engine, &Request::Lifecycle) else {
        panic!()
    };
    let html = render::<Lifecycle>(LifecycleProps {
        view: Rc::new(v),
        selected: None,
        onselect: Callback::noop(),
    })
    .await;
    assert!(html.contains("<svg"), "{html}");
    assert!(
        html.contains(r#"class="node node-container state-created""#),
        "{html}"
    );
    assert!(
        html.contains(r#"aria-label="web: container · created""#),
        "{html}"
    );
    assert!(html.contains(r#"class="edge edge-build""#), "{html}");
    assert!(html.contains(r#"class="edge edge-run""#), "{html}");
    assert!(html.contains(">Dockerfile</text>"), "{html}");

    let empty = render::<Lifecycle>(LifecycleProps {
        view: Rc::new(view::LifecycleView::default()),
        selected: None,
        onselect: Callback::noop(),
    })
    .await;
    assert!(empty.contains("Nothing yet"), "{empty}");
}

/// Every rule that animates is listed again under `prefers-reduced-motion: reduce`.
#[test]
fn every_animation_stops_for_reduced_motion() {
    let root = env!("CARGO_MANIFEST_DIR");
    let css = std::fs::read_to_string(format!("{root}/static/views.css")).unwrap();
    let (main, reduced) = css
        .split_once("@media (prefers-reduced-motion: reduce)")
        .unwrap();
    let reduced_selectors: Vec<String> = reduced
        .split('{')
        .nth(1)
        .unwrap()
        .split(',')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut animated = 0;
    for rule in main.split('}') {
        let Some((selector, body)) = rule.split_once('{') else {
            continue;
        };
        let selector = selector.rsplit("*/").next().unwrap().trim();
        if selector.starts_with("@keyframes") || selector.starts_with("from") {
            continue;
        }
        // A rule that stops animations (the speed control's instant) is not one.
        let stops = body.contains("animation: none");
        if (body.contains("animation:") && !stops) || body.contains("animation-name:") {
            animated += 1;
            for one in selector.split(',') {
                let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    reduced_selectors.contains(&one),
                    "`{one}` animates but not under reduced motion"
                );
            }
        }
    }
    assert!(animated >= 5, "{animated}");
    let index = std::fs::read_to_string(format!("{root}/index.html")).unwrap();
    // Shipped beside the views module and linked when the page loads it (off the first page).
    assert!(index.contains(r#"<link data-trunk rel="copy-file" href="static/views.css" />"#));
    assert_eq!(layerbox_web::app::VIEWS_CSS, "./views.css");
}
