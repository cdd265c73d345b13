//! Cgroups for `--memory`, `--pids-limit` and `--cpus`, per controller: v1 where the controller
//! has a v1 hierarchy (this machine is hybrid: v1 controllers plus a cgroup2 mount owning only
//! `hugetlb`), v2 where it lives in the unified hierarchy.
//!
//! Like runc, a v1 cgroup nests under the caller's own cgroup of that hierarchy
//! (`<caller>/layerbox/<id>`), so limits placed on the caller still hold; in v2 it is
//! `/layerbox/<id>` below the cgroup2 mount.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::spec::Resources;

/// The controllers layerbox uses: limits with the first three, `pause` with the freezer (v1;
/// in v2 every cgroup has `cgroup.freeze`).
pub const CONTROLLERS: &[&str] = &["memory", "pids", "cpu", "freezer"];

/// CFS period docker uses for `--cpus`, in microseconds.
pub const CPU_PERIOD_US: u64 = 100_000;

/// Where the cgroup hierarchies are mounted, read from `/proc/self/mountinfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hierarchies {
    /// v1 controller name → its hierarchy's mount point (`cpu` and `cpuacct` may share one).
    pub v1: BTreeMap<String, PathBuf>,
    /// The cgroup2 mount point, if any.
    pub v2: Option<PathBuf>,
    /// Whether the v1 memory controller accounts swap (`memory.memsw.*` exist): only then can
    /// `--memory-swap` be applied there.
    pub swap_accounting: bool,
}

impl Hierarchies {
    /// Parses `/proc/self/mountinfo`: fstype `cgroup` mounts carry their controllers in the
    /// super options, fstype `cgroup2` is the unified hierarchy.
    pub fn parse(mountinfo: &str) -> Self {
        let mut h = Self::default();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let Some(mount_point) = left.split(' ').nth(4) else {
                continue;
            };
            let mut right = right.split(' ');
            let (fstype, _source, options) = (right.next(), right.next(), right.next());
            match fstype {
                Some("cgroup2") => h.v2 = Some(PathBuf::from(unescape(mount_point))),
                Some("cgroup") => {
                    for opt in options.unwrap_or_default().split(',') {
                        if CONTROLLERS.contains(&opt) {
                            h.v1.insert(opt.to_owned(), PathBuf::from(unescape(mount_point)));
                        }
                    }
                }
                _ => {}
            }
        }
        h
    }

    /// The host's hierarchies.
    pub fn current() -> io::Result<Self> {
        let mut h = Self::parse(&std::fs::read_to_string("/proc/self/mountinfo")?);
        h.swap_accounting =
            h.v1.get("memory")
                .is_some_and(|m| m.join("memory.memsw.limit_in_bytes").exists());
        Ok(h)
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
pub fn unescape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        if let (b'\\', Some(v)) = (b[i], octal) {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The caller's cgroup per v1 controller and in v2, from `/proc/self/cgroup`.
pub fn parse_proc_cgroup(text: &str) -> (BTreeMap<String, String>, Option<String>) {
    let mut v1 = BTreeMap::new();
    let mut v2 = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let (Some(controllers), Some(path)) = (controllers, path) else {
            continue;
        };
        if controllers.is_empty() {
            v2 = Some(path.to_owned());
        }
        for c in controllers.split(',') {
            v1.insert(c.to_owned(), path.to_owned());
        }
    }
    (v1, v2)
}

/// runc's conversion of v1 `cpu.shares` (2..262144) to v2 `cpu.weight` (1..10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

/// Which hierarchy a controller of a [`Cgroup`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// A v1 hierarchy of its own.
    V1,
    /// The unified hierarchy.
    V2,
}

/// A container's cgroup: one directory per v1 hierarchy used, and/or one in v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    /// The directories, each with its version; the process joins all of them.
    pub dirs: Vec<(Version, PathBuf)>,
    /// Files to write, in order, after the directories exist.
    pub writes: Vec<(PathBuf, String)>,
}

