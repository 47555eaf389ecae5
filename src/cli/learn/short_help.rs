//! `-h` is a summary (usage, the flags most people use, examples, a pointer
//! to `--help`); `--help` is everything, as ripgrep and fd do it. The
//! commands with many flags get the summary; the others are short already.

use clap::Command;

/// The flags `-h` shows, per command (argument ids); every other flag is
/// left to `--help`.
const SUMMARY: &[(&str, &[&str])] = &[
    (
        "connect",
        &[
            "send",
            "lines",
            "eol",
            "delay",
            "wait",
            "encoding",
            "hex",
            "timestamps",
            "explain",
            "verbose",
        ],
    ),
    (
        "listen",
        &[
            "keep_open",
            "serve",
            "banner",
            "reply",
            "quit_word",
            "frame",
            "respond",
            "encoding",
            "hex",
            "explain",
        ],
    ),
    (
        "relay",
        &[
            "dump",
            "frame",
            "encoding",
            "hex",
            "timestamps",
            "explain",
            "verbose",
        ],
    ),
    (
        "replay",
        &[
            "role",
            "match_mode",
            "ignore",
            "unmatched_reply",
            "speed",
            "no_timing",
            "looped",
            "encoding",
            "hex",
            "json",
        ],
    ),
    (
        "send",
        &["listen", "keep_open", "recursive", "raw", "json", "quiet"],
    ),
    (
        "receive",
        &[
            "connect",
            "keep_open",
            "dir",
            "output",
            "overwrite",
            "resume",
            "raw",
            "json",
        ],
    ),
    (
        "ping",
        &["count", "interval", "size", "timeout", "json", "explain"],
    ),
    (
        "bench",
        &[
            "mode",
            "size",
            "rate",
            "pipeline",
            "connections",
            "duration",
            "json",
            "report",
        ],
    ),
];

/// The most examples `-h` shows; `--help` shows them all.
const EXAMPLES_IN_SUMMARY: usize = 8;

/// The line after the examples in `-h`.
const MORE: &str = "-h shows the most used flags; --help shows them all, grouped.";

/// `cli` with the summaries: in each summarised command every flag not
/// listed is hidden from `-h` (not from `--help`, the man pages or the
/// completions, which are built from the plain command).
pub fn shape(mut cli: Command) -> Command {
    for (name, shown) in SUMMARY {
        cli = cli.mut_subcommand(*name, |mut cmd| {
            let hidden: Vec<String> = cmd
                .get_arguments()
                .filter(|a| !a.is_positional() && !shown.contains(&a.get_id().as_str()))
                .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
                .map(|a| a.get_id().to_string())
                .collect();
            for id in hidden {
                cmd = cmd.mut_arg(id, |a| a.hide_short_help(true));
            }
            let listed: Vec<String> = cmd
                .get_arguments()
                .filter(|a| a.is_positional() || shown.contains(&a.get_id().as_str()))
                .map(|a| a.get_id().to_string())
                .collect();
            for id in listed {
                cmd = cmd.mut_arg(id, |a| {
                    let full = a
                        .get_long_help()
                        .or(a.get_help())
                        .map(|h| h.to_string())
                        .unwrap_or_default();
                    let takes_value = a.get_num_args().is_some_and(|n| n.takes_values());
                    let a = a.help(summary(&full)).long_help(full);
                    match takes_value {
                        true => a.hide_possible_values(true),
                        false => a,
                    }
                });
            }
            let examples = cmd
                .get_after_help()
                .map(|e| e.to_string())
                .unwrap_or_default();
            let short_examples = first_examples(&examples, EXAMPLES_IN_SUMMARY);
            cmd.after_long_help(examples.clone())
                .after_help(format!("{short_examples}\n\n{MORE}"))
        });
    }
    cli
}

/// The `Examples:` block cut to its heading and first `max` examples (a
/// line that does not start with the indent of an example continues the
/// one before).
fn first_examples(examples: &str, max: usize) -> String {
    let mut kept = Vec::new();
    let mut count = 0;
    for line in examples.lines() {
        let starts_example = line.starts_with("  ") && !line.starts_with("   ");
        if starts_example {
            count += 1;
        }
        if count > max {
            break;
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// The first clause of a flag's help: up to `;`, `. ` or ` (`, and at most
/// about one line.
fn summary(full: &str) -> String {
    // Asides in parentheses are for --help.
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in full.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let plain = plain.replace("  ", " ").replace(" ,", ",");
    let full = plain.as_str();
    // A lead-in too short to say anything ("With --listen: …") keeps going.
    const SHORTEST: usize = 16;
    let end = ["; ", ". ", ": "]
        .iter()
        .flat_map(|stop| full.match_indices(stop).map(move |(at, _)| (at, *stop)))
        .filter(|&(at, stop)| stop != ": " || at >= SHORTEST)
        .map(|(at, _)| at)
        .min()
        .unwrap_or(full.len());
    let mut text = full[..end].trim_end().trim_end_matches('.').to_string();
    const WIDTH: usize = 64;
    if text.chars().count() > WIDTH {
        let cut: String = text.chars().take(WIDTH).collect();
        let at = cut.rfind([',', ' ']).unwrap_or(cut.len());
        text = format!("{}…", &cut[..at]);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn help(args: &[&str]) -> String {
        let mut argv = vec!["sockmate"];
        argv.extend_from_slice(args);
        let e = shape(crate::cli::Cli::command())
            .try_get_matches_from(argv)
            .unwrap_err();
        e.render().to_string()
    }

    #[test]
    fn a_summary_is_the_first_clause() {
        assert_eq!(summary("Send TEXT (repeatable); escapes"), "Send TEXT");
        assert_eq!(
            summary("A message equal to WORD (trimmed) closes it"),
            "A message equal to WORD closes it"
        );
        assert_eq!(summary("Only this."), "Only this");
        assert_eq!(
            summary("With --listen: serve every receiver; more"),
            "With --listen: serve every receiver"
        );
        assert!(summary(&"word ".repeat(40)).ends_with('…'));
    }

    #[test]
    fn dash_h_is_a_summary_and_dash_dash_help_everything() {
        for name in [
            "connect", "listen", "relay", "replay", "send", "receive", "bench", "ping",
        ] {
            let short = help(&[name, "-h"]);
            let long = help(&[name, "--help"]);
            assert!(short.lines().count() <= 40, "{name} -h:\n{short}");
            assert!(short.contains("--help shows them all"), "{short}");
            assert!(short.contains("Examples:"), "{short}");
            assert!(long.lines().count() > short.lines().count(), "{name}");
            assert!(long.contains("--reuseport") || name != "listen", "{long}");
            assert!(!long.contains("--help shows them all"), "{long}");
        }
    }
}
