//! `docker inspect` output: the objects as one JSON array written the way Go's
//! `json.MarshalIndent(v, "", "    ")` writes it, or each object through a `-f` template.
//!
//! Go's encoder escapes `<`, `>` and `&` (`"echo a \u0026\u0026 b"`), and U+2028/U+2029. The
//! objects are [`Doc`]s, JSON that keeps its keys in the order written: docker prints Go structs
//! in their field order, so an image or container starts from docker 20.10's own output
//! ([`IMAGE_SKELETON`], [`CONTAINER_SKELETON`], its values blanked) and the engine fills in
//! what it knows; the `Config` of both is [`ContainerConfigJson`], docker's `container.Config`.
//!
//! ```
//! use layerbox_core::cli::inspect::inspect_json;
//! let out = inspect_json(&[serde_json::json!({"Cmd": ["sh", "-c", "a && b"]})]).unwrap();
//! assert_eq!(out, "[\n    {\n        \"Cmd\": [\n            \"sh\",\n            \"-c\",\n            \"a \\u0026\\u0026 b\"\n        ]\n    }\n]\n");
//! ```

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use super::table::FormatError;
use super::template::Template;

/// The JSON `docker inspect` prints for `objects`, with its final newline.
pub fn inspect_json<T: Serialize>(objects: &[T]) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        GoFormatter(PrettyFormatter::with_indent(b"    ")),
    );
    objects.serialize(&mut ser)?;
    out.push(b'\n');
    // The serializer writes only valid UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `docker inspect -f TEMPLATE`: the template run over each object, each followed by a newline.
pub fn inspect_format(template: &str, objects: &[Value]) -> Result<String, FormatError> {
    let template = Template::parse(template)?;
    let mut out = String::new();
    for object in objects {
        out.push_str(&template.execute(object)?);
        out.push('\n');
    }
    Ok(out)
}

/// serde_json's pretty printer with Go's string escaping.
struct GoFormatter<'a>(PrettyFormatter<'a>);

impl Formatter for GoFormatter<'_> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Go (before 1.22, as in docker 20.10) writes backspace and form feed as \u escapes.
        match escape {
            CharEscape::Backspace => w.write_all(b"\\u0008"),
            CharEscape::FormFeed => w.write_all(b"\\u000c"),
            other => serde_json::ser::CompactFormatter.write_char_escape(w, other),
        }
    }
}

/// A JSON value whose objects keep their keys in order (serde_json's `Map` sorts them): what
/// `inspect` prints, key for key in docker's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// A string, number, boolean or null.
    Scalar(Value),
    /// An array.
    Array(Vec<Doc>),
    /// An object, keys in order.
    Object(Vec<(String, Doc)>),
}

