//! Transport: turns an [`Endpoint`] into a connected stream, a listener that
//! yields streams, or a datagram socket, with socket options applied through
//! `socket2`. This is the one place that knows about address families.

pub mod datagram;
pub mod peer;
pub mod seqpacket;
pub mod splice;
pub mod stream;
pub mod unix_path;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use socket2::{Domain, SockAddr, SockRef, Socket, TcpKeepalive, Type};
use tokio::net::{
    TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
};

pub use datagram::DatagramSocket;
pub use peer::PeerAddr;
pub use seqpacket::{SeqpacketListener, SeqpacketStream};
pub use stream::{Capabilities, Stream, StreamReader, StreamWriter};
pub use unix_path::UnixPathGuard;

use crate::endpoint::{Endpoint, Host, Kind, UnixAddr};
use crate::error::{NetError, NetErrorKind};

/// Default `listen(2)` backlog: large enough that a burst of clients is not
/// refused by the kernel while we accept.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// Socket options for connecting and listening.
#[derive(Debug, Clone, Default)]
pub struct SocketOptions {
    /// Give up connecting after this long.
    pub connect_timeout: Option<Duration>,
    /// Source address for outgoing connections (IP, IP:PORT or a Unix path).
    pub bind: Option<BindAddr>,
    /// Disable Nagle's algorithm on TCP (`TCP_NODELAY`).
    pub nodelay: bool,
    /// Enable TCP keepalive probes after this much idle time.
    pub keepalive: Option<Duration>,
    /// Set `SO_REUSEPORT` on listening sockets.
    pub reuseport: bool,
    /// `listen(2)` backlog; [`DEFAULT_BACKLOG`] when `None`.
    pub backlog: Option<u32>,
}

/// A source address for `--bind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// An IP address, with port 0 meaning "any port".
    Ip(SocketAddr),
    /// A Unix socket address (for Unix datagram clients).
    Unix(UnixAddr),
}

impl FromStr for BindAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(BindAddr::Ip(addr));
        }
        if let Ok(ip) = s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(BindAddr::Ip(SocketAddr::new(ip, 0)));
        }
        if let Some(name) = s.strip_prefix('@').filter(|n| !n.is_empty()) {
            return Ok(BindAddr::Unix(UnixAddr::Abstract(name.to_string())));
        }
        if s.starts_with('/') {
            return Ok(BindAddr::Unix(UnixAddr::Path(s.into())));
        }
        Err(format!(
            "invalid source address \"{s}\" (write an IP like 127.0.0.2, IP:PORT like 127.0.0.2:4000, or a Unix path like /tmp/me.sock)"
        ))
    }
}

/// Failures named the way this module says them; each is a [`NetError`]
/// with the right [`NetErrorKind`] and its cause said once.
mod fail {
    use super::*;

    /// The peer actively refused (nothing listening).
    pub(super) fn refused(endpoint: &dyn fmt::Display) -> NetError {
        NetError::new(
            NetErrorKind::Refused,
            format!("connection refused by {endpoint} (is anything listening there?)"),
        )
    }

    /// Connecting took longer than the timeout.
    pub(super) fn timeout(endpoint: &dyn fmt::Display, after: Duration) -> NetError {
        NetError::new(
            NetErrorKind::TimedOut,
            format!(
                "timed out connecting to {endpoint} after {}",
                humantime::format_duration(after)
            ),
        )
    }

    /// The address to bind is taken; `detail` says what holds it.
    pub(crate) fn addr_in_use(endpoint: &dyn fmt::Display, detail: &str) -> NetError {
        NetError::new(
            NetErrorKind::AddrInUse,
            format!("address in use: {endpoint} ({detail})"),
        )
    }

    /// A host name did not resolve.
    pub(super) fn resolve(host: &str, detail: impl fmt::Display) -> NetError {
        NetError::new(
            NetErrorKind::Resolve,
            format!("cannot resolve host \"{host}\": {detail}"),
        )
    }

    /// A failure described in words, of no particular kind.
    pub(crate) fn other(message: impl Into<String>) -> NetError {
        NetError::new(NetErrorKind::Other, message)
    }

    /// A failed connect, named by what went wrong.
    pub(super) fn connecting(endpoint: &dyn fmt::Display, error: io::Error) -> NetError {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => refused(endpoint),
            io::ErrorKind::NotFound => NetError::io(
                format_args!("cannot connect to {endpoint} (no such socket file)"),
                &error,
            ),
            _ => NetError::io(format_args!("cannot connect to {endpoint}"), &error),
        }
    }

    /// A failed bind or listen, named by what went wrong.
    pub(super) fn binding(endpoint: &dyn fmt::Display, error: io::Error) -> NetError {
        match error.kind() {
            io::ErrorKind::AddrInUse => addr_in_use(
                endpoint,
                "another socket is bound there; pick another port or stop it",
            ),
            _ => NetError::io(format_args!("cannot listen on {endpoint}"), &error),
        }
    }

    /// A failure setting up a socket we already have.
    pub(super) fn setup(endpoint: &dyn fmt::Display, error: io::Error) -> NetError {
        NetError::io(format_args!("cannot set up {endpoint}"), &error)
    }
}

