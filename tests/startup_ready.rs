//! With the opt-in to `ready()`, the startup span stays open after init:
//! records made between init and ready join it, and it ends at ready.

use buildtrace::opentelemetry::trace::TracerProvider as _;
use buildtrace::startup::span::{self, EndAt};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use std::time::{Duration, SystemTime};

#[test]
fn records_between_init_and_ready_join_the_span_which_ends_at_ready() {
    buildtrace::startup!("before.init");
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_max_events_per_span(buildtrace::startup::capacity() as u32 + 16)
        .build();
    span::begin(&provider.tracer("test"), EndAt::Ready);
    assert!(
        exporter.get_finished_spans().unwrap().is_empty(),
        "ended before ready"
    );

    std::thread::sleep(Duration::from_millis(5));
    let before = SystemTime::now();
    buildtrace::startup!("cache.warm", entries = 10_000_u64);
    let after = SystemTime::now();
    let ready_at = SystemTime::now();
    buildtrace::ready();
    buildtrace::ready(); // a second call is harmless

    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    let names: Vec<&str> = s.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(names, ["before.init", "cache.warm"]);
    let warm = &s.events[1];
    assert!(
        warm.timestamp + Duration::from_micros(1) >= before
            && warm.timestamp <= after + Duration::from_micros(1)
    );
    assert!(s.end_time >= ready_at);
    let attr = |k: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    let to_init: f64 = attr("buildtrace.startup.to_init_ms")
        .unwrap()
        .parse()
        .unwrap();
    let to_ready: f64 = attr("buildtrace.startup.to_ready_ms")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        to_ready >= to_init + 5.0,
        "to_ready {to_ready} ms, to_init {to_init} ms"
    );
    assert_eq!(attr("buildtrace.startup.event_count").as_deref(), Some("2"));
}
