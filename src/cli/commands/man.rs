//! `sockmate man [DIR]`: manual pages generated from the clap definitions
//! (clap_mangen), one per command: `sockmate.1` and `sockmate-COMMAND.1`.
//!
//! Each page is clap_mangen's sections (name, synopsis, description,
//! options, commands, version) followed by EXAMPLES (from [`EXAMPLES`],
//! whose command lines a unit test parses with the real definitions), EXIT
//! STATUS and SEE ALSO.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_mangen::Man;
use roff::{bold, italic, roman, Roff};

use crate::cli::version::BUILD;
use crate::cli::Cli;

/// The manual section the pages belong to (user commands).
pub const SECTION: &str = "1";

/// `sockmate man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into DIR (sockmate.1, sockmate-connect.1, …), creating DIR if needed. Without DIR, print sockmate.1 on stdout (try: sockmate man | man -l -).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// One example: what it does and the arguments after `sockmate`.
pub type Example = (&'static str, &'static [&'static str]);

/// Examples by command (`""` is the top-level page). A command without an
/// entry fails the unit test, so a new command brings its examples.
pub const EXAMPLES: &[(&str, &[Example])] = &[
    (
        "",
        &[
            (
                "A server that prints what clients send, kept open for many clients:",
                &["listen", "9999", "-k"],
            ),
            (
                "A client: stdin to the socket, the socket to stdout:",
                &["connect", "127.0.0.1:9999"],
            ),
            (
                "Forward a local port to another host:",
                &["relay", "8080", "example.internal:80"],
            ),
        ],
    ),
    (
        "connect",
        &[
            (
                "Talk to a TCP server from the terminal:",
                &["connect", "127.0.0.1:9999"],
            ),
            (
                "Read a Modbus register over TCP, the CRC computed, shown as hex lines:",
                &[
                    "connect",
                    "127.0.0.1:502",
                    "--send-template",
                    "{hex:01 03 00 00 00 01}{crc16:modbus}",
                    "--hex=line",
                    "-t",
                ],
            ),
            (
                "Give a remote listener a shell on a terminal (like socat EXEC:sh,pty,setsid,ctty):",
                &["connect", "127.0.0.1:9999", "--pty", "--exec", "sh -i"],
            ),
            (
                "Send text and bytes over UDP and show the replies in hex:",
                &[
                    "connect",
                    "udp://127.0.0.1:5005",
                    "--send",
                    "PING\\r\\n",
                    "--send-hex",
                    "ff00",
                    "--hex",
                ],
            ),
            (
                "Poll a device every second with timestamps:",
                &[
                    "connect",
                    "127.0.0.1:5020",
                    "--send-hex",
                    "01 03 00 00 00 0a c5 cd",
                    "--interval",
                    "1s",
                    "-t",
                ],
            ),
            (
                "Talk to a Unix socket:",
                &["connect", "unix:///tmp/app.sock"],
            ),
        ],
    ),
    (
        "listen",
        &[
            ("Serve one client, like nc -l:", &["listen", "9999"]),
            (
                "An echo server for any number of clients:",
                &["listen", "7007", "-k", "--serve", "echo"],
            ),
            (
                "Reply to each line with a template:",
                &[
                    "listen",
                    "9999",
                    "-k",
                    "--frame",
                    "line",
                    "--reply",
                    "got {len} bytes: {hex}",
                ],
            ),
            (
                "Print datagrams and answer the last sender with stdin:",
                &["listen", "udp://127.0.0.1:5353"],
            ),
        ],
    ),
    (
        "relay",
        &[
            (
                "Forward local port 8080 to a web server, dumping the traffic in hex:",
                &["relay", "8080", "127.0.0.1:80", "--dump", "hex"],
            ),
            (
                "Put a TCP port in front of a Unix socket:",
                &["relay", "0.0.0.0:2375", "unix:///var/run/docker.sock"],
            ),
            (
                "Relay UDP, one flow per client address:",
                &["relay", "udp://127.0.0.1:5353", "udp://127.0.0.53:53"],
            ),
        ],
    ),
    (
        "replay",
        &[
            (
                "Be the device recorded in a relay's --log, answering by content:",
                &["replay", "device.log", "8000", "--as", "server"],
            ),
            (
                "The same, any Modbus TCP transaction id (bytes 0..2) accepted and echoed:",
                &[
                    "replay",
                    "device.log",
                    "8000",
                    "--as",
                    "server",
                    "--ignore",
                    "0..2",
                ],
            ),
            (
                "Be the client of a --json transcript, twice as fast:",
                &[
                    "replay",
                    "session.jsonl",
                    "127.0.0.1:8000",
                    "--as",
                    "client",
                    "--speed",
                    "2",
                ],
            ),
        ],
    ),
    (
        "bench",
        &[
            (
                "Round trips against an echo server for two seconds:",
                &["bench", "127.0.0.1:7000", "-d", "2s"],
            ),
            (
                "Eight connections for 30 seconds, as JSON to merge later:",
                &[
                    "bench",
                    "echo-server:7000",
                    "-c",
                    "8",
                    "-d",
                    "30s",
                    "--json",
                ],
            ),
            (
                "Merge reports taken on two machines at the same time:",
                &["bench", "merge", "a.json", "b.json"],
            ),
            (
                "A self-contained HTML page with the latency curve, histogram and throughput:",
                &["bench", "127.0.0.1:7000", "-d", "10s", "--report", "run.html"],
            ),
            (
                "Two saved runs on the same charts:",
                &[
                    "bench",
                    "merge",
                    "--compare",
                    "a.json",
                    "b.json",
                    "--report",
                    "cmp.html",
                ],
            ),
        ],
    ),
    (
        "send",
        &[
            (
                "Send a file to a sockmate receive:",
                &["send", "127.0.0.1:9000", "report.pdf"],
            ),
            (
                "Send a directory and everything in it:",
                &["send", "-r", "127.0.0.1:9000", "photos"],
            ),
            (
                "Send raw bytes to nc -l:",
                &["send", "--raw", "127.0.0.1:9000", "report.pdf"],
            ),
        ],
    ),
    (
        "receive",
        &[
            (
                "Receive files into in/:",
                &["receive", "9000", "--dir", "in/"],
            ),
            (
                "Resume interrupted transfers:",
                &["receive", "9000", "--dir", "in/", "--resume"],
            ),
            (
                "Receive raw bytes from nc into a file:",
                &["receive", "--raw", "9000", "-o", "from-nc.bin"],
            ),
        ],
    ),
    (
        "scan",
        &[
            (
                "Probe a range of TCP ports:",
                &["scan", "127.0.0.1", "1-1024"],
            ),
            (
                "Show only the open ports among all of them:",
                &["scan", "127.0.0.1", "-", "--open"],
            ),
            (
                "Probe UDP ports with a payload:",
                &["scan", "127.0.0.1", "53,123", "--udp", "--send", "hello"],
            ),
        ],
    ),
    (
        "ping",
        &[
            (
                "Three echo requests, then ping(8)'s statistics:",
                &["ping", "127.0.0.1", "--count", "3"],
            ),
            (
                "IPv6 loopback, five requests 200 ms apart, 1000-byte payloads:",
                &["ping", "::1", "-c", "5", "-i", "200ms", "--size", "1000"],
            ),
            (
                "Narrate the socket() call (SOCK_DGRAM or SOCK_RAW) with its Python line:",
                &["ping", "127.0.0.1", "-c", "2", "--explain"],
            ),
            (
                "ICMP round-trip percentiles:",
                &["bench", "icmp://127.0.0.1", "-d", "5s"],
            ),
        ],
    ),
    (
        "ui",
        &[
            (
                "Open the network debugging assistant in the browser:",
                &["ui", "--open"],
            ),
            (
                "Serve it on a fixed port:",
                &["ui", "--bind", "127.0.0.1:8080"],
            ),
        ],
    ),
    (
        "completions",
        &[
            (
                "Install bash completion for the current user:",
                &["completions", "bash"],
            ),
            (
                "Print the zsh completion function:",
                &["completions", "zsh"],
            ),
        ],
    ),
    (
        "man",
        &[
            ("Read this manual without installing it:", &["man"]),
            ("Write every page into a directory:", &["man", "target/man"]),
        ],
    ),
    (
        "profile",
        &[(
            "Print the command line a saved profile stands for:",
            &["profile", "show", "modbus.toml"],
        )],
    ),
    (
        "version",
        &[
            ("Show how this binary was built:", &["version"]),
            ("The same, with flags:", &["-V", "--verbose"]),
        ],
    ),
];

/// Where a shell redirect completes an example's command line, by its arguments.
const EXAMPLE_SUFFIXES: &[(&[&str], &str)] = &[
    (
        &["completions", "bash"],
        " > ~/.local/share/bash-completion/completions/sockmate",
    ),
    (&["man"], " | man -l -"),
];

/// The EXIT STATUS section's entries, as `main` maps results to codes.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Success: the work is done, or the peer closed after all input was delivered.",
    ),
    (
        "1",
        "A network or I/O failure; the cause is printed on standard error.",
    ),
    (
        "2",
        "A usage error: an unknown flag, a bad endpoint or an invalid combination of options.",
    ),
    (
        "130",
        "Stopped by SIGINT (Ctrl-C), after open connections were given a grace period to drain.",
    ),
    ("143", "Stopped by SIGTERM, likewise."),
];

