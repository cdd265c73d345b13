//! Share links and saved state: a project's files (or the engine's state) as compressed text.
//!
//! A share link's fragment is `p=` followed by base64url (no padding) of the DEFLATE-compressed
//! JSON `{"v":1,"files":[{"path":…,"contents":…}],"journal":{…}}`: no server holds anything, the
//! link is the project and the commands that were run on it ([`Journal`], left out when empty),
//! which the page replays. Reading one checks everything (size, encoding, version, paths), so a corrupt or
//! hostile link gives a message, never a half-loaded project.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};

use crate::protocol::{Journal, ProjectFile};

/// The most bytes a share link or saved state may inflate to (a project is a few files).
pub const MAX_INFLATED: u64 = 64 << 20;
/// The most files a shared project may hold.
pub const MAX_FILES: usize = 200;
/// The most commands a share link may replay.
pub const MAX_COMMANDS: usize = 2000;
/// The longest command line a share link may carry.
pub const MAX_LINE: usize = 4096;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Shared {
    v: u32,
    files: Vec<ProjectFile>,
    #[serde(default, skip_serializing_if = "Journal::is_empty")]
    journal: Journal,
}

/// Compresses `bytes` and encodes them as base64url.
pub fn pack(bytes: &[u8]) -> String {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    let deflated = enc.finish().unwrap_or_default();
    URL_SAFE_NO_PAD.encode(deflated)
}

/// Decodes and inflates what [`pack`] made, refusing more than [`MAX_INFLATED`] bytes.
pub fn unpack(text: &str) -> Result<Vec<u8>, String> {
    unpack_at_most(text, MAX_INFLATED)
}

fn unpack_at_most(text: &str, limit: u64) -> Result<Vec<u8>, String> {
    let deflated = URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .map_err(|e| format!("not base64url: {e}"))?;
    let mut out = Vec::new();
    DeflateDecoder::new(deflated.as_slice())
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not compressed data: {e}"))?;
    if out.len() as u64 > limit {
        return Err("too large".into());
    }
    Ok(out)
}

/// The fragment (without `#`) of a share link carrying `files` and the commands of `journal`.
pub fn encode(files: &[ProjectFile], journal: &Journal) -> String {
    let shared = Shared {
        v: VERSION,
        files: files.to_vec(),
        journal: journal.clone(),
    };
    let json = serde_json::to_vec(&shared).unwrap_or_default();
    format!("p={}", pack(&json))
}

/// The files and commands a share link's fragment carries.
pub fn decode(fragment: &str) -> Result<(Vec<ProjectFile>, Journal), String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let data = fragment
        .strip_prefix("p=")
        .ok_or("this link carries no project (its fragment does not start with p=)")?;
    let bad = |why: String| format!("this share link is damaged: {why}");
    let json = unpack(data).map_err(bad)?;
    let shared: Shared =
        serde_json::from_slice(&json).map_err(|e| bad(format!("not a project: {e}")))?;
    if shared.v != VERSION {
        return Err(format!(
            "this share link was made by another version of layerbox (format {})",
            shared.v
        ));
    }
    check_files(&shared.files).map_err(bad)?;
    check_journal(&shared.journal).map_err(bad)?;
    Ok((shared.files, shared.journal))
}

/// Whether a journal can be replayed: at most [`MAX_COMMANDS`] single lines of at most
/// [`MAX_LINE`] bytes, each naming a set of files that [`check_files`] accepts.
pub fn check_journal(journal: &Journal) -> Result<(), String> {
    if journal.entries.len() > MAX_COMMANDS {
        return Err(format!(
            "{} commands (at most {MAX_COMMANDS})",
            journal.entries.len()
        ));
    }
    for (line, context) in &journal.entries {
        if line.len() > MAX_LINE || line.contains('\n') {
            return Err("a command is not one line of at most 4096 bytes".into());
        }
        if *context >= journal.contexts.len() {
            return Err(format!(
                "command `{line}` names files the link does not carry"
            ));
        }
    }
    journal
        .contexts
        .iter()
        .try_for_each(|files| check_files(files))
}

