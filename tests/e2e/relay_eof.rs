//! The half-close matrix through `relay`: direction (client → target,
//! target → client) × the other direction (idle, stalled by backpressure,
//! already ended) × the copy path (splice, `--no-splice`). In every case the
//! data arrives whole, then its end, and the other direction is unharmed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::util::*;

#[derive(Clone, Copy, Debug)]
enum Other {
    Idle,
    Stalled,
    Ended,
}

const CHUNKS: [&[u8]; 4] = [
    b"first piece\n",
    b"second, longer piece\n",
    b"\x00\xff bin\n",
    b"last",
];

/// Bytes sent the other way, more than the socket buffers on the path hold.
const STALL_BYTES: usize = 16 * 1024 * 1024;

fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).expect("read to the end");
    got
}

fn run_case(client_sends: bool, other: Other, splice: bool) {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap().to_string();
    let mut args = vec!["relay", "127.0.0.1:0", &target_addr, "-q"];
    if !splice {
        args.push("--no-splice");
    }
    let mut relay = Proc::spawn(sockmate(&args));
    let addr = relay.listening_addr();
    let client = TcpStream::connect(&addr).unwrap();
    let (server, _) = target.accept().unwrap();
    let (mut sender, mut receiver) = if client_sends {
        (client, server)
    } else {
        (server, client)
    };
    let case = format!("client_sends={client_sends} other={other:?} splice={splice}");
    // The other direction: receiver → sender.
    let stall = match other {
        Other::Idle => None,
        Other::Ended => {
            receiver.shutdown(Shutdown::Write).unwrap();
            assert!(read_all(&mut sender).is_empty(), "{case}: other end first");
            None
        }
        Other::Stalled => {
            let mut writer = receiver.try_clone().unwrap();
            Some(std::thread::spawn(move || {
                let data = vec![b's'; STALL_BYTES];
                let _ = writer.write_all(&data);
                let _ = writer.shutdown(Shutdown::Write);
            }))
        }
    };
    for chunk in CHUNKS {
        if let Err(e) = sender.write_all(chunk) {
            panic!("{case}: {e}; relay said {:?}", relay.drain_stderr());
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    sender.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut receiver), CHUNKS.concat(), "{case}");
    if let Some(stall) = stall {
        // Only now does the stalled direction get read: whole, then its end.
        assert_eq!(
            read_all(&mut sender).len(),
            STALL_BYTES,
            "{case}: stalled way"
        );
        stall.join().unwrap();
    }
    drop((sender, receiver));
    relay.signal("TERM");
    relay.wait();
}

#[test]
fn relay_half_close_matrix() {
    for splice in [true, false] {
        for client_sends in [true, false] {
            for other in [Other::Idle, Other::Stalled, Other::Ended] {
                run_case(client_sends, other, splice);
            }
        }
    }
}

/// A command that echoes what it reads; at the end of its input it says
/// how many bytes it read and exits with status 3.
const COUNTING_ECHO: &str = "import sys\nn = 0\nwhile True:\n    d = sys.stdin.buffer.read1(4096)\n    if not d: break\n    n += len(d)\n    sys.stdout.buffer.write(d); sys.stdout.flush()\nsys.stdout.write('%d bytes\\n' % n)\nsys.exit(3)\n";

/// A command that sends a greeting and closes its stdout first, then
/// reads its input to the end; exits 0 if all of it came, 1 if not.
const EARLY_CLOSER: &str = "import os, sys\nos.write(1, b'early\\n'); os.close(1)\nn = 0\nwhile True:\n    d = sys.stdin.buffer.read1(4096)\n    if not d: break\n    n += len(d)\nsys.exit(0 if n == int(sys.argv[1]) else 1)\n";

/// The exec rows of the matrix: the client's FIN closes the command's
/// stdin (its answer still comes back, then its end); the command's
/// stdout closing is an EOF toward the client while the client's data
/// still reaches the command. The exit status is in the close line.
#[test]
fn relay_exec_side_half_close() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let echo = dir.path().join("echo.py");
    let early = dir.path().join("early.py");
    std::fs::write(&echo, COUNTING_ECHO).unwrap();
    std::fs::write(&early, EARLY_CLOSER).unwrap();

    // Client → command, then the client's end.
    let target = format!("exec:python3 {}", echo.display());
    let mut relay = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &target]));
    let mut client = TcpStream::connect(relay.listening_addr()).unwrap();
    for chunk in CHUNKS {
        client.write_all(chunk).unwrap();
    }
    client.shutdown(Shutdown::Write).unwrap();
    let sent = CHUNKS.concat();
    let mut expected = sent.clone();
    expected.extend_from_slice(format!("{} bytes\n", sent.len()).as_bytes());
    assert_eq!(read_all(&mut client), expected);
    let closed = relay.wait_line("closed:");
    assert!(closed.contains("command exited with status 3"), "{closed}");

    // Command → client ends first; the client's data still goes in.
    let target = format!("exec:python3 {} {}", early.display(), sent.len());
    let mut relay = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &target]));
    let mut client = TcpStream::connect(relay.listening_addr()).unwrap();
    assert_eq!(read_all(&mut client), b"early\n", "EOF after the greeting");
    for chunk in CHUNKS {
        client.write_all(chunk).unwrap();
    }
    client.shutdown(Shutdown::Write).unwrap();
    let closed = relay.wait_line("closed:");
    assert!(
        closed.contains("command exited)"),
        "all data reached it: {closed}"
    );
}

/// The pty row: a terminal has no half-close, so the device's end (its
/// FIN) ends the session once its last bytes reached the program, and
/// the relay with it (the link goes too).
#[test]
fn relay_pty_side_ends_with_the_device() {
    if !require_tool("python3") {
        return;
    }
    let device = "import socket\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\nprint(s.getsockname()[1], flush=True)\nc, _ = s.accept()\nwhile b'\\n' not in c.recv(100): pass\nc.sendall(b'bye\\n'); c.close()\n";
    let (_device, port) = crate::sides::python_server(device);
    let dir = tempdir();
    let link = dir.path().join("ttyV1");
    let side = format!("pty:?link={}&raw", link.display());
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        &side,
        &format!("tcp://127.0.0.1:{port}"),
    ]));
    relay.wait_line("listening on");
    let program = "import os, sys, select\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)\nos.write(fd, b'hi\\n')\ngot = b''\nwhile b'\\n' not in got:\n    r, _, _ = select.select([fd], [], [], 30)\n    if not r: break\n    got += os.read(fd, 100)\nprint(got.decode().strip())\n";
    let (status, out, err) = run_with_input(
        {
            let mut cmd = std::process::Command::new("python3");
            cmd.args(["-c", program, link.to_str().unwrap()]);
            cmd
        },
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out).trim(), "bye");
    assert!(relay.wait().success());
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "link left behind"
    );
}
