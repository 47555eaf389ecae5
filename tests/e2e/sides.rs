//! Sides that are not sockets (`-`, `exec:`, `sh:`, `file:`, `pty:`) as
//! either side of `relay` and as the endpoint of `connect`, and the relays
//! that dial both sides (`--connect-first`) or accept on both
//! (`--listen-both`). Every peer is real: Python programs on loopback
//! sockets and on the pseudo-terminal.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// A TCP server that answers every chunk with the same bytes, upper-cased
/// (binary bytes stay as they are): the "device".
const UPPER_DEVICE: &str = r#"
import socket, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d: break
        c.sendall(d.upper())
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

/// Starts `python3 -c script` (which prints its port first) and returns
/// it with the port.
pub fn python_server(script: &str) -> (Proc, u16) {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]);
    let mut proc = Proc::spawn(cmd);
    let out = proc.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("port line");
    let port = line.trim().parse().unwrap_or_else(|_| {
        panic!(
            "python server printed {line:?}; stderr {:?}",
            proc.drain_stderr()
        )
    });
    (proc, port)
}

/// Runs `python3 -c script args…` to its end and returns its stdout.
fn python(script: &str, args: &[&str]) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).args(args);
    let (status, out, err) = run_with_input(cmd, b"");
    assert!(status.success(), "python failed: {err}");
    String::from_utf8_lossy(&out).into_owned()
}

fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).expect("read to the end");
    got
}

/// Waits (bounded) until `path` holds `len` bytes.
fn wait_file_len(path: &Path, len: u64) {
    let deadline = Instant::now() + DEADLINE;
    while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) < len {
        assert!(
            Instant::now() < deadline,
            "{} never got {len} bytes",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A program on the virtual serial port: opens it raw, sends every byte
/// value, reads the device's answer; twice, closing the port in between.
const PORT_USER: &str = r#"
import os, sys, tty, select
data = bytes(range(256))
for round in range(2):
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    os.write(fd, data)
    got = b""
    while len(got) < len(data):
        r, _, _ = select.select([fd], [], [], 30)
        if not r: break
        got += os.read(fd, 4096)
    os.close(fd)
    print("round", round, "ok" if got == data.upper() else "bad %r" % got, flush=True)
"#;

#[test]
fn pty_is_a_virtual_serial_port_bridged_to_a_tcp_device() {
    if !require_tool("python3") {
        return;
    }
    let (_device, port) = python_server(UPPER_DEVICE);
    let dir = tempdir();
    let link = dir.path().join("ttyV0");
    let side = format!("pty:?link={}", link.display());
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        &side,
        &format!("tcp://127.0.0.1:{port}"),
    ]));
    let start = relay.wait_line("listening on");
    assert!(start.contains("(pty /dev/"), "{start}");
    assert!(
        start.contains(&format!("link {}", link.display())),
        "{start}"
    );
    let said = python(PORT_USER, &[link.to_str().unwrap()]);
    assert_eq!(said, "round 0 ok\nround 1 ok\n");
    relay.signal("TERM");
    relay.wait();
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the link outlived sockmate"
    );
}

#[test]
fn pty_link_never_replaces_a_file() {
    let dir = tempdir();
    let file = dir.path().join("ttyV0");
    std::fs::write(&file, b"keep me").unwrap();
    let side = format!("pty:?link={}", file.display());
    let (status, _, err) = run_with_input(sockmate(&["connect", &side]), b"");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("not a symlink"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
}

/// A device simulator: answers each line, exits with status 3 at the end
/// of its input.
const DEVICE_SIM: &str = r#"
import sys
for line in sys.stdin:
    sys.stdout.write("ACK " + line.upper())
    sys.stdout.flush()
sys.exit(3)
"#;

#[test]
fn exec_target_runs_one_child_per_client() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let sim = dir.path().join("device_sim.py");
    std::fs::write(&sim, DEVICE_SIM).unwrap();
    let target = format!("exec:python3 {}", sim.display());
    let mut relay = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &target]));
    let addr = relay.listening_addr();
    let mut first = TcpStream::connect(&addr).unwrap();
    let mut second = TcpStream::connect(&addr).unwrap();
    // Both answered before either ends: two children at once.
    for (client, word) in [(&mut first, "one"), (&mut second, "two")] {
        client.write_all(format!("{word}\n").as_bytes()).unwrap();
        client.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut answer = vec![0u8; 8];
        client.read_exact(&mut answer).unwrap();
        assert_eq!(answer, format!("ACK {}\n", word.to_uppercase()).as_bytes());
    }
    for client in [&mut first, &mut second] {
        client.shutdown(Shutdown::Write).unwrap();
        assert!(read_to_end(client).is_empty());
    }
    for _ in 0..2 {
        let closed = relay.wait_line("closed:");
        assert!(closed.contains("command exited with status 3"), "{closed}");
    }
}

#[test]
fn udp_datagrams_are_captured_into_a_file_in_order() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let capture = dir.path().join("capture.bin");
    let side = format!("file:{}", capture.display());
    let mut relay = Proc::spawn(sockmate(&["relay", "udp://127.0.0.1:0", &side]));
    let addr = relay.listening_addr();
    let (host, port) = addr.rsplit_once(':').unwrap();
    python(
        r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(b"datagram %02d\x00\xff|" % i, (sys.argv[1], int(sys.argv[2])))
"#,
        &[host, port],
    );
    let expected: Vec<u8> = (0..20)
        .flat_map(|i| {
            let mut d = format!("datagram {i:02}").into_bytes();
            d.extend_from_slice(b"\x00\xff|");
            d
        })
        .collect();
    wait_file_len(&capture, expected.len() as u64);
    assert_eq!(std::fs::read(&capture).unwrap(), expected);
}

