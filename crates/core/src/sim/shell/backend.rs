//! [`SimRun`]: the builder's [`RunBackend`] carried out by the shell interpreter.

use std::collections::BTreeMap;

use super::{Env, Limits, Lookup, Outcome, Registry, run};
use crate::build::{RunBackend, RunRequest};
use crate::fs::UnionFs;

/// Runs `RUN` steps in the simulator: the request's argv, environment, working directory and
/// user become a [`run`] on the step's filesystem. Each step's [`Outcome`] (output, events) is
/// kept in [`SimRun::outcomes`] for the caller to show.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// The programs available.
    pub registry: Registry,
    /// Bounds on each step.
    pub limits: Limits,
    /// The simulated clock; each step starts where the last one ended.
    pub now: i64,
    /// The host name the step sees.
    pub hostname: String,
    /// How programs are found.
    pub lookup: Lookup,
    /// What each step did, in order.
    pub outcomes: Vec<Outcome>,
}

impl Default for SimRun {
    fn default() -> Self {
        Self {
            registry: Registry::with_builtins(),
            limits: Limits::default(),
            now: 0,
            hostname: "buildkitsandbox".to_owned(),
            lookup: Lookup::Files,
            outcomes: Vec::new(),
        }
    }
}

/// Resolves `USER` (`name`, `uid`, `name:group`, `uid:gid`) against the step's `/etc/passwd`
/// and `/etc/group`; returns uid, gid and home, or docker's error.
pub fn resolve_user(fs: &UnionFs, user: &str) -> Result<(u32, u32, Option<String>), String> {
    let table = |path: &str| -> Vec<Vec<String>> {
        fs.read(path)
            .ok()
            .and_then(|d| d.bytes().map(|b| String::from_utf8_lossy(b).into_owned()))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(':').map(str::to_owned).collect())
            .collect()
    };
    if user.is_empty() {
        let home = table("/etc/passwd")
            .into_iter()
            .find(|r| r.len() > 5 && r[2] == "0")
            .map(|r| r[5].clone());
        return Ok((0, 0, home));
    }
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = table("/etc/passwd");
    let row = passwd
        .iter()
        .find(|r| r.len() > 5 && (r[0] == u || r[2] == u));
    let (uid, mut gid, home) = match (row, u.parse::<u32>()) {
        (Some(r), _) => (
            r[2].parse().unwrap_or(0),
            r[3].parse().unwrap_or(0),
            Some(r[5].clone()),
        ),
        (None, Ok(n)) => (n, 0, None),
        (None, Err(_)) => {
            return Err(format!(
                "unable to find user {u}: no matching entries in passwd file"
            ));
        }
    };
    if let Some(g) = g {
        let groups = table("/etc/group");
        gid = match (
            groups.iter().find(|r| r.len() > 2 && r[0] == g),
            g.parse::<u32>(),
        ) {
            (Some(r), _) => r[2].parse().unwrap_or(0),
            (None, Ok(n)) => n,
            (None, Err(_)) => {
                return Err(format!(
                    "unable to find group {g}: no matching entries in group file"
                ));
            }
        };
    }
    Ok((uid, gid, home))
}

impl RunBackend for SimRun {
    fn run(&mut self, fs: &mut UnionFs, request: &RunRequest) -> Result<i32, String> {
        let (uid, gid, home) = resolve_user(fs, &request.user)?;
        let mut vars: BTreeMap<String, String> = request
            .env
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        vars.entry("PATH".to_owned())
            .or_insert_with(|| super::exec::DEFAULT_PATH.to_owned());
        vars.entry("HOME".to_owned())
            .or_insert_with(|| home.unwrap_or_else(|| "/".to_owned()));
        vars.entry("HOSTNAME".to_owned())
            .or_insert_with(|| self.hostname.clone());
        let env = Env {
            vars,
            cwd: if request.workdir.is_empty() {
                "/".to_owned()
            } else {
                request.workdir.clone()
            },
            uid,
            gid,
            umask: 0o022,
            hostname: self.hostname.clone(),
            now: self.now,
            lookup: self.lookup,
        };
        let outcome = run(fs, &env, &request.argv, &self.registry, &self.limits);
        self.now = outcome.now;
        let status = outcome.status;
        let limit = outcome.limit.clone();
        self.outcomes.push(outcome);
        match limit {
            Some(l) => Err(l.to_string()),
            None => Ok(status),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{SimRun, resolve_user};
    use crate::build::{RunBackend, RunRequest};
    use crate::sim::shell::utils::testing::base_fs;

    #[test]
    fn a_run_request_runs_as_its_user_in_its_workdir() {
        let mut fs = base_fs();
        fs.mkdir_all("/app", 0o755).unwrap();
        let mut sim = SimRun {
            lookup: crate::sim::shell::Lookup::Registry,
            now: 1_700_000_000,
            ..SimRun::default()
        };
        let req = RunRequest {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                "pwd; id -u; echo $GREETING > f; sleep 5".into(),
            ],
            env: vec!["GREETING=hi".into()],
            workdir: "/app".into(),
            user: "daemon".into(),
        };
        assert_eq!(sim.run(&mut fs, &req), Ok(0));
        assert_eq!(sim.outcomes[0].stdout(), b"/app\n1\n");
        assert_eq!(fs.stat("/app/f").unwrap().uid, 1);
        assert_eq!(sim.now, 1_700_000_005);
        let req = RunRequest {
            user: "ghost".into(),
            ..req
        };
        assert_eq!(
            sim.run(&mut fs, &req),
            Err("unable to find user ghost: no matching entries in passwd file".into())
        );
        assert_eq!(resolve_user(&fs, "1:65534").unwrap().1, 65534);
        assert_eq!(resolve_user(&fs, "").unwrap(), (0, 0, Some("/root".into())));
    }
}
