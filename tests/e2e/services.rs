//! Issue 4: server behaviours. The tutorials' Python servers, reproduced by
//! `sockmate listen` command lines and checked byte for byte with plain
//! Python socket clients; then framing, limits, exec and shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Starts `sockmate listen ARGS…` and returns it with its `host:port`.
fn serve(args: &[&str]) -> (Proc, String) {
    serve_quietly(args)
}

/// Runs a Python client script with the server address as `sys.argv[1]`;
/// the script prints `OK` when every check passed.
fn python(script: &str, addr: &str) -> bool {
    if !require_tool("python3") {
        return false;
    }
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script, addr]);
    let (status, out, err) = run_with_input(cmd, b"");
    let out = String::from_utf8_lossy(&out);
    assert!(
        status.success() && out.trim_end().ends_with("OK"),
        "python client failed: {status}\nstdout: {out}\nstderr: {err}"
    );
    true
}

const PY_PRELUDE: &str = r#"
import socket, sys, threading, re, time
host, port = sys.argv[1].rsplit(":", 1)
ADDR = (host, int(port))
def conn():
    s = socket.create_connection(ADDR, timeout=20)
    return s
def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data
"#;

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s
}

fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("read");
    buf
}

/// Reads until the peer closes (or resets) the connection.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn tutorial_threaded_server_with_5_concurrent_python_clients() {
    let (_server, addr) = serve(&[
        "0",
        "-k",
        "--banner",
        "hello, i am server",
        "--reply",
        "Loop_msg:{text}!",
        "--quit-word",
        "exit",
    ]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
results = []
barrier = threading.Barrier(5)
def client(i):
    s = conn()
    ok = recv_exact(s, 18) == b"hello, i am server"
    barrier.wait()
    for j in range(20):
        msg = ("client %d says %d" % (i, j)).encode()
        s.send(msg)
        want = b"Loop_msg:" + msg + b"!"
        ok = ok and recv_exact(s, len(want)) == want
    s.send(b"exit")
    ok = ok and s.recv(1024) == b""
    results.append(ok)
threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
for t in threads: t.start()
for t in threads: t.join()
print(results)
print("OK" if results == [True] * 5 else "FAIL")
"#
    );
    python(&script, &addr);
}

#[test]
fn tutorial_udp_server_replies_per_datagram() {
    let (_server, addr) = serve(&["udp://127.0.0.1:0", "-k", "--reply", "hello,{text}!"]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
ok = True
for msg in [b"hi", b"there", b"x" * 1000]:
    s.sendto(msg, ADDR)
    data, _ = s.recvfrom(65536)
    ok = ok and data == b"hello," + msg + b"!"
print("OK" if ok else "FAIL")
"#
    );
    python(&script, &addr);
}

#[test]
fn tutorial_timestamp_server_answers_like_ctime() {
    let (_server, addr) = serve(&["0", "-k", "--serve", "time"]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
s = conn()
s.send(b"hello")
data = s.recv(1024).decode()
m = re.fullmatch(r"\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\] hello", data)
ok = m is not None
if ok:
    stamp = time.mktime(time.strptime(m.group(1)))
    ok = abs(stamp - time.time()) < 120 and len(m.group(1)) == len(time.ctime())
print(data)
print("OK" if ok else "FAIL")
"#
    );
    python(&script, &addr);
}

#[test]
fn tutorial_remote_command_server_runs_sh() {
    let (mut server, addr) = serve(&["0", "--exec", "sh", "--max-conns", "2"]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
s = conn()
s.send(b"echo hello from sh\n")
ok = recv_exact(s, 14) == b"hello from sh\n"
s.send(b"echo $((6 * 7))\n")
rest = b""
while not rest.endswith(b"42\n"):
    chunk = s.recv(1024)
    if not chunk: break
    rest += chunk
ok = ok and rest.endswith(b"42\n")
s.send(b"exit\n")
ok = ok and s.recv(1024) == b""
print("OK" if ok else "FAIL")
"#
    );
    if python(&script, &addr) {
        assert!(
            server.wait().success(),
            "one-client exec server should exit 0"
        );
    }
}

