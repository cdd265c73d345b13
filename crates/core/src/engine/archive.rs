//! Images in and out of the engine: `save`, `load` and `export`, and images that come from
//! outside (`load`, `pull`), whose ID is the digest of the config bytes as received, which need
//! not be the bytes [`ImageConfig::to_json`] would write (docker's configs carry fields the model
//! drops), so it is given, not recomputed.
//!
//! The simulated engine writes archives from the layers it holds, and only when every file in
//! them has real bytes: a modelled base image (`python:3.9-slim`) has files that are a size and
//! a digest, which no archive can carry, and `save` says so naming one. The Linux engine writes
//! the same archives with the same [`crate::image::archive`] writers, streaming from its store.

use std::io::Read;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::commands::parse_rfc3339;
use super::{Engine, Event, Image, Output};
use crate::cli::command::{ExportOptions, LoadOptions, SaveOptions};
use crate::cli::report::daemon_error;
use crate::fs::tar::{TarOptions, read_layer, write_layer};
use crate::fs::{Change, Entry, EntryKind, FileData, FileType, Layer};
use crate::image::archive::{
    self, ArchiveError, ArchiveImage, ArchiveView, Format, MemoryArchive, TarSink, VerifyingReader,
    plan_load,
};
use crate::image::{Digest, ImageConfig, Reference, human_size};

/// An archive `save` or `export` made, for the front end to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveOutput {
    /// `-o`'s file; `None` for stdout.
    pub path: Option<String>,
    /// Whether to unpack it as a directory at `path` (`save --format oci-dir`).
    pub directory: bool,
    /// The tar's bytes.
    pub bytes: Vec<u8>,
}

/// `save --format`'s value: the format, and whether it is a directory (`oci-dir`).
pub fn save_format(o: &SaveOptions) -> Result<(Format, bool), String> {
    match o.format.as_deref() {
        None => Ok((Format::DockerArchive, false)),
        Some(name) => archive::parse_format(name).ok_or_else(|| {
            format!(
                "invalid argument {name:?} for \"--format\" flag: expected docker-archive, oci-archive or oci-dir"
            )
        }),
    }
}

/// The first file of `layer` whose content is only modelled (a size and a digest), if any.
fn modelled_file(layer: &Layer) -> Option<(&str, u64)> {
    layer.iter().find_map(|(path, change)| match change {
        Change::Entry(Entry {
            kind: EntryKind::File(FileData::Simulated { size, .. }),
            ..
        }) => Some((path, *size)),
        _ => None,
    })
}

/// Why something holding the modelled file `path` cannot be written as a real archive.
pub(super) fn modelled_error(what: &str, path: &str, size: u64) -> String {
    format!(
        "cannot write {what} as an archive: its file /{path} ({}) is modelled by the simulation, a size and a digest without bytes; only images whose files all have real bytes (FROM scratch, imported or loaded, with COPY and RUN writing files) can be written",
        human_size(size)
    )
}

type Failed = (String, u8);

fn failed(e: impl std::fmt::Display) -> Failed {
    (daemon_error(&e.to_string()), 1)
}

impl Engine {
    /// Records image `id` (the sha256 of its config bytes) with `config`, the layers it has in
    /// memory (`layers`, by diff_id; empty when the host keeps them, as the Linux store does),
    /// its size in docker's sense, and `tags`, each taken from any image holding it before, as
    /// `docker load` and `docker pull` do. Returns the image's index.
    pub fn add_image(
        &mut self,
        id: Digest,
        config: ImageConfig,
        layers: &[(Digest, Arc<Layer>)],
        size: u64,
        tags: Vec<Reference>,
        out: &mut Output,
    ) -> usize {
        for (d, layer) in layers {
            self.state
                .layers
                .entry(*d)
                .or_insert_with(|| Arc::clone(layer));
        }
        let index = if let Some(i) = self.state.images.iter().position(|i| i.id == id) {
            i
        } else {
            let created = config
                .created
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or_else(|| self.now());
            self.state.images.push(Image {
                id,
                config,
                repo_tags: Vec::new(),
                created,
                parent: None,
                size,
            });
            out.events.push(Event::ImageCreated { id });
            self.state.images.len() - 1
        };
        for tag in tags {
            self.add_tag(index, tag, out);
        }
        index
    }

