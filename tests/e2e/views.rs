//! Issue 3: encodings, hex, timestamps, JSON events, transcripts, sending,
//! auto-send and reconnect — against real peers on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};

use crate::util::*;

/// A Python TCP server on 127.0.0.1:0 running `body` for one client `c`;
/// prints its port first. Returns the process and the port.
fn python_server(body: &str) -> Option<(Proc, u16)> {
    if !require_tool("python3") {
        return None;
    }
    let script = format!(
        "import socket,sys,time\nl=socket.socket()\nl.bind(('127.0.0.1',0))\nl.listen(1)\nprint(l.getsockname()[1],flush=True)\nc,_=l.accept()\n{body}\n"
    );
    let mut cmd = Command::new("python3");
    cmd.args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut proc = Proc::spawn_configured(cmd);
    let mut first = String::new();
    BufReader::new(proc.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first.trim().parse().expect("python port");
    Some((proc, port))
}

fn python_output(proc: &mut Proc) -> Vec<u8> {
    proc.read_stdout_to_end()
}

/// Python reads to EOF and prints what it got, as hex.
const READ_ALL_HEX: &str =
    "d=b''\nwhile True:\n    b=c.recv(4096)\n    if not b: break\n    d+=b\nprint(d.hex())";

fn round_trip_codec(codec: &str, label: &str, text: &str) {
    // Received: the device sends `text` in `codec`; sockmate shows UTF-8.
    let body = format!("c.sendall({text:?}.encode('{codec}'))\nc.close()");
    let Some((_server, port)) = python_server(&body) else {
        return;
    };
    let (status, out, err) = run_with_input(
        sockmate(&["connect", &format!("127.0.0.1:{port}"), "--encoding", label]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), text, "{label} decode");

    // Sent: --send text is encoded with the label before it goes out.
    let Some((mut server, port)) = python_server(READ_ALL_HEX) else {
        return;
    };
    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--encoding",
            label,
            "--send",
            text,
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    let hex = String::from_utf8(python_output(&mut server)).unwrap();
    let check = Command::new("python3")
        .args([
            "-c",
            &format!("import sys;sys.stdout.write({text:?}.encode('{codec}').hex())"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        hex.trim(),
        String::from_utf8(check.stdout).unwrap(),
        "{label} encode"
    );
}

#[test]
fn gbk_both_ways_against_python() {
    round_trip_codec("gbk", "gbk", "你好，世界！温度=25℃\n");
}

#[test]
fn big5_and_shift_jis_round_trips() {
    round_trip_codec("big5", "big5", "繁體中文測試\n");
    round_trip_codec("shift_jis", "shift_jis", "日本語のテキスト\n");
}

#[test]
fn typed_lines_are_encoded_in_line_mode() {
    let Some((mut server, port)) = python_server(READ_ALL_HEX) else {
        return;
    };
    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--encoding",
            "gbk",
            "--lines",
            "--eol",
            "crlf",
        ]),
        "中文\n第二行\n".as_bytes(),
    );
    assert!(status.success(), "{err}");
    let hex = String::from_utf8(python_output(&mut server)).unwrap();
    assert_eq!(hex.trim(), "d6d0cec40d0ab5dab6fed0d00d0a");
}

