//! The page's saved messages as a `--profile` TOML, both ways: a profile
//! made on the command line opens in the page (its `[packets]` and
//! `[service] respond` rules), and the page's saved messages export as a
//! profile that `sockmate connect --profile FILE --packet NAME` sends.

use std::collections::BTreeMap;

use serde::Serialize;

use super::protocol::Packet;

/// Largest profile the page may import, in bytes.
pub const MAX_PROFILE: usize = 1024 * 1024;

/// What a profile holds for the page.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// `[packets]`, by name.
    pub packets: Vec<Packet>,
    /// `[service] respond`.
    pub respond: Vec<String>,
}

/// Reads the packets and respond rules of a profile's text (other keys are
/// the command line's business and are left alone); one line naming the
/// bad part when it is not a profile.
pub fn import(text: &str) -> Result<Imported, String> {
    if text.len() > MAX_PROFILE {
        return Err(format!(
            "profile too large ({} bytes; at most {MAX_PROFILE})",
            text.len()
        ));
    }
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("not a profile: {}", one_line(&e.to_string())))?;
    let mut out = Imported::default();
    if let Some(packets) = table.get("packets") {
        let packets = packets
            .as_table()
            .ok_or("not a profile: [packets] must be a table of NAME = \"template\"")?;
        for (name, value) in packets {
            let template = value.as_str().ok_or_else(|| {
                format!("not a profile: packet \"{name}\" must be a string (a template)")
            })?;
            out.packets.push(Packet {
                name: name.clone(),
                template: template.to_string(),
            });
        }
    }
    if let Some(rules) = table
        .get("service")
        .and_then(|s| s.as_table())
        .and_then(|s| s.get("respond"))
    {
        let rules = rules
            .as_array()
            .ok_or("not a profile: [service] respond must be a list of \"MATCH=>REPLY\"")?;
        for rule in rules {
            let rule = rule
                .as_str()
                .ok_or("not a profile: each respond rule must be a string")?;
            out.respond.push(rule.to_string());
        }
    }
    if out.packets.is_empty() && out.respond.is_empty() {
        return Err("the profile has no [packets] and no [service] respond rules".into());
    }
    Ok(out)
}

#[derive(Serialize)]
struct Exported<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    packets: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<Service<'a>>,
}

#[derive(Serialize)]
struct Service<'a> {
    respond: &'a [String],
}

/// A profile holding `packets` (and `respond` rules, when any).
pub fn export(packets: &[Packet], respond: &[String]) -> Result<String, String> {
    if let Some(p) = packets.iter().find(|p| p.name.trim().is_empty()) {
        return Err(format!(
            "a saved message needs a name to be a packet (template \"{}\")",
            p.template
        ));
    }
    let doc = Exported {
        packets: packets
            .iter()
            .map(|p| (p.name.as_str(), p.template.as_str()))
            .collect(),
        service: (!respond.is_empty()).then_some(Service { respond }),
    };
    let body = toml::to_string(&doc).map_err(|e| format!("cannot write the profile: {e}"))?;
    Ok(format!(
        "# sockmate profile: saved messages from the page.\n# Send one: sockmate connect HOST:PORT --profile THIS.toml --packet NAME\n{body}"
    ))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_and_rules_round_trip() {
        let packets = vec![
            Packet {
                name: "read".into(),
                template: "01 03{crc16:modbus}".into(),
            },
            Packet {
                name: "温度".into(),
                template: "T?\\r\\n \"q\"".into(),
            },
        ];
        let rules = vec!["PING=>PONG\\n".to_string()];
        let text = export(&packets, &rules).unwrap();
        let back = import(&text).unwrap();
        let mut want = packets.clone();
        want.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(back.packets, want);
        assert_eq!(back.respond, rules);
    }

    #[test]
    fn bad_profiles_name_the_problem() {
        assert!(import("[packets\n")
            .unwrap_err()
            .starts_with("not a profile"));
        assert!(import("packets = 3").unwrap_err().contains("[packets]"));
        assert!(import("[packets]\na = 1").unwrap_err().contains("\"a\""));
        assert!(import("command = \"connect\"")
            .unwrap_err()
            .contains("no [packets]"));
        let err = export(
            &[Packet {
                name: " ".into(),
                template: "x".into(),
            }],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("needs a name"), "{err}");
    }
}
