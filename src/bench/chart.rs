//! Small SVG charts for the `--report` page: one plot area with a linear
//! or logarithmic axis on each side, grid lines, tick labels with units,
//! a legend, and series drawn as lines or filled steps. Plain SVG text,
//! nothing to load. Every series carries its data in a `data-points`
//! attribute (`x,y;x,y…` in the chart's units), so a test (or a reader)
//! can take the numbers back out of the page.

use std::fmt::Write as _;

/// Chart size in SVG units (the page scales it to its width).
const WIDTH: f64 = 760.0;
/// Chart height.
const HEIGHT: f64 = 300.0;
/// Room for the y tick labels and the axis title.
const LEFT: f64 = 78.0;
/// Room on the right.
const RIGHT: f64 = 20.0;
/// Room for the title and the legend.
const TOP: f64 = 34.0;
/// Room for the x tick labels and the axis title.
const BOTTOM: f64 = 48.0;

/// Colours of the series, in order (a run each when comparing).
pub const PALETTE: &[&str] = &[
    "#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2",
];

/// Text for the page: `&`, `<`, `>`, `"` and `'` escaped, so that anything
/// a user typed (an endpoint, a file name) stays text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How an axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten (values must be positive).
    Log,
}

/// One axis: its title, range and labelled ticks.
#[derive(Debug, Clone)]
pub struct Axis {
    /// The title, with its unit: `latency (µs)`.
    pub title: String,
    /// Linear or logarithmic.
    pub scale: Scale,
    /// The lowest value shown.
    pub min: f64,
    /// The highest value shown.
    pub max: f64,
    /// Where grid lines go, with their labels.
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis from 0 to a round value at or above `max`, about five
    /// ticks labelled by `label`.
    pub fn linear(title: &str, max: f64, label: fn(f64) -> String) -> Axis {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let step = nice_step(max / 5.0);
        let top = (max / step).ceil() * step;
        let ticks = (0..=((top / step).round() as u64))
            .map(|i| i as f64 * step)
            .map(|v| (v, label(v)))
            .collect();
        Axis {
            title: title.to_string(),
            scale: Scale::Linear,
            min: 0.0,
            max: top,
            ticks,
        }
    }

    /// A linear axis from `min` to `max` exactly, ticks every `step`.
    pub fn span(title: &str, min: f64, max: f64, step: f64, label: fn(f64) -> String) -> Axis {
        let max = if max > min { max } else { min + 1.0 };
        let step = if step > 0.0 { step } else { max - min };
        let count = ((max - min) / step).floor().min(1000.0) as u64;
        let ticks = (0..=count)
            .map(|i| min + i as f64 * step)
            .map(|v| (v, label(v)))
            .collect();
        Axis {
            title: title.to_string(),
            scale: Scale::Linear,
            min,
            max,
            ticks,
        }
    }

    /// A logarithmic axis over the decades holding `min..=max`, ticks at
    /// 1, 2 and 5 times each power of ten when the range is short, at the
    /// powers of ten otherwise.
    pub fn log(title: &str, min: f64, max: f64, label: fn(f64) -> String) -> Axis {
        let min = if min.is_finite() && min > 0.0 {
            min
        } else {
            1.0
        };
        let max = if max.is_finite() && max > min {
            max
        } else {
            min * 10.0
        };
        let low = min.log10().floor() as i32;
        let high = (max.log10().ceil() as i32).max(low + 1);
        let steps: &[f64] = if high - low <= 3 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        for e in low..=high {
            for m in steps {
                let v = m * 10f64.powi(e);
                if v <= 10f64.powi(high) * 1.0001 {
                    ticks.push((v, label(v)));
                }
            }
        }
        Axis {
            title: title.to_string(),
            scale: Scale::Log,
            min: 10f64.powi(low),
            max: 10f64.powi(high),
            ticks,
        }
    }

