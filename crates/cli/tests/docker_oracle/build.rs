//! The differential build suite (issue 4): Dockerfiles without RUN, built `FROM` the imported
//! busybox by docker's BuildKit and by the simulated engine, then compared: the config fields a
//! Dockerfile sets, the history (order, `created_by`, `empty_layer`), and each layer's changes
//! (paths, types, modes, owners, sizes, content digests; `docker save` read with core's tar
//! reader).
//!
//! Known differences of docker 20.10's BuildKit (v0.8) from the BuildKit layerbox follows, and
//! what this suite does about them:
//! * `EXPOSE` history: v0.8 prints Go's map (`EXPOSE map[443/udp:{} 80/tcp:{}]`), current BuildKit
//!   the ports in order (`EXPOSE [80/tcp 443/udp]`): both are compared as the set of ports.
//! * `COPY`/`ADD` history: v0.8 leaves `--chown`/`--chmod` out; current BuildKit writes them
//!   (spec §13.4). They are removed from layerbox's text before comparing, and only there.
//! * `ARG` history: v0.8 shows the declaration as written (`ARG W`), current BuildKit the value
//!   in effect, a `--build-arg` included (`ARG W=from-cli`): the value is removed from both for
//!   the names given with `--build-arg`, and only for those.
//! * `HEALTHCHECK` history: v0.8 prints Go's `%v` of a pointer
//!   (`HEALTHCHECK &{["CMD" "true"] "30s" …}`), current BuildKit a struct with field names: the
//!   text is not compared; the config's `Healthcheck` is, field by field.
//! * `COPY --parents` and `--link` are unknown to v0.8 (`Unknown flag`); they are tested on the
//!   simulated engine alone (crates/core/tests/build: `copy_parents_…`, `copy_link_…`).
//! * Heredocs need the labs syntax (a `# syntax=` image that would be pulled): not used.
//! * docker's import has `created` times, IDs and layer mtimes of its own: never compared.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::{
    BASE, Docker, ImageDump, InProcess, Sim, diff_lines, docker, docker_base, docker_image,
    image_in, layer_lines, sim_base, sim_image, write_context,
};

/// One Dockerfile of the suite: built as `oracle/<name>`, with extra context files,
/// `--build-arg`s and a `--target`.
struct Case {
    name: &'static str,
    dockerfile: &'static str,
    files: &'static [(&'static str, &'static [u8])],
    build_args: &'static [&'static str],
    target: Option<&'static str>,
}

const fn case(name: &'static str, dockerfile: &'static str) -> Case {
    Case {
        name,
        dockerfile,
        files: &[],
        build_args: &[],
        target: None,
    }
}

/// The files every case's context has.
const COMMON: &[(&str, &[u8])] = &[
    ("a.txt", b"alpha\n"),
    ("b.txt", b"bravo\n"),
    ("notes.md", b"# notes\n"),
    ("run.sh", b"@755 #!/bin/sh\necho run\n"),
    ("dir/f2", b"two\n"),
    ("dir/sub/f1", b"one\n"),
    ("dir/sub/deeper/f0", b"zero\n"),
    ("empty/", b""),
];

