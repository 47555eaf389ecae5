//! The human views: decoded text, hex dumps and timestamped transcripts.
//!
//! - plain text (`--encoding ENC` alone): received bytes decoded to UTF-8
//!   with a streaming decoder, nothing added — how a GBK device is read;
//! - annotated (`-t`, `--hex`, `--log`): one entry per message, optionally
//!   starting with `[14:03:07.123] PEER <` (`<` received, `>` sent), as text,
//!   as a hex dump, or both.

use std::io::{self, Write};

use chrono::{DateTime, Local};

use super::hexdump::{hexdump, push_hex_spaced};
use super::status::{status_line, Verbosity};
use super::stdout;
use super::Sink;
use crate::encoding::{ConnDecoders, TextEncoding};
use crate::event::{ConnInfo, Direction, Event, EventKind};

/// How message bodies are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Decoded text.
    Text,
    /// A hex dump.
    Hex,
    /// A hex dump followed by the decoded text.
    HexAndText,
    /// The bytes in hex on the entry's line (`--hex=line`).
    HexLine,
}

/// The look of an annotated transcript.
#[derive(Debug, Clone)]
pub struct Style {
    /// How bodies are shown.
    pub body: Body,
    /// Start each entry with the local time to the millisecond.
    pub timestamps: bool,
    /// ANSI colours.
    pub color: bool,
    /// Encoding for decoding text.
    pub encoding: TextEncoding,
    /// Also write status events (connected, closed, errors) into the
    /// transcript (log files do; stdout leaves them to stderr).
    pub status: bool,
    /// Show sent bytes as a hex line even in a text transcript (they were
    /// given as hex or built by payload macros).
    pub sent_as_hex: bool,
}

const DIM: &str = "\x1b[2m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// Writes an annotated transcript (one entry per message) to `out`.
pub struct Transcript<W: Write + Send> {
    out: W,
    style: Style,
    decoders: ConnDecoders,
}

impl<W: Write + Send> Transcript<W> {
    /// A transcript writer.
    pub fn new(out: W, style: Style) -> Self {
        let decoders = ConnDecoders::new(style.encoding);
        Transcript {
            out,
            style,
            decoders,
        }
    }

    fn prefix(
        &self,
        time: DateTime<Local>,
        conn: &ConnInfo,
        arrow: &str,
        dir: Option<Direction>,
    ) -> String {
        let mut s = String::new();
        let color = self.style.color;
        if self.style.timestamps {
            if color {
                s.push_str(DIM);
            }
            s.push_str(&time.format("[%H:%M:%S%.3f] ").to_string());
            if color {
                s.push_str(RESET);
            }
        }
        s.push_str(&peer_label(conn));
        s.push(' ');
        if color {
            s.push_str(if dir == Some(Direction::Out) {
                CYAN
            } else {
                GREEN
            });
        }
        s.push_str(arrow);
        if color {
            s.push_str(RESET);
        }
        s
    }

    /// The text of the entry for the next event, if it has one. Events must
    /// come in order: text continues the connection's earlier messages in
    /// that direction (a character split across two reads shows whole in
    /// the second entry).
    pub fn render(&mut self, event: &Event) -> Option<String> {
        let time: DateTime<Local> = event.time.into();
        let mut s = String::new();
        match &event.kind {
            EventKind::Data {
                conn,
                dir,
                bytes,
                kind,
            } => {
                s = self.prefix(time, conn, dir.arrow(), Some(*dir));
                let body = match self.style.body {
                    Body::Text if self.style.sent_as_hex && *dir == Direction::Out => Body::HexLine,
                    body => body,
                };
                match body {
                    Body::HexLine => {
                        push_hex_spaced(bytes, &mut s);
                        s.push('\n');
                    }
                    Body::Text => {
                        s.push(' ');
                        let text = self.decoders.decode(conn.id, *dir, bytes);
                        push_visible(&mut s, trim_line_end(&text));
                        s.push('\n');
                    }
                    Body::Hex | Body::HexAndText => {
                        s.push_str(&format!(" {} bytes", bytes.len()));
                        if let Some(kind) = kind {
                            s.push_str(", ");
                            s.push_str(kind.as_str());
                        }
                        s.push('\n');
                        hexdump(bytes, &mut s);
                        if self.style.body == Body::HexAndText {
                            let text = self.decoders.decode(conn.id, *dir, bytes);
                            s.push_str("    text: ");
                            push_visible(&mut s, &text);
                            s.push('\n');
                        }
                    }
                }
                return Some(s);
            }
            EventKind::Eof { conn, dir } => {
                let tail = self.decoders.finish(conn.id, *dir);
                self.push_tail(&mut s, time, conn, *dir, &tail);
            }
            EventKind::Close { conn, .. } => {
                for (dir, tail) in self.decoders.finish_conn(conn.id) {
                    self.push_tail(&mut s, time, conn, dir, &tail);
                }
            }
            _ => {}
        }
        if self.style.status {
            if let Some(line) = status_line(&event.kind, Verbosity::Normal) {
                if self.style.timestamps {
                    s.push_str(&time.format("[%H:%M:%S%.3f] ").to_string());
                }
                s.push_str(&line);
                s.push('\n');
            }
        }
        (!s.is_empty()).then_some(s)
    }

    /// Appends the entry for a partial character left when a direction
    /// ended (`tail` is U+FFFD then; nothing when it is empty).
    fn push_tail(
        &self,
        s: &mut String,
        time: DateTime<Local>,
        conn: &ConnInfo,
        dir: Direction,
        tail: &str,
    ) {
        if tail.is_empty() {
            return;
        }
        s.push_str(&self.prefix(time, conn, dir.arrow(), Some(dir)));
        if self.style.body == Body::Text {
            s.push(' ');
        } else {
            s.push_str(" incomplete character at end\n    text: ");
        }
        push_visible(s, tail);
        s.push('\n');
    }
}

