//! The proxy server flags of `sockmate listen` (`--serve socks5`,
//! `--serve http-proxy`): `--auth`, `--target-allow`, `--connect-timeout`
//! and `--dump`, checked against the rest of the server's flags and turned
//! into a [`ProxyServer`].

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::cli::args::parse_duration;
use crate::cli::serve_args::ServiceArgs;
use crate::endpoint::Endpoint;
use crate::error::ConfigError;
use crate::frame::FrameSpec;
use crate::service::proxy::{parse_target_entry, ProxyServer, TargetEntry, TargetPolicy};
use crate::service::ServiceConfig;
use crate::session::accept::Admission;
use crate::transport::proxy::Credentials;
use crate::view::dump::DumpFormat;

/// `--serve socks5|http-proxy` settings.
#[derive(Debug, Args, Clone, Default)]
pub struct ProxyServeArgs {
    /// With --serve socks5|http-proxy: clients must log in as USER:PASS (SOCKS5 username/password, or HTTP Proxy-Authorization: Basic).
    #[arg(long, value_name = "USER:PASS", help_heading = "Proxy")]
    pub auth: Option<String>,
    /// With --serve socks5|http-proxy: let clients reach this network, address or host name too (repeatable, comma lists); loopback targets are always allowed, others refused.
    #[arg(long, value_name = "CIDR|HOST", value_delimiter = ',', value_parser = parse_target_entry, help_heading = "Proxy")]
    pub target_allow: Vec<TargetEntry>,
    /// With --serve socks5|http-proxy: give up connecting to a client's target after this long (default 10s; HTTP clients get 504).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Proxy")]
    pub connect_timeout: Option<Duration>,
    /// With --serve socks5|http-proxy: show the tunnelled traffic on stdout: text, hex or json; each message is tagged `#ID CLIENT <` (client to target) or `>` (target to client).
    #[arg(long, value_name = "FORMAT", help_heading = "Views")]
    pub dump: Option<String>,
}

impl ProxyServeArgs {
    /// The first proxy flag given, for the refusal without a proxy service.
    fn given(&self) -> Option<&'static str> {
        [
            ("--auth", self.auth.is_some()),
            ("--target-allow", !self.target_allow.is_empty()),
            ("--connect-timeout", self.connect_timeout.is_some()),
            ("--dump", self.dump.is_some()),
        ]
        .into_iter()
        .find(|(_, given)| *given)
        .map(|(flag, _)| flag)
    }

    /// Fills `service.proxy` for `--serve socks5|http-proxy`; refuses the
    /// proxy flags without one and the message flags with one. `dump` is
    /// the chosen `--dump` (or what `--json`/`--hex`/`-t` imply), `capture`
    /// whether `--pcap` wants the bytes.
    pub fn apply(
        self,
        service: Option<&mut ServiceConfig>,
        flags: &ServiceArgs,
        endpoint: &Endpoint,
        admission: &Admission,
        dump: Option<DumpFormat>,
        capture: bool,
    ) -> Result<(), ConfigError> {
        let invalid = |m: String| ConfigError::new(m);
        let protocol = service
            .as_ref()
            .and_then(|s| s.serve)
            .and_then(|s| s.proxy_protocol());
        let (Some(service), Some(protocol)) = (service, protocol) else {
            return match self.given() {
                Some(flag) => Err(invalid(format!(
                    "{flag} is for a proxy server: add --serve socks5 or --serve http-proxy, or drop {flag}"
                ))),
                None => Ok(()),
            };
        };
        let serve = flags.serve.map(|s| s.to_string()).unwrap_or_default();
        let message_flags = [
            ("--banner", flags.banner.is_some()),
            ("--quit-word", flags.quit_word.is_some()),
            ("--frame", flags.frame != FrameSpec::Raw),
            ("--max-frame", flags.max_frame.is_some()),
            ("--max-buffered", flags.max_buffered.is_some()),
        ];
        if let Some((flag, _)) = message_flags.iter().find(|(_, given)| *given) {
            return Err(invalid(format!(
                "{flag} does not apply to --serve {serve} (a proxy carries the bytes as they are); drop {flag}"
            )));
        }
        if !endpoint.kind().is_connection_oriented() {
            return Err(invalid(format!(
                "--serve {serve} needs a stream endpoint such as tcp://127.0.0.1:PORT, not {endpoint}"
            )));
        }
        let auth = self
            .auth
            .as_deref()
            .map(parse_auth)
            .transpose()
            .map_err(invalid)?;
        if admission.access.allow.is_empty()
            && auth.is_none()
            && !crate::cli::serve_args::is_loopback(endpoint)
        {
            return Err(invalid(format!(
                "refusing --serve {serve} on {endpoint}: anyone who can connect could reach this machine's loopback services through it; add --allow CIDR (e.g. --allow 192.168.1.0/24) or --auth USER:PASS, or listen on loopback (127.0.0.1:PORT)"
            )));
        }
        if self.connect_timeout.is_some_and(|t| t.is_zero()) {
            return Err(invalid(
                "--connect-timeout 0 would give up at once (give a duration like 5s)".into(),
            ));
        }
        let defaults = ProxyServer::new(protocol);
        service.proxy = Some(Arc::new(ProxyServer {
            auth,
            targets: TargetPolicy::new(self.target_allow),
            connect_timeout: self.connect_timeout.unwrap_or(defaults.connect_timeout),
            dump: dump.is_some() || capture,
            ..defaults
        }));
        Ok(())
    }
}

