//! [`Stream`]: one connected byte stream, whatever the socket kind, and its
//! two halves, [`StreamReader`] and [`StreamWriter`], which is how the rest
//! of the program moves bytes without knowing the kind.
//!
//! What a kind can do is said by [`Capabilities`] (half-close, message
//! boundaries, zero-copy splice), never by matching on it outside this
//! module. A new transport is one more variant of the private half enums
//! (a TLS stream, for one, would add a boxed `AsyncRead`/`AsyncWrite`
//! variant whose capabilities say "no zero-copy").

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{tcp, unix, TcpStream, UnixStream};

use super::seqpacket::SeqpacketStream;
use super::serial::SerialPort;

/// A connected, connection-oriented socket: TCP, Unix stream or Unix
/// seqpacket. Reads and writes go straight to the socket; shutting down
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

/// A borrowed view of the socket under a stream or half: the one place that
/// dispatches on the kind.
#[derive(Debug, Clone, Copy)]
pub(super) enum Io<'a> {
    Tcp(&'a TcpStream),
    Unix(&'a UnixStream),
    Seqpacket(&'a SeqpacketStream),
    Serial(&'a SerialPort),
}

/// Waits until readable, reserves, reads; retries a spurious wake-up
/// (after which a buffer that had no memory has none again).
macro_rules! read_ready {
    ($s:expr, $buf:expr, $reserve:expr) => {
        loop {
            $s.readable().await?;
            let had_memory = $buf.capacity() > 0;
            $buf.reserve($reserve);
            match $s.try_read_buf($buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    release_if_new($buf, had_memory);
                    continue;
                }
                other => break other,
            }
        }
    };
}

/// Gives back the memory of a buffer reserved for a read that found
/// nothing, when it had none before: an idle connection then holds no read
/// buffer even after a spurious wake-up (tokio may report a fresh socket
/// readable once).
pub(super) fn release_if_new(buf: &mut BytesMut, had_memory: bool) {
    if !had_memory && buf.is_empty() {
        *buf = BytesMut::new();
    }
}

/// Writes every byte, waiting whenever the socket is full.
macro_rules! write_ready {
    ($s:expr, $data:expr) => {{
        let mut data: &[u8] = $data;
        while !data.is_empty() {
            $s.writable().await?;
            match $s.try_write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }};
}

impl<'a> Io<'a> {
    fn capabilities(self) -> Capabilities {
        match self {
            Io::Tcp(_) | Io::Unix(_) => Capabilities {
                half_close: true,
                message_boundaries: false,
                zero_copy: true,
            },
            Io::Seqpacket(_) => Capabilities {
                half_close: true,
                message_boundaries: true,
                zero_copy: false,
            },
            Io::Serial(_) => Capabilities::default(),
        }
    }

    pub(super) async fn read_some(self, buf: &mut BytesMut, reserve: usize) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => read_ready!(s, buf, reserve),
            Io::Unix(s) => read_ready!(s, buf, reserve),
            Io::Seqpacket(s) => s.read_message(buf, reserve).await,
            Io::Serial(s) => s.read_some(buf, reserve).await,
        }
    }

    pub(super) async fn write_all(self, data: &[u8]) -> io::Result<()> {
        match self {
            Io::Tcp(s) => write_ready!(s, data),
            Io::Unix(s) => write_ready!(s, data),
            Io::Seqpacket(s) => s.send_message(data).await,
            Io::Serial(s) => s.write_all(data).await,
        }
    }

    fn shutdown_write(self) -> io::Result<()> {
        let result = match self {
            Io::Tcp(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Io::Unix(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Io::Seqpacket(s) => s.shutdown_write(),
            Io::Serial(s) => s.shutdown_write(),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    /// Makes closing the socket reset the connection (TCP `SO_LINGER` 0);
    /// no effect on other kinds.
    fn reset_on_close(self) {
        if let Io::Tcp(s) = self {
            let _ = SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
    }

    /// Waits for `interest` (zero-copy kinds only).
    pub(super) async fn ready(self, interest: Interest) -> io::Result<()> {
        match self {
            Io::Tcp(s) => s.ready(interest).await.map(drop),
            Io::Unix(s) => s.ready(interest).await.map(drop),
            Io::Seqpacket(_) | Io::Serial(_) => Err(no_zero_copy()),
        }
    }

    /// Runs one non-blocking attempt on the raw descriptor; a `WouldBlock`
    /// clears tokio's readiness so the next [`Io::ready`] really waits
    /// (zero-copy kinds only).
    pub(super) fn try_io(
        self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<usize>,
    ) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => s.try_io(interest, f),
            Io::Unix(s) => s.try_io(interest, f),
            Io::Seqpacket(_) | Io::Serial(_) => Err(no_zero_copy()),
        }
    }

    /// The socket's descriptor.
    pub(super) fn fd(self) -> BorrowedFd<'a> {
        match self {
            Io::Tcp(s) => s.as_fd(),
            Io::Unix(s) => s.as_fd(),
            Io::Seqpacket(s) => s.as_fd(),
            Io::Serial(s) => s.as_fd(),
        }
    }
}

fn no_zero_copy() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "this stream cannot be spliced (it keeps message boundaries)",
    )
}

impl Stream {
    pub(super) fn io(&self) -> Io<'_> {
        match self {
            Stream::Tcp(s) => Io::Tcp(s),
            Stream::Unix(s) => Io::Unix(s),
            Stream::Seqpacket(s) => Io::Seqpacket(s),
            Stream::Serial(s) => Io::Serial(s),
        }
    }

    /// What this stream can do.
    pub fn capabilities(&self) -> Capabilities {
        self.io().capabilities()
    }

    /// True when reads and writes keep message boundaries (seqpacket).
    pub fn keeps_message_boundaries(&self) -> bool {
        self.capabilities().message_boundaries
    }

    /// Resolves once the peer has closed or reset the connection without
    /// sending anything first (the bytes are only peeked, never taken).
    /// Once data waits, or on seqpacket, it never resolves: use it to give
    /// up work for a client that already left (a pending connect).
    pub async fn peer_gone(&self) {
        let io = self.io();
        if !io.capabilities().zero_copy {
            return std::future::pending().await;
        }
        loop {
            if io.ready(Interest::READABLE).await.is_err() {
                return;
            }
            let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
            let peeked = io.try_io(Interest::READABLE, || {
                SockRef::from(&io.fd()).peek(&mut byte)
            });
            match peeked {
                Ok(0) => return,
                Ok(_) => return std::future::pending().await,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            }
        }
    }

    /// Makes closing this stream reset the connection instead of a graceful
    /// close (TCP `SO_LINGER` 0: no `TIME_WAIT` left behind); no effect on
    /// other kinds.
    pub fn set_linger_zero(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => SockRef::from(s).set_linger(Some(Duration::ZERO)),
            Stream::Unix(_) | Stream::Seqpacket(_) | Stream::Serial(_) => Ok(()),
        }
    }

    /// Splits the stream into a half that reads and a half that writes,
    /// each usable from its own task. Dropping the writer ends our writes.
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
    Unix(unix::OwnedReadHalf),
    Seqpacket(Arc<SeqpacketStream>),
    Serial(Arc<SerialPort>),
}

