//! Test helpers: run the real `sockmate` binary and peer tools on loopback.
//!
//! No fixed ports and no sleeps as synchronisation: servers bind port 0 and
//! tests wait for the `listening on …` line. Every wait has a deadline, and
//! every child is killed and reaped on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous deadline for anything a test waits on.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The binary under test: this build's, or `SOCKMATE_TEST_BIN` when set
/// (to check that a regression test fails on an older build).
pub fn bin() -> PathBuf {
    match std::env::var_os("SOCKMATE_TEST_BIN") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_BIN_EXE_sockmate")),
    }
}

/// A `sockmate` command with a scrubbed environment.
pub fn sockmate(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    // English status lines whatever the machine's locale (a zh_* locale
    // says them in Chinese); a test that wants Chinese sets LANG.
    cmd.args(args)
        .env_remove("SOCKMATE_LOG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1");
    cmd
}

/// True when the peer tool is installed. Under CI (`CI=true`) a missing tool
/// fails the test; elsewhere the test says so and is skipped.
pub fn require_tool(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("peer tool `{name}` is missing (install it: see .ci/run)");
        }
        eprintln!("SKIPPED: peer tool `{name}` is not installed (apt-get install it; under CI=true this fails)");
    }
    found
}

/// A running child process whose stderr is collected line by line.
pub struct Proc {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
    lines: mpsc::Receiver<String>,
    pub stderr_seen: Vec<String>,
}

impl Proc {
    /// Spawns `cmd` with piped stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Proc::spawn_configured(cmd)
    }

    /// Spawns `cmd` as configured, except stderr, which is always piped.
    pub fn spawn_configured(mut cmd: Command) -> Proc {
        cmd.stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        Proc {
            child,
            stdin,
            stdout,
            lines: rx,
            stderr_seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn wait_line(&mut self, needle: &str) -> String {
        self.wait_line_with(&[needle])
    }

    /// Waits for a stderr line containing one of `needles` and returns it.
    pub fn wait_line_with(&mut self, needles: &[&str]) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stderr_seen.push(line.clone());
                    if needles.iter().any(|n| line.contains(n)) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no stderr line containing {needles:?}; saw {:?}",
                    self.stderr_seen
                ),
            }
        }
    }

    /// Waits for `listening on ENDPOINT` (or its Chinese, under a `zh`
    /// locale or `--lang zh`) and returns the endpoint.
    pub fn listening(&mut self) -> String {
        let line = self.wait_line_with(&["listening on ", "正在监听 "]);
        line.split("listening on ")
            .nth(1)
            .or_else(|| line.split("正在监听 ").nth(1))
            .expect("endpoint")
            .split_whitespace()
            .next()
            .expect("endpoint")
            .to_string()
    }

    /// Waits for `listening on tls://ADDR (tls … sha256 FP)` and returns
    /// the endpoint and the fingerprint.
    pub fn listening_tls(&mut self) -> (String, String) {
        listening_tls(self)
    }

    /// Waits for `listening on tcp://ADDR` and returns `ADDR` (host:port).
    pub fn listening_addr(&mut self) -> String {
        let ep = self.listening();
        ep.split("://").nth(1).expect("addr").to_string()
    }

    /// All stderr lines seen so far plus any that are queued.
    pub fn stderr_lines(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.try_recv() {
            self.stderr_seen.push(line);
        }
        self.stderr_seen.clone()
    }

    /// Closes our end of the child's stdin (it reads EOF).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Writes to the child's stdin.
    pub fn write_stdin(&mut self, data: &[u8]) {
        self.stdin
            .as_mut()
            .expect("stdin open")
            .write_all(data)
            .expect("write stdin");
    }

    /// Reads the child's stdout to EOF on a thread, with a deadline.
    pub fn read_stdout_to_end(&mut self) -> Vec<u8> {
        let mut out = self.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        rx.recv_timeout(DEADLINE)
            .expect("stdout did not reach EOF in time")
    }

    /// Waits for the child to exit, with a deadline.
    pub fn wait(&mut self) -> ExitStatus {
        wait_timeout(&mut self.child, DEADLINE).expect("process did not exit in time")
    }

    /// Sends a signal to the child.
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status();
    }

    /// Drains remaining stderr lines until the process's stderr closes.
    pub fn drain_stderr(&mut self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.stderr_seen.push(line);
        }
        self.stderr_seen.clone()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a child with a deadline; `None` if it is still running.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs a command to completion with a deadline; returns (status, stdout, stderr).
pub fn run_with_input(mut cmd: Command, input: &[u8]) -> (ExitStatus, Vec<u8>, String) {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = match wait_timeout(&mut child, DEADLINE) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command did not finish in time");
        }
    };
    let _ = writer.join();
    (
        status,
        out_t.join().unwrap_or_default(),
        err_t.join().unwrap_or_default(),
    )
}