/// A connected socket from [`connect`].
#[derive(Debug)]
pub enum Connection {
    /// TCP, Unix stream or seqpacket.
    Stream(Stream),
    /// UDP or Unix datagram, connected to the peer.
    Datagram(DatagramSocket),
}

impl Connection {
    /// The stream, or the datagram socket when this connection is one, so
    /// callers pick a path without matching on the variants.
    pub fn into_stream(self) -> Result<Stream, DatagramSocket> {
        match self {
            Connection::Stream(stream) => Ok(stream),
            Connection::Datagram(socket) => Err(socket),
        }
    }
}

/// What [`connect`] returns: the socket and both addresses.
#[derive(Debug)]
pub struct Connected {
    /// The socket.
    pub connection: Connection,
    /// Our own address, for display.
    pub local: String,
    /// The peer's address.
    pub peer: PeerAddr,
}

/// Resolves a host and port to socket addresses, in the resolver's order.
pub async fn resolve(host: &Host, port: u16) -> Result<Vec<SocketAddr>, NetError> {
    match host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
        Host::Name(name) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| fail::resolve(name, e))?
                .collect();
            if addrs.is_empty() {
                return Err(fail::resolve(name, "no addresses"));
            }
            Ok(addrs)
        }
    }
}

/// Connects to `endpoint`, trying each resolved address in turn.
pub async fn connect(endpoint: &Endpoint, opts: &SocketOptions) -> Result<Connected, NetError> {
    let attempt = connect_inner(endpoint, opts);
    match opts.connect_timeout {
        Some(after) => tokio::time::timeout(after, attempt)
            .await
            .map_err(|_| fail::timeout(endpoint, after))?,
        None => attempt.await,
    }
}

async fn connect_inner(endpoint: &Endpoint, opts: &SocketOptions) -> Result<Connected, NetError> {
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let mut last = None;
            for addr in resolve(host, *port).await? {
                match connect_tcp(addr, opts).await {
                    Ok(stream) => {
                        let local = stream
                            .local_addr()
                            .map(|a| a.to_string())
                            .unwrap_or_default();
                        return Ok(Connected {
                            connection: Connection::Stream(Stream::Tcp(stream)),
                            local,
                            peer: PeerAddr::Ip(addr),
                        });
                    }
                    Err(e) => {
                        tracing::debug!(%addr, error = %e, "connect attempt failed");
                        last = Some(e);
                    }
                }
            }
            Err(fail::connecting(
                endpoint,
                last.unwrap_or_else(|| io::Error::other("no address to try")),
            ))
        }
        Endpoint::Udp { host, port } => {
            let addrs = resolve(host, *port).await?;
            let addr = addrs[0];
            let local = match &opts.bind {
                Some(BindAddr::Ip(a)) => *a,
                Some(BindAddr::Unix(_)) => {
                    return Err(fail::other(
                        "--bind for a udp:// endpoint takes an IP address, not a Unix path",
                    ))
                }
                None if addr.is_ipv6() => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
                None => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            };
            let socket = UdpSocket::bind(local)
                .await
                .map_err(|e| fail::binding(&format!("udp://{local}"), e))?;
            socket
                .connect(addr)
                .await
                .map_err(|e| fail::connecting(endpoint, e))?;
            let local = socket
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            Ok(Connected {
                connection: Connection::Datagram(DatagramSocket::udp(socket)),
                local,
                peer: PeerAddr::Ip(addr),
            })
        }
        Endpoint::Unix(addr) | Endpoint::UnixSeqpacket(addr) => {
            let ty = if endpoint.kind() == Kind::Unix {
                Type::STREAM
            } else {
                Type::SEQPACKET
            };
            let target = unix_sockaddr(addr, endpoint)?;
            let socket = tokio::task::spawn_blocking(move || -> io::Result<Socket> {
                let socket = Socket::new(Domain::UNIX, ty, None)?;
                socket.connect(&target)?;
                Ok(socket)
            })
            .await
            .map_err(|e| fail::other(format!("connect task failed: {e}")))?
            .map_err(|e| fail::connecting(endpoint, e))?;
            let peer = PeerAddr::Unix {
                addr: Some(addr.clone()),
                pid: None,
            };
            let stream = if ty == Type::STREAM {
                socket
                    .set_nonblocking(true)
                    .and_then(|()| UnixStream::from_std(socket.into()))
                    .map(Stream::Unix)
            } else {
                SeqpacketStream::from_socket(socket).map(Stream::Seqpacket)
            }
            .map_err(|e| fail::setup(endpoint, e))?;
            Ok(Connected {
                connection: Connection::Stream(stream),
                local: "unnamed".into(),
                peer,
            })
        }
        Endpoint::UnixDgram(addr) => {
            let target = unix_sockaddr(addr, endpoint)?;
            let (own, guard) = match &opts.bind {
                Some(BindAddr::Unix(own)) => (own.clone(), None),
                Some(BindAddr::Ip(_)) => {
                    return Err(fail::other(
                        "--bind for a unix-dgram:// endpoint takes a Unix path or @name",
                    ))
                }
                None => (UnixAddr::Path(temp_socket_path()), Some(())),
            };
            let own_addr = unix_sockaddr(&own, endpoint)?;
            let socket = Socket::new(Domain::UNIX, Type::DGRAM, None)
                .and_then(|s| s.bind(&own_addr).map(|()| s))
                .map_err(|e| fail::binding(&format!("unix-dgram://{own}"), e))?;
            let guard = match (&own, guard) {
                (UnixAddr::Path(p), Some(())) => Some(UnixPathGuard::new(p)),
                _ => None,
            };
            socket
                .connect(&target)
                .map_err(|e| fail::connecting(endpoint, e))?;
            let socket = socket
                .set_nonblocking(true)
                .and_then(|()| UnixDatagram::from_std(socket.into()))
                .map_err(|e| fail::setup(endpoint, e))?;
            Ok(Connected {
                connection: Connection::Datagram(DatagramSocket::unix(socket, guard)),
                local: own.to_string(),
                peer: PeerAddr::Unix {
                    addr: Some(addr.clone()),
                    pid: None,
                },
            })
        }
    }
}

