//! Image references (`name[:tag][@digest]`), parsed and normalised as docker's
//! `reference.ParseNormalizedNamed` does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Digest, DigestError};

/// The registry that a reference without one names.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The tag that a reference without tag or digest gets when it is pulled or run.
pub const DEFAULT_TAG: &str = "latest";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an image reference, in docker's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The string does not match the reference grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// The repository part has upper-case letters.
    #[error("invalid reference format: repository name must be lowercase")]
    NameContainsUppercase,
    /// A bare 64-hex-digit string, which would be taken for an image ID.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexRepositoryName(String),
    /// Domain and path are longer than docker allows.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// The part after `@` is not a valid digest.
    #[error(transparent)]
    Digest(#[from] DigestError),
}

/// A normalised image reference: registry domain, repository path, optional tag and digest.
///
/// ```
/// use layerbox_core::image::Reference;
/// let r: Reference = "python:3.9-slim".parse().unwrap();
/// assert_eq!(r.to_string(), "docker.io/library/python:3.9-slim");
/// assert_eq!(r.familiar(), "python:3.9-slim");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises like `docker pull NAME` (`ubuntu` → `docker.io/library/ubuntu`).
    pub fn parse_normalized(s: &str) -> Result<Self, ReferenceError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ReferenceError::HexRepositoryName(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder
            .split_once(':')
            .map_or(remainder.as_str(), |(n, _)| n);
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::NameContainsUppercase);
        }
        parse_full(&domain, &remainder)
    }

    /// The registry domain (`docker.io`, `localhost:5000`, ...).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry (`library/python`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name, `domain/path`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same reference with `latest` as tag when it has neither tag nor digest
    /// (docker's `TagNameOnly`).
    #[must_use]
    pub fn with_default_tag(mut self) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// The same repository with another tag and no digest.
    #[must_use]
    pub fn with_tag(&self, tag: &str) -> Option<Self> {
        is_tag(tag).then(|| Self {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// The repository name as docker shows it (`python`, `user/app`, `localhost:5000/x`).
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(short) if !short.contains('/') => short.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The whole reference as docker shows it (`python:3.9-slim`).
    pub fn familiar(&self) -> String {
        let mut out = self.familiar_name();
        self.push_tag_and_digest(&mut out);
        out
    }

    fn push_tag_and_digest(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(&digest.to_string());
        }
    }
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.find('/') {
        Some(i)
            if name[..i].contains(['.', ':'])
                || &name[..i] == "localhost"
                || name[..i].to_lowercase() != name[..i] =>
        {
            (name[..i].to_owned(), name[i + 1..].to_owned())
        }
        _ => (DEFAULT_DOMAIN.to_owned(), name.to_owned()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN.clone_into(&mut domain);
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder.insert_str(0, OFFICIAL_REPO_PREFIX);
    }
    (domain, remainder)
}

/// Matches `remainder` (path, tag, digest) under `domain` against docker's reference grammar.
fn parse_full(domain: &str, remainder: &str) -> Result<Reference, ReferenceError> {
    let (name_and_tag, digest) = match remainder.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (remainder, None),
    };
    let (path, tag) = match name_and_tag.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, Some(t)),
        _ => (name_and_tag, None),
    };
    let grammatical = is_domain(domain)
        && !path.is_empty()
        && path.split('/').all(is_path_component)
        && tag.is_none_or(is_tag)
        && digest.is_none_or(is_digest_pattern);
    if !grammatical {
        let lower = remainder.to_lowercase();
        if lower != remainder && parse_full(&domain.to_lowercase(), &lower).is_ok() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    }
    if domain.len() + 1 + path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    Ok(Reference {
        domain: domain.to_owned(),
        path: path.to_owned(),
        tag: tag.map(str::to_owned),
        digest: digest.map(str::parse).transpose()?,
    })
}

fn count_while(b: &[u8], f: impl Fn(u8) -> bool) -> usize {
    b.iter().take_while(|&&c| f(c)).count()
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = count_while(b, is_lower_alnum);
    if i == 0 {
        return false;
    }
    while i < b.len() {
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => i += count_while(&b[i..], |c| c == b'-'),
            _ => return false,
        }
        let n = count_while(&b[i..], is_lower_alnum);
        if n == 0 {
            return false;
        }
        i += n;
    }
    true
}

