//! The other side of the archives: real docker (`docker load`/`docker save`, the oracle
//! harness's private daemon), skopeo (OCI layouts, both as archive and directory) and the
//! simulated engine.

use std::path::Path;

use super::super::docker_oracle::{Sim, docker, docker_base, sim_base};
use super::{DOCKERFILE, PRINTS, Store, linux_engine, run_ok};

const SKOPEO: &str = "/usr/bin/skopeo";

/// Whether skopeo is here; outside CI a skip is printed, under CI it is a failure.
fn skopeo() -> bool {
    if Path::new(SKOPEO).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        "images_io: skopeo is missing in CI (cargo xtask setup installs it)"
    );
    eprintln!("images_io: SKIPPING the skopeo tests: {SKOPEO} is missing (apt-get install skopeo)");
    false
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn layerbox_save_then_docker_load_and_run_prints_the_same() {
    if !linux_engine() {
        return;
    }
    let Some(d) = docker() else { return };
    let s = Store::with_app();
    s.ok(&["tag", "app:1", "images-io/from-layerbox:1"]);
    let id = s.image_id("app:1");
    for (format, name) in [
        ("docker-archive", "images-io/from-layerbox:1"),
        ("oci-archive", "images-io/from-layerbox-oci:1"),
    ] {
        s.ok(&["tag", "app:1", name]);
        let tar = s.file(&format!("{format}.tar"));
        s.ok(&["save", "--format", format, "-o", path(&tar), name]);
        assert_eq!(
            d.ok(&["load", "-i", path(&tar)]),
            format!("Loaded image: {name}\n"),
            "{format}"
        );
        assert_eq!(d.ok(&["inspect", "-f", "{{.Id}}", name]).trim(), id);
        assert_eq!(d.ok(&["run", "--rm", name]), PRINTS, "{format}");
    }
}

