//! The pcapng file (written through the `pcap-file` crate): a section
//! header saying what wrote it, two interfaces (Ethernet for synthesised
//! TCP/IP, Wireshark's "upper PDU" for bytes without addresses), then one
//! enhanced packet block per frame. With a size limit, a file that would
//! grow past it is closed and the capture goes on in `FILE.1`, `FILE.2`…

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, PcapError};

/// The interface of synthesised Ethernet frames.
pub const ETHERNET: u32 = 0;
/// The interface of byte legs (Unix sockets, serial lines): each packet is
/// an upper-PDU header naming the "data" dissector, then the bytes.
pub const BYTES: u32 = 1;

/// The smallest `--pcap-max`: a file holds its headers and some packets.
pub const MIN_MAX_SIZE: u64 = 4096;

/// What the section header says about the whole file.
const SECTION_COMMENT: &str = "Written by sockmate from its own socket reads and writes: the \
Ethernet, IP and TCP/UDP headers are synthesised from the real addresses and ports, one packet \
per read, write or datagram, with their original times. TLS and WebSocket connections carry the \
decrypted application bytes (the payload after TLS, the message payloads of WebSocket), not the \
bytes on the wire. Unix sockets and serial lines are on their own interface as raw bytes with a \
direction (inbound: received by sockmate, outbound: sent).";

/// EPB flags: the packet came in (bits 0-1 = 01) or went out (10).
const INBOUND: u32 = 0b01;
const OUTBOUND: u32 = 0b10;

/// A failure writing the capture.
#[derive(Debug, thiserror::Error)]
pub enum PcapFileError {
    /// The file cannot be created.
    #[error("cannot create pcap file {}: {source} ({})", path.display(), create_hint(source))]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Writing failed (disk full…).
    #[error("cannot write pcap file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// What to do when the capture file cannot be created.
fn create_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::NotFound => {
            "give a path in a folder that exists, e.g. --pcap capture.pcapng"
        }
        io::ErrorKind::PermissionDenied => {
            "give a path you may write to, e.g. --pcap capture.pcapng"
        }
        _ => "give the path of a file to write, e.g. --pcap capture.pcapng",
    }
}

impl From<PcapFileError> for io::Error {
    fn from(e: PcapFileError) -> io::Error {
        let kind = match &e {
            PcapFileError::Create { source, .. } | PcapFileError::Write { source, .. } => {
                source.kind()
            }
        };
        io::Error::new(kind, e.to_string())
    }
}

/// A capture file, rotated at a size.
pub struct PcapFile {
    base: PathBuf,
    max: Option<u64>,
    /// Which file this is: 0 for `FILE`, n for `FILE.n`.
    index: u32,
    current: PathBuf,
    writer: PcapNgWriter<BufWriter<File>>,
    /// Bytes in the current file.
    written: u64,
    /// Packets in the current file.
    packets: u64,
}

