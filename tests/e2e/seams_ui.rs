//! Issue 21's browser-UI seams: UDP client sessions that live until
//! stopped, records confined to one directory, the UI server's header and
//! idle timeouts, `--ui` on CLI sessions, the log kept across a reload.
//! Browser scenarios are in `tests/e2e/seams_ui_browser.py` (Chromium via
//! Playwright), the rest drives the page's WebSocket protocol directly.

use std::io::Read;
use std::time::Duration;

use crate::util::{require_tool, wait_timeout};

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
