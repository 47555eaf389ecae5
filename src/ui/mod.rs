//! The browser front-end: `sockmate ui`, the network debugging assistant
//! (NetAssist, Packet Sender) as a page served by the binary, and `--ui` on
//! `connect`, `listen` and `relay` to show a command-line session live in
//! the browser.
//!
//! - [`auth`]: the token (constant-time compare) and the `Host`/`Origin`
//!   checks;
//! - [`assets`]: the page, compiled into the binary (no CDN);
//! - [`server`]: the axum routes (page, assets, one WebSocket);
//!   [`http`]: the connections they are served on, with header-read and
//!   idle timeouts;
//! - [`protocol`]: the JSON commands the page sends and what it gets back;
//!   [`packets`]: saved messages as a `--profile` TOML, both ways;
//! - [`sessions`]: the sessions the page (or the CLI) runs, each on an
//!   [`Engine`] of its own; [`configs`]: their engine configs;
//! - [`records`]: the one directory "Record to file" writes into;
//!   [`capture`]: a record file named `*.pcapng` gets a capture;
//! - [`history`]: each session's recent messages, replayed to a page
//!   that connects later;
//! - [`forward`]: turns one session's lossy event stream into messages for
//!   the page (decoded text, a display budget that never slows a socket);
//! - [`socket`]: one browser's WebSocket: commands in, messages out.

pub mod assets;
pub mod auth;
pub mod capture;
pub mod configs;
pub mod forward;
pub mod history;
pub mod http;
pub mod outgoing;
pub mod packets;
pub mod protocol;
pub mod records;
pub mod server;
pub mod sessions;
pub mod socket;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::encoding::TextEncoding;
use crate::engine::{Engine, Handle};
use crate::error::ConfigError;
pub use protocol::Kind;

pub use records::RecordDir;
pub use server::UiServer;

/// Parses `--bind`: `PORT`, `IP` or `IP:PORT`.
pub fn parse_bind(text: &str) -> Result<SocketAddr, ConfigError> {
    let t = text.trim();
    if let Ok(port) = t.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 0));
    }
    Err(ConfigError::new(format!(
        "invalid --bind \"{text}\" (give PORT, IP or IP:PORT, e.g. --bind 127.0.0.1:8080)"
    )))
}

/// The page serving one command-line session (`--ui`).
pub struct CliUi {
    server: UiServer,
    id: u64,
    kind: Kind,
    verb: &'static str,
    rest: String,
}

impl CliUi {
    /// Serves the page for `engine`'s session of `kind`, shown as `verb
    /// endpoint rest` (the endpoint replaced by the real one once it has
    /// started) and decoded with `encoding`, and prints the `ui on …` line
    /// on stderr. Call before starting the session, so the page sees its
    /// first events.
    pub async fn start(
        engine: &Engine,
        kind: Kind,
        endpoint: &str,
        rest: &str,
        encoding: TextEncoding,
    ) -> anyhow::Result<CliUi> {
        let verb = match kind {
            Kind::Client => "connect",
            Kind::Server => "listen",
            Kind::Relay => "relay",
            Kind::Scan => "scan",
            Kind::Transfer => "receive",
        };
        let label = format!("{verb} {endpoint}{rest}");
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        let server = UiServer::start(addr, engine.shutdown().clone(), RecordDir::new(None)).await?;
        let id = server
            .sessions()
            .adopt(engine, label.clone(), kind, encoding);
        say(&format!("ui on {}", server.url()));
        Ok(CliUi {
            server,
            id,
            kind,
            verb,
            rest: rest.to_string(),
        })
    }

    /// The session has started: the page can list and close its
    /// connections (and send to them, but for a relay), and shows its real
    /// addresses.
    pub fn started(&self, handle: &Handle, endpoint: &str) {
        let real = handle.local_addr().to_string();
        let (local, shown) = match self.kind {
            // A client's local address is in its `open` event.
            Kind::Client | Kind::Scan => (String::new(), endpoint.to_string()),
            Kind::Server | Kind::Relay | Kind::Transfer => (real.clone(), real),
        };
        let label = format!("{} {shown}{}", self.verb, self.rest);
        self.server
            .sessions()
            .adopted(self.id, handle.remote(), local, label);
    }
}

/// One line on stderr; a closed or full stderr is
/// ignored (`eprintln!` would panic).
pub(crate) fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_a_port_an_ip_or_both() {
        assert_eq!(parse_bind("8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(parse_bind("0.0.0.0").unwrap().to_string(), "0.0.0.0:0");
        assert_eq!(parse_bind("[::1]:9").unwrap().to_string(), "[::1]:9");
        let err = parse_bind("nope").unwrap_err().to_string();
        assert!(err.contains("invalid --bind \"nope\""), "{err}");
    }
}
