//! Issue 2: endpoints, connect and listen over TCP, UDP and Unix sockets.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::util::*;

#[test]
fn tcp_connect_to_listen_byte_exact_5mb() {
    let data = random_bytes(5 * 1024 * 1024 + 7, 1);
    let mut server = Proc::spawn(sockmate(&["listen", "0"]));
    let addr = server.listening_addr();
    server.close_stdin();
    let (status, out, err) = run_with_input(sockmate(&["connect", &addr]), &data);
    assert!(status.success(), "connect failed: {err}");
    assert!(out.is_empty());
    let got = server.read_stdout_to_end();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "payload differs");
    assert!(server.wait().success());
}

#[test]
fn connect_half_close_gets_reply_after_eof() {
    // A server that reads to EOF, then replies with what it counted.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        s.write_all(format!("got {} bytes", all.len()).as_bytes())
            .unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    });
    let (status, out, err) = run_with_input(sockmate(&["connect", &addr]), &vec![b'x'; 100_000]);
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "got 100000 bytes");
    server.join().unwrap();
}

use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::process::Stdio;
use std::time::Duration;

/// Reads exactly `n` bytes from a child's stdout (with the global deadline).
fn read_exact_stdout(proc: &mut Proc, n: usize) -> Vec<u8> {
    let mut out = proc.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; n];
        let result = out.read_exact(&mut buf).map(|()| buf);
        let _ = tx.send((result, out));
    });
    let (result, out) = rx.recv_timeout(DEADLINE).expect("stdout read timed out");
    proc.stdout = Some(out);
    result.expect("read stdout")
}

/// A listen/connect round trip on any endpoint kind: data both ways.
fn round_trip(listen_ep: &str, datagram: bool) {
    let mut server = Proc::spawn(sockmate(&["listen", listen_ep]));
    let ep = server.listening();
    let mut client = Proc::spawn(sockmate(&["connect", &ep]));
    client.write_stdin(b"ping from client\n");
    assert_eq!(read_exact_stdout(&mut server, 17), b"ping from client\n");
    server.write_stdin(b"pong from server\n");
    assert_eq!(read_exact_stdout(&mut client, 17), b"pong from server\n");
    client.close_stdin();
    if !datagram {
        // The client's EOF reaches the server's stdout; the server's reaches the client.
        assert!(server.read_stdout_to_end().is_empty());
        server.close_stdin();
        assert!(client.read_stdout_to_end().is_empty());
        assert!(
            server.wait().success(),
            "server: {:?}",
            server.stderr_lines()
        );
    }
    let status = client.wait();
    assert!(status.success(), "client: {:?}", client.stderr_lines());
}

#[test]
fn udp_both_ways() {
    round_trip("udp://127.0.0.1:0", true);
}

#[test]
fn ipv6_tcp_and_udp_on_loopback() {
    round_trip("tcp://[::1]:0", false);
    round_trip("udp://[::1]:0", true);
}

#[test]
fn unix_stream_both_ways_and_socket_file_removed() {
    let dir = tempdir();
    let path = sock_path(dir.path(), "s.sock");
    round_trip(&format!("unix://{path}"), false);
    assert!(
        !std::path::Path::new(&path).exists(),
        "listen must remove its socket file"
    );
}

#[test]
fn unix_seqpacket_both_ways() {
    let dir = tempdir();
    round_trip(
        &format!("unix-seqpacket://{}", sock_path(dir.path(), "p.sock")),
        false,
    );
}

#[test]
fn unix_abstract_both_ways() {
    let name = format!("sockmate-test-{}", std::process::id());
    round_trip(&format!("unix://@{name}"), false);
}

#[test]
fn unix_dgram_both_ways_and_client_cleans_its_path() {
    let dir = tempdir();
    let path = sock_path(dir.path(), "d.sock");
    let before: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    round_trip(&format!("unix-dgram://{path}"), true);
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| !before.contains(n) && n.to_string_lossy().starts_with("sockmate-"))
        .collect();
    assert!(leftovers.is_empty(), "client left {leftovers:?}");
}

#[test]
fn unix_dgram_listen_answers_a_plain_socket() {
    let dir = tempdir();
    let path = sock_path(dir.path(), "srv.sock");
    let mut server = Proc::spawn(sockmate(&["listen", &format!("unix-dgram://{path}")]));
    server.listening();
    let me = UnixDatagram::bind(dir.path().join("me.sock")).unwrap();
    me.set_read_timeout(Some(DEADLINE)).unwrap();
    me.send_to(b"hi", &path).unwrap();
    assert_eq!(read_exact_stdout(&mut server, 2), b"hi");
    server.write_stdin(b"back");
    let mut buf = [0u8; 16];
    let n = me.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"back");
}

#[test]
fn unix_listen_refuses_live_socket_and_replaces_stale_one() {
    let dir = tempdir();
    let path = dir.path().join("live.sock");
    let _live = UnixListener::bind(&path).unwrap();
    let (status, _, err) = run_with_input(
        sockmate(&["listen", &format!("unix://{}", path.display())]),
        b"",
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("address in use"), "{err}");
    assert!(path.exists(), "a live socket file must not be removed");

    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap()); // leaves the file behind
    assert!(stale.exists());
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        &format!("unix://{}", stale.display()),
    ]));
    server.listening();
    let mut client = UnixStream::connect(&stale).unwrap();
    client.write_all(b"ok").unwrap();
    drop(client);
    assert_eq!(server.read_stdout_to_end(), b"ok");

    let plain = dir.path().join("plain-file");
    std::fs::write(&plain, b"keep me").unwrap();
    let (status, _, err) = run_with_input(
        sockmate(&["listen", &format!("unix://{}", plain.display())]),
        b"",
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("not a socket"), "{err}");
    assert_eq!(std::fs::read(&plain).unwrap(), b"keep me");
}

