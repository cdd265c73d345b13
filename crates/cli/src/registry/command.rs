//! The command lines of `pull`, `push`, `login` and `logout` on the Linux engine, with docker's
//! usage, help and error texts.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use super::auth::{CredentialStore, Credentials, Scheme, server_key};
use super::client::Registry;
use super::manifest::Platform;
use super::progress::Progress;
use super::{RegistryError, Settings};
use crate::store::Store;

struct Spec {
    name: &'static str,
    usage: &'static str,
    short: &'static str,
    options: &'static str,
}

const PULL: Spec = Spec {
    name: "pull",
    usage: "[OPTIONS] NAME[:TAG|@DIGEST]",
    short: "Pull an image or a repository from a registry",
    options: "  -a, --all-tags                Download all tagged images in the repository (not supported)
      --disable-content-trust   Skip image verification (default true)
      --platform string         Set platform if server is multi-platform capable
  -q, --quiet                   Suppress verbose output
",
};

const PUSH: Spec = Spec {
    name: "push",
    usage: "[OPTIONS] NAME[:TAG]",
    short: "Push an image or a repository to a registry",
    options: "      --disable-content-trust   Skip image signing (default true)
  -q, --quiet                   Suppress verbose output
",
};

const LOGIN: Spec = Spec {
    name: "login",
    usage: "[OPTIONS] [SERVER]",
    short: "Log in to a Docker registry.\nIf no server is specified, the default is defined by the daemon.",
    options: "  -p, --password string   Password
      --password-stdin    Take the password from stdin
  -u, --username string   Username
",
};

const LOGOUT: Spec = Spec {
    name: "logout",
    usage: "[SERVER]",
    short: "Log out from a Docker registry.\nIf no server is specified, the default is defined by the daemon.",
    options: "",
};

fn help(program: &str, spec: &Spec) -> String {
    let mut text = format!(
        "\nUsage:  {program} {} {}\n\n{}\n",
        spec.name, spec.usage, spec.short
    );
    if !spec.options.is_empty() {
        text.push_str("\nOptions:\n");
        text.push_str(spec.options);
    }
    text
}

/// docker's usage error: the message, `See '… --help'.`, the usage line and description.
fn usage_error(program: &str, spec: &Spec, message: &str) -> u8 {
    eprintln!(
        "{message}\nSee '{program} {} --help'.\n\nUsage:  {program} {} {}\n\n{}",
        spec.name,
        spec.name,
        spec.usage,
        spec.short.lines().next().unwrap_or_default()
    );
    1
}

/// The parsed flags and arguments of one command line.
#[derive(Debug, Default)]
struct Parsed<'a> {
    values: Vec<(&'static str, String)>,
    switches: Vec<&'static str>,
    args: Vec<&'a str>,
}

impl Parsed<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }
}