/// Every case, in order: later ones build `FROM` images earlier ones made.
fn cases() -> Vec<Case> {
    vec![
        case(
            "copy-files",
            "FROM oracle/busybox:1\nCOPY a.txt /\nCOPY a.txt /renamed\nCOPY a.txt b.txt /multi/\nCOPY run.sh /usr/local/bin/\nCOPY a.txt /etc/\n",
        ),
        case(
            "wildcards",
            "FROM oracle/busybox:1\nCOPY *.txt /w/\nCOPY dir/*/f1 /deep/\nCOPY d?r /q/\nCOPY [ab].txt /set/\nCOPY nomatch* /none/\n",
        ),
        case(
            "directories",
            "FROM oracle/busybox:1\nCOPY dir /dst\nCOPY dir/ /dst2/\nCOPY dir/sub /etc/sub\nCOPY empty /e/\nCOPY . /all/\n",
        ),
        case(
            "chown",
            "FROM oracle/busybox:1\nCOPY --chown=app:app a.txt /o/\nCOPY --chown=1000 dir /o2\nCOPY --chown=65534:50 b.txt /o3\nCOPY --chown=app dir/sub /home/app/sub\n",
        ),
        case(
            "chmod",
            "FROM oracle/busybox:1\nCOPY --chmod=600 a.txt /m/\nCOPY --chmod=755 dir /m2\nCOPY --chmod=0640 --chown=app:staff b.txt /m3/b\n",
        ),
        Case {
            files: &[
                (".dockerignore", b"*.md\n**/deeper\ndir/f2\n!keep.md\n"),
                ("keep.md", b"kept\n"),
            ],
            ..case(
                "dockerignore",
                "FROM oracle/busybox:1\nCOPY . /ctx/\nCOPY *.md /md/\n",
            )
        },
        case(
            "add-tar",
            "FROM oracle/busybox:1\nADD data.tar /x/\nADD data.tgz /y\nADD a.txt /z/\nADD dir /zdir/\n",
        ),
        Case {
            build_args: &["W=from-cli", "UNUSED=1"],
            ..case(
                "env-arg",
                "FROM oracle/busybox:1\nARG V=1\nARG W\nENV A=$V B=${W:-def} C=\"x y\"\nENV A=2 PATH=/opt/bin:$PATH\nLABEL l1=$A \"l 2\"=\"v w\" other=${V}x\nARG V=3\nENV D=$V\nCOPY a.txt /env/$A/\n",
            )
        },
        case(
            "workdir-user",
            "FROM oracle/busybox:1\nWORKDIR /a\nWORKDIR b\nUSER app\nWORKDIR c\nCOPY a.txt rel.txt\nWORKDIR /\nUSER 1000:50\nWORKDIR /home/app/x\nCOPY b.txt .\n",
        ),
        case(
            "metadata",
            "FROM oracle/busybox:1\nEXPOSE 80 443/udp 8000-8002\nEXPOSE 80/tcp\nVOLUME /data /logs\nVOLUME [\"/x y\"]\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=30s --timeout=3s --start-period=1m --retries=2 CMD [\"true\"]\nSHELL [\"/bin/sh\", \"-ec\"]\nCMD echo hi\nLABEL maintainer=someone\n",
        ),
        case(
            "healthcheck-shell",
            "FROM oracle/busybox:1\nHEALTHCHECK CMD wget -q localhost || exit 1\nENTRYPOINT echo entry\n",
        ),
        case(
            "onbuild-parent",
            "FROM oracle/busybox:1\nONBUILD COPY a.txt /onbuild/\nONBUILD ENV FROM_ONBUILD=1\nCMD [\"parent\"]\nENTRYPOINT [\"/bin/sh\", \"-c\"]\nCMD [\"kept\"]\n",
        ),
        case(
            "onbuild-child",
            "FROM oracle/onbuild-parent\nCOPY b.txt /child/\n",
        ),
        case(
            "entrypoint-resets-cmd",
            "FROM oracle/onbuild-parent\nENTRYPOINT [\"/bin/echo\"]\n",
        ),
        case(
            "empty-entrypoint-and-cmd",
            "FROM oracle/onbuild-parent\nENTRYPOINT []\nCMD []\n",
        ),
        case(
            "multi-stage",
            "FROM oracle/busybox:1 AS one\nCOPY dir /d\nLABEL stage=one\nFROM scratch AS two\nCOPY --from=one /d /copied\nCOPY --from=0 /bin/busybox /bin/\nCOPY --from=oracle/busybox:1 /etc/passwd /etc/\nFROM oracle/busybox:1\nCOPY --from=two /copied /final\nCOPY --from=one /etc/passwd /from-one\n",
        ),
        Case {
            target: Some("two"),
            ..case(
                "target",
                "FROM oracle/busybox:1 AS one\nCOPY dir /d\nFROM scratch AS two\nCOPY --from=one /d /copied\nENV IN_TWO=1\nFROM two AS three\nCOPY a.txt /\n",
            )
        },
        case(
            "overwrite-and-symlinks",
            "FROM oracle/busybox:1\nCOPY a.txt /bin/\nCOPY b.txt /bin/cat\nCOPY dir /bin/sub\n",
        ),
    ]
}

