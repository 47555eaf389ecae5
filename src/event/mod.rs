//! Events: what every session reports, and the bus that carries them to
//! the sinks (terminal view, JSON, log file) and to subscribers (later the
//! browser UI).
//!
//! Sessions never print. They emit [`EventKind`]s through an [`EventTx`];
//! the [`bus`] hands them to one sink thread per attached set of sinks. The
//! sink channels are bounded, so a stalled stdout slows the sessions that
//! feed it instead of growing memory; subscribers get a lossy copy.
//!
//! An [`Event`]'s serde form is the JSON Lines schema of `--json` (see the
//! docs/json-events.md): `type`, `time` and the fields of each kind. The JSON view adds
//! only `text`, which depends on its `--encoding`.

pub mod bench;
pub mod bus;
#[doc(hidden)]
pub mod leg;
pub mod proxied;
#[doc(hidden)]
pub mod repeats;
pub mod transfer;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::error::{NetError, NetErrorKind};
pub use crate::transport::MessageKind;

/// How many events may wait for a sink thread before senders wait too.
pub const EVENT_QUEUE: usize = 64;

/// Which way data moved, seen from sockmate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// A connection's identity in events: a number unique in this run, the
/// peer's printable address and its endpoint URL. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ConnInfoWire")]
pub struct ConnInfo {
    /// Connection number, from 1.
    #[serde(rename = "conn")]
    pub id: u64,
    /// The peer as an endpoint URL (`tcp://127.0.0.1:9000`), without the
    /// connection number: the `peer` of `--json`.
    #[serde(rename = "peer", with = "wire::shared_str")]
    pub url: Arc<str>,
    /// The peer as the text views print it (`127.0.0.1:9000`; `#3
    /// 127.0.0.1:9000` in a relay). Read back from JSON, it is the URL.
    #[serde(skip)]
    pub peer: Arc<str>,
}

impl ConnInfo {
    /// Builds connection info from an id and anything printable, which is
    /// both its printed form and its URL (see [`ConnInfo::with_url`]).
    pub fn new(id: u64, peer: impl fmt::Display) -> Self {
        let peer: Arc<str> = Arc::from(peer.to_string());
        ConnInfo {
            id,
            url: Arc::clone(&peer),
            peer,
        }
    }

    /// The same connection with `url` as its endpoint URL.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Arc::from(url.into());
        self
    }
}

/// A [`ConnInfo`] as `--json` has it: read back, its printed form is the URL.
#[derive(Deserialize)]
struct ConnInfoWire {
    #[serde(rename = "conn")]
    id: u64,
    #[serde(rename = "peer", with = "wire::shared_str")]
    url: Arc<str>,
}

impl From<ConnInfoWire> for ConnInfo {
    fn from(wire: ConnInfoWire) -> Self {
        ConnInfo {
            id: wire.id,
            peer: Arc::clone(&wire.url),
            url: wire.url,
        }
    }
}

/// Byte and message counters for one connection (or a total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    Error(NetError),
    /// A service closed it (quit word, refusal, oversized frame…).
    Service(String),
}

/// The `Display` prefix of [`CloseReason::Error`].
const ERROR_PREFIX: &str = "error: ";

impl CloseReason {
    /// The network failure's kind, for [`CloseReason::Error`].
    pub fn kind(&self) -> Option<NetErrorKind> {
        match self {
            CloseReason::Error(e) => Some(e.kind),
            _ => None,
        }
    }

    /// Rebuilds a reason from its JSON form: the `Display` string and, for
    /// errors, the kind. A service reason spelled like a fixed one (`done`)
    /// reads back as the fixed one.
    pub fn from_parts(reason: &str, kind: Option<NetErrorKind>) -> CloseReason {
        if let Some(kind) = kind {
            let message = reason.strip_prefix(ERROR_PREFIX).unwrap_or(reason);
            return CloseReason::Error(NetError::new(kind, message));
        }
        match reason {
            "done" => CloseReason::Done,
            "peer closed" => CloseReason::PeerClosed,
            "wait elapsed" => CloseReason::WaitElapsed,
            "idle timeout" => CloseReason::IdleTimeout,
            "shutdown" => CloseReason::Shutdown,
            other => CloseReason::Service(other.to_string()),
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Done => f.write_str("done"),
            CloseReason::PeerClosed => f.write_str("peer closed"),
            CloseReason::WaitElapsed => f.write_str("wait elapsed"),
            CloseReason::IdleTimeout => f.write_str("idle timeout"),
            CloseReason::Shutdown => f.write_str("shutdown"),
            CloseReason::Error(e) => write!(f, "{ERROR_PREFIX}{e}"),
            CloseReason::Service(why) => f.write_str(why),
        }
    }
}

