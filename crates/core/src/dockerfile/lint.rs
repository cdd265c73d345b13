//! Lint: findings about a Dockerfile that builds but probably not the way its author wants.
//!
//! [`RULES`] lists every rule with a stable code, a one-paragraph explanation of *why* it
//! matters (what it does to layers, the build cache or security) and a fix. BuildKit's own build
//! checks (spec §17) keep BuildKit's names as codes and its exact messages; the rules written for
//! learners are numbered `LB001`… Rules read `RUN` the way the shell will: heredoc scripts
//! (`RUN <<EOF`, `RUN bash <<EOF`) are linted like any other command, exec-form `sh -c` too, and
//! `RUN --mount=type=cache` makes advice about package-manager caches moot.
//!
//! The `# check=skip=<names>|all;error=true` directive is honoured (names or codes), and so is a
//! `# check=skip=…` comment right above an instruction. BuildKit's experimental checks
//! (CopyIgnoredFile, InvalidDefinitionDescription) run by default here; the second only as `info`.
//!
//! ```
//! use layerbox_core::dockerfile::lint::{lint_source, LintOptions};
//!
//! let findings = lint_source("FROM ubuntu\nRUN apt-get update\nRUN apt-get install -y curl\n", &LintOptions::default());
//! let codes: Vec<&str> = findings.iter().map(|d| d.code.as_str()).collect();
//! assert!(codes.contains(&"LB001")); // update and install in different RUNs
//! assert!(codes.contains(&"LB004")); // no tag on the base image
//! ```

mod shell;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::Dockerfile;
use super::diagnostic::{Diagnostic, LineIndex, Severity};
use super::expand::{Env, Lexer};
use super::ignore::DockerIgnore;
use super::instructions::mount::{Mount, MountType};
use super::parser::{Ast, Node, Span};
use crate::image::Reference;
use serde::Serialize;
use shell::Command;

/// One lint rule: its stable code, name, default severity and documentation (serialisable, so
/// that the playground can list the rules with their explanations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The stable code printed in diagnostics (`LB003`, or BuildKit's check name).
    pub code: &'static str,
    /// The rule's name, usable in `# check=skip=` like the code.
    pub name: &'static str,
    /// How serious a finding is by default.
    pub severity: Severity,
    /// Whether this is one of BuildKit's build checks (spec §17).
    pub buildkit: bool,
    /// One line saying what the rule looks for.
    pub summary: &'static str,
    /// Why it matters: what it does to layers, the cache or security.
    pub explanation: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// Options for [`lint`].
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// The build context's `.dockerignore`, for `CopyIgnoredFile`.
    pub dockerignore: Option<DockerIgnore>,
    /// Rule codes or names to skip, in addition to the file's `# check=skip=`.
    pub skip: Vec<String>,
}

macro_rules! rules {
    ($($id:ident = $code:literal $name:literal $sev:ident $bk:literal
        summary: $summary:literal why: $why:literal fix: $fix:literal;)*) => {
        $(const $id: Rule = Rule {
            code: $code,
            name: $name,
            severity: Severity::$sev,
            buildkit: $bk,
            summary: $summary,
            explanation: $why,
            fix: $fix,
        };)*
        /// Every rule, BuildKit's checks first, then layerbox's `LB` rules in code order.
        pub const RULES: &[Rule] = &[$($id),*];
    };
}

