//! Endpoint parsing never panics, and what parses prints back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sockmate::endpoint::Endpoint;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ep) = text.parse::<Endpoint>() {
        let shown = ep.to_string();
        let again: Endpoint = shown.parse().expect("Display output must parse");
        assert_eq!(again, ep);
    }
    let _ = Endpoint::parse_listen(text);
});
