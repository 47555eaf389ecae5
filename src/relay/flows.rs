//! Relaying a datagram listener (UDP, Unix datagram): each client address
//! is a flow with its own connection to the target, ended after
//! `--idle-timeout` without traffic (default
//! [`DEFAULT_FLOW_IDLE`](super::config::DEFAULT_FLOW_IDLE)).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::{RelayConfig, DEFAULT_FLOW_IDLE};
use super::pump::{self, Dest, DumpTag, PairRules, Source};
use super::relay_conn;
use crate::event::{ConnInfo, Direction, EventKind, EventTx};
use crate::session::Meter;
use crate::session::MAX_DATAGRAM;
use crate::transport::{DatagramSocket, PeerAddr};

/// Most flows alive at once when `--max-conns` is not given.
pub const MAX_FLOWS: usize = 4096;

/// Datagrams queued for one flow; beyond it they are dropped, as a full
/// socket buffer would.
const FLOW_QUEUE: usize = 256;

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
    let mut flows: HashMap<PeerAddr, mpsc::Sender<Bytes>> = HashMap::new();
    let next_id = AtomicU64::new(1);
    let mut buf = BytesMut::new();
    loop {
        buf.resize(MAX_DATAGRAM, 0);
        let Some((n, peer)) =
            crate::session::accept::next_datagram(&socket, &mut buf, events, shutdown).await
        else {
            break;
        };
        buf.truncate(n);
        let mut datagram = buf.split().freeze();
        if let Some(tx) = flows.get(&peer) {
            match tx.try_send(datagram) {
                Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => continue,
                Err(mpsc::error::TrySendError::Closed(d)) => {
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
                let _ = events
                    .emit(EventKind::Notice {
                        message: format!("refused {peer}: {max_flows} flows already open"),
                    })
                    .await;
                continue;
            }
        }
        let (tx, rx) = mpsc::channel(FLOW_QUEUE);
        let _ = tx.try_send(datagram);
        flows.insert(peer.clone(), tx);
        let conn = relay_conn(next_id.fetch_add(1, Ordering::Relaxed), &peer);
        let cfg = Arc::clone(&cfg);
        let events = events.clone();
        let shutdown = shutdown.clone();
        let socket = Arc::clone(&socket);
        tracker.spawn(async move {
            relay_flow(rx, &socket, peer, conn, &cfg, &events, &shutdown).await;
        });
    }
    drop(flows);
    tracker.close();
    let _ = tokio::time::timeout(crate::shutdown::GRACE, tracker.wait()).await;
}

async fn relay_flow(
    rx: mpsc::Receiver<Bytes>,
    listener: &DatagramSocket,
    peer: PeerAddr,
    conn: ConnInfo,
    cfg: &RelayConfig,
    events: &EventTx,
    shutdown: &CancellationToken,
) {
    let Some(target) = super::open_target(
        cfg,
        &peer,
        &conn,
        events,
        shutdown,
        "dropped that flow",
        None,
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
    let outcome = match target.connection.into_stream() {
        Err(to) => {
            let up = pump::direction(
                Source::Flow(rx),
                Dest::Datagram(&to),
                &up_count,
                dump(Direction::In),
                false,
            );
            let down = pump::direction(
                Source::Datagram(&to),
                client,
                &down_count,
                dump(Direction::Out),
                false,
            );
            pump::run_pair(up, down, &meter, rules, shutdown).await
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
            );
            let down = pump::direction(
                Source::Stream(to_in, frame),
                client,
                &down_count,
                dump(Direction::Out),
                false,
            );
            pump::run_pair(up, down, &meter, rules, shutdown).await
        }
    };
    let _ = events
        .emit(EventKind::Close {
            conn,
            reason: outcome.reason,
            counters: outcome.counters,
        })
        .await;
}
