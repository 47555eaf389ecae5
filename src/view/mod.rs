//! Views: the sinks that render the event stream (stdout data, status lines
//! on stderr; later text, hex, timestamps, JSON, log files, the UI).
//!
//! All sinks run on one thread that drains the bounded event channel, so
//! rendering never blocks the socket code and a stalled stdout applies
//! backpressure to the sessions that feed it.

pub mod raw;
pub mod status;

use std::io;
use std::thread::JoinHandle;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::event::{Event, EventTx};

/// Something that renders events.
pub trait Sink: Send {
    /// True when this sink shows data that sockmate sent.
    fn wants_sent_data(&self) -> bool {
        false
    }

    /// Renders one event. A `BrokenPipe` error means the output is gone.
    fn handle(&mut self, event: &Event) -> io::Result<()>;

    /// Called once after the last event (flush, print totals).
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The thread running the sinks. Dropping every [`EventTx`] ends it.
#[derive(Debug)]
pub struct SinkThread {
    handle: Option<JoinHandle<()>>,
}

impl SinkThread {
    /// Waits (without blocking the runtime) until every event is rendered.
    pub async fn join(mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

/// Starts the sink thread. When stdout turns out to be closed (broken pipe),
/// `output_gone` is cancelled so the command can end quietly.
pub fn spawn_sinks(
    mut sinks: Vec<Box<dyn Sink>>,
    output_gone: CancellationToken,
) -> io::Result<(EventTx, SinkThread)> {
    let wants_sent = sinks.iter().any(|s| s.wants_sent_data());
    let (tx, rx) = EventTx::channel(wants_sent);
    let handle = std::thread::Builder::new()
        .name("sinks".into())
        .spawn(move || run_sinks(&mut sinks, rx, &output_gone))?;
    Ok((
        tx,
        SinkThread {
            handle: Some(handle),
        },
    ))
}

fn run_sinks(
    sinks: &mut [Box<dyn Sink>],
    mut rx: mpsc::Receiver<Event>,
    output_gone: &CancellationToken,
) {
    let mut broken = false;
    while let Some(event) = rx.blocking_recv() {
        if broken {
            continue;
        }
        for sink in sinks.iter_mut() {
            if let Err(e) = sink.handle(&event) {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    tracing::warn!("output failed: {e}");
                }
                broken = true;
                output_gone.cancel();
                break;
            }
        }
    }
    for sink in sinks.iter_mut() {
        let _ = sink.finish();
    }
}