rules! {
    STAGE_NAME_CASING = "StageNameCasing" "StageNameCasing" Warning true
        summary: "stage names should be lowercase"
        why: "Stage names are lower-cased when the Dockerfile is read, so `FROM x AS Build` and `COPY --from=build` refer to the same stage while looking different. Writing them in lower case keeps every reference recognisable."
        fix: "write the stage name in lower case";
    FROM_AS_CASING = "FromAsCasing" "FromAsCasing" Warning true
        summary: "the 'as' keyword should match the case of the 'from' keyword"
        why: "Mixed casing such as `FROM image as name` still works, but it is a sign of copy-pasted fragments and makes stage declarations harder to scan for."
        fix: "write `FROM … AS …` or `from … as …`";
    NO_EMPTY_CONTINUATION = "NoEmptyContinuation" "NoEmptyContinuation" Warning true
        summary: "empty continuation lines will become errors in a future release"
        why: "A blank line inside a `\\` continuation is skipped today, which hides where an instruction really ends; BuildKit plans to make it an error."
        fix: "remove the empty line or end the instruction before it";
    CONSISTENT_INSTRUCTION_CASING = "ConsistentInstructionCasing" "ConsistentInstructionCasing" Warning true
        summary: "all instructions should use the same casing"
        why: "Instruction keywords are case-insensitive, so mixing `RUN` and `run` changes nothing in the image, but readers (and grep) expect one style."
        fix: "write every instruction keyword in the majority casing";
    DUPLICATE_STAGE_NAME = "DuplicateStageName" "DuplicateStageName" Warning true
        summary: "stage names should be unique"
        why: "When two stages share a name, `COPY --from=name` and `FROM name` silently pick one of them, so a later edit can change which files end up in the image."
        fix: "give every stage its own name";
    RESERVED_STAGE_NAME = "ReservedStageName" "ReservedStageName" Warning true
        summary: "reserved words should not be used as stage names"
        why: "`scratch` is the empty image and `context` names the build context in `--build-context`; a stage called that is confusing at best and unreachable at worst."
        fix: "rename the stage";
    JSON_ARGS_RECOMMENDED = "JSONArgsRecommended" "JSONArgsRecommended" Warning true
        summary: "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"
        why: "In shell form the container's main process is `/bin/sh -c`, not your program, so `docker stop` sends SIGTERM to the shell, which does not pass it on; the container is killed after the timeout and your program never shuts down cleanly."
        fix: "use the exec form: CMD [\"executable\", \"arg\"]";
    MAINTAINER_DEPRECATED = "MaintainerDeprecated" "MaintainerDeprecated" Warning true
        summary: "the MAINTAINER instruction is deprecated"
        why: "MAINTAINER only sets a field nothing reads any more; the OCI annotation `org.opencontainers.image.authors` is where tools look for the author."
        fix: "use LABEL org.opencontainers.image.authors=\"…\"";
    UNDEFINED_ARG_IN_FROM = "UndefinedArgInFrom" "UndefinedArgInFrom" Warning true
        summary: "FROM command must use declared ARGs"
        why: "FROM can only see ARGs declared before the first FROM. An undeclared variable expands to an empty string, so the base image silently becomes something else (or the build fails with an odd message)."
        fix: "declare the ARG before the first FROM";
    WORKDIR_RELATIVE_PATH = "WorkdirRelativePath" "WorkdirRelativePath" Warning true
        summary: "relative workdir without an absolute workdir declared within the build"
        why: "A relative WORKDIR is resolved against the base image's working directory, which you do not control: a new base image version can move every following COPY and RUN."
        fix: "use an absolute path, or set an absolute WORKDIR first";
    UNDEFINED_VAR = "UndefinedVar" "UndefinedVar" Warning true
        summary: "variables should be defined before their use"
        why: "Variables in ADD, COPY, ENV, WORKDIR … are expanded by the builder, and an unknown one becomes an empty string without any error, so `COPY $SRC /app` may copy the whole context. (The base image's environment is not known here; only PATH, HOME and HOSTNAME are assumed.)"
        fix: "declare it with ARG or ENV before using it, or fix the typo";
    MULTIPLE_INSTRUCTIONS_DISALLOWED = "MultipleInstructionsDisallowed" "MultipleInstructionsDisallowed" Warning true
        summary: "multiple instructions of the same type should not be used in the same stage"
        why: "An image has one CMD, one ENTRYPOINT and one HEALTHCHECK: each new one replaces the previous one, so only the last counts and the others are dead code that misleads readers."
        fix: "keep only the last one";
    LEGACY_KEY_VALUE_FORMAT = "LegacyKeyValueFormat" "LegacyKeyValueFormat" Warning true
        summary: "legacy key/value format with whitespace separator should not be used"
        why: "`ENV key value` takes everything after the first space as the value, quotes included, and cannot set two variables at once; `ENV key=value` is unambiguous."
        fix: "write key=value";
    REDUNDANT_TARGET_PLATFORM = "RedundantTargetPlatform" "RedundantTargetPlatform" Warning true
        summary: "setting platform to predefined $TARGETPLATFORM in FROM is redundant"
        why: "Stages are built for the target platform anyway; `--platform=$TARGETPLATFORM` adds noise and suggests something special happens."
        fix: "remove the --platform flag";
    SECRETS_USED_IN_ARG_OR_ENV = "SecretsUsedInArgOrEnv" "SecretsUsedInArgOrEnv" Warning true
        summary: "sensitive data should not be used in the ARG or ENV commands"
        why: "ENV values are stored in the image config and ARG values in its build history: anyone who pulls the image can read them with `docker history` or `docker inspect`, even after a later instruction unsets them."
        fix: "pass secrets with RUN --mount=type=secret,id=… instead";
    INVALID_DEFAULT_ARG_IN_FROM = "InvalidDefaultArgInFrom" "InvalidDefaultArgInFrom" Warning true
        summary: "default value for global ARG results in an empty or invalid base image name"
        why: "Without a --build-arg the default is used, and a default that leaves FROM empty or malformed makes a plain `docker build` fail."
        fix: "give the ARG a default that forms a valid image reference";
    FROM_PLATFORM_FLAG_CONST_DISALLOWED = "FromPlatformFlagConstDisallowed" "FromPlatformFlagConstDisallowed" Warning true
        summary: "FROM --platform flag should not use a constant value"
        why: "A hard-coded platform forces emulation on every other machine and makes multi-platform builds produce the same architecture for every target."
        fix: "use a build argument such as $BUILDPLATFORM, or drop the flag";
    COPY_IGNORED_FILE = "CopyIgnoredFile" "CopyIgnoredFile" Warning true
        summary: "attempting to copy a file that is excluded by .dockerignore"
        why: "Files excluded by .dockerignore are never sent to the builder, so the COPY fails (or copies less than it says). (Experimental in BuildKit, which runs it only when asked; here it runs whenever the .dockerignore is known.)"
        fix: "remove the path from .dockerignore or stop copying it";
    INVALID_DEFINITION_DESCRIPTION = "InvalidDefinitionDescription" "InvalidDefinitionDescription" Info true
        summary: "comment for build stage or argument should follow the format: `# <arg/stage name> <description>`"
        why: "A comment right above `ARG name` or `FROM … AS name` is read as its description (shown by `docker buildx build --call=outline`) only if it starts with the name. (Experimental in BuildKit.)"
        fix: "start the comment with the name, or separate it with an empty line";
    EXPOSE_PROTO_CASING = "ExposeProtoCasing" "ExposeProtoCasing" Warning true
        summary: "protocol in EXPOSE instruction should be lowercase"
        why: "Protocols are `tcp`, `udp` and `sctp`; other casings are normalised today but read as a different port spec by some tools."
        fix: "write the protocol in lower case";
    EXPOSE_INVALID_FORMAT = "ExposeInvalidFormat" "ExposeInvalidFormat" Warning true
        summary: "IP address and host-port mapping should not be used in EXPOSE instruction"
        why: "EXPOSE only documents which container ports the image listens on; publishing to a host port or address is decided by `docker run -p`, and this form will become an error."
        fix: "EXPOSE only the container port, and publish with `docker run -p HOST:CONTAINER`";

    APT_UPDATE_WITHOUT_INSTALL = "LB001" "AptUpdateWithoutInstall" Warning false
        summary: "apt-get update in a RUN that does not install"
        why: "Each RUN is a cached layer. A RUN holding only `apt-get update` is reused as long as its text does not change, so a later `apt-get install` runs against package lists that may be months old: packages fail to download or you get outdated versions."
        fix: "update and install in the same RUN: `RUN apt-get update && apt-get install -y …`";
    APT_LISTS_NOT_REMOVED = "LB002" "AptListsNotRemoved" Warning false
        summary: "apt package lists left in the layer"
        why: "`apt-get update` downloads tens of megabytes of package lists into /var/lib/apt/lists. Deleting them in a later RUN only hides them under a whiteout: they stay in this layer and in every pull."
        fix: "end the same RUN with `&& rm -rf /var/lib/apt/lists/*`, or use RUN --mount=type=cache,target=/var/lib/apt";
    COPY_ALL_BEFORE_INSTALL = "LB003" "CopyAllBeforeInstall" Warning false
        summary: "the whole build context is copied before dependencies are installed"
        why: "A COPY's cache key is the content of what it copies. Copying the whole context first means any edit to any source file invalidates this layer and every layer after it, so the dependency install reruns on every build."
        fix: "copy only the dependency manifests (package.json, requirements.txt …), install, then copy the rest";
    IMAGE_WITHOUT_TAG = "LB004" "ImageWithoutTag" Warning false
        summary: "base image without a tag"
        why: "An image without a tag means `:latest`, which moves: the same Dockerfile builds a different image next month, and a cached build and a fresh one silently differ."
        fix: "pin a version tag (or a digest): `FROM python:3.12-slim`";
    IMAGE_LATEST_TAG = "LB005" "ImageLatestTag" Warning false
        summary: "base image uses the latest tag"
        why: "`latest` is just the tag pushed last: it changes under you, so builds are not reproducible and the cache hides that the base image moved."
        fix: "pin a version tag (or a digest)";
    ADD_LOCAL_FILE = "LB006" "AddLocalFile" Warning false
        summary: "ADD used for local files"
        why: "ADD also downloads URLs and unpacks archives, so a reader (and the builder) must guess which it does; for plain files COPY does exactly the same with no surprises."
        fix: "use COPY; keep ADD for URLs and archives you want extracted";
    CD_IN_RUN = "LB007" "CdInRun" Warning false
        summary: "cd used instead of WORKDIR"
        why: "A `cd` lasts only for its own RUN: the next instruction starts again in the WORKDIR, which makes Dockerfiles that rely on it fragile. WORKDIR changes the directory for every following instruction and for the container."
        fix: "use WORKDIR /path (it also creates the directory)";
    PIP_CACHE_KEPT = "LB008" "PipCacheKept" Warning false
        summary: "pip install without --no-cache-dir"
        why: "pip keeps every downloaded wheel in ~/.cache/pip. In an image that cache is never reused (the layer is rebuilt from scratch) but it is shipped with it, often doubling the size of the layer."
        fix: "add --no-cache-dir, or use RUN --mount=type=cache,target=/root/.cache/pip";
    RUN_AS_ROOT = "LB009" "RunAsRoot" Warning false
        summary: "the container runs as root"
        why: "Without a USER instruction the container's process runs as uid 0. A compromised process is then root inside the container, and root on the host if it escapes or a host directory is mounted. (The base image may set a user; the linter cannot see that.)"
        fix: "create an unprivileged user and switch to it: `RUN useradd -r app` then `USER app`";
    APT_INSTALL_RECOMMENDS = "LB010" "AptInstallRecommends" Warning false
        summary: "apt-get install without --no-install-recommends"
        why: "By default apt also installs every recommended package, which often pulls in documentation, compilers or X libraries you never use: a bigger layer and a bigger attack surface."
        fix: "add --no-install-recommends";
    APT_INSTALL_NO_YES = "LB011" "AptInstallNoYes" Warning false
        summary: "apt-get install without -y"
        why: "A build has no terminal to answer apt's \"Do you want to continue? [Y/n]\" prompt, so apt aborts and the RUN fails."
        fix: "add -y (or --yes)";
    APK_CACHE_KEPT = "LB012" "ApkCacheKept" Warning false
        summary: "apk add without --no-cache"
        why: "apk stores the package index in /var/cache/apk; kept in the layer it only adds size. `--no-cache` fetches the index, installs and leaves nothing behind, in the same layer."
        fix: "use `apk add --no-cache …`";
    SUDO_IN_RUN = "LB013" "SudoInRun" Warning false
        summary: "sudo used in RUN"
        why: "RUN already runs as the current USER, root by default. sudo is usually not installed, and when it is it brings setuid-root into the image and unpredictable TTY and environment behaviour."
        fix: "drop sudo, or switch user with USER around the instructions that need root";
    REMOVE_IN_LATER_LAYER = "LB014" "RemoveInLaterLayer" Warning false
        summary: "files removed in a RUN of their own"
        why: "Layers only add: deleting a file created by an earlier layer writes a whiteout in a new layer, and the bytes stay in the earlier one. The image gets no smaller; it even gains a layer."
        fix: "delete the files in the same RUN that created them";
    CHANGE_OWNER_IN_LATER_LAYER = "LB015" "ChangeOwnerInLaterLayer" Warning false
        summary: "chown or chmod in a RUN of their own after COPY"
        why: "Changing the owner or mode of a file copies it whole into a new layer (copy-up), so every file touched is stored twice in the image."
        fix: "set them while copying: COPY --chown=user:group --chmod=755 …";
    ADD_URL_WITHOUT_CHECKSUM = "LB016" "AddUrlWithoutChecksum" Warning false
        summary: "ADD of a URL without --checksum"
        why: "Whatever the server returns ends up in the image: a compromised or changed download goes unnoticed, and the build is not reproducible."
        fix: "add --checksum=sha256:<digest>";
    PIPE_TO_SHELL = "LB017" "PipeToShell" Warning false
        summary: "a download piped into a shell"
        why: "`curl … | sh` runs whatever the server sends, unverified, as root at build time, and a truncated download runs half a script."
        fix: "download to a file, verify its checksum, then run it";
    SECRET_FILE_COPIED = "LB018" "SecretFileCopied" Warning false
        summary: "a credentials file copied into the image"
        why: "Every file copied into a layer stays in the image forever, even if a later RUN deletes it: anyone with the image can extract keys and tokens from the layer tarball."
        fix: "use RUN --mount=type=secret (or --mount=type=ssh) and keep the file out of the context with .dockerignore";
    PACKAGE_UPGRADE = "LB019" "PackageUpgrade" Info false
        summary: "distribution packages upgraded in the build"
        why: "An upgrade in a RUN is cached like any other layer, so it stops upgrading after the first build while looking current, and it makes builds non-reproducible. Security fixes come from a newer base image."
        fix: "use a newer base image tag and rebuild with --pull";
    COPY_WITHOUT_WORKDIR = "LB020" "CopyWithoutWorkdir" Info false
        summary: "COPY to a relative path before any WORKDIR"
        why: "A relative destination is resolved against the working directory, which is `/` unless the base image sets one: `COPY . .` then spreads your files over the image's root directory."
        fix: "set WORKDIR /app (or use an absolute destination) before copying";
}

