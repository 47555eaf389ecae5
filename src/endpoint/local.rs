//! Sides that are not sockets (socat's STDIO, EXEC, SYSTEM, FILE, PTY):
//! `-` or `stdio:`, `exec:PROGRAM ARGS`, `sh:COMMAND`,
//! `file:PATH[?append|?read]` and `pty:[?link=PATH][&raw]`.
//!
//! Each is opened where a socket would be connected, so it works as
//! either side of `relay` and as the endpoint of `connect`. Parsing is
//! pure; an error is one line naming the bad part with a correct form.

use std::fmt;
use std::path::PathBuf;

/// What a `file:` side does with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileMode {
    /// Create or truncate it and write what comes in (the default).
    Write,
    /// Append what comes in (`?append`).
    Append,
    /// Send its contents, then end (`?read`).
    Read,
}

/// A side that is not a socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LocalSpec {
    /// `-` or `stdio:`: our stdin and stdout.
    Stdio,
    /// `exec:PROGRAM ARGS`: a child's stdin and stdout, split like shell
    /// words (quotes, no shell).
    Exec {
        /// The command as written after `exec:`.
        line: String,
        /// The program and its arguments.
        words: Vec<String>,
    },
    /// `sh:COMMAND`: `sh -c COMMAND` (`cmd /C` on Windows).
    Shell(String),
    /// `file:PATH`: a file written, appended to or read.
    File {
        /// The file.
        path: PathBuf,
        /// What is done with it.
        mode: FileMode,
    },
    /// `pty:`: a new pseudo-terminal whose follower a program opens.
    Pty {
        /// A symlink to the follower, made while sockmate runs.
        link: Option<PathBuf>,
        /// Put the terminal in raw mode.
        raw: bool,
    },
}

/// The prefixes of the local sides, for messages.
pub const FORMS: &str = "-, stdio:, exec:PROGRAM ARGS, sh:COMMAND, file:PATH or pty:";

impl LocalSpec {
    /// Parses `text` when it is written as a local side; `None` when it is
    /// not one (a socket address).
    pub fn parse(text: &str) -> Option<Result<LocalSpec, String>> {
        if text == "-" {
            return Some(Ok(LocalSpec::Stdio));
        }
        let (prefix, rest) = text.split_once(':')?;
        let result = match prefix.to_ascii_lowercase().as_str() {
            "stdio" if rest.is_empty() => Ok(LocalSpec::Stdio),
            "stdio" => Err(format!(
                "unexpected \"{rest}\" after stdio: in {text} (write - or stdio: alone)"
            )),
            "exec" => parse_exec(rest, text),
            "sh" | "system" => match rest.trim() {
                "" => Err(format!(
                    "missing command in {text} (write sh:'COMMAND', e.g. sh:'ls | wc -l')"
                )),
                _ => Ok(LocalSpec::Shell(rest.to_string())),
            },
            "file" => parse_file(rest, text),
            "pty" => parse_pty(rest, text),
            _ => return None,
        };
        Some(result)
    }

    /// Why this side cannot be used on this platform, if it cannot.
    pub fn unavailable_here(&self) -> Option<String> {
        use crate::sys::unsupported::{refusal, PTY};
        match self {
            LocalSpec::Pty { .. } if !PTY => Some(refusal(
                "pty: (a pseudo-terminal)",
                "use a serial port pair (com0com) with serial://COM3 instead",
            )),
            _ => None,
        }
    }

    /// A short name of the kind of side: `stdio`, `exec`, `sh`, `file`,
    /// `pty`.
    pub fn name(&self) -> &'static str {
        match self {
            LocalSpec::Stdio => "stdio",
            LocalSpec::Exec { .. } => "exec",
            LocalSpec::Shell(_) => "sh",
            LocalSpec::File { .. } => "file",
            LocalSpec::Pty { .. } => "pty",
        }
    }
}

