//! Sessions: move bytes between an input and one connection, in both
//! directions at once, reporting everything as events.
//!
//! The two directions are independent: each one carries its data and then
//! its end-of-stream whatever the other is doing (idle, stalled by
//! backpressure, or finished). End of input shuts down our write side only
//! (half-close); the peer's end of stream is reported as an
//! [`EventKind::Eof`], which the raw view turns into closing stdout.
//!
//! - [`input`]: where outgoing bytes come from (and each connection's
//!   control channel);
//! - [`meter`]: counters and the idle clock;
//! - [`accept`]: the one accept path (admission, back-off);
//! - [`registry`]: connection id → control channel, meter, stop token.

pub mod accept;
pub mod control;
pub mod input;
#[doc(hidden)]
pub mod meter;
#[doc(hidden)]
pub mod registry;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio_util::sync::CancellationToken;

pub use control::Control;
pub use input::Input;
pub use meter::Meter;

use crate::error::{NetError, NetErrorKind};
use crate::event::{CloseReason, ConnInfo, Counters, Direction, EventKind, EventTx};
use crate::transport::{DatagramSocket, Stream};
use input::Next;

/// Bytes reserved for one socket read on a stream: big enough for bulk
/// transfers, and only allocated once data is ready.
pub const STREAM_READ_SIZE: usize = 128 * 1024;

/// How long a TLS close_notify or WebSocket close frame may take at the
/// end of a session.
const LAYER_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Largest datagram we can receive (UDP's maximum payload).
pub const MAX_DATAGRAM: usize = 65_536;

/// How long a datagram client waits for replies after its input ends, when
/// `--wait` is not given.
pub const DEFAULT_DATAGRAM_WAIT: Duration = Duration::from_secs(1);

/// What a session reports through and counts with: the connection's name,
/// the event stream, its meter and its stop signal.
#[derive(Debug, Clone, Copy)]
pub struct Wiring<'a> {
    /// The connection, for events.
    pub conn: &'a ConnInfo,
    /// Where events go.
    pub events: &'a EventTx,
    /// Counters and idle clock.
    pub meter: &'a Meter,
    /// Cancelled to end this session (engine stop, `handle.close(id)`).
    pub stop: &'a CancellationToken,
}

/// How a session behaves at its ends.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    /// After our input ends, stop this long after the last received byte
    /// instead of waiting for the peer to close.
    pub wait: Option<Duration>,
    /// Close when nothing moved either way for this long.
    pub idle_timeout: Option<Duration>,
    /// End the session as soon as the peer ends its writes (a terminal
    /// user, or a `-k` client), instead of going on sending input.
    pub end_on_peer_eof: bool,
    /// With `end_on_peer_eof`: go on sending this long after the peer's
    /// end before closing (`--exit-on-peer-eof-delay`).
    pub peer_eof_delay: Option<Duration>,
    /// Never half-close: when our input ends, keep the write side open
    /// and wait for the peer (`--no-shutdown`).
    pub no_shutdown: bool,
    /// End the session after this many received messages (reads on a
    /// stream, datagrams) (`--recv-count N`).
    pub recv_count: Option<u64>,
}

/// How a session ended.
#[derive(Debug)]
pub struct Outcome {
    /// What moved.
    pub counters: Counters,
    /// Why it ended.
    pub reason: CloseReason,
    /// The I/O error that ended it, if one did.
    pub error: Option<io::Error>,
    /// What was written after the peer's end and refused because the peer
    /// had closed for good (kept up to [`REPLAY_LIMIT`] bytes), to send
    /// again on a new connection.
    pub undelivered: Vec<bytes::Bytes>,
}

/// Most bytes written after the peer's end that a session keeps to send
/// again on the next connection (`--reconnect`).
pub const REPLAY_LIMIT: usize = 1024 * 1024;

