//! The container's filesystem: the overlay, /proc, a minimal /dev, /sys, the /etc files,
//! docker's masked and read-only paths, then `pivot_root` into it.

use std::io;
use std::path::{Path, PathBuf};

use super::spec::{Layers, VolumeMount};
use super::syscall::{FileKind, Mount, MountFlags, Syscall, UnshareFlags};

/// docker's masked and read-only paths: one list in the core, also shown by `inspect`.
pub use layerbox_core::engine::{MASKED_PATHS, READONLY_PATHS};

/// The character devices of a container's /dev: name, major, minor (all mode 0666, as runc).
pub const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The /etc files every container gets from the engine rather than from its image.
pub const ETC_FILES: &[&str] = &["hosts", "hostname", "resolv.conf"];

/// How many symlinks a path may go through (the kernel's `MAXSYMLINKS`, as runc's securejoin).
pub const MAX_SYMLINKS: usize = 40;

/// Why the filesystem could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// A layer path that overlayfs' option string cannot carry.
    #[error("layer path {0:?} contains ':' or ','")]
    BadLayerPath(PathBuf),
    /// A kernel call failed.
    #[error("{what} {path:?}: {source}")]
    Sys {
        /// The call, e.g. `mount overlay on`.
        what: &'static str,
        /// The path it acted on.
        path: PathBuf,
        /// The kernel's error.
        source: io::Error,
    },
}

fn check<T>(what: &'static str, path: &Path, r: io::Result<T>) -> Result<T, RootfsError> {
    r.map_err(|source| RootfsError::Sys {
        what,
        path: path.to_owned(),
        source,
    })
}

/// The overlay's option string: `lowerdir` lists the top layer first, so the init layer comes
/// first and the image's base layer last.
pub fn overlay_options(layers: &Layers) -> Result<String, RootfsError> {
    let lowers = std::iter::once(&layers.init).chain(layers.lowers.iter().rev());
    let mut all = lowers.clone().collect::<Vec<_>>();
    all.push(&layers.upper);
    all.push(&layers.work);
    if let Some(bad) = all
        .iter()
        .find(|p| p.to_string_lossy().contains([':', ',']))
    {
        return Err(RootfsError::BadLayerPath((*bad).clone()));
    }
    let lowerdir = lowers
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":");
    Ok(format!(
        "lowerdir={lowerdir},upperdir={},workdir={}{}{}",
        layers.upper.display(),
        layers.work.display(),
        if layers.volatile { ",volatile" } else { "" },
        if layers.userns { ",userxattr" } else { "" }
    ))
}

/// Writes docker's init layer: the mount points the engine needs, so that creating them never
/// shows up in the container's own layer. Each directory takes the owner, mode and mtime of the
/// topmost image layer that has it, so that a copy-up into it (which takes the metadata from
/// the init layer) does not look like a change to the directory; the layer therefore belongs to
/// one stack of `lowers` (bottom first).
pub fn write_init_layer(init: &Path, lowers: &[PathBuf]) -> io::Result<()> {
    for file in ETC_FILES {
        let path = init.join("etc").join(file);
        if !path.exists() {
            std::fs::create_dir_all(init.join("etc"))?;
            std::fs::write(path, "")?;
        }
    }
    for dir in ["dev", "proc", "sys", "etc"] {
        let path = init.join(dir);
        std::fs::create_dir_all(&path)?;
        let image = lowers.iter().rev().find_map(|l| {
            std::fs::metadata(l.join(dir))
                .ok()
                .filter(std::fs::Metadata::is_dir)
        });
        if let Some(m) = image {
            use std::os::unix::fs::MetadataExt;
            std::os::unix::fs::chown(&path, Some(m.uid()), Some(m.gid()))?;
            std::fs::set_permissions(&path, m.permissions())?;
            let mtime = m.modified()?;
            std::fs::File::open(&path)?.set_times(
                std::fs::FileTimes::new()
                    .set_modified(mtime)
                    .set_accessed(mtime),
            )?;
        }
    }
    Ok(())
}

