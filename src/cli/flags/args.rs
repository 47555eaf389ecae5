//! Flag groups shared by several commands (socket and status options,
//! views, sends, limits) and the value parsers (durations, sizes).

use std::time::Duration;

use clap::Args;

use crate::encoding::TextEncoding;
use crate::error::ConfigError;
use crate::send::{Eol, SendPlan, SendSpec};
use crate::service::ExecSpec;
use crate::transport::SocketOptions;
use crate::view::status::Verbosity;
use crate::view::{ColorChoice, ViewOptions};

/// Options shared by every command that moves data.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Close the connection when nothing moves either way for this long (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_idle_timeout, help_heading = "Limits")]
    pub idle_timeout: Option<Duration>,
    /// Disable Nagle's algorithm (TCP_NODELAY) so small writes go out at once.
    #[arg(long, help_heading = "Endpoint and socket")]
    pub nodelay: bool,
    /// Send TCP keepalive probes after this much idle time (default 60s when given without a value).
    #[arg(long, value_name = "DURATION", num_args = 0..=1, require_equals = true, default_missing_value = "60s", value_parser = parse_duration, help_heading = "Endpoint and socket")]
    pub keepalive: Option<Duration>,
    /// Print no status lines on stderr (data and errors only).
    #[arg(short, long, conflicts_with = "verbose", help_heading = "Views")]
    pub quiet: bool,
    /// Print status lines (connected, closed) on stderr where they are off by default.
    #[arg(short, long, help_heading = "Views")]
    pub verbose: bool,
    /// TLS (`tls://`, `wss://`, `tls+unix://`, `wss+unix://`).
    #[command(flatten)]
    pub tls: crate::cli::tls_args::TlsArgs,
    /// WebSocket (`ws://`, `wss://`, `ws+unix://`, `wss+unix://`).
    #[command(flatten)]
    pub ws: crate::cli::tls_args::WsArgs,
    /// IP and UDP socket options.
    #[command(flatten)]
    pub ip: IpArgs,
}

/// IP-level and UDP options (connect, listen, relay), applied through socket2.
#[derive(Debug, Args, Clone, Default)]
pub struct IpArgs {
    /// Use IPv4 addresses only.
    #[arg(
        short = '4',
        conflicts_with = "ipv6",
        help_heading = "Endpoint and socket"
    )]
    pub ipv4: bool,
    /// Use IPv6 addresses only.
    #[arg(short = '6', help_heading = "Endpoint and socket")]
    pub ipv6: bool,
    /// Time to live (hop limit) of outgoing packets; for a multicast group, its multicast TTL.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=255), help_heading = "Endpoint and socket")]
    pub ttl: Option<u32>,
    /// IP type of service / IPv6 traffic class byte (e.g. 0x10 or 16; DSCP EF is 0xb8).
    #[arg(long, value_name = "BYTE", value_parser = parse_byte, help_heading = "Endpoint and socket")]
    pub tos: Option<u32>,
    /// Socket receive buffer size (SO_RCVBUF), e.g. 4m.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Endpoint and socket")]
    pub rcvbuf: Option<usize>,
    /// Socket send buffer size (SO_SNDBUF), e.g. 4m.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Endpoint and socket")]
    pub sndbuf: Option<usize>,
    /// Send and receive only through this interface (SO_BINDTODEVICE; needs root or CAP_NET_RAW).
    #[arg(long, value_name = "IFACE", value_parser = parse_bind_device, help_heading = "Endpoint and socket")]
    pub bind_device: Option<String>,
    /// Allow sending to a broadcast address (SO_BROADCAST).
    #[arg(long, help_heading = "UDP")]
    pub broadcast: bool,
    /// The interface for multicast: a name (eth0) or one of its addresses; listen joins the group there, connect sends through it.
    #[arg(long, value_name = "NAME|ADDR", help_heading = "UDP")]
    pub iface: Option<String>,
    /// Whether our own multicast comes back to this host: on or off (kernel default: on).
    #[arg(long, value_name = "on|off", value_parser = parse_on_off, help_heading = "UDP")]
    pub multicast_loop: Option<bool>,
}

impl IpArgs {
    /// The transport's IP options.
    pub fn options(&self) -> crate::transport::IpOptions {
        use crate::transport::Family;
        crate::transport::IpOptions {
            family: if self.ipv4 {
                Some(Family::V4)
            } else if self.ipv6 {
                Some(Family::V6)
            } else {
                None
            },
            broadcast: self.broadcast,
            iface: self.iface.clone(),
            ttl: self.ttl,
            multicast_loop: self.multicast_loop,
            any_source: false,
            tos: self.tos,
            rcvbuf: self.rcvbuf,
            sndbuf: self.sndbuf,
            bind_device: self.bind_device.clone(),
        }
    }
}

