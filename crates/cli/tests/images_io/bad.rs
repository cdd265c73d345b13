//! Bad archives: path traversal, cut short, corrupt layers, digests that do not match,
//! manifests naming what is not there. Each is refused with a clear error and the store is
//! left as it was: no record, no layer, no blob, nothing in `tmp/`, `system check` clean.

use std::collections::BTreeMap;
use std::io::Read as _;

use super::{Store, linux_engine};

/// The members of a tar, by name, in order.
fn read_tar(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(bytes);
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

/// A tar of regular files, written raw (the `tar` crate refuses `..` in names).
fn write_tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        if name.ends_with('/') {
            continue;
        }
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    layerbox_core::fs::tar::gzip(bytes)
}

/// Loads `bytes` into a fresh store: the error text, with the store checked untouched.
fn refused(bytes: &[u8]) -> String {
    let s = Store::empty();
    let file = s.file("bad.tar");
    std::fs::write(&file, bytes).unwrap();
    let (err, code) = s.fails(&["load", "-i", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    s.assert_empty();
    err
}

#[test]
fn bad_archives_are_refused_and_leave_nothing_behind() {
    if !linux_engine() {
        return;
    }
    let s = Store::with_app();
    let good = s.file("good.tar");
    s.ok(&["save", "-o", good.to_str().unwrap(), "app:1"]);
    let good = std::fs::read(good).unwrap();
    let members = read_tar(&good);
    let manifest: serde_json::Value = serde_json::from_slice(
        &members
            .iter()
            .find(|(n, _)| n == "manifest.json")
            .unwrap()
            .1,
    )
    .unwrap();
    // the i-th layer of the image, bottom first
    let layer = |i: usize| manifest[0]["Layers"][i].as_str().unwrap().to_owned();

    // path traversal
    let mut evil = members.clone();
    evil.insert(0, ("../../../tmp/escaped".to_owned(), b"x".to_vec()));
    assert_eq!(
        refused(&write_tar(&evil)),
        "Error response from daemon: invalid archive: `../../../tmp/escaped` is outside of the archive\n"
    );
    assert!(!std::path::Path::new("/tmp/escaped").exists());

    // cut short in the middle of the first layer
    let err = refused(&good[..good.len() / 3]);
    assert!(err.starts_with("Error response from daemon: "), "{err}");

    // not an archive of images at all
    assert_eq!(
        refused(&write_tar(&[("hello.txt".into(), b"hi".to_vec())])),
        "Error response from daemon: invalid archive: found neither manifest.json (docker-archive) nor index.json (OCI image layout)\n"
    );

    // a corrupt top layer: its digest is not the config's diff_id, and the layers before it,
    // already in, go again
    let mut corrupt = members.clone();
    let top = layer(2);
    let entry = corrupt.iter_mut().find(|(n, _)| *n == top).unwrap();
    let len = entry.1.len();
    entry.1[len - 1100] ^= 0xff;
    let err = refused(&write_tar(&corrupt));
    assert!(
        err.starts_with(
            "Error response from daemon: invalid diffID for layer 2: expected \"sha256:"
        ),
        "{err}"
    );

    // manifest.json names a layer the archive does not hold
    let missing: Vec<_> = members
        .iter()
        .filter(|(n, _)| *n != layer(1))
        .cloned()
        .collect();
    assert_eq!(
        refused(&write_tar(&missing)),
        format!(
            "Error response from daemon: invalid archive: manifest.json names `{}`, which is not in the archive\n",
            layer(1)
        )
    );

    // a config whose bytes are not its name's digest
    let mut wrong_config = members.clone();
    let config = wrong_config
        .iter_mut()
        .find(|(n, _)| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
                && !n.contains('/')
                && n != "manifest.json"
        })
        .unwrap();
    config.1.push(b'\n');
    let err = refused(&write_tar(&wrong_config));
    assert!(err.contains("has digest"), "{err}");

    // gzip: a gzipped archive and gzipped layers load
    let mut gzipped_layers = members.clone();
    for (name, data) in &mut gzipped_layers {
        if name.ends_with("/layer.tar") {
            *data = gzip(data);
        }
    }
    for bytes in [gzip(&good), write_tar(&gzipped_layers)] {
        let to = Store::empty();
        let file = to.file("gz.tar");
        std::fs::write(&file, bytes).unwrap();
        assert_eq!(
            to.ok(&["load", "-i", file.to_str().unwrap()]),
            "Loaded image: app:1\n"
        );
        assert_eq!(to.ok(&["run", "--rm", "app:1"]), super::PRINTS);
        to.assert_clean();
    }
}

#[test]
fn oci_blobs_are_checked_against_their_descriptors() {
    if !linux_engine() {
        return;
    }
    let s = Store::with_app();
    let good = s.file("oci.tar");
    s.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        good.to_str().unwrap(),
        "app:1",
    ]);
    // without docker 25's manifest.json, so that index.json is what is read
    let members: Vec<_> = read_tar(&std::fs::read(good).unwrap())
        .into_iter()
        .filter(|(n, d)| {
            n != "manifest.json" && !n.ends_with('/') && !(d.is_empty() && n == "blobs")
        })
        .collect();
    let by_name: BTreeMap<String, Vec<u8>> = members.iter().cloned().collect();
    let index: serde_json::Value = serde_json::from_slice(&by_name["index.json"]).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let manifest_path = format!("blobs/sha256/{}", &manifest_digest[7..]);
    let manifest: serde_json::Value = serde_json::from_slice(&by_name[&manifest_path]).unwrap();
    let layer_digest = manifest["layers"][1]["digest"].as_str().unwrap().to_owned();
    let layer_path = format!("blobs/sha256/{}", &layer_digest[7..]);

    // a layer blob whose bytes are not its digest
    let mut tampered = members.clone();
    let entry = tampered.iter_mut().find(|(n, _)| *n == layer_path).unwrap();
    entry.1[100] ^= 0xff;
    let err = refused(&write_tar(&tampered));
    assert!(
        err.contains(&format!("`{layer_path}` has digest"))
            && err.contains(&format!("not {layer_digest}")),
        "{err}"
    );

    // the index names a manifest that is missing
    let without: Vec<_> = members
        .iter()
        .filter(|(n, _)| *n != manifest_path)
        .cloned()
        .collect();
    assert_eq!(
        refused(&write_tar(&without)),
        format!(
            "Error response from daemon: invalid archive: index.json names `{manifest_path}`, which is not in the archive\n"
        )
    );

    // the manifest names a layer blob that is missing
    let without: Vec<_> = members
        .iter()
        .filter(|(n, _)| *n != layer_path)
        .cloned()
        .collect();
    assert_eq!(
        refused(&write_tar(&without)),
        format!(
            "Error response from daemon: invalid archive: the manifest names `{layer_path}`, which is not in the archive\n"
        )
    );
}
