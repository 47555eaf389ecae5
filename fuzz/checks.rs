//! The properties every fuzz target checks, one function per target. The
//! libFuzzer targets in `fuzz_targets/` and the corpus run of `cargo test`
//! (`tests/fuzz.rs`, also the bounded run in `.ci/run`) share this file, so
//! both check exactly the same things.

use bytes::BytesMut;
use sockmate::encoding::TextEncoding;
use sockmate::endpoint::Endpoint;
use sockmate::frame::{Decoder, FrameError, FrameSpec};
use sockmate::hexinput::{format_hex, parse_hex};
use sockmate::scan::ports::parse_ports;
use sockmate::send::encode_text;
use sockmate::service::respond::{parse_rule, parse_rules_file, Rules};
use sockmate::template::{Message, Template, CTIME_FORMAT};
use sockmate::transfer::header::{parse_receiver_frame, parse_sender_frame};
use sockmate::transport::proxy::{http, socks, Proxy, Refusal};

/// One target's property over one input.
pub type Check = fn(&[u8]);

/// Every target: its name (also its corpus folder) and its check.
#[allow(dead_code)]
pub const TARGETS: &[(&str, Check)] = &[
    ("endpoint", endpoint),
    ("hex_input", hex_input),
    ("send_text", send_text),
    ("decode_stream", decode_stream),
    ("transfer_header", transfer_header),
    ("transfer_wire", transfer_wire),
    ("scan_ports", scan_ports),
    ("template", template),
    ("respond_rules", respond_rules),
    ("framing", framing),
    ("proxy", proxy),
];

/// An endpoint that parses prints as text that parses to the same.
pub fn endpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ep) = text.parse::<Endpoint>() {
        let shown = ep.to_string();
        let again: Endpoint = shown.parse().expect("Display output must parse");
        assert_eq!(again, ep);
    }
    let _ = Endpoint::parse_listen(text);
}

/// Hex input never panics, and formatted hex parses back.
pub fn hex_input(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_hex(text);
    }
    assert_eq!(
        parse_hex(&format_hex(data)).expect("formatted hex parses"),
        data
    );
}

/// Encoding typed text never panics in any encoding.
pub fn send_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for label in ["utf-8", "gbk", "big5", "shift_jis", "utf-16le"] {
        if let Ok(enc) = TextEncoding::from_label(label) {
            let _ = encode_text(text, enc);
        }
    }
}

/// Streaming decoding in two pieces equals decoding the whole.
pub fn decode_stream(data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let body = &data[1..];
    let cut = (data[0] as usize % data.len()).min(body.len());
    for label in [
        "utf-8",
        "gbk",
        "gb18030",
        "big5",
        "shift_jis",
        "euc-kr",
        "utf-16be",
    ] {
        let enc = TextEncoding::from_label(label).expect("known label");
        let whole = enc.decode_lossy(body);
        let mut dec = enc.decoder();
        let mut pieces = dec.decode(&body[..cut], false);
        pieces += &dec.decode(&body[cut..], true);
        assert_eq!(whole, pieces);
    }
}

/// A transfer frame that parses uses no more than it was given and
/// re-encodes to the same bytes.
pub fn transfer_header(data: &[u8]) {
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
}

/// A whole transfer conversation: frame after frame from one byte stream,
/// each consuming what it said, until the bytes end or one is refused.
pub fn transfer_wire(data: &[u8]) {
    for sender in [true, false] {
        let mut rest = data;
        let mut first = true;
        for _ in 0..data.len() + 1 {
            let parsed = if sender {
                parse_sender_frame(rest, first)
                    .map(|f| f.map(|(frame, used)| (frame.encode(), used)))
            } else {
                parse_receiver_frame(rest, first)
                    .map(|f| f.map(|(frame, used)| (frame.encode(), used)))
            };
            let Ok(Some((encoded, used))) = parsed else {
                break;
            };
            assert!(used > 0 && used <= rest.len(), "a frame consumes its bytes");
            assert_eq!(encoded, &rest[..used]);
            rest = &rest[used..];
            first = false;
        }
    }
}

/// Port lists come out sorted, without duplicates or port 0.
pub fn scan_ports(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ports) = parse_ports(text) {
            assert!(ports.windows(2).all(|w| w[0] < w[1]));
            assert!(!ports.contains(&0));
        }
    }
}

/// A reply template that parses renders any message without panicking;
/// a literal one renders to the same bytes every time.
pub fn template(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize).min(rest.len());
    let Ok(text) = std::str::from_utf8(&rest[..cut]) else {
        return;
    };
    let Ok(template) = Template::parse(text, CTIME_FORMAT) else {
        return;
    };
    let msg = Message {
        bytes: &rest[cut..],
        peer: "127.0.0.1:1",
        number: 7,
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    template.render(&msg, &mut a);
    template.render(&msg, &mut b);
    if template.is_literal() {
        assert_eq!(a, b);
    }
}

