//! `.dockerignore` files: which build-context paths are left out of the build (spec §14).
//!
//! Reading follows BuildKit's `ignorefile.ReadAll` and matching follows `patternmatcher`
//! (`MatchesOrParentMatches`): comments start in the first column, every pattern is trimmed and
//! cleaned like a path with one leading `/` removed, `!` re-includes, the **last** matching pattern
//! decides, and a path is also matched through its parent directories. Patterns are compiled once
//! into an exact, prefix, suffix or small-automaton matcher, so matching a path never backtracks.
//! The same matcher serves `COPY --exclude` ([`DockerIgnore::from_patterns`]).
//!
//! ```
//! use layerbox_core::dockerfile::ignore::DockerIgnore;
//!
//! let ignore = DockerIgnore::parse("# build output\nnode_modules\n*.md\n!README.md\n").unwrap();
//! assert!(ignore.is_excluded("node_modules/react/index.js"));
//! assert!(ignore.is_excluded("CHANGELOG.md"));
//! assert!(!ignore.is_excluded("README.md"));
//! assert!(!ignore.is_excluded("src/app.js"));
//! ```

use std::ops::Range;

use super::diagnostic::{Diagnostic, Severity};

/// Longest line `bufio.Scanner` accepts (64 KiB, newline excluded); longer lines fail the read.
const MAX_LINE: usize = 64 * 1024;

/// Why a `.dockerignore` (or a list of `--exclude` patterns) was rejected. Messages are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    /// A pattern is not valid glob syntax (an unclosed `[`, a trailing `\`, `[]` …).
    #[error("syntax error in pattern")]
    BadPattern {
        /// The offending pattern, as cleaned.
        pattern: String,
        /// Its 1-based line (or position in the pattern list).
        line: usize,
    },
    /// A line holds just `!`.
    #[error("illegal exclusion pattern: \"!\"")]
    IllegalExclusion {
        /// Its 1-based line (or position in the pattern list).
        line: usize,
    },
    /// A line of 64 KiB or more.
    #[error("error reading .dockerignore: bufio.Scanner: token too long")]
    LineTooLong {
        /// Its 1-based line.
        line: usize,
    },
}

impl IgnoreError {
    /// The 1-based line (or position in the pattern list) the error is about.
    pub fn line(&self) -> usize {
        match self {
            IgnoreError::BadPattern { line, .. }
            | IgnoreError::IllegalExclusion { line }
            | IgnoreError::LineTooLong { line } => *line,
        }
    }

    /// The error as a diagnostic over its whole line of the `.dockerignore` text `source`.
    pub fn to_diagnostic(&self, source: &str) -> Diagnostic {
        let span = line_span(source, self.line());
        let help = match self {
            IgnoreError::BadPattern { .. } => {
                "close every `[` and escape a literal `[`, `*`, `?` or `\\` with a backslash"
            }
            IgnoreError::IllegalExclusion { .. } => "write the path to re-include after the `!`",
            IgnoreError::LineTooLong { .. } => "split the line: one pattern per line",
        };
        Diagnostic::new(
            Severity::Error,
            "dockerignore",
            self.to_string(),
            source,
            span,
        )
        .with_help(help)
    }
}

/// The byte range of the 1-based `line` of `source`, without its line ending.
fn line_span(source: &str, line: usize) -> Range<usize> {
    let mut start = 0;
    for (index, raw) in source.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            return start..start + raw.trim_end_matches(['\n', '\r']).len();
        }
        start += raw.len();
    }
    source.len()..source.len()
}

/// A compiled set of ignore patterns: decides whether a context path is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// One compiled pattern line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    exclusion: bool,
    line: usize,
    matcher: Matcher,
}

impl Pattern {
    /// The cleaned pattern, without its `!`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is a `!` exception that re-includes what it matches.
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    /// The 1-based line of the `.dockerignore` (or position in the pattern list) it came from.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Whether the pattern matches `path` itself (no parent-directory matching).
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.matches(path)
    }
}

