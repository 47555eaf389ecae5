//! Reaching a proxy client's target: resolve the name here, check every
//! address against the [`TargetPolicy`] *before* connecting (nothing is
//! sent toward a refused target), then connect to each address in turn
//! within the connect timeout. Failures come back as a [`DialError`] that
//! each protocol turns into its own reply (a SOCKS5 code, an HTTP status).

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

use super::targets::TargetPolicy;
use crate::endpoint::Host;
use crate::error::NetErrorKind;

/// A target as a client named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host: an address or a name we resolve.
    pub host: TargetHost,
    /// The port.
    pub port: u16,
}

/// A target's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    /// An IP address.
    Ip(IpAddr),
    /// A name, resolved by us (SOCKS5 with names is `socks5h`).
    Name(String),
}

impl fmt::Display for Target {
    /// `localhost:8080`, `127.0.0.1:80`, `[::1]:80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            TargetHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            TargetHost::Ip(ip) => write!(f, "{ip}:{}", self.port),
            TargetHost::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

/// Why a target was not reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialError {
    /// What kind of failure.
    pub kind: DialFailure,
    /// One line saying what, for the event stream and HTTP bodies.
    pub words: String,
}

/// The kinds of dial failure the protocols answer differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialFailure {
    /// The target policy refused it (no packet was sent).
    NotAllowed,
    /// The name did not resolve.
    Resolve,
    /// The target refused the connection.
    Refused,
    /// No route to the network.
    NetworkUnreachable,
    /// No route to the host.
    HostUnreachable,
    /// The connect timeout passed.
    TimedOut,
    /// Anything else.
    Other,
}

impl DialError {
    fn new(kind: DialFailure, words: impl Into<String>) -> Self {
        DialError {
            kind,
            words: words.into(),
        }
    }
}

/// Resolves `target`, checks it against `policy` and connects within
/// `timeout`; returns the connection and the address reached.
pub async fn dial(
    target: &Target,
    policy: &TargetPolicy,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), DialError> {
    let attempt = async {
        let addrs = resolve(target).await?;
        check(target, &addrs, policy)?;
        connect_any(target, &addrs).await
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(DialError::new(
                DialFailure::TimedOut,
                format!(
                    "{target} did not answer within {} (--connect-timeout)",
                    humantime::format_duration(timeout)
                ),
            ))
        })
}

async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, DialError> {
    let host = match &target.host {
        TargetHost::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, target.port)]),
        TargetHost::Name(name) => Host::Name(name.clone()),
    };
    crate::transport::resolve(&host, target.port)
        .await
        .map_err(|e| DialError::new(DialFailure::Resolve, e.to_string()))
}

/// Every address must be allowed, unless the name itself was.
fn check(target: &Target, addrs: &[SocketAddr], policy: &TargetPolicy) -> Result<(), DialError> {
    if let TargetHost::Name(name) = &target.host {
        if policy.permits_name(name) {
            return Ok(());
        }
    }
    match addrs.iter().find(|a| !policy.permits_ip(a.ip())) {
        None => Ok(()),
        Some(refused) => {
            let resolved = match &target.host {
                TargetHost::Name(name) => format!(" ({name} resolves to {})", refused.ip()),
                TargetHost::Ip(_) => String::new(),
            };
            Err(DialError::new(
                DialFailure::NotAllowed,
                format!(
                    "target not allowed{resolved}: only loopback targets are, unless --target-allow names them (add --target-allow {})",
                    refused.ip()
                ),
            ))
        }
    }
}

async fn connect_any(
    target: &Target,
    addrs: &[SocketAddr],
) -> Result<(TcpStream, SocketAddr), DialError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok((stream, *addr)),
            Err(e) => last = Some(e),
        }
    }
    let error = last.unwrap_or_else(|| io::Error::other("no address to try"));
    let kind = match (error.kind(), NetErrorKind::of(&error)) {
        (io::ErrorKind::NetworkUnreachable | io::ErrorKind::NetworkDown, _) => {
            DialFailure::NetworkUnreachable
        }
        (_, NetErrorKind::Unreachable) => DialFailure::HostUnreachable,
        (_, NetErrorKind::Refused) => DialFailure::Refused,
        (_, NetErrorKind::TimedOut) => DialFailure::TimedOut,
        _ => DialFailure::Other,
    };
    Err(DialError::new(
        kind,
        format!(
            "cannot connect to {target}: {}",
            crate::error::describe_io(&error)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip_target(ip: &str) -> Target {
        Target {
            host: TargetHost::Ip(ip.parse().unwrap()),
            port: 80,
        }
    }

    #[tokio::test]
    async fn a_refused_target_is_refused_before_any_connect() {
        let err = dial(
            &ip_target("192.0.2.1"),
            &TargetPolicy::default(),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, DialFailure::NotAllowed);
        assert!(
            err.words.contains("--target-allow 192.0.2.1"),
            "{}",
            err.words
        );
    }

    #[tokio::test]
    async fn a_closed_loopback_port_is_refused_by_the_target() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let target = Target {
            host: TargetHost::Ip("127.0.0.1".parse().unwrap()),
            port,
        };
        let err = dial(&target, &TargetPolicy::default(), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind, DialFailure::Refused, "{}", err.words);
        assert_eq!(ip_target("::1").to_string(), "[::1]:80");
    }
}
