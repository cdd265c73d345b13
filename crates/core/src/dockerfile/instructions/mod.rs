//! The typed instruction layer (spec §12): stages and instructions with their flags, checked
//! with BuildKit's exact error messages (BuildKit's `frontend/dockerfile/instructions`).
//!
//! Values are kept as written (variables unexpanded): the builder expands them with the
//! stage's environment (spec §11), using [`crate::dockerfile::expand`].
//!
//! ```
//! use layerbox_core::dockerfile::instructions::{Instruction, parse};
//! use layerbox_core::dockerfile::parser;
//!
//! let src = "ARG V=1\nFROM alpine:$V AS base\nRUN --mount=type=cache,target=/c make\n";
//! let ast = parser::parse(src).unwrap();
//! let (stages, meta_args) = parse(&ast, src).unwrap();
//! assert_eq!(meta_args[0].args[0].key, "V");
//! assert_eq!(stages[0].name.as_deref(), Some("base"));
//! let Instruction::Run(run) = &stages[0].instructions[0] else { panic!() };
//! assert_eq!(run.mounts, ["type=cache,target=/c"]);
//! assert_eq!(run.cmd.cmd_line, ["make"]);
//! ```

pub mod bflag;
pub mod chmod;
pub mod duration;
pub mod expansion;
pub mod expose;
pub mod mount;
pub mod source;
mod suggest;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::parser::{Ast, LineIndex, Location, Node, parse_heredoc};
use super::quote::go_quote;
use bflag::{BFlags, FlagError};
use mount::{Mount, MountError};
use suggest::did_you_mean;

/// Where an instruction came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The keyword as written (`RUN`, `run` …).
    pub keyword: String,
    /// The joined instruction text (BuildKit's `Original`).
    pub original: String,
    /// Lines, columns and byte span of the whole instruction.
    pub location: Location,
}

/// `KEY=value` of ENV and LABEL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValuePair {
    /// The key, quotes and escapes still in place.
    pub key: String,
    /// The value, quotes and escapes still in place.
    pub value: String,
    /// Legacy `KEY value` form (lint LegacyKeyValueFormat).
    pub no_delim: bool,
}

/// `NAME[=default]` of ARG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValuePairOptional {
    /// The argument name.
    pub key: String,
    /// The default, when given (`NAME=` gives an empty default).
    pub value: Option<String>,
    /// A description from a `# NAME description` comment line.
    pub comment: String,
}

/// A heredoc source of COPY/ADD: an inline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceContent {
    /// File name (the heredoc delimiter).
    pub path: String,
    /// Content, tabs already stripped for `<<-`.
    pub data: String,
    /// Whether variables in `data` are expanded (unquoted delimiter).
    pub expand: bool,
}

/// Sources and destination of COPY/ADD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcesAndDest {
    /// The last argument.
    pub dest_path: String,
    /// Paths, URLs, git refs.
    pub source_paths: Vec<String>,
    /// Heredoc sources.
    pub source_contents: Vec<SourceContent>,
}

/// A heredoc attached to RUN: a script file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellInlineFile {
    /// The heredoc delimiter.
    pub name: String,
    /// The raw body (tabs not stripped).
    pub data: String,
    /// `<<-`: strip leading tabs when used.
    pub chomp: bool,
}

/// A command line that is either exec form or run through the shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellDependantCmdLine {
    /// Exec form: the argv; shell form: one string.
    pub cmd_line: Vec<String>,
    /// Heredoc files (RUN).
    pub files: Vec<ShellInlineFile>,
    /// Shell form: prepend the current SHELL.
    pub prepend_shell: bool,
}

/// The default shell for shell-form commands on Linux.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// Where a RUN heredoc script with a shebang is mounted (read-only) for execution.
pub const PIPES_DIR: &str = "/dev/pipes";

/// A script file BuildKit mounts for `RUN <<EOF` bodies that start with `#!`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineScript {
    /// Absolute path in the container (`/dev/pipes/<NAME>`).
    pub path: String,
    /// The body, tabs stripped for `<<-`.
    pub data: String,
    /// Always 0755.
    pub mode: u32,
}

/// The process a shell-dependent command line runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandArgv {
    /// The argv.
    pub argv: Vec<String>,
    /// A script to mount first (shebang heredocs).
    pub script: Option<InlineScript>,
}

impl ShellDependantCmdLine {
    /// The argv BuildKit runs (spec §13.9), given the current SHELL (`shell`, e.g.
    /// [`DEFAULT_SHELL`]). Exec form is used as is. A command that is a single heredoc word runs
    /// the body as the script (or, with a `#!` first line, mounts it under [`PIPES_DIR`] and runs
    /// that file); other heredoc commands get `\n` + body + delimiter appended, for the shell.
    pub fn argv<S: AsRef<str>>(&self, shell: &[S]) -> CommandArgv {
        if !self.prepend_shell {
            return CommandArgv {
                argv: self.cmd_line.clone(),
                script: None,
            };
        }
        let text = self.cmd_line.join(" ");
        let mut script = None;
        let command = match (self.files.first(), parse_heredoc(&text)) {
            (Some(file), Ok(Some(_))) => {
                let data = if file.chomp {
                    super::parser::chomp(&file.data)
                } else {
                    file.data.clone()
                };
                if data.starts_with("#!") {
                    let path = format!("{PIPES_DIR}/{}", file.name);
                    script = Some(InlineScript {
                        path: path.clone(),
                        data,
                        mode: 0o755,
                    });
                    path
                } else {
                    data
                }
            }
            (Some(_), _) => {
                let mut full = text;
                for f in &self.files {
                    full.push('\n');
                    full.push_str(&f.data);
                    full.push_str(&f.name);
                }
                full
            }
            (None, _) => text,
        };
        let mut argv: Vec<String> = shell.iter().map(|a| a.as_ref().to_string()).collect();
        argv.push(command);
        CommandArgv { argv, script }
    }
}

