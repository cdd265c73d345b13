//! `--user` and `USER`: a name or ID, optionally `:group`, resolved against the container's own
//! /etc/passwd and /etc/group as runc does (`libcontainer/user.GetExecUser`).

/// The user a container's process runs as, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    /// The user ID.
    pub uid: u32,
    /// The primary group ID.
    pub gid: u32,
    /// Supplementary groups: those listing the user as a member, when no group was given.
    pub groups: Vec<u32>,
    /// The home directory (for `HOME` when the environment has none).
    pub home: String,
}

struct Passwd<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = Passwd<'_>> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        Some(Passwd {
            name: f.first()?,
            uid: f.get(2)?.parse().ok()?,
            gid: f.get(3)?.parse().ok()?,
            home: f.get(5).copied().unwrap_or(""),
        })
    })
}

fn group_entries(text: &str) -> impl Iterator<Item = (&str, u32, Vec<&str>)> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let members = f
            .get(3)
            .map(|m| m.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        Some((*f.first()?, f.get(2)?.parse().ok()?, members))
    })
}

/// A numeric ID as runc accepts it.
fn id(s: &str) -> Result<Option<u32>, String> {
    match s.parse::<i64>() {
        Ok(n) if (0..=i64::from(i32::MAX)).contains(&n) => Ok(u32::try_from(n).ok()),
        Ok(_) => Err("uids and gids must be in range 0-2147483647".to_owned()),
        Err(_) => Ok(None),
    }
}

/// Resolves `user` (`""`, `name`, `uid`, with an optional `:group` or `:gid`) against the
/// contents of the container's /etc/passwd and /etc/group (empty when missing). Errors are
/// runc's words.
pub fn resolve(user: &str, passwd: &str, group: &str) -> Result<ExecUser, String> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let mut out = ExecUser {
        uid: 0,
        gid: 0,
        groups: Vec::new(),
        home: "/".to_owned(),
    };
    let uid = id(user_part)?;
    let matched = passwd_entries(passwd).find(|p| match uid {
        Some(uid) => p.uid == uid,
        None if user_part.is_empty() => p.uid == 0,
        None => p.name == user_part,
    });
    match (&matched, uid) {
        (Some(p), _) => {
            out.uid = p.uid;
            out.gid = p.gid;
            if !p.home.is_empty() {
                p.home.clone_into(&mut out.home);
            }
        }
        (None, Some(uid)) => out.uid = uid,
        (None, None) if user_part.is_empty() => {}
        (None, None) => {
            return Err(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            ));
        }
    }
    match group_part {
        Some(g) => {
            out.gid = match id(g)? {
                Some(gid) => gid,
                None => group_entries(group)
                    .find(|(name, _, _)| *name == g)
                    .map(|(_, gid, _)| gid)
                    .ok_or_else(|| {
                        format!("unable to find group {g}: no matching entries in group file")
                    })?,
            };
        }
        None => {
            if let Some(p) = &matched {
                out.groups = group_entries(group)
                    .filter(|(_, _, members)| members.contains(&p.name))
                    .map(|(_, gid, _)| gid)
                    .collect();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                          nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
                          app:x:1000:1000::/home/app:/bin/sh\n";
    const GROUP: &str =
        "root:x:0:\nwheel:x:10:app,root\naudio:x:29:app\napp:x:1000:\nnogroup:x:65534:\n";

    fn user(uid: u32, gid: u32, groups: &[u32], home: &str) -> ExecUser {
        ExecUser {
            uid,
            gid,
            groups: groups.to_vec(),
            home: home.to_owned(),
        }
    }

    #[test]
    fn names_and_ids_resolve_like_runc() {
        assert_eq!(resolve("", PASSWD, GROUP), Ok(user(0, 0, &[10], "/root")));
        assert_eq!(
            resolve("app", PASSWD, GROUP),
            Ok(user(1000, 1000, &[10, 29], "/home/app"))
        );
        assert_eq!(
            resolve("1000", PASSWD, GROUP),
            Ok(user(1000, 1000, &[10, 29], "/home/app"))
        );
        // an ID with no entry: gid 0 and home /
        assert_eq!(resolve("4242", PASSWD, GROUP), Ok(user(4242, 0, &[], "/")));
        // an explicit group replaces the primary one and drops the supplementary ones
        assert_eq!(
            resolve("app:audio", PASSWD, GROUP),
            Ok(user(1000, 29, &[], "/home/app"))
        );
        assert_eq!(
            resolve("nobody:7", PASSWD, GROUP),
            Ok(user(65534, 7, &[], "/nonexistent"))
        );
        // no passwd file at all
        assert_eq!(resolve("", "", ""), Ok(user(0, 0, &[], "/")));
        assert_eq!(resolve("5:6", "", ""), Ok(user(5, 6, &[], "/")));
    }

    #[test]
    fn unknown_names_are_runcs_errors() {
        assert_eq!(
            resolve("ghost", PASSWD, GROUP),
            Err("unable to find user ghost: no matching entries in passwd file".to_owned())
        );
        assert_eq!(
            resolve("app:ghosts", PASSWD, GROUP),
            Err("unable to find group ghosts: no matching entries in group file".to_owned())
        );
        assert_eq!(
            resolve("-1", PASSWD, GROUP),
            Err("uids and gids must be in range 0-2147483647".to_owned())
        );
    }
}
