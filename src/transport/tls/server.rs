//! The TLS server: `--cert/--key`, or a self-signed certificate made at
//! start (its fingerprint goes on the `listening on` line so a client can
//! `--pin` it), and `--client-ca` for mutual TLS.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;

use super::client::{load_certs, load_key, load_own_certs};
use super::{describe, fingerprint, provider, TlsOptions};
use crate::endpoint::Host;
use crate::error::{NetError, NetErrorKind};

/// A ready TLS server side: the acceptor and what to say about its
/// certificate.
#[derive(Clone)]
pub struct TlsServer {
    acceptor: tokio_rustls::TlsAcceptor,
    timeout: std::time::Duration,
    /// For the `listening on` line: which certificate, and its SHA-256.
    pub note: String,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("note", &self.note)
            .finish()
    }
}

impl TlsServer {
    /// Loads `--cert/--key` or generates a self-signed certificate for
    /// `host` (and localhost, 127.0.0.1, ::1).
    pub fn new(opts: &TlsOptions, host: &Host) -> Result<TlsServer, NetError> {
        let fail = |m: String| NetError::new(NetErrorKind::Other, m);
        let (certs, key, generated) = match (&opts.cert, &opts.key) {
            (Some(cert), Some(key)) => (load_own_certs(cert)?, load_key(key)?, false),
            (None, None) => {
                let (cert, key) = self_signed(host).map_err(fail)?;
                (vec![cert], key, true)
            }
            _ => {
                return Err(fail(
                    "--cert and --key go together (give both, or neither for a generated self-signed certificate)".into(),
                ))
            }
        };
        let sha = fingerprint(&certs[0]);
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(format!("TLS setup failed: {e}")))?;
        let builder = match &opts.client_ca {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for cert in load_certs(path)? {
                    roots.add(cert).map_err(|e| {
                        fail(format!(
                            "--client-ca {}: not a CA certificate: {e}",
                            path.display()
                        ))
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .map_err(|e| fail(format!("--client-ca {}: {e}", path.display())))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| fail(format!("--cert/--key do not fit together: {e}")))?;
        config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        // No session tickets: nothing here resumes sessions, and a client
        // that only sends (`ncat --send-only`) would leave them unread and
        // its close would reset the connection before our reads are done.
        config.send_tls13_tickets = 0;
        let what = if generated {
            "self-signed certificate"
        } else {
            "certificate"
        };
        let mut note = format!("(tls {what} sha256 {sha}");
        if opts.client_ca.is_some() {
            note.push_str(", client certificates required");
        }
        note.push(')');
        Ok(TlsServer {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            timeout: opts.handshake_timeout(),
            note,
        })
    }

    /// Runs the server handshake over an accepted stream within the
    /// handshake timeout; the error names why it failed.
    pub async fn accept<S>(&self, stream: S) -> Result<TlsStream<S>, String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match tokio::time::timeout(self.timeout, self.acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Ok(tls),
            Ok(Err(e)) => Err(describe(&e)),
            Err(_) => Err(format!(
                "timed out after {}",
                humantime::format_duration(self.timeout)
            )),
        }
    }
}

fn self_signed(host: &Host) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    let own = match host {
        Host::Ip(ip) if !ip.is_unspecified() => Some(ip.to_string()),
        Host::Name(name) => Some(name.clone()),
        Host::Ip(_) => None,
        Host::Scoped { ip, .. } => Some(ip.to_string()),
    };
    if let Some(own) = own.filter(|o| !names.contains(o)) {
        names.push(own);
    }
    let failed = |e: rcgen::Error| format!("cannot generate a self-signed certificate: {e}");
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sockmate self-signed");
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key))
}
