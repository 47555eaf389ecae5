//! Connecting: resolve a host, dial each address in turn, and set up the
//! connected socket (stream or datagram) with its options.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, SockAddr, SockRef, Socket, TcpKeepalive, Type};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use super::unix_socket::{UnixDatagram, UnixStream};

use super::serial::SerialPort;
use super::*;
use crate::endpoint::{Endpoint, Host, Kind, UnixAddr};
use crate::error::NetError;

/// A connected socket from [`connect`].
#[derive(Debug)]
pub enum Connection {
    /// TCP, Unix stream or seqpacket.
    Stream(Stream),
    /// UDP or Unix datagram, connected to the peer.
    Datagram(DatagramSocket),
}

impl Connection {
    /// What the TLS handshake established, for `tls://` and `wss://`.
    pub fn tls_info(&self) -> Option<super::TlsInfo> {
        match self {
            Connection::Stream(stream) => stream.tls_info(),
            Connection::Datagram(_) => None,
        }
    }

    /// How the connection ended, readable after it is gone: a command's
    /// exit status for `exec:` and `sh:`.
    pub fn end_note(&self) -> Option<super::local::EndNote> {
        match self {
            Connection::Stream(stream) => stream.end_note(),
            Connection::Datagram(_) => None,
        }
    }

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
        Host::Scoped { ip, zone } => {
            let scope = ipopts::interface_index(zone).map_err(|e| {
                NetError::new(
                    crate::error::NetErrorKind::Resolve,
                    format!("cannot use zone \"%{zone}\" of {host}: {e}"),
                )
            })?;
            Ok(vec![SocketAddr::V6(std::net::SocketAddrV6::new(
                *ip, port, 0, scope,
            ))])
        }
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
    let deadline = opts
        .connect_timeout
        .map(|after| (tokio::time::Instant::now() + after, after));
    let attempt = connect_inner(endpoint, opts, deadline.map(|(at, _)| at));
    match deadline {
        // A proxy's own deadline is the same instant, and the attempt is
        // polled first: its error (naming the proxy) wins over this one.
        Some((at, after)) => tokio::time::timeout_at(at, attempt)
            .await
            .map_err(|_| fail::timeout(endpoint, after))?,
        None => attempt.await,
    }
}

