//! Proxy client: `--proxy socks5://…`, `socks5h://…`, `socks4a://…` or
//! `http://…` (HTTP CONNECT). [`connect_via`] dials the proxy, asks it for a
//! tunnel to the target and returns the connected [`TcpStream`]; whatever
//! runs over TCP (plain bytes, and a TLS or WebSocket client handshake) then
//! runs over the tunnel unchanged.
//!
//! The replies are read by the small parsers in [`socks`] and [`http`],
//! which take bytes and never panic; this module does the I/O.

pub mod http;
pub mod socks;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{resolve, SocketOptions};
use crate::endpoint::{Endpoint, Host};
use crate::error::{NetError, NetErrorKind};

/// How long a proxy may take to answer its handshake (every stage, from
/// the accepted connection to the tunnel), unless `--proxy-timeout` says
/// otherwise.
pub const DEFAULT_PROXY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which proxy protocol to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// SOCKS5, target names resolved here (`socks5://`).
    Socks5,
    /// SOCKS5, target names resolved by the proxy (`socks5h://`).
    Socks5h,
    /// SOCKS4a: names resolved by the proxy, IPv4 targets only otherwise.
    Socks4a,
    /// HTTP `CONNECT` (`http://`).
    Http,
}

impl ProxyKind {
    fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
            ProxyKind::Socks4a => "socks4a",
            ProxyKind::Http => "http",
        }
    }

    fn from_scheme(scheme: &str) -> Option<ProxyKind> {
        Some(match scheme.to_ascii_lowercase().as_str() {
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            "socks4a" | "socks4" => ProxyKind::Socks4a,
            "http" => ProxyKind::Http,
            _ => return None,
        })
    }
}

/// A user name and password for the proxy. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (SOCKS4a sends it as the user id).
    pub user: String,
    /// The password.
    pub pass: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({:?}, ***)", self.user)
    }
}

/// A parsed `--proxy` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The protocol.
    pub kind: ProxyKind,
    /// The proxy's host.
    pub host: Host,
    /// The proxy's port.
    pub port: u16,
    /// `USER:PASS@`, when given.
    pub auth: Option<Credentials>,
    /// Longest handshake with the proxy ([`DEFAULT_PROXY_TIMEOUT`] unless
    /// `--proxy-timeout`).
    pub timeout: Duration,
}

impl fmt::Display for Proxy {
    /// The proxy without its password, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.kind.scheme(), self.host, self.port)
    }
}

const PROXY_HELP: &str = "write socks5://HOST:PORT, socks5h://, socks4a:// or http://, with USER:PASS@ before HOST when the proxy wants a login";

impl FromStr for Proxy {
    type Err = String;

    fn from_str(input: &str) -> Result<Proxy, String> {
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(format!(
                "invalid --proxy \"{input}\": no scheme ({PROXY_HELP})"
            ));
        };
        let Some(kind) = ProxyKind::from_scheme(scheme) else {
            return Err(format!(
                "unknown proxy scheme \"{scheme}\" in --proxy {input} ({PROXY_HELP})"
            ));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((login, hostport)) => (Some(parse_login(login, input)?), hostport),
            None => (None, rest),
        };
        let endpoint: Endpoint = format!("tcp://{hostport}")
            .parse()
            .map_err(|e| format!("invalid --proxy {input}: {e}"))?;
        let Some((host, port)) = endpoint.host_port() else {
            return Err(format!("invalid --proxy {input} ({PROXY_HELP})"));
        };
        if port == 0 {
            return Err(format!(
                "invalid --proxy {input}: port 0 (give the proxy's port, e.g. 1080 or 3128)"
            ));
        }
        if kind == ProxyKind::Socks4a && auth.as_ref().is_some_and(|a| !a.pass.is_empty()) {
            return Err(format!(
                "socks4a has no passwords (in --proxy {input}); write socks4a://USERID@HOST:PORT or use socks5://"
            ));
        }
        Ok(Proxy {
            kind,
            host: host.clone(),
            port,
            auth,
            timeout: DEFAULT_PROXY_TIMEOUT,
        })
    }
}

fn parse_login(login: &str, input: &str) -> Result<Credentials, String> {
    let (user, pass) = login.split_once(':').unwrap_or((login, ""));
    let user = percent_decode(user)
        .ok_or_else(|| format!("invalid %-escape in the user name of --proxy {input}"))?;
    let pass = percent_decode(pass)
        .ok_or_else(|| format!("invalid %-escape in the password of --proxy {input}"))?;
    if user.is_empty() {
        return Err(format!(
            "empty user name in --proxy {input} (write USER:PASS@HOST:PORT)"
        ));
    }
    if user.len() > 255 || pass.len() > 255 {
        return Err(format!(
            "user name or password longer than 255 bytes in --proxy {input}"
        ));
    }
    Ok(Credentials { user, pass })
}

