//! The proxy servers' limits with real clients: `--allow`, `--max-conns`,
//! `--idle-timeout` (a slow handshake, a quiet tunnel), `--connect-timeout`
//! (a loopback listener that never answers) and the flags' usage errors.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::proxy_server::{curl_status, proxy, python_server, socks5_by_hand};
use crate::relay::tcp_echo_server;
use crate::util::*;

/// A loopback listener whose accept queue is full and never drained: a
/// further connect gets no answer (the kernel drops its SYN), so only a
/// connect timeout ends it.
const NEVER_ACCEPTS: &str = r#"
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    held.append(c)
print(port, flush=True)
time.sleep(120)
"#;

#[test]
fn allow_and_max_conns_apply_to_proxy_clients() {
    let echo = tcp_echo_server();
    let (mut fenced, addr) = proxy(&["--serve", "socks5", "--allow", "10.0.0.0/8"]);
    let (status, _, _) = run_with_input(
        sockmate(&["connect", &echo, "--proxy", &format!("socks5://{addr}")]),
        b"x",
    );
    assert!(!status.success());
    assert!(fenced
        .wait_line("refused: 127.0.0.1:")
        .contains("--allow/--deny"));
    let (mut full, addr) = proxy(&["--serve", "http-proxy", "--max-conns", "1"]);
    // The first client holds the one slot, mid-handshake.
    let mut first = TcpStream::connect(&addr).expect("connect");
    first.write_all(b"CONNECT ").expect("write");
    let (status, _, _) = run_with_input(
        sockmate(&["connect", &echo, "--proxy", &format!("http://{addr}")]),
        b"x",
    );
    assert!(!status.success());
    assert!(full
        .wait_line("--max-conns 1 reached")
        .starts_with("refused:"));
}

#[test]
fn proxy_flags_out_of_place_are_usage_errors() {
    for (args, words) in [
        (
            &["listen", "0", "--target-allow", "10.0.0.0/8"][..],
            "add --serve socks5",
        ),
        (
            &["listen", "0.0.0.0:0", "--serve", "socks5"],
            "--allow CIDR",
        ),
        (
            &["listen", "0", "--serve", "http-proxy", "--auth", "alice"],
            "USER:PASS",
        ),
    ] {
        let (status, _, stderr) = run_with_input(sockmate(args), b"");
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

#[test]
fn idle_timeout_ends_quiet_tunnels_and_slow_handshakes() {
    let echo = tcp_echo_server();
    let (mut server, addr) = proxy(&["--serve", "socks5", "--idle-timeout", "300ms"]);
    // A client that never names its target.
    let mut silent = TcpStream::connect(&addr).expect("connect");
    silent.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let line = server.wait_line("did not finish its handshake");
    assert!(line.starts_with("error: #1 127.0.0.1:"), "{line}");
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    // A tunnel that goes quiet.
    let (_, port) = echo.rsplit_once(':').expect("echo addr");
    let mut request = vec![5, 1, 0, 1, 127, 0, 0, 1];
    request.extend_from_slice(&port.parse::<u16>().expect("port").to_be_bytes());
    let mut quiet = TcpStream::connect(&addr).expect("connect");
    quiet.set_read_timeout(Some(DEADLINE)).expect("timeout");
    quiet.write_all(&[5, 1, 0]).expect("greeting");
    quiet.write_all(&request).expect("request");
    let mut replies = [0u8; 12];
    quiet.read_exact(&mut replies).expect("replies");
    assert_eq!(&replies[..4], [5, 0, 5, 0], "{replies:?}");
    let closed = server.wait_line("closed: #2");
    assert!(closed.contains("idle timeout"), "{closed}");
}

#[test]
fn a_target_that_never_answers_is_504_or_reply_4_after_connect_timeout() {
    let Some((_full, port)) = python_server(NEVER_ACCEPTS, &[]) else {
        return;
    };
    if !require_tool("curl") {
        return;
    }
    let (mut http, http_addr) = proxy(&["--serve", "http-proxy", "--connect-timeout", "300ms"]);
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(
        curl_status(&["-x", &format!("http://{http_addr}"), &url]),
        "504"
    );
    let line = http.wait_line("--connect-timeout");
    assert!(
        line.contains("did not answer within 300ms") && line.contains("(HTTP 504)"),
        "{line}"
    );
    let (mut socks, socks_addr) = proxy(&["--serve", "socks5", "--connect-timeout", "300ms"]);
    let mut request = vec![5, 1, 0, 1, 127, 0, 0, 1];
    request.extend_from_slice(&port.to_be_bytes());
    assert_eq!(&socks5_by_hand(&socks_addr, &request)[..2], [5, 4]);
    assert!(socks
        .wait_line("--connect-timeout")
        .contains("(SOCKS5 reply 4)"));
}
