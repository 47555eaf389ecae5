//! The words of `--explain`: for each socket call, the C call, the Python
//! line that does the same, and one line of why, in English or Chinese.

pub use crate::messages::Lang;

/// The socket type of a call, as C and Python spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockType {
    /// TCP or a Unix stream.
    Stream,
    /// UDP or a Unix datagram socket.
    Dgram,
    /// A Unix seqpacket socket.
    Seqpacket,
}

/// One narrated call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `socket(family, type)`.
    Socket {
        /// `AF_INET`, `AF_INET6` or `AF_UNIX`.
        family: &'static str,
        /// Stream, datagram or seqpacket.
        ty: SockType,
    },
    /// `setsockopt(SO_REUSEADDR)` before a TCP bind.
    ReuseAddr,
    /// `setsockopt(SO_REUSEPORT)` (`--reuseport`).
    ReusePort,
    /// `setsockopt(TCP_NODELAY)` (`--nodelay`).
    NoDelay,
    /// `setsockopt(SO_KEEPALIVE)` and `TCP_KEEPIDLE` (`--keepalive`).
    KeepAlive(u64),
    /// `bind(addr)`; `addr` as Python writes it.
    Bind(String),
    /// `listen(backlog)`.
    Listen(u32),
    /// `accept()` returned a client.
    Accept(String),
    /// `connect(addr)` succeeded (`udp`: no packet is sent).
    Connect {
        /// As Python writes it.
        addr: String,
        /// A datagram socket.
        udp: bool,
    },
    /// The first datagram from a new peer, of this many bytes.
    FirstDatagram(String, usize),
    /// `recv` returned this many bytes.
    Recv {
        /// Bytes.
        n: usize,
        /// One datagram (`recvfrom`).
        udp: bool,
    },
    /// `recvfrom` on an unconnected datagram socket: the bytes and who
    /// sent them.
    RecvFrom {
        /// Bytes.
        n: usize,
        /// The sender.
        peer: String,
    },
    /// `send` of this many bytes.
    Send {
        /// Bytes.
        n: usize,
        /// One datagram (`sendto`).
        udp: bool,
    },
    /// A datagram on a connected socket: `send`, no address.
    SendConnected(usize),
    /// A relay copied this many bytes from one of its sockets to the other.
    Forward {
        /// Bytes.
        n: usize,
        /// The Python name of the socket read from.
        from: &'static str,
        /// The Python name of the socket written to.
        to: &'static str,
    },
    /// Calls not shown one by one.
    Summary {
        /// `recv` or `send`.
        sent: bool,
        /// How many calls.
        calls: u64,
        /// Their bytes.
        bytes: u64,
    },
    /// `recv` returned 0: the peer shut down its writes.
    PeerEof,
    /// `shutdown(SHUT_WR)`.
    ShutdownWrite,
    /// `close()`.
    Close(String),
    /// A datagram socket's close (no connection, no TIME_WAIT).
    CloseDatagram(String),
    /// A datagram server is done with one peer; its socket stays open.
    ForgetPeer(String),
    /// No more connections are narrated.
    Enough(usize),
    /// `connect` or `bind` failed: the C call, the Python line, and the
    /// failure's kind.
    Failed {
        /// The call as C writes it, e.g. `connect(('127.0.0.1', 1))`.
        call: String,
        /// The Python line, e.g. `s.connect(('127.0.0.1', 1))`.
        python: String,
        /// What went wrong.
        kind: crate::error::NetErrorKind,
    },
}

