//! Where received bytes go on disk, without trusting what is already
//! there: the temporary file is created new without following a link (a
//! symbolic link, junction or other entry at its path is removed, never
//! followed), its permissions are set through its own handle, and it gets
//! its final name (replacing atomically) only while its path still holds
//! the file this transfer wrote. POSIX does every step relative to an open
//! directory descriptor (`posix.rs`); Windows holds the directory open so
//! it cannot be renamed or replaced meanwhile and opens reparse points as
//! themselves, never their targets (`windows.rs`).
//!
//! The temporary name is [`PART_PREFIX`] and a hash of the final name
//! ([`part_name`]): it always fits the file-system limit (255 bytes)
//! whatever the final name, and no received name may start with the prefix
//! ([`is_reserved`]), so a sender can never name its file after another
//! file's temporary file.

use std::ffi::OsStr;

use sha2::{Digest, Sha256};

#[cfg(unix)]
mod posix;
#[cfg(unix)]
pub use posix::{Dir, Part};
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{Dir, Part};

/// Start of every temporary file name; received names starting with it
/// are refused.
pub const PART_PREFIX: &str = ".sockmate-part.";

/// Hex digits of the name's SHA-256 in a temporary name (128 bits).
const PART_HASH_HEX: usize = 32;

/// The temporary name of the file `name`: [`PART_PREFIX`] and the first
/// 128 bits of the SHA-256 of `name`, in hex (47 bytes whatever `name`).
pub fn part_name(name: &OsStr) -> String {
    let digest = Sha256::digest(crate::sys::fs::name_bytes(name));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PART_PREFIX}{}", &hex[..PART_HASH_HEX])
}

/// True when `name` could be taken for a temporary file of this module.
pub fn is_reserved(name: &str) -> bool {
    name.starts_with(PART_PREFIX)
}

/// What is at a name in a directory (links are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, FIFO, socket or device.
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_fit_and_are_reserved() {
        let long = "n".repeat(255);
        for name in ["a", "report.pdf", long.as_str()] {
            let part = part_name(OsStr::new(name));
            assert_eq!(part.len(), PART_PREFIX.len() + PART_HASH_HEX);
            assert!(is_reserved(&part));
            assert!(!is_reserved(name));
        }
        assert_ne!(part_name(OsStr::new("a")), part_name(OsStr::new("b")));
    }
}
