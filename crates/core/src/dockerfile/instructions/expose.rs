//! EXPOSE port specifications (spec §13.7): `[ip:][hostPort:]containerPort[/proto]`.
//!
//! ```
//! use layerbox_core::dockerfile::instructions::expose::parse_port_spec;
//! assert_eq!(parse_port_spec("8000-8001/UDP").unwrap(), ["8000/udp", "8001/udp"]);
//! ```

use std::net::IpAddr;

use serde::Serialize;
use thiserror::Error;

use crate::dockerfile::quote::go_quote;

/// Why a port specification was rejected (Docker's messages).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum ExposeError {
    /// No container port.
    #[error("invalid port: {}: no port specified", go_quote(.0))]
    NoPort(String),
    /// A protocol other than tcp, udp, sctp.
    #[error("invalid port: {}: invalid proto: {proto}", go_quote(.spec))]
    Proto {
        /// The whole specification.
        spec: String,
        /// The protocol given.
        proto: String,
    },
    /// A bad container port or range.
    #[error("invalid containerPort: {0}")]
    ContainerPort(String),
    /// A bad host port or range.
    #[error("invalid hostPort: {0}")]
    HostPort(String),
    /// A bad IP part.
    #[error("invalid IP address: {0}")]
    Ip(String),
    /// Container and host ranges of different lengths.
    #[error("invalid ranges specified for container and host Ports: {0} and {1}")]
    Ranges(String, String),
}

fn split_parts(raw: &str) -> (String, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_string(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    }
}

fn split_proto_port(raw: &str) -> (&str, &str) {
    let mut parts = raw.split('/');
    let port = parts.next().unwrap_or_default();
    if raw.is_empty() || port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(proto) => (proto, port),
    }
}

fn port_range(ports: &str) -> Option<(u16, u16)> {
    match ports.split_once('-') {
        None => ports.parse().ok().map(|p| (p, p)),
        Some((a, b)) => {
            let b = b.split('-').next().unwrap_or(b);
            let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
            (b >= a).then_some((a, b))
        }
    }
}

/// The `port/proto` keys a specification exposes (host IP and host port parts are dropped).
pub fn parse_port_spec(raw: &str) -> Result<Vec<String>, ExposeError> {
    let (mut ip, host, container) = split_parts(raw);
    let (proto, container) = split_proto_port(container);
    if let Some(inner) = ip.strip_prefix('[') {
        match inner.strip_suffix(']') {
            Some(inner) if !inner.contains(['[', ']']) => ip = inner.to_string(),
            _ => return Err(ExposeError::Ip(ip)),
        }
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(ExposeError::Ip(ip));
    }
    if container.is_empty() {
        return Err(ExposeError::NoPort(raw.to_string()));
    }
    let (start, end) =
        port_range(container).ok_or_else(|| ExposeError::ContainerPort(container.to_string()))?;
    if !host.is_empty() {
        let (hs, he) = port_range(host).ok_or_else(|| ExposeError::HostPort(host.to_string()))?;
        if end - start != he - hs && end != start {
            return Err(ExposeError::Ranges(container.to_string(), host.to_string()));
        }
    }
    let lower = proto.to_lowercase();
    if !matches!(lower.as_str(), "tcp" | "udp" | "sctp") {
        return Err(ExposeError::Proto {
            spec: raw.to_string(),
            proto: proto.to_string(),
        });
    }
    let proto = lower;
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}