/// The exception Python raises for a failure (Linux's errno numbers), and
/// why it happens.
fn exception(
    kind: crate::error::NetErrorKind,
    connecting: bool,
    zh: bool,
) -> (&'static str, &'static str) {
    use crate::error::NetErrorKind as K;
    let pick = |en, cn| if zh { cn } else { en };
    match kind {
        K::Refused => ("ConnectionRefusedError: [Errno 111] Connection refused", pick(
            "nothing listens on that port (or a firewall rejects it): the other kernel answered the SYN with RST; start the server first, or check the port",
            "那个端口上没有程序在监听（或被防火墙拒绝）：对方内核用 RST 回应了 SYN；先启动服务器，或检查端口号",
        )),
        K::AddrInUse => ("OSError: [Errno 98] Address already in use", pick(
            "another socket is bound to this address and port; only one may listen there unless all of them set SO_REUSEPORT",
            "已有别的套接字绑定了这个地址和端口；除非它们都设置了 SO_REUSEPORT，否则只能有一个在那里监听",
        )),
        K::PermissionDenied => ("PermissionError: [Errno 13] Permission denied", pick(
            "ports below 1024 belong to root (or CAP_NET_BIND_SERVICE); a learner's server uses a port like 8000",
            "1024 以下的端口属于 root（或有 CAP_NET_BIND_SERVICE 能力的程序）；练习用的服务器请用 8000 这样的端口",
        )),
        K::AddrNotAvailable => ("OSError: [Errno 99] Cannot assign requested address", pick(
            "that address is not one of this machine's: bind only to an address an interface has (127.0.0.1, 0.0.0.0 for all)",
            "这个地址不属于本机：只能绑定本机网卡上的地址（127.0.0.1，或 0.0.0.0 表示全部）",
        )),
        K::TimedOut => ("TimeoutError: timed out  (socket.timeout)", if connecting { pick(
            "no answer to the SYN in time: the host is down, unreachable, or a firewall drops the packets silently",
            "SYN 在限定时间内没有回应：主机没开、不可达，或者防火墙悄悄丢弃了数据包",
        ) } else { pick("nothing arrived in time", "在限定时间内什么也没收到") }),
        K::Unreachable => ("OSError: [Errno 113] No route to host", pick(
            "the network has no way to that host: check the address and the cable or Wi-Fi",
            "网络到不了那台主机：检查地址，以及网线或 Wi-Fi",
        )),
        K::Resolve => ("socket.gaierror: [Errno -2] Name or service not known", pick(
            "the host name did not resolve to an address: check its spelling, or use an IP address",
            "主机名无法解析成地址：检查拼写，或直接用 IP 地址",
        )),
        K::NotFound => ("FileNotFoundError: [Errno 2] No such file or directory", pick(
            "no socket file at that path: the server is not running, or it uses another path",
            "该路径下没有套接字文件：服务器没运行，或它用的是别的路径",
        )),
        _ => ("OSError", pick(
            "the call failed; the error line below says how",
            "调用失败；下面的错误信息说明了原因",
        )),
    }
}

fn ty_names(ty: SockType) -> (&'static str, &'static str) {
    match ty {
        SockType::Stream => ("SOCK_STREAM", "socket.SOCK_STREAM"),
        SockType::Dgram => ("SOCK_DGRAM", "socket.SOCK_DGRAM"),
        SockType::Seqpacket => ("SOCK_SEQPACKET", "socket.SOCK_SEQPACKET"),
    }
}

/// The three parts of one narrated call: the call, its Python, and why
/// (any part may be empty), for a server's accepted socket `conn`.
pub fn words(call: &Call, lang: Lang) -> (String, String, String) {
    words_as(call, lang, "conn")
}

