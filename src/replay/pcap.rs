//! Reading a packet capture (`.pcap` or `.pcapng`, as tcpdump, Wireshark's
//! dumpcap or `--pcap` write them) into a [`Transcript`]: the TCP and UDP
//! payloads of each flow, the client being the side that sent the first
//! SYN (or, without one, the first packet).
//!
//! Link layers read: Ethernet (with VLAN tags), raw IP, Linux cooked
//! (SLL, SLL2) and BSD loopback; then IPv4 (fragments are skipped) or IPv6
//! (extension headers skipped), then TCP (retransmitted bytes dropped by
//! sequence number) or UDP. Every length is checked: a cut or garbled
//! capture is refused with the packet or block it fails at, never a panic.
//!
//! A hand-written reader rather than a crate: the formats are small, and
//! the pcap crates at hand read pcapng timestamps as nanoseconds whatever
//! the interface's `if_tsresol` says (dumpcap writes microseconds).

use std::net::IpAddr;

use super::transcript::{Entry, Transcript, TranscriptError};
use crate::event::Direction;

/// True when `bytes` start like a pcap or pcapng file.
pub fn is_capture(bytes: &[u8]) -> bool {
    matches!(
        bytes.get(..4),
        Some([0xa1, 0xb2, 0xc3, 0xd4])
            | Some([0xd4, 0xc3, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0x3c, 0x4d])
            | Some([0x4d, 0x3c, 0xb2, 0xa1])
            | Some([0x0a, 0x0d, 0x0d, 0x0a])
    )
}

fn bad(what: impl Into<String>) -> TranscriptError {
    TranscriptError::Capture(what.into())
}

/// One captured frame: when (milliseconds since 1970), its link type and
/// its bytes.
struct Frame<'a> {
    at_ms: u64,
    link: u32,
    data: &'a [u8],
}

/// Reads a capture into a transcript (as a server saw it: `in` is what
/// the clients sent).
pub fn parse(bytes: &[u8]) -> Result<Transcript, TranscriptError> {
    let mut flows = Flows::default();
    let mut visit = |n: usize, frame: Frame<'_>| flows.add(n, frame);
    if bytes.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        read_pcapng(bytes, &mut visit)?;
    } else {
        read_pcap(bytes, &mut visit)?;
    }
    flows.error.map_or(Ok(()), Err)?;
    let mut transcript = flows.transcript;
    transcript.recorded_by_server = true;
    Ok(transcript)
}

/// A byte order for the file's fields.
#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let v: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(match self {
            Order::Little => u16::from_le_bytes(v),
            Order::Big => u16::from_be_bytes(v),
        })
    }

    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let v: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(match self {
            Order::Little => u32::from_le_bytes(v),
            Order::Big => u32::from_be_bytes(v),
        })
    }
}

