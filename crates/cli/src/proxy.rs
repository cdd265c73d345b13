//! Port publishing without iptables: a userspace proxy, as docker's `docker-proxy` when its
//! `userland-proxy` is on, but with no bridge behind it.
//!
//! There is no bridge, no veth pair and no NAT here (the machine runs no iptables), so a
//! container on the default network has its own network namespace with only `lo` up. To publish
//! `-p 3000:3000`, whoever supervises the container (the shim, or an attached CLI) listens on the
//! host's `0.0.0.0:3000` (and `[::]:3000`); for each connection accepted there, a thread moves
//! itself into the container's network namespace (`setns` on `/proc/<pid>/ns/net`: the network
//! namespace is per thread, and a socket keeps the namespace it was made in), connects to
//! `127.0.0.1:3000` there, and copies bytes both ways until both sides are done.
//!
//! The listeners are bound by the CLI before the container starts, so a port that is taken is
//! docker's start error (exit 125) and nothing runs; the shim inherits them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};

use layerbox_core::cli::rows::PortBinding;

/// Why a port could not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Another container of the store holds the port (docker's port allocator).
    #[error("Bind for {ip}:{port} failed: port is already allocated")]
    Allocated {
        /// The host address, as docker prints it (`0.0.0.0`, `::`).
        ip: String,
        /// The host port.
        port: u16,
    },
    /// Something else on the host holds it, or the address is not the host's.
    #[error("Error starting userland proxy: listen {net} {addr}: bind: {reason}")]
    Listen {
        /// `tcp4` or `tcp6`.
        net: &'static str,
        /// `0.0.0.0:3000`, `[::]:3000`.
        addr: String,
        /// Go's text of the errno (`address already in use`).
        reason: String,
    },
    /// An address that is not an IP (`-p foo:80:80`).
    #[error("invalid host address {0:?}")]
    BadAddress(String),
}

/// One host socket listening for a container port.
#[derive(Debug)]
struct Listener {
    socket: TcpListener,
    private_port: u16,
}

/// The listeners of one container, bound, not yet serving.
#[derive(Debug, Default)]
pub struct Published {
    listeners: Vec<Listener>,
    bindings: Vec<PortBinding>,
}

/// The network namespace connections go to: the container's current one (a restart gives the
/// container a new namespace, the listeners stay).
#[derive(Debug, Clone, Default)]
pub struct Target(Arc<Mutex<Option<OwnedFd>>>);

impl Target {
    /// Points the proxy at the network namespace of process `pid` (the container's PID 1).
    pub fn set_pid(&self, pid: i32) -> io::Result<()> {
        let fd: OwnedFd = std::fs::File::open(format!("/proc/{pid}/ns/net"))?.into();
        if let Ok(mut current) = self.0.lock() {
            *current = Some(fd);
        }
        Ok(())
    }

    /// No container process: connections are closed at once.
    pub fn clear(&self) {
        if let Ok(mut current) = self.0.lock() {
            *current = None;
        }
    }

    /// Connects to `port` on the loopback of the target namespace, from this thread (which
    /// stays in that namespace: call it from a thread of its own).
    fn connect(&self, port: u16) -> io::Result<TcpStream> {
        {
            let current = self.0.lock().map_err(|_| io::Error::other("poisoned"))?;
            let Some(ns) = current.as_ref() else {
                return Err(io::ErrorKind::NotConnected.into());
            };
            rustix::thread::move_into_link_name_space(
                ns.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )?;
        }
        TcpStream::connect((Ipv4Addr::LOCALHOST, port))
    }
}

/// Go's lowercase text of an errno, as docker's messages carry it.
fn reason(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::AddrInUse {
        "address already in use".to_owned()
    } else {
        crate::linux::process::go_errno(e)
    }
}

/// A listening TCP socket on `addr`, with `SO_REUSEADDR` (as Go's `net.Listen`, so a port in
/// `TIME_WAIT` from an earlier run can be bound again) and `IPV6_V6ONLY` on IPv6 (so `[::]` and
/// `0.0.0.0` are two sockets, as docker's two proxies).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use rustix::net::{AddressFamily, SocketType, sockopt};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?;
    sockopt::set_socket_reuseaddr(&fd, true)?;
    if addr.is_ipv6() {
        sockopt::set_ipv6_v6only(&fd, true)?;
    }
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, 128)?;
    Ok(TcpListener::from(fd))
}