/// Tar files the `add-tar` case extracts (made with the tar crate, the gzip one with core's).
fn tar_files() -> (Vec<u8>, Vec<u8>) {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, data) in [
        ("top.txt", 0o644, &b"top\n"[..]),
        ("inner/", 0o750, b""),
        ("inner/x.sh", 0o755, b"#!/bin/sh\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        if path.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
        }
        h.set_mode(mode);
        h.set_uid(1234);
        h.set_gid(5678);
        h.set_mtime(1_600_000_000);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).expect("tar");
    }
    let plain = b.into_inner().expect("tar");
    let gz = layerbox_core::fs::tar::gzip(&plain);
    (plain, gz)
}

/// Builds `case` with docker (BuildKit, in a thread) and the simulated engine at the same
/// time, each as `oracle/<name>`.
fn build_both(
    docker: &Docker,
    sim: &mut InProcess,
    case: &Case,
) -> Result<(ImageDump, ImageDump), String> {
    let dir = docker.scratch(&format!("ctx-{}", case.name));
    write_context(&dir, COMMON);
    write_context(&dir, case.files);
    let (plain, gz) = tar_files();
    std::fs::write(dir.join("data.tar"), plain).expect("data.tar");
    std::fs::write(dir.join("data.tgz"), gz).expect("data.tgz");
    std::fs::write(dir.join("Dockerfile"), case.dockerfile).expect("Dockerfile");
    let tag = format!("oracle/{}", case.name);
    let mut args = vec!["build".to_owned(), "-q".into(), "-t".into(), tag.clone()];
    for a in case.build_args {
        args.extend(["--build-arg".to_owned(), (*a).to_owned()]);
    }
    if let Some(t) = case.target {
        args.extend(["--target".to_owned(), t.to_owned()]);
    }
    args.push(dir.to_string_lossy().into_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (d, s) = std::thread::scope(|scope| {
        let d = scope.spawn(|| docker.cli(&args));
        let s = sim.cli(&args);
        (d.join().expect("docker build thread"), s)
    });
    if !d.status.success() || s.0 != 0 {
        return Err(format!(
            "{}: the builds do not both succeed\ndocker: exit {:?}\n{}{}\nlayerbox: exit {}\n{}{}",
            case.name,
            d.status.code(),
            String::from_utf8_lossy(&d.stdout),
            String::from_utf8_lossy(&d.stderr),
            s.0,
            s.1,
            s.2
        ));
    }
    Ok((docker_image(docker, &tag), image_in(sim.state(), &tag)))
}

/// The config fields a Dockerfile sets, `null` and absent alike.
const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "Healthcheck",
    "StopSignal",
    "Shell",
    "OnBuild",
    "ArgsEscaped",
];

fn config_field<'a>(config: &'a Value, field: &str) -> &'a Value {
    config["config"].get(field).unwrap_or(&Value::Null)
}

/// A `created_by` with BuildKit 0.8's and current BuildKit's spellings made comparable (see
/// the module's list); `layerbox` says whose text it is.
fn normalise_created_by(text: &str, layerbox: bool, build_args: &[&str]) -> String {
    if text.starts_with("HEALTHCHECK ") {
        return "HEALTHCHECK (compared in the config)".to_owned();
    }
    if let Some(rest) = text.strip_prefix("ARG ") {
        let words: Vec<String> = rest
            .split(' ')
            .map(|w| {
                let key = w.split_once('=').map_or(w, |(k, _)| k);
                let given = build_args
                    .iter()
                    .any(|a| a.split_once('=').map_or(*a, |(k, _)| k) == key);
                if given { key.to_owned() } else { w.to_owned() }
            })
            .collect();
        return format!("ARG {}", words.join(" "));
    }
    if let Some(rest) = text.strip_prefix("EXPOSE ") {
        let inner = rest
            .trim_start_matches("map")
            .trim_start_matches('[')
            .trim_end_matches(']');
        let mut ports: Vec<&str> = inner
            .split_whitespace()
            .map(|p| p.trim_end_matches(":{}"))
            .collect();
        ports.sort_unstable();
        return format!("EXPOSE (ports) {}", ports.join(" "));
    }
    if layerbox && (text.starts_with("COPY ") || text.starts_with("ADD ")) {
        return text
            .split(' ')
            .filter(|w| !w.starts_with("--chown=") && !w.starts_with("--chmod="))
            .collect::<Vec<_>>()
            .join(" ");
    }
    text.to_owned()
}

