//! The resolvers of how each OTLP export request is made: its headers, its
//! timeout and its compression.

use std::time::Duration;

use super::kv_list::parse_headers;
use super::precedence::{first_valid, parse_millis, quote, show_millis, Env};
use super::signal::SignalVars;
use super::values::{Compression, Headers};
use super::vars::{
    OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT,
    OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT,
    ZERO_TIMEOUT,
};
use super::Warning;

pub(super) fn resolve_headers(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<Headers>,
    w: &mut Vec<Warning>,
) -> Headers {
    // The reason names the member and the rule broken, never the text.
    let parse = |raw: &str| parse_headers(raw).map_err(|e| format!("the value is invalid: {e}"));
    first_valid(
        env,
        code,
        &[(v.headers, &parse), (OTEL_EXPORTER_OTLP_HEADERS, &parse)],
        Headers::default(),
        |h| match h.len() {
            0 => "no headers".to_owned(),
            1 => "1 header".to_owned(),
            n => format!("{n} headers"),
        },
        w,
    )
    .0
}

pub(super) fn resolve_timeout(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<Duration>,
    w: &mut Vec<Warning>,
) -> Duration {
    let parse = |raw: &str| parse_millis(raw, ZERO_TIMEOUT);
    first_valid(
        env,
        code,
        &[(v.timeout, &parse), (OTEL_EXPORTER_OTLP_TIMEOUT, &parse)],
        OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT,
        show_millis,
        w,
    )
    .0
}

