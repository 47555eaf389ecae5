//! `relay --dump text|hex|json`: which sinks show relayed traffic. The
//! rendering itself is the shared view layer's ([`crate::view`]): the
//! annotated transcript for text and hex, JSON Lines for json, the same
//! `--encoding`, `-t`, `--log`, `--stats` and `--color` as `connect` and
//! `listen`.
//!
//! Relayed connections are labelled `#ID CLIENT` (e.g. `#3 127.0.0.1:51234`)
//! so that every dumped message carries its connection id; `<` is client →
//! target and `>` is target → client.

use std::io;

use crate::view::printer::{Body, Style, Transcript};
use crate::view::{json::JsonLines, raw, stats::Stats, status::StatusLines, Sink, ViewOptions};

/// How dumped traffic is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// Decoded text, one line per message.
    Text,
    /// A hex dump per message (`--text` adds the decoded text).
    Hex,
    /// One JSON object a line per event.
    Json,
}

impl std::str::FromStr for DumpFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(DumpFormat::Text),
            "hex" => Ok(DumpFormat::Hex),
            "json" => Ok(DumpFormat::Json),
            _ => Err(format!(
                "invalid --dump \"{s}\" (give text, hex or json, e.g. --dump hex)"
            )),
        }
    }
}

/// The sinks for a relay: status lines, the dump if asked, the log file and
/// the counters.
pub fn relay_sinks(view: &ViewOptions, dump: Option<DumpFormat>) -> io::Result<Vec<Box<dyn Sink>>> {
    let encoding = view.text_encoding();
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(StatusLines::new(view.verbosity))];
    let body = match (dump, view.text) {
        (Some(DumpFormat::Hex), true) => Body::HexAndText,
        (Some(DumpFormat::Hex), false) => Body::Hex,
        _ => Body::Text,
    };
    match dump {
        Some(DumpFormat::Json) => {
            sinks.push(Box::new(JsonLines::new(raw::stdout_writer()?, encoding)));
        }
        Some(_) => {
            let style = Style {
                body,
                timestamps: view.timestamps,
                color: view.color == crate::view::ColorChoice::Always
                    || (view.color == crate::view::ColorChoice::Auto
                        && std::env::var_os("NO_COLOR").is_none()
                        && std::io::IsTerminal::is_terminal(&io::stdout())),
                encoding,
                status: false,
            };
            sinks.push(Box::new(Transcript::new(raw::stdout_writer()?, style)));
        }
        None => {}
    }
    if let Some(path) = &view.log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open log file {}: {e}", path.display()),
                )
            })?;
        let file = io::BufWriter::new(file);
        if dump == Some(DumpFormat::Json) {
            sinks.push(Box::new(JsonLines::new(file, encoding)));
        } else {
            let style = Style {
                body,
                timestamps: true,
                color: false,
                encoding,
                status: true,
            };
            sinks.push(Box::new(Transcript::new(file, style)));
        }
    }
    if view.stats {
        sinks.push(Box::new(Stats::new()));
    }
    Ok(sinks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_say_what_to_write() {
        assert!("xml"
            .parse::<DumpFormat>()
            .unwrap_err()
            .contains("text, hex or json"));
        assert_eq!("HEX".parse::<DumpFormat>().unwrap(), DumpFormat::Hex);
    }
}
