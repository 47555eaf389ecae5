//! `--respond 'MATCH=>REPLY'` rules: simulate a device or a server by
//! answering known messages with known replies.
//!
//! MATCH is exact text (with backslash escapes), `hex:` bytes, or `re:` a
//! regular expression searched in the message; text and hex rules match the
//! message with or without its line ending. REPLY is a reply template
//! (placeholders and escapes), `hex:` bytes, and for regex rules may use the
//! captures as `$1`, `$name`, `${name}` (`$$` for a dollar). The first rule
//! that matches answers; `--respond-default` answers when none does.
//!
//! With `--encoding ENC`, text rules and replies are encoded in ENC, and a
//! regex is searched in the message decoded from ENC (its captures are
//! encoded back); `hex:` rules always match bytes.

use super::rule_regex::{RegexMemory, RuleRegex};

use crate::encoding::TextEncoding;
use crate::escape::unescape_in;
use crate::frame::trim_line_ending;
use crate::hexinput::parse_hex;
use crate::template::{CaptureRef, Message, Syntax, Template};

/// What separates MATCH from REPLY in a rule.
pub const RULE_ARROW: &str = "=>";

/// The most `re:` rules a server takes (their compiled size is bounded in
/// total too: [`super::rule_regex::REGEX_PROGRAMS_BUDGET`]); exact and hex
/// rules are cheap and not limited.
pub const MAX_REGEX_RULES: usize = 256;

/// The most bytes of regex source over all `re:` rules.
pub const MAX_REGEX_SOURCE: usize = 256 * 1024;

/// How a rule recognises a message.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Exact bytes (from text or `hex:`), with or without the line ending.
    Exact(Vec<u8>),
    /// A regex searched in the message without its line ending.
    Regex(RuleRegex),
}

/// One `MATCH=>REPLY` rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What it matches.
    pub matcher: Matcher,
    /// What it answers.
    pub reply: Template,
}

/// An ordered rule list and the default answer.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Tried in order.
    pub rules: Vec<Rule>,
    /// Used when no rule matches.
    pub default: Option<Template>,
    /// `--encoding`: regexes search the message decoded from it.
    pub encoding: TextEncoding,
}

fn parse_reply(text: &str, time_format: &str, syntax: Syntax) -> Result<Template, String> {
    if let Some(hex) = text.strip_prefix("hex:") {
        return parse_hex(hex)
            .map(Template::literal)
            .map_err(|e| format!("reply {e}"));
    }
    Template::parse_with(text, time_format, syntax).map_err(|e| format!("reply: {e}"))
}

/// Checks that every capture a reply names exists in the regex.
fn check_captures(regex: &RuleRegex, reply: &Template) -> Result<(), String> {
    for capture in reply.captures() {
        let known = match capture {
            CaptureRef::Index(i) => *i < regex.captures_len(),
            CaptureRef::Name(name) => regex.capture_names().contains(&name.as_str()),
        };
        if !known {
            let groups = regex.captures_len() - 1;
            return Err(format!(
                "reply uses {capture} but the regex has {groups} group(s){} (write (?P<name>…) to name one, $$ for a dollar)",
                match regex.capture_names() {
                    names if names.is_empty() => String::new(),
                    names => format!(" named {}", names.join(", ")),
                }
            ));
        }
    }
    Ok(())
}

/// Parses one rule (UTF-8 text).
pub fn parse_rule(text: &str, time_format: &str) -> Result<Rule, String> {
    parse_rule_in(text, time_format, TextEncoding::default())
}

/// Parses one rule whose text is sent and matched in `encoding`.
pub fn parse_rule_in(
    text: &str,
    time_format: &str,
    encoding: TextEncoding,
) -> Result<Rule, String> {
    let Some((pattern, reply)) = text.split_once(RULE_ARROW) else {
        return Err(format!(
            "invalid --respond \"{text}\": no \"{RULE_ARROW}\" (write MATCH=>REPLY, e.g. 'PING=>PONG\\n', 'hex:01 02=>hex:06' or 're:^GET (.*)=>got $1')"
        ));
    };
    let bad = |why: String| format!("invalid --respond \"{text}\": {why}");
    let matcher = if let Some(hex) = pattern.strip_prefix("hex:") {
        Matcher::Exact(parse_hex(hex).map_err(|e| bad(format!("match {e}")))?)
    } else if let Some(re) = pattern.strip_prefix("re:") {
        Matcher::Regex(RuleRegex::new(re).map_err(|e| bad(format!("bad regex: {e}")))?)
    } else {
        Matcher::Exact(unescape_in(pattern, encoding).map_err(|e| bad(format!("match: {e}")))?)
    };
    let syntax = Syntax {
        encoding,
        captures: matches!(matcher, Matcher::Regex(_)),
    };
    let reply = parse_reply(reply, time_format, syntax).map_err(&bad)?;
    if let Matcher::Regex(regex) = &matcher {
        check_captures(regex, &reply).map_err(bad)?;
    }
    Ok(Rule { matcher, reply })
}

