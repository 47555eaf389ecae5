//! `listen --serve socks5` and `listen --serve http-proxy` with real
//! clients (curl, ncat and sockmate's own `--proxy`) in front of real
//! origins on loopback: a Python HTTP server and an echo server. Targets
//! outside loopback are only ever asked for with TEST-NET addresses, which
//! the proxy must refuse before connecting.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::relay::tcp_echo_server;
use crate::util::*;

/// An HTTP origin: GET answers `hello origin PATH auth=BOOL` (whether a
/// Proxy-Authorization header reached it), POST answers `posted BODY`.
const ORIGIN: &str = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def reply(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        seen = "Proxy-Authorization" in self.headers
        self.reply(("hello origin %s auth=%s\n" % (self.path, seen)).encode())
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply(b"posted " + data + b"\n")
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer((sys.argv[1], 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A Python program that prints its port first, and that port.
pub(crate) fn python_server(script: &str, args: &[&str]) -> Option<(Proc, u16)> {
    if !require_tool("python3") {
        return None;
    }
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut proc = Proc::spawn_configured(cmd);
    let mut line = String::new();
    BufReader::new(proc.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server port");
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("server did not start: {line:?} {:?}", proc.drain_stderr()));
    Some((proc, port))
}

/// The Python origin on `host`, and its port.
pub(crate) fn origin(host: &str) -> Option<(Proc, u16)> {
    python_server(ORIGIN, &[host])
}

/// `curl -sS --max-time 20 ARGS…`: success, stdout, stderr.
pub(crate) fn curl(args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20"]).args(args);
    let (status, out, err) = run_with_input(cmd, b"");
    (
        status.success(),
        String::from_utf8_lossy(&out).into_owned(),
        err,
    )
}

/// The HTTP status curl got.
pub(crate) fn curl_status(args: &[&str]) -> String {
    let mut all = vec!["-o", "/dev/null", "-w", "%{http_code}"];
    all.extend_from_slice(args);
    curl(&all).1
}

/// A proxy server: `listen 127.0.0.1:0 ARGS…`, and its address.
pub(crate) fn proxy(args: &[&str]) -> (Proc, String) {
    let mut argv = vec!["127.0.0.1:0"];
    argv.extend_from_slice(args);
    serve_quietly(&argv)
}

/// The proxy's `listening on` line, already read.
pub(crate) fn start_line(proc: &mut Proc) -> String {
    proc.stderr_lines()
        .into_iter()
        .find(|l| l.starts_with("listening on"))
        .expect("listening line")
}

/// `input` sent through a command (ncat, sockmate connect) to an echo
/// server must come back whole.
pub(crate) fn echoes(cmd: Command, input: &[u8]) {
    let (status, out, err) = run_with_input(cmd, input);
    assert!(status.success(), "{err}");
    assert_eq!(out, input, "{err}");
}

/// A SOCKS5 handshake without login by hand, then `request`; returns the
/// reply (at least its first 2 bytes) once the proxy closes.
pub(crate) fn socks5_by_hand(proxy: &str, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(proxy).expect("connect proxy");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s.write_all(&[5, 1, 0]).expect("greeting");
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).expect("method");
    assert_eq!(choice, [5, 0]);
    s.write_all(request).expect("request");
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

#[test]
fn socks5_serves_curl_by_name_and_by_address() {
    let Some((_origin, port)) = origin("127.0.0.1") else {
        return;
    };
    if !require_tool("curl") {
        return;
    }
    let (mut server, addr) = proxy(&["--serve", "socks5"]);
    let line = start_line(&mut server);
    assert!(line.contains("proxy targets: loopback only"), "{line}");
    let (ok, body, err) = curl(&[
        "--socks5-hostname",
        &addr,
        &format!("http://localhost:{port}/file"),
    ]);
    assert!(
        ok && body == "hello origin /file auth=False\n",
        "{body} {err}"
    );
    let line = server.wait_line("connected: #1");
    assert!(
        line.contains(&format!("-> socks5 CONNECT localhost:{port} (")),
        "{line}"
    );
    let closed = server.wait_line("closed: #1");
    assert!(
        closed.contains("bytes in") && !closed.contains("(0 bytes out"),
        "{closed}"
    );
    let (ok, body, err) = curl(&["--socks5", &addr, &format!("http://127.0.0.1:{port}/ip")]);
    assert!(ok && body.starts_with("hello origin /ip"), "{body} {err}");
    let line = server.wait_line("connected: #2");
    assert!(
        line.contains(&format!(
            "socks5 CONNECT 127.0.0.1:{port} (127.0.0.1:{port})"
        )),
        "{line}"
    );
}

#[test]
fn socks5_login_right_and_wrong() {
    let Some((_origin, port)) = origin("127.0.0.1") else {
        return;
    };
    if !require_tool("curl") {
        return;
    }
    let (mut server, addr) = proxy(&["--serve", "socks5", "--auth", "bob:s3cret"]);
    let url = format!("http://localhost:{port}/in");
    let (ok, body, err) = curl(&["--socks5-hostname", &format!("bob:s3cret@{addr}"), &url]);
    assert!(ok && body.starts_with("hello origin /in"), "{body} {err}");
    let (ok, _, err) = curl(&["--socks5-hostname", &addr, "--proxy-user", "bob:nope", &url]);
    assert!(!ok, "a wrong password got through: {err}");
    let line = server.wait_line("login failed");
    assert!(
        line.contains("user \"bob\"") && !line.contains("nope"),
        "{line}"
    );
    let (ok, _, _) = curl(&["--socks5-hostname", &addr, &url]);
    assert!(!ok, "no login got through");
    let line = server.wait_line("no acceptable login method");
    assert!(line.contains("0x02"), "{line}");
}

#[test]
fn http_proxy_forwards_get_and_post_and_tunnels_connect() {
    let Some((_origin, port)) = origin("127.0.0.1") else {
        return;
    };
    if !require_tool("curl") {
        return;
    }
    let (mut server, addr) = proxy(&["--serve", "http-proxy", "--auth", "u:p"]);
    let proxy_url = format!("http://{addr}");
    let url = format!("http://127.0.0.1:{port}/page?q=1");
    let login = ["--proxy-user", "u:p", "-x", proxy_url.as_str()];
    let (ok, body, err) = curl(&[&login[..], &[url.as_str()]].concat());
    // The login went to the proxy, not to the origin.
    assert!(
        ok && body == "hello origin /page?q=1 auth=False\n",
        "{body} {err}"
    );
    assert!(server
        .wait_line("connected: #1")
        .contains(&format!("-> http GET 127.0.0.1:{port}")));
    let (ok, body, err) = curl(&[&login[..], &["-d", "x=1&y=2", url.as_str()]].concat());
    assert!(ok && body == "posted x=1&y=2\n", "{body} {err}");
    assert!(server.wait_line("connected: #2").contains("-> http POST"));
    let (ok, body, err) = curl(&[&login[..], &["-p", url.as_str()]].concat());
    assert!(
        ok && body.starts_with("hello origin /page?q=1"),
        "{body} {err}"
    );
    assert!(server
        .wait_line("connected: #3")
        .contains(&format!("-> http CONNECT 127.0.0.1:{port}")));
    assert_eq!(curl_status(&["-x", &proxy_url, &url]), "407");
    assert!(server.wait_line("login required").contains("(HTTP 407)"));
}

#[test]
fn ncat_and_sockmate_clients_go_through_both_protocols() {
    if !require_tool("ncat") {
        return;
    }
    let echo = tcp_echo_server();
    let (host, echo_port) = echo.rsplit_once(':').expect("echo addr");
    let (_socks, socks) = proxy(&["--serve", "socks5"]);
    let (_http, http) = proxy(&["--serve", "http-proxy"]);
    for (addr, kind) in [(&socks, "socks5"), (&http, "http")] {
        let mut ncat = Command::new("ncat");
        ncat.args(["--proxy", addr, "--proxy-type", kind, host, echo_port]);
        echoes(ncat, format!("ncat via {kind}\n").as_bytes());
    }
    for url in [
        format!("socks5://{socks}"),
        format!("socks5h://{socks}"),
        format!("http://{http}"),
    ] {
        let target = match url.starts_with("socks5h") {
            true => format!("tcp://localhost:{echo_port}"),
            false => format!("tcp://{echo}"),
        };
        let client = sockmate(&["connect", &target, "--proxy", &url]);
        echoes(client, format!("sockmate via {url}\n").as_bytes());
    }
}

#[test]
fn targets_outside_loopback_are_refused_before_any_connect() {
    let Some((_origin, port)) = origin("127.0.0.2") else {
        return;
    };
    if !require_tool("curl") {
        return;
    }
    let (mut socks, socks_addr) = proxy(&["--serve", "socks5"]);
    // CONNECT 192.0.2.1:80 (TEST-NET-1): "not allowed by rules", code 2.
    let reply = socks5_by_hand(&socks_addr, &[5, 1, 0, 1, 192, 0, 2, 1, 0, 80]);
    assert_eq!(&reply[..2], [5, 2], "{reply:?}");
    let line = socks.wait_line("192.0.2.1:80");
    assert!(
        line.contains("target not allowed") && line.contains("--target-allow 192.0.2.1"),
        "{line}"
    );
    let (mut http, http_addr) = proxy(&["--serve", "http-proxy", "--target-allow", "192.0.2.0/24"]);
    let start = start_line(&mut http);
    assert!(
        start.contains("proxy targets: loopback, 192.0.2.0/24"),
        "{start}"
    );
    let proxy_url = format!("http://{http_addr}");
    assert_eq!(
        curl_status(&["-x", &proxy_url, "http://198.51.100.1/"]),
        "403"
    );
    assert!(http.wait_line("198.51.100.1:80").contains("(HTTP 403)"));
    // A loopback alias is loopback: allowed without --target-allow.
    let (ok, body, err) = curl(&["-x", &proxy_url, &format!("http://127.0.0.2:{port}/alias")]);
    assert!(
        ok && body.starts_with("hello origin /alias"),
        "{body} {err}"
    );
    // A target that refuses: 502 and SOCKS5 reply 5.
    let closed = free_port();
    assert_eq!(
        curl_status(&["-x", &proxy_url, &format!("http://127.0.0.1:{closed}/")]),
        "502"
    );
    let mut refused = vec![5, 1, 0, 1, 127, 0, 0, 1];
    refused.extend_from_slice(&closed.to_be_bytes());
    assert_eq!(&socks5_by_hand(&socks_addr, &refused)[..2], [5, 5]);
}

#[test]
fn unsupported_commands_and_malformed_input_get_one_line_and_the_server_goes_on() {
    let echo = tcp_echo_server();
    let (mut socks, addr) = proxy(&["--serve", "socks5"]);
    for (command, name) in [(2u8, "BIND"), (3, "UDP ASSOCIATE")] {
        let reply = socks5_by_hand(&addr, &[5, command, 0, 1, 127, 0, 0, 1, 0, 80]);
        assert_eq!(&reply[..2], [5, 7], "{name}: {reply:?}");
        assert!(socks
            .wait_line(name)
            .contains("not supported (only CONNECT)"));
    }
    let mut bad = TcpStream::connect(&addr).expect("connect");
    bad.set_read_timeout(Some(DEADLINE)).expect("timeout");
    bad.write_all(b"hello there\r\n").expect("write");
    let mut rest = Vec::new();
    let _ = bad.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{rest:?}");
    assert!(socks
        .wait_line("not a SOCKS5 greeting")
        .contains("starts with text, \"hello.th\""));
    let (mut http, http_addr) = proxy(&["--serve", "http-proxy"]);
    let mut bad = TcpStream::connect(&http_addr).expect("connect");
    bad.set_read_timeout(Some(DEADLINE)).expect("timeout");
    bad.write_all(b"\x16\x03\x01garbage\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    let _ = bad.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(http.wait_line("bad request line").starts_with("error: #1"));
    // Both still serve.
    let mut client = sockmate(&["connect", &echo, "--proxy", &format!("socks5://{addr}")]);
    client.arg("-q");
    echoes(client, b"still here\n");
    let client = sockmate(&["connect", &echo, "--proxy", &format!("http://{http_addr}")]);
    echoes(client, b"still here\n");
}

#[test]
fn dump_hex_and_json_show_the_tunnel_and_its_target() {
    let echo = tcp_echo_server();
    for (flag, expect) in [
        ("--dump=hex", "|tunnelled bytes.|"),
        ("--json", "\"proxy\":{\"addr\":"),
    ] {
        let mut server = Proc::spawn(sockmate(&[
            "listen",
            "127.0.0.1:0",
            "--serve",
            "socks5",
            flag,
        ]));
        let addr = server.listening_addr();
        let client = sockmate(&["connect", &echo, "--proxy", &format!("socks5://{addr}")]);
        echoes(client, b"tunnelled bytes\n");
        server.wait_line("closed: #1");
        server.signal("INT");
        let out = String::from_utf8_lossy(&server.read_stdout_to_end()).into_owned();
        assert!(out.contains(expect), "{flag}: {out}");
        if flag == "--json" {
            let open = out
                .lines()
                .find(|l| l.contains("\"type\":\"open\""))
                .expect("open");
            let open: serde_json::Value = serde_json::from_str(open).expect("json");
            assert_eq!(open["proxy"]["target"], echo.as_str(), "{open}");
            assert_eq!(open["proxy"]["protocol"], "socks5");
            assert!(out.contains("\"type\":\"data\""), "{out}");
        } else {
            assert!(
                out.contains("#1 127.0.0.1:") && out.contains(" < 16 bytes"),
                "{out}"
            );
        }
    }
}

#[test]
fn ipv6_targets_through_socks5() {
    let (_echo, echo) = serve_quietly(&["[::1]:0", "-k", "--serve", "echo"]);
    let (mut server, addr) = proxy(&["--serve", "socks5"]);
    let client = sockmate(&[
        "connect",
        &format!("tcp://{echo}"),
        "--proxy",
        &format!("socks5://{addr}"),
    ]);
    echoes(client, b"over ipv6\n");
    let line = server.wait_line("connected: #1");
    assert!(
        line.contains(&format!("socks5 CONNECT {echo} ({echo})")),
        "{line}"
    );
}
