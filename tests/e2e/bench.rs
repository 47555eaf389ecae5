//! Issue 5: `sockmate bench` — echo against a real echo service, JSON,
//! merge, and the open-loop scheduler.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::relay::tcp_echo_server;
use crate::util::*;

fn bench_json(args: &[&str]) -> Value {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--json");
    let (status, out, err) = run_with_input(sockmate(&all), b"");
    assert!(status.success(), "bench failed: {err}");
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

/// `socat PIPE` as a TCP echo server (a peer we did not write); its
/// process and address.
fn socat_pipe_echo() -> (Proc, String) {
    let mut cmd = std::process::Command::new("socat");
    cmd.args(["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,fork", "PIPE"]);
    let mut socat = Proc::spawn(cmd);
    let line = socat.wait_line("listening on");
    let port = line.rsplit(':').next().unwrap().trim().to_string();
    (socat, format!("127.0.0.1:{port}"))
}

/// A Unix stream echo server at `path`, a thread per client.
fn unix_echo_server(path: &str) {
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { break };
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut s);
            });
        }
    });
}

/// Every message of `report` came back whole, `size` bytes each, and was
/// counted once, with no error.
fn assert_whole_echoes(report: &Value, size: u64, what: &str) {
    assert!(report["messages"].as_u64().unwrap() > 0, "{what}: {report}");
    assert_eq!(report["errors"], 0, "{what}: {report}");
    assert_eq!(
        report["bytes_received"].as_u64().unwrap(),
        report["messages"].as_u64().unwrap() * size,
        "{what}: {report}"
    );
    assert_eq!(report["latency_us"]["count"], report["messages"], "{what}");
}

#[test]
fn echo_for_two_seconds_gives_messages_and_ordered_percentiles() {
    let server = tcp_echo_server();
    let report = bench_json(&[&server, "--duration", "2s", "--connections", "2"]);
    assert!(report["messages"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    let lat = &report["latency_us"];
    let (p50, p99) = (lat["p50"].as_f64().unwrap(), lat["p99"].as_f64().unwrap());
    assert!(p50 > 0.0 && p50 <= p99, "p50 {p50} p99 {p99}");
    assert_eq!(lat["count"], report["messages"]);
    assert_eq!(
        report["bytes_received"].as_u64().unwrap(),
        report["messages"].as_u64().unwrap() * 64
    );
}

#[test]
fn echo_against_socat_with_pipeline_and_human_table() {
    if !require_tool("socat") {
        return;
    }
    let (_socat, tcp) = socat_pipe_echo();
    let (status, out, err) = run_with_input(
        sockmate(&["bench", &tcp, "-d", "1s", "--pipeline", "4"]),
        b"",
    );
    assert!(status.success(), "{err}");
    let table = String::from_utf8(out).unwrap();
    assert!(table.contains("closed loop, pipeline 4"), "{table}");
    assert!(table.contains("p99.9"), "{table}");
}

#[test]
fn merge_adds_counts() {
    let server = tcp_echo_server();
    let dir = tempdir();
    let mut files = Vec::new();
    let mut messages = 0;
    for name in ["a.json", "b.json"] {
        let report = bench_json(&[&server, "-d", "1s"]);
        messages += report["messages"].as_u64().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, report.to_string()).unwrap();
        files.push(path);
    }
    let a = files[0].to_str().unwrap();
    let b = files[1].to_str().unwrap();
    let merged = bench_json(&["merge", a, b]);
    assert_eq!(merged["messages"].as_u64().unwrap(), messages);
    assert_eq!(merged["latency_us"]["count"].as_u64().unwrap(), messages);
    assert_eq!(merged["sources"], 2);
    // A file that is not a report gets one line naming it.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let (status, _, err) =
        run_with_input(sockmate(&["bench", "merge", a, bad.to_str().unwrap()]), b"");
    assert!(!status.success());
    assert!(
        err.contains("bad.json: not a `sockmate bench --json` report"),
        "{err}"
    );
}

#[test]
fn open_loop_rate_holds_within_five_percent() {
    let server = tcp_echo_server();
    let report = bench_json(&[
        &server,
        "--rate",
        "200",
        "--duration",
        "2s",
        "--connections",
        "2",
    ]);
    let achieved = report["msgs_per_s"].as_f64().unwrap();
    assert!(
        (achieved - 200.0).abs() <= 10.0,
        "open loop at 200 msgs/s achieved {achieved}: {report}"
    );
    assert_eq!(report["errors"], 0);
}

#[test]
fn udp_and_unix_echo() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    let report = bench_json(&[&format!("udp://{addr}"), "-d", "1s"]);
    assert!(report["messages"].as_u64().unwrap() > 0, "{report}");

    let dir = tempdir();
    let path = sock_path(dir.path(), "echo.sock");
    unix_echo_server(&path);
    let report = bench_json(&[
        &format!("unix://{path}"),
        "-d",
        "1s",
        "-m",
        "send",
        "-s",
        "4096",
    ]);
    assert!(report["bytes_sent"].as_u64().unwrap() > 0, "{report}");
    assert!(Path::new(&path).exists());
}

