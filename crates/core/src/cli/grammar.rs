//! The command grammar: an argv (`docker run -d --name web -p 3000:3000 my-app`) to a typed
//! [`Command`], with docker's `--help` texts and usage errors (docker 20.10's words and exit
//! codes). Each command is one row of [`COMMANDS`]: its name, usage line, description, argument
//! rule, flags, and the builder of its typed options; help, errors and parsing all read that row.
//!
//! ```
//! use layerbox_core::cli::grammar::{Invocation, parse};
//! use layerbox_core::cli::command::Command;
//! let argv = ["docker", "run", "-d", "--name", "web", "-p", "3000:3000", "my-app"];
//! let Ok(Invocation::Command { command: Command::Run(run), .. }) = parse(&argv) else { panic!() };
//! assert!(run.detach);
//! assert_eq!(run.create.name.as_deref(), Some("web"));
//! assert_eq!(run.create.image, "my-app");
//!
//! let err = parse(&["docker", "run"]).unwrap_err();
//! assert_eq!(err.exit_code(), 1);
//! assert!(err.to_string().starts_with("\"docker run\" requires at least 1 argument.\nSee 'docker run --help'."));
//! ```

use std::fmt::Write as _;

use super::command::{self as cmd, Builder, Command};
use super::flags::{
    DEFAULT_WIDTH, FlagError, FlagKind, FlagSpec, ParsedFlags, flag_usages, parse_flags_or_help,
};
use super::report::report_error;

/// How many positional arguments a command takes (docker's `cli.ExactArgs`, `RequiresMinArgs`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgsRule {
    /// None (`cli.NoArgs`).
    None,
    /// Exactly n.
    Exact(usize),
    /// At least n.
    Min(usize),
    /// At most n.
    Max(usize),
    /// Between the two, inclusive.
    Range(usize, usize),
}

/// One command of the grammar: everything its parsing, help and errors need. A command can be
/// reachable at the top level (`docker ps`), under a management command (`docker container ls`),
/// or both; the two forms share this one row.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Its top-level name (`ps`), if it has one.
    pub top: Option<&'static str>,
    /// Its management command and name there (`("container", "ls")`), if it has one.
    pub group: Option<(&'static str, &'static str)>,
    /// Other names under the management command (`ps`, `list` for `container ls`).
    pub aliases: &'static [&'static str],
    /// The usage after the command path (`[OPTIONS] IMAGE [COMMAND] [ARG...]`).
    pub usage: &'static str,
    /// The one-line description.
    pub short: &'static str,
    /// The longer description `--help` shows instead, if the command has one (cobra's `Long`).
    pub long: Option<&'static str>,
    /// How many arguments it takes.
    pub args: ArgsRule,
    /// Whether flags may follow arguments; `false` for commands that run a command.
    pub interspersed: bool,
    /// Its flags, in groups shared between commands.
    pub flags: &'static [&'static [FlagSpec]],
    /// Builds the typed command.
    pub build: Builder,
}

impl CommandSpec {
    /// This command as reached by `word`, under the management command `parent` if any.
    fn invoked_as(&'static self, parent: Option<&str>, word: &str) -> Option<Invoked> {
        match (parent, self.group) {
            (None, _) => (self.top == Some(word)).then_some(Invoked {
                spec: self,
                parent: None,
                name: word.to_owned(),
            }),
            (Some(p), Some((g, name)))
                if p == g && (name == word || self.aliases.contains(&word)) =>
            {
                Some(Invoked {
                    spec: self,
                    parent: Some(g),
                    name: name.to_owned(),
                })
            }
            _ => None,
        }
    }

    /// Every flag of the command, its groups in order (help, parsing and completion read it).
    pub fn all_flags(&self) -> Vec<FlagSpec> {
        self.flags.iter().flat_map(|g| g.iter().copied()).collect()
    }
}

/// A command as the user reached it (`docker ps` or `docker container ls`), which its help and
/// error texts name.
#[derive(Debug, Clone)]
pub struct Invoked {
    /// The command's row.
    pub spec: &'static CommandSpec,
    /// The management command it was reached through.
    pub parent: Option<&'static str>,
    /// Its name there (`ls`, even when reached as `ps`).
    pub name: String,
}

impl Invoked {
    /// `docker container ls`.
    pub fn command_path(&self, program: &str) -> String {
        match self.parent {
            Some(p) => format!("{program} {p} {}", self.name),
            None => format!("{program} {}", self.name),
        }
    }

    /// `docker container ls [OPTIONS]` (a second usage line, as `cp` has, names the program
    /// too).
    pub fn use_line(&self, program: &str) -> String {
        if self.spec.usage.is_empty() {
            self.command_path(program)
        } else {
            let usage = self
                .spec
                .usage
                .replace("\n\tdocker ", &format!("\n\t{program} "));
            format!("{} {usage}", self.command_path(program))
        }
    }

