//! Reading a recorded session: `--json` lines (exact bytes from `hex`) and
//! `--log` transcripts (hex dumps and hex lines are exact; a text entry is
//! decoded text whose line ending the log dropped, so it is re-encoded and
//! marked [`Entry::eol_lost`]).
//!
//! Every line is either understood or refused with one [`TranscriptError`]
//! naming the line number and what is wrong; nothing here panics on any
//! input (a property test feeds it arbitrary text).

use std::time::UNIX_EPOCH;

use crate::encoding::TextEncoding;
use crate::event::{Direction, Event, EventKind};
use crate::view::hexdump::BYTES_PER_LINE;

/// Milliseconds in a day (a `--log` time has no date: a time earlier than
/// the one before it is taken as the next day).
const DAY_MS: u64 = 86_400_000;

/// The most bytes one transcript may hold in messages (a replay keeps
/// them all in memory).
pub const MAX_TRANSCRIPT_BYTES: usize = 256 * 1024 * 1024;

/// One recorded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The line it was read from (from 1).
    pub line: usize,
    /// Which connection carried it: `#ID` for `--json`, the peer label for
    /// a `--log`.
    pub conn: String,
    /// Which way it went, seen from the recorder.
    pub dir: Direction,
    /// When: milliseconds on the transcript's clock.
    pub at_ms: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// A text entry of a `--log`: its line ending was not recorded.
    pub eol_lost: bool,
}

/// What a transcript holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Every message, in order.
    pub entries: Vec<Entry>,
    /// When each connection opened (`connected:` lines, `open` events).
    pub opens: Vec<(String, u64)>,
    /// The recorder was a server (a `listening` line or event): `<`/`in`
    /// came from its clients.
    pub recorded_by_server: bool,
    /// Which run of the recorder the lines belong to: a `--log` is appended
    /// to, so one file can hold several runs whose connection numbers
    /// start again; a new `listening`, or an `open` of a connection already
    /// seen, starts the next run (0 and 1: the first).
    pub run: u32,
}

impl Transcript {
    /// The label of connection `base` in the current run (`#1`, or
    /// `#1 (run 2)` in the second run of an appended log).
    fn label(&self, base: &str) -> String {
        match self.run {
            0 | 1 => base.to_string(),
            run => format!("{base} (run {run})"),
        }
    }

    /// A new run starts when a listener starts again after messages, or a
    /// connection of this run opens again.
    fn next_run_if(&mut self, again: bool) {
        if again {
            self.run = self.run.max(1) + 1;
        }
    }

    fn has_entries_of(&self, label: &str) -> bool {
        self.entries.iter().rev().any(|e| e.conn == label)
    }
}

/// A transcript that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// One line is not what a `--json` or `--log` transcript has.
    #[error("line {line}: {what}")]
    Line {
        /// The line number, from 1.
        line: usize,
        /// What is wrong, and what was expected.
        what: String,
    },
    /// A packet capture that cannot be read: which packet or block, and why.
    #[error("{0}")]
    Capture(String),
    /// The transcript holds more than [`MAX_TRANSCRIPT_BYTES`].
    #[error("more than {MAX_TRANSCRIPT_BYTES} bytes of messages; cut the transcript shorter")]
    TooLarge,
}

fn bad(line: usize, what: impl Into<String>) -> TranscriptError {
    TranscriptError::Line {
        line,
        what: what.into(),
    }
}

/// Parses a transcript. Text entries of a `--log` are encoded with
/// `encoding` (the one the log was written with).
pub fn parse(text: &str, encoding: TextEncoding) -> Result<Transcript, TranscriptError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut out = Transcript::default();
    let mut clock = LogClock::default();
    let mut total = 0usize;
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines.get(i).copied().unwrap_or_default();
        i += 1;
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('{') {
            json_line(line, number, &mut out)?;
        } else if let Some((ms, rest)) = log_time(line) {
            let at_ms = clock.at(ms);
            let Some(data) = log_entry(rest, number, at_ms, &mut out) else {
                continue;
            };
            let entry = data.finish(&lines, &mut i, encoding)?;
            if let Some(entry) = entry {
                out.entries.push(entry);
            }
        } else if line.starts_with("    text: ") {
            // The text shown under a hex dump (`--hex --text`): the dump
            // already gave the bytes.
            continue;
        } else if dump_line(line).is_some() {
            return Err(bad(
                number,
                "a hex dump line outside a message (the `[time] PEER < N bytes` line before it is missing)",
            ));
        } else {
            return Err(bad(
                number,
                format!(
                    "not a sockmate transcript line: {} (expected a --json event `{{\"type\":…}}` or a --log line `[14:03:07.123] PEER < …`)",
                    shorten(line)
                ),
            ));
        }
        if let Some(last) = out.entries.last() {
            total = total.saturating_add(last.bytes.len());
            if total > MAX_TRANSCRIPT_BYTES {
                return Err(TranscriptError::TooLarge);
            }
        }
    }
    Ok(out)
}

