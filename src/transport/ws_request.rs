//! The server side's first look at a WebSocket upgrade request: reads the
//! request head ([`read_head`]), checks what RFC 6455 §4.2.1 requires of
//! it ([`check`]) so that a bad one gets an HTTP 400 naming what is wrong
//! ([`bad_request`]) instead of a silent close, and hands the bytes
//! already read on to the handshake ([`Rewind`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// The largest request head a server reads (request line and headers).
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Reads from `io` until the end of the request head (a blank line), at
/// most [`MAX_REQUEST_HEAD`] bytes; returns everything read (the head and
/// any bytes after it). An error names what went wrong, for the 400 line.
pub async fn read_head<T: AsyncRead + Unpin>(io: &mut T) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = io.read(&mut chunk).await.map_err(HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        if head[from..].windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(head);
        }
        if head.len() > MAX_REQUEST_HEAD {
            return Err(HeadError::Bad(format!(
                "the request head is over {MAX_REQUEST_HEAD} bytes"
            )));
        }
    }
}

/// Why no request head could be read.
#[derive(Debug)]
pub enum HeadError {
    /// The client closed before the head ended.
    Closed,
    /// The socket failed.
    Io(io::Error),
    /// The head is not an acceptable request (answered with a 400).
    Bad(String),
}

/// Checks a request head (up to its blank line) against what a WebSocket
/// upgrade needs: `GET … HTTP/1.1`, `Upgrade: websocket`, `Connection:
/// Upgrade`, `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key`. The
/// error names the missing or wrong part.
pub fn check(head: &[u8]) -> Result<(), String> {
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the request head does not end with a blank line")?;
    let text = std::str::from_utf8(&head[..end]).map_err(|_| "the request head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    if method != Some("GET") {
        return Err(format!(
            "a WebSocket upgrade is a GET request, not {:?}",
            method.unwrap_or("")
        ));
    }
    if target.is_none_or(str::is_empty) || version != Some("HTTP/1.1") {
        return Err("the request line must be `GET /path HTTP/1.1`".into());
    }
    let header = |name: &str| {
        text.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    };
    let has_token = |value: Option<&str>, token: &str| {
        value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token(header("upgrade"), "websocket") {
        return Err("the `Upgrade: websocket` header is missing".into());
    }
    if !has_token(header("connection"), "upgrade") {
        return Err("the `Connection: Upgrade` header is missing".into());
    }
    match header("sec-websocket-version") {
        Some("13") => {}
        Some(v) => {
            return Err(format!(
                "Sec-WebSocket-Version {v:?} is not supported; use 13"
            ))
        }
        None => return Err("the `Sec-WebSocket-Version: 13` header is missing".into()),
    }
    match header("sec-websocket-key") {
        Some(key) if is_key(key) => Ok(()),
        Some(_) => Err("Sec-WebSocket-Key must be 16 bytes in base64".into()),
        None => Err("the `Sec-WebSocket-Key` header is missing".into()),
    }
}

/// True for 16 bytes in base64 (24 characters ending in `==`).
fn is_key(key: &str) -> bool {
    key.len() == 24
        && key.ends_with("==")
        && key[..22]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Answers `why` with `400 Bad Request` (the reason in the body and, for
/// a version mismatch, the version we speak) and closes our side.
pub async fn bad_request<T: AsyncWrite + Unpin>(io: &mut T, why: &str) {
    let body = format!("bad WebSocket request: {why}\n");
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = io.write_all(response.as_bytes()).await;
    let _ = io.shutdown().await;
}

/// A stream that first gives back bytes already read from it.
#[derive(Debug)]
pub struct Rewind<T> {
    prefix: Vec<u8>,
    at: usize,
    inner: T,
}

impl<T> Rewind<T> {
    /// `inner`, whose reads start with `prefix`.
    pub fn new(prefix: Vec<u8>, inner: T) -> Self {
        Rewind {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let n = (this.prefix.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            if this.at == this.prefix.len() {
                // Given back: hold no memory for it any more.
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    #[test]
    fn a_good_request_passes() {
        assert_eq!(check(GOOD.as_bytes()), Ok(()));
    }

    #[test]
    fn each_bad_part_is_named() {
        let cases = [
            (
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                "",
                "Sec-WebSocket-Key` header is missing",
            ),
            (
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Version: 8",
                "\"8\" is not supported",
            ),
            ("Upgrade: WebSocket\r\n", "", "Upgrade: websocket"),
            ("GET /x", "POST /x", "not \"POST\""),
            ("dGhlIHNhbXBsZSBub25jZQ==", "short", "16 bytes in base64"),
        ];
        for (from, to, want) in cases {
            let head = GOOD.replace(from, to);
            let err = check(head.as_bytes()).unwrap_err();
            assert!(err.contains(want), "{head:?}: {err}");
        }
        assert!(check(b"GET / HTTP/1.1\r\n").is_err());
    }

    #[tokio::test]
    async fn rewind_gives_the_prefix_then_the_rest() {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(b"rest").await.unwrap();
        drop(a);
        let mut r = Rewind::new(b"pre".to_vec(), b);
        let mut all = Vec::new();
        r.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"prerest");
    }
}
