//! `pull`, `push`, `login` and `logout` against real registries on loopback (Debian's
//! docker-registry, see [`harness`]), with skopeo as a second client where it is installed, a
//! token server of the test's own for Bearer auth, and fake registries serving bad content.

mod harness;

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use harness::{Fake, Lab, Registry, Reply, needs_registry};
use layerbox_core::fs::tar::{TarOptions, write_layer};
use layerbox_core::fs::{Entry, Layer, Meta};
use layerbox_core::image::Digest;

/// The digest in push's last line (`1: digest: sha256:… size: 527`).
fn pushed_digest(out: &str) -> String {
    let last = out.lines().last().unwrap();
    last.split("digest: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("no digest in {out}"))
        .to_owned()
}

#[test]
fn a_pushed_image_pulls_into_an_empty_store_and_runs() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let reg = Registry::start("");
    let a = Lab::new();
    let name = format!("{}/demo/app:1", reg.host);
    a.build_busybox_image(
        &name,
        "RUN echo built > /built\nCMD [\"cat\", \"/built\"]\n",
    );
    let out = a.ok(&["push", &name]);
    assert!(
        out.starts_with(&format!(
            "The push refers to repository [{}/demo/app]\n",
            reg.host
        )),
        "{out}"
    );
    assert_eq!(out.matches(": Pushed\n").count(), 2, "{out}");
    let digest = pushed_digest(&out);
    // the registry has it all now: nothing is sent again
    let again = a.ok(&["push", &name]);
    assert_eq!(
        again.matches(": Layer already exists\n").count(),
        2,
        "{again}"
    );
    assert_eq!(pushed_digest(&again), digest);
    // another repository of the same registry mounts the layers instead of uploading them
    let other = format!("{}/demo/other:2", reg.host);
    a.ok(&["tag", &name, &other]);
    let mounted = a.ok(&["push", &other]);
    assert_eq!(
        mounted.matches(": Mounted from demo/app\n").count(),
        2,
        "{mounted}"
    );

    let b = Lab::new();
    let pulled = b.ok(&["pull", &name]);
    let lines: Vec<&str> = pulled.lines().collect();
    assert_eq!(lines[0], "1: Pulling from demo/app", "{pulled}");
    for status in [
        "Pulling fs layer",
        "Verifying Checksum",
        "Download complete",
        "Pull complete",
    ] {
        assert_eq!(
            pulled.matches(&format!(": {status}\n")).count(),
            2,
            "{status}: {pulled}"
        );
    }
    // not a terminal: no progress bars
    assert!(!pulled.contains("Downloading"), "{pulled}");
    assert_eq!(
        lines[lines.len() - 3..],
        [
            format!("Digest: {digest}"),
            format!("Status: Downloaded newer image for {name}"),
            name.clone(),
        ]
    );
    assert_eq!(b.ok(&["run", "--rm", &name]), "built\n");
    // -q: only the name
    assert_eq!(b.ok(&["pull", "-q", &name]), format!("{name}\n"));
    let again = b.ok(&["pull", &name]);
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}\n")),
        "{again}"
    );
    // by digest, from the other repository: the layers are there already
    let by_digest = format!("{}/demo/other@{digest}", reg.host);
    let out = b.ok(&["pull", &by_digest]);
    assert!(
        out.contains(&format!("{digest}: Pulling from demo/other\n")),
        "{out}"
    );
    // an image on top of it: only its own layer is pulled
    let two = format!("{}/demo/two:1", reg.host);
    let ctx = a.path().join("ctx-two");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {name}\nRUN echo two > /two\n"),
    )
    .unwrap();
    a.ok(&["build", "-q", "-t", &two, ctx.to_str().unwrap()]);
    a.ok(&["push", &two]);
    let out = b.ok(&["pull", &two]);
    assert_eq!(out.matches(": Already exists\n").count(), 2, "{out}");
    assert_eq!(out.matches(": Pull complete\n").count(), 1, "{out}");
    assert_eq!(
        b.ok(&["run", "--rm", &two, "cat", "/built", "/two"]),
        "built\ntwo\n"
    );
    let images = b.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(
        images.contains(&format!("{}/demo/app:1\n", reg.host)),
        "{images}"
    );
    a.assert_clean();
    b.assert_clean();
}

