//! Moving bytes one way through a relay, and running a pair of directions.
//!
//! A relay connection is two independent directions: client → target and
//! target → client. Each one copies until its source ends, then carries the
//! end across (shuts down the far side's writes: half-close), while the
//! other direction keeps flowing. Each direction holds at most one read
//! buffer ([`COPY_CHUNK`]) or one pipe, and never reads more before the last
//! read is written, so a slow reader slows the writer and memory stays flat.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio_util::sync::CancellationToken;

use super::framing::RelayFrame;
use crate::event::{CloseReason, ConnInfo, Counters, Direction, EventKind, EventTx, SinkGone};
use crate::session::meter::{Meter, Side};
use crate::session::MAX_DATAGRAM;
use crate::transport::{splice, DatagramSocket, MessageKind, PeerAddr, StreamReader, StreamWriter};

/// Bytes reserved for one read on the buffered path.
pub const COPY_CHUNK: usize = 64 * 1024;

/// Where one direction reads.
#[derive(Debug)]
pub enum Source<'a> {
    /// A stream's reading half; with a frame, it is cut into messages for a
    /// datagram side.
    Stream(StreamReader, Option<RelayFrame>),
    /// A connected datagram socket.
    Datagram(&'a DatagramSocket),
    /// Datagrams from one client of a shared datagram listener.
    Flow(super::flows::FlowRx),
}

/// Where one direction writes.
#[derive(Debug)]
pub enum Dest<'a> {
    /// A stream's writing half; with a frame, each message is wrapped in it.
    Stream(StreamWriter, Option<RelayFrame>),
    /// A connected datagram socket.
    Datagram(&'a DatagramSocket),
    /// One client of a shared datagram listener.
    Flow(&'a DatagramSocket, &'a PeerAddr),
}

/// Tags dumped data with its connection and direction.
#[derive(Debug, Clone, Copy)]
pub struct DumpTag<'a> {
    /// Where the events go.
    pub events: &'a EventTx,
    /// The relayed connection.
    pub conn: &'a ConnInfo,
    /// `In`: client → target; `Out`: target → client.
    pub dir: Direction,
}

/// Why a direction stopped early.
#[derive(Debug)]
pub enum Stop {
    /// A socket failed.
    Io(io::Error),
    /// The dump's output is gone.
    SinkGone,
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

impl From<SinkGone> for Stop {
    fn from(_: SinkGone) -> Self {
        Stop::SinkGone
    }
}

impl Dest<'_> {
    /// Writes one payload; a stream that keeps message kinds gets it as
    /// `kind` (text stays text from one WebSocket to another; from a byte
    /// stream, `None`: binary, or text with `--ws-text`).
    async fn send(
        &mut self,
        payload: &[u8],
        kind: Option<MessageKind>,
        scratch: &mut BytesMut,
    ) -> io::Result<()> {
        match self {
            Dest::Stream(stream, None) => stream.write_message(payload, kind).await.map(drop),
            Dest::Stream(stream, Some(frame)) => {
                scratch.clear();
                frame
                    .encode(payload, scratch)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                stream.write_all(scratch).await
            }
            Dest::Datagram(socket) => socket.send(payload).await.map(drop),
            Dest::Flow(socket, peer) => socket.send_to(payload, peer).await.map(drop),
        }
    }

    /// Drops a stream's half so its connection closes with a reset (the
    /// bytes it should have carried did not all arrive), without a FIN.
    fn abort(self) {
        if let Dest::Stream(stream, _) = self {
            stream.abort();
        }
    }

    /// Carries the end of the source across: shuts down a stream's writes.
    async fn finish(&mut self) -> io::Result<()> {
        match self {
            Dest::Stream(stream, _) => stream.shutdown_write().await,
            _ => Ok(()),
        }
    }
}

/// Copies `src` to `dst` until `src` ends, then shuts down `dst`'s writes.
/// Takes the splice path when allowed, no dump is asked for and both
/// sides are zero-copy capable streams without framing. When the copy
/// fails (a reset, a broken pipe) or is `cut` short (shutdown past its
/// grace) before its source ended, both streams are made to close with a
/// reset, so a reset is carried across and a cut stream never looks
/// complete: a source that has sent nothing for a while may still have
/// more to send (a slow download), so "nothing unread right now" is not
/// "nothing lost".
pub async fn direction(
    src: Source<'_>,
    dst: Dest<'_>,
    activity: &Side<'_>,
    dump: Option<DumpTag<'_>>,
    allow_splice: bool,
    cut: &CancellationToken,
) -> Result<(), Stop> {
    direction_then(src, dst, activity, dump, allow_splice, None, cut).await
}

