//! The interactive console, only when stdin is a terminal (a pipe is never
//! interpreted): line editing and a history kept between runs (rustyline),
//! and commands that act on the running handle through its [`Remote`]:
//!
//! `/hex 01 03 00 00` sends bytes · `/send-template …` · `/list` ·
//! `@3 text` or `/to 3 text` sends to client 3 only · `/close 3` ·
//! `/stats` · `/encoding gbk` · `/help` · `/quit`. A line that does not
//! start with `/` or `@` is sent as typed lines always were; `//` sends a
//! line starting with one `/`.

use std::path::PathBuf;

use bytes::Bytes;
use rustyline::config::{Behavior, Config};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use tokio::sync::mpsc;

use crate::cli::args::LineMode;
use crate::cli::live_stats;
use crate::cli::output::RemoteSlot;
use crate::encoding::TextEncoding;
use crate::hexinput::parse_hex;
use crate::send::line_message;
use crate::template::{Message, Template, CTIME_FORMAT};

/// Lines typed ahead of the connection.
const CONSOLE_QUEUE: usize = 64;

/// Most history entries kept.
const HISTORY_SIZE: usize = 1000;

/// The console's help text.
pub const HELP: &str = "\
console commands (a line without / or @ is sent as typed):
  /hex 01 03 00 00        send bytes written in hex
  /send-template T        send a template ({n} {rand:N} {hex:..} {seq:u16be} {crc16:modbus} …)
  /list                   connected clients with ids, peers and counters
  @3 text | /to 3 text    send to client 3 only
  /close 3                close client 3
  /stats                  counters now
  /encoding gbk           encode typed text with another encoding
  /help                   this text
  /quit                   end the input (like Ctrl-D)
  //text                  send a line that starts with /";

/// Where the history is kept: `$SOCKMATE_HISTORY`, else
/// `$XDG_STATE_HOME/sockmate/history`, else
/// `~/.local/state/sockmate/history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SOCKMATE_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("sockmate").join("history"))
}

/// What one console line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send to every connection (or the one of a client).
    Everyone(Vec<u8>),
    /// Send to one connection.
    To(u64, Vec<u8>),
    /// Close one connection.
    Close(u64),
    /// List the connections.
    List,
    /// Print the counters.
    Stats,
    /// Encode typed text with this from now on.
    Encoding(TextEncoding),
    /// Print the help.
    Help,
    /// End the input.
    Quit,
    /// Nothing (an empty line).
    Nothing,
}

/// Parses one typed line (without its line ending). `n` numbers the
/// templates sent from the console.
pub fn parse_line(line: &str, mode: &LineMode, n: u64) -> Result<Command, String> {
    let text = |t: &str| {
        let mut t = t.to_string();
        t.push('\n');
        line_message(t.as_bytes(), mode.encoding, mode.eol).to_vec()
    };
    if let Some(rest) = line.strip_prefix("//") {
        return Ok(Command::Everyone(text(&format!("/{rest}"))));
    }
    if let Some(rest) = line.strip_prefix('@') {
        let (id, body) = rest.split_once(' ').unwrap_or((rest, ""));
        return Ok(Command::To(parse_id(id)?, text(body)));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Command::Everyone(text(line)));
    };
    let (word, arg) = rest.split_once(' ').unwrap_or((rest, ""));
    match word {
        "hex" => parse_hex(arg)
            .map(Command::Everyone)
            .map_err(|e| format!("/hex: {e}")),
        "send-template" | "template" => {
            let t =
                Template::parse(arg, CTIME_FORMAT).map_err(|e| format!("/send-template: {e}"))?;
            let mut out = Vec::new();
            t.render(
                &Message {
                    bytes: b"",
                    peer: "",
                    number: n,
                },
                &mut out,
            );
            Ok(Command::Everyone(out))
        }
        "list" | "ls" => Ok(Command::List),
        "to" => {
            let (id, body) = arg.split_once(' ').unwrap_or((arg, ""));
            Ok(Command::To(parse_id(id)?, text(body)))
        }
        "close" => Ok(Command::Close(parse_id(arg.trim())?)),
        "stats" => Ok(Command::Stats),
        "encoding" => TextEncoding::from_label(arg.trim())
            .map(Command::Encoding)
            .map_err(|e| format!("/encoding: {e}")),
        "help" | "?" => Ok(Command::Help),
        "quit" | "exit" => Ok(Command::Quit),
        "" => Ok(Command::Nothing),
        other => Err(format!(
            "unknown command /{other} (try /help; // sends a line that starts with /)"
        )),
    }
}

fn parse_id(word: &str) -> Result<u64, String> {
    word.trim_start_matches('#')
        .parse::<u64>()
        .map_err(|_| format!("\"{word}\" is not a connection id (see /list, e.g. @3 hello)"))
}

/// Starts the console on the terminal; what it sends to everyone comes
/// out of the returned channel (which ends with Ctrl-D or /quit).
pub fn spawn(mode: LineMode, slot: RemoteSlot) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(CONSOLE_QUEUE);
    let runtime = tokio::runtime::Handle::current();
    std::thread::spawn(move || run(mode, slot, tx, runtime));
    rx
}