#[test]
fn bench_against_nothing_fails_with_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = sockmate(&["bench", &format!("127.0.0.1:{port}"), "-d", "1s"]);
    cmd.stdin(Stdio::null());
    let (status, _, err) = run_with_input(cmd, b"");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("connection refused"), "{err}");
}

/// `bench` over `tls://` (pinned self-signed) and `ws://` against sockmate
/// echo servers: every echo comes back whole.
#[test]
fn echo_over_tls_and_ws() {
    for (endpoint, tls) in [("tls://127.0.0.1:0", true), ("ws://127.0.0.1:0", false)] {
        let mut cmd = sockmate(&["listen", endpoint, "-k", "--serve", "echo"]);
        cmd.stdout(Stdio::null());
        let mut server = Proc::spawn_configured(cmd);
        let (real, pin) = if tls {
            listening_tls(&mut server)
        } else {
            (server.listening(), String::new())
        };
        let mut args = vec![real.as_str(), "--duration", "500ms", "--connections", "2"];
        if tls {
            args.extend(["--pin", pin.as_str()]);
        }
        let report = bench_json(&args);
        assert!(
            report["messages"].as_u64().unwrap() > 0,
            "{endpoint}: {report}"
        );
        assert_eq!(report["errors"], 0, "{endpoint}: {report}");
        assert_eq!(
            report["bytes_received"].as_u64().unwrap(),
            report["messages"].as_u64().unwrap() * 64,
            "{endpoint}: {report}"
        );
    }
}

/// Issue 15: open loop on the sub-millisecond pacer. What `--rate` sends in
/// the measured window is bounded by the plan itself (the due times that
/// fall in it), whatever the timing: never more, and on a working pacer
/// nearly all of them; every reply counted is one of those sends. Three
/// connections on at most two worker threads, so connections share a
/// pacer.
#[test]
fn open_loop_sends_what_the_plan_schedules() {
    use sockmate::bench::plan::Plan;
    use std::time::Duration;

    let (rate, connections, warmup, duration) = (2000.0, 3usize, 0.2, 1.0);
    let start = tokio::time::Instant::now();
    let planned: u64 = (0..connections)
        .map(|i| {
            let plan = Plan::new(
                start,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(duration),
                Some(rate),
                connections,
                i,
            );
            let mut n = 0u64;
            for seq in 0.. {
                let Some(due) = plan.due(seq) else { break };
                if due >= plan.end {
                    break;
                }
                n += u64::from(plan.measured(due));
            }
            n
        })
        .sum();
    // 2000 msgs/s over the 0.8 s measured.
    assert_eq!(planned, 1600);

    let server = tcp_echo_server();
    let report = bench_json(&[
        &server,
        "--rate",
        "2000",
        "--connections",
        "3",
        "--warmup",
        "200ms",
        "--duration",
        "1s",
    ]);
    let sent = report["bytes_sent"].as_u64().unwrap() / 64;
    let messages = report["messages"].as_u64().unwrap();
    assert!(sent <= planned, "sent {sent} > planned {planned}: {report}");
    // A loose floor, so a loaded test machine that stalls the run near its
    // end cannot fail it: a pacer that loses due times loses far more.
    assert!(sent >= planned / 2, "sent {sent} of {planned}: {report}");
    assert!(messages <= sent, "{report}");
    assert!(messages > 0, "{report}");
    assert_eq!(report["latency_us"]["count"], report["messages"]);
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["rate"].as_f64(), Some(rate));
}