/// `--bind-device IFACE`, where the platform has `SO_BINDTODEVICE`.
fn parse_bind_device(text: &str) -> Result<String, String> {
    if !crate::sys::unsupported::BIND_DEVICE {
        return Err(crate::sys::unsupported::refusal(
            "--bind-device",
            "use --bind ADDRESS (or --iface ADDRESS for multicast)",
        ));
    }
    Ok(text.to_string())
}

/// Parses `on`/`off` (also yes/no, true/false, 1/0).
fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "1" => Ok(true),
        "off" | "no" | "false" | "0" => Ok(false),
        _ => Err(format!("invalid value \"{text}\" (write on or off)")),
    }
}

/// Parses a byte written in decimal or `0x` hex.
fn parse_byte(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => t.parse::<u32>().ok(),
    };
    n.filter(|&n| n <= 255)
        .ok_or_else(|| format!("invalid byte \"{text}\" (give 0-255 or 0x00-0xff, e.g. 0x10)"))
}

/// `--proxy` (connect, the target side of relay, send, bench).
#[derive(Debug, Args, Clone, Default)]
pub struct ProxyArgs {
    /// Reach a tcp:// target through a proxy: socks5://[USER:PASS@]HOST:PORT (names resolved here), socks5h://… (resolved by the proxy), socks4a://[USERID@]HOST:PORT, http://[USER:PASS@]HOST:PORT (HTTP CONNECT).
    #[arg(long, value_name = "URL", help_heading = "Proxy")]
    pub proxy: Option<String>,
    /// Give up when the proxy has not finished its handshake (greeting, login, CONNECT reply) this long after accepting the connection (default 10s).
    #[arg(long, value_name = "DURATION", requires = "proxy", value_parser = parse_duration, help_heading = "Proxy")]
    pub proxy_timeout: Option<Duration>,
}

impl ProxyArgs {
    /// The parsed proxy, if one was given.
    pub fn proxy(&self) -> Result<Option<std::sync::Arc<crate::transport::Proxy>>, ConfigError> {
        let Some(url) = self.proxy.as_deref() else {
            return Ok(None);
        };
        let mut proxy: crate::transport::Proxy = url.parse().map_err(ConfigError::new)?;
        if let Some(after) = self.proxy_timeout {
            if after.is_zero() {
                return Err(ConfigError::new(
                    "--proxy-timeout 0 would give up at once (give a duration like 10s)".into(),
                ));
            }
            proxy.timeout = after;
        }
        Ok(Some(std::sync::Arc::new(proxy)))
    }
}

/// How traffic is shown (connect, listen, relay).
#[derive(Debug, Args, Clone, Default)]
pub struct ViewArgs {
    /// Decode received bytes with ENC for display, and encode what is sent with it (stdin, piped or typed, and --send text; --raw-stdin keeps stdin's bytes): utf-8, gbk, gb18030, big5, shift_jis, euc-kr, latin1, windows-1252, utf-16le, … (any WHATWG label or Python codec name: cp936, latin-1…).
    #[arg(long, value_name = "ENC", help_heading = "Views")]
    pub encoding: Option<String>,
    /// Show each message as a hex dump (offset, 16 bytes in hex, ASCII gutter); --hex=line: one line per message, `PEER < 01 03 02 00 19`.
    #[arg(short = 'x', long, value_enum, value_name = "STYLE", num_args = 0..=1, require_equals = true, default_missing_value = "dump", help_heading = "Views")]
    pub hex: Option<HexStyle>,
    /// With --hex, show the decoded text under each dump too.
    #[arg(long, requires = "hex", help_heading = "Views")]
    pub text: bool,
    /// Start each message with the local time to the millisecond, the peer and < (received) or > (sent).
    #[arg(short = 't', long, help_heading = "Views")]
    pub timestamps: bool,
    /// Print one JSON object per event on stdout (JSON Lines; schema in docs/json-events.md).
    #[arg(long, conflicts_with = "hex", help_heading = "Views")]
    pub json: bool,
    /// Also append the annotated transcript (JSON with --json) to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Views")]
    pub log: Option<std::path::PathBuf>,
    /// Also write the traffic to FILE as a pcapng capture that Wireshark and tshark decode as the real protocol (synthesised TCP/UDP packets with the real addresses; TLS and WebSocket as decrypted bytes). See docs/pcap.md.
    #[arg(long, value_name = "FILE", help_heading = "Views")]
    pub pcap: Option<std::path::PathBuf>,
    /// With --pcap: start FILE.1, FILE.2… instead of letting a file grow past SIZE (e.g. 10m; at least 4k).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Views")]
    pub pcap_max: Option<usize>,
    /// Print byte and message counters per connection and in total at exit (on stderr).
    #[arg(long, help_heading = "Views")]
    pub stats: bool,
    /// Print live counters (bytes and messages in/out per connection and in total, rates) on stderr every DURATION; SIGUSR1 (Ctrl-Break on Windows) prints them at any time.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Views")]
    pub stats_interval: Option<Duration>,
    /// Colour the terminal views: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Views"
    )]
    pub color: ColorChoice,
}

