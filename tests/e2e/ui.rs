//! `sockmate ui` and `--ui`: the HTTP/WebSocket API (token, Host, Origin;
//! a TCP server session driven over the WebSocket), and the real-browser
//! scenario in `tests/e2e/ui_browser.py` (Chromium via Playwright).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::util::{require_tool, sockmate, Proc, DEADLINE};

/// Starts `sockmate ui` and returns it with its `host:port` and token.
pub(crate) fn start_ui(args: &[&str]) -> (Proc, String, String) {
    let mut p = Proc::spawn(sockmate(args));
    let line = p.wait_line("ui on ");
    let url = line
        .strip_prefix("ui on ")
        .expect("the line starts with `ui on `");
    let rest = url.strip_prefix("http://").expect("http://");
    let (host, token) = rest.split_once("/#token=").expect("/#token=");
    assert_eq!(token.len(), 32, "{line}");
    (p, host.to_string(), token.to_string())
}

/// The status code of one raw HTTP GET.
fn status(host: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut s = TcpStream::connect(host).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn ui_refuses_requests_without_the_token_or_from_another_origin() {
    let (_ui, host, token) = start_ui(&["ui"]);
    let own = [("Host", host.as_str())];
    assert_eq!(
        status(&host, "/", &own),
        200,
        "the bootstrap page is public"
    );
    assert_eq!(status(&host, "/app/main.js", &own), 401);
    assert_eq!(status(&host, "/ws", &own), 401);
    assert_eq!(status(&host, "/app/main.js?token=0000", &own), 401);
    let with = format!("/app/main.js?token={token}");
    assert_eq!(status(&host, &with, &own), 200);
    let port = host.rsplit(':').next().unwrap();
    let cookie = format!("sm_token_{port}={token}");
    assert_eq!(
        status(
            &host,
            "/app/app.css",
            &[("Host", &host), ("Cookie", &cookie)]
        ),
        200
    );
    let evil = [("Host", host.as_str()), ("Origin", "http://evil.example")];
    assert_eq!(status(&host, &with, &evil), 403);
    let rebound = format!("evil.example:{port}");
    assert_eq!(status(&host, &with, &[("Host", &rebound)]), 403);
    let same = format!("http://{host}");
    assert_eq!(
        status(&host, &with, &[("Host", &host), ("Origin", &same)]),
        200
    );
}

pub(crate) struct Page {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next: u64,
    /// Messages not taken yet.
    pub(crate) seen: Vec<Value>,
    /// Every message, in order.
    pub(crate) all: Vec<Value>,
}

impl Page {
    pub(crate) async fn open(host: &str, token: &str) -> Page {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{host}/ws?token={token}"))
            .await
            .expect("the WebSocket opens with the token");
        Page {
            ws,
            next: 1,
            seen: Vec::new(),
            all: Vec::new(),
        }
    }

    pub(crate) async fn recv(&mut self) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = tokio::time::timeout(left, self.ws.next())
                .await
                .expect("a message before the deadline")
                .expect("the socket stays open")
                .expect("a frame");
            if let Message::Text(text) = msg {
                let value: Value = serde_json::from_str(&text).unwrap();
                self.all.push(value.clone());
                return value;
            }
        }
    }

    /// Sends a command and returns its reply (keeping other messages).
    pub(crate) async fn call(&mut self, mut cmd: Value) -> Value {
        let id = self.next;
        self.next += 1;
        cmd["id"] = json!(id);
        self.ws.send(Message::text(cmd.to_string())).await.unwrap();
        loop {
            let m = self.recv().await;
            if m["t"] == "reply" && m["id"] == json!(id) {
                return m;
            }
            self.seen.push(m);
        }
    }

    /// Waits for a message `pred` accepts (looking at kept ones first).
    pub(crate) async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pred) {
            return self.seen.remove(i);
        }
        loop {
            let m = self.recv().await;
            if pred(&m) {
                return m;
            }
            self.seen.push(m);
        }
    }
}

