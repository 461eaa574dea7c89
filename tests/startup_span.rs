//! The startup span carries exactly what was recorded, in order, with the
//! original timestamps, and starts no later than the first record.

use buildtrace::opentelemetry::trace::TracerProvider as _;
use buildtrace::startup::span::{self, EndAt};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use std::time::{Duration, SystemTime};

fn within(t: SystemTime, lo: SystemTime, hi: SystemTime, slack: Duration) -> bool {
    t + slack >= lo && t <= hi + slack
}

#[test]
fn events_arrive_in_order_with_their_original_timestamps() {
    // Each record is bracketed by two reads of the wall clock: its
    // converted timestamp must fall between them (1 µs of slack).
    let mut brackets = Vec::new();
    for i in 0..50u32 {
        let before = SystemTime::now();
        buildtrace::startup!("step", index = i, label = "warm-up", ok = true);
        let after = SystemTime::now();
        brackets.push((before, after));
        std::thread::sleep(Duration::from_micros(200));
    }
    let worker = std::thread::spawn(|| {
        buildtrace::startup!("worker.ready", pool.size = 8_u64, ratio = 0.5);
    });
    worker.join().unwrap();

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_max_events_per_span(buildtrace::startup::capacity() as u32 + 16)
        .build();
    let init = SystemTime::now();
    span::begin(&provider.tracer("test"), EndAt::Init);
    let init_done = SystemTime::now();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s.name, "startup");
    let events: Vec<_> = s.events.iter().collect();
    assert_eq!(events.len(), 51);

    for (i, (e, (before, after))) in events.iter().zip(&brackets).enumerate() {
        assert_eq!(e.name, "step");
        assert!(
            within(e.timestamp, *before, *after, Duration::from_micros(1)),
            "event {i}: {:?} not within [{before:?}, {after:?}]",
            e.timestamp
        );
        let attr = |k: &str| {
            e.attributes
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(attr("index").as_deref(), Some(i.to_string().as_str()));
        assert_eq!(attr("label").as_deref(), Some("warm-up"));
        assert_eq!(attr("ok").as_deref(), Some("true"));
    }
    let last = events[50];
    assert_eq!(last.name, "worker.ready");
    let attr = |k: &str| {
        last.attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("pool.size").as_deref(), Some("8"));
    assert_eq!(attr("ratio").as_deref(), Some("0.5"));
    assert_ne!(
        attr("thread.id"),
        events[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "thread.id")
            .map(|kv| kv.value.to_string())
    );

    // The span starts at the process start the OS reports, before every record.
    assert!(s.start_time <= events[0].timestamp);
    assert!(s.end_time >= events[50].timestamp && s.end_time <= SystemTime::now());
    assert!(s.end_time >= init);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let start_ticks: u64 = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let independent = SystemTime::now() - Duration::from_secs_f64(uptime)
        + Duration::from_millis(start_ticks * 10);
    let diff = s
        .start_time
        .duration_since(independent)
        .unwrap_or_else(|e| e.duration());
    assert!(
        diff < Duration::from_millis(50),
        "span start {:?} vs /proc {independent:?}",
        s.start_time
    );

    let attr = |k: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(
        attr("buildtrace.startup.event_count").as_deref(),
        Some("51")
    );
    assert_eq!(
        attr("buildtrace.startup.dropped_count").as_deref(),
        Some("0")
    );
    assert_eq!(
        attr("buildtrace.startup.start_source").as_deref(),
        Some("os")
    );
    let to_init: f64 = attr("buildtrace.startup.to_init_ms")
        .unwrap()
        .parse()
        .unwrap();
    // Init happened between the two clock reads around `begin`.
    let ms = |t: SystemTime| t.duration_since(s.start_time).unwrap().as_secs_f64() * 1e3;
    assert!(
        ms(init) <= to_init && to_init <= ms(init_done),
        "to_init {to_init} ms, init between {} and {} ms",
        ms(init),
        ms(init_done)
    );

    // After the span ended, records are not kept.
    buildtrace::startup!("too.late");
    assert_eq!(buildtrace::startup::late(), 1);
    assert!(buildtrace::startup::drain().events.is_empty());
}