/// Parses a rules file (UTF-8 rules).
pub fn parse_rules_file(content: &str, time_format: &str) -> Result<Vec<Rule>, String> {
    parse_rules_file_in(content, time_format, TextEncoding::default())
}

/// Parses a rules file: one rule a line; blank lines and lines starting
/// with `#` are skipped. Errors name the line.
pub fn parse_rules_file_in(
    content: &str,
    time_format: &str,
    encoding: TextEncoding,
) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    let mut budget = RegexBudget::default();
    for (i, line) in content.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let rule = parse_rule_in(line, time_format, encoding)
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        // Stop compiling as soon as the budget is spent, not after.
        budget
            .add(&rule)
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        rules.push(rule);
    }
    Ok(rules)
}

/// Counts `re:` rules, their source and their compiled size against
/// [`MAX_REGEX_RULES`], [`MAX_REGEX_SOURCE`] and [`RegexMemory`]'s budget.
#[derive(Debug, Default)]
struct RegexBudget {
    count: usize,
    source: usize,
    memory: RegexMemory,
}

impl RegexBudget {
    fn add(&mut self, rule: &Rule) -> Result<(), String> {
        let Matcher::Regex(re) = &rule.matcher else {
            return Ok(());
        };
        self.count += 1;
        self.source += re.as_str().len();
        if self.count > MAX_REGEX_RULES {
            return Err(format!(
                "more than {MAX_REGEX_RULES} re: rules (each costs up to a few hundred KB); merge them with | or use exact and hex: rules"
            ));
        }
        if self.source > MAX_REGEX_SOURCE {
            return Err(format!(
                "the re: rules hold more than {MAX_REGEX_SOURCE} bytes of patterns; shorten them or use exact and hex: rules"
            ));
        }
        self.memory.add(re)
    }
}

/// Parses `--respond-default` (UTF-8).
pub fn parse_default(text: &str, time_format: &str) -> Result<Template, String> {
    parse_default_in(text, time_format, TextEncoding::default())
}

/// Parses `--respond-default`, sent in `encoding`.
pub fn parse_default_in(
    text: &str,
    time_format: &str,
    encoding: TextEncoding,
) -> Result<Template, String> {
    let syntax = Syntax {
        encoding,
        captures: false,
    };
    parse_reply(text, time_format, syntax)
        .map_err(|e| format!("invalid --respond-default \"{text}\": {e}"))
}

impl Rules {
    /// Refuses a rule list whose regexes would take more memory than
    /// [`MAX_REGEX_RULES`] and [`MAX_REGEX_SOURCE`] allow.
    pub fn check_budget(&self) -> Result<(), String> {
        let mut budget = RegexBudget::default();
        self.rules.iter().try_for_each(|rule| budget.add(rule))
    }

