//! tracing caches each callsite's interest. A callsite first hit while no
//! subscriber exists, or while a dispatcher exists that is not the default
//! (tokio-rs/tracing issues 2050 and 2874), must still be captured once the
//! pre-init layer is installed, and reach the final layer after the handover.

use buildtrace::opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

fn probe(stage: &'static str) {
    tracing::info!(stage, "probe");
}

fn probe_in_span(stage: &'static str) {
    tracing::info_span!("probe.span").in_scope(|| tracing::info!(stage, "probe"));
}

fn stages(events: &[buildtrace::startup::Drained]) -> Vec<String> {
    events
        .iter()
        .filter(|d| d.event.message.as_str() == "probe")
        .filter_map(|d| {
            d.event
                .attrs()
                .iter()
                .find(|(k, _)| *k == "stage")
                .map(|(_, v)| v.to_string())
        })
        .collect()
}

#[test]
fn callsites_hit_before_any_subscriber_are_not_silenced() {
    // Issue 2874's setting: a dispatcher exists but is not the default while
    // the callsites are first hit.
    let bystander = tracing::Dispatch::new(tracing_subscriber::registry());
    probe("no subscriber");
    probe_in_span("no subscriber");

    buildtrace::startup::layer::install().unwrap();
    probe("pre-init");
    probe_in_span("pre-init");
    assert_eq!(
        stages(&buildtrace::startup::drain().events),
        ["pre-init", "pre-init"]
    );

    // Issue 2050's setting: the final layer arrives later in the bootstrap.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_max_events_per_span(buildtrace::startup::capacity() as u32 + 16)
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    buildtrace::startup::layer::take_installed()
        .expect("installed above")
        .complete(otel)
        .unwrap_or_else(|_| panic!("second handover"));
    probe_in_span("final");
    probe("final, outside a span");

    assert!(
        stages(&buildtrace::startup::drain().events).is_empty(),
        "captured after the handover"
    );
    let spans = exporter.get_finished_spans().unwrap();
    let exported: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "probe.span")
        .flat_map(|s| s.events.iter())
        .filter_map(|e| {
            e.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "stage")
                .map(|kv| kv.value.to_string())
        })
        .collect();
    assert_eq!(exported, ["final"]);
    drop(bystander);
}
