//! A full ring keeps the earliest records, counts every other one exactly,
//! and reports them once.

use buildtrace::opentelemetry::trace::TracerProvider as _;
use buildtrace::startup::span::{self, EndAt};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts the warnings buildtrace emits.
struct Warnings(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "buildtrace"
            && *event.metadata().level() == tracing::Level::WARN
        {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn overflow_keeps_the_earliest_and_reports_one_exact_drop_record() {
    use tracing_subscriber::layer::SubscriberExt;
    let warnings = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Warnings(warnings.clone())),
    )
    .unwrap();

    let capacity = buildtrace::startup::capacity();
    // The first `capacity` records, from this thread, are the ones kept.
    for i in 0..capacity {
        buildtrace::startup!("kept", i = i);
    }
    let extra_per_thread = 97usize;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                for i in 0..extra_per_thread {
                    buildtrace::startup!("overflow", i = i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_max_events_per_span(capacity as u32 + 16)
        .build();
    span::begin(&provider.tracer("test"), EndAt::Init);
    let spans = exporter.get_finished_spans().unwrap();
    let events = &spans[0].events;
    let dropped = 4 * extra_per_thread;

    assert_eq!(events.len(), capacity + 1);
    for (i, e) in events.iter().take(capacity).enumerate() {
        assert_eq!(e.name, "kept");
        let v = e
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "i")
            .unwrap()
            .value
            .to_string();
        assert_eq!(v, i.to_string());
    }
    let drop_records: Vec<_> = events
        .iter()
        .filter(|e| e.name.contains("dropped"))
        .collect();
    assert_eq!(drop_records.len(), 1);
    assert_eq!(
        drop_records[0].name,
        format!("{dropped} startup events dropped")
    );
    let attr = |k: &str| {
        spans[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(
        attr("buildtrace.startup.dropped_count"),
        Some(dropped.to_string())
    );
    assert_eq!(
        attr("buildtrace.startup.event_count"),
        Some(capacity.to_string())
    );
    assert_eq!(
        warnings.load(Ordering::SeqCst),
        1,
        "one warning, not one per dropped record"
    );
}
