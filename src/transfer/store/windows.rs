//! The Windows side of [`super`]. Windows has no `openat`: names are
//! joined to the directory's path, and the directory is held open without
//! `FILE_SHARE_DELETE`, so it cannot be renamed, removed or swapped for a
//! link while we use it. Every entry is opened with
//! `FILE_FLAG_OPEN_REPARSE_POINT` (a symbolic link or junction is opened
//! as itself, never followed), the temporary file is created with
//! `CREATE_NEW`, and the final rename replaces atomically
//! (`MoveFileExW` with `MOVEFILE_REPLACE_EXISTING`, which replaces a link
//! at the final name, not its target).

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use windows_sys::Win32::Storage::FileSystem::{
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT,
    FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
};

use super::{part_name, Entry};
use crate::sys::win::{file_identity, FileIdentity};

/// True when `meta` is a reparse point (a symbolic link or junction).
fn is_reparse_point(meta: &std::fs::Metadata) -> bool {
    meta.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0
}

/// Opens the directory `path` for as long as we use it: others may read
/// and write in it, but not rename or remove it. `follow`: whether a link
/// at `path` is followed (the user's `--dir`) or opened as itself.
fn open_dir(path: &Path, follow: bool) -> io::Result<File> {
    let flags = if follow {
        FILE_FLAG_BACKUP_SEMANTICS
    } else {
        FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT
    };
    OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .custom_flags(flags)
        .open(path)
}

/// An open directory; names are looked up, created and renamed inside it
/// while it is held open (so it cannot be swapped for a link meanwhile).
#[derive(Debug)]
pub struct Dir {
    _handle: File,
    path: PathBuf,
}

