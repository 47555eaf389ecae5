//! Reply templates (`--reply`, `--respond`, `--banner`): literal text with
//! backslash escapes and placeholders, parsed once at start.
//!
//! Placeholders: `{text}` (the message), `{line}` (the message without its
//! line ending), `{hex}` (its bytes as lowercase hex), `{len}` (its length
//! in bytes), `{peer}` (the client's address), `{n}` (the message number on
//! this connection, from 1), `{time}` (local time in the `--time-format`).
//! `{{` and `}}` are literal braces. In the reply of a `re:` rule, `$1`,
//! `$name` and `${name}` are the regex's captures and `$$` is a dollar.
//!
//! Literal text is encoded with `--encoding` when the template is parsed
//! (escapes stay the bytes they name), so a GBK server answers in GBK.
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
use crate::hexinput::parse_hex;

/// Most random bytes one `{rand:N}` makes.
pub const MAX_RAND: usize = 65_536;
use crate::encoding::TextEncoding;
use crate::escape::{escape_at, EscapeError};
use crate::frame::trim_line_ending;

/// C's `ctime` layout, e.g. `Sun Nov 22 14:03:07 2026`.
pub const CTIME_FORMAT: &str = "%a %b %e %H:%M:%S %Y";

/// The placeholders a template may use, for error messages.
pub const PLACEHOLDERS_HELP: &str =
    "{text} {line} {hex} {len} {peer} {n} {time} {rand:N} {hex:01 02} {seq:u16be}";

/// A regex capture named in a reply: `$1`, `$name`, `${name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureRef {
    /// `$1`, `${1}`: a group by number (0 is the whole match).
    Index(usize),
    /// `$name`, `${name}`: a named group.
    Name(String),
}

impl fmt::Display for CaptureRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureRef::Index(i) => write!(f, "${{{i}}}"),
            CaptureRef::Name(n) => write!(f, "${{{n}}}"),
        }
    }
}

/// Writes the text of a capture while rendering (regex rules).
pub type Expand<'a> = dyn Fn(&CaptureRef, &mut Vec<u8>) + 'a;

/// How a template is read: the encoding literal text is sent in, and
/// whether `$` names regex captures (the reply of a `re:` rule).
#[derive(Debug, Clone, Copy, Default)]
pub struct Syntax {
    /// `--encoding` of the literal text and the ASCII placeholders.
    pub encoding: TextEncoding,
    /// `$1`, `$name`, `${name}` and `$$` are captures and a dollar.
    pub captures: bool,
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Text,
    Line,
    Hex,
    Len,
    Peer,
    Number,
    Time,
    Rand(usize),
    Seq(SeqFormat),
    Check(Checksum),
    Capture(CaptureRef),
}

/// A parsed template, ready to render for each message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    time_format: String,
    encoding: TextEncoding,
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
    /// `${name}` where there is no regex to capture from.
    #[error("${{…}} at position {position} names a regex capture, which only a --respond 're:…' rule has (use {{text}} for the message, or \\x24 for a literal $)")]
    CaptureOutsideRegex {
        /// Character position of the `$`.
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

/// Collects literal text: characters are encoded in runs, escapes are
/// pushed as the bytes they name.
struct Literal {
    encoding: TextEncoding,
    bytes: Vec<u8>,
    run: String,
}

impl Literal {
    fn flush_run(&mut self) {
        if !self.run.is_empty() {
            let encoded = self.encoding.encode(&self.run);
            self.bytes.extend_from_slice(&encoded);
            self.run.clear();
        }
    }

    fn push_byte(&mut self, byte: u8) {
        self.flush_run();
        self.bytes.push(byte);
    }

    fn end_into(&mut self, parts: &mut Vec<Part>) {
        self.flush_run();
        if !self.bytes.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut self.bytes)));
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn capture_ref(name: &str) -> CaptureRef {
    match name.parse::<usize>() {
        Ok(i) => CaptureRef::Index(i),
        Err(_) => CaptureRef::Name(name.to_string()),
    }
}