#[test]
fn run_and_create_pull_a_missing_image_as_docker_does() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let reg = Registry::start("");
    let a = Lab::new();
    let name = format!("{}/demo/runme:1", reg.host);
    a.build_busybox_image(&name, "CMD [\"echo\", \"pulled and ran\"]\n");
    a.ok(&["push", &name]);
    let b = Lab::new();
    // --pull never: the store lacks it and nothing is pulled
    let (_, err, code) = b.all(&["run", "--rm", "--pull", "never", &name]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        format!(
            "layerbox: Error response from daemon: No such image: {name}.\nSee 'layerbox run --help'.\n"
        )
    );
    // missing (the default): docker's line and the pull on stderr, then the run
    let (out, err, code) = b.all(&["run", "--rm", &name]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "pulled and ran\n");
    assert!(
        err.starts_with(&format!(
            "Unable to find image '{name}' locally\n1: Pulling from demo/runme\n"
        )),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("Status: Downloaded newer image for {name}\n")),
        "{err}"
    );
    // there now: no pull
    let (out, err, _) = b.all(&["run", "--rm", &name]);
    assert_eq!((out.as_str(), err.as_str()), ("pulled and ran\n", ""));
    // always: asked again, up to date
    let (out, err, code) = b.all(&["run", "--rm", "--pull", "always", &name]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "pulled and ran\n");
    assert!(err.starts_with("1: Pulling from demo/runme\n"), "{err}");
    assert!(
        err.ends_with(&format!("Status: Image is up to date for {name}\n")),
        "{err}"
    );
    // create pulls too; its stdout is the container's ID alone
    let c = Lab::new();
    let (out, err, code) = c.all(&["create", &name]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim_end().len(), 64, "{out}");
    assert!(
        err.starts_with(&format!("Unable to find image '{name}' locally\n")),
        "{err}"
    );
    let (_, err, code) = c.all(&["run", "--pull", "sometimes", &name]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        "layerbox: invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\".\nSee 'layerbox run --help'.\n"
    );
    // a registry that denies the repository (as Docker Hub does for one that does not exist):
    // docker's words and code; create says it without the run's prefix, with code 1
    let fake = Fake::start(|req| match req.path.as_str() {
        "/v2/" => Reply::new(200, "{}"),
        _ => Reply::new(
            403,
            r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
        ),
    });
    let missing = format!("{}/nosuchimage", fake.host);
    let denied = format!(
        "Error response from daemon: pull access denied for {missing}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
    );
    let (_, err, code) = c.all(&["run", &missing]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        format!(
            "Unable to find image '{missing}:latest' locally\nlayerbox: {denied}.\nSee 'layerbox run --help'.\n"
        )
    );
    let (_, err, code) = c.all(&["create", &missing]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("Unable to find image '{missing}:latest' locally\n{denied}\n")
    );
    a.assert_clean();
    b.assert_clean();
    c.assert_clean();
}

