//! The interpreter's tests: lists, expansions, redirections, control flow, limits.

use super::utils::testing::{base_fs, out, sh, sh_on};
use super::{Env, LimitExceeded, Limits, Lookup, Registry, Stream, run, run_script};

#[test]
fn lists_and_exit_statuses() {
    assert_eq!(
        out("true && echo a || echo b; false && echo c || echo d"),
        "a\nd\n"
    );
    assert_eq!(out("false; echo $?; ! false; echo $?"), "1\n0\n");
    let (s, o, e) = sh("foo; echo $?");
    assert_eq!(
        (s, o.as_str(), e.as_str()),
        (0, "127\n", "/bin/sh: 1: foo: not found\n")
    );
    assert_eq!(sh("exit 3").0, 3);
    assert_eq!(sh("(exit 4); echo $?").1, "4\n");
    assert_eq!(sh("false").0, 1);
    assert_eq!(sh("echo a\nnope").2, "/bin/sh: 2: nope: not found\n");
}

#[test]
fn set_e_stops_at_the_first_failure() {
    let (s, o, _) = sh("set -e; echo a; false; echo b");
    assert_eq!((s, o.as_str()), (1, "a\n"));
    assert_eq!(
        out("set -e; false || true; false && true; if false; then :; fi; echo ok"),
        "ok\n"
    );
    assert_eq!(sh("set -e; f() { false; echo no; }; f; echo after").0, 1);
    let (s, o, e) = sh("set -x; echo hi");
    assert_eq!((s, o.as_str(), e.as_str()), (0, "hi\n", "+ echo hi\n"));
    let (s, _, e) = sh("set -u; echo $NOPE");
    assert_eq!(
        (s, e.as_str()),
        (2, "/bin/sh: 1: NOPE: parameter not set\n")
    );
}

#[test]
fn variables_and_parameter_expansion() {
    assert_eq!(out("A=1; B=${A}2; echo $A $B"), "1 12\n");
    assert_eq!(
        out("echo ${X:-def} ${X-unset}; X=; echo ${X:-e} [${X-u}]"),
        "def unset\ne []\n"
    );
    assert_eq!(out("echo ${Y:=set}; echo $Y"), "set\nset\n");
    assert_eq!(out("V=1; echo ${V:+alt} ${NO:+alt}."), "alt .\n");
    assert_eq!(
        out("F=archive.tar.gz; echo ${F%.gz} ${F%%.*} ${F#*.} ${F##*.} ${#F}"),
        "archive.tar archive tar.gz gz 14\n"
    );
    assert_eq!(
        out("P=/usr/local/bin; echo ${P##*/} ${P%/*}"),
        "bin /usr/local\n"
    );
    let (s, _, e) = sh("echo ${NEED:?must be set}; echo after");
    assert_eq!((s, e.as_str()), (2, "/bin/sh: 1: NEED: must be set\n"));
    assert_eq!(
        out("set -- a 'b c' d; echo $#; for x in \"$@\"; do echo \"[$x]\"; done"),
        "3\n[a]\n[b c]\n[d]\n"
    );
    assert_eq!(out("set -- a b; echo \"$*\" $1$2"), "a b ab\n");
    assert_eq!(out("f() { echo $# $1; }; f x y"), "2 x\n");
    assert_eq!(out("echo ~ ~root/x"), "/root /root/x\n");
}

#[test]
fn field_splitting_and_quoting() {
    assert_eq!(
        out("X='a  b   c'; for w in $X; do echo \"<$w>\"; done"),
        "<a>\n<b>\n<c>\n"
    );
    assert_eq!(out("X='a  b'; echo \"$X\""), "a  b\n");
    assert_eq!(
        out("IFS=:; P=a:b::c; for w in $P; do echo \"<$w>\"; done"),
        "<a>\n<b>\n<>\n<c>\n"
    );
    assert_eq!(
        out("E=; for w in $E; do echo no; done; for w in \"$E\"; do echo \"<$w>\"; done"),
        "<>\n"
    );
    assert_eq!(
        out("echo 'single $X' \"double \\$X\" \\$X"),
        "single $X double $X $X\n"
    );
}

