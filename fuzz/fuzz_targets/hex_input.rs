//! `--send-hex` parsing never panics; formatted bytes parse back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sockmate::hexinput::{format_hex, parse_hex};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_hex(text);
    }
    assert_eq!(parse_hex(&format_hex(data)).expect("formatted hex parses"), data);
});
