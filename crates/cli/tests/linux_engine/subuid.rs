//! Rootless with subordinate IDs: a user the test creates, with ranges in `/etc/subuid` and
//! `/etc/subgid`, gets IDs 1 and up mapped onto them through `newuidmap`/`newgidmap`, so the
//! container can have other users. Skipped (with a note) where shadow's helpers are missing.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use super::{Lab, as_user};
use crate::linux_root::root_only;

/// A user made for the test, removed (with its subordinate ranges) when dropped.
struct TestUser {
    name: String,
    /// Lines this test added to /etc/subuid and /etc/subgid (where useradd did not).
    added: Option<String>,
}

impl TestUser {
    fn create(home: &Path) -> Self {
        let name = format!("lbsub{}", std::process::id());
        let status = Command::new("useradd")
            .args([
                "--no-create-home",
                "--user-group",
                "--shell",
                "/bin/sh",
                "--home-dir",
            ])
            .arg(home)
            .arg(&name)
            .status()
            .unwrap();
        assert!(status.success(), "useradd {name}");
        let mut user = Self { name, added: None };
        let listed = |file: &str| {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with(&format!("{}:", user.name)))
        };
        if !listed("/etc/subuid") || !listed("/etc/subgid") {
            let line = format!("{}:3000000:65536\n", user.name);
            for file in ["/etc/subuid", "/etc/subgid"] {
                let mut text = std::fs::read_to_string(file).unwrap_or_default();
                text.push_str(&line);
                std::fs::write(file, text).unwrap();
            }
            user.added = Some(line);
        }
        user
    }

    fn id(&self, flag: &str) -> u32 {
        let out = Command::new("id")
            .arg(flag)
            .arg(&self.name)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Its subordinate range's start in `file`.
    fn range_start(&self, file: &str) -> u32 {
        let text = std::fs::read_to_string(file).unwrap();
        let prefix = format!("{}:", self.name);
        let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
        line.split(':').nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
        if let Some(line) = &self.added {
            for file in ["/etc/subuid", "/etc/subgid"] {
                if let Ok(text) = std::fs::read_to_string(file) {
                    let _ = std::fs::write(file, text.replace(line.as_str(), ""));
                }
            }
        }
    }
}

#[test]
fn rootless_with_subordinate_ids_maps_other_users_too() {
    let _g = root_only!();
    if !Path::new("/usr/bin/newuidmap").exists() || !Path::new("/usr/bin/newgidmap").exists() {
        eprintln!("note: skipped, newuidmap/newgidmap (Debian's uidmap) are not installed");
        return;
    }
    let lab = Lab::new();
    std::fs::set_permissions(lab.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = lab.path().join("sub");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::copy(lab.path().join("busybox.tar"), home.join("busybox.tar")).unwrap();
    let user = TestUser::create(&home);
    let (uid, gid) = (user.id("-u"), user.id("-g"));
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(&home)
        .status()
        .unwrap();
    assert!(status.success());
    let ok = |args: &[&str]| {
        let (out, err, code) = as_user(uid, gid, &home, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    ok(&["import", "busybox.tar", "busybox"]);
    let sub = user.range_start("/etc/subuid");
    let subg = user.range_start("/etc/subgid");
    // the user is root inside, IDs 1 and up are the subordinate range
    assert_eq!(
        ok(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '"
        ]),
        format!(" 0 {uid} 1\n 1 {sub} 65536\n 0 {gid} 1\n 1 {subg} 65536\n")
    );
    // so another user works, and root can give a file away
    assert_eq!(
        ok(&["run", "--rm", "--user", "1000:1000", "busybox", "id"]),
        "uid=1000 gid=1000\n"
    );
    ok(&[
        "run",
        "--name",
        "own",
        "busybox",
        "sh",
        "-c",
        "touch /f && chown 1000:1000 /f",
    ]);
    let store = home.join("data/layerbox");
    let id = ok(&["ps", "-aq", "--no-trunc"]);
    let file = store.join("containers").join(id.trim()).join("upper/f");
    let meta = std::fs::metadata(file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (sub + 999, subg + 999));
    ok(&["rm", "own"]);
    drop(user);
}
