//! `sockmate completions SHELL`: a completion script generated from the
//! clap definitions (clap_complete), so it always matches the flags.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::encoding::OFFERED_LABELS;

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

/// Values offered for flags that take any text but have usual values
/// (their parsers accept more, so clap cannot list them itself).
const SUGGESTED: &[(&str, &[&str])] = &[
    (
        "serve",
        &[
            "echo", "discard", "time", "chargen", "chat", "broker", "exec",
        ],
    ),
    (
        "frame",
        &["raw", "line", "crlf", "len16", "len32", "delim:0d0a"],
    ),
    ("encoding", &COMPLETED_ENCODINGS),
    ("dump", &["text", "hex", "json"]),
];

/// `--encoding`'s suggestions: the offered labels, then GBK's alias.
const COMPLETED_ENCODINGS: [&str; 12] = {
    let mut all = ["cp936"; 12];
    let mut i = 0;
    while i < OFFERED_LABELS.len() {
        all[i] = OFFERED_LABELS[i];
        i += 1;
    }
    all
};

/// Schemes offered for an endpoint.
const SCHEMES: &[&str] = &[
    "tcp://",
    "udp://",
    "unix://",
    "unix-dgram://",
    "unix-seqpacket://",
    "tls://",
    "ws://",
    "wss://",
    "serial://",
    "tls+unix://",
    "ws+unix://",
    "wss+unix://",
];

/// Positional endpoints, by argument id.
const ENDPOINT_IDS: &[&str] = &["endpoint", "listen", "target"];

/// `cmd` and its subcommands with the suggested values as possible
/// values. Only for generating scripts: the real parsers stay as they are.
fn with_suggestions(mut cmd: clap::Command) -> clap::Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        let values: Option<&[&str]> = SUGGESTED
            .iter()
            .find(|(name, _)| *name == id)
            .map(|(_, v)| *v)
            .or(ENDPOINT_IDS.contains(&id.as_str()).then_some(SCHEMES));
        if let Some(values) = values {
            cmd = cmd.mut_arg(id, |a| {
                a.value_parser(clap::builder::PossibleValuesParser::new(
                    values.iter().copied(),
                ))
            });
        }
    }
    // Only the commands that have such a flag are rebuilt: `bench merge`
    // does not survive a rebuild of its positionals.
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "bench" && s.get_arguments().any(suggested))
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, with_suggestions);
    }
    cmd
}

/// True for an argument that gets suggested values.
fn suggested(arg: &clap::Arg) -> bool {
    let id = arg.get_id().as_str();
    SUGGESTED.iter().any(|(name, _)| *name == id) || ENDPOINT_IDS.contains(&id)
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut cmd = with_suggestions(Cli::command());
    clap_complete::generate(shell, &mut cmd, BIN_NAME, &mut buf);
    buf
}

/// Writes the script to stdout.
pub fn run(args: CompletionsArgs) -> anyhow::Result<()> {
    crate::cli::print::stdout_all(&script(args.shell))
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
            for value in ["broker", "len16", "gb18030", "zh"] {
                assert!(text.contains(value), "{shell}: no {value}");
            }
            if shell == Shell::Bash {
                assert!(text.contains("unix-seqpacket://"), "endpoint schemes");
                assert!(!text.contains("--serve)\n                    COMPREPLY=($(compgen -f"));
            }
        }
    }
}
