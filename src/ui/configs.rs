//! The engine configs of the page's sessions: a client is like
//! `sockmate connect` at a terminal (it ends when the peer does, unless it
//! reconnects), a server like `sockmate listen -k` with no service (what
//! clients send is shown, the page sends).

use std::time::Duration;

use super::protocol::OpenSpec;
use crate::encoding::TextEncoding;
use crate::endpoint::Endpoint;
use crate::engine::{ConnectConfig, ListenConfig};
use crate::frame::DEFAULT_MAX_FRAME;
use crate::service::{respond, Rules, ServiceConfig};
use crate::session::SessionConfig;
use crate::template::CTIME_FORMAT;
use crate::transport::{BindAddr, SocketOptions};

/// The longest wait a reconnecting client allows between attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// How long a client tries to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn socket_options(spec: &OpenSpec) -> Result<SocketOptions, String> {
    let bind = match spec
        .bind
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        None => None,
        Some(b) => Some(
            b.parse::<BindAddr>()
                .map_err(|e| format!("bad local address: {e}"))?,
        ),
    };
    Ok(SocketOptions {
        bind,
        ip: std::sync::Arc::new(crate::transport::ipopts::IpOptions {
            broadcast: spec.broadcast,
            ..Default::default()
        }),
        connect_timeout: Some(CONNECT_TIMEOUT),
        ..SocketOptions::default()
    })
}

/// Refuses a side that is not a socket: the page must not run commands
/// or touch files (`exec:`, `file:`, …) on this machine.
fn sockets_only(endpoint: &Endpoint) -> Result<(), String> {
    match endpoint {
        Endpoint::Local(spec) => Err(format!(
            "{} sides are for the command line, not the browser (use a socket endpoint, e.g. tcp://127.0.0.1:9000)",
            spec.name()
        )),
        _ => Ok(()),
    }
}

/// The config of a client session.
pub fn connect_config(spec: &OpenSpec) -> Result<ConnectConfig, String> {
    let endpoint: Endpoint = spec.endpoint.trim().parse().map_err(|e| format!("{e}"))?;
    sockets_only(&endpoint)?;
    Ok(ConnectConfig {
        endpoint,
        socket: socket_options(spec)?,
        session: SessionConfig {
            end_on_peer_eof: true,
            ..SessionConfig::default()
        },
        sends: Default::default(),
        reconnect: spec.reconnect.then_some(RECONNECT_MAX),
        reconnect_on_close: true,
        exec: None,
    })
}

/// The config of a server session.
pub fn listen_config(spec: &OpenSpec) -> Result<ListenConfig, String> {
    let endpoint = Endpoint::parse_listen(&spec.endpoint).map_err(|e| format!("{e}"))?;
    sockets_only(&endpoint)?;
    Ok(ListenConfig {
        endpoint,
        // A server listens on its endpoint; a local address is for clients.
        socket: socket_options(&OpenSpec {
            bind: None,
            ..spec.clone()
        })?,
        session: SessionConfig {
            end_on_peer_eof: true,
            ..SessionConfig::default()
        },
        keep_open: true,
        sends: Default::default(),
        service: respond_service(spec)?,
        admission: Default::default(),
    })
}

/// A server's `--respond` rules as its service (none without rules).
fn respond_service(spec: &OpenSpec) -> Result<Option<ServiceConfig>, String> {
    let rules: Vec<&str> = spec
        .respond
        .iter()
        .map(|r| r.trim_end_matches(['\r', '\n']))
        .filter(|r| !r.trim().is_empty())
        .collect();
    if rules.is_empty() {
        return Ok(None);
    }
    let encoding = match &spec.encoding {
        Some(label) => TextEncoding::from_label(label).map_err(|e| e.to_string())?,
        None => TextEncoding::default(),
    };
    let mut parsed = Rules {
        encoding,
        ..Rules::default()
    };
    for rule in rules {
        parsed
            .rules
            .push(respond::parse_rule_in(rule, CTIME_FORMAT, encoding)?);
    }
    parsed
        .check_budget()
        .map_err(|e| format!("respond rules: {e}"))?;
    Ok(Some(ServiceConfig {
        rules: parsed,
        max_frame: DEFAULT_MAX_FRAME,
        time_format: CTIME_FORMAT.to_string(),
        encoding,
        ..ServiceConfig::default()
    }))
}

