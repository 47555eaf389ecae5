//! `sockmate ui` and the `--ui` flag: the command line's door to the
//! browser page (the page itself is [`crate::ui`], which builds without
//! clap).

use clap::Args;

use crate::shutdown::Shutdown;
use crate::ui::{parse_bind, say, RecordDir, UiServer};

/// `sockmate ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// Address to serve the page on: PORT, IP or IP:PORT (default 127.0.0.1, port 0 = any free port). Anything but loopback lets other hosts reach it (they still need the token).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        help_heading = "Endpoint and socket"
    )]
    pub bind: String,
    /// Start the system's browser on the page.
    #[arg(long, help_heading = "Views")]
    pub open: bool,
    /// The one directory "Record to file" writes into (the page names a file in it by name alone). Default: a `sockmate` folder in the user's data directory.
    #[arg(long, value_name = "DIR", help_heading = "Views")]
    pub record_dir: Option<std::path::PathBuf>,
}

/// `--ui` on connect, listen and relay.
#[derive(Debug, Clone, Default, Args)]
pub struct UiFlag {
    /// Also show this session live in the browser: prints `ui on http://127.0.0.1:PORT/#token=…` on stderr.
    #[arg(long, help_heading = "Views")]
    pub ui: bool,
}

/// Runs `sockmate ui` until interrupted.
pub async fn run(args: UiArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    let addr = parse_bind(&args.bind)?;
    let records = RecordDir::new(args.record_dir);
    let records_line = match records.path() {
        Some(dir) => format!("records go to {}", dir.display()),
        None => "records are off: no data directory (give --record-dir DIR)".to_string(),
    };
    let server = UiServer::start(addr, shutdown.clone(), records).await?;
    say(&format!("ui on {}", server.url()));
    say(&records_line);
    if args.open {
        open_browser(&server.url());
    }
    shutdown.cancelled().await;
    Ok(())
}

/// Starts the system's browser on `url`; a failure is one line.
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        say(&format!(
            "sockmate: cannot start a browser with {program} ({e}); open the address above yourself"
        ));
    }
}
