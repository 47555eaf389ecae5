//! The SOCKS5 server side (RFC 1928, RFC 1929 login): pure parsers for the
//! client's greeting, login and request (bytes in, never a panic), the
//! replies as bytes, and the handshake that reads them from a client. The
//! wire constants are the proxy client's ([`crate::transport::proxy::socks`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::dial::{DialFailure, Target, TargetHost};
use super::wire::{read_parsed, same_secret, Failure, Malformed, Parsed};
use crate::transport::proxy::socks::{
    reply, ATYP_NAME, ATYP_V4, ATYP_V6, CMD_CONNECT, LOGIN_VERSION, NO_ACCEPTABLE, NO_AUTH,
    PASSWORD, VERSION5,
};
use crate::transport::proxy::Credentials;
use crate::transport::{StreamReader, StreamWriter};

/// The longest greeting, login or request a client may send (each is
/// under 520 bytes by the RFCs).
const MAX_MESSAGE: usize = 1024;

/// Parses the greeting: the login methods the client offers.
pub fn parse_greeting(buf: &[u8]) -> Result<Parsed<Vec<u8>>, Malformed> {
    let Some(&version) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    if version != VERSION5 {
        return Err(Malformed::new(not_socks5(buf)));
    }
    let Some(&count) = buf.get(1) else {
        return Ok(Parsed::Incomplete);
    };
    if count == 0 {
        return Err(Malformed::new(
            "malformed SOCKS5 greeting: it offers no login methods",
        ));
    }
    let end = 2 + usize::from(count);
    match buf.get(2..end) {
        Some(methods) => Ok(Parsed::Done(methods.to_vec(), end)),
        None => Ok(Parsed::Incomplete),
    }
}

/// Words for a first byte that is not SOCKS5's.
fn not_socks5(buf: &[u8]) -> String {
    let head: String = buf
        .iter()
        .take(8)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect();
    match buf[0] {
        4 => "a SOCKS4 request: only SOCKS5 is served here (use socks5:// or curl --socks5-hostname)".into(),
        b'A'..=b'Z' | b'a'..=b'z' => format!(
            "not a SOCKS5 greeting: it starts with text, \"{head}\" (this port serves SOCKS5; an HTTP proxy is --serve http-proxy)"
        ),
        other => format!("not a SOCKS5 greeting (first byte {other:#04x}; SOCKS5 starts with 0x05)"),
    }
}

/// A login (RFC 1929): user name and password, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name.
    pub user: Vec<u8>,
    /// The password.
    pub pass: Vec<u8>,
}

/// Parses the login request.
pub fn parse_login(buf: &[u8]) -> Result<Parsed<Login>, Malformed> {
    let Some(&version) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    if version != LOGIN_VERSION {
        return Err(Malformed::new(format!(
            "malformed SOCKS5 login: version byte {version:#04x} (RFC 1929 says 0x01)"
        )));
    }
    let Some(&ulen) = buf.get(1) else {
        return Ok(Parsed::Incomplete);
    };
    let user_end = 2 + usize::from(ulen);
    let Some(&plen) = buf.get(user_end) else {
        return Ok(Parsed::Incomplete);
    };
    let end = user_end + 1 + usize::from(plen);
    if buf.len() < end {
        return Ok(Parsed::Incomplete);
    }
    Ok(Parsed::Done(
        Login {
            user: buf[2..user_end].to_vec(),
            pass: buf[user_end + 1..end].to_vec(),
        },
        end,
    ))
}

