//! What a serving listener does, validated and buildable without clap:
//! [`ServiceConfig`] and the ready-made services ([`Serve`]).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Clients a service serves at once when `--max-conns` is not given: with
/// the [`BufferBudget`](super::budget::BufferBudget) and ~5 KB per idle
/// connection, a default server stays within a few hundred MB.
pub const DEFAULT_SERVICE_MAX_CONNS: usize = 20_000;

use super::{respond, ExecSpec, Rules};
use crate::encoding::TextEncoding;
use crate::error::ConfigError;
use crate::frame::FrameSpec;
use crate::template::Template;

/// Bytes reserved for one socket read in a service (and only once the
/// socket is readable, so idle connections hold no buffer).
pub const SERVICE_READ_SIZE: usize = 64 * 1024;

/// The reply template of `--serve time` (the tutorials' timestamp server).
pub const TIME_REPLY: &str = "[{time}] {text}";

/// The line sent to a client whose message is over `--max-frame`.
pub fn frame_too_long_line(max: usize) -> String {
    format!("sockmate: message longer than --max-frame {max} bytes; closing\n")
}

/// A ready-made service (`--serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Send back every byte.
    Echo,
    /// Read and drop everything.
    Discard,
    /// Answer each message with `[{time}] {text}`.
    Time,
    /// Send the RFC 864 character pattern until the client goes.
    Chargen,
    /// A chat room: lines relayed to the others as `[nick] text`.
    Chat,
    /// Raw bytes relayed to every other client.
    Broker,
    /// Run `--exec`/`--sh-exec` per connection.
    Exec,
    /// A SOCKS5 proxy server.
    Socks5,
    /// An HTTP proxy server (CONNECT and absolute-URI requests).
    HttpProxy,
}

impl Serve {
    /// The proxy protocol, for `socks5` and `http-proxy`.
    pub fn proxy_protocol(self) -> Option<super::proxy::ProxyProtocol> {
        match self {
            Serve::Socks5 => Some(super::proxy::ProxyProtocol::Socks5),
            Serve::HttpProxy => Some(super::proxy::ProxyProtocol::Http),
            _ => None,
        }
    }
}

impl FromStr for Serve {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "echo" => Serve::Echo,
            "discard" => Serve::Discard,
            "time" | "daytime" => Serve::Time,
            "chargen" => Serve::Chargen,
            "chat" => Serve::Chat,
            "broker" => Serve::Broker,
            "exec" => Serve::Exec,
            "socks5" => Serve::Socks5,
            "http-proxy" => Serve::HttpProxy,
            _ => {
                return Err(format!(
                "invalid --serve \"{s}\" (use echo, discard, time, chargen, chat, broker, exec, socks5 or http-proxy)"
            ))
            }
        })
    }
}

impl fmt::Display for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Serve::Echo => "echo",
            Serve::Discard => "discard",
            Serve::Time => "time",
            Serve::Chargen => "chargen",
            Serve::Chat => "chat",
            Serve::Broker => "broker",
            Serve::Exec => "exec",
            Serve::Socks5 => "socks5",
            Serve::HttpProxy => "http-proxy",
        })
    }
}

