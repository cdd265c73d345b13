//! layerbox's own commands on the Linux engine: `import` (a rootfs tarball becomes a one-layer
//! image, as `docker import` makes it) and `system check [--repair]`.

use std::io::{self, Read};

use layerbox_core::cli::rows::rfc3339;
use layerbox_core::engine::{Clock, Image};
use layerbox_core::fs::tar::{TarOptions, diff_id, read_layer};
use layerbox_core::image::{History, ImageConfig, Reference};

use super::{Linux, state, store_error};
use crate::sim::SystemClock;
use crate::store::ProblemKind;

const IMPORT_USAGE: &str = "\"layerbox import\" requires at least 1 and at most 2 arguments.\nSee 'layerbox import --help'.\n\nUsage:  layerbox import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\nImport the contents from a tarball to create a filesystem image";

/// `import [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]`: the tarball (plain or gzipped) becomes the
/// image's only layer; prints the image ID.
pub(super) fn import(linux: &Linux, args: &[&str]) -> io::Result<u8> {
    let mut message = None;
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "-m" | "--message" => message = it.next().map(|m| (*m).to_owned()),
            m if m.starts_with("--message=") => {
                message = Some(m["--message=".len()..].to_owned());
            }
            w => words.push(w),
        }
    }
    let (source, reference) = match words.as_slice() {
        [s] => (*s, None),
        [s, r] => (*s, Some(*r)),
        _ => {
            eprintln!("{IMPORT_USAGE}");
            return Ok(1);
        }
    };
    let reference = match reference.map(Reference::parse_normalized).transpose() {
        Ok(r) => r.map(Reference::with_default_tag),
        Err(e) => {
            eprintln!("Error response from daemon: {e}");
            return Ok(1);
        }
    };
    let mut bytes = Vec::new();
    if source == "-" {
        io::stdin().read_to_end(&mut bytes)?;
    } else {
        match std::fs::read(source) {
            Ok(b) => bytes = b,
            Err(e) => {
                eprintln!("open {source}: {}", crate::linux::process::go_errno(&e));
                return Ok(1);
            }
        }
    }
    let layer = match read_layer(&bytes) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Error response from daemon: {e}");
            return Ok(1);
        }
    };
    let now = SystemClock.now();
    let (diff, _) = diff_id(&layer, &TarOptions::default());
    let mut config = ImageConfig {
        created: Some(rfc3339(now)),
        architecture: "amd64".into(),
        os: "linux".into(),
        ..ImageConfig::default()
    };
    config.rootfs.diff_ids = vec![diff];
    config.history = vec![History {
        created: Some(rfc3339(now)),
        comment: Some(message.unwrap_or_else(|| format!("Imported from {source}"))),
        ..History::default()
    }];
    let id = config.id();
    let _lock = linux.store.lock().map_err(store_error)?;
    let mut loaded = state::load(&linux.store, false).map_err(store_error)?;
    let mut after = std::mem::take(&mut loaded.state);
    if let Some(r) = &reference {
        for image in &mut after.images {
            image.repo_tags.retain(|t| t != r);
        }
    }
    match after.images.iter_mut().find(|i| i.id == id) {
        Some(image) => image.repo_tags.extend(reference),
        None => after.images.push(Image {
            id,
            size: layer.size(),
            config,
            repo_tags: reference.into_iter().collect(),
            created: now,
            parent: None,
        }),
    }
    after.layers.insert(diff, std::sync::Arc::new(layer));
    loaded.save(&linux.store, &after).map_err(store_error)?;
    println!("{id}");
    Ok(0)
}

/// `system check [--repair]`: what a crash left in the store; exit 1 when something is wrong
/// and was not repaired.
pub(super) fn check(linux: &Linux, args: &[&str]) -> io::Result<u8> {
    let repair = args.contains(&"--repair");
    let report = linux.store.check(repair).map_err(store_error)?;
    if report.is_clean() {
        println!("store {}: clean", linux.store.root().display());
        return Ok(0);
    }
    for p in &report.problems {
        let what = match p.kind {
            ProblemKind::TempEntry => "temporary entry",
            ProblemKind::CorruptBlob => "corrupt blob",
            ProblemKind::BadRecord => "unreadable record",
            ProblemKind::HalfImage => "incomplete image",
            ProblemKind::OrphanContainerDir => "container directory without a record",
            ProblemKind::LeakedMount => "leaked mount",
            ProblemKind::ShimDied => "running container whose shim died",
        };
        let done = if p.repaired { " (repaired)" } else { "" };
        println!("{what}: {}{done}", p.path.display());
    }
    Ok(u8::from(report.problems.iter().any(|p| !p.repaired)))
}
