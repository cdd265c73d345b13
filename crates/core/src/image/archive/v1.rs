//! The legacy (v1) part of a docker-archive: one directory per layer named by a v1 ID, holding
//! `VERSION`, `json` and `layer.tar`. docker 20.10 computes those IDs from Go's JSON encoding
//! of a `V1Image` (`image/v1.CreateID`), so they are reproduced here byte for byte: Go's field
//! order, its `omitempty` rules, sorted map keys and its escaping of `<`, `>` and `&`.
//!
//! Only pre-1.10 docker reads these files; `docker load` uses `manifest.json`. They are written
//! so that an archive lays out as docker's does, to the names.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::image::Digest;

/// A JSON string as Go's `encoding/json` (before Go 1.22) writes it.
pub(crate) fn go_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as Go writes it when it decoded it into an `interface{}`-free struct field of
/// the same shape: objects with sorted keys, strings escaped the Go way.
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_string(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", inner.join(","))
        }
        Value::Object(map) => {
            // serde_json's map without `preserve_order` is sorted, as Go sorts map keys
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", go_string(k), go_value(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
    }
}

/// A JSON object written field by field in a Go struct's order.
#[derive(Default)]
struct GoObject(Vec<(&'static str, String)>);

impl GoObject {
    fn field(&mut self, name: &'static str, json: String) {
        self.0.push((name, json));
    }

    fn finish(&self) -> String {
        let inner: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}:{v}", go_string(k)))
            .collect();
        format!("{{{}}}", inner.join(","))
    }
}

fn string_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

/// A `[]string` or `strslice.StrSlice` (which also accepts a single string): `null` when nil.
fn string_list(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Array(items)) => Some(format!(
            "[{}]",
            items
                .iter()
                .map(|i| go_string(i.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        )),
        Some(Value::String(s)) => Some(format!("[{}]", go_string(s))),
        _ => None,
    }
}

/// A Go map: `null` when nil.
fn map_of(v: Option<&Value>) -> Option<String> {
    match v {
        Some(m @ Value::Object(_)) => Some(go_value(m)),
        _ => None,
    }
}

fn nonempty_map(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Object(m)) if !m.is_empty() => map_of(v),
        _ => None,
    }
}

/// docker 20.10's `container.Config` as Go encodes it, from its JSON (`None`: a zero value).
fn container_config(c: Option<&Map<String, Value>>) -> String {
    let empty = Map::new();
    let c = c.unwrap_or(&empty);
    let null = || "null".to_owned();
    let mut o = GoObject::default();
    o.field("Hostname", go_string(&string_of(c.get("Hostname"))));
    o.field("Domainname", go_string(&string_of(c.get("Domainname"))));
    o.field("User", go_string(&string_of(c.get("User"))));
    for f in ["AttachStdin", "AttachStdout", "AttachStderr"] {
        o.field(f, truthy(c.get(f)).to_string());
    }
    if let Some(ports) = nonempty_map(c.get("ExposedPorts")) {
        o.field("ExposedPorts", ports);
    }
    for f in ["Tty", "OpenStdin", "StdinOnce"] {
        o.field(f, truthy(c.get(f)).to_string());
    }
    o.field("Env", string_list(c.get("Env")).unwrap_or_else(null));
    o.field("Cmd", string_list(c.get("Cmd")).unwrap_or_else(null));
    if let Some(Value::Object(h)) = c.get("Healthcheck") {
        let mut hc = GoObject::default();
        if let Some(test) = string_list(h.get("Test")).filter(|t| t != "[]") {
            hc.field("Test", test);
        }
        for f in ["Interval", "Timeout", "StartPeriod", "Retries"] {
            if let Some(n) = h.get(f).and_then(Value::as_i64).filter(|n| *n != 0) {
                hc.field(f, n.to_string());
            }
        }
        o.field("Healthcheck", hc.finish());
    }
    if truthy(c.get("ArgsEscaped")) {
        o.field("ArgsEscaped", "true".to_owned());
    }
    o.field("Image", go_string(&string_of(c.get("Image"))));
    o.field("Volumes", map_of(c.get("Volumes")).unwrap_or_else(null));
    o.field("WorkingDir", go_string(&string_of(c.get("WorkingDir"))));
    o.field(
        "Entrypoint",
        string_list(c.get("Entrypoint")).unwrap_or_else(null),
    );
    if truthy(c.get("NetworkDisabled")) {
        o.field("NetworkDisabled", "true".to_owned());
    }
    let mac = string_of(c.get("MacAddress"));
    if !mac.is_empty() {
        o.field("MacAddress", go_string(&mac));
    }
    o.field(
        "OnBuild",
        string_list(c.get("OnBuild")).unwrap_or_else(null),
    );
    o.field("Labels", map_of(c.get("Labels")).unwrap_or_else(null));
    let signal = string_of(c.get("StopSignal"));
    if !signal.is_empty() {
        o.field("StopSignal", go_string(&signal));
    }
    if let Some(n) = c.get("StopTimeout").and_then(Value::as_i64) {
        o.field("StopTimeout", n.to_string());
    }
    if let Some(shell) = string_list(c.get("Shell")).filter(|s| s != "[]") {
        o.field("Shell", shell);
    }
    o.finish()
}

