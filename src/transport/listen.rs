//! Listening: bind an endpoint (port 0 resolved, stale Unix socket files
//! cleared) and accept connections or receive datagrams.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, SockAddr, SockRef, Socket, Type};
use tokio::net::{TcpListener, UdpSocket};

use super::unix_socket::{UnixDatagram, UnixListener};

use super::connect::unix_sockaddr;
use super::*;
use crate::endpoint::{Endpoint, Kind, UnixAddr};
use crate::error::NetError;

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

    /// What the startup line adds (the multicast group joined, a TLS
    /// certificate's fingerprint), if anything.
    pub fn note(&self) -> Option<String> {
        match self {
            Listener::Stream(listener) => listener.note().map(str::to_string),
            Listener::Datagram(socket) => socket.note().map(str::to_string),
        }
    }
}

/// A listening connection-oriented socket.
#[derive(Debug)]
pub struct StreamListener {
    inner: ListenerInner,
    _path_guard: Option<UnixPathGuard>,
    opts: SocketOptions,
    note: Option<String>,
}

#[derive(Debug)]
enum ListenerInner {
    Tcp(TcpListener),
    Unix(UnixListener),
    Seqpacket(SeqpacketListener),
    /// TLS or WebSocket over TCP or a Unix stream socket: handshakes run
    /// in the background.
    Layered(super::secure::Handshaker),
    /// One stream already there (a side that is not a socket, or a
    /// connection dialled for `relay --connect-first`), accepted once.
    Single(std::sync::Mutex<Option<(Stream, PeerAddr)>>),
}

impl StreamListener {
    /// What the `listening on` line should add (the TLS certificate's
    /// fingerprint).
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// A listener whose one client is `stream`, already connected or
    /// opened: accepted once, then nothing more comes.
    pub fn single(stream: Stream, peer: PeerAddr, note: Option<String>) -> StreamListener {
        StreamListener {
            inner: ListenerInner::Single(std::sync::Mutex::new(Some((stream, peer)))),
            _path_guard: None,
            opts: SocketOptions::default(),
            note,
        }
    }

    /// True when this listener has one client only ([`StreamListener::single`]):
    /// whoever serves it ends when that client's session does.
    pub fn is_single(&self) -> bool {
        matches!(self.inner, ListenerInner::Single(_))
    }

