//! Endpoints: the parsed, validated address a command talks to.
//!
//! An endpoint is written as a URL (`tcp://127.0.0.1:9000`, `udp://[::1]:53`,
//! `unix:///run/app.sock`, `unix-dgram://@name`, …). Parsing is pure (no I/O,
//! no name resolution) and every error names the bad part and shows a correct
//! form. [`Endpoint`]'s `FromStr` and `Display` round-trip.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub mod icmp;
pub mod layered;
pub mod local;
pub mod serial;
pub use layered::OverUnix;
pub use local::LocalSpec;
pub use serial::SerialSpec;

/// Longest Unix socket path the kernel accepts (`sun_path` is 108 bytes with
/// its terminating NUL).
pub const MAX_UNIX_PATH: usize = 107;

/// The socket kinds sockmate speaks, one per URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// TCP stream (`tcp://`).
    Tcp,
    /// UDP datagrams (`udp://`).
    Udp,
    /// Unix stream socket (`unix://`).
    Unix,
    /// Unix datagram socket (`unix-dgram://`).
    UnixDgram,
    /// Unix sequenced-packet socket (`unix-seqpacket://`).
    UnixSeqpacket,
    /// TLS over TCP (`tls://`).
    Tls,
    /// WebSocket over TCP (`ws://`).
    Ws,
    /// WebSocket over TLS (`wss://`).
    Wss,
    /// A serial port (`serial://`).
    Serial,
    /// A side that is not a socket: stdio, a command, a file or a
    /// pseudo-terminal (`-`, `exec:`, `sh:`, `file:`, `pty:`).
    Local,
    /// TLS over a Unix stream socket (`tls+unix://`).
    TlsUnix,
    /// WebSocket over a Unix stream socket (`ws+unix://`).
    WsUnix,
    /// WebSocket over TLS over a Unix stream socket (`wss+unix://`).
    WssUnix,
}

/// The one table of URL schemes: canonical name first, then aliases.
const SCHEMES: &[(Kind, &[&str])] = &[
    (Kind::Tcp, &["tcp"]),
    (Kind::Udp, &["udp"]),
    (Kind::Unix, &["unix", "unix-stream"]),
    (Kind::UnixDgram, &["unix-dgram", "unix-datagram"]),
    (Kind::UnixSeqpacket, &["unix-seqpacket"]),
    (Kind::Tls, &["tls", "ssl"]),
    (Kind::Ws, &["ws"]),
    (Kind::Wss, &["wss"]),
    (Kind::Serial, &["serial", "tty"]),
    (Kind::TlsUnix, &["tls+unix"]),
    (Kind::WsUnix, &["ws+unix"]),
    (Kind::WssUnix, &["wss+unix"]),
];

impl Kind {
    /// `addr` (an address as printed: `127.0.0.1:9000`, `/run/app.sock`,
    /// `@name`) as an endpoint URL of this kind: `tcp://127.0.0.1:9000`,
    /// `unix:///run/app.sock`. Text that already is a URL is kept.
    pub fn url_of(self, addr: &str) -> String {
        if addr.contains("://") {
            addr.to_string()
        } else {
            format!("{}://{addr}", self.scheme())
        }
    }

    /// The canonical URL scheme of this kind.
    pub fn scheme(self) -> &'static str {
        if self == Kind::Local {
            return "local";
        }
        SCHEMES
            .iter()
            .find(|(kind, _)| *kind == self)
            .map(|(_, names)| names[0])
            .unwrap_or("tcp")
    }

    /// True for kinds that carry a byte stream (or, for seqpacket, a
    /// connection with a clean end), false for datagram kinds.
    pub fn is_connection_oriented(self) -> bool {
        matches!(
            self,
            Kind::Tcp
                | Kind::Unix
                | Kind::UnixSeqpacket
                | Kind::Serial
                | Kind::Local
                | Kind::Tls
                | Kind::Ws
                | Kind::Wss
                | Kind::TlsUnix
                | Kind::WsUnix
                | Kind::WssUnix
        )
    }

    /// True when TLS is one of the layers (`tls://`, `wss://`,
    /// `tls+unix://`, `wss+unix://`).
    pub fn has_tls(self) -> bool {
        matches!(self, Kind::Tls | Kind::Wss | Kind::TlsUnix | Kind::WssUnix)
    }

    /// True when a WebSocket is the top layer (`ws://`, `wss://`,
    /// `ws+unix://`, `wss+unix://`): messages with a kind, no half-close.
    pub fn is_websocket(self) -> bool {
        matches!(self, Kind::Ws | Kind::Wss | Kind::WsUnix | Kind::WssUnix)
    }

    /// True when the kind keeps message boundaries (UDP, Unix datagram and
    /// seqpacket). WebSocket messages have boundaries too, but a relay
    /// between a byte stream and a WebSocket needs no `--frame`: each read
    /// becomes one message, so it counts as a stream kind here.
    pub fn keeps_message_boundaries(self) -> bool {
        !(matches!(self, Kind::Tcp | Kind::Unix | Kind::Serial | Kind::Local)
            || self.has_tls()
            || self.is_websocket())
    }

    /// The port a URL of this kind means when it names none (`wss://` 443,
    /// `ws://` 80, `tls://` 443).
    fn default_port(self) -> Option<u16> {
        match self {
            Kind::Tls | Kind::Wss => Some(443),
            Kind::Ws => Some(80),
            _ => None,
        }
    }

    fn from_scheme(scheme: &str) -> Option<Kind> {
        let lower = scheme.to_ascii_lowercase();
        SCHEMES
            .iter()
            .find(|(_, names)| names.contains(&lower.as_str()))
            .map(|(kind, _)| *kind)
    }
}

