//! Events: what every session reports, and the channel that carries them to
//! the sinks (terminal view, JSON, log file, later the browser UI).
//!
//! Sessions never print. They emit [`EventKind`]s through an [`EventTx`];
//! one sink thread renders them. The channel is bounded, so a stalled
//! stdout slows the sessions that feed it instead of growing memory.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc;

/// How many events may wait for the sink before senders wait too.
pub const EVENT_QUEUE: usize = 64;

/// Which way data moved, seen from sockmate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer (`<` in views).
    In,
    /// Sent to the peer (`>` in views).
    Out,
}

impl Direction {
    /// The arrow used in transcripts: `<` received, `>` sent.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::In => "<",
            Direction::Out => ">",
        }
    }

    /// `"in"` or `"out"`, for JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A connection's identity in events: a number unique in this run and the
/// peer's printable address. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// Connection number, from 1.
    pub id: u64,
    /// The peer, as printed.
    pub peer: Arc<str>,
}

impl ConnInfo {
    /// Builds connection info from an id and anything printable.
    pub fn new(id: u64, peer: impl fmt::Display) -> Self {
        ConnInfo {
            id,
            peer: Arc::from(peer.to_string()),
        }
    }
}

/// Byte and message counters for one connection (or a total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Bytes received from the peer.
    pub bytes_in: u64,
    /// Bytes sent to the peer.
    pub bytes_out: u64,
    /// Messages (reads or datagrams) received.
    pub msgs_in: u64,
    /// Messages (writes or datagrams) sent.
    pub msgs_out: u64,
}

impl Counters {
    /// Adds another connection's counters to these.
    pub fn add(&mut self, other: &Counters) {
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.msgs_in += other.msgs_in;
        self.msgs_out += other.msgs_out;
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides finished normally.
    Done,
    /// The peer closed and we ended the session (terminal or `-k` client).
    PeerClosed,
    /// `--wait` passed after the last byte.
    WaitElapsed,
    /// `--idle-timeout` passed with no traffic.
    IdleTimeout,
    /// sockmate is shutting down (signal or stdout gone).
    Shutdown,
    /// The connection failed (the kind tells refused, reset, timed out…).
    Error(crate::error::NetError),
    /// A service closed it (quit word, refusal, oversized frame…).
    Service(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Done => f.write_str("done"),
            CloseReason::PeerClosed => f.write_str("peer closed"),
            CloseReason::WaitElapsed => f.write_str("wait elapsed"),
            CloseReason::IdleTimeout => f.write_str("idle timeout"),
            CloseReason::Shutdown => f.write_str("shutdown"),
            CloseReason::Error(e) => write!(f, "error: {e}"),
            CloseReason::Service(why) => f.write_str(why),
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// A listener is bound (the real address, port 0 resolved).
    Listening {
        /// e.g. `tcp://127.0.0.1:43117`.
        endpoint: String,
        /// A warning to show on the startup line (e.g. that `--exec` is on).
        note: Option<String>,
    },
    /// A connection opened (or a datagram peer was first heard from).
    Open {
        /// The connection.
        conn: ConnInfo,
        /// Our own address on it.
        local: String,
    },
    /// Bytes moved.
    Data {
        /// The connection.
        conn: ConnInfo,
        /// Which way.
        dir: Direction,
        /// The bytes, as one read or one write (one datagram).
        bytes: Bytes,
    },
    /// One direction ended (`In`: the peer shut down its writes).
    Eof {
        /// The connection.
        conn: ConnInfo,
        /// Which way ended.
        dir: Direction,
    },
    /// A connection closed.
    Close {
        /// The connection.
        conn: ConnInfo,
        /// Why.
        reason: CloseReason,
        /// What moved on it.
        counters: Counters,
    },
    /// Something went wrong (on a connection, or in general).
    Error {
        /// The connection, if the error belongs to one.
        conn: Option<ConnInfo>,
        /// One line saying what.
        message: String,
        /// The kind of network failure, when it is one.
        kind: Option<crate::error::NetErrorKind>,
    },
    /// A status line (reconnect attempts, warnings).
    Notice {
        /// One line.
        message: String,
    },
}

/// An event and when it happened.
#[derive(Debug, Clone)]
pub struct Event {
    /// Wall-clock time when the event was emitted.
    pub time: SystemTime,
    /// What happened.
    pub kind: EventKind,
}

/// The sending side of the event stream. Cloned into every session.
#[derive(Debug, Clone)]
pub struct EventTx {
    tx: mpsc::Sender<Event>,
    wants_sent: bool,
    wants_received: bool,
}

/// The sinks have gone (stdout closed): sessions should stop.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("output closed")]
pub struct SinkGone;

impl EventTx {
    /// Creates a bounded event channel. `wants_sent` tells sessions whether
    /// any sink shows sent data (the raw view does not, so a stalled stdout
    /// never holds up sending).
    pub fn channel(wants_sent: bool) -> (EventTx, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        (
            EventTx {
                tx,
                wants_sent,
                wants_received: true,
            },
            rx,
        )
    }

    /// Sets whether any sink shows received data. When none does (stdout
    /// is `/dev/null`, say), sessions skip those events: no copy, no hop
    /// to the sink thread.
    pub fn with_received(mut self, wants_received: bool) -> Self {
        self.wants_received = wants_received;
        self
    }

    /// True when some sink shows sent data.
    pub fn wants_sent(&self) -> bool {
        self.wants_sent
    }

    /// True when some sink shows received data.
    pub fn wants_received(&self) -> bool {
        self.wants_received
    }

    /// Emits an event, waiting while the sinks are behind.
    pub async fn emit(&self, kind: EventKind) -> Result<(), SinkGone> {
        self.tx
            .send(Event {
                time: SystemTime::now(),
                kind,
            })
            .await
            .map_err(|_| SinkGone)
    }

    /// Emits received or sent data. Sent data is skipped when no sink wants it.
    pub async fn data(
        &self,
        conn: &ConnInfo,
        dir: Direction,
        bytes: Bytes,
    ) -> Result<(), SinkGone> {
        if dir == Direction::Out && !self.wants_sent || dir == Direction::In && !self.wants_received
        {
            return Ok(());
        }
        self.emit(EventKind::Data {
            conn: conn.clone(),
            dir,
            bytes,
        })
        .await
    }
}
