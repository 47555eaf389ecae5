//! `ws://` and `wss://` against Python's `websockets` as server and as
//! client: text and binary frames kept apart in `--json`, message
//! boundaries, `--path`, `--header`, `--ws-protocol`, ping/pong, close
//! codes and reasons, and relays between TCP and WebSocket carrying 10 MB
//! byte-exact.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::*;

/// True when python3 and its `websockets` package are here (under CI a
/// missing one fails).
pub(crate) fn have_websockets() -> bool {
    if !require_tool("python3") {
        return false;
    }
    let ok = Command::new("python3")
        .args(["-c", "import websockets"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 package `websockets` is missing (pip install websockets: see .ci/run)");
        }
        eprintln!(
            "SKIPPED: python3 package `websockets` is not installed (pip install websockets)"
        );
    }
    ok
}

/// Runs a Python script that prints `PORT n` once it listens; returns the
/// process and the port.
pub(crate) fn python_server(script: &str) -> (Proc, u16) {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]);
    let mut proc = Proc::spawn(cmd);
    let stdout = proc.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < deadline, "no PORT line from python");
        let line = lines.next().expect("PORT line").expect("read");
        if let Some(port) = line.strip_prefix("PORT ") {
            let port = port.trim().parse().unwrap();
            // Keep reading the rest so the script never blocks on stdout.
            std::thread::spawn(move || for _ in lines {});
            return (proc, port);
        }
    }
}

