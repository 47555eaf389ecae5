//! Issue 2: endpoints, connect and listen over TCP, UDP and Unix sockets.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};

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
