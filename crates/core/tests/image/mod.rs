//! The image model against real docker's output (`tests/data/docker-cli`): digests and
//! references as `docker inspect` prints them, and layer and image sizes as `docker history`,
//! `docker images` and `docker save` report them.

use std::path::PathBuf;

use layerbox_core::fs::tar::{TarOptions, write_layer};
use layerbox_core::fs::{Entry, Layer, Meta};
use layerbox_core::image::{Digest, Reference, human_size, image_size};

fn sample(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/docker-cli")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The output part of a sample: without the `$ command` line and the `[exit code N]` line.
fn output(name: &str) -> String {
    let text = sample(name);
    let lines: Vec<&str> = text.lines().collect();
    lines[1..lines.len() - 1].join("\n")
}

fn one_file_layer(name: &str, content: &str) -> Layer {
    let mut layer = Layer::new();
    layer.insert(name, Entry::file(Meta::new(0o644, 0), content));
    layer
}

#[test]
fn inspect_digests_and_tags_parse() {
    let json: serde_json::Value =
        serde_json::from_str(&output("inspect-image-tiny-buildkit.json.txt")).unwrap();
    let image = &json[0];
    let id: Digest = image["Id"].as_str().unwrap().parse().unwrap();
    assert_eq!(id.short(), "d885d06f9e5e");
    for layer in image["RootFS"]["Layers"].as_array().unwrap() {
        let d: Digest = layer.as_str().unwrap().parse().unwrap();
        assert_eq!(d.to_string(), layer.as_str().unwrap());
    }
    let tag = image["RepoTags"][0].as_str().unwrap();
    let r: Reference = tag.parse().unwrap();
    assert_eq!(r.to_string(), "docker.io/anchors/tiny:buildkit");
    assert_eq!(r.familiar(), tag);
}

#[test]
fn layer_and_image_sizes_match_docker() {
    // anchors/tiny: `RUN echo hi > /a` then `COPY hello.txt /hello.txt` over the busybox rootfs.
    let run = one_file_layer("a", "hi\n");
    let copy = one_file_layer("hello.txt", "hello from the build context\n");
    let history = output("history-tiny-buildkit.txt");
    let size_of = |created_by: &str| {
        let line = history.lines().find(|l| l.contains(created_by)).unwrap();
        line.split_whitespace().rev().nth(1).unwrap().to_owned()
    };
    assert_eq!(human_size(run.size()), size_of("RUN /bin/sh -c echo hi"));
    assert_eq!(human_size(copy.size()), size_of("COPY hello.txt"));

    let json: serde_json::Value =
        serde_json::from_str(&output("inspect-image-tiny-buildkit.json.txt")).unwrap();
    let total = json[0]["Size"].as_u64().unwrap();
    let busybox: serde_json::Value =
        serde_json::from_str(&output("inspect-image-busybox.json.txt")).unwrap();
    let base = busybox[0]["Size"].as_u64().unwrap();
    assert_eq!(image_size([base, run.size(), copy.size()]), total);
    let images = output("images-cli28.2.2.txt");
    let row = images.lines().find(|l| l.contains("buildkit")).unwrap();
    assert!(row.trim_end().ends_with(&human_size(total)), "{row}");
}

#[test]
fn small_layer_tars_have_docker_saves_length() {
    // `docker save` lists each one-file layer.tar of anchors/tiny as 2048 bytes.
    let save = sample("save-layout.txt");
    let tiny_layer_tars = save
        .lines()
        .filter(|l| l.ends_with("/layer.tar") && l.contains(" 2048 "))
        .count();
    assert_eq!(tiny_layer_tars, 2);
    for layer in [
        one_file_layer("a", "hi\n"),
        one_file_layer("hello.txt", "hello from the build context\n"),
    ] {
        assert_eq!(
            write_layer(&layer, &TarOptions { mtime: Some(0) }).len(),
            2048
        );
    }
}
