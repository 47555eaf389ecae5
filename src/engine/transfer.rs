//! The connection side of file transfer: either dial the peer, or listen
//! and run a transfer session for one client (or, with `keep_open`, for
//! every client, a bounded number at once) through the shared accept path.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Engine;
use crate::endpoint::Endpoint;
use crate::error::{ConfigError, NetError, NetErrorKind};
use crate::event::EventKind;
use crate::session::accept::{close_gracefully, Acceptor, Admission};
use crate::transfer::gate::HelloGate;
use crate::transport::{self, PeerAddr, SocketOptions, Stream};

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

/// Why a transfer side could not meet its peer.
#[derive(Debug, thiserror::Error)]
pub enum MeetError {
    /// Not a stream endpoint.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bind or connect failed.
    #[error(transparent)]
    Net(#[from] NetError),
}

fn not_a_stream(endpoint: &Endpoint) -> ConfigError {
    ConfigError::new(format!(
        "{endpoint} is not a stream endpoint (use tcp:// or unix://)"
    ))
}

impl Engine {
    /// Runs `session` on the transfer's connection(s): dialled, or
    /// accepted (one, or every client with `keep_open`). `on_listening` is
    /// told the bound address. With `keep_open`, a failed session is
    /// reported as an error event and the server goes on; otherwise its
    /// error is returned. The session passes its [`HelloGate`] when its
    /// hello is done (with `keep_open`, that takes a transfer place).
    pub async fn meet<F, Fut, E>(
        &self,
        meeting: &Meeting,
        on_listening: impl FnOnce(&Endpoint),
        session: F,
    ) -> Result<Result<(), E>, MeetError>
    where
        F: Fn(Stream, PeerAddr, HelloGate) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let stop = self.shutdown().token().clone();
        if !meeting.listen {
            let connected = transport::connect(&meeting.endpoint, &meeting.socket).await?;
            let Ok(stream) = connected.connection.into_stream() else {
                return Err(not_a_stream(&meeting.endpoint).into());
            };
            return Ok(tokio::select! {
                result = session(stream, connected.peer, HelloGate::open()) => result,
                () = stop.cancelled() => Ok(()),
            });
        }
        let (listener, real) = transport::listen(&meeting.endpoint, &meeting.socket).await?;
        let Ok(listener) = listener.into_stream() else {
            return Err(not_a_stream(&meeting.endpoint).into());
        };
        on_listening(&real);
        // The limit is applied here rather than by the acceptor, so that a
        // peer beyond it gets the protocol's refusal instead of waiting
        // silently in the kernel's queue.
        let mut acceptor = Acceptor::new(Admission::default());
        let pending = Arc::new(Semaphore::new(MAX_PENDING_HELLOS));
        let sessions = Arc::new(Semaphore::new(MAX_CONCURRENT_SESSIONS));
        let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
        let events = self.events().clone();
        let tracker = self.shutdown().child();
        while let Some(admitted) = acceptor.next(&listener, &events, &stop).await {
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
                return Ok(tokio::select! {
                    result = work => result,
                    () = stop.cancelled() => Ok(()),
                });
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
        Ok(Ok(()))
    }
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