/// How long a page's scan waits for each port.
const SCAN_TIMEOUT: Duration = Duration::from_secs(1);

/// A scan like `sockmate scan HOST PORTS`: the endpoint is the host.
pub fn scan_config(spec: &OpenSpec) -> Result<crate::scan::config::ScanConfig, String> {
    let host_text = spec.endpoint.trim();
    let host = crate::scan::parse_host(host_text)?;
    let ports = spec
        .ports
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or("a scan needs ports, e.g. 22,80,8000-8100")?;
    let ports = crate::scan::ports::parse_ports(ports).map_err(|e| e.to_string())?;
    Ok(crate::scan::config::ScanConfig::new(host, host_text, ports).timeout(SCAN_TIMEOUT))
}

/// The folder a page's `receive` stores into when it names none.
const RECEIVE_DIR: &str = "received";

/// A receiver like `sockmate receive -k ENDPOINT --dir DIR`, where DIR is
/// a folder (a plain name) inside the record directory `records`.
pub fn receive_config(
    spec: &OpenSpec,
    records: &super::records::RecordDir,
) -> Result<crate::transfer::config::ReceiveConfig, String> {
    let endpoint = Endpoint::parse_listen(&spec.endpoint).map_err(|e| format!("{e}"))?;
    let name = spec
        .dir
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(RECEIVE_DIR);
    super::records::check_name(name)?;
    let root = records
        .path()
        .ok_or("no record directory to receive into: start with `sockmate ui --record-dir DIR`")?;
    Ok(crate::transfer::config::ReceiveConfig::new(endpoint, root.join(name)).keep_open())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::protocol::Role;

    fn spec(role: Role, endpoint: &str, bind: Option<&str>) -> OpenSpec {
        OpenSpec {
            role,
            endpoint: endpoint.into(),
            bind: bind.map(Into::into),
            reconnect: true,
            broadcast: true,
            encoding: None,
            respond: Vec::new(),
            ports: None,
            dir: None,
        }
    }

    #[test]
    fn clients_and_servers_get_their_options_and_errors_name_the_bad_part() {
        let c = connect_config(&spec(
            Role::Connect,
            "udp://127.0.0.1:9",
            Some("0.0.0.0:9001"),
        ))
        .unwrap();
        assert!(c.socket.ip.broadcast && c.reconnect.is_some() && c.session.end_on_peer_eof);
        assert_eq!(
            c.socket.bind,
            Some(BindAddr::Ip("0.0.0.0:9001".parse().unwrap()))
        );
        let l = listen_config(&spec(Role::Listen, "9000", Some("ignored"))).unwrap();
        assert_eq!(l.endpoint.to_string(), "tcp://127.0.0.1:9000");
        assert!(l.keep_open && l.service.is_none() && l.socket.bind.is_none());
        let err = connect_config(&spec(Role::Connect, "tcp://h:1", Some("nope"))).unwrap_err();
        assert!(err.contains("\"nope\""), "{err}");
        let err = connect_config(&spec(Role::Connect, "bogus://x", None)).unwrap_err();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn the_page_cannot_run_commands_or_touch_files() {
        for side in ["exec:sh", "sh:rm -rf x", "file:/etc/passwd?read", "-"] {
            let err = connect_config(&spec(Role::Connect, side, None)).unwrap_err();
            assert!(err.contains("not the browser"), "{side}: {err}");
            let err = listen_config(&spec(Role::Listen, side, None)).unwrap_err();
            assert!(err.contains("not the browser"), "{side}: {err}");
        }
    }
}
