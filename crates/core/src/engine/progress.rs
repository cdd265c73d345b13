//! `docker build`'s progress in BuildKit's plain format (`--progress=plain`), drawn from the
//! builder's events after the build: `#N [1/3] FROM …`, `#N CACHED`, `#N DONE 0.0s`,
//! `exporting to image`. Times are the simulation's (no step takes real time); the `sha256:`
//! vertex digests are digests of the step names, not BuildKit's LLB digests.

use std::fmt::Write as _;

use crate::build::{BuildEvent, CacheOutcome};
use crate::image::{Digest, Reference};

/// What the plain progress is drawn from.
pub(super) struct Plain<'a> {
    /// Bytes of the Dockerfile.
    pub dockerfile_len: usize,
    /// Bytes of the build context.
    pub context_size: u64,
    /// The stages' base images, and whether each was already local.
    pub bases: &'a [(Reference, bool)],
    /// The builder's events.
    pub events: &'a [BuildEvent],
    /// The output of each `RUN` that ran, in order.
    pub run_lines: Vec<Vec<String>>,
}

struct Step<'a> {
    name: &'a str,
    cached: bool,
    done: bool,
}

impl Plain<'_> {
    fn steps(&self) -> Vec<Step<'_>> {
        let mut steps: Vec<Step<'_>> = Vec::new();
        for e in self.events {
            match e {
                BuildEvent::StepStarted { name, .. } => steps.push(Step {
                    name,
                    cached: false,
                    done: false,
                }),
                BuildEvent::Cache {
                    outcome: CacheOutcome::Hit { .. },
                    ..
                } => {
                    if let Some(s) = steps.last_mut() {
                        s.cached = true;
                    }
                }
                BuildEvent::LayerCommitted { .. } => {
                    if let Some(s) = steps.last_mut() {
                        s.done = true;
                    }
                }
                _ => {}
            }
        }
        steps
    }

    /// The progress up to and including the exporter, for a build that made `id`.
    pub fn render_success(&self, id: &Digest, tags: &[Reference]) -> String {
        let (mut out, n, all_cached) = self.render_steps(None);
        vertex(&mut out, n, "exporting to image");
        let _ = writeln!(
            out,
            "#{n} exporting layers {}done",
            if all_cached { "" } else { "0.0s " }
        );
        let _ = writeln!(out, "#{n} writing image {id} done");
        for tag in tags {
            let _ = writeln!(out, "#{n} naming to {tag} done");
        }
        let _ = writeln!(out, "#{n} DONE 0.0s");
        out
    }

    /// The progress of a build whose last started step failed with `message`.
    pub fn render_failure(&self, message: &str) -> String {
        let (out, _, _) = self.render_steps(Some(message));
        out
    }

    /// The vertices of the build; returns the text, the next vertex number, and whether every
    /// step was cached.
    fn render_steps(&self, failure: Option<&str>) -> (String, usize, bool) {
        let steps = self.steps();
        let total = steps.len() + 1;
        let mut out = String::new();
        let mut n = 1;
        vertex(
            &mut out,
            n,
            "[internal] load build definition from Dockerfile",
        );
        let _ = writeln!(
            out,
            "#{n} transferring dockerfile: {}B done\n#{n} DONE 0.0s\n",
            self.dockerfile_len
        );
        n += 1;
        vertex(&mut out, n, "[internal] load .dockerignore");
        let _ = writeln!(out, "#{n} transferring context: 2B done\n#{n} DONE 0.0s\n");
        for (base, _) in self.bases {
            n += 1;
            vertex(&mut out, n, &format!("[internal] load metadata for {base}"));
            let _ = writeln!(out, "#{n} DONE 0.0s\n");
        }
        n += 1;
        let from = self.bases.last();
        if let Some((base, local)) = from {
            {
                vertex(&mut out, n, &format!("[1/{total}] FROM {base}"));
                // BuildKit 20.10 shows a local base image CACHED when a step runs, and as a
                // finished vertex when every step came from the cache (both samples agree).
                if *local && steps.iter().any(|s| !s.cached) {
                    let _ = writeln!(out, "#{n} CACHED\n");
                } else if *local {
                    let _ = writeln!(out, "#{n} DONE 0.0s\n");
                } else {
                    let _ = writeln!(out, "#{n} resolve {base} done\n#{n} DONE 0.0s\n");
                }
            }
        } else {
            vertex(&mut out, n, &format!("[1/{total}] FROM scratch"));
            let _ = writeln!(out, "#{n} DONE 0.0s\n");
        }
        // BuildKit numbers the context's vertex just before the first step that reads it, and
        // prints it first, as it completes before the steps that wait for it.
        let reads_context = |s: &Step<'_>| {
            (s.name.starts_with("COPY") || s.name.starts_with("ADD")) && !s.name.contains("--from")
        };
        let context_at = steps.iter().position(reads_context);
        let mut numbers = Vec::new();
        let mut next = n + 1;
        let mut context_number = None;
        for (k, _) in steps.iter().enumerate() {
            if Some(k) == context_at {
                context_number = Some(next);
                next += 1;
            }
            numbers.push(next);
            next += 1;
        }
        if let Some(c) = context_number {
            vertex(&mut out, c, "[internal] load build context");
            let _ = writeln!(
                out,
                "#{c} transferring context: {}B done\n#{c} DONE 0.0s\n",
                self.context_size
            );
        }
        let mut runs = self.run_lines.iter();
        let mut all_cached = true;
        for (k, step) in steps.iter().enumerate() {
            let m = numbers[k];
            vertex(&mut out, m, &format!("[{}/{total}] {}", k + 2, step.name));
            if step.cached {
                let _ = writeln!(out, "#{m} CACHED\n");
                continue;
            }
            all_cached = false;
            if step.name.starts_with("RUN") {
                for (i, line) in (50..).zip(runs.next().into_iter().flatten()) {
                    let _ = writeln!(out, "#{m} 0.{i:03} {line}");
                }
            }
            if step.done {
                // Simulated durations: a RUN is shown taking a tenth of a second.
                let took = if step.name.starts_with("RUN") {
                    "0.1"
                } else {
                    "0.0"
                };
                let _ = writeln!(out, "#{m} DONE {took}s\n");
            } else if let Some(message) = failure {
                let _ = writeln!(
                    out,
                    "#{m} ERROR: {message}\n------\n > [{}/{total}] {}:\n------\n{message}",
                    k + 2,
                    step.name
                );
                return (out, next, false);
            }
        }
        if let Some(message) = failure {
            let _ = writeln!(out, "ERROR: {message}");
        }
        (out, next, all_cached)
    }
}

/// A vertex's first two lines.
fn vertex(out: &mut String, n: usize, name: &str) {
    let _ = writeln!(
        out,
        "#{n} {name}\n#{n} {}",
        Digest::sha256_of(name.as_bytes())
    );
}
