//! Time in the simulation, and the commands that block on it. A container's modelled process
//! has a simulated lifetime: `sleep 5` ends five seconds after it started, a script's `sleep`s
//! add up to how long it runs, a server runs until it is stopped. [`Engine::tick`] ends the
//! processes whose time is up, by the engine's [`Clock`](super::Clock).
//!
//! docker's blocking commands — `wait`, `logs -f`, `run` without `-d`, `start -a` — cannot
//! block in the core, which the browser runs on its only thread. When the front end says it
//! follows ([`Engine::set_follows`]), such a command leaves a [`Follow`] in
//! [`Output::follow`](super::Output::follow) instead of returning at once; the front end then
//! calls [`Engine::poll`] whenever time has passed (at [`Engine::next_event_time`] at the
//! latest, or when the state changed under it) until it gives the exit code, and
//! [`Engine::interrupt`] on Ctrl-C. The native binary sleeps between polls; the browser sets
//! a timer.
//!
//! ```
//! use layerbox_core::cli::units::Timestamp;
//! use layerbox_core::engine::{Engine, EngineState, FixedClock, Output};
//! use layerbox_core::sim::base::ModelledImages;
//! let t0 = Timestamp::from_unix_secs(1_764_151_200);
//! let mut engine = Engine::new(EngineState::default())
//!     .with_clock(FixedClock(t0))
//!     .with_base_images(ModelledImages::builtin());
//! engine.set_follows(true);
//! let mut out = Output::default();
//! engine.execute(&["docker", "run", "-d", "--name", "nap", "busybox", "sleep", "5"], &mut out);
//! let mut out = Output::default();
//! engine.execute(&["docker", "wait", "nap"], &mut out);
//! let mut follow = out.follow.take().expect("wait blocks while `sleep 5` runs");
//! assert_eq!(engine.next_event_time(), Some(Timestamp::from_unix_secs(1_764_151_205)));
//! assert_eq!(engine.poll(&mut follow, &mut out), None);
//! engine.set_clock(FixedClock(Timestamp::from_unix_secs(1_764_151_205)));
//! assert_eq!(engine.poll(&mut follow, &mut out), Some(0));
//! assert_eq!(out.stdout(), "0\n");
//! ```

use serde::{Deserialize, Serialize};

use super::commands::rfc3339_nano;
use super::{ContainerState, Engine, EngineError, Output, Process, Response, restarts};
use crate::cli::units::Timestamp;

/// What a blocked command is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FollowKind {
    /// `wait`: print each container's exit code, in the order given, as it stops.
    Wait,
    /// `logs -f`: print what the container writes until it stops.
    Logs {
        /// `-t`: each line with its time.
        timestamps: bool,
    },
    /// `run` without `-d`, `start -a`: print what the main process writes, and end with its
    /// exit code.
    Attach {
        /// `--sig-proxy` (true by default): Ctrl-C is passed to the process, not taken by the
        /// client.
        sig_proxy: bool,
        /// `-t`: Ctrl-C reaches the process through its terminal.
        tty: bool,
    },
}

/// A command blocked until containers change: what [`Engine::poll`] carries on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    /// What it waits for.
    pub kind: FollowKind,
    /// The containers' IDs, those still awaited first.
    pub containers: Vec<String>,
    /// How many of the (first) container's log entries were printed.
    pub printed: usize,
    /// How often Ctrl-C was pressed.
    pub interrupts: u32,
}

impl Follow {
    /// Follows the containers `ids`.
    pub fn new(kind: FollowKind, ids: Vec<String>, printed: usize) -> Self {
        Self {
            kind,
            containers: ids,
            printed,
            interrupts: 0,
        }
    }
}

/// What SIGINT does to a modelled main process running as PID 1: programs that install a
/// handler exit (with their status and what they print); for the others the kernel ignores it,
/// as for any PID 1 without a handler.
fn on_sigint(argv: &[String], process: &Process) -> Option<(i32, Option<String>)> {
    let mut programs = argv
        .iter()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .filter(|p| !p.ends_with("entrypoint.sh"));
    let program = programs.next().unwrap_or_default();
    match process {
        Process::Server { .. } if program == "nginx" => Some((0, None)),
        // Python's http.server catches KeyboardInterrupt and says so; Werkzeug (Flask)
        // catches it in serve_forever and exits quietly.
        Process::Server {
            response: Response::Files(_),
            ..
        } if program.starts_with("python") => Some((
            0,
            Some("\nKeyboard interrupt received, exiting.\n".to_owned()),
        )),
        Process::Server { .. } if program.starts_with("python") => Some((0, None)),
        _ => None,
    }
}

