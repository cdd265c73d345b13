//! Thousands of generated inputs through the grammar, the line splitter and the template
//! engine: each must give a value or an error, never a panic (a panic kills the browser app).

use layerbox_core::cli::grammar::{Invocation, parse};
use layerbox_core::cli::split::split_line;
use layerbox_core::cli::tabwriter::TabWriter;
use layerbox_core::cli::template::Template;
use layerbox_core::cli::text::ellipsis;

use crate::support::Rng;

const WORDS: &[&str] = &[
    "docker",
    "layerbox",
    "run",
    "ps",
    "images",
    "container",
    "image",
    "system",
    "ls",
    "rm",
    "rmi",
    "exec",
    "-",
    "--",
    "-d",
    "-it",
    "-dit",
    "-p",
    "-p80:80",
    "-e",
    "A=1",
    "--name",
    "--name=",
    "web",
    "-a",
    "-q",
    "--format",
    "{{.ID}}",
    "--help",
    "-h",
    "-z",
    "--foo",
    "---x",
    "--=",
    "-n",
    "x",
    "-1",
    "0x10",
    "--rm",
    "--restart",
    "on-failure:x",
    "-f",
    "status=exited",
    "busybox",
    "sh",
    "-c",
    "exit 3",
    "help",
    "prune",
    "df",
    "tag",
    "commit",
    "-c",
    "-m",
    "--sig-proxy=maybe",
    "-t",
    "3",
    "--tail",
    "--type",
    "volume",
    "é",
    "日本",
    "-é",
    "--é",
    "\u{0}",
    "-p=:::",
    "-p",
    "[::1]:80:80",
    "65536:1",
    "1-0",
];

const TEMPLATE_PIECES: &[&str] = &[
    "{{", "}}", "{{-", "-}}", " ", ".", ".ID", ".A.B", "$", "$x", ":=", "|", "(", ")", "\"", "`",
    "json", "len", "index", "if", "else", "end", "range", "with", "eq", "printf", "\"%d\"", "1",
    "-2", "x", "\n", "{{/*", "*/}}", "upper", "join", "split", "pad", "truncate", "nil", "true",
    ",", "é", "\\",
];

#[test]
fn random_command_lines_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let n = rng.below(8);
        let mut argv = vec![rng.pick(&["docker", "layerbox", "docker"]).to_owned()];
        for _ in 0..n {
            argv.push(rng.pick(WORDS).to_owned());
        }
        match parse(&argv) {
            Ok(Invocation::Command { .. }) => parsed += 1,
            Ok(_) => {}
            Err(e) => assert!(!e.to_string().is_empty() && e.exit_code() > 0),
        }
        // The same words as a typed line.
        let _ = split_line(&argv.join(" "));
    }
    assert!(
        parsed > 100,
        "the generator should hit valid command lines too ({parsed})"
    );
}

#[test]
fn random_templates_never_panic() {
    let mut rng = Rng(0xfeed_beef_cafe_f00d);
    let value = serde_json::json!({"ID": "abc", "A": {"B": [1, 2]}, "N": null, "S": "é"});
    let mut ran = 0;
    for _ in 0..20_000 {
        let n = rng.below(12);
        let text: String = (0..n).map(|_| rng.pick(TEMPLATE_PIECES)).collect();
        if let Ok(t) = Template::parse(&text) {
            ran += usize::from(t.execute(&value).is_ok());
            let _ = t.execute_header(&value);
            let _ = t.execute_record(&value, "*formatter.ContainerContext");
        }
        let _ = TabWriter::docker().format(&text);
        let _ = ellipsis(&text, rng.below(8));
    }
    assert!(
        ran > 100,
        "the generator should make valid templates too ({ran})"
    );
}
