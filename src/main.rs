//! The `sockmate` binary: parse the command line, run one command, map the
//! outcome to an exit code (0 ok, 1 network failure, 2 usage error,
//! 130/143 interrupted by SIGINT/SIGTERM).

use std::process::ExitCode;
use std::time::Duration;

use sockmate::cli::{Cli, Command, UsageError};
use sockmate::command::{self, Context};
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// How long a command gets to close its sockets after SIGINT/SIGTERM.
const SIGNAL_GRACE: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    let cli = match sockmate::cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sockmate: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(cli));
    // Threads blocked on stdin must not keep the process alive.
    runtime.shutdown_background();
    ExitCode::from(code)
}

async fn run(cli: Cli) -> u8 {
    let ctx = Context {
        shutdown: CancellationToken::new(),
    };
    let (mut sigint, mut sigterm) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        _ => {
            eprintln!("sockmate: cannot install signal handlers");
            return 1;
        }
    };
    let work = run_command(cli, ctx.clone());
    tokio::pin!(work);
    let signal_code = tokio::select! {
        result = &mut work => return exit_code(result),
        _ = sigint.recv() => 130,
        _ = sigterm.recv() => 143,
    };
    ctx.shutdown.cancel();
    if let Ok(Err(e)) = tokio::time::timeout(SIGNAL_GRACE, &mut work).await {
        tracing::debug!("after signal: {e:#}");
    }
    signal_code
}

async fn run_command(cli: Cli, ctx: Context) -> anyhow::Result<()> {
    match cli.command {
        Command::Connect(args) => command::connect::run(args.try_into()?, &ctx).await,
        Command::Listen(args) => command::listen::run(args.try_into()?, &ctx).await,
        Command::Relay(args) => command::relay::run(args.try_into()?, &ctx).await,
        Command::Bench(args) => command::bench::run(args.try_into()?, &ctx).await,
        Command::Send(args) => command::transfer::run_send(args.try_into()?, &ctx).await,
        Command::Receive(args) => command::transfer::run_receive(args.try_into()?, &ctx).await,
        Command::Scan(args) => command::scan::run(args.try_into()?, &ctx).await,
    }
}

fn exit_code(result: anyhow::Result<()>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sockmate: {e:#}");
            if e.chain().any(|cause| cause.is::<UsageError>()) {
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
