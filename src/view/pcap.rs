//! `--pcap FILE`: the sink that writes every connection's traffic as
//! synthesised packets (see [`crate::pcap`]).
//!
//! Each connection's `open` names the sockets under it ([`Wire`]): a TCP
//! leg gets its handshake there, one segment per `data` event, its FIN at
//! an `eof` and FINs (or a RST when it was cut) at the `close`; a UDP leg
//! one datagram per `data`; a leg without IP addresses (Unix, serial) one
//! raw packet per `data` on the bytes interface, with its direction. A
//! relay's two legs are two streams: bytes from the client (`In`) cross the
//! client leg towards sockmate, then the target leg away from it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::SystemTime;

use super::Sink;
use crate::error::NetErrorKind;
use crate::event::leg::{Leg, Wire};
use crate::event::{CloseReason, Direction, Event, EventKind};
use crate::pcap::file::{PcapFile, BYTES, ETHERNET};
use crate::pcap::flow::{Frame, TcpFlow, UdpFlow};
use crate::pcap::PcapOptions;

/// The most bytes one raw packet on the bytes interface carries; longer
/// reads become several packets.
const MAX_RAW_PAYLOAD: usize = 65_535;

/// The upper-PDU header of a raw packet: the "data" dissector (tag 12,
/// length 4), then the end of the tags.
const UPPER_PDU_DATA: [u8; 12] = [0, 12, 0, 4, b'd', b'a', b't', b'a', 0, 0, 0, 0];

/// Writes the capture file.
pub struct PcapSink {
    /// `None` once writing failed (the failure was said once).
    file: Option<PcapFile>,
    conns: HashMap<u64, Captured>,
}

/// One connection's legs.
struct Captured {
    near: Flow,
    far: Option<Flow>,
}

/// One leg's state.
enum Flow {
    Tcp(TcpFlow),
    Udp(UdpFlow),
    /// A leg without addresses; the name is said with its first packet.
    Bytes(Option<String>),
}

impl PcapSink {
    /// Creates the capture file (truncating an old one); a path that
    /// cannot be created is an error naming it.
    pub fn create(opts: &PcapOptions) -> io::Result<PcapSink> {
        Ok(PcapSink {
            file: Some(PcapFile::create(&opts.path, opts.max)?),
            conns: HashMap::new(),
        })
    }

    /// Writes the capture into `file`, already opened at `path` (no
    /// rotation): the UI's "Record to file" with a `.pcapng` name.
    pub fn from_file(file: std::fs::File, path: &std::path::Path) -> io::Result<PcapSink> {
        Ok(PcapSink {
            file: Some(PcapFile::from_file(file, path, None)?),
            conns: HashMap::new(),
        })
    }

    fn open(&mut self, id: u64, wire: &Wire, time: SystemTime) -> io::Result<()> {
        let mut packets = Vec::new();
        let near = start(id, &wire.near, &mut packets);
        let far = wire.far.as_ref().map(|leg| start(id, leg, &mut packets));
        self.conns.insert(id, Captured { near, far });
        for (frame, comment) in packets {
            self.write(ETHERNET, time, &frame, comment.as_deref())?;
        }
        Ok(())
    }

    fn data(&mut self, id: u64, dir: Direction, bytes: &[u8], time: SystemTime) -> io::Result<()> {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        // Into sockmate on the near leg, then on to the target; or from the
        // target, then out to the client.
        let mut out = Vec::new();
        match (dir, conn.far.as_mut()) {
            (Direction::In, far) => {
                out.extend(carry(&mut conn.near, false, bytes));
                if let Some(far) = far {
                    out.extend(carry(far, true, bytes));
                }
            }
            (Direction::Out, Some(far)) => {
                out.extend(carry(far, false, bytes));
                out.extend(carry(&mut conn.near, true, bytes));
            }
            (Direction::Out, None) => out.extend(carry(&mut conn.near, true, bytes)),
        }
        for (interface, frame, comment) in out {
            self.write(interface, time, &frame, comment.as_deref())?;
        }
        Ok(())
    }

    fn eof(&mut self, id: u64, dir: Direction, time: SystemTime) -> io::Result<()> {
        let frames = match self.conns.get_mut(&id) {
            Some(Captured {
                near: Flow::Tcp(flow),
                ..
            }) => flow.fin(dir == Direction::Out),
            _ => Vec::new(),
        };
        for frame in frames {
            self.write(ETHERNET, time, &frame, None)?;
        }
        Ok(())
    }

