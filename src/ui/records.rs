//! Where "Record to file" writes: one directory chosen at start
//! (`sockmate ui --record-dir DIR`, by default a `sockmate` folder in the
//! user's data directory). The page names a file by its name alone (no
//! folders, no `..`); a new file is created without following links
//! (`create_new`: an entry already there, a link included, is refused),
//! and sockmate appends only to files it created itself in this run.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::sys::fs::{open_append_no_follow, platform_name_refusal, user_data_dir};

/// The longest record file name accepted, in bytes.
pub const MAX_NAME: usize = 200;

/// The record directory and the files sockmate created in it.
#[derive(Debug)]
pub struct RecordDir {
    dir: Option<PathBuf>,
    created: Mutex<HashSet<String>>,
}

impl RecordDir {
    /// Records go into `dir`, or into the default directory when `None`
    /// (none at all when the environment names no data directory).
    pub fn new(dir: Option<PathBuf>) -> RecordDir {
        RecordDir {
            dir: dir
                .map(|d| std::path::absolute(&d).unwrap_or(d))
                .or_else(default_dir),
            created: Mutex::new(HashSet::new()),
        }
    }

    /// The directory, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Opens the record file `name` in the directory (created if missing):
    /// its path and the file to append to, or one line naming the bad part
    /// and what to do.
    pub fn open(&self, name: &str) -> Result<(PathBuf, File), String> {
        check_name(name)?;
        let dir = self.dir.as_deref().ok_or(
            "no record directory: this system names no data directory; start with `sockmate ui --record-dir DIR`",
        )?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the record directory {}: {e}", dir.display()))?;
        let path = dir.join(name);
        let mut created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        if created.contains(name) {
            if let Ok(file) = open_append_no_follow(&path) {
                return Ok((path, file));
            }
        }
        match std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => {
                created.insert(name.to_string());
                Ok((path, file))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
                "record file \"{name}\" already exists in {} and sockmate did not create it (it never appends to another file or follows a link): give a new name",
                dir.display()
            )),
            Err(e) => Err(format!("cannot create {}: {e}", path.display())),
        }
    }
}

/// The default record directory: `sockmate` in the user's data directory.
pub fn default_dir() -> Option<PathBuf> {
    user_data_dir().map(|d| d.join("sockmate"))
}

/// Checks that `name` is a plain file name: one line naming the problem
/// and the fix when it is not.
pub fn check_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() {
        Some("it is empty")
    } else if name.contains('/') || name.contains('\\') {
        Some("it contains a folder separator")
    } else if name == "." || name == ".." {
        Some("it is \".\" or \"..\"")
    } else if name.contains('\0') {
        Some("it contains a NUL")
    } else if name.len() > MAX_NAME {
        Some("it is longer than 200 bytes")
    } else if name.starts_with('.') {
        Some("it starts with a dot (a hidden file)")
    } else {
        platform_name_refusal(name)
    };
    match problem {
        None => Ok(()),
        Some(why) => Err(format!(
            "record file \"{name}\" refused: {why}; give a file name alone (like capture.bin): it is created in the record directory"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_accepted() {
        for bad in [
            "", "/etc/x", "../x", "a/b", "..", ".", "a\\b", ".hidden", "x\0y",
        ] {
            let err = check_name(bad).unwrap_err();
            assert!(
                err.contains("refused") && err.contains("file name alone"),
                "{bad:?}: {err}"
            );
        }
        for good in ["capture.bin", "温度.log", "a..b"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_file_is_created_once_and_never_one_sockmate_did_not_make() {
        let tmp = tempfile::tempdir().unwrap();
        let records = RecordDir::new(Some(tmp.path().join("rec")));
        let (path, _) = records.open("a.bin").unwrap();
        assert_eq!(path, tmp.path().join("rec").join("a.bin"));
        // Its own file: opened again to append.
        records.open("a.bin").unwrap();
        std::fs::write(tmp.path().join("rec").join("theirs"), b"x").unwrap();
        let err = records.open("theirs").unwrap_err();
        assert!(err.contains("already exists"), "{err}");
        #[cfg(unix)]
        {
            let link = tmp.path().join("rec").join("link");
            std::os::unix::fs::symlink(tmp.path().join("target"), &link).unwrap();
            let err = records.open("link").unwrap_err();
            assert!(err.contains("already exists"), "{err}");
            assert!(!tmp.path().join("target").exists());
        }
    }
}