impl Template {
    /// Parses a UTF-8 template without captures; `time_format` is used for
    /// `{time}` and checked here.
    pub fn parse(text: &str, time_format: &str) -> Result<Template, TemplateError> {
        Template::parse_with(text, time_format, Syntax::default())
    }

    /// Parses a template read with `syntax` (encoding, captures).
    pub fn parse_with(
        text: &str,
        time_format: &str,
        syntax: Syntax,
    ) -> Result<Template, TemplateError> {
        check_time_format(time_format)?;
        let mut parts = Vec::new();
        let mut literal = Literal {
            encoding: syntax.encoding,
            bytes: Vec::new(),
            run: String::new(),
        };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let next_is = |i: usize, want: char| chars.get(i + 1).map(|p| p.1) == Some(want);
        let mut i = 0;
        while i < chars.len() {
            let (byte_at, c) = chars[i];
            match c {
                '\\' => {
                    let (byte, used) = escape_at(&text[byte_at..], i)?;
                    literal.push_byte(byte);
                    i += used;
                }
                '$' if !syntax.captures => {
                    if next_is(i, '{') {
                        return Err(TemplateError::CaptureOutsideRegex { position: i });
                    }
                    literal.run.push('$');
                    i += 1;
                }
                '$' if next_is(i, '$') => {
                    literal.run.push('$');
                    i += 2;
                }
                '$' if next_is(i, '{') => {
                    let close = chars[i + 2..]
                        .iter()
                        .position(|p| p.1 == '}')
                        .ok_or(TemplateError::Unclosed { position: i + 1 })?;
                    let name: String = chars[i + 2..i + 2 + close].iter().map(|p| p.1).collect();
                    if name.is_empty() || !name.chars().all(is_name_char) {
                        return Err(TemplateError::UnknownPlaceholder {
                            name,
                            position: i + 1,
                        });
                    }
                    literal.end_into(&mut parts);
                    parts.push(Part::Capture(capture_ref(&name)));
                    i += close + 3;
                }
                '$' => {
                    let len = chars[i + 1..]
                        .iter()
                        .take_while(|p| is_name_char(p.1))
                        .count();
                    if len == 0 {
                        literal.run.push('$');
                        i += 1;
                        continue;
                    }
                    let name: String = chars[i + 1..i + 1 + len].iter().map(|p| p.1).collect();
                    literal.end_into(&mut parts);
                    parts.push(Part::Capture(capture_ref(&name)));
                    i += len + 1;
                }
                '{' if next_is(i, '{') => {
                    literal.run.push('{');
                    i += 2;
                }
                '}' if next_is(i, '}') => {
                    literal.run.push('}');
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
                            literal.flush_run();
                            literal.bytes.extend_from_slice(&bytes);
                            i += close + 2;
                            continue;
                        }
                        Some(part) => part,
                        None => {
                            return Err(TemplateError::UnknownPlaceholder { name, position: i })
                        }
                    };
                    literal.end_into(&mut parts);
                    parts.push(part);
                    i += close + 2;
                }
                _ => {
                    literal.run.push(c);
                    i += 1;
                }
            }
        }
        literal.end_into(&mut parts);
        Ok(Template {
            parts,
            time_format: time_format.to_string(),
            encoding: syntax.encoding,
        })
    }

    /// A template that is just these bytes.
    pub fn literal(bytes: Vec<u8>) -> Template {
        Template {
            parts: vec![Part::Literal(bytes)],
            time_format: CTIME_FORMAT.to_string(),
            encoding: TextEncoding::default(),
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

    /// The regex captures the template names, to check against the regex.
    pub fn captures(&self) -> impl Iterator<Item = &CaptureRef> {
        self.parts.iter().filter_map(|p| match p {
            Part::Capture(c) => Some(c),
            _ => None,
        })
    }

    fn push_text(&self, text: &str, out: &mut Vec<u8>) {
        if self.encoding.is_utf8() {
            out.extend_from_slice(text.as_bytes());
        } else {
            out.extend_from_slice(&self.encoding.encode(text));
        }
    }

    /// Appends the rendered template to `out`. `expand` writes the regex
    /// captures (`$1`, `${name}`) of a `--respond` rule.
    pub fn render_with(&self, msg: &Message<'_>, out: &mut Vec<u8>, expand: Option<&Expand<'_>>) {
        let start = out.len();
        let mut sums = crate::checksum::RunningChecksums::default();
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Text => out.extend_from_slice(msg.bytes),
                Part::Line => out.extend_from_slice(trim_line_ending(msg.bytes)),
                Part::Hex => {
                    let mut hex = String::with_capacity(msg.bytes.len() * 2);
                    for b in msg.bytes {
                        let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
                    }
                    self.push_text(&hex, out);
                }
                Part::Len => self.push_text(&msg.bytes.len().to_string(), out),
                Part::Peer => self.push_text(msg.peer, out),
                Part::Number => self.push_text(&msg.number.to_string(), out),
                Part::Time => {
                    let mut time = Vec::new();
                    let _ = write!(time, "{}", chrono::Local::now().format(&self.time_format));
                    self.push_text(&String::from_utf8_lossy(&time), out);
                }
                Part::Capture(capture) => {
                    if let Some(expand) = expand {
                        expand(capture, out);
                    }
                }
                Part::Rand(n) => {
                    let at = out.len();
                    out.resize(at + n, 0);
                    fastrand::fill(&mut out[at..]);
                }
                Part::Seq(format) => format.append(msg.number, out),
                Part::Check(sum) => sums.append(*sum, out, start),
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
                Part::Literal(b) => write!(f, "{}", self.encoding.decode_lossy(b))?,
                Part::Text => f.write_str("{text}")?,
                Part::Line => f.write_str("{line}")?,
                Part::Hex => f.write_str("{hex}")?,
                Part::Len => f.write_str("{len}")?,
                Part::Peer => f.write_str("{peer}")?,
                Part::Number => f.write_str("{n}")?,
                Part::Time => f.write_str("{time}")?,
                Part::Rand(n) => write!(f, "{{rand:{n}}}")?,
                Part::Seq(s) => write!(f, "{{seq:{}}}", s.name())?,
                Part::Check(c) => write!(f, "{{{}}}", c.name())?,
                Part::Capture(c) => write!(f, "{c}")?,
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
        "line" => Part::Line,
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
    fn line_drops_the_line_ending_and_literals_are_encoded() {
        assert_eq!(render("Loop_msg:{line}!", b"hello\r\n"), b"Loop_msg:hello!");
        assert_eq!(render("[{line}]", b"raw"), b"[raw]");
        let gbk = Syntax {
            encoding: TextEncoding::from_label("gbk").unwrap(),
            captures: false,
        };
        let t = Template::parse_with("收到 {text}\\n", CTIME_FORMAT, gbk).unwrap();
        let mut out = Vec::new();
        let msg = Message {
            bytes: b"\xc4\xe3",
            peer: "p",
            number: 1,
        };
        t.render(&msg, &mut out);
        assert_eq!(out, b"\xca\xd5\xb5\xbd \xc4\xe3\n");
        assert_eq!(t.to_string(), "收到 {text}\n");
    }

    #[test]
    fn captures_only_in_regex_replies() {
        let e = Template::parse("a ${k}", CTIME_FORMAT).unwrap_err();
        assert_eq!(e, TemplateError::CaptureOutsideRegex { position: 2 });
        assert_eq!(render("cost $5 {text}", b"x"), b"cost $5 x");
        let re = Syntax {
            captures: true,
            ..Syntax::default()
        };
        let t = Template::parse_with("$1-${k}-$name-$$-${text}", CTIME_FORMAT, re).unwrap();
        let names: Vec<String> = t.captures().map(|c| c.to_string()).collect();
        assert_eq!(names, ["${1}", "${k}", "${name}", "${text}"]);
        let mut out = Vec::new();
        let expand =
            |c: &CaptureRef, out: &mut Vec<u8>| out.extend_from_slice(c.to_string().as_bytes());
        t.render_with(
            &Message {
                bytes: b"m",
                peer: "p",
                number: 1,
            },
            &mut out,
            Some(&expand),
        );
        assert_eq!(out, b"${1}-${k}-${name}-$-${text}");
        assert!(Template::parse_with("${a b}", CTIME_FORMAT, re).is_err());
        assert!(Template::parse_with("${a", CTIME_FORMAT, re).is_err());
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

    /// What a template's checksums mean, computed the slow way: each one
    /// over every byte rendered before it (earlier checksums included).
    fn render_slowly(pieces: &[Result<Vec<u8>, Checksum>], prefix: &[u8]) -> Vec<u8> {
        let mut out = prefix.to_vec();
        for piece in pieces {
            match piece {
                Ok(bytes) => out.extend_from_slice(bytes),
                Err(sum) => {
                    let mut value = Vec::new();
                    sum.append(&out[prefix.len()..], &mut value);
                    out.extend_from_slice(&value);
                }
            }
        }
        out
    }

    #[test]
    fn checksums_cover_everything_before_them() {
        // Earlier checksums count in later ones, per algorithm and mixed.
        let t = "ab{crc32}{crc32}c{sum8}{crc16:modbus}{xor8}{lrc}{crc32:le}";
        let sum = |name: &str| Err(Checksum::parse(name).unwrap().unwrap());
        let pieces = [
            Ok(b"ab".to_vec()),
            sum("crc32"),
            sum("crc32"),
            Ok(b"c".to_vec()),
            sum("sum8"),
            sum("crc16:modbus"),
            sum("xor8"),
            sum("lrc"),
            sum("crc32:le"),
        ];
        // Bytes already in the buffer before the template are not covered.
        let parsed = Template::parse(t, CTIME_FORMAT).unwrap();
        let mut out = b"before".to_vec();
        let msg = Message {
            bytes: b"",
            peer: "p",
            number: 1,
        };
        parsed.render(&msg, &mut out);
        assert_eq!(out, render_slowly(&pieces, b"before"));
        // Twice in a row into one buffer: each render starts its own sums.
        parsed.render(&msg, &mut out);
        let once = render_slowly(&pieces, b"");
        assert_eq!(&out[out.len() - once.len()..], &once[..]);
    }

    /// Item 23 of issue 21: 150,000 `{crc32}` took over a minute (each
    /// one re-read everything before it); one pass takes milliseconds.
    #[test]
    fn many_checksums_render_in_one_pass() {
        let text = "x{crc32}".repeat(150_000);
        let t = Template::parse(&text, CTIME_FORMAT).unwrap();
        let started = std::time::Instant::now();
        let out = render(&text, b"");
        assert_eq!(out.len(), 150_000 * 5);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // The last checksum covers everything before it.
        let mut last = Vec::new();
        Checksum::parse("crc32")
            .unwrap()
            .unwrap()
            .append(&out[..out.len() - 4], &mut last);
        assert_eq!(&out[out.len() - 4..], &last[..]);
        assert!(t.has_macros());
    }

    proptest! {
        #[test]
        fn checksums_match_the_slow_rendering(
            pieces in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..8).prop_map(Ok),
                    proptest::sample::select(vec![
                        "crc16:modbus", "crc16:ccitt", "crc16:kermit", "crc16:xmodem",
                        "crc32", "crc32:le", "sum8", "xor8", "lrc",
                    ])
                    .prop_map(|name| Err(Checksum::parse(name).unwrap().unwrap())),
                ],
                0..24,
            )
        ) {
            let mut text = String::new();
            for piece in &pieces {
                match piece {
                    Ok(bytes) => {
                        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
                        if !bytes.is_empty() {
                            text.push_str(&format!("{{hex:{}}}", hex.join(" ")));
                        }
                    }
                    Err(sum) => text.push_str(&format!("{{{}}}", sum.name())),
                }
            }
            prop_assert_eq!(render(&text, b""), render_slowly(&pieces, b""));
        }

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
