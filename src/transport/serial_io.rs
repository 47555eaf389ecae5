//! tokio's `AsyncRead` and `AsyncWrite` for [`SerialPort`], the same on
//! every platform: each platform's port reads and writes through a shared
//! reference (both halves of a stream hold it), and its half-close leaves
//! the line open.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::serial::SerialPort;

/// The error a read gets when the serial device is gone (a USB adapter
/// unplugged, the program on a pty's other end exited): a serial line has
/// no end of stream, so this is a failure, never a clean end.
pub(super) fn device_gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the serial device went away (unplugged, or the program on its other end exited)",
    )
}

impl AsyncRead for SerialPort {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_shared(cx, buf)
    }
}

impl AsyncWrite for SerialPort {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_shared(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}
