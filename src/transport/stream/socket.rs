//! The socket kinds under a [`Stream`](super::Stream): a borrowed view
//! ([`Io`]) with non-blocking reads and writes, readiness and the raw
//! descriptor for splice.

use std::io;
use std::net::Shutdown;
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};

use bytes::BytesMut;
use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::TcpStream;

use super::super::unix_socket::UnixStream;

use super::super::seqpacket::SeqpacketStream;
use super::super::serial::SerialPort;
use super::Capabilities;

/// A borrowed view of the socket under a stream or half: the one place that
/// dispatches on the kind.
#[derive(Debug, Clone, Copy)]
pub(in crate::transport) enum Io<'a> {
    Tcp(&'a TcpStream),
    Unix(&'a UnixStream),
    Seqpacket(&'a SeqpacketStream),
    Serial(&'a SerialPort),
}

/// Waits until readable, reserves, reads; retries a spurious wake-up
/// (after which a buffer that had no memory has none again).
///
/// A read that filled less than the room it had drained the socket (epoll
/// and kqueue), so the readiness is cleared then, as tokio's own
/// `poll_read` does: the next read waits for the next wake-up instead of
/// first trying a read that can only find nothing (one system call less
/// per message in a request-reply exchange). Not on Windows, where a short
/// read says nothing about what is left.
macro_rules! read_ready {
    ($s:expr, $buf:expr, $reserve:expr) => {
        loop {
            $s.readable().await?;
            let had_memory = $buf.capacity() > 0;
            $buf.reserve($reserve);
            let room = $buf.capacity() - $buf.len();
            let mut got = None;
            let tried = $s.try_io(Interest::READABLE, || {
                let n = $s.try_read_buf($buf)?;
                got = Some(n);
                if SHORT_READ_DRAINS && n > 0 && n < room {
                    Err(io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(())
                }
            });
            match (got, tried) {
                (Some(n), _) => break Ok(n),
                (None, Err(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    release_if_new($buf, had_memory);
                    continue;
                }
                (None, Err(e)) => break Err(e),
                (None, Ok(())) => continue,
            }
        }
    };
}

/// Whether a read that returned less than it had room for shows the socket
/// drained (true for the epoll and kqueue selectors tokio uses on Unix).
const SHORT_READ_DRAINS: bool = cfg!(not(windows));

/// Gives back the memory of a buffer reserved for a read that found
/// nothing, when it had none before: an idle connection then holds no read
/// buffer even after a spurious wake-up (tokio may report a fresh socket
/// readable once).
pub(in crate::transport) fn release_if_new(buf: &mut BytesMut, had_memory: bool) {
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
    pub(super) fn capabilities(self) -> Capabilities {
        match self {
            Io::Tcp(_) | Io::Unix(_) => Capabilities {
                half_close: true,
                message_boundaries: false,
                zero_copy: super::super::splice::AVAILABLE,
            },
            Io::Seqpacket(_) => Capabilities {
                half_close: true,
                message_boundaries: true,
                zero_copy: false,
            },
            Io::Serial(_) => Capabilities::default(),
        }
    }

    pub(in crate::transport) async fn read_some(
        self,
        buf: &mut BytesMut,
        reserve: usize,
    ) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => read_ready!(s, buf, reserve),
            Io::Unix(s) => read_ready!(s, buf, reserve),
            Io::Seqpacket(s) => s.read_message(buf, reserve).await,
            Io::Serial(s) => s.read_some(buf, reserve).await,
        }
    }

    pub(in crate::transport) async fn write_all(self, data: &[u8]) -> io::Result<()> {
        match self {
            Io::Tcp(s) => write_ready!(s, data),
            Io::Unix(s) => write_ready!(s, data),
            Io::Seqpacket(s) => s.send_message(data).await,
            Io::Serial(s) => s.write_all(data).await,
        }
    }

    /// The error the socket holds, if any (`SO_ERROR`, taken): a reset
    /// that came in since the last call. None on the kinds without one.
    pub(super) fn take_error(self) -> Option<io::Error> {
        let taken = match self {
            Io::Tcp(s) => SockRef::from(s).take_error(),
            Io::Unix(s) => SockRef::from(s).take_error(),
            Io::Seqpacket(_) | Io::Serial(_) => Ok(None),
        };
        taken.unwrap_or_else(Some)
    }

    pub(super) fn shutdown_write(self) -> io::Result<()> {
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
    pub(super) fn reset_on_close(self) {
        if let Io::Tcp(s) = self {
            let _ = SockRef::from(s).set_linger(Some(std::time::Duration::ZERO));
        }
    }

    /// Waits for `interest` (zero-copy kinds only).
    pub(in crate::transport) async fn ready(self, interest: Interest) -> io::Result<()> {
        match self {
            Io::Tcp(s) => s.ready(interest).await.map(drop),
            Io::Unix(s) => s.ready(interest).await.map(drop),
            Io::Seqpacket(_) | Io::Serial(_) => Err(no_zero_copy()),
        }
    }

    /// Runs one non-blocking attempt on the raw descriptor; a `WouldBlock`
    /// clears tokio's readiness so the next [`Io::ready`] really waits
    /// (zero-copy kinds only).
    pub(in crate::transport) fn try_io(
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

    /// True for a byte-stream socket (TCP, Unix stream), whose waiting
    /// bytes can be peeked at.
    pub(in crate::transport) fn is_stream_socket(self) -> bool {
        matches!(self, Io::Tcp(_) | Io::Unix(_))
    }

    /// The socket, for peeking and options (`None` for a serial port).
    pub(in crate::transport) fn socket(self) -> Option<SockRef<'a>> {
        match self {
            Io::Tcp(s) => Some(SockRef::from(s)),
            Io::Unix(s) => Some(SockRef::from(s)),
            Io::Seqpacket(s) => Some(s.socket()),
            Io::Serial(_) => None,
        }
    }

    /// The socket's descriptor.
    #[cfg(unix)]
    pub(in crate::transport) fn fd(self) -> BorrowedFd<'a> {
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
