//! Stand-ins for what a platform lacks: uninhabited types (no value of
//! them can exist) whose trait methods match on `*self`, which has no
//! cases. Their constructors refuse with the platform's one-line reason.

/// Implements tokio's `AsyncRead` and `AsyncWrite` for uninhabited
/// stand-ins (`read:` types, `write:` types).
macro_rules! absent_async_io {
    (read: $($reader:ty),* ; write: $($writer:ty),*) => {
        $(
            impl tokio::io::AsyncRead for $reader {
                fn poll_read(
                    self: std::pin::Pin<&mut Self>,
                    _: &mut std::task::Context<'_>,
                    _: &mut tokio::io::ReadBuf<'_>,
                ) -> std::task::Poll<std::io::Result<()>> {
                    match *self {}
                }
            }
        )*
        $(
            impl tokio::io::AsyncWrite for $writer {
                fn poll_write(
                    self: std::pin::Pin<&mut Self>,
                    _: &mut std::task::Context<'_>,
                    _: &[u8],
                ) -> std::task::Poll<std::io::Result<usize>> {
                    match *self {}
                }
                fn poll_flush(
                    self: std::pin::Pin<&mut Self>,
                    _: &mut std::task::Context<'_>,
                ) -> std::task::Poll<std::io::Result<()>> {
                    match *self {}
                }
                fn poll_shutdown(
                    self: std::pin::Pin<&mut Self>,
                    _: &mut std::task::Context<'_>,
                ) -> std::task::Poll<std::io::Result<()>> {
                    match *self {}
                }
            }
        )*
    };
}

pub(crate) use absent_async_io;
