//! Volumes on the simulated engine: what a container writes under a mount point lives in the
//! volume, outside its writable layer (so `diff` and `commit` leave it out), and the next
//! container that mounts the volume finds it; anonymous volumes, `rm -v`, `--rm`, the `volume`
//! commands and their errors in dockerd's words (checked against docker 20.10).

use super::{engine, filter_ids, run};

fn ok(e: &mut layerbox_core::engine::Engine, line: &str) -> String {
    let (out, code) = run(e, line);
    assert_eq!(code, 0, "{line}: {}", out.text());
    out.stdout()
}

#[test]
fn a_named_volume_outlives_its_container_and_stays_out_of_its_layer() {
    let mut e = engine();
    ok(
        &mut e,
        "docker run -d --name writer -v notes:/data anchors/busybox sleep 100",
    );
    ok(
        &mut e,
        "docker exec writer sh -c 'echo kept > /data/a.txt; echo mine > /tmp/b.txt'",
    );
    assert_eq!(ok(&mut e, "docker exec writer cat /data/a.txt"), "kept\n");
    // the mount point is made in the container's layer; what is under it is not
    assert_eq!(
        ok(&mut e, "docker diff writer"),
        "A /data\nC /tmp\nA /tmp/b.txt\n"
    );
    ok(&mut e, "docker commit writer snap");
    let (out, code) = run(&mut e, "docker run --rm snap cat /data/a.txt");
    assert_eq!(code, 1, "a committed image holds no volume data");
    assert!(out.stderr().contains("/data/a.txt"), "{}", out.text());
    ok(&mut e, "docker rm -f writer");
    assert_eq!(
        ok(&mut e, "docker volume ls"),
        "DRIVER    VOLUME NAME\nlocal     notes\n"
    );
    assert_eq!(
        ok(
            &mut e,
            "docker run --rm -v notes:/elsewhere anchors/busybox cat /elsewhere/a.txt"
        ),
        "kept\n"
    );
    let (out, code) = run(&mut e, "docker volume rm notes nope");
    assert_eq!(code, 1);
    assert_eq!(out.stdout(), "notes\n");
    assert_eq!(out.stderr(), "Error: No such volume: nope\n");
}