pub(crate) fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = vec![0; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_websocket_runs_a_tcp_server_and_sends_to_one_client_only() {
    let (_ui, host, token) = start_ui(&["ui"]);
    let mut page = Page::open(&host, &token).await;
    // The first message says what the server offers: the page keeps no
    // list of encodings of its own.
    let hello = page.recv().await;
    assert_eq!(hello["t"], "hello", "{hello}");
    let offered = hello["encodings"].as_array().unwrap();
    assert!(
        offered.contains(&json!("gbk")) && offered.contains(&json!("utf-8")),
        "{hello}"
    );
    let r = page
        .call(json!({"cmd": "open", "role": "listen", "endpoint": "tcp://127.0.0.1:0"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let session = r["session"].clone();
    let listening = page
        .until(|m| m["t"] == "ev" && m["e"]["type"] == "listening")
        .await;
    let endpoint = listening["e"]["endpoint"].as_str().unwrap().to_string();
    let addr = endpoint.strip_prefix("tcp://").unwrap().to_string();

    let mut a = TcpStream::connect(&addr).unwrap();
    let a_peer = a.local_addr().unwrap().to_string();
    let open_a = page
        .until(|m| m["e"]["type"] == "open" && m["e"]["peer"] == json!(format!("tcp://{a_peer}")))
        .await;
    let conn_a = open_a["e"]["conn"].clone();
    let mut b = TcpStream::connect(&addr).unwrap();
    let b_peer = b.local_addr().unwrap().to_string();
    let open_b = page
        .until(|m| m["e"]["type"] == "open" && m["e"]["peer"] == json!(format!("tcp://{b_peer}")))
        .await;
    let conn_b = open_b["e"]["conn"].clone();
    assert_ne!(conn_a, conn_b);

    a.write_all(b"ping").unwrap();
    page.until(|m| m["e"]["type"] == "data" && m["e"]["dir"] == "in" && m["e"]["conn"] == conn_a)
        .await;
    let r = page
        .call(json!({"cmd": "send", "session": session, "conn": conn_a, "data": "hello"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(read_exact(&mut a, 5), b"hello");
    let r = page
        .call(json!({"cmd": "send", "session": session, "conn": conn_b, "data": "62 79 65", "format": "hex"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    // B's first bytes are its own: it never got A's "hello".
    assert_eq!(read_exact(&mut b, 3), b"bye");

    let r = page
        .call(json!({"cmd": "close", "session": session, "conn": conn_a}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let mut rest = Vec::new();
    a.set_read_timeout(Some(DEADLINE)).unwrap();
    let _ = a.read_to_end(&mut rest);
    assert!(rest.is_empty(), "A got only its own bytes");
    let close = page
        .until(|m| m["e"]["type"] == "close" && m["e"]["conn"] == conn_a)
        .await;
    let e = &close["e"];
    assert_eq!(
        (e["bytes_in"].clone(), e["msgs_in"].clone()),
        (json!(4), json!(1)),
        "{e}"
    );
    assert_eq!(
        (e["bytes_out"].clone(), e["msgs_out"].clone()),
        (json!(5), json!(1)),
        "{e}"
    );

    // A's events, in order: open, ping in, hello out, close.
    let all = page.all.clone();
    let order: Vec<String> = all
        .iter()
        .filter(|m| m["t"] == "ev" && m["e"]["conn"] == conn_a)
        .map(|m| {
            format!(
                "{} {}",
                m["e"]["type"].as_str().unwrap(),
                m["e"]["dir"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        order,
        ["open ", "data in", "data out", "close "],
        "{order:?}"
    );
    let text_of_out = all
        .iter()
        .find(|m| m["e"]["type"] == "data" && m["e"]["dir"] == "out" && m["e"]["conn"] == conn_a)
        .unwrap();
    assert_eq!(text_of_out["e"]["hex"], "68656c6c6f");
    assert_eq!(text_of_out["e"]["text"], "hello");

    // The live counters list only B now.
    let stats = page
        .until(|m| m["t"] == "stats" && m["conns"].as_array().is_some_and(|c| c.len() == 1))
        .await;
    assert_eq!(stats["conns"][0]["conn"], conn_b);
    assert_eq!(stats["total"]["bytes_out"], json!(8));

    let bad = page.call(json!({"cmd": "hex", "text": "01 0g 03"})).await;
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["hex"]["token"], "0g");
    assert_eq!(bad["hex"]["position"], 3);
    let good = page
        .call(json!({"cmd": "hex", "text": "0x01,\\x02 0304"}))
        .await;
    assert_eq!(good["len"], 4, "{good}");
    let wrong = page
        .call(json!({"cmd": "open", "role": "connect", "endpoint": "tcp://x:99999"}))
        .await;
    assert_eq!(wrong["ok"], false);
    assert!(
        wrong["error"].as_str().unwrap().contains("99999"),
        "{wrong}"
    );
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_udp_server_with_broadcast_answers_a_datagram_peer_and_restarts() {
    let dir = crate::util::tempdir();
    let records = dir.path().to_str().unwrap();
    let (_ui, host, token) = start_ui(&["ui", "--record-dir", records]);
    let mut page = Page::open(&host, &token).await;
    let r = page
        .call(json!({"cmd": "open", "role": "listen", "endpoint": "udp://127.0.0.1:0", "broadcast": true, "encoding": "gbk"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let session = r["session"].clone();
    let listening = page
        .until(|m| m["t"] == "ev" && m["e"]["type"] == "listening")
        .await;
    let addr = listening["e"]["endpoint"]
        .as_str()
        .unwrap()
        .strip_prefix("udp://")
        .unwrap()
        .to_string();
    let file = dir.path().join("received.bin");
    let r = page
        .call(json!({"cmd": "record", "session": session, "path": "received.bin"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"\xd6\xd0", &addr).unwrap();
    let data = page.until(|m| m["e"]["type"] == "data").await;
    assert_eq!(
        data["e"]["text"], "中",
        "decoded with the session's encoding: {data}"
    );
    // Recorded before the page is told.
    assert_eq!(std::fs::read(&file).unwrap(), b"\xd6\xd0");
    let r = page
        .call(json!({"cmd": "record", "session": session, "path": "/nonexistent-dir/x"}))
        .await;
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("record file \"/nonexistent-dir/x\" refused"),
        "{r}"
    );
    let r = page
        .call(json!({"cmd": "send", "session": session, "conn": data["e"]["conn"], "data": "ok", "eol": "crlf"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    peer.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ok\r\n");
    let r = page
        .call(json!({"cmd": "restart", "session": session}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    page.until(|m| m["t"] == "session" && m["s"] == session && m["running"] == true)
        .await;
    let r = page
        .call(json!({"cmd": "remove", "session": session}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let r = page
        .call(json!({"cmd": "send", "session": session, "data": "x"}))
        .await;
    assert!(r["error"].as_str().unwrap().contains("no session"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_ui_shows_the_cli_session_and_can_send_to_its_client() {
    let mut p = Proc::spawn(sockmate(&["listen", "-k", "127.0.0.1:0", "--ui"]));
    let line = p.wait_line("ui on ");
    let rest = line.strip_prefix("ui on http://").expect("the ui line");
    let (host, token) = rest.split_once("/#token=").unwrap();
    let addr = p.listening_addr();
    let mut page = Page::open(host, token).await;
    let session = page
        .until(|m| m["t"] == "session" && m["role"] == "cli" && m["running"] == true)
        .await;
    assert!(
        session["label"]
            .as_str()
            .unwrap()
            .starts_with("listen tcp://127.0.0.1:"),
        "{session}"
    );
    let mut c = TcpStream::connect(&addr).unwrap();
    c.write_all("中文\n".as_bytes()).unwrap();
    let data = page
        .until(|m| m["t"] == "ev" && m["e"]["type"] == "data")
        .await;
    assert_eq!(data["e"]["text"], "中文\n");
    let conn = data["e"]["conn"].clone();
    let r = page
        .call(json!({"cmd": "send", "session": session["s"], "conn": conn, "data": "from the page", "eol": "lf"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(read_exact(&mut c, 14), b"from the page\n");
    // The CLI still prints what the client sent, on stdout.
    p.signal("INT");
    let out = p.read_stdout_to_end();
    assert!(String::from_utf8_lossy(&out).contains("中文"), "{out:?}");
}

#[test]
fn ui_in_a_real_browser_netassist_loop_server_list_and_saved_log() {
    if !require_tool("chromium") || !require_tool("python3") {
        return;
    }
    let has_playwright = std::process::Command::new("python3")
        .args(["-c", "import playwright"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_playwright {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 playwright is missing (pip install playwright: see .ci/run)"
        );
        eprintln!("SKIPPED: python3 playwright is not installed (pip install playwright)");
        return;
    }
    let (_ui, host, token) = start_ui(&["ui"]);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/ui_browser.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg(format!("http://{host}/#token={token}"))
        .arg(&shots)
        .arg(profile.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = crate::util::wait_timeout(&mut child, Duration::from_secs(120));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "browser scenario failed:\n{out}\n{err}"
    );
    assert!(out.contains("browser scenario: ok"), "{out}\n{err}");
    eprintln!("screenshots in {}", shots.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_ui_lists_the_relayed_client() {
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap().to_string();
    let mut p = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &target_addr, "--ui"]));
    let line = p.wait_line("ui on ");
    let rest = line.strip_prefix("ui on http://").expect("the ui line");
    let (host, token) = rest.split_once("/#token=").unwrap();
    let addr = p.listening_addr();
    let mut page = Page::open(host, token).await;
    let session = page
        .until(|m| m["t"] == "session" && m["role"] == "cli" && m["running"] == true)
        .await;
    assert!(
        session["label"].as_str().unwrap().starts_with("relay "),
        "{session}"
    );
    let mut c = TcpStream::connect(&addr).unwrap();
    let me = c.local_addr().unwrap().to_string();
    let (mut t, _) = target.accept().unwrap();
    c.write_all(b"12345").unwrap();
    assert_eq!(read_exact(&mut t, 5), b"12345");
    let stats = page
        .until(|m| {
            m["t"] == "stats"
                && m["conns"].as_array().is_some_and(|c| c.len() == 1)
                && m["total"]["bytes_in"] == 5
        })
        .await;
    let peer = stats["conns"][0]["peer"].as_str().unwrap();
    assert!(peer.ends_with(&me), "the relayed client {me}: {stats}");
    drop(c);
    drop(t);
    page.until(|m| m["t"] == "ev" && m["e"]["type"] == "close")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_receives_a_file_sent_by_sockmate_send() {
    let dir = crate::util::tempdir();
    let records = dir.path().join("records");
    let (_ui, host, token) = start_ui(&["ui", "--record-dir", records.to_str().unwrap()]);
    let mut page = Page::open(&host, &token).await;
    let r = page
        .call(json!({"cmd": "open", "role": "receive", "endpoint": "127.0.0.1:0", "dir": "inbox"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let session = r["session"].clone();
    let running = page
        .until(|m| m["t"] == "session" && m["s"] == session && m["running"] == true)
        .await;
    assert_eq!(running["kind"], "transfer", "{running}");
    let addr = running["local"].as_str().unwrap().to_string();
    let source = dir.path().join("notes.txt");
    std::fs::write(&source, b"from the command line\n").unwrap();
    let mut send = sockmate(&["send", &addr, source.to_str().unwrap(), "-q"]);
    let sent = tokio::time::timeout(
        DEADLINE,
        tokio::task::spawn_blocking(move || send.output().unwrap()),
    )
    .await
    .expect("send ends")
    .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    let done = page
        .until(|m| m["t"] == "ev" && m["e"]["type"] == "transfer_done")
        .await;
    assert_eq!(done["e"]["file"], "notes.txt", "{done}");
    assert_eq!(done["e"]["bytes_in"], 22, "{done}");
    assert_eq!(done["e"]["digest_ok"], true, "{done}");
    assert_eq!(
        std::fs::read(records.join("inbox").join("notes.txt")).unwrap(),
        b"from the command line\n"
    );
    let r = page
        .call(json!({"cmd": "open", "role": "receive", "endpoint": "127.0.0.1:0", "dir": "../out"}))
        .await;
    assert!(
        r["error"].is_string(),
        "a folder outside the records is refused: {r}"
    );
}
