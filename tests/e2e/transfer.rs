//! `sockmate send` / `sockmate receive`: byte-exact transfers with digest,
//! directories, concurrent senders, resume, refused names, corrupted
//! streams, and `--raw` against OpenBSD nc.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::util::{random_bytes, run_with_input, sockmate, tempdir, windows_build, Proc};

const MIB: usize = 1 << 20;

/// Writes `blocks` MiB of varied bytes (a random block, stamped per block
/// so no two blocks are equal) and returns the file's SHA-256 in hex.
fn write_big_file(path: &Path, blocks: usize) -> String {
    let base = random_bytes(MIB, 7);
    let mut file = fs::File::create(path).unwrap();
    let mut hasher = Sha256::new();
    let mut block = base.clone();
    for i in 0..blocks {
        block[..8].copy_from_slice(&(i as u64).to_le_bytes());
        block[MIB - 8..].copy_from_slice(&(!(i as u64)).to_le_bytes());
        hasher.update(&block);
        file.write_all(&block).unwrap();
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_file(path: &Path) -> String {
    let mut file = fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; MIB];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hex(&hasher.finalize())
}

/// The BLAKE3 digest `b3sum` (the reference implementation's tool)
/// prints for `path`; `None` when b3sum is missing outside CI.
fn b3sum_file(path: &Path) -> Option<String> {
    if !crate::util::require_tool("b3sum") {
        return None;
    }
    let out = Command::new("b3sum")
        .arg("--no-names")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "b3sum failed");
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

fn start_receiver(dir: &Path, extra: &[&str]) -> (Proc, String) {
    let mut args = vec!["receive", "127.0.0.1:0", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut proc = Proc::spawn(sockmate(&args));
    let endpoint = proc.listening();
    (proc, endpoint)
}

/// `sockmate receive --raw ENDPOINT -o OUT EXTRA…`.
fn raw_receiver(endpoint: &str, out: &Path, extra: &[&str]) -> Proc {
    let mut args = vec!["receive", "--raw", endpoint, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    Proc::spawn(sockmate(&args))
}

fn send(
    endpoint: &str,
    files: &[&str],
    extra: &[&str],
) -> (std::process::ExitStatus, Vec<u8>, String) {
    let mut args = vec!["send", endpoint];
    args.extend_from_slice(extra);
    args.extend_from_slice(files);
    run_with_input(sockmate(&args), b"")
}

/// Lists every file under `dir` (relative paths, sorted).
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// ---- a test-side sender/receiver speaking the documented wire format ----

fn text(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

fn file_frame(parts: &[&[u8]], size: u64, mode: u32) -> Vec<u8> {
    let mut out = vec![b'F', parts.len() as u8];
    for part in parts {
        text(&mut out, part);
    }
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&mode.to_be_bytes());
    out
}

fn connect(endpoint: &str) -> TcpStream {
    let stream = TcpStream::connect(endpoint.trim_start_matches("tcp://")).unwrap();
    stream
        .set_read_timeout(Some(crate::util::DEADLINE))
        .unwrap();
    stream
}

/// The hello of wire version 2 offering SHA-256 (digest 2), which the
/// test-side peers compute with `sha2`.
const HELLO_SHA256: &[u8; 6] = b"SMXF\x02\x02";
/// The hello offering BLAKE3 (digest 1), what `send` offers by default.
const HELLO_BLAKE3: &[u8; 6] = b"SMXF\x02\x01";

/// Sends the hello (offering SHA-256) and checks the receiver's, which
/// takes the sender's offer.
fn hello(stream: &mut TcpStream) {
    stream.write_all(HELLO_SHA256).unwrap();
    let mut answer = [0u8; 6];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, HELLO_SHA256);
}

/// Reads one receiver frame: (tag, offset or reason text).
fn answer(stream: &mut TcpStream) -> (u8, String) {
    let mut tag = [0u8; 1];
    stream.read_exact(&mut tag).unwrap();
    match tag[0] {
        b'A' => {
            let mut offset = [0u8; 8];
            stream.read_exact(&mut offset).unwrap();
            (b'A', u64::from_be_bytes(offset).to_string())
        }
        b'E' | b'S' => {
            let mut len = [0u8; 2];
            stream.read_exact(&mut len).unwrap();
            let mut reason = vec![0u8; u16::from_be_bytes(len) as usize];
            stream.read_exact(&mut reason).unwrap();
            (tag[0], String::from_utf8(reason).unwrap())
        }
        other => (other, String::new()),
    }
}

#[test]
fn a_200_mb_file_arrives_byte_exact_with_its_digest_checked() {
    let dir = tempdir();
    let source = dir.path().join("big.bin");
    let digest = write_big_file(&source, 200);
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{stderr}");
    // BLAKE3 by default, the digest b3sum prints, on both ends.
    let b3 = b3sum_file(&source);
    if let Some(b3) = &b3 {
        assert!(stderr.contains(&format!("blake3 {b3} ok")), "{stderr}");
    }
    assert!(receiver.wait().success());
    let line = receiver.wait_line("received big.bin");
    assert!(line.contains("209715200 bytes"), "{line}");
    if let Some(b3) = &b3 {
        assert!(line.contains(&format!("blake3 {b3} ok")), "{line}");
    }
    let stored = inbox.join("big.bin");
    assert_eq!(fs::metadata(&stored).unwrap().len(), 200 * MIB as u64);
    assert_eq!(sha256_file(&stored), digest);
    assert_eq!(
        files_under(&inbox),
        vec!["big.bin"],
        "no temporary file left"
    );
}

#[test]
fn a_directory_tree_is_sent_with_r() {
    let dir = tempdir();
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    fs::write(tree.join("top.txt"), b"top\n").unwrap();
    fs::write(tree.join("empty"), b"").unwrap();
    fs::write(tree.join("sub/data.bin"), random_bytes(300_000, 3)).unwrap();
    fs::write(tree.join("sub/deeper/run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(
        tree.join("sub/deeper/run.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let single = dir.path().join("single.txt");
    fs::write(&single, b"one more\n").unwrap();

    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let (status, _, stderr) = send(
        &endpoint,
        &[tree.to_str().unwrap(), single.to_str().unwrap()],
        &["-r"],
    );
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    assert_eq!(
        files_under(&inbox),
        vec![
            "single.txt",
            "tree/empty",
            "tree/sub/data.bin",
            "tree/sub/deeper/run.sh",
            "tree/top.txt"
        ]
    );
    for rel in [
        "tree/top.txt",
        "tree/empty",
        "tree/sub/data.bin",
        "tree/sub/deeper/run.sh",
    ] {
        let sent = fs::read(dir.path().join(rel)).unwrap();
        assert_eq!(fs::read(inbox.join(rel)).unwrap(), sent, "{rel}");
    }
    let mode = fs::metadata(inbox.join("tree/sub/deeper/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);

    // Without -r a directory is refused with a hint.
    let (receiver, endpoint) = start_receiver(&dir.path().join("in2"), &[]);
    let (status, _, stderr) = send(&endpoint, &[tree.to_str().unwrap()], &[]);
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("is a directory (use -r"), "{stderr}");
    receiver.signal("TERM");
}

#[test]
fn three_senders_at_once_to_one_keep_open_receiver() {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &["-k"]);
    let mut senders = Vec::new();
    let mut expected = Vec::new();
    for i in 0..3u64 {
        let path = dir.path().join(format!("file{i}.bin"));
        let data = random_bytes(8 * MIB + i as usize * 1000, 11 + i);
        fs::write(&path, &data).unwrap();
        expected.push((format!("file{i}.bin"), data));
        let mut cmd = sockmate(&["send", &endpoint, path.to_str().unwrap()]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        senders.push(cmd.spawn().unwrap());
    }
    for mut sender in senders {
        let status =
            crate::util::wait_timeout(&mut sender, crate::util::DEADLINE).expect("sender finished");
        assert!(status.success());
    }
    for (name, data) in &expected {
        receiver.wait_line(&format!("received {name}"));
        assert_eq!(&fs::read(inbox.join(name)).unwrap(), data, "{name}");
    }
    receiver.signal("TERM");
    assert_eq!(receiver.wait().code(), Some(143));
}

#[test]
fn a_connection_killed_mid_transfer_leaves_no_final_file_and_resume_completes_it() {
    let dir = tempdir();
    let source = dir.path().join("movie.bin");
    let data = random_bytes(6 * MIB, 21);
    fs::write(&source, &data).unwrap();
    let inbox = dir.path().join("in");

    // A sender that dies after half the bytes.
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let mut stream = connect(&endpoint);
    hello(&mut stream);
    stream
        .write_all(&file_frame(&[b"movie.bin"], data.len() as u64, 0o644))
        .unwrap();
    assert_eq!(answer(&mut stream), (b'A', "0".into()));
    let half = data.len() / 2;
    stream.write_all(&data[..half]).unwrap();
    drop(stream);
    assert_eq!(receiver.wait().code(), Some(1));
    let line = receiver.wait_line("incomplete");
    assert!(line.contains("--resume"), "{line}");
    assert!(
        !inbox.join("movie.bin").exists(),
        "no final file after a broken connection"
    );
    assert_eq!(
        fs::metadata(inbox.join(part_name("movie.bin")))
            .unwrap()
            .len(),
        half as u64
    );

    // The real sender, resumed.
    let (mut receiver, endpoint) = start_receiver(&inbox, &["--resume"]);
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    let line = receiver.wait_line("received movie.bin");
    assert!(line.contains(&format!("resumed at byte {half}")), "{line}");
    assert!(line.ends_with(" ok"), "{line}");
    assert_eq!(fs::read(inbox.join("movie.bin")).unwrap(), data);
    assert_eq!(files_under(&inbox), vec!["movie.bin"]);
}

/// Offers a file named `name` to a fresh receiver and returns the
/// receiver's answer; `check` runs with the answer, the receiver and its
/// directory, which must be left empty.
fn offer_name(name: &[u8], check: impl FnOnce(u8, &str, &mut Proc)) {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let mut stream = connect(&endpoint);
    hello(&mut stream);
    stream.write_all(&file_frame(&[name], 3, 0o644)).unwrap();
    let (tag, reason) = answer(&mut stream);
    check(tag, &reason, &mut receiver);
    drop(stream);
    let _ = receiver.wait();
    assert!(
        files_under(&inbox).is_empty(),
        "{name:?} wrote {:?}",
        files_under(&inbox)
    );
    assert!(!dir.path().join("x").exists());
}

/// Checks a refusal of `name` for `why`.
fn assert_refused(name: &[u8], why: &str, tag: u8, reason: &str, receiver: &mut Proc) {
    assert_eq!(tag, b'E', "{name:?}");
    assert!(
        reason.contains("refused file name") && reason.contains(why),
        "{name:?}: {reason}"
    );
    assert_eq!(receiver.wait().code(), Some(1));
    let stderr = receiver.drain_stderr().join("\n");
    assert!(stderr.contains("refused file name"), "{stderr}");
}

#[test]
fn names_that_escape_the_directory_are_refused() {
    for (name, why) in [
        (&b"../x"[..], "contains '/'"),
        (b"..", "leave the target directory"),
        (b"/etc/passwd", "absolute path"),
        (b"a/b", "contains '/'"),
        (b"evil\0name", "NUL"),
    ] {
        offer_name(name, |tag, reason, receiver| {
            assert_refused(name, why, tag, reason, receiver)
        });
    }
}

#[test]
fn names_windows_cannot_store_are_refused_there_and_accepted_elsewhere() {
    // A path, a drive, a stream, a device, a name Windows would shorten.
    for (name, why) in [
        (&b"..\\x"[..], "contains '\\'"),
        (b"C:x", "contains ':'"),
        (b"notes.txt:hidden", "contains ':'"),
        (b"CON", "device name"),
        (b"nul.txt", "device name"),
        (b"a.", "ends with a dot"),
    ] {
        offer_name(name, |tag, reason, receiver| {
            if windows_build() {
                assert_refused(name, why, tag, reason, receiver);
            } else {
                // Plain names on Unix: accepted, to be stored as they are.
                assert_eq!((tag, reason), (b'A', "0"), "{name:?}");
            }
        });
    }
}

#[test]
fn a_corrupted_stream_is_a_digest_mismatch_and_stores_nothing() {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let mut stream = connect(&endpoint);
    hello(&mut stream);
    let data = random_bytes(100_000, 5);
    stream
        .write_all(&file_frame(&[b"report.pdf"], data.len() as u64, 0o644))
        .unwrap();
    assert_eq!(answer(&mut stream).0, b'A');
    let mut corrupted = data.clone();
    corrupted[5000] ^= 0x01;
    stream.write_all(&corrupted).unwrap();
    let mut frame = vec![b'H'];
    frame.extend_from_slice(&Sha256::digest(&data));
    stream.write_all(&frame).unwrap();
    let (tag, reason) = answer(&mut stream);
    assert_eq!(tag, b'E');
    assert!(
        reason.contains("digest mismatch for report.pdf"),
        "{reason}"
    );
    assert_eq!(receiver.wait().code(), Some(1));
    assert!(files_under(&inbox).is_empty(), "{:?}", files_under(&inbox));
}

#[test]
fn the_sender_exits_non_zero_when_the_receiver_reports_a_mismatch() {
    let dir = tempdir();
    let source = dir.path().join("a.txt");
    fs::write(&source, b"hello\n").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let fake = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(crate::util::DEADLINE))
            .unwrap();
        let mut hello = [0u8; 6];
        stream.read_exact(&mut hello).unwrap();
        stream.write_all(HELLO_SHA256).unwrap();
        // 'F', 1 part, len 5 "a.txt", size 8, mode 4.
        let mut header = [0u8; 1 + 1 + 2 + 5 + 8 + 4];
        stream.read_exact(&mut header).unwrap();
        stream.write_all(&[b'A', 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        let mut rest = [0u8; 6 + 33];
        stream.read_exact(&mut rest).unwrap();
        let mut fail = vec![b'E'];
        text(&mut fail, b"digest mismatch for a.txt (test)");
        stream.write_all(&fail).unwrap();
    });
    let (status, _, stderr) = send(&addr, &[source.to_str().unwrap()], &[]);
    fake.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not store a.txt: digest mismatch"),
        "{stderr}"
    );
}

#[test]
fn an_existing_file_is_kept_unless_overwrite() {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    fs::create_dir_all(&inbox).unwrap();
    fs::write(inbox.join("note.txt"), b"old").unwrap();
    let source = dir.path().join("note.txt");
    fs::write(&source, b"new").unwrap();

    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr.contains("already exists (receive with --overwrite"),
        "{stderr}"
    );
    receiver.wait();
    assert_eq!(fs::read(inbox.join("note.txt")).unwrap(), b"old");

    let (mut receiver, endpoint) = start_receiver(&inbox, &["--overwrite"]);
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    assert_eq!(fs::read(inbox.join("note.txt")).unwrap(), b"new");
}

#[test]
fn send_listen_serves_a_receiver_that_connects_and_json_reports_events() {
    let dir = tempdir();
    let source = dir.path().join("data.bin");
    let data = random_bytes(2 * MIB, 9);
    fs::write(&source, &data).unwrap();
    let mut sender = Proc::spawn(sockmate(&[
        "send",
        "--listen",
        "127.0.0.1:0",
        source.to_str().unwrap(),
    ]));
    let endpoint = sender.listening();
    let inbox = dir.path().join("in");
    let (status, stdout, stderr) = run_with_input(
        sockmate(&[
            "receive",
            "--connect",
            &endpoint,
            "--dir",
            inbox.to_str().unwrap(),
            "--json",
        ]),
        b"",
    );
    assert!(status.success(), "{stderr}");
    assert!(sender.wait().success());
    assert_eq!(fs::read(inbox.join("data.bin")).unwrap(), data);
    let events: Vec<serde_json::Value> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(events.first().unwrap()["type"], "transfer_start");
    let done = events.last().unwrap();
    assert_eq!(done["type"], "transfer_done");
    assert_eq!(done["bytes"], 2 * MIB as u64);
    assert_eq!(done["digest_ok"], true);
    assert_eq!(done["digest_alg"], "blake3");
    assert!(done["sha256"].is_null(), "{done}");
    // The envelope every command's --json shares.
    assert_eq!(events[0]["schema"], 1, "{}", events[0]);
    assert!(events.iter().all(|e| e["time"].is_string()));
    assert_eq!(done["bytes_in"], 2 * MIB as u64);
    assert!(done["duration_s"].is_f64(), "{done}");
    assert!(events[0]["peer"]
        .as_str()
        .unwrap()
        .starts_with("tcp://127.0.0.1:"));
    if let Some(b3) = b3sum_file(&inbox.join("data.bin")) {
        assert_eq!(done["digest"], b3);
    }
}

/// `--digest sha256` on either end makes both use SHA-256 (the receiver's
/// choice wins over the sender's offer), and the summaries show what
/// sha256sum prints; JSON names the digest and keeps `sha256`.
#[test]
fn digest_sha256_on_either_side_is_what_both_ends_use() {
    let dir = tempdir();
    let source = dir.path().join("s.bin");
    let data = random_bytes(3 * MIB + 17, 21);
    fs::write(&source, &data).unwrap();
    let want = hex(&Sha256::digest(&data));
    for (round, (sender_extra, receiver_extra)) in [
        (vec!["--digest", "sha256"], vec![]),
        (vec![], vec!["--digest", "sha256"]),
        (vec!["--digest", "blake3"], vec!["--digest", "SHA-256"]),
    ]
    .into_iter()
    .enumerate()
    {
        let inbox = dir.path().join(format!("in{round}"));
        let mut extra = receiver_extra.clone();
        extra.push("--json");
        let (mut receiver, endpoint) = start_receiver(&inbox, &extra);
        let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &sender_extra);
        assert!(status.success(), "{stderr}");
        assert!(stderr.contains(&format!("sha256 {want} ok")), "{stderr}");
        let out = String::from_utf8(receiver.read_stdout_to_end()).unwrap();
        assert!(receiver.wait().success());
        let done: serde_json::Value = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .find(|e: &serde_json::Value| e["type"] == "transfer_done")
            .unwrap_or_else(|| panic!("no done event in {out}"));
        assert_eq!(done["digest_alg"], "sha256", "{done}");
        assert_eq!(done["digest"], want.as_str());
        assert_eq!(done["sha256"], want.as_str());
        assert_eq!(fs::read(inbox.join("s.bin")).unwrap(), data);
    }
}

/// A peer of wire version 1 (sockmate before BLAKE3: SHA-256 only, no
/// digest byte in the hello) is refused with a line that says why, both
/// ways, and nothing is stored.
#[test]
fn an_old_peer_gets_a_clear_refusal() {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let mut old = connect(&endpoint);
    old.write_all(b"SMXF\x01").unwrap();
    let (tag, reason) = answer(&mut old);
    assert_eq!(tag, b'E');
    assert!(
        reason.contains("version 1") && reason.contains("same sockmate version"),
        "{reason}"
    );
    receiver.wait_line("version 1");
    receiver.signal("TERM");
    receiver.wait();
    assert!(files_under(&inbox).is_empty());

    // An old receiver answers our hello with its own version 1 hello.
    let source = dir.path().join("a.txt");
    fs::write(&source, b"hello\n").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let fake = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut hello = [0u8; 6];
        stream.read_exact(&mut hello).unwrap();
        stream.write_all(b"SMXF\x01").unwrap();
        hello
    });
    let (status, _, stderr) = send(&addr, &[source.to_str().unwrap()], &[]);
    assert_eq!(&fake.join().unwrap(), HELLO_BLAKE3);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("version 1") && stderr.contains("same sockmate version"),
        "{stderr}"
    );
}

