//! The typed commands the grammar produces: one variant per docker command, each with its
//! options as plain fields, ready for the engine to carry out.
//!
//! Values that docker's CLI itself validates (port specs, restart policies, filters) are parsed
//! here into types; values only the daemon can judge (names, references, signals) stay strings.

// The builders all have the `Builder` signature, even those that cannot fail.
#![allow(clippy::unnecessary_wraps)]

use serde::{Deserialize, Serialize};

use super::flags::ParsedFlags;

/// A parsed docker command line, with every option typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// `build`: build an image from a Dockerfile.
    Build(BuildOptions),
    /// `images` / `image ls`: list images.
    Images(ImagesOptions),
    /// `run`: create and start a container.
    Run(RunOptions),
    /// `create`: create a container without starting it.
    Create(CreateOptions),
    /// `start`: start stopped containers.
    Start(StartOptions),
    /// `stop`: stop running containers.
    Stop(StopOptions),
    /// `kill`: send a signal to running containers.
    Kill(KillOptions),
    /// `restart`: stop then start containers.
    Restart(StopOptions),
    /// `pause`: freeze the processes of containers.
    Pause(Containers),
    /// `unpause`: thaw them.
    Unpause(Containers),
    /// `ps` / `container ls`: list containers.
    Ps(PsOptions),
    /// `exec`: run a command in a running container.
    Exec(ExecOptions),
    /// `logs`: a container's output.
    Logs(LogsOptions),
    /// `commit`: make an image from a container's changes.
    Commit(CommitOptions),
    /// `diff`: a container's changed paths.
    Diff(Container),
    /// `inspect`, `container inspect`, `image inspect`: low-level JSON.
    Inspect(InspectOptions),
    /// `history`: an image's layers.
    History(HistoryOptions),
    /// `import` / `image import`: an image from a rootfs tarball.
    Import(ImportOptions),
    /// `save` / `image save`: images to a tar archive.
    Save(SaveOptions),
    /// `load` / `image load`: images from a tar archive.
    Load(LoadOptions),
    /// `export` / `container export`: a container's filesystem as a tar archive.
    Export(ExportOptions),
    /// `cp` / `container cp`: files between a container and the local filesystem.
    Cp(CpOptions),
    /// `image layers` (layerbox's own): an image's layers, their changes and wasted bytes.
    ImageLayers(ImageLayersOptions),
    /// `tag`: another name for an image.
    Tag(TagOptions),
    /// `rmi` / `image rm`: remove images.
    Rmi(RmiOptions),
    /// `rm` / `container rm`: remove containers.
    Rm(RmOptions),
    /// `container prune`: remove stopped containers.
    ContainerPrune(PruneOptions),
    /// `image prune`: remove unused images.
    ImagePrune(PruneOptions),
    /// `system prune`: stopped containers, unused images and build cache at once.
    SystemPrune(PruneOptions),
    /// `builder prune`: remove build cache.
    BuilderPrune(PruneOptions),
    /// `volume create`: a named (or, without a name, anonymous) volume.
    VolumeCreate(VolumeCreateOptions),
    /// `volume ls`: list volumes.
    VolumeLs(VolumeLsOptions),
    /// `volume inspect`: volumes' JSON.
    VolumeInspect(VolumeInspectOptions),
    /// `volume rm`: remove volumes.
    VolumeRm(VolumeRmOptions),
    /// `volume prune`: remove every volume no container uses.
    VolumePrune(PruneOptions),
    /// `system df`: disk usage.
    SystemDf(SystemDfOptions),
    /// `port`: a container's port mappings.
    Port(PortOptions),
    /// `rename`: rename a container.
    Rename(RenameOptions),
    /// `top`: a container's processes.
    Top(TopOptions),
    /// `wait`: block until containers stop and print their exit codes.
    Wait(Containers),
    /// `version`: client and server versions.
    Version(FormatOption),
    /// `info` / `system info`: system-wide information.
    Info(FormatOption),
}

/// A `-f name=value` / `--filter name=value` condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// The condition's name (`status`, `name`, `dangling`, `until`, …).
    pub name: String,
    /// Its value.
    pub value: String,
}

impl Filter {
    /// Splits `name=value` (the flag parser has already checked the `=`).
    fn parse(raw: &str) -> Self {
        let (name, value) = raw.split_once('=').unwrap_or((raw, ""));
        Self {
            name: name.trim().to_lowercase(),
            value: value.to_owned(),
        }
    }
}

fn filters(flags: &ParsedFlags, long: &str) -> Vec<Filter> {
    flags.list(long).iter().map(|f| Filter::parse(f)).collect()
}

