//! `COPY/ADD --chmod` values (spec §13.8): octal (`755`, `0644`) or symbolic (`u=rwX,go=rX`,
//! `+x`), checked after expansion and applied to each copied file.
//!
//! ```
//! use layerbox_core::dockerfile::instructions::chmod::Chmod;
//!
//! assert_eq!(Chmod::parse("0644").unwrap().apply(0o755, false), 0o644);
//! assert_eq!(Chmod::parse("u=rwX,go=rX").unwrap().apply(0o600, true), 0o755);
//! assert_eq!(Chmod::parse("+x").unwrap().apply(0o644, false), 0o755);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A `--chmod` value that is neither a mode up to `07777` nor a symbolic mode.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("invalid chmod parameter: '{0}'. it should be octal string and between 0 and 07777")]
pub struct ChmodError(pub String);

/// What a symbolic clause sets: permission letters, or a copy of another class's bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Perm {
    /// `rwxXst` letters.
    Letters(String),
    /// `u`, `g` or `o`: copy that class's current bits.
    Copy(char),
}

/// One comma-separated clause of a symbolic mode: who, then operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clause {
    /// `u`, `g`, `o`, `a` letters (empty means all).
    pub who: String,
    /// `+`, `-` or `=` with what they set.
    pub ops: Vec<(char, Perm)>,
}

/// A parsed `--chmod`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Chmod {
    /// An octal mode, at most `0o7777`.
    Octal(u32),
    /// A symbolic mode, applied relative to each file's own mode.
    Symbolic(Vec<Clause>),
}

/// Permission bits of one class (`u`, `g`, `o`) within a mode, as `rwx` in the low 3 bits.
fn class_bits(mode: u32, class: char) -> u32 {
    match class {
        'u' => (mode >> 6) & 7,
        'g' => (mode >> 3) & 7,
        _ => mode & 7,
    }
}

impl Chmod {
    /// Parses a value as BuildKit does: octal first, then symbolic.
    pub fn parse(value: &str) -> Result<Chmod, ChmodError> {
        let err = || ChmodError(value.to_string());
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            let mode = u32::from_str_radix(value, 8).map_err(|_| err())?;
            return if mode > 0o7777 {
                Err(err())
            } else {
                Ok(Chmod::Octal(mode))
            };
        }
        let mut clauses = Vec::new();
        for part in value.split(',') {
            let who_end = part.find(|c| !"ugoa".contains(c)).unwrap_or(part.len());
            let (who, mut rest) = part.split_at(who_end);
            let mut ops = Vec::new();
            while let Some(op) = rest.chars().next().filter(|c| "+-=".contains(*c)) {
                rest = &rest[1..];
                let end = rest.find(|c| "+-=".contains(c)).unwrap_or(rest.len());
                let (perm, after) = rest.split_at(end);
                rest = after;
                let perm = match perm {
                    "u" | "g" | "o" => Perm::Copy(perm.chars().next().unwrap_or('u')),
                    p if p.chars().all(|c| "rwxXst".contains(c)) => Perm::Letters(p.to_string()),
                    _ => return Err(err()),
                };
                ops.push((op, perm));
            }
            if ops.is_empty() || !rest.is_empty() {
                return Err(err());
            }
            clauses.push(Clause {
                who: who.to_string(),
                ops,
            });
        }
        Ok(Chmod::Symbolic(clauses))
    }

    /// The new mode of a file whose permission bits are `mode` (`X` needs to know directories).
    pub fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        let clauses = match self {
            Chmod::Octal(m) => return *m,
            Chmod::Symbolic(c) => c,
        };
        let mut mode = mode & 0o7777;
        for clause in clauses {
            let who = if clause.who.is_empty() || clause.who.contains('a') {
                "ugo"
            } else {
                clause.who.as_str()
            };
            let mut mask = 0;
            for c in who.chars() {
                mask |= match c {
                    'u' => 0o4700,
                    'g' => 0o2070,
                    _ => 0o1007,
                };
            }
            for (op, perm) in &clause.ops {
                let rwx = match perm {
                    Perm::Copy(class) => class_bits(mode, *class) * 0o111,
                    Perm::Letters(letters) => {
                        let mut bits = 0;
                        for l in letters.chars() {
                            bits |= match l {
                                'r' => 0o444,
                                'w' => 0o222,
                                'x' => 0o111,
                                'X' if is_dir || mode & 0o111 != 0 => 0o111,
                                's' => 0o6000,
                                't' => 0o1000,
                                _ => 0,
                            };
                        }
                        bits
                    }
                };
                let bits = rwx & mask;
                mode = match op {
                    '+' => mode | bits,
                    '-' => mode & !bits,
                    _ => (mode & !mask) | bits,
                };
            }
        }
        mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(Chmod::parse("755").unwrap(), Chmod::Octal(0o755));
        assert_eq!(Chmod::parse("7777").unwrap(), Chmod::Octal(0o7777));
        for bad in ["17777", "789", "abc", "", "u=rw,", "+q"] {
            assert_eq!(
                Chmod::parse(bad).unwrap_err().to_string(),
                format!(
                    "invalid chmod parameter: '{bad}'. it should be octal string and between 0 and 07777"
                )
            );
        }
        let c = Chmod::parse("go-w,o=u").unwrap();
        assert_eq!(c.apply(0o666, false), 0o646);
        assert_eq!(Chmod::parse("a=rX").unwrap().apply(0o640, false), 0o444);
        assert_eq!(Chmod::parse("u+s,+t").unwrap().apply(0o755, false), 0o5755);
    }
}
