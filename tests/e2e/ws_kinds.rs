//! Message kinds (issue 19 §1): text and binary are message metadata that
//! every message-keeping transport carries, so `--serve echo` and
//! `--respond` answer a text frame with a text frame over `ws://` and
//! `wss://`, a relay keeps the kind end to end between two WebSocket
//! peers, a byte stream reaches a WebSocket as binary (text with
//! `--ws-text`), chat speaks text and a broker passes each kind on, and
//! `--json` writes the kind as `kind` (and `ws`, as before). The peers are Python's `websockets`, as client and server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::util::*;
use crate::ws::{have_websockets, python_server};

/// A `websockets` client: connects to `argv[1]` (ws:// or wss://, whose
/// certificate is not checked), sends each of `argv[2:]` (`t:TEXT` as a
/// text frame, `b:HEX` as a binary one) and prints each answer as
/// `text 'x'` or `binary b'x'`.
const KIND_CLIENT: &str = r#"
import asyncio, ssl, sys, websockets
async def main():
    url = sys.argv[1]
    tls = None
    if url.startswith("wss://"):
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    async with websockets.connect(url, ssl=tls) as ws:
        for arg in sys.argv[2:]:
            kind, body = arg.split(":", 1)
            await ws.send(body if kind == "t" else bytes.fromhex(body))
            m = await asyncio.wait_for(ws.recv(), 20)
            print("%s %r" % ("text" if isinstance(m, str) else "binary", m), flush=True)
asyncio.run(main())
"#;

/// A `websockets` server that answers each message in its own kind,
/// saying which kind it got: text `got text 'x'`, binary
/// `b"got binary " + x`. Prints `PORT n`.
const KIND_SERVER: &str = r#"
import asyncio, websockets
async def handler(ws):
    async for m in ws:
        if isinstance(m, str):
            await ws.send("got text %r" % m)
        else:
            await ws.send(b"got binary " + m)
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"#;

/// Runs [`KIND_CLIENT`] against `url` with `messages`; returns its lines.
pub(crate) fn kind_client(url: &str, messages: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", KIND_CLIENT, url]).args(messages);
    let (status, out, err) = run_with_input(cmd, b"");
    assert!(status.success(), "python client failed: {err}");
    String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_string)
        .collect()
}

/// `listen ARGS…` quietly; returns it and `SCHEME://HOST:PORT/`.
fn serve(scheme: &str, args: &[&str]) -> (Proc, String) {
    let front = format!("{scheme}://127.0.0.1:0");
    let mut argv = vec![front.as_str()];
    argv.extend_from_slice(args);
    let (proc, addr) = serve_quietly(&argv);
    (proc, format!("{scheme}://{}/", addr.trim_end_matches('/')))
}

#[test]
fn echo_answers_text_with_text_and_binary_with_binary_on_ws_and_wss() {
    if !have_websockets() {
        return;
    }
    for scheme in ["ws", "wss"] {
        let (_server, url) = serve(scheme, &["--serve", "echo", "-k"]);
        let got = kind_client(&url, &["t:hello", "b:00ff", "t:again"]);
        assert_eq!(
            got,
            ["text 'hello'", "binary b'\\x00\\xff'", "text 'again'"],
            "{scheme}: each message is echoed in its own kind"
        );
    }
}

#[test]
fn respond_rules_answer_in_the_kind_of_the_question() {
    if !have_websockets() {
        return;
    }
    let (_server, url) = serve("ws", &["--respond", "ping=>pong", "-k"]);
    // "ping" as a binary frame: 70 69 6e 67.
    let got = kind_client(&url, &["t:ping", "b:70696e67"]);
    assert_eq!(got, ["text 'pong'", "binary b'pong'"]);
}

