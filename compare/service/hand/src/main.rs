//! (b) OpenTelemetry wired by hand, as the opentelemetry-rust examples do
//! (`opentelemetry-otlp/examples/basic-otlp`): an OTLP/gRPC (tonic) span
//! exporter configured from `OTEL_EXPORTER_OTLP_*`, a batch span processor, a
//! resource, the global provider, and a `tracing_subscriber` registry with
//! the `tracing_opentelemetry` layer. The version facts come from vergen
//! (`build.rs`), under semantic-convention names where one exists.
//!
//! Unless `HAND_SIGNALS=traces`, logs (the opentelemetry-appender-tracing layer
//! over an OTLP log exporter) and metrics (an OTLP metric exporter, a
//! periodic reader, the global meter provider) are wired the same way, as
//! the opentelemetry-rust examples do: the signals buildtrace sets up by
//! default.
//!
//! Startup events are `tracing::info!` calls made before the subscriber
//! exists: `tracing` drops them.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{LogExporter, MetricExporter, SpanExporter};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::Instant;
use tracing_subscriber::prelude::*;

#[macro_use]
#[path = "../../common/traced.rs"]
mod traced;

#[path = "../../common/service.rs"]
mod service;

fn resource() -> Resource {
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| env!("CARGO_PKG_NAME").into());
    Resource::builder()
        .with_service_name(name)
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("vcs.ref.head.revision", env!("VERGEN_GIT_SHA")),
            KeyValue::new("vcs.ref.head.name", env!("VERGEN_GIT_BRANCH")),
            KeyValue::new("vcs.dirty", env!("VERGEN_GIT_DIRTY")),
            KeyValue::new("process.runtime.name", "rustc"),
            KeyValue::new("process.runtime.version", env!("VERGEN_RUSTC_SEMVER")),
            KeyValue::new("rustc.commit_hash", env!("VERGEN_RUSTC_COMMIT_HASH")),
            KeyValue::new("rustc.host", env!("VERGEN_RUSTC_HOST_TRIPLE")),
            KeyValue::new("build.target", env!("VERGEN_CARGO_TARGET_TRIPLE")),
            KeyValue::new("build.features", env!("VERGEN_CARGO_FEATURES")),
            KeyValue::new("build.opt_level", env!("VERGEN_CARGO_OPT_LEVEL")),
            KeyValue::new("build.timestamp", env!("VERGEN_BUILD_TIMESTAMP")),
        ])
        .build()
}

/// The providers, for shutdown.
struct Providers {
    traces: SdkTracerProvider,
    logs: Option<SdkLoggerProvider>,
    metrics: Option<SdkMeterProvider>,
}

/// The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself, but an https://
/// endpoint gets no trust anchors unless the application adds them.
fn tls<B: opentelemetry_otlp::WithTonicConfig>(builder: B) -> B {
    use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
    let https = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|e| e.starts_with("https://"));
    if https {
        builder.with_tls_config(ClientTlsConfig::new().with_native_roots())
    } else {
        builder
    }
}

fn init_telemetry() -> Providers {
    let all = std::env::var("HAND_SIGNALS").map_or(true, |s| s != "traces");
    let resource = resource();
    let exporter = tls(SpanExporter::builder().with_tonic())
        .build()
        .expect("Failed to create span exporter");
    let traces = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(exporter)
        .build();
    opentelemetry::global::set_tracer_provider(traces.clone());
    let tracer = traces.tracer(env!("CARGO_PKG_NAME"));
    let (logs, metrics) = if all {
        let exporter = tls(LogExporter::builder().with_tonic())
            .build()
            .expect("Failed to create log exporter");
        let logs = SdkLoggerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(exporter)
            .build();
        let exporter = tls(MetricExporter::builder().with_tonic())
            .build()
            .expect("Failed to create metric exporter");
        let metrics = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_periodic_exporter(exporter)
            .build();
        opentelemetry::global::set_meter_provider(metrics.clone());
        (Some(logs), Some(metrics))
    } else {
        (None, None)
    };
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(logs.as_ref().map(|logs| {
            // As the opentelemetry-rust examples do: the exporters' own
            // events must not become log records.
            let filter = tracing_subscriber::EnvFilter::new("info")
                .add_directive("hyper=off".parse().unwrap())
                .add_directive("tonic=off".parse().unwrap())
                .add_directive("h2=off".parse().unwrap())
                .add_directive("tower=off".parse().unwrap())
                .add_directive("opentelemetry=off".parse().unwrap());
            OpenTelemetryTracingBridge::new(logs).with_filter(filter)
        }))
        .init();
    Providers {
        traces,
        logs,
        metrics,
    }
}

#[tokio::main]
async fn main() {
    let record = |i: usize, phase: &'static str| tracing::info!(step = i, phase, "startup.step");
    if service::event_bench(record, || {}) {
        return;
    }
    service::report_startup(service::startup_events(record));

    let started = Instant::now();
    let providers = init_telemetry();
    service::report_ready(started.elapsed());

    let started = Instant::now();
    let ok = service::serve().await.expect("serving the requests failed");
    service::report_served(ok, started.elapsed());

    let started = Instant::now();
    if let Err(e) = providers.traces.shutdown() {
        eprintln!("provider.shutdown() failed: {e}");
    }
    if let Some(Err(e)) = providers.logs.map(|p| p.shutdown()) {
        eprintln!("logger provider shutdown failed: {e}");
    }
    if let Some(Err(e)) = providers.metrics.map(|p| p.shutdown()) {
        eprintln!("meter provider shutdown failed: {e}");
    }
    service::report_shutdown(started.elapsed());
}
