//! The command grammar: docker's flag syntax, the long forms, typed options, help texts and
//! usage errors with their exit codes.

#![allow(clippy::many_single_char_names)] // short names for the options of one command each

use layerbox_core::cli::command::{
    Command, Containers, Filter, InspectType, PortRange, PublishSpec, RestartPolicy,
};
use layerbox_core::cli::grammar::{Invocation, UsageError, parse, parse_with_width};
use layerbox_core::cli::split::split_line;

fn command(line: &str) -> Command {
    let argv = split_line(line).unwrap();
    match parse(&argv) {
        Ok(Invocation::Command { command, .. }) => command,
        other => panic!("{line}: {other:?}"),
    }
}

fn error(line: &str) -> UsageError {
    let argv = split_line(line).unwrap();
    parse(&argv).expect_err(line)
}

fn help(line: &str) -> (String, bool) {
    let argv = split_line(line).unwrap();
    match parse(&argv) {
        Ok(Invocation::Help { text, stderr }) => (text, stderr),
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn the_issue_example() {
    let Command::Run(run) = command("docker run -d --name web -p 3000:3000 my-app") else {
        panic!()
    };
    assert!(run.detach);
    assert!(run.sig_proxy);
    let c = &run.create;
    assert_eq!(c.name.as_deref(), Some("web"));
    assert_eq!(c.image, "my-app");
    assert!(c.command.is_empty());
    assert_eq!(
        c.publish,
        [PublishSpec {
            host_ip: String::new(),
            host_ports: Some(PortRange {
                first: 3000,
                last: 3000
            }),
            container_ports: PortRange {
                first: 3000,
                last: 3000
            },
            proto: "tcp".into(),
        }]
    );
    assert_eq!(c.restart, RestartPolicy::No);
    assert_eq!(c.pull, "missing");
}

#[test]
fn program_names() {
    assert_eq!(command("layerbox ps"), command("docker ps"));
    assert_eq!(
        command("/usr/local/bin/docker ps -a"),
        command("docker ps --all")
    );
    assert_eq!(error("podman ps").to_string(), "podman: command not found");
    assert_eq!(error("podman ps").exit_code(), 127);
}

#[test]
fn long_forms_are_the_same_commands() {
    assert_eq!(command("docker container ls -a"), command("docker ps -a"));
    assert_eq!(command("docker container ps -q"), command("docker ps -q"));
    assert_eq!(command("docker container list"), command("docker ps"));
    assert_eq!(
        command("docker image ls --digests"),
        command("docker images --digests")
    );
    assert_eq!(command("docker image list"), command("docker images"));
    assert_eq!(command("docker image rm -f x"), command("docker rmi -f x"));
    assert_eq!(command("docker image rmi x"), command("docker rmi x"));
    assert_eq!(
        command("docker container rm -v x"),
        command("docker rm -v x")
    );
    assert_eq!(
        command("docker container run busybox"),
        command("docker run busybox")
    );
    assert_eq!(
        command("docker image build -t a ."),
        command("docker build -t a .")
    );
    assert_eq!(command("docker system info"), command("docker info"));
    assert_eq!(command("docker image tag a b"), command("docker tag a b"));
    let Command::Inspect(i) = command("docker container inspect web") else {
        panic!()
    };
    assert_eq!(i.kind, Some(InspectType::Container));
    let Command::Inspect(i) = command("docker inspect --type image web") else {
        panic!()
    };
    assert_eq!(i.kind, Some(InspectType::Image));
    assert!(matches!(command("docker container prune -f"), Command::ContainerPrune(p) if p.force));
    assert!(
        matches!(command("docker image prune -a"), Command::ImagePrune(p) if p.all && !p.force)
    );
    assert!(matches!(command("docker system df -v"), Command::SystemDf(d) if d.verbose));
}

#[test]
fn short_clusters_and_values() {
    let Command::Exec(e) = command("docker exec -it my_container /bin/bash") else {
        panic!()
    };
    assert!(e.interactive && e.tty && !e.detach);
    assert_eq!(
        (e.container.as_str(), e.command.as_slice()),
        ("my_container", ["/bin/bash".to_owned()].as_slice())
    );
    let Command::Run(r) = command("docker run -dit -p80:80 -e A=1 -e B=2 --env=C=3 -eD=4 busybox")
    else {
        panic!()
    };
    assert!(r.detach && r.create.interactive && r.create.tty);
    assert_eq!(r.create.env, ["A=1", "B=2", "C=3", "D=4"]);
    assert_eq!(r.create.publish[0].container_ports.first, 80);
}

#[test]
fn flags_stop_at_the_image_for_commands_that_run_one() {
    let Command::Run(r) = command("docker run --rm busybox sh -c 'exit 3' -d --name x") else {
        panic!()
    };
    assert!(r.create.rm && !r.detach);
    assert_eq!(
        r.create.command,
        ["sh", "-c", "exit 3", "-d", "--name", "x"]
    );
    assert_eq!(r.create.name, None);
    let Command::Exec(e) = command("docker exec web ls -la") else {
        panic!()
    };
    assert_eq!(e.command, ["ls", "-la"]);
    let Command::Top(t) = command("docker top web -o pid") else {
        panic!()
    };
    assert_eq!(t.ps_args, ["-o", "pid"]);
    // Other commands take flags anywhere.
    let Command::Rm(rm) = command("docker rm web -f") else {
        panic!()
    };
    assert!(rm.force);
    assert_eq!(rm.containers, ["web"]);
    // `--` ends flags everywhere.
    let Command::Rm(rm) = command("docker rm -- -f") else {
        panic!()
    };
    assert!(!rm.force);
    assert_eq!(rm.containers, ["-f"]);
    let Command::Run(r) = command("docker run -- busybox") else {
        panic!()
    };
    assert_eq!(r.create.image, "busybox");
}

#[test]
fn booleans_with_values_and_defaults() {
    let Command::Run(r) = command("docker run --sig-proxy=false -d=false busybox") else {
        panic!()
    };
    assert!(!r.sig_proxy && !r.detach);
    let Command::Commit(c) =
        command("docker commit -p=false -m 'a msg' -c 'CMD [\"sh\"]' -c 'EXPOSE 80' web repo:tag")
    else {
        panic!()
    };
    assert!(!c.pause);
    assert_eq!(c.message.as_deref(), Some("a msg"));
    assert_eq!(c.changes, ["CMD [\"sh\"]", "EXPOSE 80"]);
    assert_eq!(c.reference.as_deref(), Some("repo:tag"));
    let Command::History(h) = command("docker history --no-trunc -H=false img") else {
        panic!()
    };
    assert!(h.no_trunc && !h.human);
}

#[test]
fn typed_options_of_every_command() {
    let Command::Ps(p) = command(
        "docker ps -a -q -n 3 --no-trunc -s -f status=exited -f name=web --format '{{.Names}}'",
    ) else {
        panic!()
    };
    assert!(p.all && p.quiet && p.no_trunc && p.size && !p.latest);
    assert_eq!(p.last, 3);
    assert_eq!(
        p.filters,
        [
            Filter {
                name: "status".into(),
                value: "exited".into()
            },
            Filter {
                name: "name".into(),
                value: "web".into()
            }
        ]
    );
    assert_eq!(p.format.as_deref(), Some("{{.Names}}"));
    let Command::Ps(p) = command("docker ps") else {
        panic!()
    };
    assert_eq!(p.last, -1);
    let Command::Stop(s) = command("docker stop -t 3 a b") else {
        panic!()
    };
    assert_eq!((s.time, s.containers.len()), (Some(3), 2));
    let Command::Stop(s) = command("docker stop a") else {
        panic!()
    };
    assert_eq!(s.time, None);
    let Command::Kill(k) = command("docker kill a") else {
        panic!()
    };
    assert_eq!(k.signal, "KILL");
    let Command::Kill(k) = command("docker kill -s HUP a") else {
        panic!()
    };
    assert_eq!(k.signal, "HUP");
    let Command::Logs(l) = command("docker logs -f -t --tail 10 web") else {
        panic!()
    };
    assert!(l.follow && l.timestamps);
    assert_eq!(l.tail, "10");
    let Command::Logs(l) = command("docker logs web") else {
        panic!()
    };
    assert_eq!(l.tail, "all");
    let Command::Start(s) = command("docker start -a web") else {
        panic!()
    };
    assert!(s.attach);
    let Command::Build(b) =
        command("docker build -t my-python-app -t x:1 --build-arg V=1 --no-cache -f D .")
    else {
        panic!()
    };
    assert_eq!(b.tags, ["my-python-app", "x:1"]);
    assert_eq!(
        (b.context.as_str(), b.file.as_deref(), b.no_cache, b.rm),
        (".", Some("D"), true, true)
    );
    assert_eq!(b.progress, "auto");
    let Command::Run(r) =
        command("docker run --restart on-failure:2 --entrypoint '' -w /app -u 1000:1000 img")
    else {
        panic!()
    };
    assert_eq!(
        r.create.restart,
        RestartPolicy::OnFailure { max_retries: 2 }
    );
    assert_eq!(r.create.entrypoint.as_deref(), Some(""));
    assert_eq!(
        (r.create.workdir.as_deref(), r.create.user.as_deref()),
        (Some("/app"), Some("1000:1000"))
    );
    assert_eq!(
        command("docker pause a b"),
        Command::Pause(Containers {
            containers: vec!["a".into(), "b".into()]
        })
    );
    assert!(matches!(command("docker unpause a"), Command::Unpause(_)));
    assert!(matches!(command("docker wait a"), Command::Wait(_)));
    assert!(matches!(command("docker restart -t 0 a"), Command::Restart(s) if s.time == Some(0)));
    assert!(
        matches!(command("docker create --name c img cmd"), Command::Create(c) if c.command == ["cmd"])
    );
    assert!(matches!(command("docker diff c"), Command::Diff(d) if d.container == "c"));
    assert!(
        matches!(command("docker port c 80/tcp"), Command::Port(p) if p.private_port.as_deref() == Some("80/tcp"))
    );
    assert!(matches!(command("docker rename a b"), Command::Rename(r) if r.new_name == "b"));
    assert!(
        matches!(command("docker tag a b:1"), Command::Tag(t) if t.source == "a" && t.target == "b:1")
    );
    assert!(
        matches!(command("docker rmi -f a b"), Command::Rmi(r) if r.force && r.images.len() == 2)
    );
    assert!(
        matches!(command("docker version --format '{{.Client.Version}}'"), Command::Version(v) if v.format.is_some())
    );
    assert!(
        matches!(command("docker info -f x"), Command::Info(i) if i.format.as_deref() == Some("x"))
    );
    assert!(
        matches!(command("docker images -aq --digests --no-trunc app"), Command::Images(i) if i.all && i.quiet && i.digests && i.no_trunc && i.reference.as_deref() == Some("app"))
    );
}

#[test]
fn global_options() {
    let argv = split_line("layerbox --engine sim -D ps").unwrap();
    let Ok(Invocation::Command {
        globals,
        command: Command::Ps(_),
    }) = parse(&argv)
    else {
        panic!()
    };
    assert_eq!(globals.engine.as_deref(), Some("sim"));
    assert!(globals.debug);
    assert_eq!(globals.log_level, None);
    assert_eq!(parse(&["docker", "-v"]), Ok(Invocation::Version));
    assert_eq!(parse(&["docker", "--version"]), Ok(Invocation::Version));
}

#[test]
fn usage_errors_have_dockers_words_and_codes() {
    let e = error("docker run");
    assert_eq!(
        e.to_string(),
        "\"docker run\" requires at least 1 argument.\nSee 'docker run --help'.\n\n\
         Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun a command in a new container"
    );
    assert_eq!(e.exit_code(), 1);
    let e = error("docker run --foo busybox");
    assert_eq!(
        e.to_string(),
        "unknown flag: --foo\nSee 'docker run --help'."
    );
    assert_eq!(e.exit_code(), 125);
    assert_eq!(
        error("docker ps -z").to_string(),
        "unknown shorthand flag: 'z' in -z\nSee 'docker ps --help'."
    );
    assert_eq!(
        error("docker ps -az").to_string(),
        "unknown shorthand flag: 'z' in -az\nSee 'docker ps --help'."
    );
    assert_eq!(
        error("docker container ls --foo").to_string(),
        "unknown flag: --foo\nSee 'docker container ls --help'."
    );
    assert_eq!(
        error("docker run --name").to_string(),
        "flag needs an argument: --name\nSee 'docker run --help'."
    );
    assert_eq!(
        error("docker ps -n").to_string(),
        "flag needs an argument: 'n' in -n\nSee 'docker ps --help'."
    );
    let e = error("docker foo");
    assert_eq!(
        e.to_string(),
        "docker: 'foo' is not a docker command.\nSee 'docker --help'"
    );
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        error("layerbox foo").to_string(),
        "layerbox: 'foo' is not a layerbox command.\nSee 'layerbox --help'"
    );
    assert_eq!(
        error("docker ps x").to_string(),
        "\"docker ps\" accepts no arguments.\nSee 'docker ps --help'.\n\nUsage:  docker ps [OPTIONS]\n\nList containers"
    );
    assert!(
        error("docker tag a")
            .to_string()
            .starts_with("\"docker tag\" requires exactly 2 arguments.")
    );
    assert!(
        error("docker images a b")
            .to_string()
            .starts_with("\"docker images\" requires at most 1 argument.")
    );
    assert!(
        error("docker commit")
            .to_string()
            .starts_with("\"docker commit\" requires at least 1 and at most 2 arguments.")
    );
    assert!(
        error("docker exec web")
            .to_string()
            .starts_with("\"docker exec\" requires at least 2 arguments.")
    );
    let e = error("docker run -p abc busybox");
    assert_eq!(
        e.to_string(),
        "docker: invalid containerPort: abc.\nSee 'docker run --help'."
    );
    assert_eq!(e.exit_code(), 125);
    assert_eq!(
        error("docker run --rm --restart always busybox").to_string(),
        "docker: Conflicting options: --restart and --rm.\nSee 'docker run --help'."
    );
    assert_eq!(
        error("docker inspect --type volume x").to_string(),
        "\"volume\" is not a valid value for --type"
    );
    assert_eq!(
        error("docker help foo").to_string(),
        "unknown help topic: foo"
    );
    let e = error("docker container foo");
    assert!(
        e.to_string()
            .starts_with("\nUsage:  docker container COMMAND\n\nManage containers\n\nCommands:\n")
    );
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        error("docker ps -n x").to_string(),
        "invalid argument \"x\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n\
         See 'docker ps --help'."
    );
}

