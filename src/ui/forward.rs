//! One session's events on their way to the browsers: read from the
//! engine's lossy subscriber (it never slows a socket), decoded to text per
//! connection and direction (a character split across reads decodes as
//! one), recorded to a file when asked, and kept within a display budget:
//! beyond it data events are skipped with an "N events skipped" notice
//! (the counters, pushed separately, stay exact).

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use super::history::History;
use super::sessions::Hub;
use crate::encoding::{ConnDecoders, TextEncoding};
use crate::event::bus::Subscriber;
use crate::event::{Counters, Direction, Event, EventKind};

/// Data bytes per second the page is sent at most (with twice that as a
/// burst); the rest is counted but not shown.
pub const DISPLAY_BYTES_PER_SEC: f64 = 1024.0 * 1024.0;

/// Events per second the page is sent at most (twice that as a burst).
pub const DISPLAY_EVENTS_PER_SEC: f64 = 2000.0;

/// What a session's forwarder shares with the commands: the encoding, the
/// recording file, and the counters of connections that have closed.
#[derive(Default)]
pub struct ViewState {
    encoding: Mutex<TextEncoding>,
    record: Mutex<Option<(String, File)>>,
    closed: Mutex<Counters>,
    local: Mutex<String>,
    history: Mutex<History>,
    /// A `.pcapng` record file's capture.
    pub capture: super::capture::UiCapture,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ViewState {
    /// The text encoding.
    pub fn encoding(&self) -> TextEncoding {
        *lock(&self.encoding)
    }

    /// Sets the text encoding.
    pub fn set(&self, encoding: TextEncoding) {
        *lock(&self.encoding) = encoding;
    }

    /// Sets the text encoding from a label.
    pub fn set_encoding(&self, label: &str) -> Result<(), String> {
        *lock(&self.encoding) = TextEncoding::from_label(label).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The file received data (or the capture) goes to, if any.
    pub fn recording(&self) -> Option<String> {
        lock(&self.record)
            .as_ref()
            .map(|(p, _)| p.clone())
            .or_else(|| self.capture.path())
    }

    /// Appends received data to `file` (shown as its path) from now on
    /// (`None`: stop), ending a capture. The file comes from
    /// [`super::records::RecordDir`].
    pub fn record_to(&self, file: Option<(String, File)>) {
        self.capture.stop();
        *lock(&self.record) = file;
    }

    /// The local address of the last connection opened (a client's own
    /// address), or empty.
    pub fn local(&self) -> String {
        lock(&self.local).clone()
    }

    /// The kept messages (oldest first) and how many older ones were
    /// dropped: what a page that connects now is shown first.
    pub fn history(&self) -> (Vec<Arc<str>>, u64) {
        let h = lock(&self.history);
        (h.messages(), h.dropped())
    }

    /// Numbers, keeps and publishes one message of session `id`.
    fn publish(&self, hub: &Hub, id: u64, event: &Event, text: Option<String>) {
        // Numbered and kept under one lock, so a page sees each once: a
        // replayed message's number tells it apart from the live one.
        let mut history = lock(&self.history);
        let seq = history.next_seq();
        let m = message(id, seq, event, text);
        history.keep(seq, Arc::clone(&m));
        drop(history);
        let _ = hub.send(m);
    }

    /// What the connections that have closed moved.
    pub fn closed(&self) -> Counters {
        *lock(&self.closed)
    }

    fn write_received(&self, bytes: &[u8]) {
        let mut record = lock(&self.record);
        if let Some((path, file)) = record.as_mut() {
            if let Err(e) = file.write_all(bytes) {
                tracing::warn!("recording to {path} stopped: {e}");
                *record = None;
            }
        }
    }
}

/// A token bucket: `rate` per second, up to twice that saved up.
struct Budget {
    rate: f64,
    left: f64,
    at: Instant,
}

impl Budget {
    fn new(rate: f64) -> Budget {
        Budget {
            rate,
            left: rate * 2.0,
            at: Instant::now(),
        }
    }

    fn take(&mut self, amount: f64, now: Instant) -> bool {
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.left = (self.left + elapsed * self.rate).min(self.rate * 2.0);
        if self.left >= amount {
            self.left -= amount;
            true
        } else {
            false
        }
    }
}

/// Forwards session `id`'s events to the hub until its bus is gone.
pub fn spawn(mut events: Subscriber, id: u64, view: Arc<ViewState>, hub: Hub) {
    tokio::spawn(async move {
        let mut encoding = view.encoding();
        let mut decoders = ConnDecoders::new(encoding);
        let mut bytes = Budget::new(DISPLAY_BYTES_PER_SEC);
        let mut count = Budget::new(DISPLAY_EVENTS_PER_SEC);
        let mut skipped: u64 = 0;
        while let Some(event) = events.recv().await {
            view.capture.observe(&event);
            if view.encoding() != encoding {
                encoding = view.encoding();
                decoders = ConnDecoders::new(encoding);
            }
            let mut text = None;
            match &event.kind {
                EventKind::Data {
                    conn,
                    dir,
                    bytes: data,
                    ..
                } => {
                    if *dir == Direction::In {
                        view.write_received(data);
                    }
                    let now = Instant::now();
                    if !count.take(1.0, now) || !bytes.take(data.len() as f64, now) {
                        skipped += 1;
                        // The next shown message starts a fresh character.
                        decoders.finish(conn.id, *dir);
                        continue;
                    }
                    text = Some(decoders.decode(conn.id, *dir, data));
                }
                EventKind::Eof { conn, dir } => {
                    decoders.finish(conn.id, *dir);
                }
                EventKind::Open { local, .. } => {
                    local.clone_into(&mut lock(&view.local));
                }
                EventKind::Close { conn, counters, .. } => {
                    lock(&view.closed).add(counters);
                    decoders.finish_conn(conn.id);
                }
                _ => {}
            }
            if skipped > 0 {
                let notice = Event {
                    time: SystemTime::now(),
                    kind: EventKind::Notice {
                        message: format!("{skipped} events skipped (display limit)"),
                    },
                };
                skipped = 0;
                view.publish(&hub, id, &notice, None);
            }
            view.publish(&hub, id, &event, text);
        }
        view.capture.flush();
    });
}

/// The `ev` message number `seq` of `event`: the event as one `--json`
/// line, plus the decoded `text` of data. Written straight into one string
/// (no intermediate JSON tree: this runs for every shown message).
pub fn message(session: u64, seq: u64, event: &Event, text: Option<String>) -> Arc<str> {
    let mut line = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    if let Some(text) = text {
        if line.ends_with('}') && line.len() > 2 {
            line.pop();
            line.push_str(",\"text\":");
            line.push_str(&serde_json::to_string(&text).unwrap_or_else(|_| "\"\"".into()));
            line.push('}');
        }
    }
    Arc::from(format!(
        "{{\"t\":\"ev\",\"s\":{session},\"q\":{seq},\"e\":{line}}}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_budget_refills_with_time_and_caps_the_burst() {
        let start = Instant::now();
        let mut b = Budget::new(10.0);
        assert!(b.take(20.0, start));
        assert!(!b.take(1.0, start));
        assert!(b.take(5.0, start + Duration::from_millis(500)));
        assert!(!b.take(25.0, start + Duration::from_secs(100)));
        assert!(b.take(20.0, start + Duration::from_secs(100)));
    }

    #[test]
    fn a_message_is_the_json_line_plus_text() {
        let event = Event {
            time: SystemTime::UNIX_EPOCH,
            kind: EventKind::Data {
                conn: crate::event::ConnInfo::new(3, "p"),
                dir: Direction::In,
                bytes: bytes::Bytes::from_static(b"\xd6\xd0"),
                kind: None,
            },
        };
        let m: serde_json::Value =
            serde_json::from_str(&message(9, 4, &event, Some("中".into()))).unwrap();
        assert_eq!(m["t"], "ev");
        assert_eq!(m["s"], 9);
        assert_eq!(m["q"], 4);
        assert_eq!(m["e"]["hex"], "d6d0");
        assert_eq!(m["e"]["text"], "中");
        assert_eq!(m["e"]["conn"], 3);
    }
}