#[test]
fn multibyte_character_split_across_two_writes_decodes_as_one() {
    // 中 in GBK is d6 d0: the two bytes go in two writes with a pause.
    let body = "c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\nc.sendall(b'\\xd6')\ntime.sleep(0.3)\nc.sendall(b'\\xd0!')\nc.close()";
    let Some((_server, port)) = python_server(body) else {
        return;
    };
    let (status, out, err) = run_with_input(
        sockmate(&["connect", &format!("127.0.0.1:{port}"), "--encoding", "gbk"]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8(out).unwrap(), "中!");
}

/// A GBK peer that sends 中 (`d6 d0`) split across two writes 300 ms apart,
/// then `!`, then closes.
const SPLIT_GBK_PEER: &str = "c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\nc.sendall(b'\\xd6')\ntime.sleep(0.3)\nc.sendall(b'\\xd0!')\nc.close()";

/// Runs `sockmate connect --encoding gbk VIEW…` against [`SPLIT_GBK_PEER`]
/// and returns its stdout, checked to hold no U+FFFD (`None`: no python3).
fn split_gbk_view(view: &[&str]) -> Option<String> {
    let (_server, port) = python_server(SPLIT_GBK_PEER)?;
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["connect", addr.as_str(), "--encoding", "gbk"];
    args.extend_from_slice(view);
    let (status, out, err) = run_with_input(sockmate(&args), b"");
    assert!(status.success(), "{view:?}: {err}");
    let out = String::from_utf8(out).expect("views write UTF-8");
    assert!(
        !out.contains('\u{fffd}') && !out.to_ascii_lowercase().contains("\\ufffd"),
        "{view:?} shows a replacement character:\n{out}"
    );
    Some(out)
}

#[test]
fn json_text_decodes_a_character_split_across_reads() {
    let Some(out) = split_gbk_view(&["--json"]) else {
        return;
    };
    let mut text = String::new();
    for line in out.lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
        if event["type"] == "data" && event["dir"] == "in" {
            text.push_str(event["text"].as_str().expect("text field"));
        }
    }
    assert_eq!(text, "中!", "{out}");
}

#[test]
fn timestamped_text_decodes_a_character_split_across_reads() {
    let Some(out) = split_gbk_view(&["-t"]) else {
        return;
    };
    let re = regex::Regex::new(r"^\[\d\d:\d\d:\d\d\.\d{3}\] 127\.0\.0\.1:\d+ < ?(.*)$").unwrap();
    let text: String = out
        .lines()
        .map(|l| {
            let c = re.captures(l).unwrap_or_else(|| panic!("bad line {l:?}"));
            c[1].to_string()
        })
        .collect();
    assert_eq!(text, "中!", "{out}");
}

#[test]
fn hex_dump_text_decodes_a_character_split_across_reads() {
    let Some(out) = split_gbk_view(&["--hex", "--text"]) else {
        return;
    };
    let text: String = out
        .lines()
        .filter_map(|l| l.strip_prefix("    text: "))
        .collect();
    assert_eq!(text, "中!", "{out}");
    assert!(out.contains("d6"), "{out}");
}

#[test]
fn undecodable_bytes_show_replacement_and_never_crash() {
    let body = "c.sendall(b'ok \\xff\\xfe\\x81 end')\nc.close()";
    let Some((_server, port)) = python_server(body) else {
        return;
    };
    let (status, out, _) = run_with_input(
        sockmate(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--encoding",
            "utf-8",
        ]),
        b"",
    );
    assert!(status.success());
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("ok \u{fffd}") && text.ends_with(" end"),
        "{text}"
    );
}

#[test]
fn unknown_encoding_and_bad_hex_exit_2() {
    let (status, _, err) = run_with_input(
        sockmate(&["connect", "127.0.0.1:1", "--encoding", "klingon"]),
        b"",
    );
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("unknown encoding \"klingon\"") && err.contains("gbk"),
        "{err}"
    );
    let (status, _, err) = run_with_input(
        sockmate(&["connect", "127.0.0.1:1", "--send-hex", "48 6x 6c"]),
        b"",
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("bad hex \"6x\" at position 3"), "{err}");
    let (status, _, err) = run_with_input(
        sockmate(&["connect", "127.0.0.1:1", "--send", "bad \\q escape"]),
        b"",
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("bad escape \"\\q\" at position 4"), "{err}");
}

/// Replaces every `127.0.0.1:PORT` with `PEER`.
fn normalise_peers(text: &str) -> String {
    let re = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    re.replace_all(text, "PEER").into_owned()
}

