//! `tls://` against real peers: `openssl s_server`/`s_client`, `ncat
//! --ssl` and `socat OPENSSL` both ways; verification (unknown issuer,
//! name mismatch, `--pin`), mutual TLS, failed and slow handshakes on a
//! listener, and a TLS-terminating relay carrying 100 MB byte-exact.
//!
//! Certificates come from `openssl` in a temporary directory: a CA, a
//! server certificate for `localhost`/127.0.0.1 and a client certificate,
//! both signed by the CA.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::*;

/// A CA, a server certificate and a client certificate (PEM files).
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

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

/// Makes the test PKI, or `None` (skipped) without openssl.
fn pki() -> Option<Pki> {
    if !require_tool("openssl") {
        return None;
    }
    let dir = tempdir();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=sockmate test CA",
        ],
    );
    for (name, cn, days) in [
        ("server", "localhost", "2"),
        ("client", "client1", "2"),
        // Already expired: valid until yesterday.
        ("expired", "localhost", "-1"),
    ] {
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        std::fs::write(
            d.join(format!("{name}.ext")),
            format!("subjectAltName=DNS:{cn},IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"),
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                days,
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }
    Some(Pki { dir })
}

fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit(':').next().unwrap().parse().unwrap()
}

/// `openssl s_server` with our server certificate; returns it (stdin held
/// open: s_server quits on stdin EOF) and its port, read from its
/// `ACCEPT` line; the rest of its stdout goes to a thread.
fn s_server(pki: &Pki, extra: &[&str]) -> (Proc, u16, std::sync::mpsc::Receiver<String>) {
    s_server_with(pki, "server", extra)
}

/// [`s_server`] with the certificate `NAME.pem` and key `NAME.key`.
fn s_server_with(
    pki: &Pki,
    name: &str,
    extra: &[&str],
) -> (Proc, u16, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_server", "-accept", "127.0.0.1:0", "-cert"])
        .arg(pki.path(&format!("{name}.pem")))
        .arg("-key")
        .arg(pki.path(&format!("{name}.key")))
        .args(extra);
    let mut server = Proc::spawn(cmd);
    let stdout = server.stdout.take().unwrap();
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
            return (server, port_of(addr.trim()), rx);
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
fn connect_verifies_openssl_s_server_by_ca_name_and_refuses_with_the_reason() {
    let Some(pki) = pki() else { return };
    let (_server, port, lines) = s_server(&pki, &[]);
    let ca = pki.path("ca.pem");
    let url = format!("tls://localhost:{port}");

    // Without --ca the test CA is unknown.
    let (status, _, err) = run_with_input(sockmate(&["connect", &url]), b"x\n");
    assert!(!status.success());
    assert!(err.contains("unknown issuer"), "{err}");
    assert_eq!(our_stderr_lines(err.trim()).len(), 1, "one line: {err}");

    // A name the certificate does not have.
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &url, "--ca", &ca, "--sni", "wrong.example"]),
        b"x\n",
    );
    assert!(!status.success());
    assert!(err.contains("name mismatch"), "{err}");

    // Verified by the CA and the name: the bytes arrive, -v shows the TLS.
    let mut client = Proc::spawn(sockmate(&["connect", &url, "--ca", &ca, "-v"]));
    let connected = client.wait_line("connected:");
    assert!(connected.contains("TLSv1."), "{connected}");
    assert!(connected.contains("CN=localhost"), "{connected}");
    client.write_stdin(b"hello over tls\n");
    wait_for_line(&lines, "hello over tls");
}

#[test]
fn openssl_s_client_talks_to_tls_listen_both_ways() {
    if !require_tool("openssl") {
        return;
    }
    let mut server = Proc::spawn(sockmate(&["listen", "tls://127.0.0.1:0"]));
    let (endpoint, _) = listening_tls(&mut server);
    let port = port_of(&endpoint);
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-quiet",
    ]);
    let mut client = Proc::spawn(cmd);
    client.write_stdin(b"ping from s_client\n");
    let mut out = server.stdout.take().unwrap();
    let mut got = vec![0u8; 19];
    out.read_exact(&mut got).unwrap();
    assert_eq!(got, b"ping from s_client\n");
    server.write_stdin(b"pong from sockmate\n");
    server.close_stdin();
    let reply = client.read_stdout_to_end();
    assert_eq!(reply, b"pong from sockmate\n");
}

