//! The device engineer's terminal (issue 12): payload templates and
//! checksums on the wire, live counters and SIGUSR1, profiles, nc's EOF
//! switches, client-side exec and --pty, the console in tmux, nc hints.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::*;

/// `sockmate listen 0 -k --serve echo -q` and its address (the server
/// lives as long as the returned `Proc`).
fn echo_server() -> (Proc, String) {
    let mut server = Proc::spawn(sockmate(&["listen", "0", "-k", "--serve", "echo", "-q"]));
    let addr = server.listening_addr();
    (server, addr)
}

/// Runs sockmate with `args` and no stdin, to its end.
fn run_without_stdin(args: &[&str]) -> std::process::Output {
    sockmate(args).stdin(Stdio::null()).output().unwrap()
}

/// A Modbus echo loop: the template's bytes go out with their CRC, come
/// back, and both directions show as compact hex lines.
#[test]
fn modbus_template_round_trip_in_hex_lines() {
    let (_server, addr) = echo_server();
    let out = run_without_stdin(&[
        "connect",
        &addr,
        "--send-template",
        "{hex:01 03 00 00 00 01}{crc16:modbus}",
        "--send-hex",
        "ff",
        "--hex=line",
        "-t",
        "--recv-count",
        "2",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!("{addr} > 01 03 00 00 00 01 84 0a"))),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("{addr} < 01 03 00 00 00 01 84 0a"))
                || l.contains(&format!("{addr} < 01 03 00 00 00 01 84 0a ff"))),
        "{text}"
    );
    // `[12:00:01.234] ` in front of each line.
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('[') && &l[13..15] == "] "),
        "{text}"
    );
}

/// `{time}` in a `--send-template` follows `--time-format` on connect as
/// it does in listen's `--reply`; a bad layout is refused before connecting.
#[test]
fn send_template_time_follows_time_format() {
    let (_server, addr) = echo_server();
    let out = run_without_stdin(&[
        "connect",
        &addr,
        "--send-template",
        "{time}|{n}\\n",
        "--time-format",
        "%Y=%m",
        "--recv-count",
        "1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().next().unwrap_or("");
    let (time, n) = line.split_once('|').unwrap_or(("", ""));
    assert_eq!(n, "1", "{text:?}");
    assert_eq!(time.len(), 7, "{text:?}");
    assert_eq!(&time[4..5], "=", "{text:?}");
    assert!(time[..4].chars().all(|c| c.is_ascii_digit()), "{text:?}");

    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &addr,
            "--send-template",
            "{time}",
            "--time-format",
            "%Q",
        ]),
        b"",
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("--time-format"), "{err}");
}

/// `--send` stays literal; `--send-hex` bytes show as hex in a text
/// transcript, never decoded.
#[test]
fn send_stays_literal_and_send_hex_shows_as_hex() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got
    });
    let out = run_without_stdin(&[
        "connect",
        &addr,
        "--send",
        "{\"n\": {n}}",
        "--send-hex",
        "00 41",
        "-t",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(t.join().unwrap(), b"{\"n\": {n}}\x00\x41");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("> 00 41"), "{text}");
}

fn total_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("stats: total at +"))
        .cloned()
        .collect()
}

fn elapsed_of(line: &str) -> f64 {
    line.split("at +")
        .nth(1)
        .and_then(|r| r.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no elapsed time in {line:?}"))
}

/// Counter lines come every interval (never sooner) and their totals are
/// exact once the client is done.
#[test]
fn stats_interval_prints_exact_totals_periodically() {
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        "0",
        "-k",
        "--serve",
        "echo",
        "--stats-interval",
        "200ms",
    ]));
    let addr = server.listening_addr();
    let mut c = TcpStream::connect(&addr).unwrap();
    c.write_all(b"0123456789").unwrap();
    let mut back = [0u8; 10];
    c.read_exact(&mut back).unwrap();
    drop(c);
    server.wait_line("closed:");
    // The next counters after the close hold everything.
    let line = server.wait_line("1 closed");
    assert!(
        line.contains("in 10 B / 1 msgs, out 10 B / 1 msgs; 0 open, 1 closed"),
        "{line}"
    );
    server.wait_line("1 closed");
    server.wait_line("1 closed");
    let totals = total_lines(&server.stderr_lines());
    assert!(totals.len() >= 3, "{totals:?}");
    let times: Vec<f64> = totals.iter().map(|l| elapsed_of(l)).collect();
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= 0.15,
            "lines closer than the interval: {times:?}"
        );
    }
}

