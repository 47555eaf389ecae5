//! Services over datagrams (UDP, Unix datagram): every datagram is a
//! message and the reply goes to its sender. The receive loop and the peer
//! table are the engine's (one datagram server for plain and service
//! listeners); this module decides the answer.

use bytes::Bytes;

use super::message::{answer, Action};
use super::{chargen, Serve, ServiceConfig};
use crate::frame::FrameSpec;
use crate::template::Message;

/// Per-server state a datagram service keeps between messages.
#[derive(Debug, Default)]
pub struct DatagramService {
    out: Vec<u8>,
    scratch: Vec<u8>,
    chargen_offset: usize,
    notice: Option<String>,
}

impl DatagramService {
    /// The reply to `datagram`, the `number`th message from `peer`, if any.
    pub fn reply(
        &mut self,
        cfg: &ServiceConfig,
        datagram: &Bytes,
        peer: &str,
        number: u64,
    ) -> Option<Bytes> {
        match cfg.serve {
            Some(Serve::Chargen) => {
                let mut line = Vec::new();
                chargen::line(self.chargen_offset, &mut line);
                self.chargen_offset += 1;
                Some(Bytes::from(line))
            }
            _ => {
                let msg = Message {
                    bytes: datagram,
                    peer,
                    number,
                };
                let action = answer(cfg, &FrameSpec::Raw, &msg, &mut self.out, &mut self.scratch);
                if let (Action::Unmatched, Some(table)) = (&action, &cfg.replay) {
                    self.notice = Some(table.unmatched_line(peer, number, datagram));
                }
                match action {
                    Action::Echo => Some(datagram.clone()),
                    Action::Reply | Action::Unmatched if !self.out.is_empty() => {
                        Some(Bytes::copy_from_slice(&self.out))
                    }
                    _ => None,
                }
            }
        }
    }
}

impl DatagramService {
    /// The status line the last datagram called for (a replay's
    /// unmatched request), once.
    pub fn take_notice(&mut self) -> Option<String> {
        self.notice.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_and_chargen_answer_each_datagram() {
        let echo = ServiceConfig {
            serve: Some(Serve::Echo),
            ..ServiceConfig::default()
        };
        let mut svc = DatagramService::default();
        let d = Bytes::from_static(b"hi");
        assert_eq!(svc.reply(&echo, &d, "p", 1), Some(d.clone()));
        let chargen = ServiceConfig {
            serve: Some(Serve::Chargen),
            ..ServiceConfig::default()
        };
        let first = svc.reply(&chargen, &d, "p", 1).unwrap();
        let second = svc.reply(&chargen, &d, "p", 2).unwrap();
        assert_ne!(first, second);
        assert!(svc.reply(&ServiceConfig::default(), &d, "p", 1).is_none());
    }
}
