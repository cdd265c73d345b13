//! The per-keyword argument parsers of spec §5–§6: keyword split, builder flags, words, JSON
//! arrays, name/value pairs.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_till1;
use nom::character::complete::one_of;
use nom::multi::many1_count;

use super::ParseErrorKind;
use crate::dockerfile::quote::go_quote;

/// The `[\t\v\f\r ]` class BuildKit's parser calls whitespace.
pub(crate) fn is_parser_ws(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Splits `s` once on the first run of parser whitespace.
fn split_ws_once(s: &str) -> (&str, Option<&str>) {
    let head: IResult<&str, &str> = take_till1(is_parser_ws).parse(s);
    match head {
        Ok((rest, head)) => {
            let sep: IResult<&str, usize> = many1_count(one_of("\t\u{b}\u{c}\r ")).parse(rest);
            match sep {
                Ok((tail, _)) => (head, Some(tail)),
                Err(_) => (head, None),
            }
        }
        // Starts with whitespace: the head is empty.
        Err(_) => match s.find(|c: char| !is_parser_ws(c)) {
            Some(i) => ("", Some(&s[i..])),
            None => ("", if s.is_empty() { None } else { Some("") }),
        },
    }
}

/// Splits on runs of `[\t\v\f\r ]` (Go's `reWhitespace.Split`); the text is already trimmed.
pub(crate) fn split_ws(s: &str) -> Vec<String> {
    s.split(is_parser_ws)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Result of splitting an instruction line: keyword (as written), flags, argument text.
pub(crate) struct SplitCommand<'a> {
    pub keyword: &'a str,
    pub flags: Vec<String>,
    /// The trimmed argument text.
    pub args: &'a str,
    /// Byte offset of `args` in the line.
    pub args_offset: usize,
}

/// Splits an instruction line into keyword, builder flags and argument text (spec §5).
pub(crate) fn split_command(line: &str, escape: char) -> SplitCommand<'_> {
    let (keyword, rest) = split_ws_once(line.trim());
    let mut out = SplitCommand {
        keyword,
        flags: Vec::new(),
        args: "",
        args_offset: line.len(),
    };
    if let Some(rest) = rest {
        let (args, flags) = extract_builder_flags(rest, escape);
        out.flags = flags;
        out.args = args.trim();
        // `args` is a suffix of `line`: its trimmed start is found by length arithmetic.
        out.args_offset = line.len() - args.len() + (args.len() - args.trim_start().len());
    }
    out
}

/// Go's `unicode.IsSpace` applied to a single byte re-read as a code point.
fn byte_is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0)
}

/// Scanner state of the flag and word splitters.
#[derive(PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote,
}