impl StreamReader {
    /// True when bytes have arrived that nobody read yet (looked at
    /// without taking them or waiting).
    pub fn has_unread(&self) -> bool {
        let io = self.io();
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        matches!(SockRef::from(&io.fd()).peek(&mut byte), Ok(n) if n > 0)
    }

    /// Makes closing this connection send a reset instead of a clean end
    /// (TCP `SO_LINGER` 0), for a connection cut short: the peer must not
    /// take a truncated stream for a complete one. No effect on other kinds.
    pub fn reset_on_close(&self) {
        self.io().reset_on_close();
    }

    pub(super) fn io(&self) -> Io<'_> {
        match &self.inner {
            ReadHalf::Tcp(h) => Io::Tcp(h.as_ref()),
            ReadHalf::Unix(h) => Io::Unix(h.as_ref()),
            ReadHalf::Seqpacket(s) => Io::Seqpacket(s),
            ReadHalf::Serial(s) => Io::Serial(s),
        }
    }

    /// What the stream this half came from can do.
    pub fn capabilities(&self) -> Capabilities {
        self.io().capabilities()
    }

    /// Waits until data is ready, then reads what is there into `buf`,
    /// reserving `reserve` bytes only then (an idle connection holds no read
    /// buffer). On seqpacket, one message of at most `reserve` bytes.
    /// Returns 0 at end of stream.
    pub async fn read_some(&mut self, buf: &mut BytesMut, reserve: usize) -> io::Result<usize> {
        self.io().read_some(buf, reserve).await
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            ReadHalf::Tcp(h) => Pin::new(h).poll_read(cx, buf),
            ReadHalf::Unix(h) => Pin::new(h).poll_read(cx, buf),
            ReadHalf::Seqpacket(s) => s.poll_read_shared(cx, buf),
            ReadHalf::Serial(s) => s.poll_read_shared(cx, buf),
        }
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
    Unix(unix::OwnedWriteHalf),
    Seqpacket(Arc<SeqpacketStream>),
    Serial(Arc<SerialPort>),
}