/// Like [`direction`]; when `dst` cannot half-close (a WebSocket, whose
/// close frame ends both ways), its end waits until the pair has been
/// quiet for `linger` (the replies still coming the other way), or is
/// ended sooner by the pair.
pub async fn direction_then(
    mut src: Source<'_>,
    mut dst: Dest<'_>,
    activity: &Side<'_>,
    dump: Option<DumpTag<'_>>,
    allow_splice: bool,
    linger: Option<(&Meter, Duration)>,
    cut: &CancellationToken,
) -> Result<(), Stop> {
    let copied = tokio::select! {
        copied = copy_all(&mut src, &mut dst, activity, dump, allow_splice) => copied,
        () = cut.cancelled() => {
            // Cut before the source ended: whatever it had still to send
            // never arrives, so the far side must not see a clean end.
            Err(Stop::Io(io::Error::new(
                io::ErrorKind::Interrupted,
                "cut short: the shutdown grace period ran out before the source ended",
            )))
        }
    };
    if let Err(e) = copied {
        if let Source::Stream(stream, _) = &src {
            stream.reset_on_close();
        }
        dst.abort();
        return Err(e);
    }
    if let (Some((meter, quiet)), Dest::Stream(to, _)) = (linger, &dst) {
        if !to.capabilities().half_close {
            meter.quiet_for(quiet).await;
        }
    }
    dst.finish().await?;
    Ok(())
}

async fn copy_all(
    src: &mut Source<'_>,
    dst: &mut Dest<'_>,
    activity: &Side<'_>,
    dump: Option<DumpTag<'_>>,
    allow_splice: bool,
) -> Result<(), Stop> {
    match (&*src, &*dst) {
        (Source::Stream(from, None), Dest::Stream(to, None))
            if allow_splice && dump.is_none() && splice::supports(from, to) =>
        {
            splice::copy(from, to, |n| activity.moved(n)).await?;
            Ok(())
        }
        _ => buffered(src, dst, activity, dump).await,
    }
}

/// The buffered path: one bounded buffer, reused; with a dump, each read is
/// handed to the sinks as well.
async fn buffered(
    src: &mut Source<'_>,
    dst: &mut Dest<'_>,
    activity: &Side<'_>,
    dump: Option<DumpTag<'_>>,
) -> Result<(), Stop> {
    let mut buf = BytesMut::new();
    let mut scratch = BytesMut::new();
    let mut decoder = None;
    loop {
        match &mut *src {
            Source::Stream(stream, None) => {
                // An empty WebSocket message is relayed too; only the end
                // of the stream ends the copy.
                let Some(read) = stream.read_message(&mut buf, COPY_CHUNK).await? else {
                    return Ok(());
                };
                // Once the chunk is written (and dumped) and dropped, the
                // next read reclaims the same allocation; its kind (text,
                // binary) goes along.
                let chunk = buf.split().freeze();
                forward(chunk, read.kind, dst, activity, dump, &mut scratch).await?;
            }
            Source::Stream(stream, Some(frame)) => {
                let n = stream.read_some(&mut buf, COPY_CHUNK).await?;
                let frame = decoder.get_or_insert_with(|| frame.decoder());
                loop {
                    let next = frame
                        .decode(&mut buf)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    let Some(payload) = next else { break };
                    forward(payload, None, dst, activity, dump, &mut scratch).await?;
                }
                if n == 0 {
                    if let Some(last) = frame.decode_eof(&mut buf) {
                        forward(last, None, dst, activity, dump, &mut scratch).await?;
                    }
                    return Ok(());
                }
            }
            Source::Datagram(socket) => {
                buf.resize(MAX_DATAGRAM, 0);
                let n = socket.recv(&mut buf).await?;
                buf.truncate(n);
                forward(
                    buf.split().freeze(),
                    None,
                    dst,
                    activity,
                    dump,
                    &mut scratch,
                )
                .await?;
            }
            Source::Flow(rx) => match rx.recv().await {
                Some(datagram) => {
                    forward(datagram, None, dst, activity, dump, &mut scratch).await?
                }
                None => return Ok(()),
            },
        }
    }
}

