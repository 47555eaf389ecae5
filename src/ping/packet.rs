//! ICMP echo messages (RFC 792, RFC 4443): building a request, reading a
//! reply, and the Internet checksum (RFC 1071). Pure functions, no I/O.

/// ICMPv4 echo request type.
pub const ECHO_REQUEST_V4: u8 = 8;
/// ICMPv4 echo reply type.
pub const ECHO_REPLY_V4: u8 = 0;
/// ICMPv6 echo request type.
pub const ECHO_REQUEST_V6: u8 = 128;
/// ICMPv6 echo reply type.
pub const ECHO_REPLY_V6: u8 = 129;

/// Bytes of the ICMP echo header: type, code, checksum, identifier,
/// sequence number.
pub const ICMP_HEADER: usize = 8;

/// Bytes of an IPv4 header without options (ping(8)'s `56(84)`).
pub const IPV4_HEADER: usize = 20;

/// Bytes of an IPv6 header.
pub const IPV6_HEADER: usize = 40;

/// The Internet checksum: the ones' complement of the ones' complement sum
/// of the data as big-endian 16-bit words (an odd last byte is padded with
/// zero).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request with `payload`. ICMPv4 gets its checksum here; ICMPv6's
/// covers a pseudo-header with the addresses, so the kernel fills it in.
pub fn echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(ICMP_HEADER + payload.len());
    packet.push(if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 });
    packet.push(0);
    packet.extend_from_slice(&[0, 0]);
    packet.extend_from_slice(&ident.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(payload);
    if !v6 {
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// A payload of `size` bytes counting up (0, 1, 2, … wrapping at 256), so
/// a corrupted echo is easy to spot in a capture. The send time is kept by
/// the sender, not in the packet.
pub fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 256) as u8).collect()
}

/// An echo reply as read off a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoReply<'a> {
    /// The identifier (the kernel's for a datagram socket).
    pub ident: u16,
    /// The sequence number.
    pub seq: u16,
    /// The ICMP message's length (header and payload), as ping(8) counts
    /// "bytes from".
    pub icmp_len: usize,
    /// The echoed payload.
    pub payload: &'a [u8],
    /// The TTL from the IPv4 header, when the packet carried one.
    pub ttl: Option<u8>,
}

/// Reads an echo reply from what a socket returned: with `ip_header`, an
/// IPv4 packet (a raw IPv4 socket gets the IP header, which also gives the
/// TTL); without, the ICMP message alone. Anything else (another ICMP type,
/// a truncated packet, a bad ICMPv4 checksum) is `None`.
pub fn parse_reply(v6: bool, ip_header: bool, packet: &[u8]) -> Option<EchoReply<'_>> {
    let (icmp, ttl) = if ip_header {
        let first = *packet.first()?;
        if first >> 4 != 4 {
            return None;
        }
        let header = usize::from(first & 0x0f) * 4;
        if header < IPV4_HEADER {
            return None;
        }
        (packet.get(header..)?, packet.get(8).copied())
    } else {
        (packet, None)
    };
    let header = icmp.get(..ICMP_HEADER)?;
    let reply_type = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    if header[0] != reply_type || header[1] != 0 {
        return None;
    }
    // A datagram socket's kernel has checked the checksum; a raw IPv4
    // socket gets packets before anyone has.
    if !v6 && ip_header && checksum(icmp) != 0 {
        return None;
    }
    Some(EchoReply {
        ident: u16::from_be_bytes([header[4], header[5]]),
        seq: u16::from_be_bytes([header[6], header[7]]),
        icmp_len: icmp.len(),
        payload: icmp.get(ICMP_HEADER..)?,
        ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the
        // checksum is its complement.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0x01]), !0x0100);
    }

    #[test]
    fn a_request_checks_and_reads_back_as_a_reply_once_its_type_is_flipped() {
        let mut packet = echo_request(false, 0x1234, 7, b"hello");
        assert_eq!(
            checksum(&packet),
            0,
            "a packet with its checksum sums to zero"
        );
        assert_eq!(packet[0], ECHO_REQUEST_V4);
        assert_eq!(
            parse_reply(false, false, &packet),
            None,
            "a request is no reply"
        );
        packet[0] = ECHO_REPLY_V4;
        packet[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 63, 1, 0, 0];
        ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        ip.extend_from_slice(&packet);
        let reply = parse_reply(false, true, &ip).unwrap();
        assert_eq!((reply.ident, reply.seq, reply.ttl), (0x1234, 7, Some(63)));
        assert_eq!((reply.payload, reply.icmp_len), (&b"hello"[..], 13));
        ip[20 + 8] ^= 1;
        assert_eq!(parse_reply(false, true, &ip), None, "bad checksum");
    }

    #[test]
    fn icmpv6_leaves_the_checksum_to_the_kernel() {
        let mut packet = echo_request(true, 1, 2, &pattern(4));
        assert_eq!((packet[0], &packet[2..4]), (ECHO_REQUEST_V6, &[0u8, 0][..]));
        packet[0] = ECHO_REPLY_V6;
        let reply = parse_reply(true, false, &packet).unwrap();
        assert_eq!((reply.seq, reply.payload), (2, &[0u8, 1, 2, 3][..]));
        assert_eq!(parse_reply(true, false, &packet[..7]), None);
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80), v6: bool, ip: bool) {
            let _ = parse_reply(v6, ip, &bytes);
        }

        #[test]
        fn every_request_sums_to_zero(payload in proptest::collection::vec(any::<u8>(), 0..300), ident: u16, seq: u16) {
            prop_assert_eq!(checksum(&echo_request(false, ident, seq, &payload)), 0);
        }
    }
}
