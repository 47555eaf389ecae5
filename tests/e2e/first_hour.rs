//! Issue 22: the learner's first hour. The tutorials' own Python programs
//! (run from `../shared/tutorials/`, never copied here) against every line
//! the README, the guides and `--help` show for them; sends spaced with
//! `--delay`; `--encoding` on piped stdin; errors that teach.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;

use crate::docs::with_port;
use crate::util::*;

/// A tutorial server on a free port, its stdout read line by line.
struct TutorialServer {
    proc: Proc,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl TutorialServer {
    fn start(file: &str) -> TutorialServer {
        let port = free_port();
        let mut cmd = tutorial(file, &[&port.to_string()]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let mut proc = Proc::spawn_configured(cmd);
        let out = proc.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        wait_listening(port);
        TutorialServer { proc, port, lines }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The next line the server prints.
    fn line(&mut self) -> String {
        self.lines.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            panic!(
                "the tutorial server printed nothing more; stderr: {:?}",
                self.proc.drain_stderr()
            )
        })
    }

    /// Lines up to and including the first one containing `needle`.
    fn until(&mut self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.line();
            let done = line.contains(needle);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }
}

/// The command lines starting `sockmate WORD` in a text (markdown or help),
/// with a trailing `# comment` dropped.
fn lines_of(text: &str, word: &str, containing: &str) -> Vec<String> {
    let start = format!("sockmate {word} ");
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with(&start) && l.contains(containing))
        .map(|l| match l.find("  #") {
            Some(at) => l[..at].trim_end().to_string(),
            None => l.to_string(),
        })
        .collect()
}

/// Every place that shows a `sockmate WORD` line containing `containing`:
/// the README, the guides and `listen --help`/`connect --help`.
fn documented(word: &str, containing: &str) -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for page in [
        "README.md",
        "docs/from-python.md",
        "docs/from-python.zh.md",
        "docs/servers.md",
        "docs/connect-listen.md",
    ] {
        let text = std::fs::read_to_string(root.join(page)).unwrap();
        for line in lines_of(&text, word, containing) {
            out.push((page.to_string(), line));
        }
    }
    let (_, help, _) = run_with_input(sockmate(&[word, "--help"]), b"");
    for line in lines_of(&String::from_utf8_lossy(&help), word, containing) {
        out.push((format!("{word} --help"), line));
    }
    out
}

#[test]
fn every_documented_greeting_server_serves_the_tutorial_client() {
    if !have_tutorials() {
        return;
    }
    let lines = documented("listen", "Loop_msg");
    let places: Vec<&str> = lines.iter().map(|(p, _)| p.as_str()).collect();
    for place in ["README.md", "docs/from-python.md", "listen --help"] {
        assert!(places.contains(&place), "no greeting server in {place}");
    }
    for (place, line) in &lines {
        let args = with_port(line, 0);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = sockmate(&argv);
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        let mut server = Proc::spawn_configured(cmd);
        let port = server
            .listening_addr()
            .rsplit_once(':')
            .unwrap()
            .1
            .to_string();
        let (status, out, err) = run_with_input(tutorial("seed000_tcp_client.py", &[&port]), b"");
        let out = String::from_utf8_lossy(&out);
        assert!(status.success(), "{place}: {line}\n{err}");
        let printed: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(printed.len(), 2, "{place}: {line}\n{out}");
        assert!(
            printed[0].starts_with("-->> ") && printed[0].len() > 5,
            "{place}: {line}: the banner\n{out}"
        );
        assert_eq!(
            printed[1], "-->>Loop_msg:Hello,i am a client!",
            "{place}: {line}\n{out}"
        );
        // `exit` closes the tutorial client's connection as a quit word.
        server.wait_line("quit word");
    }
}

