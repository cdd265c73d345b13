//! The Dockerfile front end: parsing, `.dockerignore` matching, diagnostics and lint.

pub mod diagnostic;
pub mod ignore;
