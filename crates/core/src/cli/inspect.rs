//! `docker inspect` output: the objects as one JSON array written the way Go's
//! `json.MarshalIndent(v, "", "    ")` writes it, or each object through a `-f` template.
//!
//! Go's encoder escapes `<`, `>` and `&` (`"echo a \u0026\u0026 b"`), and U+2028/U+2029; the
//! fields keep the order the engine's types serialise them in, which should be docker's.
//!
//! ```
//! use layerbox_core::cli::inspect::inspect_json;
//! let out = inspect_json(&[serde_json::json!({"Cmd": ["sh", "-c", "a && b"]})]).unwrap();
//! assert_eq!(out, "[\n    {\n        \"Cmd\": [\n            \"sh\",\n            \"-c\",\n            \"a \\u0026\\u0026 b\"\n        ]\n    }\n]\n");
//! ```

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use super::table::FormatError;
use super::template::Template;

/// The JSON `docker inspect` prints for `objects`, with its final newline.
pub fn inspect_json<T: Serialize>(objects: &[T]) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        GoFormatter(PrettyFormatter::with_indent(b"    ")),
    );
    objects.serialize(&mut ser)?;
    out.push(b'\n');
    // The serializer writes only valid UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `docker inspect -f TEMPLATE`: the template run over each object, each followed by a newline.
pub fn inspect_format(template: &str, objects: &[Value]) -> Result<String, FormatError> {
    let template = Template::parse(template)?;
    let mut out = String::new();
    for object in objects {
        out.push_str(&template.execute(object)?);
        out.push('\n');
    }
    Ok(out)
}

/// serde_json's pretty printer with Go's string escaping.
struct GoFormatter<'a>(PrettyFormatter<'a>);

impl Formatter for GoFormatter<'_> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Go (before 1.22, as in docker 20.10) writes backspace and form feed as \u escapes.
        match escape {
            CharEscape::Backspace => w.write_all(b"\\u0008"),
            CharEscape::FormFeed => w.write_all(b"\\u000c"),
            other => serde_json::ser::CompactFormatter.write_char_escape(w, other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_containers_and_escapes_print_like_go() {
        let out = inspect_json(&[json!({"A": [], "B": {}, "C": null, "D": "<x>\u{8}\n\u{2028}"})])
            .unwrap();
        assert_eq!(
            out,
            "[\n    {\n        \"A\": [],\n        \"B\": {},\n        \"C\": null,\n        \"D\": \"\\u003cx\\u003e\\u0008\\n\\u2028\"\n    }\n]\n"
        );
        assert_eq!(inspect_json::<Value>(&[]).unwrap(), "[]\n");
    }

    #[test]
    fn templates_run_once_per_object() {
        let objects = [json!({"Name": "/a"}), json!({"Name": "/b"})];
        assert_eq!(inspect_format("{{.Name}}", &objects).unwrap(), "/a\n/b\n");
    }
}
