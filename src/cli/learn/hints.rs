//! Hints for nc, ncat and socat habits: when clap refuses a command line
//! that an nc user would type (`listen -u 9999`, `-l`, `-p`, `-e`, `-z`,
//! `-x`, `connect HOST PORT`), say how sockmate spells it instead of
//! clap's generic advice.

/// The hint for `args` (the whole command line, program first), if it
/// looks like an nc habit.
pub fn nc_hint(args: &[String]) -> Option<String> {
    let words: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let command = words
        .iter()
        .copied()
        .find(|w| !w.starts_with('-'))
        .filter(|w| {
            matches!(
                *w,
                "connect" | "c" | "listen" | "l" | "relay" | "r" | "bench" | "b" | "scan"
            )
        })
        .unwrap_or("");
    let listen = matches!(command, "listen" | "l") || has(&words, "-l");
    let connect = matches!(command, "connect" | "c");
    // The words that are neither a flag, a flag's value nor the command:
    // nc's host and port.
    let rest = positionals(&words, command);
    let port = rest
        .iter()
        .rev()
        .find(|w| w.parse::<u16>().is_ok())
        .copied();
    let host = rest
        .iter()
        .find(|w| w.parse::<u16>().is_err())
        .copied()
        .unwrap_or("127.0.0.1");
    if has(&words, "-u") {
        let p = port.unwrap_or("PORT");
        return Some(if listen {
            format!("nc's -u is written in the endpoint: write udp://127.0.0.1:{p} (sockmate listen udp://127.0.0.1:{p})")
        } else {
            format!("nc's -u is written in the endpoint: write udp://{host}:{p} (sockmate connect udp://{host}:{p})")
        });
    }
    if has(&words, "-e") || has(&words, "-c") {
        return Some(
            "nc's -e/-c: write --exec CMD (no shell) or --sh-exec CMD (through sh -c), e.g. sockmate listen 9999 --exec cat"
                .into(),
        );
    }
    if has(&words, "-z") {
        return Some(format!(
            "nc -z (port probe): write sockmate scan {host} {}",
            port.unwrap_or("1-1024")
        ));
    }
    if has(&words, "-l") && !matches!(command, "listen" | "l") {
        let p = port.unwrap_or("PORT");
        return Some(format!(
            "nc -l is a command here: write sockmate listen {p}"
        ));
    }
    if has(&words, "-p") {
        let p = port.unwrap_or("PORT");
        return Some(if listen {
            format!("the port goes in the endpoint: write sockmate listen {p} (or 0.0.0.0:{p})")
        } else {
            format!("the port goes in the endpoint: write sockmate connect {host}:{p}; for a source port use --bind 0.0.0.0:PORT")
        });
    }
    if has(&words, "-X") || (has(&words, "-x") && connect && rest.len() > 1) {
        return Some(
            "nc's -x/-X (proxy) is --proxy here (-X 5 -x P:1080 is --proxy socks5://P:1080; -X 4: socks4a://, -X connect: http://); -x is --hex".into(),
        );
    }
    if command.is_empty() {
        if let Some(hint) = no_command(&rest) {
            return Some(hint);
        }
    }
    if connect && rest.len() == 2 {
        if let (Some(h), Some(p)) = (rest.first(), port) {
            // A host that already holds a port is an endpoint, not nc's host.
            let has_port = h.contains(':') && h.parse::<std::net::Ipv6Addr>().is_err();
            if *h != p && !has_port {
                let endpoint = if h.contains(':') {
                    format!("[{h}]:{p}")
                } else {
                    format!("{h}:{p}")
                };
                return Some(format!(
                    "host and port are one endpoint: write sockmate connect {endpoint}"
                ));
            }
        }
    }
    None
}

/// nc's habit of starting with the address (`sockmate 127.0.0.1 8000`):
/// the command it most likely means.
fn no_command(rest: &[&str]) -> Option<String> {
    let first = *rest.first()?;
    let is_port = |w: &str| w.parse::<u16>().is_ok();
    let looks_like_host = |w: &str| {
        w == "localhost"
            || w.parse::<std::net::IpAddr>().is_ok()
            || (w.contains('.') && !w.contains('/'))
    };
    let bracket = |h: &str| match h.contains(':') && !h.starts_with('[') {
        true => format!("[{h}]"),
        false => h.to_string(),
    };
    match rest {
        [host, port] if looks_like_host(host) && is_port(port) => Some(format!(
            "the command comes first and host and port are one endpoint: write sockmate connect {}:{port} (or sockmate listen {port} for a server)",
            bracket(host)
        )),
        [port] if is_port(port) => Some(format!(
            "the command comes first: sockmate listen {port} for a server, sockmate connect 127.0.0.1:{port} for a client"
        )),
        [endpoint] if endpoint.contains("://")
            || endpoint
                .rsplit_once(':')
                .is_some_and(|(h, p)| is_port(p) && (looks_like_host(h) || h.ends_with(']'))) =>
        {
            Some(format!("the command comes first: write sockmate connect {first}"))
        }
        _ => None,
    }
}

