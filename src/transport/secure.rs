//! The layers over a base stream: TLS (`tls://`, `tls+unix://`),
//! WebSocket (`ws://`, `ws+unix://`) and both (`wss://`, `wss+unix://`),
//! over TCP or a Unix stream socket. [`client_upgrade`] runs the client
//! handshakes over a base that is already connected (directly, or
//! through a proxy); `Handshaker` runs the server handshakes of a
//! listener, each in its own task so a slow client never delays the next
//! accept.

use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex, Semaphore};
use tokio_util::task::AbortOnDropHandle;

use super::tls::{self, TlsServer};
use super::unix_socket::UnixListener;
use super::ws;
use super::{apply_stream_options, PeerAddr, SocketOptions, Stream};
use crate::endpoint::{Endpoint, Host};
use crate::error::NetError;

/// Handshakes under way at once on one listener (clients accepted whose
/// first byte or handshake is still awaited); beyond it, accepted clients
/// wait (in the kernel queue) for a turn. Large, because a silent client
/// holds its turn only for [`FIRST_BYTE_DEADLINE`]: a thousand silent
/// connections never delay an honest client's handshake.
const PENDING_HANDSHAKES: usize = 4096;

/// How long an accepted client may stay silent before its first byte (a
/// TLS ClientHello, a WebSocket request line): honest clients send at
/// once; a silent one is dropped so it does not hold a turn.
const FIRST_BYTE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// The layers an endpoint stacks on its base, and what they need: the
/// TLS server name (the host; `localhost` over a Unix socket, unless
/// `--sni` says otherwise) and the WebSocket URL and request path.
struct Stack {
    tls: Option<Host>,
    ws: Option<(String, String)>,
}

impl Stack {
    /// The layers of `endpoint`; `None` for a plain base (`tcp://`,
    /// `unix://`…).
    fn of(endpoint: &Endpoint) -> Option<Stack> {
        let localhost = || Host::Name("localhost".into());
        match endpoint {
            Endpoint::Tls { host, .. } => Some(Stack {
                tls: Some(host.clone()),
                ws: None,
            }),
            Endpoint::Ws {
                host,
                port,
                path,
                secure,
            } => Some(Stack {
                tls: secure.then(|| host.clone()),
                ws: Some((
                    format!("{}://{host}:{port}{path}", endpoint.kind().scheme()),
                    path.clone(),
                )),
            }),
            Endpoint::OverUnix(layers) => Some(Stack {
                tls: layers.tls.then(localhost),
                ws: layers.ws_path.as_ref().map(|path| {
                    let scheme = if layers.tls { "wss" } else { "ws" };
                    (format!("{scheme}://localhost{path}"), path.clone())
                }),
            }),
            _ => None,
        }
    }
}

/// Runs the client side of `endpoint`'s layers over `base`, the stream
/// already connected to it (TCP, directly or through a proxy, or a Unix
/// stream socket): the TLS handshake for `tls://`, `wss://`,
/// `tls+unix://` and `wss+unix://`, then the WebSocket handshake for the
/// WebSocket kinds. A plain endpoint gets `base` back as it is.
pub async fn client_upgrade(
    base: Stream,
    endpoint: &Endpoint,
    opts: &SocketOptions,
) -> Result<Stream, NetError> {
    let Some(stack) = Stack::of(endpoint) else {
        return Ok(base);
    };
    let stream = match &stack.tls {
        Some(name) => {
            let tls = tls::client_handshake(base, name, endpoint, &opts.tls).await?;
            Stream::Tls(Box::new(tls.into()))
        }
        None => base,
    };
    let Some((url, _)) = &stack.ws else {
        return Ok(stream);
    };
    let info = stream.tls_info();
    let timeout = opts.tls.handshake_timeout();
    let ws = ws::client_handshake(Box::new(stream), url, endpoint, &opts.ws, info, timeout).await?;
    Ok(Stream::Ws(Box::new(ws)))
}

/// A handshake that failed on a listener: who, and why in words.
#[derive(Debug)]
pub struct HandshakeFailed {
    /// The client.
    pub peer: PeerAddr,
    /// Which layer (`TLS`, `WebSocket`) and why.
    pub why: String,
}

impl std::fmt::Display for HandshakeFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "handshake with {} failed: {}", self.peer, self.why)
    }
}

impl std::error::Error for HandshakeFailed {}

/// The failed handshake inside an accept error, if it is one (it closes
/// only that client: no back-off).
pub fn handshake_failure(error: &io::Error) -> Option<&HandshakeFailed> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<HandshakeFailed>())
}

/// What a listener's server side does for each client.
#[derive(Debug, Clone)]
pub(super) struct Layers {
    tls: Option<TlsServer>,
    ws: Option<ws::WsOptions>,
    opts: SocketOptions,
}