    /// The `--help` text, as docker 20.10 prints it (it starts with an empty line).
    pub fn help(&self, program: &str, width: usize) -> String {
        let mut out = format!(
            "\nUsage:  {}\n\n{}\n",
            self.use_line(program),
            self.spec.long.unwrap_or(self.spec.short)
        );
        if self.parent.is_some() && !self.spec.aliases.is_empty() {
            let _ = write!(
                out,
                "\nAliases:\n  {}, {}\n",
                self.name,
                self.spec.aliases.join(", ")
            );
        }
        let flags = self.spec.all_flags();
        if !flags.is_empty() {
            let _ = write!(out, "\nOptions:\n{}\n", flag_usages(&flags, width));
        }
        out
    }
}

/// Finds the command `word` names under `parent` (`None` for the top level).
pub fn find_command(parent: Option<&str>, word: &str) -> Option<Invoked> {
    COMMANDS.iter().find_map(|c| c.invoked_as(parent, word))
}

/// A management command grouping others (`docker container …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSpec {
    /// Its name.
    pub name: &'static str,
    /// Its description.
    pub short: &'static str,
}

/// The management commands.
pub const GROUPS: &[GroupSpec] = &[
    GroupSpec {
        name: "builder",
        short: "Manage builds",
    },
    GroupSpec {
        name: "container",
        short: "Manage containers",
    },
    GroupSpec {
        name: "image",
        short: "Manage images",
    },
    GroupSpec {
        name: "system",
        short: "Manage Docker",
    },
    GroupSpec {
        name: "volume",
        short: "Manage volumes",
    },
];

const fn flag(long: &'static str, short: char, kind: FlagKind, usage: &'static str) -> FlagSpec {
    FlagSpec::new(long, Some(short), kind, usage)
}

const fn long(long: &'static str, kind: FlagKind, usage: &'static str) -> FlagSpec {
    FlagSpec::new(long, None, kind, usage)
}

use FlagKind::{Bool, Bytes, Decimal, Filter, Int, List, String as Str, SwapBytes};

const USER_USAGE: &str = "Username or UID (format: <name|uid>[:<group|gid>])";
const DETACH_KEYS: FlagSpec = long(
    "detach-keys",
    Str,
    "Override the key sequence for detaching a container",
);