#[test]
fn relay_keeps_the_kind_both_ways_between_websocket_peers() {
    if !have_websockets() {
        return;
    }
    let (_server, port) = python_server(KIND_SERVER);
    let target = format!("ws://127.0.0.1:{port}/");
    let (_relay, front) = spawn_quietly(&["relay", "ws://127.0.0.1:0", &target]);
    let url = format!("ws://{}/", front.trim_end_matches('/'));
    // The server names the kind it got (client → server) and answers in
    // that kind (server → client).
    let got = kind_client(&url, &["t:one", "b:02", "t:three"]);
    assert_eq!(
        got,
        [
            "text \"got text 'one'\"",
            "binary b'got binary \\x02'",
            "text \"got text 'three'\""
        ]
    );
}

/// Sends `line` through `relay tcp://… ws://PYTHON` with `args` and
/// returns the first `want` bytes the TCP client reads back.
fn through_tcp_relay(args: &[&str], line: &[u8], want: usize) -> Vec<u8> {
    let (_server, port) = python_server(KIND_SERVER);
    let target = format!("ws://127.0.0.1:{port}/");
    let mut argv = vec!["relay", "tcp://127.0.0.1:0", target.as_str()];
    argv.extend_from_slice(args);
    let (_relay, front) = spawn_quietly(&argv);
    let mut tcp = TcpStream::connect(front).expect("connect to the relay");
    tcp.set_read_timeout(Some(DEADLINE)).expect("timeout");
    tcp.write_all(line).expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    // Bounded: each read brings at least one byte or ends the loop.
    while got.len() < want {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

#[test]
fn a_byte_stream_reaches_a_websocket_as_binary_or_text_with_ws_text() {
    if !have_websockets() {
        return;
    }
    let binary = b"got binary hi";
    assert_eq!(through_tcp_relay(&[], b"hi", binary.len()), binary);
    let text = b"got text 'hi'";
    assert_eq!(through_tcp_relay(&["--ws-text"], b"hi", text.len()), text);
}

#[test]
fn json_writes_the_kind_as_kind_and_as_ws() {
    if !have_websockets() {
        return;
    }
    let (_server, url) = serve("ws", &["--serve", "echo", "-k"]);
    let mut client = sockmate(&["connect", &url, "--json", "--ws-text"]);
    client.stdout(Stdio::piped());
    let (status, out, err) = run_with_input(client, b"hello\n");
    assert!(status.success(), "{err}");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let data: Vec<_> = events.iter().filter(|e| e["type"] == "data").collect();
    assert_eq!(data.len(), 2, "{events:?}");
    for event in data {
        assert_eq!(event["kind"], "text", "{event}");
        assert_eq!(event["ws"], "text", "{event}");
    }
}

/// Two `websockets` clients of `argv[1]`: each takes its first message
/// (a banner or the chat welcome), `a` takes one more where `argv[2]` is
/// `chat` (the notice that `b` joined: `b` is in the room); then `a` sends
/// a text and a binary message and `b` prints the kind of each it gets.
const TWO_CLIENTS: &str = r#"
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as a:
        await a.recv()
        async with websockets.connect(sys.argv[1]) as b:
            await b.recv()
            if sys.argv[2] == "chat":
                await a.recv()
            for m in ["one\n", b"two\n"]:
                await a.send(m)
                got = await asyncio.wait_for(b.recv(), 20)
                print("text" if isinstance(got, str) else "binary", flush=True)
asyncio.run(main())
"#;

#[test]
fn chat_speaks_text_and_the_broker_passes_each_kind_on() {
    if !have_websockets() {
        return;
    }
    for (service, want) in [("chat", ["text", "text"]), ("broker", ["text", "binary"])] {
        let (_server, url) = serve("ws", &["--serve", service, "--banner", "hi\n", "-k"]);
        let mut cmd = Command::new("python3");
        cmd.args(["-c", TWO_CLIENTS, &url, service]);
        let (status, out, err) = run_with_input(cmd, b"");
        assert!(status.success(), "{service}: {err}");
        let got: Vec<String> = String::from_utf8_lossy(&out)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(got, want, "{service}");
    }
}
