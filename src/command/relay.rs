//! `sockmate relay LISTEN TARGET`: forwards every client of LISTEN to its
//! own new connection to TARGET, any endpoint kind to any, optionally
//! dumping the traffic. The engine lives in [`crate::relay`].

use std::sync::Arc;
use std::time::Duration;

use super::Context;
use crate::endpoint::Endpoint;
use crate::event::EventKind;
use crate::limits::AccessList;
use crate::relay::dump::{relay_sinks, DumpFormat};
use crate::relay::framing::RelayFrame;
use crate::relay::pump::PairRules;
use crate::relay::{flows, streams};
use crate::transport::{self, Listener, SocketOptions};
use crate::view::{spawn_sinks, ViewOptions};

/// How long a datagram flow lives without traffic when `--idle-timeout` is
/// not given.
pub const DEFAULT_FLOW_IDLE: Duration = Duration::from_secs(60);

/// How long a stream client's connection to a datagram target stays open
/// for replies after the client ends its writes, when `--idle-timeout` is
/// not given.
pub const DEFAULT_REPLY_LINGER: Duration = Duration::from_secs(2);

/// Everything `relay` needs, validated.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where clients come from.
    pub listen: Endpoint,
    /// Where each client is forwarded.
    pub target: Endpoint,
    /// Options for the listening socket.
    pub listen_socket: SocketOptions,
    /// Options for connections to the target (connect timeout, nodelay).
    pub target_socket: SocketOptions,
    /// Datagram boundaries on the stream side of a stream ↔ datagram relay.
    pub frame: Option<RelayFrame>,
    /// Half-close, `--close-both` and `--idle-timeout`.
    pub rules: PairRules,
    /// Most clients served at once.
    pub max_conns: Option<usize>,
    /// Which clients are served.
    pub access: AccessList,
    /// Show the traffic (turns off splice: bytes must pass through us).
    pub dump: Option<DumpFormat>,
    /// Use splice(2) for stream pairs when possible.
    pub splice: bool,
    /// Status lines and the view options for the dump.
    pub view: ViewOptions,
}

/// Binds LISTEN, announces it, and relays until shutdown.
pub async fn run(cfg: RelayConfig, ctx: &Context) -> anyhow::Result<()> {
    // Each relayed client holds two sockets (and up to two pipes).
    let _ = crate::limits::raise_nofile_limit();
    let (listener, real) = transport::listen(&cfg.listen, &cfg.listen_socket).await?;
    let sinks = relay_sinks(&cfg.view, cfg.dump)?;
    let (events, sink_thread) = spawn_sinks(sinks, ctx.shutdown.clone())?;
    let _ = events
        .emit(EventKind::Listening {
            endpoint: real.to_string(),
            note: None,
        })
        .await;
    let cfg = Arc::new(cfg);
    match listener {
        Listener::Stream(listener) => {
            streams::serve(listener, Arc::clone(&cfg), &events, &ctx.shutdown).await
        }
        Listener::Datagram(socket) => {
            flows::serve(socket, Arc::clone(&cfg), &events, &ctx.shutdown).await
        }
    }
    drop(events);
    sink_thread.join().await;
    Ok(())
}
