//! Hex dumps in the familiar `hexdump -C` layout: offset, 16 bytes in hex
//! (two groups of 8), and a printable-ASCII gutter.

use std::fmt::Write;

/// Bytes per dump line.
pub const BYTES_PER_LINE: usize = 16;

/// Appends the dump of `bytes` to `out`, one line per 16 bytes, each ending
/// in `\n`. Offsets count from 0 within the message.
pub fn hexdump(bytes: &[u8], out: &mut String) {
    for (line_no, line) in bytes.chunks(BYTES_PER_LINE).enumerate() {
        let _ = write!(out, "{:08x}  ", line_no * BYTES_PER_LINE);
        for i in 0..BYTES_PER_LINE {
            match line.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(line.iter().map(|&b| printable(b)));
        out.push_str("|\n");
    }
}

/// The gutter character for a byte: itself if printable ASCII, else `.`.
pub fn printable(b: u8) -> char {
    if b.is_ascii_graphic() || b == b' ' {
        b as char
    } else {
        '.'
    }
}

/// Lower-case hex without separators (`48656c6c6f`), for JSON.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hexdump_c_layout() {
        let mut out = String::new();
        hexdump(b"hello world\n", &mut out);
        assert_eq!(
            out,
            "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|\n"
        );
        out.clear();
        hexdump(&(0u8..=17).collect::<Vec<_>>(), &mut out);
        assert_eq!(
            out,
            "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|\n\
             00000010  10 11                                             |..|\n"
        );
    }

    #[test]
    fn empty_message_has_no_lines() {
        let mut out = String::new();
        hexdump(b"", &mut out);
        assert!(out.is_empty());
        assert_eq!(to_hex(b"He"), "4865");
    }
}
