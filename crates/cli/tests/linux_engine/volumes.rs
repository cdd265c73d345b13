//! Volumes and bind mounts (`-v`) end to end on the Linux engine: named volumes outlive their
//! containers, anonymous ones (`-v /path`, the image's `VOLUME`) go with `rm -v` and
//! `run --rm`, the image's content fills a new volume, `diff` and `commit` leave volume data
//! out, binds show host directories (read-only with `:ro`) and never lose their content.

use std::path::Path;

use super::{Lab, as_nobody, assert_no_mounts_below, root_only};

/// The names `volume ls -q` lists, sorted.
fn volumes(lab: &Lab) -> Vec<String> {
    let mut names: Vec<String> = lab
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn named_volumes_outlive_containers_and_anonymous_ones_go_with_rm_v() {
    let _g = root_only!();
    let lab = Lab::new();
    let ctx = lab.context(&[("Dockerfile", "FROM busybox\nVOLUME /opt/cache\n")]);
    lab.ok(&["build", "-q", "-t", "withvol", ctx.to_str().unwrap()]);
    // the image's VOLUME is an anonymous volume filled with the image's /opt/cache
    let out = lab.ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "notes:/notes",
        "withvol",
        "sh",
        "-c",
        "cat /opt/cache/a; echo kept > /notes/n; echo new > /opt/cache/b; echo mine > /mine",
    ]);
    assert_eq!(out, "a\n");
    let names = volumes(&lab);
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[1], "notes");
    let anonymous = names[0].clone();
    assert!(is_anonymous(&anonymous), "{anonymous}");
    let data = lab.root().join("volumes").join(&anonymous).join("_data");
    assert_eq!(std::fs::read_to_string(data.join("b")).unwrap(), "new\n");
    // the mount point is the container's change, what went into the volumes is not
    assert_eq!(lab.ok(&["diff", "writer"]), "A /mine\nA /notes\n");
    lab.ok(&["commit", "writer", "snapshot"]);
    assert_eq!(
        lab.ok(&["run", "--rm", "--entrypoint", "ls", "snapshot", "/notes"]),
        ""
    );
    // the Mounts docker shows, the volume's files under the store
    let mounts: serde_json::Value =
        serde_json::from_str(&lab.ok(&["inspect", "-f", "{{json .Mounts}}", "writer"])).unwrap();
    let notes = mounts
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == "notes")
        .unwrap();
    assert_eq!(notes["Type"], "volume");
    assert_eq!(notes["Destination"], "/notes");
    assert_eq!(notes["Mode"], "z");
    let source = notes["Source"].as_str().unwrap();
    assert!(
        Path::new(source).ends_with("store/volumes/notes/_data"),
        "{source}"
    );
    // a volume in use is not removed, in dockerd's words
    let id = lab.ok(&["inspect", "-f", "{{.Id}}", "writer"]);
    assert_eq!(
        lab.all(&["volume", "rm", "notes"]),
        (
            String::new(),
            format!(
                "Error response from daemon: remove notes: volume is in use - [{}]\n",
                id.trim()
            ),
            1
        )
    );
    // another container finds what the first one left
    assert_eq!(
        lab.ok(&[
            "run",
            "--rm",
            "-v",
            "notes:/srv",
            "busybox",
            "cat",
            "/srv/n"
        ]),
        "kept\n"
    );
    let df = lab.ok(&["system", "df"]);
    let line = df.lines().find(|l| l.starts_with("Local Volumes")).unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["Local", "Volumes", "2", "2", "11B", "0B", "(0%)"],
        "{df}"
    );
    // rm -v takes the anonymous volume and leaves the named one
    assert_eq!(lab.ok(&["rm", "-v", "writer"]), "writer\n");
    assert_eq!(volumes(&lab), ["notes"]);
    assert!(!data.exists());
    // run --rm takes its anonymous volumes too
    lab.ok(&["run", "--rm", "-v", "/scratch", "withvol", "true"]);
    assert_eq!(volumes(&lab), ["notes"]);
    assert_eq!(
        lab.ok(&["volume", "prune", "-f"]),
        "Deleted Volumes:\nnotes\n\nTotal reclaimed space: 5B\n"
    );
    assert!(volumes(&lab).is_empty());
    assert!(!lab.root().join("volumes/notes").exists());
    lab.assert_clean();
}

#[test]
fn binds_show_host_paths_read_only_with_ro_and_keep_their_content() {
    let _g = root_only!();
    let lab = Lab::new();
    let host = lab.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("conf"), "from the host\n").unwrap();
    let made = lab.path().join("made/by/run");
    let ro = format!("{}:/etc/app:ro", host.display());
    let file = format!("{}:/etc/motd", host.join("conf").display());
    let missing = format!("{}:/out", made.display());
    let (out, err, code) = lab.all(&[
        "run",
        "--name",
        "binds",
        "-v",
        &ro,
        "-v",
        &file,
        "-v",
        &missing,
        "busybox",
        "sh",
        "-c",
        "cat /etc/app/conf /etc/motd; echo x > /etc/app/new || echo refused; echo out > /out/o",
    ]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        (
            "from the host\nfrom the host\nrefused\n",
            "sh: can't create /etc/app/new: Read-only file system\n",
            0
        )
    );
    // dockerd makes a missing host directory for -v
    assert_eq!(std::fs::read_to_string(made.join("o")).unwrap(), "out\n");
    assert_eq!(lab.ok(&["diff", "binds"]), "C /etc\nA /etc/app\nA /out\n");
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{json .HostConfig.Binds}}", "binds"]),
        format!("[\"{ro}\",\"{file}\",\"{missing}\"]\n")
    );
    // a bind is no volume: rm -v leaves the host's files where they are
    lab.ok(&["rm", "-v", "binds"]);
    assert!(host.join("conf").exists());
    assert!(made.join("o").exists());
    assert!(volumes(&lab).is_empty());
    lab.assert_clean();
}

