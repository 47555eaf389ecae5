//! Reply templates (`--reply`, `--respond`, `--banner`): literal text with
//! backslash escapes and placeholders, parsed once at start.
//!
//! Placeholders: `{text}` (the message), `{hex}` (its bytes as lowercase
//! hex), `{len}` (its length in bytes), `{peer}` (the client's address),
//! `{n}` (the message number on this connection, from 1), `{time}` (local
//! time in the `--time-format`). `{{` and `}}` are literal braces.

use std::fmt;
use std::io::Write;

use chrono::format::{Item, StrftimeItems};

use crate::escape::{escape_at, EscapeError};

/// C's `ctime` layout, e.g. `Sun Nov 22 14:03:07 2026`.
pub const CTIME_FORMAT: &str = "%a %b %e %H:%M:%S %Y";

/// The placeholders a template may use, for error messages.
pub const PLACEHOLDERS_HELP: &str = "{text} {hex} {len} {peer} {n} {time}";

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
                    let part = match name.as_str() {
                        "text" => Part::Text,
                        "hex" => Part::Hex,
                        "len" => Part::Len,
                        "peer" => Part::Peer,
                        "n" => Part::Number,
                        "time" => Part::Time,
                        _ => return Err(TemplateError::UnknownPlaceholder { name, position: i }),
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

    /// Appends the rendered template to `out`. `expand` rewrites literal
    /// parts (used for `$1` regex captures in `--respond` rules).
    pub fn render_with(&self, msg: &Message<'_>, out: &mut Vec<u8>, expand: Option<&Expand<'_>>) {
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
            }
        }
        Ok(())
    }
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

    proptest! {
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