fn parse_exec(rest: &str, text: &str) -> Result<LocalSpec, String> {
    let words = split_words(rest)
        .map_err(|why| format!("{why} in {text} (close it, e.g. exec:'python3 \"my sim.py\"')"))?;
    if words.is_empty() {
        return Err(format!(
            "missing program in {text} (write exec:PROGRAM ARGS, e.g. exec:'tr a-z A-Z')"
        ));
    }
    Ok(LocalSpec::Exec {
        line: rest.to_string(),
        words,
    })
}

fn parse_file(rest: &str, text: &str) -> Result<LocalSpec, String> {
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, mode) = match rest.rsplit_once('?') {
        Some((path, "append")) => (path, FileMode::Append),
        Some((path, "read")) => (path, FileMode::Read),
        Some((path, "write")) => (path, FileMode::Write),
        Some((_, other)) => {
            return Err(format!(
                "unknown option \"{other}\" in {text} (write file:PATH, file:PATH?append or file:PATH?read)"
            ))
        }
        None => (rest, FileMode::Write),
    };
    if path.is_empty() {
        return Err(format!(
            "missing path in {text} (write file:PATH, e.g. file:capture.bin or file:/tmp/in.txt?read)"
        ));
    }
    if path.contains('\0') {
        return Err(format!(
            "file path in {text} contains a NUL byte (remove it)"
        ));
    }
    Ok(LocalSpec::File {
        path: path.into(),
        mode,
    })
}

fn parse_pty(rest: &str, text: &str) -> Result<LocalSpec, String> {
    let options = match rest.strip_prefix('?') {
        Some(options) => options,
        None if rest.is_empty() => "",
        None => {
            return Err(format!(
                "unexpected \"{rest}\" after pty: in {text} (options go after a ?, e.g. pty:?link=/tmp/ttyV0&raw)"
            ))
        }
    };
    let (mut link, mut raw) = (None, false);
    for option in options.split('&').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("link", "")) => {
                return Err(format!(
                    "missing path after link= in {text} (write pty:?link=/tmp/ttyV0)"
                ))
            }
            Some(("link", path)) if !path.contains('\0') => link = Some(PathBuf::from(path)),
            None if option == "raw" => raw = true,
            _ => {
                return Err(format!(
                    "unknown option \"{option}\" in {text} (pty: takes link=PATH and raw, e.g. pty:?link=/tmp/ttyV0&raw)"
                ))
            }
        }
    }
    Ok(LocalSpec::Pty { link, raw })
}

