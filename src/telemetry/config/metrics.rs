//! The resolvers of the periodic metric reader: how often metrics are
//! exported, the bound of one export, and the temporality asked of the OTLP
//! exporter.

use std::fmt;
use std::time::Duration;

use super::precedence::{first_valid, parse_millis, quote, show_millis, Env};
use super::vars::{
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, OTEL_METRIC_EXPORT_INTERVAL,
    OTEL_METRIC_EXPORT_INTERVAL_DEFAULT, OTEL_METRIC_EXPORT_TIMEOUT,
    OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT, ZERO_DELAY, ZERO_TIMEOUT,
};
use super::Warning;

/// The aggregation temporality the OTLP metrics exporter reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Temporality {
    /// Every instrument cumulative (`cumulative`, the default).
    Cumulative,
    /// Counters and histograms as deltas, up-down counters cumulative (`delta`).
    Delta,
    /// Synchronous counters and histograms as deltas, the rest cumulative
    /// (`lowmemory`).
    LowMemory,
}

impl Temporality {
    /// The value's spelling in
    /// [`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Temporality::Cumulative => "cumulative",
            Temporality::Delta => "delta",
            Temporality::LowMemory => "lowmemory",
        }
    }

    /// The SDK's value.
    pub fn to_sdk(self) -> opentelemetry_sdk::metrics::Temporality {
        match self {
            Temporality::Cumulative => opentelemetry_sdk::metrics::Temporality::Cumulative,
            Temporality::Delta => opentelemetry_sdk::metrics::Temporality::Delta,
            Temporality::LowMemory => opentelemetry_sdk::metrics::Temporality::LowMemory,
        }
    }
}

impl fmt::Display for Temporality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The periodic reader's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricReaderConfig {
    /// Time between two exports.
    pub interval: Duration,
    /// Time limit of one export; never more than the interval.
    pub timeout: Duration,
    /// Temporality asked of the OTLP exporter.
    pub temporality: Temporality,
}

/// Metric reader settings set in code; `None` leaves a setting to the
/// environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricReaderOverrides {
    /// Time between two exports.
    pub interval: Option<Duration>,
    /// Time limit of one export.
    pub timeout: Option<Duration>,
    /// Temporality asked of the OTLP exporter.
    pub temporality: Option<Temporality>,
}

pub(super) fn resolve_metric_reader(
    env: Env<'_>,
    code: &MetricReaderOverrides,
    w: &mut Vec<Warning>,
) -> MetricReaderConfig {
    let interval = first_valid(
        env,
        code.interval,
        &[(OTEL_METRIC_EXPORT_INTERVAL, &|raw| {
            parse_millis(raw, ZERO_DELAY)
        })],
        OTEL_METRIC_EXPORT_INTERVAL_DEFAULT,
        show_millis,
        w,
    )
    .0;
    let (mut timeout, source) = first_valid(
        env,
        code.timeout,
        &[(OTEL_METRIC_EXPORT_TIMEOUT, &|raw| {
            parse_millis(raw, ZERO_TIMEOUT)
        })],
        OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT,
        show_millis,
        w,
    );
    if timeout > interval {
        // The SDK's reader would start the next export before this one ends.
        if source != super::precedence::Source::Default {
            w.push(Warning::new(
                OTEL_METRIC_EXPORT_TIMEOUT,
                format!(
                    "the export timeout {} ms ({source}) is longer than the export interval {} ms; \
                     using {} ms",
                    timeout.as_millis(),
                    interval.as_millis(),
                    interval.as_millis()
                ),
            ));
        }
        timeout = interval;
    }
    let parse = |raw: &str| {
        let t = raw.trim();
        [
            Temporality::Cumulative,
            Temporality::Delta,
            Temporality::LowMemory,
        ]
        .into_iter()
        .find(|k| t.eq_ignore_ascii_case(k.as_str()))
        .ok_or_else(|| {
            format!(
                "unknown temporality {} (expected cumulative, delta or lowmemory)",
                quote(raw)
            )
        })
    };
    let temporality = first_valid(
        env,
        code.temporality,
        &[(OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, &parse)],
        Temporality::Cumulative,
        |t| t.to_string(),
        w,
    )
    .0;
    MetricReaderConfig {
        interval,
        timeout,
        temporality,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::test_support::*;

    #[test]
    fn reader_table() {
        const I: &str = OTEL_METRIC_EXPORT_INTERVAL;
        const T: &str = OTEL_METRIC_EXPORT_TIMEOUT;
        const P: &str = OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
        use Temporality::*;
        // (env, (interval ms, timeout ms, temporality), warned variables)
        let cases: &[(Pairs, (u64, u64, Temporality), Warned)] = &[
            (&[], (60_000, 30_000, Cumulative), &[]),
            (
                &[(I, "1000"), (T, "500"), (P, "DELTA")],
                (1_000, 500, Delta),
                &[],
            ),
            (&[(P, " lowmemory ")], (60_000, 30_000, LowMemory), &[]),
            (&[(I, "0")], (60_000, 30_000, Cumulative), &[I]),
            (
                &[(I, "soon"), (T, "-5")],
                (60_000, 30_000, Cumulative),
                &[I, T],
            ),
            // The default timeout follows a shorter interval silently.
            (&[(I, "1000")], (1_000, 1_000, Cumulative), &[]),
            (
                &[(I, "1000"), (T, "2000")],
                (1_000, 1_000, Cumulative),
                &[T],
            ),
            (&[(P, "deltas")], (60_000, 30_000, Cumulative), &[P]),
        ];
        for &(pairs, (interval, timeout, temporality), warned) in cases {
            let mut w = Vec::new();
            let got =
                resolve_metric_reader(&env_of(pairs), &MetricReaderOverrides::default(), &mut w);
            assert_eq!(
                got,
                MetricReaderConfig {
                    interval: Duration::from_millis(interval),
                    timeout: Duration::from_millis(timeout),
                    temporality,
                },
                "{pairs:?}"
            );
            assert_eq!(vars(&w), warned, "{pairs:?}: {w:?}");
        }
        // Code wins and says nothing about the environment.
        let mut w = Vec::new();
        let code = MetricReaderOverrides {
            interval: Some(Duration::from_millis(10)),
            timeout: Some(Duration::from_millis(5)),
            temporality: Some(Delta),
        };
        let got = resolve_metric_reader(&env_of(&[(I, "x"), (P, "x")]), &code, &mut w);
        assert_eq!(got.interval, Duration::from_millis(10));
        assert_eq!(got.temporality, Delta);
        assert!(w.is_empty(), "{w:?}");
    }
}
