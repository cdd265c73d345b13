//! The Linux engine end to end through the binary: `layerbox --engine linux …`, each command a
//! fresh process over a store in a temporary directory, on a busybox rootfs imported from
//! Debian's busybox-static. They need root: run as anyone else, each test prints a note and
//! passes without checking anything.

mod limits;
mod pause;
mod subuid;
mod tty;
mod volumes;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::linux_root::{assert_no_mounts_below, exits, make_busybox_layer, root_only};

mod cp;
mod faults;
mod network;
mod node;
mod restart;

/// A store in a temporary directory with busybox imported as `busybox:latest`.
struct Lab {
    dir: tempfile::TempDir,
}

/// A temporary directory on tmpfs (`/dev/shm`) where there is one, else in the usual place.
fn tmpfs_dir(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    if shm.is_dir() {
        builder.tempdir_in(shm)
    } else {
        builder.tempdir()
    }
    .unwrap()
}

impl Drop for Lab {
    /// A test that failed midway leaves no container running after it.
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(out) = self.command(&["ps", "-aq", "--no-trunc"]).output()
        {
            let ids = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut args = vec!["rm", "-f"];
            args.extend(ids.lines());
            if args.len() > 2 {
                let _ = self.command(&args).output();
            }
        }
    }
}

impl Lab {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("layerbox-engine-")
            .tempdir()
            .unwrap();
        Self::with_dir(dir)
    }

    /// The lab in `dir`, busybox imported.
    fn with_dir(dir: tempfile::TempDir) -> Self {
        let lab = Self { dir };
        let rootfs = lab.path().join("rootfs");
        make_busybox_layer(&rootfs);
        let tarball = lab.path().join("busybox.tar");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tarball)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        let out = lab.ok(&[
            "import",
            "-m",
            "busybox rootfs",
            tarball.to_str().unwrap(),
            "busybox",
        ]);
        assert!(out.starts_with("sha256:"), "{out}");
        lab
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn root(&self) -> PathBuf {
        self.path().join("store")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_layerbox"));
        cmd.args(["--engine", "linux", "--root"])
            .arg(self.root())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn layerbox(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.layerbox(args);
        assert!(
            out.status.success(),
            "{args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// stdout, stderr and the exit code of a command.
    fn all(&self, args: &[&str]) -> (String, String, i32) {
        let out = self.layerbox(args);
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
            out.status.code().unwrap_or(-1),
        )
    }

    fn context(&self, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.path().join("context");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    /// A home directory for `nobody` in the lab with `files` (relative paths) and the busybox
    /// tarball in it, all owned by `nobody`.
    fn nobody_home(&self, files: &[(&str, &str)]) -> PathBuf {
        let home = self.path().join("home");
        for (name, text) in files {
            let path = home.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::copy(self.path().join("busybox.tar"), home.join("busybox.tar")).unwrap();
        let chown = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&home)
            .status()
            .unwrap();
        assert!(chown.success());
        home
    }

    /// The store is clean and no mount is left below the lab.
    fn assert_clean(&self) {
        let (out, err, code) = self.all(&["system", "check"]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(out, format!("store {}: clean\n", self.root().display()));
        assert_no_mounts_below(self.path());
    }
}

#[test]
fn import_build_and_run_in_the_foreground() {
    let _g = root_only!();
    let lab = Lab::new();
    let images = lab.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
    assert_eq!(
        images,
        "busybox:latest 2.01MB\n".replace("2.01MB", images.split(' ').nth(1).unwrap().trim())
    );
    let ctx = lab.context(&[
        (
            "Dockerfile",
            "FROM busybox\nRUN echo hi > /a && rm /etc/motd\nCOPY hello.txt /hello.txt\nENV GREETING=hey\nCMD [\"sh\", \"-c\", \"cat /a /hello.txt; echo $GREETING; test -e /etc/motd || echo no motd\"]\n",
        ),
        ("hello.txt", "hello\n"),
    ]);
    let (out, err, code) = lab.all(&["build", "-t", "tiny", ctx.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("#5 [2/3] RUN echo hi > /a && rm /etc/motd\n"),
        "{err}"
    );
    assert!(
        err.contains("naming to docker.io/library/tiny:latest done"),
        "{err}"
    );
    // the second build is all cached
    let (_, again, _) = lab.all(&["build", "-t", "tiny", ctx.to_str().unwrap()]);
    assert!(
        again.contains("#5 [2/3] RUN echo hi > /a && rm /etc/motd\n#5 sha256:"),
        "{again}"
    );
    // as BuildKit: RUN and COPY are CACHED, the local FROM is not shown as such
    assert_eq!(again.matches("CACHED").count(), 2, "{again}");

    assert_eq!(
        lab.all(&["run", "--rm", "tiny"]),
        ("hi\nhello\nhey\nno motd\n".to_owned(), String::new(), 0)
    );
    let history = lab.ok(&["history", "--format", "{{.CreatedBy}}|{{.Size}}", "tiny"]);
    let history: Vec<&str> = history.lines().collect();
    assert_eq!(history.len(), 5, "{history:?}");
    assert!(
        history[3].starts_with("RUN /bin/sh -c echo hi > /a"),
        "{history:?}"
    );
    assert_eq!(history[2], "COPY hello.txt /hello.txt # buildkit|6B");

    // exit codes: the program's own, and docker's 127 and 126
    let (out, err, code) = lab.all(&[
        "run",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!((out.as_str(), err.as_str(), code), ("out\n", "err\n", 3));
    let (out, err, code) = lab.all(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!((out.as_str(), code), ("", 127));
    assert_eq!(
        err,
        "layerbox: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"nosuchcmd\": executable file not found in $PATH: unknown.\n"
    );
    let (_, err, code) = lab.all(&["run", "--rm", "busybox", "/etc/passwd"]);
    assert_eq!(code, 126, "{err}");
    assert!(
        err.contains("exec: \"/etc/passwd\": permission denied: unknown."),
        "{err}"
    );
    // -e, -w, -u and --entrypoint
    assert_eq!(
        lab.ok(&[
            "run",
            "--rm",
            "-e",
            "X=1",
            "-w",
            "/srv",
            "-u",
            "nobody",
            "--entrypoint",
            "sh",
            "busybox",
            "-c",
            "echo $X; pwd; id -u"
        ]),
        "1\n/srv\n65534\n"
    );
    // the exited container is listed with its code; --rm ones are gone
    let ps = lab.ok(&["ps", "-a", "--format", "{{.Image}} {{.Status}}"]);
    assert_eq!(ps.lines().count(), 1, "{ps}");
    assert!(ps.starts_with("busybox Exited (3) "), "{ps}");
    lab.assert_clean();
}

#[test]
fn detached_containers_survive_the_cli_ps_logs_exec_stop_rm() {
    let _g = root_only!();
    let lab = Lab::new();
    let id = lab.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        "8080:80",
        "busybox",
        "sh",
        "-c",
        "trap 'echo bye; exit 5' TERM; echo started; while :; do sleep 0.1; done",
    ]);
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 64, "{id}");
    // the log fills while the CLI is gone; the polls (10 s) are a safety net against a hang
    for _ in 0..1000 {
        if lab.ok(&["logs", "web"]).contains("started") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(lab.ok(&["logs", "web"]), "started\n");
    let logs = lab.ok(&["logs", "-t", "web"]);
    assert!(
        logs.ends_with("Z started\n")
            && logs.len() == "2026-11-26T20:09:39.557494047Z started\n".len(),
        "{logs}"
    );
    let ps = lab.ok(&["ps", "--format", "{{.ID}} {{.Names}} {{.Ports}}"]);
    assert!(ps.starts_with(&format!("{} web ", &id[..12])), "{ps}");
    assert!(ps.contains("0.0.0.0:8080->80/tcp"), "{ps}");
    assert_eq!(lab.ok(&["ps", "-q"]), format!("{}\n", &id[..12]));
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.State.Status}}", "web"]),
        "running\n"
    );

    // exec joins the container: its hostname, its PID namespace, its files
    assert_eq!(
        lab.ok(&[
            "exec",
            "-e",
            "Y=2",
            "-w",
            "/tmp",
            "web",
            "sh",
            "-c",
            "hostname; echo $Y; pwd; cat /proc/1/cmdline | tr '\\0' ' '; echo > /from-exec"
        ]),
        format!(
            "{}\n2\n/tmp\nsh -c trap 'echo bye; exit 5' TERM; echo started; while :; do sleep 0.1; done ",
            &id[..12]
        )
    );
    // in the container's cgroup too, as docker exec
    let cgroups = lab.ok(&["exec", "web", "cat", "/proc/self/cgroup"]);
    let pids = cgroups.lines().find(|l| l.contains(":pids:")).unwrap();
    assert!(pids.ends_with(&format!("/layerbox/{id}")), "{cgroups}");
    let mut piped = lab.command(&["exec", "-i", "web", "sh"]);
    piped.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = piped.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"echo piped; exit 4\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            String::from_utf8(out.stdout).unwrap().as_str(),
            out.status.code()
        ),
        ("piped\n", Some(4))
    );
    let (out, _, code) = lab.all(&["exec", "web", "nosuchcmd"]);
    assert_eq!(code, 127);
    assert_eq!(
        out,
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuchcmd\": executable file not found in $PATH: unknown\n"
    );

    // rm of a running container is refused with docker's words
    let (_, err, code) = lab.all(&["rm", "web"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "Error response from daemon: You cannot remove a running container {id}. Stop the container before attempting removal or force remove\n"
        )
    );
    // stop: SIGTERM, which the trap answers
    assert_eq!(lab.ok(&["stop", "-t", "10", "web"]), "web\n");
    assert_eq!(lab.ok(&["wait", "web"]), "5\n");
    assert_eq!(lab.ok(&["logs", "web"]), "started\nbye\n");
    assert_eq!(lab.ok(&["diff", "web"]), "A /from-exec\n");
    let ps = lab.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.starts_with("web Exited (5) "), "{ps}");
    // a stopped container starts again, detached
    assert_eq!(lab.ok(&["start", "web"]), "web\n");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.State.Running}}", "web"]),
        "true\n"
    );
    assert_eq!(lab.ok(&["rm", "-f", "web"]), "web\n");
    assert_eq!(lab.ok(&["ps", "-aq"]), "");
    lab.assert_clean();
}