#[test]
fn pin_accepts_the_printed_fingerprint_only() {
    let mut server = Proc::spawn(sockmate(&["listen", "tls://127.0.0.1:0", "-k"]));
    let (endpoint, pin) = listening_tls(&mut server);
    assert!(server.stderr_lines()[0].contains("self-signed"));

    let (status, _, err) = run_with_input(sockmate(&["connect", &endpoint]), b"x");
    assert!(!status.success());
    assert!(err.contains("unknown issuer"), "{err}");

    let wrong = "00".repeat(32);
    let (status, _, err) = run_with_input(sockmate(&["connect", &endpoint, "--pin", &wrong]), b"x");
    assert!(!status.success());
    assert!(err.contains("does not match --pin"), "{err}");

    let mut out = server.stdout.take().unwrap();
    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &endpoint,
            "--pin",
            &pin.to_lowercase().replace(':', ""),
        ]),
        b"pinned\n",
    );
    assert!(status.success(), "{err}");
    let mut got = vec![0u8; 7];
    out.read_exact(&mut got).unwrap();
    assert_eq!(got, b"pinned\n");

    let (status, _, err) = run_with_input(sockmate(&["connect", &endpoint, "--insecure"]), b"x");
    assert!(status.success(), "{err}");
    assert!(err.contains("NOT verified"), "{err}");
}

#[test]
fn mutual_tls_requires_a_client_certificate() {
    let Some(pki) = pki() else { return };
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        "tls://127.0.0.1:0",
        "-k",
        "--json",
        "--cert",
        &pki.path("server.pem"),
        "--key",
        &pki.path("server.key"),
        "--client-ca",
        &pki.path("ca.pem"),
    ]));
    let (endpoint, _) = listening_tls(&mut server);
    let url = format!("tls://localhost:{}", port_of(&endpoint));
    let ca = pki.path("ca.pem");

    let (status, _, err) = run_with_input(sockmate(&["connect", &url, "--ca", &ca]), b"no cert\n");
    assert!(!status.success(), "{err}");
    let refused = server.wait_line("handshake with");
    assert!(refused.contains("client certificate"), "{refused}");

    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &url,
            "--ca",
            &ca,
            "--cert",
            &pki.path("client.pem"),
            "--key",
            &pki.path("client.key"),
        ]),
        b"with cert\n",
    );
    assert!(status.success(), "{err}");
    let out = server.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let open = lines
        .find_map(|l| l.ok().filter(|l| l.contains("\"type\":\"open\"")))
        .expect("open event");
    let open: serde_json::Value = serde_json::from_str(&open).unwrap();
    assert_eq!(open["tls"]["peer_subject"], "CN=client1", "{open}");
    assert!(open["tls"]["version"]
        .as_str()
        .unwrap()
        .starts_with("TLSv1."));
    assert!(open["tls"]["cipher"].as_str().unwrap().contains("_"));
    assert_eq!(
        open["tls"]["peer_sha256"].as_str().unwrap().len(),
        32 * 3 - 1
    );
}

#[test]
fn failed_and_slow_handshakes_close_only_their_connection() {
    let mut server = Proc::spawn(sockmate(&["listen", "tls://127.0.0.1:0", "-k"]));
    let (endpoint, pin) = listening_tls(&mut server);
    let addr = endpoint.trim_start_matches("tls://").to_string();
    // A client that never says anything holds a handshake open…
    let _silent = TcpStream::connect(&addr).unwrap();
    // …and one that speaks plain HTTP fails with one line.
    let mut plain = TcpStream::connect(&addr).unwrap();
    plain.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let line = server.wait_line("handshake with");
    assert!(line.contains("TLS"), "{line}");
    // A real client is served meanwhile.
    let mut out = server.stdout.take().unwrap();
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &endpoint, "--pin", &pin]),
        b"still served\n",
    );
    assert!(status.success(), "{err}");
    let mut got = vec![0u8; 13];
    out.read_exact(&mut got).unwrap();
    assert_eq!(got, b"still served\n");
}

