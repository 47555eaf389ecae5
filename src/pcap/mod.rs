//! `--pcap FILE`: what crossed a connection, written as a pcapng file that
//! Wireshark and tshark decode as the real protocol.
//!
//! sockmate sees reads and writes, not packets, so the packets are
//! synthesised: [`packet`] builds Ethernet + IPv4/IPv6 + TCP/UDP frames with
//! the real addresses and ports and right checksums; [`flow`] keeps each TCP
//! connection's sequence numbers (handshake, one segment per read or write,
//! FIN or RST at the end); [`file`] writes the pcapng blocks through the
//! `pcap-file` crate and rotates at `--pcap-max`. The sink that turns
//! events into packets is [`crate::view::pcap`].

pub mod file;
pub mod flow;
pub mod packet;

use std::path::PathBuf;

/// Where and how big: `--pcap FILE`, `--pcap-max SIZE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapOptions {
    /// The capture file (rotated ones are `FILE.1`, `FILE.2`…).
    pub path: PathBuf,
    /// The most bytes one file may hold before the next one is started.
    pub max: Option<u64>,
}