/// The flags `create` and `run` share.
const CONTAINER_FLAGS: &[FlagSpec] = &[
    flag("attach", 'a', List, "Attach to STDIN, STDOUT or STDERR"),
    flag("cpu-shares", 'c', Int, "CPU shares (relative weight)"),
    long("cpus", Decimal, "Number of CPUs"),
    long(
        "entrypoint",
        Str,
        "Overwrite the default ENTRYPOINT of the image",
    ),
    flag("env", 'e', List, "Set environment variables"),
    long("expose", List, "Expose a port or a range of ports"),
    flag("hostname", 'h', Str, "Container host name"),
    flag(
        "interactive",
        'i',
        Bool,
        "Keep STDIN open even if not attached",
    ),
    flag("label", 'l', List, "Set meta data on a container"),
    flag("memory", 'm', Bytes, "Memory limit"),
    long(
        "memory-swap",
        SwapBytes,
        "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    ),
    long("name", Str, "Assign a name to the container"),
    long("network", Str, "Connect a container to a network").value_name("network"),
    flag(
        "publish",
        'p',
        List,
        "Publish a container's port(s) to the host",
    ),
    long(
        "pids-limit",
        Int,
        "Tune container pids limit (set -1 for unlimited)",
    ),
    flag(
        "publish-all",
        'P',
        Bool,
        "Publish all exposed ports to random ports",
    ),
    long(
        "pull",
        Str,
        "Pull image before running (\"always\"|\"missing\"|\"never\")",
    )
    .default("missing"),
    long(
        "restart",
        Str,
        "Restart policy to apply when a container exits",
    )
    .default("no"),
    long(
        "rm",
        Bool,
        "Automatically remove the container when it exits",
    ),
    flag("tty", 't', Bool, "Allocate a pseudo-TTY"),
    flag("user", 'u', Str, USER_USAGE),
    flag("volume", 'v', List, "Bind mount a volume"),
    long(
        "mount",
        FlagKind::Mount,
        "Attach a filesystem mount to the container",
    ),
    flag(
        "workdir",
        'w',
        Str,
        "Working directory inside the container",
    ),
];

/// The flags only `run` has.
const RUN_FLAGS: &[FlagSpec] = &[
    flag(
        "detach",
        'd',
        Bool,
        "Run container in background and print container ID",
    ),
    DETACH_KEYS,
    long("sig-proxy", Bool, "Proxy received signals to the process").default("true"),
];

const BUILD_FLAGS: &[FlagSpec] = &[
    long("build-arg", List, "Set build-time variables"),
    flag(
        "file",
        'f',
        Str,
        "Name of the Dockerfile (Default is 'PATH/Dockerfile')",
    ),
    long("force-rm", Bool, "Always remove intermediate containers"),
    long("label", List, "Set metadata for an image"),
    long("no-cache", Bool, "Do not use cache when building the image"),
    long(
        "progress",
        Str,
        "Set type of progress output (auto, plain, tty). Use plain to show container output",
    )
    .default("auto"),
    long(
        "pull",
        Bool,
        "Always attempt to pull a newer version of the image",
    ),
    flag(
        "quiet",
        'q',
        Bool,
        "Suppress the build output and print image ID on success",
    ),
    long(
        "rm",
        Bool,
        "Remove intermediate containers after a successful build",
    )
    .default("true"),
    flag(
        "tag",
        't',
        List,
        "Name and optionally a tag in the 'name:tag' format",
    ),
    long("target", Str, "Set the target build stage to build."),
];

const IMAGES_FLAGS: &[FlagSpec] = &[
    flag(
        "all",
        'a',
        Bool,
        "Show all images (default hides intermediate images)",
    ),
    long("digests", Bool, "Show digests"),
    flag(
        "filter",
        'f',
        Filter,
        "Filter output based on conditions provided",
    ),
    long("format", Str, "Pretty-print images using a Go template"),
    long("no-trunc", Bool, "Don't truncate output"),
    flag("quiet", 'q', Bool, "Only show image IDs"),
];

const PS_FLAGS: &[FlagSpec] = &[
    flag(
        "all",
        'a',
        Bool,
        "Show all containers (default shows just running)",
    ),
    flag(
        "filter",
        'f',
        Filter,
        "Filter output based on conditions provided",
    ),
    long("format", Str, "Pretty-print containers using a Go template"),
    flag(
        "last",
        'n',
        Int,
        "Show n last created containers (includes all states)",
    )
    .default("-1"),
    flag(
        "latest",
        'l',
        Bool,
        "Show the latest created container (includes all states)",
    ),
    long("no-trunc", Bool, "Don't truncate output"),
    flag("quiet", 'q', Bool, "Only display container IDs"),
    flag("size", 's', Bool, "Display total file sizes"),
];

const START_FLAGS: &[FlagSpec] = &[
    flag(
        "attach",
        'a',
        Bool,
        "Attach STDOUT/STDERR and forward signals",
    ),
    DETACH_KEYS,
    flag("interactive", 'i', Bool, "Attach container's STDIN"),
];

const STOP_FLAGS: &[FlagSpec] = &[flag(
    "time",
    't',
    Int,
    "Seconds to wait for stop before killing it",
)
.default("10")];

const RESTART_FLAGS: &[FlagSpec] = &[flag(
    "time",
    't',
    Int,
    "Seconds to wait for stop before killing the container",
)
.default("10")];

const KILL_FLAGS: &[FlagSpec] =
    &[flag("signal", 's', Str, "Signal to send to the container").default("KILL")];

const EXEC_FLAGS: &[FlagSpec] = &[
    flag(
        "detach",
        'd',
        Bool,
        "Detached mode: run command in the background",
    ),
    DETACH_KEYS,
    flag("env", 'e', List, "Set environment variables"),
    flag(
        "interactive",
        'i',
        Bool,
        "Keep STDIN open even if not attached",
    ),
    long(
        "privileged",
        Bool,
        "Give extended privileges to the command",
    ),
    flag("tty", 't', Bool, "Allocate a pseudo-TTY"),
    flag("user", 'u', Str, USER_USAGE),
    flag(
        "workdir",
        'w',
        Str,
        "Working directory inside the container",
    ),
];

const LOGS_FLAGS: &[FlagSpec] = &[
    long("details", Bool, "Show extra details provided to logs"),
    flag("follow", 'f', Bool, "Follow log output"),
    long(
        "since",
        Str,
        "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",
    ),
    flag(
        "tail",
        'n',
        Str,
        "Number of lines to show from the end of the logs",
    )
    .default("all"),
    flag("timestamps", 't', Bool, "Show timestamps"),
    long(
        "until",
        Str,
        "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",
    ),
];

const COMMIT_FLAGS: &[FlagSpec] = &[
    flag(
        "author",
        'a',
        Str,
        "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
    ),
    flag(
        "change",
        'c',
        List,
        "Apply Dockerfile instruction to the created image",
    ),
    flag("message", 'm', Str, "Commit message"),
    flag("pause", 'p', Bool, "Pause container during commit").default("true"),
];

const CP_FLAGS: &[FlagSpec] = &[
    flag(
        "archive",
        'a',
        Bool,
        "Archive mode (copy all uid/gid information)",
    ),
    flag(
        "follow-link",
        'L',
        Bool,
        "Always follow symbol link in SRC_PATH",
    ),
    flag(
        "quiet",
        'q',
        Bool,
        "Suppress progress output during copy (layerbox prints none)",
    ),
];

const IMPORT_FLAGS: &[FlagSpec] = &[
    flag(
        "change",
        'c',
        List,
        "Apply Dockerfile instruction to the created image",
    ),
    flag("message", 'm', Str, "Set commit message for imported image"),
    long(
        "platform",
        Str,
        "Set platform if server is multi-platform capable",
    ),
];

const SAVE_FLAGS: &[FlagSpec] = &[
    flag("output", 'o', Str, "Write to a file, instead of STDOUT"),
    long(
        "format",
        Str,
        "Archive format: docker-archive (default), oci-archive or oci-dir (layerbox)",
    ),
];

const LOAD_FLAGS: &[FlagSpec] = &[
    flag(
        "input",
        'i',
        Str,
        "Read from tar archive file, instead of STDIN",
    ),
    flag("quiet", 'q', Bool, "Suppress the load output"),
];

const EXPORT_FLAGS: &[FlagSpec] = &[flag(
    "output",
    'o',
    Str,
    "Write to a file, instead of STDOUT",
)];

const INSPECT_FORMAT: FlagSpec = flag(
    "format",
    'f',
    Str,
    "Format the output using the given Go template",
);

const INSPECT_FLAGS: &[FlagSpec] = &[
    INSPECT_FORMAT,
    flag(
        "size",
        's',
        Bool,
        "Display total file sizes if the type is container",
    ),
    long("type", Str, "Return JSON for specified type"),
];

const CONTAINER_INSPECT_FLAGS: &[FlagSpec] = &[
    INSPECT_FORMAT,
    flag("size", 's', Bool, "Display total file sizes"),
];

const FORMAT_FLAGS: &[FlagSpec] = &[INSPECT_FORMAT];

const HISTORY_FLAGS: &[FlagSpec] = &[
    long("format", Str, "Pretty-print images using a Go template"),
    flag(
        "human",
        'H',
        Bool,
        "Print sizes and dates in human readable format",
    )
    .default("true"),
    long("no-trunc", Bool, "Don't truncate output"),
    flag("quiet", 'q', Bool, "Only show image IDs"),
];

const IMAGE_LAYERS_FLAGS: &[FlagSpec] = &[
    flag(
        "changes",
        'v',
        Bool,
        "List each layer's changes and each wasted file",
    ),
    long("format", Str, "Format the output: \"json\", or a table"),
];

const RMI_FLAGS: &[FlagSpec] = &[
    flag("force", 'f', Bool, "Force removal of the image"),
    long("no-prune", Bool, "Do not delete untagged parents"),
];

const RM_FLAGS: &[FlagSpec] = &[
    flag(
        "force",
        'f',
        Bool,
        "Force the removal of a running container (uses SIGKILL)",
    ),
    flag("link", 'l', Bool, "Remove the specified link"),
    flag(
        "volumes",
        'v',
        Bool,
        "Remove anonymous volumes associated with the container",
    ),
];

const PRUNE_FLAGS: &[FlagSpec] = &[
    long(
        "filter",
        Filter,
        "Provide filter values (e.g. 'until=<timestamp>')",
    ),
    flag("force", 'f', Bool, "Do not prompt for confirmation"),
];

const IMAGE_PRUNE_FLAGS: &[FlagSpec] = &[flag(
    "all",
    'a',
    Bool,
    "Remove all unused images, not just dangling ones",
)];

const SYSTEM_PRUNE_FLAGS: &[FlagSpec] = &[
    flag(
        "all",
        'a',
        Bool,
        "Remove all unused images not just dangling ones",
    ),
    long(
        "filter",
        Filter,
        "Provide filter values (e.g. 'label=<key>=<value>')",
    ),
    flag("force", 'f', Bool, "Do not prompt for confirmation"),
    long("volumes", Bool, "Prune volumes"),
];

const BUILDER_PRUNE_FLAGS: &[FlagSpec] = &[
    flag(
        "all",
        'a',
        Bool,
        "Remove all unused build cache, not just dangling ones",
    ),
    long("filter", Filter, "Provide filter values (e.g. 'until=24h')"),
    flag("force", 'f', Bool, "Do not prompt for confirmation"),
];

const VOLUME_CREATE_FLAGS: &[FlagSpec] = &[
    flag("driver", 'd', Str, "Specify volume driver name").default("local"),
    long("label", List, "Set metadata for a volume"),
    flag("opt", 'o', List, "Set driver specific options"),
];

const VOLUME_LS_FLAGS: &[FlagSpec] = &[
    flag(
        "filter",
        'f',
        Filter,
        "Provide filter values (e.g. 'dangling=true')",
    ),
    long("format", Str, "Pretty-print volumes using a Go template"),
    flag("quiet", 'q', Bool, "Only display volume names"),
];

const VOLUME_RM_FLAGS: &[FlagSpec] = &[flag(
    "force",
    'f',
    Bool,
    "Force the removal of one or more volumes",
)];

const VOLUME_PRUNE_FLAGS: &[FlagSpec] = &[
    long(
        "filter",
        Filter,
        "Provide filter values (e.g. 'label=<label>')",
    ),
    flag("force", 'f', Bool, "Do not prompt for confirmation"),
];

const DF_FLAGS: &[FlagSpec] = &[
    long("format", Str, "Pretty-print images using a Go template"),
    flag(
        "verbose",
        'v',
        Bool,
        "Show detailed information on space usage",
    ),
];

/// The options before the command (`docker --engine sim ps`).
const GLOBAL_FLAGS: &[FlagSpec] = &[
    flag("debug", 'D', Bool, "Enable debug mode"),
    long(
        "engine",
        Str,
        "Engine that runs containers: \"linux\" or \"sim\" (simulated) (layerbox)",
    ),
    flag(
        "log-level",
        'l',
        Str,
        "Set the logging level (\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\")",
    )
    .default("info"),
    flag("version", 'v', Bool, "Print version information and quit"),
];

/// One row of [`COMMANDS`]: `row!(top, (group, name), [aliases], usage, short, args, interspersed,
/// [flag groups], builder)`.
macro_rules! row {
    ($top:expr, $group:expr, [$($alias:literal),*], $usage:expr, $short:literal, $args:expr,
     $inter:literal, [$($flags:expr),*], $build:path) => {
        CommandSpec {
            top: $top,
            group: $group,
            aliases: &[$($alias),*],
            usage: $usage,
            short: $short,
            long: None,
            args: $args,
            interspersed: $inter,
            flags: &[$($flags),*],
            build: $build,
        }
    };
}

/// `cp`'s two usage lines (docker's `Use`, the second naming the program itself).
const CP_USAGE: &str = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH";

/// `cp --help`'s description (docker's `Long`).
const CP_LONG: &str = "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.";

const RUN_USAGE: &str = "[OPTIONS] IMAGE [COMMAND] [ARG...]";
const CONTAINERS_USAGE: &str = "[OPTIONS] CONTAINER [CONTAINER...]";

/// Every command layerbox understands, with docker 20.10's usage line, description, argument
/// rule and options; the top-level and management forms of a command share their row.
#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    row!(Some("build"), Some(("image", "build")), [], "[OPTIONS] PATH | URL | -", "Build an image from a Dockerfile", ArgsRule::Exact(1), true, [BUILD_FLAGS], cmd::build),
    row!(Some("commit"), Some(("container", "commit")), [], "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes", ArgsRule::Range(1, 2), true, [COMMIT_FLAGS], cmd::commit),
    CommandSpec { long: Some(CP_LONG), ..row!(Some("cp"), Some(("container", "cp")), [], CP_USAGE, "Copy files/folders between a container and the local filesystem", ArgsRule::Exact(2), true, [CP_FLAGS], cmd::cp) },
    row!(Some("create"), Some(("container", "create")), [], RUN_USAGE, "Create a new container", ArgsRule::Min(1), false, [CONTAINER_FLAGS], cmd::create),
    row!(Some("diff"), Some(("container", "diff")), [], "CONTAINER", "Inspect changes to files or directories on a container's filesystem", ArgsRule::Exact(1), true, [], cmd::diff),
    row!(Some("exec"), Some(("container", "exec")), [], "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container", ArgsRule::Min(2), false, [EXEC_FLAGS], cmd::exec),
    row!(Some("export"), Some(("container", "export")), [], "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive", ArgsRule::Exact(1), true, [EXPORT_FLAGS], cmd::export),
    row!(Some("history"), Some(("image", "history")), [], "[OPTIONS] IMAGE", "Show the history of an image", ArgsRule::Exact(1), true, [HISTORY_FLAGS], cmd::history),
    row!(None, Some(("image", "layers")), [], "[OPTIONS] IMAGE", "Show the layers of an image, their changes and wasted space (layerbox)", ArgsRule::Exact(1), true, [IMAGE_LAYERS_FLAGS], cmd::image_layers),
    row!(Some("images"), Some(("image", "ls")), ["list"], "[OPTIONS] [REPOSITORY[:TAG]]", "List images", ArgsRule::Max(1), true, [IMAGES_FLAGS], cmd::images),
    row!(Some("import"), Some(("image", "import")), [], "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", "Import the contents from a tarball to create a filesystem image", ArgsRule::Min(1), true, [IMPORT_FLAGS], cmd::import),
    row!(Some("info"), Some(("system", "info")), [], "[OPTIONS]", "Display system-wide information", ArgsRule::None, true, [FORMAT_FLAGS], cmd::info),
    row!(Some("inspect"), None, [], "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on Docker objects", ArgsRule::Min(1), true, [INSPECT_FLAGS], cmd::inspect),
    row!(None, Some(("container", "inspect")), [], CONTAINERS_USAGE, "Display detailed information on one or more containers", ArgsRule::Min(1), true, [CONTAINER_INSPECT_FLAGS], cmd::container_inspect),
    row!(None, Some(("image", "inspect")), [], "[OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more images", ArgsRule::Min(1), true, [FORMAT_FLAGS], cmd::image_inspect),
    row!(Some("kill"), Some(("container", "kill")), [], CONTAINERS_USAGE, "Kill one or more running containers", ArgsRule::Min(1), true, [KILL_FLAGS], cmd::kill),
    row!(Some("load"), Some(("image", "load")), [], "[OPTIONS]", "Load an image from a tar archive or STDIN", ArgsRule::None, true, [LOAD_FLAGS], cmd::load),
    row!(Some("logs"), Some(("container", "logs")), [], "[OPTIONS] CONTAINER", "Fetch the logs of a container", ArgsRule::Exact(1), true, [LOGS_FLAGS], cmd::logs),
    row!(Some("pause"), Some(("container", "pause")), [], "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers", ArgsRule::Min(1), true, [], cmd::pause),
    row!(Some("port"), Some(("container", "port")), [], "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container", ArgsRule::Range(1, 2), true, [], cmd::port),
    row!(None, Some(("container", "prune")), [], "[OPTIONS]", "Remove all stopped containers", ArgsRule::None, true, [PRUNE_FLAGS], cmd::container_prune),
    row!(None, Some(("image", "prune")), [], "[OPTIONS]", "Remove unused images", ArgsRule::None, true, [IMAGE_PRUNE_FLAGS, PRUNE_FLAGS], cmd::image_prune),
    row!(Some("ps"), Some(("container", "ls")), ["ps", "list"], "[OPTIONS]", "List containers", ArgsRule::None, true, [PS_FLAGS], cmd::ps),
    row!(Some("rename"), Some(("container", "rename")), [], "CONTAINER NEW_NAME", "Rename a container", ArgsRule::Exact(2), true, [], cmd::rename),
    row!(Some("restart"), Some(("container", "restart")), [], CONTAINERS_USAGE, "Restart one or more containers", ArgsRule::Min(1), true, [RESTART_FLAGS], cmd::restart),
    row!(Some("rm"), Some(("container", "rm")), ["remove"], CONTAINERS_USAGE, "Remove one or more containers", ArgsRule::Min(1), true, [RM_FLAGS], cmd::rm),
    row!(Some("rmi"), Some(("image", "rm")), ["rmi", "remove"], "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", ArgsRule::Min(1), true, [RMI_FLAGS], cmd::rmi),
    row!(Some("run"), Some(("container", "run")), [], RUN_USAGE, "Run a command in a new container", ArgsRule::Min(1), false, [CONTAINER_FLAGS, RUN_FLAGS], cmd::run),
    row!(Some("save"), Some(("image", "save")), [], "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)", ArgsRule::Min(1), true, [SAVE_FLAGS], cmd::save),
    row!(Some("start"), Some(("container", "start")), [], CONTAINERS_USAGE, "Start one or more stopped containers", ArgsRule::Min(1), true, [START_FLAGS], cmd::start),
    row!(Some("stop"), Some(("container", "stop")), [], CONTAINERS_USAGE, "Stop one or more running containers", ArgsRule::Min(1), true, [STOP_FLAGS], cmd::stop),
    row!(None, Some(("system", "prune")), [], "[OPTIONS]", "Remove unused data", ArgsRule::None, true, [SYSTEM_PRUNE_FLAGS], cmd::system_prune),
    row!(None, Some(("builder", "prune")), [], "", "Remove build cache", ArgsRule::None, true, [BUILDER_PRUNE_FLAGS], cmd::builder_prune),
    row!(None, Some(("system", "df")), [], "[OPTIONS]", "Show docker disk usage", ArgsRule::None, true, [DF_FLAGS], cmd::system_df),
    row!(Some("tag"), Some(("image", "tag")), [], "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ArgsRule::Exact(2), true, [], cmd::tag),
    row!(Some("top"), Some(("container", "top")), [], "CONTAINER [ps OPTIONS]", "Display the running processes of a container", ArgsRule::Min(1), false, [], cmd::top),
    row!(Some("unpause"), Some(("container", "unpause")), [], "CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers", ArgsRule::Min(1), true, [], cmd::unpause),
    row!(Some("version"), None, [], "[OPTIONS]", "Show the Docker version information", ArgsRule::None, true, [FORMAT_FLAGS], cmd::version),
    row!(None, Some(("volume", "create")), [], "[OPTIONS] [VOLUME]", "Create a volume", ArgsRule::Max(1), true, [VOLUME_CREATE_FLAGS], cmd::volume_create),
    row!(None, Some(("volume", "inspect")), [], "[OPTIONS] VOLUME [VOLUME...]", "Display detailed information on one or more volumes", ArgsRule::Min(1), true, [FORMAT_FLAGS], cmd::volume_inspect),
    row!(None, Some(("volume", "ls")), ["list"], "[OPTIONS]", "List volumes", ArgsRule::None, true, [VOLUME_LS_FLAGS], cmd::volume_ls),
    row!(None, Some(("volume", "prune")), [], "[OPTIONS]", "Remove all unused local volumes", ArgsRule::None, true, [VOLUME_PRUNE_FLAGS], cmd::volume_prune),
    row!(None, Some(("volume", "rm")), ["remove"], "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes. You cannot remove a volume that is in use by a container.", ArgsRule::Min(1), true, [VOLUME_RM_FLAGS], cmd::volume_rm),
    row!(Some("wait"), Some(("container", "wait")), [], "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes", ArgsRule::Min(1), true, [], cmd::wait),
];

/// The options given before the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    /// `-D`.
    pub debug: bool,
    /// `-l`.
    pub log_level: Option<String>,
    /// `--engine` (layerbox's own): `sim` or `linux`; the front end picks when absent.
    pub engine: Option<String>,
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per command line; boxing would only hinder matching
pub enum Invocation {
    /// Run a command.
    Command {
        /// The options before the command.
        globals: GlobalOptions,
        /// The command.
        command: Command,
    },
    /// Print a help text and exit 0; docker sends the bare `docker` and `docker container`
    /// listings to stderr, `--help` to stdout.
    Help {
        /// The text, ending with a newline.
        text: String,
        /// Whether it goes to stderr.
        stderr: bool,
    },
    /// `-v`/`--version`: print the one-line version and exit 0.
    Version,
}

/// A command line docker would refuse, with its exact text and exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// The program is neither `docker` nor `layerbox` (what a shell says).
    #[error("{0}: command not found")]
    NotFound(String),
    /// `docker foo`.
    #[error("{program}: '{name}' is not a {program} command.\nSee '{program} --help'")]
    UnknownCommand {
        /// `docker` or `layerbox`.
        program: String,
        /// The word given.
        name: String,
    },
    /// A flag pflag rejects.
    #[error("{error}\nSee '{path} --help'.{usage}")]
    Flag {
        /// `docker run`.
        path: String,
        /// What is wrong.
        error: FlagError,
        /// For management commands, their usage listing (docker appends it).
        usage: String,
    },
    /// A wrong number of arguments: the whole text docker prints.
    #[error("{0}")]
    Args(String),
    /// An option value `run`/`create` reject, as docker's `reportError` words it
    /// (`docker: invalid containerPort: x.` and the help hint).
    #[error("{0}")]
    Invalid(String),
    /// Another command's invalid value (`"x" is not a valid value for --type`).
    #[error("{0}")]
    Rejected(String),
    /// `docker help foo`.
    #[error("unknown help topic: {0}")]
    UnknownHelpTopic(String),
}

