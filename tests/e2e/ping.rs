//! `sockmate ping` and `bench icmp://` against the kernel's own ICMP echo
//! (issue 25 §3): the raw socket as root, the unprivileged datagram socket
//! as nobody, the refusal when neither is allowed, ping(8)'s lines, JSON,
//! `--size`, `--explain`, losses, and ICMP latency percentiles.
//!
//! Each test runs in a network namespace it makes (`unshare -n`, loopback
//! only), where it sets `net.ipv4.ping_group_range` (and, for losses,
//! `icmp_echo_ignore_all`) without touching the host's settings. Needs
//! root (under `CI=true` its absence fails), `unshare`, `ip` and
//! `setpriv`.

use std::process::Command;

use serde_json::Value;

use crate::util::{bin, require_tool, run_with_input, sockmate};

/// Every group may open unprivileged ICMP sockets.
const ALL_GROUPS: &str = "0 2147483647";
/// No group may (the kernel's default).
const NO_GROUP: &str = "1 0";

/// The user the unprivileged runs become.
const NOBODY: &str = "65534";

/// True when the tests can make namespaces (root with the tools).
fn can_make_namespaces() -> bool {
    let mut id = Command::new("id");
    id.arg("-u");
    let root = run_with_input(id, b"").1.starts_with(b"0\n");
    if !root {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the ping tests need root (to make network namespaces)");
        }
        eprintln!("SKIPPED: the ping tests need root (to make network namespaces)");
        return false;
    }
    ["unshare", "ip", "setpriv"].iter().all(|t| require_tool(t))
}

/// How a run is set up inside its namespace.
struct Setup {
    /// `net.ipv4.ping_group_range`.
    range: &'static str,
    /// Run as nobody (`setpriv`) instead of root.
    unprivileged: bool,
    /// `net.ipv4.icmp_echo_ignore_all`: the kernel does not answer.
    ignore_echo: bool,
}

const ROOT: Setup = Setup {
    range: NO_GROUP,
    unprivileged: false,
    ignore_echo: false,
};

const NOBODY_ALLOWED: Setup = Setup {
    range: ALL_GROUPS,
    unprivileged: true,
    ignore_echo: false,
};

/// The shell script that sets up the namespace (`$1`: ping_group_range,
/// `$2`: icmp_echo_ignore_all) and runs the rest of its arguments.
const NAMESPACE_SCRIPT: &str = r#"ip link set lo up &&
echo "$1" > /proc/sys/net/ipv4/ping_group_range &&
echo "$2" > /proc/sys/net/ipv4/icmp_echo_ignore_all &&
shift 2 && exec "$@""#;

/// `sockmate ARGS` as `setup` runs it: behind `setpriv` when unprivileged.
fn sockmate_argv(setup: &Setup, args: &[&str]) -> Vec<String> {
    let mut argv = Vec::new();
    if setup.unprivileged {
        argv.extend([
            "setpriv".to_string(),
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".to_string(),
        ]);
    }
    argv.push(bin().display().to_string());
    argv.extend(args.iter().map(|a| a.to_string()));
    argv
}

/// Runs `argv` in a new network namespace set up as `setup` says;
/// returns (exit code, stdout, stderr).
fn run_in_namespace(setup: &Setup, argv: &[String]) -> (i32, String, String) {
    let mut cmd = Command::new("unshare");
    cmd.args(["-n", "sh", "-c", NAMESPACE_SCRIPT, "sh", setup.range])
        .arg(if setup.ignore_echo { "1" } else { "0" })
        .args(argv);
    // As `sockmate()` does: English lines whatever the locale.
    let plain = sockmate(&[]);
    for (key, value) in plain.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let (status, out, err) = run_with_input(cmd, b"");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out).into_owned(),
        err,
    )
}

/// Runs `sockmate ARGS` in a new network namespace set up as `setup` says.
fn in_namespace(setup: &Setup, args: &[&str]) -> (i32, String, String) {
    run_in_namespace(setup, &sockmate_argv(setup, args))
}