/// `USER:PASS` (each at most 255 bytes, as SOCKS5 logins are).
fn parse_auth(text: &str) -> Result<Credentials, String> {
    let Some((user, pass)) = text.split_once(':') else {
        return Err("invalid --auth: write USER:PASS (e.g. --auth alice:secret)".into());
    };
    if user.is_empty() {
        return Err("invalid --auth: empty user name (write USER:PASS)".into());
    }
    if user.len() > 255 || pass.len() > 255 {
        return Err("invalid --auth: user name or password longer than 255 bytes".into());
    }
    Ok(Credentials {
        user: user.into(),
        pass: pass.into(),
    })
}

#[cfg(test)]
mod tests {
    use crate::cli::listen::ListenRun;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn run(args: &[&str]) -> Result<ListenRun, String> {
        let mut argv = vec!["sockmate", "listen"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Listen(args) = cli.command else {
            panic!()
        };
        ListenRun::try_from(args).map_err(|e| e.to_string())
    }

    #[test]
    fn proxy_servers_parse_with_their_flags() {
        let r = run(&[
            "0",
            "--serve",
            "socks5",
            "--auth",
            "u:p",
            "--target-allow",
            "192.0.2.0/24,example.com",
        ])
        .unwrap();
        assert!(r.engine.keep_open);
        let proxy = r.engine.service.unwrap().proxy.unwrap();
        assert_eq!(proxy.auth.as_ref().unwrap().user, "u");
        assert!(proxy.targets.permits_ip("192.0.2.9".parse().unwrap()));
        assert!(proxy.targets.permits_name("example.com"));
        assert!(!proxy.dump);
        let r = run(&["0", "--serve", "http-proxy", "--dump", "hex"]).unwrap();
        assert!(r.engine.service.unwrap().proxy.unwrap().dump);
    }

    #[test]
    fn misplaced_flags_are_refused_with_a_fix() {
        for (args, words) in [
            (&["0", "--auth", "u:p"][..], "--auth is for a proxy server"),
            (
                &["0", "--serve", "echo", "--target-allow", "10.0.0.0/8"],
                "add --serve socks5",
            ),
            (
                &["0", "--serve", "socks5", "--banner", "hi"],
                "--banner does not apply",
            ),
            (&["0", "--serve", "socks5", "--auth", "nopass"], "USER:PASS"),
            (
                &["0.0.0.0:0", "--serve", "http-proxy"],
                "refusing --serve http-proxy",
            ),
            (
                &["udp://127.0.0.1:0", "--serve", "socks5"],
                "stream endpoint",
            ),
            (
                &["0", "--serve", "socks5", "--target-allow", "a b"],
                "--target-allow",
            ),
            (&["0", "--serve", "socks5", "--dump", "xml"], "--dump"),
        ] {
            let e = run(args).unwrap_err();
            assert!(e.contains(words), "{args:?}: {e}");
        }
        assert!(run(&["0.0.0.0:0", "--serve", "socks5", "--auth", "u:p"]).is_ok());
        assert!(run(&["0.0.0.0:0", "--serve", "socks5", "--allow", "10.0.0.0/8"]).is_ok());
    }
}
