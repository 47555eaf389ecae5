//! Issue 24: the echo service that nobody watches takes a short path:
//! splice on Linux TCP and Unix, one buffer read and written back on the
//! byte streams that cannot splice (TLS, and TCP on Windows). Each path
//! against socat as the client: bytes back whole and in order while the
//! client is still sending, the client's end of input ending the echo, and
//! `--idle-timeout` still closing a quiet connection.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::util::*;

/// socat as the client: `input` on its stdin to `address`, what
/// comes back on its stdout; after the input ends it waits up to 10 s for
/// the server to finish (`-t`), so the whole echo is in.
fn socat_round_trip(address: &str, input: &[u8]) -> Vec<u8> {
    let mut cmd = Command::new("socat");
    cmd.args(["-t", "10", "-b", "65536", "-", address]);
    let (status, out, err) = run_with_input(cmd, input);
    assert!(status.success(), "socat failed: {err}");
    out
}

/// socat's address for a server at ADDR: `OPENSSL:ADDR,verify=0` (the
/// server's certificate is self-signed) or `TCP:ADDR`.
fn socat_address(scheme: &str, addr: &str) -> String {
    match scheme {
        "tls" => format!("OPENSSL:{addr},verify=0"),
        _ => format!("TCP:{addr}"),
    }
}

fn echo_round_trip_and_idle(scheme: &str) {
    let (_server, addr) =
        serve_quietly(&[&format!("{scheme}://127.0.0.1:0"), "-k", "--serve", "echo"]);
    let data = random_bytes(8 * 1024 * 1024, 24);
    let got = socat_round_trip(&socat_address(scheme, &addr), &data);
    assert_eq!(got.len(), data.len(), "{scheme}: length");
    assert!(got == data, "{scheme}: echoed bytes differ");

    // A quiet connection is still closed by --idle-timeout on this path.
    let mut cmd = sockmate(&[
        "listen",
        &format!("{scheme}://127.0.0.1:0"),
        "-k",
        "--serve",
        "echo",
        "--idle-timeout",
        "300ms",
    ]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut socat = Command::new("socat");
    // Its stdin stays open: once the server has closed, socat waits only
    // half a second for it.
    socat.args(["-t", "0.5", "-", &socat_address(scheme, &addr)]);
    let mut client = Proc::spawn(socat);
    client.write_stdin(b"x");
    let mut out = client.stdout.take().expect("stdout");
    let mut back = Vec::new();
    out.read_to_end(&mut back)
        .expect("read until the server closes");
    assert_eq!(back, b"x", "{scheme}");
    let line = server.wait_line("closed:");
    assert!(line.contains("idle timeout"), "{scheme}: {line}");
}

#[test]
fn a_quiet_tls_echo_returns_8_mib_whole_to_socat_and_still_times_out() {
    if !require_tool("socat") {
        return;
    }
    echo_round_trip_and_idle("tls");
}

#[test]
fn a_quiet_tcp_echo_returns_8_mib_whole_to_socat_and_still_times_out() {
    if !require_tool("socat") {
        return;
    }
    echo_round_trip_and_idle("tcp");
}
