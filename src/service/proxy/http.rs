//! The HTTP proxy server side: a pure parser of the client's request head
//! (`CONNECT host:port` or an absolute URI such as `GET http://host/path`),
//! the request rewritten for the origin (origin-form, hop-by-hop headers
//! dropped, `Connection: close`), the `Proxy-Authorization: Basic` check
//! and the error replies. No I/O here, and no panic on any input.

use base64::Engine as _;

use super::dial::{DialFailure, Target, TargetHost};
use super::wire::{same_secret, Malformed, Parsed};
use crate::transport::proxy::http::MAX_HEAD;
use crate::transport::proxy::Credentials;

/// What the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// `CONNECT host:port`: a tunnel.
    Connect,
    /// An absolute-URI request to forward, with its origin-form path.
    Forward {
        /// `/path?query`.
        path: String,
    },
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The method, e.g. `GET`.
    pub method: String,
    /// Where to.
    pub target: Target,
    /// Tunnel or forward.
    pub ask: Ask,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The header lines as sent: name and value.
    pub headers: Vec<(String, String)>,
}

/// The status for a malformed head (the parsers return it in
/// [`Malformed::reply`]).
const BAD_REQUEST: u16 = 400;

fn bad(words: impl Into<String>) -> Malformed {
    Malformed::replying(BAD_REQUEST, words)
}

/// Printable start of a line, for messages.
fn shown(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(60).collect()
}

/// Parses the request head up to its blank line.
pub fn parse_head(buf: &[u8]) -> Result<Parsed<Head>, Malformed> {
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len());
    let body = &buf[start..];
    let end = find(body, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(body, b"\n\n").map(|i| i + 2));
    let Some(end) = end else {
        if buf.len() >= MAX_HEAD {
            return Err(Malformed::replying(
                431,
                format!("http: request head longer than {MAX_HEAD} bytes"),
            ));
        }
        // A request line that cannot become valid is refused at once.
        if let Some(line_end) = body.iter().position(|&b| b == b'\n') {
            request_line(&String::from_utf8_lossy(&body[..line_end]))?;
        }
        return Ok(Parsed::Incomplete);
    };
    let Ok(text) = std::str::from_utf8(&body[..end]) else {
        return Err(bad("http: the request head is not UTF-8 text"));
    };
    let mut lines = text.lines();
    let (method, uri, version) = request_line(lines.next().unwrap_or(""))?;
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err(bad("http: folded header lines are not supported"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!(
                "http: malformed header line \"{}\" (no colon)",
                shown(line)
            )));
        };
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(bad(format!(
                "http: malformed header name \"{}\"",
                shown(name)
            )));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let (target, ask) = if method == "CONNECT" {
        (authority(uri, None)?, Ask::Connect)
    } else {
        absolute(uri)?
    };
    Ok(Parsed::Done(
        Head {
            method: method.to_string(),
            target,
            ask,
            version: version.to_string(),
            headers,
        },
        start + end,
    ))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `METHOD SP TARGET SP HTTP/1.x`.
fn request_line(line: &str) -> Result<(&str, &str, &str), Malformed> {
    let line = line.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(format!(
            "http: bad request line \"{}\" (expected METHOD URI HTTP/1.1)",
            shown(line)
        )));
    };
    if method.is_empty() || !method.bytes().all(is_token) || uri.is_empty() {
        return Err(bad(format!("http: bad request line \"{}\"", shown(line))));
    }
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(bad(format!(
            "http: bad request line \"{}\" (version \"{}\"; HTTP/1.0 and HTTP/1.1 are served)",
            shown(line),
            shown(version)
        )));
    }
    Ok((method, uri, version))
}

/// `http://host[:port][/path]` → the target and origin-form path.
fn absolute(uri: &str) -> Result<(Target, Ask), Malformed> {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(bad(format!(
            "http: \"{}\" is not an absolute URI: a proxy is asked for http://HOST/PATH (or CONNECT HOST:PORT)",
            shown(uri)
        )));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(bad(format!(
            "http: cannot forward {}:// requests (only http://; for https the client should CONNECT, e.g. curl -p)",
            shown(scheme)
        )));
    }
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority_part, path) = rest.split_at(split);
    let authority_part = authority_part
        .rsplit_once('@')
        .map_or(authority_part, |(_, host)| host);
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    Ok((authority(authority_part, Some(80))?, Ask::Forward { path }))
}

/// `host:port` (`[v6]:port`); the port may be left out when `default`.
fn authority(text: &str, default: Option<u16>) -> Result<Target, Malformed> {
    let refuse = || {
        bad(format!(
            "http: bad target \"{}\" (write HOST:PORT, e.g. localhost:8080 or [::1]:443)",
            shown(text)
        ))
    };
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or_else(refuse)?;
        let ip: std::net::Ipv6Addr = ip.parse().map_err(|_| refuse())?;
        (TargetHost::Ip(ip.into()), after.strip_prefix(':'))
    } else {
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if !valid {
            return Err(refuse());
        }
        let host = match host.parse() {
            Ok(ip) => TargetHost::Ip(ip),
            Err(_) => TargetHost::Name(host.to_string()),
        };
        (host, port)
    };
    let port = match (port, default) {
        (Some(p), _) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(refuse)?,
        (None, Some(p)) => p,
        (None, None) => return Err(refuse()),
    };
    Ok(Target { host, port })
}

/// True when the head carries `Proxy-Authorization: Basic` with `auth`.
pub fn authorized(head: &Head, auth: &Credentials) -> bool {
    let expected = format!("{}:{}", auth.user, auth.pass);
    head.headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
        .filter_map(|(_, value)| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(token.trim())
        })
        .filter_map(|token| base64::engine::general_purpose::STANDARD.decode(token).ok())
        .any(|login| same_secret(&login, expected.as_bytes()))
}

