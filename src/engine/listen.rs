//! The one listen path: every combination of one client or many, stream or
//! datagram, plain session or service goes through `serve`. A stream
//! listener accepts through the shared [`Acceptor`] (admission, back-off);
//! each client runs a plain session (its input from the [`InputFactory`]
//! plus the auto-send plan) or the configured service; every connection is
//! registered so a handle can send to it or close it.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{broadcast, OwnedSemaphorePermit};

use super::datagram::serve_datagrams;
use crate::endpoint::Endpoint;
use crate::error::{ConfigError, NetError};
use crate::event::leg::{Leg, Wire};
use crate::event::{ConnInfo, EventKind, EventTx};
use crate::send::{Schedule, SendPlan};
use crate::service::proxy::ProxyServer;
use crate::service::{Link, Rooms, ServiceConfig};
use crate::session::accept::{Acceptor, Admission, Admitted};
use crate::session::registry::{Registration, Registry};
use crate::session::{self, Input, Meter, SessionConfig, Wiring};
use crate::shutdown::Shutdown;
use crate::transport::{Listener, SocketOptions, Stream, StreamListener};

/// Everything `listen` needs, validated; buildable without clap: start from
/// [`ListenConfig::new`] and change what differs.
///
/// ```
/// use sockmate::{ListenConfig, Endpoint};
/// use sockmate::service::{Serve, ServiceConfig};
/// let cfg = ListenConfig::new(Endpoint::parse_listen("127.0.0.1:0").unwrap())
///     .keep_open(true)
///     .service(ServiceConfig::serving(Serve::Echo));
/// assert!(cfg.keep_open);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListenConfig {
    /// Where to listen.
    pub endpoint: Endpoint,
    /// Socket options.
    pub socket: SocketOptions,
    /// How plain sessions end (`--wait`, `--idle-timeout`, end on the
    /// peer's EOF).
    pub session: SessionConfig,
    /// Serve many clients at once and keep running (`-k`).
    pub keep_open: bool,
    /// What is sent to each client besides its input (`--send`, auto-send).
    pub sends: SendPlan,
    /// What the server does with messages (`--serve`, `--reply`…); `None`
    /// for a plain session (what clients send is shown, the input is sent).
    pub service: Option<ServiceConfig>,
    /// Who is served and how many at once (`--max-conns`, `--allow`, `--deny`).
    pub admission: Admission,
}

impl ListenConfig {
    /// Listens on `endpoint` with the defaults of `sockmate listen`: one
    /// client, a plain session, default socket options, nothing sent
    /// but the input, everyone admitted.
    pub fn new(endpoint: Endpoint) -> Self {
        ListenConfig {
            endpoint,
            socket: SocketOptions::default(),
            session: SessionConfig::default(),
            keep_open: false,
            sends: SendPlan::default(),
            service: None,
            admission: Admission::default(),
        }
    }

    /// Serves many clients at once and keeps running (`-k`).
    pub fn keep_open(mut self, keep_open: bool) -> Self {
        self.keep_open = keep_open;
        self
    }

    /// Answers clients with a service (`--serve`, `--reply`, …) instead of
    /// a plain session.
    pub fn service(mut self, service: ServiceConfig) -> Self {
        self.service = Some(service);
        self
    }

    /// Admits clients by these rules (`--max-conns`, `--allow`, `--deny`).
    pub fn admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        self
    }
}

/// Where each client's input comes from.
#[derive(Debug)]
pub enum InputFactory {
    /// The first client gets this input (stdin, like `nc -l`); later ones
    /// get nothing.
    First(Option<Input>),
    /// Every client reads the same lines (stdin lines with `-k`); a client
    /// that falls behind skips lines.
    Broadcast(broadcast::Sender<Bytes>),
    /// No input: clients get only the auto-send plan and `handle.send`.
    Nothing,
    /// No input that ever ends ([`Input::Open`]): clients get `handle.send`
    /// and stay until they, the user or an idle timeout end them.
    Open,
}

impl InputFactory {
    /// The first client gets `input`.
    pub fn first(input: Input) -> Self {
        InputFactory::First(Some(input))
    }

    /// The input of the next client.
    pub fn for_client(&mut self) -> Input {
        match self {
            InputFactory::First(input) => input.take().unwrap_or(Input::Nothing),
            InputFactory::Broadcast(tx) => Input::Broadcast(tx.subscribe()),
            InputFactory::Nothing => Input::Nothing,
            InputFactory::Open => Input::Open,
        }
    }
}

/// What a running listener shares with its connection tasks.
pub(super) struct Served {
    pub cfg: ListenConfig,
    /// The bound address (port 0 resolved), the `local` of every `open`.
    pub local: String,
    pub schedule: Option<Schedule>,
    pub rooms: Rooms,
    pub events: EventTx,
    pub registry: Registry,
    pub stop: Shutdown,
}