#[test]
fn hex_dump_matches_golden_file() {
    let mut server = Proc::spawn(sockmate(&["listen", "0", "--hex", "--text"]));
    let addr = server.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    let message = b"Hello, hex view!\n\x00\x01\x02\x7f\x80\xfe\xff tail".to_vec();
    client.write_all(&message).unwrap();
    drop(client);
    server.close_stdin();
    let out = String::from_utf8(server.read_stdout_to_end()).unwrap();
    let golden = include_str!("../golden/hexdump.txt");
    assert_eq!(normalise_peers(&out), golden);
}

#[test]
fn json_lines_carry_the_schema_and_byte_counts() {
    let mut server = Proc::spawn(sockmate(&["listen", "0", "--json"]));
    let addr = server.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(b"ping!").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    server.write_stdin(b"pong");
    server.close_stdin();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"pong");
    assert!(server.wait().success());
    let out = String::from_utf8(server.read_stdout_to_end()).unwrap();
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect();
    for e in &events {
        let time = e["time"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
        assert_eq!(
            time.split('.').nth(1).map(|f| f.len() >= 3),
            Some(true),
            "ms in {time}"
        );
    }
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[..2], ["listening", "open"]);
    assert_eq!(types.last(), Some(&"close"));
    let data_in = events
        .iter()
        .find(|e| e["type"] == "data" && e["dir"] == "in")
        .unwrap();
    assert_eq!(data_in["len"], 5);
    assert_eq!(data_in["text"], "ping!");
    assert_eq!(data_in["hex"], "70696e6721");
    assert_eq!(data_in["conn"], 1);
    assert!(data_in["peer"]
        .as_str()
        .unwrap()
        .starts_with("tcp://127.0.0.1:"));
    let data_out = events
        .iter()
        .find(|e| e["type"] == "data" && e["dir"] == "out")
        .unwrap();
    assert_eq!(data_out["text"], "pong");
    let close = events.last().unwrap();
    assert_eq!(close["bytes_in"], 5);
    assert_eq!(close["bytes_out"], 4);
}

#[test]
fn timestamps_view_tags_direction_and_peer() {
    let mut server = Proc::spawn(sockmate(&["listen", "0", "-t"]));
    let addr = server.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(b"hello there\n").unwrap();
    server.write_stdin(b"general kenobi\n");
    let mut buf = [0u8; 15];
    client.read_exact(&mut buf).unwrap();
    drop(client);
    server.close_stdin();
    let out = String::from_utf8(server.read_stdout_to_end()).unwrap();
    let re =
        regex::Regex::new(r"^\[\d\d:\d\d:\d\d\.\d{3}\] 127\.0\.0\.1:\d+ ([<>]) (.*)$").unwrap();
    let lines: Vec<(String, String)> = out
        .lines()
        .map(|l| {
            let c = re.captures(l).unwrap_or_else(|| panic!("bad line {l:?}"));
            (c[1].to_string(), c[2].to_string())
        })
        .collect();
    assert!(lines.contains(&("<".into(), "hello there".into())), "{out}");
    assert!(
        lines.contains(&(">".into(), "general kenobi".into())),
        "{out}"
    );
}

#[test]
fn interval_and_count_deliver_exactly_twenty_messages_tcp_and_udp() {
    // TCP: count lines at a plain server.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (status, _, err) = {
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(DEADLINE)).unwrap();
            let mut all = Vec::new();
            let _ = s.read_to_end(&mut all);
            all
        });
        let r = run_with_input(
            sockmate(&[
                "connect",
                &addr,
                "--send",
                "tick",
                "--eol",
                "lf",
                "--interval",
                "50ms",
                "--count",
                "20",
                "--wait",
                "100ms",
            ]),
            b"",
        );
        let got = handle.join().unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), "tick\n".repeat(20));
        r
    };
    assert!(status.success(), "{err}");

    // UDP: count datagrams.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let mut client = Proc::spawn(sockmate(&[
        "connect",
        &format!("udp://{addr}"),
        "--send-hex",
        "aa 55",
        "--interval",
        "50ms",
        "--count",
        "20",
    ]));
    let mut got = 0;
    let mut buf = [0u8; 64];
    while let Ok(n) = socket.recv(&mut buf) {
        assert_eq!(&buf[..n], [0xaa, 0x55]);
        got += 1;
    }
    assert_eq!(got, 20);
    assert!(client.wait().success());
}

