//! Reply templates (`--reply`, `--respond`, `--banner`): literal text with
//! backslash escapes and placeholders, parsed once at start.
//!
//! Placeholders: `{text}` (the message), `{hex}` (its bytes as lowercase
//! hex), `{len}` (its length in bytes), `{peer}` (the client's address),
//! `{n}` (the message number on this connection, from 1), `{time}` (local
//! time in the `--time-format`). `{{` and `}}` are literal braces.
//!
//! Payload macros (also in `--send-template`): `{rand:N}` (N random
//! bytes), `{hex:01 02}` (inline bytes), `{seq:u16be}` (the message number
//! as binary: u8, u16be/le, u32be/le, u64be/le), and checksums over
//! everything rendered before them in the message: `{crc16:modbus}` (low
//! byte first), `{crc16:ccitt}`, `{crc16:kermit}`, `{crc16:xmodem}`,
//! `{crc32}`, `{sum8}`, `{xor8}`, `{lrc}` (see [`crate::checksum`]).

use std::fmt;
use std::io::Write;

use chrono::format::{Item, StrftimeItems};

use crate::checksum::{Checksum, SeqFormat, CHECKSUMS_HELP};
use crate::escape::{escape_at, EscapeError};
use crate::hexinput::parse_hex;

/// Most random bytes one `{rand:N}` makes.
pub const MAX_RAND: usize = 65_536;

/// C's `ctime` layout, e.g. `Sun Nov 22 14:03:07 2026`.
pub const CTIME_FORMAT: &str = "%a %b %e %H:%M:%S %Y";

/// The placeholders a template may use, for error messages.
pub const PLACEHOLDERS_HELP: &str =
    "{text} {hex} {len} {peer} {n} {time} {rand:N} {hex:01 02} {seq:u16be}";

/// Rewrites a literal part of a template while rendering (regex captures).
pub type Expand<'a> = dyn Fn(&[u8], &mut Vec<u8>) + 'a;

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Text,
    Hex,
    Len,
    Peer,
    Number,
    Time,
    Rand(usize),
    Seq(SeqFormat),
    Check(Checksum),
}

