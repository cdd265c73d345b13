//! Interactive shells in containers: `docker run -it img sh` and `docker exec -it c bash`. The
//! shell is the simulated one; its state (working directory, variables, functions, `$?`) carries
//! from one typed line to the next, and what it writes lands in the container's writable layer
//! by copy-up, with the events of any other process.
//!
//! # For a front end (the browser terminal, the native binary)
//!
//! 1. Say that a person types at the terminal: [`Engine::set_interactive`]`(true)`. Then
//!    `run -it … sh` and `exec -it … bash` leave a [`SessionRequest`] in
//!    [`Output::session`](super::Output::session) instead of running the shell on the given
//!    stdin (without it, `exec -i` reads the script given by [`Engine::set_stdin`], as before).
//! 2. Open it: [`Engine::open_session`] gives a [`Session`]. Show [`Session::prompt`].
//! 3. For each line typed, [`Engine::session_line`] runs it, writing its output to an
//!    [`Output`] (and the copy-up events to `Output::events`); show the output, then the prompt
//!    again, until [`Session::finished`] gives the exit status (`exit`, or the container
//!    stopped under it).
//! 4. On end of input (Ctrl-D), [`Engine::end_session`]: bash says `exit`, and the shell ends
//!    with the last status.
//!
//! A `run -it` session is the container's main process: when it ends the container exits with
//! its status (and `--rm` removes it). An `exec` session leaves the container running.
//!
//! ```
//! use layerbox_core::engine::{Engine, EngineState, Output};
//! use layerbox_core::sim::base::ModelledImages;
//! let mut engine = Engine::new(EngineState::default()).with_base_images(ModelledImages::builtin());
//! engine.set_interactive(true);
//! let mut out = Output::default();
//! engine.execute(&["docker", "run", "-it", "--name", "box", "busybox", "sh"], &mut out);
//! let mut session = engine.open_session(&out.session.take().unwrap()).unwrap();
//! assert_eq!(session.prompt(), "/ # ");
//! let mut out = Output::default();
//! engine.session_line(&mut session, "cd /tmp && X=hi", &mut out);
//! engine.session_line(&mut session, "echo $X > note; cat note", &mut out);
//! assert_eq!(out.stdout(), "hi\n");
//! assert_eq!(session.prompt(), "/tmp # ");
//! engine.session_line(&mut session, "exit 3", &mut out);
//! assert_eq!(session.finished(), Some(3));
//! ```

use serde::{Deserialize, Serialize};

use super::process::ProcessRequest;
use super::{ContainerState, Engine, EngineError, LogEntry, Output};
use crate::sim::shell;

/// An interactive shell a command asks the front end to open ([`Engine::open_session`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    /// The container's ID.
    pub container: String,
    /// The shell (`["/bin/bash"]`).
    pub argv: Vec<String>,
    /// Its environment, `KEY=value`.
    pub env: Vec<String>,
    /// Its working directory.
    pub workdir: String,
    /// Its user, as given (empty for root).
    pub user: String,
    /// Whether it is the container's main process (`run -it`) rather than an `exec`.
    pub main: bool,
}

/// How the image's shell draws its prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PromptStyle {
    /// bash with Debian's `/etc/bash.bashrc`: `root@0123456789ab:/# `.
    DebianBash,
    /// bash without it (the official `bash` image): `bash-5.2# `.
    Bash,
    /// busybox's ash (busybox, alpine): `/ # `.
    Busybox,
    /// dash (Debian's `sh`): `# `.
    Dash,
}

/// An interactive shell running in a container: feed it lines with [`Engine::session_line`].
#[derive(Debug, Clone)]
pub struct Session {
    container: String,
    shell: shell::Session,
    style: PromptStyle,
    user: String,
    hostname: String,
    main: bool,
    finished: Option<i32>,
}

impl Session {
    /// The prompt the image's shell shows now.
    pub fn prompt(&self) -> String {
        let root = self.shell.uid() == 0;
        let sign = if root { '#' } else { '$' };
        let cwd = self.shell.cwd();
        let tilde = match self.shell.var("HOME") {
            Some(home) if home != "/" && (cwd == home || cwd.starts_with(&format!("{home}/"))) => {
                format!("~{}", &cwd[home.len()..])
            }
            _ => cwd.to_owned(),
        };
        match self.style {
            PromptStyle::DebianBash => format!("{}@{}:{tilde}{sign} ", self.user, self.hostname),
            PromptStyle::Bash => format!("bash-5.2{sign} "),
            PromptStyle::Busybox => format!("{tilde} {sign} "),
            PromptStyle::Dash => format!("{sign} "),
        }
    }

    /// The shell's exit status once it has ended.
    pub fn finished(&self) -> Option<i32> {
        self.finished
    }

