//! `--explain`: narrates on stderr the socket calls behind what happens,
//! each with the Python line that does the same and one line of why.
//!
//! It is a sink on the engine's event bus like every other view: the
//! `listening`, `open`, `data`, `eof` and `close` events each stand for the
//! calls that produced them (bind and listen, accept or connect, recv and
//! send, shutdown, close); the socket options come from the command's own
//! flags. Bounded: per connection and direction only the first
//! [`SHOWN_PER_DIRECTION`] recv/send calls are shown, the rest summed up in
//! one line; only the first [`MAX_CONNS_EXPLAINED`] connections are told;
//! each kind of call's why is said once.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use clap::Args;

use crate::cli::explain_text::{words_as, Call, Lang, SockType};
use crate::endpoint::{Endpoint, Kind, UnixAddr};
use crate::event::bus::Sink;
use crate::event::{CloseReason, Direction, Event, EventKind};
use crate::transport::{SocketOptions, DEFAULT_BACKLOG};

/// recv/send calls shown one by one per connection and direction.
pub const SHOWN_PER_DIRECTION: u64 = 3;

/// Connections narrated; later ones are not.
pub const MAX_CONNS_EXPLAINED: usize = 16;

/// The `--explain` and `--lang` flags (connect, listen, relay).
#[derive(Debug, Args, Clone, Default)]
pub struct ExplainArgs {
    /// Narrate each socket call on stderr as it happens (socket, setsockopt, bind, listen, accept, connect, recv/send summarised, shutdown, close) with the Python line that does the same and why.
    #[arg(long, help_heading = "Learning")]
    pub explain: bool,
    /// Language of --explain and of the status lines, errors and hints: en or zh (default: zh when LC_ALL, LC_MESSAGES or LANG starts with zh, else en; the other commands follow the locale).
    #[arg(long, value_enum, value_name = "LANG", help_heading = "Learning")]
    pub lang: Option<Lang>,
}

/// What the command does, for the narration of its setup calls.
#[derive(Debug, Clone)]
pub enum Role {
    /// `connect ENDPOINT`.
    Connect(Endpoint),
    /// `listen` (with its backlog and `--reuseport`).
    Listen {
        /// `--backlog`.
        backlog: Option<u32>,
        /// `--reuseport`.
        reuseport: bool,
    },
    /// `relay LISTEN TARGET`.
    Relay {
        /// Where each client's own connection goes.
        target: Endpoint,
        /// `--backlog`.
        backlog: Option<u32>,
        /// `--reuseport`.
        reuseport: bool,
    },
}

impl ExplainArgs {
    /// The narrating sink, when `--explain` was given; `socket` says which
    /// options each TCP connection gets (`--nodelay`, `--keepalive`).
    pub fn sink(&self, role: Role, socket: &SocketOptions) -> Option<Box<dyn Sink>> {
        self.explain.then(|| {
            let lang = Lang::pick(self.lang, |name| std::env::var(name).ok());
            let mut sink = Explainer::new(io::stderr(), lang, role);
            sink.udp_connected = !socket.ip.any_source;
            if socket.nodelay {
                sink.stream_options.push(Call::NoDelay);
            }
            if let Some(idle) = socket.keepalive {
                sink.stream_options.push(Call::KeepAlive(idle.as_secs()));
            }
            Box::new(sink) as Box<dyn Sink>
        })
    }
}

