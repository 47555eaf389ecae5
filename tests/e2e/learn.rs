//! Issue 13: for people learning sockets. Text in any encoding end to end
//! (banner, replies, rules, quit word, chat), `{line}`, regex captures,
//! `--exec-per-message`, errors that teach, `--explain`, and the commands
//! in `docs/from-python*.md` run against real Python clients.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::util::*;

fn serve(args: &[&str]) -> (Proc, String) {
    serve_quietly(args)
}

fn connect(addr: &str) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    BufReader::new(s)
}

/// Sends `bytes` and reads one `\n`-terminated reply.
fn ask(s: &mut BufReader<TcpStream>, bytes: &[u8]) -> Vec<u8> {
    s.get_mut().write_all(bytes).unwrap();
    let mut line = Vec::new();
    s.read_until(b'\n', &mut line).unwrap();
    line
}

fn gbk(text: &str) -> Vec<u8> {
    sockmate::encoding::TextEncoding::from_label("gbk")
        .unwrap()
        .encode(text)
}

#[test]
fn gbk_server_sends_and_matches_gbk_everywhere() {
    let (_server, addr) = serve(&[
        "127.0.0.1:0",
        "-k",
        "--encoding",
        "gbk",
        "--frame",
        "line",
        "--banner",
        "欢迎\\n",
        "--respond",
        "你好=>你也好\\n",
        "--respond",
        "re:^温度(?P<v>\\d+)=>读数 ${v} 度\\n",
        "--respond",
        "hex:ff fe=>hex:06 0a",
        "--reply",
        "收到 {text}!\\n",
        "--quit-word",
        "再见",
    ]);
    let mut s = connect(&addr);
    let mut banner = Vec::new();
    s.read_until(b'\n', &mut banner).unwrap();
    assert_eq!(banner, gbk("欢迎\n"));
    assert_eq!(ask(&mut s, &gbk("你好\n")), gbk("你也好\n"));
    assert_eq!(ask(&mut s, &gbk("温度25\r\n")), gbk("读数 25 度\n"));
    assert_eq!(ask(&mut s, b"\xff\xfe\n"), b"\x06\n");
    assert_eq!(ask(&mut s, &gbk("世界\n")), gbk("收到 世界!\n"));
    s.get_mut().write_all(&gbk("再见\n")).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "quit word closes: {rest:?}");
}

#[test]
fn line_framing_text_is_the_line_and_raw_line_placeholder_trims() {
    let (_server, addr) = serve(&[
        "127.0.0.1:0",
        "-k",
        "--frame",
        "line",
        "--reply",
        "Loop_msg:{text}!\\n",
    ]);
    let mut s = connect(&addr);
    assert_eq!(ask(&mut s, b"hello\n"), b"Loop_msg:hello!\n");
    assert_eq!(ask(&mut s, b"crlf\r\n"), b"Loop_msg:crlf!\n");
    let (_raw, addr) = serve(&["127.0.0.1:0", "-k", "--reply", "[{line}|{len}]\\n"]);
    let mut s = connect(&addr);
    assert_eq!(ask(&mut s, b"typed\n"), b"[typed|6]\n");
}

#[test]
fn exec_per_message_answers_each_command_with_its_output() {
    if !require_tool("sh") {
        return;
    }
    let (_server, addr) = serve(&["127.0.0.1:0", "-k", "--exec", "sh", "--exec-per-message"]);
    let mut s = connect(&addr);
    // No newline, as the tutorial client sends it.
    assert_eq!(ask(&mut s, b"echo hi"), b"hi\n");
    let err = ask(&mut s, b"no_such_command_xyz");
    assert!(
        String::from_utf8_lossy(&err).contains("not found"),
        "the error goes to the client: {err:?}"
    );
    assert_eq!(ask(&mut s, b"echo again"), b"again\n");
}