/// 1 MiB both ways with a peer tool: the peer as a client of `sockmate
/// listen tls://`, then as a server for `sockmate connect tls://`.
fn bulk_with_peer(client_argv: &[&str], server_argv: &[&str], connect_flags: &[&str]) {
    let Some(pki) = pki() else { return };
    if !require_tool(client_argv[0]) {
        return;
    }
    let data = random_bytes(1024 * 1024 + 5, 7);
    let file = pki.dir.path().join("data.bin");
    std::fs::write(&file, &data).unwrap();
    let fill = |arg: &str, port: u16| {
        arg.replace("{P}", &port.to_string())
            .replace("{DIR}", &pki.dir.path().to_string_lossy())
    };

    // The peer sends to sockmate listen.
    let mut server = Proc::spawn(sockmate(&["listen", "tls://127.0.0.1:0"]));
    let (endpoint, _) = listening_tls(&mut server);
    let port = port_of(&endpoint);
    let mut client = Command::new(client_argv[0]);
    client.args(client_argv[1..].iter().map(|a| fill(a, port)));
    client
        .stdin(File::open(&file).unwrap())
        .stdout(Stdio::null());
    let _client = Proc::spawn_configured(client);
    let got = server.read_stdout_to_end();
    assert!(
        got == data,
        "{client_argv:?}: {} of {} bytes",
        got.len(),
        data.len()
    );
    server.close_stdin();
    assert!(server.wait().success(), "{:?}", server.stderr_lines());

    // sockmate connect sends to the peer server.
    let port = free_port();
    let mut peer = Command::new(server_argv[0]);
    peer.args(server_argv[1..].iter().map(|a| fill(a, port)));
    peer.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut peer = Proc::spawn_configured(peer);
    wait_listening(port);
    let mut args = vec!["connect".to_string(), format!("tls://localhost:{port}")];
    args.extend(connect_flags.iter().map(|a| fill(a, port)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut client = sockmate(&args);
    client
        .stdin(File::open(&file).unwrap())
        .stdout(Stdio::null());
    let mut client = Proc::spawn_configured(client);
    let got = peer.read_stdout_to_end();
    assert!(
        got == data,
        "{server_argv:?}: {} of {} bytes",
        got.len(),
        data.len()
    );
    assert!(client.wait().success(), "{:?}", client.stderr_lines());
}

#[test]
fn socat_openssl_as_client_and_server() {
    bulk_with_peer(
        &["socat", "-u", "STDIN", "OPENSSL:127.0.0.1:{P},verify=0"],
        &[
            "socat",
            "-u",
            "OPENSSL-LISTEN:{P},bind=127.0.0.1,reuseaddr,cert={DIR}/server.pem,key={DIR}/server.key,verify=0",
            "STDOUT",
        ],
        &["--ca", "{DIR}/ca.pem"],
    );
}

#[test]
fn ncat_ssl_as_client_and_server() {
    bulk_with_peer(
        &["ncat", "--ssl", "--send-only", "127.0.0.1", "{P}"],
        &[
            "ncat",
            "--ssl",
            "--ssl-cert",
            "{DIR}/server.pem",
            "--ssl-key",
            "{DIR}/server.key",
            "--recv-only",
            "-l",
            "127.0.0.1",
            "{P}",
        ],
        &["--ca", "{DIR}/ca.pem"],
    );
}

#[test]
fn relay_terminates_tls_and_carries_100_mb_byte_exact() {
    const SIZE: usize = 100 * 1024 * 1024;
    let sink = TcpListener::bind("127.0.0.1:0").unwrap();
    let sink_addr = sink.local_addr().unwrap().to_string();
    let received = std::thread::spawn(move || {
        let (mut conn, _) = sink.accept().unwrap();
        let mut got = Vec::with_capacity(SIZE);
        conn.read_to_end(&mut got).unwrap();
        got
    });
    let mut relay = Proc::spawn(sockmate(&[
        "relay",
        "tls://127.0.0.1:0",
        &format!("tcp://{sink_addr}"),
    ]));
    let (front, pin) = listening_tls(&mut relay);
    let data = random_bytes(SIZE, 99);
    let mut client = sockmate(&["connect", &front, "--pin", &pin]);
    client.stdout(Stdio::null());
    let mut client = Proc::spawn(client);
    let mut stdin = client.stdin.take().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&sent).unwrap());
    writer.join().unwrap();
    let got = received.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "payload differs");
    assert!(client.wait().success(), "{:?}", client.stderr_lines());
}

#[test]
fn expired_certificate_no_shared_alpn_or_cipher_are_named() {
    let Some(pki) = pki() else { return };
    let ca = pki.path("ca.pem");
    // An expired server certificate.
    let (_old, port, _) = s_server_with(&pki, "expired", &[]);
    let (status, _, err) = run_with_input(
        sockmate(&["connect", &format!("tls://localhost:{port}"), "--ca", &ca]),
        b"x",
    );
    assert!(!status.success());
    assert!(err.contains("certificate expired"), "{err}");

    // ALPN: the server's choice is shown; no common protocol is named.
    let (_h2, port, _) = s_server(&pki, &["-alpn", "h2"]);
    let url = format!("tls://localhost:{port}");
    let mut client = Proc::spawn(sockmate(&[
        "connect",
        &url,
        "--ca",
        &ca,
        "--alpn",
        "h2,http/1.1",
        "-v",
    ]));
    let connected = client.wait_line("connected:");
    assert!(connected.contains("alpn h2"), "{connected}");
    drop(client);
    let mut server = Proc::spawn(sockmate(&[
        "listen",
        "tls://127.0.0.1:0",
        "-k",
        "--alpn",
        "h2",
    ]));
    let (endpoint, pin) = listening_tls(&mut server);
    let (status, _, _) = run_with_input(
        sockmate(&["connect", &endpoint, "--pin", &pin, "--alpn", "http/1.1"]),
        b"x",
    );
    assert!(!status.success());
    let line = server.wait_line("handshake with");
    assert!(line.contains("no shared ALPN protocol"), "{line}");

    // A client that offers only ciphers rustls does not have.
    let port = port_of(&endpoint);
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-tls1_2",
        "-cipher",
        "AES128-SHA",
    ]);
    let _old_client = Proc::spawn(cmd);
    let line = server.wait_line("handshake with");
    assert!(
        line.contains("no shared protocol version or cipher suite"),
        "{line}"
    );
}