impl UsageError {
    /// The exit code docker exits with: 125 for flag errors and `run`/`create` option values,
    /// 127 when the program is unknown, 1 for everything else (argument counts included).
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Flag { .. } | Self::Invalid(_) => 125,
            Self::NotFound(_) => 127,
            _ => 1,
        }
    }
}

/// Parses a command line, the program name first (`docker` or `layerbox`, any directory).
pub fn parse<S: AsRef<str>>(argv: &[S]) -> Result<Invocation, UsageError> {
    parse_with_width(argv, DEFAULT_WIDTH)
}

/// Like [`parse`], for a terminal `width` columns wide (help texts wrap to it).
pub fn parse_with_width<S: AsRef<str>>(argv: &[S], width: usize) -> Result<Invocation, UsageError> {
    let argv: Vec<String> = argv.iter().map(|a| a.as_ref().to_owned()).collect();
    let Some((program, rest)) = argv.split_first() else {
        return Ok(Invocation::Help {
            text: root_help("docker", width),
            stderr: true,
        });
    };
    let program = program.rsplit('/').next().unwrap_or(program).to_owned();
    if program != "docker" && program != "layerbox" {
        return Err(UsageError::NotFound(program));
    }
    let (globals_flags, rest, help) =
        parse_flags_or_help(GLOBAL_FLAGS, rest, false).map_err(|error| UsageError::Flag {
            path: program.clone(),
            error,
            usage: String::new(),
        })?;
    if globals_flags.bool("version") {
        return Ok(Invocation::Version);
    }
    let globals = GlobalOptions {
        debug: globals_flags.bool("debug"),
        log_level: globals_flags
            .changed("log-level")
            .then(|| globals_flags.string("log-level"))
            .flatten(),
        engine: globals_flags.string("engine"),
    };
    let Some((word, rest)) = rest.split_first() else {
        return Ok(Invocation::Help {
            text: root_help(&program, width),
            stderr: !help,
        });
    };
    if word == "help" {
        return help_topic(&program, rest, width);
    }
    let (invoked, rest) = if let Some(group) = GROUPS.iter().find(|g| g.name == word.as_str()) {
        let Some((sub, rest)) = rest.split_first() else {
            return Ok(Invocation::Help {
                text: group_help(&program, group),
                stderr: !help,
            });
        };
        if sub == "--help" || sub == "-h" {
            return Ok(Invocation::Help {
                text: group_help(&program, group),
                stderr: false,
            });
        }
        match find_command(Some(group.name), sub) {
            Some(invoked) => (invoked, rest),
            None => {
                return Err(UsageError::Args(
                    group_help(&program, group).trim_end().to_owned(),
                ));
            }
        }
    } else {
        match find_command(None, word) {
            Some(invoked) => (invoked, rest),
            None => {
                return Err(UsageError::UnknownCommand {
                    program,
                    name: word.clone(),
                });
            }
        }
    };
    if help {
        return Ok(Invocation::Help {
            text: invoked.help(&program, width),
            stderr: false,
        });
    }
    let command = parse_command(&invoked, &program, rest, width)?;
    Ok(match command {
        Parsed::Help(text) => Invocation::Help {
            text,
            stderr: false,
        },
        Parsed::Command(command) => Invocation::Command { globals, command },
    })
}

