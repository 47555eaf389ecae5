//! Network interfaces by name: the index the OS gives a name (what an IPv6
//! zone like `%eth0` and `--iface` mean), and the names there are. Asked of
//! the kernel (`SIOCGIFINDEX`, `if_nametoindex`), never read from
//! `/sys/class/net`, which shows the host's interfaces inside a network
//! namespace that has no sysfs of its own.

use std::io;

/// The index of the interface called `name`.
pub fn index(name: &str) -> io::Result<u32> {
    os::index(name)
}

/// The names of this machine's (this namespace's) interfaces, in index
/// order; empty when they cannot be listed.
pub fn names() -> Vec<String> {
    os::names()
}

/// "interfaces here: lo, eth0" (or where to look when they cannot be
/// listed), for messages.
pub fn listing() -> String {
    let names = names();
    if names.is_empty() {
        "see `ip link` or `ipconfig` for the names".into()
    } else {
        format!("interfaces here: {}", names.join(", "))
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod os {
    use std::io;

    use rustix::net::{netdevice, socket, AddressFamily, SocketType};

    pub fn index(name: &str) -> io::Result<u32> {
        let probe = socket(AddressFamily::INET, SocketType::DGRAM, None)?;
        Ok(netdevice::name_to_index(&probe, name)?)
    }

    /// `/proc/self/net/dev` is the process's own namespace (unlike sysfs);
    /// each name is checked with the kernel and sorted by its index.
    pub fn names() -> Vec<String> {
        let table = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
        let mut found: Vec<(u32, String)> = table
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(name, _)| name.trim().to_string())
            .filter_map(|name| index(&name).ok().map(|i| (i, name)))
            .collect();
        found.sort();
        found.into_iter().map(|(_, name)| name).collect()
    }
}

#[cfg(windows)]
mod os {
    pub use crate::sys::win::{interface_index as index, interface_names as names};
}

/// Elsewhere (macOS, the BSDs) names are not looked up without `unsafe`:
/// a zone or `--iface` is given as the interface's index.
#[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
mod os {
    use std::io;

    pub fn index(_name: &str) -> io::Result<u32> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "interface names are looked up on Linux and Windows; give the interface's index (`ifconfig` lists them), e.g. %1",
        ))
    }

    pub fn names() -> Vec<String> {
        Vec::new()
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_named_and_indexed_by_the_kernel() {
        assert_eq!(index("lo").unwrap(), 1);
        assert!(index("nosuchif0").is_err());
        assert_eq!(names().first().map(String::as_str), Some("lo"));
    }
}
