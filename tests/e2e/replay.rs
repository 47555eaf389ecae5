//! `sockmate replay`: the device engineer's workflow end to end. A Python
//! "device" answers a Python client through `sockmate relay --log`; the
//! device is stopped; `sockmate replay LOG --as server` answers the same
//! client with the same bytes. Also: a GBK text protocol from a text log,
//! loose and order matching, the unmatched line, `--as client` with
//! `--no-timing`, `--speed` and `--loop`, and a malformed transcript.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::*;

/// A Modbus TCP-style device: each 12-byte request gets a 13-byte reply
/// with the request's transaction id (bytes 0..2) and a register value
/// that depends on the request's last byte. Prints `port N` on stderr.
const HEX_DEVICE: &str = r#"
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print("port", s.getsockname()[1], file=sys.stderr, flush=True)
while True:
    c, _ = s.accept()
    while True:
        req = c.recv(256)
        if not req:
            break
        body = bytes([req[6], req[7], 4, 0, 0xfa, 0, 0x10 + req[11]])
        c.sendall(req[0:2] + b"\x00\x00" + len(body).to_bytes(2, "big") + body)
    c.close()
"#;

/// Sends the requests `TID:REG,…` (argv[2]) one at a time and prints each
/// reply in hex; a request written `TID:REG!` expects no reply (`sent`).
const HEX_CLIENT: &str = r#"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.settimeout(30)
for pair in sys.argv[2].split(","):
    tid, reg = (int(x) for x in pair.rstrip("!").split(":"))
    c.sendall(tid.to_bytes(2, "big") + bytes([0, 0, 0, 6, 1, 3, 0, 0, 0, reg]))
    print("sent" if pair.endswith("!") else c.recv(256).hex(), flush=True)
c.close()
"#;

/// A line device speaking GBK: `查询 X` gets `收到 查询 X，温度 25℃` and
/// the line ending of the question.
const GBK_DEVICE: &str = r#"
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print("port", s.getsockname()[1], file=sys.stderr, flush=True)
while True:
    c, _ = s.accept()
    for line in c.makefile("rb"):
        q = line.decode("gbk")
        end = "\r\n" if q.endswith("\r\n") else "\n"
        c.sendall(("收到 %s，温度 25℃%s" % (q.strip(), end)).encode("gbk"))
    c.close()
"#;

/// Asks the GBK device two questions with CRLF and prints the exact
/// replies (repr, so the line endings show).
const GBK_CLIENT: &str = r#"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = c.makefile("rb")
for q in ["查询 温度", "查询 湿度"]:
    c.sendall((q + "\r\n").encode("gbk"))
    print(repr(f.readline().decode("gbk")), flush=True)
c.close()
"#;

/// A device that writes, per request it receives, `MS_SINCE_ACCEPT HEX`
/// on stderr (the client's replay is checked there) and answers `ok`.
const RECORDING_DEVICE: &str = r#"
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print("port", s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
start = time.monotonic()
buf = b""
while True:
    data = c.recv(256)
    if not data:
        break
    buf += data
    while len(buf) >= 4:
        req, buf = buf[:4], buf[4:]
        print("got %d %s" % ((time.monotonic() - start) * 1000, req.hex()), file=sys.stderr, flush=True)
        c.sendall(b"ok")
print("end", file=sys.stderr, flush=True)
"#;

fn python(script: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).args(args);
    cmd
}

