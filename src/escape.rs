//! Backslash escapes in command-line text (`--send`, `--banner`, `--reply`,
//! `--respond`): `\n` `\r` `\t` `\0` `\xHH` `\\`. Anything else after a
//! backslash is an error that names the escape and where it is, so a typo
//! never silently sends the wrong bytes.

use std::fmt;

/// The escapes a user may write, for error messages.
pub const ESCAPES_HELP: &str = r"\n \r \t \0 \xHH \\";

/// A backslash escape that is not one of [`ESCAPES_HELP`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeError {
    /// Character position of the backslash in the input, from 0.
    pub position: usize,
    /// The escape as written (e.g. `\q`, `\x4`, or `\` at the end).
    pub escape: String,
}

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad escape \"{}\" at position {} (use {ESCAPES_HELP}; write \\\\ for a backslash)",
            self.escape, self.position
        )
    }
}

impl std::error::Error for EscapeError {}

/// Turns text with backslash escapes into bytes. Characters that are not
/// escapes are kept as their UTF-8 bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((position, (byte_at, c))) = chars.next() {
        if c != '\\' {
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        let (byte, used) = escape_at(&text[byte_at..], position)?;
        out.push(byte);
        for _ in 1..used {
            chars.next();
        }
    }
    Ok(out)
}

/// Like [`unescape`], with the characters (not the escapes) encoded in
/// `encoding`: `--banner '你好\n'` with `--encoding gbk` sends GBK bytes and
/// a newline.
pub fn unescape_in(
    text: &str,
    encoding: crate::encoding::TextEncoding,
) -> Result<Vec<u8>, EscapeError> {
    if encoding.is_utf8() {
        return unescape(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut run = String::new();
    let mut chars = text.char_indices().enumerate();
    while let Some((position, (byte_at, c))) = chars.next() {
        if c != '\\' {
            run.push(c);
            continue;
        }
        out.extend_from_slice(&encoding.encode(&run));
        run.clear();
        let (byte, used) = escape_at(&text[byte_at..], position)?;
        out.push(byte);
        for _ in 1..used {
            chars.next();
        }
    }
    out.extend_from_slice(&encoding.encode(&run));
    Ok(out)
}

/// Decodes the escape at the start of `rest` (which begins with `\`).
/// Returns the byte and how many characters the escape took.
/// `position` is only used for the error.
pub fn escape_at(rest: &str, position: usize) -> Result<(u8, usize), EscapeError> {
    let mut it = rest.chars();
    let backslash = it.next();
    debug_assert_eq!(backslash, Some('\\'));
    let bad = |taken: usize| EscapeError {
        position,
        escape: rest.chars().take(taken).collect(),
    };
    let byte = match it.next() {
        Some('n') => b'\n',
        Some('r') => b'\r',
        Some('t') => b'\t',
        Some('0') => 0,
        Some('\\') => b'\\',
        Some('x') => {
            let hi = it.next().and_then(|c| c.to_digit(16));
            let lo = it.next().and_then(|c| c.to_digit(16));
            return match (hi, lo) {
                (Some(hi), Some(lo)) => Ok(((hi * 16 + lo) as u8, 4)),
                _ => Err(bad(4)),
            };
        }
        Some(_) => return Err(bad(2)),
        None => return Err(bad(1)),
    };
    Ok((byte, 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_escape() {
        assert_eq!(
            unescape(r"a\nb\r\t\0\x41\xfF\\").unwrap(),
            b"a\nb\r\t\0A\xff\\".to_vec()
        );
        assert_eq!(unescape("héllo").unwrap(), "héllo".as_bytes());
    }

    #[test]
    fn characters_are_encoded_and_escapes_are_not() {
        let gbk = crate::encoding::TextEncoding::from_label("gbk").unwrap();
        assert_eq!(
            unescape_in(r"你好\n\xff", gbk).unwrap(),
            b"\xc4\xe3\xba\xc3\n\xff".to_vec()
        );
        let e = unescape_in(r"你\q", gbk).unwrap_err();
        assert_eq!(e.position, 1);
    }

    #[test]
    fn bad_escapes_name_themselves_and_their_position() {
        let e = unescape(r"ab\q").unwrap_err();
        assert_eq!((e.position, e.escape.as_str()), (2, r"\q"));
        assert!(e.to_string().contains(r#"bad escape "\q" at position 2"#));
        let e = unescape(r"é\x4").unwrap_err();
        assert_eq!((e.position, e.escape.as_str()), (1, r"\x4"));
        let e = unescape(r"\xZZ").unwrap_err();
        assert_eq!(e.escape, r"\xZZ");
        let e = unescape("end\\").unwrap_err();
        assert_eq!((e.position, e.escape.as_str()), (3, "\\"));
    }

    proptest! {
        #[test]
        fn text_without_backslashes_is_unchanged(s in "[^\\\\]*") {
            prop_assert_eq!(unescape(&s).unwrap(), s.as_bytes().to_vec());
        }

        #[test]
        fn escaping_any_bytes_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let written: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
            prop_assert_eq!(unescape(&written).unwrap(), bytes);
        }

        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = unescape(&s);
        }
    }
}