/// A host: an IP literal or a name to resolve later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name (or `localhost`), resolved when connecting or binding.
    Name(String),
    /// An IPv6 literal with a zone (`[fe80::1%eth0]`): the interface, by
    /// name or number, is looked up when connecting or binding.
    Scoped {
        /// The address.
        ip: std::net::Ipv6Addr,
        /// The zone: an interface name or index.
        zone: String,
    },
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
            // A zone that starts with "25" is written with RFC 6874's `%25`,
            // or `[fe80::1%250]` would read back as zone "0".
            Host::Scoped { ip, zone } if zone.starts_with("25") => write!(f, "[{ip}%25{zone}]"),
            Host::Scoped { ip, zone } => write!(f, "[{ip}%{zone}]"),
        }
    }
}

/// A Unix socket address: a filesystem path or a Linux abstract name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnixAddr {
    /// An absolute filesystem path.
    Path(PathBuf),
    /// A name in the Linux abstract namespace (written `@name`).
    Abstract(String),
}

impl fmt::Display for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnixAddr::Path(path) => write!(f, "{}", path.display()),
            UnixAddr::Abstract(name) => write!(f, "@{name}"),
        }
    }
}

/// A parsed endpoint. A closed set: every kind sockmate supports is a variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `tcp://HOST:PORT`
    Tcp {
        /// Host to connect to or bind.
        host: Host,
        /// Port; 0 asks the OS for a free one when listening.
        port: u16,
    },
    /// `udp://HOST:PORT`
    Udp {
        /// Host to send to or bind.
        host: Host,
        /// Port; 0 asks the OS for a free one when listening.
        port: u16,
    },
    /// `unix:///path` or `unix://@name`
    Unix(UnixAddr),
    /// `unix-dgram:///path` or `unix-dgram://@name`
    UnixDgram(UnixAddr),
    /// `unix-seqpacket:///path` or `unix-seqpacket://@name`
    UnixSeqpacket(UnixAddr),
    /// `tls://HOST:PORT`: TLS over TCP.
    Tls {
        /// Host to connect to (and the default SNI name) or bind.
        host: Host,
        /// Port; 0 asks the OS for a free one when listening.
        port: u16,
    },
    /// `ws://HOST:PORT/PATH` or `wss://…` (WebSocket, over TLS when
    /// `secure`).
    Ws {
        /// Host to connect to or bind.
        host: Host,
        /// Port; 0 asks the OS for a free one when listening.
        port: u16,
        /// The request path with its query, from `/`.
        path: String,
        /// `wss://`: TLS under the WebSocket.
        secure: bool,
    },
    /// `serial:///dev/ttyUSB0?baud=115200&data=8&parity=none&stop=1&flow=none`
    Serial(SerialSpec),
    /// `-`, `exec:…`, `sh:…`, `file:…` or `pty:…`: a side that is not a
    /// socket, opened where a socket would be connected.
    Local(LocalSpec),
    /// `tls+unix:///path`, `ws+unix:///path:/req`, `wss+unix://…`: TLS
    /// and/or WebSocket over a Unix stream socket.
    OverUnix(OverUnix),
}

/// Why an endpoint string was rejected. The message names the bad part and
/// shows a correct form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EndpointError {
    message: String,
}

impl EndpointError {
    fn new(message: String) -> Self {
        EndpointError { message }
    }
}

impl Endpoint {
    /// The socket kind of this endpoint.
    pub fn kind(&self) -> Kind {
        match self {
            Endpoint::Tcp { .. } => Kind::Tcp,
            Endpoint::Udp { .. } => Kind::Udp,
            Endpoint::Unix(_) => Kind::Unix,
            Endpoint::UnixDgram(_) => Kind::UnixDgram,
            Endpoint::UnixSeqpacket(_) => Kind::UnixSeqpacket,
            Endpoint::Tls { .. } => Kind::Tls,
            Endpoint::Ws { secure: false, .. } => Kind::Ws,
            Endpoint::Ws { secure: true, .. } => Kind::Wss,
            Endpoint::Serial(_) => Kind::Serial,
            Endpoint::Local(_) => Kind::Local,
            Endpoint::OverUnix(layers) => layers.kind(),
        }
    }