impl ExplainArgs {
    /// With `--explain`: narrates the call that failed (`connect`, or
    /// `bind` for a server), with the Python exception it raises and why.
    /// The error line itself follows, as without `--explain`.
    pub fn failure(&self, endpoint: &Endpoint, connecting: bool, error: &crate::error::NetError) {
        if !self.explain {
            return;
        }
        let lang = Lang::pick(self.lang, |name| std::env::var(name).ok());
        let role = match connecting {
            true => Role::Connect(endpoint.clone()),
            false => Role::Listen {
                backlog: None,
                reuseport: false,
            },
        };
        let mut sink = Explainer::new(io::stderr(), lang, role);
        let addr = python_addr(endpoint);
        let verb = if connecting { "connect" } else { "bind" };
        let _ = sink.say_as(&socket_call(endpoint), "s");
        let _ = sink.say_as(
            &Call::Failed {
                call: format!("{verb}({addr})"),
                python: format!("s.{verb}({addr})"),
                kind: error.kind,
            },
            "s",
        );
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    calls: u64,
    bytes: u64,
}

/// The narrating sink.
pub struct Explainer<W: Write + Send> {
    out: W,
    lang: Lang,
    role: Role,
    datagram: bool,
    tcp_listener: bool,
    conns: usize,
    told: HashMap<u64, [Tally; 2]>,
    /// Connections whose recv() = 0 (the peer's end) was said already.
    peer_eof_told: HashSet<u64>,
    /// Options set on each TCP connection (`--nodelay`, `--keepalive`).
    stream_options: Vec<Call>,
    /// Calls whose why was said already (each why is said once).
    explained: HashSet<std::mem::Discriminant<Call>>,
    /// A connected datagram client (`send`/`recv`), not `--any-source`
    /// (`sendto`/`recvfrom`).
    pub udp_connected: bool,
    /// Datagram peers whose first datagram is still to be narrated.
    first_datagram: HashSet<u64>,
}

/// How Python writes an address: `('127.0.0.1', 8000)` or `'/tmp/x.sock'`.
pub fn python_addr(endpoint: &Endpoint) -> String {
    match (endpoint.unix_addr(), endpoint.host_port()) {
        (Some(UnixAddr::Path(p)), _) => format!("'{}'", p.display()),
        (Some(UnixAddr::Abstract(n)), _) => format!("'\\0{n}'"),
        (None, Some((host, port))) => format!("('{host}', {port})"),
        (None, None) => endpoint.to_string(),
    }
}

fn socket_call(endpoint: &Endpoint) -> Call {
    let family = match endpoint.kind() {
        Kind::Tcp | Kind::Udp => match endpoint.host_port() {
            Some((crate::endpoint::Host::Ip(ip), _)) if ip.is_ipv6() => "AF_INET6",
            _ => "AF_INET",
        },
        _ => "AF_UNIX",
    };
    let ty = match endpoint.kind() {
        Kind::Udp | Kind::UnixDgram => SockType::Dgram,
        Kind::UnixSeqpacket => SockType::Seqpacket,
        _ => SockType::Stream,
    };
    Call::Socket { family, ty }
}

impl<W: Write + Send> Explainer<W> {
    /// Narrates on `out` in `lang` for a command doing `role`.
    pub fn new(out: W, lang: Lang, role: Role) -> Self {
        let datagram = match &role {
            Role::Connect(e) => !e.kind().is_connection_oriented(),
            _ => false,
        };
        Explainer {
            out,
            lang,
            role,
            datagram,
            tcp_listener: false,
            conns: 0,
            told: HashMap::new(),
            peer_eof_told: HashSet::new(),
            explained: HashSet::new(),
            stream_options: Vec::new(),
            udp_connected: true,
            first_datagram: HashSet::new(),
        }
    }

    /// The Python name of a connection's own socket: `s` for a client,
    /// `conn` for what `accept()` returned.
    fn var(&self) -> &'static str {
        match self.role {
            Role::Connect(_) => "s",
            _ => "conn",
        }
    }

    fn say(&mut self, call: &Call) -> io::Result<()> {
        self.say_as(call, self.var())
    }

    fn say_as(&mut self, call: &Call, var: &str) -> io::Result<()> {
        let (c, python, why) = words_as(call, self.lang, var);
        let (py_label, why_label) = match self.lang {
            Lang::En => ("python:", "why:   "),
            Lang::Zh => ("Python:", "为什么:"),
        };
        writeln!(self.out, "[explain] {c}")?;
        if !python.is_empty() {
            writeln!(self.out, "          {py_label} {python}")?;
        }
        if !why.is_empty() && self.explained.insert(std::mem::discriminant(call)) {
            writeln!(self.out, "          {why_label} {why}")?;
        }
        Ok(())
    }

