//! One order of help headings for every command, whatever order the flags
//! were declared in: where the connection goes, what is sent, what is
//! received and shown, what a server does, the limits, the layers (TLS,
//! WebSocket, proxy), and the learning aids; `Examples:` stays last.
//!
//! clap prints headings in the order their first flag was declared, and
//! the shared flag groups are declared in different places per command, so
//! the rendered help is reordered here, section by section.

/// The headings in the order every command's help shows them.
pub const ORDER: &[&str] = &[
    "Arguments",
    "Options",
    "Endpoint and socket",
    "UDP",
    "Sending",
    "Receiving",
    "Views",
    "Services",
    "Limits",
    "TLS",
    "WebSocket",
    "Proxy",
    "Learning",
];

/// `help` (clap's rendered help, plain or with ANSI styles) with its known
/// heading sections in [`ORDER`]. Text before the first known heading and
/// from `Examples:` on stays where it is.
pub fn reorder(help: &str) -> String {
    let lines: Vec<&str> = help.split('\n').collect();
    let rank = |line: &str| {
        let plain = strip_styles(line);
        let name = plain.strip_suffix(':')?;
        ORDER.iter().position(|h| *h == name)
    };
    let Some(first) = lines.iter().position(|l| rank(l).is_some()) else {
        return help.to_string();
    };
    let end = lines
        .iter()
        .position(|l| strip_styles(l) == "Examples:")
        .filter(|&e| e > first)
        .unwrap_or(lines.len());
    // Sections: (rank, declared position, lines without trailing blanks).
    let mut sections: Vec<(usize, usize, Vec<&str>)> = Vec::new();
    for (i, line) in lines[first..end].iter().enumerate() {
        match rank(line) {
            Some(r) => sections.push((r, i, vec![*line])),
            None => {
                if let Some(last) = sections.last_mut() {
                    last.2.push(line);
                }
            }
        }
    }
    let trailing_blank = sections
        .last()
        .is_some_and(|s| s.2.last().is_some_and(|l| l.trim().is_empty()));
    for section in &mut sections {
        while section
            .2
            .last()
            .is_some_and(|l| strip_styles(l).trim().is_empty())
        {
            section.2.pop();
        }
    }
    sections.sort_by_key(|(r, i, _)| (*r, *i));
    let mut out: Vec<&str> = lines[..first].to_vec();
    for (n, section) in sections.iter().enumerate() {
        if n > 0 {
            out.push("");
        }
        out.extend(section.2.iter().copied());
    }
    if trailing_blank || end < lines.len() {
        out.push("");
    }
    out.extend(lines[end..].iter().copied());
    out.join("\n")
}

/// `line` without ANSI escape sequences (`ESC [ … letter`).
fn strip_styles(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_follow_the_one_order_and_examples_stay_last() {
        let help = "About\n\nUsage: x\n\nOptions:\n  -h\n\nLimits:\n  --max\n\n  --more\n\nEndpoint and socket:\n  -k\n\nExamples:\n  x 1\n";
        let out = reorder(help);
        assert_eq!(
            out,
            "About\n\nUsage: x\n\nOptions:\n  -h\n\nEndpoint and socket:\n  -k\n\nLimits:\n  --max\n\n  --more\n\nExamples:\n  x 1\n"
        );
    }

    #[test]
    fn styled_headings_are_recognised_and_text_without_headings_kept() {
        let help = "\u{1b}[1mViews:\u{1b}[0m\n  -x\n\n\u{1b}[1mSending:\u{1b}[0m\n  -s";
        assert_eq!(
            reorder(help),
            "\u{1b}[1mSending:\u{1b}[0m\n  -s\n\n\u{1b}[1mViews:\u{1b}[0m\n  -x"
        );
        assert_eq!(reorder("just text\n"), "just text\n");
    }
}
