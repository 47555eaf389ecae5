//! ICMP sockets for `sockmate ping` (POSIX): an unprivileged ICMP datagram
//! socket where the system allows one (Linux: `net.ipv4.ping_group_range`
//! names the caller's group; macOS: always), else a raw socket (root or
//! `CAP_NET_RAW`).
//!
//! A datagram socket's kernel fills in the echo identifier (the socket's
//! "port") and delivers only the replies to it; a raw socket sees every
//! ICMP packet for the host, the IPv4 header included, and the caller
//! matches its own identifier. ICMPv6 sockets never carry the IP header;
//! the hop limit and, on a datagram IPv4 socket, the TTL arrive as control
//! messages (`IPV6_RECVHOPLIMIT`, `IP_RECVTTL`).
//!
//! The socket is handed to tokio as a [`tokio::net::UdpSocket`]: tokio only
//! waits for readiness and calls `recvmsg`/`sendto` on it, which is all an
//! ICMP socket needs (and it keeps the code free of `unsafe`).

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::icmp_kind::{IcmpKind, IcmpOpenError, Received};

/// An open ICMP socket of one family.
#[derive(Debug)]
pub struct IcmpSocket {
    fd: UdpSocket,
    v6: bool,
    kind: IcmpKind,
    ident: u16,
    /// Why the datagram kind was refused, when this raw socket stands in.
    fallback: Option<String>,
}

impl IcmpSocket {
    /// Opens an ICMP socket for IPv6 (`v6`) or IPv4: of `only` that kind,
    /// or the datagram kind with a fall back to a raw one. A raw socket
    /// uses `raw_ident` as its echo identifier.
    pub fn open(v6: bool, only: Option<IcmpKind>, raw_ident: u16) -> Result<Self, IcmpOpenError> {
        let dgram_error = match only {
            Some(IcmpKind::Raw) => None,
            _ => match Self::open_kind(v6, IcmpKind::Datagram, raw_ident) {
                Ok(socket) => return Ok(socket),
                Err(e) if only.is_some() || !is_not_allowed(&e) => {
                    return Err(refusal(v6, Some(e), None))
                }
                Err(e) => Some(e),
            },
        };
        match Self::open_kind(v6, IcmpKind::Raw, raw_ident) {
            Ok(socket) => Ok(IcmpSocket {
                fallback: dgram_error.map(|e| e.to_string()),
                ..socket
            }),
            Err(e) if is_not_allowed(&e) => Err(refusal(v6, dgram_error, Some(e))),
            Err(e) => Err(IcmpOpenError::Other(e)),
        }
    }

    fn open_kind(v6: bool, kind: IcmpKind, raw_ident: u16) -> io::Result<Self> {
        let (domain, protocol) = match v6 {
            true => (Domain::IPV6, Protocol::ICMPV6),
            false => (Domain::IPV4, Protocol::ICMPV4),
        };
        let ty = match kind {
            IcmpKind::Datagram => Type::DGRAM,
            IcmpKind::Raw => Type::RAW,
        };
        let socket = Socket::new(domain, ty, Some(protocol))?;
        socket.set_nonblocking(true)?;
        set_receive_ttl(&socket, v6, kind);
        let ident = match kind {
            IcmpKind::Datagram => {
                // Binding port 0 makes the kernel pick the identifier now,
                // so it can be shown.
                let any = match v6 {
                    true => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                    false => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                };
                socket.bind(&SocketAddr::new(any, 0).into())?;
                socket
                    .local_addr()?
                    .as_socket()
                    .map_or(raw_ident, |a| a.port())
            }
            IcmpKind::Raw => raw_ident,
        };
        Ok(IcmpSocket {
            fd: UdpSocket::from_std(std::net::UdpSocket::from(socket))?,
            v6,
            kind,
            ident,
            fallback: None,
        })
    }

    /// Which kind of socket this is.
    pub fn kind(&self) -> IcmpKind {
        self.kind
    }

    /// Why an unprivileged datagram socket was refused, when this is the
    /// raw socket opened instead.
    pub fn fell_back_from(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The echo identifier replies carry.
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// True for an ICMPv6 socket.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// True when received packets start with their IPv4 header (a raw
    /// IPv4 socket).
    pub fn header_included(&self) -> bool {
        self.kind == IcmpKind::Raw && !self.v6
    }

    /// Sends one ICMP message to `to` (its port is ignored; an IPv6
    /// address keeps its scope).
    pub async fn send_to(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        let addr = SockAddr::from(to);
        let fd = &self.fd;
        fd.async_io(Interest::WRITABLE, || {
            SockRef::from(fd).send_to(packet, &addr)
        })
        .await
        .map(drop)
    }

    /// Receives one ICMP packet into `buf`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        let fd = &self.fd;
        fd.async_io(Interest::READABLE, || receive(fd, buf)).await
    }
}

/// True for the errors that mean "not allowed" rather than "broken".
fn is_not_allowed(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::Unsupported
    ) || error.raw_os_error() == Some(nix::errno::Errno::EPROTONOSUPPORT as i32)
}

/// The refusal when neither kind may be opened, with what the system says
/// about unprivileged ICMP (`ping_group_range` on Linux).
fn refusal(v6: bool, dgram: Option<io::Error>, raw: Option<io::Error>) -> IcmpOpenError {
    let group = rustix::process::getgid().as_raw();
    let range = std::fs::read_to_string(super::icmp_kind::PING_GROUP_RANGE)
        .ok()
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "));
    IcmpOpenError::NotAllowed {
        v6,
        group,
        range,
        dgram: dgram.map(|e| e.to_string()),
        raw: raw.map(|e| e.to_string()),
    }
}

/// Asks for the TTL (IPv4 datagram) or hop limit (IPv6) of each reply as a
/// control message; a raw IPv4 socket reads it from the IP header. Where
/// the option is missing, replies are shown without a TTL.
fn set_receive_ttl(socket: &Socket, v6: bool, kind: IcmpKind) {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        use nix::sys::socket::{setsockopt, sockopt};
        let _ = match (v6, kind) {
            (true, _) => setsockopt(socket, sockopt::Ipv6RecvHopLimit, &true),
            (false, IcmpKind::Datagram) => setsockopt(socket, sockopt::Ipv4RecvTtl, &true),
            (false, IcmpKind::Raw) => Ok(()),
        };
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let _ = (socket, v6, kind);
}

/// One `recvmsg` on the (non-blocking) socket.
fn receive(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Received> {
    let mut space = nix::cmsg_space!(i32);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let from = msg.address.as_ref().and_then(|a| {
        if let Some(v4) = a.as_sockaddr_in() {
            Some(IpAddr::V4(v4.ip()))
        } else {
            a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
        }
    });
    let mut ttl = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for cmsg in cmsgs {
            ttl = ttl.or_else(|| ttl_of(&cmsg));
        }
    }
    Ok(Received {
        len: msg.bytes,
        from,
        ttl,
    })
}

fn ttl_of(cmsg: &ControlMessageOwned) -> Option<u8> {
    match cmsg {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        ControlMessageOwned::Ipv4Ttl(ttl) => u8::try_from(*ttl).ok(),
        #[cfg(target_os = "freebsd")]
        ControlMessageOwned::Ipv4Ttl(ttl) => Some(*ttl),
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        ControlMessageOwned::Ipv6HopLimit(hops) => u8::try_from(*hops).ok(),
        _ => None,
    }
}
