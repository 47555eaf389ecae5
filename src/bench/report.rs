//! A bench run's results: the human table, the `--json` form, and merging
//! several JSON reports (`sockmate bench merge a.json b.json`).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::latency::{Latency, Percentiles};
use super::timeline::Timeline;

/// What a report's `tool` field says, so merge can refuse other files.
pub const REPORT_TOOL: &str = "sockmate bench";

/// One run's (or several merged runs') results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_TOOL`].
    pub tool: String,
    /// The endpoint driven (or `several` after merging different ones).
    pub endpoint: String,
    /// `echo`, `send` or `connect`.
    pub mode: String,
    /// Connections (or connect workers) used.
    pub connections: u64,
    /// Message size in bytes (0 for connect).
    pub size: u64,
    /// Requests in flight per connection (closed loop).
    pub pipeline: u64,
    /// Target rate in messages/s (open loop), if any.
    pub rate: Option<f64>,
    /// Seconds measured (after warmup).
    pub duration_s: f64,
    /// Messages completed: echoed round trips, writes sent, or connections made.
    pub messages: u64,
    /// Messages per second.
    pub msgs_per_s: f64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Bytes per second: received for echo, sent for send.
    pub bytes_per_s: f64,
    /// Failed connects, resets, lost datagrams.
    pub errors: u64,
    /// Latency percentiles in microseconds.
    pub latency_us: Percentiles,
    /// The latency histogram (HdrHistogram V2, base64), for merging.
    pub histogram: String,
    /// How many runs this report combines.
    pub sources: u64,
    /// Messages, bytes and errors per interval (normally one second) of
    /// the measured window; empty in reports of older versions.
    #[serde(default)]
    pub timeline: Timeline,
}

/// A report file that cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Not JSON, or not a bench report.
    #[error("{file}: not a `sockmate bench --json` report ({detail})")]
    NotAReport {
        /// The file.
        file: String,
        /// What was wrong.
        detail: String,
    },
    /// Reports of different modes.
    #[error("cannot merge a {0} report with a {1} report (merge runs of the same --mode)")]
    ModeMismatch(String, String),
    /// Nothing to merge.
    #[error("give at least one report to merge, e.g. sockmate bench merge a.json b.json")]
    Empty,
}

impl Report {
    /// Parses one report.
    pub fn parse(file: &str, text: &str) -> Result<Report, MergeError> {
        let report: Report = serde_json::from_str(text).map_err(|e| MergeError::NotAReport {
            file: file.to_string(),
            detail: e.to_string(),
        })?;
        if report.tool != REPORT_TOOL {
            return Err(MergeError::NotAReport {
                file: file.to_string(),
                detail: format!("tool is \"{}\"", report.tool),
            });
        }
        Latency::decode(&report.histogram).map_err(|e| MergeError::NotAReport {
            file: file.to_string(),
            detail: e.to_string(),
        })?;
        Ok(report)
    }

