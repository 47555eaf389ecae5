//! Socket options that exist on some platforms only. Where one is missing
//! the flag that asks for it is refused when parsed
//! ([`super::unsupported`]); these functions still fail cleanly if reached.

use std::io;

use socket2::{SockAddr, Socket};

#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn unavailable(what: &str, instead: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        super::unsupported::refusal(what, instead),
    )
}

/// Binds the socket to a network device (`SO_BINDTODEVICE`, Linux).
pub fn bind_device(socket: &Socket, device: &str) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        socket.bind_device(Some(device.as_bytes()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (socket, device);
        Err(unavailable(
            "--bind-device",
            "use --bind ADDRESS (or --iface ADDRESS for multicast)",
        ))
    }
}

/// Sets the IPv6 traffic class (`IPV6_TCLASS`).
pub fn set_tclass_v6(socket: &Socket, tclass: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        socket.set_tclass_v6(tclass)
    }
    #[cfg(windows)]
    {
        let _ = (socket, tclass);
        Err(unavailable("--tos on IPv6", "use it with IPv4 (-4)"))
    }
}

/// Sets `SO_REUSEPORT` (several listeners share a port).
pub fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    #[cfg(unix)]
    {
        socket.set_reuse_port(true)
    }
    #[cfg(windows)]
    {
        let _ = socket;
        Err(unavailable("--reuseport", "run one listener per port"))
    }
}

/// Lets a new listener take a port whose old connections linger in
/// `TIME_WAIT`. POSIX needs `SO_REUSEADDR` for that; on Windows that option
/// would let another socket take a port in use, and a listener can be
/// rebound without it, so nothing is set there.
pub fn allow_quick_rebind(socket: &Socket) -> io::Result<()> {
    #[cfg(unix)]
    {
        socket.set_reuse_address(true)
    }
    #[cfg(windows)]
    {
        let _ = socket;
        Ok(())
    }
}

/// The parts of a Unix socket address: its abstract name or its path.
pub fn unix_addr_parts(addr: &SockAddr) -> (Option<&[u8]>, Option<&std::path::Path>) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        (addr.as_abstract_namespace(), addr.as_pathname())
    }
    #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
    {
        (None, addr.as_pathname())
    }
    #[cfg(windows)]
    {
        let _ = addr;
        (None, None)
    }
}