/// Deterministic pseudo-random bytes (xorshift), every byte value included.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    // Make sure runs of 0x00 and 0xff are present.
    if len > 4096 {
        out[100..1100].fill(0);
        out[2000..3000].fill(0xff);
    }
    out
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Path of a socket file inside `dir`.
pub fn sock_path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// Waits for a TLS listener's `listening on` line and returns its endpoint
/// and the certificate's SHA-256 fingerprint printed on it.
pub fn listening_tls(proc: &mut Proc) -> (String, String) {
    let line = proc.wait_line("listening on ");
    let endpoint = line
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("endpoint")
        .to_string();
    let pin = line
        .split("sha256 ")
        .nth(1)
        .and_then(|rest| rest.split([')', ',', ' ']).next())
        .unwrap_or_else(|| panic!("no fingerprint on {line:?}"))
        .to_string();
    (endpoint, pin)
}

/// Reads exactly `len` bytes of the child's stdout, with a deadline.
pub fn read_stdout(proc: &mut Proc, len: usize) -> Vec<u8> {
    let mut out = proc.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; len];
        let got = out.read_exact(&mut buf).map(|()| buf);
        let _ = tx.send(got);
    });
    rx.recv_timeout(DEADLINE)
        .expect("no echo in time")
        .expect("stdout ended early")
}

/// A port that was free a moment ago, for tools that cannot report theirs.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something listens on 127.0.0.1:`port` (read from
/// /proc/net/tcp, without connecting to it).
pub fn wait_listening(port: u16) {
    let needle = format!(":{port:04X} 00000000:0000 0A");
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        if table.contains(&needle) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("nothing listened on port {port}");
}

/// True when the binary under test is the Windows build, run under Wine
/// (`SOCKMATE_TEST_WINDOWS=1`, set by `.ci/windows.sh`).
pub fn windows_build() -> bool {
    std::env::var("SOCKMATE_TEST_WINDOWS").as_deref() == Ok("1")
}

/// The lines of a run's stderr that sockmate wrote. Under Wine the stream
/// can also carry Wine's own diagnostics ("wine client error:…",
/// "0024:err:…", "…:fixme:…"), printed at random by the emulator and not
/// by the program; the checks that count lines ("one line naming the bad
/// part") count only ours.
pub fn our_stderr_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            !windows_build()
                || !(l.starts_with("wine") || l.contains(":err:") || l.contains(":fixme:"))
        })
        .collect()
}

/// The name the binary under test opens the serial device `path` by: the
/// path itself, or for the Windows build a COM port that Wine maps to it
/// (a `comN` link in the prefix's `dosdevices`, N from 10 up).
pub fn serial_port_name(path: &Path) -> String {
    if !windows_build() {
        return path.display().to_string();
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(10);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let prefix = std::env::var_os("WINEPREFIX").expect("WINEPREFIX for the Windows build");
    let link = Path::new(&prefix)
        .join("dosdevices")
        .join(format!("com{n}"));
    let device = std::fs::canonicalize(path).expect("the serial device");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(device, &link).expect("link a COM port to the device");
    format!("COM{n}")
}

/// The command that runs `script` through the platform shell of the
/// binary under test (`--sh-exec` runs `sh -c` on Unix, `cmd /C` on
/// Windows): `unix` or `windows`, whichever applies.
pub fn shell_command<'a>(unix: &'a str, windows: &'a str) -> &'a str {
    if windows_build() {
        windows
    } else {
        unix
    }
}

/// `sockmate listen ARGS…` with stdin and stdout on the null device, once
/// it listens; returns it and its `HOST:PORT`.
pub fn serve_quietly(args: &[&str]) -> (Proc, String) {
    let mut argv = vec!["listen"];
    argv.extend_from_slice(args);
    spawn_quietly(&argv)
}

/// Starts `sockmate ARGS…` (any command that listens: listen, relay,
/// replay) with stdin and stdout closed, and returns it with the address
/// of its `listening on` line.
pub fn spawn_quietly(args: &[&str]) -> (Proc, String) {
    let mut cmd = sockmate(args);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let mut proc = Proc::spawn_configured(cmd);
    let addr = proc.listening_addr();
    (proc, addr)
}

/// The tutorials' programs, beside the project.
pub fn tutorials() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tutorials")
}

/// True when python3 and the tutorials are there (under CI a missing one
/// fails).
pub fn have_tutorials() -> bool {
    if !require_tool("python3") {
        return false;
    }
    let found = tutorials().join("README.md").exists();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the tutorials' programs are missing from {}",
            tutorials().display()
        );
        eprintln!("SKIPPED: no {}", tutorials().display());
    }
    found
}

/// `python3 -u FILE ARGS…`, run from the tutorials' folder.
pub fn tutorial(file: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    cmd.current_dir(tutorials()).arg("-u").arg(file).args(args);
    cmd
}

/// Runs the binary under test with `args`, its stdin, stdout and stderr on
/// a pseudo-terminal (Python's `pty`), to its end (at most 60 s), and
/// returns what the terminal showed (`\n` shows as `\r\n` there).
pub fn on_a_terminal(args: &[&str]) -> String {
    const DRIVER: &str = r#"
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
deadline = time.time() + 60
while time.time() < deadline:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(bin())
        .args(args)
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