/// Starts a Python device and returns it and its port.
fn device(script: &str) -> (Proc, String) {
    let mut cmd = python(script, &[]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut proc = Proc::spawn_configured(cmd);
    let line = proc.wait_line("port ");
    let port = line.split_whitespace().nth(1).expect("port").to_string();
    (proc, port)
}

/// Runs a Python client to completion and returns its stdout.
fn client(script: &str, args: &[&str]) -> String {
    let (status, out, err) = run_with_input(python(script, args), b"");
    assert!(status.success(), "client failed: {err}");
    String::from_utf8_lossy(&out).into_owned()
}

/// `sockmate replay ARGS… --as server` once it listens: it and its port.
fn replay_server(args: &[&str]) -> (Proc, String) {
    let mut argv = vec!["replay"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--as", "server"]);
    let (proc, addr) = spawn_quietly(&argv);
    let port = addr.rsplit(':').next().expect("port").to_string();
    (proc, port)
}

/// Records `client_args` of `client_script` against `device_script`
/// through `sockmate relay --log LOG VIEW…`; returns what the client
/// printed. The device and the relay are stopped afterwards, and the
/// device's port refuses connections.
fn record(
    log: &Path,
    device_script: &str,
    view: &[&str],
    client_script: &str,
    client_args: &[&str],
) -> String {
    let (mut dev, dev_port) = device(device_script);
    let log_s = log.to_string_lossy().into_owned();
    let target = format!("127.0.0.1:{dev_port}");
    let mut argv = vec!["relay", "127.0.0.1:0", &target, "--log", &log_s];
    argv.extend_from_slice(view);
    let (mut relay, relay_addr) = spawn_quietly(&argv);
    let relay_port = relay_addr.rsplit(':').next().expect("port").to_string();
    let mut args = vec![relay_port.as_str()];
    args.extend_from_slice(client_args);
    let answers = client(client_script, &args);
    // The relay logs the close once the client has gone.
    relay.wait_line("closed: ");
    relay.signal("TERM");
    relay.wait();
    let _ = dev.child.kill();
    dev.wait();
    assert!(
        TcpStream::connect(&target).is_err(),
        "the device still answers"
    );
    answers
}

#[test]
fn a_modbus_device_recorded_through_relay_is_replayed_to_the_same_client() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let log = dir.path().join("device.log");
    let requests = "1:2,2:3,3:2";
    let live = record(
        &log,
        HEX_DEVICE,
        &["--dump", "hex"],
        HEX_CLIENT,
        &[requests],
    );
    assert_eq!(
        live,
        "00010000000701030400fa0012\n00020000000701030400fa0013\n00030000000701030400fa0012\n"
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("< 12 bytes"), "{log_text}");
    let log_s = log.to_string_lossy().into_owned();
    let (mut server, port) = replay_server(&[&log_s, "127.0.0.1:0"]);
    let replayed = client(HEX_CLIENT, &[&port, requests]);
    assert_eq!(replayed, live, "the same client gets the same answers");
    server.wait_line("closed: ");
    let seen = server.stderr_lines().join("\n");
    assert!(
        seen.contains("3 recorded request(s) from 1 connection(s), exact matching"),
        "{seen}"
    );
    assert!(!seen.contains("unmatched"), "{seen}");
}

#[test]
fn a_gbk_text_protocol_is_replayed_from_a_text_log() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let log = dir.path().join("gbk.log");
    let live = record(
        &log,
        GBK_DEVICE,
        &["--dump", "text", "--encoding", "gbk"],
        GBK_CLIENT,
        &[],
    );
    assert_eq!(
        live,
        "'收到 查询 温度，温度 25℃\\r\\n'\n'收到 查询 湿度，温度 25℃\\r\\n'\n"
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("> 收到 查询 温度，温度 25℃\n"),
        "{log_text}"
    );
    let log_s = log.to_string_lossy().into_owned();
    let (_server, port) = replay_server(&[&log_s, "127.0.0.1:0", "--encoding", "gbk"]);
    assert_eq!(client(GBK_CLIENT, &[&port]), live);
    // --eol chooses the line ending instead of the request's.
    let (_server, port) =
        replay_server(&[&log_s, "127.0.0.1:0", "--encoding", "gbk", "--eol", "lf"]);
    let (status, out, _) = run_with_input(
        python(
            r#"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall("查询 湿度\r\n".encode("gbk"))
print(repr(c.makefile("rb").readline().decode("gbk")))
"#,
            &[&port],
        ),
        b"",
    );
    assert!(status.success());
    assert_eq!(
        String::from_utf8_lossy(&out),
        "'收到 查询 湿度，温度 25℃\\n'\n"
    );
}

