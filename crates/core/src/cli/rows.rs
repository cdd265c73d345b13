//! The rows of docker's list commands (`ps`, `images`, `history`), as plain data the engine
//! fills, and their conversion into the records that `--format` templates see, with docker's
//! field names, column headers and default table formats.
//!
//! ```
//! use layerbox_core::cli::rows::{PsRow, RowOptions, render_list};
//! use layerbox_core::cli::units::{StatusSummary, Timestamp};
//! let now = Timestamp::from_unix_secs(1_000);
//! let row = PsRow {
//!     id: "db75e28655a8545c7840c0954604dca21e714eba0409976c4491862da092bb6f".into(),
//!     image: "anchors/busybox".into(),
//!     image_id: "sha256:7879cb9340a798737a47faf4d910f6ad7e37707c5938f257a38251bbebb13e8f".into(),
//!     command: "sleep 600".into(),
//!     created: Timestamp::from_unix_secs(999),
//!     status: StatusSummary::Running { started_at: Timestamp::from_unix_secs(999) },
//!     ports: vec![],
//!     names: vec!["/anchors-running".into()],
//!     size_rw: None,
//!     size_root_fs: None,
//!     labels: vec![],
//!     mounts: vec![],
//!     local_volumes: 0,
//!     networks: vec!["bridge".into()],
//! };
//! let out = render_list(&[row], "", &RowOptions::new(now)).unwrap();
//! assert!(out.ends_with("\"sleep 600\"   1 second ago   Up 1 second             anchors-running\n"));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::table::{FormatError, QUIET_FORMAT, render, resolve_format};
use super::template::record;
use super::text::{ellipsis, go_quote, truncate_id};
use super::units::{StatusSummary, Timestamp, human_size, human_size_4, time_ago};
use crate::image::Reference;

/// How a list is shown: the `--no-trunc`, `-q`, `-s`, `--digests` and `-H` switches, and the
/// instant relative times are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // they are docker's own independent switches
pub struct RowOptions {
    /// The current time, from the engine's clock.
    pub now: Timestamp,
    /// Shorten IDs and long texts (the default; `--no-trunc` clears it).
    pub trunc: bool,
    /// `-q`: only IDs.
    pub quiet: bool,
    /// `ps -s`: add the SIZE column.
    pub size: bool,
    /// `images --digests`: add the DIGEST column.
    pub digests: bool,
    /// `history -H` (default true): human sizes and relative times.
    pub human: bool,
}

impl RowOptions {
    /// Docker's defaults: truncated, human-readable, no extra columns.
    pub const fn new(now: Timestamp) -> Self {
        Self {
            now,
            trunc: true,
            quiet: false,
            size: false,
            digests: false,
            human: true,
        }
    }
}

/// A row of a list command: its template record and column headers, as docker's formatter
/// `SubContext`s define them.
pub trait ListRow {
    /// docker's Go type for these rows, named in template errors.
    const GO_TYPE: &'static str;
    /// The default table format (`table {{.ID}}\t…`) for these options.
    fn default_format(opts: &RowOptions) -> String;
    /// The header record: column titles by field name.
    fn header() -> Value;
    /// The record a template sees: docker's field names, values as the columns print them.
    fn record(&self, opts: &RowOptions) -> Value;
}

/// A list command's output: `rows` formatted with the `--format` value `format` (`""` for the
/// default table; `-q` selects `{{.ID}}` unless a format is given, as in docker).
pub fn render_list<R: ListRow>(
    rows: &[R],
    format: &str,
    opts: &RowOptions,
) -> Result<String, FormatError> {
    let default = R::default_format(opts);
    let format = if format.is_empty() && opts.quiet {
        QUIET_FORMAT
    } else {
        format
    };
    let records: Vec<Value> = rows.iter().map(|r| r.record(opts)).collect();
    render(
        resolve_format(format, &default),
        &R::header(),
        &records,
        R::GO_TYPE,
    )
}

