//! The playground's views on the simulated engine: the article's Python example built, rebuilt
//! and run, and the apt lesson (lists downloaded in one layer, deleted in a later one).

use std::fmt::Write as _;
use std::path::Path;

use layerbox_core::build::CacheOutcome;
use layerbox_core::cli::units::Timestamp;
use layerbox_core::engine::{
    BuildInput, Engine, EngineState, FixedClock, Output, SeededIds, ShellRunner,
};
use layerbox_core::fs::{ChangeKind, Entry, Layer, Meta};
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::Catalog;
use layerbox_core::view::{
    self, EdgeKind, FileBody, LayersView, NodeKind, Removal, Request, Response, TargetKind,
};

const T0: i64 = 1_764_151_200;

/// The simulated engine as the playground runs it: the package catalog and the modelled base
/// images, a pinned clock and seeded IDs.
fn sim_engine() -> Engine {
    Engine::new(EngineState::default())
        .with_clock(FixedClock(Timestamp::from_unix_secs(T0)))
        .with_ids(SeededIds::new(7))
        .with_runner(ShellRunner::with_catalog(&Catalog::builtin().unwrap()))
        .with_base_images(ModelledImages::builtin())
}

fn context(files: &[(&str, &str)]) -> Layer {
    let mut layer = Layer::new();
    for (path, contents) in files {
        layer.insert(
            (*path).to_owned(),
            Entry::file(
                Meta::new(0o644, 1_700_000_000),
                contents.as_bytes().to_vec(),
            ),
        );
    }
    layer
}

fn python_files() -> Vec<(&'static str, &'static str)> {
    layerbox_core::examples::python()
        .files
        .iter()
        .map(|f| (f.path, f.contents))
        .collect()
}

fn run(engine: &mut Engine, line: &str) -> Output {
    let argv = layerbox_core::cli::split::split_line(line).unwrap();
    let mut out = Output::default();
    let code = engine.execute(&argv, &mut out);
    assert_eq!(code, 0, "{line}: {}", out.text());
    out
}

fn build(engine: &mut Engine, files: &[(&str, &str)], line: &str) {
    engine.set_build_input(BuildInput {
        files: context(files),
    });
    run(engine, line);
}

fn layers(engine: &Engine, image: &str) -> LayersView {
    match view::answer(
        engine,
        &Request::Layers {
            image: image.into(),
        },
    ) {
        Ok(Response::Layers(v)) => v,
        other => panic!("{other:?}"),
    }
}

fn files_of(engine: &Engine, target: &str, filter: Option<&str>) -> view::FilesView {
    match view::answer(
        engine,
        &Request::Files {
            target: target.into(),
            path_filter: filter.map(Into::into),
        },
    ) {
        Ok(Response::Files(v)) => v,
        other => panic!("{other:?}"),
    }
}

fn reason(outcome: Option<&CacheOutcome>) -> String {
    match outcome {
        Some(CacheOutcome::Hit { reason }) => format!("hit: {reason}"),
        Some(CacheOutcome::Miss { reason }) => format!("miss: {reason}"),
        None => "-".into(),
    }
}

