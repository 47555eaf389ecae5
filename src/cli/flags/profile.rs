//! Saved profiles: `--profile FILE.toml` loads a session's settings
//! (command, endpoint, views, encoding, sends, services) and named
//! packets; `--packet NAME` sends a saved one; `sockmate profile show
//! FILE` prints the command line a profile stands for.
//!
//! A profile becomes command-line words put in front of the user's own, so
//! it means exactly what the same flags mean, and a flag given on the
//! command line wins over the profile's (flags override themselves). The
//! format is plain TOML (see docs/profile.md); an unknown key is an error
//! that names it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

/// A profile file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `connect` or `listen`.
    pub command: Option<String>,
    /// The endpoint, as on the command line.
    pub endpoint: Option<String>,
    /// How traffic is shown.
    #[serde(default)]
    pub view: ViewSection,
    /// The sends, in order.
    #[serde(default)]
    pub send: Vec<SendEntry>,
    /// Auto-send and line endings.
    #[serde(default)]
    pub schedule: ScheduleSection,
    /// Server behaviours (listen).
    #[serde(default)]
    pub service: ServiceSection,
    /// Named packets for `--packet NAME` (templates, as `--send-template`).
    #[serde(default)]
    pub packets: BTreeMap<String, String>,
    /// Any other flags, word by word (e.g. ["--nodelay", "--idle-timeout", "30s"]).
    #[serde(default)]
    pub extra: Vec<String>,
}

/// `[view]`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ViewSection {
    /// `dump` or `line` (`--hex`, `--hex=line`).
    pub hex: Option<String>,
    /// `-t`.
    #[serde(default)]
    pub timestamps: bool,
    /// `--encoding`.
    pub encoding: Option<String>,
    /// `--json`.
    #[serde(default)]
    pub json: bool,
    /// `--stats`.
    #[serde(default)]
    pub stats: bool,
    /// `--stats-interval`.
    pub stats_interval: Option<String>,
    /// `--log FILE`.
    pub log: Option<String>,
}

/// One `[[send]]`: exactly one of its keys.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SendEntry {
    /// `--send TEXT`.
    pub text: Option<String>,
    /// `--send-hex HEX`.
    pub hex: Option<String>,
    /// `--send-template TEMPLATE`.
    pub template: Option<String>,
    /// `--send-file PATH`.
    pub file: Option<String>,
    /// `--packet NAME`.
    pub packet: Option<String>,
}

/// `[schedule]`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// `--interval`.
    pub interval: Option<String>,
    /// `--count`.
    pub count: Option<u64>,
    /// `--eol`.
    pub eol: Option<String>,
    /// `--lines`.
    #[serde(default)]
    pub lines: bool,
    /// `--delay` between stdin lines.
    pub delay: Option<String>,
}

/// `[service]` (listen).
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// `-k`.
    #[serde(default)]
    pub keep_open: bool,
    /// `--serve`.
    pub serve: Option<String>,
    /// `--reply`.
    pub reply: Option<String>,
    /// `--respond` rules.
    #[serde(default)]
    pub respond: Vec<String>,
    /// `--frame`.
    pub frame: Option<String>,
    /// `--banner`.
    pub banner: Option<String>,
}

/// The profile flags as clap sees them (for help and completions; they
/// are read before clap parses, by [`expand`]).
#[derive(Debug, Args, Clone, Default)]
pub struct ProfileArgs {
    /// Load settings and named packets from a TOML profile (see docs/profile.md); flags given here win over the profile's.
    #[arg(long, value_name = "FILE", help_heading = "Sending")]
    pub profile: Option<PathBuf>,
    /// Send the profile's packet NAME (repeatable, in order with the --send* flags).
    #[arg(long, value_name = "NAME", help_heading = "Sending")]
    pub packet: Vec<String>,
}

/// Reads and checks a profile.
pub fn load(path: &Path) -> Result<Profile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read profile {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("in profile {}: {e}", path.display()))
}

/// Parses a profile's text; the error names an unknown key and its line.
pub fn parse(text: &str) -> Result<Profile, String> {
    let profile: Profile = toml::from_str(text).map_err(|e| {
        let message = e.message().to_string();
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        }
    })?;
    if let Some(c) = &profile.command {
        if !matches!(c.as_str(), "connect" | "listen") {
            return Err(format!(
                "command = \"{c}\" is not a profile command (use \"connect\" or \"listen\")"
            ));
        }
    }
    for (i, s) in profile.send.iter().enumerate() {
        let given = [&s.text, &s.hex, &s.template, &s.file, &s.packet]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 1 {
            return Err(format!(
                "[[send]] number {} needs exactly one of text, hex, template, file, packet",
                i + 1
            ));
        }
        if let Some(name) = &s.packet {
            if !profile.packets.contains_key(name) {
                return Err(unknown_packet(name, &profile));
            }
        }
    }
    if let Some(h) = &profile.view.hex {
        if !matches!(h.as_str(), "dump" | "line") {
            return Err(format!("[view] hex = \"{h}\" (use \"dump\" or \"line\")"));
        }
    }
    Ok(profile)
}

