//! A project saved to a JSON file and opened again (the header's Export and Import; the worker
//! does both, the page only downloads and reads the file): the
//! editor's files and the terminal's command history. An import is checked as a share link is
//! (a Dockerfile, relative paths, bounded sizes); a damaged or hostile file is refused with the
//! reason and leaves the playground as it was.

use serde::{Deserialize, Serialize};

use crate::protocol::ProjectFile;
use crate::share::check_files;

/// The largest file an import reads.
pub const MAX_BYTES: usize = 16 << 20;
/// The most history lines an import keeps.
pub const MAX_HISTORY: usize = 1000;
const KIND: &str = "layerbox project";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    format: String,
    version: u32,
    files: Vec<ProjectFile>,
    #[serde(default)]
    history: Vec<String>,
}

/// The JSON text of a project: its files and the commands typed so far.
pub fn export(files: &[ProjectFile], history: &[String]) -> String {
    let saved = Saved {
        format: KIND.into(),
        version: VERSION,
        files: files.to_vec(),
        history: history.to_vec(),
    };
    serde_json::to_string_pretty(&saved).unwrap_or_default()
}

/// The files and history of an exported project, or why the text is not one.
pub fn import(text: &str) -> Result<(Vec<ProjectFile>, Vec<String>), String> {
    let bad = |why: String| format!("this file is not a layerbox project ({why})");
    if text.len() > MAX_BYTES {
        return Err(bad(format!(
            "{} MB; at most {} MB",
            text.len() >> 20,
            MAX_BYTES >> 20
        )));
    }
    let saved: Saved = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if saved.format != KIND {
        return Err(bad(format!("its format is {:?}", saved.format)));
    }
    if saved.version != VERSION {
        return Err(bad(format!(
            "version {} is newer than this playground",
            saved.version
        )));
    }
    check_files(&saved.files).map_err(bad)?;
    if saved.history.len() > MAX_HISTORY || saved.history.iter().any(|l| l.len() > 4096) {
        return Err(bad("its command history is too long".into()));
    }
    Ok((saved.files, saved.history))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<ProjectFile> {
        vec![
            ProjectFile {
                path: "Dockerfile".into(),
                contents: "FROM alpine:3.20\nCOPY app.sh /\n".into(),
            },
            ProjectFile {
                path: "src/app.sh".into(),
                contents: "echo \"hi\"\n".into(),
            },
        ]
    }

    #[test]
    fn an_export_imports_back_to_the_same_files_and_history() {
        let history = vec!["docker build -t a .".to_owned(), "docker images".to_owned()];
        let text = export(&files(), &history);
        assert!(text.contains("\"format\": \"layerbox project\""), "{text}");
        assert_eq!(import(&text).unwrap(), (files(), history));
    }

    #[test]
    fn damaged_or_hostile_files_are_refused_with_the_reason() {
        let cases = [
            ("{", "EOF while parsing"),
            ("\"text\"", "invalid type"),
            (
                r#"{"format":"something else","version":1,"files":[]}"#,
                "its format is \"something else\"",
            ),
            (
                r#"{"format":"layerbox project","version":9,"files":[]}"#,
                "version 9 is newer",
            ),
            (
                r#"{"format":"layerbox project","version":1,"files":[]}"#,
                "no Dockerfile",
            ),
            (
                r#"{"format":"layerbox project","version":1,"files":[{"path":"Dockerfile","contents":""},{"path":"../etc/passwd","contents":""}]}"#,
                "invalid file name \"../etc/passwd\"",
            ),
        ];
        for (text, why) in cases {
            let err = import(text).unwrap_err();
            assert!(
                err.starts_with("this file is not a layerbox project ("),
                "{err}"
            );
            assert!(err.contains(why), "{text}: {err}");
        }
        let long = vec!["x".to_owned(); MAX_HISTORY + 1];
        assert!(
            import(&export(&files(), &long))
                .unwrap_err()
                .contains("history")
        );
        let huge = " ".repeat(MAX_BYTES + 1);
        assert!(import(&huge).unwrap_err().contains("at most 16 MB"));
    }
}
