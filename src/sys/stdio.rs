//! Our own handles on standard input and output, and closing stdout early
//! (so a reader downstream sees end-of-file while the program goes on).

use std::fs::File;
use std::io;

/// A handle on stdin that reads unbuffered.
pub fn stdin_file() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        io::stdin().as_fd().try_clone_to_owned().map(File::from)
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        io::stdin().as_handle().try_clone_to_owned().map(File::from)
    }
}

/// Widens the pipe behind `file` (stdin, when a program pipes into us) to
/// `size` bytes, so a bulk producer and our reader wake each other less
/// often: the default 64 KiB pipe holds half of one 128 KiB read. A file,
/// a terminal or a socket is left alone, and so is a pipe the system will
/// not widen.
pub fn widen_if_pipe(file: &File, size: usize) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::fs::FileTypeExt;
        if file.metadata().is_ok_and(|m| m.file_type().is_fifo()) {
            let _ = rustix::pipe::fcntl_setpipe_size(file, size);
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (file, size);
}

/// A handle on stdout that writes unbuffered.
pub fn stdout_file() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        io::stdout().as_fd().try_clone_to_owned().map(File::from)
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        io::stdout()
            .as_handle()
            .try_clone_to_owned()
            .map(File::from)
    }
}

/// Makes stdout point at the null device. With our own duplicate dropped
/// as well, the pipe or file behind stdout is released and its reader sees
/// EOF, while stdout stays valid (a stray print can never reach a reused
/// descriptor).
pub fn release_stdout() -> io::Result<()> {
    #[cfg(unix)]
    {
        let null = File::options().write(true).open("/dev/null")?;
        rustix::stdio::dup2_stdout(&null)?;
        Ok(())
    }
    #[cfg(windows)]
    {
        let null = File::options().write(true).open("NUL")?;
        super::win::replace_stdout(null)
    }
}

/// True when `file` is the null device (writing to it would be wasted
/// work).
pub fn is_null_device(file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let (Ok(ours), Ok(null)) = (file.metadata(), std::fs::metadata("/dev/null")) else {
            return false;
        };
        ours.file_type().is_char_device() && ours.rdev() == null.rdev()
    }
    #[cfg(windows)]
    {
        super::win::is_null_device(file)
    }
}

/// True when stdout is a console or terminal (the views then write text
/// through the console's own text path on Windows; see docs/windows.md).
pub fn stdout_is_console() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal()
}

/// While alive, a Windows console shows what we write as UTF-8 (code page
/// 65001); the code page it had comes back when this is dropped. Nothing
/// on other platforms, or when stdout is not a console.
#[derive(Debug)]
pub struct Utf8Console {
    #[cfg(windows)]
    previous: Option<u32>,
}

impl Utf8Console {
    /// Switches the console to UTF-8 when `text` (our output is UTF-8 text)
    /// and stdout is a console.
    pub fn when(text: bool) -> Utf8Console {
        #[cfg(windows)]
        {
            let previous = (text && stdout_is_console())
                .then(super::win::set_console_utf8)
                .flatten();
            Utf8Console { previous }
        }
        #[cfg(not(windows))]
        {
            let _ = text;
            Utf8Console {}
        }
    }
}

impl Drop for Utf8Console {
    fn drop(&mut self) {
        #[cfg(windows)]
        if let Some(code_page) = self.previous.take() {
            super::win::set_console_code_page(code_page);
        }
    }
}
