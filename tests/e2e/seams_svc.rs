//! Issue 21, the service and transfer seams: nonsense flag combinations
//! (item 25), linear template checksums (23), per-message commands that
//! end with their connection (20), receive under idle floods (12), the
//! rule files' regex budget (19), and the buffered-bytes budget and UDP
//! relay notices under floods (26).

use crate::util::*;

/// Runs `sockmate ARGS` with no input and returns its status and stderr.
fn refused(args: &[&str]) -> (std::process::ExitStatus, String) {
    let (status, _, stderr) = run_with_input(sockmate(args), b"");
    (status, stderr)
}

/// Item 25: `--idle-timeout 0` would close every client at once; it is
/// refused with exit 2 and one line, as `receive` refuses it.
#[test]
fn idle_timeout_zero_is_refused() {
    for command in ["listen", "connect"] {
        let (status, stderr) = refused(&[command, "127.0.0.1:1", "--idle-timeout", "0"]);
        assert_eq!(status.code(), Some(2), "{command}: {stderr}");
        let lines = our_stderr_lines(&stderr);
        assert!(
            lines[0].contains("--idle-timeout") && lines[0].contains("at once"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("]:0"), "{command}: {stderr}");
    }
}

/// Item 25: a ready-made service and a reply or respond rule both answer
/// every message; the service used to be dropped silently.
#[test]
fn service_with_reply_or_respond_is_refused() {
    let cases: &[&[&str]] = &[
        &["--serve", "echo", "--reply", "x{text}"],
        &["--serve", "time", "--respond", "PING=>PONG"],
        &["--serve", "echo", "--respond-default", "?"],
        &["--serve", "discard", "--reply", "x"],
    ];
    for extra in cases {
        let mut args = vec!["listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let (status, stderr) = refused(&args);
        assert_eq!(status.code(), Some(2), "{extra:?}: {stderr}");
        let lines = our_stderr_lines(&stderr);
        assert_eq!(lines.len(), 1, "{extra:?}: {stderr}");
        assert!(
            lines[0].contains(&format!("--serve {} and {}", extra[1], extra[2]))
                && lines[0].contains("cannot be combined"),
            "{extra:?}: {stderr}"
        );
    }
}

/// Item 25: the hint of a refused `--reconnect-max 0` no longer reads the
/// flag's value as nc's port (`[127.0.0.1:1]:0`).
#[test]
fn reconnect_max_zero_gets_no_wrong_endpoint_hint() {
    let (status, stderr) = refused(&[
        "connect",
        "127.0.0.1:1",
        "--reconnect",
        "--reconnect-max",
        "0",
    ]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--reconnect-max"), "{stderr}");
    assert!(!stderr.contains("[127.0.0.1:1]"), "{stderr}");
    assert!(
        !stderr.contains("host and port are one endpoint"),
        "{stderr}"
    );
}
