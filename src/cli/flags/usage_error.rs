//! clap's refusals in sockmate's own style: one `sockmate: …` line saying
//! what is wrong, then one `  hint: …` line saying what to type, instead of
//! clap's multi-line `error:` block with its usage and tip.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::cli::hints;

/// Prints a refused command line (`args`: the whole command line, program
/// first) and returns the exit code: 2, or 0 for `--help`/`--version`.
pub fn report(e: &clap::Error, args: &[String]) -> u8 {
    if matches!(e.kind(), ErrorKind::DisplayHelp) {
        print_help(e);
        return 0;
    }
    if !e.use_stderr() {
        let _ = e.print();
        return 0;
    }
    let (what, hint) = explain(e, args);
    let tr = |line: String| format!("{}\n", crate::messages::tr(&line));
    let mut text = tr(format!("sockmate: {what}"));
    if let Some(hint) = hint {
        text.push_str(&tr(format!("  hint: {hint}")));
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    2
}

/// `-h`/`--help` with its headings in the one order of every command;
/// styled only on a terminal (and not under `NO_COLOR`), as clap does.
fn print_help(e: &clap::Error) {
    use std::io::IsTerminal;
    let rendered = e.render();
    let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = match styled {
        true => rendered.ansi().to_string(),
        false => rendered.to_string(),
    };
    let text = crate::cli::help_order::reorder(&text);
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
}

/// The one-line message and the hint for a refused command line.
pub fn explain(e: &clap::Error, args: &[String]) -> (String, Option<String>) {
    let what = first_line(e);
    let command = command_of(args);
    let help = match command {
        Some(c) => format!("sockmate {c} --help"),
        None => "sockmate --help".to_string(),
    };
    if let Some(hint) = hints::nc_hint(args) {
        return (what, Some(hint));
    }
    let suggested = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.last().cloned(),
        _ => None,
    };
    let hint = match e.kind() {
        ErrorKind::InvalidSubcommand => Some(match suggested(ContextKind::SuggestedSubcommand) {
            Some(sub) => format!("did you mean `sockmate {sub}`? (sockmate --help lists the commands)"),
            None => "the command comes first: sockmate connect HOST:PORT, sockmate listen PORT (sockmate --help lists them all)".into(),
        }),
        ErrorKind::UnknownArgument => Some(match suggested(ContextKind::SuggestedArg) {
            Some(arg) => format!("did you mean {arg}? ({help} lists every flag)"),
            None => format!("{help} lists every flag"),
        }),
        ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand => Some(
            match command {
                Some("connect" | "c") => "give the endpoint, e.g. sockmate connect 127.0.0.1:8000".into(),
                Some("listen" | "l") => "give the endpoint, e.g. sockmate listen 8000".into(),
                Some("relay" | "r") => "give both endpoints, e.g. sockmate relay 8080 127.0.0.1:80".into(),
                _ => format!("{help} shows what it needs, with examples"),
            },
        ),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::NoEquals => {
            Some(match (e.get(ContextKind::ValidValue), e.get(ContextKind::InvalidArg)) {
                (Some(ContextValue::Strings(values)), Some(arg)) if !values.is_empty() => {
                    format!("{} takes one of: {}", flag_name(arg), values.join(", "))
                }
                _ => format!("{help} describes each value"),
            })
        }
        _ => Some(format!("{help} shows the usage, with examples")),
    };
    (what, hint)
}

/// clap's message without `error: `, its usage and its tips; a list of
/// missing arguments joined onto the line.
fn first_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines();
    let mut what = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    if what.ends_with(':') {
        let items: Vec<&str> = lines
            .take_while(|l| l.starts_with("  "))
            .map(str::trim)
            .collect();
        what.push(' ');
        what.push_str(&items.join(", "));
    }
    what
}

/// The flag's name from clap's `--frame <FRAME>`.
fn flag_name(arg: &ContextValue) -> String {
    arg.to_string()
        .split_whitespace()
        .next()
        .unwrap_or("the flag")
        .to_string()
}

/// The subcommand the user typed, if any (the first word that is not a
/// flag, when it is a command).
fn command_of(args: &[String]) -> Option<&str> {
    use clap::CommandFactory;
    let word = args.iter().skip(1).find(|w| !w.starts_with('-'))?;
    let cli = crate::cli::Cli::command();
    let known = cli
        .get_subcommands()
        .any(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word));
    known.then_some(word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(line: &str) -> (String, String) {
        let args: Vec<String> = std::iter::once("sockmate")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        let e = crate::cli::parse_from(args.clone())
            .map(|_| ())
            .expect_err(line);
        let (what, hint) = explain(&e, &args);
        (what, hint.unwrap_or_default())
    }

    #[test]
    fn clap_errors_read_as_one_line_and_a_hint() {
        let (what, hint) = refused("connect 127.0.0.1:1 --sned x");
        assert_eq!(what, "unexpected argument '--sned' found");
        assert!(hint.contains("did you mean --send?"), "{hint}");
        let (what, hint) = refused("connect");
        assert!(what.ends_with("were not provided: <ENDPOINT>"), "{what}");
        assert!(hint.contains("sockmate connect 127.0.0.1:8000"), "{hint}");
        let (what, hint) = refused("conect x:1");
        assert!(what.contains("'conect'"), "{what}");
        assert!(hint.contains("`sockmate connect`"), "{hint}");
        let (_, hint) = refused("listen 1 --color sometimes");
        assert!(
            hint.contains("--color takes one of: auto, always, never"),
            "{hint}"
        );
        let (what, _) = refused("connect x:1 --wait");
        assert!(what.contains("a value is required for '--wait"), "{what}");
    }
}
