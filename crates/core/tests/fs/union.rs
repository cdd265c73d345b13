//! Union filesystem semantics through the public API: copy-up, whiteouts, opaque directories,
//! symlinks confined to the root, hard links, the index across many layers, commits.

use std::sync::Arc;

use layerbox_core::fs::{
    Entry, EntryKind, FileData, FileType, FsError, FsEvent, Layer, LayerStack, Meta, UnionFs,
};

/// A stack built by running `f` on an empty writable view and committing it.
fn image(f: impl FnOnce(&mut UnionFs)) -> LayerStack {
    let mut fs = UnionFs::new(LayerStack::new());
    f(&mut fs);
    LayerStack::from_layers([Arc::new(fs.into_upper())]).unwrap()
}

fn base() -> LayerStack {
    image(|fs| {
        fs.mkdir_all("/etc/ssl", 0o755).unwrap();
        fs.write("/etc/passwd", b"root:x:0:0\n", 0o644).unwrap();
        fs.write("/etc/ssl/cert.pem", b"CERT", 0o644).unwrap();
        fs.mkdir_all("/usr/bin", 0o755).unwrap();
        fs.write("/usr/bin/busybox", b"\x7fELF", 0o755).unwrap();
        fs.symlink("/usr/bin/busybox", "/usr/bin/sh").unwrap();
        fs.symlink("usr/bin", "/bin").unwrap();
    })
}

fn names(fs: &UnionFs, dir: &str) -> Vec<String> {
    fs.read_dir(dir)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

fn diff(fs: &UnionFs) -> Vec<String> {
    fs.changes().iter().map(ToString::to_string).collect()
}

#[test]
fn writes_copy_up_and_deletes_leave_whiteouts() {
    let mut fs = UnionFs::new(base());
    fs.set_now(100);
    fs.append("/etc/passwd", b"app:x:1000:1000\n").unwrap();
    assert_eq!(
        fs.take_events(),
        [
            FsEvent::CopyUp {
                path: "/etc".into(),
                from_layer: 0,
                file_type: FileType::Dir
            },
            FsEvent::CopyUp {
                path: "/etc/passwd".into(),
                from_layer: 0,
                file_type: FileType::File
            },
        ]
    );
    assert_eq!(
        fs.read("/etc/passwd").unwrap().bytes().unwrap(),
        b"root:x:0:0\napp:x:1000:1000\n"
    );
    assert_eq!(
        fs.lower().entry("etc/passwd").unwrap().1.size(),
        11,
        "the lower layer is untouched"
    );
    fs.remove_all("/etc/ssl").unwrap();
    assert_eq!(
        fs.take_events(),
        [FsEvent::Whiteout {
            path: "/etc/ssl".into()
        }]
    );
    assert!(matches!(
        fs.stat("/etc/ssl/cert.pem"),
        Err(FsError::NotFound(_))
    ));
    assert_eq!(names(&fs, "/etc"), ["passwd"]);
    assert_eq!(diff(&fs), ["C /etc", "C /etc/passwd", "D /etc/ssl"]);
}

#[test]
fn metadata_changes_copy_up_too() {
    let mut fs = UnionFs::new(base());
    fs.chmod("/usr/bin/busybox", 0o4755).unwrap();
    fs.chown("/etc/passwd", 0, 42).unwrap();
    fs.set_mtime("/etc/ssl/cert.pem", 7).unwrap();
    let copied: Vec<String> = fs
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            FsEvent::CopyUp { path, .. } => Some(path),
            _ => None,
        })
        .collect();
    assert_eq!(
        copied,
        [
            "/usr",
            "/usr/bin",
            "/usr/bin/busybox",
            "/etc",
            "/etc/passwd",
            "/etc/ssl",
            "/etc/ssl/cert.pem"
        ]
    );
    let st = fs.stat("/bin/sh").unwrap();
    assert_eq!(
        (st.mode, st.layer),
        (0o4755, None),
        "followed /bin -> usr/bin and sh -> busybox"
    );
    assert_eq!(fs.stat("/etc/passwd").unwrap().gid, 42);
    assert_eq!(fs.stat("/etc/ssl/cert.pem").unwrap().mtime, 7);
}

#[test]
fn replacing_a_directory_makes_it_opaque() {
    let mut fs = UnionFs::new(base());
    fs.remove_all("/etc").unwrap();
    fs.mkdir("/etc", 0o700).unwrap();
    fs.write("/etc/hostname", b"box\n", 0o644).unwrap();
    let events = fs.take_events();
    assert!(events.contains(&FsEvent::Whiteout {
        path: "/etc".into()
    }));
    assert!(events.contains(&FsEvent::OpaqueDir {
        path: "/etc".into()
    }));
    assert_eq!(
        names(&fs, "/etc"),
        ["hostname"],
        "nothing of the lower /etc shows through"
    );
    assert_eq!(diff(&fs), ["C /etc", "A /etc/hostname"]);
    let layer = fs.into_upper();
    assert!(matches!(layer.get("etc"), Some(layerbox_core::fs::Change::Entry(e)) if e.is_opaque()));
}