/// How a peer is named in transcripts: its address, or `#ID` when it has
/// none (unnamed Unix clients).
pub fn peer_label(conn: &ConnInfo) -> String {
    if &*conn.peer == "unnamed" {
        format!("#{}", conn.id)
    } else {
        conn.peer.to_string()
    }
}

/// Appends text with control characters made visible (`\x01`, `\r`, `\n`
/// inside a message), so binary bytes never garble a transcript line.
fn push_visible(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\t' => out.push('\t'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
}

fn trim_line_end(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

impl<W: Write + Send> Sink for Transcript<W> {
    fn wants_sent_data(&self) -> bool {
        true
    }

    fn wants_received_data(&self) -> bool {
        true
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let Some(text) = self.render(event) {
            self.out.write_all(text.as_bytes())?;
            self.out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Received bytes decoded to UTF-8 on stdout, nothing added (`--encoding`
/// alone). Closes stdout on the peer's EOF in single-session modes.
pub struct DecodedStdout {
    out: Option<std::fs::File>,
    decoders: ConnDecoders,
    close_on_peer_eof: bool,
    message_lines: bool,
}

impl DecodedStdout {
    /// A decoding stdout sink.
    pub fn new(encoding: TextEncoding, close_on_peer_eof: bool) -> io::Result<Self> {
        Ok(DecodedStdout {
            out: Some(stdout::stdout_file()?),
            decoders: ConnDecoders::new(encoding),
            close_on_peer_eof,
            message_lines: false,
        })
    }

    /// With `on`, each received message ends its own line (a terminal's
    /// view of datagrams; see [`super::ViewOptions::message_lines`]).
    pub fn message_lines(mut self, on: bool) -> Self {
        self.message_lines = on;
        self
    }

    fn write(&mut self, text: &str) -> io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out.write_all(text.as_bytes()),
            None => Ok(()),
        }
    }
}

impl Sink for DecodedStdout {
    fn wants_received_data(&self) -> bool {
        true
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::Data {
                conn,
                dir: Direction::In,
                bytes,
                ..
            } => {
                let text = self.decoders.decode(conn.id, Direction::In, bytes);
                self.write(&text)?;
                if self.message_lines && super::raw::needs_line_end(bytes) {
                    self.write("\n")?;
                }
            }
            EventKind::Eof {
                conn,
                dir: Direction::In,
            } => {
                let tail = self.decoders.finish(conn.id, Direction::In);
                self.write(&tail)?;
                if self.close_on_peer_eof && self.out.is_some() {
                    self.out = None;
                    stdout::release_stdout()?;
                }
            }
            EventKind::Close { conn, .. } => {
                for (_, tail) in self.decoders.finish_conn(conn.id) {
                    self.write(&tail)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn event(kind: EventKind) -> Event {
        Event {
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_234),
            kind,
        }
    }

    #[test]
    fn text_entry_has_time_peer_and_arrow() {
        let mut t = Transcript::new(
            Vec::new(),
            Style {
                body: Body::Text,
                timestamps: true,
                color: false,
                encoding: TextEncoding::default(),
                status: false,
                sent_as_hex: false,
            },
        );
        let conn = ConnInfo::new(1, "127.0.0.1:5000");
        let line = t
            .render(&event(EventKind::Data {
                conn,
                dir: Direction::In,
                bytes: bytes::Bytes::from_static(b"hi\r\n"),
                kind: None,
            }))
            .unwrap();
        let local: DateTime<Local> = (SystemTime::UNIX_EPOCH + Duration::from_millis(1_234)).into();
        assert_eq!(
            line,
            format!("{} 127.0.0.1:5000 < hi\n", local.format("[%H:%M:%S%.3f]"))
        );
    }

    #[test]
    fn a_split_character_shows_whole_in_the_second_entry() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let conn = ConnInfo::new(1, "127.0.0.1:5000");
        let data = |bytes: &'static [u8]| {
            event(EventKind::Data {
                conn: conn.clone(),
                dir: Direction::In,
                bytes: bytes::Bytes::from_static(bytes),
                kind: None,
            })
        };
        let eof = event(EventKind::Eof {
            conn: conn.clone(),
            dir: Direction::In,
        });
        for (body, expected) in [
            (
                Body::Text,
                "127.0.0.1:5000 < \n127.0.0.1:5000 < 中!\n127.0.0.1:5000 < \u{fffd}\n",
            ),
            (
                Body::HexAndText,
                "127.0.0.1:5000 < 1 bytes\n\
                 00000000  d6                                                |.|\n    text: \n\
                 127.0.0.1:5000 < 3 bytes\n\
                 00000000  d0 21 d6                                          |.!.|\n    text: 中!\n\
                 127.0.0.1:5000 < incomplete character at end\n    text: \u{fffd}\n",
            ),
        ] {
            let mut t = Transcript::new(
                Vec::new(),
                Style {
                    body,
                    timestamps: false,
                    color: false,
                    encoding: gbk,
                    status: false,
                    sent_as_hex: false,
                },
            );
            for e in [data(b"\xd6"), data(b"\xd0!\xd6"), eof.clone()] {
                t.handle(&e).unwrap();
            }
            assert_eq!(String::from_utf8(t.out).unwrap(), expected, "{body:?}");
        }
    }
}
