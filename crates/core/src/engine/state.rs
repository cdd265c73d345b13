//! The container state machine: created → running ⇄ paused → exited → removed, and
//! restarting for a restart policy. The predicates on [`ContainerState`] are the one place that
//! decides what a container in a given state may do; refusals carry docker's words.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContainerState {
    /// Created, never started.
    Created,
    /// Its main process runs.
    Running,
    /// Its processes are frozen (`docker pause`).
    Paused,
    /// Its main process exited and the restart policy is bringing it back.
    Restarting,
    /// Its main process exited (or was stopped).
    Exited,
    /// Removed: the record is gone (kept only in events).
    Removed,
}

/// What is asked of a container, for [`ContainerState::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// `start`.
    Start,
    /// `stop` (a no-op on a container that is not running).
    Stop,
    /// `kill`.
    Kill,
    /// `pause`.
    Pause,
    /// `unpause`.
    Unpause,
    /// `exec`.
    Exec,
    /// `rm` without `-f`.
    Remove,
    /// `rm -f`.
    ForceRemove,
    /// `attach`-like uses: `top`, which needs a running process.
    Top,
}

/// Why the state machine refused an action, in docker's words (`{id}` is the container's ID
/// or name as docker's message has it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Refusal {
    /// `rm` of a running container.
    #[error(
        "You cannot remove a running container {0}. Stop the container before attempting removal or force remove"
    )]
    RemoveRunning(String),
    /// `rm` of a paused container.
    #[error(
        "You cannot remove a paused container {0}. Unpause and then stop the container before attempting removal or force remove"
    )]
    RemovePaused(String),
    /// `start` of a paused container.
    #[error("cannot start a paused container, try unpause instead")]
    StartPaused,
    /// `pause`, `exec`, `top` or `kill` of a container that does not run.
    #[error("Container {0} is not running")]
    NotRunning(String),
    /// `kill` of a container that does not run: the name as given, then the ID (the engine
    /// puts the given name in; the state machine knows only the ID).
    #[error("Cannot kill container: {0}: Container {1} is not running")]
    KillNotRunning(String, String),
    /// `pause` of a paused container.
    #[error("Container {0} is already paused")]
    AlreadyPaused(String),
    /// `unpause` of a container that is not paused.
    #[error("Container {0} is not paused")]
    NotPaused(String),
    /// `exec` in a paused container.
    #[error("Container {0} is paused, unpause the container before exec")]
    ExecPaused(String),
    /// `kill`/`stop` of a paused container is allowed; this is for `top` of a restarting one.
    #[error("Container {0} is restarting, wait until the container is running")]
    Restarting(String),
}

impl ContainerState {
    /// Whether `start` would run the main process (a running container's `start` is a no-op).
    pub const fn can_start(self) -> bool {
        matches!(self, Self::Created | Self::Exited)
    }

