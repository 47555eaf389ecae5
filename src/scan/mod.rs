//! Port scanning: the port-list parser ([`ports`]) and single-port probes
//! ([`probe`]). `command::scan` runs the probes concurrently and prints the
//! results in port order.

pub mod config;
pub mod ports;
pub mod probe;
#[doc(hidden)]
pub mod run;

use std::net::IpAddr;

use crate::endpoint::Host;

/// Parses the host to scan: an IP literal (IPv6 with or without brackets)
/// or a DNS name.
pub fn parse_host(text: &str) -> Result<Host, String> {
    let trimmed = text.trim();
    let unbracketed = trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(trimmed);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let valid_name = !trimmed.is_empty()
        && trimmed.len() <= 253
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if valid_name {
        Ok(Host::Name(trimmed.to_string()))
    } else {
        Err(format!(
            "invalid host \"{text}\" (give an IP like 127.0.0.1 or ::1, or a name like localhost; no port here: ports are the second argument)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hosts() {
        assert_eq!(
            parse_host("127.0.0.1"),
            Ok(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(parse_host("[::1]"), Ok(Host::Ip("::1".parse().unwrap())));
        assert_eq!(parse_host("::1"), Ok(Host::Ip("::1".parse().unwrap())));
        assert_eq!(parse_host("localhost"), Ok(Host::Name("localhost".into())));
        assert!(parse_host("127.0.0.1:80")
            .unwrap_err()
            .contains("no port here"));
        assert!(parse_host("").is_err());
    }

    proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,80}") {
            let _ = parse_host(&text);
        }
    }
}