/// Units of a timestamp to milliseconds, `per_second` units a second.
fn to_ms(units: u64, per_second: u64) -> u64 {
    let ms = u128::from(units) * 1000 / u128::from(per_second.max(1));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

fn read_pcap(
    bytes: &[u8],
    visit: &mut impl FnMut(usize, Frame<'_>),
) -> Result<(), TranscriptError> {
    let (order, nanos) = match bytes.get(..4) {
        Some([0xa1, 0xb2, 0xc3, 0xd4]) => (Order::Big, false),
        Some([0xd4, 0xc3, 0xb2, 0xa1]) => (Order::Little, false),
        Some([0xa1, 0xb2, 0x3c, 0x4d]) => (Order::Big, true),
        Some([0x4d, 0x3c, 0xb2, 0xa1]) => (Order::Little, true),
        _ => return Err(bad("not a pcap or pcapng file (unknown magic number)")),
    };
    let link = order
        .u32(bytes, 20)
        .ok_or_else(|| bad("the pcap header is cut short"))?
        & 0x0fff_ffff;
    let mut at = 24;
    let mut n = 0;
    while at < bytes.len() {
        n += 1;
        let header = |off| order.u32(bytes, at + off);
        let (Some(sec), Some(frac), Some(len)) = (header(0), header(4), header(8)) else {
            return Err(bad(format!("packet {n}: its record header is cut short")));
        };
        let start = at + 16;
        let data = start
            .checked_add(len as usize)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| bad(format!("packet {n}: cut short ({len} bytes announced)")))?;
        let per_second = if nanos { 1_000_000_000 } else { 1_000_000 };
        let at_ms = u64::from(sec) * 1000 + to_ms(u64::from(frac), per_second);
        visit(n, Frame { at_ms, link, data });
        at = start + data.len();
    }
    Ok(())
}

/// An interface of a pcapng section: its link type and timestamp units.
struct Interface {
    link: u32,
    per_second: u64,
}

fn read_pcapng(
    bytes: &[u8],
    visit: &mut impl FnMut(usize, Frame<'_>),
) -> Result<(), TranscriptError> {
    let mut order = Order::Little;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut at = 0;
    let mut n = 0;
    let mut last_ms = 0;
    while at < bytes.len() {
        let block_at = at;
        let cut = || bad(format!("the block at byte {block_at} is cut short"));
        let kind = Order::Little.u32(bytes, at).ok_or_else(cut)?;
        if kind == 0x0a0d_0d0a {
            order = match bytes.get(at + 8..at + 12) {
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => Order::Little,
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => Order::Big,
                _ => {
                    return Err(bad(format!(
                        "the section at byte {at} has a bad byte-order mark"
                    )))
                }
            };
            interfaces.clear();
        }
        let kind = order.u32(bytes, at).ok_or_else(cut)?;
        let len = order.u32(bytes, at + 4).ok_or_else(cut)? as usize;
        if len < 12 {
            return Err(bad(format!(
                "the block at byte {at} says it is {len} bytes long"
            )));
        }
        let block = at
            .checked_add(len)
            .and_then(|end| bytes.get(at..end))
            .ok_or_else(cut)?;
        let body_end = len - 4;
        match kind {
            // Interface description: link type and options (if_tsresol).
            1 => {
                let link = u32::from(order.u16(block, 8).ok_or_else(cut)?);
                let mut per_second = 1_000_000;
                let mut opt = 16;
                while let (Some(code), Some(olen)) =
                    (order.u16(block, opt), order.u16(block, opt + 2))
                {
                    if code == 0 || opt + 4 > body_end {
                        break;
                    }
                    if code == 9 {
                        if let Some(&v) = block.get(opt + 4) {
                            let exp = u32::from(v & 0x7f);
                            per_second = match v & 0x80 {
                                0 => 10u64.checked_pow(exp),
                                _ => 2u64.checked_pow(exp),
                            }
                            .ok_or_else(|| bad(format!("the interface at byte {at} has a timestamp resolution of {v:#x}")))?;
                        }
                    }
                    opt += 4 + usize::from(olen).div_ceil(4) * 4;
                }
                interfaces.push(Interface { link, per_second });
            }
            // Enhanced packet.
            6 => {
                n += 1;
                let field = |off| order.u32(block, off).ok_or_else(cut);
                let (iface, high, low, caplen) = (field(8)?, field(12)?, field(16)?, field(20)?);
                let data = 28usize
                    .checked_add(caplen as usize)
                    .filter(|end| *end <= body_end)
                    .and_then(|end| block.get(28..end))
                    .ok_or_else(|| {
                        bad(format!("packet {n}: cut short ({caplen} bytes announced)"))
                    })?;
                let interface = interfaces.get(iface as usize).ok_or_else(|| {
                    bad(format!(
                        "packet {n}: interface {iface} was not described before it"
                    ))
                })?;
                let units = u64::from(high) << 32 | u64::from(low);
                last_ms = to_ms(units, interface.per_second);
                visit(
                    n,
                    Frame {
                        at_ms: last_ms,
                        link: interface.link,
                        data,
                    },
                );
            }
            // Simple packet: no timestamp, interface 0.
            3 => {
                n += 1;
                let orig = order.u32(block, 8).ok_or_else(cut)? as usize;
                let data = block.get(12..body_end.min(12 + orig)).ok_or_else(cut)?;
                let interface = interfaces.first().ok_or_else(|| {
                    bad(format!("packet {n}: no interface was described before it"))
                })?;
                visit(
                    n,
                    Frame {
                        at_ms: last_ms,
                        link: interface.link,
                        data,
                    },
                );
            }
            _ => {}
        }
        at += len;
    }
    Ok(())
}

/// The transport payload of a frame.
struct Segment<'a> {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    tcp: Option<Tcp>,
    payload: &'a [u8],
}

/// What a TCP header says.
#[derive(Clone, Copy)]
struct Tcp {
    seq: u32,
    syn: bool,
    ack: bool,
}

/// `rest` when `ethertype` is IPv4 or IPv6.
fn by_ethertype(ethertype: u16, rest: &[u8]) -> Option<&[u8]> {
    matches!(ethertype, 0x0800 | 0x86dd).then_some(rest)
}

/// The IP packet inside a frame of link type `link`; `Err` for a link
/// type this reader does not know.
fn ip_of(link: u32, data: &[u8]) -> Result<Option<&[u8]>, String> {
    Ok(match link {
        // Ethernet, with 802.1Q / 802.1ad tags.
        1 => {
            let mut at = 12;
            loop {
                let Some(t) = data.get(at..at + 2) else { break None };
                let ethertype = u16::from_be_bytes([t[0], t[1]]);
                if matches!(ethertype, 0x8100 | 0x88a8) {
                    at += 4;
                    continue;
                }
                break data.get(at + 2..).and_then(|rest| by_ethertype(ethertype, rest));
            }
        }
        // Raw IP (either version).
        101 | 228 | 229 | 12 | 14 => Some(data),
        // BSD loopback: a 4-byte address family, then IP.
        0 | 108 => data.get(4..),
        // Linux cooked v1: protocol at 14.
        113 => data
            .get(14..16)
            .and_then(|t| by_ethertype(u16::from_be_bytes([t[0], t[1]]), data.get(16..)?)),
        // Linux cooked v2: protocol at 0.
        276 => data
            .get(0..2)
            .and_then(|t| by_ethertype(u16::from_be_bytes([t[0], t[1]]), data.get(20..)?)),
        other => {
            return Err(format!(
                "link type {other} is not read (Ethernet, raw IP, Linux cooked and loopback captures are)"
            ))
        }
    })
}

/// The TCP or UDP segment in an IP packet; `None` for anything else
/// (other protocols, fragments, cut packets).
fn segment(ip: &[u8]) -> Option<Segment<'_>> {
    let version = ip.first()? >> 4;
    let (src, dst, proto, mut payload) = match version {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            if frag & 0x3fff != 0 || ihl < 20 {
                return None;
            }
            let addr = |at: usize| -> Option<IpAddr> {
                let b: [u8; 4] = ip.get(at..at + 4)?.try_into().ok()?;
                Some(IpAddr::from(b))
            };
            (
                addr(12)?,
                addr(16)?,
                *ip.get(9)?,
                ip.get(ihl..total.max(ihl).min(ip.len()))?,
            )
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            let addr = |at: usize| -> Option<IpAddr> {
                let b: [u8; 16] = ip.get(at..at + 16)?.try_into().ok()?;
                Some(IpAddr::from(b))
            };
            let mut next = *ip.get(6)?;
            let mut rest = ip.get(40..(40 + len).min(ip.len()))?;
            // Hop-by-hop, routing and destination options; a fragment is skipped.
            while matches!(next, 0 | 43 | 60) {
                let hdr_len = (usize::from(*rest.get(1)?) + 1) * 8;
                next = *rest.first()?;
                rest = rest.get(hdr_len..)?;
            }
            (addr(8)?, addr(24)?, next, rest)
        }
        _ => return None,
    };
    let port = |at: usize| {
        Some(u16::from_be_bytes([
            *payload.get(at)?,
            *payload.get(at + 1)?,
        ]))
    };
    let (sport, dport) = (port(0)?, port(2)?);
    let tcp = match proto {
        6 => {
            let seq = u32::from_be_bytes(payload.get(4..8)?.try_into().ok()?);
            let flags = *payload.get(13)?;
            let offset = usize::from(payload.get(12)? >> 4) * 4;
            let tcp = Tcp {
                seq,
                syn: flags & 0x02 != 0,
                ack: flags & 0x10 != 0,
            };
            payload = payload.get(offset.max(20)..)?;
            Some(tcp)
        }
        17 => {
            let len = usize::from(port(4)?);
            payload = payload.get(8..len.max(8).min(payload.len()))?;
            None
        }
        _ => return None,
    };
    Some(Segment {
        src: (src, sport),
        dst: (dst, dport),
        tcp,
        payload,
    })
}