    /// Combines runs made at the same time (e.g. on several machines):
    /// counts, bytes and rates add; the histograms add exactly.
    pub fn merge(reports: &[Report]) -> Result<Report, MergeError> {
        let first = reports.first().ok_or(MergeError::Empty)?;
        let mut merged = first.clone();
        let mut latency = Latency::decode(&first.histogram).unwrap_or_default();
        for r in &reports[1..] {
            if r.mode != merged.mode {
                return Err(MergeError::ModeMismatch(
                    merged.mode.clone(),
                    r.mode.clone(),
                ));
            }
            if r.endpoint != merged.endpoint {
                merged.endpoint = "several".into();
            }
            merged.connections += r.connections;
            merged.size = merged.size.max(r.size);
            merged.pipeline = merged.pipeline.max(r.pipeline);
            merged.rate = match (merged.rate, r.rate) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            merged.duration_s = merged.duration_s.max(r.duration_s);
            merged.messages += r.messages;
            merged.msgs_per_s += r.msgs_per_s;
            merged.bytes_sent += r.bytes_sent;
            merged.bytes_received += r.bytes_received;
            merged.bytes_per_s += r.bytes_per_s;
            merged.errors += r.errors;
            merged.sources += r.sources;
            merged.timeline.add(&r.timeline);
            latency.add(&Latency::decode(&r.histogram).unwrap_or_default());
        }
        merged.latency_us = latency.percentiles();
        merged.histogram = latency.encode();
        Ok(merged)
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let how = match self.rate {
            Some(rate) => format!("open loop at {rate} msgs/s"),
            None if self.mode == "echo" => format!("closed loop, pipeline {}", self.pipeline),
            None => "as fast as possible".into(),
        };
        let size = if self.mode == "connect" {
            String::new()
        } else {
            format!(", {}-byte messages", self.size)
        };
        let merged = if self.sources > 1 {
            format!(" (merged from {} runs)", self.sources)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "sockmate bench {}: {}, {} connection{}{size}, {:.2} s measured ({how}){merged}",
            self.endpoint,
            self.mode,
            self.connections,
            if self.connections == 1 { "" } else { "s" },
            self.duration_s
        );
        let unit = if self.mode == "connect" {
            "conn/s"
        } else {
            "msgs/s"
        };
        let _ = writeln!(
            out,
            "  messages   {:>12}   {:.0} {unit}",
            self.messages, self.msgs_per_s
        );
        if self.mode != "connect" {
            let _ = writeln!(
                out,
                "  bytes      {:>12} sent, {} received   {}",
                self.bytes_sent,
                self.bytes_received,
                human_rate(self.bytes_per_s)
            );
        }
        let _ = writeln!(out, "  errors     {:>12}", self.errors);
        let p = &self.latency_us;
        if p.count > 0 {
            let _ = writeln!(
                out,
                "  latency    p50 {} µs   p90 {} µs   p99 {} µs   p99.9 {} µs   max {} µs   (mean {} µs, {} samples)",
                fmt_us(p.p50),
                fmt_us(p.p90),
                fmt_us(p.p99),
                fmt_us(p.p999),
                fmt_us(p.max),
                fmt_us(p.mean),
                p.count
            );
        }
        out
    }
}

fn fmt_us(us: f64) -> String {
    if us >= 100.0 {
        format!("{us:.0}")
    } else {
        format!("{us:.1}")
    }
}

/// Bytes per second as MB/s and Gbit/s.
pub fn human_rate(bytes_per_s: f64) -> String {
    format!(
        "{:.1} MB/s ({:.2} Gbit/s)",
        bytes_per_s / 1e6,
        bytes_per_s * 8.0 / 1e9
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn report(samples: u64) -> Report {
        let mut l = Latency::new();
        for i in 0..samples {
            l.record(Duration::from_micros(10 + i));
        }
        Report {
            tool: REPORT_TOOL.into(),
            endpoint: "tcp://127.0.0.1:1".into(),
            mode: "echo".into(),
            connections: 1,
            size: 64,
            pipeline: 1,
            rate: None,
            duration_s: 1.0,
            messages: samples,
            msgs_per_s: samples as f64,
            bytes_sent: samples * 64,
            bytes_received: samples * 64,
            bytes_per_s: samples as f64 * 64.0,
            errors: 1,
            latency_us: l.percentiles(),
            histogram: l.encode(),
            sources: 1,
            timeline: Timeline::default(),
        }
    }

    #[test]
    fn merge_adds_counts_and_histograms() {
        let merged = Report::merge(&[report(100), report(50)]).unwrap();
        assert_eq!(merged.messages, 150);
        assert_eq!(merged.latency_us.count, 150);
        assert_eq!(merged.errors, 2);
        assert_eq!(merged.sources, 2);
        assert_eq!(merged.connections, 2);
    }

    #[test]
    fn json_round_trips_and_other_files_are_refused() {
        let text = serde_json::to_string(&report(10)).unwrap();
        assert_eq!(Report::parse("a.json", &text).unwrap().messages, 10);
        let err = Report::parse("b.json", "{\"tool\":\"iperf3\"}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("b.json: not a `sockmate bench --json` report"),
            "{err}"
        );
        let mut other = report(1);
        other.mode = "send".into();
        assert!(Report::merge(&[report(1), other]).is_err());
        assert!(Report::merge(&[]).is_err());
    }

    #[test]
    fn table_mentions_the_percentiles() {
        let t = report(100).table();
        assert!(t.contains("p50 "), "{t}");
        assert!(t.contains("p99.9 "), "{t}");
    }
}