/// `build [OPTIONS] PATH | URL | -`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's switches
pub struct BuildOptions {
    /// The build context: a directory, a URL, or `-` for stdin.
    pub context: String,
    /// `-t`: names for the image.
    pub tags: Vec<String>,
    /// `-f`: the Dockerfile, when not `PATH/Dockerfile`.
    pub file: Option<String>,
    /// `--build-arg NAME[=value]`.
    pub build_args: Vec<String>,
    /// `--label key=value`.
    pub labels: Vec<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--pull`.
    pub pull: bool,
    /// `-q`: print only the image ID.
    pub quiet: bool,
    /// `--rm` (default true): remove intermediate containers (legacy builder).
    pub rm: bool,
    /// `--force-rm`: remove them even after a failure.
    pub force_rm: bool,
    /// `--target`: the stage to stop at.
    pub target: Option<String>,
    /// `--progress`: `auto`, `plain` or `tty`.
    pub progress: String,
}

/// `images [OPTIONS] [REPOSITORY[:TAG]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's switches
pub struct ImagesOptions {
    /// The repository (and tag) to list, if given.
    pub reference: Option<String>,
    /// `-a`: include intermediate images.
    pub all: bool,
    /// `--digests`.
    pub digests: bool,
    /// `-f`.
    pub filters: Vec<Filter>,
    /// `--format`.
    pub format: Option<String>,
    /// `--no-trunc`.
    pub no_trunc: bool,
    /// `-q`.
    pub quiet: bool,
}

/// Cgroup limits as `run`/`create` give them (docker's `HostConfig` resources): `-m`,
/// `--memory-swap`, `--cpus`, `-c`, `--pids-limit`. Zero (or `None`) is "not set".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// `-m`: memory limit in bytes.
    #[serde(default)]
    pub memory: i64,
    /// `--memory-swap`: memory plus swap in bytes, `-1` unlimited.
    #[serde(default)]
    pub memory_swap: i64,
    /// `--cpus`, in billionths of a CPU.
    #[serde(default)]
    pub nano_cpus: i64,
    /// `-c`: the relative CPU weight.
    #[serde(default)]
    pub cpu_shares: i64,
    /// `--pids-limit`, when given (`-1` or `0`: unlimited).
    #[serde(default)]
    pub pids_limit: Option<i64>,
}

impl Resources {
    /// Whether any limit is asked for.
    pub fn any(&self) -> bool {
        *self != Self::default()
    }
}

/// A restart policy (`--restart`): what the engine does when the main process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartPolicy {
    /// `no` (the default).
    No,
    /// `always`.
    Always,
    /// `unless-stopped`.
    UnlessStopped,
    /// `on-failure[:max-retries]`.
    OnFailure {
        /// 0 means unlimited.
        max_retries: u32,
    },
}

impl RestartPolicy {
    /// Whether the policy brings back a main process that ended by itself with `code`, after
    /// `restart_count` restarts so far (docker's restart manager: `on-failure:N` stops after N).
    pub fn restarts(self, code: i32, restart_count: u32) -> bool {
        match self {
            Self::No => false,
            Self::Always | Self::UnlessStopped => true,
            Self::OnFailure { max_retries } => {
                code != 0 && (max_retries == 0 || restart_count < max_retries)
            }
        }
    }

    /// docker's wait before restart number `n + 1` (milliseconds): 100 ms, doubling with each
    /// restart, at most a minute; back to 100 ms once a process has run 10 seconds, which the
    /// caller passes as `n = 0`.
    pub fn backoff_ms(n: u32) -> u64 {
        100u64.saturating_mul(1 << n.min(10)).min(60_000)
    }

    /// Parses docker's syntax, with the CLI's and the daemon's error texts.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = raw.split(':');
        let name = parts.next().unwrap_or_default();
        let count = parts.next();
        if parts.next().is_some() {
            return Err("invalid restart policy format".to_owned());
        }
        let retries = match count {
            None => None,
            Some(c) => Some(
                c.parse::<u32>()
                    .map_err(|_| "maximum retry count must be an integer".to_owned())?,
            ),
        };
        match (name, retries) {
            ("" | "no", None) => Ok(Self::No),
            ("always", None) => Ok(Self::Always),
            ("unless-stopped", None) => Ok(Self::UnlessStopped),
            ("on-failure", r) => Ok(Self::OnFailure {
                max_retries: r.unwrap_or(0),
            }),
            ("no" | "always" | "unless-stopped", Some(_)) => Err(format!(
                "maximum retry count cannot be used with restart policy '{name}'"
            )),
            (other, _) => Err(format!("invalid restart policy '{other}'")),
        }
    }
}

/// An inclusive range of ports (`8000-8010`; a single port has `first == last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port.
    pub last: u16,
}

impl PortRange {
    /// Go-connections' `ParsePortRange`: `80` or `8000-8010`.
    fn parse(raw: &str) -> Option<Self> {
        let (a, b) = raw.split_once('-').unwrap_or((raw, raw));
        let first: u16 = a.parse().ok()?;
        let last: u16 = b.parse().ok()?;
        (first <= last).then_some(Self { first, last })
    }
}

/// A `-p [ip:][hostPort:]containerPort[/proto]` publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishSpec {
    /// Host address to bind; empty for all.
    pub host_ip: String,
    /// Host ports; `None` lets the engine pick.
    pub host_ports: Option<PortRange>,
    /// Container ports.
    pub container_ports: PortRange,
    /// `tcp` (default), `udp` or `sctp`.
    pub proto: String,
}

