//! Just enough of POSIX shell to lint `RUN`: simple commands with their words.
//!
//! This is not an interpreter and does no expansion: it splits a script into simple commands at
//! `;`, `&`, `|`, `&&`, `||`, parentheses and newlines, removes quotes and escapes from words,
//! skips comments, and collects the bodies of `<<` heredocs for the command that reads them.
//! It never fails: whatever it does not understand stays in the words.

/// A simple command: its words (quotes removed) and the heredoc bodies it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Command {
    /// Every word, including leading assignments and wrappers such as `sudo`.
    pub words: Vec<String>,
    /// Bodies of the heredocs this command reads, in order.
    pub heredocs: Vec<String>,
    /// Whether a single `|` joins this command to the previous one.
    pub piped: bool,
}

/// Shell keywords that may start a command without being its program.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "while", "until", "do", "!", "{", "time",
];

/// Commands that run the command after them (their own options skipped).
const WRAPPERS: &[&str] = &["sudo", "env", "exec", "nohup", "command", "xargs"];

impl Command {
    /// The program and its arguments: leading `NAME=value` assignments, shell keywords and
    /// wrappers (`sudo -E`, `env`, `exec` …) are skipped. Empty for `fi`, `done` and the like.
    pub fn argv(&self) -> &[String] {
        let mut i = 0;
        while let Some(word) = self.words.get(i) {
            if is_assignment(word) || KEYWORDS.contains(&word.as_str()) {
                i += 1;
            } else if WRAPPERS.contains(&word.as_str()) {
                i += 1;
                while let Some(option) = self.words.get(i).filter(|w| w.starts_with('-')) {
                    // `sudo -u user`, `sudo -g group` take a value.
                    i += if matches!(option.as_str(), "-u" | "-g") {
                        2
                    } else {
                        1
                    };
                }
            } else {
                break;
            }
        }
        match self.words.get(i).map(String::as_str) {
            None | Some("fi" | "done" | "esac" | "}" | ";;") => &[],
            _ => &self.words[i..],
        }
    }

