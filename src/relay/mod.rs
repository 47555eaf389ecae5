//! The relay engine behind `sockmate relay LISTEN TARGET`: every client of
//! LISTEN gets its own connection to TARGET and bytes are carried both
//! ways, each direction independently.
//!
//! - [`pump`]: one direction's copy loop and the pair runner (half-close,
//!   `--close-both`, idle timeout).
//! - [`transport::splice`]: the Linux zero-copy path for stream pairs.
//! - [`streams`]: the accept loop for stream listeners (TCP, Unix).
//! - [`flows`]: datagram listeners, one flow per client address.
//! - [`framing`]: datagram boundaries on a stream (`--frame`).
//!
//! Dump convention: each relayed connection is labelled `#ID CLIENT`
//! (see [`relay_conn`]). Bytes from the client toward the target are [`Direction::In`]
//! (`<`, "received by the relay from the client"); bytes from the target
//! back to the client are [`Direction::Out`] (`>`, "sent to the client").
//!
//! [`Direction::In`]: crate::event::Direction::In
//! [`Direction::Out`]: crate::event::Direction::Out

pub mod config;
#[doc(hidden)]
pub mod flows;
pub mod framing;
pub mod pump;
#[doc(hidden)]
pub mod streams;

use tokio_util::sync::CancellationToken;

use crate::event::leg::{Leg, Wire};
use crate::event::{ConnInfo, EventKind, EventTx};
use crate::transport::{self, Connected, PeerAddr};
pub use config::{
    RelayConfig, Rendezvous, Sides, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FLOW_IDLE,
    DEFAULT_REPLY_LINGER,
};

/// What the relay knows of a client's connection, for its `open`.
#[derive(Debug, Default)]
pub(crate) struct ClientFacts {
    /// What its TLS handshake established, when LISTEN is `tls://`.
    pub tls: Option<transport::TlsInfo>,
    /// Our own address on it (the one it reached, when LISTEN is
    /// `0.0.0.0`), when known.
    pub local: Option<std::net::SocketAddr>,
}

/// Why [`open_target`] gave a client up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreached {
    /// The target could not be reached (already reported as an error).
    Failed(crate::error::NetErrorKind),
    /// Shutdown, or the client left while we were connecting.
    GaveUp,
}

/// Connects to the relay's target for one client (or datagram flow) and
/// announces the connection; when the target cannot be reached, reports one
/// line ending in `gave_up` (what became of the client) and says so.
// What is known of the client and its "left" signal are two facts about
// the one client; one struct for them is a follow-up.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn open_target(
    cfg: &RelayConfig,
    peer: &PeerAddr,
    conn: &ConnInfo,
    events: &EventTx,
    shutdown: &CancellationToken,
    gave_up: &str,
    client: ClientFacts,
    client_gone: impl std::future::Future<Output = ()>,
) -> Result<Connected, Unreached> {
    let connected = tokio::select! {
        result = async {
            match cfg.rendezvous.take() {
                Some(far) => Ok(far),
                None => transport::connect(&cfg.target, &cfg.target_socket).await,
            }
        } => result,
        () = shutdown.cancelled() => return Err(Unreached::GaveUp),
        // The client left while we were connecting: give the connect up.
        () = client_gone => return Err(Unreached::GaveUp),
    };
    match connected {
        Ok(target) => {
            let _ = events
                .emit(EventKind::Open {
                    conn: conn.clone(),
                    local: cfg.listen.to_string(),
                    tls: client
                        .tls
                        .or_else(|| target.connection.tls_info())
                        .map(Box::new),
                    proxy: None,
                    wire: Some(Box::new(Wire {
                        near: Leg::new(
                            cfg.listen.kind(),
                            &client
                                .local
                                .map_or_else(|| cfg.listen.to_string(), |a| a.to_string()),
                            peer,
                            false,
                        ),
                        far: Some(Leg::new(
                            cfg.target.kind(),
                            &target.local,
                            &target.peer,
                            true,
                        )),
                    })),
                })
                .await;
            Ok(target)
        }
        Err(e) => {
            let _ = events
                .emit(EventKind::Error {
                    conn: None,
                    message: format!("client {peer}: {e}; {gave_up}"),
                    kind: None,
                })
                .await;
            Err(Unreached::Failed(e.kind))
        }
    }
}

/// The label of relayed connection `id` from `client` in events, status
/// lines and dumps: `#3 127.0.0.1:51234`.
pub fn relay_conn(id: u64, client: &PeerAddr, kind: crate::endpoint::Kind) -> ConnInfo {
    ConnInfo::new(id, format!("#{id} {client}")).with_url(client.url(kind))
}
