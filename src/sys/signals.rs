//! The signals the command line reacts to, on every platform.
//!
//! | meaning | POSIX | Windows |
//! |---|---|---|
//! | stop gracefully (exit 130) | `SIGINT` (Ctrl-C) | Ctrl-C |
//! | stop gracefully (exit 143) | `SIGTERM` | the console closing, log-off or shutdown |
//! | print the live counters | `SIGUSR1` | Ctrl-Break |

use std::io;

/// The signals that stop the program gracefully.
pub struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    interrupt: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    terminate: tokio::signal::windows::CtrlClose,
}

impl StopSignals {
    /// Starts listening (from here on these signals no longer kill the
    /// process at once).
    pub fn install() -> io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(windows)]
        {
            Ok(StopSignals {
                interrupt: tokio::signal::windows::ctrl_c()?,
                terminate: tokio::signal::windows::ctrl_close()?,
            })
        }
    }

    /// Waits for a stop signal and returns the exit code it stands for
    /// (130 for an interrupt, 143 for a termination, as a shell reports).
    pub async fn recv(&mut self) -> u8 {
        tokio::select! {
            _ = self.interrupt.recv() => 130,
            _ = self.terminate.recv() => 143,
        }
    }
}

/// The signal that asks for the live counters: `SIGUSR1` on POSIX,
/// Ctrl-Break on Windows.
pub struct StatsSignal {
    #[cfg(unix)]
    inner: tokio::signal::unix::Signal,
    #[cfg(windows)]
    inner: tokio::signal::windows::CtrlBreak,
}

/// How a user asks a running command for its counters, for help texts.
pub const STATS_SIGNAL_HINT: &str = if cfg!(windows) {
    "press Ctrl-Break"
} else {
    "send SIGUSR1 (kill -USR1 PID)"
};

impl StatsSignal {
    /// Starts listening; from here on the signal never kills the process.
    pub fn listen() -> Option<StatsSignal> {
        #[cfg(unix)]
        let inner =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).ok()?;
        #[cfg(windows)]
        let inner = tokio::signal::windows::ctrl_break().ok()?;
        Some(StatsSignal { inner })
    }

    /// Waits for the next one; `false` once no more can come.
    pub async fn recv(&mut self) -> bool {
        self.inner.recv().await.is_some()
    }
}

impl std::fmt::Debug for StatsSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatsSignal")
    }
}

/// Interrupts this process as Ctrl-C would (the console passes a Ctrl-C
/// typed while it edits a line on as this).
pub fn interrupt_self() {
    #[cfg(unix)]
    {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::INT);
    }
    #[cfg(windows)]
    super::win::console_ctrl_c();
}
