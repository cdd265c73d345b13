//! The engine: docker's commands on the simulated engine, against the captured docker samples
//! (IDs and digests filtered, times set to match), and a random-sequence model test.

mod model;
mod samples;
mod tty;
mod volumes;

use std::collections::BTreeMap;
use std::sync::Arc;

use layerbox_core::build::BaseImage;
use layerbox_core::cli::units::Timestamp;
use layerbox_core::engine::{Engine, EngineState, FixedClock, Output, SeededIds};
use layerbox_core::fs::{Entry, FileData, Layer, Meta};
use layerbox_core::image::{Digest, History, ImageConfig, Reference};

/// The start of every test's clock: 2026-11-26 10:00:00 UTC.
pub const T0: i64 = 1_764_151_200;

/// A busybox-like base image: `/bin/busybox` (1.99MB of simulated content) and the applets
/// the simulation runs, as `docker import` of the busybox rootfs makes it.
pub fn busybox() -> BaseImage {
    static IMAGE: std::sync::OnceLock<BaseImage> = std::sync::OnceLock::new();
    IMAGE.get_or_init(make_busybox).clone()
}

fn make_busybox() -> BaseImage {
    let mut layer = Layer::new();
    let dir = |mode| Entry::dir(Meta::new(mode, T0 - 1500));
    layer.insert("bin", dir(0o755));
    layer.insert("etc", dir(0o755));
    layer.insert("tmp", dir(0o1777));
    let mut busybox = Entry::file(Meta::new(0o755, T0 - 1500), Vec::new());
    busybox.kind = layerbox_core::fs::EntryKind::File(FileData::Simulated {
        size: 1_985_626,
        digest: Digest::sha256_of(b"busybox"),
    });
    layer.insert("bin/busybox", busybox);
    for applet in ["sh", "echo", "cat", "true", "false", "sleep", "ls", "env"] {
        layer.insert(
            format!("bin/{applet}"),
            Entry::symlink(Meta::new(0o777, T0 - 1500), "busybox"),
        );
    }
    layer.insert(
        "etc/motd",
        Entry::file(Meta::new(0o644, T0 - 1500), b"hello\n".to_vec()),
    );
    let (diff_id, _) =
        layerbox_core::fs::tar::diff_id(&layer, &layerbox_core::fs::tar::TarOptions::default());
    let mut config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        created: Some("2026-11-26T09:35:00Z".into()),
        ..ImageConfig::default()
    };
    config.config.cmd = Some(vec!["sh".into()]);
    config.config.env = Some(vec![
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
    ]);
    config.rootfs.diff_ids.push(diff_id);
    config.history.push(History {
        created: config.created.clone(),
        comment: Some("busybox rootfs (anchors)".into()),
        ..History::default()
    });
    BaseImage::new(config, [Arc::new(layer)]).unwrap()
}

/// An engine whose "registry" holds `anchors/busybox`, at `T0` with seeded IDs.
pub fn engine() -> Engine {
    let mut base = BTreeMap::new();
    base.insert(
        Reference::parse_normalized("anchors/busybox:latest").unwrap(),
        busybox(),
    );
    Engine::new(EngineState::default())
        .with_clock(FixedClock(Timestamp::from_unix_secs(T0)))
        .with_ids(SeededIds::new(42))
        .with_base_images(base)
}

/// Runs a command line given as one shell-like string; returns the output and exit code.
pub fn run(engine: &mut Engine, line: &str) -> (Output, u8) {
    let argv = layerbox_core::cli::split::split_line(line).unwrap();
    let mut out = Output::default();
    let code = engine.execute(&argv, &mut out);
    (out, code)
}

/// Sets the engine's clock `secs` seconds after `T0`.
pub fn at(engine: &mut Engine, secs: i64) {
    engine.set_clock(FixedClock(Timestamp::from_unix_secs(T0 + secs)));
}