#[test]
fn help_texts_follow_dockers_layout() {
    let (text, stderr) = help("docker ps --help");
    assert!(!stderr);
    assert_eq!(
        text,
        "
Usage:  docker ps [OPTIONS]

List containers

Options:
  -a, --all             Show all containers (default shows just running)
  -f, --filter filter   Filter output based on conditions provided
      --format string   Pretty-print containers using a Go template
  -n, --last int        Show n last created containers (includes all
                        states) (default -1)
  -l, --latest          Show the latest created container (includes all
                        states)
      --no-trunc        Don't truncate output
  -q, --quiet           Only display container IDs
  -s, --size            Display total file sizes
"
    );
    // A wide terminal does not wrap.
    let argv = split_line("docker ps --help").unwrap();
    let Ok(Invocation::Help { text, .. }) = parse_with_width(&argv, 120) else {
        panic!()
    };
    assert!(text.contains("  -n, --last int        Show n last created containers (includes all states) (default -1)\n"));
    // The long form names its aliases.
    let (text, _) = help("docker container ls --help");
    assert!(text.starts_with("\nUsage:  docker container ls [OPTIONS]\n\nList containers\n\nAliases:\n  ls, ps, list\n\nOptions:\n"));
    assert_eq!(help("docker help ps").0, help("docker ps --help").0);
    assert_eq!(help("docker ps -h").0, help("docker ps --help").0);
    assert_eq!(
        help("docker help container ls").0,
        help("docker container ls --help").0
    );
    // `--help` wins over missing arguments; for `run` only before the image.
    assert_eq!(help("docker run --help").0, help("docker help run").0);
    let Command::Run(r) = command("docker run busybox --help") else {
        panic!()
    };
    assert_eq!(r.create.command, ["--help"]);
    // A command without flags has no Options section.
    assert_eq!(
        help("docker pause --help").0,
        "\nUsage:  docker pause CONTAINER [CONTAINER...]\n\nPause all processes within one or more containers\n"
    );
}

