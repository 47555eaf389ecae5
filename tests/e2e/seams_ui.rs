//! Issue 21's browser-UI seams: UDP client sessions that live until
//! stopped, records confined to one directory, the UI server's header and
//! idle timeouts, `--ui` on CLI sessions, the log kept across a reload.
//! Browser scenarios are in `tests/e2e/seams_ui_browser.py` (Chromium via
//! Playwright), the rest drives the page's WebSocket protocol directly.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::json;

use crate::util::{free_port, require_tool, sockmate, wait_timeout, Proc};

/// True when Chromium, Python and Playwright are here; SKIPPED (or, under
/// `CI=true`, a failure) when not.
fn have_browser() -> bool {
    if !require_tool("chromium") || !require_tool("python3") {
        return false;
    }
    let has_playwright = std::process::Command::new("python3")
        .args(["-c", "import playwright"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_playwright {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 playwright is missing (pip install playwright: see .ci/run)"
        );
        eprintln!("SKIPPED: python3 playwright is not installed (pip install playwright)");
        return false;
    }
    true
}

/// Runs `scenario` of seams_ui_browser.py against the page at `url` (with
/// `extra` arguments) and returns its stdout; fails on anything but
/// "scenario SCENARIO: ok".
fn browser(scenario: &str, url: &str, extra: &[&str]) -> String {
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("seams-ui-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/seams_ui_browser.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg(scenario)
        .arg(url)
        .arg(&shots)
        .arg(profile.path())
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(150));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "browser scenario {scenario} failed:\n{out}\n{err}"
    );
    assert!(
        out.contains(&format!("scenario {scenario}: ok")),
        "{out}\n{err}"
    );
    out
}

/// Item 1: a UDP client session lives until the user stops it: an
/// auto-send of 10 datagrams 1.5 s apart all reach a Python UDP peer.
#[test]
fn ui_udp_client_auto_send_of_ten_datagrams_all_arrive() {
    if !have_browser() {
        return;
    }
    let (_ui, host, token) = crate::ui::start_ui(&["ui"]);
    let out = browser("udp", &format!("http://{host}/#token={token}"), &[]);
    assert!(out.contains("received 10 datagrams"), "{out}");
}

