//! The twelve-case half-close matrix: role (connect, listen) × direction
//! (stdin→peer, peer→stdout) × the other direction (idle, stalled by
//! backpressure, already ended). In every case the data arrives whole and
//! then EOF arrives, several writes' worth.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::util::*;

#[derive(Clone, Copy, Debug)]
enum Role {
    Connect,
    Listen,
}

#[derive(Clone, Copy, Debug)]
enum Dir {
    /// sockmate's stdin → the peer.
    StdinToPeer,
    /// The peer → sockmate's stdout.
    PeerToStdout,
}

#[derive(Clone, Copy, Debug)]
enum Other {
    Idle,
    Stalled,
    Ended,
}

const CHUNKS: [&[u8]; 4] = [
    b"first piece\n",
    b"second piece, a bit longer\n",
    b"\x00\xff binary \x01\n",
    b"last",
];

fn expected() -> Vec<u8> {
    CHUNKS.concat()
}

/// Starts sockmate in `role` and returns it with the peer's socket. With
/// `tls`, sockmate speaks `tls://` and a sockmate
/// relay between it and the plain TCP peer turns TLS close_notify into TCP
/// FIN and back (TLS termination for `connect`, origination for `listen`),
/// so every half-close crosses a TLS hop. The relay comes back third.
fn setup_over(role: Role, tls: bool) -> (Proc, TcpStream, Option<Proc>) {
    if !tls {
        let (proc, peer) = setup_plain(role);
        return (proc, peer, None);
    }
    match role {
        Role::Connect => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let mut relay = Proc::spawn(sockmate(&[
                "relay",
                "tls://127.0.0.1:0",
                &format!("tcp://{addr}"),
            ]));
            let (front, pin) = listening_tls(&mut relay);
            let proc = Proc::spawn(sockmate(&["connect", &front, "--pin", &pin]));
            let (peer, _) = listener.accept().unwrap();
            (proc, peer, Some(relay))
        }
        Role::Listen => {
            let mut proc = Proc::spawn(sockmate(&["listen", "tls://127.0.0.1:0"]));
            let (server, pin) = listening_tls(&mut proc);
            let mut relay = Proc::spawn(sockmate(&[
                "relay",
                "tcp://127.0.0.1:0",
                &server,
                "--pin",
                &pin,
            ]));
            let front = relay.listening_addr();
            let peer = TcpStream::connect(front).unwrap();
            proc.wait_line("connected:");
            (proc, peer, Some(relay))
        }
    }
}

fn setup_plain(role: Role) -> (Proc, TcpStream) {
    match role {
        Role::Connect => {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let proc = Proc::spawn(sockmate(&["connect", &addr]));
            let (peer, _) = listener.accept().unwrap();
            (proc, peer)
        }
        Role::Listen => {
            let mut proc = Proc::spawn(sockmate(&["listen", "0"]));
            let addr = proc.listening_addr();
            let peer = TcpStream::connect(addr).unwrap();
            proc.wait_line("connected:");
            (proc, peer)
        }
    }
}