/// Splits a command line into words like a POSIX shell does, without
/// running one: blanks separate words, `'…'` is literal, `"…"` keeps
/// blanks and takes `\"` and `\\`, a backslash outside quotes escapes the
/// next character. Fails on an unclosed quote.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err("unclosed ' quote".into()),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err("unclosed \" quote".into()),
                        },
                        Some(c) => current.push(c),
                        None => return Err("unclosed \" quote".into()),
                    }
                }
            }
            '\\' => {
                let current = word.get_or_insert_with(String::new);
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

impl fmt::Display for LocalSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalSpec::Stdio => f.write_str("-"),
            LocalSpec::Exec { line, .. } => write!(f, "exec:{line}"),
            LocalSpec::Shell(command) => write!(f, "sh:{command}"),
            LocalSpec::File { path, mode } => {
                write!(f, "file:{}", path.display())?;
                match mode {
                    FileMode::Write => Ok(()),
                    FileMode::Append => f.write_str("?append"),
                    FileMode::Read => f.write_str("?read"),
                }
            }
            LocalSpec::Pty { link, raw } => {
                f.write_str("pty:")?;
                let mut sep = '?';
                if let Some(link) = link {
                    write!(f, "?link={}", link.display())?;
                    sep = '&';
                }
                if *raw {
                    write!(f, "{sep}raw")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> LocalSpec {
        match LocalSpec::parse(text) {
            Some(Ok(spec)) => spec,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn err(text: &str) -> String {
        match LocalSpec::parse(text) {
            Some(Err(e)) => e,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn parses_each_side() {
        assert_eq!(parse("-"), LocalSpec::Stdio);
        assert_eq!(parse("stdio:"), LocalSpec::Stdio);
        let LocalSpec::Exec { words, .. } = parse("exec:python3 'my sim.py' -v \"a b\"") else {
            panic!("not exec");
        };
        assert_eq!(words, ["python3", "my sim.py", "-v", "a b"]);
        assert_eq!(
            parse("sh:ls | wc -l"),
            LocalSpec::Shell("ls | wc -l".into())
        );
        assert_eq!(
            parse("file:capture.bin"),
            LocalSpec::File {
                path: "capture.bin".into(),
                mode: FileMode::Write
            }
        );
        assert_eq!(
            parse("file:///tmp/x?read"),
            LocalSpec::File {
                path: "/tmp/x".into(),
                mode: FileMode::Read
            }
        );
        assert_eq!(
            parse("pty:?link=/tmp/ttyV0&raw"),
            LocalSpec::Pty {
                link: Some("/tmp/ttyV0".into()),
                raw: true
            }
        );
        assert_eq!(
            parse("pty:"),
            LocalSpec::Pty {
                link: None,
                raw: false
            }
        );
        assert!(LocalSpec::parse("tcp://x:1").is_none());
        assert!(LocalSpec::parse("localhost:9000").is_none());
    }

    #[test]
    fn errors_are_one_line_with_a_fix() {
        assert!(err("exec:").contains("missing program in exec: (write exec:PROGRAM"));
        assert!(err("exec:  ").contains("missing program"));
        assert!(err("exec:echo 'x").contains("unclosed ' quote"));
        assert!(err("sh:").contains("missing command"));
        assert!(err("file:").contains("missing path in file:"));
        assert!(err("file:?append").contains("missing path"));
        assert!(err("file:x?nope").contains("unknown option \"nope\""));
        assert!(err("pty:?link=").contains("missing path after link="));
        assert!(err("pty:?speed=9600").contains("unknown option \"speed=9600\""));
        assert!(err("pty:/dev/x").contains("options go after a ?"));
        assert!(err("stdio:x").contains("write - or stdio: alone"));
        for bad in ["exec:", "file:", "pty:?link=", "sh:  "] {
            assert!(!err(bad).contains('\n'), "{bad}");
        }
    }

    #[test]
    fn pty_is_refused_where_there_are_none() {
        let refusal = parse("pty:").unavailable_here();
        assert_eq!(refusal.is_some(), cfg!(windows), "{refusal:?}");
        assert!(parse("exec:cat").unavailable_here().is_none());
    }

    fn arb_spec() -> impl Strategy<Value = LocalSpec> {
        prop_oneof![
            Just(LocalSpec::Stdio),
            "[a-z][a-z0-9 ._-]{0,20}".prop_map(|line| {
                let words = split_words(&line).unwrap_or_default();
                LocalSpec::Exec { line, words }
            }),
            "[a-z][a-z0-9 |._-]{0,20}".prop_map(LocalSpec::Shell),
            (
                "/?[a-zA-Z0-9._-]{1,12}(/[a-zA-Z0-9._-]{1,12}){0,2}",
                prop_oneof![
                    Just(FileMode::Write),
                    Just(FileMode::Append),
                    Just(FileMode::Read)
                ]
            )
                .prop_map(|(path, mode)| LocalSpec::File {
                    path: path.into(),
                    mode
                }),
            (
                proptest::option::of("(/[a-zA-Z0-9._-]{1,10}){1,3}"),
                any::<bool>()
            )
                .prop_map(|(link, raw)| LocalSpec::Pty {
                    link: link.map(PathBuf::from),
                    raw
                }),
        ]
    }

    proptest! {
        #[test]
        fn display_round_trips(spec in arb_spec()) {
            let text = spec.to_string();
            prop_assert_eq!(LocalSpec::parse(&text), Some(Ok(spec)));
        }

        #[test]
        fn splitting_never_panics_and_keeps_plain_words(words in proptest::collection::vec("[a-zA-Z0-9._/-]{1,8}", 0..6), noise in "\\PC{0,30}") {
            prop_assert_eq!(split_words(&words.join(" ")), Ok(words));
            let _ = split_words(&noise);
            let _ = LocalSpec::parse(&noise);
        }
    }
}
