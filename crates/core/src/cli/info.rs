//! `docker info`: the client and server report, printed line by line as docker 20.10's
//! `prettyPrintInfo` does, or through a `--format` template over the same fields (docker's
//! `types.Info` names: `{{.Containers}}`, `{{.ServerVersion}}`, `{{.ClientInfo.Context}}`).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::table::FormatError;
use super::template::Template;
use super::units::go_format_g;

/// What the client knows about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientInfo {
    /// The context in use (`default`).
    pub context: String,
    /// `-D` was given.
    pub debug: bool,
}

/// A security option of the daemon (`seccomp` with its profile, `rootless`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityOption {
    /// `seccomp`, `apparmor`, `rootless`, `cgroupns`.
    pub name: String,
    /// Its profile, if it has one.
    pub profile: Option<String>,
}

/// What the engine reports about itself (the fields of docker's `types.Info` that `docker
/// info` prints).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(clippy::struct_excessive_bools)] // the daemon's own flags
pub struct ServerInfo {
    /// What the `Server:` header line names after the colon, as `docker version` names
    /// "Docker Engine - Community": the simulated engine says there what it is. Not one of
    /// docker's `types.Info` fields, so templates do not see it.
    #[serde(skip)]
    pub platform_name: String,
    /// All containers.
    pub containers: u64,
    /// Running ones.
    pub containers_running: u64,
    /// Paused ones.
    pub containers_paused: u64,
    /// Stopped ones.
    pub containers_stopped: u64,
    /// Images, intermediate ones included.
    pub images: u64,
    /// The engine's version.
    pub server_version: String,
    /// The storage driver (`overlay2`; the simulator names its own).
    pub driver: String,
    /// The storage driver's details, in order (`Backing Filesystem`, `extfs`).
    pub driver_status: Vec<(String, String)>,
    /// `json-file`.
    pub logging_driver: String,
    /// `cgroupfs` or `systemd`.
    pub cgroup_driver: String,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// Volume plugins.
    pub volume_plugins: Vec<String>,
    /// Network plugins.
    pub network_plugins: Vec<String>,
    /// Log plugins.
    pub log_plugins: Vec<String>,
    /// The swarm state (`inactive`).
    pub swarm: String,
    /// Runtime names (printed sorted).
    pub runtimes: Vec<String>,
    /// The default runtime.
    pub default_runtime: String,
    /// `linux`.
    #[serde(rename = "OSType")]
    pub os_type: String,
    /// `docker-init`.
    pub init_binary: String,
    /// containerd's version.
    pub containerd_commit: String,
    /// runc's version.
    pub runc_commit: String,
    /// The init binary's version.
    pub init_commit: String,
    /// Security options.
    pub security_options: Vec<SecurityOption>,
    /// `uname -r`.
    pub kernel_version: String,
    /// The host's OS name.
    pub operating_system: String,
    /// `x86_64`.
    pub architecture: String,
    /// CPUs.
    #[serde(rename = "NCPU")]
    pub ncpu: u64,
    /// Memory in bytes.
    pub mem_total: u64,
    /// The host name.
    pub name: String,
    /// The daemon's ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Where the engine keeps its state.
    pub docker_root_dir: String,
    /// The daemon runs in debug mode.
    pub debug: bool,
    /// The default registry.
    pub index_server_address: String,
    /// Daemon labels.
    pub labels: Vec<String>,
    /// Experimental features are on.
    pub experimental_build: bool,
    /// Insecure registries (`127.0.0.0/8`).
    pub insecure_registries: Vec<String>,
    /// Live restore is on.
    pub live_restore_enabled: bool,
}

/// go-units `BytesSize`: binary units with 4 significant digits (`23.54GiB`).
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    #[allow(clippy::cast_precision_loss)] // printed with 4 significant digits
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{}{}", go_format_g(size, 4), UNITS[unit])
}

/// `docker info` output; `server` is `None` when the engine cannot be reached (docker then
/// reports the error after the client part).
pub fn render_info(
    client: &ClientInfo,
    server: Option<&ServerInfo>,
    format: Option<&str>,
) -> Result<String, FormatError> {
    if let Some(format) = format {
        let mut value =
            serde_json::to_value(server.cloned().unwrap_or_default()).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "ClientInfo".to_owned(),
                serde_json::to_value(client).unwrap_or_default(),
            );
        }
        let mut out = Template::parse(format)?.execute(&value)?;
        out.push('\n');
        return Ok(out);
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "Client:\n Context:    {}\n Debug Mode: {}\n\nServer:",
        client.context, client.debug
    );
    match server {
        Some(info) if !info.platform_name.is_empty() => {
            let _ = writeln!(out, " {}", info.platform_name);
        }
        _ => out.push('\n'),
    }
    if let Some(info) = server {
        server_lines(&mut out, info);
    }
    Ok(out)
}

