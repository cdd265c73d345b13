//! Rootless ID maps: the user's own uid is root in the container; with subordinate ranges in
//! `/etc/subuid` and `/etc/subgid` (and shadow's setuid `newuidmap`/`newgidmap` installed), IDs
//! 1 and up map onto them as well, as rootless docker and podman do, so that the container can
//! have other users (`USER nobody`, `chown`, package managers).

use std::path::{Path, PathBuf};

/// A subordinate range: `count` IDs on the host from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first host ID.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// The first range `/etc/subuid` (or `/etc/subgid`) gives the user `name` or ID `id`.
pub fn subordinate(text: &str, name: &str, id: u32) -> Option<Range> {
    text.lines().find_map(|line| {
        let mut f = line.trim().split(':');
        let (owner, start, count) = (f.next()?, f.next()?, f.next()?);
        if owner != name && owner.parse() != Ok(id) {
            return None;
        }
        let range = Range {
            start: start.parse().ok()?,
            count: count.parse().ok()?,
        };
        (range.count > 0).then_some(range)
    })
}

/// How a rootless container's user namespace is mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMaps {
    /// The caller's uid (root inside).
    pub uid: u32,
    /// The caller's gid (root's group inside).
    pub gid: u32,
    /// The subordinate ranges and the helpers that write them, when the host has both.
    pub subordinate: Option<Subordinate>,
}

/// Subordinate ranges for IDs 1 and up, written by shadow's setuid helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subordinate {
    /// UIDs.
    pub uids: Range,
    /// GIDs.
    pub gids: Range,
    /// `newuidmap`.
    pub newuidmap: PathBuf,
    /// `newgidmap`.
    pub newgidmap: PathBuf,
}

impl IdMaps {
    /// The maps for the calling user on this host.
    pub fn current() -> Self {
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let name = read("/etc/passwd")
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2)?.parse::<u32>().ok()? == uid).then(|| f[0].to_owned())
            })
            .unwrap_or_default();
        let subordinate = (|| {
            Some(Subordinate {
                uids: subordinate(&read("/etc/subuid"), &name, uid)?,
                gids: subordinate(&read("/etc/subgid"), &name, uid)?,
                newuidmap: find_program("newuidmap")?,
                newgidmap: find_program("newgidmap")?,
            })
        })();
        Self {
            uid,
            gid,
            subordinate,
        }
    }

    /// The arguments of `newuidmap PID …` (`uids`) or `newgidmap PID …`: the caller's ID as 0,
    /// the range as 1 and up.
    pub fn helper_args(&self, pid: i32, uids: bool) -> Option<(PathBuf, Vec<String>)> {
        let sub = self.subordinate.as_ref()?;
        let (program, own, range) = if uids {
            (&sub.newuidmap, self.uid, sub.uids)
        } else {
            (&sub.newgidmap, self.gid, sub.gids)
        };
        let args = [pid, 0, i32::try_from(own).ok()?, 1, 1]
            .iter()
            .map(ToString::to_string)
            .chain([range.start.to_string(), range.count.to_string()])
            .collect();
        Some((program.clone(), args))
    }

    /// Writes the maps of the process `pid` (just unshared into its user namespace) with the
    /// helpers; the error is the helper's own words.
    pub fn write_with_helpers(&self, pid: i32) -> Result<(), String> {
        for uids in [true, false] {
            let Some((program, args)) = self.helper_args(pid, uids) else {
                return Err("no subordinate ranges".to_owned());
            };
            let out = std::process::Command::new(&program)
                .args(&args)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| format!("{}: {e}", program.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "{}: {}",
                    program.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        Ok(())
    }
}

/// A program in `PATH` (or in `/usr/bin`, where Debian's uidmap puts them).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_by_name_or_id_and_the_helpers_arguments() {
        let text = "alice:100000:65536\n1001:200000:1000\nempty:300000:0\n";
        assert_eq!(
            subordinate(text, "alice", 1000),
            Some(Range {
                start: 100_000,
                count: 65536
            })
        );
        assert_eq!(subordinate(text, "bob", 1001).unwrap().start, 200_000);
        assert_eq!(subordinate(text, "empty", 7), None);
        assert_eq!(subordinate(text, "carol", 1002), None);
        let maps = IdMaps {
            uid: 1000,
            gid: 1000,
            subordinate: Some(Subordinate {
                uids: Range {
                    start: 100_000,
                    count: 65536,
                },
                gids: Range {
                    start: 200_000,
                    count: 10,
                },
                newuidmap: "/usr/bin/newuidmap".into(),
                newgidmap: "/usr/bin/newgidmap".into(),
            }),
        };
        let (program, args) = maps.helper_args(42, true).unwrap();
        assert_eq!(program, Path::new("/usr/bin/newuidmap"));
        assert_eq!(args, ["42", "0", "1000", "1", "1", "100000", "65536"]);
        let (_, args) = maps.helper_args(42, false).unwrap();
        assert_eq!(args, ["42", "0", "1000", "1", "1", "200000", "10"]);
        let alone = IdMaps {
            subordinate: None,
            ..maps
        };
        assert_eq!(alone.helper_args(42, true), None);
    }
}