    /// True when there is nothing to answer with.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.default.is_none()
    }

    /// Appends the answer for `msg` to `out`; false when nothing answers.
    pub fn answer(&self, msg: &Message<'_>, out: &mut Vec<u8>) -> bool {
        let trimmed = trim_line_ending(msg.bytes);
        for rule in &self.rules {
            match &rule.matcher {
                Matcher::Exact(want) => {
                    if msg.bytes == want.as_slice() || trimmed == want.as_slice() {
                        rule.reply.render(msg, out);
                        return true;
                    }
                }
                Matcher::Regex(re) => {
                    let decoded;
                    let haystack = if self.encoding.is_utf8() {
                        trimmed
                    } else {
                        decoded = self.encoding.decode_lossy(trimmed);
                        decoded.as_bytes()
                    };
                    if let Some(caps) = re.captures(haystack) {
                        let expand = |capture: &CaptureRef, out: &mut Vec<u8>| {
                            let span = match capture {
                                CaptureRef::Index(i) => caps.get_group(*i),
                                CaptureRef::Name(name) => caps.get_group_by_name(name),
                            };
                            let Some(group) = span.and_then(|s| haystack.get(s.range())) else {
                                return;
                            };
                            if self.encoding.is_utf8() {
                                out.extend_from_slice(group);
                            } else {
                                let text = String::from_utf8_lossy(group);
                                out.extend_from_slice(&self.encoding.encode(&text));
                            }
                        };
                        rule.reply.render_with(msg, out, Some(&expand));
                        return true;
                    }
                }
            }
        }
        match &self.default {
            Some(default) => {
                default.render(msg, out);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::CTIME_FORMAT;
    use proptest::prelude::*;

    fn answer(rules: &Rules, msg: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        rules
            .answer(
                &Message {
                    bytes: msg,
                    peer: "p",
                    number: 1,
                },
                &mut out,
            )
            .then_some(out)
    }

    fn rules(list: &[&str], default: Option<&str>) -> Rules {
        Rules {
            rules: list
                .iter()
                .map(|r| parse_rule(r, CTIME_FORMAT).unwrap())
                .collect(),
            default: default.map(|d| parse_default(d, CTIME_FORMAT).unwrap()),
            encoding: TextEncoding::default(),
        }
    }

    #[test]
    fn named_captures_and_encodings() {
        let r = rules(&["re:^set (?P<k>\\w+)=(\\d+)=>${k} is $2, ${1}$$"], None);
        assert_eq!(answer(&r, b"set temp=21\n").unwrap(), b"temp is 21, temp$");
        let e = parse_rule("re:^(a)=>$2", CTIME_FORMAT).unwrap_err();
        assert!(e.contains("uses ${2} but the regex has 1 group"), "{e}");
        let e = parse_rule("re:^(?P<x>a)=>${k}", CTIME_FORMAT).unwrap_err();
        assert!(e.contains("named x"), "{e}");
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let r = Rules {
            rules: vec![
                parse_rule_in("你好=>好的", CTIME_FORMAT, gbk).unwrap(),
                parse_rule_in("re:^温度(?P<v>.*)=>读数 ${v}", CTIME_FORMAT, gbk).unwrap(),
                parse_rule_in("hex:c4e3=>hex:01", CTIME_FORMAT, gbk).unwrap(),
            ],
            default: None,
            encoding: gbk,
        };
        assert_eq!(
            answer(&r, &gbk.encode("你好\r\n")).unwrap(),
            gbk.encode("好的")
        );
        assert_eq!(
            answer(&r, &gbk.encode("温度25℃")).unwrap(),
            gbk.encode("读数 25℃")
        );
        assert_eq!(answer(&r, b"\xc4\xe3").unwrap(), b"\x01");
    }

    #[test]
    fn text_hex_and_regex_rules() {
        let r = rules(
            &[
                "PING=>PONG\\n",
                "hex:01 02=>hex:06 07",
                "re:^GET (\\w+)=>got $1 ({len})",
                "PING=>never",
            ],
            Some("?"),
        );
        assert_eq!(answer(&r, b"PING\r\n").unwrap(), b"PONG\n");
        assert_eq!(answer(&r, b"PING").unwrap(), b"PONG\n");
        assert_eq!(answer(&r, b"\x01\x02").unwrap(), b"\x06\x07");
        assert_eq!(answer(&r, b"GET temp\n").unwrap(), b"got temp (9)");
        assert_eq!(answer(&r, b"other").unwrap(), b"?");
        assert_eq!(answer(&rules(&["a=>b"], None), b"c"), None);
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        assert!(parse_rule("PING", CTIME_FORMAT)
            .unwrap_err()
            .contains("no \"=>\""));
        assert!(parse_rule("re:(=>x", CTIME_FORMAT)
            .unwrap_err()
            .contains("bad regex"));
        assert!(parse_rule("hex:0g=>x", CTIME_FORMAT)
            .unwrap_err()
            .contains("not a hex digit"));
        assert!(parse_rule("a=>{nope}", CTIME_FORMAT)
            .unwrap_err()
            .contains("unknown placeholder"));
        let e = parse_rules_file("# c\n\nA=>B\nbroken\n", CTIME_FORMAT).unwrap_err();
        assert!(e.starts_with("line 4:"), "{e}");
        assert_eq!(
            parse_rules_file("# c\n\nA=>B\r\n", CTIME_FORMAT)
                .unwrap()
                .len(),
            1
        );
    }

    proptest! {
        #[test]
        fn rule_parser_never_panics(s in "\\PC{0,40}") {
            if let Ok(rule) = parse_rule(&s, CTIME_FORMAT) {
                let r = Rules { rules: vec![rule], default: None, encoding: TextEncoding::default() };
                let _ = answer(&r, s.as_bytes());
            }
        }

        #[test]
        fn exact_text_rules_match_themselves(word in "[A-Za-z0-9]{1,10}") {
            let r = rules(&[&format!("{word}=>ok")], None);
            prop_assert_eq!(answer(&r, word.as_bytes()), Some(b"ok".to_vec()));
        }
    }
}