/// One connection on its own worker thread with one message in flight runs
/// in blocking calls (`bench::pingpong`); a message above its size bound,
/// or a pipeline, runs on the runtime. Each way, against socat (TCP), a
/// thread echoing a Unix socket and sockmate over TLS, every echo comes
/// back whole and is counted once.
#[test]
fn one_connection_in_flight_echoes_whole_over_tcp_unix_and_tls() {
    if !require_tool("socat") {
        return;
    }
    let (_socat, tcp) = socat_pipe_echo();
    // 16384 is the blocking path's largest message, 16385 the smallest
    // that is not; `-p 2` keeps two in flight.
    for extra in [
        &["-s", "64"][..],
        &["-s", "16384"],
        &["-s", "16385"],
        &["-p", "2"],
    ] {
        let mut args = vec![tcp.as_str(), "-c", "1", "-d", "600ms", "--warmup", "100ms"];
        args.extend_from_slice(extra);
        let report = bench_json(&args);
        let size = report["size"].as_u64().unwrap();
        assert_whole_echoes(&report, size, &format!("{extra:?}"));
    }
    // Unix sockets: not on the Windows build.
    if !windows_build() {
        let dir = tempdir();
        let path = sock_path(dir.path(), "echo.sock");
        unix_echo_server(&path);
        let report = bench_json(&[&format!("unix://{path}"), "-c", "1", "-d", "500ms"]);
        assert_whole_echoes(&report, 64, "unix");
    }
    let mut cmd = sockmate(&["listen", "tls://127.0.0.1:0", "-k", "--serve", "echo"]);
    cmd.stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let (real, pin) = listening_tls(&mut server);
    for size in ["64", "16384"] {
        let report = bench_json(&[&real, "--pin", &pin, "-c", "1", "-s", size, "-d", "500ms"]);
        assert_whole_echoes(&report, size.parse().unwrap(), "tls");
    }
}

/// A server that answers fifty messages and hangs up: each connection
/// counts its fifty and one failure, in blocking calls (one connection)
/// and on the runtime (three), and the run ends there. A server that
/// never answers: the run still ends at its duration, nothing counted.
#[test]
fn a_server_that_hangs_up_or_never_answers_ends_the_run_cleanly() {
    let hangs_up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = hangs_up.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in hangs_up.incoming() {
            let Ok(mut s) = s else { break };
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut message = [0u8; 64];
                for _ in 0..50 {
                    if s.read_exact(&mut message).is_err() || s.write_all(&message).is_err() {
                        return;
                    }
                }
            });
        }
    });
    for connections in [1u64, 3] {
        let c = connections.to_string();
        let report = bench_json(&[&addr, "-c", &c, "-d", "5s", "--warmup", "0s"]);
        assert_eq!(
            report["messages"].as_u64(),
            Some(50 * connections),
            "{report}"
        );
        assert_eq!(report["errors"].as_u64(), Some(connections), "{report}");
    }

    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let report = bench_json(&[&addr, "-c", "1", "-d", "400ms", "--warmup", "0s"]);
    assert_eq!(report["messages"], 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["bytes_sent"], 64, "{report}");
}
