//! The raw view: received bytes to stdout exactly as they came, unbuffered,
//! like nc. Optionally closes stdout when the peer ends its writes.

use std::fs::File;
use std::io::{self, Write};

use super::stdout;
use super::Sink;
use crate::event::{Direction, Event, EventKind};

/// Writes received data to stdout, binary-clean.
#[derive(Debug)]
pub struct RawStdout {
    out: Option<File>,
    close_on_peer_eof: bool,
    message_lines: bool,
}

impl RawStdout {
    /// Opens stdout. With `close_on_peer_eof`, stdout is closed when the
    /// peer's end-of-stream arrives (single-session modes), so a reader
    /// downstream sees EOF while sockmate goes on sending stdin.
    pub fn new(close_on_peer_eof: bool) -> io::Result<Self> {
        Ok(RawStdout {
            out: Some(stdout::stdout_file()?),
            close_on_peer_eof,
            message_lines: false,
        })
    }

    /// With `on`, a received message that does not end with a newline gets
    /// one (for a terminal; see [`super::ViewOptions::message_lines`]).
    pub fn message_lines(mut self, on: bool) -> Self {
        self.message_lines = on;
        self
    }
}

/// True when `bytes`, shown as one message, needs a newline to end its
/// line.
pub fn needs_line_end(bytes: &[u8]) -> bool {
    bytes.last().is_some_and(|&b| b != b'\n')
}

impl Sink for RawStdout {
    fn wants_received_data(&self) -> bool {
        !self.out.as_ref().is_some_and(is_dev_null)
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::Data {
                dir: Direction::In,
                bytes,
                ..
            } => {
                if let Some(out) = self.out.as_mut() {
                    out.write_all(bytes)?;
                    if self.message_lines && needs_line_end(bytes) {
                        out.write_all(b"\n")?;
                    }
                }
            }
            EventKind::Eof {
                dir: Direction::In, ..
            } if self.close_on_peer_eof && self.out.is_some() => {
                self.out = None;
                stdout::release_stdout()?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// True when `file` is the null device (writing to it would be wasted work).
pub fn is_dev_null(file: &File) -> bool {
    crate::sys::stdio::is_null_device(file)
}

/// Stdout for annotated views: our own handle, block-buffered (each entry
/// is flushed whole by the view).
pub fn stdout_writer() -> io::Result<io::BufWriter<File>> {
    Ok(io::BufWriter::new(stdout::stdout_file()?))
}