    fn listening(&mut self, endpoint: &str) -> io::Result<()> {
        let Ok(endpoint) = endpoint.parse::<Endpoint>() else {
            return Ok(());
        };
        self.datagram = !endpoint.kind().is_connection_oriented();
        self.tcp_listener = endpoint.kind() == Kind::Tcp;
        let (backlog, reuseport) = match &self.role {
            Role::Listen { backlog, reuseport }
            | Role::Relay {
                backlog, reuseport, ..
            } => (*backlog, *reuseport),
            Role::Connect(_) => return Ok(()),
        };
        self.say_as(&socket_call(&endpoint), "s")?;
        if endpoint.kind() == Kind::Tcp {
            self.say(&Call::ReuseAddr)?;
        }
        if reuseport {
            self.say(&Call::ReusePort)?;
        }
        self.say(&Call::Bind(python_addr(&endpoint)))?;
        if !self.datagram {
            self.say(&Call::Listen(backlog.unwrap_or(DEFAULT_BACKLOG)))?;
        }
        Ok(())
    }

    fn open(&mut self, conn: u64, peer: &str) -> io::Result<()> {
        if self.conns == MAX_CONNS_EXPLAINED {
            self.conns += 1;
            return self.say(&Call::Enough(MAX_CONNS_EXPLAINED));
        }
        if self.conns > MAX_CONNS_EXPLAINED {
            return Ok(());
        }
        self.conns += 1;
        self.told.insert(conn, [Tally::default(); 2]);
        self.open_calls(conn, peer)?;
        let tcp = match &self.role {
            Role::Connect(e) => e.kind() == Kind::Tcp,
            _ => !self.datagram && self.tcp_listener,
        };
        if tcp {
            for call in self.stream_options.clone() {
                self.say(&call)?;
            }
        }
        Ok(())
    }

    fn open_calls(&mut self, conn: u64, peer: &str) -> io::Result<()> {
        match self.role.clone() {
            Role::Connect(endpoint) => {
                self.say(&socket_call(&endpoint))?;
                if self.datagram && !self.udp_connected {
                    return Ok(());
                }
                self.say(&Call::Connect {
                    addr: python_addr(&endpoint),
                    udp: self.datagram,
                })
            }
            // Said with the datagram's size, when its data comes.
            Role::Listen { .. } if self.datagram => {
                self.first_datagram.insert(conn);
                Ok(())
            }
            Role::Listen { .. } => self.say(&Call::Accept(peer.into())),
            Role::Relay { target, .. } => {
                self.say(&Call::Accept(peer.into()))?;
                self.say_as(&socket_call(&target), "upstream")?;
                self.say_as(
                    &Call::Connect {
                        addr: python_addr(&target),
                        udp: !target.kind().is_connection_oriented(),
                    },
                    "upstream",
                )
            }
        }
    }

    fn data(&mut self, conn: u64, peer: &str, dir: Direction, n: usize) -> io::Result<()> {
        let udp = self.datagram;
        if dir == Direction::In && self.first_datagram.remove(&conn) {
            if let Some(tallies) = self.told.get_mut(&conn) {
                tallies[Direction::In as usize].calls += 1;
            }
            return self.say(&Call::FirstDatagram(peer.into(), n));
        }
        let Some(tallies) = self.told.get_mut(&conn) else {
            return Ok(());
        };
        let tally = &mut tallies[dir as usize];
        tally.calls += 1;
        if tally.calls > SHOWN_PER_DIRECTION {
            tally.bytes += n as u64;
            return Ok(());
        }
        let connected_client = matches!(self.role, Role::Connect(_)) && self.udp_connected;
        match (&self.role, dir) {
            (Role::Relay { .. }, Direction::In) => self.say(&Call::Forward {
                n,
                from: "conn",
                to: "upstream",
            }),
            (Role::Relay { .. }, Direction::Out) => self.say(&Call::Forward {
                n,
                from: "upstream",
                to: "conn",
            }),
            (_, Direction::In) if udp && !connected_client => self.say(&Call::RecvFrom {
                n,
                peer: peer.into(),
            }),
            (_, Direction::In) => self.say(&Call::Recv { n, udp }),
            (_, Direction::Out) if udp && connected_client => self.say(&Call::SendConnected(n)),
            (_, Direction::Out) => self.say(&Call::Send { n, udp }),
        }
    }

