//! Writing generated text (completions, pages, the version) to stdout,
//! where a reader that stops early (`sockmate man | head`) is not an error.

use std::io::Write;

/// Writes `bytes` to stdout and flushes; a closed pipe ends quietly.
pub fn stdout_all(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if !crate::sys::os_error::is_broken_pipe(&e) => Err(e.into()),
        _ => Ok(()),
    }
}
