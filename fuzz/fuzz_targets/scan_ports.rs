//! The scan port-list parser never panics and returns sorted, distinct,
//! non-zero ports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockmate::scan::ports::parse_ports;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ports) = parse_ports(text) {
            assert!(ports.windows(2).all(|w| w[0] < w[1]));
            assert!(!ports.contains(&0));
        }
    }
});
