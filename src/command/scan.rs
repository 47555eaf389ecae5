//! `sockmate scan HOST PORTS`: concurrent TCP connect (or UDP) probes,
//! results printed in port order. Exit status 0 when at least one port is
//! open, 1 when none is (or the host cannot be resolved), 2 on bad usage.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;
use tokio::sync::mpsc;

use super::Context;
use crate::endpoint::Host;
use crate::scan::probe::{probe_tcp, probe_udp, PortState};
use crate::transport;

/// Probes in flight at once unless `--concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 1000;

/// File descriptors kept free for everything else when the default
/// concurrency is fitted under the open-file limit.
pub const RESERVED_FDS: u64 = 64;

/// Results queued between the probes and the printer.
const RESULT_QUEUE: usize = 1024;

/// Everything `scan` needs, validated.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// The host to probe.
    pub host: Host,
    /// The host as the user wrote it, for display.
    pub host_text: String,
    /// Ports to probe, sorted and distinct.
    pub ports: Vec<u16>,
    /// Per-probe timeout.
    pub timeout: Duration,
    /// Probes at once; `None` for the default fitted to the fd limit.
    pub concurrency: Option<usize>,
    /// Show only open ports.
    pub only_open: bool,
    /// JSON lines instead of text.
    pub json: bool,
    /// UDP probes instead of TCP.
    pub udp: bool,
    /// The UDP probe datagram.
    pub payload: Vec<u8>,
    /// No summary line.
    pub quiet: bool,
}

/// The default concurrency: [`DEFAULT_CONCURRENCY`], lowered so that the
/// probes fit under the soft open-file limit.
pub fn default_concurrency() -> usize {
    let limit = open_file_limit().unwrap_or(1024);
    let fit = limit.saturating_sub(RESERVED_FDS).max(1);
    DEFAULT_CONCURRENCY.min(usize::try_from(fit).unwrap_or(usize::MAX))
}

#[allow(unsafe_code)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer to a
    // stack value we own and has no other effect.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0).then_some(limit.rlim_cur)
}

/// Runs the scan.
pub async fn run(cfg: ScanConfig, ctx: &Context) -> anyhow::Result<()> {
    let ip = transport::resolve(&cfg.host, 0).await?[0].ip();
    let proto = if cfg.udp { "udp" } else { "tcp" };
    let concurrency = cfg
        .concurrency
        .unwrap_or_else(default_concurrency)
        .min(cfg.ports.len())
        .max(1);
    let started = Instant::now();
    let ports = Arc::new(cfg.ports.clone());
    let payload = Arc::new(cfg.payload.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel::<(usize, PortState)>(RESULT_QUEUE);
    for _ in 0..concurrency {
        let (ports, payload, next, tx) = (ports.clone(), payload.clone(), next.clone(), tx.clone());
        let (udp, timeout, shutdown) = (cfg.udp, cfg.timeout, ctx.shutdown.clone());
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
                    () = shutdown.cancelled() => break,
                };
                if tx.send((index, state)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    // Print in port order: hold results until every lower port is known.
    let mut pending: Vec<Option<PortState>> = vec![None; ports.len()];
    let mut printed = 0;
    let mut counts = [0usize; 5];
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    while let Some((index, state)) = rx.recv().await {
        pending[index] = Some(state);
        while let Some(state) = pending.get_mut(printed).and_then(Option::take) {
            let port = ports[printed];
            counts[state_slot(&state)] += 1;
            if !cfg.only_open || state == PortState::Open {
                let line = if cfg.json {
                    let mut value = json!({"host": cfg.host_text, "ip": ip.to_string(), "port": port, "proto": proto, "state": state.as_str()});
                    if let PortState::Error(message) = &state {
                        value["error"] = json!(message);
                    }
                    value.to_string()
                } else {
                    format!("{:<11} {state}", format!("{port}/{proto}"))
                };
                if writeln!(out, "{line}").is_err() {
                    ctx.shutdown.cancel();
                }
            }
            printed += 1;
        }
        if rx.is_empty() {
            let _ = out.flush();
        }
    }
    let _ = out.flush();
    drop(out);
    if ctx.shutdown.is_cancelled() && printed < ports.len() {
        bail!("scan interrupted after {printed} of {} ports", ports.len());
    }
    let [open, closed, filtered, open_filtered, errors] = counts;
    if !cfg.quiet {
        let mut summary = format!(
            "scanned {} {proto} ports on {} in {:.2}s: {open} open, {closed} closed, {filtered} filtered",
            ports.len(),
            cfg.host_text,
            started.elapsed().as_secs_f64()
        );
        if cfg.udp {
            summary.push_str(&format!(", {open_filtered} open|filtered"));
        }
        if errors > 0 {
            summary.push_str(&format!(", {errors} errors"));
        }
        eprintln!("{summary}");
    }
    if open == 0 {
        bail!(
            "no open {proto} port among the {} scanned on {}",
            ports.len(),
            cfg.host_text
        );
    }
    Ok(())
}

fn state_slot(state: &PortState) -> usize {
    match state {
        PortState::Open => 0,
        PortState::Closed => 1,
        PortState::Filtered => 2,
        PortState::OpenFiltered => 3,
        PortState::Error(_) => 4,
    }
}