#[test]
fn loose_matching_takes_any_transaction_id_and_unmatched_requests_get_a_line() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let log = dir.path().join("device.log");
    record(
        &log,
        HEX_DEVICE,
        &["--dump", "hex"],
        HEX_CLIENT,
        &["1:2,2:3"],
    );
    let log_s = log.to_string_lossy().into_owned();
    // Exact: a new transaction id is not in the recording.
    let (mut exact, port) =
        replay_server(&[&log_s, "127.0.0.1:0", "--unmatched-reply", "hex:ee ee"]);
    assert_eq!(client(HEX_CLIENT, &[&port, "7:2"]), "eeee\n");
    let line = exact.wait_line("unmatched: ");
    assert!(
        line.contains(
            "message 1 (12 bytes: 00 07 00 00 00 06 01 03 00 00 00 02) is not in the recording (exact mode); sent the --unmatched-reply (2 bytes)"
        ),
        "{line}"
    );
    // Loose, bytes 0..2 ignored: matched, and the reply carries the new id.
    let (mut loose, port) = replay_server(&[
        &log_s,
        "127.0.0.1:0",
        "--match",
        "loose",
        "--ignore",
        "0..2",
        "--unmatched-reply",
        "hex:ee",
    ]);
    assert_eq!(
        client(HEX_CLIENT, &[&port, "7:2,4660:3,9:9"]),
        "00070000000701030400fa0012\n12340000000701030400fa0013\nee\n"
    );
    let line = loose.wait_line("unmatched: ");
    assert!(line.contains("message 3 (12 bytes: 00 09"), "{line}");
    assert!(line.contains("(loose mode)"), "{line}");
}

/// A `--json` transcript recorded by `sockmate relay --json --log`.
fn record_json(dir: &Path) -> String {
    let log = dir.join("session.jsonl");
    record(&log, HEX_DEVICE, &["--json"], HEX_CLIENT, &["1:1,1:2,1:3"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().all(|l| l.starts_with('{')), "{text}");
    log.to_string_lossy().into_owned()
}

#[test]
fn order_matching_answers_the_nth_request_with_the_nth_reply_and_loops() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let log = record_json(dir.path());
    // Requests that were never recorded, answered by position.
    let (mut server, port) = replay_server(&[&log, "127.0.0.1:0", "--match", "order"]);
    assert_eq!(
        client(HEX_CLIENT, &[&port, "9:9,8:8,7:7,6:6!"]),
        "00010000000701030400fa0011\n00010000000701030400fa0012\n00010000000701030400fa0013\nsent\n"
    );
    let line = server.wait_line("unmatched: ");
    assert!(
        line.contains("message 4 ") && line.contains("no reply"),
        "{line}"
    );
    let (_server, port) = replay_server(&[&log, "127.0.0.1:0", "--match", "order", "--loop"]);
    assert_eq!(
        client(HEX_CLIENT, &[&port, "9:9,8:8,7:7,6:6"]),
        "00010000000701030400fa0011\n00010000000701030400fa0012\n00010000000701030400fa0013\n00010000000701030400fa0011\n"
    );
}

