//! Checksums and binary counters for payload templates (`{crc16:modbus}`,
//! `{crc32}`, `{sum8}`, `{seq:u16be}`…): pure functions over bytes, so the
//! known vectors can be checked without a socket.
//!
//! Byte order: `crc16:modbus` is written low byte first, as Modbus RTU
//! sends it; the other CRCs are written high byte first (as their check
//! values are usually printed). `:le` / `:be` after the name overrides it,
//! e.g. `{crc32:le}`.

use crc::{Crc, CRC_16_IBM_3740, CRC_16_KERMIT, CRC_16_MODBUS, CRC_16_XMODEM, CRC_32_ISO_HDLC};

static MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
static CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);
static KERMIT: Crc<u16> = Crc::<u16>::new(&CRC_16_KERMIT);
static XMODEM: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);
static CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// The checksums a template can append, for error messages.
pub const CHECKSUMS_HELP: &str =
    "{crc16:modbus} {crc16:ccitt} {crc16:kermit} {crc16:xmodem} {crc32} {sum8} {xor8} {lrc}";

/// The widths `{seq:…}` takes, for error messages.
pub const SEQ_HELP: &str = "u8, u16be, u16le, u32be, u32le, u64be, u64le";

/// Which checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF).
    Crc16Modbus,
    /// CRC-16/CCITT-FALSE (CRC-16/IBM-3740: poly 0x1021, init 0xFFFF).
    Crc16Ccitt,
    /// CRC-16/KERMIT (the reflected "true" CCITT, init 0).
    Crc16Kermit,
    /// CRC-16/XMODEM (poly 0x1021, init 0).
    Crc16Xmodem,
    /// CRC-32 (ISO-HDLC: zlib, Ethernet, PNG).
    Crc32,
    /// The sum of the bytes, modulo 256.
    Sum8,
    /// The XOR of the bytes.
    Xor8,
    /// Modbus ASCII's LRC: the two's complement of the 8-bit sum.
    Lrc,
}

/// A checksum and the byte order it is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    /// Which checksum.
    pub algorithm: Algorithm,
    /// Written low byte first.
    pub little_endian: bool,
}

impl Checksum {
    /// Parses a placeholder's name (`crc16:modbus`, `crc32:le`, `sum8`);
    /// `None` when it names no checksum.
    pub fn parse(name: &str) -> Option<Result<Checksum, String>> {
        let mut words = name.split(':');
        let head = words.next()?;
        let (algorithm, little) = match head {
            "crc16" => {
                let kind = words.next().unwrap_or("");
                match kind {
                    "modbus" => (Algorithm::Crc16Modbus, true),
                    "ccitt" | "ccitt-false" | "ibm-3740" => (Algorithm::Crc16Ccitt, false),
                    "kermit" => (Algorithm::Crc16Kermit, false),
                    "xmodem" => (Algorithm::Crc16Xmodem, false),
                    _ => {
                        return Some(Err(format!(
                            "unknown CRC-16 {{{name}}} (use crc16:modbus, crc16:ccitt, crc16:kermit or crc16:xmodem)"
                        )))
                    }
                }
            }
            "crc32" => (Algorithm::Crc32, false),
            "sum8" => (Algorithm::Sum8, false),
            "xor8" => (Algorithm::Xor8, false),
            "lrc" => (Algorithm::Lrc, false),
            _ => return None,
        };
        let little_endian = match words.next() {
            None => little,
            Some("le") => true,
            Some("be") => false,
            Some(other) => {
                return Some(Err(format!(
                    "unknown byte order \"{other}\" in {{{name}}} (use :le or :be)"
                )))
            }
        };
        if let Some(extra) = words.next() {
            return Some(Err(format!("unexpected \"{extra}\" in {{{name}}}")));
        }
        Some(Ok(Checksum {
            algorithm,
            little_endian,
        }))
    }

    /// Appends the checksum of `data` to `out`.
    pub fn append(&self, data: &[u8], out: &mut Vec<u8>) {
        let mut state = State::new(self.algorithm);
        state.update(data);
        self.write(state.value(), out);
    }

    /// Appends `value` (this checksum's result) in its width and order.
    fn write(&self, value: u32, out: &mut Vec<u8>) {
        let width = self.algorithm.width();
        let be = value.to_be_bytes();
        let bytes = &be[4 - width..];
        if self.little_endian {
            out.extend(bytes.iter().rev());
        } else {
            out.extend_from_slice(bytes);
        }
    }