/// SIGUSR1 prints the counters and the session goes on to a normal end.
#[test]
fn sigusr1_prints_counters_and_goes_on() {
    let mut server = Proc::spawn(sockmate(&["listen", "0"]));
    let addr = server.listening_addr();
    let mut c = TcpStream::connect(&addr).unwrap();
    server.wait_line("connected:");
    c.write_all(b"abc").unwrap();
    let mut seen = 0;
    // Until the bytes show in the counters (the read may be in flight).
    while seen < 50 {
        server.signal("USR1");
        let line = server.wait_line("stats: total at +");
        if line.contains("in 3 B / 1 msgs") {
            break;
        }
        seen += 1;
    }
    assert!(seen < 50, "{:?}", server.stderr_lines());
    c.shutdown(Shutdown::Write).unwrap();
    server.close_stdin();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert!(server.wait().success(), "{:?}", server.stderr_lines());
    assert_eq!(server.read_stdout_to_end(), b"abc");
}

/// A profile runs like its flags, `profile show` prints them, and an
/// unknown key is refused by name.
#[test]
fn profile_round_trip_and_unknown_key() {
    let (_server, addr) = echo_server();
    let dir = tempdir();
    let path = dir.path().join("modbus.toml");
    std::fs::write(
        &path,
        format!(
            "command = \"connect\"\nendpoint = \"{addr}\"\n[view]\nhex = \"line\"\n[packets]\nread = \"{{hex:01 03 00 00 00 01}}{{crc16:modbus}}\"\n"
        ),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let show = sockmate(&["profile", "show", p]).output().unwrap();
    let shown = String::from_utf8(show.stdout).unwrap();
    assert!(
        shown.starts_with(&format!("sockmate connect {addr} --hex=line\n")),
        "{shown}"
    );
    assert!(
        shown.contains("packet read: '{hex:01 03 00 00 00 01}{crc16:modbus}'"),
        "{shown}"
    );
    let out = run_without_stdin(&["--profile", p, "--packet", "read", "--recv-count", "1"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("{addr} < 01 03 00 00 00 01 84 0a")),
        "{text}"
    );

    std::fs::write(&path, "endpoint = \"x:1\"\n[view]\nhexdump = true\n").unwrap();
    let out = sockmate(&["connect", "--profile", p]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown field `hexdump`") && err.contains("line 3"),
        "{err}"
    );
}

/// A server that answers after our EOF, and one that talks then closes at
/// once, against each switch.
fn replies_after_eof() -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(b"reply after EOF\n").unwrap();
        got
    });
    (addr, t)
}

fn talks_and_closes(say: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(say).unwrap();
        // A client that reads nothing (`--send-only`) may already have
        // closed, resetting the connection over our unread bytes: then
        // there is nothing left to half-close.
        let _ = s.shutdown(Shutdown::Write);
        // What came before our close (nothing is waited for).
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    });
    (addr, t)
}

#[test]
fn eof_switches() {
    // Default: stdin's end half-closes, the late reply still arrives.
    let (addr, t) = replies_after_eof();
    let (status, out, _) = run_with_input(sockmate(&["connect", &addr]), b"ping\n");
    assert!(status.success());
    assert_eq!(out, b"reply after EOF\n");
    assert_eq!(t.join().unwrap(), b"ping\n");

    // --send-only: received data is not shown; the end of stdin ends it.
    let (addr, t) = replies_after_eof();
    let (status, out, _) = run_with_input(sockmate(&["connect", &addr, "--send-only"]), b"ping\n");
    assert!(status.success());
    assert_eq!(out, b"");
    assert_eq!(t.join().unwrap(), b"ping\n");

    // --exit-on-peer-eof: the peer's close ends it although stdin stays open.
    let (addr, t) = talks_and_closes(b"hello\n");
    let mut p = Proc::spawn(sockmate(&["connect", &addr, "--exit-on-peer-eof"]));
    assert!(p.wait().success(), "{:?}", p.stderr_lines());
    assert_eq!(p.read_stdout_to_end(), b"hello\n");
    t.join().unwrap();

    // --recv-count 1: one message and out, stdin still open.
    let (addr, t) = talks_and_closes(b"one");
    let mut p = Proc::spawn(sockmate(&["connect", &addr, "--recv-count", "1"]));
    assert!(p.wait().success(), "{:?}", p.stderr_lines());
    assert_eq!(p.read_stdout_to_end(), b"one");
    t.join().unwrap();

    // --recv-only: stdin is not read and nothing is sent.
    let (addr, t) = talks_and_closes(b"data\n");
    let (status, out, _) = run_with_input(
        sockmate(&["connect", &addr, "--recv-only", "--exit-on-peer-eof"]),
        b"never sent\n",
    );
    assert!(status.success());
    assert_eq!(out, b"data\n");
    assert_eq!(t.join().unwrap(), b"");

    // The other server for each switch.
    let (addr, t) = talks_and_closes(b"hello\n");
    let (status, out, _) = run_with_input(sockmate(&["connect", &addr, "--send-only"]), b"ping\n");
    assert!(status.success());
    assert_eq!(out, b"");
    t.join().unwrap();

    let (addr, t) = replies_after_eof();
    let (status, out, _) = run_with_input(
        sockmate(&["connect", &addr, "--exit-on-peer-eof"]),
        b"ping\n",
    );
    assert!(status.success());
    assert_eq!(out, b"reply after EOF\n");
    assert_eq!(t.join().unwrap(), b"ping\n");

    let (addr, t) = replies_after_eof();
    let (status, out, _) = run_with_input(
        sockmate(&["connect", &addr, "--recv-count", "1"]),
        b"ping\n",
    );
    assert!(status.success());
    assert_eq!(out, b"reply after EOF\n");
    assert_eq!(t.join().unwrap(), b"ping\n");

    let (addr, t) = talks_and_closes(b"hello\n");
    let (status, out, _) =
        run_with_input(sockmate(&["connect", &addr, "--no-shutdown"]), b"ping\n");
    assert!(status.success());
    assert_eq!(out, b"hello\n");
    t.join().unwrap();
}

