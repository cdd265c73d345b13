//! How each image was made, kept for the playground's views and `image layers`: the cache
//! outcome of every layer of the build that last produced it, or the container it was
//! committed from. docker keeps neither in the image; the engine keeps them beside it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::build::{BuildEvent, CacheOutcome};
use crate::dockerfile::SourceLines;
use crate::image::Digest;

/// What the engine remembers of how its images were made, by image ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// For each built image, one entry per layer (bottom first): the cache outcome of the step
    /// that made it in the last build, `None` for layers the build took from its base image.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub builds: BTreeMap<Digest, Vec<Option<CacheOutcome>>>,
    /// For each committed image, the container it was committed from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commits: BTreeMap<Digest, CommitSource>,
    /// For each built image, one entry per history entry: the Dockerfile lines of the
    /// instruction that made it in the last build (see [`crate::build::Built::sources`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<Digest, Vec<Option<SourceLines>>>,
}

/// The container an image was committed from (it may have been removed since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSource {
    /// The container's ID.
    pub container: String,
    /// Its name at the time.
    pub name: String,
}

impl Provenance {
    /// Whether nothing is recorded (kept out of the saved state then).
    pub fn is_empty(&self) -> bool {
        self.builds.is_empty() && self.commits.is_empty() && self.sources.is_empty()
    }

    /// Records the build of `image` (layers `diff_ids`, bottom first) from its `events`.
    pub fn record_build(&mut self, image: Digest, diff_ids: &[Digest], events: &[BuildEvent]) {
        self.builds.insert(image, cache_by_layer(diff_ids, events));
    }

    /// Forgets what is recorded about images no longer in `live`.
    pub fn retain(&mut self, live: impl Fn(&Digest) -> bool) {
        self.builds.retain(|id, _| live(id));
        self.commits.retain(|id, _| live(id));
        self.sources.retain(|id, _| live(id));
    }
}

impl super::Engine {
    /// Keeps the cache outcomes of the build that made `image` and the instruction lines of
    /// its history entries.
    pub(super) fn record_build(
        &mut self,
        image: Digest,
        diff_ids: &[Digest],
        events: &[BuildEvent],
        sources: Vec<Option<SourceLines>>,
    ) {
        let state = &mut self.state;
        let images = &state.images;
        state
            .provenance
            .retain(|id| images.iter().any(|i| i.id == *id));
        state.provenance.record_build(image, diff_ids, events);
        state.provenance.sources.insert(image, sources);
    }

    /// Keeps which container image `index` was committed from.
    pub(super) fn record_commit(&mut self, index: usize, container: &super::Container) {
        let state = &mut self.state;
        let images = &state.images;
        state
            .provenance
            .retain(|id| images.iter().any(|i| i.id == *id));
        state.provenance.commits.insert(
            images[index].id,
            CommitSource {
                container: container.id.clone(),
                name: container.name.clone(),
            },
        );
    }
}

/// The cache outcome of each layer of a built image, bottom first. The target stage's steps
/// come last in a build, so the layers are matched from the top down with the steps that
/// committed them; the layers no step of this build committed (the base image's) get `None`.
pub fn cache_by_layer(diff_ids: &[Digest], events: &[BuildEvent]) -> Vec<Option<CacheOutcome>> {
    let mut outcomes: BTreeMap<usize, &CacheOutcome> = BTreeMap::new();
    let mut committed: Vec<(usize, Digest)> = Vec::new();
    for e in events {
        match e {
            BuildEvent::Cache { step, outcome } => {
                outcomes.insert(*step, outcome);
            }
            BuildEvent::LayerCommitted { step, diff_id, .. } => committed.push((*step, *diff_id)),
            BuildEvent::StepStarted { .. } | BuildEvent::Fs { .. } => {}
        }
    }
    let mut out = vec![None; diff_ids.len()];
    let mut end = committed.len();
    for (i, d) in diff_ids.iter().enumerate().rev() {
        let Some(found) = committed[..end].iter().rposition(|(_, c)| c == d) else {
            break;
        };
        out[i] = outcomes.get(&committed[found].0).map(|o| (*o).clone());
        end = found;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(step: usize, d: &Digest) -> BuildEvent {
        BuildEvent::LayerCommitted {
            step,
            diff_id: *d,
            size: 0,
            changes: Vec::new(),
        }
    }

    fn cache(step: usize, hit: bool) -> BuildEvent {
        let reason = format!("step {step}");
        BuildEvent::Cache {
            step,
            outcome: if hit {
                CacheOutcome::Hit { reason }
            } else {
                CacheOutcome::Miss { reason }
            },
        }
    }

    #[test]
    fn layers_match_the_last_steps_that_committed_them() {
        let base = Digest::sha256_of(b"base");
        let (a, b, other) = (
            Digest::sha256_of(b"a"),
            Digest::sha256_of(b"b"),
            Digest::sha256_of(b"other stage"),
        );
        // Step 1 builds another stage; steps 2 and 3 the target over `base`.
        let events = [
            cache(1, false),
            committed(1, &other),
            cache(2, true),
            committed(2, &a),
            cache(3, false),
            committed(3, &b),
        ];
        let got = cache_by_layer(&[base, a, b], &events);
        assert_eq!(got[0], None);
        assert_eq!(
            got[1],
            Some(CacheOutcome::Hit {
                reason: "step 2".into()
            })
        );
        assert_eq!(
            got[2],
            Some(CacheOutcome::Miss {
                reason: "step 3".into()
            })
        );
        // Two equal layers (two steps that changed nothing) each get their own step.
        let events = [
            cache(1, true),
            committed(1, &a),
            cache(2, false),
            committed(2, &a),
        ];
        let got = cache_by_layer(&[a, a], &events);
        assert!(matches!(got[0], Some(CacheOutcome::Hit { .. })));
        assert!(matches!(got[1], Some(CacheOutcome::Miss { .. })));
    }
}
