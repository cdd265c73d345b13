//! `docker import`: an image of one layer from a rootfs tarball (plain or gzip), read with the
//! layer tar reader, which refuses what would land outside the root (`../` members) and what the
//! simulated filesystem cannot hold (device nodes), each with a clear error.
//!
//! As in docker, the tarball is what the client sends: the file named on the command line or
//! stdin (`-`) alike, so the history comment is `Imported from -` unless `-m` gives one, and the
//! layer's diff_id is the sha256 of the uncompressed tarball as sent.

use std::io::Read;
use std::sync::Arc;

use super::commands::apply_change;
use super::{Engine, Output};
use crate::cli::command::ImportOptions;
use crate::cli::report::daemon_error;
use crate::cli::rows::rfc3339;
use crate::fs::tar::read_layer;
use crate::image::{Digest, History, ImageConfig, Reference, RootFs};

/// The comment docker records when `import` has no `-m`.
pub const IMPORTED_COMMENT: &str = "Imported from -";

/// The tarball uncompressed (gzip is the compression the simulation reads).
fn uncompressed(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

impl Engine {
    /// `import`: the tarball is the engine's stdin (the front end reads the file or stdin into
    /// it, as docker's client streams either to the daemon). Returns the exit code, or the
    /// error text and exit code.
    pub(super) fn import(
        &mut self,
        o: &ImportOptions,
        out: &mut Output,
    ) -> Result<u8, (String, u8)> {
        if o.source.contains("://") {
            return Err((
                daemon_error(&format!(
                    "{}: the simulated engine has no network to download from",
                    o.source
                )),
                1,
            ));
        }
        let reference = o
            .reference
            .as_deref()
            .map(|r| Reference::parse_normalized(r).map(Reference::with_default_tag))
            .transpose()
            .map_err(|e| (e.to_string(), 1))?;
        let tar_error = |e: String| {
            (
                daemon_error(&format!("Error processing tar file(exit status 1): {e}")),
                1,
            )
        };
        let bytes = uncompressed(&std::mem::take(&mut self.stdin)).map_err(tar_error)?;
        let layer = read_layer(&bytes).map_err(|e| tar_error(e.to_string()))?;
        let diff_id = Digest::sha256_of(&bytes);
        let created = rfc3339(self.now());
        let mut config = ImageConfig {
            created: Some(created.clone()),
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![diff_id],
            },
            history: vec![History {
                created: Some(created),
                comment: Some(
                    o.message
                        .clone()
                        .unwrap_or_else(|| IMPORTED_COMMENT.to_owned()),
                ),
                ..History::default()
            }],
            ..ImageConfig::default()
        };
        // docker writes the whole container config: empty strings where nothing is set.
        config.config.user = Some(String::new());
        config.config.working_dir = Some(String::new());
        if let Some(platform) = &o.platform {
            let mut parts = platform.split('/');
            if let (Some(os), Some(arch)) = (parts.next(), parts.next()) {
                os.clone_into(&mut config.os);
                arch.clone_into(&mut config.architecture);
                config.variant = parts.next().map(str::to_owned);
            }
        }
        for change in &o.changes {
            apply_change(&mut config, change).map_err(|e| (daemon_error(&e), 1))?;
        }
        let index = self.store_image(
            config,
            &[Arc::new(layer)],
            reference.into_iter().collect(),
            None,
            out,
        );
        out.out(format!("{}\n", self.state.images[index].id));
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Engine, EngineState, Output};
    use crate::fs::tar::{TarOptions, write_layer};
    use crate::fs::{Entry, Layer, Meta};
    use crate::image::Digest;

    fn rootfs() -> Vec<u8> {
        let mut layer = Layer::new();
        layer.insert("bin", Entry::dir(Meta::new(0o755, 0)));
        layer.insert("bin/sh", Entry::file(Meta::new(0o755, 0), "#!"));
        layer.insert("etc", Entry::dir(Meta::new(0o755, 0)));
        layer.insert(
            "etc/passwd",
            Entry::file(Meta::new(0o644, 0), "root:x:0:0::/:/bin/sh\n"),
        );
        write_layer(&layer, &TarOptions { mtime: Some(0) })
    }

    fn import(engine: &mut Engine, input: &[u8], args: &[&str]) -> (u8, Output) {
        let mut out = Output::default();
        engine.set_stdin(input);
        let argv: Vec<&str> = ["docker", "import"].iter().chain(args).copied().collect();
        let code = engine.execute(&argv, &mut out);
        (code, out)
    }

    #[test]
    fn a_rootfs_tarball_becomes_a_one_layer_image_as_in_docker() {
        let mut engine = Engine::new(EngineState::default());
        let tar = rootfs();
        let (code, out) = import(&mut engine, &tar, &["-", "base:1"]);
        assert_eq!(code, 0, "{}", out.stderr());
        let state = engine.into_state();
        let image = &state.images[0];
        assert_eq!(out.stdout(), format!("{}\n", image.id));
        assert_eq!(image.config.rootfs.diff_ids, [Digest::sha256_of(&tar)]);
        assert_eq!(image.config.history.len(), 1);
        assert_eq!(
            image.config.history[0].comment.as_deref(),
            Some("Imported from -")
        );
        assert_eq!(image.config.history[0].created_by, None);
        assert_eq!(image.repo_tags[0].familiar(), "base:1");
        let layer = &state.layers[&image.config.rootfs.diff_ids[0]];
        assert!(layer.entry("etc/passwd").is_some());
    }

    #[test]
    fn message_changes_gzip_and_bad_input() {
        let mut engine = Engine::new(EngineState::default());
        let gz = crate::fs::tar::gzip(&rootfs());
        let (code, out) = import(
            &mut engine,
            &gz,
            &["-m", "hello", "-c", "CMD [\"sh\"]", "-", "x"],
        );
        assert_eq!(code, 0, "{}", out.stderr());
        let state = engine.state().clone();
        let image = &state.images[0];
        assert_eq!(image.config.history[0].comment.as_deref(), Some("hello"));
        assert_eq!(
            image.config.config.cmd.as_deref(),
            Some(&["sh".to_owned()][..])
        );
        // The diff_id is the digest of the uncompressed tarball.
        assert_eq!(image.config.rootfs.diff_ids, [Digest::sha256_of(&rootfs())]);

        let mut evil = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.as_gnu_mut().unwrap().name[..8].copy_from_slice(b"../evil\0");
        h.set_cksum();
        evil.append(&h, &b"x"[..]).unwrap();
        let (code, out) = import(&mut engine, &evil.into_inner().unwrap(), &["-", "evil"]);
        assert_eq!(code, 1);
        assert_eq!(
            out.stderr(),
            "Error response from daemon: Error processing tar file(exit status 1): invalid layer tar: `../evil` is outside of the root\n"
        );
        let (code, out) = import(&mut engine, &rootfs(), &["-", "Bad:Name"]);
        assert_eq!(
            (code, out.stderr()),
            (
                1,
                "invalid reference format: repository name must be lowercase\n".to_owned()
            )
        );
        assert_eq!(engine.state().images.len(), 1);
    }
}
