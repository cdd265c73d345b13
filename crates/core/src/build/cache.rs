//! The build cache (spec §15.1): a key per filesystem step from its parent's key, what the step
//! does and the checksums of the files it reads, and a reason for every hit and miss.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fs::Layer;
use crate::image::{Digest, DigestWriter};

/// What a cached step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// The key of the state the step ran on.
    pub parent: Digest,
    /// The operation: instruction text and everything else that changes its result.
    pub op: String,
    /// Checksums of the files the step read, by path (COPY/ADD).
    pub sources: BTreeMap<String, Digest>,
    /// The layer the step made.
    pub layer: Arc<Layer>,
    /// The layer's diff_id.
    pub diff_id: Digest,
}

/// Results of earlier builds, by cache key. Serialisable so the simulated state keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildCache {
    records: BTreeMap<Digest, CacheRecord>,
}

/// Whether a step could be reused, and why, for the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheOutcome {
    /// Reused.
    Hit {
        /// Why (`same instruction on the same parent step, same files`).
        reason: String,
    },
    /// Ran.
    Miss {
        /// Why (`app.py changed`, `parent step rebuilt`, ...).
        reason: String,
    },
}

/// The cache key of a step.
pub(crate) fn key(parent: &Digest, op: &str, sources: &BTreeMap<String, Digest>) -> Digest {
    let mut w = DigestWriter::new();
    w.update(parent.as_bytes());
    w.update(&(op.len() as u64).to_le_bytes());
    w.update(op.as_bytes());
    for (path, digest) in sources {
        w.update(&(path.len() as u64).to_le_bytes());
        w.update(path.as_bytes());
        w.update(digest.as_bytes());
    }
    w.finish()
}

impl BuildCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many steps are cached.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Looks a step up. On a miss, compares with what was built before to say why.
    pub(crate) fn lookup(
        &self,
        key: &Digest,
        parent: &Digest,
        op: &str,
        sources: &BTreeMap<String, Digest>,
        parent_rebuilt: bool,
    ) -> (Option<(Arc<Layer>, Digest)>, CacheOutcome) {
        if let Some(record) = self.records.get(key) {
            let reason = if sources.is_empty() {
                "same instruction on the same parent step".to_owned()
            } else {
                "same instruction on the same parent step, same files".to_owned()
            };
            return (
                Some((Arc::clone(&record.layer), record.diff_id)),
                CacheOutcome::Hit { reason },
            );
        }
        let same_op_and_parent = self
            .records
            .values()
            .filter(|r| r.parent == *parent && r.op == op);
        let reason = if let Some(changed) = same_op_and_parent
            .map(|r| files_changed(&r.sources, sources))
            .min()
        {
            changed
        } else if parent_rebuilt {
            "parent step rebuilt".to_owned()
        } else if self.records.values().any(|r| r.op == op) {
            "base changed".to_owned()
        } else if self.records.values().any(|r| r.parent == *parent) {
            "instruction changed".to_owned()
        } else {
            "not built before".to_owned()
        };
        (None, CacheOutcome::Miss { reason })
    }

    /// Remembers a step's result.
    pub(crate) fn insert(&mut self, key: Digest, record: CacheRecord) {
        self.records.insert(key, record);
    }

    /// `builder prune`: forgets the records whose layer no image uses (`dangling`), or every
    /// record with `all`. Returns the forgotten records' IDs as BuildKit prints them.
    pub(crate) fn prune(&mut self, all: bool, used: impl Fn(&Digest) -> bool) -> Vec<String> {
        let mut gone = Vec::new();
        self.records.retain(|k, r| {
            let keep = !all && used(&r.diff_id);
            if !keep {
                gone.push(record_id(k));
            }
            keep
        });
        gone
    }
}

/// A cache record's ID as `docker builder prune` lists them: BuildKit's are 25 characters of
/// base 36 (`4h0sut3rm64oqufla3hnm12l6`); here derived from the record's key, so they are stable.
fn record_id(key: &Digest) -> String {
    let bytes = key.as_bytes();
    let mut n = bytes
        .iter()
        .take(16)
        .fold(0u128, |n, b| (n << 8) | u128::from(*b));
    let mut id = [b'0'; 25];
    for slot in id.iter_mut().rev() {
        let digit = u8::try_from(n % 36).unwrap_or(0);
        *slot = if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        };
        n /= 36;
    }
    String::from_utf8_lossy(&id).into_owned()
}

/// `app.py changed`, `a.txt and 2 more changed`, `new.txt added`, `old.txt removed`.
fn files_changed(before: &BTreeMap<String, Digest>, now: &BTreeMap<String, Digest>) -> String {
    let mut changed: Vec<&str> = Vec::new();
    let mut added: Vec<&str> = Vec::new();
    let mut removed: Vec<&str> = Vec::new();
    for (path, digest) in now {
        match before.get(path) {
            Some(d) if d == digest => {}
            Some(_) => changed.push(path),
            None => added.push(path),
        }
    }
    for path in before.keys() {
        if !now.contains_key(path) {
            removed.push(path);
        }
    }
    let mut parts = Vec::new();
    for (list, verb) in [(changed, "changed"), (added, "added"), (removed, "removed")] {
        match list.len() {
            0 => {}
            1 => parts.push(format!("{} {verb}", list[0])),
            n => parts.push(format!("{} and {} more {verb}", list[0], n - 1)),
        }
    }
    if parts.is_empty() {
        "files changed".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(items: &[(&str, &str)]) -> BTreeMap<String, Digest> {
        items
            .iter()
            .map(|(p, c)| ((*p).to_owned(), Digest::sha256_of(c.as_bytes())))
            .collect()
    }

    #[test]
    fn misses_say_what_changed() {
        let mut cache = BuildCache::new();
        let parent = Digest::sha256_of(b"base");
        let op = "COPY . /app";
        let old = sources(&[("app.py", "v1"), ("req.txt", "flask"), ("gone.txt", "")]);
        let k = key(&parent, op, &old);
        cache.insert(
            k,
            CacheRecord {
                parent,
                op: op.into(),
                sources: old.clone(),
                layer: Arc::new(Layer::new()),
                diff_id: parent,
            },
        );
        assert!(matches!(
            cache.lookup(&k, &parent, op, &old, false),
            (Some(_), CacheOutcome::Hit { .. })
        ));
        let new = sources(&[("app.py", "v2"), ("req.txt", "flask"), ("new.txt", "")]);
        let (_, outcome) = cache.lookup(&key(&parent, op, &new), &parent, op, &new, false);
        assert_eq!(
            outcome,
            CacheOutcome::Miss {
                reason: "app.py changed, new.txt added, gone.txt removed".into()
            }
        );
        let other = Digest::sha256_of(b"other");
        let (_, outcome) = cache.lookup(&key(&other, op, &old), &other, op, &old, true);
        assert_eq!(
            outcome,
            CacheOutcome::Miss {
                reason: "parent step rebuilt".into()
            }
        );
        let (_, outcome) = cache.lookup(
            &key(&parent, "RUN x", &BTreeMap::new()),
            &parent,
            "RUN x",
            &BTreeMap::new(),
            false,
        );
        assert_eq!(
            outcome,
            CacheOutcome::Miss {
                reason: "instruction changed".into()
            }
        );
    }
}