#[test]
fn an_imported_image_is_pushed_and_pulled_back() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let reg = Registry::start("");
    let a = Lab::new();
    // a rootfs tarball as GNU tar makes it (`./` names, its own order and headers): the layer's
    // tar is the tarball's bytes, which its unpacked files could not give back
    let rootfs = a.path().join("rootfs");
    crate::linux_root::make_busybox_layer(&rootfs);
    let tarball = a.path().join("rootfs.tar.gz");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-czf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let name = format!("{}/demo/imported:1", reg.host);
    a.ok(&[
        "import",
        "-c",
        "CMD [\"echo\", \"imported\"]",
        tarball.to_str().unwrap(),
        &name,
    ]);
    let out = a.ok(&["push", &name]);
    assert_eq!(out.matches(": Pushed\n").count(), 1, "{out}");
    let b = Lab::new();
    b.ok(&["pull", &name]);
    assert_eq!(b.ok(&["run", "--rm", &name]), "imported\n");
    // the same image on both sides: the pulled config is the imported one
    let id = |lab: &Lab| lab.ok(&["images", "-q", "--no-trunc", &name]);
    assert_eq!(id(&a), id(&b));
    // the pull wrote the files once: the layer's tar is a skeleton beside them (the config is
    // the only blob), and `save` gives the tar back byte for byte (`load` checks its diff_id)
    if crate::linux_root::is_root() {
        assert_eq!(entries(&b.root().join("tarsplit")), 1);
        assert_eq!(entries(&b.root().join("blobs/sha256")), 1);
    }
    let saved = b.path().join("saved.tar");
    b.ok(&["save", "-o", saved.to_str().unwrap(), &name]);
    let c = Lab::new();
    c.ok(&["load", "-i", saved.to_str().unwrap()]);
    assert_eq!(c.ok(&["run", "--rm", &name]), "imported\n");
    assert_eq!(id(&a), id(&c));
    a.assert_clean();
    b.assert_clean();
    c.assert_clean();
}

/// Bytes of the files below `dir`.
fn disk_usage(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for item in std::fs::read_dir(dir).unwrap() {
        let item = item.unwrap();
        let m = item.path().symlink_metadata().unwrap();
        total += if m.is_dir() {
            disk_usage(&item.path())
        } else {
            m.len()
        };
    }
    total
}

fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

