//! `--allow CIDR` / `--deny CIDR`: which clients a relay serves.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::transport::PeerAddr;

/// Allow and deny lists of networks. A client is served when no deny entry
/// contains it and, if any allow entries exist, one of them does. Unix
/// socket clients have no IP address and are always served.
#[derive(Debug, Clone, Default)]
pub struct AccessList {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl AccessList {
    /// Parses `--allow` and `--deny` values (a CIDR like `10.0.0.0/8` or a
    /// bare address like `127.0.0.1`).
    pub fn parse(allow: &[String], deny: &[String]) -> Result<Self, String> {
        let parse_all = |flag: &str, items: &[String]| -> Result<Vec<IpNet>, String> {
            items.iter().map(|s| parse_net(flag, s)).collect()
        };
        Ok(AccessList {
            allow: parse_all("--allow", allow)?,
            deny: parse_all("--deny", deny)?,
        })
    }

    /// True when `peer` may be served.
    pub fn permits(&self, peer: &PeerAddr) -> bool {
        let PeerAddr::Ip(addr) = peer else {
            return true;
        };
        let ip = canonical(addr.ip());
        if self.deny.iter().any(|net| net.contains(&ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4-mapped IPv6 address (from a dual-stack listener) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn parse_net(flag: &str, text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    Err(format!(
        "invalid {flag} \"{text}\" (give a network like 10.0.0.0/8, ::1/128, or an address like 127.0.0.1)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn peer(s: &str) -> PeerAddr {
        PeerAddr::Ip(s.parse().unwrap())
    }

    #[test]
    fn deny_wins_and_allow_restricts() {
        let acl = AccessList::parse(&["127.0.0.0/8".into()], &["127.0.0.2".into()]).unwrap();
        assert!(acl.permits(&peer("127.0.0.1:5000")));
        assert!(!acl.permits(&peer("127.0.0.2:5000")));
        assert!(!acl.permits(&peer("10.1.1.1:5000")));
        assert!(acl.permits(&peer("[::ffff:127.0.0.1]:5000")));
        assert!(AccessList::default().permits(&peer("10.1.1.1:1")));
    }

    #[test]
    fn bad_network_names_the_flag() {
        let err = AccessList::parse(&[], &["10.0.0.0/33".into()]).unwrap_err();
        assert!(err.contains("--deny \"10.0.0.0/33\""), "{err}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = AccessList::parse(std::slice::from_ref(&text), std::slice::from_ref(&text));
        }

        #[test]
        fn every_v4_address_parses_as_a_host_net(a in any::<[u8; 4]>()) {
            let ip = std::net::Ipv4Addr::from(a).to_string();
            let acl = AccessList::parse(std::slice::from_ref(&ip), &[]).unwrap();
            let addr = format!("{ip}:1");
            prop_assert!(acl.permits(&peer(&addr)));
        }
    }
}