/// The examples of the command named `name` (`""` for the top level).
pub fn examples(name: &str) -> Option<&'static [Example]> {
    EXAMPLES.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// `args` as one shell command line, quoting what the shell would split.
pub fn shell_line(args: &[&str]) -> String {
    let mut line = String::from("sockmate");
    for arg in args {
        line.push(' ');
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:,@=+%".contains(c));
        if plain {
            line.push_str(arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', "'\\''"));
            line.push('\'');
        }
    }
    if let Some((_, suffix)) = EXAMPLE_SUFFIXES.iter().find(|(a, _)| *a == args) {
        line.push_str(suffix);
    }
    line
}

/// Every page: `(file name, roff text)`, the top level first.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let subcommands: Vec<clap::Command> = root
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let see_also: Vec<String> = subcommands.iter().map(page_name).collect();
    let mut pages = vec![render(&root, "", &see_also)];
    for sub in &subcommands {
        let me = page_name(sub);
        let others: Vec<String> = std::iter::once("sockmate".to_string())
            .chain(see_also.iter().filter(|p| **p != me).cloned())
            .collect();
        pages.push(render(sub, sub.get_name(), &others));
    }
    pages
}

/// `sockmate` or `sockmate-connect`: a page's name without its section.
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// One page: clap_mangen's sections plus EXAMPLES, EXIT STATUS and SEE ALSO.
fn render(cmd: &clap::Command, name: &str, see_also: &[String]) -> (String, Vec<u8>) {
    let mut man = Man::new(cmd.clone())
        .section(SECTION)
        .manual("sockmate manual")
        .source(format!("sockmate {}", BUILD.version));
    if BUILD.commit_date != "unknown" {
        man = man.date(BUILD.commit_date);
    }
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = render_into(&man, cmd, name, see_also, &mut out);
    (man.get_filename(), out)
}