#[test]
fn tutorial_chat_room_with_nick_who_and_leave() {
    let (_server, addr) = serve(&["0", "-k", "--serve", "chat"]);
    let script = format!(
        "{PY_PRELUDE}{}",
        r#"
def join():
    s = conn()
    f = s.makefile("rb")
    welcome = f.readline()
    assert welcome.startswith(b"* welcome, you are "), welcome
    return s, f, s.getsockname()
a, fa, pa = join()
b, fb, pb = join()
name = lambda p: ("%s:%d" % p).encode()
assert fa.readline() == b"* " + name(pb) + b" joined\n"
c, fc, pc = join()
assert fa.readline() == b"* " + name(pc) + b" joined\n"
assert fb.readline() == b"* " + name(pc) + b" joined\n"
a.sendall(b"/nick alice\n")
for f in (fa, fb, fc):
    line = f.readline()
    assert line == b"* " + name(pa) + b" is now alice\n", line
a.sendall(b"hello room\n")
assert fb.readline() == b"[alice] hello room\n"
assert fc.readline() == b"[alice] hello room\n"
b.sendall(b"/who\n")
line = fb.readline()
want = b"* in the room: " + b", ".join(sorted([b"alice", name(pb), name(pc)])) + b"\n"
assert line == want, (line, want)
fc.close(); c.close()
assert fa.readline() == b"* " + name(pc) + b" left\n"
assert fb.readline() == b"* " + name(pc) + b" left\n"
b.sendall(b"bye\n")
assert fa.readline() == b"[" + name(pb) + b"] bye\n"
print("OK")
"#
    );
    python(&script, &addr);
}

#[test]
fn echo_returns_50mb_byte_exact_to_a_slow_reader() {
    let (_server, addr) = serve(&["0", "-k", "-q", "--serve", "echo"]);
    let data = random_bytes(50 * 1024 * 1024, 4);
    let mut s = connect(&addr);
    let mut writer = s.try_clone().unwrap();
    let sent = data.clone();
    let t = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut got = Vec::with_capacity(data.len());
    let mut buf = [0u8; 4096];
    let mut reads = 0u64;
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        reads += 1;
        // Slow at first, so the server meets a full socket (backpressure).
        if got.len() < 8 * 1024 * 1024 && reads.is_multiple_of(64) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    t.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echoed bytes differ");
}

#[test]
fn respond_rules_text_hex_regex_file_and_default() {
    let dir = tempdir();
    let rules = dir.path().join("rules.txt");
    std::fs::write(&rules, "# a device\nSTATUS=>OK {n}\\n\n").unwrap();
    let (_server, addr) = serve(&[
        "0",
        "-k",
        "--frame",
        "line",
        "--respond",
        "PING=>PONG\\n",
        "--respond",
        "hex:01 02=>hex:06",
        "--respond",
        r"re:^GET (\w+)=>value of $1\n",
        "--respond-file",
        rules.to_str().unwrap(),
        "--respond-default",
        "?\\n",
    ]);
    let mut s = connect(&addr);
    for (send, want) in [
        (&b"PING\n"[..], &b"PONG\n"[..]),
        (b"\x01\x02\n", b"\x06"),
        (b"GET temp\r\n", b"value of temp\n"),
        (b"STATUS\n", b"OK 4\n"),
        (b"what\n", b"?\n"),
    ] {
        s.write_all(send).unwrap();
        assert_eq!(read_exact(&mut s, want.len()), want, "for {send:?}");
    }
}

#[test]
fn an_oversized_frame_closes_only_its_client() {
    let (_server, addr) = serve(&[
        "0",
        "-k",
        "--frame",
        "line",
        "--max-frame",
        "16",
        "--serve",
        "echo",
    ]);
    let mut good = connect(&addr);
    let mut bad = connect(&addr);
    good.write_all(b"before\n").unwrap();
    assert_eq!(read_exact(&mut good, 7), b"before\n");
    bad.write_all(&[b'x'; 100]).unwrap();
    let got = read_to_close(&mut bad);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "sockmate: message longer than --max-frame 16 bytes; closing\n"
    );
    good.write_all(b"after\n").unwrap();
    assert_eq!(read_exact(&mut good, 6), b"after\n");
}

#[test]
fn max_conns_refuses_with_one_line_and_frees_slots() {
    let (mut server, addr) = serve(&["0", "-k", "--serve", "echo", "--max-conns", "2"]);
    let mut a = connect(&addr);
    let mut b = connect(&addr);
    for s in [&mut a, &mut b] {
        s.write_all(b"hi").unwrap();
        assert_eq!(read_exact(s, 2), b"hi");
    }
    let mut c = connect(&addr);
    assert_eq!(
        String::from_utf8_lossy(&read_to_close(&mut c)),
        "sockmate: server full (limit 2 connections); try again later\n"
    );
    server.wait_line("refused:");
    drop(a);
    server.wait_line("closed:");
    let mut d = connect(&addr);
    d.write_all(b"again").unwrap();
    assert_eq!(read_exact(&mut d, 5), b"again");
}

