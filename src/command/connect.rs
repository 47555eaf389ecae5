//! `sockmate connect ENDPOINT`: a full-duplex client, stdin to the socket and
//! the socket to stdout, with exact half-close semantics; `--send` and
//! auto-send; `--reconnect` with exponential backoff.

use std::time::Duration;

use anyhow::Context as _;

use super::{build_input, start_output, stdin_is_terminal, Context, OutputOptions};
use crate::cli::SendConfig;
use crate::endpoint::{Endpoint, Kind};
use crate::event::{CloseReason, ConnInfo, EventKind, EventTx};
use crate::session::{self, Input, Outcome, SessionConfig, DEFAULT_DATAGRAM_WAIT, MAX_DATAGRAM};
use crate::stdio::STDIN_CHUNK;
use crate::transport::{self, Connected, Connection, SocketOptions};

/// Largest UDP payload; one stdin read becomes at most one such datagram.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// First wait before reconnecting; it doubles up to `--reconnect-max`.
const RECONNECT_FIRST_DELAY: Duration = Duration::from_millis(100);

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
    /// `--send` and auto-send.
    pub send: SendConfig,
    /// `--reconnect`, with the longest delay between attempts.
    pub reconnect: Option<Duration>,
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

fn stdin_chunk(kind: Kind) -> usize {
    match kind {
        Kind::Udp => MAX_UDP_PAYLOAD,
        Kind::UnixDgram => MAX_DATAGRAM,
        _ => STDIN_CHUNK,
    }
}

/// Connects and runs the session until both directions have ended (and,
/// with `--reconnect`, again whenever the peer goes away).
pub async fn run(cfg: ConnectConfig, ctx: &Context) -> anyhow::Result<()> {
    let first = match connect_once(&cfg, ctx).await {
        Some(Ok(connected)) => Some(connected),
        Some(Err(e)) if cfg.reconnect.is_none() => return Err(e.into()),
        Some(Err(_)) => None,
        None => return Ok(()),
    };
    let (events, sinks) = start_output(&cfg.output, cfg.reconnect.is_none(), ctx)?;
    let encoding = cfg.output.text_encoding();
    let mut input = build_input(&cfg.send, encoding, stdin_chunk(cfg.endpoint.kind()))?;
    let session_cfg = SessionConfig {
        end_on_peer_eof: cfg.session.end_on_peer_eof
            || stdin_is_terminal()
            || cfg.reconnect.is_some(),
        wait: cfg
            .session
            .wait
            .or((cfg.send.has_sends() && !stdin_is_terminal()).then_some(DEFAULT_DATAGRAM_WAIT)),
        ..cfg.session.clone()
    };
    let result = match cfg.reconnect {
        None => match first {
            Some(connected) => {
                let outcome =
                    run_session(&connected, 1, &mut input, &events, &session_cfg, ctx).await;
                outcome.error.map(|error| NetworkError {
                    endpoint: cfg.endpoint.to_string(),
                    detail: session::describe_io(&error),
                })
            }
            None => None,
        },
        Some(max) => {
            reconnect_loop(first, &cfg, max, &mut input, &events, &session_cfg, ctx).await;
            None
        }
    };
    drop(events);
    sinks.join().await;
    match result {
        Some(error) => Err(anyhow::Error::new(error)).context("session failed"),
        None => Ok(()),
    }
}

/// One connection attempt; `None` when shutdown came first.
async fn connect_once(
    cfg: &ConnectConfig,
    ctx: &Context,
) -> Option<Result<Connected, crate::error::NetError>> {
    tokio::select! {
        result = transport::connect(&cfg.endpoint, &cfg.socket) => Some(result),
        () = ctx.shutdown.cancelled() => None,
    }
}

async fn run_session(
    connected: &Connected,
    id: u64,
    input: &mut Input,
    events: &EventTx,
    session_cfg: &SessionConfig,
    ctx: &Context,
) -> Outcome {
    let conn = ConnInfo::new(id, &connected.peer);
    let _ = events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: connected.local.clone(),
        })
        .await;
    let outcome = match &connected.connection {
        Connection::Stream(stream) => {
            session::run_stream(stream, &conn, input, events, session_cfg, &ctx.shutdown).await
        }
        Connection::Datagram(socket) => {
            session::run_datagram_client(socket, &conn, input, events, session_cfg, &ctx.shutdown)
                .await
        }
    };
    outcome.report_close(conn, events).await;
    outcome
}

/// Keeps a session going across peer restarts until the input is done or
/// sockmate is stopped. Each attempt is reported on stderr.
async fn reconnect_loop(
    mut current: Option<Connected>,
    cfg: &ConnectConfig,
    max_delay: Duration,
    input: &mut Input,
    events: &EventTx,
    session_cfg: &SessionConfig,
    ctx: &Context,
) {
    let mut delay = RECONNECT_FIRST_DELAY;
    let mut attempt = 1u64;
    let mut sessions = 0u64;
    loop {
        let connected = match current.take() {
            Some(c) => c,
            None => {
                let _ = events
                    .emit(EventKind::Notice {
                        message: format!(
                            "reconnecting to {} (attempt {attempt}) in {}",
                            cfg.endpoint,
                            humantime::format_duration(delay)
                        ),
                    })
                    .await;
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = ctx.shutdown.cancelled() => return,
                }
                attempt += 1;
                delay = (delay * 2).min(max_delay);
                match connect_once(cfg, ctx).await {
                    None => return,
                    Some(Ok(c)) => c,
                    Some(Err(e)) => {
                        let _ = events
                            .emit(EventKind::Notice {
                                message: format!("{e}"),
                            })
                            .await;
                        continue;
                    }
                }
            }
        };
        sessions += 1;
        if sessions > 1 {
            let _ = events
                .emit(EventKind::Notice {
                    message: format!("reconnected to {}", cfg.endpoint),
                })
                .await;
        }
        delay = RECONNECT_FIRST_DELAY;
        attempt = 1;
        let outcome = run_session(&connected, sessions, input, events, session_cfg, ctx).await;
        match outcome.reason {
            CloseReason::PeerClosed | CloseReason::Error(_) => {
                let _ = events
                    .emit(EventKind::Notice {
                        message: format!(
                            "connection to {} ended: {}",
                            cfg.endpoint, outcome.reason
                        ),
                    })
                    .await;
            }
            _ => return,
        }
    }
}
