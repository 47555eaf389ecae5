//! Connecting: one connection (stream or datagram) running a session with
//! the given input, and with `reconnect` the loop that connects again with
//! exponential back-off whenever the peer goes away.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::endpoint::Endpoint;
use crate::error::NetError;
use crate::event::leg::{Leg, Wire};
use crate::event::{CloseReason, ConnInfo, EventKind, EventTx};
use crate::send::SendPlan;
use crate::service::{ExecSpec, Link};
use crate::session::registry::Registry;
use crate::session::{self, Input, Meter, Outcome, SessionConfig, Wiring};
use crate::transport::{self, Connected, SocketOptions};

/// First wait before reconnecting; it doubles up to the configured maximum.
const RECONNECT_FIRST_DELAY: Duration = Duration::from_millis(100);

/// Everything `connect` needs, validated; buildable without clap: start from
/// [`ConnectConfig::new`] and change what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectConfig {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Socket options.
    pub socket: SocketOptions,
    /// How the session ends.
    pub session: SessionConfig,
    /// What is sent besides the input (`--send`, auto-send).
    pub sends: SendPlan,
    /// Connect again when the peer goes away, waiting at most this long
    /// between attempts.
    pub reconnect: Option<Duration>,
    /// With `reconnect`: a clean close by the peer reconnects too
    /// (`--reconnect`, websocat's autoreconnect), not only a failure
    /// (`--reconnect=on-error`). Either way, a session whose input has
    /// ended is not started again.
    pub reconnect_on_close: bool,
    /// `--exec`: a command that gets the connection as its stdin and
    /// stdout (the input is not read then).
    pub exec: Option<ExecSpec>,
}

impl ConnectConfig {
    /// Connects to `endpoint` with the defaults of `sockmate connect`:
    /// default socket options, the session ends when both sides are done,
    /// nothing sent but the input, no reconnect.
    pub fn new(endpoint: Endpoint) -> Self {
        ConnectConfig {
            endpoint,
            socket: SocketOptions::default(),
            session: SessionConfig::default(),
            sends: SendPlan::default(),
            reconnect: None,
            reconnect_on_close: false,
            exec: None,
        }
    }

    /// Connects again after a failure, waiting at most `max_delay` between
    /// attempts; `on_close` reconnects after a clean close too.
    pub fn reconnect(mut self, max_delay: Duration, on_close: bool) -> Self {
        self.reconnect = Some(max_delay);
        self.reconnect_on_close = on_close;
        self
    }
}

/// One connection attempt; `None` when the stop came first.
pub(super) async fn connect_once(
    cfg: &ConnectConfig,
    stop: &CancellationToken,
) -> Option<Result<Connected, NetError>> {
    tokio::select! {
        result = transport::connect(&cfg.endpoint, &cfg.socket) => Some(result),
        () = stop.cancelled() => None,
    }
}

/// Runs the session on `first` (and, with `reconnect`, on the connections
/// after it) until it is done. Returns the failure of a session that ended
/// on a network error (without `reconnect`).
pub(super) async fn run(
    first: Option<Connected>,
    cfg: ConnectConfig,
    mut input: Input,
    events: EventTx,
    registry: Registry,
    stop: CancellationToken,
) -> Result<(), NetError> {
    let Some(max_delay) = cfg.reconnect else {
        let Some(connected) = first else {
            return Ok(());
        };
        let outcome = run_session(connected, &mut input, &cfg, &events, &registry, &stop).await;
        return match outcome.error {
            Some(error) => Err(NetError::io(&cfg.endpoint, &error)),
            None => Ok(()),
        };
    };
    reconnect_loop(
        first, &cfg, max_delay, &mut input, &events, &registry, &stop,
    )
    .await;
    Ok(())
}