/// Item 13: "Record to file" writes only into `--record-dir`, by file name
/// alone, never through a link or into a file sockmate did not create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_record_goes_only_into_the_record_dir_by_name() {
    let dir = crate::util::tempdir();
    let records = dir.path().join("records");
    std::fs::create_dir(&records).unwrap();
    let outside = dir.path().join("outside");
    std::os::unix::fs::symlink(&outside, records.join("link")).unwrap();
    std::fs::write(records.join("theirs.txt"), b"keep").unwrap();
    let (mut ui, host, token) =
        crate::ui::start_ui(&["ui", "--record-dir", records.to_str().unwrap()]);
    let line = ui.wait_line("records go to ");
    assert!(line.ends_with(records.to_str().unwrap()), "{line}");
    let mut page = crate::ui::Page::open(&host, &token).await;
    let r = page
        .call(json!({"cmd": "open", "role": "listen", "endpoint": "udp://127.0.0.1:0"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let session = r["session"].clone();
    let listening = page
        .until(|m| m["t"] == "ev" && m["e"]["type"] == "listening")
        .await;
    let addr = listening["e"]["endpoint"]
        .as_str()
        .unwrap()
        .strip_prefix("udp://")
        .unwrap()
        .to_string();
    for (bad, why) in [
        ("/etc/x", "folder separator"),
        ("../x", "folder separator"),
        ("..", "\"..\""),
        ("link", "already exists"),
        ("theirs.txt", "already exists"),
    ] {
        let r = page
            .call(json!({"cmd": "record", "session": session, "path": bad}))
            .await;
        assert_eq!(r["ok"], false, "{bad}: {r}");
        let err = r["error"].as_str().unwrap();
        assert!(
            err.contains(&format!("record file \"{bad}\"")) && err.contains(why),
            "{bad}: {err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }
    assert!(!outside.exists(), "the link was not followed");
    assert_eq!(std::fs::read(records.join("theirs.txt")).unwrap(), b"keep");
    let r = page
        .call(json!({"cmd": "record", "session": session, "path": "capture.bin"}))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"recorded", &addr).unwrap();
    page.until(|m| m["t"] == "ev" && m["e"]["type"] == "data")
        .await;
    assert_eq!(
        std::fs::read(records.join("capture.bin")).unwrap(),
        b"recorded"
    );
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1, "nothing was written beside the record dir");
}

/// Item 22: connections that never finish their headers (slowloris) are
/// closed by the UI server's header-read timeout, and the page is served
/// while they are held.
#[test]
fn ui_server_closes_connections_that_never_end_their_headers() {
    let (_ui, host, _token) = crate::ui::start_ui(&["ui"]);
    let mut held = Vec::new();
    for _ in 0..50 {
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        s.write_all(format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Slow: 1\r\n").as_bytes())
            .unwrap();
        held.push(s);
    }
    // A keep-alive connection that goes quiet after its request.
    let mut idle = std::net::TcpStream::connect(&host).unwrap();
    idle.write_all(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .unwrap();
    // An honest request is answered meanwhile.
    let mut ok = std::net::TcpStream::connect(&host).unwrap();
    ok.write_all(format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    ok.set_read_timeout(Some(crate::util::DEADLINE)).unwrap();
    let mut page = String::new();
    let _ = ok.read_to_string(&mut page);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    // Each held connection ends (EOF or reset) before the deadline.
    for (i, s) in held.iter_mut().enumerate() {
        s.set_read_timeout(Some(crate::util::DEADLINE)).unwrap();
        let mut buf = [0u8; 512];
        let ended = loop {
            match s.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        assert!(
            ended,
            "connection {i} was still open after {:?}",
            crate::util::DEADLINE
        );
    }
    // The idle keep-alive connection got its page, then was closed.
    idle.set_read_timeout(Some(crate::util::DEADLINE)).unwrap();
    let mut answer = Vec::new();
    let closed = idle.read_to_end(&mut answer).is_ok();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    assert!(closed, "an idle keep-alive connection is closed");
}

/// The `http://…/#token=…` a `--ui` CLI session printed.
fn ui_url(p: &mut Proc) -> String {
    let line = p.wait_line("ui on ");
    line.strip_prefix("ui on ")
        .expect("the ui line")
        .to_string()
}

/// Item 2: `connect --ui --encoding gbk` shows the peer's GBK as text, as
/// a client (no client list), at its own local address.
#[test]
fn connect_ui_page_decodes_with_the_cli_encoding_and_shows_a_client() {
    if !have_browser() {
        return;
    }
    let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap().to_string();
    let mut p = Proc::spawn(sockmate(&["connect", "--ui", "--encoding", "gbk", &addr]));
    let url = ui_url(&mut p);
    let (mut s, local) = peer.accept().unwrap();
    // 温度 23.5 in GBK, every 100 ms (at most 300 times) until the page
    // has checked it: it may open after the first lines.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = std::sync::Arc::clone(&done);
    let sender = std::thread::spawn(move || {
        for _ in 0..300 {
            if stop.load(std::sync::atomic::Ordering::Relaxed)
                || s.write_all(b"\xce\xc2\xb6\xc8 23.5\r\n").is_err()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let result =
        std::panic::catch_unwind(|| browser("cli_gbk", &url, &[&format!("tcp://{local}")]));
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// Item 2: `relay --ui` lists each pair by its client's real address at
/// the real listen address, shows no send controls, and Disconnect cuts
/// the pair (both its Python client and its target see the end).
#[test]
fn relay_ui_page_shows_real_addresses_and_disconnects_a_pair() {
    if !have_browser() {
        return;
    }
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap().to_string();
    let mut p = Proc::spawn(sockmate(&["relay", "127.0.0.1:0", &target_addr, "--ui"]));
    let url = ui_url(&mut p);
    let listen = p.listening_addr();
    // The target side: what the relay brings, until the pair is cut.
    let at_target = std::thread::spawn(move || {
        let (mut t, _) = target.accept().unwrap();
        t.set_read_timeout(Some(crate::util::DEADLINE * 3)).unwrap();
        let mut got = Vec::new();
        // A pair cut before its source ended resets its far side (issue
        // 21 item 14): a reset ends it as well as a FIN.
        let ended = match t.read_to_end(&mut got) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        (got, ended)
    });
    // The page's Python client connects once the page is open.
    browser("relay", &url, &[&format!("tcp://{listen}")]);
    let (got, ended) = at_target.join().unwrap();
    assert!(ended, "the target saw the pair end");
    assert_eq!(got, b"ping", "the client's bytes reached the target");
}

/// Item 5: a page that opens late is shown what came before (the kept
/// history), a reload keeps the log and the start time, and when the
/// `--ui` process exits the page says "session ended".
#[test]
fn ui_reload_keeps_the_log_and_the_page_says_when_the_session_ended() {
    if !have_browser() {
        return;
    }
    let mut p = Proc::spawn(sockmate(&["listen", "-k", "127.0.0.1:0", "--ui"]));
    let url = ui_url(&mut p);
    let listen = p.listening_addr();
    let pid = p.child.id().to_string();
    browser("reload", &url, &[&format!("tcp://{listen}"), &pid]);
    assert!(
        wait_timeout(&mut p.child, crate::util::DEADLINE).is_some(),
        "sockmate exited"
    );
}

/// Item 3: hex sends show as text (or, binary, as hex) in the Text view,
/// never as dots; long hex is offset + 16-byte rows; `@` is a client's own
/// address.
#[test]
fn ui_text_view_shows_hex_sends_as_text_or_hex_and_long_hex_in_rows() {
    if !have_browser() {
        return;
    }
    let (_ui, host, token) = crate::ui::start_ui(&["ui"]);
    browser("hexview", &format!("http://{host}/#token={token}"), &[]);
}

/// A port scan started from the page runs on the engine like the command
/// line's (#19: scan as an engine start) and shows a row per port.
#[test]
fn ui_runs_a_port_scan_from_the_page() {
    if !have_browser() {
        return;
    }
    let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port().to_string();
    let closed_port = free_port().to_string();
    let (_ui, host, token) = crate::ui::start_ui(&["ui"]);
    browser(
        "scan",
        &format!("http://{host}/#token={token}"),
        &[&open_port, &closed_port],
    );
    drop(open);
}

/// Item 4: the saved `.txt` log is text: one line per entry, NUL, CR/LF
/// inside a message and other control bytes escaped as the terminal view
/// does.
#[test]
fn ui_saved_text_log_escapes_control_bytes_one_entry_per_line() {
    if !have_browser() {
        return;
    }
    let (_ui, host, token) = crate::ui::start_ui(&["ui"]);
    browser("savetxt", &format!("http://{host}/#token={token}"), &[]);
}

/// Item 7: the log is at its end after switching sessions, "Save as…"
/// stays on its row at 1400 px, and the engine's errors are Chinese under
/// 中文.
#[test]
fn ui_switching_sessions_layout_and_chinese_errors() {
    if !have_browser() {
        return;
    }
    let dir = crate::util::tempdir();
    let (_ui, host, token) =
        crate::ui::start_ui(&["ui", "--record-dir", dir.path().to_str().unwrap()]);
    browser("polish", &format!("http://{host}/#token={token}"), &[]);
}

/// Item 6: templates with checksums (previewed), respond rules on a
/// server, the quick-send panel, and profiles both ways: what the page
/// exports, `connect --profile F --packet NAME` sends byte for byte.
#[test]
fn ui_send_templates_respond_rules_and_quick_send_profiles() {
    if !have_browser() {
        return;
    }
    let (_ui, host, token) = crate::ui::start_ui(&["ui"]);
    browser("sendbox", &format!("http://{host}/#token={token}"), &[]);
    let profile = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("seams-ui-shots")
        .join("sendbox-profile.toml");
    let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap().to_string();
    let got = std::thread::spawn(move || {
        let (mut s, _) = peer.accept().unwrap();
        s.set_read_timeout(Some(crate::util::DEADLINE)).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    });
    let (status, _, stderr) = crate::util::run_with_input(
        sockmate(&[
            "connect",
            &addr,
            "--profile",
            profile.to_str().unwrap(),
            "--packet",
            "poll",
        ]),
        b"",
    );
    assert!(status.success(), "{stderr}");
    // AB, {seq:u8} = 1, CRC-16/MODBUS of the three, low byte first.
    let mut crc: u16 = 0xffff;
    for b in b"AB\x01" {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xa001
            } else {
                crc >> 1
            };
        }
    }
    let mut want = b"AB\x01".to_vec();
    want.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(got.join().unwrap(), want, "{stderr}");
}
