//! Tab completion for the browser terminal: commands, management subcommands, flags, and the
//! names of images and containers, read from the same grammar tables that parse the line.
//!
//! ```
//! use layerbox_core::cli::complete::{Names, complete};
//! let names = Names {
//!     images: vec!["my-app:latest".into()],
//!     containers: vec!["web".into()],
//!     volumes: Vec::new(),
//! };
//! let c = complete(&names, "docker st", 9);
//! assert_eq!(c.candidates, ["start", "stop"]);
//! assert_eq!(c.start, 7);
//! assert_eq!(complete(&names, "docker exec -it w", 17).candidates, ["web"]);
//! ```

use super::flags::{FlagKind, FlagSpec};
use super::grammar::{COMMANDS, CommandSpec, GROUPS, find_command};

/// The engine's names completion can offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Image references as docker shows them (`my-app:latest`).
    pub images: Vec<String>,
    /// Container names.
    pub containers: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
}

/// What can replace the word under the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Byte offset in the line where the word being completed starts (it ends at the cursor).
    pub start: usize,
    /// Every word that fits, sorted, without duplicates.
    pub candidates: Vec<String>,
}

impl Completion {
    /// The text to put in place of the word: the only candidate followed by a space, or the
    /// longest prefix all candidates share (`None` when there is none).
    pub fn replacement(&self) -> Option<String> {
        match self.candidates.as_slice() {
            [] => None,
            // `web:` (a `cp` path follows) takes no space after it.
            [only] if only.ends_with(':') => Some(only.clone()),
            [only] => Some(format!("{only} ")),
            [first, rest @ ..] => {
                let mut len = first.len();
                for c in rest {
                    len = first
                        .char_indices()
                        .zip(c.chars())
                        .take_while(|((_, a), b)| a == b)
                        .last()
                        .map_or(0, |((i, a), _)| i + a.len_utf8())
                        .min(len);
                }
                Some(first[..len].to_owned())
            }
        }
    }
}

/// What a positional argument of a command names, read from its usage line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Image,
    Container,
    Volume,
    Either,
    Other,
}

const PROGRAMS: [&str; 2] = ["docker", "layerbox"];

/// Completes the word that ends at byte `cursor` of `line` (clamped to the line and to a
/// character boundary).
pub fn complete(names: &Names, line: &str, cursor: usize) -> Completion {
    let cursor = (0..=cursor.min(line.len()))
        .rev()
        .find(|&i| line.is_char_boundary(i))
        .unwrap_or(0);
    let head = &line[..cursor];
    let start = head
        .rfind(|c: char| c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let word = &head[start..];
    let before: Vec<&str> = head[..start].split_ascii_whitespace().collect();
    let candidates = candidates(names, &before, word);
    let mut candidates: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.starts_with(word))
        .collect();
    candidates.sort();
    candidates.dedup();
    Completion { start, candidates }
}

/// Every word that could stand at the position after `before`, unfiltered.
fn candidates(names: &Names, before: &[&str], word: &str) -> Vec<String> {
    let Some((_, rest)) = before.split_first() else {
        return PROGRAMS.iter().map(|p| (*p).to_owned()).collect();
    };
    // Global flags before the command (`docker -D ps`) are skipped.
    let mut words = rest.iter().copied().skip_while(|w| w.starts_with('-'));
    let Some(first) = words.next() else {
        return if word.starts_with('-') {
            vec!["--help".into(), "--version".into()]
        } else {
            top_level()
        };
    };
    let (spec, args): (&CommandSpec, Vec<&str>) =
        if let Some(group) = GROUPS.iter().find(|g| g.name == first) {
            let Some(sub) = words.next() else {
                return subcommands(group.name);
            };
            match find_command(Some(group.name), sub) {
                Some(inv) => (inv.spec, words.collect()),
                None => return Vec::new(),
            }
        } else {
            match find_command(None, first) {
                Some(inv) => (inv.spec, words.collect()),
                None => return Vec::new(),
            }
        };
    let flags = spec.all_flags();
    let position = positionals(&args, &flags);
    // Commands that run a command (`run`, `exec`) take flags only before their first argument.
    if word.starts_with('-') && (spec.interspersed || position == Some(0)) {
        return flag_words(&flags, word);
    }
    match position {
        // The word is a flag's value (`--name web`): nothing to offer.
        None => Vec::new(),
        // `cp`: either side may be `CONTAINER:PATH`; the path itself is not completed.
        Some(0 | 1) if spec.top == Some("cp") && !word.contains(':') => {
            names.containers.iter().map(|c| format!("{c}:")).collect()
        }
        Some(n) => match arg_kind(spec.usage, n) {
            Arg::Image => names.images.clone(),
            Arg::Container => names.containers.clone(),
            // `volume create` names a new one
            Arg::Volume if spec.group != Some(("volume", "create")) => names.volumes.clone(),
            Arg::Either => names
                .containers
                .iter()
                .chain(&names.images)
                .cloned()
                .collect(),
            Arg::Volume | Arg::Other => Vec::new(),
        },
    }
}

