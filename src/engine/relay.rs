//! Starting a relay: bind LISTEN, announce it, and serve its clients (or
//! datagram flows) in the background with the relay engine in
//! [`crate::relay`].

use std::sync::Arc;

use super::{Engine, Handle, Registry, StartError};
use crate::event::EventKind;
use crate::relay::{flows, streams, RelayConfig};
use crate::transport::{self};

/// Binds, announces and relays until the handle or the engine is stopped.
pub(super) async fn start(engine: &Engine, cfg: RelayConfig) -> Result<Handle, StartError> {
    // Each relayed client holds two sockets (and up to two pipes).
    let _ = crate::limits::raise_nofile_limit();
    let (listener, real) = transport::listen(&cfg.listen, &cfg.listen_socket).await?;
    let events = engine.events().clone();
    super::warn_insecure(&events, &cfg.target, &cfg.target_socket).await;
    let _ = events
        .emit(EventKind::Listening {
            endpoint: real.to_string(),
            note: listener.note(),
        })
        .await;
    let stop = engine.shutdown().child();
    let token = stop.token().clone();
    // Each pair's `open` shows the real local address (port 0 resolved).
    let mut cfg = cfg;
    cfg.listen = real.clone();
    let cfg = Arc::new(cfg);
    let registry = Registry::default();
    let relayed = registry.clone();
    let task = tokio::spawn(async move {
        match listener.into_stream() {
            Ok(listener) => streams::serve(listener, cfg, &events, &relayed, &token).await,
            Err(socket) => flows::serve(socket, cfg, &events, &token).await,
        }
        Ok(())
    });
    Ok(Handle {
        endpoint: real,
        registry,
        stop,
        task,
    })
}