#[test]
fn a_new_volume_gets_the_images_files_and_hides_them_afterwards() {
    let mut e = engine();
    // /etc holds motd in the image: a new volume starts as a copy of it
    ok(
        &mut e,
        "docker run --name first -v conf:/etc anchors/busybox sh -c 'echo changed > /etc/motd'",
    );
    assert_eq!(
        ok(
            &mut e,
            "docker run --rm -v conf:/etc anchors/busybox cat /etc/motd"
        ),
        "changed\n"
    );
    // without the volume the image's file is as it was, and the first container's layer has
    // no change under /etc
    assert_eq!(
        ok(&mut e, "docker run --rm anchors/busybox cat /etc/motd"),
        "hello\n"
    );
    assert_eq!(ok(&mut e, "docker diff first"), "");
    // nocopy: an empty volume stays empty
    assert_eq!(
        ok(
            &mut e,
            "docker run --rm -v bare:/etc:nocopy anchors/busybox ls /etc"
        ),
        ""
    );
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_run_rm_but_not_with_plain_rm() {
    let mut e = engine();
    ok(
        &mut e,
        "docker create --name one -v /cache anchors/busybox true",
    );
    ok(
        &mut e,
        "docker create --name two -v /cache anchors/busybox true",
    );
    let listed = filter_ids(&ok(&mut e, "docker volume ls -q"));
    assert_eq!(listed, "<ID64>\n<ID64>\n");
    let inspect = ok(
        &mut e,
        "docker inspect -f '{{json .Config.Volumes}} {{json .HostConfig.Binds}} {{len .Mounts}}' one",
    );
    assert_eq!(inspect, "{\"/cache\":{}} null 1\n");
    ok(&mut e, "docker rm one");
    assert_eq!(ok(&mut e, "docker volume ls -q").lines().count(), 2);
    ok(&mut e, "docker rm -v two");
    assert_eq!(ok(&mut e, "docker volume ls -q").lines().count(), 1);
    ok(&mut e, "docker run --rm -v /scratch anchors/busybox true");
    assert_eq!(ok(&mut e, "docker volume ls -q").lines().count(), 1);
    // a named volume survives `--rm`
    ok(
        &mut e,
        "docker run --rm -v keep:/scratch anchors/busybox true",
    );
    assert!(ok(&mut e, "docker volume ls -q").contains("keep\n"));
}

#[test]
fn a_volume_in_use_cannot_be_removed_and_prune_takes_only_unused_ones() {
    let mut e = engine();
    ok(&mut e, "docker volume create idle");
    ok(&mut e, "docker volume create --label team=web busy");
    ok(
        &mut e,
        "docker run -d --name web -v busy:/srv anchors/busybox sleep 100",
    );
    ok(&mut e, "docker exec web sh -c 'echo 12345 > /srv/f'");
    let (out, code) = run(&mut e, "docker volume rm busy");
    assert_eq!(code, 1);
    assert!(
        out.stderr()
            .starts_with("Error response from daemon: remove busy: volume is in use - ["),
        "{}",
        out.stderr()
    );
    assert_eq!(
        ok(&mut e, "docker volume ls -f dangling=true"),
        "DRIVER    VOLUME NAME\nlocal     idle\n"
    );
    assert_eq!(
        ok(&mut e, "docker volume ls -f label=team=web -q"),
        "busy\n"
    );
    let inspect = ok(&mut e, "docker volume inspect busy");
    assert!(
        inspect.contains("\"Labels\": {\n            \"team\": \"web\"\n        },"),
        "{inspect}"
    );
    assert!(inspect.contains("\"Mountpoint\": \"/var/lib/docker/volumes/busy/_data\","));
    assert_eq!(
        ok(&mut e, "docker volume prune -f"),
        "Deleted Volumes:\nidle\n\nTotal reclaimed space: 0B\n"
    );
    ok(&mut e, "docker rm -f web");
    let df = ok(&mut e, "docker system df");
    assert!(
        df.contains("Local Volumes   1         0         6B        6B (100%)"),
        "{df}"
    );
    assert_eq!(
        ok(&mut e, "docker volume prune -f"),
        "Deleted Volumes:\nbusy\n\nTotal reclaimed space: 6B\n"
    );
}

#[test]
fn bad_specs_and_names_get_dockerds_words() {
    let mut e = engine();
    ok(&mut e, "docker create --name seed anchors/busybox");
    for (line, err) in [
        (
            "docker create -v a:b:c:d anchors/busybox",
            "Error response from daemon: invalid volume specification: 'a:b:c:d'\n",
        ),
        (
            "docker create -v n:/x:ro anchors/busybox",
            "Error response from daemon: create n: volume name is too short, names should be at least two alphanumeric characters\n",
        ),
        (
            "docker create -v vv:/x:bogus anchors/busybox",
            "Error response from daemon: invalid mode: bogus\n",
        ),
        (
            "docker volume create -d foo x1",
            "Error response from daemon: create x1: error looking up volume plugin foo: plugin \"foo\" not found\n",
        ),
        (
            "docker volume create -o foo=bar x2",
            "Error response from daemon: create x2: invalid option: \"foo\"\n",
        ),
        (
            "docker volume ls -f bogus=1",
            "Error response from daemon: Invalid filter 'bogus'\n",
        ),
        (
            "docker volume inspect nope",
            "Error: No such volume: nope\n",
        ),
    ] {
        let (out, code) = run(&mut e, line);
        assert_eq!((out.stderr().as_str(), code), (err, 1), "{line}");
    }
    // the simulated engine has no host directories to bind-mount, and says so
    let (out, code) = run(&mut e, "docker run -v /srv:/srv anchors/busybox true");
    assert_eq!(code, 125);
    assert!(
        out.stderr().contains("bind mounts are not simulated"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        ok(&mut e, "docker volume ls -q"),
        "",
        "no volume was made by a refusal"
    );
    // two values for one mount point: docker's CLI keeps the first
    ok(
        &mut e,
        "docker create --name twice -v aa:/x -v bb:/x anchors/busybox",
    );
    assert_eq!(
        ok(
            &mut e,
            "docker inspect -f '{{json .HostConfig.Binds}} {{range .Mounts}}{{.Name}} {{.Mode}}{{end}}' twice"
        ),
        "[\"aa:/x\"] aa z\n"
    );
}

#[test]
fn a_read_only_mount_keeps_the_volume_as_it_was() {
    let mut e = engine();
    ok(
        &mut e,
        "docker run --rm -v data:/d anchors/busybox sh -c 'echo one > /d/f'",
    );
    let (out, _) = run(
        &mut e,
        "docker run --rm -v data:/d:ro anchors/busybox sh -c 'echo two > /d/f'",
    );
    assert!(
        out.notices.iter().any(|n| n.contains("read-only")),
        "{:?}",
        out.notices
    );
    assert_eq!(
        ok(
            &mut e,
            "docker run --rm -v data:/d anchors/busybox cat /d/f"
        ),
        "one\n"
    );
}

#[test]
fn dockers_init_layer_files_are_there_and_their_writes_stay_out_of_the_layer() {
    let mut e = engine();
    ok(
        &mut e,
        "docker run -d --name web -h box anchors/busybox sleep 100",
    );
    assert_eq!(ok(&mut e, "docker exec web cat /etc/hostname"), "box\n");
    let root = ok(&mut e, "docker exec web ls -a /");
    for name in [".dockerenv", "dev", "proc", "sys"] {
        assert!(root.lines().any(|l| l == name), "{name} in {root}");
    }
    ok(
        &mut e,
        "docker exec web sh -c 'echo \"10.0.0.9 db\" >> /etc/hosts'",
    );
    let hosts = ok(&mut e, "docker exec web cat /etc/hosts");
    assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"), "{hosts}");
    assert!(hosts.ends_with("10.0.0.9 db\n"), "{hosts}");
    // docker bind-mounts these files: the container's layer does not change, nor does a commit
    assert_eq!(ok(&mut e, "docker diff web"), "");
    ok(&mut e, "docker commit web snap");
    let hosts = ok(&mut e, "docker run --rm snap cat /etc/hosts");
    assert!(!hosts.contains("db"), "{hosts}");
    // a file of its own in /etc is a change as usual
    ok(&mut e, "docker exec web sh -c 'echo x > /etc/own'");
    assert!(ok(&mut e, "docker diff web").contains("A /etc/own\n"));
}

#[test]
fn the_files_view_shows_a_volume_as_a_layer_over_the_containers_own() {
    let mut e = engine();
    ok(
        &mut e,
        "docker run -d --name web -v notes:/data anchors/busybox sleep 100",
    );
    ok(
        &mut e,
        "docker exec web sh -c 'echo kept > /data/a.txt; echo mine > /tmp/b.txt'",
    );
    let v = layerbox_core::view::files::view(&e, "web", None).unwrap();
    let volume = v.layers.last().unwrap();
    assert!(volume.volume && !volume.writable, "{volume:?}");
    assert_eq!(volume.instruction, "volume notes at /data");
    let writable = v.layers.iter().find(|l| l.writable).unwrap();
    assert_eq!(writable.index + 1, volume.index);
    let from = |path: &str| v.entries.iter().find(|e| e.path == path).map(|e| e.layer);
    assert_eq!(from("/data/a.txt"), Some(volume.index));
    assert_eq!(from("/tmp/b.txt"), Some(writable.index));
    let content = layerbox_core::view::files::content(&e, "web", "/data/a.txt").unwrap();
    assert_eq!(content.layer, volume.index);
}

#[test]
fn docker_cp_reaches_into_a_containers_volumes() {
    let mut e = engine();
    let mut host = layerbox_core::engine::cp::MemoryHost::default();
    host.fs
        .write("/notes.txt", b"from the host\n", 0o644)
        .unwrap();
    e.set_host_files(host);
    ok(
        &mut e,
        "docker create --name box -v notes:/data anchors/busybox sleep 100",
    );
    ok(&mut e, "docker cp /notes.txt box:/data/notes.txt");
    // the file went to the volume, not to the container's layer
    assert!(!ok(&mut e, "docker diff box").contains("notes.txt"));
    assert_eq!(
        ok(
            &mut e,
            "docker run --rm -v notes:/v anchors/busybox cat /v/notes.txt"
        ),
        "from the host\n"
    );
    ok(&mut e, "docker cp box:/data/notes.txt /back.txt");
}

#[test]
fn a_tmpfs_keeps_files_while_the_container_runs_and_loses_them_when_it_stops() {
    let mut e = engine();
    ok(
        &mut e,
        "docker run -d --name web --mount type=tmpfs,target=/scratch anchors/busybox sleep 100",
    );
    ok(&mut e, "docker exec web sh -c 'echo x > /scratch/f'");
    assert_eq!(ok(&mut e, "docker exec web cat /scratch/f"), "x\n");
    assert_eq!(ok(&mut e, "docker diff web"), "A /scratch\n");
    ok(&mut e, "docker stop web");
    ok(&mut e, "docker start web");
    let (out, code) = run(&mut e, "docker exec web cat /scratch/f");
    assert_eq!(code, 1, "{}", out.text());
    assert_eq!(
        ok(&mut e, "docker volume ls -q"),
        "",
        "a tmpfs is no volume"
    );
}