#[test]
fn raw_mode_interoperates_with_openbsd_nc_both_ways() {
    if !crate::util::require_tool("nc.openbsd") {
        return;
    }
    let dir = tempdir();
    let source = dir.path().join("raw.bin");
    let data = random_bytes(3 * MIB, 13);
    fs::write(&source, &data).unwrap();

    // nc -l PORT > file   <-   sockmate send --raw
    let out1 = dir.path().join("from-sockmate.bin");
    let mut nc = Command::new("nc.openbsd");
    nc.args(["-v", "-l", "127.0.0.1", "0"])
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out1).unwrap());
    let mut nc = Proc::spawn_configured(nc);
    let line = nc.wait_line("Listening on");
    let port = line.split_whitespace().last().unwrap().to_string();
    let (status, _, stderr) = send(
        &format!("127.0.0.1:{port}"),
        &[source.to_str().unwrap()],
        &["--raw"],
    );
    assert!(status.success(), "{stderr}");
    assert!(nc.wait().success());
    assert_eq!(fs::read(&out1).unwrap(), data);
    // Like nc, --raw hashes nothing unless asked.
    assert!(stderr.contains("sent "), "{stderr}");
    assert!(!stderr.contains("sha256"), "{stderr}");

    // sockmate receive --raw   <-   nc -N host port < file
    let out2 = dir.path().join("from-nc.bin");
    let mut receiver = raw_receiver("127.0.0.1:0", &out2, &[]);
    let addr = receiver.listening_addr();
    let (host, port) = addr.rsplit_once(':').unwrap();
    let status = Command::new("nc.openbsd")
        .args(["-N", host, port])
        .stdin(fs::File::open(&source).unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(receiver.wait().success());
    assert_eq!(fs::read(&out2).unwrap(), data);
    assert!(!dir.path().join(part_name("from-nc.bin")).exists());
}

