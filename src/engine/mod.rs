//! The engine: the library's front door. A program (the CLI, the browser
//! UI, a test) builds a validated config, calls [`Engine::connect`],
//! [`Engine::listen`] or [`Engine::relay`], and gets a handle it can send
//! through, close connections with, and stop; everything that happens
//! arrives as [`Event`](crate::event::Event)s on the engine's bus.
//!
//! - [`connect`]: one connection and its session (with reconnect);
//! - [`listen`]: the one listen path (one/many × stream/datagram ×
//!   plain/service), stream half;
//! - [`datagram`]: its datagram half;
//! - [`relay`] and [`transfer`]: the relay and file-transfer servers on the
//!   same accept path; [`files`]: `send`/`receive` on it; [`scan`].
//!
//! The engine never reads stdin, writes stdout or asks whether a terminal
//! is attached: inputs arrive as channels, output leaves as events.

pub mod bench;
#[doc(hidden)]
pub mod connect;
#[doc(hidden)]
pub mod datagram;
pub mod files;
#[doc(hidden)]
pub mod listen;
#[doc(hidden)]
pub mod relay;
#[doc(hidden)]
pub mod scan;
#[doc(hidden)]
pub mod transfer;

use std::sync::Arc;

use bytes::Bytes;
use tokio::task::JoinHandle;

pub use crate::session::registry::{ConnSummary, ControlError, Registry};
pub use connect::ConnectConfig;
pub use listen::{InputFactory, ListenConfig};

use crate::endpoint::Endpoint;
use crate::error::{ConfigError, NetError};
use crate::event::bus::{Bus, Sink, SinkThread, Subscriber};
use crate::event::{EventKind, EventTx};
use crate::service::Rooms;
use crate::session::Input;
use crate::shutdown::Shutdown;
use crate::transport::ws_budget::SharedBudget;

