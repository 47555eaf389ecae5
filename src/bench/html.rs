//! The `--report FILE.html` page: one self-contained HTML file (inline CSS
//! and SVG, no script, nothing fetched) with a run's figures, parameters
//! and charts — the latency percentile curve (HdrHistogram's plot: x is
//! 1/(1−p) on a log scale, so the tail gets room), the latency histogram,
//! and throughput, bandwidth and errors per interval. Several reports side
//! by side (`bench merge --compare`) share the charts, one colour each.
//!
//! Every number shown also sits in a `data-value` attribute (the `--json`
//! figure, unrounded), and every series in a `data-points` attribute.

use std::fmt::Write as _;

use super::chart::{self, escape, Axis, Chart, Mark, Scale, Series, Style, PALETTE};
use super::latency::Latency;
use super::report::{human_rate, Report};

/// Histogram buckets per power of ten.
const BUCKETS_PER_DECADE: f64 = 10.0;

/// Most runs one page compares (one colour each).
pub const MAX_RUNS: usize = PALETTE.len();

/// One report on the page, with the name it is shown under.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// Its name (a file name when comparing).
    pub label: String,
    /// Its figures.
    pub report: &'a Report,
}

/// The page for `runs` (one run, a merged run, or several to compare).
pub fn page(runs: &[Run<'_>]) -> String {
    let runs = &runs[..runs.len().min(MAX_RUNS)];
    let mut out = String::new();
    let title = match runs {
        [one] => format!(
            "sockmate bench {}: {}",
            one.report.endpoint, one.report.mode
        ),
        _ => format!("sockmate bench: {} runs compared", runs.len()),
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1 id=\"title\">{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(out, "<p class=\"sub\">{}</p>", escape(&subtitle(runs)));
    summary(&mut out, runs);
    parameters(&mut out, runs);
    let latencies: Vec<Latency> = runs
        .iter()
        .map(|r| Latency::decode(&r.report.histogram).unwrap_or_default())
        .collect();
    section(
        &mut out,
        "Latency by percentile",
        "Each point: the latency that this share of messages stayed under. The x axis is logarithmic in 1/(1−p), so 90%, 99%, 99.9% are evenly spaced and the tail is visible; the y axis is logarithmic too.",
        percentile_chart(runs, &latencies),
    );
    section(
        &mut out,
        "Latency histogram",
        "Share of messages in each latency bucket (10 buckets per power of ten).",
        histogram_chart(runs, &latencies),
    );
    let unit = rate_unit(runs);
    section(
        &mut out,
        "Throughput",
        &format!("{unit} in each interval of the measured window."),
        timeline_chart(runs, "throughput", "Throughput", unit, |s| {
            s.messages as f64
        }),
    );
    if runs.iter().any(|r| r.report.mode != "connect") {
        section(
            &mut out,
            "Bandwidth",
            "Payload megabytes per second: received for echo, sent for send.",
            timeline_chart(runs, "bandwidth", "Bandwidth", "MB/s", |s| s.bytes_per_s),
        );
    }
    section(
        &mut out,
        "Errors",
        "Failed connects, resets and lost datagrams per second.",
        timeline_chart(runs, "errors", "Errors", "errors/s", |s| s.errors as f64),
    );
    let _ = writeln!(
        out,
        "<footer>Written by sockmate {} (<code>bench --report</code>). This page loads nothing: its charts are inline SVG.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// The line under the title.
fn subtitle(runs: &[Run<'_>]) -> String {
    match runs {
        [one] => {
            let r = one.report;
            let merged = if r.sources > 1 {
                format!(", merged from {} runs", r.sources)
            } else {
                String::new()
            };
            format!(
                "{} connection{}, {:.2} s measured{merged}",
                r.connections,
                if r.connections == 1 { "" } else { "s" },
                r.duration_s
            )
        }
        _ => runs
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// msgs/s, or conn/s when every run is `--mode connect`.
fn rate_unit(runs: &[Run<'_>]) -> &'static str {
    if runs.iter().all(|r| r.report.mode == "connect") {
        "conn/s"
    } else {
        "msgs/s"
    }
}

fn section(out: &mut String, title: &str, about: &str, body: String) {
    let _ = writeln!(
        out,
        "<section>\n<h2>{}</h2>\n<p class=\"about\">{}</p>\n{body}\n</section>",
        escape(title),
        escape(about)
    );
}

/// One figure of each run: (metric id, name, value, text).
type Figure = (&'static str, &'static str, fn(&Report) -> (f64, String));

const FIGURES: &[Figure] = &[
    ("messages", "messages", |r| {
        (r.messages as f64, r.messages.to_string())
    }),
    ("msgs_per_s", "rate", |r| {
        let unit = if r.mode == "connect" {
            "conn/s"
        } else {
            "msgs/s"
        };
        (r.msgs_per_s, format!("{:.0} {unit}", r.msgs_per_s))
    }),
    ("bytes_per_s", "bandwidth", |r| {
        (r.bytes_per_s, human_rate(r.bytes_per_s))
    }),
    ("errors", "errors", |r| {
        (r.errors as f64, r.errors.to_string())
    }),
    ("p50", "latency p50", |r| us(r.latency_us.p50)),
    ("p90", "latency p90", |r| us(r.latency_us.p90)),
    ("p99", "latency p99", |r| us(r.latency_us.p99)),
    ("p999", "latency p99.9", |r| us(r.latency_us.p999)),
    ("max", "latency max", |r| us(r.latency_us.max)),
    ("mean", "latency mean", |r| us(r.latency_us.mean)),
];

/// A latency as the table prints it.
fn us(v: f64) -> (f64, String) {
    let text = if v >= 100.0 {
        format!("{v:.0} µs")
    } else {
        format!("{v:.1} µs")
    };
    (v, text)
}

fn header_row(out: &mut String, first: &str, runs: &[Run<'_>]) {
    let _ = write!(out, "<tr><th>{}</th>", escape(first));
    for (i, run) in runs.iter().enumerate() {
        let _ = write!(
            out,
            "<th data-run=\"{i}\"><span class=\"swatch\" style=\"background:{}\"></span>{}</th>",
            PALETTE[i % PALETTE.len()],
            escape(&run.label)
        );
    }
    out.push_str("</tr>\n");
}

fn summary(out: &mut String, runs: &[Run<'_>]) {
    out.push_str("<section>\n<h2>Results</h2>\n<table id=\"summary\">\n");
    header_row(out, "", runs);
    for (id, name, figure) in FIGURES {
        let _ = write!(out, "<tr><th>{}</th>", escape(name));
        for (i, run) in runs.iter().enumerate() {
            let (value, text) = figure(run.report);
            let _ = write!(
                out,
                "<td data-metric=\"{id}\" data-run=\"{i}\" data-value=\"{value}\">{}</td>",
                escape(&text)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</section>\n");
}

fn parameters(out: &mut String, runs: &[Run<'_>]) {
    type Param = (&'static str, fn(&Report) -> String);
    const PARAMS: &[Param] = &[
        ("endpoint", |r| r.endpoint.clone()),
        ("mode", |r| r.mode.clone()),
        ("connections", |r| r.connections.to_string()),
        ("message size", |r| {
            if r.mode == "connect" {
                "—".into()
            } else {
                format!("{} bytes", r.size)
            }
        }),
        ("loop", |r| match r.rate {
            Some(rate) => format!("open, {} msgs/s", chart::trim(rate)),
            None if r.mode == "echo" => format!("closed, pipeline {}", r.pipeline),
            None => "as fast as possible".into(),
        }),
        ("measured", |r| format!("{:.3} s", r.duration_s)),
        ("runs merged", |r| r.sources.to_string()),
        ("bytes sent", |r| r.bytes_sent.to_string()),
        ("bytes received", |r| r.bytes_received.to_string()),
        ("samples every", |r| {
            if r.timeline.samples.is_empty() {
                "— (no samples)".into()
            } else {
                format!("{} s", chart::trim(r.timeline.interval_s))
            }
        }),
    ];
    out.push_str("<section>\n<h2>Parameters</h2>\n<table id=\"parameters\">\n");
    if runs.len() > 1 {
        header_row(out, "", runs);
    }
    for (name, param) in PARAMS {
        let _ = write!(out, "<tr><th>{}</th>", escape(name));
        for run in runs {
            let _ = write!(out, "<td>{}</td>", escape(&param(run.report)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</section>\n");
}

fn empty(id: &str, what: &str) -> String {
    format!(
        "<p class=\"empty\" id=\"{}\">{}</p>",
        escape(id),
        escape(what)
    )
}

/// The percentile x of quantile `q`: 1/(1−q), at most `max`.
fn percentile_x(q: f64, max: f64) -> f64 {
    if q >= 1.0 {
        max
    } else {
        (1.0 / (1.0 - q)).min(max)
    }
}

/// `99.9%` for the x value 1000.
fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".into();
    }
    format!("{}%", chart::trim(100.0 * (1.0 - 1.0 / x)))
}

fn percentile_chart(runs: &[Run<'_>], latencies: &[Latency]) -> String {
    let count = latencies.iter().map(Latency::count).max().unwrap_or(0);
    if count == 0 {
        return empty("percentiles", "No latency was measured.");
    }
    // Up to the percentile one sample in the largest run stands for.
    let decades = (count as f64).log10().ceil().clamp(2.0, 7.0) as i32;
    let x_max = 10f64.powi(decades);
    let mut ticks: Vec<(f64, String)> = (0..=decades)
        .map(|d| 10f64.powi(d))
        .map(|x| (x, percentile_label(x)))
        .collect();
    // 50% sits close to 0%: the first tick keeps its line, not its label.
    if let Some(first) = ticks.first_mut() {
        first.1 = String::new();
    }
    ticks.insert(1, (2.0, percentile_label(2.0)));
    let x = Axis {
        title: "percentile (log scale of 1/(1−p))".into(),
        scale: Scale::Log,
        min: 1.0,
        max: x_max,
        ticks,
    };
    let mut series = Vec::new();
    let (mut low, mut high) = (f64::MAX, 0f64);
    for (i, (run, latency)) in runs.iter().zip(latencies).enumerate() {
        let points: Vec<(f64, f64)> = latency
            .curve()
            .into_iter()
            .map(|(q, us)| (percentile_x(q, x_max), us))
            .collect();
        for (_, us) in &points {
            low = low.min(*us);
            high = high.max(*us);
        }
        series.push(Series {
            name: run.label.clone(),
            color: PALETTE[i % PALETTE.len()],
            style: Style::Line,
            points,
        });
    }
    let y = Axis::log("latency", low, high, chart::latency_label);
    let mut marks = Vec::new();
    if let [one] = runs {
        let p = &one.report.latency_us;
        for (x, name, v) in [
            (2.0, "p50", p.p50),
            (100.0, "p99", p.p99),
            (1000.0, "p99.9", p.p999),
        ] {
            if x <= x_max && v > 0.0 {
                marks.push(Mark {
                    at: (x, v),
                    label: format!("{name} {}", us(v).1),
                    color: "#111827",
                });
            }
        }
    }
    Chart {
        id: "percentiles".into(),
        title: "Latency by percentile".into(),
        x,
        y,
        series,
        marks,
    }
    .svg()
}

fn histogram_chart(runs: &[Run<'_>], latencies: &[Latency]) -> String {
    let recorded: Vec<Vec<(f64, u64)>> = latencies.iter().map(Latency::recorded).collect();
    let all = || recorded.iter().flatten().map(|(us, _)| *us);
    let (Some(low), Some(high)) = (all().min_by(f64::total_cmp), all().max_by(f64::total_cmp))
    else {
        return empty("histogram", "No latency was measured.");
    };
    let bucket = |us: f64| (us.max(1e-3).log10() * BUCKETS_PER_DECADE).floor() as i64;
    let (first, last) = (bucket(low), bucket(high));
    let edge = |b: i64| 10f64.powf(b as f64 / BUCKETS_PER_DECADE);
    let mut series = Vec::new();
    let mut top = 0f64;
    for (i, (run, values)) in runs.iter().zip(&recorded).enumerate() {
        let total: u64 = values.iter().map(|(_, n)| n).sum();
        let width = usize::try_from(last - first + 1).unwrap_or(1);
        let mut counts = vec![0u64; width];
        for (us, n) in values {
            let at = usize::try_from(bucket(*us) - first).unwrap_or(0);
            if let Some(slot) = counts.get_mut(at) {
                *slot += n;
            }
        }
        let mut points: Vec<(f64, f64)> = counts
            .iter()
            .enumerate()
            .map(|(b, n)| {
                let share = if total > 0 {
                    100.0 * *n as f64 / total as f64
                } else {
                    0.0
                };
                top = top.max(share);
                (edge(first + b as i64), share)
            })
            .collect();
        points.push((edge(last + 1), 0.0));
        series.push(Series {
            name: run.label.clone(),
            color: PALETTE[i % PALETTE.len()],
            style: Style::Steps,
            points,
        });
    }
    Chart {
        id: "histogram".into(),
        title: "Latency histogram".into(),
        x: Axis::log("latency", edge(first), edge(last + 1), chart::latency_label),
        y: Axis::linear("% of messages", top, |v| format!("{}%", chart::trim(v))),
        series,
        marks: vec![],
    }
    .svg()
}

/// What one interval of a run holds, for the timeline charts.
struct Interval {
    messages: u64,
    errors: u64,
    bytes_per_s: f64,
}

fn timeline_chart(
    runs: &[Run<'_>],
    id: &str,
    title: &str,
    unit: &str,
    value: fn(&Interval) -> f64,
) -> String {
    if runs.iter().all(|r| r.report.timeline.samples.is_empty()) {
        return empty(
            id,
            "This report has no per-second samples (it was written by an older sockmate).",
        );
    }
    let mut series = Vec::new();
    let (mut right, mut top) = (0f64, 0f64);
    for (i, run) in runs.iter().enumerate() {
        let points = rates(run.report, value);
        for (t, v) in &points {
            right = right.max(*t);
            top = top.max(*v);
        }
        right = right.max(run.report.duration_s);
        series.push(Series {
            name: run.label.clone(),
            color: PALETTE[i % PALETTE.len()],
            style: Style::Line,
            points,
        });
    }
    let step = if right > 20.0 {
        (right / 10.0).ceil()
    } else if right > 5.0 {
        2.0
    } else if right > 2.0 {
        1.0
    } else {
        0.5
    };
    let unit_label = unit.to_string();
    let y_title = format!("{title} ({unit_label})");
    Chart {
        id: id.into(),
        title: format!("{title} over the run"),
        x: Axis::span("seconds since measuring started", 0.0, right, step, |v| {
            format!("{} s", chart::trim(v))
        }),
        y: Axis::linear(&y_title, top, chart::count_label),
        series,
        marks: vec![],
    }
    .svg()
}

/// The per-second rate of each interval of a report, at the interval's
/// middle: its count divided by its length (the last interval may be
/// shorter).
fn rates(report: &Report, value: fn(&Interval) -> f64) -> Vec<(f64, f64)> {
    let every = report.timeline.interval_s;
    if every <= 0.0 {
        return Vec::new();
    }
    let echo_like = report.mode != "send";
    report
        .timeline
        .samples
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let from = i as f64 * every;
            let len = (report.duration_s - from).min(every);
            if len <= 0.0 {
                return None;
            }
            let bytes = if echo_like {
                s.bytes_received
            } else {
                s.bytes_sent
            };
            let interval = Interval {
                messages: s.messages,
                errors: s.errors,
                bytes_per_s: bytes as f64 / 1e6,
            };
            Some((from + len / 2.0, value(&interval) / len))
        })
        .collect()
}

const STYLE: &str = "
body { margin: 0; background: #f3f5f8; color: #1d2430; font: 14px/1.5 system-ui, -apple-system, 'Segoe UI', 'Noto Sans', sans-serif; }
main { max-width: 860px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 8px 0 2px; word-break: break-all; }
h2 { font-size: 16px; margin: 0 0 4px; }
.sub, .about, footer { color: #6b7585; }
.about { margin: 0 0 8px; font-size: 13px; }
section { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 14px 16px; margin: 14px 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #eef1f5; word-break: break-all; }
th { font-weight: 600; color: #4b5563; width: 12em; }
td { font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .title { font-size: 13px; font-weight: 600; fill: #1d2430; }
svg .tick, svg .legend text, svg .mark text { font-size: 11px; fill: #4b5563; }
svg .axis { font-size: 12px; fill: #1d2430; }
svg .grid { stroke: #e5e9f0; stroke-width: 1; }
svg .frame { fill: none; stroke: #9aa4b2; stroke-width: 1; }
svg path.series { stroke-width: 2; fill-opacity: 0.22; stroke-linejoin: round; }
svg .mark text { fill: #111827; font-weight: 600; }
.empty { color: #6b7585; font-style: italic; }
footer { font-size: 12px; margin-top: 18px; }
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::timeline::{Sample, Timeline};
    use std::time::Duration;

    fn report(endpoint: &str) -> Report {
        let mut l = Latency::new();
        for i in 0..1000u64 {
            l.record(Duration::from_micros(
                20 + i % 50 + if i % 100 == 0 { 900 } else { 0 },
            ));
        }
        let sample = |m| Sample {
            messages: m,
            bytes_sent: m * 64,
            bytes_received: m * 64,
            errors: 0,
        };
        Report {
            tool: super::super::report::REPORT_TOOL.into(),
            endpoint: endpoint.into(),
            mode: "echo".into(),
            connections: 1,
            size: 64,
            pipeline: 1,
            rate: None,
            duration_s: 2.5,
            messages: 1000,
            msgs_per_s: 400.0,
            bytes_sent: 64_000,
            bytes_received: 64_000,
            bytes_per_s: 25_600.0,
            errors: 0,
            latency_us: l.percentiles(),
            histogram: l.encode(),
            sources: 1,
            timeline: Timeline {
                interval_s: 1.0,
                samples: vec![sample(400), sample(400), sample(200)],
            },
        }
    }

    #[test]
    fn the_page_has_every_chart_and_figure_and_loads_nothing() {
        let r = report("unix:///tmp/<b>&x");
        let html = page(&[Run {
            label: "run".into(),
            report: &r,
        }]);
        for id in [
            "id=\"percentiles\"",
            "id=\"histogram\"",
            "id=\"throughput\"",
            "id=\"bandwidth\"",
            "id=\"errors\"",
            "id=\"summary\"",
            "id=\"parameters\"",
        ] {
            assert!(html.contains(id), "{id} missing");
        }
        assert!(html.contains("unix:///tmp/&lt;b&gt;&amp;x"));
        assert!(!html.contains("<b>"));
        assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
        assert!(!html.contains("NaN") && !html.contains("inf"));
        let p50 = format!(
            "data-metric=\"p50\" data-run=\"0\" data-value=\"{}\"",
            r.latency_us.p50
        );
        assert!(html.contains(&p50), "{p50}");
        // Two full seconds at 400/s, then 200 in the last half second.
        assert!(
            html.contains("data-points=\"0.5,400;1.5,400;2.25,400\""),
            "rates"
        );
    }

    #[test]
    fn comparing_draws_one_series_per_run_and_old_reports_say_so() {
        let (a, mut b) = (report("tcp://a:1"), report("tcp://b:1"));
        b.timeline = Timeline::default();
        let html = page(&[
            Run {
                label: "a.json".into(),
                report: &a,
            },
            Run {
                label: "b.json".into(),
                report: &b,
            },
        ]);
        // Both latency charts and the three timeline charts, the latter
        // without points for the report that has no samples.
        assert_eq!(html.matches("data-series=\"b.json\"").count(), 5);
        assert_eq!(
            html.matches("data-series=\"b.json\" data-points=\"\"")
                .count(),
            3
        );
        assert!(html.contains("data-metric=\"p99\" data-run=\"1\""));
        assert!(percentile_label(1000.0) == "99.9%" && percentile_label(2.0) == "50%");
    }
}