    /// Says how many recv/send calls of `conn` in `dir` were not shown.
    fn summary(&mut self, conn: u64, dir: Direction) -> io::Result<()> {
        let Some(tallies) = self.told.get_mut(&conn) else {
            return Ok(());
        };
        let tally = &mut tallies[dir as usize];
        let hidden = tally.calls.saturating_sub(SHOWN_PER_DIRECTION);
        let bytes = tally.bytes;
        tally.calls = tally.calls.min(SHOWN_PER_DIRECTION);
        tally.bytes = 0;
        if hidden == 0 {
            return Ok(());
        }
        self.say(&Call::Summary {
            sent: dir == Direction::Out,
            calls: hidden,
            bytes,
        })
    }
}

impl<W: Write + Send> Sink for Explainer<W> {
    fn wants_sent_data(&self) -> bool {
        true
    }

    fn wants_received_data(&self) -> bool {
        true
    }

    fn handle(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::Listening { endpoint, .. } => self.listening(endpoint),
            EventKind::Open { conn, .. } => self.open(conn.id, &conn.peer),
            EventKind::Data {
                conn, dir, bytes, ..
            } => self.data(conn.id, &conn.peer, *dir, bytes.len()),
            EventKind::Eof { conn, dir } if self.told.contains_key(&conn.id) => {
                self.summary(conn.id, *dir)?;
                match dir {
                    Direction::In => {
                        self.peer_eof_told.insert(conn.id);
                        self.say(&Call::PeerEof)
                    }
                    Direction::Out => self.say(&Call::ShutdownWrite),
                }
            }
            EventKind::Close { conn, reason, .. } if self.told.contains_key(&conn.id) => {
                self.summary(conn.id, Direction::In)?;
                self.summary(conn.id, Direction::Out)?;
                self.told.remove(&conn.id);
                // Services report the peer's end only in the close reason:
                // the recv() that returned 0 came first, so say it first.
                let eof_told = self.peer_eof_told.remove(&conn.id);
                if *reason == CloseReason::PeerClosed && !eof_told && !self.datagram {
                    self.say(&Call::PeerEof)?;
                }
                self.first_datagram.remove(&conn.id);
                match (&self.role, self.datagram) {
                    (Role::Connect(_), true) => self.say(&Call::CloseDatagram(reason.to_string())),
                    (_, true) => self.say(&Call::ForgetPeer(conn.peer.to_string())),
                    (Role::Relay { .. }, false) => {
                        self.say(&Call::Close(reason.to_string()))?;
                        self.say_as(&Call::Close(reason.to_string()), "upstream")
                    }
                    _ => self.say(&Call::Close(reason.to_string())),
                }
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CloseReason, ConnInfo, Counters};
    use bytes::Bytes;
    use std::time::SystemTime;

    fn event(kind: EventKind) -> Event {
        Event {
            time: SystemTime::now(),
            kind,
        }
    }

    fn narrate(role: Role, lang: Lang, kinds: Vec<EventKind>) -> String {
        let mut sink = Explainer::new(Vec::new(), lang, role);
        for kind in kinds {
            sink.handle(&event(kind)).unwrap();
        }
        String::from_utf8(sink.out).unwrap()
    }

    fn session(n_data: usize) -> Vec<EventKind> {
        let conn = ConnInfo::new(1, "127.0.0.1:5000");
        let mut kinds = vec![
            EventKind::Listening {
                endpoint: "tcp://127.0.0.1:8000".into(),
                note: None,
            },
            EventKind::Open {
                conn: conn.clone(),
                local: "127.0.0.1:8000".into(),
                tls: None,
                proxy: None,
                wire: None,
            },
        ];
        for _ in 0..n_data {
            kinds.push(EventKind::Data {
                conn: conn.clone(),
                dir: Direction::In,
                bytes: Bytes::from_static(b"hello"),
                kind: None,
            });
        }
        kinds.push(EventKind::Eof {
            conn: conn.clone(),
            dir: Direction::In,
        });
        kinds.push(EventKind::Close {
            conn,
            reason: CloseReason::PeerClosed,
            counters: Counters::default(),
        });
        kinds
    }

    #[test]
    fn a_tcp_server_session_in_order_and_bounded() {
        let role = Role::Listen {
            backlog: Some(5),
            reuseport: false,
        };
        let text = narrate(role, Lang::En, session(1000));
        let calls: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("[explain] "))
            .collect();
        assert_eq!(
            calls[..5],
            [
                "socket(AF_INET, SOCK_STREAM)",
                "setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)",
                "bind(('127.0.0.1', 8000))",
                "listen(5)",
                "accept() = new socket, 127.0.0.1:5000",
            ]
        );
        assert!(text.contains("python: s.listen(5)"));
        assert!(text.contains("TIME_WAIT"));
        assert_eq!(text.matches("recv() = 5 bytes").count(), 3);
        assert!(text.contains("… 997 more recv() calls, 4985 bytes"));
        assert!(text.lines().count() < 40, "bounded: {text}");
        assert!(text.contains("[explain] recv() = 0 bytes"));
        assert!(text.contains("[explain] close()  (peer closed)"));
    }

