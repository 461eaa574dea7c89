//! The transport security settings: the CA bundle that verifies the
//! collector, the client certificate and key for mTLS, and whether a gRPC
//! endpoint without a scheme is plaintext. Resolution names the files; the
//! exporter reads them when it is built (see `telemetry::tls`), so that a
//! file that cannot be used is reported with the variable that named it.

use std::fmt;
use std::path::{Path, PathBuf};

use super::precedence::{first_valid, quote, Env, Source};
use super::signal::SignalVars;
use super::vars::{
    OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
    OTEL_EXPORTER_OTLP_CLIENT_KEY, OTEL_EXPORTER_OTLP_INSECURE,
    OTEL_EXPORTER_OTLP_INSECURE_DEFAULT,
};
use super::Warning;

/// A PEM file named by a setting, with the setting that named it (for
/// messages: the variable, or `code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFile {
    path: PathBuf,
    from: &'static str,
}

impl TlsFile {
    /// A file set in code.
    pub fn from_code(path: impl Into<PathBuf>) -> TlsFile {
        TlsFile {
            path: path.into(),
            from: "code",
        }
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment variable that named the file, or `code`.
    pub fn from(&self) -> &'static str {
        self.from
    }
}

impl fmt::Display for TlsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.from)
    }
}

/// The resolved transport security settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// CA certificates that verify the collector, instead of the system's
    /// roots.
    pub certificate: Option<TlsFile>,
    /// The client's certificate chain, for mTLS (only with a key).
    pub client_certificate: Option<TlsFile>,
    /// The client's private key, for mTLS (only with a certificate).
    pub client_key: Option<TlsFile>,
}

/// TLS files set in code; `None` leaves a file to the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOverrides {
    /// The CA bundle, over `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`.
    pub certificate: Option<PathBuf>,
    /// The client certificate, over `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE`.
    pub client_certificate: Option<PathBuf>,
    /// The client key, over `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_KEY`.
    pub client_key: Option<PathBuf>,
    /// Plaintext for a scheme-less gRPC endpoint, over
    /// `OTEL_EXPORTER_OTLP_[TRACES_]INSECURE`.
    pub insecure: Option<bool>,
}

fn resolve_file(
    env: Env<'_>,
    code: Option<&PathBuf>,
    signal: &'static str,
    generic: &'static str,
    w: &mut Vec<Warning>,
) -> Option<TlsFile> {
    let parse = |raw: &str| -> Result<Option<PathBuf>, String> { Ok(Some(PathBuf::from(raw))) };
    let (path, source) = first_valid(
        env,
        code.filter(|p| !p.as_os_str().is_empty())
            .cloned()
            .map(Some),
        &[(signal, &parse), (generic, &parse)],
        None,
        |p| {
            p.as_ref()
                .map_or("none".to_owned(), |p| quote(&p.display().to_string()))
        },
        w,
    );
    let from = match source {
        Source::Env(var) => var,
        Source::Code | Source::Default => "code",
    };
    path.map(|path| TlsFile { path, from })
}

pub(super) fn resolve_tls(
    v: &SignalVars,
    env: Env<'_>,
    code: &TlsOverrides,
    w: &mut Vec<Warning>,
) -> TlsSettings {
    let certificate = resolve_file(
        env,
        code.certificate.as_ref(),
        v.certificate,
        OTEL_EXPORTER_OTLP_CERTIFICATE,
        w,
    );
    let mut client_certificate = resolve_file(
        env,
        code.client_certificate.as_ref(),
        v.client_certificate,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
        w,
    );
    let mut client_key = resolve_file(
        env,
        code.client_key.as_ref(),
        v.client_key,
        OTEL_EXPORTER_OTLP_CLIENT_KEY,
        w,
    );
    // mTLS takes both; one alone cannot be used.
    match (&client_certificate, &client_key) {
        (Some(cert), None) => {
            w.push(Warning::new(
                cert.from,
                format!(
                    "a client certificate without a client key ({} or {}) cannot be used; \
                     ignored, connecting without a client certificate",
                    v.client_key, OTEL_EXPORTER_OTLP_CLIENT_KEY
                ),
            ));
            client_certificate = None;
        }
        (None, Some(key)) => {
            w.push(Warning::new(
                key.from,
                format!(
                    "a client key without a client certificate ({} or {}) cannot be used; \
                     ignored, connecting without a client certificate",
                    v.client_certificate, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE
                ),
            ));
            client_key = None;
        }
        _ => {}
    }
    TlsSettings {
        certificate,
        client_certificate,
        client_key,
    }
}

