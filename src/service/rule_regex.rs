//! The regex of a `re:` respond rule, compiled with bounded memory: each
//! program is capped ([`REGEX_SIZE_LIMIT`]), each lazy DFA's cache too
//! ([`REGEX_CACHE_LIMIT`], per regex and searching thread), and
//! [`RegexMemory`] adds the compiled sizes of all rules up against
//! [`REGEX_PROGRAMS_BUDGET`] so a rule file that would take more is refused
//! at start, naming the rule.

use regex_automata::meta;
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternID};

/// Largest compiled program (NFA) of one regex.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Lazy-DFA cache of one regex, per direction and per thread searching
/// with it (256 rules on two threads: at most 64 MiB of caches).
pub const REGEX_CACHE_LIMIT: usize = 64 << 10;

/// Compiled programs of all `re:` rules together.
pub const REGEX_PROGRAMS_BUDGET: usize = 64 << 20;

/// A compiled `re:` pattern, searched in bytes (like `regex::bytes`).
#[derive(Debug, Clone)]
pub struct RuleRegex {
    meta: meta::Regex,
    source: String,
}

impl RuleRegex {
    /// Compiles `pattern`; the error is one line saying what is wrong.
    pub fn new(pattern: &str) -> Result<RuleRegex, String> {
        let config = meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
            .onepass_size_limit(Some(REGEX_SIZE_LIMIT))
            .dfa_size_limit(Some(REGEX_SIZE_LIMIT))
            .hybrid_cache_capacity(REGEX_CACHE_LIMIT);
        let meta = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(false))
            .build(pattern)
            .map_err(|e| match (e.syntax_error(), e.size_limit()) {
                (Some(syntax), _) => syntax
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .to_string(),
                (None, Some(limit)) => format!(
                    "it compiles to more than {} KiB (Unicode classes like \\w are large: (?-u:\\w) is ASCII only)",
                    limit >> 10
                ),
                _ => e.to_string(),
            })?;
        Ok(RuleRegex {
            meta,
            source: pattern.to_string(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Heap bytes of the compiled programs (caches aside).
    pub fn memory(&self) -> usize {
        self.meta.memory_usage()
    }

    /// Groups, the whole match (group 0) included.
    pub fn captures_len(&self) -> usize {
        self.meta.group_info().group_len(PatternID::ZERO)
    }

    /// The names of the named groups.
    pub fn capture_names(&self) -> Vec<&str> {
        self.meta
            .group_info()
            .pattern_names(PatternID::ZERO)
            .flatten()
            .collect()
    }

    /// Searches `haystack`; the captures of the first match.
    pub fn captures(&self, haystack: &[u8]) -> Option<Captures> {
        let mut caps = self.meta.create_captures();
        self.meta.search_captures(&Input::new(haystack), &mut caps);
        caps.is_match().then_some(caps)
    }
}

/// The compiled size of the rules so far, against [`REGEX_PROGRAMS_BUDGET`].
#[derive(Debug, Default)]
pub struct RegexMemory {
    used: usize,
}

impl RegexMemory {
    /// Adds `re`, or refuses it when it brings the total over the budget.
    pub fn add(&mut self, re: &RuleRegex) -> Result<(), String> {
        let size = re.memory();
        if self.used + size > REGEX_PROGRAMS_BUDGET {
            return Err(format!(
                "re:{} would bring the compiled regexes over their {} MiB ({} KiB for it, {} KiB for the rules before it); use fewer or smaller regexes (Unicode classes like \\w are large: (?-u:\\w) is ASCII only) or exact and hex: rules",
                re.as_str(),
                REGEX_PROGRAMS_BUDGET >> 20,
                size.div_ceil(1024),
                self.used.div_ceil(1024)
            ));
        }
        self.used += size;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_bytes_with_captures() {
        let re = RuleRegex::new(r"^GET (?P<key>\w+)").unwrap();
        let caps = re.captures(b"GET temp\xff").unwrap();
        let key = caps.get_group_by_name("key").unwrap();
        assert_eq!(key.range(), 4..8);
        assert_eq!(re.captures_len(), 2);
        assert_eq!(re.capture_names(), ["key"]);
        assert!(re.captures(b"PUT x").is_none());
        // Bytes mode: invalid UTF-8 is searched, `.` not matching it.
        assert!(RuleRegex::new(r"(?-u:\xff)")
            .unwrap()
            .captures(b"a\xff")
            .is_some());
        assert!(RuleRegex::new("(").unwrap_err().contains("unclosed group"));
    }

    #[test]
    fn the_budget_refuses_the_rule_that_passes_it() {
        let re = RuleRegex::new(r"\w{20}Q1").unwrap();
        let size = re.memory();
        assert!(size > 0);
        let mut memory = RegexMemory::default();
        let fit = REGEX_PROGRAMS_BUDGET / size;
        for _ in 0..fit {
            memory.add(&re).unwrap();
        }
        let e = memory.add(&re).unwrap_err();
        assert!(e.starts_with(r"re:\w{20}Q1 would bring"), "{e}");
    }
}
