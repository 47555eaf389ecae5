//! `--pcap FILE` on connect, listen and relay, read back by Debian's
//! `tshark`: following a stream gives back exactly the bytes that crossed
//! (a TCP session, a UDP exchange, both legs of a relay, a TLS relay), an
//! HTTP exchange through a relay decodes as HTTP, `--pcap-max` rotates,
//! Unix sockets are raw bytes with a direction, a bad path is one line.
//! The peers are Python programs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{
    listening_tls, random_bytes, require_tool, run_with_input, sockmate, spawn_quietly, tempdir,
    Proc,
};

/// A Python TCP server on 127.0.0.1: prints its port, accepts one client,
/// reads until the client ends its writes, answers the bytes reversed and
/// closes.
const REVERSER: &str = r#"
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
data = b""
while True:
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
c.sendall(data[::-1])
c.close()
"#;

/// A Python UDP server: prints its port, answers each of argv[1]
/// datagrams upper-cased.
const UDP_UPPER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1])):
    data, peer = s.recvfrom(65536)
    s.sendto(data.upper(), peer)
"#;

/// Starts a Python program that prints its port first; returns it and the
/// port.
fn python_server(script: &str, args: &[&str]) -> (Proc, u16) {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).args(args);
    let mut proc = Proc::spawn(cmd);
    let mut line = String::new();
    let out = proc.stdout.take().expect("stdout");
    BufReader::new(out).read_line(&mut line).expect("port line");
    let port = line.trim().parse().expect("a port");
    (proc, port)
}

/// Runs tshark and returns its stdout (its stderr notes are dropped).
fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A followed stream: the bytes each node sent, and the nodes' addresses.
struct Followed {
    nodes: [String; 2],
    sent: [Vec<u8>; 2],
}

/// `tshark -r FILE -qz follow,PROTO,raw,STREAM`, parsed.
fn follow(file: &Path, proto: &str, stream: u32) -> Followed {
    let out = tshark(&[
        "-r",
        &file.display().to_string(),
        "-qz",
        &format!("follow,{proto},raw,{stream}"),
    ]);
    let mut nodes = [String::new(), String::new()];
    let mut sent = [Vec::new(), Vec::new()];
    let mut body = false;
    for line in out.lines() {
        if let Some(addr) = line.strip_prefix("Node 0: ") {
            nodes[0] = addr.to_string();
        } else if let Some(addr) = line.strip_prefix("Node 1: ") {
            nodes[1] = addr.to_string();
            body = true;
        } else if line.starts_with("=====") {
            body = false;
        } else if body {
            match line.strip_prefix('\t') {
                Some(hex) => sent[1].extend(unhex(hex.trim())),
                None => sent[0].extend(unhex(line.trim())),
            }
        }
    }
    Followed { nodes, sent }
}

fn lines(file: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["-r".to_string(), file.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tshark(&args).lines().map(str::to_string).collect()
}

fn capture(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("capture.pcapng");
    let text = path.display().to_string();
    (path, text)
}

fn reversed(data: &[u8]) -> Vec<u8> {
    data.iter().rev().copied().collect()
}

/// Stops a sockmate with SIGINT (it writes out the capture) and waits for
/// its exit status 130.
fn stop(mut proc: Proc) {
    proc.signal("INT");
    assert_eq!(proc.wait().code(), Some(130), "{:?}", proc.drain_stderr());
}

#[test]
fn a_tcp_session_follows_back_byte_exact_with_handshake_and_fins() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let (_server, port) = python_server(REVERSER, &[]);
    let data = random_bytes(300_000, 25);
    let (status, out, err) = run_with_input(
        sockmate(&["connect", &format!("127.0.0.1:{port}"), "--pcap", &path]),
        &data,
    );
    assert!(status.success(), "{err}");
    assert!(out == reversed(&data), "the echo differs");

    let f = follow(&file, "tcp", 0);
    assert_eq!(f.nodes[1], format!("127.0.0.1:{port}"));
    assert!(
        f.sent[0] == data,
        "client bytes differ ({})",
        f.sent[0].len()
    );
    assert!(f.sent[1] == reversed(&data), "server bytes differ");
    let flags = lines(&file, &["-T", "fields", "-e", "tcp.flags.str"]);
    let count = |needle: &str| flags.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("S"), 2, "{flags:?}");
    assert_eq!(count("F"), 2, "{flags:?}");
    assert!(flags[0].ends_with("S·"), "first is the SYN: {flags:?}");
    // Every checksum verifies and tshark finds no gap in the sequence.
    let bad = lines(
        &file,
        &[
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
            "-Y",
            "tcp.checksum.status != 1 || ip.checksum.status != 1 || tcp.analysis.lost_segment || tcp.analysis.retransmission",
        ],
    );
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn a_udp_exchange_is_one_packet_per_datagram() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let (_server, port) = python_server(UDP_UPPER, &["3"]);
    let (status, out, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("udp://127.0.0.1:{port}"),
            "--send",
            "one",
            "--send",
            "two",
            "--send",
            "three",
            "--recv-count",
            "3",
            "--pcap",
            &path,
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"ONETWOTHREE");
    let f = follow(&file, "udp", 0);
    // The client's own address, not the 0.0.0.0 it was bound to.
    assert!(f.nodes[0].starts_with("127.0.0.1:"), "{:?}", f.nodes);
    assert_eq!(f.nodes[1], format!("127.0.0.1:{port}"));
    assert_eq!(f.sent[0], b"onetwothree");
    assert_eq!(f.sent[1], b"ONETWOTHREE");
    let lens = lines(&file, &["-Y", "udp", "-T", "fields", "-e", "udp.length"]);
    assert_eq!(lens, ["11", "11", "13", "11", "11", "13"], "{lens:?}");
}

