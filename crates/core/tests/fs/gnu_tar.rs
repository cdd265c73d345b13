//! Cross-checks of layer tars with GNU tar: a tree archived by GNU tar reads back as the tree,
//! and a layer we write extracts with GNU tar to the layer.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use layerbox_core::fs::tar::{TarOptions, read_layer, write_layer};

use super::tree::{DiskView, describe_diff, disk_tree, layer_tree};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("layerbox-gnu-tar-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small tree with what layers hold: modes, symlinks (absolute and relative), a hard link,
/// a name too long for a plain ustar header, an empty file and a setuid binary.
fn make_tree(root: &Path) {
    let long = "a-directory-name-that-is-long/".repeat(4);
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir_all(root.join("etc/ssl")).unwrap();
    fs::create_dir_all(root.join(&long)).unwrap();
    fs::write(root.join("usr/bin/busybox"), vec![0x7f; 5000]).unwrap();
    fs::set_permissions(
        root.join("usr/bin/busybox"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    fs::hard_link(root.join("usr/bin/busybox"), root.join("usr/bin/ls")).unwrap();
    symlink("/usr/bin/busybox", root.join("usr/bin/sh")).unwrap();
    symlink("../usr/bin", root.join("etc/bin")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/ssl/empty"), "").unwrap();
    fs::set_permissions(root.join("etc/ssl"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(
        root.join(long).join("file-with-a-long-name-too.txt"),
        "deep\n",
    )
    .unwrap();
}

fn gnu_tar(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .args(args)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .output()
        .expect("GNU tar runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn reads_what_gnu_tar_writes() {
    let dir = temp_dir("read");
    make_tree(&dir);
    let want = disk_tree(&dir, DiskView::Plain);
    for format in ["--format=gnu", "--format=posix"] {
        let bytes = gnu_tar(&["-c", format, "-f", "-"], &dir);
        let layer = read_layer(&bytes).unwrap_or_else(|e| panic!("{format}: {e}"));
        let got = layer_tree(&layer);
        assert!(got == want, "{format}:\n{}", describe_diff(&got, &want));
        assert_eq!(
            layer.size(),
            5000 + 16 + 10 + 30 + 5,
            "{format}: the hard link counts once"
        );
    }
    let gz = Command::new("sh")
        .arg("-c")
        .arg(format!("tar -C {} -czf - .", dir.display()))
        .output()
        .unwrap();
    assert_eq!(
        layer_tree(&read_layer(&gz.stdout).unwrap()),
        want,
        "gzipped"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn gnu_tar_extracts_what_we_write() {
    let src = temp_dir("src");
    make_tree(&src);
    let layer = read_layer(&gnu_tar(&["-cf", "-"], &src)).unwrap();
    let bytes = write_layer(&layer, &TarOptions::default());
    let out = temp_dir("out");
    let mut child = Command::new("tar")
        .args(["-x", "-p", "--same-owner", "-f", "-", "-C"])
        .arg(&out)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &bytes).unwrap();
    assert!(child.wait().unwrap().success());
    let (got, want) = (
        disk_tree(&out, DiskView::Plain),
        disk_tree(&src, DiskView::Plain),
    );
    assert!(got == want, "{}", describe_diff(&got, &want));
    let _ = fs::remove_dir_all(&src);
    let _ = fs::remove_dir_all(&out);
}