/// Decodes `%XX` escapes (for `@`, `:` and other bytes in a login).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Connects to `proxy` and asks it for a tunnel to `host:port`; returns the
/// tunnel and the proxy's address. The handshake must finish within the
/// proxy's timeout, and everything by `deadline` (the `--connect-timeout`
/// of the whole connect, when there is one); a late proxy is named with
/// the stage it did not answer.
pub async fn connect_via(
    proxy: &Proxy,
    host: &Host,
    port: u16,
    opts: &SocketOptions,
    deadline: Option<Instant>,
) -> Result<(TcpStream, SocketAddr), NetError> {
    // socks5:// resolves names here, before the proxy is dialed.
    let resolved = match (proxy.kind, host) {
        (ProxyKind::Socks5, Host::Name(_)) => {
            let addrs = opts.ip.pick(resolve(host, port).await?);
            match addrs.first() {
                Some(addr) => Some(addr.ip()),
                None => {
                    return Err(NetError::new(
                        NetErrorKind::Resolve,
                        format!("{host} has no address of the family -4/-6 asked for"),
                    ))
                }
            }
        }
        _ => None,
    };
    let target = Target {
        host,
        port,
        resolved,
    };
    let dial = async {
        let mut last = None;
        for addr in resolve(&proxy.host, proxy.port).await? {
            match super::connect::connect_tcp(addr, opts).await {
                Ok(stream) => return Ok((Some((stream, addr)), None)),
                Err(e) => last = Some(e),
            }
        }
        Ok::<_, NetError>((None, last))
    };
    let (dialed, last) = match deadline {
        Some(at) => tokio::time::timeout_at(at, dial).await.map_err(|_| {
            NetError::new(
                NetErrorKind::TimedOut,
                format!(
                    "timed out connecting to proxy {proxy} after {} (no answer at all: the proxy may be down, or a firewall drops the packets)",
                    humantime::format_duration(opts.connect_timeout.unwrap_or_default())
                ),
            )
        })??,
        None => dial.await?,
    };
    let Some((mut stream, addr)) = dialed else {
        let error = last.unwrap_or_else(|| std::io::Error::other("no address to try"));
        return Err(match error.kind() {
            std::io::ErrorKind::ConnectionRefused => NetError::new(
                NetErrorKind::Refused,
                format!("connection refused by proxy {proxy} (is the proxy running there?)"),
            ),
            _ => NetError::io(format_args!("cannot connect to proxy {proxy}"), &error),
        });
    };
    let own = Instant::now() + proxy.timeout;
    let (at, limit) = match deadline {
        Some(at) if at < own => (
            at,
            format!(
                "before --connect-timeout {} ran out",
                humantime::format_duration(opts.connect_timeout.unwrap_or_default())
            ),
        ),
        _ => (
            own,
            format!(
                "within {} (--proxy-timeout)",
                humantime::format_duration(proxy.timeout)
            ),
        ),
    };
    let mut stage = "greeting";
    let handshake = async {
        match proxy.kind {
            ProxyKind::Socks5 | ProxyKind::Socks5h => {
                socks5(&mut stream, proxy, &target, &mut stage).await
            }
            ProxyKind::Socks4a => socks4a(&mut stream, proxy, &target, &mut stage).await,
            ProxyKind::Http => http_connect(&mut stream, proxy, &target, &mut stage).await,
        }
    };
    let result = tokio::time::timeout_at(at, handshake).await;
    let Ok(result) = result else {
        return Err(NetError::new(
            NetErrorKind::TimedOut,
            format!(
                "{} proxy {}:{} accepted the connection but did not answer the {stage} {limit}",
                proxy.kind.scheme(),
                proxy.host,
                proxy.port
            ),
        ));
    };
    match result {
        Ok(()) => Ok((stream, addr)),
        Err(Step::Io(e)) => Err(NetError::io(
            format_args!("proxy {proxy} failed while asking for {target}"),
            &e,
        )),
        Err(Step::Refused(refusal)) => Err(NetError::new(
            refusal.kind,
            format!("proxy {proxy} refused {target}: {}", refusal.words),
        )),
    }
}

/// The target as the proxy is asked for it.
struct Target<'a> {
    host: &'a Host,
    port: u16,
    /// The name resolved here (`socks5://`).
    resolved: Option<IpAddr>,
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A proxy's answer that is not a tunnel: its kind and its reply in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The kind of failure this reply means.
    pub kind: NetErrorKind,
    /// The reply code in words, with the code.
    pub words: String,
}

impl Refusal {
    pub(crate) fn new(kind: NetErrorKind, words: impl Into<String>) -> Self {
        Refusal {
            kind,
            words: words.into(),
        }
    }

    pub(crate) fn protocol(words: impl Into<String>) -> Self {
        Refusal::new(NetErrorKind::Protocol, words)
    }
}

enum Step {
    Io(std::io::Error),
    Refused(Refusal),
}

impl From<std::io::Error> for Step {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Step::Refused(Refusal::protocol(
                "the proxy closed the connection in the middle of its reply",
            )),
            _ => Step::Io(e),
        }
    }
}

impl From<Refusal> for Step {
    fn from(r: Refusal) -> Self {
        Step::Refused(r)
    }
}