#[test]
fn management_and_root_help() {
    let (text, stderr) = help("docker container");
    assert!(
        stderr,
        "docker prints the bare management listing to stderr"
    );
    assert!(text.starts_with(
        "\nUsage:  docker container COMMAND\n\nManage containers\n\nCommands:\n  commit      Create a new image"
    ));
    assert!(text.contains("\n  ls          List containers\n"));
    assert!(
        text.ends_with(
            "\nRun 'docker container COMMAND --help' for more information on a command.\n"
        )
    );
    let (text, stderr) = help("docker --help");
    assert!(!stderr);
    assert!(text.starts_with("\nUsage:  docker [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nOptions:\n"));
    assert!(text.contains(
        "\nManagement Commands:\n  builder     Manage builds\n  container   Manage containers\n"
    ));
    assert!(text.contains("\n  run         Run a command in a new container\n"));
    assert!(help("docker").1);
    assert!(
        help("layerbox --help")
            .0
            .contains("Run 'layerbox COMMAND --help'")
    );
}

#[test]
fn every_listed_command_has_help_with_usage_and_options() {
    let (root, _) = help("docker --help");
    let names: Vec<&str> = root
        .split("\nCommands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for name in [
        "build", "images", "run", "create", "start", "stop", "kill", "restart", "pause", "unpause",
        "ps", "exec", "logs", "commit", "diff", "inspect", "history", "tag", "rmi", "rm", "port",
        "rename", "top", "wait", "version", "info",
    ] {
        assert!(names.contains(&name), "{name} missing from the root help");
        let (text, _) = help(&format!("docker {name} --help"));
        assert!(
            text.starts_with(&format!("\nUsage:  docker {name} ")),
            "{name}"
        );
    }
    for long in ["container prune", "image prune", "system df"] {
        let (text, _) = help(&format!("docker {long} --help"));
        assert!(
            text.starts_with(&format!("\nUsage:  docker {long} [OPTIONS]\n")),
            "{long}"
        );
        assert!(text.contains("\nOptions:\n"), "{long}");
    }
}