fn unknown_packet(name: &str, profile: &Profile) -> String {
    let known: Vec<&str> = profile.packets.keys().map(String::as_str).collect();
    if known.is_empty() {
        format!("no packet \"{name}\": the profile has no [packets]")
    } else {
        format!(
            "no packet \"{name}\" in the profile (it has: {})",
            known.join(", ")
        )
    }
}

impl Profile {
    /// The command word, if the profile names one.
    pub fn command(&self) -> Option<&str> {
        self.command.as_deref()
    }

    /// The flags (and the endpoint first) this profile stands for.
    pub fn words(&self) -> Result<Vec<String>, String> {
        let mut w: Vec<String> = Vec::new();
        let flag = |w: &mut Vec<String>, name: &str, value: &Option<String>| {
            if let Some(v) = value {
                w.push(format!("--{name}"));
                w.push(v.clone());
            }
        };
        if let Some(e) = &self.endpoint {
            w.push(e.clone());
        }
        let v = &self.view;
        if let Some(h) = &v.hex {
            w.push(format!("--hex={h}"));
        }
        for (on, name) in [
            (v.timestamps, "-t"),
            (v.json, "--json"),
            (v.stats, "--stats"),
        ] {
            if on {
                w.push(name.into());
            }
        }
        flag(&mut w, "encoding", &v.encoding);
        flag(&mut w, "stats-interval", &v.stats_interval);
        flag(&mut w, "log", &v.log);
        for s in &self.send {
            flag(&mut w, "send", &s.text);
            flag(&mut w, "send-hex", &s.hex);
            flag(&mut w, "send-template", &s.template);
            flag(&mut w, "send-file", &s.file);
            if let Some(name) = &s.packet {
                w.extend(["--send-template".into(), self.packet(name)?]);
            }
        }
        let s = &self.schedule;
        flag(&mut w, "interval", &s.interval);
        flag(&mut w, "count", &s.count.map(|c| c.to_string()));
        flag(&mut w, "eol", &s.eol);
        flag(&mut w, "delay", &s.delay);
        if s.lines {
            w.push("--lines".into());
        }
        let k = &self.service;
        if k.keep_open {
            w.push("-k".into());
        }
        flag(&mut w, "serve", &k.serve);
        flag(&mut w, "reply", &k.reply);
        flag(&mut w, "frame", &k.frame);
        flag(&mut w, "banner", &k.banner);
        for r in &k.respond {
            w.extend(["--respond".into(), r.clone()]);
        }
        w.extend(self.extra.iter().cloned());
        Ok(w)
    }

    /// The template of packet `name`.
    pub fn packet(&self, name: &str) -> Result<String, String> {
        self.packets
            .get(name)
            .cloned()
            .ok_or_else(|| unknown_packet(name, self))
    }
}