/// A raw sender that resets the connection mid-stream: the receiver says
/// the transfer failed, exits 1 and leaves neither the output nor its
/// temporary file (the bytes before the reset are not passed off as a
/// complete file).
#[test]
fn raw_receive_cut_by_a_reset_stores_nothing() {
    let dir = tempdir();
    let out = dir.path().join("cut.bin");
    let mut receiver = raw_receiver("127.0.0.1:0", &out, &[]);
    let addr: std::net::SocketAddr = receiver.listening_addr().parse().unwrap();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.connect(&addr.into()).unwrap();
    let mut stream: TcpStream = sock.into();
    stream.write_all(&random_bytes(MIB, 5)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    socket2::SockRef::from(&stream)
        .set_linger(Some(std::time::Duration::ZERO))
        .unwrap();
    drop(stream);
    assert_eq!(receiver.wait().code(), Some(1));
    let lines = receiver.drain_stderr().join("\n");
    assert!(
        lines.contains("failed") && lines.contains("nothing stored"),
        "{lines}"
    );
    assert!(!out.exists());
    assert!(!dir.path().join(part_name("cut.bin")).exists());
}

/// `--raw --sha256` on both ends: each summary shows the SHA-256 of the
/// bytes it moved, and they agree. The sender's file is a named pipe, so
/// the copy goes through the reading stage instead of sendfile.
#[test]
fn raw_sha256_summaries_agree_from_a_file_and_from_a_pipe() {
    let dir = tempdir();
    let source = dir.path().join("raw.bin");
    let data = random_bytes(2 * MIB + 123, 21);
    fs::write(&source, &data).unwrap();
    let digest = hex(&Sha256::digest(&data));
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (round, from) in [&source, &fifo].into_iter().enumerate() {
        let out = dir.path().join(format!("out{round}.bin"));
        let mut receiver = raw_receiver("127.0.0.1:0", &out, &["--sha256"]);
        let endpoint = receiver.listening();
        let feeder = (from == &fifo).then(|| {
            let (fifo, data) = (fifo.clone(), data.clone());
            std::thread::spawn(move || fs::write(fifo, data).unwrap())
        });
        let (status, _, stderr) =
            send(&endpoint, &[from.to_str().unwrap()], &["--raw", "--sha256"]);
        assert!(status.success(), "{stderr}");
        if let Some(feeder) = feeder {
            feeder.join().unwrap();
        }
        assert!(
            stderr.contains(&format!("sha256 {digest} (not checked: raw)")),
            "{stderr}"
        );
        assert!(receiver.wait().success());
        let lines = receiver.drain_stderr().join("\n");
        assert!(
            lines.contains(&format!("sha256 {digest} (not checked: raw)")),
            "{lines}"
        );
        assert_eq!(fs::read(&out).unwrap(), data);
    }
}

#[test]
fn usage_errors_exit_2() {
    let (status, _, stderr) = run_with_input(sockmate(&["send", "udp://127.0.0.1:9", "x"]), b"");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("not a stream endpoint"), "{stderr}");
    let (status, _, stderr) = run_with_input(sockmate(&["receive", "0", "--raw"]), b"");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("--raw needs --output"), "{stderr}");
    let (status, _, stderr) =
        run_with_input(sockmate(&["send", "127.0.0.1:9", "a", "b", "--raw"]), b"");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("exactly one file"), "{stderr}");
    let (status, _, stderr) =
        run_with_input(sockmate(&["send", "127.0.0.1:9", "a", "--sha256"]), b"");
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("--raw"), "{stderr}");
}