/// The head to send the origin: origin-form request line, hop-by-hop
/// headers dropped (`Proxy-Authorization`, `Proxy-Connection`,
/// `Connection`, `Keep-Alive` and what `Connection` lists), `Host` added
/// when missing, and `Connection: close` (one request per origin
/// connection: a second request on the client's connection, maybe for
/// another host, is never sent to this origin).
pub fn origin_head(head: &Head, path: &str) -> String {
    let listed: Vec<String> = head
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, value)| value.split(',').map(|v| v.trim().to_ascii_lowercase()))
        .collect();
    let hop = |name: &str| {
        let name = name.to_ascii_lowercase();
        matches!(
            name.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) || listed.contains(&name)
    };
    let mut out = format!("{} {path} {}\r\n", head.method, head.version);
    if !head
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("host"))
    {
        out.push_str(&format!("Host: {}\r\n", head.target));
    }
    for (name, value) in head.headers.iter().filter(|(n, _)| !hop(n)) {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

/// The status for a failed dial.
pub fn failure_status(failure: DialFailure) -> u16 {
    match failure {
        DialFailure::NotAllowed => 403,
        DialFailure::TimedOut => 504,
        _ => 502,
    }
}

/// A complete error reply: `status`, a one-line plain-text body, and for
/// 407 the `Proxy-Authenticate` challenge.
pub fn error_reply(status: u16, words: &str) -> String {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let body = format!("sockmate: {words}\n");
    let challenge = if status == 407 {
        "Proxy-Authenticate: Basic realm=\"sockmate\"\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{challenge}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The reply that opens a CONNECT tunnel.
pub const ESTABLISHED: &[u8] = b"HTTP/1.1 200 Connection established\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn head(text: &str) -> Head {
        match parse_head(text.as_bytes()).unwrap() {
            Parsed::Done(head, _) => head,
            Parsed::Incomplete => panic!("incomplete"),
        }
    }

    #[test]
    fn connect_and_absolute_requests_parse() {
        let h = head("CONNECT localhost:8080 HTTP/1.1\r\nHost: localhost:8080\r\n\r\n");
        assert_eq!(h.ask, Ask::Connect);
        assert_eq!(h.target.to_string(), "localhost:8080");
        let h = head("GET http://127.0.0.1:9000/a/b?c=1 HTTP/1.1\r\nHost: x\r\n\r\nbody");
        assert_eq!(h.target.to_string(), "127.0.0.1:9000");
        assert_eq!(
            h.ask,
            Ask::Forward {
                path: "/a/b?c=1".into()
            }
        );
        let h = head("GET http://[::1]?q HTTP/1.0\n\n");
        assert_eq!(h.target.to_string(), "[::1]:80");
        assert_eq!(h.ask, Ask::Forward { path: "/?q".into() });
        assert_eq!(
            parse_head(b"GET http://h/ HTTP/1.1\r\nHo").unwrap(),
            Parsed::Incomplete
        );
    }

    #[test]
    fn bad_heads_are_400_naming_the_bad_part() {
        for (text, words) in [
            ("hello there\r\n\r\n", "bad request line"),
            ("GET / HTTP/1.1\r\n\r\n", "not an absolute URI"),
            ("GET https://h/ HTTP/1.1\r\n\r\n", "only http://"),
            ("CONNECT h HTTP/1.1\r\n\r\n", "bad target"),
            ("CONNECT h:0 HTTP/1.1\r\n\r\n", "bad target"),
            ("GET http://h/ HTTP/2\r\n\r\n", "version"),
            ("GET http://h/ HTTP/1.1\r\nno colon\r\n\r\n", "no colon"),
        ] {
            let e = parse_head(text.as_bytes()).unwrap_err();
            assert_eq!(e.reply, Some(400), "{text}");
            assert!(e.words.contains(words), "{text}: {}", e.words);
        }
        // A bad request line is refused before the blank line comes.
        assert!(parse_head(b"\x16\x03\x01 junk\r\n").is_err());
    }

    #[test]
    fn the_origin_gets_origin_form_without_hop_by_hop_headers() {
        let h = head("POST http://h:81/p HTTP/1.1\r\nHost: h:81\r\nProxy-Authorization: Basic dTpw\r\nProxy-Connection: keep-alive\r\nConnection: X-Trace\r\nX-Trace: 1\r\nContent-Length: 3\r\n\r\n");
        let out = origin_head(&h, "/p");
        assert_eq!(
            out,
            "POST /p HTTP/1.1\r\nHost: h:81\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
        );
        let auth = Credentials {
            user: "u".into(),
            pass: "p".into(),
        };
        assert!(authorized(&h, &auth));
        let wrong = Credentials {
            user: "u".into(),
            pass: "q".into(),
        };
        assert!(!authorized(&h, &wrong));
        assert!(error_reply(407, "login").contains("Proxy-Authenticate: Basic"));
        assert_eq!(failure_status(DialFailure::TimedOut), 504);
        assert_eq!(failure_status(DialFailure::NotAllowed), 403);
        assert_eq!(failure_status(DialFailure::Refused), 502);
    }

    proptest! {
        #[test]
        fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), line in "[A-Z]{1,7} \\PC{0,40} HTTP/1\\.[01]\r\n(\\PC{0,20}\r\n){0,3}\r\n") {
            for input in [bytes.as_slice(), line.as_bytes()] {
                match parse_head(input) {
                    Ok(parsed) => prop_assert!(parsed.consumed() <= input.len()),
                    Err(e) => prop_assert!(!e.words.contains('\n') && e.reply.is_some()),
                }
            }
        }
    }
}
