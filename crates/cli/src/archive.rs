//! `save`, `load` and `export` on the host: where archives are written (`-o`'s file, replaced
//! only once complete, or stdout, never a terminal) and read (`-i` or stdin), and the Linux
//! engine's streaming `save` (layer tars straight from the store) and `load` (the archive
//! unpacked under the store's `tmp/`, each image brought in with [`Store::load_image`]).
//! The formats themselves are the core's ([`layerbox_core::image::archive`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use layerbox_core::cli::command::{LoadOptions, SaveOptions};
use layerbox_core::cli::report::daemon_error;
use layerbox_core::engine::{ArchiveOutput, Engine, Output, save_format};
use layerbox_core::image::Digest;
use layerbox_core::image::archive::{
    self, ArchiveError, ArchiveImage, ArchiveView, LayerSource, Sink, TarSink, clean_member,
    plan_load, resolve_link,
};

/// docker's refusal to write an archive to a terminal (`save`, `export`).
pub const TERMINAL_REFUSAL: &str =
    "cowardly refusing to save to a terminal. Use the -o flag or redirect";
/// docker's refusal to `load` from a terminal.
pub const LOAD_FROM_TERMINAL: &str = "requested load from stdin, but stdin is empty";

/// docker's check of `-o` before anything is done (`command.ValidateOutputPath`).
pub fn validate_output_path(path: &str) -> Result<(), String> {
    let p = Path::new(path);
    if let Some(dir) = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && *d != Path::new("."))
        && !dir.exists()
    {
        return Err(format!(
            "invalid output path: directory {:?} does not exist",
            dir.display().to_string()
        ));
    }
    if p.is_dir() {
        return Err(format!("invalid output path: {path:?} is a directory"));
    }
    Ok(())
}

/// The checks docker's client makes before `save`/`export` (`what`: `save image`, `export
/// container`): stdout must not be a terminal without `-o`, and `-o` must be writable. The
/// message to print, if any.
pub fn refuse_output(output: Option<&str>, what: &str) -> Option<String> {
    match output {
        None if io::stdout().is_terminal() => Some(TERMINAL_REFUSAL.to_owned()),
        None => None,
        Some(p) => validate_output_path(p)
            .err()
            .map(|e| format!("failed to {what}: {e}")),
    }
}

/// Writes what `fill` writes to `path` (a temp file beside it, renamed over it when complete,
/// as docker's client does) or to stdout.
pub fn write_to(
    path: Option<&str>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let Some(path) = path else {
        let stdout = io::stdout();
        let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
        fill(&mut w)?;
        return w.flush();
    };
    let dest = Path::new(path);
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".layerbox_temp_{}", std::process::id()));
    let written = (|| {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        fill(&mut w)?;
        w.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A [`Sink`] writing an archive's members into a directory (`save --format oci-dir`).
pub struct DirSink {
    root: PathBuf,
}

impl DirSink {
    /// Writes below `root` (created when missing).
    pub fn new(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        Ok(Self {
            root: root.to_owned(),
        })
    }
}

impl Sink for DirSink {
    fn dir(&mut self, path: &str, _mtime: i64) -> io::Result<()> {
        std::fs::create_dir_all(self.root.join(path))
    }

    fn file(&mut self, path: &str, _mtime: i64, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let dest = self.root.join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut f = BufWriter::with_capacity(1 << 20, File::create(&dest)?);
        let copied = io::copy(&mut data.take(size), &mut f)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{path}: ended {} bytes early", size - copied),
            ));
        }
        f.flush()
    }
}

