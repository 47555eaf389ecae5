//! `sockmate ping`: ICMP echo over the socket types the tutorials name,
//! `SOCK_DGRAM` (unprivileged ICMP, where the system allows it) and
//! `SOCK_RAW` (root or `CAP_NET_RAW`).
//!
//! - [`packet`]: echo requests and replies, the Internet checksum (pure).
//! - [`stats`]: counts and round-trip times, ping(8)'s summary lines.
//! - [`config`]: what a run does, validated.
//! - [`run`]: the loop: send on schedule, match replies by identifier and
//!   sequence, time out each request, report [`run::PingEvent`]s.
//! - The socket itself is platform code: [`crate::sys::icmp`].

pub mod config;
#[doc(hidden)]
pub mod packet;
#[doc(hidden)]
pub mod run;
pub mod stats;

pub use crate::sys::icmp::IcmpSocket;
pub use crate::sys::icmp_kind::{IcmpKind, IcmpOpenError};
pub use config::PingConfig;

/// An identifier for the echo requests of a raw socket (a datagram
/// socket's kernel picks its own): the process id's low bits, offset by
/// `index` so that several sockets of one process (`bench -c N`) tell their
/// replies apart.
pub fn raw_ident(index: usize) -> u16 {
    let pid = std::process::id();
    ((pid as usize).wrapping_add(index.wrapping_mul(0x9e37)) & 0xffff) as u16
}