/// The rule with this code or name (case-insensitive), if any.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Parses `source` and lints it; a parse or instruction error comes back as the only
/// diagnostic.
pub fn lint_source(source: &str, options: &LintOptions) -> Vec<Diagnostic> {
    match super::parse(source) {
        Ok(parsed) => lint(&parsed, source, options),
        Err(err) => vec![Diagnostic::from(&err)],
    }
}

/// Lints a parsed Dockerfile. `source` is the text it was parsed from (for lines and columns).
/// Findings come back in source order.
pub fn lint(parsed: &Dockerfile, source: &str, options: &LintOptions) -> Vec<Diagnostic> {
    lint_ast(&parsed.ast, source, options)
}

/// Lints a bare AST, for a file whose instructions do not all pass the typed layer (an editor
/// still wants the other findings while one line is wrong).
pub fn lint_ast(ast: &Ast, source: &str, options: &LintOptions) -> Vec<Diagnostic> {
    let mut ctx = Ctx::new(ast, source, options);
    ctx.check_casing();
    ctx.check_stages();
    ctx.check_global_args();
    ctx.check_warnings();
    for stage in 0..ctx.stages.len() {
        ctx.check_stage(stage);
    }
    ctx.check_final_user();
    let mut out = ctx.out;
    out.retain(|d| !skipped_by_comment(ast, d));
    out.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then_with(|| a.code.cmp(&b.code))
    });
    out
}

/// Lint settings from a `check=` directive or comment: `skip=<names>|all;error=true`.
#[derive(Debug, Default)]
struct CheckSettings {
    /// Rule codes or names, lower-cased (`all` skips every rule).
    skip: BTreeSet<String>,
    /// Report findings as errors.
    error: bool,
}