    /// The ID of the container it runs in.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The shell's working directory.
    pub fn cwd(&self) -> &str {
        self.shell.cwd()
    }
}

impl Engine {
    /// Says whether a person types at the front end's terminal: then `run -it … sh` and
    /// `exec -it … sh` hand back a [`SessionRequest`] (see the [module docs](self)).
    pub fn set_interactive(&mut self, interactive: bool) {
        self.interactive = interactive;
    }

    /// Whether the front end is interactive (see [`Engine::set_interactive`]).
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// Starts the shell a command asked for.
    pub fn open_session(&mut self, request: &SessionRequest) -> Result<Session, EngineError> {
        let i = self.find_container(&request.container)?;
        let (mut fs, mounted) = self.mount(i)?;
        let c = &self.state.containers[i];
        let process = ProcessRequest {
            argv: request.argv.clone(),
            env: request.env.clone(),
            workdir: request.workdir.clone(),
            user: request.user.clone(),
            hostname: c.hostname().to_owned(),
            stdin: Vec::new(),
            now: self.now().unix_secs(),
        };
        let hostname = c.hostname().to_owned();
        let program = request
            .argv
            .first()
            .map_or("sh", |p| p.rsplit('/').next().unwrap_or(p));
        let style = match program {
            "bash" if fs.stat("/etc/debian_version").is_ok() => PromptStyle::DebianBash,
            "bash" => PromptStyle::Bash,
            "ash" => PromptStyle::Busybox,
            _ if fs.stat("/bin/busybox").is_ok() => PromptStyle::Busybox,
            _ => PromptStyle::Dash,
        };
        let shell = self.runner.open_shell(&mut fs, &process);
        // opening reads the profile only; the mount points it made are kept
        self.unmount(i, fs, mounted, &mut Output::default());
        let Some(shell) = shell else {
            return Err(EngineError::Other(
                "interactive shells run on the simulated engine only".into(),
            ));
        };
        let user = if request.user.is_empty() {
            "root".to_owned()
        } else {
            request.user.clone()
        };
        Ok(Session {
            container: request.container.clone(),
            shell,
            style,
            user,
            hostname,
            main: request.main,
            finished: None,
        })
    }

    /// Runs one line typed into `session`, writing its output to `out`.
    pub fn session_line(&mut self, session: &mut Session, line: &str, out: &mut Output) {
        if session.finished.is_some() {
            return;
        }
        self.tick(out);
        let i = match self.find_container(&session.container) {
            Ok(i) if self.state.containers[i].state == ContainerState::Running => i,
            // Stopped or removed under it: the shell was killed with its container.
            _ => {
                session.finished = Some(137);
                return;
            }
        };
        let (mut fs, mounted) = match self.mount(i) {
            Ok(mounted) => mounted,
            Err(e) => {
                out.err(format!("{e}\n"));
                return;
            }
        };
        let now = self.now();
        let (result, exit) =
            self.runner
                .shell_line(&mut fs, &mut session.shell, line, now.unix_secs());
        self.unmount(i, fs, mounted, out);
        let c = &mut self.state.containers[i];
        for (stream, text) in result.output {
            if session.main {
                c.logs.push(LogEntry {
                    stream,
                    time: now,
                    text: text.clone(),
                });
            }
            out.write(stream, text);
        }
        if let Some(code) = exit {
            self.finish_session(session, i, code, out);
        }
    }

    /// End of input (Ctrl-D): the shell ends with its last status; bash says `exit` first.
    pub fn end_session(&mut self, session: &mut Session, out: &mut Output) {
        if session.finished.is_some() {
            return;
        }
        if matches!(session.style, PromptStyle::Bash | PromptStyle::DebianBash) {
            out.out("exit\n");
        } else {
            out.out("\n");
        }
        let code = session.shell.last_status();
        match self.find_container(&session.container) {
            Ok(i) => self.finish_session(session, i, code, out),
            Err(_) => session.finished = Some(code),
        }
    }

