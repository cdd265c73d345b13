//! The simulated package managers on the union filesystem, with the builtin catalog.

use std::collections::BTreeMap;
use std::sync::Arc;

use layerbox_core::fs::{Layer, LayerStack, UnionFs};
use layerbox_core::sim::catalog::Catalog;
use layerbox_core::sim::pkg::{Apk, AptGet, Manager, Npm, Pip, PkgCtx, SIMULATED_NOTE};

fn catalog() -> Arc<Catalog> {
    Catalog::builtin().unwrap()
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(m: &dyn Manager, fs: &mut UnionFs, cwd: &str, line: &str) -> Run {
    run_env(m, fs, cwd, line, &BTreeMap::new())
}

fn run_env(
    m: &dyn Manager,
    fs: &mut UnionFs,
    cwd: &str,
    line: &str,
    env: &BTreeMap<String, String>,
) -> Run {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let mut cx = PkgCtx::new(fs, env, cwd);
    let status = m.run(&mut cx, &args);
    Run {
        status,
        stdout: String::from_utf8(cx.stdout).unwrap(),
        stderr: String::from_utf8(cx.stderr).unwrap(),
    }
}

fn empty_fs() -> UnionFs {
    UnionFs::new(LayerStack::new())
}

/// The bytes a layer holds under `dir` (relative, no leading slash).
fn bytes_under(layer: &Layer, dir: &str) -> u64 {
    layer
        .iter()
        .filter(|(p, _)| p.starts_with(dir))
        .map(|(p, _)| layer.entry(p).map_or(0, |(_, e)| e.size()))
        .sum()
}

#[test]
fn apt_get_install_without_update_cannot_locate_packages() {
    let apt = AptGet::new(catalog());
    let mut fs = empty_fs();
    let r = run(&apt, &mut fs, "/", "apt-get install -y curl");
    assert_eq!(r.status, 100);
    assert!(r.stdout.starts_with(SIMULATED_NOTE), "{}", r.stdout);
    assert!(r.stdout.contains(
        "Reading package lists...\nBuilding dependency tree...\nReading state information...\n"
    ));
    assert_eq!(r.stderr, "E: Unable to locate package curl\n");
    assert!(!fs.exists("/usr/bin/curl"));
}

#[test]
fn apt_get_installs_with_dependencies_and_dpkg_status() {
    let apt = AptGet::new(catalog());
    let mut fs = empty_fs();
    assert_eq!(run(&apt, &mut fs, "/", "apt-get update").status, 0);
    let r = run(
        &apt,
        &mut fs,
        "/",
        "apt-get install -y --no-install-recommends curl",
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("The following NEW packages will be installed:\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Setting up curl (7.88.1-10+deb12u15) ..."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("The following additional packages will be installed:\n")
    );
    let curl = fs.stat("/usr/bin/curl").unwrap();
    assert_eq!((curl.size, curl.mode & 0o777), (280_800, 0o755));
    let status = String::from_utf8(
        fs.read("/var/lib/dpkg/status")
            .unwrap()
            .bytes()
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(status.contains("Package: curl\nStatus: install ok installed\n"));
    assert!(
        status.contains("Package: libcurl4\n"),
        "dependencies are installed too"
    );
    assert!(fs.exists("/var/lib/dpkg/info/curl.list"));

    let again = run(&apt, &mut fs, "/", "apt-get install -y curl");
    assert!(
        again
            .stdout
            .contains("curl is already the newest version (7.88.1-10+deb12u15).\n")
    );
    assert!(
        again
            .stdout
            .contains("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
    );

    let rm = run(&apt, &mut fs, "/", "apt-get purge -y curl");
    assert_eq!(rm.status, 0);
    assert!(
        rm.stdout
            .contains("The following packages will be REMOVED:\n  curl*\n"),
        "{}",
        rm.stdout
    );
    assert!(!fs.exists("/usr/bin/curl"));
    assert!(
        fs.exists("/usr/lib/x86_64-linux-gnu/libcurl.so.4"),
        "purge keeps dependencies"
    );
}

#[test]
fn apt_get_without_yes_aborts_when_more_is_needed() {
    let apt = AptGet::new(catalog());
    let mut fs = empty_fs();
    run(&apt, &mut fs, "/", "apt-get update");
    let r = run(&apt, &mut fs, "/", "apt-get install curl");
    assert_eq!(r.status, 1);
    assert!(
        r.stdout
            .ends_with("Do you want to continue? [Y/n] Abort.\n")
    );
    assert!(!fs.exists("/usr/bin/curl"));
    let r = run(&apt, &mut fs, "/", "apt-get frobnicate");
    assert_eq!(
        (r.status, r.stderr.as_str()),
        (100, "E: Invalid operation frobnicate\n")
    );
}

#[test]
fn recommends_are_followed_unless_told_not_to() {
    let apt = AptGet::new(catalog());
    let count = |flag: &str| {
        let mut fs = empty_fs();
        run(&apt, &mut fs, "/", "apt-get update");
        run(
            &apt,
            &mut fs,
            "/",
            &format!("apt-get install -y {flag} curl"),
        );
        fs.into_upper().size()
    };
    assert!(count("") > count("--no-install-recommends"));
}

#[test]
fn apt_lists_not_cleaned_in_the_same_layer_are_wasted_space() {
    let apt = AptGet::new(catalog());
    let published: u64 = catalog().apt_lists().iter().map(|(_, s)| s).sum();

    // RUN apt-get update && apt-get install -y curl
    let mut fs = empty_fs();
    run(&apt, &mut fs, "/", "apt-get update");
    run(&apt, &mut fs, "/", "apt-get install -y curl");
    let layer = fs.into_upper();
    let wasted = bytes_under(&layer, "var/lib/apt/lists");
    assert_eq!(wasted, published);
    assert!(
        wasted > 19_000_000,
        "bookworm's lists are about 20 MB: {wasted}"
    );

    // RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
    let mut fs = empty_fs();
    run(&apt, &mut fs, "/", "apt-get update");
    run(&apt, &mut fs, "/", "apt-get install -y curl");
    for e in fs.read_dir("/var/lib/apt/lists").unwrap() {
        fs.remove_all(&format!("/var/lib/apt/lists/{}", e.name))
            .unwrap();
    }
    let clean = fs.into_upper();
    assert_eq!(bytes_under(&clean, "var/lib/apt/lists"), 0);
    assert_eq!(layer.size() - clean.size(), wasted);

    // Cleaning in a later layer leaves the bytes in the earlier one: only whiteouts are added.
    let lower = LayerStack::from_layers([Arc::new(layer)]).unwrap();
    let mut later = UnionFs::new(lower);
    later.remove_all("/var/lib/apt/lists").unwrap();
    assert_eq!(later.into_upper().size(), 0);
}

#[test]
fn pip_installs_requirements_with_and_without_cache() {
    let pip = Pip::new(catalog());
    let mut fs = empty_fs();
    fs.mkdir_all("/app", 0o755).unwrap();
    fs.write("/app/requirements.txt", b"Flask\nRedis\n", 0o644)
        .unwrap();
    let r = run(&pip, &mut fs, "/app", "pip install -r requirements.txt");
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Collecting Flask\n  Downloading flask-3.0.3-py3-none-any.whl (101 kB)\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Successfully installed "));
    assert!(r.stdout.contains("flask-3.0.3"));
    let sp = "/usr/local/lib/python3.9/site-packages";
    assert!(fs.exists(&format!("{sp}/flask/app.py")));
    assert!(fs.exists(&format!("{sp}/werkzeug/serving.py")));
    assert!(fs.exists(&format!("{sp}/redis/client.py")));
    assert!(fs.exists("/usr/local/bin/flask"));
    assert!(r.stderr.contains("WARNING: Running pip as the 'root' user"));
    let with_cache = fs.into_upper();
    let cache = bytes_under(&with_cache, "root/.cache/pip");
    assert!(cache > 100_000, "the wheels stay in pip's cache: {cache}");

    let mut fs = empty_fs();
    fs.mkdir_all("/app", 0o755).unwrap();
    fs.write("/app/requirements.txt", b"Flask\nRedis\n", 0o644)
        .unwrap();
    let r = run(
        &pip,
        &mut fs,
        "/app",
        "pip install --no-cache-dir -r requirements.txt",
    );
    assert_eq!(r.status, 0);
    let without = fs.into_upper();
    assert_eq!(bytes_under(&without, "root/.cache"), 0);
    assert_eq!(with_cache.size() - without.size(), cache);
}

#[test]
fn pip_unknown_package_and_versions() {
    let pip = Pip::new(catalog());
    let mut fs = empty_fs();
    let r = run(&pip, &mut fs, "/", "pip install no-such-package-xyz");
    assert_eq!(r.status, 1);
    assert_eq!(
        r.stderr,
        "ERROR: Could not find a version that satisfies the requirement no-such-package-xyz (from versions: none)\nERROR: No matching distribution found for no-such-package-xyz\n"
    );
    let r = run(&pip, &mut fs, "/", "pip3 install flask==0.1");
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains("flask==0.1 (from versions: 3.0.3)"));
    let r = run(&pip, &mut fs, "/", "pip install six==1.16.0");
    assert_eq!(r.status, 0);
    let r = run(&pip, &mut fs, "/", "pip install six");
    assert!(
        r.stdout.contains("Requirement already satisfied: six"),
        "{}",
        r.stdout
    );
    let r = run(&pip, &mut fs, "/", "pip install -r missing.txt");
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .contains("No such file or directory: 'missing.txt'")
    );
}

#[test]
fn npm_install_and_ci_from_package_json() {
    let npm = Npm::new(catalog());
    let mut fs = empty_fs();
    fs.mkdir_all("/usr/src/app", 0o755).unwrap();
    fs.write(
        "/usr/src/app/package.json",
        br#"{"name":"app","version":"1.0.0","dependencies":{"express":"^4.18.2"}}"#,
        0o644,
    )
    .unwrap();
    let r = run(&npm, &mut fs, "/usr/src/app", "npm install");
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(SIMULATED_NOTE));
    assert!(r.stdout.contains("\nadded "), "{}", r.stdout);
    assert!(r.stdout.ends_with("\nfound 0 vulnerabilities\n"));
    assert!(fs.exists("/usr/src/app/node_modules/express/lib/express.js"));
    assert!(fs.exists("/usr/src/app/node_modules/body-parser/package.json"));
    let lock = fs.read("/usr/src/app/package-lock.json").unwrap();
    let lock: serde_json::Value = serde_json::from_slice(lock.bytes().unwrap()).unwrap();
    assert_eq!(lock["lockfileVersion"], 3);
    assert_eq!(
        lock["packages"]["node_modules/express"]["version"],
        "4.21.1"
    );
    assert!(fs.read_dir("/root/.npm/_cacache/content-v2/sha512").is_ok());

    let r = run(&npm, &mut fs, "/usr/src/app", "npm ci");
    assert_eq!(r.status, 0);
    assert!(fs.exists("/usr/src/app/node_modules/express/package.json"));

    let r = run(&npm, &mut fs, "/", "npm ci");
    assert_eq!(r.status, 254, "no package.json in /");
    assert!(r.stderr.starts_with("npm ERR! code ENOENT\n"));
}

#[test]
fn npm_errors() {
    let npm = Npm::new(catalog());
    let mut fs = empty_fs();
    fs.mkdir_all("/app", 0o755).unwrap();
    fs.write(
        "/app/package.json",
        br#"{"name":"app","dependencies":{"express":"4"}}"#,
        0o644,
    )
    .unwrap();
    let r = run(&npm, &mut fs, "/app", "npm ci");
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .contains("can only install with an existing package-lock.json")
    );
    let r = run(&npm, &mut fs, "/app", "npm install no-such-package-xyz");
    assert_eq!(r.status, 1);
    assert!(r.stderr.contains(
        "npm ERR! 404 Not Found - GET https://registry.npmjs.org/no-such-package-xyz - Not found"
    ));
    let r = run(&npm, &mut fs, "/app", "npm install lodash");
    assert_eq!(r.status, 0);
    let manifest = fs.read("/app/package.json").unwrap();
    assert!(
        String::from_utf8_lossy(manifest.bytes().unwrap()).contains("\"lodash\": \"^4.17.21\"")
    );
}

