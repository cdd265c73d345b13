//! A POSIX shell subset: the language of `RUN` lines, parsed as dash parses it.

pub mod ast;
mod parse;

pub use parse::{SyntaxError, is_name, parse, parse_heredoc_body};
