//! Seams between sessions and transports (issue 21): a self-signed
//! certificate given with `--ca`, a version-1 client certificate, silent
//! proxies, a peer's clean close under `--reconnect`, SIGTERM on a relay
//! mid-download and a serial device that disappears.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::*;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl req -x509 …` as most guides give it: a self-signed
/// certificate for localhost/127.0.0.1 that carries `CA:TRUE`, in
/// `self.pem`/`self.key` of a fresh directory.
fn self_signed() -> Option<tempfile::TempDir> {
    if !require_tool("openssl") {
        return None;
    }
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in", "self.pem"])
        .current_dir(dir.path())
        .output()
        .expect("openssl x509");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("CA:TRUE"),
        "the test needs a CA:TRUE self-signed certificate"
    );
    Some(dir)
}

fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

/// `openssl s_server` on port 0 with `cert`/`key`; returns it and its port
/// (from its `ACCEPT` line) and a receiver of its later stdout lines.
fn s_server(cert: &str, key: &str) -> (Proc, u16, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        cert,
        "-key",
        key,
    ]);
    let mut server = Proc::spawn(cmd);
    let stdout = server.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + DEADLINE;
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("s_server ACCEPT line");
        if let Some(addr) = line.strip_prefix("ACCEPT ") {
            let port = addr.trim().rsplit(':').next().expect("port");
            return (server, port.parse().expect("port"), rx);
        }
    }
}

fn wait_for_line(rx: &std::sync::mpsc::Receiver<String>, needle: &str) {
    let deadline = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains(needle) => return,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line containing {needle:?}; saw {seen:?}"),
        }
    }
}

#[test]
fn ca_accepts_a_self_signed_ca_true_certificate_served_by_openssl() {
    let Some(dir) = self_signed() else { return };
    let (cert, key) = (path_in(&dir, "self.pem"), path_in(&dir, "self.key"));
    let (_server, port, lines) = s_server(&cert, &key);

    for host in ["localhost", "127.0.0.1"] {
        let url = format!("tls://{host}:{port}");
        let mut client = Proc::spawn(sockmate(&["connect", &url, "--ca", &cert, "-v"]));
        let connected = client.wait_line("connected:");
        assert!(connected.contains("CN=localhost"), "{connected}");
        client.write_stdin(format!("hello via {host}\n").as_bytes());
        wait_for_line(&lines, &format!("hello via {host}"));
    }

    // The name is still checked.
    let url = format!("tls://localhost:{port}");
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &url, "--ca", &cert, "--sni", "wrong.example"]),
        b"x\n",
    );
    assert!(!status.success());
    assert!(err.contains("name mismatch"), "{err}");
    assert_eq!(our_stderr_lines(err.trim()).len(), 1, "one line: {err}");
}

#[test]
fn ca_accepts_a_self_signed_ca_true_certificate_served_by_sockmate() {
    let Some(dir) = self_signed() else { return };
    let (cert, key) = (path_in(&dir, "self.pem"), path_in(&dir, "self.key"));
    let (_server, addr) = serve_quietly(&[
        "tls://127.0.0.1:0",
        "-k",
        "--serve",
        "echo",
        "--cert",
        &cert,
        "--key",
        &key,
    ]);
    let port = addr.rsplit(':').next().expect("port");
    let url = format!("tls://localhost:{port}");
    let (status, out, err) =
        run_with_input(sockmate(&["connect", &url, "--ca", &cert]), b"echo me\n");
    assert!(status.success(), "{err}");
    assert_eq!(out, b"echo me\n", "{err}");

    let (status, _, err) = run_with_input(
        sockmate(&["connect", &url, "--ca", &cert, "--sni", "wrong.example"]),
        b"x\n",
    );
    assert!(!status.success());
    assert!(err.contains("name mismatch"), "{err}");

    // Another CA:TRUE certificate (not the one shown) is still refused,
    // with today's reason.
    let Some(other) = self_signed() else { return };
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &url, "--ca", &path_in(&other, "self.pem")]),
        b"x\n",
    );
    assert!(!status.success());
    assert!(err.contains("CA certificate as its own"), "{err}");
}

