//! One registry over the OCI distribution API: the `/v2/` ping, authentication (Bearer tokens
//! from the registry's token server, as Docker Hub does it, or Basic), manifests, blobs and
//! uploads. TLS with rustls; plain HTTP only for loopback registries and those named with
//! `--insecure-registry`, after HTTPS failed (as dockerd does).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use layerbox_core::image::Digest;
use ureq::http::Response;
use ureq::{Agent, Body};

use super::auth::{Challenge, Credentials, Scheme, parse_challenges};
use super::{RegistryError, Settings};

/// Docker Hub's registry, which `docker.io` names.
pub const DOCKER_HUB_REGISTRY: &str = "registry-1.docker.io";

/// The host a reference's domain is served from.
pub fn registry_host(domain: &str) -> &str {
    if domain == "docker.io" || domain == "index.docker.io" {
        DOCKER_HUB_REGISTRY
    } else {
        domain
    }
}

/// Whether `host` (with or without a port) is this machine: `localhost`, 127.0.0.0/8, `::1`.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or_default()
    } else {
        host
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `value` percent-encoded for a URL query.
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The message of a registry's JSON error body (`{"errors":[{"code":…,"message":…}]}`), as
/// docker prints it: `code: message` lowercased.
fn error_text(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let errors = v.get("errors")?.as_array()?;
    let texts: Vec<String> = errors
        .iter()
        .filter_map(|e| {
            let code = e.get("code")?.as_str()?.to_lowercase().replace('_', " ");
            let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
            Some(if message.is_empty() {
                code
            } else {
                format!("{code}: {message}")
            })
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join(", "))
}

/// What a token server answers (Docker Hub sends both fields).
#[derive(serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
}

/// Sends one request given the `Authorization` header to put in it, if any.
pub type Send<'a> = &'a dyn Fn(&Agent, Option<&str>) -> Result<Response<Body>, ureq::Error>;

/// How a request is authorised.
#[derive(Debug, Default)]
struct AuthState {
    /// The challenge of the last 401 (or of the ping).
    challenge: Option<Challenge>,
    /// Bearer tokens by scope set.
    tokens: HashMap<String, String>,
}

/// A connection to one registry (the agent pools its connections).
pub struct Registry {
    agent: Agent,
    /// `https://host[:port]` or `http://…`.
    base: String,
    /// Whether plain HTTP is allowed here (loopback or named insecure).
    insecure: bool,
    creds: Option<Credentials>,
    auth: Mutex<AuthState>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The certificate authorities a registry's own directory names, as docker's
/// `certs.d/<host[:port]>/*.crt` (in layerbox's config dir, then `/etc/docker/certs.d`): for a
/// private registry whose certificate no public authority signed.
pub fn registry_cas(
    certs_d: &[std::path::PathBuf],
    host: &str,
) -> Result<Vec<ureq::tls::Certificate<'static>>, RegistryError> {
    let mut certs = Vec::new();
    for dir in certs_d {
        let Ok(entries) = std::fs::read_dir(dir.join(host)) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "crt"))
            .collect();
        paths.sort();
        for path in paths {
            let pem = std::fs::read(&path)?;
            for item in ureq::tls::parse_pem(&pem) {
                if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                    certs.push(c);
                }
            }
        }
    }
    Ok(certs)
}

/// The HTTP agent: statuses are answers (401 is part of the protocol), generous timeouts for
/// big blobs, a pool large enough for parallel downloads; TLS verified against the webpki
/// roots, or against `cas` when the registry has its own, or not at all for an insecure one.
fn agent(cas: Vec<ureq::tls::Certificate<'static>>, insecure: bool) -> Agent {
    let roots = if cas.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::Specific(std::sync::Arc::new(cas))
    };
    Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(roots)
                .disable_verification(insecure)
                .build(),
        )
        .http_status_as_error(false)
        .user_agent(format!("layerbox/{}", layerbox_core::VERSION))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_mins(2)))
        .max_idle_connections_per_host(8)
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
        .build()
        .new_agent()
}

