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