/// Parses the request: the CONNECT target. Another command or an unknown
/// address type is [`Malformed`] with the reply code to send.
pub fn parse_request(buf: &[u8]) -> Result<Parsed<Target>, Malformed> {
    if buf.len() < 4 {
        if buf.first().is_some_and(|&v| v != VERSION5) {
            return Err(Malformed::new(format!(
                "malformed SOCKS5 request: version byte {:#04x}",
                buf[0]
            )));
        }
        return Ok(Parsed::Incomplete);
    }
    let [version, command, _reserved, atyp] = [buf[0], buf[1], buf[2], buf[3]];
    if version != VERSION5 {
        return Err(Malformed::new(format!(
            "malformed SOCKS5 request: version byte {version:#04x}"
        )));
    }
    if command != CMD_CONNECT {
        let name = match command {
            2 => "BIND".to_string(),
            3 => "UDP ASSOCIATE".to_string(),
            other => format!("command {other:#04x}"),
        };
        return Err(Malformed::replying(
            reply::COMMAND_NOT_SUPPORTED.into(),
            format!("SOCKS5 {name} is not supported (only CONNECT)"),
        ));
    }
    let (host, port_at) = match atyp {
        ATYP_V4 => match buf.get(4..8) {
            Some(b) => (
                TargetHost::Ip(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
                8,
            ),
            None => return Ok(Parsed::Incomplete),
        },
        ATYP_V6 => match buf.get(4..20).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(b) => (TargetHost::Ip(IpAddr::V6(Ipv6Addr::from(b))), 20),
            None => return Ok(Parsed::Incomplete),
        },
        ATYP_NAME => {
            let Some(&len) = buf.get(4) else {
                return Ok(Parsed::Incomplete);
            };
            let end = 5 + usize::from(len);
            let Some(name) = buf.get(5..end) else {
                return Ok(Parsed::Incomplete);
            };
            (name_host(name)?, end)
        }
        other => {
            return Err(Malformed::replying(
                reply::ADDRESS_NOT_SUPPORTED.into(),
                format!("malformed SOCKS5 request: unknown address type {other:#04x}"),
            ))
        }
    };
    let Some(port) = buf.get(port_at..port_at + 2) else {
        return Ok(Parsed::Incomplete);
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    Ok(Parsed::Done(Target { host, port }, port_at + 2))
}

/// A name from a request (an address written as a name counts as the
/// address).
fn name_host(name: &[u8]) -> Result<TargetHost, Malformed> {
    let valid = std::str::from_utf8(name)
        .ok()
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_graphic()));
    let Some(name) = valid else {
        return Err(Malformed::replying(
            reply::ADDRESS_NOT_SUPPORTED.into(),
            "malformed SOCKS5 request: the target name is empty or not printable ASCII",
        ));
    };
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    Ok(match bare.parse::<IpAddr>() {
        Ok(ip) => TargetHost::Ip(ip),
        Err(_) => TargetHost::Name(name.to_string()),
    })
}

/// The reply to a request: `code`, and the address we connected from (or
/// zeros).
pub fn reply_bytes(code: u8, bound: Option<SocketAddr>) -> Vec<u8> {
    let bound = bound.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut out = vec![VERSION5, code, 0];
    match bound.ip() {
        IpAddr::V4(ip) => {
            out.push(ATYP_V4);
            out.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.push(ATYP_V6);
            out.extend_from_slice(&ip.octets());
        }
    }
    out.extend_from_slice(&bound.port().to_be_bytes());
    out
}

/// The reply code for a failed dial.
pub fn failure_code(failure: DialFailure) -> u8 {
    match failure {
        DialFailure::NotAllowed => reply::NOT_ALLOWED,
        DialFailure::Refused => reply::REFUSED,
        DialFailure::NetworkUnreachable => reply::NETWORK_UNREACHABLE,
        DialFailure::Resolve | DialFailure::HostUnreachable | DialFailure::TimedOut => {
            reply::HOST_UNREACHABLE
        }
        DialFailure::Other => reply::GENERAL_FAILURE,
    }
}

/// Reads the greeting, the login when `auth` is set, and the request;
/// answers the first two (and a request it refuses). Returns the target;
/// bytes the client sent after its request stay in `buf`.
pub async fn negotiate(
    reader: &mut StreamReader,
    writer: &mut StreamWriter,
    buf: &mut bytes::BytesMut,
    auth: Option<&Credentials>,
) -> Result<Target, Failure> {
    let methods = read_parsed(reader, buf, MAX_MESSAGE, "greeting", parse_greeting).await?;
    let wanted = if auth.is_some() { PASSWORD } else { NO_AUTH };
    if !methods.contains(&wanted) {
        send(writer, &[VERSION5, NO_ACCEPTABLE]).await?;
        let offered: Vec<String> = methods.iter().map(|m| format!("{m:#04x}")).collect();
        let needed = match auth {
            Some(_) => "--auth needs username/password, method 0x02",
            None => "no login is asked for here: method 0x00",
        };
        return Err(Failure::new(format!(
            "socks5: no acceptable login method (the client offered {}; {needed})",
            offered.join(", ")
        )));
    }
    send(writer, &[VERSION5, wanted]).await?;
    if let Some(auth) = auth {
        let login = read_parsed(reader, buf, MAX_MESSAGE, "login", parse_login).await?;
        let ok = same_secret(&login.user, auth.user.as_bytes())
            & same_secret(&login.pass, auth.pass.as_bytes());
        send(writer, &[LOGIN_VERSION, u8::from(!ok)]).await?;
        if !ok {
            return Err(Failure::new(format!(
                "socks5: login failed for user \"{}\" (wrong user name or password)",
                String::from_utf8_lossy(&login.user).escape_debug()
            )));
        }
    }
    match read_parsed(reader, buf, MAX_MESSAGE, "request", parse_request).await {
        Ok(target) => Ok(target),
        Err(failure) => {
            if let Some(code) = failure.reply {
                let code = u8::try_from(code).unwrap_or(reply::GENERAL_FAILURE);
                send(writer, &reply_bytes(code, None)).await?;
            }
            Err(failure)
        }
    }
}