/// A published or exposed port of a container (docker's API `types.Port`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortBinding {
    /// Host address it is published on (`0.0.0.0`, `::`); empty when only exposed.
    pub ip: String,
    /// Port inside the container.
    pub private_port: u16,
    /// Port on the host; 0 when only exposed.
    pub public_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
}

/// The PORTS column (docker's `DisplayablePorts`): consecutive ports grouped into ranges,
/// `0.0.0.0:3000->3000/tcp, [::]:3000->3000/tcp`, `80/tcp` for exposed-only ports.
pub fn display_ports(ports: &[PortBinding]) -> String {
    let mut ports = ports.to_vec();
    ports.sort_by(|a, b| {
        (a.private_port, &a.ip, a.public_port, &a.proto).cmp(&(
            b.private_port,
            &b.ip,
            b.public_port,
            &b.proto,
        ))
    });
    // (key, first, last) in order of first appearance.
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for port in &ports {
        let current = port.private_port;
        let key = if port.ip.is_empty() {
            port.proto.clone()
        } else {
            if port.public_port != current {
                host_mappings.push(format!(
                    "{}->{}/{}",
                    join_host_port(&port.ip, &port.public_port.to_string()),
                    port.private_port,
                    port.proto
                ));
                continue;
            }
            format!("{}/{}", port.ip, port.proto)
        };
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, current, current)),
            Some(group) if current == group.2.wrapping_add(1) => group.2 = current,
            Some(group) => {
                result.push(form_group(&group.0, group.1, group.2));
                group.1 = current;
                group.2 = current;
            }
        }
    }
    result.extend(
        groups
            .iter()
            .map(|(k, first, last)| form_group(k, *first, *last)),
    );
    result.extend(host_mappings);
    result.join(", ")
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, proto) = match key.rsplit_once('/') {
        Some((ip, proto)) => (ip, proto),
        None => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{}->{group}", join_host_port(ip, &group));
    }
    format!("{group}/{proto}")
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The COMMAND the daemon reports for a container: the path, then the arguments, each argument
/// containing a space wrapped in single quotes (`/bin/sh -c 'echo about to fail && false'`).
pub fn ps_command(path: &str, args: &[String]) -> String {
    let mut out = path.to_owned();
    for arg in args {
        out.push(' ');
        if arg.contains(' ') {
            out.push('\'');
            out.push_str(arg);
            out.push('\'');
        } else {
            out.push_str(arg);
        }
    }
    out
}

/// An instant as Go's `time.Time.String()` prints it in UTC: `2026-11-26 10:00:00 +0000 UTC`.
pub fn go_time_string(t: Timestamp) -> String {
    let (date, time) = civil(t.unix_secs());
    let nanos = t.0.rem_euclid(1_000_000_000);
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_owned()
    };
    format!("{date} {time}{frac} +0000 UTC")
}

/// An instant in RFC 3339 (UTC, whole seconds): `2026-11-26T10:00:00Z`.
pub fn rfc3339(t: Timestamp) -> String {
    let (date, time) = civil(t.unix_secs());
    format!("{date}T{time}Z")
}

/// An instant as `docker logs -t` stamps lines (Go's `RFC3339NanoFixed`, UTC, always nine
/// digits): `2026-11-26T20:09:39.557494047Z`.
pub fn rfc3339_nano_fixed(t: Timestamp) -> String {
    let (date, time) = civil(t.unix_secs());
    format!("{date}T{time}.{:09}Z", t.0.rem_euclid(1_000_000_000))
}

