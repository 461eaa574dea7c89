//! The resolver of the OTLP endpoint: the signal-specific URL used as-is,
//! the generic base URL with the traces path appended over HTTP, or the
//! protocol's default.

use super::precedence::{first_valid, read, Env, Raw, Source};
use super::signal::SignalVars;
use super::url::{append_path, check_url, redact_url};
use super::values::Protocol;
use super::vars::OTEL_EXPORTER_OTLP_ENDPOINT;
use super::Warning;

/// The endpoint, and whether it was given without a scheme (gRPC only:
/// `insecure` then chose `http` or `https`).
pub(super) fn resolve_endpoint(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<&str>,
    protocol: Protocol,
    insecure: bool,
    w: &mut Vec<Warning>,
) -> (String, bool) {
    // A gRPC endpoint may come without a scheme: OTEL_EXPORTER_OTLP_INSECURE
    // says which one it means.
    let with_scheme = |t: &str| -> String {
        if protocol == Protocol::Grpc && !t.contains("://") {
            format!("{}://{t}", if insecure { "http" } else { "https" })
        } else {
            t.to_owned()
        }
    };
    let checked = |raw: &str| -> Result<String, String> {
        let t = with_scheme(raw.trim());
        let t = t.as_str();
        check_url(t).map_err(|reason| {
            format!(
                "the value is not a usable URL: {reason} \
                 (expected http://host:port or https://host:port, with an optional path)"
            )
        })?;
        Ok(t.to_owned())
    };
    let generic = |raw: &str| -> Result<String, String> {
        let url = checked(raw)?;
        Ok(match protocol {
            Protocol::Grpc => url,
            Protocol::HttpProtobuf => append_path(&url, v.http_path),
        })
    };
    let code = code.filter(|e| !e.is_empty());
    let (endpoint, source) = first_valid(
        env,
        code.map(str::to_owned),
        &[
            (v.endpoint, &checked),
            (OTEL_EXPORTER_OTLP_ENDPOINT, &generic),
        ],
        v.default_endpoint(protocol).to_owned(),
        |e| redact_url(e),
        w,
    );
    let path = v.http_path;
    let doubled = format!("{path}{path}");
    if source == Source::Env(OTEL_EXPORTER_OTLP_ENDPOINT) && endpoint.contains(&doubled) {
        w.push(Warning::new(
            OTEL_EXPORTER_OTLP_ENDPOINT,
            format!(
                "the value already ends in {path}, but this variable takes \
                 a base URL and gets {path} appended (set \
                 {} for a full URL); using {}",
                v.endpoint,
                redact_url(&endpoint)
            ),
        ));
    }
    let bare = match source {
        Source::Code => false,
        Source::Env(var) => matches!(read(env, var), Raw::Text(t) if !t.contains("://")),
        Source::Default => false,
    };
    (endpoint, bare)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::signal::TRACES;
    use crate::telemetry::config::test_support::*;
    #[allow(unused_imports)]
    use crate::telemetry::config::vars::*;

    // --- endpoint -------------------------------------------------------------

    #[test]
    fn endpoint_table() {
        use Protocol::*;
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
        const GEN: &str = OTEL_EXPORTER_OTLP_ENDPOINT;
        // (protocol, env, code, expected, warned variables)
        let cases: &[(Protocol, Pairs, Text, &str, Warned)] = &[
            (
                HttpProtobuf,
                &[],
                None,
                "http://localhost:4318/v1/traces",
                &[],
            ),
            (Grpc, &[], None, "http://localhost:4317", &[]),
            (
                HttpProtobuf,
                &[(GEN, "http://c:4318")],
                None,
                "http://c:4318/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://c:4318/")],
                None,
                "http://c:4318/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "https://c/base/")],
                None,
                "https://c/base/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "https://c/base?x=1")],
                None,
                "https://c/base/v1/traces?x=1",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, " http://c:4318 ")],
                None,
                "http://c:4318/v1/traces",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://[::1]:4318")],
                None,
                "http://[::1]:4318/v1/traces",
                &[],
            ),
            (Grpc, &[(GEN, "http://c:4317")], None, "http://c:4317", &[]),
            (
                Grpc,
                &[(GEN, "https://c:4317/")],
                None,
                "https://c:4317/",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://c:4318/custom")],
                None,
                "http://c:4318/custom",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://c:4318")],
                None,
                "http://c:4318",
                &[],
            ),
            (Grpc, &[(SIG, "http://s:4317")], None, "http://s:4317", &[]),
            (
                HttpProtobuf,
                &[(SIG, "http://s/t"), (GEN, "http://g")],
                None,
                "http://s/t",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "s:4318"), (GEN, "http://g:4318")],
                None,
                "http://g:4318/v1/traces",
                &[SIG],
            ),
            (
                HttpProtobuf,
                &[(SIG, "ftp://s"), (GEN, "http://")],
                None,
                "http://localhost:4318/v1/traces",
                &[SIG, GEN],
            ),
            (
                HttpProtobuf,
                &[(GEN, "ftp://c")],
                None,
                "http://localhost:4318/v1/traces",
                &[GEN],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://c:99999")],
                None,
                "http://localhost:4318/v1/traces",
                &[GEN],
            ),
            // Without a scheme, gRPC means TLS unless INSECURE says otherwise
            // (the specification's reading; see the tls room's tests).
            (
                Grpc,
                &[(GEN, "localhost:4317")],
                None,
                "https://localhost:4317",
                &[],
            ),
            (
                HttpProtobuf,
                &[(GEN, "localhost:4318")],
                None,
                "http://localhost:4318/v1/traces",
                &[GEN],
            ),
            (
                HttpProtobuf,
                &[(GEN, "http://c:4318/v1/traces")],
                None,
                "http://c:4318/v1/traces/v1/traces",
                &[GEN],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://s"), (GEN, "http://g")],
                Some("http://code:1"),
                "http://code:1",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "not a url")],
                Some("code-as-given"),
                "code-as-given",
                &[],
            ),
            (
                HttpProtobuf,
                &[(SIG, "http://s")],
                Some(""),
                "http://s",
                &[],
            ),
        ];
        for &(protocol, pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let (got, _) = resolve_endpoint(&TRACES, &env_of(pairs), code, protocol, false, &mut w);
            assert_eq!(got, want, "{protocol}, env {pairs:?}, code {code:?}");
            assert_eq!(vars(&w), warned, "{protocol}, env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn endpoint_warning_says_what_is_used_without_credentials() {
        let pairs = [
            (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "collector:4318"),
            (
                OTEL_EXPORTER_OTLP_ENDPOINT,
                "https://user:pw@g:4318?token=t",
            ),
        ];
        let mut w = Vec::new();
        let (got, _) = resolve_endpoint(
            &TRACES,
            &env_of(&pairs),
            None,
            Protocol::HttpProtobuf,
            false,
            &mut w,
        );
        assert_eq!(got, "https://user:pw@g:4318/v1/traces?token=t");
        let line = w[0].to_string();
        assert!(
            line.contains(
                "using https://<redacted>@g:4318/v1/traces?<redacted> (from OTEL_EXPORTER_OTLP_ENDPOINT)"
            ),
            "{line}"
        );
        assert!(!line.contains("pw") && !line.contains("token=t"), "{line}");
        assert!(
            !line.contains("collector"),
            "the rejected value is not echoed: {line}"
        );
    }
}
