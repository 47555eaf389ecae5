//! The connection side of file transfer: either dial the peer, or listen
//! and run a transfer session for one client (or, with `keep_open`, for
//! every client, a bounded number at once) through the shared accept path.
//! [`super::files`] starts `send` and `receive` on it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::StartError;
use crate::endpoint::Endpoint;
use crate::error::{ConfigError, NetErrorKind};
use crate::event::{EventKind, EventTx};
use crate::session::accept::{close_gracefully, Acceptor, Admission};
use crate::shutdown::Shutdown;
use crate::transfer::gate::HelloGate;
use crate::transport::{self, PeerAddr, SocketOptions, Stream, StreamListener};

/// Most sessions a `-k` side serves at once; a peer beyond it is refused
/// when its hello is done ([`HelloGate::pass`]).
pub const MAX_CONCURRENT_SESSIONS: usize = 64;

/// Most connections a `-k` side holds that have not finished their hello
/// (each for at most the hello deadline); a peer beyond it is refused with
/// [`Meeting::busy`] at once. Idle sockets fill this, not the transfers.
pub const MAX_PENDING_HELLOS: usize = 4096;

/// Refusals being written at once; beyond it refused peers are just closed.
const REFUSALS_AT_ONCE: usize = 64;

/// How long a refused peer gets to take its refusal.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// How a transfer side meets its peer.
#[derive(Debug, Clone)]
pub struct Meeting {
    /// Where to connect, or where to listen.
    pub endpoint: Endpoint,
    /// Socket options.
    pub socket: SocketOptions,
    /// Wait for the peer (instead of dialling it).
    pub listen: bool,
    /// With `listen`: serve every peer that comes, concurrently.
    pub keep_open: bool,
    /// With `keep_open`: the bytes (the protocol's refusal) sent to a peer
    /// beyond [`MAX_PENDING_HELLOS`] before it is closed.
    pub busy: Vec<u8>,
}

fn not_a_stream(endpoint: &Endpoint) -> ConfigError {
    ConfigError::new(format!(
        "{endpoint} is not a stream endpoint (use tcp:// or unix://)"
    ))
}

/// A transfer side that has met the network: connected to its peer, or
/// bound and waiting for peers.
#[derive(Debug)]
pub enum Met {
    /// Connected (the peer's address).
    Dialled(Stream, PeerAddr),
    /// Bound.
    Listening(Box<StreamListener>),
}

impl Meeting {
    /// Connects or binds: the side and the real address (the bound one,
    /// port 0 resolved, or the endpoint dialled).
    pub async fn open(&self) -> Result<(Met, Endpoint), StartError> {
        if !self.listen {
            let connected = transport::connect(&self.endpoint, &self.socket).await?;
            let Ok(stream) = connected.connection.into_stream() else {
                return Err(not_a_stream(&self.endpoint).into());
            };
            return Ok((Met::Dialled(stream, connected.peer), self.endpoint.clone()));
        }
        let (listener, real) = transport::listen(&self.endpoint, &self.socket).await?;
        let Ok(listener) = listener.into_stream() else {
            return Err(not_a_stream(&self.endpoint).into());
        };
        Ok((Met::Listening(Box::new(listener)), real))
    }
}

/// Runs `session` on the side `met`: the dialled connection, or accepted
/// ones (one, or every client with `keep_open`) until `stop`. With
/// `keep_open`, a failed session is reported as an error event and the
/// server goes on; otherwise its error is returned. The session passes
/// its [`HelloGate`] when its hello is done (with `keep_open`, that takes
/// a transfer place).
pub async fn serve<F, Fut, E>(
    met: Met,
    meeting: &Meeting,
    events: &EventTx,
    stop: &Shutdown,
    session: F,
) -> Result<(), E>
where
    F: Fn(Stream, PeerAddr, HelloGate) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let token = stop.token().clone();
    let listener = match met {
        Met::Dialled(stream, peer) => {
            return tokio::select! {
                result = session(stream, peer, HelloGate::open()) => result,
                () = token.cancelled() => Ok(()),
            };
        }
        Met::Listening(listener) => *listener,
    };
    // The limit is applied here rather than by the acceptor, so that a
    // peer beyond it gets the protocol's refusal instead of waiting
    // silently in the kernel's queue.
    let mut acceptor = Acceptor::new(Admission::default());
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HELLOS));
    let sessions = Arc::new(Semaphore::new(MAX_CONCURRENT_SESSIONS));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let tracker = stop.child();
    while let Some(admitted) = acceptor.next(&listener, events, &token).await {
        let gate = if meeting.keep_open {
            match Arc::clone(&pending).try_acquire_owned() {
                Ok(waiting) => {
                    HelloGate::new(waiting, Arc::clone(&sessions), MAX_CONCURRENT_SESSIONS)
                }
                Err(_) => {
                    let _ = events
                        .emit(EventKind::Notice {
                            message: format!(
                                "refused: {} ({MAX_PENDING_HELLOS} connections in their hello already)",
                                admitted.peer
                            ),
                        })
                        .await;
                    if let Ok(refusing) = Arc::clone(&refusals).try_acquire_owned() {
                        let busy = meeting.busy.clone();
                        tracker.spawn(refuse(admitted.stream, busy, refusing));
                    }
                    continue;
                }
            }
        } else {
            HelloGate::open()
        };
        let work = session(admitted.stream, admitted.peer, gate);
        if !meeting.keep_open {
            drop(listener);
            return tokio::select! {
                result = work => result,
                () = token.cancelled() => Ok(()),
            };
        }
        let events = events.clone();
        tracker.spawn(async move {
            if let Err(e) = work.await {
                let _ = events
                    .emit(EventKind::Error {
                        conn: None,
                        message: e.to_string(),
                        kind: Some(NetErrorKind::Other),
                    })
                    .await;
            }
        });
    }
    tracker.drain().await;
    Ok(())
}

/// Sends `busy` to a refused peer and closes, within [`REFUSAL_TIMEOUT`].
async fn refuse(stream: Stream, busy: Vec<u8>, refusing: OwnedSemaphorePermit) {
    let (mut reader, mut writer) = stream.into_split();
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        if writer.write_all(&busy).await.is_ok() {
            close_gracefully(&mut reader, &mut writer).await;
        }
    })
    .await;
    drop(refusing);
}
