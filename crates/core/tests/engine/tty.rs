//! Golden frames of BuildKit's tty display ([`TtyDisplay`]): every frame of a fixed build's
//! progress, escapes written as `\e`, compared in full with `tests/engine/golden/<case>.txt`.
//! `LAYERBOX_BLESS=1` rewrites the expected files.

use std::path::Path;

use layerbox_core::engine::{BuildProgress, TtyDisplay, Vertex, VertexState, VertexStatus};

fn vertex(number: usize, name: &str, state: VertexState, millis: u32) -> Vertex {
    Vertex {
        millis,
        ..Vertex::new(number, name, state)
    }
}

fn status(text: &str) -> VertexStatus {
    VertexStatus {
        text: text.to_owned(),
        timed: false,
    }
}

/// A build with a slow `RUN` (three frames while it runs) and a step that fails.
fn failing() -> BuildProgress {
    let mut def = vertex(
        1,
        "[internal] load build definition from Dockerfile",
        VertexState::Done,
        0,
    );
    def.statuses.push(status("transferring dockerfile: 97B"));
    BuildProgress {
        vertices: vec![
            def,
            vertex(
                2,
                "[1/3] FROM docker.io/library/debian:bookworm",
                VertexState::Cached,
                0,
            ),
            vertex(3, "[2/3] RUN apt-get update", VertexState::Done, 300),
            vertex(
                4,
                "[3/3] RUN echo about to fail && false",
                VertexState::Error(
                    "executor failed running [/bin/sh -c echo about to fail && false]: exit code: 1"
                        .into(),
                ),
                100,
            ),
        ],
        error: Some(
            "executor failed running [/bin/sh -c echo about to fail && false]: exit code: 1".into(),
        ),
    }
}

/// Seven quick vertices on a terminal of 40 columns and 6 rows: the running frames show the
/// last four jobs, names are cut to fit, and the last frame shows them all.
fn narrow() -> BuildProgress {
    let vertices = (1..=7)
        .map(|n| {
            vertex(
                n,
                &format!("[{n}/7] RUN a-long-command-name --with-arguments {n}"),
                VertexState::Done,
                if n == 4 { 200 } else { 0 },
            )
        })
        .collect();
    BuildProgress {
        vertices,
        error: None,
    }
}

fn check(case: &str, progress: &BuildProgress, width: usize, height: usize) {
    let drawn = TtyDisplay::new(width, height).render_all(progress);
    let text = drawn.replace('\x1b', "\\e");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/engine/golden")
        .join(format!("{case}.txt"));
    if std::env::var_os("LAYERBOX_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (LAYERBOX_BLESS=1 writes it)", path.display()));
    assert_eq!(text, want, "{case}");
}

#[test]
fn a_failing_build_ends_red_with_the_error_box() {
    let progress = failing();
    check("tty-failing", &progress, 80, 24);
    let drawn = TtyDisplay::new(80, 24).render_all(&progress);
    assert!(drawn.contains("\x1b[31m => ERROR [3/3] RUN echo about to fail && false"));
    assert!(drawn.ends_with(
        "------\n > [3/3] RUN echo about to fail && false:\n------\nexecutor failed running [/bin/sh -c echo about to fail && false]: exit code: 1\n"
    ));
}

#[test]
fn a_small_terminal_cuts_frames_and_names() {
    check("tty-narrow", &narrow(), 40, 6);
}

#[test]
fn frames_redraw_in_place() {
    let progress = failing();
    let mut display = TtyDisplay::new(80, 24);
    let frames: Vec<String> = progress
        .frames()
        .map(|m| display.frame(&progress, m))
        .collect();
    // The first frame steps down onto its line; each next one goes up over the previous.
    assert!(frames[0].starts_with("\x1b[1A\x1b[1B\x1b[0G\x1b[?25l[+] Building 0.0s (0/1) "));
    let mut previous_lines = 0;
    for frame in &frames[1..] {
        let ups = frame.matches("\x1b[1A").count();
        assert!(
            frame.starts_with(&"\x1b[1A".repeat(previous_lines + 1)),
            "{frame:?}"
        );
        assert!(ups > previous_lines);
        previous_lines = frame.matches(" => ").count();
        assert!(frame.ends_with("\x1b[?25h"));
    }
    // While the slow RUN runs its time grows, and it is not coloured until done.
    let running =
        " => [2/3] RUN apt-get update                                               0.2s\n";
    assert!(
        frames
            .iter()
            .any(|f| f.contains(&format!("\x1b[0m{running}")))
    );
    assert!(frames.last().unwrap().contains("(4/4) FINISHED"));
}
