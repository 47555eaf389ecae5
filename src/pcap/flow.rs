//! One captured socket's state: for TCP the sequence numbers of both sides
//! (so that they add up across the handshake, every segment and the close),
//! for UDP the addresses; each step returns the frames to write.

use std::net::SocketAddr;

use super::packet::{self, flags, Hop, Segment, MAX_TCP_PAYLOAD, MAX_UDP_PAYLOAD};

/// A synthesised frame and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The Ethernet frame.
    pub bytes: Vec<u8>,
    /// True when sockmate's side sent it (outbound).
    pub from_local: bool,
}

/// One side of a TCP connection.
#[derive(Debug, Clone, Copy)]
struct Side {
    /// The sequence number of its next byte.
    next: u32,
    /// It has sent its FIN (or a RST).
    done: bool,
    /// IPv4 identification of its next packet.
    ip_id: u16,
}

impl Side {
    fn new(isn: u32) -> Side {
        Side {
            next: isn,
            done: false,
            ip_id: (isn >> 16) as u16,
        }
    }
}

/// A TCP connection in the capture.
#[derive(Debug, Clone)]
pub struct TcpFlow {
    local_addr: SocketAddr,
    peer_addr: SocketAddr,
    local: Side,
    peer: Side,
}

impl TcpFlow {
    /// Starts a connection with the three-way handshake (the side that
    /// connected sends the SYN); `isns` are the two initial sequence
    /// numbers, ours first.
    pub fn open(
        local: SocketAddr,
        peer: SocketAddr,
        we_connected: bool,
        isns: (u32, u32),
    ) -> (TcpFlow, Vec<Frame>) {
        let mut flow = TcpFlow {
            local_addr: local,
            peer_addr: peer,
            local: Side::new(isns.0),
            peer: Side::new(isns.1),
        };
        let client = we_connected;
        let frames = vec![
            flow.segment(client, flags::SYN, b"", 1),
            flow.segment(!client, flags::SYN | flags::ACK, b"", 1),
            flow.segment(client, flags::ACK, b"", 0),
        ];
        (flow, frames)
    }

    /// Bytes sent by one side: one segment per [`MAX_TCP_PAYLOAD`] bytes.
    /// Nothing once that side has ended.
    pub fn data(&mut self, from_local: bool, bytes: &[u8]) -> Vec<Frame> {
        if self.side(from_local).done {
            return Vec::new();
        }
        bytes
            .chunks(MAX_TCP_PAYLOAD)
            .map(|chunk| {
                let len = chunk.len() as u32;
                self.segment(from_local, flags::PSH | flags::ACK, chunk, len)
            })
            .collect()
    }

    /// One side ends its writes: its FIN and the other side's ACK of it.
    /// Nothing if it had already ended.
    pub fn fin(&mut self, from_local: bool) -> Vec<Frame> {
        if self.side(from_local).done {
            return Vec::new();
        }
        let fin = self.segment(from_local, flags::FIN | flags::ACK, b"", 1);
        self.side_mut(from_local).done = true;
        let ack = self.segment(!from_local, flags::ACK, b"", 0);
        vec![fin, ack]
    }

    /// The connection ends: FINs from the sides that have not sent one
    /// (ours first), or a RST from one side when it was cut.
    pub fn close(&mut self, reset_from_local: Option<bool>) -> Vec<Frame> {
        match reset_from_local {
            Some(from_local) => {
                if self.local.done && self.peer.done {
                    return Vec::new();
                }
                let rst = self.segment(from_local, flags::RST | flags::ACK, b"", 0);
                self.local.done = true;
                self.peer.done = true;
                vec![rst]
            }
            None => {
                let mut frames = self.fin(true);
                frames.extend(self.fin(false));
                frames
            }
        }
    }

    fn side(&self, from_local: bool) -> &Side {
        if from_local {
            &self.local
        } else {
            &self.peer
        }
    }

    fn side_mut(&mut self, from_local: bool) -> &mut Side {
        if from_local {
            &mut self.local
        } else {
            &mut self.peer
        }
    }

    /// A segment from one side with its current sequence number,
    /// acknowledging everything the other side sent; the sender's sequence
    /// then moves on by `advance` (payload length, or 1 for SYN and FIN).
    fn segment(&mut self, from_local: bool, bits: u8, payload: &[u8], advance: u32) -> Frame {
        let hop = Hop {
            src: self.local_addr,
            dst: self.peer_addr,
            from_local: true,
        };
        let hop = if from_local { hop } else { hop.reversed() };
        let other_next = self.side(!from_local).next;
        let ack = if bits & flags::ACK != 0 {
            other_next
        } else {
            0
        };
        let me = self.side_mut(from_local);
        let segment = Segment {
            seq: me.next,
            ack,
            flags: bits,
            payload,
        };
        let bytes = packet::tcp_frame(hop, &segment, me.ip_id);
        me.next = me.next.wrapping_add(advance);
        me.ip_id = me.ip_id.wrapping_add(1);
        Frame { bytes, from_local }
    }
}