impl Outcome {
    /// Emits the `Close` event for this outcome on `conn`.
    pub async fn report_close(&self, conn: ConnInfo, events: &EventTx) {
        let _ = events
            .emit(EventKind::Close {
                conn,
                reason: self.reason.clone(),
                counters: self.counters,
            })
            .await;
    }
}

/// A direction ended badly, or the sinks went away.
enum Stop {
    Io(io::Error),
    SinkGone,
    /// The peer had closed for good; these bytes, written after its end,
    /// were not delivered.
    Undelivered(io::Error, Vec<bytes::Bytes>),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

impl From<crate::event::SinkGone> for Stop {
    fn from(_: crate::event::SinkGone) -> Self {
        Stop::SinkGone
    }
}

/// Runs a full-duplex session on a connected stream until both directions
/// have ended (or the config or the stop signal ends it sooner). Bytes from
/// `control` are sent too, until our write side is shut down.
pub async fn run_stream(
    stream: Stream,
    wiring: Wiring<'_>,
    input: &mut Input,
    control: &mut Control,
    cfg: &SessionConfig,
) -> Outcome {
    let Wiring {
        conn,
        events,
        meter,
        stop,
    } = wiring;
    input.set_peer(&conn.peer);
    let (mut reader, mut writer) = stream.into_split();
    // A stream that cannot half-close (a WebSocket: a close frame ends
    // both ways) ends like a datagram session: after the input ends,
    // replies are awaited until the link is quiet, then it is closed; the
    // peer's close ends the session.
    let half_close = writer.capabilities().half_close;
    let no_half_close;
    let cfg = if half_close {
        cfg
    } else {
        no_half_close = SessionConfig {
            wait: Some(cfg.wait.unwrap_or(DEFAULT_DATAGRAM_WAIT)),
            end_on_peer_eof: true,
            ..cfg.clone()
        };
        &no_half_close
    };
    let (input_done, mut input_done_rx) = tokio::sync::oneshot::channel::<()>();
    // Set once the peer has ended its writes: from then on a reset means
    // it had closed for good, and what we wrote since never arrived.
    let peer_ended = AtomicBool::new(false);
    let up = async {
        let mut input_done = Some(input_done);
        let mut writing = true;
        let mut since_peer_end = 0usize;
        // What was written since the peer's end (up to REPLAY_LIMIT).
        let mut kept: Vec<bytes::Bytes> = Vec::new();
        loop {
            let bytes = tokio::select! {
                next = input.next(), if input_done.is_some() => match next {
                    Next::Data(bytes) => bytes,
                    Next::End { half_close: end_writes } => {
                        if end_writes && half_close && !cfg.no_shutdown {
                            writer.shutdown_write().await?;
                            if since_peer_end > 0 {
                                check_delivered(&writer, since_peer_end, &mut kept)?;
                            }
                            writing = false;
                            events
                                .emit(EventKind::Eof {
                                    conn: conn.clone(),
                                    dir: Direction::Out,
                                })
                                .await?;
                        }
                        if let Some(done) = input_done.take() {
                            let _ = done.send(());
                        }
                        continue;
                    }
                },
                bytes = control.next(), if writing => bytes,
                else => std::future::pending().await,
            };
            if bytes.is_empty() {
                continue;
            }
            // What we send goes out in the stream's default kind (binary
            // on a WebSocket, text with `--ws-text`; binary for bytes that
            // are not UTF-8), reported as it went.
            let sent_kind = if !peer_ended.load(Ordering::Relaxed) {
                writer.write_message(&bytes, None).await?
            } else {
                since_peer_end += bytes.len();
                if since_peer_end <= REPLAY_LIMIT {
                    kept.push(bytes.clone());
                } else {
                    kept.clear();
                }
                let sent = match writer.write_message(&bytes, None).await {
                    Ok(sent) => sent,
                    Err(e) => return Err(undelivered(e, since_peer_end, &mut kept)),
                };
                check_delivered(&writer, since_peer_end, &mut kept)?;
                sent
            };
            meter.sent(bytes.len());
            events
                .data_kind(conn, Direction::Out, bytes, sent_kind)
                .await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), Stop>(())
    };
    let down = async {
        let mut buf = BytesMut::new();
        loop {
            // An empty WebSocket message is a message (`Some(0)`); only
            // `None` is the end.
            let read = reader.read_message(&mut buf, STREAM_READ_SIZE).await?;
            let Some(crate::transport::Received { len: n, kind }) = read else {
                peer_ended.store(true, Ordering::Relaxed);
                events
                    .emit(EventKind::Eof {
                        conn: conn.clone(),
                        dir: Direction::In,
                    })
                    .await?;
                return Ok::<(), Stop>(());
            };
            meter.received(n);
            events
                .data_kind(conn, Direction::In, buf.split().freeze(), kind)
                .await?;
            if counted_enough(meter, cfg) {
                return Ok(());
            }
        }
    };
    let result = drive(up, &mut input_done_rx, down, meter, cfg, stop).await;
    writer.close_layer(LAYER_CLOSE_TIMEOUT).await;
    // A WebSocket peer's close frame (code and reason) is the reason.
    let result = match (result, reader.close_note()) {
        (Ok(CloseReason::Done | CloseReason::PeerClosed), Some(note)) => {
            Ok(CloseReason::Service(note))
        }
        (other, _) => other,
    };
    if let Some(linger) = crate::transport::stream::close_lingering(reader, writer) {
        tokio::spawn(linger);
    }
    finish(meter, result)
}

/// After the peer's end: a reset already in means the peer had closed
/// for good, and the `count` bytes written since never arrived.
fn check_delivered(
    writer: &crate::transport::StreamWriter,
    count: usize,
    kept: &mut Vec<bytes::Bytes>,
) -> Result<(), Stop> {
    match writer.take_error() {
        Some(e) => Err(undelivered(e, count, kept)),
        None => Ok(()),
    }
}

/// A reset or broken pipe after the peer's end, said as what it means: the
/// peer closed the connection and `count` bytes (those `kept`) were not
/// delivered.
fn undelivered(e: io::Error, count: usize, kept: &mut Vec<bytes::Bytes>) -> Stop {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Stop::Undelivered(
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("the peer had closed the connection; {count} bytes sent after its close were not delivered"),
            ),
            std::mem::take(kept),
        ),
        _ => Stop::Io(e),
    }
}

