//! nc's and ncat's end-of-session switches, shared by `connect` and
//! `listen`: `--send-only`, `--recv-only`, `--no-shutdown`,
//! `--exit-on-peer-eof`, `--delay`, `--recv-count`.

use std::time::Duration;

use clap::Args;

use crate::cli::args::parse_duration;
use crate::error::ConfigError;
use crate::session::SessionConfig;

/// When a session ends and which way data moves.
#[derive(Debug, Args, Clone, Default)]
pub struct EndArgs {
    /// Only send: received data is not shown, and the session ends when stdin (or the sends) end.
    #[arg(long, conflicts_with = "recv_only", help_heading = "Sending")]
    pub send_only: bool,
    /// Only receive: stdin is not read and nothing is sent (the session ends when the peer closes).
    #[arg(long, help_heading = "Sending")]
    pub recv_only: bool,
    /// Never half-close: when stdin ends keep our write side open and wait for the peer (for servers that take a half-close as a full close).
    #[arg(long, help_heading = "Sending")]
    pub no_shutdown: bool,
    /// End as soon as the peer has closed its side, whatever stdin does; --exit-on-peer-eof=DELAY goes on sending DELAY first (the = is required, so an endpoint is never taken for it).
    #[arg(long, value_name = "DELAY", num_args = 0..=1, require_equals = true, default_missing_value = "0s", value_parser = parse_duration, help_heading = "Limits")]
    pub exit_on_peer_eof: Option<Duration>,
    /// With --exit-on-peer-eof: keep sending this long after the peer's end, then close (e.g. 500ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub exit_on_peer_eof_delay: Option<Duration>,
    /// Wait DURATION between two sends: the --send* items and stdin lines (without it a stream peer may read them as one message); with stdin and no --send*, turns on line mode.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Sending")]
    pub delay: Option<Duration>,
    /// End after N received messages (reads on a stream, datagrams).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub recv_count: Option<u64>,
}

impl EndArgs {
    /// Applies the switches to a session's config.
    pub fn apply(&self, session: &mut SessionConfig) -> Result<(), ConfigError> {
        if self.recv_count == Some(0) {
            return Err(ConfigError::new(
                "invalid --recv-count 0 (give at least 1, e.g. --recv-count 1)".into(),
            ));
        }
        if self.send_only && self.recv_count.is_some() {
            return Err(ConfigError::new(
                "--send-only ignores what comes in, so --recv-count cannot count it (drop one)"
                    .into(),
            ));
        }
        if self.exit_on_peer_eof.is_some() || self.exit_on_peer_eof_delay.is_some() {
            session.end_on_peer_eof = true;
            session.peer_eof_delay = self
                .exit_on_peer_eof_delay
                .or(self.exit_on_peer_eof)
                .filter(|d| !d.is_zero());
        }
        session.no_shutdown = self.no_shutdown;
        session.recv_count = self.recv_count;
        if self.send_only {
            // Our input's end is the session's end.
            session.wait = Some(Duration::ZERO);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::time::Duration;

    #[test]
    fn the_optional_delay_never_takes_the_endpoint() {
        let cli = Cli::try_parse_from(["sockmate", "connect", "--exit-on-peer-eof", "127.0.0.1:9"])
            .unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.endpoint, "127.0.0.1:9");
        assert_eq!(args.end.exit_on_peer_eof, Some(Duration::ZERO));
        let cli =
            Cli::try_parse_from(["sockmate", "connect", "x:1", "--exit-on-peer-eof=2s"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        let mut s = crate::session::SessionConfig::default();
        args.end.apply(&mut s).unwrap();
        assert!(s.end_on_peer_eof);
        assert_eq!(s.peer_eof_delay, Some(Duration::from_secs(2)));
    }
}