#[test]
fn resource_limits_parse_as_dockers_units() {
    let Command::Run(r) =
        command("docker run -m 64m --memory-swap=-1 --cpus 1.5 -c 512 --pids-limit 32 busybox")
    else {
        panic!()
    };
    let res = r.create.resources;
    assert_eq!(res.memory, 64 << 20);
    assert_eq!(res.memory_swap, -1);
    assert_eq!(res.nano_cpus, 1_500_000_000);
    assert_eq!(res.cpu_shares, 512);
    assert_eq!(res.pids_limit, Some(32));
    let Command::Create(c) = command("docker create -m1g busybox") else {
        panic!()
    };
    assert_eq!(c.resources.memory, 1 << 30);
    assert_eq!(c.resources.pids_limit, None);
    for (line, message) in [
        (
            "docker run -m x busybox",
            "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'",
        ),
        (
            "docker run --memory-swap x busybox",
            "invalid argument \"x\" for \"--memory-swap\" flag: invalid size: 'x'",
        ),
        (
            "docker run --cpus x busybox",
            "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a rational number",
        ),
        (
            "docker run --pids-limit x busybox",
            "invalid argument \"x\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax",
        ),
        (
            "docker run -c x busybox",
            "invalid argument \"x\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"x\": invalid syntax",
        ),
    ] {
        let e = error(line);
        assert_eq!(
            e.to_string(),
            format!("{message}\nSee 'docker run --help'.")
        );
        assert_eq!(e.exit_code(), 125);
    }
    // docker's words; the column depends on the longest flag, which layerbox has fewer of
    let (text, _) = help("docker run --help");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for line in [
        "-c, --cpu-shares int CPU shares (relative weight)",
        "--cpus decimal Number of CPUs",
        "-m, --memory bytes Memory limit",
        "--memory-swap bytes Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
        "--pids-limit int Tune container pids limit (set -1 for unlimited)",
    ] {
        assert!(words.contains(line), "{line}\n{text}");
    }
}