/// A parsed template, ready to render for each message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    time_format: String,
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{name}` that is not a placeholder.
    #[error("unknown placeholder {{{name}}} at position {position} (use {PLACEHOLDERS_HELP}, or {{{{ and }}}} for literal braces)")]
    UnknownPlaceholder {
        /// What was inside the braces.
        name: String,
        /// Character position of the `{`.
        position: usize,
    },
    /// A `{` with no `}`.
    #[error("unclosed {{ at position {position} (close it, or write {{{{ for a literal brace)")]
    Unclosed {
        /// Character position of the `{`.
        position: usize,
    },
    /// A lone `}`.
    #[error("lone }} at position {position} (write }}}} for a literal brace)")]
    LoneClose {
        /// Character position of the `}`.
        position: usize,
    },
    /// A macro with a bad argument (`{rand:x}`, `{hex:zz}`, `{crc16:foo}`).
    #[error("{problem} at position {position} (checksums: {CHECKSUMS_HELP})")]
    BadMacro {
        /// What is wrong.
        problem: String,
        /// Character position of the `{`.
        position: usize,
    },
    /// A bad backslash escape.
    #[error(transparent)]
    Escape(#[from] EscapeError),
    /// A bad `--time-format`.
    #[error("invalid --time-format \"{0}\" (use strftime fields like %H:%M:%S or %Y-%m-%d)")]
    TimeFormat(String),
}

/// What a template is rendered from: one message and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The message bytes.
    pub bytes: &'a [u8],
    /// The client, as printed.
    pub peer: &'a str,
    /// Message number on this connection (or from this datagram peer), from 1.
    pub number: u64,
}

/// Checks a strftime format so rendering it can never fail.
pub fn check_time_format(format: &str) -> Result<(), TemplateError> {
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return Err(TemplateError::TimeFormat(format.to_string()));
    }
    Ok(())
}

impl Template {
    /// Parses a template; `time_format` is used for `{time}` and checked here.
    pub fn parse(text: &str, time_format: &str) -> Result<Template, TemplateError> {
        check_time_format(time_format)?;
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let (byte_at, c) = chars[i];
            match c {
                '\\' => {
                    let (byte, used) = escape_at(&text[byte_at..], i)?;
                    literal.push(byte);
                    i += used;
                }
                '{' if chars.get(i + 1).map(|p| p.1) == Some('{') => {
                    literal.push(b'{');
                    i += 2;
                }
                '}' if chars.get(i + 1).map(|p| p.1) == Some('}') => {
                    literal.push(b'}');
                    i += 2;
                }
                '}' => return Err(TemplateError::LoneClose { position: i }),
                '{' => {
                    let close = chars[i + 1..]
                        .iter()
                        .position(|p| p.1 == '}')
                        .ok_or(TemplateError::Unclosed { position: i })?;
                    let name: String = chars[i + 1..i + 1 + close].iter().map(|p| p.1).collect();
                    let part = match placeholder(&name, i)? {
                        Some(Part::Literal(bytes)) => {
                            literal.extend_from_slice(&bytes);
                            i += close + 2;
                            continue;
                        }
                        Some(part) => part,
                        None => {
                            return Err(TemplateError::UnknownPlaceholder { name, position: i })
                        }
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                    i += close + 2;
                }
                _ => {
                    let mut utf8 = [0u8; 4];
                    literal.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    i += 1;
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            parts,
            time_format: time_format.to_string(),
        })
    }

    /// A template that is just these bytes.
    pub fn literal(bytes: Vec<u8>) -> Template {
        Template {
            parts: vec![Part::Literal(bytes)],
            time_format: CTIME_FORMAT.to_string(),
        }
    }

    /// True when the template never looks at the message (a fixed reply).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// True when the template uses a payload macro or checksum (so its
    /// output is binary, not text).
    pub fn has_macros(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Rand(_) | Part::Seq(_) | Part::Check(_)))
    }

    /// Appends the rendered template to `out`. `expand` rewrites literal
    /// parts (used for `$1` regex captures in `--respond` rules).
    pub fn render_with(&self, msg: &Message<'_>, out: &mut Vec<u8>, expand: Option<&Expand<'_>>) {
        let start = out.len();
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => match expand {
                    Some(expand) => expand(bytes, out),
                    None => out.extend_from_slice(bytes),
                },
                Part::Text => out.extend_from_slice(msg.bytes),
                Part::Hex => {
                    for b in msg.bytes {
                        let _ = write!(out, "{b:02x}");
                    }
                }
                Part::Len => {
                    let _ = write!(out, "{}", msg.bytes.len());
                }
                Part::Peer => out.extend_from_slice(msg.peer.as_bytes()),
                Part::Number => {
                    let _ = write!(out, "{}", msg.number);
                }
                Part::Time => {
                    let _ = write!(out, "{}", chrono::Local::now().format(&self.time_format));
                }
                Part::Rand(n) => {
                    let at = out.len();
                    out.resize(at + n, 0);
                    fastrand::fill(&mut out[at..]);
                }
                Part::Seq(format) => format.append(msg.number, out),
                Part::Check(sum) => {
                    let mut value = Vec::with_capacity(4);
                    sum.append(&out[start..], &mut value);
                    out.extend_from_slice(&value);
                }
            }
        }
    }

    /// Appends the rendered template to `out`.
    pub fn render(&self, msg: &Message<'_>, out: &mut Vec<u8>) {
        self.render_with(msg, out, None);
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(b) => write!(f, "{}", String::from_utf8_lossy(b))?,
                Part::Text => f.write_str("{text}")?,
                Part::Hex => f.write_str("{hex}")?,
                Part::Len => f.write_str("{len}")?,
                Part::Peer => f.write_str("{peer}")?,
                Part::Number => f.write_str("{n}")?,
                Part::Time => f.write_str("{time}")?,
                Part::Rand(n) => write!(f, "{{rand:{n}}}")?,
                Part::Seq(s) => write!(f, "{{seq:{}}}", s.name())?,
                Part::Check(c) => write!(f, "{{{}}}", c.name())?,
            }
        }
        Ok(())
    }
}

/// The part a `{name}` stands for (inline bytes come back as a literal);
/// `None` when it names nothing.
fn placeholder(name: &str, position: usize) -> Result<Option<Part>, TemplateError> {
    let bad = |problem: String| TemplateError::BadMacro { problem, position };
    Ok(Some(match name {
        "text" => Part::Text,
        "hex" => Part::Hex,
        "len" => Part::Len,
        "peer" => Part::Peer,
        "n" => Part::Number,
        "time" => Part::Time,
        _ => {
            if let Some(arg) = name.strip_prefix("hex:") {
                return parse_hex(arg)
                    .map(|b| Some(Part::Literal(b)))
                    .map_err(|e| bad(format!("in {{{name}}}: {e}")));
            }
            if let Some(arg) = name.strip_prefix("rand:") {
                return match arg.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_RAND).contains(&n) => Ok(Some(Part::Rand(n))),
                    _ => Err(bad(format!(
                        "invalid {{{name}}} (give a count of random bytes from 1 to {MAX_RAND}, e.g. {{rand:4}})"
                    ))),
                };
            }
            if let Some(arg) = name.strip_prefix("seq:") {
                return SeqFormat::parse(arg)
                    .map(|f| Some(Part::Seq(f)))
                    .map_err(bad);
            }
            match Checksum::parse(name) {
                Some(Ok(sum)) => Part::Check(sum),
                Some(Err(problem)) => return Err(bad(problem)),
                None => return Ok(None),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn render(t: &str, bytes: &[u8]) -> Vec<u8> {
        let t = Template::parse(t, CTIME_FORMAT).unwrap();
        let mut out = Vec::new();
        t.render(
            &Message {
                bytes,
                peer: "127.0.0.1:5000",
                number: 7,
            },
            &mut out,
        );
        out
    }

    #[test]
    fn placeholders_and_escapes() {
        assert_eq!(render("Loop_msg:{text}!", b"hi"), b"Loop_msg:hi!");
        assert_eq!(
            render("{hex}|{len}|{peer}|{n}\\n", b"A\x00"),
            b"4100|2|127.0.0.1:5000|7\n"
        );
        assert_eq!(render("{{text}}", b"x"), b"{text}");
        assert_eq!(render("\\x41{text}\\\\", b"x"), b"Ax\\");
    }

    #[test]
    fn time_looks_like_ctime() {
        let out = String::from_utf8(render("[{time}]", b"")).unwrap();
        // "[Sun Nov 22 14:03:07 2026]"
        assert_eq!(out.len(), 26, "{out}");
        assert_eq!(&out[20..21], " ");
    }

    #[test]
    fn errors_show_the_position() {
        let e = Template::parse("ab{txt}", CTIME_FORMAT).unwrap_err();
        assert_eq!(
            e,
            TemplateError::UnknownPlaceholder {
                name: "txt".into(),
                position: 2
            }
        );
        assert!(e.to_string().contains("at position 2"), "{e}");
        assert_eq!(
            Template::parse("a{text", CTIME_FORMAT).unwrap_err(),
            TemplateError::Unclosed { position: 1 }
        );
        assert_eq!(
            Template::parse("a}b", CTIME_FORMAT).unwrap_err(),
            TemplateError::LoneClose { position: 1 }
        );
        assert!(matches!(
            Template::parse("a\\q", CTIME_FORMAT).unwrap_err(),
            TemplateError::Escape(_)
        ));
        assert!(matches!(
            Template::parse("x", "%Q").unwrap_err(),
            TemplateError::TimeFormat(_)
        ));
    }

    #[test]
    fn macros_and_checksums() {
        assert_eq!(
            render("{hex:01 03 00 00 00 01}{crc16:modbus}", b""),
            [1, 3, 0, 0, 0, 1, 0x84, 0x0a]
        );
        assert_eq!(
            render("123456789{crc32}", b""),
            b"123456789\xcb\xf4\x39\x26"
        );
        // n is 7 in these tests.
        assert_eq!(render("{seq:u16be}{seq:u32le}", b""), [0, 7, 7, 0, 0, 0]);
        assert_eq!(render("{hex:ff 02}{sum8}{xor8}", b""), [0xff, 2, 1, 0xfc]);
        let r = render("a{rand:5}b", b"");
        assert_eq!((r.len(), r[0], r[6]), (7, b'a', b'b'));
        let t =
            Template::parse("x{rand:2}{seq:u16le}{crc16:modbus}{crc32:le}", CTIME_FORMAT).unwrap();
        assert_eq!(
            t.to_string(),
            "x{rand:2}{seq:u16le}{crc16:modbus}{crc32:le}"
        );
        assert!(t.has_macros());
        for bad in [
            "{rand:0}",
            "{rand:x}",
            "{hex:zz}",
            "{crc16:nope}",
            "{seq:u12}",
        ] {
            let e = Template::parse(bad, CTIME_FORMAT).unwrap_err();
            assert!(
                matches!(e, TemplateError::BadMacro { position: 0, .. }),
                "{bad}: {e}"
            );
        }
    }

    proptest! {
        #[test]
        fn a_modbus_frame_checks_to_zero(body in proptest::collection::vec(any::<u8>(), 1..32)) {
            let hex: Vec<String> = body.iter().map(|b| format!("{b:02x}")).collect();
            let out = render(&format!("{{hex:{}}}{{crc16:modbus}}", hex.join(" ")), b"");
            prop_assert_eq!(&out[..body.len()], &body[..]);
            let crc = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);
            prop_assert_eq!(crc.checksum(&out), 0);
        }

        #[test]
        fn plain_text_renders_as_itself(s in "[^\\\\{}]*") {
            prop_assert_eq!(render(&s, b"zz"), s.as_bytes().to_vec());
        }

        #[test]
        fn parsing_never_panics(s in "\\PC*", fmt in "\\PC{0,8}") {
            if let Ok(t) = Template::parse(&s, &fmt) {
                let mut out = Vec::new();
                t.render(&Message { bytes: b"m", peer: "p", number: 1 }, &mut out);
            }
        }

        #[test]
        fn text_placeholder_inserts_bytes_verbatim(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(render("{text}", &bytes), bytes);
        }
    }
}