fn run(
    mut mode: LineMode,
    slot: RemoteSlot,
    tx: mpsc::Sender<Bytes>,
    runtime: tokio::runtime::Handle,
) {
    let config = Config::builder()
        .behavior(Behavior::PreferTerm)
        .max_history_size(HISTORY_SIZE)
        .map(|b| b.auto_add_history(true).build());
    let editor = config.and_then(DefaultEditor::with_config);
    let mut editor = match editor {
        Ok(e) => e,
        Err(e) => {
            errln!("sockmate: no console ({e}); typed lines are sent as they are");
            return;
        }
    };
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut templates = 0u64;
    loop {
        let line = match editor.readline("") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                // The terminal is raw while editing: Ctrl-C arrives as a
                // key, so pass it on as the SIGINT it means.
                save_history(&mut editor, history.as_deref());
                crate::sys::signals::interrupt_self();
                return;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                errln!("console: {e}");
                break;
            }
        };
        if line.starts_with("/send-template") || line.starts_with("/template") {
            templates += 1;
        }
        let command = match parse_line(&line, &mode, templates) {
            Ok(c) => c,
            Err(e) => {
                errln!("console: {e}");
                continue;
            }
        };
        let remote = slot.get();
        match command {
            Command::Everyone(bytes) => {
                if tx.blocking_send(bytes.into()).is_err() {
                    break;
                }
            }
            Command::To(id, bytes) => match remote {
                Some((r, _)) => {
                    if let Err(e) = runtime.block_on(r.send(id, bytes.into())) {
                        errln!("console: {e}");
                    }
                }
                None => errln!("console: not connected yet"),
            },
            Command::Close(id) => match remote {
                Some((r, _)) => match r.close(id) {
                    Ok(()) => errln!("console: closing #{id}"),
                    Err(e) => errln!("console: {e}"),
                },
                None => errln!("console: not connected yet"),
            },
            Command::List => match remote {
                Some((r, _)) => {
                    let all = r.connections();
                    errln!("{} connection(s)", all.len());
                    for c in all {
                        let k = c.counters;
                        errln!(
                            "  #{} {}  in {} B / {} msgs, out {} B / {} msgs, open {}s",
                            c.id,
                            c.peer,
                            k.bytes_in,
                            k.msgs_in,
                            k.bytes_out,
                            k.msgs_out,
                            c.age.as_secs()
                        );
                    }
                }
                None => errln!("0 connection(s)"),
            },
            Command::Stats => match remote {
                Some((r, closed)) => {
                    let block = live_stats::render(r, closed, &mut None, None);
                    let _ = std::io::Write::write_all(&mut std::io::stderr(), block.as_bytes());
                }
                None => errln!("console: not connected yet"),
            },
            Command::Encoding(enc) => {
                mode.encoding = enc;
                errln!("console: typed text is now encoded as {}", enc.name());
            }
            Command::Help => errln!("{HELP}"),
            Command::Quit => break,
            Command::Nothing => {}
        }
    }
    save_history(&mut editor, history.as_deref());
}

fn save_history(editor: &mut DefaultEditor, path: Option<&std::path::Path>) {
    let Some(path) = path else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = editor.save_history(path) {
        errln!("console: cannot save history to {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_typed_line_parses_or_explains(line in "\\PC{0,40}") {
            let _ = parse_line(&line, &LineMode::default(), 1);
        }

        #[test]
        fn plain_lines_go_out_as_typed(line in "[a-zA-Z0-9 ,.!?]{0,40}") {
            prop_assert_eq!(
                parse_line(&line, &LineMode::default(), 1).unwrap(),
                Command::Everyone(format!("{line}\n").into_bytes())
            );
        }
    }

    #[test]
    fn lines_and_commands() {
        let mode = LineMode::default();
        assert_eq!(
            parse_line("hello", &mode, 1).unwrap(),
            Command::Everyone(b"hello\n".to_vec())
        );
        assert_eq!(
            parse_line("//etc", &mode, 1).unwrap(),
            Command::Everyone(b"/etc\n".to_vec())
        );
        assert_eq!(
            parse_line("/hex 01 03", &mode, 1).unwrap(),
            Command::Everyone(vec![1, 3])
        );
        assert_eq!(
            parse_line("@3 hi there", &mode, 1).unwrap(),
            Command::To(3, b"hi there\n".to_vec())
        );
        assert_eq!(
            parse_line("/to #2 x", &mode, 1).unwrap(),
            Command::To(2, b"x\n".to_vec())
        );
        assert_eq!(parse_line("/close 3", &mode, 1).unwrap(), Command::Close(3));
        assert_eq!(
            parse_line(
                "/send-template {hex:01 03 00 00 00 01}{crc16:modbus}",
                &mode,
                1
            )
            .unwrap(),
            Command::Everyone(vec![1, 3, 0, 0, 0, 1, 0x84, 0x0a])
        );
        assert!(matches!(
            parse_line("/encoding gbk", &mode, 1).unwrap(),
            Command::Encoding(_)
        ));
        assert!(parse_line("/bogus", &mode, 1)
            .unwrap_err()
            .contains("/help"));
        assert!(parse_line("@x hi", &mode, 1)
            .unwrap_err()
            .contains("not a connection id"));
        assert!(parse_line("/hex zz", &mode, 1).is_err());
    }
}
