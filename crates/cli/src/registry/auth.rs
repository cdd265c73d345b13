//! Registry authentication: the `WWW-Authenticate` challenges a registry answers with, and the
//! credentials `layerbox login` keeps (in layerbox's config dir, mode 0600) or that docker's
//! `~/.docker/config.json` holds, both as docker writes them: `{"auths": {SERVER: {"auth":
//! base64("user:password")}}}`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The key docker's config uses for Docker Hub.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// An authentication scheme a registry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// A token from the `realm` token server (Docker Hub, most registries).
    Bearer,
    /// `Authorization: Basic` with the credentials themselves.
    Basic,
}

/// One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme.
    pub scheme: Scheme,
    /// Its parameters, names lowercased.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// The challenges of a `WWW-Authenticate` header value; schemes other than Bearer and Basic are
/// skipped.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let end = rest.find([' ', ',']).unwrap_or(rest.len());
        let scheme = &rest[..end];
        rest = rest[end..].trim_start_matches([' ', ',']);
        let mut params = BTreeMap::new();
        // parameters: name=value or name="quoted, value", separated by commas
        while let Some(eq) = rest.find('=') {
            let name = &rest[..eq];
            if name.contains([' ', ',']) || name.is_empty() {
                break; // the next scheme
            }
            let after = &rest[eq + 1..];
            let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, n)) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &quoted[end..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            };
            params.insert(name.trim().to_ascii_lowercase(), value);
            rest = remainder.trim_start_matches([' ', ',']);
        }
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Some(Scheme::Bearer),
            "basic" => Some(Scheme::Basic),
            _ => None,
        };
        if let Some(scheme) = scheme {
            out.push(Challenge { scheme, params });
        }
    }
    out
}

/// A user name and password (or access token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or personal access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// `base64("user:password")`, the `auth` field of docker's config and Basic's token.
    pub fn encode(&self) -> String {
        STANDARD.encode(format!("{}:{}", self.username, self.password))
    }

    /// The credentials in an `auth` field.
    pub fn decode(auth: &str) -> Option<Self> {
        let bytes = STANDARD.decode(auth.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (username, password) = text.split_once(':')?;
        Some(Self {
            username: username.to_owned(),
            password: password.trim_end_matches('\0').to_owned(),
        })
    }
}

/// The key a registry's credentials are kept under: docker's Hub URL for `docker.io`, else the
/// host (and port) alone.
pub fn server_key(domain: &str) -> String {
    let host = domain
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    if matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | ""
    ) {
        DOCKER_HUB_KEY.to_owned()
    } else {
        host.to_owned()
    }
}

/// Where credentials are read and written.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    /// layerbox's own `config.json` (written by `login`).
    pub layerbox: PathBuf,
    /// docker's `config.json` (only read).
    pub docker: Option<PathBuf>,
}

impl CredentialStore {
    /// The files of this user: `$LAYERBOX_CONFIG` (else `$XDG_CONFIG_HOME/layerbox`, else
    /// `~/.config/layerbox`) and `$DOCKER_CONFIG` (else `~/.docker`), each `/config.json`.
    pub fn for_user() -> Self {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = env("HOME").unwrap_or_else(|| PathBuf::from("/root"));
        let layerbox = env("LAYERBOX_CONFIG")
            .or_else(|| env("XDG_CONFIG_HOME").map(|d| d.join("layerbox")))
            .unwrap_or_else(|| home.join(".config/layerbox"));
        let docker = env("DOCKER_CONFIG").unwrap_or_else(|| home.join(".docker"));
        Self {
            layerbox: layerbox.join("config.json"),
            docker: Some(docker.join("config.json")),
        }
    }

    /// The credentials for `server` (a [`server_key`]): layerbox's first, then docker's.
    pub fn lookup(&self, server: &str) -> Option<Credentials> {
        std::iter::once(&self.layerbox)
            .chain(self.docker.as_ref())
            .find_map(|path| lookup_in(path, server))
    }

    /// Stores credentials in layerbox's config (created with mode 0600).
    pub fn store(&self, server: &str, creds: &Credentials) -> std::io::Result<()> {
        let mut config = read_config(&self.layerbox)?;
        auths(&mut config).insert(
            server.to_owned(),
            serde_json::json!({ "auth": creds.encode() }),
        );
        write_config(&self.layerbox, &config)
    }

