//! `icmp://HOST`: the target of `sockmate ping` and `sockmate bench`. ICMP
//! has no ports and no connections, so every other command refuses the
//! scheme ([`refusal`]).

use std::net::IpAddr;

use super::{EndpointError, Host};

/// The scheme's name.
pub const SCHEME: &str = "icmp";

/// True when `input` is written `icmp://…` (any case).
pub fn is_icmp(input: &str) -> bool {
    input
        .trim()
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case(SCHEME))
}

/// The line other commands give for `icmp://`.
pub fn refusal(input: &str) -> String {
    format!(
        "cannot use {input} here: icmp:// works only with sockmate ping HOST and sockmate bench icmp://HOST (ICMP has no ports or connections; write tcp://HOST:PORT or udp://HOST:PORT)"
    )
}

/// Parses a ping target: `HOST` or `icmp://HOST`, where HOST is an IP
/// literal (IPv6 with or without brackets, with a `%zone`) or a DNS name.
pub fn parse_icmp_host(input: &str) -> Result<Host, EndpointError> {
    let fail = |why: &str| {
        Err(EndpointError::new(format!(
            "invalid ping target \"{input}\" ({why}; write a host like 127.0.0.1, ::1 or localhost, or icmp://HOST)"
        )))
    };
    let text = input.trim();
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(SCHEME) => rest,
        Some((scheme, _)) => return fail(&format!("{scheme}:// is not ICMP")),
        None => text,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return fail("no host");
    }
    let unbracketed = match rest.strip_prefix('[') {
        Some(inner) => match inner.strip_suffix(']') {
            Some(inner) => inner,
            None if inner.contains("]:") => return fail("ICMP has no ports"),
            None => return fail("unclosed \"[\""),
        },
        None => rest,
    };
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    if let Some((addr, zone)) = unbracketed.split_once('%') {
        let zone = zone
            .strip_prefix("25")
            .filter(|z| !z.is_empty())
            .unwrap_or(zone);
        let valid_zone = !zone.is_empty()
            && zone.len() < 16
            && zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        return match addr.parse::<std::net::Ipv6Addr>() {
            Ok(ip) if valid_zone => Ok(Host::Scoped {
                ip,
                zone: zone.to_string(),
            }),
            Ok(_) => fail("the zone after % must be an interface name or index"),
            Err(_) => fail("a %zone follows only an IPv6 address"),
        };
    }
    if let Some((_, port)) = rest.rsplit_once(':') {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            return fail("ICMP has no ports");
        }
        return fail("not an IP address or a name");
    }
    let valid_name = rest.len() <= 253
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if valid_name {
        Ok(Host::Name(rest.to_string()))
    } else {
        fail("not an IP address or a name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hosts_with_and_without_the_scheme() {
        let ip = |s: &str| Host::Ip(s.parse().unwrap());
        assert_eq!(parse_icmp_host("127.0.0.1"), Ok(ip("127.0.0.1")));
        assert_eq!(parse_icmp_host("icmp://127.0.0.1"), Ok(ip("127.0.0.1")));
        assert_eq!(parse_icmp_host("ICMP://[::1]/"), Ok(ip("::1")));
        assert_eq!(parse_icmp_host("::1"), Ok(ip("::1")));
        assert_eq!(
            parse_icmp_host("localhost"),
            Ok(Host::Name("localhost".into()))
        );
        assert!(matches!(
            parse_icmp_host("fe80::1%lo"),
            Ok(Host::Scoped { ref zone, .. }) if zone == "lo"
        ));
        for (bad, why) in [
            ("127.0.0.1:80", "no ports"),
            ("icmp://[::1]:7", "no ports"),
            ("tcp://127.0.0.1:80", "not ICMP"),
            ("icmp://", "no host"),
            ("a b", "not an IP"),
        ] {
            let e = parse_icmp_host(bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("icmp://HOST"), "{bad}: {e}");
        }
        assert!(is_icmp(" Icmp://x") && !is_icmp("tcp://x:1"));
    }

    proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,60}") {
            let _ = parse_icmp_host(&text);
        }
    }
}