/// How `--hex` shows a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HexStyle {
    /// Offset, 16 bytes a row, ASCII gutter.
    Dump,
    /// One compact line per message.
    Line,
}

/// What to send without stdin (connect, listen).
#[derive(Debug, Args, Clone, Default)]
pub struct SendArgs {
    /// Send TEXT (repeatable, in order with the other --send* flags); escapes \n \r \t \0 \xHH \\; encoded with --encoding. On a stream, sends without --delay between them may arrive as one read.
    #[arg(long, value_name = "TEXT", help_heading = "Sending")]
    pub send: Vec<String>,
    /// Send bytes written in hex: "48 65", 4865, 0x48,0x65 or \x48\x65 (repeatable).
    #[arg(long, value_name = "HEX", help_heading = "Sending")]
    pub send_hex: Vec<String>,
    /// Send the contents of a file (repeatable).
    #[arg(long, value_name = "PATH", help_heading = "Sending")]
    pub send_file: Vec<std::path::PathBuf>,
    /// Send a template rendered per message (repeatable, in order with the other --send* flags): {n} {time} {peer} {rand:N} {hex:01 02} {seq:u16be} and checksums over what comes before them: {crc16:modbus} {crc16:ccitt} {crc16:xmodem} {crc32} {sum8} {xor8} {lrc}.
    #[arg(long, value_name = "TEMPLATE", help_heading = "Sending")]
    pub send_template: Vec<String>,
    /// Line ending appended to each --send and, in line mode, to each stdin line.
    #[arg(long, value_enum, value_name = "EOL", help_heading = "Sending")]
    pub eol: Option<Eol>,
    /// Line mode: each stdin line is one message (encoded with --encoding, ending replaced by --eol). On by default when stdin is a terminal.
    #[arg(long, help_heading = "Sending")]
    pub lines: bool,
    /// Send stdin's bytes exactly as they come, even with a non-UTF-8 --encoding (which otherwise re-encodes the text read from stdin).
    #[arg(long, help_heading = "Sending")]
    pub raw_stdin: bool,
    /// Repeat the sends every DURATION (auto-send); with --count N, N rounds (0: until Ctrl-C, the default with --interval).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Sending")]
    pub interval: Option<Duration>,
    /// How many rounds of sends (0: until Ctrl-C).
    #[arg(long, value_name = "N", help_heading = "Sending")]
    pub count: Option<u64>,
    /// The order of the --send* flags on the command line (filled in by `parse`).
    #[arg(skip)]
    pub order: Vec<SendSpec>,
}

impl SendArgs {
    /// True when the sends are binary (`--send-hex`, templates with
    /// payload macros): transcripts show them as hex, never decoded.
    pub fn binary_sends(&self) -> bool {
        !self.send_hex.is_empty()
            || self.send_template.iter().any(|t| {
                crate::template::Template::parse(t, crate::template::CTIME_FORMAT)
                    .is_ok_and(|t| t.has_macros())
            })
    }

    /// The auto-send plan and how stdin lines are made, validated;
    /// `time_format` is the strftime layout of `{time}` in templates.
    pub fn plan(
        &self,
        encoding: TextEncoding,
        time_format: &str,
    ) -> Result<(SendPlan, LineMode), ConfigError> {
        let specs = if self.order.is_empty() {
            let mut specs: Vec<SendSpec> = self.send.iter().cloned().map(SendSpec::Text).collect();
            specs.extend(self.send_hex.iter().cloned().map(SendSpec::Hex));
            specs.extend(self.send_file.iter().cloned().map(SendSpec::File));
            specs.extend(self.send_template.iter().cloned().map(SendSpec::Template));
            specs
        } else {
            self.order.clone()
        };
        let payloads =
            crate::send::resolve(&specs, encoding, self.eol.unwrap_or(Eol::None), time_format)?;
        if payloads.is_empty() && (self.interval.is_some() || self.count.is_some()) {
            return Err(ConfigError::new(
                "--interval and --count repeat sends: give --send TEXT, --send-hex HEX, --send-template TEMPLATE or --send-file PATH too".into(),
            ));
        }
        if self.interval == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "--interval 0 would flood the peer (give e.g. --interval 1s)".into(),
            ));
        }
        let rounds = match (self.count, self.interval) {
            (Some(0), _) | (None, Some(_)) => None,
            (Some(n), _) => Some(n),
            (None, None) => Some(1),
        };
        Ok((
            SendPlan {
                payloads,
                interval: self.interval,
                rounds,
                gap: None,
            },
            LineMode {
                lines: self.lines,
                eol: self.eol,
                encoding,
                delay: None,
                raw_stdin: self.raw_stdin,
            },
        ))
    }
}

