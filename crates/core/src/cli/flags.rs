//! Docker's flag syntax (spf13/pflag as docker configures it) and its `Options:` help listing.
//!
//! Long flags take `--name value` or `--name=value`; short flags cluster (`-dit`), take their
//! value attached (`-p80:80`, `-e=A=1`) or as the next argument; booleans take `=false`; list
//! flags repeat (`-e A=1 -e B=2`); `--` ends the flags; a lone `-` is an argument. Commands that
//! run another command (`run`, `create`, `exec`, `top`) stop at the first argument, so that
//! everything after the image belongs to the container.
//!
//! ```
//! use layerbox_core::cli::flags::{FlagKind, FlagSpec, parse_flags};
//! const FLAGS: &[FlagSpec] = &[
//!     FlagSpec::new("detach", Some('d'), FlagKind::Bool, "Run container in background"),
//!     FlagSpec::new("env", Some('e'), FlagKind::List, "Set environment variables"),
//! ];
//! let argv = ["-de", "A=1", "--env=B=2", "busybox", "-d"].map(String::from);
//! let (flags, args) = parse_flags(FLAGS, &argv, false).unwrap();
//! assert!(flags.bool("detach"));
//! assert_eq!(flags.list("env"), ["A=1", "B=2"]);
//! assert_eq!(args, ["busybox", "-d"]);
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::units::{nano_cpus, ram_in_bytes};

/// The type of a flag's value, which decides how it parses and how help names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// On or off; `--flag`, `--flag=false`.
    Bool,
    /// One value; the last given wins. Help calls it `string`.
    String,
    /// A whole number (Go `strconv.ParseInt` base 0). Help calls it `int`.
    Int,
    /// Repeatable; every value is kept. Help calls it `list`.
    List,
    /// Repeatable `name=value` pairs (`-f status=exited`). Help calls it `filter`.
    Filter,
    /// A size in bytes with an optional unit (`64m`; docker's `opts.MemBytes`). Help calls it
    /// `bytes`.
    Bytes,
    /// Like [`FlagKind::Bytes`], also taking `-1` for unlimited (docker's `opts.MemSwapBytes`).
    SwapBytes,
    /// A rational number kept in billionths (`--cpus 1.5`; docker's `opts.NanoCPUs`). Help
    /// calls it `decimal`.
    Decimal,
    /// Repeatable `--mount type=…,source=…,target=…` values (docker's `opts.MountOpt`). Help
    /// calls it `mount`.
    Mount,
}

impl FlagKind {
    /// The value name pflag prints after the flag in help (`--name string`).
    pub const fn type_name(self) -> &'static str {
        match self {
            Self::Bool => "",
            Self::String => "string",
            Self::Int => "int",
            Self::List => "list",
            Self::Filter => "filter",
            Self::Bytes | Self::SwapBytes => "bytes",
            Self::Decimal => "decimal",
            Self::Mount => "mount",
        }
    }
}

/// One flag of a command: names, type, default and help text, as docker declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagSpec {
    /// Long name, without `--`.
    pub long: &'static str,
    /// One-letter name, without `-`.
    pub short: Option<char>,
    /// The value's type.
    pub kind: FlagKind,
    /// Default value as docker prints it in help (`"10"`, `"true"`, `"no"`); empty for zero.
    pub default: &'static str,
    /// The help text.
    pub usage: &'static str,
    /// A value name overriding the type's (`--network network`).
    pub value_name: Option<&'static str>,
}

impl FlagSpec {
    /// A flag with a zero default.
    pub const fn new(
        long: &'static str,
        short: Option<char>,
        kind: FlagKind,
        usage: &'static str,
    ) -> Self {
        Self {
            long,
            short,
            kind,
            default: "",
            usage,
            value_name: None,
        }
    }

    /// The same flag with a non-zero default, shown in help as docker shows it.
    #[must_use]
    pub const fn default(mut self, default: &'static str) -> Self {
        self.default = default;
        self
    }

    /// The same flag with a value name other than its type's.
    #[must_use]
    pub const fn value_name(mut self, name: &'static str) -> Self {
        self.value_name = Some(name);
        self
    }

    /// How pflag names the flag in errors: `-n, --last` or `--name`.
    fn display_names(&self) -> String {
        match self.short {
            Some(s) => format!("-{s}, --{}", self.long),
            None => format!("--{}", self.long),
        }
    }
}

