//! The modelled base images: sizes against the published ones, config, history, and package
//! managers working on top of them.

use std::collections::BTreeMap;

use layerbox_core::fs::UnionFs;
use layerbox_core::image::Reference;
use layerbox_core::sim::base::{KNOWN, base_image};
use layerbox_core::sim::catalog::Catalog;
use layerbox_core::sim::pkg::{AptGet, Manager, Npm, Pip, PkgCtx};

/// Uncompressed sizes `docker images` lists for the official images on linux/amd64 after a pull
/// (Docker Hub's tag pages show compressed sizes, which are smaller), as remembered from
/// `docker images` output for these tags in late 2024 (bookworm-based variants; node:14 is the
/// last 14.21.3 build): not checked against Docker Hub, which this machine cannot reach, so
/// approximate (docs/SIMULATED-PACKAGES.md). Written here, not taken from the code under test.
const PUBLISHED: &[(&str, u64)] = &[
    ("busybox:latest", 4_260_000),
    ("alpine:3.20", 7_800_000),
    ("debian:bookworm-slim", 74_800_000),
    ("ubuntu:22.04", 77_900_000),
    ("ubuntu:24.04", 78_100_000),
    ("python:3.8-slim", 125_000_000),
    ("python:3.9-slim", 125_000_000),
    ("python:3.12-slim", 130_000_000),
    ("node:14", 912_000_000),
    ("node:20", 1_100_000_000),
    ("nginx:latest", 192_000_000),
];

fn image(r: &str) -> layerbox_core::sim::base::BaseImage {
    base_image(&r.parse::<Reference>().unwrap()).unwrap_or_else(|| panic!("no base image {r}"))
}

#[test]
fn sizes_are_within_ten_percent_of_the_published_images() {
    for (reference, published) in PUBLISHED {
        let img = image(reference);
        let size = img.size();
        #[allow(clippy::cast_precision_loss)]
        let ratio = size as f64 / *published as f64;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{reference}: modelled {size} bytes, published {published} ({ratio:.3})"
        );
        assert_eq!(img.published_size, *published, "{reference}");
    }
    assert_eq!(image("scratch").size(), 0);
    assert!(image("scratch").layers.is_empty());
}

#[test]
fn every_known_reference_resolves_and_history_matches_layers() {
    for r in KNOWN {
        let img = image(r);
        img.config.check_history().unwrap();
        assert_eq!(img.config.rootfs.diff_ids.len(), img.layers.len(), "{r}");
        if *r != "scratch" {
            let env = img.config.config.env.clone().unwrap_or_default();
            assert!(env.iter().any(|e| e.starts_with("PATH=")), "{r}: {env:?}");
            assert!(img.config.config.cmd.is_some(), "{r}");
        }
    }
}

#[test]
fn references_are_normalised_like_docker() {
    assert_eq!(
        image("docker.io/library/python:3.9-slim").reference,
        "python:3.9-slim"
    );
    assert_eq!(image("ubuntu").reference, "ubuntu:24.04");
    assert_eq!(image("ubuntu:latest").reference, "ubuntu:24.04");
    assert_eq!(image("busybox").reference, "busybox:latest");
    assert_eq!(image("nginx").reference, "nginx:latest");
    assert!(base_image(&"python:2.7".parse().unwrap()).is_none());
    assert!(base_image(&"example.com/python:3.9-slim".parse().unwrap()).is_none());
}

