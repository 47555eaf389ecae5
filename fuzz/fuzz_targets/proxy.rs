//! libFuzzer target `proxy`: the property in `fuzz/checks.rs` (shared with
//! the corpus run in `tests/fuzz.rs`).
#![no_main]

#[path = "../checks.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::proxy(data));