/// A CA and a client certificate it signed with `openssl x509 -req` and no
/// extensions, which makes an X.509 version 1 certificate (`v1.pem`,
/// `v1.key`).
fn version_1_certificate() -> Option<tempfile::TempDir> {
    let dir = self_signed()?;
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "v1.key",
            "-out",
            "v1.csr",
            "-subj",
            "/CN=client1",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "v1.csr",
            "-CA",
            "self.pem",
            "-CAkey",
            "self.key",
            "-CAcreateserial",
            "-out",
            "v1.pem",
            "-days",
            "2",
        ],
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in", "v1.pem"])
        .current_dir(d)
        .output()
        .expect("openssl x509");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("Version: 1"),
        "the test needs a version 1 certificate"
    );
    Some(dir)
}

#[test]
fn a_version_1_certificate_is_named_as_such_not_as_a_key_mismatch() {
    let Some(dir) = version_1_certificate() else {
        return;
    };
    let (cert, key) = (path_in(&dir, "v1.pem"), path_in(&dir, "v1.key"));

    // As a client certificate.
    let (_server, addr) = serve_quietly(&["tls://127.0.0.1:0", "-k"]);
    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("tls://{addr}"),
            "--insecure",
            "--cert",
            &cert,
            "--key",
            &key,
        ]),
        b"x\n",
    );
    assert!(!status.success(), "{err}");
    assert!(err.contains("X.509 version 1"), "{err}");
    assert!(err.contains("version 3"), "{err}");
    assert!(!err.contains("do not fit together"), "{err}");

    // As a server certificate: one line, at start.
    let (status, _, err) = run_with_input(
        sockmate(&[
            "listen",
            "tls://127.0.0.1:0",
            "--cert",
            &cert,
            "--key",
            &key,
        ]),
        b"",
    );
    assert!(!status.success(), "{err}");
    assert!(err.contains("X.509 version 1"), "{err}");
    assert!(!err.contains("do not fit together"), "{err}");
    assert_eq!(our_stderr_lines(err.trim()).len(), 1, "one line: {err}");
}