/// How stdin becomes messages: line mode (`--lines`, or a terminal), the
/// line ending put on each line, and the encoding typed text is sent in.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineMode {
    /// `--lines`: each stdin line is one message.
    pub lines: bool,
    /// `--eol`: the ending each line gets (`None`: as typed).
    pub eol: Option<Eol>,
    /// `--encoding`: typed text is encoded with it.
    pub encoding: TextEncoding,
    /// `--delay`: the pause between stdin lines (line mode on).
    pub delay: Option<Duration>,
    /// `--raw-stdin`: stdin's bytes go out unchanged whatever `--encoding`.
    pub raw_stdin: bool,
}

impl ViewArgs {
    /// The view options, with status lines at `verbosity`.
    pub fn options(&self, verbosity: Verbosity) -> Result<ViewOptions, ConfigError> {
        if self.stats_interval == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "--stats-interval 0 would print without end (give e.g. --stats-interval 1s)".into(),
            ));
        }
        let encoding = self
            .encoding
            .as_deref()
            .map(TextEncoding::from_label)
            .transpose()?;
        if self.pcap_max.is_some() && self.pcap.is_none() {
            return Err(ConfigError::new(
                "--pcap-max bounds a capture file: add --pcap FILE (e.g. --pcap capture.pcapng --pcap-max 10m)".into(),
            ));
        }
        let min = crate::pcap::file::MIN_MAX_SIZE;
        if let Some(max) = self.pcap_max.filter(|&m| (m as u64) < min) {
            return Err(ConfigError::new(format!(
                "--pcap-max {max} is too small for a capture file (give at least {}k, e.g. --pcap-max 10m)",
                min / 1024
            )));
        }
        let pcap = self.pcap.clone().map(|path| crate::pcap::PcapOptions {
            path,
            max: self.pcap_max.map(|m| m as u64),
        });
        Ok(ViewOptions {
            pcap,
            verbosity,
            encoding,
            hex: self.hex.is_some(),
            hex_line: self.hex == Some(HexStyle::Line),
            stats_interval: self.stats_interval,
            text: self.text,
            timestamps: self.timestamps,
            json: self.json,
            log: self.log.clone(),
            stats: self.stats,
            color: self.color,
            ..ViewOptions::default()
        })
    }
}

impl CommonArgs {
    /// The socket options these flags set.
    pub fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            tls: std::sync::Arc::new(self.tls.options()),
            ws: std::sync::Arc::new(self.ws.options()),
            ip: std::sync::Arc::new(self.ip.options()),
            ..SocketOptions::default()
        }
    }

    /// How much status goes to stderr.
    pub fn verbosity(&self, verbose_by_default: bool) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if verbose_by_default || self.verbose {
            Verbosity::Normal
        } else {
            Verbosity::Notices
        }
    }
}

/// Parses a duration: `250ms`, `2s`, `1m30s`, or a bare number of seconds
/// (`2`, `0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && (0.0..1e9).contains(&secs) {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("invalid duration \"{text}\" (give a positive number of seconds, or e.g. 500ms, 2s, 1m)"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration \"{text}\": {e} (e.g. 500ms, 2s, 1m)"))
}

/// Parses a byte size: `1048576`, `64k`, `1m` (powers of 1024).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix("ib")
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(&t);
    let (digits, unit) = match t.char_indices().last() {
        Some((i, 'k')) => (&t[..i], 1024),
        Some((i, 'm')) => (&t[..i], 1024 * 1024),
        Some((i, 'g')) => (&t[..i], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            format!("invalid size \"{text}\" (give a positive number of bytes, e.g. 4096, 64k, 1m)")
        })
}

/// The most clients `--max-conns` may allow (far above what one process
/// can hold open; tokio's semaphore would panic near 2^61).
pub const MAX_CONNS_LIMIT: usize = 1_000_000;

