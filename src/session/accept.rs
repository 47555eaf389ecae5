//! The one accept path: the next admitted client of a listener, for
//! `listen` (plain and services), `relay` and file transfer alike.
//!
//! Admission policy, in order: a `--max-conns` permit is taken *before*
//! accepting (a full server takes on no work it cannot serve); accept
//! errors (such as running out of file descriptors) are reported once each
//! and backed off exponentially instead of spinning; clients outside
//! `--allow`/`--deny` are refused with a notice; clients beyond the limit
//! are refused with one line (or, for transfers, wait their turn).

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::{describe_io, NetErrorKind};
use crate::event::{EventKind, EventTx};
use crate::limits::AccessList;
use crate::transport::{PeerAddr, Stream, StreamListener, StreamReader, StreamWriter};

/// The first wait after an accept error, and the longest.
pub const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(5), Duration::from_secs(1));

/// Refusal lines being written at once; beyond it refused clients are
/// just closed.
const REFUSALS_AT_ONCE: usize = 64;

/// How long a refused client gets to take its refusal line.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// After we decide to close, how long we read and drop what the client is
/// still sending (so the kernel does not reset the connection and throw
/// away our last reply), and at most how much.
const CLOSE_DRAIN: (Duration, usize) = (Duration::from_millis(500), 1024 * 1024);

/// What happens to a client beyond `max_conns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// It gets one line ([`server_full_line`]) and is closed.
    #[default]
    Refuse,
    /// It is closed with a notice and no line (a relay: the bytes are not
    /// ours to add to).
    Close,
    /// It waits in the kernel's queue until a slot frees.
    Wait,
}

/// Who is served, and how many at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// Most clients served at once (`None`: no limit).
    pub max_conns: Option<usize>,
    /// Who may connect.
    pub access: AccessList,
    /// What happens beyond the limit.
    pub when_full: WhenFull,
}

/// The line sent to a client beyond `--max-conns`.
pub fn server_full_line(max: usize) -> String {
    format!("sockmate: server full (limit {max} connections); try again later\n")
}

/// An admitted client: its socket, its address and its slot (released when
/// dropped).
#[derive(Debug)]
pub struct Admitted {
    /// The socket.
    pub stream: Stream,
    /// Who.
    pub peer: PeerAddr,
    /// The `--max-conns` slot this client holds.
    pub slot: Option<OwnedSemaphorePermit>,
}

/// Accepts and admits clients from one listener, remembering the current
/// back-off.
#[derive(Debug)]
pub struct Acceptor {
    backoff: Duration,
    admission: Admission,
    permits: Option<Arc<Semaphore>>,
    refusals: Arc<Semaphore>,
    refusing: TaskTracker,
}

