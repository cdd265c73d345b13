use std::collections::BTreeMap;
use std::io::{self, Read};

use super::*;
use crate::fs::tar::{TarOptions, gzip, write_layer};
use crate::fs::{Entry, Layer, Meta};
use crate::image::RootFs;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/docker-cli/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The config of `anchors/tiny:legacy` as docker stores it (sorted keys), rebuilt from its
/// `docker inspect` (the history, which inspect does not show, is left out: it does not enter
/// the legacy IDs).
fn tiny_legacy_config() -> Vec<u8> {
    let text = data("inspect-image-tiny-legacy.json.txt");
    let body = &text[text.find('\n').unwrap() + 1..text.rfind("[exit code").unwrap()];
    let inspect: serde_json::Value = serde_json::from_str(body).unwrap();
    let i = &inspect[0];
    let config = serde_json::json!({
        "architecture": i["Architecture"],
        "config": i["Config"],
        "container": i["Container"],
        "container_config": i["ContainerConfig"],
        "created": i["Created"],
        "docker_version": i["DockerVersion"],
        "os": i["Os"],
        "rootfs": {"type": "layers", "diff_ids": i["RootFS"]["Layers"]},
    });
    serde_json::to_vec(&config).unwrap()
}

/// `tar -tv`'s columns but the config's name and size (the rebuilt config is not docker's
/// bytes): mode, owner, size, date (UTC), name.
fn listing(tar: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut archive = ::tar::Archive::new(tar);
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
        let kind = if h.entry_type().is_dir() { 'd' } else { '-' };
        let mode = h.mode().unwrap();
        let perms: String = (0..9)
            .map(|i| {
                if mode & (0o400 >> i) == 0 {
                    '-'
                } else {
                    ['r', 'w', 'x'][i % 3]
                }
            })
            .collect();
        let secs = i64::try_from(h.mtime().unwrap()).unwrap();
        let date = crate::cli::rows::rfc3339(crate::cli::units::Timestamp::from_unix_secs(secs));
        out.push(format!(
            "{kind}{perms} {}/{} {:>10} {} {} {name}",
            h.username().unwrap().unwrap(),
            h.groupname().unwrap().unwrap(),
            h.size().unwrap(),
            &date[..10],
            &date[11..16],
        ));
    }
    out
}

#[test]
fn a_docker_archive_lays_out_as_docker_save_does_to_the_legacy_ids() {
    let reference = data("save-layout.txt");
    let lines: Vec<&str> = reference.lines().collect();
    let expected: Vec<String> = lines[1..]
        .iter()
        .take_while(|l| l.starts_with('d') || l.starts_with('-'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(expected.len(), 15);
    let config = tiny_legacy_config();
    let image =
        ArchiveImage::new(config.clone(), vec!["anchors/tiny:legacy".parse().unwrap()]).unwrap();
    let sizes: BTreeMap<Digest, usize> = image
        .diff_ids
        .iter()
        .copied()
        .zip([2_140_160, 2048, 2048])
        .collect();
    let mut layers = |d: &Digest| Ok(vec![0u8; sizes[d]]);
    let mut sink = TarSink::new(Vec::new());
    write(
        Format::DockerArchive,
        std::slice::from_ref(&image),
        &mut layers,
        &mut sink,
    )
    .unwrap();
    let tar = sink.finish().unwrap();
    let got: Vec<String> = listing(&tar)
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let config_line = |l: &String| {
        let name = l.rsplit(' ').next().unwrap_or_default();
        std::path::Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            && !name.contains('/')
    };
    let strip =
        |v: &[String]| -> Vec<String> { v.iter().filter(|l| !config_line(l)).cloned().collect() };
    assert_eq!(strip(&got), strip(&expected));
    // the config is there under its own digest, dated as the image
    let ours = got.iter().find(|l| config_line(l)).unwrap();
    assert_eq!(
        *ours,
        format!(
            "-rw-r--r-- root/root {} 2026-11-26 20:09 {}.json",
            config.len(),
            image.id.hex()
        )
    );
    // manifest.json and repositories, to the byte (the config's name aside)
    let mut files = MemoryArchive::from_tar(&tar).unwrap();
    let manifest = String::from_utf8(files.take("manifest.json").unwrap()).unwrap();
    let docker_manifest = lines[lines.len() - 4].replace(
        "467518590d27cd27c70991e682e477c4336c55ea0381445a05b07d895ac56d9a",
        &image.id.hex(),
    );
    assert_eq!(manifest, format!("{docker_manifest}\n"));
    let repositories = String::from_utf8(files.take("repositories").unwrap()).unwrap();
    assert_eq!(repositories, format!("{}\n", lines[lines.len() - 2]));
}

fn layer_tar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut l = Layer::new();
    for (p, c) in files {
        l.insert(*p, Entry::file(Meta::new(0o644, 0), *c));
    }
    write_layer(&l, &TarOptions { mtime: Some(0) })
}

fn image_of(layers: &[&[u8]], tags: &[&str]) -> ArchiveImage {
    let config = ImageConfig {
        created: Some("2026-11-26T20:09:37.5Z".into()),
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: layers.iter().map(|l| Digest::sha256_of(l)).collect(),
        },
        ..ImageConfig::default()
    };
    ArchiveImage::new(
        config.to_json(),
        tags.iter().map(|t| t.parse().unwrap()).collect(),
    )
    .unwrap()
}

