//! TLS for the nginx suites: a self-signed certificate made with the
//! `openssl` command at test time, and a local tunnel that lets the plain
//! HTTP test client talk https to nginx.
//!
//! The test client ([`lti_testkit::HttpClient`]) speaks HTTP/1.1 without
//! TLS. [`TlsTunnel`] listens on a free loopback port and forwards every
//! connection over TLS to nginx, checking that nginx presents exactly the
//! certificate the test made (pinning: no CA, no system trust store). The
//! client sends `Host: localhost:<nginx port>`, so nginx and the tool see
//! the request a browser would send to `https://localhost:<port>/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest as _, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

/// A self-signed certificate for `localhost` and `127.0.0.1`.
#[derive(Debug, Clone)]
pub struct SelfSignedCert {
    /// The certificate, PEM.
    pub cert_pem: PathBuf,
    /// Its private key, PEM.
    pub key_pem: PathBuf,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// base64(SHA-256(SubjectPublicKeyInfo)): what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes.
    pub spki_sha256: String,
}

fn openssl(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .context("cannot run openssl (install Debian's openssl package)")?;
    if !output.status.success() {
        bail!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output.stdout)
}

impl SelfSignedCert {
    /// Makes a P-256 certificate valid for two days in `dir`.
    pub fn generate(dir: &Path) -> anyhow::Result<Self> {
        let cert_pem = dir.join("cert.pem");
        let key_pem = dir.join("key.pem");
        let der_path = dir.join("cert.der");
        let pub_der = dir.join("pubkey.der");
        let path = |p: &Path| p.display().to_string();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            &path(&key_pem),
            "-out",
            &path(&cert_pem),
        ])?;
        openssl(&[
            "x509",
            "-in",
            &path(&cert_pem),
            "-outform",
            "DER",
            "-out",
            &path(&der_path),
        ])?;
        openssl(&[
            "pkey",
            "-in",
            &path(&key_pem),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            &path(&pub_der),
        ])?;
        let der = std::fs::read(&der_path)?;
        let spki = std::fs::read(&pub_der)?;
        let spki_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&spki));
        Ok(Self {
            cert_pem,
            key_pem,
            der,
            spki_sha256,
        })
    }
}

/// Accepts exactly one certificate (signatures still checked).
#[derive(Debug)]
struct Pinned {
    der: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A plain-TCP listener on a free loopback port whose connections are
/// forwarded over TLS to `target`. Runs on the current tokio runtime until
/// it ends.
#[derive(Debug)]
pub struct TlsTunnel {
    /// Where the test client connects (plain HTTP).
    pub addr: SocketAddr,
}

impl TlsTunnel {
    /// Starts the tunnel to `target`, expecting `cert` and SNI `localhost`.
    pub async fn start(target: SocketAddr, cert: &SelfSignedCert) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Pinned {
            der: cert.der.clone(),
            algorithms: provider.signature_verification_algorithms,
        };
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::<CryptoProvider>::clone(&provider))
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            while let Ok((mut plain, _)) = listener.accept().await {
                let connector = connector.clone();
                tokio::spawn(async move {
                    let Ok(tcp) = TcpStream::connect(target).await else {
                        return;
                    };
                    let name = ServerName::try_from("localhost").expect("a valid DNS name");
                    match connector.connect(name, tcp).await {
                        Ok(mut tls) => {
                            let _ = tokio::io::copy_bidirectional(&mut plain, &mut tls).await;
                        }
                        Err(err) => eprintln!("[tls tunnel] handshake with {target} failed: {err}"),
                    }
                });
            }
        });
        Ok(Self { addr })
    }
}
