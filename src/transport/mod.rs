//! Transport: turns an [`Endpoint`] into a connected stream, a listener that
//! yields streams, or a datagram socket, with socket options applied through
//! `socket2`. This is the one place that knows about address families.

mod connect;
#[doc(hidden)]
pub mod datagram;
#[doc(hidden)]
pub mod hint;
pub mod ipopts;
mod linger;
mod listen;
#[doc(hidden)]
pub mod local;
mod message_kind;
#[doc(hidden)]
pub mod peer;
pub mod proxy;
#[doc(hidden)]
pub mod secure;
#[cfg_attr(windows, path = "seqpacket_windows.rs")]
#[doc(hidden)]
pub mod seqpacket;
#[cfg_attr(windows, path = "serial_windows.rs")]
#[doc(hidden)]
pub mod serial;
mod serial_io;
#[cfg_attr(not(target_os = "linux"), path = "splice_portable.rs")]
#[doc(hidden)]
pub mod splice;
#[doc(hidden)]
pub mod stream;
pub mod tls;
#[cfg_attr(windows, path = "unix_path_windows.rs")]
#[doc(hidden)]
pub mod unix_path;
mod unix_socket;
pub mod ws;
#[doc(hidden)]
pub mod ws_budget;
#[doc(hidden)]
pub mod ws_request;

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

pub use connect::{apply_stream_options, connect, resolve, Connected, Connection};
pub use datagram::DatagramSocket;
pub use ipopts::{Family, IpOptions};
pub use listen::{listen, Listener, StreamListener};
pub use message_kind::{MessageKind, Received};
pub use peer::PeerAddr;
pub use proxy::{connect_via, Proxy};
pub use secure::{client_upgrade, handshake_failure, HandshakeFailed};
pub use seqpacket::{SeqpacketListener, SeqpacketStream};
pub use stream::{Capabilities, Stream, StreamReader, StreamWriter};
pub use tls::TlsInfo;
pub use unix_path::UnixPathGuard;

use crate::endpoint::{Endpoint, UnixAddr};
use crate::error::{NetError, NetErrorKind};

/// Default `listen(2)` backlog: large enough that a burst of clients is not
/// refused by the kernel while we accept.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// Socket options for connecting and listening.
#[derive(Debug, Clone, Default)]
pub struct SocketOptions {
    /// Give up connecting after this long.
    pub connect_timeout: Option<Duration>,
    /// Source address for outgoing connections (IP, IP:PORT or a Unix path).
    pub bind: Option<BindAddr>,
    /// Disable Nagle's algorithm on TCP (`TCP_NODELAY`).
    pub nodelay: bool,
    /// Enable TCP keepalive probes after this much idle time.
    pub keepalive: Option<Duration>,
    /// Set `SO_REUSEPORT` on listening sockets.
    pub reuseport: bool,
    /// `listen(2)` backlog; [`DEFAULT_BACKLOG`] when `None`.
    pub backlog: Option<u32>,
    /// TLS choices, used by `tls://` and `wss://`.
    pub tls: std::sync::Arc<tls::TlsOptions>,
    /// WebSocket choices, used by `ws://` and `wss://`.
    pub ws: std::sync::Arc<ws::WsOptions>,
    /// Reach TCP targets through this proxy (`--proxy`).
    pub proxy: Option<std::sync::Arc<Proxy>>,
    /// IP, UDP and multicast options.
    pub ip: std::sync::Arc<IpOptions>,
}

/// A source address for `--bind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// An IP address, with port 0 meaning "any port".
    Ip(SocketAddr),
    /// A Unix socket address (for Unix datagram clients).
    Unix(UnixAddr),
}

impl FromStr for BindAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(BindAddr::Ip(addr));
        }
        if let Ok(ip) = s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(BindAddr::Ip(SocketAddr::new(ip, 0)));
        }
        if let Some(name) = s.strip_prefix('@').filter(|n| !n.is_empty()) {
            return Ok(BindAddr::Unix(UnixAddr::Abstract(name.to_string())));
        }
        if s.starts_with('/') {
            return Ok(BindAddr::Unix(UnixAddr::Path(s.into())));
        }
        Err(format!(
            "invalid source address \"{s}\" (write an IP like 127.0.0.2, IP:PORT like 127.0.0.2:4000, or a Unix path like /tmp/me.sock)"
        ))
    }
}

/// Failures named the way this module says them; each is a [`NetError`]
/// with the right [`NetErrorKind`] and its cause said once.
mod fail {
    use super::*;

