//! One probe of one port: a TCP connect, or a UDP datagram and a wait for a
//! reply or an ICMP port-unreachable (seen as `ECONNREFUSED` on a connected
//! UDP socket).

use std::fmt;
use std::io;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::{TcpStream, UdpSocket};

use crate::sys::os_error::{classify, OsErrorClass};

/// How often a probe that failed for a local reason (out of file
/// descriptors or ephemeral ports) is retried before it is reported.
pub const LOCAL_RETRIES: u32 = 5;

/// Pause before retrying such a probe; doubled each time.
pub const LOCAL_RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Largest reply read from a UDP probe.
const UDP_REPLY_MAX: usize = 2048;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortState {
    /// Accepted a connection (TCP) or replied (UDP).
    Open,
    /// Refused: TCP reset, or ICMP port unreachable for UDP.
    Closed,
    /// No answer within the timeout (TCP), or the network said unreachable.
    Filtered,
    /// No UDP reply and no refusal: open and silent, or filtered.
    OpenFiltered,
    /// The probe could not be made here (e.g. out of file descriptors).
    Error(String),
}

impl PortState {
    /// The word shown for the state.
    pub fn as_str(&self) -> &str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open|filtered",
            PortState::Error(_) => "error",
        }
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortState::Error(message) => write!(f, "error ({message})"),
            other => f.write_str(other.as_str()),
        }
    }
}

fn is_local_shortage(e: &io::Error) -> bool {
    classify(e) == OsErrorClass::LocalShortage
}

fn is_unreachable(e: &io::Error) -> bool {
    classify(e) == OsErrorClass::Unreachable
}

/// Retries `attempt` while it fails for a local shortage.
async fn with_retries<F, Fut>(mut attempt: F) -> PortState
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<PortState, io::Error>>,
{
    let mut pause = LOCAL_RETRY_PAUSE;
    let mut tries = 0;
    loop {
        match attempt().await {
            Ok(state) => return state,
            Err(e) if is_local_shortage(&e) && tries < LOCAL_RETRIES => {
                tries += 1;
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(e) => return PortState::Error(e.to_string()),
        }
    }
}

/// Probes a TCP port by connecting.
pub async fn probe_tcp(addr: SocketAddr, timeout: Duration) -> PortState {
    with_retries(|| async move {
        match tokio::time::timeout(timeout, connect_outcome(addr)).await {
            Err(_) => Ok(PortState::Filtered),
            Ok(Ok(())) => Ok(PortState::Open),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(PortState::Closed),
            Ok(Err(e)) if is_unreachable(&e) => Ok(PortState::Filtered),
            Ok(Err(e)) => Err(e),
        }
    })
    .await
}

/// Starts a non-blocking connect and, when the answer is already there (a
/// nearby host answers within the system call), reads it without ever
/// registering the socket with the event loop; otherwise waits for it.
async fn connect_outcome(addr: SocketAddr) -> io::Result<()> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => return Ok(()),
        Err(e) if classify(&e) == OsErrorClass::InProgress => {}
        Err(e) => return Err(e),
    }
    if let Some(e) = socket.take_error()? {
        return Err(e);
    }
    if socket.peer_addr().is_ok() {
        return Ok(());
    }
    let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.take_error()? {
        Some(e) => Err(e),
        None => stream.peer_addr().map(|_| ()),
    }
}

/// Probes a UDP port by sending `payload` and waiting for an answer.
pub async fn probe_udp(addr: SocketAddr, payload: &[u8], timeout: Duration) -> PortState {
    with_retries(|| async move {
        let any: IpAddr = if addr.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let socket = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
        socket.connect(addr).await?;
        match socket.send(payload).await {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(PortState::Closed),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let mut reply = [0u8; UDP_REPLY_MAX];
        match tokio::time::timeout(timeout, socket.recv(&mut reply)).await {
            Err(_) => Ok(PortState::OpenFiltered),
            Ok(Ok(_)) => Ok(PortState::Open),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(PortState::Closed),
            Ok(Err(e)) if is_unreachable(&e) => Ok(PortState::Filtered),
            Ok(Err(e)) => Err(e),
        }
    })
    .await
}
