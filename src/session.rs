//! Sessions: move bytes between an input (stdin, broadcast lines) and one
//! socket, in both directions at once, reporting everything as events.
//!
//! The two directions are independent: each one carries its data and then
//! its end-of-stream whatever the other is doing (idle, stalled by
//! backpressure, or finished). End of input shuts down our write side only
//! (half-close); the peer's end of stream is reported as an
//! [`EventKind::Eof`], which the raw view turns into closing stdout.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::event::{CloseReason, ConnInfo, Counters, Direction, EventKind, EventTx};
use crate::transport::{DatagramSocket, Stream};

/// Bytes reserved for one socket read on a stream: big enough for bulk
/// transfers, and only allocated once data is ready.
pub const STREAM_READ_SIZE: usize = 128 * 1024;

/// Largest datagram we can receive (UDP's maximum payload).
pub const MAX_DATAGRAM: usize = 65_536;

/// How long a datagram client waits for replies after its input ends, when
/// `--wait` is not given.
pub const DEFAULT_DATAGRAM_WAIT: Duration = Duration::from_secs(1);

/// Where a session's outgoing data comes from.
#[derive(Debug)]
pub enum Input {
    /// Chunks of stdin. Its end shuts down our write side (half-close).
    Stdin(mpsc::Receiver<Bytes>),
    /// Lines broadcast to every client (`listen -k`). Its end does not close
    /// the connection; a client too slow to keep up skips lines.
    Broadcast(broadcast::Receiver<Bytes>),
    /// Nothing to send.
    Nothing,
    /// The auto-send schedule (`--send`, `--interval`, `--count`), with
    /// another input (typed lines, broadcast lines) interleaved. When the
    /// schedule is done the other input goes on; the end of both does not
    /// close the connection.
    Scripted {
        /// The messages to send and when.
        schedule: crate::send::Schedule,
        /// Another input read at the same time, if any.
        also: Option<Box<Input>>,
    },
}

enum Next {
    Data(Bytes),
    End { half_close: bool },
}

impl Input {
    async fn next(&mut self) -> Next {
        match self {
            Input::Stdin(rx) => match rx.recv().await {
                Some(bytes) => Next::Data(bytes),
                None => Next::End { half_close: true },
            },
            Input::Broadcast(rx) => loop {
                match rx.recv().await {
                    Ok(bytes) => return Next::Data(bytes),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("a client fell behind and skipped {n} input lines");
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Next::End { half_close: false }
                    }
                }
            },
            Input::Nothing => Next::End { half_close: false },
            Input::Scripted { schedule, also } => loop {
                let Some(other) = also.as_mut() else {
                    return match schedule.next().await {
                        Some(bytes) => Next::Data(bytes),
                        None => Next::End { half_close: false },
                    };
                };
                if schedule.is_done() {
                    return match Box::pin(other.next()).await {
                        Next::Data(bytes) => Next::Data(bytes),
                        Next::End { .. } => Next::End { half_close: false },
                    };
                }
                tokio::select! {
                    message = schedule.next() => {
                        if let Some(bytes) = message {
                            return Next::Data(bytes);
                        }
                    }
                    next = Box::pin(other.next()) => match next {
                        Next::Data(bytes) => return Next::Data(bytes),
                        Next::End { .. } => *also = None,
                    },
                }
            },
        }
    }
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
}

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

/// Counters and activity clocks shared by a session's two directions.
struct Tally {
    start: Instant,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    msgs_in: AtomicU64,
    msgs_out: AtomicU64,
    last_any: AtomicU64,
}