impl Engine {
    /// Says whether the front end blocks on [`Output::follow`](super::Output::follow): then
    /// `wait`, `logs -f`, `run` without `-d` and `start -a` on a container whose process keeps
    /// running hand it a [`Follow`] instead of returning at once with a notice.
    pub fn set_follows(&mut self, follows: bool) {
        self.follows = follows;
    }

    /// Whether the front end follows (see [`Engine::set_follows`]).
    pub fn follows(&self) -> bool {
        self.follows
    }

    /// Lets simulated time pass: main processes whose lifetime is over (`sleep`, a script
    /// that slept) exit with their status, and the restart policy decides what follows.
    pub fn tick(&mut self, out: &mut Output) {
        let now = self.now();
        for i in 0..self.state.containers.len() {
            let c = &self.state.containers[i];
            if c.state != ContainerState::Running {
                continue;
            }
            let (at, status) = match c.process {
                Process::Sleep { until: Some(until) } => (until, 0),
                Process::Exits { at, status } => (at, status),
                _ => continue,
            };
            if at > now {
                continue;
            }
            self.exited(i, status, out);
            self.state.containers[i].finished_at = Some(at);
            if self.state.containers[i].state == ContainerState::Restarting {
                // The restart policy brings it back at once (docker waits 100 ms at first).
                self.state.containers[i].state = ContainerState::Exited;
                if self.start(i, out).is_err() {
                    self.state.containers[i].state = ContainerState::Exited;
                }
            }
        }
    }

    /// Container `i`'s main process ended by itself with `status`: exited, or restarting if
    /// its policy says so.
    pub(super) fn exited(&mut self, i: usize, status: i32, out: &mut Output) {
        let c = &mut self.state.containers[i];
        c.exit_code = status;
        c.process = Process::Finished;
        let again = restarts(c.spec.restart, status);
        if again {
            c.restart_count += 1;
        }
        self.set_state(i, ContainerState::after_exit(again), out);
    }

    /// When the next modelled process ends by itself, if one will: the latest time a front
    /// end needs to poll again (other changes come from other commands).
    pub fn next_event_time(&self) -> Option<Timestamp> {
        self.state
            .containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .filter_map(|c| match c.process {
                Process::Sleep { until } => until,
                Process::Exits { at, .. } => Some(at),
                _ => None,
            })
            .min()
    }

    /// `docker wait` without blocking: the container's exit code once its process has ended
    /// (after letting time pass), `None` while it runs.
    pub fn poll_wait(&mut self, name: &str, out: &mut Output) -> Result<Option<i32>, EngineError> {
        self.tick(out);
        let i = self.find_container(name)?;
        let c = &self.state.containers[i];
        Ok((!c.state.is_up()).then_some(c.exit_code))
    }

    /// Carries a blocked command on: lets time pass, prints what it would have printed since the
    /// last poll, and gives its exit code when it is done.
    pub fn poll(&mut self, follow: &mut Follow, out: &mut Output) -> Option<u8> {
        self.tick(out);
        match follow.kind {
            FollowKind::Wait => {
                while let Some(id) = follow.containers.first() {
                    match self.find_container(id) {
                        Ok(i) if self.state.containers[i].state.is_up() => return None,
                        Ok(i) => out.out(format!("{}\n", self.state.containers[i].exit_code)),
                        // Removed meanwhile (`--rm`): docker's wait saw it exit.
                        Err(_) => {}
                    }
                    follow.containers.remove(0);
                }
                Some(0)
            }
            FollowKind::Logs { timestamps } => {
                let id = follow.containers.first()?.clone();
                let Ok(i) = self.find_container(&id) else {
                    return Some(0);
                };
                self.print_logs(i, follow, timestamps, out);
                (!self.state.containers[i].state.is_up()).then_some(0)
            }
            FollowKind::Attach { .. } => {
                let id = follow.containers.first()?.clone();
                let Ok(i) = self.find_container(&id) else {
                    return Some(0);
                };
                self.print_logs(i, follow, false, out);
                let c = &self.state.containers[i];
                if c.state.is_up() {
                    return None;
                }
                let code = c.exit_code;
                if c.spec.auto_remove {
                    self.remove_container(i, out);
                }
                Some(u8::try_from(code & 0xff).unwrap_or(1))
            }
        }
    }