/// The SOCKS5 handshake; `stage` names the answer being waited for.
async fn socks5(
    stream: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
    stage: &mut &'static str,
) -> Result<(), Step> {
    *stage = "greeting";
    stream
        .write_all(&socks::greeting(proxy.auth.is_some()))
        .await?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await?;
    if socks::method_reply(choice)? == socks::Method::Password {
        let Some(auth) = &proxy.auth else {
            return Err(Refusal::protocol(
                "the proxy chose password login, which we did not offer",
            )
            .into());
        };
        *stage = "login";
        stream.write_all(&socks::login(auth)).await?;
        let mut status = [0u8; 2];
        stream.read_exact(&mut status).await?;
        socks::login_reply(status)?;
    }
    let address = match (target.resolved, target.host) {
        (Some(ip), _) => socks::Address::Ip(ip),
        (None, Host::Ip(ip)) => socks::Address::Ip(*ip),
        (None, Host::Scoped { ip, .. }) => socks::Address::Ip(IpAddr::V6(*ip)),
        (None, Host::Name(name)) => socks::Address::Name(name.clone()),
    };
    *stage = "connect request";
    stream
        .write_all(&socks::connect_request(&address, target.port))
        .await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    let rest = socks::reply_head(head)?;
    let len = if rest.is_empty() {
        let mut len = [0u8; 1];
        stream.read_exact(&mut len).await?;
        usize::from(len[0]) + 2
    } else {
        rest.len()
    };
    let mut bound = vec![0u8; len];
    stream.read_exact(&mut bound).await?;
    Ok(())
}

/// The SOCKS4a request; `stage` names the answer being waited for.
async fn socks4a(
    stream: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
    stage: &mut &'static str,
) -> Result<(), Step> {
    *stage = "connect request";
    let user = proxy.auth.as_ref().map(|a| a.user.as_str()).unwrap_or("");
    let request = match target.host {
        Host::Ip(IpAddr::V4(ip)) => socks::socks4_request(*ip, None, target.port, user),
        Host::Name(name) => socks::socks4_request(
            std::net::Ipv4Addr::new(0, 0, 0, 1),
            Some(name),
            target.port,
            user,
        ),
        Host::Ip(IpAddr::V6(_)) | Host::Scoped { .. } => {
            return Err(Refusal::new(
                NetErrorKind::Other,
                "SOCKS4a cannot reach an IPv6 address (use socks5:// or socks5h://)",
            )
            .into())
        }
    };
    stream.write_all(&request).await?;
    let mut reply = [0u8; 8];
    stream.read_exact(&mut reply).await?;
    socks::socks4_reply(reply)?;
    Ok(())
}

/// The HTTP CONNECT request; `stage` names the answer being waited for.
async fn http_connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    target: &Target<'_>,
    stage: &mut &'static str,
) -> Result<(), Step> {
    *stage = "CONNECT request";
    stream
        .write_all(http::connect_request(&target.to_string(), proxy.auth.as_ref()).as_bytes())
        .await?;
    // Byte by byte up to the blank line, so not one byte of the tunnel is
    // taken from the stream (a server that speaks first, like SSH or SMTP).
    let mut head = Vec::with_capacity(256);
    loop {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        head.push(byte[0]);
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > http::MAX_HEAD {
            return Err(Refusal::protocol(format!(
                "the proxy's reply headers are longer than {} bytes",
                http::MAX_HEAD
            ))
            .into());
        }
    }
    http::parse_response(&head)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_urls() {
        let p: Proxy = "socks5://127.0.0.1:1080".parse().unwrap();
        assert_eq!(p.kind, ProxyKind::Socks5);
        assert_eq!(p.port, 1080);
        assert!(p.auth.is_none());
        let p: Proxy = "socks5h://us%40er:p%3Ass@proxy.local:1080/"
            .parse()
            .unwrap();
        assert_eq!(p.kind, ProxyKind::Socks5h);
        let auth = p.auth.clone().unwrap();
        assert_eq!((auth.user.as_str(), auth.pass.as_str()), ("us@er", "p:ss"));
        assert_eq!(p.to_string(), "socks5h://proxy.local:1080");
        assert!(!format!("{p:?}").contains("p:ss"));
        let p: Proxy = "HTTP://[::1]:3128".parse().unwrap();
        assert_eq!(p.kind, ProxyKind::Http);
        let p: Proxy = "socks4a://me@10.0.0.1:1080".parse().unwrap();
        assert_eq!(p.auth.unwrap().user, "me");
    }

    #[test]
    fn bad_proxy_urls_name_the_bad_part() {
        let err = |s: &str| s.parse::<Proxy>().unwrap_err();
        assert!(err("127.0.0.1:1080").contains("no scheme"));
        assert!(err("socks6://h:1").contains("unknown proxy scheme \"socks6\""));
        assert!(err("socks5://h").contains("missing port"));
        assert!(err("socks5://h:0").contains("port 0"));
        assert!(err("socks5://:pw@h:1").contains("empty user name"));
        assert!(err("socks5://a%zz:b@h:1").contains("%-escape"));
        assert!(err("socks4a://u:p@h:1").contains("no passwords"));
    }
}
