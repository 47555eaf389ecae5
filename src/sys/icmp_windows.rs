//! ICMP sockets on Windows: not wired in. Windows has no unprivileged ICMP
//! sockets, raw ones need an administrator, and its own echo API
//! (`IcmpSendEcho2`) is not a socket; `sockmate ping` and `bench icmp://`
//! are refused when parsed ([`super::unsupported::ICMP_SOCKETS`]), and this
//! type only fails cleanly if reached.

use std::io;
use std::net::SocketAddr;

use super::icmp_kind::{IcmpKind, IcmpOpenError, Received};

/// The refusal of ICMP on this platform.
pub fn unsupported_line() -> String {
    super::unsupported::refusal(
        "ICMP (sockmate ping, bench icmp://)",
        "Windows has no unprivileged ICMP sockets and its IcmpSendEcho2 API is not wired in yet; use Windows' own ping",
    )
}

/// An ICMP socket (never opened on Windows).
#[derive(Debug)]
pub struct IcmpSocket {
    v6: bool,
}

impl IcmpSocket {
    /// Always refuses: see the module's documentation.
    pub fn open(v6: bool, only: Option<IcmpKind>, raw_ident: u16) -> Result<Self, IcmpOpenError> {
        let _ = (v6, only, raw_ident);
        Err(IcmpOpenError::Unsupported(unsupported_line()))
    }

    /// Which kind of socket this is.
    pub fn kind(&self) -> IcmpKind {
        IcmpKind::Raw
    }

    /// Why a datagram socket was refused (never on Windows).
    pub fn fell_back_from(&self) -> Option<&str> {
        None
    }

    /// The echo identifier replies carry.
    pub fn ident(&self) -> u16 {
        0
    }

    /// True for an ICMPv6 socket.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// True when received packets start with their IPv4 header.
    pub fn header_included(&self) -> bool {
        false
    }

    /// Fails: no ICMP on this platform.
    pub async fn send_to(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        let _ = (packet, to);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            unsupported_line(),
        ))
    }

    /// Fails: no ICMP on this platform.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        let _ = buf;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            unsupported_line(),
        ))
    }
}
