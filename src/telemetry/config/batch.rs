//! The resolvers of a batch processor's settings (`OTEL_BSP_*` for spans,
//! `OTEL_BLRP_*` for log records), and the rule that keeps the batch size
//! within the queue size.

use std::time::Duration;

use super::precedence::{first_valid, parse_millis, parse_positive, show_millis, Env, Source};
use super::signal::BatchVars;
use super::values::BatchConfig;
use super::vars::{ENV_INT_MAX, QUEUE_LIMIT, ZERO_BATCH, ZERO_DELAY, ZERO_QUEUE, ZERO_TIMEOUT};
use super::{BatchOverrides, Warning};

fn resolve_millis(
    (var, default): (&'static str, Duration),
    zero: &'static str,
    env: Env<'_>,
    code: Option<Duration>,
    w: &mut Vec<Warning>,
) -> Duration {
    first_valid(
        env,
        code,
        &[(var, &|raw| parse_millis(raw, zero))],
        default,
        show_millis,
        w,
    )
    .0
}

fn resolve_count(
    (var, default): (&'static str, usize),
    (items, limit, zero): (&'static str, u64, &'static str),
    env: Env<'_>,
    code: Option<usize>,
    w: &mut Vec<Warning>,
) -> (usize, Source) {
    first_valid(
        env,
        code,
        &[(var, &|raw| {
            parse_positive(raw, items, limit, zero).map(|n| n as usize)
        })],
        default,
        |n| format!("{n} {items}"),
        w,
    )
}

pub(super) fn resolve_batch(
    v: &BatchVars,
    env: Env<'_>,
    code: &BatchOverrides,
    w: &mut Vec<Warning>,
) -> BatchConfig {
    let schedule_delay = resolve_millis(v.schedule_delay, ZERO_DELAY, env, code.schedule_delay, w);
    let export_timeout =
        resolve_millis(v.export_timeout, ZERO_TIMEOUT, env, code.export_timeout, w);
    let (max_queue_size, queue_source) = resolve_count(
        v.max_queue_size,
        (v.items, QUEUE_LIMIT, ZERO_QUEUE),
        env,
        code.max_queue_size,
        w,
    );
    let (mut max_export_batch_size, batch_source) = resolve_count(
        v.max_export_batch_size,
        (v.items, ENV_INT_MAX, ZERO_BATCH),
        env,
        code.max_export_batch_size,
        w,
    );
    if max_export_batch_size > max_queue_size {
        // The default batch size silently follows a smaller queue, as in the
        // SDK; only a batch size someone chose deserves a warning.
        if batch_source != Source::Default {
            w.push(Warning::new(
                v.max_export_batch_size.0,
                format!(
                    "the batch size {max_export_batch_size} ({batch_source}) is larger than \
                     the queue size {max_queue_size} ({queue_source}); using {max_queue_size}"
                ),
            ));
        }
        max_export_batch_size = max_queue_size;
    }
    BatchConfig {
        schedule_delay,
        export_timeout,
        max_queue_size,
        max_export_batch_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::signal::BSP;
    use crate::telemetry::config::test_support::*;
    use crate::telemetry::config::vars::*;

    // --- batch span processor -------------------------------------------------

    #[test]
    fn batch_table() {
        const D: &str = OTEL_BSP_SCHEDULE_DELAY;
        const T: &str = OTEL_BSP_EXPORT_TIMEOUT;
        const Q: &str = OTEL_BSP_MAX_QUEUE_SIZE;
        const B: &str = OTEL_BSP_MAX_EXPORT_BATCH_SIZE;
        let none = BatchOverrides::default();
        // (env, code, (delay ms, timeout ms, queue, batch), warned variables)
        // (delay ms, timeout ms, queue size, batch size)
        type Want = (u64, u64, usize, usize);
        let cases: &[(Pairs, BatchOverrides, Want, Warned)] = &[
            (&[], none.clone(), (5_000, 30_000, 2_048, 512), &[]),
            (
                &[(D, "100"), (T, "200"), (Q, "300"), (B, "40")],
                none.clone(),
                (100, 200, 300, 40),
                &[],
            ),
            (&[(D, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[D]),
            (&[(T, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[T]),
            (&[(Q, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[Q]),
            (&[(B, "0")], none.clone(), (5_000, 30_000, 2_048, 512), &[B]),
            (
                &[(D, "-1"), (T, "x")],
                none.clone(),
                (5_000, 30_000, 2_048, 512),
                &[D, T],
            ),
            (
                &[(Q, "1000000")],
                none.clone(),
                (5_000, 30_000, 2_048, 512),
                &[Q],
            ),
            (
                &[(Q, "262144")],
                none.clone(),
                (5_000, 30_000, 262_144, 512),
                &[],
            ),
            (
                &[(B, "4096")],
                none.clone(),
                (5_000, 30_000, 2_048, 2_048),
                &[B],
            ),
            // The default batch size follows a smaller queue silently.
            (&[(Q, "100")], none.clone(), (5_000, 30_000, 100, 100), &[]),
            (
                &[(D, "1"), (T, "2"), (Q, "3"), (B, "x")],
                BatchOverrides {
                    schedule_delay: Some(Duration::from_millis(7)),
                    export_timeout: Some(Duration::from_millis(8)),
                    max_queue_size: Some(90),
                    max_export_batch_size: Some(9),
                },
                (7, 8, 90, 9),
                &[],
            ),
            (
                &[],
                BatchOverrides {
                    max_queue_size: Some(10),
                    max_export_batch_size: Some(20),
                    ..BatchOverrides::default()
                },
                (5_000, 30_000, 10, 10),
                &[B],
            ),
        ];
        for (pairs, code, (delay, timeout, queue, batch), warned) in cases {
            let mut w = Vec::new();
            let got = resolve_batch(&BSP, &env_of(pairs), code, &mut w);
            let want = BatchConfig {
                schedule_delay: Duration::from_millis(*delay),
                export_timeout: Duration::from_millis(*timeout),
                max_queue_size: *queue,
                max_export_batch_size: *batch,
            };
            assert_eq!(got, want, "env {pairs:?}, code {code:?}");
            assert_eq!(&vars(&w), warned, "env {pairs:?}: {w:?}");
        }
    }

    #[test]
    fn batch_clamp_warning_names_both_sources() {
        let mut w = Vec::new();
        resolve_batch(
            &BSP,
            &env_of(&[(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "4096")]),
            &BatchOverrides::default(),
            &mut w,
        );
        assert_eq!(
            w[0].message(),
            "the batch size 4096 (from OTEL_BSP_MAX_EXPORT_BATCH_SIZE) is larger than the queue \
             size 2048 (the default); using 2048"
        );
    }
}