    fn close(&mut self, id: u64, reason: &CloseReason, time: SystemTime) -> io::Result<()> {
        let Some(conn) = self.conns.remove(&id) else {
            return Ok(());
        };
        // Reset by the peer: its RST; cut here for another error: ours.
        let reset = match reason {
            CloseReason::Error(e) => Some(e.kind != NetErrorKind::Reset),
            _ => None,
        };
        let mut frames = Vec::new();
        for (flow, reset) in [(Some(conn.near), reset), (conn.far, reset.map(|_| true))] {
            if let Some(Flow::Tcp(mut flow)) = flow {
                frames.extend(flow.close(reset));
            }
        }
        for frame in frames {
            self.write(ETHERNET, time, &frame, None)?;
        }
        // A finished connection is on disk (the file can be opened while
        // sockmate runs on).
        self.flush();
        Ok(())
    }

    fn flush(&mut self) {
        if let Some(file) = self.file.as_mut() {
            if let Err(e) = file.flush() {
                let _ = writeln!(io::stderr().lock(), "{e}; the capture stops here");
                self.file = None;
            }
        }
    }

    /// Writes one packet; a failure is said once on stderr and ends the
    /// capture (the connections go on).
    fn write(
        &mut self,
        interface: u32,
        time: SystemTime,
        frame: &Frame,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        if let Err(e) = file.packet(interface, time, &frame.bytes, frame.from_local, comment) {
            let _ = writeln!(io::stderr().lock(), "{e}; the capture stops here");
            self.file = None;
        }
        Ok(())
    }
}

/// A leg's state at its `open`, and the packets that start it (a TCP
/// handshake, with a comment naming the connection on its first packet).
fn start(id: u64, leg: &Leg, packets: &mut Vec<(Frame, Option<String>)>) -> Flow {
    match leg {
        Leg::Tcp {
            local,
            peer,
            we_connected,
            decrypted,
        } => {
            let (flow, frames) = TcpFlow::open(
                *local,
                *peer,
                *we_connected,
                (fastrand::u32(..), fastrand::u32(..)),
            );
            let comment = match decrypted {
                Some(layer) => format!(
                    "sockmate connection {id}: {layer}; the segments carry the application bytes after {layer} (decrypted, unframed), not the bytes on the wire"
                ),
                None => format!("sockmate connection {id}"),
            };
            let mut comment = Some(comment);
            for frame in frames {
                packets.push((frame, comment.take()));
            }
            Flow::Tcp(flow)
        }
        Leg::Udp { local, peer } => Flow::Udp(UdpFlow::new(*local, *peer)),
        Leg::Bytes { name } => Flow::Bytes(Some(format!("sockmate connection {id}: {name}"))),
    }
}

/// The packets (with their interface and comment) for `bytes` crossing one
/// leg; `from_local` when sockmate sent them on it.
fn carry(flow: &mut Flow, from_local: bool, bytes: &[u8]) -> Vec<(u32, Frame, Option<String>)> {
    match flow {
        Flow::Tcp(tcp) => tcp
            .data(from_local, bytes)
            .into_iter()
            .map(|f| (ETHERNET, f, None))
            .collect(),
        Flow::Udp(udp) => udp
            .datagram(from_local, bytes)
            .into_iter()
            .map(|f| (ETHERNET, f, None))
            .collect(),
        Flow::Bytes(name) => {
            let pieces: Vec<&[u8]> = if bytes.is_empty() {
                vec![bytes]
            } else {
                bytes.chunks(MAX_RAW_PAYLOAD).collect()
            };
            pieces
                .into_iter()
                .map(|piece| {
                    let mut data = Vec::with_capacity(UPPER_PDU_DATA.len() + piece.len());
                    data.extend_from_slice(&UPPER_PDU_DATA);
                    data.extend_from_slice(piece);
                    (
                        BYTES,
                        Frame {
                            bytes: data,
                            from_local,
                        },
                        name.take(),
                    )
                })
                .collect()
        }
    }
}

impl Sink for PcapSink {
    fn wants_sent_data(&self) -> bool {
        true
    }

