//! The open-file limit: POSIX `RLIMIT_NOFILE`; Windows has no such soft
//! limit for sockets (it is bounded by memory), so there is nothing to
//! raise.

/// The soft limit on open files, when the system has one.
#[cfg(unix)]
pub fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// The soft limit on open files, when the system has one.
#[cfg(windows)]
pub fn open_file_limit() -> Option<u64> {
    None
}

/// Raises the soft limit on open files to the hard limit, so a busy server
/// is bounded by the system, not by a default of 1,024. Returns the limit
/// now in force.
#[cfg(unix)]
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let lim = getrlimit(Resource::Nofile);
    // `None` means unlimited.
    let soft = lim.current.unwrap_or(u64::MAX);
    let hard = lim.maximum.unwrap_or(u64::MAX);
    if soft < hard {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: lim.maximum,
                maximum: lim.maximum,
            },
        )?;
        return Ok(hard);
    }
    Ok(soft)
}

/// Windows has no soft limit on sockets to raise: unlimited.
#[cfg(windows)]
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    Ok(u64::MAX)
}
