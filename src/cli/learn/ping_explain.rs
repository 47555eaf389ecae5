//! `ping --explain`: narrates on stderr the socket calls behind a ping —
//! which kind of ICMP socket was opened (or why none could be), the
//! options, the first requests and replies — each with the Python line
//! that does the same and one line of why, in English or Chinese, in the
//! same shape as the other commands' `--explain`.

use std::collections::HashSet;
use std::io::{self, Write};
use std::net::SocketAddr;

use crate::cli::explain_text::Lang;
use crate::ping::{IcmpKind, IcmpOpenError};

/// Requests and replies narrated one by one; the rest are summed up.
pub const SHOWN_CALLS: u64 = 3;

/// The narrator of one ping run.
pub struct PingExplainer<W: Write> {
    out: W,
    lang: Lang,
    v6: bool,
    kind: IcmpKind,
    to: String,
    sends: u64,
    recvs: u64,
    explained: HashSet<&'static str>,
}

impl<W: Write> PingExplainer<W> {
    /// Narrates on `out` in `lang` a ping of `to` over IPv6 (`v6`) or IPv4.
    pub fn new(out: W, lang: Lang, v6: bool, to: SocketAddr) -> Self {
        PingExplainer {
            out,
            lang,
            v6,
            kind: IcmpKind::Datagram,
            to: format!("('{}', 0)", to.ip()),
            sends: 0,
            recvs: 0,
            explained: HashSet::new(),
        }
    }

    fn pick(&self, en: &str, zh: &str) -> String {
        match self.lang {
            Lang::En => en.to_string(),
            Lang::Zh => zh.to_string(),
        }
    }

    fn say(&mut self, topic: &'static str, c: &str, python: &str, why: &str) {
        let (py_label, why_label) = match self.lang {
            Lang::En => ("python:", "why:   "),
            Lang::Zh => ("Python:", "为什么:"),
        };
        let mut text = format!("[explain] {c}\n");
        if !python.is_empty() {
            text.push_str(&format!("          {py_label} {python}\n"));
        }
        if !why.is_empty() && self.explained.insert(topic) {
            text.push_str(&format!("          {why_label} {why}\n"));
        }
        // A closed stderr ends the narration, never the ping.
        let _ = self.out.write_all(text.as_bytes());
    }

    fn names(&self) -> (&'static str, &'static str, &'static str) {
        match self.v6 {
            true => ("AF_INET6", "IPPROTO_ICMPV6", "ICMPv6"),
            false => ("AF_INET", "IPPROTO_ICMP", "ICMP"),
        }
    }

    fn socket_call(&self, kind: IcmpKind) -> (String, String) {
        let (family, proto, _) = self.names();
        let ty = kind.c_type();
        (
            format!("socket({family}, {ty}, {proto})"),
            format!("s = socket.socket(socket.{family}, socket.{ty}, socket.{proto})"),
        )
    }

    /// The datagram socket was refused and a raw one is tried instead.
    pub fn fell_back(&mut self, error: &str) {
        let (c, python) = self.socket_call(IcmpKind::Datagram);
        let why = self.pick(
            "unprivileged ICMP sockets are allowed only for the groups in net.ipv4.ping_group_range; next try: a raw socket",
            "非特权 ICMP 套接字只允许 net.ipv4.ping_group_range 里的组使用；接下来试原始套接字",
        );
        self.say("fallback", &format!("{c} failed: {error}"), &python, &why);
    }

    /// No ICMP socket could be opened: the calls that failed and why.
    pub fn failed(&mut self, error: &IcmpOpenError) {
        let IcmpOpenError::NotAllowed { dgram, raw, .. } = error else {
            return;
        };
        if let Some(e) = dgram {
            let (c, python) = self.socket_call(IcmpKind::Datagram);
            let why = self.pick(
                "PermissionError: unprivileged ICMP sockets are allowed only for the groups in net.ipv4.ping_group_range",
                "PermissionError：非特权 ICMP 套接字只允许 net.ipv4.ping_group_range 里的组使用",
            );
            self.say("dgram failed", &format!("{c} failed: {e}"), &python, &why);
        }
        if let Some(e) = raw {
            let (c, python) = self.socket_call(IcmpKind::Raw);
            let why = self.pick(
                "PermissionError: a raw socket sees every packet of its protocol, so only root (or a program with CAP_NET_RAW) may open one",
                "PermissionError：原始套接字能看到该协议的所有包，所以只有 root（或有 CAP_NET_RAW 能力的程序）才能打开",
            );
            self.say("raw failed", &format!("{c} failed: {e}"), &python, &why);
        }
    }

