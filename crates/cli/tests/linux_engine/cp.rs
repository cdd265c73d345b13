//! `cp` on the Linux engine, through the binary: into a created, a running and an exited
//! container (the upper directory or the mounted root), out of each, a whiteout replaced,
//! `diff` and `commit` seeing the copy, owners kept, and no way out of the container's root.

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use super::Lab;
use crate::linux_root::root_only;

#[test]
fn copies_in_and_out_of_created_running_and_exited_containers() {
    let _g = root_only!();
    let lab = Lab::new();
    let host = lab.path().join("host");
    std::fs::create_dir_all(host.join("dir/sub")).unwrap();
    std::fs::write(host.join("dir/sub/a"), "a\n").unwrap();
    std::fs::write(host.join("note"), "note\n").unwrap();
    std::os::unix::fs::lchown(host.join("note"), Some(1234), Some(5678)).unwrap();
    let h = |p: &str| host.join(p).to_string_lossy().into_owned();

    // created: into the upper directory, parents copied up
    lab.ok(&[
        "create",
        "--name",
        "made",
        "busybox",
        "cat",
        "/etc/note",
        "/opt/dir/sub/a",
    ]);
    assert_eq!(lab.ok(&["cp", &h("note"), "made:/etc/"]), "");
    assert_eq!(lab.ok(&["cp", &h("dir"), "made:/opt"]), "");
    let diff = lab.ok(&["diff", "made"]);
    for line in [
        "C /etc",
        "A /etc/note",
        "C /opt",
        "A /opt/dir",
        "A /opt/dir/sub/a",
    ] {
        assert!(diff.lines().any(|l| l == line), "{line}: {diff}");
    }
    let id = lab.ok(&["inspect", "-f", "{{.Id}}", "made"]);
    let upper = lab.root().join("containers").join(id.trim()).join("upper");
    let note = std::fs::metadata(upper.join("etc/note")).unwrap();
    assert_eq!((note.uid(), note.gid()), (1234, 5678));
    assert_eq!(lab.ok(&["start", "-a", "made"]), "note\na\n");

    // exited: a whiteout the container made is replaced by the copy
    lab.ok(&["run", "--name", "gone", "busybox", "rm", "/etc/motd"]);
    let id = lab.ok(&["inspect", "-f", "{{.Id}}", "gone"]);
    let upper = lab.root().join("containers").join(id.trim()).join("upper");
    assert!(
        std::fs::symlink_metadata(upper.join("etc/motd"))
            .unwrap()
            .file_type()
            .is_char_device()
    );
    lab.ok(&["cp", &h("note"), "gone:/etc/motd"]);
    assert!(
        std::fs::symlink_metadata(upper.join("etc/motd"))
            .unwrap()
            .is_file()
    );
    assert!(
        lab.ok(&["diff", "gone"])
            .lines()
            .any(|l| l == "C /etc/motd")
    );
    lab.ok(&["commit", "gone", "withnote"]);
    assert_eq!(
        lab.ok(&["run", "--rm", "withnote", "cat", "/etc/motd"]),
        "note\n"
    );

    // running: through the mounted root; a link climbing out stays inside
    lab.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "60"]);
    lab.ok(&["exec", "up", "ln", "-s", "../../../../../../..", "/tmp/out"]);
    lab.ok(&["cp", &h("note"), "up:/tmp/out/tmp/landed"]);
    assert_eq!(lab.ok(&["exec", "up", "cat", "/tmp/landed"]), "note\n");
    assert!(!std::path::Path::new("/tmp/landed").exists());
    lab.ok(&["exec", "up", "sh", "-c", "echo made inside > /root/inside"]);
    lab.ok(&["cp", "up:/root/.", &h("fromup")]);
    assert_eq!(
        std::fs::read_to_string(host.join("fromup/inside")).unwrap(),
        "made inside\n"
    );
    lab.ok(&["cp", "made:/opt/dir/sub/a", &h("a-out")]);
    assert_eq!(std::fs::read_to_string(host.join("a-out")).unwrap(), "a\n");

    // a tar on stdin, and one to stdout
    let mut tar = tar::Builder::new(Vec::new());
    let mut h_ = tar::Header::new_gnu();
    h_.set_size(6);
    h_.set_mode(0o600);
    h_.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h_, "piped", &b"piped\n"[..]).unwrap();
    let tar = tar.into_inner().unwrap();
    let mut child = lab
        .command(&["cp", "-", "up:/tmp"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &tar).unwrap();
    let piped = child.wait_with_output().unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(lab.ok(&["exec", "up", "cat", "/tmp/piped"]), "piped\n");
    let out = lab.layerbox(&["cp", "up:/tmp/piped", "-"]);
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["piped"]);

    // docker's errors (a copy in asks for the parent: "nosuch:/", as docker does)
    let (_, err, code) = lab.all(&["cp", "made:/nope", &h("x")]);
    assert_eq!(
        (err.as_str(), code),
        ("Error: No such container:path: made:/nope\n", 1)
    );
    let (_, err, code) = lab.all(&["cp", &h("note"), "nosuch:/tmp"]);
    assert_eq!(
        (err.as_str(), code),
        ("Error: No such container:path: nosuch:/\n", 1)
    );
    let (_, err, code) = lab.all(&["cp", &h("dir"), "made:/etc/passwd"]);
    assert_eq!((err.as_str(), code), ("cannot copy directory\n", 1));
    lab.ok(&["rm", "-f", "up", "made", "gone"]);
    lab.assert_clean();
}