/// Writes an archive the core engine made (`save` and `export` on the simulated engine,
/// `export` on the Linux one) where it goes.
pub fn write_archive_output(out: &ArchiveOutput) -> io::Result<()> {
    if out.directory {
        let dir = out
            .path
            .as_deref()
            .ok_or_else(|| io::Error::other("--format oci-dir needs -o DIRECTORY"))?;
        let mut sink = DirSink::new(Path::new(dir))?;
        let mut tar = tar::Archive::new(out.bytes.as_slice());
        for entry in tar.entries()? {
            let mut entry = entry?;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = clean_member(&path).map_err(io::Error::other)?;
            if entry.header().entry_type().is_dir() {
                sink.dir(&path, 0)?;
            } else {
                let size = entry.size();
                sink.file(&path, 0, size, &mut entry)?;
            }
        }
        return Ok(());
    }
    write_to(out.path.as_deref(), |w| w.write_all(&out.bytes))
}

/// The archive reader for `load`: gunzipped when it starts with gzip's magic bytes.
fn maybe_gunzip<'a>(reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(1 << 20, reader);
    if buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// An archive unpacked into a directory: its regular files, and its links as names of them.
pub struct DirView {
    root: PathBuf,
    links: BTreeMap<String, String>,
    /// Whether its files are the store's own (unpacked under `tmp/`) and may be moved.
    movable: bool,
}

impl DirView {
    /// Unpacks the tar `reader` (gzipped or not) below `root`, refusing members that climb out
    /// of it; links are remembered, not made, so nothing written can point outside.
    pub fn unpack(reader: impl Read, root: &Path) -> Result<Self, ArchiveError> {
        let mut archive = tar::Archive::new(maybe_gunzip(reader)?);
        let mut links = BTreeMap::new();
        let mut any = false;
        for entry in archive.entries()? {
            any = true;
            let mut entry = entry?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = clean_member(&raw)?;
            if path.is_empty() {
                continue;
            }
            let dest = root.join(&path);
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let mut f = File::create(&dest)?;
                    io::copy(&mut entry, &mut f)?;
                }
                tar::EntryType::Directory => std::fs::create_dir_all(&dest)?,
                kind @ (tar::EntryType::Symlink | tar::EntryType::Link) => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let target = resolve_link(&path, &target, kind == tar::EntryType::Link)?;
                    links.insert(path, target);
                }
                _ => {}
            }
        }
        if !any {
            return Err(ArchiveError::Invalid("the archive is empty".into()));
        }
        Ok(Self {
            root: root.to_owned(),
            links,
            movable: true,
        })
    }

    fn path_of(&self, member: &str) -> PathBuf {
        let mut name = member;
        // a link to a link, a few deep at most
        for _ in 0..8 {
            match self.links.get(name) {
                Some(t) => name = t,
                None => break,
            }
        }
        self.root.join(name)
    }

    /// Opens a member (a layer blob) for reading.
    pub fn open(&self, member: &str) -> io::Result<File> {
        File::open(self.path_of(member))
    }
}

impl ArchiveView for DirView {
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        match std::fs::read(self.path_of(path)) {
            Ok(b) => Ok(Some(b)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn contains(&mut self, path: &str) -> Result<bool, ArchiveError> {
        Ok(self.path_of(path).is_file())
    }
}

#[cfg(target_os = "linux")]
/// A temp directory removed when dropped.
struct TempDir(PathBuf);

#[cfg(target_os = "linux")]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = crate::store::remove_tree(&self.0);
    }
}

#[cfg(target_os = "linux")]
/// Layer tars from the store, by diff_id.
struct StoreLayers<'a>(&'a crate::store::Store);

#[cfg(target_os = "linux")]
impl LayerSource for StoreLayers<'_> {
    fn open(&mut self, diff_id: &Digest) -> io::Result<(u64, Box<dyn Read + '_>)> {
        let (path, size) = self.0.layer_tar(diff_id).map_err(io::Error::other)?;
        Ok((size, Box::new(File::open(path)?)))
    }
}

