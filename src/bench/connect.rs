//! The `connect` mode: open and close connections as fast as allowed (or at
//! `--rate`), measuring how long each connect takes.

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pacer::Pacer;
use super::plan::Plan;
use super::Tally;
use crate::endpoint::Endpoint;
use crate::transport::{self, SocketOptions};

/// Opens connections until the plan ends; returns what it measured.
/// At `--rate`, each connect waits for its due time on `pacer`.
pub async fn run(
    endpoint: &Endpoint,
    opts: &SocketOptions,
    plan: Plan,
    pacer: &Pacer,
    shutdown: &CancellationToken,
    tally: Tally,
) -> Tally {
    let mut tally = tally;
    {
        let tally = &mut tally;
        let work = async move {
            let mut seq = 0u64;
            loop {
                let at = match plan.due(seq) {
                    Some(due) => {
                        if due >= plan.end {
                            return;
                        }
                        pacer.until(due).await;
                        due
                    }
                    None => Instant::now(),
                };
                if at >= plan.end {
                    return;
                }
                let result = transport::connect(endpoint, opts).await;
                let done = Instant::now();
                match result {
                    Ok(connected) => {
                        // Reset instead of a graceful close, so thousands of
                        // connections a second leave no TIME_WAIT behind to
                        // exhaust the ephemeral ports.
                        if let Ok(stream) = connected.connection.into_stream() {
                            let _ = stream.set_linger_zero();
                        }
                        if plan.measured(at) {
                            tally.measured(done.saturating_duration_since(at), done);
                        }
                    }
                    Err(e) => {
                        tracing::debug!("bench connect failed: {e}");
                        if plan.measured(at) {
                            tally.failed(1, at);
                        }
                        // A refusal can come back without ever waiting:
                        // let the deadline and the signal handler run.
                        tokio::task::yield_now().await;
                    }
                }
                seq += 1;
            }
        };
        tokio::select! {
            () = work => {}
            () = tokio::time::sleep_until(plan.end) => {}
            () = shutdown.cancelled() => {}
        }
    }
    tally
}