/// The first 60 characters of a line, quoted, for an error.
fn shorten(line: &str) -> String {
    let mut s: String = line.chars().take(60).collect();
    if s.len() < line.len() {
        s.push('…');
    }
    format!("\"{s}\"")
}

/// One `--json` line.
fn json_line(line: &str, number: usize, out: &mut Transcript) -> Result<(), TranscriptError> {
    let event: Event = serde_json::from_str(line)
        .map_err(|e| bad(number, format!("not a sockmate --json event: {e}")))?;
    let at_ms = event
        .time
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    match event.kind {
        EventKind::Listening { .. } => {
            out.next_run_if(!out.entries.is_empty());
            out.recorded_by_server = true;
        }
        EventKind::Open { conn, .. } => {
            let again = out.has_entries_of(&out.label(&format!("#{}", conn.id)));
            out.next_run_if(again);
            let label = out.label(&format!("#{}", conn.id));
            out.opens.push((label, at_ms));
        }
        EventKind::Data {
            conn, dir, bytes, ..
        } => out.entries.push(Entry {
            line: number,
            conn: out.label(&format!("#{}", conn.id)),
            dir,
            at_ms,
            bytes: bytes.to_vec(),
            eol_lost: false,
        }),
        _ => {}
    }
    Ok(())
}

/// Turns a `--log`'s times of day into one rising clock.
#[derive(Debug, Default)]
struct LogClock {
    last: Option<u64>,
    days: u64,
}

impl LogClock {
    fn at(&mut self, ms_of_day: u64) -> u64 {
        if self.last.is_some_and(|last| ms_of_day < last) {
            self.days += 1;
        }
        self.last = Some(ms_of_day);
        self.days.saturating_mul(DAY_MS).saturating_add(ms_of_day)
    }
}

/// `[HH:MM:SS.mmm] REST` → milliseconds of the day and REST.
fn log_time(line: &str) -> Option<(u64, &str)> {
    let stamp = line.get(..15)?;
    let rest = line.get(15..)?;
    let b = stamp.as_bytes();
    let shape_ok = b.first() == Some(&b'[')
        && b.get(3) == Some(&b':')
        && b.get(6) == Some(&b':')
        && b.get(9) == Some(&b'.')
        && b.get(13) == Some(&b']')
        && b.get(14) == Some(&b' ');
    if !shape_ok {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = stamp.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (h, m, s, ms) = (num(1..3)?, num(4..6)?, num(7..9)?, num(10..13)?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((((h * 60 + m) * 60 + s) * 1000 + ms, rest))
}

/// A `--log` data entry's first line, before its body is read.
struct LogData<'a> {
    number: usize,
    conn: String,
    dir: Direction,
    at_ms: u64,
    body: &'a str,
}

/// Splits a timestamped line into a data entry; `None` for status lines
/// (`listening on`, `connected:`, `closed:`, errors, notices), noting
/// what they tell.
fn log_entry<'a>(
    rest: &'a str,
    number: usize,
    at_ms: u64,
    out: &mut Transcript,
) -> Option<LogData<'a>> {
    if rest.starts_with("listening on ") {
        out.next_run_if(!out.entries.is_empty());
        out.recorded_by_server = true;
        return None;
    }
    if let Some(peer) = rest.strip_prefix("connected: ") {
        let again = out.has_entries_of(&out.label(peer));
        out.next_run_if(again);
        out.opens.push((out.label(peer), at_ms));
        return None;
    }
    if rest.starts_with("closed: ") || rest.starts_with("error: ") {
        return None;
    }
    let arrow = [" < ", " > "]
        .iter()
        .filter_map(|a| rest.find(a))
        .min()
        .or_else(|| {
            (rest.ends_with(" <") || rest.ends_with(" >")).then(|| rest.len().saturating_sub(2))
        })?;
    let conn = rest.get(..arrow)?;
    let dir = match rest.get(arrow + 1..arrow + 2)? {
        "<" => Direction::In,
        _ => Direction::Out,
    };
    if conn.is_empty() {
        return None;
    }
    Some(LogData {
        number,
        conn: out.label(conn),
        dir,
        at_ms,
        body: rest.get(arrow + 2..)?,
    })
}

