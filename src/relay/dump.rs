//! `relay --dump text|hex|json`: a compact renderer of relayed traffic on
//! stdout (and `--log FILE`), tagged with the connection id, the client's
//! address and the direction (`<` client → target, `>` target → client).
//!
//! This is the relay's own minimal renderer; it reads the same event
//! stream as every other view.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use encoding_rs::Encoding;

use crate::event::{Event, EventKind};
use crate::view::Sink;

/// Bytes per hex-dump line.
const HEX_WIDTH: usize = 16;

/// How dumped traffic is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// Decoded text, one block per read.
    Text,
    /// Offset, hex and ASCII, like `hexdump -C`.
    Hex,
    /// One JSON object a line per event.
    Json,
}

impl std::str::FromStr for DumpFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(DumpFormat::Text),
            "hex" => Ok(DumpFormat::Hex),
            "json" => Ok(DumpFormat::Json),
            _ => Err(format!(
                "invalid --dump \"{s}\" (give text, hex or json, e.g. --dump hex)"
            )),
        }
    }
}

/// Everything the dump needs.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// The format.
    pub format: DumpFormat,
    /// Start each record with the local time to the millisecond.
    pub timestamps: bool,
    /// How text is decoded for display.
    pub encoding: &'static Encoding,
    /// Also write the transcript to this file.
    pub log: Option<PathBuf>,
}

/// Looks up an encoding label (`utf-8`, `gbk`, `latin1`, …).
pub fn parse_encoding(label: &str) -> Result<&'static Encoding, String> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        format!("unknown --encoding \"{label}\" (e.g. utf-8, gbk, shift_jis, latin1)")
    })
}

/// Renders relayed traffic to stdout and, optionally, a log file.
pub struct DumpSink {
    opts: DumpOptions,
    out: BufWriter<io::Stdout>,
    log: Option<BufWriter<File>>,
}

impl DumpSink {
    /// Opens the outputs (creates the log file).
    pub fn new(opts: DumpOptions) -> io::Result<Self> {
        let log = match &opts.log {
            Some(path) => Some(BufWriter::new(File::create(path)?)),
            None => None,
        };
        Ok(DumpSink {
            opts,
            out: BufWriter::new(io::stdout()),
            log,
        })
    }
}

impl Sink for DumpSink {
    fn wants_sent_data(&self) -> bool {
        true
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        let Some(record) = render(event, &self.opts) else {
            return Ok(());
        };
        self.out.write_all(record.as_bytes())?;
        self.out.flush()?;
        if let Some(log) = self.log.as_mut() {
            log.write_all(record.as_bytes())?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if let Some(log) = self.log.as_mut() {
            log.flush()?;
        }
        Ok(())
    }
}

/// The text of one event in the dump, if it shows there.
pub fn render(event: &Event, opts: &DumpOptions) -> Option<String> {
    let stamp = if opts.timestamps {
        let local: chrono::DateTime<chrono::Local> = event.time.into();
        format!("[{}] ", local.format("%H:%M:%S%.3f"))
    } else {
        String::new()
    };
    if opts.format == DumpFormat::Json {
        return render_json(event).map(|v| format!("{v}\n"));
    }
    let EventKind::Data { conn, dir, bytes } = &event.kind else {
        return None;
    };
    let header = format!(
        "{stamp}#{} {} {} {} bytes",
        conn.id,
        conn.peer,
        dir.arrow(),
        bytes.len()
    );
    let mut out = String::new();
    match opts.format {
        DumpFormat::Text => {
            let (text, _, _) = opts.encoding.decode(bytes);
            let _ = writeln!(out, "{header}");
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        DumpFormat::Hex => {
            let _ = writeln!(out, "{header}");
            hexdump(bytes, &mut out);
        }
        DumpFormat::Json => {}
    }
    Some(out)
}

fn render_json(event: &Event) -> Option<serde_json::Value> {
    let time = chrono::DateTime::<chrono::Local>::from(event.time)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    let value = match &event.kind {
        EventKind::Open { conn, .. } => serde_json::json!({
            "event": "open", "conn": conn.id, "peer": &*conn.peer, "time": time,
        }),
        EventKind::Data { conn, dir, bytes } => serde_json::json!({
            "event": "data", "conn": conn.id, "peer": &*conn.peer, "dir": dir.as_str(),
            "len": bytes.len(), "text": String::from_utf8_lossy(bytes), "hex": hex(bytes), "time": time,
        }),
        EventKind::Close {
            conn,
            reason,
            counters,
        } => serde_json::json!({
            "event": "close", "conn": conn.id, "peer": &*conn.peer, "reason": reason.to_string(),
            "bytes_in": counters.bytes_in, "bytes_out": counters.bytes_out, "time": time,
        }),
        EventKind::Error { conn, message } => serde_json::json!({
            "event": "error", "conn": conn.as_ref().map(|c| c.id), "message": message, "time": time,
        }),
        _ => return None,
    };
    Some(value)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Appends a `hexdump -C`-style dump of `bytes` to `out`.
pub fn hexdump(bytes: &[u8], out: &mut String) {
    for (line, chunk) in bytes.chunks(HEX_WIDTH).enumerate() {
        let _ = write!(out, "{:08x}  ", line * HEX_WIDTH);
        for i in 0..HEX_WIDTH {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == HEX_WIDTH / 2 - 1 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ConnInfo, Direction};
    use bytes::Bytes;

    fn data(bytes: &'static [u8], dir: Direction) -> Event {
        Event {
            time: std::time::SystemTime::UNIX_EPOCH,
            kind: EventKind::Data {
                conn: ConnInfo::new(3, "127.0.0.1:4000"),
                dir,
                bytes: Bytes::from_static(bytes),
            },
        }
    }

    fn opts(format: DumpFormat) -> DumpOptions {
        DumpOptions {
            format,
            timestamps: false,
            encoding: encoding_rs::UTF_8,
            log: None,
        }
    }

    #[test]
    fn hex_dump_lines() {
        let out = render(
            &data(b"hello, relay!\x00\x01\xff+", Direction::In),
            &opts(DumpFormat::Hex),
        )
        .unwrap();
        assert_eq!(
            out,
            "#3 127.0.0.1:4000 < 17 bytes\n00000000  68 65 6c 6c 6f 2c 20 72  65 6c 61 79 21 00 01 ff  |hello, relay!...|\n00000010  2b                                                |+|\n"
        );
    }

    #[test]
    fn text_decodes_with_the_encoding() {
        let mut o = opts(DumpFormat::Text);
        o.encoding = parse_encoding("gbk").unwrap();
        let out = render(&data(b"\xc4\xe3\xba\xc3", Direction::Out), &o).unwrap();
        assert_eq!(out, "#3 127.0.0.1:4000 > 4 bytes\n你好\n");
    }

    #[test]
    fn json_is_one_object_a_line() {
        let out = render(&data(b"hi", Direction::In), &opts(DumpFormat::Json)).unwrap();
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["dir"], "in");
        assert_eq!(v["hex"], "6869");
        assert_eq!(v["conn"], 3);
    }

    #[test]
    fn bad_names_say_what_to_write() {
        assert!("xml"
            .parse::<DumpFormat>()
            .unwrap_err()
            .contains("text, hex or json"));
        assert!(parse_encoding("klingon")
            .unwrap_err()
            .contains("--encoding"));
    }
}