/// The words that are not flags, not the value of a sockmate flag that
/// takes one (`--reconnect-max 0`, `--idle-timeout 5`) and not the command.
fn positionals<'a>(words: &[&'a str], command: &str) -> Vec<&'a str> {
    let mut rest = Vec::new();
    let mut skip_value = false;
    for &word in words {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if word.starts_with('-') {
            skip_value = takes_value(command, word);
        } else if word != command {
            rest.push(word);
        }
    }
    rest
}

/// True when `flag` (`--long` without `=VALUE`, or `-x`) is a flag of
/// sockmate's `command` that takes a value in the next word.
fn takes_value(command: &str, flag: &str) -> bool {
    use clap::CommandFactory;
    if flag.contains('=') || flag == "-" || flag == "--" {
        return false;
    }
    let cli = crate::cli::Cli::command();
    let Some(sub) = cli
        .get_subcommands()
        .find(|c| c.get_name() == command || c.get_all_aliases().any(|a| a == command))
    else {
        return false;
    };
    let matches = |arg: &clap::Arg| match flag.strip_prefix("--") {
        Some(long) => arg.get_long() == Some(long),
        None => {
            let mut letters = flag.chars().skip(1);
            match (letters.next(), letters.next()) {
                (Some(short), None) => arg.get_short() == Some(short),
                _ => false,
            }
        }
    };
    let found = sub
        .get_arguments()
        .find(|arg| matches(arg))
        .is_some_and(|arg| {
            arg.get_action().takes_values()
                && !arg.is_require_equals_set()
                && arg.get_num_args().is_none_or(|n| n.min_values() > 0)
        });
    found
}

fn has(words: &[&str], flag: &str) -> bool {
    let letter = flag.trim_start_matches('-');
    words.iter().any(|w| {
        *w == flag
            // Bundled short flags like -lvp or -uz.
            || (w.starts_with('-')
                && !w.starts_with("--")
                && w.len() > 2
                && w[1..].chars().all(|c| c.is_ascii_alphabetic())
                && w[1..].contains(letter))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_command_line_gets_at_most_a_hint(words in proptest::collection::vec("-?[a-z0-9:.]{0,6}|-[lupezxX]{1,3}", 0..6)) {
            let mut args = vec!["sockmate".to_string()];
            args.extend(words);
            let _ = nc_hint(&args);
        }
    }

    fn hint(line: &str) -> Option<String> {
        let args: Vec<String> = std::iter::once("sockmate")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        nc_hint(&args)
    }

    #[test]
    fn nc_habits_get_the_sockmate_spelling() {
        let h = hint("listen -u 9999").unwrap();
        assert!(h.contains("write udp://127.0.0.1:9999"), "{h}");
        assert!(hint("connect -u 10.0.0.1 53")
            .unwrap()
            .contains("udp://10.0.0.1:53"));
        assert!(hint("-l 9999").unwrap().contains("sockmate listen 9999"));
        assert!(hint("-lvp 9999").unwrap().contains("sockmate listen 9999"));
        assert!(hint("listen -p 9999").unwrap().contains("listen 9999"));
        assert!(hint("listen 9999 -e /bin/cat").unwrap().contains("--exec"));
        assert!(hint("connect -z 127.0.0.1 80")
            .unwrap()
            .contains("sockmate scan 127.0.0.1 80"));
        assert!(hint("connect -x 127.0.0.1:1080 example 80")
            .unwrap()
            .contains("-x is --hex"));
        assert!(hint("connect 127.0.0.1 80")
            .unwrap()
            .contains("sockmate connect 127.0.0.1:80"));
        assert!(hint("connect ::1 80").unwrap().contains("[::1]:80"));
        assert!(hint("127.0.0.1 8000")
            .unwrap()
            .contains("write sockmate connect 127.0.0.1:8000"));
        assert!(hint("::1 8000").unwrap().contains("connect [::1]:8000"));
        assert!(hint("8000").unwrap().contains("sockmate listen 8000"));
        assert!(hint("tcp://example.com:80")
            .unwrap()
            .contains("sockmate connect tcp://example.com:80"));
        assert_eq!(hint("frobnicate"), None);
        assert_eq!(hint("connect 127.0.0.1:80 --bogus"), None);
        assert_eq!(hint("listen 9999 --nope"), None);
        // A flag's value is not nc's port (it was read as `[127.0.0.1:1]:0`).
        assert_eq!(
            hint("connect 127.0.0.1:1 --reconnect --reconnect-max 0"),
            None
        );
        assert_eq!(hint("connect 127.0.0.1:80 --idle-timeout 5"), None);
        assert!(hint("connect --nodelay 127.0.0.1 80")
            .unwrap()
            .contains("sockmate connect 127.0.0.1:80"));
    }
}