impl PcapFile {
    /// Creates (or truncates) `path` and writes its headers. `max` bounds
    /// each file's size (see [`MIN_MAX_SIZE`]).
    pub fn create(path: &Path, max: Option<u64>) -> Result<PcapFile, PcapFileError> {
        let file = File::create(path).map_err(|source| PcapFileError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        PcapFile::from_file(file, path, max)
    }

    /// Writes a capture into `file`, already opened at `path` (the UI's
    /// record folder opens its files itself). Appended to a file that holds
    /// a capture already, it is a new section of that capture.
    pub fn from_file(file: File, path: &Path, max: Option<u64>) -> Result<PcapFile, PcapFileError> {
        let (writer, written) = start(file, path)?;
        Ok(PcapFile {
            base: path.to_path_buf(),
            max,
            index: 0,
            current: path.to_path_buf(),
            writer,
            written,
            packets: 0,
        })
    }

    /// The files written so far, first to last.
    pub fn paths(&self) -> Vec<PathBuf> {
        (0..=self.index).map(|i| self.numbered(i)).collect()
    }

    /// Writes one packet on `interface` at `time`. `outbound` sets its
    /// direction flag; `comment` is shown with the packet.
    pub fn packet(
        &mut self,
        interface: u32,
        time: SystemTime,
        data: &[u8],
        outbound: bool,
        comment: Option<&str>,
    ) -> Result<(), PcapFileError> {
        let mut options = vec![EnhancedPacketOption::Flags(if outbound {
            OUTBOUND
        } else {
            INBOUND
        })];
        if let Some(text) = comment {
            options.push(EnhancedPacketOption::Comment(Cow::Borrowed(text)));
        }
        let size = epb_size(data.len(), comment.map_or(0, str::len));
        if let Some(max) = self.max {
            if self.packets > 0 && self.written + size > max {
                self.rotate()?;
            }
        }
        let block = EnhancedPacketBlock {
            interface_id: interface,
            timestamp: time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO),
            original_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
            data: Cow::Borrowed(data),
            options,
        };
        let n = self
            .writer
            .write_pcapng_block(block)
            .map_err(|e| self.write_error(e))?;
        self.written += n as u64;
        self.packets += 1;
        Ok(())
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> Result<(), PcapFileError> {
        let path = self.current.clone();
        self.writer
            .get_mut()
            .flush()
            .map_err(|source| PcapFileError::Write { path, source })
    }

    fn rotate(&mut self) -> Result<(), PcapFileError> {
        self.flush()?;
        self.index += 1;
        self.current = self.numbered(self.index);
        let file = File::create(&self.current).map_err(|source| PcapFileError::Create {
            path: self.current.clone(),
            source,
        })?;
        let (writer, written) = start(file, &self.current)?;
        self.writer = writer;
        self.written = written;
        self.packets = 0;
        Ok(())
    }

    fn numbered(&self, index: u32) -> PathBuf {
        if index == 0 {
            return self.base.clone();
        }
        let mut name = self.base.clone().into_os_string();
        name.push(format!(".{index}"));
        PathBuf::from(name)
    }

    fn write_error(&self, e: PcapError) -> PcapFileError {
        let source = match e {
            PcapError::IoError(e) => e,
            other => io::Error::other(other.to_string()),
        };
        PcapFileError::Write {
            path: self.current.clone(),
            source,
        }
    }
}

/// Writes the section header and both interfaces into `file` (at `path`);
/// returns the writer and the bytes written.
fn start(file: File, path: &Path) -> Result<(PcapNgWriter<BufWriter<File>>, u64), PcapFileError> {
    let failed = |e: PcapError| PcapFileError::Write {
        path: path.to_path_buf(),
        source: match e {
            PcapError::IoError(e) => e,
            other => io::Error::other(other.to_string()),
        },
    };
    let section = SectionHeaderBlock {
        options: vec![
            SectionHeaderOption::Comment(Cow::Borrowed(SECTION_COMMENT)),
            SectionHeaderOption::UserApplication(Cow::Owned(format!(
                "sockmate {}",
                env!("CARGO_PKG_VERSION")
            ))),
        ],
        ..Default::default()
    };
    let mut written = 0;
    let mut writer =
        PcapNgWriter::with_section_header(BufWriter::new(file), section.clone()).map_err(failed)?;
    written += block_size(section.options.iter().map(|o| match o {
        SectionHeaderOption::Comment(c) | SectionHeaderOption::UserApplication(c) => c.len(),
        _ => 0,
    })) + 28;
    for (linktype, name) in [
        (DataLink::ETHERNET, "sockmate: synthesised TCP/IP"),
        (
            DataLink::WIRESHARK_UPPER_PDU,
            "sockmate: bytes of Unix sockets and serial lines",
        ),
    ] {
        let idb = InterfaceDescriptionBlock {
            linktype,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Borrowed(name)),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        written += writer.write_pcapng_block(idb).map_err(failed)? as u64;
    }
    Ok((writer, written))
}

/// The size of an enhanced packet block with `data` bytes, a flags option
/// and a comment of `comment` bytes (0: none).
fn epb_size(data: usize, comment: usize) -> u64 {
    let options = if comment > 0 {
        vec![4, comment]
    } else {
        vec![4]
    };
    // Block type, length, interface, two timestamp words, two lengths, the
    // data padded to 32 bits, the options, the trailing length.
    28 + pad4(data) + block_size(options.into_iter()) + 4
}

/// The size of the options with these value lengths, end marker included
/// (0 when there are none).
fn block_size(lengths: impl Iterator<Item = usize>) -> u64 {
    let mut total = 0;
    let mut any = false;
    for len in lengths {
        total += 4 + pad4(len);
        any = true;
    }
    if any {
        total + 4
    } else {
        0
    }
}

fn pad4(len: usize) -> u64 {
    len.div_ceil(4) as u64 * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_counted_exactly_and_files_rotate_before_passing_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cap.pcapng");
        let mut file = PcapFile::create(&path, Some(MIN_MAX_SIZE)).unwrap();
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        file.packet(ETHERNET, t, &[1; 61], true, Some("note"))
            .unwrap();
        file.flush().unwrap();
        let on_disk = std::fs::metadata(&path).unwrap().len();
        assert_eq!(file.written, on_disk);
        for _ in 0..100 {
            file.packet(BYTES, t, &[2; 1001], false, None).unwrap();
        }
        file.flush().unwrap();
        let paths = file.paths();
        assert!(paths.len() > 20, "{paths:?}");
        assert_eq!(paths[1], dir.path().join("cap.pcapng.1"));
        for p in &paths {
            let len = std::fs::metadata(p).unwrap().len();
            assert!(len <= MIN_MAX_SIZE, "{} is {len} bytes", p.display());
        }
    }

    #[test]
    fn a_path_in_a_missing_folder_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/cap.pcapng");
        let err = PcapFile::create(&path, None).err().unwrap().to_string();
        assert!(err.starts_with("cannot create pcap file "), "{err}");
        assert!(err.contains("folder that exists"), "{err}");
    }
}