/// A WebSocket server that answers each message with it in brackets.
const WS_BRACKETS: &str = r#"
import asyncio, websockets
async def answer(ws):
    async for m in ws:
        await ws.send("[" + m + "]" if isinstance(m, str) else b"[" + m + b"]")
async def main():
    async with websockets.serve(answer, "127.0.0.1", 0) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

#[test]
fn stdin_lines_become_websocket_messages() {
    if !require_tool("python3") {
        return;
    }
    let (_server, port) = python_server(WS_BRACKETS);
    let target = format!("ws://127.0.0.1:{port}/");
    let (status, out, err) = run_with_input(sockmate(&["relay", "-", &target]), b"one\ntwo\n");
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "[one\n][two\n]", "{err}");
}

#[test]
fn connect_runs_a_command_with_piped_stdin() {
    let (status, out, err) = run_with_input(sockmate(&["connect", "exec:tr a-z A-Z"]), b"hi\n");
    assert!(status.success(), "{err}");
    assert_eq!(out, b"HI\n");
    let (status, out, err) = run_with_input(
        sockmate(&["connect", "-v", "sh:cat; echo done; exit 3"]),
        b"abc\n",
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"abc\ndone\n");
    assert!(err.contains("command exited with status 3"), "{err}");
}

#[test]
fn file_read_sends_a_file_to_each_client() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempdir();
    let file = dir.path().join("firmware.bin");
    let data = random_bytes(100_000, 7);
    std::fs::write(&file, &data).unwrap();
    let side = format!("file:{}?read", file.display());
    let mut relay = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &side]));
    let addr = relay.listening_addr();
    let (host, port) = addr.rsplit_once(':').unwrap();
    let read = r#"
import socket, sys, hashlib
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
got = b""
while True:
    d = c.recv(65536)
    if not d: break
    got += d
print(len(got), hashlib.sha256(got).hexdigest())
"#;
    let digest = {
        let out = Command::new("sha256sum")
            .arg(&file)
            .stderr(Stdio::null())
            .output()
            .expect("sha256sum");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    for _ in 0..2 {
        assert_eq!(
            python(read, &[host, port]).trim(),
            format!("{} {digest}", data.len())
        );
    }
}

/// A server that sends a greeting, ends its writes and prints what it
/// got.
const GREETER: &str = r#"
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"ping\n"); c.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = c.recv(100)
    if not d: break
    got += d
import sys
print("got", got.decode().strip(), file=sys.stderr, flush=True)
"#;

#[test]
fn connect_first_dials_both_servers() {
    if !require_tool("python3") {
        return;
    }
    let (mut greeter, a) = python_server(GREETER);
    let (_device, b) = python_server(UPPER_DEVICE);
    let (status, _, err) = run_with_input(
        sockmate(&[
            "relay",
            "--connect-first",
            &format!("tcp://127.0.0.1:{a}"),
            &format!("tcp://127.0.0.1:{b}"),
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(greeter.wait_line("got"), "got PING");
    assert!(greeter.wait().success());
}

#[test]
fn listen_both_pairs_two_clients() {
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "--listen-both",
        "127.0.0.1:0",
        "127.0.0.1:0",
    ]));
    let one = relay.listening_addr();
    let two = relay.listening_addr();
    let mut a = TcpStream::connect(&one).unwrap();
    let mut b = TcpStream::connect(&two).unwrap();
    a.write_all(b"from a\n").unwrap();
    b.write_all(b"from b\n").unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    b.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut a), b"from b\n");
    assert_eq!(read_to_end(&mut b), b"from a\n");
    assert!(relay.wait().success());
    // The listeners went with the pair.
    assert!(TcpStream::connect(&one).is_err());
}

#[test]
fn stdio_serves_one_client_only() {
    let mut cmd = sockmate(&["relay", "127.0.0.1:0", "-"]);
    cmd.stdout(Stdio::piped()).stdin(Stdio::piped());
    let mut relay = Proc::spawn_configured(cmd);
    let addr = relay.listening_addr();
    let _first = TcpStream::connect(&addr).unwrap();
    relay.wait_line("connected:");
    let mut second = TcpStream::connect(&addr).unwrap();
    let refused = relay.wait_line("already serve another connection");
    assert!(refused.contains("(-)"), "{refused}");
    assert!(read_to_end(&mut second).is_empty());
}

#[test]
fn exec_first_side_is_the_one_client() {
    if !require_tool("python3") {
        return;
    }
    let (_device, port) = python_server(UPPER_DEVICE);
    // The command ends before the device's answer comes: the answer is
    // dropped (as --exec does), the end is clean.
    let (status, _, err) = run_with_input(
        sockmate(&[
            "relay",
            "exec:echo hello",
            &format!("tcp://127.0.0.1:{port}"),
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert!(
        err.contains("(6 bytes in, 6 bytes out, command exited)"),
        "{err}"
    );
}

#[test]
fn connect_exec_prints_what_the_command_says() {
    let command = format!("exec:{}", shell_command("echo hello", "cmd /C echo hello"));
    let (status, out, err) = run_with_input(sockmate(&["connect", "-v", &command]), b"");
    assert!(status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&out).trim_end(), "hello");
    assert!(err.contains("command exited)"), "{err}");
}