/// `prettyPrintServerInfo`, line for line.
fn server_lines(out: &mut String, info: &ServerInfo) {
    let non_empty = |out: &mut String, label: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "{label} {value}");
        }
    };
    let _ = writeln!(
        out,
        " Containers: {}\n  Running: {}\n  Paused: {}\n  Stopped: {}\n Images: {}",
        info.containers,
        info.containers_running,
        info.containers_paused,
        info.containers_stopped,
        info.images
    );
    non_empty(out, " Server Version:", &info.server_version);
    non_empty(out, " Storage Driver:", &info.driver);
    for (key, value) in &info.driver_status {
        let _ = writeln!(out, "  {key}: {value}");
    }
    for (label, value) in [
        (" Logging Driver:", &info.logging_driver),
        (" Cgroup Driver:", &info.cgroup_driver),
        (" Cgroup Version:", &info.cgroup_version),
    ] {
        non_empty(out, label, value);
    }
    let _ = writeln!(
        out,
        " Plugins:\n  Volume: {}\n  Network: {}\n  Log: {}\n Swarm: {}",
        info.volume_plugins.join(" "),
        info.network_plugins.join(" "),
        info.log_plugins.join(" "),
        info.swarm
    );
    if !info.runtimes.is_empty() {
        let mut runtimes = info.runtimes.clone();
        runtimes.sort();
        let _ = writeln!(
            out,
            " Runtimes: {}\n Default Runtime: {}",
            runtimes.join(" "),
            info.default_runtime
        );
    }
    if info.os_type == "linux" {
        let _ = writeln!(out, " Init Binary: {}", info.init_binary);
        for (name, commit) in [
            ("containerd", &info.containerd_commit),
            ("runc", &info.runc_commit),
            ("init", &info.init_commit),
        ] {
            let _ = writeln!(out, " {name} version: {commit}");
        }
        if !info.security_options.is_empty() {
            out.push_str(" Security Options:\n");
            for option in &info.security_options {
                let _ = writeln!(out, "  {}", option.name);
                if let Some(profile) = &option.profile {
                    let _ = writeln!(out, "   Profile: {profile}");
                }
            }
        }
    }
    for (label, value) in [
        (" Kernel Version:", &info.kernel_version),
        (" Operating System:", &info.operating_system),
        (" OSType:", &info.os_type),
        (" Architecture:", &info.architecture),
    ] {
        non_empty(out, label, value);
    }
    let _ = writeln!(
        out,
        " CPUs: {}\n Total Memory: {}",
        info.ncpu,
        bytes_size(info.mem_total)
    );
    non_empty(out, " Name:", &info.name);
    non_empty(out, " ID:", &info.id);
    let _ = writeln!(
        out,
        " Docker Root Dir: {}\n Debug Mode: {}",
        info.docker_root_dir, info.debug
    );
    if !info.index_server_address.is_empty() {
        let _ = writeln!(out, " Registry: {}", info.index_server_address);
    }
    out.push_str(" Labels:\n");
    for label in &info.labels {
        let _ = writeln!(out, "  {label}");
    }
    let _ = writeln!(out, " Experimental: {}", info.experimental_build);
    if !info.insecure_registries.is_empty() {
        out.push_str(" Insecure Registries:\n");
        for registry in &info.insecure_registries {
            let _ = writeln!(out, "  {registry}");
        }
    }
    let _ = writeln!(
        out,
        " Live Restore Enabled: {}\n",
        info.live_restore_enabled
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_sizes() {
        assert_eq!(bytes_size(25_275_936_768), "23.54GiB");
        assert_eq!(bytes_size(1024), "1KiB");
        assert_eq!(bytes_size(1000), "1000B");
        assert_eq!(bytes_size(0), "0B");
    }

    #[test]
    fn formats_see_dockers_field_names() {
        let client = ClientInfo {
            context: "default".into(),
            debug: false,
        };
        let server = ServerInfo {
            containers: 3,
            server_version: "sim".into(),
            ncpu: 2,
            ..ServerInfo::default()
        };
        let out = render_info(
            &client,
            Some(&server),
            Some("{{.Containers}} {{.ServerVersion}} {{.NCPU}} {{.ClientInfo.Context}}"),
        );
        assert_eq!(out.unwrap(), "3 sim 2 default\n");
    }

    #[test]
    fn without_a_server_only_the_client_prints() {
        let client = ClientInfo {
            context: "default".into(),
            debug: true,
        };
        assert_eq!(
            render_info(&client, None, None).unwrap(),
            "Client:\n Context:    default\n Debug Mode: true\n\nServer:\n"
        );
    }

    #[test]
    fn a_platform_name_follows_the_server_header() {
        let client = ClientInfo {
            context: "default".into(),
            debug: false,
        };
        let server = ServerInfo {
            platform_name: "layerbox simulated engine".into(),
            ..ServerInfo::default()
        };
        let out = render_info(&client, Some(&server), None).unwrap();
        assert!(
            out.contains("\n\nServer: layerbox simulated engine\n Containers: 0\n"),
            "{out}"
        );
        let json = render_info(&client, Some(&server), Some("{{json .}}")).unwrap();
        assert!(!json.contains("layerbox simulated engine"), "{json}");
    }
}