    /// The peer actively refused (nothing listening).
    pub(super) fn refused(endpoint: &Endpoint) -> NetError {
        NetError::new(
            NetErrorKind::Refused,
            format!(
                "connection refused by {endpoint} ({})",
                super::hint::refused(endpoint)
            ),
        )
    }

    /// Connecting took longer than the timeout.
    pub(super) fn timeout(endpoint: &dyn fmt::Display, after: Duration) -> NetError {
        NetError::new(
            NetErrorKind::TimedOut,
            format!(
                "timed out connecting to {endpoint} after {} (no answer at all: the host may be down, or a firewall drops the packets)",
                humantime::format_duration(after)
            ),
        )
    }

    /// The address to bind is taken; `detail` says what holds it.
    pub(crate) fn addr_in_use(endpoint: &dyn fmt::Display, detail: &str) -> NetError {
        NetError::new(
            NetErrorKind::AddrInUse,
            format!("address in use: {endpoint} ({detail})"),
        )
    }

    /// A host name did not resolve.
    pub(super) fn resolve(host: &str, detail: impl fmt::Display) -> NetError {
        NetError::new(
            NetErrorKind::Resolve,
            format!("cannot resolve host \"{host}\": {detail}"),
        )
    }

    /// A failure described in words, of no particular kind.
    pub(crate) fn other(message: impl Into<String>) -> NetError {
        NetError::new(NetErrorKind::Other, message)
    }

    /// A failed connect, named by what went wrong.
    pub(super) fn connecting(endpoint: &Endpoint, error: io::Error) -> NetError {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => match super::hint::not_a_socket_path(endpoint) {
                Some(why) => NetError::new(
                    NetErrorKind::NotFound,
                    format!("cannot connect to {endpoint}: {why}"),
                ),
                None => refused(endpoint),
            },
            io::ErrorKind::NotFound => NetError::io(
                format_args!("cannot connect to {endpoint} (no such socket file)"),
                &error,
            ),
            _ => NetError::io(format_args!("cannot connect to {endpoint}"), &error),
        }
    }

    /// A failed bind or listen, named by what went wrong.
    pub(super) fn binding(endpoint: &dyn fmt::Display, error: io::Error) -> NetError {
        match error.kind() {
            io::ErrorKind::AddrInUse => addr_in_use(
                endpoint,
                "another socket is bound there; pick another port or stop it",
            ),
            _ => NetError::io(format_args!("cannot listen on {endpoint}"), &error),
        }
    }

    /// A failed bind or listen on `endpoint`, with the hint that fits.
    pub(super) fn binding_at(endpoint: &Endpoint, error: io::Error) -> NetError {
        let port = endpoint.host_port().map(|(_, p)| p).unwrap_or(0);
        let hint = match error.kind() {
            io::ErrorKind::AddrInUse if port != 0 => {
                return addr_in_use(endpoint, &super::hint::port_in_use(endpoint))
            }
            io::ErrorKind::PermissionDenied => super::hint::privileged_port(port),
            io::ErrorKind::AddrNotAvailable => Some(super::hint::not_on_this_machine(endpoint)),
            _ => None,
        };
        match hint {
            Some(hint) => NetError::new(
                NetErrorKind::of(&error),
                format!(
                    "cannot listen on {endpoint}: {}: {hint}",
                    crate::error::describe_io(&error)
                ),
            ),
            None => binding(endpoint, error),
        }
    }

    /// Sending to a broadcast address without `SO_BROADCAST`.
    pub(super) fn broadcast(endpoint: &dyn fmt::Display) -> NetError {
        NetError::new(
            NetErrorKind::PermissionDenied,
            format!("cannot send to {endpoint}: it is a broadcast address (add --broadcast)"),
        )
    }

    /// No address of the family `-4`/`-6` asked for.
    pub(super) fn no_family(endpoint: &dyn fmt::Display, ip: &IpOptions) -> NetError {
        let family = match ip.family {
            Some(Family::V6) => "IPv6 (-6)",
            _ => "IPv4 (-4)",
        };
        NetError::new(
            NetErrorKind::Resolve,
            format!("{endpoint} has no {family} address (drop -4/-6 or give another host)"),
        )
    }

    /// A side that is not a socket could not be opened (its message
    /// names it: `cannot run `x``, `cannot open file y`).
    pub(super) fn local(error: io::Error) -> NetError {
        NetError::new(NetErrorKind::of(&error), error.to_string())
    }

    /// A failure setting up a socket we already have.
    pub(super) fn setup(endpoint: &dyn fmt::Display, error: io::Error) -> NetError {
        NetError::io(format_args!("cannot set up {endpoint}"), &error)
    }
}

#[cfg(test)]
mod tests;