/// Code, else the signal's variable, else the generic one, else `false`;
/// `true` or `false`, any case.
pub(super) fn resolve_insecure(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<bool>,
    w: &mut Vec<Warning>,
) -> (bool, Option<&'static str>) {
    let parse = |raw: &str| match raw.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(format!("{} is neither true nor false", quote(raw))),
    };
    let (insecure, source) = first_valid(
        env,
        code,
        &[(v.insecure, &parse), (OTEL_EXPORTER_OTLP_INSECURE, &parse)],
        OTEL_EXPORTER_OTLP_INSECURE_DEFAULT,
        |b| b.to_string(),
        w,
    );
    let var = match source {
        Source::Env(var) => Some(var),
        _ => None,
    };
    (insecure, var)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::telemetry::config::signal::TRACES;
    use crate::telemetry::config::test_support::*;
    #[allow(unused_imports)]
    use crate::telemetry::config::vars::*;
    use crate::telemetry::config::{
        Overrides, Protocol, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    };

    fn paths(t: &TlsSettings) -> [Option<(String, &'static str)>; 3] {
        [&t.certificate, &t.client_certificate, &t.client_key].map(|f| {
            f.as_ref()
                .map(|f| (f.path().display().to_string(), f.from()))
        })
    }

    #[test]
    fn files_follow_code_signal_generic() {
        let s = |p: &str, v: &'static str| Some((p.to_owned(), v));
        // The signal's variable wins over the generic one, for each file.
        let (config, w) = run(
            &[
                (OTEL_EXPORTER_OTLP_ENDPOINT, "https://collector:4318"),
                (OTEL_EXPORTER_OTLP_CERTIFICATE, "/generic/ca.pem"),
                (OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/traces/ca.pem"),
                (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/generic/cert.pem"),
                (OTEL_EXPORTER_OTLP_CLIENT_KEY, "/generic/key.pem"),
                (OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY, ""),
            ],
            &Overrides::default(),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            paths(&config.tls),
            [
                s("/traces/ca.pem", OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE),
                s("/generic/cert.pem", OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE),
                s("/generic/key.pem", OTEL_EXPORTER_OTLP_CLIENT_KEY),
            ]
        );
        // Code wins over both.
        let overrides = Overrides {
            tls: TlsOverrides {
                certificate: Some("/code/ca.pem".into()),
                ..TlsOverrides::default()
            },
            ..Overrides::default()
        };
        let (config, _) = run(
            &[(OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/traces/ca.pem")],
            &overrides,
        );
        assert_eq!(
            paths(&config.tls)[0],
            Some(("/code/ca.pem".to_owned(), "code"))
        );
        // Nothing set: nothing.
        let (config, _) = run(&[], &Overrides::default());
        assert_eq!(config.tls, TlsSettings::default());
    }

    #[test]
    fn half_of_mtls_is_one_warning_and_dropped() {
        let (config, w) = run(
            &[(OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/c.pem")],
            &Overrides::default(),
        );
        assert_eq!(vars(&w), [OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]);
        assert!(w[0].message().contains("without a client key"), "{}", w[0]);
        assert_eq!(config.tls.client_certificate, None);
        let (config, w) = run(
            &[(OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY, "/k.pem")],
            &Overrides::default(),
        );
        assert_eq!(vars(&w), [OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY]);
        assert_eq!(config.tls.client_key, None);
    }

    #[test]
    fn insecure_decides_the_scheme_of_a_bare_grpc_endpoint() {
        let grpc = Overrides {
            protocol: Some(Protocol::Grpc),
            ..Overrides::default()
        };
        // (env, expected endpoint, warned)
        let cases: &[(Pairs, &str, Warned)] = &[
            (
                &[(OTEL_EXPORTER_OTLP_ENDPOINT, "collector:4317")],
                "https://collector:4317",
                &[],
            ),
            (
                &[
                    (OTEL_EXPORTER_OTLP_ENDPOINT, "collector:4317"),
                    (OTEL_EXPORTER_OTLP_INSECURE, "TRUE"),
                ],
                "http://collector:4317",
                &[],
            ),
            (
                &[
                    (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "collector:4317"),
                    (OTEL_EXPORTER_OTLP_INSECURE, "true"),
                    (OTEL_EXPORTER_OTLP_TRACES_INSECURE, "false"),
                ],
                "https://collector:4317",
                &[],
            ),
            (
                &[
                    (OTEL_EXPORTER_OTLP_ENDPOINT, "collector:4317"),
                    (OTEL_EXPORTER_OTLP_INSECURE, "yes"),
                ],
                "https://collector:4317",
                &[OTEL_EXPORTER_OTLP_INSECURE],
            ),
            // A scheme decides by itself: INSECURE set with one is a warning.
            (
                &[
                    (OTEL_EXPORTER_OTLP_ENDPOINT, "https://collector:4317"),
                    (OTEL_EXPORTER_OTLP_INSECURE, "true"),
                ],
                "https://collector:4317",
                &[OTEL_EXPORTER_OTLP_INSECURE],
            ),
        ];
        for (env, expected, warned) in cases {
            let (config, w) = run(env, &grpc);
            assert_eq!(config.endpoint, *expected, "{env:?}");
            assert_eq!(vars(&w), *warned, "{env:?}: {w:?}");
        }
    }

    #[test]
    fn a_bare_endpoint_over_http_is_still_not_a_url() {
        let (config, w) = run(
            &[(OTEL_EXPORTER_OTLP_ENDPOINT, "collector:4318")],
            &Overrides::default(),
        );
        assert_eq!(config.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(vars(&w), [OTEL_EXPORTER_OTLP_ENDPOINT]);
    }

    #[test]
    fn a_certificate_for_a_plaintext_endpoint_is_a_warning() {
        let (config, w) = run(
            &[
                (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318"),
                (OTEL_EXPORTER_OTLP_CERTIFICATE, "/ca.pem"),
            ],
            &Overrides::default(),
        );
        assert_eq!(vars(&w), [OTEL_EXPORTER_OTLP_CERTIFICATE]);
        assert!(w[0].message().contains("http://"), "{}", w[0]);
        assert!(config.tls.certificate.is_some());
    }
}