/// Respond rules and rule files parse or fail with a message, never
/// panic; a rule that parses answers any message without panicking.
pub fn respond_rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = parse_rules_file(text, CTIME_FORMAT) {
        let rules = Rules {
            rules,
            ..Rules::default()
        };
        let msg = Message {
            bytes: data,
            peer: "127.0.0.1:1",
            number: 1,
        };
        let mut out = Vec::new();
        let _ = rules.answer(&msg, &mut out);
    }
    let first = text.lines().next().unwrap_or("");
    if let Ok(rule) = parse_rule(first, CTIME_FORMAT) {
        let rules = Rules {
            rules: vec![rule],
            ..Rules::default()
        };
        let msg = Message {
            bytes: first.as_bytes(),
            peer: "p",
            number: 1,
        };
        let _ = rules.answer(&msg, &mut Vec::new());
    }
}

/// Decoding a stream cut at any point gives the same messages as decoding
/// it whole, no message is longer than the limit, and what an encoder
/// wrote decodes back to the payload.
pub fn framing(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let spec = match selector % 6 {
        0 => FrameSpec::Line,
        1 => FrameSpec::Crlf,
        2 => FrameSpec::Len16,
        3 => FrameSpec::Len32,
        4 => FrameSpec::Delim(vec![0xff, 0x00]),
        _ => FrameSpec::Raw,
    };
    let max = 1 + (selector as usize * 37) % 512;
    let cut = (selector as usize * 13) % (rest.len() + 1);
    let whole = decode_all(&spec, max, &[rest]);
    let pieces = decode_all(&spec, max, &[&rest[..cut], &rest[cut..]]);
    if spec != FrameSpec::Raw {
        assert_eq!(
            whole, pieces,
            "{spec:?}: cutting the stream changed the messages"
        );
    }
    // A length-prefixed message an encoder wrote decodes as one message.
    let payload = &rest[..rest.len().min(max)];
    let mut encoded = Vec::new();
    if matches!(spec, FrameSpec::Len16 | FrameSpec::Len32)
        && spec.encode(payload, &mut encoded).is_ok()
    {
        let (messages, _) = decode_all(&spec, max + 4, &[&encoded]);
        assert_eq!(messages.len(), 1, "{spec:?}: one encoded message");
    }
}

/// The messages decoded from `chunks` fed in order, and how it ended.
fn decode_all(spec: &FrameSpec, max: usize, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, String) {
    let mut decoder = Decoder::new(spec.clone(), max);
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        buf.extend_from_slice(chunk);
        let last = i + 1 == chunks.len();
        loop {
            let next = if last {
                decoder.decode_eof(&mut buf)
            } else {
                decoder.decode(&mut buf)
            };
            match next {
                Ok(Some(message)) => {
                    assert!(message.len() <= max + 4, "a message past --max-frame");
                    messages.push(message.to_vec());
                }
                Ok(None) => break,
                Err(FrameError::Io(e)) => return (messages, e.to_string()),
                Err(e) => return (messages, e.to_string()),
            }
        }
    }
    (messages, String::new())
}

/// A refusal is said in one line of printable words.
fn one_line(refusal: &Refusal) {
    assert!(!refusal.words.is_empty(), "an empty refusal");
    assert!(
        !refusal.words.chars().any(char::is_control),
        "a refusal with control characters: {:?}",
        refusal.words
    );
}

/// Proxy replies and `--proxy` URLs. The first byte picks what the rest
/// is: an HTTP `CONNECT` response head, a SOCKS5 method, login or reply
/// head, a SOCKS4 reply, or a `--proxy` URL. No input panics; a refusal is
/// one printable line; a 2xx HTTP status is accepted; a URL that parses
/// prints (without its login) as a URL that parses to the same proxy.
pub fn proxy(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let bytes = |n: usize| -> Vec<u8> {
        let mut out = rest.iter().copied().take(n).collect::<Vec<u8>>();
        out.resize(n, 0);
        out
    };
    match selector % 6 {
        0 => match http::parse_response(rest) {
            Ok(()) => {
                let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let code = line.split(|&b| b == b' ').nth(1).unwrap_or_default();
                assert!(
                    line.starts_with(b"HTTP/") && code.len() == 3 && code[0] == b'2',
                    "accepted a reply that is not a 2xx status"
                );
            }
            Err(refusal) => one_line(&refusal),
        },
        1 => {
            let b = bytes(2);
            if let Err(refusal) = socks::method_reply([b[0], b[1]]) {
                one_line(&refusal);
            }
        }
        2 => {
            let b = bytes(2);
            if let Err(refusal) = socks::login_reply([b[0], b[1]]) {
                one_line(&refusal);
            }
        }
        3 => {
            let b = bytes(4);
            if let Err(refusal) = socks::reply_head([b[0], b[1], b[2], b[3]]) {
                one_line(&refusal);
            }
        }
        4 => {
            let b = bytes(8);
            if let Err(refusal) =
                socks::socks4_reply([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            {
                one_line(&refusal);
            }
        }
        _ => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            match text.parse::<Proxy>() {
                Ok(proxy) => {
                    let shown = proxy.to_string();
                    let again: Proxy = shown.parse().unwrap_or_else(|e| {
                        panic!("{text:?} printed as {shown:?}, which fails: {e}")
                    });
                    assert_eq!(
                        (again.kind, &again.host, again.port),
                        (proxy.kind, &proxy.host, proxy.port),
                        "{text:?} printed as {shown:?}"
                    );
                }
                Err(e) => {
                    if !text.contains(['\n', '\r']) {
                        assert!(!e.contains('\n'), "a two-line error: {e:?}");
                    }
                }
            }
        }
    }
}