#[test]
fn files_travel_over_a_unix_socket_too() {
    let dir = tempdir();
    let source = dir.path().join("u.bin");
    let data = random_bytes(3 * MIB + 17, 31);
    fs::write(&source, &data).unwrap();
    let endpoint = format!("unix://{}", crate::util::sock_path(dir.path(), "xfer.sock"));
    let inbox = dir.path().join("in");
    let mut receiver = Proc::spawn(sockmate(&[
        "receive",
        &endpoint,
        "--dir",
        inbox.to_str().unwrap(),
    ]));
    let shown = receiver.listening();
    assert_eq!(shown, endpoint);
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    assert_eq!(fs::read(inbox.join("u.bin")).unwrap(), data);

    // --raw over the same kind of socket: sendfile out, splice in.
    let out = dir.path().join("raw-out.bin");
    let endpoint = format!("unix://{}", crate::util::sock_path(dir.path(), "raw.sock"));
    let mut receiver = raw_receiver(&endpoint, &out, &[]);
    receiver.listening();
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &["--raw"]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    assert_eq!(fs::read(&out).unwrap(), data);
}

#[test]
fn plain_bytes_without_raw_get_a_hint_and_store_nothing() {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let mut stream = connect(&endpoint);
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let (tag, reason) = answer(&mut stream);
    assert_eq!(tag, b'E');
    assert!(
        reason.contains("did not speak the sockmate transfer protocol"),
        "{reason}"
    );
    assert!(reason.contains("--raw"), "{reason}");
    assert_eq!(receiver.wait().code(), Some(1));
    assert!(!inbox.exists() || files_under(&inbox).is_empty());
}