/// Everything a serving listener does, validated: start from
/// [`ServiceConfig::serving`] (or `default()` for rules and replies alone)
/// and change what differs.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// How streams are cut into messages.
    pub frame: FrameSpec,
    /// Longest message.
    pub max_frame: usize,
    /// Sent to each client on connect (each new datagram peer).
    pub banner: Option<Vec<u8>>,
    /// Reply to each message (`--reply`, or `time`'s `[{time}] {text}`).
    pub reply: Option<Template>,
    /// `--respond` rules and default.
    pub rules: Rules,
    /// A message equal to this (line ending trimmed) closes the connection.
    pub quit_word: Option<Vec<u8>>,
    /// A ready-made service.
    pub serve: Option<Serve>,
    /// The command for `exec`.
    pub exec: Option<ExecSpec>,
    /// `--exec-per-message`: the command runs once per message, with the
    /// message as its stdin and its output as the reply.
    pub exec_per_message: bool,
    /// Close a connection after this long without traffic.
    pub idle_timeout: Option<Duration>,
    /// `--max-buffered`: bytes of unfinished messages and read buffers
    /// held over all clients (`None`: [`super::budget::DEFAULT_BUFFER_BUDGET`]).
    pub max_buffered: Option<usize>,
    /// `--respond-file`, loaded when the server starts.
    pub respond_file: Option<PathBuf>,
    /// strftime layout for `{time}` in rules loaded from the file.
    pub time_format: String,
    /// `--encoding`: the text of banners, replies, rules, the quit word and
    /// chat notices is sent in it, and regexes see messages decoded from it.
    pub encoding: TextEncoding,
    /// `sockmate replay --as server`: answer from a recorded session.
    pub replay: Option<std::sync::Arc<super::replay::ReplayTable>>,
    /// `--serve socks5|http-proxy`: the proxy server's settings.
    pub proxy: Option<std::sync::Arc<super::proxy::ProxyServer>>,
}

impl ServiceConfig {
    /// A ready-made service (`--serve NAME`) with the defaults of
    /// `sockmate listen --serve NAME`.
    pub fn serving(serve: Serve) -> Self {
        let time_format = crate::template::CTIME_FORMAT;
        // The fixed layout always parses; `time` without it would only echo.
        let reply = match serve {
            Serve::Time => crate::template::Template::parse(TIME_REPLY, time_format).ok(),
            _ => None,
        };
        ServiceConfig {
            serve: Some(serve),
            reply,
            max_frame: crate::frame::DEFAULT_MAX_FRAME,
            time_format: time_format.to_string(),
            ..ServiceConfig::default()
        }
    }

    /// True for `--serve echo` with nothing else answering (raw frames, no
    /// reply template, no respond rules, no quit word).
    pub fn is_pure_echo(&self) -> bool {
        self.serve == Some(Serve::Echo)
            && self.frame.is_raw()
            && self.reply.is_none()
            && self.rules.is_empty()
            && self.quit_word.is_none()
    }

    /// Loads `--respond-file` rules after the `--respond` ones. A missing
    /// file or a bad rule is a usage error naming the file and line.
    pub fn load_rules_file(&mut self) -> Result<(), ConfigError> {
        let Some(path) = self.respond_file.take() else {
            return Ok(());
        };
        let content = std::fs::read_to_string(&path).map_err(|e| {
            ConfigError::new(format!(
                "cannot read --respond-file {}: {e}",
                path.display()
            ))
        })?;
        let time_format = if self.time_format.is_empty() {
            crate::template::CTIME_FORMAT
        } else {
            &self.time_format
        };
        let rules = respond::parse_rules_file_in(&content, time_format, self.encoding)
            .map_err(|e| ConfigError::new(format!("--respond-file {}: {e}", path.display())))?;
        self.rules.rules.extend(rules);
        self.rules
            .check_budget()
            .map_err(|e| ConfigError::new(format!("--respond-file {}: {e}", path.display())))
    }

    /// Words for the startup line, e.g. a warning that exec is on.
    pub fn startup_note(&self) -> Option<String> {
        if let Some(proxy) = &self.proxy {
            return Some(proxy.startup_note());
        }
        self.exec.as_ref().map(|exec| {
            format!(
                "(warning: --exec is on: every client runs `{}`)",
                exec.display
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn serve_names_round_trip() {
        for name in [
            "echo",
            "discard",
            "time",
            "chargen",
            "chat",
            "broker",
            "exec",
            "socks5",
            "http-proxy",
        ] {
            assert_eq!(name.parse::<Serve>().unwrap().to_string(), name);
        }
        assert!("ECHO".parse::<Serve>().is_ok());
        assert!("nope".parse::<Serve>().unwrap_err().contains("use echo"));
    }

    proptest! {
        #[test]
        fn serve_parser_never_panics(s in "\\PC{0,12}") {
            if let Ok(serve) = s.parse::<Serve>() {
                prop_assert_eq!(serve.to_string().parse::<Serve>().unwrap(), serve);
            }
        }
    }
}