/// Splits Unix seconds into `YYYY-MM-DD` and `HH:MM:SS` (proleptic Gregorian, UTC).
fn civil(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// One container as `docker ps` lists it (the fields of docker's API `types.Container` that the
/// columns use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PsRow {
    /// Full 64-hex container ID.
    pub id: String,
    /// The image as the user named it (`anchors/busybox`, `sha256:7879…` for an ID).
    pub image: String,
    /// The image's full ID (`sha256:…`).
    pub image_id: String,
    /// The command, as built by [`ps_command`].
    pub command: String,
    /// When the container was created.
    pub created: Timestamp,
    /// Its state, for the STATUS column.
    pub status: StatusSummary,
    /// Published and exposed ports.
    pub ports: Vec<PortBinding>,
    /// Names, as the API gives them (`/web`).
    pub names: Vec<String>,
    /// Bytes in the container's writable layer (`ps -s`).
    pub size_rw: Option<u64>,
    /// Bytes of the whole root filesystem, image included (`ps -s`, "virtual").
    pub size_root_fs: Option<u64>,
    /// Labels, `key` and `value` (`{{.Labels}}` prints them sorted, `k=v,…`).
    pub labels: Vec<(String, String)>,
    /// Mounts, by volume name or else source path (`{{.Mounts}}`).
    pub mounts: Vec<String>,
    /// How many of the mounts are volumes of the `local` driver (`{{.LocalVolumes}}`).
    pub local_volumes: usize,
    /// Networks it is attached to (`{{.Networks}}`).
    pub networks: Vec<String>,
}

/// docker's default `ps` table.
pub const PS_TABLE_FORMAT: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

impl ListRow for PsRow {
    const GO_TYPE: &'static str = "*formatter.ContainerContext";

    fn default_format(opts: &RowOptions) -> String {
        if opts.size {
            format!("{PS_TABLE_FORMAT}\t{{{{.Size}}}}")
        } else {
            PS_TABLE_FORMAT.to_owned()
        }
    }

    fn header() -> Value {
        record([
            ("Command", "COMMAND".into()),
            ("CreatedAt", "CREATED AT".into()),
            ("ID", "CONTAINER ID".into()),
            ("Image", "IMAGE".into()),
            ("Labels", "LABELS".into()),
            ("LocalVolumes", "LOCAL VOLUMES".into()),
            ("Mounts", "MOUNTS".into()),
            ("Names", "NAMES".into()),
            ("Networks", "NETWORKS".into()),
            ("Ports", "PORTS".into()),
            ("RunningFor", "CREATED".into()),
            ("Size", "SIZE".into()),
            ("State", "STATE".into()),
            ("Status", "STATUS".into()),
        ])
    }

    fn record(&self, opts: &RowOptions) -> Value {
        let mut names: Vec<&str> = self
            .names
            .iter()
            .map(|n| n.strip_prefix('/').unwrap_or(n))
            .collect();
        if opts.trunc
            && let Some(first) = names.iter().find(|n| !n.contains('/'))
        {
            names = vec![*first];
        }
        let mut labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.sort();
        let mounts: Vec<String> = self
            .mounts
            .iter()
            .map(|m| {
                if opts.trunc {
                    ellipsis(m, 15)
                } else {
                    m.clone()
                }
            })
            .collect();
        let mut networks = self.networks.clone();
        networks.sort();
        let command = if opts.trunc {
            ellipsis(&self.command, 20)
        } else {
            self.command.clone()
        };
        let size = {
            let rw = human_size(self.size_rw.unwrap_or(0));
            match self.size_root_fs {
                Some(v) if v > 0 => format!("{rw} (virtual {})", human_size(v)),
                _ => rw,
            }
        };
        record([
            ("Command", go_quote(&command).into()),
            (
                "CreatedAt",
                go_time_string(self.created.whole_seconds()).into(),
            ),
            (
                "ID",
                if opts.trunc {
                    truncate_id(&self.id)
                } else {
                    &self.id
                }
                .into(),
            ),
            ("Image", self.image_column(opts.trunc).into()),
            ("Labels", labels.join(",").into()),
            ("LocalVolumes", self.local_volumes.to_string().into()),
            ("Mounts", mounts.join(",").into()),
            ("Names", names.join(",").into()),
            ("Networks", networks.join(",").into()),
            ("Ports", display_ports(&self.ports).into()),
            (
                "RunningFor",
                time_ago(self.created.whole_seconds(), opts.now).into(),
            ),
            ("Size", size.into()),
            ("State", self.status.state_name().into()),
            ("Status", self.status.render(opts.now).into()),
        ])
    }
}

