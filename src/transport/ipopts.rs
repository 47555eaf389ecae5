//! IP-level socket options (`-4`/`-6`, `--ttl`, `--tos`, `--rcvbuf`,
//! `--sndbuf`, `--bind-device`, `--broadcast`) and multicast: joining a
//! group on `listen udp://GROUP:PORT` and choosing how `connect` sends to
//! one (`--iface`, `--ttl`, `--multicast-loop`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use socket2::{InterfaceIndexOrAddress, SockRef};

/// Address family restriction (`-4`, `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

/// IP and UDP options, all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpOptions {
    /// Use only addresses of this family.
    pub family: Option<Family>,
    /// `SO_BROADCAST`: allow sending to a broadcast address.
    pub broadcast: bool,
    /// The multicast interface: a name (`eth0`) or an address of it.
    pub iface: Option<String>,
    /// Unicast TTL / hop limit, and the multicast one for a group.
    pub ttl: Option<u32>,
    /// Whether our own multicast comes back to us (the kernel's default is on).
    pub multicast_loop: Option<bool>,
    /// `connect udp://`: an unconnected socket that takes datagrams from any
    /// source, each tagged with its sender.
    pub any_source: bool,
    /// `IP_TOS` / IPv6 traffic class.
    pub tos: Option<u32>,
    /// `SO_RCVBUF` in bytes.
    pub rcvbuf: Option<usize>,
    /// `SO_SNDBUF` in bytes.
    pub sndbuf: Option<usize>,
    /// `SO_BINDTODEVICE`: use only this interface.
    pub bind_device: Option<String>,
}

impl IpOptions {
    /// Keeps the addresses of the chosen family (all when none is chosen).
    pub fn pick(&self, addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
        match self.family {
            None => addrs,
            Some(Family::V4) => addrs.into_iter().filter(SocketAddr::is_ipv4).collect(),
            Some(Family::V6) => addrs.into_iter().filter(SocketAddr::is_ipv6).collect(),
        }
    }

    /// Applies the options that hold for any IP socket heading to (or bound
    /// at) `addr`.
    pub fn apply(&self, socket: SockRef<'_>, addr: SocketAddr) -> io::Result<()> {
        if let Some(size) = self.rcvbuf {
            socket.set_recv_buffer_size(size)?;
        }
        if let Some(size) = self.sndbuf {
            socket.set_send_buffer_size(size)?;
        }
        if let Some(device) = &self.bind_device {
            crate::sys::socket::bind_device(&socket, device)?;
        }
        if self.broadcast {
            socket.set_broadcast(true)?;
        }
        let multicast = addr.ip().is_multicast();
        match addr {
            SocketAddr::V4(_) => {
                if let Some(tos) = self.tos {
                    socket.set_tos_v4(tos)?;
                }
                if let Some(ttl) = self.ttl {
                    if multicast {
                        socket.set_multicast_ttl_v4(ttl)?;
                    } else {
                        socket.set_ttl_v4(ttl)?;
                    }
                }
                if multicast {
                    if let Some(on) = self.multicast_loop {
                        socket.set_multicast_loop_v4(on)?;
                    }
                }
            }
            SocketAddr::V6(_) => {
                if let Some(tos) = self.tos {
                    crate::sys::socket::set_tclass_v6(&socket, tos)?;
                }
                if let Some(ttl) = self.ttl {
                    if multicast {
                        socket.set_multicast_hops_v6(ttl)?;
                    } else {
                        socket.set_unicast_hops_v6(ttl)?;
                    }
                }
                if multicast {
                    if let Some(on) = self.multicast_loop {
                        socket.set_multicast_loop_v6(on)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Chooses the interface multicast to `group` leaves by (`--iface`).
    pub fn multicast_egress(&self, socket: SockRef<'_>, group: IpAddr) -> io::Result<()> {
        let Some(iface) = self.iface.as_deref() else {
            return Ok(());
        };
        match (group, iface.parse::<IpAddr>()) {
            (IpAddr::V4(_), Ok(IpAddr::V4(addr))) => socket.set_multicast_if_v4(&addr),
            (IpAddr::V4(_), _) => crate::sys::socket::bind_device(&socket, iface),
            (IpAddr::V6(_), _) => socket.set_multicast_if_v6(interface_index(iface)?),
        }
    }

    /// Joins `group` on the `--iface` interface (or the kernel's choice)
    /// and says which, for the startup line.
    pub fn join(&self, socket: SockRef<'_>, group: IpAddr) -> io::Result<String> {
        let iface = self.iface.as_deref();
        match group {
            IpAddr::V4(group) => {
                let on = match iface {
                    None => InterfaceIndexOrAddress::Address(Ipv4Addr::UNSPECIFIED),
                    Some(text) => match text.parse::<Ipv4Addr>() {
                        Ok(addr) => InterfaceIndexOrAddress::Address(addr),
                        Err(_) => InterfaceIndexOrAddress::Index(interface_index(text)?),
                    },
                };
                socket.join_multicast_v4_n(&group, &on)?;
            }
            IpAddr::V6(group) => {
                let index = iface.map(interface_index).transpose()?.unwrap_or(0);
                socket.join_multicast_v6(&group, index)?;
            }
        }
        Ok(match iface {
            Some(name) => format!("(joined multicast group {group} on interface {name})"),
            None => format!("(joined multicast group {group} on the default interface)"),
        })
    }
}

/// The index of the interface called `name` (asked of the OS, see
/// [`crate::sys::netif`]), or, for an IPv6 zone written as a number, that
/// number.
pub fn interface_index(name: &str) -> io::Result<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    let valid = !name.is_empty()
        && name.len() < 16
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@:".contains(&b));
    match valid.then(|| crate::sys::netif::index(name)) {
        Some(Ok(index)) => Ok(index),
        Some(Err(e)) if e.kind() == io::ErrorKind::Unsupported => Err(e),
        _ => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no network interface called \"{name}\" ({})",
                crate::sys::netif::listing()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_picks_addresses() {
        let addrs: Vec<SocketAddr> =
            vec!["127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap()];
        let v6 = IpOptions {
            family: Some(Family::V6),
            ..IpOptions::default()
        };
        assert_eq!(v6.pick(addrs.clone()), vec![addrs[1]]);
        assert_eq!(IpOptions::default().pick(addrs.clone()), addrs);
    }

    #[test]
    fn interface_names_are_checked() {
        assert_eq!(interface_index("lo").unwrap(), 1);
        assert_eq!(interface_index("7").unwrap(), 7);
        let err = interface_index("../../etc").unwrap_err().to_string();
        assert!(err.contains("no network interface called"), "{err}");
        assert!(interface_index("nosuchif0").is_err());
    }
}
