//! A private dockerd for the test binary, started once and shared by every test (Debian's
//! docker.io, as `shared/anchors/dockerd-start.sh` runs it): its data root, exec root, socket,
//! config and log under one temporary directory; `--bridge=none` and no iptables, so it sets up
//! no network and touches nothing outside that directory; nothing is ever pulled (every `run`
//! and `create` says `--pull=never`, and builds only name images imported first).
//!
//! Stopping: a small `sh` supervisor starts dockerd and then waits on a pipe whose other end
//! this process holds. When the test binary exits, however it exits, the pipe closes and the
//! supervisor sends SIGTERM to the dockerd it started (by its PID; dockerd stops its own
//! containerd), waits for it and removes the directory.
//!
//! Without root, or without docker.io, the tests print why and skip; under CI (`CI` set) that
//! is a failure instead, because CI runs as root with docker.io installed by `cargo xtask setup`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// docker.io's daemon.
const DOCKERD: &str = "/usr/sbin/dockerd";
/// docker.io's 20.10 CLI: it drives the daemon's built-in BuildKit without the buildx plugin
/// (a newer CLI first on PATH may lack buildx and fall back to the legacy builder).
const DOCKER_CLI: &str = "/usr/bin/docker";

/// The supervisor: starts dockerd, waits for its stdin to close, stops dockerd, cleans up.
const SUPERVISOR: &str = r#"D=$1
dockerd --host "unix://$D/docker.sock" --data-root "$D/root" --exec-root "$D/exec" \
  --pidfile "$D/dockerd.pid" --storage-driver overlay2 \
  --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  --userland-proxy=false --log-level=warn >"$D/dockerd.log" 2>&1 &
pid=$!
echo "$pid" >"$D/launch.pid"
cat >/dev/null
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rm -rf --one-file-system "$D"
"#;

/// The shared daemon.
pub struct Docker {
    dir: PathBuf,
    host: String,
    /// Held for the life of the process: closing it stops the daemon.
    _lifeline: Mutex<ChildStdin>,
}

static DOCKER: OnceLock<Option<Docker>> = OnceLock::new();

/// The shared daemon, started on first use; `None` (after one printed explanation) where it
/// cannot run outside CI.
pub fn docker() -> Option<&'static Docker> {
    DOCKER
        .get_or_init(|| match Docker::start() {
            Ok(d) => Some(d),
            Err(why) => {
                assert!(
                    std::env::var_os("CI").is_none_or(|v| v.is_empty()),
                    "the docker differential tests must run in CI, but: {why}"
                );
                // Past the test harness's capture: the reason a suite was skipped must show.
                let _ = writeln!(
                    std::io::stderr(),
                    "docker_oracle: SKIPPING the differential tests against real docker: {why}"
                );
                None
            }
        })
        .as_ref()
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

impl Docker {
    fn start() -> Result<Self, String> {
        if !is_root() {
            return Err("not root (dockerd needs root)".into());
        }
        for tool in [DOCKERD, DOCKER_CLI] {
            if !Path::new(tool).exists() {
                return Err(format!(
                    "{tool} is missing (Debian's docker.io; `cargo xtask setup` installs it)"
                ));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("layerbox-dockerd-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("temporary directory: {e}"))?
            .keep();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("sh")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start sh: {e}"))?;
        let lifeline = child.stdin.take().ok_or("no pipe to the supervisor")?;
        let docker = Self {
            host: format!("unix://{}/docker.sock", dir.display()),
            dir,
            _lifeline: Mutex::new(lifeline),
        };
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            if docker.cli(&["version"]).status.success() {
                return Ok(docker);
            }
            let log = std::fs::read_to_string(docker.dir.join("dockerd.log")).unwrap_or_default();
            let alive = std::fs::read_to_string(docker.dir.join("launch.pid"))
                .ok()
                .is_none_or(|pid| Path::new(&format!("/proc/{}", pid.trim())).exists());
            if !alive || Instant::now() > deadline {
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!(
                    "dockerd did not come up; its log ends with:\n{}",
                    tail.join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A docker CLI command against this daemon, BuildKit on, with a private config dir.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(DOCKER_CLI);
        c.args(args)
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_BUILDKIT", "1")
            .env("DOCKER_CONFIG", self.dir.join("config"))
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY");
        c
    }

    /// Runs a docker command to completion.
    pub fn cli(&self, args: &[&str]) -> Output {
        let args: Vec<&str> = with_pull_never(args);
        self.command(&args)
            .stdin(Stdio::null())
            .output()
            .expect("run the docker CLI")
    }

    /// Runs a docker command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded("docker", args, &self.cli(args))
    }

    /// A scratch directory inside the daemon's directory (removed with it).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.join("scratch").join(name);
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }
}

/// `run` and `create` with `--pull=never` inserted: the daemon must never reach a registry.
fn with_pull_never<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out = args.to_vec();
    let at = match args {
        ["run" | "create", ..] => Some(1),
        ["container", "run" | "create", ..] => Some(2),
        _ => None,
    };
    if let Some(i) = at {
        out.insert(i, "--pull=never");
    }
    out
}

/// The simulated engine through the native binary, with its own state directory.
pub struct Sim {
    root: tempfile::TempDir,
}

impl Sim {
    pub fn new() -> Self {
        Self {
            root: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// `layerbox --engine sim --root ROOT ARGS…`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_layerbox"));
        c.arg("--engine")
            .arg("sim")
            .arg("--root")
            .arg(self.root.path())
            .args(args);
        c
    }

    /// Runs a command to completion.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run layerbox")
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded("layerbox", args, &self.cli(args))
    }
}

/// The stdout of a command that must have succeeded.
fn succeeded(program: &str, args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The simulated engine in this process, its state kept in memory between commands (the same
/// engine `layerbox --engine sim` runs, without reading and writing the state file each time:
/// that keeps the build suite quick). Builds read their context directory as the binary does.
pub struct InProcess {
    engine: layerbox_core::engine::Engine,
}

impl InProcess {
    /// An engine whose state is `sim`'s state file (say, after an import through the binary).
    pub fn from(sim: &Sim) -> Self {
        let state = layerbox::sim::load(sim.root(), true).expect("sim state");
        Self {
            engine: layerbox::sim::engine(state),
        }
    }

    /// Runs a command line (`build` reads its context, the last argument); the exit code,
    /// stdout and stderr.
    pub fn cli(&mut self, args: &[&str]) -> (u8, String, String) {
        if args.first() == Some(&"build") {
            let dir = Path::new(args.last().expect("context"));
            let files = layerbox::sim::read_context(dir).expect("read context");
            self.engine
                .set_build_input(layerbox_core::engine::BuildInput { files });
        }
        let argv: Vec<&str> = ["layerbox"].iter().chain(args).copied().collect();
        let mut out = layerbox_core::engine::Output::default();
        let code = self.engine.execute(&argv, &mut out);
        (code, out.stdout(), out.stderr())
    }

    /// The engine's state.
    pub fn state(&self) -> &layerbox_core::engine::EngineState {
        self.engine.state()
    }
}