    /// Records a loaded image as [`Engine::add_image`] does, printing docker's lines: for
    /// each tag, `The image … already exists, renaming the old one …` when it moves, then
    /// `Loaded image: name:tag`; `Loaded image ID: sha256:…` for an image without tags.
    pub fn load_image(
        &mut self,
        id: Digest,
        config: ImageConfig,
        layers: &[(Digest, Arc<Layer>)],
        size: u64,
        tags: Vec<Reference>,
        out: &mut Output,
    ) -> usize {
        let index = self.add_image(id, config, layers, size, Vec::new(), out);
        if tags.is_empty() {
            out.out(format!("Loaded image ID: {id}\n"));
        }
        for tag in tags {
            if let Some(old) = self
                .state
                .images
                .iter()
                .find(|i| i.id != id && i.repo_tags.contains(&tag))
            {
                out.out(format!(
                    "The image {} already exists, renaming the old one with ID {} to empty string\n",
                    tag.familiar(),
                    old.id
                ));
            }
            let name = tag.familiar();
            self.add_tag(index, tag, out);
            out.out(format!("Loaded image: {name}\n"));
        }
        index
    }

    /// The images `save` writes for `names`, each once, with the names it is saved under, by
    /// docker's rules: `name:tag` saves that tag, a bare `name` every tag of that repository,
    /// an ID (full or short) the image without names.
    pub fn save_selection(
        &self,
        names: &[String],
    ) -> Result<Vec<(Digest, Vec<Reference>)>, String> {
        let mut chosen: Vec<(Digest, Vec<Reference>)> = Vec::new();
        let mut add = |id: Digest, tag: Option<Reference>| {
            let i = chosen
                .iter()
                .position(|(c, _)| *c == id)
                .unwrap_or_else(|| {
                    chosen.push((id, Vec::new()));
                    chosen.len() - 1
                });
            if let Some(tag) = tag
                && !chosen[i].1.contains(&tag)
            {
                chosen[i].1.push(tag);
            }
        };
        for name in names {
            let hex = name.strip_prefix("sha256:").unwrap_or(name);
            let full_id = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
            if full_id || name.starts_with("sha256:") {
                let image = self
                    .find_image(name)
                    .ok_or_else(|| daemon_error(&format!("No such image: {name}")))?;
                add(image.id, None);
                continue;
            }
            let reference =
                Reference::parse_normalized(name).map_err(|e| daemon_error(&e.to_string()))?;
            if reference.tag().is_none() && reference.digest().is_none() {
                let mut any = false;
                for image in &self.state.images {
                    for tag in image
                        .repo_tags
                        .iter()
                        .filter(|t| t.name() == reference.name())
                    {
                        add(image.id, Some(tag.clone()));
                        any = true;
                    }
                }
                if !any {
                    let image = self
                        .find_image(name)
                        .ok_or_else(|| daemon_error(&format!("No such image: {name}")))?;
                    add(image.id, None);
                }
                continue;
            }
            let image = self
                .state
                .images
                .iter()
                .find(|i| i.repo_tags.contains(&reference))
                .ok_or_else(|| daemon_error("reference does not exist"))?;
            add(image.id, Some(reference));
        }
        Ok(chosen)
    }

    /// The config bytes of image `id`: as loaded, or as the model writes them.
    fn config_bytes(&self, image: &Image) -> Vec<u8> {
        self.state
            .configs
            .get(&image.id)
            .map_or_else(|| image.config.to_json(), |c| c.clone().into_bytes())
    }

