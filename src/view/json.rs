//! JSON Lines: one object per event, for scripts (`--json`, and `--log`
//! with `--json`). The schema is documented in the README.

use std::io::{self, Write};

use chrono::{DateTime, Local, SecondsFormat};
use serde_json::{json, Map, Value};

use super::encoding::TextEncoding;
use super::hexdump::to_hex;
use super::Sink;
use crate::event::{Event, EventKind};

/// Writes each event as one JSON object per line.
pub struct JsonLines<W: Write + Send> {
    out: W,
    encoding: TextEncoding,
}

impl<W: Write + Send> JsonLines<W> {
    /// A JSON Lines writer; `text` fields are decoded with `encoding`.
    pub fn new(out: W, encoding: TextEncoding) -> Self {
        JsonLines { out, encoding }
    }

    /// The JSON object for one event.
    pub fn to_json(&self, event: &Event) -> Value {
        let time: DateTime<Local> = event.time.into();
        let mut obj = Map::new();
        let mut put = |k: &str, v: Value| {
            obj.insert(k.to_string(), v);
        };
        let ty = match &event.kind {
            EventKind::Listening { endpoint, note } => {
                put("endpoint", json!(endpoint));
                if let Some(note) = note {
                    put("note", json!(note));
                }
                "listening"
            }
            EventKind::Open { conn, local } => {
                put("conn", json!(conn.id));
                put("peer", json!(&*conn.peer));
                put("local", json!(local));
                "open"
            }
            EventKind::Data { conn, dir, bytes } => {
                put("conn", json!(conn.id));
                put("peer", json!(&*conn.peer));
                put("dir", json!(dir.as_str()));
                put("len", json!(bytes.len()));
                put("text", json!(self.encoding.decode_lossy(bytes)));
                put("hex", json!(to_hex(bytes)));
                "data"
            }
            EventKind::Eof { conn, dir } => {
                put("conn", json!(conn.id));
                put("peer", json!(&*conn.peer));
                put("dir", json!(dir.as_str()));
                "eof"
            }
            EventKind::Close {
                conn,
                reason,
                counters,
            } => {
                put("conn", json!(conn.id));
                put("peer", json!(&*conn.peer));
                put("reason", json!(reason.to_string()));
                put("bytes_in", json!(counters.bytes_in));
                put("bytes_out", json!(counters.bytes_out));
                put("msgs_in", json!(counters.msgs_in));
                put("msgs_out", json!(counters.msgs_out));
                "close"
            }
            EventKind::Error {
                conn,
                message,
                kind,
                ..
            } => {
                if let Some(kind) = kind {
                    put("kind", json!(kind.as_str()));
                }
                if let Some(conn) = conn {
                    put("conn", json!(conn.id));
                    put("peer", json!(&*conn.peer));
                }
                put("message", json!(message));
                "error"
            }
            EventKind::Notice { message } => {
                put("message", json!(message));
                "notice"
            }
        };
        obj.insert("type".into(), json!(ty));
        obj.insert(
            "time".into(),
            json!(time.to_rfc3339_opts(SecondsFormat::Millis, false)),
        );
        Value::Object(obj)
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
        let value = self.to_json(event);
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