#[test]
fn command_substitution_and_arithmetic() {
    assert_eq!(out("X=$(echo hi; echo there); echo \"$X\""), "hi\nthere\n");
    assert_eq!(
        out("echo $(( 2 * (3 + 4) )) $((10 / 3)) $((1 << 3))"),
        "14 3 8\n"
    );
    assert_eq!(
        out("i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo $i"),
        "3\n"
    );
    assert_eq!(out("X=`echo back`; echo $X"), "back\n");
    assert_eq!(out("X=$(false); echo $?"), "1\n");
    let (s, _, e) = sh("echo $((1/0))");
    assert_eq!(
        (s, e.as_str()),
        (
            2,
            "/bin/sh: 1: arithmetic expression: division by zero: \"1/0\"\n"
        )
    );
}

#[test]
fn redirections_write_the_union_fs() {
    let mut fs = base_fs();
    let o = sh_on(
        &mut fs,
        "echo a > /tmp/f; echo b >> /tmp/f; cat < /tmp/f; ls /nope 2>/dev/null; echo err >&2 2>/dev/null",
    );
    assert_eq!(o.stdout(), b"a\nb\n");
    assert_eq!(o.stderr(), b"err\n");
    assert_eq!(fs.read("/tmp/f").unwrap().bytes().unwrap(), b"a\nb\n");
    let o = sh_on(&mut fs, "ls /nope > /tmp/log 2>&1; cat /tmp/log");
    assert_eq!(
        o.stdout(),
        b"ls: cannot access '/nope': No such file or directory\n"
    );
    let o = sh_on(&mut fs, "echo x > /no/dir/f; echo $?; cat < /nope; echo $?");
    assert_eq!(o.stdout(), b"2\n2\n");
    assert_eq!(
        o.stderr(),
        b"/bin/sh: 1: cannot create /no/dir/f: Directory nonexistent\n/bin/sh: 1: cannot open /nope: No such file\n"
    );
    let o = sh_on(
        &mut fs,
        "cat <<EOF > /etc/motd\nhello $HOME\nEOF\ncat <<'X'\n$HOME\nX\n",
    );
    assert_eq!(o.stdout(), b"$HOME\n");
    assert_eq!(
        fs.read("/etc/motd").unwrap().bytes().unwrap(),
        b"hello /root\n"
    );
    let o = sh_on(&mut fs, "umask 077; echo s > /tmp/secret");
    assert_eq!(o.status, 0);
    assert_eq!(fs.stat("/tmp/secret").unwrap().mode, 0o600);
}

#[test]
fn pipelines_run_through_buffers() {
    assert_eq!(out("printf 'b\\na\\nc\\n' | cat | cat"), "b\na\nc\n");
    assert_eq!(
        out("X=1; echo 2 | { read X; echo in $X; }; echo out $X"),
        "in 2\nout 1\n"
    );
    assert_eq!(sh("true | false").0, 1);
    assert_eq!(sh("false | true").0, 0);
}

#[test]
fn compound_commands() {
    assert_eq!(
        out("if [ -f /etc/passwd ]; then echo yes; elif true; then echo no; else echo never; fi"),
        "yes\n"
    );
    assert_eq!(
        out("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done"),
        "1\n3\n"
    );
    assert_eq!(
        out("for i in 1 2 3; do for j in a b; do [ $j = b ] && break 2; echo $i$j; done; done"),
        "1a\n"
    );
    assert_eq!(
        out("n=0; until [ $n -ge 2 ]; do n=$((n+1)); echo $n; done"),
        "1\n2\n"
    );
    assert_eq!(
        out("case foo.tar.gz in *.zip) echo z;; *.tar.*) echo t;; esac"),
        "t\n"
    );
    assert_eq!(out("case x in a|x) echo hit;; esac"), "hit\n");
    assert_eq!(out("f() { return 3; }; f; echo $?"), "3\n");
    assert_eq!(out("(cd /etc && pwd); pwd"), "/etc\n/\n");
    assert_eq!(out("{ echo a; echo b; } > /tmp/x; cat /tmp/x"), "a\nb\n");
}