impl PsRow {
    /// docker's IMAGE column: an image given by ID is shortened to 12; a reference loses its
    /// digest and the `docker.io/library/` prefix.
    fn image_column(&self, trunc: bool) -> String {
        if self.image.is_empty() {
            return "<no image>".to_owned();
        }
        if !trunc {
            return self.image.clone();
        }
        let short = truncate_id(&self.image_id);
        if short == truncate_id(&self.image) {
            return short.to_owned();
        }
        // Drop the digest; keep the tag if there is one.
        match Reference::parse_normalized(&self.image) {
            Ok(r) => match r.tag() {
                Some(tag) => r
                    .with_tag(tag)
                    .map_or_else(|| r.familiar_name(), |t| t.familiar()),
                None => r.familiar_name(),
            },
            Err(_) => self.image.clone(),
        }
    }
}

/// One line of `docker images`: an image under one repository and tag (an image with two tags
/// is two rows; an untagged one is `<none>`/`<none>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRow {
    /// Repository, or `<none>`.
    pub repository: String,
    /// Tag, or `<none>`.
    pub tag: String,
    /// Repository digest (`sha256:…`), or `<none>`.
    pub digest: String,
    /// Full image ID (`sha256:…`).
    pub id: String,
    /// When the image was created.
    pub created: Timestamp,
    /// Bytes of all its layers.
    pub size: u64,
    /// Containers using it, when known (`-1` in docker's API means not computed).
    pub containers: Option<u64>,
}

/// docker's default `images` table.
pub const IMAGES_TABLE_FORMAT: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
/// docker's `images --digests` table.
pub const IMAGES_DIGESTS_TABLE_FORMAT: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

impl ListRow for ImageRow {
    const GO_TYPE: &'static str = "*formatter.imageContext";

    fn default_format(opts: &RowOptions) -> String {
        if opts.digests {
            IMAGES_DIGESTS_TABLE_FORMAT
        } else {
            IMAGES_TABLE_FORMAT
        }
        .to_owned()
    }

    fn header() -> Value {
        record([
            ("Containers", "CONTAINERS".into()),
            ("CreatedAt", "CREATED AT".into()),
            ("CreatedSince", "CREATED".into()),
            ("Digest", "DIGEST".into()),
            ("ID", "IMAGE ID".into()),
            ("Repository", "REPOSITORY".into()),
            ("SharedSize", "SHARED SIZE".into()),
            ("Size", "SIZE".into()),
            ("Tag", "TAG".into()),
            ("UniqueSize", "UNIQUE SIZE".into()),
            ("VirtualSize", "VIRTUAL SIZE".into()),
        ])
    }

    fn record(&self, opts: &RowOptions) -> Value {
        let size = human_size(self.size);
        record([
            (
                "Containers",
                self.containers
                    .map_or_else(|| "N/A".to_owned(), |n| n.to_string())
                    .into(),
            ),
            (
                "CreatedAt",
                go_time_string(self.created.whole_seconds()).into(),
            ),
            (
                "CreatedSince",
                time_ago(self.created.whole_seconds(), opts.now).into(),
            ),
            ("Digest", self.digest.clone().into()),
            (
                "ID",
                if opts.trunc {
                    truncate_id(&self.id)
                } else {
                    &self.id
                }
                .into(),
            ),
            ("Repository", self.repository.clone().into()),
            ("SharedSize", "N/A".into()),
            ("Size", size.clone().into()),
            ("Tag", self.tag.clone().into()),
            ("UniqueSize", "N/A".into()),
            ("VirtualSize", size.into()),
        ])
    }
}

/// One layer of `docker history`: an entry of the image config's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// The ID of the image this step produced, or `<missing>`.
    pub id: String,
    /// When the step ran.
    pub created: Timestamp,
    /// The instruction (`/bin/sh -c #(nop)  CMD ["sh"]`, `RUN /bin/sh -c … # buildkit`).
    pub created_by: String,
    /// Bytes the step added.
    pub size: u64,
    /// The comment (`buildkit.dockerfile.v0`, an import message).
    pub comment: String,
}

/// docker's default `history` table.
pub const HISTORY_TABLE_FORMAT: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

