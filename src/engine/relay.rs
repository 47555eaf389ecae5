//! Starting a relay: bind LISTEN, announce it, and serve its clients (or
//! datagram flows) in the background with the relay engine in
//! [`crate::relay`].

use std::sync::Arc;

use super::{Engine, Handle, Registry, StartError};
use crate::endpoint::Endpoint;
use crate::error::{NetError, NetErrorKind};
use crate::event::EventKind;
use crate::relay::Sides;
use crate::relay::{flows, streams, RelayConfig};
use crate::transport::{self, Connected, Connection, Listener, SocketOptions, StreamListener};

/// Binds, announces and relays until the handle or the engine is stopped.
pub(super) async fn start(engine: &Engine, cfg: RelayConfig) -> Result<Handle, StartError> {
    // Each relayed client holds two sockets (and up to two pipes).
    let _ = crate::limits::raise_nofile_limit();
    let events = engine.events().clone();
    let stop = engine.shutdown().child();
    let (listener, real) = match cfg.sides {
        Sides::ListenFirst => {
            let (listener, real) = transport::listen(&cfg.listen, &cfg.listen_socket).await?;
            announce(&events, &real, listener.note()).await;
            (listener, real)
        }
        Sides::ConnectFirst => dial_first(&cfg).await?,
        Sides::ListenBoth => {
            let token = stop.token().clone();
            rendezvous(&cfg, &events, &token).await?
        }
    };
    super::warn_insecure(&events, &cfg.target, &cfg.target_socket).await;
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
            Err(socket) => {
                flows::serve(socket, cfg, &events, &token).await;
                Ok(())
            }
        }
    });
    Ok(Handle {
        endpoint: real,
        registry,
        stop,
        task,
    })
}

/// The `listening on …` line.
async fn announce(events: &crate::event::EventTx, real: &Endpoint, note: Option<String>) {
    let _ = events
        .emit(EventKind::Listening {
            endpoint: real.to_string(),
            note,
        })
        .await;
}

/// `--connect-first`: dials LISTEN (before TARGET) and serves it as the
/// one client.
async fn dial_first(cfg: &RelayConfig) -> Result<(Listener, Endpoint), StartError> {
    let opts = SocketOptions {
        proxy: None,
        ..cfg.target_socket.clone()
    };
    let first = transport::connect(&cfg.listen, &opts).await?;
    let stream = first
        .connection
        .into_stream()
        .map_err(|_| not_a_stream(&cfg.listen))?;
    let listener = StreamListener::single(stream, first.peer, None);
    Ok((Listener::Stream(listener), cfg.listen.clone()))
}

/// `--listen-both`: listens on both sides, accepts one client on each and
/// hands them to the one session. Both listeners close then: later
/// clients are refused.
async fn rendezvous(
    cfg: &RelayConfig,
    events: &crate::event::EventTx,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<(Listener, Endpoint), StartError> {
    let mut bound = Vec::with_capacity(2);
    for side in [&cfg.listen, &cfg.target] {
        let (listener, real) = transport::listen(side, &cfg.listen_socket).await?;
        let listener = listener.into_stream().map_err(|_| not_a_stream(side))?;
        announce(events, &real, listener.note().map(str::to_string)).await;
        bound.push((listener, real));
    }
    let (Some((far, far_real)), Some((near, near_real))) = (bound.pop(), bound.pop()) else {
        return Err(NetError::new(NetErrorKind::Other, "a rendezvous needs two sides").into());
    };
    let accepted = tokio::select! {
        both = async { tokio::try_join!(near.accept(), far.accept()) } => both,
        () = stop.cancelled() => return Err(NetError::new(NetErrorKind::Other, "stopped before both clients came").into()),
    };
    let ((near_stream, near_peer), (far_stream, far_peer)) =
        accepted.map_err(|e| NetError::io(format_args!("cannot accept"), &e))?;
    cfg.rendezvous.put(Connected {
        connection: Connection::Stream(far_stream),
        local: far_real.to_string(),
        peer: far_peer,
    });
    let listener = StreamListener::single(near_stream, near_peer, None);
    Ok((Listener::Stream(listener), near_real))
}

/// The refusal of a datagram side where a relay needs one stream client.
fn not_a_stream(side: &Endpoint) -> NetError {
    NetError::new(
        NetErrorKind::Other,
        format!("{side} is not a stream: --connect-first and --listen-both relay one stream client (drop the flag for datagrams)"),
    )
}
