//! JSON Lines: one object per event, for scripts (`--json`, and `--log`
//! with `--json`). The schema is documented in docs/json-events.md; it is the serde
//! form of [`Event`] plus `text`, the data decoded with `--encoding`.
//!
//! `text` is decoded with one streaming decoder per connection and
//! direction, so a character split across two messages shows whole in the
//! second. A partial character left when a direction ends shows as
//! U+FFFD in the `text` of its `eof` (or of the `close`).

use std::io::{self, Write};

use serde_json::Value;

use super::Sink;
use crate::encoding::{ConnDecoders, TextEncoding};
use crate::event::{Event, EventKind};

/// The version of the `--json` schema, in the first line of every
/// command's output (`"schema":1`). It changes when a field is renamed or
/// removed, not when one is added.
pub const SCHEMA_VERSION: u64 = 1;

/// What every `--json` line of every command shares: `type`, `time` (RFC
/// 3339, local, milliseconds) and, on the first line, `schema`.
#[derive(Debug, Default)]
pub struct Envelope {
    started: std::sync::atomic::AtomicBool,
}

impl Envelope {
    /// An envelope whose next line is the first.
    pub fn new() -> Self {
        Envelope::default()
    }

    /// `fields` as a line of type `kind`, stamped now.
    pub fn line(&self, kind: &str, mut fields: Value) -> Value {
        if let Value::Object(object) = &mut fields {
            object.insert("type".into(), Value::String(kind.into()));
            let now = crate::event::wire::local_time_ms::text(std::time::SystemTime::now());
            object.insert("time".into(), Value::String(now));
        }
        self.stamp(&mut fields);
        fields
    }

    /// Adds `schema` to `value` when it is the first line.
    pub fn stamp(&self, value: &mut Value) {
        let first = !self
            .started
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        if let (true, Value::Object(object)) = (first, value) {
            object.insert("schema".into(), Value::from(SCHEMA_VERSION));
        }
    }
}

/// Writes each event as one JSON object per line.
pub struct JsonLines<W: Write + Send> {
    out: W,
    decoders: ConnDecoders,
    envelope: Envelope,
}

impl<W: Write + Send> JsonLines<W> {
    /// A JSON Lines writer; `text` fields are decoded with `encoding`.
    pub fn new(out: W, encoding: TextEncoding) -> Self {
        JsonLines {
            out,
            decoders: ConnDecoders::new(encoding),
            envelope: Envelope::new(),
        }
    }

    /// The JSON object for the next event (events must come in order: the
    /// `text` of data continues the connection's earlier messages).
    pub fn to_json(&mut self, event: &Event) -> serde_json::Result<Value> {
        let mut value = serde_json::to_value(event)?;
        if let (Some(text), Value::Object(object)) = (self.text(&event.kind), &mut value) {
            object.insert("text".into(), Value::String(text));
        }
        self.envelope.stamp(&mut value);
        Ok(value)
    }

    /// The decoded `text` of an event: always for data, for `eof` and
    /// `close` only when a partial character was left over.
    fn text(&mut self, kind: &EventKind) -> Option<String> {
        match kind {
            EventKind::Data {
                conn, dir, bytes, ..
            } => Some(self.decoders.decode(conn.id, *dir, bytes)),
            EventKind::Eof { conn, dir } => {
                Some(self.decoders.finish(conn.id, *dir)).filter(|tail| !tail.is_empty())
            }
            EventKind::Close { conn, .. } => {
                let tails = self.decoders.finish_conn(conn.id);
                (!tails.is_empty()).then(|| tails.into_iter().map(|(_, tail)| tail).collect())
            }
            _ => None,
        }
    }
}

impl<W: Write + Send> Sink for JsonLines<W> {
    fn wants_sent_data(&self) -> bool {
        true
    }

    fn wants_received_data(&self) -> bool {
        true
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        let value = self.to_json(event)?;
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    use bytes::Bytes;
    use chrono::{DateTime, Local, SecondsFormat};

    use crate::event::{CloseReason, ConnInfo, Counters, Direction};

    fn at(kind: EventKind) -> Event {
        Event {
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_234),
            kind,
        }
    }

    #[test]
    fn lines_are_the_schema_plus_streamed_text() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let mut json = JsonLines::new(Vec::new(), gbk);
        let conn = ConnInfo::new(1, "127.0.0.1:9000");
        let data = |bytes: &'static [u8]| EventKind::Data {
            conn: conn.clone(),
            dir: Direction::In,
            bytes: Bytes::from_static(bytes),
            kind: None,
        };
        for kind in [
            data(b"\xd6"),
            data(b"\xd0!\xd6"),
            EventKind::Eof {
                conn: conn.clone(),
                dir: Direction::In,
            },
            EventKind::Close {
                conn: conn.clone(),
                reason: CloseReason::Done,
                counters: Counters::default(),
            },
        ] {
            json.handle(&at(kind)).unwrap();
        }
        let time: DateTime<Local> = (SystemTime::UNIX_EPOCH + Duration::from_millis(1_234)).into();
        let t = time.to_rfc3339_opts(SecondsFormat::Millis, false);
        let expected = [
            r#"{"conn":1,"dir":"in","hex":"d6","len":1,"peer":"127.0.0.1:9000","schema":1,"text":"","time":"T","type":"data"}"#,
            r#"{"conn":1,"dir":"in","hex":"d021d6","len":3,"peer":"127.0.0.1:9000","text":"中!","time":"T","type":"data"}"#,
            r#"{"conn":1,"dir":"in","peer":"127.0.0.1:9000","text":"�","time":"T","type":"eof"}"#,
            r#"{"bytes_in":0,"bytes_out":0,"conn":1,"msgs_in":0,"msgs_out":0,"peer":"127.0.0.1:9000","reason":"done","time":"T","type":"close"}"#,
        ]
        .map(|line| line.replace("\"T\"", &format!("\"{t}\"")) + "\n")
        .concat();
        assert_eq!(String::from_utf8(json.out).unwrap(), expected);
    }
}