/// Peels `--flag` words off the start of `line` (spec §5.2), byte by byte like BuildKit (so
/// non-ASCII flag values are mangled the same way). Returns the remaining text and the flags.
pub fn extract_builder_flags(line: &str, escape: char) -> (&str, Vec<String>) {
    let bytes = line.as_bytes();
    let esc = u8::try_from(u32::from(escape)).unwrap_or(b'\\');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut quote = 0u8;
    let mut phase = Phase::Spaces;
    let rest_at = |pos: usize| -> &str {
        // A split inside a multi-byte character (0x85/0xA0 quirk) resumes at the next boundary.
        let mut p = pos;
        while p < line.len() && !line.is_char_boundary(p) {
            p += 1;
        }
        &line[p..]
    };
    let mut pos = 0;
    while pos <= bytes.len() {
        let ch = bytes.get(pos).copied();
        if phase == Phase::Spaces {
            let Some(c) = ch else { break };
            if byte_is_space(c) {
                pos += 1;
                continue;
            }
            if c != b'-' || bytes.get(pos + 1) != Some(&b'-') {
                return (rest_at(pos), words);
            }
            phase = Phase::Word;
        }
        let Some(mut c) = ch else {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            break;
        };
        if phase == Phase::Word {
            if byte_is_space(c) {
                phase = Phase::Spaces;
                if word == "--" {
                    return (rest_at(pos), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if c == b'\'' || c == b'"' {
                quote = c;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
        } else if c == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        // In a word or inside quotes: the escape makes the next byte literal.
        if c == esc {
            if pos + 1 == bytes.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            c = bytes[pos];
        }
        word.push(char::from(c));
        pos += 1;
    }
    ("", words)
}

/// Splits on Unicode spaces outside quotes, keeping quotes and escapes in the words (spec §6,
/// used by ARG and as the first step of ENV/LABEL).
pub fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= chars.len() {
        let ch = chars.get(pos).copied();
        if phase == Phase::Spaces {
            let Some(c) = ch else { break };
            if c.is_whitespace() {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        let Some(mut c) = ch else {
            if blank_ok || !word.is_empty() {
                words.push(word);
            }
            break;
        };
        if phase == Phase::Word {
            if c.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            if c == '\'' || c == '"' {
                quote = c;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if c == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(c);
                pos += 1;
                c = chars[pos];
            }
            word.push(c);
            pos += 1;
            continue;
        }
        // Quote phase.
        if c == quote {
            phase = Phase::Word;
        }
        if c == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(c);
            c = chars[pos];
        }
        word.push(c);
        pos += 1;
    }
    words
}

/// Exec-form detection (spec §6): `Ok(Some(strings))` for a JSON array of strings,
/// `Ok(None)` for anything that is not a JSON array, an error for an array with other elements.
pub fn parse_json_array(rest: &str) -> Result<Option<Vec<String>>, ParseErrorKind> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    match serde_json::from_str::<serde_json::Value>(rest) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(ParseErrorKind::JsonNotStringArray),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Ok(None),
    }
}

/// What a keyword's argument parser produced.
#[derive(Default)]
pub(crate) struct Parsed {
    pub args: Vec<String>,
    pub json: bool,
}

fn maybe_json(rest: &str) -> Result<Parsed, ParseErrorKind> {
    if rest.is_empty() {
        return Ok(Parsed::default());
    }
    Ok(match parse_json_array(rest)? {
        Some(args) => Parsed { args, json: true },
        None => Parsed {
            args: vec![rest.to_string()],
            ..Parsed::default()
        },
    })
}

fn maybe_json_to_list(rest: &str) -> Result<Parsed, ParseErrorKind> {
    Ok(match parse_json_array(rest)? {
        Some(args) => Parsed { args, json: true },
        None => strings_ws(rest),
    })
}

fn strings_ws(rest: &str) -> Parsed {
    if rest.is_empty() {
        return Parsed::default();
    }
    Parsed {
        args: split_ws(rest),
        ..Parsed::default()
    }
}

fn whole_string(rest: &str) -> Parsed {
    if rest.is_empty() {
        return Parsed::default();
    }
    Parsed {
        args: vec![rest.to_string()],
        ..Parsed::default()
    }
}

/// ENV/LABEL pairs as (key, value, separator) triples, flattened (spec §6).
pub fn parse_name_val(
    rest: &str,
    keyword: &str,
    escape: char,
) -> Result<Vec<String>, ParseErrorKind> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let (key, value) = split_ws_once(rest);
        let Some(value) = value else {
            return Err(ParseErrorKind::MissingValue(keyword.to_uppercase()));
        };
        return Ok(vec![key.to_string(), value.to_string(), String::new()]);
    }
    let mut out = Vec::with_capacity(words.len() * 3);
    for word in &words {
        let Some((k, v)) = word.split_once('=') else {
            return Err(ParseErrorKind::MissingEquals(go_quote(word)));
        };
        out.extend([k.to_string(), v.to_string(), "=".to_string()]);
    }
    Ok(out)
}

fn health_config(rest: &str) -> Result<Parsed, ParseErrorKind> {
    let sep = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '\u{b}')
        .unwrap_or(rest.len());
    if sep == 0 {
        return Ok(Parsed::default());
    }
    let after = &rest[sep..];
    let next = after.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let mut parsed = maybe_json(next)?;
    parsed.args.insert(0, rest[..sep].to_string());
    Ok(parsed)
}

/// Parses the argument text of `keyword` (lower-cased). ONBUILD is handled by the caller.
pub(crate) fn parse_args(
    keyword: &str,
    rest: &str,
    escape: char,
) -> Result<Parsed, ParseErrorKind> {
    match keyword {
        "run" | "cmd" | "entrypoint" | "shell" => maybe_json(rest),
        "add" | "copy" | "volume" => maybe_json_to_list(rest),
        "from" | "expose" => Ok(strings_ws(rest)),
        "env" | "label" => Ok(Parsed {
            args: parse_name_val(rest, keyword, escape)?,
            ..Parsed::default()
        }),
        "arg" => Ok(Parsed {
            args: parse_words(rest, escape),
            ..Parsed::default()
        }),
        "maintainer" | "user" | "workdir" | "stopsignal" => Ok(whole_string(rest)),
        "healthcheck" => health_config(rest),
        // Unknown keywords get one empty argument, as BuildKit's parseIgnore does.
        _ => Ok(Parsed {
            args: vec![String::new()],
            ..Parsed::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_peeled() {
        let (rest, flags) = extract_builder_flags("--a=b --c='x y' -- foo", '\\');
        assert_eq!(flags, ["--a=b", "--c=x y"]);
        assert_eq!(rest, " foo");
        let (rest, flags) = extract_builder_flags("--chown=ü x", '\\');
        assert_eq!(flags, ["--chown=Ã¼"]);
        assert_eq!(rest, "x");
    }

    #[test]
    fn whitespace_split() {
        assert_eq!(split_ws("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(split_ws_once("ENV  a b"), ("ENV", Some("a b")));
        assert_eq!(split_ws_once("ENV"), ("ENV", None));
    }
}
