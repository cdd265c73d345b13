//! Images that come from outside the engine (`load`, `pull`): their ID is the digest of the
//! config bytes as received, which need not be the bytes [`ImageConfig::to_json`] would write
//! (docker's configs carry fields the model drops), so it is given, not recomputed.

use std::sync::Arc;

use super::commands::parse_rfc3339;
use super::{Engine, Event, Image, Output};
use crate::fs::Layer;
use crate::image::{Digest, ImageConfig, Reference};

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
