//! Classes of operating-system errors that the program treats alike on
//! every platform (the codes differ: `EMFILE` on POSIX, `WSAEMFILE` on
//! Windows).

use std::io;

/// What an OS error code means for a caller that retries or reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsErrorClass {
    /// Out of descriptors, socket buffers or ephemeral ports: a local
    /// shortage that goes away with time.
    LocalShortage,
    /// No route to the host or network.
    Unreachable,
    /// A non-blocking connect has started (`EINPROGRESS`, `WSAEWOULDBLOCK`).
    InProgress,
    /// Anything else.
    Other,
}

/// The class of `error`'s OS code.
pub fn classify(error: &io::Error) -> OsErrorClass {
    match error.raw_os_error() {
        Some(code) => classify_code(code),
        None => OsErrorClass::Other,
    }
}

/// True when `error` says the process or system is out of descriptors or
/// buffers (not out of ephemeral ports).
pub fn is_exhausted(error: &io::Error) -> bool {
    error
        .raw_os_error()
        .is_some_and(|code| EXHAUSTED.contains(&code))
}

#[cfg(unix)]
const EXHAUSTED: [i32; 3] = [
    rustix::io::Errno::MFILE.raw_os_error(),
    rustix::io::Errno::NFILE.raw_os_error(),
    rustix::io::Errno::NOBUFS.raw_os_error(),
];

#[cfg(unix)]
fn classify_code(code: i32) -> OsErrorClass {
    use rustix::io::Errno;
    match Errno::from_raw_os_error(code) {
        Errno::MFILE | Errno::NFILE | Errno::ADDRNOTAVAIL | Errno::NOBUFS => {
            OsErrorClass::LocalShortage
        }
        Errno::HOSTUNREACH | Errno::NETUNREACH => OsErrorClass::Unreachable,
        Errno::INPROGRESS => OsErrorClass::InProgress,
        _ => OsErrorClass::Other,
    }
}

/// Winsock's codes (winerror.h): `WSAEMFILE`, `WSAENOBUFS`.
#[cfg(windows)]
const EXHAUSTED: [i32; 2] = [10024, 10055];

#[cfg(windows)]
fn classify_code(code: i32) -> OsErrorClass {
    match code {
        // WSAEMFILE, WSAEADDRNOTAVAIL, WSAENOBUFS
        10024 | 10049 | 10055 => OsErrorClass::LocalShortage,
        // WSAENETUNREACH, WSAEHOSTUNREACH
        10051 | 10065 => OsErrorClass::Unreachable,
        // WSAEWOULDBLOCK (a non-blocking connect), WSAEINPROGRESS
        10035 | 10036 => OsErrorClass::InProgress,
        _ => OsErrorClass::Other,
    }
}

/// True when `error` says the reader of a pipe has gone: `EPIPE`, or on
/// Windows also `ERROR_PIPE_NOT_CONNECTED` (233) and `ERROR_NO_DATA`
/// (232), which std does not all report as a broken pipe.
pub fn is_broken_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
        || (cfg!(windows) && matches!(error.raw_os_error(), Some(232 | 233)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_descriptors_is_a_local_shortage() {
        let e = io::Error::from_raw_os_error(EXHAUSTED[0]);
        assert!(is_exhausted(&e));
        assert_eq!(classify(&e), OsErrorClass::LocalShortage);
        assert_eq!(classify(&io::Error::other("x")), OsErrorClass::Other);
    }
}