const FRAMES_SERVER: &str = r#"
import asyncio, websockets
async def handler(ws):
    # websockets >= 13 has ws.request; older ones ws.path and ws.request_headers.
    req = getattr(ws, "request", None)
    path, headers = (req.path, req.headers) if req is not None else (ws.path, ws.request_headers)
    await ws.send("path=%s x-test=%s proto=%s" % (path, headers.get("X-Test"), ws.subprotocol))
    await ws.send(b"\x00\x01\xff")
    msg = await ws.recv()
    await ws.send("got %s %r" % ("text" if isinstance(msg, str) else "binary", msg))
    await ws.close(4000, "bye")
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["chat"]) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"#;

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn data_events(events: &[serde_json::Value], dir: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "data" && e["dir"] == dir)
        .map(|e| {
            (
                e["ws"].as_str().unwrap_or("-").to_string(),
                e["hex"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn connect_to_python_server_shows_frames_headers_and_close_code() {
    if !have_websockets() {
        return;
    }
    let (_server, port) = python_server(FRAMES_SERVER);
    let url = format!("ws://127.0.0.1:{port}/feed?x=1");
    let mut client = sockmate(&[
        "connect",
        &url,
        "--json",
        "--header",
        "X-Test: 42",
        "--ws-protocol",
        "chat",
    ]);
    client.stdout(Stdio::piped());
    let mut client = Proc::spawn(client);
    // Binary by default.
    client.write_stdin(b"abc");
    let out = client.read_stdout_to_end();
    assert!(client.wait().success(), "{:?}", client.stderr_lines());
    let events = json_lines(&out);
    let got = data_events(&events, "in");
    assert_eq!(
        got,
        vec![
            ("text".into(), hex(b"path=/feed?x=1 x-test=42 proto=chat")),
            ("binary".into(), "0001ff".into()),
            ("text".into(), hex(b"got binary b'abc'")),
        ],
        "{events:?}"
    );
    assert_eq!(
        data_events(&events, "out"),
        vec![("binary".into(), hex(b"abc"))]
    );
    let close = events.iter().find(|e| e["type"] == "close").unwrap();
    assert_eq!(close["reason"], "websocket close 4000 (bye)", "{close}");
}

#[test]
fn ws_text_sends_stdin_lines_as_text_frames() {
    if !have_websockets() {
        return;
    }
    let (_server, port) = python_server(FRAMES_SERVER);
    let url = format!("ws://127.0.0.1:{port}/");
    let mut client = sockmate(&[
        "connect",
        &url,
        "--json",
        "--ws-text",
        "--ws-protocol",
        "chat",
    ]);
    client.stdout(Stdio::piped());
    let mut client = Proc::spawn(client);
    client.write_stdin(b"hello\n");
    let out = client.read_stdout_to_end();
    let events = json_lines(&out);
    let got = data_events(&events, "in");
    assert_eq!(
        got[2],
        ("text".into(), hex(b"got text 'hello'")),
        "{events:?}"
    );
    assert_eq!(
        data_events(&events, "out"),
        vec![("text".into(), hex(b"hello"))]
    );
}

const CLIENT: &str = r#"
import asyncio, sys, websockets
async def main():
    base = "ws://%s" % sys.argv[1]
    try:
        async with websockets.connect(base + "/wrong") as ws:
            print("WRONG PATH ACCEPTED", flush=True)
    except Exception as e:
        print("refused %s" % type(e).__name__, flush=True)
    async with websockets.connect(base + "/p", subprotocols=["mqtt"]) as ws:
        print("proto %s" % ws.subprotocol, flush=True)
        await ws.send("one")
        await ws.send(b"two")
        pong = await ws.ping(b"hi")
        await asyncio.wait_for(pong, 10)
        print("pong", flush=True)
        reply = await ws.recv()
        print("reply %s %r" % ("text" if isinstance(reply, str) else "binary", reply), flush=True)
        await ws.close(4001, "done here")
asyncio.run(main())
"#;

#[test]
fn listen_serves_python_client_with_path_ping_and_boundaries() {
    if !have_websockets() {
        return;
    }
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        "ws://127.0.0.1:0",
        "--path",
        "/p",
        "--ws-protocol",
        "mqtt",
        "--ws-text",
        "--json",
    ]));
    let endpoint = server.listening();
    assert!(endpoint.starts_with("ws://127.0.0.1:"), "{endpoint}");
    let addr = endpoint
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let mut cmd = Command::new("python3");
    cmd.args(["-c", CLIENT, &addr]);
    let mut client = Proc::spawn(cmd);
    let client_out = client.stdout.take().unwrap();
    let mut client_lines = BufReader::new(client_out).lines();
    let mut next = || client_lines.next().expect("client line").expect("read");
    assert!(next().starts_with("refused"), "a wrong path is refused");
    assert_eq!(next(), "proto mqtt");
    assert_eq!(next(), "pong");
    server.write_stdin(b"reply\n");
    assert_eq!(next(), "reply text 'reply'");
    let out = server.read_stdout_to_end();
    let events = json_lines(&out);
    assert_eq!(
        data_events(&events, "in"),
        vec![("text".into(), hex(b"one")), ("binary".into(), hex(b"two"))],
        "two messages, two events: {events:?}"
    );
    let close = events.iter().find(|e| e["type"] == "close").unwrap();
    assert_eq!(
        close["reason"], "websocket close 4001 (done here)",
        "{close}"
    );
}

const ECHO_SERVER: &str = r#"
import asyncio, websockets
async def handler(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(120)
asyncio.run(main())
"#;

/// Sends `data` over `stream` from a thread and reads it all back.
fn round_trip(mut stream: TcpStream, data: &[u8]) -> Vec<u8> {
    let mut writer = stream.try_clone().unwrap();
    let sent = data.to_vec();
    let t = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < data.len() {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read after {} bytes: {e}", got.len()),
        }
    }
    t.join().unwrap();
    got
}

#[test]
fn relay_tcp_to_ws_carries_10_mb_byte_exact() {
    if !have_websockets() {
        return;
    }
    let (_echo, port) = python_server(ECHO_SERVER);
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "tcp://127.0.0.1:0",
        &format!("ws://127.0.0.1:{port}/echo"),
    ]));
    let front = relay.listening_addr();
    let data = random_bytes(10 * 1024 * 1024, 5);
    let got = round_trip(TcpStream::connect(front).unwrap(), &data);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "payload differs");
}

#[test]
fn relay_ws_to_tcp_carries_10_mb_byte_exact_over_wss() {
    // A TCP echo device behind a wss:// front: sockmate's own client
    // (connect wss:// --pin) on the other side.
    let device = TcpListener::bind("127.0.0.1:0").unwrap();
    let device_addr = device.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let (conn, _) = device.accept().unwrap();
        let mut reader = conn.try_clone().unwrap();
        let mut writer = conn;
        let _ = std::io::copy(&mut reader, &mut writer);
        let _ = writer.shutdown(std::net::Shutdown::Write);
    });
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "wss://127.0.0.1:0",
        &format!("tcp://{device_addr}"),
    ]));
    let (front, pin) = listening_tls(&mut relay);
    assert!(front.starts_with("wss://"), "{front}");
    let data = random_bytes(10 * 1024 * 1024, 6);
    let mut client = sockmate(&["connect", &front, "--pin", &pin]);
    client.stdout(Stdio::piped());
    let mut client = Proc::spawn(client);
    let mut stdin = client.stdin.take().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        stdin.write_all(&sent).unwrap();
    });
    let mut out = client.stdout.take().unwrap();
    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < data.len() {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("{e}"),
        }
    }
    writer.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "payload differs");
}