fn temp_socket_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "sockmate-{}-{n}-{nanos:x}.sock",
        std::process::id()
    ))
}

async fn connect_tcp(addr: SocketAddr, opts: &SocketOptions) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    match &opts.bind {
        Some(BindAddr::Ip(source)) => socket.bind(*source)?,
        Some(BindAddr::Unix(_)) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "--bind for a tcp:// endpoint takes an IP address, not a Unix path",
            ))
        }
        None => {}
    }
    let stream = socket.connect(addr).await?;
    apply_stream_options(&stream, opts)?;
    Ok(stream)
}

/// Applies `--nodelay` and `--keepalive` to a TCP connection.
pub fn apply_stream_options(stream: &TcpStream, opts: &SocketOptions) -> io::Result<()> {
    if opts.nodelay {
        stream.set_nodelay(true)?;
    }
    if let Some(idle) = opts.keepalive {
        SockRef::from(stream).set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
    }
    Ok(())
}

fn unix_sockaddr(addr: &UnixAddr, endpoint: &dyn fmt::Display) -> Result<SockAddr, NetError> {
    let result = match addr {
        UnixAddr::Path(path) => SockAddr::unix(path),
        UnixAddr::Abstract(name) => SockAddr::unix(peer::abstract_path(name)),
    };
    result.map_err(|e| NetError::io(format_args!("bad unix address in {endpoint}"), &e))
}

/// A bound socket from [`listen`].
#[derive(Debug)]
pub enum Listener {
    /// Accepts connections.
    Stream(StreamListener),
    /// Receives datagrams.
    Datagram(DatagramSocket),
}

impl Listener {
    /// The stream listener, or the datagram socket when this listener
    /// receives datagrams, so callers pick a path without matching on the
    /// variants.
    pub fn into_stream(self) -> Result<StreamListener, DatagramSocket> {
        match self {
            Listener::Stream(listener) => Ok(listener),
            Listener::Datagram(socket) => Err(socket),
        }
    }
}

/// A listening connection-oriented socket.
#[derive(Debug)]
pub struct StreamListener {
    inner: ListenerInner,
    _path_guard: Option<UnixPathGuard>,
    opts: SocketOptions,
}

#[derive(Debug)]
enum ListenerInner {
    Tcp(TcpListener),
    Unix(UnixListener),
    Seqpacket(SeqpacketListener),
}