#[test]
fn configs_are_as_published() {
    let node = image("node:14");
    assert_eq!(
        node.config.config.entrypoint,
        Some(vec!["docker-entrypoint.sh".to_owned()])
    );
    assert_eq!(node.config.config.cmd, Some(vec!["node".to_owned()]));
    assert!(
        node.config
            .config
            .env
            .as_ref()
            .unwrap()
            .contains(&"NODE_VERSION=14.21.3".to_owned())
    );
    let nginx = image("nginx");
    assert!(
        nginx
            .config
            .config
            .exposed_ports
            .as_ref()
            .unwrap()
            .contains_key("80/tcp")
    );
    assert_eq!(nginx.config.config.stop_signal.as_deref(), Some("SIGQUIT"));
    let py = image("python:3.9-slim");
    let env = py.config.config.env.clone().unwrap();
    assert_eq!(
        env[0],
        "PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    assert!(env.contains(&"LANG=C.UTF-8".to_owned()));
    assert!(env.contains(&"PYTHON_VERSION=3.9.20".to_owned()));
    let created: Vec<&str> = py
        .config
        .history
        .iter()
        .filter_map(|h| h.created_by.as_deref())
        .collect();
    assert_eq!(created.last(), Some(&"CMD [\"python3\"]"));
    assert!(
        created
            .iter()
            .any(|c| c.contains("apt-get install -y --no-install-recommends"))
    );
}

#[test]
fn debian_slim_is_the_minbase_without_docs() {
    let img = image("debian:bookworm-slim");
    let fs = UnionFs::read_only(img.stack().unwrap());
    assert!(fs.exists("/usr/bin/apt-get"));
    assert!(fs.exists("/bin/bash") || fs.exists("/usr/bin/bash"));
    assert!(fs.exists("/usr/share/doc/bash/copyright"));
    assert!(!fs.exists("/usr/share/man/man1/bash.1.gz"));
    assert!(fs.exists("/usr/bin/perl"), "perl-base is required");
    assert!(
        !fs.exists("/usr/share/perl"),
        "but perl-modules is not in the minbase"
    );
    let status = fs.read("/var/lib/dpkg/status").unwrap();
    let status = String::from_utf8_lossy(status.bytes().unwrap()).into_owned();
    assert!(status.contains("Package: apt\nStatus: install ok installed\n"));
    assert!(
        fs.read_dir("/var/lib/apt/lists")
            .unwrap()
            .iter()
            .all(|e| e.name == "partial")
    );
}

fn run(m: &dyn Manager, fs: &mut UnionFs, cwd: &str, line: &str) -> (i32, String) {
    let env = BTreeMap::new();
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let mut cx = PkgCtx::new(fs, &env, cwd);
    let status = m.run(&mut cx, &args);
    (
        status,
        String::from_utf8(cx.stdout).unwrap() + &String::from_utf8(cx.stderr).unwrap(),
    )
}

#[test]
fn apt_on_debian_slim_knows_the_base_and_keeps_its_excludes() {
    let catalog = Catalog::builtin().unwrap();
    let apt = AptGet::new(catalog);
    let mut fs = UnionFs::new(image("debian:bookworm-slim").stack().unwrap());
    let (status, out) = run(&apt, &mut fs, "/", "apt-get install -y curl");
    assert_eq!(
        (status, out.lines().last()),
        (100, Some("E: Unable to locate package curl"))
    );
    run(&apt, &mut fs, "/", "apt-get update");
    let (status, out) = run(
        &apt,
        &mut fs,
        "/",
        "apt-get install -y --no-install-recommends curl",
    );
    assert_eq!(status, 0, "{out}");
    assert!(!out.contains("Unpacking libc6 "), "libc6 is already there");
    assert!(fs.exists("/usr/bin/curl"));
    assert!(
        !fs.exists("/usr/share/man/man1/curl.1.gz"),
        "the slim excludes apply"
    );
    assert!(fs.exists("/usr/share/doc/curl/copyright"));
}

#[test]
fn the_article_examples_install_on_their_base_images() {
    let catalog = Catalog::builtin().unwrap();
    // FROM python:3.9-slim / WORKDIR /app / COPY . /app / RUN pip install --no-cache-dir -r requirements.txt
    let mut fs = UnionFs::new(image("python:3.9-slim").stack().unwrap());
    fs.mkdir_all("/app", 0o755).unwrap();
    fs.write("/app/requirements.txt", b"Flask\nRedis\n", 0o644)
        .unwrap();
    let (status, out) = run(
        &Pip::new(catalog.clone()),
        &mut fs,
        "/app",
        "pip install --no-cache-dir -r requirements.txt",
    );
    assert_eq!(status, 0, "{out}");
    assert!(fs.exists("/usr/local/lib/python3.9/site-packages/flask/__init__.py"));
    assert!(fs.exists("/usr/local/bin/pip"));
    let layer = fs.into_upper();
    assert!(
        (2_000_000..20_000_000).contains(&layer.size()),
        "{}",
        layer.size()
    );

    // FROM node:14 / WORKDIR /usr/src/app / COPY package*.json ./ / RUN npm install
    let mut fs = UnionFs::new(image("node:14").stack().unwrap());
    assert!(fs.exists("/usr/local/bin/node"));
    assert!(fs.exists("/usr/local/lib/node_modules/npm/package.json"));
    fs.mkdir_all("/usr/src/app", 0o755).unwrap();
    fs.write(
        "/usr/src/app/package.json",
        br#"{"name":"app","dependencies":{"express":"^4.17.1"}}"#,
        0o644,
    )
    .unwrap();
    let (status, out) = run(&Npm::new(catalog), &mut fs, "/usr/src/app", "npm install");
    assert_eq!(status, 0, "{out}");
    assert!(fs.exists("/usr/src/app/node_modules/express/index.js"));
}

mod builds {
    use layerbox_core::build::{BuildCache, BuildContext, BuildOptions, Built, build};
    use layerbox_core::sim::base::ModelledImages;
    use layerbox_core::sim::catalog::Catalog;
    use layerbox_core::sim::shell::SimRun;

    fn build_with_packages(dockerfile: &str, files: &[(&str, &str)]) -> (Built, SimRun) {
        let context = BuildContext::from_files(files).unwrap();
        let mut sim = SimRun::default();
        layerbox_core::sim::pkg::register(&mut sim.registry, &Catalog::builtin().unwrap());
        let mut cache = BuildCache::new();
        let built = build(
            dockerfile,
            &context,
            &BuildOptions::default(),
            &ModelledImages::builtin(),
            &mut sim,
            &mut cache,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{e}"));
        (built, sim)
    }

    #[test]
    fn the_python_example_builds_with_its_dependencies_in_one_layer() {
        let example = layerbox_core::examples::python();
        let files: Vec<(&str, &str)> = example.files.iter().map(|f| (f.path, f.contents)).collect();
        let (built, sim) = build_with_packages(example.dockerfile(), &files);
        let out: String = sim
            .outcomes
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stdout()).into_owned())
            .collect();
        assert!(out.contains("Successfully installed "), "{out}");
        let base_layers = super::image("python:3.9-slim").layers.len();
        // WORKDIR, COPY and RUN each add a layer on top of the base.
        assert_eq!(built.layers.len(), base_layers + 3);
        let pip_layer = &built.layers[base_layers + 2];
        assert!(
            pip_layer
                .iter()
                .any(|(p, _)| p == "usr/local/lib/python3.9/site-packages/flask/app.py")
        );
        assert!(
            !pip_layer
                .iter()
                .any(|(p, _)| p.starts_with("root/.cache/pip/")),
            "--no-cache-dir"
        );
        assert_eq!(
            built.config.config.cmd,
            Some(vec!["python".to_owned(), "app.py".to_owned()])
        );
    }

    #[test]
    fn apt_lists_cleaned_in_a_later_layer_still_count() {
        let same = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n";
        let later = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN rm -rf /var/lib/apt/lists/*\n";
        let size = |b: &Built| b.layers.iter().map(|l| l.size()).sum::<u64>();
        let (same, sim) = build_with_packages(same, &[]);
        let err: String = sim
            .outcomes
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stderr()).into_owned())
            .collect();
        let (later, _) = build_with_packages(later, &[]);
        let lists: u64 = Catalog::builtin()
            .unwrap()
            .apt_lists()
            .iter()
            .map(|(_, s)| s)
            .sum();
        assert!(
            size(&same) > super::image("debian:bookworm-slim").size(),
            "{err}"
        );
        assert_eq!(
            size(&later) - size(&same),
            lists,
            "the lists stay in the install layer"
        );
    }

    #[test]
    fn the_node_example_builds_with_node_modules_in_the_npm_layer() {
        let dockerfile = "FROM node:14\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nEXPOSE 3000\nCMD [\"node\", \"app.js\"]\n";
        let files = [
            (
                "package.json",
                "{\"name\": \"app\", \"version\": \"1.0.0\", \"dependencies\": {\"express\": \"^4.17.1\"}}\n",
            ),
            (
                "app.js",
                "const express = require('express');\nexpress().listen(3000);\n",
            ),
        ];
        let (built, sim) = build_with_packages(dockerfile, &files);
        let out: String = sim
            .outcomes
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stdout()).into_owned())
            .collect();
        assert!(out.contains("\nadded "), "{out}");
        let base = super::image("node:14").layers.len();
        assert_eq!(built.layers.len(), base + 4, "WORKDIR, COPY, RUN, COPY");
        let npm_layer = &built.layers[base + 2];
        assert!(
            npm_layer
                .iter()
                .any(|(p, _)| p == "usr/src/app/node_modules/express/package.json")
        );
        assert!(
            npm_layer
                .iter()
                .any(|(p, _)| p == "usr/src/app/package-lock.json")
        );
        assert!(npm_layer.size() > 1_000_000, "{}", npm_layer.size());
        let ports = built.config.config.exposed_ports.clone().unwrap();
        assert!(ports.contains_key("3000/tcp"));
        assert_eq!(
            built.config.config.entrypoint,
            Some(vec!["docker-entrypoint.sh".to_owned()])
        );
    }
}