#[allow(clippy::large_enum_variant)] // short-lived, moved once
enum Parsed {
    Help(String),
    Command(Command),
}

fn parse_command(
    invoked: &Invoked,
    program: &str,
    argv: &[String],
    width: usize,
) -> Result<Parsed, UsageError> {
    let spec = invoked.spec;
    let flags = spec.all_flags();
    let (parsed, args, help): (ParsedFlags, Vec<String>, bool) =
        parse_flags_or_help(&flags, argv, spec.interspersed).map_err(|error| UsageError::Flag {
            path: invoked.command_path(program),
            error,
            usage: String::new(),
        })?;
    if help {
        return Ok(Parsed::Help(invoked.help(program, width)));
    }
    check_args(invoked, program, args.len())?;
    (spec.build)(&parsed, args)
        .map(Parsed::Command)
        .map_err(|message| {
            if invoked.name == "run" || invoked.name == "create" {
                UsageError::Invalid(report_error(program, &invoked.name, &message, true))
            } else {
                UsageError::Rejected(message)
            }
        })
}

/// docker 20.10's argument-count errors (`cli/required.go`).
fn check_args(invoked: &Invoked, program: &str, n: usize) -> Result<(), UsageError> {
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    let problem = match invoked.spec.args {
        ArgsRule::None if n > 0 => "accepts no arguments".to_owned(),
        ArgsRule::Exact(k) if n != k => format!("requires exactly {k} {}", plural(k)),
        ArgsRule::Min(k) if n < k => format!("requires at least {k} {}", plural(k)),
        ArgsRule::Max(k) if n > k => format!("requires at most {k} {}", plural(k)),
        ArgsRule::Range(lo, hi) if n < lo || n > hi => {
            format!("requires at least {lo} and at most {hi} {}", plural(hi))
        }
        _ => return Ok(()),
    };
    let path = invoked.command_path(program);
    Err(UsageError::Args(format!(
        "\"{path}\" {problem}.\nSee '{path} --help'.\n\nUsage:  {}\n\n{}",
        invoked.use_line(program),
        invoked.spec.short
    )))
}

