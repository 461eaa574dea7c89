//! The HTTP transport's client: hyper over rustls, which tells the export
//! what each failed request met.
//!
//! opentelemetry-otlp reduces a failed request to a line of text ("HTTP
//! export failed: network error"), losing the TLS error a person needs and
//! the `Retry-After` the specification says to honour. This client sees the
//! response first: it notes the status and `Retry-After` of an answer that
//! is not a success, or the full error chain of a request that got no
//! answer, in a [`LastFailure`] the resilient exporter reads.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_http::HttpError;

use super::export::{Failure, LastFailure};
use super::tls::Loaded;

/// An [`opentelemetry_http::HttpClient`] that notes failures.
#[derive(Debug, Clone)]
pub(super) struct ObservedClient {
    inner: HyperClient<HttpsConnector<HttpConnector>>,
    last: Arc<LastFailure>,
}

impl ObservedClient {
    /// A client for `endpoint`, verifying an `https://` server with `tls`,
    /// each request bounded by `timeout`.
    pub(super) fn new(
        tls: &Loaded,
        endpoint: &str,
        timeout: Duration,
        last: Arc<LastFailure>,
    ) -> Result<ObservedClient, String> {
        let plaintext = endpoint
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.rustls(plaintext)?)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        Ok(ObservedClient {
            inner: HyperClient::new(connector, timeout, None),
            last,
        })
    }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ObservedClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        match self.inner.send_bytes(request).await {
            Ok(response) => {
                if !response.status().is_success() {
                    let retry_after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    self.last.note(Failure::Status {
                        code: response.status().as_u16(),
                        retry_after,
                    });
                }
                Ok(response)
            }
            Err(e) => {
                self.last.note(Failure::Transport(chain(&*e)));
                Err(e)
            }
        }
    }
}

/// An error and its sources, one line: what a person needs to see why a
/// connection failed (the TLS alert, the refused port).
pub(super) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text.replace(['\n', '\r'], " ")
}

/// `Retry-After`: a number of seconds, or an HTTP date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The connector accepts the TLS configuration as `tls` builds it,
    /// with the system's roots or a CA bundle (it panics on settings it
    /// wants to make itself, such as ALPN).
    #[test]
    fn a_client_is_built_from_every_kind_of_tls_setting() {
        use crate::telemetry::config::{TlsFile, TlsSettings};
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(dir.path().join("c.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.path().join("k.pem"), cert.signing_key.serialize_pem()).unwrap();
        let file = |n: &str| Some(TlsFile::from_code(dir.path().join(n)));
        for settings in [
            TlsSettings::default(),
            TlsSettings {
                certificate: file("c.pem"),
                ..TlsSettings::default()
            },
            TlsSettings {
                certificate: file("c.pem"),
                client_certificate: file("c.pem"),
                client_key: file("k.pem"),
            },
        ] {
            let loaded = super::super::tls::load(&settings).unwrap();
            if settings.certificate.is_none()
                && rustls_native_certs::load_native_certs().certs.is_empty()
            {
                continue; // no system roots on this machine: an error, tested elsewhere
            }
            ObservedClient::new(
                &loaded,
                "https://localhost",
                Duration::from_secs(1),
                Arc::default(),
            )
            .unwrap();
        }
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::from_secs(0)));
        // 2015-10-21 07:28:00 GMT, 60 s after `now`.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        // A date in the past: at once.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn the_chain_is_one_line_without_repeats() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let e = E(
            "client error (Connect)",
            Some(Box::new(E(
                "invalid peer certificate:\nUnknownIssuer",
                Some(Box::new(E("UnknownIssuer", None))),
            ))),
        );
        assert_eq!(
            chain(&e),
            "client error (Connect): invalid peer certificate: UnknownIssuer"
        );
    }
}