#[test]
fn python_example_layers_carry_the_cache_outcome_of_the_last_build() {
    let mut engine = sim_engine();
    build(
        &mut engine,
        &python_files(),
        "docker build -t my-python-app .",
    );
    let first = layers(&engine, "my-python-app");
    let built: Vec<&view::LayerStep> = first.steps.iter().filter(|s| s.cache.is_some()).collect();
    let shown: Vec<(&str, String)> = built
        .iter()
        .map(|s| (s.instruction.as_str(), reason(s.cache.as_ref())))
        .collect();
    assert_eq!(
        shown,
        [
            ("WORKDIR /app", "miss: not built before".to_owned()),
            ("COPY . /app", "miss: parent step rebuilt".to_owned()),
            (
                "RUN pip install --no-cache-dir -r requirements.txt",
                "miss: parent step rebuilt".to_owned()
            ),
        ]
    );
    // The base image's layers were not built here; the config-only steps have no layer.
    let base = engine
        .find_image("my-python-app")
        .unwrap()
        .config
        .rootfs
        .diff_ids
        .len()
        - 3;
    assert!(
        first
            .steps
            .iter()
            .filter(|s| s.layer.is_some_and(|l| l < base))
            .all(|s| s.cache.is_none())
    );
    let env = first
        .steps
        .iter()
        .find(|s| s.instruction == "ENV NAME=World")
        .unwrap();
    assert!(env.empty_layer && env.layer.is_none() && env.size == 0);
    let pip = built[2];
    assert!(pip.added > 100, "Flask and its dependencies: {}", pip.added);
    assert!(pip.size > 1_000_000);
    assert_eq!(
        first.layer_count,
        engine
            .find_image("my-python-app")
            .unwrap()
            .config
            .rootfs
            .diff_ids
            .len()
    );
    assert_eq!(
        first.total_bytes,
        engine.image_size(engine.find_image("my-python-app").unwrap())
    );

    // The same build again: every step from the cache.
    build(
        &mut engine,
        &python_files(),
        "docker build -t my-python-app .",
    );
    let again = layers(&engine, "my-python-app");
    assert_eq!(again.image, first.image);
    assert!(
        again
            .steps
            .iter()
            .filter(|s| s.cache.is_some())
            .all(|s| matches!(s.cache, Some(CacheOutcome::Hit { .. })))
    );

    // app.py edited: COPY misses saying why, RUN because its parent was rebuilt.
    let mut files = python_files();
    files[1].1 = "print('changed')\n";
    build(&mut engine, &files, "docker build -t my-python-app .");
    let edited = layers(&engine, "my-python-app");
    let reasons: Vec<String> = edited
        .steps
        .iter()
        .filter(|s| s.cache.is_some())
        .map(|s| reason(s.cache.as_ref()))
        .collect();
    assert_eq!(
        reasons,
        [
            "hit: same instruction on the same parent step",
            "miss: app.py changed",
            "miss: parent step rebuilt"
        ]
    );
    // The first image lost its tag but is still there, with its own record.
    let old = layers(&engine, &first.image.to_string());
    assert!(old.tags.is_empty());
    assert!(
        old.steps
            .iter()
            .filter(|s| s.cache.is_some())
            .all(|s| matches!(s.cache, Some(CacheOutcome::Hit { .. })))
    );
}

#[test]
fn a_containers_files_show_copy_up_whiteouts_and_origins() {
    let mut engine = sim_engine();
    build(
        &mut engine,
        &python_files(),
        "docker build -t my-python-app .",
    );
    run(&mut engine, "docker run -d --name web my-python-app");
    run(
        &mut engine,
        "docker exec web sh -c 'echo changed > /app/app.py && rm /app/requirements.txt && echo x > /tmp/f'",
    );
    let files = files_of(&engine, "web", Some("/app/"));
    assert_eq!(files.kind, TargetKind::Container);
    let top = files.layers.len() - 1;
    assert!(files.layers[top].writable);
    let line = |path: &str| {
        let e = files.entries.iter().find(|e| e.path == path).unwrap();
        let marks: String = e
            .marks
            .iter()
            .map(|m| format!("{}{}", m.kind.letter(), m.layer))
            .collect::<Vec<_>>()
            .join(" ");
        (e.layer, e.deleted, marks)
    };
    let copy = files
        .layers
        .iter()
        .position(|l| l.instruction == "COPY . /app")
        .unwrap();
    assert_eq!(line("/app/app.py"), (top, false, format!("A{copy} C{top}")));
    assert_eq!(
        line("/app/requirements.txt"),
        (top, true, format!("A{copy} D{top}"))
    );
    assert_eq!(line("/app/Dockerfile"), (copy, false, format!("A{copy}")));
    assert!(files.entries.iter().all(|e| e.path.contains("/app/")));

    let content = |target: &str, path: &str| match view::answer(
        &engine,
        &Request::File {
            target: target.into(),
            path: path.into(),
        },
    ) {
        Ok(Response::File(f)) => f.body,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        content("web", "/app/app.py"),
        FileBody::Text {
            text: "changed\n".into(),
            truncated: false
        }
    );
    let FileBody::Text { text, .. } = content("my-python-app", "/app/app.py") else {
        panic!()
    };
    assert!(text.contains("Flask"), "the image still has the original");
    assert!(matches!(
        content("web", "/usr/local/bin/python3.9"),
        FileBody::SizeOnly { .. } | FileBody::Binary
    ));

    // The whole tree of the container is big: the listing is bounded, the search is not.
    let all = files_of(&engine, "web", None);
    assert!(all.truncated && all.entries.len() == view::files::MAX_ENTRIES && all.matched > 1000);
    let tmp = files_of(&engine, "web", Some("/tmp/f"));
    assert_eq!(
        tmp.entries
            .iter()
            .map(|e| (e.path.as_str(), e.layer))
            .collect::<Vec<_>>(),
        [("/tmp/f", top)]
    );
    assert_eq!(tmp.entries[0].marks[0].kind, ChangeKind::Added);
}

