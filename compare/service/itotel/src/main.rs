//! (c) `init-tracing-opentelemetry` with `opentelemetry-resource-detectors`.
//!
//! `TracingConfig::init_subscriber` builds its resource from its own
//! `DetectResource` (service name and version) only, so adding the
//! detectors of opentelemetry-resource-detectors (OS, process, host) takes
//! the crate's public building blocks, composed the way `init_subscriber`
//! composes them: `DetectResource`, `otlp::traces::init_tracerprovider`
//! (OTLP from `OTEL_EXPORTER_OTLP_*`, batch processor), `init_propagator`,
//! the `tracing_opentelemetry` layer, and the production preset's JSON log
//! layer and filter. Shutdown does what its guard's `Drop` does: flush, then
//! shut down.
//!
//! Startup events are `tracing::info!` calls made before the subscriber
//! exists: `tracing` drops them.

use init_tracing_opentelemetry::otlp::traces::{identity, init_tracerprovider};
use init_tracing_opentelemetry::resource::DetectResource;
use init_tracing_opentelemetry::{init_propagator, tracing_opentelemetry, TracingConfig};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_resource_detectors::{
    HostResourceDetector, OsResourceDetector, ProcessResourceDetector,
};
use opentelemetry_sdk::resource::ResourceDetector;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::error::Error;
use std::time::Instant;
use tracing_subscriber::prelude::*;

#[macro_use]
#[path = "../../common/traced.rs"]
mod traced;

#[path = "../../common/service.rs"]
mod service;

fn init() -> Result<SdkTracerProvider, Box<dyn Error>> {
    let config = TracingConfig::production();
    let service = DetectResource::default()
        .with_fallback_service_name(env!("CARGO_PKG_NAME"))
        .with_fallback_service_version(env!("CARGO_PKG_VERSION"))
        .build();
    let detectors: [Box<dyn ResourceDetector>; 3] = [
        Box::new(OsResourceDetector),
        Box::new(ProcessResourceDetector),
        Box::new(HostResourceDetector::default()),
    ];
    let resource = Resource::builder_empty()
        .with_detectors(&detectors)
        .with_attributes(
            service
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .build();
    let provider = init_tracerprovider(resource, identity)?;
    init_propagator()?;
    let otel = tracing_opentelemetry::layer()
        .with_error_records_to_exceptions(true)
        .with_tracer(provider.tracer(env!("CARGO_PKG_NAME")));
    opentelemetry::global::set_tracer_provider(provider.clone());
    tracing_subscriber::registry()
        .with(otel)
        .with(config.build_layer()?)
        .with(config.build_filter_layer()?)
        .try_init()?;
    Ok(provider)
}

#[tokio::main]
async fn main() {
    let record = |i: usize, phase: &'static str| tracing::info!(step = i, phase, "startup.step");
    if service::event_bench(record, || {}) {
        return;
    }
    service::report_startup(service::startup_events(record));

    let started = Instant::now();
    let provider = init().expect("initialising telemetry failed");
    service::report_ready(started.elapsed());

    let started = Instant::now();
    let ok = service::serve().await.expect("serving the requests failed");
    service::report_served(ok, started.elapsed());

    let started = Instant::now();
    let _ = provider.force_flush();
    if let Err(e) = provider.shutdown() {
        eprintln!("provider.shutdown() failed: {e}");
    }
    service::report_shutdown(started.elapsed());
}
