//! The TLS layer as a [`Stream`]: TLS (rustls) over any byte-stream
//! stream under it — TCP for `tls://` and `wss://`, a Unix stream socket
//! for `tls+unix://` and `wss+unix://` — what it can do, what its
//! handshake established, and how it is read.

use std::io;

use bytes::BytesMut;

use super::{Capabilities, Stream};
use crate::transport::tls::TlsInfo;

/// A TLS connection, client or server side, over the stream under it
/// (its base: TCP or a Unix stream socket).
pub type TlsIo = tokio_rustls::TlsStream<Stream>;

/// What a TLS stream can do: half-close (close_notify, then the base's
/// own half-close), no splice.
pub(super) const TLS_CAPABILITIES: Capabilities = Capabilities {
    half_close: true,
    message_boundaries: false,
    zero_copy: false,
};

/// What the handshake of `tls` established.
pub(super) fn info(tls: &TlsIo) -> TlsInfo {
    match tls {
        tokio_rustls::TlsStream::Client(c) => TlsInfo::of(c.get_ref().1),
        tokio_rustls::TlsStream::Server(c) => TlsInfo::of(c.get_ref().1),
    }
}

/// Reads what a TLS stream has into `buf`. The wait is on a one-byte
/// buffer, so an idle TLS connection holds no read buffer either; once a
/// record is in, the rest of its plaintext is taken without waiting. A
/// peer that closes without close_notify (many do) ends the stream like a
/// TCP FIN.
pub(super) async fn tls_read_some(
    h: &mut tokio::io::ReadHalf<TlsIo>,
    buf: &mut BytesMut,
    reserve: usize,
) -> io::Result<usize> {
    use futures_util::FutureExt;
    use tokio::io::AsyncReadExt;
    let mut first = [0u8; 1];
    match h.read(&mut first).await {
        Ok(0) => return Ok(0),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
        Err(e) => return Err(e),
    }
    buf.reserve(reserve.max(1));
    buf.extend_from_slice(&first);
    let more = match h.read_buf(buf).now_or_never() {
        Some(Ok(n)) => n,
        // EOF or an error right after data: the next read reports it.
        Some(Err(_)) | None => 0,
    };
    Ok(1 + more)
}