#[test]
fn apk_add_with_and_without_cache() {
    let apk = Apk::new(catalog());
    let mut fs = empty_fs();
    let r = run(&apk, &mut fs, "/", "apk add --no-cache curl");
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.contains(
        "fetch https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\n"
    ));
    assert!(
        r.stdout.contains(") Installing curl (7.88.1-r0)\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.lines().last().unwrap().starts_with("OK: "));
    assert!(fs.exists("/usr/bin/curl"));
    assert!(!fs.exists("/var/cache/apk"));
    let r = run(&apk, &mut fs, "/", "apk add jq");
    assert_eq!(r.status, 0);
    assert!(fs.read_dir("/var/cache/apk").unwrap().len() == 2);
    let r = run(&apk, &mut fs, "/", "apk del curl");
    assert_eq!(r.status, 0);
    assert!(!fs.exists("/usr/bin/curl"));
    assert!(
        !fs.exists("/usr/lib/x86_64-linux-gnu/libc.so.6"),
        "no glibc on alpine"
    );
    let r = run(&apk, &mut fs, "/", "apk add --no-cache bash");
    assert!(r.stdout.contains("Installing bash ("), "{}", r.stdout);
    let r = run(&apk, &mut fs, "/", "apk add --no-cache nosuchpkg");
    assert_eq!(r.status, 1);
    assert_eq!(
        r.stderr,
        "ERROR: unable to select packages:\n  nosuchpkg (no such package):\n    required by: world[nosuchpkg]\n"
    );
}

#[test]
fn pip_uses_the_no_cache_environment_variable() {
    let pip = Pip::new(catalog());
    let mut fs = empty_fs();
    let env = BTreeMap::from([("PIP_NO_CACHE_DIR".to_owned(), "1".to_owned())]);
    assert_eq!(
        run_env(&pip, &mut fs, "/", "pip install six", &env).status,
        0
    );
    assert!(!fs.exists("/root/.cache"));
}

#[test]
fn managers_run_from_the_shell() {
    use layerbox_core::sim::shell::{self, Env, Limits, Lookup, Registry};
    let mut registry = Registry::with_builtins();
    layerbox_core::sim::pkg::register(&mut registry, &catalog());
    let mut fs = empty_fs();
    let env = Env {
        lookup: Lookup::Registry,
        ..Env::default()
    };
    let script = "apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*";
    let argv: Vec<String> = ["/bin/sh", "-c", script].map(str::to_owned).into();
    let out = shell::run(&mut fs, &env, &argv, &registry, &Limits::default());
    assert_eq!(out.status, 0, "{}", String::from_utf8_lossy(&out.stderr()));
    assert!(String::from_utf8_lossy(&out.stdout()).contains("Setting up curl "));
    assert!(fs.exists("/usr/bin/curl"));
    let layer = fs.into_upper();
    assert_eq!(bytes_under(&layer, "var/lib/apt/lists"), 0);

    let mut fs = empty_fs();
    let argv: Vec<String> = ["/bin/sh", "-c", "pip install nosuchthing || echo failed $?"]
        .map(str::to_owned)
        .into();
    let out = shell::run(&mut fs, &env, &argv, &registry, &Limits::default());
    assert_eq!(out.status, 0);
    assert!(String::from_utf8_lossy(&out.stdout()).ends_with("failed 1\n"));
}
