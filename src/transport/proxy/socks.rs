//! SOCKS5 (RFC 1928, with RFC 1929 password login) and SOCKS4a messages:
//! requests built as bytes and replies read from bytes, with every reply
//! code said in words. No I/O here, and no panic on any reply.

use std::net::{IpAddr, Ipv4Addr};

use super::{Credentials, Refusal};
use crate::error::NetErrorKind;

/// The SOCKS5 version byte, first in every SOCKS5 message.
pub const VERSION5: u8 = 5;
/// Login method: none.
pub const NO_AUTH: u8 = 0x00;
/// Login method: user name and password (RFC 1929).
pub const PASSWORD: u8 = 0x02;
/// The method reply meaning "none of the offered methods is acceptable".
pub const NO_ACCEPTABLE: u8 = 0xFF;
/// The version byte of an RFC 1929 login request and its reply.
pub const LOGIN_VERSION: u8 = 1;
/// The CONNECT command.
pub const CMD_CONNECT: u8 = 1;
/// Address type: IPv4 (4 bytes).
pub const ATYP_V4: u8 = 1;
/// Address type: a name (a length byte and that many bytes).
pub const ATYP_NAME: u8 = 3;
/// Address type: IPv6 (16 bytes).
pub const ATYP_V6: u8 = 4;

/// SOCKS5 reply codes (RFC 1928 §6), said in words by [`socks5_refusal`].
pub mod reply {
    /// The request succeeded.
    pub const SUCCEEDED: u8 = 0;
    /// General server failure.
    pub const GENERAL_FAILURE: u8 = 1;
    /// Not allowed by the server's rules.
    pub const NOT_ALLOWED: u8 = 2;
    /// Network unreachable.
    pub const NETWORK_UNREACHABLE: u8 = 3;
    /// Host unreachable.
    pub const HOST_UNREACHABLE: u8 = 4;
    /// Connection refused by the target.
    pub const REFUSED: u8 = 5;
    /// Command not supported.
    pub const COMMAND_NOT_SUPPORTED: u8 = 7;
    /// Address type not supported.
    pub const ADDRESS_NOT_SUPPORTED: u8 = 8;
}

/// The login method the proxy chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// No login.
    None,
    /// User name and password (RFC 1929).
    Password,
}

/// The greeting: the methods we offer (password only when we have one).
pub fn greeting(with_password: bool) -> Vec<u8> {
    if with_password {
        vec![VERSION5, 2, NO_AUTH, PASSWORD]
    } else {
        vec![VERSION5, 1, NO_AUTH]
    }
}

/// Reads the proxy's choice of method.
pub fn method_reply(reply: [u8; 2]) -> Result<Method, Refusal> {
    match reply {
        [VERSION5, NO_AUTH] => Ok(Method::None),
        [VERSION5, PASSWORD] => Ok(Method::Password),
        [VERSION5, NO_ACCEPTABLE] => Err(Refusal::new(
            NetErrorKind::PermissionDenied,
            "no acceptable login method (the proxy wants a user name and password: write socks5://USER:PASS@HOST:PORT)",
        )),
        [VERSION5, other] => Err(Refusal::protocol(format!(
            "the proxy chose login method {other:#04x}, which we did not offer"
        ))),
        [version, _] => Err(not_socks5(version)),
    }
}

fn not_socks5(version: u8) -> Refusal {
    Refusal::protocol(format!(
        "not a SOCKS5 reply (version byte {version:#04x}; is this a SOCKS5 proxy?)"
    ))
}

/// The RFC 1929 login request.
pub fn login(auth: &Credentials) -> Vec<u8> {
    let user = &auth.user.as_bytes()[..auth.user.len().min(255)];
    let pass = &auth.pass.as_bytes()[..auth.pass.len().min(255)];
    let mut out = Vec::with_capacity(3 + user.len() + pass.len());
    out.push(LOGIN_VERSION);
    out.push(user.len() as u8);
    out.extend_from_slice(user);
    out.push(pass.len() as u8);
    out.extend_from_slice(pass);
    out
}

/// Reads the login status.
pub fn login_reply(reply: [u8; 2]) -> Result<(), Refusal> {
    match reply {
        [1, 0] => Ok(()),
        [1, status] => Err(Refusal::new(
            NetErrorKind::PermissionDenied,
            format!("login failed: wrong user name or password (status {status})"),
        )),
        [version, _] => Err(Refusal::protocol(format!(
            "not a SOCKS5 login reply (version byte {version:#04x})"
        ))),
    }
}

