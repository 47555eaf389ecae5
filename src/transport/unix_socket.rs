//! The Unix-domain socket types the transport uses: tokio's on Unix; on
//! Windows, where tokio has none, uninhabited stand-ins (no value of them
//! can exist), so the transport's code is the same on both and its Unix
//! arms simply cannot be reached there. `unix://`, `unix-dgram://` and
//! `unix-seqpacket://` endpoints are refused when parsed on Windows
//! ([`crate::sys::unsupported`]); a stand-in's constructor says so too.

#[cfg(unix)]
pub use tokio::net::unix::{OwnedReadHalf as UnixReadHalf, OwnedWriteHalf as UnixWriteHalf};
#[cfg(unix)]
pub use tokio::net::{UnixDatagram, UnixListener, UnixStream};

#[cfg(windows)]
pub use absent::{UnixDatagram, UnixListener, UnixReadHalf, UnixStream, UnixWriteHalf};

/// The stand-ins: uninhabited enums whose methods match on `*self` (which
/// has no cases) and whose constructors return an "unsupported" error.
#[cfg(windows)]
mod absent {
    use std::io;
    use std::os::windows::io::{AsSocket, BorrowedSocket};

    use bytes::BytesMut;
    use tokio::io::Interest;

    /// The error every stand-in constructor returns.
    pub(crate) fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            crate::sys::unsupported::refusal("Unix-domain sockets", "use tcp:// on 127.0.0.1"),
        )
    }

    /// What a socket becomes on its way to a stand-in (nothing: the
    /// stand-ins refuse it).
    pub struct StdUnixSocket;

    impl From<socket2::Socket> for StdUnixSocket {
        fn from(_: socket2::Socket) -> Self {
            StdUnixSocket
        }
    }

    /// A Unix stream socket (none on Windows).
    #[derive(Debug)]
    pub enum UnixStream {}
    /// The reading half of a [`UnixStream`].
    #[derive(Debug)]
    pub enum UnixReadHalf {}
    /// The writing half of a [`UnixStream`].
    #[derive(Debug)]
    pub enum UnixWriteHalf {}
    /// A Unix stream listener (none on Windows).
    #[derive(Debug)]
    pub enum UnixListener {}
    /// A Unix datagram socket (none on Windows).
    #[derive(Debug)]
    pub enum UnixDatagram {}

    /// The credentials of a Unix peer (never any on Windows).
    pub struct Credentials;

    impl Credentials {
        /// The peer's process id.
        pub fn pid(&self) -> Option<i32> {
            None
        }
    }

    impl UnixStream {
        /// Always refused on Windows.
        pub fn from_std(_: StdUnixSocket) -> io::Result<UnixStream> {
            Err(unsupported())
        }
        pub fn into_split(self) -> (UnixReadHalf, UnixWriteHalf) {
            match self {}
        }
        pub async fn readable(&self) -> io::Result<()> {
            match *self {}
        }
        pub async fn writable(&self) -> io::Result<()> {
            match *self {}
        }
        pub fn try_read_buf(&self, _: &mut BytesMut) -> io::Result<usize> {
            match *self {}
        }
        pub fn try_write(&self, _: &[u8]) -> io::Result<usize> {
            match *self {}
        }
        pub async fn ready(&self, _: Interest) -> io::Result<tokio::io::Ready> {
            match *self {}
        }
        pub fn try_io<R>(&self, _: Interest, _: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
            match *self {}
        }
        pub fn peer_cred(&self) -> io::Result<Credentials> {
            match *self {}
        }
    }

    impl AsSocket for UnixStream {
        fn as_socket(&self) -> BorrowedSocket<'_> {
            match *self {}
        }
    }

    crate::sys::absent::absent_async_io!(read: UnixStream, UnixReadHalf; write: UnixStream, UnixWriteHalf);

    impl AsRef<UnixStream> for UnixReadHalf {
        fn as_ref(&self) -> &UnixStream {
            match *self {}
        }
    }

    impl AsRef<UnixStream> for UnixWriteHalf {
        fn as_ref(&self) -> &UnixStream {
            match *self {}
        }
    }

    impl UnixListener {
        /// Always refused on Windows.
        pub fn from_std(_: StdUnixSocket) -> io::Result<UnixListener> {
            Err(unsupported())
        }
        pub async fn accept(&self) -> io::Result<(UnixStream, ())> {
            match *self {}
        }
    }

    impl UnixDatagram {
        /// Always refused on Windows.
        pub fn from_std(_: StdUnixSocket) -> io::Result<UnixDatagram> {
            Err(unsupported())
        }
        pub async fn recv_from(&self, _: &mut [u8]) -> io::Result<(usize, UnixSocketAddr)> {
            match *self {}
        }
        pub async fn recv(&self, _: &mut [u8]) -> io::Result<usize> {
            match *self {}
        }
        pub async fn send(&self, _: &[u8]) -> io::Result<usize> {
            match *self {}
        }
        pub async fn async_io<R>(
            &self,
            _: Interest,
            _: impl FnMut() -> io::Result<R>,
        ) -> io::Result<R> {
            match *self {}
        }
    }

    impl AsSocket for UnixDatagram {
        fn as_socket(&self) -> BorrowedSocket<'_> {
            match *self {}
        }
    }

    /// The address a Unix datagram came from (none on Windows).
    pub enum UnixSocketAddr {}

    impl UnixSocketAddr {
        pub fn as_abstract_name(&self) -> Option<&[u8]> {
            match *self {}
        }
        pub fn as_pathname(&self) -> Option<&std::path::Path> {
            match *self {}
        }
    }
}
