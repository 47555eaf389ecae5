//! `--proxy` against real proxies: microsocks (SOCKS5, with and without a
//! login) and tinyproxy (HTTP CONNECT, Basic login), each on a free
//! loopback port, in front of an echo server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::relay::tcp_echo_server;
use crate::util::*;

/// Waits until something accepts on `127.0.0.1:port`.
fn wait_accepting(port: u16, proc: &mut Proc) {
    let deadline = Instant::now() + DEADLINE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("proxy exited early ({status}): {:?}", proc.drain_stderr());
        }
        assert!(Instant::now() < deadline, "proxy never listened on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// microsocks on a free port, with `-u USER -P PASS` when given.
fn microsocks(login: Option<(&str, &str)>) -> Option<(Proc, u16)> {
    if !require_tool("microsocks") {
        return None;
    }
    let port = free_port();
    let mut cmd = Command::new("microsocks");
    cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
    if let Some((user, pass)) = login {
        cmd.args(["-u", user, "-P", pass]);
    }
    cmd.stdout(Stdio::null()).stdin(Stdio::null());
    let mut proc = Proc::spawn_configured(cmd);
    wait_accepting(port, &mut proc);
    Some((proc, port))
}

/// tinyproxy on a free port with a minimal config in a temporary directory,
/// requiring `bob:secret`.
fn tinyproxy() -> Option<(Proc, u16, tempfile::TempDir)> {
    if !require_tool("tinyproxy") {
        return None;
    }
    let dir = tempdir();
    let port = free_port();
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 20\nLogLevel Warning\nBasicAuth bob secret\n"
        ),
    )
    .expect("write tinyproxy.conf");
    let mut cmd = Command::new("tinyproxy");
    cmd.arg("-d").arg("-c").arg(&conf);
    cmd.stdout(Stdio::null()).stdin(Stdio::null());
    let mut proc = Proc::spawn_configured(cmd);
    wait_accepting(port, &mut proc);
    Some((proc, port, dir))
}

/// `connect TARGET --proxy URL`: sends a line, waits for its echo, then
/// ends stdin (tinyproxy closes the tunnel at the first end, so the echo
/// is awaited before it).
fn echo_through(target: &str, proxy: &str) {
    let mut client = Proc::spawn(sockmate(&["connect", target, "--proxy", proxy]));
    let line = format!("through {proxy}\n");
    client.write_stdin(line.as_bytes());
    assert_eq!(read_stdout(&mut client, line.len()), line.as_bytes());
    client.close_stdin();
    assert!(client.wait().success(), "{:?}", client.drain_stderr());
}

/// `connect TARGET --proxy URL` that must fail: its one stderr line.
fn refusal(target: &str, proxy: &str) -> String {
    let (status, _, stderr) =
        run_with_input(sockmate(&["connect", target, "--proxy", proxy]), b"x");
    assert!(!status.success(), "connect through {proxy} succeeded");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_string()
}

#[test]
fn socks5_and_socks5h_without_login_reach_the_target() {
    let Some((_proxy, port)) = microsocks(None) else {
        return;
    };
    let echo = tcp_echo_server();
    let echo_port = echo.rsplit(':').next().expect("port");
    echo_through(&echo, &format!("socks5://127.0.0.1:{port}"));
    // A name the proxy resolves.
    echo_through(
        &format!("localhost:{echo_port}"),
        &format!("socks5h://127.0.0.1:{port}"),
    );
    // A target that refuses: the reply code in words.
    let closed = free_port();
    let line = refusal(
        &format!("127.0.0.1:{closed}"),
        &format!("socks5://127.0.0.1:{port}"),
    );
    assert!(
        line.contains(&format!(
            "proxy socks5://127.0.0.1:{port} refused 127.0.0.1:{closed}: connection refused by the target"
        )) && line.contains("(SOCKS5 reply 5)"),
        "{line}"
    );
}