/// A `--json` transcript as `sockmate connect --json` writes it: two
/// 4-byte requests, the second `gap_ms` after the first.
fn client_transcript(path: &Path, gap_ms: u64) {
    let time = |ms: u64| {
        format!(
            "2026-11-23T{:02}:{:02}:{:02}.{:03}+00:00",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let data = |dir: &str, hex: &str, ms: u64| {
        format!(
            r#"{{"conn":1,"dir":"{dir}","hex":"{hex}","len":{},"peer":"127.0.0.1:502","text":"","time":"{}","type":"data"}}"#,
            hex.len() / 2,
            time(ms)
        )
    };
    let lines = [
        format!(
            r#"{{"conn":1,"local":"127.0.0.1:40000","peer":"127.0.0.1:502","time":"{}","type":"open"}}"#,
            time(0)
        ),
        data("out", "01020304", 100),
        data("in", "6f6b", 110),
        data("out", "05060708", 100 + gap_ms),
        data("in", "6f6b", 110 + gap_ms),
    ];
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// `sockmate replay FILE 127.0.0.1:PORT --as client ARGS…` against the
/// recording device; returns the device's `got MS HEX` lines.
fn replay_client(file: &Path, args: &[&str], requests: usize) -> Vec<(u64, String)> {
    let (mut dev, port) = device(RECORDING_DEVICE);
    let target = format!("127.0.0.1:{port}");
    let file_s = file.to_string_lossy().into_owned();
    let mut argv = vec![
        "replay", &file_s, &target, "--as", "client", "--wait", "200ms",
    ];
    argv.extend_from_slice(args);
    let mut cmd = sockmate(&argv);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut replayer = Proc::spawn_configured(cmd);
    let mut got = Vec::new();
    for _ in 0..requests {
        let line = dev.wait_line("got ");
        let mut words = line.split_whitespace().skip(1);
        let ms = words.next().and_then(|m| m.parse().ok()).expect("ms");
        got.push((ms, words.next().expect("hex").to_string()));
    }
    if !args.contains(&"--loop") {
        let out = replayer.read_stdout_to_end();
        assert_eq!(out, b"okok", "the replies reach stdout");
        assert!(replayer.wait().success());
        dev.wait_line("end");
    }
    got
}

#[test]
fn a_client_replays_the_recorded_requests_with_their_timing() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let file = dir.path().join("client.jsonl");
    // An hour between the two requests: --no-timing must not wait for it.
    client_transcript(&file, 3_600_000);
    let got = replay_client(&file, &["--no-timing"], 2);
    let hexes: Vec<&str> = got.iter().map(|(_, h)| h.as_str()).collect();
    assert_eq!(hexes, ["01020304", "05060708"]);
    // 7200 times faster: the hour is half a second, and never less.
    let got = replay_client(&file, &["--speed", "7200"], 2);
    assert_eq!(got[1].1, "05060708");
    assert!(
        got[1].0 >= 400,
        "the second request came {} ms after the connect",
        got[1].0
    );
    // Recorded at 100 ms and 400 ms, looped: the requests come round again.
    client_transcript(&file, 300);
    let got = replay_client(&file, &["--loop"], 5);
    let hexes: Vec<&str> = got.iter().map(|(_, h)| h.as_str()).collect();
    assert_eq!(
        hexes,
        ["01020304", "05060708", "01020304", "05060708", "01020304"]
    );
}

#[test]
fn a_malformed_transcript_is_refused_with_its_line_number() {
    let dir = tempdir();
    let file = dir.path().join("broken.log");
    std::fs::write(
        &file,
        "[10:00:00.000] listening on tcp://127.0.0.1:5020\n\
         [10:00:00.100] #1 127.0.0.1:4000 < 4 bytes\n\
         00000000  01 02 03                                          |...|\n",
    )
    .unwrap();
    let file_s = file.to_string_lossy().into_owned();
    let (status, out, err) = run_with_input(
        sockmate(&["replay", &file_s, "127.0.0.1:0", "--as", "server"]),
        b"",
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(out.is_empty());
    let lines = our_stderr_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("broken.log: line 2: the header says 4 bytes but its hex dump holds 3"),
        "{err}"
    );
    std::fs::write(&file, "{\"type\":\"data\",\"conn\":1}\n").unwrap();
    let (status, _, err) = run_with_input(
        sockmate(&["replay", &file_s, "127.0.0.1:0", "--as", "client"]),
        b"",
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 1: not a sockmate --json event: missing field"),
        "{err}"
    );
}

#[test]
fn a_device_captured_by_dumpcap_is_replayed_from_the_pcapng() {
    if !require_tool("python3") || !require_tool("dumpcap") {
        return;
    }
    let dir = tempdir();
    let capture = dir.path().join("device.pcapng");
    let capture_s = capture.to_string_lossy().into_owned();
    let (mut dev, dev_port) = device(HEX_DEVICE);
    let filter = format!("tcp port {dev_port}");
    let mut cmd = Command::new("dumpcap");
    cmd.args(["-i", "lo", "-f", &filter, "-w", &capture_s])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut dumpcap = Proc::spawn_configured(cmd);
    dumpcap.wait_line("File:");
    let requests = "5:2,6:3";
    let live = client(HEX_CLIENT, &[&dev_port, requests]);
    assert_eq!(
        live,
        "00050000000701030400fa0012\n00060000000701030400fa0013\n"
    );
    // dumpcap writes what it has captured as it goes: once the last reply
    // is in the file, everything the replay needs is.
    let last_reply = [0u8, 6, 0, 0, 0, 7, 1, 3, 4, 0, 0xfa, 0, 0x13];
    let deadline = std::time::Instant::now() + DEADLINE;
    while !std::fs::read(&capture)
        .unwrap_or_default()
        .windows(last_reply.len())
        .any(|w| w == last_reply)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "dumpcap did not write the session: {:?}",
            dumpcap.stderr_lines()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    dumpcap.signal("INT");
    dumpcap.wait();
    let _ = dev.child.kill();
    dev.wait();
    let (mut server, port) = replay_server(&[&capture_s, "127.0.0.1:0"]);
    assert_eq!(client(HEX_CLIENT, &[&port, requests]), live);
    server.wait_line("closed: ");
    let seen = server.stderr_lines().join("\n");
    assert!(
        seen.contains("2 recorded request(s) from 1 connection(s)"),
        "{seen}"
    );
}