    /// The placeholder as written.
    pub fn name(&self) -> String {
        let (base, default_le) = match self.algorithm {
            Algorithm::Crc16Modbus => ("crc16:modbus", true),
            Algorithm::Crc16Ccitt => ("crc16:ccitt", false),
            Algorithm::Crc16Kermit => ("crc16:kermit", false),
            Algorithm::Crc16Xmodem => ("crc16:xmodem", false),
            Algorithm::Crc32 => ("crc32", false),
            Algorithm::Sum8 => ("sum8", false),
            Algorithm::Xor8 => ("xor8", false),
            Algorithm::Lrc => ("lrc", false),
        };
        match (self.little_endian == default_le, self.little_endian) {
            (true, _) => base.to_string(),
            (false, true) => format!("{base}:le"),
            (false, false) => format!("{base}:be"),
        }
    }
}

fn sum8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

impl Algorithm {
    /// Bytes the checksum is written in.
    fn width(self) -> usize {
        match self {
            Algorithm::Crc32 => 4,
            Algorithm::Crc16Modbus
            | Algorithm::Crc16Ccitt
            | Algorithm::Crc16Kermit
            | Algorithm::Crc16Xmodem => 2,
            Algorithm::Sum8 | Algorithm::Xor8 | Algorithm::Lrc => 1,
        }
    }
}

/// A checksum part-way through its bytes.
#[derive(Clone)]
enum State {
    Crc16(crc::Digest<'static, u16>),
    Crc32(crc::Digest<'static, u32>),
    /// The 8-bit sum, for `sum8` and `lrc` (`lrc` negates it).
    Sum(u8, bool),
    Xor(u8),
}

impl State {
    fn new(algorithm: Algorithm) -> State {
        match algorithm {
            Algorithm::Crc16Modbus => State::Crc16(MODBUS.digest()),
            Algorithm::Crc16Ccitt => State::Crc16(CCITT_FALSE.digest()),
            Algorithm::Crc16Kermit => State::Crc16(KERMIT.digest()),
            Algorithm::Crc16Xmodem => State::Crc16(XMODEM.digest()),
            Algorithm::Crc32 => State::Crc32(CRC32.digest()),
            Algorithm::Sum8 => State::Sum(0, false),
            Algorithm::Lrc => State::Sum(0, true),
            Algorithm::Xor8 => State::Xor(0),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            State::Crc16(digest) => digest.update(data),
            State::Crc32(digest) => digest.update(data),
            State::Sum(sum, _) => *sum = sum.wrapping_add(sum8(data)),
            State::Xor(x) => *x = data.iter().fold(*x, |a, b| a ^ b),
        }
    }

    /// The checksum of the bytes so far (the state goes on).
    fn value(&self) -> u32 {
        match self {
            State::Crc16(digest) => digest.clone().finalize().into(),
            State::Crc32(digest) => digest.clone().finalize(),
            State::Sum(sum, false) => (*sum).into(),
            State::Sum(sum, true) => sum.wrapping_neg().into(),
            State::Xor(x) => (*x).into(),
        }
    }
}

/// The checksums of one growing buffer: each placeholder's checksum covers
/// every byte before it, and each algorithm reads each byte once, however
/// many placeholders there are (rendering stays linear in the output).
#[derive(Default)]
pub struct RunningChecksums {
    /// Per algorithm used so far: its state and how many bytes it has read.
    states: Vec<(Algorithm, State, usize)>,
}

impl RunningChecksums {
    /// Appends `sum`'s checksum of `out[start..]` to `out`. Between calls
    /// `out` may only grow: the bytes from `start` already read stay as
    /// they were.
    pub fn append(&mut self, sum: Checksum, out: &mut Vec<u8>, start: usize) {
        let index = match self.states.iter().position(|(a, ..)| *a == sum.algorithm) {
            Some(i) => i,
            None => {
                self.states
                    .push((sum.algorithm, State::new(sum.algorithm), start));
                self.states.len() - 1
            }
        };
        let (_, state, read) = &mut self.states[index];
        let from = (*read).max(start).min(out.len());
        state.update(&out[from..]);
        *read = out.len();
        let value = state.value();
        sum.write(value, out);
    }
}

/// `{seq:u16be}`: the message number as a fixed-width binary integer
/// (wrapping at the width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqFormat {
    /// Bytes: 1, 2, 4 or 8.
    pub width: usize,
    /// Low byte first.
    pub little_endian: bool,
}

impl SeqFormat {
    /// Parses `u8`, `u16be`, `u32le`, … (`be` when no order is given).
    pub fn parse(spec: &str) -> Result<SeqFormat, String> {
        let bad = || format!("unknown {{seq:{spec}}} (use {SEQ_HELP})");
        let rest = spec.strip_prefix('u').ok_or_else(bad)?;
        let (digits, little_endian) = if let Some(d) = rest.strip_suffix("le") {
            (d, true)
        } else if let Some(d) = rest.strip_suffix("be") {
            (d, false)
        } else {
            (rest, false)
        };
        let width = match digits {
            "8" => 1,
            "16" => 2,
            "32" => 4,
            "64" => 8,
            _ => return Err(bad()),
        };
        Ok(SeqFormat {
            width,
            // One byte has no order.
            little_endian: little_endian && width > 1,
        })
    }