    /// Waits for the next client.
    pub async fn accept(&self) -> io::Result<(Stream, PeerAddr)> {
        match &self.inner {
            ListenerInner::Single(one) => {
                let taken = one.lock().ok().and_then(|mut one| one.take());
                match taken {
                    Some(pair) => Ok(pair),
                    None => std::future::pending().await,
                }
            }
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
            ListenerInner::Layered(h) => h.accept().await,
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
            let addr = *opts
                .ip
                .pick(resolve(host, *port).await?)
                .first()
                .ok_or_else(|| fail::no_family(endpoint, &opts.ip))?;
            let kind = endpoint.kind();
            let ty = if kind == Kind::Tcp {
                Type::STREAM
            } else {
                Type::DGRAM
            };
            let group = (ty == Type::DGRAM && addr.ip().is_multicast()).then_some(addr.ip());
            let socket = ip_socket(addr, ty, opts).map_err(|e| fail::binding_at(endpoint, e))?;
            let note = match group {
                Some(group) => Some(opts.ip.join(SockRef::from(&socket), group).map_err(|e| {
                    NetError::io(format_args!("cannot join multicast group {group}"), &e)
                })?),
                None => None,
            };
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
                    note: None,
                })
            } else {
                Listener::Datagram(
                    DatagramSocket::udp(UdpSocket::from_std(socket.into()).map_err(setup)?)
                        .with_note(note),
                )
            };
            Ok((listener, real))
        }
        Endpoint::Tls { host, port } | Endpoint::Ws { host, port, .. } => {
            let layers = super::secure::Layers::of(endpoint, opts)?
                .ok_or_else(|| fail::other("no TLS or WebSocket layer to listen with"))?;
            let addr = *opts
                .ip
                .pick(resolve(host, *port).await?)
                .first()
                .ok_or_else(|| fail::no_family(endpoint, &opts.ip))?;
            let socket =
                ip_socket(addr, Type::STREAM, opts).map_err(|e| fail::binding(endpoint, e))?;
            let local = socket
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .unwrap_or(addr);
            let tcp = TcpListener::from_std(socket.into()).map_err(|e| fail::setup(endpoint, e))?;
            let note = layers.note();
            let base = super::secure::BaseListener::Tcp(tcp);
            Ok((
                Listener::Stream(StreamListener {
                    inner: ListenerInner::Layered(super::secure::Handshaker::start(base, layers)),
                    _path_guard: None,
                    opts: opts.clone(),
                    note,
                }),
                endpoint.with_socket_addr(local),
            ))
        }
        Endpoint::Local(spec) => {
            // Boxed: every connect's future would otherwise carry its size.
            let opened = Box::pin(super::local::open(spec))
                .await
                .map_err(fail::local)?;
            let stream = Stream::Local(Box::new(opened.stream));
            Ok((
                Listener::Stream(StreamListener::single(stream, opened.peer, opened.note)),
                endpoint.clone(),
            ))
        }
        Endpoint::Serial(spec) => Err(NetError::new(
            crate::error::NetErrorKind::Other,
            format!(
                "a serial port is opened, not listened on: use `connect serial://{0}`, or make it the target of `relay LISTEN serial://{0}`",
                spec.path.display()
            ),
        )),
        Endpoint::OverUnix(over) => {
            let layers = super::secure::Layers::of(endpoint, opts)?
                .ok_or_else(|| fail::other("no TLS or WebSocket layer to listen with"))?;
            let (socket, guard) = bind_unix(&over.addr, Type::STREAM, endpoint, opts)?;
            let unix = UnixListener::from_std(socket.into()).map_err(|e| fail::setup(endpoint, e))?;
            let note = layers.note();
            let base = super::secure::BaseListener::Unix(unix);
            Ok((
                Listener::Stream(StreamListener {
                    inner: ListenerInner::Layered(super::secure::Handshaker::start(base, layers)),
                    _path_guard: guard,
                    opts: opts.clone(),
                    note,
                }),
                endpoint.clone(),
            ))
        }
        Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) | Endpoint::UnixSeqpacket(addr) => {
            let ty = match endpoint.kind() {
                Kind::Unix => Type::STREAM,
                Kind::UnixSeqpacket => Type::SEQPACKET,
                _ => Type::DGRAM,
            };
            let (socket, guard) = bind_unix(addr, ty, endpoint, opts)?;
            let setup = |e| fail::setup(endpoint, e);
            let listener = match ty {
                Type::STREAM => Listener::Stream(StreamListener {
                    inner: ListenerInner::Unix(
                        UnixListener::from_std(socket.into()).map_err(setup)?,
                    ),
                    _path_guard: guard,
                    opts: opts.clone(),
                    note: None,
                }),
                Type::SEQPACKET => Listener::Stream(StreamListener {
                    inner: ListenerInner::Seqpacket(
                        SeqpacketListener::from_socket(socket).map_err(setup)?,
                    ),
                    _path_guard: guard,
                    opts: opts.clone(),
                    note: None,
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

/// Binds a Unix socket of type `ty` at `addr` (a stale socket file there
/// cleared first) and, unless it is a datagram socket, listens; returns
/// it non-blocking with the guard that removes its file.
// On Windows (no Unix sockets: parsing refuses them) the guard is never
// made.
#[cfg_attr(windows, allow(unreachable_code))]
fn bind_unix(
    addr: &UnixAddr,
    ty: Type,
    endpoint: &Endpoint,
    opts: &SocketOptions,
) -> Result<(Socket, Option<UnixPathGuard>), NetError> {
    let shown = endpoint.to_string();
    if let UnixAddr::Path(path) = addr {
        unix_path::clear_stale(path, ty, &shown)?;
    }
    let sockaddr = unix_sockaddr(addr, endpoint)?;
    let socket = Socket::new(Domain::UNIX, ty, None)
        .and_then(|s| s.bind(&sockaddr).map(|()| s))
        .map_err(|e| fail::binding_at(endpoint, e))?;
    let guard = match addr {
        UnixAddr::Path(path) => Some(UnixPathGuard::new(path)),
        UnixAddr::Abstract(_) => None,
    };
    if ty != Type::DGRAM {
        socket
            .listen(opts.backlog.unwrap_or(DEFAULT_BACKLOG) as i32)
            .map_err(|e| fail::binding_at(endpoint, e))?;
    }
    socket
        .set_nonblocking(true)
        .map_err(|e| fail::setup(endpoint, e))?;
    Ok((socket, guard))
}

/// Creates, configures and binds an IP socket (and, for TCP, listens).
fn ip_socket(addr: SocketAddr, ty: Type, opts: &SocketOptions) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, None)?;
    let multicast = addr.ip().is_multicast();
    if multicast {
        socket.set_reuse_address(true)?;
    } else if ty == Type::STREAM {
        crate::sys::socket::allow_quick_rebind(&socket)?;
    }
    opts.ip.apply(SockRef::from(&socket), addr)?;
    // A group is joined on a socket bound to its port; IPv6 binds the
    // wildcard (a group address needs a scope to bind).
    let addr = match addr {
        SocketAddr::V6(v6) if multicast => {
            SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), v6.port())
        }
        other => other,
    };
    if opts.reuseport {
        crate::sys::socket::set_reuse_port(&socket)?;
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