/// The history as `created_by | empty_layer | comment` lines.
fn history_lines(config: &Value, layerbox: bool, build_args: &[&str]) -> Vec<String> {
    config["history"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|h| {
            format!(
                "{} | empty_layer={} | {}",
                normalise_created_by(h["created_by"].as_str().unwrap_or(""), layerbox, build_args),
                h["empty_layer"].as_bool().unwrap_or(false),
                h["comment"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Every difference between the two images, as readable lines.
fn differences(name: &str, build_args: &[&str], d: &ImageDump, s: &ImageDump) -> Vec<String> {
    let mut out = Vec::new();
    for field in CONFIG_FIELDS {
        let (dv, sv) = (
            config_field(&d.config, field),
            config_field(&s.config, field),
        );
        if dv != sv {
            out.push(format!(
                "{name}: config {field}: docker {dv} | layerbox {sv}"
            ));
        }
    }
    for field in ["architecture", "os"] {
        if d.config[field] != s.config[field] {
            out.push(format!(
                "{name}: {field}: docker {} | layerbox {}",
                d.config[field], s.config[field]
            ));
        }
    }
    let (dh, sh) = (
        history_lines(&d.config, false, build_args),
        history_lines(&s.config, true, build_args),
    );
    if dh != sh {
        let mut text = format!("{name}: history differs\n  docker:\n");
        for l in &dh {
            let _ = writeln!(text, "    {l}");
        }
        text.push_str("  layerbox:\n");
        for l in &sh {
            let _ = writeln!(text, "    {l}");
        }
        out.push(text);
    }
    if d.layers.len() == s.layers.len() {
        for (i, (dl, sl)) in d.layers.iter().zip(&s.layers).enumerate() {
            for line in diff_lines(&layer_lines(dl), &layer_lines(sl)) {
                out.push(format!("{name}: layer {i}: {line}"));
            }
        }
    } else {
        out.push(format!(
            "{name}: docker has {} layers, layerbox {}",
            d.layers.len(),
            s.layers.len()
        ));
    }
    out
}

#[test]
fn the_imported_rootfs_is_the_same_image_in_both() {
    let Some(docker) = docker() else { return };
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let (d, s) = (docker_image(docker, BASE), sim_image(&sim, BASE));
    let diffs = differences("import", &[], &d, &s);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // docker's diff_id is the sha256 of the tarball as sent; so is layerbox's.
    assert_eq!(
        d.config["rootfs"]["diff_ids"], s.config["rootfs"]["diff_ids"],
        "diff_ids"
    );
    assert_eq!(s.config["history"][0]["comment"], "Imported from -");
    assert!(s.config["history"][0].get("created_by").is_none());
    let passwd = layer_lines(&s.layers[0]);
    assert!(passwd.contains_key("bin/busybox"), "{passwd:?}");
}

#[test]
fn dockerfiles_without_run_build_the_same_images() {
    let Some(docker) = docker() else { return };
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let mut sim = InProcess::from(&sim);
    let cases = cases();
    assert!(cases.len() >= 12);
    let mut all = Vec::new();
    let mut compared = BTreeMap::new();
    for case in &cases {
        match build_both(docker, &mut sim, case) {
            Ok((d, s)) => {
                let diffs = differences(case.name, case.build_args, &d, &s);
                compared.insert(case.name, diffs.len());
                all.extend(diffs);
            }
            Err(e) => all.push(e),
        }
    }
    assert!(
        all.is_empty(),
        "{} difference(s) between docker and layerbox:\n{}",
        all.len(),
        all.join("\n")
    );
    assert_eq!(compared.len(), cases.len());
}
