//! A [`Stream`] turned back into plain blocking I/O, for a thread that
//! serves one connection and nothing else (the load generator's
//! one-in-flight ping-pong): a blocked `read` sleeps until the reply is
//! in, with no readiness poll between the write and the read.
//!
//! TCP and Unix streams, and TLS as a client over them (rustls's own
//! blocking stream). Every read and write gives up after the timeout
//! given, so the thread still notices a deadline or a cancel.

use std::io;
use std::time::Duration;

use super::Stream;

/// A connection read and written with blocking calls.
pub trait BlockingIo: io::Read + io::Write + Send {}

impl<T: io::Read + io::Write + Send> BlockingIo for T {}

/// A blocking socket under a blocking TLS client.
type BlockingTls<S> = rustls::StreamOwned<rustls::ClientConnection, S>;

impl Stream {
    /// Makes this stream blocking, each read and write waiting at most
    /// `timeout`. `Err(self)` for the kinds that have no blocking form
    /// (serial, seqpacket, WebSocket, server-side TLS, non-sockets);
    /// `Ok(Err(_))` when the socket could not be taken from the runtime.
    pub fn into_blocking(
        self,
        timeout: Duration,
    ) -> Result<io::Result<Box<dyn BlockingIo>>, Stream> {
        match self {
            Stream::Tcp(_) | Stream::Unix(_) => Ok(self
                .into_blocking_socket(timeout)
                .map(|socket| Box::new(socket) as Box<dyn BlockingIo>)),
            Stream::Tls(tls) => match *tls {
                tokio_rustls::TlsStream::Client(client) if client.get_ref().0.is_plain_socket() => {
                    let (base, session) = client.into_inner();
                    Ok(base
                        .into_blocking_socket(timeout)
                        .map(|socket| Box::new(BlockingTls::new(session, socket)) as _))
                }
                other => Err(Stream::Tls(Box::new(other))),
            },
            other => Err(other),
        }
    }

    /// A TCP or Unix stream socket, as opposed to a layer or another kind.
    fn is_plain_socket(&self) -> bool {
        matches!(self, Stream::Tcp(_) | Stream::Unix(_))
    }

    /// The TCP or Unix socket, out of the runtime, blocking with `timeout`
    /// on each read and write.
    fn into_blocking_socket(self, timeout: Duration) -> io::Result<socket2::Socket> {
        let socket: socket2::Socket = match self {
            Stream::Tcp(s) => s.into_std()?.into(),
            #[cfg(unix)]
            Stream::Unix(s) => s.into_std()?.into(),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "not a TCP or Unix stream socket",
                ))
            }
        };
        socket.set_nonblocking(false)?;
        socket.set_read_timeout(Some(timeout))?;
        socket.set_write_timeout(Some(timeout))?;
        Ok(socket)
    }
}

/// Whether an error from a blocking call with a timeout is that timeout
/// (which Unix reports as `WouldBlock` and Windows as `TimedOut`).
pub fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
