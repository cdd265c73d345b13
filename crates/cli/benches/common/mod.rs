//! What the Linux engine's benchmarks share: the busybox rootfs and the statistics.

use std::path::Path;
use std::process::Command;

/// Debian's busybox-static.
pub const BUSYBOX: &str = "/bin/busybox";

/// The rootfs of `anchors/make-bundle.sh`: busybox, its applet links, the usual empty dirs.
pub fn make_rootfs(r: &Path) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "var",
        "run",
    ] {
        std::fs::create_dir_all(r.join(d)).map_err(io)?;
    }
    std::fs::copy(BUSYBOX, r.join("bin/busybox")).map_err(io)?;
    let list = Command::new(BUSYBOX).arg("--list").output().map_err(io)?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", r.join("bin").join(applet)).map_err(io)?;
        }
    }
    std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").map_err(io)?;
    std::fs::write(r.join("etc/group"), "root:x:0:\n").map_err(io)?;
    std::fs::write(r.join("etc/hosts"), "").map_err(io)?;
    std::fs::write(r.join("etc/resolv.conf"), "").map_err(io)
}

/// `tar -C rootfs -cf tar .`: the rootfs as a tarball for `layerbox import`.
pub fn tar_rootfs(rootfs: &Path, tar: &Path) -> Result<(), String> {
    let status = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .arg("-cf")
        .arg(tar)
        .arg(".")
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err("tar of the rootfs failed".into())
    }
}

/// The median of some figures.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .next()
        .unwrap_or("?")
        .to_owned()
}
