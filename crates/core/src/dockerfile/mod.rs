//! The Dockerfile front end: parser, AST dump, word expansion, typed instructions,
//! `.dockerignore` matching, diagnostics and lint.
//!
//! It follows BuildKit's Dockerfile front end (`frontend/dockerfile`), checked against BuildKit's
//! own test vectors in `tests/data/buildkit`.

pub mod diagnostic;
pub mod expand;
pub mod ignore;
pub mod lint;
pub mod parser;
pub mod quote;