#[test]
fn globbing_against_the_union_fs() {
    assert_eq!(
        out("mkdir -p /g && touch /g/a.txt /g/b.txt /g/c.log /g/.h; echo /g/*.txt; echo /g/*"),
        "/g/a.txt /g/b.txt\n/g/a.txt /g/b.txt /g/c.log\n"
    );
    assert_eq!(out("echo /nope/*.x"), "/nope/*.x\n");
    assert_eq!(
        out("mkdir -p /g/d && touch /g/c.log && cd /g && echo *.log d/ '*'"),
        "c.log d/ *\n"
    );
    assert_eq!(
        out(
            "mkdir -p /var/lib/apt/lists/partial && touch /var/lib/apt/lists/x && rm -rf /var/lib/apt/lists/* && ls -A /var/lib/apt/lists"
        ),
        ""
    );
}

#[test]
fn builtins_cd_export_unset_command() {
    let (s, _, e) = sh("cd /nope");
    assert_eq!((s, e.as_str()), (2, "/bin/sh: 1: cd: can't cd to /nope\n"));
    assert_eq!(
        out("cd /etc; echo $PWD; cd ..; pwd; cd -"),
        "/etc\n/\n/etc\n"
    );
    assert_eq!(
        out("X=1; sh -c 'echo [$X]'; export X; sh -c 'echo [$X]'"),
        "[]\n[1]\n"
    );
    assert_eq!(out("X=1; unset X; echo [${X-gone}]"), "[gone]\n");
    assert_eq!(
        out("command -v echo ls cd nope; echo $?"),
        "echo\n/usr/bin/ls\ncd\n127\n"
    );
    assert_eq!(out("Y=tmp env | grep ^Y="), "Y=tmp\n");
    assert_eq!(out("eval 'A=5; echo $A'"), "5\n");
}

#[test]
fn programs_are_found_in_path_or_not_at_all() {
    let mut fs = base_fs();
    fs.write("/bin/ls", b"\x7fELF", 0o755).unwrap();
    fs.write("/usr/bin/apt-get", b"\x7fELF", 0o755).unwrap();
    fs.write("/usr/bin/noexec", b"#!/bin/sh\n", 0o644).unwrap();
    fs.write("/bin/sh", b"\x7fELF", 0o755).unwrap();
    fs.mkdir_all("/usr/local/bin", 0o755).unwrap();
    fs.write(
        "/usr/local/bin/hello.sh",
        b"#!/bin/sh\necho hello $1\nexit 5\n",
        0o755,
    )
    .unwrap();
    let env = Env::default();
    let reg = Registry::with_builtins();
    let o = run_script(
        &mut fs,
        &env,
        "ls /etc; mkdir /x; noexec; echo $?; apt-get; echo $?",
        &reg,
        &Limits::default(),
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout()),
        "group\npasswd\n126\n127\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr()),
        "/bin/sh: 1: mkdir: not found\n/bin/sh: 1: noexec: Permission denied\n/bin/sh: 1: apt-get: not simulated (layerbox has no model of this program)\n"
    );
    let o = run_script(&mut fs, &env, "hello.sh world", &reg, &Limits::default());
    assert_eq!((o.status, o.stdout()), (5, b"hello world\n".to_vec()));
    let argv: Vec<String> = ["ls", "/"].iter().map(|s| (*s).to_owned()).collect();
    let o = run(&mut fs, &env, &argv, &reg, &Limits::default());
    assert_eq!(o.stdout(), b"bin\netc\nhome\nroot\ntmp\nusr\n");
    let argv = vec!["nope".to_owned()];
    let o = run(&mut fs, &env, &argv, &reg, &Limits::default());
    assert_eq!(
        (o.status, o.stderr()),
        (
            127,
            b"exec: \"nope\": executable file not found in $PATH\n".to_vec()
        )
    );
}

#[test]
fn syntax_errors_are_dashs() {
    let (s, _, e) = sh("echo ok; if true; then echo");
    assert_eq!(
        (s, e.as_str()),
        (
            2,
            "/bin/sh: 1: Syntax error: end of file unexpected (expecting \"fi\")\n"
        )
    );
}

#[test]
fn output_keeps_its_interleaving() {
    let mut fs = base_fs();
    let o = sh_on(&mut fs, "echo 1; echo 2 >&2; echo 3");
    let streams: Vec<Stream> = o.output.iter().map(|c| c.stream).collect();
    assert_eq!(streams, [Stream::Stdout, Stream::Stderr, Stream::Stdout]);
}