#[test]
fn socks5_login_right_wrong_and_missing() {
    let Some((_proxy, port)) = microsocks(Some(("bob", "s3cret"))) else {
        return;
    };
    let echo = tcp_echo_server();
    echo_through(&echo, &format!("socks5://bob:s3cret@127.0.0.1:{port}"));
    let wrong = refusal(&echo, &format!("socks5://bob:nope@127.0.0.1:{port}"));
    assert!(wrong.contains("wrong user name or password"), "{wrong}");
    assert!(
        !wrong.contains("nope"),
        "the password is not shown: {wrong}"
    );
    let missing = refusal(&echo, &format!("socks5://127.0.0.1:{port}"));
    assert!(
        missing.contains("no acceptable login method") && missing.contains("USER:PASS@"),
        "{missing}"
    );
}

#[test]
fn http_connect_through_tinyproxy() {
    let Some((_proxy, port, _dir)) = tinyproxy() else {
        return;
    };
    let echo = tcp_echo_server();
    echo_through(&echo, &format!("http://bob:secret@127.0.0.1:{port}"));
    let line = refusal(&echo, &format!("http://127.0.0.1:{port}"));
    assert!(
        line.contains("proxy authentication required") && line.contains("HTTP 407"),
        "{line}"
    );
    let closed = free_port();
    let line = refusal(
        &format!("127.0.0.1:{closed}"),
        &format!("http://bob:secret@127.0.0.1:{port}"),
    );
    assert!(line.contains("(HTTP 500"), "{line}");
}

#[test]
fn relay_target_and_bench_go_through_the_proxy() {
    let Some((_proxy, port)) = microsocks(Some(("u", "p"))) else {
        return;
    };
    let proxy = format!("socks5://u:p@127.0.0.1:{port}");
    let echo = tcp_echo_server();
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &echo, "--proxy", &proxy]));
    let listen = relay.listening_addr();
    let mut conn = TcpStream::connect(&listen).expect("connect relay");
    conn.set_read_timeout(Some(DEADLINE)).expect("timeout");
    conn.write_all(b"via relay\n").expect("write");
    let mut back = [0u8; 10];
    conn.read_exact(&mut back).expect("echo via relay");
    assert_eq!(&back, b"via relay\n");
    drop(conn);

    let (status, out, stderr) = run_with_input(
        sockmate(&[
            "bench", &echo, "--proxy", &proxy, "-d", "1s", "-c", "2", "--json",
        ]),
        b"",
    );
    assert!(status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out).expect("bench json");
    assert!(
        report["messages"].as_u64().unwrap_or(0) > 0 && report["errors"].as_u64() == Some(0),
        "bench through the proxy: {report}"
    );
}

#[test]
fn proxy_errors_are_one_line_before_anything_is_sent() {
    let (status, _, stderr) = run_with_input(
        sockmate(&["connect", "127.0.0.1:9", "--proxy", "socks9://h:1"]),
        b"",
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown proxy scheme \"socks9\""),
        "{stderr}"
    );
    let (status, _, stderr) = run_with_input(
        sockmate(&[
            "connect",
            "udp://127.0.0.1:9",
            "--proxy",
            "socks5://127.0.0.1:1",
        ]),
        b"",
    );
    assert!(!status.success());
    assert!(stderr.contains("tcp:// targets only"), "{stderr}");
}

#[test]
fn send_reaches_a_receiver_through_the_proxy() {
    let Some((_proxy, port)) = microsocks(None) else {
        return;
    };
    let src = tempdir();
    let dst = tempdir();
    let file = src.path().join("through-proxy.bin");
    let data = random_bytes(200_000, 11);
    std::fs::write(&file, &data).expect("write file");
    let dst_dir = dst.path().to_string_lossy().into_owned();
    let mut receiver = Proc::spawn(sockmate(&["receive", "127.0.0.1:0", "--dir", &dst_dir]));
    let endpoint = receiver.listening();
    let file_arg = file.to_string_lossy().into_owned();
    let (status, _, stderr) = run_with_input(
        sockmate(&[
            "send",
            &endpoint,
            &file_arg,
            "--proxy",
            &format!("socks5h://127.0.0.1:{port}"),
        ]),
        b"",
    );
    assert!(status.success(), "{stderr}");
    let got = std::fs::read(dst.path().join("through-proxy.bin")).expect("received file");
    assert!(got == data, "file differs after the proxy");
}

