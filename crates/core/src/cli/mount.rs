//! `--mount type=volume,source=NAME,target=/path[,readonly][,volume-nocopy]`: docker's CLI
//! reading of a mount (`opts.MountOpt`): comma-separated `key=value` fields, `readonly`/`ro`
//! and `volume-nocopy` alone meaning true, with its errors. The daemon's checks (the type, a
//! relative target, a bind's missing source) come later, in the engine.

use serde::{Deserialize, Serialize};

/// One `--mount` value as docker's CLI reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountFlag {
    /// `type`: `volume` (the default), `bind` or `tmpfs` (anything else reaches the daemon).
    pub kind: String,
    /// `source`/`src`: a volume's name or a host path; empty if not given.
    pub source: String,
    /// `target`/`destination`/`dst`.
    pub target: String,
    /// `readonly`/`ro`.
    pub readonly: bool,
    /// `volume-nocopy`.
    pub nocopy: bool,
}

/// Go's `strconv.ParseBool`.
fn go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parses one `--mount` value; the error is what follows `invalid argument "…" for "--mount"
/// flag: ` in docker's message.
pub fn parse_mount(value: &str) -> Result<MountFlag, String> {
    let mut m = MountFlag {
        kind: "volume".into(),
        ..MountFlag::default()
    };
    for field in value.split(',') {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v)),
            None => (field.to_ascii_lowercase(), None),
        };
        let flag = |v: Option<&str>| -> Result<bool, String> {
            match v {
                None => Ok(true),
                Some(v) => go_bool(v).ok_or_else(|| format!("invalid value for {key}: {v}")),
            }
        };
        match key.as_str() {
            "readonly" | "ro" => m.readonly = flag(val)?,
            "volume-nocopy" => m.nocopy = flag(val)?,
            _ if val.is_none() => {
                return Err(format!("invalid field '{field}' must be a key=value pair"));
            }
            "type" => m.kind = val.unwrap_or_default().to_ascii_lowercase(),
            "source" | "src" => val.unwrap_or_default().clone_into(&mut m.source),
            "target" | "dst" | "destination" => val.unwrap_or_default().clone_into(&mut m.target),
            "consistency" | "bind-propagation" | "bind-nonrecursive" | "volume-driver"
            | "volume-label" | "volume-opt" | "tmpfs-size" | "tmpfs-mode" => {}
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if m.target.is_empty() {
        return Err("target is required".into());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_as_dockers_cli_reads_them() {
        let m = parse_mount("source=mv,target=/data,readonly").unwrap();
        assert_eq!(
            (m.kind.as_str(), m.source.as_str(), m.target.as_str()),
            ("volume", "mv", "/data")
        );
        assert!(m.readonly && !m.nocopy);
        let m = parse_mount("type=bind,src=/tmp,dst=/b,ro=true").unwrap();
        assert_eq!((m.kind.as_str(), m.readonly), ("bind", true));
        assert!(
            parse_mount("type=volume,src=mv,dst=/d,volume-nocopy")
                .unwrap()
                .nocopy
        );
        assert_eq!(parse_mount("source=mv").unwrap_err(), "target is required");
        assert_eq!(
            parse_mount("target=/x,bogus=1").unwrap_err(),
            "unexpected key 'bogus' in 'bogus=1'"
        );
        assert_eq!(
            parse_mount("target=/x,oops").unwrap_err(),
            "invalid field 'oops' must be a key=value pair"
        );
    }
}
