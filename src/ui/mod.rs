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
pub mod packets;
pub mod protocol;
pub mod records;
pub mod server;
pub mod sessions;
pub mod socket;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::Args;

use crate::encoding::TextEncoding;
use crate::engine::{Engine, Handle};
use crate::error::ConfigError;
use crate::shutdown::Shutdown;
pub use protocol::Kind;

pub use records::RecordDir;
pub use server::UiServer;

/// `sockmate ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// Address to serve the page on: PORT, IP or IP:PORT (default 127.0.0.1, port 0 = any free port). Anything but loopback lets other hosts reach it (they still need the token).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        help_heading = "Endpoint and socket"
    )]
    pub bind: String,
    /// Start the system's browser on the page.
    #[arg(long, help_heading = "Views")]
    pub open: bool,
    /// The one directory "Record to file" writes into (the page names a file in it by name alone). Default: a `sockmate` folder in the user's data directory.
    #[arg(long, value_name = "DIR", help_heading = "Views")]
    pub record_dir: Option<std::path::PathBuf>,
}

/// `--ui` on connect, listen and relay.
#[derive(Debug, Clone, Default, Args)]
pub struct UiFlag {
    /// Also show this session live in the browser: prints `ui on http://127.0.0.1:PORT/#token=…` on stderr.
    #[arg(long, help_heading = "Views")]
    pub ui: bool,
}

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

/// Runs `sockmate ui` until interrupted.
pub async fn run(args: UiArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    let addr = parse_bind(&args.bind)?;
    let records = RecordDir::new(args.record_dir);
    let records_line = match records.path() {
        Some(dir) => format!("records go to {}", dir.display()),
        None => "records are off: no data directory (give --record-dir DIR)".to_string(),
    };
    let server = UiServer::start(addr, shutdown.clone(), records).await?;
    say(&format!("ui on {}", server.url()));
    say(&records_line);
    if args.open {
        open_browser(&server.url());
    }
    shutdown.cancelled().await;
    Ok(())
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
            Kind::Client => (String::new(), endpoint.to_string()),
            Kind::Server | Kind::Relay => (real.clone(), real),
        };
        let label = format!("{} {shown}{}", self.verb, self.rest);
        self.server
            .sessions()
            .adopted(self.id, handle.remote(), local, label);
    }
}

fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        say(&format!(
            "sockmate: cannot start a browser with {program} ({e}); open the address above yourself"
        ));
    }
}

/// One line on stderr; a closed or full stderr is
/// ignored (`eprintln!` would panic).
fn say(line: &str) {
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
