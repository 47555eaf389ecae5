//! Issue 21, the service and transfer seams: nonsense flag combinations
//! (item 25), linear template checksums (23), per-message commands that
//! end with their connection (20), receive under idle floods (12), the
//! rule files' regex budget (19), and the buffered-bytes budget and UDP
//! relay notices under floods (26).

use crate::util::*;

/// Runs `sockmate ARGS` with no input and returns its status and stderr.
fn refused(args: &[&str]) -> (std::process::ExitStatus, String) {
    let (status, _, stderr) = run_with_input(sockmate(args), b"");
    (status, stderr)
}

/// Item 25: `--idle-timeout 0` would close every client at once; it is
/// refused with exit 2 and one line, as `receive` refuses it.
#[test]
fn idle_timeout_zero_is_refused() {
    for command in ["listen", "connect"] {
        let (status, stderr) = refused(&[command, "127.0.0.1:1", "--idle-timeout", "0"]);
        assert_eq!(status.code(), Some(2), "{command}: {stderr}");
        let lines = our_stderr_lines(&stderr);
        assert!(
            lines[0].contains("--idle-timeout") && lines[0].contains("at once"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("]:0"), "{command}: {stderr}");
    }
}

/// Item 25: a ready-made service and a reply or respond rule both answer
/// every message; the service used to be dropped silently.
#[test]
fn service_with_reply_or_respond_is_refused() {
    let cases: &[&[&str]] = &[
        &["--serve", "echo", "--reply", "x{text}"],
        &["--serve", "time", "--respond", "PING=>PONG"],
        &["--serve", "echo", "--respond-default", "?"],
        &["--serve", "discard", "--reply", "x"],
    ];
    for extra in cases {
        let mut args = vec!["listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let (status, stderr) = refused(&args);
        assert_eq!(status.code(), Some(2), "{extra:?}: {stderr}");
        let lines = our_stderr_lines(&stderr);
        assert_eq!(lines.len(), 1, "{extra:?}: {stderr}");
        assert!(
            lines[0].contains(&format!("--serve {} and {}", extra[1], extra[2]))
                && lines[0].contains("cannot be combined"),
            "{extra:?}: {stderr}"
        );
    }
}

/// Item 25: the hint of a refused `--reconnect-max 0` no longer reads the
/// flag's value as nc's port (`[127.0.0.1:1]:0`).
#[test]
fn reconnect_max_zero_gets_no_wrong_endpoint_hint() {
    let (status, stderr) = refused(&[
        "connect",
        "127.0.0.1:1",
        "--reconnect",
        "--reconnect-max",
        "0",
    ]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--reconnect-max"), "{stderr}");
    assert!(!stderr.contains("[127.0.0.1:1]"), "{stderr}");
    assert!(
        !stderr.contains("host and port are one endpoint"),
        "{stderr}"
    );
}

/// True while process `pid` exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => !status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
        Err(_) => false,
    }
}

/// Polls until none of `pids` is alive, for at most `limit`.
fn all_gone(pids: &[u32], limit: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if pids.iter().all(|&p| !alive(p)) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// Waits for the two PIDs a per-message command writes to `file`.
fn pids_in(file: &std::path::Path) -> Vec<u32> {
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let pids: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        if pids.len() >= 2 {
            return pids;
        }
        assert!(std::time::Instant::now() < deadline, "no PIDs in {file:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A server running, per message, a shell that leaves a child in the
/// background and waits on another; the shell and the background child
/// write their PIDs to the returned file.
fn leaky_exec_server(dir: &std::path::Path) -> (Proc, String, std::path::PathBuf) {
    let file = dir.join("pids");
    let script = format!(
        "sleep 30 & echo $! >> '{f}'; echo $$ >> '{f}'; sleep 30",
        f = file.display()
    );
    let (server, addr) = serve_quietly(&[
        "127.0.0.1:0",
        "-k",
        "--frame",
        "line",
        "--sh-exec",
        &script,
        "--exec-per-message",
    ]);
    (server, addr, file)
}

/// Ends stray processes a failed run left behind, only those still alive:
/// once they are gone their numbers may already belong to other processes
/// (a concurrent test's), which a kill would hit.
fn reap(pids: &[u32]) {
    for pid in pids.iter().filter(|&&pid| alive(pid)) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Item 20: a per-message command and what it started in the background
/// end when the client has left (at the latest at the run's time limit;
/// the background child used to live on).
#[test]
fn exec_per_message_children_end_after_the_client_leaves() {
    use std::io::Write;
    let dir = tempdir();
    let (_server, addr, file) = leaky_exec_server(dir.path());
    let mut client = std::net::TcpStream::connect(&addr).expect("connect");
    client.write_all(b"go\n").expect("send");
    let pids = pids_in(&file);
    drop(client);
    let gone = all_gone(&pids, std::time::Duration::from_secs(20));
    reap(&pids);
    assert!(gone, "per-message processes {pids:?} outlived the client");
}

/// Item 20: SIGTERM to the server ends the per-message command's whole
/// process tree at once.
#[test]
fn exec_per_message_children_end_at_shutdown() {
    use std::io::Write;
    let dir = tempdir();
    let (mut server, addr, file) = leaky_exec_server(dir.path());
    let mut client = std::net::TcpStream::connect(&addr).expect("connect");
    client.write_all(b"go\n").expect("send");
    let pids = pids_in(&file);
    server.signal("TERM");
    let _ = server.wait();
    let gone = all_gone(&pids, std::time::Duration::from_secs(5));
    reap(&pids);
    drop(client);
    assert!(gone, "per-message processes {pids:?} outlived the server");
}

/// Item 12: `receive -k` with `idle` silent TCP connections held open
/// still takes a legitimate `send` (it used to refuse it at once with
/// "busy: serving 64 transfers already").
fn receive_with_idle_connections(idle: usize) {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let file = dir.path().join("hello.txt");
    std::fs::write(&file, b"through the idle crowd\n").unwrap();
    let mut cmd = sockmate(&[
        "receive",
        "127.0.0.1:0",
        "-k",
        "--dir",
        inbox.to_str().unwrap(),
    ]);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    let mut receiver = Proc::spawn_configured(cmd);
    let endpoint = receiver.listening();
    let addr = endpoint.split("://").nth(1).unwrap().to_string();
    let held: Vec<std::net::TcpStream> = (0..idle)
        .map(|_| std::net::TcpStream::connect(&addr).expect("idle connection"))
        .collect();
    let (status, _, stderr) =
        run_with_input(sockmate(&["send", &endpoint, file.to_str().unwrap()]), b"");
    assert!(
        status.success(),
        "with {idle} idle connections: {stderr} (receiver: {:?})",
        receiver.stderr_lines()
    );
    assert_eq!(
        std::fs::read(inbox.join("hello.txt")).unwrap(),
        b"through the idle crowd\n"
    );
    drop(held);
}

#[test]
fn receive_keep_open_takes_a_sender_while_64_idle_sockets_are_held() {
    receive_with_idle_connections(64);
}

#[test]
fn receive_keep_open_takes_a_sender_while_1000_idle_sockets_are_held() {
    receive_with_idle_connections(1000);
}

/// Item 19: a rule file whose regexes compile to more than their budget
/// is refused at start with exit 2 and one line naming the rule (256
/// rules like `re:\w{20}Q1` took 309 MB at start and more after input).
#[test]
fn a_rule_file_over_the_regex_budget_is_refused_at_start() {
    let dir = tempdir();
    let rules = dir.path().join("rules.txt");
    let text: String = (0..256)
        .map(|i| format!("re:\\w{{20}}Q{i}=>r{i}\n"))
        .collect();
    std::fs::write(&rules, text).unwrap();
    let (status, stderr) = refused(&[
        "listen",
        "127.0.0.1:0",
        "-k",
        "--respond-file",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    let lines = our_stderr_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("re:\\w{20}Q") && lines[0].contains("MiB") && lines[0].contains("line "),
        "{stderr}"
    );
}

/// Item 19: a file of 256 small (ASCII) regexes still loads and answers.
#[test]
fn a_rule_file_within_the_regex_budget_answers() {
    use std::io::{Read, Write};
    let dir = tempdir();
    let rules = dir.path().join("rules.txt");
    let text: String = (0..256)
        .map(|i| format!("re:(?-u:\\w){{20}}Q{i}$=>r{i}\\n\n"))
        .collect();
    std::fs::write(&rules, text).unwrap();
    let (_server, addr) = serve_quietly(&[
        "127.0.0.1:0",
        "-k",
        "--frame",
        "line",
        "--respond-file",
        rules.to_str().unwrap(),
    ]);
    let mut client = std::net::TcpStream::connect(&addr).expect("connect");
    client
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    client
        .write_all(b"abcdefghijklmnopqrstuvwxyzQ200\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while !got.ends_with(b"\n") {
        let n = client.read(&mut buf).expect("reply");
        assert!(n > 0, "closed after {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"r200\n");
}

/// Item 26: a datagram flood beyond the UDP relay's flow limit gives one
/// "refused" line, then summaries with the count ("… and 1,999 more"),
/// not one line per datagram.
#[test]
fn udp_relay_refusals_are_summed_up_not_printed_per_datagram() {
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = format!("udp://{}", sink.local_addr().unwrap());
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "udp://127.0.0.1:0",
        &target,
        "--max-conns",
        "1",
    ]));
    let addr = relay.listening_addr();
    let first = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    first.send_to(b"the one flow", &addr).unwrap();
    relay.wait_line("connected: ");
    let flood = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..2_000u32 {
        let _ = flood.send_to(&i.to_be_bytes(), &addr);
        if i % 200 == 199 {
            // Bounded pacing, so that the relay's socket buffer keeps up.
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    let summary = relay.wait_line("more refused");
    let count: u64 = summary
        .split("and ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|n| n.replace(',', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {summary:?}"));
    assert!((1..2_000).contains(&count), "{summary}");
    // Then quiet: no line per datagram.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let refused: Vec<String> = relay
        .stderr_lines()
        .into_iter()
        .filter(|l| l.contains("flows already open"))
        .collect();
    assert!(refused.len() <= 5, "{} lines: {refused:?}", refused.len());
    assert!(refused[0].contains("refused 127.0.0.1:"), "{refused:?}");
}

/// Item 26: a line service's buffer budget counts what each connection
/// keeps at its capacity (the read buffer, the buffer its next read grows
/// to, the copies made for the views), not just the unread bytes. With a
/// 64 KiB budget, clients each holding 7,000 bytes of an unfinished line
/// are refused beyond 3 (counting the read buffer alone let 5 in, the
/// bytes alone 9).
#[test]
fn the_buffer_budget_counts_buffer_capacity() {
    use std::io::{Read, Write};
    let (mut server, addr) = serve_quietly(&[
        "127.0.0.1:0",
        "-k",
        "--frame",
        "line",
        "--serve",
        "echo",
        "--max-buffered",
        "64k",
    ]);
    let partial = vec![b'z'; 7000];
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut client = std::net::TcpStream::connect(&addr).expect("connect");
        client.write_all(&partial).expect("send");
        clients.push(client);
    }
    // Each refused client gets one error line and is closed.
    let mut refused = 0;
    for client in &mut clients {
        client
            .set_read_timeout(Some(std::time::Duration::from_millis(300)))
            .unwrap();
        let mut buf = [0u8; 512];
        if let Ok(n) = client.read(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]);
            if text.contains("server busy") {
                assert!(text.contains("64 KiB for unfinished messages"), "{text}");
                refused += 1;
            }
        }
    }
    assert!(refused >= 17, "only {refused} of 20 refused");
    assert!(server.wait_line("closed:").contains("64 KiB"));
}

/// `--max-buffered` bounds a service; without one it is refused.
#[test]
fn max_buffered_needs_a_service() {
    let (status, stderr) = refused(&["listen", "127.0.0.1:0", "--max-buffered", "1m"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--max-buffered"), "{stderr}");
}