    /// The Unix address, for the Unix kinds.
    pub fn unix_addr(&self) -> Option<&UnixAddr> {
        match self {
            Endpoint::Unix(a) | Endpoint::UnixDgram(a) | Endpoint::UnixSeqpacket(a) => Some(a),
            Endpoint::OverUnix(layers) => Some(&layers.addr),
            _ => None,
        }
    }

    /// Host and port, for the IP kinds.
    pub fn host_port(&self) -> Option<(&Host, u16)> {
        match self {
            Endpoint::Tcp { host, port }
            | Endpoint::Udp { host, port }
            | Endpoint::Tls { host, port }
            | Endpoint::Ws { host, port, .. } => Some((host, *port)),
            _ => None,
        }
    }

    /// The socket address, for an IP kind whose host is an address (a
    /// listener's real address: `handle.local_addr().socket_addr()`).
    pub fn socket_addr(&self) -> Option<std::net::SocketAddr> {
        match self.host_port()? {
            (Host::Ip(ip), port) => Some(std::net::SocketAddr::new(*ip, port)),
            _ => None,
        }
    }

    /// The same endpoint at another address (a listener's real one, port 0
    /// resolved); keeps the kind and, for WebSocket, the path.
    pub fn with_socket_addr(&self, addr: std::net::SocketAddr) -> Endpoint {
        let host = Host::Ip(addr.ip());
        let port = addr.port();
        match self {
            Endpoint::Tls { .. } => Endpoint::Tls { host, port },
            Endpoint::Ws { path, secure, .. } => Endpoint::Ws {
                host,
                port,
                path: path.clone(),
                secure: *secure,
            },
            other => Endpoint::from_socket_addr(other.kind(), addr),
        }
    }

    /// Builds an IP endpoint of `kind` from a socket address.
    pub fn from_socket_addr(kind: Kind, addr: std::net::SocketAddr) -> Endpoint {
        let host = match addr {
            std::net::SocketAddr::V6(v6) if v6.scope_id() != 0 => Host::Scoped {
                ip: *v6.ip(),
                zone: v6.scope_id().to_string(),
            },
            _ => Host::Ip(addr.ip()),
        };
        match kind {
            Kind::Udp => Endpoint::Udp {
                host,
                port: addr.port(),
            },
            Kind::Tls => Endpoint::Tls {
                host,
                port: addr.port(),
            },
            Kind::Ws | Kind::Wss => Endpoint::Ws {
                host,
                port: addr.port(),
                path: "/".into(),
                secure: kind == Kind::Wss,
            },
            _ => Endpoint::Tcp {
                host,
                port: addr.port(),
            },
        }
    }

    /// Parses an endpoint as `listen` reads it: like [`FromStr`], and a bare
    /// `PORT` means `tcp://127.0.0.1:PORT` (loopback by default).
    pub fn parse_listen(input: &str) -> Result<Endpoint, EndpointError> {
        let trimmed = input.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let port = parse_port(trimmed, input)?;
            return Ok(Endpoint::Tcp {
                host: Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                port,
            });
        }
        input.parse()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.kind().scheme();
        match self {
            Endpoint::Tcp { host, port }
            | Endpoint::Udp { host, port }
            | Endpoint::Tls { host, port } => {
                write!(f, "{scheme}://{host}:{port}")
            }
            Endpoint::Ws {
                host, port, path, ..
            } => write!(f, "{scheme}://{host}:{port}{path}"),
            Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) | Endpoint::UnixSeqpacket(addr) => {
                write!(f, "{scheme}://{addr}")
            }
            Endpoint::Serial(spec) => write!(f, "{scheme}://{spec}"),
            Endpoint::Local(spec) => write!(f, "{spec}"),
            Endpoint::OverUnix(layers) => layers.fmt(f),
        }
    }
}

