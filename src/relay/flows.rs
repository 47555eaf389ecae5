//! Relaying a datagram listener (UDP, Unix datagram): each client address
//! is a flow with its own connection to the target, ended after
//! `--idle-timeout` without traffic (default
//! [`DEFAULT_FLOW_IDLE`](super::config::DEFAULT_FLOW_IDLE)).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::{RelayConfig, DEFAULT_FLOW_IDLE};
use super::pump::{self, Dest, DumpTag, PairRules, Source};
use super::relay_conn;
use crate::event::repeats::{thousands, Repeats};
use crate::event::{ConnInfo, Direction, EventKind, EventTx};
use crate::session::Meter;
use crate::session::MAX_DATAGRAM;
use crate::transport::{DatagramSocket, PeerAddr};

/// Most flows alive at once when `--max-conns` is not given.
pub const MAX_FLOWS: usize = 4096;

/// Datagrams queued for one flow; beyond it they are dropped, as a full
/// socket buffer would.
const FLOW_QUEUE: usize = 256;

/// Bytes queued for one flow (its target still connecting, or slow);
/// beyond it datagrams are dropped.
pub const FLOW_QUEUE_BYTES: usize = 256 * 1024;

/// Bytes queued over all flows; beyond it datagrams are dropped.
pub const TOTAL_QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// The receiving end of one flow's queue: gives back the bytes it takes to
/// the flow's and the relay's byte budgets.
#[derive(Debug)]
pub struct FlowRx {
    rx: mpsc::Receiver<Bytes>,
    queued: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
}

impl FlowRx {
    /// The next datagram, `None` once the relay dropped the flow.
    pub async fn recv(&mut self) -> Option<Bytes> {
        let datagram = self.rx.recv().await?;
        self.queued.fetch_sub(datagram.len(), Ordering::Relaxed);
        self.total.fetch_sub(datagram.len(), Ordering::Relaxed);
        Some(datagram)
    }
}

/// The sending end of one flow's queue.
struct FlowTx {
    tx: mpsc::Sender<Bytes>,
    queued: Arc<AtomicUsize>,
}

/// Why a datagram was not queued.
enum Refused {
    /// Over a budget or the queue is full: dropped.
    Full,
    /// The flow has ended: start a new one.
    Closed(Bytes),
}

impl FlowTx {
    /// Queues `datagram` within both byte budgets, or drops it.
    fn offer(&self, datagram: Bytes, total: &AtomicUsize) -> Result<(), Refused> {
        let len = datagram.len();
        if self.queued.load(Ordering::Relaxed) + len > FLOW_QUEUE_BYTES
            || total.load(Ordering::Relaxed) + len > TOTAL_QUEUE_BYTES
        {
            return if self.tx.is_closed() {
                Err(Refused::Closed(datagram))
            } else {
                Err(Refused::Full)
            };
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        total.fetch_add(len, Ordering::Relaxed);
        match self.tx.try_send(datagram) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.queued.fetch_sub(len, Ordering::Relaxed);
                total.fetch_sub(len, Ordering::Relaxed);
                match e {
                    mpsc::error::TrySendError::Full(_) => Err(Refused::Full),
                    mpsc::error::TrySendError::Closed(d) => Err(Refused::Closed(d)),
                }
            }
        }
    }

    fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The summary of `held` refusals not shown one by one.
fn more_refused(held: u64, max_flows: usize) -> String {
    format!(
        "… and {} more refused: {max_flows} flows already open",
        thousands(held)
    )
}

