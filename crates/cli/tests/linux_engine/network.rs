//! Networks on the Linux engine: `-p` through the shim's userspace proxy, `-P`, `--network
//! host|none`, and docker's error for a port that is taken.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use super::super::linux_root::root_only;
use super::Lab;

/// An HTTP GET to `127.0.0.1:port`, retried while nothing answers yet (200 tries, 10 s at most:
/// a safety net against a hang, not a measurement). Returns the whole response.
pub(super) fn http_get(port: u16, path: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
            if s.write_all(request.as_bytes()).is_ok() {
                let mut response = String::new();
                if s.read_to_string(&mut response).is_ok() && !response.is_empty() {
                    return response;
                }
                last = response;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no HTTP answer on 127.0.0.1:{port}: {last:?}");
}

/// busybox's httpd serving `text` as /index.html on port 80 of the container.
const HTTPD: &str =
    "mkdir -p /www && echo \"$TEXT\" > /www/index.html && exec httpd -f -p 80 -h /www";

/// The host port of `-p`'s binding for container port 80 on IPv4 (`docker port NAME 80`).
fn host_port(lab: &Lab, name: &str) -> u16 {
    let out = lab.ok(&["port", name, "80"]);
    let first = out.lines().next().unwrap_or_default();
    first
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {out:?}"))
}

#[test]
fn published_ports_reach_the_container_through_the_proxy() {
    let _g = root_only!();
    let lab = Lab::new();
    // the host picks the port (`-p 80`): a free one, shown by `port` and `ps`
    lab.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-e",
        "TEXT=hello from web",
        "-p",
        "80",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]);
    let port = host_port(&lab, "web");
    assert_ne!(port, 0);
    let ps = lab.ok(&["ps", "--format", "{{.Ports}}"]);
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");
    let response = http_get(port, "/");
    assert!(
        response.starts_with("HTTP/1.") && response.contains(" 200 OK\r\n"),
        "{response}"
    );
    assert!(response.ends_with("\r\n\r\nhello from web\n"), "{response}");
    // many connections, one after the other and at once
    let threads: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || http_get(port, "/")))
        .collect();
    for t in threads {
        assert!(t.join().unwrap().ends_with("hello from web\n"));
    }

    // the same host port for a second container: docker's allocator error, exit 125, and the
    // container stays created
    let (_, err, code) = lab.all(&[
        "run",
        "-d",
        "--name",
        "second",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("driver failed programming external connectivity on endpoint second (")
            && err.contains(&format!(
                "Bind for 0.0.0.0:{port} failed: port is already allocated.\n"
            )),
        "{err}"
    );
    let ps = lab.ok(&[
        "ps",
        "-a",
        "--filter",
        "name=second",
        "--format",
        "{{.Status}}",
    ]);
    assert_eq!(ps, "Created\n");
    lab.ok(&["rm", "second"]);

    // a port some other program of the host holds: the proxy's own error
    let holder = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let held = holder.local_addr().unwrap().port();
    let (_, err, code) = lab.all(&[
        "run",
        "--rm",
        "-p",
        &format!("{held}:80"),
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains(&format!(
            "Error starting userland proxy: listen tcp4 0.0.0.0:{held}: bind: address already in use.\n"
        )),
        "{err}"
    );
    drop(holder);

    // stopped, the container publishes nothing and the port is free again
    lab.ok(&["stop", "-t", "1", "web"]);
    assert_eq!(lab.ok(&["port", "web"]), "");
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap();
    lab.ok(&["rm", "web"]);
    lab.assert_clean();
}

#[test]
fn publish_all_and_an_address_of_the_host() {
    let _g = root_only!();
    let lab = Lab::new();
    let ctx = lab.context(&[(
        "Dockerfile",
        &format!("FROM busybox\nENV TEXT=exposed\nEXPOSE 80\nCMD [\"sh\", \"-c\", {HTTPD:?}]\n"),
    )]);
    lab.ok(&["build", "-t", "site", ctx.to_str().unwrap()]);
    // -P: every exposed port on a free host port
    lab.ok(&["run", "-d", "--name", "all", "-P", "site"]);
    let port = host_port(&lab, "all");
    assert!(http_get(port, "/").ends_with("exposed\n"));
    // --expose adds a port that -P publishes as well
    lab.ok(&[
        "run", "-d", "--name", "more", "-P", "--expose", "8080", "site",
    ]);
    let more = lab.ok(&["port", "more", "8080"]);
    assert!(more.starts_with("0.0.0.0:"), "{more}");
    lab.ok(&["rm", "-f", "more"]);
    // an attached run serves its ports from the CLI itself; on 127.0.0.1 only
    let mut attached = lab
        .command(&["run", "--rm", "-p", "127.0.0.1::80", "--name", "fg", "site"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut local = 0;
    for _ in 0..500 {
        let out = lab.layerbox(&["port", "fg", "80"]);
        if let Some(p) = String::from_utf8_lossy(&out.stdout)
            .trim()
            .strip_prefix("127.0.0.1:")
        {
            local = p.parse().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(local, 0, "fg never published its port");
    assert!(http_get(local, "/").ends_with("exposed\n"));
    lab.ok(&["stop", "-t", "1", "fg"]);
    attached.wait().unwrap();
    lab.ok(&["rm", "-f", "all"]);
    lab.assert_clean();
}

#[test]
fn network_host_shares_the_hosts_interfaces_and_none_has_only_lo() {
    let _g = root_only!();
    let lab = Lab::new();
    let mut host_ifaces: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    host_ifaces.sort();
    let list = ["run", "--rm", "busybox", "ls", "/sys/class/net"];
    assert_eq!(lab.ok(&list), "lo\n");
    let with = |network: &str| {
        let mut args = list.to_vec();
        args.insert(2, network);
        args.insert(2, "--network");
        lab.ok(&args)
    };
    assert_eq!(with("none"), "lo\n");
    assert_eq!(with("bridge"), "lo\n");
    assert_eq!(with("host"), format!("{}\n", host_ifaces.join("\n")));
    // host: the host's name too; ports are discarded with docker's warning
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let (out, err, code) = lab.all(&[
        "run",
        "--rm",
        "--network",
        "host",
        "-p",
        "1:1",
        "busybox",
        "hostname",
    ]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        (
            hostname.as_str(),
            "WARNING: Published ports are discarded when using host network mode\n",
            0
        )
    );
    lab.ok(&["create", "--name", "nonet", "--network", "none", "busybox"]);
    assert_eq!(
        lab.ok(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", "nonet"]),
        "none\n"
    );
    let (_, err, code) = lab.all(&["run", "--network", "nosuchnet", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("Error response from daemon: network nosuchnet not found."),
        "{err}"
    );
    lab.ok(&["rm", "nonet"]);
    lab.assert_clean();
}