#[test]
fn a_relay_writes_both_legs_as_their_own_streams() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let (_server, port) = python_server(REVERSER, &[]);
    let (relay, front) = spawn_quietly(&[
        "relay",
        "127.0.0.1:0",
        &format!("127.0.0.1:{port}"),
        "--pcap",
        &path,
    ]);
    let data = random_bytes(100_000, 7);
    let (status, out, err) = run_with_input(sockmate(&["connect", &front]), &data);
    assert!(status.success(), "{err}");
    assert!(out == reversed(&data));
    stop(relay);

    let client_leg = follow(&file, "tcp", 0);
    assert_eq!(client_leg.nodes[1], front);
    let target_leg = follow(&file, "tcp", 1);
    assert_eq!(target_leg.nodes[1], format!("127.0.0.1:{port}"));
    for leg in [&client_leg, &target_leg] {
        assert!(leg.sent[0] == data, "{:?}: request differs", leg.nodes);
        assert!(
            leg.sent[1] == reversed(&data),
            "{:?}: reply differs",
            leg.nodes
        );
    }
}

#[test]
fn a_tls_relay_writes_the_decrypted_bytes_and_says_so() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let (_server, port) = python_server(REVERSER, &[]);
    let mut cmd = sockmate(&[
        "relay",
        "tls://127.0.0.1:0",
        &format!("tcp://127.0.0.1:{port}"),
        "--pcap",
        &path,
    ]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut relay = Proc::spawn_configured(cmd);
    let (front, pin) = listening_tls(&mut relay);
    let data = random_bytes(50_000, 11);
    let (status, out, err) = run_with_input(sockmate(&["connect", &front, "--pin", &pin]), &data);
    assert!(status.success(), "{err}");
    assert!(out == reversed(&data));
    stop(relay);

    for stream in [0, 1] {
        let leg = follow(&file, "tcp", stream);
        assert!(leg.sent[0] == data, "stream {stream}: request differs");
        assert!(
            leg.sent[1] == reversed(&data),
            "stream {stream}: reply differs"
        );
    }
    let comments = lines(
        &file,
        &["-Y", "frame.comment", "-T", "fields", "-e", "frame.comment"],
    );
    assert!(
        comments
            .iter()
            .any(|c| c.contains("TLS") && c.contains("decrypted")),
        "{comments:?}"
    );
}

#[test]
fn http_through_relay_pcap_is_decoded_as_http() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("hello.txt"), "hello from python\n").unwrap();
    let server_script = r#"
import http.server, functools, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
print(httpd.server_address[1], flush=True)
httpd.handle_request()
"#;
    let (_server, port) = python_server(server_script, &[&www.display().to_string()]);
    let (relay, front) = spawn_quietly(&[
        "relay",
        "127.0.0.1:0",
        &format!("127.0.0.1:{port}"),
        "--pcap",
        &path,
    ]);
    let client = Command::new("python3")
        .arg("-c")
        .arg("import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())")
        .arg(format!("http://{front}/hello.txt"))
        .output()
        .expect("python client");
    assert_eq!(
        String::from_utf8_lossy(&client.stdout),
        "hello from python\n"
    );
    stop(relay);

    let http = lines(
        &file,
        &[
            "-Y",
            "http",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "http.request.method",
            "-e",
            "http.request.uri",
            "-e",
            "http.response.code",
        ],
    );
    for stream in ["0", "1"] {
        assert!(
            http.contains(&format!("{stream}\tGET\t/hello.txt\t")),
            "{http:?}"
        );
        assert!(http.contains(&format!("{stream}\t\t\t200")), "{http:?}");
    }
}

#[test]
fn pcap_max_rotates_into_numbered_files_that_each_open() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let (server, addr) = spawn_quietly(&[
        "listen",
        "udp://127.0.0.1:0",
        "-k",
        "--serve",
        "echo",
        "--pcap",
        &path,
        "--pcap-max",
        "4k",
    ]);
    let port = addr.rsplit(':').next().unwrap().to_string();
    let client = r#"
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
for i in range(40):
    s.sendto(b"%03d" % i + b"x" * 297, (host, int(port)))
    s.recvfrom(65536)