/// --no-shutdown: stdin's end does not half-close; the server that takes
/// a half-close as a close keeps talking, and its close ends us.
#[test]
fn no_shutdown_keeps_the_write_side_open() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut line = [0u8; 5];
        s.read_exact(&mut line).unwrap();
        // No EOF may follow: a read times out instead of returning 0.
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut more = [0u8; 8];
        let eof = matches!(s.read(&mut more), Ok(0));
        s.write_all(b"still here\n").unwrap();
        (line, eof)
    });
    let (status, out, _) =
        run_with_input(sockmate(&["connect", &addr, "--no-shutdown"]), b"ping\n");
    let (line, eof) = t.join().unwrap();
    assert!(status.success());
    assert_eq!(&line, b"ping\n");
    assert!(!eof, "--no-shutdown half-closed");
    assert_eq!(out, b"still here\n");
}

/// --delay sends stdin lines one at a time, in order.
#[test]
fn delay_between_lines_keeps_order() {
    let (addr, t) = replies_after_eof();
    let (status, _, _) = run_with_input(
        sockmate(&["connect", &addr, "--delay", "50ms"]),
        b"a\nb\nc\n",
    );
    assert!(status.success());
    assert_eq!(t.join().unwrap(), b"a\nb\nc\n");
}

/// connect --sh-exec against a real server: the command's stdin and
/// stdout are the connection; it is reaped when it ends.
#[test]
fn connect_exec_talks_to_a_real_peer() {
    let mut server = Proc::spawn(sockmate(&["listen", "0", "--send", "ping\\n"]));
    let addr = server.listening_addr();
    let out = run_without_stdin(&[
        "connect",
        &addr,
        "--sh-exec",
        "read line; echo \"got $line\"",
        "-v",
    ]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("command exited"), "{err}");
    server.close_stdin();
    assert_eq!(server.read_stdout_to_end(), b"got ping\n");
}

/// --pty: the command's stdin is a terminal.
#[test]
fn pty_gives_the_command_a_terminal() {
    let mut server = Proc::spawn(sockmate(&["listen", "0"]));
    let addr = server.listening_addr();
    let out = run_without_stdin(&[
        "connect",
        &addr,
        "--pty",
        "--sh-exec",
        "tty; test -t 0 && echo is-a-tty",
    ]);
    assert!(out.status.success(), "{out:?}");
    server.close_stdin();
    let got = String::from_utf8(server.read_stdout_to_end()).unwrap();
    assert!(got.starts_with("/dev/pts/"), "{got:?}");
    assert!(got.contains("is-a-tty\r\n"), "{got:?}");
    // And on the listening side.
    let mut server = Proc::spawn(sockmate(&["listen", "0", "--pty", "--exec", "tty", "-q"]));
    let addr = server.listening_addr();
    let mut c = TcpStream::connect(&addr).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert!(got.starts_with(b"/dev/pts/"), "{got:?}");
}

#[test]
fn nc_habits_get_hints() {
    for (args, want) in [
        (&["listen", "-u", "9999"][..], "write udp://127.0.0.1:9999"),
        (
            &["connect", "127.0.0.1", "80"][..],
            "sockmate connect 127.0.0.1:80",
        ),
        (&["-l", "-p", "9999"][..], "sockmate listen 9999"),
        (&["listen", "9999", "-e", "/bin/cat"][..], "--exec"),
        (
            &["connect", "-z", "127.0.0.1", "80"][..],
            "sockmate scan 127.0.0.1 80",
        ),
    ] {
        let out = sockmate(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("tip: to pass"), "{args:?}: {err}");
    }
}