#[test]
fn symlinks_resolve_inside_the_root_and_loops_fail() {
    let mut fs = UnionFs::new(base());
    fs.symlink("../../../../etc/passwd", "/usr/escape").unwrap();
    fs.symlink("/../../etc", "/abs").unwrap();
    assert_eq!(fs.canonicalize("/usr/escape").unwrap(), "/etc/passwd");
    assert_eq!(
        fs.canonicalize("/abs/ssl/../passwd").unwrap(),
        "/etc/passwd"
    );
    fs.write("/usr/escape", b"still inside\n", 0o644).unwrap();
    assert_eq!(
        fs.read("/etc/passwd").unwrap().bytes().unwrap(),
        b"still inside\n"
    );
    fs.symlink("b", "/a").unwrap();
    fs.symlink("a", "/b").unwrap();
    assert_eq!(fs.read("/a").unwrap_err(), FsError::Loop("/a".into()));
    assert_eq!(
        fs.read("/a").unwrap_err().to_string(),
        "`/a`: too many levels of symbolic links"
    );
    assert_eq!(fs.lstat("/a").unwrap().file_type, FileType::Symlink);
    // A chain of 40 links resolves; 41 is too many, as on Linux.
    fs.write("/t0", b"end", 0o644).unwrap();
    for i in 1..=41 {
        fs.symlink(&format!("t{}", i - 1), &format!("/t{i}"))
            .unwrap();
    }
    assert!(fs.read("/t40").is_ok());
    assert!(matches!(fs.read("/t41"), Err(FsError::Loop(_))));
    assert!(matches!(
        fs.read("/etc/passwd/x"),
        Err(FsError::NotADirectory(_))
    ));
    assert_eq!(
        FsError::NotFound("/x".into()).strerror(),
        "No such file or directory"
    );
}

#[test]
fn hard_links_share_data_until_a_lower_one_is_copied_up() {
    let mut fs = UnionFs::new(base());
    fs.hardlink("/etc/passwd", "/etc/passwd.bak").unwrap();
    fs.append("/etc/passwd.bak", b"x\n").unwrap();
    assert_eq!(
        fs.read("/etc/passwd").unwrap().bytes().unwrap(),
        b"root:x:0:0\nx\n"
    );
    assert_eq!(fs.stat("/etc/passwd").unwrap().nlink, 2);
    assert!(matches!(
        fs.hardlink("/etc", "/etc2"),
        Err(FsError::NotPermitted(_))
    ));
    fs.remove("/etc/passwd").unwrap();
    assert_eq!(
        fs.read("/etc/passwd.bak").unwrap().bytes().unwrap(),
        b"root:x:0:0\nx\n"
    );
    assert_eq!(fs.stat("/etc/passwd.bak").unwrap().nlink, 1);

    // Committed, the two names are one inode of a read-only layer; copying one name up breaks
    // the link (overlayfs with index=off).
    let mut fs = UnionFs::new(base());
    fs.hardlink("/etc/passwd", "/etc/passwd.bak").unwrap();
    fs.commit().unwrap();
    fs.write("/etc/passwd", b"new\n", 0o644).unwrap();
    assert_eq!(
        fs.read("/etc/passwd.bak").unwrap().bytes().unwrap(),
        b"root:x:0:0\n"
    );
}

#[test]
fn lookups_use_the_index_across_many_layers() {
    let mut stack = LayerStack::new();
    let meta = Meta::new(0o644, 0);
    for i in 0..128u32 {
        let mut layer = Layer::new();
        layer.insert(format!("f{i}"), Entry::file(meta, i.to_string()));
        layer.insert("shared", Entry::file(meta, i.to_string()));
        if i % 2 == 1 {
            layer.insert_whiteout(format!("f{}", i - 1));
        }
        stack.push(layer).unwrap();
    }
    assert_eq!(stack.len(), 128);
    assert_eq!(stack.path_count(), 65, "64 odd files and `shared`");
    let (layer, e) = stack.entry("shared").unwrap();
    assert_eq!((layer, e.size()), (127, 3));
    assert_eq!(stack.entry("f77").unwrap().0, 77);
    assert!(stack.entry("f76").is_none());
    let fs = UnionFs::read_only(stack);
    assert_eq!(fs.read_dir("/").unwrap().len(), 65);
    assert_eq!(fs.stat("/f5").unwrap().layer, Some(5));
}

#[test]
fn read_only_views_refuse_changes() {
    let mut fs = UnionFs::read_only(base());
    assert_eq!(
        fs.write("/x", b"", 0o644).unwrap_err().to_string(),
        "`/x`: read-only file system"
    );
    assert!(matches!(fs.chmod("/etc", 0o700), Err(FsError::ReadOnly(_))));
    assert!(fs.read("/etc/passwd").is_ok());
}