    /// The socket that was opened, its options and (datagram) its bind.
    pub fn opened(&mut self, kind: IcmpKind, ident: u16) {
        self.kind = kind;
        let (c, python) = self.socket_call(kind);
        let why = match kind {
            IcmpKind::Datagram => self.pick(
                "an unprivileged ICMP socket (Linux allows it for the groups in net.ipv4.ping_group_range): the kernel fills in the echo identifier and the checksum, and gives this socket only its own replies, without the IP header",
                "非特权 ICMP 套接字（Linux 允许 net.ipv4.ping_group_range 里的组使用）：内核填写回显标识符和校验和，只把属于这个套接字的回复交给它，不带 IP 头",
            ),
            IcmpKind::Raw => self.pick(
                "a raw socket (root or CAP_NET_RAW): we write the whole ICMP message ourselves, checksum included, and it sees every ICMP packet that reaches this host, so replies are matched by their identifier",
                "原始套接字（需要 root 或 CAP_NET_RAW）：整个 ICMP 报文（包括校验和）都由我们自己写；它能看到到达本机的所有 ICMP 包，所以要按标识符挑出自己的回复",
            ),
        };
        self.say("socket", &c, &python, &why);
        let ttl_option = match (self.v6, kind) {
            (true, _) => Some((
                "setsockopt(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)",
                "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)",
            )),
            (false, IcmpKind::Datagram) => Some((
                "setsockopt(IPPROTO_IP, IP_RECVTTL, 1)",
                "s.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL",
            )),
            (false, IcmpKind::Raw) => None,
        };
        if let Some((c, python)) = ttl_option {
            let why = self.pick(
                "each reply then comes with its TTL (hop limit) as ancillary data, read with recvmsg()",
                "这样每个回复都会附带它的 TTL（跳数限制）作为辅助数据，用 recvmsg() 读取",
            );
            self.say("ttl", c, python, &why);
        }
        if kind == IcmpKind::Datagram {
            let any = if self.v6 {
                "('::', 0)"
            } else {
                "('0.0.0.0', 0)"
            };
            let why = self.pick(
                "port 0: the kernel picks the socket's \"port\", which is the echo identifier of its requests",
                "端口 0：由内核为套接字挑一个“端口”，它就是请求里的回显标识符",
            );
            self.say(
                "bind",
                &format!("bind({any}) → identifier {ident}"),
                &format!("s.bind({any})"),
                &why,
            );
        }
    }

    /// An echo request of `bytes` ICMP bytes went out.
    pub fn sent(&mut self, seq: u16, bytes: usize) {
        self.sends += 1;
        if self.sends > SHOWN_CALLS {
            return;
        }
        let (_, _, icmp) = self.names();
        let request_type = if self.v6 { 128 } else { 8 };
        let why = match (self.kind, self.v6) {
            (IcmpKind::Raw, false) => self.pick(
                &format!("an ICMP echo request: type {request_type}, code 0, checksum (the ones' complement of the 16-bit ones' complement sum), identifier, sequence number, then the payload; ICMP has no ports, so the 0 in the address is unused"),
                &format!("一个 ICMP 回显请求：类型 {request_type}、代码 0、校验和（16 位反码和再取反）、标识符、序号，然后是数据；ICMP 没有端口，地址里的 0 不起作用"),
            ),
            _ => self.pick(
                &format!("an {icmp} echo request: type {request_type}, code 0, checksum and identifier (filled in by the kernel), sequence number, then the payload; ICMP has no ports, so the 0 in the address is unused"),
                &format!("一个 {icmp} 回显请求：类型 {request_type}、代码 0、校验和与标识符（由内核填写）、序号，然后是数据；ICMP 没有端口，地址里的 0 不起作用"),
            ),
        };
        let to = self.to.clone();
        self.say(
            "send",
            &format!("sendto({bytes} bytes: echo request, icmp_seq={seq})"),
            &format!("s.sendto(packet, {to})"),
            &why,
        );
    }