impl PublishSpec {
    /// go-connections' `ParsePortSpec`, with its error texts.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parts: Vec<&str> = raw.split(':').collect();
        let (ip, host, container) = match parts.as_slice() {
            [c] => (String::new(), "", *c),
            [h, c] => (String::new(), *h, *c),
            [ip @ .., h, c] => (ip.join(":"), *h, *c),
            [] => (String::new(), "", ""),
        };
        let (container, proto) = match container.split_once('/') {
            Some((p, proto)) => (p, proto.to_owned()),
            None => (container, "tcp".to_owned()),
        };
        let ip = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .map_or(ip.clone(), str::to_owned);
        if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address: {ip}"));
        }
        if container.is_empty() {
            return Err(format!("no port specified: {raw}<empty>"));
        }
        let container_ports = PortRange::parse(container)
            .ok_or_else(|| format!("invalid containerPort: {container}"))?;
        let host_ports = if host.is_empty() {
            None
        } else {
            Some(PortRange::parse(host).ok_or_else(|| format!("invalid hostPort: {host}"))?)
        };
        if let Some(h) = host_ports
            && h.last - h.first != container_ports.last - container_ports.first
            && container_ports.first != container_ports.last
        {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {container} and {host}"
            ));
        }
        let proto_lower = proto.to_lowercase();
        if !matches!(proto_lower.as_str(), "tcp" | "udp" | "sctp") {
            return Err(format!("invalid proto: {proto}"));
        }
        Ok(Self {
            host_ip: ip,
            host_ports,
            container_ports,
            proto: proto_lower,
        })
    }
}

/// docker's CLI reading `--expose` values (`80`, `80/udp`, `7000-7010`): each port of each range
/// as a `port/proto` key, with its error texts.
fn expose_ports(raw: &[String]) -> Result<Vec<String>, Invalid> {
    let mut keys = Vec::new();
    for e in raw {
        if e.contains(':') {
            return Err(format!("invalid port format for --expose: {e}"));
        }
        // go-connections' SplitProtoPort and ParsePortRange
        let (port, proto) = match e.split_once('/') {
            Some((p, proto)) if !proto.is_empty() => (p, proto.split('/').next().unwrap_or(proto)),
            Some((p, _)) => (p, "tcp"),
            None => (e.as_str(), "tcp"),
        };
        let range = go_port_range(port)
            .map_err(|err| format!("invalid range format for --expose: {e}, error: {err}"))?;
        for p in range.first..=range.last {
            let key = format!("{p}/{proto}");
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    Ok(keys)
}

/// go-connections' `ParsePortRange` with Go's `strconv.ParseUint` errors.
fn go_port_range(raw: &str) -> Result<PortRange, String> {
    fn parse_u16(s: &str) -> Result<u16, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
        }
        s.parse()
            .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
    }
    if raw.is_empty() {
        return Err("empty string specified for ports".to_owned());
    }
    let mut parts = raw.split('-');
    let first = parse_u16(parts.next().unwrap_or_default())?;
    let last = match parts.next() {
        Some(end) => parse_u16(end)?,
        None => first,
    };
    if last < first {
        return Err(format!("invalid range specified for port: {raw}"));
    }
    Ok(PortRange { first, last })
}

/// What `create` (and `run`) configure: the container, its image and its command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's switches
pub struct CreateOptions {
    /// The image to create it from.
    pub image: String,
    /// The command and its arguments, overriding the image's `CMD`.
    pub command: Vec<String>,
    /// `-a`: streams to attach (`stdin`, `stdout`, `stderr`).
    pub attach: Vec<String>,
    /// `--entrypoint`: overrides the image's `ENTRYPOINT` (`Some("")` clears it).
    pub entrypoint: Option<String>,
    /// `-e KEY=value` or `-e KEY` (taken from the caller's environment).
    pub env: Vec<String>,
    /// `--expose`: the ports added to the image's exposed ones, one `port/proto` key per port
    /// of each range given (`7000-7001` is `7000/tcp`, `7001/tcp`).
    pub expose: Vec<String>,
    /// `-h`: the container's host name.
    pub hostname: Option<String>,
    /// `-i`: keep stdin open.
    pub interactive: bool,
    /// `-t`: allocate a terminal.
    pub tty: bool,
    /// `-l key=value`.
    pub labels: Vec<String>,
    /// `--name`.
    pub name: Option<String>,
    /// `--network`.
    pub network: Option<String>,
    /// `-p`: ports to publish.
    pub publish: Vec<PublishSpec>,
    /// `-P`: publish every exposed port to a random host port.
    pub publish_all: bool,
    /// `--pull`: `missing` (default), `always` or `never`.
    pub pull: String,
    /// `--restart`.
    pub restart: RestartPolicy,
    /// `--rm`: remove the container when it exits.
    pub rm: bool,
    /// `-u user[:group]`.
    pub user: Option<String>,
    /// `-v`: volumes and bind mounts.
    pub volumes: Vec<String>,
    /// `--mount`: volumes, bind mounts and tmpfs mounts.
    #[serde(default)]
    pub mounts: Vec<super::mount::MountFlag>,
    /// `-w`: the working directory.
    pub workdir: Option<String>,
    /// `-m`, `--memory-swap`, `--cpus`, `-c`, `--pids-limit`.
    #[serde(default)]
    pub resources: Resources,
}

