//! The docker-compatible command line shared by the browser terminal and the native binary:
//! the command grammar (argv to a typed [`Command`](command::Command)), help texts and usage
//! errors with docker's words and exit codes, and the output formatting (tables, sizes, relative
//! times, `--format` templates) as pure functions over rows the engine fills.
//!
//! How a front end uses it: [`split::split_line`] (browser terminal) → [`grammar::parse`] →
//! match the [`command::Command`] and ask the engine → print with [`rows::render_list`]
//! (`ps`, `images`, `history`, `system df`), [`inspect::inspect_json`], [`version::render_version`],
//! [`info::render_info`]; report refusals with [`grammar::UsageError`] (its `exit_code`) and the
//! engine's errors with [`report`].
//!
//! ```
//! use layerbox_core::cli::units::human_size;
//! use layerbox_core::cli::text::truncate_id;
//! assert_eq!(human_size(4_860_000), "4.86MB");
//! assert_eq!(truncate_id("sha256:15ea001ce4c81dbad085848690136409"), "15ea001ce4c8");
//! ```

pub mod command;
pub mod complete;
pub mod flags;
pub mod grammar;
pub mod info;
pub mod inspect;
pub mod layers;
pub mod mount;
pub mod report;
pub mod rows;
pub mod split;
pub mod table;
pub mod tabwriter;
pub mod template;
pub mod text;
pub mod units;
pub mod version;
