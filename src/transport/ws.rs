//! WebSocket (`ws://`, `wss://`) over any connected byte stream: the
//! client and server handshakes ([`client_handshake`],
//! [`server_handshake`]) and a stream of messages split into a
//! [`WsReader`] and a [`WsWriter`]. Each read returns one message, each
//! write sends one (binary, or text with `--ws-text`); pings are answered
//! by the protocol layer; a close frame ends the reader and its code and
//! reason are kept for the close event.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, Stream as _, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::tls::TlsInfo;
use super::ws_budget::{self, Budgeted, SharedBudget};
use super::ws_request::{self, HeadError, Rewind};
use super::MessageKind;
use crate::error::{NetError, NetErrorKind};

/// Any connected byte stream a WebSocket can run over (TCP, TLS, a proxy
/// tunnel).
pub trait Duplex: AsyncRead + AsyncWrite + Send + Sync + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin> Duplex for T {}

/// A boxed [`Duplex`].
pub type BoxedIo = Box<dyn Duplex>;

type Ws = WebSocketStream<BoxedIo>;

/// Bytes tungstenite reserves for reading at first: a quiet connection
/// holds little; a larger frame makes it grow to what that frame needs.
const READ_BUFFER: usize = 4 * 1024;

/// The largest message (and frame) a WebSocket accepts by default: a
/// larger one is refused with close 1009 (message too big) before it is
/// buffered whole.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// tungstenite's settings: a small read buffer (grown on demand), writes
/// that go out at once (we flush each message anyway), and messages of at
/// most `max_message` bytes.
fn config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

/// What the user chose for WebSocket (`--path`, `--ws-text`, `--header`,
/// `--ws-protocol`). Used only by the WebSocket kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsOptions {
    /// A server accepts only this request path (any path when `None`).
    pub path: Option<String>,
    /// Send each write as a text frame instead of a binary one.
    pub text: bool,
    /// Extra request headers of the client handshake, each `Name: value`.
    pub headers: Vec<String>,
    /// The subprotocol to ask for (client) or to accept (server).
    pub protocol: Option<String>,
    /// The largest message accepted (its fragments count together);
    /// [`DEFAULT_MAX_MESSAGE`] when `None`.
    pub max_message: Option<usize>,
    /// A server's budget for unfinished messages over all its clients
    /// (shared with its service); what a client's unfinished message
    /// holds counts against it.
    pub budget: Option<SharedBudget>,
}

impl WsOptions {
    fn max_message(&self) -> usize {
        self.max_message.unwrap_or(DEFAULT_MAX_MESSAGE)
    }
}

/// An open WebSocket connection.
pub struct WsStream {
    ws: Ws,
    text: bool,
    /// Bytes read since the last complete message, when a budget counts
    /// them ([`Budgeted`]); reset at each message.
    since: Option<Arc<AtomicUsize>>,
    /// The TLS under it (`wss://`).
    pub(crate) tls: Option<TlsInfo>,
}

impl std::fmt::Debug for WsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsStream")
            .field("text", &self.text)
            .finish()
    }
}

impl WsStream {
    /// Splits into a reader of messages and a writer of messages.
    pub fn into_split(self) -> (WsReader, WsWriter) {
        let (tx, rx) = self.ws.split();
        let fail = Arc::new(AtomicU16::new(0));
        (
            WsReader {
                rx,
                pending: Bytes::new(),
                close: None,
                last: None,
                ended: false,
                fail: Arc::clone(&fail),
                since: self.since,
            },
            WsWriter {
                tx,
                text: self.text,
                closed: false,
                fail,
            },
        )
    }
}