fn archive(format: Format, images: &[ArchiveImage], blobs: &[&[u8]]) -> Vec<u8> {
    let by_digest: BTreeMap<Digest, Vec<u8>> = blobs
        .iter()
        .map(|b| (Digest::sha256_of(b), b.to_vec()))
        .collect();
    let mut layers = |d: &Digest| Ok(by_digest[d].clone());
    let mut sink = TarSink::new(Vec::new());
    write(format, images, &mut layers, &mut sink).unwrap();
    sink.finish().unwrap()
}

fn read_layer_bytes(files: &mut MemoryArchive, l: &LoadLayer) -> io::Result<Vec<u8>> {
    let bytes = files.read(&l.path).unwrap().unwrap();
    let mut out = Vec::new();
    match l.blob {
        Some((d, size)) => {
            VerifyingReader::new(bytes.as_slice(), &l.path, d, size).read_to_end(&mut out)?;
        }
        None => out = bytes,
    }
    Ok(out)
}

#[test]
fn both_formats_round_trip_images_their_layers_and_names() {
    let base = layer_tar(&[("etc/os-release", "layerbox\n")]);
    let app = layer_tar(&[("app/main.py", "print('hi')\n")]);
    let one = image_of(
        &[&base, &app],
        &["app:1", "registry.local:5000/team/app:latest"],
    );
    let two = image_of(&[&base], &[]);
    for format in [Format::DockerArchive, Format::OciLayout] {
        let tar = archive(format, &[one.clone(), two.clone()], &[&base, &app]);
        let mut files = MemoryArchive::from_tar(&tar).unwrap();
        let plan = plan_load(&mut files).unwrap();
        assert_eq!(plan.len(), 2, "{format:?}");
        assert_eq!(plan[0].id(), one.id);
        assert_eq!(plan[0].config, one.config);
        let names: Vec<String> = plan[0].tags.iter().map(Reference::familiar).collect();
        assert_eq!(names, ["app:1", "registry.local:5000/team/app:latest"]);
        assert_eq!(plan[1].id(), two.id);
        assert!(plan[1].tags.is_empty());
        let got: Vec<Vec<u8>> = plan[0]
            .layers
            .iter()
            .map(|l| read_layer_bytes(&mut files, l).unwrap())
            .collect();
        assert_eq!(got, [base.clone(), app.clone()]);
        for (l, d) in plan[0].layers.iter().zip(&one.diff_ids) {
            assert_eq!(l.diff_id, *d);
        }
    }
    // the OCI layout has what the spec asks for, and docker 25's manifest.json beside it
    let tar = archive(
        Format::OciLayout,
        std::slice::from_ref(&one),
        &[&base, &app],
    );
    let mut files = MemoryArchive::from_tar(&tar).unwrap();
    assert_eq!(
        files.take("oci-layout").unwrap(),
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index: serde_json::Value =
        serde_json::from_slice(&files.take("index.json").unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    assert_eq!(
        index["manifests"][0]["annotations"][ANNOTATION_IMAGE_NAME],
        "docker.io/library/app:1"
    );
    assert_eq!(
        index["manifests"][0]["annotations"][ANNOTATION_REF_NAME],
        "1"
    );
    assert!(
        files
            .contains(&format!("blobs/sha256/{}", one.id.hex()))
            .unwrap()
    );
    assert!(files.contains("manifest.json").unwrap());
    // and the docker archive's legacy directories are dated as the image
    let names = listing(&archive(Format::DockerArchive, &[one], &[&base, &app]));
    assert!(
        names
            .iter()
            .any(|l| l.ends_with("/layer.tar") && l.contains("2026-11-26 20:09"))
    );
}

#[test]
fn a_gzipped_archive_and_gzipped_oci_layers_load() {
    let base = layer_tar(&[("a", "a")]);
    let image = image_of(&[&base], &["gz:1"]);
    let tar = archive(Format::OciLayout, std::slice::from_ref(&image), &[&base]);
    let plan = plan_load(&mut MemoryArchive::from_tar(&gzip(&tar)).unwrap()).unwrap();
    assert_eq!(plan[0].id(), image.id);
}

/// A tar with the given members, written raw (the `tar` crate refuses `..` in names).
fn raw_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        let mut h = ::tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_entry_type(::tar::EntryType::Regular);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[test]
fn bad_archives_are_refused_with_clear_errors() {
    let err = |bytes: &[u8]| {
        MemoryArchive::from_tar(bytes)
            .and_then(|mut f| plan_load(&mut f))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&raw_tar(&[("../../etc/passwd", b"x")])),
        "invalid archive: `../../etc/passwd` is outside of the archive"
    );
    assert_eq!(
        err(&raw_tar(&[("hello", b"x")])),
        "invalid archive: found neither manifest.json (docker-archive) nor index.json (OCI image layout)"
    );
    assert_eq!(err(&[0u8; 1024]), "invalid archive: the archive is empty");
    let base = layer_tar(&[("a", "a")]);
    let image = image_of(&[&base], &["x:1"]);
    let good = archive(
        Format::DockerArchive,
        std::slice::from_ref(&image),
        &[&base],
    );
    // cut short in the middle of a member
    let cut = err(&good[..good.len() / 2 + 100]);
    assert!(
        cut.contains("failed to") || cut.contains("unexpected"),
        "{cut}"
    );
    // a config whose bytes are not its name's digest
    let mut files = MemoryArchive::from_tar(&good).unwrap();
    let config_path = format!("{}.json", image.id.hex());
    let mut config = files.take(&config_path).unwrap();
    config.push(b' ');
    files.insert(config_path.clone(), config.clone());
    assert_eq!(
        plan_load(&mut files).unwrap_err().to_string(),
        format!(
            "invalid archive: `{config_path}` has digest {}, not {}",
            Digest::sha256_of(&config),
            image.id
        )
    );
    // a manifest naming a layer that is not there
    let mut files = MemoryArchive::from_tar(&good).unwrap();
    let layer_path = plan_load(&mut files.clone()).unwrap()[0].layers[0]
        .path
        .clone();
    files.take(&layer_path);
    assert_eq!(
        plan_load(&mut files).unwrap_err().to_string(),
        format!("invalid archive: manifest.json names `{layer_path}`, which is not in the archive")
    );
    // OCI: a blob whose bytes are not its digest, found when it is read
    let oci = archive(Format::OciLayout, std::slice::from_ref(&image), &[&base]);
    let mut files = MemoryArchive::from_tar(&oci).unwrap();
    files.take("manifest.json");
    let plan = plan_load(&mut files.clone()).unwrap();
    let layer = &plan[0].layers[0];
    files.insert(layer.path.clone(), b"tampered".to_vec());
    let e = read_layer_bytes(&mut files, layer).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("has digest"), "{e}");
    // OCI: the index names a manifest that is missing
    let mut files = MemoryArchive::from_tar(&oci).unwrap();
    files.take("manifest.json");
    let manifests: Vec<String> = files
        .iter()
        .filter(|(k, b)| {
            k.starts_with("blobs/")
                && b.starts_with(
                    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest"#,
                )
        })
        .map(|(k, _)| k.to_owned())
        .collect();
    files.take(&manifests[0]);
    assert_eq!(
        plan_load(&mut files).unwrap_err().to_string(),
        format!(
            "invalid archive: index.json names `{}`, which is not in the archive",
            manifests[0]
        )
    );
    // an image without layers cannot be saved (docker's words)
    let empty = image_of(&[], &[]);
    let mut none = |_: &Digest| Ok(Vec::new());
    let mut sink = TarSink::new(Vec::new());
    assert_eq!(
        write(Format::DockerArchive, &[empty], &mut none, &mut sink)
            .unwrap_err()
            .to_string(),
        "empty export - not implemented"
    );
}