fn tmux(args: &[&str]) -> std::process::Output {
    std::process::Command::new("tmux")
        .args(args)
        .output()
        .unwrap()
}

fn wait_for(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "no {needle:?} in {text:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The console in a real terminal (tmux): hex to all, a list of three
/// clients, a line to one only, a close; the history is kept.
#[test]
fn console_in_a_terminal() {
    if !require_tool("tmux") {
        return;
    }
    let dir = tempdir();
    let err = dir.path().join("stderr");
    let history = dir.path().join("history");
    let session = format!("sockmate-console-{}", std::process::id());
    let cmd = format!(
        "SOCKMATE_HISTORY={} {} listen 0 -k 2>{} >/dev/null",
        history.display(),
        bin().display(),
        err.display()
    );
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "30",
        &cmd,
    ]);
    assert!(started.status.success(), "{started:?}");
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = tmux(&["kill-session", "-t", &self.0]);
        }
    }
    let _kill = Kill(session.clone());
    let text = wait_for(&err, "listening on ");
    let addr = text
        .split("listening on tcp://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let mut clients: Vec<TcpStream> = Vec::new();
    for i in 1..=3 {
        clients.push(TcpStream::connect(&addr).unwrap());
        wait_for(
            &err,
            &format!("connected: {}", clients[i - 1].local_addr().unwrap()),
        );
    }
    let keys = |line: &str| {
        assert!(tmux(&["send-keys", "-t", &session, "-l", line])
            .status
            .success());
        assert!(tmux(&["send-keys", "-t", &session, "Enter"])
            .status
            .success());
    };
    let read_n = |c: &mut TcpStream, n: usize| {
        let mut buf = vec![0u8; n];
        c.set_read_timeout(Some(DEADLINE)).unwrap();
        c.read_exact(&mut buf).unwrap();
        buf
    };
    keys("/hex 01 03 00 00");
    for c in clients.iter_mut() {
        assert_eq!(read_n(c, 4), [1, 3, 0, 0]);
    }
    keys("/list");
    let text = wait_for(&err, "3 connection(s)");
    for id in 1..=3 {
        assert!(text.contains(&format!("  #{id} 127.0.0.1:")), "{text}");
    }
    keys("@2 only two");
    assert_eq!(read_n(&mut clients[1], 9), b"only two\n");
    keys("//slash");
    for c in clients.iter_mut() {
        assert_eq!(read_n(c, 7), b"/slash\n");
    }
    keys("/close 3");
    let mut rest = Vec::new();
    clients[2].read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"", "client 3 got bytes meant for client 2");
    // Clients 1 and 3 never saw "only two": their next bytes are the next line.
    keys("/to 1 first");
    assert_eq!(read_n(&mut clients[0], 6), b"first\n");
    keys("/bogus");
    wait_for(&err, "unknown command /bogus");
    assert!(tmux(&["send-keys", "-t", &session, "C-d"]).status.success());
    let deadline = Instant::now() + DEADLINE;
    while !std::fs::read_to_string(&history)
        .unwrap_or_default()
        .contains("/close 3")
    {
        assert!(Instant::now() < deadline, "history not saved");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `--exit-on-peer-eof=DELAY`: after the peer's end, stdin still goes out
/// for DELAY, then the session ends although stdin is open.
#[test]
fn exit_on_peer_eof_with_a_delay_goes_on_sending() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"bye\n").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got
    });
    let mut p = Proc::spawn(sockmate(&["connect", &addr, "--exit-on-peer-eof=3s", "-v"]));
    let mut out = p.stdout.take().unwrap();
    let mut bye = [0u8; 4];
    out.read_exact(&mut bye).unwrap();
    assert_eq!(&bye, b"bye\n");
    p.write_stdin(b"late\n");
    assert!(p.wait().success(), "{:?}", p.stderr_lines());
    // Our side closed without stdin ending: the server sees the late line, then EOF.
    assert_eq!(t.join().unwrap(), b"late\n");
}

/// connect --exec against socat: socat's stdin reaches the command and
/// the command's answer comes back to socat's stdout.
#[test]
fn connect_exec_against_socat() {
    if !require_tool("socat") {
        return;
    }
    let mut cmd = std::process::Command::new("socat");
    cmd.args(["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "-"]);
    let mut socat = Proc::spawn(cmd);
    let line = socat.wait_line("listening on AF=2 ");
    let addr = line.rsplit(' ').next().unwrap().to_string();
    let mut client = Proc::spawn(sockmate(&["connect", &addr, "--exec", "tr a-z A-Z"]));
    socat.write_stdin(b"shout this\n");
    socat.close_stdin();
    assert_eq!(socat.read_stdout_to_end(), b"SHOUT THIS\n");
    assert!(client.wait().success(), "{:?}", client.stderr_lines());
}
