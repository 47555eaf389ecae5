//! The command-line front-end: clap definitions (each field's doc comment is
//! its help), their conversion into validated engine configs (`TryFrom`,
//! no I/O), terminal policy (stdin, `isatty`, what stdout shows), and the
//! exit codes. Grouped by job:
//!
//! - [`commands`]: one file per command with its flags, its conversion,
//!   its `run` and the tests of its flags;
//! - [`flags`]: the flag groups several commands share and how argv
//!   becomes them (endpoints, durations, TLS, services, proxies, profiles,
//!   usage errors);
//! - [`terminal`]: stdin, what stdout and stderr show, the console, live
//!   counters, progress;
//! - [`learn`]: the learner aids (examples, `--explain`, hints, the short
//!   help).
//!
//! Conventions: long flags are `--kebab-case`; durations accept `500ms`,
//! `2s`, `1m` or a bare number of seconds; endpoints are parsed after clap so
//! that a bad one gets sockmate's own one-line message and exit code 2.

/// Writes one line to stderr and ignores a failure: a closed or full
/// stderr must never panic (`eprintln!` does, exit 101).
/// The line is said in the chosen language (`--lang`, the locale).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = format!($($arg)*);
        let _ = writeln!(std::io::stderr(), "{}", $crate::messages::tr(&line));
    }};
}

pub mod commands;
pub mod flags;
pub mod learn;
pub mod terminal;

// Each file is also reachable at its short path (`crate::cli::connect`).
pub use commands::{
    bench, completions, connect, listen, man, ping, relay, replay, scan, transfer, ui_cmd, version,
};
pub use flags::{
    args, argv, end_args, profile, proxy_serve_args, serve_args, tls_args, usage_error, zone,
};
pub use learn::{examples, explain, explain_text, help_order, hints, ping_explain, short_help};
pub use terminal::{
    bench_view, console, live_stats, output, print, stdin, stdin_reader, transfer_view, wait_note,
};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{ConfigError, NetError};
use crate::send::SendSpec;
use crate::shutdown::{Shutdown, GRACE};
use args::SendArgs;
use bench::BenchArgs;
use connect::ConnectArgs;
use listen::ListenArgs;
use relay::RelayArgs;
use replay::ReplayArgs;
use scan::ScanArgs;
use transfer::{ReceiveArgs, SendFilesArgs};

/// sockmate: connect, listen, relay, inspect and measure sockets.
#[derive(Debug, Parser)]
#[command(name = "sockmate", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// With -V/--version: also the git commit, target, compiler and features (as `sockmate version`).
    #[arg(long, requires = "version")]
    pub verbose: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing buys nothing
pub enum Command {
    /// Connect to ENDPOINT: stdin goes to the socket, the socket to stdout.
    #[command(visible_alias = "c", after_help = examples::CONNECT)]
    Connect(ConnectArgs),
    /// Listen on ENDPOINT: serve one client (like nc -l), or many with -k.
    #[command(visible_alias = "l", after_help = examples::LISTEN)]
    Listen(ListenArgs),
    /// Forward every client of LISTEN to a new connection to TARGET (any kinds), optionally dumping the traffic.
    #[command(visible_alias = "r", after_help = examples::RELAY)]
    Relay(RelayArgs),
    /// Replay a recorded --json/--log session as its server (a device simulator) or as its client.
    #[command(after_help = examples::REPLAY)]
    Replay(ReplayArgs),
    /// Load-test ENDPOINT (echo, send, connect); or `bench merge A.json B.json` to merge --json reports.
    #[command(visible_alias = "b", after_help = examples::BENCH)]
    Bench(BenchArgs),
    /// Send files (and with -r directories) to a `sockmate receive`, checked by BLAKE3 (or SHA-256 with --digest sha256).
    #[command(after_help = examples::SEND)]
    Send(SendFilesArgs),
    /// Receive files from `sockmate send` into a directory, stored only once their digest checks.
    #[command(after_help = examples::RECEIVE)]
    Receive(ReceiveArgs),
    /// Probe which TCP (or UDP) ports of a host are open.
    #[command(after_help = examples::SCAN)]
    Scan(ScanArgs),
    /// Send ICMP echo requests to HOST (SOCK_DGRAM unprivileged, or SOCK_RAW as root) and print each reply's round trip, like ping(8).
    #[command(after_help = examples::PING)]
    Ping(ping::PingArgs),
    /// Serve the network debugging assistant in the browser: sessions, a send box (text/hex, encodings, auto-send), a live log and counters.
    Ui(ui_cmd::UiArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) on stdout.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(completions::CompletionsArgs),
    /// Write the manual pages (one per command) into DIR, or sockmate(1) to stdout.
    #[command(after_help = examples::MAN)]
    Man(man::ManArgs),
    /// Print the version, git commit and date, target, compiler and features.
    Version,
    /// Saved profiles: `profile show FILE.toml` prints the command line a profile stands for.
    Profile(ProfileCommand),
}

/// `sockmate profile …`.
#[derive(Debug, clap::Args)]
pub struct ProfileCommand {
    /// What to do with a profile.
    #[command(subcommand)]
    pub action: ProfileAction,
}