    /// Ctrl-C while blocked. `wait` and `logs -f` end (130, as a shell reports a client killed
    /// by SIGINT). An attached `run` passes SIGINT to the main process (docker's
    /// `--sig-proxy`, or the terminal with `-t`): a process that handles it exits, which the
    /// next [`Engine::poll`] reports; PID 1 without a handler ignores it, and a second Ctrl-C
    /// detaches (layerbox's way out; the container keeps running). Returns the exit code when
    /// the command ends here.
    pub fn interrupt(&mut self, follow: &mut Follow, out: &mut Output) -> Option<u8> {
        follow.interrupts += 1;
        let FollowKind::Attach { sig_proxy, tty } = follow.kind else {
            return Some(130);
        };
        let Some(i) = follow
            .containers
            .first()
            .and_then(|id| self.find_container(id).ok())
        else {
            return Some(130);
        };
        if !sig_proxy && !tty {
            return Some(130);
        }
        let c = &self.state.containers[i];
        if follow.interrupts > 1 {
            out.notices.push(format!(
                "simulated: detached from {}; it keeps running (docker stop {})",
                c.short_id(),
                c.name
            ));
            return Some(130);
        }
        let argv = c.argv();
        let Some((code, text)) = on_sigint(&argv, &c.process) else {
            out.notices.push(format!(
                "simulated: SIGINT went to `{}`, which as PID 1 without a handler ignores it, as under docker; Ctrl-C again detaches, `docker stop {}` stops it",
                argv.join(" "),
                c.name
            ));
            return None;
        };
        let now = self.now();
        if let Some(text) = text {
            self.state.containers[i].logs.push(super::LogEntry {
                stream: super::Stream::Stderr,
                time: now,
                text,
            });
        }
        // Ended by the signal: `--rm` removal is the poll's, after it read the code.
        let c = &mut self.state.containers[i];
        c.exit_code = code;
        c.process = Process::Finished;
        self.set_state(i, ContainerState::Exited, out);
        None
    }

    /// Prints container `i`'s log entries after the `follow.printed` first.
    fn print_logs(&self, i: usize, follow: &mut Follow, timestamps: bool, out: &mut Output) {
        let logs = &self.state.containers[i].logs;
        for entry in logs.iter().skip(follow.printed) {
            for line in entry.text.split_inclusive('\n') {
                if timestamps {
                    out.write(entry.stream, format!("{} {line}", rfc3339_nano(entry.time)));
                } else {
                    out.write(entry.stream, line);
                }
            }
        }
        follow.printed = logs.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineState, FixedClock};
    use crate::sim::base::ModelledImages;

    const T0: i64 = 1_764_151_200;

    fn at(secs: i64) -> FixedClock {
        FixedClock(Timestamp::from_unix_secs(T0 + secs))
    }

    fn engine() -> Engine {
        let mut e = Engine::new(EngineState::default())
            .with_clock(at(0))
            .with_base_images(ModelledImages::builtin());
        e.set_follows(true);
        e
    }

    fn run(e: &mut Engine, line: &str) -> (Output, u8) {
        let argv = crate::cli::split::split_line(line).unwrap();
        let mut out = Output::default();
        let code = e.execute(&argv, &mut out);
        (out, code)
    }

    #[test]
    fn sleep_ends_after_its_time_and_wait_reports_it() {
        let mut e = engine();
        run(&mut e, "docker run -d --name cc busybox sleep 5");
        assert_eq!(e.next_event_time(), Some(Timestamp::from_unix_secs(T0 + 5)));
        let (mut out, code) = run(&mut e, "docker wait cc");
        assert_eq!((code, out.stdout()), (0, String::new()));
        let mut follow = out.follow.take().expect("wait blocks");
        e.set_clock(at(4));
        assert_eq!(e.poll(&mut follow, &mut out), None);
        assert_eq!(e.poll_wait("cc", &mut out), Ok(None));
        e.set_clock(at(6));
        assert_eq!(e.poll(&mut follow, &mut out), Some(0));
        assert_eq!(out.stdout(), "0\n");
        assert_eq!(e.poll_wait("cc", &mut out), Ok(Some(0)));
        assert_eq!(e.next_event_time(), None);
        let c = &e.state().containers[0];
        // It ended when its time was up, not when it was noticed.
        assert_eq!(c.finished_at, Some(Timestamp::from_unix_secs(T0 + 5)));
        // Once it has exited, wait answers at once.
        let (out, code) = run(&mut e, "docker wait cc");
        assert_eq!(
            (code, out.stdout(), out.follow),
            (0, "0\n".to_owned(), None)
        );
    }

