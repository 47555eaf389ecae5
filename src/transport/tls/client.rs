//! The TLS client: a rustls config from [`TlsOptions`] (system roots plus
//! `--ca`, or `--pin`, or `--insecure`; `--alpn`; a client certificate)
//! and the handshake over a stream that is already connected, so a proxy
//! tunnel or any other byte stream can carry it.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;

use super::trust::CaOrExact;
use super::{describe, parse_pin, provider, TlsOptions};
use crate::endpoint::Host;
use crate::error::{NetError, NetErrorKind};

/// Builds the client config `opts` ask for. `--pin` and `--insecure`
/// replace chain verification; otherwise the system's roots and `--ca`
/// are trusted.
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, NetError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS setup failed: {e}")))?;
    let builder = if let Some(pin) = &opts.pin {
        let want = parse_pin(pin).map_err(config_error)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Relaxed {
                pin: Some(want),
                provider,
            }))
    } else if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Relaxed {
                pin: None,
                provider,
            }))
    } else if opts.ca.is_empty() {
        builder.with_root_certificates(roots(opts)?.0)
    } else {
        let (roots, given) = roots(opts)?;
        let verifier = CaOrExact::new(roots, given, provider).map_err(config_error)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    };
    let mut config = match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(load_own_certs(cert)?, load_key(key)?)
            .map_err(|e| config_error(format!("--cert/--key do not fit together: {e}")))?,
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(config_error(
                "--cert and --key go together (give both for a client certificate)",
            ))
        }
    };
    config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(Arc::new(config))
}

/// The name the client sends (SNI) and verifies: `--sni`, else the host.
pub fn server_name(host: &Host, opts: &TlsOptions) -> Result<ServerName<'static>, NetError> {
    if let Some(name) = &opts.sni {
        return ServerName::try_from(name.clone())
            .map_err(|_| config_error(format!("invalid --sni \"{name}\" (give a DNS name)")));
    }
    match host {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Scoped { ip, .. } => Ok(ServerName::IpAddress(std::net::IpAddr::V6(*ip).into())),
        Host::Name(name) => ServerName::try_from(name.clone())
            .map_err(|_| config_error(format!("\"{name}\" is not a valid TLS server name"))),
    }
}

/// Runs the client handshake over `stream` (already connected: TCP, a
/// proxy tunnel, a Unix socket…) for the server name `host` (or
/// `--sni`), within `opts`' handshake timeout. The error names why it
/// failed and the `peer` it failed with.
pub async fn client_handshake<S>(
    stream: S,
    host: &Host,
    peer: &(dyn std::fmt::Display + Sync),
    opts: &TlsOptions,
) -> Result<TlsStream<S>, NetError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = client_config(opts)?;
    let name = server_name(host, opts)?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let after = opts.handshake_timeout();
    match tokio::time::timeout(after, connector.connect(name, stream)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => Err(NetError::new(
            NetErrorKind::Other,
            format!("TLS handshake with {peer} failed: {}", describe(&e)),
        )),
        Err(_) => Err(NetError::new(
            NetErrorKind::TimedOut,
            format!(
                "TLS handshake with {peer} timed out after {}",
                humantime::format_duration(after)
            ),
        )),
    }
}

fn config_error(message: impl Into<String>) -> NetError {
    NetError::new(NetErrorKind::Other, message)
}

/// The system's roots plus `--ca`'s, and the `--ca` certificates as
/// given (a server showing one of them exactly is trusted as itself).
fn roots(opts: &TlsOptions) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), NetError> {
    let mut roots = RootCertStore::empty();
    let mut given = Vec::new();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    for file in &opts.ca {
        for cert in load_certs(file)? {
            roots.add(cert.clone()).map_err(|e| {
                config_error(format!(
                    "--ca {}: not a CA certificate: {e}",
                    file.display()
                ))
            })?;
            given.push(cert);
        }
    }
    Ok((roots, given))
}

/// Reads every certificate of a PEM file; an empty or unreadable file is
/// an error naming it.
pub(super) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| {
            config_error(format!(
                "cannot read certificates from {}: {e}",
                path.display()
            ))
        })?
        .collect();
    let certs = certs.map_err(|e| {
        config_error(format!(
            "cannot read certificates from {}: {e}",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(config_error(format!(
            "no PEM certificate in {} (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

/// Reads our own certificate chain (`--cert`) and refuses, naming the
/// reason, a leaf certificate rustls cannot use: X.509 versions 1 and 2
/// (what `openssl x509 -req` makes without extensions), where rustls would
/// only say the certificate and key "do not fit". (The rest of the chain
/// is left to the peer: an old root appended to it is never checked.)
pub(super) fn load_own_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let certs = load_certs(path)?;
    if let Some(version) = certs.first().and_then(old_x509_version) {
        return Err(config_error(format!(
            "--cert {}: the certificate is X.509 version {version}; rustls needs version 3 (remake it with extensions: openssl x509 -req … -extfile FILE with e.g. basicConstraints=CA:FALSE, or openssl req -x509 … -addext subjectAltName=DNS:NAME)",
            path.display()
        )));
    }
    Ok(certs)
}

/// The X.509 version (1 or 2) of a certificate older than version 3;
/// `None` for version 3 or what does not parse (rustls names that).
fn old_x509_version(cert: &CertificateDer<'_>) -> Option<u32> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let version = parsed.version().0;
    (version < 2).then_some(version + 1)
}

/// Reads a private key (PKCS#8, PKCS#1 or SEC1) from a PEM file.
pub(super) fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, NetError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        config_error(format!(
            "cannot read a private key from {}: {e} (expected -----BEGIN PRIVATE KEY-----)",
            path.display()
        ))
    })
}

/// A verifier for `--pin` (exactly one certificate, by fingerprint) and
/// `--insecure` (any). Signatures are still checked, so the peer must hold
/// the key of the certificate it shows.
#[derive(Debug)]
struct Relaxed {
    pin: Option<[u8; 32]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.pin {
            Some(want) => {
                let got: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
                if got == want {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::ApplicationVerificationFailure,
                    ))
                }
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