impl DockerIgnore {
    /// Reads a `.dockerignore` file and compiles its patterns.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        Self::compile(read_patterns(text)?)
    }

    /// Compiles a list of patterns given directly (as `COPY --exclude` does): each is trimmed
    /// and cleaned, but comments and leading `/` are not special.
    pub fn from_patterns<S: AsRef<str>>(
        patterns: impl IntoIterator<Item = S>,
    ) -> Result<Self, IgnoreError> {
        Self::compile(
            patterns
                .into_iter()
                .enumerate()
                .map(|(i, p)| (i + 1, p.as_ref().to_owned()))
                .collect(),
        )
    }

    fn compile(lines: Vec<(usize, String)>) -> Result<Self, IgnoreError> {
        let mut patterns = Vec::with_capacity(lines.len());
        for (line, raw) in lines {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            let cleaned = clean(trimmed);
            let (exclusion, text) = match cleaned.strip_prefix('!') {
                Some("") => return Err(IgnoreError::IllegalExclusion { line }),
                Some(rest) => (true, rest.to_owned()),
                None => (false, cleaned),
            };
            if !valid_syntax(&text) {
                return Err(IgnoreError::BadPattern {
                    pattern: text,
                    line,
                });
            }
            let matcher = Matcher::compile(&text);
            patterns.push(Pattern {
                text,
                exclusion,
                line,
                matcher,
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// The compiled patterns, in file order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether there is no pattern at all (nothing is ever excluded).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any pattern is a `!` exception.
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether the context path `path` (slash-separated, relative to the context root) is left
    /// out of the build context.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.deciding_pattern(path).is_some_and(|p| !p.exclusion)
    }

    /// The pattern that decided the fate of `path`: the last one that matched it (or one of its
    /// parent directories) and changed the outcome, or `None` when no pattern applies. Useful to
    /// show a learner *why* a file is or isn't in the context.
    pub fn deciding_pattern(&self, path: &str) -> Option<&Pattern> {
        let trimmed = path.trim_start_matches('/');
        let cleaned;
        let path = if is_clean(trimmed) {
            trimmed
        } else {
            cleaned = clean(trimmed);
            cleaned.as_str()
        };
        if path == "." {
            return None;
        }
        // The parent directories of `path` are its prefixes up to each `/`.
        let parents = path.match_indices('/').map(|(i, _)| &path[..i]);
        let mut excluded = false;
        let mut decided = None;
        for pattern in &self.patterns {
            // An exception can only change an excluded path and vice versa.
            if pattern.exclusion != excluded {
                continue;
            }
            if pattern.matches(path) || parents.clone().any(|dir| pattern.matches(dir)) {
                excluded = !pattern.exclusion;
                decided = Some(pattern);
            }
        }
        decided
    }
}

/// The ignore files that apply to a build whose Dockerfile is at `dockerfile` (a path relative
/// to the context root), in order of preference: `<Dockerfile path>.dockerignore` next to the
/// Dockerfile, then `.dockerignore` at the context root. The first that exists is used alone.
///
/// ```
/// use layerbox_core::dockerfile::ignore::ignore_file_candidates;
///
/// assert_eq!(ignore_file_candidates("docker/Dockerfile.dev"), ["docker/Dockerfile.dev.dockerignore", ".dockerignore"]);
/// assert_eq!(ignore_file_candidates("./Dockerfile"), ["Dockerfile.dockerignore", ".dockerignore"]);
/// ```
pub fn ignore_file_candidates(dockerfile: &str) -> [String; 2] {
    let path = clean(dockerfile.trim_start_matches('/'));
    [format!("{path}.dockerignore"), ".dockerignore".to_owned()]
}

/// Splits a `.dockerignore` into `(line number, pattern)` pairs as BuildKit reads it: a UTF-8 BOM
/// is dropped, lines starting with `#` are comments, the rest is trimmed, blank lines are skipped,
/// and the pattern (after any `!`) is cleaned like a path with one leading `/` removed.
pub fn read_patterns(text: &str) -> Result<Vec<(usize, String)>, IgnoreError> {
    let mut out = Vec::new();
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        if raw.len() >= MAX_LINE {
            return Err(IgnoreError::LineTooLong { line });
        }
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let raw = if index == 0 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        if raw.starts_with('#') {
            continue;
        }
        let mut pattern = raw.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        if invert {
            cleaned.insert(0, '!');
        }
        out.push((line, cleaned));
    }
    Ok(out)
}

/// Whether `path` is already what [`clean`] would make of it (the common case for walked paths).
fn is_clean(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path.split('/').all(|part| !matches!(part, "" | "." | ".."))
}

/// Cleans a slash-separated path lexically, as Go's `path.Clean`: repeated slashes, `.` and
/// `dir/..` are removed, and an empty result is `.`.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// Whether `pattern` is valid for Go's `filepath.Match`: every `\` escapes a character and every
/// `[` opens a non-empty, closed class whose items are characters or `a-z` ranges (a literal `-`
/// or `]` must be escaped).
fn valid_syntax(pattern: &str) -> bool {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // The guard consumes the escaped character; only a trailing `\` is an error.
            '\\' if chars.next().is_none() => return false,
            '[' => {
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                let mut items = 0;
                loop {
                    if items > 0 && chars.peek() == Some(&']') {
                        chars.next();
                        break;
                    }
                    if !class_char(&mut chars) {
                        return false;
                    }
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        if !class_char(&mut chars) {
                            return false;
                        }
                    }
                    items += 1;
                }
            }
            _ => {}
        }
    }
    true
}