#[test]
fn commit_stacks_the_writable_layer_and_lists_changes_per_layer() {
    let mut fs = UnionFs::new(base());
    fs.set_now(5);
    fs.write("/app.py", b"print()\n", 0o644).unwrap();
    let layer = fs.commit().unwrap();
    assert_eq!(layer.size(), 8);
    fs.remove("/app.py").unwrap();
    fs.commit().unwrap();
    let per_layer: Vec<Vec<String>> = fs
        .lower()
        .layer_changes()
        .into_iter()
        .map(|cs| cs.into_iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(per_layer.len(), 3);
    assert_eq!(per_layer[1], ["A /app.py"]);
    assert_eq!(per_layer[2], ["D /app.py"]);
    assert!(fs.upper().unwrap().is_empty());
}

#[test]
fn put_replaces_with_explicit_metadata() {
    let mut fs = UnionFs::new(base());
    let meta = Meta {
        mode: 0o600,
        uid: 1000,
        gid: 1000,
        mtime: 1,
    };
    fs.put("/etc/passwd", Entry::file(meta, "copied")).unwrap();
    fs.put(
        "/etc",
        Entry::dir(Meta {
            mode: 0o750,
            ..meta
        }),
    )
    .unwrap();
    let st = fs.stat("/etc/passwd").unwrap();
    assert_eq!((st.mode, st.uid, st.size), (0o600, 1000, 6));
    assert_eq!(fs.stat("/etc").unwrap().mode, 0o750);
    assert!(
        fs.exists("/etc/ssl/cert.pem"),
        "a directory over a directory merges"
    );
    let big = FileData::Simulated {
        size: 1 << 30,
        digest: layerbox_core::image::Digest::sha256_of(b"w"),
    };
    fs.put(
        "/model.bin",
        Entry {
            meta,
            kind: EntryKind::File(big),
        },
    )
    .unwrap();
    assert_eq!(fs.stat("/model.bin").unwrap().size, 1 << 30);
    assert_eq!(fs.upper().unwrap().size(), 6 + (1 << 30));
}

#[test]
fn renaming_a_lower_directory_moves_it_like_mv() {
    let mut fs = UnionFs::new(base());
    fs.rename("/etc", "/config").unwrap();
    assert_eq!(
        fs.read("/config/ssl/cert.pem").unwrap().bytes().unwrap(),
        b"CERT"
    );
    assert!(!fs.exists("/etc"));
    assert_eq!(
        diff(&fs),
        [
            "A /config",
            "A /config/passwd",
            "A /config/ssl",
            "A /config/ssl/cert.pem",
            "D /etc"
        ]
    );
    assert!(matches!(
        fs.rename("/config", "/config/sub"),
        Err(FsError::InvalidArgument(_))
    ));
    assert!(matches!(
        fs.rename("/usr/bin/busybox", "/usr"),
        Err(FsError::DirectoryNotEmpty(_))
    ));
}

#[test]
fn state_round_trips_through_serde() {
    let mut fs = UnionFs::new(base());
    fs.write("/new", b"n", 0o644).unwrap();
    fs.remove("/etc/passwd").unwrap();
    let json = serde_json::to_string(&fs).unwrap();
    let back: UnionFs = serde_json::from_str(&json).unwrap();
    assert_eq!(back.upper(), fs.upper());
    assert_eq!(back.lower(), fs.lower());
    assert!(!back.exists("/etc/passwd"));
    assert_eq!(back.read("/new").unwrap().bytes().unwrap(), b"n");
}

#[test]
fn unpack_writes_through_a_symlinked_dir_and_keeps_directories() {
    let mut fs = UnionFs::new(base());
    let meta_file = |n: &str| EntryKind::File(FileData::Bytes(n.as_bytes().to_vec()));
    let written = fs
        .unpack(
            "/bin",
            [
                ("sh", 0o755, meta_file("new sh")),
                ("ls", 0o755, meta_file("ls")),
                ("link", 0o777, EntryKind::Symlink("ls".into())),
            ],
        )
        .unwrap();
    assert_eq!(written, [true, true, true]);
    // Through /bin -> usr/bin: the symlink at usr/bin/sh is replaced by a file.
    assert_eq!(
        fs.read("/usr/bin/sh").unwrap().bytes(),
        Some(&b"new sh"[..])
    );
    assert_eq!(fs.lstat("/usr/bin/ls").unwrap().mode, 0o755);
    assert_eq!(fs.read_link("/usr/bin/link").unwrap(), "ls");
    // A file where a directory is leaves the directory; a missing directory is made.
    let written = fs
        .unpack("/opt/app", [("x", 0o644, meta_file("x"))])
        .unwrap();
    assert_eq!(written, [true]);
    let written = fs.unpack("/", [("etc", 0o644, meta_file("no"))]).unwrap();
    assert_eq!(written, [false]);
    assert!(fs.lstat("/etc/passwd").is_ok());
    assert!(matches!(
        fs.unpack("/etc", [("a/b", 0o644, meta_file("no"))]),
        Err(FsError::InvalidArgument(_))
    ));
    assert!(matches!(
        fs.unpack("/etc/passwd", [("a", 0o644, meta_file("no"))]),
        Err(FsError::NotADirectory(_))
    ));
    assert_eq!(
        diff(&fs),
        [
            "A /opt",
            "A /opt/app",
            "A /opt/app/x",
            "A /usr/bin/link",
            "A /usr/bin/ls",
            "C /usr/bin/sh"
        ]
    );
}
