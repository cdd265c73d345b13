//! Shell pattern matching (XCU §2.13): `*`, `?` and bracket expressions, for `case`, `${x%pat}`,
//! pathname expansion and `find -name`.

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    toks: Vec<Tok>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Char(char),
    Any,
    Star,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Named(String),
}

impl Pattern {
    /// Compiles a pattern from characters each marked `true` when quoted (matching itself).
    pub(crate) fn new(chars: &[(char, bool)]) -> Self {
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (c, quoted) = chars[i];
            i += 1;
            if quoted {
                toks.push(Tok::Char(c));
                continue;
            }
            match c {
                '*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                }
                '?' => toks.push(Tok::Any),
                '\\' if i < chars.len() => {
                    toks.push(Tok::Char(chars[i].0));
                    i += 1;
                }
                '[' => match bracket(&chars[i..]) {
                    Some((tok, used)) => {
                        toks.push(tok);
                        i += used;
                    }
                    None => toks.push(Tok::Char('[')),
                },
                _ => toks.push(Tok::Char(c)),
            }
        }
        Self { toks }
    }

    /// Compiles an unquoted pattern (as `find -name` and `case` with a literal pattern take it).
    #[allow(dead_code)]
    pub(crate) fn parse(text: &str) -> Self {
        let chars: Vec<(char, bool)> = text.chars().map(|c| (c, false)).collect();
        Self::new(&chars)
    }

    /// Whether the pattern has any special character (else it only matches itself).
    pub(crate) fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Char(_)))
    }

    /// The text a literal pattern matches.
    pub(crate) fn literal_text(&self) -> String {
        self.toks
            .iter()
            .filter_map(|t| match t {
                Tok::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Whether the pattern starts with a literal `.` (only such patterns match hidden names).
    pub(crate) fn starts_with_dot(&self) -> bool {
        matches!(self.toks.first(), Some(Tok::Char('.')))
    }

    /// Whether the whole of `s` matches.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        self.matches_chars(&s)
    }

    fn matches_chars(&self, s: &[char]) -> bool {
        let (mut p, mut i) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while i < s.len() {
            match self.toks.get(p) {
                Some(Tok::Star) => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                Some(t) if single(t, s[i]) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            }
        }
        self.toks[p..].iter().all(|t| *t == Tok::Star)
    }

    /// The length in chars of the shortest or longest prefix of `s` that matches.
    pub(crate) fn prefix_len(&self, s: &str, longest: bool) -> Option<usize> {
        let chars: Vec<char> = s.chars().collect();
        let mut lens: Box<dyn Iterator<Item = usize>> = if longest {
            Box::new((0..=chars.len()).rev())
        } else {
            Box::new(0..=chars.len())
        };
        lens.find(|&n| self.matches_chars(&chars[..n]))
    }

    /// The length in chars of the shortest or longest suffix of `s` that matches.
    pub(crate) fn suffix_len(&self, s: &str, longest: bool) -> Option<usize> {
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        let mut lens: Box<dyn Iterator<Item = usize>> = if longest {
            Box::new((0..=n).rev())
        } else {
            Box::new(0..=n)
        };
        lens.find(|&k| self.matches_chars(&chars[n - k..]))
    }
}

fn single(t: &Tok, c: char) -> bool {
    match t {
        Tok::Char(x) => *x == c,
        Tok::Any => true,
        Tok::Star => false,
        Tok::Class { negated, items } => {
            let hit = items.iter().any(|it| match it {
                ClassItem::Char(x) => *x == c,
                ClassItem::Range(a, b) => (*a..=*b).contains(&c),
                ClassItem::Named(n) => named_class(n, c),
            });
            hit != *negated
        }
    }
}

fn named_class(name: &str, c: char) -> bool {
    match name {
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_ascii_alphanumeric(),
        "upper" => c.is_ascii_uppercase(),
        "lower" => c.is_ascii_lowercase(),
        "space" => c.is_ascii_whitespace(),
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "print" => c.is_ascii_graphic() || c == ' ',
        "graph" => c.is_ascii_graphic(),
        "cntrl" => c.is_ascii_control(),
        _ => false,
    }
}

/// Parses a bracket expression after its `[`; returns the token and the chars used (with `]`).
fn bracket(chars: &[(char, bool)]) -> Option<(Tok, usize)> {
    let mut i = 0;
    let negated = matches!(chars.first(), Some(('!' | '^', false)));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    while i < chars.len() {
        let (c, quoted) = chars[i];
        if c == ']' && !quoted && !first {
            return Some((Tok::Class { negated, items }, i + 1));
        }
        first = false;
        if c == '[' && !quoted && chars.get(i + 1) == Some(&(':', false)) {
            let rest: String = chars[i + 2..].iter().map(|(c, _)| *c).collect();
            if let Some(end) = rest.find(":]") {
                items.push(ClassItem::Named(rest[..end].to_owned()));
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
        }
        if chars.get(i + 1).is_some_and(|(d, q)| *d == '-' && !q)
            && let Some(&(hi, _)) = chars.get(i + 2)
            && hi != ']'
        {
            items.push(ClassItem::Range(c, hi));
            i += 3;
            continue;
        }
        items.push(ClassItem::Char(c));
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn stars_questions_and_brackets() {
        let p = Pattern::parse("*.tar.gz");
        assert!(p.matches("node.tar.gz"));
        assert!(!p.matches("node.tar"));
        assert!(Pattern::parse("a?c").matches("abc"));
        assert!(Pattern::parse("[a-c]x").matches("bx"));
        assert!(!Pattern::parse("[!a-c]x").matches("bx"));
        assert!(Pattern::parse("[[:digit:]]*").matches("1abc"));
        assert!(Pattern::parse("*").matches(""));
        assert!(Pattern::parse("a*b*c").matches("aXXbYYbc"));
        assert!(!Pattern::parse("a*b*c").matches("aXXbYYb"));
        assert!(Pattern::parse("[").matches("["));
    }

    #[test]
    fn quoted_characters_match_themselves() {
        let p = Pattern::new(&[('*', true), ('x', false)]);
        assert!(p.matches("*x"));
        assert!(!p.matches("ax"));
        assert!(p.is_literal());
    }

    #[test]
    fn prefixes_and_suffixes() {
        let p = Pattern::parse("*.");
        assert_eq!(p.prefix_len("a.b.c", false), Some(2));
        assert_eq!(p.prefix_len("a.b.c", true), Some(4));
        let s = Pattern::parse(".*");
        assert_eq!(s.suffix_len("a.b.c", false), Some(2));
        assert_eq!(s.suffix_len("a.b.c", true), Some(4));
        assert_eq!(Pattern::parse("x").suffix_len("abc", false), None);
    }
}