/// Why the engine could not start something.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration cannot work (exit code 2 in the CLI).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The network said no (bind, connect).
    #[error(transparent)]
    Net(#[from] NetError),
    /// A transfer cannot start (a file to send cannot be read, the
    /// receiving directory cannot be made).
    #[error(transparent)]
    Transfer(#[from] crate::transfer::error::TransferError),
}

/// The engine: an event bus and a stop signal shared by everything it
/// starts.
#[derive(Debug, Clone)]
pub struct Engine {
    bus: Bus,
    events: EventTx,
    shutdown: Shutdown,
}

impl Engine {
    /// An engine with its own event bus, stopping with `shutdown`.
    pub fn new(shutdown: Shutdown) -> Self {
        let bus = Bus::new();
        Engine {
            events: bus.sender(),
            bus,
            shutdown,
        }
    }

    /// Attaches sinks (a terminal view, a log file) that see every event in
    /// order: a sink that falls behind slows the sockets (backpressure). A
    /// sink whose output is gone (a broken pipe) stops the engine.
    pub fn attach(&self, sinks: Vec<Box<dyn Sink>>) -> std::io::Result<SinkThread> {
        self.bus.attach(sinks, self.shutdown.token().clone())
    }

    /// A lossy stream of the events (for a browser, a test): a subscriber
    /// that falls behind skips events, with a notice, and never slows a
    /// socket.
    pub fn subscribe(&self) -> Subscriber {
        self.bus.subscribe()
    }

    /// The event stream everything started here reports on.
    pub fn events(&self) -> &EventTx {
        &self.events
    }

    /// The engine's stop signal.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Stops everything this engine started.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Connects to `cfg.endpoint` and runs a session with `input` (plus the
    /// config's auto-send plan). Without `reconnect`, a failure to connect
    /// is returned here; with it, attempts go on in the background.
    pub async fn connect(&self, cfg: ConnectConfig, input: Input) -> Result<Handle, StartError> {
        let stop = self.shutdown.child();
        let schedule = cfg.sends.schedule()?;
        warn_insecure(&self.events, &cfg.endpoint, &cfg.socket).await;
        let first = match connect::connect_once(&cfg, stop.token()).await {
            Some(Ok(connected)) => Some(connected),
            Some(Err(e)) if cfg.reconnect.is_none() => return Err(e.into()),
            Some(Err(_)) | None => None,
        };
        let endpoint = cfg.endpoint.clone();
        let registry = Registry::default();
        let input = Input::scripted(schedule, input);
        let task = tokio::spawn(connect::run(
            first,
            cfg,
            input,
            self.events.clone(),
            registry.clone(),
            stop.token().clone(),
        ));
        Ok(Handle {
            endpoint,
            registry,
            stop,
            task,
        })
    }

    /// Binds `cfg.endpoint`, announces the real address (a `listening`
    /// event) and serves clients in the background through the one listen
    /// path; each client's input comes from `input`.
    pub async fn listen(
        &self,
        mut cfg: ListenConfig,
        input: InputFactory,
    ) -> Result<Handle, StartError> {
        let schedule = listen::prepare(&mut cfg)?;
        let rooms = Rooms::for_service(cfg.service.as_ref());
        if let Some(service) = &cfg.service {
            // A WebSocket's unfinished messages are bounded by --max-frame
            // and count against the server's budget, as a decoder's do.
            let mut ws = cfg.socket.ws.as_ref().clone();
            ws.max_message = Some(service.max_frame);
            ws.budget = Some(SharedBudget(Arc::clone(&rooms.buffers)));
            cfg.socket.ws = Arc::new(ws);
        }
        if let Err(e) = crate::limits::raise_nofile_limit() {
            tracing::debug!("cannot raise the open-file limit: {e}");
        }
        let (listener, real) = crate::transport::listen(&cfg.endpoint, &cfg.socket).await?;
        let _ = self
            .events
            .emit(EventKind::Listening {
                endpoint: real.to_string(),
                note: match (listener.note(), listen::startup_note(&cfg)) {
                    (Some(joined), Some(note)) => Some(format!("{joined} {note}")),
                    (joined, note) => joined.or(note),
                },
            })
            .await;
        let stop = self.shutdown.child();
        let registry = Registry::default();
        let served = Arc::new(listen::Served {
            cfg,
            local: real.to_string(),
            schedule,
            rooms,
            events: self.events.clone(),
            registry: registry.clone(),
            stop: stop.clone(),
        });
        let task = tokio::spawn(listen::serve(listener, input, served));
        Ok(Handle {
            endpoint: real,
            registry,
            stop,
            task,
        })
    }

    /// Binds `cfg.listen`, announces it, and relays every client to
    /// `cfg.target` in the background.
    pub async fn relay(&self, cfg: crate::relay::RelayConfig) -> Result<Handle, StartError> {
        relay::start(self, cfg).await
    }
}

impl Engine {
    /// Runs the load generator of `cfg` in the background (stopping with
    /// the handle or the engine): a `bench_sample` event for every second
    /// of the measured window, then the report as `bench_report`. A run
    /// that cannot connect at all ends the handle with its error. The
    /// handle's endpoint is the target (`icmp://HOST` as `udp://HOST:0`).
    pub async fn bench(&self, mut cfg: crate::bench::RunConfig) -> Result<Handle, StartError> {
        let live = Arc::clone(cfg.live.get_or_insert_with(Default::default));
        let endpoint = match &cfg.target {
            crate::bench::Target::Endpoint(endpoint) => endpoint.clone(),
            crate::bench::Target::Icmp(host) => Endpoint::Udp {
                host: host.clone(),
                port: 0,
            },
        };
        let stop = self.shutdown.child();
        let task = tokio::spawn(bench::run(
            cfg,
            live,
            self.events.clone(),
            stop.token().clone(),
        ));
        Ok(Handle {
            endpoint,
            registry: Registry::default(),
            stop,
            task,
        })
    }

    /// Pings `to` on `socket` as `cfg` says (stopping with the engine),
    /// reporting each request, reply and timeout to `on_event`; returns the
    /// statistics.
    pub async fn ping(
        &self,
        cfg: &crate::ping::PingConfig,
        socket: &crate::ping::IcmpSocket,
        to: std::net::SocketAddr,
        on_event: impl FnMut(&crate::ping::run::PingEvent),
    ) -> crate::ping::stats::Stats {
        crate::ping::run::run(cfg, socket, to, self.shutdown.token(), on_event).await
    }

    /// Resolves the host of `cfg` and probes its ports in the background:
    /// each port is reported in port order as a `scan_port` event, then the
    /// totals as `scan_done` (not when stopped first). The handle's
    /// endpoint is the host.
    pub async fn scan(&self, cfg: crate::scan::config::ScanConfig) -> Result<Handle, StartError> {
        let ip = scan::resolve(&cfg).await?;
        let stop = self.shutdown.child();
        let task = tokio::spawn(scan::run(
            cfg.clone(),
            ip,
            self.events.clone(),
            stop.token().clone(),
        ));
        Ok(Handle {
            endpoint: scan::endpoint(&cfg, ip),
            registry: Registry::default(),
            stop,
            task,
        })
    }
}

/// A running connect, listener or relay: what it is bound or connected to,
/// its live connections, and its stop.
#[derive(Debug)]
pub struct Handle {
    endpoint: Endpoint,
    registry: Registry,
    stop: Shutdown,
    task: JoinHandle<Result<(), NetError>>,
}

/// What a front-end may do with a running handle's connections while
/// something else waits for it to finish (the console, live counters):
/// list them, send to one, close one, stop it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Remote {
    registry: Registry,
    stop: Shutdown,
}