/// Reads one class character (possibly `\`-escaped) for [`valid_syntax`]; like Go's `getEsc`
/// it also fails when nothing follows it.
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    match chars.next() {
        None | Some('-' | ']') => return false,
        Some('\\') => {
            if chars.next().is_none() {
                return false;
            }
        }
        Some(_) => {}
    }
    chars.peek().is_some()
}

/// How a pattern is tested, chosen when it is compiled (as `patternmatcher` does).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    /// No wildcard: the path must equal the pattern.
    Exact(String),
    /// `dir/**` and the like: the path must start with the text before `**`.
    Prefix(String),
    /// `**` followed by no other wildcard: the path must end with the text after `**`
    /// (or equal it without its leading `/`).
    Suffix(String),
    /// Anything else: a small automaton over the instructions.
    Glob(Glob),
}

/// A compiled wildcard pattern: a quick literal test, then the automaton.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Glob {
    /// The literal text every match starts with (the leading plain characters).
    prefix: String,
    /// The literal text every match ends with (the trailing plain characters).
    suffix: String,
    insts: Vec<Inst>,
    /// The states with epsilon moves, in order.
    epsilons: Vec<usize>,
}

impl Glob {
    fn new(insts: Vec<Inst>) -> Self {
        let literal = |inst: &Inst| match inst {
            Inst::Char(c) => Some(*c),
            _ => None,
        };
        let prefix = insts.iter().map_while(literal).collect();
        let mut suffix: Vec<char> = insts.iter().rev().map_while(literal).collect();
        suffix.reverse();
        let epsilons = insts
            .iter()
            .enumerate()
            .filter(|(_, inst)| matches!(inst, Inst::Star | Inst::Rest | Inst::DirSkip))
            .map(|(i, _)| i)
            .collect();
        Glob {
            prefix,
            suffix: suffix.into_iter().collect(),
            insts,
            epsilons,
        }
    }

    /// Whether the whole of `path` matches (anchored at both ends).
    fn matches(&self, path: &str) -> bool {
        path.starts_with(self.prefix.as_str())
            && path.ends_with(self.suffix.as_str())
            && self.run(path)
    }

    /// Simulates the automaton with one bit per state; every state set is a few words.
    fn run(&self, path: &str) -> bool {
        let accept = self.insts.len();
        let words = accept / 64 + 1;
        // Patterns of up to 127 states (nearly all) keep their two state sets on the stack.
        let mut stack = [0u64; 4];
        let mut heap = Vec::new();
        let storage: &mut [u64] = if words <= 2 {
            &mut stack[..words * 2]
        } else {
            heap.resize(words * 2, 0);
            &mut heap
        };
        let (mut current, mut next) = storage.split_at_mut(words);
        set_bit(current, 0);
        self.close(current);
        for c in path.chars() {
            next.fill(0);
            let mut alive = false;
            for (w, &word) in current.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let state = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let Some(inst) = self.insts.get(state) else {
                        continue;
                    };
                    let (stay, advance) = inst.step(c);
                    if stay {
                        set_bit(next, state);
                    }
                    if advance {
                        set_bit(next, state + 1);
                    }
                    alive |= stay || advance;
                }
            }
            if !alive {
                return false;
            }
            self.close(next);
            std::mem::swap(&mut current, &mut next);
        }
        bit(current, accept)
    }

    /// Adds the states reachable by epsilon moves; they all go forward, so one pass in state
    /// order suffices.
    fn close(&self, states: &mut [u64]) {
        for &state in &self.epsilons {
            if bit(states, state) {
                set_bit(states, state + 1);
                if self.insts[state] == Inst::DirSkip {
                    set_bit(states, state + 2);
                }
            }
        }
    }
}

fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] & (1 << (i % 64)) != 0
}

fn set_bit(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (i % 64);
}

/// One step of a compiled glob; all epsilon moves go forward.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inst {
    /// This exact character.
    Char(char),
    /// `?`: one character other than `/`.
    One,
    /// `[…]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `*`: any run of characters other than `/` (may be skipped).
    Star,
    /// The start of `**/` in the middle of a pattern: skip the group, or enter it.
    DirSkip,
    /// Inside `**/`: any characters (not newlines), leaving after a `/`.
    DirInside,
    /// A final `**`: any characters except newlines.
    Rest,
}

impl Matcher {
    /// Compiles a cleaned, syntax-checked pattern, choosing its match type like
    /// `patternmatcher` does: a leading `**` makes a suffix test unless another wildcard
    /// follows, a trailing `**` after plain text makes a prefix test.
    ///
    /// One deliberate difference: upstream turns `[…]` into a regular expression while still
    /// translating `*` and `?` inside it, so `[*]` means something odd there; here every class
    /// member is literal, as in `filepath.Match`.
    fn compile(pattern: &str) -> Matcher {
        #[derive(PartialEq)]
        enum Kind {
            Exact,
            Prefix,
            Suffix,
            Glob,
        }
        let mut kind = Kind::Exact;
        let mut insts = Vec::new();
        let mut chars = pattern.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    if chars.peek() == Some(&'/') {
                        chars.next();
                    }
                    if chars.peek().is_none() {
                        if kind == Kind::Exact {
                            kind = Kind::Prefix;
                        } else {
                            insts.push(Inst::Rest);
                            kind = Kind::Glob;
                        }
                    } else {
                        insts.push(Inst::DirSkip);
                        insts.push(Inst::DirInside);
                        kind = Kind::Glob;
                    }
                    if first {
                        kind = Kind::Suffix;
                    }
                }
                '*' => {
                    insts.push(Inst::Star);
                    kind = Kind::Glob;
                }
                '?' => {
                    insts.push(Inst::One);
                    kind = Kind::Glob;
                }
                '\\' => {
                    // Syntax checking guarantees a following character.
                    if let Some(next) = chars.next() {
                        insts.push(Inst::Char(next));
                    }
                    kind = Kind::Glob;
                }
                '[' => {
                    insts.push(compile_class(&mut chars));
                    kind = Kind::Glob;
                }
                ']' => {
                    insts.push(Inst::Char(']'));
                    kind = Kind::Glob;
                }
                _ => insts.push(Inst::Char(c)),
            }
            first = false;
        }
        match kind {
            Kind::Exact => Matcher::Exact(pattern.to_owned()),
            Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_owned()),
            Kind::Suffix => Matcher::Suffix(pattern[2..].to_owned()),
            Kind::Glob => Matcher::Glob(Glob::new(insts)),
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Exact(text) => path == text,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Matcher::Glob(glob) => glob.matches(path),
        }
    }
}

