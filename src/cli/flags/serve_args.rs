//! The server behaviour and limit flags of `sockmate listen` (`--serve`,
//! `--reply`, `--respond`, `--exec`, `--max-conns`…), turned into a
//! [`ServiceConfig`] and an [`Admission`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::args::{exec_spec, parse_max_conns, parse_max_frame, parse_size};
use crate::encoding::TextEncoding;
use crate::endpoint::{Endpoint, Kind};
use crate::error::ConfigError;
use crate::escape::unescape_in;
use crate::frame::{FrameSpec, DEFAULT_MAX_FRAME};
use crate::limits::{parse_cidr, AccessList};
use crate::service::config::DEFAULT_SERVICE_MAX_CONNS;
use crate::service::exec::DEFAULT_EXEC_MAX_CONNS;
use crate::service::{respond, Rules, Serve, ServiceConfig, TIME_REPLY};
use crate::session::accept::Admission;
use crate::template::{Syntax, Template, CTIME_FORMAT};

/// `sockmate listen` server behaviours and limits (issue 4).
#[derive(Debug, Args, Clone, Default)]
pub struct ServiceArgs {
    /// How a stream is cut into messages: raw (what one read returned), line, crlf, len16, len32 (big-endian length header) or delim:HEX.
    #[arg(long, value_name = "FRAME", default_value = "raw", value_parser = clap::value_parser!(FrameSpec), help_heading = "Services")]
    pub frame: FrameSpec,
    /// Longest message; a client sending a longer one gets an error line and is closed (suffixes k, m, g: 64k, 1m; at most 1g) [default: 1m].
    #[arg(long, value_name = "BYTES", value_parser = parse_max_frame, help_heading = "Limits")]
    pub max_frame: Option<usize>,
    /// Sent to each client when it connects (each new peer for UDP), as is (escapes like \n allowed).
    #[arg(long, value_name = "TEXT", help_heading = "Services")]
    pub banner: Option<String>,
    /// Reply to each message: placeholders {text} {hex} {len} {peer} {time}, and "n" in braces for the message number; {{ }} for braces; escapes \n \r \t \0 \xHH \\.
    #[arg(long, value_name = "TEMPLATE", help_heading = "Services")]
    pub reply: Option<String>,
    /// Send a --reply that holds Python's %s/%d as written (otherwise refused with a hint toward {text}).
    #[arg(long, requires = "reply", help_heading = "Services")]
    pub reply_as_written: bool,
    /// strftime layout of {time} (default like C's ctime: Sun Nov 22 14:03:07 2026).
    #[arg(long, value_name = "FORMAT", default_value = CTIME_FORMAT, help_heading = "Services")]
    pub time_format: String,
    /// A message equal to WORD (line ending trimmed) closes that connection.
    #[arg(long, value_name = "WORD", help_heading = "Services")]
    pub quit_word: Option<String>,
    /// A ready-made service: echo, discard, time, chargen, chat, broker, exec, socks5, http-proxy (proxy servers; see --target-allow).
    #[arg(long, value_name = "SERVICE", value_parser = clap::value_parser!(Serve), help_heading = "Services")]
    pub serve: Option<Serve>,
    /// Answer a message: 'MATCH=>REPLY' where MATCH is text, hex:BYTES or re:REGEX ($1 in REPLY); first match wins (repeatable).
    #[arg(long, value_name = "RULE", help_heading = "Services")]
    pub respond: Vec<String>,
    /// Read --respond rules from FILE, one a line (# comments).
    #[arg(long, value_name = "FILE", help_heading = "Services")]
    pub respond_file: Option<PathBuf>,
    /// Reply when no --respond rule matches.
    #[arg(long, value_name = "REPLY", help_heading = "Services")]
    pub respond_default: Option<String>,
    /// Run CMD per connection with the socket as its stdin and stdout (no shell; needs --allow on a non-loopback address).
    #[arg(
        long,
        value_name = "CMD",
        conflicts_with = "sh_exec",
        help_heading = "Services"
    )]
    pub exec: Option<String>,
    /// Like --exec, through `sh -c CMD`.
    #[arg(long, value_name = "CMD", help_heading = "Services")]
    pub sh_exec: Option<String>,
    /// Send the command's stderr to the client too.
    #[arg(long, help_heading = "Services")]
    pub exec_stderr: bool,
    /// Run the --exec command on a pseudo-terminal in its own session (interactive shells, job control).
    #[arg(long, help_heading = "Services")]
    pub pty: bool,
    /// Run the --exec/--sh-exec command once per message (cut by --frame), the message as its stdin; the reply is its stdout and stderr (the tutorials' remote-command server: --exec sh --exec-per-message).
    #[arg(long, help_heading = "Services")]
    pub exec_per_message: bool,
    /// Serve at most N clients at once (and N --exec children); more get one refusal line [default: 20000 for a service, 64 with --exec; no limit for a plain listen]. A service also holds at most 128 MiB of unfinished messages over all its clients.
    #[arg(long, value_name = "N", value_parser = parse_max_conns, help_heading = "Limits")]
    pub max_conns: Option<usize>,
    /// Bytes of unfinished messages and read buffers a service holds over all its clients; the client that would pass it gets one error line and is closed (suffixes k, m, g) [default: 128m].
    #[arg(long, value_name = "BYTES", value_parser = parse_size, help_heading = "Limits")]
    pub max_buffered: Option<usize>,
    /// Accept clients only from this network (CIDR like 192.168.1.0/24 or one address; repeatable).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr, help_heading = "Limits")]
    pub allow: Vec<ipnet::IpNet>,
    /// Refuse clients from this network (repeatable; wins over --allow).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr, help_heading = "Limits")]
    pub deny: Vec<ipnet::IpNet>,
}