/// One flow: its ends, which one is the client, and the next expected
/// TCP sequence number each way.
struct Flow {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    label: String,
    next_seq: [Option<u32>; 2],
}

/// The flows seen so far and the transcript they make.
#[derive(Default)]
struct Flows {
    flows: Vec<Flow>,
    transcript: Transcript,
    error: Option<TranscriptError>,
}

impl Flows {
    fn add(&mut self, n: usize, frame: Frame<'_>) {
        if self.error.is_some() {
            return;
        }
        let ip = match ip_of(frame.link, frame.data) {
            Ok(Some(ip)) => ip,
            Ok(None) => return,
            Err(e) => {
                self.error = Some(bad(format!("packet {n}: {e}")));
                return;
            }
        };
        let Some(seg) = segment(ip) else { return };
        let found = self.flows.iter().position(|f| {
            (f.client == seg.src && f.server == seg.dst)
                || (f.client == seg.dst && f.server == seg.src)
        });
        let index = match found {
            Some(i) => i,
            None => {
                // A new flow: its client sent the first SYN, or the first
                // packet seen (a SYN-ACK means the other side).
                let answer = seg.tcp.is_some_and(|t| t.syn && t.ack);
                let (client, server) = if answer {
                    (seg.dst, seg.src)
                } else {
                    (seg.src, seg.dst)
                };
                let label = format!(
                    "#{} {}",
                    self.flows.len() + 1,
                    std::net::SocketAddr::from(client)
                );
                self.transcript.opens.push((label.clone(), frame.at_ms));
                self.flows.push(Flow {
                    client,
                    server,
                    label,
                    next_seq: [None, None],
                });
                self.flows.len() - 1
            }
        };
        let Some(flow) = self.flows.get_mut(index) else {
            return;
        };
        let from_client = flow.client == seg.src;
        let way = usize::from(!from_client);
        let mut payload = seg.payload;
        if let (Some(tcp), Some(next)) = (seg.tcp, flow.next_seq.get_mut(way)) {
            let start = if tcp.syn {
                tcp.seq.wrapping_add(1)
            } else {
                tcp.seq
            };
            if let Some(expected) = *next {
                // Bytes before the expected sequence number were seen already.
                let behind = expected.wrapping_sub(start);
                if behind < 0x8000_0000 {
                    payload = payload.get(behind as usize..).unwrap_or_default();
                }
            }
            let end = start.wrapping_add(seg.payload.len() as u32);
            if next.is_none_or(|e| end.wrapping_sub(e) < 0x8000_0000) {
                *next = Some(end);
            }
        }
        if payload.is_empty() {
            return;
        }
        self.transcript.entries.push(Entry {
            line: n,
            conn: flow.label.clone(),
            dir: if from_client {
                Direction::In
            } else {
                Direction::Out
            },
            at_ms: frame.at_ms,
            bytes: payload.to_vec(),
            eol_lost: false,
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An Ethernet/IPv4/TCP frame from `src` to `dst` (ports) with `flags`.
    pub(crate) fn tcp_frame(src: u16, dst: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = 20 + 20 + payload.len();
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        f.extend_from_slice(&src.to_be_bytes());
        f.extend_from_slice(&dst.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f.extend_from_slice(&[0; 4]); // Ethernet padding, not payload
        f
    }

    /// A little-endian microsecond pcap of `frames` (ms, bytes).
    pub(crate) fn pcap(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (ms, data) in frames {
            out.extend_from_slice(&((ms / 1000) as u32).to_le_bytes());
            out.extend_from_slice(&((ms % 1000 * 1000) as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    /// The same frames as a big-endian pcapng with a millisecond
    /// `if_tsresol` (3).
    fn pcapng(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let block = |kind: u32, body: &[u8]| {
            let len = (12 + body.len()) as u32;
            let mut b = kind.to_be_bytes().to_vec();
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(body);
            b.extend_from_slice(&len.to_be_bytes());
            b
        };
        let mut out = block(
            0x0a0d_0d0a,
            &[
                0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        );
        out.extend(block(
            1,
            &[
                0, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 9, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0,
            ],
        ));
        for (ms, data) in frames {
            let mut body = vec![0, 0, 0, 0];
            body.extend_from_slice(&((ms >> 32) as u32).to_be_bytes());
            body.extend_from_slice(&(*ms as u32).to_be_bytes());
            body.extend_from_slice(&(data.len() as u32).to_be_bytes());
            body.extend_from_slice(&(data.len() as u32).to_be_bytes());
            body.extend_from_slice(data);
            body.resize(body.len().div_ceil(4) * 4, 0);
            out.extend(block(6, &body));
        }
        out
    }

    fn session() -> Vec<(u64, Vec<u8>)> {
        vec![
            (1_000, tcp_frame(40000, 502, 99, 0x02, b"")),
            (1_001, tcp_frame(502, 40000, 500, 0x12, b"")),
            (1_100, tcp_frame(40000, 502, 100, 0x18, b"\x01\x03")),
            (1_100, tcp_frame(40000, 502, 100, 0x18, b"\x01\x03")), // retransmitted
            (1_150, tcp_frame(502, 40000, 501, 0x18, b"ok")),
            (1_300, tcp_frame(40000, 502, 101, 0x18, b"\x03\x04")), // overlaps one byte
        ]
    }

    #[test]
    fn pcap_and_pcapng_give_each_flow_s_payloads_once() {
        for bytes in [pcap(&session()), pcapng(&session())] {
            assert!(is_capture(&bytes));
            let t = parse(&bytes).unwrap();
            let got: Vec<(Direction, Vec<u8>, u64)> = t
                .entries
                .iter()
                .map(|e| (e.dir, e.bytes.clone(), e.at_ms))
                .collect();
            assert_eq!(
                got,
                [
                    (Direction::In, vec![1, 3], 1_100),
                    (Direction::Out, b"ok".to_vec(), 1_150),
                    (Direction::In, vec![4], 1_300),
                ]
            );
            assert_eq!(t.entries[0].conn, "#1 127.0.0.1:40000");
            assert_eq!(t.opens, [("#1 127.0.0.1:40000".to_string(), 1_000)]);
        }
    }

    #[test]
    fn cut_or_strange_captures_say_where() {
        let mut bytes = pcap(&session());
        bytes.truncate(bytes.len() - 3);
        let e = parse(&bytes).unwrap_err().to_string();
        assert!(e.contains("packet 6: cut short"), "{e}");
        let mut bytes = pcap(&session());
        bytes[20] = 147; // a user link type
        let e = parse(&bytes).unwrap_err().to_string();
        assert!(e.contains("packet 1: link type 147 is not read"), "{e}");
        assert!(!is_capture(b"[10:00"));
    }

    proptest! {
        #[test]
        fn no_capture_panics(
            frames in proptest::collection::vec((any::<u32>(), proptest::collection::vec(any::<u8>(), 0..80)), 0..6),
            cut in any::<usize>(),
            flip in any::<(usize, u8)>(),
        ) {
            let frames: Vec<(u64, Vec<u8>)> = frames.into_iter().map(|(t, d)| (u64::from(t), d)).collect();
            for mut bytes in [pcap(&frames), pcapng(&frames), pcap(&session()), pcapng(&session())] {
                let len = bytes.len();
                if let Some(b) = bytes.get_mut(flip.0 % len.max(1)) {
                    *b ^= flip.1;
                }
                bytes.truncate(cut % (len + 1));
                let _ = parse(&bytes);
            }
        }
    }
}