    /// `save` on the simulated engine: the archive of the images `names` names, from the
    /// layers the engine holds (each must have real bytes and write back to its diff_id).
    pub fn save_archive(&self, names: &[String], format: Format) -> Result<Vec<u8>, String> {
        let mut images = Vec::new();
        for (id, tags) in self.save_selection(names)? {
            let Some(image) = self.state.images.iter().find(|i| i.id == id) else {
                continue;
            };
            images.push(
                ArchiveImage::new(self.config_bytes(image), tags)
                    .map_err(|e| daemon_error(&e.to_string()))?,
            );
        }
        let mut tars = std::collections::BTreeMap::new();
        let needed = archive::needed_layers(&images);
        let mut held = Vec::with_capacity(needed.len());
        for d in needed {
            let layer =
                self.state.layers.get(&d).ok_or_else(|| {
                    daemon_error(&format!("layer {d} is not in the simulated store"))
                })?;
            // modelled content first: it is the reason that matters to the learner
            if let Some((path, size)) = modelled_file(layer) {
                let name = names.join(", ");
                return Err(daemon_error(&modelled_error(&name, path, size)));
            }
            held.push((d, layer));
        }
        for (d, layer) in held {
            let tar = write_layer(layer, &TarOptions::default());
            if Digest::sha256_of(&tar) != d {
                return Err(daemon_error(&format!(
                    "cannot write layer {d} as an archive: the simulated engine keeps its files, not the tar whose digest is its diff_id (an imported or loaded layer); layers it builds itself with COPY and RUN write back exactly"
                )));
            }
            tars.insert(d, tar);
        }
        let mut layers = |d: &Digest| {
            tars.get(d)
                .cloned()
                .ok_or_else(|| std::io::Error::other(format!("layer {d} is missing")))
        };
        let mut sink = TarSink::new(Vec::new());
        archive::write(format, &images, &mut layers, &mut sink)
            .map_err(|e| daemon_error(&e.to_string()))?;
        sink.finish().map_err(|e| daemon_error(&e.to_string()))
    }

    /// `save`: the archive goes to [`Output::archive`] for the front end to write.
    pub(super) fn save(&mut self, o: &SaveOptions, out: &mut Output) -> Result<u8, Failed> {
        let (format, directory) = save_format(o).map_err(|e| (e, 125))?;
        let bytes = self.save_archive(&o.images, format).map_err(|e| (e, 1))?;
        out.archive = Some(ArchiveOutput {
            path: o.output.clone(),
            directory,
            bytes,
        });
        Ok(0)
    }

    /// `export`: the container's merged filesystem as a tar, to [`Output::archive`].
    pub(super) fn export(&mut self, o: &ExportOptions, out: &mut Output) -> Result<u8, Failed> {
        let bytes = self.export_container(&o.container)?;
        out.archive = Some(ArchiveOutput {
            path: o.output.clone(),
            directory: false,
            bytes,
        });
        Ok(0)
    }

    /// A container's filesystem as one tar (what `docker export` writes): every file of its
    /// image's layers and its own layer, merged.
    pub fn export_container(&self, name: &str) -> Result<Vec<u8>, Failed> {
        let i = self.find_container(name).map_err(failed)?;
        let container = &self.state.containers[i];
        let fs = self.container_fs_with(container, false).map_err(failed)?;
        let mut flat = Layer::new();
        for (path, stat) in fs.walk("/").map_err(failed)? {
            let key = path.trim_start_matches('/');
            if key.is_empty() {
                continue;
            }
            let meta = stat.meta();
            let entry = match stat.file_type {
                FileType::Dir => Entry::dir(meta),
                FileType::Symlink => Entry::symlink(meta, fs.read_link(&path).map_err(failed)?),
                FileType::File => {
                    let data = fs.read(&path).map_err(failed)?;
                    if let FileData::Simulated { size, .. } = data {
                        return Err(failed(modelled_error(
                            &format!("container {name}"),
                            key,
                            *size,
                        )));
                    }
                    Entry {
                        meta,
                        kind: EntryKind::File(data.clone()),
                    }
                }
            };
            flat.insert(key, entry);
        }
        Ok(write_layer(&flat, &TarOptions::default()))
    }

