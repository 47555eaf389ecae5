//! `sockmate scan`: finds exactly the ports a test opened on 127.0.0.1,
//! reports the others closed, probes UDP, and exits 0/1 by whether any port
//! is open.

use std::net::{TcpListener, UdpSocket};

use crate::util::{run_with_input, sockmate};

/// A port nothing listens on: bound for a moment, then released.
fn closed_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scan_json(args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut all = vec!["scan", "--json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = run_with_input(sockmate(&all), b"");
    let lines: Vec<serde_json::Value> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    // One scan_port line per port, then the scan_done summary; the first
    // line carries the schema version.
    if let Some(first) = lines.first() {
        assert_eq!(first["schema"], 1, "{first}");
    }
    let (done, ports): (Vec<_>, Vec<_>) = lines.into_iter().partition(|l| l["type"] == "scan_done");
    assert!(done.len() <= 1, "{done:?}");
    if let Some(done) = done.first() {
        assert!(done["duration_s"].is_f64(), "{done}");
        assert_eq!(done["ports"], ports.len(), "{done}");
    }
    assert!(ports
        .iter()
        .all(|p| p["type"] == "scan_port" && p["time"].is_string()));
    (status.code(), ports, stderr)
}

#[test]
fn finds_exactly_the_open_ports_in_port_order() {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let open: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let closed = [closed_tcp_port(), closed_tcp_port()];
    let list: Vec<String> = open
        .iter()
        .chain(closed.iter())
        .map(u16::to_string)
        .collect();
    let (code, results, stderr) = scan_json(&["127.0.0.1", &list.join(",")]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut expected: Vec<(u16, &str)> = open
        .iter()
        .map(|&p| (p, "open"))
        .chain(closed.iter().map(|&p| (p, "closed")))
        .collect();
    expected.sort();
    let got: Vec<(u16, String)> = results
        .iter()
        .map(|r| {
            (
                r["port"].as_u64().unwrap() as u16,
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(u16, String)> = expected
        .into_iter()
        .map(|(p, s)| (p, s.to_string()))
        .collect();
    assert_eq!(got, expected);
    assert!(stderr.contains("3 open, 2 closed, 0 filtered"), "{stderr}");

    // --open shows only the open ones, as text.
    let (status, stdout, _) = run_with_input(
        sockmate(&["scan", "127.0.0.1", &list.join(","), "--open"]),
        b"",
    );
    assert!(status.success());
    let text = String::from_utf8(stdout).unwrap();
    let mut sorted = open.clone();
    sorted.sort();
    let shown: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let wanted: Vec<String> = sorted.iter().map(|p| format!("{p}/tcp open")).collect();
    assert_eq!(shown, wanted);
    drop(listeners);
}

#[test]
fn no_open_port_exits_1_with_a_clear_line() {
    let port = closed_tcp_port().to_string();
    let (status, stdout, stderr) = run_with_input(sockmate(&["scan", "127.0.0.1", &port]), b"");
    assert_eq!(status.code(), Some(1));
    assert!(String::from_utf8(stdout)
        .unwrap()
        .contains(&format!("{port}/tcp")));
    assert!(
        stderr.contains("no open tcp port among the 1 scanned"),
        "{stderr}"
    );
}

#[test]
fn udp_echo_is_open_and_an_unbound_udp_port_is_closed() {
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let echo_port = echo.local_addr().unwrap().port();
    echo.set_read_timeout(Some(crate::util::DEADLINE)).unwrap();
    let server = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        if let Ok((n, from)) = echo.recv_from(&mut buf) {
            let _ = echo.send_to(&buf[..n], from);
        }
    });
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let list = format!("{echo_port},{closed}");
    let (code, results, stderr) = scan_json(&[
        "127.0.0.1",
        &list,
        "--udp",
        "--send",
        "ping",
        "--timeout",
        "5s",
    ]);
    server.join().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let state_of = |port: u16| {
        results
            .iter()
            .find(|r| r["port"] == port)
            .map(|r| r["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state_of(echo_port).as_deref(), Some("open"));
    assert_eq!(state_of(closed).as_deref(), Some("closed"));
    assert!(results.iter().all(|r| r["proto"] == "udp"));
}

#[test]
fn bad_port_lists_are_usage_errors() {
    for (ports, needle) in [
        ("0", "port 0"),
        ("80-20", "backwards"),
        ("http", "not a port number"),
    ] {
        let (status, _, stderr) = run_with_input(sockmate(&["scan", "127.0.0.1", ports]), b"");
        assert_eq!(status.code(), Some(2), "{ports}");
        assert!(stderr.contains(needle), "{ports}: {stderr}");
    }
}
