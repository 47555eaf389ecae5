//! Errors that teach: what a failed bind or connect usually means and what
//! to do about it (ports below 1024, an address that is not on this
//! machine, a port another program holds, a path that is not a socket).
//!
//! The program holding a port is found the way `ss -ltnp` finds it: the
//! socket's inode from `/proc/net/{tcp,tcp6,udp,udp6}`, then the process
//! whose `/proc/PID/fd` links to `socket:[INODE]`. Without permission to
//! look (another user's process) it is left out.

use std::io;
use std::path::Path;

use crate::endpoint::{Endpoint, Kind, UnixAddr};

/// Most `/proc/PID` directories searched for a port's holder.
const MAX_PROCS_SCANNED: usize = 4096;

/// The listening state in `/proc/net/tcp`.
const TCP_LISTEN: &str = "0A";

/// The hint after "permission denied" on a bind.
pub fn privileged_port(port: u16) -> Option<String> {
    (port != 0 && port < 1024).then(|| {
        format!(
            "ports below 1024 need root or CAP_NET_BIND_SERVICE (use a port like {}, or allow it: sudo setcap cap_net_bind_service=+ep $(command -v sockmate))",
            8000 + port.min(999)
        )
    })
}

/// The hint after "cannot assign requested address" on a bind.
pub fn not_on_this_machine(endpoint: &Endpoint) -> String {
    let host = endpoint
        .host_port()
        .map(|(h, _)| h.to_string())
        .unwrap_or_else(|| endpoint.to_string());
    format!(
        "{host} is not an address of this machine (list them with `ip -brief addr`; listen on 0.0.0.0 for every interface or 127.0.0.1 for this machine only)"
    )
}

/// The words after "address in use": who holds the port and what to do.
pub fn port_in_use(endpoint: &Endpoint) -> String {
    let Some((_, port)) = endpoint.host_port() else {
        return "another socket is bound there; pick another address or stop it".into();
    };
    let udp = endpoint.kind() == Kind::Udp;
    let holder = holder(port, udp);
    let what = match &holder {
        Some((pid, name)) => format!("held by {name} (pid {pid})"),
        None => format!(
            "another socket is bound there (see who: ss -{}lnp 'sport = :{port}')",
            if udp { "u" } else { "t" }
        ),
    };
    // SO_REUSEPORT shares a port only among sockets that all set it.
    match holder {
        Some((_, name)) if name == "sockmate" => format!(
            "{what}; stop it or pick another port; to share the port on purpose, start both with --reuseport (it works only when every holder set it)"
        ),
        Some((_, name)) => format!(
            "{what}; stop it or pick another port (port 0 picks a free one and the startup line names it); --reuseport cannot share it: that works only when {name} set SO_REUSEPORT too"
        ),
        None => format!(
            "{what}; stop it or pick another port (port 0 picks a free one); --reuseport shares a port only when every holder set it"
        ),
    }
}

/// For a Unix path that exists and is not a socket: what it is instead
/// (the kernel calls connecting to it "connection refused").
pub fn not_a_socket_path(endpoint: &Endpoint) -> Option<String> {
    match endpoint {
        Endpoint::Unix(UnixAddr::Path(path))
        | Endpoint::UnixSeqpacket(UnixAddr::Path(path))
        | Endpoint::UnixDgram(UnixAddr::Path(path)) => not_a_socket(path).map(|what| {
            format!(
                "{} is not a socket, it is {what} (give the path of a listening socket, e.g. one made by: sockmate listen unix:///tmp/app.sock)",
                path.display()
            )
        }),
        _ => None,
    }
}

/// The words after "connection refused": is anything listening there.
pub fn refused(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Unix(UnixAddr::Path(path))
        | Endpoint::UnixSeqpacket(UnixAddr::Path(path))
        | Endpoint::UnixDgram(UnixAddr::Path(path)) => format!(
            "is anything listening on {}? start one with: sockmate listen {endpoint}",
            path.display()
        ),
        _ => match endpoint.host_port() {
            Some((_, port)) => format!(
                "is anything listening on port {port}? start one with: sockmate listen {port}"
            ),
            None => "is anything listening there?".into(),
        },
    }
}

/// What `path` is when it exists and is not a socket.
fn not_a_socket(path: &Path) -> Option<&'static str> {
    use crate::sys::fs::{file_kind, FileKind};
    match file_kind(&std::fs::metadata(path).ok()?) {
        FileKind::Socket => None,
        FileKind::Dir => Some("a directory"),
        FileKind::Fifo => Some("a named pipe (FIFO)"),
        FileKind::File => Some("a regular file"),
    }
}

/// The process holding `port` (a TCP listener, or a bound UDP socket).
fn holder(port: u16, udp: bool) -> Option<(u32, String)> {
    let tables: &[&str] = if udp {
        &["/proc/net/udp", "/proc/net/udp6"]
    } else {
        &["/proc/net/tcp", "/proc/net/tcp6"]
    };
    let inode = tables
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .find_map(|table| inode_of(&table, port, udp))?;
    process_with_socket(inode).ok().flatten()
}

/// The inode of the socket bound to `port` in one `/proc/net` table.
pub fn inode_of(table: &str, port: u16, udp: bool) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local = fields.get(1)?;
        let state = fields.get(3)?;
        let local_port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
        let inode: u64 = fields.get(9)?.parse().ok()?;
        (local_port == port && (udp || *state == TCP_LISTEN) && inode != 0).then_some(inode)
    })
}

fn process_with_socket(inode: u64) -> io::Result<Option<(u32, String)>> {
    let want = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc")?.take(MAX_PROCS_SCANNED) {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .map(|target| target.as_os_str() == want.as_str())
                .unwrap_or(false)
        });
        if holds {
            let name = std::fs::read_to_string(entry.path().join("comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "a process".into());
            return Ok(Some((pid, name)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_lines_give_the_listener_inode() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n   1: 0100007F:1F91 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0 100 0 0 10 0\n";
        assert_eq!(inode_of(table, 8080, false), Some(4242));
        assert_eq!(inode_of(table, 8081, false), None, "not listening");
        assert_eq!(inode_of(table, 8081, true), Some(777));
        assert_eq!(inode_of("garbage\nmore garbage", 1, false), None);
    }

    #[test]
    fn our_own_listener_is_found_by_its_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let endpoint: Endpoint = format!("tcp://127.0.0.1:{port}").parse().unwrap();
        let hint = port_in_use(&endpoint);
        assert!(
            hint.contains(&format!("(pid {})", std::process::id())),
            "{hint}"
        );
    }

    #[test]
    fn hints_name_the_fix() {
        assert!(privileged_port(80)
            .unwrap()
            .contains("CAP_NET_BIND_SERVICE"));
        assert!(privileged_port(8080).is_none());
        assert!(privileged_port(0).is_none());
        let far: Endpoint = "tcp://10.9.9.9:8080".parse().unwrap();
        assert!(not_on_this_machine(&far).contains("ip -brief addr"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let ep: Endpoint = format!("unix://{}", file.display()).parse().unwrap();
        let hint = not_a_socket_path(&ep).unwrap();
        assert!(
            hint.contains("is not a socket, it is a regular file"),
            "{hint}"
        );
        let tcp: Endpoint = "tcp://127.0.0.1:9".parse().unwrap();
        assert!(refused(&tcp).starts_with("is anything listening on port 9?"));
    }
}
