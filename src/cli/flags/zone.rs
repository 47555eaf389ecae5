//! An IPv6 link-local address (`fe80::/10`) exists once per interface, so
//! the kernel refuses it without a zone (`EINVAL`, "os error 22"). Caught
//! when the endpoint is read, with the interfaces that could be its zone.

use std::net::IpAddr;

use crate::endpoint::{Endpoint, Host};
use crate::error::ConfigError;

/// True for `fe80::/10`.
fn is_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// Refuses a link-local IPv6 endpoint without a zone, naming the fix.
pub fn require_zone(endpoint: &Endpoint) -> Result<(), ConfigError> {
    let Some((Host::Ip(ip), port)) = endpoint.host_port() else {
        return Ok(());
    };
    if !is_link_local(*ip) {
        return Ok(());
    }
    let names = crate::sys::netif::names();
    let wired = |n: &&String| ["eth", "en", "wl"].iter().any(|p| n.starts_with(p));
    let example = names
        .iter()
        .find(wired)
        .or_else(|| names.iter().find(|n| n.as_str() != "lo"))
        .map(String::as_str)
        .unwrap_or("eth0");
    let scheme = endpoint.kind().scheme();
    Err(ConfigError::new(format!(
        "{ip} is a link-local address, which every interface has its own of: add the interface as a zone, e.g. {scheme}://[{ip}%{example}]:{port} ({})",
        crate::sys::netif::listing()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_needs_a_zone_and_others_do_not() {
        let err = require_zone(&"[fe80::1]:80".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("add the interface as a zone"), "{err}");
        assert!(err.contains("tcp://[fe80::1%"), "{err}");
        for fine in [
            "[fe80::1%1]:80",
            "[::1]:80",
            "127.0.0.1:80",
            "udp://[fec0::1]:5",
        ] {
            assert!(require_zone(&fine.parse().unwrap()).is_ok(), "{fine}");
        }
    }
}
