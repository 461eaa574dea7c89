//! Transport security for the exporters: the files the configuration names,
//! read and checked once, turned into what each transport takes.
//!
//! Both transports use rustls with the `ring` provider (no system OpenSSL).
//! Without a CA file the system's root certificates verify the collector;
//! with one, only its certificates do. A file that cannot be used is a
//! [`TlsError`] naming the setting and the path, never the content.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config::{TlsFile, TlsSettings};

/// The most a PEM file may hold; more is not a certificate bundle.
const MAX_PEM_LEN: u64 = 1 << 20;

/// A TLS file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    from: &'static str,
    path: PathBuf,
    problem: String,
}

impl TlsError {
    /// The setting that named the file: an environment variable, or `code`.
    pub fn setting(&self) -> &'static str {
        self.from
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cannot use {}: {}; fix the file or the setting",
            self.from,
            self.path.display(),
            self.problem
        )
    }
}

impl std::error::Error for TlsError {}

/// The checked contents of the configured files, as PEM text (each
/// transport parses what it needs; every file parsed once here already).
#[derive(Clone, Default)]
pub(super) struct Loaded {
    /// The CA bundle and how many certificates it holds; `None`: the
    /// system's roots.
    ca: Option<(Vec<u8>, usize)>,
    /// The client's certificate chain and key.
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("Loaded")
            .field("ca_certificates", &self.ca.as_ref().map(|(_, n)| *n))
            .field("client_identity", &self.identity.is_some())
            .finish()
    }
}

fn read_pem(file: &TlsFile) -> Result<Vec<u8>, TlsError> {
    let error = |problem: String| TlsError {
        from: file.from(),
        path: file.path().to_path_buf(),
        problem,
    };
    let meta = std::fs::metadata(file.path()).map_err(|e| error(e.to_string()))?;
    if !meta.is_file() {
        // A FIFO or a device could block or never end.
        return Err(error("not a regular file".into()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file.path())
        .and_then(|f| f.take(MAX_PEM_LEN + 1).read_to_end(&mut bytes))
        .map_err(|e| error(e.to_string()))?;
    if bytes.len() as u64 > MAX_PEM_LEN {
        return Err(error(format!("larger than {MAX_PEM_LEN} bytes")));
    }
    Ok(bytes)
}

fn certificates(file: &TlsFile) -> Result<(Vec<u8>, usize), TlsError> {
    let pem = read_pem(file)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError {
            from: file.from(),
            path: file.path().to_path_buf(),
            problem: format!("not a PEM certificate file ({e})"),
        })?;
    if certs.is_empty() {
        return Err(TlsError {
            from: file.from(),
            path: file.path().to_path_buf(),
            problem: "no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)".into(),
        });
    }
    Ok((pem, certs.len()))
}

/// Reads and checks every file `settings` names.
pub(super) fn load(settings: &TlsSettings) -> Result<Loaded, TlsError> {
    let ca = settings
        .certificate
        .as_ref()
        .map(certificates)
        .transpose()?;
    let identity = match (&settings.client_certificate, &settings.client_key) {
        (Some(cert), Some(key_file)) => {
            let (cert_pem, _) = certificates(cert)?;
            let key_pem = read_pem(key_file)?;
            let key_error = |problem: String| TlsError {
                from: key_file.from(),
                path: key_file.path().to_path_buf(),
                problem,
            };
            // The errors name the PEM section or the key type, never its bytes.
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                key_error(format!(
                    "not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"
                ))
            })?;
            rustls::crypto::ring::sign::any_supported_type(&key)
                .map_err(|e| key_error(format!("not a usable private key: {e}")))?;
            Some((cert_pem, key_pem))
        }
        _ => None,
    };
    Ok(Loaded { ca, identity })
}

impl Loaded {
    /// The gRPC transport's TLS settings.
    #[cfg(feature = "otlp-grpc")]
    pub(super) fn tonic(&self) -> tonic::transport::ClientTlsConfig {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let mut tls = ClientTlsConfig::new();
        tls = match &self.ca {
            Some((pem, _)) => tls.ca_certificate(Certificate::from_pem(pem)),
            None => tls.with_native_roots(),
        };
        if let Some((cert, key)) = &self.identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        tls
    }

    /// The HTTP transport's rustls configuration. With `plaintext` (an
    /// `http://` endpoint) no root is loaded: reading the system's store
    /// costs tens of milliseconds that a plaintext export never uses.
    #[cfg(feature = "otlp-http")]
    pub(super) fn rustls(&self, plaintext: bool) -> Result<rustls::ClientConfig, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca {
            Some((pem, _)) => {
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| e.to_string())?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("a CA certificate is unusable: {e}"))?;
                }
            }
            None if plaintext => {}
            None => {
                // Unreadable system certificates are skipped, as every
                // rustls-native-certs user does; none at all is an error.
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err("no system root certificate could be loaded; \
                         set OTEL_EXPORTER_OTLP_CERTIFICATE to a CA bundle"
                        .into());
                }
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        // ALPN is the connector's to set (it offers what it enables).
        let config = match &self.identity {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| e.to_string())?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    format!("the client certificate and key do not make an identity: {e}")
                })?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::TlsSettings;

    fn settings(
        dir: &Path,
        ca: Option<&str>,
        cert: Option<&str>,
        key: Option<&str>,
    ) -> TlsSettings {
        let file = |name: Option<&str>| name.map(|n| TlsFile::from_code(dir.join(n)));
        TlsSettings {
            certificate: file(ca),
            client_certificate: file(cert),
            client_key: file(key),
        }
    }

    #[test]
    fn files_that_cannot_be_used_are_errors_naming_the_file_never_its_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("garbled.pem"),
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("text.pem"), "hello").unwrap();
        std::fs::write(
            dir.path().join("secret-key.pem"),
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("a-dir")).unwrap();
        for (case, ca) in [
            ("missing", "missing.pem"),
            ("garbled", "garbled.pem"),
            ("no PEM", "text.pem"),
            ("a directory", "a-dir"),
        ] {
            let err = load(&settings(dir.path(), Some(ca), None, None)).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("code: cannot use "), "{case}: {text}");
            assert!(text.contains(ca), "{case}: {text}");
            assert_eq!(err.path(), dir.path().join(ca));
        }
        // A key that is not a key: the error never quotes it.
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
        let err = load(&settings(
            dir.path(),
            None,
            Some("cert.pem"),
            Some("secret-key.pem"),
        ))
        .unwrap_err();
        assert!(err.to_string().contains("secret-key.pem"), "{err}");
        assert!(
            err.to_string().contains("not a usable private key"),
            "{err}"
        );
        assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
        assert!(!format!("{err:?}").contains("c2VjcmV0"), "{err:?}");
    }

    #[test]
    fn good_files_load_and_debug_shows_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
        let loaded = load(&settings(
            dir.path(),
            Some("cert.pem"),
            Some("cert.pem"),
            Some("key.pem"),
        ))
        .unwrap();
        let debug = format!("{loaded:?}");
        assert!(debug.contains("ca_certificates: Some(1)"), "{debug}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        #[cfg(feature = "otlp-http")]
        loaded.rustls(false).unwrap();
    }
}
