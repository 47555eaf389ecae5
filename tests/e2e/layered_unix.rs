//! Layers over a Unix stream socket (issue 19 §1): `tls+unix://` between
//! two sockmates and against `openssl s_server`/`s_client` reached
//! through `socat` (a Unix socket in front of a TLS TCP port, or a TCP
//! port in front of our Unix TLS listener); `ws+unix://` against Python's
//! `websockets` serving on a Unix socket, directly and behind
//! `relay ws://… ws+unix://…` (message kinds kept); other `LAYER+BASE`
//! combinations refused in one line with exit status 2.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::*;
use crate::ws::have_websockets;
use crate::ws_kinds::kind_client;

/// Waits until the socket file `path` exists (a peer tool made it).
fn wait_socket_file(path: &str) {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if Path::new(path).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no socket file {path}");
}

/// The lines of a child's stdout, read by a thread.
fn lines_of(out: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle` and returns it.
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line containing {needle:?}; saw {seen:?}"),
        }
    }
}

/// A self-signed certificate for `localhost` (`cert.pem`, `cert.key` in
/// `dir`), or `false` (skipped) without openssl.
fn localhost_cert(dir: &Path) -> bool {
    if !require_tool("openssl") {
        return false;
    }
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
        .args(["-keyout", "cert.key", "-out", "cert.pem", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=CA:FALSE"])
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn tls_unix_listen_and_connect_carry_both_ways() {
    let dir = tempdir();
    let endpoint = format!("tls+unix://{}", sock_path(dir.path(), "tls.sock"));
    let mut server = Proc::spawn(sockmate(&["listen", &endpoint, "--serve", "echo", "-k"]));
    let (shown, pin) = listening_tls(&mut server);
    assert_eq!(shown, endpoint);
    let (status, out, err) = run_with_input(
        sockmate(&["connect", &endpoint, "--pin", &pin, "-v"]),
        b"hello over tls+unix\n",
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"hello over tls+unix\n");
    assert!(err.contains("TLSv1."), "{err}");
}

#[test]
fn tls_unix_connect_verifies_openssl_s_server_behind_socat() {
    let dir = tempdir();
    if !localhost_cert(dir.path()) || !require_tool("socat") {
        return;
    }
    let mut cmd = Command::new("openssl");
    cmd.args(["s_server", "-accept", "127.0.0.1:0", "-cert", "cert.pem"])
        .args(["-key", "cert.key"])
        .current_dir(dir.path());
    let mut s_server = Proc::spawn(cmd);
    let lines = lines_of(s_server.stdout.take().expect("stdout"));
    let accept = wait_for(&lines, "ACCEPT ");
    let port = accept.rsplit(':').next().expect("port").trim().to_string();
    let sock = sock_path(dir.path(), "front.sock");
    let mut socat = Command::new("socat");
    socat.args([
        &format!("UNIX-LISTEN:{sock},fork"),
        &format!("TCP:127.0.0.1:{port}"),
    ]);
    let _socat = Proc::spawn(socat);
    wait_socket_file(&sock);
    let ca = dir.path().join("cert.pem");
    // Verified as `localhost`, the name a Unix socket's TLS uses without
    // --sni.
    let mut client = Proc::spawn(sockmate(&[
        "connect",
        &format!("tls+unix://{sock}"),
        "--ca",
        &ca.to_string_lossy(),
        "-v",
    ]));
    let connected = client.wait_line("connected:");
    assert!(connected.contains("CN=localhost"), "{connected}");
    client.write_stdin(b"hello through socat\n");
    wait_for(&lines, "hello through socat");
}

#[test]
fn openssl_s_client_reaches_a_tls_unix_listener_through_socat() {
    if !require_tool("openssl") || !require_tool("socat") {
        return;
    }
    let dir = tempdir();
    let sock = sock_path(dir.path(), "back.sock");
    let (_server, _) = serve_quietly(&[&format!("tls+unix://{sock}"), "--serve", "echo", "-k"]);
    let port = free_port();
    let mut socat = Command::new("socat");
    socat.args([
        &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
        &format!("UNIX-CONNECT:{sock}"),
    ]);
    let _socat = Proc::spawn(socat);
    wait_listening(port);
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-quiet",
    ]);
    let mut client = Proc::spawn(cmd);
    client.write_stdin(b"ping from s_client\n");
    let mut out = client.stdout.take().expect("stdout");
    let mut got = vec![0u8; 19];
    out.read_exact(&mut got).expect("echo");
    assert_eq!(got, b"ping from s_client\n");
}

/// A `websockets` server on the Unix socket `argv[1]`: answers each
/// message in its own kind with the request path, `"PATH got text 'x'"` or
/// `b"PATH got binary " + x`; prints `READY` once it listens.
const UNIX_SERVER: &str = r#"
import asyncio, sys, websockets
async def handler(ws):
    req = getattr(ws, "request", None)
    path = req.path if req is not None else ws.path
    async for m in ws:
        if isinstance(m, str):
            await ws.send("%s got text %r" % (path, m))
        else:
            await ws.send(path.encode() + b" got binary " + m)
async def main():
    async with websockets.unix_serve(handler, sys.argv[1]):
        print("READY", flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"#;

/// Starts [`UNIX_SERVER`] on `sock`, once it listens.
fn python_unix_server(sock: &str) -> Proc {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", UNIX_SERVER, sock]);
    let mut proc = Proc::spawn(cmd);
    let lines = lines_of(proc.stdout.take().expect("stdout"));
    wait_for(&lines, "READY");
    proc
}

#[test]
fn ws_unix_connect_talks_to_python_websockets_on_a_unix_socket() {
    if !have_websockets() {
        return;
    }
    let dir = tempdir();
    let sock = sock_path(dir.path(), "ws.sock");
    let _server = python_unix_server(&sock);
    let (status, out, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("ws+unix://{sock}:/chat?room=1"),
            "--ws-text",
        ]),
        b"hello\n",
    );
    assert!(status.success(), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "/chat?room=1 got text 'hello'"
    );
}

#[test]
fn relay_from_ws_to_ws_unix_keeps_message_kinds() {
    if !have_websockets() {
        return;
    }
    let dir = tempdir();
    let sock = sock_path(dir.path(), "ws.sock");
    let _server = python_unix_server(&sock);
    let target = format!("ws+unix://{sock}:/feed");
    let (_relay, front) = spawn_quietly(&["relay", "ws://127.0.0.1:0", &target]);
    let url = format!("ws://{}/", front.trim_end_matches('/'));
    let got = kind_client(&url, &["t:one", "b:02"]);
    assert_eq!(
        got,
        [
            "text \"/feed got text 'one'\"",
            "binary b'/feed got binary \\x02'"
        ]
    );
}

#[test]
fn wss_unix_listen_serves_a_ws_relay_and_a_python_client() {
    if !have_websockets() {
        return;
    }
    let dir = tempdir();
    let sock = sock_path(dir.path(), "wss.sock");
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        &format!("wss+unix://{sock}"),
        "--serve",
        "echo",
        "-k",
    ]));
    let (_, pin) = listening_tls(&mut server);
    let target = format!("wss+unix://{sock}");
    let (_relay, front) = spawn_quietly(&["relay", "ws://127.0.0.1:0", &target, "--pin", &pin]);
    let url = format!("ws://{}/", front.trim_end_matches('/'));
    let got = kind_client(&url, &["t:héllo", "b:00ff"]);
    assert_eq!(got, ["text 'héllo'", "binary b'\\x00\\xff'"]);
}

#[test]
fn other_layer_combinations_are_refused_in_one_line() {
    for (command, endpoint) in [
        ("connect", "tls+serial:///dev/ttyS0"),
        ("listen", "ws+udp://127.0.0.1:0"),
        ("connect", "tls+unix-seqpacket:///tmp/x.sock"),
    ] {
        let (status, _, err) = run_with_input(sockmate(&[command, endpoint]), b"");
        assert_eq!(status.code(), Some(2), "{endpoint}: {err}");
        let lines = our_stderr_lines(err.trim());
        assert_eq!(lines.len(), 1, "{endpoint}: {err}");
        assert!(lines[0].contains("tls+unix://, ws+unix://"), "{err}");
    }
}