/// What happened. Serialized with its `type` tag and flat fields, as in
/// the `--json` schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A listener is bound (the real address, port 0 resolved).
    Listening {
        /// e.g. `tcp://127.0.0.1:43117`.
        endpoint: String,
        /// A warning to show on the startup line (e.g. that `--exec` is on).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A connection opened (or a datagram peer was first heard from).
    Open {
        /// The connection.
        #[serde(flatten)]
        conn: ConnInfo,
        /// Our own address on it.
        local: String,
        /// What the TLS handshake established (`tls://`, `wss://`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tls: Option<Box<crate::transport::TlsInfo>>,
        /// The sockets under it, for captures (`--pcap`); not in JSON.
        #[serde(skip)]
        wire: Option<Box<leg::Wire>>,
        /// For a client of the proxy server: what it asked for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proxy: Option<Box<proxied::Proxied>>,
    },
    /// Bytes moved.
    Data {
        /// The connection.
        #[serde(flatten)]
        conn: ConnInfo,
        /// Which way.
        dir: Direction,
        /// The bytes, as one read or one write (one datagram); `len` and
        /// `hex` in JSON.
        #[serde(flatten, with = "wire::len_hex")]
        bytes: Bytes,
        /// Text or binary, on a transport that keeps message kinds (a
        /// WebSocket): `"kind"` in JSON, and `"ws"` as before.
        #[serde(flatten, with = "wire::message_kind")]
        kind: Option<MessageKind>,
    },
    /// One direction ended (`In`: the peer shut down its writes).
    Eof {
        /// The connection.
        #[serde(flatten)]
        conn: ConnInfo,
        /// Which way ended.
        dir: Direction,
    },
    /// A connection closed.
    Close {
        /// The connection.
        #[serde(flatten)]
        conn: ConnInfo,
        /// Why: `reason` (its `Display` string) and, for errors, `kind`.
        #[serde(flatten, with = "wire::close_reason")]
        reason: CloseReason,
        /// What moved on it.
        #[serde(flatten)]
        counters: Counters,
    },
    /// Something went wrong (on a connection, or in general).
    Error {
        /// The connection, if the error belongs to one.
        #[serde(flatten)]
        conn: Option<ConnInfo>,
        /// One line saying what.
        message: String,
        /// The kind of network failure, when it is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<NetErrorKind>,
    },
    /// The command itself failed before any connection (a refused
    /// `connect`): an `error` line for `--json`, which the text views leave
    /// to the front-end's own status line.
    // Read back, an `error` line is an `Error` (whose `conn` is then none).
    #[serde(rename(serialize = "error", deserialize = "failed"))]
    Failed {
        /// What could not be reached, as an endpoint URL.
        peer: String,
        /// One line saying what.
        message: String,
        /// The kind of network failure.
        kind: NetErrorKind,
    },
    /// `scan`: one port's result, in port order.
    ScanPort(Box<ScanPort>),
    /// `scan`: every port has been probed.
    ScanDone(Box<ScanTotals>),
    /// `bench`: one second of the measured window.
    BenchSample(Box<bench::BenchSample>),
    /// `bench`: the run's report.
    BenchReport(Box<bench::BenchDone>),
    /// `send`/`receive`: a file starts.
    TransferStart(Box<transfer::TransferStart>),
    /// `send`/`receive`: how far a file is (lossy: a sink that is behind
    /// misses some).
    TransferProgress(Box<transfer::TransferProgress>),
    /// `send`/`receive`: a file was stored (or confirmed stored).
    TransferDone(Box<transfer::TransferDone>),
    /// `send`/`receive`: a file was skipped or refused: an `error` line for
    /// `--json` with `file` (null when it is not about one file).
    // Read back, an `error` line is an `Error`.
    #[serde(rename(serialize = "error", deserialize = "transfer_error"))]
    TransferFailed {
        /// The file it is about.
        file: Option<String>,
        /// One line saying what.
        message: String,
    },
    /// A status line (reconnect attempts, warnings).
    Notice {
        /// One line.
        message: String,
    },
}

