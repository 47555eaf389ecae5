//! [`SerialPort`] on Windows: a COM port opened and set up through the
//! `serialport` crate (`serial://COM3?baud=115200`). Windows has no
//! readiness for a COM port that tokio's reactor could wait on, so one
//! thread reads the port (a short read timeout lets it notice the port was
//! closed) and hands chunks over a bounded channel; writes run on tokio's
//! blocking pool. A serial line has no end of stream: our half-close
//! leaves the line open.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::ReadBuf;
use tokio::sync::mpsc;

use crate::endpoint::serial::{Flow, Parity};
use crate::endpoint::SerialSpec;

/// How long one read of the port waits before the reading thread checks
/// that someone still listens.
const READ_POLL: Duration = Duration::from_millis(200);

/// Chunks read ahead of the program.
const READ_AHEAD: usize = 8;

/// Bytes per read of the port.
const READ_CHUNK: usize = 16 * 1024;

type Port = Box<dyn serialport::SerialPort>;

/// An open serial port.
pub struct SerialPort {
    incoming: Mutex<Incoming>,
    writer: Arc<Mutex<Port>>,
}

struct Incoming {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    pending: Bytes,
    ended: bool,
}

impl std::fmt::Debug for SerialPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SerialPort")
    }
}

fn to_io(e: serialport::Error) -> io::Error {
    let kind = match e.kind() {
        serialport::ErrorKind::NoDevice => io::ErrorKind::NotFound,
        serialport::ErrorKind::InvalidInput => io::ErrorKind::InvalidInput,
        serialport::ErrorKind::Io(kind) => kind,
        serialport::ErrorKind::Unknown => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.description)
}

impl SerialPort {
    /// Opens `spec.path` (`COM3`, or `\\.\COM10`) and applies its line
    /// settings.
    pub fn open(spec: &SerialSpec) -> io::Result<SerialPort> {
        let name = spec.path.to_string_lossy().into_owned();
        let port = serialport::new(name, spec.baud)
            .data_bits(match spec.data {
                5 => serialport::DataBits::Five,
                6 => serialport::DataBits::Six,
                7 => serialport::DataBits::Seven,
                _ => serialport::DataBits::Eight,
            })
            .parity(match spec.parity {
                Parity::None => serialport::Parity::None,
                Parity::Even => serialport::Parity::Even,
                Parity::Odd => serialport::Parity::Odd,
            })
            .stop_bits(if spec.stop == 2 {
                serialport::StopBits::Two
            } else {
                serialport::StopBits::One
            })
            .flow_control(match spec.flow {
                Flow::None => serialport::FlowControl::None,
                Flow::Hardware => serialport::FlowControl::Hardware,
                Flow::Software => serialport::FlowControl::Software,
            })
            .timeout(READ_POLL)
            .open()
            .map_err(to_io)?;
        let reader = port.try_clone().map_err(to_io)?;
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        std::thread::Builder::new()
            .name("serial".into())
            .spawn(move || read_port(reader, tx))?;
        Ok(SerialPort {
            incoming: Mutex::new(Incoming {
                chunks: rx,
                pending: Bytes::new(),
                ended: false,
            }),
            writer: Arc::new(Mutex::new(port)),
        })
    }

    /// Takes what has arrived into `out` (at most `max` bytes), or says
    /// it is not there yet; an error once the device went away (a serial
    /// line has no end of stream).
    fn poll_take(
        &self,
        cx: &mut Context<'_>,
        max: usize,
        out: &mut dyn FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut incoming = match self.incoming.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        loop {
            if !incoming.pending.is_empty() {
                let n = incoming.pending.len().min(max);
                out(&incoming.pending[..n]);
                incoming.pending.advance(n);
                return Poll::Ready(Ok(n));
            }
            if incoming.ended {
                return Poll::Ready(Ok(0));
            }
            match incoming.chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => incoming.pending = chunk,
                Poll::Ready(Some(Err(e))) => {
                    incoming.ended = true;
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(None) => incoming.ended = true,
            }
        }
    }

    /// Reads what is waiting into `buf` (at most `max` bytes), growing the
    /// buffer only once data is there. A device that went away is an
    /// error.
    pub async fn read_some(&self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        std::future::poll_fn(|cx| {
            self.poll_take(cx, max, &mut |bytes| buf.extend_from_slice(bytes))
        })
        .await
    }

    /// Writes all of `data` (on tokio's blocking pool: a COM port write
    /// blocks until the driver takes it).
    pub async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        let writer = Arc::clone(&self.writer);
        let data = data.to_vec();
        tokio::task::spawn_blocking(move || {
            let mut port = match writer.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            port.write_all(&data)?;
            port.flush()
        })
        .await
        .map_err(io::Error::other)?
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
        let max = buf.remaining();
        self.poll_take(cx, max, &mut |bytes| buf.put_slice(bytes))
            .map_ok(drop)
    }

    /// `AsyncWrite` through a shared reference: the write is made at once
    /// (the driver queues it; the port's timeout bounds the wait).
    pub fn poll_write_shared(&self, _: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let mut port = match self.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        Poll::Ready(port.write(data))
    }
}

/// The reading thread: reads until the device fails or nobody listens.
fn read_port(mut port: Port, chunks: mpsc::Sender<io::Result<Bytes>>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        if chunks.is_closed() {
            return;
        }
        match port.read(&mut buf) {
            Ok(0) => {
                let _ = chunks.blocking_send(Err(super::serial_io::device_gone()));
                return;
            }
            Ok(n) => {
                if chunks
                    .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = chunks.blocking_send(Err(e));
                return;
            }
        }
    }
}