#[test]
fn rmi_and_image_prune_give_the_disk_back() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let reg = Registry::start("");
    let a = Lab::new();
    a.ok(&["images"]);
    let empty = disk_usage(&a.root());
    // an image built, run (its init layer), pushed (its gzipped layers kept) and pulled back
    // under another name into the same store
    let name = format!("{}/demo/gc:1", reg.host);
    a.build_busybox_image(&name, "RUN echo one > /one\n");
    assert_eq!(a.ok(&["run", "--rm", &name, "cat", "/one"]), "one\n");
    a.ok(&["push", &name]);
    let full = disk_usage(&a.root());
    assert!(full > empty + (1 << 20), "{empty} {full}");
    assert!(entries(&a.root().join("distribution")) > 0);
    assert!(entries(&a.root().join("init")) > 0);
    // a container keeps what it stands on
    a.ok(&["create", "--name", "keep", &name]);
    let (_, err, code) = a.all(&["rmi", &name]);
    assert_eq!(code, 1, "{err}");
    a.ok(&["rm", "keep"]);
    a.ok(&["rmi", &name]);
    for dir in ["layers", "blobs/sha256", "distribution", "init"] {
        assert_eq!(entries(&a.root().join(dir)), 0, "{dir}");
    }
    let after = disk_usage(&a.root());
    // the build cache's file is all that is left
    let cache = std::fs::metadata(a.root().join("cache.json")).map_or(0, |m| m.len());
    assert_eq!(after, empty + cache, "{empty} {full} {after}");
    a.assert_clean();
    // image prune: the image a rebuild left without its tag goes, with what only it used
    let ctx = a.path().join("ctx-prune");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY f /f\n").unwrap();
    let build = |text: &str| {
        std::fs::write(ctx.join("f"), text).unwrap();
        a.ok(&["build", "-q", "-t", "pruned", ctx.to_str().unwrap()]);
    };
    build("one");
    build("two");
    assert_eq!(entries(&a.root().join("layers")), 2);
    assert_eq!(entries(&a.root().join("blobs/sha256")), 2);
    let out = a.ok(&["image", "prune", "-f"]);
    assert!(out.starts_with("Deleted Images:\n"), "{out}");
    // the bytes of the layer only the old image had ("one"), read from its directory
    assert!(out.ends_with("\nTotal reclaimed space: 3B\n"), "{out}");
    assert_eq!(entries(&a.root().join("layers")), 1);
    assert_eq!(entries(&a.root().join("blobs/sha256")), 1);
    let layer = std::fs::read_dir(a.root().join("layers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(std::fs::read_to_string(layer.join("f")).unwrap(), "two");
    a.assert_clean();
}

#[test]
fn chunked_uploads_a_build_from_a_registry_a_mirror_and_a_missing_tag() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let reg = Registry::start("");
    let a = Lab::new();
    let name = format!("{}/chunks:1", reg.host);
    a.build_busybox_image(&name, "");
    // busybox is ~2 MB gzipped: 256 kB chunks make several PATCHes
    let out = a
        .command(&["push", &name])
        .env("LAYERBOX_UPLOAD_CHUNK_SIZE", "262144")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let b = Lab::new();
    b.ok(&["pull", &name]);
    assert_eq!(
        b.ok(&["run", "--rm", &name, "echo", "from chunks"]),
        "from chunks\n"
    );
    // a build whose FROM the store lacks pulls it first
    let d = Lab::new();
    let ctx = d.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {name}\nRUN echo from build > /fb\nCMD [\"cat\", \"/fb\"]\n"),
    )
    .unwrap();
    let (_, err, code) = d.all(&["build", "-t", "built", ctx.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1: Pulling from chunks\n"), "{err}");
    assert_eq!(d.ok(&["run", "--rm", "built"]), "from build\n");
    d.assert_clean();
    // a mirror of Docker Hub: `app:1` is docker.io/library/app:1, found on the mirror. Anything
    // else would go to Docker Hub through a proxy that is a closed port on loopback, so nothing
    // leaves this machine even when the mirror lacks the image
    let proxy = format!("http://127.0.0.1:{}", harness::free_port());
    let on_mirror = format!("{}/library/app:1", reg.host);
    a.ok(&["tag", &name, &on_mirror]);
    a.ok(&["push", &on_mirror]);
    let c = Lab::new();
    let via_mirror = |args: &[&str]| {
        c.command(args)
            .env("HTTPS_PROXY", &proxy)
            .env("HTTP_PROXY", &proxy)
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .unwrap()
    };
    let mirror = format!("http://{}", reg.host);
    let out = via_mirror(&["--registry-mirror", &mirror, "pull", "app:1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.starts_with("1: Pulling from library/app\n"), "{text}");
    assert!(
        text.ends_with("Status: Downloaded newer image for app:1\ndocker.io/library/app:1\n"),
        "{text}"
    );
    let out = via_mirror(&["--registry-mirror", &mirror, "pull", "not-on-the-mirror"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("registry-1.docker.io"), "{err}");
    c.assert_clean();
    let err = b.fails(&["pull", &format!("{}/chunks:nope", reg.host)]);
    assert!(err.contains("manifest unknown"), "{err}");
    let err = a.fails(&["push", &format!("{}/never-tagged", reg.host)]);
    assert_eq!(
        err,
        format!(
            "Error response from daemon: An image does not exist locally with the tag: {}/never-tagged\n",
            reg.host
        )
    );
    b.assert_clean();
}

#[test]
fn skopeo_reads_what_layerbox_pushes_and_layerbox_pulls_zstd_through_an_oci_index() {
    needs_registry!();
    if !std::path::Path::new("/usr/bin/skopeo").exists() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "skopeo is missing (cargo xtask setup installs it)"
        );
        eprintln!("note: skipped, skopeo is missing");
        return;
    }
    let _g = crate::linux_root::serial();
    let reg = Registry::start("");
    let a = Lab::new();
    let amd = format!("{}/multi:docker", reg.host);
    a.build_busybox_image(&amd, "CMD [\"echo\", \"zstd ok\"]\n");
    a.ok(&["push", &amd]);
    let agent = ureq::agent();
    let url = |path: &str| format!("http://{}/v2/multi/{path}", reg.host);
    let get = |tag: &str| {
        let mut resp = agent
            .get(url(&format!("manifests/{tag}")))
            .header(
                "Accept",
                "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
            )
            .call()
            .unwrap();
        resp.body_mut().read_to_vec().unwrap()
    };
    // a zstd variant as an OCI manifest, made and uploaded here by hand
    let docker_manifest = get("docker");
    let m: serde_json::Value = serde_json::from_slice(&docker_manifest).unwrap();
    let gz = agent
        .get(url(&format!(
            "blobs/{}",
            m["layers"][0]["digest"].as_str().unwrap()
        )))
        .call()
        .unwrap()
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut tar).unwrap();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    let started = agent.post(url("blobs/uploads/")).send_empty().unwrap();
    assert_eq!(started.status().as_u16(), 202);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("http://{}{location}", reg.host)
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let done = agent
        .put(format!("{location}{sep}digest={}", Digest::sha256_of(&zst)))
        .header("Content-Type", "application/octet-stream")
        .send(&zst[..])
        .unwrap();
    assert_eq!(done.status().as_u16(), 201);
    let zstd_manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": m["config"]["digest"], "size": m["config"]["size"]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                    "digest": Digest::sha256_of(&zst).to_string(), "size": zst.len()}],
    }))
    .unwrap();
    let put = agent
        .put(url("manifests/zstd"))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .send(&zstd_manifest[..])
        .unwrap();
    assert_eq!(put.status().as_u16(), 201);
    // an index: this machine's platform is the zstd image, s390x the docker one (whose config
    // says amd64)
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "digest": Digest::sha256_of(&docker_manifest).to_string(),
             "size": docker_manifest.len(),
             "platform": {"os": "linux", "architecture": "s390x"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": Digest::sha256_of(&zstd_manifest).to_string(),
             "size": zstd_manifest.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
        ]
    });
    let resp = agent
        .put(format!("http://{}/v2/multi/manifests/list", reg.host))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .send(serde_json::to_vec(&index).unwrap())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let list = format!("{}/multi:list", reg.host);
    let b = Lab::new();
    let out = b.ok(&["pull", "--platform", "linux/amd64", &list]);
    assert!(out.contains("Pull complete"), "{out}");
    assert_eq!(b.ok(&["run", "--rm", &list]), "zstd ok\n");
    let err = b.fails(&["pull", "--platform", "linux/riscv64", &list]);
    assert_eq!(
        err,
        "Error response from daemon: no matching manifest for linux/riscv64 in the manifest list entries\n"
    );
    let err = b.fails(&["pull", "--platform", "linux/s390x", &list]);
    assert!(
        err.contains("was found but does not match the specified platform: wanted linux/s390x, actual: linux/amd64"),
        "{err}"
    );
    // skopeo copies what layerbox pushed into an OCI layout, and from there (OCI manifest,
    // gzip layers) to another repository, which layerbox pulls and runs
    let oci = a.path().join("oci");
    let skopeo = |from: String, to: String| {
        let out = Command::new("skopeo")
            .args(["copy", "--src-tls-verify=false", "--dest-tls-verify=false"])
            .args([from, to])
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo: {out:?}");
    };
    skopeo(
        format!("docker://{amd}"),
        format!("oci:{}:x", oci.display()),
    );
    let via = format!("{}/via-skopeo:1", reg.host);
    skopeo(
        format!("oci:{}:x", oci.display()),
        format!("docker://{via}"),
    );
    b.ok(&["pull", &via]);
    assert_eq!(b.ok(&["run", "--rm", &via]), "zstd ok\n");
    b.assert_clean();
}

