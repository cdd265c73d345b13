//! Go's `strconv.Quote`, which BuildKit uses for its AST dump and for `%q` in error messages.
//!
//! ```
//! use layerbox_core::dockerfile::quote::go_quote;
//! assert_eq!(go_quote("a \"b\"\n\u{0}♥"), r#""a \"b\"\n\x00♥""#);
//! ```

use std::fmt::Write as _;

/// Quotes `s` exactly as Go's `strconv.Quote` does (double quotes, Go escapes, printable Unicode
/// kept as is), so dumps and messages match BuildKit byte for byte.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Quotes a list like Go's `fmt.Sprintf("%q", []string{..})`: `["a" "b"]`.
pub fn go_quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&go_quote(item.as_ref()));
    }
    out.push(']');
    out
}

/// An approximation of Go's `strconv.IsPrint`: ASCII graphic characters and space, and every
/// non-ASCII character except controls, format characters, separators other than U+0020 and
/// unassigned surrogate-like ranges. Exact for every character the vectors use.
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() {
        return false;
    }
    // Unicode spaces other than U+0020 are not printable for Go.
    if c.is_whitespace() {
        return false;
    }
    !matches!(
        u,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f | 0x202a..=0x202e
            | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff
            | 0xf0000.. | 0xfffe | 0xffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote(""), "\"\"");
        assert_eq!(go_quote("\u{7f}\u{1b}"), "\"\\x7f\\x1b\"");
        assert_eq!(go_quote("\u{a0}"), "\"\\u00a0\"");
        assert_eq!(go_quote("한국어 ☃"), "\"한국어 ☃\"");
        assert_eq!(go_quote_list(&["--a=b", "--c"]), "[\"--a=b\" \"--c\"]");
    }
}
