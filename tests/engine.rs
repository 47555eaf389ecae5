//! The engine driven in-process, as the browser UI and other programs will:
//! no binary, real sockets on loopback, events read from the engine's
//! event stream.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use sockmate::endpoint::Endpoint;
use sockmate::engine::{ConnectConfig, Engine, InputFactory, ListenConfig};
use sockmate::event::bus::Subscriber;
use sockmate::event::{Direction, Event, EventKind};
use sockmate::session::Input;
use sockmate::shutdown::Shutdown;
use tokio::sync::mpsc;

const DEADLINE: Duration = Duration::from_secs(20);

fn listen_config(endpoint: &str, keep_open: bool) -> ListenConfig {
    ListenConfig::new(Endpoint::parse_listen(endpoint).unwrap()).keep_open(keep_open)
}

/// A relay from a free loopback port to `target`, splicing, no limits.
fn relay_to(target: std::net::SocketAddr) -> sockmate::relay::RelayConfig {
    sockmate::relay::RelayConfig::new(
        Endpoint::parse_listen("127.0.0.1:0").unwrap(),
        format!("tcp://{target}").parse().unwrap(),
    )
}

/// Waits for the next event matching `want`, skipping others.
async fn next_event(rx: &mut Subscriber, want: impl Fn(&EventKind) -> bool) -> Event {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let event = rx.recv().await.expect("event stream ended");
            if want(&event.kind) {
                return event;
            }
        }
    })
    .await
    .expect("event within the deadline")
}