/// Checks and loads what a listener needs before it binds (respond files,
/// send files), so a mistake is a configuration error before anything runs.
pub(super) fn prepare(cfg: &mut ListenConfig) -> Result<Option<Schedule>, ConfigError> {
    if let Some(service) = cfg.service.as_mut() {
        service.load_rules_file()?;
        // `--serve socks5|http-proxy` without settings: the defaults.
        if let (Some(protocol), None) = (
            service.serve.and_then(|s| s.proxy_protocol()),
            &service.proxy,
        ) {
            service.proxy = Some(Arc::new(crate::service::proxy::ProxyServer::new(protocol)));
        }
    }
    // A `-k` client's end ends its session (others may still be talking).
    cfg.session.end_on_peer_eof |= cfg.keep_open;
    cfg.sends.schedule()
}

/// The startup note of a listener (e.g. that `--exec` is on).
pub(super) fn startup_note(cfg: &ListenConfig) -> Option<String> {
    cfg.service.as_ref().and_then(ServiceConfig::startup_note)
}

/// Serves a bound listener until it is stopped (or, without `keep_open`,
/// until its one client is done).
pub(super) async fn serve(
    listener: Listener,
    input: InputFactory,
    served: Arc<Served>,
) -> Result<(), NetError> {
    match listener.into_stream() {
        Ok(listener) => serve_streams(listener, input, served).await,
        Err(socket) => serve_datagrams(socket, input, served).await,
    }
}

async fn serve_streams(
    listener: StreamListener,
    mut input: InputFactory,
    served: Arc<Served>,
) -> Result<(), NetError> {
    let mut acceptor = Acceptor::new(served.cfg.admission.clone());
    let stop = served.stop.token().clone();
    // A proxy server serves client after client, as with `keep_open`.
    let proxy = served.cfg.service.as_ref().and_then(|s| s.proxy.clone());
    while let Some(admitted) = acceptor.next(&listener, &served.events, &stop).await {
        if let Some(proxy) = &proxy {
            let (proxy, client_served) = (Arc::clone(proxy), Arc::clone(&served));
            served.stop.spawn(async move {
                serve_proxied(admitted, &proxy, &client_served).await;
            });
            continue;
        }
        // A service does not read the command's input: its task does not
        // carry one.
        let client_input = served
            .cfg
            .service
            .is_none()
            .then(|| Box::new(input.for_client()));
        if !served.cfg.keep_open {
            drop(listener);
            return serve_client(admitted, client_input, Arc::clone(&served)).await;
        }
        served
            .stop
            .spawn(serve_client(admitted, client_input, Arc::clone(&served)));
    }
    drop(listener);
    let busy = served.stop.drain().await;
    if busy > 0 {
        let _ = served
            .events
            .emit(EventKind::Notice {
                message: format!(
                    "{busy} connections still busy after {:?}; closing them",
                    crate::shutdown::GRACE
                ),
            })
            .await;
    }
    Ok(())
}

/// Runs one client: registers it, reports it opening, runs its plain
/// session (with its `input`; None for a service) or its service, reports
/// it closing. A plain single-client session that fails returns the
/// failure (the command's exit status).
async fn serve_client(
    admitted: Admitted,
    input: Option<Box<Input>>,
    served: Arc<Served>,
) -> Result<(), NetError> {
    let Admitted { stream, peer, slot } = admitted;
    let conn = ConnInfo::new(served.registry.next_id(), &peer)
        .with_url(peer.url(served.cfg.endpoint.kind()));
    let meter = Arc::new(Meter::new());
    let stop = served.stop.token().child_token();
    let (mut control, registration) =
        served
            .registry
            .register(&conn, Arc::clone(&meter), stop.clone());
    let events = &served.events;
    let _ = events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: served.cfg.endpoint.kind().url_of(&served.local),
            tls: stream.tls_info().map(Box::new),
            proxy: None,
            wire: Some(Box::new(Wire {
                near: Leg::new(
                    served.cfg.endpoint.kind(),
                    // The address the client reached (on a 0.0.0.0 listener).
                    &stream
                        .local_ip_addr()
                        .map_or_else(|| served.local.clone(), |a| a.to_string()),
                    &peer,
                    false,
                ),
                far: None,
            })),
        })
        .await;
    let wiring = Wiring {
        conn: &conn,
        events,
        meter: &meter,
        stop: &stop,
    };
    match &served.cfg.service {
        Some(service) => {
            let reason = serve_service(stream, wiring, &mut control, service, &served.rooms).await;
            // Out of the registry, and its --max-conns slot free, before
            // its close is reported (a client told of the close may connect
            // at once).
            drop((registration, slot));
            let _ = events
                .emit(EventKind::Close {
                    conn: conn.clone(),
                    reason,
                    counters: meter.counters(),
                })
                .await;
            Ok(())
        }
        // Boxed: the plain session's state is large, and a server of many
        // idle service clients should not pay for it.
        None => {
            Box::pin(serve_session(
                stream,
                wiring,
                input.map_or(Input::Nothing, |input| *input),
                control,
                (registration, slot),
                &served,
            ))
            .await
        }
    }
}

