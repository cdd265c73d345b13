//! POSIX basic and extended regular expressions, translated to `regex-lite` syntax.

use std::fmt::Write as _;

use regex_lite::{Regex, RegexBuilder};

/// Compiles a POSIX regular expression (`extended` for ERE, else BRE with GNU's `\+ \? \|`).
pub(crate) fn compile(re: &str, extended: bool, icase: bool) -> Result<Regex, String> {
    let translated = translate(re, extended);
    RegexBuilder::new(&translated)
        .case_insensitive(icase)
        .build()
        .map_err(|_| "Invalid regular expression".to_owned())
}

/// Compiles a fixed string (`grep -F`).
pub(crate) fn fixed(text: &str, icase: bool) -> Result<Regex, String> {
    RegexBuilder::new(&regex_lite::escape(text))
        .case_insensitive(icase)
        .build()
        .map_err(|e| e.to_string())
}

fn translate(re: &str, extended: bool) -> String {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 8);
    let mut i = 0;
    // Where a `*` would be literal in a BRE: at the start, after `\(` or `^`.
    let mut at_start = true;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' if i < chars.len() => {
                let n = chars[i];
                i += 1;
                match n {
                    '(' | ')' | '{' | '}' | '|' | '+' | '?' if !extended => {
                        out.push(n);
                        at_start = n == '(' || n == '|';
                        continue;
                    }
                    '<' | '>' => out.push_str("\\b"),
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(n);
                    }
                    'n' => out.push_str("\\n"),
                    't' => out.push_str("\\t"),
                    '1'..='9' => {
                        // Back-references are not supported by the engine: match the
                        // group's text loosely instead.
                        out.push_str(".*");
                    }
                    other => push_literal(&mut out, other),
                }
            }
            '[' => {
                let (class, used) = bracket(&chars[i..]);
                out.push_str(&class);
                i += used;
            }
            '(' | ')' | '{' | '}' | '|' | '+' | '?' if !extended => push_literal(&mut out, c),
            '{' if extended && !chars.get(i).is_some_and(char::is_ascii_digit) => {
                push_literal(&mut out, c);
            }
            '*' if at_start => push_literal(&mut out, c),
            '^' if !at_start && !extended => push_literal(&mut out, c),
            '$' if !extended
                && i < chars.len()
                && !(chars[i] == '\\' && chars.get(i + 1) == Some(&')')) =>
            {
                push_literal(&mut out, c);
            }
            other => out.push(other),
        }
        at_start = c == '^' && out.len() <= 1 || (extended && matches!(c, '(' | '|'));
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation() {
        out.push('\\');
    }
    out.push(c);
}

/// A bracket expression after its `[`: the translated class and the chars used.
fn bracket(chars: &[char]) -> (String, usize) {
    let mut out = String::from("[");
    let mut i = 0;
    if chars.first() == Some(&'^') {
        out.push('^');
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        out.push_str("\\]");
        i += 1;
    }
    while i < chars.len() {
        let c = chars[i];
        if c == ']' {
            out.push(']');
            return (out, i + 1);
        }
        if c == '[' && matches!(chars.get(i + 1), Some(':' | '.' | '=')) {
            let close = chars.get(i + 1).copied().unwrap_or(':');
            if let Some(end) = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == close && chars[j + 1] == ']')
            {
                let inner: String = chars[i + 2..end].iter().collect();
                if close == ':' {
                    let _ = write!(out, "[:{inner}:]");
                } else {
                    for ch in inner.chars() {
                        push_literal(&mut out, ch);
                    }
                }
                i = end + 2;
                continue;
            }
        }
        match c {
            '\\' | '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '-' if chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
            _ => out.push(c),
        }
        i += 1;
    }
    // No closing bracket: a literal `[`.
    ("\\[".to_owned(), 0)
}

#[cfg(test)]
mod tests {
    use super::compile;

    fn m(re: &str, ext: bool, s: &str) -> bool {
        compile(re, ext, false).unwrap().is_match(s)
    }

    #[test]
    fn basic_and_extended() {
        assert!(m("a\\+b", false, "aab"));
        assert!(m("a+b", false, "a+b"));
        assert!(!m("a+b", false, "aab"));
        assert!(m("a+b", true, "aab"));
        assert!(m("^#", false, "# comment"));
        assert!(m("\\(ab\\)*c", false, "ababc"));
        assert!(m("[[:digit:]]\\{2\\}", false, "x42"));
        assert!(m("[.]conf$", false, "nginx.conf"));
        assert!(!m("[.]conf$", false, "nginxconf"));
        assert!(m("*x", false, "*x"));
        assert!(m("\\<word\\>", false, "a word here"));
        assert!(m("[\\]", false, "back\\slash"));
        assert!(m("a|b", true, "b"));
        assert!(m("a|b", false, "a|b"));
    }
}