/// Checks at start that `--exec PROGRAM` can run (exit 2 before listening,
/// rather than failing when the first client comes).
fn check_program(program: &str) -> Result<(), String> {
    use crate::sys::fs::{is_executable, program_candidates};
    let runnable = |path: &std::path::Path| {
        program_candidates(path).iter().any(|path| {
            std::fs::metadata(path)
                .map(|m| is_executable(path, &m))
                .unwrap_or(false)
        })
    };
    let found = if program.contains(std::path::is_separator) {
        runnable(std::path::Path::new(program))
    } else {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| runnable(&dir.join(program))))
            .unwrap_or(false)
    };
    if found {
        return Ok(());
    }
    Err(format!(
        "cannot run --exec {program}: no such program{} (give a path or a program on PATH, e.g. --exec cat; for shell syntax use --sh-exec 'CMD')",
        if program.contains(std::path::is_separator) { " or not executable" } else { " on PATH" }
    ))
}

/// True when `endpoint` is on loopback (or not an IP address at all).
pub(super) fn is_loopback(endpoint: &Endpoint) -> bool {
    match endpoint.host_port() {
        Some((crate::endpoint::Host::Ip(ip), _)) => ip.is_loopback(),
        Some((crate::endpoint::Host::Name(name), _)) => name.eq_ignore_ascii_case("localhost"),
        Some((crate::endpoint::Host::Scoped { ip, .. }, _)) => ip.is_loopback(),
        None => true,
    }
}

/// The refusal of `--serve SERVICE` with `--reply`/`--respond…`: both
/// answer every message, so one of them would never run.
fn service_conflict(service: Serve, flag: &str) -> String {
    let fix = match service {
        Serve::Echo => " (to echo what no rule matches, use --respond-default '{text}')",
        Serve::Time => " (to answer with the time, use --reply '[{time}] {text}' or --respond-default '[{time}] {text}')",
        _ => "",
    };
    format!("--serve {service} and {flag} cannot be combined: each answers the messages itself; drop one{fix}")
}