async fn connect_inner(
    endpoint: &Endpoint,
    opts: &SocketOptions,
    deadline: Option<tokio::time::Instant>,
) -> Result<Connected, NetError> {
    if opts.proxy.is_some()
        && !(endpoint.kind().is_connection_oriented() && endpoint.host_port().is_some())
    {
        return Err(fail::other(format!(
            "--proxy reaches tcp:// targets only, not {endpoint} (drop --proxy)"
        )));
    }
    match endpoint {
        Endpoint::Tcp { host, port }
        | Endpoint::Tls { host, port }
        | Endpoint::Ws { host, port, .. } => {
            let (tcp, addr) = dial_tcp(endpoint, host, *port, opts, deadline).await?;
            let local = tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let stream = super::secure::client_upgrade(Stream::Tcp(tcp), endpoint, opts).await?;
            Ok(Connected {
                connection: Connection::Stream(stream),
                local,
                peer: dialed_peer(host, *port, addr, opts),
            })
        }
        Endpoint::Udp { host, port } => {
            let mut addr = *opts
                .ip
                .pick(resolve(host, *port).await?)
                .first()
                .ok_or_else(|| fail::no_family(endpoint, &opts.ip))?;
            // A link-scoped IPv6 group is reached on the --iface interface.
            if let (SocketAddr::V6(v6), Some(iface)) = (&mut addr, &opts.ip.iface) {
                if v6.ip().is_multicast() && v6.scope_id() == 0 {
                    let index =
                        ipopts::interface_index(iface).map_err(|e| fail::setup(endpoint, e))?;
                    v6.set_scope_id(index);
                }
            }
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
            opts.ip
                .apply(SockRef::from(&socket), addr)
                .and_then(|()| {
                    if addr.ip().is_multicast() {
                        opts.ip.multicast_egress(SockRef::from(&socket), addr.ip())
                    } else {
                        Ok(())
                    }
                })
                .map_err(|e| fail::setup(endpoint, e))?;
            let mut local = socket
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let socket = if opts.ip.any_source {
                DatagramSocket::udp_any_source(socket, addr)
            } else {
                socket.connect(addr).await.map_err(|e| {
                    if e.kind() == io::ErrorKind::PermissionDenied && !opts.ip.broadcast {
                        fail::broadcast(endpoint)
                    } else {
                        fail::connecting(endpoint, e)
                    }
                })?;
                // Connected, the socket has its source address too (it
                // was 0.0.0.0 before), as `--pcap` writes it.
                if let Ok(own) = socket.local_addr() {
                    local = own.to_string();
                }
                DatagramSocket::udp(socket)
            };
            Ok(Connected {
                connection: Connection::Datagram(socket),
                local,
                peer: PeerAddr::Ip(addr),
            })
        }
        Endpoint::OverUnix(over) => {
            let socket = connect_unix(&over.addr, Type::STREAM, endpoint).await?;
            let unix = socket
                .set_nonblocking(true)
                .and_then(|()| UnixStream::from_std(socket.into()))
                .map_err(|e| fail::setup(endpoint, e))?;
            let stream = super::secure::client_upgrade(Stream::Unix(unix), endpoint, opts).await?;
            Ok(Connected {
                connection: Connection::Stream(stream),
                local: "unnamed".into(),
                peer: PeerAddr::Unix {
                    addr: Some(over.addr.clone()),
                    pid: None,
                },
            })
        }
        Endpoint::Unix(addr) | Endpoint::UnixSeqpacket(addr) => {
            let ty = if endpoint.kind() == Kind::Unix {
                Type::STREAM
            } else {
                Type::SEQPACKET
            };
            let socket = connect_unix(addr, ty, endpoint).await?;
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
        Endpoint::Serial(spec) => {
            let port = SerialPort::open(spec).map_err(|e| {
                NetError::io(
                    format_args!("cannot open serial port {}", spec.path.display()),
                    &e,
                )
            })?;
            Ok(Connected {
                connection: Connection::Stream(Stream::Serial(Box::new(port))),
                local: format!("{} at {} baud", spec.path.display(), spec.baud),
                peer: PeerAddr::Device(spec.path.clone()),
            })
        }
        Endpoint::Local(spec) => {
            // Boxed: every connect's future would otherwise carry its size.
            let opened = Box::pin(super::local::open(spec))
                .await
                .map_err(fail::local)?;
            Ok(Connected {
                connection: Connection::Stream(Stream::Local(Box::new(opened.stream))),
                local: opened.local,
                peer: opened.peer,
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

/// Connects a Unix socket of type `ty` to `addr` (off the runtime: a
/// connect to a full backlog blocks).
async fn connect_unix(addr: &UnixAddr, ty: Type, endpoint: &Endpoint) -> Result<Socket, NetError> {
    let target = unix_sockaddr(addr, endpoint)?;
    tokio::task::spawn_blocking(move || -> io::Result<Socket> {
        let socket = Socket::new(Domain::UNIX, ty, None)?;
        socket.connect(&target)?;
        Ok(socket)
    })
    .await
    .map_err(|e| fail::other(format!("connect task failed: {e}")))?
    .map_err(|e| fail::connecting(endpoint, e))
}

/// The peer of a connection [`dial_tcp`] made: the address, or through a
/// proxy the target as asked for and the proxy's address.
pub(super) fn dialed_peer(
    host: &Host,
    port: u16,
    addr: SocketAddr,
    opts: &SocketOptions,
) -> PeerAddr {
    match opts.proxy {
        Some(_) => PeerAddr::Proxied(Box::new(super::peer::Proxied {
            target: format!("{host}:{port}"),
            proxy: addr,
        })),
        None => PeerAddr::Ip(addr),
    }
}

/// Connects TCP to `host:port`, trying each resolved address in turn, or
/// through `--proxy` when one is set (then the address is the proxy's,
/// and the proxy must be done by `deadline`).
/// Every TCP-based kind dials through here, so a TLS or WebSocket
/// handshake runs over the proxy's tunnel unchanged.
pub(super) async fn dial_tcp(
    endpoint: &Endpoint,
    host: &Host,
    port: u16,
    opts: &SocketOptions,
    deadline: Option<tokio::time::Instant>,
) -> Result<(TcpStream, SocketAddr), NetError> {
    if let Some(proxy) = &opts.proxy {
        return proxy::connect_via(proxy, host, port, opts, deadline).await;
    }
    let addrs = opts.ip.pick(resolve(host, port).await?);
    if addrs.is_empty() {
        return Err(fail::no_family(endpoint, &opts.ip));
    }
    let mut last = None;
    for addr in addrs {
        match connect_tcp(addr, opts).await {
            Ok(stream) => return Ok((stream, addr)),
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

pub(super) async fn connect_tcp(addr: SocketAddr, opts: &SocketOptions) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    opts.ip.apply(SockRef::from(&socket), addr)?;
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

pub(super) fn unix_sockaddr(
    addr: &UnixAddr,
    endpoint: &dyn fmt::Display,
) -> Result<SockAddr, NetError> {
    let result = match addr {
        UnixAddr::Path(path) => SockAddr::unix(path),
        UnixAddr::Abstract(name) => SockAddr::unix(peer::abstract_path(name)),
    };
    result.map_err(|e| NetError::io(format_args!("bad unix address in {endpoint}"), &e))
}
