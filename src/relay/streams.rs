//! Relaying clients of a stream listener (TCP, Unix, seqpacket): one task
//! per client, each with its own connection to the target.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::{RelayConfig, DEFAULT_REPLY_LINGER};
use super::pump::{self, Dest, DumpTag, PairRules, Source};
use super::relay_conn;
use crate::error::{NetError, NetErrorKind};
use crate::event::{ConnInfo, Direction, EventTx};
use crate::session::accept::{Acceptor, Admission, Admitted, WhenFull};
use crate::session::registry::Registry;
use crate::session::Meter;
use crate::transport::{PeerAddr, Stream, StreamListener};

/// How long a target connect may still take once its client ended its
/// side (a half-close looks the same as leaving until we write).
const CLIENT_LEFT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Accepts clients until shutdown and relays each to the target.
/// Each relayed client is in `registry` (its counters, `close(id)`).
/// A relay of one client (a side that is not a socket, `--connect-first`,
/// `--listen-both`) fails when that client's target could not be reached,
/// as `socat` and `nc` do; the error line has been reported already.
pub async fn serve(
    listener: StreamListener,
    cfg: Arc<RelayConfig>,
    events: &EventTx,
    registry: &Registry,
    shutdown: &CancellationToken,
) -> Result<(), NetError> {
    let tracker = TaskTracker::new();
    let next_id = AtomicU64::new(1);
    let mut acceptor = Acceptor::new(Admission {
        max_conns: cfg.max_conns,
        access: cfg.access.clone(),
        when_full: WhenFull::Close,
    });
    // A side that is not a socket (or a dialled first side) is one client:
    // the relay ends with its session.
    let single = listener.is_single();
    let stopped = shutdown.clone();
    // Why the one client's target could not be reached, if it could not.
    let unreached_kind: Arc<OnceLock<NetErrorKind>> = Arc::default();
    while let Some(admitted) = acceptor.next(&listener, events, shutdown).await {
        let Admitted {
            stream,
            peer,
            slot: permit,
        } = admitted;
        let conn = relay_conn(
            next_id.fetch_add(1, Ordering::Relaxed),
            &peer,
            cfg.listen.kind(),
        );
        let cfg = Arc::clone(&cfg);
        let events = events.clone();
        let registry = registry.clone();
        let shutdown = shutdown.child_token();
        let unreached = Arc::clone(&unreached_kind);
        tracker.spawn(async move {
            let _permit = permit;
            let meter = Arc::new(Meter::new());
            // Bytes cannot be injected into a relayed stream: the control
            // channel is dropped (send says the connection takes none).
            let (_, registration) = registry.register(&conn, Arc::clone(&meter), shutdown.clone());
            let outcome = relay_client(stream, peer, &conn, &meter, &cfg, &events, &shutdown).await;
            // Out of the registry before its close is reported.
            drop(registration);
            match outcome {
                Ok(outcome) => outcome.report_close(conn, &events).await,
                Err(super::Unreached::Failed(kind)) => {
                    let _ = unreached.set(kind);
                }
                Err(super::Unreached::GaveUp) => {}
            }
        });
        if single {
            tracker.close();
            tokio::select! {
                () = tracker.wait() => {}
                () = stopped.cancelled() => {}
            }
            break;
        }
    }
    drop(listener);
    tracker.close();
    let _ = tokio::time::timeout(crate::shutdown::GRACE, tracker.wait()).await;
    match unreached_kind.get() {
        Some(&kind) if single => Err(NetError::reported(
            kind,
            format!("the relay's one client could not reach {}", cfg.target),
        )),
        _ => Ok(()),
    }
}

/// Connects to the target for one client and relays until both ends are
/// done; `Err` when the target could not be reached (that closes only
/// this client, with one error line) or the client was given up.
async fn relay_client(
    client: Stream,
    peer: PeerAddr,
    conn: &ConnInfo,
    meter: &Meter,
    cfg: &RelayConfig,
    events: &EventTx,
    shutdown: &CancellationToken,
) -> Result<pump::PairOutcome, super::Unreached> {
    // A client that ended its side may only have half-closed (it still
    // wants the answer): its connect gets a moment more before it is given
    // up; one that reset or closed while we wait long frees its descriptors.
    let ended = client.peer_gone();
    let gone = async move {
        ended.await;
        tokio::time::sleep(CLIENT_LEFT_GRACE).await;
    };
    let target = super::open_target(
        cfg,
        &peer,
        conn,
        events,
        shutdown,
        "closed that client",
        super::ClientFacts {
            tls: client.tls_info(),
            local: client.local_ip_addr(),
        },
        gone,
    )
    .await?;
    let (up_count, down_count) = (meter.side(Direction::In), meter.side(Direction::Out));
    let dump = |dir| cfg.dump.then_some(DumpTag { events, conn, dir });
    let client_frame = if client.capabilities().message_boundaries {
        None
    } else {
        cfg.frame
    };
    let client_half_closes = client.capabilities().half_close;
    // A command side's exit status goes into the close.
    let notes = [client.end_note(), target.connection.end_note()];
    let (client_in, client_out) = client.into_split();
    let cut = CancellationToken::new();
    let outcome = match target.connection.into_stream() {
        Ok(to) => {
            // A target that cannot carry a half-close (a serial line)
            // never ends by itself: after the client ends its writes, the
            // replies keep coming until the line is quiet, then both end.
            let lingers = !to.capabilities().half_close;
            let rules = PairRules {
                close_both: cfg.rules.close_both || lingers || !client_half_closes,
                ..cfg.rules
            };
            let (to_in, to_out) = to.into_split();
            // A WebSocket side cannot half-close: its close waits for the
            // replies to stop.
            let linger = Some((
                meter,
                cfg.rules.idle_timeout.unwrap_or(DEFAULT_REPLY_LINGER),
            ));
            let up = pump::direction_then(
                Source::Stream(client_in, None),
                Dest::Stream(to_out, None),
                &up_count,
                dump(Direction::In),
                cfg.splice,
                linger,
                &cut,
            );
            let down = pump::direction_then(
                Source::Stream(to_in, None),
                Dest::Stream(client_out, None),
                &down_count,
                dump(Direction::Out),
                cfg.splice,
                linger,
                &cut,
            );
            pump::run_pair(up, down, meter, rules, shutdown, &cut).await
        }
        Err(to) => {
            // A datagram target cannot carry a half-close: after the client
            // ends its writes, replies keep coming until the link is quiet.
            let up = async {
                let result = pump::direction(
                    Source::Stream(client_in, client_frame),
                    Dest::Datagram(&to),
                    &up_count,
                    dump(Direction::In),
                    false,
                    &cut,
                )
                .await;
                if result.is_ok() && !cfg.rules.close_both {
                    meter
                        .quiet_for(cfg.rules.idle_timeout.unwrap_or(DEFAULT_REPLY_LINGER))
                        .await;
                }
                result
            };
            let down = pump::direction(
                Source::Datagram(&to),
                Dest::Stream(client_out, client_frame),
                &down_count,
                dump(Direction::Out),
                false,
                &cut,
            );
            let rules = PairRules {
                close_both: true,
                ..cfg.rules
            };
            pump::run_pair(up, down, meter, rules, shutdown, &cut).await
        }
    };
    Ok(outcome.with_notes(notes.iter().flatten().filter_map(|n| n.get())))
}