/// One probed port (`scan_port` in `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPort {
    /// The host as given.
    pub host: String,
    /// The address probed.
    pub ip: String,
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    /// `open`, `closed`, `filtered`, `open|filtered` or `error`.
    pub state: String,
    /// The port as an endpoint URL (`tcp://127.0.0.1:22`).
    pub peer: String,
    /// Why the probe could not be made, for `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A finished scan (`scan_done` in `--json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanTotals {
    /// The host as given.
    pub host: String,
    /// The address probed.
    pub ip: String,
    /// `tcp` or `udp`.
    pub proto: String,
    /// Ports probed.
    pub ports: usize,
    /// Ports found open.
    pub open: usize,
    /// Ports that refused.
    pub closed: usize,
    /// Ports that did not answer (TCP).
    pub filtered: usize,
    /// Ports that did not answer (UDP).
    pub open_filtered: usize,
    /// Probes that could not be made.
    pub errors: usize,
    /// How long the scan took.
    pub duration_s: f64,
}

impl Eq for ScanTotals {}

/// An event and when it happened. Its serde form is one `--json` line
/// without `text`; `time` keeps milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Wall-clock time when the event was emitted.
    #[serde(with = "wire::local_time_ms")]
    pub time: SystemTime,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The sending side of the event stream. Cloned into every session; every
/// clone reads the bus's current wishes (what sinks and subscribers show).
#[derive(Debug, Clone)]
pub struct EventTx {
    shared: Arc<bus::Shared>,
}

/// The sinks have gone (stdout closed): sessions should stop.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("output closed")]
pub struct SinkGone;

impl EventTx {
    /// Creates a bounded event channel on a bus of its own. `wants_sent`
    /// tells sessions whether the receiver shows sent data.
    pub fn channel(wants_sent: bool) -> (EventTx, mpsc::Receiver<Event>) {
        let bus = bus::Bus::new();
        let rx = bus.connect_receiver(wants_sent, true);
        (bus.sender(), rx)
    }

    /// Sets, for the whole bus, whether any sink shows received data. When
    /// none does (stdout is `/dev/null`, say), sessions skip those events.
    pub fn with_received(self, wants_received: bool) -> Self {
        self.shared.set_sinks_want_received(wants_received);
        self
    }

    /// True when some sink or subscriber shows sent data.
    pub fn wants_sent(&self) -> bool {
        self.shared.wants_sent()
    }

    /// True when some sink or subscriber shows received data.
    pub fn wants_received(&self) -> bool {
        self.shared.wants_received()
    }

    /// Emits an event, waiting while the sinks are behind. The event is
    /// handed over when this is called; the future only waits for room in
    /// a full sink. It is a few words, not the event: every connection's
    /// task holds one while it emits.
    pub fn emit(
        &self,
        kind: EventKind,
    ) -> impl std::future::Future<Output = Result<(), SinkGone>> + Send + 'static {
        self.shared.publish(Event {
            time: SystemTime::now(),
            kind,
        })
    }

    /// Emits an event unless a sink is behind (then that sink misses it;
    /// subscribers get it anyway): for progress, which must never slow a
    /// transfer.
    pub fn try_emit(&self, kind: EventKind) {
        self.shared.try_publish(Event {
            time: SystemTime::now(),
            kind,
        });
    }

    /// Emits received or sent data. Data is skipped when nobody wants it.
    pub async fn data(
        &self,
        conn: &ConnInfo,
        dir: Direction,
        bytes: Bytes,
    ) -> Result<(), SinkGone> {
        self.data_kind(conn, dir, bytes, None).await
    }

    /// Emits data with its message kind, when the transport keeps one.
    pub async fn data_kind(
        &self,
        conn: &ConnInfo,
        dir: Direction,
        bytes: Bytes,
        kind: Option<MessageKind>,
    ) -> Result<(), SinkGone> {
        if dir == Direction::Out && !self.wants_sent()
            || dir == Direction::In && !self.wants_received()
        {
            return Ok(());
        }
        self.emit(EventKind::Data {
            conn: conn.clone(),
            dir,
            bytes,
            kind,
        })
        .await
    }
}