/// Runs the client handshake for `url` (`ws://host:port/path`) over a
/// connected stream, with `opts`' headers and subprotocol; errors name
/// `peer` (the endpoint as the user wrote it).
pub async fn client_handshake(
    io: BoxedIo,
    url: &str,
    peer: &(dyn std::fmt::Display + Sync),
    opts: &WsOptions,
    tls: Option<TlsInfo>,
    timeout: Duration,
) -> Result<WsStream, NetError> {
    let fail = |m: String| NetError::new(NetErrorKind::Other, m);
    let mut request = url
        .into_client_request()
        .map_err(|e| fail(format!("invalid WebSocket URL {url}: {e}")))?;
    for header in &opts.headers {
        let (name, value) = parse_header(header).map_err(fail)?;
        request.headers_mut().append(name, value);
    }
    if let Some(protocol) = &opts.protocol {
        let value = HeaderValue::from_str(protocol)
            .map_err(|_| fail(format!("invalid --ws-protocol \"{protocol}\"")))?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    let handshake =
        tokio_tungstenite::client_async_with_config(request, io, Some(config(opts.max_message())));
    match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok((ws, _response))) => Ok(WsStream {
            ws,
            text: opts.text,
            since: None,
            tls,
        }),
        Ok(Err(e)) => Err(fail(format!(
            "WebSocket handshake with {peer} failed: {}",
            describe(&e)
        ))),
        Err(_) => Err(NetError::new(
            NetErrorKind::TimedOut,
            format!(
                "WebSocket handshake with {peer} timed out after {}",
                humantime::format_duration(timeout)
            ),
        )),
    }
}

// The refusal type is tungstenite's (an HTTP response), large by nature.
#[allow(clippy::result_large_err)]
/// Runs the server handshake over an accepted stream: any path, or only
/// `opts.path` (others get 404); the asked-for subprotocol is accepted
/// when it is `opts.protocol` (or any, when none is set).
pub async fn server_handshake(
    io: BoxedIo,
    opts: &WsOptions,
    tls: Option<TlsInfo>,
    timeout: Duration,
) -> Result<WsStream, String> {
    let want_path = opts.path.clone();
    let want_protocol = opts.protocol.clone();
    let callback = move |request: &Request, mut response: Response| {
        if let Some(path) = &want_path {
            if request.uri().path() != path {
                let mut refusal = ErrorResponse::new(Some(format!(
                    "no WebSocket at {}; this server serves {path}\n",
                    request.uri().path()
                )));
                *refusal.status_mut() = StatusCode::NOT_FOUND;
                return Err(refusal);
            }
        }
        let offered = request
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(|p| p.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let chosen = match &want_protocol {
            Some(p) => offered.iter().find(|o| *o == p).cloned(),
            None => offered.first().cloned(),
        };
        if let Some(value) = chosen.and_then(|p| HeaderValue::from_str(&p).ok()) {
            response
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        Ok(response)
    };
    let config = config(opts.max_message());
    let budget = opts.budget.clone();
    let handshake = async move {
        // The head is read and checked here, so that a bad request gets a
        // 400 that says what is wrong (tungstenite would just close).
        let mut io = io;
        let head = match ws_request::read_head(&mut io).await {
            Ok(head) => head,
            Err(HeadError::Closed) => {
                return Err("the client closed before its request ended".into())
            }
            Err(HeadError::Io(e)) => return Err(crate::error::describe_io(&e)),
            Err(HeadError::Bad(why)) => {
                ws_request::bad_request(&mut io, &why).await;
                return Err(format!("bad request: {why} (answered 400)"));
            }
        };
        if let Err(why) = ws_request::check(&head) {
            ws_request::bad_request(&mut io, &why).await;
            return Err(format!("bad request: {why} (answered 400)"));
        }
        let io = Rewind::new(head, io);
        let (io, since): (BoxedIo, _) = match &budget {
            Some(SharedBudget(budget)) => {
                let io = Budgeted::new(io, budget);
                let since = io.counter();
                (Box::new(io), Some(since))
            }
            None => (Box::new(io), None),
        };
        tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(config))
            .await
            .map(|ws| (ws, since))
            .map_err(|e| describe(&e))
    };
    match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok((ws, since))) => Ok(WsStream {
            ws,
            text: opts.text,
            since,
            tls,
        }),
        Ok(Err(why)) => Err(format!("WebSocket handshake failed: {why}")),
        Err(_) => Err(format!(
            "WebSocket handshake timed out after {}",
            humantime::format_duration(timeout)
        )),
    }
}