#[test]
fn stop_kills_a_pid_1_that_ignores_sigterm_after_the_timeout() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "600"]);
    assert_eq!(lab.ok(&["stop", "-t", "1", "sleeper"]), "sleeper\n");
    assert_eq!(lab.ok(&["wait", "sleeper"]), "137\n");
    lab.ok(&["run", "-d", "--name", "killed", "busybox", "sleep", "600"]);
    assert_eq!(lab.ok(&["kill", "killed"]), "killed\n");
    assert_eq!(lab.ok(&["wait", "killed"]), "137\n");
    let (_, err, code) = lab.all(&["kill", "killed"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error response from daemon: Cannot kill container: killed: Container "),
        "{err}"
    );
    // --rm with -d: the shim removes the container when it ends
    lab.ok(&["run", "-d", "--rm", "--name", "gone", "busybox", "true"]);
    lab.ok(&["rm", "-f", "sleeper", "killed"]);
    for _ in 0..1000 {
        if lab.ok(&["ps", "-aq"]).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(lab.ok(&["ps", "-aq"]), "");
    lab.assert_clean();
}

#[test]
fn commit_runs_the_committed_image_and_diff_shows_the_changes() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&[
        "run",
        "--name",
        "c1",
        "busybox",
        "sh",
        "-c",
        "echo x > /x; rm /etc/motd; rm -r /opt/cache; mkdir /opt/cache",
    ]);
    assert_eq!(
        lab.ok(&["diff", "c1"]),
        "C /etc\nD /etc/motd\nC /opt\nC /opt/cache\nA /x\n"
    );
    let id = lab.ok(&["commit", "c1", "snap"]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(
        lab.ok(&[
            "run",
            "--rm",
            "snap",
            "sh",
            "-c",
            "cat /x; test -e /etc/motd || echo no motd; ls -A /opt/cache | wc -l"
        ]),
        "x\nno motd\n0\n"
    );
    let history = lab.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "snap",
    ]);
    assert_eq!(
        history,
        "sh -c 'echo x > /x; rm /etc/motd; rm -r /opt/cache; mkdir /opt/cache'\n\n"
    );
    // the committed image is in use: rmi refuses, then rm and rmi
    let (_, err, code) = lab.all(&["rmi", "busybox"]);
    assert_eq!(code, 1, "{err}");
    lab.ok(&["rm", "c1"]);
    assert!(
        lab.ok(&["rmi", "snap"])
            .starts_with("Untagged: snap:latest\nDeleted: sha256:")
    );
    lab.assert_clean();
}