fn write_in_pieces(mut w: impl Write) {
    for chunk in CHUNKS {
        w.write_all(chunk).unwrap();
        w.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn peer_read_to_end(peer: &mut TcpStream) -> Vec<u8> {
    peer.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::new();
    peer.read_to_end(&mut got).expect("peer read to EOF");
    got
}

fn run_case(role: Role, dir: Dir, other: Other) {
    run_case_over(role, dir, other, false);
}

fn run_case_over(role: Role, dir: Dir, other: Other, tls: bool) {
    let (mut proc, mut peer, _relay) = setup_over(role, tls);
    let mut _stall_thread = None;
    match (dir, other) {
        (Dir::StdinToPeer, Other::Idle) => {}
        (Dir::StdinToPeer, Other::Stalled) => {
            // The peer floods sockmate, and nobody reads sockmate's stdout.
            let mut flood = peer.try_clone().unwrap();
            _stall_thread = Some(std::thread::spawn(move || {
                let block = vec![0x5a; 64 * 1024];
                for _ in 0..256 {
                    if flood.write_all(&block).is_err() {
                        break;
                    }
                }
            }));
        }
        (Dir::StdinToPeer, Other::Ended) => {
            peer.shutdown(Shutdown::Write).unwrap();
            assert!(
                proc.read_stdout_to_end().is_empty(),
                "stdout must close on peer EOF"
            );
        }
        (Dir::PeerToStdout, Other::Idle) => {}
        (Dir::PeerToStdout, Other::Stalled) => {
            // sockmate's stdin floods the peer, which never reads.
            let mut stdin = proc.stdin.take().unwrap();
            _stall_thread = Some(std::thread::spawn(move || {
                let block = vec![0xa5; 64 * 1024];
                for _ in 0..256 {
                    if stdin.write_all(&block).is_err() {
                        break;
                    }
                }
            }));
        }
        (Dir::PeerToStdout, Other::Ended) => {
            proc.close_stdin();
            assert!(
                peer_read_to_end(&mut peer).is_empty(),
                "peer must see EOF from stdin's end"
            );
        }
    }
    match dir {
        Dir::StdinToPeer => {
            write_in_pieces(proc.stdin.as_mut().unwrap());
            proc.close_stdin();
            let got = peer_read_to_end(&mut peer);
            assert_eq!(got, expected(), "{role:?} {dir:?} {other:?}");
        }
        Dir::PeerToStdout => {
            let mut w = peer.try_clone().unwrap();
            write_in_pieces(&mut w);
            peer.shutdown(Shutdown::Write).unwrap();
            let got = proc.read_stdout_to_end();
            assert_eq!(got, expected(), "{role:?} {dir:?} {other:?}");
        }
    }
    if matches!(other, Other::Ended) {
        // Both directions are done: sockmate exits successfully by itself.
        drop(peer);
        assert!(
            proc.wait().success(),
            "{role:?} {dir:?} {other:?}: {:?}",
            proc.stderr_lines()
        );
    }
}

macro_rules! matrix {
    ($($name:ident: $role:ident $dir:ident $other:ident;)*) => {
        $(
            #[test]
            fn $name() {
                run_case(Role::$role, Dir::$dir, Other::$other);
            }
        )*
    };
}

macro_rules! tls_matrix {
    ($($name:ident: $role:ident $dir:ident $other:ident;)*) => {
        $(
            #[test]
            fn $name() {
                run_case_over(Role::$role, Dir::$dir, Other::$other, true);
            }
        )*
    };
}

// The same twelve cases with sockmate speaking TLS (half-close is
// close_notify).
tls_matrix! {
    tls_connect_stdin_to_peer_other_idle: Connect StdinToPeer Idle;
    tls_connect_stdin_to_peer_other_stalled: Connect StdinToPeer Stalled;
    tls_connect_stdin_to_peer_other_ended: Connect StdinToPeer Ended;
    tls_connect_peer_to_stdout_other_idle: Connect PeerToStdout Idle;
    tls_connect_peer_to_stdout_other_stalled: Connect PeerToStdout Stalled;
    tls_connect_peer_to_stdout_other_ended: Connect PeerToStdout Ended;
    tls_listen_stdin_to_peer_other_idle: Listen StdinToPeer Idle;
    tls_listen_stdin_to_peer_other_stalled: Listen StdinToPeer Stalled;
    tls_listen_stdin_to_peer_other_ended: Listen StdinToPeer Ended;
    tls_listen_peer_to_stdout_other_idle: Listen PeerToStdout Idle;
    tls_listen_peer_to_stdout_other_stalled: Listen PeerToStdout Stalled;
    tls_listen_peer_to_stdout_other_ended: Listen PeerToStdout Ended;
}

matrix! {
    connect_stdin_to_peer_other_idle: Connect StdinToPeer Idle;
    connect_stdin_to_peer_other_stalled: Connect StdinToPeer Stalled;
    connect_stdin_to_peer_other_ended: Connect StdinToPeer Ended;
    connect_peer_to_stdout_other_idle: Connect PeerToStdout Idle;
    connect_peer_to_stdout_other_stalled: Connect PeerToStdout Stalled;
    connect_peer_to_stdout_other_ended: Connect PeerToStdout Ended;
    listen_stdin_to_peer_other_idle: Listen StdinToPeer Idle;
    listen_stdin_to_peer_other_stalled: Listen StdinToPeer Stalled;
    listen_stdin_to_peer_other_ended: Listen StdinToPeer Ended;
    listen_peer_to_stdout_other_idle: Listen PeerToStdout Idle;
    listen_peer_to_stdout_other_stalled: Listen PeerToStdout Stalled;
    listen_peer_to_stdout_other_ended: Listen PeerToStdout Ended;
}

#[test]
fn listen_sees_client_eof_and_still_sends() {
    let mut proc = Proc::spawn(sockmate(&["listen", "0"]));
    let addr = proc.listening_addr();
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"request").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    // The server's stdout ends (client EOF), and it can still answer.
    assert_eq!(proc.read_stdout_to_end(), b"request");
    proc.write_stdin(b"answer after your EOF");
    proc.close_stdin();
    assert_eq!(peer_read_to_end(&mut client), b"answer after your EOF");
    assert!(proc.wait().success());
}