    /// Where `v` falls, from 0 (min) to 1 (max), clamped.
    fn fraction(&self, v: f64) -> f64 {
        let f = match self.scale {
            Scale::Linear => (v - self.min) / (self.max - self.min),
            Scale::Log => {
                let v = v.max(self.min);
                (v.log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
            }
        };
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// A round step (1, 2 or 5 times a power of ten) at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Points joined by lines (dots on the points when they are few).
    Line,
    /// Filled steps: point `i` holds its y from its x to the next point's
    /// x (the last point only closes the last step), as a histogram.
    Steps,
}

/// One named series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// Its colour.
    pub color: &'static str,
    /// How it is drawn.
    pub style: Style,
    /// Its points, in the axes' units.
    pub points: Vec<(f64, f64)>,
}

/// A labelled dot on the chart (a percentile on the curve).
#[derive(Debug, Clone)]
pub struct Mark {
    /// Where, in the axes' units.
    pub at: (f64, f64),
    /// Its label.
    pub label: String,
    /// Its colour.
    pub color: &'static str,
}

/// One chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Its element id in the page.
    pub id: String,
    /// The title above it.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// What is drawn.
    pub series: Vec<Series>,
    /// Labelled dots.
    pub marks: Vec<Mark>,
}

impl Chart {
    fn px(&self, x: f64) -> f64 {
        LEFT + self.x.fraction(x) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - self.y.fraction(y) * (HEIGHT - TOP - BOTTOM)
    }

    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let id = escape(&self.id);
        let _ = write!(
            out,
            r#"<svg id="{id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">"#,
            title = escape(&self.title)
        );
        let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
        let _ = write!(
            out,
            r#"<defs><clipPath id="{id}-plot"><rect x="{x0}" y="{y0}" width="{w}" height="{h}"/></clipPath></defs>"#,
            w = x1 - x0,
            h = y1 - y0
        );
        let _ = write!(
            out,
            r#"<text class="title" x="{x0}" y="20">{}</text>"#,
            escape(&self.title)
        );
        // Grid and tick labels.
        for (v, label) in &self.x.ticks {
            let x = self.px(*v);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}"/><text class="tick" x="{x:.1}" y="{ty}" text-anchor="middle">{}</text>"#,
                escape(label),
                ty = y1 + 16.0
            );
        }
        for (v, label) in &self.y.ticks {
            let y = self.py(*v);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}"/><text class="tick" x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
                escape(label),
                tx = x0 - 6.0,
                ty = y + 4.0
            );
        }
        let _ = write!(
            out,
            r#"<rect class="frame" x="{x0}" y="{y0}" width="{w}" height="{h}"/>"#,
            w = x1 - x0,
            h = y1 - y0
        );
        let _ = write!(
            out,
            r#"<text class="axis" x="{x:.1}" y="{y}" text-anchor="middle">{}</text>"#,
            escape(&self.x.title),
            x = (x0 + x1) / 2.0,
            y = HEIGHT - 8.0
        );
        let _ = write!(
            out,
            r#"<text class="axis" transform="translate(16 {y:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            escape(&self.y.title),
            y = (y0 + y1) / 2.0
        );
        for series in &self.series {
            self.draw(&mut out, series);
        }
        for mark in &self.marks {
            let (x, y) = (self.px(mark.at.0), self.py(mark.at.1));
            let _ = write!(
                out,
                r#"<g class="mark"><circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{c}"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{}</text></g>"#,
                escape(&mark.label),
                c = mark.color,
                tx = x - 6.0,
                ty = y - 6.0
            );
        }
        // The legend, top right.
        let mut lx = x1;
        for series in self.series.iter().rev() {
            let width = 24.0 + 7.0 * series.name.chars().count() as f64;
            lx -= width;
            let _ = write!(
                out,
                r#"<g class="legend"><rect x="{lx:.1}" y="10" width="12" height="12" fill="{c}"/><text x="{tx:.1}" y="20">{}</text></g>"#,
                escape(&series.name),
                c = series.color,
                tx = lx + 16.0
            );
        }
        out.push_str("</svg>");
        out
    }

    fn draw(&self, out: &mut String, series: &Series) {
        let data: Vec<String> = series
            .points
            .iter()
            .map(|(x, y)| format!("{x},{y}"))
            .collect();
        let mut path = String::new();
        let base = HEIGHT - BOTTOM;
        match series.style {
            Style::Line => {
                for (i, (x, y)) in series.points.iter().enumerate() {
                    let cmd = if i == 0 { 'M' } else { 'L' };
                    let _ = write!(path, "{cmd}{:.1} {:.1} ", self.px(*x), self.py(*y));
                }
            }
            Style::Steps => {
                let mut last_x = None;
                for pair in series.points.windows(2) {
                    let ((xa, ya), (xb, _)) = (pair[0], pair[1]);
                    let (pa, pb, py) = (self.px(xa), self.px(xb), self.py(ya));
                    if last_x.is_none() {
                        let _ = write!(path, "M{pa:.1} {base:.1} ");
                    }
                    let _ = write!(path, "L{pa:.1} {py:.1} L{pb:.1} {py:.1} ");
                    last_x = Some(pb);
                }
                if let Some(x) = last_x {
                    let _ = write!(path, "L{x:.1} {base:.1} Z");
                }
            }
        }
        let fill = match series.style {
            Style::Line => "none".to_string(),
            Style::Steps => series.color.to_string(),
        };
        let _ = write!(
            out,
            r#"<path class="series" clip-path="url(#{id}-plot)" data-series="{name}" data-points="{points}" d="{path}" stroke="{c}" fill="{fill}"/>"#,
            id = escape(&self.id),
            name = escape(&series.name),
            points = data.join(";"),
            c = series.color,
        );
        if series.style == Style::Line && series.points.len() <= 120 {
            for (x, y) in &series.points {
                let _ = write!(
                    out,
                    r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="2.2" fill="{c}"/>"#,
                    self.px(*x),
                    self.py(*y),
                    c = series.color
                );
            }
        }
    }
}

