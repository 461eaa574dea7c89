//! (b) OpenTelemetry wired by hand, as the opentelemetry-rust examples do
//! (`opentelemetry-otlp/examples/basic-otlp`): an OTLP/gRPC (tonic) span
//! exporter configured from `OTEL_EXPORTER_OTLP_*`, a batch span processor, a
//! resource, the global provider, and a `tracing_subscriber` registry with
//! the `tracing_opentelemetry` layer. The version facts come from vergen
//! (`build.rs`), under semantic-convention names where one exists.
//!
//! Startup events are `tracing::info!` calls made before the subscriber
//! exists: `tracing` drops them.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::SpanExporter;
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

fn init_traces() -> SdkTracerProvider {
    use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
    use opentelemetry_otlp::WithTonicConfig as _;
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself, but an https://
    // endpoint gets no trust anchors unless the application adds them.
    let https = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|e| e.starts_with("https://"));
    let mut builder = SpanExporter::builder().with_tonic();
    if https {
        builder = builder.with_tls_config(ClientTlsConfig::new().with_native_roots());
    }
    let exporter = builder.build().expect("Failed to create span exporter");
    let provider = SdkTracerProvider::builder()
        .with_resource(resource())
        .with_batch_exporter(exporter)
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();
    provider
}

#[tokio::main]
async fn main() {
    let record = |i: usize, phase: &'static str| tracing::info!(step = i, phase, "startup.step");
    if service::event_bench(record, || {}) {
        return;
    }
    service::report_startup(service::startup_events(record));

    let started = Instant::now();
    let provider = init_traces();
    service::report_ready(started.elapsed());

    let started = Instant::now();
    let ok = service::serve().await.expect("serving the requests failed");
    service::report_served(ok, started.elapsed());

    let started = Instant::now();
    if let Err(e) = provider.shutdown() {
        eprintln!("provider.shutdown() failed: {e}");
    }
    service::report_shutdown(started.elapsed());
}
