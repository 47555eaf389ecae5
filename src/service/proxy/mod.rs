//! sockmate as a proxy server: `listen … --serve socks5` (RFC 1928 CONNECT,
//! optional RFC 1929 login, names resolved here as with `socks5h`) and
//! `listen … --serve http-proxy` (HTTP `CONNECT` and absolute-URI
//! requests). Each client is read until it names a target, the target is
//! checked against the [`TargetPolicy`] (loopback only unless
//! `--target-allow`) and dialed, the client gets its protocol's answer, and
//! from then on the relay's pump carries the bytes both ways, so `--dump`,
//! the counters, half-close and `--idle-timeout` work as in `relay`.
//!
//! - [`targets`]: where clients may go;
//! - [`dial`](mod@dial): resolve, check, connect;
//! - [`socks5`] and [`http`]: each protocol's parsers and answers;
//! - [`wire`]: what both share while reading a handshake.

pub mod dial;
pub mod http;
pub mod socks5;
pub mod targets;
pub mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use self::dial::{dial, Target};
use self::wire::{read_parsed, Failure};
use crate::endpoint::Kind;
use crate::event::leg::{Leg, Wire};
use crate::event::proxied::Proxied;
use crate::event::{ConnInfo, Direction, EventKind, EventTx};
use crate::relay::pump::{self, Dest, DumpTag, PairOutcome, PairRules, Source};
use crate::session::Meter;
use crate::transport::proxy::socks::reply;
use crate::transport::proxy::Credentials;
use crate::transport::{PeerAddr, Stream, StreamReader, StreamWriter};
pub use targets::{parse_target_entry, TargetEntry, TargetPolicy};

/// How long a client may take to name its target (greeting, login and
/// request, or the HTTP request head), when `--idle-timeout` is not
/// shorter.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which proxy protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyProtocol {
    /// SOCKS5 (`--serve socks5`).
    Socks5,
    /// HTTP CONNECT and absolute-URI forwarding (`--serve http-proxy`).
    Http,
}

impl ProxyProtocol {
    /// `socks5` or `http`, as in events.
    pub fn name(self) -> &'static str {
        match self {
            ProxyProtocol::Socks5 => "socks5",
            ProxyProtocol::Http => "http",
        }
    }
}

/// A proxy server's settings, validated.
#[derive(Debug, Clone)]
pub struct ProxyServer {
    /// The protocol.
    pub protocol: ProxyProtocol,
    /// `--auth USER:PASS`: the login clients must give.
    pub auth: Option<Credentials>,
    /// Where clients may go.
    pub targets: TargetPolicy,
    /// How long a target may take to accept.
    pub connect_timeout: Duration,
    /// Report the tunnelled bytes as data events (`--dump`, `--pcap`).
    pub dump: bool,
}

impl ProxyServer {
    /// A server of `protocol` with the defaults: no login, loopback
    /// targets only, the relay's connect timeout, no dump.
    pub fn new(protocol: ProxyProtocol) -> Self {
        ProxyServer {
            protocol,
            auth: None,
            targets: TargetPolicy::default(),
            connect_timeout: crate::relay::DEFAULT_CONNECT_TIMEOUT,
            dump: false,
        }
    }

    /// The startup note: what is served and where clients may go.
    pub fn startup_note(&self) -> String {
        let login = if self.auth.is_some() {
            ", login required"
        } else {
            ""
        };
        format!(
            "({} proxy{login}; proxy targets: {})",
            self.protocol.name(),
            self.targets
        )
    }
}

/// What one proxied client's task is given.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// Its label (`#3 127.0.0.1:51234`).
    pub conn: &'a ConnInfo,
    /// Where events go.
    pub events: &'a EventTx,
    /// Its counters and idle clock.
    pub meter: &'a Meter,
    /// Stops it (shutdown, `close(id)`).
    pub stop: &'a CancellationToken,
    /// The listener's address, for the `open` event.
    pub local: &'a str,
    /// The listener's kind, for captures.
    pub kind: Kind,
    /// `--idle-timeout`.
    pub idle_timeout: Option<Duration>,
}

/// A tunnel ready to carry bytes.
struct Tunnel {
    origin: TcpStream,
    proxied: Proxied,
    /// Bytes for the origin before the client's next read: a forwarded
    /// request's head, and what the client sent after its handshake.
    first: Bytes,
}

