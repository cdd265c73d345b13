//! A build shown as it runs: the worker runs a build in one go (a few milliseconds), then works
//! out here, from the builder's events and the progress the core printed, the beats the page
//! plays it back in — each step started, each layer made, each step taken from the cache —
//! with how much of the output and of the image's layer stack each beat shows. The engine is
//! not slowed: this only paces what the page reveals of a result it already has.
//!
//! Runs in the worker (it reads the core's events and views); the page gets plain numbers.

use layerbox_core::build::BuildEvent;
use layerbox_core::engine::{Event, Stream};
use layerbox_core::view::LayersView;

use crate::protocol::{Beat, BeatKind, Playback};

/// One vertex of BuildKit's plain progress (`#5 [2/4] COPY . /app` … `#5 DONE 0.0s`).
#[derive(Debug)]
struct Block<'a> {
    /// The vertex's name.
    name: &'a str,
    /// Bytes from the start of the progress to the end of its first two lines (name and
    /// digest): what shows while it runs.
    started: usize,
    /// Bytes to its end (and the blank line after it).
    end: usize,
    /// Whether it says `CACHED`.
    cached: bool,
    /// Whether it says `ERROR: …`.
    failed: bool,
}

/// The vertex number of a plain-progress line (`#12 …` → 12).
fn vertex_number(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('#')?;
    let n = rest.split(' ').next()?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// The vertices of BuildKit's plain progress, in order; lines of no vertex (blank lines, the
/// error box) go with the vertex before them.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out: Vec<Block<'_>> = Vec::new();
    let mut current: Option<&str> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches('\n');
        match vertex_number(body) {
            Some(n) if current != Some(n) => {
                current = Some(n);
                let name = body.get(n.len() + 2..).unwrap_or_default();
                out.push(Block {
                    name,
                    started: at,
                    end: at,
                    cached: false,
                    failed: false,
                });
            }
            Some(n) => {
                if let Some(b) = out.last_mut() {
                    if b.started == start && body.contains(" sha256:") {
                        b.started = at;
                    }
                    let said = &body[n.len() + 1..];
                    b.cached |= said == " CACHED";
                    b.failed |= said.starts_with(" ERROR: ");
                    b.end = at;
                }
            }
            None => {
                if let Some(b) = out.last_mut() {
                    b.end = at;
                }
            }
        }
    }
    out
}

/// The beats of a build whose output is `chunks` and events `events`; `layers` gives the layer
/// stack of an image by its ID. No beats when the output holds no plain progress (`build -q`,
/// a command other than build).
pub fn plan(
    chunks: &[(Stream, String)],
    events: &[Event],
    layers: impl Fn(&str) -> Option<LayersView>,
) -> Playback {
    let total: usize = chunks.iter().map(|(_, t)| t.len()).sum();
    let Some(index) = chunks
        .iter()
        .position(|(s, t)| *s == Stream::Stderr && t.starts_with("#1 "))
    else {
        // Another command that changed images or containers: one step, its change.
        let changed = events.iter().any(|e| !matches!(e, Event::Build(_)));
        let beats = if changed {
            [BeatKind::Change, BeatKind::Done]
                .map(|kind| Beat {
                    text: total,
                    layers: 0,
                    kind,
                })
                .to_vec()
        } else {
            Vec::new()
        };
        return Playback { image: None, beats };
    };
    let offset: usize = chunks[..index].iter().map(|(_, t)| t.len()).sum();
    let text = &chunks[index].1;
    let image = text
        .split("writing image ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .filter(|id| id.starts_with("sha256:"))
        .map(str::to_owned);
    let view = image.as_deref().and_then(&layers);
    let steps: Vec<(usize, &str)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Build(BuildEvent::StepStarted { step, name }) => Some((*step, name.as_str())),
            _ => None,
        })
        .collect();
    // Each entry of the image's stack the build made, matched to the step that made its layer
    // by the layer's diff_id, from the top: the image's own steps are the last ones (an earlier
    // stage may have made the same layer).
    let committed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Build(BuildEvent::LayerCommitted { step, diff_id, .. }) => {
                Some((*step, diff_id))
            }
            _ => None,
        })
        .collect();
    let mut entry_of: Vec<(usize, usize)> = Vec::new();
    if let Some(view) = &view {
        let mut before = committed.len();
        for (i, entry) in view.steps.iter().enumerate().rev() {
            let Some(diff_id) = entry.diff_id.as_ref().filter(|_| entry.cache.is_some()) else {
                continue;
            };
            if let Some(k) = committed[..before].iter().rposition(|(_, d)| *d == diff_id) {
                entry_of.push((committed[k].0, i));
                before = k;
            }
        }
        entry_of.reverse();
    }
    let all = view.as_ref().map_or(0, |v| v.steps.len());
    // The base image's entries: those below the first the build made.
    let base = entry_of.first().map_or(all, |&(_, i)| i);
    let mut beats = Vec::new();
    let mut shown = 0;
    let mut next_step = steps.iter();
    let mut pending = next_step.next();
    for block in blocks(text) {
        let mut beat = |text: usize, layers: usize, kind| {
            shown = shown.max(layers);
            beats.push(Beat {
                text: offset + text,
                layers: shown,
                kind,
            });
        };
        if block.name == "exporting to image" {
            beat(block.end, all, BeatKind::Done);
        } else if block.name.starts_with('[') && block.name.contains("] FROM ") {
            beat(block.end, base, BeatKind::Base);
        } else if let Some(&(step, name)) = pending
            && block.name.starts_with('[')
            && block
                .name
                .strip_suffix(name)
                .is_some_and(|head| head.ends_with("] "))
        {
            pending = next_step.next();
            let entry = entry_of.iter().find(|(s, _)| *s == step).map(|&(_, i)| i);
            if block.cached {
                beat(block.end, entry.map_or(0, |i| i + 1), BeatKind::Cached);
            } else if block.failed {
                // The last beat shows the error.
                beat(block.started, entry.unwrap_or(0), BeatKind::Started);
            } else {
                beat(block.started, entry.unwrap_or(0), BeatKind::Started);
                beat(block.end, entry.map_or(0, |i| i + 1), BeatKind::Built);
            }
        }
    }
    // The last beat shows everything (a failed build ends on its error).
    match beats.last_mut() {
        Some(last) if last.kind == BeatKind::Done => {
            last.text = total;
            last.layers = all;
        }
        _ => beats.push(Beat {
            text: total,
            layers: all,
            kind: BeatKind::Done,
        }),
    }
    Playback {
        image: view.map(|v| v.image.to_string()),
        beats,
    }
}

