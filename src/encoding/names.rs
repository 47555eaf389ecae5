//! Encoding names beyond the WHATWG labels: Python's codec names (what a
//! learner copies from `data.decode('cp936')`), and the nearest known name
//! when a label is misspelt.

/// Python codec names (normalised: lower case, `-` and spaces as `_`) and
/// the WHATWG label each one means. Python's `latin_1` is ISO-8859-1 and
/// WHATWG maps that label to windows-1252, which agrees on every printable
/// character.
const PYTHON_ALIASES: &[(&str, &str)] = &[
    ("utf8", "utf-8"),
    ("utf_8", "utf-8"),
    ("u8", "utf-8"),
    ("utf", "utf-8"),
    ("cp65001", "utf-8"),
    ("utf_8_sig", "utf-8"),
    ("cp936", "gbk"),
    ("ms936", "gbk"),
    ("936", "gbk"),
    ("euc_cn", "gbk"),
    ("euccn", "gbk"),
    ("eucgb2312_cn", "gbk"),
    ("gb2312_1980", "gbk"),
    ("gb2312_80", "gbk"),
    ("gb18030_2000", "gb18030"),
    ("big5_tw", "big5"),
    ("cp950", "big5"),
    ("ms950", "big5"),
    ("big5hkscs", "big5"),
    ("big5_hkscs", "big5"),
    ("hkscs", "big5"),
    ("shiftjis", "shift_jis"),
    ("s_jis", "shift_jis"),
    ("cp932", "shift_jis"),
    ("ms932", "shift_jis"),
    ("mskanji", "shift_jis"),
    ("ms_kanji", "shift_jis"),
    ("euc_jp", "euc-jp"),
    ("eucjp", "euc-jp"),
    ("ujis", "euc-jp"),
    ("u_jis", "euc-jp"),
    ("iso2022_jp", "iso-2022-jp"),
    ("iso2022jp", "iso-2022-jp"),
    ("iso_2022_jp", "iso-2022-jp"),
    ("euc_kr", "euc-kr"),
    ("euckr", "euc-kr"),
    ("cp949", "euc-kr"),
    ("ms949", "euc-kr"),
    ("uhc", "euc-kr"),
    ("ksc5601", "euc-kr"),
    ("ks_c_5601", "euc-kr"),
    ("ks_x_1001", "euc-kr"),
    ("latin_1", "windows-1252"),
    ("latin", "windows-1252"),
    ("iso8859_1", "windows-1252"),
    ("8859", "windows-1252"),
    ("cp819", "windows-1252"),
    ("l1", "windows-1252"),
    ("utf_16_le", "utf-16le"),
    ("utf16le", "utf-16le"),
    ("utf_16le", "utf-16le"),
    ("utf_16", "utf-16le"),
    ("utf16", "utf-16le"),
    ("utf_16_be", "utf-16be"),
    ("utf16be", "utf-16be"),
    ("utf_16be", "utf-16be"),
    ("koi8_r", "koi8-r"),
    ("koi8_u", "koi8-u"),
    ("mac_roman", "macintosh"),
    ("macroman", "macintosh"),
    ("mac_cyrillic", "x-mac-cyrillic"),
    ("tis_620", "windows-874"),
    ("cp874", "windows-874"),
    ("cp866", "ibm866"),
];

/// The names offered when a label is unknown: the common WHATWG names and
/// the Python names people type most.
const SUGGESTIONS: &[&str] = &[
    "utf-8",
    "gbk",
    "gb18030",
    "gb2312",
    "cp936",
    "big5",
    "shift_jis",
    "cp932",
    "euc-jp",
    "iso-2022-jp",
    "euc-kr",
    "cp949",
    "latin1",
    "latin-1",
    "windows-1252",
    "windows-1251",
    "iso-8859-2",
    "iso-8859-15",
    "koi8-r",
    "utf-16le",
    "utf-16be",
    "macintosh",
];

/// Lower case with `-` and spaces written `_`, as Python's codec lookup does.
fn normalise(label: &str) -> String {
    label.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

/// The WHATWG label that Python's codec name `label` means, if it is one:
/// the table above, `cp1250`…`cp1258` (windows-125x) and `iso8859_N`.
pub fn python_alias(label: &str) -> Option<String> {
    let name = normalise(label);
    if let Some((_, whatwg)) = PYTHON_ALIASES.iter().find(|(python, _)| *python == name) {
        return Some((*whatwg).to_string());
    }
    if let Some(n) = name.strip_prefix("cp125").filter(|n| n.len() == 1) {
        return Some(format!("windows-125{n}"));
    }
    let iso = name
        .strip_prefix("iso8859_")
        .or_else(|| name.strip_prefix("iso_8859_"));
    iso.filter(|n| n.parse::<u8>().is_ok())
        .map(|n| format!("iso-8859-{n}"))
}

/// The known name closest to `label` (`-`/`_` and case ignored), when it is
/// close enough to be a slip of the fingers.
pub fn nearest(label: &str) -> Option<&'static str> {
    let typed = normalise(label);
    let (best, distance) = SUGGESTIONS
        .iter()
        .chain(PYTHON_ALIASES.iter().map(|(python, _)| python))
        .map(|name| (*name, edit_distance(&typed, &normalise(name))))
        .min_by_key(|(_, d)| *d)?;
    let allowed = (typed.chars().count() / 3).clamp(1, 3);
    (distance <= allowed).then_some(best)
}

/// Levenshtein distance, with a swap of two neighbours counting as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names_map_to_whatwg_labels() {
        for (python, whatwg) in [
            ("cp936", "gbk"),
            ("MS936", "gbk"),
            ("utf8", "utf-8"),
            ("latin-1", "windows-1252"),
            ("s-jis", "shift_jis"),
            ("cp1251", "windows-1251"),
            ("iso8859-2", "iso-8859-2"),
            ("UTF-16-LE", "utf-16le"),
        ] {
            assert_eq!(python_alias(python).as_deref(), Some(whatwg), "{python}");
        }
        assert_eq!(python_alias("klingon"), None);
        assert_eq!(python_alias("cp12"), None);
    }

    #[test]
    fn a_slip_of_the_fingers_finds_the_name() {
        assert_eq!(nearest("gkb"), Some("gbk"));
        assert_eq!(nearest("utf-9"), Some("utf-8"));
        assert_eq!(nearest("shiftjs"), Some("shiftjis"));
        assert_eq!(nearest("gb18003"), Some("gb18030"));
        assert_eq!(nearest("klingon"), None);
    }
}
