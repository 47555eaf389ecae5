//! Services: what a server does with what its clients send.
//!
//! A service sees messages (cut by [`crate::frame`]) and a [`Link`] to reply
//! on; it does not know which transport it runs on, nor how clients were
//! accepted (that is the engine's one listen path). Each ready-made service
//! is in its own module:
//!
//! - [`config`]: [`ServiceConfig`] and the [`Serve`] names;
//! - [`message`]: banner, `--reply` templates, `--respond` rules,
//!   `--quit-word`, and the `echo`, `time` and `discard` services;
//! - [`chargen`]: an endless RFC 864 character pattern;
//! - [`chat`] and [`broker`]: clients talking to each other through a
//!   bounded [`fanout::Fanout`];
//! - [`exec`]: a command per connection with the socket as its stdin/stdout;
//! - [`exec_message`]: a command per message (`--exec-per-message`);
//! - [`datagram`]: the answer to one datagram;
//! - [`replay`]: answers from a recorded session (`sockmate replay`);
//! - [`proxy`]: a SOCKS5 or HTTP proxy server (`--serve socks5`,
//!   `--serve http-proxy`), which relays rather than answers messages.

#[doc(hidden)]
pub mod broker;
pub use crate::budget;
#[doc(hidden)]
pub mod chargen;
#[doc(hidden)]
pub mod chat;
pub mod config;
#[doc(hidden)]
pub mod datagram;
pub mod exec;
#[doc(hidden)]
pub mod exec_message;
#[doc(hidden)]
pub mod fanout;
#[doc(hidden)]
pub mod message;
pub mod proxy;
#[cfg_attr(windows, path = "pty_windows.rs")]
#[doc(hidden)]
pub mod pty;
#[doc(hidden)]
pub mod replay;
pub mod respond;
#[doc(hidden)]
pub mod rule_regex;

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::Mutex;

pub use config::{frame_too_long_line, Serve, ServiceConfig, SERVICE_READ_SIZE, TIME_REPLY};
pub use exec::ExecSpec;
pub use respond::Rules;

use crate::error::{describe_io, NetError, NetErrorKind};
use crate::event::{CloseReason, Direction};
use crate::session::accept::close_gracefully;
use crate::session::{Control, Wiring};
use crate::transport::MessageKind;
use crate::transport::{Capabilities, StreamReader, StreamWriter};

/// What clients of one server share: the chat room, the broker hub and
/// the buffer budget.
#[derive(Debug, Default)]
pub struct Rooms {
    /// `--serve chat` members.
    pub room: fanout::Fanout,
    /// `--serve broker` members.
    pub hub: fanout::Fanout,
    /// Bytes of unfinished messages held over all clients (shared with
    /// the WebSocket layer, whose reassembly counts too).
    pub buffers: std::sync::Arc<budget::BufferBudget>,
}

impl Rooms {
    /// Rooms for a server of `cfg` (its `--max-buffered`, if given).
    pub fn for_service(cfg: Option<&ServiceConfig>) -> Rooms {
        match cfg.and_then(|c| c.max_buffered) {
            Some(limit) => Rooms {
                buffers: std::sync::Arc::new(budget::BufferBudget::new(limit)),
                ..Rooms::default()
            },
            None => Rooms::default(),
        }
    }
}

/// How a read ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes arrived (one message on a message transport), of
    /// this kind where the transport keeps kinds (text or binary on a
    /// WebSocket).
    Data(usize, Option<MessageKind>),
    /// The client ended its writes.
    Eof,
    /// `--idle-timeout` passed.
    Idle,
    /// The server is shutting down (or this connection was closed).
    Shutdown,
}

/// One client connection as a service sees it: its two halves, its wiring
/// (name, events, meter, stop signal), the idle timeout and the control
/// channel. Methods take `&self` so a service can read and write at once
/// (each half is behind its own lock, never contended: one task reads and
/// one writes).
pub struct Link<'a> {
    /// Name, events, meter and stop signal.
    pub wiring: Wiring<'a>,
    reader: Mutex<&'a mut StreamReader>,
    writer: Mutex<&'a mut StreamWriter>,
    caps: Capabilities,
    idle_timeout: Option<Duration>,
    control: Mutex<&'a mut Control>,
}