/// Replaces 64- and 12-hex IDs with `<id>` so outputs compare without them.
pub fn filter_ids(text: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let hex = word
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if hex && (word.len() == 64 || word.len() == 12) && word.bytes().any(|b| b.is_ascii_digit())
        {
            out.push_str(if word.len() == 64 { "<ID64>" } else { "<ID12>" });
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// What the docker oracle (crates/cli/tests/docker_oracle, real docker 20.10) found in error
/// answers, kept fixed: `create` prints the daemon's error plainly with exit 1 (only `run`
/// adds `docker:` and the help hint, exit 125); `--pull=never` names the missing image with its
/// tag; `history` and `tag` too; `logs` reports a missing container as the CLI does; `rename`
/// adds the CLI's own line.
#[test]
fn docker_oracle_error_findings_stay_fixed() {
    let mut e = engine();
    run(&mut e, "docker pull anchors/busybox");
    let (out, code) = run(&mut e, "docker create --name aa anchors/busybox true");
    assert_eq!(code, 0, "{}", out.stderr());
    let (out, code) = run(&mut e, "docker create --name aa anchors/busybox true");
    assert_eq!(code, 1);
    assert!(
        out.stderr()
            .starts_with("Error response from daemon: Conflict. The container name \"/aa\""),
        "{}",
        out.stderr()
    );
    let (out, code) = run(&mut e, "docker run --name aa anchors/busybox true");
    assert_eq!(code, 125);
    assert!(
        out.stderr()
            .starts_with("docker: Error response from daemon: Conflict.")
    );
    for (line, want, want_code) in [
        (
            "docker create --pull=never nosuch",
            "Error response from daemon: No such image: nosuch:latest\n",
            1,
        ),
        (
            "docker run --pull=never nosuch",
            "docker: Error response from daemon: No such image: nosuch:latest.\nSee 'docker run --help'.\n",
            125,
        ),
        (
            "docker history nosuch",
            "Error response from daemon: No such image: nosuch:latest\n",
            1,
        ),
        (
            "docker tag sha256:1234 x",
            "Error response from daemon: No such image: sha256:1234\n",
            1,
        ),
        (
            "docker logs nosuch",
            "Error: No such container: nosuch\n",
            1,
        ),
        (
            "docker rename nosuch b",
            "Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n",
            1,
        ),
    ] {
        let (out, code) = run(&mut e, line);
        assert_eq!((out.stderr().as_str(), code), (want, want_code), "{line}");
    }
}

/// Found by the docker oracle: `run -d` attaches nothing, so inspect's `AttachStdout` and
/// `AttachStderr` are false there and true for `create` and attached runs; and the JSON keeps
/// docker's field order.
#[test]
fn inspect_attach_flags_and_field_order() {
    let mut e = engine();
    run(&mut e, "docker run -d --name up anchors/busybox sleep 100");
    run(&mut e, "docker create --name made anchors/busybox true");
    let config = |e: &mut Engine, name: &str| {
        let (out, code) = run(e, &format!("docker inspect {name}"));
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
        v[0]["Config"].clone()
    };
    assert_eq!(config(&mut e, "up")["AttachStdout"], false);
    assert_eq!(config(&mut e, "made")["AttachStdout"], true);
    let (out, _) = run(&mut e, "docker inspect up");
    let text = out.stdout();
    let order = [
        "Id",
        "Created",
        "Path",
        "State",
        "HostConfig",
        "GraphDriver",
        "Mounts",
        "Config",
        "NetworkSettings",
    ];
    // Top-level keys only: indented by eight spaces.
    let top = |k: &&str| text.find(&format!("\n        \"{k}\"")).unwrap();
    let at: Vec<usize> = order.iter().map(top).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    let (out, _) = run(&mut e, "docker image inspect anchors/busybox");
    let text = out.stdout();
    let at: Vec<usize> = [
        "\"Id\"",
        "\"RepoTags\"",
        "\"ContainerConfig\"",
        "\"Config\"",
        "\"RootFS\"",
        "\"Metadata\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn resource_limits_show_in_inspect_with_the_daemons_defaults_and_checks() {
    let mut e = engine();
    e.set_cpus(2);
    let (_, code) = run(
        &mut e,
        "docker create --name lim -m 64m --cpus 1.5 -c 512 --pids-limit 32 anchors/busybox true",
    );
    assert_eq!(code, 0);
    let (out, _) = run(&mut e, "docker inspect lim");
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let host = &v[0]["HostConfig"];
    assert_eq!(host["Memory"], 64 << 20);
    // the daemon's default: swap as much as memory again
    assert_eq!(host["MemorySwap"], 128 << 20);
    assert_eq!(host["NanoCpus"], 1_500_000_000_i64);
    assert_eq!(host["CpuShares"], 512);
    assert_eq!(host["PidsLimit"], 32);
    assert_eq!(v[0]["State"]["OOMKilled"], false);
    run(
        &mut e,
        "docker create --name plain --pids-limit -1 anchors/busybox true",
    );
    let (out, _) = run(&mut e, "docker inspect plain");
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(v[0]["HostConfig"]["Memory"], 0);
    assert_eq!(v[0]["HostConfig"]["PidsLimit"], serde_json::Value::Null);
    for (flags, message) in [
        ("-m 4m", "Minimum memory limit allowed is 6MB"),
        (
            "-m 64m --memory-swap 32m",
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ),
        (
            "--memory-swap 64m",
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ),
        (
            "--cpus 3",
            "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
        ),
    ] {
        let (out, code) = run(&mut e, &format!("docker run {flags} anchors/busybox true"));
        assert_eq!(code, 125, "{flags}");
        assert_eq!(
            out.stderr(),
            format!("docker: Error response from daemon: {message}.\nSee 'docker run --help'.\n"),
            "{flags}"
        );
    }
}

/// `--expose` adds to the image's exposed ports (inspect's `ExposedPorts`, ps's `PORTS`), and
/// `-P` publishes them too; bad values get docker's CLI errors before anything is created.
#[test]
fn expose_adds_ports_that_publish_all_publishes() {
    let mut e = engine();
    let (out, code) = run(
        &mut e,
        "docker run -d --name only --expose 8080 --expose 9000-9001/udp anchors/busybox sleep 100",
    );
    assert_eq!(code, 0, "{}", out.text());
    let (out, _) = run(&mut e, "docker inspect only");
    let v: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let exposed = v[0]["Config"]["ExposedPorts"].as_object().unwrap();
    let keys: Vec<&str> = exposed.keys().map(String::as_str).collect();
    assert_eq!(keys, ["8080/tcp", "9000/udp", "9001/udp"]);
    let (out, _) = run(&mut e, "docker ps --format {{.Ports}} --filter name=only");
    assert_eq!(out.stdout(), "8080/tcp, 9000-9001/udp\n");

    let (out, code) = run(
        &mut e,
        "docker run -d --name all -P --expose 8080 anchors/busybox sleep 100",
    );
    assert_eq!(code, 0, "{}", out.text());
    let (out, _) = run(&mut e, "docker port all");
    assert!(
        out.stdout().starts_with("8080/tcp -> 0.0.0.0:"),
        "{}",
        out.text()
    );

    let (out, code) = run(&mut e, "docker run --expose 80:80 anchors/busybox true");
    assert_eq!(code, 125);
    assert!(
        out.text()
            .starts_with("docker: invalid port format for --expose: 80:80"),
        "{}",
        out.text()
    );
    let (out, _) = run(&mut e, "docker ps -aq");
    assert_eq!(out.stdout().lines().count(), 2, "nothing more was created");
}

/// The prunes' `--filter`s: `label`, `label!` and `until` choose what goes; an unknown name is
/// dockerd's error and nothing is removed.
#[test]
fn prune_filters_choose_what_goes() {
    let mut e = engine();
    at(&mut e, -7200);
    run(
        &mut e,
        "docker create --name old-web --label team=web anchors/busybox true",
    );
    at(&mut e, -60);
    run(
        &mut e,
        "docker create --name new-web --label team=web anchors/busybox true",
    );
    run(
        &mut e,
        "docker create --name db --label team=db anchors/busybox true",
    );
    run(
        &mut e,
        "docker create --name kept --label team=web --label keep=1 anchors/busybox true",
    );
    at(&mut e, 0);
    let names = |e: &mut Engine| {
        let (out, _) = run(e, "docker ps -a --format {{.Names}}");
        let mut v: Vec<String> = out.stdout().lines().map(str::to_owned).collect();
        v.sort();
        v.join(" ")
    };
    let (out, code) = run(&mut e, "docker container prune -f --filter name=web");
    assert_eq!(
        (code, out.stderr().as_str()),
        (1, "Error response from daemon: invalid filter 'name'\n")
    );
    assert_eq!(names(&mut e), "db kept new-web old-web");
    let (out, code) = run(&mut e, "docker container prune -f --filter until=soon");
    assert_eq!(code, 1);
    assert!(
        out.stderr()
            .contains("failed to parse value as time or duration: \"soon\"")
    );

    run(
        &mut e,
        "docker container prune -f --filter label=team=web --filter until=1h",
    );
    assert_eq!(
        names(&mut e),
        "db kept new-web",
        "only the web container older than an hour"
    );
    run(
        &mut e,
        "docker container prune -f --filter label=team=web --filter label!=keep",
    );
    assert_eq!(names(&mut e), "db kept");
    let (out, _) = run(&mut e, "docker system prune --filter label=team");
    assert!(
        out.stdout().contains(
            "  - all dangling build cache\n\n  Items to be pruned will be filtered with:\n  - label=team\n\nAre you sure"
        ),
        "{}",
        out.stdout()
    );
    assert_eq!(names(&mut e), "", "{}", out.text());
    let (out, code) = run(&mut e, "docker builder prune -f --filter until=1h");
    assert_eq!(code, 1, "{}", out.text());
}
