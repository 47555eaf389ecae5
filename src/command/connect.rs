//! `sockmate connect ENDPOINT`: a full-duplex client, stdin to the socket and
//! the socket to stdout, with exact half-close semantics.

use anyhow::Context as _;

use super::{start_output, stdin_is_terminal, Context, OutputOptions};
use crate::endpoint::{Endpoint, Kind};
use crate::event::{ConnInfo, EventKind};
use crate::session::{self, Input, SessionConfig, MAX_DATAGRAM};
use crate::stdio::{spawn_stdin_reader, STDIN_CHUNK};
use crate::transport::{self, Connection, SocketOptions};

/// Largest UDP payload; one stdin read becomes at most one such datagram.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// Everything `connect` needs, validated.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Socket options.
    pub socket: SocketOptions,
    /// Session ends.
    pub session: SessionConfig,
    /// Views and status lines.
    pub output: OutputOptions,
}

/// Connects and runs the session until both directions have ended.
pub async fn run(cfg: ConnectConfig, ctx: &Context) -> anyhow::Result<()> {
    let connected = tokio::select! {
        result = transport::connect(&cfg.endpoint, &cfg.socket) => result?,
        () = ctx.shutdown.cancelled() => return Ok(()),
    };
    let (events, sinks) = start_output(&cfg.output, true, ctx)?;
    let conn = ConnInfo::new(1, &connected.peer);
    let _ = events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: connected.local.clone(),
        })
        .await;
    let chunk = if cfg.endpoint.kind().is_connection_oriented() {
        STDIN_CHUNK
    } else if cfg.endpoint.kind() == Kind::Udp {
        MAX_UDP_PAYLOAD
    } else {
        MAX_DATAGRAM
    };
    let mut input = Input::Stdin(spawn_stdin_reader(chunk));
    let session_cfg = SessionConfig {
        end_on_peer_eof: cfg.session.end_on_peer_eof || stdin_is_terminal(),
        ..cfg.session.clone()
    };
    let outcome = match &connected.connection {
        Connection::Stream(stream) => {
            session::run_stream(
                stream,
                &conn,
                &mut input,
                &events,
                &session_cfg,
                &ctx.shutdown,
            )
            .await
        }
        Connection::Datagram(socket) => {
            session::run_datagram_client(
                socket,
                &conn,
                &mut input,
                &events,
                &session_cfg,
                &ctx.shutdown,
            )
            .await
        }
    };
    let _ = events
        .emit(EventKind::Close {
            conn,
            reason: outcome.reason.clone(),
            counters: outcome.counters,
        })
        .await;
    drop(events);
    sinks.join().await;
    if let Some(error) = outcome.error {
        return Err(anyhow::Error::new(NetworkError {
            endpoint: cfg.endpoint.to_string(),
            detail: session::describe_io(&error),
        }))
        .context("session failed");
    }
    Ok(())
}

/// A session that failed on the network after it started.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {detail}")]
pub struct NetworkError {
    /// The endpoint.
    pub endpoint: String,
    /// What happened.
    pub detail: String,
}
