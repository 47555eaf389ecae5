//! Live counters: `--stats-interval 1s` prints them on stderr every
//! interval, and `SIGUSR1` prints them at once (the command goes on). The
//! live connections come from the handle's registry; the closed ones from
//! a sink that adds up their `Close` events.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sys::signals::StatsSignal;

use crate::engine::Remote;
use crate::event::{Counters, Event, EventKind};
use crate::view::Sink;

/// Most live connections listed one by one in a counters block.
pub const MAX_LIVE_LISTED: usize = 20;

/// What the closed connections moved, shared with the reporter.
#[derive(Debug, Clone, Default)]
pub struct ClosedTotals {
    inner: Arc<Mutex<(Counters, u64)>>,
}

impl ClosedTotals {
    fn get(&self) -> (Counters, u64) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sink that fills [`ClosedTotals`].
pub struct ClosedSink(pub ClosedTotals);

impl Sink for ClosedSink {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let EventKind::Close { counters, .. } = &event.kind {
            let mut t = self.0.inner.lock().unwrap_or_else(|e| e.into_inner());
            t.0.add(counters);
            t.1 += 1;
        }
        Ok(())
    }
}

/// The counters block: one line per live connection (up to
/// [`MAX_LIVE_LISTED`]) and a total line with rates since `previous` and
/// the time since the reporter started (`since`).
pub fn render(
    remote: &Remote,
    closed: &ClosedTotals,
    previous: &mut Option<(Counters, tokio::time::Instant)>,
    since: Option<tokio::time::Instant>,
) -> String {
    let live = remote.connections();
    let (mut total, closed_count) = closed.get();
    let mut s = String::new();
    for c in live.iter().take(MAX_LIVE_LISTED) {
        let k = &c.counters;
        s.push_str(&format!(
            "stats: #{} {}: in {} B / {} msgs, out {} B / {} msgs\n",
            c.id, c.peer, k.bytes_in, k.msgs_in, k.bytes_out, k.msgs_out
        ));
        total.add(k);
    }
    if live.len() > MAX_LIVE_LISTED {
        s.push_str(&format!(
            "stats: … and {} more connections\n",
            live.len() - MAX_LIVE_LISTED
        ));
    }
    let now = tokio::time::Instant::now();
    let rates = match previous {
        Some((before, at)) => {
            let secs = now.duration_since(*at).as_secs_f64().max(1e-3);
            format!(
                ", {:.0} B/s in, {:.0} B/s out",
                total.bytes_in.saturating_sub(before.bytes_in) as f64 / secs,
                total.bytes_out.saturating_sub(before.bytes_out) as f64 / secs
            )
        }
        None => String::new(),
    };
    *previous = Some((total, now));
    s.push_str(&format!(
        "stats: total{}: in {} B / {} msgs, out {} B / {} msgs; {} open, {} closed{rates}\n",
        since
            .map(|since| format!(" at +{:.1}s", now.duration_since(since).as_secs_f64()))
            .unwrap_or_default(),
        total.bytes_in,
        total.msgs_in,
        total.bytes_out,
        total.msgs_out,
        live.len(),
        closed_count
    ));
    s
}

/// Prints the counters every `interval` (when given) and on each SIGUSR1
/// that `usr1` receives, until the task is aborted.
pub fn spawn(
    remote: Remote,
    closed: ClosedTotals,
    interval: Option<Duration>,
    mut usr1: Option<StatsSignal>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut previous = None;
        let since = tokio::time::Instant::now();
        let mut ticker = interval.map(|i| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + i, i);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            let tick = async {
                match ticker.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let usr = async {
                let got = match usr1.as_mut() {
                    Some(s) => s.recv().await,
                    None => false,
                };
                if !got {
                    std::future::pending::<()>().await
                }
            };
            tokio::select! {
                () = tick => {}
                () = usr => {}
            }
            let block = render(&remote, &closed, &mut previous, Some(since));
            let _ = io::stderr().lock().write_all(block.as_bytes());
        }
    })
}