impl Remote {
    /// The live connections, by id.
    pub fn connections(&self) -> Vec<ConnSummary> {
        self.registry.connections()
    }

    /// Sends `bytes` on connection `id` only.
    pub async fn send(&self, id: u64, bytes: Bytes) -> Result<(), ControlError> {
        self.registry.send(id, bytes).await
    }

    /// Closes connection `id` only.
    pub fn close(&self, id: u64) -> Result<(), ControlError> {
        self.registry.close(id)
    }

    /// Stops the listener, connect or relay behind the handle (as
    /// [`Handle::stop`]).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Handle {
    /// A [`Remote`] on this handle's connections.
    pub fn remote(&self) -> Remote {
        Remote {
            registry: self.registry.clone(),
            stop: self.stop.clone(),
        }
    }

    /// The real local address of a listener (port 0 resolved), or the
    /// endpoint a client connected to.
    pub fn local_addr(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The live connections, by id.
    pub fn connections(&self) -> Vec<ConnSummary> {
        self.registry.connections()
    }

    /// Sends `bytes` on connection `id` only.
    pub async fn send(&self, id: u64, bytes: Bytes) -> Result<(), ControlError> {
        self.registry.send(id, bytes).await
    }

    /// Closes connection `id` only (it reports its `close` event).
    pub fn close(&self, id: u64) -> Result<(), ControlError> {
        self.registry.close(id)
    }

    /// Stops this listener, connect or relay (not the rest of the engine):
    /// no new clients; connections get the grace period to finish.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Waits until it has finished; the error of a single session that
    /// failed on the network.
    pub async fn finished(self) -> Result<(), NetError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(NetError::new(
                crate::error::NetErrorKind::Other,
                format!("internal error: {e}"),
            )),
        }
    }
}

/// Says on the status stream that `--insecure` turns verification off,
/// when it does for `endpoint`.
pub(super) async fn warn_insecure(
    events: &EventTx,
    endpoint: &crate::Endpoint,
    socket: &crate::transport::SocketOptions,
) {
    if let Some(message) = crate::transport::tls::insecure_warning(endpoint, &socket.tls) {
        let _ = events.emit(EventKind::Notice { message }).await;
    }
}