/// Writes the container's /etc/hosts, /etc/hostname and /etc/resolv.conf into `dir`: what docker
/// writes for a container with only a loopback interface (no address line for the hostname),
/// and the host's resolvers.
pub fn write_etc_files(dir: &Path, hostname: &str) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("hosts"),
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    )?;
    std::fs::write(dir.join("hostname"), format!("{hostname}\n"))?;
    // docker copies the host's file, dropping loopback resolvers the container cannot reach.
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let resolv = host
        .lines()
        .filter(|l| {
            let mut words = l.split_whitespace();
            !(words.next() == Some("nameserver")
                && words
                    .next()
                    .is_some_and(|a| a.starts_with("127.") || a == "::1"))
        })
        .fold(String::new(), |mut acc, l| {
            acc.push_str(l);
            acc.push('\n');
            acc
        });
    std::fs::write(dir.join("resolv.conf"), resolv)
}

/// `path` (absolute inside the container) below the merged directory.
fn inside(merged: &Path, path: &str) -> PathBuf {
    merged.join(path.trim_start_matches('/'))
}

/// `path` (absolute inside the container) below `root` as the container will see it, with every
/// symlink on the way followed *inside* `root`: an absolute target starts again at `root` and
/// `..` stops there, so the result never leaves it (runc's securejoin). Components that do not
/// exist are kept as they are written. More than [`MAX_SYMLINKS`] links is `ELOOP`.
pub fn resolve_in_root(sys: &dyn Syscall, root: &Path, path: &str) -> Result<PathBuf, RootfsError> {
    let mut resolved: Vec<String> = Vec::new();
    let mut rest: std::collections::VecDeque<String> = path.split('/').map(str::to_owned).collect();
    let mut links = 0;
    while let Some(part) = rest.pop_front() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let here = resolved
            .iter()
            .chain(std::iter::once(&part))
            .fold(root.to_owned(), |p, c| p.join(c));
        match check("readlink", &here, sys.read_link(&here))? {
            None => resolved.push(part),
            Some(target) => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(RootfsError::Sys {
                        what: "resolve",
                        path: inside(root, path),
                        source: io::Error::from_raw_os_error(libc::ELOOP),
                    });
                }
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    resolved.clear();
                }
                for p in target.split('/').rev() {
                    rest.push_front(p.to_owned());
                }
            }
        }
    }
    Ok(resolved.iter().fold(root.to_owned(), |p, c| p.join(c)))
}

/// Mounts the volumes, binds and tmpfs mounts under `merged`, shallowest target first (`/a`
/// before `/a/b`). First each volume that copies the image's content gets it, while the rootfs
/// still shows the image there; then each target is resolved inside the rootfs, created when
/// missing (a directory, or an empty file for a file's bind: it lands in the container's layer,
/// as docker's `A /data`), bound (`MS_BIND|MS_REC`) and, for `:ro`, remounted read-only. A tmpfs
/// is mounted there instead, with dockerd's options (`noexec,nosuid,nodev`, read-only for `ro`).
pub fn mount_volumes(
    sys: &dyn Syscall,
    merged: &Path,
    mounts: &[VolumeMount],
) -> Result<(), RootfsError> {
    let mut order: Vec<&VolumeMount> = mounts.iter().collect();
    order.sort_by_key(|m| m.target.split('/').filter(|c| !c.is_empty()).count());
    for m in order.iter().filter(|m| m.copy_image_content) {
        let from = resolve_in_root(sys, merged, &m.target)?;
        check(
            "copy the image's content into the volume",
            &m.source,
            sys.populate(&from, &m.source),
        )?;
    }
    for m in order {
        let target = resolve_in_root(sys, merged, &m.target)?;
        if m.tmpfs {
            if check("stat", &target, sys.file_kind(&target))?.is_none() {
                check("mkdir", &target, sys.mkdir_all(&target))?;
            }
            let mut flags = MountFlags::NOEXEC | MountFlags::NOSUID | MountFlags::NODEV;
            if m.read_only {
                flags |= MountFlags::RDONLY;
            }
            let tmpfs = Mount {
                source: "tmpfs".to_owned(),
                target,
                fstype: "tmpfs".to_owned(),
                flags,
                data: String::new(),
            };
            check("mount", &tmpfs.target, sys.mount(&tmpfs))?;
            continue;
        }
        if check("stat", &target, sys.file_kind(&target))?.is_none() {
            match check("stat", &m.source, sys.file_kind(&m.source))? {
                Some(FileKind::File | FileKind::Other) => {
                    if let Some(parent) = target.parent() {
                        check("mkdir", parent, sys.mkdir_all(parent))?;
                    }
                    check("create", &target, sys.write_file(&target, ""))?;
                }
                _ => check("mkdir", &target, sys.mkdir_all(&target))?,
            }
        }
        check("bind mount", &target, sys.bind(&m.source, &target, true))?;
        if m.read_only {
            check(
                "remount read-only",
                &target,
                sys.remount_bind_readonly(&target, MountFlags::empty()),
            )?;
        }
    }
    Ok(())
}