pub(super) fn resolve_compression(
    v: &SignalVars,
    env: Env<'_>,
    code: Option<Compression>,
    w: &mut Vec<Warning>,
) -> Compression {
    let parse = |raw: &str| {
        let t = raw.trim();
        [Compression::None, Compression::Gzip]
            .into_iter()
            .find(|c| t.eq_ignore_ascii_case(c.as_str()))
            .ok_or_else(|| format!("unknown compression {} (expected gzip or none)", quote(raw)))
    };
    first_valid(
        env,
        code,
        &[
            (v.compression, &parse),
            (OTEL_EXPORTER_OTLP_COMPRESSION, &parse),
        ],
        OTEL_EXPORTER_OTLP_COMPRESSION_DEFAULT,
        |c| c.to_string(),
        w,
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::signal::TRACES;
    use crate::telemetry::config::test_support::*;
    #[allow(unused_imports)]
    use crate::telemetry::config::vars::*;

    // --- headers --------------------------------------------------------------

    #[test]
    fn headers_table() {
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_HEADERS;
        const GEN: &str = OTEL_EXPORTER_OTLP_HEADERS;
        // (env, code, expected, warned variables)
        let cases: &[(Pairs, Option<Pairs>, Pairs, Warned)] = &[
            (&[], None, &[], &[]),
            (&[(GEN, "a=1,b=2")], None, &[("a", "1"), ("b", "2")], &[]),
            (&[(SIG, "x=9"), (GEN, "a=1")], None, &[("x", "9")], &[]),
            (
                &[(GEN, "Authorization=Bearer%20tok")],
                None,
                &[("Authorization", "Bearer tok")],
                &[],
            ),
            (&[(GEN, " k = v , ,")], None, &[("k", "v")], &[]),
            (&[(GEN, "k=")], None, &[("k", "")], &[]),
            (&[(GEN, "a=1,A=2")], None, &[("A", "2")], &[]),
            (
                &[(SIG, "novalue"), (GEN, "a=1")],
                None,
                &[("a", "1")],
                &[SIG],
            ),
            (&[(GEN, "a b=1")], None, &[], &[GEN]),
            (&[(GEN, "a=%0A")], None, &[], &[GEN]),
            (&[(GEN, "a=%ZZ")], None, &[], &[GEN]),
            (&[(GEN, "=1")], None, &[], &[GEN]),
            (&[(SIG, "a=1,x"), (GEN, "a=%")], None, &[], &[SIG, GEN]),
            (&[(GEN, "a=1")], Some(&[("c", "3")]), &[("c", "3")], &[]),
            (&[(GEN, "broken")], Some(&[]), &[], &[]),
        ];
        for &(pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let code = code.map(|c| c.iter().copied().collect::<Headers>());
            let got = resolve_headers(&TRACES, &env_of(pairs), code, &mut w);
            let want: Headers = want.iter().copied().collect();
            assert_eq!(got.pairs(), want.pairs(), "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn header_warning_names_member_and_fallback() {
        let pairs = [
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "a=1,,x"),
            (OTEL_EXPORTER_OTLP_HEADERS, "k=v"),
        ];
        let mut w = Vec::new();
        resolve_headers(&TRACES, &env_of(&pairs), None, &mut w);
        assert_eq!(
            w[0].to_string(),
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS: the value is invalid: member 3 has no `=`; \
             write key=value pairs separated by commas, with a literal comma encoded as %2C; \
             ignored, using 1 header (from OTEL_EXPORTER_OTLP_HEADERS)"
        );
    }

    // --- timeout and compression ----------------------------------------------

    #[test]
    fn timeout_table() {
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
        const GEN: &str = OTEL_EXPORTER_OTLP_TIMEOUT;
        // (env, code, expected ms, warned variables, word of the first warning)
        let cases: &[(Pairs, Option<u64>, u64, Warned, &str)] = &[
            (&[], None, 10_000, &[], ""),
            (&[(GEN, "2000")], None, 2_000, &[], ""),
            (&[(SIG, "3000"), (GEN, "2000")], None, 3_000, &[], ""),
            (&[(GEN, " 250 ")], None, 250, &[], ""),
            (&[(GEN, "2147483647")], None, 2_147_483_647, &[], ""),
            (
                &[(SIG, "abc"), (GEN, "2000")],
                None,
                2_000,
                &[SIG],
                "\"abc\" is not a whole number of milliseconds; ignored, using 2000 ms (from OTEL_EXPORTER_OTLP_TIMEOUT)",
            ),
            (&[(GEN, "-5")], None, 10_000, &[GEN], "negative"),
            (&[(GEN, "0")], None, 10_000, &[GEN], "zero"),
            (&[(GEN, "1.5")], None, 10_000, &[GEN], "whole number"),
            (&[(GEN, "10s")], None, 10_000, &[GEN], "whole number"),
            (&[(GEN, "2147483648")], None, 10_000, &[GEN], "more than"),
            (&[(SIG, "x"), (GEN, "y")], None, 10_000, &[SIG, GEN], "10000 ms (the default)"),
            (&[(SIG, "2000")], Some(1_000), 1_000, &[], ""),
            (&[(SIG, "x")], Some(1_000), 1_000, &[], ""),
        ];
        for &(pairs, code, want, warned, word) in cases {
            let mut w = Vec::new();
            let got = resolve_timeout(
                &TRACES,
                &env_of(pairs),
                code.map(Duration::from_millis),
                &mut w,
            );
            assert_eq!(got, Duration::from_millis(want), "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
            if let Some(first) = w.first() {
                assert!(first.message().contains(word), "{first}");
            }
        }
    }

    #[test]
    fn compression_table() {
        use Compression as C;
        const SIG: &str = OTEL_EXPORTER_OTLP_TRACES_COMPRESSION;
        const GEN: &str = OTEL_EXPORTER_OTLP_COMPRESSION;
        let cases: &[(Pairs, Option<Compression>, Compression, Warned)] = &[
            (&[], None, C::None, &[]),
            (&[(GEN, "gzip")], None, C::Gzip, &[]),
            (&[(GEN, "GZIP")], None, C::Gzip, &[]),
            (&[(GEN, "none")], None, C::None, &[]),
            (&[(SIG, "none"), (GEN, "gzip")], None, C::None, &[]),
            (&[(SIG, "gzip"), (GEN, "none")], None, C::Gzip, &[]),
            (&[(SIG, "zstd"), (GEN, "gzip")], None, C::Gzip, &[SIG]),
            (&[(GEN, "br")], None, C::None, &[GEN]),
            (&[(GEN, "br")], Some(C::Gzip), C::Gzip, &[]),
            (&[(GEN, "gzip")], Some(C::None), C::None, &[]),
        ];
        for &(pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let got = resolve_compression(&TRACES, &env_of(pairs), code, &mut w);
            assert_eq!(got, want, "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }
}
