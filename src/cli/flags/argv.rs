//! Rewrites of the raw command line before clap sees it, so the forms a
//! learner types mean what they expect:
//!
//! - a flag whose value is optional (`--keepalive [DURATION]`) takes the
//!   next word only when it is a value of its kind: `connect --keepalive
//!   127.0.0.1:9100` keeps the endpoint (the flag is declared with
//!   `require_equals`, and a real value is joined as `--keepalive=30s`);
//! - `help bench merge` shows the help of `bench`, where `merge` is
//!   described with its example.

use std::ffi::OsString;

use crate::cli::args::parse_duration;

/// A flag with an optional value and the test its value must pass.
struct OptionalValue {
    flag: &'static str,
    is_value: fn(&str) -> bool,
}

/// Every flag declared with `num_args = 0..=1` (and `require_equals`).
const OPTIONAL_VALUES: &[OptionalValue] = &[OptionalValue {
    flag: "--keepalive",
    // A bare number stays a word of its own: `listen --keepalive 9100` is
    // a port; write `--keepalive=30` or `--keepalive 30s`.
    is_value: |word| word.bytes().any(|b| b.is_ascii_alphabetic()) && parse_duration(word).is_ok(),
}];

/// Applies the rewrites to a whole command line (program name first).
pub fn normalize(args: Vec<OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut words = args.into_iter().peekable();
    let mut after_dashes = false;
    while let Some(word) = words.next() {
        if after_dashes {
            out.push(word);
            continue;
        }
        if word == "--" {
            after_dashes = true;
            out.push(word);
            continue;
        }
        let joined = OPTIONAL_VALUES
            .iter()
            .find(|o| word == o.flag)
            .and_then(|o| {
                let next = words.peek()?.to_str()?;
                (o.is_value)(next).then(|| format!("{}={next}", o.flag))
            });
        match joined {
            Some(flag_and_value) => {
                words.next();
                out.push(flag_and_value.into());
            }
            None => out.push(word),
        }
    }
    if out.len() >= 4 && out[1] == "help" && out[2] == "bench" && out[3] == "merge" {
        out.truncate(3);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(words: &[&str]) -> Vec<String> {
        normalize(words.iter().map(OsString::from).collect())
            .into_iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn optional_values_never_swallow_an_endpoint() {
        assert_eq!(
            norm(&["s", "connect", "--keepalive", "127.0.0.1:9100"]),
            ["s", "connect", "--keepalive", "127.0.0.1:9100"]
        );
        assert_eq!(
            norm(&["s", "connect", "--keepalive", "30s", "127.0.0.1:9100"]),
            ["s", "connect", "--keepalive=30s", "127.0.0.1:9100"]
        );
        assert_eq!(
            norm(&["s", "listen", "--keepalive", "9100"]),
            ["s", "listen", "--keepalive", "9100"]
        );
        assert_eq!(
            norm(&["s", "connect", "x:1", "--", "--keepalive", "5s"]),
            ["s", "connect", "x:1", "--", "--keepalive", "5s"]
        );
        assert_eq!(
            norm(&["s", "help", "bench", "merge"]),
            ["s", "help", "bench"]
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_keeps_other_words(words in proptest::collection::vec("\\PC{0,12}", 0..8)) {
            let mut all = vec!["s".to_string()];
            all.extend(words);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            let out = norm(&refs);
            prop_assert!(out.len() <= all.len());
        }
    }
}