/// True once `--recv-count` messages have come in: the receiving side
/// ends as if the peer had closed.
fn counted_enough(meter: &Meter, cfg: &SessionConfig) -> bool {
    cfg.recv_count
        .is_some_and(|n| meter.counters().msgs_in >= n)
}

fn finish(meter: &Meter, result: Result<CloseReason, Stop>) -> Outcome {
    let counters = meter.counters();
    match result {
        Ok(reason) => Outcome {
            counters,
            reason,
            error: None,
            undelivered: Vec::new(),
        },
        Err(Stop::SinkGone) => Outcome {
            counters,
            reason: CloseReason::Shutdown,
            error: None,
            undelivered: Vec::new(),
        },
        Err(Stop::Io(e)) => Outcome {
            counters,
            reason: CloseReason::Error(NetError::new(NetErrorKind::of(&e), describe_io(&e))),
            error: Some(e),
            undelivered: Vec::new(),
        },
        Err(Stop::Undelivered(e, undelivered)) => Outcome {
            counters,
            reason: CloseReason::Error(NetError::new(NetErrorKind::of(&e), describe_io(&e))),
            error: Some(e),
            undelivered,
        },
    }
}

/// Runs the two directions and the session's clocks until the session
/// ends. `up` runs for the whole session (it also serves the control
/// channel); `input_done` fires when the input has ended.
async fn drive(
    up: impl std::future::Future<Output = Result<(), Stop>>,
    input_done: &mut tokio::sync::oneshot::Receiver<()>,
    down: impl std::future::Future<Output = Result<(), Stop>>,
    meter: &Meter,
    cfg: &SessionConfig,
    stop: &CancellationToken,
) -> Result<CloseReason, Stop> {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    // Set when the peer has ended and `peer_eof_delay` runs.
    let mut closing_at: Option<tokio::time::Instant> = None;
    loop {
        let waiting = up_done && cfg.wait.is_some();
        tokio::select! {
            result = &mut up => {
                result?;
                up_done = true;
            }
            _ = &mut *input_done, if !up_done => up_done = true,
            result = &mut down, if !down_done => {
                result?;
                down_done = true;
                // `--recv-count` reached ends the session like a peer's end.
                if cfg.end_on_peer_eof || counted_enough(meter, cfg) {
                    match cfg.peer_eof_delay {
                        Some(delay) if !up_done => {
                            closing_at = Some(tokio::time::Instant::now() + delay);
                        }
                        _ => return Ok(CloseReason::PeerClosed),
                    }
                }
            }
            () = sleep_until_some(closing_at) => return Ok(CloseReason::PeerClosed),
            () = meter.quiet_for(cfg.wait.unwrap_or_default()), if waiting => {
                return Ok(CloseReason::WaitElapsed);
            }
            () = meter.idle(cfg.idle_timeout) => {
                return Ok(CloseReason::IdleTimeout);
            }
            () = stop.cancelled() => return Ok(CloseReason::Shutdown),
        }
        if up_done && down_done {
            return Ok(CloseReason::Done);
        }
    }
}

