//! Volumes and docker's init layer on docker and on the simulated engine: the same session on
//! both (named volumes made, written, read by the next container, refused while in use; bad
//! `-v` values; `--mount` volumes and tmpfs and their mistakes; `/etc/hostname`, `/etc/hosts`
//! and the root's entries), each answer compared as in [`super::errors`]. Templates print
//! fields both have: docker's see a typed struct's empty fields where layerbox's JSON has no
//! key, and `{{json}}` of an object sorts its keys here. Volume names start with `oracle-vol` and nothing is pruned, so that
//! other tests sharing the daemon keep theirs.

use super::errors::answer;
use super::{BASE, Sim, assert_no_differences, docker, docker_base, note_difference, sim_base};

const STEPS: &[&[&str]] = &[
    &["volume", "create", "oracle-vol"],
    &["volume", "create", "oracle-vol"],
    &["volume", "create", "--label", "k=v", "oracle-vol2"],
    &["volume", "ls", "-f", "name=oracle-vol"],
    &[
        "volume",
        "ls",
        "-q",
        "-f",
        "name=oracle-vol",
        "-f",
        "label=k=v",
    ],
    &[
        "volume",
        "inspect",
        "-f",
        "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Options}}",
        "oracle-vol",
        "oracle-vol2",
    ],
    &[
        "run",
        "--rm",
        "-v",
        "oracle-vol:/data",
        BASE,
        "sh",
        "-c",
        "echo hi > /data/f",
    ],
    &[
        "run",
        "--rm",
        "-v",
        "oracle-vol:/elsewhere",
        BASE,
        "cat",
        "/elsewhere/f",
    ],
    &[
        "run",
        "--name",
        "oracle-vw",
        "-v",
        "oracle-vol:/data",
        BASE,
        "sh",
        "-c",
        "echo 2 > /data/g; echo 3 > /tmp/h; echo '10.1.1.1 db' >> /etc/hosts",
    ],
    &["diff", "oracle-vw"],
    &[
        "inspect",
        "-f",
        "{{json .HostConfig.Binds}} {{json .Config.Volumes}} {{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}}{{end}}",
        "oracle-vw",
    ],
    &["volume", "rm", "oracle-vol"],
    &["rm", "oracle-vw"],
    &[
        "volume",
        "rm",
        "oracle-vol",
        "oracle-vol2",
        "oracle-vol-nope",
    ],
    &["volume", "rm", "-f", "oracle-vol-nope"],
    &["volume", "inspect", "oracle-vol-nope"],
    &["create", "-v", "a:b:c:d", BASE, "true"],
    &["create", "-v", "n:/x:ro", BASE, "true"],
    &["run", "--rm", "-v", "n:/x", BASE, "ls", "/"],
    &["create", "-v", "oracle-vol3:/x:bogus", BASE, "true"],
    &["create", "-v", "/x:relative", BASE, "true"],
    &["run", "-v", "oracle-vol3:/", BASE, "true"],
    &["volume", "create", "-d", "foo", "oracle-vol4"],
    &["volume", "create", "-o", "foo=bar", "oracle-vol5"],
    &["volume", "create", "bad name"],
    &["volume", "ls", "-f", "bogus=1"],
    &[
        "run",
        "--rm",
        "-h",
        "oracle-host",
        BASE,
        "cat",
        "/etc/hostname",
        "/etc/hosts",
    ],
    &["run", "--rm", BASE, "ls", "-a", "/"],
    &[
        "run",
        "--rm",
        "--mount",
        "source=oracle-vol6,target=/m",
        BASE,
        "sh",
        "-c",
        "echo m > /m/f",
    ],
    &[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=oracle-vol6,dst=/n,readonly",
        BASE,
        "cat",
        "/n/f",
    ],
    &[
        "create",
        "--name",
        "oracle-vm",
        "--mount",
        "source=oracle-vol6,target=/m,ro",
        "--mount",
        "type=tmpfs,target=/t",
        BASE,
        "true",
    ],
    &[
        "inspect",
        "-f",
        "{{range .HostConfig.Mounts}}{{.Type}} {{.Target}};{{end}} {{len .Mounts}} {{range .Mounts}}{{if eq .Type \"tmpfs\"}}{{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}}{{end}}{{end}}",
        "oracle-vm",
    ],
    &["rm", "oracle-vm"],
    &[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,target=/t",
        BASE,
        "sh",
        "-c",
        "echo x > /t/x; ls /t",
    ],
    &["create", "--mount", "source=mv", BASE, "true"],
    &["create", "--mount", "target=/x,bogus=1", BASE, "true"],
    &["create", "--mount", "type=foo,target=/x", BASE, "true"],
    &["create", "--mount", "target=rel", BASE, "true"],
    &[
        "create",
        "--mount",
        "type=tmpfs,src=x,target=/t",
        BASE,
        "true",
    ],
];

#[test]
fn volumes_and_the_init_layer_as_docker_has_them() {
    let Some(docker) = docker() else { return };
    let _one_at_a_time = super::VOLUMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    docker_base(docker);
    let sim = Sim::new();
    sim_base(&sim);
    let mut diffs = Vec::new();
    for step in STEPS {
        let (mut d, mut s) = (docker.cli(step), sim.cli(step));
        if step[0] == "diff" {
            // docker lists the changes in its walk's order (the directory's), layerbox sorted
            sort_stdout(&mut d);
            sort_stdout(&mut s);
        }
        note_difference(&mut diffs, step, &answer(&d), &answer(&s));
    }
    docker.cli(&["rm", "-f", "oracle-vw"]);
    docker.cli(&[
        "volume",
        "rm",
        "-f",
        "oracle-vol",
        "oracle-vol2",
        "oracle-vol3",
        "oracle-vol6",
    ]);
    docker.cli(&["rm", "-f", "oracle-vm"]);
    assert_no_differences(&diffs, STEPS.len());
}

fn sort_stdout(out: &mut std::process::Output) {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    let mut sorted = String::new();
    for line in lines {
        sorted.push_str(line);
        sorted.push('\n');
    }
    out.stdout = sorted.into_bytes();
}
