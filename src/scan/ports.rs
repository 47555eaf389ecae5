//! The port list of `sockmate scan`: `22,80,8000-8100`, open ranges
//! `1024-` and `-1024`, and `-` for every port. Pure, no I/O.

/// Lowest port a probe can target (port 0 is not a real destination).
pub const FIRST_PORT: u16 = 1;

/// Why a port list is not valid; the message names the bad part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid port list \"{list}\": {problem} (write e.g. 22,80,8000-8100 or - for all ports)")]
pub struct PortsError {
    list: String,
    problem: String,
}

/// Parses a port list into sorted, distinct ports.
pub fn parse_ports(list: &str) -> Result<Vec<u16>, PortsError> {
    let error = |problem: String| PortsError {
        list: list.to_string(),
        problem,
    };
    let trimmed = list.trim();
    if trimmed.is_empty() {
        return Err(error("it is empty".into()));
    }
    // A bitmap keeps memory fixed whatever the input repeats.
    let mut wanted = vec![false; usize::from(u16::MAX) + 1];
    for item in trimmed.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(error("an empty entry between commas".into()));
        }
        let (low, high) = match item.split_once('-') {
            None => {
                let port = parse_port(item).map_err(&error)?;
                (port, port)
            }
            Some((a, b)) => {
                let low = if a.trim().is_empty() {
                    FIRST_PORT
                } else {
                    parse_port(a.trim()).map_err(&error)?
                };
                let high = if b.trim().is_empty() {
                    u16::MAX
                } else {
                    parse_port(b.trim()).map_err(&error)?
                };
                if low > high {
                    return Err(error(format!(
                        "range {item} runs backwards (write {high}-{low})"
                    )));
                }
                (low, high)
            }
        };
        for port in low..=high {
            wanted[usize::from(port)] = true;
        }
    }
    Ok((FIRST_PORT..=u16::MAX)
        .filter(|&p| wanted[usize::from(p)])
        .collect())
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("port 0 cannot be probed (ports are 1-65535)".into()),
        Ok(n) if n <= u32::from(u16::MAX) => Ok(n as u16),
        Ok(n) => Err(format!("port {n} is above 65535")),
        Err(_) => Err(format!("\"{text}\" is not a port number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(
            parse_ports("22,80,8000-8002").unwrap(),
            vec![22, 80, 8000, 8001, 8002]
        );
        assert_eq!(parse_ports("80, 22,22").unwrap(), vec![22, 80]);
        assert_eq!(parse_ports("-").unwrap().len(), 65535);
        assert_eq!(parse_ports("-3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_ports("65534-").unwrap(), vec![65534, 65535]);
    }

    #[test]
    fn errors_name_the_bad_part() {
        for (bad, needle) in [
            ("", "empty"),
            ("22,,80", "empty entry"),
            ("0", "port 0"),
            ("70000", "above 65535"),
            ("http", "\"http\" is not a port"),
            ("90-80", "backwards"),
            ("1-2-3", "not a port"),
        ] {
            let err = parse_ports(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
    }

    proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,40}") {
            let _ = parse_ports(&text);
        }

        #[test]
        fn written_lists_parse_back(ports in proptest::collection::vec(1u16..=u16::MAX, 1..50)) {
            let text: Vec<String> = ports.iter().map(u16::to_string).collect();
            let mut expected = ports.clone();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(parse_ports(&text.join(",")).unwrap(), expected);
        }

        #[test]
        fn ranges_cover_exactly(a in 1u16..=u16::MAX, b in 1u16..=u16::MAX) {
            let (low, high) = (a.min(b), a.max(b));
            let ports = parse_ports(&format!("{low}-{high}")).unwrap();
            prop_assert_eq!(ports.len(), usize::from(high - low) + 1);
            prop_assert_eq!(ports[0], low);
            prop_assert_eq!(*ports.last().unwrap(), high);
        }
    }
}