    #[test]
    fn a_script_runs_as_long_as_its_sleeps_and_attach_ends_with_its_code() {
        let mut e = engine();
        let (mut out, code) = run(
            &mut e,
            "docker run --rm --name ss busybox sh -c 'echo start; sleep 2; exit 3'",
        );
        assert_eq!(code, 0, "{}", out.text());
        assert!(
            out.stdout()
                .ends_with("Status: Downloaded newer image for busybox:latest\nstart\n")
        );
        let mut follow = out.follow.take().expect("run stays attached");
        assert_eq!(e.poll(&mut follow, &mut out), None);
        e.set_clock(at(2));
        assert_eq!(e.poll(&mut follow, &mut out), Some(3));
        assert!(e.state().containers.is_empty(), "--rm removed it");
        // Without a following front end the old behaviour stays: return at once.
        e.set_follows(false);
        let (out, _) = run(&mut e, "docker run busybox sleep 1");
        assert!(out.follow.is_none());
        assert!(
            out.notices[0].contains("keeps running"),
            "{:?}",
            out.notices
        );
    }

    #[test]
    fn the_restart_policy_brings_a_process_back_when_it_ends() {
        let mut e = engine();
        run(
            &mut e,
            "docker run -d --restart always --name rr busybox sleep 5",
        );
        e.set_clock(at(6));
        let mut out = Output::default();
        e.tick(&mut out);
        let c = &e.state().containers[0];
        assert_eq!((c.state, c.restart_count), (ContainerState::Running, 1));
        assert_eq!(
            e.next_event_time(),
            Some(Timestamp::from_unix_secs(T0 + 11))
        );
        // `wait` keeps waiting: it never stops by itself.
        let (mut out, _) = run(&mut e, "docker wait rr");
        let mut follow = out.follow.take().unwrap();
        e.set_clock(at(12));
        assert_eq!(e.poll(&mut follow, &mut out), None);
        assert_eq!(e.state().containers[0].restart_count, 2);
        // on-failure does not restart a success.
        run(
            &mut e,
            "docker run -d --restart on-failure --name of busybox sleep 1",
        );
        e.set_clock(at(14));
        let (out, _) = run(&mut e, "docker ps -a --format '{{.Names}} {{.Status}}'");
        assert!(
            out.stdout().contains("of Exited (0) 1 second ago"),
            "{}",
            out.stdout()
        );
    }

    #[test]
    fn logs_follow_until_the_container_stops() {
        let mut e = engine();
        run(
            &mut e,
            "docker run -d --name ww python:3.9-slim python -m http.server 8000",
        );
        let (mut out, _) = run(&mut e, "docker logs -f ww");
        assert!(
            out.stdout()
                .starts_with("Serving HTTP on 0.0.0.0 port 8000")
        );
        let mut follow = out.follow.take().expect("logs -f blocks on a server");
        assert_eq!(e.next_event_time(), None, "a server runs forever");
        e.set_clock(at(100));
        assert_eq!(e.poll(&mut follow, &mut out), None);
        let (_, code) = run(&mut e, "docker stop ww");
        assert_eq!(code, 0);
        assert_eq!(e.poll(&mut follow, &mut out), Some(0));
        // Ctrl-C ends a follow of logs or wait as SIGINT ends the client.
        let mut f = Follow::new(FollowKind::Wait, vec!["ww".into()], 0);
        assert_eq!(e.interrupt(&mut f, &mut out), Some(130));
    }

    #[test]
    fn ctrl_c_reaches_the_process_as_docker_proxies_it() {
        let mut e = engine();
        // PID 1 without a handler ignores SIGINT; the second Ctrl-C detaches.
        let (mut out, _) = run(&mut e, "docker run --name zz busybox sleep 100");
        let mut follow = out.follow.take().unwrap();
        assert_eq!(e.interrupt(&mut follow, &mut out), None);
        assert!(out.notices[0].contains("ignores it"), "{:?}", out.notices);
        assert_eq!(e.poll(&mut follow, &mut out), None);
        assert_eq!(e.interrupt(&mut follow, &mut out), Some(130));
        assert_eq!(e.state().containers[0].state, ContainerState::Running);
        // Python's http.server handles it: it says so and exits 0.
        let (mut out, _) = run(
            &mut e,
            "docker run --name pp python:3.9-slim python -m http.server",
        );
        let mut follow = out.follow.take().unwrap();
        assert_eq!(e.interrupt(&mut follow, &mut out), None);
        assert_eq!(e.poll(&mut follow, &mut out), Some(0));
        assert!(
            out.stderr()
                .contains("Keyboard interrupt received, exiting.")
        );
        // --sig-proxy=false: Ctrl-C ends the client only.
        let (mut out, _) = run(
            &mut e,
            "docker run --sig-proxy=false --name qq python:3.9-slim python -m http.server",
        );
        let mut follow = out.follow.take().unwrap();
        assert_eq!(e.interrupt(&mut follow, &mut out), Some(130));
        let q = e.find_container("qq").unwrap();
        assert_eq!(e.state().containers[q].state, ContainerState::Running);
    }
}
