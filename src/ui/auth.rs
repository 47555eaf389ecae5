//! Who may use the page: every request that reaches data (the app's
//! scripts, the WebSocket) carries the token, as `?token=` or in the
//! `sm_token_PORT` cookie the page sets, compared in constant time; every
//! request at all must name us in `Host` (no DNS rebinding) and, when it
//! has an `Origin`, come from our own origin (no cross-site use).

use std::io::Read;

use subtle::ConstantTimeEq;

/// The secret in the page's address.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// A new random token: 128 bits from the system's random source, as
    /// 32 hex digits.
    pub fn random() -> std::io::Result<Token> {
        let mut raw = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
        Ok(Token(crate::hexinput::format_hex(&raw).replace(' ', "")))
    }

    /// The token as text (for the printed address).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `given` is the token; the time taken does not depend on
    /// where they differ.
    pub fn matches(&self, given: &str) -> bool {
        let ours = self.0.as_bytes();
        let theirs = given.as_bytes();
        ours.len() == theirs.len() && bool::from(ours.ct_eq(theirs))
    }
}

/// The token a request carries: `token=` in the query, else the
/// `sm_token_PORT` cookie.
pub fn token_from(query: Option<&str>, cookie: Option<&str>, port: u16) -> Option<String> {
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("token=") {
                return Some(v.to_string());
            }
        }
    }
    let name = format!("sm_token_{port}=");
    cookie?
        .split(';')
        .map(str::trim)
        .find_map(|c| c.strip_prefix(name.as_str()))
        .map(str::to_string)
}

/// True when `host` (the `Host` header) names this server: `localhost` or
/// an IP literal, with our port. Any other name could be a rebinding.
pub fn host_ok(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    if p.parse::<u16>().ok() != Some(port) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// True when `origin` (the `Origin` header, if any) is the page's own:
/// `http://` and the same `Host`.
pub fn origin_ok(origin: Option<&str>, host: &str) -> bool {
    match origin {
        None => true,
        Some(o) => o
            .strip_prefix("http://")
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_are_random_hex_and_compare_exactly() {
        let a = Token::random().unwrap();
        let b = Token::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(&a.as_str()[..31]));
        assert!(!a.matches(""));
    }

    #[test]
    fn the_token_comes_from_the_query_or_the_cookie() {
        assert_eq!(
            token_from(Some("a=1&token=xyz"), None, 9).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            token_from(None, Some("x=1; sm_token_9=abc"), 9).as_deref(),
            Some("abc")
        );
        assert_eq!(token_from(None, Some("sm_token_8=abc"), 9), None);
        assert_eq!(token_from(None, None, 9), None);
    }

    #[test]
    fn host_and_origin_must_be_ours() {
        assert!(host_ok("127.0.0.1:8080", 8080));
        assert!(host_ok("localhost:8080", 8080));
        assert!(host_ok("[::1]:8080", 8080));
        assert!(!host_ok("127.0.0.1:8081", 8080));
        assert!(!host_ok("evil.example:8080", 8080));
        assert!(!host_ok("127.0.0.1", 8080));
        assert!(origin_ok(None, "127.0.0.1:1"));
        assert!(origin_ok(Some("http://127.0.0.1:1"), "127.0.0.1:1"));
        assert!(!origin_ok(Some("http://evil.example"), "127.0.0.1:1"));
        assert!(!origin_ok(Some("null"), "127.0.0.1:1"));
    }

    proptest! {
        #[test]
        fn checks_never_panic(host in ".{0,40}", origin in ".{0,40}", q in ".{0,40}") {
            let _ = host_ok(&host, 80);
            let _ = origin_ok(Some(&origin), &host);
            let _ = token_from(Some(&q), Some(&q), 80);
        }
    }
}