#[test]
fn idle_timeout_closes_a_quiet_client() {
    let (mut server, addr) = serve(&["0", "-k", "--serve", "echo", "--idle-timeout", "300ms"]);
    let mut s = connect(&addr);
    s.write_all(b"x").unwrap();
    assert_eq!(read_exact(&mut s, 1), b"x");
    assert!(read_to_close(&mut s).is_empty());
    let line = server.wait_line("closed:");
    assert!(line.contains("idle timeout"), "{line}");
}

fn connect_from(source: &str, addr: &str) -> std::io::Result<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    let src: SocketAddr = format!("{source}:0").parse().unwrap();
    sock.bind(&src.into())?;
    let dst: SocketAddr = addr.parse().unwrap();
    sock.connect(&dst.into())?;
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(DEADLINE))?;
    Ok(s)
}

/// True when the server echoes through a client from `source`.
fn served_from(source: &str, addr: &str) -> bool {
    let Ok(mut s) = connect_from(source, addr) else {
        return false;
    };
    if s.write_all(b"ping").is_err() {
        return false;
    }
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"ping"
}

#[test]
fn allow_and_deny_pick_who_is_served() {
    let (_s1, addr) = serve(&["0", "-k", "--serve", "echo", "--deny", "127.0.0.2"]);
    assert!(served_from("127.0.0.1", &addr));
    assert!(!served_from("127.0.0.2", &addr));
    let (_s2, addr) = serve(&[
        "0",
        "-k",
        "--serve",
        "echo",
        "--allow",
        "127.0.0.0/30",
        "--deny",
        "127.0.0.3/32",
    ]);
    assert!(served_from("127.0.0.2", &addr));
    assert!(!served_from("127.0.0.3", &addr));
    assert!(!served_from("127.0.0.9", &addr));
}

/// Process ids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exec_kills_and_reaps_its_child_when_the_client_goes() {
    let (server, addr) = serve(&["0", "-k", "--exec", "sleep 600", "--max-conns", "2"]);
    let pid = server.child.id();
    let s = connect(&addr);
    wait_until("the exec child to start", || !children_of(pid).is_empty());
    let kids = children_of(pid);
    drop(s);
    wait_until("the exec child to be killed and reaped", || {
        kids.iter()
            .all(|k| !std::path::Path::new(&format!("/proc/{k}")).exists())
    });
    assert!(children_of(pid).is_empty(), "no child (or zombie) is left");
}

#[test]
fn exec_cat_echoes_and_refuses_non_loopback_without_allow() {
    let (_server, addr) = serve(&["0", "-k", "--exec", "cat", "--max-conns", "2"]);
    let mut s = connect(&addr);
    s.write_all(b"through cat\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut s), b"through cat\n");

    let (status, _, err) = run_with_input(sockmate(&["listen", "0.0.0.0:0", "--exec", "sh"]), b"");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("refusing --exec on tcp://0.0.0.0:0"), "{err}");
}

#[test]
fn graceful_shutdown_delivers_a_reply_in_flight() {
    const LEN: usize = 8 * 1024 * 1024;
    let mut cmd = sockmate(&[
        "listen",
        "0",
        "-k",
        "-q",
        "--frame",
        "line",
        "--max-frame",
        "16m",
        "--reply",
        "{text}\\n",
    ]);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut stdout = server.stdout.take().unwrap();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut total = 0usize;
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            if total == LEN + 1 {
                let _ = seen_tx.send(());
            }
        }
    });
    let mut message = random_bytes(LEN, 9)
        .into_iter()
        .map(|b| if b == b'\n' { b'.' } else { b })
        .collect::<Vec<u8>>();
    message.push(b'\n');
    let mut s = connect(&addr);
    let mut w = s.try_clone().unwrap();
    let to_send = message.clone();
    let writer = std::thread::spawn(move || w.write_all(&to_send).unwrap());
    // The server has the whole message once its view printed every byte;
    // the reply is then being written to a client that is not reading yet.
    seen_rx
        .recv_timeout(DEADLINE)
        .expect("server saw the message");
    writer.join().unwrap();
    server.signal("TERM");
    let got = read_to_close(&mut s);
    assert_eq!(got.len(), message.len());
    assert!(got == message, "reply differs");
    let status = server.wait();
    assert_eq!(status.code(), Some(143));
}