"#;
    let status = Command::new("python3")
        .args(["-c", client, &addr])
        .status()
        .unwrap();
    assert!(status.success());
    stop(server);

    let mut files = vec![file.clone()];
    for n in 1.. {
        let next = dir.path().join(format!("capture.pcapng.{n}"));
        if !next.exists() {
            break;
        }
        files.push(next);
    }
    assert!(files.len() > 2, "{files:?}");
    let mut payloads = Vec::new();
    for f in &files {
        let size = std::fs::metadata(f).unwrap().len();
        assert!(size <= 4096, "{} is {size} bytes", f.display());
        payloads.extend(lines(
            f,
            &[
                "-d",
                &format!("udp.port=={port},data"),
                "-T",
                "fields",
                "-e",
                "data.data",
            ],
        ));
    }
    assert_eq!(payloads.len(), 80, "{payloads:?}");
    for (i, pair) in payloads.chunks(2).enumerate() {
        let sent = unhex(&pair[0]);
        assert!(sent.starts_with(format!("{i:03}").as_bytes()));
        assert_eq!(pair[0], pair[1], "the echo of {i}");
    }
}

#[test]
fn a_unix_session_is_raw_bytes_with_a_direction() {
    if !require_tool("tshark") || !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let (file, path) = capture(dir.path());
    let sock = dir.path().join("app.sock");
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen()
print(0, flush=True)
c, _ = s.accept()
c.recv(100)
c.sendall(b"pong")
c.close()
"#;
    let (_server, _) = python_server(script, &[&sock.display().to_string()]);
    let (status, out, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("unix://{}", sock.display()),
            "--send",
            "ping",
            "--pcap",
            &path,
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"pong");
    let packets = lines(
        &file,
        &["-T", "fields", "-e", "frame.p2p_dir", "-e", "data.data"],
    );
    // 0: sent by sockmate, 1: received.
    assert_eq!(packets, ["0\t70696e67", "1\t706f6e67"], "{packets:?}");
}

#[test]
fn a_bad_pcap_path_is_one_line_before_anything_connects() {
    let dir = tempdir();
    let bad = dir.path().join("no/such/folder/capture.pcapng");
    let bad = bad.display().to_string();
    for argv in [
        vec!["connect", "127.0.0.1:9", "--pcap", &bad],
        vec!["relay", "127.0.0.1:0", "127.0.0.1:9", "--pcap", &bad],
    ] {
        let (status, out, err) = run_with_input(sockmate(&argv), b"");
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(out.is_empty());
        let err_lines: Vec<&str> = err.lines().collect();
        assert_eq!(err_lines.len(), 1, "{err}");
        assert!(
            err_lines[0].contains(&format!("cannot create pcap file {bad}"))
                && err_lines[0].contains("folder that exists"),
            "{err}"
        );
    }
    let (status, _, err) = run_with_input(sockmate(&["listen", "0", "--pcap-max", "1m"]), b"");
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("--pcap-max bounds a capture file: add --pcap FILE"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_records_a_pcapng_name_as_a_capture_of_both_ways() {
    use crate::ui::{start_ui, Page};
    use serde_json::json;
    use std::io::{Read, Write};

    if !require_tool("tshark") {
        return;
    }
    let dir = tempdir();
    let records = dir.path().to_str().unwrap();
    let (_ui, host, token) = start_ui(&["ui", "--record-dir", records]);
    let mut page = Page::open(&host, &token).await;
    let r = page
        .call(json!({"cmd": "open", "role": "listen", "endpoint": "tcp://127.0.0.1:0"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let session = r["session"].clone();
    let listening = page
        .until(|m| m["t"] == "ev" && m["e"]["type"] == "listening")
        .await;
    let addr = listening["e"]["endpoint"].as_str().unwrap()["tcp://".len()..].to_string();
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    client
        .set_read_timeout(Some(crate::util::DEADLINE))
        .unwrap();
    let open = page.until(|m| m["e"]["type"] == "open").await;
    // Recording starts with the connection already open.
    let r = page
        .call(json!({"cmd": "record", "session": session, "path": "cap.pcapng"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    client.write_all(b"hello").unwrap();
    page.until(|m| m["e"]["type"] == "data").await;
    let r = page
        .call(json!({"cmd": "send", "session": session, "conn": open["e"]["conn"], "data": "ok", "eol": "crlf"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let mut buf = [0u8; 4];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ok\r\n");
    // The capture sees each event before the page does: once the page has
    // the outgoing data, so has the capture, and stopping cannot cut it off.
    page.until(|m| m["e"]["type"] == "data" && m["e"]["dir"] == "out")
        .await;
    let r = page
        .call(json!({"cmd": "record", "session": session, "path": null}))
        .await;
    assert_eq!(r["ok"], true, "{r}");

    let f = follow(&dir.path().join("cap.pcapng"), "tcp", 0);
    assert_eq!(f.nodes[0], client.local_addr().unwrap().to_string());
    assert_eq!(f.nodes[1], addr);
    assert_eq!(f.sent[0], b"hello");
    assert_eq!(f.sent[1], b"ok\r\n");
}
