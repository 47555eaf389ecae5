//! How a transfer tells what it does: it emits events on the engine's bus
//! (a file starts, moves on, is done, is skipped); the command line draws
//! bars or prints JSON from them (`cli::transfer_view`), the page shows
//! rows. The transfer never prints.

use std::time::{Duration, Instant};

use super::digest::Digest;
use crate::event::transfer::{TransferDone, TransferProgress, TransferStart};
use crate::event::{EventKind, EventTx};

/// Least time between two progress events of one file.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// Reports what a transfer does on an event stream; shared by every file
/// of a command and every session. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Observer {
    events: EventTx,
}

impl Observer {
    /// Reports on `events`.
    pub fn new(events: EventTx) -> Observer {
        Observer { events }
    }

    /// A file was skipped or refused (or, without `file`, the transfer).
    pub async fn error(&self, file: Option<&str>, message: &str) {
        let _ = self
            .events
            .emit(EventKind::TransferFailed {
                file: file.map(str::to_string),
                message: message.to_string(),
            })
            .await;
    }

    /// One file starts: `verb` is `sent` or `received`, `offset` where a
    /// resumed transfer starts, `peer` the peer's address.
    pub async fn start_file(
        &self,
        verb: &'static str,
        name: &str,
        size: Option<u64>,
        offset: u64,
        peer: &str,
    ) -> FileProgress {
        let start = TransferStart {
            file: name.to_string(),
            size,
            offset,
            peer: crate::endpoint::Kind::Tcp.url_of(peer),
            verb: verb.to_string(),
        };
        let _ = self
            .events
            .emit(EventKind::TransferStart(Box::new(start)))
            .await;
        let now = Instant::now();
        FileProgress {
            events: self.events.clone(),
            verb,
            name: name.to_string(),
            size,
            offset,
            done: offset,
            started: now,
            last: now,
        }
    }
}

/// One file's progress; ended by [`FileProgress::finish`] or
/// [`FileProgress::fail`].
#[derive(Debug)]
pub struct FileProgress {
    events: EventTx,
    verb: &'static str,
    name: String,
    size: Option<u64>,
    offset: u64,
    done: u64,
    started: Instant,
    last: Instant,
}

impl FileProgress {
    /// `n` more bytes moved; a progress event at most every
    /// [`PROGRESS_INTERVAL`], never waiting for the sinks.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if self.last.elapsed() >= PROGRESS_INTERVAL {
            self.last = Instant::now();
            self.events
                .try_emit(EventKind::TransferProgress(Box::new(TransferProgress {
                    file: self.name.clone(),
                    bytes: self.done,
                    size: self.size,
                })));
        }
    }

    /// Bytes so far (including a resumed prefix).
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Ended with success. `digest` is the file's digest (`None` when it
    /// was not computed: `--raw` without `--sha256` or `--digest`);
    /// `checked` says whether it was compared with the peer's.
    pub async fn finish(self, digest: Option<&Digest>, checked: bool) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let moved = self.done - self.offset;
        let hex = digest.map(Digest::hex);
        let alg = digest.map(|d| d.kind.name().to_string());
        let (bytes_in, bytes_out) = match self.verb {
            "received" => (self.done, 0),
            _ => (0, self.done),
        };
        let done = TransferDone {
            file: self.name,
            bytes: self.done,
            bytes_in,
            bytes_out,
            resumed_at: self.offset,
            duration_s: elapsed,
            bytes_per_s: (moved as f64 / elapsed.max(1e-9)).round(),
            sha256: hex.clone().filter(|_| alg.as_deref() == Some("sha256")),
            digest: hex,
            digest_alg: alg,
            digest_ok: checked,
        };
        let _ = self
            .events
            .emit(EventKind::TransferDone(Box::new(done)))
            .await;
    }

    /// Ended with a failure (the caller reports the error).
    pub fn fail(self) {}
}

/// `text` made safe for a terminal line: control characters (C0, DEL, C1:
/// ESC sequences, newlines, carriage returns) and bidirectional overrides
/// are written as escapes (`\n`, `\r`, `\t`, `\x1b`, `\u{9b}`), so a
/// received file name can neither move the cursor nor fake a line. For
/// human-facing lines only; JSON keeps the exact text.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && unsafe_char(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("report.pdf"), "report.pdf");
        assert_eq!(
            printable("a\x1b[2Jb\nc\rd\te\u{9b}f\u{202e}g\x7f"),
            r"a\x1b[2Jb\nc\rd\te\u{9b}f\u{202e}g\x7f"
        );
    }
}
