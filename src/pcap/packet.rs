//! Synthesised frames: Ethernet with IPv4 or IPv6 and TCP or UDP, built
//! from addresses and a payload, with every length and checksum right (so
//! Wireshark decodes them as real traffic and marks none as bad).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The MAC address given to sockmate's side of every synthesised frame (a
/// locally administered address: it names no real card).
pub const LOCAL_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
/// The MAC address given to the peer's side.
pub const PEER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/// The most TCP payload one frame carries: what fits in an IPv4 packet
/// (65,535 bytes) after 20 bytes of IP and 20 of TCP header. Longer reads
/// become several segments.
pub const MAX_TCP_PAYLOAD: usize = 65_535 - 20 - 20;
/// The most UDP payload one frame carries (65,535 less the IPv4 and UDP
/// headers), the largest datagram IPv4 can carry.
pub const MAX_UDP_PAYLOAD: usize = 65_535 - 20 - 8;

/// The TCP window every segment advertises (scaled by [`WINDOW_SCALE`]).
const WINDOW: u16 = 65_535;
/// The window scale the handshake announces: a window of 8 MiB, so large
/// reads in flight do not look like a full window.
pub const WINDOW_SCALE: u8 = 7;

/// TCP flags.
pub mod flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers (the handshake).
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push: hand the data to the application.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment number is valid.
    pub const ACK: u8 = 0x10;
}

/// One TCP segment's header fields and payload.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Sequence number of the first payload byte (or of the SYN/FIN).
    pub seq: u32,
    /// Next sequence number expected from the other side.
    pub ack: u32,
    /// [`flags`] or-ed together.
    pub flags: u8,
    /// The payload.
    pub payload: &'a [u8],
}

/// Who sent a frame, for its MAC addresses (and the capture's direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// Source address.
    pub src: SocketAddr,
    /// Destination address.
    pub dst: SocketAddr,
    /// True when sockmate sent it.
    pub from_local: bool,
}

impl Hop {
    /// The other way: `dst` to `src`.
    pub fn reversed(self) -> Hop {
        Hop {
            src: self.dst,
            dst: self.src,
            from_local: !self.from_local,
        }
    }
}

/// An Ethernet frame with an IP packet carrying `segment` from `hop.src`
/// to `hop.dst`; `ip_id` is the IPv4 identification.
pub fn tcp_frame(hop: Hop, segment: &Segment<'_>, ip_id: u16) -> Vec<u8> {
    let syn = segment.flags & flags::SYN != 0;
    let options: &[u8] = if syn {
        // MSS, NOP, window scale: what a real SYN says, so that the
        // dissector knows the window is scaled.
        let mss = (MAX_TCP_PAYLOAD as u16).to_be_bytes();
        &[2, 4, mss[0], mss[1], 1, 3, 3, WINDOW_SCALE]
    } else {
        &[]
    };
    let header_len = 20 + options.len();
    let mut tcp = Vec::with_capacity(header_len + segment.payload.len());
    tcp.extend_from_slice(&hop.src.port().to_be_bytes());
    tcp.extend_from_slice(&hop.dst.port().to_be_bytes());
    tcp.extend_from_slice(&segment.seq.to_be_bytes());
    tcp.extend_from_slice(&segment.ack.to_be_bytes());
    // Data offset in 32-bit words, then the flags.
    tcp.push(((header_len / 4) as u8) << 4);
    tcp.push(segment.flags);
    tcp.extend_from_slice(&WINDOW.to_be_bytes());
    tcp.extend_from_slice(&[0, 0]); // checksum, filled in below
    tcp.extend_from_slice(&[0, 0]); // urgent pointer
    tcp.extend_from_slice(options);
    tcp.extend_from_slice(segment.payload);
    ip_frame(hop, PROTO_TCP, tcp, 16, ip_id)
}

/// An Ethernet frame with an IP packet carrying one UDP datagram.
pub fn udp_frame(hop: Hop, payload: &[u8], ip_id: u16) -> Vec<u8> {
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&hop.src.port().to_be_bytes());
    udp.extend_from_slice(&hop.dst.port().to_be_bytes());
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // checksum, filled in below
    udp.extend_from_slice(payload);
    ip_frame(hop, PROTO_UDP, udp, 6, ip_id)
}

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Wraps a transport header and payload in IP and Ethernet, filling in the
/// transport checksum at `checksum_at`.
fn ip_frame(
    hop: Hop,
    proto: u8,
    mut transport: Vec<u8>,
    checksum_at: usize,
    ip_id: u16,
) -> Vec<u8> {
    let (src, dst) = same_family(hop.src.ip(), hop.dst.ip());
    let (src_mac, dst_mac) = if hop.from_local {
        (LOCAL_MAC, PEER_MAC)
    } else {
        (PEER_MAC, LOCAL_MAC)
    };
    let len = transport.len();
    let mut frame = Vec::with_capacity(14 + 40 + len);
    frame.extend_from_slice(&dst_mac);
    frame.extend_from_slice(&src_mac);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut pseudo = Checksum::default();
            pseudo.add(&s.octets());
            pseudo.add(&d.octets());
            pseudo.add(&[0, proto]);
            pseudo.add(&(len as u16).to_be_bytes());
            set_checksum(&mut transport, checksum_at, pseudo, proto);
            frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            let total = u16::try_from(20 + len).unwrap_or(u16::MAX);
            let mut ip = [0u8; 20];
            ip[0] = 0x45; // version 4, 5 words of header
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
            ip[6] = 0x40; // don't fragment
            ip[8] = 64; // TTL
            ip[9] = proto;
            ip[12..16].copy_from_slice(&s.octets());
            ip[16..20].copy_from_slice(&d.octets());
            let mut sum = Checksum::default();
            sum.add(&ip);
            ip[10..12].copy_from_slice(&sum.finish().to_be_bytes());
            frame.extend_from_slice(&ip);
        }
        (s, d) => {
            let (s, d) = (v6(s), v6(d));
            let mut pseudo = Checksum::default();
            pseudo.add(&s.octets());
            pseudo.add(&d.octets());
            pseudo.add(&(len as u32).to_be_bytes());
            pseudo.add(&[0, 0, 0, proto]);
            set_checksum(&mut transport, checksum_at, pseudo, proto);
            frame.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
            frame.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, no class or flow
            frame.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
            frame.push(proto);
            frame.push(64); // hop limit
            frame.extend_from_slice(&s.octets());
            frame.extend_from_slice(&d.octets());
        }
    }
    frame.extend_from_slice(&transport);
    frame
}

