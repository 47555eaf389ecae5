//! What differs by platform, run against whichever build is under test
//! (the Linux binary, or `sockmate.exe` under Wine with
//! `SOCKMATE_TEST_WINDOWS=1`): the tutorials' greeting server with the
//! tutorial's own client, the system shell of `--sh-exec`, Ctrl-C, and the
//! endpoints and flags a platform lacks, refused in one line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::util::*;

#[test]
fn the_tutorial_client_gets_its_greeting_and_loop_reply() {
    if !have_tutorials() {
        return;
    }
    // The tutorial's client sends without a newline and reads one recv
    // each time, so each read is a message (no --frame).
    let (mut server, addr) = serve_quietly(&[
        "127.0.0.1:0",
        "-k",
        "--banner",
        "hello, i am server",
        "--reply",
        "Loop_msg:{text}!",
        "--quit-word",
        "exit",
    ]);
    let port = addr.rsplit(':').next().expect("port");
    let client = tutorial("seed000_tcp_client.py", &[port]);
    let (status, out, err) = run_with_input(client, b"");
    let out = String::from_utf8_lossy(&out);
    assert!(status.success(), "tutorial client failed: {err}\n{out}");
    assert!(out.contains("-->> hello, i am server"), "{out}");
    assert!(out.contains("-->>Loop_msg:Hello,i am a client!"), "{out}");
    // The quit word ended the client's connection; the server goes on.
    server.wait_line("closed");
    assert!(TcpStream::connect(&addr).is_ok());
}

#[test]
fn sh_exec_per_message_runs_the_platform_shell() {
    // `sh -c` on Unix, `cmd /C` on Windows: the message is the command's
    // stdin, its output the reply.
    let command = shell_command("echo from-the-shell; cat", "echo from-the-shell& more");
    let (_server, addr) = serve_quietly(&[
        "127.0.0.1:0",
        "-k",
        "--sh-exec",
        command,
        "--exec-per-message",
    ]);
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(b"ping-line\n").unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&reply).contains("ping-line") {
        let n = s.read(&mut buf).expect("reply");
        assert!(n > 0, "closed early: {reply:?}");
        reply.extend_from_slice(&buf[..n]);
    }
    let reply = String::from_utf8_lossy(&reply).replace("\r\n", "\n");
    assert!(
        reply.starts_with("from-the-shell\n"),
        "the shell ran both commands: {reply:?}"
    );
}

#[test]
fn ctrl_c_stops_a_server_gracefully_with_130() {
    // Under Wine, SIGINT reaches the program as Windows' CTRL_C_EVENT.
    let (mut server, addr) = serve_quietly(&["127.0.0.1:0", "-k", "--serve", "echo"]);
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(b"still here").unwrap();
    let mut echoed = [0u8; 10];
    s.read_exact(&mut echoed).unwrap();
    server.signal("INT");
    assert_eq!(server.wait().code(), Some(130));
}

#[test]
fn what_the_platform_lacks_is_refused_in_one_line() {
    let dir = tempdir();
    let unix = format!("unix://{}", sock_path(dir.path(), "app.sock"));
    let seqpacket = format!("unix-seqpacket://{}", sock_path(dir.path(), "seq.sock"));
    let cases: [(&[&str], &str); 4] = [
        (&["connect", &unix], "unix://"),
        (&["listen", &seqpacket], "unix-seqpacket://"),
        (
            &["listen", "127.0.0.1:0", "--sh-exec", "x", "--pty"],
            "--pty",
        ),
        (&["listen", "127.0.0.1:0", "--reuseport"], "--reuseport"),
    ];
    for (args, what) in cases {
        if windows_build() {
            let mut cmd = sockmate(args);
            cmd.stdin(Stdio::null());
            let (status, _, stderr) = run_with_input(cmd, b"");
            assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
            let line = format!("{what} is not available on Windows");
            assert!(stderr.contains(&line), "{args:?}: {stderr}");
            // One line of ours (Wine may add diagnostics of its own).
            assert_eq!(our_stderr_lines(&stderr).len(), 1, "{args:?}: {stderr}");
        } else if args[0] == "connect" {
            // Unix has them: the client parses and fails to connect.
            let (status, _, stderr) = run_with_input(sockmate(args), b"");
            assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
            assert!(!stderr.contains("not available"), "{args:?}: {stderr}");
        } else {
            // ... and the servers start.
            let mut cmd = sockmate(args);
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
            Proc::spawn_configured(cmd).listening();
        }
    }
}
