//! Native render tests of the playground (Yew SSR, no browser): the first page, and every
//! component with the props the worker's answers give it.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::rc::Rc;

use layerbox_core::dockerfile::editor::analyze;
use layerbox_core::examples;
use layerbox_web::components::app_panel::{AppPanel, AppPanelProps};
use layerbox_web::components::diagnostics::{Diagnostics, DiagnosticsProps};
use layerbox_web::components::editor::{Editor, EditorProps};
use layerbox_web::components::speed::{Speed, SpeedProps, speed_control};
use layerbox_web::components::status::{StatusLine, StatusProps};
use layerbox_web::components::terminal::{Terminal, TerminalProps};
use layerbox_web::protocol::ContainerSummary;
use layerbox_web::state::{Line, LineKind, Terminal as Term, files_of};
use layerbox_web::{App, AppProps};
use yew::{BaseComponent, Callback};

async fn render<C: BaseComponent>(props: C::Properties) -> String {
    yew::LocalServerRenderer::<C>::with_props(props)
        .hydratable(false)
        .render()
        .await
}

#[tokio::test]
async fn first_page_has_name_editor_terminal_and_says_simulated() {
    let html = render::<App>(AppProps::default()).await;
    assert!(html.contains("<h1>layerbox</h1>"), "{html}");
    assert!(html.contains(r#"id="editor""#), "{html}");
    assert!(
        html.contains("FROM python:3.9-slim\nWORKDIR /app\nCOPY . /app\n"),
        "{html}"
    );
    assert!(html.contains("Simulated engine"), "{html}");
    assert!(
        html.contains("Everything here is simulated in your browser"),
        "{html}"
    );
    assert!(html.contains("Dockerfile: 7 lines"), "{html}");
    assert!(html.contains(r#"id="terminal-input""#), "{html}");
    // The core loads in the worker after the first paint.
    assert!(html.contains("Loading the parser and linter"), "{html}");
    assert!(html.contains("problems: checking…"), "{html}");
    for e in examples::all() {
        assert!(
            html.contains(&format!(r#"<option value="{0}">{0}</option>"#, e.name)),
            "{html}"
        );
    }
    assert!(
        html.contains("No running container publishes a port yet"),
        "{html}"
    );
    // The classroom toggles: the system's theme until one is picked, presenter mode off.
    assert!(html.contains(">Theme: system</button>"), "{html}");
    assert!(
        html.contains(r#"id="presenter" aria-pressed="false""#),
        "{html}"
    );
    // The animations' speed, 1× until the learner picks another, in the terminal's heading.
    assert!(
        html.contains(r#"<select id="speed" aria-label="Animation speed">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="1" selected="selected">1×</option>"#),
        "{html}"
    );
}

/// The speed control on its own (the page draws it in the terminal's heading).
#[yew::function_component(SpeedControl)]
fn speed_control_alone(props: &SpeedProps) -> yew::Html {
    speed_control(props)
}

#[tokio::test]
async fn the_speed_control_offers_next_in_step_mode_and_says_when_motion_is_reduced() {
    let props = |speed, reduced_motion, playing| SpeedProps {
        speed,
        reduced_motion,
        playing,
        onspeed: Callback::noop(),
        onnext: Callback::noop(),
        onskip: Callback::noop(),
    };
    let html = render::<SpeedControl>(props(Speed::Step, false, Some((1, 8)))).await;
    assert!(
        html.contains(r#"role="group" aria-label="Animations""#),
        "{html}"
    );
    for (value, label) in [("0.5", "0.5×"), ("2", "2×"), ("instant", "instant")] {
        assert!(
            html.contains(&format!(r#"<option value="{value}">{label}</option>"#)),
            "{html}"
        );
    }
    assert!(
        html.contains(r#"<option value="step" selected="selected">step by step</option>"#),
        "{html}"
    );
    assert!(html.contains("step 2 of 8"), "{html}");
    assert!(
        html.contains(r#"id="next" aria-keyshortcuts="Enter""#),
        "{html}"
    );
    assert!(html.contains(r#"id="skip""#), "{html}");
    assert!(!html.contains("reduced motion"), "{html}");
    // At 1× the beats go by themselves: no Next, but Skip.
    let html = render::<SpeedControl>(props(Speed::Normal, false, Some((0, 8)))).await;
    assert!(
        !html.contains(r#"id="next""#) && html.contains(r#"id="skip""#),
        "{html}"
    );
    // Reduced motion: the learner's pick shows, and why nothing moves.
    let html = render::<SpeedControl>(props(Speed::Half, true, None)).await;
    assert!(
        html.contains(r#"<option value="0.5" selected="selected">"#),
        "{html}"
    );
    assert!(html.contains("reduced motion"), "{html}");
    assert!(
        !html.contains("step 1") && !html.contains(r#"id="skip""#),
        "{html}"
    );
    let html = render::<SpeedControl>(props(Speed::Step, true, None)).await;
    assert!(!html.contains("reduced motion"), "{html}");
}

#[tokio::test]
async fn the_terminal_shows_a_build_played_back_as_far_as_its_beat() {
    let term = Term {
        lines: vec![
            line(4, LineKind::Input, "$ docker build .\n"),
            line(
                4,
                LineKind::Stderr,
                "#1 [internal] load\n#1 DONE 0.0s\n\n#2 [2/2] RUN x\n",
            ),
        ],
        ..Term::default()
    };
    let html = render::<Terminal>(TerminalProps {
        reveal: Some((4, 33)),
        stepping: true,
        speed: SpeedProps {
            speed: Speed::Step,
            playing: Some((0, 5)),
            ..SpeedProps::default()
        },
        ..terminal_props(term)
    })
    .await;
    assert!(html.contains("$ docker build .\n"), "{html}");
    assert!(html.contains("#1 DONE 0.0s\n\n</span>"), "{html}");
    assert!(!html.contains("RUN x"), "{html}");
    assert!(
        html.contains(r#"<span class="running">running…</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"placeholder="Enter: next step of the build""#),
        "{html}"
    );
    // The speed control is in the heading, with Next.
    assert!(html.contains("step 1 of 5"), "{html}");
    assert!(html.contains(r#"id="next""#), "{html}");
}

fn editor_props(open: usize) -> EditorProps {
    let files = files_of(&examples::python());
    EditorProps {
        analysis: Some(Rc::new(analyze(&files[0].contents))),
        files,
        open,
        onedit: Callback::noop(),
        onopen: Callback::noop(),
        onadd: Callback::noop(),
        ondockerignore: Callback::noop(),
        onrename: Callback::noop(),
        ondelete: Callback::noop(),
        textarea: yew::NodeRef::default(),
        analysed: None,
        selected: None,
        onpoint: Callback::noop(),
    }
}

#[tokio::test]
async fn the_dockerfile_is_highlighted_with_the_cores_analysis() {
    let html = render::<Editor>(editor_props(0)).await;
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
    for name in ["Dockerfile", "app.py", "requirements.txt"] {
        assert!(
            html.contains(&format!(">{name}</button>")),
            "missing tab {name}: {html}"
        );
    }
    // Line numbers, and the Dockerfile's name cannot be changed or deleted.
    assert!(html.contains("1\n2\n3\n4\n5\n6\n7\n8\n"), "{html}");
    assert!(html.contains("readonly"), "{html}");
    assert!(!html.contains(">delete</button>"), "{html}");
}

/// The highlighted copy is drawn a line at a time; the instruction picked in a view is marked
/// behind its lines and in the gutter; lines typed since the analysis are drawn plain.
#[tokio::test]
async fn lines_are_highlighted_one_by_one_and_the_picked_instruction_is_marked() {
    use layerbox_core::dockerfile::SourceLines;
    let mut props = editor_props(0);
    props.selected = Some(SourceLines { first: 3, last: 4 });
    let html = render::<Editor>(props).await;
    assert!(
        html.contains(r#"<span class="hl"><span class="tok-keyword">WORKDIR</span> /app"#),
        "{html}"
    );
    assert!(
        html.contains(r#"style="--first: 2; --count: 2""#) && html.contains("line-mark"),
        "{html}"
    );
    assert!(
        html.contains("1\n2\n<span class=\"selected\">3\n4\n</span>5\n"),
        "{html}"
    );
    // The analysis is of an older text: line 2 changed since, the lines around keep their marks.
    let mut props = editor_props(0);
    let now = props.files[0]
        .contents
        .replace("WORKDIR /app", "XWORKDIR /app");
    props.analysed = Some(props.files[0].contents.as_str().into());
    props.files[0].contents = now;
    let html = render::<Editor>(props).await;
    assert!(html.contains(r#"<span class="hl">XWORKDIR /app"#), "{html}");
    assert!(
        html.contains(
            r#"<span class="hl"><span class="tok-keyword squiggle sev-warning">COPY</span>"#
        ),
        "{html}"
    );
}

#[test]
fn the_caret_line_counts_utf16_units_as_the_dom_does() {
    use layerbox_web::components::editor::caret_line;
    let text = "FROM a\n# é😀\nRUN b\n";
    assert_eq!(caret_line(text, 0), 1);
    assert_eq!(caret_line(text, 6), 1);
    assert_eq!(caret_line(text, 7), 2);
    // `# é😀\n` is 6 UTF-16 units: line 3 starts at 13.
    assert_eq!(caret_line(text, 12), 2);
    assert_eq!(caret_line(text, 13), 3);
}

#[tokio::test]
async fn another_file_can_be_renamed_and_deleted() {
    let html = render::<Editor>(editor_props(1)).await;
    assert!(html.contains(r#"value="app.py""#), "{html}");
    assert!(html.contains(">delete</button>"), "{html}");
    assert!(html.contains("from flask import Flask"), "{html}");
}

#[tokio::test]
async fn problems_explain_why_and_how_to_fix() {
    let analysis = Some(Rc::new(analyze(examples::python().dockerfile())));
    let html = render::<Diagnostics>(DiagnosticsProps {
        analysis: analysis.clone(),
        onselect: Callback::noop(),
    })
    .await;
    // The article's Dockerfile runs as root and uses the legacy `ENV NAME World` form.
    assert!(html.contains("LegacyKeyValueFormat"), "{html}");
    assert!(html.contains("why it matters"), "{html}");
    let html = render::<StatusLine>(StatusProps {
        file: "Dockerfile".into(),
        lines: 7,
        analysis,
        busy: "loading the image catalog".into(),
        ready: true,
    })
    .await;
    assert!(html.contains("problems: 0 errors,"), "{html}");
    assert!(
        html.contains("engine: loading the image catalog…"),
        "{html}"
    );
}

/// A piece of the transcript.
fn line(id: u64, kind: LineKind, text: &str) -> Line {
    Line {
        id,
        kind,
        text: text.into(),
    }
}

/// The terminal showing `term`, nothing played back, every callback doing nothing.
fn terminal_props(term: Term) -> TerminalProps {
    TerminalProps {
        term,
        oninput: Callback::noop(),
        onsubmit: Callback::noop(),
        onrecall: Callback::noop(),
        oncancel: Callback::noop(),
        onclear: Callback::noop(),
        oncomplete: Callback::noop(),
        onimportimage: Callback::noop(),
        reveal: None,
        stepping: false,
        speed: SpeedProps::default(),
    }
}

#[tokio::test]
async fn the_terminal_shows_output_as_printed_with_streams_apart() {
    let term = Term {
        lines: vec![
            line(1, LineKind::Input, "$ docker ps\n"),
            line(1, LineKind::Stdout, "CONTAINER ID   IMAGE\n"),
            line(2, LineKind::Input, "$ docker rm nope\n"),
            line(2, LineKind::Stderr, "Error: No such container: nope\n"),
            line(2, LineKind::Notice, "simulated: a note\n"),
        ],
        input: "docker im".into(),
        shell: Some("web".into()),
        ..Term::default()
    };
    let html = render::<Terminal>(terminal_props(term)).await;
    assert!(
        html.contains(r#"<span class="t-out">CONTAINER ID   IMAGE"#),
        "{html}"
    );
    assert!(html.contains(r#"id="import-image" type="file""#), "{html}");
    assert!(
        html.contains(r#"<span class="t-err">Error: No such container: nope"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="t-notice">simulated: a note"#),
        "{html}"
    );
    // In a container's shell the prompt is `# `.
    assert!(html.contains(r#"<span class="prompt"># </span>"#), "{html}");
    assert!(html.contains(r#"value="docker im""#), "{html}");
}

#[tokio::test]
async fn the_app_panel_frames_the_modelled_answer_as_simulated() {
    let html = render::<AppPanel>(AppPanelProps {
        pages: BTreeMap::from([
            (3000, Ok("Hello World\n".to_owned())),
            (4000, Err("Connection refused".to_owned())),
        ]),
        containers: vec![ContainerSummary {
            name: "web".into(),
            image: "my-app".into(),
            state: "running".into(),
            ports: vec![3000],
        }],
        onreload: Callback::noop(),
    })
    .await;
    assert!(html.contains("http://localhost:3000/"), "{html}");
    assert!(html.contains(r#"<pre class="page">Hello World"#), "{html}");
    assert!(html.contains(">simulated</span>"), "{html}");
    assert!(html.contains("modelled answer of web (my-app)"), "{html}");
    assert!(html.contains("curl: (7) Connection refused"), "{html}");
}

#[tokio::test]
async fn the_views_panel_draws_the_cores_layers_view() {
    use std::sync::Arc;

    use layerbox_core::cli::units::Timestamp;
    use layerbox_core::sim::catalog::Catalog;
    use layerbox_core::view;
    use layerbox_web::components::views::{Tab, Views, ViewsProps};
    use layerbox_web::host::Host;
    use layerbox_web::protocol::{Request, Response};
    use layerbox_web::state::Selection;

    let mut host = Host::new(Arc::new(|| Timestamp::from_unix_secs(1_764_000_000)), 3);
    host.set_catalog(Catalog::builtin().unwrap());
    host.handle(Request::Run {
        id: 1,
        line: "docker build -t my-app .".into(),
        files: files_of(&examples::python()),
    });
    let layers = view::Request::Layers {
        image: "my-app".into(),
    };
    let answers: Vec<_> = [layers.clone(), view::Request::Lifecycle]
        .into_iter()
        .map(|r| match host.handle(Request::View(r)).remove(0) {
            Response::View { request, result } => (request, result),
            other => panic!("{other:?}"),
        })
        .collect();
    let props = |tab| ViewsProps {
        requests: vec![layers.clone(), view::Request::Lifecycle],
        views: Rc::new(answers.clone()),
        selection: Selection {
            tab,
            ..Selection::default()
        },
        onpick: Callback::noop(),
        reveal: None,
    };
    let html = render::<Views>(props(Tab::Layers)).await;
    assert!(html.contains("Layers of"), "{html}");
    assert!(html.contains("pip install"), "{html}");
    // While the build plays back, its image's stack shows the layers made so far and the
    // step running; another image's reveal leaves it whole.
    let Response::Output { playback, .. } = host
        .handle(Request::Run {
            id: 2,
            line: "docker build -t my-app .".into(),
            files: files_of(&examples::python()),
        })
        .remove(0)
    else {
        panic!()
    };
    let playback = layerbox_web::protocol::Playback::decode(&playback);
    let beats = &playback.beats;
    let reveal = |image: String| layerbox_web::protocol::Reveal {
        image,
        shown: beats[0].layers,
        running: true,
    };
    let image = playback.image.clone().unwrap();
    let html = render::<Views>(ViewsProps {
        reveal: Some(reveal(image)),
        ..props(Tab::Layers)
    })
    .await;
    assert!(html.contains("running: WORKDIR /app"), "{html}");
    assert!(!html.contains("pip install"), "{html}");
    let html = render::<Views>(ViewsProps {
        reveal: Some(reveal("sha256:other".into())),
        ..props(Tab::Layers)
    })
    .await;
    assert!(
        html.contains("pip install") && !html.contains("running"),
        "{html}"
    );
    let html = render::<Views>(props(Tab::Lifecycle)).await;
    assert!(html.contains("<svg"), "{html}");
    assert!(html.contains("my-app"), "{html}");
    // Nothing asked yet, and an error, are said in words.
    let html = render::<Views>(ViewsProps {
        requests: vec![],
        views: Rc::default(),
        selection: Selection {
            tab: Tab::Files,
            ..Selection::default()
        },
        onpick: Callback::noop(),
        reveal: None,
    })
    .await;
    assert!(html.contains("Build an image or run a container"), "{html}");
}
