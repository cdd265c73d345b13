//! The samples' scenario replayed on the simulated engine: the same containers in the same
//! states, then each sample's own command line, compared in full with IDs filtered.

use layerbox_core::engine::Engine;

use super::{at, engine, filter_ids, run};
use crate::cli::sample;

/// The daemon state the samples were captured in: a leftover container of the failed legacy
/// build (3 s before), then `anchors-exited`, `anchors-failed`, `anchors-created` and
/// `anchors-running` (1 s before).
fn anchors() -> Engine {
    let mut e = engine();
    at(&mut e, -30);
    let (out, code) = run(&mut e, "docker run --name tmp anchors/busybox true");
    assert_eq!(code, 0, "{}", out.text());
    let (out, code) = run(&mut e, "docker commit tmp anchors/tiny:legacy");
    assert_eq!(code, 0, "{}", out.text());
    run(&mut e, "docker rm tmp");
    let id = e.find_image("anchors/busybox").unwrap().id.to_string();
    at(&mut e, -3);
    let (_, code) = run(
        &mut e,
        &format!("docker run --name angry_rhodes {id} /bin/sh -c 'echo about to fail && false'"),
    );
    assert_eq!(code, 1);
    at(&mut e, -1);
    for line in [
        "docker run --name anchors-exited anchors/busybox true",
        "docker run --name anchors-failed anchors/busybox sh -c 'exit 3'",
        "docker create --name anchors-created anchors/tiny:legacy cat /a /hello.txt",
        "docker run -d --name anchors-running anchors/busybox sleep 600",
    ] {
        let (out, code) = run(&mut e, line);
        assert!(code == 0 || code == 3, "{line}: {}", out.text());
    }
    at(&mut e, 0);
    e
}

/// Runs the sample's own command on `e` and compares output and exit code.
fn check(e: &mut Engine, name: &str) {
    let s = sample(name);
    let (out, code) = run(e, &s.command);
    assert_eq!(filter_ids(&out.text()), filter_ids(&s.output), "{name}");
    assert_eq!(i32::from(code), s.exit_code, "{name}");
}

#[test]
fn ps_lists_like_docker() {
    let mut e = anchors();
    for name in ["ps-cli28.2.2.txt", "ps-a-cli28.2.2.txt", "ps-a-q.txt"] {
        check(&mut e, name);
    }
}

#[test]
fn refusals_and_errors_have_dockers_words_and_codes() {
    let mut e = anchors();
    for name in [
        "rm-running.txt",
        "rmi-in-use.txt",
        "rmi-nosuch.txt",
        "run-name-conflict.txt",
        "run-nosuchcmd.txt",
        "logs-failed.txt",
        "run-exit3.txt",
    ] {
        check(&mut e, name);
    }
}

#[test]
fn stop_then_rm_print_names() {
    let mut e = anchors();
    check(&mut e, "stop-running.txt");
    check(&mut e, "rm-containers.txt");
    let (out, _) = run(&mut e, "docker ps -a -q");
    assert_eq!(filter_ids(&out.stdout()), "<ID12>\n");
}

/// A build context of `files`.
fn context(files: &[(&str, &str)]) -> layerbox_core::fs::Layer {
    let mut layer = layerbox_core::fs::Layer::new();
    for (path, text) in files {
        layer.insert(
            *path,
            layerbox_core::fs::Entry::file(
                layerbox_core::fs::Meta::new(0o644, super::T0),
                text.as_bytes().to_vec(),
            ),
        );
    }
    layer
}

const TINY: [(&str, &str); 2] = [
    (
        "Dockerfile",
        "FROM anchors/busybox:latest\nRUN echo hi > /a\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/a\", \"/hello.txt\"]\n",
    ),
    ("hello.txt", "hello from the build context"),
];

