//! `bench` as an engine start: the load generator runs in the background;
//! every second of its measured window is a `bench_sample` event (from the
//! counts the workers hand over), and the end a `bench_report` event.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::bench::live::Live;
use crate::bench::{BenchError, RunConfig};
use crate::error::{NetError, NetErrorKind};
use crate::event::bench::{BenchDone, BenchSample};
use crate::event::{EventKind, EventTx};

/// How often the sampler looks whether measuring has started.
const START_POLL: Duration = Duration::from_millis(20);

/// One sample a second.
const EVERY: Duration = Duration::from_secs(1);

/// Runs `cfg` (whose live counts are `live`) until it ends or `stop`;
/// reports the samples and the report.
pub(super) async fn run(
    cfg: RunConfig,
    live: Arc<Live>,
    events: EventTx,
    stop: CancellationToken,
) -> Result<(), NetError> {
    let sampling = CancellationToken::new();
    let sampler = tokio::spawn(sample(
        Arc::clone(&live),
        cfg.size as u64,
        events.clone(),
        sampling.clone(),
    ));
    let result = crate::bench::drive(&cfg, &stop).await;
    sampling.cancel();
    let _ = sampler.await;
    let report = result.map_err(as_net)?;
    let _ = events
        .emit(EventKind::BenchReport(Box::new(BenchDone::new(report))))
        .await;
    Ok(())
}

/// The error a bench handle ends with.
fn as_net(e: BenchError) -> NetError {
    match e {
        BenchError::Net(e) => e,
        other => NetError::new(NetErrorKind::Other, other.to_string()),
    }
}

/// Emits a sample at the end of every second of the measured window
/// until `done`.
async fn sample(live: Arc<Live>, size: u64, events: EventTx, done: CancellationToken) {
    let from = loop {
        if let Some(from) = live.measuring_from.get() {
            break *from;
        }
        tokio::select! {
            () = tokio::time::sleep(START_POLL) => {}
            () = done.cancelled() => return,
        }
    };
    let mut ticks = tokio::time::interval_at(from + EVERY, EVERY);
    let (mut messages, mut errors) = (0u64, 0u64);
    for second in 1u64.. {
        tokio::select! {
            _ = ticks.tick() => {}
            () = done.cancelled() => return,
        }
        let (m, e) = (
            live.messages.load(Ordering::Relaxed),
            live.errors.load(Ordering::Relaxed),
        );
        let sample = BenchSample {
            second,
            connections: live.connected.load(Ordering::Relaxed) as u64,
            messages: m.saturating_sub(messages),
            bytes: m.saturating_sub(messages).saturating_mul(size),
            errors: e.saturating_sub(errors),
            latency_us: live.take_window(),
        };
        (messages, errors) = (m, e);
        if events
            .emit(EventKind::BenchSample(Box::new(sample)))
            .await
            .is_err()
        {
            return;
        }
    }
}