/// Serde helpers for the fields whose JSON form is not their Rust form.
pub(crate) mod wire;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    use chrono::{DateTime, Local, SecondsFormat};
    use proptest::prelude::*;

    const KINDS: [NetErrorKind; 13] = [
        NetErrorKind::Refused,
        NetErrorKind::TimedOut,
        NetErrorKind::Reset,
        NetErrorKind::BrokenPipe,
        NetErrorKind::AddrInUse,
        NetErrorKind::AddrNotAvailable,
        NetErrorKind::NotFound,
        NetErrorKind::PermissionDenied,
        NetErrorKind::Unreachable,
        NetErrorKind::Resolve,
        NetErrorKind::Exhausted,
        NetErrorKind::Protocol,
        NetErrorKind::Other,
    ];

    fn at(kind: EventKind) -> Event {
        Event {
            time: UNIX_EPOCH + Duration::from_millis(1_234),
            kind,
        }
    }

    fn peer() -> ConnInfo {
        ConnInfo::new(1, "127.0.0.1:9000")
    }

    /// The JSON text of an event's serde form, keys sorted as `--json` has them.
    fn json(event: &Event) -> String {
        serde_json::to_value(event).unwrap().to_string()
    }

    #[test]
    fn each_type_serializes_to_the_json_schema() {
        let time: DateTime<Local> = (UNIX_EPOCH + Duration::from_millis(1_234)).into();
        let t = time.to_rfc3339_opts(SecondsFormat::Millis, false);
        assert!(t.starts_with("19") && t.contains(":01.234"), "{t}");
        let cases = [
            (
                EventKind::Listening {
                    endpoint: "tcp://127.0.0.1:43117".into(),
                    note: None,
                },
                r#"{"endpoint":"tcp://127.0.0.1:43117","time":"T","type":"listening"}"#,
            ),
            (
                EventKind::Listening {
                    endpoint: "tcp://0.0.0.0:9000".into(),
                    note: Some("(--exec is on)".into()),
                },
                r#"{"endpoint":"tcp://0.0.0.0:9000","note":"(--exec is on)","time":"T","type":"listening"}"#,
            ),
            (
                EventKind::Open {
                    conn: peer(),
                    local: "127.0.0.1:47032".into(),
                    tls: None,
                    proxy: None,
                    wire: None,
                },
                r#"{"conn":1,"local":"127.0.0.1:47032","peer":"127.0.0.1:9000","time":"T","type":"open"}"#,
            ),
            (
                EventKind::Data {
                    conn: peer(),
                    dir: Direction::In,
                    bytes: Bytes::from_static(b"\xd6\xd0!\x00\xff"),
                    kind: None,
                },
                r#"{"conn":1,"dir":"in","hex":"d6d02100ff","len":5,"peer":"127.0.0.1:9000","time":"T","type":"data"}"#,
            ),
            (
                EventKind::Eof {
                    conn: peer(),
                    dir: Direction::Out,
                },
                r#"{"conn":1,"dir":"out","peer":"127.0.0.1:9000","time":"T","type":"eof"}"#,
            ),
            (
                EventKind::Close {
                    conn: peer(),
                    reason: CloseReason::WaitElapsed,
                    counters: Counters {
                        bytes_in: 25,
                        bytes_out: 4,
                        msgs_in: 1,
                        msgs_out: 1,
                    },
                },
                r#"{"bytes_in":25,"bytes_out":4,"conn":1,"msgs_in":1,"msgs_out":1,"peer":"127.0.0.1:9000","reason":"wait elapsed","time":"T","type":"close"}"#,
            ),
            (
                EventKind::Close {
                    conn: peer(),
                    reason: CloseReason::Error(NetError::new(
                        NetErrorKind::Reset,
                        "connection reset by peer",
                    )),
                    counters: Counters::default(),
                },
                r#"{"bytes_in":0,"bytes_out":0,"conn":1,"kind":"reset","msgs_in":0,"msgs_out":0,"peer":"127.0.0.1:9000","reason":"error: connection reset by peer","time":"T","type":"close"}"#,
            ),
            (
                EventKind::Error {
                    conn: Some(peer()),
                    message: "connection refused (nothing listening)".into(),
                    kind: Some(NetErrorKind::Refused),
                },
                r#"{"conn":1,"kind":"refused","message":"connection refused (nothing listening)","peer":"127.0.0.1:9000","time":"T","type":"error"}"#,
            ),
            (
                EventKind::Error {
                    conn: None,
                    message: "too many connections".into(),
                    kind: None,
                },
                r#"{"message":"too many connections","time":"T","type":"error"}"#,
            ),
            (
                EventKind::Notice {
                    message: "reconnecting to 127.0.0.1:9000 in 1s".into(),
                },
                r#"{"message":"reconnecting to 127.0.0.1:9000 in 1s","time":"T","type":"notice"}"#,
            ),
        ];
        for (kind, expected) in cases {
            let event = at(kind);
            let expected = expected.replace("\"T\"", &format!("\"{t}\""));
            assert_eq!(json(&event), expected);
            let back: Event = serde_json::from_str(&expected).unwrap();
            assert_eq!(back, event);
        }
    }

    #[test]
    fn a_json_view_line_with_text_reads_back() {
        let line = r#"{"conn":1,"dir":"in","hex":"d6d0","len":2,"peer":"p","text":"中","time":"2026-11-23T00:21:03.384+08:00","type":"data"}"#;
        let event: Event = serde_json::from_str(line).unwrap();
        assert_eq!(
            event.kind,
            EventKind::Data {
                conn: ConnInfo::new(1, "p"),
                dir: Direction::In,
                bytes: Bytes::from_static(b"\xd6\xd0"),
                kind: None,
            }
        );
        let expected = DateTime::parse_from_rfc3339("2026-11-23T00:21:03.384+08:00").unwrap();
        assert_eq!(event.time, SystemTime::from(expected));
        let bad = line.replace(r#""len":2"#, r#""len":3"#);
        assert!(serde_json::from_str::<Event>(&bad).is_err());
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter)
    }

    fn conn() -> impl Strategy<Value = ConnInfo> {
        (any::<u64>(), text()).prop_map(|(id, peer)| ConnInfo::new(id, peer))
    }

    fn dir() -> impl Strategy<Value = Direction> {
        prop_oneof![Just(Direction::In), Just(Direction::Out)]
    }

    fn net_kind() -> impl Strategy<Value = NetErrorKind> {
        prop::sample::select(KINDS.to_vec())
    }

    fn reason() -> impl Strategy<Value = CloseReason> {
        prop_oneof![
            Just(CloseReason::Done),
            Just(CloseReason::PeerClosed),
            Just(CloseReason::WaitElapsed),
            Just(CloseReason::IdleTimeout),
            Just(CloseReason::Shutdown),
            (net_kind(), text()).prop_map(|(k, m)| CloseReason::Error(NetError::new(k, m))),
            // A service reason spelled like a fixed one reads back as that one.
            text()
                .prop_filter("not a fixed reason", |s| matches!(
                    CloseReason::from_parts(s, None),
                    CloseReason::Service(_)
                ))
                .prop_map(CloseReason::Service),
        ]
    }

    fn counters() -> impl Strategy<Value = Counters> {
        any::<[u64; 4]>().prop_map(|[bytes_in, bytes_out, msgs_in, msgs_out]| Counters {
            bytes_in,
            bytes_out,
            msgs_in,
            msgs_out,
        })
    }

    fn kind() -> impl Strategy<Value = EventKind> {
        prop_oneof![
            (text(), proptest::option::of(text()))
                .prop_map(|(endpoint, note)| EventKind::Listening { endpoint, note }),
            (conn(), text()).prop_map(|(conn, local)| EventKind::Open {
                conn,
                local,
                tls: None,
                proxy: None,
                wire: None
            }),
            (conn(), dir(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(
                |(conn, dir, bytes)| EventKind::Data {
                    conn,
                    dir,
                    bytes: Bytes::from(bytes),
                    kind: None,
                }
            ),
            (conn(), dir()).prop_map(|(conn, dir)| EventKind::Eof { conn, dir }),
            (conn(), reason(), counters()).prop_map(|(conn, reason, counters)| {
                EventKind::Close {
                    conn,
                    reason,
                    counters,
                }
            }),
            (
                proptest::option::of(conn()),
                text(),
                proptest::option::of(net_kind())
            )
                .prop_map(|(conn, message, kind)| EventKind::Error {
                    conn,
                    message,
                    kind
                }),
            text().prop_map(|message| EventKind::Notice { message }),
        ]
    }

    proptest! {
        #[test]
        fn every_event_round_trips_through_json(
            ms in 0u64..4_102_444_800_000,
            kind in kind(),
        ) {
            let event = Event { time: UNIX_EPOCH + Duration::from_millis(ms), kind };
            let line = serde_json::to_string(&event).unwrap();
            let back: Event = serde_json::from_str(&line).unwrap();
            prop_assert_eq!(back, event);
        }
    }
}
