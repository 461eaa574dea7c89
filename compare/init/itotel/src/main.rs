//! (b) `init-tracing-opentelemetry`: its README's "simple preset",
//! `TracingConfig::production().init_subscriber()` under `#[tokio::main]`
//! (JSON logs to standard output, OTLP export configured from
//! `OTEL_EXPORTER_OTLP_*`). Dropping its guard flushes and shuts down.

#[path = "../../common/report.rs"]
mod report;

use std::time::Instant;

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let guard = init_tracing_opentelemetry::TracingConfig::production()
        .init_subscriber()
        .expect("init-tracing-opentelemetry failed");
    report::init_returned(started.elapsed());

    tracing::info_span!("work").in_scope(|| tracing::info!("traced"));

    let started = Instant::now();
    drop(guard);
    report::dropped(started.elapsed());
}
