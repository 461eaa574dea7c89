//! `tracing` events before init land in the startup span; after the
//! handover they go to the OpenTelemetry layer; across the switch nothing is
//! lost and nothing is seen twice, even with a thread logging through it.

use buildtrace::opentelemetry::trace::TracerProvider as _;
use buildtrace::startup::span::{self, EndAt};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tracing_subscriber::Layer as _;

/// Records the `n` of every tick event the final layer receives.
struct Received(Arc<Mutex<Vec<u64>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Received {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct N(Option<u64>);
        impl tracing::field::Visit for N {
            fn record_u64(&mut self, f: &tracing::field::Field, v: u64) {
                if f.name() == "n" {
                    self.0 = Some(v);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut n = N(None);
        event.record(&mut n);
        if let Some(n) = n.0 {
            self.0.lock().unwrap().push(n);
        }
    }
}

#[test]
fn pre_init_events_are_captured_and_handed_over_exactly_once() {
    buildtrace::startup::layer::install().expect("no other global subscriber");
    tracing::info!(port = 8080, tls = false, "listener bound");
    buildtrace::startup!("config.loaded", entries = 3);
    tracing::debug!("below the pre-init level: not captured");
    tracing::warn!(
        path = "/etc/app.toml",
        "config file missing, using defaults"
    );

    // A thread that logs without pause through the handover, each event
    // numbered, each inside its own span so tracing-opentelemetry exports it.
    let stop = Arc::new(AtomicBool::new(false));
    let logger = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) || n < 2_000 {
                tracing::info_span!("tick", n).in_scope(|| tracing::info!(n, "tick"));
                n += 1;
                // Keep the ring from filling if this machine stalls the main
                // thread: the race at the handover is what is under test.
                while buildtrace::startup::pending() > 256 {
                    std::thread::yield_now();
                }
            }
            n
        })
    };
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_max_events_per_span(buildtrace::startup::capacity() as u32 + 16)
        .build();
    let tracer = provider.tracer("test");
    let received = Arc::new(Mutex::new(Vec::new()));
    let otel = Received(received.clone())
        .and_then(tracing_opentelemetry::layer().with_tracer(tracer.clone()));
    while buildtrace::startup::pending() < 50 {
        std::thread::yield_now();
    }
    buildtrace::startup::layer::take_installed()
        .expect("installed above")
        .complete(otel)
        .unwrap_or_else(|_| panic!("second handover"));
    span::begin(&tracer, EndAt::Init);

    stop.store(true, Ordering::Relaxed);
    let produced = logger.join().unwrap();
    tracing::info_span!("after").in_scope(|| tracing::info!(answer = 42, "after init"));

    let spans = exporter.get_finished_spans().unwrap();
    let startup = spans
        .iter()
        .find(|s| s.name == "startup")
        .expect("startup span");
    let names: Vec<&str> = startup.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(
        &names[..3],
        [
            "listener bound",
            "config.loaded",
            "config file missing, using defaults"
        ]
    );
    assert!(!names.contains(&"below the pre-init level: not captured"));
    assert!(!names.contains(&"after init"));
    let first = &startup.events[0];
    let attr = |k: &str| {
        first
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("port").as_deref(), Some("8080"));
    assert_eq!(attr("tls").as_deref(), Some("false"));
    assert_eq!(attr("level").as_deref(), Some("INFO"));

    // Every tick exactly once: captured into the startup span (before the
    // handover) or received by the final layer (after).
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    let tick_n = |e: &opentelemetry::trace::Event| {
        e.attributes
            .iter()
            .find(|kv| kv.key.as_str() == "n")
            .map(|kv| kv.value.to_string().parse::<u64>().unwrap())
    };
    let before: Vec<u64> = startup
        .events
        .iter()
        .filter(|e| e.name == "tick")
        .filter_map(tick_n)
        .collect();
    for n in &before {
        *seen.entry(*n).or_default() += 1;
    }
    let after: Vec<u64> = received.lock().unwrap().clone();
    for n in &after {
        *seen.entry(*n).or_default() += 1;
    }
    assert!(
        !before.is_empty() && !after.is_empty(),
        "the handover did not happen mid-stream"
    );
    let dropped = startup
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "buildtrace.startup.dropped_count")
        .unwrap();
    assert_eq!(
        dropped.value.to_string(),
        "0",
        "the ring overflowed: the test needs a larger margin"
    );
    assert_eq!(seen.len() as u64, produced, "some tick was lost");
    assert!(seen.values().all(|&c| c == 1), "some tick was seen twice");
    assert_eq!(*seen.keys().next_back().unwrap(), produced - 1);
    // And the final layer exported them as span events, but for ticks whose
    // (pre-init, hence disabled) span was opened before the handover.
    let exported = spans
        .iter()
        .filter(|s| s.name == "tick")
        .flat_map(|s| s.events.iter().filter(|e| e.name == "tick"))
        .count();
    assert!(
        exported + 1 >= after.len() && exported <= after.len(),
        "{exported} exported of {} received",
        after.len()
    );

    let after_init = spans
        .iter()
        .find(|s| s.name == "after")
        .expect("span after init");
    assert_eq!(after_init.events.len(), 1);
    assert_eq!(after_init.events[0].name, "after init");
}