#[test]
fn errors_have_dockers_words_and_codes() {
    let _g = root_only!();
    let lab = Lab::new();
    // `--pull never`: nothing may leave this machine (the pull of a missing image, and the
    // registry's refusal, are in `registry::run_and_create_pull_a_missing_image_as_docker_does`)
    let (_, err, code) = lab.all(&["run", "--pull", "never", "nosuchimage"]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        "layerbox: Error response from daemon: No such image: nosuchimage:latest.\nSee 'layerbox run --help'.\n"
    );
    for (args, want) in [
        (
            vec!["logs", "ghost"],
            "Error response from daemon: No such container: ghost\n",
        ),
        (vec!["rm", "ghost"], "Error: No such container: ghost\n"),
        (vec!["rmi", "ghost"], "Error: No such image: ghost\n"),
        (
            vec!["stop", "ghost"],
            "Error response from daemon: No such container: ghost\n",
        ),
        (
            vec!["exec", "ghost", "true"],
            "Error response from daemon: No such container: ghost\n",
        ),
    ] {
        let (out, err, code) = lab.all(&args);
        assert_eq!(
            (out.as_str(), err.as_str(), code),
            ("", want, 1),
            "{args:?}"
        );
    }
    let id = lab.ok(&["create", "--name", "taken", "busybox", "true"]);
    let (_, err, code) = lab.all(&["run", "--name", "taken", "busybox", "true"]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        format!(
            "layerbox: Error response from daemon: Conflict. The container name \"/taken\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.\nSee 'layerbox run --help'.\n",
            id.trim()
        )
    );
    // a created container starts attached with -a
    assert_eq!(
        lab.all(&["start", "-a", "taken"]),
        (String::new(), String::new(), 0)
    );
    let (_, err, code) = lab.all(&["exec", "taken", "true"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "Error response from daemon: Container {} is not running\n",
            id.trim()
        )
    );
    lab.ok(&["rm", "taken"]);
    // version and info name this engine, not the simulated one
    assert!(
        lab.ok(&["version"])
            .contains("\nServer: layerbox Linux engine\n")
    );
    let info = lab.ok(&[
        "info",
        "--format",
        "{{.Driver}} {{.Containers}} {{.DockerRootDir}}",
    ]);
    assert_eq!(info, format!("overlay 0 {}\n", lab.root().display()));
    lab.assert_clean();
}