    /// An echo reply came back.
    pub fn reply(&mut self, seq: u16, bytes: usize) {
        self.recvs += 1;
        if self.recvs > SHOWN_CALLS {
            return;
        }
        let raw_v4 = self.kind == IcmpKind::Raw && !self.v6;
        let (c, python, why) = if raw_v4 {
            (
                format!("recvfrom() = {} bytes: IPv4 header + echo reply, icmp_seq={seq}", bytes + 20),
                "data, addr = s.recvfrom(65536)".to_string(),
                self.pick(
                    "a raw IPv4 socket gets the whole packet: a 20-byte IP header (the TTL is byte 8), then the echo reply (type 0) with our identifier and sequence number; the time since sendto() is the round-trip time",
                    "原始 IPv4 套接字收到整个包：20 字节的 IP 头（第 8 字节是 TTL），然后是带着我们的标识符和序号的回显回复（类型 0）；距 sendto() 的时间就是往返时间",
                ),
            )
        } else {
            (
                format!("recvmsg() = {bytes} bytes: echo reply, icmp_seq={seq}"),
                "data, ancdata, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(4))".to_string(),
                self.pick(
                    "the echo reply with the same identifier and sequence number, without the IP header; the TTL arrives in ancdata; the time since sendto() is the round-trip time",
                    "带着相同标识符和序号的回显回复，不含 IP 头；TTL 在 ancdata 里；距 sendto() 的时间就是往返时间",
                ),
            )
        };
        self.say("recv", &c, &python, &why);
    }

    /// The end: the calls not shown, and the close.
    pub fn close(&mut self) {
        let more_sends = self.sends.saturating_sub(SHOWN_CALLS);
        let more_recvs = self.recvs.saturating_sub(SHOWN_CALLS);
        if more_sends + more_recvs > 0 {
            let c = self.pick(
                &format!("… {more_sends} more sendto() and {more_recvs} more replies, not shown"),
                &format!("… 另有 {more_sends} 次 sendto() 和 {more_recvs} 个回复，不再显示"),
            );
            self.say("more", &c, "", "");
        }
        let why = self.pick(
            "ICMP has no connection to end: closing just frees the socket",
            "ICMP 没有连接需要结束：关闭只是释放套接字",
        );
        self.say("close", "close()", "s.close()", &why);
    }
}

/// The narrator on stderr, when `--explain` was given.
pub fn on_stderr(
    explain: bool,
    lang: Option<Lang>,
    v6: bool,
    to: SocketAddr,
) -> Option<PingExplainer<io::Stderr>> {
    explain.then(|| {
        let lang = Lang::pick(lang, |name| std::env::var(name).ok());
        PingExplainer::new(io::stderr(), lang, v6, to)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_ping_is_told_with_its_python_lines_once_each() {
        let to: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut e = PingExplainer::new(Vec::new(), Lang::En, false, to);
        e.opened(IcmpKind::Datagram, 7);
        for seq in 1..=5 {
            e.sent(seq, 64);
            e.reply(seq, 64);
        }
        e.close();
        let text = String::from_utf8(e.out).unwrap();
        assert!(text.contains("[explain] socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)\n"));
        assert!(text.contains(
            "python: s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)"
        ));
        assert!(text.contains("python: s.sendto(packet, ('127.0.0.1', 0))"));
        assert_eq!(text.matches("[explain] sendto(").count(), 3);
        assert_eq!(text.matches("why:").count(), 6, "{text}");
        assert!(text.contains("2 more sendto() and 2 more replies"));
    }

    #[test]
    fn raw_and_refusals_in_chinese() {
        let to: SocketAddr = "[::1]:0".parse().unwrap();
        let mut e = PingExplainer::new(Vec::new(), Lang::Zh, true, to);
        e.failed(&IcmpOpenError::NotAllowed {
            v6: true,
            group: 65534,
            range: Some("1 0".into()),
            dgram: Some("Permission denied".into()),
            raw: Some("Operation not permitted".into()),
        });
        e.opened(IcmpKind::Raw, 9);
        let text = String::from_utf8(e.out).unwrap();
        assert!(text.contains("socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6) failed"));
        assert!(text.contains("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)"));
        assert!(text.contains("为什么:") && text.contains("CAP_NET_RAW"));
    }
}
