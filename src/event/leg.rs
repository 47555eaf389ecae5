//! What a capture (`--pcap`) needs to know about the sockets under a
//! connection: their kind and real addresses, and which side connected.
//! An [`EventKind::Open`](super::EventKind::Open) carries it; it is not part
//! of the JSON schema (the `local` and `peer` strings are).

use std::net::SocketAddr;

use crate::endpoint::Kind;
use crate::transport::PeerAddr;

/// The sockets under one connection: the one to the peer and, for a relay,
/// the one to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// sockmate's connection with its peer (for a relay: with the client).
    pub near: Leg,
    /// For a relay: its own connection to the target.
    pub far: Option<Leg>,
}

/// One socket, as a capture can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leg {
    /// A TCP connection (plain, or carrying TLS, WebSocket or a proxy).
    Tcp {
        /// Our address on it.
        local: SocketAddr,
        /// The socket's real peer (a proxy, when one is used).
        peer: SocketAddr,
        /// True when we connected (we sent the SYN).
        we_connected: bool,
        /// The layers whose payload the capture shows instead of the wire
        /// bytes (`"TLS"`, `"WebSocket"`, `"WebSocket over TLS"`).
        decrypted: Option<&'static str>,
    },
    /// A UDP flow between two addresses.
    Udp {
        /// Our address.
        local: SocketAddr,
        /// The peer's address.
        peer: SocketAddr,
    },
    /// Anything without IP addresses (Unix sockets, serial lines): bytes
    /// with a direction.
    Bytes {
        /// What it is, e.g. `unix:///tmp/app.sock`.
        name: String,
    },
}

impl Leg {
    /// The leg of a socket of `kind` with our address printed as `local`
    /// (an address, or an endpoint URL) and `peer`. Addresses that are not
    /// IP (Unix, serial) make a [`Leg::Bytes`].
    pub fn new(kind: Kind, local: &str, peer: &PeerAddr, we_connected: bool) -> Leg {
        let peer_ip = match peer {
            PeerAddr::Ip(addr) => Some(*addr),
            PeerAddr::Proxied(p) => Some(p.proxy),
            PeerAddr::Unix { .. } | PeerAddr::Device(_) => None,
        };
        let local_ip = socket_addr(local);
        let (Some(local), Some(peer_ip)) = (local_ip, peer_ip) else {
            return Leg::Bytes {
                name: format!("{local} <-> {peer}"),
            };
        };
        let decrypted = match kind {
            Kind::Tls => Some("TLS"),
            Kind::Ws => Some("WebSocket"),
            Kind::Wss => Some("WebSocket over TLS"),
            _ => None,
        };
        match kind {
            Kind::Udp => Leg::Udp {
                local,
                peer: peer_ip,
            },
            Kind::Tcp | Kind::Tls | Kind::Ws | Kind::Wss => Leg::Tcp {
                local,
                peer: peer_ip,
                we_connected,
                decrypted,
            },
            _ => Leg::Bytes {
                name: format!("{local} <-> {peer}"),
            },
        }
    }
}

/// An IP socket address printed bare (`127.0.0.1:80`, `[::1]:80`) or as an
/// endpoint URL (`tcp://127.0.0.1:80`, `ws://[::1]:80/path`).
fn socket_addr(text: &str) -> Option<SocketAddr> {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_from_bare_and_url_forms() {
        assert_eq!(
            socket_addr("tcp://127.0.0.1:80"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(socket_addr("[::1]:9"), Some("[::1]:9".parse().unwrap()));
        assert_eq!(
            socket_addr("ws://[::1]:8080/chat"),
            Some("[::1]:8080".parse().unwrap())
        );
        assert_eq!(socket_addr("unnamed"), None);
        assert_eq!(socket_addr("unix:///tmp/x.sock"), None);
    }

    #[test]
    fn kinds_pick_the_leg() {
        let peer = PeerAddr::Ip("127.0.0.1:9000".parse().unwrap());
        let tls = Leg::new(Kind::Tls, "127.0.0.1:5000", &peer, true);
        assert!(matches!(
            tls,
            Leg::Tcp {
                decrypted: Some("TLS"),
                we_connected: true,
                ..
            }
        ));
        assert!(matches!(
            Leg::new(Kind::Udp, "udp://127.0.0.1:5000", &peer, false),
            Leg::Udp { .. }
        ));
        let unix = PeerAddr::Unix {
            addr: None,
            pid: None,
        };
        assert_eq!(
            Leg::new(Kind::Unix, "unix:///tmp/s", &unix, false),
            Leg::Bytes {
                name: "unix:///tmp/s <-> unnamed".into()
            }
        );
    }
}