/// A flag error, in pflag's words; docker prints it followed by `See '… --help'.` and exits 125.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// `--foo` is not a flag of the command.
    #[error("unknown flag: --{0}")]
    UnknownFlag(String),
    /// `-z` (or `z` inside `-dz`) is not a flag of the command.
    #[error("unknown shorthand flag: '{letter}' in -{cluster}")]
    UnknownShorthand {
        /// The unknown letter.
        letter: char,
        /// The cluster it appeared in, without the dash.
        cluster: String,
    },
    /// `--name` at the end of the line.
    #[error("flag needs an argument: --{0}")]
    NeedsArgument(String),
    /// `-p` at the end of the line.
    #[error("flag needs an argument: '{letter}' in -{cluster}")]
    ShorthandNeedsArgument {
        /// The flag's letter.
        letter: char,
        /// The cluster it appeared in, without the dash.
        cluster: String,
    },
    /// `---x` or `--=x`.
    #[error("bad flag syntax: {0}")]
    BadSyntax(String),
    /// A value that does not parse for its flag's type.
    #[error("invalid argument {value:?} for \"{names}\" flag: {reason}")]
    InvalidValue {
        /// What was given.
        value: String,
        /// `-n, --last`.
        names: String,
        /// Why it is wrong (`strconv.ParseInt: parsing "x": invalid syntax`).
        reason: String,
    },
}

/// The flags given on a command line, by long name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFlags {
    values: BTreeMap<&'static str, Vec<String>>,
    specs: Vec<FlagSpec>,
}

impl ParsedFlags {
    /// Whether the flag was given at all (pflag's `Changed`).
    pub fn changed(&self, long: &str) -> bool {
        self.values.contains_key(long)
    }

    /// A boolean flag's value, its default when not given.
    pub fn bool(&self, long: &str) -> bool {
        match self.values.get(long).and_then(|v| v.last()) {
            Some(v) => v == "true",
            None => self.spec(long).is_some_and(|s| s.default == "true"),
        }
    }

    /// A string flag's last value, or its default (`None` for an empty default).
    pub fn string(&self, long: &str) -> Option<String> {
        match self.values.get(long).and_then(|v| v.last()) {
            Some(v) => Some(v.clone()),
            None => self
                .spec(long)
                .map(|s| s.default)
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
        }
    }

    /// An int flag's last value, or its default (0 when it has none). Values were checked when
    /// parsed.
    pub fn int(&self, long: &str) -> i64 {
        self.string(long)
            .and_then(|v| parse_go_int(&v).ok())
            .unwrap_or(0)
    }

    /// A size flag's value in bytes ([`FlagKind::Bytes`], [`FlagKind::SwapBytes`]), 0 when not
    /// given. Values were checked when parsed.
    pub fn bytes(&self, long: &str) -> i64 {
        match self.string(long).as_deref() {
            Some("-1") => -1,
            Some(v) => ram_in_bytes(v).unwrap_or(0),
            None => 0,
        }
    }

    /// A [`FlagKind::Decimal`] flag's value in billionths, 0 when not given.
    pub fn nanos(&self, long: &str) -> i64 {
        self.string(long)
            .and_then(|v| nano_cpus(&v).ok())
            .unwrap_or(0)
    }

    /// Every value of a repeatable flag, in order.
    pub fn list(&self, long: &str) -> Vec<String> {
        self.values.get(long).cloned().unwrap_or_default()
    }

    fn spec(&self, long: &str) -> Option<&FlagSpec> {
        self.specs.iter().find(|s| s.long == long)
    }

