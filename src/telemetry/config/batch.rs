//! The resolvers of the batch span processor's settings, and the rule that
//! keeps the batch size within the queue size.

use std::time::Duration;

use super::precedence::{first_valid, parse_millis, parse_positive, show_millis, Env, Source};
use super::values::BatchConfig;
use super::vars::{
    ENV_INT_MAX, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BSP_SCHEDULE_DELAY,
    OTEL_BSP_SCHEDULE_DELAY_DEFAULT, QUEUE_LIMIT, ZERO_BATCH, ZERO_DELAY, ZERO_QUEUE, ZERO_TIMEOUT,
};
use super::{BatchOverrides, Warning};

fn resolve_schedule_delay(env: Env<'_>, code: Option<Duration>, w: &mut Vec<Warning>) -> Duration {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_SCHEDULE_DELAY, &|raw| {
            parse_millis(raw, ZERO_DELAY)
        })],
        OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
        show_millis,
        w,
    )
    .0
}

fn resolve_export_timeout(env: Env<'_>, code: Option<Duration>, w: &mut Vec<Warning>) -> Duration {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_EXPORT_TIMEOUT, &|raw| {
            parse_millis(raw, ZERO_TIMEOUT)
        })],
        OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
        show_millis,
        w,
    )
    .0
}

fn resolve_max_queue_size(
    env: Env<'_>,
    code: Option<usize>,
    w: &mut Vec<Warning>,
) -> (usize, Source) {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_MAX_QUEUE_SIZE, &|raw| {
            parse_positive(raw, "spans", QUEUE_LIMIT, ZERO_QUEUE).map(|n| n as usize)
        })],
        OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
        |n| format!("{n} spans"),
        w,
    )
}

fn resolve_max_export_batch_size(
    env: Env<'_>,
    code: Option<usize>,
    w: &mut Vec<Warning>,
) -> (usize, Source) {
    first_valid(
        env,
        code,
        &[(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, &|raw| {
            parse_positive(raw, "spans", ENV_INT_MAX, ZERO_BATCH).map(|n| n as usize)
        })],
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        |n| format!("{n} spans"),
        w,
    )
}

pub(super) fn resolve_batch(
    env: Env<'_>,
    code: &BatchOverrides,
    w: &mut Vec<Warning>,
) -> BatchConfig {
    let schedule_delay = resolve_schedule_delay(env, code.schedule_delay, w);
    let export_timeout = resolve_export_timeout(env, code.export_timeout, w);
    let (max_queue_size, queue_source) = resolve_max_queue_size(env, code.max_queue_size, w);
    let (mut max_export_batch_size, batch_source) =
        resolve_max_export_batch_size(env, code.max_export_batch_size, w);
    if max_export_batch_size > max_queue_size {
        // The default batch size silently follows a smaller queue, as in the
        // SDK; only a batch size someone chose deserves a warning.
        if batch_source != Source::Default {
            w.push(Warning::new(
                OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
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
    use crate::telemetry::config::test_support::*;

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
            let got = resolve_batch(&env_of(pairs), code, &mut w);
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