/// A failed exchange in the words of Go's HTTP client, which docker prints:
/// `Get "https://host/v2/": …`.
fn transport(method: &str, url: &str) -> impl FnOnce(ureq::Error) -> RegistryError {
    let mut go = method.to_ascii_lowercase();
    if let Some(first) = go.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let what = format!("{go} \"{url}\"");
    move |e| {
        let why = match e {
            ureq::Error::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        RegistryError::Transport(format!("{what}: {why}"))
    }
}

impl Registry {
    /// Connects to the registry serving `domain` (a reference's domain, `docker.io` for Docker
    /// Hub, or a mirror's URL): pings `/v2/`, over HTTPS, or plain HTTP for an insecure one when
    /// HTTPS fails, and learns how it authenticates.
    pub fn connect(
        domain: &str,
        settings: &Settings,
        creds: Option<Credentials>,
    ) -> Result<Self, RegistryError> {
        let (explicit_scheme, host) = match domain.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest.trim_end_matches('/')),
            None => (None, registry_host(domain)),
        };
        let insecure = is_loopback(host)
            || settings
                .insecure
                .iter()
                .any(|i| i == host || i == domain || i.trim_end_matches('/') == domain);
        let schemes: &[&str] = match explicit_scheme {
            Some("http") if insecure => &["http"],
            Some("http") => {
                return Err(RegistryError::Transport(format!(
                    "{domain}: plain HTTP is only used for loopback registries and those named with --insecure-registry"
                )));
            }
            _ if insecure => &["https", "http"],
            _ => &["https"],
        };
        let cas = registry_cas(&settings.certs_d, host)?;
        let mut last = None;
        for scheme in schemes {
            // as dockerd: an insecure registry's certificate is not verified
            let agent = agent(cas.clone(), insecure);
            let base = format!("{scheme}://{host}");
            let url = format!("{base}/v2/");
            match agent.get(&url).call() {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let registry = Self {
                        agent,
                        base,
                        insecure,
                        creds,
                        auth: Mutex::new(AuthState::default()),
                    };
                    if status == 401 {
                        registry.auth.lock().expect("auth lock").challenge = challenge_of(&resp);
                    } else if !(200..300).contains(&status) {
                        return Err(RegistryError::Status {
                            status,
                            message: format!("GET {url}: unexpected status {status}"),
                        });
                    }
                    return Ok(registry);
                }
                Err(e) => last = Some(transport("GET", &url)(e)),
            }
        }
        Err(last.expect("at least one scheme"))
    }

    /// The scheme the registry asked for at the ping, if any.
    pub fn challenge_scheme(&self) -> Option<Scheme> {
        self.auth
            .lock()
            .expect("auth lock")
            .challenge
            .as_ref()
            .map(|c| c.scheme)
    }

    /// A fresh `Authorization` header for `scopes` (a token from the token server for Bearer).
    pub fn token_for(&self, scopes: &[String]) -> Result<Option<String>, RegistryError> {
        self.authorization(scopes, true)
    }

    /// The base URL (`https://host`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The `Authorization` header for `scopes`, fetching a token when the registry asks for one.
    fn authorization(
        &self,
        scopes: &[String],
        fresh: bool,
    ) -> Result<Option<String>, RegistryError> {
        let mut state = self.auth.lock().expect("auth lock");
        let Some(challenge) = state.challenge.clone() else {
            return Ok(None);
        };
        match challenge.scheme {
            Scheme::Basic => Ok(self.creds.as_ref().map(|c| format!("Basic {}", c.encode()))),
            Scheme::Bearer => {
                let key = scopes.join(" ");
                if !fresh && let Some(t) = state.tokens.get(&key) {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let token = self.fetch_token(&challenge, scopes)?;
                state.tokens.insert(key, token.clone());
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// A token from the challenge's `realm` for `scopes` (plus the challenge's own scope), with
    /// the credentials when there are any.
    fn fetch_token(
        &self,
        challenge: &Challenge,
        scopes: &[String],
    ) -> Result<String, RegistryError> {
        let realm = challenge.param("realm").ok_or_else(|| {
            RegistryError::Auth("the registry's Bearer challenge has no realm".into())
        })?;
        let realm_host = realm
            .split_once("://")
            .map_or("", |(_, r)| r.split('/').next().unwrap_or_default());
        if realm.starts_with("http://") && !(self.insecure || is_loopback(realm_host)) {
            return Err(RegistryError::Auth(format!(
                "refusing to send credentials to the token server over plain HTTP: {realm}"
            )));
        }
        let mut url = realm.to_owned();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        let mut add = |k: &str, v: &str| {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&query_escape(v));
            sep = '&';
        };
        if let Some(service) = challenge.param("service") {
            add("service", service);
        }
        let mut all: Vec<&str> = scopes.iter().map(String::as_str).collect();
        if let Some(s) = challenge.param("scope") {
            for s in s.split(' ') {
                if !all.contains(&s) {
                    all.push(s);
                }
            }
        }
        for s in all {
            add("scope", s);
        }
        if let Some(c) = &self.creds {
            add("account", &c.username);
        }
        let mut request = self.agent.get(&url);
        if let Some(c) = &self.creds {
            request = request.header("Authorization", format!("Basic {}", c.encode()));
        }
        let mut resp = request.call().map_err(transport("GET", realm))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(transport("GET", realm))?;
        if status == 401 || status == 403 {
            return Err(RegistryError::Auth(error_text(&body).unwrap_or_else(
                || "unauthorized: incorrect username or password".into(),
            )));
        }
        if !(200..300).contains(&status) {
            return Err(RegistryError::Auth(format!(
                "token server {realm} answered {status}: {}",
                error_text(&body).unwrap_or(body)
            )));
        }
        let t: TokenResponse = serde_json::from_str(&body)
            .map_err(|e| RegistryError::Auth(format!("token server {realm}: {e}")))?;
        t.token
            .or(t.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RegistryError::Auth(format!("token server {realm} sent no token")))
    }

    /// Sends a request (built by `send` with the `Authorization` header, if any); on a 401 takes
    /// the new challenge, authorises for `scopes` and sends once more.
    pub fn call(
        &self,
        scopes: &[String],
        method: &str,
        url: &str,
        send: Send<'_>,
    ) -> Result<Response<Body>, RegistryError> {
        let header = self.authorization(scopes, false)?;
        let resp = send(&self.agent, header.as_deref()).map_err(transport(method, url))?;
        if resp.status().as_u16() != 401 {
            return Ok(resp);
        }
        let challenge = challenge_of(&resp);
        let had_challenge = {
            let mut state = self.auth.lock().expect("auth lock");
            let had = state.challenge.is_some();
            if challenge.is_some() {
                state.challenge = challenge;
            }
            had
        };
        if self.auth.lock().expect("auth lock").challenge.is_none() {
            return Ok(resp);
        }
        // a token that was refused (expired, or for too little scope) is fetched anew
        let header = self.authorization(scopes, had_challenge)?;
        if header.is_none() {
            return Err(RegistryError::Auth(
                "unauthorized: authentication required (log in with `layerbox login`)".into(),
            ));
        }
        send(&self.agent, header.as_deref()).map_err(transport(method, url))
    }

    /// The URL of `path` below `/v2/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v2/{path}", self.base)
    }

    /// An absolute URL from a `Location` header (registries may send a path).
    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{}", self.base, location)
        }
    }

    /// GETs a manifest by tag or digest: its bytes and media type.
    pub fn manifest(
        &self,
        repo: &str,
        reference: &str,
        scopes: &[String],
    ) -> Result<(Vec<u8>, String), RegistryError> {
        let url = self.url(&format!("{repo}/manifests/{reference}"));
        let mut resp = self.call(scopes, "GET", &url, &|agent, auth| {
            let mut r = agent.get(&url).header("Accept", super::manifest::ACCEPT);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.call()
        })?;
        let status = resp.status().as_u16();
        let media_type = header(&resp, "content-type").unwrap_or_default();
        let bytes = read_limited(&mut resp, 4 << 20)
            .map_err(|e| RegistryError::Transport(format!("GET {url}: {e}")))?;
        check_status(status, &bytes, &url, &[200])?;
        Ok((bytes, media_type))
    }

    /// GETs a blob from `offset` on (a `Range` request): the response and the offset the body
    /// starts at (0 when the registry ignored the range).
    pub fn blob(
        &self,
        repo: &str,
        digest: &Digest,
        offset: u64,
        scopes: &[String],
    ) -> Result<(Response<Body>, u64), RegistryError> {
        let url = self.url(&format!("{repo}/blobs/{digest}"));
        let mut resp = self.call(scopes, "GET", &url, &|agent, auth| {
            let mut r = agent.get(&url);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            if offset > 0 {
                r = r.header("Range", format!("bytes={offset}-"));
            }
            r.call()
        })?;
        match resp.status().as_u16() {
            206 => Ok((resp, offset)),
            200 => Ok((resp, 0)),
            // a range past the end: start over
            416 if offset > 0 => self.blob(repo, digest, 0, scopes),
            status => {
                let bytes = read_limited(&mut resp, 64 << 10).unwrap_or_default();
                Err(check_status(status, &bytes, &url, &[200]).expect_err("not 200"))
            }
        }
    }

    /// Whether the registry has the blob in `repo` (HEAD).
    pub fn has_blob(
        &self,
        repo: &str,
        digest: &Digest,
        scopes: &[String],
    ) -> Result<bool, RegistryError> {
        let url = self.url(&format!("{repo}/blobs/{digest}"));
        let resp = self.call(scopes, "HEAD", &url, &|agent, auth| {
            let mut r = agent.head(&url);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.call()
        })?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            // a HEAD has no body to say why: docker's words for the status
            status => Err(check_status(status, b"", &url, &[]).expect_err("no status expected")),
        }
    }

    /// POSTs to `/blobs/uploads/` (with `query`, e.g. a cross-repository mount): `None` when
    /// the registry mounted the blob (201), else the upload's location (202).
    pub fn start_upload(
        &self,
        repo: &str,
        query: &str,
        scopes: &[String],
    ) -> Result<Option<String>, RegistryError> {
        let url = self.url(&format!("{repo}/blobs/uploads/{query}"));
        let mut resp = self.call(scopes, "POST", &url, &|agent, auth| {
            let mut r = agent.post(&url).header("Content-Length", "0");
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.send_empty()
        })?;
        let status = resp.status().as_u16();
        let location = header(&resp, "location");
        let bytes = read_limited(&mut resp, 64 << 10).unwrap_or_default();
        check_status(status, &bytes, &url, &[201, 202])?;
        if status == 201 {
            return Ok(None);
        }
        location
            .map(|l| Some(self.absolute(&l)))
            .ok_or_else(|| RegistryError::Transport(format!("POST {url}: no Location")))
    }

    /// Sends one request of an upload (PATCH of a chunk, PUT of the end) whose body is `body`;
    /// returns the next location.
    pub fn upload_request(
        &self,
        scopes: &[String],
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &mut dyn FnMut(
            ureq::RequestBuilder<ureq::typestate::WithBody>,
        ) -> Result<Response<Body>, ureq::Error>,
        expect: &[u16],
    ) -> Result<Option<String>, RegistryError> {
        // the upload was authorised by its POST: the token is cached
        let auth = self.authorization(scopes, false)?;
        let mut r = match method {
            "PATCH" => self.agent.patch(url),
            _ => self.agent.put(url),
        };
        for (k, v) in headers {
            r = r.header(*k, v);
        }
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        let mut resp = body(r).map_err(transport(method, url))?;
        let status = resp.status().as_u16();
        let location = header(&resp, "location").map(|l| self.absolute(&l));
        let bytes = read_limited(&mut resp, 64 << 10).unwrap_or_default();
        check_status(status, &bytes, url, expect)?;
        Ok(location)
    }

    /// PUTs a manifest under a tag or digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        scopes: &[String],
    ) -> Result<(), RegistryError> {
        let url = self.url(&format!("{repo}/manifests/{reference}"));
        let mut resp = self.call(scopes, "PUT", &url, &|agent, auth| {
            let mut r = agent.put(&url).header("Content-Type", media_type);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.send(bytes)
        })?;
        let status = resp.status().as_u16();
        let body = read_limited(&mut resp, 64 << 10).unwrap_or_default();
        check_status(status, &body, &url, &[200, 201, 202])
    }
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn challenge_of(resp: &Response<Body>) -> Option<Challenge> {
    let header = header(resp, "www-authenticate")?;
    let mut all = parse_challenges(&header);
    // prefer Bearer when a registry offers both
    all.sort_by_key(|c| c.scheme != Scheme::Bearer);
    all.into_iter().next()
}

