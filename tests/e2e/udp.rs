//! UDP beyond one peer: broadcast and multicast inside a network namespace
//! each test creates (and deletes), and `--any-source` on loopback.

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::util::*;

/// A network namespace of our own, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace with `lo` up, or says why it cannot (skipping),
    /// failing instead under `CI=true`.
    fn new() -> Option<Netns> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sockmate-t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let made = Command::new("ip")
            .args(["netns", "add", &name])
            .stderr(Stdio::piped())
            .output();
        match made {
            Ok(out) if out.status.success() => {}
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!(
                        "network namespaces are unavailable ({why}); CI needs root and iproute2"
                    );
                }
                eprintln!(
                    "SKIPPED: cannot create a network namespace ({why}); run as root with iproute2"
                );
                return None;
            }
        }
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "multicast", "on"]);
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// Runs `ip -n NS ARGS…`, which must succeed.
    fn ip(&self, args: &[&str]) {
        let status = Command::new("ip")
            .args(["-n", &self.name])
            .args(args)
            .status()
            .expect("run ip");
        assert!(status.success(), "ip -n {} {args:?} failed", self.name);
    }

    /// `sockmate ARGS…` inside the namespace.
    fn sockmate(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name])
            .arg(bin())
            .args(args)
            .env_remove("SOCKMATE_LOG")
            .env("NO_COLOR", "1");
        cmd
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// The port of a `listening on udp://HOST:PORT …` line.
fn port_of(listener: &mut Proc) -> String {
    let ep = listener.listening();
    ep.rsplit(':').next().expect("port").to_string()
}

/// Waits for the listener's `listening on` line, checks that it says which
/// group was joined where (`joined`: "GROUP on interface IFACE"), and
/// returns the line and the port that follows `before_port` in it.
fn joined_port(listener: &mut Proc, before_port: &str, joined: &str) -> (String, String) {
    let line = listener.wait_line("listening on ");
    assert!(
        line.ends_with(&format!("(joined multicast group {joined})")),
        "{line}"
    );
    let port = line
        .split(before_port)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("port")
        .to_string();
    (line, port)
}

#[test]
fn broadcast_needs_the_flag_says_so_and_then_arrives() {
    if !require_tool("ip") {
        return;
    }
    let Some(ns) = Netns::new() else { return };
    ns.ip(&[
        "addr",
        "add",
        "10.77.0.1/24",
        "brd",
        "10.77.0.255",
        "dev",
        "lo",
    ]);
    let mut listener = Proc::spawn(ns.sockmate(&["listen", "udp://0.0.0.0:0"]));
    let target = format!("udp://10.77.0.255:{}", port_of(&mut listener));

    let (status, _, stderr) = run_with_input(ns.sockmate(&["connect", &target]), b"x\n");
    assert!(!status.success());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [format!(
            "sockmate: cannot send to {target}: it is a broadcast address (add --broadcast)"
        )],
        "{stderr}"
    );

    // The unconnected socket of --any-source finds out when it sends.
    let (status, _, stderr) =
        run_with_input(ns.sockmate(&["connect", &target, "--any-source"]), b"x\n");
    assert!(!status.success());
    assert_eq!(
        stderr.trim_end(),
        format!("sockmate: {target}: it is a broadcast address (add --broadcast)")
    );

    let (status, _, stderr) = run_with_input(
        ns.sockmate(&["connect", &target, "--broadcast"]),
        b"to everyone\n",
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(read_stdout(&mut listener, 12), b"to everyone\n");
}