impl CheckSettings {
    fn parse(value: &str) -> Self {
        let mut settings = CheckSettings::default();
        for part in value.split(';') {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            match key.trim().to_lowercase().as_str() {
                "skip" => settings
                    .skip
                    .extend(value.split(',').map(|n| n.trim().to_lowercase())),
                "error" => settings.error = value.trim().eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        settings
    }

    fn skips(&self, rule: &Rule) -> bool {
        ["all", rule.code, rule.name]
            .iter()
            .any(|n| self.skip.contains(&n.to_lowercase()))
    }
}

/// Whether a `# check=skip=…` comment right above the instruction holding `d` silences it.
fn skipped_by_comment(ast: &Ast, d: &Diagnostic) -> bool {
    let at = ast
        .children
        .partition_point(|n| n.span.start <= d.span.start);
    let Some(node) = at.checked_sub(1).map(|i| &ast.children[i]) else {
        return false;
    };
    let Some(rule) = rule(&d.code) else {
        return false;
    };
    d.span.start <= node.span.end
        && node
            .prev_comment
            .iter()
            .filter_map(|c| c.strip_prefix("check="))
            .any(|value| CheckSettings::parse(value).skips(rule))
}

/// One build stage: its FROM and the instructions after it.
struct Stage<'a> {
    from: &'a Node,
    /// The base as written (`alpine:3.20`, `$IMAGE`, `build`).
    base: String,
    /// The stage name, lower-cased, if `AS name` was given.
    name: Option<String>,
    /// The stage this one is built on, when the base names an earlier stage.
    parent: Option<usize>,
    body: Vec<&'a Node>,
}

struct Ctx<'a> {
    source: &'a str,
    index: LineIndex<'a>,
    ast: &'a Ast,
    options: &'a LintOptions,
    globals: Vec<&'a Node>,
    stages: Vec<Stage<'a>>,
    check: CheckSettings,
    out: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    fn new(ast: &'a Ast, source: &'a str, options: &'a LintOptions) -> Self {
        let mut globals = Vec::new();
        let mut stages: Vec<Stage<'a>> = Vec::new();
        for node in &ast.children {
            if node.keyword() == "from" {
                let base = node.args.first().cloned().unwrap_or_default();
                let name = (node.args.len() == 3).then(|| node.args[2].to_lowercase());
                let parent = stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(base.as_str()));
                stages.push(Stage {
                    from: node,
                    base,
                    name,
                    parent,
                    body: Vec::new(),
                });
            } else if let Some(stage) = stages.last_mut() {
                stage.body.push(node);
            } else {
                globals.push(node);
            }
        }
        let mut check = CheckSettings::parse(ast.directive("check").unwrap_or(""));
        check
            .skip
            .extend(options.skip.iter().map(|s| s.to_lowercase()));
        Ctx {
            source,
            index: LineIndex::new(source),
            ast,
            options,
            globals,
            stages,
            check,
            out: Vec::new(),
        }
    }

    fn emit(&mut self, rule: &Rule, span: Span, message: impl Into<String>) {
        self.emit_with_help(rule, span, message, rule.fix);
    }

    fn emit_with_help(&mut self, rule: &Rule, span: Span, message: impl Into<String>, help: &str) {
        if self.check.skips(rule) {
            return;
        }
        let severity = if self.check.error {
            Severity::Error
        } else {
            rule.severity
        };
        self.out.push(
            Diagnostic::new_in(
                severity,
                rule.code,
                message,
                &self.index,
                span.start..span.end,
            )
            .with_help(help)
            .with_explanation(rule.explanation),
        );
    }

    /// The first line of an instruction, without a trailing continuation escape.
    fn head(&self, node: &Node) -> Span {
        let text = &self.source[node.span.start..node.span.end.min(self.source.len())];
        let line = text.split('\n').next().unwrap_or("");
        let line = line.trim_end_matches(['\r', ' ', '\t']);
        let line = line
            .strip_suffix(self.ast.escape_token)
            .unwrap_or(line)
            .trim_end();
        Span::new(node.span.start, node.span.start + line.len())
    }

    /// The keyword of an instruction.
    fn keyword_span(node: &Node) -> Span {
        Span::new(node.span.start, node.span.start + node.value.len())
    }

    /// Where `word` appears in the instruction, falling back to its first line.
    fn word_span(&self, node: &Node, word: &str) -> Span {
        match self.source.get(node.span.start..node.span.end) {
            Some(text) if !word.is_empty() => match find_word(text, word) {
                Some(i) => Span::new(node.span.start + i, node.span.start + i + word.len()),
                None => self.head(node),
            },
            _ => self.head(node),
        }
    }

    /// Where the words of a shell command appear in the instruction (its first two words, so
    /// that `apt-get install` is found even after `apt-get update`).
    fn command_span(&self, node: &Node, command: &Command) -> Span {
        let argv = command.argv();
        let Some(text) = self.source.get(node.span.start..node.span.end) else {
            return self.head(node);
        };
        let Some(first) = argv.first() else {
            return self.head(node);
        };
        let mut from = 0;
        while let Some(i) = find_word(&text[from..], first) {
            let start = from + i;
            let mut end = start + first.len();
            let rest = &text[end..];
            let ws = rest.len() - rest.trim_start_matches([' ', '\t', '\\', '\n', '\r']).len();
            match argv.get(1) {
                Some(second) if rest[ws..].starts_with(second.as_str()) => {
                    end += ws + second.len();
                    return Span::new(node.span.start + start, node.span.start + end);
                }
                None => return Span::new(node.span.start + start, node.span.start + end),
                _ => from = end,
            }
        }
        // Quotes or escapes made the text differ: point at the first word alone.
        self.word_span(node, first)
    }

    /// Indices of the stages that end up in the final image: the last stage and its ancestors.
    fn shipped(&self) -> BTreeSet<usize> {
        self.stages
            .len()
            .checked_sub(1)
            .map(|last| self.chain(last))
            .unwrap_or_default()
            .into_iter()
            .collect()
    }

    /// Stage `index` followed by the stages it is built on, nearest first. A stage can only be
    /// built on an earlier one, so the chain always ends.
    fn chain(&self, index: usize) -> Vec<usize> {
        let mut chain = vec![index];
        while let Some(parent) = self.stages[*chain.last().unwrap_or(&index)].parent {
            if parent >= chain[chain.len() - 1] {
                break;
            }
            chain.push(parent);
        }
        chain
    }

    // ----- whole-file checks -------------------------------------------------------------

    fn check_casing(&mut self) {
        // As BuildKit: stages and their commands; ARGs before the first FROM are not commands.
        let nodes: Vec<&Node> = self
            .stages
            .iter()
            .flat_map(|s| std::iter::once(s.from).chain(s.body.iter().copied()))
            .collect();
        let lower = nodes
            .iter()
            .filter(|n| n.value == n.value.to_lowercase())
            .count();
        let upper = nodes
            .iter()
            .filter(|n| n.value == n.value.to_uppercase())
            .count();
        let majority_lower = lower > upper;
        let casing = if majority_lower {
            "lowercase"
        } else {
            "uppercase"
        };
        for node in nodes {
            let is_lower = node.value == node.value.to_lowercase();
            let is_upper = node.value == node.value.to_uppercase();
            let consistent = if majority_lower { is_lower } else { is_upper };
            if !consistent {
                let span = Self::keyword_span(node);
                self.emit(
                    &CONSISTENT_INSTRUCTION_CASING,
                    span,
                    format!(
                        "Command '{}' should match the case of the command majority ({casing})",
                        node.value
                    ),
                );
            }
        }
    }

    fn check_warnings(&mut self) {
        for warning in &self.ast.warnings {
            if warning.code == NO_EMPTY_CONTINUATION.name {
                self.emit(
                    &NO_EMPTY_CONTINUATION,
                    warning.location.span,
                    "Empty continuation line",
                );
            }
        }
    }

    fn check_stages(&mut self) {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..self.stages.len() {
            let from = self.stages[i].from;
            if from.args.len() == 3 {
                let written = from.args[2].clone();
                let as_kw = from.args[1].clone();
                let span = self.word_span(from, &written);
                if written != written.to_lowercase() {
                    self.emit(
                        &STAGE_NAME_CASING,
                        span,
                        format!("Stage name '{written}' should be lowercase"),
                    );
                }
                let from_kw = &from.value;
                let mismatch = (*from_kw == from_kw.to_lowercase()
                    && as_kw != as_kw.to_lowercase())
                    || (*from_kw == from_kw.to_uppercase() && as_kw != as_kw.to_uppercase());
                if mismatch {
                    let as_span = self.word_span(from, &as_kw);
                    self.emit(
                        &FROM_AS_CASING,
                        as_span,
                        format!("'{as_kw}' and '{from_kw}' keywords' casing do not match"),
                    );
                }
                let name = written.to_lowercase();
                if matches!(name.as_str(), "context" | "scratch") {
                    self.emit(
                        &RESERVED_STAGE_NAME,
                        span,
                        format!(
                            "Stage name should not use the same name as reserved stage \"{name}\""
                        ),
                    );
                }
                if seen.insert(name.clone(), i).is_some() {
                    self.emit(
                        &DUPLICATE_STAGE_NAME,
                        span,
                        format!("Duplicate stage name \"{name}\", stage names should be unique"),
                    );
                }
                self.check_description(from, "FROM", &[written]);
            }
            self.check_from(i);
        }
    }

    /// InvalidDefinitionDescription for `FROM … AS name` and `ARG name…`.
    fn check_description(&mut self, node: &Node, instruction: &str, keys: &[String]) {
        let Some(last) = node.prev_comment.last() else {
            return;
        };
        if keys.is_empty() {
            return;
        }
        let first_word = last.split(' ').next().unwrap_or("");
        if keys.iter().any(|k| k == first_word) {
            return;
        }
        let example = if keys.len() > 1 {
            "<arg_key>"
        } else {
            keys[0].as_str()
        };
        let span = self.head(node);
        self.emit(
            &INVALID_DEFINITION_DESCRIPTION,
            span,
            format!(
                "Comment for {instruction} should follow the format: `# {example} <description>`"
            ),
        );
    }

    /// Global ARG names and defaults, plus BuildKit's automatic platform args.
    fn global_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = AUTOMATIC_ARGS
            .iter()
            .map(|k| ((*k).to_owned(), String::new()))
            .collect();
        for node in &self.globals {
            if node.keyword() == "arg" {
                for word in &node.args {
                    let (k, v) = word.split_once('=').unwrap_or((word, ""));
                    env.push((k.to_owned(), unquote(v)));
                }
            }
        }
        env
    }

    fn check_global_args(&mut self) {
        let globals = self.globals.clone();
        for node in globals {
            if node.keyword() == "arg" {
                self.check_arg(node);
            }
        }
    }

    fn check_arg(&mut self, node: &Node) {
        let keys: Vec<String> = node.args.iter().map(|w| arg_name(w).to_owned()).collect();
        for key in &keys {
            if is_secret_key(key) {
                let span = self.word_span(node, key);
                self.emit(
                    &SECRETS_USED_IN_ARG_OR_ENV,
                    span,
                    format!(
                        "Do not use ARG or ENV instructions for sensitive data (ARG \"{key}\")"
                    ),
                );
            }
        }
        self.check_description(node, "ARG", &keys);
    }

    fn check_from(&mut self, index: usize) {
        let from = self.stages[index].from;
        let base = self.stages[index].base.clone();
        let lexer = Lexer::new(self.ast.escape_token);
        let env = self.global_env();
        let declared: BTreeSet<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        let platform = flag_value(from, "platform");

        // Variables in the base name and in --platform must be declared global ARGs.
        let mut undeclared = BTreeSet::new();
        for word in std::iter::once(base.as_str()).chain(platform.as_deref()) {
            if let Ok(expansion) = lexer.process(word, &env) {
                undeclared.extend(
                    expansion
                        .unmatched
                        .iter()
                        .filter(|v| !declared.contains(v.as_str()))
                        .cloned(),
                );
            }
            for var in referenced_vars(word) {
                if !declared.contains(var.as_str()) {
                    undeclared.insert(var);
                }
            }
        }
        for var in &undeclared {
            let candidates: Vec<&str> = self
                .globals
                .iter()
                .filter(|n| n.keyword() == "arg")
                .flat_map(|n| n.args.iter())
                .map(|w| arg_name(w))
                .collect();
            let mut message = format!("FROM argument '{var}' is not declared");
            if let Some(s) = suggest(var, candidates.iter().copied()) {
                let _ = write!(message, " (did you mean {s}?)");
            }
            let span = self.word_span(from, &format!("${var}"));
            self.emit(&UNDEFINED_ARG_IN_FROM, span, message);
        }

        if base.contains('$')
            && undeclared.is_empty()
            && let Ok(expanded) = lexer.process_word(&base, &env)
            && !valid_reference(&expanded)
        {
            let span = self.word_span(from, &base);
            self.emit(
                &INVALID_DEFAULT_ARG_IN_FROM,
                span,
                format!("Default value for ARG {base} results in empty or invalid base image name"),
            );
        }

        if let Some(platform) = platform {
            let span = self.word_span(from, &platform);
            if platform == "$TARGETPLATFORM" || platform == "${TARGETPLATFORM}" {
                self.emit(
                    &REDUNDANT_TARGET_PLATFORM,
                    span,
                    format!("Setting platform to predefined {platform} in FROM is redundant as this is the default behavior"),
                );
            } else if !platform.contains('$') {
                let name = self.stages[index].name.clone().unwrap_or_default();
                let mentioned = platform
                    .split(['/', ','])
                    .any(|p| !p.is_empty() && name.contains(&p.to_lowercase()));
                if !mentioned {
                    self.emit(
                        &FROM_PLATFORM_FLAG_CONST_DISALLOWED,
                        span,
                        format!(
                            "FROM --platform flag should not use constant value \"{platform}\""
                        ),
                    );
                }
            }
        }

        // LB004/LB005: images (not stages, not scratch, not variables) should be pinned.
        let is_image =
            self.stages[index].parent.is_none() && !base.contains('$') && base != "scratch";
        if let Some(reference) = is_image
            .then(|| Reference::parse_normalized(&base).ok())
            .flatten()
        {
            let span = self.word_span(from, &base);
            match (reference.tag(), reference.digest()) {
                (None, None) => self.emit(
                    &IMAGE_WITHOUT_TAG,
                    span,
                    format!("base image `{base}` has no tag, so it means `{base}:latest`"),
                ),
                (Some("latest"), None) => {
                    self.emit(
                        &IMAGE_LATEST_TAG,
                        span,
                        format!("base image `{base}` uses the `latest` tag"),
                    );
                }
                _ => {}
            }
        }
    }

    // ----- per-stage checks ---------------------------------------------------------------

    fn check_stage(&mut self, index: usize) {
        let body = self.stages[index].body.clone();
        let shipped = self.shipped().contains(&index);
        let mut last_of: BTreeMap<String, &Node> = BTreeMap::new();
        let mut shell_changed = self.ancestor_has(index, "shell", |_| true);
        // As BuildKit, only the first WORKDIR is checked: fixing it fixes the ones after it.
        let mut workdir_set = self.ancestor_has(index, "workdir", |_| true);
        let mut copied_context: Option<&Node> = None;
        let mut copied_anything = false;
        let mut stage_env: BTreeSet<String> = self.ancestor_env(index);
        let mut apt_update_only: Vec<(&Node, Span)> = Vec::new();
        let mut installs_in_stage = false;

        for node in body {
            let keyword = node.keyword();
            match keyword.as_str() {
                "cmd" | "entrypoint" | "healthcheck" => {
                    if let Some(previous) = last_of.insert(keyword.clone(), node) {
                        let span = self.head(previous);
                        self.emit(
                            &MULTIPLE_INSTRUCTIONS_DISALLOWED,
                            span,
                            format!(
                                "Multiple {} instructions should not be used in the same stage because only the last one will be used",
                                node.value
                            ),
                        );
                    }
                    if keyword != "healthcheck"
                        && !node.json
                        && !shell_changed
                        && !node.args.is_empty()
                    {
                        let span = self.head(node);
                        let example = json_example(&keyword.to_uppercase(), &node.args[0]);
                        self.emit_with_help(
                            &JSON_ARGS_RECOMMENDED,
                            span,
                            format!(
                                "JSON arguments recommended for {} to prevent unintended behavior related to OS signals",
                                node.value
                            ),
                            &example,
                        );
                    }
                }
                "shell" => shell_changed = true,
                "onbuild" => {
                    // A trigger runs in every image built FROM this one: same lessons. Its
                    // heredocs hang on the ONBUILD node.
                    if let Some(child) = node.children.first() {
                        let mut trigger = child.clone();
                        trigger.heredocs.clone_from(&node.heredocs);
                        match child.keyword().as_str() {
                            "run" => {
                                let commands = run_commands(&trigger);
                                let mounts = cache_mounts(&trigger);
                                self.check_run(
                                    &trigger, &commands, &mounts, true, false, &stage_env,
                                );
                            }
                            "copy" | "add" => self.check_copy(&trigger, true),
                            _ => {}
                        }
                    }
                }
                "maintainer" => {
                    let span = self.head(node);
                    self.emit(
                        &MAINTAINER_DEPRECATED,
                        span,
                        "Maintainer instruction is deprecated in favor of using label",
                    );
                }
                "env" | "label" => {
                    let name = keyword.to_uppercase();
                    let legacy = node
                        .args
                        .chunks(3)
                        .any(|c| c.get(2).is_some_and(String::is_empty));
                    if legacy {
                        let span = self.head(node);
                        self.emit(
                            &LEGACY_KEY_VALUE_FORMAT,
                            span,
                            format!("\"{name} key=value\" should be used instead of legacy \"{name} key value\" format"),
                        );
                    }
                    if keyword == "env" {
                        for pair in node.args.chunks(3) {
                            let key = &pair[0];
                            if is_secret_key(key) {
                                let span = self.word_span(node, key);
                                self.emit(
                                    &SECRETS_USED_IN_ARG_OR_ENV,
                                    span,
                                    format!("Do not use ARG or ENV instructions for sensitive data (ENV \"{key}\")"),
                                );
                            }
                        }
                    }
                    self.check_undefined_vars(node, &stage_env);
                    if keyword == "env" {
                        stage_env.extend(node.args.chunks(3).map(|p| p[0].clone()));
                    }
                }
                "arg" => {
                    self.check_arg(node);
                    self.check_undefined_vars(node, &stage_env);
                    stage_env.extend(node.args.iter().map(|w| arg_name(w).to_owned()));
                }
                "workdir" => {
                    self.check_undefined_vars(node, &stage_env);
                    let path = node.args.first().cloned().unwrap_or_default();
                    if !workdir_set && !is_absolute(&path) && !path.starts_with('$') {
                        let span = self.word_span(node, &path);
                        self.emit(
                            &WORKDIR_RELATIVE_PATH,
                            span,
                            format!("Relative workdir \"{path}\" can have unexpected results if the base image changes"),
                        );
                    }
                    workdir_set = true;
                }
                "user" | "stopsignal" | "volume" => self.check_undefined_vars(node, &stage_env),
                "expose" => {
                    self.check_undefined_vars(node, &stage_env);
                    self.check_expose(node);
                }
                "copy" | "add" => {
                    self.check_undefined_vars(node, &stage_env);
                    self.check_copy(node, workdir_set);
                    let from_context = flag_value(node, "from").is_none_or(|f| f.is_empty());
                    let (sources, _) = copy_sources(node);
                    if from_context
                        && sources.iter().any(|s| is_whole_context(s))
                        && copied_context.is_none()
                    {
                        copied_context = Some(node);
                    }
                    copied_anything = true;
                }
                "run" => {
                    self.check_undefined_vars(node, &stage_env);
                    let commands = run_commands(node);
                    let mounts = cache_mounts(node);
                    let installs = commands.iter().any(is_dependency_install);
                    if installs && let Some(copy) = copied_context.take() {
                        let span = self.head(copy);
                        let what = commands
                            .iter()
                            .find(|c| is_dependency_install(c))
                            .map(|c| c.argv()[..2.min(c.argv().len())].join(" "))
                            .unwrap_or_default();
                        self.emit(
                                &COPY_ALL_BEFORE_INSTALL,
                                span,
                                format!("the whole build context is copied before `{what}`: any source change reruns it"),
                            );
                    }
                    let apt_install = commands
                        .iter()
                        .any(|c| is_apt(c) && c.subcommand() == Some("install"));
                    installs_in_stage |= apt_install;
                    if let Some(update) = commands
                        .iter()
                        .find(|c| is_apt(c) && c.subcommand() == Some("update"))
                        && !apt_install
                    {
                        apt_update_only.push((node, self.command_span(node, update)));
                    }
                    self.check_run(
                        node,
                        &commands,
                        &mounts,
                        shipped,
                        copied_anything,
                        &stage_env,
                    );
                }
                _ => {}
            }
        }
        for (_, span) in apt_update_only {
            let message = if installs_in_stage {
                "`apt-get update` runs in a different RUN than `apt-get install`"
            } else {
                "`apt-get update` without `apt-get install` in the same RUN"
            };
            self.emit(&APT_UPDATE_WITHOUT_INSTALL, span, message);
        }
    }

    /// Whether this stage or one it is built on has an instruction `keyword` satisfying `test`.
    fn ancestor_has(&self, index: usize, keyword: &str, test: impl Fn(&Node) -> bool) -> bool {
        self.chain(index)[1..].iter().any(|&i| {
            self.stages[i]
                .body
                .iter()
                .any(|n| n.keyword() == keyword && test(n))
        })
    }

    /// Names set by ENV or ARG in the stages this one is built on.
    fn ancestor_env(&self, index: usize) -> BTreeSet<String> {
        let mut env: BTreeSet<String> = ASSUMED_IMAGE_ENV.iter().map(|s| (*s).to_owned()).collect();
        for &i in &self.chain(index)[1..] {
            for node in &self.stages[i].body {
                match node.keyword().as_str() {
                    "env" => env.extend(node.args.chunks(3).map(|p| p[0].clone())),
                    "arg" => env.extend(node.args.iter().map(|w| arg_name(w).to_owned())),
                    _ => {}
                }
            }
        }
        env
    }

    /// UndefinedVar: variables the builder expands must be known.
    fn check_undefined_vars(&mut self, node: &Node, env: &BTreeSet<String>) {
        let words: Vec<&str> = match node.keyword().as_str() {
            "env" | "label" => node
                .args
                .chunks(3)
                .flat_map(|p| [p[0].as_str(), p.get(1).map_or("", String::as_str)])
                .collect(),
            "arg" => node
                .args
                .iter()
                .filter_map(|w| w.split_once('=').map(|(_, v)| v))
                .collect(),
            "copy" | "add" => {
                let mut words: Vec<&str> = node
                    .args
                    .iter()
                    .map(String::as_str)
                    .filter(|w| !w.starts_with("<<"))
                    .collect();
                words.extend(node.flags.iter().filter_map(|f| {
                    let (name, value) = f.trim_start_matches('-').split_once('=')?;
                    matches!(name, "chown" | "chmod" | "checksum").then_some(value)
                }));
                words
            }
            // The builder expands only the --mount values of a RUN; the shell does the rest.
            "run" => node
                .flags
                .iter()
                .filter_map(|f| f.strip_prefix("--mount="))
                .collect(),
            _ => node.args.iter().map(String::as_str).collect(),
        };
        let lexer = Lexer::new(self.ast.escape_token);
        let known = Known(env);
        let mut reported = BTreeSet::new();
        for word in words {
            let Ok(expansion) = lexer.process(word, &known) else {
                continue;
            };
            for var in expansion.unmatched {
                if reported.insert(var.clone()) {
                    let mut message = format!("Usage of undefined variable '${var}'");
                    if let Some(s) = suggest(&var, env.iter().map(String::as_str)) {
                        let _ = write!(message, " (did you mean ${s}?)");
                    }
                    let span = self.word_span(node, &format!("${var}"));
                    let span = if span == self.head(node) {
                        self.word_span(node, &format!("${{{var}"))
                    } else {
                        span
                    };
                    self.emit(&UNDEFINED_VAR, span, message);
                }
            }
        }
    }

    fn check_expose(&mut self, node: &Node) {
        for port in &node.args {
            if port.contains(':') {
                let span = self.word_span(node, port);
                self.emit(
                    &EXPOSE_INVALID_FORMAT,
                    span,
                    format!("EXPOSE instruction should not define an IP address or host-port mapping, found '{port}'"),
                );
            }
            if let Some((_, proto)) = port.rsplit_once('/')
                && proto != proto.to_lowercase()
            {
                let span = self.word_span(node, port);
                self.emit(
                    &EXPOSE_PROTO_CASING,
                    span,
                    format!("Defined protocol '{port}' in EXPOSE instruction should be lowercase"),
                );
            }
        }
    }

    fn check_copy(&mut self, node: &Node, workdir_set: bool) {
        let keyword = node.keyword();
        let (sources, dest) = copy_sources(node);
        let from_context = flag_value(node, "from").is_none_or(|f| f.is_empty());
        let heredoc_names: BTreeSet<&str> = node.heredocs.iter().map(|h| h.name.as_str()).collect();

        if keyword == "add" {
            let remote: Vec<&String> = sources.iter().filter(|s| is_url(s) || is_git(s)).collect();
            if remote.is_empty() && !sources.iter().any(|s| is_archive(s)) && !sources.is_empty() {
                let span = Self::keyword_span(node);
                self.emit(
                    &ADD_LOCAL_FILE,
                    span,
                    "ADD used to copy local files: use COPY",
                );
            }
            if flag_value(node, "checksum").is_none() {
                for url in remote.iter().filter(|s| is_url(s) && !is_git(s)) {
                    let span = self.word_span(node, url);
                    self.emit(
                        &ADD_URL_WITHOUT_CHECKSUM,
                        span,
                        format!("`{url}` is downloaded without --checksum"),
                    );
                }
            }
        }

        for source in &sources {
            if heredoc_names.contains(source.as_str()) {
                continue;
            }
            let base = source
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(source);
            if is_secret_file(base) {
                let span = self.word_span(node, source);
                self.emit(
                    &SECRET_FILE_COPIED,
                    span,
                    format!("`{source}` looks like a credentials file and is copied into a layer"),
                );
            }
            if from_context
                && !is_url(source)
                && !is_git(source)
                && !source.contains('$')
                && let Some(ignore) = &self.options.dockerignore
                && ignore.is_excluded(source)
            {
                let cmd = if keyword == "add" { "Add" } else { "Copy" };
                let span = self.word_span(node, source);
                self.emit(
                    &COPY_IGNORED_FILE,
                    span,
                    format!(
                        "Attempting to {cmd} file \"{source}\" that is excluded by .dockerignore"
                    ),
                );
            }
        }

        if let Some(dest) = dest
            && !workdir_set
            && !is_absolute(&dest)
            && !dest.starts_with('$')
        {
            let span = self.word_span(node, &dest);
            self.emit(
                &COPY_WITHOUT_WORKDIR,
                span,
                format!("`{dest}` is relative and no WORKDIR is set: files land under `/`"),
            );
        }
    }

    fn check_run(
        &mut self,
        node: &Node,
        commands: &[Command],
        mounts: &[String],
        shipped: bool,
        copied_anything: bool,
        env: &BTreeSet<String>,
    ) {
        let cached = |paths: &[&str]| {
            mounts.iter().any(|m| {
                paths.iter().any(|p| {
                    m.trim_end_matches('/') == *p
                        || p.starts_with(&format!("{}/", m.trim_end_matches('/')))
                })
            })
        };
        let removes = |prefix: &str| {
            commands.iter().any(|c| {
                c.program() == Some("rm") && c.args().iter().any(|a| a.starts_with(prefix))
            })
        };

        for (i, command) in commands.iter().enumerate() {
            let program = command.program().unwrap_or("");
            if command.uses_sudo() {
                let span = self.word_span(node, "sudo");
                self.emit(
                    &SUDO_IN_RUN,
                    span,
                    "`sudo` in RUN: the build already runs as root",
                );
            }
            if program == "cd" {
                let span = self.command_span(node, command);
                let dir = command.args().first().cloned().unwrap_or_default();
                self.emit_with_help(
                    &CD_IN_RUN,
                    span,
                    "`cd` lasts only for this RUN: use WORKDIR",
                    &format!(
                        "use `WORKDIR {}` before this RUN",
                        if dir.is_empty() { "/path" } else { &dir }
                    ),
                );
            }
            if is_apt(command) {
                let sub = command.subcommand().unwrap_or("");
                if sub == "install" {
                    let span = self.command_span(node, command);
                    let yes = command.has_arg(&[
                        "-y",
                        "--yes",
                        "--assume-yes",
                        "-qq",
                        "-yq",
                        "-qy",
                        "-q=2",
                    ]) || command
                        .args()
                        .iter()
                        .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('y'))
                        || (command.piped && i > 0 && commands[i - 1].program() == Some("yes"));
                    if !yes {
                        self.emit(
                            &APT_INSTALL_NO_YES,
                            span,
                            "`apt-get install` without `-y` waits for an answer and aborts",
                        );
                    }
                    if shipped {
                        let no_recommends = command.has_arg(&["--no-install-recommends"])
                            || command.args().iter().any(|a| {
                                a.contains("Install-Recommends=false")
                                    || a.contains("Install-Recommends=0")
                            });
                        if !no_recommends {
                            self.emit(
                                &APT_INSTALL_RECOMMENDS,
                                span,
                                "`apt-get install` without `--no-install-recommends`",
                            );
                        }
                        let lists_cached = cached(&["/var/lib/apt/lists", "/var/lib/apt"]);
                        if !removes("/var/lib/apt/lists") && !lists_cached {
                            self.emit(
                                &APT_LISTS_NOT_REMOVED,
                                span,
                                "the apt package lists stay in this layer",
                            );
                        }
                    }
                }
                if matches!(sub, "upgrade" | "dist-upgrade" | "full-upgrade") {
                    let span = self.command_span(node, command);
                    self.emit(
                        &PACKAGE_UPGRADE,
                        span,
                        format!("`{program} {sub}` in a cached layer"),
                    );
                }
            }
            if matches!(program, "apk") {
                let sub = command.subcommand().unwrap_or("");
                if sub == "add"
                    && shipped
                    && !command.has_arg(&["--no-cache"])
                    && !removes("/var/cache/apk")
                    && !cached(&["/var/cache/apk", "/etc/apk/cache"])
                {
                    let span = self.command_span(node, command);
                    self.emit(
                        &APK_CACHE_KEPT,
                        span,
                        "`apk add` without `--no-cache` keeps the package index in the layer",
                    );
                }
                if sub == "upgrade" {
                    let span = self.command_span(node, command);
                    self.emit(&PACKAGE_UPGRADE, span, "`apk upgrade` in a cached layer");
                }
            }
            if matches!(program, "yum" | "dnf" | "microdnf")
                && matches!(command.subcommand(), Some("update" | "upgrade"))
            {
                let span = self.command_span(node, command);
                self.emit(
                    &PACKAGE_UPGRADE,
                    span,
                    format!(
                        "`{program} {}` in a cached layer",
                        command.subcommand().unwrap_or("")
                    ),
                );
            }
            if is_pip_install(command) && shipped {
                let no_cache = command.has_arg(&["--no-cache-dir"])
                    || env.contains("PIP_NO_CACHE_DIR")
                    || cached(&["/root/.cache/pip", "/root/.cache"])
                    || mounts.iter().any(|m| {
                        m.trim_end_matches('/').ends_with(".cache/pip")
                            || m.trim_end_matches('/').ends_with("/.cache")
                    });
                if !no_cache {
                    let span = self.command_span(node, command);
                    self.emit(&PIP_CACHE_KEPT, span, "`pip install` without `--no-cache-dir` keeps its download cache in the layer");
                }
            }
            if command.piped
                && i > 0
                && matches!(commands[i - 1].program(), Some("curl" | "wget"))
                && (shell::SHELLS.contains(&program)
                    || matches!(program, "python" | "python3" | "perl" | "ruby" | "node"))
            {
                let span = self.command_span(node, command);
                self.emit(
                    &PIPE_TO_SHELL,
                    span,
                    format!("a download is piped into `{program}`"),
                );
            }
        }

        let real: Vec<&Command> = commands.iter().filter(|c| !c.argv().is_empty()).collect();
        if real.is_empty() {
            return;
        }
        // Whatever is removed came from an earlier layer (or the base image).
        if real.iter().all(|c| is_cleanup(c)) {
            let span = self.head(node);
            self.emit(
                &REMOVE_IN_LATER_LAYER,
                span,
                "removing files in a separate RUN does not make the image smaller",
            );
        } else if copied_anything
            && real
                .iter()
                .all(|c| matches!(c.program(), Some("chown" | "chmod")))
        {
            let span = self.head(node);
            self.emit(
                &CHANGE_OWNER_IN_LATER_LAYER,
                span,
                "changing owner or mode in a separate RUN stores the files twice",
            );
        }
    }

    fn check_final_user(&mut self) {
        let Some(last) = self.stages.len().checked_sub(1) else {
            return;
        };
        let chain = self.chain(last);
        let last_user = chain.iter().find_map(|&i| {
            self.stages[i]
                .body
                .iter()
                .rev()
                .find(|n| n.keyword() == "user")
                .copied()
        });
        let root_stage = *chain.last().unwrap_or(&last);
        if self.stages[root_stage].base.contains("nonroot") {
            return;
        }
        match last_user {
            None => {
                let span = self.head(self.stages[last].from);
                self.emit(
                    &RUN_AS_ROOT,
                    span,
                    "no USER in the final stage: the container runs as root",
                );
            }
            Some(user) => {
                let name = user.args.first().map_or("", String::as_str);
                let who = name.split(':').next().unwrap_or("");
                if who == "root" || who == "0" {
                    let span = self.head(user);
                    self.emit(
                        &RUN_AS_ROOT,
                        span,
                        format!("the last USER is `{name}`: the container runs as root"),
                    );
                }
            }
        }
    }
}

