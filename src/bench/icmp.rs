//! `bench icmp://HOST`: an ICMP echo socket driven like a datagram socket.
//! Each bench message is the payload of one echo request; the reply echoes
//! it back, so the datagram worker's sequence numbers (in the payload's
//! first bytes) match replies to requests whatever the 16-bit ICMP
//! sequence number does.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};

use super::datagram::Datagrams;
use crate::endpoint::Host;
use crate::ping::packet::{echo_request, parse_reply};
use crate::ping::{raw_ident, IcmpOpenError, IcmpSocket};

/// An ICMP socket that sends echo requests to one host and yields the
/// payloads of its replies.
#[derive(Debug)]
pub struct IcmpEcho {
    socket: IcmpSocket,
    to: SocketAddr,
    seq: AtomicU16,
}

/// Resolves the host of `icmp://HOST` to the address pinged.
pub async fn resolve(host: &Host) -> Result<SocketAddr, crate::error::NetError> {
    let addrs = crate::transport::resolve(host, 0).await?;
    addrs.first().copied().ok_or_else(|| {
        crate::error::NetError::new(
            crate::error::NetErrorKind::Resolve,
            format!("{host} has no address"),
        )
    })
}

impl IcmpEcho {
    /// Opens the ICMP socket of bench connection number `index` (datagram
    /// where allowed, else raw with an identifier of its own).
    pub fn open(to: SocketAddr, index: usize) -> Result<Self, IcmpOpenError> {
        let socket = IcmpSocket::open(to.is_ipv6(), None, raw_ident(index))?;
        Ok(IcmpEcho {
            socket,
            to,
            seq: AtomicU16::new(0),
        })
    }
}

impl Datagrams for IcmpEcho {
    async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let packet = echo_request(self.socket.is_v6(), self.socket.ident(), seq, buf);
        self.socket.send_to(&packet, self.to).await?;
        Ok(buf.len())
    }

    async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let received = self.socket.recv(buf).await?;
            let packet = buf.get(..received.len).unwrap_or_default();
            let v6 = self.socket.is_v6();
            let Some(reply) = parse_reply(v6, self.socket.header_included(), packet) else {
                continue;
            };
            if reply.ident != self.socket.ident() {
                continue;
            }
            // The payload runs to the packet's end: move it to the front.
            let (len, total) = (reply.payload.len(), packet.len());
            buf.copy_within(total - len..total, 0);
            return Ok(len);
        }
    }
}
