//! Unix `SOCK_SEQPACKET` sockets on tokio: a connection that keeps message
//! boundaries. tokio has no type for them, so this wraps a `socket2::Socket`
//! in an [`AsyncFd`].

use std::io::{self, Read};
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use socket2::{SockAddr, Socket};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connected seqpacket socket. One read returns one message (truncated if
/// the buffer is smaller); one write sends one message.
#[derive(Debug)]
pub struct SeqpacketStream {
    fd: AsyncFd<Socket>,
}

impl SeqpacketStream {
    /// Wraps a connected socket, switching it to non-blocking mode.
    pub fn from_socket(socket: Socket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(SeqpacketStream {
            fd: register(socket)?,
        })
    }

    /// The underlying socket, for options and addresses.
    pub fn socket(&self) -> &Socket {
        self.fd.get_ref()
    }

    /// Receives one message into `buf` (at most `max` bytes of it).
    /// Returns 0 when the peer has shut down.
    pub async fn read_message(&self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let start = buf.len();
            buf.resize(start + max, 0);
            let result = guard.try_io(|fd| (&mut fd.get_ref()).read(&mut buf[start..]));
            match result {
                Ok(Ok(n)) => {
                    buf.truncate(start + n);
                    return Ok(n);
                }
                Ok(Err(e)) => {
                    buf.truncate(start);
                    return Err(e);
                }
                Err(_would_block) => buf.truncate(start),
            }
        }
    }

    /// Sends `data` as one message.
    pub async fn send_message(&self, data: &[u8]) -> io::Result<()> {
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|fd| fd.get_ref().send_with_flags(data, libc::MSG_NOSIGNAL)) {
                Ok(result) => return result.map(|_| ()),
                Err(_would_block) => continue,
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
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|fd| (&mut fd.get_ref()).read(unfilled)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for SeqpacketStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|fd| fd.get_ref().send_with_flags(buf, libc::MSG_NOSIGNAL)) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.fd.get_ref().shutdown(Shutdown::Write))
    }
}

/// A listening seqpacket socket.
#[derive(Debug)]
pub struct SeqpacketListener {
    fd: AsyncFd<Socket>,
}

impl SeqpacketListener {
    /// Wraps a bound, listening socket.
    pub fn from_socket(socket: Socket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(SeqpacketListener {
            fd: register(socket)?,
        })
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<(SeqpacketStream, SockAddr)> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().accept()) {
                Ok(Ok((socket, addr))) => return Ok((SeqpacketStream::from_socket(socket)?, addr)),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

/// Registers a socket with the runtime's reactor.
#[allow(unsafe_code)]
fn register(socket: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: the `Socket` owns its file descriptor, and it is neither
    // replaced nor closed while the `AsyncFd` holds it (it is closed only
    // when the `AsyncFd` and the socket inside it are dropped together).
    unsafe { AsyncFd::register(socket).map_err(io::Error::from) }
}
