//! The syntax tree of the POSIX shell subset that `RUN` lines use.
//!
//! Names follow the POSIX grammar (XCU §2.10): a program is a list of and-or lists, an and-or
//! list joins pipelines with `&&` and `||`, a pipeline joins commands with `|`.

use serde::{Deserialize, Serialize};

/// A whole script: and-or lists run one after the other.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Program {
    /// The lists, in order.
    pub items: Vec<AndOr>,
}

/// Pipelines joined by `&&` / `||`; `background` when the list ended with `&`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AndOr {
    /// The first pipeline.
    pub first: Pipeline,
    /// The following pipelines with the operator before each.
    pub rest: Vec<(Connector, Pipeline)>,
    /// Ended with `&` (the simulator runs it in the foreground and says so).
    pub background: bool,
}

/// `&&` or `||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Connector {
    /// `&&`: run the next pipeline if this one succeeded.
    And,
    /// `||`: run the next pipeline if this one failed.
    Or,
}

/// Commands joined by `|`, optionally negated with `!`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Started with `!`: the exit status is inverted.
    pub negated: bool,
    /// The commands, left to right.
    pub commands: Vec<Command>,
}

/// One command of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Assignments, words and redirections.
    Simple(SimpleCommand),
    /// A compound command with its own redirections.
    Compound(Box<CompoundCommand>, Vec<Redirect>),
    /// `name() { … }`.
    FunctionDef(String, Box<CompoundCommand>),
}

/// `A=1 cmd arg >file`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SimpleCommand {
    /// `NAME=value` prefixes.
    pub assignments: Vec<(String, Word)>,
    /// The command name and its arguments, before expansion.
    pub words: Vec<Word>,
    /// Redirections, in order.
    pub redirects: Vec<Redirect>,
    /// The 1-based line the command starts on (dash names it in error messages).
    #[serde(default)]
    pub line: usize,
}

/// The compound commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompoundCommand {
    /// `{ list; }`.
    Group(Program),
    /// `( list )`.
    Subshell(Program),
    /// `if … then … elif … else … fi`: (condition, body) pairs and the else body.
    If(Vec<(Program, Program)>, Option<Program>),
    /// `while cond; do body; done` (`until` when the flag is set).
    While {
        /// `until` rather than `while`.
        until: bool,
        /// The condition list.
        condition: Program,
        /// The loop body.
        body: Program,
    },
    /// `for name in words; do body; done`; no `in` means `"$@"`.
    For {
        /// The loop variable.
        name: String,
        /// The words after `in`, if any.
        words: Option<Vec<Word>>,
        /// The loop body.
        body: Program,
    },
    /// `case word in pattern) list;; esac`.
    Case(Word, Vec<(Vec<Word>, Program)>),
    /// bash's `[[ … ]]`: its words and operators (`&&`, `||`, `!`, `(`, `)`, `<`, `>`), in order.
    Cond(Vec<CondToken>),
}

/// A redirection such as `2>&1`, `>>log`, `<<EOF`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// The file descriptor written before the operator, if any.
    pub fd: Option<u32>,
    /// The operator.
    pub op: RedirectOp,
    /// The target word (for here-documents: the body).
    pub target: Word,
}

/// Redirection operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RedirectOp {
    /// `<`
    Read,
    /// `>` (and `>|`)
    Write,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `<&`
    DupIn,
    /// `>&`
    DupOut,
    /// `<<` / `<<-`: the target holds the body; `true` when the delimiter was unquoted, so
    /// the body is expanded.
    HereDoc(bool),
}

/// A word before expansion: a sequence of parts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Word(pub Vec<WordPart>);

/// A piece of a word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WordPart {
    /// Unquoted text (subject to field splitting and globbing after expansion).
    Literal(String),
    /// Text that was quoted or escaped: taken as is.
    Quoted(String),
    /// `"…"`: its parts are expanded but not split or globbed.
    DoubleQuoted(Vec<WordPart>),
    /// `$name`, `${name…}`.
    Param(Param),
    /// `$(…)` or `` `…` ``.
    CommandSubst(Program),
    /// `$((…))`, kept as text and evaluated after its own expansion.
    Arith(Word),
    /// A leading `~` or `~user`.
    Tilde(String),
}

/// A parameter expansion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// The name: a variable, a digit, or one of `@ * # ? - $ !`.
    pub name: String,
    /// What to do with it.
    pub op: ParamOp,
}

/// The `${…}` operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamOp {
    /// Plain `$x` / `${x}`.
    Get,
    /// `${#x}`.
    Length,
    /// `${x:-w}` (`colon`: also when set but empty).
    Default(bool, Word),
    /// `${x:=w}`.
    Assign(bool, Word),
    /// `${x:?w}`.
    Error(bool, Word),
    /// `${x:+w}`.
    Alternative(bool, Word),
    /// `${x%w}` (`longest` for `%%`).
    RemoveSuffix(bool, Word),
    /// `${x#w}` (`longest` for `##`).
    RemovePrefix(bool, Word),
    /// bash's `${x/pattern/replacement}`; the kind is `/` (first match), `*` (every match,
    /// `${x//…}`), `#` (at the start, `${x/#…}`) or `%` (at the end, `${x/%…}`).
    Replace(char, Word, Word),
    /// A `${…}` the shell cannot expand: `Bad substitution` when it is expanded.
    Bad,
    /// bash's `${x:offset}` and `${x:offset:length}` (arithmetic words).
    Substring(Word, Option<Word>),
}

impl Word {
    /// A word of one unquoted literal.
    pub fn literal(text: &str) -> Word {
        Word(vec![WordPart::Literal(text.to_owned())])
    }

    /// The word's text when it has no expansions at all (for reserved words and names).
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                WordPart::Literal(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Whether any part was quoted (an empty quoted word still makes a field).
    pub fn has_quotes(&self) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, WordPart::Quoted(_) | WordPart::DoubleQuoted(_)))
    }
}

/// One item between bash's `[[` and `]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CondToken {
    /// `&&`, `||`, `(`, `)`, `<` or `>`.
    Op(String),
    /// A word, expanded without field splitting or globbing.
    Word(Word),
}