/// The error for an unknown scheme: the fix for this input first (a web
/// URL becomes `tcp://` or `ws://`), then the schemes there are.
fn unknown_scheme(scheme: &str, rest: &str, input: &str) -> String {
    const SCHEMES: &str =
        "tcp://, udp://, unix://, unix-dgram://, unix-seqpacket://, serial://, tls://, ws:// or wss://";
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let path = &rest[authority.len()..];
    let path = if path.is_empty() { "/" } else { path };
    let with_port = |default: u16| match authority.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() && !authority.ends_with(']') => {
            authority.to_string()
        }
        _ => format!("{authority}:{default}"),
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" if !authority.is_empty() => format!(
            "unknown scheme \"http\" in {input}: sockmate speaks sockets, not URLs; write tcp://{} for the raw connection (type the HTTP request yourself), or ws://{}{path} for a WebSocket (an HTTP upgrade)",
            with_port(80),
            with_port(80)
        ),
        "https" if !authority.is_empty() => format!(
            "unknown scheme \"https\" in {input}: sockmate speaks sockets, not URLs; write tls://{} for the TLS connection, or wss://{}{path} for a WebSocket over TLS",
            with_port(443),
            with_port(443)
        ),
        _ if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) => format!(
            "unknown scheme \"{scheme}\" in {input} (for a TCP connection write tcp://{authority}; the schemes are {SCHEMES})"
        ),
        _ => format!("unknown scheme \"{scheme}\" in {input} (use {SCHEMES})"),
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(input: &str) -> Result<Endpoint, EndpointError> {
        let endpoint = parse_endpoint(input)?;
        match unavailable_here(&endpoint) {
            Some(refusal) => Err(EndpointError::new(format!("{refusal} ({input})"))),
            None => Ok(endpoint),
        }
    }
}

/// Why `endpoint` cannot be used on this platform, if it cannot: Unix
/// sockets on Windows, abstract names off Linux.
fn unavailable_here(endpoint: &Endpoint) -> Option<String> {
    use crate::sys::unsupported::{refusal, ABSTRACT_NAMES, UNIX_SOCKETS};
    if let Endpoint::Local(spec) = endpoint {
        return spec.unavailable_here();
    }
    let addr = endpoint.unix_addr()?;
    let scheme = endpoint.kind().scheme();
    if !UNIX_SOCKETS {
        let instead = match endpoint.kind() {
            kind if !kind.is_connection_oriented() => "use udp://127.0.0.1:PORT instead",
            Kind::TlsUnix => "use tls://127.0.0.1:PORT instead",
            Kind::WsUnix => "use ws://127.0.0.1:PORT instead",
            Kind::WssUnix => "use wss://127.0.0.1:PORT instead",
            _ => "use tcp://127.0.0.1:PORT instead",
        };
        return Some(refusal(&format!("{scheme}://"), instead));
    }
    if matches!(addr, UnixAddr::Abstract(_)) && !ABSTRACT_NAMES {
        return Some(refusal(
            "an abstract socket name (@name)",
            &format!("use a path, e.g. {scheme}:///tmp/app.sock"),
        ));
    }
    None
}

/// Parses an endpoint whatever the platform ([`Endpoint::from_str`] then
/// refuses what this one lacks).
fn parse_endpoint(input: &str) -> Result<Endpoint, EndpointError> {
    {
        let text = input;
        if text.trim().is_empty() {
            return Err(EndpointError::new(
                "empty endpoint (write one like tcp://127.0.0.1:9000, udp://[::1]:5353 or unix:///tmp/app.sock)"
                    .into(),
            ));
        }
        // Before the schemes: `sh:curl http://x` holds a "://" too.
        if let Some(local) = LocalSpec::parse(text) {
            return local.map(Endpoint::Local).map_err(EndpointError::new);
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return parse_shorthand(text, input);
        };
        if icmp::is_icmp(text) {
            return Err(EndpointError::new(icmp::refusal(input)));
        }
        let Some(kind) = Kind::from_scheme(scheme) else {
            if let Some(refusal) = layered::refusal(scheme, input) {
                return Err(EndpointError::new(refusal));
            }
            return Err(EndpointError::new(unknown_scheme(scheme, rest, input)));
        };
        match kind {
            Kind::Tcp | Kind::Udp => {
                let (host, port) = parse_host_port(rest, input, kind)?;
                Ok(match kind {
                    Kind::Udp => Endpoint::Udp { host, port },
                    _ => Endpoint::Tcp { host, port },
                })
            }
            Kind::Unix => Ok(Endpoint::Unix(parse_unix(rest, input, kind)?)),
            Kind::UnixDgram => Ok(Endpoint::UnixDgram(parse_unix(rest, input, kind)?)),
            Kind::UnixSeqpacket => Ok(Endpoint::UnixSeqpacket(parse_unix(rest, input, kind)?)),
            Kind::Tls => {
                let (host, port) = parse_host_port(&with_default_port(rest, kind), input, kind)?;
                Ok(Endpoint::Tls { host, port })
            }
            Kind::Ws | Kind::Wss => {
                let (authority, path) = match rest.find(['/', '?']) {
                    Some(at) => (&rest[..at], &rest[at..]),
                    None => (rest, "/"),
                };
                let path = if path.starts_with('?') {
                    format!("/{path}")
                } else {
                    path.to_string()
                };
                if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
                    return Err(EndpointError::new(format!(
                        "invalid path in {input} (no spaces or control characters; percent-encode them, e.g. %20)"
                    )));
                }
                let (host, port) =
                    parse_host_port(&with_default_port(authority, kind), input, kind)?;
                Ok(Endpoint::Ws {
                    host,
                    port,
                    path,
                    secure: kind == Kind::Wss,
                })
            }
            Kind::Serial => Ok(Endpoint::Serial(
                SerialSpec::parse(rest, input).map_err(EndpointError::new)?,
            )),
            // Not in the table of schemes: written without `://`.
            Kind::Local => Err(EndpointError::new(format!(
                "unknown scheme \"{scheme}\" in {input} (write a local side as {})",
                local::FORMS
            ))),
            Kind::TlsUnix | Kind::WsUnix | Kind::WssUnix => {
                Ok(Endpoint::OverUnix(layered::parse(kind, rest, input)?))
            }
        }
    }
}

