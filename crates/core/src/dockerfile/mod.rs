//! The Dockerfile front end: parser, AST dump, word expansion, typed instructions,
//! `.dockerignore` matching, diagnostics and lint.
//!
//! It follows BuildKit's Dockerfile front end (`frontend/dockerfile`), checked against BuildKit's
//! own test vectors in `tests/data/buildkit`. The layers, from text to what a builder needs:
//!
//! * [`parser`]: lines, directives, continuations, heredocs → [`parser::Ast`] of [`parser::Node`]s
//!   with spans, and BuildKit's AST dump;
//! * [`instructions`]: the AST → [`instructions::Stage`]s of typed [`instructions::Instruction`]s;
//! * [`expand`]: the variable lexer, used by [`instructions::Instruction::expand`] (spec §11).
//!
//! ```
//! use std::collections::BTreeMap;
//! use layerbox_core::dockerfile::{self, expand::Lexer, instructions::Instruction};
//!
//! let df = dockerfile::parse("FROM alpine\nENV DIR=/srv\nWORKDIR $DIR/app\n").unwrap();
//! assert_eq!(df.ast.dump(), "(from \"alpine\")\n(env \"DIR\" \"/srv\" \"=\")\n(workdir \"$DIR/app\")\n");
//! let env = BTreeMap::from([("DIR".to_string(), "/srv".to_string())]);
//! let workdir = df.stages[0].instructions[1].expand(&Lexer::new(df.escape_token), &env).unwrap();
//! let Instruction::Workdir(w) = workdir else { unreachable!() };
//! assert_eq!(w.path, "/srv/app");
//! ```

pub mod diagnostic;
pub mod editor;
pub mod expand;
pub mod ignore;
pub mod instructions;
pub mod lint;
pub mod parser;
pub mod quote;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use instructions::{ArgCommand, InstructionError, InstructionErrorKind, Stage};
use parser::{Ast, Directive, Location, ParseError, Span, Warning};

/// The lines of one instruction (1-based, inclusive; continuations and heredoc bodies included):
/// what the editor and a build's history entries share, so that the playground can point from
/// an instruction to the layer it made and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceLines {
    /// The instruction's first line.
    pub first: usize,
    /// Its last line.
    pub last: usize,
}

impl SourceLines {
    /// The lines of an instruction at `location`.
    pub fn of(location: &Location) -> Self {
        Self {
            first: location.line,
            last: location.end_line.max(location.line),
        }
    }

    /// Whether `line` is one of them.
    pub fn contains(self, line: usize) -> bool {
        (self.first..=self.last).contains(&line)
    }
}

/// A parsed Dockerfile: stages with typed instructions, meta ARGs and parser warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dockerfile {
    /// The build stages in file order.
    pub stages: Vec<Stage>,
    /// ARGs declared before the first FROM (visible to FROM lines only).
    pub meta_args: Vec<ArgCommand>,
    /// Parser warnings (empty continuation lines).
    pub warnings: Vec<Warning>,
    /// Parser directives (`syntax`, `escape`, `check`).
    pub directives: Vec<Directive>,
    /// The escape token in effect.
    pub escape_token: char,
    /// The AST the stages were built from (for the dump and for lint rules).
    pub ast: Ast,
}

/// Any error of [`parse`]: a syntax error or a rejected instruction.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum Error {
    /// Lines, directives, heredocs, JSON (spec §1–§7).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Instruction arguments and flags (spec §12).
    #[error(transparent)]
    Instruction(#[from] InstructionError),
}

impl Error {
    /// Byte span of the error in the source.
    pub fn span(&self) -> Span {
        self.location().span
    }

    /// 1-based line of the error.
    pub fn line(&self) -> usize {
        self.location().line
    }

    /// Lines and columns of the error.
    pub fn location(&self) -> Location {
        match self {
            Error::Parse(e) => e.location,
            Error::Instruction(e) => e.location,
        }
    }

    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse(e) => e.code(),
            Error::Instruction(e) => e.code(),
        }
    }
}

/// Parses a Dockerfile into stages and typed instructions (spec §1–§12).
///
/// ```
/// use layerbox_core::dockerfile::{self, instructions::Instruction};
///
/// let df = dockerfile::parse("FROM python:3.9-slim\nWORKDIR /app\nCOPY . .\n").unwrap();
/// assert_eq!(df.stages[0].base_name, "python:3.9-slim");
/// assert!(matches!(df.stages[0].instructions[1], Instruction::Copy(_)));
/// let err = dockerfile::parse("FROM a\nFORM b\n").unwrap_err();
/// assert_eq!(err.to_string(), "unknown instruction: FORM (did you mean FROM?)");
/// assert_eq!((err.line(), err.code()), (2, "unknown-instruction"));
/// assert_eq!(dockerfile::parse("").unwrap_err().to_string(), "the Dockerfile cannot be empty");
/// ```
pub fn parse(text: &str) -> Result<Dockerfile, Error> {
    if text.is_empty() {
        return Err(ParseError {
            kind: parser::ParseErrorKind::EmptyDockerfile,
            location: Location::from_span(text, Span::new(0, 0)),
        }
        .into());
    }
    let ast = parser::parse(text)?;
    let (stages, meta_args) = instructions::parse(&ast, text)?;
    if stages.is_empty() {
        let span = Span::new(text.len(), text.len());
        return Err(InstructionError {
            kind: InstructionErrorKind::NoStages,
            start_line: ast.end_line,
            location: Location::from_span(text, span),
        }
        .into());
    }
    Ok(Dockerfile {
        stages,
        meta_args,
        warnings: ast.warnings.clone(),
        directives: ast.directives.clone(),
        escape_token: ast.escape_token,
        ast,
    })
}
