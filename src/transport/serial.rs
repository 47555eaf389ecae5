//! [`SerialPort`]: a serial device opened non-blocking, set to raw mode with
//! the endpoint's line settings through termios (rustix), and driven by
//! tokio's reactor through `AsyncFd`. No libudev: the port is named by its
//! path. A serial line has no end of stream: our half-close leaves the
//! line open.
//!
//! The descriptor is registered with tokio's reactor through its pipe
//! types (`from_owned_fd_unchecked`: a character device reads and writes
//! like a FIFO end), once for reading and once, duplicated, for writing;
//! that keeps the registration free of `unsafe`.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use rustix::fs::{Mode, OFlags};
use rustix::termios::{self, ControlModes, InputModes, OptionalActions};
use tokio::io::ReadBuf;
use tokio::net::unix::pipe;

use crate::endpoint::serial::{Flow, Parity};
use crate::endpoint::SerialSpec;

/// An open serial port.
#[derive(Debug)]
pub struct SerialPort {
    rx: pipe::Receiver,
    tx: pipe::Sender,
}

impl SerialPort {
    /// Opens `spec.path` and applies its line settings.
    pub fn open(spec: &SerialSpec) -> io::Result<SerialPort> {
        let fd = rustix::fs::open(
            &spec.path,
            OFlags::RDWR | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut tio = termios::tcgetattr(&fd).map_err(|e| {
            if e == rustix::io::Errno::NOTTY {
                io::Error::new(io::ErrorKind::InvalidInput, "not a serial port or terminal")
            } else {
                e.into()
            }
        })?;
        tio.make_raw();
        tio.set_speed(spec.baud)?;
        let cm = &mut tio.control_modes;
        cm.remove(ControlModes::CSIZE | ControlModes::PARENB | ControlModes::PARODD);
        cm.remove(ControlModes::CSTOPB | ControlModes::CRTSCTS);
        cm.insert(ControlModes::CREAD | ControlModes::CLOCAL);
        cm.insert(match spec.data {
            5 => ControlModes::CS5,
            6 => ControlModes::CS6,
            7 => ControlModes::CS7,
            _ => ControlModes::CS8,
        });
        match spec.parity {
            Parity::None => {}
            Parity::Even => cm.insert(ControlModes::PARENB),
            Parity::Odd => cm.insert(ControlModes::PARENB | ControlModes::PARODD),
        }
        if spec.stop == 2 {
            cm.insert(ControlModes::CSTOPB);
        }
        tio.input_modes
            .remove(InputModes::IXON | InputModes::IXOFF | InputModes::INPCK);
        match spec.flow {
            Flow::None => {}
            Flow::Hardware => tio.control_modes.insert(ControlModes::CRTSCTS),
            Flow::Software => tio.input_modes.insert(InputModes::IXON | InputModes::IXOFF),
        }
        if spec.parity != Parity::None {
            tio.input_modes.insert(InputModes::INPCK);
        }
        termios::tcsetattr(&fd, OptionalActions::Now, &tio)?;
        let writer = fd.try_clone()?;
        Ok(SerialPort {
            rx: pipe::Receiver::from_owned_fd_unchecked(fd)?,
            tx: pipe::Sender::from_owned_fd_unchecked(writer)?,
        })
    }

    /// Reads what is waiting into `buf` (at most `max` bytes), growing the
    /// buffer only once data is there. A device that went away (a closed
    /// pty or an unplugged adapter reads as `EIO`, or as nothing) is an
    /// error: a serial line has no end of stream.
    pub async fn read_some(&self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        loop {
            self.rx.readable().await?;
            let had_memory = buf.capacity() > 0;
            let start = buf.len();
            buf.resize(start + max, 0);
            match self.rx.try_read(&mut buf[start..]) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    buf.truncate(start);
                    super::stream::release_if_new(buf, had_memory);
                }
                result => {
                    let n = gone_on_eio(result, max);
                    buf.truncate(start + *n.as_ref().unwrap_or(&0));
                    return n;
                }
            }
        }
    }

    /// Writes all of `data`, waiting whenever the output queue is full.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            self.tx.writable().await?;
            match self.tx.try_write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Our end of the conversation: the line stays open (a serial port has
    /// no half-close), so nothing is sent.
    pub fn shutdown_write(&self) -> io::Result<()> {
        Ok(())
    }

    /// `AsyncRead` through a shared reference (both halves hold the port).
    pub fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.rx.poll_read_ready(cx))?;
            match self.rx.try_read(buf.initialize_unfilled()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => {
                    let n = gone_on_eio(result, buf.remaining())?;
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }

    /// `AsyncWrite` through a shared reference.
    pub fn poll_write_shared(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.tx.poll_write_ready(cx))?;
            match self.tx.try_write(data) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

impl AsFd for SerialPort {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.rx.as_fd()
    }
}

/// `EIO` on a tty, or nothing read into room for `max` bytes, means the
/// device is gone: an error, as a serial line has no end of stream.
fn gone_on_eio(result: io::Result<usize>, max: usize) -> io::Result<usize> {
    match result {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => {
            Err(super::serial_io::device_gone())
        }
        Ok(0) if max > 0 => Err(super::serial_io::device_gone()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vanished_device_is_an_error_not_an_end() {
        let eio = io::Error::from_raw_os_error(rustix::io::Errno::IO.raw_os_error());
        let err = gone_on_eio(Err(eio), 16).unwrap_err();
        assert!(err.to_string().contains("went away"), "{err}");
        assert!(gone_on_eio(Ok(0), 16).is_err());
        assert_eq!(gone_on_eio(Ok(0), 0).unwrap(), 0);
        assert_eq!(gone_on_eio(Ok(5), 16).unwrap(), 5);
    }
}
