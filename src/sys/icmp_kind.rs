//! What every platform's ICMP socket shares: its kind, what a receive
//! returns, and the one-line refusal when no kind may be opened.

use std::fmt;
use std::net::IpAddr;

/// Where Linux says which groups may open unprivileged ICMP sockets.
pub const PING_GROUP_RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";

/// The kind of ICMP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IcmpKind {
    /// `socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`: unprivileged where the
    /// system allows it; the kernel fills in the identifier and the
    /// checksum and delivers only this socket's replies.
    Datagram,
    /// `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)`: root or `CAP_NET_RAW`;
    /// sees every ICMP packet, the IPv4 header included.
    Raw,
}

impl IcmpKind {
    /// The C name of the socket type: `SOCK_DGRAM` or `SOCK_RAW`.
    pub fn c_type(self) -> &'static str {
        match self {
            IcmpKind::Datagram => "SOCK_DGRAM",
            IcmpKind::Raw => "SOCK_RAW",
        }
    }

    /// The short name used on the command line and in JSON: `dgram` or
    /// `raw`.
    pub fn as_str(self) -> &'static str {
        match self {
            IcmpKind::Datagram => "dgram",
            IcmpKind::Raw => "raw",
        }
    }
}

/// What one receive returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes written into the buffer.
    pub len: usize,
    /// Who sent the packet.
    pub from: Option<IpAddr>,
    /// The TTL or hop limit, from a control message.
    pub ttl: Option<u8>,
}

/// Why no ICMP socket could be opened.
#[derive(Debug, thiserror::Error)]
pub enum IcmpOpenError {
    /// The kinds tried were not allowed (`dgram`/`raw`: the error of each
    /// kind tried).
    NotAllowed {
        /// ICMPv6.
        v6: bool,
        /// The caller's group id.
        group: u32,
        /// `net.ipv4.ping_group_range`, where the system has one.
        range: Option<String>,
        /// The datagram socket's error, if it was tried.
        dgram: Option<String>,
        /// The raw socket's error, if it was tried.
        raw: Option<String>,
    },
    /// This platform has no ICMP sockets sockmate can use.
    Unsupported(String),
    /// Anything else (out of descriptors…).
    Other(#[source] std::io::Error),
}

impl fmt::Display for IcmpOpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcmpOpenError::NotAllowed {
                v6,
                group,
                range,
                dgram,
                raw,
            } => NotAllowedLine {
                v6: *v6,
                group: *group,
                range: range.as_deref(),
                dgram: dgram.as_deref(),
                raw: raw.as_deref(),
            }
            .fmt(f),
            IcmpOpenError::Unsupported(line) => f.write_str(line),
            IcmpOpenError::Other(e) => write!(f, "cannot open an ICMP socket: {e}"),
        }
    }
}

impl IcmpOpenError {
    /// True when the system did not allow the socket (as opposed to a
    /// failure or a missing feature).
    pub fn is_not_allowed(&self) -> bool {
        matches!(self, IcmpOpenError::NotAllowed { .. })
    }
}

impl fmt::Display for NotAllowedLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let NotAllowedLine {
            v6,
            group,
            range,
            dgram,
            raw,
        } = *self;
        let (family, proto) = match v6 {
            true => ("AF_INET6", "IPPROTO_ICMPV6"),
            false => ("AF_INET", "IPPROTO_ICMP"),
        };
        let sysctl = "sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"";
        let setcap = "sudo setcap cap_net_raw+ep \"$(command -v sockmate)\"";
        let range_says = match range {
            Some(range) => format!(
                "net.ipv4.ping_group_range is \"{range}\", which leaves out your group {group}"
            ),
            None => "this system does not allow them for you".into(),
        };
        match (dgram, raw) {
            (Some(_), Some(_)) | (None, None) => write!(
                f,
                "cannot open an ICMP socket: unprivileged ICMP datagram sockets (socket({family}, SOCK_DGRAM, {proto})) are off ({range_says}), and raw ICMP sockets (SOCK_RAW) need root or CAP_NET_RAW; allow one: {sysctl}, or {setcap}, or run as root"
            ),
            (Some(error), None) => write!(
                f,
                "cannot open an unprivileged ICMP datagram socket (socket({family}, SOCK_DGRAM, {proto}): {error}): {range_says}; allow it: {sysctl}, or drop --socket-type dgram to fall back to a raw socket"
            ),
            (None, Some(error)) => write!(
                f,
                "cannot open a raw ICMP socket (socket({family}, SOCK_RAW, {proto}): {error}): raw sockets need root or CAP_NET_RAW; run as root, or {setcap}, or drop --socket-type raw to use an unprivileged datagram socket"
            ),
        }
    }
}

/// The one line of [`IcmpOpenError::NotAllowed`].
struct NotAllowedLine<'a> {
    v6: bool,
    group: u32,
    range: Option<&'a str>,
    dgram: Option<&'a str>,
    raw: Option<&'a str>,
}
