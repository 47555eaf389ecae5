//! Who may connect (`--allow` / `--deny` CIDR lists) and the process's file
//! descriptor limit.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::transport::PeerAddr;

/// Client address rules: a client in any `deny` network is refused; when
/// `allow` is not empty, only clients in one of its networks are accepted.
/// Unix-socket clients are local and always accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessList {
    /// Networks allowed to connect (empty: everyone not denied).
    pub allow: Vec<IpNet>,
    /// Networks refused.
    pub deny: Vec<IpNet>,
}

impl AccessList {
    /// True when neither list has entries.
    pub fn is_open(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// True when `ip` may connect.
    pub fn permits_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.deny.iter().any(|net| net.contains(&ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&ip))
    }

    /// True when `peer` may connect.
    pub fn permits(&self, peer: &PeerAddr) -> bool {
        match peer {
            PeerAddr::Ip(addr) => self.permits_ip(addr.ip()),
            PeerAddr::Unix { .. } | PeerAddr::Device(_) | PeerAddr::Proxied(_) => true,
        }
    }
}

/// Parses a CIDR network (`10.0.0.0/8`, `::1/128`) or a single address
/// (`127.0.0.2`, meaning just that host).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = IpNet::from_str(text) {
        return Ok(net.trunc());
    }
    if let Ok(ip) = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(IpNet::from(ip));
    }
    Err(format!(
        "invalid network \"{text}\" (write CIDR like 192.168.1.0/24 or ::1/128, or one address like 127.0.0.1)"
    ))
}

/// Raises the soft limit on open files to the hard limit, so a busy server
/// is bounded by the system, not by a default of 1,024. Returns the limit
/// now in force.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    crate::sys::limits::raise_nofile_limit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(allow: &[&str], deny: &[&str]) -> AccessList {
        AccessList {
            allow: allow.iter().map(|s| parse_cidr(s).unwrap()).collect(),
            deny: deny.iter().map(|s| parse_cidr(s).unwrap()).collect(),
        }
    }

    #[test]
    fn deny_wins_and_allow_restricts() {
        let l = list(&["127.0.0.0/8"], &["127.0.0.5"]);
        assert!(l.permits_ip("127.0.0.1".parse().unwrap()));
        assert!(!l.permits_ip("127.0.0.5".parse().unwrap()));
        assert!(!l.permits_ip("10.0.0.1".parse().unwrap()));
        assert!(l.permits_ip("::ffff:127.0.0.1".parse().unwrap()));
        assert!(AccessList::default().permits_ip("8.8.8.8".parse().unwrap()));
        let unix = PeerAddr::Unix {
            addr: None,
            pid: None,
        };
        assert!(list(&["10.0.0.0/8"], &[]).permits(&unix));
    }

    #[test]
    fn cidr_forms() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("nope").unwrap_err().contains("192.168.1.0/24"));
    }

    #[test]
    fn nofile_limit_can_be_raised_to_the_hard_limit() {
        let now = raise_nofile_limit().unwrap();
        assert!(now >= 1024);
    }

    proptest! {
        #[test]
        fn cidr_parser_never_panics(s in "\\PC{0,24}") {
            let _ = parse_cidr(&s);
        }

        #[test]
        fn a_host_is_in_its_own_net(a in any::<u32>(), prefix in 0u8..=32) {
            let ip = std::net::Ipv4Addr::from(a);
            let net = parse_cidr(&format!("{ip}/{prefix}")).unwrap();
            prop_assert!(net.contains(&IpAddr::V4(ip)));
        }
    }
}
