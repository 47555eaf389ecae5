//! [`PeerAddr`]: who is on the other end of a connection or datagram.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use socket2::SockAddr;

use crate::endpoint::UnixAddr;

/// The address of a peer, printable in status lines and events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerAddr {
    /// A TCP or UDP peer.
    Ip(SocketAddr),
    /// A Unix socket peer: its bound address if it has one, else its process
    /// id when the kernel tells it (`SO_PEERCRED`).
    Unix {
        /// The peer's bound address, if any (clients are usually unnamed).
        addr: Option<UnixAddr>,
        /// The peer's process id, when known.
        pid: Option<i32>,
    },
    /// A device such as a serial port, by its path.
    Device(PathBuf),
    /// A target reached through `--proxy`: the target as asked for, and the
    /// proxy's address (the socket's real peer).
    Proxied(Box<Proxied>),
}

impl PeerAddr {
    /// The peer as an endpoint URL of `kind` (`tcp://127.0.0.1:9000`,
    /// `unix:///run/app.sock`; a proxied peer is the target asked for), the
    /// `peer` of `--json`.
    pub fn url(&self, kind: crate::endpoint::Kind) -> String {
        match self {
            PeerAddr::Proxied(p) => kind.url_of(&p.target),
            other => kind.url_of(&other.to_string()),
        }
    }

    /// Builds a peer address from a raw socket address.
    pub fn from_sockaddr(addr: &SockAddr) -> PeerAddr {
        if let Some(ip) = addr.as_socket() {
            return PeerAddr::Ip(ip);
        }
        PeerAddr::Unix {
            addr: unix_addr_of(addr),
            pid: None,
        }
    }

    /// The address to send a datagram reply to, if the peer has one.
    pub fn to_sockaddr(&self) -> Option<SockAddr> {
        match self {
            PeerAddr::Ip(ip) => Some(SockAddr::from(*ip)),
            PeerAddr::Unix {
                addr: Some(UnixAddr::Path(path)),
                ..
            } => SockAddr::unix(path).ok(),
            PeerAddr::Unix {
                addr: Some(UnixAddr::Abstract(name)),
                ..
            } => SockAddr::unix(abstract_path(name)).ok(),
            PeerAddr::Unix { addr: None, .. } | PeerAddr::Device(_) | PeerAddr::Proxied(_) => None,
        }
    }
}

/// A peer reached through `--proxy`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proxied {
    /// `HOST:PORT` as given to the proxy.
    pub target: String,
    /// The proxy's address (the socket's real peer).
    pub proxy: SocketAddr,
}

/// The `sun_path` spelling of an abstract name: a leading NUL byte.
pub(crate) fn abstract_path(name: &str) -> PathBuf {
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(name.as_bytes());
    crate::sys::fs::path_from_bytes(bytes)
}

/// The named address inside a Unix `SockAddr`, if any.
pub(crate) fn unix_addr_of(addr: &SockAddr) -> Option<UnixAddr> {
    let (name, path) = crate::sys::socket::unix_addr_parts(addr);
    if let Some(name) = name {
        return Some(UnixAddr::Abstract(
            String::from_utf8_lossy(name).into_owned(),
        ));
    }
    path.map(|p| UnixAddr::Path(p.to_path_buf()))
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Ip(addr) => write!(f, "{addr}"),
            PeerAddr::Unix {
                addr: Some(addr), ..
            } => write!(f, "{addr}"),
            PeerAddr::Unix {
                addr: None,
                pid: Some(pid),
            } => write!(f, "pid:{pid}"),
            PeerAddr::Unix {
                addr: None,
                pid: None,
            } => f.write_str("unnamed"),
            PeerAddr::Device(path) => write!(f, "{}", path.display()),
            PeerAddr::Proxied(p) => write!(f, "{} via {}", p.target, p.proxy),
        }
    }
}