impl Tally {
    fn new() -> Self {
        Tally {
            start: Instant::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            msgs_in: AtomicU64::new(0),
            msgs_out: AtomicU64::new(0),
            last_any: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn received(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        self.msgs_in.fetch_add(1, Ordering::Relaxed);
        self.last_any.store(self.now(), Ordering::Relaxed);
    }

    fn sent(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        self.msgs_out.fetch_add(1, Ordering::Relaxed);
        self.last_any.store(self.now(), Ordering::Relaxed);
    }

    fn counters(&self) -> Counters {
        Counters {
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            msgs_in: self.msgs_in.load(Ordering::Relaxed),
            msgs_out: self.msgs_out.load(Ordering::Relaxed),
        }
    }

    /// Resolves once `quiet` has passed since the clock in `mark` last moved.
    async fn quiet_for(&self, mark: &AtomicU64, quiet: Duration) {
        loop {
            let last = mark.load(Ordering::Relaxed);
            let deadline = self.start + Duration::from_millis(last) + quiet;
            tokio::time::sleep_until(deadline).await;
            if mark.load(Ordering::Relaxed) == last {
                return;
            }
        }
    }
}

/// A direction ended badly, or the sinks went away.
enum Stop {
    Io(io::Error),
    SinkGone,
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
/// have ended (or the config or `shutdown` ends it sooner).
pub async fn run_stream(
    stream: &Stream,
    conn: &ConnInfo,
    input: &mut Input,
    events: &EventTx,
    cfg: &SessionConfig,
    shutdown: &CancellationToken,
) -> Outcome {
    let tally = Tally::new();
    let up = async {
        loop {
            match input.next().await {
                Next::Data(bytes) => {
                    if bytes.is_empty() {
                        continue;
                    }
                    stream.write_all_shared(&bytes).await?;
                    tally.sent(bytes.len());
                    events.data(conn, Direction::Out, bytes).await?;
                }
                Next::End { half_close } => {
                    if half_close {
                        stream.shutdown_write()?;
                        events
                            .emit(EventKind::Eof {
                                conn: conn.clone(),
                                dir: Direction::Out,
                            })
                            .await?;
                    }
                    return Ok::<(), Stop>(());
                }
            }
        }
    };
    let down = async {
        let mut buf = BytesMut::new();
        loop {
            let n = stream.read_some(&mut buf, STREAM_READ_SIZE).await?;
            if n == 0 {
                events
                    .emit(EventKind::Eof {
                        conn: conn.clone(),
                        dir: Direction::In,
                    })
                    .await?;
                return Ok::<(), Stop>(());
            }
            tally.received(n);
            events
                .data(conn, Direction::In, buf.split().freeze())
                .await?;
        }
    };
    let result = drive(up, down, &tally, cfg, shutdown).await;
    finish(&tally, result)
}

fn finish(tally: &Tally, result: Result<CloseReason, Stop>) -> Outcome {
    let counters = tally.counters();
    match result {
        Ok(reason) => Outcome {
            counters,
            reason,
            error: None,
        },
        Err(Stop::SinkGone) => Outcome {
            counters,
            reason: CloseReason::Shutdown,
            error: None,
        },
        Err(Stop::Io(e)) => Outcome {
            counters,
            reason: CloseReason::Error(crate::error::NetError::new(
                crate::error::NetErrorKind::of(&e),
                describe_io(&e),
            )),
            error: Some(e),
        },
    }
}

/// Runs the two directions and the session's clocks until the session ends.
async fn drive(
    up: impl std::future::Future<Output = Result<(), Stop>>,
    down: impl std::future::Future<Output = Result<(), Stop>>,
    tally: &Tally,
    cfg: &SessionConfig,
    shutdown: &CancellationToken,
) -> Result<CloseReason, Stop> {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    loop {
        let waiting = up_done && cfg.wait.is_some();
        tokio::select! {
            result = &mut up, if !up_done => {
                result?;
                up_done = true;
            }
            result = &mut down, if !down_done => {
                result?;
                down_done = true;
                if cfg.end_on_peer_eof {
                    return Ok(CloseReason::PeerClosed);
                }
            }
            () = tally.quiet_for(&tally.last_any, cfg.wait.unwrap_or_default()), if waiting => {
                return Ok(CloseReason::WaitElapsed);
            }
            () = tally.quiet_for(&tally.last_any, cfg.idle_timeout.unwrap_or_default()), if cfg.idle_timeout.is_some() => {
                return Ok(CloseReason::IdleTimeout);
            }
            () = shutdown.cancelled() => return Ok(CloseReason::Shutdown),
        }
        if up_done && down_done {
            return Ok(CloseReason::Done);
        }
    }
}

/// Runs a datagram client: each input chunk is one datagram; replies are
/// reported as they come. After the input ends, the session waits for
/// `--wait` (default [`DEFAULT_DATAGRAM_WAIT`]) of silence, then ends.
pub async fn run_datagram_client(
    socket: &DatagramSocket,
    conn: &ConnInfo,
    input: &mut Input,
    events: &EventTx,
    cfg: &SessionConfig,
    shutdown: &CancellationToken,
) -> Outcome {
    let tally = Tally::new();
    let up = async {
        loop {
            match input.next().await {
                Next::Data(bytes) => {
                    socket.send(&bytes).await?;
                    tally.sent(bytes.len());
                    events.data(conn, Direction::Out, bytes).await?;
                }
                Next::End { .. } => return Ok::<(), Stop>(()),
            }
        }
    };
    let down = async {
        let mut buf = BytesMut::new();
        loop {
            buf.resize(MAX_DATAGRAM, 0);
            let n = socket.recv(&mut buf).await?;
            buf.truncate(n);
            tally.received(n);
            events
                .data(conn, Direction::In, buf.split().freeze())
                .await?;
        }
    };
    let cfg = SessionConfig {
        wait: Some(cfg.wait.unwrap_or(DEFAULT_DATAGRAM_WAIT)),
        ..cfg.clone()
    };
    let result = drive(up, down, &tally, &cfg, shutdown).await;
    finish(&tally, result)
}

/// A short, lower-case description of an I/O error for status lines.
pub fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        io::ErrorKind::ConnectionRefused => "connection refused (nothing listening)".into(),
        io::ErrorKind::BrokenPipe => "connection closed by peer while sending".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}
