//! Status lines on stderr: `listening on …`, `connected: PEER`,
//! `closed: PEER (N bytes in, M bytes out)`, errors and notices.

use std::io::{self, Write};

use super::Sink;
use crate::event::{Event, EventKind};

/// How chatty the status lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Only `listening on …` and errors.
    Quiet,
    /// Notices too (reconnect attempts, warnings): `connect`'s default.
    Notices,
    /// Connection lines too: `listen`'s default.
    #[default]
    Normal,
}

/// Prints status lines to stderr.
#[derive(Debug)]
pub struct StatusLines {
    verbosity: Verbosity,
}

impl StatusLines {
    /// A status printer.
    pub fn new(verbosity: Verbosity) -> Self {
        StatusLines { verbosity }
    }
}

/// The status line for an event, if it has one at this verbosity.
pub fn status_line(event: &EventKind, verbosity: Verbosity) -> Option<String> {
    let normal = verbosity == Verbosity::Normal;
    match event {
        EventKind::Listening {
            endpoint,
            note: None,
        } => Some(format!("listening on {endpoint}")),
        EventKind::Listening {
            endpoint,
            note: Some(note),
        } => Some(format!("listening on {endpoint} {note}")),
        EventKind::Open {
            conn,
            proxy: Some(proxied),
            ..
        } if normal => Some(format!("connected: {} -> {proxied}", conn.peer)),
        EventKind::Open {
            conn, tls: None, ..
        } if normal => Some(format!("connected: {}", conn.peer)),
        EventKind::Open {
            conn,
            tls: Some(tls),
            ..
        } if normal => Some(format!("connected: {} ({})", conn.peer, tls.summary())),
        EventKind::Close {
            conn,
            counters,
            reason,
        } if normal => {
            let why = match reason {
                crate::event::CloseReason::Done | crate::event::CloseReason::PeerClosed => {
                    String::new()
                }
                other => format!(", {other}"),
            };
            Some(format!(
                "closed: {} ({} bytes in, {} bytes out{why})",
                conn.peer, counters.bytes_in, counters.bytes_out
            ))
        }
        EventKind::Error {
            conn: Some(conn),
            message,
            ..
        } if normal => Some(format!("error: {}: {message}", conn.peer)),
        EventKind::Error {
            conn: None,
            message,
            ..
        } => Some(format!("error: {message}")),
        EventKind::Notice { message } if verbosity != Verbosity::Quiet => Some(message.clone()),
        _ => None,
    }
}

impl Sink for StatusLines {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let Some(line) = status_line(&event.kind, self.verbosity) {
            // stderr failing must not end the data flow.
            let line = crate::messages::tr(&line);
            let _ = writeln!(io::stderr().lock(), "{line}");
        }
        Ok(())
    }
}
