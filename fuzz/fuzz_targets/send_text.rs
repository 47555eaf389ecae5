//! `--send` text (escapes + encodings) never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sockmate::send::encode_text;
use sockmate::encoding::TextEncoding;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for label in ["utf-8", "gbk", "big5", "shift_jis", "utf-16le"] {
        if let Ok(enc) = TextEncoding::from_label(label) {
            let _ = encode_text(text, enc);
        }
    }
});
