//! How a transfer shows itself on the command line: a progress bar on a
//! terminal (none in a pipe), `--json` events on stdout, and a one-line
//! summary per file — the [`Observer`] of `send` and `receive`.

use crate::view::json::Envelope;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::transfer::digest::Digest;
use crate::transfer::observer::{printable, FileObserver, Observer};

/// Least time between two `--json` progress events for one file.
pub const JSON_PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live bar on the terminal plus summary lines.
    Bar,
    /// Summary lines only (stderr is not a terminal).
    Lines,
    /// JSON events on stdout, summary lines on stderr.
    Json,
}

/// Shared by every file of a command; safe to use from many tasks.
#[derive(Debug)]
pub struct Reporter {
    mode: ProgressMode,
    quiet: bool,
    bars: MultiProgress,
    envelope: Envelope,
}

impl Reporter {
    /// Picks the bar only when stderr is a terminal and neither `--json`
    /// nor `-q` was given.
    pub fn new(json: bool, quiet: bool) -> Reporter {
        let mode = if json {
            ProgressMode::Json
        } else if !quiet && std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        };
        let target = if mode == ProgressMode::Bar {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Reporter {
            mode,
            quiet,
            bars: MultiProgress::with_draw_target(target),
            envelope: Envelope::new(),
        }
    }

    /// Every human-facing line goes through here: control characters (a
    /// received file name may hold any) are escaped.
    fn eprint(&self, line: &str) {
        let line = printable(line);
        if self.mode == ProgressMode::Bar {
            let _ = self.bars.println(crate::messages::tr(&line));
        } else {
            errln!("{line}");
        }
    }

    fn json(&self, kind: &str, fields: serde_json::Value) {
        if self.mode == ProgressMode::Json {
            let value = self.envelope.line(kind, fields);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
            let _ = out.flush();
        }
    }
}

impl Observer for Reporter {
    /// Prints a status line on stderr (above any bars) unless `-q`.
    fn status(&self, line: &str) {
        if !self.quiet {
            self.eprint(line);
        }
    }

    /// Prints an error line on stderr (always) and a JSON `error` event.
    fn error(&self, file: Option<&str>, message: &str) {
        self.eprint(&format!("sockmate: {message}"));
        self.json("error", json!({"file": file, "message": message}));
    }

    fn start_file(
        &self,
        verb: &'static str,
        name: &str,
        size: Option<u64>,
        offset: u64,
        peer: &str,
    ) -> Box<dyn FileObserver + '_> {
        self.json(
            "transfer_start",
            json!({"file": name, "size": size, "offset": offset, "peer": peer_url(peer), "verb": verb}),
        );
        let bar = (self.mode == ProgressMode::Bar).then(|| {
            let bar = match size {
                Some(size) => ProgressBar::new(size),
                None => ProgressBar::new_spinner(),
            };
            let template = if size.is_some() {
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
            } else {
                "{msg} {spinner} {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(printable(name).into_owned());
            bar.set_position(offset);
            self.bars.add(bar)
        });
        let now = Instant::now();
        Box::new(FileProgress {
            reporter: self,
            bar,
            verb,
            name: name.to_string(),
            size,
            offset,
            done: offset,
            started: now,
            last_json: now,
        })
    }
}

/// One file's progress; call [`FileProgress::finish`] or
/// [`FileProgress::fail`] at the end.
#[derive(Debug)]
pub struct FileProgress<'r> {
    reporter: &'r Reporter,
    bar: Option<ProgressBar>,
    verb: &'static str,
    name: String,
    size: Option<u64>,
    offset: u64,
    done: u64,
    started: Instant,
    last_json: Instant,
}

impl FileObserver for FileProgress<'_> {
    fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
        }
        if self.reporter.mode == ProgressMode::Json
            && self.last_json.elapsed() >= JSON_PROGRESS_INTERVAL
        {
            self.last_json = Instant::now();
            self.reporter.json(
                "transfer_progress",
                json!({"file": self.name, "bytes": self.done, "size": self.size}),
            );
        }
    }

    fn done(&self) -> u64 {
        self.done
    }

    /// Prints the summary line and a `done` event.
    fn finish(self: Box<Self>, digest: Option<&Digest>, checked: bool) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let elapsed = self.started.elapsed();
        let moved = self.done - self.offset;
        let rate = moved as f64 / elapsed.as_secs_f64().max(1e-9);
        let hex = digest.map(Digest::hex);
        let alg = digest.map(|d| d.kind.name());
        let resumed = if self.offset > 0 {
            format!(" (resumed at byte {})", self.offset)
        } else {
            String::new()
        };
        let check = if checked { "ok" } else { "(not checked: raw)" };
        let hashed = match (alg, &hex) {
            (Some(alg), Some(hex)) => format!(", {alg} {hex} {check}"),
            _ => String::new(),
        };
        self.reporter.status(&format!(
            "{} {}: {} bytes in {:.2}s ({}/s){resumed}{hashed}",
            self.verb,
            self.name,
            self.done,
            elapsed.as_secs_f64(),
            human_bytes(rate),
        ));
        // The same names as a connection's `close`: what we received is
        // `bytes_in`, what we sent `bytes_out`.
        let (bytes_in, bytes_out) = match self.verb {
            "received" => (self.done, 0),
            _ => (0, self.done),
        };
        self.reporter.json(
            "transfer_done",
            json!({
                "file": self.name, "bytes": self.done, "bytes_in": bytes_in, "bytes_out": bytes_out,
                "resumed_at": self.offset, "duration_s": elapsed.as_secs_f64(),
                "bytes_per_s": rate.round(),
                "digest": hex, "digest_alg": alg, "digest_ok": checked,
                // Kept for scripts written before BLAKE3 became the default.
                "sha256": hex.as_ref().filter(|_| alg == Some("sha256")),
            }),
        );
    }

    fn fail(self: Box<Self>) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}

/// A transfer's peer as an endpoint URL (transfers run over TCP).
fn peer_url(peer: &str) -> String {
    crate::endpoint::Kind::Tcp.url_of(peer)
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512.0), "512 B");
        assert_eq!(human_bytes(1536.0), "1.5 KiB");
        assert_eq!(human_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
    }
}