    /// The program's base name (`/usr/bin/apt-get` → `apt-get`), if there is one.
    pub fn program(&self) -> Option<&str> {
        self.argv()
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[String] {
        self.argv().get(1..).unwrap_or(&[])
    }

    /// Whether any argument equals one of `options`.
    pub fn has_arg(&self, options: &[&str]) -> bool {
        self.args().iter().any(|a| options.contains(&a.as_str()))
    }

    /// The first argument that is not an option (nor the value of `-o`/`-c`/`-t`), e.g. the
    /// `install` of `apt-get -y -o X=1 install`.
    pub fn subcommand(&self) -> Option<&str> {
        let mut args = self.args().iter();
        while let Some(arg) = args.next() {
            if matches!(
                arg.as_str(),
                "-o" | "-c" | "-t" | "--option" | "--target-release"
            ) {
                args.next();
            } else if !arg.starts_with('-') {
                return Some(arg);
            }
        }
        None
    }

    /// Whether `sudo` precedes the program.
    pub fn uses_sudo(&self) -> bool {
        let program_at = self.words.len() - self.argv().len();
        self.words[..program_at].iter().any(|w| w == "sudo") || self.program() == Some("sudo")
    }
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// A heredoc announced on the current line, read once the line ends.
struct Pending {
    delimiter: String,
    strip_tabs: bool,
    owner: usize,
}

/// Splits `script` into simple commands.
pub(crate) fn parse(script: &str) -> Vec<Command> {
    let chars: Vec<char> = script.chars().collect();
    let mut commands: Vec<Command> = Vec::new();
    let mut current = Command::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut pending: Vec<Pending> = Vec::new();
    let mut bodies: Vec<(usize, String)> = Vec::new();
    let mut next_piped = false;
    let mut i = 0;

    let finish_word = |current: &mut Command, word: &mut String, in_word: &mut bool| {
        if *in_word {
            current.words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    let finish_command = |commands: &mut Vec<Command>, current: &mut Command, piped: bool| {
        if !current.words.is_empty() {
            current.piped = piped;
            commands.push(std::mem::take(current));
        }
    };

    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                finish_word(&mut current, &mut word, &mut in_word);
                finish_command(&mut commands, &mut current, next_piped);
                next_piped = false;
                i += 1;
                // Heredoc bodies follow the line that announced them.
                for heredoc in pending.drain(..) {
                    let mut body = String::new();
                    while i < chars.len() {
                        let end = chars[i..]
                            .iter()
                            .position(|&c| c == '\n')
                            .map_or(chars.len(), |p| i + p);
                        let line: String = chars[i..end].iter().collect();
                        i = end + 1;
                        let candidate = if heredoc.strip_tabs {
                            line.trim_start_matches('\t')
                        } else {
                            &line
                        };
                        if candidate.trim_end_matches('\r') == heredoc.delimiter {
                            break;
                        }
                        body.push_str(&line);
                        body.push('\n');
                    }
                    bodies.push((heredoc.owner, body));
                }
            }
            '\\' => {
                // `\` + newline is a line continuation and vanishes.
                if let Some(&next) = chars.get(i + 1).filter(|&&n| n != '\n') {
                    word.push(next);
                    in_word = true;
                }
                i += 2;
            }
            '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map_or(chars.len(), |p| i + 1 + p);
                word.extend(&chars[i + 1..end]);
                in_word = true;
                i = end + 1;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                in_word = true;
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                // A heredoc: read its delimiter, quotes removed.
                finish_word(&mut current, &mut word, &mut in_word);
                i += 2;
                let strip_tabs = chars.get(i) == Some(&'-');
                if strip_tabs {
                    i += 1;
                }
                while matches!(chars.get(i), Some(' ' | '\t')) {
                    i += 1;
                }
                let mut delimiter = String::new();
                while let Some(&d) = chars.get(i) {
                    if d.is_whitespace() || matches!(d, ';' | '&' | '|' | '<' | '>' | '(' | ')') {
                        break;
                    }
                    if !matches!(d, '\'' | '"' | '\\') {
                        delimiter.push(d);
                    }
                    i += 1;
                }
                let owner = commands.len();
                pending.push(Pending {
                    delimiter,
                    strip_tabs,
                    owner,
                });
            }
            ';' | '&' | '|' | '(' | ')' => {
                finish_word(&mut current, &mut word, &mut in_word);
                let had_words = !current.words.is_empty();
                finish_command(&mut commands, &mut current, next_piped);
                let single_pipe =
                    c == '|' && chars.get(i + 1) != Some(&'|') && (i == 0 || chars[i - 1] != '|');
                if had_words || c != '|' {
                    next_piped = single_pipe;
                }
                i += 1;
            }
            // Blanks end a word; redirections too (their target stays a word).
            ' ' | '\t' | '\r' | '<' | '>' => {
                finish_word(&mut current, &mut word, &mut in_word);
                i += 1;
            }
            _ => {
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    finish_word(&mut current, &mut word, &mut in_word);
    finish_command(&mut commands, &mut current, next_piped);
    for (owner, body) in bodies {
        if let Some(command) = commands.get_mut(owner) {
            command.heredocs.push(body);
        }
    }
    commands
}

/// Shells whose stdin (or heredoc) is a script.
pub(crate) const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"];

/// Splits `script` into commands and, for a shell reading a heredoc (`bash <<EOF`), the
/// commands of that heredoc too.
pub(crate) fn commands_deep(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for command in parse(script) {
        let nested: Vec<String> = match command.program() {
            Some(p) if SHELLS.contains(&p) && !command.has_arg(&["-c"]) => command.heredocs.clone(),
            _ => Vec::new(),
        };
        out.push(command);
        for body in nested {
            out.extend(commands_deep(&body));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(script: &str) -> Vec<Vec<String>> {
        parse(script).iter().map(|c| c.argv().to_vec()).collect()
    }

    #[test]
    fn splits_on_operators_and_newlines() {
        assert_eq!(
            argvs("apt-get update && apt-get install -y curl; rm -rf /x || true\nmake | tee log"),
            [
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "curl"],
                vec!["rm", "-rf", "/x"],
                vec!["true"],
                vec!["make"],
                vec!["tee", "log"],
            ]
        );
    }

    #[test]
    fn quotes_escapes_and_comments() {
        assert_eq!(
            argvs("echo 'a b' \"c \\\"d\\\"\" e\\ f # comment && rm x\npip \\\n  install y"),
            [
                vec!["echo", "a b", "c \"d\"", "e f"],
                vec!["pip", "install", "y"]
            ]
        );
    }

    #[test]
    fn skips_assignments_keywords_and_wrappers() {
        let cmds = parse(
            "DEBIAN_FRONTEND=noninteractive sudo -E apt-get install x\nif true; then cd /a; fi",
        );
        assert_eq!(cmds[0].program(), Some("apt-get"));
        assert!(cmds[0].uses_sudo());
        assert_eq!(cmds[0].subcommand(), Some("install"));
        assert_eq!(cmds[2].program(), Some("cd"));
        assert!(cmds[3].argv().is_empty());
        assert!(!cmds[2].uses_sudo());
    }

    #[test]
    fn subcommand_skips_option_values() {
        let cmd = &parse("/usr/bin/apt-get -o Dpkg::Options::=--force-confnew -y install x")[0];
        assert_eq!(cmd.program(), Some("apt-get"));
        assert_eq!(cmd.subcommand(), Some("install"));
    }

    #[test]
    fn pipes_are_marked() {
        let cmds = parse("curl -fsSL https://x | sh && a || b");
        assert_eq!(
            cmds.iter().map(|c| c.piped).collect::<Vec<_>>(),
            [false, true, false, false]
        );
    }

    #[test]
    fn heredoc_bodies_belong_to_their_command() {
        let cmds = parse(
            "cat <<-'EOF' > /etc/x && bash <<SH\n\tline one\n\tEOF\napt-get update\nSH\necho done\n",
        );
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].heredocs, ["\tline one\n"]);
        assert_eq!(cmds[1].heredocs, ["apt-get update\n"]);
        assert_eq!(cmds[2].argv(), ["echo", "done"]);
        let deep = commands_deep(
            "cat <<-'EOF' > /etc/x && bash <<SH\n\tline one\n\tEOF\napt-get update\nSH\n",
        );
        assert_eq!(
            deep.iter().filter_map(Command::program).collect::<Vec<_>>(),
            ["cat", "bash", "apt-get"]
        );
    }

    #[test]
    fn never_fails_on_odd_input() {
        for s in [
            "'unterminated",
            "\"open",
            "\\",
            "<<",
            "a <<EOF",
            "|||",
            "))((",
            "é ü\t\u{0}",
        ] {
            let _ = commands_deep(s);
        }
    }
}