async fn forward(
    payload: Bytes,
    kind: Option<MessageKind>,
    dst: &mut Dest<'_>,
    activity: &Side<'_>,
    dump: Option<DumpTag<'_>>,
    scratch: &mut BytesMut,
) -> Result<(), Stop> {
    dst.send(&payload, kind, scratch).await?;
    activity.moved(payload.len());
    if let Some(tag) = dump {
        tag.events
            .data_kind(tag.conn, tag.dir, payload, kind)
            .await?;
    }
    Ok(())
}

/// How a pair ends.
#[derive(Debug, Clone, Copy, Default)]
pub struct PairRules {
    /// End both directions as soon as either ends.
    pub close_both: bool,
    /// End when nothing moved either way for this long.
    pub idle_timeout: Option<Duration>,
}

/// The end of a relayed connection: why, what moved, and the error if any.
#[derive(Debug)]
pub struct PairOutcome {
    /// Why it ended.
    pub reason: CloseReason,
    /// `bytes_in`: client → target; `bytes_out`: target → client.
    pub counters: Counters,
}

impl PairOutcome {
    /// The outcome with how its sides ended (a command's exit status) as
    /// the reason, when the pair ended by itself.
    pub fn with_notes(self, notes: impl Iterator<Item = String>) -> PairOutcome {
        let notes: Vec<String> = notes.collect();
        match self.reason {
            CloseReason::Done if !notes.is_empty() => PairOutcome {
                reason: CloseReason::Service(notes.join(", ")),
                ..self
            },
            _ => self,
        }
    }

    /// Reports the close of `conn` with this outcome.
    pub async fn report_close(self, conn: ConnInfo, events: &EventTx) {
        let _ = events
            .emit(EventKind::Close {
                conn,
                reason: self.reason,
                counters: self.counters,
            })
            .await;
    }
}

/// Runs both directions until both have ended (or `rules` end the pair
/// sooner). On shutdown the directions get [`DRAIN_GRACE`] to deliver what
/// is in flight; then `cut` ends them, and they close with resets.
pub async fn run_pair(
    up: impl std::future::Future<Output = Result<(), Stop>>,
    down: impl std::future::Future<Output = Result<(), Stop>>,
    meter: &Meter,
    rules: PairRules,
    shutdown: &CancellationToken,
    cut: &CancellationToken,
) -> PairOutcome {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    let mut draining = false;
    // Armed on shutdown; until then far away.
    let drained = tokio::time::sleep(Duration::from_secs(86_400 * 365));
    tokio::pin!(drained);
    let reason = loop {
        let result = tokio::select! {
            r = &mut up, if !up_done => { up_done = true; r }
            r = &mut down, if !down_done => { down_done = true; r }
            () = meter.idle(rules.idle_timeout), if !draining => {
                break CloseReason::IdleTimeout;
            }
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                drained.as_mut().reset(tokio::time::Instant::now() + DRAIN_GRACE);
                continue;
            }
            () = &mut drained, if draining => {
                cut.cancel();
                continue;
            }
        };
        match result {
            Err(_) if draining => break CloseReason::Shutdown,
            Err(Stop::Io(e)) => break CloseReason::Error(crate::error::NetError::io("relay", &e)),
            Err(Stop::SinkGone) => break CloseReason::Shutdown,
            Ok(()) if up_done && down_done && draining => break CloseReason::Shutdown,
            Ok(()) if up_done && down_done => break CloseReason::Done,
            Ok(()) if rules.close_both => break CloseReason::Done,
            Ok(()) => {}
        }
    };
    if draining {
        // A direction still running is cut (and its streams reset).
        cut.cancel();
        if !up_done {
            let _ = up.await;
        }
        if !down_done {
            let _ = down.await;
        }
    }
    PairOutcome {
        reason,
        counters: meter.counters(),
    }
}

/// How long a relayed connection may go on delivering what is in flight
/// after shutdown before it is cut (inside the engine's grace period).
pub const DRAIN_GRACE: Duration = crate::shutdown::DRAIN;