#[test]
fn symlinked_layers_of_docker_25_archives_resolve_inside_the_archive_only() {
    let mut b = ::tar::Builder::new(Vec::new());
    let mut h = ::tar::Header::new_ustar();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, "blobs/sha256/aa", &b"x"[..]).unwrap();
    let mut l = ::tar::Header::new_ustar();
    l.set_entry_type(::tar::EntryType::Symlink);
    l.set_size(0);
    l.set_mode(0o777);
    b.append_link(&mut l, "dir/layer.tar", "../blobs/sha256/aa")
        .unwrap();
    let mut evil = ::tar::Header::new_ustar();
    evil.set_entry_type(::tar::EntryType::Symlink);
    evil.set_size(0);
    evil.set_mode(0o777);
    b.append_link(&mut evil, "dir/evil", "../../etc/passwd")
        .unwrap();
    let tar = b.into_inner().unwrap();
    assert_eq!(
        MemoryArchive::from_tar(&tar).unwrap_err().to_string(),
        "invalid archive: `dir/evil` is outside of the archive"
    );
    let ok = &tar[..tar.len() - 1024 - 512];
    let mut ok = ok.to_vec();
    ok.resize(ok.len() + 1024, 0);
    let mut files = MemoryArchive::from_tar(&ok).unwrap();
    assert_eq!(files.take("dir/layer.tar").unwrap(), b"x");
}

#[test]
fn times_parse_with_their_offsets() {
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        unix_seconds("2026-11-26T20:09:37.645231243Z"),
        Some(1_795_723_777)
    );
    assert_eq!(
        unix_seconds("2026-11-26T22:09:37+02:00"),
        Some(1_795_723_777)
    );
    assert_eq!(unix_seconds("yesterday"), None);
    assert_eq!(parse_format("oci-dir"), Some((Format::OciLayout, true)));
    assert_eq!(parse_format("tar"), None);
}