// Native only: the tests take the catalog the native build embeds.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use layerbox_core::examples;

    use super::*;
    use crate::host::Host;
    use crate::host::tests::host;
    use crate::protocol::{ProjectFile, Request, Response};
    use crate::state::files_of;

    /// Runs `line`; the output's text and its playback.
    fn run(host: &mut Host, line: &str, files: &[ProjectFile]) -> (String, Playback) {
        let responses = host.handle(Request::Run {
            id: 1,
            line: line.into(),
            files: files.to_vec(),
        });
        let Some(Response::Output {
            chunks, playback, ..
        }) = responses.into_iter().next()
        else {
            panic!("no output")
        };
        // The page reads what the worker sends: the same beats.
        let decoded = Playback::decode(&playback);
        assert_eq!(decoded.encode(), playback);
        (chunks.into_iter().map(|(_, t)| t).collect(), decoded)
    }

    fn kinds(p: &Playback) -> Vec<BeatKind> {
        p.beats.iter().map(|b| b.kind).collect()
    }

    #[test]
    fn a_build_plays_step_by_step_and_a_rebuild_skips_its_cached_steps() {
        use BeatKind::{Base, Built, Cached, Done, Started};
        let mut host = host();
        let ctx = files_of(&examples::python());
        let (text, p) = run(&mut host, "docker build -t my-app .", &ctx);
        // FROM, then WORKDIR, COPY, RUN pip install: each starts, then makes its layer.
        assert_eq!(
            kinds(&p),
            [Base, Started, Built, Started, Built, Started, Built, Done],
            "{p:?}"
        );
        let image = p.image.clone().expect("the image built");
        let view = layerbox_core::view::layers::view(host.engine(), &image, false).unwrap();
        assert_eq!(view.image.to_string(), image);
        // The text grows beat by beat and ends with everything; so do the layers.
        assert!(p.beats.windows(2).all(|w| w[0].text < w[1].text), "{p:?}");
        assert!(p.beats.windows(2).all(|w| w[0].layers <= w[1].layers));
        assert_eq!(p.beats.last().unwrap().text, text.len());
        assert_eq!(p.beats.last().unwrap().layers, view.steps.len());
        // The base image's entries come first, none of them built by this build.
        let base = p.beats[0].layers;
        assert!(base > 0 && view.steps[..base].iter().all(|s| s.cache.is_none()));
        assert!(text[..p.beats[0].text].ends_with("\n\n"), "{text}");
        assert!(text[..p.beats[0].text].contains("FROM docker.io/library/python:3.9-slim"));
        // A step that started shows its name and not yet its end; its layer shows with the
        // next beat, the entry of the instruction just run on top.
        let started = &text[..p.beats[5].text];
        assert!(
            started
                .trim_end()
                .ends_with(started.lines().last().unwrap())
        );
        assert!(
            started
                .lines()
                .rev()
                .nth(1)
                .unwrap()
                .contains("RUN pip install"),
            "{started}"
        );
        assert!(!started.ends_with("DONE 0.1s\n"), "{started}");
        let built = p.beats[6];
        assert!(
            view.steps[built.layers - 1]
                .created_by
                .contains("pip install")
        );
        assert!(text[..built.text].contains("DONE 0.1s\n"));

        // Built again unchanged: every step is cached, and visibly skipped.
        let (text, again) = run(&mut host, "docker build -t my-app .", &ctx);
        assert_eq!(
            kinds(&again),
            [Base, Cached, Cached, Cached, Done],
            "{again:?}"
        );
        assert_eq!(again.image, p.image);
        assert!(text[..again.beats[3].text].trim_end().ends_with("CACHED"));
        assert_eq!(again.beats[3].layers, built.layers);
    }

    #[test]
    fn only_a_build_with_progress_plays() {
        let mut host = host();
        let ctx = files_of(&examples::python());
        assert_eq!(run(&mut host, "docker images", &ctx).1, Playback::default());
        // A command that changes containers or images is one step: its change.
        let (_, quiet) = run(&mut host, "docker build -q -t my-app .", &ctx);
        assert!(quiet.plays() && quiet.only_holds(), "{quiet:?}");
        for line in [
            "docker run -d --name web my-app",
            "docker exec web rm /app/app.py",
        ] {
            let (text, p) = run(&mut host, line, &ctx);
            let kinds: Vec<BeatKind> = p.beats.iter().map(|b| b.kind).collect();
            assert_eq!(kinds, [BeatKind::Change, BeatKind::Done], "{line}");
            assert!(p.beats.iter().all(|b| b.text == text.len()), "{line}");
        }
        assert!(!run(&mut host, "docker ps", &ctx).1.plays());
        // A failed build plays up to its error, which the last beat shows; it made no image.
        let broken = vec![ProjectFile {
            path: "Dockerfile".into(),
            contents: "FROM alpine:3.20\nRUN echo one\nRUN exit 3\nRUN echo never\n".into(),
        }];
        let (text, failed) = run(&mut host, "docker build -t broken .", &broken);
        assert!(failed.plays(), "{failed:?}");
        assert_eq!(failed.image, None);
        let last = failed.beats.last().unwrap();
        assert_eq!((last.text, last.kind), (text.len(), BeatKind::Done));
        assert!(!text[..failed.beats[failed.beats.len() - 2].text].contains("ERROR"));
    }

    #[test]
    fn a_multi_stage_build_reveals_only_the_final_image_s_layers() {
        let mut host = host();
        let files = vec![ProjectFile {
            path: "Dockerfile".into(),
            contents: "FROM alpine:3.20 AS build\nRUN echo built > /out\n\
                       FROM alpine:3.20\nCOPY --from=build /out /out\nCMD [\"cat\", \"/out\"]\n"
                .into(),
        }];
        let (_, p) = run(&mut host, "docker build -t multi .", &files);
        let image = p.image.clone().unwrap();
        let view = layerbox_core::view::layers::view(host.engine(), &image, false).unwrap();
        let copy = view
            .steps
            .iter()
            .position(|s| s.created_by.contains("COPY"))
            .unwrap();
        // The first stage's RUN runs and shows in the terminal, but adds nothing to this stack.
        let built: Vec<usize> = p
            .beats
            .iter()
            .filter(|b| b.kind == BeatKind::Built)
            .map(|b| b.layers)
            .collect();
        assert_eq!(built, [p.beats[0].layers, copy + 1], "{p:?}");
    }

    #[test]
    fn playbacks_and_reveals_travel_as_short_texts() {
        use crate::protocol::Reveal;
        let p = Playback {
            image: Some("sha256:ab".into()),
            beats: vec![
                Beat {
                    text: 10,
                    layers: 2,
                    kind: BeatKind::Base,
                },
                Beat {
                    text: 30,
                    layers: 3,
                    kind: BeatKind::Cached,
                },
            ],
        };
        assert_eq!(p.encode(), "sha256:ab;10,2,f;30,3,c");
        assert_eq!(Playback::decode(&p.encode()), p);
        assert_eq!(Playback::decode(""), Playback::default());
        // Anything damaged plays nothing.
        for bad in ["x;1,2", "x;1,2,z", "x;a,2,d", ";1,2,d;"] {
            assert!(Playback::decode(bad).beats.is_empty(), "{bad}");
        }
        let r = Reveal {
            image: "sha256:ab".into(),
            shown: 4,
            running: true,
        };
        assert_eq!(Reveal::decode(&r.encode()), Some(r));
        assert_eq!(Reveal::decode("sha256:ab,x,1"), None);
        assert_eq!(Reveal::decode(""), None);
    }

    #[test]
    fn plain_progress_splits_into_vertices() {
        let text = "#1 [internal] load x\n#1 sha256:ab\n#1 DONE 0.0s\n\n\
                    #2 [2/2] RUN a\n#2 sha256:cd\n#2 CACHED\n";
        let b = blocks(text);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].name, "[internal] load x");
        assert_eq!(
            &text[..b[0].started],
            "#1 [internal] load x\n#1 sha256:ab\n"
        );
        assert_eq!(
            &text[b[0].end..b[1].started],
            "#2 [2/2] RUN a\n#2 sha256:cd\n"
        );
        assert!(!b[0].cached && b[1].cached);
        assert_eq!(b[1].end, text.len());
        assert_eq!(vertex_number("#12 x"), Some("12"));
        assert_eq!(vertex_number("#x"), None);
        assert_eq!(vertex_number("ERROR: x"), None);
    }
}