#[test]
fn a_tls_registry_on_loopback_is_reached_over_https() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let keys = tempfile::tempdir().unwrap();
    let (key, cert) = self_signed(
        keys.path(),
        &[
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
    );
    let reg = Registry::start(&format!(
        "  tls:\n    certificate: {}\n    key: {}\n",
        cert.display(),
        key.display()
    ));
    // the registry speaks only TLS: plain HTTP gets Go's 400
    let plain = ureq::get(format!("http://{}/v2/", reg.host))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(plain.status().as_u16(), 400);
    let a = Lab::new();
    let name = format!("{}/tls/app:1", reg.host);
    a.build_busybox_image(&name, "CMD [\"echo\", \"over tls\"]\n");
    a.ok(&["push", &name]);
    let b = Lab::new();
    b.ok(&["pull", &name]);
    assert_eq!(b.ok(&["run", "--rm", &name]), "over tls\n");
    b.assert_clean();
}

/// An RSA key and a self-signed certificate (`args`: its subject and extensions) in `dir`, made
/// with the openssl CLI.
fn self_signed(dir: &std::path::Path, args: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(args)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    (key, cert)
}

/// The token server's key and certificate, and the certificate as DER for the tokens' `x5c`.
fn token_keys(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let (key, cert) = self_signed(dir, &["-subj", "/CN=layerbox test token issuer"]);
    let der = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&cert)
        .output()
        .unwrap()
        .stdout;
    (key, cert, der)
}