impl StreamListener {
    /// Waits for the next client.
    pub async fn accept(&self) -> io::Result<(Stream, PeerAddr)> {
        match &self.inner {
            ListenerInner::Tcp(l) => {
                let (stream, addr) = l.accept().await?;
                apply_stream_options(&stream, &self.opts)?;
                Ok((Stream::Tcp(stream), PeerAddr::Ip(addr)))
            }
            ListenerInner::Unix(l) => {
                let (stream, _) = l.accept().await?;
                let pid = stream.peer_cred().ok().and_then(|c| c.pid());
                Ok((Stream::Unix(stream), PeerAddr::Unix { addr: None, pid }))
            }
            ListenerInner::Seqpacket(l) => {
                let stream = l.accept().await?;
                Ok((
                    Stream::Seqpacket(stream),
                    PeerAddr::Unix {
                        addr: None,
                        pid: None,
                    },
                ))
            }
        }
    }
}

/// Binds `endpoint` and returns it with its real address (port 0 resolved).
pub async fn listen(
    endpoint: &Endpoint,
    opts: &SocketOptions,
) -> Result<(Listener, Endpoint), NetError> {
    match endpoint {
        Endpoint::Tcp { host, port } | Endpoint::Udp { host, port } => {
            let addr = resolve(host, *port).await?[0];
            let kind = endpoint.kind();
            let ty = if kind == Kind::Tcp {
                Type::STREAM
            } else {
                Type::DGRAM
            };
            let socket = ip_socket(addr, ty, opts).map_err(|e| fail::binding(endpoint, e))?;
            let local = socket
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .unwrap_or(addr);
            let real = Endpoint::from_socket_addr(kind, local);
            let setup = |e| fail::setup(endpoint, e);
            let listener = if kind == Kind::Tcp {
                Listener::Stream(StreamListener {
                    inner: ListenerInner::Tcp(TcpListener::from_std(socket.into()).map_err(setup)?),
                    _path_guard: None,
                    opts: opts.clone(),
                })
            } else {
                Listener::Datagram(DatagramSocket::udp(
                    UdpSocket::from_std(socket.into()).map_err(setup)?,
                ))
            };
            Ok((listener, real))
        }
        Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) | Endpoint::UnixSeqpacket(addr) => {
            let ty = match endpoint.kind() {
                Kind::Unix => Type::STREAM,
                Kind::UnixSeqpacket => Type::SEQPACKET,
                _ => Type::DGRAM,
            };
            let shown = endpoint.to_string();
            if let UnixAddr::Path(path) = addr {
                unix_path::clear_stale(path, ty, &shown)?;
            }
            let sockaddr = unix_sockaddr(addr, endpoint)?;
            let socket = Socket::new(Domain::UNIX, ty, None)
                .and_then(|s| s.bind(&sockaddr).map(|()| s))
                .map_err(|e| fail::binding(endpoint, e))?;
            let guard = match addr {
                UnixAddr::Path(path) => Some(UnixPathGuard::new(path)),
                UnixAddr::Abstract(_) => None,
            };
            if ty != Type::DGRAM {
                socket
                    .listen(opts.backlog.unwrap_or(DEFAULT_BACKLOG) as i32)
                    .map_err(|e| fail::binding(endpoint, e))?;
            }
            socket
                .set_nonblocking(true)
                .map_err(|e| fail::setup(endpoint, e))?;
            let setup = |e| fail::setup(endpoint, e);
            let listener = match ty {
                Type::STREAM => Listener::Stream(StreamListener {
                    inner: ListenerInner::Unix(
                        UnixListener::from_std(socket.into()).map_err(setup)?,
                    ),
                    _path_guard: guard,
                    opts: opts.clone(),
                }),
                Type::SEQPACKET => Listener::Stream(StreamListener {
                    inner: ListenerInner::Seqpacket(
                        SeqpacketListener::from_socket(socket).map_err(setup)?,
                    ),
                    _path_guard: guard,
                    opts: opts.clone(),
                }),
                _ => Listener::Datagram(DatagramSocket::unix(
                    UnixDatagram::from_std(socket.into()).map_err(setup)?,
                    guard,
                )),
            };
            Ok((listener, endpoint.clone()))
        }
    }
}

/// Creates, configures and binds an IP socket (and, for TCP, listens).
fn ip_socket(addr: SocketAddr, ty: Type, opts: &SocketOptions) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, None)?;
    if ty == Type::STREAM {
        socket.set_reuse_address(true)?;
    }
    if opts.reuseport {
        socket.set_reuse_port(true)?;
    }
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        socket.set_only_v6(false)?;
    }
    socket.bind(&SockAddr::from(addr))?;
    if ty == Type::STREAM {
        socket.listen(opts.backlog.unwrap_or(DEFAULT_BACKLOG) as i32)?;
    }
    socket.set_nonblocking(true)?;
    Ok(socket)
}

#[cfg(test)]
mod tests;