#[test]
fn a_shim_killed_leaves_a_container_that_system_check_repairs() {
    let _g = root_only!();
    let lab = Lab::new();
    let id = lab.ok(&["run", "-d", "busybox", "sleep", "600"]);
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            lab.root()
                .join("containers")
                .join(format!("{}.json", id.trim())),
        )
        .unwrap(),
    )
    .unwrap();
    let shim = i32::try_from(record["shim"]["pid"].as_i64().unwrap()).unwrap();
    let init = i32::try_from(record["init"]["pid"].as_i64().unwrap()).unwrap();
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(init).unwrap(),
        rustix::process::PidfdFlags::empty(),
    )
    .unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(shim).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    // PID 1 dies with its shim
    assert!(exits(&pidfd), "PID 1 outlived its shim");
    // listed as exited meanwhile; check reports it, repair records it
    let ps = lab.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(ps.starts_with("Exited (137)"), "{ps}");
    let (out, _, code) = lab.all(&["system", "check"]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!(
            "running container whose shim died: {}\n",
            lab.root()
                .join("containers")
                .join(format!("{}.json", id.trim()))
                .display()
        )
    );
    let (out, _, code) = lab.all(&["system", "check", "--repair"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("(repaired)\n"), "{out}");
    assert_eq!(lab.ok(&["wait", id.trim()]), "137\n");
    lab.ok(&["rm", id.trim()]);
    lab.assert_clean();
}