/// `RUN --network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The build's default network.
    Default,
    /// No network.
    None,
    /// The host's network (entitlement `network.host`).
    Host,
}

/// `RUN --security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecurityMode {
    /// The normal sandbox.
    Sandbox,
    /// Privileged (entitlement `security.insecure`).
    Insecure,
}

/// `ENV k=v …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvCommand {
    /// Source.
    pub meta: Meta,
    /// The pairs in order.
    pub env: Vec<KeyValuePair>,
}

/// `LABEL k=v …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCommand {
    /// Source.
    pub meta: Meta,
    /// The pairs in order.
    pub labels: Vec<KeyValuePair>,
}

/// `MAINTAINER name` (deprecated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintainerCommand {
    /// Source.
    pub meta: Meta,
    /// The author text.
    pub maintainer: String,
}

/// `ADD [flags] src… dest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddCommand {
    /// Source.
    pub meta: Meta,
    /// Sources and destination.
    pub sources: SourcesAndDest,
    /// `--chown`.
    pub chown: String,
    /// `--chmod`.
    pub chmod: String,
    /// `--link`.
    pub link: bool,
    /// `--keep-git-dir`, when given.
    pub keep_git_dir: Option<bool>,
    /// `--checksum`.
    pub checksum: String,
    /// `--exclude` patterns.
    pub exclude_patterns: Vec<String>,
    /// `--unpack`, when given.
    pub unpack: Option<bool>,
}

/// `COPY [flags] src… dest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyCommand {
    /// Source.
    pub meta: Meta,
    /// Sources and destination.
    pub sources: SourcesAndDest,
    /// `--from` (stage name, index or image); empty means the build context.
    pub from: String,
    /// `--chown`.
    pub chown: String,
    /// `--chmod`.
    pub chmod: String,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude` patterns.
    pub exclude_patterns: Vec<String>,
}

/// `ONBUILD instruction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnbuildCommand {
    /// Source.
    pub meta: Meta,
    /// The trigger text stored in the image (heredoc bodies re-attached).
    pub expression: String,
}

/// `WORKDIR path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkdirCommand {
    /// Source.
    pub meta: Meta,
    /// The path as written.
    pub path: String,
}

/// `RUN [flags] command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCommand {
    /// Source.
    pub meta: Meta,
    /// The command.
    pub cmd: ShellDependantCmdLine,
    /// `--mount` values as written (expanded and parsed with [`Mount::parse`] at build time).
    pub mounts: Vec<String>,
    /// `--network`.
    pub network: NetworkMode,
    /// `--security`.
    pub security: SecurityMode,
    /// `--device` values (labs channel).
    pub devices: Vec<String>,
    /// The flags given, in order of first use.
    pub flags_used: Vec<String>,
}

impl RunCommand {
    /// Parses the mounts, expanding each value with `expand` (the build environment).
    pub fn parsed_mounts(
        &self,
        expand: &mut dyn FnMut(&str) -> Result<String, super::expand::ExpandError>,
    ) -> Result<Vec<Mount>, MountError> {
        self.mounts
            .iter()
            .map(|m| Mount::parse(m, expand))
            .collect()
    }
}

/// `CMD command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmdCommand {
    /// Source.
    pub meta: Meta,
    /// The command.
    pub cmd: ShellDependantCmdLine,
}

/// `ENTRYPOINT command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrypointCommand {
    /// Source.
    pub meta: Meta,
    /// The command (`ENTRYPOINT []` clears it).
    pub cmd: ShellDependantCmdLine,
}

/// A container health check (Docker's `HealthConfig`); durations in nanoseconds, 0 = inherit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", argv…]` or `["CMD-SHELL", command]`.
    pub test: Vec<String>,
    /// `--interval`.
    pub interval: i64,
    /// `--timeout`.
    pub timeout: i64,
    /// `--start-period`.
    pub start_period: i64,
    /// `--start-interval`.
    pub start_interval: i64,
    /// `--retries`.
    pub retries: i64,
}

/// `HEALTHCHECK [flags] CMD command` or `HEALTHCHECK NONE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckCommand {
    /// Source.
    pub meta: Meta,
    /// The check.
    pub health: HealthConfig,
}

/// `EXPOSE port…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposeCommand {
    /// Port specifications as written, sorted as strings (parse with [`expose::parse_port_spec`]
    /// after expansion).
    pub ports: Vec<String>,
    /// Source.
    pub meta: Meta,
}

/// `USER user[:group]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCommand {
    /// Source.
    pub meta: Meta,
    /// The user as written.
    pub user: String,
}

/// `VOLUME path…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeCommand {
    /// Source.
    pub meta: Meta,
    /// The paths, trimmed.
    pub volumes: Vec<String>,
}

/// `STOPSIGNAL signal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopSignalCommand {
    /// Source.
    pub meta: Meta,
    /// The signal as written (validate with [`parse_signal`] after expansion).
    pub signal: String,
}

/// `ARG name[=default] …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgCommand {
    /// Source.
    pub meta: Meta,
    /// The declared arguments.
    pub args: Vec<KeyValuePairOptional>,
}

/// `SHELL ["executable", "params"…]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellCommand {
    /// Source.
    pub meta: Meta,
    /// The new shell.
    pub shell: Vec<String>,
}

/// One instruction of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "instruction", rename_all = "UPPERCASE")]
pub enum Instruction {
    /// ENV.
    Env(EnvCommand),
    /// LABEL.
    Label(LabelCommand),
    /// MAINTAINER.
    Maintainer(MaintainerCommand),
    /// ADD.
    Add(AddCommand),
    /// COPY.
    Copy(CopyCommand),
    /// ONBUILD.
    Onbuild(OnbuildCommand),
    /// WORKDIR.
    Workdir(WorkdirCommand),
    /// RUN.
    Run(RunCommand),
    /// CMD.
    Cmd(CmdCommand),
    /// ENTRYPOINT.
    Entrypoint(EntrypointCommand),
    /// HEALTHCHECK.
    Healthcheck(HealthCheckCommand),
    /// EXPOSE.
    Expose(ExposeCommand),
    /// USER.
    User(UserCommand),
    /// VOLUME.
    Volume(VolumeCommand),
    /// STOPSIGNAL.
    Stopsignal(StopSignalCommand),
    /// ARG.
    Arg(ArgCommand),
    /// SHELL.
    Shell(ShellCommand),
}