    #[test]
    fn the_peers_end_is_said_once_whether_or_not_an_eof_event_came() {
        let role = || Role::Listen {
            backlog: None,
            reuseport: false,
        };
        // A plain session reports the end as an Eof event, then closes.
        let plain = narrate(role(), Lang::En, session(1));
        assert_eq!(plain.matches("[explain] recv() = 0 bytes").count(), 1);
        // A service reports it only as the close reason.
        let service: Vec<EventKind> = session(1)
            .into_iter()
            .filter(|k| !matches!(k, EventKind::Eof { .. }))
            .collect();
        let text = narrate(role(), Lang::En, service);
        assert_eq!(
            text.matches("[explain] recv() = 0 bytes").count(),
            1,
            "{text}"
        );
        let eof = text.find("recv() = 0 bytes").unwrap_or(usize::MAX);
        let close = text.find("[explain] close()").unwrap_or(0);
        assert!(eof < close, "recv() = 0 comes before close(): {text}");
        // A close for another reason says no recv() = 0.
        let mut shutdown = session(1);
        shutdown.retain(|k| !matches!(k, EventKind::Eof { .. }));
        if let Some(EventKind::Close { reason, .. }) = shutdown.last_mut() {
            *reason = CloseReason::Shutdown;
        }
        let text = narrate(role(), Lang::En, shutdown);
        assert!(!text.contains("recv() = 0 bytes"), "{text}");
    }

    /// One session on `endpoint` as `role` sees it: open, a message in
    /// and out, close.
    fn one_exchange(role: Role, listen: Option<&str>, peer: &str) -> Vec<EventKind> {
        let conn = ConnInfo::new(1, peer);
        let data = |dir| EventKind::Data {
            conn: conn.clone(),
            dir,
            bytes: Bytes::from_static(b"hello"),
            kind: None,
        };
        let mut kinds = Vec::new();
        if let Some(endpoint) = listen {
            kinds.push(EventKind::Listening {
                endpoint: endpoint.into(),
                note: None,
            });
        }
        let _ = role;
        kinds.push(EventKind::Open {
            conn: conn.clone(),
            local: "127.0.0.1:8000".into(),
            tls: None,
            proxy: None,
            wire: None,
        });
        kinds.extend([data(Direction::Out), data(Direction::In)]);
        kinds.push(EventKind::Close {
            conn: conn.clone(),
            reason: CloseReason::WaitElapsed,
            counters: Counters::default(),
        });
        kinds
    }

    #[test]
    fn a_client_narrates_with_its_own_socket_s() {
        let role = || Role::Connect("tcp://127.0.0.1:8000".parse().unwrap());
        let text = narrate(
            role(),
            Lang::En,
            one_exchange(role(), None, "127.0.0.1:8000"),
        );
        for want in [
            "python: s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
            "python: s.connect(('127.0.0.1', 8000))",
            "python: s.sendall(data)",
            "python: data = s.recv(65536)",
            "python: s.close()",
        ] {
            assert!(text.contains(want), "{want} in:\n{text}");
        }
        assert!(!text.contains("conn.") && !text.contains("conn,"), "{text}");
    }