/// [`words`] for the socket Python calls `var`: `s` for a client's socket,
/// `conn` for a socket `accept()` returned, `upstream` for a relay's
/// connection to its target. The listening socket is always `s`.
pub fn words_as(call: &Call, lang: Lang, var: &str) -> (String, String, String) {
    let zh = lang == Lang::Zh;
    let pick = |en: String, cn: String| if zh { cn } else { en };
    match call {
        Call::Socket { family, ty } => {
            let (c_ty, py_ty) = ty_names(*ty);
            let why = match (ty, *family) {
                (SockType::Stream, "AF_UNIX") => pick(
                    "a Unix stream socket: like TCP, a reliable byte stream, but between programs on this machine, named by a file path".into(),
                    "Unix 流套接字：和 TCP 一样是可靠的字节流，但只在本机进程之间，用文件路径命名".into(),
                ),
                (SockType::Stream, _) => pick(
                    "TCP: a reliable, ordered byte stream; it keeps no message boundaries".into(),
                    "TCP：可靠、有序的字节流；它不保留消息边界".into(),
                ),
                (SockType::Dgram, _) => pick(
                    "UDP: separate datagrams, no connection, no delivery guarantee; each recv gets one whole datagram".into(),
                    "UDP：一个个独立的数据报，没有连接，不保证送达；每次 recv 收到一个完整的数据报".into(),
                ),
                (SockType::Seqpacket, _) => pick(
                    "seqpacket: a connection like a stream, but it keeps message boundaries".into(),
                    "seqpacket：像流一样有连接，但保留消息边界".into(),
                ),
            };
            (
                format!("socket({family}, {c_ty})"),
                format!("{var} = socket.socket(socket.{family}, {py_ty})"),
                why,
            )
        }
        Call::ReuseAddr => (
            "setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)".into(),
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)".into(),
            pick(
                "lets a restarted server bind its port at once: old connections linger in TIME_WAIT (about a minute, so late packets are not taken for a new connection)".into(),
                "让重启的服务器能立刻绑定端口：旧连接会在 TIME_WAIT 状态停留约一分钟（以免迟到的包被当成新连接的）".into(),
            ),
        ),
        Call::ReusePort => (
            "setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)".into(),
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)".into(),
            pick(
                "several processes may bind the same port; the kernel spreads new connections among them".into(),
                "多个进程可以绑定同一端口；内核把新连接分给它们".into(),
            ),
        ),
        Call::NoDelay => (
            "setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)".into(),
            format!("{var}.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)"),
            pick(
                "turns off Nagle's algorithm: small writes go out at once instead of waiting to be joined with the next ones".into(),
                "关闭 Nagle 算法：小块数据立刻发出，而不是等着和后面的数据合并".into(),
            ),
        ),
        Call::KeepAlive(secs) => (
            format!("setsockopt(SO_KEEPALIVE, 1); setsockopt(TCP_KEEPIDLE, {secs})"),
            format!("{var}.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); {var}.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, {secs})"),
            pick(
                format!("after {secs}s of silence the kernel sends probes, so a peer that vanished (cable pulled, host off) is noticed"),
                format!("静默 {secs} 秒后内核会发送探测包，这样对方突然消失（拔网线、关机）也能被发现"),
            ),
        ),
        Call::Bind(addr) => (
            format!("bind({addr})"),
            format!("s.bind({addr})"),
            pick(
                "gives the socket its address: 127.0.0.1 is this machine only, 0.0.0.0 every interface; port 0 lets the kernel pick".into(),
                "给套接字一个地址：127.0.0.1 只有本机能连，0.0.0.0 是所有网卡；端口 0 由内核挑一个空闲端口".into(),
            ),
        ),
        Call::Listen(backlog) => (
            format!("listen({backlog})"),
            format!("s.listen({backlog})"),
            pick(
                format!("now clients can connect; the backlog ({backlog}) is how many finished handshakes the kernel queues until accept() takes them"),
                format!("现在客户端可以连接了；backlog（{backlog}）是内核替你排队、等 accept() 取走的已完成握手的连接数"),
            ),
        ),
        Call::Accept(peer) => (
            format!("accept() = new socket, {peer}"),
            "conn, addr = s.accept()".into(),
            pick(
                format!("takes the next connection from the queue: a new socket just for {peer}; the listening socket goes on listening"),
                format!("从队列取出下一个连接：一个只属于 {peer} 的新套接字；监听套接字继续监听"),
            ),
        ),
        Call::Connect { addr, udp: false } => (
            format!("connect({addr})"),
            format!("{var}.connect({addr})"),
            pick(
                "the three-way handshake (SYN, SYN-ACK, ACK); it returns once the server's kernel has accepted us".into(),
                "三次握手（SYN、SYN-ACK、ACK）；服务器的内核接受后才返回".into(),
            ),
        ),
        Call::Connect { addr, udp: true } => (
            format!("connect({addr})"),
            format!("{var}.connect({addr})"),
            pick(
                "UDP has no connection: this only sets the default destination (and keeps replies from others out); no packet is sent".into(),
                "UDP 没有连接：这里只是设定默认目的地址（并过滤别人的回包）；不会发出任何包".into(),
            ),
        ),
        Call::FirstDatagram(peer, n) => (
            format!("recvfrom() = {n} bytes, the first datagram from {peer}"),
            "data, addr = s.recvfrom(65535)".into(),
            pick(
                "no accept() for UDP: a new peer is simply the first datagram that arrives from a new address".into(),
                "UDP 没有 accept()：所谓新客户端，就是从新地址来的第一个数据报".into(),
            ),
        ),
        Call::Recv { n, udp: false } => (
            format!("recv() = {n} bytes"),
            format!("data = {var}.recv(65536)"),
            pick(
                "a byte stream: one recv() may hold part of what the peer sent, or several of its sends".into(),
                "字节流：一次 recv() 可能只是对方发送的一部分，也可能是几次发送合在一起".into(),
            ),
        ),
        Call::Recv { n, udp: true } => (
            format!("recv() = {n} bytes"),
            format!("data = {var}.recv(65535)"),
            pick(
                "one whole datagram, exactly as the peer sent it (a connected socket only takes datagrams from its peer)".into(),
                "一个完整的数据报，和对方发送的完全一样（已 connect 的套接字只收它那一端发来的数据报）".into(),
            ),
        ),
        Call::RecvFrom { n, peer } => (
            format!("recvfrom() = {n} bytes from {peer}"),
            "data, addr = s.recvfrom(65535)".into(),
            pick(
                "one whole datagram, exactly as the peer sent it; addr says who sent it".into(),
                "一个完整的数据报，和对方发送的完全一样；addr 是发送者的地址".into(),
            ),
        ),
        Call::Send { n, udp: false } => (
            format!("send({n} bytes)"),
            format!("{var}.sendall(data)"),
            pick(
                "handed to the kernel, which sends it when the network allows; sendall() loops until all is taken".into(),
                "交给内核，由内核在网络允许时发出；sendall() 会循环直到全部交出".into(),
            ),
        ),
        Call::Send { n, udp: true } => (
            format!("sendto({n} bytes)"),
            "s.sendto(data, addr)".into(),
            pick(
                "one datagram; it arrives whole or not at all".into(),
                "一个数据报；要么完整到达，要么丢失".into(),
            ),
        ),
        Call::SendConnected(n) => (
            format!("send({n} bytes)"),
            format!("{var}.send(data)"),
            pick(
                "one datagram to the address connect() set; it arrives whole or not at all".into(),
                "一个数据报，发往 connect() 设定的地址；要么完整到达，要么丢失".into(),
            ),
        ),
        Call::Forward { n, from, to } => (
            format!("{from}.recv() = {n} bytes, then {to}.sendall()"),
            format!("{to}.sendall({from}.recv(65536))"),
            pick(
                "a relay copies each direction on its own: the client's bytes (conn) go to the target (upstream), the target's come back".into(),
                "转发器分别复制两个方向：客户端（conn）发来的字节送往目标（upstream），目标的回复送回客户端".into(),
            ),
        ),
        Call::Summary { sent, calls, bytes } => {
            let name = if *sent { "send" } else { "recv" };
            (
                pick(
                    format!("… {calls} more {name}() calls, {bytes} bytes (not shown one by one)"),
                    format!("…… 另有 {calls} 次 {name}() 调用，共 {bytes} 字节（不逐条显示）"),
                ),
                String::new(),
                String::new(),
            )
        }
        Call::PeerEof => (
            "recv() = 0 bytes".into(),
            "if not data: ...".into(),
            pick(
                "end of stream: the peer shut down its writing side (FIN); it may still read what we send".into(),
                "流结束：对方关闭了它的写方向（FIN）；它也许还在读我们发的数据".into(),
            ),
        ),
        Call::ShutdownWrite => (
            "shutdown(SHUT_WR)".into(),
            format!("{var}.shutdown(socket.SHUT_WR)"),
            pick(
                "half-close: we send no more; the peer's recv() returns b'' and it can still answer".into(),
                "半关闭：我们不再发送；对方的 recv() 会返回 b''，但它仍然可以回复".into(),
            ),
        ),
        Call::Close(reason) => (
            format!("close()  ({reason})"),
            format!("{var}.close()"),
            pick(
                "releases the socket; the side that closes first keeps the address pair in TIME_WAIT for a while".into(),
                "释放套接字；先关闭的一方会让这对地址在 TIME_WAIT 状态停留一段时间".into(),
            ),
        ),
        Call::CloseDatagram(reason) => (
            format!("close()  ({reason})"),
            format!("{var}.close()"),
            pick(
                "releases the socket; UDP had no connection, so nothing is sent and nothing lingers".into(),
                "释放套接字；UDP 本来就没有连接，所以不发送任何东西，也不会有残留状态".into(),
            ),
        ),
        Call::ForgetPeer(peer) => (
            pick(
                format!("(done with {peer}; the socket stays open for the next datagram)"),
                format!("（{peer} 结束；套接字继续开着，等下一个数据报）"),
            ),
            "# nothing to close: one socket s serves every peer".into(),
            pick(
                "UDP has no connections: a server just stops expecting a peer; there is nothing to close and nothing lingers".into(),
                "UDP 没有连接：服务器只是不再等某个对端；没有什么可关闭的，也不会有残留状态".into(),
            ),
        ),
        Call::Failed { call, python, kind } => {
            let (raised, why) = exception(*kind, call.starts_with("connect"), zh);
            (
                pick(format!("{call} failed"), format!("{call} 失败")),
                format!("{python}  ->  {raised}"),
                why.to_string(),
            )
        }
        Call::Enough(n) => (
            pick(
                format!("({n} connections explained; later ones are not)"),
                format!("（已讲解 {n} 个连接；之后的不再讲解）"),
            ),
            String::new(),
            String::new(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_flag_then_locale() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::pick(None, env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(
            Lang::pick(None, env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            Lang::pick(Some(Lang::En), env(&[("LANG", "zh_TW")])),
            Lang::En
        );
        assert_eq!(Lang::pick(None, env(&[])), Lang::En);
    }

    #[test]
    fn every_call_has_python_and_why_in_both_languages() {
        let calls = [
            Call::Socket {
                family: "AF_INET",
                ty: SockType::Stream,
            },
            Call::ReuseAddr,
            Call::Bind("('127.0.0.1', 8000)".into()),
            Call::Listen(5),
            Call::Accept("127.0.0.1:5000".into()),
            Call::Connect {
                addr: "('127.0.0.1', 53)".into(),
                udp: true,
            },
            Call::Recv { n: 5, udp: false },
            Call::Send { n: 5, udp: true },
            Call::PeerEof,
            Call::ShutdownWrite,
            Call::Close("peer closed".into()),
            Call::Failed {
                call: "connect(('127.0.0.1', 1))".into(),
                python: "s.connect(('127.0.0.1', 1))".into(),
                kind: crate::error::NetErrorKind::Refused,
            },
        ];
        for call in &calls {
            for lang in [Lang::En, Lang::Zh] {
                let (c, py, why) = words(call, lang);
                assert!(
                    !c.is_empty() && !py.is_empty() && !why.is_empty(),
                    "{call:?}"
                );
            }
        }
        assert_eq!(words(&Call::Listen(5), Lang::En).1, "s.listen(5)");
        assert!(words(&Call::Listen(5), Lang::Zh).2.contains("backlog"));
    }
}