    fn wants_received_data(&self) -> bool {
        true
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        let time = event.time;
        match &event.kind {
            EventKind::Open {
                conn,
                wire: Some(wire),
                ..
            } => self.open(conn.id, wire, time),
            EventKind::Data {
                conn, dir, bytes, ..
            } => self.data(conn.id, *dir, bytes, time),
            EventKind::Eof { conn, dir } => self.eof(conn.id, *dir, time),
            EventKind::Close { conn, reason, .. } => self.close(conn.id, reason, time),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ConnInfo, Counters};
    use bytes::Bytes;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::PcapNgReader;
    use std::time::UNIX_EPOCH;

    /// What a written packet says: interface, direction flags, comment,
    /// and for Ethernet frames the ports and payload (no SYN options).
    #[derive(Debug, PartialEq)]
    struct Seen {
        interface: u32,
        outbound: bool,
        comment: Option<String>,
        ports: Option<(u16, u16)>,
        payload: Vec<u8>,
    }

    fn read_back(path: &std::path::Path) -> Vec<Seen> {
        let mut reader = PcapNgReader::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut seen = Vec::new();
        while let Some(block) = reader.next_block() {
            let Some(epb) = block.unwrap().into_enhanced_packet() else {
                continue;
            };
            let mut outbound = false;
            let mut comment = None;
            for option in &epb.options {
                match option {
                    EnhancedPacketOption::Flags(f) => outbound = f & 0b11 == 0b10,
                    EnhancedPacketOption::Comment(c) => comment = Some(c.to_string()),
                    _ => {}
                }
            }
            let data = epb.data.to_vec();
            let (ports, payload) = if epb.interface_id == ETHERNET {
                let tcp = &data[34..];
                let header = usize::from(tcp[12] >> 4) * 4;
                (
                    Some((
                        u16::from_be_bytes([tcp[0], tcp[1]]),
                        u16::from_be_bytes([tcp[2], tcp[3]]),
                    )),
                    tcp[header..].to_vec(),
                )
            } else {
                (None, data[UPPER_PDU_DATA.len()..].to_vec())
            };
            seen.push(Seen {
                interface: epb.interface_id,
                outbound,
                comment,
                ports,
                payload,
            });
        }
        seen
    }

    fn event(kind: EventKind) -> Event {
        Event {
            time: UNIX_EPOCH,
            kind,
        }
    }

    fn tcp(local: &str, peer: &str, we_connected: bool) -> Leg {
        Leg::Tcp {
            local: local.parse().unwrap(),
            peer: peer.parse().unwrap(),
            we_connected,
            decrypted: None,
        }
    }

    fn run(wire: Wire, data: &[(Direction, &'static [u8])]) -> Vec<Seen> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pcapng");
        let mut sink = PcapSink::create(&PcapOptions {
            path: path.clone(),
            max: None,
        })
        .unwrap();
        let conn = ConnInfo::new(3, "#3 client");
        let mut events = vec![EventKind::Open {
            conn: conn.clone(),
            local: String::new(),
            tls: None,
            proxy: None,
            wire: Some(Box::new(wire)),
        }];
        for (dir, bytes) in data {
            events.push(EventKind::Data {
                conn: conn.clone(),
                dir: *dir,
                bytes: Bytes::from_static(bytes),
                kind: None,
            });
        }
        events.push(EventKind::Close {
            conn,
            reason: CloseReason::Done,
            counters: Counters::default(),
        });
        for kind in events {
            sink.handle(&event(kind)).unwrap();
        }
        sink.finish().unwrap();
        read_back(&path)
    }

    #[test]
    fn a_relays_bytes_cross_the_client_leg_then_the_target_leg() {
        let wire = Wire {
            near: tcp("127.0.0.1:8080", "127.0.0.1:5000", false),
            far: Some(tcp("127.0.0.1:6000", "127.0.0.1:80", true)),
        };
        let seen = run(wire, &[(Direction::In, b"req"), (Direction::Out, b"resp")]);
        // Two handshakes, four data segments, two closes of four packets.
        assert_eq!(seen.len(), 6 + 4 + 8, "{seen:#?}");
        assert_eq!(seen[0].ports, Some((5000, 8080)), "the client's SYN");
        assert!(!seen[0].outbound);
        assert_eq!(seen[0].comment.as_deref(), Some("sockmate connection 3"));
        assert_eq!(seen[3].ports, Some((6000, 80)), "our SYN to the target");
        assert!(seen[3].outbound);
        let data: Vec<_> = seen[6..10]
            .iter()
            .map(|s| (s.ports.unwrap(), s.outbound, s.payload.as_slice()))
            .collect();
        assert_eq!(
            data,
            [
                ((5000, 8080), false, &b"req"[..]),
                ((6000, 80), true, &b"req"[..]),
                ((80, 6000), false, &b"resp"[..]),
                ((8080, 5000), true, &b"resp"[..]),
            ]
        );
    }

    #[test]
    fn a_leg_without_addresses_is_raw_bytes_named_once() {
        let wire = Wire {
            near: Leg::Bytes {
                name: "serial /dev/ttyS0".into(),
            },
            far: None,
        };
        let seen = run(wire, &[(Direction::Out, b"AT\r"), (Direction::In, b"OK\r")]);
        assert_eq!(
            seen,
            [
                Seen {
                    interface: BYTES,
                    outbound: true,
                    comment: Some("sockmate connection 3: serial /dev/ttyS0".into()),
                    ports: None,
                    payload: b"AT\r".to_vec(),
                },
                Seen {
                    interface: BYTES,
                    outbound: false,
                    comment: None,
                    ports: None,
                    payload: b"OK\r".to_vec(),
                },
            ]
        );
    }
}
