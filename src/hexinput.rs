//! Hex typed by a person (`--send-hex`): `48 65`, `4865`, `0x48,0x65`,
//! `\x48\x65`, and mixes of them. A bad token is named with its position.

use std::fmt;

/// Why hex input was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexError {
    /// The offending token as written.
    pub token: String,
    /// Character position of the token in the input, from 0.
    pub position: usize,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad hex \"{}\" at position {}: {} (write bytes like 48 65, 4865, 0x48,0x65 or \\x48\\x65)",
            self.token, self.position, self.problem
        )
    }
}

impl std::error::Error for HexError {}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | ':')
}

/// Parses hex input into bytes.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, HexError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::with_capacity(chars.len() / 2);
    let mut i = 0;
    while i < chars.len() {
        if is_separator(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let prefixed = matches!(
            (chars[i], chars.get(i + 1)),
            ('0', Some('x' | 'X')) | ('\\', Some('x' | 'X'))
        );
        if prefixed {
            i += 2;
        }
        let digits_start = i;
        while i < chars.len() && !is_separator(chars[i]) && chars[i] != '\\' {
            i += 1;
        }
        if i == start {
            // A lone backslash not followed by x: take it, so the error names it.
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let digits = &chars[digits_start.min(i)..i];
        let bad = |problem| HexError {
            token: token.clone(),
            position: start,
            problem,
        };
        if digits.is_empty() && prefixed {
            return Err(bad("no hex digits"));
        }
        if digits.iter().any(|c| !c.is_ascii_hexdigit()) {
            return Err(bad("not a hex digit"));
        }
        let values: Vec<u8> = digits
            .iter()
            .map(|c| c.to_digit(16).unwrap_or(0) as u8)
            .collect();
        if prefixed && values.len() == 1 {
            out.push(values[0]);
            continue;
        }
        if !values.len().is_multiple_of(2) {
            return Err(bad("odd number of hex digits (two per byte, e.g. 0a)"));
        }
        out.extend(values.chunks(2).map(|pair| pair[0] << 4 | pair[1]));
    }
    Ok(out)
}

/// Formats bytes as space-separated hex pairs (`48 65 6c`), the form
/// [`parse_hex`] reads back.
pub fn format_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_every_documented_form() {
        for input in [
            "48 65",
            "4865",
            "0x48,0x65",
            "\\x48\\x65",
            "0x48 0x65",
            "48:65",
            "  48,65  ",
            "0X48;0x65",
        ] {
            assert_eq!(parse_hex(input).unwrap(), b"He", "{input}");
        }
        assert_eq!(parse_hex("0x4 0xa").unwrap(), [4, 10]);
        assert_eq!(parse_hex("").unwrap(), b"");
    }

    #[test]
    fn names_the_bad_token_and_position() {
        let e = parse_hex("48 zz 65").unwrap_err();
        assert_eq!((e.token.as_str(), e.position), ("zz", 3));
        assert!(e.to_string().contains("bad hex \"zz\" at position 3"));
        let e = parse_hex("48 656").unwrap_err();
        assert_eq!(e.token, "656");
        assert!(e.to_string().contains("odd number"));
        let e = parse_hex("0x").unwrap_err();
        assert_eq!(e.problem, "no hex digits");
        let e = parse_hex("\\x4g").unwrap_err();
        assert_eq!(e.token, "\\x4g");
        let e = parse_hex("48\\").unwrap_err();
        assert_eq!((e.token.as_str(), e.position), ("\\", 2));
    }

    proptest! {
        #[test]
        fn parse_inverts_format(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(parse_hex(&format_hex(&bytes)).unwrap(), bytes.clone());
            let compact: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            prop_assert_eq!(parse_hex(&compact).unwrap(), bytes.clone());
            let escaped: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
            prop_assert_eq!(parse_hex(&escaped).unwrap(), bytes.clone());
            let prefixed: Vec<String> = bytes.iter().map(|b| format!("0x{b:02x}")).collect();
            prop_assert_eq!(parse_hex(&prefixed.join(",")).unwrap(), bytes);
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse_hex(&s);
        }
    }
}
