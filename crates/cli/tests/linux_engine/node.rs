//! The article's Node example, for real: a `node:14` base image made from the host's `node`
//! binary and the shared libraries it links, the article's app built on it, run detached with
//! `-p 3000:3000`, and an HTTP request to 127.0.0.1:3000 that answers `Hello World`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::super::linux_root::{is_root, serial};
use super::Lab;
use super::network::http_get;

const NODE: &str = "/usr/bin/node";

/// The article's app.js, with no dependency (no express).
const APP_JS: &str = r"const http = require('http');

const hostname = '0.0.0.0';
const port = 3000;

const server = http.createServer((req, res) => {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World');
});

server.listen(port, hostname, () => {
  console.log(`Server running at http://${hostname}:${port}/`);
});
";

const PACKAGE_JSON: &str = r#"{
  "name": "my-node-app",
  "version": "1.0.0",
  "description": "the article's example",
  "main": "app.js",
  "scripts": { "start": "node app.js" },
  "dependencies": {}
}
"#;

/// The article's Dockerfile. `RUN npm install` is left out: the base made here holds only the
/// `node` binary and the libraries it links (no shell to run a `RUN` with, no npm, which is a
/// JavaScript program of its own with thousands of files), and package.json has no dependencies
/// to install anyway.
const DOCKERFILE: &str = r#"FROM node:14
WORKDIR /usr/src/app
COPY package*.json ./
COPY . .
EXPOSE 3000
CMD ["node", "app.js"]
"#;

/// Whether the test can run here; without node or root it is skipped, except on CI (env `CI`),
/// whose machine has both.
fn can_run() -> bool {
    let missing = if is_root() {
        (!Path::new(NODE).exists()).then(|| format!("{NODE} is missing"))
    } else {
        Some("it needs root".to_owned())
    };
    match missing {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => panic!("the node example: {why}"),
        Some(why) => {
            eprintln!("note: skipped, the node example: {why}");
            false
        }
    }
}

/// The shared libraries `ldd` lists for `binary`, the dynamic loader included.
fn linked_libraries(binary: &str) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(binary).output().unwrap();
    assert!(out.status.success(), "ldd {binary}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or `/lib64/ld-linux….so.2 (0x…)`
            let path = l.split("=>").last()?.split_whitespace().next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// A rootfs tarball with the host's node, its libraries and loader at their paths.
fn node_rootfs(dir: &Path) -> PathBuf {
    let rootfs = dir.join("node-rootfs");
    for file in std::iter::once(PathBuf::from(NODE)).chain(linked_libraries(NODE)) {
        let dest = rootfs.join(file.strip_prefix("/").unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        // the file itself, where the path is a symlink (libc.so.6 → libc-2.36.so)
        std::fs::copy(&file, &dest).unwrap();
    }
    for d in ["tmp", "etc"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let tarball = dir.join("node.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(&rootfs).unwrap();
    tarball
}

#[test]
fn the_articles_node_app_answers_hello_world_on_port_3000() {
    if !can_run() {
        return;
    }
    let _g = serial();
    // tmpfs when there is one: the node binary is ~100 MB, unpacked twice
    let lab = Lab {
        dir: super::tmpfs_dir("layerbox-node-"),
    };
    let tarball = node_rootfs(lab.path());
    let id = lab.ok(&["import", tarball.to_str().unwrap(), "node:14"]);
    assert!(id.starts_with("sha256:"), "{id}");
    std::fs::remove_file(&tarball).unwrap();
    let version = lab.ok(&["run", "--rm", "node:14", "node", "--version"]);
    assert!(version.starts_with('v'), "{version}");

    let ctx = lab.context(&[
        ("Dockerfile", DOCKERFILE),
        ("app.js", APP_JS),
        ("package.json", PACKAGE_JSON),
    ]);
    let (out, err, code) = lab.all(&["build", "-t", "my-node-app", ctx.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("naming to docker.io/library/my-node-app:latest done"),
        "{err}"
    );
    let id = lab.ok(&["run", "-d", "-p", "3000:3000", "my-node-app"]);
    let id = id.trim();
    let response = http_get(3000, "/");
    assert!(
        response.starts_with("HTTP/1.1 200 OK\r\n") && response.ends_with("\r\n\r\nHello World"),
        "{response}"
    );
    assert!(
        response.contains("Content-Type: text/plain\r\n"),
        "{response}"
    );
    assert_eq!(
        lab.ok(&["logs", id]),
        "Server running at http://0.0.0.0:3000/\n"
    );
    let ps = lab.ok(&["ps", "--format", "{{.Image}} {{.Command}} {{.Ports}}"]);
    assert!(
        ps.starts_with("my-node-app \"node app.js\" 0.0.0.0:3000->3000/tcp"),
        "{ps}"
    );
    assert_eq!(
        lab.ok(&["port", id]).lines().next(),
        Some("3000/tcp -> 0.0.0.0:3000")
    );
    // node as PID 1 ignores SIGTERM (no handler, and the kernel's default does not apply to a
    // namespace's init): docker's stop would wait its 10 s before SIGKILL; 1 s here
    lab.ok(&["stop", "-t", "1", id]);
    lab.ok(&["rm", id]);
    assert_eq!(lab.ok(&["ps", "-aq"]), "");
    lab.assert_clean();
}