    fn set(&mut self, spec: &FlagSpec, value: String) -> Result<(), FlagError> {
        let invalid = |reason: String| FlagError::InvalidValue {
            value: value.clone(),
            names: spec.display_names(),
            reason,
        };
        let value = match spec.kind {
            FlagKind::Bool => match value.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => "true".to_owned(),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => "false".to_owned(),
                _ => {
                    return Err(invalid(format!(
                        "strconv.ParseBool: parsing {value:?}: invalid syntax"
                    )));
                }
            },
            FlagKind::Int => {
                parse_go_int(&value).map_err(invalid)?;
                value
            }
            FlagKind::Filter => {
                if !value.contains('=') {
                    return Err(invalid(
                        "bad format of filter (expected name=value)".to_owned(),
                    ));
                }
                value
            }
            FlagKind::Bytes | FlagKind::SwapBytes => {
                if !(spec.kind == FlagKind::SwapBytes && value == "-1") {
                    ram_in_bytes(&value).map_err(invalid)?;
                }
                value
            }
            FlagKind::Decimal => {
                nano_cpus(&value).map_err(invalid)?;
                value
            }
            FlagKind::Mount => {
                super::mount::parse_mount(&value).map_err(invalid)?;
                value
            }
            FlagKind::String | FlagKind::List => value,
        };
        let slot = self.values.entry(spec.long).or_default();
        if matches!(
            spec.kind,
            FlagKind::List | FlagKind::Filter | FlagKind::Mount
        ) {
            slot.push(value);
        } else {
            *slot = vec![value];
        }
        Ok(())
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: decimal, `0x…`, `0o…`/`0…` octal, `0b…`, `_` separators.
fn parse_go_int(s: &str) -> Result<i64, String> {
    let err = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    let digits = if radix == 10 {
        digits.to_owned()
    } else {
        digits.replace('_', "")
    };
    if digits.is_empty() || digits.starts_with('+') || digits.starts_with('-') {
        return Err(err());
    }
    let magnitude = i128::from_str_radix(&digits, radix).map_err(|_| err())?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

/// What `parse_flags` stopped at besides flags and arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Help {
    Asked,
}

/// Parses `argv` (the words after the command name) against `specs`. With `interspersed`,
/// flags may follow arguments (`docker rm web -f`); without, the first argument ends the flags.
/// `--help` is recognised everywhere flags are, and reported by [`parse_flags_or_help`].
pub fn parse_flags(
    specs: &[FlagSpec],
    argv: &[String],
    interspersed: bool,
) -> Result<(ParsedFlags, Vec<String>), FlagError> {
    parse_flags_or_help(specs, argv, interspersed).map(|(flags, args, _)| (flags, args))
}

/// Like [`parse_flags`], also telling whether `--help` (or `-h` where it is not another flag)
/// was given.
pub fn parse_flags_or_help(
    specs: &[FlagSpec],
    argv: &[String],
    interspersed: bool,
) -> Result<(ParsedFlags, Vec<String>, bool), FlagError> {
    let mut flags = ParsedFlags {
        values: BTreeMap::new(),
        specs: specs.to_vec(),
    };
    let mut args = Vec::new();
    let mut help: Option<Help> = None;
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        i += 1;
        if arg == "--" {
            args.extend(argv[i..].iter().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            args.push(arg.clone());
            if !interspersed {
                args.extend(argv[i..].iter().cloned());
                break;
            }
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if long.starts_with('-') || long.starts_with('=') {
                return Err(FlagError::BadSyntax(arg.clone()));
            }
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let Some(spec) = specs.iter().find(|s| s.long == name) else {
                if name == "help" {
                    help = Some(Help::Asked);
                    continue;
                }
                return Err(FlagError::UnknownFlag(name.to_owned()));
            };
            let value = match (inline, spec.kind) {
                (Some(v), _) => v,
                (None, FlagKind::Bool) => "true".to_owned(),
                (None, _) => {
                    let Some(next) = argv.get(i) else {
                        return Err(FlagError::NeedsArgument(name.to_owned()));
                    };
                    i += 1;
                    next.clone()
                }
            };
            flags.set(spec, value)?;
            continue;
        }
        // A cluster of short flags: `-dit`, `-p80:80`, `-e=A=1`.
        let cluster = &arg[1..];
        let mut rest = cluster;
        while let Some(letter) = rest.chars().next() {
            let after = &rest[letter.len_utf8()..];
            let Some(spec) = specs.iter().find(|s| s.short == Some(letter)) else {
                if letter == 'h' {
                    help = Some(Help::Asked);
                    rest = after;
                    continue;
                }
                return Err(FlagError::UnknownShorthand {
                    letter,
                    cluster: cluster.to_owned(),
                });
            };
            if let Some(v) = after.strip_prefix('=') {
                flags.set(spec, v.to_owned())?;
                break;
            }
            if spec.kind == FlagKind::Bool {
                flags.set(spec, "true".to_owned())?;
                rest = after;
                continue;
            }
            if !after.is_empty() {
                flags.set(spec, after.to_owned())?;
                break;
            }
            let Some(next) = argv.get(i) else {
                return Err(FlagError::ShorthandNeedsArgument {
                    letter,
                    cluster: cluster.to_owned(),
                });
            };
            i += 1;
            flags.set(spec, next.clone())?;
            break;
        }
    }
    Ok((flags, args, help.is_some()))
}

/// The terminal width docker assumes when it cannot ask the terminal.
pub const DEFAULT_WIDTH: usize = 80;

/// The `Options:` listing of `specs` for a terminal `width` columns wide, as docker prints it
/// (pflag's `FlagUsagesWrapped(width - 1)`): sorted by long name, usage column aligned, long
/// texts wrapped. No trailing newline.
pub fn flag_usages(specs: &[FlagSpec], width: usize) -> String {
    let mut sorted: Vec<&FlagSpec> = specs.iter().collect();
    sorted.sort_by_key(|s| s.long);
    let mut lines = Vec::new();
    let mut max_len = 0;
    for spec in sorted {
        let mut line = match spec.short {
            Some(s) => format!("  -{s}, --{}", spec.long),
            None => format!("      --{}", spec.long),
        };
        let value_name = spec.value_name.unwrap_or(spec.kind.type_name());
        if !value_name.is_empty() {
            line.push(' ');
            line.push_str(value_name);
        }
        max_len = max_len.max(line.chars().count() + 1);
        let mut usage = spec.usage.to_owned();
        if !spec.default.is_empty() {
            if spec.kind == FlagKind::String {
                let _ = write!(usage, " (default {:?})", spec.default);
            } else {
                let _ = write!(usage, " (default {})", spec.default);
            }
        }
        lines.push((line, usage));
    }
    let mut out = String::new();
    for (line, usage) in lines {
        let pad = max_len - line.chars().count();
        out.push_str(&line);
        out.push(' ');
        out.push_str(&" ".repeat(pad));
        out.push(' ');
        out.push_str(&wrap(max_len + 2, width.saturating_sub(1), &usage));
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// pflag's `wrap`: wrap `s` to `width` columns, continuation lines indented by `indent`.
fn wrap(indent: usize, width: usize, s: &str) -> String {
    let mut indent = indent;
    let mut room = width.saturating_sub(indent);
    let mut out = String::new();
    if room < 24 {
        indent = 16;
        room = width.saturating_sub(indent);
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    if room < 24 {
        return s.replace('\n', &out);
    }
    let slop = 5;
    room -= slop;
    let nl_indent = format!("\n{}", " ".repeat(indent));
    let (first, mut rest) = wrap_n(room, slop, s);
    out.push_str(&first.replace('\n', &nl_indent));
    while !rest.is_empty() {
        let (line, more) = wrap_n(room, slop, rest);
        out.push_str(&nl_indent);
        out.push_str(&line.replace('\n', &nl_indent));
        rest = more;
    }
    out
}

/// pflag's `wrapN`: split off a first line of at most `i` bytes (or `i + slop` if that ends
/// the text), at the last blank.
fn wrap_n(i: usize, slop: usize, s: &str) -> (&str, &str) {
    if i + slop > s.len() {
        return (s, "");
    }
    let mut cut = i;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &s[..cut];
    let Some(w) = head.rfind([' ', '\t', '\n']).filter(|w| *w > 0) else {
        return (s, "");
    };
    if let Some(nl) = head.rfind('\n').filter(|nl| *nl > 0 && *nl < w) {
        return (&s[..nl], &s[nl + 1..]);
    }
    (&s[..w], &s[w + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[FlagSpec] = &[
        FlagSpec::new(
            "all",
            Some('a'),
            FlagKind::Bool,
            "Show all containers (default shows just running)",
        ),
        FlagSpec::new(
            "filter",
            Some('f'),
            FlagKind::Filter,
            "Filter output based on conditions provided",
        ),
        FlagSpec::new(
            "last",
            Some('n'),
            FlagKind::Int,
            "Show n last created containers (includes all states)",
        )
        .default("-1"),
        FlagSpec::new(
            "name",
            None,
            FlagKind::String,
            "Assign a name to the container",
        ),
        FlagSpec::new(
            "publish",
            Some('p'),
            FlagKind::List,
            "Publish a container's port(s) to the host",
        ),
        FlagSpec::new(
            "sig-proxy",
            None,
            FlagKind::Bool,
            "Proxy received signals to the process",
        )
        .default("true"),
        FlagSpec::new(
            "restart",
            None,
            FlagKind::String,
            "Restart policy to apply when a container exits",
        )
        .default("no"),
    ];

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn parse(words: &[&str], interspersed: bool) -> Result<(ParsedFlags, Vec<String>), FlagError> {
        parse_flags(FLAGS, &argv(words), interspersed)
    }

    #[test]
    fn long_flags_with_and_without_equals() {
        let (f, args) = parse(&["--name", "web", "--all", "x", "--publish=1:2"], true).unwrap();
        assert_eq!(f.string("name").as_deref(), Some("web"));
        assert!(f.bool("all"));
        assert_eq!(f.list("publish"), ["1:2"]);
        assert_eq!(args, ["x"]);
    }

    #[test]
    fn short_clusters_and_attached_values() {
        let (f, args) = parse(&["-ap80:80", "-n3", "-p=1:1", "-f", "status=exited"], true).unwrap();
        assert!(f.bool("all"));
        assert_eq!(f.list("publish"), ["80:80", "1:1"]);
        assert_eq!(f.int("last"), 3);
        assert_eq!(f.list("filter"), ["status=exited"]);
        assert!(args.is_empty());
    }

    #[test]
    fn booleans_take_explicit_values() {
        let (f, _) = parse(&["--sig-proxy=false", "-a=false"], true).unwrap();
        assert!(!f.bool("sig-proxy"));
        assert!(!f.bool("all"));
        let (f, _) = parse(&[], true).unwrap();
        assert!(f.bool("sig-proxy"), "default true");
        assert_eq!(f.int("last"), -1);
        assert_eq!(f.string("restart").as_deref(), Some("no"));
        assert!(!f.changed("restart"));
        let err = parse(&["--all=maybe"], true).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax"#
        );
    }

    #[test]
    fn interspersed_or_not() {
        let (f, args) = parse(&["web", "-a"], true).unwrap();
        assert!(f.bool("all"));
        assert_eq!(args, ["web"]);
        let (f, args) = parse(&["-a", "img", "sh", "-a", "--name", "x"], false).unwrap();
        assert!(f.bool("all"));
        assert!(!f.changed("name"));
        assert_eq!(args, ["img", "sh", "-a", "--name", "x"]);
        let (_, args) = parse(&["-a", "--", "-n", "5"], true).unwrap();
        assert_eq!(args, ["-n", "5"]);
        let (_, args) = parse(&["-", "-a"], true).unwrap();
        assert_eq!(args, ["-"]);
    }

    #[test]
    fn errors_use_pflag_words() {
        let msg = |w: &[&str]| parse(w, true).unwrap_err().to_string();
        assert_eq!(msg(&["--foo"]), "unknown flag: --foo");
        assert_eq!(msg(&["--foo=1"]), "unknown flag: --foo");
        assert_eq!(msg(&["-z"]), "unknown shorthand flag: 'z' in -z");
        assert_eq!(msg(&["-az"]), "unknown shorthand flag: 'z' in -az");
        assert_eq!(msg(&["--name"]), "flag needs an argument: --name");
        assert_eq!(msg(&["-ap"]), "flag needs an argument: 'p' in -ap");
        assert_eq!(msg(&["---x"]), "bad flag syntax: ---x");
        assert_eq!(
            msg(&["-n", "x"]),
            r#"invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax"#
        );
        assert_eq!(
            msg(&["-f", "dangling"]),
            r#"invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)"#
        );
    }

    #[test]
    fn help_is_noticed() {
        let (_, args, help) = parse_flags_or_help(FLAGS, &argv(&["x", "--help"]), true).unwrap();
        assert!(help);
        assert_eq!(args, ["x"]);
        let (_, _, help) = parse_flags_or_help(FLAGS, &argv(&["-h"]), true).unwrap();
        assert!(help);
    }

    #[test]
    fn go_ints() {
        assert_eq!(parse_go_int("42"), Ok(42));
        assert_eq!(parse_go_int("-1"), Ok(-1));
        assert_eq!(parse_go_int("0x10"), Ok(16));
        assert_eq!(parse_go_int("010"), Ok(8));
        assert!(parse_go_int("1_000").is_err());
        assert!(parse_go_int("").is_err());
        assert!(
            parse_go_int("99999999999999999999")
                .unwrap_err()
                .contains("out of range")
        );
    }

    #[test]
    fn usages_align_like_pflag() {
        let want = "  -a, --all              Show all containers (default shows just running)
  -f, --filter filter    Filter output based on conditions provided
  -n, --last int         Show n last created containers (includes all
                         states) (default -1)
      --name string      Assign a name to the container
  -p, --publish list     Publish a container's port(s) to the host
      --restart string   Restart policy to apply when a container exits
                         (default \"no\")
      --sig-proxy        Proxy received signals to the process (default true)";
        assert_eq!(flag_usages(FLAGS, DEFAULT_WIDTH), want);
        // A wide terminal wraps nothing.
        assert!(flag_usages(FLAGS, 200).contains("(includes all states) (default -1)"));
    }
}