#[test]
fn reconnect_survives_a_server_restart_on_the_same_port() {
    let mut first = Proc::spawn(sockmate(&["listen", "0", "-k", "-q"]));
    let ep = first.listening();
    let mut client = Proc::spawn(sockmate(&[
        "connect",
        &ep,
        "--reconnect",
        "--reconnect-max",
        "200ms",
        "--send",
        "beat\\n",
        "--interval",
        "50ms",
    ]));
    let mut out = first.stdout.take().unwrap();
    let mut buf = [0u8; 5];
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"beat\n");
    first.signal("TERM");
    assert_eq!(first.wait().code(), Some(143));
    client.wait_line("reconnecting to");
    let mut second = Proc::spawn(sockmate(&["listen", &ep, "-k", "-q"]));
    assert_eq!(second.listening(), ep);
    let mut out = second.stdout.take().unwrap();
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"beat\n");
    client.wait_line("reconnected to");
    client.signal("INT");
    assert_eq!(client.wait().code(), Some(130));
}

#[test]
fn log_file_and_stats_match_the_traffic() {
    let dir = tempdir();
    let log = dir.path().join("session.log");
    let log_s = log.to_string_lossy().into_owned();
    let mut server = Proc::spawn(sockmate(&["listen", "0", "--log", &log_s, "--stats"]));
    let addr = server.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(b"12345").unwrap();
    client.flush().unwrap();
    let mut got = [0u8; 5];
    // Wait until the server has the bytes before answering.
    let mut out = server.stdout.take().unwrap();
    out.read_exact(&mut got).unwrap();
    server.write_stdin(b"abc");
    let mut reply = [0u8; 3];
    client.read_exact(&mut reply).unwrap();
    drop(client);
    server.close_stdin();
    assert!(server.wait().success());
    let stderr = server.drain_stderr().join("\n");
    let total = stderr
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let fields: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(&fields[fields.len() - 4..], ["5", "3", "1", "1"], "{total}");
    let transcript = std::fs::read_to_string(&log).unwrap();
    assert!(transcript.contains("listening on tcp://"), "{transcript}");
    assert!(transcript.contains("connected: 127.0.0.1:"), "{transcript}");
    assert!(
        regex::Regex::new(r"\] 127\.0\.0\.1:\d+ < 12345")
            .unwrap()
            .is_match(&transcript),
        "{transcript}"
    );
    assert!(
        regex::Regex::new(r"\] 127\.0\.0\.1:\d+ > abc")
            .unwrap()
            .is_match(&transcript),
        "{transcript}"
    );
    assert!(transcript.contains("closed: 127.0.0.1:"), "{transcript}");
}

#[test]
fn views_work_on_udp_and_unix_too() {
    // UDP listen with --json, a plain UDP client.
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        "udp://127.0.0.1:0",
        "--json",
        "--send",
        "welcome",
        "--count",
        "1",
    ]));
    let addr = server.listening_addr();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.send_to(b"hi", &addr).unwrap();
    let mut buf = [0u8; 64];
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"welcome");
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    let mut seen_in = false;
    let mut seen_out = false;
    while !(seen_in && seen_out) {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "data" {
            seen_in |= v["dir"] == "in" && v["text"] == "hi";
            seen_out |= v["dir"] == "out" && v["text"] == "welcome";
        }
    }
    // Unix stream with --hex on connect.
    let dir = tempdir();
    let path = sock_path(dir.path(), "v.sock");
    let mut unix_server = Proc::spawn(sockmate(&["listen", &format!("unix://{path}")]));
    unix_server.listening();
    let (status, out, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("unix://{path}"),
            "--hex",
            "--send-hex",
            "de ad be ef",
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("> 4 bytes") && out.contains("de ad be ef"),
        "{out}"
    );
}