// ---- issue 15: adversarial regressions (items 1, 2, 5, 15, 16) ----

/// The temporary name the receiver uses for `name` (documented in
/// `transfer::receiver::part_name`): a fixed prefix and a hash, so it
/// always fits NAME_MAX.
fn part_name(name: &str) -> String {
    format!(
        ".sockmate-part.{}",
        &hex(&Sha256::digest(name.as_bytes()))[..32]
    )
}

/// The temporary name older builds used (`.NAME.sockmate-part`).
fn old_part_name(name: &str) -> String {
    format!(".{name}.sockmate-part")
}

/// A file outside the receiver's directory that an attacker aims at.
fn victim(dir: &Path) -> std::path::PathBuf {
    let victim = dir.join("victim.txt");
    fs::write(&victim, b"secret").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    victim
}

fn assert_victim_intact(victim: &Path) {
    assert_eq!(
        fs::read(victim).unwrap(),
        b"secret",
        "the victim was written"
    );
    let mode = fs::metadata(victim).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the victim was chmodded");
}

/// Symbolic links to `victim` at every temporary name `name` may use in `dir`.
fn plant_symlinks(dir: &Path, name: &str, victim: &Path) {
    fs::create_dir_all(dir).unwrap();
    for part in [old_part_name(name), part_name(name)] {
        std::os::unix::fs::symlink(victim, dir.join(part)).unwrap();
    }
}