/// An image's config without its times, and its layers.
fn image_parts(
    image: &layerbox_core::engine::Image,
    layers: &std::collections::BTreeMap<
        layerbox_core::image::Digest,
        std::sync::Arc<layerbox_core::fs::Layer>,
    >,
) -> (
    layerbox_core::image::ImageConfig,
    Vec<std::sync::Arc<layerbox_core::fs::Layer>>,
) {
    let mut config = image.config.clone();
    // the layers' digests differ with the build's time (directories get it as their mtime)
    config.rootfs.diff_ids.clear();
    config.created = None;
    for h in &mut config.history {
        h.created = None;
    }
    let layers = image
        .config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| std::sync::Arc::clone(&layers[d]))
        .collect();
    (config, layers)
}

#[test]
fn differential_a_build_without_run_is_the_same_on_both_engines() {
    use layerbox_core::fs::{LayerStack, changes};
    let _g = root_only!();
    let lab = Lab::new();
    let store = layerbox::store::Store::open(lab.root()).unwrap();
    // the simulated engine gets the very same busybox image
    let busybox = store.engine_images().unwrap().remove(0);
    let mut state = layerbox_core::engine::EngineState::default();
    store
        .load_layers(&busybox.config.rootfs.diff_ids, &mut state.layers)
        .unwrap();
    state.images.push(busybox);
    let sim_root = lab.path().join("sim");
    layerbox::sim::save(&sim_root, &mut state).unwrap();
    let ctx = lab.context(&[
        (
            "Dockerfile",
            "FROM busybox\nLABEL purpose=differential\nENV APP=/srv/app PORT=8080\nWORKDIR $APP\nCOPY hello.txt notes.txt ./\nCOPY hello.txt /etc/motd\nEXPOSE $PORT\nUSER nobody\nENTRYPOINT [\"sh\", \"-c\"]\nCMD [\"cat hello.txt\"]\n",
        ),
        ("hello.txt", "hello\n"),
        ("notes.txt", "a\nb\n"),
    ]);
    let ctx = ctx.to_str().unwrap();
    lab.ok(&["build", "-t", "diff", ctx]);
    let sim = Command::new(env!("CARGO_BIN_EXE_layerbox"))
        .args(["--engine", "sim", "--root"])
        .arg(&sim_root)
        .args(["build", "-t", "diff", ctx])
        .output()
        .unwrap();
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );

    let sim_state = layerbox::sim::load(&sim_root, true).unwrap();
    let tag: layerbox_core::image::Reference = "diff:latest".parse().unwrap();
    let sim_image = sim_state
        .images
        .iter()
        .find(|i| i.repo_tags.contains(&tag))
        .unwrap();
    let linux_image = store
        .engine_images()
        .unwrap()
        .into_iter()
        .find(|i| i.repo_tags.contains(&tag))
        .unwrap();
    let mut linux_layers = std::collections::BTreeMap::new();
    store
        .load_layers(&linux_image.config.rootfs.diff_ids, &mut linux_layers)
        .unwrap();
    let (sim_config, sim_layers) = image_parts(sim_image, &sim_state.layers);
    let (linux_config, linux_layers) = image_parts(&linux_image, &linux_layers);
    assert_eq!(linux_config, sim_config);
    assert_eq!(linux_layers.len(), 4, "{:?}", linux_config.history);
    assert_eq!(linux_image.size, sim_image.size);
    for k in 1..linux_layers.len() {
        // each layer against its own engine's layers below
        let shown = |layers: &[std::sync::Arc<layerbox_core::fs::Layer>]| -> Vec<String> {
            let below = LayerStack::from_layers(layers[..k].iter().cloned()).unwrap();
            changes(&layers[k], &below)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(shown(&linux_layers), shown(&sim_layers), "layer {k}");
        assert_eq!(
            super::linux_root::timeless(&linux_layers[k]),
            super::linux_root::timeless(&sim_layers[k]),
            "layer {k}"
        );
    }
    lab.assert_clean();
}