    /// Whether the main process is alive (running, paused or about to be restarted).
    pub const fn is_up(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Restarting)
    }

    /// Whether `stop` has something to stop.
    pub const fn can_stop(self) -> bool {
        self.is_up()
    }

    /// Whether `kill` can signal the main process.
    pub const fn can_kill(self) -> bool {
        self.is_up()
    }

    /// Whether `pause` applies.
    pub const fn can_pause(self) -> bool {
        matches!(self, Self::Running)
    }

    /// Whether `unpause` applies.
    pub const fn can_unpause(self) -> bool {
        matches!(self, Self::Paused)
    }

    /// Whether `exec` can start a process.
    pub const fn can_exec(self) -> bool {
        matches!(self, Self::Running)
    }

    /// Whether `rm` without `-f` may remove it.
    pub const fn can_remove(self) -> bool {
        matches!(self, Self::Created | Self::Exited)
    }

    /// Whether `container prune` removes it (stopped containers only).
    pub const fn is_prunable(self) -> bool {
        matches!(self, Self::Created | Self::Exited)
    }

    /// Decides whether `action` is allowed; `id` is how docker names the container in the
    /// refusal. This is the single place refusals are decided.
    pub fn check(self, action: Action, id: &str) -> Result<(), Refusal> {
        let refuse = |r: Refusal| Err(r);
        match action {
            Action::Start if self == Self::Paused => refuse(Refusal::StartPaused),
            Action::Kill if !self.can_kill() => {
                refuse(Refusal::KillNotRunning(id.to_owned(), id.to_owned()))
            }
            Action::Pause if self == Self::Paused => refuse(Refusal::AlreadyPaused(id.to_owned())),
            Action::Pause if !self.can_pause() => refuse(Refusal::NotRunning(id.to_owned())),
            Action::Unpause if !self.can_unpause() => refuse(Refusal::NotPaused(id.to_owned())),
            Action::Exec if self == Self::Paused => refuse(Refusal::ExecPaused(id.to_owned())),
            Action::Exec | Action::Top if self == Self::Restarting => {
                refuse(Refusal::Restarting(id.to_owned()))
            }
            Action::Exec | Action::Top if !self.is_up() => {
                refuse(Refusal::NotRunning(id.to_owned()))
            }
            Action::Remove if self == Self::Paused => refuse(Refusal::RemovePaused(id.to_owned())),
            Action::Remove if !self.can_remove() => refuse(Refusal::RemoveRunning(id.to_owned())),
            Action::Start
            | Action::Stop
            | Action::ForceRemove
            | Action::Kill
            | Action::Pause
            | Action::Unpause
            | Action::Exec
            | Action::Top
            | Action::Remove => Ok(()),
        }
    }

    /// The state after `action` succeeded on a container in this state (`exited` is what the
    /// main process ending leads to; see [`ContainerState::after_exit`]).
    #[must_use]
    pub const fn after(self, action: Action) -> Self {
        match action {
            Action::Start => {
                if self.can_start() {
                    Self::Running
                } else {
                    self
                }
            }
            Action::Stop | Action::Kill => {
                if self.is_up() {
                    Self::Exited
                } else {
                    self
                }
            }
            Action::Pause => Self::Paused,
            Action::Unpause => Self::Running,
            Action::Remove | Action::ForceRemove => Self::Removed,
            Action::Exec | Action::Top => self,
        }
    }

    /// The state once the main process ended by itself: restarting if the policy restarts it.
    pub const fn after_exit(restarts: bool) -> Self {
        if restarts {
            Self::Restarting
        } else {
            Self::Exited
        }
    }

    /// docker's one-word name (`.State.Status`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Exited => "exited",
            Self::Removed => "removing",
        }
    }

    /// Every state, for tests and the playground's lifecycle diagram.
    pub const ALL: [Self; 6] = [
        Self::Created,
        Self::Running,
        Self::Paused,
        Self::Restarting,
        Self::Exited,
        Self::Removed,
    ];
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::ContainerState::{Created, Exited, Paused, Removed, Restarting, Running};
    use super::*;

    #[test]
    fn lifecycle_created_running_paused_exited_removed() {
        let mut s = Created;
        for (action, want) in [
            (Action::Start, Running),
            (Action::Pause, Paused),
            (Action::Unpause, Running),
            (Action::Stop, Exited),
            (Action::Start, Running),
            (Action::Kill, Exited),
            (Action::Remove, Removed),
        ] {
            s.check(action, "c").unwrap();
            s = s.after(action);
            assert_eq!(s, want, "{action:?}");
        }
    }

    #[test]
    fn refusals_have_dockers_words() {
        assert_eq!(
            Running
                .check(Action::Remove, "abc")
                .unwrap_err()
                .to_string(),
            "You cannot remove a running container abc. Stop the container before attempting removal or force remove"
        );
        assert_eq!(
            Exited.check(Action::Kill, "web").unwrap_err().to_string(),
            "Cannot kill container: web: Container web is not running"
        );
        assert_eq!(
            Paused.check(Action::Start, "web").unwrap_err().to_string(),
            "cannot start a paused container, try unpause instead"
        );
        assert_eq!(
            Created.check(Action::Exec, "x").unwrap_err(),
            Refusal::NotRunning("x".into())
        );
        assert_eq!(
            Paused.check(Action::Pause, "x").unwrap_err(),
            Refusal::AlreadyPaused("x".into())
        );
        assert_eq!(
            Running.check(Action::Unpause, "x").unwrap_err(),
            Refusal::NotPaused("x".into())
        );
    }

    #[test]
    fn predicates_agree_with_check() {
        for s in ContainerState::ALL {
            assert_eq!(s.check(Action::Remove, "c").is_ok(), s.can_remove(), "{s}");
            assert_eq!(s.check(Action::Pause, "c").is_ok(), s.can_pause(), "{s}");
            assert_eq!(
                s.check(Action::Unpause, "c").is_ok(),
                s.can_unpause(),
                "{s}"
            );
            assert_eq!(s.check(Action::Exec, "c").is_ok(), s.can_exec(), "{s}");
            assert_eq!(s.check(Action::Kill, "c").is_ok(), s.can_kill(), "{s}");
            assert!(s.check(Action::ForceRemove, "c").is_ok());
            assert!(!(s.can_remove() && s.is_up()), "{s}");
        }
        assert_eq!(Exited.after(Action::Stop), Exited);
        assert_eq!(Running.after(Action::Start), Running);
        assert_eq!(ContainerState::after_exit(true), Restarting);
        assert_eq!(ContainerState::after_exit(false), Exited);
    }
}