#[cfg(target_os = "linux")]
/// `save` on the Linux engine: the images' configs and layer tars streamed from the store.
pub fn save(store: &crate::store::Store, o: &SaveOptions) -> io::Result<u8> {
    let (format, directory) = match save_format(o) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(125);
        }
    };
    if directory && o.output.is_none() {
        eprintln!("--format oci-dir needs -o DIRECTORY");
        return Ok(125);
    }
    if !directory && let Some(message) = refuse_output(o.output.as_deref(), "save image") {
        eprintln!("{message}");
        return Ok(1);
    }
    let _lock = store.lock_shared().map_err(io::Error::other)?;
    let loaded = crate::docker::state::load(store, false).map_err(io::Error::other)?;
    let engine = Engine::new(loaded.state);
    let selection = match engine.save_selection(&o.images) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    let mut images = Vec::with_capacity(selection.len());
    for (id, tags) in selection {
        let config = store
            .read_blob(&id)
            .map_err(io::Error::other)?
            .ok_or_else(|| io::Error::other(format!("the config of image {id} is missing")))?;
        images.push(ArchiveImage::new(config, tags).map_err(io::Error::other)?);
    }
    let mut layers = StoreLayers(store);
    let result = if directory {
        let dir = o.output.as_deref().unwrap_or(".");
        DirSink::new(Path::new(dir)).and_then(|mut sink| {
            archive::write(format, &images, &mut layers, &mut sink).map_err(io::Error::other)
        })
    } else {
        write_to(o.output.as_deref(), |w| {
            let mut sink = TarSink::new(w);
            archive::write(format, &images, &mut layers, &mut sink).map_err(io::Error::other)?;
            sink.finish().map(|_| ())
        })
    };
    match result {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("{}", daemon_error(&e.to_string()));
            Ok(1)
        }
    }
}

#[cfg(target_os = "linux")]
use crate::store::LayerInput;

#[cfg(target_os = "linux")]
/// `load` on the Linux engine: the archive (`-i` or stdin) unpacked under the store's `tmp/`,
/// then each image brought in, every digest checked; docker's `Loaded image` lines. `-i` may
/// also name an OCI image layout directory.
pub fn load(store: &crate::store::Store, o: &LoadOptions) -> io::Result<u8> {
    if let Some(dir) = o.input.as_deref().filter(|p| Path::new(p).is_dir()) {
        // an OCI image layout directory (`skopeo copy … oci:DIR`), read where it is
        let view = DirView {
            root: PathBuf::from(dir),
            links: BTreeMap::new(),
            movable: false,
        };
        return load_from(store, view);
    }
    let input: Box<dyn Read> = match &o.input {
        Some(path) => match File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("open {path}: {}", crate::linux::process::go_errno(&e));
                return Ok(1);
            }
        },
        None if io::stdin().is_terminal() => {
            eprintln!("{LOAD_FROM_TERMINAL}");
            return Ok(1);
        }
        None => Box::new(io::stdin()),
    };
    let tmp = TempDir(
        store
            .root()
            .join("tmp")
            .join(crate::store::tmp_name("load")),
    );
    std::fs::create_dir_all(&tmp.0)?;
    match DirView::unpack(input, &tmp.0) {
        Ok(view) => load_from(store, view),
        Err(e) => Ok(fail(&e)),
    }
}

#[cfg(target_os = "linux")]
fn fail(e: &dyn std::fmt::Display) -> u8 {
    eprintln!("{}", daemon_error(&e.to_string()));
    1
}

/// Brings in every image of an unpacked archive, printing docker's lines as it goes.
#[cfg(target_os = "linux")]
fn load_from(store: &crate::store::Store, mut view: DirView) -> io::Result<u8> {
    let plan = match plan_load(&mut view) {
        Ok(p) => p,
        Err(e) => return Ok(fail(&e)),
    };
    let mut out = Output::default();
    for image in plan {
        let inputs: Vec<LayerInput> = image
            .layers
            .iter()
            .map(|l| LayerInput::File {
                path: view.path_of(&l.path),
                name: l.path.clone(),
                blob: l.blob,
                movable: view.movable,
            })
            .collect();
        let loaded = store.load_image(&image.config, inputs, &image.tags, &mut out);
        crate::docker::print(&std::mem::take(&mut out))?;
        if let Err(e) = loaded {
            return Ok(fail(&e));
        }
    }
    Ok(0)
}
