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

use super::{assemble_sinks, Sink, StdoutView, ViewOptions};

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

impl DumpFormat {
    /// The dump asked for: `--dump FORMAT`, else what `--json`, `--hex`
    /// or `-t` alone imply (json, hex, text), else none.
    pub fn chosen(flag: Option<&str>, view: &ViewOptions) -> Result<Option<DumpFormat>, String> {
        Ok(match flag {
            Some(format) => Some(format.parse::<DumpFormat>()?),
            None if view.json => Some(DumpFormat::Json),
            None if view.hex => Some(DumpFormat::Hex),
            None if view.timestamps => Some(DumpFormat::Text),
            None => None,
        })
    }
}

/// The sinks for a relay: status lines, the dump if asked, the log file and
/// the counters.
pub fn relay_sinks(view: &ViewOptions, dump: Option<DumpFormat>) -> io::Result<Vec<Box<dyn Sink>>> {
    let stdout = match dump {
        Some(DumpFormat::Json) => StdoutView::Json,
        Some(_) => StdoutView::Transcript,
        None => StdoutView::Nothing,
    };
    assemble_sinks(view, stdout, dump == Some(DumpFormat::Hex))
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