/// Shorthands without a scheme: `HOST:PORT` is TCP, an absolute path is a
/// Unix stream socket.
fn parse_shorthand(text: &str, input: &str) -> Result<Endpoint, EndpointError> {
    if let Some((scheme, rest)) = text.split_once(':') {
        // `udp:127.0.0.1:53`, `unix:/tmp/x.sock`: a scheme without its `//`.
        let looks_like_address =
            rest.contains(':') || rest.starts_with('/') || rest.starts_with('@');
        if let Some(kind) = Kind::from_scheme(scheme).filter(|_| looks_like_address) {
            let rest = rest.trim_start_matches('/');
            let fixed = match kind {
                Kind::Tcp | Kind::Udp => format!("{scheme}://{rest}"),
                _ if rest.starts_with('@') => format!("{scheme}://{rest}"),
                _ => format!("{scheme}:///{rest}"),
            };
            return Err(EndpointError::new(format!(
                "missing \"//\" after \"{scheme}:\" in {input} (write {fixed})"
            )));
        }
    }
    if text.starts_with('/') {
        return Ok(Endpoint::Unix(parse_unix(text, input, Kind::Unix)?));
    }
    if text.contains('/') {
        return Err(EndpointError::new(format!(
            "cannot read \"{input}\" as an endpoint (write tcp://HOST:PORT, or unix:///absolute/path for a Unix socket)"
        )));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::new(format!(
            "missing host in \"{input}\" (write 127.0.0.1:{text} or tcp://127.0.0.1:{text}; a bare port works for listen)"
        )));
    }
    let (host, port) = parse_host_port(text, input, Kind::Tcp)?;
    Ok(Endpoint::Tcp { host, port })
}

/// `HOST` with the kind's default port appended when it names none
/// (`example.org` → `example.org:443` for `wss://`).
fn with_default_port(authority: &str, kind: Kind) -> String {
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => authority.contains(':'),
    };
    match kind.default_port() {
        Some(port) if !has_port && !authority.is_empty() => format!("{authority}:{port}"),
        _ => authority.to_string(),
    }
}

fn example(kind: Kind, host: &str, port: &str) -> String {
    format!("{}://{host}:{port}", kind.scheme())
}

fn parse_host_port(rest: &str, input: &str, kind: Kind) -> Result<(Host, u16), EndpointError> {
    if let Some(slash) = rest.find('/') {
        return Err(EndpointError::new(format!(
            "unexpected path \"{}\" in {input} (write {})",
            &rest[slash..],
            example(kind, "HOST", "PORT")
        )));
    }
    let (host_text, port_text) = if let Some(after_bracket) = rest.strip_prefix('[') {
        let Some(close) = after_bracket.find(']') else {
            return Err(EndpointError::new(format!(
                "unclosed \"[\" in {input} (write {})",
                example(kind, "[::1]", "9000")
            )));
        };
        let host = &after_bracket[..close];
        let after = &after_bracket[close + 1..];
        let Some(port) = after.strip_prefix(':') else {
            return Err(EndpointError::new(format!(
                "missing port in {input} (write {})",
                example(kind, &format!("[{host}]"), "PORT")
            )));
        };
        // RFC 6874 writes the `%` of a zone as `%25`.
        let (addr, zone) = match host.split_once('%') {
            Some((addr, zone)) => (
                addr,
                Some(
                    zone.strip_prefix("25")
                        .filter(|z| !z.is_empty())
                        .unwrap_or(zone),
                ),
            ),
            None => (host, None),
        };
        let ip: std::net::Ipv6Addr = addr.parse().map_err(|_| {
            EndpointError::new(format!(
                "invalid IPv6 address \"{addr}\" in {input} (write {})",
                example(kind, "[::1]", "9000")
            ))
        })?;
        match zone {
            None => (Host::Ip(IpAddr::V6(ip)), port),
            Some(zone) => {
                let valid = !zone.is_empty()
                    && zone.len() < 16
                    && zone
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
                if !valid {
                    return Err(EndpointError::new(format!(
                        "invalid zone \"{}\" in {input} (write an interface name or index, e.g. {})",
                        zone.escape_debug(),
                        example(kind, "[fe80::1%eth0]", port)
                    )));
                }
                (
                    Host::Scoped {
                        ip,
                        zone: zone.to_string(),
                    },
                    port,
                )
            }
        }
    } else {
        let Some((host, port)) = rest.rsplit_once(':') else {
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                return Err(EndpointError::new(format!(
                    "missing host in {input}: {rest} looks like a port (write {}, or {} for every interface)",
                    example(kind, "127.0.0.1", rest),
                    example(kind, "0.0.0.0", rest)
                )));
            }
            return Err(EndpointError::new(format!(
                "missing port in {input} (write {})",
                example(kind, if rest.is_empty() { "HOST" } else { rest }, "PORT")
            )));
        };
        if host.contains(':') {
            return Err(EndpointError::new(format!(
                "IPv6 address \"{host}\" needs brackets in {input} (write {})",
                example(kind, &format!("[{host}]"), port)
            )));
        }
        if host.is_empty() {
            return Err(EndpointError::new(format!(
                "missing host in {input} (write {})",
                example(
                    kind,
                    "127.0.0.1",
                    if port.is_empty() { "PORT" } else { port }
                )
            )));
        }
        (parse_host(host, input, kind, port)?, port)
    };
    let port = parse_port(port_text, input)?;
    Ok((host_text, port))
}