/// `run [OPTIONS] IMAGE [COMMAND] [ARG...]`: everything of `create`, plus how to run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOptions {
    /// The container to create.
    pub create: CreateOptions,
    /// `-d`: print the ID and leave it running.
    pub detach: bool,
    /// `--detach-keys`.
    pub detach_keys: Option<String>,
    /// `--sig-proxy` (default true).
    pub sig_proxy: bool,
}

/// Commands taking one or more containers and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Containers {
    /// Names or IDs (or unique ID prefixes).
    pub containers: Vec<String>,
}

/// Commands taking exactly one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// Name or ID.
    pub container: String,
}

/// `start [OPTIONS] CONTAINER [CONTAINER...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartOptions {
    /// The containers.
    pub containers: Vec<String>,
    /// `-a`: attach stdout/stderr.
    pub attach: bool,
    /// `-i`: attach stdin.
    pub interactive: bool,
    /// `--detach-keys`.
    pub detach_keys: Option<String>,
}

/// `stop` and `restart`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopOptions {
    /// The containers.
    pub containers: Vec<String>,
    /// `-t`: seconds before the kill; `None` when not given (the container's own timeout, 10 by
    /// default, applies).
    pub time: Option<i64>,
}

/// `kill [OPTIONS] CONTAINER [CONTAINER...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillOptions {
    /// The containers.
    pub containers: Vec<String>,
    /// `-s`: the signal, by name or number (default `KILL`).
    pub signal: String,
}

/// `ps [OPTIONS]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's switches
pub struct PsOptions {
    /// `-a`: stopped containers too.
    pub all: bool,
    /// `-f status=…`, `-f name=…`, …
    pub filters: Vec<Filter>,
    /// `--format`.
    pub format: Option<String>,
    /// `-n`: the last n created (-1: no limit).
    pub last: i64,
    /// `-l`: the latest created.
    pub latest: bool,
    /// `--no-trunc`.
    pub no_trunc: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-s`.
    pub size: bool,
}

/// `exec [OPTIONS] CONTAINER COMMAND [ARG...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's switches
pub struct ExecOptions {
    /// The container.
    pub container: String,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// `-d`.
    pub detach: bool,
    /// `--detach-keys`.
    pub detach_keys: Option<String>,
    /// `-e`.
    pub env: Vec<String>,
    /// `-i`.
    pub interactive: bool,
    /// `--privileged`.
    pub privileged: bool,
    /// `-t`.
    pub tty: bool,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
}

/// `logs [OPTIONS] CONTAINER`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsOptions {
    /// The container.
    pub container: String,
    /// `--details`.
    pub details: bool,
    /// `-f`.
    pub follow: bool,
    /// `--since`.
    pub since: Option<String>,
    /// `-n`/`--tail`: a number of lines, or `all` (the default).
    pub tail: String,
    /// `-t`.
    pub timestamps: bool,
    /// `--until`.
    pub until: Option<String>,
}

/// `commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitOptions {
    /// The container.
    pub container: String,
    /// The new image's name, if given.
    pub reference: Option<String>,
    /// `-a`.
    pub author: Option<String>,
    /// `-c`: Dockerfile instructions to apply (`CMD ["sh"]`).
    pub changes: Vec<String>,
    /// `-m`.
    pub message: Option<String>,
    /// `-p` (default true): pause during the commit.
    pub pause: bool,
}

/// `import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// The tarball: a file the client sends, or `-` for stdin.
    pub source: String,
    /// The new image's name, if given.
    pub reference: Option<String>,
    /// `-c`: Dockerfile instructions to apply (`CMD ["sh"]`).
    pub changes: Vec<String>,
    /// `-m`: the commit message (the history comment; `Imported from -` without it).
    pub message: Option<String>,
    /// `--platform`.
    pub platform: Option<String>,
}

/// `save [OPTIONS] IMAGE [IMAGE...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveOptions {
    /// The images: names, `name:tag` or IDs.
    pub images: Vec<String>,
    /// `-o`: the file to write (stdout without it).
    pub output: Option<String>,
    /// `--format` (layerbox's, podman's names): `docker-archive` (the default), `oci-archive`,
    /// `oci-dir`.
    pub format: Option<String>,
}

/// `load [OPTIONS]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// `-i`: the archive to read (stdin without it).
    pub input: Option<String>,
    /// `-q`: no progress output.
    pub quiet: bool,
}

/// `export [OPTIONS] CONTAINER`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportOptions {
    /// The container.
    pub container: String,
    /// `-o`: the file to write (stdout without it).
    pub output: Option<String>,
}

/// `cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-` and `cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // docker's own independent switches
pub struct CpOptions {
    /// The source, `CONTAINER:PATH`, a local path or `-` (a tar on stdin).
    pub source: String,
    /// The destination, `CONTAINER:PATH`, a local path or `-` (a tar to stdout).
    pub destination: String,
    /// `-a`: keep the owners (and, into a container with a user, give the files to it).
    pub archive: bool,
    /// `-L`: follow a symlink given as the source.
    pub follow_link: bool,
    /// `-q` (docker 28's): no progress lines; layerbox prints none either way, as docker 20.10.
    pub quiet: bool,
}

/// Which kind of object `inspect` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InspectType {
    /// `container inspect` or `--type container`.
    Container,
    /// `image inspect` or `--type image`.
    Image,
}

