//! File metadata and positioned reads the same way on every platform.

use std::fs::{File, Metadata};
use std::io;

/// The permission bits to send with a file: its mode on POSIX; on Windows,
/// which has only a read-only flag, `0o444` or `0o644`.
pub fn mode_bits(meta: &Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o777
    }
    #[cfg(windows)]
    {
        if meta.permissions().readonly() {
            0o444
        } else {
            0o644
        }
    }
}

/// True when the file at `meta` (named `path`) can be run as a program:
/// an execute bit on POSIX, an executable extension (`.exe`, `.bat`,
/// `.cmd`, `.com`) on Windows.
pub fn is_executable(path: &std::path::Path, meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = path;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(windows)]
    {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        meta.is_file() && matches!(ext.as_deref(), Some("exe" | "bat" | "cmd" | "com"))
    }
}

/// Reads into `buf` from `offset` of `file` (on Windows this also moves
/// the file's cursor; callers that read by offset do not use the cursor).
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// A path from the raw bytes of a socket address or name (POSIX paths are
/// bytes; elsewhere they must be UTF-8, and other bytes are replaced).
pub fn path_from_bytes(bytes: Vec<u8>) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        std::path::PathBuf::from(
            <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes),
        )
    }
    #[cfg(windows)]
    {
        std::path::PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The bytes of a file name, for hashing (POSIX names are bytes; Windows
/// names are UTF-16, hashed as their UTF-8, lossy for unpaired surrogates).
pub fn name_bytes(name: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        std::borrow::Cow::Borrowed(std::os::unix::ffi::OsStrExt::as_bytes(name))
    }
    #[cfg(windows)]
    {
        match name.to_string_lossy() {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        }
    }
}

/// Opens the existing file `path` to append, refusing a symbolic link
/// there: `O_NOFOLLOW` on POSIX; on Windows the link itself is opened
/// (`FILE_FLAG_OPEN_REPARSE_POINT`) and refused.
pub fn open_append_no_follow(path: &std::path::Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC;
        options.custom_flags(flags.bits() as i32);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        options.custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.file_type().is_symlink() {
        return Err(io::Error::other("it is not a regular file"));
    }
    Ok(file)
}

/// The user's data directory: `$XDG_DATA_HOME` or `~/.local/share` on
/// POSIX (`~/Library/Application Support` on macOS), `%APPDATA%` on
/// Windows; `None` when the environment names none.
pub fn user_data_dir() -> Option<std::path::PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    if cfg!(windows) {
        return var("APPDATA").or_else(|| var("LOCALAPPDATA"));
    }
    if cfg!(target_os = "macos") {
        return var("HOME").map(|h| h.join("Library").join("Application Support"));
    }
    var("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
}

/// What kind of entry a path is, as far as messages need to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A Unix socket file.
    Socket,
    /// A named pipe (FIFO).
    Fifo,
    /// A directory.
    Dir,
    /// A regular file or anything else.
    File,
}

/// The kind of the entry `meta` describes.
pub fn file_kind(meta: &Metadata) -> FileKind {
    let ty = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ty.is_socket() {
            return FileKind::Socket;
        }
        if ty.is_fifo() {
            return FileKind::Fifo;
        }
    }
    if ty.is_dir() {
        FileKind::Dir
    } else {
        FileKind::File
    }
}

/// The files a program named `path` may be: the path itself, and on
/// Windows also with each executable extension (`cmd` is `cmd.exe`).
pub fn program_candidates(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut all = vec![path.to_path_buf()];
    if cfg!(windows) && path.extension().is_none() {
        for ext in ["exe", "com", "bat", "cmd"] {
            all.push(path.with_extension(ext));
        }
    }
    all
}

/// Why a received file name cannot be stored on this platform, beyond the
/// rules every platform has (no `/`, `..`, NUL): on Windows a `\` or `:`
/// (a path, a drive, an alternate data stream), the characters Windows
/// forbids, a device name (`CON`, `NUL`, `COM1`…, with any extension) or a
/// trailing dot or space (which Windows strips, so two names would be one).
pub fn platform_name_refusal(name: &str) -> Option<&'static str> {
    if cfg!(windows) {
        windows_name_refusal(name)
    } else {
        None
    }
}

/// The Windows rules of [`platform_name_refusal`], on every platform (for
/// its tests).
pub fn windows_name_refusal(name: &str) -> Option<&'static str> {
    if name.contains('\\') {
        return Some("it contains '\\' (only plain file names are accepted)");
    }
    if name.contains(':') {
        return Some("it contains ':' (a drive or stream name on Windows)");
    }
    if name
        .chars()
        .any(|c| matches!(c, '<' | '>' | '"' | '|' | '?' | '*') || u32::from(c) < 0x20)
    {
        return Some("it contains a character Windows does not allow in names (<>\"|?* or a control character)");
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("it ends with a dot or a space (Windows would drop them)");
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    let upper = stem.to_ascii_uppercase();
    let device = matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((upper.starts_with("COM") || upper.starts_with("LPT"))
        && upper.len() == 4
        && upper.as_bytes()[3].is_ascii_digit());
    if device {
        return Some("it is a Windows device name (CON, NUL, COM1…)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_names_that_are_paths_streams_or_devices_are_refused() {
        for bad in [
            "..\\x",
            "a\\b",
            "C:x",
            "file:stream",
            "CON",
            "nul.txt",
            "com1",
            "LPT9.log",
            "a.",
            "a ",
            "a?b",
            "x\u{1}y",
        ] {
            assert!(windows_name_refusal(bad).is_some(), "{bad:?}");
        }
        for good in [
            "report.pdf",
            "console.txt",
            "com10",
            "COMMA",
            ".hidden",
            "数据.bin",
        ] {
            assert_eq!(windows_name_refusal(good), None, "{good:?}");
        }
    }
}