    #[test]
    fn udp_names_send_recv_and_sendto_recvfrom_by_socket_kind() {
        let role = || Role::Connect("udp://127.0.0.1:9999".parse().unwrap());
        let text = narrate(
            role(),
            Lang::En,
            one_exchange(role(), None, "127.0.0.1:9999"),
        );
        assert!(text.contains("python: s.send(data)"), "{text}");
        assert!(text.contains("python: data = s.recv(65535)"), "{text}");
        assert!(text.contains("python: s.close()"), "{text}");
        assert!(
            !text.contains("TIME_WAIT") && !text.contains("conn."),
            "{text}"
        );
        // --any-source: an unconnected socket.
        let mut sink = Explainer::new(Vec::new(), Lang::En, role());
        sink.udp_connected = false;
        for kind in one_exchange(role(), None, "127.0.0.1:9999") {
            sink.handle(&event(kind)).unwrap();
        }
        let text = String::from_utf8(sink.out).unwrap();
        assert!(text.contains("python: s.sendto(data, addr)"), "{text}");
        assert!(
            text.contains("recvfrom() = 5 bytes from 127.0.0.1:9999"),
            "{text}"
        );
        assert!(!text.contains("s.connect"), "{text}");
        // A server: the first datagram once, the sender shown, no close.
        let server = || Role::Listen {
            backlog: None,
            reuseport: false,
        };
        let mut kinds = one_exchange(server(), Some("udp://127.0.0.1:9999"), "127.0.0.1:5000");
        kinds.swap(2, 3);
        let text = narrate(server(), Lang::En, kinds);
        assert_eq!(text.matches("recvfrom()").count(), 1, "{text}");
        assert!(
            text.contains("recvfrom() = 5 bytes, the first datagram from 127.0.0.1:5000"),
            "{text}"
        );
        assert!(text.contains("python: s.sendto(data, addr)"), "{text}");
        assert!(
            !text.contains("TIME_WAIT") && !text.contains("conn."),
            "{text}"
        );
        assert!(text.contains("nothing to close"), "{text}");
    }

    #[test]
    fn a_relay_names_both_sockets_and_both_directions() {
        let role = || Role::Relay {
            target: "tcp://127.0.0.1:9000".parse().unwrap(),
            backlog: None,
            reuseport: false,
        };
        let kinds = one_exchange(role(), Some("tcp://127.0.0.1:8000"), "127.0.0.1:5000");
        let text = narrate(role(), Lang::En, kinds);
        for want in [
            "python: s = socket.socket(",
            "python: conn, addr = s.accept()",
            "python: upstream = socket.socket(",
            "python: upstream.connect(('127.0.0.1', 9000))",
            "python: conn.sendall(upstream.recv(65536))",
            "python: upstream.sendall(conn.recv(65536))",
            "python: conn.close()",
            "python: upstream.close()",
        ] {
            assert!(text.contains(want), "{want} in:\n{text}");
        }
    }

    #[test]
    fn socket_options_follow_the_connect() {
        let mut sink = Explainer::new(
            Vec::new(),
            Lang::En,
            Role::Connect("tcp://127.0.0.1:8000".parse().unwrap()),
        );
        sink.stream_options = vec![Call::NoDelay, Call::KeepAlive(60)];
        sink.handle(&event(EventKind::Open {
            conn: ConnInfo::new(1, "127.0.0.1:8000"),
            local: "127.0.0.1:40000".into(),
            tls: None,
            proxy: None,
            wire: None,
        }))
        .unwrap();
        let text = String::from_utf8(sink.out).unwrap();
        let calls: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("[explain] "))
            .collect();
        assert_eq!(
            calls,
            [
                "socket(AF_INET, SOCK_STREAM)",
                "connect(('127.0.0.1', 8000))",
                "setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)",
                "setsockopt(SO_KEEPALIVE, 1); setsockopt(TCP_KEEPIDLE, 60)",
            ]
        );
    }

    #[test]
    fn chinese_and_udp_client() {
        let text = narrate(
            Role::Connect("udp://127.0.0.1:53".parse().unwrap()),
            Lang::Zh,
            vec![EventKind::Open {
                conn: ConnInfo::new(1, "127.0.0.1:53"),
                local: "127.0.0.1:40000".into(),
                tls: None,
                proxy: None,
                wire: None,
            }],
        );
        assert!(text.contains("socket(AF_INET, SOCK_DGRAM)"), "{text}");
        assert!(text.contains("UDP 没有连接"), "{text}");
        assert!(
            text.contains("Python: s.connect(('127.0.0.1', 53))"),
            "{text}"
        );
    }
}