/// Parses a `--header 'Name: value'`.
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let bad = |why: &str| {
        format!("invalid --header \"{text}\" ({why}; write it like 'Authorization: Bearer x')")
    };
    let (name, value) = text.split_once(':').ok_or_else(|| bad("no colon"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("bad name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("bad value"))?;
    Ok((name, value))
}

fn describe(error: &WsError) -> String {
    match error {
        WsError::Io(e) => crate::error::describe_io(e),
        WsError::Http(response) => {
            let status = response.status();
            format!(
                "the server answered HTTP {} {} instead of switching to WebSocket",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
        }
        WsError::Protocol(p) => format!("protocol error: {p}"),
        WsError::Url(u) => format!("bad URL: {u}"),
        other => other.to_string(),
    }
}

fn to_io(error: WsError) -> io::Error {
    match error {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        WsError::Protocol(p) => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("WebSocket protocol error: {p}"),
        ),
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// The close code (RFC 6455 §7.4.1) that answers a read failure: 1002
/// for a protocol error, 1007 for text that is not UTF-8, 1009 for a
/// message over the limit; `None` when the connection itself failed.
fn close_code_for(error: &WsError) -> Option<u16> {
    match error {
        WsError::Protocol(_) => Some(1002),
        WsError::Utf8(_) => Some(1007),
        WsError::Capacity(_) => Some(1009),
        WsError::Io(e) if ws_budget::is_over_budget(e) => Some(1009),
        _ => None,
    }
}

/// The reading half: one message per read.
pub struct WsReader {
    rx: SplitStream<Ws>,
    pending: Bytes,
    close: Option<String>,
    last: Option<MessageKind>,
    ended: bool,
    /// The close code a protocol failure calls for (0: none), shared with
    /// the writer, whose close frame carries it.
    fail: Arc<AtomicU16>,
    /// See [`WsStream`]'s `since`.
    since: Option<Arc<AtomicUsize>>,
}

impl std::fmt::Debug for WsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsReader")
            .field("close", &self.close)
            .finish()
    }
}

impl WsReader {
    /// The close frame the peer sent (`websocket close 1000 (bye)`), once
    /// the reader has ended on it.
    pub fn close_note(&self) -> Option<&str> {
        self.close.as_deref()
    }

    /// Whether the last message read was text or binary.
    pub fn last_kind(&self) -> Option<MessageKind> {
        self.last
    }

    /// The next data message, `None` at the end (close frame or EOF).
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
        loop {
            if self.ended {
                return Poll::Ready(Ok(None));
            }
            let next = ready!(Pin::new(&mut self.rx).poll_next(cx));
            if let (Some(since), Some(Ok(Message::Text(_) | Message::Binary(_)))) =
                (&self.since, &next)
            {
                // The message is out of the layer's buffers: its bytes no
                // longer count against the server's budget.
                since.store(0, Ordering::Relaxed);
            }
            match next {
                None => {
                    self.ended = true;
                }
                Some(Ok(Message::Text(text))) => {
                    self.last = Some(MessageKind::Text);
                    return Poll::Ready(Ok(Some(Bytes::from(text))));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    self.last = Some(MessageKind::Binary);
                    return Poll::Ready(Ok(Some(bytes)));
                }
                Some(Ok(Message::Close(frame))) => {
                    self.ended = true;
                    self.close = Some(match frame {
                        Some(f) if f.reason.is_empty() => {
                            format!("websocket close {}", u16::from(f.code))
                        }
                        Some(f) => format!("websocket close {} ({})", u16::from(f.code), f.reason),
                        None => "websocket close (no code)".to_string(),
                    });
                }
                Some(Ok(_)) => {}
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                    self.ended = true;
                }
                Some(Err(e)) => {
                    if let Some(code) = close_code_for(&e) {
                        self.fail.store(code, Ordering::Relaxed);
                    }
                    return Poll::Ready(Err(to_io(e)));
                }
            }
        }
    }

    /// Reads the next non-empty message into `buf`; 0 at the end. Empty
    /// messages are passed over (use [`WsReader::read_message`] to see
    /// them).
    pub async fn read_some(&mut self, buf: &mut BytesMut, reserve: usize) -> io::Result<usize> {
        loop {
            match self.read_message(buf, reserve).await? {
                Some(0) => continue,
                Some(n) => return Ok(n),
                None => return Ok(0),
            }
        }
    }

    /// Reads the next message into `buf`: its length (0 for an empty
    /// message, which is a message like any other), `None` at the end.
    pub async fn read_message(
        &mut self,
        buf: &mut BytesMut,
        _reserve: usize,
    ) -> io::Result<Option<usize>> {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            buf.extend_from_slice(&std::mem::take(&mut self.pending));
            return Ok(Some(n));
        }
        match std::future::poll_fn(|cx| self.poll_message(cx)).await? {
            Some(message) => {
                buf.extend_from_slice(&message);
                Ok(Some(message.len()))
            }
            None => Ok(None),
        }
    }
}

