//! [`Stream`]: one connected byte stream, whatever the socket kind.

use std::io;
use std::net::Shutdown;

use bytes::BytesMut;
use socket2::SockRef;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use super::seqpacket::SeqpacketStream;

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
}

impl Stream {
    /// True when reads and writes keep message boundaries (seqpacket).
    pub fn keeps_message_boundaries(&self) -> bool {
        matches!(self, Stream::Seqpacket(_))
    }

    /// Waits until the socket is readable, then reads what is there into
    /// `buf`, reserving `reserve` bytes only once data is ready (an idle
    /// connection holds no read buffer). Returns 0 at end of stream.
    ///
    /// Takes `&self`, so one task can read and write the same stream at
    /// once without splitting it.
    pub async fn read_some(&self, buf: &mut BytesMut, reserve: usize) -> io::Result<usize> {
        loop {
            let result = match self {
                Stream::Tcp(s) => {
                    s.readable().await?;
                    buf.reserve(reserve);
                    s.try_read_buf(buf)
                }
                Stream::Unix(s) => {
                    s.readable().await?;
                    buf.reserve(reserve);
                    s.try_read_buf(buf)
                }
                Stream::Seqpacket(s) => return s.read_message(buf, reserve).await,
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    /// Writes all of `data`, waiting for the socket whenever it is full.
    /// On seqpacket, `data` goes out as one message.
    pub async fn write_all_shared(&self, mut data: &[u8]) -> io::Result<()> {
        if let Stream::Seqpacket(s) = self {
            return s.send_message(data).await;
        }
        while !data.is_empty() {
            let result = match self {
                Stream::Tcp(s) => {
                    s.writable().await?;
                    s.try_write(data)
                }
                Stream::Unix(s) => {
                    s.writable().await?;
                    s.try_write(data)
                }
                Stream::Seqpacket(_) => unreachable!("handled above"),
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Ends our write side (half-close): the peer reads end-of-stream, and
    /// we can still read what it sends.
    pub fn shutdown_write(&self) -> io::Result<()> {
        let sock = match self {
            Stream::Tcp(s) => SockRef::from(s),
            Stream::Unix(s) => SockRef::from(s),
            Stream::Seqpacket(s) => SockRef::from(s.socket()),
        };
        match sock.shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
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