impl Dir {
    /// Opens the directory `path` (a link there is followed: the user named
    /// it).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let handle = open_dir(path, true)?;
        if !handle.metadata()?.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                path.display()
            )));
        }
        Ok(Dir {
            _handle: handle,
            path: path.to_path_buf(),
        })
    }

    /// Opens the subdirectory `name`, creating it if missing; refuses a
    /// link, a junction or anything else that is not a directory.
    pub fn child(&self, name: &str) -> io::Result<Dir> {
        let path = self.path.join(name);
        let opened = match open_dir(&path, false) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match std::fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
                open_dir(&path, false)
            }
            other => other,
        };
        let not_a_dir =
            || io::Error::other(format!("{} exists and is not a directory", path.display()));
        let handle = opened.map_err(|e| match e.kind() {
            io::ErrorKind::NotADirectory => not_a_dir(),
            _ => e,
        })?;
        let meta = handle.metadata()?;
        if !meta.is_dir() || is_reparse_point(&meta) {
            return Err(not_a_dir());
        }
        Ok(Dir {
            _handle: handle,
            path,
        })
    }

    /// The directory's path, for messages and as a key.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is at `name`, if anything.
    pub fn entry(&self, name: &OsStr) -> io::Result<Option<Entry>> {
        match std::fs::symlink_metadata(self.path.join(name)) {
            Ok(meta) if is_reparse_point(&meta) => Ok(Some(Entry::Other)),
            Ok(meta) if meta.is_dir() => Ok(Some(Entry::Dir)),
            Ok(meta) if meta.is_file() => Ok(Some(Entry::File)),
            Ok(_) => Ok(Some(Entry::Other)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The identity of what is at `path` now, not following a link.
fn identity_at(path: &Path) -> io::Result<FileIdentity> {
    let file = OpenOptions::new()
        .access_mode(FILE_READ_ATTRIBUTES)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)?;
    file_identity(&file)
}

/// The temporary file of one received file, written by this transfer.
#[derive(Debug)]
pub struct Part {
    dir: Dir,
    name: PathBuf,
    part: String,
    file: File,
    id: FileIdentity,
}

impl Part {
    /// Creates an empty temporary file for `name` in `dir` with
    /// permissions `mode` (Windows keeps only "read-only", applied when the
    /// file is stored). Whatever is at the temporary path is removed first
    /// (a stale part, or a link, which is removed and not followed); a
    /// directory there is an error. Returns the part and a handle to write
    /// (and read) through.
    pub fn create(dir: Dir, name: &OsStr, _mode: u32) -> io::Result<(Part, File)> {
        let part = part_name(name);
        let file = create_fresh(&dir, &part)?;
        Part::from_file(dir, name, part, file)
    }

    /// Reopens the temporary file of `name` to continue it: only a regular
    /// file with one link and at most `max` bytes, never through a link.
    /// Anything else there is removed and the file starts empty. Returns the
    /// part, a handle positioned at its end, and its length.
    pub fn resume(dir: Dir, name: &OsStr, max: u64) -> io::Result<(Part, File, u64)> {
        let part = part_name(name);
        if let Some(file) = reopen(&dir, &part, max)? {
            let (part, mut file) = Part::from_file(dir, name, part, file)?;
            let len = file.seek(SeekFrom::End(0))?;
            return Ok((part, file, len));
        }
        let file = create_fresh(&dir, &part)?;
        let (part, file) = Part::from_file(dir, name, part, file)?;
        Ok((part, file, 0))
    }

    fn from_file(dir: Dir, name: &OsStr, part: String, file: File) -> io::Result<(Part, File)> {
        let id = file_identity(&file)?;
        let writer = file.try_clone()?;
        Ok((
            Part {
                dir,
                name: PathBuf::from(name),
                part,
                file,
                id,
            },
            writer,
        ))
    }

    /// The temporary file's path, for messages.
    pub fn path(&self) -> PathBuf {
        self.dir.path.join(&self.part)
    }

    /// The final path, for messages.
    pub fn target(&self) -> PathBuf {
        self.dir.path.join(&self.name)
    }

    /// True while the temporary path holds the file this transfer wrote.
    fn still_ours(&self) -> bool {
        identity_at(&self.path())
            .is_ok_and(|id| id.volume == self.id.volume && id.index == self.id.index)
    }

    /// Gives the file its permissions (`Some`: read-only when the mode has
    /// no write bit for its owner, set through its handle) and its final
    /// name, replacing what is there, after checking that the temporary
    /// path still holds the file written. On failure the temporary file is
    /// removed, unless it is no longer ours.
    pub fn store(self, mode: Option<u32>) -> io::Result<()> {
        if !self.still_ours() {
            return Err(io::Error::other(format!(
                "the temporary file {} was replaced or removed while being received; nothing stored",
                self.path().display()
            )));
        }
        if let Err(e) = std::fs::rename(self.path(), self.target()) {
            self.discard();
            return Err(e);
        }
        if let Some(mode) = mode.filter(|m| m & 0o200 == 0) {
            let _ = mode;
            let mut perms = self.file.metadata()?.permissions();
            perms.set_readonly(true);
            self.file.set_permissions(perms)?;
        }
        Ok(())
    }

    /// Removes the temporary file, if its path still holds ours.
    pub fn discard(self) {
        if self.still_ours() {
            let _ = std::fs::remove_file(self.path());
        }
    }
}

/// The options of every open of a temporary file: read and write, never
/// through a link, shared so it can be renamed while open.
fn part_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    options
}

/// `CREATE_NEW` without following a link; an entry in the way (not a
/// directory) is removed once: removing a link or junction removes the
/// link, not its target.
fn create_fresh(dir: &Dir, part: &str) -> io::Result<File> {
    let path = dir.path.join(part);
    match part_options().create_new(true).open(&path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        other => return other,
    }
    let in_the_way = || {
        io::Error::other(format!(
            "{} is in the way of the temporary file and is not a file",
            path.display()
        ))
    };
    match std::fs::symlink_metadata(&path) {
        // A junction or directory link: remove the link itself.
        Ok(meta) if is_reparse_point(&meta) && meta.is_dir() => {
            std::fs::remove_dir(&path).map_err(|_| in_the_way())?
        }
        Ok(meta) if meta.is_dir() => return Err(in_the_way()),
        Ok(_) => std::fs::remove_file(&path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    part_options().create_new(true).open(&path)
}

/// The existing temporary file, if it is safe to continue: a regular file
/// (opened as itself, not through a link) with one link and at most `max`
/// bytes. Anything else is left for [`create_fresh`] to remove.
fn reopen(dir: &Dir, part: &str, max: u64) -> io::Result<Option<File>> {
    let file = match part_options().open(dir.path.join(part)) {
        Ok(file) => file,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::PermissionDenied
                    | io::ErrorKind::IsADirectory
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let usable = meta.is_file()
        && !is_reparse_point(&meta)
        && file_identity(&file)?.links == 1
        && meta.len() <= max;
    Ok(usable.then_some(file))
}