/// Serves one client: handshake, dial, answer, then relays until both
/// ends are done. `None` when no tunnel opened (one error event says why).
pub async fn serve(
    stream: Stream,
    peer: &PeerAddr,
    cfg: &ProxyServer,
    client: Client<'_>,
) -> Option<PairOutcome> {
    let near_local = stream
        .local_ip_addr()
        .map_or_else(|| client.local.to_string(), |a| a.to_string());
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = BytesMut::new();
    let opened = tokio::select! {
        opened = handshake(&mut reader, &mut writer, &mut buf, cfg, client.idle_timeout) => {
            opened.map_err(|failure| failure.named(cfg.protocol.name()))
        }
        () = client.stop.cancelled() => return None,
    };
    let tunnel = match opened {
        Ok(tunnel) => tunnel,
        Err(failure) => {
            let _ = client
                .events
                .emit(EventKind::Error {
                    conn: Some(client.conn.clone()),
                    message: failure.words,
                    kind: None,
                })
                .await;
            crate::session::accept::close_gracefully(&mut reader, &mut writer).await;
            return None;
        }
    };
    let origin_local = tunnel.origin.local_addr().ok();
    let origin_peer = tunnel.origin.peer_addr().ok();
    let far = match (origin_local, origin_peer) {
        (Some(local), Some(peer)) => Some(Leg::new(
            Kind::Tcp,
            &local.to_string(),
            &PeerAddr::Ip(peer),
            true,
        )),
        _ => None,
    };
    let _ = client
        .events
        .emit(EventKind::Open {
            conn: client.conn.clone(),
            local: client.local.to_string(),
            tls: None,
            wire: Some(Box::new(Wire {
                near: Leg::new(client.kind, &near_local, peer, false),
                far,
            })),
            proxy: Some(Box::new(tunnel.proxied)),
        })
        .await;
    Some(relay(reader, writer, tunnel.origin, tunnel.first, cfg, client).await)
}

/// Carries bytes both ways through the relay's pump, the client's first
/// bytes for the origin sent ahead.
async fn relay(
    client_in: StreamReader,
    client_out: StreamWriter,
    origin: TcpStream,
    first: Bytes,
    cfg: &ProxyServer,
    client: Client<'_>,
) -> PairOutcome {
    let Client {
        conn,
        events,
        meter,
        stop,
        ..
    } = client;
    let (up_count, down_count) = (meter.side(Direction::In), meter.side(Direction::Out));
    let dump = |dir| cfg.dump.then_some(DumpTag { events, conn, dir });
    let (origin_in, mut origin_out) = Stream::Tcp(origin).into_split();
    let cut = CancellationToken::new();
    let rules = PairRules {
        close_both: false,
        idle_timeout: client.idle_timeout,
    };
    let up = async {
        if !first.is_empty() {
            origin_out.write_all(&first).await?;
            up_count.moved(first.len());
            if let Some(tag) = dump(Direction::In) {
                tag.events.data(tag.conn, tag.dir, first).await?;
            }
        }
        pump::direction(
            Source::Stream(client_in, None),
            Dest::Stream(origin_out, None),
            &up_count,
            dump(Direction::In),
            true,
            &cut,
        )
        .await
    };
    let down = pump::direction(
        Source::Stream(origin_in, None),
        Dest::Stream(client_out, None),
        &down_count,
        dump(Direction::Out),
        true,
        &cut,
    );
    pump::run_pair(up, down, meter, rules, stop, &cut).await
}

/// Reads the client's request, dials its target and answers: the tunnel,
/// or a failure (answered already where the protocol has an answer).
async fn handshake(
    reader: &mut StreamReader,
    writer: &mut StreamWriter,
    buf: &mut BytesMut,
    cfg: &ProxyServer,
    idle: Option<Duration>,
) -> Result<Tunnel, Failure> {
    let limit = idle.map_or(HANDSHAKE_TIMEOUT, |i| i.min(HANDSHAKE_TIMEOUT));
    let late = || {
        Failure::new(format!(
            "{}: the client did not finish its handshake within {}",
            cfg.protocol.name(),
            humantime::format_duration(limit)
        ))
    };
    match cfg.protocol {
        ProxyProtocol::Socks5 => {
            let target = tokio::time::timeout(
                limit,
                socks5::negotiate(reader, writer, buf, cfg.auth.as_ref()),
            )
            .await
            .map_err(|_| late())??;
            socks5_connect(writer, buf, cfg, target).await
        }
        ProxyProtocol::Http => {
            let head = tokio::time::timeout(
                limit,
                read_parsed(
                    reader,
                    buf,
                    crate::transport::proxy::http::MAX_HEAD,
                    "request head",
                    http::parse_head,
                ),
            )
            .await
            .map_err(|_| late())?;
            match head {
                Ok(head) => http_connect(writer, buf, cfg, head).await,
                Err(failure) => {
                    if let Some(status) = failure.reply {
                        let _ = writer
                            .write_all(http::error_reply(status, &failure.words).as_bytes())
                            .await;
                    }
                    Err(failure)
                }
            }
        }
    }
}