    /// Removes the credentials of `server` from layerbox's config; whether there were any.
    pub fn erase(&self, server: &str) -> std::io::Result<bool> {
        let mut config = read_config(&self.layerbox)?;
        let removed = auths(&mut config).remove(server).is_some();
        if removed {
            write_config(&self.layerbox, &config)?;
        }
        Ok(removed)
    }
}

fn lookup_in(path: &Path, server: &str) -> Option<Credentials> {
    let config = read_config(path).ok()?;
    let auths = config.get("auths")?.as_object()?;
    auths.iter().find_map(|(key, entry)| {
        (server_key(key) == server)
            .then(|| entry.get("auth")?.as_str().and_then(Credentials::decode))
            .flatten()
    })
}

fn read_config(path: &Path) -> std::io::Result<serde_json::Value> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            std::io::Error::other(format!("{}: invalid config file: {e}", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(e),
    }
}

fn auths(config: &mut serde_json::Value) -> &mut serde_json::Map<String, serde_json::Value> {
    if !config.is_object() {
        *config = serde_json::json!({});
    }
    let object = config.as_object_mut().expect("an object");
    let auths = object
        .entry("auths")
        .or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths.as_object_mut().expect("an object")
}

/// Writes the config with mode 0600, created beside and renamed in (never readable by others,
/// not even for a moment).
fn write_config(path: &Path, config: &serde_json::Value) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".config.json.{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut bytes = serde_json::to_vec_pretty(config).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hubs_challenge_parses() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, Scheme::Bearer);
        assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].param("service"), Some("registry.docker.io"));
        assert_eq!(c[0].param("scope"), Some("repository:library/busybox:pull"));
    }

    #[test]
    fn several_challenges_and_quoted_commas() {
        let c =
            parse_challenges(r#"Basic realm="a, \"b\"", Bearer realm=https://t/token,service=x"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, Scheme::Basic);
        assert_eq!(c[0].param("realm"), Some("a, \"b\""));
        assert_eq!(c[1].scheme, Scheme::Bearer);
        assert_eq!(c[1].param("realm"), Some("https://t/token"));
        assert_eq!(c[1].param("service"), Some("x"));
        assert!(parse_challenges("Negotiate abc").is_empty());
    }

    #[test]
    fn server_keys_are_dockers() {
        assert_eq!(server_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(server_key(DOCKER_HUB_KEY), DOCKER_HUB_KEY);
        assert_eq!(server_key("localhost:5000"), "localhost:5000");
        assert_eq!(server_key("https://r.example:443/v2/"), "r.example:443");
    }

    #[test]
    fn login_writes_0600_and_docker_config_is_read_too() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let docker = tmp.path().join("docker/config.json");
        std::fs::create_dir_all(docker.parent().unwrap()).unwrap();
        std::fs::write(
            &docker,
            // "bob:s3cret:x" (a colon in the password)
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"Ym9iOnMzY3JldDp4"}}}"#,
        )
        .unwrap();
        let store = CredentialStore {
            layerbox: tmp.path().join("lb/config.json"),
            docker: Some(docker),
        };
        let bob = store.lookup(DOCKER_HUB_KEY).unwrap();
        assert_eq!(bob.username, "bob");
        assert_eq!(bob.password, "s3cret:x");
        assert!(store.lookup("localhost:5000").is_none());
        let alice = Credentials {
            username: "alice".into(),
            password: "pw".into(),
        };
        store.store("localhost:5000", &alice).unwrap();
        store.store(DOCKER_HUB_KEY, &alice).unwrap();
        let mode = std::fs::metadata(&store.layerbox)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(store.lookup("localhost:5000"), Some(alice.clone()));
        // layerbox's own login wins over docker's
        assert_eq!(store.lookup(DOCKER_HUB_KEY), Some(alice));
        assert!(store.erase("localhost:5000").unwrap());
        assert!(!store.erase("localhost:5000").unwrap());
        assert!(store.lookup("localhost:5000").is_none());
        assert_eq!(store.lookup(DOCKER_HUB_KEY).unwrap().username, "alice");
    }
}