/// A JWT as docker's token servers issue them: RS256, the certificate in `x5c`.
fn sign_token(key: &std::path::Path, der: &[u8], claims: &serde_json::Value) -> String {
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [STANDARD.encode(der)]});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let signature = child.wait_with_output().unwrap().stdout;
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The value of query parameter(s) `name` in `path`.
fn query_values(path: &str, name: &str) -> Vec<String> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| {
            let mut out = Vec::new();
            let bytes = v.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
        .collect()
}

#[test]
fn bearer_token_auth_login_push_pull_logout() {
    needs_registry!();
    let _g = crate::linux_root::serial();
    let keys = tempfile::tempdir().unwrap();
    let (key, cert, der) = token_keys(keys.path());
    let good = format!("Basic {}", STANDARD.encode("alice:s3cret"));
    let token_server = {
        let key = key.clone();
        Fake::start(move |req| {
            let auth = req.header("authorization").unwrap_or_default().to_owned();
            let user = if auth.is_empty() {
                ""
            } else if auth == good {
                "alice"
            } else {
                return Reply::new(401, r#"{"details":"incorrect username or password"}"#);
            };
            // alice may pull and push; anonymous users get nothing
            let access: Vec<serde_json::Value> = query_values(&req.path, "scope")
                .iter()
                .flat_map(|s| s.split(' ').map(str::to_owned).collect::<Vec<_>>())
                .filter(|_| !user.is_empty())
                .filter_map(|s| {
                    let mut parts = s.splitn(3, ':');
                    let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                    Some(serde_json::json!({
                        "type": kind, "name": name,
                        "actions": actions.split(',').collect::<Vec<_>>(),
                    }))
                })
                .collect();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let claims = serde_json::json!({
                "iss": "layerbox-test", "sub": user, "aud": "layerbox-registry",
                "exp": now + 300, "nbf": now - 10, "iat": now,
                "jti": format!("{now}-{}", access.len()), "access": access,
            });
            let token = sign_token(&key, &der, &claims);
            Reply::new(200, serde_json::json!({ "token": token }).to_string())
                .header("Content-Type", "application/json")
        })
    };
    let reg = Registry::start(&format!(
        "auth:\n  token:\n    realm: http://{}/token\n    service: layerbox-registry\n    issuer: layerbox-test\n    rootcertbundle: {}\n",
        token_server.host,
        cert.display()
    ));
    let a = Lab::new();
    let name = format!("{}/private/app:1", reg.host);
    a.build_busybox_image(&name, "CMD [\"echo\", \"private\"]\n");
    let err = a.fails(&["push", &name]);
    assert!(
        err.contains("authentication required") || err.contains("unauthorized"),
        "{err}"
    );
    // a wrong password is refused and not stored
    let wrong = a.with_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        b"nope\n",
    );
    assert!(!wrong.status.success());
    assert!(!a.path().join("config/config.json").exists());
    let login = a.with_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        b"s3cret\n",
    );
    assert!(login.status.success(), "{login:?}");
    assert_eq!(String::from_utf8_lossy(&login.stdout), "Login Succeeded\n");
    let config = a.path().join("config/config.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&config).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let out = a.ok(&["push", &name]);
    assert!(out.contains(": Pushed\n"), "{out}");
    // the token requests named the service and the repository's scope
    let asked: Vec<String> = token_server
        .requests()
        .iter()
        .flat_map(|r| query_values(&r.path, "scope"))
        .collect();
    assert!(
        asked.contains(&"repository:private/app:pull,push".to_owned()),
        "{asked:?}"
    );
    // another store pulls with docker's own config.json
    let b = Lab::new();
    std::fs::create_dir_all(b.path().join("docker")).unwrap();
    std::fs::write(
        b.path().join("docker/config.json"),
        serde_json::json!({"auths": {&reg.host: {"auth": STANDARD.encode("alice:s3cret")}}})
            .to_string(),
    )
    .unwrap();
    b.ok(&["pull", &name]);
    assert_eq!(b.ok(&["run", "--rm", &name]), "private\n");
    // logged out, anonymous pulls are refused
    assert_eq!(
        a.ok(&["logout", &reg.host]),
        format!("Removing login credentials for {}\n", reg.host)
    );
    a.ok(&["rmi", &name]);
    let err = a.fails(&["pull", &name]);
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}"
    );
    a.assert_clean();
    b.assert_clean();
}