/// An RFC 3339 time as Go's `time.Time` writes it back: the fraction without trailing zeros,
/// `Z` for a zero offset. Text that is not such a time is kept as it is.
pub(crate) fn go_time(t: &str) -> String {
    let Some(base) = t.get(..19) else {
        return t.to_owned();
    };
    let rest = &t[19..];
    let (frac, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (r[..end].trim_end_matches('0'), &r[end..])
        }
        None => ("", rest),
    };
    let zone = match zone {
        "+00:00" | "-00:00" | "z" => "Z",
        z => z,
    };
    if frac.is_empty() {
        format!("{base}{zone}")
    } else {
        format!("{base}.{frac}{zone}")
    }
}

/// Go's `time.Time{}`: what a missing `created` decodes to.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";
/// `time.Unix(0, 0)` in UTC: the `created` docker gives every layer but the top one.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// One legacy layer directory: its v1 ID and its `json` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V1Layer {
    /// The directory name (hex).
    pub id: String,
    /// The `json` file's bytes.
    pub json: Vec<u8>,
}

/// The fields of a `V1Image` in Go's order, without `id` and `parent` (which are added around
/// them): the top layer's come from the image config, the others' are empty but for `created`.
fn v1_fields(config: Option<&Map<String, Value>>) -> Vec<(&'static str, String)> {
    let Some(c) = config else {
        return vec![
            ("created", go_string(EPOCH)),
            ("container_config", container_config(None)),
        ];
    };
    let mut f = Vec::new();
    let comment = string_of(c.get("comment"));
    if !comment.is_empty() {
        f.push(("comment", go_string(&comment)));
    }
    let created = c
        .get("created")
        .and_then(Value::as_str)
        .map_or_else(|| GO_ZERO_TIME.to_owned(), go_time);
    f.push(("created", go_string(&created)));
    let container = string_of(c.get("container"));
    if !container.is_empty() {
        f.push(("container", go_string(&container)));
    }
    f.push((
        "container_config",
        container_config(c.get("container_config").and_then(Value::as_object)),
    ));
    for key in ["docker_version", "author"] {
        let s = string_of(c.get(key));
        if !s.is_empty() {
            f.push((key, go_string(&s)));
        }
    }
    if let Some(Value::Object(cfg)) = c.get("config") {
        f.push(("config", container_config(Some(cfg))));
    }
    for key in ["architecture", "variant", "os"] {
        let s = string_of(c.get(key));
        if !s.is_empty() {
            f.push((key, go_string(&s)));
        }
    }
    if let Some(n) = c.get("Size").and_then(Value::as_i64).filter(|n| *n != 0) {
        f.push(("Size", n.to_string()));
    }
    f
}

/// The legacy layer directories of an image with `diff_ids` and config JSON `config`, bottom
/// first, as docker 20.10's `save` names and writes them.
pub(crate) fn v1_layers(config: &Value, diff_ids: &[Digest]) -> Vec<V1Layer> {
    let top = config.as_object();
    let os = top.map(|c| string_of(c.get("os"))).unwrap_or_default();
    let mut out: Vec<V1Layer> = Vec::with_capacity(diff_ids.len());
    let mut chain: Option<String> = None;
    for (i, d) in diff_ids.iter().enumerate() {
        let chain_id = match &chain {
            None => d.to_string(),
            Some(c) => Digest::sha256_of(format!("{c} {d}").as_bytes()).to_string(),
        };
        let fields = v1_fields(if i + 1 == diff_ids.len() { top } else { None });
        let parent = out.last().map(|p| format!("sha256:{}", p.id));
        // CreateID: the V1Image's JSON as a map, plus layer_id and parent, keys sorted
        let mut keyed: Vec<(&str, String)> = fields.clone();
        keyed.push(("layer_id", go_string(&chain_id)));
        if let Some(p) = &parent {
            keyed.push(("parent", go_string(p)));
        }
        keyed.sort_by(|a, b| a.0.cmp(b.0));
        let id_json: Vec<String> = keyed
            .iter()
            .map(|(k, v)| format!("{}:{v}", go_string(k)))
            .collect();
        let id = Digest::sha256_of(format!("{{{}}}", id_json.join(",")).as_bytes()).hex();
        // the json file: id, parent, then the fields, with the image's os
        let mut json = GoObject::default();
        json.field("id", go_string(&id));
        if let Some(p) = &parent {
            json.field("parent", go_string(&p["sha256:".len()..]));
        }
        let mut has_os = false;
        for (k, v) in fields {
            has_os |= k == "os";
            json.field(k, v);
        }
        if !has_os && !os.is_empty() {
            // `os` comes after every field but `Size`, which only the top layer may have
            json.field("os", go_string(&os));
        }
        out.push(V1Layer {
            id,
            json: json.finish().into_bytes(),
        });
        chain = Some(chain_id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_escapes_html_and_control_characters() {
        assert_eq!(
            go_string("a<b>&\"\\\n\u{1}"),
            r#""a\u003cb\u003e\u0026\"\\\n\u0001""#
        );
        assert_eq!(
            go_time("2026-11-26T20:09:37.645231240Z"),
            "2026-11-26T20:09:37.64523124Z"
        );
        assert_eq!(go_time("2026-11-26T20:09:37.000Z"), "2026-11-26T20:09:37Z");
        assert_eq!(go_time("2026-11-26T20:09:37+00:00"), "2026-11-26T20:09:37Z");
        assert_eq!(
            go_time("2026-11-26T20:09:37+02:00"),
            "2026-11-26T20:09:37+02:00"
        );
    }

    #[test]
    fn a_zero_container_config_has_every_non_omitempty_field() {
        assert_eq!(
            container_config(None),
            r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}"#
        );
    }
}
