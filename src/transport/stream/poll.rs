//! The `AsyncRead`/`AsyncWrite` side of [`Stream`] and its halves, for
//! code that wants tokio's traits (framing, services).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{layered, ReadHalf, Stream, StreamReader, StreamWriter, WriteHalf};

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
            ReadHalf::Tls(h) => Pin::new(h).poll_read(cx, buf),
            ReadHalf::Ws(r) => Pin::new(r.as_mut()).poll_read(cx, buf),
            ReadHalf::Local(r) => Pin::new(r.as_mut()).poll_read(cx, buf),
        }
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
            WriteHalf::Tls(h) => Pin::new(h).poll_write(cx, buf),
            WriteHalf::Ws(w) => Pin::new(w.as_mut()).poll_write(cx, buf),
            WriteHalf::Local(w) => Pin::new(w.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            WriteHalf::Tcp(h) => Pin::new(h).poll_flush(cx),
            WriteHalf::Unix(h) => Pin::new(h).poll_flush(cx),
            WriteHalf::Seqpacket(_) | WriteHalf::Serial(_) => Poll::Ready(Ok(())),
            WriteHalf::Tls(h) => Pin::new(h).poll_flush(cx),
            WriteHalf::Ws(w) => Pin::new(w.as_mut()).poll_flush(cx),
            WriteHalf::Local(w) => Pin::new(w.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            WriteHalf::Tcp(h) => Pin::new(h).poll_shutdown(cx),
            WriteHalf::Unix(h) => Pin::new(h).poll_shutdown(cx),
            WriteHalf::Seqpacket(s) => Poll::Ready(s.shutdown_write()),
            WriteHalf::Serial(s) => Poll::Ready(s.shutdown_write()),
            WriteHalf::Tls(h) => Pin::new(h).poll_shutdown(cx),
            WriteHalf::Ws(w) => Pin::new(w.as_mut()).poll_shutdown(cx),
            WriteHalf::Local(w) => Pin::new(w.as_mut()).poll_shutdown(cx),
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
            Stream::Tls($inner) => {
                let $inner = Pin::new($inner.as_mut());
                $body
            }
            Stream::Ws(_) | Stream::Local(_) => Poll::Ready(Err(layered())),
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

    // A layer over this stream (TLS) writes its records in one writev, not
    // one write per record: without these two, tokio's default sends only
    // the first buffer per call (`connect tls://` fell from 568 to 380 MB/s
    // when TLS began to wrap a `Stream` instead of a `TcpStream`).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::Seqpacket(s) => s.is_write_vectored(),
            Stream::Serial(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
            Stream::Ws(_) | Stream::Local(_) => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}