/// A small image for fake registries: its config and gzipped layer, and the layer tar.
fn small_image(text: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut layer = Layer::new();
    layer.insert("hello.txt", Entry::file(Meta::new(0o644, 0), text));
    let tar = write_layer(&layer, &TarOptions::default());
    let gz = layerbox_core::fs::tar::gzip(&tar);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["cat", "/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&tar).to_string()]},
        "docker_version": "fake"
    });
    (serde_json::to_vec(&config).unwrap(), gz, tar)
}

fn manifest_for(config: &[u8], layers: &[(&Digest, usize)]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": Digest::sha256_of(config).to_string(), "size": config.len()},
        "layers": layers.iter().map(|(d, size)| serde_json::json!({
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "digest": d.to_string(), "size": size})).collect::<Vec<_>>(),
    }))
    .unwrap()
}

#[test]
fn bad_blobs_and_manifests_are_refused_and_leave_nothing_behind() {
    if !crate::linux_root::is_root() {
        eprintln!("note: skipped, the Linux engine's store needs root");
        return;
    }
    let (config, gz, tar) = small_image("hello\n");
    let layer = Digest::sha256_of(&gz);
    let good = manifest_for(&config, &[(&layer, gz.len())]);
    // another image, whose layer always breaks off halfway
    let (short_config, short_gz, _) = small_image("cut short\n");
    let short_layer = Digest::sha256_of(&short_gz);
    let truncated = manifest_for(&short_config, &[(&short_layer, short_gz.len())]);
    let short_config_d = Digest::sha256_of(&short_config);
    // the layer's digest names other bytes of the same size
    let mut corrupt_bytes = gz.clone();
    let last = corrupt_bytes.len() - 1;
    corrupt_bytes[last] ^= 0xff;
    // a layer the registry does not have
    let missing = Digest::sha256_of(b"missing");
    let missing_manifest = manifest_for(&config, &[(&missing, 7)]);
    // a config whose diff_id is not the layer's
    let mut wrong_config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    wrong_config["rootfs"]["diff_ids"][0] = Digest::sha256_of(b"other").to_string().into();
    let wrong_config = serde_json::to_vec(&wrong_config).unwrap();
    let wrong_diff = manifest_for(&wrong_config, &[(&layer, gz.len())]);
    let (config_d, wrong_config_d) = (Digest::sha256_of(&config), Digest::sha256_of(&wrong_config));
    let first_blob_get = std::sync::atomic::AtomicBool::new(true);
    let half = gz.len() / 2;
    let fake = Fake::start(move |req| {
        let path = req.path.as_str();
        let manifest = |m: &[u8]| {
            Reply::new(200, m.to_vec()).header(
                "Content-Type",
                "application/vnd.docker.distribution.manifest.v2+json",
            )
        };
        let blob_unknown = || {
            Reply::new(
                404,
                r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
            )
        };
        match path {
            "/v2/" => Reply::new(200, "{}"),
            "/v2/good/manifests/1" | "/v2/corrupt/manifests/1" => manifest(&good),
            "/v2/missing/manifests/1" => manifest(&missing_manifest),
            "/v2/wrongdiff/manifests/1" => manifest(&wrong_diff),
            "/v2/truncated/manifests/1" => manifest(&truncated),
            p if p.ends_with(&format!("/blobs/{short_config_d}")) => {
                Reply::new(200, short_config.clone())
            }
            p if p.ends_with(&format!("/blobs/{short_layer}")) => {
                let mut reply = Reply::new(200, short_gz.clone());
                reply.cut = Some(short_gz.len() / 2);
                reply
            }
            p if p.ends_with(&format!("/blobs/{config_d}")) => Reply::new(200, config.clone()),
            p if p.ends_with(&format!("/blobs/{wrong_config_d}")) => {
                Reply::new(200, wrong_config.clone())
            }
            p if p.ends_with(&format!("/blobs/{layer}")) => {
                if p.starts_with("/v2/corrupt/") {
                    return Reply::new(200, corrupt_bytes.clone());
                }
                let mut reply = Reply::new(200, gz.clone());
                if p.starts_with("/v2/good/") {
                    if let Some(range) = req.header("range") {
                        let from: usize = range
                            .trim_start_matches("bytes=")
                            .trim_end_matches('-')
                            .parse()
                            .unwrap();
                        reply = Reply::new(206, gz[from..].to_vec());
                    } else if first_blob_get.swap(false, std::sync::atomic::Ordering::SeqCst) {
                        // the first download breaks off halfway: it must be resumed
                        reply.cut = Some(gz.len() / 2);
                    }
                }
                reply
            }
            _ => blob_unknown(),
        }
    });
    let lab = Lab::new();
    let pull = |repo: &str| lab.all(&["pull", &format!("{}/{repo}:1", fake.host)]);
    let assert_nothing = |what: &str| {
        let images = lab.ok(&["images", "-q"]);
        assert_eq!(images, "", "{what}: an image was recorded");
        lab.assert_clean();
        let layers = std::fs::read_dir(lab.root().join("layers"))
            .unwrap()
            .count();
        assert_eq!(layers, 0, "{what}: a layer was unpacked");
    };
    let (_, err, code) = pull("corrupt");
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "blob {layer}: digest mismatch: expected {layer}, got sha256:"
        )),
        "{err}"
    );
    assert_nothing("corrupt");
    // the corrupt download was not kept
    let downloads = lab.root().join("downloads");
    assert!(!downloads.exists());
    let (_, err, code) = pull("missing");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error response from daemon: blob unknown: blob unknown to registry\n"
    );
    assert_nothing("missing");
    let (_, err, code) = pull("wrongdiff");
    assert_eq!(code, 1);
    assert!(err.contains("invalid diffID for layer 0"), "{err}");
    assert_nothing("wrongdiff");
    let (_, err, code) = pull("truncated");
    assert_eq!(code, 1);
    assert!(err.contains(&format!("downloading {short_layer}")), "{err}");
    assert_nothing("truncated");
    // a broken connection is resumed with a Range request, and the image is complete (the
    // download streams into the store: nothing is kept of the compressed blob)
    lab.ok(&["pull", &format!("{}/good:1", fake.host)]);
    assert!(!downloads.exists());
    let ranges: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v2/good/blobs/"))
        .filter_map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert_eq!(ranges, [format!("bytes={half}-")]);
    let diff_id = Digest::sha256_of(&tar);
    assert_eq!(
        std::fs::read_to_string(
            lab.root()
                .join("layers")
                .join(diff_id.hex())
                .join("hello.txt")
        )
        .unwrap(),
        "hello\n"
    );
    lab.assert_clean();
}