    /// The shell ended with `code`: a main process takes its container with it.
    fn finish_session(&mut self, session: &mut Session, i: usize, code: i32, out: &mut Output) {
        session.finished = Some(code);
        if !session.main {
            return;
        }
        self.exited(i, code, out);
        let c = &self.state.containers[i];
        if c.spec.auto_remove && !c.state.is_up() {
            self.remove_container(i, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineState, Event};
    use crate::fs::FsEvent;
    use crate::sim::base::ModelledImages;

    fn run(e: &mut Engine, line: &str) -> (Output, u8) {
        let argv = crate::cli::split::split_line(line).unwrap();
        let mut out = Output::default();
        let code = e.execute(&argv, &mut out);
        (out, code)
    }

    fn engine() -> Engine {
        let mut e = Engine::new(EngineState::default()).with_base_images(ModelledImages::builtin());
        e.set_interactive(true);
        e
    }

    #[test]
    fn exec_bash_keeps_its_state_and_writes_by_copy_up() {
        let mut e = engine();
        let (_, code) = run(
            &mut e,
            "docker run -d --name web debian:bookworm-slim sleep 600",
        );
        assert_eq!(code, 0);
        let (mut out, code) = run(&mut e, "docker exec -it web /bin/bash");
        assert_eq!(code, 0);
        let request = out.session.take().expect("an interactive session");
        assert!(!request.main);
        let mut s = e.open_session(&request).unwrap();
        let id = e.state().containers[0].short_id().to_owned();
        assert_eq!(s.prompt(), format!("root@{id}:/# "));
        let mut out = Output::default();
        e.session_line(&mut s, "cd /etc; GREETING=hello", &mut out);
        assert_eq!(s.prompt(), format!("root@{id}:/etc# "));
        e.session_line(&mut s, "echo $GREETING >> debian_version; cd", &mut out);
        assert_eq!(s.prompt(), format!("root@{id}:~# "));
        assert!(
            out.events
                .iter()
                .any(|ev| matches!(ev, Event::ContainerFs { event: FsEvent::CopyUp { path, .. }, .. } if path == "/etc/debian_version")),
            "{:?}",
            out.events
        );
        e.session_line(&mut s, "nosuchcommand", &mut out);
        assert!(
            s.finished().is_none(),
            "a failed command does not end the shell"
        );
        e.session_line(&mut s, "false", &mut out);
        e.end_session(&mut s, &mut out);
        assert_eq!(s.finished(), Some(1));
        assert!(out.stdout().ends_with("exit\n"));
        let (out, _) = run(&mut e, "docker diff web");
        assert!(
            out.stdout().contains("C /etc/debian_version"),
            "{}",
            out.stdout()
        );
        let (out, _) = run(&mut e, "docker ps -q");
        assert_eq!(out.stdout().lines().count(), 1, "exec left it running");
    }

    #[test]
    fn run_it_sh_is_the_main_process() {
        let mut e = engine();
        let (mut out, code) = run(&mut e, "docker run -it --rm --name box busybox sh");
        assert_eq!(code, 0);
        let request = out.session.take().expect("a session");
        assert!(request.main);
        let mut s = e.open_session(&request).unwrap();
        assert_eq!(s.prompt(), "/ # ");
        let mut out = Output::default();
        e.session_line(&mut s, "if true; then", &mut out);
        assert!(out.stderr().contains("Syntax error"), "{}", out.stderr());
        assert!(s.finished().is_none());
        e.session_line(&mut s, "(exit 4); echo $?", &mut out);
        assert!(out.stdout().ends_with("4\n"));
        assert!(s.finished().is_none());
        e.session_line(&mut s, "exit 3", &mut out);
        assert_eq!(s.finished(), Some(3));
        assert!(
            e.state().containers.is_empty(),
            "--rm removed it when the shell ended"
        );
    }

    #[test]
    fn exec_and_run_report_their_copy_ups() {
        let mut e = engine();
        run(&mut e, "docker run -d --name bb busybox sleep 100");
        let (out, code) = run(
            &mut e,
            "docker exec bb sh -c 'echo x >> /etc/passwd; rm /etc/group'",
        );
        assert_eq!(code, 0, "{}", out.text());
        let fs_events: Vec<&FsEvent> = out
            .events
            .iter()
            .filter_map(|ev| match ev {
                Event::ContainerFs { event, .. } => Some(event),
                _ => None,
            })
            .collect();
        assert!(
            fs_events
                .iter()
                .any(|ev| matches!(ev, FsEvent::CopyUp { path, .. } if path == "/etc/passwd")),
            "{fs_events:?}"
        );
        assert!(
            fs_events
                .iter()
                .any(|ev| matches!(ev, FsEvent::Whiteout { path } if path == "/etc/group")),
            "{fs_events:?}"
        );
    }

    #[test]
    fn a_dash_shell_and_a_stopped_container() {
        let mut e = engine();
        run(
            &mut e,
            "docker run -d --name deb debian:bookworm-slim sleep 600",
        );
        let (mut out, _) = run(&mut e, "docker exec -it -u 1000 deb sh");
        let mut s = e.open_session(&out.session.take().unwrap()).unwrap();
        assert_eq!(s.prompt(), "$ ");
        run(&mut e, "docker stop deb");
        let mut out = Output::default();
        e.session_line(&mut s, "echo hi", &mut out);
        assert_eq!(s.finished(), Some(137));
        assert_eq!(out.stdout(), "");
    }
}
