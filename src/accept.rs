//! Accepting clients: the next connection from a listener, with errors
//! (such as running out of file descriptors) reported once each and backed
//! off exponentially instead of spinning or ending the server.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::event::{EventKind, EventTx};
use crate::session::describe_io;
use crate::transport::{PeerAddr, Stream, StreamListener};

/// The first wait after an accept error, and the longest.
pub const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(5), Duration::from_secs(1));

/// Accepts clients from one listener, remembering the current backoff.
#[derive(Debug)]
pub struct Acceptor {
    backoff: Duration,
}

impl Default for Acceptor {
    fn default() -> Self {
        Acceptor {
            backoff: ACCEPT_BACKOFF.0,
        }
    }
}

impl Acceptor {
    /// A fresh acceptor.
    pub fn new() -> Self {
        Acceptor::default()
    }

    /// The next client, or `None` once `shutdown` is cancelled. Accept
    /// errors are emitted as error events, each followed by a pause that
    /// doubles up to [`ACCEPT_BACKOFF`]'s limit and resets on success.
    pub async fn next(
        &mut self,
        listener: &StreamListener,
        events: &EventTx,
        shutdown: &CancellationToken,
    ) -> Option<(Stream, PeerAddr)> {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = shutdown.cancelled() => return None,
            };
            match accepted {
                Ok(pair) => {
                    self.backoff = ACCEPT_BACKOFF.0;
                    return Some(pair);
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
                            kind: Some(crate::error::NetErrorKind::of(&e)),
                        })
                        .await;
                    tokio::select! {
                        () = tokio::time::sleep(self.backoff) => {}
                        () = shutdown.cancelled() => return None,
                    }
                    self.backoff = (self.backoff * 2).min(ACCEPT_BACKOFF.1);
                }
            }
        }
    }
}

/// The next datagram and its sender, or `None` once `shutdown` is
/// cancelled. A receive error is emitted as an error event and the wait
/// goes on (one bad datagram or ICMP report never ends a server).
pub async fn next_datagram(
    socket: &crate::transport::DatagramSocket,
    buf: &mut [u8],
    events: &EventTx,
    shutdown: &CancellationToken,
) -> Option<(usize, PeerAddr)> {
    loop {
        let received = tokio::select! {
            received = socket.recv_from(buf) => received,
            () = shutdown.cancelled() => return None,
        };
        match received {
            Ok(pair) => return Some(pair),
            Err(e) => {
                let _ = events
                    .emit(EventKind::Error {
                        conn: None,
                        message: format!("receive failed: {}", describe_io(&e)),
                        kind: Some(crate::error::NetErrorKind::of(&e)),
                    })
                    .await;
            }
        }
    }
}