#[test]
fn delay_spaces_the_sends_for_the_tutorial_greeting_server() {
    if !have_tutorials() {
        return;
    }
    let lines = documented("connect", "Hello,i am a client");
    assert!(
        !lines.is_empty(),
        "docs/from-python.md shows the client line"
    );
    for (place, line) in &lines {
        let mut server = TutorialServer::start("seed000_tcp_greeting_server.py");
        assert_eq!(server.line(), "wating for conn...");
        let args = with_port(line, server.port);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, out, err) = run_with_input(sockmate(&argv), b"");
        assert!(status.success(), "{place}: {line}\n{err}");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "hello, i am serverLoop_msg:Hello,i am a client!",
            "{place}: {line}"
        );
        let seen = server.until("close.");
        assert!(
            seen.iter().any(|l| l == "Hello,i am a client!"),
            "two messages, not one: {seen:?}"
        );
        assert!(!seen.iter().any(|l| l.contains("clientexit")), "{seen:?}");
    }
}

#[test]
fn verbose_says_when_the_wait_after_the_sends_cut_a_reply_short() {
    if !have_tutorials() {
        return;
    }
    let server = TutorialServer::start("seed000_tcp_greeting_server.py");
    // The server sleeps a second before answering; a short wait ends first.
    let (status, out, err) = run_with_input(
        sockmate(&[
            "connect",
            &server.addr(),
            "-v",
            "--send",
            "Hello,i am a client",
            "--wait",
            "200ms",
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert_eq!(out, b"hello, i am server");
    assert!(
        err.contains("no data for 200ms after the sends ended; --wait longer to keep listening"),
        "{err}"
    );
    let (_, help, _) = run_with_input(sockmate(&["connect", "--help"]), b"");
    let help = String::from_utf8_lossy(&help);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("may arrive as one read"), "{help}");
}

#[test]
fn encoding_transcodes_piped_stdin_for_the_gbk_server() {
    if !have_tutorials() {
        return;
    }
    for name in ["gbk", "cp936"] {
        let mut server = TutorialServer::start("seed002_tcp_recv_loop_server.py");
        let (status, _, err) = run_with_input(
            sockmate(&["connect", &server.addr(), "--encoding", name]),
            "你好，世界\n".as_bytes(),
        );
        assert!(status.success(), "{name}: {err}");
        let seen = server.until("你好");
        assert_eq!(seen.last().unwrap(), "你好，世界", "{name}: {seen:?}");
        // The line's own newline, then its end of input: empty lines.
        assert_eq!(server.line(), "", "{name}");
        assert_eq!(server.line(), "", "{name}");
    }
}

#[test]
fn raw_stdin_keeps_the_bytes_and_unknown_names_get_the_nearest() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got
    });
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &addr, "--encoding", "gbk", "--raw-stdin"]),
        "你好".as_bytes(),
    );
    assert!(status.success(), "{err}");
    assert_eq!(reader.join().unwrap(), "你好".as_bytes());

    let (status, _, err) = run_with_input(
        sockmate(&["connect", "127.0.0.1:9", "--encoding", "gkb"]),
        b"",
    );
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("did you mean gbk?"), "{err}");
}

/// Runs sockmate with no stdin; its exit code and stderr.
fn refused(args: &[&str]) -> (i32, String) {
    let (status, _, err) = run_with_input(sockmate(args), b"");
    (status.code().unwrap_or(-1), err)
}

