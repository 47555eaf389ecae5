//! Matching an English line against the catalogue's patterns and filling
//! in the Chinese one.
//!
//! A pattern is text with `{name}` for a changing part and `{{`/`}}` for a
//! literal brace. It becomes an anchored regex whose changing parts match
//! as little as they can, so the literal words between them decide where
//! each part ends. The first pattern in catalogue order that matches wins:
//! specific patterns come before general ones.

use regex::{Regex, RegexSet};

/// The parts that are themselves lines to translate (the others are
/// addresses, names and numbers, kept as they are).
const NESTED: &[&str] = &["cause", "hint", "why", "reason", "message", "problem"];

/// How deep composed lines are translated.
const MAX_DEPTH: usize = 4;

/// One piece of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A changing part.
    Part(String),
}

/// Parses a pattern into pieces; `None` for an unbalanced brace.
pub fn parse(pattern: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) if c.is_ascii_alphanumeric() || c == '_' => name.push(c),
                        _ => return None,
                    }
                }
                if name.is_empty() {
                    return None;
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Part(name));
            }
            '}' => return None,
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Some(pieces)
}

/// The names of a pattern's changing parts, in order.
pub fn parts(pieces: &[Piece]) -> Vec<&str> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Part(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
        .collect()
}

/// The catalogue, ready to match.
#[derive(Debug)]
pub struct Compiled {
    set: RegexSet,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    regex: Regex,
    names: Vec<String>,
    zh: Vec<Piece>,
}

impl Compiled {
    /// Compiles `(english, chinese)` patterns. A pattern that does not
    /// parse is left out (the catalogue's tests refuse such an entry).
    pub fn new(catalogue: &[(&str, &str)]) -> Self {
        let mut sources = Vec::new();
        let mut entries = Vec::new();
        for (en, zh) in catalogue {
            let (Some(en), Some(zh)) = (parse(en), parse(zh)) else {
                continue;
            };
            let source = regex_source(&en);
            let Ok(regex) = Regex::new(&source) else {
                continue;
            };
            sources.push(source);
            entries.push(Entry {
                regex,
                names: parts(&en).into_iter().map(str::to_string).collect(),
                zh,
            });
        }
        let set = RegexSet::new(&sources).unwrap_or_else(|_| RegexSet::empty());
        Compiled { set, entries }
    }

    /// `line` in Chinese, or `None` when no pattern matches it.
    pub fn translate(&self, line: &str, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let index = self.set.matches(line).iter().next()?;
        let entry = &self.entries[index];
        let captures = entry.regex.captures(line)?;
        let value = |name: &str| -> String {
            let Some(i) = entry.names.iter().position(|n| n == name) else {
                return String::new();
            };
            let text = captures.get(i + 1).map_or("", |m| m.as_str());
            if NESTED.contains(&name) {
                if let Some(translated) = self.translate(text, depth + 1) {
                    return translated;
                }
            }
            text.to_string()
        };
        let mut out = String::new();
        for piece in &entry.zh {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Part(name) => out.push_str(&value(name)),
            }
        }
        Some(out)
    }
}

/// `^literal(.*?)literal…$`; the last part takes the rest of the line.
fn regex_source(pieces: &[Piece]) -> String {
    let mut source = String::from("^");
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Text(text) => source.push_str(&regex::escape(text)),
            Piece::Part(_) if i + 1 == pieces.len() => source.push_str("(.*)"),
            Piece::Part(_) => source.push_str("(.*?)"),
        }
    }
    source.push('$');
    format!("(?s){source}")
}