#[test]
fn limits_end_runaway_scripts() {
    let mut fs = base_fs();
    let env = Env {
        lookup: Lookup::Registry,
        ..Env::default()
    };
    let reg = Registry::with_builtins();
    let small = Limits {
        max_steps: 1000,
        max_output: 10_000,
        max_file_size: 1000,
        max_depth: 50,
    };
    let o = run_script(&mut fs, &env, "while true; do :; done", &reg, &small);
    assert_eq!(o.limit, Some(LimitExceeded::Steps(1000)));
    assert_eq!(o.status, 2);
    assert!(String::from_utf8_lossy(&o.stderr()).contains("stopped after 1000 commands"));
    let o = run_script(
        &mut fs,
        &env,
        "while :; do echo xxxxxxxxxxxxxxxxxxxx; done",
        &reg,
        &Limits {
            max_steps: 1_000_000,
            ..small
        },
    );
    assert_eq!(o.limit, Some(LimitExceeded::Output(10_000)));
    let o = run_script(&mut fs, &env, "f() { f; }; f", &reg, &small);
    assert_eq!(o.limit, Some(LimitExceeded::Depth(50)));
    let o = run_script(
        &mut fs,
        &env,
        "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxx >> /tmp/big; done",
        &reg,
        &Limits {
            max_steps: 1_000_000,
            ..small
        },
    );
    assert!(
        matches!(o.limit, Some(LimitExceeded::FileSize { .. })),
        "{:?}",
        o.limit
    );
    let o = run_script(
        &mut fs,
        &env,
        "x=$(while :; do echo yyyyyyyyyyyyyyyyyyyy; done)",
        &reg,
        &Limits {
            max_steps: 1_000_000,
            ..small
        },
    );
    assert_eq!(o.limit, Some(LimitExceeded::Output(10_000)));
}

#[test]
fn fs_events_come_back() {
    use crate::fs::{FsEvent, LayerStack, UnionFs};
    let base = base_fs();
    let image = LayerStack::from_layers([base.into_upper().into()]).unwrap();
    let mut fs = UnionFs::new(image);
    let o = sh_on(&mut fs, "echo extra >> /etc/passwd && rm /etc/group");
    assert_eq!(o.status, 0);
    assert!(
        o.events
            .iter()
            .any(|e| matches!(e, FsEvent::CopyUp { path, .. } if path == "/etc/passwd"))
    );
    assert!(o.events.contains(&FsEvent::Whiteout {
        path: "/etc/group".into()
    }));
}

#[test]
fn shell_options_before_dash_c_and_pipefail() {
    let mut fs = base_fs();
    let env = Env {
        lookup: Lookup::Registry,
        ..Env::default()
    };
    let reg = Registry::with_builtins();
    let argv = |v: &[&str]| -> Vec<String> { v.iter().map(|s| (*s).to_owned()).collect() };
    let o = run(
        &mut fs,
        &env,
        &argv(&["/bin/bash", "-o", "pipefail", "-c", "false | true"]),
        &reg,
        &Limits::default(),
    );
    assert_eq!(o.status, 1);
    let o = run(
        &mut fs,
        &env,
        &argv(&["/bin/bash", "-c", "false | true"]),
        &reg,
        &Limits::default(),
    );
    assert_eq!(o.status, 0);
    let o = run(
        &mut fs,
        &env,
        &argv(&["/bin/sh", "-e", "-c", "false; echo no"]),
        &reg,
        &Limits::default(),
    );
    assert_eq!((o.status, o.stdout()), (1, Vec::new()));
    let o = run(
        &mut fs,
        &env,
        &argv(&["/bin/sh", "-c", "set -o pipefail"]),
        &reg,
        &Limits::default(),
    );
    assert_eq!(
        (o.status, o.stderr()),
        (2, b"/bin/sh: 1: set: Illegal option -o pipefail\n".to_vec())
    );
}

#[test]
fn local_variables_end_with_their_function() {
    assert_eq!(
        out("x=1; f() { local x=2 y; y=3; echo $x$y; }; f; echo $x[${y-unset}]"),
        "23\n1[unset]\n"
    );
    assert_eq!(sh("local z=1").2, "/bin/sh: 1: local: not in a function\n");
    assert_eq!(out("sh -c 'return 4'; echo $?"), "4\n");
}