    /// `load`: the archive is the engine's stdin (the front end reads `-i`'s file or stdin
    /// into it). Every image is read and checked before any is recorded.
    pub(super) fn load(&mut self, _o: &LoadOptions, out: &mut Output) -> Result<u8, Failed> {
        let bytes = std::mem::take(&mut self.stdin);
        if bytes.is_empty() {
            return Err(failed("unexpected EOF"));
        }
        let mut files = MemoryArchive::from_tar(&bytes).map_err(failed)?;
        drop(bytes);
        let plan = plan_load(&mut files).map_err(failed)?;
        let mut ready = Vec::with_capacity(plan.len());
        for image in plan {
            let mut layers = Vec::with_capacity(image.layers.len());
            let mut size = 0;
            for (index, l) in image.layers.iter().enumerate() {
                let tar = read_blob(&mut files, l).map_err(failed)?;
                let actual = Digest::sha256_of(&tar);
                if actual != l.diff_id {
                    return Err(failed(format!(
                        "invalid diffID for layer {index}: expected \"{}\", got \"{actual}\"",
                        l.diff_id
                    )));
                }
                let layer = read_layer(&tar).map_err(failed)?;
                size += layer.size();
                layers.push((l.diff_id, Arc::new(layer)));
            }
            ready.push((image, layers, size));
        }
        for (image, layers, size) in ready {
            let id = image.id();
            if image.parsed.id() != id {
                self.state
                    .configs
                    .insert(id, String::from_utf8_lossy(&image.config).into_owned());
            }
            self.load_image(id, image.parsed, &layers, size, image.tags, out);
        }
        Ok(0)
    }
}

/// A layer's uncompressed tar from an archive in memory: its blob checked against the digest
/// the archive names it by (if any), gunzipped when compressed.
fn read_blob(files: &mut MemoryArchive, l: &archive::LoadLayer) -> Result<Vec<u8>, ArchiveError> {
    let blob = files
        .read(&l.path)?
        .ok_or_else(|| ArchiveError::Missing("the manifest", l.path.clone()))?;
    let mut checked = Vec::with_capacity(blob.len());
    match l.blob {
        Some((digest, size)) => {
            VerifyingReader::new(blob.as_slice(), &l.path, digest, size)
                .read_to_end(&mut checked)?;
        }
        None => checked = blob,
    }
    if !checked.starts_with(&[0x1f, 0x8b]) {
        return Ok(checked);
    }
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(checked.as_slice()).read_to_end(&mut tar)?;
    Ok(tar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineState;

    #[test]
    fn an_added_image_keeps_its_given_id_and_takes_its_tags_from_others() {
        let mut engine = Engine::new(EngineState::default());
        let mut out = Output::default();
        let tag: Reference = "app:1".parse().unwrap();
        let raw = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"docker_version":"20.10"}"#;
        let config = ImageConfig::from_json(raw).unwrap();
        let id = Digest::sha256_of(raw);
        assert_ne!(id, config.id());
        let first = engine.add_image(id, config.clone(), &[], 7, vec![tag.clone()], &mut out);
        assert_eq!(engine.state().images[first].id, id);
        assert_eq!(engine.state().images[first].size, 7);
        // a second image with the same tag takes it
        let other = ImageConfig {
            os: "other".into(),
            ..config
        };
        let second_id = other.id();
        let second = engine.add_image(second_id, other, &[], 0, vec![tag.clone()], &mut out);
        assert!(engine.state().images[first].repo_tags.is_empty());
        assert_eq!(engine.state().images[second].repo_tags, [tag]);
        // adding the same image again adds no second copy
        let again = engine.add_image(second_id, ImageConfig::default(), &[], 0, vec![], &mut out);
        assert_eq!(again, second);
        assert_eq!(engine.state().images.len(), 2);
    }
}
