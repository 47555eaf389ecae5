//! The TLS and WebSocket flag groups (`tls://`, `ws://`, `wss://`), shared
//! by connect, listen, relay and bench through [`crate::cli::args::CommonArgs`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::args::{parse_duration, LineMode};
use crate::send::Eol;
use crate::transport::tls::{parse_pin, TlsOptions};
use crate::transport::ws::{parse_header, WsOptions};

/// TLS options (used by `tls://`, `wss://`, `tls+unix://` and `wss+unix://`
/// endpoints).
#[derive(Debug, Args, Clone, Default)]
pub struct TlsArgs {
    /// Trust the CA certificates in this PEM file too, besides the system's (repeatable).
    #[arg(long, value_name = "FILE", help_heading = "TLS", value_parser = existing_file)]
    pub ca: Vec<PathBuf>,
    /// Accept exactly the server certificate with this SHA-256 fingerprint (as printed on a sockmate server's listening line; colons optional).
    #[arg(long, value_name = "SHA256", help_heading = "TLS", value_parser = check_pin)]
    pub pin: Option<String>,
    /// Do not verify the server's certificate (says so on stderr). Prefer --pin.
    #[arg(long, help_heading = "TLS", conflicts_with = "pin")]
    pub insecure: bool,
    /// Server name to send (SNI) and to verify, instead of the endpoint's host (localhost over a Unix socket: tls+unix://).
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub sni: Option<String>,
    /// ALPN protocols to offer or accept, comma-separated, in order (e.g. h2,http/1.1).
    #[arg(long, value_name = "LIST", help_heading = "TLS", value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Certificate chain (PEM): the server's, or the client's for mutual TLS. A server without one makes a self-signed certificate.
    #[arg(long, value_name = "FILE", help_heading = "TLS", requires = "key", value_parser = existing_file)]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", help_heading = "TLS", requires = "cert", value_parser = existing_file)]
    pub key: Option<PathBuf>,
    /// Server: require client certificates signed by the CAs in this PEM file (mutual TLS).
    #[arg(long, value_name = "FILE", help_heading = "TLS", value_parser = existing_file)]
    pub client_ca: Option<PathBuf>,
    /// Give up a TLS or WebSocket handshake that takes longer than this (default 10s).
    #[arg(long = "tls-timeout", value_name = "DURATION", help_heading = "TLS", value_parser = parse_duration)]
    pub handshake_timeout: Option<Duration>,
}

/// WebSocket options (used by `ws://`, `wss://`, `ws+unix://` and
/// `wss+unix://` endpoints).
#[derive(Debug, Args, Clone, Default)]
pub struct WsArgs {
    /// Server: accept WebSocket requests for this path only (any path by default).
    #[arg(long, value_name = "PATH", help_heading = "WebSocket")]
    pub path: Option<String>,
    /// Send each input chunk (line) as a text frame instead of a binary one.
    #[arg(long, help_heading = "WebSocket")]
    pub ws_text: bool,
    /// Extra header for the client handshake, 'Name: value' (repeatable).
    #[arg(long, value_name = "'NAME: VALUE'", help_heading = "WebSocket", value_parser = check_header)]
    pub header: Vec<String>,
    /// Subprotocol to ask for (client) or accept (server), Sec-WebSocket-Protocol.
    #[arg(long, value_name = "PROTOCOL", help_heading = "WebSocket")]
    pub ws_protocol: Option<String>,
}

/// A PEM file that exists (read when the connection or listener starts).
fn existing_file(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("no such file \"{text}\" (give a PEM file)"))
    }
}

fn check_pin(text: &str) -> Result<String, String> {
    parse_pin(text).map(|_| text.to_string())
}

fn check_header(text: &str) -> Result<String, String> {
    parse_header(text).map(|_| text.to_string())
}

impl TlsArgs {
    /// The TLS options these flags set.
    pub fn options(&self) -> TlsOptions {
        TlsOptions {
            ca: self.ca.clone(),
            pin: self.pin.clone(),
            insecure: self.insecure,
            sni: self.sni.clone(),
            alpn: self
                .alpn
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_ca: self.client_ca.clone(),
            handshake_timeout: self.handshake_timeout,
        }
    }
}

impl WsArgs {
    /// `--ws-text` reads stdin as lines, each one text frame without its
    /// line ending (unless `--eol` says otherwise), as websocat does.
    pub fn line_mode(&self, mut mode: LineMode) -> LineMode {
        if self.ws_text {
            mode.lines = true;
            mode.eol = mode.eol.or(Some(Eol::None));
        }
        mode
    }

    /// The WebSocket options these flags set.
    pub fn options(&self) -> WsOptions {
        WsOptions {
            // `--path feed` means `/feed`.
            path: self.path.as_ref().map(|p| {
                if p.starts_with('/') {
                    p.clone()
                } else {
                    format!("/{p}")
                }
            }),
            text: self.ws_text,
            headers: self.header.clone(),
            protocol: self.ws_protocol.clone(),
            max_message: None,
            budget: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn connect(args: &[&str]) -> Result<crate::cli::connect::ConnectArgs, String> {
        let mut all = vec!["sockmate", "connect", "tls://h:1"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all) {
            Ok(cli) => match cli.command {
                Command::Connect(args) => Ok(args),
                _ => Err("not connect".into()),
            },
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn tls_and_ws_flags_parse_into_options() {
        let args = connect(&["--alpn", "h2,http/1.1", "--sni", "x.example", "--ws-text"]).unwrap();
        let opts = args.common.socket_options();
        assert_eq!(opts.tls.alpn, ["h2", "http/1.1"]);
        assert_eq!(opts.tls.sni.as_deref(), Some("x.example"));
        assert!(opts.ws.text);
        let lines = args.common.ws.line_mode(Default::default());
        assert!(lines.lines);
        let path = connect(&["--path", "feed"])
            .unwrap()
            .common
            .ws
            .options()
            .path;
        assert_eq!(path.as_deref(), Some("/feed"));
    }

    #[test]
    fn bad_tls_and_ws_flags_are_named() {
        assert!(connect(&["--pin", "xyz"])
            .unwrap_err()
            .contains("64 hex digits"));
        assert!(connect(&["--ca", "/no/such.pem"])
            .unwrap_err()
            .contains("no such file"));
        assert!(
            connect(&["--cert", "/etc/hostname"]).is_err(),
            "--cert needs --key"
        );
        assert!(connect(&["--header", "nocolon"])
            .unwrap_err()
            .contains("no colon"));
        assert!(connect(&["--pin", &"ab".repeat(32), "--insecure"]).is_err());
    }
}