/// Binds the host side of `bindings` (the container's, as `create` recorded them: published
/// ones have an address; a public port 0 means any free port). `taken` lists the bindings other
/// running containers of the store hold. Returns the listeners and the bindings as bound (free
/// ports filled in; `::` left out where the host has no IPv6), or docker's error.
pub fn bind(bindings: &[PortBinding], taken: &[PortBinding]) -> Result<Published, ProxyError> {
    let mut published = Published::default();
    // a port chosen for one address is used for the container port's other addresses too
    let mut chosen: Vec<(u16, u16)> = Vec::new();
    for b in bindings {
        if b.ip.is_empty() || b.proto != "tcp" {
            // only exposed; or udp/sctp, which this proxy does not carry
            if b.ip.is_empty() {
                published.bindings.push(b.clone());
            }
            continue;
        }
        let ip: IpAddr =
            b.ip.parse()
                .map_err(|_| ProxyError::BadAddress(b.ip.clone()))?;
        let port = if b.public_port == 0 {
            chosen
                .iter()
                .find(|(private, _)| *private == b.private_port)
                .map_or(0, |(_, public)| *public)
        } else {
            b.public_port
        };
        let clash = |t: &PortBinding| {
            t.public_port == port
                && t.proto == b.proto
                && t.ip
                    .parse::<IpAddr>()
                    .is_ok_and(|other| other == ip || other.is_unspecified() || ip.is_unspecified())
                && t.ip.contains(':') == b.ip.contains(':')
        };
        if port != 0 && taken.iter().any(clash) {
            return Err(ProxyError::Allocated {
                ip: b.ip.clone(),
                port,
            });
        }
        let socket = match listen(SocketAddr::new(ip, port)) {
            Ok(s) => s,
            // no IPv6 on this host: docker publishes on IPv4 only
            Err(e)
                if ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                    && matches!(
                        e.raw_os_error(),
                        Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL)
                    ) =>
            {
                continue;
            }
            Err(e) => {
                return Err(ProxyError::Listen {
                    net: if ip.is_ipv4() { "tcp4" } else { "tcp6" },
                    addr: SocketAddr::new(ip, port).to_string(),
                    reason: reason(&e),
                });
            }
        };
        let public_port = socket.local_addr().map_or(port, |a| a.port());
        if b.public_port == 0 && port == 0 {
            chosen.push((b.private_port, public_port));
        }
        published.bindings.push(PortBinding {
            public_port,
            ..b.clone()
        });
        published.listeners.push(Listener {
            socket,
            private_port: b.private_port,
        });
    }
    Ok(published)
}

impl Published {
    /// The bindings as bound, for the container's record (`ps`, `port`, `inspect`).
    pub fn bindings(&self) -> &[PortBinding] {
        &self.bindings
    }

    /// The listening descriptors (a forked shim must keep them open).
    pub fn fds(&self) -> Vec<RawFd> {
        self.listeners
            .iter()
            .map(|l| l.socket.as_raw_fd())
            .collect()
    }

    /// Whether there is anything to serve.
    pub fn is_empty(&self) -> bool {
        self.listeners.is_empty()
    }

    /// Accepts on every listener in threads of their own, forwarding each connection to the
    /// container `target` names, for as long as this process lives.
    pub fn serve(self, target: &Target) {
        for l in self.listeners {
            let target = target.clone();
            std::thread::spawn(move || {
                for client in l.socket.incoming() {
                    let Ok(client) = client else { continue };
                    let target = target.clone();
                    std::thread::spawn(move || forward(&client, &target, l.private_port));
                }
            });
        }
    }
}

/// Carries one connection: connects inside the container, then copies both ways; each side's
/// end of stream is passed on as a half close, so request-then-response protocols work.
fn forward(client: &TcpStream, target: &Target, port: u16) {
    let Ok(upstream) = target.connect(port) else {
        // nothing listens in the container (yet): the client sees the connection closed
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || pipe(&upstream2, &client2));
    pipe(client, &upstream);
    let _ = back.join();
}

/// Copies `from` to `to` until `from` ends, then half-closes `to`.
fn pipe(mut from: &TcpStream, mut to: &TcpStream) {
    if io::copy(&mut from, &mut to).is_err() {
        let _ = from.shutdown(std::net::Shutdown::Both);
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn binding(ip: &str, public: u16, private: u16) -> PortBinding {
        PortBinding {
            ip: ip.into(),
            private_port: private,
            public_port: public,
            proto: "tcp".into(),
        }
    }

    #[test]
    fn a_free_port_is_chosen_once_for_both_addresses_and_a_taken_one_is_refused() {
        let published = bind(
            &[
                binding("0.0.0.0", 0, 80),
                binding("::", 0, 80),
                binding("", 0, 443),
            ],
            &[],
        )
        .unwrap();
        let b = published.bindings();
        assert!(b[0].public_port != 0);
        if b.len() == 3 {
            assert_eq!(b[1].public_port, b[0].public_port);
        }
        assert_eq!(b.last().unwrap(), &binding("", 0, 443));
        let port = b[0].public_port;
        // held by another container of the store: docker's allocator error
        assert_eq!(
            bind(
                &[binding("127.0.0.1", port, 80)],
                &[binding("0.0.0.0", port, 80)]
            )
            .unwrap_err()
            .to_string(),
            format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
        );
        // held by a process outside the store: the proxy's own bind error
        assert_eq!(
            bind(&[binding("0.0.0.0", port, 80)], &[])
                .unwrap_err()
                .to_string(),
            format!(
                "Error starting userland proxy: listen tcp4 0.0.0.0:{port}: bind: address already in use"
            )
        );
    }

    #[test]
    fn connections_are_carried_to_the_target_namespace_and_back() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("note: skipped, setns needs root");
            return;
        }
        // the target is this process's own namespace: an echo server on the loopback
        let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let private = server.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in server.incoming().take(1) {
                let mut s = s.unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).unwrap();
                s.write_all(&got).unwrap();
            }
        });
        let published = bind(&[binding("127.0.0.1", 0, private)], &[]).unwrap();
        let port = published.bindings()[0].public_port;
        let target = Target::default();
        target
            .set_pid(i32::try_from(std::process::id()).unwrap())
            .unwrap();
        published.serve(&target);
        let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        c.write_all(b"hello through the proxy").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = String::new();
        c.read_to_string(&mut back).unwrap();
        assert_eq!(back, "hello through the proxy");
        // no target: the connection is accepted and closed
        target.clear();
        let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        let mut nothing = Vec::new();
        assert_eq!(c.read_to_end(&mut nothing).unwrap_or(0), 0);
    }
}
