//! What sockmate says to people, in English or Chinese: one catalogue
//! ([`catalogue::CATALOGUE`]) of every status line, error and hint a learner
//! reads on stderr, with both languages side by side.
//!
//! The code writes its lines in English, as they are logged and tested; the
//! front-ends pass each line through [`tr`] on its way to stderr, which
//! gives it back in the chosen language. A catalogue pattern names the
//! changing parts (`listening on {endpoint}`); the parts named `cause`,
//! `hint`, `why`, `reason`, `message` or `problem` are lines of their own
//! and are translated in turn, so a composed line (`cannot resolve host
//! "x": failed to lookup address information…`) is translated whole. A line
//! the catalogue does not know is shown in English, never garbled.

pub mod catalogue;
mod pattern;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// The language of the narration and of every status line, error and hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// 中文 (Simplified Chinese).
    Zh,
}

impl Lang {
    /// `--lang` if given, else Chinese when `LC_ALL`, `LC_MESSAGES` or
    /// `LANG` (the first one set) starts with `zh`.
    pub fn pick(flag: Option<Lang>, env: impl Fn(&str) -> Option<String>) -> Lang {
        if let Some(lang) = flag {
            return lang;
        }
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|name| env(name).filter(|v| !v.is_empty()));
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    /// The language a command line asks for: its `--lang X`/`--lang=X`, or
    /// the locale. Read before the command line is parsed, so even a refusal
    /// of the command line is said in it.
    pub fn of_command_line(args: &[String], env: impl Fn(&str) -> Option<String>) -> Lang {
        let named = |value: &str| match value.to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        };
        let mut flag = None;
        for (i, arg) in args.iter().enumerate() {
            if arg == "--" {
                break;
            }
            if let Some(value) = arg.strip_prefix("--lang=") {
                flag = named(value).or(flag);
            } else if arg == "--lang" {
                flag = args.get(i + 1).and_then(|v| named(v)).or(flag);
            }
        }
        Lang::pick(flag, env)
    }
}

/// The process's language (set once by the front-end).
static LANGUAGE: AtomicU8 = AtomicU8::new(0);

/// Sets the language [`tr`] translates into.
pub fn set_language(lang: Lang) {
    LANGUAGE.store(lang as u8, Ordering::Relaxed);
}

/// The language [`tr`] translates into.
pub fn language() -> Lang {
    match LANGUAGE.load(Ordering::Relaxed) {
        1 => Lang::Zh,
        _ => Lang::En,
    }
}

/// `line` in the process's language.
pub fn tr(line: &str) -> Cow<'_, str> {
    translate(line, language())
}

/// `line` (one English line from sockmate) in `lang`.
pub fn translate(line: &str, lang: Lang) -> Cow<'_, str> {
    match lang {
        Lang::En => Cow::Borrowed(line),
        Lang::Zh => match compiled().translate(line, 0) {
            Some(text) => Cow::Owned(text),
            None => Cow::Borrowed(line),
        },
    }
}

fn compiled() -> &'static pattern::Compiled {
    static COMPILED: OnceLock<pattern::Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| pattern::Compiled::new(catalogue::CATALOGUE))
}

#[cfg(test)]
mod tests;