fn render_into(
    man: &Man,
    cmd: &clap::Command,
    name: &str,
    see_also: &[String],
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    man.render_title(out)?;
    man.render_name_section(out)?;
    synopsis(cmd, name).to_writer(out)?;
    man.render_description_section(out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(out)?;
    }

    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for (what, args) in examples(name).unwrap_or_default() {
        roff.control("TP", []);
        roff.text([roman(*what)]);
        // Indented and unfilled: a command line is shown as typed.
        roff.control("RS", []);
        roff.control("nf", []);
        roff.text([bold(shell_line(args))]);
        roff.control("fi", []);
        roff.control("RE", []);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in EXIT_STATUS {
        roff.control("TP", []);
        roff.text([bold(*code)]);
        roff.text([roman(*meaning)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let others: Vec<(&str, &str)> = see_also
        .iter()
        .map(|p| (p.as_str(), SECTION))
        .chain([("nc", "1"), ("socat", "1")])
        .collect();
    let refs: Vec<_> = others
        .iter()
        .enumerate()
        .flat_map(|(i, (page, section))| {
            let sep = if i + 1 < others.len() { ", " } else { "" };
            [bold(*page), roman(format!("({section}){sep}"))]
        })
        .collect();
    roff.text(refs);
    roff.control("PP", []);
    roff.text([
        roman("The "),
        italic("README.md"),
        roman(" of the source tree has a tour of every command."),
    ]);
    roff.to_writer(out)?;

    man.render_version_section(out)?;
    Ok(())
}

/// SYNOPSIS with each flag's value name (`[--backlog N]`, `[-4]`), which
/// clap_mangen leaves out.
fn synopsis(cmd: &clap::Command, name: &str) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    let title = match name {
        "" => "sockmate".to_string(),
        sub => format!("sockmate {sub}"),
    };
    let mut parts = vec![bold(title)];
    let mut positionals = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let value = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string());
        if arg.is_positional() {
            let name = value.unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            let required = arg.is_required_set();
            positionals.push(match required {
                true => italic(name),
                false => italic(format!("[{name}]")),
            });
            continue;
        }
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
        let names: Vec<String> = arg
            .get_short()
            .map(|c| format!("-{c}"))
            .into_iter()
            .chain(arg.get_long().map(|l| format!("--{l}")))
            .collect();
        parts.push(roman(" ["));
        parts.push(bold(names.join("|")));
        if let (true, Some(value)) = (takes_value, value) {
            let optional = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
            parts.push(match (optional, arg.is_require_equals_set()) {
                (true, _) => italic(format!("[={value}]")),
                (false, true) => italic(format!("={value}")),
                (false, false) => italic(format!(" {value}")),
            });
        }
        parts.push(roman("]"));
    }
    if cmd.has_subcommands() {
        parts.push(roman(" "));
        parts.push(italic("COMMAND"));
    }
    for p in positionals {
        parts.push(roman(" "));
        parts.push(p);
    }
    roff.text(parts);
    roff
}

/// Writes every page into `dir` and returns their paths.
pub fn write_pages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (file, text) in pages() {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes the pages into DIR (naming each on stderr), or the top page to stdout.
pub fn run(args: ManArgs) -> anyhow::Result<()> {
    match args.dir {
        Some(dir) => {
            for path in write_pages(&dir)? {
                errln!("wrote {}", path.display());
            }
        }
        None => {
            let (_, text) = pages().swap_remove(0);
            crate::cli::print::stdout_all(&text)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_examples_that_parse() {
        let root = Cli::command();
        let mut names: Vec<&str> = vec![""];
        names.extend(root.get_subcommands().map(|s| s.get_name()));
        for name in names {
            let list = examples(name).unwrap_or_else(|| panic!("no EXAMPLES for {name:?}"));
            assert!(!list.is_empty(), "{name:?}");
            for (_, args) in list {
                let argv = std::iter::once("sockmate").chain(args.iter().copied());
                if let Err(e) = crate::cli::parse_from(argv) {
                    // -V --verbose becomes `version` before clap sees it.
                    if *args != ["-V", "--verbose"] {
                        panic!("example `{}` does not parse: {e}", shell_line(args));
                    }
                }
            }
        }
    }

    #[test]
    fn servers_in_the_examples_run_as_a_normal_user() {
        for (name, list) in EXAMPLES {
            for (_, args) in list.iter() {
                let Some(at) = args
                    .iter()
                    .position(|a| matches!(*a, "listen" | "relay" | "receive"))
                else {
                    continue;
                };
                let Some(endpoint) = args[at + 1..].iter().find(|a| !a.starts_with('-')) else {
                    continue;
                };
                let port = endpoint
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse::<u32>().ok());
                if let Some(port) = port {
                    assert!(port == 0 || port >= 1024, "{name:?}: {}", shell_line(args));
                }
            }
        }
        let text = String::from_utf8_lossy(&pages()[2].1).into_owned();
        assert!(
            text.contains("--backlog\\fR\\fI N\\fR") || text.contains("\\fI N\\fR"),
            "{text}"
        );
    }

    #[test]
    fn one_page_per_command_with_the_extra_sections() {
        let pages = pages();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "sockmate.1");
        assert!(names.contains(&"sockmate-connect.1"));
        assert!(!names.contains(&"sockmate-help.1"));
        assert_eq!(pages.len(), Cli::command().get_subcommands().count() + 1);
        for (name, text) in &pages {
            let text = String::from_utf8_lossy(text);
            for section in [".SH EXAMPLES", ".SH \"EXIT STATUS\"", ".SH SYNOPSIS"] {
                assert!(text.contains(section), "{name}: no {section}");
            }
            assert!(text.contains("\\fBnc\\fR(1)"), "{name}: SEE ALSO nc(1)");
            assert!(
                text.contains("sockmate\\-listen\\fR(1)") || name == "sockmate-listen.1",
                "{name}: SEE ALSO the other pages"
            );
            assert!(
                text.contains("\\fBsocat\\fR(1)"),
                "{name}: SEE ALSO socat(1)"
            );
            assert!(!text.contains("4 \\fR]"), "{name}: no [-4  ]");
        }
    }

    #[test]
    fn shell_lines_quote_what_the_shell_would_split() {
        assert_eq!(shell_line(&["listen", "9999"]), "sockmate listen 9999");
        assert_eq!(
            shell_line(&["connect", "x:1", "--send", "it's"]),
            "sockmate connect x:1 --send 'it'\\''s'"
        );
    }
}
