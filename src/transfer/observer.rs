//! How a transfer tells the front-end what it does: status and error lines
//! and each file's progress. The transfer never prints; the command line
//! shows a bar or JSON events (`cli::transfer_view`), a UI could show its
//! own.

use super::digest::Digest;

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

    /// Ended with success. `digest` is the file's digest (`None` when it
    /// was not computed: `--raw` without `--sha256` or `--digest`);
    /// `checked` says whether it was compared with the peer's.
    fn finish(self: Box<Self>, digest: Option<&Digest>, checked: bool);

    /// Ended with a failure (the caller reports the error).
    fn fail(self: Box<Self>);
}

/// `text` made safe for a terminal line: control characters (C0, DEL, C1:
/// ESC sequences, newlines, carriage returns) and bidirectional overrides
/// are written as escapes (`\n`, `\r`, `\t`, `\x1b`, `\u{9b}`), so a
/// received file name can neither move the cursor nor fake a line. For
/// human-facing lines only; JSON keeps the exact text.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && unsafe_char(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("report.pdf"), "report.pdf");
        assert_eq!(
            printable("a\x1b[2Jb\nc\rd\te\u{9b}f\u{202e}g\x7f"),
            r"a\x1b[2Jb\nc\rd\te\u{9b}f\u{202e}g\x7f"
        );
    }
}
