//! `scan` as an engine start: the probes run in the background and report
//! each port (in port order, as [`EventKind::ScanPort`]) and the totals
//! ([`EventKind::ScanDone`]) on the engine's bus, so the command line, the
//! browser page and a program see the same events.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::endpoint::{Endpoint, Host};
use crate::error::NetError;
use crate::event::{EventKind, EventTx, ScanPort, ScanTotals};
use crate::scan::config::ScanConfig;
use crate::scan::probe::PortState;

/// Resolves the host of `cfg`: the address every probe goes to.
pub(super) async fn resolve(cfg: &ScanConfig) -> Result<IpAddr, NetError> {
    let addrs = crate::transport::resolve(&cfg.host, 0).await?;
    addrs.first().map(SocketAddr::ip).ok_or_else(|| {
        NetError::new(
            crate::error::NetErrorKind::Resolve,
            format!("{} has no address to probe", cfg.host_text),
        )
    })
}

/// What a scan handle names: the host, as a TCP or UDP endpoint.
pub(super) fn endpoint(cfg: &ScanConfig, ip: IpAddr) -> Endpoint {
    let host = Host::Ip(ip);
    match cfg.udp {
        true => Endpoint::Udp { host, port: 0 },
        false => Endpoint::Tcp { host, port: 0 },
    }
}

/// Probes every port of `cfg` on `ip` and reports them in port order, then
/// the totals; without the totals when `stop` came first.
pub(super) async fn run(
    cfg: ScanConfig,
    ip: IpAddr,
    events: EventTx,
    stop: CancellationToken,
) -> Result<(), NetError> {
    let proto = if cfg.udp { "udp" } else { "tcp" };
    let started = Instant::now();
    let mut rx = crate::scan::run::start(&cfg, ip, &stop);
    // Results come in completion order: hold each until every lower port
    // is known.
    let mut pending: Vec<Option<PortState>> = vec![None; cfg.ports.len()];
    let mut reported = 0;
    let mut totals = ScanTotals {
        host: cfg.host_text.clone(),
        ip: ip.to_string(),
        proto: proto.into(),
        ports: cfg.ports.len(),
        open: 0,
        closed: 0,
        filtered: 0,
        open_filtered: 0,
        errors: 0,
        duration_s: 0.0,
    };
    while let Some((index, state)) = rx.recv().await {
        if let Some(slot) = pending.get_mut(index) {
            *slot = Some(state);
        }
        while let Some(state) = pending.get_mut(reported).and_then(Option::take) {
            let port = cfg.ports[reported];
            reported += 1;
            count(&mut totals, &state);
            if cfg.only_open && state != PortState::Open {
                continue;
            }
            let error = match &state {
                PortState::Error(message) => Some(message.clone()),
                _ => None,
            };
            let result = ScanPort {
                host: cfg.host_text.clone(),
                ip: ip.to_string(),
                port,
                proto: proto.into(),
                state: state.as_str().into(),
                peer: format!("{proto}://{}", SocketAddr::new(ip, port)),
                error,
            };
            if events
                .emit(EventKind::ScanPort(Box::new(result)))
                .await
                .is_err()
            {
                return Ok(());
            }
        }
    }
    if reported == cfg.ports.len() && !stop.is_cancelled() {
        totals.duration_s = started.elapsed().as_secs_f64();
        let _ = events.emit(EventKind::ScanDone(Box::new(totals))).await;
    }
    Ok(())
}

fn count(totals: &mut ScanTotals, state: &PortState) {
    match state {
        PortState::Open => totals.open += 1,
        PortState::Closed => totals.closed += 1,
        PortState::Filtered => totals.filtered += 1,
        PortState::OpenFiltered => totals.open_filtered += 1,
        PortState::Error(_) => totals.errors += 1,
    }
}
