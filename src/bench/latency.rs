//! Latency recording: an HDR histogram in nanoseconds, its percentiles, and
//! a portable text form (HdrHistogram V2 serialization, base64) so that
//! reports from several runs or machines can be merged exactly.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// Highest latency tracked exactly (60 s in nanoseconds); longer ones are
/// recorded as this value.
pub const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// Significant decimal digits kept by the histogram.
const PRECISION: u8 = 3;

/// A latency histogram.
#[derive(Debug, Clone)]
pub struct Latency {
    hist: Histogram<u64>,
}

/// The percentiles a report shows, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Number of samples.
    pub count: u64,
}

/// A histogram text that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("invalid histogram: {0}")]
pub struct BadHistogram(String);

impl Latency {
    /// An empty histogram.
    pub fn new() -> Self {
        let hist = match Histogram::new_with_bounds(1, MAX_TRACKED_NS, PRECISION) {
            Ok(hist) => hist,
            // Only invalid bounds or precision fail, and these are constants.
            Err(e) => unreachable!("constant histogram bounds are valid: {e:?}"),
        };
        Latency { hist }
    }

    /// Records one latency.
    pub fn record(&mut self, latency: std::time::Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(MAX_TRACKED_NS);
        self.hist.saturating_record(ns.clamp(1, MAX_TRACKED_NS));
    }

    /// Adds another histogram's counts to this one.
    pub fn add(&mut self, other: &Latency) {
        // Both have the same bounds, or ours auto-resizes: adding never fails
        // for histograms built by `new` or `decode`.
        let _ = self.hist.add(&other.hist);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The percentiles, in microseconds.
    pub fn percentiles(&self) -> Percentiles {
        if self.hist.is_empty() {
            return Percentiles::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Percentiles {
            p50: us(self.hist.value_at_quantile(0.50)),
            p90: us(self.hist.value_at_quantile(0.90)),
            p99: us(self.hist.value_at_quantile(0.99)),
            p999: us(self.hist.value_at_quantile(0.999)),
            max: us(self.hist.max()),
            mean: self.hist.mean() / 1000.0,
            count: self.hist.len(),
        }
    }

    /// The percentile curve, as HdrHistogram plots it: (quantile, latency
    /// in microseconds) points, denser towards the tail (the last one is
    /// the maximum, at quantile 1).
    pub fn curve(&self) -> Vec<(f64, f64)> {
        if self.hist.is_empty() {
            return Vec::new();
        }
        self.hist
            .iter_quantiles(5)
            .map(|v| {
                (
                    v.quantile_iterated_to(),
                    v.value_iterated_to() as f64 / 1000.0,
                )
            })
            .collect()
    }

    /// The recorded latencies: (latency in microseconds, how many), in
    /// increasing order.
    pub fn recorded(&self) -> Vec<(f64, u64)> {
        self.hist
            .iter_recorded()
            .map(|v| (v.value_iterated_to() as f64 / 1000.0, v.count_at_value()))
            .collect()
    }

    /// The histogram as base64 of its V2 serialization.
    pub fn encode(&self) -> String {
        let mut raw = Vec::new();
        if V2Serializer::new().serialize(&self.hist, &mut raw).is_err() {
            return String::new();
        }
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// Reads a histogram written by [`Latency::encode`].
    pub fn decode(text: &str) -> Result<Latency, BadHistogram> {
        if text.is_empty() {
            return Ok(Latency::new());
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| BadHistogram(e.to_string()))?;
        let hist: Histogram<u64> = Deserializer::new()
            .deserialize(&mut raw.as_slice())
            .map_err(|e| BadHistogram(format!("{e:?}")))?;
        let mut merged = Latency::new();
        merged
            .hist
            .add(&hist)
            .map_err(|e| BadHistogram(format!("{e:?}")))?;
        Ok(merged)
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn percentiles_in_microseconds() {
        let mut l = Latency::new();
        for us in 1..=1000u64 {
            l.record(Duration::from_micros(us));
        }
        let p = l.percentiles();
        assert_eq!(p.count, 1000);
        assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 2.0, "{p:?}");
        assert!(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max);
    }

    #[test]
    fn bad_text_is_an_error() {
        assert!(Latency::decode("not base64!").is_err());
        assert!(Latency::decode("aGVsbG8=").is_err());
    }

    proptest! {
        #[test]
        fn encode_decode_and_merge_add_counts(a in proptest::collection::vec(1u64..10_000_000, 0..200), b in proptest::collection::vec(1u64..10_000_000, 0..200)) {
            let mut la = Latency::new();
            for ns in &a { la.record(Duration::from_nanos(*ns)); }
            let mut lb = Latency::new();
            for ns in &b { lb.record(Duration::from_nanos(*ns)); }
            let mut merged = Latency::decode(&la.encode()).unwrap();
            merged.add(&Latency::decode(&lb.encode()).unwrap());
            prop_assert_eq!(merged.count(), (a.len() + b.len()) as u64);
        }

        #[test]
        fn decode_never_panics(text in "\\PC{0,200}") {
            let _ = Latency::decode(&text);
        }
    }
}
