//! Seqpacket sockets do not exist on Windows: `unix-seqpacket://` is
//! refused when parsed there. These uninhabited stand-ins keep the
//! transport's code the same on every platform.

use std::io;
use std::task::{Context, Poll};

use bytes::BytesMut;
use socket2::{SockRef, Socket};
use tokio::io::ReadBuf;

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        crate::sys::unsupported::refusal("unix-seqpacket://", "use tcp:// on 127.0.0.1"),
    )
}

/// A connected seqpacket socket (none on Windows).
#[derive(Debug)]
pub enum SeqpacketStream {}

impl SeqpacketStream {
    /// Always refused on Windows.
    pub fn from_socket(_: Socket) -> io::Result<Self> {
        Err(unsupported())
    }

    /// The underlying socket.
    pub fn socket(&self) -> SockRef<'_> {
        match *self {}
    }

    /// Receives one message.
    pub async fn read_message(&self, _: &mut BytesMut, _: usize) -> io::Result<usize> {
        match *self {}
    }

    /// Sends one message.
    pub async fn send_message(&self, _: &[u8]) -> io::Result<()> {
        match *self {}
    }

    /// Ends our sending side.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match *self {}
    }

    pub(crate) fn poll_read_shared(
        &self,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match *self {}
    }

    pub(crate) fn poll_send_shared(
        &self,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<io::Result<usize>> {
        match *self {}
    }
}

crate::sys::absent::absent_async_io!(read: SeqpacketStream; write: SeqpacketStream);

/// A listening seqpacket socket (none on Windows).
#[derive(Debug)]
pub enum SeqpacketListener {}

impl SeqpacketListener {
    /// Always refused on Windows.
    pub fn from_socket(_: Socket) -> io::Result<Self> {
        Err(unsupported())
    }

    /// Waits for the next client.
    pub async fn accept(&self) -> io::Result<SeqpacketStream> {
        match *self {}
    }
}