impl<'a> Link<'a> {
    /// A link for one accepted connection, split into its halves.
    pub fn new(
        reader: &'a mut StreamReader,
        writer: &'a mut StreamWriter,
        wiring: Wiring<'a>,
        control: &'a mut Control,
        idle_timeout: Option<Duration>,
    ) -> Self {
        Link {
            caps: reader.capabilities(),
            wiring,
            reader: Mutex::new(reader),
            writer: Mutex::new(writer),
            idle_timeout,
            control: Mutex::new(control),
        }
    }

    /// What the connection can do (message boundaries, zero-copy).
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// Ends our write side (half-close).
    pub async fn shutdown_write(&self) -> io::Result<()> {
        self.writer.lock().await.shutdown_write().await
    }

    /// Copies what the client sends straight back with splice(2) (no user
    /// space copies), calling `on_moved` per batch, until the client ends.
    pub async fn splice_echo(&self, on_moved: impl Fn(usize)) -> io::Result<u64> {
        let reader = self.reader.lock().await;
        let writer = self.writer.lock().await;
        crate::transport::splice::copy(&reader, &writer, on_moved).await
    }

    /// Copies what the client sends straight back through one buffer (no
    /// framing, no events), calling `on_moved` per read, until the client
    /// ends. Reads start at `min_read` bytes and grow while they fill; a
    /// buffer grown past that is let go once the client pauses, so a
    /// quiet connection keeps at most a small one.
    pub async fn copy_echo(&self, min_read: usize, on_moved: impl Fn(usize)) -> io::Result<u64> {
        let mut reader = self.reader.lock().await;
        let mut writer = self.writer.lock().await;
        let mut buf = BytesMut::new();
        let mut reads = message::ReadSize::default();
        let mut total = 0u64;
        loop {
            let n = reader.read_some(&mut buf, reads.reserve).await?;
            if n == 0 {
                return Ok(total);
            }
            reads.update(n);
            writer.write_all(&buf).await?;
            on_moved(n);
            total += n as u64;
            buf.clear();
            if reads.drained && buf.capacity() > 2 * min_read {
                buf = BytesMut::new();
            }
        }
    }

    /// Ends our writes, then reads and drops what the client still sends
    /// for a moment, so our last bytes are delivered rather than reset away.
    pub async fn close_gracefully(&self) {
        let mut reader = self.reader.lock().await;
        let mut writer = self.writer.lock().await;
        close_gracefully(&mut reader, &mut writer).await;
    }

    /// On a WebSocket: sends the close frame that ends the connection (see
    /// [`StreamWriter::close_ws`]); nothing on other kinds.
    pub async fn close_ws(&self) {
        self.writer.lock().await.close_ws(WS_CLOSE_WAIT).await;
    }

    /// Resolves once `--idle-timeout` has passed with no traffic either
    /// way; never without an idle timeout.
    pub async fn idle(&self) {
        self.wiring.meter.idle(self.idle_timeout).await
    }

    /// Resolves when this connection should stop.
    pub async fn stopped(&self) {
        self.wiring.stop.cancelled().await
    }

    /// Reads what the client sent into `buf` (reserving `reserve` bytes
    /// only once data is ready), or reports end, idleness or shutdown.
    /// Bytes a program asked to send meanwhile (`handle.send`) go out. On
    /// a message transport (WebSocket) an empty message is `Data(0)`.
    pub async fn read(&self, buf: &mut BytesMut, reserve: usize) -> io::Result<ReadOutcome> {
        let mut control = self.control.lock().await;
        let mut reader = self.reader.lock().await;
        loop {
            tokio::select! {
                read = reader.read_message(buf, reserve) => {
                    let Some(read) = read? else {
                        return Ok(ReadOutcome::Eof);
                    };
                    self.wiring.meter.received_bytes(read.len);
                    return Ok(ReadOutcome::Data(read.len, read.kind));
                }
                // Boxed: rare, and every connection waits in this future.
                bytes = control.next() => Box::pin(self.send_bytes(bytes)).await?,
                () = self.idle() => return Ok(ReadOutcome::Idle),
                () = self.stopped() => return Ok(ReadOutcome::Shutdown),
            }
        }
    }

