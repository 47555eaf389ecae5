//! Interop with real peers: socat, ncat, OpenBSD nc and Python's socket
//! module, each as a client of `sockmate listen` and as a server for
//! `sockmate connect`, in both directions, with 1 MiB of binary data.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::*;

const PY_CLIENT_SEND: &str = "import socket,sys\ns=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\ns.sendall(sys.stdin.buffer.read())\ns.shutdown(socket.SHUT_WR)\nwhile s.recv(65536): pass\n";
const PY_CLIENT_RECV: &str = "import socket,sys\ns=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\nwhile True:\n    b=s.recv(65536)\n    if not b: break\n    sys.stdout.buffer.write(b)\n";
const PY_SERVER_RECV: &str = "import socket,sys\nl=socket.socket()\nl.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\nl.bind(('127.0.0.1',int(sys.argv[1])))\nl.listen(1)\nc,_=l.accept()\nwhile True:\n    b=c.recv(65536)\n    if not b: break\n    sys.stdout.buffer.write(b)\n";
const PY_SERVER_SEND: &str = "import socket,sys\nl=socket.socket()\nl.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\nl.bind(('127.0.0.1',int(sys.argv[1])))\nl.listen(1)\nc,_=l.accept()\nc.sendall(sys.stdin.buffer.read())\nc.shutdown(socket.SHUT_WR)\n";

fn data_file(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let data = random_bytes(1024 * 1024 + 3, 42);
    let path = dir.join("data.bin");
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn tool(argv: &[&str], port: u16) -> Command {
    let mut cmd = Command::new(argv[0]);
    for a in &argv[1..] {
        cmd.arg(a.replace("{P}", &port.to_string()));
    }
    cmd
}

/// The peer sends data to `sockmate listen`.
fn peer_client_sends(argv: &[&str]) {
    if !require_tool(argv[0]) {
        return;
    }
    let dir = tempdir();
    let (path, data) = data_file(dir.path());
    let mut server = Proc::spawn(sockmate(&["listen", "0"]));
    let port: u16 = server
        .listening_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut client = tool(argv, port);
    client
        .stdin(File::open(&path).unwrap())
        .stdout(Stdio::null());
    let mut client = Proc::spawn_configured(client);
    let got = server.read_stdout_to_end();
    assert_eq!(got.len(), data.len(), "{argv:?}");
    assert!(got == data, "{argv:?}: payload differs");
    server.close_stdin();
    assert!(server.wait().success());
    assert!(
        client.wait().success(),
        "{argv:?}: {:?}",
        client.stderr_lines()
    );
}

/// The peer receives data from `sockmate listen`.
fn peer_client_receives(argv: &[&str]) {
    if !require_tool(argv[0]) {
        return;
    }
    let dir = tempdir();
    let (path, data) = data_file(dir.path());
    let mut cmd = sockmate(&["listen", "0"]);
    cmd.stdin(File::open(&path).unwrap()).stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let port: u16 = server
        .listening_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut client = tool(argv, port);
    client.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut client = Proc::spawn_configured(client);
    let got = client.read_stdout_to_end();
    assert_eq!(got.len(), data.len(), "{argv:?}");
    assert!(got == data, "{argv:?}: payload differs");
    assert!(server.wait().success(), "{:?}", server.stderr_lines());
}

/// `sockmate connect` sends data to the peer server.
fn peer_server_receives(argv: &[&str]) {
    if !require_tool(argv[0]) {
        return;
    }
    let dir = tempdir();
    let (path, data) = data_file(dir.path());
    let port = free_port();
    let mut server = tool(argv, port);
    server.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut server = Proc::spawn_configured(server);
    wait_listening(port);
    let mut client = sockmate(&["connect", &format!("127.0.0.1:{port}")]);
    client
        .stdin(File::open(&path).unwrap())
        .stdout(Stdio::null());
    let mut client = Proc::spawn_configured(client);
    let got = server.read_stdout_to_end();
    assert_eq!(got.len(), data.len(), "{argv:?}");
    assert!(got == data, "{argv:?}: payload differs");
    assert!(client.wait().success(), "{:?}", client.stderr_lines());
}

/// `sockmate connect` receives data from the peer server.
fn peer_server_sends(argv: &[&str]) {
    if !require_tool(argv[0]) {
        return;
    }
    let dir = tempdir();
    let (path, data) = data_file(dir.path());
    let port = free_port();
    let mut server = tool(argv, port);
    server
        .stdin(File::open(&path).unwrap())
        .stdout(Stdio::null());
    let _server = Proc::spawn_configured(server);
    wait_listening(port);
    let mut client = sockmate(&["connect", &format!("127.0.0.1:{port}")]);
    client.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut client = Proc::spawn_configured(client);
    let got = client.read_stdout_to_end();
    assert_eq!(got.len(), data.len(), "{argv:?}");
    assert!(got == data, "{argv:?}: payload differs");
    client.close_stdin();
    assert!(client.wait().success(), "{:?}", client.stderr_lines());
}

#[test]
fn socat_as_client_and_server() {
    peer_client_sends(&["socat", "-u", "STDIN", "TCP:127.0.0.1:{P}"]);
    peer_client_receives(&["socat", "-u", "TCP:127.0.0.1:{P}", "STDOUT"]);
    peer_server_receives(&[
        "socat",
        "-u",
        "TCP-LISTEN:{P},bind=127.0.0.1,reuseaddr",
        "STDOUT",
    ]);
    peer_server_sends(&[
        "socat",
        "-u",
        "STDIN",
        "TCP-LISTEN:{P},bind=127.0.0.1,reuseaddr",
    ]);
}

#[test]
fn ncat_as_client_and_server() {
    peer_client_sends(&["ncat", "--send-only", "127.0.0.1", "{P}"]);
    peer_client_receives(&["ncat", "--recv-only", "127.0.0.1", "{P}"]);
    peer_server_receives(&["ncat", "-l", "127.0.0.1", "{P}", "--recv-only"]);
    peer_server_sends(&["ncat", "-l", "127.0.0.1", "{P}", "--send-only"]);
}

#[test]
fn openbsd_nc_as_client_and_server() {
    peer_client_sends(&["nc.openbsd", "-N", "127.0.0.1", "{P}"]);
    peer_client_receives(&["nc.openbsd", "-d", "127.0.0.1", "{P}"]);
    peer_server_receives(&["nc.openbsd", "-l", "127.0.0.1", "{P}"]);
    peer_server_sends(&["nc.openbsd", "-N", "-l", "127.0.0.1", "{P}"]);
}

#[test]
fn python_socket_as_client_and_server() {
    peer_client_sends(&["python3", "-c", PY_CLIENT_SEND, "{P}"]);
    peer_client_receives(&["python3", "-c", PY_CLIENT_RECV, "{P}"]);
    peer_server_receives(&["python3", "-c", PY_SERVER_RECV, "{P}"]);
    peer_server_sends(&["python3", "-c", PY_SERVER_SEND, "{P}"]);
}
