//! A `tracing` field whose `Debug` panics while the pre-init layer captures
//! the event: the panic reaches the code that logged, as it would with any
//! subscriber, and costs nothing else: the handover and the drain do not
//! wait for the capture that never finished, the events around it are kept,
//! and so is the panicking event with the fields before the bad one.

use buildtrace::opentelemetry::trace::TracerProvider as _;
use buildtrace::startup::span::{self, EndAt};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use std::sync::mpsc;
use std::time::Duration;

struct Panics;

impl std::fmt::Debug for Panics {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("a Debug impl that panics");
    }
}

#[test]
fn a_panicking_field_loses_only_itself_and_hangs_nothing() {
    buildtrace::startup::layer::install().expect("no other global subscriber");
    tracing::info!(n = 1_u64, "before");
    let caught = std::panic::catch_unwind(|| {
        tracing::info!(kept = 7_u64, bad = ?Panics, after = 8_u64, "poisoned");
    });
    assert!(caught.is_err(), "the field's panic reaches the caller");
    tracing::info!(n = 2_u64, "after");

    // The handover and the drain on another thread, so that a hang fails
    // the test instead of stalling it (the bound is no synchronisation:
    // both finish in microseconds when they work).
    let exporter = InMemorySpanExporter::default();
    let (done, finished) = mpsc::channel();
    {
        let exporter = exporter.clone();
        std::thread::spawn(move || {
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter)
                .build();
            let tracer = provider.tracer("test");
            buildtrace::startup::layer::take_installed()
                .expect("installed above")
                .complete(tracing_opentelemetry::layer().with_tracer(tracer.clone()))
                .unwrap_or_else(|_| panic!("second handover"));
            span::begin(&tracer, EndAt::Init);
            let _ = done.send(());
        });
    }
    finished
        .recv_timeout(Duration::from_secs(120))
        .expect("the handover and the drain returned");

    let spans = exporter.get_finished_spans().unwrap();
    let startup = spans
        .iter()
        .find(|s| s.name == "startup")
        .expect("startup span");
    let attr = |e: &opentelemetry::trace::Event, k: &str| {
        e.attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    let names: Vec<&str> = startup.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(names.first(), Some(&"before"), "{names:?}");
    assert_eq!(names.last(), Some(&"after"), "{names:?}");
    assert_eq!(names.len(), 3, "{names:?}");
    let poisoned = &startup.events[1];
    assert_eq!(attr(poisoned, "kept").as_deref(), Some("7"), "{poisoned:?}");
    assert_eq!(attr(poisoned, "bad"), None, "{poisoned:?}");
    assert_eq!(attr(poisoned, "after"), None, "{poisoned:?}");
}