/// A UDP flow in the capture: one frame per datagram.
#[derive(Debug, Clone)]
pub struct UdpFlow {
    local_addr: SocketAddr,
    peer_addr: SocketAddr,
    ip_id: u16,
}

impl UdpFlow {
    /// A flow between our address and the peer's.
    pub fn new(local: SocketAddr, peer: SocketAddr) -> UdpFlow {
        UdpFlow {
            local_addr: local,
            peer_addr: peer,
            ip_id: 0,
        }
    }

    /// One datagram (split only if longer than IPv4 can carry).
    pub fn datagram(&mut self, from_local: bool, bytes: &[u8]) -> Vec<Frame> {
        let hop = Hop {
            src: self.local_addr,
            dst: self.peer_addr,
            from_local: true,
        };
        let hop = if from_local { hop } else { hop.reversed() };
        let pieces: Vec<&[u8]> = if bytes.is_empty() {
            vec![bytes]
        } else {
            bytes.chunks(MAX_UDP_PAYLOAD).collect()
        };
        pieces
            .into_iter()
            .map(|piece| {
                self.ip_id = self.ip_id.wrapping_add(1);
                Frame {
                    bytes: packet::udp_frame(hop, piece, self.ip_id),
                    from_local,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq_ack_flags(f: &Frame) -> (u32, u32, u8, usize) {
        let tcp = &f.bytes[34..];
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        let ack = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
        let header = usize::from(tcp[12] >> 4) * 4;
        (seq, ack, tcp[13], tcp.len() - header)
    }

    #[test]
    fn sequence_numbers_add_up_from_handshake_to_close() {
        let (mut flow, hs) = TcpFlow::open(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
            true,
            (100, 5000),
        );
        let hs: Vec<_> = hs.iter().map(seq_ack_flags).collect();
        assert_eq!(
            hs,
            [
                (100, 0, flags::SYN, 0),
                (5000, 101, flags::SYN | flags::ACK, 0),
                (101, 5001, flags::ACK, 0),
            ]
        );
        let out = flow.data(true, b"GET /");
        assert_eq!(seq_ack_flags(&out[0]), (101, 5001, 0x18, 5));
        assert!(out[0].from_local);
        let back = flow.data(false, &vec![b'x'; MAX_TCP_PAYLOAD + 3]);
        assert_eq!(back.len(), 2);
        assert_eq!(seq_ack_flags(&back[0]).0, 5001);
        assert_eq!(
            seq_ack_flags(&back[1]),
            (5001 + MAX_TCP_PAYLOAD as u32, 106, 0x18, 3)
        );
        let fin = flow.fin(false);
        let end = 5001 + MAX_TCP_PAYLOAD as u32 + 3;
        assert_eq!(seq_ack_flags(&fin[0]), (end, 106, 0x11, 0));
        assert_eq!(seq_ack_flags(&fin[1]), (106, end + 1, 0x10, 0));
        assert!(flow.data(false, b"late").is_empty());
        let close = flow.close(None);
        assert_eq!(close.len(), 2);
        assert_eq!(seq_ack_flags(&close[0]), (106, end + 1, 0x11, 0));
        assert_eq!(seq_ack_flags(&close[1]), (end + 1, 107, 0x10, 0));
        assert!(flow.close(None).is_empty());
    }

    #[test]
    fn a_server_side_flow_gets_the_syn_from_the_peer_and_a_cut_is_one_rst() {
        let (mut flow, hs) = TcpFlow::open(
            "127.0.0.1:80".parse().unwrap(),
            "127.0.0.1:40000".parse().unwrap(),
            false,
            (u32::MAX, 7),
        );
        assert!(!hs[0].from_local && hs[1].from_local);
        // The sequence wraps around.
        assert_eq!(seq_ack_flags(&hs[1]), (u32::MAX, 8, 0x12, 0));
        assert_eq!(seq_ack_flags(&flow.data(true, b"a")[0]).0, 0);
        let rst = flow.close(Some(false));
        assert_eq!(rst.len(), 1);
        assert_eq!(seq_ack_flags(&rst[0]).2, flags::RST | flags::ACK);
        assert!(flow.close(None).is_empty());
    }

    #[test]
    fn each_datagram_is_one_frame() {
        let mut flow = UdpFlow::new(
            "127.0.0.1:5000".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
        );
        assert_eq!(flow.datagram(false, b"").len(), 1);
        let f = flow.datagram(true, b"query");
        assert_eq!(f.len(), 1);
        assert_eq!(&f[0].bytes[42..], b"query");
    }
}
