//! `serial://` on a pty pair made by `socat -d -d pty,raw,echo=0
//! pty,raw,echo=0`: hex views both ways at two speeds, and a relay
//! between TCP and the serial port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::*;

/// A socat pty pair whose two ends are linked as `a` and `b` in a
/// temporary directory.
struct PtyPair {
    _socat: Proc,
    a: PathBuf,
    b: PathBuf,
    _dir: tempfile::TempDir,
}

fn pty_pair() -> Option<PtyPair> {
    if !require_tool("socat") {
        return None;
    }
    let dir = tempdir();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let mut cmd = Command::new("socat");
    cmd.arg("-d")
        .arg("-d")
        .arg(format!("pty,raw,echo=0,link={}", a.display()))
        .arg(format!("pty,raw,echo=0,link={}", b.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut socat = Proc::spawn_configured(cmd);
    socat.wait_line("starting data transfer loop");
    Some(PtyPair {
        _socat: socat,
        a,
        b,
        _dir: dir,
    })
}

fn url(path: &Path, query: &str) -> String {
    format!("serial://{}?{query}", serial_port_name(path))
}

/// Collects a child's stdout on a thread; `wait_for` waits until it holds
/// `needle`.
struct Output {
    chunks: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Output {
    fn of(proc: &mut Proc) -> Output {
        let mut out = proc.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Output {
            chunks: rx,
            seen: Vec::new(),
        }
    }

    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !String::from_utf8_lossy(&self.seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => panic!(
                    "stdout never showed {needle:?}; saw {:?}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }

    fn wait_for_count(&mut self, needle: &str, count: usize) {
        let deadline = Instant::now() + DEADLINE;
        while String::from_utf8_lossy(&self.seen).matches(needle).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => panic!(
                    "stdout never showed {needle:?} {count} times; saw {:?}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }

    fn wait_len(&mut self, len: usize) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        while self.seen.len() < len {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => panic!("stdout has {} of {len} bytes", self.seen.len()),
            }
        }
        self.seen.clone()
    }
}

/// `connect serial://…` with stdin piped, once it has opened the port.
fn open_port(endpoint: &str, extra: &[&str]) -> (Proc, Output) {
    let mut args = vec!["connect", endpoint, "-v"];
    args.extend_from_slice(extra);
    let mut proc = Proc::spawn(sockmate(&args));
    proc.wait_line("connected: ");
    let out = Output::of(&mut proc);
    (proc, out)
}

#[test]
fn hex_both_ways_at_two_speeds() {
    for (query, settings) in [
        ("baud=9600", &["speed 9600 baud", " -cstopb ", " -inpck "]),
        // A pty forces 8 data bits without a parity bit (Linux pty.c), so
        // parity shows only as input checking (inpck) there.
        (
            "baud=115200&data=8&parity=even&stop=2&flow=none",
            &["speed 115200 baud", " cstopb ", " inpck "],
        ),
    ] {
        let Some(pair) = pty_pair() else { return };
        let (mut b, mut b_out) = open_port(&url(&pair.b, query), &["-x"]);
        // The line settings are on the device while it is open.
        let stty = Command::new("stty")
            .arg("-F")
            .arg(&pair.b)
            .arg("-a")
            .output()
            .expect("stty");
        let shown = String::from_utf8_lossy(&stty.stdout).replace(['\n', ';'], " ");
        for setting in settings {
            assert!(shown.contains(setting), "{setting:?} not in {shown}");
        }
        let (mut a, mut a_out) = open_port(&url(&pair.a, query), &["-x"]);
        a.write_stdin(&[0x00, 0x7f, 0x80, 0xff, b'A']);
        b_out.wait_for("00 7f 80 ff 41");
        b.write_stdin(&[0xde, 0xad, 0xbe, 0xef]);
        a_out.wait_for("de ad be ef");
    }
}

#[test]
fn relay_between_tcp_and_a_serial_port() {
    let Some(pair) = pty_pair() else { return };
    let (mut device, mut device_out) = open_port(&url(&pair.b, "baud=115200"), &[]);
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &url(&pair.a, "baud=115200")]));
    let listen = relay.listening_addr();
    let mut client = TcpStream::connect(&listen).expect("connect relay");
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let data = random_bytes(64 * 1024, 7);
    client.write_all(&data).expect("write");
    assert!(
        device_out.wait_len(data.len()) == data,
        "bytes differ on the serial side"
    );
    device.write_stdin(b"pong from the device\n");
    let mut back = [0u8; 21];
    client
        .read_exact(&mut back)
        .expect("reply through the relay");
    assert_eq!(&back, b"pong from the device\n");

    // A serial line has no half-close: after the client ends its writes,
    // replies still come back, and the pair ends once the line is quiet.
    client
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    device.write_stdin(b"late reply\n");
    let mut rest = Vec::new();
    client
        .read_to_end(&mut rest)
        .expect("the relay closes the pair");
    assert_eq!(rest, b"late reply\n");
    relay.wait_line("closed: ");
}

#[test]
fn serial_errors_are_one_line() {
    let dir = tempdir();
    let missing = dir.path().join("ttyNONE");
    let (status, _, stderr) =
        run_with_input(sockmate(&["connect", &url(&missing, "baud=9600")]), b"");
    assert!(!status.success());
    assert_eq!(
        stderr.trim_end(),
        format!(
            "sockmate: cannot open serial port {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    let (status, _, stderr) =
        run_with_input(sockmate(&["connect", "serial:///dev/null?baud=9600"]), b"");
    assert!(!status.success());
    assert!(stderr.contains("not a serial port"), "{stderr}");
    let (status, _, stderr) = run_with_input(
        sockmate(&["connect", "serial:///dev/ttyS0?parity=mark"]),
        b"",
    );
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("parity is none, even or odd"), "{stderr}");
    let (status, _, stderr) = run_with_input(sockmate(&["listen", "serial:///dev/ttyS0"]), b"");
    assert!(!status.success());
    assert!(stderr.contains("not listened on"), "{stderr}");
}

#[test]
fn auto_send_gbk_and_timestamps_over_a_serial_port() {
    let Some(pair) = pty_pair() else { return };
    let (_b, mut b_out) = open_port(&url(&pair.b, "baud=9600"), &["-t", "--encoding", "gbk"]);
    // 你好 in GBK, twice, from the other end's auto-send.
    let mut a = Proc::spawn(sockmate(&[
        "connect",
        &url(&pair.a, "baud=9600"),
        "--send-hex",
        "c4 e3 ba c3 0a",
        "--count",
        "2",
        "--interval",
        "50ms",
    ]));
    a.close_stdin();
    b_out.wait_for(&format!("{} < 你好\n", pair.b.display()));
    b_out.wait_for_count("你好", 2);
    assert!(a.wait().success());
}
