//! HTTP `CONNECT` (RFC 9110 §9.3.6): the request, and the proxy's response
//! head read from bytes, with the status said in words. No I/O here, and no
//! panic on any response.

use base64::Engine as _;

use super::{Credentials, Refusal};
use crate::error::NetErrorKind;

/// The longest response head we read before giving up.
pub const MAX_HEAD: usize = 16 * 1024;

/// The `CONNECT` request for `authority` (`host:port`), with a Basic
/// `Proxy-Authorization` when there is a login.
pub fn connect_request(authority: &str, auth: Option<&Credentials>) -> String {
    let mut request =
        format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: sockmate\r\n");
    if let Some(auth) = auth {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", auth.user, auth.pass));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Reads the response head (status line and headers): `Ok` for a 2xx
/// status, else the refusal with the status code and reason in words.
pub fn parse_response(head: &[u8]) -> Result<(), Refusal> {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..line_end]);
    let line = line.trim_end_matches('\r');
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    let reason: String = parts
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    if !version.starts_with("HTTP/") {
        return Err(Refusal::protocol(format!(
            "not an HTTP reply (it starts with \"{}\"; is this an HTTP proxy?)",
            line.chars()
                .filter(|c| !c.is_control())
                .take(40)
                .collect::<String>()
        )));
    }
    let status = match code.parse::<u16>() {
        Ok(n) if (100..1000).contains(&n) && code.len() == 3 => n,
        _ => {
            return Err(Refusal::protocol(format!(
                "invalid HTTP status \"{}\" from the proxy",
                code.chars()
                    .filter(|c| !c.is_control())
                    .take(20)
                    .collect::<String>()
            )))
        }
    };
    if (200..300).contains(&status) {
        return Ok(());
    }
    let (kind, words) = match status {
        407 => (
            NetErrorKind::PermissionDenied,
            "proxy authentication required (write http://USER:PASS@HOST:PORT)",
        ),
        403 => (
            NetErrorKind::PermissionDenied,
            "forbidden by the proxy's rules",
        ),
        400 => (NetErrorKind::Protocol, "bad request"),
        404 => (NetErrorKind::Resolve, "target not found"),
        405 => (NetErrorKind::Protocol, "the proxy does not allow CONNECT"),
        502 => (
            NetErrorKind::Refused,
            "bad gateway: the proxy could not connect to the target",
        ),
        503 => (
            NetErrorKind::Refused,
            "service unavailable: the proxy could not connect to the target",
        ),
        504 => (
            NetErrorKind::TimedOut,
            "gateway timeout: the target did not answer the proxy",
        ),
        _ => (NetErrorKind::Other, "refused"),
    };
    let reason = if reason.is_empty() {
        String::new()
    } else {
        format!(" \"{reason}\"")
    };
    Err(Refusal::new(
        kind,
        format!("{words} (HTTP {status}{reason})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_has_authority_and_login() {
        let auth = Credentials {
            user: "u".into(),
            pass: "p".into(),
        };
        let req = connect_request("h:80", Some(&auth));
        assert!(req.starts_with("CONNECT h:80 HTTP/1.1\r\nHost: h:80\r\n"));
        assert!(req.contains("Proxy-Authorization: Basic dTpw\r\n"));
        assert!(req.ends_with("\r\n\r\n"));
        assert!(!connect_request("h:80", None).contains("Authorization"));
    }

    #[test]
    fn statuses_are_said_in_words() {
        assert!(parse_response(b"HTTP/1.1 200 Connection established\r\n\r\n").is_ok());
        assert!(parse_response(b"HTTP/1.0 200\r\n\r\n").is_ok());
        let e = parse_response(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").unwrap_err();
        assert_eq!(e.kind, NetErrorKind::PermissionDenied);
        assert!(e
            .words
            .contains("(HTTP 407 \"Proxy Authentication Required\")"));
        let e = parse_response(b"HTTP/1.0 500 Unable to connect\r\n\r\n").unwrap_err();
        assert_eq!(e.words, "refused (HTTP 500 \"Unable to connect\")");
        assert!(parse_response(b"SSH-2.0-x\r\n")
            .unwrap_err()
            .words
            .contains("not an HTTP"));
        assert!(parse_response(b"HTTP/1.1 2000 x\r\n")
            .unwrap_err()
            .words
            .contains("invalid HTTP status"));
    }

    proptest! {
        #[test]
        fn no_response_panics_and_refusals_are_one_line(head in proptest::collection::vec(any::<u8>(), 0..200), text in "HTTP/1\\.[01] [0-9]{0,4} \\PC{0,60}\r\n") {
            for input in [head.as_slice(), text.as_bytes()] {
                if let Err(e) = parse_response(input) {
                    prop_assert!(!e.words.contains('\n') && !e.words.contains('\r'));
                }
            }
        }
    }
}