/// Parses flags: `valued` are (long, short) names that take a value, `switches` those that don't.
fn parse<'a>(
    words: &[&'a str],
    valued: &[(&'static str, Option<char>)],
    switches: &[(&'static str, Option<char>)],
) -> Result<Parsed<'a>, String> {
    let mut out = Parsed::default();
    let mut it = words.iter();
    while let Some(word) = it.next() {
        if *word == "--" {
            out.args.extend(it.by_ref());
            break;
        }
        let (name, inline): (Option<&'static str>, Option<&str>) =
            if let Some(long) = word.strip_prefix("--") {
                let (n, v) = long
                    .split_once('=')
                    .map_or((long, None), |(n, v)| (n, Some(v)));
                let found = valued
                    .iter()
                    .chain(switches)
                    .find(|(l, _)| *l == n)
                    .map(|(l, _)| *l);
                (
                    Some(found.ok_or_else(|| format!("unknown flag: --{n}"))?),
                    v,
                )
            } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
                let c = short.chars().next().unwrap_or_default();
                let found = valued
                    .iter()
                    .chain(switches)
                    .find(|(_, s)| *s == Some(c))
                    .map(|(l, _)| *l);
                let rest = &short[c.len_utf8()..];
                (
                    Some(found.ok_or_else(|| format!("unknown shorthand flag: '{c}' in {word}"))?),
                    (!rest.is_empty()).then_some(rest),
                )
            } else {
                (None, None)
            };
        match name {
            None => out.args.push(word),
            Some(n) if valued.iter().any(|(l, _)| *l == n) => {
                let v = match inline {
                    Some(v) => v.to_owned(),
                    None => (*it
                        .next()
                        .ok_or_else(|| format!("flag needs an argument: --{n}"))?)
                    .to_owned(),
                };
                out.values.push((n, v));
            }
            Some(n) => out.switches.push(n),
        }
    }
    Ok(out)
}

/// Runs `pull`, `push`, `login` or `logout` when `words` (the command line after the program
/// name) is one of them; `None` otherwise.
pub fn run(
    program: &str,
    words: &[&str],
    root: &Path,
    settings: &Settings,
) -> Option<io::Result<u8>> {
    let (spec, rest) = match words {
        ["pull", rest @ ..] | ["image", "pull", rest @ ..] => (&PULL, rest),
        ["push", rest @ ..] | ["image", "push", rest @ ..] => (&PUSH, rest),
        ["login", rest @ ..] => (&LOGIN, rest),
        ["logout", rest @ ..] => (&LOGOUT, rest),
        _ => return None,
    };
    if rest.iter().any(|w| *w == "--help" || *w == "-h") {
        print!("{}", help(program, spec));
        return Some(Ok(0));
    }
    let (valued, switches): (&[_], &[_]) = match spec.name {
        "pull" => (
            &[("platform", None)],
            &[
                ("all-tags", Some('a')),
                ("quiet", Some('q')),
                ("disable-content-trust", None),
            ],
        ),
        "push" => (
            &[],
            &[("quiet", Some('q')), ("disable-content-trust", None)],
        ),
        "login" => (
            &[("username", Some('u')), ("password", Some('p'))],
            &[("password-stdin", None)],
        ),
        _ => (&[], &[]),
    };
    let parsed = match parse(rest, valued, switches) {
        Ok(p) => p,
        Err(e) => return Some(Ok(usage_error(program, spec, &e))),
    };
    let command = format!("\"{program} {}\"", spec.name);
    let code = match spec.name {
        "pull" | "push" => {
            if parsed.args.len() != 1 {
                return Some(Ok(usage_error(
                    program,
                    spec,
                    &format!("{command} requires exactly 1 argument."),
                )));
            }
            if parsed.switch("all-tags") {
                eprintln!("{program} pull --all-tags is not supported by layerbox");
                return Some(Ok(1));
            }
            transfer(spec.name, parsed.args[0], &parsed, root, settings)
        }
        "login" => {
            if parsed.args.len() > 1 {
                return Some(Ok(usage_error(
                    program,
                    spec,
                    &format!("{command} requires at most 1 argument."),
                )));
            }
            login(&parsed, settings)
        }
        _ => {
            if parsed.args.len() > 1 {
                return Some(Ok(usage_error(
                    program,
                    spec,
                    &format!("{command} requires at most 1 argument."),
                )));
            }
            logout(parsed.args.first().copied())
        }
    };
    Some(code)
}

fn daemon_error(e: &RegistryError) -> u8 {
    eprintln!("Error response from daemon: {e}");
    1
}

fn transfer(
    which: &str,
    name: &str,
    parsed: &Parsed<'_>,
    root: &Path,
    settings: &Settings,
) -> io::Result<u8> {
    let platform = match parsed.value("platform").map(Platform::parse).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error response from daemon: {e}");
            return Ok(1);
        }
    };
    let store = Store::open(root).map_err(io::Error::other)?;
    let progress = Mutex::new(Progress::stdout(parsed.switch("quiet")));
    let done = if which == "pull" {
        super::pull::pull(&store, name, platform.as_ref(), settings, &progress).map(|_| ())
    } else {
        super::push::push(&store, name, settings, &progress).map(|_| ())
    };
    Ok(match done {
        Ok(()) => 0,
        Err(e) => daemon_error(&e),
    })
}

/// The server a `login`/`logout` argument names (Docker Hub without one).
fn server_of(arg: Option<&str>) -> String {
    server_key(arg.unwrap_or("docker.io"))
}

/// Reads a line from the terminal (or stdin), without echo for a password.
fn prompt(text: &str, secret: bool) -> io::Result<String> {
    print!("{text}");
    io::stdout().flush()?;
    let stdin = io::stdin();
    let saved = if secret && stdin.is_terminal() {
        let saved = rustix::termios::tcgetattr(&stdin).map_err(io::Error::from)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet)
            .map_err(io::Error::from)?;
        Some(saved)
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &saved);
        println!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn login(parsed: &Parsed<'_>, settings: &Settings) -> io::Result<u8> {
    let server_arg = parsed.args.first().copied();
    let server = server_of(server_arg);
    let store = CredentialStore::for_user();
    let mut username = parsed.value("username").map(str::to_owned);
    let mut password = parsed.value("password").map(str::to_owned);
    if parsed.switch("password-stdin") {
        if password.is_some() {
            eprintln!("--password and --password-stdin are mutually exclusive");
            return Ok(1);
        }
        if username.is_none() {
            eprintln!("Must provide --username with --password-stdin");
            return Ok(1);
        }
        let mut text = String::new();
        io::Read::read_to_string(&mut io::stdin(), &mut text)?;
        password = Some(text.trim_end_matches(['\r', '\n']).to_owned());
    } else if password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if (username.is_none() || password.is_none()) && !io::stdin().is_terminal() {
        eprintln!("Error: Cannot perform an interactive login from a non TTY device");
        return Ok(1);
    }
    if username.is_none() {
        username = Some(prompt("Username: ", false)?);
    }
    if password.is_none() {
        password = Some(prompt("Password: ", true)?);
    }
    let creds = Credentials {
        username: username.unwrap_or_default(),
        password: password.unwrap_or_default(),
    };
    if creds.username.is_empty() {
        eprintln!("Error: Non-null Username Required");
        return Ok(1);
    }
    let domain = server_arg.unwrap_or("docker.io");
    let checked =
        Registry::connect(domain, settings, Some(creds.clone())).and_then(|r| r.check_login());
    if let Err(e) = checked {
        return Ok(daemon_error(&e));
    }
    store.store(&server, &creds)?;
    eprintln!(
        "WARNING! Your password will be stored unencrypted in {}.",
        store.layerbox.display()
    );
    println!("Login Succeeded");
    Ok(0)
}

fn logout(server_arg: Option<&str>) -> io::Result<u8> {
    let server = server_of(server_arg);
    let store = CredentialStore::for_user();
    if store.erase(&server)? {
        println!("Removing login credentials for {server}");
    } else {
        println!("Not logged in to {server}");
    }
    Ok(0)
}

impl Registry {
    /// Checks credentials as `docker login` does: a token for no scope from a token server, or
    /// `/v2/` with Basic auth.
    pub fn check_login(&self) -> Result<(), RegistryError> {
        match self.challenge_scheme() {
            None => Ok(()),
            Some(Scheme::Bearer) => self.token_for(&[]).map(|_| ()),
            Some(Scheme::Basic) => {
                let url = self.url("");
                let resp = self.call(&[], "GET", &url, &|agent, auth| {
                    let mut r = agent.get(&url);
                    if let Some(a) = auth {
                        r = r.header("Authorization", a);
                    }
                    r.call()
                })?;
                match resp.status().as_u16() {
                    200..=299 => Ok(()),
                    _ => Err(RegistryError::Auth(
                        "unauthorized: incorrect username or password".into(),
                    )),
                }
            }
        }
    }
}
