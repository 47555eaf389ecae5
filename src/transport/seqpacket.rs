//! Unix `SOCK_SEQPACKET` sockets on tokio: a connection that keeps message
//! boundaries.
//!
//! tokio has no type for them, but its Unix stream types only wrap a file
//! descriptor registered with the reactor: `read(2)` on a seqpacket socket
//! returns one message, and sends go through `send(2)` with `MSG_NOSIGNAL`
//! here (never tokio's `write`), so each write is one message. This keeps the
//! registration safe (no raw `AsyncFd` registration).

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use rustix::net::SendFlags;
use socket2::{SockRef, Socket};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{UnixListener, UnixStream};

/// A connected seqpacket socket. One read returns one message (truncated if
/// the buffer is smaller); one write sends one message.
#[derive(Debug)]
pub struct SeqpacketStream {
    io: UnixStream,
}

impl SeqpacketStream {
    /// Wraps a connected socket, switching it to non-blocking mode.
    pub fn from_socket(socket: Socket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(SeqpacketStream {
            io: UnixStream::from_std(StdUnixStream::from(socket))?,
        })
    }

    /// The underlying socket, for options and addresses.
    pub fn socket(&self) -> SockRef<'_> {
        SockRef::from(&self.io)
    }

    /// Receives one message into `buf` (at most `max` bytes of it), growing
    /// the buffer only once a message is waiting. Returns 0 when the peer has
    /// shut down.
    pub async fn read_message(&self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        loop {
            self.io.readable().await?;
            let had_memory = buf.capacity() > 0;
            let start = buf.len();
            buf.resize(start + max, 0);
            match self.io.try_read(&mut buf[start..]) {
                Ok(n) => {
                    buf.truncate(start + n);
                    return Ok(n);
                }
                Err(e) => {
                    buf.truncate(start);
                    if e.kind() != io::ErrorKind::WouldBlock {
                        return Err(e);
                    }
                    super::stream::release_if_new(buf, had_memory);
                }
            }
        }
    }

    /// Sends `data` as one message.
    pub async fn send_message(&self, data: &[u8]) -> io::Result<()> {
        self.io
            .async_io(Interest::WRITABLE, || self.try_send(data))
            .await
            .map(drop)
    }

    /// Ends our sending side; the peer reads end-of-stream.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.socket().shutdown(Shutdown::Write)
    }

    fn try_send(&self, data: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(&self.io, data, SendFlags::NOSIGNAL)?)
    }

    /// Polls for one message into `buf`, through a shared reference.
    pub(crate) fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.io.poll_read_ready(cx))?;
            match self.io.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Polls to send `buf` as one message, through a shared reference.
    pub(crate) fn poll_send_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.io.poll_write_ready(cx))?;
            match self.io.try_io(Interest::WRITABLE, || self.try_send(buf)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl AsyncRead for SeqpacketStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_shared(cx, buf)
    }
}

impl AsyncWrite for SeqpacketStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_send_shared(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

/// A listening seqpacket socket.
#[derive(Debug)]
pub struct SeqpacketListener {
    io: UnixListener,
}

impl SeqpacketListener {
    /// Wraps a bound, listening socket.
    pub fn from_socket(socket: Socket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(SeqpacketListener {
            io: UnixListener::from_std(StdUnixListener::from(socket))?,
        })
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<SeqpacketStream> {
        let (io, _) = self.io.accept().await?;
        Ok(SeqpacketStream { io })
    }
}

impl std::os::fd::AsFd for SeqpacketStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.as_fd()
    }
}
