//! How a transfer shows itself on the command line, as sinks of the
//! engine's transfer events: a progress bar per file on a terminal (none
//! in a pipe), a one-line summary per file and an error line per skipped
//! file on stderr ([`TransferLines`]), and `--json` events on stdout
//! ([`TransferJson`]).

use std::collections::HashMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::bus::Sink;
use crate::event::transfer::{TransferDone, TransferStart};
use crate::event::{Event, EventKind};
use crate::transfer::observer::printable;
use crate::view::json::JsonLines;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live bar on the terminal plus summary lines.
    Bar,
    /// Summary lines only (stderr is not a terminal, or `--json`).
    Lines,
}

/// The stderr side of `send`/`receive`: bars, summaries, error lines.
#[derive(Debug)]
pub struct TransferLines {
    mode: ProgressMode,
    quiet: bool,
    /// `sent` or `received`, for the summaries.
    verb: &'static str,
    bars: MultiProgress,
    shown: HashMap<String, ProgressBar>,
}

impl TransferLines {
    /// Draws bars only when stderr is a terminal and neither `--json` nor
    /// `-q` was given.
    pub fn new(json: bool, quiet: bool, verb: &'static str) -> TransferLines {
        let mode = if !json && !quiet && std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        };
        let target = if mode == ProgressMode::Bar {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        TransferLines {
            mode,
            quiet,
            verb,
            bars: MultiProgress::with_draw_target(target),
            shown: HashMap::new(),
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

    fn start(&mut self, start: &TransferStart) {
        if self.mode != ProgressMode::Bar {
            return;
        }
        let bar = match start.size {
            Some(size) => ProgressBar::new(size),
            None => ProgressBar::new_spinner(),
        };
        let template = if start.size.is_some() {
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        } else {
            "{msg} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(printable(&start.file).into_owned());
        bar.set_position(start.offset);
        let bar = self.bars.add(bar);
        self.shown.insert(start.file.clone(), bar);
    }

    fn done(&mut self, done: &TransferDone) {
        if let Some(bar) = self.shown.remove(&done.file) {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let resumed = if done.resumed_at > 0 {
            format!(" (resumed at byte {})", done.resumed_at)
        } else {
            String::new()
        };
        let check = if done.digest_ok {
            "ok"
        } else {
            "(not checked: raw)"
        };
        let hashed = match (&done.digest_alg, &done.digest) {
            (Some(alg), Some(hex)) => format!(", {alg} {hex} {check}"),
            _ => String::new(),
        };
        self.eprint(&format!(
            "{} {}: {} bytes in {:.2}s ({}/s){resumed}{hashed}",
            self.verb,
            done.file,
            done.bytes,
            done.duration_s,
            human_bytes(done.bytes_per_s),
        ));
    }
}

impl Sink for TransferLines {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        match &event.kind {
            EventKind::TransferStart(start) => self.start(start),
            EventKind::TransferProgress(progress) => {
                if let Some(bar) = self.shown.get(&progress.file) {
                    bar.set_position(progress.bytes);
                }
            }
            EventKind::TransferDone(done) => self.done(done),
            EventKind::TransferFailed { file, message } => {
                if let Some(bar) = file.as_ref().and_then(|f| self.shown.remove(f)) {
                    bar.abandon();
                }
                self.eprint(&format!("sockmate: {message}"));
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        for (_, bar) in self.shown.drain() {
            bar.abandon();
        }
        Ok(())
    }
}

/// `--json` of `send`/`receive`: the transfer events as JSON lines on
/// stdout (the first with `schema`).
pub struct TransferJson(JsonLines<std::io::Stdout>);

impl Default for TransferJson {
    /// Lines on stdout.
    fn default() -> TransferJson {
        TransferJson(JsonLines::new(std::io::stdout(), Default::default()))
    }
}

impl Sink for TransferJson {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        match event.kind {
            EventKind::TransferStart(_)
            | EventKind::TransferProgress(_)
            | EventKind::TransferDone(_)
            | EventKind::TransferFailed { .. } => self.0.handle(event),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.finish()
    }
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
