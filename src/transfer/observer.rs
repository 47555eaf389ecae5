//! How a transfer tells the front-end what it does: status and error lines
//! and each file's progress. The transfer never prints; the command line
//! shows a bar or JSON events (`cli::transfer_view`), a UI could show its
//! own.

use super::header::DIGEST_LEN;

/// Receives what a transfer does; shared by every file of a command and
/// safe to use from many tasks.
pub trait Observer: Send + Sync {
    /// A status line (e.g. `listening on …`).
    fn status(&self, line: &str);

    /// An error, of one file or of the whole transfer.
    fn error(&self, file: Option<&str>, message: &str);

    /// One file starts: `verb` is `sent` or `received`, `offset` where a
    /// resumed transfer starts.
    fn start_file(
        &self,
        verb: &'static str,
        name: &str,
        size: Option<u64>,
        offset: u64,
        peer: &str,
    ) -> Box<dyn FileObserver + '_>;
}

/// One file's progress; ended by [`FileObserver::finish`] or
/// [`FileObserver::fail`].
pub trait FileObserver: Send {
    /// `n` more bytes moved.
    fn advance(&mut self, n: u64);

    /// Bytes so far (including a resumed prefix).
    fn done(&self) -> u64;

    /// Ended with success; `checked` says whether the digest was compared
    /// with the peer's.
    fn finish(self: Box<Self>, digest: &[u8; DIGEST_LEN], checked: bool);

    /// Ended with a failure (the caller reports the error).
    fn fail(self: Box<Self>);
}
