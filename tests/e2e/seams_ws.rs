//! WebSocket seams (issue 21): an echo keeps the frame kind (text stays
//! text, also through a ws↔ws relay), an empty message is a message in
//! both directions, RFC 6455 conformance of `listen ws:// --serve echo`
//! (tests/e2e/ws_conformance.py), bounded reassembly and idle memory, and
//! silent connections that never delay an honest handshake. The peer is
//! Python's `websockets` (or raw sockets where a peer must misbehave).

use std::process::{Command, Stdio};

use crate::util::*;
use crate::ws::{have_websockets, python_server};

/// A `websockets` client: connects to `argv[1]` (a ws:// URL), sends each
/// of `argv[2:]` (`t:TEXT` as a text frame, `b:HEX` as a binary one; an
/// empty one is an empty message) and prints each answer as `text 'x'` or
/// `binary b'x'`.
const KIND_CLIENT: &str = r#"
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], max_size=None) as ws:
        for arg in sys.argv[2:]:
            kind, body = arg.split(":", 1)
            await ws.send(body if kind == "t" else bytes.fromhex(body))
            m = await asyncio.wait_for(ws.recv(), 20)
            print("%s %r" % ("text" if isinstance(m, str) else "binary", m), flush=True)
asyncio.run(main())
"#;

/// Runs [`KIND_CLIENT`] against `url` with `messages`; returns its lines.
fn kind_client(url: &str, messages: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", KIND_CLIENT, url]).args(messages);
    cmd.stdin(Stdio::null());
    let (status, out, err) = run_with_input(cmd, b"");
    assert!(status.success(), "python client failed: {err}");
    String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_string)
        .collect()
}

/// `listen ws://127.0.0.1:0 --serve echo -k` with extra `args`, once it
/// listens; returns it and its `ws://HOST:PORT/` URL.
fn ws_echo(args: &[&str]) -> (Proc, String) {
    let mut argv = vec!["ws://127.0.0.1:0", "--serve", "echo", "-k"];
    argv.extend_from_slice(args);
    let (proc, addr) = serve_quietly(&argv);
    (proc, format!("ws://{}/", addr.trim_end_matches('/')))
}

#[test]
fn echo_keeps_the_frame_kind() {
    if !have_websockets() {
        return;
    }
    let (_server, url) = ws_echo(&[]);
    let got = kind_client(&url, &["t:héllo", "b:0001ff", "t:again"]);
    assert_eq!(
        got,
        ["text 'héllo'", "binary b'\\x00\\x01\\xff'", "text 'again'"],
        "text is echoed as text, binary as binary"
    );
}

#[test]
fn relay_ws_to_ws_keeps_the_frame_kind() {
    if !have_websockets() {
        return;
    }
    let (_server, url) = ws_echo(&[]);
    let mut relay = Proc::spawn(sockmate(&["relay", "ws://127.0.0.1:0", &url]));
    let front = relay.listening_addr();
    let got = kind_client(
        &format!("ws://{}/", front.trim_end_matches('/')),
        &["t:one", "b:02", "t:three"],
    );
    assert_eq!(got, ["text 'one'", "binary b'\\x02'", "text 'three'"]);
}

#[test]
fn listen_echoes_an_empty_message_and_keeps_the_session() {
    if !have_websockets() {
        return;
    }
    let (_server, url) = ws_echo(&[]);
    let got = kind_client(&url, &["t:a", "t:", "b:", "t:b"]);
    assert_eq!(
        got,
        ["text 'a'", "text ''", "binary b''", "text 'b'"],
        "an empty message is echoed and the session goes on"
    );
}

/// Sends `a`, an empty message and `b` as text, then closes (1000).
const EMPTY_THEN_MORE_SERVER: &str = r#"
import asyncio, websockets
async def handler(ws):
    for m in ["a", "", "b"]:
        await ws.send(m)
    await ws.close(1000, "done")
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"#;

#[test]
fn connect_reads_on_after_an_empty_message() {
    if !have_websockets() {
        return;
    }
    let (_server, port) = python_server(EMPTY_THEN_MORE_SERVER);
    let mut client = Proc::spawn(sockmate(&["connect", &format!("ws://127.0.0.1:{port}/")]));
    let out = client.read_stdout_to_end();
    assert_eq!(
        String::from_utf8_lossy(&out),
        "ab",
        "the message after the empty one arrives"
    );
    let status = client.wait();
    assert!(status.success(), "{status:?} {:?}", client.drain_stderr());
}

/// The RFC 6455 conformance runner (Autobahn's case groups 1–7, 9, 10 and
/// bad handshakes; tests/e2e/ws_conformance.py, Python's standard library
/// only) against `listen ws:// --serve echo`: every case passes and ends
/// with a clean close (a close frame answered, never 1006).
#[test]
fn echo_server_passes_the_conformance_cases() {
    if !require_tool("python3") {
        return;
    }
    let (_server, url) = ws_echo(&[]);
    let addr = url.trim_start_matches("ws://").trim_end_matches('/');
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/ws_conformance.py");
    let mut cmd = Command::new("python3");
    cmd.args([script, addr]);
    let (status, out, err) = run_with_input(cmd, b"");
    let out = String::from_utf8_lossy(&out);
    let summary = out.lines().last().unwrap_or("");
    assert!(
        status.success() && summary.ends_with(", 0 failed"),
        "{out}{err}"
    );
    assert!(summary.contains(" passed"), "{summary}");
}