#[test]
fn holds_and_serves_2000_concurrent_connections() {
    const CONNS: usize = 2000;
    sockmate::limits::raise_nofile_limit().expect("raise fd limit");
    let (_server, addr) = serve(&["0", "-k", "-q", "--serve", "echo"]);
    let mut conns: Vec<TcpStream> = (0..CONNS).map(|_| connect(&addr)).collect();
    for (i, s) in conns.iter_mut().enumerate() {
        s.write_all(&(i as u32).to_be_bytes()).unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        assert_eq!(read_exact(s, 4), (i as u32).to_be_bytes());
    }
}

#[test]
fn broker_chargen_and_udp_echo_with_banner() {
    // The banner comes once a client is in the hub: after it, it hears all.
    let (_b, addr) = serve(&["0", "-k", "--serve", "broker", "--banner", "in\\n"]);
    let mut a = connect(&addr);
    let mut b = connect(&addr);
    let mut c = connect(&addr);
    for s in [&mut a, &mut b, &mut c] {
        assert_eq!(read_exact(s, 3), b"in\n");
    }
    b.write_all(b"x").unwrap();
    assert_eq!(read_exact(&mut a, 1), b"x");
    assert_eq!(read_exact(&mut c, 1), b"x");
    a.write_all(b"\x00raw\xff").unwrap();
    assert_eq!(read_exact(&mut b, 5), b"\x00raw\xff");
    assert_eq!(read_exact(&mut c, 5), b"\x00raw\xff");

    let (_c, addr) = serve(&["0", "-k", "--serve", "chargen"]);
    let mut s = connect(&addr);
    let first = read_exact(&mut s, 148);
    assert!(first.starts_with(b" !\"#$%&'()*+,-./0123"));
    assert_eq!(&first[72..74], b"\r\n");
    assert!(first[74..].starts_with(b"!\"#$"));

    let (_u, addr) = serve(&[
        "udp://127.0.0.1:0",
        "-k",
        "--serve",
        "echo",
        "--banner",
        "welcome\\n",
    ]);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 100];
    for (i, msg) in [&b"one"[..], b"two"].iter().enumerate() {
        sock.send_to(msg, &addr).unwrap();
        if i == 0 {
            let n = sock.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"welcome\n");
        }
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], *msg);
    }
}

#[test]
fn line_framing_replies_per_line_and_bad_templates_exit_2() {
    // With line framing a message is the line without its ending (issue 13).
    let (_server, addr) = serve(&[
        "0",
        "-k",
        "--frame",
        "line",
        "--reply",
        "{n}:{len}:{text}\\n",
    ]);
    let mut s = connect(&addr);
    s.write_all(b"ab\ncd\nlast").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    BufReader::new(s).read_to_string(&mut out).unwrap();
    assert_eq!(out, "1:2:ab\n2:2:cd\n3:4:last\n");

    let (status, _, err) = run_with_input(sockmate(&["listen", "0", "--reply", "Loop_{txt}"]), b"");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown placeholder {txt} at position 5"),
        "{err}"
    );
    assert_eq!(our_stderr_lines(&err).len(), 1, "one line: {err}");
}

#[test]
fn limits_without_a_service_keep_the_plain_stdin_session() {
    let mut cmd = sockmate(&["listen", "0", "-k", "--max-conns", "1"]);
    cmd.stdout(Stdio::piped()).stdin(Stdio::piped());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut a = connect(&addr);
    server.wait_line("connected:");
    server.write_stdin(b"typed line\n");
    assert_eq!(read_exact(&mut a, 11), b"typed line\n");
    let mut b = connect(&addr);
    assert_eq!(
        String::from_utf8_lossy(&read_to_close(&mut b)),
        "sockmate: server full (limit 1 connections); try again later\n"
    );
    a.write_all(b"from client").unwrap();
    drop(a);
    server.wait_line("closed:");
    server.signal("INT");
    assert_eq!(server.read_stdout_to_end(), b"from client");
}

