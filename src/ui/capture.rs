//! "Record to file" with a `.pcapng` name: the session's traffic as a
//! capture that Wireshark opens, written by the same sink as `--pcap`
//! ([`PcapSink`]). Connections already open when recording starts are
//! written from then on (their handshake at that moment). The UI reads a
//! lossy copy of the events, so a capture can miss data when the session
//! outruns it; the CLI's `--pcap` never does.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::event::{Event, EventKind};
use crate::view::pcap::PcapSink;
use crate::view::Sink;

/// The most open connections remembered for a capture started later (a
/// close the lossy stream skipped would otherwise keep its entry forever);
/// beyond it, a capture started later leaves out the connections not remembered.
pub const MAX_REMEMBERED_OPENS: usize = 10_000;

/// True when a record file name asks for a capture (`*.pcapng`).
pub fn is_capture_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".pcapng")
}

/// One session's capture, if recording to one, and the `open` of each of
/// its connections that are still open (to start a capture mid-session).
#[derive(Default)]
pub struct UiCapture {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    opens: HashMap<u64, Event>,
    sink: Option<(String, PcapSink)>,
}

impl UiCapture {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sees one event of the session (and writes it when capturing).
    pub fn observe(&self, event: &Event) {
        let mut state = self.lock();
        match &event.kind {
            EventKind::Open { conn, .. } if state.opens.len() < MAX_REMEMBERED_OPENS => {
                state.opens.insert(conn.id, event.clone());
            }
            EventKind::Close { conn, .. } => {
                state.opens.remove(&conn.id);
            }
            _ => {}
        }
        if let Some((path, sink)) = state.sink.as_mut() {
            if let Err(e) = sink.handle(event) {
                tracing::warn!("capture to {path} stopped: {e}");
                state.sink = None;
            }
        }
    }

    /// Starts capturing into `file` (at `path`), with the connections open
    /// now.
    pub fn start(&self, path: &Path, file: File) -> Result<(), String> {
        let mut sink = PcapSink::from_file(file, path).map_err(|e| e.to_string())?;
        let mut state = self.lock();
        let mut opens: Vec<&Event> = state.opens.values().collect();
        opens.sort_by_key(|e| e.time);
        for open in opens {
            let now = Event {
                time: SystemTime::now(),
                kind: open.kind.clone(),
            };
            sink.handle(&now).map_err(|e| e.to_string())?;
        }
        state.sink = Some((path.display().to_string(), sink));
        Ok(())
    }

    /// Stops capturing (writing out what is buffered).
    pub fn stop(&self) {
        if let Some((_, mut sink)) = self.lock().sink.take() {
            let _ = sink.finish();
        }
    }

    /// Writes out what is buffered (the session's events have ended).
    pub fn flush(&self) {
        if let Some((_, sink)) = self.lock().sink.as_mut() {
            let _ = sink.finish();
        }
    }

    /// The capture file, while capturing.
    pub fn path(&self) -> Option<String> {
        self.lock().sink.as_ref().map(|(p, _)| p.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_names_end_in_pcapng_or_pcap() {
        assert!(is_capture_name("a.pcapng") && is_capture_name("B.PCAPNG"));
        assert!(!is_capture_name("received.bin") && !is_capture_name("pcapng"));
    }
}
