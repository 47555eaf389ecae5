//! The transfer wire parser never panics, never reports more bytes used
//! than it was given, and re-encodes what it accepts to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockmate::transfer::header::{parse_receiver_frame, parse_sender_frame};

fuzz_target!(|data: &[u8]| {
    for first in [true, false] {
        if let Ok(Some((frame, used))) = parse_sender_frame(data, first) {
            assert!(used <= data.len());
            assert_eq!(frame.encode(), &data[..used]);
        }
        if let Ok(Some((frame, used))) = parse_receiver_frame(data, first) {
            assert!(used <= data.len());
            assert_eq!(frame.encode(), &data[..used]);
        }
    }
});