/// Checks ping(8)'s transcript of `count` answered requests to `ip` with
/// `bytes` ICMP bytes each.
fn check_transcript(out: &str, ip: &str, count: u64, bytes: usize) {
    let lines: Vec<&str> = out.lines().collect();
    let header = if ip.contains(':') {
        format!("PING {ip} ({ip}) {} data bytes", bytes - 8)
    } else {
        format!(
            "PING {ip} ({ip}) {}({}) bytes of data.",
            bytes - 8,
            bytes + 20
        )
    };
    assert_eq!(lines.first().copied(), Some(header.as_str()), "{out}");
    for seq in 1..=count {
        let prefix = format!("{bytes} bytes from {ip}: icmp_seq={seq} ttl=64 time=");
        let line = lines
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no reply line for icmp_seq={seq}:\n{out}"));
        let time = line[prefix.len()..].strip_suffix(" ms").expect(line);
        assert!(time.parse::<f64>().is_ok_and(|t| t >= 0.0), "{line}");
    }
    let stats = format!("--- {ip} ping statistics ---");
    let at = lines.iter().position(|l| *l == stats).expect(out);
    assert_eq!(lines[at - 1], "", "a blank line before the statistics");
    let counts = format!("{count} packets transmitted, {count} received, 0% packet loss, time ");
    assert!(lines[at + 1].starts_with(&counts), "{out}");
    assert!(lines[at + 1].ends_with("ms"), "{out}");
    let rtt = lines[at + 2]
        .strip_prefix("rtt min/avg/max/mdev = ")
        .and_then(|r| r.strip_suffix(" ms"))
        .expect(out);
    let parts: Vec<f64> = rtt.split('/').map(|p| p.parse().expect(rtt)).collect();
    assert_eq!(parts.len(), 4, "{rtt}");
    assert!(parts[0] <= parts[1] && parts[1] <= parts[2], "{rtt}");
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `ping_start` event's `socket`: `raw` or `dgram`.
fn socket_kind(setup: &Setup, ip: &str) -> String {
    let (code, out, err) = in_namespace(setup, &["ping", ip, "-c", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    json_lines(&out)[0]["socket"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn as_root_a_raw_socket_pings_both_loopbacks_like_ping8() {
    if !can_make_namespaces() {
        return;
    }
    for ip in ["127.0.0.1", "::1"] {
        let (code, out, err) = in_namespace(&ROOT, &["ping", ip, "--count", "3", "-i", "50ms"]);
        assert_eq!(code, 0, "{ip}: {err}");
        check_transcript(&out, ip, 3, 64);
        assert_eq!(socket_kind(&ROOT, ip), "raw", "{ip}");
    }
}

#[test]
fn unprivileged_a_datagram_socket_pings_both_loopbacks() {
    if !can_make_namespaces() {
        return;
    }
    for ip in ["127.0.0.1", "::1"] {
        let args = ["ping", ip, "--count", "3", "--interval", "50ms"];
        let (code, out, err) = in_namespace(&NOBODY_ALLOWED, &args);
        assert_eq!(code, 0, "{ip}: {err}");
        check_transcript(&out, ip, 3, 64);
        assert_eq!(socket_kind(&NOBODY_ALLOWED, ip), "dgram", "{ip}");
    }
}

#[test]
fn neither_kind_allowed_is_one_line_that_explains_both_and_the_fix() {
    if !can_make_namespaces() {
        return;
    }
    let nobody_refused = Setup {
        range: NO_GROUP,
        unprivileged: true,
        ignore_echo: false,
    };
    for ip in ["127.0.0.1", "::1"] {
        let (code, out, err) = in_namespace(&nobody_refused, &["ping", ip, "-c", "1"]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(out, "");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{err}");
        for part in [
            "sockmate: cannot open an ICMP socket",
            "net.ipv4.ping_group_range is \"1 0\", which leaves out your group 65534",
            "SOCK_RAW) need root or CAP_NET_RAW",
            "sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"",
            "setcap cap_net_raw+ep",
        ] {
            assert!(lines[0].contains(part), "{part}: {err}");
        }
    }
    // Asking for the raw kind only says what a raw socket needs.
    let (code, _, err) = in_namespace(
        &NOBODY_ALLOWED,
        &["ping", "127.0.0.1", "-c", "1", "--socket-type", "raw"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot open a raw ICMP socket") && err.contains("drop --socket-type raw"),
        "{err}"
    );
}

#[test]
fn json_events_and_size_carry_every_reply_and_the_summary() {
    if !can_make_namespaces() {
        return;
    }
    for setup in [ROOT, NOBODY_ALLOWED] {
        for ip in ["127.0.0.1", "::1"] {
            let args = [
                "ping", ip, "-c", "3", "-i", "20ms", "--size", "1000", "--json",
            ];
            let (code, out, err) = in_namespace(&setup, &args);
            assert_eq!(code, 0, "{err}");
            let events = json_lines(&out);
            let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(
                types,
                [
                    "ping_start",
                    "ping_reply",
                    "ping_reply",
                    "ping_reply",
                    "ping_summary"
                ],
                "{out}"
            );
            assert_eq!(events[0]["ip"], ip);
            assert_eq!(events[0]["size"], 1000);
            // The envelope and shapes every command's --json shares.
            crate::json_schema::golden("ping", &events);
            for (n, reply) in events[1..4].iter().enumerate() {
                assert_eq!(reply["seq"], n as u64 + 1, "{reply}");
                assert_eq!(reply["bytes"], 1008, "{reply}");
                assert_eq!(reply["from"], ip, "{reply}");
                assert_eq!(reply["ttl"], 64, "{reply}");
                assert_eq!(reply["dup"], false, "{reply}");
                assert!(
                    reply["rtt_ms"].as_f64().is_some_and(|t| t >= 0.0),
                    "{reply}"
                );
                assert!(reply["time"].is_string(), "{reply}");
            }
            let summary = &events[4];
            assert_eq!(summary["transmitted"], 3, "{summary}");
            assert_eq!(summary["received"], 3, "{summary}");
            assert_eq!(summary["loss_percent"], 0.0, "{summary}");
            let (min, max) = (&summary["rtt_min_ms"], &summary["rtt_max_ms"]);
            assert!(min.as_f64() <= max.as_f64(), "{summary}");
        }
    }
    // -q: the start line and the summary only.
    let (code, out, _) = in_namespace(&ROOT, &["ping", "127.0.0.1", "-c", "2", "-i", "20ms", "-q"]);
    assert_eq!(code, 0);
    assert!(!out.contains("bytes from"), "{out}");
    assert!(
        out.contains("2 packets transmitted, 2 received, 0% packet loss"),
        "{out}"
    );
    // The text view counts the same bytes.
    let (code, out, _) = in_namespace(&ROOT, &["ping", "127.0.0.1", "-c", "1", "-s", "1000"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("PING 127.0.0.1 (127.0.0.1) 1000(1028) bytes of data.\n1008 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time="), "{out}");
}

#[test]
fn unanswered_requests_time_out_and_count_as_loss() {
    if !can_make_namespaces() {
        return;
    }
    let silent = Setup {
        ignore_echo: true,
        ..ROOT
    };
    let args = [
        "ping",
        "127.0.0.1",
        "-c",
        "2",
        "-i",
        "50ms",
        "--timeout",
        "200ms",
    ];
    let (code, out, err) = in_namespace(&silent, &args);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("no answer yet for icmp_seq=1\n"), "{out}");
    assert!(out.contains("no answer yet for icmp_seq=2\n"), "{out}");
    assert!(
        out.contains("2 packets transmitted, 0 received, 100% packet loss, time "),
        "{out}"
    );
    assert!(!out.contains("rtt min"), "{out}");
    assert!(err.contains("sockmate: no reply from 127.0.0.1"), "{err}");
}

/// Runs the ping command given as arguments, waits for the reply to
/// icmp_seq=1, sends one more echo reply for it from a raw socket (the
/// duplicate), waits for the line that shows it, then stops the ping with
/// SIGINT and prints everything it wrote. The echo identifier comes from
/// the JSON `ping_start`, or is the child's pid (a raw socket's, as root).
const DUPLICATE_DRIVER: &str = r#"
import json, signal, socket, struct, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
seen = []
def line():
    text = p.stdout.readline()
    if not text:
        sys.exit("ping ended early: " + "".join(seen))
    seen.append(text)
    return text
first = line()
ident = json.loads(first)["ident"] if first.startswith("{") else p.pid & 0xffff
while "icmp_seq=1 " not in line() and '"seq":1,' not in seen[-1]:
    pass
def checksum(b):
    total = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff
payload = bytes(i % 256 for i in range(56))
header = struct.pack("!BBHHH", 0, 0, 0, ident, 1)
reply = struct.pack("!BBHHH", 0, 0, checksum(header + payload), ident, 1) + payload
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
raw.sendto(reply, ("127.0.0.1", 0))
while "DUP!" not in line() and '"dup":true' not in seen[-1]:
    pass
p.send_signal(signal.SIGINT)
rest = p.stdout.read()
p.wait()
sys.stdout.write("".join(seen) + rest)
"#;

#[test]
fn a_second_reply_to_one_request_is_a_duplicate() {
    if !can_make_namespaces() || !require_tool("python3") {
        return;
    }
    // Unprivileged (datagram socket, the kernel routes the reply by its
    // identifier), JSON.
    let mut argv = vec!["python3".to_string(), "-c".into(), DUPLICATE_DRIVER.into()];
    let ping = ["ping", "127.0.0.1", "-i", "200ms", "--json"];
    argv.extend(sockmate_argv(&NOBODY_ALLOWED, &ping));
    let driver_as_root = Setup {
        unprivileged: false,
        ..NOBODY_ALLOWED
    };
    let (code, out, err) = run_in_namespace(&driver_as_root, &argv);
    assert_eq!(code, 0, "{err}");
    let events = json_lines(&out);
    let dups: Vec<&Value> = events.iter().filter(|e| e["dup"] == true).collect();
    assert_eq!(dups.len(), 1, "{out}");
    assert_eq!(dups[0]["seq"], 1, "{out}");
    let summary = events.last().expect(&out);
    assert_eq!(summary["type"], "ping_summary", "{out}");
    assert_eq!(summary["duplicates"], 1, "{out}");
    assert_eq!(summary["received"], summary["transmitted"], "{out}");
    // As root (raw socket), ping(8)'s text.
    let mut argv = vec!["python3".to_string(), "-c".into(), DUPLICATE_DRIVER.into()];
    argv.extend(sockmate_argv(&ROOT, &["ping", "127.0.0.1", "-i", "200ms"]));
    let (code, out, err) = run_in_namespace(&ROOT, &argv);
    assert_eq!(code, 0, "{err}");
    let dup = out.lines().find(|l| l.ends_with(" ms (DUP!)")).expect(&out);
    assert!(
        dup.starts_with("64 bytes from 127.0.0.1: icmp_seq=1 "),
        "{out}"
    );
    assert!(out.contains(" received, +1 duplicates, "), "{out}");
}

#[test]
fn explain_narrates_the_socket_call_chosen_with_its_python_line() {
    if !can_make_namespaces() {
        return;
    }
    let args = ["ping", "127.0.0.1", "-c", "2", "-i", "20ms", "--explain"];
    let (code, _, err) = in_namespace(&NOBODY_ALLOWED, &args);
    assert_eq!(code, 0, "{err}");
    for line in [
        "[explain] socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)",
        "          python: s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)",
        "[explain] setsockopt(IPPROTO_IP, IP_RECVTTL, 1)",
        "[explain] sendto(64 bytes: echo request, icmp_seq=1)",
        "          python: s.sendto(packet, ('127.0.0.1', 0))",
        "[explain] recvmsg() = 64 bytes: echo reply, icmp_seq=2",
        "[explain] close()",
    ] {
        assert!(err.lines().any(|l| l == line), "{line}:\n{err}");
    }
    // As root the datagram socket is refused first, then the raw one taken.
    let (code, _, err) = in_namespace(&ROOT, &args);
    assert_eq!(code, 0, "{err}");
    for line in [
        "[explain] socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) failed: Permission denied (os error 13)",
        "[explain] socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)",
        "          python: s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)",
        "[explain] recvfrom() = 84 bytes: IPv4 header + echo reply, icmp_seq=1",
    ] {
        assert!(err.lines().any(|l| l == line), "{line}:\n{err}");
    }
    // In Chinese, with the IPv6 names.
    let args = ["ping", "::1", "-c", "1", "--explain", "--lang", "zh"];
    let (code, _, err) = in_namespace(&NOBODY_ALLOWED, &args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("[explain] socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)"),
        "{err}"
    );
    assert!(
        err.contains("为什么:") && err.contains("非特权 ICMP 套接字"),
        "{err}"
    );
}

#[test]
fn bench_icmp_reports_latency_percentiles() {
    if !can_make_namespaces() {
        return;
    }
    for setup in [ROOT, NOBODY_ALLOWED] {
        let args = ["bench", "icmp://127.0.0.1", "-d", "1s", "-c", "2", "--json"];
        let (code, out, err) = in_namespace(&setup, &args);
        assert_eq!(code, 0, "{err}");
        let report: Value = serde_json::from_str(out.trim()).expect(&out);
        assert_eq!(report["endpoint"], "icmp://127.0.0.1", "{report}");
        assert_eq!(report["mode"], "echo");
        let messages = report["messages"].as_u64().unwrap_or(0);
        assert!(messages > 0, "{report}");
        let latency = &report["latency_us"];
        assert_eq!(latency["count"].as_u64(), Some(messages), "{report}");
        let p = |k: &str| latency[k].as_f64().unwrap_or(-1.0);
        assert!(
            0.0 < p("p50") && p("p50") <= p("p99") && p("p99") <= p("max"),
            "{report}"
        );
    }
    let (code, out, err) = in_namespace(&ROOT, &["bench", "icmp://[::1]", "-d", "1s"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("sockmate bench icmp://[::1]: echo") && out.contains("p99"),
        "{out}"
    );
}

#[test]
fn icmp_is_refused_by_the_other_commands_and_ping_flags_are_checked() {
    for args in [
        &["connect", "icmp://127.0.0.1"][..],
        &["listen", "icmp://127.0.0.1"],
        &["relay", "127.0.0.1:0", "icmp://127.0.0.1"],
    ] {
        let (status, _, err) = run_with_input(sockmate(args), b"");
        assert_eq!(status.code(), Some(2), "{args:?}");
        let ours: Vec<&str> = err.lines().collect();
        assert_eq!(ours.len(), 1, "{err}");
        assert!(
            ours[0].contains(
                "icmp:// works only with sockmate ping HOST and sockmate bench icmp://HOST"
            ),
            "{err}"
        );
    }
    for (args, says) in [
        (&["ping", "127.0.0.1:80"][..], "ICMP has no ports"),
        (&["ping", "127.0.0.1", "--count", "0"], "--count 0"),
        (&["ping", "127.0.0.1", "--size", "70000"], "--size 70000"),
        (
            &["bench", "icmp://127.0.0.1", "-m", "send"],
            "ICMP only echoes",
        ),
    ] {
        let (status, _, err) = run_with_input(sockmate(args), b"");
        assert_eq!(status.code(), Some(2), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // -h is a summary of the flags the issue names; both helps keep the
    // one order of headings.
    const ORDER: &[&str] = &[
        "Arguments:",
        "Options:",
        "Endpoint and socket:",
        "Sending:",
        "Views:",
        "Limits:",
        "Learning:",
        "Examples:",
    ];
    for flag in ["-h", "--help"] {
        let (status, out, _) = run_with_input(sockmate(&["ping", flag]), b"");
        assert!(status.success());
        let out = String::from_utf8_lossy(&out);
        let ranks: Vec<usize> = out
            .lines()
            .filter_map(|l| ORDER.iter().position(|h| *h == l))
            .collect();
        assert!(ranks.len() >= 5, "{flag}:\n{out}");
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{flag}:\n{out}");
        for name in [
            "--count",
            "--interval",
            "--size",
            "--timeout",
            "--json",
            "--explain",
        ] {
            assert!(out.contains(name), "{name}: {out}");
        }
        if flag == "-h" {
            assert!(out.lines().count() <= 40, "{out}");
        } else {
            assert!(out.contains("--socket-type"), "{out}");
        }
    }
}