async fn run_session(
    connected: Connected,
    input: &mut Input,
    cfg: &ConnectConfig,
    events: &EventTx,
    registry: &Registry,
    stop: &CancellationToken,
) -> Outcome {
    let conn = ConnInfo::new(registry.next_id(), &connected.peer)
        .with_url(connected.peer.url(cfg.endpoint.kind()));
    let meter = Arc::new(Meter::new());
    let conn_stop = stop.child_token();
    let (mut control, registration) =
        registry.register(&conn, Arc::clone(&meter), conn_stop.clone());
    let _ = events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: cfg.endpoint.kind().url_of(&connected.local),
            tls: connected.connection.tls_info().map(Box::new),
            proxy: None,
            wire: Some(Box::new(Wire {
                near: Leg::new(cfg.endpoint.kind(), &connected.local, &connected.peer, true),
                far: None,
            })),
        })
        .await;
    let wiring = Wiring {
        conn: &conn,
        events,
        meter: &meter,
        stop: &conn_stop,
    };
    let outcome = match connected.connection.into_stream() {
        Ok(stream) if cfg.exec.is_some() => run_exec(stream, wiring, &mut control, cfg).await,
        Ok(stream) => session::run_stream(stream, wiring, input, &mut control, &cfg.session).await,
        Err(socket) => {
            session::run_datagram_client(&socket, wiring, input, &mut control, &cfg.session).await
        }
    };
    // Out of the registry before its close is reported.
    drop(registration);
    outcome.report_close(conn, events).await;
    outcome
}

/// `connect --exec`: the command talks to the peer; it is killed and
/// reaped when the connection ends, as with `listen --exec`.
async fn run_exec(
    stream: crate::transport::Stream,
    wiring: Wiring<'_>,
    control: &mut session::Control,
    cfg: &ConnectConfig,
) -> Outcome {
    let Some(spec) = &cfg.exec else {
        return Outcome {
            counters: wiring.meter.counters(),
            reason: CloseReason::Done,
            error: None,
            undelivered: Vec::new(),
        };
    };
    let meter = wiring.meter;
    let (mut reader, mut writer) = stream.into_split();
    let link = Link::new(
        &mut reader,
        &mut writer,
        wiring,
        control,
        cfg.session.idle_timeout,
    );
    let (reason, error) = match crate::service::exec::run(&link, spec).await {
        Ok(reason) => (reason, None),
        Err(e) => (
            CloseReason::Error(NetError::new(
                crate::error::NetErrorKind::of(&e),
                session::describe_io(&e),
            )),
            Some(e),
        ),
    };
    Outcome {
        counters: meter.counters(),
        reason,
        error,
        undelivered: Vec::new(),
    }
}

async fn notice(events: &EventTx, message: String) {
    let _ = events.emit(EventKind::Notice { message }).await;
}

/// Keeps a session going across peer restarts until the input is done or
/// the engine is stopped. Each attempt is reported as a notice.
async fn reconnect_loop(
    mut current: Option<Connected>,
    cfg: &ConnectConfig,
    max_delay: Duration,
    input: &mut Input,
    events: &EventTx,
    registry: &Registry,
    stop: &CancellationToken,
) {
    let mut delay = RECONNECT_FIRST_DELAY;
    let mut attempt = 1u64;
    let mut sessions = 0u64;
    loop {
        let connected = match current.take() {
            Some(c) => c,
            None => {
                notice(
                    events,
                    format!(
                        "reconnecting to {} (attempt {attempt}) in {}",
                        cfg.endpoint,
                        humantime::format_duration(delay)
                    ),
                )
                .await;
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = stop.cancelled() => return,
                }
                attempt += 1;
                delay = (delay * 2).min(max_delay);
                match connect_once(cfg, stop).await {
                    None => return,
                    Some(Ok(c)) => c,
                    Some(Err(e)) => {
                        notice(events, e.to_string()).await;
                        continue;
                    }
                }
            }
        };
        sessions += 1;
        if sessions > 1 {
            notice(events, format!("reconnected to {}", cfg.endpoint)).await;
        }
        delay = RECONNECT_FIRST_DELAY;
        attempt = 1;
        let mut outcome = run_session(connected, input, cfg, events, registry, stop).await;
        // What the closed connection refused goes first on the next one.
        input.replay_first(std::mem::take(&mut outcome.undelivered));
        let again = match outcome.reason {
            CloseReason::PeerClosed => cfg.reconnect_on_close && !input.ended(),
            CloseReason::Error(_) => true,
            _ => false,
        };
        match outcome.reason {
            CloseReason::PeerClosed | CloseReason::Error(_) if again => {
                notice(
                    events,
                    format!("connection to {} ended: {}", cfg.endpoint, outcome.reason),
                )
                .await;
            }
            _ => return,
        }
    }
}
