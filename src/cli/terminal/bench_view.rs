//! How a bench run shows itself, as sinks of the engine's bench events:
//! the live line on a terminal ([`LiveLine`], from `bench_sample`),
//! `--json` ([`ReportJson`], the `bench_report` line), and the report kept
//! for the table and the `--report` page ([`KeepReport`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bench::live::line;
use crate::bench::Report;
use crate::event::bus::Sink;
use crate::event::{Event, EventKind};
use crate::view::json::JsonLines;

/// The live line on stderr, one per `bench_sample`.
#[derive(Debug, Default)]
pub struct LiveLine;

impl Sink for LiveLine {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        if let EventKind::BenchSample(sample) = &event.kind {
            let p = &sample.latency_us;
            let text = line(
                Duration::from_secs(sample.second),
                usize::try_from(sample.connections).unwrap_or(usize::MAX),
                sample.messages as f64,
                (p.count > 0).then_some((p.p50, p.p99)),
            );
            errln!("{text}");
        }
        Ok(())
    }
}

/// `--json`: the `bench_report` line on stdout (the samples are not
/// printed, so a saved file stays one report for `bench merge`).
pub struct ReportJson(JsonLines<std::io::Stdout>);

impl Default for ReportJson {
    /// Lines on stdout.
    fn default() -> ReportJson {
        ReportJson(JsonLines::new(std::io::stdout(), Default::default()))
    }
}

impl Sink for ReportJson {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        match event.kind {
            EventKind::BenchReport(_) => self.0.handle(event),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.finish()
    }
}

/// Keeps the run's report for the table and the page.
#[derive(Debug, Clone, Default)]
pub struct KeepReport(pub Arc<Mutex<Option<Report>>>);

impl Sink for KeepReport {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        if let (EventKind::BenchReport(done), Ok(mut kept)) = (&event.kind, self.0.lock()) {
            *kept = Some(done.report.clone());
        }
        Ok(())
    }
}
