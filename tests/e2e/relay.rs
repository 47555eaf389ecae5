//! Issue 5: `sockmate relay` — byte-exact forwarding with backpressure,
//! half-close, the traffic dump, refused targets, UDP flows, Unix to TCP.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::util::*;

/// Most resident memory the relay may use while 100 MB go through it.
const RELAY_RSS_LIMIT_KB: u64 = 64 * 1024;

/// A TCP server for one client: reads everything slowly, then answers with
/// the byte count and SHA-256 of what it read, then closes.
fn slow_digest_server() -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let (mut total, mut reads) = (0u64, 0u64);
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
            reads += 1;
            if reads % 4 == 0 {
                // A slow reader: the relay must hold the writer back.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let reply = format!("{total} {:x}", hasher.finalize());
        s.write_all(reply.as_bytes()).unwrap();
    });
    (addr, handle)
}

/// A TCP echo server for any number of clients.
pub fn tcp_echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { break };
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut s);
                let _ = s.shutdown(Shutdown::Write);
            });
        }
    });
    addr
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn relay_byte_exact(extra: &[&str], len: usize) {
    let (target, server) = slow_digest_server();
    let mut args = vec!["relay", "0", target.as_str()];
    args.extend_from_slice(extra);
    let mut relay = Proc::spawn(sockmate(&args));
    let addr = relay.listening_addr();
    let data = random_bytes(len, 5);
    let expected = format!("{len} {:x}", Sha256::digest(&data));
    let mut client = TcpStream::connect(&addr).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut peak_rss = 0;
    for chunk in data.chunks(1024 * 1024) {
        client.write_all(chunk).unwrap();
        peak_rss = peak_rss.max(rss_kb(relay.child.id()));
    }
    // Half-close: the target sees EOF and answers on the other direction.
    client.shutdown(Shutdown::Write).unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, expected);
    server.join().unwrap();
    assert!(
        peak_rss < RELAY_RSS_LIMIT_KB,
        "relay grew to {peak_rss} KiB while relaying {len} bytes"
    );
    relay.wait_line("closed: ");
}

#[test]
fn relay_100mb_byte_exact_with_a_slow_reader_splice() {
    relay_byte_exact(&[], 100 * 1024 * 1024);
}

#[test]
fn relay_20mb_byte_exact_with_a_slow_reader_buffered() {
    relay_byte_exact(&["--no-splice"], 20 * 1024 * 1024 + 3);
}

fn half_close_through_relay(extra: &[&str]) {
    // The target sends after the client has ended its writes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        for i in 0..3 {
            s.write_all(format!("after eof {i}: {}\n", got.len()).as_bytes())
                .unwrap();
        }
    });
    let mut args = vec!["relay", "0", target.as_str()];
    args.extend_from_slice(extra);
    let mut relay = Proc::spawn(sockmate(&args));
    let addr = relay.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.write_all(b"12345").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "after eof 0: 5\nafter eof 1: 5\nafter eof 2: 5\n");
    relay.wait_line("closed: ");
    server.join().unwrap();
}

#[test]
fn half_close_keeps_the_other_direction_flowing() {
    half_close_through_relay(&[]);
    half_close_through_relay(&["--no-splice"]);
}

#[test]
fn dump_hex_matches_the_golden_file() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello, relay!\n");
        s.write_all(b"HELLO\x00\xff\x01 back\n").unwrap();
    });
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &target, "--dump", "hex"]));
    let addr = relay.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.write_all(b"hello, relay!\n").unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"HELLO\x00\xff\x01 back\n");
    let peer = client.local_addr().unwrap().to_string();
    drop(client);
    server.join().unwrap();
    relay.wait_line("closed: ");
    relay.signal("INT");
    let out = String::from_utf8(relay.read_stdout_to_end()).unwrap();
    let out = out.replace(&peer, "PEER");
    let golden = include_str!("golden/relay_dump_hex.txt");
    assert_eq!(
        out, golden,
        "dump differs from tests/e2e/golden/relay_dump_hex.txt"
    );
}

#[test]
fn dump_json_tags_connection_and_direction() {
    let target = tcp_echo_server();
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &target, "--dump", "json"]));
    let addr = relay.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.write_all(b"ping").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"ping");
    relay.wait_line("closed: ");
    relay.signal("INT");
    let out = String::from_utf8(relay.read_stdout_to_end()).unwrap();
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let data: Vec<_> = events.iter().filter(|e| e["type"] == "data").collect();
    assert_eq!(data.len(), 2, "{out}");
    assert_eq!(data[0]["dir"], "in");
    assert_eq!(data[1]["dir"], "out");
    assert!(data.iter().all(|e| e["conn"] == 1 && e["text"] == "ping"));
    assert!(events
        .iter()
        .any(|e| e["type"] == "close" && e["bytes_in"] == 4));
}

