//! `--serve chargen` (RFC 864): lines of 72 printable characters, each
//! starting one character further along the 95-character cycle, sent until
//! the client goes. Over UDP, each datagram gets one line.

use std::io;
use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};

use super::{Link, ReadOutcome};
use crate::event::CloseReason;

/// Characters per line (before CR LF).
pub const LINE_WIDTH: usize = 72;

const FIRST: u8 = b' ';
const CYCLE: usize = 95;

/// One line of the pattern, starting at offset `start` in the cycle.
pub fn line(start: usize, out: &mut Vec<u8>) {
    for i in 0..LINE_WIDTH {
        out.push(FIRST + ((start + i) % CYCLE) as u8);
    }
    out.extend_from_slice(b"\r\n");
}

/// The whole cycle of 95 lines, built once and shared.
pub fn cycle() -> Bytes {
    static CYCLE_BYTES: OnceLock<Bytes> = OnceLock::new();
    CYCLE_BYTES
        .get_or_init(|| {
            let mut out = Vec::with_capacity(CYCLE * (LINE_WIDTH + 2));
            for start in 0..CYCLE {
                line(start, &mut out);
            }
            Bytes::from(out)
        })
        .clone()
}

/// Sends the pattern until the client closes; what it sends is ignored.
pub async fn run(link: &Link<'_>) -> io::Result<CloseReason> {
    let pattern = cycle();
    let writer = async {
        loop {
            link.send_bytes(pattern.clone()).await?;
        }
    };
    let reader = async {
        let mut buf = BytesMut::new();
        loop {
            match link.read(&mut buf, 4096).await? {
                ReadOutcome::Data(..) => buf.clear(),
                ReadOutcome::Eof => return Ok::<_, io::Error>(CloseReason::PeerClosed),
                ReadOutcome::Idle => return Ok(CloseReason::IdleTimeout),
                ReadOutcome::Shutdown => return Ok(CloseReason::Shutdown),
            }
        }
    };
    tokio::select! {
        result = writer => result,
        result = reader => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_rfc_864() {
        let c = cycle();
        assert_eq!(c.len(), 95 * 74);
        assert!(c.starts_with(b" !\"#$%&'()*+,-./0123456789"));
        assert_eq!(&c[72..74], b"\r\n");
        assert!(c[74..].starts_with(b"!\"#"));
    }
}