/// Names declared so far, plus BuildKit's predefined args, as an expansion environment (every
/// value empty: only whether a name is set matters here).
struct Known<'e>(&'e BTreeSet<String>);

impl Env for Known<'_> {
    fn get_var(&self, name: &str) -> Option<&str> {
        let set =
            self.0.contains(name) || AUTOMATIC_ARGS.contains(&name) || PROXY_ARGS.contains(&name);
        set.then_some("")
    }
}

/// The name declared by an ARG word (`NAME` or `NAME=default`).
fn arg_name(word: &str) -> &str {
    word.split_once('=').map_or(word, |(name, _)| name)
}

/// Variables BuildKit defines for FROM without a declaration.
const AUTOMATIC_ARGS: &[&str] = &[
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
    "BUILDKIT_SYNTAX",
];

/// Proxy build arguments, predefined without an ARG.
const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Environment variables every base image is assumed to define (the linter cannot see the
/// base image's config).
const ASSUMED_IMAGE_ENV: &[&str] = &["PATH", "HOME", "HOSTNAME"];

/// The value of builder flag `--name` (`--name=value`; `--name` alone gives `""`).
fn flag_value(node: &Node, name: &str) -> Option<String> {
    node.flags.iter().rev().find_map(|f| {
        let f = f.strip_prefix("--")?;
        match f.split_once('=') {
            Some((n, v)) if n == name => Some(v.to_owned()),
            None if f == name => Some(String::new()),
            _ => None,
        }
    })
}

/// The targets of a RUN's cache and tmpfs mounts (where a package manager's cache may live).
/// Values are taken as written: variables in them are not expanded.
fn cache_mounts(node: &Node) -> Vec<String> {
    node.flags
        .iter()
        .filter_map(|f| f.strip_prefix("--mount="))
        .filter_map(|spec| Mount::parse(spec, &mut |v| Ok(v.to_owned())).ok())
        .filter(|m| matches!(m.kind, MountType::Cache | MountType::Tmpfs))
        .map(|m| m.target)
        .collect()
}

/// The shell commands a RUN executes, heredoc scripts and `sh -c` included.
fn run_commands(node: &Node) -> Vec<Command> {
    if node.json {
        let args = &node.args;
        let shell = args.first().map(|p| p.rsplit('/').next().unwrap_or(p));
        if let (Some(sh), Some(flag)) = (shell, args.get(1))
            && shell::SHELLS.contains(&sh)
            && flag.starts_with('-')
            && flag.ends_with('c')
        {
            return args
                .get(2)
                .map(|s| shell::commands_deep(s))
                .unwrap_or_default();
        }
        return vec![Command {
            words: args.clone(),
            ..Command::default()
        }];
    }
    let text = node.args.first().map_or("", String::as_str);
    if node.heredocs.is_empty() {
        return shell::commands_deep(text);
    }
    // `RUN <<EOF` alone: the body is the script (unless a shebang names another interpreter).
    let single = node.heredocs.len() == 1
        && text.trim().starts_with("<<")
        && !text.trim().contains(char::is_whitespace);
    if single {
        let body = node.heredocs[0].chomped_content();
        if let Some(shebang) = body.lines().next().and_then(|l| l.strip_prefix("#!")) {
            let interpreter = shebang
                .split_whitespace()
                .map(|w| w.rsplit('/').next().unwrap_or(w))
                .find(|w| *w != "env")
                .unwrap_or("");
            if !shell::SHELLS.contains(&interpreter) {
                return Vec::new();
            }
        }
        return shell::commands_deep(&body);
    }
    // Otherwise the shell gets the text followed by each body and its delimiter.
    let mut script = text.to_owned();
    for heredoc in &node.heredocs {
        script.push('\n');
        script.push_str(&heredoc.content);
        script.push_str(&heredoc.name);
    }
    shell::commands_deep(&script)
}

/// The sources and destination of COPY/ADD (heredoc sources by name).
fn copy_sources(node: &Node) -> (Vec<String>, Option<String>) {
    let mut args = node.args.clone();
    let dest = if args.len() >= 2 { args.pop() } else { None };
    let sources = args
        .into_iter()
        .map(|a| {
            match node.heredocs.iter().find(|h| {
                a.contains(&format!("<<{}", h.name)) || a.ends_with(&h.name) && a.starts_with("<<")
            }) {
                Some(h) => h.name.clone(),
                None => a,
            }
        })
        .collect();
    (sources, dest)
}

fn is_apt(command: &Command) -> bool {
    matches!(command.program(), Some("apt-get" | "apt" | "aptitude"))
}

fn is_pip_install(command: &Command) -> bool {
    let Some(program) = command.program() else {
        return false;
    };
    if program.starts_with("pip") {
        return command.subcommand() == Some("install");
    }
    if program.starts_with("python") {
        let args = command.args();
        return args
            .windows(3)
            .any(|w| w[0] == "-m" && w[1] == "pip" && w[2] == "install");
    }
    false
}

/// Whether a command installs a project's dependencies from its manifests.
fn is_dependency_install(command: &Command) -> bool {
    let program = command.program().unwrap_or("");
    let sub = command.subcommand();
    match program {
        "npm" => matches!(sub, Some("ci" | "install" | "i")),
        "yarn" => matches!(sub, None | Some("install")),
        "pnpm" => matches!(sub, Some("install" | "i")),
        "bundle" | "composer" | "poetry" | "pipenv" => sub == Some("install"),
        "go" => command
            .args()
            .windows(2)
            .any(|w| w[0] == "mod" && w[1] == "download"),
        "cargo" => matches!(sub, Some("fetch" | "build")),
        "mvn" | "gradle" | "./gradlew" | "gradlew" => true,
        _ if is_pip_install(command) => {
            command.has_arg(&["-r", "--requirement", ".", "-e"])
                || command
                    .args()
                    .iter()
                    .any(|a| a.starts_with("-r") || a.starts_with("--requirement="))
        }
        _ => false,
    }
}

/// Commands that only delete things.
fn is_cleanup(command: &Command) -> bool {
    match command.program() {
        Some("rm") => true,
        Some("apt-get" | "apt") => matches!(
            command.subcommand(),
            Some("clean" | "autoclean" | "autoremove" | "purge" | "remove")
        ),
        Some("apk") => command.subcommand() == Some("del"),
        Some("yum" | "dnf") => command.subcommand() == Some("clean"),
        Some("npm" | "yarn") => command.subcommand() == Some("cache"),
        Some(p) if p.starts_with("pip") => command.subcommand() == Some("cache"),
        _ => false,
    }
}

fn is_whole_context(source: &str) -> bool {
    matches!(source, "." | "./" | "*" | "./*" | "/" | "/.")
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

fn is_git(source: &str) -> bool {
    source.starts_with("git@")
        || source.starts_with("git://")
        || source.starts_with("ssh://")
        || (is_url(source)
            && source
                .split(['#', '?'])
                .next()
                .is_some_and(|u| u.rsplit('.').next() == Some("git")))
}

fn is_archive(source: &str) -> bool {
    let lower = source.to_lowercase();
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst",
        ".gz", ".bz2", ".xz",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

fn is_absolute(path: &str) -> bool {
    path.starts_with('/')
        || path.starts_with('\\')
        || path.get(1..3) == Some(":\\")
        || path.get(1..3) == Some(":/")
}

/// File names that usually hold credentials.
fn is_secret_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    matches!(
        lower.as_str(),
        "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | ".env"
            | ".netrc"
            | ".npmrc"
            | ".pypirc"
            | ".git-credentials"
            | "credentials"
            | "credentials.json"
    ) || lower.starts_with(".env.")
        || [".pem", ".key", ".p12", ".pfx"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

/// BuildKit's secret-name test: a `_`-separated part of the name is a secret word, and none is
/// `public`.
fn is_secret_key(key: &str) -> bool {
    const SECRET: &[&str] = &[
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "secret",
        "token",
    ];
    let parts: Vec<String> = key.split('_').map(str::to_lowercase).collect();
    !parts.iter().any(|p| p == "public") && parts.iter().any(|p| SECRET.contains(&p.as_str()))
}

/// Whether `reference` is an image reference docker accepts (what BuildKit checks the default
/// of a FROM argument against).
fn valid_reference(reference: &str) -> bool {
    Reference::parse_normalized(reference).is_ok()
}

/// Names referenced as `$NAME` or `${NAME…}` in `word` (for FROM, where every use counts).
fn referenced_vars(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = if bytes.get(i + 1) == Some(&b'{') {
                i + 2
            } else {
                i + 1
            };
            let end = bytes[start..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .map_or(bytes.len(), |p| start + p);
            if end > start {
                out.push(word[start..end].to_owned());
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The closest of `candidates` to `name` within edit distance 2, for "did you mean".
fn suggest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .filter(|c| *c != name)
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Removes one level of surrounding quotes from an ARG default.
fn unquote(value: &str) -> String {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// The help line for JSONArgsRecommended: the instruction rewritten in exec form when the
/// command is simple words, otherwise the generic advice.
fn json_example(keyword: &str, command: &str) -> String {
    let simple = !command.is_empty()
        && command
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " -_./=:,@%+".contains(c));
    if simple {
        let words: Vec<String> = command
            .split_whitespace()
            .map(|w| format!("\"{w}\""))
            .collect();
        format!("use the exec form: {keyword} [{}]", words.join(", "))
    } else {
        format!(
            "use the exec form: {keyword} [\"executable\", \"arg\"] (or [\"sh\", \"-c\", \"…\"] if you need a shell)"
        )
    }
}

/// The offset of `word` in `text` as a whole word (not inside a longer identifier), or of its
/// first occurrence.
fn find_word(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let start = from + i;
        let end = start + word.len();
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c));
        let after_ok = text[end..].chars().next().is_none_or(|c| !is_ident(c));
        if before_ok && after_ok {
            return Some(start);
        }
        from = start + word.len().max(1);
        if from > text.len() {
            break;
        }
    }
    text.find(word)
}

#[cfg(test)]
mod tests;