#[test]
fn lifecycle_follows_build_run_commit() {
    let mut engine = sim_engine();
    build(
        &mut engine,
        &python_files(),
        "docker build -t my-python-app .",
    );
    // A local image is a base: FROM draws from it (a modelled base image is not in the store).
    let child = "FROM my-python-app\nRUN echo hi > /hi\n";
    build(
        &mut engine,
        &[("Dockerfile", child)],
        "docker build -t child .",
    );
    run(&mut engine, "docker run -d --name web my-python-app");
    run(&mut engine, "docker exec web sh -c 'echo x > /tmp/f'");
    run(&mut engine, "docker commit web my-python-app:v2");
    run(&mut engine, "docker create --name idle my-python-app:v2");
    run(&mut engine, "docker pause web");
    let Ok(Response::Lifecycle(graph)) = view::answer(&engine, &Request::Lifecycle) else {
        panic!()
    };
    let label = |id: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap()
            .label
            .clone()
    };
    let edges: Vec<String> = graph
        .edges
        .iter()
        .map(|e| format!("{} -{}-> {}", label(&e.from), e.kind.label(), label(&e.to)))
        .collect();
    assert_eq!(
        edges,
        [
            "Dockerfile -build-> my-python-app:latest",
            "Dockerfile -build-> child:latest",
            "my-python-app:latest -FROM-> child:latest",
            "web -commit-> my-python-app:v2",
            "my-python-app:latest -run-> web",
            "my-python-app:v2 -run-> idle",
        ]
    );
    let states: Vec<(String, String)> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Container { name, state, .. } => Some((name.clone(), state.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            ("web".into(), "paused".into()),
            ("idle".into(), "created".into())
        ]
    );
    // Removing the container leaves the commit drawn from the image it was made from.
    run(&mut engine, "docker rm -f web");
    let graph = view::lifecycle::view(&engine);
    let commit = graph
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Commit)
        .unwrap();
    assert_eq!(
        commit.from,
        graph
            .nodes
            .iter()
            .find(|n| n.label == "my-python-app:latest")
            .unwrap()
            .id
    );
}

const APT_DOCKERFILE: &str = "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\nRUN rm -rf /var/lib/apt/lists/*\n";

/// An engine that built [`APT_DOCKERFILE`] as `apt-lesson`.
fn apt_lesson() -> Engine {
    let mut engine = sim_engine();
    build(
        &mut engine,
        &[("Dockerfile", APT_DOCKERFILE)],
        "docker build -t apt-lesson .",
    );
    engine
}

#[test]
fn apt_lists_not_cleaned_in_their_layer_are_wasted_bytes() {
    let engine = apt_lesson();
    let v = layers(&engine, "apt-lesson");
    let lists: u64 = Catalog::builtin()
        .unwrap()
        .apt_lists()
        .iter()
        .map(|(_, s)| s)
        .sum();
    let top = &v.wasted[0];
    assert_eq!(top.created_by, "RUN apt-get update");
    assert_eq!(top.removed_by, "RUN rm -rf /var/lib/apt/lists/*");
    assert_eq!(top.bytes, lists, "every list apt-get update downloaded");
    assert!(
        v.wasted_files
            .iter()
            .filter(|f| f.layer == top.layer)
            .all(|f| f.path.starts_with("/var/lib/apt/lists/") && f.removal == Removal::Deleted)
    );
    assert!(v.wasted_bytes >= lists);
    let update = v
        .steps
        .iter()
        .find(|s| s.instruction == "RUN apt-get update")
        .unwrap();
    assert!(update.wasted_bytes >= lists);
    let rm = v
        .steps
        .iter()
        .find(|s| s.instruction.starts_with("RUN rm"))
        .unwrap();
    assert_eq!(rm.size, 0, "deleting only adds whiteouts");
    assert!(rm.deleted > 0 && rm.added == 0);
    #[allow(clippy::cast_precision_loss)]
    let want = 1.0 - v.wasted_bytes as f64 / v.total_bytes as f64;
    assert!((v.efficiency - want).abs() < 1e-12);
    assert!(
        v.efficiency < 0.9,
        "20 MB of lists in a ~100 MB image: {}",
        v.efficiency
    );

    // Cleaned in the same RUN: nothing of the lists is wasted.
    let mut engine = sim_engine();
    let same = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n";
    build(
        &mut engine,
        &[("Dockerfile", same)],
        "docker build -t apt-clean .",
    );
    let clean = layers(&engine, "apt-clean");
    assert!(
        clean
            .wasted_files
            .iter()
            .all(|f| !f.path.starts_with("/var/lib/apt/lists/"))
    );
    assert!(clean.efficiency > v.efficiency);
}