/// `inspect [OPTIONS] NAME|ID [NAME|ID...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectOptions {
    /// The objects.
    pub names: Vec<String>,
    /// `-f`.
    pub format: Option<String>,
    /// `-s`.
    pub size: bool,
    /// `--type`, or implied by `container inspect` / `image inspect`; `None` tries both.
    pub kind: Option<InspectType>,
}

/// `history [OPTIONS] IMAGE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryOptions {
    /// The image.
    pub image: String,
    /// `--format`.
    pub format: Option<String>,
    /// `-H` (default true).
    pub human: bool,
    /// `--no-trunc`.
    pub no_trunc: bool,
    /// `-q`.
    pub quiet: bool,
}

/// `image layers [OPTIONS] IMAGE` (layerbox's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLayersOptions {
    /// The image.
    pub image: String,
    /// `-v`, `--changes`: list each layer's changes and each wasted file.
    pub changes: bool,
    /// `--format`: `json`, or the table when absent.
    pub format: Option<String>,
}

/// `tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagOptions {
    /// The existing image.
    pub source: String,
    /// The new name.
    pub target: String,
}

/// `rmi [OPTIONS] IMAGE [IMAGE...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RmiOptions {
    /// The images.
    pub images: Vec<String>,
    /// `-f`.
    pub force: bool,
    /// `--no-prune`.
    pub no_prune: bool,
}

/// `rm [OPTIONS] CONTAINER [CONTAINER...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RmOptions {
    /// The containers.
    pub containers: Vec<String>,
    /// `-f`: kill a running one first.
    pub force: bool,
    /// `-l`.
    pub link: bool,
    /// `-v`: its anonymous volumes too.
    pub volumes: bool,
}

/// `container prune`, `image prune`, `builder prune` and `system prune`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneOptions {
    /// `-a`: every unused image (or all build cache), not only dangling ones.
    pub all: bool,
    /// `system prune --volumes`: unused volumes too.
    #[serde(default)]
    pub volumes: bool,
    /// `--filter`.
    pub filters: Vec<Filter>,
    /// `-f`: do not ask for confirmation.
    pub force: bool,
}

/// `volume create [OPTIONS] [VOLUME]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeCreateOptions {
    /// The volume's name; `None`: a random 64-hex one.
    pub name: Option<String>,
    /// `-d`: the driver (only `local` exists).
    pub driver: String,
    /// `--label key=value`.
    pub labels: Vec<String>,
    /// `-o key=value`: driver options.
    pub options: Vec<String>,
}

/// `volume ls [OPTIONS]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeLsOptions {
    /// `-q`: names only.
    pub quiet: bool,
    /// `--format`.
    pub format: Option<String>,
    /// `-f`: `dangling`, `name`, `label`, `driver`.
    pub filters: Vec<Filter>,
}

/// `volume inspect [OPTIONS] VOLUME [VOLUME...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeInspectOptions {
    /// The volumes.
    pub volumes: Vec<String>,
    /// `-f`: a Go template.
    pub format: Option<String>,
}

/// `volume rm [OPTIONS] VOLUME [VOLUME...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRmOptions {
    /// The volumes.
    pub volumes: Vec<String>,
    /// `-f`: no error for a missing one.
    pub force: bool,
}

/// `system df [OPTIONS]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemDfOptions {
    /// `--format`.
    pub format: Option<String>,
    /// `-v`.
    pub verbose: bool,
}

/// `port CONTAINER [PRIVATE_PORT[/PROTO]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortOptions {
    /// The container.
    pub container: String,
    /// The one port to show, if given.
    pub private_port: Option<String>,
}

/// `rename CONTAINER NEW_NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameOptions {
    /// The container.
    pub container: String,
    /// Its new name.
    pub new_name: String,
}

/// `top CONTAINER [ps OPTIONS]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopOptions {
    /// The container.
    pub container: String,
    /// Options for `ps` (default `-ef`).
    pub ps_args: Vec<String>,
}

/// Commands whose only option is `-f`/`--format`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatOption {
    /// `--format`.
    pub format: Option<String>,
}

/// Positional arguments in order; the grammar has checked their count before a builder runs.
struct Args(std::vec::IntoIter<String>);

impl Args {
    fn next(&mut self) -> String {
        self.0.next().unwrap_or_default()
    }

    fn rest(self) -> Vec<String> {
        self.0.collect()
    }
}

/// An option value docker's CLI rejects before asking the daemon (`invalid containerPort: x`).
pub type Invalid = String;

/// Builds a command from its flags and positional arguments.
pub type Builder = fn(&ParsedFlags, Vec<String>) -> Result<Command, Invalid>;

