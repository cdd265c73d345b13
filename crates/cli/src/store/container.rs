//! Container records: the engine's container (its configuration and place in the state
//! machine) plus what the Linux engine needs to find it again from a later invocation: the
//! image layers under it, the shim that supervises it and its PID 1 on the host.

use layerbox_core::engine::Container;
use layerbox_core::image::Digest;
use serde::{Deserialize, Serialize};

use super::{RecordKind, Store, StoreError};

/// A process named by its PID and its start time (clock ticks after boot, field 22 of
/// `/proc/PID/stat`), so that a recycled PID is never taken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRef {
    /// The PID on the host.
    pub pid: i32,
    /// When it started.
    pub start: u64,
}

impl ProcessRef {
    /// The process `pid` as it is now, `None` when there is none.
    pub fn of(pid: i32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = stat.rsplit_once(')')?.1;
        let mut fields = after.split_whitespace();
        // field 3 is the state; a zombie has ended
        if fields.next()? == "Z" {
            return None;
        }
        let start = fields.nth(18)?.parse().ok()?;
        Some(Self { pid, start })
    }

    /// This process.
    pub fn current() -> Option<Self> {
        Self::of(i32::try_from(std::process::id()).ok()?)
    }

    /// Whether the process still runs (the same one, not a new one with its PID).
    pub fn alive(&self) -> bool {
        Self::of(self.pid).is_some_and(|now| now == *self)
    }
}

/// What `containers/<id>.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// The engine's container (its writable layer and logs are kept on disk, not here).
    #[serde(flatten)]
    pub container: Container,
    /// The image's layers (diff_ids, bottom first): the overlay's lower directories.
    #[serde(default)]
    pub layers: Vec<Digest>,
    /// The process supervising the running container (the shim, or an attached CLI).
    #[serde(default)]
    pub shim: Option<ProcessRef>,
    /// The container's PID 1 as the host sees it, while it runs.
    #[serde(default)]
    pub init: Option<ProcessRef>,
}

impl ContainerRecord {
    /// A record for a container just created over an image with layers `layers`.
    pub fn new(container: Container, layers: Vec<Digest>) -> Self {
        Self {
            container,
            layers,
            shim: None,
            init: None,
        }
    }

    /// Whether the record says the container runs but its supervisor is gone (killed, or the
    /// machine restarted): nobody will record its end.
    pub fn shim_died(&self) -> bool {
        self.container.state.is_up() && !self.shim.is_some_and(|s| s.alive())
    }
}

impl Store {
    /// The record of container `id`.
    pub fn container(&self, id: &str) -> Result<Option<ContainerRecord>, StoreError> {
        self.get_record(RecordKind::Container, id)
    }

    /// Writes a container's record atomically (without its writable layer and logs, which
    /// live in its directory). A `--rm` container's record is not fsynced: after a crash it
    /// would be removed anyway, and `system check` removes what a crash leaves of it.
    pub fn put_container(&self, record: &ContainerRecord) -> Result<(), StoreError> {
        let mut record = record.clone();
        record.container.upper = layerbox_core::fs::Layer::new();
        record.container.logs.clear();
        let durable = !record.container.spec.auto_remove;
        self.put_record_with(
            RecordKind::Container,
            &record.container.id,
            &record,
            durable,
        )
    }

    /// Records how a container ended (the caller holds the lock): exited with `code`, or, for
    /// `--rm`, removed with its directory and its anonymous volumes. The record on disk is re-read first, so what
    /// other invocations changed meanwhile (a rename) is kept.
    pub fn record_exit(
        &self,
        record: &ContainerRecord,
        code: i32,
        oom_killed: bool,
    ) -> Result<(), StoreError> {
        use layerbox_core::engine::{Clock, ContainerState};
        let id = &record.container.id;
        let Some(mut now) = self.container(id)? else {
            return Ok(());
        };
        if now.container.spec.auto_remove {
            self.remove_record_with(RecordKind::Container, id, false)?;
            return self.remove_volumes_of(&now.container);
        }
        now.container.state = ContainerState::Exited;
        now.container.exit_code = code;
        now.container.finished_at = Some(crate::sim::SystemClock.now());
        now.container.oom_killed = oom_killed;
        now.shim = None;
        now.init = None;
        self.put_container(&now)
    }

    /// Every container record, oldest first.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>, StoreError> {
        let mut all = Vec::new();
        for id in self.list_records(RecordKind::Container)? {
            if let Some(r) = self.container(&id)? {
                all.push(r);
            }
        }
        all.sort_by_key(|r| r.container.created);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = ProcessRef::current().unwrap();
        assert!(me.alive());
        let recycled = ProcessRef {
            start: me.start + 1,
            ..me
        };
        assert!(!recycled.alive());
        assert!(ProcessRef::of(i32::MAX).is_none());
    }
}