/// Rewrites a command line that uses `--profile FILE` (and `--packet
/// NAME`) into the plain flags it stands for. Without `--profile` the
/// words are returned as they are (a `--packet` then is an error).
pub fn expand(args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let mut words: Vec<String> = Vec::with_capacity(args.len());
    for a in &args {
        match a.to_str() {
            Some(s) => words.push(s.to_string()),
            // Not UTF-8: no profile flags can be in here; leave it to clap.
            None => return Ok(args),
        }
    }
    // Stop looking after `--`: what follows is data, not flags.
    let end = words.iter().position(|w| w == "--").unwrap_or(words.len());
    let mut profile_path = None;
    let mut packets: Vec<(usize, String)> = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if i < end {
            if let Some(v) = w.strip_prefix("--profile=") {
                profile_path = Some(v.to_string());
                i += 1;
                continue;
            }
            if w == "--profile" || w == "--packet" {
                let Some(v) = words.get(i + 1).filter(|_| i + 1 < end) else {
                    return Err(format!("{w} needs a value"));
                };
                if w == "--profile" {
                    profile_path = Some(v.clone());
                } else {
                    packets.push((kept.len(), v.clone()));
                    kept.push(String::new());
                }
                i += 2;
                continue;
            }
            if let Some(v) = w.strip_prefix("--packet=") {
                packets.push((kept.len(), v.to_string()));
                kept.push(String::new());
                i += 1;
                continue;
            }
        }
        kept.push(w.clone());
        i += 1;
    }
    let Some(path) = profile_path else {
        if let Some((_, name)) = packets.first() {
            return Err(format!(
                "--packet {name} needs --profile FILE.toml (the packets live in a profile)"
            ));
        }
        return Ok(args);
    };
    let profile = load(Path::new(&path))?;
    for (at, name) in &packets {
        kept[*at] = format!("--send-template={}", profile.packet(name)?);
    }
    let mut out: Vec<String> = Vec::with_capacity(kept.len() + 16);
    let mut rest = kept.into_iter();
    out.extend(rest.next());
    let rest: Vec<String> = rest.collect();
    let given = rest
        .first()
        .filter(|c| matches!(c.as_str(), "connect" | "c" | "listen" | "l"))
        .cloned();
    let command = match (&given, profile.command()) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c.to_string(),
        (None, None) => {
            return Err(format!(
                "profile {path} names no command: write sockmate connect --profile {path} (or listen), or add command = \"connect\""
            ))
        }
    };
    out.push(command);
    out.extend(profile.words()?);
    out.extend(rest.into_iter().skip(usize::from(given.is_some())));
    Ok(out.into_iter().map(OsString::from).collect())
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `sockmate profile show FILE`: the command line and the packets.
pub fn show(path: &Path) -> Result<String, String> {
    let profile = load(path)?;
    let mut s = String::from("sockmate");
    let command = profile.command().unwrap_or("connect");
    s.push(' ');
    s.push_str(command);
    for w in profile.words()? {
        s.push(' ');
        s.push_str(&shell_quote(&w));
    }
    s.push('\n');
    if profile.command.is_none() {
        s.push_str("(no command in the profile: connect or listen, as you write it)\n");
    }
    for (name, template) in &profile.packets {
        s.push_str(&format!("packet {name}: {}\n", shell_quote(template)));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_explains(text in "\\PC{0,200}") {
            if let Ok(p) = parse(&text) {
                let _ = p.words();
            }
        }

        #[test]
        fn expand_without_profile_changes_nothing(words in proptest::collection::vec("[a-z0-9:.=-]{0,8}", 0..6)) {
            let args: Vec<OsString> = std::iter::once("sockmate".to_string())
                .chain(words.into_iter().filter(|w| !w.starts_with("--p")))
                .map(OsString::from)
                .collect();
            prop_assert_eq!(expand(args.clone()).unwrap(), args);
        }
    }

    const EXAMPLE: &str = r#"
command = "connect"
endpoint = "127.0.0.1:502"
[view]
hex = "line"
timestamps = true
[[send]]
packet = "read"
[schedule]
interval = "1s"
count = 3
[packets]
read = "{hex:01 03 00 00 00 01}{crc16:modbus}"
"#;

    #[test]
    fn a_profile_is_its_flags() {
        let p = parse(EXAMPLE).unwrap();
        assert_eq!(
            p.words().unwrap(),
            [
                "127.0.0.1:502",
                "--hex=line",
                "-t",
                "--send-template",
                "{hex:01 03 00 00 00 01}{crc16:modbus}",
                "--interval",
                "1s",
                "--count",
                "3"
            ]
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse("endpoint = \"x:1\"\n[view]\nhexx = \"line\"\n").unwrap_err();
        assert!(e.contains("hexx") && e.contains("line 3"), "{e}");
        let e = parse("colour = 1\n").unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = parse("[[send]]\ntext = \"a\"\nhex = \"01\"\n").unwrap_err();
        assert!(e.contains("exactly one"), "{e}");
        let e = parse("[[send]]\npacket = \"nope\"\n").unwrap_err();
        assert!(e.contains("no packet \"nope\""), "{e}");
    }

    #[test]
    fn expand_puts_the_profile_before_the_users_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let args: Vec<OsString> = [
            "sockmate",
            "--profile",
            path.to_str().unwrap(),
            "--count",
            "1",
            "--packet",
            "read",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let out: Vec<String> = expand(args)
            .unwrap()
            .into_iter()
            .map(|o| o.into_string().unwrap())
            .collect();
        assert_eq!(&out[..3], ["sockmate", "connect", "127.0.0.1:502"]);
        assert_eq!(
            &out[out.len() - 3..],
            [
                "--count",
                "1",
                "--send-template={hex:01 03 00 00 00 01}{crc16:modbus}"
            ]
        );
        let plain: Vec<OsString> = ["sockmate", "connect", "x:1", "--", "--profile"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(expand(plain.clone()).unwrap(), plain);
        let e = expand(
            ["sockmate", "connect", "x:1", "--packet", "a"]
                .iter()
                .map(OsString::from)
                .collect(),
        )
        .unwrap_err();
        assert!(e.contains("needs --profile"), "{e}");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("127.0.0.1:502"), "127.0.0.1:502");
        assert_eq!(shell_quote("{hex:01}"), "'{hex:01}'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