#[test]
fn docker_save_then_layerbox_load_and_run_prints_the_same() {
    if !linux_engine() {
        return;
    }
    let Some(d) = docker() else { return };
    docker_base(d);
    let ctx = d.scratch("images-io-ctx");
    std::fs::write(ctx.join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(ctx.join("hello.txt"), "hello from the context\n").unwrap();
    // the daemon has no bridge network: RUN without one (as the oracle's builds do)
    d.ok(&[
        "build",
        "-q",
        "--network=none",
        "-t",
        "images-io/from-docker:1",
        path(&ctx),
    ]);
    assert_eq!(d.ok(&["run", "--rm", "images-io/from-docker:1"]), PRINTS);
    let id = d
        .ok(&["inspect", "-f", "{{.Id}}", "images-io/from-docker:1"])
        .trim()
        .to_owned();
    let s = Store::empty();
    let tar = s.file("from-docker.tar");
    d.ok(&["save", "-o", path(&tar), "images-io/from-docker:1"]);
    assert_eq!(
        s.ok(&["load", "-i", path(&tar)]),
        "Loaded image: images-io/from-docker:1\n"
    );
    assert_eq!(s.image_id("images-io/from-docker:1"), id);
    assert_eq!(s.ok(&["run", "--rm", "images-io/from-docker:1"]), PRINTS);
    // and back out: what layerbox saves of docker's image, docker loads as the same image
    let again = s.file("again.tar");
    s.ok(&["save", "-o", path(&again), "images-io/from-docker:1"]);
    d.ok(&["rmi", "images-io/from-docker:1"]);
    assert_eq!(
        d.ok(&["load", "-i", path(&again)]),
        "Loaded image: images-io/from-docker:1\n"
    );
    assert_eq!(
        d.ok(&["inspect", "-f", "{{.Id}}", "images-io/from-docker:1"])
            .trim(),
        id
    );
    s.assert_clean();
}

#[test]
fn oci_layouts_go_through_skopeo_both_ways() {
    if !linux_engine() || !skopeo() {
        return;
    }
    let s = Store::with_app();
    let id = s.image_id("app:1");
    // layerbox's oci-archive, read by skopeo into a docker-archive and an OCI directory
    let oci = s.file("app-oci.tar");
    s.ok(&["save", "--format", "oci-archive", "-o", path(&oci), "app:1"]);
    let via = s.file("via-skopeo.tar");
    run_ok(
        SKOPEO,
        &[
            "copy",
            "--quiet",
            &format!("oci-archive:{}", path(&oci)),
            &format!("docker-archive:{}:skopeo/app:1", path(&via)),
        ],
    );
    let dir = s.file("oci-dir");
    run_ok(
        SKOPEO,
        &[
            "copy",
            "--quiet",
            &format!("oci-archive:{}", path(&oci)),
            &format!("oci:{}:skopeo/dir:1", path(&dir)),
        ],
    );
    let to = Store::empty();
    assert_eq!(
        to.ok(&["load", "-i", path(&via)]),
        "Loaded image: skopeo/app:1\n"
    );
    assert_eq!(to.ok(&["run", "--rm", "skopeo/app:1"]), PRINTS);
    // skopeo keeps the config's bytes: the same image ID
    assert_eq!(to.image_id("skopeo/app:1"), id);
    // skopeo's OCI directory, loaded where it is; its layers are gzipped
    assert_eq!(
        to.ok(&["load", "-i", path(&dir)]),
        "Loaded image: skopeo/dir:1\n"
    );
    assert_eq!(to.ok(&["run", "--rm", "skopeo/dir:1"]), PRINTS);
    to.assert_clean();
    // layerbox's oci-dir, read by skopeo
    let ours = s.file("ours-oci-dir");
    s.ok(&["save", "--format", "oci-dir", "-o", path(&ours), "app:1"]);
    let inspected = run_ok(
        SKOPEO,
        &["inspect", "--config", &format!("oci:{}", path(&ours))],
    );
    assert!(inspected.contains("\"/hello.txt\""), "{inspected}");
}

#[test]
fn the_simulated_engine_saves_real_images_and_says_why_not_for_modelled_ones() {
    if !linux_engine() {
        return;
    }
    // an image the simulation holds with real bytes: FROM scratch, a static busybox and a
    // file, both COPY layers it made itself
    let sim = Sim::new();
    let ctx = sim.root().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY hello.txt /hello.txt\nCMD [\"/bin/busybox\", \"cat\", \"/hello.txt\"]\n",
    )
    .unwrap();
    std::fs::copy("/bin/busybox", ctx.join("busybox")).unwrap();
    std::fs::write(ctx.join("hello.txt"), "hello from the simulation\n").unwrap();
    sim.ok(&["build", "-q", "-t", "app:1", path(&ctx)]);
    let tar = sim.root().join("sim.tar");
    sim.ok(&["save", "-o", path(&tar), "app:1"]);
    // the Linux engine loads and runs it for real
    let s = Store::empty();
    assert_eq!(s.ok(&["load", "-i", path(&tar)]), "Loaded image: app:1\n");
    assert_eq!(
        s.ok(&["run", "--rm", "app:1"]),
        "hello from the simulation\n"
    );
    assert_eq!(
        sim.ok(&["inspect", "-f", "{{.Id}}", "app:1"]).trim(),
        s.image_id("app:1")
    );
    // an imported layer: the simulation keeps its files, not the tarball it came as
    sim_base(&sim);
    let out = sim.cli(&[
        "save",
        "-o",
        path(&sim.root().join("base.tar")),
        "oracle/busybox:1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("an imported or loaded layer"), "{err}");
    // and the simulated engine loads what the Linux engine saves
    let back = s.file("linux.tar");
    s.ok(&["save", "-o", path(&back), "app:1"]);
    let sim2 = Sim::new();
    assert_eq!(
        sim2.ok(&["load", "-i", path(&back)]),
        "Loaded image: app:1\n"
    );
    assert_eq!(
        sim2.ok(&["inspect", "-f", "{{.Id}}", "app:1"]).trim(),
        s.image_id("app:1")
    );
    // a modelled base image has files without bytes: no archive, and the reason
    let modelled = sim.root().join("modelled");
    std::fs::create_dir_all(&modelled).unwrap();
    std::fs::write(
        modelled.join("Dockerfile"),
        "FROM python:3.9-slim\nCMD [\"python3\"]\n",
    )
    .unwrap();
    sim.ok(&["build", "-q", "-t", "py", path(&modelled)]);
    let out = sim.cli(&["save", "-o", path(&sim.root().join("py.tar")), "py"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("Error response from daemon: cannot write py as an archive: its file /")
            && err.contains("is modelled by the simulation"),
        "{err}"
    );
    assert!(!sim.root().join("py.tar").exists());
}
