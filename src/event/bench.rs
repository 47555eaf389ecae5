//! The events of `bench`: a sample per second of the measured window
//! (`bench_sample`) and the final report (`bench_report`, the line `bench
//! merge` reads back).

use serde::{Deserialize, Serialize};

use crate::bench::Report;

/// One second of a bench run's measured window (`bench_sample`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchSample {
    /// Which second of the measured window (from 1).
    pub second: u64,
    /// Connections open.
    pub connections: u64,
    /// Messages completed in that second (echoed, sent or connected).
    pub messages: u64,
    /// Payload bytes of those messages (`messages` × the message size).
    pub bytes: u64,
    /// Failures in that second.
    pub errors: u64,
    /// Latency percentiles of that second's messages, in microseconds
    /// (`count` 0 when none completed).
    pub latency_us: crate::bench::latency::Percentiles,
}

impl Eq for BenchSample {}

/// The report of a finished run (`bench_report`): the report's fields plus
/// `bytes_out`/`bytes_in`, the names every command uses for the counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchDone {
    /// The report.
    #[serde(flatten)]
    pub report: Report,
    /// `bytes_sent`, by the common name.
    pub bytes_out: u64,
    /// `bytes_received`, by the common name.
    pub bytes_in: u64,
}

impl BenchDone {
    /// The event of `report`.
    pub fn new(report: Report) -> Self {
        BenchDone {
            bytes_out: report.bytes_sent,
            bytes_in: report.bytes_received,
            report,
        }
    }
}

impl Eq for BenchDone {}