/// `docker help [COMMAND]`.
fn help_topic(program: &str, topic: &[String], width: usize) -> Result<Invocation, UsageError> {
    let text = match topic {
        [] => root_help(program, width),
        [group] if GROUPS.iter().any(|g| g.name == group.as_str()) => group_help(
            program,
            GROUPS
                .iter()
                .find(|g| g.name == group.as_str())
                .unwrap_or(&GROUPS[0]),
        ),
        [name] => find_command(None, name)
            .map(|c| c.help(program, width))
            .ok_or_else(|| UsageError::UnknownHelpTopic(name.clone()))?,
        [group, name] => find_command(Some(group.as_str()), name)
            .map(|c| c.help(program, width))
            .ok_or_else(|| UsageError::UnknownHelpTopic(topic.join(" ")))?,
        _ => return Err(UsageError::UnknownHelpTopic(topic.join(" "))),
    };
    Ok(Invocation::Help {
        text,
        stderr: false,
    })
}

/// A `Commands:` listing: names padded to `pad` (cobra's `NamePadding`), then descriptions.
fn command_list(entries: &[(&str, &str)], pad: usize) -> String {
    entries
        .iter()
        .fold(String::new(), |mut out, (name, short)| {
            let _ = writeln!(out, "  {name:<pad$} {short}");
            out
        })
}

