//! `RUN --mount=…` specifications (spec §13.9).
//!
//! The parser only checks that `from` is literal; the rest is evaluated once the value has been
//! expanded with the build environment, as BuildKit does. [`Mount::parse`] does that evaluation.
//!
//! ```
//! use layerbox_core::dockerfile::instructions::mount::{Mount, MountType};
//!
//! let m = Mount::parse("type=cache,target=/root/.cache", &mut |s| Ok(s.to_string())).unwrap();
//! assert_eq!(m.kind, MountType::Cache);
//! assert!(!m.read_only);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::suggest::{did_you_mean, search};
use crate::dockerfile::expand::ExpandError;
use crate::dockerfile::quote::go_quote;

/// The kind of a RUN mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A read-only view of the context, a stage or an image.
    Bind,
    /// A persistent cache directory shared between builds.
    Cache,
    /// An empty in-memory filesystem.
    Tmpfs,
    /// A secret file (or environment variable).
    Secret,
    /// An SSH agent socket.
    Ssh,
}

impl MountType {
    const ALL: [&'static str; 5] = ["bind", "cache", "tmpfs", "secret", "ssh"];

    /// The name as written in Dockerfiles.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

/// Cache mount sharing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareMode {
    /// Concurrent builds share the cache (default).
    Shared,
    /// Each concurrent build gets its own copy.
    Private,
    /// Builds wait for each other.
    Locked,
}

/// A parsed `--mount` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// `type=` (bind by default).
    pub kind: MountType,
    /// `from=`: stage, image or context.
    pub from: String,
    /// `source=` / `src=`.
    pub source: String,
    /// `target=` / `dst=` / `destination=`.
    pub target: String,
    /// Read-only (defaults: bind/secret/ssh read-only, cache/tmpfs writable).
    pub read_only: bool,
    /// `id=`.
    pub cache_id: String,
    /// `sharing=` (cache only).
    pub sharing: Option<ShareMode>,
    /// `required` (secret/ssh).
    pub required: bool,
    /// `size=` in bytes (tmpfs).
    pub size_limit: Option<i64>,
    /// `mode=` (octal).
    pub mode: Option<u32>,
    /// `uid=`.
    pub uid: Option<u32>,
    /// `gid=`.
    pub gid: Option<u32>,
    /// `env=`: expose a secret as this environment variable.
    pub env: Option<String>,
}

/// Why a mount specification was rejected (BuildKit's messages).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum MountError {
    /// `from=$X` at parse time.
    #[error("'from' doesn't support variable expansion, define alias stage instead")]
    FromVariable,
    /// A CSV syntax error.
    #[error("failed to parse csv mounts: {0}")]
    Csv(String),
    /// Any other rejection, with BuildKit's exact text.
    #[error("{0}")]
    Invalid(String),
    /// Expanding a value failed.
    #[error(transparent)]
    Expand(Box<ExpandError>),
}

impl From<ExpandError> for MountError {
    fn from(e: ExpandError) -> Self {
        MountError::Expand(Box::new(e))
    }
}

/// Splits one CSV record (Go's `encoding/csv` rules for a single line).
pub fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("extraneous or missing \" in quoted-field".to_string()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err("extraneous or missing \" in quoted-field".to_string()),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err("bare \" in non-quoted-field".to_string()),
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Docker's `units.RAMInBytes`: `64m`, `1.5g`, `512k`, `1024` (binary multiples).
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, rest) = s.split_at(num_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let mut r = rest.as_str();
    let mult: f64 = match r.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            r = &r[1..];
            let pow = "kmgtp".find(c).unwrap_or(0) + 1;
            1024f64.powi(i32::try_from(pow).unwrap_or(1))
        }
        _ => 1.0,
    };
    let r = r.strip_prefix('i').unwrap_or(r);
    let r = r.strip_prefix('b').unwrap_or(r);
    if !r.is_empty() {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)] // sizes are far below i64::MAX
    Some((value * mult) as i64)
}

fn unexpected_for_type(key: &str, kind: MountType) -> MountError {
    MountError::Invalid(format!(
        "unexpected key '{key}' for mount type '{}'",
        kind.as_str()
    ))
}