fn create_options(f: &ParsedFlags, args: Vec<String>) -> Result<CreateOptions, Invalid> {
    let mut args = Args(args.into_iter());
    let image = args.next();
    let publish = f
        .list("publish")
        .iter()
        .map(|p| PublishSpec::parse(p))
        .collect::<Result<_, _>>()?;
    let restart = RestartPolicy::parse(&f.string("restart").unwrap_or_default())?;
    let rm = f.bool("rm");
    if rm && restart != RestartPolicy::No {
        return Err("Conflicting options: --restart and --rm".to_owned());
    }
    Ok(CreateOptions {
        image,
        command: args.rest(),
        attach: f.list("attach"),
        entrypoint: f
            .changed("entrypoint")
            .then(|| f.string("entrypoint").unwrap_or_default()),
        env: f.list("env"),
        expose: expose_ports(&f.list("expose"))?,
        hostname: f.string("hostname"),
        interactive: f.bool("interactive"),
        tty: f.bool("tty"),
        labels: f.list("label"),
        name: f.string("name"),
        network: f.string("network"),
        publish,
        publish_all: f.bool("publish-all"),
        pull: f.string("pull").unwrap_or_default(),
        restart,
        rm,
        user: f.string("user"),
        volumes: f.list("volume"),
        mounts: f
            .list("mount")
            .iter()
            .filter_map(|m| super::mount::parse_mount(m).ok())
            .collect(),
        workdir: f.string("workdir"),
        resources: Resources {
            memory: f.bytes("memory"),
            memory_swap: f.bytes("memory-swap"),
            nano_cpus: f.nanos("cpus"),
            cpu_shares: f.int("cpu-shares"),
            pids_limit: f.changed("pids-limit").then(|| f.int("pids-limit")),
        },
    })
}

/// `build`.
pub(crate) fn build(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Build(BuildOptions {
        context: Args(args.into_iter()).next(),
        tags: f.list("tag"),
        file: f.string("file"),
        build_args: f.list("build-arg"),
        labels: f.list("label"),
        no_cache: f.bool("no-cache"),
        pull: f.bool("pull"),
        quiet: f.bool("quiet"),
        rm: f.bool("rm"),
        force_rm: f.bool("force-rm"),
        target: f.string("target"),
        progress: f.string("progress").unwrap_or_default(),
    }))
}

/// `images`, `image ls`.
pub(crate) fn images(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Images(ImagesOptions {
        reference: args.into_iter().next(),
        all: f.bool("all"),
        digests: f.bool("digests"),
        filters: filters(f, "filter"),
        format: f.string("format"),
        no_trunc: f.bool("no-trunc"),
        quiet: f.bool("quiet"),
    }))
}

/// `run`.
pub(crate) fn run(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let create = create_options(f, args)?;
    let detach = f.bool("detach");
    if detach && !create.attach.is_empty() {
        return Err("Conflicting options: -a and -d".to_owned());
    }
    Ok(Command::Run(RunOptions {
        create,
        detach,
        detach_keys: f.string("detach-keys"),
        sig_proxy: f.bool("sig-proxy"),
    }))
}

/// `create`.
pub(crate) fn create(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Create(create_options(f, args)?))
}

/// `start`.
pub(crate) fn start(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Start(StartOptions {
        containers: args,
        attach: f.bool("attach"),
        interactive: f.bool("interactive"),
        detach_keys: f.string("detach-keys"),
    }))
}

fn stop_options(f: &ParsedFlags, args: Vec<String>) -> StopOptions {
    StopOptions {
        containers: args,
        time: f.changed("time").then(|| f.int("time")),
    }
}

/// `stop`.
pub(crate) fn stop(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Stop(stop_options(f, args)))
}

/// `restart`.
pub(crate) fn restart(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Restart(stop_options(f, args)))
}

/// `kill`.
pub(crate) fn kill(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Kill(KillOptions {
        containers: args,
        signal: f.string("signal").unwrap_or_default(),
    }))
}

/// `pause`.
pub(crate) fn pause(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Pause(Containers { containers: args }))
}

/// `unpause`.
pub(crate) fn unpause(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Unpause(Containers { containers: args }))
}

/// `wait`.
pub(crate) fn wait(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Wait(Containers { containers: args }))
}

/// `ps`, `container ls`.
pub(crate) fn ps(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Ps(PsOptions {
        all: f.bool("all"),
        filters: filters(f, "filter"),
        format: f.string("format"),
        last: f.int("last"),
        latest: f.bool("latest"),
        no_trunc: f.bool("no-trunc"),
        quiet: f.bool("quiet"),
        size: f.bool("size"),
    }))
}

/// `exec`.
pub(crate) fn exec(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Exec(ExecOptions {
        container: args.next(),
        command: args.rest(),
        detach: f.bool("detach"),
        detach_keys: f.string("detach-keys"),
        env: f.list("env"),
        interactive: f.bool("interactive"),
        privileged: f.bool("privileged"),
        tty: f.bool("tty"),
        user: f.string("user"),
        workdir: f.string("workdir"),
    }))
}

/// `logs`.
pub(crate) fn logs(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Logs(LogsOptions {
        container: Args(args.into_iter()).next(),
        details: f.bool("details"),
        follow: f.bool("follow"),
        since: f.string("since"),
        tail: f.string("tail").unwrap_or_default(),
        timestamps: f.bool("timestamps"),
        until: f.string("until"),
    }))
}

/// `commit`.
pub(crate) fn commit(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Commit(CommitOptions {
        container: args.next(),
        reference: args.rest().into_iter().next(),
        author: f.string("author"),
        changes: f.list("change"),
        message: f.string("message"),
        pause: f.bool("pause"),
    }))
}

