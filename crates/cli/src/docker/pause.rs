//! `pause` and `unpause` with the cgroup freezer (v1 `freezer.state`, v2 `cgroup.freeze`), and
//! the thaw that `stop`, `kill` and `rm -f` of a paused container need: as docker, the signal
//! is sent and the container thawed so that it can take it.

use std::io;

use layerbox_core::cli::report::daemon_error;
use layerbox_core::engine::{Action, ContainerState, Refusal};

use super::{Linux, store_error};
use crate::linux::Cgroup;
use crate::store::{ContainerRecord, ProcessRef};

/// The cgroup of a running container, found from its PID 1.
fn cgroup_of(record: &ContainerRecord) -> Option<Cgroup> {
    let init = record.init.filter(ProcessRef::alive)?;
    Cgroup::of_process(init.pid, &record.container.id).ok()
}

impl Linux {
    /// `pause` (`freeze`) or `unpause`: docker's refusals, then the freezer, then the record,
    /// all under the store's lock so that the shim's record of an exit is never overwritten.
    pub(super) fn pause(&self, names: &[String], freeze: bool) -> io::Result<u8> {
        let action = if freeze {
            Action::Pause
        } else {
            Action::Unpause
        };
        self.each(names, |me, found| {
            let _lock = me.store.lock().map_err(store_error)?;
            let id = &found.container.id;
            let Some(mut record) = me.store.container(id).map_err(store_error)? else {
                return Ok(Err(daemon_error(&format!("No such container: {id}"))));
            };
            let state = if record.shim_died() {
                ContainerState::Exited
            } else {
                record.container.state
            };
            if let Err(e) = state.check(action, id) {
                return Ok(Err(daemon_error(&e.to_string())));
            }
            let Some(cgroup) = cgroup_of(&record) else {
                let refusal = Refusal::NotRunning(id.clone());
                return Ok(Err(daemon_error(&refusal.to_string())));
            };
            let verb = if freeze { "pause" } else { "unpause" };
            if let Err(e) = cgroup.freeze(freeze) {
                return Ok(Err(daemon_error(&format!(
                    "Cannot {verb} container {id}: {e}"
                ))));
            }
            record.container.state = state.after(action);
            me.store.put_container(&record).map_err(store_error)?;
            Ok(Ok(()))
        })
    }

    /// After a signal to a paused container: thaws it so that it takes the signal, and records
    /// it running again. The caller holds the store's lock (the shim's record of an exit waits).
    pub(super) fn thaw_locked(&self, mut record: ContainerRecord) -> io::Result<()> {
        if record.container.state != ContainerState::Paused {
            return Ok(());
        }
        if let Some(cgroup) = cgroup_of(&record) {
            let _ = cgroup.freeze(false);
        }
        record.container.state = ContainerState::Running;
        self.store.put_container(&record).map_err(store_error)
    }
}
