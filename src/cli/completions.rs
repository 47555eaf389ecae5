//! `sockmate completions SHELL`: a completion script generated from the
//! clap definitions (clap_complete), so it always matches the flags.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

/// The name the scripts complete (the installed binary's name).
pub const BIN_NAME: &str = "sockmate";

/// `sockmate completions`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Install (or let a package do it):
  bash:  sockmate completions bash > ~/.local/share/bash-completion/completions/sockmate
  zsh:   sockmate completions zsh > ~/.zfunc/_sockmate   (with fpath+=~/.zfunc before compinit)
  fish:  sockmate completions fish > ~/.config/fish/completions/sockmate.fish
  powershell:  sockmate completions powershell >> $PROFILE
  elvish:  sockmate completions elvish >> ~/.config/elvish/rc.elv")]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut buf);
    buf
}

/// Writes the script to stdout.
pub fn run(args: CompletionsArgs) -> anyhow::Result<()> {
    super::print::stdout_all(&script(args.shell))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_that_knows_the_commands() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let text = String::from_utf8(script(shell)).expect("utf-8");
            for word in ["connect", "listen", "relay", "completions", "man"] {
                assert!(text.contains(word), "{shell}: no {word}");
            }
        }
    }
}