#[test]
fn rootless_volumes_and_read_only_binds_work_in_a_user_namespace() {
    let _g = root_only!();
    let lab = Lab::new();
    let home = lab.nobody_home(&[("host/f", "hostfile\n")]);
    let bind = format!("{}:/h:ro", home.join("host").display());
    let run = |args: &[&str]| {
        let (out, err, code) = as_nobody(&home, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        (out, err)
    };
    run(&["import", "busybox.tar", "busybox"]);
    let (out, err) = run(&[
        "run",
        "--rm",
        "-v",
        "vol:/data",
        "-v",
        &bind,
        "busybox",
        "sh",
        "-c",
        "cat /h/f; echo x > /h/new; echo y > /data/y",
    ]);
    assert_eq!(out, "hostfile\n");
    assert_eq!(err, "sh: can't create /h/new: Read-only file system\n");
    assert_eq!(
        run(&["run", "--rm", "-v", "vol:/v", "busybox", "cat", "/v/y"]).0,
        "y\n"
    );
    assert_eq!(run(&["volume", "ls", "-q"]).0, "vol\n");
    assert_no_mounts_below(lab.path());
}

#[test]
fn cp_reads_and_writes_the_volume_at_a_mount_point_running_or_not() {
    let _g = root_only!();
    let lab = Lab::new();
    lab.ok(&[
        "run",
        "--name",
        "stopped",
        "-v",
        "box:/data",
        "busybox",
        "sh",
        "-c",
        "echo from-container > /data/f",
    ]);
    let host = lab.path().join("h");
    std::fs::write(&host, "from-host\n").unwrap();
    let out = lab.layerbox(&["cp", "stopped:/data/f", "-"]);
    assert!(out.status.success(), "{out:?}");
    let mut tar = tar::Archive::new(&out.stdout[..]);
    let mut entry = tar.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
    assert_eq!(text, "from-container\n");
    // into a stopped container: the file lands in the volume, not in its layer
    lab.ok(&["cp", host.to_str().unwrap(), "stopped:/data/in"]);
    let data = lab.root().join("volumes/box/_data");
    assert_eq!(
        std::fs::read_to_string(data.join("in")).unwrap(),
        "from-host\n"
    );
    assert_eq!(lab.ok(&["diff", "stopped"]), "A /data\n");
    // and into a running one too, where its process sees it
    lab.ok(&[
        "run", "-d", "--name", "up", "-v", "box:/srv", "busybox", "sleep", "60",
    ]);
    lab.ok(&["cp", host.to_str().unwrap(), "up:/srv/live"]);
    assert_eq!(lab.ok(&["exec", "up", "cat", "/srv/live"]), "from-host\n");
    assert!(data.join("live").exists());
    lab.ok(&["rm", "-f", "up"]);
    lab.assert_clean();
}

#[test]
fn a_tmpfs_mount_holds_its_files_in_memory_and_out_of_the_containers_layer() {
    let _g = root_only!();
    let lab = Lab::new();
    let out = lab.ok(&[
        "run",
        "--name",
        "scratcher",
        "--mount",
        "type=tmpfs,destination=/scratch",
        "busybox",
        "sh",
        "-c",
        "echo hi > /scratch/f; cat /scratch/f; grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4",
    ]);
    let (written, mount) = out.split_once('\n').unwrap();
    assert_eq!(written, "hi");
    let (fstype, options) = mount.trim_end().split_once(' ').unwrap();
    assert_eq!(fstype, "tmpfs", "{out}");
    let options: Vec<&str> = options.split(',').collect();
    for wanted in ["rw", "nosuid", "nodev", "noexec"] {
        assert!(options.contains(&wanted), "{wanted} in {options:?}");
    }
    // the mount point is the container's change; what was written in the tmpfs is not
    assert_eq!(lab.ok(&["diff", "scratcher"]), "A /scratch\n");
    // read-only with `readonly`, and empty again in the next container
    let (out, err, code) = lab.all(&[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,destination=/scratch,readonly",
        "busybox",
        "sh",
        "-c",
        "ls -A /scratch; echo x > /scratch/g",
    ]);
    assert_eq!((out.as_str(), code), ("", 1), "{err}");
    assert_eq!(err, "sh: can't create /scratch/g: Read-only file system\n");
    lab.ok(&["rm", "scratcher"]);
    lab.assert_clean();
}
