//! The Windows calls behind [`super`]'s portable functions: the only place
//! in the crate with `unsafe` code, each block one documented system call
//! on handles we own or borrow for its duration.

#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, IntoRawHandle, OwnedHandle, RawHandle};

use windows_sys::Win32::Foundation::CloseHandle;
use windows_sys::Win32::NetworkManagement::IpHelper::{if_indextoname, if_nametoindex};
use windows_sys::Win32::Storage::FileSystem::{GetFileType, FILE_TYPE_CHAR};
use windows_sys::Win32::System::Console::{
    GenerateConsoleCtrlEvent, GetConsoleMode, GetStdHandle, SetStdHandle, CTRL_C_EVENT,
    STD_OUTPUT_HANDLE,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};

/// A Job Object holding a command and everything it starts; closing it
/// (drop) ends them all.
#[derive(Debug)]
pub struct Job(OwnedHandle);

impl Job {
    /// A new job, set to end its processes when closed, with `process`
    /// (a live child's handle) in it.
    pub fn with_process(process: RawHandle) -> io::Result<Job> {
        // SAFETY: no name and default security; the returned handle is
        // checked and then owned.
        let raw = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if raw.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh job handle that nothing else owns.
        let job = Job(unsafe { OwnedHandle::from_raw_handle(raw) });
        // SAFETY: an all-zero limit structure is valid; one flag is set.
        let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        // SAFETY: the pointer and size describe `limits`, alive for the call.
        let set = unsafe {
            SetInformationJobObject(
                job.0.as_raw_handle(),
                JobObjectExtendedLimitInformation,
                std::ptr::from_ref(&limits).cast(),
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        };
        if set == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both handles are valid for the call (the child's is
        // borrowed from tokio's `Child`, alive until it is reaped).
        if unsafe { AssignProcessToJobObject(job.0.as_raw_handle(), process) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(job)
    }

    /// Ends every process in the job, then closes it.
    pub fn terminate(self) {
        // SAFETY: the job handle is ours and valid.
        unsafe {
            TerminateJobObject(self.0.as_raw_handle(), 1);
        }
    }
}

/// Sends Ctrl-C to the processes of our console (ourselves included), as
/// typing it would.
pub fn console_ctrl_c() {
    // SAFETY: no pointers; group 0 is the whole console.
    unsafe {
        GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
    }
}

/// Points the process's standard output at `file` and closes the handle
/// it had, so the pipe or file behind it is released. Rust's `stdout()`
/// looks the handle up on every write, so later writes go to `file`.
pub fn replace_stdout(file: File) -> io::Result<()> {
    // SAFETY: reading the process's standard handle table.
    let old = unsafe { GetStdHandle(STD_OUTPUT_HANDLE) };
    let new = file.into_raw_handle();
    // SAFETY: `new` is a valid handle whose ownership passes to the
    // process's standard handle table.
    if unsafe { SetStdHandle(STD_OUTPUT_HANDLE, new) } == 0 {
        let e = io::Error::last_os_error();
        // SAFETY: `new` was not taken; it is still ours to close.
        unsafe { CloseHandle(new) };
        return Err(e);
    }
    if !old.is_null() && old as isize != -1 {
        // SAFETY: the old standard handle is no longer in the table and
        // every copy we use was duplicated from it.
        unsafe { CloseHandle(old) };
    }
    Ok(())
}

/// True for the null device: a character device that is not a console.
pub fn is_null_device(file: &File) -> bool {
    let handle = file.as_raw_handle();
    // SAFETY: `handle` is borrowed from `file` for the duration of the calls.
    unsafe {
        let mut mode = 0u32;
        GetFileType(handle) == FILE_TYPE_CHAR && GetConsoleMode(handle, &mut mode) == 0
    }
}

/// Who a file is (its volume and index) and how many names it has, from
/// `GetFileInformationByHandle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    /// The volume's serial number.
    pub volume: u32,
    /// The file's index on the volume.
    pub index: u64,
    /// Its hard links.
    pub links: u32,
}

/// The identity of the file open as `file`.
pub fn file_identity(file: &File) -> io::Result<FileIdentity> {
    use windows_sys::Win32::Storage::FileSystem::{
        GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION,
    };
    // SAFETY: an all-zero information structure is valid to be filled.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is borrowed from `file` for the call and `info`
    // is a valid place to write.
    if unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(FileIdentity {
        volume: info.dwVolumeSerialNumber,
        index: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
        links: info.nNumberOfLinks,
    })
}

/// Sets the console's output code page to UTF-8 and returns the one it
/// had, when it was another.
pub fn set_console_utf8() -> Option<u32> {
    use windows_sys::Win32::System::Console::{GetConsoleOutputCP, SetConsoleOutputCP};
    const UTF8: u32 = 65001;
    // SAFETY: no pointers; reads and sets a console property.
    unsafe {
        let previous = GetConsoleOutputCP();
        (previous != 0 && previous != UTF8 && SetConsoleOutputCP(UTF8) != 0).then_some(previous)
    }
}

/// Sets the console's output code page back to `code_page`.
pub fn set_console_code_page(code_page: u32) {
    use windows_sys::Win32::System::Console::SetConsoleOutputCP;
    // SAFETY: no pointers; sets a console property.
    unsafe {
        SetConsoleOutputCP(code_page);
    }
}

/// Interface indexes tried when listing names.
const MAX_INDEX: u32 = 256;

/// `IF_MAX_STRING_SIZE` + 1.
const NAME_BUFFER: usize = 257;

/// The index of the network interface `name` (`if_nametoindex`).
pub fn interface_index(name: &str) -> io::Result<u32> {
    let text = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the name"))?;
    // SAFETY: `text` is a NUL-terminated string that outlives the call.
    match unsafe { if_nametoindex(text.as_ptr().cast()) } {
        0 => Err(io::Error::new(io::ErrorKind::NotFound, "no such interface")),
        n => Ok(n),
    }
}

/// The names of the network interfaces, by index (`if_indextoname`).
pub fn interface_names() -> Vec<String> {
    let mut out = Vec::new();
    for i in 1..=MAX_INDEX {
        let mut buf = [0u8; NAME_BUFFER];
        // SAFETY: the buffer holds IF_MAX_STRING_SIZE + 1 bytes, as the
        // call requires; it writes a NUL-terminated name or returns null.
        let got = unsafe { if_indextoname(i, buf.as_mut_ptr()) };
        if got.is_null() {
            continue;
        }
        if let Ok(name) = CStr::from_bytes_until_nul(&buf) {
            out.push(name.to_string_lossy().into_owned());
        }
    }
    out
}