/// What `sockmate profile` does.
#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Print the command line and packets FILE stands for (after checking it).
    Show {
        /// The profile (TOML; see docs/profile.md).
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

/// Parses the process's command line, keeping the relative order of the
/// `--send`, `--send-hex` and `--send-file` flags.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// [`parse`] on given arguments (for tests).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let args = args.into_iter().map(Into::into).collect();
    let args = profile::expand(args).map_err(|message| {
        clap::Error::raw(
            clap::error::ErrorKind::ValueValidation,
            format!("{message}\n"),
        )
    })?;
    let matches = short_help::shape(Cli::command())
        .try_get_matches_from(argv::normalize(version::expand_verbose_flag(args)))?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Some((_, sub)) = matches.subcommand() {
        let send = match &mut cli.command {
            Command::Connect(a) => Some(&mut a.send),
            Command::Listen(a) => Some(&mut a.send),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(send) = send {
            send.order = send_order(sub, send);
        }
    }
    Ok(cli)
}

fn send_order(matches: &clap::ArgMatches, send: &SendArgs) -> Vec<SendSpec> {
    let indices = |id: &str| -> Vec<usize> {
        matches
            .try_get_raw_occurrences(id)
            .ok()
            .flatten()
            .map(|_| {
                matches
                    .indices_of(id)
                    .map(|i| i.collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let mut all: Vec<(usize, SendSpec)> = Vec::new();
    all.extend(
        indices("send")
            .into_iter()
            .zip(send.send.iter().cloned().map(SendSpec::Text)),
    );
    all.extend(
        indices("send_hex")
            .into_iter()
            .zip(send.send_hex.iter().cloned().map(SendSpec::Hex)),
    );
    all.extend(
        indices("send_file")
            .into_iter()
            .zip(send.send_file.iter().cloned().map(SendSpec::File)),
    );
    all.extend(
        indices("send_template")
            .into_iter()
            .zip(send.send_template.iter().cloned().map(SendSpec::Template)),
    );
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, spec)| spec).collect()
}

/// Parses the command line, runs one command, and returns its exit code
/// (0 ok, 1 network failure, 2 usage error, 130/143 interrupted by
/// SIGINT/SIGTERM).
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    crate::messages::set_language(crate::messages::Lang::of_command_line(&args, |name| {
        std::env::var(name).ok()
    }));
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(usage_error::report(&e, &args)),
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("sockmate: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli));
    // Threads blocked on stdin must not keep the process alive.
    runtime.shutdown_background();
    ExitCode::from(code)
}

async fn run(cli: Cli) -> u8 {
    let shutdown = Shutdown::new();
    let Ok(mut stop_signals) = crate::sys::signals::StopSignals::install() else {
        errln!("sockmate: cannot install signal handlers");
        return 1;
    };
    // From here on the live-counters signal (SIGUSR1, Ctrl-Break on
    // Windows) never kills us: it prints the counters (connect, listen,
    // relay) or does nothing.
    let _stats_signal = crate::sys::signals::StatsSignal::listen();
    let work = run_command(cli, shutdown.clone());
    tokio::pin!(work);
    let signal_code = tokio::select! {
        result = &mut work => return exit_code(result),
        code = stop_signals.recv() => code,
    };
    shutdown.cancel();
    // The command drains its connections within the grace period; give it
    // that and a moment to print its last lines.
    let last_words = GRACE + std::time::Duration::from_secs(1);
    if let Ok(Err(e)) = tokio::time::timeout(last_words, &mut work).await {
        tracing::debug!("after signal: {e:#}");
    }
    signal_code
}

async fn run_command(cli: Cli, shutdown: Shutdown) -> anyhow::Result<()> {
    match cli.command {
        Command::Connect(args) => connect::run(args.try_into()?, shutdown).await,
        Command::Listen(args) => listen::run(args.try_into()?, shutdown).await,
        Command::Relay(args) => relay::run(args.try_into()?, shutdown).await,
        Command::Replay(args) => replay::run(args.try_into()?, shutdown).await,
        Command::Bench(args) => bench::run(args.try_into()?, shutdown).await,
        Command::Send(args) => transfer::run_send(args.try_into()?, shutdown).await,
        Command::Receive(args) => transfer::run_receive(args.try_into()?, shutdown).await,
        Command::Scan(args) => scan::run(args.try_into()?, shutdown).await,
        Command::Ping(args) => ping::run(args.try_into()?, shutdown).await,
        Command::Ui(args) => ui_cmd::run(args, shutdown).await,
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Version => version::run(),
        Command::Profile(p) => match p.action {
            ProfileAction::Show { file } => {
                let text = profile::show(&file).map_err(ConfigError::new)?;
                print!("{text}");
                Ok(())
            }
        },
    }
}

fn exit_code(result: anyhow::Result<()>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            // A failure the status stream has already described sets the
            // exit status only.
            let reported = e
                .chain()
                .any(|cause| cause.downcast_ref::<NetError>().is_some_and(|n| n.reported));
            if !reported {
                errln!("sockmate: {e:#}");
            }
            let usage = e.chain().any(|cause| {
                cause.is::<ConfigError>()
                    || matches!(
                        cause.downcast_ref::<crate::engine::StartError>(),
                        Some(crate::engine::StartError::Config(_))
                    )
            });
            if usage {
                2
            } else {
                1
            }
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOCKMATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
