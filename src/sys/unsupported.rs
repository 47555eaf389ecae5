//! What this platform lacks, refused at parse time with one line that
//! says so and what to use instead (never a compile error, never a silent
//! no-op).

/// The platform's name, for messages.
pub const PLATFORM: &str = if cfg!(windows) {
    "Windows"
} else if cfg!(target_os = "linux") {
    "Linux"
} else {
    "this system"
};

/// Unix-domain sockets (`unix://`, `unix-dgram://`, `unix-seqpacket://`,
/// `@abstract` names) exist here.
pub const UNIX_SOCKETS: bool = cfg!(unix);

/// Abstract Unix socket names (`unix://@name`) exist here (Linux only).
pub const ABSTRACT_NAMES: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Commands can run on a pseudo-terminal (`--pty`).
pub const PTY: bool = cfg!(unix);

/// Sockets can be bound to a device (`--bind-device`, `SO_BINDTODEVICE`).
pub const BIND_DEVICE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// `SO_REUSEPORT` exists here.
pub const REUSEPORT: bool = cfg!(unix);

/// ICMP echo sockets exist here (`sockmate ping`, `bench icmp://`).
pub const ICMP_SOCKETS: bool = cfg!(unix);

/// The one-line refusal of `what` on this platform, with `instead`.
pub fn refusal(what: &str, instead: &str) -> String {
    format!("{what} is not available on {PLATFORM}; {instead}")
}