    /// Sends one message back as it came: the same bytes and, where the
    /// transport keeps kinds, the same kind (text stays text); on a
    /// message transport an empty message is sent too.
    pub async fn echo(&self, bytes: Bytes, kind: Option<MessageKind>) -> io::Result<()> {
        if bytes.is_empty() && !self.caps.message_boundaries {
            return Ok(());
        }
        let sent = self.write_guarded(&bytes, kind).await?;
        self.wiring.meter.sent(bytes.len());
        let _ = self
            .wiring
            .events
            .data_kind(self.wiring.conn, Direction::Out, bytes, sent)
            .await;
        Ok(())
    }

    /// Reports received bytes (one message) to the views.
    pub async fn received(&self, bytes: Bytes) {
        self.received_as(bytes, None).await
    }

    /// Reports one received message with its kind (text or binary, where
    /// the transport keeps kinds) to the views.
    pub async fn received_as(&self, bytes: Bytes, kind: Option<MessageKind>) {
        self.wiring.meter.received_msgs(1);
        let _ = self
            .wiring
            .events
            .data_kind(self.wiring.conn, Direction::In, bytes, kind)
            .await;
    }

    /// `--idle-timeout`, if set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// Counts bytes that arrived outside [`Link::read`] (exec's pump).
    pub fn count_in(&self, n: usize) {
        self.wiring.meter.received_bytes(n);
    }

    /// Sends bytes to the client and reports them.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        self.send_as(bytes, None).await
    }

    /// Sends bytes to the client as one message of `kind` where the
    /// transport keeps kinds (a reply in the kind of the question), and
    /// reports them; `None` is the transport's default.
    pub async fn send_as(&self, bytes: &[u8], kind: Option<MessageKind>) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let sent = self.write_guarded(bytes, kind).await?;
        self.sent_as(bytes, sent).await;
        Ok(())
    }

    /// Sends shared bytes to the client and reports them without copying.
    pub async fn send_bytes(&self, bytes: Bytes) -> io::Result<()> {
        self.send_bytes_as(bytes, None).await
    }

    /// [`Link::send_bytes`] as one message of `kind` (see
    /// [`Link::send_as`]).
    pub async fn send_bytes_as(&self, bytes: Bytes, kind: Option<MessageKind>) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let sent = self.write_guarded(&bytes, kind).await?;
        self.wiring.meter.sent(bytes.len());
        let _ = self
            .wiring
            .events
            .data_kind(self.wiring.conn, Direction::Out, bytes, sent)
            .await;
        Ok(())
    }

    /// Writes every byte under the same select as the idle timeout and
    /// shutdown, so a client that stopped reading cannot hold the server
    /// past either: after shutdown the write may go on for
    /// [`DRAIN`](crate::shutdown::DRAIN) to deliver what is in flight. Each
    /// chunk that goes out counts as activity. A cut write fails with a
    /// [`WriteCut`] error carrying the reason. On a message transport the
    /// bytes go out as one message (of `kind`, when given), never cut
    /// into chunks; returns the kind it went out as, where the transport
    /// keeps kinds.
    async fn write_guarded(
        &self,
        bytes: &[u8],
        kind: Option<MessageKind>,
    ) -> io::Result<Option<MessageKind>> {
        // Boxed (one allocation per write, against a system call or more):
        // the write and its timers would otherwise be part of every
        // connection's task, idle or not.
        Box::pin(self.write_guarded_now(bytes, kind)).await
    }

    async fn write_guarded_now(
        &self,
        bytes: &[u8],
        kind: Option<MessageKind>,
    ) -> io::Result<Option<MessageKind>> {
        let mut writer = self.writer.lock().await;
        let mut drain_until: Option<tokio::time::Instant> = None;
        let chunk_size = if self.caps.message_boundaries {
            bytes.len().max(1)
        } else {
            WRITE_CHUNK
        };
        // One pass even for empty bytes (an empty message is sent).
        let mut start = 0;
        let mut sent;
        loop {
            let end = bytes.len().min(start + chunk_size);
            let chunk = &bytes[start..end];
            start = end;
            let write = writer.write_message(chunk, kind);
            tokio::pin!(write);
            loop {
                let cut_at = drain_until.unwrap_or_else(far_future);
                tokio::select! {
                    written = &mut write => {
                        sent = written?;
                        break;
                    }
                    () = self.idle() => return Err(WriteCut::error(CloseReason::IdleTimeout)),
                    () = self.stopped(), if drain_until.is_none() => {
                        drain_until = Some(tokio::time::Instant::now() + crate::shutdown::DRAIN);
                    }
                    () = tokio::time::sleep_until(cut_at), if drain_until.is_some() => {
                        return Err(WriteCut::error(CloseReason::Shutdown));
                    }
                }
            }
            self.wiring.meter.touch();
            if start >= bytes.len() {
                break;
            }
        }
        Ok(sent)
    }

    /// Counts and reports bytes that were written to the client.
    pub async fn sent(&self, bytes: &[u8]) {
        self.sent_as(bytes, None).await
    }

    /// [`Link::sent`] with the kind the bytes went out as.
    async fn sent_as(&self, bytes: &[u8], kind: Option<MessageKind>) {
        self.wiring.meter.sent(bytes.len());
        if self.wiring.events.wants_sent() {
            let _ = self
                .wiring
                .events
                .data_kind(
                    self.wiring.conn,
                    Direction::Out,
                    Bytes::copy_from_slice(bytes),
                    kind,
                )
                .await;
        }
    }
}