/// The address asked for in a CONNECT request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// An IP address (resolved here).
    Ip(IpAddr),
    /// A name the proxy resolves (`socks5h://`).
    Name(String),
}

/// The CONNECT request for `address:port`. A name longer than 255 bytes is
/// cut (a valid DNS name is at most 253).
pub fn connect_request(address: &Address, port: u16) -> Vec<u8> {
    let mut out = vec![VERSION5, CMD_CONNECT, 0];
    match address {
        Address::Ip(IpAddr::V4(ip)) => {
            out.push(ATYP_V4);
            out.extend_from_slice(&ip.octets());
        }
        Address::Ip(IpAddr::V6(ip)) => {
            out.push(ATYP_V6);
            out.extend_from_slice(&ip.octets());
        }
        Address::Name(name) => {
            let name = &name.as_bytes()[..name.len().min(255)];
            out.push(ATYP_NAME);
            out.push(name.len() as u8);
            out.extend_from_slice(name);
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    out
}

/// What follows the first four bytes of a CONNECT reply (the bound address
/// and port), to be read and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    /// An IPv4 address and a port: 6 bytes.
    V4,
    /// An IPv6 address and a port: 18 bytes.
    V6,
    /// A length byte, that many bytes of name, and a port.
    Name,
}

impl Rest {
    /// Bytes to read next (for [`Rest::Name`], the length byte comes first
    /// and then its value plus 2).
    pub fn len(self) -> usize {
        match self {
            Rest::V4 => 6,
            Rest::V6 => 18,
            Rest::Name => 0,
        }
    }

    /// True for [`Rest::Name`], whose length is read from the stream.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Reads the first four bytes of a CONNECT reply: success and what follows,
/// or the refusal in words.
pub fn reply_head(head: [u8; 4]) -> Result<Rest, Refusal> {
    let [version, code, _reserved, atyp] = head;
    if version != VERSION5 {
        return Err(not_socks5(version));
    }
    if code != 0 {
        return Err(socks5_refusal(code));
    }
    match atyp {
        ATYP_V4 => Ok(Rest::V4),
        ATYP_V6 => Ok(Rest::V6),
        ATYP_NAME => Ok(Rest::Name),
        other => Err(Refusal::protocol(format!(
            "the proxy's reply has an unknown address type {other}"
        ))),
    }
}

/// A SOCKS5 reply code in words.
pub fn socks5_refusal(code: u8) -> Refusal {
    let (kind, words) = match code {
        1 => (NetErrorKind::Other, "general SOCKS server failure"),
        2 => (
            NetErrorKind::PermissionDenied,
            "connection not allowed by the proxy's rules",
        ),
        3 => (NetErrorKind::Unreachable, "network unreachable"),
        4 => (NetErrorKind::Unreachable, "host unreachable"),
        5 => (
            NetErrorKind::Refused,
            "connection refused by the target (is anything listening there?)",
        ),
        6 => (NetErrorKind::TimedOut, "TTL expired"),
        7 => (NetErrorKind::Protocol, "command not supported"),
        8 => (NetErrorKind::Protocol, "address type not supported"),
        _ => (NetErrorKind::Other, "unknown failure"),
    };
    Refusal::new(kind, format!("{words} (SOCKS5 reply {code})"))
}

/// The SOCKS4a CONNECT request; with `name`, `ip` is 0.0.0.x and the proxy
/// resolves the name.
pub fn socks4_request(ip: Ipv4Addr, name: Option<&str>, port: u16, user: &str) -> Vec<u8> {
    let mut out = vec![4, 1];
    out.extend_from_slice(&port.to_be_bytes());
    out.extend_from_slice(&ip.octets());
    out.extend(user.bytes().filter(|&b| b != 0));
    out.push(0);
    if let Some(name) = name {
        out.extend(name.bytes().filter(|&b| b != 0));
        out.push(0);
    }
    out
}

/// Reads the 8-byte SOCKS4 reply.
pub fn socks4_reply(reply: [u8; 8]) -> Result<(), Refusal> {
    if reply[0] != 0 {
        return Err(Refusal::protocol(format!(
            "not a SOCKS4 reply (first byte {:#04x}; is this a SOCKS4a proxy?)",
            reply[0]
        )));
    }
    let code = reply[1];
    let (kind, words) = match code {
        0x5A => return Ok(()),
        0x5B => (
            NetErrorKind::Refused,
            "request rejected or failed (the target refused, or the proxy does not allow it)",
        ),
        0x5C => (
            NetErrorKind::PermissionDenied,
            "rejected: the proxy cannot reach an identd on this machine",
        ),
        0x5D => (
            NetErrorKind::PermissionDenied,
            "rejected: the user id does not match identd's",
        ),
        _ => (NetErrorKind::Protocol, "unknown reply"),
    };
    Err(Refusal::new(
        kind,
        format!("{words} (SOCKS4 reply {code:#04x})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_are_laid_out_as_the_rfc_says() {
        assert_eq!(greeting(false), [5, 1, 0]);
        assert_eq!(greeting(true), [5, 2, 0, 2]);
        let auth = Credentials {
            user: "u".into(),
            pass: "pw".into(),
        };
        assert_eq!(login(&auth), [1, 1, b'u', 2, b'p', b'w']);
        assert_eq!(
            connect_request(&Address::Name("ab".into()), 80),
            [5, 1, 0, 3, 2, b'a', b'b', 0, 80]
        );
        assert_eq!(
            connect_request(&Address::Ip("1.2.3.4".parse().unwrap()), 258),
            [5, 1, 0, 1, 1, 2, 3, 4, 1, 2]
        );
        assert_eq!(
            socks4_request(Ipv4Addr::new(0, 0, 0, 1), Some("h"), 80, "me"),
            [4, 1, 0, 80, 0, 0, 0, 1, b'm', b'e', 0, b'h', 0]
        );
    }

    #[test]
    fn replies_are_read_and_refusals_said_in_words() {
        assert_eq!(method_reply([5, 0]), Ok(Method::None));
        assert_eq!(method_reply([5, 2]), Ok(Method::Password));
        assert!(method_reply([5, 0xFF])
            .unwrap_err()
            .words
            .contains("USER:PASS@"));
        assert!(method_reply([4, 0])
            .unwrap_err()
            .words
            .contains("not a SOCKS5"));
        assert!(login_reply([1, 1])
            .unwrap_err()
            .words
            .contains("wrong user"));
        assert_eq!(reply_head([5, 0, 0, 1]), Ok(Rest::V4));
        assert_eq!(reply_head([5, 0, 0, 3]), Ok(Rest::Name));
        let refused = reply_head([5, 5, 0, 1]).unwrap_err();
        assert_eq!(refused.kind, NetErrorKind::Refused);
        assert!(refused.words.contains(
            "connection refused by the target (is anything listening there?) (SOCKS5 reply 5)"
        ));
        assert!(socks5_refusal(2).words.contains("not allowed"));
        assert!(socks4_reply([0, 0x5A, 0, 0, 0, 0, 0, 0]).is_ok());
        assert!(socks4_reply([0, 0x5B, 0, 0, 0, 0, 0, 0])
            .unwrap_err()
            .words
            .contains("rejected or failed (the target refused"));
    }

    proptest! {
        #[test]
        fn no_reply_panics_and_refusals_are_one_line(a in any::<[u8; 2]>(), h in any::<[u8; 4]>(), r in any::<[u8; 8]>()) {
            for words in [
                method_reply(a).err().map(|e| e.words),
                login_reply(a).err().map(|e| e.words),
                reply_head(h).err().map(|e| e.words),
                socks4_reply(r).err().map(|e| e.words),
            ].into_iter().flatten() {
                prop_assert!(!words.contains('\n') && !words.is_empty());
            }
        }

        #[test]
        fn requests_carry_what_was_asked(name in "[a-z0-9.-]{1,300}", port in any::<u16>(), user in "\\PC{0,300}", pass in "\\PC{0,300}") {
            let req = connect_request(&Address::Name(name.clone()), port);
            let n = usize::from(req[4]);
            prop_assert_eq!(req.len(), 5 + n + 2);
            prop_assert_eq!(&req[5..5 + n], &name.as_bytes()[..n]);
            prop_assert_eq!(&req[5 + n..], &port.to_be_bytes()[..]);
            let l = login(&Credentials { user, pass });
            let ulen = usize::from(l[1]);
            prop_assert_eq!(l.len(), 3 + ulen + usize::from(l[2 + ulen]));
        }
    }
}
