//! [`Stream`]: one connected byte stream, whatever the socket kind, and its
//! two halves, [`StreamReader`] and [`StreamWriter`], which is how the rest
//! of the program moves bytes without knowing the kind.
//!
//! What a kind can do is said by [`Capabilities`] (half-close, message
//! boundaries, zero-copy splice), never by matching on it outside this
//! module. A stream is a base (TCP, Unix, serial…) with layers on it: the
//! TLS layer (`tls.rs`) wraps any byte-stream [`Stream`] (`tls://`,
//! `tls+unix://`), is split by `tokio::io::split` and says "no
//! zero-copy"; a WebSocket (`ws://`, `ws+unix://`, `wss://`…) reads and
//! writes whole messages and says "no half-close". The socket kinds are
//! in `socket.rs`, the tokio trait impls in `poll.rs`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use socket2::SockRef;
use tokio::net::{tcp, TcpStream};

use super::unix_socket::{UnixReadHalf, UnixStream, UnixWriteHalf};

mod blocking;
mod poll;
mod socket;
mod tls;

// Used by the Unix-only kinds (serial through termios, seqpacket).
#[cfg_attr(windows, allow(unused_imports))]
pub(super) use socket::{release_if_new, Io};

use super::local::{EndNote, LocalReader, LocalStream, LocalWriter};
use super::seqpacket::SeqpacketStream;
use super::serial::SerialPort;
use super::tls::TlsInfo;
use super::ws::{WsReader, WsStream, WsWriter};
use super::{MessageKind, Received};

pub use blocking::{timed_out, BlockingIo};
pub use tls::TlsIo;
use tls::{tls_read_some, TLS_CAPABILITIES};

/// A connected, connection-oriented stream: TCP, Unix stream, Unix
/// seqpacket, TLS or WebSocket. Reads and writes go straight to the socket; shutting down
/// (`AsyncWriteExt::shutdown`) ends our write side only (half-close).
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix stream connection.
    Unix(UnixStream),
    /// A Unix seqpacket connection: every read returns one message and every
    /// write sends one.
    Seqpacket(SeqpacketStream),
    /// A serial port (`serial://`): a byte stream without half-close.
    Serial(Box<SerialPort>),
    /// A TLS connection (`tls://`): half-close is close_notify.
    Tls(Box<TlsIo>),
    /// A WebSocket connection (`ws://`, `wss://`): one message per read
    /// and per write.
    Ws(Box<WsStream>),
    /// A side that is not a socket (`-`, `exec:`, `sh:`, `file:`, `pty:`):
    /// a reader and a writer with their own capabilities.
    Local(Box<LocalStream>),
}

/// What a stream can do, so callers choose a strategy without knowing its
/// kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Our write side can be ended while reads go on (`shutdown(SHUT_WR)`).
    pub half_close: bool,
    /// Each read returns one message and each write sends one (seqpacket).
    pub message_boundaries: bool,
    /// Bytes can be moved kernel-side with splice(2), never entering user
    /// space.
    pub zero_copy: bool,
}

/// What a WebSocket can do: messages, no half-close (a close frame ends
/// both ways), no splice.
const WS_CAPABILITIES: Capabilities = Capabilities {
    half_close: false,
    message_boundaries: true,
    zero_copy: false,
};

fn layered() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "a WebSocket or a local side is read and written through its halves (into_split)",
    )
}

