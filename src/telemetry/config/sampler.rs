//! The resolver of the sampler: [`OTEL_TRACES_SAMPLER`] and the ratio in
//! [`OTEL_TRACES_SAMPLER_ARG`], which only the ratio samplers take.

use super::precedence::{quote, read, Env, Raw};
use super::values::SamplerConfig;
use super::vars::{
    OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_TRACES_SAMPLER_ARG_DEFAULT,
    OTEL_TRACES_SAMPLER_DEFAULT,
};
use super::Warning;

pub(super) fn resolve_sampler(
    env: Env<'_>,
    code: Option<SamplerConfig>,
    w: &mut Vec<Warning>,
) -> SamplerConfig {
    if let Some(sampler) = code {
        return sampler;
    }
    let default = OTEL_TRACES_SAMPLER_DEFAULT;
    // Ratio samplers carry a placeholder ratio until the argument is read.
    let known = [
        SamplerConfig::AlwaysOn,
        SamplerConfig::AlwaysOff,
        SamplerConfig::TraceIdRatio(OTEL_TRACES_SAMPLER_ARG_DEFAULT),
        SamplerConfig::ParentBasedAlwaysOn,
        SamplerConfig::ParentBasedAlwaysOff,
        SamplerConfig::ParentBasedTraceIdRatio(OTEL_TRACES_SAMPLER_ARG_DEFAULT),
    ];
    let unsupported = ["jaeger_remote", "parentbased_jaeger_remote", "xray"];
    let sampler = match read(env, OTEL_TRACES_SAMPLER) {
        Raw::Unset => default,
        Raw::NotUnicode => {
            w.push(Warning::new(
                OTEL_TRACES_SAMPLER,
                format!("the value is not valid Unicode; ignored, using {default} (the default)"),
            ));
            default
        }
        Raw::Text(raw) => {
            let t = raw.trim();
            match known.into_iter().find(|s| t.eq_ignore_ascii_case(s.name())) {
                Some(sampler) => sampler,
                None => {
                    let why = if unsupported.iter().any(|u| t.eq_ignore_ascii_case(u)) {
                        format!("sampler {} is not supported by buildtrace", quote(&raw))
                    } else {
                        format!(
                            "unknown sampler {} (expected always_on, always_off, \
                             traceidratio, parentbased_always_on, parentbased_always_off \
                             or parentbased_traceidratio)",
                            quote(&raw)
                        )
                    };
                    w.push(Warning::new(
                        OTEL_TRACES_SAMPLER,
                        format!("{why}; ignored, using {default} (the default)"),
                    ));
                    default
                }
            }
        }
    };
    let arg = read(env, OTEL_TRACES_SAMPLER_ARG);
    let ratio = |w: &mut Vec<Warning>| -> f64 {
        let ratio_default = OTEL_TRACES_SAMPLER_ARG_DEFAULT;
        let why = match &arg {
            Raw::Unset => return ratio_default,
            Raw::NotUnicode => "the value is not valid Unicode".to_owned(),
            Raw::Text(raw) => match raw.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => return r,
                Ok(_) => format!("{} is not a ratio from 0 to 1", quote(raw)),
                Err(_) => format!("{} is not a number", quote(raw)),
            },
        };
        w.push(Warning::new(
            OTEL_TRACES_SAMPLER_ARG,
            format!("{why}; ignored, using ratio {ratio_default} (the default)"),
        ));
        ratio_default
    };
    match sampler {
        SamplerConfig::TraceIdRatio(_) => SamplerConfig::TraceIdRatio(ratio(w)),
        SamplerConfig::ParentBasedTraceIdRatio(_) => {
            SamplerConfig::ParentBasedTraceIdRatio(ratio(w))
        }
        other => {
            if !matches!(arg, Raw::Unset) {
                w.push(Warning::new(
                    OTEL_TRACES_SAMPLER_ARG,
                    format!(
                        "is set, but sampler {other} takes no argument (only traceidratio and \
                         parentbased_traceidratio do, chosen with {OTEL_TRACES_SAMPLER}); ignored"
                    ),
                ));
            }
            other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::test_support::*;

    // --- sampler --------------------------------------------------------------

    #[test]
    fn sampler_table() {
        use SamplerConfig::*;
        const S: &str = OTEL_TRACES_SAMPLER;
        const A: &str = OTEL_TRACES_SAMPLER_ARG;
        let cases: &[(Pairs, Option<SamplerConfig>, SamplerConfig, Warned)] = &[
            (&[], None, ParentBasedAlwaysOn, &[]),
            (&[(S, "always_on")], None, AlwaysOn, &[]),
            (&[(S, "ALWAYS_OFF")], None, AlwaysOff, &[]),
            (
                &[(S, "parentbased_always_off")],
                None,
                ParentBasedAlwaysOff,
                &[],
            ),
            (
                &[(S, "parentbased_always_on")],
                None,
                ParentBasedAlwaysOn,
                &[],
            ),
            (
                &[(S, "traceidratio"), (A, "0.25")],
                None,
                TraceIdRatio(0.25),
                &[],
            ),
            (&[(S, "traceidratio")], None, TraceIdRatio(1.0), &[]),
            (
                &[(S, "parentbased_traceidratio"), (A, "0")],
                None,
                ParentBasedTraceIdRatio(0.0),
                &[],
            ),
            (
                &[(S, "parentbased_traceidratio"), (A, " 1 ")],
                None,
                ParentBasedTraceIdRatio(1.0),
                &[],
            ),
            (
                &[(S, "traceidratio"), (A, "1.5")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (
                &[(S, "traceidratio"), (A, "-0.1")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (
                &[(S, "traceidratio"), (A, "NaN")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (
                &[(S, "traceidratio"), (A, "half")],
                None,
                TraceIdRatio(1.0),
                &[A],
            ),
            (&[(S, "jaeger_remote")], None, ParentBasedAlwaysOn, &[S]),
            (&[(S, "sometimes")], None, ParentBasedAlwaysOn, &[S]),
            (&[(S, "always_on"), (A, "0.5")], None, AlwaysOn, &[A]),
            (&[(A, "0.5")], None, ParentBasedAlwaysOn, &[A]),
            (
                &[(S, "always_on"), (A, "x")],
                Some(AlwaysOff),
                AlwaysOff,
                &[],
            ),
            (
                &[(S, "nonsense")],
                Some(TraceIdRatio(0.5)),
                TraceIdRatio(0.5),
                &[],
            ),
        ];
        for &(pairs, code, want, warned) in cases {
            let mut w = Vec::new();
            let got = resolve_sampler(&env_of(pairs), code, &mut w);
            assert_eq!(got, want, "env {pairs:?}");
            assert_eq!(vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn sampler_warnings_say_what_is_used() {
        let mut w = Vec::new();
        resolve_sampler(
            &env_of(&[(OTEL_TRACES_SAMPLER, "jaeger_remote")]),
            None,
            &mut w,
        );
        assert!(
            w[0].message()
                .contains("not supported by buildtrace; ignored, using parentbased_always_on"),
            "{}",
            w[0]
        );
        let mut w = Vec::new();
        resolve_sampler(
            &env_of(&[
                (OTEL_TRACES_SAMPLER, "traceidratio"),
                (OTEL_TRACES_SAMPLER_ARG, "2"),
            ]),
            None,
            &mut w,
        );
        assert!(w[0].message().contains("using ratio 1"), "{}", w[0]);
    }
}