/// A latency in microseconds with a readable unit: `850 µs`, `1.5 ms`.
pub fn latency_label(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{} s", trim(us / 1_000_000.0))
    } else if us >= 1000.0 {
        format!("{} ms", trim(us / 1000.0))
    } else {
        format!("{} µs", trim(us))
    }
}

/// A count or rate, short: `950`, `12k`, `1.5M`.
pub fn count_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", trim(v / 1e9))
    } else if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

/// A number without trailing zeros, at most three decimals.
pub fn trim(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"
        );
    }

    #[test]
    fn axes_have_round_ticks_and_units() {
        let a = Axis::linear("msgs/s", 43_210.0, count_label);
        assert_eq!(a.max, 50_000.0);
        assert_eq!(a.ticks.last().map(|t| t.1.as_str()), Some("50k"));
        let l = Axis::log("latency", 12.0, 3400.0, latency_label);
        assert_eq!((l.min, l.max), (10.0, 10_000.0));
        assert!(l.ticks.iter().any(|t| t.1 == "2 ms"), "{:?}", l.ticks);
        assert!((l.fraction(100.0) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(l.fraction(-5.0), 0.0);
    }

    #[test]
    fn a_chart_carries_its_data_and_escapes_names() {
        let chart = Chart {
            id: "c".into(),
            title: "t<1>".into(),
            x: Axis::linear("s", 2.0, trim),
            y: Axis::linear("n", 10.0, trim),
            series: vec![Series {
                name: "a&b".into(),
                color: PALETTE[0],
                style: Style::Line,
                points: vec![(0.5, 3.0), (1.5, 7.0)],
            }],
            marks: vec![],
        };
        let svg = chart.svg();
        assert!(svg.contains(r#"data-points="0.5,3;1.5,7""#), "{svg}");
        assert!(
            svg.contains("t&lt;1&gt;") && svg.contains("a&amp;b"),
            "{svg}"
        );
        assert!(!svg.contains("NaN"), "{svg}");
    }
}