async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs a datagram client: each input chunk is one datagram; replies are
/// reported as they come. After the input ends, the session waits for
/// `--wait` (default [`DEFAULT_DATAGRAM_WAIT`]) of silence, then ends.
pub async fn run_datagram_client(
    socket: &DatagramSocket,
    wiring: Wiring<'_>,
    input: &mut Input,
    control: &mut Control,
    cfg: &SessionConfig,
) -> Outcome {
    let Wiring {
        conn,
        events,
        meter,
        stop,
    } = wiring;
    input.set_peer(&conn.peer);
    let (input_done, mut input_done_rx) = tokio::sync::oneshot::channel::<()>();
    let up = async {
        let mut input_done = Some(input_done);
        loop {
            let bytes = tokio::select! {
                next = input.next(), if input_done.is_some() => match next {
                    Next::Data(bytes) => bytes,
                    Next::End { .. } => {
                        if let Some(done) = input_done.take() {
                            let _ = done.send(());
                        }
                        continue;
                    }
                },
                bytes = control.next() => bytes,
            };
            socket.send(&bytes).await?;
            meter.sent(bytes.len());
            events.data(conn, Direction::Out, bytes).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), Stop>(())
    };
    let down = async {
        let mut buf = BytesMut::new();
        loop {
            buf.resize(MAX_DATAGRAM, 0);
            let (n, from) = socket.recv_tagged(&mut buf).await?;
            buf.truncate(n);
            meter.received(n);
            // `--any-source`: each datagram shows who sent it.
            let tagged = from.map(|peer| {
                let scheme = conn.url.split("://").next().unwrap_or("udp");
                let url = format!("{scheme}://{peer}");
                crate::event::ConnInfo::new(conn.id, peer).with_url(url)
            });
            events
                .data(
                    tagged.as_ref().unwrap_or(conn),
                    Direction::In,
                    buf.split().freeze(),
                )
                .await?;
            if counted_enough(meter, cfg) {
                return Ok(());
            }
        }
    };
    let cfg = SessionConfig {
        wait: Some(cfg.wait.unwrap_or(DEFAULT_DATAGRAM_WAIT)),
        ..cfg.clone()
    };
    let result = drive(up, &mut input_done_rx, down, meter, &cfg, stop).await;
    finish(meter, result)
}

/// A short, lower-case description of an I/O error for status lines.
pub use crate::error::describe_io;

/// The counters of a connection that never started (a refused client).
pub fn no_counters() -> Counters {
    Counters::default()
}