/// A relay whose one client is its stdin (nothing to accept after it)
/// fails like `socat - TCP:…` when the target refuses: exit status 1, and
/// the refusal said once, not again as the exit message. Reached, it
/// exits 0.
#[test]
fn a_relay_of_stdin_to_a_refusing_target_exits_1_with_one_line() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (status, _, err) = run_with_input(
        sockmate(&["relay", "-", &format!("tcp://127.0.0.1:{port}")]),
        b"hello\n",
    );
    assert_eq!(status.code(), Some(1), "{err}");
    let refusals = our_stderr_lines(&err)
        .into_iter()
        .filter(|l| l.contains("connection refused"))
        .count();
    assert_eq!(refusals, 1, "{err}");

    let target = tcp_echo_server();
    let (status, out, err) = run_with_input(
        sockmate(&["relay", "-", &format!("tcp://{target}")]),
        b"hello\n",
    );
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(out, b"hello\n");
}

#[test]
fn refused_target_closes_only_that_client() {
    // A port with nothing listening yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &target]));
    let addr = relay.listening_addr();
    let mut first = TcpStream::connect(&addr).unwrap();
    first.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = Vec::new();
    assert_eq!(
        first.read_to_end(&mut buf).unwrap(),
        0,
        "refused client gets EOF"
    );
    let line = relay.wait_line("closed that client");
    assert!(line.contains("connection refused"), "{line}");
    // Now the target comes up, and the relay serves the next client.
    let listener = TcpListener::bind(&target).unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"served").unwrap();
    });
    let mut second = TcpStream::connect(&addr).unwrap();
    second.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = String::new();
    second.read_to_string(&mut got).unwrap();
    assert_eq!(got, "served");
    let refused_lines = relay
        .stderr_lines()
        .iter()
        .filter(|l| l.contains("refused"))
        .count();
    assert_eq!(refused_lines, 1, "one logged line per refused client");
}

fn udp_echo_server() -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    addr
}

#[test]
fn udp_relay_round_trip_per_client_flows() {
    let target = format!("udp://{}", udp_echo_server());
    let mut relay = Proc::spawn(sockmate(&["relay", "udp://127.0.0.1:0", &target]));
    let addr = relay.listening_addr();
    let clients: Vec<UdpSocket> = (0..2)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for (i, client) in clients.iter().enumerate() {
        client.set_read_timeout(Some(DEADLINE)).unwrap();
        for j in 0..3 {
            let msg = format!("client {i} datagram {j}");
            client.send_to(msg.as_bytes(), &addr).unwrap();
            let mut buf = [0u8; 128];
            let (n, _) = client.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], msg.as_bytes());
        }
    }
    // One flow per client address.
    relay.wait_line("connected: ");
    relay.wait_line("connected: ");
}

#[test]
fn tcp_to_udp_with_line_frames() {
    let target = format!("udp://{}", udp_echo_server());
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &target, "--frame", "line"]));
    let addr = relay.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.write_all(b"one\ntwo\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < 8 {
        let n = client.read(&mut buf).unwrap();
        assert!(n > 0, "relay closed early: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"one\ntwo\n");
}

#[test]
fn unix_to_tcp() {
    let dir = tempdir();
    let path = sock_path(dir.path(), "relay.sock");
    let target = tcp_echo_server();
    let mut relay = Proc::spawn(sockmate(&["relay", &format!("unix://{path}"), &target]));
    relay.listening();
    let mut client = UnixStream::connect(&path).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    let data = random_bytes(300_000, 9);
    let writer = {
        let mut w = client.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    client.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert!(
        back == data,
        "unix -> tcp echo differs ({} bytes back)",
        back.len()
    );
}

#[test]
fn deny_and_max_conns_refuse_politely() {
    let target = tcp_echo_server();
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &target, "--deny", "127.0.0.0/8"]));
    let addr = relay.listening_addr();
    let mut denied = TcpStream::connect(&addr).unwrap();
    denied.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = Vec::new();
    assert_eq!(denied.read_to_end(&mut buf).unwrap(), 0);
    relay.wait_line("not allowed by --allow/--deny");

    let mut relay = Proc::spawn(sockmate(&["relay", "0", &target, "--max-conns", "1"]));
    let addr = relay.listening_addr();
    let mut first = TcpStream::connect(&addr).unwrap();
    first.set_read_timeout(Some(DEADLINE)).unwrap();
    first.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    first.read_exact(&mut one).unwrap();
    let mut second = TcpStream::connect(&addr).unwrap();
    second.set_read_timeout(Some(DEADLINE)).unwrap();
    assert_eq!(second.read_to_end(&mut buf).unwrap(), 0);
    relay.wait_line("--max-conns 1 reached");
    // The first client is still served.
    first.write_all(b"y").unwrap();
    first.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"y");
}

#[test]
fn udp_flow_expires_after_idle_timeout() {
    let target = format!("udp://{}", udp_echo_server());
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "udp://127.0.0.1:0",
        &target,
        "--idle-timeout",
        "300ms",
    ]));
    let addr = relay.listening_addr();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.send_to(b"ping", &addr).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = client.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    let line = relay.wait_line("closed: ");
    assert!(line.contains("idle timeout"), "{line}");
    // A new datagram from the same client opens a new flow.
    client.send_to(b"again", &addr).unwrap();
    let (n, _) = client.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"again");
    relay.wait_line("connected: #2");
}