#[test]
fn cp_help_usage_and_options() {
    // docker 20.10's text (its Long description and two usage lines), with docker 28's -q.
    let (text, stderr) = help("docker cp --help");
    assert!(!stderr);
    assert_eq!(
        text,
        "
Usage:  docker cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH

Copy files/folders between a container and the local filesystem

Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout.

Options:
  -a, --archive       Archive mode (copy all uid/gid information)
  -L, --follow-link   Always follow symbol link in SRC_PATH
  -q, --quiet         Suppress progress output during copy (layerbox
                      prints none)
"
    );
    assert!(
        help("layerbox container cp --help")
            .0
            .starts_with("\nUsage:  layerbox container cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tlayerbox cp [OPTIONS]")
    );
    assert_eq!(
        error("docker cp web").to_string(),
        "\"docker cp\" requires exactly 2 arguments.\nSee 'docker cp --help'.\n\n\
         Usage:  docker cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\
         \tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n\
         Copy files/folders between a container and the local filesystem"
    );
    let Command::Cp(o) = command("docker container cp -aL web:/etc/. out") else {
        panic!()
    };
    assert_eq!(
        (o.source.as_str(), o.destination.as_str()),
        ("web:/etc/.", "out")
    );
    assert!(o.archive && o.follow_link && !o.quiet);
    assert!(matches!(command("docker cp -q a web:/"), Command::Cp(o) if o.quiet));
}