/// Both addresses in one family: an IPv4 address beside an IPv6 one is
/// written IPv4-mapped (`::ffff:127.0.0.1`), as the kernel sees it on a
/// dual-stack socket.
fn same_family(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    match (a, b) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => (a, b),
        _ => (IpAddr::V6(v6(a)), IpAddr::V6(v6(b))),
    }
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

fn set_checksum(transport: &mut [u8], at: usize, mut sum: Checksum, proto: u8) {
    sum.add(transport);
    let mut value = sum.finish();
    // A UDP checksum of 0 means "none": all ones stands for zero.
    if proto == PROTO_UDP && value == 0 {
        value = 0xffff;
    }
    if let Some(field) = transport.get_mut(at..at + 2) {
        field.copy_from_slice(&value.to_be_bytes());
    }
}

/// The Internet checksum (RFC 1071) over pieces added in order; every
/// piece but the last must have an even length.
#[derive(Debug, Default, Clone, Copy)]
struct Checksum(u64);

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        let mut pairs = bytes.chunks_exact(2);
        for pair in &mut pairs {
            self.0 += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
        if let [last] = pairs.remainder() {
            self.0 += u64::from(*last) << 8;
        }
    }

    fn finish(self) -> u16 {
        let mut sum = self.0;
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(src: &str, dst: &str) -> Hop {
        Hop {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            from_local: true,
        }
    }

    /// Sums a whole header or pseudo-header plus segment: 0 when the
    /// checksum inside is right.
    fn verify(parts: &[&[u8]]) -> u16 {
        let mut sum = Checksum::default();
        for p in parts {
            sum.add(p);
        }
        sum.finish()
    }

    #[test]
    fn the_internet_checksum_matches_rfc_1071s_example() {
        let mut sum = Checksum::default();
        sum.add(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(sum.finish(), !0xddf2);
    }

    #[test]
    fn an_ipv4_tcp_frame_has_right_lengths_and_checksums() {
        let seg = Segment {
            seq: 1000,
            ack: 2000,
            flags: flags::PSH | flags::ACK,
            payload: b"hello",
        };
        let f = tcp_frame(hop("127.0.0.1:5000", "127.0.0.2:80"), &seg, 7);
        assert_eq!(f.len(), 14 + 20 + 20 + 5);
        assert_eq!(&f[0..6], &PEER_MAC);
        assert_eq!(&f[6..12], &LOCAL_MAC);
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        let ip = &f[14..34];
        assert_eq!(u16::from_be_bytes([ip[2], ip[3]]), 45);
        assert_eq!(verify(&[ip]), 0);
        let tcp = &f[34..];
        assert_eq!(&tcp[0..4], &[0x13, 0x88, 0x00, 0x50]);
        assert_eq!(u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]), 1000);
        assert_eq!(tcp[12] >> 4, 5);
        assert_eq!(tcp[13], 0x18);
        let pseudo = [&ip[12..20], &[0, 6, 0, 25][..], tcp];
        assert_eq!(verify(&pseudo), 0);
        assert_eq!(&tcp[20..], b"hello");
    }

    #[test]
    fn a_syn_carries_mss_and_window_scale() {
        let seg = Segment {
            seq: 1,
            ack: 0,
            flags: flags::SYN,
            payload: b"",
        };
        let f = tcp_frame(hop("[::1]:5000", "[::1]:80"), &seg, 0);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        let ip = &f[14..54];
        assert_eq!(u16::from_be_bytes([ip[4], ip[5]]), 28);
        let tcp = &f[54..];
        assert_eq!(tcp[12] >> 4, 7);
        assert_eq!(&tcp[20..], &[2, 4, 0xff, 0xd7, 1, 3, 3, WINDOW_SCALE]);
        let pseudo = [&ip[8..40], &[0, 0, 0, 28, 0, 0, 0, 6][..], tcp];
        assert_eq!(verify(&pseudo), 0);
    }

    #[test]
    fn a_udp_frame_with_an_odd_payload_checks_out_and_mixed_families_map() {
        let f = udp_frame(hop("127.0.0.1:5000", "[::1]:53"), b"abc", 0);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        let ip = &f[14..54];
        assert_eq!(
            &ip[8..24],
            &"::ffff:127.0.0.1".parse::<Ipv6Addr>().unwrap().octets()
        );
        let udp = &f[54..];
        assert_eq!(udp.len(), 11);
        assert_eq!(u16::from_be_bytes([udp[4], udp[5]]), 11);
        let pseudo = [&ip[8..40], &[0, 0, 0, 11, 0, 0, 0, 17][..], udp];
        assert_eq!(verify(&pseudo), 0);
    }
}
