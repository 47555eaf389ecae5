//! Layers over a Unix stream socket: `tls+unix:///run/app.sock` (TLS),
//! `ws+unix:///run/app.sock:/chat` (WebSocket) and `wss+unix://…` (both),
//! the same layers `tls://`, `ws://` and `wss://` put over TCP.
//!
//! Where the socket path ends and the WebSocket's request path begins: at
//! the first `:/` (`ws+unix:///run/app.sock:/chat?room=1`); without one the
//! whole rest is the socket path and the request path is `/`. A socket
//! path that itself contains `:/` cannot be written here. Abstract names
//! work as with `unix://` (`ws+unix://@app:/chat`, Linux only).
//!
//! Every other `LAYER+BASE://` combination is refused by `refusal` in
//! one line that names the ones there are.

use std::fmt;

use super::{parse_unix, EndpointError, Kind, UnixAddr};

/// The combinations of layers and bases there are, for error messages.
pub const VALID: &str =
    "tls://, ws://, wss:// (over TCP) and tls+unix://, ws+unix://, wss+unix:// (over a Unix stream socket)";

/// TLS and/or a WebSocket over a Unix stream socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OverUnix {
    /// The Unix stream socket under the layers.
    pub addr: UnixAddr,
    /// TLS right over the socket (`tls+unix://`, `wss+unix://`).
    pub tls: bool,
    /// A WebSocket on top, with its request path (and query) from `/`
    /// (`ws+unix://`, `wss+unix://`); `None` for TLS alone.
    pub ws_path: Option<String>,
}

impl OverUnix {
    /// The kind (scheme) these layers make.
    pub fn kind(&self) -> Kind {
        match (self.tls, self.ws_path.is_some()) {
            (true, false) => Kind::TlsUnix,
            (false, _) => Kind::WsUnix,
            (true, true) => Kind::WssUnix,
        }
    }
}

impl fmt::Display for OverUnix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.kind().scheme(), self.addr)?;
        match self.ws_path.as_deref() {
            None | Some("/") => Ok(()),
            Some(path) => write!(f, ":{path}"),
        }
    }
}

/// Parses what follows `tls+unix://`, `ws+unix://` or `wss+unix://`.
pub(super) fn parse(kind: Kind, rest: &str, input: &str) -> Result<OverUnix, EndpointError> {
    let ws = matches!(kind, Kind::WsUnix | Kind::WssUnix);
    let tls = matches!(kind, Kind::TlsUnix | Kind::WssUnix);
    let (socket, path) = match rest.find(":/") {
        Some(at) if ws => (&rest[..at], Some(rest[at + 1..].to_string())),
        Some(at) => {
            return Err(EndpointError::new(format!(
                "unexpected path \"{}\" in {input} (TLS has no request path; for a WebSocket write wss+unix://{}{})",
                &rest[at + 1..],
                &rest[..at],
                &rest[at..]
            )))
        }
        None => (rest, ws.then(|| "/".to_string())),
    };
    if let Some(path) = &path {
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(EndpointError::new(format!(
                "invalid path in {input} (no spaces or control characters; percent-encode them, e.g. %20)"
            )));
        }
    }
    let addr = parse_unix(socket, input, kind)?;
    Ok(OverUnix {
        addr,
        tls,
        ws_path: path,
    })
}

/// The one-line refusal for a `LAYER+BASE` scheme that is not one of the
/// valid combinations (`tls+serial`, `ws+udp`, `tls+unix-seqpacket`…);
/// `None` when `scheme` has no `+`.
pub(super) fn refusal(scheme: &str, input: &str) -> Option<String> {
    let (layer, base) = scheme.split_once('+')?;
    let layer = layer.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    let why = match (layer.as_str(), base.as_str()) {
        ("tls" | "ssl" | "ws" | "wss", "tcp") => {
            let plain = if layer == "ssl" { "tls" } else { &layer };
            format!("{layer} over TCP is written {plain}://")
        }
        ("tls" | "ssl" | "ws" | "wss", "serial" | "tty") => {
            "a serial line carries no TLS or WebSocket here".to_string()
        }
        ("tls" | "ssl" | "ws" | "wss", "udp" | "unix-dgram" | "unix-datagram") => {
            "TLS and WebSocket need a stream, and datagrams are not one".to_string()
        }
        ("tls" | "ssl" | "ws" | "wss", "unix-seqpacket") => {
            "TLS and WebSocket need a byte stream, and a seqpacket socket keeps messages"
                .to_string()
        }
        ("tls" | "ssl" | "ws" | "wss", _) => format!("\"{base}\" is no base to stack on"),
        _ => format!("\"{layer}\" is no layer"),
    };
    Some(format!(
        "cannot stack {scheme}:// in {input}: {why} (the layered endpoints are {VALID})"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::Endpoint;
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Endpoint {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        match s.parse::<Endpoint>() {
            Ok(ep) => panic!("{s} parsed as {ep:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn each_layered_scheme_parses_and_prints_back() {
        let tls = parse("tls+unix:///run/app.sock");
        assert_eq!(tls.kind(), Kind::TlsUnix);
        assert_eq!(tls.to_string(), "tls+unix:///run/app.sock");
        let ws = parse("ws+unix:///run/app.sock:/chat?room=1");
        assert_eq!(
            ws,
            Endpoint::OverUnix(OverUnix {
                addr: UnixAddr::Path("/run/app.sock".into()),
                tls: false,
                ws_path: Some("/chat?room=1".into()),
            })
        );
        assert_eq!(ws.to_string(), "ws+unix:///run/app.sock:/chat?room=1");
        let bare = parse("wss+unix:///run/app.sock");
        assert_eq!(bare.kind(), Kind::WssUnix);
        assert_eq!(bare.to_string(), "wss+unix:///run/app.sock");
        assert!(bare.kind().is_connection_oriented());
        assert!(!bare.kind().keeps_message_boundaries());
        assert!(bare.unix_addr().is_some());
    }

    #[test]
    fn bad_combinations_get_one_line_naming_the_valid_ones() {
        for bad in [
            "tls+serial:///dev/ttyS0",
            "ws+udp://127.0.0.1:9",
            "tls+unix-seqpacket:///x",
            "tls+unix-dgram:///x",
            "gzip+unix:///x",
            "tls+tcp://h:1",
        ] {
            let e = err(bad);
            assert!(e.contains("tls+unix://, ws+unix://"), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(err("tls+tcp://h:1").contains("written tls://"));
        assert!(err("tls+unix:///a.sock:/x").contains("TLS has no request path"));
        assert!(err("ws+unix://relative.sock").contains("three slashes"));
        assert!(err("ws+unix:///a.sock:/a b").contains("invalid path"));
    }

    proptest! {
        #[test]
        fn what_parses_prints_back_the_same(
            scheme in prop::sample::select(vec!["tls+unix", "ws+unix", "wss+unix"]),
            socket in "/[a-z0-9._-]{1,30}",
            path in proptest::option::of("/[a-z0-9/?=&]{0,20}"),
        ) {
            let text = match &path {
                Some(p) if scheme != "tls+unix" => format!("{scheme}://{socket}:{p}"),
                _ => format!("{scheme}://{socket}"),
            };
            let once: Endpoint = text.parse().unwrap();
            let again: Endpoint = once.to_string().parse().unwrap();
            prop_assert_eq!(once, again);
        }

        #[test]
        fn no_input_panics(rest in "\\PC{0,60}", scheme in "[a-z+-]{1,20}") {
            let _ = format!("{scheme}://{rest}").parse::<Endpoint>();
        }
    }
}