/// Runs the binary as `nobody` (65534) with its store under `home` (`$XDG_DATA_HOME`).
fn as_nobody(home: &Path, args: &[&str]) -> (String, String, i32) {
    as_user(65534, 65534, home, args)
}

/// Runs the binary as user `uid` and group `gid` with its store under `home`.
fn as_user(uid: u32, gid: u32, home: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .args(["--clear-groups", "env"])
        .arg(format!("HOME={}", home.display()))
        .arg(format!("XDG_DATA_HOME={}", home.join("data").display()))
        .arg("LAYERBOX_ROOT=")
        .args([env!("CARGO_BIN_EXE_layerbox"), "--engine", "linux"])
        .args(args)
        .current_dir(home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn rootless_an_ordinary_user_builds_and_runs_in_a_user_namespace() {
    use std::os::unix::fs::MetadataExt;
    let _g = root_only!();
    let lab = Lab::new();
    let home = lab.nobody_home(&[
        (
            "ctx/Dockerfile",
            "FROM busybox\nRUN echo hi > /a && rm /etc/motd\nCOPY h.txt /h.txt\nCMD [\"sh\", \"-c\", \"cat /a /h.txt; ls -ln /a | awk '{print $3, $4}'; test -e /etc/motd || echo no motd\"]\n",
        ),
        ("ctx/h.txt", "hello\n"),
    ]);
    let ok = |args: &[&str]| {
        let (out, err, code) = as_nobody(&home, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    ok(&["import", "busybox.tar", "busybox"]);
    ok(&["build", "-t", "tiny", "ctx"]);
    // the user's uid is root inside; the files it writes are the user's on the host
    assert_eq!(ok(&["run", "--rm", "tiny"]), "hi\nhello\n0 0\nno motd\n");
    assert_eq!(
        ok(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map | tr -s ' '"
        ]),
        "0\n 0 65534 1\n"
    );
    ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "echo x > /x; exec sleep 600",
    ]);
    assert_eq!(ok(&["exec", "web", "cat", "/x"]), "x\n");
    assert_eq!(ok(&["stop", "-t", "1", "web"]), "web\n");
    assert_eq!(ok(&["diff", "web"]), "A /x\n");
    let store = home.join("data/layerbox");
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            store
                .join("containers")
                .join(format!("{}.json", ok(&["ps", "-aq", "--no-trunc"]).trim())),
        )
        .unwrap(),
    )
    .unwrap();
    let upper = store
        .join("containers")
        .join(record["id"].as_str().unwrap())
        .join("upper/x");
    assert_eq!(std::fs::metadata(upper).unwrap().uid(), 65534);
    assert_eq!(ok(&["rm", "web"]), "web\n");
    assert_eq!(
        ok(&["system", "check"]),
        format!("store {}: clean\n", store.display())
    );
    assert_no_mounts_below(lab.path());
}