#[test]
fn multicast_v4_listen_joins_and_connect_sends() {
    if !require_tool("ip") {
        return;
    }
    let Some(ns) = Netns::new() else { return };
    ns.ip(&["route", "add", "224.0.0.0/4", "dev", "lo"]);
    let mut listener = Proc::spawn(ns.sockmate(&["listen", "udp://239.1.2.3:0", "--iface", "lo"]));
    let (line, port) = joined_port(&mut listener, "239.1.2.3:", "239.1.2.3 on interface lo");
    assert!(line.contains("listening on udp://239.1.2.3:"), "{line}");
    let (status, _, stderr) = run_with_input(
        ns.sockmate(&[
            "connect",
            &format!("udp://239.1.2.3:{port}"),
            "--ttl",
            "1",
            "--multicast-loop",
            "on",
        ]),
        b"to the group\n",
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(read_stdout(&mut listener, 13), b"to the group\n");
}

#[test]
fn multicast_loop_off_keeps_our_own_datagrams_off_this_host() {
    if !require_tool("ip") {
        return;
    }
    // On `lo` every datagram comes back as an incoming one whatever the
    // loop says; over a veth pair whose other end is in a second
    // namespace, only the loop can bring it back.
    let Some(here) = Netns::new() else { return };
    let Some(there) = Netns::new() else { return };
    here.ip(&["link", "add", "sma", "type", "veth", "peer", "name", "smb"]);
    here.ip(&["link", "set", "smb", "netns", &there.name]);
    here.ip(&["addr", "add", "10.78.0.1/24", "dev", "sma"]);
    there.ip(&["addr", "add", "10.78.0.2/24", "dev", "smb"]);
    here.ip(&["link", "set", "sma", "up"]);
    there.ip(&["link", "set", "smb", "up"]);
    let mut listener =
        Proc::spawn(here.sockmate(&["listen", "udp://239.1.2.3:0", "--iface", "10.78.0.1"]));
    let (_, port) = joined_port(
        &mut listener,
        "239.1.2.3:",
        "239.1.2.3 on interface 10.78.0.1",
    );
    // The first datagram the listener sees must be the one sent with the
    // loop on.
    for (word, lo) in [("off\n", "off"), ("on\n", "on")] {
        let (status, _, stderr) = run_with_input(
            here.sockmate(&[
                "connect",
                &format!("udp://239.1.2.3:{port}"),
                "--iface",
                "10.78.0.1",
                "--multicast-loop",
                lo,
            ]),
            word.as_bytes(),
        );
        assert!(status.success(), "{stderr}");
    }
    assert_eq!(read_stdout(&mut listener, 3), b"on\n");
}

impl Netns {
    /// A veth pair `sma`–`smb`, up, with link-local addresses at once (no
    /// duplicate address detection).
    fn veth_pair(&self) {
        let status = Command::new("ip")
            .args(["netns", "exec", &self.name, "sysctl", "-qw"])
            .args([
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
            ])
            .status()
            .expect("sysctl");
        assert!(status.success());
        self.ip(&["link", "add", "sma", "type", "veth", "peer", "name", "smb"]);
        self.ip(&["link", "set", "sma", "up"]);
        self.ip(&["link", "set", "smb", "up"]);
    }

    /// The link-local IPv6 address of `dev`.
    fn link_local(&self, dev: &str) -> String {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let out = Command::new("ip")
                .args([
                    "-n", &self.name, "-6", "addr", "show", "dev", dev, "scope", "link",
                ])
                .output()
                .expect("ip addr");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if let Some(addr) = text
                .split_whitespace()
                .skip_while(|w| *w != "inet6")
                .nth(1)
                .and_then(|a| a.split('/').next())
            {
                return addr.to_string();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no link-local address on {dev}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[test]
fn ipv6_zone_ids_reach_a_link_local_peer() {
    if !require_tool("ip") {
        return;
    }
    let Some(ns) = Netns::new() else { return };
    ns.veth_pair();
    let addr = ns.link_local("smb");
    let mut listener = Proc::spawn(ns.sockmate(&["listen", &format!("udp://[{addr}%smb]:0")]));
    let port = port_of(&mut listener);
    let (status, _, stderr) = run_with_input(
        ns.sockmate(&["connect", &format!("udp://[{addr}%sma]:{port}")]),
        b"zoned\n",
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(read_stdout(&mut listener, 6), b"zoned\n");
    let (status, _, stderr) = run_with_input(
        ns.sockmate(&["connect", &format!("udp://[{addr}%nosuch0]:{port}")]),
        b"x",
    );
    assert!(!status.success());
    assert!(
        stderr.contains("no network interface called \"nosuch0\""),
        "{stderr}"
    );
}

#[test]
fn multicast_v6_over_a_veth_pair() {
    if !require_tool("ip") {
        return;
    }
    let Some(ns) = Netns::new() else { return };
    ns.veth_pair();
    let mut listener =
        Proc::spawn(ns.sockmate(&["listen", "udp://[ff02::5:1]:0", "--iface", "smb"]));
    let (_, port) = joined_port(&mut listener, "]:", "ff02::5:1 on interface smb");
    let (status, _, stderr) = run_with_input(
        ns.sockmate(&[
            "connect",
            &format!("udp://[ff02::5:1]:{port}"),
            "--iface",
            "sma",
            "-6",
        ]),
        b"v6 group\n",
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(read_stdout(&mut listener, 9), b"v6 group\n");
}

/// A UDP server that answers every datagram from a second socket (another
/// port), as TFTP and some devices do; returns the listening address and
/// the answering one.
fn answers_from_another_port() -> (String, String) {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let other = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr").to_string();
    let other_addr = other.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = server.recv_from(&mut buf) {
            let mut reply = b"re:".to_vec();
            reply.extend_from_slice(&buf[..n]);
            let _ = other.send_to(&reply, from);
        }
    });
    (addr, other_addr)
}

#[test]
fn any_source_shows_replies_from_another_port_tagged_with_their_sender() {
    let (server, other) = answers_from_another_port();
    let (status, out, stderr) = run_with_input(
        sockmate(&[
            "connect",
            &format!("udp://{server}"),
            "--any-source",
            "--json",
            "--wait",
            "2s",
        ]),
        b"ping\n",
    );
    assert!(status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&out);
    let reply = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["dir"] == "in")
        .unwrap_or_else(|| panic!("no received datagram in {text}"));
    assert_eq!(reply["peer"], format!("udp://{other}"), "{reply}");

    let (status, _, stderr) = run_with_input(
        sockmate(&["connect", "tcp://127.0.0.1:9", "--any-source"]),
        b"",
    );
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("--any-source is for udp://"), "{stderr}");
}

#[test]
fn socket_options_apply_and_bad_ones_are_named() {
    let echo = crate::relay::tcp_echo_server();
    let (status, out, stderr) = run_with_input(
        sockmate(&[
            "connect", &echo, "-4", "--ttl", "5", "--tos", "0x10", "--rcvbuf", "64k", "--sndbuf",
            "64k",
        ]),
        b"with options\n",
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(out, b"with options\n");

    let (status, _, stderr) = run_with_input(sockmate(&["connect", &echo, "-6"]), b"");
    assert!(!status.success());
    assert!(stderr.contains("has no IPv6 (-6) address"), "{stderr}");

    let (status, _, stderr) = run_with_input(
        sockmate(&["connect", &echo, "--bind-device", "nosuch0"]),
        b"",
    );
    assert!(!status.success());
    assert_eq!(our_stderr_lines(&stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("No such device"), "{stderr}");

    let (status, _, stderr) = run_with_input(sockmate(&["connect", &echo, "--tos", "300"]), b"");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("invalid byte \"300\""), "{stderr}");
}
