//! The layers over TCP: TLS (`tls://`), WebSocket (`ws://`) and both
//! (`wss://`). [`client_upgrade`] runs the client handshakes over a TCP
//! stream that is already connected (directly, or through a proxy);
//! `Handshaker` runs the server handshakes of a listener, each in its
//! own task so a slow client never delays the next accept.

use std::io;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex, Semaphore};
use tokio_util::task::AbortOnDropHandle;

use super::tls::{self, TlsInfo, TlsServer};
use super::ws::{self, BoxedIo};
use super::{apply_stream_options, PeerAddr, SocketOptions, Stream};
use crate::endpoint::Endpoint;
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

/// Runs the client side of `endpoint`'s layers over `tcp`, already
/// connected to its host and port: the TLS handshake for `tls://` and
/// `wss://`, then the WebSocket handshake for `ws://` and `wss://`. A plain
/// `tcp://` endpoint gets the stream back as it is.
pub async fn client_upgrade(
    tcp: TcpStream,
    endpoint: &Endpoint,
    opts: &SocketOptions,
) -> Result<Stream, NetError> {
    match endpoint {
        Endpoint::Tls { host, .. } => {
            let tls = tls::client_handshake(tcp, host, &opts.tls).await?;
            Ok(Stream::Tls(Box::new(tls.into())))
        }
        Endpoint::Ws {
            host, port, path, ..
        } => {
            let timeout = opts.tls.handshake_timeout();
            let scheme = endpoint.kind().scheme();
            let url = format!("{scheme}://{host}:{port}{path}");
            let (io, info): (BoxedIo, Option<TlsInfo>) = if endpoint.kind().scheme() == "wss" {
                let tls = tls::client_handshake(tcp, host, &opts.tls).await?;
                let info = TlsInfo::of(tls.get_ref().1);
                (Box::new(tls), Some(info))
            } else {
                (Box::new(tcp), None)
            };
            let ws = ws::client_handshake(io, &url, &opts.ws, info, timeout).await?;
            Ok(Stream::Ws(Box::new(ws)))
        }
        _ => Ok(Stream::Tcp(tcp)),
    }
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
    /// The layers of `endpoint`, or `None` for plain TCP.
    pub(super) fn of(
        endpoint: &Endpoint,
        opts: &SocketOptions,
    ) -> Result<Option<Layers>, NetError> {
        let (tls, ws) = match endpoint {
            Endpoint::Tls { host, .. } => (Some(TlsServer::new(&opts.tls, host)?), None),
            Endpoint::Ws {
                host, secure, path, ..
            } => {
                let tls = if *secure {
                    Some(TlsServer::new(&opts.tls, host)?)
                } else {
                    None
                };
                let mut ws = opts.ws.as_ref().clone();
                // `listen ws://0.0.0.0:8080/feed` serves /feed only, like
                // `--path /feed`; a bare `/` serves any path.
                if ws.path.is_none() && path != "/" {
                    ws.path = Some(path.split('?').next().unwrap_or(path).to_string());
                }
                (tls, Some(ws))
            }
            _ => return Ok(None),
        };
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

    async fn handshake(&self, tcp: TcpStream) -> Result<Stream, String> {
        let timeout = self.opts.tls.handshake_timeout();
        let (io, info): (BoxedIo, Option<TlsInfo>) = match &self.tls {
            Some(server) => {
                let tls = server
                    .accept(tcp)
                    .await
                    .map_err(|why| format!("TLS: {why}"))?;
                if self.ws.is_none() {
                    return Ok(Stream::Tls(Box::new(tls.into())));
                }
                let info = TlsInfo::of(tls.get_ref().1);
                (Box::new(tls), Some(info))
            }
            None => (Box::new(tcp), None),
        };
        let opts = self.ws.clone().unwrap_or_default();
        let ws = ws::server_handshake(io, &opts, info, timeout).await?;
        Ok(Stream::Ws(Box::new(ws)))
    }
}

type Handshaken = io::Result<(Stream, PeerAddr)>;

/// Accepts TCP clients in the background and hands out those whose
/// handshakes succeeded; failures come out as [`HandshakeFailed`] errors.
/// Dropping it stops accepting.
#[derive(Debug)]
pub(super) struct Handshaker {
    ready: Mutex<mpsc::Receiver<Handshaken>>,
    _task: AbortOnDropHandle<()>,
}

impl Handshaker {
    pub(super) fn start(listener: TcpListener, layers: Layers) -> Handshaker {
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

async fn accept_loop(listener: TcpListener, layers: Arc<Layers>, tx: mpsc::Sender<Handshaken>) {
    let at_once = Arc::new(Semaphore::new(PENDING_HANDSHAKES));
    let tasks = tokio_util::task::TaskTracker::new();
    loop {
        let Ok(turn) = Arc::clone(&at_once).acquire_owned().await else {
            return;
        };
        let (tcp, addr) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                if tx.send(Err(e)).await.is_err() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let peer = PeerAddr::Ip(addr);
        if let Err(e) = apply_stream_options(&tcp, &layers.opts) {
            tracing::debug!(%addr, error = %e, "socket options");
        }
        let layers = Arc::clone(&layers);
        let out = tx.clone();
        tasks.spawn(async move {
            let first = first_byte(&tcp, layers.opts.tls.handshake_timeout()).await;
            let handshake = match first {
                Ok(()) => layers.handshake(tcp).await,
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
async fn first_byte(tcp: &TcpStream, limit: std::time::Duration) -> Result<(), String> {
    let deadline = FIRST_BYTE_DEADLINE.min(limit);
    let mut byte = [0u8; 1];
    match tokio::time::timeout(deadline, tcp.peek(&mut byte)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(crate::error::describe_io(&e)),
        Err(_) => Err(format!(
            "the client sent nothing within {} (silent clients are dropped)",
            humantime::format_duration(deadline)
        )),
    }
}
