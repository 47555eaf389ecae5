//! One `--json` schema for every command: each command's lines, reduced to
//! their shape (`type: sorted keys`), match a golden file per command in
//! `tests/e2e/golden/json/`, every line has `type` and `time`, the first
//! has `schema`, `peer`/`local` are endpoint URLs, and every type and key
//! is in the table of docs/json-events.md. `SOCKMATE_UPDATE_GOLDEN=1`
//! rewrites the golden files from what the commands print.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::*;

/// The JSON lines a command printed on stdout.
fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// `type: key key …` for each distinct shape, sorted.
fn shapes(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|line| {
            let object = line.as_object().expect("one object a line");
            let kind = object["type"].as_str().expect("type is a string");
            let keys: Vec<&str> = object
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "schema")
                .collect();
            format!("{kind}: {}", keys.join(" "))
        })
        .collect()
}

/// What every command's lines share.
fn check_envelope(command: &str, lines: &[Value]) {
    assert!(!lines.is_empty(), "{command}: no JSON lines");
    assert_eq!(lines[0]["schema"], 1, "{command}: {}", lines[0]);
    for line in lines {
        assert!(line["type"].is_string(), "{command}: {line}");
        assert!(line["time"].is_string(), "{command}: {line}");
        for key in ["peer", "local"] {
            if let Some(url) = line.get(key).and_then(Value::as_str) {
                assert!(url.contains("://"), "{command}: {key} is not a URL: {line}");
                assert!(
                    !url.contains('#'),
                    "{command}: {key} has a connection number: {line}"
                );
            }
        }
    }
    assert!(
        lines[1..].iter().all(|l| l.get("schema").is_none()),
        "{command}: schema only on the first line"
    );
}

fn golden_path(command: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e/golden/json")
        .join(format!("{command}.txt"))
}

/// Compares (or, with `SOCKMATE_UPDATE_GOLDEN=1`, writes) the shapes of a
/// command's lines, and checks them against the docs.
pub(crate) fn golden(command: &str, lines: &[Value]) {
    check_envelope(command, lines);
    let got: Vec<String> = shapes(lines).into_iter().collect();
    let path = golden_path(command);
    if std::env::var_os("SOCKMATE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got.join("\n") + "\n").unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (SOCKMATE_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got, want, "{command}: the JSON shapes changed; if on purpose, update docs/json-events.md and rerun with SOCKMATE_UPDATE_GOLDEN=1");
    documented(command, lines);
}

/// Every type and key of `lines` is in docs/json-events.md's table.
fn documented(command: &str, lines: &[Value]) {
    let docs = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/json-events.md"),
    )
    .unwrap();
    for line in lines {
        let kind = line["type"].as_str().unwrap();
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{kind}` |")))
            .unwrap_or_else(|| panic!("{command}: type {kind} has no row in docs/json-events.md"));
        for key in line.as_object().unwrap().keys() {
            let shared = ["type", "time", "schema"].contains(&key.as_str());
            assert!(
                shared || row.contains(&format!("`{key}`")),
                "{command}: key {key} of {kind} is not in its docs/json-events.md row: {row}"
            );
        }
    }
}

#[test]
fn connect_and_listen_lines_have_one_shape() {
    let (server, addr) = serve_quietly(&["127.0.0.1:0", "--serve", "echo"]);
    let (status, out, err) = run_with_input(
        sockmate(&["connect", &addr, "--json", "--wait", "1s"]),
        b"hello\n",
    );
    assert!(status.success(), "{err}");
    golden("connect", &lines(&out));
    server.signal("TERM");

    let mut listener = Proc::spawn(sockmate(&["listen", "127.0.0.1:0", "--json"]));
    let addr = listener.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(b"hi\n").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    listener.close_stdin();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    drop(client);
    assert!(listener.wait().success());
    golden("listen", &lines(&listener.read_stdout_to_end()));
}

#[test]
fn a_refused_connect_prints_an_error_line() {
    let port = free_port();
    let (status, out, err) = run_with_input(
        sockmate(&["connect", &format!("127.0.0.1:{port}"), "--json"]),
        b"",
    );
    assert_eq!(status.code(), Some(1), "{err}");
    let lines = lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["kind"], "refused", "{}", lines[0]);
    assert_eq!(lines[0]["peer"], format!("tcp://127.0.0.1:{port}"));
    golden("connect_refused", &lines);
    // The status line is said once, not twice.
    assert_eq!(our_stderr_lines(&err).len(), 1, "{err}");
}

#[test]
fn relay_lines_name_the_client_by_url() {
    let (server, target) = serve_quietly(&["127.0.0.1:0", "--serve", "echo"]);
    let mut relay = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &target, "--json"]));
    let addr = relay.listening_addr();
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(b"ping").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    client.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"ping");
    drop(client);
    relay.wait_line("closed");
    relay.signal("TERM");
    relay.wait();
    golden("relay", &lines(&relay.read_stdout_to_end()));
    server.signal("TERM");
}

#[test]
fn transfer_scan_and_bench_share_the_envelope() {
    let dir = tempdir();
    let file = dir.path().join("f.txt");
    std::fs::write(&file, b"hello").unwrap();
    let inbox = dir.path().join("in");
    std::fs::create_dir(&inbox).unwrap();
    let mut receiver = Proc::spawn(sockmate(&[
        "receive",
        "127.0.0.1:0",
        "--dir",
        inbox.to_str().unwrap(),
        "--json",
    ]));
    let addr = receiver.listening_addr();
    let (status, out, err) = run_with_input(
        sockmate(&["send", &addr, file.to_str().unwrap(), "--json"]),
        b"",
    );
    assert!(status.success(), "{err}");
    golden("send", &lines(&out));
    assert!(receiver.wait().success());
    golden("receive", &lines(&receiver.read_stdout_to_end()));

    let (server, addr) = serve_quietly(&["127.0.0.1:0", "-k", "--serve", "echo"]);
    let port = addr.rsplit(':').next().unwrap();
    let closed = free_port().to_string();
    let (_, out, err) = run_with_input(
        sockmate(&["scan", "127.0.0.1", &format!("{port},{closed}"), "--json"]),
        b"",
    );
    let scan = lines(&out);
    assert_eq!(scan.last().unwrap()["type"], "scan_done", "{err}");
    golden("scan", &scan);

    let (status, out, err) = run_with_input(
        sockmate(&["bench", &addr, "--duration", "300ms", "--json"]),
        b"",
    );
    assert!(status.success(), "{err}");
    let bench = lines(&out);
    assert_eq!(bench[0]["bytes_out"], bench[0]["bytes_sent"]);
    golden("bench", &bench);
    server.signal("TERM");
}
