//! Hex dumps in the familiar `hexdump -C` layout: offset, 16 bytes in hex
//! (two groups of 8), and a printable-ASCII gutter.

/// Bytes per dump line.
pub const BYTES_PER_LINE: usize = 16;

/// Lower-case hex digits.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Length of one full dump line: offset (8), two spaces, 16 × "xx ", the
/// extra space between the groups, " |", 16 gutter bytes, "|\n".
const LINE_LEN: usize = 8 + 2 + BYTES_PER_LINE * 3 + 1 + 2 + BYTES_PER_LINE + 2;

/// Each byte's two hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [DIGITS[b >> 4], DIGITS[b & 0xf]];
        b += 1;
    }
    table
};

/// Each byte's gutter character: itself when printable ASCII, else `.`.
const GUTTER: [u8; 256] = {
    let mut table = [b'.'; 256];
    let mut b = 0x20;
    while b < 0x7f {
        table[b] = b as u8;
        b += 1;
    }
    table
};

/// Appends the dump of `bytes` to `out`, one line per 16 bytes, each ending
/// in `\n`. Offsets count from 0 within the message. One pass with lookup
/// tables into a stack line (no branch per byte, no formatting machinery),
/// and one UTF-8 check for the whole dump: this is `relay --dump hex`'s
/// inner loop.
pub fn hexdump(bytes: &[u8], out: &mut String) {
    let mut buf = std::mem::take(out).into_bytes();
    buf.reserve(bytes.len().div_ceil(BYTES_PER_LINE) * LINE_LEN);
    let gutter = 10 + BYTES_PER_LINE * 3 + 1 + 1;
    let mut line = [b' '; LINE_LEN];
    for (line_no, chunk) in bytes.chunks(BYTES_PER_LINE).enumerate() {
        if chunk.len() < BYTES_PER_LINE {
            line.fill(b' ');
        }
        let offset = line_no * BYTES_PER_LINE;
        for (k, slot) in line[..8].iter_mut().enumerate() {
            *slot = DIGITS[(offset >> (28 - 4 * k)) & 0xf];
        }
        for (i, &b) in chunk.iter().enumerate() {
            let at = 10 + i * 3 + usize::from(i >= 8);
            line[at..at + 2].copy_from_slice(&HEX_PAIRS[usize::from(b)]);
        }
        line[gutter] = b'|';
        for (slot, &b) in line[gutter + 1..].iter_mut().zip(chunk) {
            *slot = GUTTER[usize::from(b)];
        }
        let end = gutter + 1 + chunk.len();
        line[end] = b'|';
        line[end + 1] = b'\n';
        buf.extend_from_slice(&line[..end + 2]);
    }
    // Only ASCII was added to valid UTF-8, so this never fails.
    *out = String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// The gutter character for a byte: itself if printable ASCII, else `.`.
pub fn printable(b: u8) -> char {
    char::from(GUTTER[usize::from(b)])
}

/// Appends each byte as a space and two hex digits (` 48 65 6c`), the
/// one-line form of a sent hex message.
pub fn push_hex_spaced(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() * 3);
    for &b in bytes {
        let [hi, lo] = HEX_PAIRS[usize::from(b)];
        out.push(' ');
        out.push(char::from(hi));
        out.push(char::from(lo));
    }
}

/// Lower-case hex without separators (`48656c6c6f`), for JSON.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let [hi, lo] = HEX_PAIRS[usize::from(b)];
        s.push(char::from(hi));
        s.push(char::from(lo));
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

    /// The layout spelled out with `format!`, as the dump was written
    /// before it became table-driven.
    fn reference(bytes: &[u8]) -> String {
        let mut out = String::new();
        for (line_no, line) in bytes.chunks(BYTES_PER_LINE).enumerate() {
            out += &format!("{:08x}  ", line_no * BYTES_PER_LINE);
            for i in 0..BYTES_PER_LINE {
                match line.get(i) {
                    Some(b) => out += &format!("{b:02x} "),
                    None => out += "   ",
                }
                if i == 7 {
                    out.push(' ');
                }
            }
            out += " |";
            out.extend(line.iter().map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            }));
            out += "|\n";
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn same_as_the_spelled_out_layout(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut out = String::new();
            hexdump(&bytes, &mut out);
            proptest::prop_assert_eq!(out, reference(&bytes));
            let spelled: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            proptest::prop_assert_eq!(to_hex(&bytes), spelled);
            let mut spaced = String::new();
            push_hex_spaced(&bytes, &mut spaced);
            let spelled: String = bytes.iter().map(|b| format!(" {b:02x}")).collect();
            proptest::prop_assert_eq!(spaced, spelled);
        }
    }

    #[test]
    fn offsets_past_64_kib_keep_eight_digits() {
        let bytes = vec![0x41u8; 0x10_0010];
        let mut out = String::new();
        hexdump(&bytes, &mut out);
        assert!(out.ends_with(
            "000ffff0  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|\n\
             00100000  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|\n"
        ));
        assert_eq!(out, reference(&bytes));
    }

    #[test]
    fn empty_message_has_no_lines() {
        let mut out = String::new();
        hexdump(b"", &mut out);
        assert!(out.is_empty());
        assert_eq!(to_hex(b"He"), "4865");
    }
}
