//! (a) Hand-wired OpenTelemetry, as the opentelemetry-rust examples do
//! (`opentelemetry-otlp/examples/basic-otlp`): an OTLP/gRPC (tonic) span
//! exporter configured from `OTEL_EXPORTER_OTLP_*`, a batch span processor, a
//! resource with a service name, the global provider, and a
//! `tracing_subscriber` registry with the `tracing_opentelemetry` layer.
//! tonic needs a Tokio runtime, hence `#[tokio::main]`.

#[path = "../../common/report.rs"]
mod report;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::Instant;
use tracing_subscriber::prelude::*;

fn init_traces() -> SdkTracerProvider {
    let exporter = SpanExporter::builder()
        .with_tonic()
        .build()
        .expect("Failed to create span exporter");
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("compare-init-hand")
                .build(),
        )
        .with_batch_exporter(exporter)
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer("compare-init-hand");
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();
    provider
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let provider = init_traces();
    report::init_returned(started.elapsed());

    tracing::info_span!("work").in_scope(|| tracing::info!("traced"));

    let started = Instant::now();
    if let Err(e) = provider.shutdown() {
        eprintln!("provider.shutdown() failed: {e}");
    }
    report::dropped(started.elapsed());
}