impl Mount {
    /// Checks a mount value at parse time: only `from` must be literal (BuildKit defers the rest).
    pub fn check_literal_from(spec: &str) -> Result<(), MountError> {
        let fields = csv_fields(spec).map_err(MountError::Csv)?;
        for field in fields {
            if let Some((key, value)) = field.split_once('=')
                && key.eq_ignore_ascii_case("from")
                && value.find('$').is_some_and(|i| i != value.len() - 1)
            {
                return Err(MountError::FromVariable);
            }
        }
        Ok(())
    }

    /// Parses a mount value, expanding each field value with `expand` (the build environment).
    pub fn parse(
        spec: &str,
        expand: &mut dyn FnMut(&str) -> Result<String, ExpandError>,
    ) -> Result<Mount, MountError> {
        let fields = csv_fields(spec).map_err(MountError::Csv)?;
        let mut m = Mount {
            kind: MountType::Bind,
            from: String::new(),
            source: String::new(),
            target: String::new(),
            read_only: false,
            cache_id: String::new(),
            sharing: None,
            required: false,
            size_limit: None,
            mode: None,
            uid: None,
            gid: None,
            env: None,
        };
        let mut ro_auto = true;
        for field in &fields {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k.to_lowercase(), Some(v)),
                None => (field.to_lowercase(), None),
            };
            let Some(value) = value else {
                match key.as_str() {
                    "readonly" | "ro" => {
                        m.read_only = true;
                        ro_auto = false;
                    }
                    "readwrite" | "rw" => {
                        m.read_only = false;
                        ro_auto = false;
                    }
                    "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                        m.required = true;
                    }
                    "required" => return Err(unexpected_for_type(&key, m.kind)),
                    _ => {
                        return Err(MountError::Invalid(format!(
                            "invalid field '{field}' must be a key=value pair"
                        )));
                    }
                }
                continue;
            };
            let value = expand(value)?;
            let invalid_value = || MountError::Invalid(format!("invalid value for {key}: {value}"));
            match key.as_str() {
                "type" => {
                    m.kind = match value.to_lowercase().as_str() {
                        "bind" => MountType::Bind,
                        "cache" => MountType::Cache,
                        "tmpfs" => MountType::Tmpfs,
                        "secret" => MountType::Secret,
                        "ssh" => MountType::Ssh,
                        _ => {
                            let s = search(&value, &MountType::ALL, true);
                            return Err(MountError::Invalid(format!(
                                "unsupported mount type {}{}",
                                go_quote(&value),
                                did_you_mean(s.as_deref())
                            )));
                        }
                    }
                }
                "from" => m.from = value,
                "source" | "src" => m.source = value,
                "target" | "dst" | "destination" => m.target = value,
                "readonly" | "ro" => {
                    m.read_only = parse_bool(&value).ok_or_else(invalid_value)?;
                    ro_auto = false;
                }
                "readwrite" | "rw" => {
                    m.read_only = !parse_bool(&value).ok_or_else(invalid_value)?;
                    ro_auto = false;
                }
                "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                    m.required = parse_bool(&value).ok_or_else(invalid_value)?;
                }
                "size" if m.kind == MountType::Tmpfs => {
                    m.size_limit = Some(ram_in_bytes(&value).ok_or_else(invalid_value)?);
                }
                "required" | "size" => return Err(unexpected_for_type(&key, m.kind)),
                "id" => m.cache_id = value,
                "sharing" => {
                    m.sharing = Some(match value.to_lowercase().as_str() {
                        "shared" => ShareMode::Shared,
                        "private" => ShareMode::Private,
                        "locked" => ShareMode::Locked,
                        _ => {
                            return Err(MountError::Invalid(format!(
                                "unsupported sharing value {}",
                                go_quote(&value)
                            )));
                        }
                    });
                }
                "mode" => {
                    let v = u32::from_str_radix(&value, 8).map_err(|_| {
                        MountError::Invalid(format!("invalid value {value} for mode"))
                    })?;
                    m.mode = Some(v);
                }
                "uid" | "gid" => {
                    let v: u32 = value.parse().map_err(|_| {
                        MountError::Invalid(format!("invalid value {value} for {key}"))
                    })?;
                    if key == "uid" {
                        m.uid = Some(v);
                    } else {
                        m.gid = Some(v);
                    }
                }
                "env" => m.env = Some(value),
                _ => {
                    const KEYS: [&str; 19] = [
                        "type",
                        "from",
                        "source",
                        "target",
                        "readonly",
                        "id",
                        "sharing",
                        "required",
                        "size",
                        "mode",
                        "uid",
                        "gid",
                        "src",
                        "dst",
                        "destination",
                        "ro",
                        "rw",
                        "readwrite",
                        "env",
                    ];
                    let s = search(&key, &KEYS, true);
                    return Err(MountError::Invalid(format!(
                        "unexpected key '{key}' in '{field}'{}",
                        did_you_mean(s.as_deref())
                    )));
                }
            }
        }
        m.validate(ro_auto)?;
        Ok(m)
    }

    fn validate(&mut self, ro_auto: bool) -> Result<(), MountError> {
        let kind = self.kind;
        if !matches!(kind, MountType::Cache | MountType::Secret | MountType::Ssh) {
            for (name, set) in [
                ("mode", self.mode.is_some()),
                ("uid", self.uid.is_some()),
                ("gid", self.gid.is_some()),
            ] {
                if set {
                    return Err(MountError::Invalid(format!(
                        "{name} not allowed for {} type mounts",
                        go_quote(kind.as_str())
                    )));
                }
            }
        }
        if ro_auto {
            self.read_only = !matches!(kind, MountType::Cache | MountType::Tmpfs);
        }
        if self.sharing.is_some() && kind != MountType::Cache {
            if kind == MountType::Secret {
                return Err(MountError::Invalid(
                    "secret mount should not define sharing".to_string(),
                ));
            }
            return Err(MountError::Invalid(format!(
                "invalid cache sharing set for {} mount",
                kind.as_str()
            )));
        }
        if kind == MountType::Secret {
            if !self.from.is_empty() {
                return Err(MountError::Invalid(
                    "secret mount should not have a from".to_string(),
                ));
            }
            if self.source.is_empty() && self.target.is_empty() && self.cache_id.is_empty() {
                return Err(MountError::Invalid(
                    "invalid secret mount. one of source, target required".to_string(),
                ));
            }
            if !self.source.is_empty() && !self.cache_id.is_empty() {
                return Err(MountError::Invalid(
                    "both source and id can't be set".to_string(),
                ));
            }
        }
        if kind == MountType::Ssh && !self.source.is_empty() {
            return Err(MountError::Invalid(
                "ssh does not support source".to_string(),
            ));
        }
        if self.target == "/" {
            return Err(MountError::Invalid(
                "invalid mount target \"/\"".to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Mount, MountError> {
        Mount::parse(s, &mut |v| Ok(v.to_string()))
    }

    #[test]
    fn mounts() {
        let m = parse("type=secret,id=npm,target=/root/.npmrc,required").unwrap();
        assert!(m.read_only && m.required);
        assert_eq!(
            parse("type=tmpfs,size=64m").unwrap().size_limit,
            Some(64 << 20)
        );
        assert_eq!(
            parse("type=tmpf").unwrap_err().to_string(),
            "unsupported mount type \"tmpf\" (did you mean tmpfs?)"
        );
        assert_eq!(
            parse("tpe=cache").unwrap_err().to_string(),
            "unexpected key 'tpe' in 'tpe=cache' (did you mean type?)"
        );
        assert_eq!(
            parse("type=bind,mode=0755").unwrap_err().to_string(),
            "mode not allowed for \"bind\" type mounts"
        );
        assert_eq!(
            parse("type=cache,sharing=x").unwrap_err().to_string(),
            "unsupported sharing value \"x\""
        );
        assert_eq!(
            parse("foo").unwrap_err().to_string(),
            "invalid field 'foo' must be a key=value pair"
        );
        assert_eq!(csv_fields("a=1,\"b=x,y\"").unwrap(), ["a=1", "b=x,y"]);
        assert!(Mount::check_literal_from("from=$X,target=/a").is_err());
        assert!(Mount::check_literal_from("from=a$,target=/a").is_ok());
    }
}
