//! Volumes and bind mounts (`-v`) in real containers: bound in the container's mount
//! namespace, shared between containers, read-only when asked, filled from the image once,
//! and never a way out of the rootfs.

use std::path::Path;

use layerbox::linux::VolumeMount;

use super::{Fixture, diff};

fn mount(source: &Path, target: &str) -> VolumeMount {
    VolumeMount {
        source: source.to_owned(),
        target: target.to_owned(),
        read_only: false,
        copy_image_content: false,
        tmpfs: false,
    }
}

#[test]
fn a_file_written_in_a_volume_by_one_container_is_read_by_another() {
    let _g = super::root_only!();
    let volume = tempfile::tempdir().unwrap();
    let mut writer = Fixture::new(&["sh", "-c", "echo shared > /data/note"]);
    writer.spec.mounts = vec![mount(volume.path(), "/data")];
    assert_eq!(writer.run().unwrap().code, 0, "{}", writer.log());
    assert_eq!(
        std::fs::read_to_string(volume.path().join("note")).unwrap(),
        "shared\n"
    );
    // the mount point is the container's change; what was written in the volume is not
    assert_eq!(diff(&writer), ["A /data"]);
    let mut reader = Fixture::new(&["cat", "/srv/data/note"]);
    reader.spec.mounts = vec![mount(volume.path(), "/srv/data")];
    assert_eq!(reader.run().unwrap().code, 0, "{}", reader.log());
    assert_eq!(reader.log(), "shared\n");
    assert_eq!(diff(&reader), ["A /srv", "A /srv/data"]);
}

#[test]
fn a_read_only_bind_refuses_writes_and_a_file_bind_replaces_the_images_file() {
    let _g = super::root_only!();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("motd"), "from the host\n").unwrap();
    let mut f = Fixture::new(&[
        "sh",
        "-c",
        "cat /etc/motd; echo x > /mnt/host/new; echo \"rc=$?\"; grep ' /mnt/host ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1",
    ]);
    f.spec.mounts = vec![
        VolumeMount {
            read_only: true,
            ..mount(host.path(), "/mnt/host")
        },
        mount(&host.path().join("motd"), "/etc/motd"),
    ];
    assert_eq!(f.run().unwrap().code, 0, "{}", f.log());
    assert_eq!(
        f.log(),
        "from the host\nsh: can't create /mnt/host/new: Read-only file system\nrc=1\nro\n"
    );
    assert!(!host.path().join("new").exists());
    // /etc/motd exists in the image: no mount point is made for it
    assert_eq!(diff(&f), ["A /mnt", "A /mnt/host"]);
}

#[test]
fn an_empty_volume_gets_the_images_content_and_a_full_one_keeps_its_own() {
    let _g = super::root_only!();
    let volume = tempfile::tempdir().unwrap();
    let copy = |args: &[&str]| {
        let mut f = Fixture::new(args);
        f.spec.mounts = vec![VolumeMount {
            copy_image_content: true,
            ..mount(volume.path(), "/opt/cache")
        }];
        assert_eq!(f.run().unwrap().code, 0, "{}", f.log());
        f
    };
    let first = copy(&["sh", "-c", "cat /opt/cache/a; echo b > /opt/cache/b"]);
    assert_eq!(first.log(), "a\n");
    assert!(diff(&first).is_empty(), "{:?}", diff(&first));
    std::fs::remove_file(volume.path().join("a")).unwrap();
    // not empty any more (b): nothing is copied again
    let second = copy(&["ls", "/opt/cache"]);
    assert_eq!(second.log(), "b\n");
}

#[test]
fn a_target_through_the_images_symlinks_stays_inside_the_rootfs() {
    let _g = super::root_only!();
    let outside = tempfile::tempdir().unwrap();
    let volume = tempfile::tempdir().unwrap();
    let mut f = Fixture::new(&["sh", "-c", "echo in > /escape/sub/x && ls /escape/sub"]);
    // the image links /escape to a host directory and to the host's root above it
    std::os::unix::fs::symlink(outside.path(), f.lower().join("escape")).unwrap();
    std::os::unix::fs::symlink("../../../../../..", f.lower().join("up")).unwrap();
    f.spec.mounts = vec![
        mount(volume.path(), "/escape/sub"),
        mount(volume.path(), "/up/bound"),
    ];
    assert_eq!(f.run().unwrap().code, 0, "{}", f.log());
    assert_eq!(f.log(), "x\n");
    // nothing was made in the host's directory: the mount point is in the container's layer
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert!(!Path::new("/bound").exists());
    let inside = outside.path().strip_prefix("/").unwrap();
    let changes = diff(&f);
    assert!(
        changes.contains(&format!("A /{}/sub", inside.display())),
        "{changes:?}"
    );
    assert!(changes.contains(&"A /bound".to_owned()), "{changes:?}");
}
