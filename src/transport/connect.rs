//! Connecting: resolve a host, dial each address in turn, and set up the
//! connected socket (stream or datagram) with its options.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, SockAddr, SockRef, Socket, TcpKeepalive, Type};
use tokio::net::{TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixStream};

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
        Endpoint::Tcp { host, port }
        | Endpoint::Tls { host, port }
        | Endpoint::Ws { host, port, .. } => {
            let (tcp, addr) = dial_tcp(endpoint, host, *port, opts).await?;
            let local = tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let stream = super::secure::client_upgrade(tcp, endpoint, opts).await?;
            Ok(Connected {
                connection: Connection::Stream(stream),
                local,
                peer: PeerAddr::Ip(addr),
            })
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

/// Connects TCP to `host:port`, trying each resolved address in turn.
async fn dial_tcp(
    endpoint: &Endpoint,
    host: &Host,
    port: u16,
    opts: &SocketOptions,
) -> Result<(TcpStream, SocketAddr), NetError> {
    let mut last = None;
    for addr in resolve(host, port).await? {
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
