//! The resolvers of where spans go: the traces exporter and the OTLP
//! protocol.

use super::precedence::{first_valid, quote, read, Env, Raw, Source};
use super::signal::SignalVars;
use super::values::{ExporterKind, Protocol};
use super::vars::{
    OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT, OTEL_TRACES_EXPORTER_DEFAULT,
};
use super::Warning;

pub(super) fn resolve_exporter(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<ExporterKind>,
    w: &mut Vec<Warning>,
) -> ExporterKind {
    if let Some(kind) = code {
        return kind;
    }
    let default = OTEL_TRACES_EXPORTER_DEFAULT;
    let text = match read(env, v.exporter) {
        Raw::Unset => return default,
        Raw::NotUnicode => {
            w.push(Warning::new(
                v.exporter,
                format!("the value is not valid Unicode; ignored, using {default} (the default)"),
            ));
            return default;
        }
        Raw::Text(text) => text,
    };
    let names: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let Some(&first) = names.first() else {
        return default;
    };
    let kind = [
        ExporterKind::Otlp,
        ExporterKind::Console,
        ExporterKind::None,
    ]
    .into_iter()
    .find(|k| first.eq_ignore_ascii_case(k.as_str()));
    match kind {
        None => {
            w.push(Warning::new(
                v.exporter,
                format!(
                    "unknown exporter {} (expected otlp, console or none); \
                     ignored, using {default} (the default)",
                    quote(first)
                ),
            ));
            default
        }
        Some(kind) => {
            if names.len() > 1 {
                w.push(Warning::new(
                    v.exporter,
                    format!(
                        "lists {} exporters but buildtrace configures one; using the first, {kind}",
                        names.len()
                    ),
                ));
            }
            kind
        }
    }
}

/// The protocol asked for and where it came from (whether its transport is
/// compiled in is [`super::transport::settle`]'s business).
pub(super) fn resolve_protocol(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<Protocol>,
    w: &mut Vec<Warning>,
) -> (Protocol, Source) {
    let parse = |raw: &str| {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("grpc") {
            Ok(Protocol::Grpc)
        } else if t.eq_ignore_ascii_case("http/protobuf") {
            Ok(Protocol::HttpProtobuf)
        } else if t.eq_ignore_ascii_case("http/json") {
            Err("http/json is not supported by buildtrace (use http/protobuf or grpc)".to_owned())
        } else {
            Err(format!(
                "unknown protocol {} (expected grpc or http/protobuf)",
                quote(raw)
            ))
        }
    };
    first_valid(
        env,
        code,
        &[(v.protocol, &parse), (OTEL_EXPORTER_OTLP_PROTOCOL, &parse)],
        OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT,
        |p| p.to_string(),
        w,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::signal::TRACES;
    use crate::telemetry::config::test_support::*;
    #[allow(unused_imports)]
    use crate::telemetry::config::vars::*;

    // --- OTEL_TRACES_EXPORTER ------------------------------------------------

    #[test]
    fn exporter_table() {
        use ExporterKind as E;
        // (env value, code, expected, expected warning word)
        let cases: &[(Text, Option<ExporterKind>, ExporterKind, Text)] = &[
            (None, None, E::Otlp, None),
            (Some("otlp"), None, E::Otlp, None),
            (Some("console"), None, E::Console, None),
            (Some("CONSOLE"), None, E::Console, None),
            (Some("none"), None, E::None, None),
            (Some(" console , "), None, E::Console, None),
            (Some(","), None, E::Otlp, None),
            (
                Some("zipkin"),
                None,
                E::Otlp,
                Some("unknown exporter \"zipkin\""),
            ),
            (
                Some("console,otlp"),
                None,
                E::Console,
                Some("using the first, console"),
            ),
            (Some("foo,console"), None, E::Otlp, Some("unknown")),
            (Some("console"), Some(E::None), E::None, None),
            (Some("zipkin"), Some(E::Console), E::Console, None),
        ];
        for &(value, code, want, warning) in cases {
            let pairs: Vec<_> = value
                .map(|v| (OTEL_TRACES_EXPORTER, v))
                .into_iter()
                .collect();
            let mut w = Vec::new();
            let got = resolve_exporter(&TRACES, &env_of(&pairs), code, &mut w);
            assert_eq!(got, want, "value {value:?}, code {code:?}");
            match warning {
                None => assert!(w.is_empty(), "value {value:?}: {w:?}"),
                Some(word) => {
                    assert_eq!(vars(&w), [OTEL_TRACES_EXPORTER], "value {value:?}");
                    assert!(w[0].message().contains(word), "{}", w[0]);
                }
            }
        }
    }

    // --- protocol -------------------------------------------------------------

    #[test]
    fn protocol_table() {
        use Protocol::*;
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;
        const GEN: &str = OTEL_EXPORTER_OTLP_PROTOCOL;
        // (env, code, expected, warned variables, word of the first warning)
        let cases: &[(Pairs, Option<Protocol>, Protocol, Warned, &str)] = &[
            (&[], None, HttpProtobuf, &[], ""),
            (&[(GEN, "grpc")], None, Grpc, &[], ""),
            (&[(GEN, "GRPC")], None, Grpc, &[], ""),
            (
                &[(SIG, "http/protobuf"), (GEN, "grpc")],
                None,
                HttpProtobuf,
                &[],
                "",
            ),
            (
                &[(SIG, "grpc"), (GEN, "http/protobuf")],
                None,
                Grpc,
                &[],
                "",
            ),
            (&[(SIG, " grpc ")], None, Grpc, &[], ""),
            (
                &[(SIG, "http/json"), (GEN, "grpc")],
                None,
                Grpc,
                &[SIG],
                "using grpc (from OTEL_EXPORTER_OTLP_PROTOCOL)",
            ),
            (
                &[(GEN, "http/json")],
                None,
                HttpProtobuf,
                &[GEN],
                "http/json is not supported",
            ),
            (&[(GEN, "udp")], None, HttpProtobuf, &[GEN], "the default"),
            (
                &[(SIG, "x"), (GEN, "y")],
                None,
                HttpProtobuf,
                &[SIG, GEN],
                "unknown",
            ),
            (&[(SIG, "http/protobuf")], Some(Grpc), Grpc, &[], ""),
            (&[(SIG, "nonsense")], Some(Grpc), Grpc, &[], ""),
        ];
        for &(pairs, code, want, warned, word) in cases {
            let mut w = Vec::new();
            let (got, _) = resolve_protocol(&TRACES, &env_of(pairs), code, &mut w);
            assert_eq!(got, want, "env {pairs:?}, code {code:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}");
            if let Some(first) = w.first() {
                assert!(first.message().contains(word), "{first}");
            }
        }
    }
}