/// Compiles the class after a `[` (already syntax-checked) up to its `]`.
fn compile_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Inst {
    let negated = chars.peek() == Some(&'^');
    if negated {
        chars.next();
    }
    let mut ranges = Vec::new();
    let take = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| match chars.next() {
        Some('\\') => chars.next().unwrap_or('\\'),
        other => other.unwrap_or(']'),
    };
    loop {
        if !ranges.is_empty() && chars.peek() == Some(&']') {
            chars.next();
            break;
        }
        if chars.peek().is_none() {
            break;
        }
        let lo = take(chars);
        let hi = if chars.peek() == Some(&'-') {
            chars.next();
            take(chars)
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
    Inst::Class { negated, ranges }
}

impl Inst {
    /// What reading `c` in this state does: stay in it, advance to the next one (or both).
    fn step(&self, c: char) -> (bool, bool) {
        match self {
            Inst::Char(x) => (false, *x == c),
            Inst::One => (false, c != '/'),
            Inst::Class { negated, ranges } => (
                false,
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated,
            ),
            Inst::Star => (c != '/', false),
            Inst::DirSkip => (false, false),
            Inst::DirInside => (c != '\n', c == '/'),
            Inst::Rest => (c != '\n', false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `path` is excluded by a `.dockerignore` holding `patterns`, one per line.
    fn excluded(patterns: &[&str], path: &str) -> bool {
        DockerIgnore::parse(&patterns.join("\n"))
            .unwrap()
            .is_excluded(path)
    }

    #[test]
    fn single_pattern_table() {
        // (pattern, path, excluded): the path itself or one of its parents matches.
        let cases: &[(&str, &str, bool)] = &[
            ("*", "main.go", true),
            ("*", "dir/main.go", true),
            ("*.go", "main.go", true),
            ("*.go", "main.rs", false),
            ("*.go", "cmd/main.go", false),
            ("*/*.go", "cmd/main.go", true),
            ("*/temp*", "somedir/temporary.txt", true),
            ("*/temp*", "somedir/temp", true),
            ("*/temp*", "temp", false),
            ("*/*/temp*", "somedir/subdir/temporary.txt", true),
            ("*/*/temp*", "somedir/temporary.txt", false),
            ("temp?", "tempa", true),
            ("temp?", "temp", false),
            ("temp?", "tempab", false),
            ("temp?", "temp/", false),
            ("**", "file", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**/**", "dir/file", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/dir2/file", true),
            ("dir/**", "dir", false),
            ("dir/**", "dirt/file", false),
            ("**/dir", "dir", true),
            ("**/dir", "a/b/dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir", "adir", false),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir2/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**file", "file", true),
            ("**file", "dir/dir/file", true),
            ("**file", "barfile", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/file.txt", true),
            ("**/file*.txt", "dir/file.md", false),
            ("**/**/*.txt", "file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.go", "a/b/c.go", true),
            ("**/*.go", "c.go", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "a/xb", false),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[b-d]e", "ae", false),
            ("a[^b-d]e", "aze", true),
            ("a[^b-d]e", "ace", false),
            ("ab[c]", "abc", true),
            ("[\\]a]", "]", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[a-ζ]*", "α", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("a?b", "a☺b", true),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("a\\\\", "a\\", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            // Directory prefixes: a pattern naming a directory excludes what is inside it.
            ("docs", "docs/README.md", true),
            ("docs/", "docs/README.md", true),
            ("docs", "docsite/index.html", false),
            ("node_modules", "node_modules/a/b/c.js", true),
            ("src/*", "src/a/b.rs", true),
            // Cleaning of the pattern and of the path.
            ("./build/../dist", "dist/app.js", true),
            ("/secret", "secret", true),
            ("secret", "/secret", true),
            ("secret", "./secret", true),
            ("a//b", "a/b", true),
            ("*", ".", false),
        ];
        for &(pattern, path, want) in cases {
            assert_eq!(
                excluded(&[pattern], path),
                want,
                "pattern {pattern:?} path {path:?}"
            );
        }
    }

    #[test]
    fn last_matching_rule_wins() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&["*.go", "!main.go"], "main.go", false),
            (&["!main.go", "*.go"], "main.go", true),
            (&["docs", "!docs/README.md"], "docs/README.md", false),
            (&["docs", "!docs/README.md"], "docs/other.md", true),
            (&["docs/*", "!docs/README.md"], "docs/README.md", false),
            (&["**", "!util/docker/web"], "util/docker/web/foo", false),
            (
                &["**", "!util/docker/web", "util/docker/web/foo"],
                "util/docker/web/foo",
                true,
            ),
            (&["**", "!dist/*.whl"], "dist/x-1.0-py3-none-any.whl", false),
            (&["**", "!dist/*.whl"], "dist/x.tar.gz", true),
            // The docs' two orderings of the same three lines.
            (
                &["*.md", "!README*.md", "README-secret.md"],
                "README-secret.md",
                true,
            ),
            (
                &["*.md", "!README*.md", "README-secret.md"],
                "README-public.md",
                false,
            ),
            (
                &["*.md", "README-secret.md", "!README*.md"],
                "README-secret.md",
                false,
            ),
            (&["*.md", "!README*.md"], "CHANGES.md", true),
            // An exception for a directory re-includes what is under it.
            (&["*", "!src"], "src/main.rs", false),
            (&["*", "!src"], "target/debug", true),
            (&[], "anything", false),
        ];
        for &(patterns, path, want) in cases {
            assert_eq!(
                excluded(patterns, path),
                want,
                "patterns {patterns:?} path {path:?}"
            );
        }
    }

    #[test]
    fn reading_follows_ignorefile() {
        let text = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ";
        let got: Vec<String> = read_patterns(text)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(
            got,
            [
                "test1",
                "test2",
                "a/file/here",
                "lastfile",
                "!inverted/abs/path",
                "!",
                "!"
            ]
        );
        let lines: Vec<usize> = read_patterns("a\n\n# c\nb\r\n")
            .unwrap()
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(lines, [1, 4]);
    }

    #[test]
    fn reading_table() {
        let cases: &[(&str, &[&str])] = &[
            ("\u{feff}# comment\nfoo", &["foo"]),
            ("\u{feff}foo", &["foo"]),
            ("foo\n\u{feff}bar", &["foo", "\u{feff}bar"]),
            (" # not a comment", &["# not a comment"]),
            ("  spaced  \t", &["spaced"]),
            ("dir/", &["dir"]),
            ("./x", &["x"]),
            ("a/../b", &["b"]),
            ("/", &["/"]),
            ("//x//y/", &["x/y"]),
            ("!  /keep/", &["!keep"]),
            ("../outside", &["../outside"]),
            ("crlf\r\nnext\r\n", &["crlf", "next"]),
            ("\n\n\t\n", &[]),
        ];
        for &(text, want) in cases {
            let got: Vec<String> = read_patterns(text)
                .unwrap()
                .into_iter()
                .map(|(_, p)| p)
                .collect();
            assert_eq!(got, want, "text {text:?}");
        }
        // ` # x` (leading space) is a pattern `# x`, trimmed.
        assert_eq!(read_patterns(" # x").unwrap(), [(1, "# x".to_owned())]);
    }

    #[test]
    fn pattern_lists_skip_the_file_rules() {
        // `COPY --exclude` patterns: no comments, no leading-slash removal, same matching.
        let list = DockerIgnore::from_patterns(["#x", " *.tmp ", "", "/abs"]).unwrap();
        assert_eq!(list.patterns().len(), 3);
        assert!(list.is_excluded("#x"));
        assert!(!list.is_excluded("cache/a.tmp") && list.is_excluded("a.tmp"));
        assert!(!list.is_excluded("abs"));
        assert_eq!(list.patterns()[1].line(), 2);
    }

    #[test]
    fn comments_only_in_the_first_column() {
        let ignore = DockerIgnore::parse("#secret\n #hash\n").unwrap();
        assert!(!ignore.is_excluded("#secret"));
        assert!(ignore.is_excluded("#hash"));
    }

    #[test]
    fn errors_have_go_messages_and_lines() {
        let err = DockerIgnore::parse("ok\n[\n").unwrap_err();
        assert_eq!(err.to_string(), "syntax error in pattern");
        assert_eq!(
            err,
            IgnoreError::BadPattern {
                pattern: "[".into(),
                line: 2
            }
        );
        let err = DockerIgnore::parse("a\n\n!\n").unwrap_err();
        assert_eq!(err.to_string(), "illegal exclusion pattern: \"!\"");
        assert_eq!(err.line(), 3);
        // `!/` cleans to `!` once the path is cleaned again.
        assert!(matches!(
            DockerIgnore::parse("!/"),
            Err(IgnoreError::IllegalExclusion { .. })
        ));
        let long = format!("ok\n{}\n", "x".repeat(MAX_LINE));
        let err = DockerIgnore::parse(&long).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error reading .dockerignore: bufio.Scanner: token too long"
        );
        assert_eq!(err.line(), 2);
        assert!(DockerIgnore::parse(&"x".repeat(MAX_LINE - 1)).is_ok());
    }

    #[test]
    fn syntax_table() {
        let bad = [
            "[", "[^", "[^bc", "a[", "[]a]", "[-]", "[x-]", "[-x]", "[a-b-c]", "\\", "a\\", "[\\",
            "[a\\",
        ];
        for p in bad {
            assert!(
                matches!(
                    DockerIgnore::from_patterns([p]),
                    Err(IgnoreError::BadPattern { .. })
                ),
                "{p:?} should be rejected"
            );
        }
        let good = [
            "]", "a]b", "[\\]a]", "[\\-]", "[x\\-]", "[^a]", "[a-z0-9]", "a\\*b", "x[*]",
        ];
        for p in good {
            assert!(
                DockerIgnore::from_patterns([p]).is_ok(),
                "{p:?} should be accepted"
            );
        }
    }

    #[test]
    fn compile_picks_the_match_type() {
        let kind = |p: &str| match Matcher::compile(p) {
            Matcher::Exact(_) => "exact",
            Matcher::Prefix(_) => "prefix",
            Matcher::Suffix(_) => "suffix",
            Matcher::Glob(_) => "glob",
        };
        assert_eq!(kind("abc.def"), "exact");
        assert_eq!(kind("a(b)c"), "exact");
        assert_eq!(kind("dir/**"), "prefix");
        assert_eq!(kind("**"), "suffix");
        assert_eq!(kind("**/dir"), "suffix");
        assert_eq!(kind("**file"), "suffix");
        assert_eq!(kind("**/**"), "glob");
        assert_eq!(kind("**/dir2/*"), "glob");
        assert_eq!(kind("a\\*b"), "glob");
        assert_eq!(kind("a[b]"), "glob");
        assert_eq!(kind("*.go"), "glob");
    }

    #[test]
    fn deciding_pattern_names_the_rule() {
        let ignore = DockerIgnore::parse("*.md\n!README*.md\nREADME-secret.md\n").unwrap();
        let rule = ignore.deciding_pattern("README-secret.md").unwrap();
        assert_eq!(
            (rule.line(), rule.as_str(), rule.is_exclusion()),
            (3, "README-secret.md", false)
        );
        let rule = ignore.deciding_pattern("README.md").unwrap();
        assert_eq!((rule.line(), rule.is_exclusion()), (2, true));
        assert!(ignore.deciding_pattern("main.rs").is_none());
        assert!(ignore.has_exclusions());
        assert_eq!(ignore.patterns().len(), 3);
    }

    #[test]
    fn long_globs_use_several_words_of_state() {
        let pattern = format!("{}*{}", "a/".repeat(40), "b?".repeat(40));
        let path = format!("{}xyz{}", "a/".repeat(40), "bc".repeat(40));
        assert!(excluded(&[&pattern], &path));
        assert!(!excluded(&[&pattern], &path.replace("xyz", "x/z")));
    }

    #[test]
    fn literal_ends_are_checked_first() {
        let Matcher::Glob(glob) = Matcher::compile("src/*.log") else {
            panic!("not a glob")
        };
        assert_eq!(
            (glob.prefix.as_str(), glob.suffix.as_str()),
            ("src/", ".log")
        );
        assert!(
            glob.matches("src/a.log") && !glob.matches("src/a.rs") && !glob.matches("lib/a.log")
        );
        assert!(!glob.matches("src/a/b.log"));
    }

    #[test]
    fn pathological_globs_stay_linear() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let path = "a".repeat(5000);
        assert!(!excluded(&[pattern], &path));
        assert!(excluded(&[pattern], &format!("{path}b")));
    }

    #[test]
    fn clean_matches_go() {
        let cases = [
            ("", "."),
            (".", "."),
            ("a/", "a"),
            ("a//b", "a/b"),
            ("./a/./b/", "a/b"),
            ("a/b/../c", "a/c"),
            ("a/../..", ".."),
            ("../../a", "../../a"),
            ("/../a", "/a"),
            ("/", "/"),
            ("//", "/"),
            ("!./x", "!./x"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn errors_become_diagnostics_on_their_line() {
        let src = "node_modules\n[oops\n";
        let diag = DockerIgnore::parse(src).unwrap_err().to_diagnostic(src);
        assert_eq!((diag.line, diag.column, diag.end_column), (2, 1, 6));
        assert_eq!(diag.message, "syntax error in pattern");
        assert_eq!(diag.severity, Severity::Error);
    }
}