/// Sets up the container's filesystem and pivots into it, in a mount namespace of its own that
/// dies with the container's last process; afterwards `/` is the overlay and the host's tree is
/// gone. Runs in the container's first process.
pub fn prepare_rootfs(
    sys: &dyn Syscall,
    layers: &Layers,
    mounts: &[VolumeMount],
) -> Result<(), RootfsError> {
    let root = Path::new("/");
    check(
        "unshare the mount namespace",
        root,
        sys.unshare(UnshareFlags::NEWNS),
    )?;
    check("make private", root, sys.make_rprivate(root))?;
    let merged = &layers.merged;
    let mount = |source: &str, target: PathBuf, fstype: &str, flags: MountFlags, data: &str| {
        let m = Mount {
            source: source.to_owned(),
            target,
            fstype: fstype.to_owned(),
            flags,
            data: data.to_owned(),
        };
        check("mount", &m.target, sys.mount(&m))
    };
    let hardened = MountFlags::NOSUID | MountFlags::NOEXEC | MountFlags::NODEV;
    mount(
        "overlay",
        merged.clone(),
        "overlay",
        MountFlags::empty(),
        &overlay_options(layers)?,
    )?;
    mount("proc", inside(merged, "/proc"), "proc", hardened, "")?;
    let dev = inside(merged, "/dev");
    mount(
        "tmpfs",
        dev.clone(),
        "tmpfs",
        MountFlags::NOSUID | MountFlags::STRICTATIME,
        "mode=755,size=65536k",
    )?;
    for (name, major, minor) in DEVICES {
        let path = dev.join(name);
        if layers.userns {
            // no mknod in a user namespace: the host's node, bound onto an empty file
            check("create", &path, sys.write_file(&path, ""))?;
            let host = Path::new("/dev").join(name);
            check("bind mount", &path, sys.bind(&host, &path, false))?;
        } else {
            check("mknod", &path, sys.mknod_char(&path, 0o666, *major, *minor))?;
        }
    }
    // gid 5 (tty) is not mapped in a rootless user namespace
    let devpts = if layers.userns {
        "newinstance,ptmxmode=0666,mode=0620"
    } else {
        "newinstance,ptmxmode=0666,mode=0620,gid=5"
    };
    for (dir, fstype, source, flags, data) in [
        (
            "pts",
            "devpts",
            "devpts",
            MountFlags::NOSUID | MountFlags::NOEXEC,
            devpts,
        ),
        ("shm", "tmpfs", "shm", hardened, "mode=1777,size=65536k"),
        ("mqueue", "mqueue", "mqueue", hardened, ""),
    ] {
        let path = dev.join(dir);
        check("mkdir", &path, sys.mkdir_all(&path))?;
        mount(source, path, fstype, flags, data)?;
    }
    for (name, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        let link = dev.join(name);
        check("symlink", &link, sys.symlink(target, &link))?;
    }
    mount(
        "sysfs",
        inside(merged, "/sys"),
        "sysfs",
        hardened | MountFlags::RDONLY,
        "",
    )?;
    for file in ETC_FILES {
        let target = inside(merged, &format!("/etc/{file}"));
        let source = layers.etc_files.join(file);
        check("bind mount", &target, sys.bind(&source, &target, false))?;
    }
    mount_volumes(sys, merged, mounts)?;
    for path in MASKED_PATHS {
        let target = inside(merged, path);
        match check("stat", &target, sys.file_kind(&target))? {
            None => {}
            Some(FileKind::Dir) => mount("tmpfs", target, "tmpfs", MountFlags::RDONLY, "")?,
            Some(_) => {
                let null = dev.join("null");
                check("mask", &target, sys.bind(&null, &target, false))?;
            }
        }
    }
    for path in READONLY_PATHS {
        let target = inside(merged, path);
        if check("stat", &target, sys.file_kind(&target))?.is_some() {
            check("bind mount", &target, sys.bind(&target, &target, true))?;
            check(
                "remount read-only",
                &target,
                sys.remount_bind_readonly(&target, hardened),
            )?;
        }
    }
    check("pivot_root", merged, sys.pivot_root(merged))?;
    // The old root now sits on top of the new one; detaching it leaves only the overlay.
    check("unmount old root", root, sys.umount_detach(Path::new(".")))?;
    check("chdir", root, sys.chdir(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::syscall::{Call, RecordingSyscall};

    fn layers() -> Layers {
        Layers {
            userns: false,
            ..Layers::in_dir(
                Path::new("/s/c"),
                vec!["/s/l/base".into(), "/s/l/mid".into()],
            )
        }
    }

    #[test]
    fn overlay_lists_the_init_layer_first_and_the_base_last() {
        assert_eq!(
            overlay_options(&layers()).unwrap(),
            "lowerdir=/s/c/init:/s/l/mid:/s/l/base,upperdir=/s/c/upper,workdir=/s/c/work"
        );
    }

    #[test]
    fn a_throwaway_layer_is_mounted_volatile() {
        let l = Layers {
            volatile: true,
            ..layers()
        };
        assert!(
            overlay_options(&l)
                .unwrap()
                .ends_with(",workdir=/s/c/work,volatile")
        );
    }

    #[test]
    fn overlay_refuses_paths_it_cannot_quote() {
        let mut l = layers();
        l.lowers.push("/s/l/a:b".into());
        assert!(matches!(
            overlay_options(&l),
            Err(RootfsError::BadLayerPath(p)) if p == Path::new("/s/l/a:b")
        ));
    }

    #[test]
    fn the_sequence_makes_root_private_mounts_the_overlay_then_pivots_last() {
        let sys = RecordingSyscall::default();
        prepare_rootfs(&sys, &layers(), &[]).unwrap();
        let calls = sys.calls();
        assert_eq!(calls[0], Call::Unshare(UnshareFlags::NEWNS));
        assert_eq!(calls[1], Call::MakeRprivate("/".into()));
        let Call::Mount(overlay) = &calls[2] else {
            panic!("{:?}", calls[2])
        };
        assert_eq!(
            (overlay.fstype.as_str(), overlay.target.as_path()),
            ("overlay", Path::new("/s/c/merged"))
        );
        let n = calls.len();
        assert_eq!(
            &calls[n - 3..],
            &[
                Call::PivotRoot("/s/c/merged".into()),
                Call::UmountDetach(".".into()),
                Call::Chdir("/".into()),
            ]
        );
        let mounted: Vec<(&str, &Path)> = calls
            .iter()
            .filter_map(|c| match c {
                Call::Mount(m) => Some((m.fstype.as_str(), m.target.as_path())),
                _ => None,
            })
            .collect();
        assert_eq!(
            mounted,
            [
                ("overlay", Path::new("/s/c/merged")),
                ("proc", Path::new("/s/c/merged/proc")),
                ("tmpfs", Path::new("/s/c/merged/dev")),
                ("devpts", Path::new("/s/c/merged/dev/pts")),
                ("tmpfs", Path::new("/s/c/merged/dev/shm")),
                ("mqueue", Path::new("/s/c/merged/dev/mqueue")),
                ("sysfs", Path::new("/s/c/merged/sys")),
            ]
        );
    }

    #[test]
    fn dev_gets_the_six_devices_with_their_numbers() {
        let sys = RecordingSyscall::default();
        prepare_rootfs(&sys, &layers(), &[]).unwrap();
        let nodes: Vec<(String, u32, u32, u32)> = sys
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::MknodChar {
                    path,
                    mode,
                    major,
                    minor,
                } => Some((path.display().to_string(), mode, major, minor)),
                _ => None,
            })
            .collect();
        assert_eq!(
            nodes,
            [
                ("/s/c/merged/dev/null".to_owned(), 0o666, 1, 3),
                ("/s/c/merged/dev/zero".to_owned(), 0o666, 1, 5),
                ("/s/c/merged/dev/full".to_owned(), 0o666, 1, 7),
                ("/s/c/merged/dev/random".to_owned(), 0o666, 1, 8),
                ("/s/c/merged/dev/urandom".to_owned(), 0o666, 1, 9),
                ("/s/c/merged/dev/tty".to_owned(), 0o666, 5, 0),
            ]
        );
    }

    #[test]
    fn masks_files_with_dev_null_dirs_with_tmpfs_and_skips_missing_paths() {
        let mut sys = RecordingSyscall::default();
        sys.files
            .insert("/s/c/merged/proc/kcore".into(), FileKind::File);
        sys.files
            .insert("/s/c/merged/proc/acpi".into(), FileKind::Dir);
        sys.files
            .insert("/s/c/merged/proc/sys".into(), FileKind::Dir);
        prepare_rootfs(&sys, &layers(), &[]).unwrap();
        let calls = sys.calls();
        assert!(calls.contains(&Call::Bind {
            source: "/s/c/merged/dev/null".into(),
            target: "/s/c/merged/proc/kcore".into(),
            recursive: false
        }));
        assert!(calls.iter().any(|c| matches!(c,
            Call::Mount(m) if m.target == Path::new("/s/c/merged/proc/acpi")
                && m.fstype == "tmpfs" && m.flags == MountFlags::RDONLY)));
        let sys_at = calls
            .iter()
            .position(|c| {
                *c == Call::Bind {
                    source: "/s/c/merged/proc/sys".into(),
                    target: "/s/c/merged/proc/sys".into(),
                    recursive: true,
                }
            })
            .unwrap();
        assert!(matches!(&calls[sys_at + 1],
            Call::RemountBindReadonly(p, _) if p == Path::new("/s/c/merged/proc/sys")));
        // nothing is done to paths that do not exist
        assert!(
            !calls
                .iter()
                .any(|c| format!("{c:?}").contains("timer_stats"))
        );
    }

    #[test]
    fn etc_files_are_bind_mounted_from_the_container_dir() {
        let sys = RecordingSyscall::default();
        prepare_rootfs(&sys, &layers(), &[]).unwrap();
        for f in ETC_FILES {
            assert!(sys.calls().contains(&Call::Bind {
                source: Path::new("/s/c/etc").join(f),
                target: Path::new("/s/c/merged/etc").join(f),
                recursive: false,
            }));
        }
    }

    #[test]
    fn a_failed_mount_stops_the_sequence_before_pivot_root() {
        let mut sys = RecordingSyscall::default();
        sys.fail_mounts.insert("/s/c/merged/proc".into());
        let err = prepare_rootfs(&sys, &layers(), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mount \"/s/c/merged/proc\": Operation not permitted (os error 1)"
        );
        assert!(!sys.calls().iter().any(|c| matches!(c, Call::PivotRoot(_))));
    }

    fn volume(source: &str, target: &str) -> VolumeMount {
        VolumeMount {
            source: source.into(),
            target: target.into(),
            read_only: false,
            copy_image_content: false,
            tmpfs: false,
        }
    }

    /// The calls of the volume part of the sequence: from the first one that touches a
    /// volume's source up to the masked paths.
    fn volume_calls(sys: &RecordingSyscall, mounts: &[VolumeMount]) -> Vec<Call> {
        prepare_rootfs(sys, &layers(), mounts).unwrap();
        let calls = sys.calls();
        let touches = |c: &Call| {
            mounts.iter().any(|m| match c {
                Call::Bind { source, .. } | Call::Populate { to: source, .. } => {
                    *source == m.source
                }
                _ => false,
            })
        };
        let first = calls.iter().position(touches).unwrap();
        let last = calls.iter().rposition(touches).unwrap();
        // what follows a bind of this group: its mkdir before, its remount after
        let end = (last + 1..calls.len())
            .find(|&i| !matches!(calls[i], Call::RemountBindReadonly(..)))
            .unwrap_or(calls.len());
        let start = (0..first)
            .rev()
            .find(|&i| !matches!(calls[i], Call::MkdirAll(_) | Call::WriteFile(..)))
            .map_or(0, |i| i + 1);
        calls[start..end].to_vec()
    }

    #[test]
    fn volumes_are_bound_after_the_etc_files_and_before_pivot_root() {
        let sys = RecordingSyscall::default();
        prepare_rootfs(&sys, &layers(), &[volume("/v/data/_data", "/data")]).unwrap();
        let calls = sys.calls();
        let at = |c: &Call| calls.iter().position(|x| x == c).unwrap();
        let bind = at(&Call::Bind {
            source: "/v/data/_data".into(),
            target: "/s/c/merged/data".into(),
            recursive: true,
        });
        assert_eq!(calls[bind - 1], Call::MkdirAll("/s/c/merged/data".into()));
        assert!(
            bind > at(&Call::Bind {
                source: "/s/c/etc/resolv.conf".into(),
                target: "/s/c/merged/etc/resolv.conf".into(),
                recursive: false,
            })
        );
        assert!(bind < at(&Call::PivotRoot("/s/c/merged".into())));
        // no read-only remount of a writable volume
        assert!(!matches!(&calls[bind + 1], Call::RemountBindReadonly(..)));
    }

    #[test]
    fn a_tmpfs_is_mounted_with_dockerds_options_on_a_made_mount_point() {
        let sys = RecordingSyscall::default();
        let mounts = [
            VolumeMount {
                tmpfs: true,
                ..volume("", "/scratch")
            },
            VolumeMount {
                tmpfs: true,
                read_only: true,
                ..volume("", "/scratch/ro")
            },
        ];
        let hardened = MountFlags::NOEXEC | MountFlags::NOSUID | MountFlags::NODEV;
        let tmpfs = |target: &str, flags| {
            Call::Mount(Mount {
                source: "tmpfs".into(),
                target: target.into(),
                fstype: "tmpfs".into(),
                flags,
                data: String::new(),
            })
        };
        mount_volumes(&sys, Path::new("/s/c/merged"), &mounts).unwrap();
        assert_eq!(
            sys.calls(),
            [
                Call::MkdirAll("/s/c/merged/scratch".into()),
                tmpfs("/s/c/merged/scratch", hardened),
                Call::MkdirAll("/s/c/merged/scratch/ro".into()),
                tmpfs("/s/c/merged/scratch/ro", hardened | MountFlags::RDONLY),
            ]
        );
    }

    #[test]
    fn a_read_only_bind_is_remounted_rdonly_and_an_existing_target_is_not_created() {
        let mut sys = RecordingSyscall::default();
        sys.files.insert("/s/c/merged/etc".into(), FileKind::Dir);
        let mounts = [VolumeMount {
            read_only: true,
            ..volume("/host/conf", "/etc")
        }];
        assert_eq!(
            volume_calls(&sys, &mounts),
            [
                Call::Bind {
                    source: "/host/conf".into(),
                    target: "/s/c/merged/etc".into(),
                    recursive: true,
                },
                Call::RemountBindReadonly("/s/c/merged/etc".into(), MountFlags::empty()),
            ]
        );
    }

    #[test]
    fn a_files_bind_gets_an_empty_file_as_its_mount_point() {
        let mut sys = RecordingSyscall::default();
        sys.files.insert("/host/app.conf".into(), FileKind::File);
        let mounts = [volume("/host/app.conf", "/opt/app/app.conf")];
        assert_eq!(
            volume_calls(&sys, &mounts),
            [
                Call::MkdirAll("/s/c/merged/opt/app".into()),
                Call::WriteFile("/s/c/merged/opt/app/app.conf".into(), String::new()),
                Call::Bind {
                    source: "/host/app.conf".into(),
                    target: "/s/c/merged/opt/app/app.conf".into(),
                    recursive: true,
                },
            ]
        );
    }

    #[test]
    fn volumes_copy_the_images_content_first_then_mount_shallowest_first() {
        let sys = RecordingSyscall::default();
        let mounts = [
            VolumeMount {
                copy_image_content: true,
                ..volume("/v/inner/_data", "/srv/app/cache")
            },
            VolumeMount {
                copy_image_content: true,
                ..volume("/v/outer/_data", "/srv")
            },
            volume("/host/dir", "/srv/app/src"),
        ];
        let calls: Vec<Call> = volume_calls(&sys, &mounts)
            .into_iter()
            .filter(|c| !matches!(c, Call::MkdirAll(_)))
            .collect();
        let bind = |source: &str, target: &str| Call::Bind {
            source: source.into(),
            target: target.into(),
            recursive: true,
        };
        assert_eq!(
            calls,
            [
                Call::Populate {
                    from: "/s/c/merged/srv".into(),
                    to: "/v/outer/_data".into()
                },
                Call::Populate {
                    from: "/s/c/merged/srv/app/cache".into(),
                    to: "/v/inner/_data".into()
                },
                bind("/v/outer/_data", "/s/c/merged/srv"),
                bind("/v/inner/_data", "/s/c/merged/srv/app/cache"),
                bind("/host/dir", "/s/c/merged/srv/app/src"),
            ]
        );
    }

    #[test]
    fn a_target_through_symlinks_stays_inside_the_rootfs() {
        let mut sys = RecordingSyscall::default();
        // /data -> /etc (absolute), /up -> ../../../.. (relative, climbing past the root),
        // /etc/x -> /up/tmp
        sys.links.insert("/s/c/merged/data".into(), "/etc".into());
        sys.links
            .insert("/s/c/merged/up".into(), "../../../..".into());
        sys.links
            .insert("/s/c/merged/etc/x".into(), "/up/tmp".into());
        let root = Path::new("/s/c/merged");
        let resolve = |p: &str| resolve_in_root(&sys, root, p).unwrap();
        assert_eq!(resolve("/data/conf"), Path::new("/s/c/merged/etc/conf"));
        assert_eq!(resolve("/up"), Path::new("/s/c/merged"));
        assert_eq!(resolve("/up/host/etc"), Path::new("/s/c/merged/host/etc"));
        assert_eq!(resolve("/data/x"), Path::new("/s/c/merged/tmp"));
        assert_eq!(resolve("/a/../../b/./c"), Path::new("/s/c/merged/b/c"));
        let sys = {
            let mut s = RecordingSyscall::default();
            s.links
                .insert("/s/c/merged/up".into(), "../../../..".into());
            s
        };
        assert_eq!(
            volume_calls(&sys, &[volume("/host/x", "/up/mnt")]),
            [
                Call::MkdirAll("/s/c/merged/mnt".into()),
                Call::Bind {
                    source: "/host/x".into(),
                    target: "/s/c/merged/mnt".into(),
                    recursive: true,
                },
            ]
        );
    }

    #[test]
    fn a_symlink_loop_is_eloop_and_nothing_is_mounted_or_pivoted() {
        let mut sys = RecordingSyscall::default();
        sys.links.insert("/s/c/merged/a".into(), "/b".into());
        sys.links.insert("/s/c/merged/b".into(), "a".into());
        let err = prepare_rootfs(&sys, &layers(), &[volume("/v/x/_data", "/a/data")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "resolve \"/s/c/merged/a/data\": Too many levels of symbolic links (os error 40)"
        );
        let calls = sys.calls();
        assert!(!calls.iter().any(|c| matches!(c, Call::PivotRoot(_))));
        assert!(
            !calls.iter().any(
                |c| matches!(c, Call::Bind { source, .. } if source == Path::new("/v/x/_data"))
            )
        );
    }

    #[test]
    fn the_init_layer_takes_the_images_directory_metadata() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let (base, top, init) = (
            tmp.path().join("base"),
            tmp.path().join("top"),
            tmp.path().join("init"),
        );
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        for (layer, mode) in [(&base, 0o755), (&top, 0o750)] {
            std::fs::create_dir_all(layer.join("etc")).unwrap();
            std::fs::set_permissions(layer.join("etc"), std::fs::Permissions::from_mode(mode))
                .unwrap();
        }
        std::fs::File::open(top.join("etc"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        write_init_layer(&init, &[base, top]).unwrap();
        let etc = std::fs::metadata(init.join("etc")).unwrap();
        assert_eq!(etc.permissions().mode() & 0o7777, 0o750, "the top layer's");
        assert_eq!(etc.modified().unwrap(), old);
        assert!(init.join("etc/hosts").is_file());
        assert!(init.join("proc").is_dir());
    }

    #[test]
    fn etc_files_hold_the_hostname() {
        let dir = tempfile::tempdir().unwrap();
        write_etc_files(dir.path(), "abc123").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("hostname")).unwrap(),
            "abc123\n"
        );
        let hosts = std::fs::read_to_string(dir.path().join("hosts")).unwrap();
        assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"), "{hosts}");
        assert!(!hosts.contains("abc123"), "{hosts}");
        let resolv = std::fs::read_to_string(dir.path().join("resolv.conf")).unwrap();
        assert!(!resolv.contains("nameserver 127."), "{resolv}");
    }
}