impl ServiceArgs {
    /// The first `--reply`/`--respond…` flag given: the flags that make
    /// their own answering service.
    fn answer_flag(&self) -> Option<&'static str> {
        [
            ("--reply", self.reply.is_some()),
            ("--respond", !self.respond.is_empty()),
            ("--respond-file", self.respond_file.is_some()),
            ("--respond-default", self.respond_default.is_some()),
        ]
        .into_iter()
        .find(|(_, given)| *given)
        .map(|(flag, _)| flag)
    }

    /// True when no behaviour flag was given (limits apply to plain
    /// sessions too).
    fn is_plain(&self) -> bool {
        self.max_frame.is_none()
            && self.frame == FrameSpec::Raw
            && self.banner.is_none()
            && self.reply.is_none()
            && self.quit_word.is_none()
            && self.serve.is_none()
            && self.respond.is_empty()
            && self.respond_file.is_none()
            && self.respond_default.is_none()
            && self.exec.is_none()
            && self.sh_exec.is_none()
            && !self.exec_per_message
    }

    /// Validates the flags into a service configuration (`None` when no
    /// behaviour flag was given: a plain session) and the admission policy.
    /// Reads no files: `--respond-file` is loaded by
    /// [`ServiceConfig::load_rules_file`] when the server starts.
    pub fn into_config(
        self,
        endpoint: &Endpoint,
        idle_timeout: Option<Duration>,
        encoding: TextEncoding,
    ) -> Result<(Option<ServiceConfig>, Admission), ConfigError> {
        if self.max_conns == Some(0) {
            return Err(ConfigError::new(
                "invalid --max-conns 0 (give at least 1)".into(),
            ));
        }
        let plain_admission = Admission {
            max_conns: self.max_conns,
            access: AccessList {
                allow: self.allow.clone(),
                deny: self.deny.clone(),
            },
            ..Admission::default()
        };
        if self.is_plain() {
            if self.max_buffered.is_some() {
                return Err(ConfigError::new(
                    "--max-buffered bounds a service's buffers: add one (e.g. --serve echo --frame line), or drop it".into(),
                ));
            }
            return Ok((None, plain_admission));
        }
        let invalid = ConfigError::new;
        let time_format = self.time_format.clone();
        let syntax = Syntax {
            encoding,
            captures: false,
        };
        let template = |flag: &str, text: &str| {
            Template::parse_with(text, &time_format, syntax)
                .map_err(|e| invalid(format!("invalid {flag} \"{text}\": {e}")))
        };
        if let Some(hint) = self.reply.as_deref().and_then(python_format) {
            let as_written = self.reply_as_written && !hint.braces;
            if !as_written {
                return Err(invalid(hint.message));
            }
        }
        let reply = match (&self.reply, self.serve) {
            (Some(text), _) => Some(template("--reply", text)?),
            (None, Some(Serve::Time)) => Some(template("--serve time", TIME_REPLY)?),
            (None, _) => None,
        };
        let banner = self
            .banner
            .as_deref()
            .map(|text| unescape_in(text, encoding))
            .transpose()
            .map_err(|e| invalid(format!("invalid --banner: {e}")))?;
        let mut rules = Rules {
            encoding,
            ..Rules::default()
        };
        for rule in &self.respond {
            rules
                .rules
                .push(respond::parse_rule_in(rule, &time_format, encoding).map_err(invalid)?);
        }
        rules
            .check_budget()
            .map_err(|e| invalid(format!("--respond: {e}")))?;
        if let Some(text) = &self.respond_default {
            rules.default =
                Some(respond::parse_default_in(text, &time_format, encoding).map_err(invalid)?);
        }
        let exec = exec_spec(&self.exec, &self.sh_exec, self.exec_stderr, self.pty)?;
        if let Some(spec) = &exec {
            check_program(&spec.program).map_err(invalid)?;
        }
        if self.exec_per_message && exec.is_none() {
            return Err(invalid(
                "--exec-per-message needs the command: --exec CMD or --sh-exec CMD (e.g. --exec sh --exec-per-message)".into(),
            ));
        }
        if exec.is_some() {
            let ignored = [
                ("--reply", self.reply.is_some()),
                ("--respond", !self.respond.is_empty()),
                ("--respond-file", self.respond_file.is_some()),
                ("--respond-default", self.respond_default.is_some()),
                ("--quit-word", self.quit_word.is_some()),
                // Per message, --frame cuts the messages the command gets.
                (
                    "--frame",
                    self.frame != FrameSpec::Raw && !self.exec_per_message,
                ),
                (
                    "--max-frame",
                    self.max_frame.is_some() && !self.exec_per_message,
                ),
            ];
            if let Some((flag, _)) = ignored.iter().find(|(_, given)| *given) {
                return Err(invalid(format!(
                    "{flag} does not apply to --exec (the command gets the raw bytes and answers itself); drop {flag}"
                )));
            }
        }
        let datagram = matches!(endpoint.kind(), Kind::Udp | Kind::UnixDgram);
        match (self.serve, &exec) {
            (Some(Serve::Exec), None) => {
                return Err(invalid(
                    "--serve exec needs the command: --exec CMD or --sh-exec CMD".into(),
                ))
            }
            (Some(other), Some(_)) if other != Serve::Exec => {
                return Err(invalid(format!(
                    "--exec and --serve {other} cannot be combined (pick one)"
                )))
            }
            _ => {}
        }
        if datagram {
            let stream_only = match (self.serve, &exec) {
                (_, Some(_)) => Some("--exec"),
                (Some(Serve::Chat), _) => Some("--serve chat"),
                (Some(Serve::Broker), _) => Some("--serve broker"),
                _ => None,
            };
            if let Some(flag) = stream_only {
                return Err(invalid(format!(
                    "{flag} needs a stream endpoint such as tcp://127.0.0.1:PORT or unix:///path, not {endpoint}"
                )));
            }
        }
        if exec.is_some() && self.allow.is_empty() && !is_loopback(endpoint) {
            return Err(invalid(format!(
                "refusing --exec on {endpoint}: anyone who can connect could run commands; add --allow CIDR (e.g. --allow 192.168.1.0/24) or listen on loopback (127.0.0.1:PORT)"
            )));
        }
        if let Some(service) = self.serve.filter(|s| *s != Serve::Exec) {
            if let Some(flag) = self.answer_flag() {
                return Err(invalid(service_conflict(service, flag)));
            }
        }
        let max_conns = match (self.max_conns, &exec) {
            (None, Some(_)) => Some(DEFAULT_EXEC_MAX_CONNS),
            (None, None) => Some(DEFAULT_SERVICE_MAX_CONNS),
            (n, _) => n,
        };
        let admission = Admission {
            max_conns,
            access: AccessList {
                allow: self.allow,
                deny: self.deny,
            },
            ..Admission::default()
        };
        let service = ServiceConfig {
            frame: self.frame,
            max_frame: self.max_frame.unwrap_or(DEFAULT_MAX_FRAME),
            banner,
            reply,
            rules,
            quit_word: self.quit_word.map(|word| encoding.encode(&word)),
            serve: self.serve.or(exec.as_ref().map(|_| Serve::Exec)),
            exec,
            exec_per_message: self.exec_per_message,
            idle_timeout,
            max_buffered: self.max_buffered,
            respond_file: self.respond_file,
            time_format,
            encoding,
            replay: None,
            // Filled from the proxy flags (`crate::cli::proxy_serve_args`).
            proxy: None,
        };
        Ok((Some(service), admission))
    }
}