/// Why a cgroup could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A cgroup file or directory operation failed.
    #[error("cgroup {path:?}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A limit was asked for a controller this host has in no hierarchy.
    #[error("cgroup controller `{0}` is not available on this host")]
    Unavailable(&'static str),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Cgroup {
    /// Plans the cgroup of container `id`: which directories, which limit files. Controllers
    /// without a limit still get a directory (so `docker stats`-like reads work), except that
    /// v2 is used only when some controller lives there.
    pub fn plan(
        h: &Hierarchies,
        proc_self_cgroup: &str,
        v2_controllers: &str,
        id: &str,
        r: &Resources,
    ) -> Result<Self, CgroupError> {
        let (own_v1, _) = parse_proc_cgroup(proc_self_cgroup);
        let v2_has: Vec<&str> = v2_controllers.split_whitespace().collect();
        let mut dirs: Vec<(Version, PathBuf)> = Vec::new();
        let mut writes = Vec::new();
        let mut v2_dir = None;
        for controller in CONTROLLERS {
            let wanted = match *controller {
                "memory" => r.memory.is_some(),
                "pids" => r.pids.is_some(),
                "cpu" => r.cpus.is_some() || r.cpu_shares.is_some(),
                _ => false,
            };
            let (version, dir) = if let Some(mount) = h.v1.get(*controller) {
                let own = own_v1.get(*controller).map_or("/", String::as_str);
                let dir = mount
                    .join(own.trim_start_matches('/'))
                    .join("layerbox")
                    .join(id);
                (Version::V1, dir)
            } else if let (Some(mount), true) = (&h.v2, v2_has.contains(controller)) {
                let dir = mount.join("layerbox").join(id);
                v2_dir = Some(mount.clone());
                (Version::V2, dir)
            } else if wanted {
                return Err(CgroupError::Unavailable(controller));
            } else {
                continue;
            };
            if !dirs.contains(&(version, dir.clone())) {
                dirs.push((version, dir.clone()));
            }
            let mut write = |name: &str, value: String| writes.push((dir.join(name), value));
            match (version, *controller) {
                (Version::V1, "memory") => {
                    if let Some(m) = r.memory {
                        write("memory.limit_in_bytes", m.to_string());
                        // memory plus swap; docker's default is twice the memory
                        if h.swap_accounting {
                            let swap = r.memory_swap.unwrap_or(-1);
                            write("memory.memsw.limit_in_bytes", swap.to_string());
                        }
                    }
                }
                (Version::V2, "memory") => {
                    if let Some(m) = r.memory {
                        write("memory.max", m.to_string());
                        // v2 limits the swap alone
                        let swap = match r.memory_swap {
                            Some(s) if s >= 0 => {
                                u64::try_from(s).unwrap_or(0).saturating_sub(m).to_string()
                            }
                            _ => "max".to_owned(),
                        };
                        write("memory.swap.max", swap);
                    }
                }
                (_, "freezer") => {}
                (_, "pids") => {
                    if let Some(p) = r.pids {
                        write("pids.max", p.to_string());
                    }
                }
                (Version::V1, _) => {
                    if let Some(shares) = r.cpu_shares {
                        write("cpu.shares", shares.to_string());
                    }
                    if let Some(quota) = r.cpu_quota() {
                        write("cpu.cfs_period_us", CPU_PERIOD_US.to_string());
                        write("cpu.cfs_quota_us", quota.to_string());
                    }
                }
                (Version::V2, _) => {
                    if let Some(shares) = r.cpu_shares {
                        write("cpu.weight", shares_to_weight(shares).to_string());
                    }
                    if let Some(quota) = r.cpu_quota() {
                        write("cpu.max", format!("{quota} {CPU_PERIOD_US}"));
                    }
                }
            }
        }
        if let Some(mount) = v2_dir {
            // A v2 controller works in a child only when every ancestor delegates it.
            let enable: Vec<String> = CONTROLLERS
                .iter()
                .filter(|c| !h.v1.contains_key(**c) && v2_has.contains(c))
                .map(|c| format!("+{c}"))
                .collect();
            let enable = enable.join(" ");
            writes.insert(
                0,
                (
                    mount.join("layerbox/cgroup.subtree_control"),
                    enable.clone(),
                ),
            );
            writes.insert(0, (mount.join("cgroup.subtree_control"), enable));
        }
        Ok(Self { dirs, writes })
    }

    /// Plans the cgroup on this host.
    pub fn for_host(id: &str, r: &Resources) -> Result<Self, CgroupError> {
        let h = Hierarchies::current().map_err(io_at(Path::new("/proc/self/mountinfo")))?;
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(io_at(Path::new("/proc/self/cgroup")))?;
        let v2_controllers =
            h.v2.as_ref()
                .and_then(|m| std::fs::read_to_string(m.join("cgroup.controllers")).ok())
                .unwrap_or_default();
        Self::plan(&h, &own, &v2_controllers, id, r)
    }

    /// Creates the directories and writes the limits.
    pub fn create(&self) -> Result<(), CgroupError> {
        for (version, dir) in &self.dirs {
            if *version == Version::V2 {
                // the shared parent must exist before its subtree_control is written
                if let Some(parent) = dir.parent() {
                    std::fs::create_dir_all(parent).map_err(io_at(parent))?;
                }
            }
        }
        let mut pending: Vec<&(PathBuf, String)> = self.writes.iter().collect();
        // subtree_control first (on the parents), then the directories, then the limits
        pending.retain(|(path, value)| {
            if path.ends_with("cgroup.subtree_control") {
                let _ = std::fs::write(path, value);
                false
            } else {
                true
            }
        });
        for (_, dir) in &self.dirs {
            std::fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        for (path, value) in pending {
            std::fs::write(path, value).map_err(io_at(path))?;
        }
        Ok(())
    }

    /// The control file `name` (e.g. `pids.max`) in whichever of the directories has it.
    pub fn file(&self, name: &str) -> Option<PathBuf> {
        self.dirs
            .iter()
            .map(|(_, d)| d.join(name))
            .find(|p| p.exists())
    }

    /// The `cgroup.procs` files a process writes its PID to, to join the cgroup.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|(_, d)| d.join("cgroup.procs"))
            .collect()
    }

    /// Whether the kernel's OOM killer killed a process of this cgroup
    /// (`oom_kill` in v1 `memory.oom_control` or v2 `memory.events`).
    pub fn oom_killed(&self) -> bool {
        self.dirs.iter().any(|(version, dir)| {
            let file = match version {
                Version::V1 => dir.join("memory.oom_control"),
                Version::V2 => dir.join("memory.events"),
            };
            std::fs::read_to_string(file).is_ok_and(|text| {
                text.lines().any(|l| {
                    l.strip_prefix("oom_kill ")
                        .and_then(|n| n.trim().parse::<u64>().ok())
                        .is_some_and(|n| n > 0)
                })
            })
        })
    }

    /// The cgroup of container `id` as its process `pid` is in it: each of the process's
    /// cgroups that is the container's own (`…/layerbox/<id>`). For a later invocation (`pause`,
    /// `exec`), whose own cgroups may differ from those of the container's supervisor.
    pub fn of_process(pid: i32, id: &str) -> Result<Self, CgroupError> {
        let h = Hierarchies::current().map_err(io_at(Path::new("/proc/self/mountinfo")))?;
        let file = PathBuf::from(format!("/proc/{pid}/cgroup"));
        let text = std::fs::read_to_string(&file).map_err(io_at(&file))?;
        Ok(Self::from_proc_cgroup(&h, &text, id))
    }

    /// [`Cgroup::of_process`] on the text of `/proc/<pid>/cgroup`.
    pub fn from_proc_cgroup(h: &Hierarchies, proc_cgroup: &str, id: &str) -> Self {
        let (v1, v2) = parse_proc_cgroup(proc_cgroup);
        let own = |path: &str| Path::new(path).ends_with(Path::new("layerbox").join(id));
        let mut dirs: Vec<(Version, PathBuf)> = Vec::new();
        for controller in CONTROLLERS {
            if let (Some(mount), Some(path)) = (h.v1.get(*controller), v1.get(*controller))
                && own(path)
            {
                let dir = (Version::V1, mount.join(path.trim_start_matches('/')));
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        if let (Some(mount), Some(path)) = (&h.v2, v2)
            && own(&path)
        {
            dirs.push((Version::V2, mount.join(path.trim_start_matches('/'))));
        }
        Self {
            dirs,
            writes: Vec::new(),
        }
    }

    /// Freezes (`docker pause`) or thaws every process of the cgroup: v1 `freezer.state`, or v2
    /// `cgroup.freeze`; returns once the kernel reports it done.
    pub fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        let (file, value, done, report) = if let Some(state) = self.file("freezer.state") {
            let word = if frozen { "FROZEN" } else { "THAWED" };
            (state.clone(), word, word.to_owned(), state)
        } else if let Some(freeze) = self.file("cgroup.freeze") {
            let events = freeze.with_file_name("cgroup.events");
            let bit = if frozen { "1" } else { "0" };
            (freeze, bit, format!("frozen {bit}"), events)
        } else {
            return Err(CgroupError::Unavailable("freezer"));
        };
        // Like runc: write, then read back until the kernel is done (v1 says FREEZING while
        // tasks are still being stopped, and a write may need repeating).
        for _ in 0..2000 {
            std::fs::write(&file, value).map_err(io_at(&file))?;
            let now = std::fs::read_to_string(&report).map_err(io_at(&report))?;
            if now.lines().any(|l| l.trim() == done) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Err(CgroupError::Io {
            path: file,
            source: io::Error::from(io::ErrorKind::TimedOut),
        })
    }

    /// Whether the cgroup is frozen (v1 `freezer.state` FROZEN, v2 `frozen 1`).
    pub fn frozen(&self) -> bool {
        let read = |name: &str| {
            self.file(name)
                .and_then(|f| std::fs::read_to_string(f).ok())
                .unwrap_or_default()
        };
        read("freezer.state").trim() == "FROZEN"
            || read("cgroup.events").lines().any(|l| l == "frozen 1")
    }

    /// Kills every process left in the cgroup (a container whose supervisor died), waits until
    /// they are gone (at most `patience`), then removes the directories.
    pub fn kill_and_remove(&self, patience: std::time::Duration) -> Result<(), CgroupError> {
        // a frozen task takes no signal in v1 until thawed
        let _ = self.freeze(false);
        let begun = std::time::Instant::now();
        loop {
            let mut left = false;
            for procs in self.procs_files() {
                let text = std::fs::read_to_string(&procs).unwrap_or_default();
                for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    left = true;
                    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                    }
                }
            }
            if !left || begun.elapsed() >= patience {
                return self.remove();
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Removes the directories once the cgroup is empty. The kernel may report a v1 cgroup busy
    /// for a moment after its last process was reaped, so this retries briefly.
    pub fn remove(&self) -> Result<(), CgroupError> {
        for (_, dir) in &self.dirs {
            let mut tries = 0;
            loop {
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 200 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    Err(e) => return Err(io_at(dir)(e)),
                }
            }
            // The shared `layerbox` parent goes too once empty: in v1 memory it sits inside the
            // caller's cgroup, which must stay removable by whoever made it.
            if let Some(parent) = dir.parent().filter(|p| p.ends_with("layerbox")) {
                let _ = std::fs::remove_dir(parent);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's mountinfo, abridged (hybrid: v1 controllers plus cgroup2 at `unified`).
    const HYBRID: &str = "\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 30 0:34 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_SELF: &str = "\
10:pids:/
4:memory:/process_api/abc
2:cpu:/
0::/
";
    const UNIFIED: &str = "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

    fn writes(cg: &Cgroup) -> Vec<(String, &str)> {
        cg.writes
            .iter()
            .map(|(p, v)| (p.display().to_string(), v.as_str()))
            .collect()
    }

    fn all() -> Resources {
        Resources {
            memory: Some(8 << 20),
            memory_swap: Some(16 << 20),
            pids: Some(20),
            cpus: Some(0.5),
            cpu_shares: Some(512),
        }
    }

    #[test]
    fn hybrid_uses_v1_and_nests_memory_under_the_callers_cgroup() {
        let mut h = Hierarchies::parse(HYBRID);
        assert_eq!(h.v2.as_deref(), Some(Path::new("/sys/fs/cgroup/unified")));
        h.swap_accounting = true;
        let cg = Cgroup::plan(&h, HYBRID_SELF, "hugetlb", "c1", &all()).unwrap();
        assert_eq!(
            cg.dirs,
            [
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/memory/process_api/abc/layerbox/c1")
                ),
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/pids/layerbox/c1")
                ),
                (Version::V1, PathBuf::from("/sys/fs/cgroup/cpu/layerbox/c1")),
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/freezer/layerbox/c1")
                ),
            ]
        );
        assert_eq!(
            writes(&cg),
            [
                (
                    "/sys/fs/cgroup/memory/process_api/abc/layerbox/c1/memory.limit_in_bytes"
                        .to_owned(),
                    "8388608"
                ),
                (
                    "/sys/fs/cgroup/memory/process_api/abc/layerbox/c1/memory.memsw.limit_in_bytes"
                        .to_owned(),
                    "16777216"
                ),
                ("/sys/fs/cgroup/pids/layerbox/c1/pids.max".to_owned(), "20"),
                (
                    "/sys/fs/cgroup/cpu/layerbox/c1/cpu.shares".to_owned(),
                    "512"
                ),
                (
                    "/sys/fs/cgroup/cpu/layerbox/c1/cpu.cfs_period_us".to_owned(),
                    "100000"
                ),
                (
                    "/sys/fs/cgroup/cpu/layerbox/c1/cpu.cfs_quota_us".to_owned(),
                    "50000"
                ),
            ]
        );
    }

    #[test]
    fn unified_uses_v2_files_and_delegates_the_controllers() {
        let h = Hierarchies::parse(UNIFIED);
        let cg = Cgroup::plan(
            &h,
            "0::/user.slice\n",
            "cpuset cpu io memory pids",
            "c2",
            &all(),
        )
        .unwrap();
        assert_eq!(
            cg.dirs,
            [(Version::V2, PathBuf::from("/sys/fs/cgroup/layerbox/c2"))]
        );
        assert_eq!(
            writes(&cg),
            [
                (
                    "/sys/fs/cgroup/cgroup.subtree_control".to_owned(),
                    "+memory +pids +cpu"
                ),
                (
                    "/sys/fs/cgroup/layerbox/cgroup.subtree_control".to_owned(),
                    "+memory +pids +cpu"
                ),
                (
                    "/sys/fs/cgroup/layerbox/c2/memory.max".to_owned(),
                    "8388608"
                ),
                (
                    "/sys/fs/cgroup/layerbox/c2/memory.swap.max".to_owned(),
                    "8388608"
                ),
                ("/sys/fs/cgroup/layerbox/c2/pids.max".to_owned(), "20"),
                ("/sys/fs/cgroup/layerbox/c2/cpu.weight".to_owned(), "20"),
                (
                    "/sys/fs/cgroup/layerbox/c2/cpu.max".to_owned(),
                    "50000 100000"
                ),
            ]
        );
    }

    #[test]
    fn a_limit_without_its_controller_is_an_error() {
        let h = Hierarchies::parse(UNIFIED);
        let r = Resources {
            pids: Some(5),
            ..Resources::default()
        };
        let err = Cgroup::plan(&h, "0::/\n", "memory", "c3", &r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cgroup controller `pids` is not available on this host"
        );
    }

    #[test]
    fn create_writes_limits_and_remove_cleans_up_on_a_fake_hierarchy() {
        let tmp = tempfile::tempdir().unwrap();
        let mountinfo = format!(
            "34 30 0:30 / {}/memory rw - cgroup cgroup rw,memory\n",
            tmp.path().display()
        );
        let h = Hierarchies::parse(&mountinfo);
        let r = Resources {
            memory: Some(1 << 20),
            ..Resources::default()
        };
        let cg = Cgroup::plan(&h, "4:memory:/\n", "", "c4", &r).unwrap();
        cg.create().unwrap();
        let dir = tmp.path().join("memory/layerbox/c4");
        assert_eq!(
            std::fs::read_to_string(dir.join("memory.limit_in_bytes")).unwrap(),
            "1048576"
        );
        assert_eq!(cg.procs_files(), [dir.join("cgroup.procs")]);
        assert_eq!(
            cg.file("memory.limit_in_bytes"),
            Some(dir.join("memory.limit_in_bytes"))
        );
        assert_eq!(cg.file("pids.max"), None);
        assert!(!cg.oom_killed());
        std::fs::write(
            dir.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        )
        .unwrap();
        assert!(cg.oom_killed());
        // a real cgroupfs directory has only kernel files; the fake one must be emptied first
        for f in ["memory.limit_in_bytes", "memory.oom_control"] {
            std::fs::remove_file(dir.join(f)).unwrap();
        }
        cg.remove().unwrap();
        assert!(!dir.exists());
        assert!(!tmp.path().join("memory/layerbox").exists());
    }

    #[test]
    fn without_swap_accounting_memsw_is_left_alone_and_unlimited_swap_is_max_on_v2() {
        let h = Hierarchies::parse(HYBRID);
        let cg = Cgroup::plan(&h, HYBRID_SELF, "", "c5", &all()).unwrap();
        assert!(!writes(&cg).iter().any(|(p, _)| p.contains("memsw")));
        let r = Resources {
            memory: Some(8 << 20),
            memory_swap: Some(-1),
            ..Resources::default()
        };
        let cg = Cgroup::plan(&Hierarchies::parse(UNIFIED), "0::/\n", "memory", "c6", &r).unwrap();
        assert!(writes(&cg).contains(&(
            "/sys/fs/cgroup/layerbox/c6/memory.swap.max".to_owned(),
            "max"
        )));
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn the_configs_limits_become_the_cgroups() {
        let config = layerbox_core::cli::command::Resources {
            memory: 64 << 20,
            memory_swap: 128 << 20,
            nano_cpus: 1_500_000_000,
            cpu_shares: 0,
            pids_limit: Some(32),
        };
        let r = Resources::from_config(&config);
        assert_eq!(r.memory, Some(64 << 20));
        assert_eq!(r.memory_swap, Some(128 << 20));
        assert_eq!(r.pids, Some(32));
        assert_eq!(r.cpu_quota(), Some(150_000));
        assert_eq!(r.cpu_shares, None);
        let none = Resources::from_config(&layerbox_core::cli::command::Resources::default());
        assert_eq!(none, Resources::default());
    }

    #[test]
    fn a_later_invocation_finds_the_containers_cgroups_from_its_process() {
        let h = Hierarchies::parse(HYBRID);
        let text = "\
10:pids:/layerbox/c7
6:freezer:/layerbox/c7
4:memory:/process_api/abc/layerbox/c7
2:cpu:/layerbox/c7
0::/
";
        let cg = Cgroup::from_proc_cgroup(&h, text, "c7");
        assert_eq!(
            cg.dirs,
            [
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/memory/process_api/abc/layerbox/c7")
                ),
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/pids/layerbox/c7")
                ),
                (Version::V1, PathBuf::from("/sys/fs/cgroup/cpu/layerbox/c7")),
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/freezer/layerbox/c7")
                ),
            ]
        );
        // another container's cgroup, or the root, is never taken for this one's
        assert!(Cgroup::from_proc_cgroup(&h, text, "c8").dirs.is_empty());
        let unified =
            Cgroup::from_proc_cgroup(&Hierarchies::parse(UNIFIED), "0::/layerbox/c9\n", "c9");
        assert_eq!(
            unified.dirs,
            [(Version::V2, PathBuf::from("/sys/fs/cgroup/layerbox/c9"))]
        );
    }

    #[test]
    fn freezing_writes_the_v1_state_until_the_kernel_reports_it() {
        let tmp = tempfile::tempdir().unwrap();
        let cg = Cgroup {
            dirs: vec![(Version::V1, tmp.path().to_owned())],
            writes: vec![],
        };
        assert_eq!(
            cg.freeze(true).unwrap_err().to_string(),
            "cgroup controller `freezer` is not available on this host"
        );
        // a plain file echoes what was written, as a freezer that is done at once
        std::fs::write(tmp.path().join("freezer.state"), "THAWED\n").unwrap();
        cg.freeze(true).unwrap();
        assert!(cg.frozen());
        cg.freeze(false).unwrap();
        assert!(!cg.frozen());
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/plain"), "/plain");
    }
}