/// A "proxy" that accepts TCP connections and, on each, answers one read
/// after another with the given replies, then says nothing more (it holds
/// the connection until the client leaves). Returns its `HOST:PORT`.
fn silent_proxy(replies: &'static [&'static [u8]]) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(16) {
            let Ok(mut conn) = conn else { break };
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(DEADLINE));
                let mut buf = [0u8; 1024];
                for reply in replies {
                    if matches!(conn.read(&mut buf), Ok(0) | Err(_)) {
                        return;
                    }
                    if conn.write_all(reply).is_err() {
                        return;
                    }
                }
                // Silent from here on: read (and drop) until the client leaves.
                let until = Instant::now() + DEADLINE;
                while Instant::now() < until {
                    if matches!(conn.read(&mut buf), Ok(0) | Err(_)) {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// `connect` through a proxy that never finishes its handshake: it fails
/// in one line naming the proxy and the stage.
fn stalled_connect(proxy: &str, extra: &[&str]) -> String {
    let mut argv = vec!["connect", "tcp://127.0.0.1:9", "--proxy", proxy];
    argv.extend_from_slice(extra);
    let (status, _, err) = run_with_input(sockmate(&argv), b"never sent\n");
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(our_stderr_lines(err.trim()).len(), 1, "one line: {err}");
    assert!(!err.contains("no answer at all"), "{err}");
    err
}

#[test]
fn a_silent_proxy_is_named_with_the_stage_it_did_not_answer() {
    const PASSWORD_CHOSEN: &[u8] = &[5, 2];
    const NO_LOGIN: &[u8] = &[5, 0];
    let cases: [(&str, &'static [&'static [u8]], &str, &str); 5] = [
        (
            "socks5://",
            &[],
            "socks5 proxy",
            "did not answer the greeting",
        ),
        (
            "socks5://u:p@",
            &[PASSWORD_CHOSEN],
            "socks5 proxy",
            "did not answer the login",
        ),
        (
            "socks5h://",
            &[NO_LOGIN],
            "socks5h proxy",
            "did not answer the connect request",
        ),
        (
            "socks4a://",
            &[],
            "socks4a proxy",
            "did not answer the connect request",
        ),
        (
            "http://",
            &[],
            "http proxy",
            "did not answer the CONNECT request",
        ),
    ];
    for (prefix, replies, who, stage) in cases {
        let addr = silent_proxy(replies);
        let proxy = format!("{prefix}{addr}");
        let err = stalled_connect(&proxy, &["--proxy-timeout", "300ms"]);
        assert!(err.contains(&format!("{who} {addr}")), "{err}");
        assert!(err.contains("accepted the connection"), "{err}");
        assert!(err.contains(stage), "{err}");
        assert!(err.contains("300ms"), "{err}");
    }

    // --connect-timeout shorter than the proxy's deadline: still the
    // proxy and its stage, not "the host may be down".
    let addr = silent_proxy(&[]);
    let err = stalled_connect(&format!("socks5://{addr}"), &["--connect-timeout", "300ms"]);
    assert!(err.contains(&format!("socks5 proxy {addr}")), "{err}");
    assert!(err.contains("did not answer the greeting"), "{err}");
    assert!(err.contains("--connect-timeout 300ms"), "{err}");
}

#[test]
fn send_and_relay_give_up_on_a_silent_proxy() {
    use std::io::Read;
    let addr = silent_proxy(&[]);
    let proxy = format!("http://{addr}");
    let dir = tempdir();
    let file = dir.path().join("f.txt");
    std::fs::write(&file, b"data").expect("write");
    let (status, _, err) = run_with_input(
        sockmate(&[
            "send",
            "tcp://127.0.0.1:9",
            &file.to_string_lossy(),
            "--proxy",
            &proxy,
            "--proxy-timeout",
            "300ms",
        ]),
        b"",
    );
    assert!(!status.success(), "{err}");
    assert!(err.contains(&format!("http proxy {addr}")), "{err}");
    assert!(err.contains("did not answer the CONNECT request"), "{err}");

    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "0",
        "tcp://127.0.0.1:9",
        "--proxy",
        &proxy,
        "--proxy-timeout",
        "300ms",
    ]));
    let listen = relay.listening_addr();
    let mut client = std::net::TcpStream::connect(&listen).expect("connect relay");
    client.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut buf = [0u8; 16];
    // The relay gives up on the target and closes its client.
    let _ = client.read(&mut buf);
    let line = relay.wait_line("did not answer the CONNECT request");
    assert!(line.contains(&format!("http proxy {addr}")), "{line}");
}

/// A server that, for each of up to `n` clients in turn, reads once,
/// echoes what it read and closes cleanly. Returns its address and the
/// listener (to check later that nobody else connected), and a receiver
/// told of each close.
fn echo_once_then_close(
    n: usize,
) -> (
    String,
    std::sync::Arc<std::net::TcpListener>,
    std::sync::mpsc::Receiver<()>,
) {
    use std::io::{Read, Write};
    let listener = std::sync::Arc::new(std::net::TcpListener::bind("127.0.0.1:0").expect("bind"));
    let addr = listener.local_addr().expect("addr").to_string();
    let serving = std::sync::Arc::clone(&listener);
    let (closed, closes) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((mut conn, _)) = serving.accept() else {
                return;
            };
            let _ = conn.set_read_timeout(Some(DEADLINE));
            let mut buf = [0u8; 1024];
            if let Ok(got) = conn.read(&mut buf) {
                let _ = conn.write_all(&buf[..got]);
            }
            drop(conn);
            let _ = closed.send(());
        }
    });
    (addr, listener, closes)
}

