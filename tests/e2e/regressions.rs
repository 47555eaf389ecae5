//! Regressions of the engine step: one listen path (limits do not turn off
//! `--send`; `--allow` does not turn off stdin on UDP) and errors that say
//! their cause once.

use std::io::Read;
use std::net::{TcpStream, UdpSocket};

use crate::util::*;

/// Reads from `stream` until `want` bytes came or the peer closed.
fn read_some(stream: &mut TcpStream, want: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while got.len() < want {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

#[test]
fn listen_send_reaches_the_client_with_and_without_limits() {
    for extra in [&[][..], &["--max-conns", "1"], &["--allow", "127.0.0.1"]] {
        let mut args = vec!["listen", "127.0.0.1:0", "--send", "hello"];
        args.extend_from_slice(extra);
        let mut cmd = sockmate(&args);
        cmd.stdin(std::process::Stdio::null());
        let mut server = Proc::spawn_configured(cmd);
        let addr = server.listening_addr();
        let mut client = TcpStream::connect(&addr).unwrap();
        assert_eq!(read_some(&mut client, 5), b"hello", "with {extra:?}");
        client.shutdown(std::net::Shutdown::Write).unwrap();
        drop(client);
        let status = server.wait();
        assert!(status.success(), "with {extra:?}: {status:?}");
    }
}

#[test]
fn listen_k_with_limits_still_sends_auto_send_to_each_client() {
    let mut cmd = sockmate(&[
        "listen",
        "127.0.0.1:0",
        "-k",
        "--max-conns",
        "4",
        "--send",
        "hi\\n",
        "--interval",
        "50ms",
        "--count",
        "3",
    ]);
    cmd.stdin(std::process::Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut a = TcpStream::connect(&addr).unwrap();
    let mut b = TcpStream::connect(&addr).unwrap();
    assert_eq!(read_some(&mut a, 9), b"hi\nhi\nhi\n");
    assert_eq!(read_some(&mut b, 9), b"hi\nhi\nhi\n");
}

#[test]
fn udp_listen_sends_stdin_with_and_without_allow() {
    for extra in [&[][..], &["--allow", "127.0.0.1"]] {
        let mut args = vec!["listen", "udp://127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut server = Proc::spawn(sockmate(&args));
        let addr = server.listening_addr();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(DEADLINE)).unwrap();
        client.send_to(b"ping", &addr).unwrap();
        let mut out = server.stdout.take().unwrap();
        let mut got = [0u8; 4];
        out.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        // The peer is known now: stdin goes to it.
        server.write_stdin(b"typed\n");
        let mut buf = [0u8; 64];
        let (n, _) = client.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"typed\n", "with {extra:?}");
        server.signal("TERM");
        server.wait();
    }
}

#[test]
fn an_error_says_its_cause_once() {
    // A port in use: the OS error appears once in the line.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, _, stderr) = run_with_input(sockmate(&["listen", &addr]), b"");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("in use"), "{stderr}");
    // A Unix socket path in a missing directory: os error 2 once.
    let (status, _, stderr) =
        run_with_input(sockmate(&["listen", "unix:///no/such/dir/x.sock"]), b"");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
    // An address not on this machine: os error 99 once.
    let (status, _, stderr) = run_with_input(sockmate(&["listen", "192.0.2.1:0"]), b"");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("os error 99").count(), 1, "{stderr}");
    // Bad hex: the bad token named once.
    let (status, _, stderr) = run_with_input(
        sockmate(&["connect", "127.0.0.1:1", "--send-hex", "zz"]),
        b"",
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("not a hex digit").count(), 1, "{stderr}");
    assert_eq!(our_stderr_lines(&stderr).len(), 1, "{stderr}");
}
