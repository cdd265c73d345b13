//! Text helpers of docker's formatter: `Ellipsis` truncation with `…`, ID truncation to 12 hex
//! digits, and Go's `strconv.Quote` (the COMMAND column is `"sleep 600"`).
//!
//! ```
//! use layerbox_core::cli::text::{ellipsis, go_quote, truncate_id};
//! assert_eq!(go_quote(&ellipsis("/bin/sh -c 'echo about to fail && false'", 20)),
//!            "\"/bin/sh -c 'echo ab…\"");
//! assert_eq!(truncate_id("sha256:7879cb9340a798737a47faf4d910f6ad"), "7879cb9340a7");
//! ```

/// The length docker shortens IDs to (`stringid.TruncateID`).
pub const SHORT_ID_LEN: usize = 12;

/// docker's `stringid.TruncateID`: drop an algorithm prefix such as `sha256:` and keep the first
/// 12 characters.
pub fn truncate_id(id: &str) -> &str {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    match id.char_indices().nth(SHORT_ID_LEN) {
        Some((at, _)) => &id[..at],
        None => id,
    }
}

/// docker's `formatter.Ellipsis`: cut `s` to `max_width` display columns, the last one being `…`
/// (East Asian wide characters count as 2 columns).
pub fn ellipsis(s: &str, max_width: usize) -> String {
    if max_width == 0 {
        return String::new();
    }
    let widths: Vec<usize> = s.chars().map(char_width).collect();
    let total: usize = widths.iter().sum();
    if total <= max_width {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for (c, w) in s.chars().zip(widths) {
        if used + w > max_width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Display width of a character: 2 for East Asian wide and fullwidth forms, else 1.
fn char_width(c: char) -> usize {
    let c = u32::from(c);
    let wide = matches!(c,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

/// Go's `strconv.Quote`, as docker uses for `ps`'s COMMAND column and `{{printf "%q"}}`: the
/// same function BuildKit's AST dump uses, kept once in the Dockerfile front end.
pub use crate::dockerfile::quote::go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_cuts_to_width_with_the_mark_counted() {
        assert_eq!(ellipsis("sleep 600", 20), "sleep 600");
        assert_eq!(
            ellipsis("abcdefghijklmnopqrstu", 20),
            "abcdefghijklmnopqrs…"
        );
        assert_eq!(ellipsis("abcdefghijklmnopqrst", 20), "abcdefghijklmnopqrst");
        assert_eq!(ellipsis("abc", 1), "…");
        assert_eq!(ellipsis("abc", 0), "");
        // Wide characters take two columns.
        assert_eq!(ellipsis("日本語のテキスト", 7), "日本語…");
    }

    #[test]
    fn ids_shorten_to_twelve() {
        assert_eq!(
            truncate_id("db75e28655a8545c7840c0954604dca2"),
            "db75e28655a8"
        );
        assert_eq!(truncate_id("<missing>"), "<missing>");
        assert_eq!(truncate_id("abc"), "abc");
    }

    #[test]
    fn quoting_follows_go() {
        assert_eq!(go_quote("sh -c 'exit 3'"), "\"sh -c 'exit 3'\"");
        assert_eq!(go_quote("a\"b\\c\n\t\u{1}"), "\"a\\\"b\\\\c\\n\\t\\x01\"");
        assert_eq!(go_quote("nbsp\u{a0}é…"), "\"nbsp\\u00a0é…\"");
    }
}
