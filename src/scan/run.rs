//! Running a scan: `concurrency` workers take the next port to probe from a
//! shared counter and report `(index, state)` on a bounded channel; the
//! caller orders and shows them.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::config::{default_concurrency, ScanConfig};
use super::probe::{probe_tcp, probe_udp, PortState};

/// Results queued between the probes and whoever shows them.
pub const RESULT_QUEUE: usize = 1024;

/// Starts probing every port of `cfg` on `ip`; results arrive as
/// `(index into cfg.ports, state)`, in completion order. The channel
/// closes when all are done or `stop` is cancelled.
pub fn start(
    cfg: &ScanConfig,
    ip: IpAddr,
    stop: &CancellationToken,
) -> mpsc::Receiver<(usize, PortState)> {
    let concurrency = cfg
        .concurrency
        .unwrap_or_else(default_concurrency)
        .min(cfg.ports.len())
        .max(1);
    let ports = Arc::new(cfg.ports.clone());
    let payload = Arc::new(cfg.payload.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel::<(usize, PortState)>(RESULT_QUEUE);
    for _ in 0..concurrency {
        let (ports, payload, next, tx) = (ports.clone(), payload.clone(), next.clone(), tx.clone());
        let (udp, timeout, stop) = (cfg.udp, cfg.timeout, stop.clone());
        tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(&port) = ports.get(index) else { break };
                let addr = SocketAddr::new(ip, port);
                let probe = async {
                    if udp {
                        probe_udp(addr, &payload, timeout).await
                    } else {
                        probe_tcp(addr, timeout).await
                    }
                };
                let state = tokio::select! {
                    state = probe => state,
                    () = stop.cancelled() => break,
                };
                if tx.send((index, state)).await.is_err() {
                    break;
                }
            }
        });
    }
    rx
}