#[test]
fn chat_nicknames_and_notices_in_gbk() {
    let (_server, addr) = serve(&["127.0.0.1:0", "-k", "--serve", "chat", "--encoding", "gbk"]);
    let read_line = |s: &mut BufReader<TcpStream>| {
        let mut line = Vec::new();
        s.read_until(b'\n', &mut line).unwrap();
        line
    };
    let mut a = connect(&addr);
    assert!(read_line(&mut a).starts_with(b"* welcome"));
    let renamed = ask(&mut a, &gbk("/nick 小明\n"));
    assert!(renamed.ends_with(&gbk(" is now 小明\n")), "{renamed:?}");
    let mut b = connect(&addr);
    assert!(read_line(&mut b).starts_with(b"* welcome"));
    assert!(read_line(&mut a).ends_with(b" joined\n"));
    a.get_mut().write_all(&gbk("你好\n")).unwrap();
    assert_eq!(read_line(&mut b), gbk("[小明] 你好\n"));
}

/// Runs sockmate to completion with no stdin; its exit code and stderr.
fn fails(args: &[&str]) -> (i32, String) {
    let (status, _, err) = run_with_input(sockmate(args), b"");
    (status.code().unwrap_or(-1), err)
}

#[test]
fn errors_teach_the_fix() {
    let (code, err) = fails(&["listen", "udp://9999"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("write udp://127.0.0.1:9999"), "{err}");
    let (_, err) = fails(&["connect", "udp:127.0.0.1:53"]);
    assert!(err.contains("(write udp://127.0.0.1:53)"), "{err}");
    let (_, err) = fails(&["connect", "unix://tmp/x.sock"]);
    assert!(err.contains("unix:///tmp/x.sock"), "{err}");
    assert!(!err.contains("/tmp/tmp"), "{err}");
    let (code, err) = fails(&["listen", "0", "--exec", "/no/such/cmd"]);
    assert_eq!(code, 2, "checked before listening: {err}");
    assert!(!err.contains("listening on"), "{err}");
    let dir = tempdir();
    let file = dir.path().join("plain.txt");
    std::fs::write(&file, b"not a socket").unwrap();
    let (_, err) = fails(&["connect", &format!("unix://{}", file.display())]);
    assert!(
        err.contains("is not a socket, it is a regular file"),
        "{err}"
    );
    // The endpoint after an optional-value flag stays the endpoint.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (_, err) = fails(&["connect", "--keepalive", &format!("127.0.0.1:{port}")]);
    assert!(
        err.contains(&format!("is anything listening on port {port}?")),
        "{err}"
    );
}

#[test]
fn address_in_use_names_the_holder() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap().to_string();
    let (code, err) = fails(&["listen", &addr]);
    assert_ne!(code, 0);
    let me = std::process::id();
    assert!(err.contains(&format!("(pid {me})")), "{err}");
    assert!(err.contains("--reuseport"), "{err}");
}

#[test]
fn ports_below_1024_explain_the_privilege() {
    let mut id = std::process::Command::new("id");
    id.arg("-u");
    let is_root = run_with_input(id, b"").1.starts_with(b"0\n");
    let mut cmd = if is_root {
        if !require_tool("setpriv") {
            return;
        }
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        cmd
    } else {
        std::process::Command::new(bin())
    };
    cmd.args(["listen", "127.0.0.1:81"]);
    let (status, _, err) = run_with_input(cmd, b"");
    assert!(!status.success());
    assert!(
        err.contains("ports below 1024 need root or CAP_NET_BIND_SERVICE"),
        "{err}"
    );
}

/// A listener with `--explain`, a Python client that sends a line, reads
/// the reply and half-closes; the narration on the server's stderr.
fn explained_session(extra_env: &[(&str, &str)], extra_args: &[&str]) -> Option<String> {
    if !require_tool("python3") {
        return None;
    }
    let mut argv = vec![
        "listen",
        "127.0.0.1:0",
        "--explain",
        "--frame",
        "line",
        "--reply",
        "Loop_msg:{text}!",
    ];
    argv.extend_from_slice(extra_args);
    let mut cmd = sockmate(&argv);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.env_remove("LC_ALL").env_remove("LC_MESSAGES");
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut server = Proc::spawn_configured(cmd);
    let addr = server.listening_addr();
    let mut py = std::process::Command::new("python3");
    py.args([
        "-c",
        "import socket,sys\nh,p=sys.argv[1].rsplit(':',1)\ns=socket.create_connection((h,int(p)),timeout=20)\ns.sendall(b'hello\\n')\nprint(s.recv(100))\ns.shutdown(socket.SHUT_WR)\ns.recv(100)\ns.close()",
        &addr,
    ]);
    let (status, out, err) = run_with_input(py, b"");
    assert!(status.success(), "{err}");
    assert_eq!(out, b"b'Loop_msg:hello!'\n");
    server.wait_line("close()");
    Some(server.stderr_lines().join("\n"))
}