#[test]
fn a_slow_chat_client_skips_with_a_notice_and_never_slows_the_room() {
    // More than the kernel can buffer for the slow client (its send buffer
    // at most tcp_wmem's maximum) plus its queue in sockmate (256 lines).
    let wmem_max: usize = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20);
    let lines = wmem_max / 4000 + 256 + 200;
    let (_server, addr) = serve(&["0", "-k", "--serve", "chat"]);
    // The slow client: a tiny receive buffer, and it does not read for now.
    let slow = {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        let dst: SocketAddr = addr.parse().unwrap();
        sock.connect(&dst.into()).unwrap();
        let s: TcpStream = sock.into();
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        s
    };
    let mut slow_lines = BufReader::new(slow);
    let mut line = String::new();
    slow_lines.read_line(&mut line).unwrap();
    assert!(line.starts_with("* welcome"), "{line}");
    // A client is in the room once it has its welcome line.
    let mut talker = connect(&addr);
    let mut seen = String::new();
    BufReader::new(talker.try_clone().unwrap())
        .read_line(&mut seen)
        .unwrap();
    let mut listener = BufReader::new(connect(&addr));
    seen.clear();
    listener.read_line(&mut seen).unwrap();
    assert!(seen.starts_with("* welcome"), "{seen}");
    // Several MB, far more than the slow client's buffers and queue.
    let text = "x".repeat(4000);
    for i in 0..lines {
        talker
            .write_all(format!("{i} {text}\n").as_bytes())
            .unwrap();
        seen.clear();
        listener.read_line(&mut seen).unwrap();
        assert!(
            seen.starts_with("[") && seen.contains(&format!("] {i} x")),
            "line {i}"
        );
    }
    // The slow client catches up: some lines, then the notice, then more.
    let mut got = 0;
    loop {
        line.clear();
        assert!(slow_lines.read_line(&mut line).unwrap() > 0, "closed early");
        if line.starts_with("* you were too slow and missed ") {
            break;
        }
        got += 1;
        assert!(got < lines, "no lag notice");
    }
}

#[test]
fn out_of_file_descriptors_backs_off_and_recovers() {
    if !require_tool("prlimit") {
        return;
    }
    // A hard limit of 32 open files: a few dozen clients exhaust it.
    let mut cmd = Command::new("prlimit");
    cmd.args(["--nofile=32:32", "--"])
        .arg(bin())
        .args(["listen", "0", "-k", "-q", "--serve", "echo"])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut clients: Vec<TcpStream> = (0..40).map(|_| connect(&addr)).collect();
    server.wait_line("accept failed");
    // The process lives on; once clients go, new ones are served again.
    let first = clients.remove(0);
    drop(first);
    clients.clear();
    let mut fresh = connect(&addr);
    fresh.write_all(b"still here").unwrap();
    assert_eq!(read_exact(&mut fresh, 10), b"still here");
    assert!(server.child.try_wait().unwrap().is_none(), "server exited");
    let errors = server
        .stderr_lines()
        .iter()
        .filter(|l| l.contains("accept failed"))
        .count();
    assert!(
        errors < 100,
        "{errors} accept errors: it should back off, not spin"
    );
}

#[test]
fn udp_time_and_respond_answer_per_datagram() {
    let (_t, addr) = serve(&["udp://127.0.0.1:0", "-k", "--serve", "time"]);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 200];
    sock.send_to(b"tick", &addr).unwrap();
    let n = sock.recv(&mut buf).unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        reply.starts_with('[') && reply.ends_with("] tick"),
        "{reply}"
    );
    assert_eq!(reply.len(), "[Sun Nov 22 14:03:07 2026] tick".len());

    let (_r, addr) = serve(&[
        "udp://127.0.0.1:0",
        "-k",
        "--respond",
        "hex:aa 01=>hex:bb 01",
        "--respond",
        r"re:^T=(\d+)$=>ack $1",
    ]);
    for (send, want) in [(&b"\xaa\x01"[..], &b"\xbb\x01"[..]), (b"T=42", b"ack 42")] {
        sock.send_to(send, &addr).unwrap();
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], want);
    }
}

#[test]
fn sh_exec_with_stderr_sends_both_streams() {
    let (_server, addr) = serve(&[
        "0",
        "-k",
        "--sh-exec",
        "echo out; echo err >&2",
        "--exec-stderr",
        "--max-conns",
        "2",
    ]);
    let mut s = connect(&addr);
    assert_eq!(read_to_close(&mut s), b"out\nerr\n");
}

#[test]
fn echo_with_stdout_to_dev_null_takes_the_splice_path_byte_exact() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let mut cmd = sockmate(&["listen", "0", "-k", "--serve", "echo"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let data = random_bytes(20 * 1024 * 1024 + 11, 9);
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut writer = client.try_clone().unwrap();
    let to_send = data.clone();
    let sender = std::thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    client.read_to_end(&mut back).unwrap();
    sender.join().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "echoed bytes differ");
    let line = server.wait_line("closed:");
    let n = data.len();
    assert!(
        line.contains(&format!("({n} bytes in, {n} bytes out")),
        "{line}"
    );
}