/// cobra's `NamePadding`: the longest name among `names`, but at least 11.
fn name_padding<'a>(names: impl IntoIterator<Item = &'a str>) -> usize {
    const MIN_NAME_PADDING: usize = 11;
    names
        .into_iter()
        .map(str::len)
        .fold(MIN_NAME_PADDING, usize::max)
}

/// `docker container --help`.
fn group_help(program: &str, group: &GroupSpec) -> String {
    let mut entries: Vec<(&str, &str)> = COMMANDS
        .iter()
        .filter_map(|c| {
            c.group
                .filter(|(g, _)| *g == group.name)
                .map(|(_, name)| (name, c.short))
        })
        .collect();
    entries.sort_unstable();
    let pad = name_padding(entries.iter().map(|(n, _)| *n));
    format!(
        "\nUsage:  {program} {name} COMMAND\n\n{short}\n\nCommands:\n{list}\nRun '{program} {name} COMMAND --help' for more information on a command.\n",
        name = group.name,
        short = group.short,
        list = command_list(&entries, pad),
    )
}

/// `docker --help`.
fn root_help(program: &str, width: usize) -> String {
    let mut top: Vec<(&str, &str)> = COMMANDS
        .iter()
        .filter_map(|c| c.top.map(|name| (name, c.short)))
        .collect();
    top.sort_unstable();
    let groups: Vec<(&str, &str)> = GROUPS.iter().map(|g| (g.name, g.short)).collect();
    let pad = name_padding(top.iter().chain(&groups).map(|(n, _)| *n));
    format!(
        "\nUsage:  {program} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nOptions:\n{}\n\nManagement Commands:\n{}\nCommands:\n{}\nRun '{program} COMMAND --help' for more information on a command.\n",
        flag_usages(GLOBAL_FLAGS, width),
        command_list(&groups, pad),
        command_list(&top, pad),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_finds_one_row() {
        for (i, a) in COMMANDS.iter().enumerate() {
            assert!(
                a.top.is_some() || a.group.is_some(),
                "{} is unreachable",
                a.short
            );
            for b in &COMMANDS[i + 1..] {
                if let Some(top) = a.top {
                    assert!(b.invoked_as(None, top).is_none(), "{top} twice");
                }
                if let Some((g, name)) = a.group {
                    for word in a.aliases.iter().chain([&name]) {
                        assert!(b.invoked_as(Some(g), word).is_none(), "{g} {word} twice");
                    }
                }
            }
        }
    }

    #[test]
    fn flag_letters_are_unique_per_command() {
        for spec in COMMANDS {
            let flags = spec.all_flags();
            for (i, f) in flags.iter().enumerate() {
                for g in &flags[i + 1..] {
                    assert_ne!(f.long, g.long, "{}", spec.short);
                    assert!(
                        f.short.is_none() || f.short != g.short,
                        "{} -{:?}",
                        spec.short,
                        f.short
                    );
                }
            }
        }
    }
}