/// Each step of a built image, and each layer of its file tree, names the Dockerfile lines of
/// the instruction that made it: the base image's steps come with FROM, a continued instruction
/// spans its lines, and a stage built on an earlier stage keeps the earlier stage's lines.
#[test]
fn steps_and_layers_carry_the_lines_of_their_instruction() {
    use layerbox_core::dockerfile::SourceLines;
    let lines = |first, last| Some(SourceLines { first, last });
    let mut engine = sim_engine();
    let dockerfile = "FROM python:3.9-slim AS base\nWORKDIR /app\nENV NAME=World\n\
                      RUN echo one \\\n    && echo two > /app/out\n\
                      FROM base\nCOPY . /app\n";
    let mut files = python_files();
    files[0].1 = dockerfile;
    build(&mut engine, &files, "docker build -t lines .");
    let v = layers(&engine, "lines");
    let base_steps = v.steps.len() - 4;
    assert!(base_steps > 0);
    assert!(
        v.steps[..base_steps]
            .iter()
            .all(|s| s.source == lines(1, 1))
    );
    let ours: Vec<(&str, Option<SourceLines>)> = v.steps[base_steps..]
        .iter()
        .map(|s| (s.instruction.as_str(), s.source))
        .collect();
    assert_eq!(
        ours,
        [
            ("WORKDIR /app", lines(2, 2)),
            ("ENV NAME=World", lines(3, 3)),
            ("RUN echo one && echo two > /app/out", lines(4, 5)),
            ("COPY . /app", lines(7, 7)),
        ]
    );
    // The file tree's legend: the same lines for the same layers, none for a container's own.
    let tree = files_of(&engine, "lines", None);
    for label in &tree.layers {
        let step = v
            .steps
            .iter()
            .find(|s| s.layer == Some(label.index))
            .unwrap();
        assert_eq!(label.source, step.source, "layer {}", label.index);
    }
    run(&mut engine, "docker create --name box lines");
    let tree = files_of(&engine, "box", None);
    let upper = tree.layers.last().unwrap();
    assert!(upper.writable && upper.source.is_none());
    assert_eq!(tree.layers[tree.layers.len() - 2].source, lines(7, 7));
    // An image the engine did not build has no lines.
    run(&mut engine, "docker commit box committed");
    let committed = layers(&engine, "committed");
    assert!(committed.steps.iter().all(|s| s.source.is_none()));
}

/// Golden: the layers view of the apt lesson, as JSON (`LAYERBOX_BLESS=1` rewrites it).
#[test]
fn apt_lesson_layers_view_golden() {
    let engine = apt_lesson();
    let mut v = layers(&engine, "apt-lesson");
    v.wasted_files.truncate(20);
    // The digests follow the modelled base image's bytes, which are not this view's concern.
    let mut json = serde_json::to_value(&v).unwrap();
    json["image"] = "<image id>".into();
    for step in json["steps"].as_array_mut().unwrap() {
        if !step["diff_id"].is_null() {
            step["diff_id"] = "<diff_id>".into();
        }
    }
    let mut text = serde_json::to_string_pretty(&json).unwrap();
    let _ = writeln!(text);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/view/apt-lesson-layers.json");
    if std::env::var_os("LAYERBOX_BLESS").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let want =
        std::fs::read_to_string(&golden).expect("the golden file (LAYERBOX_BLESS=1 writes it)");
    assert_eq!(text, want);
}