impl Stream {
    /// The socket under the stream, for the socket kinds (`None` for TLS
    /// and WebSocket, which are read through their own layers).
    pub(super) fn io(&self) -> Option<Io<'_>> {
        match self {
            Stream::Tcp(s) => Some(Io::Tcp(s)),
            Stream::Unix(s) => Some(Io::Unix(s)),
            Stream::Seqpacket(s) => Some(Io::Seqpacket(s)),
            Stream::Serial(s) => Some(Io::Serial(s)),
            Stream::Tls(_) | Stream::Ws(_) | Stream::Local(_) => None,
        }
    }

    /// What this stream can do.
    pub fn capabilities(&self) -> Capabilities {
        match self {
            Stream::Tls(_) => TLS_CAPABILITIES,
            Stream::Ws(_) => WS_CAPABILITIES,
            Stream::Local(s) => s.capabilities(),
            _ => self.io().map(Io::capabilities).unwrap_or_default(),
        }
    }

    /// Our own address on a TCP connection, or TLS over one (for a
    /// listener on `0.0.0.0`, the address the client reached); `None` for
    /// other kinds.
    pub fn local_ip_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Stream::Tcp(s) => s.local_addr().ok(),
            Stream::Tls(s) => s.get_ref().0.local_ip_addr(),
            _ => None,
        }
    }

    /// What the TLS handshake established (protocol, cipher, ALPN, peer
    /// certificate), for the kinds with TLS (`tls://`, `wss://`,
    /// `tls+unix://`…).
    pub fn tls_info(&self) -> Option<TlsInfo> {
        match self {
            Stream::Tls(s) => Some(tls::info(s)),
            Stream::Ws(ws) => ws.tls.clone(),
            _ => None,
        }
    }

    /// How the stream ended, readable after its halves are gone: a
    /// command's exit status for `exec:` and `sh:`; `None` for the kinds
    /// that have nothing to say.
    pub fn end_note(&self) -> Option<EndNote> {
        match self {
            Stream::Local(s) => Some(s.end_note()),
            _ => None,
        }
    }

    /// True when reads and writes keep message boundaries (seqpacket).
    pub fn keeps_message_boundaries(&self) -> bool {
        self.capabilities().message_boundaries
    }

    /// Resolves once the peer has closed or reset the connection without
    /// sending anything first (the bytes are only peeked, never taken).
    /// Once data waits, or on a kind that cannot be peeked, it never
    /// resolves: use it to give up work for a client that left (a pending
    /// connect).
    pub fn peer_gone(&self) -> impl std::future::Future<Output = ()> + Send + '_ {
        let io = self.io().filter(|io| io.is_stream_socket());
        async move {
            let Some(io) = io else {
                return std::future::pending().await;
            };
            peer_gone_on(io).await
        }
    }
}

impl Stream {
    /// Resolves once a first byte (or the end) waits to be read, without
    /// taking it; at once on a kind that cannot be peeked. A listener's
    /// layers wait for it before their handshake.
    pub(in crate::transport) async fn first_byte(&self) -> io::Result<()> {
        let Some(io) = self.io().filter(|io| io.is_stream_socket()) else {
            return Ok(());
        };
        loop {
            io.ready(tokio::io::Interest::READABLE).await?;
            let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
            let peeked = io.try_io(tokio::io::Interest::READABLE, || match io.socket() {
                Some(socket) => socket.peek(&mut byte),
                None => Ok(1),
            });
            match peeked {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
                Ok(_) => return Ok(()),
            }
        }
    }
}

/// [`Stream::peer_gone`] on a socket.
async fn peer_gone_on(io: Io<'_>) {
    {
        loop {
            if io.ready(tokio::io::Interest::READABLE).await.is_err() {
                return;
            }
            let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
            let peeked = io.try_io(tokio::io::Interest::READABLE, || match io.socket() {
                Some(socket) => socket.peek(&mut byte),
                None => Ok(1),
            });
            match peeked {
                Ok(0) => return,
                Ok(_) => return std::future::pending().await,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            }
        }
    }
}

