//! Volumes and bind mounts on docker and on the Linux engine: the same session of `-v`, `volume`
//! and `rm -v` commands on both, each answer (exit code, stdout, stderr) compared. IDs are
//! masked as in [`super::errors`], and each engine's volume directory (`…/volumes/`, under its
//! own data root) is shown as `<volumes>/`; the host directory bound is the same on both.
//! docker lists a container's `Mounts` and `HostConfig.Binds` in no fixed order (Go maps), and
//! its `diff` here too (overlay2's naive differ walks a map): those lines are sorted. A bind's `Name` and `Driver` are left out of the comparison: docker's
//! template sees its typed struct's empty fields where layerbox's JSON has no key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::errors::normalise;
use super::{BASE, assert_no_differences, busybox_rootfs, docker, docker_base, note_difference};

/// The Linux engine through the binary, over a store in a temporary directory.
struct Linux {
    dir: tempfile::TempDir,
}

impl Linux {
    fn new() -> Self {
        let linux = Self {
            dir: tempfile::Builder::new()
                .prefix("layerbox-oracle-")
                .tempdir()
                .expect("temp dir"),
        };
        let file = linux.dir.path().join("rootfs.tar");
        std::fs::write(&file, busybox_rootfs()).expect("write rootfs");
        let out = linux.cli(&["import", file.to_str().expect("utf-8 path"), BASE]);
        assert!(out.status.success(), "{out:?}");
        linux
    }

    fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_layerbox"))
            .args(["--engine", "linux", "--root"])
            .arg(self.dir.path().join("store"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run layerbox")
    }
}

/// The host directory both engines bind.
const HOST: &str = "{host}";

/// The session; `{host}` stands for the bound host directory. `true` marks the steps whose
/// stdout lines come in no fixed order.
const STEPS: &[(&[&str], bool)] = &[
    (&["volume", "create", "--label", "a=b", "oracle-vol"], false),
    (&["volume", "create", "x"], false),
    (
        &[
            "volume",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{json .Labels}} {{.Mountpoint}} {{.Scope}} {{json .Options}}",
            "oracle-vol",
        ],
        false,
    ),
    (&["volume", "inspect", "nosuch"], false),
    (
        &[
            "run",
            "--name",
            "oracle-v",
            "-v",
            "oracle-vol:/data",
            "-v",
            "/data2",
            "-v",
            "{host}:/h:ro",
            BASE,
            "sh",
            "-c",
            "echo hi > /data/f; cat /h/f; echo x > /h/y",
        ],
        false,
    ),
    (&["diff", "oracle-v"], true),
    (
        &[
            "inspect",
            "-f",
            "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}}\n{{end}}",
            "oracle-v",
        ],
        true,
    ),
    (
        &["inspect", "-f", "{{json .Config.Volumes}}", "oracle-v"],
        false,
    ),
    (
        &[
            "inspect",
            "-f",
            "{{range .HostConfig.Binds}}{{.}}\n{{end}}",
            "oracle-v",
        ],
        true,
    ),
    (
        &[
            "inspect",
            "-f",
            "{{range .Mounts}}{{if .Name}}{{.Name}} {{.Driver}}\n{{end}}{{end}}",
            "oracle-v",
        ],
        true,
    ),
    (&["volume", "ls"], false),
    (&["volume", "ls", "-q", "--filter", "dangling=true"], false),
    (&["volume", "rm", "oracle-vol"], false),
    (&["volume", "rm", "nosuch"], false),
    (&["rm", "-v", "oracle-v"], false),
    (&["volume", "ls", "-q"], false),
    (&["run", "--rm", "-v", "/scratch", BASE, "true"], false),
    (&["volume", "ls", "-q"], false),
    (&["volume", "prune", "-f"], false),
    (&["volume", "ls", "-q"], false),
    (&["run", "--rm", "-v", "/x:rel", BASE, "true"], false),
    (&["run", "--rm", "-v", "a:b:c:d", BASE, "true"], false),
    (&["run", "--rm", "-v", "bad name:/x", BASE, "true"], false),
    (&["run", "--rm", "-v", "vv:/x:bogus", BASE, "true"], false),
    (&["run", "--rm", "-v", "vv:/", BASE, "true"], false),
];

/// An answer with the engine's volume directory as `<volumes>`, IDs masked, and the stdout
/// lines sorted when they come in no fixed order.
fn answer(out: &Output, volumes: &Path, sort: bool) -> String {
    let text = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes)
            .replace(&volumes.to_string_lossy().into_owned(), "<volumes>");
        normalise(&text)
    };
    let mut stdout = text(&out.stdout);
    if sort {
        let mut lines: Vec<&str> = stdout.lines().collect();
        lines.sort_unstable();
        stdout = lines.join("\n");
    }
    format!(
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        text(&out.stderr)
    )
}

/// Where an engine keeps volumes, from the mount point of the first volume of the session.
fn volume_root(mountpoint: &[u8]) -> PathBuf {
    let path = PathBuf::from(String::from_utf8_lossy(mountpoint).trim());
    path.ancestors()
        .nth(2)
        .expect("…/volumes/NAME/_data")
        .to_owned()
}

#[test]
fn volumes_binds_and_their_mistakes_answer_as_on_docker() {
    let Some(docker) = docker() else { return };
    let _one_at_a_time = super::VOLUMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !rustix::process::geteuid().is_root() {
        return;
    }
    docker_base(docker);
    let linux = Linux::new();
    let host = tempfile::Builder::new()
        .prefix("layerbox-oracle-bind-")
        .tempdir()
        .expect("temp dir");
    std::fs::write(host.path().join("f"), "from the host\n").expect("write");
    let host_path = host.path().to_str().expect("utf-8 path");
    let mut roots: Option<(PathBuf, PathBuf)> = None;
    let mut diffs = Vec::new();
    for (step, sort) in STEPS {
        let args: Vec<String> = step.iter().map(|a| a.replace(HOST, host_path)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (d, l) = (docker.cli(&args), linux.cli(&args));
        let (dv, lv) = roots.get_or_insert_with(|| {
            let inspect = ["volume", "inspect", "-f", "{{.Mountpoint}}", "oracle-vol"];
            (
                volume_root(&docker.cli(&inspect).stdout),
                volume_root(&linux.cli(&inspect).stdout),
            )
        });
        note_difference(
            &mut diffs,
            &args,
            &answer(&d, dv, *sort),
            &answer(&l, lv, *sort),
        );
    }
    docker.cli(&["rm", "-f", "-v", "oracle-v"]);
    docker.cli(&["volume", "rm", "-f", "oracle-vol"]);
    assert_no_differences(&diffs, STEPS.len());
}