#[test]
fn eight_concurrent_invocations_leave_a_consistent_store() {
    let _g = root_only!();
    let lab = Lab::new();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let name = format!("c{i}");
            let text = format!("echo {i}");
            let args: Vec<&str> = if i % 2 == 0 {
                vec!["run", "--rm", "busybox", "sh", "-c", &text]
            } else {
                vec!["run", "-d", "--name", &name, "busybox", "sh", "-c", &text]
            };
            lab.command(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i % 2 == 0 {
            assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{i}\n"));
        }
    }
    for i in (1..8).step_by(2) {
        let name = format!("c{i}");
        assert_eq!(lab.ok(&["wait", &name]), "0\n");
        assert_eq!(lab.ok(&["logs", &name]), format!("{i}\n"));
    }
    let mut names: Vec<String> = lab
        .ok(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    assert_eq!(names, ["c1", "c3", "c5", "c7"]);
    lab.ok(&["rm", "c1", "c3", "c5", "c7"]);
    lab.assert_clean();
}

#[test]
fn an_attached_run_passes_signals_on_to_the_container() {
    use std::io::BufRead;
    let _g = root_only!();
    let lab = Lab::new();
    let mut child = lab
        .command(&[
            "run",
            "--name",
            "sig",
            "busybox",
            "sh",
            "-c",
            "trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 0.1; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    // SIGTERM to the CLI reaches the container's shell, whose trap decides the exit code
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "term");
    assert_eq!(child.wait().unwrap().code(), Some(7));
    assert_eq!(lab.ok(&["logs", "sig"]), "ready\nterm\n");
    lab.ok(&["rm", "sig"]);
    lab.assert_clean();
}

#[test]
fn logs_follow_until_the_end_and_restart_starts_a_new_process() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "counter",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo $i; sleep 0.2; done; echo done >&2",
    ]);
    // -f returns once the container has ended, with every line
    let out = lab.layerbox(&["logs", "-f", "counter"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "1\n2\n3\n");
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "done\n");
    assert_eq!(lab.ok(&["logs", "--tail", "2", "counter"]), "3\n");
    lab.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "600"]);
    let pid = lab.ok(&["inspect", "-f", "{{.State.Pid}}", "sleeper"]);
    assert_eq!(lab.ok(&["restart", "-t", "0", "sleeper"]), "sleeper\n");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.State.Running}}", "sleeper"]),
        "true\n"
    );
    assert_ne!(lab.ok(&["inspect", "-f", "{{.State.Pid}}", "sleeper"]), pid);
    lab.ok(&["rm", "-f", "sleeper", "counter"]);
    lab.assert_clean();
}

#[test]
fn kill_9_of_an_attached_cli_is_repaired_by_system_check() {
    let _g = root_only!();
    let lab = Lab::new();
    for rm in [false, true] {
        let mut args = vec!["run", "--name", "fg", "busybox", "sleep", "600"];
        if rm {
            args.insert(1, "--rm");
        }
        let mut child = lab
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // until the record says running (1000 polls, 10 s: a safety net, not a measurement)
        for _ in 0..1000 {
            if !lab.ok(&["ps", "-q"]).is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // the container died with the CLI, its monitor's parent; the record still says running
        let (out, _, code) = lab.all(&["system", "check", "--repair"]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.starts_with("running container whose shim died: ") && out.ends_with("(repaired)\n"),
            "{out}"
        );
        if rm {
            assert_eq!(lab.ok(&["ps", "-aq"]), "");
        } else {
            let ps = lab.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
            assert!(ps.starts_with("fg Exited (137) "), "{ps}");
            lab.ok(&["rm", "fg"]);
        }
        lab.assert_clean();
    }
}
