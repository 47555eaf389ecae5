//! Where clients of the proxy server may go: loopback always, plus the
//! networks and host names of `--target-allow`. Checked after resolving,
//! so a name that resolves to a refused address is refused.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::limits::parse_cidr;

/// The longest host name `--target-allow` takes (a DNS name is at most 253).
const MAX_NAME: usize = 253;

/// The targets a proxy client may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Networks allowed besides loopback.
    pub nets: Vec<IpNet>,
    /// Host names allowed whatever they resolve to (compared without case
    /// and without a trailing dot).
    pub hosts: Vec<String>,
}

/// One `--target-allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetEntry {
    /// A network or one address.
    Net(IpNet),
    /// A host name.
    Host(String),
}

impl TargetPolicy {
    /// A policy allowing loopback and `entries`.
    pub fn new(entries: impl IntoIterator<Item = TargetEntry>) -> Self {
        let mut policy = TargetPolicy::default();
        for entry in entries {
            match entry {
                TargetEntry::Net(net) => policy.nets.push(net),
                TargetEntry::Host(name) => policy.hosts.push(name),
            }
        }
        policy
    }

    /// True when `ip` may be reached: loopback (also as an IPv4-mapped
    /// IPv6 address) or inside an allowed network.
    pub fn permits_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_loopback() || self.nets.iter().any(|net| net.contains(&ip))
    }

    /// True when `name` was allowed by name.
    pub fn permits_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// True when only loopback is allowed.
    pub fn is_loopback_only(&self) -> bool {
        self.nets.is_empty() && self.hosts.is_empty()
    }
}

impl fmt::Display for TargetPolicy {
    /// For the startup note: `loopback only; add …` or `loopback, 192.0.2.0/24, example.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_loopback_only() {
            return f.write_str("loopback only; add --target-allow CIDR|host to allow more");
        }
        f.write_str("loopback")?;
        for net in &self.nets {
            write!(f, ", {net}")?;
        }
        for host in &self.hosts {
            write!(f, ", {host}")?;
        }
        Ok(())
    }
}

/// Parses one `--target-allow` value: a CIDR, one address or a host name.
pub fn parse_target_entry(text: &str) -> Result<TargetEntry, String> {
    let text = text.trim();
    if let Ok(net) = parse_cidr(text) {
        return Ok(TargetEntry::Net(net));
    }
    let name = text.trim_end_matches('.');
    let is_name = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && name.bytes().any(|b| b.is_ascii_alphabetic());
    if is_name {
        return Ok(TargetEntry::Host(name.to_ascii_lowercase()));
    }
    Err(format!(
        "invalid --target-allow \"{text}\" (write a network like 192.0.2.0/24, an address like 10.0.0.5, or a host name like example.com)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(entries: &[&str]) -> TargetPolicy {
        TargetPolicy::new(entries.iter().map(|e| parse_target_entry(e).unwrap()))
    }

    #[test]
    fn loopback_is_always_allowed_and_more_only_when_asked() {
        let default = policy(&[]);
        for ip in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"] {
            assert!(default.permits_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["192.0.2.1", "0.0.0.0", "10.0.0.1", "::"] {
            assert!(!default.permits_ip(ip.parse().unwrap()), "{ip}");
        }
        assert!(default.to_string().contains("loopback only"));
        let more = policy(&["192.0.2.0/24", "Example.COM."]);
        assert!(more.permits_ip("192.0.2.77".parse().unwrap()));
        assert!(!more.permits_ip("198.51.100.1".parse().unwrap()));
        assert!(more.permits_name("example.com"));
        assert!(!more.permits_name("example.org"));
        assert_eq!(more.to_string(), "loopback, 192.0.2.0/24, example.com");
    }

    #[test]
    fn bad_entries_say_what_to_write() {
        assert!(parse_target_entry("10.0.0.0/33")
            .unwrap_err()
            .contains("192.0.2.0/24"));
        assert!(parse_target_entry("a b").is_err());
        assert!(parse_target_entry("").is_err());
        assert_eq!(
            parse_target_entry("10.1.2.3").unwrap(),
            TargetEntry::Net("10.1.2.3/32".parse().unwrap())
        );
    }

    proptest! {
        #[test]
        fn no_entry_panics(s in "\\PC{0,40}") {
            if let Err(e) = parse_target_entry(&s) {
                prop_assert!(e.contains("--target-allow"));
            }
        }
    }
}
