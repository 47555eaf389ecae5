//! TLS for `tls://` and `wss://` (rustls with the ring provider): the
//! user's choices ([`TlsOptions`]), the client handshake over an already
//! connected stream ([`client_handshake`]), the server side
//! ([`TlsServer`]: given or generated certificate) and what a finished
//! handshake tells ([`TlsInfo`]).
//!
//! Failed handshakes are described in words by [`describe`] (unknown
//! issuer, name mismatch, expired, no shared protocol…).

mod client;
mod server;
mod trust;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use client::{client_config, client_handshake, server_name};
pub use server::TlsServer;

/// How long a TLS (or WebSocket) handshake may take before the connection
/// is given up, unless `--handshake-timeout` says otherwise.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the user chose for TLS (`--ca`, `--pin`, `--insecure`, `--sni`,
/// `--alpn`, `--cert`, `--key`, `--client-ca`). Used only by the TLS kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Extra trusted roots (PEM files) for verifying the server.
    pub ca: Vec<PathBuf>,
    /// Accept exactly the certificate with this SHA-256 fingerprint (hex,
    /// colons optional) instead of verifying a chain.
    pub pin: Option<String>,
    /// Skip verifying the server's certificate.
    pub insecure: bool,
    /// The server name to send (SNI) and verify, instead of the host.
    pub sni: Option<String>,
    /// ALPN protocols to offer (client) or accept (server), in order.
    pub alpn: Vec<String>,
    /// Our certificate chain (PEM): the server's, or the client's for
    /// mutual TLS.
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of `cert`.
    pub key: Option<PathBuf>,
    /// A server asks for client certificates signed by these roots (PEM)
    /// and refuses clients without one.
    pub client_ca: Option<PathBuf>,
    /// Longest handshake; [`DEFAULT_HANDSHAKE_TIMEOUT`] when `None`.
    pub handshake_timeout: Option<Duration>,
}

impl TlsOptions {
    /// The handshake deadline in force.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout.unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT)
    }
}

/// What a finished TLS handshake established; carried by the `open` event
/// (`"tls":{…}` in `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1.3`.
    pub version: String,
    /// Cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The negotiated ALPN protocol, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The peer certificate's subject (`CN=…`), if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_subject: Option<String>,
    /// The peer certificate's SHA-256 fingerprint (`AB:CD:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_sha256: Option<String>,
}

impl TlsInfo {
    /// Reads the facts of a finished handshake from either side.
    pub(crate) fn of(conn: &rustls::CommonState) -> TlsInfo {
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_string(),
        };
        let cipher = conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "unknown".into());
        let alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let leaf = conn.peer_certificates().and_then(|c| c.first());
        TlsInfo {
            version,
            cipher,
            alpn,
            peer_subject: leaf.and_then(subject_of),
            peer_sha256: leaf.map(|c| fingerprint(c)),
        }
    }

    /// One line for the `-v` status: `TLSv1.3 TLS13_AES_… alpn h2 peer
    /// CN=x sha256 AB:…`.
    pub fn summary(&self) -> String {
        let mut line = format!("{} {}", self.version, self.cipher);
        if let Some(alpn) = &self.alpn {
            line.push_str(&format!(" alpn {alpn}"));
        }
        if let Some(subject) = &self.peer_subject {
            line.push_str(&format!(" peer \"{subject}\""));
        }
        if let Some(sha) = &self.peer_sha256 {
            line.push_str(&format!(" sha256 {sha}"));
        }
        line
    }
}

/// The warning `--insecure` gets on stderr when it applies to a client of
/// `endpoint` (`tls://`, `wss://`, `tls+unix://`, `wss+unix://`).
pub fn insecure_warning(endpoint: &crate::Endpoint, opts: &TlsOptions) -> Option<String> {
    let verifies = endpoint.kind().has_tls();
    (opts.insecure && opts.pin.is_none() && verifies).then(|| {
        format!(
            "warning: --insecure: the TLS certificate of {endpoint} is NOT verified (anyone on the path can read and change this connection; prefer --pin SHA256)"
        )
    })
}

/// The SHA-256 fingerprint of a certificate, as `openssl x509 -fingerprint
/// -sha256` prints it (upper-case hex pairs joined by colons).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(cert.as_ref());
    let pairs: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    pairs.join(":")
}

