//! [`DatagramSocket`]: UDP or Unix datagram, one type for both.

use std::io;

use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::unix_socket::UnixDatagram;

use super::peer::PeerAddr;
use super::unix_path::UnixPathGuard;
use crate::endpoint::UnixAddr;

/// A datagram socket (UDP or Unix datagram), bound and possibly connected.
#[derive(Debug)]
pub struct DatagramSocket {
    inner: Inner,
    _path_guard: Option<UnixPathGuard>,
    /// Unconnected (`--any-source`): where [`DatagramSocket::send`] goes.
    target: Option<Box<PeerAddr>>,
    /// What was joined, for the startup line.
    note: Option<Box<str>>,
}

#[derive(Debug)]
enum Inner {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

impl DatagramSocket {
    /// Wraps a UDP socket.
    pub fn udp(socket: UdpSocket) -> Self {
        DatagramSocket {
            inner: Inner::Udp(socket),
            _path_guard: None,
            target: None,
            note: None,
        }
    }

    /// Wraps an unconnected UDP socket whose sends go to `target` and whose
    /// receives take any source (`--any-source`).
    pub fn udp_any_source(socket: UdpSocket, target: std::net::SocketAddr) -> Self {
        DatagramSocket {
            target: Some(Box::new(PeerAddr::Ip(target))),
            ..DatagramSocket::udp(socket)
        }
    }

    /// Adds the startup note (the multicast group joined).
    pub fn with_note(self, note: Option<String>) -> Self {
        DatagramSocket {
            note: note.map(String::into_boxed_str),
            ..self
        }
    }

    /// The startup note, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Wraps a Unix datagram socket; `guard` removes its bound path on drop.
    pub fn unix(socket: UnixDatagram, guard: Option<UnixPathGuard>) -> Self {
        DatagramSocket {
            inner: Inner::Unix(socket),
            _path_guard: guard,
            target: None,
            note: None,
        }
    }

    /// Receives one datagram and the address it came from.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, PeerAddr)> {
        match &self.inner {
            Inner::Udp(s) => {
                let (n, addr) = s.recv_from(buf).await?;
                Ok((n, PeerAddr::Ip(addr)))
            }
            Inner::Unix(s) => {
                let (n, addr) = s.recv_from(buf).await?;
                let addr = if let Some(name) = addr.as_abstract_name() {
                    Some(UnixAddr::Abstract(
                        String::from_utf8_lossy(name).into_owned(),
                    ))
                } else {
                    addr.as_pathname().map(|p| UnixAddr::Path(p.to_path_buf()))
                };
                Ok((n, PeerAddr::Unix { addr, pid: None }))
            }
        }
    }

    /// Sends one datagram to `peer`. A peer without an address (an unnamed
    /// Unix socket) cannot be answered.
    pub async fn send_to(&self, buf: &[u8], peer: &PeerAddr) -> io::Result<usize> {
        let Some(addr) = peer.to_sockaddr() else {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!(
                    "peer {peer} has no address to reply to (bind the client socket to a path)"
                ),
            ));
        };
        match &self.inner {
            Inner::Udp(s) => {
                s.async_io(Interest::WRITABLE, || SockRef::from(s).send_to(buf, &addr))
                    .await
            }
            Inner::Unix(s) => {
                s.async_io(Interest::WRITABLE, || SockRef::from(s).send_to(buf, &addr))
                    .await
            }
        }
    }

    /// Sends one datagram on a connected socket.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        if let Some(target) = &self.target {
            return self.send_to(buf, target).await.map_err(|e| {
                if e.kind() == io::ErrorKind::PermissionDenied {
                    io::Error::new(e.kind(), "it is a broadcast address (add --broadcast)")
                } else {
                    e
                }
            });
        }
        match &self.inner {
            Inner::Udp(s) => s.send(buf).await,
            Inner::Unix(s) => s.send(buf).await,
        }
    }

    /// Receives one datagram: on an `--any-source` socket with its sender,
    /// on a connected one without (it can only be the peer).
    pub async fn recv_tagged(&self, buf: &mut [u8]) -> io::Result<(usize, Option<PeerAddr>)> {
        if self.target.is_some() {
            let (n, from) = self.recv_from(buf).await?;
            return Ok((n, Some(from)));
        }
        Ok((self.recv(buf).await?, None))
    }

    /// Receives one datagram on a connected socket.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Udp(s) => s.recv(buf).await,
            Inner::Unix(s) => s.recv(buf).await,
        }
    }
}