/// Top-level commands and management commands.
fn top_level() -> Vec<String> {
    COMMANDS
        .iter()
        .filter_map(|c| c.top)
        .chain(GROUPS.iter().map(|g| g.name))
        .map(str::to_owned)
        .collect()
}

/// The subcommands of a management command, aliases included.
fn subcommands(group: &str) -> Vec<String> {
    COMMANDS
        .iter()
        .filter_map(|c| {
            let (g, name) = c.group?;
            (g == group).then_some((name, c.aliases))
        })
        .flat_map(|(name, aliases)| std::iter::once(name).chain(aliases.iter().copied()))
        .map(str::to_owned)
        .collect()
}

/// `--long` names of the flags, and `-s` ones too when the word is a bare `-` or a short flag.
fn flag_words(flags: &[FlagSpec], word: &str) -> Vec<String> {
    let shorts = !word.starts_with("--");
    flags
        .iter()
        .flat_map(|f| {
            let long = format!("--{}", f.long);
            let short = f.short.filter(|_| shorts).map(|s| format!("-{s}"));
            std::iter::once(long).chain(short)
        })
        .chain(std::iter::once("--help".to_owned()))
        .collect()
}

/// How many positional arguments precede the word, or `None` when the word is the value of
/// the flag before it.
fn positionals(args: &[&str], flags: &[FlagSpec]) -> Option<usize> {
    let takes_value = |f: Option<&FlagSpec>| f.is_some_and(|f| f.kind != FlagKind::Bool);
    let mut count = 0;
    let mut value_next = false;
    for arg in args {
        if value_next {
            value_next = false;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if !long.contains('=') {
                value_next = takes_value(flags.iter().find(|f| f.long == long));
            }
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-it`, `-dp 3000:3000`: the last letter may take the next word; `-p3000` does not.
            let last = shorts.chars().last();
            let inline = shorts
                .char_indices()
                .find(|&(_, c)| takes_value(flags.iter().find(|f| f.short == Some(c))));
            value_next = match inline {
                Some((i, c)) => i + c.len_utf8() == shorts.len() && Some(c) == last,
                None => false,
            };
        } else {
            count += 1;
        }
    }
    (!value_next).then_some(count)
}

/// What the `n`th positional argument of a command with this usage line names.
fn arg_kind(usage: &str, n: usize) -> Arg {
    let args: Vec<&str> = usage
        .split_ascii_whitespace()
        .filter(|w| *w != "[OPTIONS]" && *w != "|")
        .collect();
    let word = match args.get(n) {
        Some(w) => *w,
        // `CONTAINER [CONTAINER...]`: the last one repeats.
        None => match args.last() {
            Some(last) if last.ends_with("...]") => last,
            _ => return Arg::Other,
        },
    };
    if word.contains("NAME|ID") {
        Arg::Either
    } else if word.contains("CONTAINER") {
        Arg::Container
    } else if word.contains("VOLUME") {
        Arg::Volume
    } else if word.contains("IMAGE") || word.contains("REPOSITORY") {
        Arg::Image
    } else {
        Arg::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            images: vec![
                "my-app:latest".into(),
                "my-app:v2".into(),
                "python:3.9-slim".into(),
            ],
            containers: vec!["web".into(), "worker".into(), "db".into()],
            volumes: vec!["notes".into(), "cache".into()],
        }
    }

    #[test]
    fn volume_commands_offer_volumes() {
        assert_eq!(at_end("docker volume rm n"), ["notes"]);
        assert_eq!(at_end("docker volume inspect notes c"), ["cache"]);
        assert!(at_end("docker volume create ").is_empty());
    }

    fn at_end(line: &str) -> Vec<String> {
        complete(&names(), line, line.len()).candidates
    }

    #[test]
    fn the_program_then_the_commands() {
        assert_eq!(at_end(""), ["docker", "layerbox"]);
        assert_eq!(at_end("do"), ["docker"]);
        assert_eq!(at_end("docker bu"), ["build", "builder"]);
        assert_eq!(at_end("layerbox im"), ["image", "images", "import"]);
        assert_eq!(at_end("docker -D pa"), ["pause"]);
        assert!(at_end("docker ").contains(&"container".to_owned()));
        assert!(at_end("docker ").contains(&"ps".to_owned()));
        assert_eq!(at_end("kubectl g"), Vec::<String>::new());
    }

    #[test]
    fn management_subcommands_with_aliases() {
        assert_eq!(at_end("docker container l"), ["list", "logs", "ls"]);
        assert_eq!(at_end("docker image p"), ["prune"]);
        assert_eq!(at_end("docker system "), ["df", "info", "prune"]);
        assert_eq!(at_end("docker builder "), ["prune"]);
    }

    #[test]
    fn flags_of_the_command() {
        assert_eq!(at_end("docker run --na"), ["--name"]);
        assert_eq!(at_end("docker build --ta"), ["--tag", "--target"]);
        let short = at_end("docker run -");
        assert!(short.contains(&"-d".to_owned()), "{short:?}");
        assert!(short.contains(&"--publish".to_owned()), "{short:?}");
        assert!(!at_end("docker run --").contains(&"-d".to_owned()));
        assert_eq!(at_end("docker ps --al"), ["--all"]);
    }

    #[test]
    fn images_and_containers_where_the_usage_names_them() {
        assert_eq!(at_end("docker run -d my"), ["my-app:latest", "my-app:v2"]);
        assert_eq!(at_end("docker stop w"), ["web", "worker"]);
        assert_eq!(at_end("docker rm web w"), ["web", "worker"]);
        assert_eq!(at_end("docker rmi p"), ["python:3.9-slim"]);
        assert_eq!(at_end("docker exec -it w"), ["web", "worker"]);
        assert_eq!(
            at_end("docker commit web my"),
            ["my-app:latest", "my-app:v2"]
        );
        assert_eq!(at_end("docker inspect d"), ["db"]);
        assert_eq!(at_end("docker container logs d"), ["db"]);
    }

    #[test]
    fn flag_values_and_commands_in_the_container_are_not_completed() {
        // `--name w`: the value of --name, not a container.
        assert!(at_end("docker run --name w").is_empty());
        assert!(at_end("docker run -p 3000:3000 --name ").is_empty());
        // After `-p 3000:3000` comes the image again.
        assert_eq!(at_end("docker run -d -p 3000:3000 my-app:v"), ["my-app:v2"]);
        assert_eq!(at_end("docker run -dp 3000:3000 p"), ["python:3.9-slim"]);
        assert_eq!(
            at_end("docker run --publish=3000:3000 p"),
            ["python:3.9-slim"]
        );
        // The image's command is not the engine's to complete.
        assert!(at_end("docker run my-app w").is_empty());
        assert!(at_end("docker exec web w").is_empty());
    }

    #[test]
    fn cp_offers_containers_with_their_colon() {
        assert_eq!(at_end("docker cp w"), ["web:", "worker:"]);
        assert_eq!(at_end("docker container cp ./x d"), ["db:"]);
        assert_eq!(at_end("docker cp web:/e"), Vec::<String>::new());
        let c = complete(&names(), "docker cp d", 11);
        assert_eq!(c.replacement().as_deref(), Some("db:"));
    }

    #[test]
    fn the_cursor_may_stand_inside_the_line() {
        let c = complete(&names(), "docker st web", 9);
        assert_eq!(c.start, 7);
        assert_eq!(c.candidates, ["start", "stop"]);
        // Past the end or inside a character is clamped.
        assert_eq!(complete(&names(), "docker ps", 99).candidates, ["ps"]);
        assert_eq!(
            complete(&names(), "é", 1).candidates,
            ["docker", "layerbox"]
        );
    }

    #[test]
    fn replacement_is_the_word_or_the_shared_prefix() {
        let one = complete(&names(), "docker comm", 11);
        assert_eq!(one.replacement().as_deref(), Some("commit "));
        let prefix = complete(&names(), "docker bui", 10);
        assert_eq!(prefix.replacement().as_deref(), Some("build"));
        let two = complete(&names(), "docker stop w", 13);
        assert_eq!(two.replacement().as_deref(), Some("w"));
        let none = complete(&names(), "docker zzz", 10);
        assert_eq!(none.replacement(), None);
        let shared = complete(&names(), "docker run m", 12);
        assert_eq!(shared.replacement().as_deref(), Some("my-app:"));
    }
}