    /// Appends `n` in this format.
    pub fn append(&self, n: u64, out: &mut Vec<u8>) {
        if self.little_endian {
            out.extend_from_slice(&n.to_le_bytes()[..self.width]);
        } else {
            out.extend_from_slice(&n.to_be_bytes()[8 - self.width..]);
        }
    }

    /// The spec as written.
    pub fn name(&self) -> String {
        let order = match (self.width, self.little_endian) {
            (1, _) => "",
            (_, true) => "le",
            (_, false) => "be",
        };
        format!("u{}{order}", self.width * 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sum(name: &str, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Checksum::parse(name)
            .unwrap()
            .unwrap()
            .append(data, &mut out);
        out
    }

    #[test]
    fn known_vectors() {
        // Modbus RTU "read holding register 0 of unit 1".
        assert_eq!(
            sum("crc16:modbus", &[1, 3, 0, 0, 0, 1]),
            [0x84, 0x0a],
            "low byte first"
        );
        assert_eq!(sum("crc16:modbus:be", &[1, 3, 0, 0, 0, 1]), [0x0a, 0x84]);
        // The catalogue's check values over "123456789".
        assert_eq!(sum("crc32", b"123456789"), [0xcb, 0xf4, 0x39, 0x26]);
        assert_eq!(sum("crc32:le", b"123456789"), [0x26, 0x39, 0xf4, 0xcb]);
        assert_eq!(sum("crc16:modbus", b"123456789"), [0x37, 0x4b]);
        assert_eq!(sum("crc16:ccitt", b"123456789"), [0x29, 0xb1]);
        assert_eq!(sum("crc16:kermit", b"123456789"), [0x21, 0x89]);
        assert_eq!(sum("crc16:xmodem", b"123456789"), [0x31, 0xc3]);
        assert_eq!(sum("sum8", &[0xff, 0x02]), [0x01]);
        assert_eq!(sum("xor8", &[0x0f, 0xf0, 0x01]), [0xfe]);
        // Modbus ASCII ":010300000001" has LRC FB.
        assert_eq!(sum("lrc", &[1, 3, 0, 0, 0, 1]), [0xfb]);
    }

    #[test]
    fn bad_names_are_explained() {
        assert!(Checksum::parse("text").is_none());
        let e = Checksum::parse("crc16:foo").unwrap().unwrap_err();
        assert!(e.contains("crc16:modbus"), "{e}");
        assert!(Checksum::parse("crc32:mid").unwrap().is_err());
        assert!(SeqFormat::parse("u24be").unwrap_err().contains("u16be"));
    }

    #[test]
    fn seq_formats() {
        let mut out = Vec::new();
        SeqFormat::parse("u16be").unwrap().append(0x0102, &mut out);
        SeqFormat::parse("u32le").unwrap().append(0x0102, &mut out);
        SeqFormat::parse("u8").unwrap().append(0x1ff, &mut out);
        assert_eq!(out, [1, 2, 2, 1, 0, 0, 0xff]);
    }

    proptest! {
        #[test]
        fn a_crc_appended_checks_to_the_residue(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            // Modbus frames check by running the CRC over frame + CRC: 0.
            let mut frame = data.clone();
            Checksum::parse("crc16:modbus").unwrap().unwrap().append(&data, &mut frame);
            prop_assert_eq!(MODBUS.checksum(&frame), 0);
            let mut frame = data.clone();
            Checksum::parse("crc16:xmodem").unwrap().unwrap().append(&data, &mut frame);
            prop_assert_eq!(XMODEM.checksum(&frame), 0);
            let mut frame = data.clone();
            Checksum::parse("lrc").unwrap().unwrap().append(&data, &mut frame);
            prop_assert_eq!(sum8(&frame), 0);
        }

        #[test]
        fn names_round_trip(name in "(crc16:(modbus|ccitt|kermit|xmodem)|crc32|sum8|xor8|lrc)(:le|:be)?") {
            let c = Checksum::parse(&name).unwrap().unwrap();
            prop_assert_eq!(Checksum::parse(&c.name()).unwrap().unwrap(), c);
        }

        #[test]
        fn seq_names_round_trip(w in prop::sample::select(vec![8u32, 16, 32, 64]), le in any::<bool>(), n in any::<u64>()) {
            let spec = format!("u{w}{}", if le { "le" } else { "be" });
            let f = SeqFormat::parse(&spec).unwrap();
            prop_assert_eq!(SeqFormat::parse(&f.name()).unwrap(), f);
            let mut out = Vec::new();
            f.append(n, &mut out);
            prop_assert_eq!(out.len() as u32, w / 8);
        }
    }
}
