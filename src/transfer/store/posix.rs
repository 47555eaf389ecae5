//! The POSIX side of [`super`]: every step relative to an open directory
//! descriptor, `O_CREAT|O_EXCL|O_NOFOLLOW` for the temporary file.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{part_name, Entry};

/// An open directory; names are looked up, created and renamed relative to
/// its descriptor, so a directory swapped for a link meanwhile is not
/// followed.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// Opens the directory `path` (a link there is followed: the user named
    /// it).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = rfs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Opens the subdirectory `name`, creating it if missing; refuses a
    /// link or anything else that is not a directory.
    pub fn child(&self, name: &str) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let path = self.path.join(name);
        let opened = match rfs::openat(&self.fd, name, flags, Mode::empty()) {
            Err(Errno::NOENT) => {
                match rfs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                rfs::openat(&self.fd, name, flags, Mode::empty())
            }
            other => other,
        };
        match opened {
            Ok(fd) => Ok(Dir { fd, path }),
            Err(Errno::LOOP | Errno::NOTDIR) => Err(io::Error::other(format!(
                "{} exists and is not a directory",
                path.display()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The directory's path, for messages and as a key.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is at `name`, if anything.
    pub fn entry(&self, name: &OsStr) -> io::Result<Option<Entry>> {
        match rfs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => Entry::File,
                FileType::Directory => Entry::Dir,
                _ => Entry::Other,
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// True when two `stat` results are of the same file (device and inode).
fn same_file(a: &rfs::Stat, b: &rfs::Stat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// The temporary file of one received file, written by this transfer.
#[derive(Debug)]
pub struct Part {
    dir: Dir,
    name: PathBuf,
    part: String,
    file: File,
    id: rfs::Stat,
}

impl Part {
    /// Creates an empty temporary file for `name` in `dir` with
    /// permissions `mode` (before the umask). Whatever is at the temporary
    /// path is removed first (a stale part, or a link, which is removed and
    /// not followed); a directory there is an error. Returns the part and
    /// a descriptor to write (and read) through.
    pub fn create(dir: Dir, name: &OsStr, mode: u32) -> io::Result<(Part, File)> {
        let part = part_name(name);
        let fd = create_fresh(&dir, &part, mode)?;
        Part::from_fd(dir, name, part, fd)
    }

    /// Reopens the temporary file of `name` to continue it: only a regular
    /// file with one link and at most `max` bytes, never through a link.
    /// Anything else there is removed and the file starts empty. Returns the
    /// part, a descriptor positioned at its end, and its length.
    pub fn resume(dir: Dir, name: &OsStr, max: u64) -> io::Result<(Part, File, u64)> {
        let part = part_name(name);
        if let Some(fd) = reopen(&dir, &part, max)? {
            let (part, mut file) = Part::from_fd(dir, name, part, fd)?;
            let len = file.seek(SeekFrom::End(0))?;
            return Ok((part, file, len));
        }
        let fd = create_fresh(&dir, &part, 0o600)?;
        let (part, file) = Part::from_fd(dir, name, part, fd)?;
        Ok((part, file, 0))
    }

    fn from_fd(dir: Dir, name: &OsStr, part: String, fd: OwnedFd) -> io::Result<(Part, File)> {
        let id = rfs::fstat(&fd)?;
        let file = File::from(fd);
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
        rfs::statat(&self.dir.fd, self.part.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| same_file(&st, &self.id))
    }

    /// Gives the file its permissions (`Some`: exactly these bits, set
    /// through its descriptor) and its final name, after checking that the
    /// temporary path still holds the file written. On failure the
    /// temporary file is removed, unless it is no longer ours.
    pub fn store(self, mode: Option<u32>) -> io::Result<()> {
        if let Some(mode) = mode {
            if let Err(e) = rfs::fchmod(self.file.as_fd(), Mode::from_raw_mode(mode & 0o777)) {
                self.discard();
                return Err(e.into());
            }
        }
        if !self.still_ours() {
            return Err(io::Error::other(format!(
                "the temporary file {} was replaced or removed while being received; nothing stored",
                self.path().display()
            )));
        }
        if let Err(e) = rfs::renameat(&self.dir.fd, self.part.as_str(), &self.dir.fd, &self.name) {
            self.discard();
            return Err(e.into());
        }
        Ok(())
    }

    /// Removes the temporary file, if its path still holds ours.
    pub fn discard(self) {
        if self.still_ours() {
            let _ = rfs::unlinkat(&self.dir.fd, self.part.as_str(), AtFlags::empty());
        }
    }
}

/// `O_CREAT|O_EXCL|O_NOFOLLOW`; an entry in the way (not a directory) is
/// removed once — unlinking a link removes the link, not its target.
fn create_fresh(dir: &Dir, part: &str, mode: u32) -> io::Result<OwnedFd> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mode = Mode::from_raw_mode(mode & 0o777);
    match rfs::openat(&dir.fd, part, flags, mode) {
        Err(Errno::EXIST) => {}
        other => return other.map_err(Into::into),
    }
    match rfs::unlinkat(&dir.fd, part, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(Errno::ISDIR | Errno::PERM) => {
            return Err(io::Error::other(format!(
                "{} is in the way of the temporary file and is not a file",
                dir.path.join(part).display()
            )))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(rfs::openat(&dir.fd, part, flags, mode)?)
}

/// The existing temporary file, if it is safe to continue: a regular file
/// (opened without following a link, non-blocking so a FIFO cannot hold us)
/// with one link and at most `max` bytes. Anything else is left for
/// [`create_fresh`] to remove.
fn reopen(dir: &Dir, part: &str, max: u64) -> io::Result<Option<OwnedFd>> {
    let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rfs::openat(&dir.fd, part, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT | Errno::LOOP | Errno::ISDIR | Errno::NXIO | Errno::ACCESS) => {
            return Ok(None)
        }
        Err(e) => return Err(e.into()),
    };
    let st = rfs::fstat(&fd)?;
    let usable = FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
        && st.st_nlink == 1
        && u64::try_from(st.st_size).is_ok_and(|len| len <= max);
    if !usable {
        return Ok(None);
    }
    // Back to blocking writes (O_NONBLOCK was only for the open).
    rfs::fcntl_setfl(&fd, rfs::fcntl_getfl(&fd)? - OFlags::NONBLOCK)?;
    Ok(Some(fd))
}