impl Stream {
    /// Makes closing this stream reset the connection instead of a graceful
    /// close (TCP `SO_LINGER` 0: no `TIME_WAIT` left behind); no effect on
    /// other kinds.
    pub fn set_linger_zero(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => SockRef::from(s).set_linger(Some(Duration::ZERO)),
            Stream::Tls(s) => s.get_ref().0.set_linger_zero(),
            Stream::Unix(_)
            | Stream::Seqpacket(_)
            | Stream::Serial(_)
            | Stream::Ws(_)
            | Stream::Local(_) => Ok(()),
        }
    }

    /// Splits the stream into a half that reads and a half that writes,
    /// each usable from its own task. Dropping the writer ends our writes.
    // On Windows the Unix arm holds an uninhabited stand-in.
    #[cfg_attr(windows, allow(unreachable_code))]
    pub fn into_split(self) -> (StreamReader, StreamWriter) {
        let (read, write) = match self {
            Stream::Tcp(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Tcp(r), WriteHalf::Tcp(w))
            }
            Stream::Unix(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Unix(r), WriteHalf::Unix(w))
            }
            Stream::Seqpacket(s) => {
                let s = Arc::new(s);
                (ReadHalf::Seqpacket(Arc::clone(&s)), WriteHalf::Seqpacket(s))
            }
            Stream::Serial(s) => {
                let s = Arc::new(*s);
                (ReadHalf::Serial(Arc::clone(&s)), WriteHalf::Serial(s))
            }
            Stream::Tls(s) => {
                let (r, w) = tokio::io::split(*s);
                (ReadHalf::Tls(r), WriteHalf::Tls(w))
            }
            Stream::Ws(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Ws(Box::new(r)), WriteHalf::Ws(Box::new(w)))
            }
            Stream::Local(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Local(Box::new(r)), WriteHalf::Local(Box::new(w)))
            }
        };
        (StreamReader { inner: read }, StreamWriter { inner: write })
    }
}

/// The reading half of a [`Stream`], from [`Stream::into_split`].
#[derive(Debug)]
pub struct StreamReader {
    inner: ReadHalf,
}

/// One variant per transport; a boxed `AsyncRead` variant fits here too.
#[derive(Debug)]
enum ReadHalf {
    Tcp(tcp::OwnedReadHalf),
    Unix(UnixReadHalf),
    Seqpacket(Arc<SeqpacketStream>),
    Serial(Arc<SerialPort>),
    Tls(tokio::io::ReadHalf<TlsIo>),
    Ws(Box<WsReader>),
    Local(Box<LocalReader>),
}

impl StreamReader {
    /// Makes closing this connection send a reset instead of a clean end
    /// (TCP `SO_LINGER` 0), for a connection cut short: the peer must not
    /// take a truncated stream for a complete one. No effect on other kinds.
    pub fn reset_on_close(&self) {
        if let Some(io) = self.io() {
            io.reset_on_close();
        }
    }

    pub(super) fn io(&self) -> Option<Io<'_>> {
        match &self.inner {
            ReadHalf::Tcp(h) => Some(Io::Tcp(h.as_ref())),
            ReadHalf::Unix(h) => Some(Io::Unix(h.as_ref())),
            ReadHalf::Seqpacket(s) => Some(Io::Seqpacket(s)),
            ReadHalf::Serial(s) => Some(Io::Serial(s)),
            ReadHalf::Tls(_) | ReadHalf::Ws(_) | ReadHalf::Local(_) => None,
        }
    }

    /// What the stream this half came from can do.
    pub fn capabilities(&self) -> Capabilities {
        match &self.inner {
            ReadHalf::Tls(_) => TLS_CAPABILITIES,
            ReadHalf::Ws(_) => WS_CAPABILITIES,
            ReadHalf::Local(r) => r.capabilities(),
            _ => self.io().map(Io::capabilities).unwrap_or_default(),
        }
    }

    /// On a WebSocket: the close frame the peer ended with
    /// (`websocket close 1000 (bye)`); on a command side, how it exited
    /// (`command exited with status 3`).
    pub fn close_note(&self) -> Option<String> {
        match &self.inner {
            ReadHalf::Ws(r) => r.close_note().map(str::to_string),
            ReadHalf::Local(r) => r.end_note(),
            _ => None,
        }
    }

    /// Reads the next message into `buf`, with its kind on a stream that
    /// keeps kinds (text or binary on a WebSocket); `None` at the end of
    /// the stream, so that an empty message (`len` 0, on a WebSocket) is
    /// told apart from the end. On a byte stream a "message" is one read,
    /// never empty.
    pub async fn read_message(
        &mut self,
        buf: &mut BytesMut,
        reserve: usize,
    ) -> io::Result<Option<Received>> {
        match &mut self.inner {
            ReadHalf::Ws(r) => Ok(r.read_message(buf, reserve).await?.map(|len| Received {
                len,
                kind: r.last_kind(),
            })),
            _ => match self.read_some(buf, reserve).await? {
                0 => Ok(None),
                len => Ok(Some(Received { len, kind: None })),
            },
        }
    }

    /// Waits until data is ready, then reads what is there into `buf`,
    /// reserving `reserve` bytes only then (an idle connection holds no read
    /// buffer). On seqpacket, one message of at most `reserve` bytes.
    /// Returns 0 at end of stream.
    pub async fn read_some(&mut self, buf: &mut BytesMut, reserve: usize) -> io::Result<usize> {
        match &mut self.inner {
            ReadHalf::Tls(h) => tls_read_some(h, buf, reserve).await,
            ReadHalf::Ws(r) => r.read_some(buf, reserve).await,
            ReadHalf::Local(r) => r.read_some(buf, reserve).await,
            _ => match self.io() {
                Some(io) => io.read_some(buf, reserve).await,
                None => Err(layered()),
            },
        }
    }
}

