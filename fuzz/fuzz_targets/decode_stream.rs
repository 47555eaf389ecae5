//! Streaming decoding never panics and does not depend on where reads split.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sockmate::encoding::TextEncoding;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let cut = data[0] as usize % data.len();
    let body = &data[1..];
    let cut = cut.min(body.len());
    for label in ["utf-8", "gbk", "gb18030", "big5", "shift_jis", "euc-kr", "utf-16be"] {
        let enc = TextEncoding::from_label(label).expect("known label");
        let whole = enc.decode_lossy(body);
        let mut dec = enc.decoder();
        let mut pieces = dec.decode(&body[..cut], false);
        pieces += &dec.decode(&body[cut..], true);
        assert_eq!(whole, pieces);
    }
});