/// Runs one client's plain session (no service) and reports its close;
/// `held` (its registration and `--max-conns` slot) is let go first.
async fn serve_session(
    stream: Stream,
    wiring: Wiring<'_>,
    input: Input,
    mut control: session::Control,
    held: (Registration, Option<OwnedSemaphorePermit>),
    served: &Served,
) -> Result<(), NetError> {
    let mut input = Input::scripted(served.schedule.clone(), input);
    let outcome = session::run_stream(
        stream,
        wiring,
        &mut input,
        &mut control,
        &served.cfg.session,
    )
    .await;
    drop(held);
    let conn = wiring.conn;
    outcome.report_close(conn.clone(), wiring.events).await;
    match outcome.error {
        Some(error) if !served.cfg.keep_open => {
            Err(NetError::io(format_args!("{}", conn.peer), &error))
        }
        _ => Ok(()),
    }
}

/// Runs one client of a proxy server (`--serve socks5|http-proxy`):
/// labelled `#ID CLIENT` like a relayed connection, reported open once its
/// target is reached and closed with the tunnel's counters.
async fn serve_proxied(admitted: Admitted, proxy: &ProxyServer, served: &Served) {
    let Admitted { stream, peer, slot } = admitted;
    let conn =
        crate::relay::relay_conn(served.registry.next_id(), &peer, served.cfg.endpoint.kind());
    let meter = Arc::new(Meter::new());
    let stop = served.stop.token().child_token();
    // Bytes cannot be injected into a tunnel: the control channel is
    // dropped (send says the connection takes none).
    let (_, registration) = served
        .registry
        .register(&conn, Arc::clone(&meter), stop.clone());
    let client = crate::service::proxy::Client {
        conn: &conn,
        events: &served.events,
        meter: &meter,
        stop: &stop,
        local: &served.local,
        kind: served.cfg.endpoint.kind(),
        idle_timeout: served.cfg.service.as_ref().and_then(|s| s.idle_timeout),
    };
    let outcome = crate::service::proxy::serve(stream, &peer, proxy, client).await;
    drop((registration, slot));
    if let Some(outcome) = outcome {
        let _ = served
            .events
            .emit(EventKind::Close {
                conn,
                reason: outcome.reason,
                counters: outcome.counters,
            })
            .await;
    }
}

/// A service connection's run: the link over the stream's halves and the
/// service.
async fn serve_service(
    stream: Stream,
    wiring: Wiring<'_>,
    control: &mut session::Control,
    service: &ServiceConfig,
    rooms: &Rooms,
) -> crate::event::CloseReason {
    let (mut reader, mut writer) = stream.into_split();
    let link = Link::new(
        &mut reader,
        &mut writer,
        wiring,
        control,
        service.idle_timeout,
    );
    let reason = crate::service::serve_connection(&link, service, rooms).await;
    // Rare, and bounded: off the connection's task, whose future stays small.
    if let Some(linger) = crate::transport::stream::close_lingering(reader, writer) {
        tokio::spawn(linger);
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::accept::Admitted;

    /// Each connection's task holds this future; with 10,000 idle clients
    /// its size is most of the memory per connection, so keep it small
    /// (a service connection: the link over both halves, the registry
    /// entry, the message loop's state; 2616 since the TLS and WebSocket
    /// halves joined the stream kinds; and since issue 15 its writes under
    /// the idle/shutdown select and its share of the buffer budget, with
    /// 19,000 idle echo connections at 5.2 KB each; since issue 21 the
    /// message loop's whole WebSocket message (kind and shared buffer) and
    /// its budget for a buffer's growth; since issue 25 the sockets under
    /// the connection in its `open`, for `--pcap`; since issue 23 the
    /// peer's endpoint URL beside its printed name in every `ConnInfo` it
    /// holds, and the kind of each message: 2984 -> 3048 bytes, about 1 % of
    /// the 5.2 KB an idle echo connection costs). Issue 24 shrank it to
    /// 2088: an emit no longer holds its event while it waits, writes and
    /// idle timers are boxed, a service's task carries no session input
    /// (with the control queue made on first use, 19,000 idle echo
    /// connections went from 5.9 to 3.4 KB each).
    const MAX_CONNECTION_FUTURE: usize = 2176;

    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let opts = SocketOptions::default();
        let endpoint: Endpoint = "tcp://127.0.0.1:0".parse().unwrap();
        let (listener, real) = crate::transport::listen(&endpoint, &opts).await.unwrap();
        let listener = listener.into_stream().unwrap();
        let _client = crate::transport::connect(&real, &opts).await.unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let served = Arc::new(Served {
            cfg: ListenConfig {
                endpoint: "tcp://127.0.0.1:1".parse().unwrap(),
                socket: SocketOptions::default(),
                session: SessionConfig::default(),
                keep_open: true,
                sends: SendPlan::default(),
                service: None,
                admission: Admission::default(),
            },
            local: "tcp://127.0.0.1:1".into(),
            schedule: None,
            rooms: Rooms::default(),
            events: crate::event::bus::Bus::new().sender(),
            registry: Registry::default(),
            stop: Shutdown::new(),
        });
        let admitted = Admitted {
            stream,
            peer,
            slot: None,
        };
        let task = serve_client(admitted, None, served);
        let size = std::mem::size_of_val(&task);
        assert!(size <= MAX_CONNECTION_FUTURE, "{size} bytes");
    }
}