/// A `--reply` written in Python's formatting, and the hint toward
/// sockmate's placeholders.
struct PythonFormat {
    /// `{}`/`{0}` (a template error either way) rather than `%s`.
    braces: bool,
    message: String,
}

/// Finds Python's `%s`/`%d`/`%r` or `{}`/`{0}` in a reply template.
fn python_format(text: &str) -> Option<PythonFormat> {
    let fixed = |from: &str| text.replacen(from, "{text}", 1);
    for brace in ["{}", "{0}"] {
        if text.contains(brace) && !text.contains(&format!("{{{brace}}}")) {
            return Some(PythonFormat {
                braces: true,
                message: format!(
                    "--reply \"{text}\" uses Python's {brace}: sockmate names what goes there, {{text}} for the message (--reply '{}'); write {{{{ and }}}} for literal braces",
                    fixed(brace)
                ),
            });
        }
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'%' {
            match bytes[i + 1] {
                b'%' => i += 1,
                b's' | b'd' | b'r' | b'i' => {
                    let python = &text[i..i + 2];
                    return Some(PythonFormat {
                        braces: false,
                        message: format!(
                            "--reply \"{text}\" uses Python's {python}: sockmate's placeholder for the message is {{text}} (--reply '{}'); to send {python} as written add --reply-as-written",
                            fixed(python)
                        ),
                    });
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::parse_size;
    use crate::cli::listen::ListenRun;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use proptest::prelude::*;

    fn config(args: &[&str]) -> Result<Option<ServiceConfig>, String> {
        let mut argv = vec!["sockmate", "listen"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Listen(args) = cli.command else {
            panic!()
        };
        ListenRun::try_from(args)
            .map(|c| c.engine.service)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tutorial_lines_parse() {
        let c = config(&[
            "9999",
            "-k",
            "--banner",
            "hello, i am server",
            "--reply",
            "Loop_msg:{text}!",
            "--quit-word",
            "exit",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.banner.as_deref(), Some(&b"hello, i am server"[..]));
        assert_eq!(c.quit_word.as_deref(), Some(&b"exit"[..]));
        assert!(config(&["9999"]).unwrap().is_none());
        assert!(config(&["9999", "--max-conns", "1"]).unwrap().is_none());
        let t = config(&["0", "--serve", "time"]).unwrap().unwrap();
        assert_eq!(t.reply.unwrap().to_string(), "[{time}] {text}");
        let cli = Cli::try_parse_from(["sockmate", "listen", "8000", "--exec", "sh"]).unwrap();
        let Command::Listen(args) = cli.command else {
            panic!()
        };
        let run = ListenRun::try_from(args).unwrap();
        assert_eq!(run.engine.admission.max_conns, Some(DEFAULT_EXEC_MAX_CONNS));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let e = config(&["0", "--reply", "Loop_msg:%s!"]).unwrap_err();
        assert!(e.contains("uses Python's %s"), "{e}");
        assert!(e.contains("--reply 'Loop_msg:{text}!'"), "{e}");
        assert!(config(&["0", "--reply", "Loop_msg:%s!", "--reply-as-written"]).is_ok());
        assert!(config(&["0", "--reply", "100%% sure {text}"]).is_ok());
        let e = config(&["0", "--reply", "got {}", "--reply-as-written"]).unwrap_err();
        assert!(e.contains("(--reply 'got {text}')"), "{e}");
        let e = config(&["0", "--reply", "x{txt}"]).unwrap_err();
        assert!(e.contains("unknown placeholder {txt} at position 1"), "{e}");
        let e = config(&["0.0.0.0:0", "--exec", "sh"]).unwrap_err();
        assert!(e.contains("refusing --exec"), "{e}");
        assert!(config(&["0.0.0.0:0", "--exec", "sh", "--allow", "10.0.0.0/8"]).is_ok());
        assert!(config(&["udp://127.0.0.1:0", "--serve", "chat"])
            .unwrap_err()
            .contains("stream endpoint"));
        assert!(config(&["0", "--serve", "exec"])
            .unwrap_err()
            .contains("needs the command"));
        assert!(config(&["0", "--frame", "lines"]).is_err());
        assert!(config(&["0", "--respond", "nothing"])
            .unwrap_err()
            .contains("=>"));
        assert!(config(&["0", "--banner", "\\q"])
            .unwrap_err()
            .contains("bad escape"));
        assert!(config(&["0", "--banner", "\\\\"]).is_ok());
        assert!(config(&["0", "--time-format", "%Q", "--serve", "time"]).is_err());
        assert!(config(&["0", "--allow", "10.0.0.0/33"]).is_err());
        assert!(config(&["0", "--max-conns", "0"]).is_err());
        let e = config(&["0", "--exec", "/no/such/cmd"]).unwrap_err();
        assert!(
            e.contains("cannot run --exec /no/such/cmd: no such program"),
            "{e}"
        );
        assert!(config(&["0", "--exec", "no-such-program-xyz"])
            .unwrap_err()
            .contains("on PATH"));
        assert!(config(&["0", "--exec-per-message"])
            .unwrap_err()
            .contains("needs the command"));
        for service in ["echo", "time", "discard", "chargen", "chat", "broker"] {
            for extra in [
                &["--reply", "x"][..],
                &["--respond", "a=>b"],
                &["--respond-file", "rules.txt"],
                &["--respond-default", "?"],
            ] {
                let mut args = vec!["0", "--serve", service];
                args.extend_from_slice(extra);
                let e = config(&args).unwrap_err();
                assert!(
                    e.contains(&format!(
                        "--serve {service} and {} cannot be combined",
                        extra[0]
                    )),
                    "{e}"
                );
            }
        }
        let e = config(&["0", "--serve", "echo", "--respond", "a=>b"]).unwrap_err();
        assert!(e.contains("--respond-default '{text}'"), "{e}");
        let gbk = config(&["0", "--encoding", "gbk", "--quit-word", "再见"])
            .unwrap()
            .unwrap();
        assert_eq!(gbk.quit_word.unwrap(), b"\xd4\xd9\xbc\xfb");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("64k").unwrap(), 65536);
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
    }

    proptest! {
        #[test]
        fn size_parser_never_panics(s in "\\PC{0,12}") {
            let _ = parse_size(&s);
        }
    }
}
