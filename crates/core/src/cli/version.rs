//! `docker version`: docker 20.10's own Go template, run by [`Template`] over the version
//! record, then aligned by a tabwriter with minimum width 20 and padding 1 (a user's
//! `--format` goes through the same writer, as in docker).
//!
//! The record has the shape of docker's `versionInfo`: `Client` (`Version`, `APIVersion`,
//! `DefaultAPIVersion`, `GoVersion`, `GitCommit`, `BuildTime`, `Os`, `Arch`, `Context`,
//! `Experimental`, `Platform.Name`), `ServerOK`, and `Server` (`Platform.Name`, `Components`: a
//! list of `Name`, `Version`, `Details`).

use serde_json::Value;

use super::table::FormatError;
use super::tabwriter::TabWriter;
use super::template::Template;

/// docker 20.10's `versionTemplate`; its `getDetailsOrder` function is replaced by ranging over
/// the details map, which Go does in the same (sorted) key order.
pub const VERSION_TEMPLATE: &str = r#"{{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:	{{.Version}}
 API version:	{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:	{{.GoVersion}}
 Git commit:	{{.GitCommit}}
 Built:	{{.BuildTime}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
 Experimental:	{{.Experimental}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:	{{.Version}}
  API version:	{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:	{{index .Details "GoVersion"}}
  Git commit:	{{index .Details "GitCommit"}}
  Built:	{{index .Details "BuildTime"}}
  OS/Arch:	{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:	{{index .Details "Experimental"}}
  {{- else }}
  Version:	{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:	{{$value}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}"#;

/// The version record: docker 20.10.24's client (the CLI whose output layerbox follows, as
/// Debian's `docker.io` prints it) and, as the server, `platform` with its `components`.
/// One place for the client block, shared by the simulated and the Linux engine.
#[must_use]
pub fn version_record(platform: &str, components: &[Value]) -> Value {
    serde_json::json!({
        "Client": {
            "Platform": {"Name": ""},
            "Version": "20.10.24+dfsg1",
            "APIVersion": "1.41",
            "DefaultAPIVersion": "1.41",
            "GoVersion": "go1.19.8",
            "GitCommit": "297e128",
            "BuildTime": "Tue Jul  4 12:00:00 2023",
            "Os": "linux",
            "Arch": "amd64",
            "Context": "default",
            "Experimental": true,
        },
        "ServerOK": true,
        "Server": {
            "Platform": {"Name": platform},
            "Components": components,
        },
    })
}

/// `docker version` output for `info`, with the user's `--format` if given.
pub fn render_version(info: &Value, format: Option<&str>) -> Result<String, FormatError> {
    let template = Template::parse(format.unwrap_or(VERSION_TEMPLATE))?;
    let mut out = template.execute(info)?;
    out.push('\n');
    Ok(TabWriter {
        min_width: 20,
        padding: 1,
    }
    .format(&out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_custom_format_goes_through_the_same_writer() {
        let info = json!({"Client": {"Version": "1.0"}, "Server": {"Version": "2.0"}});
        assert_eq!(
            render_version(&info, Some("{{.Client.Version}}")).unwrap(),
            "1.0\n"
        );
        assert_eq!(
            render_version(&info, Some("a\t{{.Server.Version}}")).unwrap(),
            "a                   2.0\n"
        );
    }

    #[test]
    fn without_a_server_only_the_client_prints() {
        let info = json!({"Client": {"Platform": {"Name": ""}, "Version": "1", "APIVersion": "1.41",
            "DefaultAPIVersion": "1.41", "GoVersion": "go", "GitCommit": "c", "BuildTime": "t",
            "Os": "linux", "Arch": "amd64", "Context": "default", "Experimental": true},
            "ServerOK": false});
        let out = render_version(&info, None).unwrap();
        assert!(out.starts_with("Client:\n Version:           1\n"));
        assert!(out.ends_with(" Experimental:      true\n"));
    }
}
