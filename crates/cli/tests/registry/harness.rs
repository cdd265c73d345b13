//! A private registry per test: Debian's `docker-registry` (the CNCF distribution registry)
//! serving `127.0.0.1:<free port>` from a temporary storage directory, started through a small
//! `sh` supervisor that stops it (by its PID) and removes the directory when its stdin closes:
//! when the registry value is dropped, a panicking test included, or when the test binary dies.
//!
//! Also a layerbox "lab" (a store and a layerbox config dir of its own) and a tiny HTTP server
//! for fake registries and the token server.
//!
//! Without root (the Linux engine's store and containers need it) or without docker-registry the
//! tests print why and pass; under CI (`CI` set) that is a failure instead, because CI runs as
//! root with docker-registry installed by `cargo xtask setup`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Debian's docker-registry.
pub const REGISTRY: &str = "/usr/bin/docker-registry";

/// Starts the registry, waits for its stdin to close, stops it, cleans up.
const SUPERVISOR: &str = r#"D=$1
docker-registry serve "$D/config.yml" >"$D/registry.log" 2>&1 &
pid=$!
echo "$pid" >"$D/launch.pid"
cat >/dev/null
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rm -rf --one-file-system "$D"
"#;

/// Why the registry tests cannot run here, if they cannot (panics under CI instead).
pub fn unavailable() -> Option<String> {
    let why = if !rustix::process::geteuid().is_root() {
        "not root (the Linux engine's store needs root)".to_owned()
    } else if !Path::new(REGISTRY).exists() {
        format!("{REGISTRY} is missing (Debian's docker-registry; `cargo xtask setup` installs it)")
    } else {
        return None;
    };
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        "the registry tests must run in CI, but: {why}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "registry: SKIPPING the registry tests: {why}"
    );
    Some(why)
}

/// Skips the test (returning) when the registry tests cannot run here.
macro_rules! needs_registry {
    () => {
        if $crate::registry::harness::unavailable().is_some() {
            return;
        }
    };
}
pub(crate) use needs_registry;

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running registry.
pub struct Registry {
    /// `127.0.0.1:<port>`.
    pub host: String,
    dir: PathBuf,
    supervisor: Child,
}

impl Registry {
    /// Starts a registry with `extra` at the end of its config, right after `http: addr:` (a
    /// top-level `auth:` block, or an indented `tls:` block of `http:`), or nothing.
    pub fn start(extra: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("layerbox-registry-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        std::fs::write(
            dir.join("config.yml"),
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{extra}",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let supervisor = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg("sh")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let registry = Self {
            host,
            dir,
            supervisor,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&registry.host).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not come up: {}",
                std::fs::read_to_string(registry.dir.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // closing the supervisor's stdin stops the registry and removes its directory
        drop(self.supervisor.stdin.take());
        let _ = self.supervisor.wait();
    }
}

/// A layerbox store and config dir of their own, in a temporary directory.
pub struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("layerbox-reglab-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn root(&self) -> PathBuf {
        self.path().join("store")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_layerbox"));
        cmd.args(["--engine", "linux", "--root"])
            .arg(self.root())
            .args(args)
            .env("LAYERBOX_CONFIG", self.path().join("config"))
            .env("DOCKER_CONFIG", self.path().join("docker"))
            .stdin(Stdio::null());
        cmd
    }

    pub fn layerbox(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// A command with `input` on its stdin.
    pub fn with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// stdout, stderr and the exit code.
    pub fn all(&self, args: &[&str]) -> (String, String, i32) {
        let out = self.layerbox(args);
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
            out.status.code().unwrap_or(-1),
        )
    }

    /// A command that must succeed: its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (out, err, code) = self.all(args);
        assert_eq!(code, 0, "{args:?}:\n{out}{err}");
        out
    }

    /// A command that must fail: its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let (out, err, code) = self.all(args);
        assert_ne!(code, 0, "{args:?} succeeded:\n{out}{err}");
        err
    }

    /// `system check` finds nothing to repair.
    pub fn assert_clean(&self) {
        let out = self.ok(&["system", "check"]);
        assert_eq!(out, format!("store {}: clean\n", self.root().display()));
    }

    /// Builds `tag` FROM scratch with the busybox rootfs copied in (a layer whose tar the
    /// store can write again, so it can be pushed), then `dockerfile_rest` on top.
    pub fn build_busybox_image(&self, tag: &str, dockerfile_rest: &str) {
        let ctx = self
            .path()
            .join(format!("ctx-{}", tag.replace(['/', ':'], "_")));
        std::fs::create_dir_all(&ctx).unwrap();
        crate::linux_root::make_busybox_layer(&ctx.join("rootfs"));
        std::fs::write(
            ctx.join("Dockerfile"),
            format!("FROM scratch\nCOPY rootfs/ /\n{dockerfile_rest}"),
        )
        .unwrap();
        self.ok(&["build", "-q", "-t", tag, ctx.to_str().unwrap()]);
    }
}

/// A request a [`Fake`] server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a [`Fake`] handler answers: status, headers, body; `cut`: close the connection after
/// that many body bytes (a connection that breaks).
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub cut: Option<usize>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            cut: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A tiny HTTP/1.1 server on 127.0.0.1 (one connection at a time per thread, `Connection:
/// close`), for fake registries and the token server. It records the requests it answered.
pub struct Fake {
    pub host: String,
    pub seen: Arc<Mutex<Vec<Request>>>,
}

impl Fake {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let record = Arc::clone(&seen);
        // the thread ends with the test binary; every request is bounded by the test's own steps
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve(stream, &*handler, &record));
            }
        });
        Self { host, seen }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            if n.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((n.to_owned(), v.trim().to_owned()));
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        path,
        headers,
    };
    seen.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (n, v) in &reply.headers {
        head.push_str(n);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let body = match reply.cut {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    if request.method != "HEAD" {
        let _ = out.write_all(body);
    }
    let _ = out.flush();
}