impl ListRow for HistoryRow {
    const GO_TYPE: &'static str = "*formatter.historyContext";

    fn default_format(_: &RowOptions) -> String {
        HISTORY_TABLE_FORMAT.to_owned()
    }

    fn header() -> Value {
        record([
            ("Comment", "COMMENT".into()),
            ("CreatedAt", "CREATED AT".into()),
            ("CreatedBy", "CREATED BY".into()),
            ("CreatedSince", "CREATED".into()),
            ("ID", "IMAGE".into()),
            ("Size", "SIZE".into()),
        ])
    }

    fn record(&self, opts: &RowOptions) -> Value {
        let created_by = self.created_by.replace('\t', " ");
        record([
            ("Comment", self.comment.clone().into()),
            ("CreatedAt", rfc3339(self.created).into()),
            (
                "CreatedBy",
                if opts.trunc {
                    ellipsis(&created_by, 45)
                } else {
                    created_by
                }
                .into(),
            ),
            (
                "CreatedSince",
                if opts.human {
                    time_ago(self.created.whole_seconds(), opts.now)
                } else {
                    rfc3339(self.created)
                }
                .into(),
            ),
            (
                "ID",
                if opts.trunc {
                    truncate_id(&self.id)
                } else {
                    &self.id
                }
                .into(),
            ),
            (
                "Size",
                if opts.human {
                    human_size(self.size)
                } else {
                    self.size.to_string()
                }
                .into(),
            ),
        ])
    }
}

/// An image as the engine lists it (docker's API `ImageSummary`), before `docker images`
/// turns it into rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// Full ID (`sha256:…`).
    pub id: String,
    /// `repository:tag` names (normalised or familiar).
    pub repo_tags: Vec<String>,
    /// `repository@sha256:…` names.
    pub repo_digests: Vec<String>,
    /// When it was created.
    pub created: Timestamp,
    /// Bytes of all its layers.
    pub size: u64,
    /// Containers using it, when counted.
    pub containers: Option<u64>,
}

/// docker's `imageFormat`: one row per repository and tag (and per digest with `--digests`);
/// a dangling image is one `<none>` row. Repositories keep their first-seen order (Go's map
/// order is random; layerbox's is stable).
pub fn image_rows(images: &[ImageSummary], digests: bool) -> Vec<ImageRow> {
    let mut rows = Vec::new();
    for image in images {
        let row = |repository: &str, tag: &str, digest: &str| ImageRow {
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            digest: digest.to_owned(),
            id: image.id.clone(),
            created: image.created,
            size: image.size,
            containers: image.containers,
        };
        // (repository, tags, digests) in first-seen order.
        let mut repos: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for reference in image
            .repo_tags
            .iter()
            .filter_map(|r| Reference::parse_normalized(r).ok())
        {
            if let Some(tag) = reference.tag() {
                repo_entry(&mut repos, reference.familiar_name())
                    .1
                    .push(tag.to_owned());
            }
        }
        for reference in image
            .repo_digests
            .iter()
            .filter_map(|r| Reference::parse_normalized(r).ok())
        {
            if let Some(digest) = reference.digest() {
                repo_entry(&mut repos, reference.familiar_name())
                    .2
                    .push(digest.to_string());
            }
        }
        if repos.is_empty() {
            rows.push(row("<none>", "<none>", "<none>"));
            continue;
        }
        for (repository, tags, repo_digests) in &repos {
            if tags.is_empty() {
                // A digest-only reference: a row per digest with --digests, else one row.
                if digests {
                    rows.extend(repo_digests.iter().map(|d| row(repository, "<none>", d)));
                } else {
                    rows.push(row(repository, "<none>", ""));
                }
                continue;
            }
            for tag in tags {
                if digests && !repo_digests.is_empty() {
                    rows.extend(repo_digests.iter().map(|d| row(repository, tag, d)));
                } else {
                    rows.push(row(repository, tag, "<none>"));
                }
            }
        }
    }
    rows
}