/// Parses a `--pin`: 64 hex digits, colons and spaces allowed, any case.
pub fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let hex: String = text
        .trim()
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':' && *c != ' ')
        .collect();
    let bad = || {
        format!(
            "invalid --pin \"{text}\" (give the SHA-256 fingerprint as 64 hex digits, colons allowed, as printed on the server's listening line)"
        )
    };
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn subject_of(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = parsed.subject().to_string();
    Some(subject)
}

/// The ring provider every config here is built with.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why a TLS handshake failed, in words a user can act on.
pub fn describe(error: &io::Error) -> String {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(e) => describe_tls(e),
        None => match error.kind() {
            io::ErrorKind::UnexpectedEof => {
                "the peer closed the connection during the handshake (is it speaking TLS?)".into()
            }
            io::ErrorKind::InvalidData => format!(
                "the peer does not speak TLS ({})",
                crate::error::describe_io(error)
            ),
            _ => crate::error::describe_io(error),
        },
    }
}

fn describe_tls(error: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match error {
        E::InvalidCertificate(C::UnknownIssuer) => {
            "unknown issuer: the certificate is not signed by a trusted CA (add --ca FILE, or --pin SHA256 for a self-signed one)".into()
        }
        E::InvalidCertificate(C::NotValidForName)
        | E::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            "name mismatch: the certificate is not valid for this name (connect by the name it has, or set --sni NAME)".into()
        }
        E::InvalidCertificate(C::Expired) | E::InvalidCertificate(C::ExpiredContext { .. }) => {
            "certificate expired".into()
        }
        E::InvalidCertificate(C::NotValidYet)
        | E::InvalidCertificate(C::NotValidYetContext { .. }) => {
            "certificate not valid yet (check the clock)".into()
        }
        E::InvalidCertificate(C::ApplicationVerificationFailure) => {
            "certificate does not match --pin".into()
        }
        E::InvalidCertificate(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "the peer shows a CA certificate as its own (self-signed with CA:TRUE?): give that certificate itself with --ca, or --pin SHA256".into()
        }
        E::InvalidCertificate(other) => format!("bad certificate: {other:?}"),
        E::NoCertificatesPresented => {
            "no client certificate: this server requires one (--client-ca); give --cert and --key".into()
        }
        E::NoApplicationProtocol => "no shared ALPN protocol (check --alpn on both sides)".into(),
        E::PeerIncompatible(why) => {
            format!("no shared protocol version or cipher suite ({why:?})")
        }
        E::AlertReceived(A::HandshakeFailure) | E::AlertReceived(A::ProtocolVersion) => {
            "no shared protocol version or cipher suite (the peer sent handshake_failure)".into()
        }
        E::AlertReceived(A::NoApplicationProtocol) => {
            "no shared ALPN protocol (check --alpn on both sides)".into()
        }
        E::AlertReceived(A::UnknownCA) | E::AlertReceived(A::BadCertificate) => {
            "the peer rejected our certificate (unknown issuer or bad certificate)".into()
        }
        E::AlertReceived(A::CertificateRequired) => {
            "the peer requires a client certificate (give --cert and --key)".into()
        }
        E::AlertReceived(alert) => format!("the peer sent alert {alert:?}"),
        E::InvalidMessage(_) => "the peer does not speak TLS (invalid handshake message)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pins_parse_with_or_without_colons() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_pin(&hex).unwrap(), [0xab; 32]);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_pin(&colons).unwrap(), [0xab; 32]);
        assert!(parse_pin("abc").unwrap_err().contains("64 hex digits"));
        assert!(parse_pin(&"zz".repeat(32)).is_err());
    }

    proptest! {
        #[test]
        fn pin_parser_never_panics(s in "\\PC{0,80}") {
            let _ = parse_pin(&s);
        }

        #[test]
        fn fingerprints_read_back_as_pins(bytes in proptest::collection::vec(any::<u8>(), 1..64)) {
            let cert = CertificateDer::from(bytes);
            let printed = fingerprint(&cert);
            let digest: [u8; 32] = Sha256::digest(cert.as_ref()).into();
            prop_assert_eq!(parse_pin(&printed).unwrap(), digest);
        }
    }
}
