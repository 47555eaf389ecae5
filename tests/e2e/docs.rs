//! The command lines in `docs/from-python.md` and `docs/from-python.zh.md`
//! are run, so a doc that drifts fails CI.
//!
//! A runnable case in the markdown is an HTML comment `<!-- case: NAME -->`
//! followed by fenced blocks, each announced by a comment:
//!
//! - `<!-- run: sockmate-server -->` (a `sockmate listen …` or `send
//!   --listen …` line; its port becomes 0 and the real one is read back) or
//!   `<!-- run: sockmate-client -->` (a `sockmate connect …` line, pointed at
//!   the Python server);
//! - `<!-- run: python-client -->` or `<!-- run: python-server -->`: the
//!   Python side, whose `PORT = N` line gets the real port. A server's first
//!   printed line says it is ready;
//! - `<!-- expect -->`: exactly what the Python side prints; in
//!   `<!-- expect-time -->` a `{time}` stands for any text;
//! - optionally `<!-- stdin -->`: what the sockmate side reads on stdin,
//!   and `<!-- expect-sockmate -->`: what a sockmate client prints.
//!
//! The English and Chinese pages must hold the same cases with the same
//! sockmate lines.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::util::*;

#[derive(Debug, Default, Clone, PartialEq)]
struct Case {
    name: String,
    sockmate: String,
    sockmate_is_server: bool,
    python: String,
    python_is_server: bool,
    expect: String,
    expect_time: bool,
    expect_sockmate: Option<String>,
    stdin: Option<String>,
}

/// Reads the runnable cases of one markdown page.
fn cases(markdown: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let mut pending: Option<String> = None;
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(name) = t
            .strip_prefix("<!-- case:")
            .and_then(|r| r.strip_suffix("-->"))
        {
            out.push(Case {
                name: name.trim().to_string(),
                ..Case::default()
            });
            continue;
        }
        if let Some(what) = t
            .strip_prefix("<!--")
            .and_then(|r| r.strip_suffix("-->"))
            .map(str::trim)
            .filter(|w| w.starts_with("run:") || w.starts_with("expect") || *w == "stdin")
        {
            pending = Some(what.to_string());
            continue;
        }
        if t.starts_with("```") {
            let Some(what) = pending.take() else { continue };
            let mut body = String::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                body.push_str(inner);
                body.push('\n');
            }
            let case = out.last_mut().expect("a run block outside a case");
            match what.as_str() {
                "run: sockmate-server" | "run: sockmate-client" => {
                    case.sockmate_is_server = what.ends_with("server");
                    case.sockmate = body.trim().to_string();
                }
                "run: python-client" | "run: python-server" => {
                    case.python_is_server = what.ends_with("server");
                    case.python = body;
                }
                "expect-sockmate" => case.expect_sockmate = Some(body),
                "expect" | "expect-time" => {
                    case.expect_time = what == "expect-time";
                    case.expect = body;
                }
                "stdin" => case.stdin = Some(body),
                other => panic!("unknown block {other}"),
            }
        }
    }
    out
}

/// Splits a shell line into words (single and double quotes group).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            _ => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The sockmate arguments with the endpoint's port replaced by `port`.
pub(crate) fn with_port(line: &str, port: u16) -> Vec<String> {
    let mut words = shell_words(line);
    assert_eq!(
        words.first().map(String::as_str),
        Some("sockmate"),
        "{line}"
    );
    words.remove(0);
    let at = words
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, w)| !w.starts_with('-'))
        .map(|(i, _)| i)
        .expect("an endpoint");
    let endpoint = &words[at];
    words[at] = if endpoint.bytes().all(|b| b.is_ascii_digit()) {
        format!("127.0.0.1:{port}")
    } else {
        let (head, _) = endpoint.rsplit_once(':').expect("HOST:PORT");
        format!("{head}:{port}")
    };
    words
}