fn parse_host(host: &str, input: &str, kind: Kind, port: &str) -> Result<Host, EndpointError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let valid_name = host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !valid_name {
        return Err(EndpointError::new(format!(
            "invalid host \"{host}\" in {input} (write a name or an IP address, e.g. {})",
            example(
                kind,
                "localhost",
                if port.is_empty() { "PORT" } else { port }
            )
        )));
    }
    Ok(Host::Name(host.to_ascii_lowercase()))
}

fn parse_port(port: &str, input: &str) -> Result<u16, EndpointError> {
    if port.is_empty() {
        return Err(EndpointError::new(format!(
            "missing port in {input} (write a number 0-65535 after the colon)"
        )));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
        return Err(EndpointError::new(format!(
            "invalid port \"{port}\" in {input} (ports are 0-65535)"
        )));
    }
    port.parse::<u16>().map_err(|_| {
        EndpointError::new(format!(
            "invalid port \"{port}\" in {input} (ports are 0-65535)"
        ))
    })
}

fn parse_unix(rest: &str, input: &str, kind: Kind) -> Result<UnixAddr, EndpointError> {
    let scheme = kind.scheme();
    if let Some(name) = rest.strip_prefix('@') {
        if name.is_empty() {
            return Err(EndpointError::new(format!(
                "empty abstract name in {input} (write {scheme}://@my-socket)"
            )));
        }
        if name.contains('\0') || name.len() > MAX_UNIX_PATH - 1 {
            return Err(EndpointError::new(format!(
                "invalid abstract name \"{}\" in {input} (at most {} bytes, no NUL)",
                name.escape_debug(),
                MAX_UNIX_PATH - 1
            )));
        }
        return Ok(UnixAddr::Abstract(name.to_string()));
    }
    if rest.is_empty() {
        return Err(EndpointError::new(format!(
            "missing path in {input} (write {scheme}:///tmp/app.sock or {scheme}://@name)"
        )));
    }
    if !rest.starts_with('/') {
        return Err(EndpointError::new(format!(
            "relative unix path \"{rest}\" in {input} (a path needs three slashes: {scheme}:///{rest}; an abstract name: {scheme}://@{rest})"
        )));
    }
    if rest.contains('\0') {
        return Err(EndpointError::new(format!(
            "unix path in {input} contains a NUL byte (remove it)"
        )));
    }
    if rest.len() > MAX_UNIX_PATH {
        return Err(EndpointError::new(format!(
            "unix path in {input} is {} bytes long (the limit is {MAX_UNIX_PATH}; use a shorter path or {scheme}://@name)",
            rest.len()
        )));
    }
    Ok(UnixAddr::Path(Path::new(rest).to_path_buf()))
}