/// Reads the child's stdout on a thread; chunks arrive on the receiver,
/// and the end of stdout as an empty chunk.
fn stdout_chunks(proc: &mut Proc) -> std::sync::mpsc::Receiver<Vec<u8>> {
    use std::io::Read;
    let mut out = proc.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let n = out.read(&mut buf).unwrap_or(0);
            if tx.send(buf[..n].to_vec()).is_err() || n == 0 {
                return;
            }
        }
    });
    rx
}

/// Waits until the bytes read so far end with `want` (or, with an empty
/// `want`, for stdout's end).
fn expect_stdout(rx: &std::sync::mpsc::Receiver<Vec<u8>>, want: &[u8]) {
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    loop {
        let chunk = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("waited for {want:?} on stdout; got {got:?}"));
        if chunk.is_empty() {
            assert!(
                want.is_empty(),
                "stdout ended; wanted {want:?}, got {got:?}"
            );
            return;
        }
        got.extend_from_slice(&chunk);
        if !want.is_empty() && got.ends_with(want) {
            return;
        }
    }
}

#[test]
fn reconnect_follows_a_clean_close_and_the_next_line_reaches_the_new_connection() {
    let (addr, _listener, _closes) = echo_once_then_close(3);
    let mut client = Proc::spawn(sockmate(&["connect", &addr, "--reconnect", "--json"]));
    let stdout = client.stdout.take().expect("stdout");
    let (tx, events) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    client.write_stdin(b"one\n");
    wait_for_line(&events, r#""dir":"in","hex":"6f6e650a""#);
    // The server closed cleanly after its echo; once the client has seen
    // that, the line typed next is refused by the closed connection and
    // goes out again on the next one, whose echo comes back.
    wait_for_line(&events, r#""type":"eof""#);
    client.write_stdin(b"two\n");
    wait_for_line(&events, r#""type":"open""#);
    wait_for_line(&events, r#""dir":"in","hex":"74776f0a""#);
    client.close_stdin();
    let status = client.wait();
    assert!(status.success(), "{:?}", client.stderr_lines());
}

#[test]
fn reconnect_on_error_does_not_follow_a_clean_close() {
    let (addr, listener, closes) = echo_once_then_close(1);
    let mut client = Proc::spawn(sockmate(&["connect", &addr, "--reconnect=on-error"]));
    let out = stdout_chunks(&mut client);
    client.write_stdin(b"one\n");
    expect_stdout(&out, b"one\n");
    closes.recv_timeout(DEADLINE).expect("the server closed");
    client.close_stdin();
    let status = client.wait();
    assert!(status.success(), "{:?}", client.stderr_lines());
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(
        listener.accept().is_err(),
        "--reconnect=on-error connected again after a clean close"
    );
}

#[test]
fn a_write_after_the_peer_closed_is_an_error_without_reconnect() {
    let (addr, _listener, _closes) = echo_once_then_close(1);
    let mut client = Proc::spawn(sockmate(&["connect", &addr]));
    let out = stdout_chunks(&mut client);
    client.write_stdin(b"one\n");
    expect_stdout(&out, b"one\n");
    // The peer's end closes our stdout; the peer has closed for good.
    expect_stdout(&out, b"");
    client.write_stdin(b"lost\n");
    client.close_stdin();
    let status = client.wait();
    let lines = client.drain_stderr();
    assert_eq!(status.code(), Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "one line: {lines:?}");
    assert!(lines[0].contains("closed the connection"), "{lines:?}");
    assert!(lines[0].contains("5 bytes"), "{lines:?}");
}

/// A target that streams 1 KiB every few milliseconds to its first client
/// (bounded: at most 30 s of it), never finishing within a shutdown's
/// grace period. Returns its address.
fn slow_streaming_target() -> String {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let chunk = [b'd'; 1024];
        let until = Instant::now() + std::time::Duration::from_secs(30);
        for _ in 0..6000 {
            if Instant::now() > until || conn.write_all(&chunk).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    addr
}

/// Reads until the end or an error; true when it ended with a reset.
fn ends_with_reset(client: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        match client.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(e) => panic!("read: {e}"),
        }
    }
    panic!("the download neither ended nor was reset in time");
}

#[test]
fn sigterm_on_relay_resets_a_download_its_target_had_not_finished() {
    use std::io::Read;
    for extra in [&[][..], &["--no-splice"][..]] {
        let target = slow_streaming_target();
        let mut args = vec!["relay", "127.0.0.1:0", &target];
        args.extend_from_slice(extra);
        let mut relay = Proc::spawn(sockmate(&args));
        let addr = relay.listening_addr();
        let mut client = std::net::TcpStream::connect(&addr).expect("connect");
        client.set_read_timeout(Some(DEADLINE)).expect("timeout");
        let mut first = [0u8; 1024];
        client.read_exact(&mut first).expect("the download started");
        relay.signal("TERM");
        assert!(
            ends_with_reset(&mut client),
            "{extra:?}: a download cut by SIGTERM ended with a clean FIN"
        );
        relay.wait();
    }
}

/// A socat pty pair linked as `a` and `b` in a temporary directory; the
/// socat process is returned so the test can make the device go away.
fn pty_pair() -> Option<(Proc, tempfile::TempDir)> {
    if !require_tool("socat") {
        return None;
    }
    let dir = tempdir();
    let mut cmd = Command::new("socat");
    cmd.arg("-d")
        .arg("-d")
        .arg(format!(
            "pty,raw,echo=0,link={}",
            dir.path().join("a").display()
        ))
        .arg(format!(
            "pty,raw,echo=0,link={}",
            dir.path().join("b").display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut socat = Proc::spawn_configured(cmd);
    socat.wait_line("starting data transfer loop");
    Some((socat, dir))
}

fn serial_url(dir: &tempfile::TempDir, end: &str) -> String {
    format!(
        "serial://{}?baud=115200",
        serial_port_name(&dir.path().join(end))
    )
}

#[test]
fn a_serial_device_that_goes_away_ends_connect_with_an_error() {
    let Some((mut socat, dir)) = pty_pair() else {
        return;
    };
    let mut client = Proc::spawn(sockmate(&["connect", &serial_url(&dir, "a"), "-v"]));
    client.wait_line("connected: ");
    let _ = socat.child.kill();
    let _ = socat.child.wait();
    let status = client.wait();
    let lines: Vec<String> = client
        .drain_stderr()
        .into_iter()
        .filter(|l| !l.starts_with("connected: ") && !l.starts_with("closed: "))
        .collect();
    assert_eq!(status.code(), Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "one line: {lines:?}");
    assert!(lines[0].contains("went away"), "{lines:?}");
}

#[test]
fn a_serial_device_that_goes_away_resets_the_relay_client() {
    use std::io::{Read, Write};
    let Some((mut socat, dir)) = pty_pair() else {
        return;
    };
    let mut device = Proc::spawn(sockmate(&["connect", &serial_url(&dir, "b"), "-v"]));
    device.wait_line("connected: ");
    let mut relay = Proc::spawn(sockmate(&["relay", "0", &serial_url(&dir, "a")]));
    let listen = relay.listening_addr();
    let mut client = std::net::TcpStream::connect(&listen).expect("connect relay");
    client.set_read_timeout(Some(DEADLINE)).expect("timeout");
    // The relay has the port open once the device hears the client.
    client.write_all(b"ping\n").expect("write");
    assert_eq!(read_stdout(&mut device, 5), b"ping\n");
    let _ = socat.child.kill();
    let _ = socat.child.wait();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + DEADLINE;
    let reset = loop {
        assert!(Instant::now() < deadline, "no end in time");
        match client.read(&mut buf) {
            Ok(0) => break false,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(e) => panic!("read: {e}"),
        }
    };
    assert!(
        reset,
        "the device's disappearance reached the client as a clean end"
    );
    relay.wait_line("went away");
}