/// danted (Dante) on a free port with a minimal config: SOCKS4 and SOCKS5
/// without a login, loopback only.
fn danted() -> Option<(Proc, u16, tempfile::TempDir)> {
    if !require_tool("danted") {
        return None;
    }
    let dir = tempdir();
    let port = free_port();
    let conf = dir.path().join("danted.conf");
    std::fs::write(
        &conf,
        format!(
            "logoutput: stderr\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
             clientmethod: none\nsocksmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 protocol: tcp }}\n"
        ),
    )
    .expect("write danted.conf");
    let mut cmd = Command::new("danted");
    cmd.arg("-f").arg(&conf).args(["-N", "1"]);
    cmd.arg("-p").arg(dir.path().join("danted.pid"));
    cmd.stdout(Stdio::null()).stdin(Stdio::null());
    let mut proc = Proc::spawn_configured(cmd);
    wait_accepting(port, &mut proc);
    Some((proc, port, dir))
}

#[test]
fn socks4_and_socks5_through_dante() {
    let Some((_proxy, port, _dir)) = danted() else {
        return;
    };
    let echo = tcp_echo_server();
    echo_through(&echo, &format!("socks4a://me@127.0.0.1:{port}"));
    echo_through(&echo, &format!("socks5://127.0.0.1:{port}"));
    let closed = free_port();
    let line = refusal(
        &format!("127.0.0.1:{closed}"),
        &format!("socks4a://127.0.0.1:{port}"),
    );
    assert!(
        line.contains("request rejected or failed") && line.contains("(SOCKS4 reply 0x5b)"),
        "{line}"
    );
}

#[test]
fn the_peer_is_shown_as_the_target_via_the_proxy() {
    let Some((_proxy, port)) = microsocks(None) else {
        return;
    };
    let echo = tcp_echo_server();
    let mut client = Proc::spawn(sockmate(&[
        "connect",
        &echo,
        "-v",
        "--proxy",
        &format!("socks5://127.0.0.1:{port}"),
    ]));
    let line = client.wait_line("connected: ");
    assert_eq!(
        line,
        format!("connected: {echo} via 127.0.0.1:{port}"),
        "{line}"
    );
}

#[test]
fn tls_and_ws_clients_run_their_handshakes_through_the_proxy() {
    let Some((_proxy, port)) = microsocks(None) else {
        return;
    };
    let proxy = format!("socks5://127.0.0.1:{port}");

    // tls:// through the proxy, pinned to the certificate the server printed:
    // the TLS handshake runs end to end over the SOCKS tunnel. microsocks
    // closes the tunnel at the first half-close, so the echo is awaited
    // before stdin ends (as in `echo_through`).
    let mut tls = Proc::spawn(sockmate(&[
        "listen",
        "tls://127.0.0.1:0",
        "-k",
        "--serve",
        "echo",
    ]));
    let (endpoint, pin) = listening_tls(&mut tls);
    let mut client = Proc::spawn(sockmate(&[
        "connect", &endpoint, "--pin", &pin, "--proxy", &proxy, "-v",
    ]));
    client.write_stdin(b"over tls\n");
    assert_eq!(read_stdout(&mut client, 9), b"over tls\n");
    let connected = client.wait_line("connected: ");
    assert!(
        connected.contains(&format!("via 127.0.0.1:{port}")),
        "{connected}"
    );
    assert!(connected.contains("TLSv1."), "{connected}");
    client.close_stdin();
    assert!(client.wait().success(), "{:?}", client.drain_stderr());

    // ws:// through the proxy: the WebSocket upgrade over the tunnel.
    let mut ws = Proc::spawn(sockmate(&[
        "listen",
        "ws://127.0.0.1:0",
        "-k",
        "--serve",
        "echo",
    ]));
    let endpoint = ws.listening();
    echo_through(&endpoint, &proxy);
}