impl AsyncRead for WsReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.pending.is_empty() {
            match ready!(this.poll_message(cx))? {
                Some(message) => this.pending = message,
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}

/// After this server failed the connection (a close frame with 1002, 1007
/// or 1009 sent for what the peer sent): a task that reads and drops what
/// the peer still sends, its answering close frame included, for a moment
/// before the socket closes, so that the close frame is not reset away
/// (see `linger`). `None` after a clean end: dropping the halves closes.
pub fn linger_after_failure(
    reader: WsReader,
    writer: WsWriter,
) -> Option<impl std::future::Future<Output = usize> + Send + 'static> {
    if reader.fail.load(Ordering::Relaxed) == 0 || !writer.closed {
        return None;
    }
    let mut ws = reader.rx.reunite(writer.tx).ok()?;
    Some(async move { super::linger::drain_until_quiet(ws.get_mut()).await })
}

/// The writing half: one message per write.
pub struct WsWriter {
    tx: SplitSink<Ws, Message>,
    text: bool,
    closed: bool,
    /// See [`WsReader`]'s `fail`.
    fail: Arc<AtomicU16>,
}

impl std::fmt::Debug for WsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsWriter")
            .field("text", &self.text)
            .finish()
    }
}

impl WsWriter {
    /// The frame type writes go out as.
    pub fn kind(&self) -> MessageKind {
        if self.text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        }
    }

    /// The message for `data`: of `kind` (text only when the bytes are
    /// UTF-8), or as `--ws-text` says with `None`.
    fn message(&self, data: &[u8], kind: Option<MessageKind>) -> Message {
        let bytes = Bytes::copy_from_slice(data);
        if kind.unwrap_or(self.kind()) == MessageKind::Text {
            if let Ok(text) = Utf8Bytes::try_from(bytes.clone()) {
                return Message::Text(text);
            }
        }
        Message::Binary(bytes)
    }

    /// Sends `data` as one message of `kind` (an echo answers text with
    /// text), or of the kind `--ws-text` says with `None`; returns the
    /// kind it went out as (text that is not UTF-8 goes out binary).
    pub async fn write_message(
        &mut self,
        data: &[u8],
        kind: Option<MessageKind>,
    ) -> io::Result<MessageKind> {
        let message = self.message(data, kind);
        let sent = match message {
            Message::Text(_) => MessageKind::Text,
            _ => MessageKind::Binary,
        };
        self.tx.send(message).await.map_err(to_io)?;
        Ok(sent)
    }

    /// Sends a close frame (1000, normal closure, or the code a protocol
    /// failure of the reader calls for); the peer answers with its own
    /// and the connection ends. After the peer's close frame, this sends
    /// the answer to it. Already closed is not an error.
    pub async fn shutdown_write(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let frame = match self.fail.load(Ordering::Relaxed) {
            0 => CloseFrame {
                code: CloseCode::Normal,
                reason: Utf8Bytes::from_static(""),
            },
            code => CloseFrame {
                code: CloseCode::from(code),
                reason: Utf8Bytes::from_static(""),
            },
        };
        match self.tx.send(Message::Close(Some(frame))).await {
            Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => Ok(()),
            Err(WsError::Protocol(_)) => {
                // The peer closed first: send the answer tungstenite has
                // queued (its close frame echoed), which ends the connection.
                let _ = self.tx.flush().await;
                Ok(())
            }
            Err(e) => Err(to_io(e)),
        }
    }
}

impl AsyncWrite for WsWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.tx).poll_ready(cx)).map_err(to_io)?;
        let message = this.message(buf, None);
        Pin::new(&mut this.tx).start_send(message).map_err(to_io)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tx)
            .poll_flush(cx)
            .map_err(to_io)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.closed = true;
        match ready!(Pin::new(&mut this.tx).poll_close(cx)) {
            Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(to_io(e))),
        }
    }
}