impl From<EndpointError> for crate::error::ConfigError {
    fn from(e: EndpointError) -> Self {
        crate::error::ConfigError::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Endpoint {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        match s.parse::<Endpoint>() {
            Ok(ep) => panic!("{s} parsed as {ep:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_each_scheme() {
        assert_eq!(
            parse("tcp://127.0.0.1:80"),
            Endpoint::Tcp {
                host: Host::Ip("127.0.0.1".parse().unwrap()),
                port: 80
            }
        );
        assert_eq!(parse("udp://[::1]:53").kind(), Kind::Udp);
        assert_eq!(
            parse("unix:///tmp/a.sock"),
            Endpoint::Unix(UnixAddr::Path("/tmp/a.sock".into()))
        );
        assert_eq!(
            parse("unix://@name"),
            Endpoint::Unix(UnixAddr::Abstract("name".into()))
        );
        assert_eq!(parse("unix-dgram:///x").kind(), Kind::UnixDgram);
        assert_eq!(parse("unix-seqpacket://@x").kind(), Kind::UnixSeqpacket);
        assert_eq!(parse("tls://h:443").to_string(), "tls://h:443");
        assert_eq!(parse("ssl://h").to_string(), "tls://h:443");
        assert_eq!(parse("ws://h:80").to_string(), "ws://h:80/");
        assert_eq!(
            parse("wss://example.org/feed?a=1").to_string(),
            "wss://example.org:443/feed?a=1"
        );
        assert_eq!(parse("ws://[::1]/x").to_string(), "ws://[::1]:80/x");
        assert_eq!(parse("ws://h:9?q").to_string(), "ws://h:9/?q");
        assert_eq!(
            parse("TCP://Example.COM:1").to_string(),
            "tcp://example.com:1"
        );
    }

    #[test]
    fn shorthands() {
        assert_eq!(parse("localhost:9000").to_string(), "tcp://localhost:9000");
        assert_eq!(parse("[::1]:9000").to_string(), "tcp://[::1]:9000");
        assert_eq!(parse("/run/x.sock").to_string(), "unix:///run/x.sock");
        assert_eq!(
            Endpoint::parse_listen("9999").unwrap().to_string(),
            "tcp://127.0.0.1:9999"
        );
        assert_eq!(
            Endpoint::parse_listen("0.0.0.0:9999").unwrap().to_string(),
            "tcp://0.0.0.0:9999"
        );
    }

    #[test]
    fn errors_name_the_bad_part() {
        assert_eq!(
            err("tcp://127.0.0.1:99999"),
            "invalid port \"99999\" in tcp://127.0.0.1:99999 (ports are 0-65535)"
        );
        assert!(err("foo://x:1").contains("unknown scheme \"foo\""));
        assert!(err("foo://x:1").contains("write tcp://x:1"));
        let http = err("http://127.0.0.1:8000");
        assert!(http.contains("write tcp://127.0.0.1:8000"), "{http}");
        assert!(
            http.contains("ws://127.0.0.1:8000/ for a WebSocket"),
            "{http}"
        );
        let https = err("https://example.com/chat");
        assert!(https.contains("tls://example.com:443"), "{https}");
        assert!(https.contains("wss://example.com:443/chat"), "{https}");
        assert!(err("tcp://:80").contains("missing host"));
        assert!(err("tcp://localhost").contains("missing port"));
        assert_eq!(
            err("udp://9999"),
            "missing host in udp://9999: 9999 looks like a port (write udp://127.0.0.1:9999, or udp://0.0.0.0:9999 for every interface)"
        );
        assert_eq!(
            err("udp:127.0.0.1:53"),
            "missing \"//\" after \"udp:\" in udp:127.0.0.1:53 (write udp://127.0.0.1:53)"
        );
        assert!(err("unix:/tmp/x.sock").contains("(write unix:///tmp/x.sock)"));
        assert!(err("unix://tmp/x.sock").contains("unix:///tmp/x.sock;"));
        assert!(err("tcp://a:b").contains("invalid port \"b\""));
        assert!(err("unix://rel.sock").contains("relative unix path \"rel.sock\""));
        assert!(err("tcp://::1:80").contains("needs brackets"));
        assert!(err("tcp://[::1]").contains("missing port"));
        assert!(err("tcp://[zz]:1").contains("invalid IPv6 address \"zz\""));
        assert!(err("tcp://bad host:1").contains("invalid host \"bad host\""));
        assert!(err("unix://@").contains("empty abstract name"));
        assert!(err("9000").contains("missing host"));
        assert!(err("").contains("empty endpoint"));
        assert!(err(&format!("unix:///{}", "a".repeat(200))).contains("the limit is 107"));
        assert!(err("tcp://h:1/x").contains("unexpected path"));
        assert!(err("tls://h:1/x").contains("unexpected path"));
        assert!(err("ws://:1/x").contains("missing host"));
        assert!(err("ws://h:1/a b").contains("invalid path"));
        assert!(err("udp://[fe80::1%]:1").contains("invalid zone"));
        assert!(
            err("udp://[fe80::1%a/b]:1").contains("unexpected path")
                || err("udp://[fe80::1%a b]:1").contains("invalid zone")
        );
        // A zone that starts with "25" keeps its digits both ways.
        for zone in ["250", "25", "2525"] {
            let text = format!("udp://[fe80::1%25{zone}]:9");
            let ep = parse(&text);
            assert_eq!(ep.to_string(), text);
            assert_eq!(parse(&ep.to_string()), ep);
        }
        assert_eq!(
            parse("udp://[fe80::1%25eth0]:9").to_string(),
            "udp://[fe80::1%eth0]:9"
        );
    }

    #[test]
    fn local_sides_parse_before_the_schemes() {
        assert_eq!(parse("-"), Endpoint::Local(LocalSpec::Stdio));
        assert_eq!(parse("-").kind(), Kind::Local);
        assert!(parse("-").kind().is_connection_oriented());
        assert_eq!(
            parse("sh:curl -s http://127.0.0.1:8000/").to_string(),
            "sh:curl -s http://127.0.0.1:8000/"
        );
        assert_eq!(parse("file:capture.bin").to_string(), "file:capture.bin");
        assert!(err("exec:").starts_with("missing program in exec:"));
        assert!(err("file:").starts_with("missing path in file:"));
        assert!(err("pty:?link=").starts_with("missing path after link="));
        assert_eq!(
            "pty:".parse::<Endpoint>().is_err(),
            cfg!(windows),
            "pty: is refused on Windows only"
        );
        assert_eq!(
            Endpoint::parse_listen("exec:cat").unwrap().to_string(),
            "exec:cat"
        );
    }

    #[test]
    fn errors_are_one_line() {
        for bad in ["tcp://x:y", "zz://", "unix://a", "tcp://[::1", "udp://"] {
            assert!(!err(bad).contains('\n'), "{bad}");
        }
    }

    fn arb_host() -> impl Strategy<Value = Host> {
        prop_oneof![
            any::<std::net::Ipv4Addr>().prop_map(|ip| Host::Ip(IpAddr::V4(ip))),
            any::<std::net::Ipv6Addr>().prop_map(|ip| Host::Ip(IpAddr::V6(ip))),
            (any::<std::net::Ipv6Addr>(), "[a-z][a-z0-9]{0,8}|[0-9]{1,3}")
                .prop_map(|(ip, zone)| Host::Scoped { ip, zone }),
            "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}".prop_filter_map(
                "not an IP",
                |s| {
                    if s.parse::<IpAddr>().is_ok() {
                        None
                    } else {
                        Some(Host::Name(s))
                    }
                }
            ),
        ]
    }

    fn arb_unix() -> impl Strategy<Value = UnixAddr> {
        prop_oneof![
            "(/[a-zA-Z0-9._-]{1,12}){1,4}".prop_map(|p| UnixAddr::Path(p.into())),
            "[a-zA-Z0-9._ -]{1,30}".prop_map(UnixAddr::Abstract),
        ]
    }

    fn arb_endpoint() -> impl Strategy<Value = Endpoint> {
        prop_oneof![
            (arb_host(), any::<u16>()).prop_map(|(host, port)| Endpoint::Tcp { host, port }),
            (arb_host(), any::<u16>()).prop_map(|(host, port)| Endpoint::Udp { host, port }),
            arb_unix().prop_map(Endpoint::Unix),
            arb_unix().prop_map(Endpoint::UnixDgram),
            arb_unix().prop_map(Endpoint::UnixSeqpacket),
            (arb_host(), any::<u16>()).prop_map(|(host, port)| Endpoint::Tls { host, port }),
            (
                arb_host(),
                any::<u16>(),
                "(/[a-zA-Z0-9._~%-]{0,8}){1,3}(\\?[a-z0-9=&]{0,8})?",
                any::<bool>()
            )
                .prop_map(|(host, port, path, secure)| Endpoint::Ws {
                    host,
                    port,
                    path,
                    secure
                }),
            (
                "(/[a-zA-Z0-9._-]{1,12}){1,3}",
                1..=serial::MAX_BAUD,
                5u8..=8,
                prop_oneof![
                    Just(serial::Parity::None),
                    Just(serial::Parity::Even),
                    Just(serial::Parity::Odd)
                ],
                1u8..=2,
                prop_oneof![
                    Just(serial::Flow::None),
                    Just(serial::Flow::Hardware),
                    Just(serial::Flow::Software)
                ],
            )
                .prop_map(|(path, baud, data, parity, stop, flow)| Endpoint::Serial(
                    SerialSpec {
                        path: path.into(),
                        baud,
                        data,
                        parity,
                        stop,
                        flow,
                    }
                )),
        ]
    }

    proptest! {
        #[test]
        fn display_round_trips(ep in arb_endpoint()) {
            let text = ep.to_string();
            let back: Endpoint = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(back, ep);
        }

        #[test]
        fn never_panics_and_errors_are_one_line(s in "\\PC{0,40}") {
            match s.parse::<Endpoint>() {
                Ok(ep) => { let _ = ep.to_string(); }
                Err(e) => prop_assert!(!e.to_string().contains('\n')),
            }
            let _ = Endpoint::parse_listen(&s);
        }
    }
}