/// The longest `--max-frame` (1 GiB): one message is held in memory whole.
pub const MAX_FRAME_LIMIT: usize = 1024 * 1024 * 1024;

/// The shortest `--reconnect-max`: below it reconnects would spin.
pub const MIN_RECONNECT_MAX: Duration = Duration::from_millis(100);

/// Parses `--max-conns N`: 1 to [`MAX_CONNS_LIMIT`].
pub fn parse_max_conns(text: &str) -> Result<usize, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=MAX_CONNS_LIMIT as u64).contains(&n) => Ok(n as usize),
        _ => Err(format!(
            "give a number of clients from 1 to {MAX_CONNS_LIMIT}, e.g. --max-conns 100"
        )),
    }
}

/// Parses `--max-frame BYTES`: a size up to [`MAX_FRAME_LIMIT`].
pub fn parse_max_frame(text: &str) -> Result<usize, String> {
    let n = parse_size(text)?;
    if n > MAX_FRAME_LIMIT {
        return Err(format!(
            "{text} is more than the 1g a message may hold in memory (e.g. --max-frame 1m)"
        ));
    }
    Ok(n)
}

/// Parses `--idle-timeout DURATION`: longer than 0 (a zero timeout
/// would close every connection the moment it opens).
pub fn parse_idle_timeout(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!(
            "{text} would close every connection at once (give a positive duration, e.g. --idle-timeout 30s, or leave the flag out for none)"
        ));
    }
    Ok(d)
}

/// Parses `--reconnect-max DURATION`: at least [`MIN_RECONNECT_MAX`].
pub fn parse_reconnect_max(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < MIN_RECONNECT_MAX {
        return Err(format!(
            "{text} would reconnect in a tight loop (give at least 100ms, e.g. --reconnect-max 5s)"
        ));
    }
    Ok(d)
}

/// The `--exec`/`--sh-exec` command of `connect` or `listen`, if one is
/// given (`--pty` needs one).
pub fn exec_spec(
    exec: &Option<String>,
    sh_exec: &Option<String>,
    stderr: bool,
    pty: bool,
) -> Result<Option<ExecSpec>, ConfigError> {
    if pty && !crate::sys::unsupported::PTY {
        return Err(ConfigError::new(crate::sys::unsupported::refusal(
            "--pty",
            "run the command without it (its stdin and stdout are the connection)",
        )));
    }
    let spec =
        match (exec, sh_exec) {
            (Some(cmd), _) => ExecSpec::direct(cmd, stderr),
            (None, Some(cmd)) => ExecSpec::shell(cmd, stderr),
            (None, None) if pty => return Err(ConfigError::new(
                "--pty runs the --exec command on a terminal: give --exec CMD or --sh-exec CMD too"
                    .into(),
            )),
            (None, None) => return Ok(None),
        };
    spec.map(|s| Some(s.with_pty(pty)))
        .map_err(ConfigError::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_timeout_is_kept_and_zero_refused() {
        let args = |t: Option<Duration>| ProxyArgs {
            proxy: Some("socks5://127.0.0.1:1080".into()),
            proxy_timeout: t,
        };
        let proxy = args(None).proxy().unwrap().unwrap();
        assert_eq!(
            proxy.timeout,
            crate::transport::proxy::DEFAULT_PROXY_TIMEOUT
        );
        let proxy = args(Some(Duration::from_millis(300)))
            .proxy()
            .unwrap()
            .unwrap();
        assert_eq!(proxy.timeout, Duration::from_millis(300));
        let err = args(Some(Duration::ZERO)).proxy().unwrap_err();
        assert!(err.to_string().contains("--proxy-timeout 0"), "{err}");
    }

    #[test]
    fn limits_refuse_nonsense() {
        assert_eq!(parse_max_conns("100"), Ok(100));
        assert!(parse_max_conns("0").is_err());
        assert!(parse_max_conns("2305843009213693952").is_err());
        assert!(parse_max_conns("18446744073709551615").is_err());
        assert_eq!(parse_max_frame("1m"), Ok(1024 * 1024));
        assert!(parse_max_frame("18446744073709551615").is_err());
        assert!(parse_max_frame("2g").is_err());
        assert!(parse_reconnect_max("0").is_err());
        assert!(parse_idle_timeout("0").is_err());
        assert!(parse_idle_timeout("0ms").is_err());
        assert_eq!(parse_idle_timeout("1ms"), Ok(Duration::from_millis(1)));
        assert!(parse_reconnect_max("1ns").is_err());
        assert_eq!(parse_reconnect_max("5s"), Ok(Duration::from_secs(5)));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("50ms").unwrap(), Duration::from_millis(50));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("inf").is_err());
    }
}