/// Whether a project's files are ones the editor can hold: a `Dockerfile`, relative paths
/// without `..`, no duplicates, at most [`MAX_FILES`].
pub fn check_files(files: &[ProjectFile]) -> Result<(), String> {
    if files.len() > MAX_FILES {
        return Err(format!("{} files (at most {MAX_FILES})", files.len()));
    }
    if !files.iter().any(|f| f.path == "Dockerfile") {
        return Err("no Dockerfile".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in files {
        check_path(&f.path)?;
        if !seen.insert(f.path.as_str()) {
            return Err(format!("{} appears twice", f.path));
        }
    }
    Ok(())
}

/// Whether `path` can name a file of the build context.
pub fn check_path(path: &str) -> Result<(), String> {
    let ok = !path.is_empty()
        && path.len() <= 255
        && !path.starts_with('/')
        && !path.ends_with('/')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && !path.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(format!("invalid file name {path:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<ProjectFile> {
        vec![
            ProjectFile {
                path: "Dockerfile".into(),
                contents: "FROM alpine:3.20\nCOPY . /app\n".into(),
            },
            ProjectFile {
                path: "src/é.txt".into(),
                contents: "héllo\n".repeat(100),
            },
        ]
    }

    #[test]
    fn a_link_carries_the_files_back() {
        let fragment = encode(&files(), &Journal::default());
        assert!(fragment.starts_with("p="));
        assert!(
            fragment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=-_".contains(&b)),
            "{fragment}"
        );
        // Compressed: the repeated text takes far fewer bytes than it inflates to.
        assert!(fragment.len() < 200, "{}", fragment.len());
        assert_eq!(decode(&fragment).unwrap(), (files(), Journal::default()));
        assert_eq!(decode(&format!("#{fragment}")).unwrap().0, files());
    }

    #[test]
    fn a_link_carries_the_commands_and_the_files_each_ran_with() {
        let mut edited = files();
        edited[0].contents.push_str("RUN echo hi\n");
        let mut journal = Journal::default();
        journal.record("docker build -t app .", &files());
        journal.record("docker run -d --name web app", &files());
        journal.record("docker build -t app:2 .", &edited);
        // A set of files is kept once while it does not change.
        assert_eq!(journal.contexts.len(), 2);
        let (back, replay) = decode(&encode(&edited, &journal)).unwrap();
        assert_eq!(back, edited);
        let commands: Vec<(&str, &[ProjectFile])> = replay.commands().collect();
        assert_eq!(
            commands,
            [
                ("docker build -t app .", files().as_slice()),
                ("docker run -d --name web app", files().as_slice()),
                ("docker build -t app:2 .", edited.as_slice()),
            ]
        );
        // Hostile journals: a command naming files the link lacks, a second line smuggled in.
        let json = |s: &str| format!("p={}", pack(s.as_bytes()));
        let dockerfile = r#"[{"path":"Dockerfile","contents":""}]"#;
        let missing = format!(
            r#"{{"v":1,"files":{dockerfile},"journal":{{"contexts":[],"entries":[["docker ps",0]]}}}}"#
        );
        assert!(
            decode(&json(&missing))
                .unwrap_err()
                .contains("does not carry")
        );
        let two_lines = format!(
            r#"{{"v":1,"files":{dockerfile},"journal":{{"contexts":[{dockerfile}],"entries":[["docker ps\nrm",0]]}}}}"#
        );
        assert!(decode(&json(&two_lines)).unwrap_err().contains("one line"));
    }

    #[test]
    fn damaged_or_hostile_links_are_refused_with_a_reason() {
        assert!(decode("x=1").unwrap_err().contains("no project"));
        assert!(decode("p=!!!").unwrap_err().contains("not base64url"));
        assert!(decode("p=aGVsbG8").unwrap_err().contains("not compressed"));
        let json = |s: &str| format!("p={}", pack(s.as_bytes()));
        assert!(
            decode(&json("[1,2]"))
                .unwrap_err()
                .contains("not a project")
        );
        assert!(
            decode(&json(r#"{"v":9,"files":[]}"#))
                .unwrap_err()
                .contains("another version")
        );
        assert!(
            decode(&json(r#"{"v":1,"files":[]}"#))
                .unwrap_err()
                .contains("no Dockerfile")
        );
        let escape = r#"{"v":1,"files":[{"path":"Dockerfile","contents":""},{"path":"../etc/passwd","contents":""}]}"#;
        assert!(
            decode(&json(escape))
                .unwrap_err()
                .contains("invalid file name")
        );
        let twice = r#"{"v":1,"files":[{"path":"Dockerfile","contents":""},{"path":"Dockerfile","contents":"x"}]}"#;
        assert!(decode(&json(twice)).unwrap_err().contains("appears twice"));
    }

    #[test]
    fn a_compression_bomb_stops_at_the_limit() {
        let packed = pack(&[b'a'; 5000]);
        assert_eq!(unpack_at_most(&packed, 4999).unwrap_err(), "too large");
        assert_eq!(unpack_at_most(&packed, 5000).unwrap().len(), 5000);
    }

    #[test]
    fn paths_of_the_context() {
        for ok in ["Dockerfile", ".dockerignore", "src/app.js", "a b.txt"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/abs", "dir/", "a//b", "./x", "a/../b", "..", "x\ny"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
    }
}