/// Closes a connection this server failed. On a WebSocket whose close
/// frame answered a protocol failure, the close lingers: the task returned
/// reads and drops what the peer still sends for at most half a second
/// before the socket closes, so that closing does not reset the
/// connection before the peer reads our close frame (spawn it; it ends by
/// itself). Other kinds close here, as the halves drop.
pub fn close_lingering(
    reader: StreamReader,
    writer: StreamWriter,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    match (reader.inner, writer.inner) {
        (ReadHalf::Ws(reader), WriteHalf::Ws(writer)) => {
            let linger = super::ws::linger_after_failure(*reader, *writer)?;
            Some(async move {
                linger.await;
            })
        }
        _ => None,
    }
}

/// The writing half of a [`Stream`], from [`Stream::into_split`]. Dropping
/// it ends our writes on TCP and Unix streams.
#[derive(Debug)]
pub struct StreamWriter {
    inner: WriteHalf,
}

/// One variant per transport; a boxed `AsyncWrite` variant fits here too.
#[derive(Debug)]
enum WriteHalf {
    Tcp(tcp::OwnedWriteHalf),
    Unix(UnixWriteHalf),
    Seqpacket(Arc<SeqpacketStream>),
    Serial(Arc<SerialPort>),
    Tls(tokio::io::WriteHalf<TlsIo>),
    Ws(Box<WsWriter>),
    Local(Box<LocalWriter>),
}

impl StreamWriter {
    /// Makes closing this connection send a reset instead of a clean end
    /// (see [`StreamReader::reset_on_close`]).
    pub fn reset_on_close(&self) {
        if let Some(io) = self.io() {
            io.reset_on_close();
        }
    }

    /// Drops this half for a connection cut short: the connection closes
    /// with a reset once the reading half goes too, and no clean end (FIN)
    /// is sent first, as dropping a TCP write half would.
    pub fn abort(self) {
        self.reset_on_close();
        match self.inner {
            WriteHalf::Tcp(h) => h.forget(),
            other => drop(other),
        }
    }