#[test]
fn a_symlink_at_the_temporary_path_is_never_followed() {
    let dir = tempdir();
    let victim = victim(dir.path());
    let source_dir = dir.path().join("src");
    fs::create_dir_all(&source_dir).unwrap();
    let source = source_dir.join("target");
    let data = random_bytes(300_000, 51);
    fs::write(&source, &data).unwrap();
    fs::set_permissions(&source, fs::Permissions::from_mode(0o777)).unwrap();

    // The header protocol.
    let inbox = dir.path().join("in");
    plant_symlinks(&inbox, "target", &victim);
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    assert_victim_intact(&victim);
    assert_eq!(fs::read(inbox.join("target")).unwrap(), data);

    // --raw -o.
    let raw_dir = dir.path().join("raw");
    plant_symlinks(&raw_dir, "out.bin", &victim);
    let out = raw_dir.join("out.bin");
    let mut receiver = raw_receiver("127.0.0.1:0", &out, &[]);
    let endpoint = receiver.listening();
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &["--raw"]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    assert_victim_intact(&victim);
    assert_eq!(fs::read(&out).unwrap(), data);

    // --resume with a symbolic link, then with a hard link, at the
    // temporary path: neither is appended to.
    for hard in [false, true] {
        let inbox = dir.path().join(format!("resume-{hard}"));
        if hard {
            fs::create_dir_all(&inbox).unwrap();
            for part in [old_part_name("target"), part_name("target")] {
                fs::hard_link(&victim, inbox.join(part)).unwrap();
            }
        } else {
            plant_symlinks(&inbox, "target", &victim);
        }
        let (mut receiver, endpoint) = start_receiver(&inbox, &["--resume"]);
        let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
        assert!(status.success(), "hard link {hard}: {stderr}");
        assert!(receiver.wait().success());
        assert_victim_intact(&victim);
        assert_eq!(fs::read(inbox.join("target")).unwrap(), data);
        let mode = fs::metadata(inbox.join("target"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o777);
    }
}

/// Sends one whole file over a test-side connection; returns the answer to
/// the header and, when accepted, the answer to the digest.
fn send_whole(endpoint: &str, name: &[u8], data: &[u8]) -> (u8, String) {
    let mut stream = connect(endpoint);
    hello(&mut stream);
    stream
        .write_all(&file_frame(&[name], data.len() as u64, 0o644))
        .unwrap();
    let first = answer(&mut stream);
    if first.0 != b'A' {
        return first;
    }
    stream.write_all(data).unwrap();
    let mut frame = vec![b'H'];
    frame.extend_from_slice(&Sha256::digest(data));
    stream.write_all(&frame).unwrap();
    answer(&mut stream)
}

#[test]
fn a_second_sender_cannot_replace_a_file_being_received() {
    let dir = tempdir();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &["-k", "--overwrite"]);
    let data = random_bytes(200_000, 41);
    let mut a = connect(&endpoint);
    hello(&mut a);
    a.write_all(&file_frame(&[b"x"], data.len() as u64, 0o644))
        .unwrap();
    assert_eq!(answer(&mut a), (b'A', "0".into()));
    a.write_all(&data[..100_000]).unwrap();
    // Another sender names its file after x's temporary file (the old
    // naming and the current one).
    for evil in [old_part_name("x"), part_name("x")] {
        let (tag, reason) = send_whole(&endpoint, evil.as_bytes(), b"EVIL!");
        if evil == part_name("x") {
            assert_eq!(tag, b'S', "{evil}: {reason}");
            assert!(reason.contains("reserved"), "{reason}");
        }
    }
    a.write_all(&data[100_000..]).unwrap();
    let mut frame = vec![b'H'];
    frame.extend_from_slice(&Sha256::digest(&data));
    a.write_all(&frame).unwrap();
    assert_eq!(answer(&mut a).0, b'K');
    receiver.wait_line("received x:");
    assert_eq!(fs::read(inbox.join("x")).unwrap(), data);

    // Someone on the receiving machine swaps the temporary file while x
    // arrives: the receiver notices, stores nothing and says so.
    let mut b = connect(&endpoint);
    hello(&mut b);
    b.write_all(&file_frame(&[b"y"], data.len() as u64, 0o644))
        .unwrap();
    assert_eq!(answer(&mut b), (b'A', "0".into()));
    b.write_all(&data[..100_000]).unwrap();
    for part in [old_part_name("y"), part_name("y")] {
        let swapped = dir.path().join("swap");
        fs::write(&swapped, b"EVIL!").unwrap();
        fs::rename(&swapped, inbox.join(part)).unwrap();
    }
    b.write_all(&data[100_000..]).unwrap();
    let mut frame = vec![b'H'];
    frame.extend_from_slice(&Sha256::digest(&data));
    b.write_all(&frame).unwrap();
    let (tag, reason) = answer(&mut b);
    assert_eq!(tag, b'E', "{reason}");
    assert!(reason.contains("replaced"), "{reason}");
    assert!(!inbox.join("y").exists());
    receiver.signal("TERM");
    receiver.wait();
}

