//! Issue 25 §4, pictures: `bench --report FILE.html` (and `bench merge
//! --report`, `--compare`) opened in headless Chromium with its figures
//! checked against `--json`, and the UI's live rate chart and client
//! sparklines while traffic flows. The browser half is
//! `tests/e2e/pictures_browser.py` (Playwright for Python).

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::ui::start_ui;
use crate::util::*;

/// True when Chromium and Playwright for Python are there (under CI=true
/// they must be); false: skip.
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
    }
    has_playwright
}

/// Runs `pictures_browser.py MODE WHERE SHOTS PROFILE`, bounded.
fn browser_checks(mode: &str, where_: &str, shots: &Path) {
    let profile = tempdir();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/pictures_browser.py");
    let mut child = std::process::Command::new("python3")
        .args([script, mode, where_])
        .arg(shots)
        .arg(profile.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(120));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    assert!(
        status.is_some_and(|s| s.success()) && out.contains("pictures: ok"),
        "browser checks ({mode}) failed:\n{out}\n{err}"
    );
    eprintln!("screenshots in {}", shots.display());
}

fn shots_dir() -> std::path::PathBuf {
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pictures-shots");
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

/// `sockmate ARGS` with its stdout (JSON) saved to `json`; returns the
/// report and stderr.
fn run_json(args: &[&str], json: &Path) -> (Value, String) {
    let (status, out, err) = run_with_input(sockmate(args), b"");
    assert!(status.success(), "{args:?} failed: {err}");
    std::fs::write(json, &out).unwrap();
    let report = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out)));
    (report, err)
}

/// The timeline's samples add up to the report's totals.
fn timeline_adds_up(report: &Value) {
    let samples = report["timeline"]["samples"].as_array().unwrap();
    assert!(!samples.is_empty(), "{report}");
    for (total, key) in [
        ("messages", "messages"),
        ("bytes_sent", "bytes_sent"),
        ("bytes_received", "bytes_received"),
        ("errors", "errors"),
    ] {
        let sum: u64 = samples.iter().map(|s| s[key].as_u64().unwrap()).sum();
        assert_eq!(sum, report[total].as_u64().unwrap(), "{key}: {report}");
    }
}

#[test]
fn bench_report_merge_and_compare_render_in_chromium_with_the_json_figures() {
    let (_server, addr) = serve_quietly(&["127.0.0.1:0", "-k", "--serve", "echo"]);
    let dir = tempdir();
    let at = |name: &str| dir.path().join(name).display().to_string();
    let (a, err) = run_json(
        &[
            "bench",
            &addr,
            "-d",
            "2s",
            "-c",
            "2",
            "--json",
            "--report",
            &at("a.html"),
        ],
        &dir.path().join("a.json"),
    );
    assert!(
        err.contains(&format!("report written to {}", at("a.html"))),
        "{err}"
    );
    let (b, _) = run_json(
        &[
            "bench",
            &addr,
            "-d",
            "1500ms",
            "--pipeline",
            "4",
            "--json",
            "--report",
            &at("b.html"),
        ],
        &dir.path().join("b.json"),
    );
    for r in [&a, &b] {
        assert!(r["messages"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(r["timeline"]["interval_s"], 1.0, "{r}");
        timeline_adds_up(r);
    }
    assert_eq!(a["timeline"]["samples"].as_array().unwrap().len(), 2);
    assert_eq!(b["timeline"]["samples"].as_array().unwrap().len(), 2);
    let (merged, _) = run_json(
        &[
            "bench",
            "merge",
            &at("a.json"),
            &at("b.json"),
            "--json",
            "--report",
            &at("merged.html"),
        ],
        &dir.path().join("merged.json"),
    );
    timeline_adds_up(&merged);
    let (status, out, err) = run_with_input(
        sockmate(&[
            "bench",
            "merge",
            "--compare",
            &at("a.json"),
            &at("b.json"),
            "--report",
            &at("cmp.html"),
        ]),
        b"",
    );
    assert!(status.success(), "{err}");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.matches("sockmate bench tcp://").count(), 2, "{out}");
    // The page is self-contained: nothing to fetch, no script.
    let page = std::fs::read_to_string(at("a.html")).unwrap();
    for banned in ["<script", "src=", "href=", "@import", "url(http"] {
        assert!(!page.contains(banned), "the page has {banned}");
    }
    if have_browser() {
        browser_checks("report", &dir.path().display().to_string(), &shots_dir());
    }
}

#[test]
fn bench_report_refuses_a_path_it_cannot_write_before_running() {
    // Nothing listens on the endpoint: the path is refused first.
    let (status, _, err) = run_with_input(
        sockmate(&[
            "bench",
            "127.0.0.1:9",
            "-d",
            "1s",
            "--report",
            "/nonexistent-dir/r.html",
        ]),
        b"",
    );
    assert!(!status.success());
    assert!(
        err.contains("cannot write --report /nonexistent-dir/r.html"),
        "{err}"
    );
    let (status, _, err) =
        run_with_input(sockmate(&["bench", "merge", "--compare", "a.json"]), b"");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("--compare draws the runs in a page: add --report FILE.html"),
        "{err}"
    );
}

#[test]
fn ui_rate_chart_and_client_sparkline_follow_the_traffic_in_chromium() {
    if !have_browser() {
        return;
    }
    let (_ui, host, token) = start_ui(&["ui"]);
    browser_checks("ui", &format!("http://{host}/#token={token}"), &shots_dir());
}

#[test]
fn the_timeline_adds_up_to_the_totals_in_every_mode() {
    let (_tcp, tcp) = serve_quietly(&["127.0.0.1:0", "-k", "--serve", "echo"]);
    let (_udp, udp) = serve_quietly(&["udp://127.0.0.1:0", "-k", "--serve", "echo"]);
    let udp = format!("udp://{}", udp.trim_start_matches("udp://"));
    // A port nobody listens on: every connect fails (an error each).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = closed.local_addr().unwrap().to_string();
    drop(closed);
    let dir = tempdir();
    let json = dir.path().join("r.json");
    for args in [
        vec![tcp.as_str(), "-m", "send", "-d", "1500ms"],
        vec![udp.as_str(), "-d", "1500ms", "--rate", "500"],
        vec![udp.as_str(), "-d", "1500ms", "-c", "2"],
        vec![refused.as_str(), "-m", "connect", "-d", "1500ms"],
    ] {
        let mut all = vec!["bench"];
        all.extend_from_slice(&args);
        all.push("--json");
        let (report, _) = run_json(&all, &json);
        assert_eq!(
            report["timeline"]["samples"].as_array().unwrap().len(),
            2,
            "{args:?}: {report}"
        );
        timeline_adds_up(&report);
        if args[0] == refused {
            assert!(report["errors"].as_u64().unwrap() > 0, "{report}");
        } else {
            assert!(report["messages"].as_u64().unwrap() > 0, "{report}");
        }
    }
}