impl Acceptor {
    /// An acceptor applying `admission`.
    pub fn new(admission: Admission) -> Self {
        Acceptor {
            backoff: ACCEPT_BACKOFF.0,
            permits: admission
                .max_conns
                .map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS)))),
            admission,
            refusals: Arc::new(Semaphore::new(REFUSALS_AT_ONCE)),
            refusing: TaskTracker::new(),
        }
    }

    fn take_permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits
            .as_ref()
            .and_then(|p| Arc::clone(p).try_acquire_owned().ok())
    }

    /// The next admitted client, or `None` once `stop` is cancelled.
    pub async fn next(
        &mut self,
        listener: &StreamListener,
        events: &EventTx,
        stop: &CancellationToken,
    ) -> Option<Admitted> {
        loop {
            let mut slot = match (&self.permits, self.admission.when_full) {
                (Some(permits), WhenFull::Wait) => tokio::select! {
                    permit = Arc::clone(permits).acquire_owned() => permit.ok(),
                    () = stop.cancelled() => return None,
                },
                // Taken before accepting, so a full server does not take on
                // work it cannot serve.
                _ => self.take_permit(),
            };
            let (stream, peer) = self.accept(listener, events, stop).await?;
            if !self.admission.access.permits(&peer) {
                let _ = events
                    .emit(EventKind::Notice {
                        message: format!("refused: {peer} (not allowed by --allow/--deny)"),
                    })
                    .await;
                continue;
            }
            if slot.is_none() {
                // A slot may have freed while we waited in accept.
                slot = self.take_permit();
            }
            match (self.admission.max_conns, &slot) {
                (Some(max), None) => self.refuse(stream, peer, max, events).await,
                _ => return Some(Admitted { stream, peer, slot }),
            }
        }
    }

    /// The next client, backing off after errors; `None` on stop.
    async fn accept(
        &mut self,
        listener: &StreamListener,
        events: &EventTx,
        stop: &CancellationToken,
    ) -> Option<(Stream, PeerAddr)> {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = stop.cancelled() => return None,
            };
            match accepted {
                Ok(pair) => {
                    self.backoff = ACCEPT_BACKOFF.0;
                    return Some(pair);
                }
                Err(e) if crate::transport::handshake_failure(&e).is_some() => {
                    // A failed TLS or WebSocket handshake closes only that
                    // client: one line, no back-off.
                    let _ = events
                        .emit(EventKind::Error {
                            conn: None,
                            message: e.to_string(),
                            kind: None,
                        })
                        .await;
                }
                Err(e) => {
                    let _ = events
                        .emit(EventKind::Error {
                            conn: None,
                            message: format!(
                                "accept failed: {} (retrying in {:?})",
                                describe_io(&e),
                                self.backoff
                            ),
                            kind: Some(NetErrorKind::of(&e)),
                        })
                        .await;
                    tokio::select! {
                        () = tokio::time::sleep(self.backoff) => {}
                        () = stop.cancelled() => return None,
                    }
                    self.backoff = (self.backoff * 2).min(ACCEPT_BACKOFF.1);
                }
            }
        }
    }

    /// Tells a client beyond `max` so (one line, unless the policy is to
    /// just close) without holding up the accept loop.
    async fn refuse(&self, stream: Stream, peer: PeerAddr, max: usize, events: &EventTx) {
        let _ = events
            .emit(EventKind::Notice {
                message: format!("refused: {peer} (--max-conns {max} reached)"),
            })
            .await;
        if self.admission.when_full != WhenFull::Refuse {
            return;
        }
        let Ok(slot) = Arc::clone(&self.refusals).try_acquire_owned() else {
            return;
        };
        self.refusing.spawn(async move {
            let line = server_full_line(max);
            let (mut reader, mut writer) = stream.into_split();
            let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
                if writer.write_all(line.as_bytes()).await.is_ok() {
                    close_gracefully(&mut reader, &mut writer).await;
                }
            })
            .await;
            drop(slot);
        });
    }
}

/// Ends our writes, then reads and drops what the client still sends for
/// a moment, so our last bytes are delivered rather than reset away.
pub async fn close_gracefully(reader: &mut StreamReader, writer: &mut StreamWriter) {
    if writer.shutdown_write().await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_DRAIN.0, async {
        let mut buf = BytesMut::new();
        let mut drained = 0;
        while drained < CLOSE_DRAIN.1 {
            match reader.read_some(&mut buf, 16 * 1024).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    drained += n;
                    buf.clear();
                }
            }
        }
    })
    .await;
}

/// The next datagram and its sender, or `None` once `stop` is cancelled.
/// A receive error is emitted as an error event and the wait goes on (one
/// bad datagram or ICMP report never ends a server).
pub async fn next_datagram(
    socket: &crate::transport::DatagramSocket,
    buf: &mut [u8],
    events: &EventTx,
    stop: &CancellationToken,
) -> Option<(usize, PeerAddr)> {
    loop {
        let received = tokio::select! {
            received = socket.recv_from(buf) => received,
            () = stop.cancelled() => return None,
        };
        match received {
            Ok(pair) => return Some(pair),
            Err(e) => {
                let _ = events
                    .emit(EventKind::Error {
                        conn: None,
                        message: format!("receive failed: {}", describe_io(&e)),
                        kind: Some(NetErrorKind::of(&e)),
                    })
                    .await;
            }
        }
    }
}