/// The last frame of a tty display's bytes (from the last cursor-to-column-0), its lines
/// without `\r`, with the image digest and the byte counts (BuildKit's own accounting)
/// filtered.
fn last_frame(bytes: &str) -> String {
    let at = bytes.rfind("\x1b[0G").expect("a frame");
    bytes[at..]
        .replace('\r', "")
        .lines()
        .map(|l| {
            let l = l.find("sha256:").map_or(l, |i| &l[..i]);
            // `transferring context: 30B` → `transferring context: <n>B`.
            let mut out = String::new();
            let mut rest = l;
            while let Some(i) = rest.find(": ") {
                out.push_str(&rest[..i + 2]);
                rest = &rest[i + 2..];
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 && rest[digits..].starts_with('B') {
                    out.push_str("<n>");
                    rest = &rest[digits..];
                }
            }
            out.push_str(rest);
            out.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The samples' `anchors/tiny` build with `--progress tty`: BuildKit's display, whose last
/// frame (the one left on screen) has the sample's lines, escapes and colours; the lines are
/// compared with the padding collapsed, as the byte counts and the digest differ in width.
#[test]
fn build_progress_tty_draws_like_buildkit() {
    let mut e = engine();
    run(&mut e, "docker run --rm anchors/busybox true");
    e.set_build_input(layerbox_core::engine::BuildInput {
        files: context(&TINY),
    });
    let (out, code) = run(
        &mut e,
        "docker build --no-cache --progress tty -t anchors/tiny:buildkit .",
    );
    assert_eq!(code, 0, "{}", out.text());
    assert_eq!(out.stderr(), "", "the progress is not in the chunks");
    let progress = out.progress.expect("tty progress");
    // BuildKit's size when it cannot ask the terminal (the sample ran under a 0×0 pty).
    let mut display = layerbox_core::engine::TtyDisplay::new(80, 10);
    let drawn = display.render_all(&progress);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/docker-cli/build-buildkit-tty-nocache.txt"
    );
    let sample = std::fs::read_to_string(path).unwrap();
    let sample = sample.rsplit_once("[exit code").unwrap().0;
    assert_eq!(last_frame(&drawn), last_frame(sample));
    // Every line of the last frame is the terminal's width, as BuildKit pads them.
    let frame = &drawn[drawn.rfind("\x1b[?25l").unwrap() + 6..];
    for line in frame.lines() {
        let visible = line
            .replace("\x1b[34m", "")
            .replace("\x1b[0m", "")
            .replace("\x1b[?25h", "");
        assert!(
            visible.len() == 80 || visible.len() == 79 || visible.is_empty(),
            "{visible:?}"
        );
    }
    // The frame before the last is cut to the terminal's height (10 rows: 8 jobs).
    let before: Vec<&str> = drawn.split("\x1b[?25l").collect();
    let second_last = before[before.len() - 2];
    assert_eq!(second_last.matches(" => ").count(), 8, "{second_last:?}");
    assert!(frame.starts_with("[+] Building 0.1s (8/8) FINISHED"));
}

/// The samples' `anchors/tiny` build: BuildKit's plain progress, vertex by vertex, with the
/// digests and the transferred byte counts (BuildKit's own accounting) filtered.
#[test]
fn build_progress_is_buildkits_plain_format() {
    let mut e = engine();
    run(&mut e, "docker run --rm anchors/busybox true");
    let files = [
        (
            "Dockerfile",
            "FROM anchors/busybox:latest\nRUN echo hi > /a\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/a\", \"/hello.txt\"]\n",
        ),
        ("hello.txt", "hello from the build context"),
    ];
    let layer = context(&files);
    let filter = |text: &str| -> String {
        text.lines()
            .map(|l| {
                let l = filter_ids(l);
                match l.split_once(" sha256:") {
                    Some((head, _)) => format!("{head} sha256:<digest>"),
                    None if l.contains("transferring dockerfile:")
                        || l.contains("transferring context:") =>
                    {
                        l.split(": ").next().unwrap_or_default().to_owned()
                    }
                    None => l,
                }
            })
            .map(|l| l + "\n")
            .collect()
    };
    for (name, line) in [
        (
            "build-buildkit-plain-nocache.txt",
            "docker build --no-cache --progress=plain -t anchors/tiny:buildkit .",
        ),
        (
            "build-buildkit-plain-cached.txt",
            "docker build --progress=plain -t anchors/tiny:buildkit .",
        ),
    ] {
        e.set_build_input(layerbox_core::engine::BuildInput {
            files: layer.clone(),
        });
        let (out, code) = run(&mut e, line);
        let s = sample(name);
        assert_eq!(i32::from(code), s.exit_code, "{}", out.text());
        assert_eq!(filter(&out.text()), filter(&s.output), "{name}");
    }
    let (out, _) = run(&mut e, "docker run --rm anchors/tiny:buildkit");
    assert_eq!(out.stdout(), "hi\nhello from the build context");
}

/// `system prune` as docker 20.10 prints it (checked against its daemon): the warning without
/// `-f`, then stopped containers, dangling images and the build cache they leave behind, one
/// total; `builder prune -a` then empties the cache, and the next build misses every step.
#[test]
fn system_prune_removes_stopped_containers_dangling_images_and_their_cache() {
    let mut e = engine();
    let build = |e: &mut Engine, text: &str| {
        e.set_build_input(layerbox_core::engine::BuildInput {
            files: context(&[
                (
                    "Dockerfile",
                    "FROM anchors/busybox:latest\nCOPY hello.txt /hello.txt\n",
                ),
                ("hello.txt", text),
            ]),
        });
        let (out, code) = run(e, "docker build --progress plain -t app .");
        assert_eq!(code, 0, "{}", out.text());
        out.text()
    };
    build(&mut e, "one");
    build(&mut e, "two, a little longer");
    run(&mut e, "docker run --name done app true");
    run(&mut e, "docker run -d --name up anchors/busybox sleep 100");
    let (out, code) = run(&mut e, "docker system prune");
    assert_eq!(code, 0);
    let text = filter_ids(&out.stdout());
    assert_eq!(
        text.lines().take(8).collect::<Vec<_>>().join("\n"),
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - all dangling build cache\n\nAre you sure you want to continue? [y/N] Deleted Containers:\n<ID64>"
    );
    let sections: Vec<&str> = text.split("\n\n").collect();
    assert!(
        sections[2].starts_with("Deleted Images:\ndeleted: sha256:"),
        "{text}"
    );
    // the first build's COPY step: its layer went with the dangling image (3 bytes)
    let cache = sections[3]
        .strip_prefix("Deleted build cache objects:\n")
        .expect(&text);
    assert_eq!(cache.lines().count(), 1, "{text}");
    assert_eq!(
        cache.len(),
        25,
        "BuildKit's 25-character record IDs: {text}"
    );
    assert_eq!(sections[4], "Total reclaimed space: 3B\n", "{text}");
    assert!(
        !out.notices.is_empty(),
        "says the prompt was answered for the learner"
    );

    // nothing left to prune: only the total
    let (out, _) = run(&mut e, "docker system prune -f");
    assert_eq!(out.stdout(), "Total reclaimed space: 0B\n");
    let (out, _) = run(&mut e, "docker ps -a --format {{.Names}}");
    assert_eq!(out.stdout(), "up\n");

    // the cache of the image still tagged is not dangling; -a takes it too
    let (out, _) = run(&mut e, "docker builder prune -f");
    assert_eq!(out.stdout(), "Total reclaimed space: 0B\n");
    let (out, _) = run(&mut e, "docker builder prune -af");
    let text = out.stdout();
    assert!(text.starts_with("Deleted build cache objects:\n"), "{text}");
    assert!(text.ends_with("\n\nTotal reclaimed space: 0B\n"), "{text}");
    let copy_cached = |progress: &str| {
        let step = progress
            .split("COPY hello.txt /hello.txt\n")
            .nth(1)
            .unwrap_or_default();
        step.lines().find(|l| !l.contains("sha256:")) == Some("#6 CACHED")
    };
    let again = build(&mut e, "two, a little longer");
    assert!(!copy_cached(&again), "{again}");
    assert!(copy_cached(&build(&mut e, "two, a little longer")));
}