#[test]
fn explain_narrates_a_server_in_english() {
    let Some(text) = explained_session(&[("LANG", "C.UTF-8")], &["--backlog", "5"]) else {
        return;
    };
    let order = [
        "[explain] socket(AF_INET, SOCK_STREAM)",
        "[explain] setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)",
        "[explain] bind(('127.0.0.1', ",
        "[explain] listen(5)",
        "python: s.listen(5)",
        "[explain] accept() = new socket",
        "[explain] recv() = 6 bytes",
        "[explain] send(15 bytes)",
        "[explain] close()",
    ];
    let mut at = 0;
    for want in order {
        let found = text[at..].find(want);
        assert!(found.is_some(), "{want:?} in order in:\n{text}");
        at += found.unwrap_or(0) + want.len();
    }
    assert!(text.contains("TIME_WAIT"), "{text}");
}

#[test]
fn explain_speaks_chinese_with_lang_or_locale() {
    let Some(text) = explained_session(&[("LANG", "zh_CN.UTF-8")], &[]) else {
        return;
    };
    assert!(
        text.contains("为什么:") && !text.contains("三次握手"),
        "{text}"
    );
    assert!(text.contains("backlog（1024）"), "{text}");
    let Some(text) = explained_session(&[("LANG", "zh_CN.UTF-8")], &["--lang", "en"]) else {
        return;
    };
    assert!(text.contains("why:") && !text.contains("为什么"), "{text}");
}

#[test]
fn help_is_grouped_with_examples_and_help_bench_merge_works() {
    for command in ["connect", "listen", "relay"] {
        let (status, out, err) = run_with_input(sockmate(&[command, "--help"]), b"");
        assert!(status.success(), "{err}");
        let out = String::from_utf8_lossy(&out);
        for heading in [
            "Endpoint and socket:",
            "Views:",
            "Limits:",
            "Learning:",
            "Examples:",
        ] {
            assert!(
                out.contains(heading),
                "{command} --help lacks {heading}\n{out}"
            );
        }
    }
    let (_, out, _) = run_with_input(sockmate(&["listen", "--help"]), b"");
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("Services:") && out.contains("Sending:"),
        "{out}"
    );
    assert!(out.contains("[default: raw]"), "{out}");
    let (status, out, err) = run_with_input(sockmate(&["help", "bench", "merge"]), b"");
    assert!(status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out).contains("sockmate bench merge a.json b.json"));
}

#[test]
fn explain_narrates_a_relay_and_a_unix_client() {
    let (_echo, target) = serve(&["127.0.0.1:0", "-k", "--serve", "echo"]);
    let mut cmd = sockmate(&["relay", "127.0.0.1:0", &target, "--explain", "--lang", "en"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut relay = Proc::spawn_configured(cmd);
    let addr = relay.listening_addr();
    let mut s = connect(&addr);
    assert_eq!(ask(&mut s, b"ping\n"), b"ping\n");
    drop(s);
    relay.wait_line("[explain] close()");
    let text = relay.stderr_lines().join("\n");
    let (host, port) = target.rsplit_once(':').unwrap();
    assert!(text.contains("[explain] listen(1024)"), "{text}");
    assert!(text.contains("[explain] accept() = new socket"), "{text}");
    assert!(
        text.contains(&format!("[explain] connect(('{host}', {port}))")),
        "{text}"
    );

    let dir = tempdir();
    let path = sock_path(dir.path(), "explain.sock");
    let (_unix, _) = serve(&[&format!("unix://{path}"), "-k", "--serve", "echo"]);
    let (status, _, err) = run_with_input(
        sockmate(&[
            "connect",
            &format!("unix://{path}"),
            "--explain",
            "--send",
            "x",
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    assert!(
        err.contains("[explain] socket(AF_UNIX, SOCK_STREAM)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("python: s.connect('{path}')")),
        "{err}"
    );
}