#[test]
fn names_of_241_to_255_bytes_are_stored() {
    let dir = tempdir();
    let source_dir = dir.path().join("src");
    fs::create_dir_all(&source_dir).unwrap();
    let mut sources = Vec::new();
    for len in [241, 250, 255] {
        let name = format!("{}.bin", "n".repeat(len - 4));
        let path = source_dir.join(&name);
        fs::write(&path, name.as_bytes()).unwrap();
        sources.push((name, path));
    }
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &[]);
    let paths: Vec<&str> = sources.iter().map(|(_, p)| p.to_str().unwrap()).collect();
    let (status, _, stderr) = send(&endpoint, &paths, &[]);
    assert!(status.success(), "{stderr}");
    assert!(receiver.wait().success());
    for (name, _) in &sources {
        assert_eq!(fs::read(inbox.join(name)).unwrap(), name.as_bytes());
    }
    assert_eq!(files_under(&inbox).len(), 3, "{:?}", files_under(&inbox));
}

#[test]
fn control_characters_in_names_are_escaped_on_the_terminal_but_exact_in_json() {
    let name = "evil\x1b[2J\x1b[31mred\nFAKE line\rX\u{9b}31m\u{202e}txt";
    let shown = r"evil\x1b[2J\x1b[31mred\nFAKE line\rX\u{9b}31m\u{202e}txt";
    let dir = tempdir();
    let source_dir = dir.path().join("src");
    fs::create_dir_all(&source_dir).unwrap();
    let source = source_dir.join(name);
    fs::write(&source, b"payload").unwrap();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(&inbox, &["-k", "--json"]);
    let (status, _, sent_stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{sent_stderr}");
    receiver.wait_line(&format!("received {shown}:"));
    // Again: the file exists now, so it is skipped; the error lines too.
    let (status, _, skipped_stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert_eq!(status.code(), Some(1));
    receiver.wait_line(&format!("skipped {shown} from"));
    receiver.wait_line("not stored from");
    receiver.signal("TERM");
    receiver.wait();
    let stdout = receiver.read_stdout_to_end();
    let receiver_stderr = receiver.drain_stderr().join("\n");
    for (who, text) in [
        ("receiver", receiver_stderr.as_str()),
        ("sender", sent_stderr.as_str()),
        ("second sender", skipped_stderr.as_str()),
    ] {
        assert!(
            !text.contains(['\x1b', '\r', '\u{9b}', '\u{202e}']),
            "{who} printed raw control characters: {text:?}"
        );
        assert!(text.contains(shown), "{who}: {text}");
    }
    assert_eq!(fs::read(inbox.join(name)).unwrap(), b"payload");
    let events: Vec<serde_json::Value> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "transfer_done" && e["file"] == name),
        "{events:?}"
    );
}
/// Opens `n` connections that send nothing.
fn idle_connections(endpoint: &str, n: usize) -> Vec<TcpStream> {
    (0..n).map(|_| connect(endpoint)).collect()
}

