//! The connection side of file transfer: either dial the peer, or listen
//! and run a transfer session for one client (or, with `keep_open`, for
//! every client, a bounded number at once) through the shared accept path.

use std::future::Future;

use super::Engine;
use crate::endpoint::Endpoint;
use crate::error::{ConfigError, NetError, NetErrorKind};
use crate::event::EventKind;
use crate::session::accept::{Acceptor, Admission, WhenFull};
use crate::transport::{self, PeerAddr, SocketOptions, Stream};

/// Most sessions a `-k` side serves at once; more wait to be accepted.
pub const MAX_CONCURRENT_SESSIONS: usize = 64;

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
    /// error is returned.
    pub async fn meet<F, Fut, E>(
        &self,
        meeting: &Meeting,
        on_listening: impl FnOnce(&Endpoint),
        session: F,
    ) -> Result<Result<(), E>, MeetError>
    where
        F: Fn(Stream, PeerAddr) -> Fut,
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
                result = session(stream, connected.peer) => result,
                () = stop.cancelled() => Ok(()),
            });
        }
        let (listener, real) = transport::listen(&meeting.endpoint, &meeting.socket).await?;
        let Ok(listener) = listener.into_stream() else {
            return Err(not_a_stream(&meeting.endpoint).into());
        };
        on_listening(&real);
        let admission = Admission {
            max_conns: Some(MAX_CONCURRENT_SESSIONS),
            when_full: WhenFull::Wait,
            ..Admission::default()
        };
        let mut acceptor = Acceptor::new(admission);
        let events = self.events().clone();
        let tracker = self.shutdown().child();
        while let Some(admitted) = acceptor.next(&listener, &events, &stop).await {
            let work = session(admitted.stream, admitted.peer);
            if !meeting.keep_open {
                drop(listener);
                return Ok(tokio::select! {
                    result = work => result,
                    () = stop.cancelled() => Ok(()),
                });
            }
            let events = events.clone();
            let slot = admitted.slot;
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
                drop(slot);
            });
        }
        tracker.drain().await;
        Ok(Ok(()))
    }
}
