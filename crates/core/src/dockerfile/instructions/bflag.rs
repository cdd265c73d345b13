//! Builder flags (spec §12.1): `--name=value` words peeled off an instruction by the parser,
//! checked against the flags the instruction accepts (BuildKit's `BFlags`).
//!
//! ```
//! use layerbox_core::dockerfile::instructions::bflag::BFlags;
//!
//! let mut flags = BFlags::new(&["--link", "--from=build"]);
//! flags.add_bool("link", false);
//! flags.add_string("from", "");
//! flags.parse().unwrap();
//! assert!(flags.bool("link"));
//! assert_eq!(flags.string("from"), "build");
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::suggest::did_you_mean;

/// A flag value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlagValue {
    /// `--name` or `--name=true|false`.
    Bool(bool),
    /// `--name=value` (single).
    String(String),
    /// `--name=value`, repeatable, in order.
    Strings(Vec<String>),
}

#[derive(Debug, Clone)]
struct Flag {
    name: String,
    value: FlagValue,
    used: bool,
}

/// Why a flag word was rejected (BuildKit's messages).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FlagError {
    /// A word that does not start with `--`.
    #[error("arg should start with -- : {word}")]
    NotAFlag {
        /// The word.
        word: String,
    },
    /// A flag the instruction does not accept.
    #[error("unknown flag: --{name}{}", did_you_mean(suggestion.as_deref()))]
    Unknown {
        /// The name without dashes.
        name: String,
        /// A defined flag within edit distance 2.
        suggestion: Option<String>,
    },
    /// A single-valued flag given twice.
    #[error("duplicate flag specified: --{name}")]
    Duplicate {
        /// The name without dashes.
        name: String,
    },
    /// `--from` without `=`, or `--link=`.
    #[error("missing a value on flag: --{name}")]
    MissingValue {
        /// The name without dashes.
        name: String,
    },
    /// `--link=yes`.
    #[error("expecting boolean value for flag --{name}, not: {value}")]
    NotABool {
        /// The name without dashes.
        name: String,
        /// The value given.
        value: String,
    },
}

impl FlagError {
    /// The flag name concerned (for pointing a diagnostic at it).
    pub fn flag(&self) -> &str {
        match self {
            FlagError::NotAFlag { word } => word,
            FlagError::Unknown { name, .. }
            | FlagError::Duplicate { name }
            | FlagError::MissingValue { name }
            | FlagError::NotABool { name, .. } => name,
        }
    }
}

/// The flags of one instruction: define what it accepts, then [`BFlags::parse`] the words.
#[derive(Debug, Clone, Default)]
pub struct BFlags {
    args: Vec<String>,
    flags: Vec<Flag>,
    used: Vec<String>,
}

impl BFlags {
    /// Flags to be parsed from these words (as the parser extracted them).
    pub fn new<S: AsRef<str>>(args: &[S]) -> Self {
        BFlags {
            args: args.iter().map(|a| a.as_ref().to_string()).collect(),
            ..BFlags::default()
        }
    }

    fn add(&mut self, name: &str, value: FlagValue) {
        self.flags.push(Flag {
            name: name.to_string(),
            value,
            used: false,
        });
    }

    /// Accepts `--name[=bool]`.
    pub fn add_bool(&mut self, name: &str, default: bool) {
        self.add(name, FlagValue::Bool(default));
    }

    /// Accepts `--name=value` once.
    pub fn add_string(&mut self, name: &str, default: &str) {
        self.add(name, FlagValue::String(default.to_string()));
    }

    /// Accepts `--name=value` any number of times.
    pub fn add_strings(&mut self, name: &str) {
        self.add(name, FlagValue::Strings(Vec::new()));
    }

    /// Checks every word against the defined flags and records the values.
    pub fn parse(&mut self) -> Result<(), FlagError> {
        for arg in std::mem::take(&mut self.args) {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(FlagError::NotAFlag { word: arg });
            };
            if body.is_empty() {
                return Ok(());
            }
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(flag) = self.flags.iter_mut().find(|f| f.name == name) else {
                let mut names: Vec<&str> = self.flags.iter().map(|f| f.name.as_str()).collect();
                names.sort_unstable();
                return Err(FlagError::Unknown {
                    name: name.to_string(),
                    suggestion: super::suggest::search(name, &names, true),
                });
            };
            let name = name.to_string();
            if flag.used && !matches!(flag.value, FlagValue::Strings(_)) {
                return Err(FlagError::Duplicate { name });
            }
            flag.used = true;
            if !self.used.contains(&name) {
                self.used.push(name.clone());
            }
            match (&mut flag.value, value) {
                (FlagValue::Bool(_), Some("")) => return Err(FlagError::MissingValue { name }),
                (FlagValue::Bool(b), v) => match v.map(str::to_lowercase).as_deref() {
                    None | Some("true") => *b = true,
                    Some("false") => *b = false,
                    Some(_) => {
                        return Err(FlagError::NotABool {
                            name,
                            value: v.unwrap_or_default().to_string(),
                        });
                    }
                },
                (FlagValue::String(_) | FlagValue::Strings(_), None) => {
                    return Err(FlagError::MissingValue { name });
                }
                (FlagValue::String(s), Some(v)) => *s = v.to_string(),
                (FlagValue::Strings(list), Some(v)) => list.push(v.to_string()),
            }
        }
        Ok(())
    }

    /// The value of a defined flag.
    pub fn value(&self, name: &str) -> Option<&FlagValue> {
        self.flags.iter().find(|f| f.name == name).map(|f| &f.value)
    }

    /// A boolean flag's value (false when undefined).
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.value(name), Some(FlagValue::Bool(true)))
    }

    /// A boolean flag's value when it was given, `None` otherwise (`--keep-git-dir`, `--unpack`).
    pub fn bool_if_used(&self, name: &str) -> Option<bool> {
        self.is_used(name).then(|| self.bool(name))
    }

    /// A string flag's value ("" when undefined).
    pub fn string(&self, name: &str) -> &str {
        match self.value(name) {
            Some(FlagValue::String(s)) => s,
            _ => "",
        }
    }

    /// A multi-valued flag's values in order.
    pub fn strings(&self, name: &str) -> &[String] {
        match self.value(name) {
            Some(FlagValue::Strings(v)) => v,
            _ => &[],
        }
    }

    /// Whether the flag was given.
    pub fn is_used(&self, name: &str) -> bool {
        self.used.iter().any(|u| u == name)
    }

    /// The names of the flags given, in first-use order.
    pub fn used(&self) -> &[String] {
        &self.used
    }
}