    pub(super) fn io(&self) -> Option<Io<'_>> {
        match &self.inner {
            WriteHalf::Tcp(h) => Some(Io::Tcp(h.as_ref())),
            WriteHalf::Unix(h) => Some(Io::Unix(h.as_ref())),
            WriteHalf::Seqpacket(s) => Some(Io::Seqpacket(s)),
            WriteHalf::Serial(s) => Some(Io::Serial(s)),
            WriteHalf::Tls(_) | WriteHalf::Ws(_) | WriteHalf::Local(_) => None,
        }
    }

    /// What the stream this half came from can do.
    pub fn capabilities(&self) -> Capabilities {
        match &self.inner {
            WriteHalf::Tls(_) => TLS_CAPABILITIES,
            WriteHalf::Ws(_) => WS_CAPABILITIES,
            WriteHalf::Local(w) => w.capabilities(),
            _ => self.io().map(Io::capabilities).unwrap_or_default(),
        }
    }

    /// Ends a TLS or WebSocket connection the way its protocol wants
    /// (close_notify, a close frame) before the stream is dropped, waiting
    /// at most `within`; nothing for the socket kinds, whose drop is their
    /// close.
    pub async fn close_layer(&mut self, within: Duration) {
        if matches!(self.inner, WriteHalf::Tls(_) | WriteHalf::Ws(_)) {
            let _ = tokio::time::timeout(within, self.shutdown_write()).await;
        }
    }

    /// On a WebSocket: sends the close frame that ends it (the answer to
    /// the peer's close frame, or the code a protocol failure calls for:
    /// 1002, 1007, 1009), waiting at most `within`; nothing on other kinds.
    pub async fn close_ws(&mut self, within: Duration) {
        if matches!(self.inner, WriteHalf::Ws(_)) {
            let _ = tokio::time::timeout(within, self.shutdown_write()).await;
        }
    }

    /// On a stream that keeps message kinds: the kind writes go out as
    /// when none is given (binary on a WebSocket, text with `--ws-text`).
    pub fn default_kind(&self) -> Option<MessageKind> {
        match &self.inner {
            WriteHalf::Ws(w) => Some(w.kind()),
            _ => None,
        }
    }

    /// Writes `data` as one message of `kind` on a stream that keeps
    /// kinds (text falls back to binary when the bytes are not UTF-8;
    /// `None` is [`StreamWriter::default_kind`]) and returns the kind it
    /// went out as; like [`StreamWriter::write_all`] on the others, which
    /// keep no kinds (`None`).
    pub async fn write_message(
        &mut self,
        data: &[u8],
        kind: Option<MessageKind>,
    ) -> io::Result<Option<MessageKind>> {
        match &mut self.inner {
            WriteHalf::Ws(w) => w.write_message(data, kind).await.map(Some),
            _ => self.write_all(data).await.map(|()| None),
        }
    }

    /// Writes all of `data`, waiting whenever the socket is full. On
    /// seqpacket and WebSocket, `data` goes out as one message.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            WriteHalf::Tls(h) => {
                use tokio::io::AsyncWriteExt;
                h.write_all(data).await?;
                h.flush().await
            }
            WriteHalf::Ws(w) => w.write_message(data, None).await.map(drop),
            WriteHalf::Local(w) => w.write_all(data).await,
            _ => match self.io() {
                Some(io) => io.write_all(data).await,
                None => Err(layered()),
            },
        }
    }

    /// The error the socket under this half holds (a reset that came in
    /// since the last write), taken so it is reported once; `None` when
    /// there is none or the kind cannot tell (TLS, WebSocket, serial).
    pub fn take_error(&self) -> Option<io::Error> {
        self.io().and_then(Io::take_error)
    }

    /// Ends our write side (half-close): the peer reads end-of-stream while
    /// the other direction keeps working (on TLS a close_notify, then the
    /// TCP half-close; on a WebSocket a close frame). A peer already gone
    /// is not an error.
    pub async fn shutdown_write(&mut self) -> io::Result<()> {
        match &mut self.inner {
            WriteHalf::Tls(h) => {
                use tokio::io::AsyncWriteExt;
                match h.shutdown().await {
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
                    other => other,
                }
            }
            WriteHalf::Ws(w) => w.shutdown_write().await,
            WriteHalf::Local(w) => w.shutdown_write().await,
            _ => match self.io() {
                Some(io) => io.shutdown_write(),
                None => Err(layered()),
            },
        }
    }
}