/// `import`.
pub(crate) fn import(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Import(ImportOptions {
        source: args.next(),
        reference: args.rest().into_iter().next(),
        changes: f.list("change"),
        message: f.string("message"),
        platform: f.string("platform"),
    }))
}

/// `save`.
pub(crate) fn save(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Save(SaveOptions {
        images: args,
        output: f.string("output"),
        format: f.string("format"),
    }))
}

/// `load`.
pub(crate) fn load(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Load(LoadOptions {
        input: f.string("input"),
        quiet: f.bool("quiet"),
    }))
}

/// `export`.
pub(crate) fn export(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Export(ExportOptions {
        container: Args(args.into_iter()).next(),
        output: f.string("output"),
    }))
}

/// `cp`.
pub(crate) fn cp(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Cp(CpOptions {
        source: args.next(),
        destination: args.next(),
        archive: f.bool("archive"),
        follow_link: f.bool("follow-link"),
        quiet: f.bool("quiet"),
    }))
}

/// `diff`.
pub(crate) fn diff(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Diff(Container {
        container: Args(args.into_iter()).next(),
    }))
}

fn inspect_options(
    f: &ParsedFlags,
    names: Vec<String>,
    kind: Option<InspectType>,
) -> Result<Command, Invalid> {
    let kind = match (kind, f.string("type").as_deref()) {
        (Some(k), _) => Some(k),
        (None, None | Some("")) => None,
        (None, Some("container")) => Some(InspectType::Container),
        (None, Some("image")) => Some(InspectType::Image),
        (None, Some(other)) => return Err(format!("\"{other}\" is not a valid value for --type")),
    };
    Ok(Command::Inspect(InspectOptions {
        names,
        format: f.string("format"),
        size: f.bool("size"),
        kind,
    }))
}

/// `inspect`.
pub(crate) fn inspect(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    inspect_options(f, args, None)
}

/// `container inspect`.
pub(crate) fn container_inspect(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    inspect_options(f, args, Some(InspectType::Container))
}

/// `image inspect`.
pub(crate) fn image_inspect(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    inspect_options(f, args, Some(InspectType::Image))
}

/// `history`.
pub(crate) fn history(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::History(HistoryOptions {
        image: Args(args.into_iter()).next(),
        format: f.string("format"),
        human: f.bool("human"),
        no_trunc: f.bool("no-trunc"),
        quiet: f.bool("quiet"),
    }))
}

/// `image layers`.
pub(crate) fn image_layers(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::ImageLayers(ImageLayersOptions {
        image: Args(args.into_iter()).next(),
        changes: f.bool("changes"),
        format: f.string("format"),
    }))
}

/// `tag`.
pub(crate) fn tag(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Tag(TagOptions {
        source: args.next(),
        target: args.next(),
    }))
}

/// `rmi`, `image rm`.
pub(crate) fn rmi(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Rmi(RmiOptions {
        images: args,
        force: f.bool("force"),
        no_prune: f.bool("no-prune"),
    }))
}

/// `rm`, `container rm`.
pub(crate) fn rm(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Rm(RmOptions {
        containers: args,
        force: f.bool("force"),
        link: f.bool("link"),
        volumes: f.bool("volumes"),
    }))
}

fn prune_options(f: &ParsedFlags) -> PruneOptions {
    PruneOptions {
        all: f.bool("all"),
        volumes: f.bool("volumes"),
        filters: filters(f, "filter"),
        force: f.bool("force"),
    }
}

/// `container prune`.
pub(crate) fn container_prune(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::ContainerPrune(prune_options(f)))
}

/// `image prune`.
pub(crate) fn image_prune(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::ImagePrune(prune_options(f)))
}

/// `system prune`.
pub(crate) fn system_prune(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::SystemPrune(prune_options(f)))
}

/// `builder prune`.
pub(crate) fn builder_prune(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::BuilderPrune(prune_options(f)))
}

/// `volume create`.
pub(crate) fn volume_create(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::VolumeCreate(VolumeCreateOptions {
        name: args.into_iter().next(),
        driver: f.string("driver").unwrap_or_else(|| "local".to_owned()),
        labels: f.list("label"),
        options: f.list("opt"),
    }))
}

/// `volume ls`.
pub(crate) fn volume_ls(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::VolumeLs(VolumeLsOptions {
        quiet: f.bool("quiet"),
        format: f.string("format"),
        filters: filters(f, "filter"),
    }))
}

/// `volume inspect`.
pub(crate) fn volume_inspect(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::VolumeInspect(VolumeInspectOptions {
        volumes: args,
        format: f.string("format"),
    }))
}

/// `volume rm`.
pub(crate) fn volume_rm(f: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::VolumeRm(VolumeRmOptions {
        volumes: args,
        force: f.bool("force"),
    }))
}

/// `volume prune`.
pub(crate) fn volume_prune(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::VolumePrune(prune_options(f)))
}

/// `system df`.
pub(crate) fn system_df(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::SystemDf(SystemDfOptions {
        format: f.string("format"),
        verbose: f.bool("verbose"),
    }))
}

/// `port`.
pub(crate) fn port(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Port(PortOptions {
        container: args.next(),
        private_port: args.rest().into_iter().next(),
    }))
}