#[test]
fn keep_open_serves_three_clients_and_broadcasts_stdin() {
    let mut server = Proc::spawn(sockmate(&["listen", "0", "-k"]));
    let addr = server.listening_addr();
    let mut clients: Vec<TcpStream> = (0..3)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    for _ in 0..3 {
        server.wait_line("connected:");
    }
    server.write_stdin(b"hello everyone\n");
    for c in clients.iter_mut() {
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut buf = [0u8; 15];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello everyone\n");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("client {i}\n").as_bytes()).unwrap();
    }
    let got = read_exact_stdout(&mut server, 27);
    let text = String::from_utf8(got).unwrap();
    for i in 0..3 {
        assert!(text.contains(&format!("client {i}\n")), "{text}");
    }
    drop(clients);
    for _ in 0..3 {
        let line = server.wait_line("closed:");
        assert!(line.contains("9 bytes in, 15 bytes out"), "{line}");
    }
    server.signal("TERM");
    assert_eq!(server.wait().code(), Some(143));
}

#[test]
fn bad_endpoints_exit_2_naming_the_part() {
    let cases = [
        (
            vec!["connect", "tcp://127.0.0.1:99999"],
            "invalid port \"99999\"",
        ),
        (
            vec!["connect", "gopher://127.0.0.1:70"],
            "unknown scheme \"gopher\"",
        ),
        (vec!["connect", "tcp://:80"], "missing host"),
        (
            vec!["connect", "unix://relative.sock"],
            "relative unix path \"relative.sock\"",
        ),
        (
            vec!["listen", "udp://127.0.0.1:http"],
            "invalid port \"http\"",
        ),
        (
            vec!["connect", "127.0.0.1:1", "--wait", "soon"],
            "invalid duration",
        ),
    ];
    for (args, needle) in cases {
        let (status, out, err) = run_with_input(sockmate(&args), b"");
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.is_empty());
    }
}

#[test]
fn refused_connection_exits_1_with_one_line() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (status, _, err) =
        run_with_input(sockmate(&["connect", &format!("127.0.0.1:{port}")]), b"");
    assert_eq!(status.code(), Some(1));
    assert_eq!(our_stderr_lines(&err).len(), 1, "{err}");
    assert!(
        err.contains("connection refused by tcp://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn address_in_use_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, _, err) = run_with_input(sockmate(&["listen", &addr]), b"");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("address in use: tcp://127.0.0.1:"), "{err}");
}

#[test]
fn sigint_exits_130_and_sigterm_143() {
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let mut server = Proc::spawn(sockmate(&["listen", "0"]));
        server.listening();
        server.signal(sig);
        assert_eq!(server.wait().code(), Some(code));
    }
}

#[test]
fn broken_stdout_pipe_ends_quietly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut cmd = sockmate(&["connect", &addr]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut proc = Proc::spawn_configured(cmd);
    let (mut peer, _) = listener.accept().unwrap();
    drop(proc.stdout.take()); // nobody reads stdout any more
    let writer = std::thread::spawn(move || {
        let block = vec![7u8; 64 * 1024];
        for _ in 0..64 {
            if peer.write_all(&block).is_err() {
                break;
            }
        }
    });
    let status = proc.wait();
    assert!(status.success(), "{status:?}");
    let errors: Vec<_> = proc
        .drain_stderr()
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let _ = writer.join();
}

#[test]
fn wait_ends_after_silence_even_if_peer_stays() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut proc = Proc::spawn(sockmate(&["connect", &addr, "--wait", "200ms"]));
    let (mut peer, _) = listener.accept().unwrap();
    peer.write_all(b"hello").unwrap();
    proc.close_stdin();
    assert_eq!(proc.read_stdout_to_end(), b"hello");
    assert!(proc.wait().success());
    let _ = Duration::from_secs(0);
}

#[test]
fn bind_sets_the_source_address() {
    let mut server = Proc::spawn(sockmate(&["listen", "0"]));
    let addr = server.listening_addr();
    let mut client = Proc::spawn(sockmate(&["connect", &addr, "--bind", "127.0.0.2"]));
    let line = server.wait_line("connected:");
    assert!(line.contains("connected: 127.0.0.2:"), "{line}");
    client.close_stdin();
    server.close_stdin();
    assert!(client.wait().success());
}

#[test]
fn dual_stack_listen_accepts_ipv4() {
    let mut server = Proc::spawn(sockmate(&["listen", "tcp://[::]:0"]));
    let ep = server.listening();
    let port = ep.rsplit(':').next().unwrap().to_string();
    let mut client = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    client.write_all(b"v4 over a v6 socket").unwrap();
    drop(client);
    server.close_stdin();
    assert_eq!(server.read_stdout_to_end(), b"v4 over a v6 socket");
}

#[test]
fn host_names_resolve_and_each_address_is_tried() {
    // "localhost" may resolve to ::1 first; the server listens on IPv4 only,
    // so connect must fall through to 127.0.0.1.
    let mut server = Proc::spawn(sockmate(&["listen", "0"]));
    let addr = server.listening_addr();
    let port = addr.rsplit(':').next().unwrap();
    server.close_stdin();
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &format!("localhost:{port}")]),
        b"by name",
    );
    assert!(status.success(), "{err}");
    assert_eq!(server.read_stdout_to_end(), b"by name");
}