async fn send(writer: &mut StreamWriter, bytes: &[u8]) -> Result<(), Failure> {
    writer
        .write_all(bytes)
        .await
        .map_err(|e| Failure::new(format!("socks5: {}", crate::error::describe_io(&e))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::proxy::socks::{connect_request, greeting, login, Address};
    use proptest::prelude::*;

    #[test]
    fn the_client_side_messages_parse_back() {
        assert_eq!(
            parse_greeting(&greeting(true)).unwrap(),
            Parsed::Done(vec![NO_AUTH, PASSWORD], 4)
        );
        let auth = Credentials {
            user: "u".into(),
            pass: "pw".into(),
        };
        let Parsed::Done(parsed, 6) = parse_login(&login(&auth)).unwrap() else {
            panic!()
        };
        assert_eq!((parsed.user, parsed.pass), (b"u".to_vec(), b"pw".to_vec()));
        let req = connect_request(&Address::Name("localhost".into()), 8080);
        assert_eq!(
            parse_request(&req).unwrap(),
            Parsed::Done(
                Target {
                    host: TargetHost::Name("localhost".into()),
                    port: 8080
                },
                req.len()
            )
        );
        let req = connect_request(&Address::Ip("::1".parse().unwrap()), 1);
        assert!(matches!(parse_request(&req).unwrap(), Parsed::Done(_, 22)));
        assert_eq!(parse_request(&req[..10]).unwrap(), Parsed::Incomplete);
    }

    #[test]
    fn refusals_name_what_was_wrong() {
        assert!(parse_greeting(b"GET / HTTP/1.1")
            .unwrap_err()
            .words
            .contains("starts with text, \"GET./.HT\""));
        assert!(parse_greeting(&[4, 1])
            .unwrap_err()
            .words
            .contains("SOCKS4"));
        assert!(parse_greeting(&[5, 0])
            .unwrap_err()
            .words
            .contains("no login"));
        let bind = parse_request(&[5, 2, 0, 1, 127, 0, 0, 1, 0, 80]).unwrap_err();
        assert_eq!(bind.reply, Some(reply::COMMAND_NOT_SUPPORTED.into()));
        assert!(bind.words.contains("BIND"));
        let udp = parse_request(&[5, 3, 0, 1]).unwrap_err();
        assert_eq!(udp.reply, Some(reply::COMMAND_NOT_SUPPORTED.into()));
        assert_eq!(
            parse_request(&[5, 1, 0, 9]).unwrap_err().reply,
            Some(reply::ADDRESS_NOT_SUPPORTED.into())
        );
        assert_eq!(
            reply_bytes(reply::REFUSED, None),
            [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]
        );
    }

    proptest! {
        #[test]
        fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for parsed in [
                parse_greeting(&bytes).map(|p| p.consumed()),
                parse_login(&bytes).map(|p| p.consumed()),
                parse_request(&bytes).map(|p| p.consumed()),
            ] {
                match parsed {
                    Ok(used) => prop_assert!(used <= bytes.len()),
                    Err(e) => prop_assert!(!e.words.is_empty() && !e.words.contains('\n')),
                }
            }
        }

        #[test]
        fn requests_round_trip(name in "[a-z][a-z0-9.-]{0,60}", port in any::<u16>()) {
            let req = connect_request(&Address::Name(name.clone()), port);
            let parsed = parse_request(&req).unwrap();
            prop_assert_eq!(parsed, Parsed::Done(Target { host: TargetHost::Name(name), port }, req.len()));
        }
    }
}