/// Dials a SOCKS5 client's target and sends the reply.
async fn socks5_connect(
    writer: &mut StreamWriter,
    buf: &mut BytesMut,
    cfg: &ProxyServer,
    target: Target,
) -> Result<Tunnel, Failure> {
    match dial(&target, &cfg.targets, cfg.connect_timeout).await {
        Ok((origin, addr)) => {
            let answer = socks5::reply_bytes(reply::SUCCEEDED, origin.local_addr().ok());
            answer_client(writer, &answer, "socks5").await?;
            Ok(Tunnel {
                origin,
                proxied: proxied(ProxyProtocol::Socks5, "CONNECT", &target, addr),
                first: buf.split().freeze(),
            })
        }
        Err(e) => {
            let code = socks5::failure_code(e.kind);
            let _ = writer.write_all(&socks5::reply_bytes(code, None)).await;
            Err(Failure::new(format!(
                "socks5 CONNECT {target}: {} (SOCKS5 reply {code})",
                e.words
            )))
        }
    }
}

/// Checks an HTTP client's login, dials its target and answers (200 for
/// CONNECT; a forwarded request's rewritten head goes to the origin).
async fn http_connect(
    writer: &mut StreamWriter,
    buf: &mut BytesMut,
    cfg: &ProxyServer,
    head: http::Head,
) -> Result<Tunnel, Failure> {
    let asked = match &head.ask {
        http::Ask::Connect => format!("CONNECT {}", head.target),
        http::Ask::Forward { path } => format!("{} http://{}{path}", head.method, head.target),
    };
    if let Some(auth) = &cfg.auth {
        if !http::authorized(&head, auth) {
            let words = if head
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("proxy-authorization"))
            {
                "login failed: wrong user name or password"
            } else {
                "login required (no Proxy-Authorization: Basic header)"
            };
            return refuse_http(writer, &asked, 407, words).await;
        }
    }
    let (origin, addr) = match dial(&head.target, &cfg.targets, cfg.connect_timeout).await {
        Ok(dialed) => dialed,
        Err(e) => return refuse_http(writer, &asked, http::failure_status(e.kind), &e.words).await,
    };
    let leftover = buf.split();
    let (request, first) = match &head.ask {
        http::Ask::Connect => {
            answer_client(writer, http::ESTABLISHED, "http").await?;
            ("CONNECT", leftover.freeze())
        }
        http::Ask::Forward { path } => {
            let mut first = BytesMut::from(http::origin_head(&head, path).as_bytes());
            first.extend_from_slice(&leftover);
            (head.method.as_str(), first.freeze())
        }
    };
    Ok(Tunnel {
        origin,
        proxied: proxied(ProxyProtocol::Http, request, &head.target, addr),
        first,
    })
}

/// Sends an HTTP error reply; the failure names the request and status.
async fn refuse_http(
    writer: &mut StreamWriter,
    asked: &str,
    status: u16,
    words: &str,
) -> Result<Tunnel, Failure> {
    let _ = writer
        .write_all(http::error_reply(status, words).as_bytes())
        .await;
    Err(Failure::new(format!(
        "http {asked}: {words} (HTTP {status})"
    )))
}

async fn answer_client(writer: &mut StreamWriter, bytes: &[u8], name: &str) -> Result<(), Failure> {
    writer.write_all(bytes).await.map_err(|e| {
        Failure::new(format!(
            "{name}: the client left before its answer: {}",
            crate::error::describe_io(&e)
        ))
    })
}

fn proxied(protocol: ProxyProtocol, request: &str, target: &Target, addr: SocketAddr) -> Proxied {
    Proxied {
        protocol: protocol.name().to_string(),
        request: request.to_string(),
        target: target.to_string(),
        addr: addr.to_string(),
    }
}