/// An instant no timer reaches.
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365)
}

/// How long a WebSocket's closing frame may take to go out.
const WS_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Bytes written between two looks at the idle timeout and shutdown.
const WRITE_CHUNK: usize = 64 * 1024;

/// Why a write to a client was given up (idle timeout or shutdown) while
/// the client was not reading; carried inside an `io::Error`.
#[derive(Debug)]
pub struct WriteCut(pub CloseReason);

impl WriteCut {
    fn error(reason: CloseReason) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, WriteCut(reason))
    }

    /// The reason inside `e`, when `e` is a cut write.
    pub fn reason_of(e: &io::Error) -> Option<CloseReason> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<WriteCut>())
            .map(|cut| cut.0.clone())
    }
}

impl std::fmt::Display for WriteCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "write given up: {}", self.0)
    }
}

impl std::error::Error for WriteCut {}

/// Serves one accepted connection with the configured service until it
/// ends, and closes it gracefully (our last replies are delivered). Returns
/// why it ended.
pub async fn serve_connection(link: &Link<'_>, cfg: &ServiceConfig, rooms: &Rooms) -> CloseReason {
    let reason = match run_service(link, cfg, rooms).await {
        Ok(reason) => reason,
        Err(e) => match WriteCut::reason_of(&e) {
            // The client is not reading: no graceful close that waits on it.
            Some(reason) => return reason,
            None => CloseReason::Error(NetError::new(NetErrorKind::of(&e), describe_io(&e))),
        },
    };
    if !matches!(reason, CloseReason::PeerClosed | CloseReason::Error(_)) {
        link.close_gracefully().await;
    } else {
        // A WebSocket answers the peer's close frame with its own, and a
        // protocol failure with the close code it calls for.
        link.close_ws().await;
    }
    reason
}

/// Runs the configured service. Services other than the message one are
/// boxed so that the common case (echo, reply, respond) keeps a small task.
async fn run_service(
    link: &Link<'_>,
    cfg: &ServiceConfig,
    rooms: &Rooms,
) -> io::Result<CloseReason> {
    if let Some(spec) = cfg.exec.as_ref().filter(|_| !cfg.exec_per_message) {
        if let Some(banner) = &cfg.banner {
            link.send(banner).await?;
        }
        return Box::pin(exec::run(link, spec)).await;
    }
    match cfg.serve {
        Some(Serve::Chat) => {
            if let Some(banner) = &cfg.banner {
                link.send(banner).await?;
            }
            Box::pin(chat::run(
                link,
                &rooms.room,
                &cfg.frame,
                cfg.max_frame,
                cfg.encoding,
            ))
            .await
        }
        Some(Serve::Broker) => Box::pin(broker::run(link, &rooms.hub, cfg.banner.as_deref())).await,
        Some(Serve::Chargen) => {
            if let Some(banner) = &cfg.banner {
                link.send(banner).await?;
            }
            Box::pin(chargen::run(link)).await
        }
        _ => message::run(link, cfg, &rooms.buffers).await,
    }
}