impl Doc {
    /// Parses JSON text, keeping the order of every object's keys.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// `value` as a document, objects in the order its `Serialize` writes them (a struct's
    /// field order).
    pub fn of<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        Self::parse(&serde_json::to_string(value)?)
    }

    /// The value at `path` (object keys), if there is one.
    pub fn get(&self, path: &[&str]) -> Option<&Self> {
        match path.split_first() {
            None => Some(self),
            Some((key, rest)) => match self {
                Self::Object(fields) => fields
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| v.get(rest)),
                _ => None,
            },
        }
    }

    /// Replaces the value at `path` in place (keeping its position), or appends the key to its
    /// object; `false` if `path` leads through something that is not an object.
    pub fn set(&mut self, path: &[&str], value: impl Into<Self>) -> bool {
        let Some((key, rest)) = path.split_first() else {
            *self = value.into();
            return true;
        };
        let Self::Object(fields) = self else {
            return false;
        };
        if let Some((_, v)) = fields.iter_mut().find(|(k, _)| k == key) {
            return v.set(rest, value);
        }
        if !rest.is_empty() {
            return false;
        }
        fields.push(((*key).to_owned(), value.into()));
        true
    }

    /// The same JSON as a `serde_json::Value` (whose objects sort their keys), for templates.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Scalar(v) => v.clone(),
            Self::Array(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            Self::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl From<Value> for Doc {
    fn from(v: Value) -> Self {
        match v {
            Value::Array(items) => Self::Array(items.into_iter().map(Self::from).collect()),
            Value::Object(map) => {
                Self::Object(map.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
            scalar => Self::Scalar(scalar),
        }
    }
}

impl Serialize for Doc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Self::Scalar(v) => v.serialize(s),
            Self::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Doc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Doc;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Doc, E> {
                Ok(Doc::Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Doc, E> {
                Ok(Doc::Scalar(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Doc, E> {
                Ok(Doc::Scalar(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Doc, E> {
                Ok(Doc::Scalar(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Doc, E> {
                Ok(Doc::Scalar(v.into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Doc, E> {
                Ok(Doc::Scalar(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Doc, E> {
                Ok(Doc::Scalar(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Doc, E> {
                Ok(Doc::Scalar(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Doc, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Doc::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Doc, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = a.next_entry()? {
                    fields.push((k, v));
                }
                Ok(Doc::Object(fields))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// docker's `container.Config` as `inspect` prints it (an image's `Config` and
/// `ContainerConfig`, a container's `Config`): Go's field order; the `omitempty` fields are
/// left out when unset, the others print `null` or `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
// docker's own fields, named as docker names them; `{"80/tcp": {}}` is docker's JSON for sets.
#[allow(
    clippy::struct_excessive_bools,
    clippy::zero_sized_map_values,
    missing_docs
)]
pub struct ContainerConfigJson {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<std::collections::BTreeMap<String, crate::image::Empty>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::image::Healthcheck>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    pub image: String,
    pub volumes: Option<std::collections::BTreeMap<String, crate::image::Empty>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub on_build: Option<Vec<String>>,
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

impl ContainerConfigJson {
    /// An image config's fields as docker prints them.
    pub fn of_image(c: &crate::image::ContainerConfig) -> Self {
        Self {
            user: c.user.clone().unwrap_or_default(),
            exposed_ports: c.exposed_ports.clone().filter(|m| !m.is_empty()),
            env: c.env.clone(),
            cmd: c.cmd.clone(),
            healthcheck: c.healthcheck.clone(),
            args_escaped: c.args_escaped.unwrap_or(false),
            volumes: c.volumes.clone(),
            working_dir: c.working_dir.clone().unwrap_or_default(),
            entrypoint: c.entrypoint.clone(),
            on_build: c.on_build.clone(),
            labels: c.labels.clone(),
            stop_signal: c.stop_signal.clone().filter(|s| !s.is_empty()),
            shell: c.shell.clone().filter(|s| !s.is_empty()),
            ..Self::default()
        }
    }
}

/// `docker image inspect` of docker 20.10 (API 1.41), values blanked: the engine fills them.
pub const IMAGE_SKELETON: &str = r#"{
  "Id": "",
  "RepoTags": [],
  "RepoDigests": [],
  "Parent": "",
  "Comment": "",
  "Created": "",
  "Container": "",
  "ContainerConfig": {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": false,
    "AttachStdout": false,
    "AttachStderr": false,
    "Tty": false,
    "OpenStdin": false,
    "StdinOnce": false,
    "Env": null,
    "Cmd": null,
    "Image": "",
    "Volumes": null,
    "WorkingDir": "",
    "Entrypoint": null,
    "OnBuild": null,
    "Labels": null
  },
  "DockerVersion": "",
  "Author": "",
  "Config": {},
  "Architecture": "",
  "Os": "",
  "Size": 0,
  "VirtualSize": 0,
  "GraphDriver": {
    "Data": {
      "LowerDir": "",
      "MergedDir": "",
      "UpperDir": "",
      "WorkDir": ""
    },
    "Name": "overlay2"
  },
  "RootFS": {
    "Type": "layers",
    "Layers": []
  },
  "Metadata": {
    "LastTagTime": ""
  }
}"#;

/// `docker container inspect` of docker 20.10 (API 1.41) for a container run with no options,
/// values blanked (`HostConfig` holds the defaults): the engine fills what it knows.
pub const CONTAINER_SKELETON: &str = r#"{
  "Id": "",
  "Created": "",
  "Path": "",
  "Args": [],
  "State": {
    "Status": "",
    "Running": false,
    "Paused": false,
    "Restarting": false,
    "OOMKilled": false,
    "Dead": false,
    "Pid": 0,
    "ExitCode": 0,
    "Error": "",
    "StartedAt": "0001-01-01T00:00:00Z",
    "FinishedAt": "0001-01-01T00:00:00Z"
  },
  "Image": "",
  "ResolvConfPath": "",
  "HostnamePath": "",
  "HostsPath": "",
  "LogPath": "",
  "Name": "",
  "RestartCount": 0,
  "Driver": "overlay2",
  "Platform": "linux",
  "MountLabel": "",
  "ProcessLabel": "",
  "AppArmorProfile": "",
  "ExecIDs": null,
  "HostConfig": {
    "Binds": null,
    "ContainerIDFile": "",
    "LogConfig": {
      "Type": "json-file",
      "Config": {}
    },
    "NetworkMode": "default",
    "PortBindings": {},
    "RestartPolicy": {
      "Name": "no",
      "MaximumRetryCount": 0
    },
    "AutoRemove": false,
    "VolumeDriver": "",
    "VolumesFrom": null,
    "CapAdd": null,
    "CapDrop": null,
    "CgroupnsMode": "host",
    "Dns": [],
    "DnsOptions": [],
    "DnsSearch": [],
    "ExtraHosts": null,
    "GroupAdd": null,
    "IpcMode": "private",
    "Cgroup": "",
    "Links": null,
    "OomScoreAdj": 0,
    "PidMode": "",
    "Privileged": false,
    "PublishAllPorts": false,
    "ReadonlyRootfs": false,
    "SecurityOpt": null,
    "UTSMode": "",
    "UsernsMode": "",
    "ShmSize": 67108864,
    "Runtime": "runc",
    "ConsoleSize": [
      0,
      0
    ],
    "Isolation": "",
    "CpuShares": 0,
    "Memory": 0,
    "NanoCpus": 0,
    "CgroupParent": "",
    "BlkioWeight": 0,
    "BlkioWeightDevice": [],
    "BlkioDeviceReadBps": null,
    "BlkioDeviceWriteBps": null,
    "BlkioDeviceReadIOps": null,
    "BlkioDeviceWriteIOps": null,
    "CpuPeriod": 0,
    "CpuQuota": 0,
    "CpuRealtimePeriod": 0,
    "CpuRealtimeRuntime": 0,
    "CpusetCpus": "",
    "CpusetMems": "",
    "Devices": [],
    "DeviceCgroupRules": null,
    "DeviceRequests": null,
    "KernelMemory": 0,
    "KernelMemoryTCP": 0,
    "MemoryReservation": 0,
    "MemorySwap": 0,
    "MemorySwappiness": null,
    "OomKillDisable": false,
    "PidsLimit": null,
    "Ulimits": null,
    "CpuCount": 0,
    "CpuPercent": 0,
    "IOMaximumIOps": 0,
    "IOMaximumBandwidth": 0,
    "MaskedPaths": [
      "/proc/asound",
      "/proc/acpi",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware"
    ],
    "ReadonlyPaths": [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger"
    ]
  },
  "GraphDriver": {
    "Data": {
      "LowerDir": "",
      "MergedDir": "",
      "UpperDir": "",
      "WorkDir": ""
    },
    "Name": "overlay2"
  },
  "Mounts": [],
  "Config": {},
  "NetworkSettings": {
    "Bridge": "",
    "SandboxID": "",
    "HairpinMode": false,
    "LinkLocalIPv6Address": "",
    "LinkLocalIPv6PrefixLen": 0,
    "Ports": {},
    "SandboxKey": "",
    "SecondaryIPAddresses": null,
    "SecondaryIPv6Addresses": null,
    "EndpointID": "",
    "Gateway": "",
    "GlobalIPv6Address": "",
    "GlobalIPv6PrefixLen": 0,
    "IPAddress": "",
    "IPPrefixLen": 0,
    "IPv6Gateway": "",
    "MacAddress": "",
    "Networks": {
      "bridge": {
        "IPAMConfig": null,
        "Links": null,
        "Aliases": null,
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "MacAddress": "",
        "DriverOpts": null
      }
    }
  }
}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_containers_and_escapes_print_like_go() {
        let out = inspect_json(&[json!({"A": [], "B": {}, "C": null, "D": "<x>\u{8}\n\u{2028}"})])
            .unwrap();
        assert_eq!(
            out,
            "[\n    {\n        \"A\": [],\n        \"B\": {},\n        \"C\": null,\n        \"D\": \"\\u003cx\\u003e\\u0008\\n\\u2028\"\n    }\n]\n"
        );
        assert_eq!(inspect_json::<Value>(&[]).unwrap(), "[]\n");
    }

    #[test]
    fn docs_keep_their_key_order_and_set_in_place() {
        let mut doc = Doc::parse(r#"{"b": 1, "a": {"z": null, "y": [true]}}"#).unwrap();
        assert!(doc.set(&["a", "z"], json!("zz")));
        assert!(doc.set(&["c"], json!(3)));
        assert!(!doc.set(&["b", "x"], json!(0)));
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"b":1,"a":{"z":"zz","y":[true]},"c":3}"#
        );
        assert_eq!(
            doc.get(&["a", "y"]),
            Some(&Doc::Array(vec![Doc::Scalar(json!(true))]))
        );
        assert_eq!(doc.to_value()["a"]["z"], "zz");
        let skeleton = Doc::parse(CONTAINER_SKELETON).unwrap();
        let Doc::Object(fields) = &skeleton else {
            panic!()
        };
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(&keys[..4], ["Id", "Created", "Path", "Args"]);
        assert_eq!(keys.last(), Some(&"NetworkSettings"));
        Doc::parse(IMAGE_SKELETON).unwrap();
    }

    #[test]
    fn the_skeletons_masked_and_readonly_paths_are_the_engines() {
        let skeleton = Doc::parse(CONTAINER_SKELETON).unwrap().to_value();
        let list = |key: &str| -> Vec<String> {
            serde_json::from_value(skeleton["HostConfig"][key].clone()).unwrap()
        };
        // docker 20.10, whose output the skeleton is, predates moby's masking of powercap
        // (the Linux engine masks it too, as newer docker does).
        let newer = "/sys/devices/virtual/powercap";
        let engines: Vec<&str> = crate::engine::MASKED_PATHS
            .iter()
            .copied()
            .filter(|p| *p != newer)
            .collect();
        assert_eq!(list("MaskedPaths"), engines);
        assert!(crate::engine::MASKED_PATHS.contains(&newer));
        assert_eq!(list("ReadonlyPaths"), crate::engine::READONLY_PATHS);
    }

    #[test]
    fn container_config_prints_in_gos_field_order() {
        let c = crate::image::ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            stop_signal: Some("SIGINT".into()),
            ..Default::default()
        };
        let text = serde_json::to_string(&ContainerConfigJson::of_image(&c)).unwrap();
        assert_eq!(
            text,
            r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null,"StopSignal":"SIGINT"}"#
        );
    }

    #[test]
    fn templates_run_once_per_object() {
        let objects = [json!({"Name": "/a"}), json!({"Name": "/b"})];
        assert_eq!(inspect_format("{{.Name}}", &objects).unwrap(), "/a\n/b\n");
    }
}
