//! What a COPY/ADD source is (a build-context path, a URL, a git repository) and the rules
//! BuildKit applies to them once they are expanded (spec §13.8).
//!
//! ```
//! use layerbox_core::dockerfile::instructions::source::{SourceKind, source_kind};
//!
//! assert_eq!(source_kind("src/"), SourceKind::Local);
//! assert_eq!(source_kind("https://example.com/app.tar.gz"), SourceKind::Url);
//! assert_eq!(source_kind("https://github.com/moby/buildkit.git#v0.13:docs"), SourceKind::Git);
//! assert_eq!(source_kind("git@github.com:moby/buildkit.git"), SourceKind::Git);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{AddCommand, CopyCommand};

/// The kind of a COPY/ADD source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A path (or wildcard) in the build context or the `--from` stage.
    Local,
    /// An `http://` or `https://` URL: downloaded by ADD.
    Url,
    /// A git repository: `….git` over HTTP(S), `git@host:…`, `ssh://…`, `git://…`.
    Git,
}

/// Classifies an (expanded) source.
#[allow(clippy::case_sensitive_file_extension_comparisons)] // URL paths: `.GIT` is not git
pub fn source_kind(src: &str) -> SourceKind {
    let lower = src.to_ascii_lowercase();
    if lower.starts_with("git://") || lower.starts_with("ssh://") || src.starts_with("git@") {
        return SourceKind::Git;
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        // Only the path counts: drop `#ref:subdir` and `?query`.
        let path = src.split('#').next().unwrap_or(src);
        let path = path.split('?').next().unwrap_or(path);
        return if path.ends_with(".git") {
            SourceKind::Git
        } else {
            SourceKind::Url
        };
    }
    SourceKind::Local
}

/// A source rule violated (BuildKit's messages).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum SourceError {
    /// `COPY https://…`.
    #[error("source can't be a URL for COPY")]
    UrlForCopy,
    /// `COPY git@…`.
    #[error("source can't be a git ref for COPY")]
    GitForCopy,
    /// `ADD --checksum` with several sources.
    #[error("checksum can't be specified for multiple sources")]
    ChecksumMultipleSources,
    /// `ADD --checksum` with a local source.
    #[error("checksum requires HTTP(S) or Git sources")]
    ChecksumNeedsRemote,
    /// `--keep-git-dir` disagreeing with `?keep-git-dir=` in the URL.
    #[error("inconsistent keep-git-dir configuration")]
    InconsistentKeepGitDir,
}

/// The `keep-git-dir` query parameter of a git URL, if present.
fn url_keep_git_dir(src: &str) -> Option<bool> {
    let query = src.split('#').next()?.split_once('?')?.1;
    query.split('&').find_map(|kv| match kv.split_once('=') {
        Some(("keep-git-dir", v)) => Some(v.eq_ignore_ascii_case("true") || v == "1"),
        _ => None,
    })
}

impl CopyCommand {
    /// Checks the (expanded) sources: COPY takes neither URLs nor git refs.
    pub fn check_sources(&self) -> Result<(), SourceError> {
        for src in &self.sources.source_paths {
            match source_kind(src) {
                SourceKind::Local => {}
                SourceKind::Url => return Err(SourceError::UrlForCopy),
                SourceKind::Git => return Err(SourceError::GitForCopy),
            }
        }
        Ok(())
    }
}

impl AddCommand {
    /// Checks the (expanded) sources against `--checksum` and `--keep-git-dir`.
    pub fn check_sources(&self) -> Result<(), SourceError> {
        let paths = &self.sources.source_paths;
        if !self.checksum.is_empty() {
            if paths.len() + self.sources.source_contents.len() != 1 {
                return Err(SourceError::ChecksumMultipleSources);
            }
            if paths.iter().any(|p| source_kind(p) == SourceKind::Local) || paths.is_empty() {
                return Err(SourceError::ChecksumNeedsRemote);
            }
        }
        if let Some(flag) = self.keep_git_dir {
            for src in paths.iter().filter(|p| source_kind(p) == SourceKind::Git) {
                if url_keep_git_dir(src).is_some_and(|v| v != flag) {
                    return Err(SourceError::InconsistentKeepGitDir);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::{self, instructions::Instruction};

    fn first(src: &str) -> Instruction {
        let df = dockerfile::parse(&format!("FROM a\n{src}\n")).unwrap();
        df.stages[0].instructions[0].clone()
    }

    #[test]
    fn kinds() {
        assert_eq!(source_kind("ssh://git@host/repo"), SourceKind::Git);
        assert_eq!(source_kind("git://host/repo"), SourceKind::Git);
        assert_eq!(
            source_kind("http://host/repo.git?ref=main"),
            SourceKind::Git
        );
        assert_eq!(source_kind("HTTP://host/file"), SourceKind::Url);
        assert_eq!(source_kind("./http:/x"), SourceKind::Local);
    }

    #[test]
    fn rules() {
        let Instruction::Copy(c) = first("COPY https://x/y /d") else {
            panic!()
        };
        assert_eq!(c.check_sources(), Err(SourceError::UrlForCopy));
        let Instruction::Copy(c) = first("COPY git@h:o/r.git /d") else {
            panic!()
        };
        assert_eq!(c.check_sources(), Err(SourceError::GitForCopy));
        let Instruction::Add(a) = first("ADD --checksum=sha256:00 a b /d") else {
            panic!()
        };
        assert_eq!(a.check_sources(), Err(SourceError::ChecksumMultipleSources));
        let Instruction::Add(a) = first("ADD --checksum=sha256:00 a /d") else {
            panic!()
        };
        assert_eq!(a.check_sources(), Err(SourceError::ChecksumNeedsRemote));
        let Instruction::Add(a) = first("ADD --checksum=sha256:00 https://x/y /d") else {
            panic!()
        };
        assert_eq!(a.check_sources(), Ok(()));
        let Instruction::Add(a) =
            first("ADD --keep-git-dir=false https://h/r.git?keep-git-dir=true /d")
        else {
            panic!()
        };
        assert_eq!(
            a.check_sources().unwrap_err().to_string(),
            "inconsistent keep-git-dir configuration"
        );
    }
}