/// Sleeps until `due` (forever when `None`; the caller does not poll it then).
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Receives datagrams until shutdown and relays each client's flow.
pub async fn serve(
    socket: DatagramSocket,
    cfg: Arc<RelayConfig>,
    events: &EventTx,
    shutdown: &CancellationToken,
) {
    let socket = Arc::new(socket);
    let tracker = TaskTracker::new();
    let max_flows = cfg.max_conns.unwrap_or(MAX_FLOWS);
    let mut flows: HashMap<PeerAddr, FlowTx> = HashMap::new();
    let total = Arc::new(AtomicUsize::new(0));
    let next_id = AtomicU64::new(1);
    let mut buf = BytesMut::new();
    // A flood beyond the flow limit: one line, then a summary per second.
    let mut refusals = Repeats::default();
    loop {
        buf.resize(MAX_DATAGRAM, 0);
        let due = refusals.due();
        let received = tokio::select! {
            received = crate::session::accept::next_datagram(&socket, &mut buf, events, shutdown) => received,
            () = sleep_until(due), if due.is_some() => {
                let held = refusals.take_held(Instant::now());
                let _ = events
                    .emit(EventKind::Notice {
                        message: more_refused(held, max_flows),
                    })
                    .await;
                continue;
            }
        };
        let Some((n, peer)) = received else {
            break;
        };
        // Copied at its size: a split of the receive buffer would pin all
        // 64 KiB of it for each queued datagram.
        let mut datagram = Bytes::copy_from_slice(&buf[..n]);
        if let Some(tx) = flows.get(&peer) {
            match tx.offer(datagram, &total) {
                Ok(()) | Err(Refused::Full) => continue,
                Err(Refused::Closed(d)) => {
                    flows.remove(&peer);
                    datagram = d;
                }
            }
        }
        if !cfg.access.permits(&peer) {
            let _ = events
                .emit(EventKind::Notice {
                    message: format!("refused {peer}: not allowed by --allow/--deny"),
                })
                .await;
            continue;
        }
        if flows.len() >= max_flows {
            flows.retain(|_, tx| !tx.is_closed());
            if flows.len() >= max_flows {
                let now = Instant::now();
                if refusals.occur(now) {
                    let _ = events
                        .emit(EventKind::Notice {
                            message: format!("refused {peer}: {max_flows} flows already open"),
                        })
                        .await;
                }
                continue;
            }
        }
        let (tx, rx) = mpsc::channel(FLOW_QUEUE);
        let queued = Arc::new(AtomicUsize::new(0));
        let tx = FlowTx {
            tx,
            queued: Arc::clone(&queued),
        };
        let rx = FlowRx {
            rx,
            queued,
            total: Arc::clone(&total),
        };
        let _ = tx.offer(datagram, &total);
        flows.insert(peer.clone(), tx);
        let conn = relay_conn(
            next_id.fetch_add(1, Ordering::Relaxed),
            &peer,
            cfg.listen.kind(),
        );
        let cfg = Arc::clone(&cfg);
        let events = events.clone();
        let shutdown = shutdown.clone();
        let socket = Arc::clone(&socket);
        tracker.spawn(async move {
            relay_flow(rx, &socket, peer, conn, &cfg, &events, &shutdown).await;
        });
    }
    let held = refusals.take_held(Instant::now());
    if held > 0 {
        let _ = events
            .emit(EventKind::Notice {
                message: more_refused(held, max_flows),
            })
            .await;
    }
    drop(flows);
    tracker.close();
    let _ = tokio::time::timeout(crate::shutdown::GRACE, tracker.wait()).await;
}

async fn relay_flow(
    rx: FlowRx,
    listener: &DatagramSocket,
    peer: PeerAddr,
    conn: ConnInfo,
    cfg: &RelayConfig,
    events: &EventTx,
    shutdown: &CancellationToken,
) {
    let Ok(target) = super::open_target(
        cfg,
        &peer,
        &conn,
        events,
        shutdown,
        "dropped that flow",
        super::ClientFacts::default(),
        std::future::pending(),
    )
    .await
    else {
        return;
    };
    let meter = Meter::new();
    let (up_count, down_count) = (meter.side(Direction::In), meter.side(Direction::Out));
    let dump = |dir| {
        cfg.dump.then_some(DumpTag {
            events,
            conn: &conn,
            dir,
        })
    };
    // A flow has no end of its own: it ends when the target side ends or
    // when it goes quiet.
    let rules = PairRules {
        close_both: true,
        idle_timeout: Some(cfg.rules.idle_timeout.unwrap_or(DEFAULT_FLOW_IDLE)),
    };
    let client = Dest::Flow(listener, &peer);
    let cut = CancellationToken::new();
    let outcome = match target.connection.into_stream() {
        Err(to) => {
            let up = pump::direction(
                Source::Flow(rx),
                Dest::Datagram(&to),
                &up_count,
                dump(Direction::In),
                false,
                &cut,
            );
            let down = pump::direction(
                Source::Datagram(&to),
                client,
                &down_count,
                dump(Direction::Out),
                false,
                &cut,
            );
            pump::run_pair(up, down, &meter, rules, shutdown, &cut).await
        }
        Ok(to) => {
            let frame = if to.capabilities().message_boundaries {
                None
            } else {
                cfg.frame
            };
            let (to_in, to_out) = to.into_split();
            let up = pump::direction(
                Source::Flow(rx),
                Dest::Stream(to_out, frame),
                &up_count,
                dump(Direction::In),
                false,
                &cut,
            );
            let down = pump::direction(
                Source::Stream(to_in, frame),
                client,
                &down_count,
                dump(Direction::Out),
                false,
                &cut,
            );
            pump::run_pair(up, down, &meter, rules, shutdown, &cut).await
        }
    };
    outcome.report_close(conn, events).await;
}