/// The entry of `name` in `repos`, added at the end if new.
fn repo_entry(
    repos: &mut Vec<(String, Vec<String>, Vec<String>)>,
    name: String,
) -> &mut (String, Vec<String>, Vec<String>) {
    let i = if let Some(i) = repos.iter().position(|(r, ..)| *r == name) {
        i
    } else {
        repos.push((name, Vec::new(), Vec::new()));
        repos.len() - 1
    };
    &mut repos[i]
}

/// One line of `docker system df`: images, containers, local volumes or build cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskUsageRow {
    /// `Images`, `Containers`, `Local Volumes` or `Build Cache`.
    pub kind: String,
    /// How many there are.
    pub total: usize,
    /// How many are in use.
    pub active: usize,
    /// Bytes they take.
    pub size: u64,
    /// Bytes a prune would free.
    pub reclaimable: u64,
    /// Whether RECLAIMABLE shows a percentage (all but the build cache).
    pub percent: bool,
}

/// docker's default `system df` table.
pub const DF_TABLE_FORMAT: &str =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

impl ListRow for DiskUsageRow {
    const GO_TYPE: &'static str = "*formatter.diskUsageContext";

    fn default_format(_: &RowOptions) -> String {
        DF_TABLE_FORMAT.to_owned()
    }

    fn header() -> Value {
        record([
            ("Active", "ACTIVE".into()),
            ("Reclaimable", "RECLAIMABLE".into()),
            ("Size", "SIZE".into()),
            ("TotalCount", "TOTAL".into()),
            ("Type", "TYPE".into()),
        ])
    }

    fn record(&self, _: &RowOptions) -> Value {
        let reclaimable = if self.percent && self.size > 0 {
            format!(
                "{} ({}%)",
                human_size_4(self.reclaimable),
                u128::from(self.reclaimable) * 100 / u128::from(self.size)
            )
        } else {
            human_size_4(self.reclaimable)
        };
        record([
            ("Active", self.active.to_string().into()),
            ("Reclaimable", reclaimable.into()),
            ("Size", human_size_4(self.size).into()),
            ("TotalCount", self.total.to_string().into()),
            ("Type", self.kind.clone().into()),
        ])
    }
}

/// `docker port CONTAINER`: one `80/tcp -> 0.0.0.0:8080` line per published binding, ordered
/// like the PORTS column; with `private_port` (`80` or `80/udp`), only that port's bindings.
pub fn port_lines(ports: &[PortBinding], private_port: Option<&str>) -> Vec<String> {
    let wanted = private_port.map(|p| match p.split_once('/') {
        Some((port, proto)) => (port.to_owned(), proto.to_lowercase()),
        None => (p.to_owned(), "tcp".to_owned()),
    });
    let mut published: Vec<&PortBinding> = ports
        .iter()
        .filter(|p| !p.ip.is_empty() || p.public_port != 0)
        .filter(|p| {
            wanted.as_ref().is_none_or(|(port, proto)| {
                *port == p.private_port.to_string() && *proto == p.proto
            })
        })
        .collect();
    published
        .sort_by(|a, b| (a.private_port, &a.proto, &a.ip).cmp(&(b.private_port, &b.proto, &b.ip)));
    published
        .into_iter()
        .map(|p| {
            let host = join_host_port(&p.ip, &p.public_port.to_string());
            if wanted.is_some() {
                host
            } else {
                format!("{}/{} -> {host}", p.private_port, p.proto)
            }
        })
        .collect()
}