impl Instruction {
    /// Where the instruction came from.
    pub fn meta(&self) -> &Meta {
        match self {
            Instruction::Env(c) => &c.meta,
            Instruction::Label(c) => &c.meta,
            Instruction::Maintainer(c) => &c.meta,
            Instruction::Add(c) => &c.meta,
            Instruction::Copy(c) => &c.meta,
            Instruction::Onbuild(c) => &c.meta,
            Instruction::Workdir(c) => &c.meta,
            Instruction::Run(c) => &c.meta,
            Instruction::Cmd(c) => &c.meta,
            Instruction::Entrypoint(c) => &c.meta,
            Instruction::Healthcheck(c) => &c.meta,
            Instruction::Expose(c) => &c.meta,
            Instruction::User(c) => &c.meta,
            Instruction::Volume(c) => &c.meta,
            Instruction::Stopsignal(c) => &c.meta,
            Instruction::Arg(c) => &c.meta,
            Instruction::Shell(c) => &c.meta,
        }
    }

    /// The upper-case keyword (`RUN`, `COPY` …).
    pub fn name(&self) -> &'static str {
        match self {
            Instruction::Env(_) => "ENV",
            Instruction::Label(_) => "LABEL",
            Instruction::Maintainer(_) => "MAINTAINER",
            Instruction::Add(_) => "ADD",
            Instruction::Copy(_) => "COPY",
            Instruction::Onbuild(_) => "ONBUILD",
            Instruction::Workdir(_) => "WORKDIR",
            Instruction::Run(_) => "RUN",
            Instruction::Cmd(_) => "CMD",
            Instruction::Entrypoint(_) => "ENTRYPOINT",
            Instruction::Healthcheck(_) => "HEALTHCHECK",
            Instruction::Expose(_) => "EXPOSE",
            Instruction::User(_) => "USER",
            Instruction::Volume(_) => "VOLUME",
            Instruction::Stopsignal(_) => "STOPSIGNAL",
            Instruction::Arg(_) => "ARG",
            Instruction::Shell(_) => "SHELL",
        }
    }
}

/// A build stage: `FROM [--platform=P] base [AS name]` and its instructions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// The FROM instruction's source.
    pub meta: Meta,
    /// The stage name, lower-cased (`None` when unnamed).
    pub name: Option<String>,
    /// The stage name as written.
    pub orig_name: Option<String>,
    /// The base as written (an image reference, `scratch`, or an earlier stage; unexpanded).
    pub base_name: String,
    /// `--platform` as written.
    pub platform: Option<String>,
    /// A description from a `# name description` comment line.
    pub comment: String,
    /// The instructions after FROM.
    pub instructions: Vec<Instruction>,
}