impl Layers {
    /// The layers of `endpoint`, or `None` for a plain base.
    pub(super) fn of(
        endpoint: &Endpoint,
        opts: &SocketOptions,
    ) -> Result<Option<Layers>, NetError> {
        let Some(stack) = Stack::of(endpoint) else {
            return Ok(None);
        };
        let tls = match &stack.tls {
            Some(host) => Some(TlsServer::new(&opts.tls, host)?),
            None => None,
        };
        let ws = stack.ws.map(|(_, path)| {
            let mut ws = opts.ws.as_ref().clone();
            // `listen ws://0.0.0.0:8080/feed` serves /feed only, like
            // `--path /feed`; a bare `/` serves any path.
            if ws.path.is_none() && path != "/" {
                ws.path = Some(path.split('?').next().unwrap_or(&path).to_string());
            }
            ws
        });
        Ok(Some(Layers {
            tls,
            ws,
            opts: opts.clone(),
        }))
    }

    /// What the `listening on` line says about the certificate.
    pub(super) fn note(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.note.clone())
    }

    async fn handshake(&self, base: Stream) -> Result<Stream, String> {
        let stream = match &self.tls {
            Some(server) => {
                let tls = server
                    .accept(base)
                    .await
                    .map_err(|why| format!("TLS: {why}"))?;
                Stream::Tls(Box::new(tls.into()))
            }
            None => base,
        };
        let Some(opts) = &self.ws else {
            return Ok(stream);
        };
        let info = stream.tls_info();
        let timeout = self.opts.tls.handshake_timeout();
        let ws = ws::server_handshake(Box::new(stream), opts, info, timeout).await?;
        Ok(Stream::Ws(Box::new(ws)))
    }
}

/// The listening socket under a layered listener: TCP (`tls://`,
/// `ws://`, `wss://`) or a Unix stream socket (`tls+unix://`,
/// `ws+unix://`, `wss+unix://`).
#[derive(Debug)]
pub(super) enum BaseListener {
    /// TCP.
    Tcp(TcpListener),
    /// A Unix stream socket.
    Unix(UnixListener),
}

impl BaseListener {
    /// The next client, as a plain stream with its address.
    async fn accept(&self, opts: &SocketOptions) -> io::Result<(Stream, PeerAddr)> {
        match self {
            BaseListener::Tcp(listener) => {
                let (tcp, addr) = listener.accept().await?;
                if let Err(e) = apply_stream_options(&tcp, opts) {
                    tracing::debug!(%addr, error = %e, "socket options");
                }
                Ok((Stream::Tcp(tcp), PeerAddr::Ip(addr)))
            }
            BaseListener::Unix(listener) => {
                let (unix, _) = listener.accept().await?;
                let pid = unix.peer_cred().ok().and_then(|c| c.pid());
                Ok((Stream::Unix(unix), PeerAddr::Unix { addr: None, pid }))
            }
        }
    }
}

type Handshaken = io::Result<(Stream, PeerAddr)>;

/// Accepts clients in the background and hands out those whose
/// handshakes succeeded; failures come out as [`HandshakeFailed`] errors.
/// Dropping it stops accepting.
#[derive(Debug)]
pub(super) struct Handshaker {
    ready: Mutex<mpsc::Receiver<Handshaken>>,
    _task: AbortOnDropHandle<()>,
}

impl Handshaker {
    pub(super) fn start(listener: BaseListener, layers: Layers) -> Handshaker {
        let (tx, rx) = mpsc::channel(16);
        let task = tokio::spawn(accept_loop(listener, Arc::new(layers), tx));
        Handshaker {
            ready: Mutex::new(rx),
            _task: AbortOnDropHandle::new(task),
        }
    }

    /// The next client whose handshake is done (or an error).
    pub(super) async fn accept(&self) -> Handshaken {
        match self.ready.lock().await.recv().await {
            Some(next) => next,
            None => Err(io::Error::other("the listener stopped")),
        }
    }
}

async fn accept_loop(listener: BaseListener, layers: Arc<Layers>, tx: mpsc::Sender<Handshaken>) {
    let at_once = Arc::new(Semaphore::new(PENDING_HANDSHAKES));
    let tasks = tokio_util::task::TaskTracker::new();
    loop {
        let Ok(turn) = Arc::clone(&at_once).acquire_owned().await else {
            return;
        };
        let (base, peer) = match listener.accept(&layers.opts).await {
            Ok(pair) => pair,
            Err(e) => {
                if tx.send(Err(e)).await.is_err() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let layers = Arc::clone(&layers);
        let out = tx.clone();
        tasks.spawn(async move {
            let first = first_byte(&base, layers.opts.tls.handshake_timeout()).await;
            let handshake = match first {
                Ok(()) => layers.handshake(base).await,
                Err(why) => Err(why),
            };
            let result = match handshake {
                Ok(stream) => Ok((stream, peer)),
                Err(why) => Err(io::Error::other(HandshakeFailed { peer, why })),
            };
            drop(turn);
            let _ = out.send(result).await;
        });
        if tx.is_closed() {
            return;
        }
    }
}

/// Waits for the client's first byte (without taking it) for at most
/// [`FIRST_BYTE_DEADLINE`] (or `limit`, when shorter). A client that closes
/// at once goes on to fail its handshake with the usual words.
async fn first_byte(base: &Stream, limit: std::time::Duration) -> Result<(), String> {
    let deadline = FIRST_BYTE_DEADLINE.min(limit);
    match tokio::time::timeout(deadline, base.first_byte()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(crate::error::describe_io(&e)),
        Err(_) => Err(format!(
            "the client sent nothing within {} (silent clients are dropped)",
            humantime::format_duration(deadline)
        )),
    }
}
