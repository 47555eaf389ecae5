//! Platform differences, each behind one function or type, so the rest of
//! the program reads the same on every system: POSIX code is `cfg(unix)`
//! (Linux, macOS, the BSDs), Linux-only fast paths are
//! `cfg(target_os = "linux")` (in `transport::splice`), and Windows is
//! `cfg(windows)`. Nothing outside this module, the transport's platform
//! files and the parse-time refusals ([`unsupported`]) says `cfg`.

#[cfg(windows)]
pub(crate) mod absent;
pub mod fs;
#[cfg_attr(windows, path = "icmp_windows.rs")]
pub mod icmp;
pub mod icmp_kind;
pub mod limits;
pub mod netif;
pub mod os_error;
pub mod process;
pub mod signals;
pub mod socket;
pub mod stdio;
pub mod unsupported;

#[cfg(windows)]
pub(crate) mod win;
