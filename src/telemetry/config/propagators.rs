//! The text-map propagators `init` installs, from [`OTEL_PROPAGATORS`].

use std::fmt;

use super::precedence::{quote, read, Env, Raw};
use super::vars::{OTEL_PROPAGATORS, OTEL_PROPAGATORS_DEFAULT};
use super::Warning;

/// A text-map propagator: how trace context and baggage cross a process
/// boundary in request headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Propagator {
    /// W3C Trace Context (`traceparent`, `tracestate`): `tracecontext`.
    TraceContext,
    /// W3C Baggage (`baggage`): `baggage`.
    Baggage,
    /// Zipkin's B3, one `b3` header: `b3`.
    B3,
    /// Zipkin's B3, the `X-B3-*` headers: `b3multi`.
    B3Multi,
}

impl Propagator {
    /// The value's spelling in [`OTEL_PROPAGATORS`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
            Propagator::B3 => "b3",
            Propagator::B3Multi => "b3multi",
        }
    }

    fn parse(name: &str) -> Option<Propagator> {
        [
            Propagator::TraceContext,
            Propagator::Baggage,
            Propagator::B3,
            Propagator::B3Multi,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Propagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names the specification defines that no maintained crate implements for
/// the OpenTelemetry version buildtrace is built with.
const UNAVAILABLE: &[&str] = &["jaeger", "xray", "ottrace"];

fn list(propagators: &[Propagator]) -> String {
    match propagators {
        [] => "none".to_owned(),
        _ => propagators
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Code, else [`OTEL_PROPAGATORS`], else `tracecontext,baggage`. Entries are
/// comma-separated and matched case-insensitively; duplicates count once.
/// An entry that cannot be used is one warning, and the rest still apply;
/// `none` alone installs no propagator.
pub(super) fn resolve_propagators(
    env: Env<'_>,
    code: Option<&[Propagator]>,
    w: &mut Vec<Warning>,
) -> Vec<Propagator> {
    if let Some(code) = code {
        let mut chosen = Vec::new();
        for p in code {
            if !chosen.contains(p) {
                chosen.push(*p);
            }
        }
        return chosen;
    }
    let raw = match read(env, OTEL_PROPAGATORS) {
        Raw::Unset => return OTEL_PROPAGATORS_DEFAULT.to_vec(),
        Raw::NotUnicode => {
            w.push(Warning::new(
                OTEL_PROPAGATORS,
                format!(
                    "the value is not valid Unicode; ignored, using {}",
                    list(OTEL_PROPAGATORS_DEFAULT)
                ),
            ));
            return OTEL_PROPAGATORS_DEFAULT.to_vec();
        }
        Raw::Text(raw) => raw,
    };
    let entries: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut chosen = Vec::new();
    let mut refused = Vec::new();
    let mut none = false;
    for entry in &entries {
        match Propagator::parse(entry) {
            Some(p) if !chosen.contains(&p) => chosen.push(p),
            Some(_) => {}
            None if entry.eq_ignore_ascii_case("none") => none = true,
            None => refused.push(*entry),
        }
    }
    if none {
        if entries.len() > 1 {
            w.push(Warning::new(
                OTEL_PROPAGATORS,
                format!(
                    "`none` is listed with other propagators in {}; `none` wins, no propagator is installed",
                    quote(&raw)
                ),
            ));
        }
        return Vec::new();
    }
    if entries.is_empty() {
        return OTEL_PROPAGATORS_DEFAULT.to_vec();
    }
    for entry in refused {
        let why = if UNAVAILABLE.iter().any(|u| u.eq_ignore_ascii_case(entry)) {
            format!(
                "the {} propagator is not available in buildtrace (no maintained crate implements it for this OpenTelemetry version)",
                quote(entry)
            )
        } else {
            format!(
                "{} is not a propagator (expected tracecontext, baggage, b3, b3multi or none)",
                quote(entry)
            )
        };
        w.push(Warning::new(
            OTEL_PROPAGATORS,
            format!("{why}; skipped, using {}", list(&chosen)),
        ));
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::test_support::*;
    use Propagator::*;

    fn run_propagators(value: Option<&str>) -> (Vec<Propagator>, Vec<Warning>) {
        let pairs: Vec<(&str, &str)> = value.map(|v| (OTEL_PROPAGATORS, v)).into_iter().collect();
        let mut w = Vec::new();
        let got = resolve_propagators(&env_of(&pairs), None, &mut w);
        (got, w)
    }

    #[test]
    fn propagators_table() {
        // (value, expected, warnings)
        let cases: &[(Option<&str>, &[Propagator], usize)] = &[
            (None, &[TraceContext, Baggage], 0),
            (Some(""), &[TraceContext, Baggage], 0),
            (Some(" , "), &[TraceContext, Baggage], 0),
            (Some("tracecontext"), &[TraceContext], 0),
            (Some("baggage"), &[Baggage], 0),
            (Some("b3"), &[B3], 0),
            (Some("b3multi"), &[B3Multi], 0),
            (Some("B3, TraceContext"), &[B3, TraceContext], 0),
            (Some("tracecontext,tracecontext"), &[TraceContext], 0),
            (Some("none"), &[], 0),
            (Some("NONE"), &[], 0),
            (Some("none,b3"), &[], 1),
            (
                Some("tracecontext,bogus,baggage"),
                &[TraceContext, Baggage],
                1,
            ),
            (Some("jaeger,baggage"), &[Baggage], 1),
            (Some("xray"), &[], 1),
        ];
        for (value, expected, warned) in cases {
            let (got, w) = run_propagators(*value);
            assert_eq!(&got, expected, "{value:?}");
            assert_eq!(w.len(), *warned, "{value:?}: {w:?}");
            assert!(w.iter().all(|w| w.variable() == OTEL_PROPAGATORS));
        }
    }

    #[test]
    fn warnings_say_what_is_skipped_and_what_is_used() {
        let (_, w) = run_propagators(Some("tracecontext,jaeger"));
        let text = w[0].to_string();
        assert!(text.contains("\"jaeger\""), "{text}");
        assert!(text.contains("not available"), "{text}");
        assert!(text.ends_with("using tracecontext"), "{text}");
        let (_, w) = run_propagators(Some("trace-context"));
        assert!(w[0].to_string().ends_with("using none"), "{}", w[0]);
    }

    #[test]
    fn code_wins_and_keeps_its_order() {
        let env = env_of(&[(OTEL_PROPAGATORS, "b3")]);
        let mut w = Vec::new();
        let got = resolve_propagators(&env, Some(&[Baggage, TraceContext, Baggage]), &mut w);
        assert_eq!(got, [Baggage, TraceContext]);
        assert!(w.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_unicode_falls_back_to_the_default() {
        let env = env_os(vec![(OTEL_PROPAGATORS, not_unicode("b3"))]);
        let mut w = Vec::new();
        let got = resolve_propagators(&env, None, &mut w);
        assert_eq!(got, [TraceContext, Baggage]);
        assert_eq!(vars(&w), [OTEL_PROPAGATORS]);
    }
}