/// The Python script with its `PORT = N` line set to `port`.
fn python_with_port(script: &str, port: u16) -> String {
    let mut found = false;
    let out: Vec<String> = script
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("PORT = ") && !found {
                found = true;
                let indent = &l[..l.len() - l.trim_start().len()];
                format!("{indent}PORT = {port}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(found, "the script has no `PORT = N` line:\n{script}");
    out.join("\n") + "\n"
}

fn check_output(case: &Case, got: &str) {
    if case.expect_time {
        let pattern = regex::escape(&case.expect).replace(r"\{time\}", ".+?");
        let re = regex::Regex::new(&format!("^{pattern}$")).unwrap();
        assert!(
            re.is_match(got),
            "case {}: got\n{got}\nwant\n{}",
            case.name,
            case.expect
        );
    } else {
        assert_eq!(got, case.expect, "case {}", case.name);
    }
}

fn free_port(udp: bool) -> u16 {
    if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        crate::util::free_port()
    }
}

fn python(script: &str) -> Command {
    let mut cmd = Command::new("python3");
    cmd.args(["-u", "-c", script]);
    cmd
}

/// Runs a sockmate server and the Python client; the client's stdout.
fn run_with_sockmate_server(case: &Case) -> String {
    let args = with_port(&case.sockmate, 0);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = sockmate(&argv);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stdin(if case.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut server = Proc::spawn_configured(cmd);
    if let Some(text) = &case.stdin {
        server.write_stdin(text.as_bytes());
    }
    let addr = server.listening_addr();
    let port: u16 = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let (status, out, err) = run_with_input(python(&python_with_port(&case.python, port)), b"");
    assert!(status.success(), "case {}: python failed: {err}", case.name);
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs the Python server, then the sockmate client; the server's stdout.
fn run_with_python_server(case: &Case) -> String {
    let udp = case.sockmate.contains("udp://");
    let port = free_port(udp);
    let mut cmd = python(&python_with_port(&case.python, port));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut server = Proc::spawn_configured(cmd);
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
    let first = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        panic!(
            "case {}: the python server printed nothing: {:?}",
            case.name,
            server.drain_stderr()
        )
    });
    let mut got = first + "\n";
    let args = with_port(&case.sockmate, port);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut client = sockmate(&argv);
    client.current_dir(env!("CARGO_MANIFEST_DIR"));
    let input = case.stdin.clone().unwrap_or_default();
    let (status, sockmate_out, err) = run_with_input(client, input.as_bytes());
    assert!(
        status.success(),
        "case {}: sockmate failed: {err}",
        case.name
    );
    if let Some(want) = &case.expect_sockmate {
        assert_eq!(
            String::from_utf8_lossy(&sockmate_out),
            want.as_str(),
            "case {}: what sockmate printed",
            case.name
        );
    }
    let status = server.wait();
    while let Ok(line) = rx.recv_timeout(DEADLINE) {
        got.push_str(&line);
        got.push('\n');
    }
    assert!(
        status.success(),
        "case {}: python server failed: {:?}",
        case.name,
        server.drain_stderr()
    );
    got
}

fn run_page(path: &str) -> Vec<Case> {
    let page = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = cases(&page);
    assert!(
        cases.len() >= 10,
        "{path} has {} runnable cases",
        cases.len()
    );
    for case in &cases {
        assert!(
            !case.sockmate.is_empty() && !case.python.is_empty(),
            "{path}: case {} lacks a block",
            case.name
        );
        assert_ne!(
            case.sockmate_is_server, case.python_is_server,
            "{path}: case {} needs one server and one client",
            case.name
        );
        let got = if case.sockmate_is_server {
            run_with_sockmate_server(case)
        } else {
            run_with_python_server(case)
        };
        check_output(case, &got);
    }
    cases
}

#[test]
fn from_python_docs_run_as_written_in_both_languages() {
    if !require_tool("python3") || !require_tool("sh") {
        return;
    }
    let zh = std::thread::spawn(|| run_page("docs/from-python.zh.md"));
    let en = run_page("docs/from-python.md");
    let zh = zh.join().expect("the Chinese page's cases");
    let lines = |cases: &[Case]| -> Vec<(String, String)> {
        cases
            .iter()
            .map(|c| (c.name.clone(), c.sockmate.clone()))
            .collect()
    };
    assert_eq!(
        lines(&en),
        lines(&zh),
        "the two pages show the same command lines"
    );
}

#[test]
fn the_harness_reads_cases_and_ports() {
    let page = "<!-- case: a -->\n<!-- run: sockmate-server -->\n```sh\nsockmate listen 8000 -k\n```\n<!-- run: python-client -->\n```python\nPORT = 8000\n```\n<!-- expect -->\n```text\nok\n```\n";
    let c = cases(page);
    assert_eq!(c.len(), 1);
    assert!(c[0].sockmate_is_server && !c[0].python_is_server);
    assert_eq!(c[0].expect, "ok\n");
    assert_eq!(
        with_port(
            "sockmate listen udp://127.0.0.1:9999 --reply 'hello,{text}!'",
            0
        ),
        ["listen", "udp://127.0.0.1:0", "--reply", "hello,{text}!"]
    );
    assert_eq!(
        with_port("sockmate listen 8000 -k", 0),
        ["listen", "127.0.0.1:0", "-k"]
    );
    assert_eq!(
        python_with_port("HOST = 'x'\nPORT = 8000\n", 5),
        "HOST = 'x'\nPORT = 5\n"
    );
}