/// Why an instruction was rejected (BuildKit's messages; see [`InstructionError::reported`] for
/// the `dockerfile parse error on line N:` form).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum InstructionErrorKind {
    /// An unknown keyword, as written.
    #[error("unknown instruction: {keyword}{}", did_you_mean(suggestion.as_deref()))]
    UnknownInstruction {
        /// The keyword as written.
        keyword: String,
        /// A known instruction within edit distance 2.
        suggestion: Option<String>,
    },
    /// An instruction other than ARG before the first FROM.
    #[error("no build stage in current context")]
    NoBuildStage,
    /// A file with only ARGs.
    #[error("dockerfile contains no stages to build")]
    NoStages,
    /// `ENV`, `EXPOSE` … with nothing after.
    #[error("{0} requires at least one argument")]
    AtLeastOneArgument(&'static str),
    /// `WORKDIR`, `USER` … with nothing after.
    #[error("{0} requires exactly one argument")]
    ExactlyOneArgument(&'static str),
    /// COPY/ADD with one argument.
    #[error(
        "{0} requires at least two arguments, but only one was provided. Destination could not be determined"
    )]
    NoDestination(&'static str),
    /// COPY/ADD with a heredoc destination.
    #[error("{0} cannot accept a heredoc as a destination")]
    HeredocDestination(&'static str),
    /// FROM with 2 or more than 3 words.
    #[error("FROM requires either one or three arguments")]
    FromArguments,
    /// A stage name that is not `^[a-z][a-z0-9-_.]*$`.
    #[error("invalid name for build stage: {}, name can't start with a number or contain symbols", go_quote(.0))]
    InvalidStageName(String),
    /// A bad builder flag.
    #[error(transparent)]
    Flag(#[from] FlagError),
    /// `RUN --network=x`.
    #[error("invalid network mode {}", go_quote(.0))]
    InvalidNetworkMode(String),
    /// `RUN --security=x`.
    #[error("security {} is not valid", go_quote(.0))]
    InvalidSecurityMode(String),
    /// A bad `RUN --mount` value.
    #[error(transparent)]
    Mount(#[from] MountError),
    /// `ENV =x`.
    #[error("{0} names can not be blank")]
    BlankName(&'static str),
    /// ENV/LABEL node list not made of triples (hand-built ASTs only).
    #[error("Bad input to {0}, too many arguments")]
    TooManyArguments(&'static str),
    /// `VOLUME ""`.
    #[error("VOLUME specified can not be an empty string")]
    EmptyVolume,
    /// `SHELL` in shell form.
    #[error("SHELL requires the arguments to be in JSON form")]
    ShellNotJson,
    /// `HEALTHCHECK NONE x`.
    #[error("HEALTHCHECK NONE takes no arguments")]
    HealthcheckNoneArgs,
    /// `HEALTHCHECK CMD` with no command.
    #[error("Missing command after HEALTHCHECK CMD")]
    HealthcheckMissingCommand,
    /// `HEALTHCHECK FOO …`.
    #[error("Unknown type {} in HEALTHCHECK (try CMD)", go_quote(.0))]
    HealthcheckType(String),
    /// A bad duration (Go's `time.ParseDuration` message).
    #[error("{0}")]
    Duration(String),
    /// A non-zero duration below 1ms (the flag name).
    #[error("Interval {} cannot be less than 1ms", go_quote(.0))]
    DurationTooShort(String),
    /// `--retries` that is not an integer (Go's `strconv.ParseInt` message).
    #[error("{0}")]
    Retries(String),
    /// Negative `--retries`.
    #[error("--retries cannot be negative ({0})")]
    NegativeRetries(i64),
    /// `ONBUILD ONBUILD …`.
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildChaining,
    /// `ONBUILD FROM …` / `ONBUILD MAINTAINER …`.
    #[error("{0} isn't allowed as an ONBUILD trigger")]
    OnbuildTrigger(String),
}

impl InstructionErrorKind {
    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        use InstructionErrorKind as K;
        match self {
            K::UnknownInstruction { .. } => "unknown-instruction",
            K::NoBuildStage => "no-build-stage",
            K::NoStages => "no-stages",
            K::AtLeastOneArgument(_)
            | K::ExactlyOneArgument(_)
            | K::NoDestination(_)
            | K::FromArguments => "wrong-argument-count",
            K::HeredocDestination(_) => "heredoc-destination",
            K::InvalidStageName(_) => "invalid-stage-name",
            K::Flag(_) => "invalid-flag",
            K::InvalidNetworkMode(_) | K::InvalidSecurityMode(_) => "invalid-run-mode",
            K::Mount(_) => "invalid-mount",
            K::BlankName(_) | K::TooManyArguments(_) => "invalid-key-value",
            K::EmptyVolume => "empty-volume",
            K::ShellNotJson => "shell-not-json",
            K::HealthcheckNoneArgs
            | K::HealthcheckMissingCommand
            | K::HealthcheckType(_)
            | K::Duration(_)
            | K::DurationTooShort(_)
            | K::Retries(_)
            | K::NegativeRetries(_) => "invalid-healthcheck",
            K::OnbuildChaining | K::OnbuildTrigger(_) => "invalid-onbuild",
        }
    }
}

/// An instruction error with its location (the instruction, or the flag concerned).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{kind}")]
pub struct InstructionError {
    /// What went wrong.
    pub kind: InstructionErrorKind,
    /// The instruction's first line (used in BuildKit's message).
    pub start_line: usize,
    /// Where exactly.
    pub location: Location,
}

impl InstructionError {
    /// Byte span in the source.
    pub fn span(&self) -> super::parser::Span {
        self.location.span
    }

    /// 1-based line of the error.
    pub fn line(&self) -> usize {
        self.location.line
    }

    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message as BuildKit reports it: `dockerfile parse error on line N: …`.
    pub fn reported(&self) -> String {
        format!(
            "dockerfile parse error on line {}: {}",
            self.start_line, self.kind
        )
    }
}

const INSTRUCTIONS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// Validates a STOPSIGNAL value (after expansion): a non-zero number or a signal name with or
/// without `SIG`, any case. Returns the value unchanged (it is stored as written).
pub fn parse_signal(value: &str) -> Result<&str, String> {
    const NAMES: [&str; 31] = [
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
        "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
        "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM",
    ];
    if let Ok(n) = value.parse::<i64>() {
        return if n == 0 {
            Err(format!("invalid signal: {value}"))
        } else {
            Ok(value)
        };
    }
    let upper = value.to_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let rt = name
        .strip_prefix("RTMIN")
        .or_else(|| name.strip_prefix("RTMAX"))
        .is_some_and(|r| {
            r.is_empty()
                || r.strip_prefix(['+', '-'])
                    .is_some_and(|n| n.parse::<u8>().is_ok())
        });
    if NAMES.contains(&name) || matches!(name, "WINCH" | "XCPU" | "XFSZ") || rt {
        Ok(value)
    } else {
        Err(format!("invalid signal: {value}"))
    }
}

/// Converts an AST into stages and meta ARGs (ARGs before the first FROM), rejecting what
/// BuildKit rejects. `src` is the text the AST was parsed from (for locations).
pub fn parse(ast: &Ast, src: &str) -> Result<(Vec<Stage>, Vec<ArgCommand>), InstructionError> {
    let index = LineIndex::new(src);
    let mut stages: Vec<Stage> = Vec::new();
    let mut meta_args = Vec::new();
    for node in &ast.children {
        match parse_instruction_indexed(node, &index)? {
            Parsed::Stage(stage) => stages.push(stage),
            Parsed::Instruction(Instruction::Arg(arg)) if stages.is_empty() => meta_args.push(arg),
            Parsed::Instruction(instruction) => match stages.last_mut() {
                Some(stage) => stage.instructions.push(instruction),
                None => {
                    return Err(
                        Request::new(node, &index).error(InstructionErrorKind::NoBuildStage)
                    );
                }
            },
        }
    }
    Ok((stages, meta_args))
}

/// What one AST node becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Parsed {
    /// A FROM: a new stage.
    Stage(Stage),
    /// Anything else.
    Instruction(Instruction),
}

/// Converts one AST node (BuildKit's `ParseInstruction`).
pub fn parse_instruction(node: &Node, src: &str) -> Result<Parsed, InstructionError> {
    parse_instruction_indexed(node, &LineIndex::new(src))
}

/// [`parse_instruction`] with a prebuilt line index (for converting many nodes).
pub fn parse_instruction_indexed(
    node: &Node,
    index: &LineIndex<'_>,
) -> Result<Parsed, InstructionError> {
    let req = Request::new(node, index);
    let i = |r: Result<Instruction, InstructionError>| r.map(Parsed::Instruction);
    match node.keyword().as_str() {
        "env" => i(req.parse_env()),
        "maintainer" => i(req.parse_maintainer()),
        "label" => i(req.parse_label()),
        "add" => i(req.parse_add()),
        "copy" => i(req.parse_copy()),
        "from" => req.parse_from().map(Parsed::Stage),
        "onbuild" => i(req.parse_onbuild()),
        "workdir" => i(req.parse_workdir()),
        "run" => i(req.parse_run()),
        "cmd" => i(req.parse_cmd(false)),
        "entrypoint" => i(req.parse_cmd(true)),
        "healthcheck" => i(req.parse_healthcheck()),
        "expose" => i(req.parse_expose()),
        "user" => i(req.parse_user()),
        "volume" => i(req.parse_volume()),
        "stopsignal" => i(req.parse_stopsignal()),
        "arg" => i(req.parse_arg()),
        "shell" => i(req.parse_shell()),
        _ => {
            let suggestion = suggest::search(&node.value, &INSTRUCTIONS, false).map(|s| {
                if node.value.chars().all(|c| !c.is_uppercase()) {
                    s
                } else {
                    s.to_uppercase()
                }
            });
            Err(req.error(InstructionErrorKind::UnknownInstruction {
                keyword: node.value.clone(),
                suggestion,
            }))
        }
    }
}

/// BuildKit's `parseRequest`: a node's arguments and flags.
struct Request<'n> {
    node: &'n Node,
    index: &'n LineIndex<'n>,
    args: Vec<String>,
    flags: BFlags,
}

fn get_comment(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|c| c.strip_prefix(&prefix))
        .unwrap_or_default()
        .to_string()
}

fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

impl<'n> Request<'n> {
    fn new(node: &'n Node, index: &'n LineIndex<'n>) -> Self {
        let mut args = node.args.clone();
        if let Some(child) = node.children.first() {
            args.push(child.value.clone());
            args.push(child.dump());
        }
        Request {
            node,
            index,
            args,
            flags: BFlags::new(&node.flags),
        }
    }

    fn meta(&self) -> Meta {
        Meta {
            keyword: self.node.value.clone(),
            original: self.node.original.clone(),
            location: self.index.location(self.node.span),
        }
    }

    fn error(&self, kind: InstructionErrorKind) -> InstructionError {
        let span = match &kind {
            InstructionErrorKind::Flag(f) => self.node.span_of(&format!("--{}", f.flag())),
            InstructionErrorKind::Mount(_) => self.node.span_of("--mount"),
            InstructionErrorKind::InvalidNetworkMode(_) => self.node.span_of("--network"),
            InstructionErrorKind::InvalidSecurityMode(_) => self.node.span_of("--security"),
            InstructionErrorKind::DurationTooShort(name) => self.node.span_of(&format!("--{name}")),
            InstructionErrorKind::Retries(_) | InstructionErrorKind::NegativeRetries(_) => {
                self.node.span_of("--retries")
            }
            _ => self.node.span,
        };
        InstructionError {
            kind,
            start_line: self.node.start_line,
            location: self.index.location(span),
        }
    }

    fn parse_flags(&mut self) -> Result<(), InstructionError> {
        self.flags.parse().map_err(|e| self.error(e.into()))
    }

    fn exactly_one(&mut self, name: &'static str) -> Result<String, InstructionError> {
        if self.args.len() != 1 {
            return Err(self.error(InstructionErrorKind::ExactlyOneArgument(name)));
        }
        self.parse_flags()?;
        Ok(self.args[0].clone())
    }

    fn kvps(&mut self, name: &'static str) -> Result<Vec<KeyValuePair>, InstructionError> {
        self.parse_flags()?;
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument(name)));
        }
        if !self.args.len().is_multiple_of(3) {
            return Err(self.error(InstructionErrorKind::TooManyArguments(name)));
        }
        self.args
            .chunks(3)
            .map(|c| {
                if c[0].is_empty() {
                    return Err(self.error(InstructionErrorKind::BlankName(name)));
                }
                Ok(KeyValuePair {
                    key: c[0].clone(),
                    value: c[1].clone(),
                    no_delim: c[2].is_empty(),
                })
            })
            .collect()
    }

    fn parse_env(mut self) -> Result<Instruction, InstructionError> {
        let env = self.kvps("ENV")?;
        Ok(Instruction::Env(EnvCommand {
            meta: self.meta(),
            env,
        }))
    }

    fn parse_label(mut self) -> Result<Instruction, InstructionError> {
        let labels = self.kvps("LABEL")?;
        Ok(Instruction::Label(LabelCommand {
            meta: self.meta(),
            labels,
        }))
    }

    fn parse_maintainer(mut self) -> Result<Instruction, InstructionError> {
        let maintainer = self.exactly_one("MAINTAINER")?;
        Ok(Instruction::Maintainer(MaintainerCommand {
            meta: self.meta(),
            maintainer,
        }))
    }

    fn parse_workdir(mut self) -> Result<Instruction, InstructionError> {
        let path = self.exactly_one("WORKDIR")?;
        Ok(Instruction::Workdir(WorkdirCommand {
            meta: self.meta(),
            path,
        }))
    }

    fn parse_user(mut self) -> Result<Instruction, InstructionError> {
        let user = self.exactly_one("USER")?;
        Ok(Instruction::User(UserCommand {
            meta: self.meta(),
            user,
        }))
    }

    fn parse_stopsignal(mut self) -> Result<Instruction, InstructionError> {
        let signal = self.exactly_one("STOPSIGNAL")?;
        Ok(Instruction::Stopsignal(StopSignalCommand {
            meta: self.meta(),
            signal,
        }))
    }

    fn sources_and_dest(&self, name: &'static str) -> Result<SourcesAndDest, InstructionError> {
        let Some((dest, srcs)) = self.args.split_last().filter(|(_, srcs)| !srcs.is_empty()) else {
            return Err(self.error(InstructionErrorKind::NoDestination(name)));
        };
        if let Ok(Some(_)) = parse_heredoc(dest) {
            return Err(self.error(InstructionErrorKind::HeredocDestination(name)));
        }
        let mut source_paths = Vec::new();
        let mut source_contents = Vec::new();
        for src in srcs {
            match parse_heredoc(src) {
                Ok(Some(doc)) => {
                    let body = self.node.heredocs.iter().find(|h| h.name == doc.name);
                    let data = body.map(|h| h.content.clone()).unwrap_or_default();
                    source_contents.push(SourceContent {
                        data: if doc.chomp {
                            super::parser::chomp(&data)
                        } else {
                            data
                        },
                        path: doc.name,
                        expand: doc.expand,
                    });
                }
                _ => source_paths.push(src.clone()),
            }
        }
        Ok(SourcesAndDest {
            dest_path: dest.clone(),
            source_paths,
            source_contents,
        })
    }

    fn parse_add(mut self) -> Result<Instruction, InstructionError> {
        if self.args.len() < 2 {
            return Err(self.error(InstructionErrorKind::NoDestination("ADD")));
        }
        self.flags.add_string("chown", "");
        self.flags.add_string("chmod", "");
        self.flags.add_bool("link", false);
        self.flags.add_bool("keep-git-dir", false);
        self.flags.add_string("checksum", "");
        self.flags.add_strings("exclude");
        self.flags.add_bool("unpack", false);
        self.parse_flags()?;
        let sources = self.sources_and_dest("ADD")?;
        let f = &self.flags;
        Ok(Instruction::Add(AddCommand {
            meta: self.meta(),
            sources,
            chown: f.string("chown").to_string(),
            chmod: f.string("chmod").to_string(),
            link: f.bool("link"),
            keep_git_dir: f.bool_if_used("keep-git-dir"),
            checksum: f.string("checksum").to_string(),
            exclude_patterns: f.strings("exclude").to_vec(),
            unpack: f.bool_if_used("unpack"),
        }))
    }

    fn parse_copy(mut self) -> Result<Instruction, InstructionError> {
        if self.args.len() < 2 {
            return Err(self.error(InstructionErrorKind::NoDestination("COPY")));
        }
        self.flags.add_string("chown", "");
        self.flags.add_string("from", "");
        self.flags.add_string("chmod", "");
        self.flags.add_bool("link", false);
        self.flags.add_bool("parents", false);
        self.flags.add_strings("exclude");
        self.parse_flags()?;
        let sources = self.sources_and_dest("COPY")?;
        let f = &self.flags;
        Ok(Instruction::Copy(CopyCommand {
            meta: self.meta(),
            sources,
            from: f.string("from").to_string(),
            chown: f.string("chown").to_string(),
            chmod: f.string("chmod").to_string(),
            link: f.bool("link"),
            parents: f.bool("parents"),
            exclude_patterns: f.strings("exclude").to_vec(),
        }))
    }

    fn parse_from(mut self) -> Result<Stage, InstructionError> {
        let orig_name = match self.args.as_slice() {
            [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
                if !is_valid_stage_name(&name.to_lowercase()) {
                    return Err(self.error(InstructionErrorKind::InvalidStageName(name.clone())));
                }
                Some(name.clone())
            }
            [_] => None,
            _ => return Err(self.error(InstructionErrorKind::FromArguments)),
        };
        self.flags.add_string("platform", "");
        self.parse_flags()?;
        let platform = self.flags.string("platform");
        Ok(Stage {
            meta: self.meta(),
            name: orig_name.as_ref().map(|n| n.to_lowercase()),
            comment: get_comment(
                &self.node.prev_comment,
                orig_name.as_deref().unwrap_or_default(),
            ),
            orig_name,
            base_name: self.args[0].clone(),
            platform: (!platform.is_empty()).then(|| platform.to_string()),
            instructions: Vec::new(),
        })
    }

    fn parse_onbuild(mut self) -> Result<Instruction, InstructionError> {
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument("ONBUILD")));
        }
        self.parse_flags()?;
        let trigger = self.args[0].trim().to_uppercase();
        match trigger.as_str() {
            "ONBUILD" => return Err(self.error(InstructionErrorKind::OnbuildChaining)),
            "MAINTAINER" | "FROM" => {
                return Err(self.error(InstructionErrorKind::OnbuildTrigger(trigger)));
            }
            _ => {}
        }
        let original = self.node.original.trim_start();
        let mut expression = match original.get(..7) {
            Some(kw) if kw.eq_ignore_ascii_case("onbuild") => original[7..].trim_start(),
            _ => original,
        }
        .to_string();
        for heredoc in &self.node.heredocs {
            expression.push('\n');
            expression.push_str(&heredoc.content);
            expression.push_str(&heredoc.name);
        }
        Ok(Instruction::Onbuild(OnbuildCommand {
            meta: self.meta(),
            expression,
        }))
    }

    fn cmd_line(&self, with_files: bool) -> ShellDependantCmdLine {
        let cmd_line = if self.args.is_empty() || self.node.json {
            self.args.clone()
        } else {
            vec![self.args.join(" ")]
        };
        let files = if with_files {
            self.node
                .heredocs
                .iter()
                .map(|h| ShellInlineFile {
                    name: h.name.clone(),
                    data: h.content.clone(),
                    chomp: h.chomp,
                })
                .collect()
        } else {
            Vec::new()
        };
        ShellDependantCmdLine {
            cmd_line,
            files,
            prepend_shell: !self.node.json,
        }
    }

    fn parse_run(mut self) -> Result<Instruction, InstructionError> {
        self.flags.add_strings("mount");
        self.flags.add_string("network", "default");
        self.flags.add_string("security", "sandbox");
        self.flags.add_strings("device");
        self.parse_flags()?;
        let network = match self.flags.string("network") {
            "default" => NetworkMode::Default,
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            other => {
                return Err(self.error(InstructionErrorKind::InvalidNetworkMode(other.to_string())));
            }
        };
        let security = match self.flags.string("security") {
            "sandbox" => SecurityMode::Sandbox,
            "insecure" => SecurityMode::Insecure,
            other => {
                return Err(
                    self.error(InstructionErrorKind::InvalidSecurityMode(other.to_string()))
                );
            }
        };
        let mounts = self.flags.strings("mount").to_vec();
        for spec in &mounts {
            Mount::check_literal_from(spec).map_err(|e| self.error(e.into()))?;
            // A value with no variables cannot change at build time: check it all now.
            if !spec.contains('$') {
                Mount::parse(spec, &mut |v| Ok(v.to_string())).map_err(|e| self.error(e.into()))?;
            }
        }
        Ok(Instruction::Run(RunCommand {
            meta: self.meta(),
            cmd: self.cmd_line(true),
            devices: self.flags.strings("device").to_vec(),
            flags_used: self.flags.used().to_vec(),
            mounts,
            network,
            security,
        }))
    }

    fn parse_cmd(mut self, entrypoint: bool) -> Result<Instruction, InstructionError> {
        self.parse_flags()?;
        let cmd = self.cmd_line(false);
        let meta = self.meta();
        Ok(if entrypoint {
            Instruction::Entrypoint(EntrypointCommand { meta, cmd })
        } else {
            Instruction::Cmd(CmdCommand { meta, cmd })
        })
    }

    fn duration(&self, name: &str) -> Result<i64, InstructionError> {
        let value = self.flags.string(name);
        if value.is_empty() {
            return Ok(0);
        }
        let d = duration::parse_go_duration(value)
            .map_err(|e| self.error(InstructionErrorKind::Duration(e)))?;
        if d != 0 && d < 1_000_000 {
            return Err(self.error(InstructionErrorKind::DurationTooShort(name.to_string())));
        }
        Ok(d)
    }

    fn parse_healthcheck(mut self) -> Result<Instruction, InstructionError> {
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument("HEALTHCHECK")));
        }
        let typ = self.args[0].to_uppercase();
        let rest = self.args[1..].to_vec();
        let mut health = HealthConfig {
            test: vec![typ.clone()],
            interval: 0,
            timeout: 0,
            start_period: 0,
            start_interval: 0,
            retries: 0,
        };
        if typ == "NONE" {
            if !rest.is_empty() {
                return Err(self.error(InstructionErrorKind::HealthcheckNoneArgs));
            }
            return Ok(Instruction::Healthcheck(HealthCheckCommand {
                meta: self.meta(),
                health,
            }));
        }
        for name in [
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ] {
            self.flags.add_string(name, "");
        }
        self.parse_flags()?;
        if typ != "CMD" {
            return Err(self.error(InstructionErrorKind::HealthcheckType(typ)));
        }
        if rest.is_empty() {
            return Err(self.error(InstructionErrorKind::HealthcheckMissingCommand));
        }
        health.test = if self.node.json {
            std::iter::once(typ).chain(rest).collect()
        } else {
            vec!["CMD-SHELL".to_string(), rest.join(" ")]
        };
        health.interval = self.duration("interval")?;
        health.timeout = self.duration("timeout")?;
        health.start_period = self.duration("start-period")?;
        health.start_interval = self.duration("start-interval")?;
        let retries = self.flags.string("retries");
        if !retries.is_empty() {
            let n: i64 = match retries.parse::<i32>() {
                Ok(n) => n.into(),
                Err(e) => {
                    let why = if matches!(
                        e.kind(),
                        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                    ) {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    };
                    let msg = format!("strconv.ParseInt: parsing {}: {why}", go_quote(retries));
                    return Err(self.error(InstructionErrorKind::Retries(msg)));
                }
            };
            if n < 0 {
                return Err(self.error(InstructionErrorKind::NegativeRetries(n)));
            }
            health.retries = n;
        }
        Ok(Instruction::Healthcheck(HealthCheckCommand {
            meta: self.meta(),
            health,
        }))
    }

    fn parse_expose(mut self) -> Result<Instruction, InstructionError> {
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument("EXPOSE")));
        }
        self.parse_flags()?;
        let mut ports = self.args.clone();
        ports.sort();
        Ok(Instruction::Expose(ExposeCommand {
            ports,
            meta: self.meta(),
        }))
    }

    fn parse_volume(mut self) -> Result<Instruction, InstructionError> {
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument("VOLUME")));
        }
        self.parse_flags()?;
        let mut volumes = Vec::new();
        for v in &self.args {
            let v = v.trim();
            if v.is_empty() {
                return Err(self.error(InstructionErrorKind::EmptyVolume));
            }
            volumes.push(v.to_string());
        }
        Ok(Instruction::Volume(VolumeCommand {
            meta: self.meta(),
            volumes,
        }))
    }

    fn parse_arg(mut self) -> Result<Instruction, InstructionError> {
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument("ARG")));
        }
        self.parse_flags()?;
        let mut args = Vec::new();
        for arg in &self.args {
            let (key, value) = match arg.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (arg.as_str(), None),
            };
            if key.is_empty() {
                return Err(self.error(InstructionErrorKind::BlankName("ARG")));
            }
            args.push(KeyValuePairOptional {
                key: key.to_string(),
                value,
                comment: get_comment(&self.node.prev_comment, key),
            });
        }
        Ok(Instruction::Arg(ArgCommand {
            meta: self.meta(),
            args,
        }))
    }

    fn parse_shell(mut self) -> Result<Instruction, InstructionError> {
        self.parse_flags()?;
        if self.args.is_empty() {
            return Err(self.error(InstructionErrorKind::AtLeastOneArgument("SHELL")));
        }
        if !self.node.json {
            return Err(self.error(InstructionErrorKind::ShellNotJson));
        }
        Ok(Instruction::Shell(ShellCommand {
            meta: self.meta(),
            shell: self.args.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parser;

    fn first(src: &str) -> Result<Parsed, InstructionError> {
        let ast = parser::parse(src).unwrap();
        parse_instruction(&ast.children[0], src)
    }

    fn err(src: &str) -> String {
        first(src).unwrap_err().to_string()
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("FNTRYPOINT x"),
            "unknown instruction: FNTRYPOINT (did you mean ENTRYPOINT?)"
        );
        assert_eq!(
            err("form x"),
            "unknown instruction: form (did you mean from?)"
        );
        assert_eq!(
            err("RUN --mont=x ls"),
            "unknown flag: --mont (did you mean mount?)"
        );
        assert_eq!(err("RUN --network=bad ls"), "invalid network mode \"bad\"");
        assert_eq!(err("RUN --security=x ls"), "security \"x\" is not valid");
        assert_eq!(
            err("FROM a AS 1x"),
            "invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
        );
        assert_eq!(
            err("FROM a b"),
            "FROM requires either one or three arguments"
        );
        assert_eq!(
            err("SHELL /bin/sh -c"),
            "SHELL requires the arguments to be in JSON form"
        );
        assert_eq!(err("SHELL []"), "SHELL requires at least one argument");
        assert_eq!(
            err("HEALTHCHECK NONE x"),
            "HEALTHCHECK NONE takes no arguments"
        );
        assert_eq!(
            err("HEALTHCHECK CMD"),
            "Missing command after HEALTHCHECK CMD"
        );
        assert_eq!(
            err("HEALTHCHECK foo x"),
            "Unknown type \"FOO\" in HEALTHCHECK (try CMD)"
        );
        assert_eq!(
            err("HEALTHCHECK --interval=5 CMD x"),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            err("HEALTHCHECK --retries=x CMD x"),
            "strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            err("HEALTHCHECK --retries=-1 CMD x"),
            "--retries cannot be negative (-1)"
        );
        assert_eq!(
            err("HEALTHCHECK --start-period=5us CMD x"),
            "Interval \"start-period\" cannot be less than 1ms"
        );
        assert_eq!(err("ENV =x"), "ENV names can not be blank");
        assert_eq!(err("ARG =x"), "ARG names can not be blank");
        assert_eq!(
            err("COPY --link=yes a b"),
            "expecting boolean value for flag --link, not: yes"
        );
        assert_eq!(err("COPY --from a b"), "missing a value on flag: --from");
        assert_eq!(
            err("COPY --from=a --from=b a b"),
            "duplicate flag specified: --from"
        );
        assert_eq!(
            err("RUN --mount=from=$X,target=/a ls"),
            "'from' doesn't support variable expansion, define alias stage instead"
        );
        assert_eq!(
            err("RUN --mount=type=tmpf ls"),
            "unsupported mount type \"tmpf\" (did you mean tmpfs?)"
        );
    }

    #[test]
    fn flag_errors_point_at_the_flag() {
        let src = "FROM a\nCOPY --link --bogus=1 a b\n";
        let ast = parser::parse(src).unwrap();
        let e = parse(&ast, src).unwrap_err();
        assert_eq!(&src[e.span().start..e.span().end], "--bogus");
        assert_eq!((e.line(), e.location.column), (2, 13));
        assert_eq!(
            e.reported(),
            "dockerfile parse error on line 2: unknown flag: --bogus"
        );
    }

    #[test]
    fn typed_values() {
        let Ok(Parsed::Instruction(Instruction::Healthcheck(h))) =
            first("HEALTHCHECK --interval=1m30s --retries=3 CMD curl x")
        else {
            panic!()
        };
        assert_eq!(h.health.test, ["CMD-SHELL", "curl x"]);
        assert_eq!((h.health.interval, h.health.retries), (90_000_000_000, 3));
        let Ok(Parsed::Instruction(Instruction::Onbuild(o))) =
            first("onbuild  RUN <<EOF\necho hi\nEOF")
        else {
            panic!()
        };
        assert_eq!(o.expression, "RUN <<EOF\necho hi\nEOF");
        let Ok(Parsed::Instruction(Instruction::Expose(e))) = first("EXPOSE 80/udp 443 8080")
        else {
            panic!()
        };
        assert_eq!(e.ports, ["443", "80/udp", "8080"]);
        let Ok(Parsed::Stage(s)) =
            first("# build compiles the app\nFROM --platform=$BUILDPLATFORM golang AS Build")
        else {
            panic!()
        };
        assert_eq!(
            (s.name.as_deref(), s.orig_name.as_deref()),
            (Some("build"), Some("Build"))
        );
        assert_eq!(s.platform.as_deref(), Some("$BUILDPLATFORM"));
        assert_eq!(s.comment, "");
        let Ok(Parsed::Stage(s)) = first("# build compiles the app\nFROM golang AS build") else {
            panic!()
        };
        assert_eq!(s.comment, "compiles the app");
    }

    #[test]
    fn run_argv() {
        let argv = |src: &str| {
            let Ok(Parsed::Instruction(Instruction::Run(r))) = first(src) else {
                panic!("{src}")
            };
            r.cmd.argv(&DEFAULT_SHELL)
        };
        assert_eq!(argv("RUN [\"ls\", \"-l\"]").argv, ["ls", "-l"]);
        assert_eq!(argv("RUN echo a  b").argv, ["/bin/sh", "-c", "echo a  b"]);
        assert_eq!(
            argv("RUN <<-EOF\n\techo hi\nEOF").argv,
            ["/bin/sh", "-c", "echo hi\n"]
        );
        let a = argv("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF");
        assert_eq!(a.argv, ["/bin/sh", "-c", "/dev/pipes/EOF"]);
        assert_eq!(a.script.unwrap().data, "#!/usr/bin/env python3\nprint(1)\n");
        let a = argv("RUN cat <<A > a && cat <<-B > b\nx\nA\n\ty\n\tB");
        assert_eq!(a.argv[2], "cat <<A > a && cat <<-B > b\nx\nA\n\ty\nB");
        assert!(a.script.is_none());
    }

    #[test]
    fn signals() {
        for ok in ["SIGKILL", "kill", "sigterm", "9", "-1", "SIGRTMIN+3"] {
            assert!(parse_signal(ok).is_ok(), "{ok}");
        }
        for bad in ["0", "SIGFOO", ""] {
            assert_eq!(
                parse_signal(bad).unwrap_err(),
                format!("invalid signal: {bad}")
            );
        }
    }
}