impl StreamWriter {
    /// Makes closing this connection send a reset instead of a clean end
    /// (see [`StreamReader::reset_on_close`]).
    pub fn reset_on_close(&self) {
        self.io().reset_on_close();
    }

    /// Drops this half for a connection cut short: the connection closes
    /// with a reset once the reading half goes too, and no clean end
    /// (FIN) is sent first, as dropping a TCP write half would.
    pub fn abort(self) {
        self.io().reset_on_close();
        match self.inner {
            WriteHalf::Tcp(h) => h.forget(),
            other => drop(other),
        }
    }

    pub(super) fn io(&self) -> Io<'_> {
        match &self.inner {
            WriteHalf::Tcp(h) => Io::Tcp(h.as_ref()),
            WriteHalf::Unix(h) => Io::Unix(h.as_ref()),
            WriteHalf::Seqpacket(s) => Io::Seqpacket(s),
            WriteHalf::Serial(s) => Io::Serial(s),
        }
    }

    /// What the stream this half came from can do.
    pub fn capabilities(&self) -> Capabilities {
        self.io().capabilities()
    }

    /// Writes all of `data`, waiting whenever the socket is full. On
    /// seqpacket, `data` goes out as one message.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.io().write_all(data).await
    }

    /// Ends our write side (half-close): the peer reads end-of-stream while
    /// the other direction keeps working. A peer already gone is not an
    /// error.
    pub async fn shutdown_write(&mut self) -> io::Result<()> {
        self.io().shutdown_write()
    }
}

impl AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            WriteHalf::Tcp(h) => Pin::new(h).poll_write(cx, buf),
            WriteHalf::Unix(h) => Pin::new(h).poll_write(cx, buf),
            WriteHalf::Seqpacket(s) => s.poll_send_shared(cx, buf),
            WriteHalf::Serial(s) => s.poll_write_shared(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            WriteHalf::Tcp(h) => Pin::new(h).poll_flush(cx),
            WriteHalf::Unix(h) => Pin::new(h).poll_flush(cx),
            WriteHalf::Seqpacket(_) | WriteHalf::Serial(_) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            WriteHalf::Tcp(h) => Pin::new(h).poll_shutdown(cx),
            WriteHalf::Unix(h) => Pin::new(h).poll_shutdown(cx),
            WriteHalf::Seqpacket(s) => Poll::Ready(s.shutdown_write()),
            WriteHalf::Serial(s) => Poll::Ready(s.shutdown_write()),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $inner:ident => $body:expr) => {
        match $self.get_mut() {
            Stream::Tcp($inner) => {
                let $inner = Pin::new($inner);
                $body
            }
            Stream::Unix($inner) => {
                let $inner = Pin::new($inner);
                $body
            }
            Stream::Seqpacket($inner) => {
                let $inner = Pin::new($inner);
                $body
            }
            Stream::Serial($inner) => {
                let $inner = Pin::new($inner);
                $body
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}