/// Reads a small body (manifests, error texts), at most `limit` bytes.
fn read_limited(resp: &mut Response<Body>, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `Ok` for an expected status, else the registry's error in docker's words.
fn check_status(status: u16, body: &[u8], url: &str, expect: &[u16]) -> Result<(), RegistryError> {
    if expect.contains(&status) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(body);
    let message = error_text(&text).unwrap_or_else(|| match status {
        401 => "unauthorized: authentication required".into(),
        403 => "denied: requested access to the resource is denied".into(),
        404 => "not found".into(),
        _ => format!("unexpected status {status} from {url}"),
    });
    Err(RegistryError::Status { status, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "registry-1.docker.io",
            "10.0.0.1:5000",
            "example.com:443",
            "localhostx",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn a_registrys_own_authorities_come_from_certs_d() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certs.d/r.example:5000");
        std::fs::create_dir_all(&dir).unwrap();
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args([
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=layerbox test CA",
                "-keyout",
            ])
            .arg(tmp.path().join("ca.key"))
            .arg("-out")
            .arg(dir.join("ca.crt"))
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(made.success());
        std::fs::write(dir.join("notes.txt"), "not a certificate").unwrap();
        let dirs = [tmp.path().join("certs.d"), tmp.path().join("missing")];
        assert_eq!(registry_cas(&dirs, "r.example:5000").unwrap().len(), 1);
        assert!(registry_cas(&dirs, "other:5000").unwrap().is_empty());
    }

    #[test]
    fn an_unreachable_registry_is_reported_as_docker_does() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // nothing listens there any more; loopback: HTTPS is tried, then HTTP
        let err = Registry::connect(&format!("127.0.0.1:{port}"), &Settings::default(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("Get \"http://127.0.0.1:{port}/v2/\": ")),
            "{err}"
        );
        assert!(err.contains("onnection refused"), "{err}");
    }

    #[test]
    fn hub_is_served_from_registry_1() {
        assert_eq!(registry_host("docker.io"), "registry-1.docker.io");
        assert_eq!(registry_host("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn registry_errors_read_as_docker_prints_them() {
        assert_eq!(
            error_text(r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#)
                .unwrap(),
            "manifest unknown: manifest unknown"
        );
        assert_eq!(error_text("<html>"), None);
        assert_eq!(
            query_escape("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