#[test]
fn an_address_without_a_command_is_taught_the_connect_line() {
    let (code, err) = refused(&["127.0.0.1", "8000"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("sockmate: "), "{err}");
    assert!(
        err.contains("write sockmate connect 127.0.0.1:8000"),
        "{err}"
    );
    let (_, err) = refused(&["-l", "8000"]);
    assert!(err.contains("sockmate listen 8000"), "{err}");
}

#[test]
fn a_web_url_is_shown_the_tcp_and_ws_spelling() {
    let (code, err) = refused(&["connect", "http://127.0.0.1:8000"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("write tcp://127.0.0.1:8000"), "{err}");
    assert!(err.contains("ws://127.0.0.1:8000/"), "{err}");
}

#[test]
fn address_in_use_says_when_reuseport_cannot_help() {
    // Held by another program (this test): --reuseport would not share it.
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap().to_string();
    let (code, err) = refused(&["listen", &addr]);
    assert_ne!(code, 0);
    assert!(err.contains("--reuseport cannot share it"), "{err}");
    assert!(err.contains("port 0 picks a free one"), "{err}");
    // Held by sockmate: both may share it with --reuseport.
    let mut cmd = sockmate(&["listen", "127.0.0.1:0", "-k"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut first = Proc::spawn_configured(cmd);
    let addr = first.listening_addr();
    let (_, err) = refused(&["listen", &addr]);
    assert!(err.contains("held by sockmate"), "{err}");
    assert!(err.contains("start both with --reuseport"), "{err}");
}

#[test]
fn link_local_without_a_zone_asks_for_the_interface() {
    let (code, err) = refused(&["connect", "[fe80::1]:8000"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("add the interface as a zone"), "{err}");
    assert!(err.contains("interfaces here: lo"), "{err}");
    assert!(!err.contains("os error 22"), "{err}");
    let (_, err) = refused(&["listen", "[fe80::1]:0"]);
    assert!(err.contains("[fe80::1%"), "{err}");
    // A zone that names no interface lists the ones there are.
    let (_, err) = refused(&["connect", "[fe80::1%nosuchif0]:8000"]);
    assert!(
        err.contains("no network interface called \"nosuchif0\""),
        "{err}"
    );
    assert!(err.contains("interfaces here: lo"), "{err}");
}

#[test]
fn clap_errors_are_one_line_with_a_hint() {
    for (args, hint) in [
        (
            &["connect", "127.0.0.1:9", "--sned", "x"][..],
            "did you mean --send?",
        ),
        (&["connect"][..], "sockmate connect 127.0.0.1:8000"),
        (&["listen", "0", "--wait"][..], "sockmate listen --help"),
        (&["conect", "x:1"][..], "`sockmate connect`"),
    ] {
        let (code, err) = refused(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].starts_with("sockmate: "), "{err}");
        assert!(!err.contains("error:") && !err.contains("Usage:"), "{err}");
        assert!(
            lines[1].starts_with("  hint: ") && lines[1].contains(hint),
            "{err}"
        );
    }
}

#[test]
fn python_format_in_a_reply_gets_the_placeholder_hint() {
    let (code, err) = refused(&["listen", "0", "--reply", "Loop_msg:%s!"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("uses Python's %s"), "{err}");
    assert!(err.contains("--reply 'Loop_msg:{text}!'"), "{err}");
    assert!(!err.contains("listening on"), "{err}");
    // Insisting sends it as written.
    let mut cmd = sockmate(&[
        "listen",
        "127.0.0.1:0",
        "--reply",
        "Loop_msg:%s!",
        "--reply-as-written",
    ]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    std::io::Write::write_all(&mut s, b"hi").unwrap();
    let mut reply = [0u8; 11];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"Loop_msg:%s");
}

#[test]
fn eol_none_lets_q_end_the_tutorial_chat() {
    if !have_tutorials() {
        return;
    }
    let guide = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/from-python.md"),
    )
    .unwrap();
    let line = lines_of(&guide, "connect", "--eol none")
        .into_iter()
        .next()
        .expect("the chat lesson shows --eol none");
    let port = free_port();
    let mut cmd = tutorial("seed001_chat_server.py", &[&port.to_string()]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut server = Proc::spawn_configured(cmd);
    server.write_stdin(b"pong\n");
    wait_listening(port);
    // Piped stdin: --lines stands for the typing, --delay for its pace.
    let mut args = with_port(&line, port);
    args.extend(["--lines", "--delay", "500ms"].map(String::from));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    // sockmate ends only when the server closes: after it has read `q`.
    let (status, out, err) = run_with_input(sockmate(&argv), b"hello\nq\n");
    assert!(status.success(), "{err}");
    assert_eq!(out, b"pong");
    server.child.kill().unwrap();
    let printed = String::from_utf8_lossy(&server.read_stdout_to_end()).into_owned();
    assert!(printed.starts_with("hello\n"), "{printed:?}");
    assert!(!printed.contains("q\n"), "{printed:?}");
}

#[test]
fn explain_narrates_a_refused_connect_and_a_taken_port_with_pythons_exception() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let addr = format!("127.0.0.1:{port}");
    let (code, err) = refused(&["connect", &addr, "--explain", "--lang", "en"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("[explain] connect(('127.0.0.1', {port})) failed")),
        "{err}"
    );
    assert!(
        err.contains("ConnectionRefusedError: [Errno 111] Connection refused"),
        "{err}"
    );
    let (_, err) = refused(&["connect", &addr, "--explain", "--lang", "zh"]);
    assert!(err.contains("失败") && err.contains("为什么:"), "{err}");
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let (_, err) = refused(&["listen", &taken, "--explain", "--lang", "en"]);
    assert!(
        err.contains("OSError: [Errno 98] Address already in use"),
        "{err}"
    );
}

#[test]
fn explain_names_a_tcp_clients_socket_s_against_the_tutorial_server() {
    if !have_tutorials() {
        return;
    }
    let server = TutorialServer::start("seed000_tcp_greeting_server.py");
    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &server.addr(),
            "--explain",
            "--lang",
            "en",
            "--send",
            "exit",
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    for want in [
        "python: s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
        "python: s.connect(('127.0.0.1', ",
        "python: data = s.recv(65536)",
        "python: s.sendall(data)",
        "python: s.close()",
    ] {
        assert!(err.contains(want), "{want} in:\n{err}");
    }
    assert!(!err.contains("conn."), "{err}");
}

#[test]
fn explain_narrates_a_udp_server_for_the_tutorial_client() {
    if !have_tutorials() {
        return;
    }
    let mut cmd = sockmate(&[
        "listen",
        "udp://127.0.0.1:0",
        "--reply",
        "hello,{text}!",
        "--explain",
        "--lang",
        "en",
        "--idle-timeout",
        "60s",
    ]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let port = server
        .listening_addr()
        .rsplit_once(':')
        .unwrap()
        .1
        .to_string();
    let (status, out, err) = run_with_input(tutorial("seed000_udp_client.py", &[&port]), b"");
    assert!(status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out).contains("hello,java!"));
    server.wait_line("sendto(13 bytes)");
    server.child.kill().unwrap();
    let text = server.drain_stderr().join("\n");
    assert_eq!(text.matches("the first datagram from").count(), 1, "{text}");
    assert!(
        text.contains("python: data, addr = s.recvfrom(65535)"),
        "{text}"
    );
    assert!(text.contains("python: s.sendto(data, addr)"), "{text}");
    assert!(
        !text.contains("TIME_WAIT") && !text.contains("conn."),
        "{text}"
    );
}

#[test]
fn the_package_ships_the_guides_and_a_summary_under_80_characters() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let summary = manifest
        .lines()
        .find_map(|l| l.strip_prefix("description = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("a description");
    assert!(summary.chars().count() < 80, "{summary}");
    assert!(
        manifest.contains(r#"["docs/*.md", "usr/share/doc/sockmate/docs/", "644"]"#),
        "the .deb ships docs/ (the Chinese guide too)"
    );
    assert!(root.join("docs/from-python.zh.md").exists());
    let check = std::fs::read_to_string(root.join(".ci/package-check.sh")).unwrap();
    assert!(check.contains("usr/share/doc/sockmate/docs/from-python.zh.md"));
}

#[test]
fn receive_groups_its_flags_under_receiving_and_scan_reads_as_a_sentence() {
    let (_, out, _) = run_with_input(sockmate(&["receive", "--help"]), b"");
    let out = String::from_utf8_lossy(&out);
    let section = out.split("Receiving:").nth(1).expect("a Receiving heading");
    // The section runs to the next heading (a line that is not indented).
    let section: String = section
        .lines()
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n");
    for flag in ["--dir", "--overwrite", "--resume"] {
        assert!(section.contains(flag), "{flag} under Receiving:\n{out}");
    }
    assert!(!out.contains("Sending:"), "{out}");
    let (_, out, _) = run_with_input(sockmate(&["scan", "--help"]), b"");
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("probe only hosts you are allowed to probe"),
        "{out}"
    );
}

/// Item 16: one heading order in every command's help, and `-h` a summary
/// of at most 40 lines.
#[test]
fn every_command_has_one_heading_order_and_a_short_dash_h() {
    const ORDER: &[&str] = &[
        "Arguments:",
        "Options:",
        "Endpoint and socket:",
        "UDP:",
        "Sending:",
        "Receiving:",
        "Views:",
        "Services:",
        "Limits:",
        "TLS:",
        "WebSocket:",
        "Proxy:",
        "Learning:",
        "Examples:",
    ];
    for command in [
        "connect", "listen", "relay", "send", "receive", "scan", "bench", "ui",
    ] {
        for flag in ["-h", "--help"] {
            let (status, out, _) = run_with_input(sockmate(&[command, flag]), b"");
            assert!(status.success());
            let out = String::from_utf8_lossy(&out);
            let ranks: Vec<usize> = out
                .lines()
                .filter_map(|l| ORDER.iter().position(|h| *h == l))
                .collect();
            assert!(ranks.len() >= 2, "{command} {flag}:\n{out}");
            assert!(
                ranks.windows(2).all(|w| w[0] < w[1]),
                "{command} {flag}: headings out of order:\n{out}"
            );
            if flag == "-h" {
                assert!(out.lines().count() <= 40, "{command} -h:\n{out}");
            }
        }
    }
}

/// Runs `sockmate listen udp://127.0.0.1:0 EXTRA…` with its stdout and
/// stderr on a pseudo-terminal (Python's `pty`), sends it the datagrams
/// `hello`, `world` and `python\n` from a UDP socket, and returns what the
/// terminal showed after the `listening on` line.
fn udp_server_on_a_terminal(extra: &[&str]) -> String {
    const DRIVER: &str = r#"
import os, pty, re, select, socket, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
deadline = time.time() + 20
def read_some():
    global seen
    ready, _, _ = select.select([fd], [], [], 0.1)
    if not ready:
        return
    try:
        seen += os.read(fd, 4096)
    except OSError:
        pass
# The startup lines: listening on, and the loopback note (a terminal's).
def started():
    return b"accept other hosts)" in seen and b"listening on" in seen
while not started():
    assert time.time() < deadline, seen
    read_some()
settle = time.time() + 0.3
while time.time() < settle:
    read_some()
port = int(re.search(rb"127\.0\.0\.1:(\d+)", seen).group(1))
start = len(seen)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for d in (b"hello", b"world", b"python\n"):
    s.sendto(d, ("127.0.0.1", port))
    time.sleep(0.05)
while b"python" not in seen[start:]:
    assert time.time() < deadline, seen
    read_some()
time.sleep(0.2)
os.kill(pid, 15)
sys.stdout.write(repr(seen[start:]))
"#;
    let mut args = vec![
        "-c".to_string(),
        DRIVER.to_string(),
        bin().display().to_string(),
        "listen".into(),
        "udp://127.0.0.1:0".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = std::process::Command::new("python3")
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Item 4: on a terminal each datagram ends its own line (the raw and the
/// decoded view); in a pipe the bytes stay exactly as they came.
#[test]
fn datagrams_end_their_own_line_on_a_terminal_and_stay_exact_in_a_pipe() {
    if !require_tool("python3") {
        return;
    }
    // A pty turns "\n" into "\r\n".
    let shown = udp_server_on_a_terminal(&[]);
    assert!(shown.contains(r"hello\r\nworld\r\npython\r\n"), "{shown}");
    assert!(!shown.contains(r"python\r\n\r\n"), "{shown}");
    let shown = udp_server_on_a_terminal(&["--encoding", "gbk"]);
    assert!(shown.contains(r"hello\r\nworld\r\npython\r\n"), "{shown}");

    // A pipe: the bytes as they came.
    let mut cmd = sockmate(&["listen", "udp://127.0.0.1:0"]);
    cmd.stdout(Stdio::piped());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for d in [&b"hello"[..], b"world"] {
        socket.send_to(d, &addr).unwrap();
    }
    let mut stdout = server.stdout.take().unwrap();
    let mut got = [0u8; 10];
    stdout.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"helloworld");
}

/// Item 21: `scan` shows a progress bar with the open ports found so far,
/// on a terminal only; its stdout in a pipe is the port lines alone.
#[test]
fn scan_shows_progress_with_open_ports_on_a_terminal_only() {
    if !require_tool("python3") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (low, high) = match port.checked_add(2000) {
        Some(high) => (port, high),
        None => (port - 2000, port),
    };
    let range = format!("{low}-{high}");
    let shown = on_a_terminal(&["scan", "127.0.0.1", &range, "--concurrency", "1"]);
    assert!(shown.contains("scanning 127.0.0.1 tcp ["), "{shown}");
    assert!(shown.contains(&format!("open: {port}")), "{shown}");
    assert!(shown.contains(&format!("{port}/tcp")), "{shown}");

    let (_, out, err) = run_with_input(
        sockmate(&["scan", "127.0.0.1", &range, "--concurrency", "1"]),
        b"",
    );
    assert!(!err.contains("scanning") && !err.contains('\r'), "{err}");
    let out = String::from_utf8_lossy(&out);
    assert!(out.lines().all(|l| l.contains("/tcp")), "{out}");
}

/// Item 21: `bench` prints a live line a second on a terminal
/// (connections, msgs/s, p50/p99 so far); nothing extra in a pipe or with
/// `--json`.
#[test]
fn bench_prints_a_live_line_a_second_on_a_terminal_only() {
    if !require_tool("python3") {
        return;
    }
    let (_server, addr) = serve_quietly(&["0", "-k", "--serve", "echo"]);
    let shown = on_a_terminal(&["bench", &addr, "-c", "2", "-d", "3s"]);
    let live: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("2 connections") && l.contains("msgs/s"))
        .collect();
    assert!(live.len() >= 2, "{shown}");
    assert!(live.iter().any(|l| l.contains("p99")), "{shown}");

    let (status, _, err) = run_with_input(sockmate(&["bench", &addr, "-d", "2s"]), b"");
    assert!(status.success(), "{err}");
    assert!(!err.contains("msgs/s"), "{err}");
    let (status, out, err) = run_with_input(sockmate(&["bench", &addr, "-d", "2s", "--json"]), b"");
    assert!(status.success(), "{err}");
    assert!(!err.contains("msgs/s"), "{err}");
    assert!(String::from_utf8_lossy(&out).starts_with('{'));
}

/// Item 10: `--lang zh` or a `zh_*` locale says status lines, errors and
/// hints in Chinese (one catalogue, src/messages); English stays the
/// default.
#[test]
fn status_lines_errors_and_hints_follow_the_language() {
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let target = format!("127.0.0.1:{refused}");
    // A refused connect, in the locale's language and with --lang.
    let mut cmd = sockmate(&["connect", &target]);
    cmd.env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES");
    let (status, _, err) = run_with_input(cmd, b"");
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("拒绝了连接"), "{err}");
    assert!(err.contains(&format!("sockmate listen {refused}")), "{err}");
    let (_, _, err) = run_with_input(sockmate(&["connect", &target, "--lang", "zh"]), b"");
    assert!(err.contains("拒绝了连接"), "{err}");
    let (_, _, err) = run_with_input(sockmate(&["connect", &target]), b"");
    assert!(err.contains("connection refused by"), "{err}");
    // A refused command line: the message and the hint.
    let mut cmd = sockmate(&["conect", "127.0.0.1:1"]);
    cmd.env("LANG", "zh_CN.UTF-8");
    let (status, _, err) = run_with_input(cmd, b"");
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("无法识别的子命令 'conect'"), "{err}");
    assert!(
        err.contains("  提示：你是想写 `sockmate connect` 吗？"),
        "{err}"
    );
    // A bad value.
    let (status, _, err) = run_with_input(
        sockmate(&["connect", "127.0.0.1:1", "--send-hex", "zz", "--lang", "zh"]),
        b"",
    );
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("不是十六进制数字"), "{err}");
    // A server's status lines: listening, connected, closed by the quit word.
    let mut cmd = sockmate(&["listen", "0", "--frame", "line", "--quit-word", "exit"]);
    cmd.env("LANG", "zh_CN.UTF-8").stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let line = server.wait_line("正在监听 tcp://127.0.0.1:");
    let addr = line.rsplit("tcp://").next().unwrap().trim().to_string();
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut client, b"exit\n").unwrap();
    server.wait_line("已连接：127.0.0.1:");
    let closed = server.wait_line("已关闭：127.0.0.1:");
    assert!(closed.contains("收到退出词"), "{closed}");
}
