//! Chain verification for `--ca`, plus what `curl --cacert`, `openssl
//! s_client -CAfile` and socat also accept: a server whose certificate is
//! exactly (byte for byte) one of the `--ca` certificates. The usual
//! self-signed certificate (`openssl req -x509 …`) carries `CA:TRUE`, which
//! the WebPKI rules refuse as an end entity; given with `--ca` it is
//! trusted as itself, with its name and validity period still checked.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// A [`WebPkiServerVerifier`] that also accepts a leaf equal to one of
/// the `--ca` certificates (its name and dates still checked).
#[derive(Debug)]
pub(super) struct CaOrExact {
    webpki: Arc<WebPkiServerVerifier>,
    exact: Vec<CertificateDer<'static>>,
}

impl CaOrExact {
    /// Verifies chains against `roots`; a leaf equal to one of `exact`
    /// (the `--ca` certificates) is trusted as itself.
    pub(super) fn new(
        roots: RootCertStore,
        exact: Vec<CertificateDer<'static>>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<CaOrExact, String> {
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("TLS setup failed: {e}"))?;
        Ok(CaOrExact { webpki, exact })
    }
}

impl ServerCertVerifier for CaOrExact {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self.exact.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            let parsed = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            check_dates(end_entity, now)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The certificate's validity period contains `now`.
fn check_dates(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), Error> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = parsed.validity();
    if now < validity.not_before.timestamp() {
        return Err(Error::InvalidCertificate(CertificateError::NotValidYet));
    }
    if now > validity.not_after.timestamp() {
        return Err(Error::InvalidCertificate(CertificateError::Expired));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_bad_encoding_not_a_panic() {
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x01, 0x02]);
        let err = check_dates(&junk, UnixTime::now()).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCertificate(CertificateError::BadEncoding)
        ));
    }
}