fn read_exact(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).unwrap();
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_send_and_close_reach_only_the_named_client() {
    let engine = Engine::new(Shutdown::new());
    let mut rx = engine.subscribe();
    let handle = engine
        .listen(listen_config("127.0.0.1:0", true), InputFactory::Nothing)
        .await
        .unwrap();
    let addr = handle.local_addr().to_string().replace("tcp://", "");
    let mut a = TcpStream::connect(&addr).unwrap();
    let a_open = next_event(&mut rx, |k| matches!(k, EventKind::Open { .. })).await;
    let mut b = TcpStream::connect(&addr).unwrap();
    let b_open = next_event(&mut rx, |k| matches!(k, EventKind::Open { .. })).await;
    let id_of = |e: &Event| match &e.kind {
        EventKind::Open { conn, .. } => conn.id,
        _ => unreachable!(),
    };
    let (id_a, id_b) = (id_of(&a_open), id_of(&b_open));
    assert_ne!(id_a, id_b);
    assert_eq!(handle.connections().len(), 2);

    handle.send(id_b, Bytes::from_static(b"hi")).await.unwrap();
    assert_eq!(read_exact(&mut b, 2), b"hi");
    // Client a got nothing: it can still be written to and read from.
    a.write_all(b"from a").unwrap();
    // Both moves are reported, in whichever order they happened.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let data = next_event(&mut rx, |k| matches!(k, EventKind::Data { .. })).await;
        if let EventKind::Data {
            conn, dir, bytes, ..
        } = data.kind
        {
            seen.push((conn.id, dir, bytes.to_vec()));
        }
    }
    seen.sort_by_key(|(id, _, _)| *id);
    let mut want = vec![
        (id_b, Direction::Out, b"hi".to_vec()),
        (id_a, Direction::In, b"from a".to_vec()),
    ];
    want.sort_by_key(|(id, _, _)| *id);
    assert_eq!(seen, want);

    handle.close(id_a).unwrap();
    let closed = next_event(&mut rx, |k| matches!(k, EventKind::Close { .. })).await;
    let EventKind::Close { conn, counters, .. } = closed.kind else {
        unreachable!()
    };
    assert_eq!(conn.id, id_a);
    assert_eq!(counters.bytes_in, 6);
    assert_eq!(counters.bytes_out, 0);
    a.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut rest = Vec::new();
    a.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "a got {rest:?}");
    // b is still served.
    assert_eq!(handle.connections().len(), 1);
    handle
        .send(id_b, Bytes::from_static(b"still"))
        .await
        .unwrap();
    assert_eq!(read_exact(&mut b, 5), b"still");
    assert!(handle.send(id_a, Bytes::from_static(b"x")).await.is_err());

    handle.stop();
    handle.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_sends_its_input_channel_and_half_closes_at_its_end() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(b"reply after EOF").unwrap();
        got
    });
    let engine = Engine::new(Shutdown::new());
    let mut rx = engine.subscribe();
    let (tx, input) = mpsc::channel(4);
    let cfg = ConnectConfig::new(format!("tcp://{addr}").parse().unwrap());
    let handle = engine.connect(cfg, Input::Channel(input)).await.unwrap();
    tx.send(Bytes::from_static(b"one ")).await.unwrap();
    tx.send(Bytes::from_static(b"two")).await.unwrap();
    drop(tx);
    let closed = next_event(&mut rx, |k| matches!(k, EventKind::Close { .. })).await;
    let EventKind::Close { counters, .. } = closed.kind else {
        unreachable!()
    };
    assert_eq!(counters.bytes_out, 7);
    assert_eq!(counters.bytes_in, 15);
    handle.finished().await.unwrap();
    assert_eq!(server.join().unwrap(), b"one two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_carries_bytes_and_half_close() {
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = target.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(b"done").unwrap();
        got
    });
    let engine = Engine::new(Shutdown::new());
    let handle = engine.relay(relay_to(target_addr)).await.unwrap();
    let addr = handle.local_addr().to_string().replace("tcp://", "");
    let reply = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"through the relay").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut reply = Vec::new();
        c.read_to_end(&mut reply).unwrap();
        reply
    })
    .await
    .unwrap();
    assert_eq!(reply, b"done");
    assert_eq!(server.join().unwrap(), b"through the relay");
    handle.stop();
    handle.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_does_not_slow_the_socket() {
    let engine = Engine::new(Shutdown::new());
    // Subscribed (so every data event is produced and offered to it) and
    // never read: 20 MB still echo through, far more than its queue holds.
    let _idle = engine.subscribe();
    let mut cfg = listen_config("127.0.0.1:0", true);
    let mut echo = sockmate::service::ServiceConfig::serving(sockmate::service::Serve::Echo);
    echo.max_frame = 1 << 20;
    cfg.service = Some(echo);
    let handle = engine.listen(cfg, InputFactory::Nothing).await.unwrap();
    let addr = handle.local_addr().to_string().replace("tcp://", "");
    const TOTAL: usize = 20 << 20;
    let echoed = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        let mut reader = c.try_clone().unwrap();
        let back = std::thread::spawn(move || {
            reader.set_read_timeout(Some(DEADLINE)).unwrap();
            let mut got = 0usize;
            let mut buf = vec![0u8; 64 * 1024];
            while got < TOTAL {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            got
        });
        let chunk = vec![7u8; 64 * 1024];
        for _ in 0..TOTAL / chunk.len() {
            c.write_all(&chunk).unwrap();
        }
        back.join().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(echoed, TOTAL);
    handle.stop();
    handle.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_open_data_and_close_with_counts() {
    let engine = Engine::new(Shutdown::new());
    let mut events = engine.subscribe();
    let handle = engine
        .listen(listen_config("127.0.0.1:0", false), InputFactory::Nothing)
        .await
        .unwrap();
    let addr = handle.local_addr().to_string().replace("tcp://", "");
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(b"12345").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut kinds = Vec::new();
    loop {
        let event = next_event(&mut events, |_| true).await;
        match event.kind {
            EventKind::Listening { .. } => kinds.push("listening"),
            EventKind::Open { .. } => kinds.push("open"),
            EventKind::Data { bytes, .. } => {
                assert_eq!(&bytes[..], b"12345");
                kinds.push("data");
            }
            EventKind::Eof { .. } => kinds.push("eof"),
            EventKind::Close { counters, .. } => {
                assert_eq!((counters.bytes_in, counters.msgs_in), (5, 1));
                kinds.push("close");
                break;
            }
            _ => {}
        }
    }
    assert_eq!(kinds, ["listening", "open", "data", "eof", "close"]);
    handle.finished().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_connection_is_listed_and_closed_by_id() {
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap();
    // The target accepts and waits for the relay to go away.
    let server = std::thread::spawn(move || {
        let (mut s, _) = target.accept().unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    let engine = Engine::new(Shutdown::new());
    let mut events = engine.subscribe();
    let handle = engine.relay(relay_to(target_addr)).await.unwrap();
    let addr = handle.local_addr().to_string().replace("tcp://", "");
    let mut client = TcpStream::connect(addr).unwrap();
    let open = next_event(&mut events, |k| matches!(k, EventKind::Open { .. })).await;
    let EventKind::Open { conn, .. } = open.kind else {
        unreachable!()
    };
    let listed: Vec<u64> = handle.connections().iter().map(|c| c.id).collect();
    assert_eq!(listed, [conn.id]);
    handle.close(conn.id).unwrap();
    let closed = next_event(&mut events, |k| matches!(k, EventKind::Close { .. })).await;
    let EventKind::Close { conn: closed, .. } = closed.kind else {
        unreachable!()
    };
    assert_eq!(closed.id, conn.id);
    assert!(handle.connections().is_empty());
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut rest = Vec::new();
    // Closing cuts the pair while neither source has ended: the client
    // gets a reset, never a clean end that could pass for a finished
    // stream (issue 21, item 14).
    let ended = client.read_to_end(&mut rest);
    assert!(
        matches!(&ended, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "{ended:?}"
    );
    handle.stop();
    handle.finished().await.unwrap();
    server.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_reports_each_port_in_order_then_the_totals() {
    let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed_port = {
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        gone.local_addr().unwrap().port()
    };
    let mut ports = vec![open_port, closed_port];
    ports.sort_unstable();
    let host = sockmate::endpoint::Host::Ip([127, 0, 0, 1].into());
    let cfg = sockmate::scan::config::ScanConfig::new(host, "127.0.0.1", ports.clone())
        .timeout(Duration::from_secs(2));
    let engine = Engine::new(Shutdown::new());
    let mut rx = engine.subscribe();
    let handle = engine.scan(cfg).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = next_event(&mut rx, |k| matches!(k, EventKind::ScanPort(_))).await;
        let EventKind::ScanPort(result) = event.kind else {
            unreachable!()
        };
        seen.push((result.port, result.state.clone(), result.peer.clone()));
    }
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), ports);
    for (port, state, peer) in &seen {
        let want = if *port == open_port { "open" } else { "closed" };
        assert_eq!(state, want);
        assert_eq!(peer, &format!("tcp://127.0.0.1:{port}"));
    }
    let done = next_event(&mut rx, |k| matches!(k, EventKind::ScanDone(_))).await;
    let EventKind::ScanDone(totals) = done.kind else {
        unreachable!()
    };
    assert_eq!((totals.open, totals.closed, totals.ports), (1, 1, 2));
    handle.finished().await.unwrap();
    drop(open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_start_delivers_a_file_to_a_receive_start_with_events() {
    use sockmate::transfer::config::{ReceiveConfig, SendFilesConfig};
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let source = from.path().join("report.bin");
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &body).unwrap();
    let engine = Engine::new(Shutdown::new());
    let mut rx = engine.subscribe();
    let receive = ReceiveConfig::new(
        Endpoint::parse_listen("127.0.0.1:0").unwrap(),
        to.path().to_path_buf(),
    );
    let receiver = engine.receive(receive).await.unwrap();
    let at = receiver.local_addr().clone();
    let sender = engine
        .send(SendFilesConfig::new(at, vec![source]))
        .await
        .unwrap();
    let start = next_event(&mut rx, |k| matches!(k, EventKind::TransferStart(_))).await;
    let EventKind::TransferStart(start) = start.kind else {
        unreachable!()
    };
    assert_eq!(
        (start.file.as_str(), start.size),
        ("report.bin", Some(300_000))
    );
    // One done event per side: the receiver's (stored), the sender's
    // (confirmed), with the same digest.
    let mut done = Vec::new();
    for _ in 0..2 {
        let event = next_event(&mut rx, |k| matches!(k, EventKind::TransferDone(_))).await;
        let EventKind::TransferDone(d) = event.kind else {
            unreachable!()
        };
        done.push(d);
    }
    let received = done
        .iter()
        .find(|d| d.bytes_in == 300_000)
        .expect("received");
    let sent = done.iter().find(|d| d.bytes_out == 300_000).expect("sent");
    assert_eq!(received.digest, sent.digest);
    assert!(received.digest_ok && received.digest_alg.as_deref() == Some("blake3"));
    tokio::time::timeout(DEADLINE, sender.finished())
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(DEADLINE, receiver.finished())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(std::fs::read(to.path().join("report.bin")).unwrap(), body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bench_start_reports_a_sample_per_second_then_the_report() {
    use sockmate::bench::{RunConfig, Target};
    let engine = Engine::new(Shutdown::new());
    let mut cfg = listen_config("127.0.0.1:0", true);
    cfg.service = Some(sockmate::service::ServiceConfig::serving(
        sockmate::service::Serve::Echo,
    ));
    let echo = engine.listen(cfg, InputFactory::Nothing).await.unwrap();
    let mut rx = engine.subscribe();
    let run = RunConfig::new(Target::Endpoint(echo.local_addr().clone()))
        .duration(Duration::from_secs(3), Duration::ZERO)
        .size(32);
    let bench = engine.bench(run).await.unwrap();
    let first = next_event(&mut rx, |k| {
        matches!(k, EventKind::BenchSample(_) | EventKind::BenchReport(_))
    })
    .await;
    let EventKind::BenchSample(sample) = first.kind else {
        panic!("a sample before the report: {first:?}")
    };
    assert_eq!((sample.second, sample.connections), (1, 1));
    assert_eq!(sample.bytes, sample.messages * 32);
    let done = next_event(&mut rx, |k| matches!(k, EventKind::BenchReport(_))).await;
    let EventKind::BenchReport(done) = done.kind else {
        unreachable!()
    };
    assert!(done.report.messages > 0 && done.report.messages >= sample.messages);
    assert_eq!(done.bytes_in, done.report.bytes_received);
    assert_eq!(done.report.mode, "echo");
    let line = serde_json::to_value(&done).unwrap();
    assert!(line.get("bytes_out").is_some() && line.get("latency_us").is_some());
    tokio::time::timeout(DEADLINE, bench.finished())
        .await
        .unwrap()
        .unwrap();
    echo.stop();
}