impl LogData<'_> {
    /// Reads the entry's body (and the hex dump lines after it, moving
    /// `next` past them). `None` for an entry with no message of its own
    /// (a partial character's tail).
    fn finish(
        self,
        lines: &[&str],
        next: &mut usize,
        encoding: TextEncoding,
    ) -> Result<Option<Entry>, TranscriptError> {
        let entry = |bytes: Vec<u8>, eol_lost: bool| Entry {
            line: self.number,
            conn: self.conn.clone(),
            dir: self.dir,
            at_ms: self.at_ms,
            bytes,
            eol_lost,
        };
        if self.body == " incomplete character at end" {
            return Ok(None);
        }
        if let Some(len) = dump_header(self.body) {
            let follows = lines.get(*next).is_some_and(|l| dump_line(l).is_some());
            if follows || len == 0 {
                let bytes = read_dump(lines, next, self.number, len)?;
                return Ok(Some(entry(bytes, false)));
            }
        }
        if let Some(bytes) = hex_line(self.body) {
            return Ok(Some(entry(bytes, false)));
        }
        let text = self.body.strip_prefix(' ').unwrap_or(self.body);
        Ok(Some(entry(encoding.encode(&unescape_visible(text)), true)))
    }
}

/// ` N bytes` (optionally `, text`/`, binary`, or as older versions
/// wrote them `, ws text`/`, ws binary`) → N.
fn dump_header(body: &str) -> Option<usize> {
    let body = [", ws text", ", ws binary", ", text", ", binary"]
        .iter()
        .find_map(|tail| body.strip_suffix(tail))
        .unwrap_or(body);
    let n = body.strip_prefix(' ')?.strip_suffix(" bytes")?;
    if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// One `hexdump -C` line → its offset and bytes.
fn dump_line(line: &str) -> Option<(usize, Vec<u8>)> {
    let offset = line.get(..8)?;
    if !offset.bytes().all(|c| c.is_ascii_hexdigit()) || line.get(8..10)? != "  " {
        return None;
    }
    let offset = usize::from_str_radix(offset, 16).ok()?;
    // The hex columns end where the ` |gutter|` starts.
    let hex = line.get(10..).and_then(|h| h.get(..h.find(" |")?))?;
    let mut bytes = Vec::with_capacity(BYTES_PER_LINE);
    for token in hex.split_whitespace() {
        bytes.push(hex_byte(token)?);
    }
    if bytes.is_empty() || bytes.len() > BYTES_PER_LINE {
        return None;
    }
    Some((offset, bytes))
}

/// The dump lines of one message, checked against its header's length.
fn read_dump(
    lines: &[&str],
    next: &mut usize,
    header_line: usize,
    len: usize,
) -> Result<Vec<u8>, TranscriptError> {
    let mut bytes = Vec::with_capacity(len.min(64 * 1024));
    while let Some((offset, chunk)) = lines.get(*next).and_then(|l| dump_line(l)) {
        let number = *next + 1;
        if offset != bytes.len() {
            return Err(bad(
                number,
                format!(
                    "hex dump offset {offset:08x} where {:08x} was expected (a dump line is missing or edited)",
                    bytes.len()
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
        *next += 1;
        if bytes.len() > len {
            return Err(bad(
                number,
                format!("the hex dump holds more than the {len} bytes its header (line {header_line}) says"),
            ));
        }
    }
    if bytes.len() != len {
        return Err(bad(
            header_line,
            format!(
                "the header says {len} bytes but its hex dump holds {}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

/// ` 01 02 ff` (a `--hex=line` entry, or sent bytes given as hex) → bytes.
fn hex_line(body: &str) -> Option<Vec<u8>> {
    let tokens = body.strip_prefix(' ')?;
    if tokens.is_empty() || tokens.len() % 3 != 2 {
        return None;
    }
    let mut bytes = Vec::new();
    for (i, token) in tokens.split(' ').enumerate() {
        if i > 0 && token.is_empty() {
            return None;
        }
        bytes.push(hex_byte(token)?);
    }
    Some(bytes)
}

/// Two lower- or upper-case hex digits → a byte.
fn hex_byte(token: &str) -> Option<u8> {
    if token.len() != 2 || !token.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(token, 16).ok()
}

/// Undoes what the log did to show control characters (`\n`, `\r`,
/// `\xNN`); any other backslash stays as it is.
pub fn unescape_visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('n') => {
                chars.next();
                out.push('\n');
            }
            Some('r') => {
                chars.next();
                out.push('\r');
            }
            Some('x') => {
                let mut look = chars.clone();
                look.next();
                let digits: String = look.by_ref().take(2).collect();
                match (digits.len() == 2)
                    .then(|| u32::from_str_radix(&digits, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                {
                    Some(ch) => {
                        out.push(ch);
                        chars = look;
                    }
                    None => out.push('\\'),
                }
            }
            _ => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utf8() -> TextEncoding {
        TextEncoding::default()
    }

    #[test]
    fn json_lines_give_exact_bytes_and_the_recorder() {
        let text = r#"{"endpoint":"tcp://127.0.0.1:5020","time":"2026-11-23T00:21:03.384+00:00","type":"listening"}
{"conn":1,"local":"127.0.0.1:5020","peer":"127.0.0.1:47032","time":"2026-11-23T00:21:03.384+00:00","type":"open"}
{"conn":1,"dir":"in","hex":"0103","len":2,"peer":"127.0.0.1:47032","text":"\u0001\u0003","time":"2026-11-23T00:21:03.500+00:00","type":"data"}
{"conn":1,"dir":"out","hex":"0604","len":2,"peer":"127.0.0.1:47032","text":"","time":"2026-11-23T00:21:03.501+00:00","type":"data"}
"#;
        let t = parse(text, utf8()).unwrap();
        assert!(t.recorded_by_server);
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.entries[0].bytes, [1, 3]);
        assert_eq!(t.entries[0].conn, "#1");
        assert_eq!(t.entries[1].dir, Direction::Out);
        assert_eq!(t.entries[1].at_ms - t.entries[0].at_ms, 1);
        assert_eq!(t.opens.len(), 1);
    }

    #[test]
    fn log_transcripts_in_text_hex_and_hex_lines() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let text = "[23:59:59.900] listening on tcp://127.0.0.1:5020\n\
[23:59:59.950] connected: #1 127.0.0.1:40000\n\
[23:59:59.990] #1 127.0.0.1:40000 < 温度?\n\
[00:00:00.010] #1 127.0.0.1:40000 > 温度 25℃\\r\n\
[00:00:00.020] #1 127.0.0.1:40000 < 18 bytes\n\
00000000  00 01 00 00 00 06 01 03  00 00 00 02 41 42 43 44  |............ABCD|\n\
00000010  45 7c                                             |E||\n\
\x20   text: whatever\n\
[00:00:00.030] #1 127.0.0.1:40000 > 01 02 ff\n\
[00:00:00.040] reconnecting to somewhere\n\
[00:00:00.050] closed: #1 127.0.0.1:40000 (3 bytes in, 4 bytes out)\n";
        let t = parse(text, gbk).unwrap();
        assert!(t.recorded_by_server);
        let e = &t.entries;
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].bytes, gbk.encode("温度?"));
        assert!(e[0].eol_lost);
        assert_eq!(e[1].bytes, gbk.encode("温度 25℃\r"));
        assert_eq!(e[1].at_ms - e[0].at_ms, 20, "midnight passes");
        assert_eq!(e[2].bytes.len(), 18);
        assert_eq!(&e[2].bytes[16..], b"E|");
        assert!(!e[2].eol_lost);
        assert_eq!(e[3].bytes, [1, 2, 0xff]);
        assert_eq!(e[3].conn, "#1 127.0.0.1:40000");
        assert_eq!(t.opens, [("#1 127.0.0.1:40000".to_string(), 86_399_950)]);
    }

    #[test]
    fn an_appended_log_keeps_its_runs_apart() {
        let text = "[10:00:00.000] listening on tcp://127.0.0.1:1\n\
[10:00:00.100] #1 a:1 < x\n\
[10:00:01.000] listening on tcp://127.0.0.1:1\n\
[10:00:01.100] connected: #1 a:1\n\
[10:00:01.200] #1 a:1 < y\n";
        let t = parse(text, utf8()).unwrap();
        let labels: Vec<&str> = t.entries.iter().map(|e| e.conn.as_str()).collect();
        assert_eq!(labels, ["#1 a:1", "#1 a:1 (run 2)"]);
        let json = r#"{"conn":1,"dir":"out","hex":"01","len":1,"peer":"p","time":"2026-11-23T00:21:03.384+00:00","type":"data"}
{"conn":1,"local":"l","peer":"p","time":"2026-11-23T00:22:03.384+00:00","type":"open"}
{"conn":1,"dir":"out","hex":"02","len":1,"peer":"p","time":"2026-11-23T00:22:03.484+00:00","type":"data"}"#;
        let t = parse(json, utf8()).unwrap();
        let labels: Vec<&str> = t.entries.iter().map(|e| e.conn.as_str()).collect();
        assert_eq!(labels, ["#1", "#1 (run 2)"]);
    }

    #[test]
    fn malformed_lines_name_the_line_and_the_problem() {
        let cases = [
            ("{\"type\":\"data\"}\n", "line 1: not a sockmate --json event"),
            ("\n\nhello there\n", "line 3: not a sockmate transcript line: \"hello there\""),
            (
                "[10:00:00.000] p < 3 bytes\n00000000  01 02  |..|\n",
                "line 1: the header says 3 bytes but its hex dump holds 2",
            ),
            (
                "[10:00:00.000] p < 2 bytes\n00000010  01 02  |..|\n",
                "line 2: hex dump offset 00000010 where 00000000 was expected",
            ),
            ("00000000  01 02  |..|\n", "line 1: a hex dump line outside a message"),
            (
                "{\"conn\":1,\"dir\":\"in\",\"hex\":\"0g\",\"len\":1,\"peer\":\"p\",\"time\":\"2026-11-23T00:21:03.384+00:00\",\"type\":\"data\"}",
                "line 1: not a sockmate --json event: bad hex",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text, utf8()).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn visible_escapes_come_back() {
        assert_eq!(
            unescape_visible("a\\r\\nb\\x01\\q\\x4"),
            "a\r\nb\u{1}\\q\\x4"
        );
        assert_eq!(unescape_visible("\\"), "\\");
        assert_eq!(hex_line(" 01 ab"), Some(vec![1, 0xab]));
        assert_eq!(hex_line(" 01 ab "), None);
        assert_eq!(hex_line(" ok"), None);
        assert_eq!(dump_header(" 12 bytes, ws text"), Some(12));
        assert_eq!(dump_header(" 12 bytes, binary"), Some(12));
        assert_eq!(dump_header(" 1x bytes"), None);
    }

    proptest! {
        #[test]
        fn no_input_panics(text in "\\PC{0,200}") {
            let _ = parse(&text, utf8());
        }

        #[test]
        fn log_shaped_input_never_panics(
            lines in proptest::collection::vec(
                prop_oneof![
                    "\\[[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\] [#0-9a-z:. ]{0,12}[<>]( [0-9a-f]{2}){0,4}",
                    "\\[[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\] p < [0-9]{1,3} bytes",
                    "[0-9a-f]{8}  ([0-9a-f]{2} ){0,17} \\|.{0,16}\\|",
                    "\\{\"type\":\"[a-z]{0,8}\".{0,40}\\}",
                    "\\PC{0,30}",
                ],
                0..12,
            )
        ) {
            let _ = parse(&lines.join("\n"), utf8());
        }

        #[test]
        fn hex_dumps_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..80)) {
            let mut dump = String::new();
            crate::view::hexdump::hexdump(&bytes, &mut dump);
            let text = format!("[01:02:03.004] 127.0.0.1:9 < {} bytes\n{dump}", bytes.len());
            let t = parse(&text, utf8()).unwrap();
            prop_assert_eq!(&t.entries[0].bytes, &bytes);
        }
    }
}