/// `rename`.
pub(crate) fn rename(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Rename(RenameOptions {
        container: args.next(),
        new_name: args.next(),
    }))
}

/// `top`.
pub(crate) fn top(_: &ParsedFlags, args: Vec<String>) -> Result<Command, Invalid> {
    let mut args = Args(args.into_iter());
    Ok(Command::Top(TopOptions {
        container: args.next(),
        ps_args: args.rest(),
    }))
}

/// `version`.
pub(crate) fn version(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Version(FormatOption {
        format: f.string("format"),
    }))
}

/// `info`, `system info`.
pub(crate) fn info(f: &ParsedFlags, _: Vec<String>) -> Result<Command, Invalid> {
    Ok(Command::Info(FormatOption {
        format: f.string("format"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_parse_like_go_connections() {
        let p = PublishSpec::parse("3000:3000").unwrap();
        assert_eq!(
            p.host_ports,
            Some(PortRange {
                first: 3000,
                last: 3000
            })
        );
        assert_eq!(
            p.container_ports,
            PortRange {
                first: 3000,
                last: 3000
            }
        );
        assert_eq!(p.proto, "tcp");
        let p = PublishSpec::parse("127.0.0.1:8000-8001:80-81/udp").unwrap();
        assert_eq!(p.host_ip, "127.0.0.1");
        assert_eq!(p.proto, "udp");
        let p = PublishSpec::parse("[::1]:80:80").unwrap();
        assert_eq!(p.host_ip, "::1");
        assert_eq!(PublishSpec::parse("80").unwrap().host_ports, None);
        assert_eq!(
            PublishSpec::parse("8000-8010:80")
                .unwrap()
                .container_ports
                .first,
            80
        );
        let err = |s| PublishSpec::parse(s).unwrap_err();
        assert_eq!(err("abc"), "invalid containerPort: abc");
        assert_eq!(err("x:80"), "invalid hostPort: x");
        assert_eq!(err("1.2.3:80:80"), "invalid IP address: 1.2.3");
        assert_eq!(err("80:"), "no port specified: 80:<empty>");
        assert_eq!(err("80/icmp"), "invalid proto: icmp");
        assert_eq!(
            err("1-3:4-5"),
            "invalid ranges specified for container and host Ports: 4-5 and 1-3"
        );
    }

    #[test]
    fn expose_reads_ports_and_ranges_like_docker() {
        let ok = |v: &[&str]| expose_ports(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            ok(&["80", "7000-7001/udp", "80/tcp", "90/"]).unwrap(),
            ["80/tcp", "7000/udp", "7001/udp", "90/tcp"]
        );
        // the texts of docker 28's CLI, which checks them before asking the daemon
        assert_eq!(
            ok(&["abc"]).unwrap_err(),
            r#"invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax"#
        );
        assert_eq!(
            ok(&["80:80"]).unwrap_err(),
            "invalid port format for --expose: 80:80"
        );
        assert_eq!(
            ok(&["70000"]).unwrap_err(),
            r#"invalid range format for --expose: 70000, error: strconv.ParseUint: parsing "70000": value out of range"#
        );
        assert_eq!(
            ok(&["7000-6000"]).unwrap_err(),
            "invalid range format for --expose: 7000-6000, error: invalid range specified for port: 7000-6000"
        );
        assert_eq!(
            ok(&["/tcp"]).unwrap_err(),
            "invalid range format for --expose: /tcp, error: empty string specified for ports"
        );
    }

    #[test]
    fn restart_policies() {
        assert_eq!(RestartPolicy::parse("no"), Ok(RestartPolicy::No));
        assert_eq!(RestartPolicy::parse("always"), Ok(RestartPolicy::Always));
        assert_eq!(
            RestartPolicy::parse("unless-stopped"),
            Ok(RestartPolicy::UnlessStopped)
        );
        assert_eq!(
            RestartPolicy::parse("on-failure:3"),
            Ok(RestartPolicy::OnFailure { max_retries: 3 })
        );
        assert_eq!(
            RestartPolicy::parse("on-failure:x").unwrap_err(),
            "maximum retry count must be an integer"
        );
        assert_eq!(
            RestartPolicy::parse("a:b:c").unwrap_err(),
            "invalid restart policy format"
        );
        assert_eq!(
            RestartPolicy::parse("sometimes").unwrap_err(),
            "invalid restart policy 'sometimes'"
        );
    }

    #[test]
    fn restart_decisions_and_backoff_follow_dockers_restart_manager() {
        let three = RestartPolicy::OnFailure { max_retries: 3 };
        assert!(three.restarts(1, 2));
        assert!(!three.restarts(1, 3));
        assert!(!three.restarts(0, 0));
        let unlimited = RestartPolicy::OnFailure { max_retries: 0 };
        assert!(unlimited.restarts(137, 1000));
        assert!(RestartPolicy::Always.restarts(0, 1000));
        assert!(RestartPolicy::UnlessStopped.restarts(0, 0));
        assert!(!RestartPolicy::No.restarts(1, 0));
        let waits: Vec<u64> = (0..5).map(RestartPolicy::backoff_ms).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600]);
        assert_eq!(RestartPolicy::backoff_ms(40), 60_000);
    }
}