/// `host(:port)?` where host is dot-separated labels or a bracketed IPv6 address.
fn is_domain(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.is_empty() || !addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => ("", Some(port)),
            None if after.is_empty() => ("", None),
            None => return false,
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host_ok = s.starts_with('[')
        || host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        });
    host_ok && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest_pattern(s: &str) -> bool {
    let Some((algorithm, hex_part)) = s.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    algorithm_ok && hex_part.len() >= 32 && hex_part.bytes().all(|c| c.is_ascii_hexdigit())
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_tag_and_digest(&mut out);
        f.write_str(&out)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_normalized(s)
    }
}

impl TryFrom<String> for Reference {
    type Error = ReferenceError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Reference> for String {
    fn from(r: Reference) -> Self {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        s.parse::<Reference>()
            .map_or_else(|e| format!("error: {e}"), |r| r.to_string())
    }

    #[test]
    fn normalises_like_docker() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let cases = [
            (
                "python:3.9-slim",
                "docker.io/library/python:3.9-slim".to_owned(),
            ),
            ("ubuntu", "docker.io/library/ubuntu".to_owned()),
            ("user/app:v1", "docker.io/user/app:v1".to_owned()),
            (
                "index.docker.io/library/x",
                "docker.io/library/x".to_owned(),
            ),
            ("docker.io/x", "docker.io/library/x".to_owned()),
            ("localhost:5000/x", "localhost:5000/x".to_owned()),
            ("localhost/x:1", "localhost/x:1".to_owned()),
            ("ghcr.io/a/b/c:t", "ghcr.io/a/b/c:t".to_owned()),
            ("[::1]:5000/x", "[::1]:5000/x".to_owned()),
            ("Foo/bar", "Foo/bar".to_owned()),
            ("a__b.c-d---e", "docker.io/library/a__b.c-d---e".to_owned()),
            (
                &format!("busybox@{d}"),
                format!("docker.io/library/busybox@{d}"),
            ),
            (
                &format!("busybox:1@{d}"),
                format!("docker.io/library/busybox:1@{d}"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(norm(input), want, "{input}");
        }
    }

    #[test]
    fn rejects_with_dockers_words() {
        let hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let cases = [
            (
                "Python",
                "error: invalid reference format: repository name must be lowercase",
            ),
            (
                "user/App:1",
                "error: invalid reference format: repository name must be lowercase",
            ),
            ("", "error: invalid reference format"),
            ("a:", "error: invalid reference format"),
            ("a::b", "error: invalid reference format"),
            ("-a", "error: invalid reference format"),
            ("a_-b", "error: invalid reference format"),
            ("a/", "error: invalid reference format"),
            ("a:-tag", "error: invalid reference format"),
            ("a@sha256:xyz", "error: invalid reference format"),
            (
                "a@sha256:0123456789abcdef0123456789abcdef",
                "error: invalid checksum digest length",
            ),
            ("a:b c", "error: invalid reference format"),
        ];
        for (input, want) in cases {
            assert_eq!(norm(input), want, "{input:?}");
        }
        assert_eq!(
            norm(hex64),
            format!(
                "error: invalid repository name ({hex64}), cannot specify 64-byte hexadecimal strings"
            )
        );
        let long = format!("x/{}", "a".repeat(260));
        assert_eq!(
            norm(&long),
            "error: repository name must not be more than 255 characters"
        );
    }

    #[test]
    fn familiar_forms_and_default_tag() {
        let r: Reference = "python".parse().unwrap();
        assert_eq!(r.tag(), None);
        let r = r.with_default_tag();
        assert_eq!(r.to_string(), "docker.io/library/python:latest");
        assert_eq!(r.familiar(), "python:latest");
        assert_eq!(r.familiar_name(), "python");
        let r: Reference = "user/app".parse().unwrap();
        assert_eq!(r.familiar_name(), "user/app");
        let r: Reference = "localhost:5000/x:1".parse().unwrap();
        assert_eq!(r.familiar(), "localhost:5000/x:1");
        assert_eq!(r.domain(), "localhost:5000");
        assert_eq!(r.path(), "x");
        assert_eq!(r.with_tag("2").unwrap().familiar(), "localhost:5000/x:2");
        assert!(r.with_tag("-bad").is_none());
    }

    #[test]
    fn serde_is_the_normalised_string() {
        let r: Reference = "alpine:3".parse().unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"docker.io/library/alpine:3\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    }
}