/// `docker top`: the process table (`UID PID PPID …`), aligned by a tabwriter with minimum
/// width 20 and padding 3 as docker does.
pub fn render_top(titles: &[String], processes: &[Vec<String>]) -> String {
    let mut text = titles.join("\t");
    text.push('\n');
    for process in processes {
        text.push_str(&process.join("\t"));
        text.push('\n');
    }
    super::tabwriter::TabWriter {
        min_width: 20,
        padding: 3,
    }
    .format(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: &str, private_port: u16, public_port: u16) -> PortBinding {
        PortBinding {
            ip: ip.into(),
            private_port,
            public_port,
            proto: "tcp".into(),
        }
    }

    #[test]
    fn ports_group_like_docker() {
        assert_eq!(display_ports(&[]), "");
        assert_eq!(
            display_ports(&[port("0.0.0.0", 3000, 3000), port("::", 3000, 3000)]),
            "0.0.0.0:3000->3000/tcp, [::]:3000->3000/tcp"
        );
        assert_eq!(
            display_ports(&[port("", 81, 0), port("", 80, 0), port("", 90, 0)]),
            "80-81/tcp, 90/tcp"
        );
        assert_eq!(
            display_ports(&[port("0.0.0.0", 80, 8080)]),
            "0.0.0.0:8080->80/tcp"
        );
    }

    fn summary(tags: &[&str], digests: &[&str]) -> ImageSummary {
        ImageSummary {
            id: format!("sha256:{}", "ab".repeat(32)),
            repo_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            repo_digests: digests.iter().map(|d| (*d).to_owned()).collect(),
            created: Timestamp(0),
            size: 1,
            containers: None,
        }
    }

    fn names(rows: &[ImageRow]) -> Vec<String> {
        rows.iter()
            .map(|r| format!("{} {} {}", r.repository, r.tag, r.digest))
            .collect()
    }

    #[test]
    fn images_expand_to_rows_like_docker() {
        let digest = format!("sha256:{}", "cd".repeat(32));
        assert_eq!(
            names(&image_rows(&[summary(&[], &[])], false)),
            ["<none> <none> <none>"]
        );
        let tagged = summary(
            &[
                "anchors/tiny:legacy",
                "docker.io/library/busybox:latest",
                "anchors/tiny:v2",
            ],
            &[],
        );
        assert_eq!(
            names(&image_rows(&[tagged], false)),
            [
                "anchors/tiny legacy <none>",
                "anchors/tiny v2 <none>",
                "busybox latest <none>"
            ]
        );
        let pulled = summary(&["busybox:latest"], &[&format!("busybox@{digest}")]);
        assert_eq!(
            names(&image_rows(std::slice::from_ref(&pulled), false)),
            ["busybox latest <none>"]
        );
        assert_eq!(
            names(&image_rows(&[pulled], true)),
            [format!("busybox latest {digest}")]
        );
        let digest_only = summary(&[], &[&format!("busybox@{digest}")]);
        assert_eq!(
            names(&image_rows(std::slice::from_ref(&digest_only), false)),
            ["busybox <none> "]
        );
        assert_eq!(
            names(&image_rows(&[digest_only], true)),
            [format!("busybox <none> {digest}")]
        );
    }

    #[test]
    fn disk_usage_table() {
        let rows = [
            DiskUsageRow {
                kind: "Images".into(),
                total: 5,
                active: 2,
                size: 16_430_000,
                reclaimable: 11_625_000,
                percent: true,
            },
            DiskUsageRow {
                kind: "Containers".into(),
                total: 2,
                active: 0,
                size: 0,
                reclaimable: 0,
                percent: true,
            },
            DiskUsageRow {
                kind: "Local Volumes".into(),
                total: 2,
                active: 1,
                size: 36,
                reclaimable: 0,
                percent: true,
            },
            DiskUsageRow {
                kind: "Build Cache".into(),
                total: 0,
                active: 0,
                size: 0,
                reclaimable: 0,
                percent: false,
            },
        ];
        let out = render_list(&rows, "", &RowOptions::new(Timestamp(0))).unwrap();
        assert_eq!(
            out,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          5         2         16.43MB   11.62MB (70%)\n\
             Containers      2         0         0B        0B\n\
             Local Volumes   2         1         36B       0B (0%)\n\
             Build Cache     0         0         0B        0B\n"
        );
    }

    #[test]
    fn port_and_top_outputs() {
        let ports = [
            port("::", 3000, 3000),
            port("0.0.0.0", 3000, 3000),
            port("", 8080, 0),
        ];
        assert_eq!(
            port_lines(&ports, None),
            ["3000/tcp -> 0.0.0.0:3000", "3000/tcp -> [::]:3000"]
        );
        assert_eq!(
            port_lines(&ports, Some("3000")),
            ["0.0.0.0:3000", "[::]:3000"]
        );
        assert!(port_lines(&ports, Some("3000/udp")).is_empty());
        let titles = ["UID", "PID", "CMD"].map(String::from);
        let procs = [vec![
            "root".to_owned(),
            "1".to_owned(),
            "sleep 600".to_owned(),
        ]];
        assert_eq!(
            render_top(&titles, &procs),
            "UID                 PID                 CMD\nroot                1                   sleep 600\n"
        );
    }

    #[test]
    fn commands_quote_arguments_with_spaces() {
        let args = ["-c".to_owned(), "exit 3".to_owned()];
        assert_eq!(ps_command("sh", &args), "sh -c 'exit 3'");
        assert_eq!(ps_command("true", &[]), "true");
    }

    #[test]
    fn created_counts_from_the_whole_second() {
        // Created at .9 of a second, listed 1.6 s later: docker's API rounds Created down, so
        // the row says 2 seconds, not 1.
        let created = Timestamp(10_900_000_000);
        let now = Timestamp(12_500_000_000);
        let row = HistoryRow {
            id: "x".into(),
            created,
            created_by: String::new(),
            size: 0,
            comment: String::new(),
        };
        assert_eq!(
            row.record(&RowOptions::new(now))["CreatedSince"],
            "2 seconds ago"
        );
    }

    #[test]
    fn times_print_like_go() {
        assert_eq!(
            go_time_string(Timestamp::from_unix_secs(0)),
            "1970-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            go_time_string(Timestamp(1_764_151_200_500_000_000)),
            "2025-11-26 10:00:00.5 +0000 UTC"
        );
        assert_eq!(
            rfc3339(Timestamp::from_unix_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(Timestamp::from_unix_secs(-1)),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(
            rfc3339_nano_fixed(Timestamp(1_795_723_779_557_494_047)),
            "2026-11-26T20:09:39.557494047Z"
        );
        assert_eq!(
            rfc3339_nano_fixed(Timestamp::from_unix_secs(0)),
            "1970-01-01T00:00:00.000000000Z"
        );
    }

    #[test]
    fn image_column_shortens_ids_and_drops_digests() {
        let mut row = PsRow {
            id: "a".repeat(64),
            image: "sha256:7879cb9340a798737a47faf4d910f6ad7e37707c5938f257a38251bbebb13e8f".into(),
            image_id: "sha256:7879cb9340a798737a47faf4d910f6ad7e37707c5938f257a38251bbebb13e8f"
                .into(),
            command: "true".into(),
            created: Timestamp(0),
            status: StatusSummary::Created,
            ports: vec![],
            names: vec!["/x".into()],
            size_rw: None,
            size_root_fs: None,
            labels: vec![],
            mounts: vec![],
            local_volumes: 0,
            networks: vec![],
        };
        assert_eq!(row.image_column(true), "7879cb9340a7");
        row.labels = vec![("b".into(), "2".into()), ("a".into(), "1".into())];
        row.mounts = vec!["0123456789abcdef0123".into()];
        row.local_volumes = 1;
        row.networks = vec!["bridge".into()];
        let out = render_list(
            std::slice::from_ref(&row),
            "{{.Labels}} {{.Mounts}} {{.LocalVolumes}} {{.Networks}}",
            &RowOptions::new(Timestamp(0)),
        );
        assert_eq!(out.unwrap(), "a=1,b=2 0123456789abcd… 1 bridge\n");
        assert_eq!(row.image_column(false), row.image);
        row.image = format!("docker.io/library/busybox:1.36@sha256:{}", "ab".repeat(32));
        assert_eq!(row.image_column(true), "busybox:1.36");
        row.image = format!("localhost:5000/app@sha256:{}", "ab".repeat(32));
        assert_eq!(row.image_column(true), "localhost:5000/app");
        row.image = "busybox:1.36".into();
        assert_eq!(row.image_column(true), "busybox:1.36");
        row.image = String::new();
        assert_eq!(row.image_column(true), "<no image>");
    }
}