/// Opens `n` connections that finish the hello and then stall: each holds
/// one of the side's transfer places (a connection still in its hello
/// holds none). `speaks_first`: we play the sender (hello first); else the
/// receiver (hello after the sender's).
fn stalled_sessions(endpoint: &str, n: usize, speaks_first: bool) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut stream = connect(endpoint);
            let mut hello = [0u8; 6];
            if speaks_first {
                stream.write_all(HELLO_SHA256).unwrap();
                stream.read_exact(&mut hello).unwrap();
                assert_eq!(&hello, HELLO_SHA256);
            } else {
                stream.read_exact(&mut hello).unwrap();
                assert_eq!(&hello, HELLO_BLAKE3);
                stream.write_all(HELLO_BLAKE3).unwrap();
            }
            stream
        })
        .collect()
}

#[test]
fn a_peer_beyond_the_session_limit_gets_a_fail_frame() {
    let dir = tempdir();
    let source = dir.path().join("a.txt");
    fs::write(&source, b"hello\n").unwrap();
    let inbox = dir.path().join("in");

    // receive -k: 64 sessions past their hello hold every place; the next
    // sender is told so at its hello instead of waiting silently.
    let (mut receiver, endpoint) = start_receiver(&inbox, &["-k"]);
    let idle = stalled_sessions(&endpoint, 64, true);
    let mut late = connect(&endpoint);
    late.write_all(HELLO_SHA256).unwrap();
    let (tag, reason) = answer(&mut late);
    assert_eq!(tag, b'E');
    assert!(reason.contains("busy"), "{reason}");
    // A real sender says why it was refused.
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("refused the session"), "{stderr}");
    assert!(stderr.contains("busy"), "{stderr}");
    drop(idle);
    // Once they are gone, senders are served again.
    let deadline = std::time::Instant::now() + crate::util::DEADLINE;
    loop {
        let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
        if status.success() {
            break;
        }
        assert!(stderr.contains("busy"), "{stderr}");
        assert!(std::time::Instant::now() < deadline, "{stderr}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(fs::read(inbox.join("a.txt")).unwrap(), b"hello\n");
    receiver.signal("TERM");
    receiver.wait();

    // send --listen -k: the same, with the sender's Fail frame after the
    // receiver's hello.
    let mut sender = Proc::spawn(sockmate(&[
        "send",
        "--listen",
        "-k",
        "127.0.0.1:0",
        source.to_str().unwrap(),
    ]));
    let endpoint = sender.listening();
    let idle = stalled_sessions(&endpoint, 64, false);
    let inbox2 = dir.path().join("in2");
    let (status, _, stderr) = run_with_input(
        sockmate(&[
            "receive",
            "--connect",
            &endpoint,
            "--dir",
            inbox2.to_str().unwrap(),
        ]),
        b"",
    );
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("refused the session"), "{stderr}");
    assert!(stderr.contains("busy"), "{stderr}");
    drop(idle);
    sender.signal("TERM");
    sender.wait();
}

#[test]
fn silent_and_stalled_peers_are_dropped_after_their_deadlines() {
    let dir = tempdir();
    let source = dir.path().join("a.txt");
    fs::write(&source, b"hello\n").unwrap();
    let inbox = dir.path().join("in");
    let (mut receiver, endpoint) = start_receiver(
        &inbox,
        &["-k", "--handshake-timeout", "1s", "--idle-timeout", "1s"],
    );
    // 62 that never say hello, one that says hello and nothing more, one
    // that stops in the middle of a file's bytes.
    let mut idle = idle_connections(&endpoint, 62);
    let mut quiet = connect(&endpoint);
    hello(&mut quiet);
    let mut stalled = connect(&endpoint);
    hello(&mut stalled);
    stalled
        .write_all(&file_frame(&[b"stalled.bin"], 1000, 0o644))
        .unwrap();
    assert_eq!(answer(&mut stalled), (b'A', "0".into()));
    stalled.write_all(&[7u8; 500]).unwrap();
    // Each is told why and closed.
    let (tag, reason) = answer(&mut stalled);
    assert_eq!(tag, b'E');
    assert!(reason.contains("no data"), "{reason}");
    let (tag, reason) = answer(&mut quiet);
    assert_eq!(tag, b'E');
    assert!(reason.contains("no file header"), "{reason}");
    for stream in &mut idle {
        let (tag, reason) = answer(stream);
        assert_eq!(tag, b'E');
        assert!(reason.contains("no hello"), "{reason}");
    }
    receiver.wait_line("stalled.bin from");
    // A real sender is served while the idle connections are still open.
    let (status, _, stderr) = send(&endpoint, &[source.to_str().unwrap()], &[]);
    assert!(status.success(), "{stderr}");
    assert_eq!(fs::read(inbox.join("a.txt")).unwrap(), b"hello\n");
    receiver.signal("TERM");
    receiver.wait();

    // send --listen -k: a receiver that never answers is dropped too.
    let mut sender = Proc::spawn(sockmate(&[
        "send",
        "--listen",
        "-k",
        "--handshake-timeout",
        "1s",
        "127.0.0.1:0",
        source.to_str().unwrap(),
    ]));
    let endpoint = sender.listening();
    let mut silent = connect(&endpoint);
    let mut buf = Vec::new();
    // Its hello, then the end of the connection.
    silent.read_to_end(&mut buf).unwrap();
    assert!(buf.starts_with(HELLO_BLAKE3), "{buf:?}");
    sender.wait_line("no hello");
    sender.signal("TERM");
    sender.wait();
}
